//! The events area's handlers.

use actix_web::{web, HttpResponse};
use domain::EventId;
use uuid::Uuid;

use super::requests::CreateEventRequest;
use super::responses::{EventBody, MemberBody};
use crate::auth::AuthenticatedUser;
use crate::error::{ApiError, BodyErrors, QueryErrors, ServerErrors, UnauthenticatedResponse};
use crate::extract::JsonBody;
use crate::json::Data;
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;

/// The names cursors of the events area are bound to (docs/api.md, "Pagination").
const EVENTS_LIST: &str = "events";
const MEMBERS_LIST: &str = "event-members";

/// Create an event.
///
/// The caller becomes its owner and first member.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "events",
    security(("bearer" = [])),
    request_body = CreateEventRequest,
    responses(
        (status = 201, description = "The event; the caller is its owner and first member.", body = Data<EventBody>),
        UnauthenticatedResponse,
        BodyErrors,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn create_event(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    body: JsonBody<CreateEventRequest>,
) -> Result<HttpResponse, ApiError> {
    let details = body.into_inner().try_into_domain()?;
    let event = state.events.create(&auth.user, details).await?;
    Ok(HttpResponse::Created().json(Data::new(EventBody::from(event))))
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
    params(("event_id" = Uuid, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The event.", body = Data<EventBody>),
        UnauthenticatedResponse,
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn get_event(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let event = state
        .events
        .get(&auth.user, EventId::from_uuid(*path))
        .await?;
    Ok(HttpResponse::Ok().json(Data::new(EventBody::from(event))))
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
