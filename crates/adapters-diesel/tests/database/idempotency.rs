//! The idempotency key store's contract ([`IdempotencyStore`], docs/api.md "Idempotency"), one set
//! of cases run against the in-memory fake of `domain::testing` (which the HTTP adapter's tests run
//! on), SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set: `fakes::name`, `sqlite::name`,
//! `postgres::name`. The race cases run 20 rounds, with the contenders split over two independent
//! pools on one database (as two server processes). Cases about the table itself (its constraints)
//! run on the two backends only.

use std::sync::Arc;

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;
use chrono::{DateTime, Duration, Utc};
use domain::accounts::ports::UserRepository;
use domain::idempotency::ports::{ClaimOutcome, IdempotencyStore, NewClaim};
use domain::idempotency::{ClaimId, IdempotencyKey, KeyState, RequestFingerprint, StoredResponse};
use domain::testing::IdempotencyKeys;
use domain::UserId;

use crate::support::{contract, new_user, now, per_backend, Target};

/// A fresh store of one [`Target`].
struct Subject {
    keys: Arc<dyn IdempotencyStore>,
    /// A second handle on the same keys, standing for another server process: an independent pool
    /// on the same database (the same fake for the fakes).
    other: Arc<dyn IdempotencyStore>,
    database: Option<(TestDatabase, adapters_diesel::Database)>,
}

impl Subject {
    /// A fresh store, or `None` (the case returns) for PostgreSQL outside CI without
    /// `TEST_DATABASE_URL`.
    fn fresh(target: Target) -> Option<Self> {
        match target {
            Target::Fakes => {
                let keys = Arc::new(IdempotencyKeys::default());
                Some(Self {
                    keys: keys.clone(),
                    other: keys,
                    database: None,
                })
            }
            Target::Database(backend) => {
                let database = TestDatabase::new(backend)?;
                let db = database.open();
                Some(Self {
                    keys: Arc::new(db.clone()),
                    other: Arc::new(database.open()),
                    database: Some((database, db)),
                })
            }
        }
    }

    /// A caller: a stored user on a database (the keys refer to users), any id on the fakes.
    async fn caller(&self, name: &str) -> UserId {
        match &self.database {
            None => UserId::generate(),
            Some((_, db)) => {
                let email = format!("{name}@example.com");
                UserRepository::create(db, new_user(name, Some(&email), None))
                    .await
                    .unwrap()
                    .id
            }
        }
    }
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text.as_bytes()).unwrap()
}

fn request(n: u8) -> RequestFingerprint {
    RequestFingerprint::from_bytes([n; 32])
}

/// A claim of `key` by `user` for `request` at `at`, with a 60 s lease and a 24 h life.
fn claim_at(
    user: UserId,
    key: &IdempotencyKey,
    request: RequestFingerprint,
    at: DateTime<Utc>,
) -> NewClaim {
    NewClaim {
        user_id: user,
        key: key.clone(),
        fingerprint: request,
        claim: ClaimId::generate(),
        now: at,
        locked_until: at + Duration::seconds(60),
        expires_at: at + Duration::hours(24),
    }
}

fn answer(status: u16, body: &[u8]) -> StoredResponse {
    StoredResponse {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/api/v1/events/0193".into()),
        ],
        body: body.to_vec(),
    }
}

contract!(
    a_completed_key_replays_its_answer_to_the_same_request_only,
    a_running_key_is_in_flight_for_the_same_request_and_reused_for_another,
    keys_belong_to_their_caller,
    a_released_key_runs_again_and_only_its_claim_releases_or_completes_it,
    a_dead_claim_is_taken_over_once_its_lease_has_run_out,
    an_expired_key_is_claimed_afresh_by_any_request,
    the_purge_deletes_expired_keys_in_batches_and_keeps_the_rest,
    two_purges_at_once_delete_each_key_once,
    concurrent_claims_of_one_key_let_exactly_one_run,
    concurrent_take_overs_of_a_dead_claim_let_exactly_one_run
);

