//! The one error type of the HTTP edge: every domain error converts into [`ApiError`], which renders
//! the bodies of docs/api.md, "Errors". Causes of 5xx answers are logged here, whole chain
//! included, and never sent. Each area of [`crate::api`] converts its own operations' errors; the
//! response groups that several operations document live in [`docs`]. The RFC 9457 form of every
//! error body, for clients that ask for it, is made from the default one in [`problem`].

mod docs;
pub mod problem;

pub(crate) use docs::add_problem_form;
pub use docs::{
    BodyErrors, ProblemForms, QueryErrors, ServerErrors, TooManyRequests, UnauthenticatedResponse,
};
pub use problem::ProblemDetails;

use std::error::Error as StdError;
use std::fmt;

use actix_web::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use domain::accounts::AuthenticateError;
use domain::ports::{BoxError, CountError, PortError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::rate_limit::RetryAfter;
use crate::validation::ValidationErrors;

/// The message of `409 idempotency_key_in_flight`.
pub(crate) const KEY_IN_FLIGHT: &str =
    "A request with this Idempotency-Key is still being processed. Retry in a moment.";

/// The message of `422 idempotency_key_reused`.
pub(crate) const KEY_REUSED: &str = "This Idempotency-Key was already used with another request.";

/// The `Retry-After` of every 503, in seconds: long enough for a database failover or a busy
/// hashing queue to clear, short enough that a client does not wait on a healthy service
/// (docs/api.md, "Errors").
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// The `WWW-Authenticate` challenge of a 401 to a request that presented no bearer token
/// (RFC 6750, section 3: no error code then), and of a failed login.
pub const CHALLENGE: &str = r#"Bearer realm="event-manager""#;

/// The `WWW-Authenticate` challenge of a 401 to a request whose bearer token is malformed,
/// unknown, expired or revoked (RFC 6750, section 3.1).
pub const INVALID_TOKEN_CHALLENGE: &str = r#"Bearer realm="event-manager", error="invalid_token""#;

/// What an unauthenticated request presented, as the `WWW-Authenticate` challenge tells the
/// client (docs/api.md, "Conventions").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// No bearer token: no `Authorization` header, another scheme, or the bearer scheme alone.
    Missing,
    /// A bearer token (or stream ticket) that is malformed, unknown, expired, revoked or used.
    InvalidToken,
}

