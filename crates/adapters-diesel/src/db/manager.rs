//! How the pool opens, sets up and checks connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{CacheSize, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, Error, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use super::config::Backend;
use super::connection::AnyConnection;
use super::instrumentation::{StatementCounter, Statements};

/// How long after a successful use a pooled connection is handed out again without a ping.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection and when it last came back to the pool unbroken.
pub(super) struct Pooled {
    pub(super) conn: AnyConnection,
    healthy_at: Instant,
}

/// The r2d2 manager. It opens a connection of the backend the URL names, so that a failure is
/// reported as it is ("password authentication failed…"); the manager diesel derives for
/// [`AnyConnection`] tries each backend in turn and reports only "Invalid connection url for
/// multiconnection". And it skips the check-out test (`SELECT 1`) for a connection that came back
/// unbroken less than [`TRUSTED_FOR`] ago: under load that halves the statements of a read request;
/// a connection idle for longer (as all are after an outage) is still pinged, and one that broke
/// while in use is dropped when it comes back (`has_broken`).
pub(super) struct Manager {
    pub(super) backend: Backend,
    /// The URL as the backend's driver takes it: a file path for SQLite, a libpq URL with timeouts
    /// for PostgreSQL.
    pub(super) url: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = Error;

    fn connect(&self) -> Result<Pooled, Error> {
        let conn = match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url).map(AnyConnection::Pg),
            Backend::Sqlite => SqliteConnection::establish(&self.url).map(AnyConnection::Sqlite),
        };
        Ok(Pooled {
            conn: conn.map_err(Error::ConnectionError)?,
            healthy_at: Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Error> {
        if pooled.healthy_at.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        pooled.conn.ping().map_err(Error::QueryError)?;
        pooled.healthy_at = Instant::now();
        Ok(())
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        // As diesel's own manager: a connection used by a panicking thread may be mid-transaction.
        let broken = std::thread::panicking() || pooled.conn.is_broken();
        if !broken {
            pooled.healthy_at = Instant::now();
        }
        broken
    }
}

/// Sets up each new connection: the bounds on every wait (PostgreSQL `statement_timeout`,
/// `lock_timeout`, `idle_in_transaction_session_timeout`; SQLite `busy_timeout` and its other
/// pragmas, see `config::session_setup`), then statement counting.
#[derive(Debug)]
pub(super) struct Setup {
    pub(super) statements: Arc<Statements>,
    /// The statements run on each new connection, before counting starts.
    pub(super) session: String,
    /// Whether the connection keeps named prepared statements (`DATABASE_PREPARED_STATEMENTS`).
    pub(super) prepared_statements: bool,
}

impl CustomizeConnection<Pooled, Error> for Setup {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), Error> {
        if !self.prepared_statements {
            pooled
                .conn
                .set_prepared_statement_cache_size(CacheSize::Disabled);
        }
        // Behind a pooler in transaction mode these land on whichever server connection is
        // free: harmless (every process sets the same bounds), but not enough, so the pooler
        // sets them on each server connection too (docs/operations.md, "Behind a pooler").
        pooled
            .conn
            .batch_execute(&self.session)
            .map_err(Error::QueryError)?;
        pooled
            .conn
            .set_instrumentation(StatementCounter(self.statements.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use r2d2::ManageConnection;

    use super::*;

    #[test]
    fn a_failed_connection_reports_the_drivers_own_error() {
        let manager = Manager {
            backend: Backend::Postgres,
            url: "postgres://postgres@127.0.0.1:1/none?connect_timeout=1".into(),
        };
        let Err(error) = manager.connect() else {
            panic!("connected to port 1");
        };
        // libpq's message names the server; diesel's derived `establish` would say only "Invalid
        // connection url for multiconnection".
        let message = error.to_string();
        assert!(message.contains("127.0.0.1"), "{message}");
        assert!(!message.contains("Invalid connection url"), "{message}");
    }
}
