//! Opt-outs from invitation messages (docs/api.md, "Stopping invitation messages"): one row of
//! `opt_outs` per contact and scope; recording one already held inserts nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::optouts::ports::OptOutRepository;
use domain::optouts::{OptOut, OptOutScope};
use domain::ports::PortError;
use domain::UserId;

use crate::db::{port_error, AnyConnection, Database};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::opt_outs;
use crate::sql_types::DbTime;

/// The stored form of a scope.
fn scope_text(scope: OptOutScope) -> String {
    match scope {
        OptOutScope::Everyone => "everyone".to_owned(),
        OptOutScope::Sender(sender) => sender.to_string(),
    }
}

/// A stored scope read back; `None` for a form this version does not know (skipped).
fn scope_of(text: &str) -> Option<OptOutScope> {
    if text == "everyone" {
        return Some(OptOutScope::Everyone);
    }
    text.parse::<UserId>().ok().map(OptOutScope::Sender)
}

#[async_trait]
impl OptOutRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn opt_out(
        &self,
        contact: &str,
        scope: OptOutScope,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let row = (
            opt_outs::contact.eq(contact.to_owned()),
            opt_outs::scope.eq(scope_text(scope)),
            opt_outs::created_at.eq(to_db_time(at)),
        );
        self.run(move |conn| {
            let insert = diesel::insert_into(opt_outs::table).values(row);
            // ON CONFLICT is not part of diesel's MultiBackend: run it on the concrete one.
            match conn {
                AnyConnection::Pg(pg) => insert.on_conflict_do_nothing().execute(pg),
                AnyConnection::Sqlite(sqlite) => insert.on_conflict_do_nothing().execute(sqlite),
            }
            .map(drop)
            .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(contacts = contacts.len()))]
    async fn opt_outs_of(&self, contacts: &[String]) -> Result<Vec<OptOut>, PortError> {
        if contacts.is_empty() {
            return Ok(Vec::new());
        }
        let contacts = contacts.to_vec();
        let rows: Vec<(String, String, DbTime)> = self
            .run(move |conn| {
                opt_outs::table
                    .filter(opt_outs::contact.eq_any(contacts))
                    .select((opt_outs::contact, opt_outs::scope, opt_outs::created_at))
                    .load(conn)
                    .map_err(port_error)
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(contact, scope, at)| {
                Some(OptOut {
                    contact,
                    scope: scope_of(&scope)?,
                    at: from_db_time(at),
                })
            })
            .collect())
    }
}
