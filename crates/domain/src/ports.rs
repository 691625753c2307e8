//! The ports every area shares: the port error, the clock, the health check, the secret source
//! and the abuse counters. Each area's own ports are in its `ports` module.
//!
//! Every method that touches storage is one coarse, atomic operation: where a use case must change
//! two things together (accepting = answer + membership, R11), the port has one method for it and
//! the adapter runs it in one transaction. See `docs/architecture.md`.

use std::error::Error as StdError;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Any error an adapter reports, boxed so that no adapter type leaks into the domain.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A failure of the infrastructure behind a port, as opposed to a domain outcome.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The database (or another backing service) cannot be reached right now; retrying later may
    /// work. Adapters MUST report this within a few seconds rather than hang.
    #[error("service unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else that went wrong.
    #[error("unexpected infrastructure error")]
    Unexpected(#[source] BoxError),
}

impl PortError {
    /// Wraps an unexpected error.
    pub fn unexpected(error: impl Into<BoxError>) -> Self {
        Self::Unexpected(error.into())
    }
}

/// The time, so that tests can fix it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Whether the backing services answer, for the readiness probe.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Succeeds when the database answers a trivial query.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when it does not.
    async fn check(&self) -> Result<(), PortError>;
}

/// One counter to count an event under: its key (e.g. `register:203.0.113.9`) and the most events
/// it may hold within the window (`0`: no limit; the counter is then neither checked nor counted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterLimit {
    /// What is counted, and for whom.
    pub key: String,
    /// The most events within the window; `0` turns the limit off.
    pub limit: u32,
}

impl CounterLimit {
    /// `limit` events within the window under `key`.
    pub fn new(key: impl Into<String>, limit: u32) -> Self {
        Self {
            key: key.into(),
            limit,
        }
    }
}

/// How full one counter was when a reservation was refused: how many more events it could take
/// within the window, and how long until it can take more than that (when the oldest event it
/// holds inside the window leaves it, or for a full counter the event that fills its limit; a whole
/// window when it holds none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterLevel {
    /// The counter's key.
    pub key: String,
    /// Events left before the limit; `0` when it is used up.
    pub remaining: u32,
    /// Until the counter takes one more event than `remaining`.
    pub reset: std::time::Duration,
}

/// One event counted by [`AbuseCounters::reserve`]: its counter's key, an id unique among that
/// counter's events, and the counter's level with this event counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountedEvent {
    /// The counter's key.
    pub key: String,
    /// The event's id, chosen by the implementation.
    pub id: i64,
    /// Events the counter can still take within the window after this one.
    pub remaining: u32,
    /// Until the oldest event the counter holds inside the window (this one, when it is the only
    /// one) leaves it.
    pub reset: std::time::Duration,
}

/// Events counted in advance, which the caller may give back with [`AbuseCounters::give_back`]
/// (e.g. a login whose password turned out right). Kept, they stay counted until they leave the
/// window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reservation {
    /// One event per counter that has a limit, in the order of the counters asked for.
    pub events: Vec<CountedEvent>,
}

/// Why nothing was counted.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    /// A counter already holds its limit of events within the window; nothing was counted.
    #[error("limit used up; retry after {retry_after:?}")]
    LimitReached {
        /// The full counter's key; when several are full, the one with the longest wait.
        key: String,
        /// How long until the count could succeed: until the event that fills `key`'s limit
        /// leaves the window.
        retry_after: std::time::Duration,
        /// Every counter with a limit, in the order asked for, as the refusal found it: the full
        /// ones at `remaining` 0 with their wait as `reset`.
        levels: Vec<CounterLevel>,
    },
    /// Infrastructure failure ([`PortError::Unavailable`] when the store cannot be reached).
    #[error(transparent)]
    Port(#[from] PortError),
}

/// The longest window any counter is counted over (the daily caps on codes and invitations):
/// events older than it can be purged, and none younger.
pub const LONGEST_COUNTER_WINDOW: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Sliding-window counters of events that abuse limits count (failed logins, registrations,
/// sends), keyed by strings. Each method is one atomic step: concurrent callers, in one process
/// or in several sharing the store, cannot together count more events than a limit allows.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AbuseCounters: Send + Sync {
    /// In one atomic step: checks that none of `counters` already holds its limit of events within
    /// the last `window`, and counts one event under each counter that has a limit (`counters`
    /// name distinct keys). Each event comes with its counter's level as that same step left it
    /// ([`CountedEvent::remaining`], [`CountedEvent::reset`]), exact even while other callers
    /// count under the same counters.
    ///
    /// # Errors
    /// [`CountError::LimitReached`] when a counter is full (nothing is counted then), naming the
    /// counter and giving every counter's level as the same step read it;
    /// [`CountError::Port`] on infrastructure failure.
    async fn reserve(
        &self,
        counters: &[CounterLimit],
        window: std::time::Duration,
    ) -> Result<Reservation, CountError>;

    /// Takes back the events of a reservation, as if they had never been counted. Events already
    /// gone (out of the window and purged) are skipped.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; the events then stay counted.
    async fn give_back(&self, reservation: Reservation) -> Result<(), PortError>;

    /// Counts one event under `counter` unless it is full: [`AbuseCounters::reserve`] of one
    /// counter, kept. Returns the event counted, `None` when the counter has no limit.
    ///
    /// # Errors
    /// As [`AbuseCounters::reserve`].
    async fn hit(
        &self,
        counter: CounterLimit,
        window: std::time::Duration,
    ) -> Result<Option<CountedEvent>, CountError> {
        let reservation = self.reserve(std::slice::from_ref(&counter), window).await?;
        Ok(reservation.events.into_iter().next())
    }

    /// Counts as many of `wanted` events under `counter` as it can still take within the last
    /// `window`, in one atomic step: the reservation holds one event per event counted (fewer
    /// than `wanted`, or none, when the counter fills up). A counter without a limit counts
    /// nothing and takes them all, an empty reservation.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; nothing is counted then.
    async fn reserve_up_to(
        &self,
        counter: CounterLimit,
        wanted: u32,
        window: std::time::Duration,
    ) -> Result<Reservation, PortError> {
        let mut reservation = Reservation::default();
        if counter.limit == 0 {
            return Ok(reservation);
        }
        for _ in 0..wanted {
            match self.reserve(std::slice::from_ref(&counter), window).await {
                Ok(one) => reservation.events.extend(one.events),
                Err(CountError::LimitReached { .. }) => break,
                Err(CountError::Port(error)) => {
                    let _ = self.give_back(reservation).await;
                    return Err(error);
                }
            }
        }
        Ok(reservation)
    }
}

/// Random bytes for secrets (webhook signing secrets).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait SecretSource: Send + Sync {
    /// Fills `buf` with bytes from a cryptographically secure generator.
    fn fill(&self, buf: &mut [u8]);
}
