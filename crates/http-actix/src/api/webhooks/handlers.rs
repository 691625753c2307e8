//! The webhooks area's handlers.

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};
use domain::WebhookId;
use uuid::Uuid;

use super::requests::CreateWebhookRequest;
use super::responses::{AttemptBody, NewWebhookBody, WebhookBody};
use crate::auth::AuthenticatedUser;
use crate::conditional::Representation;
use crate::error::{
    ApiError, BodyErrors, QueryErrors, ServerErrors, TooManyRequests, UnauthenticatedResponse,
};
use crate::extract::JsonBody;
use crate::json::Data;
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;

/// The names cursors of the webhooks area are bound to (docs/api.md, "Pagination").
const WEBHOOKS_LIST: &str = "webhooks";
const ATTEMPTS_LIST: &str = "webhook-deliveries";

/// Register a webhook.
///
/// It receives, signed as Standard Webhooks v1 says, every change numbered from now on that the
/// caller receives in their feed (R12), of the kinds in `events`. The answer carries its signing
/// secret, shown this once. Each user registers at most `WEBHOOK_CREATIONS_PER_USER_PER_MINUTE`
/// webhooks (10) a minute; past that, `429` with `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "The webhook, with its secret (shown only now).", body = Data<NewWebhookBody>,
            headers(("Location" = String, description = "The webhook's URL, `/api/v1/webhooks/{webhook_id}`."))),
        UnauthenticatedResponse,
        (status = 409, description = "The caller has 10 webhooks already.", body = crate::ErrorBody,
            example = json!({"message": "You already have 10 webhooks; delete one to register another.", "code": "webhook_limit_reached"})),
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn create_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = body
        .into_inner()
        .try_into_domain(state.webhooks.destination_policy())?;
    // Before the URL's host is looked up: each creation may cost a look-up.
    state
        .limiter
        .hit_webhook_create(&auth.user.id.to_string())
        .await
        .report_to(&req)?;
    state
        .limiter
        .hit_webhook_host(&new.url.host())
        .await
        .report_to(&req)?;
    let webhook = state
        .webhooks
        .create(&auth.user, new.url, new.events)
        .await?;
    tracing::info!(webhook_id = %webhook.id, "webhook registered");
    let location = format!("/api/v1/webhooks/{}", webhook.id);
    let body = NewWebhookBody::from(webhook);
    // A replay of this registration repeats everything but the secret.
    let replay =
        serde_json::to_vec(&Data::new(body.without_secret())).map_err(ApiError::internal)?;
    let mut response = HttpResponse::Created()
        .insert_header((LOCATION, location))
        .json(Data::new(body));
    response
        .extensions_mut()
        .insert(crate::idempotency::ReplayBody(replay));
    Ok(response)
}

/// List the caller's webhooks.
///
/// Newest first; secrets are not shown.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The caller's webhooks, newest first.", body = Paginated<WebhookBody>),
        UnauthenticatedResponse,
        QueryErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    query: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let cursors = state.cursors.scope(auth.user.id, WEBHOOKS_LIST);
    let request = query.page_request(&cursors)?;
    let page = state.webhooks.list(&auth.user, request).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(page, request, &cursors, WebhookBody::from)))
}

/// Show a webhook.
///
/// The caller's own only; anyone else's is a 404.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{webhook_id}",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The webhook's id."), ("If-None-Match" = Option<String>, Header, description = "ETags of representations the client holds, or `*`: a 304 when one is current (weak comparison).")),
    responses(
        (status = 200, description = "The webhook.", body = Data<WebhookBody>,
            headers(("ETag" = String, description = "A strong ETag of this body (docs/api.md, \"Conditional requests\")."),
                ("Cache-Control" = String, description = "`private, no-cache`."))),
        (status = 304, description = "`If-None-Match` names the current ETag: no body.",
            headers(("ETag" = String, description = "The current ETag."))),
        UnauthenticatedResponse,
        (status = 404, description = "No such webhook, or not the caller's.", body = crate::ErrorBody,
            example = json!({"message": "Webhook not found.", "code": "not_found"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, webhook_id = %path))]
pub async fn get_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let webhook = state
        .webhooks
        .get(&auth.user, WebhookId::from_uuid(*path))
        .await?;
    Ok(Representation::of(&Data::new(WebhookBody::from(webhook)))?.respond(&req))
}

/// Delete a webhook.
///
/// Nothing more is delivered to it; its pending deliveries and its attempts are deleted with it.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{webhook_id}",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The webhook's id.")),
    responses(
        (status = 204, description = "Deleted."),
        UnauthenticatedResponse,
        (status = 404, description = "No such webhook, or not the caller's.", body = crate::ErrorBody,
            example = json!({"message": "Webhook not found.", "code": "not_found"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, webhook_id = %path))]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .webhooks
        .delete(&auth.user, WebhookId::from_uuid(*path))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask a webhook's endpoint to verify.
///
/// A webhook receives nothing until its endpoint echoes a signed challenge (docs/api.md,
/// "Verifying an endpoint"). This asks again with a fresh schedule, at the delivery worker's next
/// turn (within a second): a pending webhook, or one disabled as `unverified`, which is pending
/// again. An active webhook is left as it is; one disabled for another reason is `409`. Counted
/// with registrations under the per-user limit.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{webhook_id}/verify",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The webhook's id.")),
    responses(
        (status = 202, description = "The endpoint will be asked at once (unless it is being asked right now); the webhook as it now stands (`pending_verification`, or `active` when it already was).", body = Data<WebhookBody>),
        UnauthenticatedResponse,
        (status = 404, description = "No such webhook, or not the caller's.", body = crate::ErrorBody,
            example = json!({"message": "Webhook not found.", "code": "not_found"})),
        (status = 409, description = "The webhook was disabled (`gone`, `failing`): delete it and register the URL again.", body = crate::ErrorBody,
            example = json!({"message": "This webhook was disabled; delete it and register the URL again.", "code": "webhook_disabled"})),
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, webhook_id = %path))]
pub async fn verify_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .limiter
        .hit_webhook_verify(&auth.user.id.to_string())
        .await
        .report_to(&req)?;
    let webhook = state
        .webhooks
        .verify(&auth.user, WebhookId::from_uuid(*path))
        .await?;
    Ok(HttpResponse::Accepted().json(Data::new(WebhookBody::from(webhook))))
}

/// List a webhook's delivery attempts.
///
/// Every attempt to deliver a change to it, newest first: when, the status answered (or why there
/// was no answer), how long it took, the start of the answer's body, and what was decided.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{webhook_id}/deliveries",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The webhook's id."), PageQuery),
    responses(
        (status = 200, description = "The attempts, newest first.", body = Paginated<AttemptBody>),
        UnauthenticatedResponse,
        (status = 404, description = "No such webhook, or not the caller's.", body = crate::ErrorBody,
            example = json!({"message": "Webhook not found.", "code": "not_found"})),
        QueryErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, webhook_id = %path))]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
    query: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let id = WebhookId::from_uuid(*path);
    let cursors = state
        .cursors
        .scope(auth.user.id, ATTEMPTS_LIST)
        .filter("webhook_id", &id.to_string());
    let request = query.page_request(&cursors)?;
    let page = state.webhooks.attempts(&auth.user, id, request).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(page, request, &cursors, AttemptBody::from)))
}
