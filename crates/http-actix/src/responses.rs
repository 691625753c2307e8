//! Response bodies (SPEC §2) and their construction from domain values. Timestamps are RFC 3339 in
//! UTC with whole seconds and a `Z`.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::services::{SendReport, Session};
use domain::{
    IgnoreReason, Ignored, InvitationDetails, InvitationStatus, Member, Page, PageRequest, Role,
};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::pagination::Cursor;

fn timestamp<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn optional_timestamp<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => timestamp(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// `{"data": ...}`: the envelope of every single-object answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Data<T> {
    /// The object.
    pub data: T,
}

impl<T> Data<T> {
    /// Wraps `data`.
    pub fn new(data: T) -> Self {
        Self { data }
    }
}

/// `{"data": [...], "meta": {...}}`: one page of a list, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    /// The items.
    pub data: Vec<T>,
    /// Where the list continues.
    pub meta: PageMeta,
}

/// The position of a page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageMeta {
    /// The page size asked for.
    #[schema(example = 50, minimum = 1, maximum = 100)]
    pub limit: u32,
    /// Pass it as `cursor` to get the next page; `null` on the last page.
    #[schema(required = true, example = "AQGZP5tNf3cQpzK4mx7nhE4")]
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    /// Converts a domain page, given the request it answers.
    pub fn new<U>(page: Page<U>, request: PageRequest, item: impl FnMut(U) -> T) -> Self {
        let next_cursor = page.next_after.map(|after| Cursor::new(after).encode());
        let limit = request.limit.get();
        Self {
            data: page.items.into_iter().map(item).collect(),
            meta: PageMeta { limit, next_cursor },
        }
    }
}

/// A user's own profile (SPEC §2, "User").
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserBody {
    /// The user's id.
    pub id: Uuid,
    /// Display name.
    #[schema(example = "Ann")]
    pub name: String,
    /// Email, lowercased.
    #[schema(required = true, format = Email, example = "ann@example.com")]
    pub email: Option<String>,
    /// Mobile in E.164.
    #[schema(required = true, example = "+989352864812")]
    pub mobile: Option<String>,
    /// When the account was made.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<domain::User> for UserBody {
    fn from(user: domain::User) -> Self {
        Self {
            id: user.id.as_uuid(),
            name: user.name.into_string(),
            email: user.email.map(|email| email.as_str().to_owned()),
            mobile: user.mobile.map(|mobile| mobile.as_str().to_owned()),
            created_at: user.created_at,
        }
    }
}

/// What anyone may see of a user (SPEC §2, "User summary").
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserSummary)]
pub struct UserSummaryBody {
    /// The user's id.
    pub id: Uuid,
    /// Display name.
    #[schema(example = "Ann")]
    pub name: String,
}

impl From<domain::UserSummary> for UserSummaryBody {
    fn from(user: domain::UserSummary) -> Self {
        Self {
            id: user.id.as_uuid(),
            name: user.name.into_string(),
        }
    }
}

/// A new session: the user and their bearer token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionBody {
    /// Who logged in.
    pub user: UserBody,
    /// The bearer token; shown once.
    pub token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// When the token stops working.
    #[serde(serialize_with = "timestamp")]
    pub expires_at: DateTime<Utc>,
}

impl From<Session> for SessionBody {
    fn from(session: Session) -> Self {
        Self {
            user: session.user.into(),
            token: session.token,
            token_type: "Bearer",
            expires_at: session.expires_at,
        }
    }
}

/// An event (SPEC §2, "Event").
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
    /// Who made it; the only one who sends its invitations.
    pub owner: UserSummaryBody,
    /// How many members it has, the owner included.
    pub members_count: u64,
    /// When it was made.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<domain::Event> for EventBody {
    fn from(event: domain::Event) -> Self {
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
    /// Made the event.
    Owner,
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
    /// Owner or member.
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
                Role::Member => RoleBody::Member,
            },
            joined_at: member.joined_at,
        }
    }
}

/// An invitation's status.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = InvitationStatus)]
pub enum StatusBody {
    /// Not answered yet.
    Pending,
    /// The invitee joined.
    Accepted,
    /// The invitee declined.
    Rejected,
}

impl From<InvitationStatus> for StatusBody {
    fn from(status: InvitationStatus) -> Self {
        match status {
            InvitationStatus::Pending => Self::Pending,
            InvitationStatus::Accepted => Self::Accepted,
            InvitationStatus::Rejected => Self::Rejected,
        }
    }
}

/// The event an invitation is to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvitationEvent)]
pub struct InvitationEventBody {
    /// The event's id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
}

