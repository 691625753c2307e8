//! Request bodies and query strings of the invitations area, and their conversion into domain
//! values.

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use domain::invitations::ports::InvitationFilter;
use domain::invitations::SendInvitations;
use domain::invitations::{
    Invitation, InvitationEntries, InvitationEntriesError, InvitationTtl, Reply,
};
use domain::{
    Answer, EventId, InvitationStatus, Limit, PageRequest, PhoneRegion, StatusFilter, Text, UserId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::pagination::{given, parse_query, Cursor, CursorKey, CursorScope, PageQuery};
use crate::validation::{
    attribute, must_be_string, optional_non_blank, required, selected_invalid, text_error,
    too_many_items, ValidationErrors,
};

/// `POST /api/v1/{event_id}/send-invitations`: the emails and mobiles to invite (blanks are
/// skipped), and an optional note for all of them.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "invitations": ["", "09352864812", "", "09303030300", "09332114546", "09332131456", "", ""]
}))]
pub struct SendInvitationsRequest {
    /// Emails (entries with `@`) and mobiles, at most 1,000 entries, at least one not blank.
    #[schema(value_type = Vec<String>, required = true, max_items = 1000)]
    invitations: Option<Value>,
    /// A note from the sender, stored on every invitation of the request and shown to their
    /// parties: trimmed, at most 500 characters (line breaks allowed; control, bidirectional and
    /// zero-width characters refused); blank or `null` means none.
    #[schema(value_type = Option<String>, max_length = 500)]
    message: Option<Value>,
    /// How long this batch stays answerable, instead of the server's `INVITATION_TTL`: a whole
    /// number of minutes, hours or days from `1h` to `30d` (`90m`, `36h`, `7d`). Never after the
    /// event's `rsvp_deadline` or `starts_at`.
    #[schema(value_type = Option<String>, example = "3d", pattern = "^([0-9]{1,6}[mhd])?$")]
    expires_in: Option<Value>,
}

/// The shortest `expires_in`.
const EXPIRES_IN_MIN: chrono::Duration = chrono::Duration::hours(1);
/// The longest `expires_in`.
const EXPIRES_IN_MAX: chrono::Duration = chrono::Duration::days(30);

impl SendInvitationsRequest {
    /// Parses the entries, reading national mobiles in `region`, and the note, into the command
    /// for `event_id`. Entries that are neither an email nor a mobile are not errors: the send
    /// reports them as ignored.
    ///
    /// # Errors
    /// Every invalid field: `invitations` missing, not an array, holding a non-string (reported
    /// as `invitations.N`), with no entry that is not blank, or over 1,000 entries; `message` not
    /// a string, over 500 characters or holding a forbidden character.
    pub fn try_into_domain(
        self,
        region: PhoneRegion,
        event_id: EventId,
    ) -> Result<SendInvitations, ValidationErrors> {
        let entries = Self::entries(self.invitations, region);
        let message = Self::message(self.message);
        let expires_in = Self::expires_in(self.expires_in);
        match (entries, message, expires_in) {
            (Ok(entries), Ok(message), Ok(expires_in)) => Ok(SendInvitations {
                event_id,
                entries,
                message,
                expires_in,
            }),
            (entries, message, expires_in) => {
                let mut errors = entries.err().unwrap_or_default();
                if let Err(message) = message {
                    errors.add("message", message);
                }
                if let Err(message) = expires_in {
                    errors.add("expires_in", message);
                }
                Err(errors)
            }
        }
    }

