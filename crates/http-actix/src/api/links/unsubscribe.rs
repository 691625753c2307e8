//! The page an unsubscribe link opens (docs/api.md, "Stopping invitation messages"): HTML from a
//! template, no JavaScript, under the RSVP page's policy and style sheet.
//!
//! `GET` only shows, so a mail scanner that follows the link stops nothing. A `POST` stops:
//! `scope=everyone` everyone's invitation messages to the address, anything else (RFC 8058's
//! `List-Unsubscribe=One-Click` from a mail client included) the sender's. The link's token is
//! the secret, so the `POST` needs no cookie: mail clients send none. Neither is under the
//! per-address limit of one-click links: mail providers send one-click `POST`s from a few shared
//! addresses, and a token cannot be guessed (its HMAC is checked before any look-up).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use domain::optouts::{Unsubscribe, UnsubscribeError};

use super::page::{failure, render, Notice, STYLE_PATH};
use crate::error::ApiError;
use crate::t;
use crate::AppState;

/// The largest body a `POST` may have: a form of one field, or RFC 8058's, well within.
const FORM_MAX: usize = 4 * 1024;

#[derive(Template)]
#[template(path = "unsubscribe.html")]
pub(super) struct Page {
    lang: &'static str,
    dir: &'static str,
    brand: String,
    heading: String,
    style: &'static str,
    notice: Option<Notice>,
    choices: Option<Choices>,
    footer: String,
}

/// What is left to stop, as buttons.
struct Choices {
    about: String,
    contact: String,
    action: String,
    sender: Option<String>,
    everyone: Option<String>,
}

impl Page {
    fn new(
        heading: String,
        notice: Option<Notice>,
        choices: Option<Choices>,
        footer: String,
    ) -> Self {
        let locale = crate::i18n::locale();
        Self {
            lang: locale.as_str(),
            dir: domain::i18n::direction(locale),
            brand: t!("page-brand"),
            heading,
            style: STYLE_PATH,
            notice,
            choices,
            footer,
        }
    }
}

/// The page of a link: what it has stopped, and buttons for the rest.
fn state_page(token: &str, state: &Unsubscribe, done: Option<String>) -> Page {
    let sender = state
        .sender
        .as_ref()
        .map_or_else(|| t!("unsubscribe-someone"), |s| s.name.as_str().to_owned());
    let stopped = if state.everyone_stopped {
        Some(t!("unsubscribe-stopped-everyone"))
    } else if state.sender_stopped {
        Some(t!("unsubscribe-stopped-sender", sender = sender.as_str()))
    } else {
        None
    };
    let notice = done.or(stopped).map(|text| Notice { kind: "ok", text });
    let choices = (!state.everyone_stopped).then(|| Choices {
        about: t!("unsubscribe-about"),
        contact: state.contact.clone(),
        action: format!("/unsubscribe/{token}"),
        sender: (!state.sender_stopped).then(|| t!("unsubscribe-sender", sender = sender.as_str())),
        everyone: Some(t!("unsubscribe-everyone")),
    });
    Page::new(
        t!("unsubscribe-heading"),
        notice,
        choices,
        t!("unsubscribe-footer"),
    )
}

/// The page of a link this service did not make.
fn invalid_page() -> HttpResponse {
    let page = Page::new(
        t!("unsubscribe-heading"),
        Some(Notice {
            kind: "error",
            text: t!("unsubscribe-invalid"),
        }),
        None,
        t!("unsubscribe-footer"),
    );
    render(StatusCode::NOT_FOUND, &page, None)
}

fn answer(result: Result<Page, UnsubscribeError>) -> HttpResponse {
    match result {
        Ok(page) => render(StatusCode::OK, &page, None),
        Err(UnsubscribeError::InvalidLink) => invalid_page(),
        Err(UnsubscribeError::Port(error)) => failure(&error.into()),
    }
}

/// `GET /unsubscribe/{token}`: what the link stops, and the buttons to stop it. Changes nothing.
pub(super) async fn show(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let result = state.opt_outs.describe(&token).await;
    answer(result.map(|found| state_page(&token, &found, None)))
}

/// `POST /unsubscribe/{token}`: stops the sender's invitation messages to the link's address, or
/// everyone's with `scope=everyone`.
pub(super) async fn stop(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let everyone = body.len() <= FORM_MAX
        && serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .unwrap_or_default()
            .iter()
            .any(|(key, value)| key == "scope" && value == "everyone");
    let result = state.opt_outs.unsubscribe(&token, everyone).await;
    answer(result.map(|found| {
        let done = if everyone {
            t!("unsubscribe-stopped-everyone")
        } else {
            let sender = found
                .sender
                .as_ref()
                .map_or_else(|| t!("unsubscribe-someone"), |s| s.name.as_str().to_owned());
            t!("unsubscribe-stopped-sender", sender = sender.as_str())
        };
        state_page(&token, &found, Some(done))
    }))
}

/// What the SMS gateway hands over of a text from a phone: Kannel's `sms-service` `get-url`
/// (`…&from=%p&to=%P&text=%a`), or the same fields in a form.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Inbound {
    secret: Option<String>,
    from: Option<String>,
    text: Option<String>,
}

/// `GET` or `POST /hooks/sms`: a text from a phone, handed over by the SMS gateway under
/// `SMS_INBOUND_SECRET`. A `STOP` stops every sender's invitation messages to that number.
/// `204` whatever the text says; `404` without the right secret (or with none configured), so
/// that the hook cannot be found from outside.
pub(super) async fn text_received(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    use actix_web::ResponseError as _;
    use secrecy::ExposeSecret as _;
    let mut inbound: Inbound = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    if body.len() <= FORM_MAX {
        if let Ok(form) = serde_urlencoded::from_bytes::<Inbound>(&body) {
            inbound.secret = inbound.secret.or(form.secret);
            inbound.from = inbound.from.or(form.from);
            inbound.text = inbound.text.or(form.text);
        }
    }
    let expected = state
        .sms_inbound_secret
        .as_ref()
        .map(|s| s.expose_secret().as_bytes());
    let presented = inbound.secret.as_deref().unwrap_or_default().as_bytes();
    // Digests compared: how long a comparison takes tells nothing of the secret.
    let allowed = expected.is_some_and(|expected| {
        use sha2::Digest as _;
        sha2::Sha256::digest(expected) == sha2::Sha256::digest(presented)
    });
    if !allowed {
        return ApiError::NotFound(t!("not-found-route")).error_response();
    }
    let from = inbound
        .from
        .as_deref()
        .and_then(|from| domain::Mobile::parse(from, state.phone_region).ok());
    let (Some(from), Some(text)) = (from, inbound.text) else {
        return HttpResponse::NoContent().finish();
    };
    match state.opt_outs.text_received(&from, &text).await {
        Ok(stopped) => {
            if stopped {
                tracing::info!("a text asked to stop invitation messages to its number");
            }
            HttpResponse::NoContent().finish()
        }
        Err(error) => ApiError::from(error).error_response(),
    }
}
