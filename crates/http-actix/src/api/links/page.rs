//! The RSVP page a one-click link opens (docs/api.md, "Answering from a message"): HTML from a
//! template, no JavaScript, nothing from another origin, under a strict `Content-Security-Policy`.
//!
//! `GET` only shows. Only a `POST` of the page's own form answers, and only with the form's CSRF
//! token matching the cookie the page set (`SameSite=Strict`, so another site's form never sends
//! it): a mail scanner that follows the link, or a page elsewhere that posts to it, answers
//! nothing.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use domain::links::{LinkError, LinkView};
use domain::InvitationStatus;
use serde::Deserialize;

use crate::api::invitations::requests::AnswerInvitationRequest;
use crate::error::ApiError;
use crate::t;
use crate::AppState;

/// Where the page's style sheet is served.
pub(super) const STYLE_PATH: &str = "/assets/rsvp.css";

/// The style sheet, in the binary.
const STYLE: &str = include_str!("../../../assets/rsvp.css");

/// The page's `Content-Security-Policy`: its own style sheet, forms to itself, nothing else.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The cookie that carries the page's CSRF token.
const CSRF_COOKIE: &str = "rsvp_csrf";

/// The largest form the page takes: its fields at their longest, well within.
const FORM_MAX: usize = 16 * 1024;

#[derive(Template)]
#[template(path = "rsvp.html")]
struct Page {
    lang: &'static str,
    dir: &'static str,
    words: Words,
    heading: String,
    style: &'static str,
    notice: Option<Notice>,
    card: Option<Card>,
    form: Option<AnswerForm>,
    footer: Option<String>,
}

/// The page's fixed words, in the reader's language.
struct Words {
    brand: String,
    card: String,
    when: String,
    place: String,
    from: String,
    answer: String,
    guests: String,
    comment: String,
    answer_by: String,
    guests_label: String,
    comment_label: String,
    accept: String,
    maybe: String,
    decline: String,
}

impl Words {
    /// The words in the request's language, `max_guests` in the guests' label.
    fn new(max_guests: u8) -> Self {
        Self {
            brand: t!("page-brand"),
            card: t!("page-card"),
            when: t!("page-when"),
            place: t!("page-where"),
            from: t!("page-from"),
            answer: t!("page-your-answer"),
            guests: t!("page-guests"),
            comment: t!("page-your-word"),
            answer_by: t!("page-answer-by"),
            guests_label: t!("page-guests-label", max = max_guests),
            comment_label: t!("page-comment-label"),
            accept: t!("page-accept"),
            maybe: t!("page-maybe"),
            decline: t!("page-decline"),
        }
    }
}

impl Page {
    /// A page in the request's language.
    fn new(
        heading: String,
        notice: Option<Notice>,
        card: Option<Card>,
        form: Option<AnswerForm>,
        footer: Option<String>,
    ) -> Self {
        let locale = crate::i18n::locale();
        Self {
            lang: locale.as_str(),
            dir: domain::i18n::direction(locale),
            words: Words::new(form.as_ref().map_or(0, |f| f.max_guests)),
            heading,
            style: STYLE_PATH,
            notice,
            card,
            form,
            footer,
        }
    }
}

pub(super) struct Notice {
    pub(super) kind: &'static str,
    pub(super) text: String,
}

struct Card {
    title: String,
    when: Option<String>,
    place: Option<String>,
    sender: String,
    status: String,
    guests: Option<String>,
    comment: Option<String>,
    expires: Option<String>,
    /// "Olivia wrote:", above the note.
    wrote: String,
    description: Option<String>,
    note: Option<String>,
}

struct AnswerForm {
    action: String,
    csrf: String,
    max_guests: u8,
    guests: u8,
    comment: String,
}

/// What the form posts; every field optional, so that any form reads (and a wrong one is told
/// why on the page).
#[derive(Debug, Default, Deserialize)]
struct Posted {
    csrf: Option<String>,
    status: Option<String>,
    guests: Option<String>,
    comment: Option<String>,
}

/// The invitee's answer in words.
fn status_words(view: &LinkView) -> String {
    let invitation = &view.details.invitation;
    match invitation.status() {
        InvitationStatus::Pending => t!("status-pending"),
        InvitationStatus::Tentative => t!("status-tentative"),
        InvitationStatus::Accepted => t!("status-accepted"),
        InvitationStatus::Waitlisted => match invitation.waitlist_position() {
            Some(place) => t!("status-waitlisted-at", place = place),
            None => t!("status-waitlisted"),
        },
        InvitationStatus::Rejected => t!("status-rejected"),
        InvitationStatus::Cancelled => t!("status-cancelled"),
        InvitationStatus::Expired => t!("status-expired"),
    }
}

