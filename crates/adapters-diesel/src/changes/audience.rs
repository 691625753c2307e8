//! Who receives each change (R12): the audience the domain names, resolved to users in the
//! changing transaction, as the event's members and managers are at that moment under its locks.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use domain::changes::Audience;
use domain::changes::Change;
use domain::events::Role;
use domain::EventId;

use crate::db::AnyConnection;
use crate::rows::to_db_time;
use crate::schema::{event_members, invitations};
use crate::sql_types::DbId;

/// A change with the users it goes to.
pub(crate) struct Resolved {
    pub(super) change: Change,
    pub(super) recipients: BTreeSet<DbId>,
}

/// Resolves each change's audience to users, as the event's members are now (call it in the
/// changing transaction, after its own writes, or before a deletion takes the members away).
/// One query per event and kind of audience, whatever the number of changes.
pub(crate) fn resolve(
    conn: &mut AnyConnection,
    changes: Vec<Change>,
) -> QueryResult<Vec<Resolved>> {
    let mut managers: HashMap<EventId, Vec<DbId>> = HashMap::new();
    let mut members: HashMap<EventId, Vec<DbId>> = HashMap::new();
    let mut resolved = Vec::with_capacity(changes.len());
    for change in changes {
        let audience = change.audience();
        let event = audience.event();
        let at = to_db_time(change.occurred_at());
        let mut recipients = BTreeSet::new();
        match audience {
            // The sender among the managers: told while they manage the event, as they see it.
            Audience::InvitationParties { invitee, .. } => {
                let found = match managers.entry(event) {
                    Entry::Occupied(found) => found.into_mut(),
                    Entry::Vacant(slot) => slot.insert(
                        event_members::table
                            .filter(event_members::event_id.eq(DbId::of(event)))
                            .filter(
                                event_members::role
                                    .eq_any([Role::Owner.as_str(), Role::Cohost.as_str()]),
                            )
                            .select(event_members::user_id)
                            .load(conn)?,
                    ),
                };
                recipients.extend(found.iter().copied());
                recipients.extend(invitee.map(DbId::of));
            }
            Audience::Invitee { invitee, .. } => {
                recipients.insert(DbId::of(invitee));
            }
            Audience::Followers { also, .. } => {
                recipients.extend(
                    event_members::table
                        .filter(event_members::event_id.eq(DbId::of(event)))
                        .select(event_members::user_id)
                        .load::<DbId>(conn)?,
                );
                // The invitees of its live invitations, as they stand at the change.
                recipients.extend(
                    invitations::table
                        .filter(invitations::event_id.eq(DbId::of(event)))
                        .filter(invitations::status.eq_any(crate::invitations::LIVE))
                        .filter(invitations::held_contact.is_null())
                        .filter(
                            invitations::status
                                .eq(domain::InvitationStatus::Waitlisted.as_str())
                                .or(invitations::expires_at.is_null())
                                .or(invitations::expires_at.gt(at)),
                        )
                        .select(invitations::invitee_id)
                        .load::<DbId>(conn)?,
                );
                recipients.extend(also.into_iter().map(DbId::of));
            }
            Audience::Members { also, .. } => {
                let found = match members.entry(event) {
                    Entry::Occupied(found) => found.into_mut(),
                    Entry::Vacant(slot) => slot.insert(
                        event_members::table
                            .filter(event_members::event_id.eq(DbId::of(event)))
                            .select(event_members::user_id)
                            .load(conn)?,
                    ),
                };
                recipients.extend(found.iter().copied());
                recipients.extend(also.map(DbId::of));
            }
        }
        resolved.push(Resolved { change, recipients });
    }
    Ok(resolved)
}
