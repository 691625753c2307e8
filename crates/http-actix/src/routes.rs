//! The route table: each area's routes under `/api/v1`, the health probes, the OpenAPI document and
//! the docs page, over extractor settings under which every error is a JSON body.

use actix_web::middleware::from_fn;
use actix_web::{http::header, web, HttpResponse};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::api::{accounts, calendars, changes, events, health, invitations, links, webhooks};
use crate::extract::{self, json_method_not_allowed};
use crate::idempotency;
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
            .configure(health::routes)
            .configure(links::page_routes)
            .configure(calendars::page_routes)
            .service(
                web::scope("/api/v1")
                    .wrap(json_method_not_allowed())
                    .wrap(from_fn(idempotency::idempotency_keys))
                    .configure(api_v1),
            )
            .default_service(web::to(extract::not_found));
    }
}

/// Every area under `/api/v1`. The order matters where patterns overlap: `/events/{event_id}`
/// must be tried before `/{event_id}/send-invitations`.
///
/// Areas use `web::resource(..).route(..)` rather than `cfg.route(..)`: the latter puts the method
/// guard on the resource, which turns a wrong method into a 404 instead of a 405.
fn api_v1(cfg: &mut web::ServiceConfig) {
    cfg.configure(accounts::routes)
        .configure(calendars::routes)
        .configure(events::routes)
        .configure(changes::routes)
        .configure(webhooks::routes)
        .configure(links::routes)
        .configure(invitations::routes);
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}
