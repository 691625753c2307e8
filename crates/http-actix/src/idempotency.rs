//! `Idempotency-Key` (docs/api.md, "Idempotency"): the middleware that lets a client retry an
//! unsafe request without doing its work twice, and its part of the OpenAPI document.
//!
//! [`OPERATIONS`] lists the operations that honour the header; it is the one place to opt an
//! operation in: [`idempotency_keys`] (wrapped around the `/api/v1` scope) and `Documented`
//! both read it. For a listed operation carrying the header, the middleware:
//!
//! 1. authenticates the caller (the key is theirs), answering a refused token as the route would
//!    (401, or 503), before the key is looked at;
//! 2. reads the key: 1 to 255 visible ASCII characters, exactly one header, else `400
//!    malformed_request`;
//! 3. reads the body, within the 64 KiB limit (`413`), and fingerprints the request: SHA-256 of
//!    the method, the path and the body's raw bytes;
//! 4. claims the key through [`domain::idempotency::IdempotencyService`]: a stored answer is replayed
//!    with `Idempotent-Replayed: true`, a running claim answers `409 idempotency_key_in_flight`
//!    with `Retry-After: 1`, another request's key `422 idempotency_key_reused`;
//! 5. runs the route with the body it read, then stores a final answer (its status, `Content-Type`
//!    and `Location`, and body) or releases the key after a 5xx, 429 or 408, so that a retry runs.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpResponse};
use domain::idempotency::StoredResponse;
use domain::idempotency::{Begin, Finish, HeldKey, IdempotencyService};
use domain::idempotency::{IdempotencyKey, IdempotencyKeyError, RequestFingerprint};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required};
use utoipa::Modify;

use crate::auth::AuthenticatedUser;
use crate::error::{add_problem_form, ApiError, KEY_IN_FLIGHT, KEY_REUSED};
use crate::extract::BODY_LIMIT;
use crate::AppState;

/// The request header naming a request.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The response header of a replayed answer (`true`).
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The operations that honour `Idempotency-Key`: their method and route pattern, as registered
/// (aliases included). Adding an operation here is all it takes to opt it in, behaviour and
/// documentation alike; it must be a protected route (the key is scoped to the caller).
pub const OPERATIONS: &[(Method, &str)] = &[
    (Method::POST, "/api/v1/events"),
    (Method::POST, "/api/v1/{event_id}/send-invitations"),
    (Method::POST, "/api/v1/events/{event_id}/invitations"),
    (Method::POST, "/api/v1/webhooks"),
];

/// The response headers replayed with a stored answer; the app's middleware adds the rest
/// (`X-Content-Type-Options`, CORS) to every answer, replays included.
const KEPT_HEADERS: [HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];

/// Whether `req` is one of [`OPERATIONS`].
fn is_idempotent(req: &ServiceRequest) -> bool {
    let Some(pattern) = req.match_pattern() else {
        return false;
    };
    OPERATIONS
        .iter()
        .any(|(method, path)| method == req.method() && *path == pattern)
}

/// Reads the one `Idempotency-Key` header.
fn key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY);
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::MalformedRequest(crate::t!(
            "idempotency-key-invalid"
        )));
    };
    IdempotencyKey::parse(value.as_bytes()).map_err(|_: IdempotencyKeyError| {
        ApiError::MalformedRequest(crate::t!("idempotency-key-invalid"))
    })
}

/// Reads the whole body, refusing more than [`BODY_LIMIT`] bytes as the JSON extractor would.
async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, ApiError> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if announced.is_some_and(|length| length > BODY_LIMIT) {
        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::MalformedRequest(crate::t!("body-unreadable")))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// SHA-256 of the method, the path (without the query) and the body's bytes, each part ended by a
/// NUL byte (which none of the first two can hold) so that no two requests run together.
pub fn fingerprint(method: &Method, path: &str, body: &[u8]) -> RequestFingerprint {
    let digest = Sha256::new()
        .chain_update(method.as_str())
        .chain_update([0])
        .chain_update(path)
        .chain_update([0])
        .chain_update(body)
        .finalize();
    RequestFingerprint::from_bytes(digest.into())
}

/// The stored answer, again, marked as a replay.
fn replay(stored: StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((IDEMPOTENT_REPLAYED, HeaderValue::from_static("true")));
    response.body(stored.body)
}

