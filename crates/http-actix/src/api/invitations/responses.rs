//! Response bodies of the invitations area.

use chrono::{DateTime, Utc};
use domain::invitations::SendReport;
use domain::invitations::{IgnoreReason, Ignored, InvitationDetails};
use domain::InvitationStatus;
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};
use uuid::Uuid;

use crate::api::accounts::UserSummaryBody;
use crate::error::ErrorBody;
use crate::json::{optional_timestamp, timestamp};

/// The refusals that cancel and resend share (docs/api.md, "Invitation lifecycle").
#[derive(Debug, IntoResponses)]
pub enum ManageInvitationErrors {
    /// The caller is the invitee.
    #[response(status = 403, example = json!({"message": "Only the sender and the event's owner and co-hosts can cancel or resend this invitation.", "code": "forbidden"}))]
    ByInvitee(ErrorBody),
    /// No such invitation, or the caller may not see it.
    #[response(status = 404, example = json!({"message": "Invitation not found.", "code": "not_found"}))]
    NotFound(ErrorBody),
    /// The invitation is not open: answered (`invitation_already_answered`), cancelled
    /// (`invitation_cancelled`) or expired (`invitation_expired`); a resend also when the event's
    /// answers closed (`rsvp_closed`).
    #[response(status = 409, example = json!({"message": "This invitation has been cancelled.", "code": "invitation_cancelled"}))]
    NotPending(ErrorBody),
}

/// An invitation's status.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = InvitationStatus)]
pub enum StatusBody {
    /// Not answered yet.
    Pending,
    /// The invitee said "maybe": still answerable.
    Tentative,
    /// The invitee joined.
    Accepted,
    /// The invitee accepted a full event and waits for a seat.
    Waitlisted,
    /// The invitee declined.
    Rejected,
    /// The sender, the event's owner or a co-host withdrew it while it was pending.
    Cancelled,
    /// Its `expires_at` passed while it was pending or "maybe".
    Expired,
}

impl From<InvitationStatus> for StatusBody {
    fn from(status: InvitationStatus) -> Self {
        match status {
            InvitationStatus::Pending => Self::Pending,
            InvitationStatus::Tentative => Self::Tentative,
            InvitationStatus::Waitlisted => Self::Waitlisted,
            InvitationStatus::Accepted => Self::Accepted,
            InvitationStatus::Rejected => Self::Rejected,
            InvitationStatus::Cancelled => Self::Cancelled,
            InvitationStatus::Expired => Self::Expired,
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
    /// Whether it was deleted (docs/api.md, "Deleting an event"): its invitations stay readable
    /// by their sender and invitee, cancelled, while the event itself is gone.
    pub deleted: bool,
}

/// An invitation (docs/api.md, "Objects": Invitation).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Invitation)]
pub struct InvitationBody {
    /// The invitation's id.
    pub id: Uuid,
    /// The event.
    pub event: InvitationEventBody,
    /// Who sent it (the event's owner or a co-host).
    pub sender: UserSummaryBody,
    /// Who was invited.
    pub invitee: UserSummaryBody,
    /// The email or mobile as the sender typed it.
    #[schema(example = "09352864812")]
    pub contact: String,
    /// Where it stands, as of the response: a pending invitation past its `expires_at` is
    /// `expired`.
    pub status: StatusBody,
    /// The sender's note, or `null`.
    #[schema(required = true, example = "Drinks on the roof, bring a friend.")]
    pub message: Option<String>,
    /// The guests the invitee's answer brings.
    #[schema(minimum = 0, maximum = 10)]
    pub guests: u8,
    /// The invitee's comment with their answer, or `null`: seen by the invitee, the sender and
    /// the event's hosts.
    #[schema(required = true, example = "Bringing my sister.")]
    pub comment: Option<String>,
    /// While waitlisted, its place in the waitlist (1 is next); otherwise `null`.
    #[schema(required = true, minimum = 1)]
    pub waitlist_position: Option<u32>,
    /// When it was sent.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// When it stops being answerable if still pending (a resend pushes it out); `null`: never.
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was answered.
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub answered_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<InvitationDetails> for InvitationBody {
    fn from(details: InvitationDetails) -> Self {
        let InvitationDetails {
            invitation,
            event_title,
            invitee_title: _,
            sender,
            invitee,
            event_deleted,
        } = details;
        Self {
            id: invitation.id().as_uuid(),
            event: InvitationEventBody {
                id: invitation.event_id().as_uuid(),
                title: event_title.into_string(),
                deleted: event_deleted.is_some(),
            },
            contact: invitation.contact().to_owned(),
            status: invitation.status().into(),
            message: invitation.message().map(|m| m.as_str().to_owned()),
            guests: invitation.guests(),
            comment: invitation.comment().map(|c| c.as_str().to_owned()),
            waitlist_position: invitation.waitlist_position(),
            created_at: invitation.created_at(),
            expires_at: invitation.expires_at(),
            answered_at: invitation.answered_at(),
            cancelled_at: invitation.cancelled_at(),
            sender: sender.into(),
            invitee: invitee.into(),
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
    /// The contact has had its day's share of invitations.
    RecipientLimit,
    /// The sender has named their day's share of contacts; the entry was not looked up.
    QuotaExceeded,
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
            IgnoreReason::RecipientLimit => Self::RecipientLimit,
            IgnoreReason::QuotaExceeded => Self::QuotaExceeded,
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
    pub message: String,
}

impl From<Ignored> for IgnoredBody {
    fn from(ignored: Ignored) -> Self {
        Self {
            contact: ignored.contact,
            reason: ignored.reason.into(),
            message: reason_message(ignored.reason),
        }
    }
}

/// The sentence for people of each ignore reason (docs/api.md, "Ignore reasons").
fn reason_message(reason: IgnoreReason) -> String {
    crate::t!(match reason {
        IgnoreReason::NotAUser => "ignored-not-a-user",
        IgnoreReason::InvalidContact => "ignored-invalid-contact",
        IgnoreReason::SelfInvitation => "ignored-self",
        IgnoreReason::AlreadyMember => "ignored-member",
        IgnoreReason::AlreadyInvited => "ignored-invited",
        IgnoreReason::RejectedLastInvitation => "ignored-rejected-last",
        IgnoreReason::DuplicateInRequest => "ignored-duplicate",
        IgnoreReason::RecipientLimit => "ignored-recipient-limit",
        IgnoreReason::QuotaExceeded => "ignored-quota-exceeded",
    })
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
            "event": {
                "id": "019a8b6e-1c2d-7f00-8a00-000000000001",
                "title": "Launch party",
                "deleted": false
            },
            "sender": {"id": "019a8b6e-1c2d-7f00-8a00-000000000010", "name": "Ann"},
            "invitee": {"id": "019a8b6e-1c2d-7f00-8a00-000000000011", "name": "Bob"},
            "contact": "09352864812",
            "status": "pending",
            "message": "Drinks on the roof, bring a friend.",
            "guests": 0,
            "comment": null,
            "waitlist_position": null,
            "created_at": "2026-11-26T10:00:00Z",
            "expires_at": "2026-12-03T10:00:00Z",
            "answered_at": null,
            "cancelled_at": null
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
