//! The accounts area's handlers.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpRequest, HttpResponse};
use domain::accounts::{Channel, LoginError};
use domain::Login;

use super::requests::{
    CodeForLoginRequest, ConfirmCodeRequest, EmailRequest, EraseRequest, LoginAttempt,
    LoginRequest, MobileRequest, ProfilePatchRequest, RegisterRequest, ResetPasswordRequest,
    SendCodeRequest,
};
use super::responses::{AccountExportBody, CodeRequestedBody, CodeSentBody, SessionBody, UserBody};
use crate::auth::AuthenticatedUser;
use crate::conditional::Representation;
use crate::error::{ApiError, BodyErrors, ServerErrors, TooManyRequests, UnauthenticatedResponse};
use crate::extract::JsonBody;
use crate::json::Data;
use crate::AppState;

/// Register an account.
///
/// Creates the account and logs it in: the answer holds a bearer token for the other routes.
#[utoipa::path(
    post,
    path = "/api/v1/register",
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account was made; the answer holds a new bearer token.", body = Data<SessionBody>,
            headers(
                ("Location" = String, description = "`/api/v1/me`: the new account's profile (the token itself has no URL)."),
                ("RateLimit-Policy" = String, description = "The limits this request counted under (docs/api.md, \"Rate limit headers\")."),
                ("RateLimit" = String, description = "What is left of each (docs/api.md, \"Rate limit headers\")."),
            )),
        BodyErrors,
        (status = 422, description = "Invalid fields, Laravel-style (the first error as `message`, every error by \
            field), or an `email` or `mobile` that another account already has.", body = crate::error::ValidationErrorBody,
            example = json!({"message": "The email has already been taken.", "errors": {"email": ["The email has already been taken."]}})),
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip(state, body, req))]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(&state, &req);
    state.limiter.hit_register(&address).await.report_to(&req)?;
    // Without a `locale`, the language the request prefers (docs/api.md, "Languages").
    let command = body
        .into_inner()
        .try_into_domain_in(state.phone_region, Some(crate::i18n::locale()))?;
    let _slot = state.hashing.registration().await?;
    let session = state.accounts.register(command, &address).await?;
    tracing::info!(user_id = %session.user.id, "registered");
    // The account's own URL; the token the answer also creates has none (docs/api.md,
    // "Conventions").
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/me"))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(SessionBody::from(session))))
}

/// Log in.
///
/// `login` (or `email`, or `mobile`) is the account's email or mobile, with its `password` or a
/// `code` sent by `POST /api/v1/login/code`. A wrong login and a wrong password or code get the
/// same answer.
#[utoipa::path(
    post,
    path = "/api/v1/login",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the answer holds a new bearer token.", body = Data<SessionBody>,
            headers(
                ("RateLimit-Policy" = String, description = "The limits this request counted under (docs/api.md, \"Rate limit headers\")."),
                ("RateLimit" = String, description = "What is left of each (docs/api.md, \"Rate limit headers\")."),
            )),
        (status = 401, description = "Unknown account or wrong password (the same answer for both).", body = crate::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"event-manager\"`.")),
            example = json!({"message": "These credentials do not match our records.", "code": "invalid_credentials"})),
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip(state, body, req))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_inner().try_into_domain(state.phone_region)?;
    let account = match command.login() {
        Some(Login::Email(email)) => email.as_str().to_owned(),
        Some(Login::Mobile(mobile)) => mobile.as_str().to_owned(),
        None => String::new(),
    };
    let address = client_address(&state, &req);
    // Counted as a failure before the password is checked, so that concurrent attempts cannot all
    // pass the limit before any of them is counted; given back when the password is right.
    let reservation = state
        .limiter
        .reserve_login(&account, &address)
        .await
        .report_to(&req)?;
    let slot = match state.hashing.login().await {
        Ok(slot) => slot,
        Err(busy) => {
            // Not the caller's failure: the password was never checked.
            reservation.cancel().await.attach(&req);
            return Err(busy);
        }
    };
    let outcome = match command {
        LoginAttempt::Password(command) => state.accounts.login(command).await,
        LoginAttempt::Code { login, code } => {
            state.accounts.login_with_code(login.as_ref(), &code).await
        }
    };
    drop(slot);
    let session = match outcome {
        Err(LoginError::InvalidCredentials) => return Err(ApiError::InvalidCredentials),
        other => other?,
    };
    reservation.succeeded().await.attach(&req);
    tracing::info!(user_id = %session.user.id, "logged in");
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(SessionBody::from(session))))
}

