//! The event repository. Changes to an event and its members run in one write transaction that
//! first takes the event row's lock (on PostgreSQL `FOR NO KEY UPDATE`, the lock an answer takes
//! too, and which a batch of invitations waits for; SQLite's `BEGIN IMMEDIATE` serializes writers
//! already), then checks that the acting member still holds the role the decision was made on, and
//! writes with conditions on the rows it changes. So concurrent changes of one event apply one
//! after the other, whatever the number of server processes, and `members_count` moves with each
//! membership row that goes in or out.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::changes::Change;
use domain::events::ports::{EventRepository, EventWriteError, NewEvent, PartyError};
use domain::events::{Actor, Event, EventDetailsError, EventPatch, Member, Membership, Role};
use domain::ports::PortError;
use domain::rsvp::{party, RsvpRules, Tally};
use domain::{EventId, InvitationStatus, MemberId, Page, PageRequest, UserId, Version};

use crate::changes::{event_ref, record};
use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::{
    event, member, rsvp_columns, to_db_time, to_db_version, EventRow, MemberRow, SummaryRow,
};
use crate::schema::{event_members, events, invitation_titles, invitations, users};

/// The roles that manage an event's invitations (`domain::events::Role::manages_invitations`).
pub(crate) const MANAGERS: [&str; 2] = ["owner", "cohost"];
use crate::seats::{move_seats, promote};
use crate::sql_types::DbId;

mod deletion;
mod seating;

use seating::clamp_expiries;

/// How a change locks the event row on PostgreSQL.
#[derive(Clone, Copy)]
enum Lock {
    /// `FOR NO KEY UPDATE`: changes of the event's members or details (answers take it too).
    Change,
    /// `FOR UPDATE`: deleting the event.
    Delete,
}

/// Takes the event row's lock (SQLite: nothing more than the write transaction's), and says
/// whether the event exists.
fn lock_event(conn: &mut AnyConnection, id: DbId, lock: Lock) -> QueryResult<bool> {
    let query = events::table.filter(events::id.eq(id)).select(events::id);
    let found: Option<DbId> = match (conn, lock) {
        (AnyConnection::Pg(pg), Lock::Change) => query.for_no_key_update().first(pg).optional()?,
        (AnyConnection::Pg(pg), Lock::Delete) => query.for_update().first(pg).optional()?,
        (conn @ AnyConnection::Sqlite(_), _) => query.first(conn).optional()?,
    };
    Ok(found.is_some())
}

/// Whether `actor` is still a member of the event with the role their decision was made on.
fn holds(conn: &mut AnyConnection, event_id: DbId, actor: Actor) -> QueryResult<bool> {
    let role: Option<String> = event_members::table
        .filter(event_members::event_id.eq(event_id))
        .filter(event_members::user_id.eq(DbId::of(actor.user)))
        .select(event_members::role)
        .first(conn)
        .optional()?;
    Ok(role.as_deref() == Some(actor.role.as_str()))
}

/// Before `event`'s title changes from `title`: the invitees who no longer have access to it (their
/// invitation is dead, and they are not members) keep seeing `title` on their invitations, the
/// last title they could know, unless a title was frozen for them before (docs/api.md,
/// "Invitation lifecycle").
fn freeze_titles(conn: &mut AnyConnection, event: DbId, title: &str) -> QueryResult<usize> {
    use diesel::dsl::{exists, not};
    use diesel::IntoSql;
    let now = to_db_time(Utc::now());
    let open = invitations::status.eq_any(crate::invitations::OPEN).and(
        invitations::expires_at
            .is_null()
            .or(invitations::expires_at.assume_not_null().gt(now)),
    );
    let live = open.or(invitations::status.eq(InvitationStatus::Waitlisted.as_str()));
    let dead = invitations::table
        .filter(invitations::event_id.eq(event))
        .filter(not(live))
        .filter(not(invitations::invitee_id.eq_any(
            event_members::table
                .filter(event_members::event_id.eq(event))
                .select(event_members::user_id),
        )))
        .filter(not(exists(
            invitation_titles::table.filter(invitation_titles::invitation_id.eq(invitations::id)),
        )))
        .select((
            invitations::id,
            title.to_owned().into_sql::<diesel::sql_types::Text>(),
        ));
    diesel::insert_into(invitation_titles::table)
        .values(dead)
        .into_columns((invitation_titles::invitation_id, invitation_titles::title))
        .execute(conn)
}

