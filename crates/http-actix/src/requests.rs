//! Request bodies and their conversion into the domain's commands (parse, don't validate).
//!
//! Every field is read as a loose JSON value so that a wrong type is a 422 naming the field, as in
//! Laravel, rather than a 400 for the whole body. Each conversion reports every field error at once.

use chrono::{DateTime, Utc};
use domain::services::{LoginCommand, RegisterCommand};
use domain::{
    Answer, Email, EventDetails, InvitationEntries, InvitationEntriesError, Login, Mobile,
    Password, PhoneRegion, Text,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::validation::{
    attribute, optional_non_blank, optional_string, required, required_string, selected_invalid,
    ValidationErrors,
};

/// `POST /api/v1/register`: a name, an email and/or a mobile, and a password.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Ann", "email": "ann@example.com", "mobile": "09352864812", "password": "correct horse"}))]
pub struct RegisterRequest {
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    name: Option<Value>,
    /// Email; required when `mobile` is not given. Unique, compared case-insensitively.
    #[schema(value_type = Option<String>, format = Email)]
    email: Option<Value>,
    /// Mobile, national (read in the server's region) or international; required when `email`
    /// is not given. Unique after normalization.
    #[schema(value_type = Option<String>)]
    mobile: Option<Value>,
    /// 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128, format = Password)]
    password: Option<Value>,
}

impl RegisterRequest {
    /// Parses every field, reading national mobiles in `region`.
    ///
    /// # Errors
    /// Every invalid field, with Laravel's messages.
    pub fn try_into_domain(self, region: PhoneRegion) -> Result<RegisterCommand, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.take(
            "name",
            required_string("name", self.name)
                .and_then(|raw| Text::parse("name", &raw, 100, false).map_err(|e| e.to_string())),
        );
        let email = errors.take(
            "email",
            optional_non_blank("email", self.email).and_then(|raw| {
                raw.map(|raw| Email::parse(&raw).map_err(|e| e.to_string()))
                    .transpose()
            }),
        );
        let mobile = errors.take(
            "mobile",
            optional_non_blank("mobile", self.mobile).and_then(|raw| {
                raw.map(|raw| Mobile::parse(&raw, region).map_err(|e| e.to_string()))
                    .transpose()
            }),
        );
        if let (Some(None), Some(None)) = (&email, &mobile) {
            errors.add(
                "email",
                "The email field is required when mobile is not present.",
            );
            errors.add(
                "mobile",
                "The mobile field is required when email is not present.",
            );
        }
        let password = errors.take(
            "password",
            required_string("password", self.password)
                .and_then(|raw| Password::parse(raw).map_err(|e| e.to_string())),
        );
        match (name, email, mobile, password) {
            (Some(name), Some(email), Some(mobile), Some(password)) if errors.is_empty() => {
                Ok(RegisterCommand {
                    name,
                    email,
                    mobile,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

/// `POST /api/v1/login`: an email or mobile (as `login`, `email` or `mobile`) and the password.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"login": "09352864812", "password": "correct horse"}))]
pub struct LoginRequest {
    /// The account's email or mobile. Required unless `email` or `mobile` is given.
    #[schema(value_type = Option<String>)]
    login: Option<Value>,
    /// The account's email, as an alternative to `login`.
    #[schema(value_type = Option<String>, format = Email)]
    email: Option<Value>,
    /// The account's mobile, as an alternative to `login`.
    #[schema(value_type = Option<String>)]
    mobile: Option<Value>,
    /// The password.
    #[schema(value_type = String, required = true, format = Password)]
    password: Option<Value>,
}

impl LoginRequest {
    /// Parses the fields. A login that is neither an email nor a mobile is not a validation error:
    /// it fails like a wrong password, so that the answer does not tell which part was wrong.
    ///
    /// # Errors
    /// The login or password missing, or not strings.
    pub fn try_into_domain(self, region: PhoneRegion) -> Result<LoginCommand, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let (field, value) = [
            ("login", self.login),
            ("email", self.email),
            ("mobile", self.mobile),
        ]
        .into_iter()
        .find(|(_, value)| !matches!(value, None | Some(Value::Null)))
        .unwrap_or(("login", None));
        let login = errors.take(field, required_string(field, value));
        let password = errors.take("password", required_string("password", self.password));
        match (login, password) {
            (Some(login), Some(password)) if errors.is_empty() => Ok(LoginCommand {
                login: Login::parse(&login, region),
                password: Password::unchecked(password),
            }),
            _ => Err(errors),
        }
    }
}

/// `POST /api/v1/events`: a title, and optionally a description, a place and times.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Launch party",
    "description": "Drinks on the roof.",
    "location": "Tehran",
    "starts_at": "2026-12-01T18:00:00Z",
    "ends_at": "2026-12-01T23:00:00Z"
}))]
pub struct CreateEventRequest {
    /// 1 to 200 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    title: Option<Value>,
    /// Up to 5,000 characters; line breaks allowed.
    #[schema(value_type = Option<String>, max_length = 5000)]
    description: Option<Value>,
    /// Up to 300 characters.
    #[schema(value_type = Option<String>, max_length = 300)]
    location: Option<Value>,
    /// RFC 3339 date-time.
    #[schema(value_type = Option<DateTime<Utc>>)]
    starts_at: Option<Value>,
    /// RFC 3339 date-time, not before `starts_at`.
    #[schema(value_type = Option<DateTime<Utc>>)]
    ends_at: Option<Value>,
}

impl CreateEventRequest {
    /// Parses every field.
    ///
    /// # Errors
    /// Every invalid field; `ends_at` before `starts_at` is reported under `ends_at`.
    pub fn try_into_domain(self) -> Result<EventDetails, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = errors.take(
            "title",
            required_string("title", self.title).and_then(|raw| {
                Text::parse("title", &raw, EventDetails::TITLE_MAX, false)
                    .map_err(|e| e.to_string())
            }),
        );
        let description = errors.take(
            "description",
            optional_text(
                "description",
                self.description,
                EventDetails::DESCRIPTION_MAX,
                true,
            ),
        );
        let location = errors.take(
            "location",
            optional_text("location", self.location, EventDetails::LOCATION_MAX, false),
        );
        let starts_at = errors.take("starts_at", optional_date("starts_at", self.starts_at));
        let ends_at = errors.take("ends_at", optional_date("ends_at", self.ends_at));
        match (title, description, location, starts_at, ends_at) {
            (Some(title), Some(description), Some(location), Some(starts_at), Some(ends_at))
                if errors.is_empty() =>
            {
                EventDetails::new(title, description, location, starts_at, ends_at)
                    .map_err(|e| ValidationErrors::single("ends_at", e.to_string()))
            }
            _ => Err(errors),
        }
    }
}

