//! RFC 9457 problem details (docs/api.md, "Problem details"): the second form of every error body,
//! for clients whose `Accept` prefers `application/problem+json`.
//!
//! [`ApiError`](super::ApiError) renders the default body only: actix's `ResponseError` has no
//! access to the request, and the preference could reach it only through ambient state (a
//! task-local or a request extension) that every renderer would have to consult, and that errors
//! rendered elsewhere would miss: actix-cors's refusal, the app's own 408, an idempotent replay of
//! a stored error. Instead, every error body is the default one until it leaves the app, and the
//! app's edge middleware ([`crate::response_headers`]) rewrites it with [`rewrite`] when the
//! request asked for this form. One conversion covers every error, whoever answered it, and the
//! default body's wording stays the only one.

use actix_web::body::{self, BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorCode;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The start of every problem `type`; the code follows (docs/api.md, "Problem details").
pub const PROBLEM_TYPE_BASE: &str = "https://event-manager.example/problems/";

/// The largest default error body [`rewrite`] reads; ours are far smaller.
const BODY_LIMIT: usize = 64 * 1024;

/// An error as RFC 9457 describes it, with the default body's `code` and `errors` beside.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://event-manager.example/problems/not_found",
    "title": "Not found.",
    "status": 404,
    "detail": "Event not found.",
    "instance": "/api/v1/events/01a21797-f468-7168-9263-e4526ec3e75e",
    "code": "not_found"
}))]
pub struct ProblemDetails {
    /// `https://event-manager.example/problems/{code}`: an identifier of the kind of problem, one
    /// per `code`; it is not a page to fetch.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short sentence, the same for every problem of a `type`.
    pub title: String,
    /// The answer's status.
    pub status: u16,
    /// The default body's `message`: what went wrong this time, for people.
    pub detail: String,
    /// The request's path.
    pub instance: String,
    /// The default body's `code`; for the answers whose default body has none: `unauthenticated`
    /// (401), `validation_failed` (422), `server_error` (500), `service_unavailable` (503).
    #[schema(value_type = ErrorCode)]
    pub code: String,
    /// The messages of each invalid field, as in the default 422 body; only there.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = std::collections::HashMap<String, Vec<String>>, required = false)]
    pub errors: Option<serde_json::Value>,
}

/// The default body as any error answers it: `{"message", "code"?, "errors"?}`.
#[derive(Deserialize)]
struct DefaultBody {
    message: String,
    code: Option<String>,
    errors: Option<serde_json::Value>,
}

impl ProblemDetails {
    /// The problem form of a default error body of `status`, answered to a request for `instance`.
    /// A body that is not a default error body (which no error of the API has) is described by
    /// its status alone.
    pub fn from_default_body(status: StatusCode, body: &[u8], instance: &str) -> Self {
        let fallback = ErrorCode::for_status(status);
        let body = serde_json::from_slice::<DefaultBody>(body).unwrap_or_else(|_| DefaultBody {
            message: status.canonical_reason().unwrap_or("Error").to_owned() + ".",
            code: None,
            errors: None,
        });
        let code = body.code.unwrap_or_else(|| fallback.as_str().to_owned());
        let title = ErrorCode::parse(&code).unwrap_or(fallback).title();
        Self {
            problem_type: format!("{PROBLEM_TYPE_BASE}{code}"),
            title,
            status: status.as_u16(),
            detail: body.message,
            instance: instance.to_owned(),
            code,
            errors: body.errors.filter(serde_json::Value::is_object),
        }
    }
}

/// Whether the request's `Accept` prefers `application/problem+json` to `application/json`: its
/// quality is above zero and above `application/json`'s, each taken from the most specific range
/// that matches it (RFC 9110, section 12.5.1). No `Accept`, `*/*` or `application/*` (a tie)
/// keep the default body.
pub fn prefers_problem(headers: &HeaderMap) -> bool {
    let ranges: Vec<MediaRange> = headers
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(MediaRange::parse)
        .collect();
    let quality = |subtype: &str| {
        ranges
            .iter()
            .filter_map(|range| {
                range
                    .specificity("application", subtype)
                    .map(|s| (s, range.q))
            })
            .max_by_key(|(specificity, _)| *specificity)
            .map_or(0, |(_, q)| q)
    };
    let problem = quality("problem+json");
    problem > 0 && problem > quality("json")
}

/// One range of an `Accept` header, its quality in thousandths.
struct MediaRange {
    kind: String,
    subtype: String,
    q: u16,
}

impl MediaRange {
    /// `type/subtype;param=value;q=0.5`; `None` for anything else.
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let mut q = 1000;
        for parameter in parts {
            let Some((name, value)) = parameter.trim().split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                q = quality(value.trim())?;
            }
        }
        Some(Self {
            kind: kind.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            q,
        })
    }

    /// How specifically this range names `kind/subtype` (2 exactly, 1 `kind/*`, 0 `*/*`), or
    /// `None` when it does not match it.
    fn specificity(&self, kind: &str, subtype: &str) -> Option<u8> {
        match (self.kind.as_str(), self.subtype.as_str()) {
            ("*", "*") => Some(0),
            (k, "*") if k == kind => Some(1),
            (k, s) if k == kind && s == subtype => Some(2),
            _ => None,
        }
    }
}

