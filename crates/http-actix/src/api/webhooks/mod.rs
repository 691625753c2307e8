//! Webhooks (docs/api.md, "Webhooks"): register, list, show and delete endpoints, and list their
//! delivery attempts. Delivering is the domain's `DeliveryService`, run by the app's worker.

mod errors;
pub mod handlers;
pub mod requests;
pub mod responses;

use actix_web::web;
use utoipa::OpenApi;

use crate::error::ProblemForms;

use crate::auth::protected;

/// Registers this area's routes; called inside the `/api/v1` scope.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhooks")
            .route(protected(web::post().to(handlers::create_webhook)))
            .route(protected(web::get().to(handlers::list_webhooks))),
    )
    .service(
        web::resource("/webhooks/{webhook_id}")
            .route(protected(web::get().to(handlers::get_webhook)))
            .route(protected(web::delete().to(handlers::delete_webhook))),
    )
    .service(
        web::resource("/webhooks/{webhook_id}/verify")
            .route(protected(web::post().to(handlers::verify_webhook))),
    )
    .service(
        web::resource("/webhooks/{webhook_id}/deliveries")
            .route(protected(web::get().to(handlers::list_deliveries))),
    );
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::create_webhook,
        handlers::list_webhooks,
        handlers::get_webhook,
        handlers::delete_webhook,
        handlers::verify_webhook,
        handlers::list_deliveries
    ),
    modifiers(&ProblemForms)
)]
pub(crate) struct Doc;