/// The machine-readable `code` of an error body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not JSON, not an object, or not sent as `application/json`.
    MalformedRequest,
    /// 401 from login: wrong login or password.
    InvalidCredentials,
    /// 403: the caller may see the resource but not do this.
    Forbidden,
    /// 404: no such resource, or one the caller may not see.
    NotFound,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: the invitation was answered before.
    InvitationAlreadyAnswered,
    /// 409: the invitation's `expires_at` has passed.
    InvitationExpired,
    /// 409: the invitation was cancelled.
    InvitationCancelled,
    /// 409: the party does not fit in the seats left, and the event keeps no waitlist (docs/api.md,
    /// "Capacity and the waitlist").
    EventFull,
    /// 409: the event's answers closed (its RSVP deadline passed, or it started).
    RsvpClosed,
    /// 409: the capacity would go below the seats already taken.
    CapacityBelowSeatsTaken,
    /// 409: the event has no start time, so no calendar entry (docs/api.md, "Calendars").
    NoStartTime,
    /// 413: the body is over 64 KiB.
    PayloadTooLarge,
    /// 429: too many attempts; `Retry-After` says when to try again.
    TooManyRequests,
    /// 409: a request with the same `Idempotency-Key` is still running; `Retry-After: 1`.
    IdempotencyKeyInFlight,
    /// 422: the `Idempotency-Key` was used with another request.
    IdempotencyKeyReused,
    /// 409: the caller has as many webhooks as one user may.
    WebhookLimitReached,
    /// 409: the webhook was disabled (`gone`, `failing`): a verification cannot bring it back.
    WebhookDisabled,
    /// 408: the body did not arrive in time (answered by the app's body deadline).
    RequestTimeout,
    /// 412: `If-Match` names none of the resource's current ETags, or the resource changed
    /// between the check and the write (docs/api.md, "Conditional requests").
    PreconditionFailed,
    /// 401 without a valid bearer token. Problem details only: the default body has no code.
    Unauthenticated,
    /// 422 with errors by field. Problem details only: the default body has no code.
    ValidationFailed,
    /// 500. Problem details only: the default body has no code.
    ServerError,
    /// 503. Problem details only: the default body has no code.
    ServiceUnavailable,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: &'static [Self] = &[
        Self::MalformedRequest,
        Self::InvalidCredentials,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::InvitationAlreadyAnswered,
        Self::InvitationExpired,
        Self::InvitationCancelled,
        Self::EventFull,
        Self::RsvpClosed,
        Self::CapacityBelowSeatsTaken,
        Self::NoStartTime,
        Self::PayloadTooLarge,
        Self::TooManyRequests,
        Self::IdempotencyKeyInFlight,
        Self::IdempotencyKeyReused,
        Self::WebhookLimitReached,
        Self::WebhookDisabled,
        Self::RequestTimeout,
        Self::PreconditionFailed,
        Self::Unauthenticated,
        Self::ValidationFailed,
        Self::ServerError,
        Self::ServiceUnavailable,
    ];

    /// The code as bodies spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformed_request",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvitationAlreadyAnswered => "invitation_already_answered",
            Self::InvitationExpired => "invitation_expired",
            Self::InvitationCancelled => "invitation_cancelled",
            Self::EventFull => "event_full",
            Self::RsvpClosed => "rsvp_closed",
            Self::CapacityBelowSeatsTaken => "capacity_below_seats_taken",
            Self::NoStartTime => "no_start_time",
            Self::PayloadTooLarge => "payload_too_large",
            Self::TooManyRequests => "too_many_requests",
            Self::IdempotencyKeyInFlight => "idempotency_key_in_flight",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::WebhookLimitReached => "webhook_limit_reached",
            Self::WebhookDisabled => "webhook_disabled",
            Self::RequestTimeout => "request_timeout",
            Self::PreconditionFailed => "precondition_failed",
            Self::Unauthenticated => "unauthenticated",
            Self::ValidationFailed => "validation_failed",
            Self::ServerError => "server_error",
            Self::ServiceUnavailable => "service_unavailable",
        }
    }

    /// The code spelled `code`, if there is one.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == code)
    }

    /// The problem details' `title` of this code: a short sentence, the same every time in one
    /// language (docs/api.md, "Problem details").
    pub fn title(self) -> String {
        crate::t!(&format!("title-{}", self.as_str()))
    }

    /// The code of an error body of `status` that names none (401, 422, 500, 503), or, for a
    /// status no error of the API answers without a code, the nearest.
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            412 => Self::PreconditionFailed,
            413 => Self::PayloadTooLarge,
            422 => Self::ValidationFailed,
            429 => Self::TooManyRequests,
            503 => Self::ServiceUnavailable,
            500..=599 => Self::ServerError,
            _ => Self::MalformedRequest,
        }
    }
}

/// `{"message", "code"}`: the body of 400, 401 (login), 403, 404, 405, 409, 413 and 429 answers,
/// and of the 422 of a reused `Idempotency-Key`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({"message": "Event not found.", "code": "not_found"}))]
pub struct ErrorBody {
    /// A sentence for people.
    pub message: String,
    /// What went wrong, for programs.
    pub code: ErrorCode,
}

/// `{"message": "Unauthenticated."}`: a missing, unknown, revoked or expired bearer token.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Unauthenticated, example = json!({"message": "Unauthenticated."}))]
pub struct UnauthenticatedBody {
    /// Always `Unauthenticated.`.
    pub message: String,
}

/// `{"message"}` of a 500 (`Server Error.`) or 503 (`Service temporarily unavailable.`) answer.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ServerError, example = json!({"message": "Server Error."}))]
pub struct ServerErrorBody {
    /// A sentence for people; never internals.
    pub message: String,
}

