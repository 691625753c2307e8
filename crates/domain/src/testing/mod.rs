//! In-memory fakes of every port, for tests of this crate and of the adapters (feature `testing`,
//! enabled from other crates' dev-dependencies only).
//!
//! - [`Store`]: every repository port over one in-memory state, keeping the invariants that the
//!   database keeps (one pending invitation per event and invitee, conditional answers, unique
//!   contacts, membership on acceptance, token expiry and revocation, keyset pages newest first).
//!   The adapters' contract suite (`crates/adapters-diesel/tests/database/contract/`) runs against it too,
//!   so that the fakes cannot drift from the database.
//! - [`FixedClock`]: a clock that stands still until a test moves it.
//! - [`FakeHasher`] and [`FakeIssuer`]: instant, predictable credential ports; [`FakeIssuer`] is
//!   also the [`SecretSource`] of webhook secrets.
//! - [`FakeSender`]: a webhook sender that allows every destination and answers `200` (or what a
//!   test scripts), keeping each request.
//!
//! ```
//! use std::sync::Arc;
//! use domain::events::EventService;
//! use domain::testing::{FixedClock, Store};
//!
//! let store = Arc::new(Store::default());
//! let clock = Arc::new(FixedClock::default());
//! let events = EventService::new(store.clone(), clock.clone());
//! clock.advance(chrono::Duration::days(1));
//! # let _ = events;
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;

use crate::accounts::ports::{IssuedToken, PasswordHash, PasswordHasher, TokenHash, TokenIssuer};
use crate::ports::{Clock, PortError, SecretSource};
use crate::webhooks::ports::{DestinationRefused, WebhookRequest, WebhookResponse, WebhookSender};
use crate::webhooks::WebhookUrl;
use crate::Password;

mod counters;
mod idempotency;
mod store;
mod wiring;

pub use counters::FakeCounters;
pub use idempotency::IdempotencyKeys;
pub use store::Store;
pub use wiring::Wiring;

/// A clock that stands still at the time it was set to, until a test moves it with
/// [`FixedClock::set`] or [`FixedClock::advance`]. Shared behind an `Arc`, every service built
/// over it sees the move at once.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// Where [`FixedClock::default`] starts: 2026-11-26T10:00:00Z.
    pub const START: DateTime<Utc> = match DateTime::from_timestamp(1_795_687_200, 0) {
        Some(start) => start,
        None => panic!("a valid timestamp"),
    };

    /// A clock standing at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self(Mutex::new(now))
    }

    /// Moves the clock to `now` (backwards too).
    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the clock by `by` (negative moves it back).
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Default for FixedClock {
    /// A clock standing at [`FixedClock::START`].
    fn default() -> Self {
        Self::at(Self::START)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A password hasher that "hashes" by prefixing `hash:`, at once. It counts the verifications run
/// without a hash (logins of unknown accounts), so that tests can see that they happen.
#[derive(Debug, Default)]
pub struct FakeHasher {
    verifications_without_hash: AtomicU64,
}

impl FakeHasher {
    /// The hash [`FakeHasher`] makes of `password`: `hash:` and the password.
    pub fn hash_of(password: &str) -> PasswordHash {
        PasswordHash(format!("hash:{password}"))
    }

    /// How many times [`PasswordHasher::verify`] ran without a hash.
    pub fn verifications_without_hash(&self) -> u64 {
        self.verifications_without_hash.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl PasswordHasher for FakeHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PortError> {
        Ok(Self::hash_of(password.expose()))
    }

    async fn verify(
        &self,
        password: &Password,
        hash: Option<PasswordHash>,
    ) -> Result<bool, PortError> {
        match hash {
            Some(hash) => Ok(hash == Self::hash_of(password.expose())),
            None => {
                self.verifications_without_hash
                    .fetch_add(1, Ordering::SeqCst);
                Ok(false)
            }
        }
    }
}

/// A token issuer whose tokens are `token-0`, `token-1`, … in order of issue; a token's digest is
/// its bytes reversed.
#[derive(Debug, Default)]
pub struct FakeIssuer(AtomicU64);

impl FakeIssuer {
    /// The secret of the `n`-th token this issuer issues, counting from 0.
    pub fn secret(n: u64) -> String {
        format!("token-{n}")
    }
}

impl TokenIssuer for FakeIssuer {
    fn issue(&self) -> IssuedToken {
        let secret = Self::secret(self.0.fetch_add(1, Ordering::SeqCst));
        IssuedToken {
            hash: self.digest(&secret),
            secret: SecretString::from(secret),
        }
    }

    fn digest(&self, secret: &str) -> TokenHash {
        TokenHash(secret.bytes().rev().collect())
    }
}

impl SecretSource for FakeIssuer {
    /// Bytes counting up from where the issuer's count stands (so each secret differs).
    fn fill(&self, buf: &mut [u8]) {
        let start = self.0.fetch_add(1, Ordering::SeqCst);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (start as usize).wrapping_add(i) as u8;
        }
    }
}

/// A webhook sender that allows every destination (unless told to refuse them) and answers each
/// `POST` with the next of its scripted answers, `200` once they run out. It keeps every request.
#[derive(Debug, Default)]
pub struct FakeSender {
    answers: Mutex<std::collections::VecDeque<WebhookResponse>>,
    /// Answers to verification challenges, in order; once they run out, each challenge is echoed.
    verification_answers: Mutex<std::collections::VecDeque<WebhookResponse>>,
    verifications: Mutex<Vec<WebhookRequest>>,
    sent: Mutex<Vec<WebhookRequest>>,
    refuse: Mutex<Option<DestinationRefused>>,
    checks: std::sync::atomic::AtomicUsize,
}

impl FakeSender {
    /// Answers the next `POST`s with these, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = WebhookResponse>) {
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(answers);
    }

    /// Answers the next verification challenges with these, in order (then echoes them).
    pub fn script_verifications(&self, answers: impl IntoIterator<Item = WebhookResponse>) {
        self.verification_answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(answers);
    }

    /// The verification challenges sent so far (not among [`FakeSender::sent`]).
    pub fn verifications(&self) -> Vec<WebhookRequest> {
        self.verifications
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Refuses every destination from now on, for this reason (`None`: allows them again).
    pub fn refuse(&self, reason: Option<DestinationRefused>) {
        *self.refuse.lock().unwrap_or_else(PoisonError::into_inner) = reason;
    }

    /// How many destinations were checked (each a look-up of a name, for the real sender).
    pub fn checks(&self) -> usize {
        self.checks.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The requests sent so far.
    pub fn sent(&self) -> Vec<WebhookRequest> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl WebhookSender for FakeSender {
    async fn check_destination(&self, _url: &WebhookUrl) -> Result<(), DestinationRefused> {
        self.checks
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.refuse
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map_or(Ok(()), Err)
    }

    async fn send(&self, request: &WebhookRequest) -> WebhookResponse {
        if request.message_id.starts_with("verify_") {
            self.verifications
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(request.clone());
            let scripted = self
                .verification_answers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            return scripted.unwrap_or_else(|| {
                let challenge = serde_json::from_str::<serde_json::Value>(&request.body)
                    .ok()
                    .and_then(|v| v.get("challenge").cloned())
                    .unwrap_or_default();
                WebhookResponse::Answered {
                    status: 200,
                    retry_after: None,
                    body: serde_json::json!({ "challenge": challenge }).to_string(),
                }
            });
        }
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.clone());
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .unwrap_or(WebhookResponse::Answered {
                status: 200,
                retry_after: None,
                body: String::new(),
            })
    }
}