    fn expires_in(value: Option<Value>) -> Result<Option<InvitationTtl>, String> {
        const FIELD: &str = "expires_in";
        let invalid = || crate::t!("expires-in-invalid");
        // Read as written (no trimming): `""` and `null` mean the server's time to live.
        let raw = match value {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(raw)) if raw.is_empty() => return Ok(None),
            Some(Value::String(raw)) => raw,
            Some(_) => return Err(must_be_string(FIELD)),
        };
        if raw.ends_with('s') || raw.len() > 7 {
            return Err(invalid());
        }
        let ttl = InvitationTtl::parse(&raw).map_err(|_| invalid())?;
        match ttl.duration() {
            Some(d) if (EXPIRES_IN_MIN..=EXPIRES_IN_MAX).contains(&d) => Ok(Some(ttl)),
            _ => Err(invalid()),
        }
    }

    fn message(value: Option<Value>) -> Result<Option<Text>, String> {
        const FIELD: &str = "message";
        optional_non_blank(FIELD, value)?
            .map(|raw| {
                Text::parse(&raw, Invitation::MESSAGE_MAX, true).map_err(|e| text_error(FIELD, e))
            })
            .transpose()
    }

    fn entries(
        invitations: Option<Value>,
        region: PhoneRegion,
    ) -> Result<InvitationEntries, ValidationErrors> {
        const FIELD: &str = "invitations";
        let items = match invitations {
            None | Some(Value::Null) => {
                return Err(ValidationErrors::single(FIELD, required(FIELD)))
            }
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(ValidationErrors::single(
                    FIELD,
                    crate::t!("validation-array", attribute = attribute(FIELD)),
                ))
            }
        };
        if items.len() > InvitationEntries::MAX {
            return Err(ValidationErrors::single(
                FIELD,
                too_many_items(FIELD, InvitationEntries::MAX),
            ));
        }
        let mut errors = ValidationErrors::default();
        let mut entries = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            match item {
                Value::String(entry) => entries.push(entry),
                _ => errors.add(
                    format!("{FIELD}.{index}"),
                    must_be_string(&format!("{FIELD}.{index}")),
                ),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        InvitationEntries::parse(&entries, region).map_err(|error| {
            let message = match error {
                InvitationEntriesError::NoEntries => required(FIELD),
                InvitationEntriesError::TooMany { max } => too_many_items(FIELD, max),
            };
            ValidationErrors::single(FIELD, message)
        })
    }
}

/// `PATCH /api/v1/invitations/{invitation_id}`: the invitee's answer, with a party and a comment
/// (docs/api.md, "Answering: maybe, guests and comments").
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "accepted", "guests": 1, "comment": "Bringing my sister."}))]
pub struct AnswerInvitationRequest {
    /// `accepted`, `tentative` ("maybe"), or `rejected` (`declined` is a synonym).
    #[schema(value_type = AnswerStatus, required = true)]
    status: Option<Value>,
    /// The guests the invitee brings: 0 (the default) to the event's `max_guests`; ignored with a
    /// no.
    #[schema(value_type = Option<u8>, minimum = 0, maximum = 10)]
    guests: Option<Value>,
    /// A word to the hosts: at most 500 characters (line breaks allowed); blank or `null` for
    /// none.
    #[schema(value_type = Option<String>, max_length = 500)]
    comment: Option<Value>,
}

/// The answers an invitee may give.
#[derive(Clone, Copy, Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum AnswerStatus {
    /// Join the event (or its waitlist, when the party does not fit).
    Accepted,
    /// Maybe: no seat; the invitation stays answerable.
    Tentative,
    /// Decline it (withdraws from the waitlist too).
    Rejected,
    /// The same as `rejected`.
    Declined,
}

