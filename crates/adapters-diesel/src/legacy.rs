//! The contacts stored before proofs existed (`LEGACY_CONTACTS`): the upgrade counted them proven
//! as of itself and left one row in `legacy_contacts` saying when; the first start after it applies
//! the operator's choice and deletes the row (`migrations/*/…_proven_contacts/up.sql`).

use diesel::prelude::*;
use domain::ports::PortError;

use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::schema::legacy_contacts;

impl Database {
    /// Applies the operator's choice about the contacts the upgrade counted proven, once: with
    /// `unprove`, their proofs are taken back (each `email_verified_at` / `mobile_verified_at`
    /// equal to the upgrade's time goes back to NULL; later proofs stay); either way the
    /// `legacy_contacts` row goes, so that a later start does nothing. One write transaction.
    /// Returns how many users changed; 0 when there is no row (a fresh database, or already
    /// settled).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; nothing changed then.
    #[tracing::instrument(skip(self))]
    pub async fn settle_legacy_contacts(&self, unprove: bool) -> Result<u64, PortError> {
        self.run(move |conn| {
            write_transaction(conn, |c| {
                let rows: i64 = legacy_contacts::table.count().get_result(c)?;
                if rows == 0 {
                    return Ok(0);
                }
                let mut changed = 0;
                if unprove {
                    // Compared with the stored time itself, in SQL (on SQLite a time is text, and
                    // a bound one might be written with other digits); one statement, so that a
                    // user with both contacts counts once.
                    let unproven = diesel::sql_query(
                        "UPDATE users SET
                             email_verified_at = CASE WHEN email_verified_at = (SELECT proven_at FROM legacy_contacts)
                                                      THEN NULL ELSE email_verified_at END,
                             mobile_verified_at = CASE WHEN mobile_verified_at = (SELECT proven_at FROM legacy_contacts)
                                                       THEN NULL ELSE mobile_verified_at END
                         WHERE email_verified_at = (SELECT proven_at FROM legacy_contacts)
                            OR mobile_verified_at = (SELECT proven_at FROM legacy_contacts)",
                    );
                    changed = match c {
                        AnyConnection::Pg(pg) => unproven.execute(pg)?,
                        AnyConnection::Sqlite(sqlite) => unproven.execute(sqlite)?,
                    };
                }
                diesel::delete(legacy_contacts::table).execute(c)?;
                Ok(u64::try_from(changed).unwrap_or(u64::MAX))
            })
            .map_err(port_error)
        })
        .await
    }
}
