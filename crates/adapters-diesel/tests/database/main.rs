//! The adapter's integration tests, one binary: the repository ports' contract, run against the
//! in-memory fakes of `domain::testing` (which the domain's and the HTTP adapter's tests run on),
//! SQLite always, and PostgreSQL when `TEST_DATABASE_URL` is set (and required when `CI` is set);
//! then what only the database does (bounded waits, hostile rows, the abuse counters) and the
//! migrations that upgrade a database in place.
//!
//! A case is a plain `async fn` taking its [`Target`](support::Target) or
//! [`Backend`](adapters_diesel::Backend); one `contract!` or `per_backend!` line per module names
//! the cases to run on each (`fakes::name`, `sqlite::name`, `postgres::name`). Each case owns a
//! fresh store or database.

mod calendars;
mod changes;
mod contract;
mod counters;
mod deliveries;
mod hostile;
mod idempotency;
mod links;
mod proofs;
mod seats;
mod support;
mod upgrade;
