//! One-click answers from a message (docs/api.md, "Answering from a message"): the RSVP page a
//! link opens (`GET`/`POST /i/{token}`, HTML, no JavaScript) and the same for apps that draw their
//! own (`GET`/`POST /api/v1/rsvp/{token}`, JSON); and the page that stops invitation messages
//! (`GET`/`POST /unsubscribe/{token}`, docs/api.md, "Stopping invitation messages").

mod errors;
pub mod handlers;
mod page;
pub mod responses;
mod unsubscribe;

use actix_web::web;
use utoipa::OpenApi;

use crate::error::ProblemForms;

/// Counts a request made with a link's or a feed's secret under the per-address `link` limit
/// (docs/api.md, "Answering from a message").
///
/// # Errors
/// `429` past the limit, `503` when the counters cannot be reached.
pub(crate) async fn count_link_request(
    state: &crate::AppState,
    req: &actix_web::HttpRequest,
) -> Result<(), crate::ApiError> {
    let address = crate::api::accounts::handlers::client_address(state, req);
    state.limiter.hit_link(&address).await.report_to(req)?;
    Ok(())
}

/// Registers the JSON routes; called inside the `/api/v1` scope.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/rsvp/{token}")
            .route(web::get().to(handlers::view_rsvp))
            .route(web::post().to(handlers::answer_rsvp)),
    );
}

/// Registers the page and its style sheet, outside `/api/v1`.
pub(crate) fn page_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/i/{token}")
            .route(web::get().to(page::show))
            .route(web::post().to(page::answer)),
    )
    .service(
        web::resource("/hooks/sms")
            .route(web::get().to(unsubscribe::text_received))
            .route(web::post().to(unsubscribe::text_received)),
    )
    .service(
        web::resource("/unsubscribe/{token}")
            .route(web::get().to(unsubscribe::show))
            .route(web::post().to(unsubscribe::stop)),
    )
    .service(web::resource(page::STYLE_PATH).route(web::get().to(page::style)));
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(handlers::view_rsvp, handlers::answer_rsvp), modifiers(&ProblemForms))]
pub(crate) struct Doc;
