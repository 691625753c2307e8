//! Response bodies of one-click links.

use chrono::{DateTime, Utc};
use domain::links::LinkView;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::accounts::UserSummaryBody;
use crate::api::invitations::responses::StatusBody;
use crate::json::optional_timestamp;

/// What a link opens (docs/api.md, "Answering from a message"): the invitation as its invitee
/// sees it, without its contact or its invitee (a link can be forwarded).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Rsvp)]
pub struct RsvpBody {
    /// The invitation.
    pub invitation: RsvpInvitationBody,
    /// Its event.
    pub event: RsvpEventBody,
    /// Who sent it.
    pub sender: UserSummaryBody,
    /// Whether it waits for its contact to be proven: then the link shows it, and only the
    /// contact's proven owner answers it, in the app.
    pub held: bool,
}

/// The invitation a link opens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RsvpInvitation)]
pub struct RsvpInvitationBody {
    /// Its id.
    pub id: Uuid,
    /// Where it stands.
    pub status: StatusBody,
    /// The sender's note, or `null`.
    #[schema(required = true)]
    pub message: Option<String>,
    /// The guests the answer brings.
    #[schema(minimum = 0, maximum = 10)]
    pub guests: u8,
    /// The invitee's comment with their answer, or `null`.
    #[schema(required = true)]
    pub comment: Option<String>,
    /// While waitlisted, its place in the waitlist (1 is next); otherwise `null`.
    #[schema(required = true, minimum = 1)]
    pub waitlist_position: Option<u32>,
    /// When it stops being answerable; `null`: never.
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was answered.
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub answered_at: Option<DateTime<Utc>>,
}

/// The event a link's invitation is to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RsvpEvent)]
pub struct RsvpEventBody {
    /// Its id.
    pub id: Uuid,
    /// The title.
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
    /// The most guests one invitee may bring.
    #[schema(minimum = 0, maximum = 10)]
    pub max_guests: u8,
    /// After when no answer is taken (answers also close at `starts_at`).
    #[schema(required = true)]
    #[serde(serialize_with = "optional_timestamp")]
    pub rsvp_deadline: Option<DateTime<Utc>>,
    /// The IANA time zone it happens in.
    #[schema(example = "Asia/Tehran")]
    pub time_zone: String,
}

impl From<LinkView> for RsvpBody {
    fn from(view: LinkView) -> Self {
        let LinkView {
            details,
            event,
            held,
            ..
        } = view;
        let invitation = &details.invitation;
        let rsvp = event.details.rsvp();
        Self {
            invitation: RsvpInvitationBody {
                id: invitation.id().as_uuid(),
                status: invitation.status().into(),
                message: invitation.message().map(|m| m.as_str().to_owned()),
                guests: invitation.guests(),
                comment: invitation.comment().map(|c| c.as_str().to_owned()),
                waitlist_position: invitation.waitlist_position(),
                expires_at: invitation.expires_at(),
                answered_at: invitation.answered_at(),
            },
            event: RsvpEventBody {
                id: event.id.as_uuid(),
                title: details.event_title.as_str().to_owned(),
                description: event.details.description().map(|t| t.as_str().to_owned()),
                location: event.details.location().map(|t| t.as_str().to_owned()),
                starts_at: event.details.starts_at(),
                ends_at: event.details.ends_at(),
                max_guests: rsvp.max_guests(),
                rsvp_deadline: rsvp.rsvp_deadline(),
                time_zone: event.details.time_zone().name().to_owned(),
            },
            sender: details.sender.into(),
            held,
        }
    }
}
