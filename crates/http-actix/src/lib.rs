//! Event Manager's HTTP adapter: actix-web routes over the domain's services.
//!
//! [`configure`] registers everything: the routes of docs/api.md under `/api/v1` (the seed's paths
//! and their aliases), `/health/live` and `/health/ready`, the OpenAPI document at
//! `/api/v1/openapi.json`, Swagger UI at `/docs`, and extractor settings under which every error is
//! a JSON body.
//!
//! The crate is sliced by area: [`api`] holds one module per area of the API (its request and
//! response types, handlers, routes and OpenAPI part), over a small shared core: [`error`]
//! ([`ApiError`] and the error bodies), [`extract`], [`auth`], [`pagination`], [`validation`],
//! [`rate_limit`], and the OpenAPI root in [`openapi`].
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//!
//! # async fn run(state: http_actix::AppState) -> std::io::Result<()> {
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(http_actix::cors(&[]))
//!         .wrap(tracing_actix_web::TracingLogger::default())
//!         .configure(http_actix::configure(state.clone()))
//! })
//! .bind("127.0.0.1:8080")?
//! .run()
//! .await
//! # }
//! ```

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, Method};
use actix_web::HttpMessage;
use domain::accounts::AccountService;
use domain::changes::ChangeService;
use domain::events::EventService;
use domain::idempotency::IdempotencyService;
use domain::invitations::InvitationService;
use domain::ports::HealthCheck;
use domain::webhooks::WebhookService;
use domain::PhoneRegion;

pub mod api;
pub mod auth;
mod conditional;
pub mod error;
pub mod extract;
pub mod hashing;
pub mod i18n;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod rate_limit;
mod routes;
mod schema;
pub mod validation;

pub use auth::{AuthenticatedUser, BearerToken};
pub use error::{
    ApiError, Credentials, ErrorBody, ErrorCode, ServerErrorBody, UnauthenticatedBody,
    ValidationErrorBody,
};
pub use hashing::HashingGate;
pub use openapi::openapi;
pub use pagination::CursorKey;
pub use rate_limit::{RateLimiter, RateLimits, TrustedProxies};
pub use routes::configure;
pub use validation::ValidationErrors;

/// The header that carries a request's id, the caller's or a new one (docs/api.md, "Request
/// ids"); the app sets it on every answer, and browsers may send and read it.
pub const REQUEST_ID: &str = "x-request-id";

/// What the handlers need: the domain's services and the region national mobiles are read in.
#[derive(Clone)]
pub struct AppState {
    /// Accounts and sessions.
    pub accounts: AccountService,
    /// Events and members.
    pub events: EventService,
    /// Invitations.
    pub invitations: InvitationService,
    /// The readiness probe's check of the database.
    pub health: Arc<dyn HealthCheck>,
    /// `DEFAULT_PHONE_REGION`.
    pub phone_region: PhoneRegion,
    /// Login, registration and send limits, shared by every worker of the process.
    pub limiter: Arc<RateLimiter>,
    /// Whose `X-Forwarded-For` to believe when telling the client's address.
    pub trusted_proxies: TrustedProxies,
    /// Admission to password hashing: logins keep a share registrations cannot take.
    pub hashing: Arc<HashingGate>,
    /// The key list cursors are signed with, the same in every process on the database
    /// (docs/api.md, "Pagination").
    pub cursors: CursorKey,
    /// Idempotency keys of the operations that honour them (docs/api.md, "Idempotency").
    pub idempotency: IdempotencyService,
    /// The change feed and stream tickets (docs/api.md, "Change feed and live stream").
    pub changes: ChangeService,
    /// This process's live streams.
    pub streams: Arc<api::changes::hub::StreamHub>,
    /// Webhook endpoints (docs/api.md, "Webhooks").
    pub webhooks: WebhookService,
    /// One-click links (docs/api.md, "Answering from a message").
    pub links: domain::links::LinkService,
    /// Stopping invitation messages (docs/api.md, "Stopping invitation messages").
    pub opt_outs: domain::optouts::OptOutService,
    /// `SMS_INBOUND_SECRET`: what the SMS gateway names when it hands over a text from a phone;
    /// `None`: `/hooks/sms` answers 404.
    pub sms_inbound_secret: Option<secrecy::SecretString>,
    /// `PUBLIC_URL`: the base of the links the service sends.
    pub public_url: domain::links::PublicUrl,
    /// Calendar feeds (docs/api.md, "Calendars").
    pub calendars: domain::calendars::CalendarService,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("phone_region", &self.phone_region)
            .finish_non_exhaustive()
    }
}