/// The client's address as the limits count it, logged beside the TCP peer when they differ
/// (behind a trusted proxy).
pub(crate) fn client_address(state: &AppState, req: &HttpRequest) -> String {
    let client = state.trusted_proxies.client_address(req);
    let peer = req.peer_addr().map(|peer| peer.ip());
    if client != peer {
        tracing::info!(client = ?client, peer = ?peer, "client address from X-Forwarded-For");
    }
    client
        .map(|address| state.trusted_proxies.client_key(address))
        .unwrap_or_default()
}

/// Log out.
///
/// Revokes the bearer token used for this request.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token used for this request is revoked."),
        UnauthenticatedResponse,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn logout(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    state.accounts.logout(auth.token.expose()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own profile.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    security(("bearer" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "ETags of representations the client holds, or `*`: a 304 when one is current (weak comparison).")),
    responses(
        (status = 200, description = "The caller's own profile.", body = Data<UserBody>,
            headers(("ETag" = String, description = "A strong ETag of this body (docs/api.md, \"Conditional requests\")."),
                ("Cache-Control" = String, description = "`private, no-cache`."))),
        (status = 304, description = "`If-None-Match` names the current ETag: no body.",
            headers(("ETag" = String, description = "The current ETag."))),
        UnauthenticatedResponse,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn me(req: HttpRequest, auth: AuthenticatedUser) -> Result<HttpResponse, ApiError> {
    Ok(Representation::of(&Data::new(UserBody::from(auth.user)))?.respond(&req))
}

/// Send a code that proves a contact.
///
/// The code goes to the account's contact of `channel` that is not proven yet: the replacement it
/// asked for, else its current one (docs/api.md, "Proving contacts"). At most one code a minute
/// and 5 an hour to one contact, and a daily number per account and per client address.
#[utoipa::path(
    post,
    path = "/api/v1/me/verifications",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = SendCodeRequest,
    responses(
        (status = 202, description = "A code is on its way; it works for 10 minutes and 5 tries.", body = Data<CodeSentBody>),
        UnauthenticatedResponse,
        BodyErrors,
        (status = 422, description = "An unknown channel, nothing to prove on it, or a number outside the countries codes go to by SMS.",
            body = crate::error::ValidationErrorBody,
            example = json!({"message": "The account has no contact of this kind left to prove.", "errors": {"channel": ["The account has no contact of this kind left to prove."]}})),
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn send_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthenticatedUser,
    body: JsonBody<SendCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let channel = body.into_inner().try_into_domain()?;
    let address = client_address(&state, &req);
    let sent = state
        .accounts
        .codes()
        .send_proof(&auth.user, channel, &address)
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(CodeSentBody::from(sent))))
}

/// Prove a contact with the code it received.
///
/// On success the contact is the account's alone: every other account that claimed it loses the
/// claim, and invitations held for it now show (docs/api.md, "Proving contacts").
#[utoipa::path(
    post,
    path = "/api/v1/me/verifications/confirm",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ConfirmCodeRequest,
    responses(
        (status = 200, description = "The contact is proven; the account as it is now.", body = Data<UserBody>),
        UnauthenticatedResponse,
        BodyErrors,
        (status = 422, description = "A wrong, expired, used or void code (after 5 tries), or a contact another account proved first.",
            body = crate::error::ValidationErrorBody,
            example = json!({"message": "The code is wrong or has expired.", "errors": {"code": ["The code is wrong or has expired."]}})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn confirm_code(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    body: JsonBody<ConfirmCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let (channel, code) = body.into_inner().try_into_domain()?;
    let user = state
        .accounts
        .codes()
        .confirm(&auth.user, channel, &code)
        .await?;
    tracing::info!(channel = channel.as_str(), "contact proven");
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(UserBody::from(user))))
}

/// Send a login code.
///
/// Always `202`, whether an account has proven this login or not (the answer tells nothing about
/// accounts, and takes the same time: the code is sent off the request). When one has, a code
/// that logs in (`POST /api/v1/login` with `code`) goes to that contact, within the codes'
/// limits; by SMS only to numbers of the allowed countries.
#[utoipa::path(
    post,
    path = "/api/v1/login/code",
    tag = "accounts",
    request_body = CodeForLoginRequest,
    responses(
        (status = 202, description = "Accepted: if an account has proven this login, a code is on its way.", body = CodeRequestedBody),
        BodyErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all)]
pub async fn login_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<CodeForLoginRequest>,
) -> Result<HttpResponse, ApiError> {
    send_code_off_request(&state, &req, body.into_inner())?;
    Ok(code_accepted())
}