impl AnswerInvitationRequest {
    /// The same answer as an HTML form sends it (docs/api.md, "Answering from a message"): every
    /// field a string, or absent; `guests` blank for none, else read as a number when it is one
    /// (and refused as the JSON answer's `guests` would be when it is not).
    pub(crate) fn from_form(
        status: Option<String>,
        guests: Option<String>,
        comment: Option<String>,
    ) -> Self {
        let guests =
            guests
                .filter(|g| !g.trim().is_empty())
                .map(|g| match g.trim().parse::<u64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => Value::String(g),
                });
        Self {
            status: status.map(Value::String),
            guests,
            comment: comment.map(Value::String),
        }
    }

    /// Parses the answer, its guests and its comment.
    ///
    /// # Errors
    /// "The status field is required." when missing, "The selected status is invalid." for any
    /// value other than `accepted`, `tentative`, `rejected` or `declined`; `guests` not a whole
    /// number from 0 to 10; `comment` not a string, over 500 characters or holding a forbidden
    /// character.
    pub fn try_into_domain(self) -> Result<Reply, ValidationErrors> {
        const FIELD: &str = "status";
        let mut errors = ValidationErrors::default();
        let parsed = match self.status {
            None | Some(Value::Null) => Err(required(FIELD)),
            Some(Value::String(s)) if s.is_empty() => Err(required(FIELD)),
            Some(Value::String(s)) => Answer::parse(&s).ok_or_else(|| selected_invalid(FIELD)),
            Some(_) => Err(selected_invalid(FIELD)),
        };
        let answer = errors.take(FIELD, parsed);
        let guests = errors.take("guests", crate::api::events::requests::guests(self.guests));
        let comment = errors.take(
            "comment",
            optional_non_blank("comment", self.comment).and_then(|raw| {
                raw.map(|raw| {
                    Text::parse(&raw, Invitation::COMMENT_MAX, true)
                        .map_err(|e| text_error("comment", e))
                })
                .transpose()
            }),
        );
        match (answer, guests, comment) {
            (Some(answer), Some(guests), Some(comment)) if errors.is_empty() => Ok(Reply {
                answer,
                guests: guests.unwrap_or(0),
                comment,
            }),
            _ => Err(errors),
        }
    }
}

/// The `status` filter as documented: `all` or one status.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilterParam {
    /// Every invitation (the default).
    All,
    /// Not answered yet.
    Pending,
    /// "Maybe".
    Tentative,
    /// Accepted.
    Accepted,
    /// Waiting for a seat.
    Waitlisted,
    /// Rejected.
    Rejected,
    /// Cancelled by the sender, the event's owner or a co-host.
    Cancelled,
    /// Past its `expires_at` while pending or "maybe".
    Expired,
}

/// Reads `status`: `all` by default, or one status.
fn parse_status(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> StatusFilter {
    given(query, "status")
        .and_then(|raw| {
            errors.take(
                "status",
                StatusFilter::parse(raw).ok_or_else(|| selected_invalid("status")),
            )
        })
        .unwrap_or_default()
}

/// The spelling a cursor binds for a status filter.
fn status_key(status: StatusFilter) -> &'static str {
    status.status().map_or("all", InvitationStatus::as_str)
}

/// `status`, `limit` and `cursor` of an event's own invitations
/// (`GET /api/v1/events/{event_id}/invitations`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventInvitationListQuery {
    /// Only invitations with this status (as of now); `all` by default.
    #[param(value_type = Option<StatusFilterParam>, default = "all")]
    status: StatusFilter,
    /// How many items to return, 1 to 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 50)]
    limit: Limit,
    /// The `meta.next_cursor` of the previous page, passed back unchanged; omit it for the first
    /// page. Valid only for the caller, list and filters it was issued for.
    #[param(value_type = Option<String>, example = "AgGiF5f0fHTVp-vhrMFmF4HRrCnRPQ6bueSzhvEn-DUQ")]
    cursor: Option<Cursor>,
}

impl EventInvitationListQuery {
    /// The filter to ask the domain for.
    pub fn filter(self) -> InvitationFilter {
        InvitationFilter {
            status: self.status,
            event_id: None,
        }
    }

    /// The view of `event`'s list whose cursors are valid here: `user`'s, under this query's
    /// `status` (docs/api.md, "Pagination").
    pub fn cursors(
        &self,
        key: &CursorKey,
        user: UserId,
        list: &'static str,
        event: EventId,
    ) -> CursorScope {
        key.scope(user, list)
            .filter("event_id", &event.to_string())
            .filter("status", status_key(self.status))
    }

    /// The page to ask the domain for, once `cursors` is found to have issued the cursor.
    ///
    /// # Errors
    /// A 422 on `cursor` when it did not.
    pub fn page_request(&self, cursors: &CursorScope) -> Result<PageRequest, ApiError> {
        cursors.page_request(self.limit, self.cursor.as_ref())
    }

    fn parse(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> Self {
        let status = parse_status(query, errors);
        let page = PageQuery::parse(query, errors);
        Self {
            status,
            limit: page.limit(),
            cursor: page.cursor().copied(),
        }
    }
}

impl FromRequest for EventInvitationListQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req, Self::parse))
    }
}