/// The middleware, around the `/api/v1` scope: see the module's documentation.
///
/// # Errors
/// Only the inner service's errors (after which the key is released).
pub async fn idempotency_keys(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !req.headers().contains_key(IDEMPOTENCY_KEY) || !is_idempotent(&req) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    // The route's own answer to a refused token (401, or 503 when the token store is down).
    let caller = match AuthenticatedUser::authenticate(req.request()).await {
        Ok(caller) => caller,
        Err(error) => return Ok(req.error_response(error)),
    };
    req.extensions_mut().insert(caller.clone());
    let key = match key(req.headers()) {
        Ok(key) => key,
        Err(error) => return Ok(req.error_response(error)),
    };
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error)),
    };
    let Some(service) = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.idempotency.clone())
    else {
        return Ok(req.error_response(ApiError::internal("AppState is not registered")));
    };
    let fingerprint = fingerprint(req.method(), req.path(), &body);
    let held = match service.begin(&caller.user, key, fingerprint).await {
        Ok(Begin::Run(held)) => held,
        Ok(Begin::Replay(stored)) => {
            tracing::info!(status = stored.status, "idempotent request replayed");
            return Ok(req.into_response(replay(stored)));
        }
        Ok(Begin::InFlight) => return Ok(req.error_response(ApiError::IdempotencyKeyInFlight)),
        Ok(Begin::Reused) => return Ok(req.error_response(ApiError::IdempotencyKeyReused)),
        Err(error) => return Ok(req.error_response(ApiError::from(error))),
    };
    req.set_payload(Payload::from(body));
    match next.call(req).await {
        Ok(response) => Ok(finish(&service, held, response).await),
        Err(error) => {
            abandon(&service, held).await;
            Err(error)
        }
    }
}

/// What a handler wants kept for replays instead of the body it answered: the same answer without
/// a secret that must be shown only once (a new webhook's signing secret). Left in the response's
/// extensions.
#[derive(Clone, Debug)]
pub struct ReplayBody(pub Vec<u8>);

/// Stores a final answer and hands it on, or releases the key.
async fn finish<B: MessageBody + 'static>(
    service: &IdempotencyService,
    held: HeldKey,
    response: ServiceResponse<B>,
) -> ServiceResponse<BoxBody> {
    let status = response.status().as_u16();
    if !StoredResponse::is_final_status(status) {
        abandon(service, held).await;
        return response.map_into_boxed_body();
    }
    let (request, response) = response.into_parts();
    let (response, body) = response.into_parts();
    let Ok(bytes) = body::to_bytes(body).await else {
        abandon(service, held).await;
        let error = ApiError::internal("the response body could not be read");
        return ServiceResponse::new(request, actix_web::ResponseError::error_response(&error));
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    let kept = response
        .extensions()
        .get::<ReplayBody>()
        .map(|body| body.0.clone());
    let stored = StoredResponse {
        status,
        headers,
        body: kept.unwrap_or_else(|| bytes.to_vec()),
    };
    match service.finish(held, stored).await {
        Ok(Finish::Stored | Finish::Released) => {}
        Ok(Finish::Lost) => tracing::warn!(
            "idempotency key taken over by another request before this one finished; \
             its answer was not stored"
        ),
        Err(error) => tracing::warn!(
            error = %error,
            "idempotent answer not stored; the key stays held until its lease runs out"
        ),
    }
    ServiceResponse::new(request, response.set_body(BoxBody::new(bytes)))
}

async fn abandon(service: &IdempotencyService, held: HeldKey) {
    if let Err(error) = service.abandon(held).await {
        tracing::warn!(
            error = %error,
            "idempotency key not released; it stays held until its lease runs out"
        );
    }
}

/// Documents `Idempotency-Key` on each of [`OPERATIONS`] (the path's and its alias's): the header
/// parameter, the `Idempotent-Replayed` header of successes, `409 idempotency_key_in_flight`, and
/// `idempotency_key_reused` beside the validation errors of 422.
pub(crate) struct Documented;

impl Modify for Documented {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (method, path) in OPERATIONS {
            let Some(item) = openapi.paths.paths.get_mut(*path) else {
                continue;
            };
            let operation = match *method {
                Method::POST => item.post.as_mut(),
                Method::PATCH => item.patch.as_mut(),
                Method::PUT => item.put.as_mut(),
                Method::DELETE => item.delete.as_mut(),
                _ => None,
            };
            if let Some(operation) = operation {
                document(operation, path);
            }
        }
    }
}

