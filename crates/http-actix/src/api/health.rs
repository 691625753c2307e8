//! Liveness and readiness probes (docs/api.md, "Health"), served under `/health`.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::error::{ApiError, ProblemForms};
use crate::extract::json_method_not_allowed;
use crate::AppState;

/// Registers `/health/live` and `/health/ready`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/health")
            .wrap(json_method_not_allowed())
            .service(web::resource("/live").route(web::get().to(live)))
            .service(web::resource("/ready").route(web::get().to(ready))),
    );
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(live, ready), modifiers(&ProblemForms))]
pub(crate) struct Doc;

/// The answer of the health probes.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    /// `ok` (live) or `ready`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "health",
    responses((status = 200, description = "The process is up.", body = HealthBody, example = json!({"status": "ok"}))),
)]
#[tracing::instrument]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthBody { status: "ok" })
}

/// Readiness: the database answers too.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve.", body = HealthBody, example = json!({"status": "ready"})),
        (status = 503, description = "The database cannot be reached.", body = crate::ServerErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again: 5.")),
            example = json!({"message": "Service temporarily unavailable."})),
    ),
)]
#[tracing::instrument(skip(state))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Whatever the failure, the probe's answer is "not ready".
    state.health.check().await.map_err(|error| {
        ApiError::Unavailable(match error {
            unavailable @ domain::PortError::Unavailable(_) => unavailable,
            other => domain::PortError::Unavailable(Box::new(other)),
        })
    })?;
    Ok(HttpResponse::Ok().json(HealthBody { status: "ready" }))
}
