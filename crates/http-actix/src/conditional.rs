//! Conditional requests (docs/api.md, "Conditional requests"): the `ETag` of a single resource's
//! representation, `If-None-Match` on its GET (RFC 9110, section 13.1.2) and `If-Match` on the
//! writes that change it (section 13.1.1).
//!
//! An ETag is a hash of the exact JSON body a GET answers, so it changes exactly when the
//! representation does, and a handler can tell whether a client's copy is current without storing
//! anything. The hash alone cannot close the race between the check and the write: the writes
//! also carry the row version read with the representation, which the store checks again.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// How many hex digits of the body's SHA-256 an ETag keeps: 128 bits, more than enough to tell
/// one representation of one resource from another.
const HASH_DIGITS: usize = 32;

/// The `Cache-Control` of a representation with an ETag: only the caller's own cache may keep it
/// (it is the caller's view), and must check it with the server before every use.
const CACHE_CONTROL: &str = "private, no-cache";

/// A single resource's JSON body as its GET answers it, with its strong ETag.
#[derive(Debug)]
pub(crate) struct Representation {
    body: Vec<u8>,
    etag: String,
}

impl Representation {
    /// The body `value` serializes to and its ETag: `"` + the first 32 hex digits of the body's
    /// SHA-256 + `"`.
    ///
    /// # Errors
    /// A 500 when `value` does not serialize (it always does: response bodies are plain structs).
    pub(crate) fn of(value: &impl Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
        let digest = format!("{:x}", Sha256::digest(&body));
        let etag = format!("\"{}\"", &digest[..HASH_DIGITS]);
        Ok(Self { body, etag })
    }

    /// The strong ETag, quotes included.
    pub(crate) fn etag(&self) -> &str {
        &self.etag
    }

    /// `200` with the body and its ETag, or `304 Not Modified` without a body when the request's
    /// `If-None-Match` names this ETag (weak comparison) or is `*`.
    pub(crate) fn respond(self, req: &HttpRequest) -> HttpResponse {
        let not_modified = Condition::read(req, header::IF_NONE_MATCH)
            .is_some_and(|condition| condition.matches(&self.etag, Comparison::Weak));
        if not_modified {
            return HttpResponse::NotModified()
                .insert_header((header::ETAG, self.etag))
                .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
                .finish();
        }
        self.ok()
    }

    /// `200` with the body and its ETag, whatever the request's conditions: the answer of a write.
    pub(crate) fn ok(self) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::ETAG, self.etag))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
            .content_type(header::ContentType::json())
            .body(self.body)
    }
}

/// The request's `If-Match`, if it sent one: a write goes ahead only when it names the current
/// representation's ETag.
pub(crate) fn if_match(req: &HttpRequest) -> Option<Condition> {
    Condition::read(req, header::IF_MATCH)
}

/// An `If-Match` or `If-None-Match`: `*`, or a list of entity tags.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Condition {
    /// `*`: any current representation.
    Any,
    /// The listed tags, each `(weak, opaque tag with its quotes)`. A list that does not parse is
    /// kept as an empty one, which nothing matches.
    Tags(Vec<(bool, String)>),
}

/// How two entity tags are compared (RFC 9110, section 8.8.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comparison {
    /// Both strong and equal: `If-Match`.
    Strong,
    /// Equal once any `W/` is ignored: `If-None-Match`.
    Weak,
}

