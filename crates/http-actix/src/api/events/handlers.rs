//! The events area's handlers.

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};
use domain::events::EventView;
use domain::{EventId, UserId, Version};
use uuid::Uuid;

use super::requests::{
    ChangePartyRequest, ChangeRoleRequest, CreateEventRequest, UpdateEventRequest,
};
use super::responses::{EventBody, MemberBody};
use crate::auth::AuthenticatedUser;
use crate::conditional::{self, Representation};
use crate::error::{
    ApiError, BodyErrors, QueryErrors, ServerErrors, TooManyRequests, UnauthenticatedResponse,
};
use crate::extract::JsonBody;
use crate::json::Data;
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;

/// The names cursors of the events area are bound to (docs/api.md, "Pagination").
const EVENTS_LIST: &str = "events";
const MEMBERS_LIST: &str = "event-members";

/// Create an event.
///
/// The caller becomes its owner and first member. Each user creates at most
/// `EVENTS_PER_USER_PER_DAY` events (100) within any 24 hours; past that, `429` with `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "events",
    security(("bearer" = [])),
    request_body = CreateEventRequest,
    responses(
        (status = 201, description = "The event; the caller is its owner and first member.", body = Data<EventBody>,
            headers(("Location" = String, description = "The event's URL, `/api/v1/events/{event_id}`."))),
        UnauthenticatedResponse,
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn create_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    body: JsonBody<CreateEventRequest>,
) -> Result<HttpResponse, ApiError> {
    let details = body.into_inner().try_into_domain()?;
    // Counted once the request is valid: a refused body costs nothing of the day's quota.
    state
        .limiter
        .hit_event_create(&auth.user.id.to_string())
        .await
        .report_to(&req)?;
    let event = state.events.create(&auth.user, details).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/events/{}", event.event.id)))
        .json(Data::new(EventBody::from(event))))
}

/// List the caller's events.
///
/// Events the caller is a member of (owned ones included), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The events the caller is a member of, newest first.", body = Paginated<EventBody>),
        UnauthenticatedResponse,
        QueryErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn list_events(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    query: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let cursors = state.cursors.scope(auth.user.id, EVENTS_LIST);
    let request = query.page_request(&cursors)?;
    let page = state.events.list(&auth.user, request).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(page, request, &cursors, EventBody::from)))
}

/// Show an event.
///
/// For its members only; anyone else gets a 404.
#[utoipa::path(
    get,
    path = "/api/v1/events/{event_id}",
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "The event's id."), ("If-None-Match" = Option<String>, Header, description = "ETags of representations the client holds, or `*`: a 304 when one is current (weak comparison).")),
    responses(
        (status = 200, description = "The event.", body = Data<EventBody>,
            headers(("ETag" = String, description = "A strong ETag of this body (docs/api.md, \"Conditional requests\")."),
                ("Cache-Control" = String, description = "`private, no-cache`."))),
        (status = 304, description = "`If-None-Match` names the current ETag: no body.",
            headers(("ETag" = String, description = "The current ETag."))),
        UnauthenticatedResponse,
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn get_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let event = state
        .events
        .get(&auth.user, EventId::from_uuid(*path))
        .await?;
    Ok(representation(event)?.respond(&req))
}

/// The event's body as its GET answers it to the viewer (with its tally for hosts), with its ETag.
fn representation(event: EventView) -> Result<Representation, ApiError> {
    Representation::of(&Data::new(EventBody::from(event)))
}

/// The version of the event the caller read, when the request's `If-Match` names the ETag of
/// the event as the caller's GET would show it now; `None` without `If-Match`.
///
/// # Errors
/// 412 when `If-Match` names none of them; as the GET otherwise (404 for strangers).
async fn expected_version(
    req: &HttpRequest,
    state: &AppState,
    auth: &AuthenticatedUser,
    id: EventId,
) -> Result<Option<Version>, ApiError> {
    let Some(condition) = conditional::if_match(req) else {
        return Ok(None);
    };
    let event = state.events.get(&auth.user, id).await?;
    let version = event.event.version;
    condition.check(representation(event)?.etag())?;
    Ok(Some(version))
}

