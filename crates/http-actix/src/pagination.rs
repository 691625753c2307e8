//! Pagination of every list (docs/api.md, "Pagination"): the `limit` and `cursor` query parameters,
//! parsed by hand so that a bad value is a 422 naming the parameter, never a plain-text 400
//! (unknown parameters are ignored), the signed cursors, and the `{"data", "meta"}` page envelope.
//!
//! A cursor is valid only where it was issued: it carries an HMAC-SHA256 tag over its position,
//! the caller, the list and the list's filters (not the page size, which a client may change
//! between pages), under a key every process on the database shares ([`CursorKey`]). Anything
//! else (forged, altered, another caller's, another list's, other filters, or the old unsigned
//! format) is a 422 on `cursor`, like a cursor that is not base64.

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::{Limit, Page, PageRequest, UserId};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;
use crate::validation::ValidationErrors;

/// How many bytes of the HMAC-SHA256 output a cursor carries.
///
/// 16 of 32: a forger can only guess online, one request per guess, against a key that never
/// leaves the server, and each guess is right with probability 2^-128; that is the truncation
/// RFC 2104 (section 5) recommends as the least (half the hash output) and far above NIST SP
/// 800-107's 64-bit floor. The full tag would add 22 characters to every cursor in every URL for
/// no practical gain. The comparison stays constant-time ([`Mac::verify_truncated_left`]).
const TAG_LEN: usize = 16;

/// The key cursors are signed with.
///
/// Every process serving one database must hold the same key, or a cursor issued by one is refused
/// by the next (docs/operations.md, "Cursor signing"). Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct CursorKey(Hmac<Sha256>);

/// A cursor key shorter than [`CursorKey::MIN_LEN`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a cursor key must be at least {} bytes long", CursorKey::MIN_LEN)]
pub struct CursorKeyTooShort;

impl CursorKey {
    /// The shortest key accepted, in bytes: as long as HMAC-SHA256's output, so that the key is
    /// never the easier thing to guess.
    pub const MIN_LEN: usize = 32;

    /// A key from `secret`'s bytes.
    ///
    /// # Errors
    /// [`CursorKeyTooShort`] when `secret` is shorter than [`CursorKey::MIN_LEN`].
    pub fn new(secret: &[u8]) -> Result<Self, CursorKeyTooShort> {
        if secret.len() < Self::MIN_LEN {
            return Err(CursorKeyTooShort);
        }
        Hmac::new_from_slice(secret)
            .map(Self)
            .map_err(|_| CursorKeyTooShort)
    }

    /// The cursors of the list named `list` as `user` sees it; add the list's filters with
    /// [`CursorScope::filter`].
    pub fn scope(&self, user: UserId, list: &'static str) -> CursorScope {
        let mut mac = self.0.clone();
        mac.update(b"event-manager cursor");
        mac.update(&[Cursor::VERSION]);
        mac.update(user.as_uuid().as_bytes());
        update_part(&mut mac, list.as_bytes());
        CursorScope { mac }
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

/// Feeds one variable-length part, prefixed with its length so that no two sequences of parts
/// feed the same bytes (`("ab", "c")` and `("a", "bc")` differ).
fn update_part(mac: &mut Hmac<Sha256>, part: &[u8]) {
    mac.update(&(part.len() as u64).to_be_bytes());
    mac.update(part);
}

/// Where a cursor is valid: one caller's view of one list under its filters. It issues the
/// cursors of that view ([`CursorScope::issue`]) and accepts only those ([`CursorScope::open`]).
#[derive(Clone)]
pub struct CursorScope {
    /// The key, fed with everything the cursor is bound to but its position.
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for CursorScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorScope(<redacted>)")
    }
}

impl CursorScope {
    /// Binds the cursors to one filter's value, as parsed (so that spellings of one value, such as
    /// no `status` and `status=all`, are one). A list binds every filter it accepts, given or not
    /// (`""` when not), always in the same order.
    #[must_use]
    pub fn filter(mut self, name: &str, value: &str) -> Self {
        update_part(&mut self.mac, name.as_bytes());
        update_part(&mut self.mac, value.as_bytes());
        self
    }