fn card(view: &LinkView) -> Card {
    let details = &view.event.details;
    let invitation = &view.details.invitation;
    let open = domain::links::opens(invitation.status());
    let zone = details.time_zone();
    let locale = crate::i18n::locale();
    let sender = view.details.sender.name.as_str();
    Card {
        title: view.details.event_title.as_str().to_owned(),
        when: details.when(locale),
        place: details.location().map(|t| t.as_str().to_owned()),
        sender: sender.to_owned(),
        wrote: t!("invite-wrote", sender = sender),
        status: status_words(view),
        guests: Some(invitation.guests())
            .filter(|g| *g > 0)
            .map(|g| domain::i18n::digits(locale, &g.to_string())),
        comment: invitation.comment().map(|t| t.as_str().to_owned()),
        expires: invitation
            .expires_at()
            .filter(|_| open)
            .map(|at| zone.describe(locale, at)),
        description: details.description().map(|t| t.as_str().to_owned()),
        note: invitation.message().map(|t| t.as_str().to_owned()),
    }
}

/// The page of an open invitation: its card, and the form unless it is held.
fn open_page(
    view: &LinkView,
    token: &str,
    csrf: &str,
    heading: String,
    notice: Option<Notice>,
) -> Page {
    let form = (!view.held).then(|| AnswerForm {
        action: format!("/i/{token}"),
        csrf: csrf.to_owned(),
        max_guests: view.event.details.rsvp().max_guests(),
        guests: view.details.invitation.guests(),
        comment: view
            .details
            .invitation
            .comment()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
    });
    let footer = if view.held {
        t!("link-held")
    } else {
        t!("page-link-yours")
    };
    Page::new(heading, notice, Some(card(view)), form, Some(footer))
}

/// The page of a link that opens nothing.
fn dead_page(notice: Option<Notice>) -> Page {
    Page::new(
        t!("page-dead-heading"),
        notice,
        None,
        None,
        Some(t!("page-dead-footer", reason = t!("link-dead"))),
    )
}

fn heading_of(view: &LinkView) -> String {
    t!("page-heading", sender = view.details.sender.name.as_str())
}

/// Sends a page: HTML, never cached, never sent on as a referrer, under the page's policy.
pub(super) fn render(
    status: StatusCode,
    page: &impl Template,
    csrf: Option<&Cookie<'static>>,
) -> HttpResponse {
    let html = match page.render() {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(%error, "the RSVP page did not render");
            return HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body(t!("server-error"));
        }
    };
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header(("x-robots-tag", "noindex, nofollow"));
    if let Some(cookie) = csrf {
        response.cookie(cookie.clone());
    }
    response.body(html)
}

/// A new CSRF token, and its cookie, scoped to the link's path.
fn new_csrf(state: &AppState, token: &str) -> (String, Cookie<'static>) {
    let value = uuid::Uuid::new_v4().simple().to_string();
    let cookie = Cookie::build(CSRF_COOKIE, value.clone())
        .path(format!("/i/{token}"))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.public_url.as_str().starts_with("https://"))
        .finish();
    (value, cookie)
}

/// The page of the limit: too many looks or answers from this address.
fn limited(retry_after: u64) -> HttpResponse {
    let page = Page::new(
        t!("page-wait-heading"),
        Some(Notice {
            kind: "error",
            text: t!("page-wait", seconds = retry_after),
        }),
        None,
        None,
        None,
    );
    let mut response = render(StatusCode::TOO_MANY_REQUESTS, &page, None);
    if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Counts the request under the per-address limit; the page to answer with when over it.
pub(super) async fn over_limit(state: &AppState, req: &HttpRequest) -> Option<HttpResponse> {
    match super::count_link_request(state, req).await {
        Ok(()) => None,
        Err(ApiError::TooManyRequests(retry)) => Some(limited(retry.seconds())),
        Err(error) => Some(failure(&error)),
    }
}

/// A page for an error that is not about the link (the database is down, ...).
pub(super) fn failure(error: &ApiError) -> HttpResponse {
    use actix_web::ResponseError as _;
    let page = Page::new(
        t!("page-failed-heading"),
        Some(Notice {
            kind: "error",
            text: error.message(),
        }),
        None,
        None,
        Some(t!("page-failed-footer")),
    );
    if error.status_code().is_server_error() {
        tracing::error!(%error, "the RSVP page failed");
    }
    render(error.status_code(), &page, None)
}

/// `GET /i/{token}`: the invitation, and the form to answer it. Changes nothing.
pub(super) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    if let Some(response) = over_limit(&state, &req).await {
        return response;
    }
    match state.links.view(&token).await {
        // The page speaks its reader's language (docs/api.md, "Languages").
        Ok(view) => crate::i18n::in_locale(view.locale, || {
            let (csrf, cookie) = new_csrf(&state, &token);
            let heading = heading_of(&view);
            render(
                StatusCode::OK,
                &open_page(&view, &token, &csrf, heading, None),
                Some(&cookie),
            )
        }),
        Err(LinkError::Dead) => render(StatusCode::NOT_FOUND, &dead_page(None), None),
        Err(error) => failure(&error.into()),
    }
}

