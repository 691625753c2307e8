//! Running a request at most once per idempotency key (docs/api.md, "Idempotency"); the rules are
//! in [`crate::idempotency`].

use std::sync::Arc;

use crate::accounts::User;
use crate::idempotency::ports::{ClaimOutcome, IdempotencyStore, NewClaim};
use crate::idempotency::{
    ClaimId, IdempotencyKey, IdempotencyPolicy, RequestFingerprint, StoredResponse,
};
use crate::ports::{Clock, PortError};
use crate::UserId;

/// A key held by a running request, to give to [`IdempotencyService::finish`] or
/// [`IdempotencyService::abandon`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldKey {
    user_id: UserId,
    key: IdempotencyKey,
    claim: ClaimId,
}

impl HeldKey {
    /// The key.
    pub fn key(&self) -> &IdempotencyKey {
        &self.key
    }
}

/// What a request with a key does: [`IdempotencyService::begin`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Begin {
    /// Run it: the key is held until [`IdempotencyService::finish`].
    Run(HeldKey),
    /// Do not run it: answer with the first request's answer again.
    Replay(StoredResponse),
    /// Do not run it: the same request is still running; retry shortly.
    InFlight,
    /// Do not run it: the key was used with another request.
    Reused,
}

/// What became of a held key: [`IdempotencyService::finish`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// The answer is stored; the same request gets it replayed.
    Stored,
    /// The answer was not final; the key is free again.
    Released,
    /// The claim had been taken over (its lease ran out first); the answer was not stored.
    Lost,
}

/// Idempotency keys over an [`IdempotencyStore`].
#[derive(Clone)]
pub struct IdempotencyService {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    policy: IdempotencyPolicy,
}

impl std::fmt::Debug for IdempotencyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl IdempotencyService {
    /// Assembles the service from its ports.
    pub fn new(
        store: Arc<dyn IdempotencyStore>,
        clock: Arc<dyn Clock>,
        policy: IdempotencyPolicy,
    ) -> Self {
        Self {
            store,
            clock,
            policy,
        }
    }

    /// Claims `key` for `caller`'s request, or says why the request must not run.
    ///
    /// # Errors
    /// [`PortError`] when the store fails; then nothing is held and the request must not run.
    pub async fn begin(
        &self,
        caller: &User,
        key: IdempotencyKey,
        fingerprint: RequestFingerprint,
    ) -> Result<Begin, PortError> {
        let now = self.clock.now();
        let claim = ClaimId::generate();
        let outcome = self
            .store
            .claim(NewClaim {
                user_id: caller.id,
                key: key.clone(),
                fingerprint,
                claim,
                now,
                locked_until: now + self.policy.lease,
                expires_at: now + self.policy.ttl,
            })
            .await?;
        Ok(match outcome {
            ClaimOutcome::Claimed => Begin::Run(HeldKey {
                user_id: caller.id,
                key,
                claim,
            }),
            ClaimOutcome::Replay(response) => Begin::Replay(response),
            ClaimOutcome::InFlight => Begin::InFlight,
            ClaimOutcome::Reused => Begin::Reused,
        })
    }

    /// Ends the run of a held key with its answer: a final answer
    /// ([`StoredResponse::is_final`]) of at most [`StoredResponse::BODY_MAX`] bytes is stored for
    /// replays; any other releases the key (a retry then runs again).
    ///
    /// # Errors
    /// [`PortError`] when the store fails; the key then stays held until its lease runs out.
    pub async fn finish(
        &self,
        held: HeldKey,
        response: StoredResponse,
    ) -> Result<Finish, PortError> {
        if !response.is_final() || response.body.len() > StoredResponse::BODY_MAX {
            self.abandon(held).await?;
            return Ok(Finish::Released);
        }
        let stored = self
            .store
            .complete(held.user_id, &held.key, held.claim, response)
            .await?;
        Ok(if stored { Finish::Stored } else { Finish::Lost })
    }

