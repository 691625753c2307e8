//! The route table: every path of SPEC §3–§5 under `/api/v1` (the seed's spellings and their
//! aliases), the health probes, the OpenAPI document and the docs page.

use actix_web::middleware::from_fn;
use actix_web::{http::header, web, HttpResponse, Route};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::api::{accounts, events, health, invitations};
use crate::auth::require_bearer;
use crate::extract::{self, json_method_not_allowed};
use crate::openapi::openapi;
use crate::AppState;

/// Registers the whole HTTP interface on an app, with the state its handlers use.
///
/// Use it as `App::new().configure(http_actix::configure(state.clone()))`. It registers the
/// extractor configurations (64 KiB JSON limit, JSON error bodies) and the app's default service
/// (404 JSON), so every answer of the API is JSON.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .app_data(extract::json_config())
            .app_data(extract::path_config())
            .app_data(extract::query_config())
            // Before the /api/v1 scope, which would otherwise claim /api/v1/openapi.json.
            // `validator_url("none")`: by default Swagger UI loads a badge from validator.swagger.io
            // (sending it the document's URL) whenever the page is not on localhost; /docs must
            // work offline and talk to nobody but this server.
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/api/v1/openapi.json", openapi())
                    .config(Config::default().validator_url("none")),
            )
            .route("/docs", web::get().to(docs_redirect))
            .service(
                web::scope("/health")
                    .wrap(json_method_not_allowed())
                    .service(web::resource("/live").route(web::get().to(health::live)))
                    .service(web::resource("/ready").route(web::get().to(health::ready))),
            )
            .service(
                web::scope("/api/v1")
                    .wrap(json_method_not_allowed())
                    .configure(api_v1),
            )
            .default_service(web::to(extract::not_found));
    }
}

fn api_v1(cfg: &mut web::ServiceConfig) {
    // `web::resource(..).route(..)` rather than `cfg.route(..)`: the latter puts the method guard
    // on the resource, which turns a wrong method into a 404 instead of a 405.
    cfg.service(web::resource("/register").route(web::post().to(accounts::register)))
        .service(web::resource("/login").route(web::post().to(accounts::login)))
        .service(web::resource("/logout").route(protected(web::post().to(accounts::logout))))
        .service(web::resource("/me").route(protected(web::get().to(accounts::me))))
        .service(
            web::resource("/events")
                .route(protected(web::post().to(events::create_event)))
                .route(protected(web::get().to(events::list_events))),
        )
        .service(
            web::resource("/events/{event_id}").route(protected(web::get().to(events::get_event))),
        )
        .service(
            web::resource("/events/{event_id}/members")
                .route(protected(web::get().to(events::list_members))),
        )
        .service(
            web::resource([
                "/{event_id}/send-invitations",
                "/events/{event_id}/invitations",
            ])
            .route(protected(web::post().to(invitations::send_invitations))),
        )
        .service(
            web::resource(["/sended-invitations", "/sent-invitations"])
                .route(protected(web::get().to(invitations::list_sent))),
        )
        .service(
            web::resource("/received-invitations")
                .route(protected(web::get().to(invitations::list_received))),
        )
        .service(
            web::resource("/invitations/{invitation_id}")
                .route(protected(web::get().to(invitations::get_invitation)))
                .route(protected(web::patch().to(invitations::answer_invitation))),
        );
}

/// A route (handler already set) that authenticates its caller before its extractors read the body.
fn protected(route: Route) -> Route {
    route.wrap(from_fn(require_bearer))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}
