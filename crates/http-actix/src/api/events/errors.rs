//! How the events area's operation errors reach clients.

use domain::events::{
    ChangePartyError, ChangeRoleError, DeleteEventError, EventDetailsError, GetEventError,
    RemoveMemberError, UpdateEventError,
};

use super::requests::{details_error, ends_before_start};
use crate::api::rsvp_refused;
use crate::error::ApiError;

impl From<GetEventError> for ApiError {
    fn from(error: GetEventError) -> Self {
        match error {
            GetEventError::NotFound => Self::NotFound(crate::t!("not-found-event")),
            GetEventError::Port(error) => error.into(),
        }
    }
}

impl From<UpdateEventError> for ApiError {
    fn from(error: UpdateEventError) -> Self {
        match error {
            UpdateEventError::NotFound => Self::NotFound(crate::t!("not-found-event")),
            UpdateEventError::Forbidden => Self::Forbidden(crate::t!("forbidden-edit-event")),
            UpdateEventError::EndsBeforeStart => Self::Validation(ends_before_start()),
            UpdateEventError::Rsvp(EventDetailsError::CapacityBelowSeatsTaken { seats_taken }) => {
                Self::CapacityBelowSeatsTaken(seats_taken)
            }
            UpdateEventError::Rsvp(refused) => Self::Validation(details_error(refused)),
            UpdateEventError::Stale => Self::PreconditionFailed,
            UpdateEventError::Port(error) => error.into(),
        }
    }
}

impl From<DeleteEventError> for ApiError {
    fn from(error: DeleteEventError) -> Self {
        match error {
            DeleteEventError::NotFound => Self::NotFound(crate::t!("not-found-event")),
            DeleteEventError::NotOwner => Self::Forbidden(crate::t!("forbidden-delete-event")),
            DeleteEventError::Stale => Self::PreconditionFailed,
            DeleteEventError::Port(error) => error.into(),
        }
    }
}

impl From<ChangeRoleError> for ApiError {
    fn from(error: ChangeRoleError) -> Self {
        match error {
            ChangeRoleError::EventNotFound => Self::NotFound(crate::t!("not-found-event")),
            ChangeRoleError::NotOwner => Self::Forbidden(crate::t!("forbidden-change-roles")),
            ChangeRoleError::MemberNotFound => Self::NotFound(crate::t!("not-found-member")),
            ChangeRoleError::OwnerRoleIsFixed => {
                Self::invalid("role", crate::t!("owner-role-fixed"))
            }
            ChangeRoleError::Port(error) => error.into(),
        }
    }
}

impl From<ChangePartyError> for ApiError {
    fn from(error: ChangePartyError) -> Self {
        match error {
            ChangePartyError::EventNotFound => Self::NotFound(crate::t!("not-found-event")),
            ChangePartyError::Owner => Self::Forbidden(crate::t!("forbidden-owner-party")),
            ChangePartyError::Rsvp(refused) => rsvp_refused(refused),
            ChangePartyError::Port(error) => error.into(),
        }
    }
}

impl From<RemoveMemberError> for ApiError {
    fn from(error: RemoveMemberError) -> Self {
        match error {
            RemoveMemberError::EventNotFound => Self::NotFound(crate::t!("not-found-event")),
            RemoveMemberError::Forbidden => Self::Forbidden(crate::t!("forbidden-remove-member")),
            RemoveMemberError::MemberNotFound => Self::NotFound(crate::t!("not-found-member")),
            RemoveMemberError::OwnerCannotLeave => {
                Self::invalid("user_id", crate::t!("owner-cannot-leave"))
            }
            RemoveMemberError::Port(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::error::{rendered, unavailable};

    use super::*;

    #[test]
    fn an_unknown_or_hidden_event_is_a_404() {
        let event = json!({"message": "Event not found.", "code": "not_found"});
        assert_eq!(rendered(GetEventError::NotFound), (404, event.clone()));
        assert_eq!(rendered(UpdateEventError::NotFound), (404, event.clone()));
        assert_eq!(rendered(DeleteEventError::NotFound), (404, event.clone()));
        assert_eq!(
            rendered(ChangeRoleError::EventNotFound),
            (404, event.clone())
        );
        assert_eq!(rendered(RemoveMemberError::EventNotFound), (404, event));
        let member = json!({"message": "Member not found.", "code": "not_found"});
        assert_eq!(
            rendered(ChangeRoleError::MemberNotFound),
            (404, member.clone())
        );
        assert_eq!(rendered(RemoveMemberError::MemberNotFound), (404, member));
    }

    #[test]
    fn members_who_may_not_act_get_403s() {
        for (rendered, message) in [
            (
                rendered(UpdateEventError::Forbidden),
                "Only the event's owner and co-hosts can edit it.",
            ),
            (
                rendered(DeleteEventError::NotOwner),
                "Only the event's owner can delete it.",
            ),
            (
                rendered(ChangeRoleError::NotOwner),
                "Only the event's owner can change roles.",
            ),
            (
                rendered(RemoveMemberError::Forbidden),
                "The owner removes anyone, co-hosts remove members, members only themselves.",
            ),
        ] {
            assert_eq!(
                rendered,
                (403, json!({"message": message, "code": "forbidden"}))
            );
        }
    }

    #[test]
    fn a_write_on_a_version_that_moved_on_is_a_412() {
        let failed = json!({
            "message": "The resource was changed since you read it; fetch it again.",
            "code": "precondition_failed"
        });
        assert_eq!(rendered(UpdateEventError::Stale), (412, failed.clone()));
        assert_eq!(rendered(DeleteEventError::Stale), (412, failed));
    }

    #[test]
    fn what_the_owner_cannot_do_to_themself_is_a_422() {
        assert_eq!(
            rendered(ChangeRoleError::OwnerRoleIsFixed),
            (
                422,
                json!({"message": "The owner's role cannot be changed.", "errors": {"role": ["The owner's role cannot be changed."]}})
            )
        );
        assert_eq!(
            rendered(RemoveMemberError::OwnerCannotLeave),
            (
                422,
                json!({"message": "The owner cannot leave the event.", "errors": {"user_id": ["The owner cannot leave the event."]}})
            )
        );
        assert_eq!(
            rendered(UpdateEventError::EndsBeforeStart).1["errors"],
            json!({"ends_at": ["The ends at must be a date after or equal to starts at."]})
        );
    }

    #[test]
    fn storage_failures_of_every_operation_are_5xx() {
        assert_eq!(rendered(GetEventError::Port(unavailable())).0, 503);
        assert_eq!(rendered(UpdateEventError::Port(unavailable())).0, 503);
        assert_eq!(rendered(DeleteEventError::Port(unavailable())).0, 503);
        assert_eq!(rendered(ChangeRoleError::Port(unavailable())).0, 503);
        assert_eq!(rendered(RemoveMemberError::Port(unavailable())).0, 503);
    }
}
