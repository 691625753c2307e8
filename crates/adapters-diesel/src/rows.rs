//! Database rows and their conversions to and from domain values.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::accounts::{Locale, User, UserSummary};
use domain::events::{Event, EventDetails, Member, Role};
use domain::invitations::{Invitation, InvitationDetails, InvitationState, StoredInvitation};
use domain::ports::PortError;
use domain::rsvp::RsvpSettings;
use domain::{
    Answer, Email, EventId, InvitationId, InvitationStatus, MemberId, Mobile, Text, UserId, Version,
};

use crate::schema::{event_members, events, invitations, users};
use crate::sql_types::{DbId, DbTime};

/// Timestamps are stored in UTC (`timestamptz` on PostgreSQL), truncated to microseconds
/// (PostgreSQL's precision) so that what is written reads back equal.
pub(crate) fn to_db_time(at: DateTime<Utc>) -> DbTime {
    use chrono::Timelike;
    let naive = at.naive_utc();
    DbTime::from_utc(
        naive
            .with_nanosecond(naive.nanosecond() / 1_000 * 1_000)
            .unwrap_or(naive),
    )
}

pub(crate) fn from_db_time(at: DbTime) -> DateTime<Utc> {
    at.utc().and_utc()
}

/// Reads an id stored as text (the stage's recipient lists); a malformed one means the database
/// was written by something else.
pub(crate) fn parse_id(text: &str) -> Result<DbId, PortError> {
    text.parse().map_err(PortError::unexpected)
}

fn corrupt(what: &str) -> PortError {
    PortError::unexpected(format!("corrupt row: {what}"))
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: DbId,
    pub name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub password_hash: Option<String>,
    pub created_at: DbTime,
    pub email_verified_at: Option<DbTime>,
    pub mobile_verified_at: Option<DbTime>,
    pub pending_email: Option<String>,
    pub pending_mobile: Option<String>,
    pub locale: String,
}

impl TryFrom<UserRow> for User {
    type Error = PortError;

    fn try_from(row: UserRow) -> Result<Self, PortError> {
        Ok(User {
            id: UserId::from_uuid(row.id.uuid()),
            name: Text::from_stored(row.name),
            // Trusted as stored: checked and normalized when written, never parsed again (no
            // phone-number library call per read), so a row accepted once stays readable even if
            // the rules tighten, and one odd row cannot fail a login, a list or a batch.
            email: row.email.map(Email::from_stored),
            email_verified_at: row.email_verified_at.map(from_db_time),
            pending_email: row.pending_email.map(Email::from_stored),
            mobile: row.mobile.map(Mobile::from_stored),
            mobile_verified_at: row.mobile_verified_at.map(from_db_time),
            pending_mobile: row.pending_mobile.map(Mobile::from_stored),
            locale: Locale::parse(&row.locale).ok_or_else(|| corrupt("locale"))?,
            has_password: row.password_hash.is_some(),
            created_at: from_db_time(row.created_at),
        })
    }
}

/// `(id, name)` of a user, as selected for summaries.
pub(crate) type SummaryRow = (DbId, String);

pub(crate) fn summary(row: SummaryRow) -> Result<UserSummary, PortError> {
    Ok(UserSummary {
        id: UserId::from_uuid(row.0.uuid()),
        name: Text::from_stored(row.1),
    })
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = events)]
pub(crate) struct EventRow {
    pub id: DbId,
    pub owner_id: DbId,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub starts_at: Option<DbTime>,
    pub ends_at: Option<DbTime>,
    pub members_count: i64,
    pub created_at: DbTime,
    pub version: i64,
    pub capacity: Option<i32>,
    pub max_guests: i32,
    pub waitlist: bool,
    pub rsvp_deadline: Option<DbTime>,
    pub seats_taken: i32,
    pub time_zone: String,
    pub reminders: Option<String>,
}