impl Condition {
    /// The condition of every `name` header of the request together; `None` without any.
    fn read(req: &HttpRequest, name: header::HeaderName) -> Option<Self> {
        let values: Vec<&HeaderValue> = req.headers().get_all(name).collect();
        if values.is_empty() {
            return None;
        }
        let text = values
            .iter()
            .map(|value| value.to_str().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(",");
        Some(Self::parse(&text))
    }

    /// Reads `*` or a comma-separated list of `"tag"` and `W/"tag"`.
    fn parse(text: &str) -> Self {
        if text.trim() == "*" {
            return Self::Any;
        }
        let mut tags = Vec::new();
        let mut rest = text.trim_start_matches([' ', '\t', ',']);
        while !rest.is_empty() {
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(quoted) => (true, quoted),
                None => (false, rest),
            };
            let Some(tag_end) = quoted
                .strip_prefix('"')
                .and_then(|inner| inner.find('"'))
                .map(|end| end + 2)
            else {
                return Self::Tags(Vec::new());
            };
            tags.push((weak, quoted[..tag_end].to_owned()));
            rest = quoted[tag_end..].trim_start_matches([' ', '\t', ',']);
        }
        Self::Tags(tags)
    }

    /// Whether the condition names `etag` (a strong tag), compared as `comparison` says.
    fn matches(&self, etag: &str, comparison: Comparison) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags
                .iter()
                .any(|(weak, tag)| tag == etag && (comparison == Comparison::Weak || !weak)),
        }
    }

    /// Passes when the condition names the current representation's ETag `etag` (strong
    /// comparison; `*` names any).
    ///
    /// # Errors
    /// [`ApiError::PreconditionFailed`] otherwise.
    pub(crate) fn check(&self, etag: &str) -> Result<(), ApiError> {
        if self.matches(etag, Comparison::Strong) {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed)
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use actix_web::test::TestRequest;

    use super::*;

    fn tags(list: &[(bool, &str)]) -> Condition {
        Condition::Tags(list.iter().map(|(w, t)| (*w, (*t).to_owned())).collect())
    }

    #[test]
    fn the_etag_is_the_quoted_head_of_the_bodys_sha256() {
        let representation = Representation::of(&serde_json::json!({"data": 1})).unwrap();
        let digest = format!("{:x}", Sha256::digest(br#"{"data":1}"#));
        assert_eq!(representation.etag(), format!("\"{}\"", &digest[..32]));
        let other = Representation::of(&serde_json::json!({"data": 2})).unwrap();
        assert_ne!(representation.etag(), other.etag());
    }

    #[test]
    fn conditions_read_star_lists_and_weak_tags() {
        assert_eq!(Condition::parse(" * "), Condition::Any);
        assert_eq!(
            Condition::parse(r#""a", W/"b",,"c""#),
            tags(&[(false, "\"a\""), (true, "\"b\""), (false, "\"c\"")])
        );
        assert_eq!(Condition::parse("a, b"), tags(&[]));
        assert_eq!(Condition::parse(r#""unterminated"#), tags(&[]));
    }

    #[test]
    fn if_match_compares_strongly_and_if_none_match_weakly() {
        let weak = tags(&[(true, "\"a\"")]);
        assert!(weak.check("\"a\"").is_err());
        assert!(weak.matches("\"a\"", Comparison::Weak));
        assert!(tags(&[(false, "\"b\""), (false, "\"a\"")])
            .check("\"a\"")
            .is_ok());
        assert!(tags(&[(false, "\"b\"")]).check("\"a\"").is_err());
        assert!(Condition::Any.check("\"a\"").is_ok());
    }

    #[test]
    fn a_matching_if_none_match_is_a_304_without_a_body_and_with_the_etag() {
        let value = serde_json::json!({"data": {"id": 1}});
        let etag = Representation::of(&value).unwrap().etag().to_owned();
        let req = TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, format!("\"x\", W/{etag}")))
            .to_http_request();
        let response = Representation::of(&value).unwrap().respond(&req);
        assert_eq!(response.status(), 304);
        assert_eq!(response.headers().get(header::ETAG).unwrap(), etag.as_str());
        assert!(response.into_body().try_into_bytes().unwrap().is_empty());

        let req = TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, "\"x\""))
            .to_http_request();
        let response = Representation::of(&value).unwrap().respond(&req);
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL).unwrap(),
            CACHE_CONTROL
        );
        let body = response.into_body().try_into_bytes().unwrap();
        assert_eq!(&body[..], br#"{"data":{"id":1}}"#);
    }
}
