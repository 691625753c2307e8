//! Stream tickets (docs/api.md, "Live stream"): single use, short-lived, only their digest stored.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::accounts::ports::TokenHash;
use domain::accounts::User;
use domain::changes::ports::{NewTicket, TicketRepository};
use domain::ports::PortError;

use crate::db::{port_error, write_transaction, Database};
use crate::rows::{to_db_time, UserRow};
use crate::schema::{stream_tickets, users};
use crate::sql_types::DbId;

#[async_trait]
impl TicketRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn store_ticket(&self, ticket: NewTicket) -> Result<(), PortError> {
        let (hash, user, expires_at) = (
            ticket.hash.0,
            DbId::of(ticket.user_id),
            to_db_time(ticket.expires_at),
        );
        self.run(move |conn| {
            diesel::insert_into(stream_tickets::table)
                .values((
                    stream_tickets::ticket_hash.eq(hash),
                    stream_tickets::user_id.eq(user),
                    stream_tickets::expires_at.eq(expires_at),
                ))
                .execute(conn)
                .map(drop)
                .map_err(port_error)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn redeem_ticket(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError> {
        let (hash, now) = (hash.0.clone(), to_db_time(now));
        self.run(move |conn| {
            let user = write_transaction(conn, |c| {
                // The delete decides: of two redemptions of one ticket, in any number of
                // processes, only one deletes the row and gets its user.
                let users_of: Vec<DbId> = diesel::delete(
                    stream_tickets::table
                        .filter(stream_tickets::ticket_hash.eq(&hash))
                        .filter(stream_tickets::expires_at.gt(now)),
                )
                .returning(stream_tickets::user_id)
                .get_results(c)?;
                let Some(user_id) = users_of.into_iter().next() else {
                    return Ok(None);
                };
                users::table
                    .filter(users::id.eq(user_id))
                    .select(UserRow::as_select())
                    .first(c)
                    .optional()
            })
            .map_err(port_error)?;
            user.map(User::try_from).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_tickets(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let now = to_db_time(now);
        let batch = i64::from(batch.max(1));
        self.run(move |conn| {
            let old = diesel::alias!(stream_tickets as old);
            let due = old
                .filter(old.field(stream_tickets::expires_at).le(now))
                .select(old.field(stream_tickets::ticket_hash))
                .limit(batch);
            diesel::delete(stream_tickets::table.filter(stream_tickets::ticket_hash.eq_any(due)))
                .execute(conn)
                .map(|purged| purged as u64)
                .map_err(port_error)
        })
        .await
    }
}
