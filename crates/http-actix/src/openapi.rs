//! The OpenAPI document's root: the API's description, server, tags and security scheme, each
//! area's part merged in, and the webhook deliveries the service sends. The areas know nothing of
//! this module.

use serde_json::{json, Value};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

use crate::api::{accounts, calendars, changes, events, health, invitations, links, webhooks};
use crate::error::{
    ErrorBody, ErrorCode, ServerErrorBody, UnauthenticatedBody, ValidationErrorBody,
};

/// The document of the whole API, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    for part in [
        accounts::Doc::openapi(),
        events::Doc::openapi(),
        calendars::Doc::openapi(),
        changes::Doc::openapi(),
        invitations::Doc::openapi(),
        links::Doc::openapi(),
        webhooks::Doc::openapi(),
        health::Doc::openapi(),
    ] {
        document.merge(part);
    }
    // After the merge: the aliases copy the areas' paths, with their parameters as stated.
    EmptyQueryValues.modify(&mut document);
    Aliases.modify(&mut document);
    crate::idempotency::Documented.modify(&mut document);
    PublicOperations.modify(&mut document);
    ExamplesOfTheWhole.modify(&mut document);
    Webhooks.modify(&mut document);
    document
}

/// The operations that take no token. Every other operation names the `bearer` scheme.
const PUBLIC_OPERATIONS: [&str; 9] = [
    "register",
    "login",
    "login_code",
    "forgot_password",
    "reset_password",
    "live",
    "ready",
    "view_rsvp",
    "answer_rsvp",
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Event Manager API",
        description = "Events and invitations: register, create events, invite users by email or \
                       mobile, and answer the invitations you receive. Errors (docs/api.md, \
                       \"Errors\"): `{\"message\", \"code\"}`, Laravel-style 422 bodies, and \
                       `{\"message\"}` for 401, 500 and 503. Sentences follow the request's \
                       `Accept-Language` (`en` or `fa`; `Content-Language` says which); codes \
                       and field names never change (docs/api.md, \"Languages\").",
    ),
    // Schemas named only by response groups, which utoipa does not collect.
    components(schemas(
        ErrorBody,
        ErrorCode,
        UnauthenticatedBody,
        ServerErrorBody,
        ValidationErrorBody,
    )),
    // Relative: the document describes the server that serves it, wherever it listens.
    servers((url = "/", description = "The server this document is served by.")),
    modifiers(&BearerScheme),
    tags(
        (name = "accounts", description = "Registering, logging in and out, proving contacts with codes, and your account (docs/api.md, \"Accounts\", \"Proving contacts\", \"Your account\")."),
        (name = "events", description = "Events and their members (docs/api.md, \"Events\")."),
        (name = "invitations", description = "The seed's invitation routes (docs/api.md, \"Invitations\")."),
        (name = "changes", description = "The change feed and the live stream (docs/api.md, \"Change feed and live stream\")."),
        (name = "webhooks", description = "Webhook endpoints and their deliveries (docs/api.md, \"Webhooks\")."),
        (name = "health", description = "Probes for orchestrators (docs/api.md, \"Health\")."),
    ),
)]
struct ApiDoc;

/// The `bearer` security scheme that protected operations name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `token` returned by register or login."))
                    .build(),
            ),
        );
    }
}

/// Says of every query parameter that an empty value is allowed: it counts as not given
/// (docs/api.md, "Conventions": `?event_id=` is the same as no filter).
struct EmptyQueryValues;

impl Modify for EmptyQueryValues {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let parameters = operation.parameters.iter_mut().flatten();
                for parameter in parameters.filter(|p| p.parameter_in == ParameterIn::Query) {
                    if let Some(RefOr::T(schema)) = parameter.schema.take() {
                        parameter.schema = Some(RefOr::T(crate::schema::or_empty(schema)));
                    }
                }
            }
        }
    }
}

