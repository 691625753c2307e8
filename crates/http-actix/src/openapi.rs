//! The OpenAPI document, generated from the handlers' annotations, and the response groups that
//! several operations share.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::api::{accounts, events, health, invitations};
use crate::error::{
    ErrorBody, ErrorCode, ServerErrorBody, UnauthenticatedBody, ValidationErrorBody,
};
use crate::pagination::StatusFilterParam;

/// The document of the whole API, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Event Manager API",
        description = "Events and invitations: register, create events, invite users by email or \
                       mobile, and answer the invitations you receive. Errors follow SPEC §1: \
                       `{\"message\", \"code\"}`, Laravel-style 422 bodies, and `{\"message\"}` for \
                       401, 500 and 503.",
    ),
    paths(
        accounts::register,
        accounts::login,
        accounts::logout,
        accounts::me,
        events::create_event,
        events::list_events,
        events::get_event,
        events::list_members,
        invitations::send_invitations,
        invitations::list_sent,
        invitations::list_received,
        invitations::get_invitation,
        invitations::answer_invitation,
        health::live,
        health::ready,
    ),
    // Schemas named only by response groups and query parameters, which utoipa does not collect.
    components(schemas(
        ErrorBody,
        ErrorCode,
        UnauthenticatedBody,
        ServerErrorBody,
        ValidationErrorBody,
        StatusFilterParam
    )),
    modifiers(&BearerScheme, &Aliases),
    tags(
        (name = "accounts", description = "Registering, logging in and out (SPEC §3)."),
        (name = "events", description = "Events and their members (SPEC §4)."),
        (name = "invitations", description = "The seed's invitation routes (SPEC §5)."),
        (name = "health", description = "Probes for orchestrators (SPEC §8)."),
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

/// Paths served by the same handler as another documented path: `(original, alias)`.
const ALIASES: [(&str, &str); 2] = [
    (
        "/api/v1/{event_id}/send-invitations",
        "/api/v1/events/{event_id}/invitations",
    ),
    ("/api/v1/sended-invitations", "/api/v1/sent-invitations"),
];

/// Documents each alias as a copy of its original, with its own operation id.
struct Aliases;

impl Modify for Aliases {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (original, alias) in ALIASES {
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
            openapi.paths.paths.insert(alias.to_owned(), item);
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

/// 401 of every protected operation.
#[derive(Debug, IntoResponses)]
pub enum UnauthenticatedResponse {
    /// Missing, malformed, unknown, revoked or expired bearer token.
    #[response(status = 401, example = json!({"message": "Unauthenticated."}))]
    Unauthenticated(UnauthenticatedBody),
}

/// Errors of every operation that reads a JSON body.
#[derive(Debug, IntoResponses)]
pub enum BodyErrors {
    /// The body is not a JSON object, or not sent as `application/json`.
    #[response(status = 400, example = json!({"message": "The request body is not valid JSON: EOF while parsing an object at line 1 column 1", "code": "malformed_request"}))]
    Malformed(ErrorBody),
    /// The body is over 64 KiB.
    #[response(status = 413, example = json!({"message": "The request body must not be larger than 64 KiB.", "code": "payload_too_large"}))]
    TooLarge(ErrorBody),
    /// Invalid fields, Laravel-style: the first error as `message`, every error by field.
    #[response(status = 422)]
    Invalid(ValidationErrorBody),
}

/// Errors of the paginated lists' query parameters.
#[derive(Debug, IntoResponses)]
pub enum QueryErrors {
    /// A query parameter is invalid (e.g. `limit` outside 1..100, or a `cursor` the server did not
    /// issue); `errors` names each one.
    #[response(status = 422, example = json!({
        "message": "The limit must be an integer between 1 and 100.",
        "errors": {"limit": ["The limit must be an integer between 1 and 100."]}
    }))]
    Invalid(ValidationErrorBody),
}

/// 429 of the rate-limited operations (login, send).
#[derive(Debug, IntoResponses)]
pub enum TooManyRequests {
    /// A rate limit is used up; the `Retry-After` header gives the seconds to wait.
    #[response(status = 429, example = json!({"message": "Too many attempts. Please try again later.", "code": "too_many_requests"}),
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again.")))]
    TooMany(ErrorBody),
}

/// Failures of the server or its database, which any operation that touches storage may meet.
#[derive(Debug, IntoResponses)]
pub enum ServerErrors {
    /// An unexpected failure; the cause is logged, never sent.
    #[response(status = 500, example = json!({"message": "Server Error."}))]
    Internal(ServerErrorBody),
    /// The database cannot be reached right now; retry later.
    #[response(status = 503, example = json!({"message": "Service temporarily unavailable."}))]
    Unavailable(ServerErrorBody),
}
