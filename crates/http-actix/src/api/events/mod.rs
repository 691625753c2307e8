//! Events and their members (docs/api.md, "Events").

mod errors;
pub mod handlers;
pub mod requests;
pub mod responses;

use actix_web::web;
use utoipa::OpenApi;

pub(crate) use errors::EVENT_NOT_FOUND;

use crate::auth::protected;

/// Registers this area's routes; called inside the `/api/v1` scope, before the invitations area
/// (whose `/{event_id}/send-invitations` would otherwise claim `/events/…` paths).
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/events")
            .route(protected(web::post().to(handlers::create_event)))
            .route(protected(web::get().to(handlers::list_events))),
    )
    .service(
        web::resource("/events/{event_id}").route(protected(web::get().to(handlers::get_event))),
    )
    .service(
        web::resource("/events/{event_id}/members")
            .route(protected(web::get().to(handlers::list_members))),
    );
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    handlers::create_event,
    handlers::list_events,
    handlers::get_event,
    handlers::list_members
))]
pub(crate) struct Doc;
