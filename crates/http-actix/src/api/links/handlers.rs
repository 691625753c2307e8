//! The JSON side of one-click links, for apps that draw their own RSVP page.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpRequest, HttpResponse};

use super::responses::RsvpBody;
use crate::api::invitations::requests::AnswerInvitationRequest;
use crate::error::{ApiError, BodyErrors, ServerErrors, TooManyRequests};
use crate::extract::JsonBody;
use crate::json::Data;
use crate::AppState;

/// The answer to a link: the body, never cached or sent on as a referrer (the URL is a secret).
fn private(body: RsvpBody) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .json(Data::new(body))
}

/// Look at an invitation by its link.
///
/// The token of a one-click link from an invitation email or text opens that invitation while it
/// is open (pending or "maybe"), without an account; looking changes nothing.
#[utoipa::path(
    get,
    path = "/api/v1/rsvp/{token}",
    tag = "invitations",
    params(("token" = String, Path, description = "The token at the end of the link `{PUBLIC_URL}/i/{token}`.")),
    responses(
        (status = 200, description = "The invitation, its event and its sender.", body = Data<RsvpBody>),
        (status = 404, description = "The token opens no open invitation: unknown, or the invitation was answered for good, cancelled or has expired.", body = crate::ErrorBody,
            example = json!({"message": "This link does not open an invitation: it is mistyped, or its invitation was answered, cancelled or has expired.", "code": "not_found"})),
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all)]
pub async fn view_rsvp(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    crate::api::links::count_link_request(&state, &req).await?;
    let view = state.links.view(&token).await?;
    Ok(private(view.into()))
}

/// Answer an invitation by its link.
///
/// The same answer as `PATCH /api/v1/invitations/{invitation_id}`, under the same rules, given
/// by whoever holds the link, as the invitee. A "maybe" keeps the link open; yes and no close it.
#[utoipa::path(
    post,
    path = "/api/v1/rsvp/{token}",
    tag = "invitations",
    params(("token" = String, Path, description = "The token at the end of the link `{PUBLIC_URL}/i/{token}`.")),
    request_body = AnswerInvitationRequest,
    responses(
        (status = 200, description = "The invitation as the answer left it.", body = Data<RsvpBody>),
        (status = 403, description = "The invitation waits for its contact to be proven: its proven owner answers it in the app.", body = crate::ErrorBody,
            example = json!({"message": "This invitation waits for its email or mobile to be proven: sign in or sign up with it, prove it, and answer in the app.", "code": "forbidden"})),
        (status = 404, description = "The token opens no open invitation.", body = crate::ErrorBody,
            example = json!({"message": "This link does not open an invitation: it is mistyped, or its invitation was answered, cancelled or has expired.", "code": "not_found"})),
        (status = 409, description = "The invitation stopped being open meanwhile (`invitation_already_answered`, `invitation_cancelled`, `invitation_expired`), the event's answers closed (`rsvp_closed`), or it is full without a waitlist (`event_full`).", body = crate::ErrorBody,
            example = json!({"message": "Answers to this event closed at 2026-12-12T18:00:00Z.", "code": "rsvp_closed"})),
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    ),
)]
#[tracing::instrument(skip_all)]
pub async fn answer_rsvp(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: JsonBody<AnswerInvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    crate::api::links::count_link_request(&state, &req).await?;
    let reply = body.into_inner().try_into_domain()?;
    let view = state.links.answer(&token, reply).await?;
    tracing::info!(invitation_id = %view.details.invitation.id(), status = %view.details.invitation.status(), "invitation answered by link");
    Ok(private(view.into()))
}
