//! The abuse limits' counters in PostgreSQL ([`AbuseCounters`]), shared by every process on the
//! database: one row of `abuse_events` per counted event, stamped by the database's clock.
//!
//! A reservation is one transaction: it takes a transaction-scoped advisory lock per counter, in
//! ascending lock order (two reservations sharing counters queue instead of deadlocking), then
//! checks and counts in one statement. For each counter it reads the newest `limit` events inside
//! the window: how many there are and the oldest of them. A counter holding `limit` of them is
//! full, and its wait is that oldest event's time + window − now. If none is full the same
//! statement inserts one row per counter and returns their ids, which giving back deletes, with
//! each counter's level after the insert; otherwise it writes nothing and returns the levels it
//! read. Under the locks, no other reservation can count under the same counters between the check
//! and the insert, in any process, so the levels are exact.
//!
//! SQLite has no such table: there the counters live in the process (see
//! `http_actix::rate_limit::InProcessCounters`), and these methods fail as unexpected.

use std::time::Duration;

use async_trait::async_trait;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Double, Integer, Nullable, Text};
use domain::ports::{
    AbuseCounters, CountError, CountedEvent, CounterLevel, CounterLimit, PortError, Reservation,
};
use sha2::{Digest, Sha256};

use crate::db::{port_error, write_transaction, AnyConnection, Backend, Database};

/// The first key of the two-key advisory locks taken on counters (`"Abus"`), so that they share
/// no lock with the one-key migration lock or another application's locks.
const LOCK_NAMESPACE: i32 = 0x4162_7573;

/// One counter as the reservation's statement found it, before its own insert.
#[derive(QueryableByName)]
struct CounterRow {
    #[diesel(sql_type = Text)]
    key: String,
    /// The event inserted under it; `NULL` when a counter was full and nothing was inserted.
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    /// The events it could still take before the insert.
    #[diesel(sql_type = Integer)]
    remaining: i32,
    /// Seconds until the oldest of its newest `limit` events inside the window leaves it; `NULL`
    /// when it held none.
    #[diesel(sql_type = Nullable<Double>)]
    reset: Option<f64>,
}

/// What a reservation came to.
enum Outcome {
    Counted(Vec<CountedEvent>),
    Full {
        key: String,
        retry_after: Duration,
        levels: Vec<CounterLevel>,
    },
}

/// Why a counter method ran on SQLite.
#[derive(Debug, thiserror::Error)]
#[error("the abuse counters are kept in the database on PostgreSQL only")]
struct NotOnSqlite;

impl Database {
    /// Deletes up to `batch` counted events that are older than `window` by the database's
    /// clock, so no count over `window` (or a shorter one) can see them any more. Returns how
    /// many it deleted; call again while that is `batch`. One statement; rows another process is
    /// deleting at the same moment are skipped (`FOR UPDATE SKIP LOCKED`), so several processes
    /// may purge at once. Nothing to do on SQLite (`Ok(0)`).
    ///
    /// Without an index on `at` alone the statement scans the table, which holds about a window's
    /// worth of events when purged every window.
    ///
    /// # Errors
    /// [`PortError`] when the database fails; earlier batches stay deleted.
    #[tracing::instrument(skip_all)]
    pub async fn purge_abuse_events(&self, window: Duration, batch: i64) -> Result<u64, PortError> {
        if self.backend() == Backend::Sqlite {
            return Ok(0);
        }
        let window = window.as_secs_f64();
        let batch = batch.max(1);
        self.run(move |conn| {
            postgres(conn)
                .and_then(|pg| {
                    diesel::sql_query(
                        "DELETE FROM abuse_events WHERE id IN ( \
                             SELECT id FROM abuse_events \
                             WHERE at < clock_timestamp() - make_interval(secs => $1) \
                             LIMIT $2 FOR UPDATE SKIP LOCKED)",
                    )
                    .bind::<Double, _>(window)
                    .bind::<BigInt, _>(batch)
                    .execute(pg)
                })
                .map(|deleted| deleted as u64)
                .map_err(port_error)
        })
        .await
    }
}

