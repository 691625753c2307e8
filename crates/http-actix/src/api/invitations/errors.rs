//! How the invitations area's operation errors reach clients.

use domain::invitations::NotPending;
use domain::invitations::{
    AnswerInvitationError, GetInvitationError, ListEventInvitationsError, ManageInvitationError,
    SendInvitationsError,
};

use crate::error::ApiError;
use crate::rate_limit::RetryAfter;

impl From<NotPending> for ApiError {
    fn from(reason: NotPending) -> Self {
        match reason {
            NotPending::Answered => Self::AlreadyAnswered,
            NotPending::Cancelled => Self::InvitationCancelled,
            NotPending::Expired => Self::InvitationExpired,
        }
    }
}

impl From<SendInvitationsError> for ApiError {
    fn from(error: SendInvitationsError) -> Self {
        match error {
            SendInvitationsError::EventNotFound => Self::NotFound(crate::t!("not-found-event")),
            SendInvitationsError::NotOwner => {
                Self::Forbidden(crate::t!("forbidden-send-invitations"))
            }
            SendInvitationsError::Closed(at) => Self::RsvpClosed(at),
            SendInvitationsError::Port(error) => error.into(),
        }
    }
}

impl From<GetInvitationError> for ApiError {
    fn from(error: GetInvitationError) -> Self {
        match error {
            GetInvitationError::NotFound => Self::NotFound(crate::t!("not-found-invitation")),
            GetInvitationError::Port(error) => error.into(),
        }
    }
}

impl From<AnswerInvitationError> for ApiError {
    fn from(error: AnswerInvitationError) -> Self {
        match error {
            AnswerInvitationError::NotFound => Self::NotFound(crate::t!("not-found-invitation")),
            AnswerInvitationError::BySender => Self::Forbidden(crate::t!("forbidden-answer")),
            AnswerInvitationError::NotPending(reason) => reason.into(),
            AnswerInvitationError::Stale => Self::PreconditionFailed,
            AnswerInvitationError::Rsvp(refused) => crate::api::rsvp_refused(refused),
            AnswerInvitationError::Port(error) => error.into(),
        }
    }
}

impl From<ManageInvitationError> for ApiError {
    fn from(error: ManageInvitationError) -> Self {
        match error {
            ManageInvitationError::NotFound => Self::NotFound(crate::t!("not-found-invitation")),
            ManageInvitationError::ByInvitee => Self::Forbidden(crate::t!("forbidden-manage")),
            ManageInvitationError::NotPending(reason) => reason.into(),
            ManageInvitationError::TooSoon { retry_after } => {
                Self::TooManyRequests(RetryAfter(retry_after.to_std().unwrap_or_default()))
            }
            ManageInvitationError::Closed(at) => Self::RsvpClosed(at),
            ManageInvitationError::Port(error) => error.into(),
        }
    }
}

impl From<ListEventInvitationsError> for ApiError {
    fn from(error: ListEventInvitationsError) -> Self {
        match error {
            ListEventInvitationsError::EventNotFound => {
                Self::NotFound(crate::t!("not-found-event"))
            }
            ListEventInvitationsError::NotManager => {
                Self::Forbidden(crate::t!("forbidden-list-invitations"))
            }
            ListEventInvitationsError::Port(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use serde_json::json;

    use crate::error::{rendered, unavailable};

    use super::*;

    #[test]
    fn unknown_or_hidden_resources_are_404s() {
        let event = json!({"message": "Event not found.", "code": "not_found"});
        let invitation = json!({"message": "Invitation not found.", "code": "not_found"});
        assert_eq!(
            rendered(SendInvitationsError::EventNotFound),
            (404, event.clone())
        );
        assert_eq!(
            rendered(ListEventInvitationsError::EventNotFound),
            (404, event)
        );
        assert_eq!(
            rendered(GetInvitationError::NotFound),
            (404, invitation.clone())
        );
        assert_eq!(
            rendered(AnswerInvitationError::NotFound),
            (404, invitation.clone())
        );
        assert_eq!(rendered(ManageInvitationError::NotFound), (404, invitation));
    }

    #[test]
    fn members_who_may_not_act_get_403s() {
        let forbidden = |message: &str| (403, json!({"message": message, "code": "forbidden"}));
        assert_eq!(
            rendered(SendInvitationsError::NotOwner),
            forbidden("Only the event's owner and co-hosts can send invitations.")
        );
        assert_eq!(
            rendered(AnswerInvitationError::BySender),
            forbidden("Only the invitee can answer this invitation.")
        );
        assert_eq!(
            rendered(ManageInvitationError::ByInvitee),
            forbidden(
                "Only the sender and the event's owner and co-hosts can cancel or resend this \
                 invitation."
            )
        );
        assert_eq!(
            rendered(ListEventInvitationsError::NotManager),
            forbidden("Only the event's owner and co-hosts can list its invitations.")
        );
    }

    #[test]
    fn an_answer_on_a_version_that_moved_on_is_a_412() {
        assert_eq!(
            rendered(AnswerInvitationError::Stale),
            (
                412,
                json!({
                    "message": "The resource was changed since you read it; fetch it again.",
                    "code": "precondition_failed"
                })
            )
        );
    }

    #[test]
    fn an_invitation_that_is_not_pending_is_a_409_saying_why() {
        let cases = [
            (
                NotPending::Answered,
                "This invitation has already been answered.",
                "invitation_already_answered",
            ),
            (
                NotPending::Cancelled,
                "This invitation has been cancelled.",
                "invitation_cancelled",
            ),
            (
                NotPending::Expired,
                "This invitation has expired.",
                "invitation_expired",
            ),
        ];
        for (reason, message, code) in cases {
            let body = json!({"message": message, "code": code});
            assert_eq!(
                rendered(AnswerInvitationError::NotPending(reason)),
                (409, body.clone())
            );
            assert_eq!(
                rendered(ManageInvitationError::NotPending(reason)),
                (409, body)
            );
        }
    }

    #[test]
    fn a_resend_too_soon_is_a_429_with_the_seconds_to_wait() {
        let error = ApiError::from(ManageInvitationError::TooSoon {
            retry_after: chrono::Duration::milliseconds(61_500),
        });
        let response = error.error_response();
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers().get("retry-after").unwrap(), "62");
        let (status, body) = rendered(error);
        assert_eq!(status, 429);
        assert_eq!(body["code"], "too_many_requests");
    }

    #[test]
    fn storage_failures_of_every_operation_are_5xx() {
        assert_eq!(rendered(SendInvitationsError::Port(unavailable())).0, 503);
        assert_eq!(rendered(GetInvitationError::Port(unavailable())).0, 503);
        assert_eq!(rendered(AnswerInvitationError::Port(unavailable())).0, 503);
        assert_eq!(rendered(ManageInvitationError::Port(unavailable())).0, 503);
        assert_eq!(
            rendered(ListEventInvitationsError::Port(unavailable())).0,
            503
        );
    }
}