async fn a_completed_key_replays_its_answer_to_the_same_request_only(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.keys;
    let ann = subject.caller("ann").await;
    let first = claim_at(ann, &key("k-1"), request(1), now());
    assert_eq!(
        db.claim(first.clone()).await.unwrap(),
        ClaimOutcome::Claimed
    );
    let body = "{\"data\":{\"title\":\"Café\"}}\u{0}\u{ff}".as_bytes();
    assert!(db
        .complete(ann, &key("k-1"), first.claim, answer(201, body))
        .await
        .unwrap());

    let again = claim_at(ann, &key("k-1"), request(1), now() + Duration::minutes(5));
    assert_eq!(
        db.claim(again).await.unwrap(),
        ClaimOutcome::Replay(answer(201, body))
    );
    let other = claim_at(ann, &key("k-1"), request(2), now() + Duration::minutes(5));
    assert_eq!(db.claim(other).await.unwrap(), ClaimOutcome::Reused);

    let record = db.find(ann, &key("k-1")).await.unwrap().unwrap();
    assert_eq!(record.fingerprint, request(1));
    assert_eq!(record.claim, first.claim);
    assert_eq!(record.state, KeyState::Completed(answer(201, body)));
    assert_eq!(record.created_at, now());
    assert_eq!(record.expires_at, now() + Duration::hours(24));
}

async fn a_running_key_is_in_flight_for_the_same_request_and_reused_for_another(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.keys;
    let ann = subject.caller("ann").await;
    let first = claim_at(ann, &key("k"), request(1), now());
    assert_eq!(
        db.claim(first.clone()).await.unwrap(),
        ClaimOutcome::Claimed
    );
    let later = now() + Duration::seconds(59);
    assert_eq!(
        db.claim(claim_at(ann, &key("k"), request(1), later))
            .await
            .unwrap(),
        ClaimOutcome::InFlight
    );
    assert_eq!(
        db.claim(claim_at(ann, &key("k"), request(2), later))
            .await
            .unwrap(),
        ClaimOutcome::Reused
    );
    let record = db.find(ann, &key("k")).await.unwrap().unwrap();
    assert_eq!(record.claim, first.claim);
    assert_eq!(
        record.state,
        KeyState::InFlight {
            locked_until: now() + Duration::seconds(60)
        }
    );
}

async fn keys_belong_to_their_caller(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.keys;
    let (ann, bob) = (subject.caller("ann").await, subject.caller("bob").await);
    let anns = claim_at(ann, &key("shared"), request(1), now());
    assert_eq!(db.claim(anns.clone()).await.unwrap(), ClaimOutcome::Claimed);
    assert!(db
        .complete(ann, &key("shared"), anns.claim, answer(200, b"ann"))
        .await
        .unwrap());
    let bobs = claim_at(bob, &key("shared"), request(2), now());
    assert_eq!(db.claim(bobs).await.unwrap(), ClaimOutcome::Claimed);
    assert_eq!(
        db.claim(claim_at(ann, &key("shared"), request(1), now()))
            .await
            .unwrap(),
        ClaimOutcome::Replay(answer(200, b"ann"))
    );
}

async fn a_released_key_runs_again_and_only_its_claim_releases_or_completes_it(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.keys;
    let ann = subject.caller("ann").await;
    let first = claim_at(ann, &key("k"), request(1), now());
    assert_eq!(
        db.claim(first.clone()).await.unwrap(),
        ClaimOutcome::Claimed
    );
    let stranger = ClaimId::generate();
    db.release(ann, &key("k"), stranger).await.unwrap();
    assert!(!db
        .complete(ann, &key("k"), stranger, answer(200, b"x"))
        .await
        .unwrap());
    assert!(
        db.find(ann, &key("k")).await.unwrap().is_some(),
        "a stranger's release does nothing"
    );

    db.release(ann, &key("k"), first.claim).await.unwrap();
    assert!(db.find(ann, &key("k")).await.unwrap().is_none());
    assert!(!db
        .complete(ann, &key("k"), first.claim, answer(200, b"x"))
        .await
        .unwrap());
    let retry = claim_at(ann, &key("k"), request(1), now());
    assert_eq!(
        db.claim(retry.clone()).await.unwrap(),
        ClaimOutcome::Claimed
    );
    assert!(db
        .complete(ann, &key("k"), retry.claim, answer(200, b"retry"))
        .await
        .unwrap());
    db.release(ann, &key("k"), retry.claim).await.unwrap();
    assert_eq!(
        db.claim(claim_at(ann, &key("k"), request(1), now()))
            .await
            .unwrap(),
        ClaimOutcome::Replay(answer(200, b"retry")),
        "a completed key is not released"
    );
}