/// Documents each alias as a copy of its original, with its own operation id. An alias path that
/// has operations of its own (`GET /api/v1/events/{event_id}/invitations`) keeps them.
struct Aliases;

impl Modify for Aliases {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (original, alias) in invitations::ALIASES {
            let Some(mut item) = openapi.paths.paths.get(original).cloned() else {
                continue;
            };
            for operation in operations(&mut item) {
                operation.operation_id = operation
                    .operation_id
                    .take()
                    .map(|id| format!("{id}_alias"));
                operation.description = Some(format!("Alias of `{original}`; the same operation."));
            }
            match openapi.paths.paths.get_mut(alias) {
                Some(own) => {
                    let copies = [
                        (&mut own.get, item.get),
                        (&mut own.put, item.put),
                        (&mut own.post, item.post),
                        (&mut own.delete, item.delete),
                        (&mut own.patch, item.patch),
                    ];
                    for (slot, copy) in copies {
                        if copy.is_some() {
                            *slot = copy;
                        }
                    }
                }
                None => {
                    openapi.paths.paths.insert(alias.to_owned(), item);
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// States `security: []` on the operations that take no token, so that a reader (or a linter)
/// sees that they are public on purpose rather than undocumented.
struct PublicOperations;

impl Modify for PublicOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.as_deref().unwrap_or_default();
                if PUBLIC_OPERATIONS.contains(&id) {
                    operation.security = Some(Vec::new());
                }
            }
        }
    }
}

/// Moves an example that every branch of a component's `anyOf` carries up to the `anyOf` itself.
/// Such a copy (from a schema rewritten into branches, as `AtLeastOneOf` does) fits the whole
/// schema but not necessarily each branch: `{"login", "password"}` is no example of the branch
/// that requires `email`.
struct ExamplesOfTheWhole;

impl Modify for ExamplesOfTheWhole {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::AnyOf(any_of)) = schema else {
                continue;
            };
            let Some(shared) = shared_example(&any_of.items) else {
                continue;
            };
            any_of.example.get_or_insert(shared);
            for item in &mut any_of.items {
                if let RefOr::T(Schema::Object(branch)) = item {
                    branch.example = None;
                }
            }
        }
    }
}

/// The example that every branch states, the same in each.
fn shared_example(branches: &[RefOr<Schema>]) -> Option<Value> {
    let mut examples = branches.iter().map(|branch| match branch {
        RefOr::T(Schema::Object(object)) => object.example.as_ref(),
        _ => None,
    });
    let first = examples.next()??;
    examples
        .all(|example| example == Some(first))
        .then(|| first.clone())
}

/// The top-level `webhooks` of OpenAPI 3.1: the `POST` the service sends to each registered
/// endpoint (docs/api.md, "Webhooks"). utoipa has no field for it, and its extensions are written
/// out as they are named, so the object goes in there.
struct Webhooks;

impl Modify for Webhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .extensions
            .get_or_insert_with(Default::default)
            .insert("webhooks".to_owned(), webhooks());
    }
}

