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