/// An invitation (SPEC §2, "Invitation").
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Invitation)]
pub struct InvitationBody {
    /// The invitation's id.
    pub id: Uuid,
    /// The event.
    pub event: InvitationEventBody,
    /// Who sent it (the event's owner).
    pub sender: UserSummaryBody,
    /// Who was invited.
    pub invitee: UserSummaryBody,
    /// The email or mobile as the sender typed it.
    #[schema(example = "09352864812")]
    pub contact: String,
    /// Where it stands.
    pub status: StatusBody,
    /// When it was sent.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// When it was answered.
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub answered_at: Option<DateTime<Utc>>,
}

impl From<InvitationDetails> for InvitationBody {
    fn from(details: InvitationDetails) -> Self {
        let invitation = &details.invitation;
        Self {
            id: invitation.id().as_uuid(),
            event: InvitationEventBody {
                id: invitation.event_id().as_uuid(),
                title: details.event_title.as_str().to_owned(),
            },
            contact: invitation.contact().to_owned(),
            status: invitation.status().into(),
            created_at: invitation.created_at(),
            answered_at: invitation.answered_at(),
            sender: details.sender.into(),
            invitee: details.invitee.into(),
        }
    }
}

/// Why an entry was not sent.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = IgnoreReason)]
pub enum IgnoreReasonBody {
    /// R4: nobody has that contact.
    NotAUser,
    /// R2: neither an email nor a mobile.
    InvalidContact,
    /// R5: the sender's own contact.
    SelfInvitation,
    /// R6: already a member.
    AlreadyMember,
    /// R7: a pending invitation exists.
    AlreadyInvited,
    /// R8: the user rejected their last invitation to the event.
    RejectedLastInvitation,
    /// R9: an earlier entry reached the same user.
    DuplicateInRequest,
}

impl From<IgnoreReason> for IgnoreReasonBody {
    fn from(reason: IgnoreReason) -> Self {
        match reason {
            IgnoreReason::NotAUser => Self::NotAUser,
            IgnoreReason::InvalidContact => Self::InvalidContact,
            IgnoreReason::SelfInvitation => Self::SelfInvitation,
            IgnoreReason::AlreadyMember => Self::AlreadyMember,
            IgnoreReason::AlreadyInvited => Self::AlreadyInvited,
            IgnoreReason::RejectedLastInvitation => Self::RejectedLastInvitation,
            IgnoreReason::DuplicateInRequest => Self::DuplicateInRequest,
        }
    }
}

/// An entry of a send that was not sent, and why.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IgnoredEntry)]
pub struct IgnoredBody {
    /// The entry as typed (trimmed).
    #[schema(example = "09303030300")]
    pub contact: String,
    /// Why, for programs.
    pub reason: IgnoreReasonBody,
    /// Why, for people.
    #[schema(example = "No user has this email or mobile.")]
    pub message: &'static str,
}

impl From<Ignored> for IgnoredBody {
    fn from(ignored: Ignored) -> Self {
        Self {
            contact: ignored.contact,
            reason: ignored.reason.into(),
            message: ignored.reason.message(),
        }
    }
}

/// What a send did, both lists in request order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SendReport)]
pub struct SendReportBody {
    /// The invitations created.
    pub sent: Vec<InvitationBody>,
    /// The entries not sent.
    pub ignored: Vec<IgnoredBody>,
}

/// The answer to a send: a summary sentence and the report.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SendInvitationsResponse, example = json!({
    "message": "1 invitation sent, 1 ignored.",
    "data": {
        "sent": [{
            "id": "019a8b6e-1c2d-7f00-8a00-000000000003",
            "event": {"id": "019a8b6e-1c2d-7f00-8a00-000000000001", "title": "Launch party"},
            "sender": {"id": "019a8b6e-1c2d-7f00-8a00-000000000010", "name": "Ann"},
            "invitee": {"id": "019a8b6e-1c2d-7f00-8a00-000000000011", "name": "Bob"},
            "contact": "09352864812",
            "status": "pending",
            "created_at": "2026-11-26T10:00:00Z",
            "answered_at": null
        }],
        "ignored": [{"contact": "09303030300", "reason": "not_a_user", "message": "No user has this email or mobile."}]
    }
}))]
pub struct SendInvitationsBody {
    /// `2 invitations sent, 1 ignored.`
    pub message: String,
    /// The report.
    pub data: SendReportBody,
}

impl From<SendReport> for SendInvitationsBody {
    fn from(report: SendReport) -> Self {
        let (sent, ignored) = (report.sent.len(), report.ignored.len());
        let noun = if sent == 1 {
            "invitation"
        } else {
            "invitations"
        };
        Self {
            message: format!("{sent} {noun} sent, {ignored} ignored."),
            data: SendReportBody {
                sent: report.sent.into_iter().map(Into::into).collect(),
                ignored: report.ignored.into_iter().map(Into::into).collect(),
            },
        }
    }
}

/// The answer of the health probes.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    /// `ok` (live) or `ready`.
    #[schema(example = "ok")]
    pub status: &'static str,
}