fn document(operation: &mut Operation, path: &str) {
    let key = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Names this request so that a retry does not do its work twice (docs/api.md, \
             \"Idempotency\"): the same key with the same request within 24 hours gets the \
             first answer again, with `Idempotent-Replayed: true`. Keys are the caller's own.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(IdempotencyKey::MAX_LEN))
                .pattern(Some("^[!-~]+$")),
        ))
        .build();
    operation.parameters.get_or_insert_with(Vec::new).push(key);

    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
            response.headers.insert(
                "Idempotent-Replayed".to_owned(),
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["true"])),
                    )
                    .description(Some(
                        "`true` when this is the stored answer to an earlier request with the \
                         same `Idempotency-Key`; absent otherwise.",
                    ))
                    .build(),
            );
        }
    }
    if let Some(RefOr::T(malformed)) = responses.get_mut("400") {
        malformed.description.push_str(
            " Or an `Idempotency-Key` header that is not 1 to 255 visible ASCII characters.",
        );
    }
    let mut in_flight = error_response(
        "A request with this `Idempotency-Key` is still running; retry after `Retry-After` \
         seconds.",
        serde_json::json!({"message": KEY_IN_FLIGHT, "code": "idempotency_key_in_flight"}),
        true,
    );
    add_problem_form("409", &mut in_flight, path);
    responses.insert("409".to_owned(), RefOr::T(in_flight));
    let mut reused = error_response(
        "This `Idempotency-Key` was used with another request (another body or path).",
        serde_json::json!({"message": KEY_REUSED, "code": "idempotency_key_reused"}),
        false,
    );
    add_problem_form("422", &mut reused, path);
    match responses.get_mut("422") {
        Some(RefOr::T(invalid)) => {
            invalid.description.push_str(
                " Or `{\"message\", \"code\": \"idempotency_key_reused\"}`: the \
                 `Idempotency-Key` was used with another request (another body or path).",
            );
            // The problem form's schema already covers every code.
            if let Some(content) = invalid.content.get_mut("application/json") {
                let mut one_of = OneOfBuilder::new();
                if let Some(schema) = content.schema.take() {
                    one_of = one_of.item(schema);
                }
                content.schema = Some(one_of.item(Ref::from_schema_name("ErrorBody")).into());
            }
        }
        _ => {
            responses.insert("422".to_owned(), RefOr::T(reused));
        }
    }
}

fn error_response(description: &str, example: serde_json::Value, retry_after: bool) -> Response {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".to_owned(),
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .example(Some(example))
            .build(),
    );
    if retry_after {
        response.headers.insert(
            "Retry-After".to_owned(),
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("Seconds to wait before retrying: 1."))
                .build(),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut req = TestRequest::default();
        for value in values {
            req = req.append_header((IDEMPOTENCY_KEY, HeaderValue::from_bytes(value).unwrap()));
        }
        req.to_http_request().headers().clone()
    }

    #[test]
    fn one_key_of_visible_ascii_is_read_as_sent() {
        assert_eq!(
            key(&headers(&[b"Abc-123_\"x\""])).unwrap().as_str(),
            "Abc-123_\"x\""
        );
        let longest = "k".repeat(255);
        assert_eq!(
            key(&headers(&[longest.as_bytes()])).unwrap().as_str(),
            longest
        );
    }

    #[test]
    fn anything_else_is_a_400_naming_the_header() {
        let long = "k".repeat(256);
        let cases: [&[&[u8]]; 5] = [
            &[b""],
            &[long.as_bytes()],
            &[b"a b"],
            &[b"cl\xc3\xa9"],
            &[b"one", b"two"],
        ];
        for values in cases {
            let (status, body) = crate::error::rendered(key(&headers(values)).unwrap_err());
            assert_eq!(status, 400, "{values:?}");
            assert_eq!(body["code"], "malformed_request");
            assert_eq!(
                body["message"],
                "The Idempotency-Key header must be 1 to 255 visible ASCII characters."
            );
        }
    }

    #[test]
    fn the_fingerprint_tells_apart_method_path_and_body() {
        let base = fingerprint(&Method::POST, "/api/v1/events", b"{\"title\":\"A\"}");
        assert_eq!(
            base,
            fingerprint(&Method::POST, "/api/v1/events", b"{\"title\":\"A\"}")
        );
        for other in [
            fingerprint(&Method::PATCH, "/api/v1/events", b"{\"title\":\"A\"}"),
            fingerprint(&Method::POST, "/api/v1/events/", b"{\"title\":\"A\"}"),
            fingerprint(&Method::POST, "/api/v1/events", b"{\"title\": \"A\"}"),
            fingerprint(&Method::POST, "/api/v1/events{\"title\":\"A\"}", b""),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn a_replay_has_the_stored_status_headers_and_body_and_says_so() {
        let response = replay(StoredResponse {
            status: 201,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("location".into(), "/api/v1/events/1".into()),
            ],
            body: b"{\"data\":1}".to_vec(),
        });
        assert_eq!(response.status(), 201);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json"
        );
        assert_eq!(
            response.headers().get("location").unwrap(),
            "/api/v1/events/1"
        );
        assert_eq!(
            response.headers().get("idempotent-replayed").unwrap(),
            "true"
        );
        let body = response.into_body().try_into_bytes().unwrap();
        assert_eq!(&body[..], b"{\"data\":1}");
    }
}
