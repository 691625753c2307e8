//! How the invitations area's operation errors reach clients.

use domain::services::{AnswerInvitationError, GetInvitationError, SendInvitationsError};

use crate::api::events::EVENT_NOT_FOUND;
use crate::error::ApiError;

const INVITATION_NOT_FOUND: &str = "Invitation not found.";

impl From<SendInvitationsError> for ApiError {
    fn from(error: SendInvitationsError) -> Self {
        match error {
            SendInvitationsError::EventNotFound => Self::NotFound(EVENT_NOT_FOUND.to_owned()),
            SendInvitationsError::NotOwner => {
                Self::Forbidden("Only the event's owner can send invitations.".to_owned())
            }
            SendInvitationsError::Port(error) => error.into(),
        }
    }
}

impl From<GetInvitationError> for ApiError {
    fn from(error: GetInvitationError) -> Self {
        match error {
            GetInvitationError::NotFound => Self::NotFound(INVITATION_NOT_FOUND.to_owned()),
            GetInvitationError::Port(error) => error.into(),
        }
    }
}

impl From<AnswerInvitationError> for ApiError {
    fn from(error: AnswerInvitationError) -> Self {
        match error {
            AnswerInvitationError::NotFound => Self::NotFound(INVITATION_NOT_FOUND.to_owned()),
            AnswerInvitationError::BySender => {
                Self::Forbidden("Only the invitee can answer this invitation.".to_owned())
            }
            AnswerInvitationError::AlreadyAnswered => Self::AlreadyAnswered,
            AnswerInvitationError::Port(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::error::{rendered, unavailable};

    use super::*;

    #[test]
    fn unknown_or_hidden_resources_are_404s() {
        let event = json!({"message": "Event not found.", "code": "not_found"});
        let invitation = json!({"message": "Invitation not found.", "code": "not_found"});
        assert_eq!(rendered(SendInvitationsError::EventNotFound), (404, event));
        assert_eq!(
            rendered(GetInvitationError::NotFound),
            (404, invitation.clone())
        );
        assert_eq!(rendered(AnswerInvitationError::NotFound), (404, invitation));
    }

    #[test]
    fn members_who_may_not_act_get_403s() {
        assert_eq!(
            rendered(SendInvitationsError::NotOwner),
            (
                403,
                json!({"message": "Only the event's owner can send invitations.", "code": "forbidden"})
            )
        );
        assert_eq!(
            rendered(AnswerInvitationError::BySender),
            (
                403,
                json!({"message": "Only the invitee can answer this invitation.", "code": "forbidden"})
            )
        );
    }

    #[test]
    fn answering_twice_is_a_409() {
        assert_eq!(
            rendered(AnswerInvitationError::AlreadyAnswered),
            (
                409,
                json!({"message": "This invitation has already been answered.", "code": "invitation_already_answered"})
            )
        );
    }

    #[test]
    fn storage_failures_of_every_operation_are_5xx() {
        assert_eq!(rendered(SendInvitationsError::Port(unavailable())).0, 503);
        assert_eq!(rendered(GetInvitationError::Port(unavailable())).0, 503);
        assert_eq!(rendered(AnswerInvitationError::Port(unavailable())).0, 503);
    }
}