/// Laravel's 422 body: the first error (and how many more), and every error by field.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "message": "The invitations field is required.",
    "errors": {"invitations": ["The invitations field is required."]}
}))]
pub struct ValidationErrorBody {
    /// The first error, then ` (and N more errors)` when there are others.
    pub message: String,
    /// The messages of each invalid field; array items are named like `invitations.0`.
    #[schema(value_type = std::collections::HashMap<String, Vec<String>>)]
    pub errors: ValidationErrors,
}

/// Why a request failed, as the client will be told. Built from the domain's per-operation errors.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body could not be read as a JSON object.
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    /// 401 `Unauthenticated.`; what the request presented decides the `WWW-Authenticate`
    /// challenge.
    #[error("unauthenticated ({0:?})")]
    Unauthenticated(Credentials),
    /// 401 from login.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 403 with a message saying who may do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404 with a message naming what was not found.
    #[error("not found: {0}")]
    NotFound(String),
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the invitation was answered before.
    #[error("invitation already answered")]
    AlreadyAnswered,
    /// 409: the invitation has expired.
    #[error("invitation expired")]
    InvitationExpired,
    /// 409: the invitation was cancelled.
    #[error("invitation cancelled")]
    InvitationCancelled,
    /// 409: the event is full and keeps no waitlist.
    #[error("event full")]
    EventFull,
    /// 409: the event's answers closed at this time.
    #[error("RSVP closed at {0}")]
    RsvpClosed(chrono::DateTime<chrono::Utc>),
    /// 409: the capacity would go below the seats taken (this many).
    #[error("capacity below the {0} seats taken")]
    CapacityBelowSeatsTaken(u32),
    /// 409: the event has no start time, so it has no calendar entry.
    #[error("the event has no start time")]
    NoStartTime,
    /// 413: the body is over the limit.
    #[error("payload too large")]
    PayloadTooLarge {
        /// The most bytes a body may have.
        limit: usize,
    },
    /// 422 with every field error.
    #[error("validation failed: {}", .0.message())]
    Validation(ValidationErrors),
    /// 429: a rate limit is used up; retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests(RetryAfter),
    /// 409: a request with the same `Idempotency-Key` is still running.
    #[error("idempotency key in flight")]
    IdempotencyKeyInFlight,
    /// 422: the `Idempotency-Key` was used with another request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// 409: the webhook was disabled for good (`gone`, `failing`).
    #[error("webhook disabled")]
    WebhookDisabled,
    /// 409: the caller has as many webhooks as one user may.
    #[error("webhook limit reached")]
    WebhookLimitReached {
        /// The most webhooks one user may have.
        max: u32,
    },
    /// 412: `If-Match` names none of the resource's current ETags, or the resource changed
    /// between the check and the write.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 503: a backing service cannot be reached.
    #[error("service unavailable")]
    Unavailable(#[source] PortError),
    /// 500: anything else.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// A 422 with one message under one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(ValidationErrors::single(field, message))
    }

    /// A 500 for an error of this layer, such as missing application state.
    pub fn internal(error: impl Into<BoxError>) -> Self {
        Self::Internal(error.into())
    }

    /// 404 `The requested resource was not found.`, for unknown routes and ids that are not UUIDs.
    pub fn route_not_found() -> Self {
        Self::NotFound(crate::t!("not-found-route"))
    }

    /// The sentence the body's `message` says, for an answer that is not JSON (the RSVP page).
    pub(crate) fn message(&self) -> String {
        self.body()["message"]
            .as_str()
            .map_or_else(|| crate::t!("error-unknown"), str::to_owned)
    }

    fn body(&self) -> serde_json::Value {
        let error = |message: &str, code| {
            serde_json::json!(ErrorBody {
                message: message.to_owned(),
                code
            })
        };
        match self {
            Self::MalformedRequest(message) => error(message, ErrorCode::MalformedRequest),
            Self::Unauthenticated(_) => {
                serde_json::json!({"message": crate::t!("unauthenticated")})
            }
            Self::InvalidCredentials => error(
                &crate::t!("invalid-credentials"),
                ErrorCode::InvalidCredentials,
            ),
            Self::Forbidden(message) => error(message, ErrorCode::Forbidden),
            Self::NotFound(message) => error(message, ErrorCode::NotFound),
            Self::MethodNotAllowed => error(
                &crate::t!("method-not-allowed"),
                ErrorCode::MethodNotAllowed,
            ),
            Self::AlreadyAnswered => error(
                &crate::t!("invitation-already-answered"),
                ErrorCode::InvitationAlreadyAnswered,
            ),
            Self::InvitationExpired => error(
                &crate::t!("invitation-expired"),
                ErrorCode::InvitationExpired,
            ),
            Self::InvitationCancelled => error(
                &crate::t!("invitation-cancelled"),
                ErrorCode::InvitationCancelled,
            ),
            Self::EventFull => error(&crate::t!("event-full"), ErrorCode::EventFull),
            // The time as RFC 3339, as every time in the API is.
            Self::RsvpClosed(at) => error(
                &crate::t!(
                    "rsvp-closed",
                    at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                ErrorCode::RsvpClosed,
            ),
            Self::NoStartTime => error(&crate::t!("no-start-time"), ErrorCode::NoStartTime),
            Self::CapacityBelowSeatsTaken(taken) => error(
                &crate::t!("capacity-below-seats-taken", taken = *taken),
                ErrorCode::CapacityBelowSeatsTaken,
            ),
            Self::PayloadTooLarge { limit } => error(
                &crate::t!("payload-too-large", kib = limit / 1024),
                ErrorCode::PayloadTooLarge,
            ),
            Self::Validation(errors) => serde_json::json!(ValidationErrorBody {
                message: errors.message(),
                errors: errors.clone(),
            }),
            Self::TooManyRequests(_) => {
                error(&crate::t!("too-many-requests"), ErrorCode::TooManyRequests)
            }
            Self::IdempotencyKeyInFlight => error(
                &crate::t!("idempotency-key-in-flight"),
                ErrorCode::IdempotencyKeyInFlight,
            ),
            Self::IdempotencyKeyReused => error(
                &crate::t!("idempotency-key-reused"),
                ErrorCode::IdempotencyKeyReused,
            ),
            Self::WebhookLimitReached { max } => error(
                &crate::t!("webhook-limit-reached", max = *max),
                ErrorCode::WebhookLimitReached,
            ),
            Self::WebhookDisabled => {
                error(&crate::t!("webhook-disabled"), ErrorCode::WebhookDisabled)
            }
            Self::PreconditionFailed => error(
                &crate::t!("precondition-failed"),
                ErrorCode::PreconditionFailed,
            ),
            Self::Unavailable(_) => serde_json::json!({"message": crate::t!("unavailable")}),
            Self::Internal(_) => serde_json::json!({"message": crate::t!("server-error")}),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::AlreadyAnswered
            | Self::InvitationExpired
            | Self::InvitationCancelled
            | Self::EventFull
            | Self::RsvpClosed(_)
            | Self::CapacityBelowSeatsTaken(_)
            | Self::NoStartTime => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::IdempotencyKeyInFlight
            | Self::WebhookLimitReached { .. }
            | Self::WebhookDisabled => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error.chain = %Chain(self), "request failed");
        }
        let mut response = HttpResponse::build(status);
        match self {
            Self::TooManyRequests(retry_after) => {
                response.insert_header((RETRY_AFTER, retry_after.seconds()));
            }
            Self::IdempotencyKeyInFlight => {
                response.insert_header((RETRY_AFTER, 1));
            }
            Self::Unavailable(_) => {
                response.insert_header((RETRY_AFTER, UNAVAILABLE_RETRY_AFTER));
            }
            Self::Unauthenticated(Credentials::Missing) | Self::InvalidCredentials => {
                response.insert_header((WWW_AUTHENTICATE, CHALLENGE));
            }
            Self::Unauthenticated(Credentials::InvalidToken) => {
                response.insert_header((WWW_AUTHENTICATE, INVALID_TOKEN_CHALLENGE));
            }
            _ => {}
        }
        response.json(self.body())
    }
}

