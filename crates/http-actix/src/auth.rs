//! Bearer authentication (docs/api.md, "Conventions"): the [`AuthenticatedUser`] extractor and the
//! [`require_bearer`] middleware that runs it before a protected route reads its body, so that an
//! unauthenticated client gets its 401 before any 400, 413 or 422.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, Route};
use futures_util::future::LocalBoxFuture;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{ApiError, Credentials};
use crate::AppState;

/// The longest `Authorization` header value looked at; longer ones are refused unread.
const MAX_HEADER_LEN: usize = 512;

/// Whether an `Authorization` value is the bearer scheme followed by something: a token was
/// presented, however malformed.
fn names_a_bearer_token(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    value.len() > 7 && value[..6].eq_ignore_ascii_case(b"bearer") && value[6].is_ascii_whitespace()
}

/// A bearer token as the client sent it. Its `Debug` does not show it.
#[derive(Clone, Debug)]
pub struct BearerToken(SecretString);

impl BearerToken {
    /// Reads `Bearer <token>` (the scheme in any case).
    ///
    /// # Errors
    /// [`ApiError::Unauthenticated`] unless there is exactly one `Authorization` header, of at
    /// most 512 visible ASCII characters, holding the bearer scheme and one non-empty token:
    /// with [`Credentials::Missing`] when no header names the bearer scheme with something after
    /// it (nothing, another scheme, or `Bearer` alone), else [`Credentials::InvalidToken`].
    pub fn from_request_headers(req: &HttpRequest) -> Result<Self, ApiError> {
        let headers: Vec<&HeaderValue> = req.headers().get_all(AUTHORIZATION).collect();
        Self::parse(&headers).ok_or_else(|| {
            let presented = headers
                .iter()
                .any(|value| names_a_bearer_token(value.as_bytes()));
            ApiError::Unauthenticated(if presented {
                Credentials::InvalidToken
            } else {
                Credentials::Missing
            })
        })
    }

    fn parse(headers: &[&HeaderValue]) -> Option<Self> {
        let [value] = headers else {
            return None;
        };
        if value.len() > MAX_HEADER_LEN {
            return None;
        }
        let (scheme, token) = value.to_str().ok()?.trim().split_once(' ')?;
        let token = token.trim_start();
        if !scheme.eq_ignore_ascii_case("bearer")
            || token.is_empty()
            || token.contains(char::is_whitespace)
        {
            return None;
        }
        Some(Self(token.to_owned().into()))
    }

    /// The secret.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The user a request's bearer token belongs to, with the token itself (for logout).
///
/// Extracting it reads the `Authorization` header and asks [`domain::accounts::AccountService`];
/// when [`require_bearer`] already did that for the request, the extractor reuses its result.
#[derive(Clone, Debug)]
pub struct AuthenticatedUser {
    /// The caller.
    pub user: domain::accounts::User,
    /// The token the caller presented.
    pub token: BearerToken,
}

impl AuthenticatedUser {
    /// Authenticates a request.
    ///
    /// # Errors
    /// [`ApiError::Unauthenticated`] for a missing, malformed, unknown, revoked or expired token
    /// (see [`BearerToken::from_request_headers`]);
    /// 503/500 when the token store fails.
    pub async fn authenticate(req: &HttpRequest) -> Result<Self, ApiError> {
        let token = BearerToken::from_request_headers(req)?;
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::internal("AppState is not registered"))?;
        let user = state.accounts.authenticate(token.expose()).await?;
        Ok(Self { user, token })
    }
}

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let known = req.extensions().get::<Self>().cloned();
        let req = req.clone();
        Box::pin(async move {
            match known {
                Some(known) => Ok(known),
                None => Self::authenticate(&req).await,
            }
        })
    }
}

/// Middleware for protected routes: authenticates before the handler's extractors run and keeps
/// the result in the request's extensions for [`AuthenticatedUser`]. A refused request is answered
/// here, with the [`ApiError`] of [`AuthenticatedUser::authenticate`].
///
/// # Errors
/// Only the inner service's errors.
pub async fn require_bearer(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // Already authenticated for this request by the idempotency middleware.
    if req.extensions().contains::<AuthenticatedUser>() {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    match AuthenticatedUser::authenticate(req.request()).await {
        Ok(user) => {
            req.extensions_mut().insert(user);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(error) => Ok(req.error_response(error).map_into_right_body()),
    }
}

/// A route (handler already set) that authenticates its caller with [`require_bearer`] before its
/// extractors read the body.
pub(crate) fn protected(route: Route) -> Route {
    route.wrap(from_fn(require_bearer))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn token(headers: &[&[u8]]) -> Result<String, ApiError> {
        let mut req = TestRequest::default();
        for value in headers {
            req = req.append_header((
                AUTHORIZATION,
                actix_web::http::header::HeaderValue::from_bytes(value).unwrap(),
            ));
        }
        BearerToken::from_request_headers(&req.to_http_request()).map(|t| t.expose().to_owned())
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        assert_eq!(token(&[b"Bearer abc"]).unwrap(), "abc");
        assert_eq!(token(&[b"bearer abc"]).unwrap(), "abc");
        assert_eq!(token(&[b"BEARER   abc "]).unwrap(), "abc");
    }

    #[test]
    fn anything_but_one_bearer_token_is_refused() {
        let long = format!("Bearer {}", "a".repeat(MAX_HEADER_LEN));
        let cases: [(&[&[u8]], Credentials); 11] = [
            (&[], Credentials::Missing),
            (&[b"Bearer"], Credentials::Missing),
            (&[b"Bearer "], Credentials::Missing),
            (&[b"Basic YWxhZGRpbjpvcGVuc2VzYW1l"], Credentials::Missing),
            (&[b"abc"], Credentials::Missing),
            (&[b"Bearerabc"], Credentials::Missing),
            (&[b"Bearer a b"], Credentials::InvalidToken),
            (&[b"Bearer abc", b"Bearer abc"], Credentials::InvalidToken),
            (&[b"Basic YQ==", b"bearer abc"], Credentials::InvalidToken),
            (&[b"Bearer \xc3\xa9t\xc3\xa9"], Credentials::InvalidToken),
            (&[long.as_bytes()], Credentials::InvalidToken),
        ];
        for (headers, credentials) in cases {
            assert!(
                matches!(token(headers), Err(ApiError::Unauthenticated(c)) if c == credentials),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn the_token_is_not_printed_in_debug_output() {
        let printed = format!("{:?}", BearerToken("secret".to_owned().into()));
        assert!(!printed.contains("secret"), "{printed}");
    }
}