/// Locks the event and checks the actor: `false` when the event is gone or the actor no longer
/// holds their role, and the change must be decided again.
fn premises_hold(conn: &mut AnyConnection, event_id: DbId, actor: Actor) -> QueryResult<bool> {
    Ok(lock_event(conn, event_id, Lock::Change)? && holds(conn, event_id, actor)?)
}

/// The membership row of `user` with the user's summary.
fn member_row(
    conn: &mut AnyConnection,
    event_id: DbId,
    user: DbId,
) -> QueryResult<Option<(MemberRow, SummaryRow)>> {
    event_members::table
        .inner_join(users::table.on(users::id.eq(event_members::user_id)))
        .filter(event_members::event_id.eq(event_id))
        .filter(event_members::user_id.eq(user))
        .select((MemberRow::as_select(), (users::id, users::name)))
        .first(conn)
        .optional()
}

/// A stored row that does not read back, inside a transaction: rolls it back.
pub(crate) fn unreadable(error: PortError) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(Box::new(error))
}

/// An owner's role is for good (also kept by the database's `event_members_keep_owner` trigger);
/// the services never ask otherwise.
fn owner_refused() -> EventWriteError {
    EventWriteError::Port(PortError::unexpected(
        "refused: an event keeps its owner's membership and role",
    ))
}

