//! Calendars (docs/api.md, "Calendars"): an event as an iCalendar file for its members, the same
//! for whoever holds an invitation's link, and a personal feed of one's events.

pub mod handlers;
pub mod responses;

use actix_web::web;
use utoipa::OpenApi;

use crate::auth::protected;
use crate::error::ProblemForms;

/// Registers the routes under `/api/v1`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/events/{event_id}/calendar.ics")
            .route(protected(web::get().to(handlers::event_calendar))),
    )
    .service(
        web::resource("/me/calendar-feed")
            .route(protected(web::post().to(handlers::create_calendar_feed)))
            .route(protected(web::delete().to(handlers::delete_calendar_feed))),
    );
}

/// Registers the link's calendar file, outside `/api/v1`.
pub(crate) fn page_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/i/{token}/calendar.ics").route(web::get().to(handlers::link_calendar)),
    )
    .service(web::resource("/cal/{file}").route(web::get().to(handlers::feed)));
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::event_calendar,
        handlers::create_calendar_feed,
        handlers::delete_calendar_feed
    ),
    modifiers(&ProblemForms)
)]
pub(crate) struct Doc;
