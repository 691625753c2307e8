//! Liveness and readiness probes (SPEC §8).

use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::responses::HealthBody;
use crate::AppState;

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
