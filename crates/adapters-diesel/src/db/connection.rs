//! One connection type for both backends, so that query code is written once.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryResult};

/// A connection to either backend. Queries are written once against it (diesel's generated
/// `MultiBackend`); code matches on it only where diesel needs the concrete connection: `ON
/// CONFLICT` and SQLite's `INSERT OR IGNORE`, `BEGIN IMMEDIATE`, the pragmas, opening a connection
/// and the migration directories.
#[derive(diesel::MultiConnection)]
pub(crate) enum AnyConnection {
    /// PostgreSQL.
    Pg(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection inside `$conn` (`&mut PgConnection` or
/// `&mut SqliteConnection`): the body is written once and type-checked for each backend.
///
/// For the hottest reads only (the bearer token's user, the invitation lists): through the derived
/// `MultiBackend` a query's SQL is built again in every pass diesel makes over it (three per
/// execution) and every field of every row is decoded through one more layer of enums; on the
/// concrete connection the database side of a read of 50 invitations takes a quarter fewer
/// instructions (docs/performance.md, "Profile of a read request"). Everything else stays on
/// `AnyConnection`.
macro_rules! with_concrete {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Pg($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use with_concrete;

/// How many times a write transaction that lost a deadlock or a serialization check is run again.
const RETRIES: u32 = 3;

/// Runs `body` in a write transaction: a plain one on PostgreSQL, `BEGIN IMMEDIATE` on SQLite
/// (a deferred read-then-write transaction fails with SQLITE_BUSY without waiting for the lock).
/// The SQLite branch is diesel's `SqliteConnection::immediate_transaction`, with `body` given the
/// two-backend connection.
///
/// A transaction that PostgreSQL aborted as a deadlock victim (SQLSTATE 40P01) or a serialization
/// failure (40001) was rolled back whole, so it is run again, up to [`RETRIES`] times, after a
/// short random pause (5-25 ms times the attempt) that lets the other transaction finish. Past
/// that, the error stands (`Unavailable`, 503).
pub(crate) fn write_transaction<T>(
    conn: &mut AnyConnection,
    mut body: impl FnMut(&mut AnyConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    retrying(|| write_transaction_once(conn, &mut body))
}

/// Calls `attempt` until it succeeds, fails otherwise than by [`is_retryable`], or has been
/// retried [`RETRIES`] times.
fn retrying<T>(mut attempt: impl FnMut() -> QueryResult<T>) -> QueryResult<T> {
    let mut retries = 0;
    loop {
        match attempt() {
            Err(error) if retries < RETRIES && is_retryable(&error) => {
                retries += 1;
                tracing::info!(%error, retries, "write transaction lost a race, retrying");
                let pause = rand::Rng::gen_range(&mut rand::thread_rng(), 5..=25);
                std::thread::sleep(Duration::from_millis(pause * u64::from(retries)));
            }
            result => return result,
        }
    }
}

/// A deadlock victim (40P01, which diesel reports only by its message) or a serialization failure
/// (40001).
fn is_retryable(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

fn write_transaction_once<T>(
    conn: &mut AnyConnection,
    body: &mut impl FnMut(&mut AnyConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    let AnyConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(|c| body(c));
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    match body(conn) {
        Ok(value) => {
            AnyConnection::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            AnyConnection::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn failure(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn deadlocks_and_serialization_failures_are_retried_three_times() {
        for error in [
            || failure(DatabaseErrorKind::Unknown, "deadlock detected"),
            || {
                failure(
                    DatabaseErrorKind::SerializationFailure,
                    "could not serialize access due to concurrent update",
                )
            },
        ] {
            let calls = Cell::new(0);
            let result = retrying(|| {
                calls.set(calls.get() + 1);
                if calls.get() < 3 {
                    Err(error())
                } else {
                    Ok(calls.get())
                }
            });
            assert_eq!(result.unwrap(), 3);

            let calls = Cell::new(0);
            let result: QueryResult<()> = retrying(|| {
                calls.set(calls.get() + 1);
                Err(error())
            });
            assert!(result.is_err());
            assert_eq!(calls.get(), 4, "one attempt and three retries");
        }
    }

    #[test]
    fn other_errors_are_not_retried() {
        let calls = Cell::new(0);
        let result: QueryResult<()> = retrying(|| {
            calls.set(calls.get() + 1);
            Err(failure(DatabaseErrorKind::UniqueViolation, "duplicate key"))
        });
        assert!(result.is_err());
        assert_eq!(calls.get(), 1);
        calls.set(0);
        let _ = retrying::<()>(|| {
            calls.set(calls.get() + 1);
            Err(DieselError::RollbackTransaction)
        });
        assert_eq!(calls.get(), 1);
    }
}
