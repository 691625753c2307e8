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
use actix_web::http::{header, Method};
use domain::ports::HealthCheck;
use domain::services::{AccountService, EventService, InvitationService};
use domain::PhoneRegion;

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod json;
pub mod openapi;
pub mod pagination;
pub mod rate_limit;
mod routes;
pub mod validation;

pub use auth::{AuthenticatedUser, BearerToken};
pub use error::{
    ApiError, ErrorBody, ErrorCode, ServerErrorBody, UnauthenticatedBody, ValidationErrorBody,
};
pub use openapi::openapi;
pub use rate_limit::{RateLimiter, RateLimits};
pub use routes::configure;
pub use validation::ValidationErrors;

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
    /// Login and send limits, shared by every worker of the process.
    pub limiter: Arc<RateLimiter>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("phone_region", &self.phone_region)
            .finish_non_exhaustive()
    }
}

/// Middleware for the whole app: JSON answers say their charset, `application/json; charset=utf-8`
/// (docs/api.md, "Conventions").
///
/// # Errors
/// Only the inner service's errors.
pub async fn json_charset(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/json")
    {
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    Ok(response)
}

/// CORS for browser clients of the API: the given origins (`*` for any) may call every route with
/// a bearer token and a JSON body. With no origins, cross-origin requests are refused.
pub fn cors(allowed_origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PATCH])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::RETRY_AFTER])
        .max_age(3600);
    if allowed_origins.iter().any(|origin| origin == "*") {
        return cors.allow_any_origin();
    }
    allowed_origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}
