//! The invitations area's handlers.

use actix_web::{web, HttpRequest, HttpResponse};
use domain::invitations::InvitationDetails;
use domain::{EventId, InvitationId};
use uuid::Uuid;

use super::requests::{
    AnswerInvitationRequest, EventInvitationListQuery, InvitationListQuery, SendInvitationsRequest,
};
use super::responses::{InvitationBody, ManageInvitationErrors, SendInvitationsBody};
use crate::auth::AuthenticatedUser;
use crate::conditional::{self, Representation};
use crate::error::{
    ApiError, BodyErrors, QueryErrors, ServerErrors, TooManyRequests, UnauthenticatedResponse,
};
use crate::extract::JsonBody;
use crate::json::Data;
use crate::pagination::Paginated;
use crate::AppState;

/// The names cursors of the invitation lists are bound to (docs/api.md, "Pagination"); the sent
/// list's two paths are one list.
const SENT_LIST: &str = "sent-invitations";
const RECEIVED_LIST: &str = "received-invitations";
const EVENT_LIST: &str = "event-invitations";

/// Send invitations.
///
/// The event's owner or a co-host invites users by email or mobile, optionally with a note for
/// all of them. Each invitation expires after `INVITATION_TTL` (7 days by default). Entries that
/// reach nobody, or somebody who may not be invited, are reported as ignored with a reason. Also
/// served at `POST /api/v1/events/{event_id}/invitations`.
#[utoipa::path(
    post,
    path = "/api/v1/{event_id}/send-invitations",
    tag = "invitations",
    security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "The event to invite to.")),
    request_body = SendInvitationsRequest,
    responses(
        (status = 200, description = "What was sent and what was ignored, in request order.", body = SendInvitationsBody,
            headers(
                ("RateLimit-Policy" = String, description = "The limits this request counted under (docs/api.md, \"Rate limit headers\")."),
                ("RateLimit" = String, description = "What is left of each (docs/api.md, \"Rate limit headers\")."),
            )),
        UnauthenticatedResponse,
        (status = 403, description = "The caller is a member but neither the owner nor a co-host.", body = crate::ErrorBody,
            example = json!({"message": "Only the event's owner and co-hosts can send invitations.", "code": "forbidden"})),
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        (status = 409, description = "The event's answers closed (its RSVP deadline passed, or it started): nothing is sent (`rsvp_closed`).", body = crate::ErrorBody,
            example = json!({"message": "Answers to this event closed at 2026-12-20T18:00:00Z.", "code": "rsvp_closed"})),
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn send_invitations(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
    body: JsonBody<SendInvitationsRequest>,
) -> Result<HttpResponse, ApiError> {
    state
        .limiter
        .hit_send(&auth.user.id.to_string())
        .await
        .report_to(&req)?;
    let command = body
        .into_inner()
        .try_into_domain(state.phone_region, EventId::from_uuid(*path))?;
    let report = state.invitations.send(&auth.user, command).await?;
    tracing::info!(
        sent = report.sent.len(),
        ignored = report.ignored.len(),
        "invitations sent"
    );
    Ok(HttpResponse::Ok().json(SendInvitationsBody::from(report)))
}

/// List sent invitations.
///
/// Invitations the caller sent, newest first. Also served at `GET /api/v1/sent-invitations`.
#[utoipa::path(
    get,
    path = "/api/v1/sended-invitations",
    tag = "invitations",
    security(("bearer" = [])),
    params(InvitationListQuery),
    responses(
        (status = 200, description = "Invitations the caller sent, newest first.", body = Paginated<InvitationBody>),
        UnauthenticatedResponse,
        QueryErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn list_sent(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    query: InvitationListQuery,
) -> Result<HttpResponse, ApiError> {
    let cursors = query.cursors(&state.cursors, auth.user.id, SENT_LIST);
    let request = query.page_request(&cursors)?;
    let page = state
        .invitations
        .list_sent(&auth.user, query.filter(), request)
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(
        page,
        request,
        &cursors,
        InvitationBody::from,
    )))
}

