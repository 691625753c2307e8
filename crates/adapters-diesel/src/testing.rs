//! Test support: a database of its own for each test, removed when the guard drops.
//!
//! SQLite: a file in a fresh temporary directory. PostgreSQL: a new database on the server named
//! by `TEST_DATABASE_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`), dropped after.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use uuid::Uuid;

use crate::{Backend, Database, DatabaseConfig};

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// The PostgreSQL server for tests, if configured. In CI (`CI` set) a missing one is an error, so
/// that PostgreSQL tests fail rather than skip.
///
/// # Panics
/// When `CI` is set and `TEST_DATABASE_URL` is not.
pub fn postgres_server() -> Option<String> {
    match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but {TEST_DATABASE_URL} is not: PostgreSQL tests must run in CI")
        }
        _ => None,
    }
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    config: DatabaseConfig,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh SQLite file.
    ///
    /// # Panics
    /// When no temporary directory can be made.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("test.sqlite3");
        Self {
            config: DatabaseConfig::new(path.display().to_string()),
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh database on the server `TEST_DATABASE_URL` names, or `None` when it is not set
    /// (outside CI).
    ///
    /// # Panics
    /// When the server cannot be reached or the database cannot be created.
    pub fn postgres() -> Option<Self> {
        let server = postgres_server()?;
        let name = format!("em_test_{}", Uuid::now_v7().simple());
        let mut admin = PgConnection::establish(&server)
            .unwrap_or_else(|e| panic!("cannot connect to {TEST_DATABASE_URL}: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let url = database_url(&server, &name);
        Some(Self {
            config: DatabaseConfig::new(url),
            _dir: None,
            postgres: Some((server, name)),
        })
    }

    /// A fresh database of the given backend (`None` for PostgreSQL when not configured).
    pub fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres(),
        }
    }

    /// How to reach it.
    pub fn config(&self) -> &DatabaseConfig {
        &self.config
    }

    /// The URL, for a server process started by a test.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.config.backend()
    }

    /// Runs `sql` on a connection of its own and returns its one TEXT column, named `value`, from
    /// every row: for tests that look at what is stored, e.g.
    /// `SELECT password_hash AS value FROM users`. Cast other types: PostgreSQL ids are `uuid`
    /// and times `timestamptz` (`SELECT CAST(user_id AS TEXT) AS value ...`).
    ///
    /// # Panics
    /// When the query fails.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let rows: Vec<Row> = match self.backend() {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.config.url).expect("connect");
                diesel::sql_query(sql).load(&mut conn)
            }
            Backend::Sqlite => {
                let path = crate::db::sqlite_path(&self.config.url);
                let mut conn = diesel::SqliteConnection::establish(path).expect("connect");
                // Wait out the service's checkpoints and writes, as its own connections do,
                // instead of failing at once with "database is locked".
                diesel::connection::SimpleConnection::batch_execute(
                    &mut conn,
                    "PRAGMA busy_timeout = 5000",
                )
                .expect("busy_timeout");
                diesel::sql_query(sql).load(&mut conn)
            }
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|row| row.value).collect()
    }

    /// A connection of its own, outside any pool and without the pool's bounds: for tests that
    /// write rows directly or hold a lock (`BEGIN; SELECT … FOR UPDATE`, `BEGIN IMMEDIATE`) while
    /// the service works. Dropping it closes the connection, which rolls back an open transaction.
    ///
    /// # Panics
    /// When the database cannot be reached.
    pub fn session(&self) -> Session {
        match self.backend() {
            Backend::Postgres => {
                Session::Pg(PgConnection::establish(&self.config.url).expect("connect"))
            }
            Backend::Sqlite => Session::Sqlite(
                SqliteConnection::establish(crate::db::sqlite_path(&self.config.url))
                    .expect("connect"),
            ),
        }
    }

    /// A migrated pool on it. Call it twice for two independent pools (as two processes).
    ///
    /// # Panics
    /// When the database cannot be opened.
    pub fn open(&self) -> Database {
        Database::open(&self.config).expect("open test database")
    }
}

/// A test's own connection (see [`TestDatabase::session`]).
pub enum Session {
    /// On PostgreSQL.
    Pg(PgConnection),
    /// On SQLite.
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pg(_) => "Session::Pg",
            Self::Sqlite(_) => "Session::Sqlite",
        })
    }
}

impl Session {
    /// Runs one or more statements separated by `;`.
    ///
    /// # Errors
    /// The database's message when a statement fails.
    pub fn try_execute(&mut self, sql: &str) -> Result<(), String> {
        match self {
            Self::Pg(conn) => conn.batch_execute(sql),
            Self::Sqlite(conn) => conn.batch_execute(sql),
        }
        .map_err(|e| e.to_string())
    }

    /// Runs one or more statements separated by `;`.
    ///
    /// # Panics
    /// When a statement fails.
    pub fn execute(&mut self, sql: &str) {
        if let Err(e) = self.try_execute(sql) {
            panic!("{sql}: {e}");
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres {
            if let Ok(mut admin) = PgConnection::establish(server) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// The server URL with its database name replaced.
fn database_url(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            super::database_url("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            super::database_url("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
