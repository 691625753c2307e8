//! How a link's errors reach apps.

use domain::links::LinkError;

use crate::error::ApiError;

impl From<LinkError> for ApiError {
    fn from(error: LinkError) -> Self {
        match error {
            LinkError::Dead => Self::NotFound(crate::t!("link-dead")),
            LinkError::Held => Self::Forbidden(crate::t!("link-held")),
            LinkError::Answer(error) => error.into(),
            LinkError::Port(error) => error.into(),
        }
    }
}
