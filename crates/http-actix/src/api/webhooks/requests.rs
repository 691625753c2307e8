//! Request bodies of the webhooks area and their conversion into domain values.

use domain::webhooks::{
    DestinationPolicy, WebhookEvents, WebhookEventsError, WebhookUrl, WebhookUrlError,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::changes::responses::ChangeTypeBody;
use crate::validation::{
    attribute, must_be_string, required_string, selected_invalid, ValidationErrors,
};

/// `POST /api/v1/webhooks`: where to deliver, and optionally which kinds of change.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "url": "https://hooks.example.com/event-manager",
    "events": ["invitation.created", "invitation.accepted"]
}))]
pub struct CreateWebhookRequest {
    /// An absolute `https://` URL (up to 2,048 characters) whose host is a public address, without
    /// credentials or fragment. Where the server allows private destinations
    /// (`WEBHOOK_ALLOW_PRIVATE`), `http://` and private addresses too.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 2048)]
    url: Option<Value>,
    /// The kinds of change to receive (at least one; each once); leave it out, or `null`, for
    /// every kind, including kinds added later.
    #[schema(value_type = Option<Vec<ChangeTypeBody>>, min_items = 1)]
    events: Option<Value>,
}

/// What a valid request asks for.
#[derive(Debug)]
pub struct NewWebhook {
    /// Where.
    pub url: WebhookUrl,
    /// Which kinds.
    pub events: WebhookEvents,
}

impl CreateWebhookRequest {
    /// Parses both fields, the URL under the server's destination policy.
    ///
    /// # Errors
    /// Every invalid field.
    pub fn try_into_domain(
        self,
        policy: DestinationPolicy,
    ) -> Result<NewWebhook, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let url = errors.take(
            "url",
            required_string("url", self.url)
                .and_then(|raw| WebhookUrl::parse(&raw, policy).map_err(|e| url_error(e, policy))),
        );
        let events = match self.events {
            None | Some(Value::Null) => Some(WebhookEvents::All),
            Some(Value::Array(items)) => events(&items, &mut errors),
            Some(_) => {
                errors.add(
                    "events",
                    crate::t!("validation-array", attribute = attribute("events")),
                );
                None
            }
        };
        match (url, events) {
            (Some(url), Some(events)) if errors.is_empty() => Ok(NewWebhook { url, events }),
            _ => Err(errors),
        }
    }
}

/// Reads the `events` array: strings naming kinds, reporting each bad item under `events.N`.
fn events(items: &[Value], errors: &mut ValidationErrors) -> Option<WebhookEvents> {
    let mut names = Vec::with_capacity(items.len());
    let mut ok = true;
    for (index, item) in items.iter().enumerate() {
        let field = format!("events.{index}");
        match item.as_str() {
            Some(name) => names.push(name),
            None => {
                errors.add(field.clone(), must_be_string(&field));
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    match WebhookEvents::parse(&names) {
        Ok(events) => Some(events),
        Err(WebhookEventsError::Empty) => {
            errors.add("events", crate::t!("webhook-events-empty"));
            None
        }
        Err(WebhookEventsError::Unknown { index }) => {
            let field = format!("events.{index}");
            errors.add(field.clone(), selected_invalid(&field));
            None
        }
    }
}

/// The sentence for a URL [`WebhookUrl::parse`] refused.
pub(crate) fn url_error(error: WebhookUrlError, policy: DestinationPolicy) -> String {
    match error {
        WebhookUrlError::TooLong { max } => {
            crate::t!(
                "validation-max-characters",
                attribute = attribute("url"),
                max = max
            )
        }
        WebhookUrlError::Invalid => crate::t!("url-invalid"),
        WebhookUrlError::Scheme => match policy {
            DestinationPolicy::PublicOnly => crate::t!("url-https"),
            DestinationPolicy::AllowPrivate => {
                crate::t!("url-http")
            }
        },
        WebhookUrlError::Credentials => {
            crate::t!("url-credentials")
        }
        WebhookUrlError::Fragment => crate::t!("url-fragment"),
        WebhookUrlError::NotPublic => crate::t!("url-not-public"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use domain::changes::ChangeKind;

    use super::*;
    use crate::validation::test_support::{body, errors_json};

    fn parse(value: Value) -> Result<NewWebhook, Value> {
        body::<CreateWebhookRequest>(value)
            .try_into_domain(DestinationPolicy::PublicOnly)
            .map_err(errors_json)
    }

    #[test]
    fn a_url_and_optional_kinds_are_read() {
        let all = parse(json!({"url": "https://hooks.example.com/x"})).unwrap();
        assert_eq!(all.url.as_str(), "https://hooks.example.com/x");
        assert_eq!(all.events, WebhookEvents::All);
        let some = parse(json!({"url": "https://example.com", "events": ["invitation.accepted", "invitation.accepted"]})).unwrap();
        assert_eq!(
            some.events.kinds(),
            Some(&[ChangeKind::InvitationAccepted][..])
        );
        assert_eq!(
            parse(json!({"url": "https://example.com", "events": null}))
                .unwrap()
                .events,
            WebhookEvents::All
        );
    }

    #[test]
    fn every_bad_field_is_reported_in_laravels_form() {
        assert_eq!(
            parse(json!({})).unwrap_err(),
            json!({"message": "The url field is required.", "errors": {"url": ["The url field is required."]}})
        );
        assert_eq!(
            parse(json!({"url": "http://example.com", "events": []})).unwrap_err(),
            json!({
                "message": "The url must start with https://. (and 1 more error)",
                "errors": {
                    "url": ["The url must start with https://."],
                    "events": ["The events must have at least 1 item."]
                }
            })
        );
        assert_eq!(
            parse(json!({"url": "https://10.0.0.1/", "events": ["invitation.created", 7, "nope"]}))
                .unwrap_err()["errors"],
            json!({
                "url": ["The url must point to a public address."],
                "events.1": ["The events.1 must be a string."]
            })
        );
        assert_eq!(
            parse(json!({"url": "https://example.com", "events": ["invitation.created", "nope"]}))
                .unwrap_err()["errors"],
            json!({"events.1": ["The selected events.1 is invalid."]})
        );
        assert_eq!(
            parse(json!({"url": 5, "events": "invitation.created"})).unwrap_err()["errors"],
            json!({"url": ["The url must be a string."], "events": ["The events must be an array."]})
        );
        assert_eq!(
            parse(json!({"url": "https://a:b@example.com/"})).unwrap_err()["errors"]["url"],
            json!(["The url must not contain a user name or password."])
        );
    }
}
