//! Idempotency keys (docs/api.md, "Idempotency"): a client names an unsafe request with a key of
//! its choosing, so that retrying it after a lost answer cannot do its work twice.
//!
//! The rules, decided here and kept by every [`IdempotencyStore`](crate::idempotency::ports::IdempotencyStore):
//!
//! - a key belongs to its caller: two users may use the same key for unrelated requests;
//! - the same key with the same request (its [`RequestFingerprint`]) gets the first request's
//!   stored answer again, without running it again;
//! - the same key with another request is refused: the client reused a key by mistake;
//! - while the first request with a key runs, another one with it is told to retry shortly;
//! - only final answers are kept ([`StoredResponse::is_final`]): after a 5xx, a 429 or a 408 the
//!   key is released, so that a retry runs the request again;
//! - a key is remembered for [`IdempotencyPolicy::ttl`] (24 hours) after its first use, then
//!   forgotten; a claim whose process died is taken over once its lease
//!   ([`IdempotencyPolicy::lease`]) has run out.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::UserId;

pub mod ports;
mod service;

pub use service::*;

/// A client's idempotency key: 1 to [`IdempotencyKey::MAX_LEN`] visible ASCII characters
/// (`!` to `~`), taken exactly as sent (case and quotes included).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

/// Why a header value is not an [`IdempotencyKey`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    /// Empty.
    #[error("the key is empty")]
    Empty,
    /// Longer than [`IdempotencyKey::MAX_LEN`].
    #[error("the key is longer than {max} characters")]
    TooLong {
        /// The most characters a key may have.
        max: usize,
    },
    /// Holds a space, a control character or a non-ASCII byte.
    #[error("the key holds a character that is not visible ASCII")]
    NotVisibleAscii,
}

impl IdempotencyKey {
    /// The longest key accepted.
    pub const MAX_LEN: usize = 255;

    /// Reads a key from the bytes of a header value.
    ///
    /// # Errors
    /// [`IdempotencyKeyError`] unless `raw` is 1 to [`Self::MAX_LEN`] bytes, each in `!`..=`~`.
    pub fn parse(raw: &[u8]) -> Result<Self, IdempotencyKeyError> {
        if raw.is_empty() {
            return Err(IdempotencyKeyError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(IdempotencyKeyError::TooLong { max: Self::MAX_LEN });
        }
        if !raw.iter().all(u8::is_ascii_graphic) {
            return Err(IdempotencyKeyError::NotVisibleAscii);
        }
        // Visible ASCII is UTF-8.
        String::from_utf8(raw.to_vec())
            .map(Self)
            .map_err(|_| IdempotencyKeyError::NotVisibleAscii)
    }

    /// Wraps a key read back from storage, which [`IdempotencyKey::parse`] checked when it was
    /// written.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

/// What identifies "the same request" under one key: a digest (SHA-256 in the HTTP adapter) of
/// its method, path and body bytes. Two requests with one key and different fingerprints are a
/// reused key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestFingerprint([u8; 32]);

impl RequestFingerprint {
    /// Wraps a 32-byte digest.
    pub const fn from_bytes(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RequestFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestFingerprint(")?;
        for byte in &self.0[..4] {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("…)")
    }
}

/// Identifies one claim of a key: the run of one request. A claim that was taken over (its lease
/// ran out) or released can no longer complete the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimId(Uuid);

impl ClaimId {
    /// A fresh claim id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps a claim id read back from storage.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The underlying UUID.
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

/// An answer as it is kept for replays: the status, the headers worth repeating (such as
/// `Content-Type` and `Location`) and the body's bytes. Plain data: the HTTP adapter decides which
/// headers it keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order; values hold no line breaks.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl StoredResponse {
    /// The largest body kept for replays: 16 KiB. A larger answer is given but not kept, and its
    /// key is released, so that one caller cannot store megabytes a day through ignored entries.
    pub const BODY_MAX: usize = 16 * 1024;

    /// Whether an answer with this status is final, and so kept and replayed: every answer but
    /// server errors (5xx, a database outage's 503 included), `429 Too Many Requests` and `408
    /// Request Timeout`, which say "try again later" and would be wrong to repeat for a day.
    ///
    /// Client errors (4xx) are kept like successes, as the IETF idempotency-key draft does: the
    /// request ran and this was its outcome; a retry with the same key gets the same outcome, and
    /// a corrected request takes a new key.
    pub fn is_final_status(status: u16) -> bool {
        !(status >= 500 || status == 429 || status == 408)
    }

    /// Whether this answer is final ([`StoredResponse::is_final_status`]).
    pub fn is_final(&self) -> bool {
        Self::is_final_status(self.status)
    }
}

/// How long keys live and claims hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdempotencyPolicy {
    /// How long a key is remembered after its first use (24 hours).
    pub ttl: Duration,
    /// How long a claim holds the key before another request may take it over, should its
    /// process have died: longer than any request may run (60 seconds; every wait of a request is
    /// bounded well below it, docs/operations.md).
    pub lease: Duration,
}

impl Default for IdempotencyPolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::hours(24),
            lease: Duration::seconds(60),
        }
    }
}

/// Where a stored key stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// A request with the key is running (or its process died) under this lease.
    InFlight {
        /// Until when the claim holds the key.
        locked_until: DateTime<Utc>,
    },
    /// The request finished with this answer.
    Completed(StoredResponse),
}

/// A key as stored: whose it is, which request claimed it, and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The caller the key belongs to.
    pub user_id: UserId,
    /// The key.
    pub key: IdempotencyKey,
    /// The request that first used it.
    pub fingerprint: RequestFingerprint,
    /// The current (or last) claim.
    pub claim: ClaimId,
    /// Running or completed.
    pub state: KeyState,
    /// When it was first used.
    pub created_at: DateTime<Utc>,
    /// When it is forgotten.
    pub expires_at: DateTime<Utc>,
}

