//! Schema migrations: one embedded directory per backend, serialized across processes on
//! PostgreSQL.

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::config::Backend;
use super::connection::AnyConnection;
use super::errors::DatabaseError;
use super::pool::Database;

pub(crate) const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// An arbitrary constant key for `pg_advisory_lock`: it serializes migrations run by several
/// processes starting at once against one PostgreSQL database.
const MIGRATION_LOCK_KEY: i64 = 0x4576_656e_744d_6772;

impl Database {
    /// Applies pending migrations. On PostgreSQL an advisory lock serializes concurrent callers,
    /// and the connection's statement and lock timeouts are lifted meanwhile (a migration may
    /// rewrite a large table, and waiting for another process's migration is expected), then put
    /// back.
    ///
    /// # Errors
    /// [`DatabaseError`] when a connection cannot be had, the lock cannot be taken or released, or
    /// a migration fails.
    pub fn migrate(&self) -> Result<(), DatabaseError> {
        let mut pooled = self.pool.get().map_err(DatabaseError::Connect)?;
        let conn = &mut pooled.conn;
        match self.backend() {
            Backend::Postgres => {
                session(conn, "SET statement_timeout = 0; SET lock_timeout = 0;")?;
                advisory_lock(conn, "pg_advisory_lock")?;
                let migrated = run(conn, PG_MIGRATIONS);
                let unlocked = advisory_lock(conn, "pg_advisory_unlock");
                let restored = session(conn, &self.session);
                migrated.and(unlocked).and(restored)
            }
            Backend::Sqlite => run(conn, SQLITE_MIGRATIONS),
        }
    }
}

fn run(conn: &mut AnyConnection, migrations: EmbeddedMigrations) -> Result<(), DatabaseError> {
    conn.run_pending_migrations(migrations)
        .map(drop)
        .map_err(DatabaseError::Migrate)
}

/// Changes session settings of the migrating connection.
fn session(conn: &mut AnyConnection, sql: &str) -> Result<(), DatabaseError> {
    conn.batch_execute(sql)
        .map_err(DatabaseError::MigrationSettings)
}

/// Calls `pg_advisory_lock` or `pg_advisory_unlock` with [`MIGRATION_LOCK_KEY`].
fn advisory_lock(conn: &mut AnyConnection, function: &str) -> Result<(), DatabaseError> {
    diesel::sql_query(format!("SELECT {function}({MIGRATION_LOCK_KEY})"))
        .execute(conn)
        .map(drop)
        .map_err(DatabaseError::MigrationLock)
}