/// Ask for a password reset.
///
/// As `POST /api/v1/login/code`: always `202`; a code goes to the login if an account has proven
/// it. Enter it with a new password at `POST /api/v1/password/reset`.
#[utoipa::path(
    post,
    path = "/api/v1/password/forgot",
    tag = "accounts",
    request_body = CodeForLoginRequest,
    responses(
        (status = 202, description = "Accepted: if an account has proven this login, a code is on its way.", body = CodeRequestedBody),
        BodyErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all)]
pub async fn forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<CodeForLoginRequest>,
) -> Result<HttpResponse, ApiError> {
    send_code_off_request(&state, &req, body.into_inner())?;
    Ok(code_accepted())
}

fn code_accepted() -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(CodeRequestedBody::answer())
}

/// Starts sending a login code on its own task: the request answers at once, whether or not an
/// account has the login.
fn send_code_off_request(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    body: CodeForLoginRequest,
) -> Result<(), ApiError> {
    let login = body.try_into_domain(state.phone_region)?;
    let address = client_address(state, req);
    if let Some(login) = login {
        let accounts = state.accounts.clone();
        actix_web::rt::spawn(async move {
            if let Err(error) = accounts.send_login_code(&login, &address).await {
                tracing::warn!(%error, "sending a login code failed");
            }
        });
    }
    Ok(())
}

/// Reset the password with a code.
///
/// Sets the new password, revokes every token of the account, and logs in.
#[utoipa::path(
    post,
    path = "/api/v1/password/reset",
    tag = "accounts",
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "The password is set; every other token is revoked; the answer holds a new one.", body = Data<SessionBody>),
        (status = 401, description = "Unknown login, or a wrong, used or expired code (the same answer for all).", body = crate::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"event-manager\"`.")),
            example = json!({"message": "These credentials do not match our records.", "code": "invalid_credentials"})),
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let (login, code, password) = body.into_inner().try_into_domain(state.phone_region)?;
    let account = login
        .as_ref()
        .map(|login| match login {
            Login::Email(email) => email.as_str().to_owned(),
            Login::Mobile(mobile) => mobile.as_str().to_owned(),
        })
        .unwrap_or_default();
    let address = client_address(&state, &req);
    let reservation = state
        .limiter
        .reserve_login(&account, &address)
        .await
        .report_to(&req)?;
    let _slot = state.hashing.login().await?;
    let session = match state
        .accounts
        .reset_password(login.as_ref(), &code, &password)
        .await
    {
        Err(LoginError::InvalidCredentials) => return Err(ApiError::InvalidCredentials),
        other => other?,
    };
    reservation.succeeded().await.attach(&req);
    tracing::info!(user_id = %session.user.id, "password reset");
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(SessionBody::from(session))))
}

/// Edit your profile.
///
/// Changes `name`, `locale` or the password (with `current_password`; every other token of the
/// account is then revoked).
#[utoipa::path(
    patch,
    path = "/api/v1/me",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ProfilePatchRequest,
    responses(
        (status = 200, description = "The profile as it is now.", body = Data<UserBody>),
        UnauthenticatedResponse,
        BodyErrors,
        (status = 422, description = "Invalid fields, or a missing or wrong `current_password`.", body = crate::error::ValidationErrorBody,
            example = json!({"message": "The current password is incorrect.", "errors": {"current_password": ["The current password is incorrect."]}})),
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn update_me(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthenticatedUser,
    body: JsonBody<ProfilePatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.into_inner().try_into_domain()?;
    let Some(_) = &patch.password else {
        let user = state
            .accounts
            .update_profile(&auth.user, auth.token.expose(), patch)
            .await?;
        return Ok(HttpResponse::Ok()
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .json(Data::new(UserBody::from(user))));
    };
    // The current password is checked as a login's is: counted as a failure first, given back
    // when right, so that a stolen token cannot try passwords without limit.
    let address = client_address(&state, &req);
    let reservation = state
        .limiter
        .reserve_login(&auth.user.id.to_string(), &address)
        .await
        .report_to(&req)?;
    let _slot = state.hashing.login().await?;
    let user = state
        .accounts
        .update_profile(&auth.user, auth.token.expose(), patch)
        .await?;
    reservation.succeeded().await.attach(&req);
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(UserBody::from(user))))
}

/// Change your email.
///
/// The new email is unproven until the code sent to it is entered
/// (`POST /api/v1/me/verifications/confirm`); a proven email it replaces serves until then.
#[utoipa::path(
    put,
    path = "/api/v1/me/email",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = EmailRequest,
    responses(
        (status = 200, description = "The profile, with the new email as `pending_email` (or `email`, when the old one was unproven).", body = Data<UserBody>),
        UnauthenticatedResponse,
        BodyErrors,
        (status = 422, description = "An invalid email, or the account's own proven one.", body = crate::error::ValidationErrorBody),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn put_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthenticatedUser,
    body: JsonBody<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let contact = body.into_inner().try_into_domain()?;
    change_contact(&state, &req, &auth, contact).await
}