/// `POST /i/{token}`: the page's form answers, when its CSRF token is the cookie's.
pub(super) async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(response) = over_limit(&state, &req).await {
        return response;
    }
    let posted: Posted = if body.len() > FORM_MAX {
        Posted::default()
    } else {
        serde_urlencoded::from_bytes(&body).unwrap_or_default()
    };
    let cookie = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned());
    let csrf_holds = matches!((&posted.csrf, &cookie), (Some(form), Some(cookie)) if !form.is_empty() && form == cookie);
    let view = match state.links.view(&token).await {
        Ok(view) => view,
        Err(LinkError::Dead) => return render(StatusCode::NOT_FOUND, &dead_page(None), None),
        Err(error) => return failure(&error.into()),
    };
    let locale = view.locale;
    crate::i18n::scope(
        locale,
        answer_viewed(&state, &token, posted, csrf_holds, view),
    )
    .await
}

/// The rest of [`answer`], once the link opened `view`: in its reader's language.
async fn answer_viewed(
    state: &AppState,
    token: &str,
    posted: Posted,
    csrf_holds: bool,
    view: LinkView,
) -> HttpResponse {
    let (csrf, fresh) = new_csrf(state, token);
    if !csrf_holds {
        let notice = Notice {
            kind: "error",
            text: t!("page-csrf"),
        };
        let heading = heading_of(&view);
        return render(
            StatusCode::FORBIDDEN,
            &open_page(&view, token, &csrf, heading, Some(notice)),
            Some(&fresh),
        );
    }
    let reply =
        match AnswerInvitationRequest::from_form(posted.status, posted.guests, posted.comment)
            .try_into_domain()
        {
            Ok(reply) => reply,
            Err(errors) => {
                let error = ApiError::from(errors);
                let notice = Notice {
                    kind: "error",
                    text: error.message(),
                };
                let heading = heading_of(&view);
                return render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &open_page(&view, token, &csrf, heading, Some(notice)),
                    Some(&fresh),
                );
            }
        };
    match state.links.answer(token, reply).await {
        Ok(answered) => {
            tracing::info!(invitation_id = %answered.details.invitation.id(), status = %answered.details.invitation.status(), "invitation answered on the RSVP page");
            let outcome = match answered.details.invitation.status() {
                InvitationStatus::Accepted => "accepted",
                InvitationStatus::Waitlisted => "waitlisted",
                InvitationStatus::Tentative => "tentative",
                _ => "rejected",
            };
            let heading = t!(&format!("page-{outcome}-heading"));
            let notice = Some(Notice {
                kind: "ok",
                text: t!(&format!("page-{outcome}")),
            });
            let page = if domain::links::opens(answered.details.invitation.status()) {
                open_page(&answered, token, &csrf, heading, notice)
            } else {
                Page::new(
                    heading,
                    notice,
                    Some(card(&answered)),
                    None,
                    Some(t!("page-done")),
                )
            };
            render(StatusCode::OK, &page, Some(&fresh))
        }
        Err(LinkError::Dead) => render(StatusCode::NOT_FOUND, &dead_page(None), None),
        Err(error) => {
            use actix_web::ResponseError as _;
            let error = ApiError::from(error);
            let notice = Some(Notice {
                kind: "error",
                text: error.message(),
            });
            match state.links.view(token).await {
                Ok(view) => {
                    let heading = heading_of(&view);
                    render(
                        error.status_code(),
                        &open_page(&view, token, &csrf, heading, notice),
                        Some(&fresh),
                    )
                }
                Err(_) => render(error.status_code(), &dead_page(notice), None),
            }
        }
    }
}

/// The page's style sheet.
pub(super) async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(STYLE)
}