/// `status`, `event_id`, `limit` and `cursor` of the invitation lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationListQuery {
    /// Only invitations with this status (as of now); `all` by default.
    #[param(value_type = Option<StatusFilterParam>, default = "all")]
    status: StatusFilter,
    /// Only invitations to this event.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    event_id: Option<EventId>,
    /// How many items to return, 1 to 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 50)]
    limit: Limit,
    /// The `meta.next_cursor` of the previous page, passed back unchanged; omit it for the first
    /// page. Valid only for the caller, list and filters it was issued for.
    #[param(value_type = Option<String>, example = "AgGiF5f0fHTVp-vhrMFmF4HRrCnRPQ6bueSzhvEn-DUQ")]
    cursor: Option<Cursor>,
}

impl InvitationListQuery {
    /// The filter to ask the domain for.
    pub fn filter(self) -> InvitationFilter {
        InvitationFilter {
            status: self.status,
            event_id: self.event_id,
        }
    }

    /// The view of the list named `list` whose cursors are valid here: `user`'s, under this
    /// query's `status` and `event_id` (docs/api.md, "Pagination").
    pub fn cursors(&self, key: &CursorKey, user: UserId, list: &'static str) -> CursorScope {
        let status = status_key(self.status);
        let event_id = self.event_id.map(|id| id.to_string()).unwrap_or_default();
        key.scope(user, list)
            .filter("status", status)
            .filter("event_id", &event_id)
    }

    /// The page to ask the domain for, once `cursors` (see [`InvitationListQuery::cursors`]) is
    /// found to have issued the cursor.
    ///
    /// # Errors
    /// A 422 on `cursor` when it did not.
    pub fn page_request(&self, cursors: &CursorScope) -> Result<PageRequest, ApiError> {
        cursors.page_request(self.limit, self.cursor.as_ref())
    }

    fn parse(query: &HashMap<String, String>, errors: &mut ValidationErrors) -> Self {
        let status = parse_status(query, errors);
        let event_id = given(query, "event_id").and_then(|raw| {
            let parsed = raw
                .parse::<EventId>()
                .map_err(|_| crate::t!("event-id-invalid"));
            errors.take("event_id", parsed)
        });
        let page = PageQuery::parse(query, errors);
        Self {
            status,
            event_id,
            limit: page.limit(),
            cursor: page.cursor().copied(),
        }
    }
}

