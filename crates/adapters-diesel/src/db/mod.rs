//! The database adapter's plumbing, one concern per file: [`config`] (URLs and pool settings),
//! [`connection`] (the two-backend connection and write transactions), [`manager`] (opening,
//! setting up and checking pooled connections), [`instrumentation`] (statement counting),
//! [`pool`] (the [`Database`] handle), [`replica`] (reads from a standby), [`migrations`], [`errors`] (mapping diesel's errors to the
//! domain's), [`health`], and [`bulk_insert`] (many rows in one `INSERT`, on either backend).

mod bulk_insert;
mod config;
mod connection;
mod errors;
mod health;
mod instrumentation;
mod manager;
mod migrations;
mod pool;
mod replica;

pub(crate) use bulk_insert::{insert_rows, Bind, Row, INSERT_CHUNK};
pub(crate) use config::sqlite_path;
pub use config::{Backend, DatabaseConfig};
pub(crate) use connection::{
    with_concrete, write_transaction, AnyConnection, MultiBackend, MultiRawValue,
};
pub use errors::DatabaseError;
pub(crate) use errors::{port_error, UniqueConstraint};
#[cfg(feature = "testing")]
pub(crate) use migrations::PG_MIGRATIONS;
pub use pool::Database;
pub use replica::read_scope;
pub(crate) use replica::{note_primary_position, primary_position};
