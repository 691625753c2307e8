//! The contract declaration that the port suites share: each case once per implementation of a
//! port, `fakes::name` (the in-memory fake of `domain::testing`), `sqlite::name` and
//! `postgres::name`. Included with `#[path]` by the suites that also run on the fakes, so that the
//! other test binaries do not compile it.

use adapters_diesel::Backend;

/// Declares each case once per implementation: `fakes::name`, `sqlite::name` and `postgres::name`.
macro_rules! contract {
    ($(async fn $name:ident($target:ident: Target) $body:block)*) => {
        mod fakes {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::Target::Fakes).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::Target::Database(adapters_diesel::Backend::Sqlite)).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::Target::Database(adapters_diesel::Backend::Postgres)).await
                }
            )*
        }
        $(async fn $name($target: Target) $body)*
    };
}
pub(crate) use contract;

/// What a case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The suite's in-memory fake from `domain::testing`.
    Fakes,
    /// The diesel adapter on a fresh database.
    Database(Backend),
}

/// Declares `Subject`, a fresh store of one [`Target`] behind `Arc<dyn $ports>` (the suite's own
/// trait of the ports it uses): `Subject::fresh(target)` (`None`, and the case returns, for
/// PostgreSQL outside CI without `TEST_DATABASE_URL`), `subject.db`, and `subject.second()`, one
/// more handle on the same data standing for a second server process: on PostgreSQL an
/// independent pool; on SQLite (one file) and on the fakes (one process) the same handle.
#[allow(unused_macros)]
macro_rules! subject {
    ($ports:ident) => {
        /// A fresh store of one [`Target`].
        struct Subject {
            db: std::sync::Arc<dyn $ports>,
            /// The database, dropped (for PostgreSQL: dropped on the server) with the subject.
            database: Option<adapters_diesel::testing::TestDatabase>,
        }

        impl Subject {
            fn fresh(target: Target) -> Option<Self> {
                match target {
                    Target::Fakes => Some(Self {
                        db: std::sync::Arc::new(domain::testing::Store::default()),
                        database: None,
                    }),
                    Target::Database(backend) => {
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
#[allow(unused_imports)]
pub(crate) use subject;
