//! List reads from a streaming hot standby (`DATABASE_READ_URL`; docs/operations.md, "Read
//! replicas"), never staler than the request that asks. `DATABASE_READ_URL` names one standby: the
//! check and the read below must reach the same server.
//!
//! Authenticating a request reads the token on the primary; with a standby configured, that call
//! also notes the primary's WAL write position then ([`note_primary_position`]). A list or feed
//! read ([`Database::run_read`]) goes to the standby only when the standby has replayed past that
//! position, checked on the standby just before the read, whose snapshot is taken after the
//! check: so it sees every transaction committed before the request began, the caller's own
//! writes through any process included. A standby a little behind (the milliseconds its replay
//! trails a primary that is writing) is given up to [`CATCH_UP`] to get there, checked every
//! [`STEP`] without holding a connection in between. A standby that lags longer, is gone or fails
//! costs only speed: the read runs on the primary; a standby that [`MISSES`] reads in a row waited
//! for in vain is not waited for again for [`LAGGING`], and a failed one is left alone for
//! [`REST`].
//!
//! The position lives in a task-local that the binary opens around each request
//! ([`read_scope`]); outside one (background work, unauthenticated requests) reads use the
//! primary. A write of the request that commits changes forgets the position
//! ([`forget_position`]), so that the request's later reads go to the primary.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};
use domain::ports::PortError;

use super::connection::AnyConnection;
use super::errors::port_error;
use super::pool::Database;

/// How long a standby that failed a read is left alone before it is tried again.
pub(crate) const REST: Duration = Duration::from_secs(5);

/// How long a read waits for a standby that has not yet replayed as far as it must: a streaming
/// standby trails a primary that is writing by about the time its WAL takes to arrive and be
/// replayed (a few milliseconds on one network), so that without a wait most reads under a steady
/// stream of writes found it behind and went to the primary.
pub(crate) const CATCH_UP: Duration = Duration::from_millis(10);

/// Between two checks of a standby that is behind. The connection goes back to the pool between
/// them: a wait holds no connection.
const STEP: Duration = Duration::from_millis(2);

/// How long reads stop waiting for a standby after [`MISSES`] reads in a row did not see it catch
/// up within [`CATCH_UP`] (paused, or far behind): each checks once and goes to the primary, so
/// that a lagging standby costs a few waits a second, not one a read.
const LAGGING: Duration = Duration::from_secs(1);

/// Reads in a row that waited for the standby in vain before it counts as lagging: one slow check
/// (a busy moment of the standby's pool or of the machine) is not a lagging standby.
const MISSES: u32 = 3;

tokio::task_local! {
    static POSITION: RefCell<Option<String>>;
}

/// Runs `request` with a place for the primary's position its authentication notes, so that its
/// list and feed reads may use the standby (see the module documentation).
pub async fn read_scope<F: std::future::Future>(request: F) -> F::Output {
    POSITION.scope(RefCell::new(None), request).await
}

/// Notes the primary's WAL position as of this request's authentication.
pub(crate) fn note_primary_position(lsn: String) {
    let _ = POSITION.try_with(|position| *position.borrow_mut() = Some(lsn));
}

/// Forgets the noted position: the request wrote, and its later reads must see that (the
/// primary's). Called when a write commits changes (`Database::changes_committed`).
pub(crate) fn forget_position() {
    let _ = POSITION.try_with(|position| *position.borrow_mut() = None);
}

fn noted_position() -> Option<String> {
    POSITION
        .try_with(|position| position.borrow().clone())
        .ok()
        .flatten()
}

/// The standby's pool, and how reads treat it now ([`Pace`]).
pub(crate) struct Replica {
    pub(crate) db: Database,
    pace: Pace,
}

impl Replica {
    pub(crate) fn new(db: Database) -> Self {
        Self {
            db,
            pace: Pace::new(),
        }
    }
}

/// Whether reads skip the standby (resting after a failure), and how long they wait for it to
/// catch up (not at all while it is lagging).
struct Pace {
    /// Until when (milliseconds since `epoch`) reads skip the standby; 0: not resting.
    resting_until: AtomicU64,
    /// Until when (milliseconds since `epoch`) reads do not wait for the standby to catch up.
    lagging_until: AtomicU64,
    /// Reads in a row that waited in vain; a read the standby serves starts the count again.
    misses: AtomicU32,
    epoch: Instant,
}

impl Pace {
    fn new() -> Self {
        Self {
            resting_until: AtomicU64::new(0),
            lagging_until: AtomicU64::new(0),
            misses: AtomicU32::new(0),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn resting(&self) -> bool {
        self.now_ms() < self.resting_until.load(Ordering::Relaxed)
    }

    fn rest(&self) {
        self.resting_until
            .store(self.after(REST), Ordering::Relaxed);
    }

    /// How long a read may wait for the standby to catch up: [`CATCH_UP`], or nothing while it is
    /// lagging.
    fn catch_up(&self) -> Duration {
        if self.now_ms() < self.lagging_until.load(Ordering::Relaxed) {
            Duration::ZERO
        } else {
            CATCH_UP
        }
    }

    /// A read waited in vain: the [`MISSES`]th in a row makes the standby lagging.
    fn missed(&self) {
        if self.misses.fetch_add(1, Ordering::Relaxed) + 1 >= MISSES {
            self.misses.store(0, Ordering::Relaxed);
            self.lagging_until
                .store(self.after(LAGGING), Ordering::Relaxed);
        }
    }

    /// The standby served a read: the misses start again.
    fn served(&self) {
        if self.misses.load(Ordering::Relaxed) != 0 {
            self.misses.store(0, Ordering::Relaxed);
        }
    }

    fn after(&self, wait: Duration) -> u64 {
        self.now_ms()
            .saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
    }
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Text)]
    lsn: String,
}