/// List an event's members.
///
/// For its members only; anyone else gets a 404.
#[utoipa::path(
    get,
    path = "/api/v1/events/{event_id}/members",
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "The event's id."), PageQuery),
    responses(
        (status = 200, description = "The event's members, newest first.", body = Paginated<MemberBody>),
        UnauthenticatedResponse,
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        QueryErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn list_members(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
    query: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let id = EventId::from_uuid(*path);
    let cursors = state
        .cursors
        .scope(auth.user.id, MEMBERS_LIST)
        .filter("event_id", &id.to_string());
    let request = query.page_request(&cursors)?;
    let page = state.events.members(&auth.user, id, request).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(page, request, &cursors, MemberBody::from)))
}

/// Edit an event.
///
/// By its owner and co-hosts. Only the fields sent change; `null` or `""` removes an optional one.
/// The result must not end before it starts. Each user makes at most
/// `EVENT_EDITS_PER_USER_PER_MINUTE` edits (60) a minute; past that, `429` with `Retry-After`.
#[utoipa::path(
    patch,
    path = "/api/v1/events/{event_id}",
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "The event's id."), ("If-Match" = Option<String>, Header, description = "ETags the client read, or `*`: the write goes ahead only if one is the current one (strong comparison), else 412.")),
    request_body = UpdateEventRequest,
    responses(
        (status = 200, description = "The event as edited.", body = Data<EventBody>,
            headers(("ETag" = String, description = "A strong ETag of this body (docs/api.md, \"Conditional requests\")."),
                ("Cache-Control" = String, description = "`private, no-cache`."))),
        (status = 412, description = "`If-Match` names none of the current ETags, or the resource changed before the write (docs/api.md, \"Conditional requests\").", body = crate::ErrorBody,
            example = json!({"message": "The resource was changed since you read it; fetch it again.", "code": "precondition_failed"})),
        UnauthenticatedResponse,
        (status = 403, description = "The caller is a member but neither the owner nor a co-host.", body = crate::ErrorBody,
            example = json!({"message": "Only the event's owner and co-hosts can edit it.", "code": "forbidden"})),
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        (status = 409, description = "The capacity would go below the seats already taken (`capacity_below_seats_taken`).", body = crate::ErrorBody,
            example = json!({"message": "3 seats are taken already; the capacity cannot go below that.", "code": "capacity_below_seats_taken"})),
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn update_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
    body: JsonBody<UpdateEventRequest>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.into_inner().try_into_domain()?;
    state
        .limiter
        .hit_event_edit(&auth.user.id.to_string())
        .await
        .report_to(&req)?;
    if patch.may_message() {
        state
            .limiter
            .hit_event_notice(&auth.user.id.to_string())
            .await
            .report_to(&req)?;
    }
    let id = EventId::from_uuid(*path);
    let expected = expected_version(&req, &state, &auth, id).await?;
    let event = state.events.update(&auth.user, id, patch, expected).await?;
    Ok(representation(event)?.ok())
}

/// Delete an event.
///
/// By its owner only. Its pending invitations end as cancelled first, then the event goes with its
/// members and invitations: afterwards nobody sees it or its invitations (404).
#[utoipa::path(
    delete,
    path = "/api/v1/events/{event_id}",
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "The event's id."), ("If-Match" = Option<String>, Header, description = "ETags the client read, or `*`: the write goes ahead only if one is the current one (strong comparison), else 412.")),
    responses(
        (status = 204, description = "The event, its memberships and its invitations are gone."),
        (status = 412, description = "`If-Match` names none of the current ETags, or the resource changed before the write (docs/api.md, \"Conditional requests\").", body = crate::ErrorBody,
            example = json!({"message": "The resource was changed since you read it; fetch it again.", "code": "precondition_failed"})),
        UnauthenticatedResponse,
        (status = 403, description = "The caller is a co-host or a member, not the owner.", body = crate::ErrorBody,
            example = json!({"message": "Only the event's owner can delete it.", "code": "forbidden"})),
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn delete_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = EventId::from_uuid(*path);
    let expected = expected_version(&req, &state, &auth, id).await?;
    let cancelled = state.events.delete(&auth.user, id, expected).await?;
    tracing::info!(
        cancelled,
        "event deleted, its pending invitations cancelled"
    );
    Ok(HttpResponse::NoContent().finish())
}

