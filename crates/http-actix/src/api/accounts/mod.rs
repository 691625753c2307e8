//! Accounts (docs/api.md, "Accounts"): registering, logging in and out, and the caller's profile.

mod errors;
pub mod handlers;
pub mod requests;
pub mod responses;

use actix_web::web;
use utoipa::OpenApi;

use crate::error::ProblemForms;

pub use responses::UserSummaryBody;

use crate::auth::protected;
use crate::schema::AtLeastOneOf;

/// Register needs an email or a mobile (docs/api.md, "Accounts").
const REGISTER_CONTACT: AtLeastOneOf = AtLeastOneOf {
    schema: "RegisterRequest",
    fields: &["email", "mobile"],
};

/// Login needs one of `login`, `email` or `mobile` (docs/api.md, "Accounts").
const LOGIN_NAME: AtLeastOneOf = AtLeastOneOf {
    schema: "LoginRequest",
    fields: &["login", "email", "mobile"],
};

/// Registers this area's routes; called inside the `/api/v1` scope.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/register").route(web::post().to(handlers::register)))
        .service(web::resource("/login").route(web::post().to(handlers::login)))
        .service(web::resource("/logout").route(protected(web::post().to(handlers::logout))))
        .service(web::resource("/me").route(protected(web::get().to(handlers::me))))
        .service(
            web::resource("/me/verifications")
                .route(protected(web::post().to(handlers::send_code))),
        )
        .service(
            web::resource("/me/verifications/confirm")
                .route(protected(web::post().to(handlers::confirm_code))),
        );
}

/// This area's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::register,
        handlers::login,
        handlers::logout,
        handlers::me,
        handlers::send_code,
        handlers::confirm_code
    ),
    modifiers(&REGISTER_CONTACT, &LOGIN_NAME, &ProblemForms),
)]
pub(crate) struct Doc;