/// Change your mobile.
///
/// As `PUT /api/v1/me/email`, by SMS.
#[utoipa::path(
    put,
    path = "/api/v1/me/mobile",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = MobileRequest,
    responses(
        (status = 200, description = "The profile, with the new mobile as `pending_mobile` (or `mobile`, when the old one was unproven).", body = Data<UserBody>),
        UnauthenticatedResponse,
        BodyErrors,
        (status = 422, description = "An invalid mobile, or the account's own proven one.", body = crate::error::ValidationErrorBody),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn put_mobile(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthenticatedUser,
    body: JsonBody<MobileRequest>,
) -> Result<HttpResponse, ApiError> {
    let contact = body.into_inner().try_into_domain(state.phone_region)?;
    change_contact(&state, &req, &auth, contact).await
}

async fn change_contact(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    auth: &AuthenticatedUser,
    contact: domain::Contact,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(state, req);
    let channel = Channel::of(&contact);
    let user = state
        .accounts
        .change_contact(&auth.user, contact, &address)
        .await
        .map_err(|error| super::errors::contact_error(error, channel))?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(UserBody::from(user))))
}

/// Remove your email.
///
/// Only while the mobile is proven: an account keeps a proven way in.
#[utoipa::path(
    delete,
    path = "/api/v1/me/email",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile without an email.", body = Data<UserBody>),
        UnauthenticatedResponse,
        (status = 422, description = "The mobile is not proven.", body = crate::error::ValidationErrorBody),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn delete_email(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    remove_contact(&state, &auth, Channel::Email).await
}

/// Remove your mobile.
///
/// Only while the email is proven.
#[utoipa::path(
    delete,
    path = "/api/v1/me/mobile",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile without a mobile.", body = Data<UserBody>),
        UnauthenticatedResponse,
        (status = 422, description = "The email is not proven.", body = crate::error::ValidationErrorBody),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn delete_mobile(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    remove_contact(&state, &auth, Channel::Mobile).await
}

async fn remove_contact(
    state: &web::Data<AppState>,
    auth: &AuthenticatedUser,
    channel: Channel,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .accounts
        .remove_contact(&auth.user, channel)
        .await
        .map_err(|error| super::errors::contact_error(error, channel))?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(UserBody::from(user))))
}

/// Everything stored about you.
///
/// The profile, the live tokens (when each was made and expires; never the tokens), the events
/// you are a member of, and the invitations you sent and received.
#[utoipa::path(
    get,
    path = "/api/v1/me/export",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Everything stored about the caller.", body = Data<AccountExportBody>,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"event-manager-export.json\"`."))),
        UnauthenticatedResponse,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn export_me(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    let export = state
        .accounts
        .export(&auth.user, &state.events, &state.invitations)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"event-manager-export.json\"",
        ))
        .json(Data::new(AccountExportBody::from(export))))
}

/// Erase your account.
///
/// With the password, or a login code (`POST /api/v1/login/code`). Every token is revoked; the
/// name and contacts are erased (others see `Deleted user`); events you own are deleted as their
/// owner deletes them, you leave the others; pending invitations to and from you are cancelled.
#[utoipa::path(
    delete,
    path = "/api/v1/me",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = EraseRequest,
    responses(
        (status = 204, description = "The account is erased."),
        UnauthenticatedResponse,
        BodyErrors,
        (status = 422, description = "Neither a password nor a code, or a wrong one.", body = crate::error::ValidationErrorBody,
            example = json!({"message": "The password or code is incorrect.", "errors": {"password": ["The password or code is incorrect."]}})),
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn erase_me(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthenticatedUser,
    body: JsonBody<EraseRequest>,
) -> Result<HttpResponse, ApiError> {
    let proof = body.into_inner().try_into_domain()?;
    // Counted as a failed login first (given back once erased: there is nothing left to guess).
    let address = client_address(&state, &req);
    let _reservation = state
        .limiter
        .reserve_login(&auth.user.id.to_string(), &address)
        .await
        .report_to(&req)?;
    let _slot = state.hashing.login().await?;
    state
        .accounts
        .erase(&auth.user, proof, &state.events, &state.invitations)
        .await?;
    tracing::info!("account erased");
    Ok(HttpResponse::NoContent().finish())
}