fn optional_text(
    field: &'static str,
    value: Option<Value>,
    max: usize,
    multiline: bool,
) -> Result<Option<Text>, String> {
    optional_non_blank(field, value)?
        .map(|raw| Text::parse(field, &raw, max, multiline).map_err(|e| e.to_string()))
        .transpose()
}

fn optional_date(field: &str, value: Option<Value>) -> Result<Option<DateTime<Utc>>, String> {
    let invalid = || format!("The {} must be a valid date.", attribute(field));
    optional_string(field, value)
        .map_err(|_| invalid())?
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw.trim())
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| invalid())
        })
        .transpose()
}

/// `POST /api/v1/{event_id}/send-invitations`: the emails and mobiles to invite; blanks are skipped.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "invitations": ["", "09352864812", "", "09303030300", "09332114546", "09332131456", "", ""]
}))]
pub struct SendInvitationsRequest {
    /// Emails (entries with `@`) and mobiles, at most 1,000 entries, at least one not blank.
    #[schema(value_type = Vec<String>, required = true, max_items = 1000)]
    invitations: Option<Value>,
}

impl SendInvitationsRequest {
    /// Parses the entries, reading national mobiles in `region`. Entries that are neither an
    /// email nor a mobile are not errors: the send reports them as ignored.
    ///
    /// # Errors
    /// `invitations` missing, not an array, holding a non-string (reported as `invitations.N`),
    /// with no entry that is not blank, or over 1,000 entries.
    pub fn try_into_domain(
        self,
        region: PhoneRegion,
    ) -> Result<InvitationEntries, ValidationErrors> {
        const FIELD: &str = "invitations";
        let items = match self.invitations {
            None | Some(Value::Null) => {
                return Err(ValidationErrors::single(FIELD, required(FIELD)))
            }
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(ValidationErrors::single(
                    FIELD,
                    "The invitations must be an array.",
                ))
            }
        };
        if items.len() > InvitationEntries::MAX {
            return Err(ValidationErrors::single(
                FIELD,
                InvitationEntriesError::TooMany.to_string(),
            ));
        }
        let mut errors = ValidationErrors::default();
        let mut entries = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            match item {
                Value::String(entry) => entries.push(entry),
                _ => errors.add(
                    format!("{FIELD}.{index}"),
                    format!("The {FIELD}.{index} must be a string."),
                ),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        InvitationEntries::parse(&entries, region)
            .map_err(|e| ValidationErrors::single(FIELD, e.to_string()))
    }
}

