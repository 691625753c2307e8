//! What the suites share: the declarations that run each case once per backend or per
//! implementation, the fresh store a contract case runs on, and the fixtures every case builds on.

use adapters_diesel::Backend;
use chrono::{DateTime, Utc};
use domain::accounts::ports::{NewUser, PasswordHash};
use domain::{Email, Mobile, PhoneRegion, Text, UserId};

/// Runs each named case, an `async fn name(backend: Backend)` of the calling module, once per
/// backend: `sqlite::name` and `postgres::name`.
macro_rules! per_backend {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Postgres).await
                }
            )+
        }
    };
}
pub(crate) use per_backend;

/// Runs each named case, an `async fn name(target: Target)` of the calling module, once per
/// implementation of its ports: `fakes::name` (the in-memory fake of `domain::testing`),
/// `sqlite::name` and `postgres::name`.
macro_rules! contract {
    ($($name:ident),+ $(,)?) => {
        mod fakes {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::support::Target::Fakes).await
                }
            )+
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::support::Target::SQLITE).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::support::Target::POSTGRES).await
                }
            )+
        }
    };
}
pub(crate) use contract;

/// The text of a file under the workspace's `migrations/`, read at compile time:
/// `migration!("sqlite/2026-11-26-000001_init/up.sql")`.
macro_rules! migration {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/",
            $path
        ))
    };
}
pub(crate) use migration;

/// What a contract case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The suite's in-memory fake from `domain::testing`.
    Fakes,
    /// The diesel adapter on a fresh database.
    Database(Backend),
}

impl Target {
    /// The diesel adapter on a fresh SQLite file.
    pub(crate) const SQLITE: Self = Self::Database(Backend::Sqlite);
    /// The diesel adapter on a fresh PostgreSQL database.
    pub(crate) const POSTGRES: Self = Self::Database(Backend::Postgres);
}

/// Declares `Subject`, a fresh store of one [`Target`] behind `Arc<dyn $ports>` (the suite's own
/// trait of the ports it uses): `Subject::fresh(target)` (`None`, and the case returns, for
/// PostgreSQL outside CI without `TEST_DATABASE_URL`), `subject.db`, and `subject.second()`, one
/// more handle on the same data standing for a second server process: on PostgreSQL an
/// independent pool; on SQLite (one file) and on the fakes (one process) the same handle.
macro_rules! subject {
    ($ports:ident) => {
        /// A fresh store of one [`Target`].
        struct Subject {
            db: std::sync::Arc<dyn $ports>,
            /// The database, dropped (for PostgreSQL: dropped on the server) with the subject.
            database: Option<adapters_diesel::testing::TestDatabase>,
        }

        impl Subject {
            fn fresh(target: $crate::support::Target) -> Option<Self> {
                match target {
                    $crate::support::Target::Fakes => Some(Self {
                        db: std::sync::Arc::new(domain::testing::Store::default()),
                        database: None,
                    }),
                    $crate::support::Target::Database(backend) => {
                        let database = adapters_diesel::testing::TestDatabase::new(backend)?;
                        Some(Self {
                            db: std::sync::Arc::new(database.open()),
                            database: Some(database),
                        })
                    }
                }
            }

            #[allow(dead_code)]
            fn second(&self) -> std::sync::Arc<dyn $ports> {
                match &self.database {
                    Some(database) if database.backend() == adapters_diesel::Backend::Postgres => {
                        std::sync::Arc::new(database.open())
                    }
                    _ => self.db.clone(),
                }
            }
        }
    };
}
pub(crate) use subject;

/// The time every fixture is made at: the one fixed instant of every suite.
pub(crate) fn now() -> DateTime<Utc> {
    domain::testing::FixedClock::START
}

/// A new user with a fake (never verified) password hash.
pub(crate) fn new_user(name: &str, email: Option<&str>, mobile: Option<&str>) -> NewUser {
    NewUser {
        id: UserId::generate(),
        name: Text::from_stored(name.into()),
        email: email.map(|e| Email::parse(e).unwrap()),
        mobile: mobile.map(|m| Mobile::parse(m, PhoneRegion::default()).unwrap()),
        password_hash: Some(PasswordHash(format!("$argon2id$fake${name}"))),
        proven: true,
        locale: Default::default(),
        created_at: now(),
    }
}
