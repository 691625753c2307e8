//! The bodies of the change feed: each change as `{"id", "type", "occurred_at", "data"}`, `data`
//! being the resource as the rest of the API shows it.

use chrono::{DateTime, Utc};
use domain::changes::{ChangeKind, ChangeSubject, EventRef, RecordedChange};
use domain::webhooks::ports::ChangeRenderer;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::events::responses::{EventBody, MemberBody};
use crate::api::invitations::responses::{InvitationBody, InvitationEventBody};
use crate::json::timestamp;

/// The kind of a change.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = ChangeType)]
pub enum ChangeTypeBody {
    /// Invitations were sent; `data` is the invitation.
    #[serde(rename = "invitation.created")]
    InvitationCreated,
    /// The invitee accepted, or was promoted from the waitlist (`promoted`); `data` is the
    /// invitation.
    #[serde(rename = "invitation.accepted")]
    InvitationAccepted,
    /// The invitee said "maybe"; `data` is the invitation.
    #[serde(rename = "invitation.tentative")]
    InvitationTentative,
    /// The invitee accepted a full event and waits for a seat; `data` is the invitation, with its
    /// `waitlist_position`.
    #[serde(rename = "invitation.waitlisted")]
    InvitationWaitlisted,
    /// The invitee rejected; `data` is the invitation.
    #[serde(rename = "invitation.rejected")]
    InvitationRejected,
    /// Cancelled by its sender or a manager, or with its event; `data` is the invitation.
    #[serde(rename = "invitation.cancelled")]
    InvitationCancelled,
    /// Expired while pending; `data` is the invitation.
    #[serde(rename = "invitation.expired")]
    InvitationExpired,
    /// Resent, with a new expiry; `data` is the invitation.
    #[serde(rename = "invitation.resent")]
    InvitationResent,
    /// Someone joined; `data` is the member with its event.
    #[serde(rename = "member.joined")]
    MemberJoined,
    /// Someone left or was removed; `data` is the member as they were, with its event.
    #[serde(rename = "member.removed")]
    MemberRemoved,
    /// The owner changed a role; `data` is the member with the new role, with its event.
    #[serde(rename = "member.role_changed")]
    MemberRoleChanged,
    /// A member changed the guests they bring; `data` is the member with the new `guests`, with
    /// its event.
    #[serde(rename = "member.party_changed")]
    MemberPartyChanged,
    /// The event was edited; `data` is the event.
    #[serde(rename = "event.updated")]
    EventUpdated,
    /// The owner deleted the event; `data` is its id and title.
    #[serde(rename = "event.deleted")]
    EventDeleted,
}

impl From<ChangeKind> for ChangeTypeBody {
    fn from(kind: ChangeKind) -> Self {
        match kind {
            ChangeKind::InvitationCreated => Self::InvitationCreated,
            ChangeKind::InvitationAccepted => Self::InvitationAccepted,
            ChangeKind::InvitationTentative => Self::InvitationTentative,
            ChangeKind::InvitationWaitlisted => Self::InvitationWaitlisted,
            ChangeKind::InvitationRejected => Self::InvitationRejected,
            ChangeKind::InvitationCancelled => Self::InvitationCancelled,
            ChangeKind::InvitationExpired => Self::InvitationExpired,
            ChangeKind::InvitationResent => Self::InvitationResent,
            ChangeKind::MemberJoined => Self::MemberJoined,
            ChangeKind::MemberRemoved => Self::MemberRemoved,
            ChangeKind::MemberRoleChanged => Self::MemberRoleChanged,
            ChangeKind::MemberPartyChanged => Self::MemberPartyChanged,
            ChangeKind::EventUpdated => Self::EventUpdated,
            ChangeKind::EventDeleted => Self::EventDeleted,
        }
    }
}

/// A member of an event, in a member change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MemberChange)]
pub struct MemberChangeBody {
    /// The event.
    pub event: InvitationEventBody,
    /// The member.
    #[serde(flatten)]
    pub member: MemberBody,
}

/// A deleted event. Closed to other properties, so that an Event's data (which also has an id and
/// a title) is not one of these too.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeletedEvent)]
#[serde(deny_unknown_fields)]
pub struct DeletedEventBody {
    /// The event's id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
}

/// What a change is about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ChangeDataBody {
    /// For `invitation.*`.
    Invitation(InvitationBody),
    /// For `member.*`.
    Member(MemberChangeBody),
    /// For `event.updated`.
    Event(EventBody),
    /// For `event.deleted`.
    DeletedEvent(DeletedEventBody),
}

