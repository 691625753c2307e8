//! One connection type for both backends, so that query code is written once.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
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

/// Runs `body` in a write transaction: a plain one on PostgreSQL, `BEGIN IMMEDIATE` on SQLite
/// (a deferred read-then-write transaction fails with SQLITE_BUSY without waiting for the lock).
/// The SQLite branch is diesel's `SqliteConnection::immediate_transaction`, with `body` given the
/// two-backend connection.
pub(crate) fn write_transaction<T>(
    conn: &mut AnyConnection,
    body: impl FnOnce(&mut AnyConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    let AnyConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(body);
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
