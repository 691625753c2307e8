//! The abuse limits' counters in PostgreSQL ([`AbuseCounters`]), shared by every process on the
//! database: one row of `abuse_events` per counted event, stamped by the database's clock.
//!
//! A reservation is one transaction: it takes a transaction-scoped advisory lock per counter, in
//! ascending lock order (two reservations sharing counters queue instead of deadlocking), then for
//! each counter looks for the `limit`-th newest event inside the window. If one exists the counter
//! is full: nothing is written and the wait is that event's time + window − now. Otherwise it
//! inserts one row per counter and returns their ids, which giving back deletes. Under the locks,
//! no other reservation can count under the same counters between the check and the insert, in
//! any process.
//!
//! SQLite has no such table: there the counters live in the process (see
//! `http_actix::rate_limit::InProcessCounters`), and these methods fail as unexpected.

use std::time::Duration;

use async_trait::async_trait;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Double, Integer, Text};
use domain::ports::{
    AbuseCounters, CountError, CountedEvent, CounterLimit, PortError, Reservation,
};
use sha2::{Digest, Sha256};

use crate::db::{port_error, write_transaction, AnyConnection, Backend, Database};

/// The first key of the two-key advisory locks taken on counters (`"Abus"`), so that they share
/// no lock with the one-key migration lock or another application's locks.
const LOCK_NAMESPACE: i32 = 0x4162_7573;

/// The wait before a full counter takes one more event, in seconds.
#[derive(QueryableByName)]
struct Wait {
    #[diesel(sql_type = Double)]
    seconds: f64,
}

/// A row `RETURNING id, key`.
#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    key: String,
}

/// What a reservation came to.
enum Outcome {
    Counted(Vec<CountedEvent>),
    Full(Duration),
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
        let window = window.as_secs_f64();
        let outcome = self
            .run(move |conn| {
                write_transaction(conn, |conn| reserve(postgres(conn)?, &counted, window))
                    .map_err(port_error)
            })
            .await?;
        match outcome {
            Outcome::Counted(events) => Ok(Reservation { events }),
            Outcome::Full(retry_after) => Err(CountError::LimitReached { retry_after }),
        }
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
fn reserve(pg: &mut PgConnection, counted: &[(String, i32)], window: f64) -> QueryResult<Outcome> {
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
    // For each counter, the event that fills its limit (the limit-th newest inside the window);
    // the latest of them decides the wait. One reading of the clock for the whole statement.
    let wait: Option<Wait> = diesel::sql_query(
        "WITH clock AS (SELECT clock_timestamp() AS now) \
         SELECT CAST(EXTRACT(EPOCH FROM \
                    MAX(filled.at) + make_interval(secs => $3) - clock.now) AS DOUBLE PRECISION) \
                AS seconds \
         FROM clock \
         CROSS JOIN unnest($1::text[], $2::int4[]) AS counter (key, max_events) \
         CROSS JOIN LATERAL ( \
             SELECT event.at FROM abuse_events AS event \
             WHERE event.key = counter.key \
               AND event.at > clock.now - make_interval(secs => $3) \
             ORDER BY event.at DESC OFFSET counter.max_events - 1 LIMIT 1) AS filled \
         GROUP BY clock.now",
    )
    .bind::<Array<Text>, _>(&keys)
    .bind::<Array<Integer>, _>(&limits)
    .bind::<Double, _>(window)
    .get_result(pg)
    .optional()?;
    if let Some(wait) = wait {
        return Ok(Outcome::Full(Duration::from_secs_f64(
            wait.seconds.max(0.0),
        )));
    }
    let rows: Vec<Counted> = diesel::sql_query(
        "INSERT INTO abuse_events (key) SELECT unnest($1::text[]) RETURNING id, key",
    )
    .bind::<Array<Text>, _>(&keys)
    .load(pg)?;
    Ok(Outcome::Counted(
        rows.into_iter()
            .map(|row| CountedEvent {
                key: row.key,
                id: row.id,
            })
            .collect(),
    ))
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