fn event_ref(event: EventRef) -> InvitationEventBody {
    InvitationEventBody {
        id: event.id.as_uuid(),
        title: event.title.into_string(),
        // A membership changes only while its event stands.
        deleted: false,
    }
}

/// One change (docs/api.md, "Change feed and live stream").
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Change)]
pub struct ChangeBody {
    /// Its number: strictly increasing, in the order changes can be seen.
    #[schema(example = 42)]
    pub id: i64,
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: ChangeTypeBody,
    /// `invitation.accepted` only: whether a freed seat promoted the invitee from the waitlist
    /// (docs/api.md, "Capacity and the waitlist").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promoted: Option<bool>,
    /// When it happened.
    #[serde(serialize_with = "timestamp")]
    pub occurred_at: DateTime<Utc>,
    /// The resource as it was after the change.
    pub data: ChangeDataBody,
}

impl From<RecordedChange> for ChangeBody {
    fn from(recorded: RecordedChange) -> Self {
        let change = recorded.change;
        let (kind, occurred_at) = (change.kind(), change.occurred_at());
        let promoted = (kind == ChangeKind::InvitationAccepted).then(|| change.is_promoted());
        let data = match change.subject().clone() {
            ChangeSubject::Invitation(details) => ChangeDataBody::Invitation(details.into()),
            ChangeSubject::Member { event, member } => ChangeDataBody::Member(MemberChangeBody {
                event: event_ref(event),
                member: member.into(),
            }),
            ChangeSubject::Event(event) => ChangeDataBody::Event(event.into()),
            ChangeSubject::DeletedEvent(event) => ChangeDataBody::DeletedEvent(DeletedEventBody {
                id: event.id.as_uuid(),
                title: event.title.into_string(),
            }),
        };
        Self {
            id: recorded.id.0,
            kind: kind.into(),
            promoted,
            occurred_at,
            data,
        }
    }
}

/// A change as a stream sends it: its id, its type and its JSON, rendered once per process and
/// shared by every stream it goes to.
#[derive(Debug, Clone)]
pub struct RenderedChange {
    /// The change's id (`id:`).
    pub id: domain::changes::ChangeId,
    /// Its type (`event:`).
    pub kind: &'static str,
    /// [`ChangeBody`] as JSON (`data:`).
    pub json: bytestring::ByteString,
}

impl From<RecordedChange> for RenderedChange {
    fn from(recorded: RecordedChange) -> Self {
        let (id, kind) = (recorded.id, recorded.change.kind().as_str());
        // Serializing our own bodies cannot fail (no maps with non-string keys, no I/O).
        let json = serde_json::to_string(&ChangeBody::from(recorded)).unwrap_or_default();
        Self {
            id,
            kind,
            json: json.into(),
        }
    }
}

/// Renders changes as the feed shows them: the body of a webhook delivery (docs/api.md,
/// "Webhooks").
#[derive(Debug, Default, Clone, Copy)]
pub struct ChangeJson;

impl ChangeRenderer for ChangeJson {
    fn render(&self, change: &RecordedChange) -> String {
        // Serializing our own bodies cannot fail (no maps with non-string keys, no I/O).
        serde_json::to_string(&ChangeBody::from(change.clone())).unwrap_or_default()
    }
}

/// Where the feed continues.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FeedMeta)]
pub struct FeedMetaBody {
    /// The page size asked for.
    #[schema(example = 50, minimum = 1, maximum = 100)]
    pub limit: u32,
    /// Pass it as `after` for the next page, or to poll for newer changes: the last change's id,
    /// or the `after` given when there were none.
    #[schema(example = 42)]
    pub next_after: i64,
}

/// A page of the caller's feed, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Feed)]
pub struct FeedBody {
    /// The changes.
    pub data: Vec<ChangeBody>,
    /// Where it continues.
    pub meta: FeedMetaBody,
}

/// A stream ticket.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StreamTicket)]
pub struct StreamTicketBody {
    /// Pass it as `?ticket=` to `GET /api/v1/me/stream`, once, within a minute.
    #[schema(example = "c2VjcmV0LXRpY2tldC1mb3Itb25lLXN0cmVhbQ")]
    pub ticket: String,
    /// When it stops working.
    #[serde(serialize_with = "timestamp")]
    pub expires_at: DateTime<Utc>,
}
