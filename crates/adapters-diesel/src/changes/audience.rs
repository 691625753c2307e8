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
use crate::schema::event_members;
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
