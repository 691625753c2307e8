//! Response bodies of the events area.

use chrono::{DateTime, Utc};
use domain::events::{Member, Role};
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
    /// Who made it; the one member with the role `owner`.
    pub owner: UserSummaryBody,
    /// How many members it has, the owner included.
    pub members_count: u64,
    /// When it was made.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<domain::events::Event> for EventBody {
    fn from(event: domain::events::Event) -> Self {
        let details = &event.details;
        Self {
            id: event.id.as_uuid(),
            title: details.title().as_str().to_owned(),
            description: details.description().map(|text| text.as_str().to_owned()),
            location: details.location().map(|text| text.as_str().to_owned()),
            starts_at: details.starts_at(),
            ends_at: details.ends_at(),
            owner: event.owner.into(),
            members_count: event.members_count,
            created_at: event.created_at,
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
        }
    }
}
