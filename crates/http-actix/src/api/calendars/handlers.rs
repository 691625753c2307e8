//! The calendars area's handlers.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use domain::calendars::{self, Attendee, Entry, Method, PartStat};
use domain::EventId;
use uuid::Uuid;

use super::responses::CalendarFeedBody;
use crate::auth::AuthenticatedUser;
use crate::error::{ApiError, ServerErrors, UnauthenticatedResponse};
use crate::json::Data;
use crate::AppState;

/// An iCalendar answer, named `name.ics`, private to its reader.
pub(crate) fn ics(text: String, name: &str, cache: CacheDirective) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{name}.ics\""),
        ))
        .insert_header(CacheControl(vec![cache]))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(text)
}

/// An event as a calendar file.
///
/// For its members: the event as an iCalendar (RFC 5545) VEVENT in its own time zone, with a
/// stable `UID`, a `SEQUENCE` that grows with every edit, its owner as `ORGANIZER` and the caller
/// as `ATTENDEE`. Import it, or give it to a calendar app.
#[utoipa::path(
    get,
    path = "/api/v1/events/{event_id}/calendar.ics",
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The event's calendar file.", content_type = "text/calendar", body = String,
            example = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Event Manager//Event Manager//EN\r\n…\r\nEND:VCALENDAR\r\n"),
        UnauthenticatedResponse,
        (status = 404, description = "No such event, or the caller is not a member.", body = crate::ErrorBody,
            example = json!({"message": "Event not found.", "code": "not_found"})),
        (status = 409, description = "The event has no start time yet, so no calendar entry.", body = crate::ErrorBody,
            example = json!({"message": "This event has no start time yet, so it has no calendar entry.", "code": "no_start_time"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id, event_id = %path))]
pub async fn event_calendar(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .events
        .get(&auth.user, EventId::from_uuid(*path))
        .await?;
    let entry = Entry {
        event: &view.event,
        title: view.event.details.title().as_str(),
        attendee: Some(Attendee {
            address: Attendee::account(auth.user.id),
            name: auth.user.name.as_str().to_owned(),
            partstat: PartStat::Accepted,
        }),
        url: None,
    };
    let text =
        calendars::render(Method::Publish, &[entry], Utc::now()).ok_or(ApiError::NoStartTime)?;
    Ok(ics(text, "event", CacheDirective::Private))
}

/// `GET /i/{token}/calendar.ics`: the invitation's event as a calendar file, for whoever holds
/// the link, while the link opens it (docs/api.md, "Calendars").
#[tracing::instrument(skip_all)]
pub async fn link_calendar(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    crate::api::links::count_link_request(&state, &req).await?;
    let view = state.links.view(&token).await?;
    let invitation = &view.details.invitation;
    let attendee = (!view.held).then(|| Attendee {
        address: Attendee::account(invitation.invitee_id()),
        name: view.details.invitee.name.as_str().to_owned(),
        partstat: PartStat::of(invitation.status()),
    });
    let entry = Entry {
        event: &view.event,
        title: view.details.event_title.as_str(),
        attendee,
        url: Some(format!(
            "{}/i/{}",
            state.public_url.as_str(),
            token.as_str()
        )),
    };
    let text =
        calendars::render(Method::Publish, &[entry], Utc::now()).ok_or(ApiError::NoStartTime)?;
    Ok(ics(text, "invitation", CacheDirective::NoStore))
}

/// Make your calendar feed.
///
/// A secret URL of a calendar holding the events you are a member of and those you answered
/// "maybe", kept up to date, for a calendar app to subscribe to. A new one replaces the one you
/// had, which stops working.
#[utoipa::path(
    post,
    path = "/api/v1/me/calendar-feed",
    tag = "events",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The feed's URL, shown this once.", body = Data<CalendarFeedBody>),
        UnauthenticatedResponse,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn create_calendar_feed(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    let url = state.calendars.create_feed(&auth.user).await?;
    tracing::info!("calendar feed made");
    Ok(HttpResponse::Created()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Data::new(CalendarFeedBody { url })))
}

/// End your calendar feed.
///
/// Its URL stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/me/calendar-feed",
    tag = "events",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The feed is gone."),
        UnauthenticatedResponse,
        (status = 404, description = "You have no calendar feed.", body = crate::ErrorBody,
            example = json!({"message": "You have no calendar feed.", "code": "not_found"})),
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all, fields(user_id = %auth.user.id))]
pub async fn delete_calendar_feed(
    state: web::Data<AppState>,
    auth: AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    if state.calendars.delete_feed(&auth.user).await? {
        tracing::info!("calendar feed ended");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(crate::t!("no-calendar-feed")))
    }
}

/// `GET /cal/{token}.ics`: a person's calendar feed, for whoever holds its secret URL.
#[tracing::instrument(skip_all)]
pub async fn feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    crate::api::links::count_link_request(&state, &req).await?;
    let not_found = || ApiError::NotFound(crate::t!("not-found-calendar-feed"));
    let token = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let text = state.calendars.feed(token).await?.ok_or_else(not_found)?;
    Ok(ics(text, "events", CacheDirective::NoStore))
}
