//! Response bodies of the events area.

use chrono::{DateTime, Utc};
use domain::events::{EventView, Member, Role};
use domain::reminders::{Audience, Reminder};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::accounts::UserSummaryBody;
use crate::json::{optional_timestamp, timestamp};

/// An event (docs/api.md, "Objects": Event).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventBody {
    /// The event's id.
    pub id: Uuid,
    /// The title.
    #[schema(example = "Launch party")]
    pub title: String,
    /// The description.
    #[schema(required = true)]
    pub description: Option<String>,
    /// Where it happens.
    #[schema(required = true)]
    pub location: Option<String>,
    /// When it starts.
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub starts_at: Option<DateTime<Utc>>,
    /// When it ends.
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub ends_at: Option<DateTime<Utc>>,
    /// How many seats it has (members other than the owner, and their guests); null: unlimited
    /// (docs/api.md, "Capacity and the waitlist").
    #[schema(required = true, minimum = 1, maximum = 100000, example = 40)]
    pub capacity: Option<u32>,
    /// The most guests one invitee may bring.
    #[schema(minimum = 0, maximum = 10)]
    pub max_guests: u8,
    /// Whether accepting a full event joins its waitlist (else `409 event_full`).
    pub waitlist: bool,
    /// After when no answer is taken (answers also close at `starts_at`).
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub rsvp_deadline: Option<DateTime<Utc>>,
    /// The IANA time zone it happens in (`UTC` unless set); its times are UTC all the same.
    #[schema(example = "Asia/Tehran")]
    pub time_zone: String,
    /// Its reminders (docs/api.md, "Reminders"), in the order given; `before` in its largest whole
    /// unit (`24h` reads `1d`).
    pub reminders: Vec<ReminderBody>,
    /// Who made it; the one member with the role `owner`.
    pub owner: UserSummaryBody,
    /// How many members it has, the owner included.
    pub members_count: u64,
    /// For its owner and co-hosts only (absent for other members): seats taken, members other
    /// than the owner and their guests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seats_taken: Option<u32>,
    /// For its owner and co-hosts only: seats left; null when the capacity is unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u32>)]
    pub seats_remaining: Option<Option<u32>>,
    /// For its owner and co-hosts only: invitations waiting for a seat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waitlist_count: Option<u64>,
    /// For its owner and co-hosts only: invitations by status (pending and tentative ones that
    /// have expired are not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<CountsBody>,
    /// When it was made.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

/// A reminder rule (docs/api.md, "Reminders").
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Reminder)]
pub struct ReminderBody {
    /// How long before the start it goes out, in its largest whole unit: `90m`, `36h`, `1d`.
    #[schema(example = "1d", pattern = "^[1-9][0-9]*[mhd]$")]
    pub before: String,
    /// Whom it reminds.
    pub to: AudienceBody,
}

/// Whom a reminder reminds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ReminderAudience)]
pub enum AudienceBody {
    /// The members but the owner.
    Accepted,
    /// The invitees who answered maybe.
    Tentative,
    /// The invitees who have not answered.
    Pending,
}

impl From<&Reminder> for ReminderBody {
    fn from(rule: &Reminder) -> Self {
        Self {
            before: rule.before_text(),
            to: match rule.to() {
                Audience::Accepted => AudienceBody::Accepted,
                Audience::Tentative => AudienceBody::Tentative,
                Audience::Pending => AudienceBody::Pending,
            },
        }
    }
}

/// An event's invitations counted by status.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvitationCounts)]
pub struct CountsBody {
    /// Not answered yet.
    pub pending: u64,
    /// "Maybe".
    pub tentative: u64,
    /// Accepted (promoted ones included).
    pub accepted: u64,
    /// Declined.
    pub rejected: u64,
    /// Waiting for a seat.
    pub waitlisted: u64,
}

impl From<domain::events::Event> for EventBody {
    /// The event as every member sees it: without its tally.
    fn from(event: domain::events::Event) -> Self {
        let details = &event.details;
        let rsvp = details.rsvp();
        Self {
            id: event.id.as_uuid(),
            title: details.title().as_str().to_owned(),
            description: details.description().map(|text| text.as_str().to_owned()),
            location: details.location().map(|text| text.as_str().to_owned()),
            starts_at: details.starts_at(),
            ends_at: details.ends_at(),
            capacity: rsvp.capacity(),
            max_guests: rsvp.max_guests(),
            waitlist: rsvp.waitlist(),
            rsvp_deadline: rsvp.rsvp_deadline(),
            time_zone: details.time_zone().name().to_owned(),
            reminders: details.reminders().rules().iter().map(Into::into).collect(),
            owner: event.owner.into(),
            members_count: event.members_count,
            seats_taken: None,
            seats_remaining: None,
            waitlist_count: None,
            counts: None,
            created_at: event.created_at,
        }
    }
}

impl From<EventView> for EventBody {
    /// The event as one member sees it: with its tally for its hosts.
    fn from(view: EventView) -> Self {
        let capacity = view.event.details.rsvp().capacity();
        let body = Self::from(view.event);
        match view.tally {
            None => body,
            Some(tally) => Self {
                seats_taken: Some(tally.seats_taken),
                seats_remaining: Some(capacity.map(|c| c.saturating_sub(tally.seats_taken))),
                waitlist_count: Some(tally.waitlisted),
                counts: Some(CountsBody {
                    pending: tally.pending,
                    tentative: tally.tentative,
                    accepted: tally.accepted,
                    rejected: tally.rejected,
                    waitlisted: tally.waitlisted,
                }),
                ..body
            },
        }
    }
}

/// A member's role.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Role)]
pub enum RoleBody {
    /// Made the event; deletes it and changes roles.
    Owner,
    /// Named by the owner: sends the event's invitations, edits it, removes members.
    Cohost,
    /// Joined by accepting an invitation.
    Member,
}

/// One member of an event: the user's summary, role and join time.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Member)]
pub struct MemberBody {
    /// The user's id (not the membership's).
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Owner, co-host or member.
    pub role: RoleBody,
    /// When they joined.
    #[serde(serialize_with = "timestamp")]
    pub joined_at: DateTime<Utc>,
    /// The guests they bring (the owner: always 0).
    #[schema(minimum = 0, maximum = 10)]
    pub guests: u8,
}

impl From<Member> for MemberBody {
    fn from(member: Member) -> Self {
        Self {
            id: member.user.id.as_uuid(),
            name: member.user.name.into_string(),
            role: match member.role {
                Role::Owner => RoleBody::Owner,
                Role::Cohost => RoleBody::Cohost,
                Role::Member => RoleBody::Member,
            },
            joined_at: member.joined_at,
            guests: member.guests,
        }
    }
}