impl EventRow {
    /// The RSVP settings as stored; the checks `events_capacity` and `events_max_guests` keep them
    /// in range.
    pub(crate) fn rsvp(&self) -> Result<RsvpSettings, PortError> {
        let capacity = self
            .capacity
            .map(u32::try_from)
            .transpose()
            .map_err(|_| corrupt("capacity"))?;
        let max_guests = u8::try_from(self.max_guests).map_err(|_| corrupt("max_guests"))?;
        RsvpSettings::new(
            capacity,
            max_guests,
            self.waitlist,
            self.rsvp_deadline.map(from_db_time),
        )
        .map_err(|_| corrupt("RSVP settings"))
    }

    /// The seats taken as stored.
    pub(crate) fn seats(&self) -> Result<u32, PortError> {
        u32::try_from(self.seats_taken).map_err(|_| corrupt("seats_taken"))
    }
}

/// The RSVP columns of an event, as written.
pub(crate) fn rsvp_columns(rsvp: &RsvpSettings) -> (Option<i32>, i32, bool, Option<DbTime>) {
    (
        rsvp.capacity().and_then(|c| i32::try_from(c).ok()),
        i32::from(rsvp.max_guests()),
        rsvp.waitlist(),
        rsvp.rsvp_deadline().map(to_db_time),
    )
}

pub(crate) fn event(row: EventRow, owner: SummaryRow) -> Result<Event, PortError> {
    let rsvp = row.rsvp()?;
    let seats_taken = row.seats()?;
    let details = EventDetails::new(
        Text::from_stored(row.title),
        row.description.map(Text::from_stored),
        row.location.map(Text::from_stored),
        row.starts_at.map(from_db_time),
        row.ends_at.map(from_db_time),
    )
    .and_then(|details| details.with_rsvp(rsvp))
    .map_err(|_| corrupt("event times"))?
    .with_time_zone(
        domain::events::TimeZone::parse(&row.time_zone).map_err(|_| corrupt("time_zone"))?,
    )
    .with_reminders(
        domain::reminders::Reminders::from_stored(row.reminders.as_deref())
            .map_err(|_| corrupt("reminders"))?,
    );
    Ok(Event {
        id: EventId::from_uuid(row.id.uuid()),
        details,
        owner: summary(owner)?,
        members_count: u64::try_from(row.members_count).map_err(|_| corrupt("members_count"))?,
        seats_taken,
        created_at: from_db_time(row.created_at),
        version: from_db_version(row.version)?,
    })
}

/// A row's version as stored (docs/api.md, "Conditional requests").
pub(crate) fn to_db_version(version: Version) -> i64 {
    i64::try_from(version.get()).unwrap_or(i64::MAX)
}

/// A stored version; a version below 1 is corrupt.
pub(crate) fn from_db_version(version: i64) -> Result<Version, PortError> {
    u64::try_from(version)
        .ok()
        .filter(|v| *v >= 1)
        .map(Version::new)
        .ok_or_else(|| corrupt("version"))
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = event_members)]
pub(crate) struct MemberRow {
    pub id: DbId,
    pub event_id: DbId,
    pub user_id: DbId,
    pub role: String,
    pub joined_at: DbTime,
    pub guests: i32,
}

pub(crate) fn member(row: MemberRow, user: SummaryRow) -> Result<Member, PortError> {
    Ok(Member {
        id: MemberId::from_uuid(row.id.uuid()),
        user: summary(user)?,
        role: Role::parse(&row.role).ok_or_else(|| corrupt("role"))?,
        joined_at: from_db_time(row.joined_at),
        guests: u8::try_from(row.guests).map_err(|_| corrupt("guests"))?,
    })
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = invitations)]
pub(crate) struct InvitationRow {
    pub id: DbId,
    pub event_id: DbId,
    pub sender_id: DbId,
    pub invitee_id: DbId,
    pub contact: String,
    pub status: String,
    pub created_at: DbTime,
    pub answered_at: Option<DbTime>,
    pub message: Option<String>,
    pub expires_at: Option<DbTime>,
    pub cancelled_at: Option<DbTime>,
    pub last_resent_at: Option<DbTime>,
    pub version: i64,
    pub held_contact: Option<String>,
    pub guests: i32,
    pub comment: Option<String>,
}

