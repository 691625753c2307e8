//! The accounts area's handlers.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpRequest, HttpResponse};
use domain::accounts::LoginError;
use domain::Login;

use super::requests::{ConfirmCodeRequest, LoginRequest, RegisterRequest, SendCodeRequest};
use super::responses::{CodeSentBody, SessionBody, UserBody};
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
    let accepted = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value.split(',').find_map(|tag| {
                domain::accounts::Locale::parse(tag.split(';').next().unwrap_or(""))
            })
        });
    let command = body
        .into_inner()
        .try_into_domain_in(state.phone_region, accepted)?;
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
/// `login` (or `email`, or `mobile`) is the account's email or mobile. A wrong login and a wrong
/// password get the same answer.
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
    let account = match &command.login {
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
    let outcome = state.accounts.login(command).await;
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
fn client_address(state: &AppState, req: &HttpRequest) -> String {
    let client = state.trusted_proxies.client_address(req);
    let peer = req.peer_addr().map(|peer| peer.ip());
    if client != peer {
        tracing::info!(client = ?client, peer = ?peer, "client address from X-Forwarded-For");
    }
    client
        .map(|address| address.to_string())
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