    /// The cursor of a page of this view that continues after `after`.
    pub fn issue(&self, after: Uuid) -> Cursor {
        let full = self.tagger(after).finalize().into_bytes();
        let mut tag = [0_u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        Cursor { after, tag }
    }

    /// The position `cursor` holds, if this view issued it.
    ///
    /// # Errors
    /// [`CursorError`] when the tag is not this view's for that position: a forgery, an altered
    /// cursor, or one issued to another caller, for another list or under other filters.
    pub fn open(&self, cursor: &Cursor) -> Result<Uuid, CursorError> {
        self.tagger(cursor.after)
            .verify_truncated_left(&cursor.tag)
            .map(|()| cursor.after)
            .map_err(|_| CursorError)
    }

    /// The page to ask the domain for: `limit`, after the position of `cursor` once this view is
    /// found to have issued it.
    ///
    /// # Errors
    /// A 422 on `cursor`, "The cursor is invalid.", when it did not.
    pub fn page_request(
        &self,
        limit: Limit,
        cursor: Option<&Cursor>,
    ) -> Result<PageRequest, ApiError> {
        let after = cursor
            .map(|cursor| self.open(cursor))
            .transpose()
            .map_err(|error| ValidationErrors::single("cursor", error.to_string()))?;
        Ok(PageRequest { limit, after })
    }

    fn tagger(&self, after: Uuid) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(after.as_bytes());
        mac
    }
}

/// A `cursor` as a client sent it back: where the page starts (the id of the previous page's last
/// item) and the tag that says for which view the server issued it. Opaque to clients.
///
/// On the wire it is the unpadded base64url of a version byte (2), the id's 16 bytes and the
/// 16-byte tag: 44 characters. Version 1, the unsigned id alone, is no longer accepted.
/// [`Cursor::decode`] checks only the form; the position is trusted once [`CursorScope::open`]
/// has checked the tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    after: Uuid,
    tag: [u8; TAG_LEN],
}

/// A `cursor` the server did not issue, or not for this caller, list and filters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The cursor is invalid.")]
pub struct CursorError;

impl Cursor {
    const VERSION: u8 = 2;
    const LEN: usize = 1 + 16 + TAG_LEN;

    /// The wire form.
    pub fn encode(&self) -> String {
        let mut bytes = [0_u8; Self::LEN];
        bytes[0] = Self::VERSION;
        bytes[1..17].copy_from_slice(self.after.as_bytes());
        bytes[17..].copy_from_slice(&self.tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads the wire form, without checking the tag.
    ///
    /// # Errors
    /// [`CursorError`] for anything not of [`Cursor::encode`]'s form: bad base64, another length
    /// or version.
    pub fn decode(raw: &str) -> Result<Self, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError)?;
        let bytes: [u8; Self::LEN] = bytes.try_into().map_err(|_| CursorError)?;
        if bytes[0] != Self::VERSION {
            return Err(CursorError);
        }
        let after = Uuid::from_slice(&bytes[1..17]).map_err(|_| CursorError)?;
        let mut tag = [0_u8; TAG_LEN];
        tag.copy_from_slice(&bytes[17..]);
        Ok(Self { after, tag })
    }
}

/// `limit` and `cursor`: which page of a list to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to return, 1 to 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 50)]
    limit: Limit,
    /// The `meta.next_cursor` of the previous page, passed back unchanged; omit it for the first
    /// page. Valid only for the caller, list and filters it was issued for.
    #[param(value_type = Option<String>, example = "AgGiF5f0fHTVp-vhrMFmF4HRrCnRPQ6bueSzhvEn-DUQ")]
    cursor: Option<Cursor>,
}

impl PageQuery {
    /// The page to ask the domain for, once `scope` (the caller's view of the list) is found to
    /// have issued the cursor.
    ///
    /// # Errors
    /// A 422 on `cursor` when it did not.
    pub fn page_request(&self, scope: &CursorScope) -> Result<PageRequest, ApiError> {
        scope.page_request(self.limit, self.cursor.as_ref())
    }

    /// The page size asked for.
    pub(crate) fn limit(&self) -> Limit {
        self.limit
    }

