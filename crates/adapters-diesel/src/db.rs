//! Connections, pools, migrations and error mapping.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use domain::ports::{HealthCheck, PortError};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// An arbitrary constant key for `pg_advisory_lock`: it serializes migrations run by several
/// processes starting at once against one PostgreSQL database.
const MIGRATION_LOCK_KEY: i64 = 0x4576_656e_744d_6772;

/// Which database the URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// A file path, `sqlite://path` or `file:path`.
    Sqlite,
}

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    /// `postgres://…`, or a SQLite file path (optionally `sqlite://` prefixed).
    pub url: String,
    /// Most pooled connections.
    pub pool_size: u32,
    /// How long a request waits for a pooled connection (or a new one) before `Unavailable`.
    pub connection_timeout: Duration,
}

impl DatabaseConfig {
    /// A config with the defaults for pool size (10) and timeout (3 s).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 10,
            connection_timeout: Duration::from_secs(3),
        }
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        if self.url.starts_with("postgres://") || self.url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Why the database could not be opened or migrated at start.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The pool could not open a first connection.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] r2d2::Error),
    /// The SQLite file's directory could not be created.
    #[error("cannot create the directory of the SQLite file {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A migration failed.
    #[error("cannot run migrations: {0}")]
    Migrate(String),
}

#[derive(Clone)]
enum Pools {
    Pg(Pool<Manager<PgConnection>>),
    Sqlite(Pool<Manager<SqliteConnection>>),
}

/// A pooled connection of either backend, handed to query code.
pub(crate) enum Conn<'a> {
    Pg(&'a mut PgConnection),
    Sqlite(&'a mut SqliteConnection),
}

/// Expands `$body` once per backend with `$c` bound to the concrete connection.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Pg($c) => $body,
            $crate::db::Conn::Sqlite($c) => $body,
        }
    };
}

/// Runs `$body` in a write transaction: a plain one on PostgreSQL, `BEGIN IMMEDIATE` on SQLite
/// (a deferred read-then-write transaction fails with SQLITE_BUSY without waiting for the lock).
macro_rules! write_transaction {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Pg(conn) => diesel::Connection::transaction(conn, |$c| $body),
            $crate::db::Conn::Sqlite(conn) => conn.immediate_transaction(|$c| $body),
        }
    };
}

/// The adapter: a pool of connections to PostgreSQL or SQLite, implementing the repository ports.
#[derive(Clone)]
pub struct Database {
    pools: Pools,
    statements: Arc<AtomicU64>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Counts every statement sent on a connection (including `BEGIN`/`COMMIT`).
struct StatementCounter(Arc<AtomicU64>);

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Debug)]
struct SqliteSetup(Arc<AtomicU64>);

impl CustomizeConnection<Pooled<SqliteConnection>, diesel::r2d2::Error> for SqliteSetup {
    fn on_acquire(&self, pooled: &mut Pooled<SqliteConnection>) -> Result<(), diesel::r2d2::Error> {
        let conn = &mut pooled.conn;
        // WAL lets readers run beside the writer; busy_timeout makes writers wait for the lock
        // instead of failing; NORMAL is durable enough with WAL and much faster than FULL.
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(diesel::r2d2::Error::QueryError)?;
        conn.set_instrumentation(StatementCounter(self.0.clone()));
        Ok(())
    }
}

#[derive(Debug)]
struct PgSetup(Arc<AtomicU64>);

impl CustomizeConnection<Pooled<PgConnection>, diesel::r2d2::Error> for PgSetup {
    fn on_acquire(&self, pooled: &mut Pooled<PgConnection>) -> Result<(), diesel::r2d2::Error> {
        pooled
            .conn
            .set_instrumentation(StatementCounter(self.0.clone()));
        Ok(())
    }
}

/// How long after a successful use a pooled connection is handed out again without a ping.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection and when it last came back to the pool unbroken.
pub(crate) struct Pooled<C> {
    conn: C,
    healthy_at: Instant,
}

/// diesel's r2d2 manager, with the check-out test (`SELECT 1`) skipped for a connection that came
/// back unbroken less than [`TRUSTED_FOR`] ago. Under load that halves the statements of a read
/// request; a connection idle for longer (as all are after an outage) is still pinged, and one that
/// broke while in use is dropped when it comes back (`has_broken`).
struct Manager<C: R2D2Connection + 'static>(ConnectionManager<C>);

impl<C: R2D2Connection + 'static> r2d2::ManageConnection for Manager<C> {
    type Connection = Pooled<C>;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled<C>, Self::Error> {
        Ok(Pooled {
            conn: self.0.connect()?,
            healthy_at: Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled<C>) -> Result<(), Self::Error> {
        if pooled.healthy_at.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        self.0.is_valid(&mut pooled.conn)?;
        pooled.healthy_at = Instant::now();
        Ok(())
    }

    fn has_broken(&self, pooled: &mut Pooled<C>) -> bool {
        let broken = self.0.has_broken(&mut pooled.conn);
        if !broken {
            pooled.healthy_at = Instant::now();
        }
        broken
    }
}

impl std::fmt::Debug for StatementCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatementCounter")
    }
}

impl Database {
    /// Opens a pool (checking that one connection works) and runs pending migrations.
    ///
    /// # Errors
    /// [`DatabaseError`] when the database cannot be reached or migrated.
    pub fn open(config: &DatabaseConfig) -> Result<Self, DatabaseError> {
        let db = Self::connect(config)?;
        db.migrate()?;
        Ok(db)
    }