/// A `qvalue` (RFC 9110, section 12.4.2) in thousandths: `0` to `1`, at most three decimals.
fn quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether `response` is an error with a default JSON body, which [`rewrite`] turns into problem
/// details.
pub fn is_default_error<B>(response: &ServiceResponse<B>) -> bool {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    json && (response.status().is_client_error() || response.status().is_server_error())
}

/// Replaces a default error body ([`is_default_error`]) with its problem form, keeping the status
/// and every other header.
pub async fn rewrite<B: MessageBody + 'static>(
    response: ServiceResponse<EitherBody<B>>,
) -> ServiceResponse<EitherBody<B>> {
    let (request, response) = response.into_parts();
    let status = response.status();
    let (mut response, body) = response.into_parts();
    // An unreadable body is described by the status alone.
    let bytes = body::to_bytes_limited(body, BODY_LIMIT)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let problem = ProblemDetails::from_default_body(status, &bytes, request.path());
    let json = serde_json::to_vec(&problem).unwrap_or_default();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let response = response.set_body(EitherBody::right(BoxBody::new(json)));
    ServiceResponse::new(request, response)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde_json::json;

    use super::*;

    fn prefers(accept: &[&str]) -> bool {
        let mut req = TestRequest::default();
        for value in accept {
            req = req.append_header((header::ACCEPT, *value));
        }
        prefers_problem(req.to_http_request().headers())
    }

    #[test]
    fn problem_details_are_chosen_only_when_preferred_to_json() {
        let chosen: &[&[&str]] = &[
            &["application/problem+json"],
            &["Application/Problem+JSON"],
            &["application/problem+json;q=0.1"],
            &["application/json;q=0.5, application/problem+json"],
            &["application/problem+json", "application/json;q=0.9"],
            &["*/*;q=0.1, application/problem+json;q=0.2"],
            &["application/*;q=0.3, application/problem+json"],
            &["application/json;q=0, */*"],
        ];
        for accept in chosen {
            assert!(prefers(accept), "{accept:?}");
        }
        let default: &[&[&str]] = &[
            &[],
            &["*/*"],
            &["application/*"],
            &["application/json"],
            &["text/html"],
            &["application/json, application/problem+json"],
            &["application/problem+json;q=0.8, application/json;q=0.9"],
            &["application/problem+json;q=0"],
            &["application/problem+json;q=2"],
            &["application/problem+json;q=0.1234"],
            &["*/problem+json"],
            &["application/problem+json;q=0.5, */*"],
        ];
        for accept in default {
            assert!(!prefers(accept), "{accept:?}");
        }
    }

    #[test]
    fn a_validation_body_keeps_its_errors_and_gets_a_code() {
        let body = json!({
            "message": "The title field is required. (and 1 more error)",
            "errors": {"title": ["The title field is required."], "starts_at": ["Bad."]}
        });
        let problem = ProblemDetails::from_default_body(
            StatusCode::UNPROCESSABLE_ENTITY,
            body.to_string().as_bytes(),
            "/api/v1/events",
        );
        assert_eq!(
            serde_json::to_value(problem).unwrap(),
            json!({
                "type": "https://event-manager.example/problems/validation_failed",
                "title": "The given data was invalid.",
                "status": 422,
                "detail": "The title field is required. (and 1 more error)",
                "instance": "/api/v1/events",
                "code": "validation_failed",
                "errors": {"title": ["The title field is required."], "starts_at": ["Bad."]}
            })
        );
    }

    #[test]
    fn a_coded_body_keeps_its_code_and_message() {
        let body = json!({"message": "Event not found.", "code": "not_found"});
        let problem = ProblemDetails::from_default_body(
            StatusCode::NOT_FOUND,
            body.to_string().as_bytes(),
            "/api/v1/events/x",
        );
        assert_eq!(
            serde_json::to_value(problem).unwrap(),
            json!({
                "type": "https://event-manager.example/problems/not_found",
                "title": "Not found.",
                "status": 404,
                "detail": "Event not found.",
                "instance": "/api/v1/events/x",
                "code": "not_found"
            })
        );
    }

    #[test]
    fn codeless_bodies_are_named_after_their_status() {
        let cases = [
            (
                401,
                "Unauthenticated.",
                "unauthenticated",
                "Unauthenticated.",
            ),
            (500, "Server Error.", "server_error", "Server error."),
            (
                503,
                "Service temporarily unavailable.",
                "service_unavailable",
                "Service unavailable.",
            ),
        ];
        for (status, message, code, title) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            let body = json!({ "message": message }).to_string();
            let problem = ProblemDetails::from_default_body(status, body.as_bytes(), "/x");
            assert_eq!(problem.code, code);
            assert_eq!(problem.title, title);
            assert_eq!(problem.detail, message);
            assert_eq!(problem.problem_type, format!("{PROBLEM_TYPE_BASE}{code}"));
            assert_eq!(problem.errors, None);
        }
    }

    #[test]
    fn a_body_that_is_not_a_default_error_is_described_by_its_status() {
        let problem =
            ProblemDetails::from_default_body(StatusCode::REQUEST_TIMEOUT, b"not json", "/x");
        assert_eq!(problem.code, "request_timeout");
        assert_eq!(problem.detail, "Request Timeout.");
    }

    #[test]
    fn every_code_has_its_own_title_and_type() {
        let titles: std::collections::HashSet<String> =
            ErrorCode::ALL.iter().map(|code| code.title()).collect();
        assert_eq!(titles.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            let serialized = serde_json::to_value(code).unwrap();
            assert_eq!(serialized, code.as_str());
        }
    }
}
