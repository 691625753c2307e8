//! [`IdempotencyKeys`]: the idempotency key store in memory.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Timelike, Utc};

use crate::idempotency::ports::{ClaimOutcome, IdempotencyStore, NewClaim};
use crate::idempotency::{
    ClaimId, IdempotencyKey, IdempotencyRecord, KeyState, StoredResponse, Verdict,
};
use crate::ports::PortError;
use crate::UserId;

/// [`IdempotencyStore`] in memory, keeping what the database keeps: one record per (user, key),
/// claims decided by [`IdempotencyRecord::verdict`], completion and release only by the claim that
/// holds the key, times to the microsecond. Every method takes one lock, so each call is atomic
/// like the adapter's statements. The adapters' idempotency contract suite
/// (`crates/adapters-diesel/tests/database/idempotency.rs`) runs against it too.
#[derive(Debug, Default)]
pub struct IdempotencyKeys {
    records: Mutex<HashMap<(UserId, IdempotencyKey), IdempotencyRecord>>,
}

/// What the database stores of a time: whole microseconds.
fn stored(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

impl IdempotencyKeys {
    fn records(&self) -> MutexGuard<'_, HashMap<(UserId, IdempotencyKey), IdempotencyRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many records are stored, expired ones included.
    pub fn len(&self) -> usize {
        self.records().len()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.records().is_empty()
    }

    /// The stored record of a key, if any.
    pub fn record(&self, user_id: UserId, key: &IdempotencyKey) -> Option<IdempotencyRecord> {
        self.records().get(&(user_id, key.clone())).cloned()
    }

    fn held_by<'a>(
        records: &'a mut HashMap<(UserId, IdempotencyKey), IdempotencyRecord>,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
    ) -> Option<&'a mut IdempotencyRecord> {
        records
            .get_mut(&(user_id, key.clone()))
            .filter(|r| r.claim == claim && matches!(r.state, KeyState::InFlight { .. }))
    }
}

#[async_trait]
impl IdempotencyStore for IdempotencyKeys {
    async fn claim(&self, claim: NewClaim) -> Result<ClaimOutcome, PortError> {
        let mut records = self.records();
        let slot = (claim.user_id, claim.key.clone());
        let now = stored(claim.now);
        if let Some(existing) = records.get(&slot) {
            match existing.verdict(&claim.fingerprint, now) {
                Verdict::Vacant => {}
                Verdict::Replay(response) => return Ok(ClaimOutcome::Replay(response)),
                Verdict::InFlight => return Ok(ClaimOutcome::InFlight),
                Verdict::Reused => return Ok(ClaimOutcome::Reused),
            }
        }
        records.insert(
            slot,
            IdempotencyRecord {
                user_id: claim.user_id,
                key: claim.key,
                fingerprint: claim.fingerprint,
                claim: claim.claim,
                state: KeyState::InFlight {
                    locked_until: stored(claim.locked_until),
                },
                created_at: now,
                expires_at: stored(claim.expires_at),
            },
        );
        Ok(ClaimOutcome::Claimed)
    }

    async fn complete(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
        response: StoredResponse,
    ) -> Result<bool, PortError> {
        let mut records = self.records();
        let Some(record) = Self::held_by(&mut records, user_id, key, claim) else {
            return Ok(false);
        };
        record.state = KeyState::Completed(response);
        Ok(true)
    }

    async fn release(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
    ) -> Result<(), PortError> {
        let mut records = self.records();
        if Self::held_by(&mut records, user_id, key, claim).is_some() {
            records.remove(&(user_id, key.clone()));
        }
        Ok(())
    }

    async fn find(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, PortError> {
        Ok(self.record(user_id, key))
    }

    async fn purge_expired(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let mut records = self.records();
        let expired: Vec<_> = records
            .iter()
            .filter(|(_, r)| r.expires_at <= now)
            .map(|(slot, _)| slot.clone())
            .take(batch as usize)
            .collect();
        for slot in &expired {
            records.remove(slot);
        }
        Ok(expired.len() as u64)
    }
}