    /// Opens a pool without migrating.
    ///
    /// # Errors
    /// [`DatabaseError::Connect`] when no connection can be opened within the timeout.
    pub fn connect(config: &DatabaseConfig) -> Result<Self, DatabaseError> {
        let statements = Arc::new(AtomicU64::new(0));
        let pools = match config.backend() {
            Backend::Postgres => {
                let manager = Manager(ConnectionManager::new(with_libpq_timeouts(&config.url)));
                let pool = pool_builder(config)
                    .connection_customizer(Box::new(PgSetup(statements.clone())))
                    .build(manager)
                    .map_err(DatabaseError::Connect)?;
                Pools::Pg(pool)
            }
            Backend::Sqlite => {
                let path = sqlite_path(&config.url);
                if let Some(dir) = Path::new(path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir).map_err(|source| DatabaseError::CreateDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                let pool = pool_builder(config)
                    .connection_customizer(Box::new(SqliteSetup(statements.clone())))
                    .build(Manager(ConnectionManager::new(path)))
                    .map_err(DatabaseError::Connect)?;
                Pools::Sqlite(pool)
            }
        };
        Ok(Self { pools, statements })
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock serializes concurrent callers.
    ///
    /// # Errors
    /// [`DatabaseError`] when a connection cannot be had or a migration fails.
    pub fn migrate(&self) -> Result<(), DatabaseError> {
        let failed = |e: &dyn std::fmt::Display| DatabaseError::Migrate(e.to_string());
        match &self.pools {
            Pools::Pg(pool) => {
                let mut pooled = pool.get().map_err(DatabaseError::Connect)?;
                let conn = &mut pooled.conn;
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                    .execute(conn)
                    .map_err(|e| failed(&e))?;
                let result = conn
                    .run_pending_migrations(PG_MIGRATIONS)
                    .map(|_| ())
                    .map_err(|e| failed(&e));
                let unlock =
                    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                        .execute(conn)
                        .map_err(|e| failed(&e));
                result.and(unlock.map(|_| ()))
            }
            Pools::Sqlite(pool) => {
                let mut pooled = pool.get().map_err(DatabaseError::Connect)?;
                pooled
                    .conn
                    .run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|_| ())
                    .map_err(|e| failed(&e))
            }
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Pg(_) => Backend::Postgres,
            Pools::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// How many statements this pool's connections have sent so far (including transaction
    /// control), for tests and diagnostics.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Runs `op` with a pooled connection on tokio's blocking pool, inside the caller's span.
    pub(crate) async fn run<T, E>(
        &self,
        op: impl FnOnce(Conn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PortError> + Send + 'static,
    {
        let pools = self.pools.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let unavailable = |e: r2d2::Error| E::from(PortError::Unavailable(Box::new(e)));
            match &pools {
                Pools::Pg(pool) => op(Conn::Pg(&mut pool.get().map_err(unavailable)?.conn)),
                Pools::Sqlite(pool) => op(Conn::Sqlite(&mut pool.get().map_err(unavailable)?.conn)),
            }
        })
        .await
        .map_err(|join| E::from(PortError::unexpected(join)))?
    }
}

fn pool_builder<M: r2d2::ManageConnection>(config: &DatabaseConfig) -> r2d2::Builder<M> {
    Pool::builder()
        .max_size(config.pool_size.max(1))
        .min_idle(Some(1))
        .connection_timeout(config.connection_timeout)
        .test_on_check_out(true)
}

/// The file path of a SQLite URL.
fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Adds libpq settings that keep a dead or unreachable server from hanging a request: a connect
/// timeout, TCP keepalives and a user timeout, unless the URL sets them itself.
fn with_libpq_timeouts(url: &str) -> String {
    let mut url = url.to_owned();
    for (key, value) in [
        ("connect_timeout", "3"),
        ("keepalives", "1"),
        ("keepalives_idle", "10"),
        ("keepalives_interval", "5"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
    ] {
        if !url.contains(&format!("{key}=")) {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{key}={value}"));
        }
    }
    url
}

/// Maps a diesel error to the domain's port error: lost or refused connections and lock
/// time-outs are `Unavailable` (503, retry later); the rest is `Unexpected`.
pub(crate) fn port_error(error: DieselError) -> PortError {
    let unavailable = match &error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
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
            ]
            .iter()
            .any(|needle| message.contains(needle))
        }
        _ => false,
    };
    if unavailable {
        PortError::Unavailable(Box::new(error))
    } else {
        PortError::Unexpected(Box::new(error))
    }
}

/// The name of the unique constraint a diesel error reports, if it is a unique violation. SQLite
/// gives no constraint name, only "UNIQUE constraint failed: table.column", which is returned.
pub(crate) fn unique_violation(error: &DieselError) -> Option<String> {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            Some(info.constraint_name().unwrap_or(info.message()).to_owned())
        }
        _ => None,
    }
}

#[async_trait]
impl HealthCheck for Database {
    async fn check(&self) -> Result<(), PortError> {
        self.run(|conn| {
            on_backend!(conn, c => c.batch_execute("SELECT 1"))
                .map_err(|e| PortError::Unavailable(Box::new(e)))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(
            DatabaseConfig::new("postgres://u@h/db").backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseConfig::new("postgresql://u@h/db").backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseConfig::new("./data/app.sqlite3").backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseConfig::new("sqlite://data/app.sqlite3").backend(),
            Backend::Sqlite
        );
        assert_eq!(sqlite_path("sqlite://data/x.db"), "data/x.db");
    }

    #[test]
    fn libpq_timeouts_are_added_unless_set() {
        let url = with_libpq_timeouts("postgres://h/db?connect_timeout=9");
        assert!(url.contains("connect_timeout=9"));
        assert!(!url.contains("connect_timeout=3"));
        assert!(url.contains("&keepalives=1"));
        assert!(with_libpq_timeouts("postgres://h/db")
            .starts_with("postgres://h/db?connect_timeout=3&"));
    }
}
