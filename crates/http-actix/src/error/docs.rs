//! The error responses that several operations share, as OpenAPI response groups.

use utoipa::IntoResponses;

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

/// 429 of the rate-limited operations (login, register, send, the live stream).
#[derive(Debug, IntoResponses)]
pub enum TooManyRequests {
    /// A rate limit is used up; the `Retry-After` header gives the seconds to wait.
    #[response(status = 429, example = json!({"message": "Too many attempts. Please try again later.", "code": "too_many_requests"}),
        headers(
            ("Retry-After" = u64, description = "Seconds to wait before trying again."),
            ("RateLimit-Policy" = String, description = "Login, register and send: the limits the request \
                counted under (draft-ietf-httpapi-ratelimit-headers-11), e.g. `\"send\";q=30;w=60` (docs/api.md, \
                \"Rate limit headers\")."),
            ("RateLimit" = String, description = "Login, register and send: what is left of each limit and the \
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