/// The delivery of a change, as crates/adapters-outbound's webhook sender makes it: the change as
/// the feed shows it (`ChangeJson`), signed as Standard Webhooks v1 says.
fn webhooks() -> Value {
    json!({
        "change": {
            "post": {
                "operationId": "deliver_change",
                "summary": "A change, delivered to your endpoint",
                "description": "Sent to each active webhook of the user the change is for, for the \
                    types it subscribed to, as each change is written. Verify the signature over the \
                    raw body before parsing it, and deduplicate on `webhook-id`: delivery is at least \
                    once, in no promised order. The `User-Agent` is `EventManager-Webhooks/` and the \
                    service's version. See docs/api.md, \"Webhooks\" and \"Verifying a delivery\".",
                "tags": ["webhooks"],
                "security": [],
                "parameters": [
                    {
                        "name": "webhook-id",
                        "in": "header",
                        "required": true,
                        "description": "The change's `id`, the same at every attempt.",
                        "schema": {"type": "string", "pattern": "^[0-9]+$"},
                        "example": "42"
                    },
                    {
                        "name": "webhook-timestamp",
                        "in": "header",
                        "required": true,
                        "description": "When this attempt was made, in Unix seconds. Refuse one \
                            more than 5 minutes from your clock.",
                        "schema": {"type": "string", "pattern": "^[0-9]+$"},
                        "example": "1796465457"
                    },
                    {
                        "name": "webhook-signature",
                        "in": "header",
                        "required": true,
                        "description": "`v1,` and the base64 of the HMAC-SHA256 of \
                            `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the bytes of the \
                            secret (the base64 after `whsec_`). Several space-separated signatures \
                            may come: accept the request if one matches.",
                        "schema": {"type": "string", "pattern": "^v1,[A-Za-z0-9+/]+=*( v1,[A-Za-z0-9+/]+=*)*$"},
                        "example": "v1,nmdD0hyqD6fZ+WuQ+U475KLP83AYy2RN0AzqHQtRPrQ="
                    }
                ],
                "requestBody": {
                    "required": true,
                    "description": "The change, exactly as `GET /api/v1/me/events` shows it.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Change"},
                            "example": {
                                "id": 42,
                                "type": "invitation.created",
                                "occurred_at": "2026-12-05T10:10:57Z",
                                "data": {
                                    "id": "01a245af-77b5-77d8-b1d8-26307b853a6a",
                                    "event": {
                                        "id": "01a245af-777f-727d-9ad3-5d9418244ac2",
                                        "title": "Launch party",
                                        "deleted": false
                                    },
                                    "sender": {
                                        "id": "01a245af-7323-7450-8f64-4ab9c2b01137",
                                        "name": "Olivia"
                                    },
                                    "invitee": {
                                        "id": "01a245af-76cc-7689-8040-3e5ca4986bf2",
                                        "name": "Sara"
                                    },
                                    "contact": "sara@example.com",
                                    "status": "pending",
                                    "message": "Rooftop at 8 pm.",
                                    "guests": 0,
                                    "comment": null,
                                    "waitlist_position": null,
                                    "created_at": "2026-12-05T10:10:57Z",
                                    "expires_at": "2026-12-12T10:10:57Z",
                                    "answered_at": null,
                                    "cancelled_at": null
                                }
                            }
                        }
                    }
                },
                "responses": {
                    "2XX": {
                        "description": "Delivered: any 2xx within 15 seconds."
                    },
                    "410": {
                        "description": "Gone: the webhook is disabled at once and receives nothing more."
                    },
                    "default": {
                        "description": "Anything else, a timeout or a refused connection: retried \
                            after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then given up. A 429 \
                            or 503 with `Retry-After` is retried no sooner than it asks."
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    fn document() -> Value {
        serde_json::to_value(super::openapi()).unwrap()
    }

    #[test]
    fn the_webhook_delivery_is_a_top_level_webhook_carrying_a_change() {
        let document = document();
        let delivery = &document["webhooks"]["change"]["post"];
        assert_eq!(
            delivery["requestBody"]["content"]["application/json"]["schema"],
            json!({"$ref": "#/components/schemas/Change"})
        );
        let headers: Vec<&str> = delivery["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|parameter| parameter["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            headers,
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
        );
        assert!(document.get("x-webhooks").is_none());
    }

    #[test]
    fn the_document_names_its_server_relative_to_where_it_is_served() {
        assert_eq!(document()["servers"][0]["url"], "/");
    }

    #[test]
    fn an_example_every_login_branch_carried_belongs_to_the_whole_schema() {
        let document = document();
        let login = &document["components"]["schemas"]["LoginRequest"];
        assert_eq!(login["example"]["login"], "09352864812");
        for branch in login["anyOf"].as_array().unwrap() {
            assert!(branch.get("example").is_none(), "{branch}");
        }
    }
}