/// List received invitations.
///
/// Invitations sent to the caller, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/received-invitations",
    tag = "invitations",
    security(("bearer" = [])),
    params(InvitationListQuery),
    responses(
        (status = 200, description = "Invitations sent to the caller, newest first.", body = Paginated<InvitationBody>),
        UnauthenticatedResponse,
        QueryErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn list_received(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    query: InvitationListQuery,
) -> Result<HttpResponse, ApiError> {
    let cursors = query.cursors(&state.cursors, auth.user.id, RECEIVED_LIST);
    let request = query.page_request(&cursors)?;
    let page = state
        .invitations
        .list_received(&auth.user, query.filter(), request)
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(
        page,
        request,
        &cursors,
        InvitationBody::from,
    )))
}

/// Show an invitation.
///
/// For its sender, its invitee and the event's owner and co-hosts; anyone else gets a 404.
#[utoipa::path(
    get,
    path = "/api/v1/invitations/{invitation_id}",
    tag = "invitations",
    security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path, description = "The invitation's id."), ("If-None-Match" = Option<String>, Header, description = "ETags of representations the client holds, or `*`: a 304 when one is current (weak comparison).")),
    responses(
        (status = 200, description = "The invitation, as it stands now.", body = Data<InvitationBody>,
            headers(("ETag" = String, description = "A strong ETag of this body (docs/api.md, \"Conditional requests\")."),
                ("Cache-Control" = String, description = "`private, no-cache`."))),
        (status = 304, description = "`If-None-Match` names the current ETag: no body.",
            headers(("ETag" = String, description = "The current ETag."))),
        UnauthenticatedResponse,
        (status = 404, description = "No such invitation, or the caller is neither its sender, its invitee, nor the event's owner or a co-host.", body = crate::ErrorBody,
            example = json!({"message": "Invitation not found.", "code": "not_found"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, invitation_id = %path))]
pub async fn get_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let details = state
        .invitations
        .get(&auth.user, InvitationId::from_uuid(*path))
        .await?;
    Ok(representation(details)?.respond(&req))
}

/// The invitation's body as its GET answers it, with its ETag.
fn representation(details: InvitationDetails) -> Result<Representation, ApiError> {
    Representation::of(&Data::new(InvitationBody::from(details)))
}

/// Answer an invitation.
///
/// The invitee accepts (and becomes a member) or rejects, once, while the invitation is pending.
#[utoipa::path(
    patch,
    path = "/api/v1/invitations/{invitation_id}",
    tag = "invitations",
    security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path, description = "The invitation's id."), ("If-Match" = Option<String>, Header, description = "ETags the client read, or `*`: the write goes ahead only if one is the current one (strong comparison), else 412.")),
    request_body = AnswerInvitationRequest,
    responses(
        (status = 200, description = "The answered invitation; accepting made the caller a member.", body = Data<InvitationBody>,
            headers(("ETag" = String, description = "A strong ETag of this body (docs/api.md, \"Conditional requests\")."),
                ("Cache-Control" = String, description = "`private, no-cache`."))),
        (status = 412, description = "`If-Match` names none of the current ETags, or the resource changed before the write (docs/api.md, \"Conditional requests\").", body = crate::ErrorBody,
            example = json!({"message": "The resource was changed since you read it; fetch it again.", "code": "precondition_failed"})),
        UnauthenticatedResponse,
        (status = 403, description = "The caller sent this invitation, or manages the event; only the invitee answers.", body = crate::ErrorBody,
            example = json!({"message": "Only the invitee can answer this invitation.", "code": "forbidden"})),
        (status = 404, description = "No such invitation, or the caller may not see it.", body = crate::ErrorBody,
            example = json!({"message": "Invitation not found.", "code": "not_found"})),
        (status = 409, description = "The invitation is not open: answered before (`invitation_already_answered`), cancelled (`invitation_cancelled`) or expired (`invitation_expired`); or the event's answers closed (`rsvp_closed`), or the party does not fit and the event keeps no waitlist (`event_full`).", body = crate::ErrorBody,
            example = json!({"message": "This invitation has already been answered.", "code": "invitation_already_answered"})),
        BodyErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, invitation_id = %path))]
