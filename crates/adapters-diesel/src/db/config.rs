//! Where the database is and how many connections to keep: the URL, which backend it names, and
//! the libpq settings added to PostgreSQL URLs.

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
}

impl DatabaseConfig {
    /// The default for [`DatabaseConfig::pool_size`].
    pub const DEFAULT_POOL_SIZE: u32 = 10;
    /// The default for [`DatabaseConfig::connection_timeout`].
    pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

    /// A config with the default pool size and connection timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            connection_timeout: Self::DEFAULT_CONNECTION_TIMEOUT,
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
    fn libpq_timeouts_are_added_unless_set() {
        let url = with_libpq_timeouts("postgres://h/db?connect_timeout=9");
        assert!(url.contains("connect_timeout=9"));
        assert!(!url.contains("connect_timeout=3"));
        assert!(url.contains("&keepalives=1"));
        assert!(with_libpq_timeouts("postgres://h/db")
            .starts_with("postgres://h/db?connect_timeout=3&"));
    }
}