/// What a new request meets when a record for its key exists: [`IdempotencyRecord::verdict`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The record no longer counts (expired, or an in-flight claim whose lease ran out): the new
    /// request may claim the key in its place.
    Vacant,
    /// The same request finished: its answer is replayed.
    Replay(StoredResponse),
    /// The same request is still running: retry shortly.
    InFlight,
    /// Another request used this key.
    Reused,
}

impl IdempotencyRecord {
    /// What a request with `fingerprint`, arriving at `now`, meets in this record. Expiry comes
    /// first (a forgotten key is free for any request), then the fingerprint (a reused key is the
    /// client's mistake whatever the first request's state), then the state.
    pub fn verdict(&self, fingerprint: &RequestFingerprint, now: DateTime<Utc>) -> Verdict {
        if self.expires_at <= now {
            return Verdict::Vacant;
        }
        if self.fingerprint != *fingerprint {
            return Verdict::Reused;
        }
        match &self.state {
            KeyState::Completed(response) => Verdict::Replay(response.clone()),
            KeyState::InFlight { locked_until } if *locked_until > now => Verdict::InFlight,
            KeyState::InFlight { .. } => Verdict::Vacant,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        crate::testing::FixedClock::START + chrono::Duration::seconds(seconds)
    }

    fn record(state: KeyState) -> IdempotencyRecord {
        IdempotencyRecord {
            user_id: UserId::generate(),
            key: IdempotencyKey::parse(b"k").unwrap(),
            fingerprint: RequestFingerprint::from_bytes([1; 32]),
            claim: ClaimId::generate(),
            state,
            created_at: at(0),
            expires_at: at(86_400),
        }
    }

    fn answer(status: u16) -> StoredResponse {
        StoredResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{}".to_vec(),
        }
    }

    #[test]
    fn a_key_is_1_to_255_visible_ascii_characters_taken_as_sent() {
        for ok in [
            &b"a"[..],
            b"8e03978e-40d5-43e8-bc93-6894a57f9324",
            b"\"quoted\"",
            b"~!",
        ] {
            assert_eq!(IdempotencyKey::parse(ok).unwrap().as_str().as_bytes(), ok);
        }
        assert_eq!(
            IdempotencyKey::parse(&[b'x'; 255]).unwrap().as_str().len(),
            255
        );
        assert_eq!(IdempotencyKey::parse(b""), Err(IdempotencyKeyError::Empty));
        assert_eq!(
            IdempotencyKey::parse(&[b'x'; 256]),
            Err(IdempotencyKeyError::TooLong { max: 255 })
        );
        for bad in [&b"a b"[..], b"a\tb", b"\x7f", "clé".as_bytes(), b"a\x00"] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(IdempotencyKeyError::NotVisibleAscii),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keys_differing_in_case_are_different_keys() {
        assert_ne!(
            IdempotencyKey::parse(b"Key").unwrap(),
            IdempotencyKey::parse(b"key").unwrap()
        );
    }

    #[test]
    fn the_same_request_after_a_final_answer_gets_it_replayed() {
        let done = record(KeyState::Completed(answer(201)));
        assert_eq!(
            done.verdict(&done.fingerprint, at(10)),
            Verdict::Replay(answer(201))
        );
    }

    #[test]
    fn another_request_with_the_key_is_a_reused_key_whatever_the_state() {
        let other = RequestFingerprint::from_bytes([2; 32]);
        for state in [
            KeyState::Completed(answer(200)),
            KeyState::InFlight {
                locked_until: at(60),
            },
            KeyState::InFlight {
                locked_until: at(-1),
            },
        ] {
            assert_eq!(record(state).verdict(&other, at(10)), Verdict::Reused);
        }
    }

    #[test]
    fn the_same_request_while_the_first_runs_is_in_flight_until_the_lease_runs_out() {
        let running = record(KeyState::InFlight {
            locked_until: at(60),
        });
        assert_eq!(
            running.verdict(&running.fingerprint, at(59)),
            Verdict::InFlight
        );
        assert_eq!(
            running.verdict(&running.fingerprint, at(60)),
            Verdict::Vacant
        );
    }

    #[test]
    fn an_expired_key_is_free_for_any_request() {
        let done = record(KeyState::Completed(answer(200)));
        let other = RequestFingerprint::from_bytes([2; 32]);
        assert_eq!(done.verdict(&other, at(86_400)), Verdict::Vacant);
        assert_eq!(done.verdict(&done.fingerprint, at(86_400)), Verdict::Vacant);
        assert_eq!(done.verdict(&other, at(86_399)), Verdict::Reused);
    }

    #[test]
    fn successes_and_client_errors_are_final_server_errors_and_try_later_answers_are_not() {
        for status in [200, 201, 204, 400, 403, 404, 409, 413, 422] {
            assert!(StoredResponse::is_final_status(status), "{status}");
        }
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(!StoredResponse::is_final_status(status), "{status}");
        }
    }

    #[test]
    fn keys_live_a_day_and_claims_a_minute() {
        let policy = IdempotencyPolicy::default();
        assert_eq!(policy.ttl, Duration::hours(24));
        assert_eq!(policy.lease, Duration::seconds(60));
    }

    #[test]
    fn debug_output_shows_little_of_the_fingerprint() {
        let printed = format!("{:?}", RequestFingerprint::from_bytes([0xab; 32]));
        assert_eq!(printed, "RequestFingerprint(abababab…)");
    }
}