#[async_trait]
impl EventRepository for Database {
    #[tracing::instrument(skip_all)]
    async fn create(&self, new: NewEvent) -> Result<Event, PortError> {
        let details = &new.details;
        let (capacity, max_guests, waitlist, rsvp_deadline) = rsvp_columns(details.rsvp());
        let row = EventRow {
            id: DbId::of(new.id),
            owner_id: DbId::of(new.owner.id),
            title: details.title().as_str().to_owned(),
            description: details.description().map(|t| t.as_str().to_owned()),
            location: details.location().map(|t| t.as_str().to_owned()),
            starts_at: details.starts_at().map(to_db_time),
            ends_at: details.ends_at().map(to_db_time),
            members_count: 1,
            created_at: to_db_time(new.created_at),
            version: to_db_version(Version::FIRST),
            capacity,
            max_guests,
            waitlist,
            rsvp_deadline,
            seats_taken: 0,
            time_zone: details.time_zone().name().to_owned(),
            reminders: details.reminders().to_stored(),
        };
        let owner = MemberRow {
            id: DbId::of(MemberId::generate()),
            event_id: row.id,
            user_id: row.owner_id,
            role: Role::Owner.as_str().to_owned(),
            joined_at: row.created_at,
            guests: 0,
        };
        let owner_summary = (DbId::of(new.owner.id), new.owner.name.as_str().to_owned());
        let details = new.details;
        self.run(move |conn| {
            write_transaction(conn, |c| {
                diesel::insert_into(events::table).values(&row).execute(c)?;
                diesel::insert_into(event_members::table)
                    .values(&owner)
                    .execute(c)?;
                crate::reminders::schedule(c, row.id, &details)?;
                Ok(())
            })
            .map_err(port_error)?;
            event(row, owner_summary)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_for_member(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Event>, PortError> {
        let (id, viewer) = (DbId::of(id), DbId::of(viewer));
        self.run(move |conn| {
            let row: Option<(EventRow, SummaryRow)> = events::table
                .inner_join(users::table)
                .inner_join(
                    event_members::table.on(event_members::event_id
                        .eq(events::id)
                        .and(event_members::user_id.eq(viewer))),
                )
                .filter(events::id.eq(id))
                .select((EventRow::as_select(), (users::id, users::name)))
                .first(conn)
                .optional()
                .map_err(port_error)?;
            row.map(|(row, owner)| event(row, owner)).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_for_member(
        &self,
        member_id: UserId,
        page: PageRequest,
    ) -> Result<Page<Membership>, PortError> {
        let viewer = DbId::of(member_id);
        let after = page.after.map(DbId::from);
        let fetch = i64::from(page.limit.get()) + 1;
        self.run_read(move |conn| {
            let mut query = events::table
                .inner_join(users::table)
                .inner_join(
                    event_members::table.on(event_members::event_id
                        .eq(events::id)
                        .and(event_members::user_id.eq(viewer))),
                )
                .select((
                    EventRow::as_select(),
                    (users::id, users::name),
                    event_members::role,
                ))
                .order(events::id.desc())
                .limit(fetch)
                .into_boxed();
            if let Some(after) = after {
                query = query.filter(events::id.lt(after));
            }
            let rows: Vec<(EventRow, SummaryRow, String)> = query.load(conn).map_err(port_error)?;
            let memberships = rows
                .into_iter()
                .map(|(row, owner, role)| {
                    Ok(Membership {
                        event: event(row, owner)?,
                        user: member_id,
                        role: Role::parse(&role)
                            .ok_or_else(|| PortError::unexpected("corrupt row: role"))?,
                    })
                })
                .collect::<Result<Vec<_>, PortError>>()?;
            Ok(Page::from_overfetched(memberships, page.limit, |m| {
                m.event.id.as_uuid()
            }))
        })
        .await
    }

    async fn find_rules(&self, id: EventId) -> Result<Option<RsvpRules>, PortError> {
        self.rules_of(id).await
    }

    async fn tally(
        &self,
        ids: &[EventId],
        now: DateTime<Utc>,
    ) -> Result<HashMap<EventId, Tally>, PortError> {
        self.tallies_of(ids, now).await
    }

    async fn set_guests(
        &self,
        event_id: EventId,
        user: UserId,
        guests: u8,
        now: DateTime<Utc>,
    ) -> Result<Member, PartyError> {
        self.change_guests(event_id, user, guests, now).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_members(
        &self,
        event_id: EventId,
        page: PageRequest,
    ) -> Result<Page<Member>, PortError> {
        let event_id = DbId::of(event_id);
        let after = page.after.map(DbId::from);
        let fetch = i64::from(page.limit.get()) + 1;
        self.run_read(move |conn| {
            let mut query = event_members::table
                .inner_join(users::table.on(users::id.eq(event_members::user_id)))
                .filter(event_members::event_id.eq(event_id))
                .select((MemberRow::as_select(), (users::id, users::name)))
                .order(event_members::id.desc())
                .limit(fetch)
                .into_boxed();
            if let Some(after) = after {
                query = query.filter(event_members::id.lt(after));
            }
            let rows: Vec<(MemberRow, SummaryRow)> = query.load(conn).map_err(port_error)?;
            let members = rows
                .into_iter()
                .map(|(row, user)| member(row, user))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetched(members, page.limit, |m| {
                m.id.as_uuid()
            }))
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_membership(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Membership>, PortError> {
        let (id, viewer_id) = (DbId::of(id), DbId::of(viewer));
        self.run(move |conn| {
            let row: Option<(EventRow, SummaryRow, String)> = events::table
                .inner_join(users::table)
                .inner_join(
                    event_members::table.on(event_members::event_id
                        .eq(events::id)
                        .and(event_members::user_id.eq(viewer_id))),
                )
                .filter(events::id.eq(id))
                .select((
                    EventRow::as_select(),
                    (users::id, users::name),
                    event_members::role,
                ))
                .first(conn)
                .optional()
                .map_err(port_error)?;
            row.map(|(row, owner, role)| {
                Ok(Membership {
                    event: event(row, owner)?,
                    user: viewer,
                    role: Role::parse(&role)
                        .ok_or_else(|| PortError::unexpected("corrupt row: role"))?,
                })
            })
            .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_member(
        &self,
        event_id: EventId,
        user: UserId,
    ) -> Result<Option<Member>, PortError> {
        let (event_id, user) = (DbId::of(event_id), DbId::of(user));
        self.run(move |conn| {
            member_row(conn, event_id, user)
                .map_err(port_error)?
                .map(|(row, user)| member(row, user))
                .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(from = from.as_str(), to = to.as_str()))]
    async fn change_role(
        &self,
        event_id: EventId,
        by: Actor,
        target: UserId,
        from: Role,
        to: Role,
    ) -> Result<Member, EventWriteError> {
        if from == Role::Owner || to == Role::Owner {
            return Err(owner_refused());
        }
        let (event_id, target) = (DbId::of(event_id), DbId::of(target));
        let changed = self
            .run(move |conn| {
                let changed = write_transaction(conn, |c| {
                    if !premises_hold(c, event_id, by)? {
                        return Ok(None);
                    }
                    let updated = diesel::update(event_members::table)
                        .filter(event_members::event_id.eq(event_id))
                        .filter(event_members::user_id.eq(target))
                        .filter(event_members::role.eq(from.as_str()))
                        .set(event_members::role.eq(to.as_str()))
                        .execute(c)?;
                    if updated == 0 {
                        return Ok(None);
                    }
                    let Some((row, user)) = member_row(c, event_id, target)? else {
                        return Ok(None);
                    };
                    let changed = member(row, user).map_err(unreadable)?;
                    let event = event_ref(c, event_id)?;
                    record(
                        c,
                        vec![Change::member_role_changed(
                            event,
                            changed.clone(),
                            Utc::now(),
                        )],
                    )?;
                    Ok(Some(changed))
                })
                .map_err(port_error)?;
                changed.ok_or(EventWriteError::Stale)
            })
            .await;
        self.changes_committed();
        changed
    }

    #[tracing::instrument(skip_all, fields(role = role.as_str()))]
    async fn remove_member(
        &self,
        event_id: EventId,
        by: Actor,
        target: UserId,
        role: Role,
    ) -> Result<(), EventWriteError> {
        if role == Role::Owner {
            return Err(owner_refused());
        }
        let (event_id, target) = (DbId::of(event_id), DbId::of(target));
        let removed = self
            .run(move |conn| {
                let removed = write_transaction(conn, |c| {
                    if !premises_hold(c, event_id, by)? {
                        return Ok(false);
                    }
                    // The member as they were, for the change.
                    let Some((row, user)) = member_row(c, event_id, target)? else {
                        return Ok(false);
                    };
                    // Conditional on the row still holding the role the removal was decided on: of
                    // two concurrent removals (or leaves) of one member, one deletes the row, the
                    // other finds none and counts nothing.
                    let deleted = diesel::delete(event_members::table)
                        .filter(event_members::event_id.eq(event_id))
                        .filter(event_members::user_id.eq(target))
                        .filter(event_members::role.eq(role.as_str()))
                        .execute(c)?;
                    if deleted == 0 {
                        return Ok(false);
                    }
                    // Its seats are freed (the owner, who takes none, is never removed).
                    let freed = party(u8::try_from(row.guests).unwrap_or(0));
                    move_seats(c, event_id, -i64::from(freed), -1)?;
                    let removed = member(row.clone(), user.clone()).map_err(unreadable)?;
                    let event = event_ref(c, event_id)?;
                    let now = Utc::now();
                    // Resolved after the removal: the remaining members, and the removed one.
                    record(c, vec![Change::member_removed(event, removed, now)])?;
                    // The seats freed go to the waitlist at once.
                    promote(c, event_id, now)?;
                    Ok(true)
                })
                .map_err(port_error)?;
                if removed {
                    Ok(())
                } else {
                    Err(EventWriteError::Stale)
                }
            })
            .await;
        self.changes_committed();
        removed
    }

    async fn purge_deleted(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        self.purge_deleted_events(before, batch).await
    }

    #[tracing::instrument(skip_all)]
    async fn update(
        &self,
        event_id: EventId,
        by: Actor,
        patch: &EventPatch,
        expected: Option<Version>,
    ) -> Result<Result<Event, EventDetailsError>, EventWriteError> {
        let (id, patch) = (DbId::of(event_id), patch.clone());
        let updated = self
            .run(move |conn| {
                // The patch is applied to the row as stored under the lock, not as the service read
                // it: two edits of different fields both land, and `ends_at >= starts_at` holds on
                // what is stored (the `events_ends_after_start` check stands behind it).
                let mut outcome: Option<Result<Event, EventDetailsError>> = None;
                let mut corrupt: Option<PortError> = None;
                let mut modified = false;
                let result = write_transaction(conn, |c| {
                    outcome = None;
                    modified = false;
                    if !premises_hold(c, id, by)? {
                        return Ok(());
                    }
                    let mut read = |c: &mut AnyConnection| -> QueryResult<Event> {
                        let (row, owner): (EventRow, SummaryRow) = events::table
                            .inner_join(users::table)
                            .filter(events::id.eq(id))
                            .select((EventRow::as_select(), (users::id, users::name)))
                            .first(c)?;
                        event(row, owner).map_err(|error| {
                            corrupt = Some(error);
                            diesel::result::Error::RollbackTransaction
                        })
                    };
                    let stored = read(c)?;
                    let version = expected.unwrap_or(stored.version);
                    if stored.version != version {
                        modified = true;
                        return Ok(());
                    }
                    // A capacity below the seats taken is refused: the seated keep their seats.
                    let merged = patch.apply(&stored.details).and_then(|details| {
                        details.check_seats(stored.seats_taken).map(|()| details)
                    });
                    match merged {
                        Ok(details) => {
                            let row = events::table
                                .filter(events::id.eq(id))
                                .filter(events::version.eq(to_db_version(version)));
                            let (capacity, max_guests, waitlist, rsvp_deadline) =
                                rsvp_columns(details.rsvp());
                            let changed = diesel::update(row)
                                .set((
                                    events::title.eq(details.title().as_str()),
                                    events::description
                                        .eq(details.description().map(|t| t.as_str())),
                                    events::location.eq(details.location().map(|t| t.as_str())),
                                    events::starts_at.eq(details.starts_at().map(to_db_time)),
                                    events::ends_at.eq(details.ends_at().map(to_db_time)),
                                    events::capacity.eq(capacity),
                                    events::max_guests.eq(max_guests),
                                    events::waitlist.eq(waitlist),
                                    events::rsvp_deadline.eq(rsvp_deadline),
                                    events::time_zone.eq(details.time_zone().name()),
                                    events::reminders.eq(details.reminders().to_stored()),
                                    events::version.eq(events::version + 1),
                                ))
                                .execute(c)?;
                            if changed == 0 {
                                modified = true;
                                return Ok(());
                            }
                            if details.title() != stored.details.title() {
                                freeze_titles(c, id, stored.details.title().as_str())?;
                            }
                            // Open invitations expire when answers now close, if that is sooner.
                            if let Some(closes_at) = details.rules().closes_at {
                                clamp_expiries(c, id, to_db_time(closes_at))?;
                            }
                            // Read back: what is stored, times at the database's precision.
                            let updated = read(c)?;
                            if updated.details.starts_at() != stored.details.starts_at()
                                || updated.details.reminders() != stored.details.reminders()
                            {
                                crate::reminders::schedule(c, id, &updated.details)?;
                            }
                            let now = Utc::now();
                            let moved = updated.details.moved_from(&stored.details);
                            record(
                                c,
                                vec![Change::event_updated(updated.clone(), now)
                                    .notifying(moved && !patch.quiet)],
                            )?;
                            // A higher capacity, or a waitlist again, seats the waiting.
                            promote(c, id, now)?;
                            outcome = Some(Ok(read(c)?));
                        }
                        Err(refused) => outcome = Some(Err(refused)),
                    }
                    Ok(())
                });
                match (result, corrupt) {
                    (Err(diesel::result::Error::RollbackTransaction), Some(error)) => {
                        return Err(error.into())
                    }
                    (result, _) => result.map_err(port_error)?,
                }
                if modified {
                    return Err(EventWriteError::Modified);
                }
                outcome.ok_or(EventWriteError::Stale)
            })
            .await;
        self.changes_committed();
        updated
    }

    async fn delete(
        &self,
        event_id: EventId,
        by: Actor,
        now: DateTime<Utc>,
        expected: Option<Version>,
    ) -> Result<u64, EventWriteError> {
        self.delete_event(event_id, by, now, expected).await
    }
}
