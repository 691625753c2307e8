//! How a link's errors reach apps.

use domain::links::LinkError;

use crate::error::ApiError;

/// What a dead link answers: the same for an unknown token and a closed invitation.
pub(super) const DEAD_LINK: &str =
    "This link does not open an invitation: it is mistyped, or its invitation was answered, \
     cancelled or has expired.";

/// What a held invitation's link answers to an answer.
pub(super) const HELD: &str = "This invitation waits for its email or mobile to be proven: sign \
     in or sign up with it, prove it, and answer in the app.";

impl From<LinkError> for ApiError {
    fn from(error: LinkError) -> Self {
        match error {
            LinkError::Dead => Self::NotFound(DEAD_LINK.to_owned()),
            LinkError::Held => Self::Forbidden(HELD.to_owned()),
            LinkError::Answer(error) => error.into(),
            LinkError::Port(error) => error.into(),
        }
    }
}