/// Change a member's role.
///
/// By the owner only: makes a member a co-host, or a co-host a member again. The owner's own role
/// does not change.
#[utoipa::path(
    patch,
    path = "/api/v1/events/{event_id}/members/{user_id}",
    tag = "events",
    security(("bearer" = [])),
    params(
        ("event_id" = Uuid, Path, description = "The event's id."),
        ("user_id" = Uuid, Path, description = "The member's user id."),
    ),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "The member with their new role.", body = Data<MemberBody>),
        UnauthenticatedResponse,
        (status = 403, description = "The caller is a co-host or a member, not the owner.", body = crate::ErrorBody,
            example = json!({"message": "Only the event's owner can change roles.", "code": "forbidden"})),
        (status = 404, description = "No such event, the caller is not a member, or the user is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Member not found.", "code": "not_found"})),
        BodyErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path.0, member = %path.1))]
pub async fn change_role(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<ChangeRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let role = body.into_inner().try_into_domain()?;
    let (event_id, user_id) = path.into_inner();
    let member = state
        .events
        .change_role(
            &auth.user,
            EventId::from_uuid(event_id),
            UserId::from_uuid(user_id),
            role,
        )
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(MemberBody::from(member))))
}

/// Change your party.
///
/// A member (co-host or member; the owner takes no seat) changes the guests they bring: within the
/// event's `max_guests` and the seats left. Fewer guests free seats, which go to the waitlist at
/// once (docs/api.md, "Capacity and the waitlist").
#[utoipa::path(
    patch,
    path = "/api/v1/events/{event_id}/members/me",
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "The event's id.")),
    request_body = ChangePartyRequest,
    responses(
        (status = 200, description = "The caller's membership with its new party.", body = Data<MemberBody>),
        UnauthenticatedResponse,
        (status = 403, description = "The caller is the owner, who takes no seat.", body = crate::ErrorBody,
            example = json!({"message": "The owner takes no seat and brings no guests.", "code": "forbidden"})),
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        (status = 409, description = "The larger party does not fit in the seats left (`event_full`), or answers closed (`rsvp_closed`).", body = crate::ErrorBody,
            example = json!({"message": "The event is full.", "code": "event_full"})),
        BodyErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn change_party(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
    body: JsonBody<ChangePartyRequest>,
) -> Result<HttpResponse, ApiError> {
    let guests = body.into_inner().try_into_domain()?;
    let member = state
        .events
        .change_party(&auth.user, EventId::from_uuid(*path), guests)
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(MemberBody::from(member))))
}

/// Remove a member, or leave.
///
/// The owner removes anyone else, a co-host removes members, and anyone removes themself
/// (leaving); the owner cannot leave. A removed user may be invited again.
#[utoipa::path(
    delete,
    path = "/api/v1/events/{event_id}/members/{user_id}",
    tag = "events",
    security(("bearer" = [])),
    params(
        ("event_id" = Uuid, Path, description = "The event's id."),
        ("user_id" = Uuid, Path, description = "The member's user id; the caller's own to leave."),
    ),
    responses(
        (status = 204, description = "The user is no longer a member."),
        UnauthenticatedResponse,
        (status = 403, description = "The caller may not remove this member: a co-host removing a co-host or the owner, a member removing someone else.", body = crate::ErrorBody,
            example = json!({"message": "The owner removes anyone, co-hosts remove members, members only themselves.", "code": "forbidden"})),
        (status = 404, description = "No such event, the caller is not a member, or the user is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Member not found.", "code": "not_found"})),
        (status = 422, description = "The owner tried to leave.", body = crate::ValidationErrorBody,
            example = json!({"message": "The owner cannot leave the event.", "errors": {"user_id": ["The owner cannot leave the event."]}})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path.0, member = %path.1))]
pub async fn remove_member(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (event_id, user_id) = path.into_inner();
    state
        .events
        .remove_member(
            &auth.user,
            EventId::from_uuid(event_id),
            UserId::from_uuid(user_id),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
