//! The change feed and the live stream (docs/api.md, "Change feed and live stream"): the caller's
//! domain events after an id, single-use stream tickets, and the `text/event-stream` fed by this
//! process's [`hub::StreamHub`].

pub mod handlers;
pub mod hub;
pub mod requests;
pub mod responses;

use actix_web::web;
use utoipa::OpenApi;

use crate::error::ProblemForms;

use crate::auth::protected;

/// Registers this area's routes; called inside the `/api/v1` scope. The stream authenticates
/// itself (the header, or a ticket).
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/me/events").route(protected(web::get().to(handlers::list_changes))),
    )
    .service(web::resource("/me/stream").route(web::get().to(handlers::stream_changes)))
    .service(
        web::resource("/stream-tickets")
            .route(protected(web::post().to(handlers::issue_stream_ticket))),
    );
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::list_changes,
        handlers::issue_stream_ticket,
        handlers::stream_changes
    ),
    modifiers(&ProblemForms)
)]
pub(crate) struct Doc;
