//! The API's language (docs/api.md, "Languages"): each request is answered in the locale its
//! `Accept-Language` prefers (`en` when it names none of ours), with `Content-Language` saying
//! which. Only sentences change: every `code`, field name and value stays as it is.
//!
//! [`languages`] chooses the locale and runs the request inside it; every sentence the API writes
//! while answering ([`t!`](crate::t)) is taken from the locale's Fluent file
//! (`crates/domain/locales/`), as in Rails' and Django's per-request locale.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use domain::i18n::Arg;
pub use domain::i18n::Locale;

tokio::task_local! {
    static LOCALE: Locale;
}

/// The locale of the request being answered; `en` outside one.
pub fn locale() -> Locale {
    LOCALE.try_with(|locale| *locale).unwrap_or_default()
}

/// Runs `work` in `locale`: the sentences it writes are in that language.
pub async fn scope<F: std::future::Future>(locale: Locale, work: F) -> F::Output {
    LOCALE.scope(locale, work).await
}

/// Runs `work` in `locale` at once (for work that does not wait).
pub fn in_locale<R>(locale: Locale, work: impl FnOnce() -> R) -> R {
    LOCALE.sync_scope(locale, work)
}

/// The sentence `id` in the request's locale, its placeables filled from `args`.
pub fn text(id: &str, args: &[(&str, Arg)]) -> String {
    domain::i18n::text(locale(), id, args)
}

/// The sentence with this message id in the request's locale: `t!("not-found-event")`, or with
/// placeables, `t!("validation-required", attribute = name)`.
#[macro_export]
macro_rules! t {
    ($id:expr) => {
        $crate::i18n::text($id, &[])
    };
    ($id:expr, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::text(
            $id,
            &[$((stringify!($name), ::domain::i18n::Arg::from($value))),+],
        )
    };
}

/// The locale a request prefers by its `Accept-Language` header: the highest-weighted of the tags
/// it names that is one of ours (`fa-IR` counts as `fa`; `*` and `q=0` count as nothing); `en`
/// when none is (docs/api.md, "Languages").
pub fn negotiate(accept_language: Option<&str>) -> Locale {
    let Some(header) = accept_language else {
        return Locale::default();
    };
    let mut best: Option<(u16, Locale)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let weight = parts
            .find_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .map_or(Some(1000), quality);
        let (Some(weight), Some(locale)) = (weight, Locale::parse(tag)) else {
            continue;
        };
        if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, locale));
        }
    }
    best.map(|(_, locale)| locale).unwrap_or_default()
}

/// An RFC 9110 `qvalue` in thousandths, `None` when malformed.
fn quality(raw: &str) -> Option<u16> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Middleware: answers each request in the locale its `Accept-Language` prefers, and says which
/// in `Content-Language` (with `Vary: Accept-Language`, for caches).
///
/// # Errors
/// Only the inner service's errors.
pub async fn languages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let locale = negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok()),
    );
    let mut response = scope(locale, next.call(req)).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(locale.as_str()),
    );
    headers.append(header::VARY, HeaderValue::from_static("Accept-Language"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::test::{self, TestRequest};
    use actix_web::{web, App, HttpResponse};

    use super::*;

    #[actix_web::test]
    async fn a_request_is_answered_in_the_language_it_prefers() {
        let app = test::init_service(App::new().wrap(from_fn(languages)).route(
            "/",
            web::get().to(|| async { HttpResponse::Ok().body(t!("not-found-event")) }),
        ))
        .await;
        for (accept, language, body) in [
            (Some("fa-IR,fa;q=0.9"), "fa", "رویداد پیدا نشد."),
            (Some("de"), "en", "Event not found."),
            (None, "en", "Event not found."),
        ] {
            let mut req = TestRequest::get().uri("/");
            if let Some(accept) = accept {
                req = req.insert_header((header::ACCEPT_LANGUAGE, accept));
            }
            let response = test::call_service(&app, req.to_request()).await;
            assert_eq!(
                response.headers().get(header::CONTENT_LANGUAGE).unwrap(),
                language
            );
            assert_eq!(test::read_body(response).await, body.as_bytes());
        }
        assert_eq!(locale(), Locale::En, "outside a request");
    }

    #[test]
    fn accept_language_picks_the_highest_weighted_locale_of_ours() {
        assert_eq!(negotiate(None), Locale::En);
        assert_eq!(negotiate(Some("fa")), Locale::Fa);
        assert_eq!(negotiate(Some("fa-IR,fa;q=0.9,en;q=0.8")), Locale::Fa);
        assert_eq!(negotiate(Some("en;q=0.5, fa;q=0.8")), Locale::Fa);
        assert_eq!(negotiate(Some("de, fa;q=0.1")), Locale::Fa);
        assert_eq!(negotiate(Some("fa;q=0, en")), Locale::En);
        assert_eq!(negotiate(Some("fa;q=0")), Locale::En);
        assert_eq!(negotiate(Some("de-DE, *")), Locale::En);
        assert_eq!(
            negotiate(Some("fa;q=2")),
            Locale::En,
            "a malformed weight counts as none"
        );
        assert_eq!(
            negotiate(Some("en, fa")),
            Locale::En,
            "ties go to the first"
        );
        assert_eq!(negotiate(Some(",,;;q=")), Locale::En);
    }
}
