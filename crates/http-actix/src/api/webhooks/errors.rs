//! How the webhooks area's operation errors reach clients.

use domain::webhooks::ports::DestinationRefused;
use domain::webhooks::Webhook;
use domain::webhooks::{CreateWebhookError, WebhookError};

use crate::error::ApiError;

impl From<CreateWebhookError> for ApiError {
    fn from(error: CreateWebhookError) -> Self {
        match error {
            CreateWebhookError::TooMany => Self::WebhookLimitReached {
                max: Webhook::MAX_PER_USER,
            },
            // One sentence for a host that is not public and one that does not resolve: told
            // apart, the answer would tell anyone what names resolve inside our network.
            CreateWebhookError::Destination(
                DestinationRefused::NotPublic | DestinationRefused::Unresolvable,
            ) => Self::invalid("url", crate::t!("url-not-public")),
            CreateWebhookError::Destination(DestinationRefused::PortNotAllowed) => {
                Self::invalid("url", crate::t!("url-port"))
            }
            CreateWebhookError::Destination(DestinationRefused::Busy) => {
                Self::Unavailable(domain::PortError::Unavailable(
                    "too many host names are being looked up at once".into(),
                ))
            }
            CreateWebhookError::Port(error) => error.into(),
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::NotFound => Self::NotFound(crate::t!("not-found-webhook")),
            WebhookError::Disabled => Self::WebhookDisabled,
            WebhookError::Port(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::rendered;

    #[test]
    fn errors_render_as_the_docs_say() {
        assert_eq!(
            rendered(CreateWebhookError::TooMany),
            (
                409,
                json!({
                    "message": "You already have 10 webhooks; delete one to register another.",
                    "code": "webhook_limit_reached"
                })
            )
        );
        assert_eq!(
            rendered(CreateWebhookError::Destination(
                DestinationRefused::Unresolvable
            )),
            (
                422,
                json!({
                    "message": "The url must point to a public address.",
                    "errors": {"url": ["The url must point to a public address."]}
                })
            )
        );
        assert_eq!(
            rendered(WebhookError::NotFound),
            (
                404,
                json!({"message": "Webhook not found.", "code": "not_found"})
            )
        );
    }
}
