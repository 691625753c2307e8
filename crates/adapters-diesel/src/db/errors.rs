//! Errors: why the database cannot be opened ([`DatabaseError`]), and diesel's errors mapped to the
//! domain's.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::ports::PortError;

/// Why the database could not be opened or migrated at start. Each message names the step; the
/// cause is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The pool could not open a first connection.
    #[error("cannot connect to the database")]
    Connect(#[source] r2d2::Error),
    /// A database thread (one per pooled connection) could not be started.
    #[error("cannot start a database thread")]
    Thread(#[source] std::io::Error),
    /// The SQLite file's directory could not be created.
    #[error("cannot create the directory of the SQLite file {path}")]
    CreateDir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The PostgreSQL advisory lock that serializes migrations could not be taken or released.
    #[error("cannot take or release the migration lock")]
    MigrationLock(#[source] DieselError),
    /// The migrations' transaction could not lift its statement and lock timeouts.
    #[error("cannot set the timeouts of the migrating connection")]
    MigrationSettings(#[source] DieselError),
    /// The migrations' transaction could not begin or commit.
    #[error("cannot begin or commit the migrations' transaction")]
    MigrationTransaction(#[from] DieselError),
    /// A migration failed.
    #[error("cannot run migrations")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A secret shared through the database (`Database::shared_secret`) could not be stored or
    /// read, or the stored value is unusable.
    #[error("cannot read or store the shared secret {name:?}")]
    SharedSecret {
        /// The secret's name.
        name: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Maps a diesel error to the domain's port error: lost or refused connections and waits cut
/// short by a bound are `Unavailable` (503, retry later); the rest is `Unexpected`.
///
/// diesel does not expose PostgreSQL's SQLSTATE beyond a few kinds, so the bounded waits are
/// recognized by the server's primary message (PostgreSQL's English messages, its default):
/// "canceling statement due to statement timeout" (57014 `query_canceled`), "… due to lock
/// timeout" (55P03 `lock_not_available`), "terminating connection due to idle-in-transaction
/// timeout" (25P03), "deadlock detected" (40P01, once `write_transaction`'s retries are spent);
/// on SQLite, "database is locked" once `busy_timeout` has passed.
pub(crate) fn port_error(error: DieselError) -> PortError {
    if is_unavailable(&error) {
        PortError::Unavailable(Box::new(error))
    } else {
        PortError::Unexpected(Box::new(error))
    }
}

/// Whether `error` says "the database cannot answer now", as opposed to a bug or bad data.
fn is_unavailable(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            // Still losing races after `write_transaction`'s retries: busy, try again later.
            | DatabaseErrorKind::SerializationFailure,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            [
                "server closed the connection",
                "no connection to the server",
                "terminating connection",
                "could not connect",
                "Connection refused",
                "database is locked",
                "the database system is",
                "SSL connection has been closed",
                "canceling statement due to",
                "could not obtain lock",
                "deadlock detected",
            ]
            .iter()
            .any(|needle| message.contains(needle))
        }
        _ => false,
    }
}

/// A unique constraint, as each backend reports its violation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UniqueConstraint {
    /// The constraint's name in `migrations/postgres`, which PostgreSQL reports.
    pub(crate) postgres: &'static str,
    /// SQLite's whole message: it reports no constraint name, only the columns.
    pub(crate) sqlite: &'static str,
}

impl UniqueConstraint {
    /// Whether `error` is a violation of this constraint.
    pub(crate) fn violated_by(&self, error: &DieselError) -> bool {
        match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                match info.constraint_name() {
                    Some(name) => name == self.postgres,
                    None => info.message() == self.sqlite,
                }
            }
            _ => false,
        }
    }
}