    /// The cursor given, not yet checked.
    pub(crate) fn cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }

    /// Reads `limit` and `cursor`, recording a bad value of either in `errors`.
    pub(crate) fn parse(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> Self {
        let limit = parse_limit(query, errors);
        let cursor = given(query, "cursor")
            .and_then(|raw| errors.take("cursor", Cursor::decode(raw).map_err(|e| e.to_string())));
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
    /// Pass it as `cursor` to get the next page, with the same filters (any `limit`); `null` on the
    /// last page.
    #[schema(
        required = true,
        example = "AgGiF5f0fHTVp-vhrMFmF4HRrCnRPQ6bueSzhvEn-DUQ"
    )]
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    /// Converts a domain page, given the request it answers and the view whose cursor continues
    /// it.
    pub fn new<U>(
        page: Page<U>,
        request: PageRequest,
        scope: &CursorScope,
        item: impl FnMut(U) -> T,
    ) -> Self {
        let next_cursor = page.next_after.map(|after| scope.issue(after).encode());
        let limit = request.limit.get();
        Self {
            data: page.items.into_iter().map(item).collect(),
            meta: PageMeta { limit, next_cursor },
        }
    }
}

/// Reads `limit` (absent: [`Limit::default`]), recording a bad value in `errors`: the page size
/// of every list and of the change feed.
pub(crate) fn parse_limit(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> Limit {
    given(query, "limit")
        .and_then(|raw| {
            let parsed = raw
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|n| Limit::new(n).ok());
            errors.take("limit", parsed.ok_or_else(limit_message))
        })
        .unwrap_or_default()
}