/// Formats an error and all its sources: `a: b: c`.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<PortError> for ApiError {
    fn from(error: PortError) -> Self {
        match error {
            PortError::Unavailable(_) => Self::Unavailable(error),
            PortError::Unexpected(_) => Self::Internal(Box::new(error)),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<CountError> for ApiError {
    fn from(error: CountError) -> Self {
        match error {
            CountError::LimitReached { retry_after, .. } => {
                Self::TooManyRequests(RetryAfter(retry_after))
            }
            CountError::Port(error) => error.into(),
        }
    }
}

impl From<AuthenticateError> for ApiError {
    fn from(error: AuthenticateError) -> Self {
        match error {
            AuthenticateError::Unauthenticated => Self::Unauthenticated(Credentials::InvalidToken),
            AuthenticateError::Port(error) => error.into(),
        }
    }
}

/// Renders an error as a client would receive it: its status and JSON body (asserting that the
/// body is JSON). For the areas' tests of their error mappings.
#[cfg(test)]
pub(crate) fn rendered(error: impl Into<ApiError>) -> (u16, serde_json::Value) {
    use actix_web::body::MessageBody;

    let response = error.into().error_response();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let bytes = response.into_body().try_into_bytes().unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// A port failure the database would report when it is down, for the areas' tests.
#[cfg(test)]
pub(crate) fn unavailable() -> PortError {
    PortError::Unavailable(Box::new(std::io::Error::other(
        "connection refused at /var/run/postgresql",
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_unreachable_database_is_a_503_without_internals() {
        let (status, body) = rendered(unavailable());
        assert_eq!(status, 503);
        assert_eq!(body, json!({"message": "Service temporarily unavailable."}));
    }

    #[test]
    fn an_unexpected_port_failure_is_a_500_without_internals() {
        let error = PortError::unexpected(std::io::Error::other("syntax error at /srv/app.sql"));
        let (status, body) = rendered(error);
        assert_eq!(status, 500);
        assert_eq!(body, json!({"message": "Server Error."}));
    }

    #[test]
    fn the_chain_names_every_cause() {
        let error = ApiError::from(PortError::unexpected(std::io::Error::other("refused")));
        assert_eq!(
            Chain(&error).to_string(),
            "internal error: unexpected infrastructure error: refused"
        );
    }

    #[test]
    fn an_unknown_token_is_a_401_with_only_a_message() {
        let (status, body) = rendered(AuthenticateError::Unauthenticated);
        assert_eq!(status, 401);
        assert_eq!(body, json!({"message": "Unauthenticated."}));
        assert_eq!(rendered(AuthenticateError::Port(unavailable())).0, 503);
    }

    fn header(error: ApiError, name: &str) -> Option<String> {
        let response = error.error_response();
        let value = response.headers().get(name)?;
        Some(value.to_str().unwrap().to_owned())
    }

    #[test]
    fn every_401_challenges_with_bearer_and_a_rejected_token_says_invalid_token() {
        let challenge = |error| header(error, "www-authenticate");
        assert_eq!(
            challenge(ApiError::Unauthenticated(Credentials::Missing)).unwrap(),
            r#"Bearer realm="event-manager""#
        );
        assert_eq!(
            challenge(AuthenticateError::Unauthenticated.into()).unwrap(),
            r#"Bearer realm="event-manager", error="invalid_token""#
        );
        assert_eq!(
            challenge(ApiError::InvalidCredentials).unwrap(),
            r#"Bearer realm="event-manager""#
        );
        assert_eq!(challenge(ApiError::route_not_found()), None);
    }

    #[test]
    fn every_503_says_when_to_retry() {
        assert_eq!(header(unavailable().into(), "retry-after").unwrap(), "5");
        assert_eq!(header(ApiError::internal("boom"), "retry-after"), None);
    }

    #[test]
    fn a_failed_precondition_is_a_412_with_a_code() {
        let (status, body) = rendered(ApiError::PreconditionFailed);
        assert_eq!(status, 412);
        assert_eq!(
            body,
            json!({"message": "The resource was changed since you read it; fetch it again.", "code": "precondition_failed"})
        );
    }

    #[test]
    fn wrong_credentials_are_a_401_with_a_code() {
        let (status, body) = rendered(ApiError::InvalidCredentials);
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"message": "These credentials do not match our records.", "code": "invalid_credentials"})
        );
    }
}
