//! Accounts (docs/api.md, "Accounts"): registering, logging in and out, and the caller's profile.

mod errors;
pub mod handlers;
pub mod requests;
pub mod responses;

use actix_web::web;
use utoipa::OpenApi;

pub use responses::UserSummaryBody;

use crate::auth::protected;

/// Registers this area's routes; called inside the `/api/v1` scope.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/register").route(web::post().to(handlers::register)))
        .service(web::resource("/login").route(web::post().to(handlers::login)))
        .service(web::resource("/logout").route(protected(web::post().to(handlers::logout))))
        .service(web::resource("/me").route(protected(web::get().to(handlers::me))));
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(handlers::register, handlers::login, handlers::logout, handlers::me))]
pub(crate) struct Doc;