async fn a_dead_claim_is_taken_over_once_its_lease_has_run_out(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.keys;
    let ann = subject.caller("ann").await;
    let dead = claim_at(ann, &key("k"), request(1), now());
    assert_eq!(db.claim(dead.clone()).await.unwrap(), ClaimOutcome::Claimed);
    let heir = claim_at(ann, &key("k"), request(1), now() + Duration::seconds(60));
    assert_eq!(db.claim(heir.clone()).await.unwrap(), ClaimOutcome::Claimed);
    assert!(!db
        .complete(ann, &key("k"), dead.claim, answer(200, b"late"))
        .await
        .unwrap());
    db.release(ann, &key("k"), dead.claim).await.unwrap();
    let record = db.find(ann, &key("k")).await.unwrap().unwrap();
    assert_eq!(record.claim, heir.claim);
    assert_eq!(record.created_at, heir.now);
    assert!(db
        .complete(ann, &key("k"), heir.claim, answer(200, b"heir"))
        .await
        .unwrap());
}

async fn an_expired_key_is_claimed_afresh_by_any_request(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.keys;
    let ann = subject.caller("ann").await;
    let first = claim_at(ann, &key("k"), request(1), now());
    db.claim(first.clone()).await.unwrap();
    db.complete(ann, &key("k"), first.claim, answer(200, b"old"))
        .await
        .unwrap();
    let day = now() + Duration::hours(24);
    assert_eq!(
        db.claim(claim_at(
            ann,
            &key("k"),
            request(2),
            day - Duration::seconds(1)
        ))
        .await
        .unwrap(),
        ClaimOutcome::Reused
    );
    let fresh = claim_at(ann, &key("k"), request(2), day);
    assert_eq!(
        db.claim(fresh.clone()).await.unwrap(),
        ClaimOutcome::Claimed
    );
    let record = db.find(ann, &key("k")).await.unwrap().unwrap();
    assert_eq!(
        (record.fingerprint, record.claim, record.expires_at),
        (request(2), fresh.claim, day + Duration::hours(24))
    );
    assert!(matches!(record.state, KeyState::InFlight { .. }));
}

async fn the_purge_deletes_expired_keys_in_batches_and_keeps_the_rest(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.keys;
    let ann = subject.caller("ann").await;
    for n in 0..5 {
        let claim = claim_at(
            ann,
            &key(&format!("old-{n}")),
            request(1),
            now() - Duration::hours(25),
        );
        db.claim(claim.clone()).await.unwrap();
        if n % 2 == 0 {
            db.complete(ann, &claim.key, claim.claim, answer(200, b"{}"))
                .await
                .unwrap();
        }
    }
    db.claim(claim_at(ann, &key("fresh"), request(1), now()))
        .await
        .unwrap();
    assert_eq!(db.purge_expired(now(), 2).await.unwrap(), 2);
    assert_eq!(db.purge_expired(now(), 2).await.unwrap(), 2);
    assert_eq!(db.purge_expired(now(), 2).await.unwrap(), 1);
    assert_eq!(db.purge_expired(now(), 2).await.unwrap(), 0);
    for n in 0..5 {
        assert!(db
            .find(ann, &key(&format!("old-{n}")))
            .await
            .unwrap()
            .is_none());
    }
    assert!(db.find(ann, &key("fresh")).await.unwrap().is_some());
}

async fn two_purges_at_once_delete_each_key_once(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let ann = subject.caller("ann").await;
    for n in 0..300 {
        let claim = claim_at(
            ann,
            &key(&format!("old-{n}")),
            request(1),
            now() - Duration::hours(25),
        );
        subject.keys.claim(claim).await.unwrap();
    }
    let purge = |db: Arc<dyn IdempotencyStore>| {
        tokio::spawn(async move {
            let mut total = 0;
            loop {
                let deleted = db.purge_expired(now(), 7).await.unwrap();
                total += deleted;
                if deleted == 0 {
                    return total;
                }
            }
        })
    };
    let (a, b) = (purge(subject.keys.clone()), purge(subject.other.clone()));
    assert_eq!(a.await.unwrap() + b.await.unwrap(), 300);
}

async fn concurrent_claims_of_one_key_let_exactly_one_run(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let ann = subject.caller("ann").await;
    for round in 0..20 {
        let key = key(&format!("race-{round}"));
        let contenders: Vec<_> = (0..8)
            .map(|n| {
                let db = if n % 2 == 0 {
                    subject.keys.clone()
                } else {
                    subject.other.clone()
                };
                // Half the contenders send the same request, half another one.
                let claim = claim_at(ann, &key, request(1 + (n / 4) as u8), now());
                tokio::spawn(async move { db.claim(claim).await.unwrap() })
            })
            .collect();
        let mut outcomes = Vec::new();
        for contender in contenders {
            outcomes.push(contender.await.unwrap());
        }
        let winners = outcomes
            .iter()
            .filter(|o| **o == ClaimOutcome::Claimed)
            .count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes.iter().all(|o| matches!(
                o,
                ClaimOutcome::Claimed | ClaimOutcome::InFlight | ClaimOutcome::Reused
            )),
            "round {round}: {outcomes:?}"
        );
    }
}