/// "The limit must be an integer between 1 and 100."
fn limit_message() -> String {
    crate::t!("validation-limit", min = Limit::MIN, max = Limit::MAX)
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

    fn key() -> CursorKey {
        CursorKey::new(&[7; 32]).unwrap()
    }

    /// Ann's sent invitations, pending only.
    fn anns_pending(key: &CursorKey, ann: UserId) -> CursorScope {
        key.scope(ann, "sent-invitations")
            .filter("status", "pending")
            .filter("event_id", "")
    }

    fn refused(scope: &CursorScope, raw: &str) -> bool {
        let errors =
            match Cursor::decode(raw).map(|c| scope.page_request(Limit::default(), Some(&c))) {
                Err(CursorError) => return true,
                Ok(Ok(_)) => return false,
                Ok(Err(ApiError::Validation(errors))) => errors,
                Ok(Err(other)) => panic!("{other:?}"),
            };
        assert_eq!(
            errors.get("cursor"),
            Some(&["The cursor is invalid.".to_owned()][..])
        );
        true
    }

    #[test]
    fn a_cursor_round_trips_to_the_same_id_in_its_own_view() {
        let (key, ann, id) = (key(), UserId::generate(), Uuid::now_v7());
        let scope = anns_pending(&key, ann);
        let encoded = scope.issue(id).encode();
        assert_eq!(encoded.len(), 44);
        assert!(encoded.starts_with("Ag"), "version 2: {encoded}");
        assert!(encoded
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let query = page(&format!("cursor={encoded}&limit=3")).unwrap();
        let request = query.page_request(&scope).unwrap();
        assert_eq!(request.after, Some(id));
        assert_eq!(request.limit.get(), 3);
        // Another page size, the same cursor: the limit is not bound.
        let query = page(&format!("cursor={encoded}&limit=100")).unwrap();
        assert_eq!(query.page_request(&scope).unwrap().after, Some(id));
        // Another key object from the same secret (another process) accepts it too.
        assert_eq!(
            anns_pending(&key.clone(), ann).open(&Cursor::decode(&encoded).unwrap()),
            Ok(id)
        );
    }

    #[test]
    fn changing_any_byte_of_a_cursor_makes_it_invalid() {
        let (key, ann) = (key(), UserId::generate());
        let scope = anns_pending(&key, ann);
        let bytes = URL_SAFE_NO_PAD
            .decode(scope.issue(Uuid::now_v7()).encode())
            .unwrap();
        for at in 0..bytes.len() {
            for flip in [0x01, 0x80] {
                let mut tampered = bytes.clone();
                tampered[at] ^= flip;
                let raw = URL_SAFE_NO_PAD.encode(&tampered);
                assert!(refused(&scope, &raw), "byte {at} ^ {flip:#x} accepted");
            }
        }
        // Truncated or extended.
        assert!(refused(&scope, &URL_SAFE_NO_PAD.encode(&bytes[..32])));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(refused(&scope, &URL_SAFE_NO_PAD.encode(&longer)));
    }

    #[test]
    fn a_cursor_is_refused_for_another_caller_list_filter_or_key() {
        let (key, ann, bob) = (key(), UserId::generate(), UserId::generate());
        let event = Uuid::now_v7().to_string();
        let id = Uuid::now_v7();
        let cursor = anns_pending(&key, ann).issue(id);
        let elsewhere = [
            ("another caller", anns_pending(&key, bob)),
            (
                "another list",
                key.scope(ann, "received-invitations")
                    .filter("status", "pending")
                    .filter("event_id", ""),
            ),
            (
                "another status",
                key.scope(ann, "sent-invitations")
                    .filter("status", "all")
                    .filter("event_id", ""),
            ),
            (
                "an event filter added",
                key.scope(ann, "sent-invitations")
                    .filter("status", "pending")
                    .filter("event_id", &event),
            ),
            (
                "filters shifted between parts",
                key.scope(ann, "sent-invitations")
                    .filter("status", "pendin")
                    .filter("gevent_id", ""),
            ),
            ("no filters", key.scope(ann, "sent-invitations")),
            (
                "another key",
                anns_pending(&CursorKey::new(&[8; 32]).unwrap(), ann),
            ),
        ];
        for (what, scope) in elsewhere {
            assert_eq!(scope.open(&cursor), Err(CursorError), "{what}");
            assert!(refused(&scope, &cursor.encode()), "{what}");
        }
        assert_eq!(anns_pending(&key, ann).open(&cursor), Ok(id));
    }

    #[test]
    fn unsigned_and_malformed_cursors_are_refused() {
        let scope = anns_pending(&key(), UserId::generate());
        // The old format: version 1 and a well-formed UUIDv7, which used to be accepted.
        let v1 = {
            let mut bytes = vec![1_u8];
            bytes.extend_from_slice(Uuid::now_v7().as_bytes());
            URL_SAFE_NO_PAD.encode(bytes)
        };
        // Version 2 with the id but no tag, or a zero tag.
        let untagged = {
            let mut bytes = vec![2_u8];
            bytes.extend_from_slice(Uuid::now_v7().as_bytes());
            URL_SAFE_NO_PAD.encode(bytes)
        };
        let zero_tag = {
            let mut bytes = vec![2_u8];
            bytes.extend_from_slice(Uuid::now_v7().as_bytes());
            bytes.extend_from_slice(&[0; TAG_LEN]);
            URL_SAFE_NO_PAD.encode(bytes)
        };
        for raw in [
            "x",
            "!!!",
            "AQ",
            &Uuid::now_v7().to_string(),
            &v1,
            &untagged,
            &zero_tag,
        ] {
            assert!(refused(&scope, raw), "{raw}");
        }
        for raw in ["x", "!!!", &v1, &untagged] {
            assert_eq!(
                page(&format!("cursor={raw}")).unwrap_err().get("cursor"),
                Some(&["The cursor is invalid.".to_owned()][..]),
                "{raw}"
            );
        }
    }

    #[test]
    fn keys_shorter_than_32_bytes_are_refused_and_never_shown() {
        assert_eq!(CursorKey::new(&[1; 31]).unwrap_err(), CursorKeyTooShort);
        let key = CursorKey::new(b"0123456789abcdef0123456789abcdef-and-longer").unwrap();
        assert_eq!(format!("{key:?}"), "CursorKey(<redacted>)");
        let scope = key.scope(UserId::generate(), "events");
        assert_eq!(format!("{scope:?}"), "CursorScope(<redacted>)");
    }

    #[test]
    fn the_default_page_is_50_items_from_the_start() {
        let scope = key().scope(UserId::generate(), "events");
        let request = |query: &str| page(query).unwrap().page_request(&scope).unwrap();
        assert_eq!(request(""), PageRequest::default());
        assert_eq!(request("limit=&cursor="), PageRequest::default());
        assert_eq!(request("unknown=1"), PageRequest::default());
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
        assert_eq!(page("limit=100").unwrap().limit().get(), 100);
    }
}
