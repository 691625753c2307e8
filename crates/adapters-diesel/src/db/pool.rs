//! [`Database`]: the pool, and how queries get a connection from it.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use diesel::r2d2::Pool;
use domain::ports::PortError;

use super::config::{session_setup, sqlite_path, with_libpq_timeouts, Backend, DatabaseConfig};
use super::connection::AnyConnection;
use super::errors::DatabaseError;
use super::manager::{Manager, Setup};

/// The adapter: a pool of connections to PostgreSQL or SQLite, implementing the repository ports.
#[derive(Clone)]
pub struct Database {
    pub(super) pool: Pool<Manager>,
    backend: Backend,
    statements: Arc<AtomicU64>,
    /// What each new connection runs first (the bounds on its waits), run again after migrating.
    pub(super) session: String,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
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

    /// Opens a pool without migrating. A SQLite file's directory is created if missing.
    ///
    /// # Errors
    /// [`DatabaseError::Connect`] when no connection can be opened within the timeout,
    /// [`DatabaseError::CreateDir`] when the SQLite file's directory cannot be created.
    pub fn connect(config: &DatabaseConfig) -> Result<Self, DatabaseError> {
        let backend = config.backend();
        let url = match backend {
            Backend::Postgres => with_libpq_timeouts(&config.url),
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
                path.to_owned()
            }
        };
        let statements = Arc::new(AtomicU64::new(0));
        let session = session_setup(config);
        let pool = Pool::builder()
            .max_size(config.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(config.connection_timeout)
            .test_on_check_out(true)
            .connection_customizer(Box::new(Setup {
                statements: statements.clone(),
                session: session.clone(),
            }))
            .build(Manager { backend, url })
            .map_err(DatabaseError::Connect)?;
        Ok(Self {
            pool,
            backend,
            statements,
            session,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many statements this pool's connections have sent so far (including transaction
    /// control), for tests and diagnostics.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Runs `op` with a pooled connection on tokio's blocking pool, inside the caller's span. No
    /// connection within the pool's timeout is [`PortError::Unavailable`].
    pub(crate) async fn run<T, E>(
        &self,
        op: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PortError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut pooled = pool
                .get()
                .map_err(|e| E::from(PortError::Unavailable(Box::new(e))))?;
            op(&mut pooled.conn)
        })
        .await
        .map_err(|join| E::from(PortError::unexpected(join)))?
    }
}