#[async_trait]
impl AbuseCounters for Database {
    #[tracing::instrument(skip_all, fields(counters = counters.len()))]
    async fn reserve(
        &self,
        counters: &[CounterLimit],
        window: Duration,
    ) -> Result<Reservation, CountError> {
        let counted: Vec<(String, i32)> = counters
            .iter()
            .filter(|counter| counter.limit > 0)
            .map(|counter| {
                let limit = i32::try_from(counter.limit).unwrap_or(i32::MAX);
                (counter.key.clone(), limit)
            })
            .collect();
        if counted.is_empty() {
            return Ok(Reservation::default());
        }
        let outcome = self
            .run(move |conn| {
                write_transaction(conn, |conn| reserve(postgres(conn)?, &counted, window))
                    .map_err(port_error)
            })
            .await?;
        match outcome {
            Outcome::Counted(events) => Ok(Reservation { events }),
            Outcome::Full {
                key,
                retry_after,
                levels,
            } => Err(CountError::LimitReached {
                key,
                retry_after,
                levels,
            }),
        }
    }

    #[tracing::instrument(skip_all, fields(wanted))]
    async fn reserve_up_to(
        &self,
        counter: CounterLimit,
        wanted: u32,
        window: Duration,
    ) -> Result<Reservation, PortError> {
        if counter.limit == 0 || wanted == 0 {
            return Ok(Reservation::default());
        }
        let limit = i32::try_from(counter.limit).unwrap_or(i32::MAX);
        let wanted = i32::try_from(wanted).unwrap_or(i32::MAX);
        let key = counter.key;
        let events = self
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    reserve_up_to(postgres(conn)?, &key, limit, wanted, window)
                })
                .map_err(port_error)
            })
            .await?;
        Ok(Reservation { events })
    }

    #[tracing::instrument(skip_all, fields(events = reservation.events.len()))]
    async fn give_back(&self, reservation: Reservation) -> Result<(), PortError> {
        let ids: Vec<i64> = reservation.events.iter().map(|event| event.id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        self.run(move |conn| {
            postgres(conn)
                .and_then(|pg| {
                    diesel::sql_query("DELETE FROM abuse_events WHERE id = ANY($1)")
                        .bind::<Array<BigInt>, _>(&ids)
                        .execute(pg)
                })
                .map(drop)
                .map_err(port_error)
        })
        .await
    }
}

/// The transaction of [`AbuseCounters::reserve`] on `counted` (key, limit > 0) pairs.
fn reserve(
    pg: &mut PgConnection,
    counted: &[(String, i32)],
    window: Duration,
) -> QueryResult<Outcome> {
    let mut locks: Vec<i32> = counted.iter().map(|(key, _)| lock_of(key)).collect();
    locks.sort_unstable();
    locks.dedup();
    for lock in locks {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<Integer, _>(LOCK_NAMESPACE)
            .bind::<Integer, _>(lock)
            .execute(pg)?;
    }
    let keys: Vec<&str> = counted.iter().map(|(key, _)| key.as_str()).collect();
    let limits: Vec<i32> = counted.iter().map(|(_, limit)| *limit).collect();
    // After the locks, in a statement of its own: a statement sees what was committed when it
    // began, so one that waited for a lock inside itself would miss the events of the
    // reservation it waited for. One reading of the clock for the whole statement, which also
    // stamps the events it inserts; the newest `limit` events suffice to tell a counter's level.
    let rows: Vec<CounterRow> = diesel::sql_query(
        "WITH clock AS (SELECT clock_timestamp() AS now), \
         counter AS ( \
             SELECT counter.position, counter.key, counter.max_events, recent.inside, \
                    CAST(EXTRACT(EPOCH FROM \
                        recent.oldest + make_interval(secs => $3) - clock.now) AS DOUBLE PRECISION) \
                    AS reset \
             FROM clock \
             CROSS JOIN unnest($1::text[], $2::int4[]) \
                 WITH ORDINALITY AS counter (key, max_events, position) \
             CROSS JOIN LATERAL ( \
                 SELECT CAST(COUNT(*) AS INTEGER) AS inside, MIN(newest.at) AS oldest FROM ( \
                     SELECT event.at FROM abuse_events AS event \
                     WHERE event.key = counter.key \
                       AND event.at > clock.now - make_interval(secs => $3) \
                     ORDER BY event.at DESC LIMIT counter.max_events) AS newest) AS recent), \
         counted AS ( \
             INSERT INTO abuse_events (key, at) \
             SELECT counter.key, clock.now FROM counter CROSS JOIN clock \
             WHERE NOT EXISTS (SELECT FROM counter WHERE counter.inside >= counter.max_events) \
             ORDER BY counter.position \
             RETURNING id, key) \
         SELECT counter.key, counted.id, counter.max_events - counter.inside AS remaining, \
                counter.reset \
         FROM counter LEFT JOIN counted ON counted.key = counter.key \
         ORDER BY counter.position",
    )
    .bind::<Array<Text>, _>(&keys)
    .bind::<Array<Integer>, _>(&limits)
    .bind::<Double, _>(window.as_secs_f64())
    .load(pg)?;
    Ok(outcome(rows, window))
}

