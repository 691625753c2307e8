//! Seats and the waitlist (docs/api.md, "Capacity and the waitlist"). An event's `seats_taken`
//! moves only in transactions that hold the event row's lock (an answer's `lock_events`, the
//! event repository's `lock_event`; SQLite's `BEGIN IMMEDIATE` serializes every writer), where the
//! domain's rules decide on the seats as they stand; the check `events_seats_within_capacity`
//! stands behind them, so no race, in one process or several, seats more than the capacity. Seats
//! freed promote the waitlist in the same transaction ([`promote`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::changes::Change;
use domain::events::{Member, Role};
use domain::invitations::InvitationDetails;
use domain::rsvp::{party, RsvpRules, Waiting};
use domain::{InvitationId, InvitationStatus, MemberId};

use crate::changes::{made, record};
use crate::db::AnyConnection;
use crate::events::unreadable;
use crate::invitations::details_of;
use crate::rows::{from_db_time, to_db_time, EventRow, MemberRow};
use crate::schema::{event_members, events, invitations};
use crate::sql_types::{DbId, DbTime};

/// The event's rules and its seats taken, as stored now (call under the event row's lock); `None`
/// when the event is gone.
pub(crate) fn seating(
    conn: &mut AnyConnection,
    event_id: DbId,
) -> QueryResult<Option<(RsvpRules, u32)>> {
    let row: Option<EventRow> = events::table
        .filter(events::id.eq(event_id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let rules = row
        .rsvp()
        .map_err(unreadable)?
        .rules(row.starts_at.map(from_db_time));
    Ok(Some((rules, row.seats().map_err(unreadable)?)))
}

/// Moves the event's seats taken by `delta` (and its members by `members`).
pub(crate) fn move_seats(
    conn: &mut AnyConnection,
    event_id: DbId,
    delta: i64,
    members: i64,
) -> QueryResult<()> {
    let delta = i32::try_from(delta).unwrap_or(i32::MAX);
    diesel::update(events::table.filter(events::id.eq(event_id)))
        .set((
            events::seats_taken.eq(events::seats_taken + delta),
            events::members_count.eq(events::members_count + members),
        ))
        .execute(conn)?;
    Ok(())
}

/// Makes `user` a member bringing `guests`, counting their seats; the new membership, or `None`
/// when they are one already.
pub(crate) fn seat(
    conn: &mut AnyConnection,
    event_id: DbId,
    user: DbId,
    guests: u8,
    at: DbTime,
) -> QueryResult<Option<MemberRow>> {
    let row = MemberRow {
        id: DbId::of(MemberId::generate()),
        event_id,
        user_id: user,
        role: Role::Member.as_str().to_owned(),
        joined_at: at,
        guests: i32::from(guests),
    };
    // ON CONFLICT is not part of diesel's MultiBackend: run it on the concrete one.
    let insert = diesel::insert_into(event_members::table).values(&row);
    let joined = match conn {
        AnyConnection::Pg(pg) => insert.on_conflict_do_nothing().execute(pg)?,
        AnyConnection::Sqlite(sqlite) => insert.on_conflict_do_nothing().execute(sqlite)?,
    };
    if joined == 0 {
        return Ok(None);
    }
    move_seats(conn, event_id, i64::from(party(guests)), 1)?;
    Ok(Some(row))
}

/// The `member.joined` change of a membership [`seat`] made for the invitee of `details`.
pub(crate) fn joined(details: &InvitationDetails, row: &MemberRow) -> Change {
    let member = Member {
        id: MemberId::from_uuid(row.id.uuid()),
        user: details.invitee.clone(),
        role: Role::Member,
        joined_at: from_db_time(row.joined_at),
        guests: u8::try_from(row.guests).unwrap_or(0),
    };
    Change::member_joined(
        domain::changes::EventRef {
            id: details.invitation.event_id(),
            title: details.event_title.clone(),
        },
        member,
    )
}

/// Promotes the event's waitlist into the seats free at `now`, first come first served
/// ([`RsvpRules::promote`]), and records each promotion (`invitation.accepted`, promoted) and
/// membership in this transaction. Call under the event row's lock, after the write that freed
/// seats.
pub(crate) fn promote(
    conn: &mut AnyConnection,
    event_id: DbId,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let Some((rules, taken)) = seating(conn, event_id)? else {
        return Ok(());
    };
    if rules.check_open(now).is_err() || rules.seats_remaining(taken) == Some(0) {
        return Ok(());
    }
    let waiting: Vec<(DbId, i32)> = invitations::table
        .filter(invitations::event_id.eq(event_id))
        .filter(invitations::status.eq(InvitationStatus::Waitlisted.as_str()))
        .order((invitations::answered_at, invitations::id))
        .select((invitations::id, invitations::guests))
        .load(conn)?;
    let queue: Vec<Waiting> = waiting
        .iter()
        .map(|(id, guests)| Waiting {
            invitation: InvitationId::from_uuid(id.uuid()),
            guests: u8::try_from(*guests).unwrap_or(u8::MAX),
        })
        .collect();
    let promoted = rules.promote(taken, &queue, now);
    if promoted.is_empty() {
        return Ok(());
    }
    let at = to_db_time(now);
    let ids: Vec<DbId> = promoted.iter().map(|w| DbId::of(w.invitation)).collect();
    let updated = diesel::update(invitations::table)
        .filter(invitations::id.eq_any(&ids))
        .filter(invitations::status.eq(InvitationStatus::Waitlisted.as_str()))
        .set((
            invitations::status.eq(InvitationStatus::Accepted.as_str()),
            invitations::version.eq(invitations::version + 1),
        ))
        .execute(conn)?;
    if updated != ids.len() {
        // Under the event's lock nothing else changes its waitlist: a store that disagrees is
        // rolled back rather than half promoted.
        return Err(diesel::result::Error::RollbackTransaction);
    }
    let mut changes = Vec::with_capacity(ids.len() * 2);
    for details in details_of(conn, &ids)? {
        let guests = details.invitation.guests();
        let invitee = DbId::of(details.invitation.invitee_id());
        let member = seat(conn, event_id, invitee, guests, at)?;
        changes.push(made(Change::invitation_promoted(details.clone(), now))?);
        if let Some(row) = member {
            changes.push(joined(&details, &row));
        }
    }
    record(conn, changes)
}

/// Where each waitlisted invitation of `details` stands in its event's waitlist (1 is next), read
/// in one query for all the events among them.
pub(crate) fn with_positions(
    conn: &mut AnyConnection,
    details: &mut [InvitationDetails],
) -> QueryResult<()> {
    let mut events: Vec<DbId> = details
        .iter()
        .filter(|d| d.invitation.status() == InvitationStatus::Waitlisted)
        .map(|d| DbId::of(d.invitation.event_id()))
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    events.sort_unstable();
    events.dedup();
    let queues: Vec<(DbId, DbId)> = invitations::table
        .filter(invitations::event_id.eq_any(&events))
        .filter(invitations::status.eq(InvitationStatus::Waitlisted.as_str()))
        .order((
            invitations::event_id,
            invitations::answered_at,
            invitations::id,
        ))
        .select((invitations::event_id, invitations::id))
        .load(conn)?;
    let mut positions: HashMap<DbId, u32> = HashMap::with_capacity(queues.len());
    let mut place = 0;
    let mut current = None;
    for (event, id) in queues {
        if current != Some(event) {
            (current, place) = (Some(event), 0);
        }
        place += 1;
        positions.insert(id, place);
    }
    for d in details.iter_mut() {
        if let Some(&position) = positions.get(&DbId::of(d.invitation.id())) {
            d.invitation = d.invitation.clone().at_waitlist_position(Some(position));
        }
    }
    Ok(())
}
