//! [`Database`]: the pool, and how queries get a connection from it.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::Pool;
use domain::ports::PortError;
use tokio::sync::{watch, Semaphore};

use super::config::{session_setup, sqlite_path, with_libpq_timeouts, Backend, DatabaseConfig};
use super::connection::AnyConnection;
use super::errors::DatabaseError;
use super::manager::{Manager, Setup};

/// The adapter: a pool of connections to PostgreSQL or SQLite, implementing the repository ports.
#[derive(Clone)]
pub struct Database {
    pub(super) pool: Pool<Manager>,
    /// Admission to the pool, one permit per connection: callers wait here, in arrival order and
    /// without holding a thread, rather than in r2d2's `get`, where a blocked thread each waits and
    /// a returned connection goes to whichever thread takes the lock first (docs/performance.md).
    admission: Arc<Semaphore>,
    /// The longest wait for a permit and then a connection (`DATABASE_TIMEOUT_SECS`).
    wait: Duration,
    backend: Backend,
    statements: Arc<AtomicU64>,
    /// What each new connection runs first (the bounds on its waits), run again after migrating.
    pub(super) session: String,
    /// Bumped when changes may have been committed: by this process's writes, and by
    /// [`crate::ChangeListener`] for other processes'. Each `ChangeFeed::watch` subscribes.
    commits: Arc<watch::Sender<u64>>,
    /// The URL connections are opened with, for the change listener's own connection.
    pub(crate) url: String,
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
        let size = config.pool_size.max(1);
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(config.connection_timeout)
            .test_on_check_out(true)
            .connection_customizer(Box::new(Setup {
                statements: statements.clone(),
                session: session.clone(),
            }))
            .build(Manager {
                backend,
                url: url.clone(),
            })
            .map_err(DatabaseError::Connect)?;
        Ok(Self {
            pool,
            admission: Arc::new(Semaphore::new(size as usize)),
            wait: config.connection_timeout,
            backend,
            statements,
            session,
            commits: Arc::new(watch::Sender::new(0)),
            url,
        })
    }

    /// The pool's open and idle connections now, for the metrics scrape.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// A new subscription to [`Database::changes_committed`], for `ChangeFeed::watch`.
    pub(crate) fn subscribe_commits(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// Says that changes may have just been committed. Every subscriber sees it, one that is busy
    /// reading at that moment included (a watch keeps the newest value until it is read).
    pub(crate) fn changes_committed(&self) {
        self.commits.send_modify(|n| *n = n.wrapping_add(1));
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

    /// Runs `op` with a pooled connection on tokio's blocking pool, inside the caller's span.
    ///
    /// The caller first waits for one of the pool's permits on the async side: tokio's semaphore
    /// serves waiters in arrival order, so under load requests get connections first come, first
    /// served, and a waiting request holds no blocking thread. No permit, then connection, within
    /// the pool's timeout (both waits together) is [`PortError::Unavailable`].
    pub(crate) async fn run<T, E>(
        &self,
        op: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PortError> + Send + 'static,
    {
        let started = std::time::Instant::now();
        let permit = tokio::time::timeout(self.wait, self.admission.clone().acquire_owned())
            .await
            .map_err(|elapsed| E::from(PortError::Unavailable(Box::new(elapsed))))?
            .map_err(|closed| E::from(PortError::unexpected(closed)))?;
        let pool = self.pool.clone();
        let left = self.wait.saturating_sub(started.elapsed());
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let _permit = permit;
            // Normally immediate: a permit means a connection is free, unless one is being
            // (re)opened or used outside `run` (migrations, the readiness probe).
            let pooled = pool.get_timeout(left.max(Duration::from_millis(1)));
            // The wait for a connection (permit, then pool) is where the tail shows under load
            // (docs/operations.md, "Metrics").
            metrics::histogram!("db_connection_wait_seconds")
                .record(started.elapsed().as_secs_f64());
            let mut pooled = pooled.map_err(|e| E::from(PortError::Unavailable(Box::new(e))))?;
            let called = std::time::Instant::now();
            let result = op(&mut pooled.conn);
            metrics::histogram!("db_call_duration_seconds").record(called.elapsed().as_secs_f64());
            result
        })
        .await
        .map_err(|join| E::from(PortError::unexpected(join)))?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A pool of one connection whose callers wait at most `wait` for it. The pool is opened
    /// with a generous timeout: opening it waits for its first connection, which a loaded CI
    /// machine may take longer than `wait` to make.
    fn one_connection(wait: Duration) -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DatabaseConfig::new(dir.path().join("db.sqlite3").display().to_string());
        config.pool_size = 1;
        config.connection_timeout = Duration::from_secs(30);
        let mut database = Database::open(&config).unwrap();
        database.wait = wait;
        (dir, database)
    }

    async fn hold(database: &Database, for_: Duration) {
        database
            .run(move |_| {
                std::thread::sleep(for_);
                Ok::<_, PortError>(())
            })
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiters_get_the_connection_in_arrival_order() {
        let (_dir, database) = one_connection(Duration::from_secs(5));
        let order = Arc::new(Mutex::new(Vec::new()));
        let holder = tokio::spawn({
            let database = database.clone();
            async move { hold(&database, Duration::from_millis(300)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut waiters = Vec::new();
        for i in 0..8 {
            let (database, order) = (database.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                database
                    .run(move |_| {
                        order.lock().unwrap().push(i);
                        std::thread::sleep(Duration::from_millis(5));
                        Ok::<_, PortError>(())
                    })
                    .await
                    .unwrap();
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        holder.await.unwrap();
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wait_for_a_connection_is_bounded() {
        let (_dir, database) = one_connection(Duration::from_millis(200));
        let holder = tokio::spawn({
            let database = database.clone();
            async move { hold(&database, Duration::from_millis(1500)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        let waited = database.run(|_| Ok::<_, PortError>(())).await;
        let took = started.elapsed();
        assert!(
            matches!(waited, Err(PortError::Unavailable(_))),
            "{waited:?}"
        );
        assert!(took < Duration::from_millis(700), "{took:?}");
        holder.await.unwrap();
    }
}

/// The figures behind docs/performance.md, "Admission to the pool": not a pass/fail test (timing
/// on a shared machine), run by hand with
/// `cargo test -p adapters-diesel --lib -- --ignored --nocapture admission_wait_figures`.
#[cfg(test)]
mod figures {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "prints figures; run by hand"]
    async fn admission_wait_figures() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DatabaseConfig::new(dir.path().join("db.sqlite3").display().to_string());
        config.pool_size = 2;
        config.connection_timeout = Duration::from_secs(10);
        let database = Database::open(&config).unwrap();
        // 32 clients, 30 requests each, 1 ms of work per request, 2 connections.
        let mut clients = Vec::new();
        for _ in 0..32 {
            let database = database.clone();
            clients.push(tokio::spawn(async move {
                let mut waits = Vec::new();
                for _ in 0..30 {
                    let asked = std::time::Instant::now();
                    let waited = database
                        .run(move |_| {
                            let waited = asked.elapsed();
                            std::thread::sleep(Duration::from_millis(1));
                            Ok::<_, PortError>(waited)
                        })
                        .await
                        .unwrap();
                    waits.push(waited);
                }
                waits
            }));
        }
        let mut waits = Vec::new();
        for client in clients {
            waits.extend(client.await.unwrap());
        }
        waits.sort();
        let at = |q: f64| waits[((waits.len() - 1) as f64 * q) as usize];
        eprintln!(
            "wait for a connection, 32 clients on 2 connections: p50 {:?}, p99 {:?}, max {:?}",
            at(0.5),
            at(0.99),
            waits[waits.len() - 1]
        );
    }
}
