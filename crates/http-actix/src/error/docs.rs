//! The error responses that several operations share, as OpenAPI response groups, and
//! [`ProblemForms`], which documents the problem-details form of every error response.

use actix_web::http::StatusCode;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::Response;
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, Modify, PartialSchema, ToSchema};

use super::problem::{ProblemDetails, PROBLEM_JSON};
use super::{ErrorBody, ServerErrorBody, UnauthenticatedBody, ValidationErrorBody};

/// 401 of every protected operation.
#[derive(Debug, IntoResponses)]
pub enum UnauthenticatedResponse {
    /// Missing, malformed, unknown, revoked or expired bearer token.
    #[response(status = 401, example = json!({"message": "Unauthenticated."}),
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"event-manager\"` when no bearer token was sent; \
            `Bearer realm=\"event-manager\", error=\"invalid_token\"` when the token sent is malformed, unknown, expired or revoked.")))]
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

/// 429 of the rate-limited operations (login, register, send, creating and editing events, stream
/// tickets, the live stream).
#[derive(Debug, IntoResponses)]
pub enum TooManyRequests {
    /// A rate limit is used up; the `Retry-After` header gives the seconds to wait.
    #[response(status = 429, example = json!({"message": "Too many attempts. Please try again later.", "code": "too_many_requests"}),
        headers(
            ("Retry-After" = u64, description = "Seconds to wait before trying again."),
            ("RateLimit-Policy" = String, description = "Login, register, send, events and stream tickets: the limits the request \
                counted under (draft-ietf-httpapi-ratelimit-headers-11), e.g. `\"send\";q=30;w=60` (docs/api.md, \
                \"Rate limit headers\")."),
            ("RateLimit" = String, description = "Login, register, send, events and stream tickets: what is left of each limit and the \
                seconds until it grows, e.g. `\"send\";r=0;t=42` (docs/api.md, \"Rate limit headers\")."),
        ))]
    TooMany(ErrorBody),
}

/// Failures of the server or its database, which any operation that touches storage may meet.
#[derive(Debug, IntoResponses)]
pub enum ServerErrors {
    /// An unexpected failure; the cause is logged, never sent.
    #[response(status = 500, example = json!({"message": "Server Error."}))]
    Internal(ServerErrorBody),
    /// The database cannot be reached right now; retry later.
    #[response(status = 503, example = json!({"message": "Service temporarily unavailable."}),
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again: 5.")))]
    Unavailable(ServerErrorBody),
}

/// Gives every error response (4xx, 5xx) that has a JSON body its second media type,
/// `application/problem+json` with the [`ProblemDetails`] schema, and an example made from the JSON
/// one as the server would make it (docs/api.md, "Problem details"). Each area's part of the
/// document applies it.
#[derive(Debug)]
pub struct ProblemForms;

impl Modify for ProblemForms {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            for operation in operations(item) {
                for (status, response) in &mut operation.responses.responses {
                    if let RefOr::T(response) = response {
                        add_problem_form(status, response, path);
                    }
                }
            }
        }
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert(
                ProblemDetails::name().into_owned(),
                ProblemDetails::schema(),
            );
    }
}

/// Adds the `application/problem+json` form to `response` of `status` (as the document keys it),
/// if it is an error with a JSON body; its example is the JSON example's problem form at `path`.
pub(crate) fn add_problem_form(status: &str, response: &mut Response, path: &str) {
    let Some(status) = status
        .parse::<u16>()
        .ok()
        .and_then(|status| StatusCode::from_u16(status).ok())
        .filter(|status| status.is_client_error() || status.is_server_error())
    else {
        return;
    };
    let Some(json) = response.content.get("application/json") else {
        return;
    };
    let example = json.example.as_ref().map(|example| {
        let problem =
            ProblemDetails::from_default_body(status, example.to_string().as_bytes(), path);
        serde_json::to_value(problem).unwrap_or_default()
    });
    response.content.insert(
        PROBLEM_JSON.to_owned(),
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ProblemDetails::name())))
            .example(example)
            .build(),
    );
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}
