//! Test support: a database of its own for each test, removed when the guard drops.
//!
//! SQLite: a file in a fresh temporary directory. PostgreSQL: a new database on the server named
//! by `TEST_DATABASE_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`), dropped after.
//! It is a copy of a template database that holds the migrations already (`CREATE DATABASE …
//! TEMPLATE`, much quicker than migrating each one): the template is named after the migrations'
//! files, so a change to any of them makes a new one, and the first test process that needs it
//! makes it, under an advisory lock, while the others wait.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::MigrationHarness;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::PG_MIGRATIONS;
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
    /// (outside CI). Its schema is migrated already (a copy of the template, see the module's
    /// doc), so [`TestDatabase::open`] finds no migration left to run.
    ///
    /// # Panics
    /// When the server cannot be reached or the database cannot be created.
    pub fn postgres() -> Option<Self> {
        let server = postgres_server()?;
        let mut admin = admin(&server);
        let template = template(&mut admin, &server);
        Some(Self::create_postgres(
            &mut admin,
            server,
            template.as_deref(),
        ))
    }

    /// A fresh database of the given backend (`None` for PostgreSQL when not configured).
    pub fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres(),
        }
    }

    /// A fresh database of the given backend without any migration run on it, even on PostgreSQL:
    /// for tests of the migrations themselves, which build it up to a version of their own.
    ///
    /// # Panics
    /// As [`TestDatabase::postgres`].
    pub fn unmigrated(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => {
                let server = postgres_server()?;
                let mut admin = admin(&server);
                Some(Self::create_postgres(&mut admin, server, None))
            }
        }
    }

    /// Creates a database on `server`, empty or as a copy of `template`.
    fn create_postgres(admin: &mut PgConnection, server: String, template: Option<&str>) -> Self {
        let name = format!("em_test_{}", Uuid::now_v7().simple());
        let from = template.map_or_else(String::new, |t| format!(" TEMPLATE {t}"));
        diesel::sql_query(format!("CREATE DATABASE {name}{from}"))
            .execute(admin)
            .expect("create test database");
        let url = database_url(&server, &name);
        Self {
            config: DatabaseConfig::new(url),
            _dir: None,
            postgres: Some((server, name)),
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
            Backend::Sqlite => {
                let mut conn =
                    SqliteConnection::establish(crate::db::sqlite_path(&self.config.url))
                        .expect("connect");
                // Wait out the service's own writes and checkpoints, as its connections do, so
                // that a test taking a lock (`BEGIN IMMEDIATE`) gets it instead of "database is
                // locked" when the service happens to be writing.
                conn.batch_execute("PRAGMA busy_timeout = 5000")
                    .expect("busy_timeout");
                Session::Sqlite(conn)
            }
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

/// A connection to the server's own database, for creating and dropping others.
fn admin(server: &str) -> PgConnection {
    PgConnection::establish(server)
        .unwrap_or_else(|e| panic!("cannot connect to {TEST_DATABASE_URL}: {e}"))
}

/// The key of the advisory lock under which one test process at a time makes a template.
const TEMPLATE_LOCK_KEY: i64 = 0x4576_656e_7454_706c;

/// The migrated template test databases are copied from, made if it does not exist yet; `None`
/// when the migrations' files cannot be read to name it (then each database is migrated when
/// opened, as without a template).
///
/// A template is made under a name of its own, migrated, then renamed to its final name, so that
/// a name found in `pg_database` is always a complete template, and one made by a process that
/// died half-way is never used. Nothing connects to a template afterwards (a copy needs it
/// unconnected), and none is ever dropped here: test runs of other checkouts, with migrations of
/// their own, may be copying theirs.
fn template(admin: &mut PgConnection, server: &str) -> Option<String> {
    let name = format!("em_template_{}", migrations_fingerprint()?);
    if database_exists(admin, &name) {
        return Some(name);
    }
    diesel::sql_query(format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"))
        .execute(admin)
        .expect("template lock");
    if !database_exists(admin, &name) {
        let building = format!("em_template_building_{}", Uuid::now_v7().simple());
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(admin)
            .expect("create template database");
        let mut conn = PgConnection::establish(&database_url(server, &building))
            .unwrap_or_else(|e| panic!("cannot connect to the template database: {e}"));
        conn.run_pending_migrations(PG_MIGRATIONS)
            .unwrap_or_else(|e| panic!("cannot migrate the template database: {e}"));
        drop(conn);
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(admin)
            .expect("name the template database");
    }
    diesel::sql_query(format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})"))
        .execute(admin)
        .expect("template unlock");
    Some(name)
}

fn database_exists(admin: &mut PgConnection, name: &str) -> bool {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        datname: String,
    }
    let found: Vec<Found> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .load(admin)
        .expect("look up a database");
    !found.is_empty()
}

/// 16 hex digits of the SHA-256 of every PostgreSQL migration's directory name and files, as
/// they are in the source tree the tests were built from.
fn migrations_fingerprint() -> Option<String> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/postgres"
    ));
    let mut migrations: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .ok()?;
    migrations.sort();
    let mut hash = Sha256::new();
    for migration in migrations {
        hash.update(migration.file_name()?.as_encoded_bytes());
        for file in ["up.sql", "down.sql", "metadata.toml"] {
            if let Ok(text) = std::fs::read(migration.join(file)) {
                hash.update(file.as_bytes());
                hash.update(&text);
            }
        }
    }
    Some(
        hash.finalize()[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect(),
    )
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
