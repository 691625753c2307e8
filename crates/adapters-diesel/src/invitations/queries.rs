//! Reading invitations with their event title and both parties: one, a list, or those a write
//! just made or changed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::invitations::ports::InvitationFilter;
use domain::invitations::InvitationDetails;
use domain::ports::PortError;
use domain::{EventId, InvitationStatus, Page, PageRequest, UserId};

use crate::db::{port_error, with_concrete, AnyConnection, Database};
use crate::rows::{invitation_details, to_db_time, InvitationDetailsRow, InvitationRow};
use crate::schema::{event_deletions, event_members, events, invitations, users};
use crate::seats::with_positions;
use crate::sql_types::DbId;

/// Whose list: a party's invitations, or an event's.
#[derive(Clone, Copy)]
pub(super) enum Party {
    Sender(UserId),
    Invitee(UserId),
    Event(EventId),
}

/// Selects invitations with their event title and both parties, as a boxed query. A macro only
/// because the type of a join through two aliases of `users` is unwieldy to write out; it names
/// `invitations`, `events`, `users` and `InvitationRow`, which the caller imports.
macro_rules! details_query {
    () => {{
        let (sender, invitee) = diesel::alias!(users as sender, users as invitee);
        invitations::table
            .inner_join(events::table)
            .left_join(crate::schema::invitation_titles::table)
            .inner_join(sender.on(sender.field(users::id).eq(invitations::sender_id)))
            .inner_join(invitee.on(invitee.field(users::id).eq(invitations::invitee_id)))
            .select((
                InvitationRow::as_select(),
                events::title,
                crate::schema::invitation_titles::title.nullable(),
                (sender.field(users::id), sender.field(users::name)),
                (invitee.field(users::id), invitee.field(users::name)),
                // Whether the event is deleted, and the sender's role when it was.
                diesel::dsl::exists(
                    crate::schema::event_deletions::table
                        .filter(crate::schema::event_deletions::event_id.eq(invitations::event_id)),
                ),
                crate::schema::event_deletions::table
                    .filter(crate::schema::event_deletions::event_id.eq(invitations::event_id))
                    .filter(crate::schema::event_deletions::user_id.eq(invitations::sender_id))
                    .select(crate::schema::event_deletions::role)
                    .single_value(),
            ))
            .into_boxed()
    }};
}
pub(super) use details_query;

/// The invitations `ids` with their event titles and parties, read in the caller's transaction,
/// in the order of `ids`: what the changes of a write are made of.
pub(crate) fn details_of(
    conn: &mut AnyConnection,
    ids: &[DbId],
) -> QueryResult<Vec<InvitationDetails>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<InvitationDetailsRow> = details_query!()
        .filter(invitations::id.eq_any(ids))
        .load(conn)?;
    let mut by_id: HashMap<DbId, InvitationDetails> = HashMap::with_capacity(rows.len());
    for row in rows {
        let id = row.0.id;
        let details = invitation_details(row)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        by_id.insert(id, details);
    }
    let mut details: Vec<InvitationDetails> =
        ids.iter().filter_map(|id| by_id.remove(id)).collect();
    with_positions(conn, &mut details)?;
    Ok(details)
}

impl Database {
    /// One page of a party's or an event's invitations, newest first, filtered by their status as
    /// of `now`.
    pub(super) async fn list(
        &self,
        party: Party,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let status = filter.status.status();
        let event_id = match party {
            Party::Event(_) => None,
            Party::Sender(_) | Party::Invitee(_) => filter.event_id.map(DbId::of),
        };
        let after = page.after.map(DbId::from);
        let fetch = i64::from(page.limit.get()) + 1;
        let now = to_db_time(now);
        // From the standby when one is configured and has caught up (docs/operations.md, "Read
        // replicas").
        self.run_read(move |conn| {
            // The hottest read: on the concrete connection (`with_concrete`).
            let rows: Vec<InvitationDetailsRow> = with_concrete!(conn, c => {
                let mut query = details_query!();
                query = match party {
                    // A sender sees what they sent while they manage its event
                    // (docs/api.md, "Roles").
                    Party::Sender(user) => query
                        .filter(invitations::sender_id.eq(DbId::of(user)))
                        .filter(
                            invitations::event_id
                                .eq_any(
                                    event_members::table
                                        .filter(event_members::user_id.eq(DbId::of(user)))
                                        .filter(
                                            event_members::role.eq_any(crate::events::MANAGERS),
                                        )
                                        .select(event_members::event_id),
                                )
                                // Or managed when it was deleted (docs/api.md, "Deleting an
                                // event").
                                .or(invitations::event_id.eq_any(
                                    event_deletions::table
                                        .filter(event_deletions::user_id.eq(DbId::of(user)))
                                        .select(event_deletions::event_id),
                                )),
                        ),
                    // A held invitation is nothing to its invitee (docs/api.md, "Proving
                    // contacts").
                    Party::Invitee(user) => query
                        .filter(invitations::invitee_id.eq(DbId::of(user)))
                        .filter(invitations::held_contact.is_null()),
                    Party::Event(event) => query.filter(invitations::event_id.eq(DbId::of(event))),
                };
                // The status as of `now` (`domain::invitations::status_at`): a pending or "maybe"
                // invitation whose expiry has passed is expired, whether or not the sweeper has
                // marked it yet.
                query = match status {
                    None => query,
                    Some(open @ (InvitationStatus::Pending | InvitationStatus::Tentative)) => {
                        query.filter(invitations::status.eq(open.as_str())).filter(
                            invitations::expires_at
                                .is_null()
                                .or(invitations::expires_at.gt(now)),
                        )
                    }
                    Some(InvitationStatus::Expired) => query.filter(
                        invitations::status
                            .eq(InvitationStatus::Expired.as_str())
                            .or(invitations::status
                                .eq_any(super::OPEN)
                                .and(invitations::expires_at.le(now))),
                    ),
                    Some(status) => query.filter(invitations::status.eq(status.as_str())),
                };
                if let Some(event_id) = event_id {
                    query = query.filter(invitations::event_id.eq(event_id));
                }
                if let Some(after) = after {
                    query = query.filter(invitations::id.lt(after));
                }
                query.order(invitations::id.desc()).limit(fetch).load(c)
            })
            .map_err(port_error)?;
            let mut items = rows
                .into_iter()
                .map(invitation_details)
                .collect::<Result<Vec<_>, _>>()?;
            with_positions(conn, &mut items).map_err(port_error)?;
            Ok(Page::from_overfetched(items, page.limit, |d| {
                d.invitation.id().as_uuid()
            }))
        })
        .await
    }
}
