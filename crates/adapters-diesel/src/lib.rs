//! Event Manager's outbound adapters.
//!
//! - [`Database`]: every repository port of the domain, with diesel on PostgreSQL or SQLite, picked
//!   at start from the URL. Queries are written once; the [`on_backend!`] macro expands each body
//!   for both concrete connection types, so the DSL compiles against each backend natively. The
//!   only per-backend code: how a write transaction starts (`BEGIN IMMEDIATE` on SQLite), the
//!   connection set-up (SQLite pragmas, libpq timeouts), the migration directories, and the
//!   advisory lock that serializes migrations across PostgreSQL clients.
//! - [`Argon2Hasher`] and [`RandomTokenIssuer`]: the credential ports.
//!
//! diesel is blocking: every query runs on tokio's blocking pool via [`Database`]'s `run`, never on
//! the async executor's threads.

#[macro_use]
mod db;
mod credentials;
mod events;
mod invitations;
mod rows;
mod schema;
#[cfg(feature = "test-support")]
pub mod testing;
mod tokens;
mod users;

pub use credentials::{Argon2Hasher, HasherConfig, RandomTokenIssuer};
pub use db::{Backend, Database, DatabaseConfig, DatabaseError};