/// The `Content-Security-Policy` of the docs page: its own scripts, styles and images only (Swagger
/// UI has no inline script; it sets inline styles and uses `data:` images), requests to this server
/// only, and no framing.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// How long a connection's sent data may stay unacknowledged, or its peer's receive window stay
/// shut, before the kernel aborts it (`TCP_USER_TIMEOUT`): a client that stops reading a live
/// stream loses its connection, and the stream its slot, within this bound.
pub const WRITE_PROGRESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// For `HttpServer::on_connect`: bounds how long each connection may stop reading what it is sent
/// ([`WRITE_PROGRESS_TIMEOUT`]), and gives it a place for the live-stream slots it holds
/// ([`api::changes::hub::ConnectionSlots`]), freed when the connection is gone.
pub fn on_connect(connection: &dyn std::any::Any, data: &mut actix_web::dev::Extensions) {
    if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        let socket = socket2::SockRef::from(tcp);
        if let Err(error) = socket.set_tcp_user_timeout(Some(WRITE_PROGRESS_TIMEOUT)) {
            tracing::debug!(%error, "TCP_USER_TIMEOUT could not be set on a connection");
        }
    }
    data.insert(api::changes::hub::SharedConnectionSlots::default());
}

/// Innermost middleware: a handler that panics answers a JSON 500 (`{"message": "Server Error."}`)
/// and logs the panic, instead of dropping the connection with every other request its worker was
/// serving. A safety net, not a way to answer: every input has a 4xx of its own, and the contract
/// tests count any 500 as a failure.
///
/// The answer is an error, not a response: the request went down with the handler (and may not be
/// cloned before routing), and actix-web turns the error into its JSON body.
///
/// # Errors
/// The inner service's errors, and a 500 for a panic.
pub async fn catch_panics(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use futures_util::FutureExt as _;
    let path = req.path().to_owned();
    match std::panic::AssertUnwindSafe(next.call(req))
        .catch_unwind()
        .await
    {
        Ok(answer) => answer,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, %path, "a handler panicked");
            Err(ApiError::internal(what).into())
        }
    }
}

/// Middleware for the whole app, outermost but for logging (docs/api.md, "Conventions"):
///
/// - JSON answers say their charset, `application/json; charset=utf-8`;
/// - every answer sends `X-Content-Type-Options: nosniff`, and the docs page a restrictive
///   `Content-Security-Policy`;
/// - the answer to a request the abuse limits counted carries `RateLimit-Policy` and `RateLimit`
///   (docs/api.md, "Rate limit headers"), from the [`rate_limit::RateLimitReport`] its handler
///   left on the request;
/// - actix-cors's plain-text refusal of an origin becomes a JSON 403;
/// - every error body is the default one (docs/api.md, "Errors") unless the request's `Accept`
///   prefers `application/problem+json`: then it is rewritten as problem details (docs/api.md,
///   "Problem details"; see [`error::problem`] for why here), and error answers say
///   `Vary: Accept`.
///
/// # Errors
/// Only the inner service's errors.
pub async fn response_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    let problem = error::problem::prefers_problem(req.headers());
    let response = next.call(req).await?.map_into_left_body();
    let refused_origin = response
        .response()
        .error()
        .and_then(|error| error.as_error::<actix_cors::CorsError>())
        .map(ToString::to_string);
    let mut response = match refused_origin {
        Some(message) => {
            let (request, _) = response.into_parts();
            let answer = actix_web::ResponseError::error_response(&ApiError::Forbidden(message));
            ServiceResponse::new(request, answer).map_into_right_body()
        }
        None => response,
    };
    if problem && error::problem::is_default_error(&response) {
        response = error::problem::rewrite(response).await;
    }
    let report = response
        .request()
        .extensions_mut()
        .remove::<rate_limit::RateLimitReport>();
    let status = response.status();
    let headers = response.headers_mut();
    if let Some(report) = report {
        report.write(headers);
    }
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/json")
    {
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(DOCS_CSP),
        );
    }
    if status.is_client_error() || status.is_server_error() {
        headers.append(header::VARY, header::HeaderValue::from_static("Accept"));
    }
    Ok(response)
}

