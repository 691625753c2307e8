//! Secrets that every process on one database must share, kept in the database itself
//! (`service_secrets`), such as the key list cursors are signed with (docs/operations.md, "Cursor
//! signing").

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Utc;
use diesel::prelude::*;
use rand::rngs::OsRng;
use rand::RngCore;

use crate::db::{port_error, AnyConnection, Database, DatabaseError};
use crate::rows::to_db_time;
use crate::schema::service_secrets;

/// How many bytes a shared secret has.
const SECRET_LEN: usize = 32;

impl Database {
    /// The secret called `name`: 32 random bytes, the same for every process on this database
    /// and across restarts. The first call on a database makes and stores it.
    ///
    /// Safe when several processes start at once on a fresh database: each offers its own random
    /// value with `INSERT … ON CONFLICT DO NOTHING` and then reads back the stored one, so exactly
    /// one offer is kept and every caller gets it (on PostgreSQL a second insert waits for the
    /// first to commit on the primary key, then does nothing; SQLite runs one writer at a time).
    /// An operation of the process, not a domain rule, hence not a port.
    ///
    /// # Errors
    /// [`DatabaseError::SharedSecret`] when the database fails, or the stored value is not 32
    /// bytes of standard base64 (someone edited it).
    #[tracing::instrument(skip(self))]
    pub async fn shared_secret(&self, name: &str) -> Result<[u8; SECRET_LEN], DatabaseError> {
        let key = name.to_owned();
        let stored = self
            .run(move |conn| {
                let mut offer = [0_u8; SECRET_LEN];
                OsRng.fill_bytes(&mut offer);
                let insert = diesel::insert_into(service_secrets::table).values((
                    service_secrets::name.eq(&key),
                    service_secrets::value.eq(STANDARD.encode(offer)),
                    service_secrets::created_at.eq(to_db_time(Utc::now())),
                ));
                // ON CONFLICT is not part of diesel's MultiBackend: run it on the concrete one.
                match conn {
                    AnyConnection::Pg(pg) => insert.on_conflict_do_nothing().execute(pg),
                    AnyConnection::Sqlite(sqlite) => {
                        insert.on_conflict_do_nothing().execute(sqlite)
                    }
                }
                .map_err(port_error)?;
                service_secrets::table
                    .find(&key)
                    .select(service_secrets::value)
                    .first::<String>(conn)
                    .map_err(port_error)
            })
            .await
            .map_err(|source| DatabaseError::SharedSecret {
                name: name.to_owned(),
                source: Box::new(source),
            })?;
        STANDARD
            .decode(stored.trim())
            .ok()
            .and_then(|bytes| <[u8; SECRET_LEN]>::try_from(bytes).ok())
            .ok_or_else(|| DatabaseError::SharedSecret {
                name: name.to_owned(),
                source: "the stored value is not 32 bytes of standard base64".into(),
            })
    }
}
