//! Sending, listing, answering, cancelling and resending invitations (docs/api.md, "Invitations"
//! and "Invitation lifecycle"): the seed's routes, spelled as the seed spells them, their aliases,
//! and the lifecycle's routes.

mod errors;
pub mod handlers;
pub mod requests;
pub mod responses;

use actix_web::web;
use utoipa::OpenApi;

use crate::error::ProblemForms;

use crate::auth::protected;

/// Paths served by the same handler as another documented path: `(original, alias)`.
pub(crate) const ALIASES: [(&str, &str); 2] = [
    (
        "/api/v1/{event_id}/send-invitations",
        "/api/v1/events/{event_id}/invitations",
    ),
    ("/api/v1/sended-invitations", "/api/v1/sent-invitations"),
];

/// Registers this area's routes; called inside the `/api/v1` scope.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/{event_id}/send-invitations")
            .route(protected(web::post().to(handlers::send_invitations))),
    )
    .service(
        web::resource("/events/{event_id}/invitations")
            .route(protected(web::post().to(handlers::send_invitations)))
            .route(protected(web::get().to(handlers::list_event_invitations))),
    )
    .service(
        web::resource(["/sended-invitations", "/sent-invitations"])
            .route(protected(web::get().to(handlers::list_sent))),
    )
    .service(
        web::resource("/received-invitations")
            .route(protected(web::get().to(handlers::list_received))),
    )
    .service(
        web::resource("/invitations/{invitation_id}")
            .route(protected(web::get().to(handlers::get_invitation)))
            .route(protected(web::patch().to(handlers::answer_invitation)))
            .route(protected(web::delete().to(handlers::cancel_invitation))),
    )
    .service(
        web::resource("/invitations/{invitation_id}/resend")
            .route(protected(web::post().to(handlers::resend_invitation))),
    );
}

/// This area's part of the OpenAPI document. `StatusFilterParam` is named only by a query
/// parameter, which utoipa does not collect.
#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::send_invitations,
        handlers::list_sent,
        handlers::list_received,
        handlers::get_invitation,
        handlers::answer_invitation,
        handlers::cancel_invitation,
        handlers::resend_invitation,
        handlers::list_event_invitations
    ),
    components(schemas(requests::StatusFilterParam)),
    modifiers(&ProblemForms)
)]
pub(crate) struct Doc;
