//! [`Database`]: the pool, and how queries get a connection from it.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use diesel::r2d2::Pool;
use domain::ports::PortError;
use tokio::sync::{oneshot, watch};

use super::config::{session_setup, sqlite_path, with_libpq_timeouts, Backend, DatabaseConfig};
use super::connection::AnyConnection;
use super::errors::DatabaseError;
use super::instrumentation::Statements;
use super::manager::{Manager, Setup};
use super::replica::{Replica, SharedReplica};
use crate::token_cache::TokenCache;

/// The adapter: a pool of connections to PostgreSQL or SQLite, implementing the repository ports.
#[derive(Clone)]
pub struct Database {
    pub(super) pool: Pool<Manager>,
    /// Admission to the pool: the calls queue here in arrival order, and one thread per pooled
    /// connection takes them from the front ([`Database::run`]; docs/performance.md, "Admission to
    /// the pool").
    queue: Arc<Queue>,
    /// Ends the database threads when the last clone of this `Database` goes.
    _threads: Arc<Threads>,
    /// The longest wait for a database thread and then a connection (`DATABASE_TIMEOUT_SECS`).
    wait: Duration,
    backend: Backend,
    statements: Arc<Statements>,
    /// Bumped when changes may have been committed: by this process's writes, and by
    /// [`crate::ChangeListener`] for other processes'. Each `ChangeFeed::watch` subscribes.
    commits: Arc<watch::Sender<u64>>,
    /// The URL the change listener's own connection is opened with: `DATABASE_LISTEN_URL`, else
    /// the pool's.
    pub(crate) listen_url: String,
    /// The streaming standby list and feed reads may use (`DATABASE_READ_URL`).
    pub(super) replica: Option<SharedReplica>,
    /// The tokens looked up lately (`TOKEN_CACHE_SECS`; off with a standby).
    pub(crate) token_cache: Arc<TokenCache>,
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
        let mut db = Self::pool(config, true)?;
        if let (Some(read_url), Backend::Postgres) = (&config.read_url, db.backend) {
            // A standby that is down when the process starts costs only speed: its pool opens
            // without a first connection, and reads go to the primary until it answers.
            // A short wait for a standby connection: a standby that is down costs each read
            // this much at most, once per rest (`replica::REST`).
            let standby = DatabaseConfig {
                url: read_url.clone(),
                read_url: None,
                listen_url: None,
                connection_timeout: config.connection_timeout.min(Duration::from_millis(500)),
                ..config.clone()
            };
            db.replica = Some(Arc::new(Replica::new(Self::pool(&standby, false)?)));
            // The token's look-up tells a request how far the primary is (`token_cache.rs`).
            db.token_cache = Arc::new(TokenCache::new(Duration::ZERO));
        }
        Ok(db)
    }

    /// A pool over `config.url`; `checked`: fail unless one connection opens within the timeout.
    fn pool(config: &DatabaseConfig, checked: bool) -> Result<Self, DatabaseError> {
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
        let statements = Arc::new(Statements::default());
        let session = session_setup(config);
        let size = config.pool_size.max(1);
        let builder = Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(config.connection_timeout)
            .test_on_check_out(true)
            .connection_customizer(Box::new(Setup {
                statements: statements.clone(),
                session,
                prepared_statements: config.prepared_statements,
            }));
        let manager = Manager {
            backend,
            url: url.clone(),
        };
        let pool = if checked {
            builder.build(manager).map_err(DatabaseError::Connect)?
        } else {
            builder.build_unchecked(manager)
        };
        let queue = Arc::new(Queue::default());
        let mut threads = Threads {
            queue: queue.clone(),
            handles: Vec::new(),
        };
        for n in 0..size {
            let (queue, pool) = (queue.clone(), pool.clone());
            let handle = std::thread::Builder::new()
                .name(format!("database-{n}"))
                .spawn(move || queue.serve(&pool))
                .map_err(DatabaseError::Thread)?;
            threads.handles.push(handle);
        }
        Ok(Self {
            pool,
            _threads: Arc::new(threads),
            queue,
            wait: config.connection_timeout,
            backend,
            statements,
            commits: Arc::new(watch::Sender::new(0)),
            listen_url: match (&config.listen_url, backend) {
                (Some(direct), Backend::Postgres) => with_libpq_timeouts(direct),
                _ => url,
            },
            replica: None,
            token_cache: Arc::new(TokenCache::new(config.token_cache)),
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
        // The request wrote: its later list reads must see that, so they use the primary.
        super::replica::forget_position();
        self.commits.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many statements this pool's connections have sent so far (including transaction
    /// control), for tests and diagnostics.
    pub fn statements_executed(&self) -> u64 {
        self.statements.count()
    }

    /// Starts keeping the SQL of every statement this pool's connections send (without the bind
    /// values; transaction control and pool pings included), for tests and diagnostics: the
    /// bench's pgbench scripts are checked against it (docs/performance.md, "Write ceilings").
    pub fn record_statements(&self) {
        self.statements.record();
    }

    /// Stops recording and returns the statements sent since [`Database::record_statements`], in
    /// the order they were sent.
    pub fn recorded_statements(&self) -> Vec<String> {
        self.statements.recorded()
    }

    /// Runs `op` with a pooled connection on one of the database threads, inside the caller's span.
    ///
    /// The call joins a FIFO queue that one thread per pooled connection serves: under load calls
    /// get connections first come, first served, a waiting call holds no thread, and a thread that
    /// finishes a call takes the next queued one at once, without going to sleep and being woken
    /// again (with `spawn_blocking` and a semaphore, every call woke a blocking thread and the pool
    /// grew to ~70 of them; docs/performance.md, "Profile of a read request"). A call that no
    /// thread started, and then got a connection for, within the pool's timeout (both waits
    /// together) is [`PortError::Unavailable`]; once started, it runs to its end.
    pub(crate) async fn run<T, E>(
        &self,
        op: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PortError> + Send + 'static,
    {
        let started = Instant::now();
        let (done, result) = oneshot::channel();
        let state = Arc::new(AtomicU8::new(QUEUED));
        let span = tracing::Span::current();
        let wait = self.wait;
        self.queue.push(Job {
            state: state.clone(),
            run: Box::new(move |pool: &Pool<Manager>| {
                let _entered = span.enter();
                // Normally immediate: one thread per connection, so a connection is free unless
                // one is being (re)opened or used outside `run` (migrations).
                let left = wait.saturating_sub(started.elapsed());
                let pooled = pool.get_timeout(left.max(Duration::from_millis(1)));
                // The wait for a connection (queue, then pool) is where the tail shows under load
                // (docs/operations.md, "Metrics").
                metrics::histogram!("db_connection_wait_seconds")
                    .record(started.elapsed().as_secs_f64());
                let outcome = match pooled {
                    Ok(mut pooled) => {
                        let called = Instant::now();
                        let outcome = op(&mut pooled.conn);
                        metrics::histogram!("db_call_duration_seconds")
                            .record(called.elapsed().as_secs_f64());
                        outcome
                    }
                    Err(e) => Err(E::from(PortError::Unavailable(Box::new(e)))),
                };
                // The caller may have gone (its request was dropped): nothing to tell then.
                let _ = done.send(outcome);
            }),
        });
        // A caller that goes away (its request dropped) before a thread took its call withdraws it,
        // as it used to leave the semaphore's queue: a call nobody waits for does not run.
        let _withdraw_if_dropped = Withdraw(state.clone());
        let mut result = result;
        tokio::select! {
            outcome = &mut result => return finished(outcome),
            () = tokio::time::sleep(wait) => {}
        }
        // Not started in time: withdraw the call, unless a thread took it meanwhile.
        if state
            .compare_exchange(QUEUED, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Err(E::from(PortError::Unavailable(Box::new(NoThreadInTime(
                wait,
            )))));
        }
        finished(result.await)
    }
}

/// What a database thread sent back, or why nothing came (its call panicked).
fn finished<T, E: From<PortError>>(
    outcome: Result<Result<T, E>, oneshot::error::RecvError>,
) -> Result<T, E> {
    outcome.unwrap_or_else(|_| {
        Err(E::from(PortError::unexpected(
            "a database call ended without an answer (it panicked)",
        )))
    })
}

/// A call waiting for a database thread.
const QUEUED: u8 = 0;
/// Taken by a database thread.
const STARTED: u8 = 1;
/// Given up by its caller before a thread took it.
const WITHDRAWN: u8 = 2;

/// Withdraws a call still queued when dropped.
struct Withdraw(Arc<AtomicU8>);

impl Drop for Withdraw {
    fn drop(&mut self) {
        let _ = self
            .0
            .compare_exchange(QUEUED, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// Why a call was not started: every database thread stayed busy for the whole wait.
#[derive(Debug, thiserror::Error)]
#[error("no database connection came free within {0:?}")]
struct NoThreadInTime(Duration);

/// A call for the database threads.
struct Job {
    /// [`QUEUED`], then [`STARTED`] by the thread that takes it or [`WITHDRAWN`] by its caller,
    /// whichever comes first.
    state: Arc<AtomicU8>,
    run: Call,
}

/// What a database thread runs for a call, given the pool.
type Call = Box<dyn FnOnce(&Pool<Manager>) + Send>;

/// The calls waiting for a database thread, oldest first.
#[derive(Default)]
struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
    closed: AtomicBool,
}

impl Queue {
    fn push(&self, job: Job) {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back(job);
        self.ready.notify_one();
    }

    /// A database thread: takes the oldest call, runs it, and so on until the `Database` goes.
    fn serve(&self, pool: &Pool<Manager>) {
        loop {
            let job = {
                let mut jobs = self
                    .jobs
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                loop {
                    if let Some(job) = jobs.pop_front() {
                        break job;
                    }
                    if self.closed.load(Ordering::Acquire) {
                        return;
                    }
                    jobs = self
                        .ready
                        .wait(jobs)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            };
            if job
                .state
                .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // A panicking call loses its answer (its caller sees an unexpected error), not
                // the thread.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| (job.run)(pool)));
            }
        }
    }
}

/// Owned by every clone of a `Database`: when the last one goes, the threads end (each after the
/// call it is running) and are waited for, so that the pool's connections are closed when the drop
/// returns, as they were when the pool was the only holder (a SQLite file is checkpointed on its
/// last close, and a test that opens the file again right after must not find it locked).
struct Threads {
    queue: Arc<Queue>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.queue.closed.store(true, Ordering::Release);
        // Taking the lock orders the flag before any thread's next look at the queue.
        drop(self.queue.jobs.lock());
        self.queue.ready.notify_all();
        let current = std::thread::current().id();
        for handle in self.handles.drain(..) {
            // A call that held the last clone of its `Database` drops it on its own thread, which
            // cannot wait for itself; it ends when the call returns.
            if handle.thread().id() != current {
                let _ = handle.join();
            }
        }
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_given_up_before_it_started_never_runs() {
        let (_dir, database) = one_connection(Duration::from_millis(100));
        let holder = tokio::spawn({
            let database = database.clone();
            async move { hold(&database, Duration::from_millis(600)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let waited = database
            .run({
                let ran = ran.clone();
                move |_| {
                    ran.store(true, Ordering::SeqCst);
                    Ok::<_, PortError>(())
                }
            })
            .await;
        assert!(
            matches!(waited, Err(PortError::Unavailable(_))),
            "{waited:?}"
        );
        holder.await.unwrap();
        // The thread is free now: a later call runs, the withdrawn one did not and will not.
        database.run(|_| Ok::<_, PortError>(())).await.unwrap();
        assert!(!ran.load(Ordering::SeqCst), "a withdrawn call ran");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_whose_caller_went_away_before_it_started_never_runs() {
        let (_dir, database) = one_connection(Duration::from_secs(5));
        let holder = tokio::spawn({
            let database = database.clone();
            async move { hold(&database, Duration::from_millis(400)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let call = database.run({
            let ran = ran.clone();
            move |_| {
                ran.store(true, Ordering::SeqCst);
                Ok::<_, PortError>(())
            }
        });
        // The request is dropped (its client left) while its call waits in the queue.
        let dropped = tokio::time::timeout(Duration::from_millis(100), call).await;
        assert!(dropped.is_err(), "the call could not have run yet");
        holder.await.unwrap();
        database.run(|_| Ok::<_, PortError>(())).await.unwrap();
        assert!(!ran.load(Ordering::SeqCst), "a call nobody waited for ran");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_call_fails_its_caller_and_not_the_thread() {
        let (_dir, database) = one_connection(Duration::from_secs(5));
        let failed = database
            .run(|_| -> Result<(), PortError> { panic!("a bug in a query") })
            .await;
        assert!(
            matches!(failed, Err(PortError::Unexpected(_))),
            "{failed:?}"
        );
        // The pool's only thread still serves.
        let answer = database.run(|_| Ok::<_, PortError>(42)).await.unwrap();
        assert_eq!(answer, 42);
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
