//! Admission to password hashing (docs/operations.md, "Abuse limits and the client address").
//!
//! Hashing is slow by design and runs on a few slots (one per core). A flood of registrations
//! must not starve logins: registrations may hold at most one slot fewer than there are, so a
//! login always finds one free or about to be, and every wait for a slot is bounded (→ 503).

use std::time::Duration;

use domain::PortError;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::ApiError;

/// The gate in front of the password hasher; one per process, shared by every worker.
#[derive(Debug)]
pub struct HashingGate {
    logins: Semaphore,
    registrations: Semaphore,
    wait: Duration,
}

/// No hashing slot came free within the bounded wait.
#[derive(Debug, thiserror::Error)]
#[error("no password-hashing slot came free within {0:?}")]
pub struct HashingBusy(Duration);

impl HashingGate {
    /// How long a request waits for a slot before answering 503.
    pub const DEFAULT_WAIT: Duration = Duration::from_secs(2);

    /// A gate for a hasher with `slots` concurrent hashes; requests wait at most `wait`.
    pub fn new(slots: usize, wait: Duration) -> Self {
        let slots = slots.max(1);
        Self {
            logins: Semaphore::new(slots),
            registrations: Semaphore::new(slots.saturating_sub(1).max(1)),
            wait,
        }
    }

    /// A slot for checking a login's password.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] (503) when none came free in time.
    pub async fn login(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        self.acquire(&self.logins).await
    }

    /// A slot for hashing a new account's password: at most all slots but one.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] (503) when none came free in time.
    pub async fn registration(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        self.acquire(&self.registrations).await
    }

    async fn acquire<'a>(&self, slots: &'a Semaphore) -> Result<SemaphorePermit<'a>, ApiError> {
        let busy =
            || ApiError::Unavailable(PortError::Unavailable(Box::new(HashingBusy(self.wait))));
        let started = std::time::Instant::now();
        let acquired = tokio::time::timeout(self.wait, slots.acquire()).await;
        metrics::histogram!("password_hashing_wait_seconds")
            .record(started.elapsed().as_secs_f64());
        match acquired {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(busy()),
        }
    }
}

impl Default for HashingGate {
    /// One slot per core (the argon2 adapter's default) and [`HashingGate::DEFAULT_WAIT`].
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self::new(cores, Self::DEFAULT_WAIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn registrations_leave_logins_a_slot_and_waits_are_bounded() {
        let gate = HashingGate::new(2, Duration::from_millis(50));
        let held = gate.registration().await.unwrap();
        // The registrations' share is used up: another waits its bound, then 503.
        let refused = gate.registration().await.unwrap_err();
        assert!(matches!(refused, ApiError::Unavailable(_)), "{refused:?}");
        // Logins still get their slots.
        let first = gate.login().await.unwrap();
        let second = gate.login().await.unwrap();
        assert!(gate.login().await.is_err());
        drop((held, first, second));
        assert!(gate.registration().await.is_ok());
    }
}