#[derive(QueryableByName)]
struct Replayed {
    #[diesel(sql_type = Bool)]
    replayed: bool,
}

/// The primary's WAL write position, read on `conn` (the primary's). A transaction whose commit
/// returned is written up to there (`synchronous_commit` on, PostgreSQL's default and the
/// service's: its commit record is flushed before the commit returns). The insert position would
/// also count records not yet written, which the standby cannot have yet (seen: a quiet primary's
/// insert position ahead of its write position for up to `wal_writer_delay`, so that most reads
/// found the standby behind).
pub(crate) fn primary_position(conn: &mut AnyConnection) -> Result<String, PortError> {
    diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn")
        .get_result::<Position>(conn)
        .map(|p| p.lsn)
        .map_err(port_error)
}

/// Whether the standby behind `conn` has replayed up to `lsn`.
fn replayed(conn: &mut AnyConnection, lsn: &str) -> Result<bool, PortError> {
    diesel::sql_query("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS replayed")
        .bind::<Text, _>(lsn)
        .get_result::<Replayed>(conn)
        .map(|r| r.replayed)
        .map_err(port_error)
}

impl Database {
    /// Whether authentication should note the primary's position (a standby is configured).
    pub(crate) fn reads_from_standby(&self) -> bool {
        self.replica.is_some()
    }

    /// Runs a list read `op` on the standby when it has replayed everything committed before
    /// this request began (waiting up to [`CATCH_UP`] for it), else on the primary (see the module
    /// documentation). `op` may run more than once (on the standby, then on the primary), so it is
    /// `Clone`.
    pub(crate) async fn run_read<T, E>(
        &self,
        op: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Clone + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PortError> + Send + 'static,
    {
        let (Some(replica), Some(lsn)) = (&self.replica, noted_position()) else {
            return self.run(op).await;
        };
        if replica.pace.resting() {
            metrics::counter!("db_standby_reads_total", "outcome" => "resting").increment(1);
            return self.run(op).await;
        }
        let started = Instant::now();
        let deadline = started + replica.pace.catch_up();
        loop {
            let checked = Instant::now();
            let (on_standby, lsn) = (op.clone(), lsn.clone());
            let tried: Result<Option<T>, StandbyFailed<E>> = replica
                .db
                .run(move |conn| match replayed(conn, &lsn) {
                    Ok(true) => on_standby(conn).map(Some).map_err(StandbyFailed::Op),
                    Ok(false) => Ok(None),
                    Err(error) => Err(StandbyFailed::Port(error)),
                })
                .await;
            match tried {
                Ok(Some(value)) => {
                    metrics::counter!("db_standby_reads_total", "outcome" => "served").increment(1);
                    replica.pace.served();
                    // How long the read waited for the standby to catch up (0: it had).
                    metrics::histogram!("db_standby_catch_up_seconds")
                        .record(checked.duration_since(started).as_secs_f64());
                    return Ok(value);
                }
                Ok(None) if Instant::now() + STEP <= deadline => {
                    tokio::time::sleep(STEP).await;
                }
                Ok(None) => {
                    metrics::counter!("db_standby_reads_total", "outcome" => "behind").increment(1);
                    if deadline > started {
                        replica.pace.missed();
                    }
                    return self.run(op).await;
                }
                Err(failed) => {
                    metrics::counter!("db_standby_reads_total", "outcome" => "failed").increment(1);
                    tracing::warn!(error = %failed, "the standby failed a read; reading from the primary");
                    replica.pace.rest();
                    return self.run(op).await;
                }
            }
        }
    }
}

/// Why a read on the standby did not answer: the standby (unreachable, cancelled by a recovery
/// conflict, ...) or the read itself; either way the primary answers instead.
enum StandbyFailed<E> {
    Port(PortError),
    Op(E),
}

impl<E> From<PortError> for StandbyFailed<E> {
    fn from(error: PortError) -> Self {
        Self::Port(error)
    }
}

impl<E> std::fmt::Display for StandbyFailed<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Port(error) => write!(f, "{error}"),
            Self::Op(_) => f.write_str("the read failed on the standby"),
        }
    }
}

/// Keeps the standby's pool alive with the primary's.
pub(crate) type SharedReplica = Arc<Replica>;

#[cfg(test)]
mod tests {
    use super::{Pace, CATCH_UP, MISSES};
    use std::time::Duration;

    #[test]
    fn a_standby_is_waited_for_until_reads_miss_it_several_times_in_a_row() {
        let pace = Pace::new();
        for _ in 1..MISSES {
            pace.missed();
            assert_eq!(
                pace.catch_up(),
                CATCH_UP,
                "one slow check is not a lagging standby"
            );
        }
        pace.missed();
        assert_eq!(pace.catch_up(), Duration::ZERO);
        assert!(
            !pace.resting(),
            "a lagging standby still serves the reads it has caught up for"
        );
    }

    #[test]
    fn a_read_the_standby_serves_starts_the_misses_again() {
        let pace = Pace::new();
        for _ in 0..3 {
            for _ in 1..MISSES {
                pace.missed();
            }
            pace.served();
        }
        assert_eq!(pace.catch_up(), CATCH_UP);
    }

    #[test]
    fn a_standby_that_failed_rests() {
        let pace = Pace::new();
        assert!(!pace.resting());
        pace.rest();
        assert!(pace.resting());
        assert_eq!(pace.catch_up(), CATCH_UP);
    }
}