/// `PATCH /api/v1/invitations/{invitation_id}`: the invitee's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "accepted"}))]
pub struct AnswerInvitationRequest {
    /// `accepted` or `rejected`.
    #[schema(value_type = AnswerStatus, required = true)]
    status: Option<Value>,
}

/// The two answers an invitee may give.
#[derive(Clone, Copy, Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum AnswerStatus {
    /// Join the event.
    Accepted,
    /// Decline it.
    Rejected,
}

impl AnswerInvitationRequest {
    /// Parses the answer.
    ///
    /// # Errors
    /// "The status field is required." when missing, "The selected status is invalid." for any
    /// value other than `accepted` or `rejected`.
    pub fn try_into_domain(self) -> Result<Answer, ValidationErrors> {
        const FIELD: &str = "status";
        let parsed = match self.status {
            None | Some(Value::Null) => Err(required(FIELD)),
            Some(Value::String(s)) if s.is_empty() => Err(required(FIELD)),
            Some(Value::String(s)) => Answer::parse(&s).ok_or_else(|| selected_invalid(FIELD)),
            Some(_) => Err(selected_invalid(FIELD)),
        };
        parsed.map_err(|message| ValidationErrors::single(FIELD, message))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body<T: serde::de::DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    fn register(value: Value) -> Result<RegisterCommand, ValidationErrors> {
        body::<RegisterRequest>(value).try_into_domain(PhoneRegion::default())
    }

    fn errors_json(errors: ValidationErrors) -> Value {
        json!({"message": errors.message(), "errors": errors})
    }

    #[test]
    fn a_valid_registration_becomes_a_command_with_normalized_contacts() {
        let command = register(json!({
            "name": " Ann ", "email": "Ann@Example.com", "mobile": "09352864812", "password": "12345678"
        }))
        .unwrap();
        assert_eq!(command.name.as_str(), "Ann");
        assert_eq!(command.email.unwrap().as_str(), "ann@example.com");
        assert_eq!(command.mobile.unwrap().as_str(), "+989352864812");
    }

    #[test]
    fn an_empty_registration_reports_every_missing_field() {
        let errors = register(json!({})).unwrap_err();
        assert_eq!(
            errors_json(errors),
            json!({
                "message": "The name field is required. (and 3 more errors)",
                "errors": {
                    "name": ["The name field is required."],
                    "email": ["The email field is required when mobile is not present."],
                    "mobile": ["The mobile field is required when email is not present."],
                    "password": ["The password field is required."]
                }
            })
        );
    }

    #[test]
    fn registration_fields_use_the_domain_messages() {
        let errors = register(json!({
            "name": "x".repeat(101), "email": "nope", "mobile": "12", "password": "short"
        }))
        .unwrap_err();
        assert_eq!(
            errors_json(errors)["errors"],
            json!({
                "name": ["The name must not be greater than 100 characters."],
                "email": ["The email must be a valid email address."],
                "mobile": ["The mobile must be a valid phone number."],
                "password": ["The password must be at least 8 characters."]
            })
        );
    }

    #[test]
    fn registration_fields_of_the_wrong_type_are_422s_not_400s() {
        let errors =
            register(json!({"name": 5, "email": ["a"], "password": 12345678})).unwrap_err();
        assert_eq!(
            errors.get("name"),
            Some(&["The name must be a string.".to_owned()][..])
        );
        assert_eq!(
            errors.get("email"),
            Some(&["The email must be a string.".to_owned()][..])
        );
        assert_eq!(
            errors.get("password"),
            Some(&["The password must be a string.".to_owned()][..])
        );
    }

    #[test]
    fn one_contact_is_enough_to_register() {
        assert!(
            register(json!({"name": "A", "mobile": "+989352864812", "password": "12345678"}))
                .is_ok()
        );
        assert!(register(
            json!({"name": "A", "email": "a@b.io", "mobile": "", "password": "12345678"})
        )
        .is_ok());
    }

    #[test]
    fn login_accepts_login_email_or_mobile() {
        let region = PhoneRegion::default();
        for key in ["login", "email", "mobile"] {
            let command = body::<LoginRequest>(json!({key: "09352864812", "password": "x"}))
                .try_into_domain(region)
                .unwrap();
            assert!(matches!(command.login, Some(Login::Mobile(_))), "{key}");
        }
        let command = body::<LoginRequest>(json!({"login": "neither", "password": "x"}))
            .try_into_domain(region)
            .unwrap();
        assert_eq!(command.login, None);
    }

    #[test]
    fn login_without_a_login_or_password_is_a_422() {
        let errors = body::<LoginRequest>(json!({}))
            .try_into_domain(PhoneRegion::default())
            .unwrap_err();
        assert_eq!(
            errors_json(errors),
            json!({
                "message": "The login field is required. (and 1 more error)",
                "errors": {
                    "login": ["The login field is required."],
                    "password": ["The password field is required."]
                }
            })
        );
    }

    fn event(value: Value) -> Result<EventDetails, ValidationErrors> {
        body::<CreateEventRequest>(value).try_into_domain()
    }

    #[test]
    fn an_event_needs_a_title_and_valid_dates() {
        let errors =
            event(json!({"starts_at": "tomorrow", "ends_at": 5, "location": "x".repeat(301)}))
                .unwrap_err();
        assert_eq!(
            errors_json(errors)["errors"],
            json!({
                "title": ["The title field is required."],
                "location": ["The location must not be greater than 300 characters."],
                "starts_at": ["The starts at must be a valid date."],
                "ends_at": ["The ends at must be a valid date."]
            })
        );
    }

    #[test]
    fn an_event_ending_before_it_starts_is_refused_under_ends_at() {
        let errors = event(json!({
            "title": "Party", "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-01T19:00:00+02:00"
        }))
        .unwrap_err();
        assert_eq!(
            errors.get("ends_at"),
            Some(&["The ends at must be a date after or equal to starts at.".to_owned()][..])
        );
    }

    #[test]
    fn blank_optional_event_fields_are_absent() {
        let details = event(
            json!({"title": "Party", "description": "  ", "location": null, "starts_at": ""}),
        )
        .unwrap();
        assert_eq!(details.description(), None);
        assert_eq!(details.location(), None);
        assert_eq!(details.starts_at(), None);
    }

    fn send(value: Value) -> Result<InvitationEntries, ValidationErrors> {
        body::<SendInvitationsRequest>(value).try_into_domain(PhoneRegion::default())
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
        assert_eq!(answer(json!({"status": "accepted"})), Ok(Answer::Accept));
        assert_eq!(answer(json!({"status": "rejected"})), Ok(Answer::Reject));
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
}
