//! Deleting an event (docs/api.md, "Deleting an event"): it is marked deleted with who managed it,
//! its live invitations are cancelled and its members go, in one transaction; the row stays for its
//! invitations until the retention purge removes it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::changes::Change;
use domain::events::ports::EventWriteError;
use domain::events::Actor;
use domain::ports::PortError;
use domain::{EventId, InvitationStatus, UserId, Version};

use super::{holds, lock_event, Lock, MANAGERS};
use crate::changes::{append, event_ref, made, resolve};
use crate::db::{port_error, write_transaction, Database};
use crate::invitations::details_of;
use crate::rows::{from_db_time, to_db_time, to_db_version};
use crate::schema::{event_deletions, event_members, events, invitations};
use crate::sql_types::DbId;

impl Database {
    /// [`domain::events::ports::EventRepository::purge_deleted`].
    #[tracing::instrument(skip(self))]
    pub(super) async fn purge_deleted_events(
        &self,
        before: DateTime<Utc>,
        batch: u32,
    ) -> Result<u64, PortError> {
        let before = to_db_time(before);
        let batch = i64::from(batch.max(1));
        self.run(move |conn| {
            write_transaction(conn, |c| {
                let gone: Vec<DbId> = event_deletions::table
                    .filter(event_deletions::deleted_at.lt(before))
                    .select(event_deletions::event_id)
                    .distinct()
                    .limit(batch)
                    .load(c)?;
                // Its invitations, their links and frozen titles, its marks and its reminders sent
                // go with it (ON DELETE CASCADE).
                diesel::delete(events::table.filter(events::id.eq_any(&gone))).execute(c)
            })
            .map(|purged| purged as u64)
            .map_err(port_error)
        })
        .await
    }

    /// [`domain::events::ports::EventRepository::delete`].
    #[tracing::instrument(skip_all)]
    pub(super) async fn delete_event(
        &self,
        event_id: EventId,
        by: Actor,
        now: DateTime<Utc>,
        expected: Option<Version>,
    ) -> Result<u64, EventWriteError> {
        let id = DbId::of(event_id);
        let now = to_db_time(now);
        let deleted = self
            .run(move |conn| {
                let mut modified = false;
                let cancelled = write_transaction(conn, |c| {
                    modified = false;
                    // `FOR UPDATE` waits for the sends that hold the row in share mode (they commit
                    // whole, and their invitations are cancelled here) and makes later ones find no
                    // event.
                    if !(lock_event(c, id, Lock::Delete)? && holds(c, id, by)?) {
                        return Ok(None);
                    }
                    let version: i64 = events::table
                        .filter(events::id.eq(id))
                        .select(events::version)
                        .first(c)?;
                    if expected.is_some_and(|expected| to_db_version(expected) != version) {
                        modified = true;
                        return Ok(None);
                    }
                    // Marked deleted first, with who managed it, so that the changes below show
                    // their invitations' event as deleted.
                    let managers: Vec<(DbId, String)> = event_members::table
                        .filter(event_members::event_id.eq(id))
                        .filter(event_members::role.eq_any(MANAGERS))
                        .select((event_members::user_id, event_members::role))
                        .load(c)?;
                    // The owner and the co-hosts: a handful of rows.
                    for (user, role) in managers {
                        diesel::insert_into(event_deletions::table)
                            .values((
                                event_deletions::event_id.eq(id),
                                event_deletions::user_id.eq(user),
                                event_deletions::role.eq(role),
                                event_deletions::deleted_at.eq(now),
                            ))
                            .execute(c)?;
                    }
                    // Every live invitation: pending, "maybe" (while not expired) and waitlisted.
                    let cancelled: Vec<DbId> = diesel::update(invitations::table)
                        .filter(invitations::event_id.eq(id))
                        .filter(invitations::status.eq_any(crate::invitations::LIVE))
                        .filter(
                            invitations::status
                                .eq(InvitationStatus::Waitlisted.as_str())
                                .or(invitations::expires_at.is_null())
                                .or(invitations::expires_at.gt(now)),
                        )
                        .set((
                            invitations::status.eq(InvitationStatus::Cancelled.as_str()),
                            invitations::cancelled_at.eq(now),
                            invitations::version.eq(invitations::version + 1),
                        ))
                        .returning(invitations::id)
                        .get_results(c)?;
                    // The changes are resolved to users while the members are still there, and
                    // numbered after the deletion, the transaction's last step.
                    let cancelled_details = details_of(c, &cancelled)?;
                    // Those whose live invitations the deletion ended are told of it too.
                    let invitees: Vec<UserId> = cancelled_details
                        .iter()
                        .filter(|details| details.invitation.held_contact().is_none())
                        .map(|details| details.invitation.invitee_id())
                        .collect();
                    let mut changes = cancelled_details
                        .into_iter()
                        .map(|details| made(Change::invitation_cancelled(details)))
                        .collect::<QueryResult<Vec<_>>>()?;
                    changes.push(Change::event_deleted(
                        event_ref(c, id)?,
                        from_db_time(now),
                        invitees,
                    ));
                    let resolved = resolve(c, changes)?;
                    // The event stays, for its invitations (docs/api.md, "Deleting an event"):
                    // without members or reminders.
                    let event = events::table
                        .filter(events::id.eq(id))
                        .filter(events::version.eq(version));
                    if diesel::update(event)
                        .set(events::version.eq(events::version + 1))
                        .execute(c)?
                        == 0
                    {
                        modified = true;
                        return Err(diesel::result::Error::RollbackTransaction);
                    }
                    diesel::delete(event_members::table.filter(event_members::event_id.eq(id)))
                        .execute(c)?;
                    crate::reminders::unschedule(c, id)?;
                    append(c, resolved)?;
                    Ok(Some(cancelled.len()))
                });
                let cancelled = match cancelled {
                    Err(diesel::result::Error::RollbackTransaction) if modified => None,
                    cancelled => cancelled.map_err(port_error)?,
                };
                if modified {
                    return Err(EventWriteError::Modified);
                }
                let cancelled = cancelled.ok_or(EventWriteError::Stale)?;
                Ok(u64::try_from(cancelled).unwrap_or(u64::MAX))
            })
            .await;
        self.changes_committed();
        deleted
    }
}