impl From<&Invitation> for InvitationRow {
    fn from(invitation: &Invitation) -> Self {
        Self {
            id: DbId::of(invitation.id()),
            event_id: DbId::of(invitation.event_id()),
            sender_id: DbId::of(invitation.sender_id()),
            invitee_id: DbId::of(invitation.invitee_id()),
            contact: invitation.contact().to_owned(),
            status: invitation.status().as_str().to_owned(),
            created_at: to_db_time(invitation.created_at()),
            answered_at: invitation.answered_at().map(to_db_time),
            message: invitation.message().map(|m| m.as_str().to_owned()),
            expires_at: invitation.expires_at().map(to_db_time),
            cancelled_at: invitation.cancelled_at().map(to_db_time),
            last_resent_at: invitation.last_resent_at().map(to_db_time),
            version: to_db_version(invitation.version()),
            held_contact: invitation.held_contact().map(str::to_owned),
            guests: i32::from(invitation.guests()),
            comment: invitation.comment().map(|c| c.as_str().to_owned()),
        }
    }
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = PortError;

    fn try_from(row: InvitationRow) -> Result<Self, PortError> {
        let status = InvitationStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?;
        // The checks invitations_answered_at_iff_answered and
        // invitations_cancelled_at_iff_cancelled keep these in step (a "maybe" or waitlisted
        // answer that was later cancelled or expired keeps its answered_at).
        let state = match (status, row.answered_at, row.cancelled_at) {
            (InvitationStatus::Pending, None, None) => InvitationState::Pending,
            (InvitationStatus::Tentative, Some(at), None) => InvitationState::Tentative {
                at: from_db_time(at),
            },
            (InvitationStatus::Waitlisted, Some(at), None) => InvitationState::Waitlisted {
                at: from_db_time(at),
            },
            (InvitationStatus::Accepted, Some(at), None) => InvitationState::Answered {
                answer: Answer::Accept,
                at: from_db_time(at),
            },
            (InvitationStatus::Rejected, Some(at), None) => InvitationState::Answered {
                answer: Answer::Reject,
                at: from_db_time(at),
            },
            (InvitationStatus::Cancelled, _, Some(at)) => InvitationState::Cancelled {
                at: from_db_time(at),
            },
            (InvitationStatus::Expired, _, None) => InvitationState::Expired,
            _ => return Err(corrupt("answered_at or cancelled_at disagrees with status")),
        };
        Ok(Invitation::restore(StoredInvitation {
            id: InvitationId::from_uuid(row.id.uuid()),
            event_id: EventId::from_uuid(row.event_id.uuid()),
            sender_id: UserId::from_uuid(row.sender_id.uuid()),
            invitee_id: UserId::from_uuid(row.invitee_id.uuid()),
            contact: row.contact,
            // Trusted as stored, like names and titles.
            message: row.message.map(Text::from_stored),
            created_at: from_db_time(row.created_at),
            expires_at: row.expires_at.map(from_db_time),
            last_resent_at: row.last_resent_at.map(from_db_time),
            state,
            version: from_db_version(row.version)?,
            held_contact: row.held_contact,
            guests: u8::try_from(row.guests).map_err(|_| corrupt("guests"))?,
            comment: row.comment.map(Text::from_stored),
        }))
    }
}

/// An invitation row with the event title, the title its invitee last saw if frozen, and both
/// parties, as the lists select it.
pub(crate) type InvitationDetailsRow = (
    InvitationRow,
    String,
    Option<String>,
    SummaryRow,
    SummaryRow,
    bool,
    Option<String>,
);

pub(crate) fn invitation_details(
    row: InvitationDetailsRow,
) -> Result<InvitationDetails, PortError> {
    let (invitation, title, frozen, sender, invitee, deleted, sender_role) = row;
    let event_deleted = if deleted {
        Some(domain::invitations::DeletedEvent {
            sender_role: sender_role
                .map(|role| Role::parse(&role).ok_or_else(|| corrupt("role")))
                .transpose()?,
        })
    } else {
        None
    };
    Ok(InvitationDetails {
        event_deleted,
        invitation: invitation.try_into()?,
        invitee_title: Text::from_stored(frozen.unwrap_or_else(|| title.clone())),
        event_title: Text::from_stored(title),
        sender: summary(sender)?,
        invitee: summary(invitee)?,
    })
}