    /// Frees a held key without an answer to store (the request failed before answering), so
    /// that a retry runs.
    ///
    /// # Errors
    /// [`PortError`] when the store fails; the key then stays held until its lease runs out.
    pub async fn abandon(&self, held: HeldKey) -> Result<(), PortError> {
        self.store
            .release(held.user_id, &held.key, held.claim)
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::idempotency::ports::MockIdempotencyStore;
    use crate::idempotency::KeyState;
    use crate::testing::{FixedClock, IdempotencyKeys};
    use crate::{Email, Text};

    struct Setup {
        keys: Arc<IdempotencyKeys>,
        clock: Arc<FixedClock>,
        service: IdempotencyService,
    }

    fn setup() -> Setup {
        let keys = Arc::new(IdempotencyKeys::default());
        let clock = Arc::new(FixedClock::default());
        let service =
            IdempotencyService::new(keys.clone(), clock.clone(), IdempotencyPolicy::default());
        Setup {
            keys,
            clock,
            service,
        }
    }

    fn user(name: &str) -> User {
        User::proven(
            UserId::generate(),
            Text::from_stored(name.to_owned()),
            Some(Email::from_stored(format!("{name}@example.com"))),
            None,
            FixedClock::START,
        )
    }

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text.as_bytes()).unwrap()
    }

    fn request(n: u8) -> RequestFingerprint {
        RequestFingerprint::from_bytes([n; 32])
    }

    fn answer(status: u16, body: &str) -> StoredResponse {
        StoredResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn held(begin: Begin) -> HeldKey {
        match begin {
            Begin::Run(held) => held,
            other => panic!("expected to run, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_same_request_with_the_same_key_gets_the_first_answer_replayed() {
        let Setup { service, .. } = setup();
        let ann = user("ann");
        let first = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        let finished = service.finish(first, answer(201, "{\"id\":1}")).await;
        assert_eq!(finished.unwrap(), Finish::Stored);
        assert_eq!(
            service.begin(&ann, key("k"), request(1)).await.unwrap(),
            Begin::Replay(answer(201, "{\"id\":1}"))
        );
    }

    #[tokio::test]
    async fn the_same_key_with_another_request_is_refused() {
        let Setup { service, .. } = setup();
        let ann = user("ann");
        let first = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        assert_eq!(
            service.begin(&ann, key("k"), request(2)).await.unwrap(),
            Begin::Reused
        );
        service.finish(first, answer(200, "{}")).await.unwrap();
        assert_eq!(
            service.begin(&ann, key("k"), request(2)).await.unwrap(),
            Begin::Reused
        );
    }

    #[tokio::test]
    async fn the_same_request_while_the_first_runs_is_told_to_wait() {
        let Setup { service, .. } = setup();
        let ann = user("ann");
        let _first = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        assert_eq!(
            service.begin(&ann, key("k"), request(1)).await.unwrap(),
            Begin::InFlight
        );
    }

    #[tokio::test]
    async fn keys_are_scoped_to_their_caller() {
        let Setup { service, .. } = setup();
        let (ann, bob) = (user("ann"), user("bob"));
        let first = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        service.finish(first, answer(200, "ann's")).await.unwrap();
        let bobs = service.begin(&bob, key("k"), request(2)).await.unwrap();
        assert!(matches!(bobs, Begin::Run(_)), "{bobs:?}");
    }

    #[tokio::test]
    async fn a_server_error_releases_the_key_so_that_a_retry_runs() {
        for status in [500, 503, 429] {
            let Setup { service, keys, .. } = setup();
            let ann = user("ann");
            let first = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
            let finished = service.finish(first, answer(status, "{}")).await.unwrap();
            assert_eq!(finished, Finish::Released, "{status}");
            assert_eq!(keys.len(), 0);
            let retry = service.begin(&ann, key("k"), request(1)).await.unwrap();
            assert!(matches!(retry, Begin::Run(_)), "{status}: {retry:?}");
        }
    }

    #[tokio::test]
    async fn an_answer_over_16_kib_is_not_kept_and_its_key_is_released() {
        let Setup { service, keys, .. } = setup();
        let ann = user("ann");
        let at_most = "x".repeat(StoredResponse::BODY_MAX);
        let first = held(service.begin(&ann, key("small"), request(1)).await.unwrap());
        let finished = service.finish(first, answer(200, &at_most)).await.unwrap();
        assert_eq!(finished, Finish::Stored);
        let larger = format!("{at_most}x");
        let first = held(service.begin(&ann, key("large"), request(2)).await.unwrap());
        let finished = service.finish(first, answer(200, &larger)).await.unwrap();
        assert_eq!(finished, Finish::Released);
        assert_eq!(keys.len(), 1);
        let retry = service.begin(&ann, key("large"), request(2)).await.unwrap();
        assert!(matches!(retry, Begin::Run(_)), "{retry:?}");
    }

    #[tokio::test]
    async fn a_client_error_is_kept_and_replayed_like_a_success() {
        let Setup { service, .. } = setup();
        let ann = user("ann");
        let first = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        service.finish(first, answer(403, "{}")).await.unwrap();
        assert_eq!(
            service.begin(&ann, key("k"), request(1)).await.unwrap(),
            Begin::Replay(answer(403, "{}"))
        );
    }

    #[tokio::test]
    async fn an_abandoned_request_frees_its_key() {
        let Setup { service, .. } = setup();
        let ann = user("ann");
        let first = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        service.abandon(first).await.unwrap();
        let retry = service.begin(&ann, key("k"), request(1)).await.unwrap();
        assert!(matches!(retry, Begin::Run(_)), "{retry:?}");
    }

    #[tokio::test]
    async fn a_claim_whose_process_died_is_taken_over_after_its_lease_and_cannot_complete() {
        let Setup { service, clock, .. } = setup();
        let ann = user("ann");
        let dead = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        clock.advance(Duration::seconds(59));
        assert_eq!(
            service.begin(&ann, key("k"), request(1)).await.unwrap(),
            Begin::InFlight
        );
        clock.advance(Duration::seconds(1));
        let heir = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        assert_eq!(
            service.finish(dead, answer(200, "late")).await.unwrap(),
            Finish::Lost
        );
        assert_eq!(
            service.finish(heir, answer(200, "heir")).await.unwrap(),
            Finish::Stored
        );
        assert_eq!(
            service.begin(&ann, key("k"), request(1)).await.unwrap(),
            Begin::Replay(answer(200, "heir"))
        );
    }

    #[tokio::test]
    async fn a_key_is_forgotten_24_hours_after_its_first_use() {
        let Setup {
            service,
            clock,
            keys,
        } = setup();
        let ann = user("ann");
        let first = held(service.begin(&ann, key("k"), request(1)).await.unwrap());
        service.finish(first, answer(200, "{}")).await.unwrap();
        clock.advance(Duration::hours(24) - Duration::seconds(1));
        assert!(matches!(
            service.begin(&ann, key("k"), request(2)).await.unwrap(),
            Begin::Reused
        ));
        clock.advance(Duration::seconds(1));
        let again = service.begin(&ann, key("k"), request(2)).await.unwrap();
        assert!(matches!(again, Begin::Run(_)), "{again:?}");
        let record = keys.record(ann.id, &key("k")).unwrap();
        assert_eq!(record.fingerprint, request(2));
        assert!(matches!(record.state, KeyState::InFlight { .. }));
        assert_eq!(record.expires_at, clock.now() + Duration::hours(24));
    }

    #[tokio::test]
    async fn a_store_failure_at_the_claim_runs_nothing() {
        let mut store = MockIdempotencyStore::new();
        store.expect_claim().returning(|_| {
            Err(PortError::Unavailable(Box::new(std::io::Error::other(
                "down",
            ))))
        });
        let service = IdempotencyService::new(
            Arc::new(store),
            Arc::new(FixedClock::default()),
            IdempotencyPolicy::default(),
        );
        let begun = service.begin(&user("ann"), key("k"), request(1)).await;
        assert!(matches!(begun, Err(PortError::Unavailable(_))));
    }
}