pub async fn answer_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
    body: JsonBody<AnswerInvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    let answer = body.into_inner().try_into_domain()?;
    let id = InvitationId::from_uuid(*path);
    // With `If-Match`: the invitation as the caller's GET shows it now must be the one they read.
    let expected = match conditional::if_match(&req) {
        Some(condition) => {
            let details = state.invitations.get(&auth.user, id).await?;
            let version = details.invitation.version();
            condition.check(representation(details)?.etag())?;
            Some(version)
        }
        None => None,
    };
    let details = state
        .invitations
        .answer(&auth.user, id, answer, expected)
        .await?;
    tracing::info!(status = %details.invitation.status(), "invitation answered");
    Ok(representation(details)?.ok())
}

/// Cancel an invitation.
///
/// The sender, the event's owner or a co-host withdraws a pending invitation; it can no longer be
/// answered, and it blocks no new invitation of the same user.
#[utoipa::path(
    delete,
    path = "/api/v1/invitations/{invitation_id}",
    tag = "invitations",
    security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path, description = "The invitation's id.")),
    responses(
        (status = 200, description = "The cancelled invitation.", body = Data<InvitationBody>),
        UnauthenticatedResponse,
        ManageInvitationErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, invitation_id = %path))]
pub async fn cancel_invitation(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let details = state
        .invitations
        .cancel(&auth.user, InvitationId::from_uuid(*path))
        .await?;
    tracing::info!("invitation cancelled");
    Ok(HttpResponse::Ok().json(Data::new(InvitationBody::from(details))))
}

/// Resend an invitation.
///
/// The sender, the event's owner or a co-host reminds the invitee of a pending invitation; its
/// `expires_at` moves a full `INVITATION_TTL` from now. The first resend may follow the send at
/// once; each later one waits 10 minutes after the previous resend.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/{invitation_id}/resend",
    tag = "invitations",
    security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path, description = "The invitation's id.")),
    responses(
        (status = 200, description = "The resent invitation, with its new `expires_at`.", body = Data<InvitationBody>),
        UnauthenticatedResponse,
        ManageInvitationErrors,
        (status = 429, description = "Resent less than 10 minutes ago; `Retry-After` says in how many seconds it may be resent.", body = crate::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the invitation may be resent.")),
            example = json!({"message": "Too many attempts. Please try again later.", "code": "too_many_requests"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, invitation_id = %path))]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let details = state
        .invitations
        .resend(&auth.user, InvitationId::from_uuid(*path))
        .await?;
    tracing::info!("invitation resent");
    Ok(HttpResponse::Ok().json(Data::new(InvitationBody::from(details))))
}

/// List an event's invitations.
///
/// Every invitation to the event, whoever sent it, newest first: for the event's owner and
/// co-hosts.
#[utoipa::path(
    get,
    path = "/api/v1/events/{event_id}/invitations",
    tag = "invitations",
    security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "The event."), EventInvitationListQuery),
    responses(
        (status = 200, description = "The event's invitations, newest first.", body = Paginated<InvitationBody>),
        UnauthenticatedResponse,
        (status = 403, description = "The caller is a member but neither the owner nor a co-host.", body = crate::ErrorBody,
            example = json!({"message": "Only the event's owner and co-hosts can list its invitations.", "code": "forbidden"})),
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        QueryErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn list_event_invitations(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
    query: EventInvitationListQuery,
) -> Result<HttpResponse, ApiError> {
    let event = EventId::from_uuid(*path);
    let cursors = query.cursors(&state.cursors, auth.user.id, EVENT_LIST, event);
    let request = query.page_request(&cursors)?;
    let page = state
        .invitations
        .list_for_event(&auth.user, event, query.filter(), request)
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(
        page,
        request,
        &cursors,
        InvitationBody::from,
    )))
}