/// CORS for browser clients of the API: the given origins (`*` for any) may call every route with
/// a bearer token and a JSON body. With no origins, cross-origin requests are refused.
pub fn cors(allowed_origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            idempotency::IDEMPOTENCY_KEY,
            header::HeaderName::from_static(api::changes::requests::LAST_EVENT_ID),
            header::HeaderName::from_static(REQUEST_ID),
            header::IF_MATCH,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::HeaderName::from_static(REQUEST_ID),
            header::RETRY_AFTER,
            header::LOCATION,
            header::WWW_AUTHENTICATE,
            header::ETAG,
            rate_limit::RATELIMIT_POLICY,
            rate_limit::RATELIMIT,
            idempotency::IDEMPOTENT_REPLAYED,
        ])
        .max_age(3600);
    if allowed_origins.iter().any(|origin| origin == "*") {
        return cors.allow_any_origin();
    }
    allowed_origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::test::{self, TestRequest};
    use actix_web::{web, App, HttpResponse};

    use super::*;

    #[actix_web::test]
    async fn every_answer_is_nosniff_and_only_the_docs_page_has_a_csp() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(response_headers))
                .route("/docs/", web::get().to(HttpResponse::Ok))
                .route(
                    "/api/v1/me",
                    web::get().to(|| async { HttpResponse::Ok().json(1) }),
                ),
        )
        .await;
        let docs = test::call_service(&app, TestRequest::get().uri("/docs/").to_request()).await;
        assert_eq!(
            docs.headers().get("x-content-type-options").unwrap(),
            "nosniff"
        );
        let csp = docs
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        let api = test::call_service(&app, TestRequest::get().uri("/api/v1/me").to_request()).await;
        assert_eq!(
            api.headers().get("x-content-type-options").unwrap(),
            "nosniff"
        );
        assert_eq!(
            api.headers().get("content-type").unwrap(),
            "application/json; charset=utf-8"
        );
        assert!(!api.headers().contains_key("content-security-policy"));
    }

    #[actix_web::test]
    async fn a_preflight_from_a_refused_origin_gets_a_json_403() {
        let app = test::init_service(
            App::new()
                .wrap(cors(&["https://app.example".to_owned()]))
                .wrap(from_fn(response_headers))
                .route("/api/v1/me", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let req = TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/me")
            .insert_header(("origin", "https://evil.example"))
            .insert_header(("access-control-request-method", "GET"))
            .to_request();
        let response = test::call_service(&app, req).await;
        assert_eq!(response.status(), 403);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json; charset=utf-8"
        );
        let body: serde_json::Value = test::read_body_json(response).await;
        assert_eq!(body["code"], "forbidden");
    }

    #[actix_web::test]
    async fn a_panicking_handler_answers_a_json_500_and_the_app_keeps_serving() {
        async fn panics() -> HttpResponse {
            let raw = String::from("\u{80}");
            // The kind of slip a panic comes from: a byte index inside a character.
            let _ = &raw[..1];
            HttpResponse::Ok().finish()
        }
        let app = test::init_service(
            App::new()
                .wrap(from_fn(catch_panics))
                .wrap(from_fn(response_headers))
                .route("/boom", web::get().to(panics))
                .route("/fine", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let Err(boom) =
            test::try_call_service(&app, TestRequest::get().uri("/boom").to_request()).await
        else {
            panic!("a panic is answered as an error");
        };
        let boom = boom.error_response();
        assert_eq!(boom.status(), 500);
        let body = actix_web::body::to_bytes(boom.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["message"], "Server Error.");
        let fine = test::call_service(&app, TestRequest::get().uri("/fine").to_request()).await;
        assert_eq!(fine.status(), 200);
    }
}
