//! Pagination of every list (docs/api.md, "Pagination"): the `limit` and `cursor` query parameters,
//! parsed by hand so that a bad value is a 422 naming the parameter, never a plain-text 400
//! (unknown parameters are ignored), and the `{"data", "meta"}` page envelope.

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::{Limit, Page, PageRequest};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;
use crate::validation::ValidationErrors;

/// Where a page starts: the id of the previous page's last item, opaque to clients.
///
/// On the wire it is the unpadded base64url of a version byte followed by the UUID's 16 bytes, so
/// that the format can change without old cursors being misread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(Uuid);

/// A `cursor` the server did not issue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The cursor is invalid.")]
pub struct CursorError;

impl Cursor {
    const VERSION: u8 = 1;

    /// The cursor of a page that continues after `after`.
    pub const fn new(after: Uuid) -> Self {
        Self(after)
    }

    /// The id the next page starts after.
    pub const fn after(self) -> Uuid {
        self.0
    }

    /// The wire form.
    pub fn encode(self) -> String {
        let mut bytes = [0_u8; 17];
        bytes[0] = Self::VERSION;
        bytes[1..].copy_from_slice(self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads the wire form.
    ///
    /// # Errors
    /// [`CursorError`] for anything [`Cursor::encode`] did not produce: bad base64, another length
    /// or version, or an id that is not a UUIDv7 (every id the server makes is one).
    pub fn decode(raw: &str) -> Result<Self, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError)?;
        let (&version, id) = bytes.split_first().ok_or(CursorError)?;
        let id = Uuid::from_slice(id).map_err(|_| CursorError)?;
        if version != Self::VERSION || id.get_version_num() != 7 {
            return Err(CursorError);
        }
        Ok(Self(id))
    }
}

/// `limit` and `cursor`: which page of a list to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to return, 1 to 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 50)]
    limit: Limit,
    /// The `meta.next_cursor` of the previous page; omit it for the first page.
    #[param(value_type = Option<String>, example = "AQGZP5tNf3cQpzK4mx7nhE4")]
    cursor: Option<Uuid>,
}

impl PageQuery {
    /// The page to ask the domain for.
    pub fn page_request(self) -> PageRequest {
        PageRequest {
            limit: self.limit,
            after: self.cursor,
        }
    }

    /// Reads `limit` and `cursor`, recording a bad value of either in `errors`.
    pub(crate) fn parse(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> Self {
        let limit = match given(query, "limit") {
            None => Limit::default(),
            Some(raw) => {
                let parsed = raw
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .and_then(|n| Limit::new(n).ok());
                errors
                    .take("limit", parsed.ok_or_else(limit_message))
                    .unwrap_or_default()
            }
        };
        let cursor = given(query, "cursor").and_then(|raw| {
            errors.take(
                "cursor",
                Cursor::decode(raw)
                    .map(Cursor::after)
                    .map_err(|e| e.to_string()),
            )
        });
        Self { limit, cursor }
    }
}

impl FromRequest for PageQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req, Self::parse))
    }
}

/// `{"data": [...], "meta": {...}}`: one page of a list, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    /// The items.
    pub data: Vec<T>,
    /// Where the list continues.
    pub meta: PageMeta,
}

/// The position of a page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageMeta {
    /// The page size asked for.
    #[schema(example = 50, minimum = 1, maximum = 100)]
    pub limit: u32,
    /// Pass it as `cursor` to get the next page; `null` on the last page.
    #[schema(required = true, example = "AQGZP5tNf3cQpzK4mx7nhE4")]
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    /// Converts a domain page, given the request it answers.
    pub fn new<U>(page: Page<U>, request: PageRequest, item: impl FnMut(U) -> T) -> Self {
        let next_cursor = page.next_after.map(|after| Cursor::new(after).encode());
        let limit = request.limit.get();
        Self {
            data: page.items.into_iter().map(item).collect(),
            meta: PageMeta { limit, next_cursor },
        }
    }
}

/// "The limit must be an integer between 1 and 100."
fn limit_message() -> String {
    format!(
        "The limit must be an integer between {} and {}.",
        Limit::MIN,
        Limit::MAX
    )
}

/// A parameter's value; an empty one counts as not given, as in Laravel.
pub(crate) fn given<'q>(query: &'q HashMap<String, String>, name: &str) -> Option<&'q str> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
}

/// Parses a request's query string with `parse`, answering 422 with every error it recorded.
pub(crate) fn parse_query<T>(
    req: &HttpRequest,
    parse: impl FnOnce(&HashMap<String, String>, &mut ValidationErrors) -> T,
) -> Result<T, ApiError> {
    // Decoding a query string into strings does not fail (bad escapes are decoded lossily); a
    // repeated parameter keeps its last value.
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let mut errors = ValidationErrors::default();
    let parsed = parse(&query, &mut errors);
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors.into())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn page(query: &str) -> Result<PageQuery, ValidationErrors> {
        let req = TestRequest::with_uri(&format!("/?{query}")).to_http_request();
        parse_query(&req, PageQuery::parse).map_err(|error| match error {
            ApiError::Validation(errors) => errors,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn a_cursor_round_trips_to_the_same_id() {
        let id = Uuid::now_v7();
        let encoded = Cursor::new(id).encode();
        assert_eq!(encoded.len(), 23);
        assert!(encoded
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(Cursor::decode(&encoded), Ok(Cursor::new(id)));
        assert_eq!(
            page(&format!("cursor={encoded}"))
                .unwrap()
                .page_request()
                .after,
            Some(id)
        );
    }

    #[test]
    fn cursors_the_server_did_not_issue_are_refused() {
        let v4 = {
            let mut bytes = vec![1_u8];
            bytes.extend_from_slice(
                Uuid::from_u128(0x1234_5678_9abc_4def_8123_4567_89ab_cdef).as_bytes(),
            );
            URL_SAFE_NO_PAD.encode(bytes)
        };
        let wrong_version = {
            let mut bytes = vec![2_u8];
            bytes.extend_from_slice(Uuid::now_v7().as_bytes());
            URL_SAFE_NO_PAD.encode(bytes)
        };
        for raw in [
            "x",
            "!!!",
            "AQ",
            &Uuid::now_v7().to_string(),
            &v4,
            &wrong_version,
        ] {
            assert_eq!(Cursor::decode(raw), Err(CursorError), "{raw}");
        }
    }

    #[test]
    fn the_default_page_is_50_items_from_the_start() {
        let query = page("").unwrap();
        assert_eq!(query.page_request(), PageRequest::default());
        assert_eq!(
            page("limit=&cursor=").unwrap().page_request(),
            PageRequest::default()
        );
        assert_eq!(
            page("unknown=1").unwrap().page_request(),
            PageRequest::default()
        );
    }

    #[test]
    fn a_limit_outside_1_to_100_or_not_a_number_is_a_422_under_limit() {
        for bad in ["0", "101", "-1", "ten", "1.5", "99999999999999999999"] {
            let errors = page(&format!("limit={bad}")).unwrap_err();
            assert_eq!(
                errors.get("limit"),
                Some(&["The limit must be an integer between 1 and 100.".to_owned()][..]),
                "{bad}"
            );
        }
        assert_eq!(page("limit=100").unwrap().page_request().limit.get(), 100);
    }
}
