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

/// A code for login or reset needs one of `login`, `email` or `mobile`.
const CODE_LOGIN_NAME: AtLeastOneOf = AtLeastOneOf {
    schema: "CodeForLoginRequest",
    fields: &["login", "email", "mobile"],
};

/// Registers this area's routes; called inside the `/api/v1` scope.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/register").route(web::post().to(handlers::register)))
        .service(web::resource("/login").route(web::post().to(handlers::login)))
        .service(web::resource("/logout").route(protected(web::post().to(handlers::logout))))
        .service(web::resource("/login/code").route(web::post().to(handlers::login_code)))
        .service(web::resource("/password/forgot").route(web::post().to(handlers::forgot_password)))
        .service(web::resource("/password/reset").route(web::post().to(handlers::reset_password)))
        .service(
            web::resource("/me")
                .route(protected(web::get().to(handlers::me)))
                .route(protected(web::patch().to(handlers::update_me)))
                .route(protected(web::delete().to(handlers::erase_me))),
        )
        .service(web::resource("/me/export").route(protected(web::get().to(handlers::export_me))))
        .service(
            web::resource("/me/email")
                .route(protected(web::put().to(handlers::put_email)))
                .route(protected(web::delete().to(handlers::delete_email))),
        )
        .service(
            web::resource("/me/mobile")
                .route(protected(web::put().to(handlers::put_mobile)))
                .route(protected(web::delete().to(handlers::delete_mobile))),
        )
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
        handlers::confirm_code,
        handlers::login_code,
        handlers::forgot_password,
        handlers::reset_password,
        handlers::update_me,
        handlers::put_email,
        handlers::put_mobile,
        handlers::delete_email,
        handlers::delete_mobile,
        handlers::export_me,
        handlers::erase_me
    ),
    modifiers(&REGISTER_CONTACT, &LOGIN_NAME, &CODE_LOGIN_NAME, &ProblemForms),
)]
pub(crate) struct Doc;