/// One row [`reserve_up_to`] inserted.
#[derive(QueryableByName)]
struct UpToRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    /// Events the counter can still take after this one.
    #[diesel(sql_type = Integer)]
    remaining: i32,
}

/// The transaction of [`AbuseCounters::reserve_up_to`]: under the counter's lock, one statement
/// counts the events inside the window (up to `limit`) and inserts as many of `wanted` as fit.
fn reserve_up_to(
    pg: &mut PgConnection,
    key: &str,
    limit: i32,
    wanted: i32,
    window: Duration,
) -> QueryResult<Vec<CountedEvent>> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind::<Integer, _>(LOCK_NAMESPACE)
        .bind::<Integer, _>(lock_of(key))
        .execute(pg)?;
    let rows: Vec<UpToRow> = diesel::sql_query(
        "WITH clock AS (SELECT clock_timestamp() AS now), \
         recent AS ( \
             SELECT CAST(COUNT(*) AS INTEGER) AS inside FROM ( \
                 SELECT 1 FROM abuse_events AS event, clock \
                 WHERE event.key = $1 AND event.at > clock.now - make_interval(secs => $4) \
                 LIMIT $2) AS newest), \
         counted AS ( \
             INSERT INTO abuse_events (key, at) \
             SELECT $1, clock.now FROM clock CROSS JOIN recent \
             CROSS JOIN generate_series(1, LEAST($3, $2 - recent.inside)) \
             RETURNING id) \
         SELECT counted.id, \
                CAST($2 - recent.inside - ROW_NUMBER() OVER (ORDER BY counted.id) AS INTEGER) \
                    AS remaining \
         FROM counted CROSS JOIN recent ORDER BY counted.id",
    )
    .bind::<Text, _>(key)
    .bind::<Integer, _>(limit)
    .bind::<Integer, _>(wanted)
    .bind::<Double, _>(window.as_secs_f64())
    .load(pg)?;
    Ok(rows
        .into_iter()
        .map(|row| CountedEvent {
            key: key.to_owned(),
            id: row.id,
            remaining: u32::try_from(row.remaining).unwrap_or(0),
            reset: window,
        })
        .collect())
}

/// The outcome of a reservation from its statement's rows: the events counted with each
/// counter's level after them, or the full counter with the longest wait and every level found.
fn outcome(rows: Vec<CounterRow>, window: Duration) -> Outcome {
    let seconds = |reset: f64| Duration::from_secs_f64(reset.clamp(0.0, window.as_secs_f64()));
    let remaining = |remaining: i32| u32::try_from(remaining).unwrap_or(0);
    let full = rows
        .iter()
        .filter(|row| row.remaining <= 0)
        .max_by(|a, b| a.reset.unwrap_or(0.0).total_cmp(&b.reset.unwrap_or(0.0)))
        .map(|row| row.key.clone());
    match full {
        None => Outcome::Counted(
            rows.into_iter()
                .filter_map(|row| {
                    Some(CountedEvent {
                        id: row.id?,
                        remaining: remaining(row.remaining - 1),
                        // With no event inside the window before, the new one is the oldest.
                        reset: row.reset.map_or(window, seconds),
                        key: row.key,
                    })
                })
                .collect(),
        ),
        Some(key) => {
            let levels: Vec<CounterLevel> = rows
                .into_iter()
                .map(|row| CounterLevel {
                    remaining: remaining(row.remaining),
                    reset: row.reset.map_or(window, seconds),
                    key: row.key,
                })
                .collect();
            let retry_after = levels
                .iter()
                .find(|level| level.key == key)
                .map_or(window, |level| level.reset);
            Outcome::Full {
                key,
                retry_after,
                levels,
            }
        }
    }
}

/// The advisory lock of a counter: 32 bits of the SHA-256 of its key. Two keys sharing a lock
/// only queue behind each other.
fn lock_of(key: &str) -> i32 {
    let digest = Sha256::digest(key.as_bytes());
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The PostgreSQL connection, or [`NotOnSqlite`].
fn postgres(conn: &mut AnyConnection) -> QueryResult<&mut PgConnection> {
    match conn {
        AnyConnection::Pg(pg) => Ok(pg),
        AnyConnection::Sqlite(_) => Err(DieselError::QueryBuilderError(Box::new(NotOnSqlite))),
    }
}
