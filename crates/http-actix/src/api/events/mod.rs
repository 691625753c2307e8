//! Events, their members and roles (docs/api.md, "Events" and "Roles and members").

mod errors;
pub mod handlers;
pub mod requests;
pub mod responses;

use actix_web::web;
use utoipa::OpenApi;

use crate::error::ProblemForms;

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
        web::resource("/events/{event_id}")
            .route(protected(web::get().to(handlers::get_event)))
            .route(protected(web::patch().to(handlers::update_event)))
            .route(protected(web::delete().to(handlers::delete_event))),
    )
    .service(
        web::resource("/events/{event_id}/members")
            .route(protected(web::get().to(handlers::list_members))),
    )
    // Before `{user_id}`, which would claim `me`.
    .service(
        web::resource("/events/{event_id}/members/me")
            .route(protected(web::patch().to(handlers::change_party))),
    )
    .service(
        web::resource("/events/{event_id}/members/{user_id}")
            .route(protected(web::patch().to(handlers::change_role)))
            .route(protected(web::delete().to(handlers::remove_member))),
    );
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::create_event,
        handlers::list_events,
        handlers::get_event,
        handlers::update_event,
        handlers::delete_event,
        handlers::list_members,
        handlers::change_role,
        handlers::change_party,
        handlers::remove_member
    ),
    modifiers(&ProblemForms)
)]
pub(crate) struct Doc;
