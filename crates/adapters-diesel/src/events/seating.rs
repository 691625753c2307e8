//! The seats of an event as its repository reads and changes them (docs/api.md, "Capacity and the
//! waitlist"): the rules answers follow, the hosts' tallies, a member's party, and open
//! invitations' expiry when answers close earlier. Seating itself is `crate::seats`'.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::changes::Change;
use domain::events::ports::PartyError;
use domain::events::{Member, Role};
use domain::ports::PortError;
use domain::rsvp::{RsvpRules, Tally};
use domain::{EventId, InvitationStatus, UserId};

use super::{lock_event, member_row, unreadable, Lock};
use crate::changes::{event_ref, record};
use crate::db::{port_error, write_transaction, AnyConnection, Database};
use crate::rows::{from_db_time, member, to_db_time, EventRow};
use crate::schema::{event_members, events, invitations};
use crate::seats::{move_seats, promote, seating};
use crate::sql_types::{DbId, DbTime};

/// The statuses counted in an event's tally.
const COUNTED: [&str; 5] = ["pending", "tentative", "accepted", "waitlisted", "rejected"];
/// Open invitations of the event expiring after `closes_at` (or never) expire then: answers close
/// at the RSVP deadline or the start, whichever is sooner.
pub(super) fn clamp_expiries(
    conn: &mut AnyConnection,
    event_id: DbId,
    closes_at: DbTime,
) -> QueryResult<()> {
    diesel::update(invitations::table)
        .filter(invitations::event_id.eq(event_id))
        .filter(invitations::status.eq_any(crate::invitations::OPEN))
        .filter(
            invitations::expires_at
                .is_null()
                .or(invitations::expires_at.gt(closes_at)),
        )
        .set((
            invitations::expires_at.eq(closes_at),
            invitations::version.eq(invitations::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

impl Database {
    /// [`domain::events::ports::EventRepository::find_rules`].
    #[tracing::instrument(skip_all)]
    pub(super) async fn rules_of(&self, id: EventId) -> Result<Option<RsvpRules>, PortError> {
        let id = DbId::of(id);
        self.run(move |conn| {
            let row: Option<EventRow> = events::table
                .filter(events::id.eq(id))
                .select(EventRow::as_select())
                .first(conn)
                .optional()
                .map_err(port_error)?;
            row.map(|row| Ok(row.rsvp()?.rules(row.starts_at.map(from_db_time))))
                .transpose()
        })
        .await
    }

    /// [`domain::events::ports::EventRepository::tally`]: the seats, and one grouped count of the invitations.
    #[tracing::instrument(skip_all, fields(events = ids.len()))]
    pub(super) async fn tallies_of(
        &self,
        ids: &[EventId],
        now: DateTime<Utc>,
    ) -> Result<HashMap<EventId, Tally>, PortError> {
        let ids: Vec<DbId> = ids.iter().copied().map(DbId::of).collect();
        let now = to_db_time(now);
        self.run(move |conn| {
            let seats: Vec<(DbId, i32)> = events::table
                .filter(events::id.eq_any(&ids))
                .select((events::id, events::seats_taken))
                .load(conn)
                .map_err(port_error)?;
            // Counted by status as of `now`: open invitations past their expiry are neither
            // pending nor "maybe" any more; cancelled and expired ones are not counted.
            let counted: Vec<(DbId, String, i64)> = invitations::table
                .filter(invitations::event_id.eq_any(&ids))
                .filter(invitations::status.eq_any(COUNTED))
                .filter(
                    invitations::status
                        .ne_all(crate::invitations::OPEN)
                        .or(invitations::expires_at.is_null())
                        .or(invitations::expires_at.gt(now)),
                )
                .group_by((invitations::event_id, invitations::status))
                .select((
                    invitations::event_id,
                    invitations::status,
                    diesel::dsl::count_star(),
                ))
                .load(conn)
                .map_err(port_error)?;
            let mut tallies: HashMap<EventId, Tally> = HashMap::with_capacity(seats.len());
            for (id, seats_taken) in seats {
                tallies.insert(
                    EventId::from_uuid(id.uuid()),
                    Tally {
                        seats_taken: u32::try_from(seats_taken)
                            .map_err(|_| PortError::unexpected("corrupt row: seats_taken"))?,
                        ..Tally::default()
                    },
                );
            }
            for (id, status, count) in counted {
                let Some(tally) = tallies.get_mut(&EventId::from_uuid(id.uuid())) else {
                    continue;
                };
                let count = u64::try_from(count).unwrap_or(0);
                match InvitationStatus::parse(&status) {
                    Some(InvitationStatus::Pending) => tally.pending = count,
                    Some(InvitationStatus::Tentative) => tally.tentative = count,
                    Some(InvitationStatus::Accepted) => tally.accepted = count,
                    Some(InvitationStatus::Waitlisted) => tally.waitlisted = count,
                    Some(InvitationStatus::Rejected) => tally.rejected = count,
                    _ => {}
                }
            }
            Ok(tallies)
        })
        .await
    }

    /// [`domain::events::ports::EventRepository::set_guests`], in one transaction under the event row's lock.
    #[tracing::instrument(skip_all, fields(guests))]
    pub(super) async fn change_guests(
        &self,
        event_id: EventId,
        user: UserId,
        guests: u8,
        now: DateTime<Utc>,
    ) -> Result<Member, PartyError> {
        let (event_id, user) = (DbId::of(event_id), DbId::of(user));
        let changed = self
            .run(move |conn| {
                write_transaction(conn, |c| {
                    if !lock_event(c, event_id, Lock::Change)? {
                        return Ok(Err(PartyError::NotMember));
                    }
                    let Some((row, _)) = member_row(c, event_id, user)? else {
                        return Ok(Err(PartyError::NotMember));
                    };
                    if row.role == Role::Owner.as_str() {
                        return Ok(Err(PartyError::Owner));
                    }
                    let Some((rules, taken)) = seating(c, event_id)? else {
                        return Ok(Err(PartyError::NotMember));
                    };
                    let before = u8::try_from(row.guests).unwrap_or(0);
                    if let Err(refused) = rules.change_party(taken, before, guests, now) {
                        return Ok(Err(PartyError::Refused(refused)));
                    }
                    diesel::update(event_members::table)
                        .filter(event_members::id.eq(row.id))
                        .set(event_members::guests.eq(i32::from(guests)))
                        .execute(c)?;
                    move_seats(c, event_id, i64::from(guests) - i64::from(before), 0)?;
                    // The accepted invitation says what the party is now.
                    diesel::update(invitations::table)
                        .filter(invitations::event_id.eq(event_id))
                        .filter(invitations::invitee_id.eq(user))
                        .filter(invitations::status.eq(InvitationStatus::Accepted.as_str()))
                        .filter(invitations::guests.ne(i32::from(guests)))
                        .set((
                            invitations::guests.eq(i32::from(guests)),
                            invitations::version.eq(invitations::version + 1),
                        ))
                        .execute(c)?;
                    let Some((row, summary)) = member_row(c, event_id, user)? else {
                        return Err(diesel::result::Error::NotFound);
                    };
                    let changed = member(row, summary).map_err(unreadable)?;
                    if guests != before {
                        let event = event_ref(c, event_id)?;
                        record(
                            c,
                            vec![Change::member_party_changed(event, changed.clone(), now)],
                        )?;
                    }
                    // Seats freed go to the waitlist at once, told after the change that freed them.
                    if guests < before {
                        promote(c, event_id, now)?;
                    }
                    Ok(Ok(changed))
                })
                .map_err(|error| PartyError::Port(port_error(error)))?
            })
            .await;
        self.changes_committed();
        changed
    }
}
