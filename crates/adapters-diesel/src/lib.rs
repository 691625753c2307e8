//! Event Manager's outbound adapters.
//!
//! - [`Database`]: every repository port of the domain, with diesel on PostgreSQL or SQLite, picked
//!   at start from the URL. Queries are written once, against a connection derived with
//!   `#[derive(diesel::MultiConnection)]` (see docs/architecture.md, "MultiConnection: the
//!   decision"), and code tells the backends apart only where they differ:
//!   - SQL that diesel's `MultiBackend` does not build: `ON CONFLICT DO NOTHING` / `INSERT OR
//!     IGNORE`, row locks (`FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`), and multi-row inserts
//!     with each backend's placeholders (`db::bulk_insert`, the invitations' checked batch);
//!   - what only PostgreSQL needs, since its writers run at once where SQLite's `BEGIN IMMEDIATE`
//!     runs them one at a time: the row locks above, advisory locks (the change sequencer, a
//!     webhook's attempts, migrations across clients), the change feed's stage and sequencer, and
//!     `NOTIFY`;
//!   - the hottest reads, run on the concrete connection (`db::with_concrete!`);
//!   - the column types of ids and times (`sql_types`), the connection set-up (SQLite pragmas,
//!     libpq and session timeouts) and the migration directories.
//! - [`Argon2Hasher`] and [`RandomTokenIssuer`]: the credential ports.
//! - `AbuseCounters` on PostgreSQL only: the abuse limits' counters in the `abuse_events` table,
//!   shared by every process on the database (on SQLite they stay in the process), and
//!   [`Database::purge_abuse_events`] for the rows that left the window.
//! - `IdempotencyStore`: idempotency keys in `idempotency_keys`, claimed with `INSERT … ON
//!   CONFLICT DO NOTHING` so that one request per (user, key) runs, in any number of processes.
//! - `ChangeFeed` and `TicketRepository`: the change feed (`changes`, written by every changing
//!   method in its own transaction) and stream tickets; [`ChangeListener`] wakes a process's
//!   streams when another process commits changes (PostgreSQL `LISTEN`).
//! - `WebhookRepository` and `DeliveryQueue`: webhooks, and the deliveries made from the change
//!   feed with their attempts, claimed and recorded safely by any number of workers.
//! - [`Database::shared_secret`]: secrets every process on the database shares (the cursor
//!   signing key), made by the first process that asks.
//!
//! diesel is blocking: every query runs on one of the database threads (one per pooled connection,
//! fed in arrival order) via [`Database`]'s `run`, never on the async executor's threads.

pub mod admin;
mod calendars;
mod changes;
mod codes;
mod counters;
mod credentials;
mod db;
mod deliveries;
mod events;
mod idempotency;
mod invitations;
mod legacy;
mod links;
mod listener;
mod messages;
mod optouts;
mod reminders;
mod rows;
mod schema;
mod seats;
mod secrets;
mod sql_types;
#[cfg(feature = "testing")]
pub mod testing;
mod tickets;
mod token_cache;
mod tokens;
mod users;
mod webhooks;

pub use credentials::{Argon2Hasher, HasherConfig, RandomTokenIssuer};
pub use db::{read_scope, Backend, Database, DatabaseConfig, DatabaseError};
pub use listener::ChangeListener;