impl FromRequest for InvitationListQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req, Self::parse))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use domain::InvitationStatus;
    use serde_json::json;

    use super::*;
    use crate::validation::test_support::{body, errors_json};

    fn invitations(query: &str) -> Result<InvitationListQuery, ValidationErrors> {
        let req = TestRequest::with_uri(&format!("/?{query}")).to_http_request();
        parse_query(&req, InvitationListQuery::parse).map_err(|error| match error {
            ApiError::Validation(errors) => errors,
            other => panic!("{other:?}"),
        })
    }

    fn command(value: Value) -> Result<SendInvitations, ValidationErrors> {
        body::<SendInvitationsRequest>(value)
            .try_into_domain(PhoneRegion::default(), EventId::generate())
    }

    fn send(value: Value) -> Result<InvitationEntries, ValidationErrors> {
        command(value).map(|command| command.entries)
    }

    fn message(value: Value) -> Result<Option<String>, ValidationErrors> {
        command(json!({"invitations": ["a@b.io"], "message": value}))
            .map(|command| command.message.map(Text::into_string))
    }

    #[test]
    fn the_note_is_trimmed_and_blank_means_none() {
        assert_eq!(
            message(json!("  See you there!\nBring snacks.  ")),
            Ok(Some("See you there!\nBring snacks.".to_owned()))
        );
        for none in [json!(null), json!(""), json!("   \n\t ")] {
            assert_eq!(message(none.clone()), Ok(None), "{none}");
        }
        let without = command(json!({"invitations": ["a@b.io"]})).unwrap();
        assert_eq!(without.message, None);
        let longest = "é".repeat(500);
        assert_eq!(message(json!(longest)), Ok(Some(longest.clone())));
    }

    #[test]
    fn a_note_too_long_not_a_string_or_with_hidden_characters_is_a_422_under_message() {
        let refused = |value: Value| {
            message(value)
                .unwrap_err()
                .get("message")
                .map(<[String]>::to_vec)
        };
        assert_eq!(
            refused(json!("x".repeat(501))),
            Some(vec![
                "The message must not be greater than 500 characters.".to_owned()
            ])
        );
        assert_eq!(
            refused(json!(42)),
            Some(vec!["The message must be a string.".to_owned()])
        );
        for hidden in ["a\u{202E}b", "a\u{200B}b", "a\u{0007}b", "a\u{FEFF}b"] {
            assert_eq!(
                refused(json!(hidden)),
                Some(vec![
                    "The message must not contain control characters.".to_owned()
                ]),
                "{hidden:?}"
            );
        }
    }

    #[test]
    fn a_bad_note_and_bad_entries_are_reported_together() {
        let errors = command(json!({"invitations": [], "message": 1})).unwrap_err();
        assert_eq!(
            errors.get("invitations"),
            Some(&["The invitations field is required.".to_owned()][..])
        );
        assert_eq!(
            errors.get("message"),
            Some(&["The message must be a string.".to_owned()][..])
        );
    }

    fn event_invitations(query: &str) -> Result<EventInvitationListQuery, ValidationErrors> {
        let req = TestRequest::with_uri(&format!("/?{query}")).to_http_request();
        parse_query(&req, EventInvitationListQuery::parse).map_err(|error| match error {
            ApiError::Validation(errors) => errors,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn every_status_of_the_lifecycle_filters_every_list() {
        for status in [
            InvitationStatus::Pending,
            InvitationStatus::Accepted,
            InvitationStatus::Rejected,
            InvitationStatus::Cancelled,
            InvitationStatus::Expired,
        ] {
            let query = format!("status={status}");
            assert_eq!(
                invitations(&query).unwrap().filter().status.status(),
                Some(status)
            );
            assert_eq!(
                event_invitations(&query).unwrap().filter().status.status(),
                Some(status)
            );
        }
        assert_eq!(
            event_invitations("status=gone").unwrap_err().get("status"),
            Some(&["The selected status is invalid.".to_owned()][..])
        );
        assert_eq!(
            event_invitations("").unwrap().filter(),
            InvitationFilter::default()
        );
    }

    #[test]
    fn an_event_list_cursor_is_bound_to_its_event_and_status() {
        let key = CursorKey::new(&[3; 32]).unwrap();
        let (ann, event) = (UserId::generate(), EventId::generate());
        let pending = event_invitations("status=pending").unwrap();
        let scope = pending.cursors(&key, ann, "event-invitations", event);
        let cursor = scope.issue(uuid::Uuid::now_v7()).encode();
        let again = event_invitations(&format!("status=pending&cursor={cursor}")).unwrap();
        assert!(again
            .page_request(&again.cursors(&key, ann, "event-invitations", event))
            .is_ok());
        let elsewhere = again.cursors(&key, ann, "event-invitations", EventId::generate());
        assert!(again.page_request(&elsewhere).is_err());
        let all = event_invitations(&format!("cursor={cursor}")).unwrap();
        assert!(all
            .page_request(&all.cursors(&key, ann, "event-invitations", event))
            .is_err());
    }

    #[test]
    fn the_seed_example_is_a_valid_send_body() {
        let entries = send(json!({
            "invitations": ["", "09352864812", "", "09303030300", "09332114546", "09332131456", "", ""]
        }))
        .unwrap();
        assert_eq!(entries.len(), 4);
    }

    #[test]
    fn send_bodies_are_refused_like_laravel_would() {
        let cases = [
            (
                json!({}),
                "invitations",
                "The invitations field is required.",
            ),
            (
                json!({"invitations": null}),
                "invitations",
                "The invitations field is required.",
            ),
            (
                json!({"invitations": "x"}),
                "invitations",
                "The invitations must be an array.",
            ),
            (
                json!({"invitations": {"0": "x"}}),
                "invitations",
                "The invitations must be an array.",
            ),
            (
                json!({"invitations": []}),
                "invitations",
                "The invitations field is required.",
            ),
            (
                json!({"invitations": ["", "  "]}),
                "invitations",
                "The invitations field is required.",
            ),
            (
                json!({"invitations": ["a@b.io", 1]}),
                "invitations.1",
                "The invitations.1 must be a string.",
            ),
        ];
        for (value, field, message) in cases {
            let errors = send(value.clone()).unwrap_err();
            assert_eq!(
                errors.get(field),
                Some(&[message.to_owned()][..]),
                "{value}"
            );
            assert_eq!(errors.message(), message, "{value}");
        }
        let too_many = vec!["09352864812"; 1001];
        let errors = send(json!({ "invitations": too_many })).unwrap_err();
        assert_eq!(
            errors.message(),
            "The invitations must not have more than 1000 items."
        );
    }

    #[test]
    fn every_non_string_entry_is_named() {
        let errors = send(json!({"invitations": [1, "a@b.io", null]})).unwrap_err();
        assert_eq!(
            errors_json(errors),
            json!({
                "message": "The invitations.0 must be a string. (and 1 more error)",
                "errors": {
                    "invitations.0": ["The invitations.0 must be a string."],
                    "invitations.2": ["The invitations.2 must be a string."]
                }
            })
        );
    }

    #[test]
    fn an_answer_is_accepted_or_rejected_only() {
        let answer = |value: Value| body::<AnswerInvitationRequest>(value).try_into_domain();
        assert_eq!(
            answer(json!({"status": "accepted"})),
            Ok(Reply::of(Answer::Accept))
        );
        assert_eq!(
            answer(json!({"status": "rejected"})),
            Ok(Reply::of(Answer::Reject))
        );
        assert_eq!(
            answer(json!({"status": "declined"})),
            Ok(Reply::of(Answer::Reject))
        );
        assert_eq!(
            answer(json!({"status": "tentative", "guests": 2, "comment": " Maybe! "})),
            Ok(Reply {
                answer: Answer::Tentative,
                guests: 2,
                comment: Some(Text::parse("Maybe!", 500, true).unwrap()),
            })
        );
        let errors = answer(json!({"status": "accepted", "guests": 11, "comment": 5})).unwrap_err();
        assert_eq!(
            errors.get("guests"),
            Some(&["The guests must be between 0 and 10.".to_owned()][..])
        );
        assert_eq!(
            errors.get("comment"),
            Some(&["The comment must be a string.".to_owned()][..])
        );
        assert!(answer(json!({"status": "accepted", "guests": 1.5})).is_err());
        assert!(answer(json!({"status": "accepted", "guests": -1})).is_err());
        for value in [json!({}), json!({"status": null}), json!({"status": ""})] {
            assert_eq!(
                answer(value).unwrap_err().message(),
                "The status field is required."
            );
        }
        for value in [
            json!({"status": "pending"}),
            json!({"status": "Accepted"}),
            json!({"status": 1}),
        ] {
            assert_eq!(
                answer(value).unwrap_err().message(),
                "The selected status is invalid."
            );
        }
    }

    #[test]
    fn every_bad_parameter_is_reported_at_once() {
        let errors = invitations("status=maybe&event_id=12&limit=0&cursor=zz").unwrap_err();
        assert_eq!(
            errors.get("status"),
            Some(&["The selected status is invalid.".to_owned()][..])
        );
        assert_eq!(
            errors.get("event_id"),
            Some(&["The event id must be a valid UUID.".to_owned()][..])
        );
        assert!(errors.get("limit").is_some());
        assert_eq!(
            errors.get("cursor"),
            Some(&["The cursor is invalid.".to_owned()][..])
        );
    }

    #[test]
    fn status_defaults_to_all_and_reads_each_status() {
        assert_eq!(
            invitations("").unwrap().filter(),
            InvitationFilter::default()
        );
        let query = invitations("status=accepted").unwrap();
        assert_eq!(
            query.filter().status.status(),
            Some(InvitationStatus::Accepted)
        );
        let id = EventId::generate();
        assert_eq!(
            invitations(&format!("event_id={id}"))
                .unwrap()
                .filter()
                .event_id,
            Some(id)
        );
    }
}
