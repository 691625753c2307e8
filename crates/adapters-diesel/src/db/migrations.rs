//! Schema migrations: one embedded directory per backend, serialized across processes on
//! PostgreSQL.

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::config::Backend;
use super::connection::AnyConnection;
use super::errors::DatabaseError;
use super::pool::Database;

pub(crate) const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// An arbitrary constant key for `pg_advisory_xact_lock`: it serializes migrations run by several
/// processes starting at once against one PostgreSQL database.
const MIGRATION_LOCK_KEY: i64 = 0x4576_656e_744d_6772;

impl Database {
    /// Applies pending migrations. On PostgreSQL they run in one transaction that first takes a
    /// transaction-scoped advisory lock, so that concurrent callers run one after the other, and
    /// lifts its statement and lock timeouts for itself alone (`SET LOCAL`: a migration may
    /// rewrite a large table, and waiting for another process's migration is expected). Nothing
    /// outlives the transaction, so this is safe behind a pooler in transaction mode.
    ///
    /// # Errors
    /// [`DatabaseError`] when a connection cannot be had, the lock cannot be taken or released, or
    /// a migration fails.
    pub fn migrate(&self) -> Result<(), DatabaseError> {
        let mut pooled = self.pool.get().map_err(DatabaseError::Connect)?;
        let conn = &mut pooled.conn;
        match self.backend() {
            // The timeouts first: waiting for another process's migrations is expected.
            Backend::Postgres => conn.transaction(|conn| {
                conn.batch_execute("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0;")
                    .map_err(DatabaseError::MigrationSettings)?;
                diesel::sql_query(format!(
                    "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                ))
                .execute(conn)
                .map_err(DatabaseError::MigrationLock)?;
                run(conn, PG_MIGRATIONS)
            }),
            Backend::Sqlite => run(conn, SQLITE_MIGRATIONS),
        }
    }
}

fn run(conn: &mut AnyConnection, migrations: EmbeddedMigrations) -> Result<(), DatabaseError> {
    conn.run_pending_migrations(migrations)
        .map(drop)
        .map_err(DatabaseError::Migrate)
}
