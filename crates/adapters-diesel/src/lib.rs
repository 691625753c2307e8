//! Event Manager's outbound adapters.
//!
//! - [`Database`]: every repository port of the domain, with diesel on PostgreSQL or SQLite, picked
//!   at start from the URL. Queries are written once, against a connection derived with
//!   `#[derive(diesel::MultiConnection)]` (see docs/architecture.md, "MultiConnection: the
//!   decision"). The only per-backend code: the batch insert (`ON CONFLICT DO NOTHING` / `INSERT
//!   OR IGNORE`, and its placeholders), how a write transaction starts (`BEGIN IMMEDIATE` on
//!   SQLite), the event row locks that order batches against answers (PostgreSQL), the connection
//!   set-up (SQLite pragmas, libpq and session timeouts), the migration directories, and the
//!   advisory lock that serializes migrations across PostgreSQL clients.
//! - [`Argon2Hasher`] and [`RandomTokenIssuer`]: the credential ports.
//! - `AbuseCounters` on PostgreSQL only: the abuse limits' counters in the `abuse_events` table,
//!   shared by every process on the database (on SQLite they stay in the process), and
//!   [`Database::purge_abuse_events`] for the rows that left the window.
//! - `IdempotencyStore`: idempotency keys in `idempotency_keys`, claimed with `INSERT … ON
//!   CONFLICT DO NOTHING` so that one request per (user, key) runs, in any number of processes.
//! - `ChangeFeed` and `TicketRepository`: the change feed's outbox (`changes`, written by
//!   every changing method in its own transaction) and stream tickets; [`ChangeListener`] wakes a
//!   process's streams when another process commits changes (PostgreSQL `LISTEN`).
//! - [`Database::shared_secret`]: secrets every process on the database shares (the cursor
//!   signing key), made by the first process that asks.
//!
//! diesel is blocking: every query runs on one of the database threads (one per pooled connection,
//! fed in arrival order) via [`Database`]'s `run`, never on the async executor's threads.

mod changes;
mod counters;
mod credentials;
mod db;
mod deliveries;
mod events;
mod idempotency;
mod invitations;
mod listener;
mod rows;
mod schema;
mod secrets;
mod sql_types;
#[cfg(feature = "test-support")]
pub mod testing;
mod tickets;
mod tokens;
mod users;
mod webhooks;

pub use credentials::{Argon2Hasher, HasherConfig, RandomTokenIssuer};
pub use db::{Backend, Database, DatabaseConfig, DatabaseError};
pub use listener::ChangeListener;
