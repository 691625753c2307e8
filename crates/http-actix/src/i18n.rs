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

/// Middleware: answers each request in the locale its `Accept-Language` prefers, and says which
/// in `Content-Language` (with `Vary: Accept-Language`, for caches).
///
/// # Errors
/// Only the inner service's errors.
pub async fn languages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let locale = domain::i18n::negotiate(
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
}
