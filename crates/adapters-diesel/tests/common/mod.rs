//! What the adapter's test binaries share: a per-backend test declaration and the fixtures every
//! case builds on.

use chrono::{DateTime, TimeZone, Utc};
use domain::ports::{NewUser, PasswordHash};
use domain::{Email, Mobile, PhoneRegion, Text, UserId};

/// Declares each adapter case once per backend: `sqlite::name` and `postgres::name`.
macro_rules! per_backend {
    ($(async fn $name:ident($backend:ident: Backend) $body:block)*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Postgres).await
                }
            )*
        }
        $(async fn $name($backend: Backend) $body)*
    };
}
pub(crate) use per_backend;

/// The time every fixture is made at.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
}

/// A new user with a fake (never verified) password hash.
pub(crate) fn new_user(name: &str, email: Option<&str>, mobile: Option<&str>) -> NewUser {
    NewUser {
        id: UserId::generate(),
        name: Text::from_stored(name.into()),
        email: email.map(|e| Email::parse(e).unwrap()),
        mobile: mobile.map(|m| Mobile::parse(m, PhoneRegion::default()).unwrap()),
        password_hash: PasswordHash(format!("$argon2id$fake${name}")),
        created_at: now(),
    }
}
