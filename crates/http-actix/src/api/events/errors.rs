//! How the events area's operation errors reach clients.

use domain::services::GetEventError;

use crate::error::ApiError;

/// 404 body of an event that does not exist or that the caller may not see.
pub(crate) const EVENT_NOT_FOUND: &str = "Event not found.";

impl From<GetEventError> for ApiError {
    fn from(error: GetEventError) -> Self {
        match error {
            GetEventError::NotFound => Self::NotFound(EVENT_NOT_FOUND.to_owned()),
            GetEventError::Port(error) => error.into(),
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
        assert_eq!(
            rendered(GetEventError::NotFound),
            (
                404,
                json!({"message": "Event not found.", "code": "not_found"})
            )
        );
        assert_eq!(rendered(GetEventError::Port(unavailable())).0, 503);
    }
}
