//! What idempotent requests need from outside: the store of claimed keys and their responses.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::idempotency::{
    ClaimId, IdempotencyKey, IdempotencyRecord, RequestFingerprint, StoredResponse,
};
use crate::ports::PortError;
use crate::UserId;

/// A request's claim of an idempotency key, to store with [`IdempotencyStore::claim`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClaim {
    /// The caller the key belongs to.
    pub user_id: UserId,
    /// The key.
    pub key: IdempotencyKey,
    /// The request.
    pub fingerprint: RequestFingerprint,
    /// This claim's id, for completing or releasing it.
    pub claim: ClaimId,
    /// When the request arrived.
    pub now: DateTime<Utc>,
    /// Until when the claim holds the key (its lease).
    pub locked_until: DateTime<Utc>,
    /// When the key is forgotten.
    pub expires_at: DateTime<Utc>,
}

/// What [`IdempotencyStore::claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The key is now held by the new claim: run the request.
    Claimed,
    /// The same request finished before; this is its answer.
    Replay(StoredResponse),
    /// The same request is running under a live claim.
    InFlight,
    /// Another request used this key.
    Reused,
}

/// Idempotency keys (docs/api.md, "Idempotency"), scoped to their caller: one record per (user,
/// key). Each method is one atomic step, so that concurrent requests with one key, in one process
/// or in several sharing the store, never both run.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// In one atomic step: stores the claim as a new in-flight record when the caller has none for
    /// the key, or in place of one whose [`IdempotencyRecord::verdict`] is
    /// [`Vacant`](crate::idempotency::Verdict::Vacant) (expired, or its lease ran out); otherwise
    /// reports the verdict and changes nothing.
    ///
    /// # Errors
    /// MUST NOT return [`ClaimOutcome::Claimed`] to two concurrent callers with one (user, key),
    /// even from several processes: the claim is an insert that a unique (user, key) decides, or a
    /// conditional update of the record that was read. [`PortError`] on infrastructure failure;
    /// then nothing is stored.
    async fn claim(&self, claim: NewClaim) -> Result<ClaimOutcome, PortError>;

    /// Stores the final answer of the request that holds `claim`, making the record completed.
    /// Returns `false`, storing nothing, when the claim no longer holds the key (it was taken over
    /// after its lease ran out, or released).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; the claim then stays in flight until its lease
    /// runs out.
    async fn complete(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
        response: StoredResponse,
    ) -> Result<bool, PortError>;

    /// Forgets the in-flight record of `claim`, so that the next request with the key runs. Does
    /// nothing when the claim no longer holds the key.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; the claim then stays until its lease runs out.
    async fn release(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
    ) -> Result<(), PortError>;

    /// The record of the caller's key, if any, as stored (expired or not), for tests and
    /// diagnostics.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, PortError>;

    /// Deletes up to `batch` records that expired at or before `now`; returns how many. Call again
    /// while that is `batch`. Safe from several processes at once: a record deleted by one is not
    /// deleted (or counted) twice.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; earlier batches stay deleted.
    async fn purge_expired(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;
}
