//! Where the database is and how many connections to keep: the URL, which backend it names, the
//! libpq settings added to PostgreSQL URLs, and the bounds on every wait inside the database.

use std::time::Duration;

/// Which database the URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// Anything else: a file path, optionally prefixed `sqlite://` or `sqlite:`.
    Sqlite,
}

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    /// `postgres://…`, or a SQLite file path (optionally prefixed `sqlite://` or `sqlite:`).
    pub url: String,
    /// Most pooled connections.
    pub pool_size: u32,
    /// How long a request waits for a pooled connection (or a new one) before `Unavailable`.
    pub connection_timeout: Duration,
    /// PostgreSQL `statement_timeout`: the longest any one statement may run, lock waits included;
    /// past it the statement is cancelled (SQLSTATE 57014) and the request answers 503.
    pub statement_timeout: Duration,
    /// How long a statement waits for a lock held by another transaction: PostgreSQL
    /// `lock_timeout` (SQLSTATE 55P03 past it), SQLite `busy_timeout` ("database is locked" past
    /// it). Both are `Unavailable` (503).
    pub lock_timeout: Duration,
    /// PostgreSQL `idle_in_transaction_session_timeout`: a session left idle inside a transaction
    /// for longer is ended by the server, so a stuck client cannot hold locks forever.
    pub idle_in_transaction_timeout: Duration,
    /// Whether PostgreSQL connections keep diesel's cache of named prepared statements
    /// (`DATABASE_PREPARED_STATEMENTS`). Off behind a pooler in transaction mode (PgBouncer 1.18
    /// does not carry a named statement from one server connection to another): every statement
    /// is then sent unnamed, parsed where it runs.
    pub prepared_statements: bool,
    /// A direct connection for `LISTEN` (`DATABASE_LISTEN_URL`), when [`DatabaseConfig::url`]
    /// goes through a pooler in transaction mode, which does not deliver notifications; `None`:
    /// `url`.
    pub listen_url: Option<String>,
    /// One streaming hot standby for list reads (`DATABASE_READ_URL`; docs/operations.md, "Read
    /// replicas"); `None`: every read on [`DatabaseConfig::url`].
    pub read_url: Option<String>,
    /// How long a token's user, once looked up, is trusted without asking again
    /// (`TOKEN_CACHE_SECS`; docs/operations.md, "Token cache"): how long a token revoked, or a
    /// user changed, through another process may still be seen here. Zero: every request looks
    /// its token up.
    pub token_cache: Duration,
}

impl DatabaseConfig {
    /// The default for [`DatabaseConfig::pool_size`].
    pub const DEFAULT_POOL_SIZE: u32 = 10;
    /// The default for [`DatabaseConfig::connection_timeout`].
    pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);
    /// The default for [`DatabaseConfig::statement_timeout`].
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default for [`DatabaseConfig::lock_timeout`] (docs/operations.md: SQLite waits at most
    /// 3 s for the write lock).
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(3);
    /// The default for [`DatabaseConfig::idle_in_transaction_timeout`].
    pub const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(10);

    /// A config with the default pool size and timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            connection_timeout: Self::DEFAULT_CONNECTION_TIMEOUT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            lock_timeout: Self::DEFAULT_LOCK_TIMEOUT,
            idle_in_transaction_timeout: Self::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT,
            prepared_statements: true,
            listen_url: None,
            read_url: None,
            token_cache: Duration::ZERO,
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

/// The statements that set up each new connection's bounds (and, on SQLite, its pragmas).
pub(super) fn session_setup(config: &DatabaseConfig) -> String {
    // Whole milliseconds, at least 1: 0 would mean "no limit" to both databases.
    let ms = |d: Duration| d.as_millis().clamp(1, u128::from(u32::MAX));
    match config.backend() {
        Backend::Postgres => format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; \
             SET idle_in_transaction_session_timeout = {};",
            ms(config.statement_timeout),
            ms(config.lock_timeout),
            ms(config.idle_in_transaction_timeout),
        ),
        // WAL lets readers run beside the writer; busy_timeout makes writers wait for the lock
        // (boundedly) instead of failing at once; NORMAL is durable enough with WAL and much faster
        // than FULL.
        Backend::Sqlite => format!(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {}; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            ms(config.lock_timeout),
        ),
    }
}

/// The file path of a SQLite URL.
pub(crate) fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Adds libpq settings that keep a dead or unreachable server from hanging a request: a connect
/// timeout, TCP keepalives and a user timeout, unless the URL sets them itself.
pub(super) fn with_libpq_timeouts(url: &str) -> String {
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
        assert_eq!(sqlite_path("sqlite:data/x.db"), "data/x.db");
        assert_eq!(sqlite_path("data/x.db"), "data/x.db");
    }

    #[test]
    fn every_wait_is_bounded_on_each_new_connection() {
        let pg = session_setup(&DatabaseConfig::new("postgres://h/db"));
        assert!(pg.contains("SET statement_timeout = 5000;"), "{pg}");
        assert!(pg.contains("SET lock_timeout = 3000;"), "{pg}");
        assert!(
            pg.contains("SET idle_in_transaction_session_timeout = 10000;"),
            "{pg}"
        );
        let sqlite = session_setup(&DatabaseConfig::new("data/x.db"));
        assert!(sqlite.contains("PRAGMA busy_timeout = 3000;"), "{sqlite}");
        let mut zero = DatabaseConfig::new("data/x.db");
        zero.lock_timeout = Duration::ZERO;
        assert!(session_setup(&zero).contains("busy_timeout = 1;"));
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