async fn concurrent_take_overs_of_a_dead_claim_let_exactly_one_run(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let ann = subject.caller("ann").await;
    for round in 0..20 {
        let key = key(&format!("dead-{round}"));
        let dead = claim_at(ann, &key, request(1), now());
        assert_eq!(
            subject.keys.claim(dead).await.unwrap(),
            ClaimOutcome::Claimed
        );
        let later = now() + Duration::minutes(2);
        let contenders: Vec<_> = (0..8)
            .map(|n| {
                let db = if n % 2 == 0 {
                    subject.keys.clone()
                } else {
                    subject.other.clone()
                };
                let claim = claim_at(ann, &key, request(1), later);
                tokio::spawn(async move { db.claim(claim).await.unwrap() })
            })
            .collect();
        let mut outcomes = Vec::new();
        for contender in contenders {
            outcomes.push(contender.await.unwrap());
        }
        let winners = outcomes
            .iter()
            .filter(|o| **o == ClaimOutcome::Claimed)
            .count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, ClaimOutcome::Claimed | ClaimOutcome::InFlight)),
            "round {round}: {outcomes:?}"
        );
    }
}

mod constraints {
    use super::*;

    per_backend!(the_table_refuses_rows_that_break_the_rules);

    async fn the_table_refuses_rows_that_break_the_rules(backend: Backend) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
        let db = database.open();
        let ann = UserRepository::create(&db, new_user("ann", Some("ann@example.com"), None))
            .await
            .unwrap()
            .id;
        let (blob, short) = match backend {
            Backend::Postgres => (
                format!("'\\x{}'", "ab".repeat(32)),
                format!("'\\x{}'", "ab".repeat(31)),
            ),
            Backend::Sqlite => (
                format!("X'{}'", "ab".repeat(32)),
                format!("X'{}'", "ab".repeat(31)),
            ),
        };
        let row = |key: &str, fingerprint: &str, rest: &str| {
            format!(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, claim, state, \
                     response_status, response_headers, response_body, created_at, expires_at, \
                     locked_until) VALUES ('{ann}', '{key}', {fingerprint}, \
                     '01a00000-0000-7000-8000-0000000000c1', {rest})"
            )
        };
        let running = "'in_flight', NULL, NULL, NULL, '2026-11-26 10:00:00', '2026-11-27 10:00:00', '2026-11-26 10:01:00'";
        let mut session = database.session();
        session.execute(&row("ok", &blob, running));
        let long = "x".repeat(256);
        let refused = [
                row("a b", &blob, running),
                row("", &blob, running),
                row(&long, &blob, running),
                row("clé", &blob, running),
                row("k2", &short, running),
                row("k3", &blob, "'done', NULL, NULL, NULL, '2026-11-26 10:00:00', '2026-11-27 10:00:00', '2026-11-26 10:01:00'"),
                row("k4", &blob, "'in_flight', NULL, NULL, NULL, '2026-11-26 10:00:00', '2026-11-27 10:00:00', NULL"),
                row("k5", &blob, "'completed', 200, '', NULL, '2026-11-26 10:00:00', '2026-11-27 10:00:00', NULL"),
                row("k6", &blob, "'completed', 200, '', X'00', '2026-11-26 10:00:00', '2026-11-27 10:00:00', '2026-11-26 10:01:00'"),
                row("k7", &blob, "'completed', 42, '', X'00', '2026-11-26 10:00:00', '2026-11-27 10:00:00', NULL"),
                row("k8", &blob, "'in_flight', NULL, NULL, NULL, '2026-11-26 10:00:00', '2026-11-26 10:00:00', '2026-11-26 10:01:00'"),
                row("ok", &blob, running),
            ];
        for sql in refused {
            let sql = match backend {
                Backend::Postgres => sql.replace("X'00'", "'\\x00'"),
                Backend::Sqlite => sql,
            };
            assert!(session.try_execute(&sql).is_err(), "accepted: {sql}");
        }
        let completed = match backend {
            Backend::Postgres => {
                "'completed', 200, '', '\\x00', '2026-11-26 10:00:00', '2026-11-27 10:00:00', NULL"
            }
            Backend::Sqlite => {
                "'completed', 200, '', X'00', '2026-11-26 10:00:00', '2026-11-27 10:00:00', NULL"
            }
        };
        session.execute(&row("done", &blob, completed));
    }
}
