//! One-click links (docs/api.md, "Answering from a message"): the digests of their tokens in
//! `invitation_links`, written by the delivery queue's `enqueue` with the message that carries
//! each, and read here with the invitation and its event.

use async_trait::async_trait;
use diesel::prelude::*;
use domain::accounts::ports::TokenHash;
use domain::accounts::Locale;
use domain::invitations::ports::InvitationRepository;
use domain::links::ports::InvitationLinks;
use domain::links::{LinkedInvitation, NewLink};
use domain::ports::PortError;
use domain::{InvitationId, InvitationStatus};

use crate::db::{insert_rows, port_error, AnyConnection, Bind, Database, Row, INSERT_CHUNK};
use crate::rows::{event, to_db_time, EventRow, SummaryRow};
use crate::schema::{events, invitation_links, invitations, users};
use crate::sql_types::DbId;

/// A link to insert.
struct LinkInsert<'a>(&'a NewLink);

impl Row for LinkInsert<'_> {
    const SQL: &'static str =
        "INSERT INTO invitation_links (token_hash, invitation_id, created_at) VALUES ";
    const COLUMNS: usize = 3;
    fn binds(&self) -> Vec<Bind<'_>> {
        vec![
            Bind::Binary(&self.0.hash.0),
            Bind::Id(DbId::of(self.0.invitation_id)),
            Bind::Moment(to_db_time(self.0.created_at)),
        ]
    }
}

/// Stores links in the caller's transaction (the dispatch's, with their messages), many to a
/// statement. A digest is of 144 random bits: two links never share one.
pub(crate) fn insert(conn: &mut AnyConnection, links: &[&NewLink]) -> QueryResult<()> {
    let rows: Vec<LinkInsert<'_>> = links.iter().map(|link| LinkInsert(link)).collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        insert_rows(conn, chunk)?;
    }
    Ok(())
}

#[async_trait]
impl InvitationLinks for Database {
    #[tracing::instrument(skip_all)]
    async fn find_link(&self, hash: &TokenHash) -> Result<Option<LinkedInvitation>, PortError> {
        let hash = hash.0.clone();
        let invitation: Option<DbId> = self
            .run(move |conn| {
                invitation_links::table
                    .filter(invitation_links::token_hash.eq(hash))
                    .select(invitation_links::invitation_id)
                    .first(conn)
                    .optional()
                    .map_err(port_error)
            })
            .await?;
        let Some(id) = invitation else {
            return Ok(None);
        };
        let Some(details) = self.find(InvitationId::from_uuid(id.uuid())).await? else {
            return Ok(None);
        };
        let event_id = DbId::of(details.invitation.event_id());
        // The page speaks its invitee's language, or its sender's while the contact is held.
        let reader = DbId::of(if details.invitation.held_contact().is_some() {
            details.sender.id
        } else {
            details.invitee.id
        });
        let found = self
            .run(move |conn| {
                let row: Option<(EventRow, SummaryRow)> = events::table
                    .inner_join(users::table)
                    .filter(events::id.eq(event_id))
                    .select((EventRow::as_select(), (users::id, users::name)))
                    .first(conn)
                    .optional()
                    .map_err(port_error)?;
                let locale: Option<String> = users::table
                    .find(reader)
                    .select(users::locale)
                    .first(conn)
                    .optional()
                    .map_err(port_error)?;
                let locale = locale.and_then(|l| Locale::parse(&l)).unwrap_or_default();
                row.map(|(row, owner)| event(row, owner).map(|event| (event, locale)))
                    .transpose()
            })
            .await?;
        Ok(found.map(|(event, locale)| LinkedInvitation {
            details,
            event,
            locale,
        }))
    }

    #[tracing::instrument(skip(self))]
    async fn purge_links(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        batch: u32,
    ) -> Result<u64, PortError> {
        let before = to_db_time(before);
        let batch = i64::from(batch.max(1));
        self.run(move |conn| {
            let closed: Vec<Vec<u8>> = invitation_links::table
                .inner_join(invitations::table)
                .filter(invitation_links::created_at.lt(before))
                .filter(invitations::status.ne_all([
                    InvitationStatus::Pending.as_str(),
                    InvitationStatus::Tentative.as_str(),
                ]))
                .select(invitation_links::token_hash)
                .limit(batch)
                .load(conn)
                .map_err(port_error)?;
            diesel::delete(
                invitation_links::table.filter(invitation_links::token_hash.eq_any(&closed)),
            )
            .execute(conn)
            .map(|purged| purged as u64)
            .map_err(port_error)
        })
        .await
    }
}
