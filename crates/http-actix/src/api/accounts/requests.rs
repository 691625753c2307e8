//! Request bodies of the accounts area and their conversion into the domain's commands (parse,
//! don't validate).
//!
//! Every field is read as a loose JSON value so that a wrong type is a 422 naming the field, as in
//! Laravel, rather than a 400 for the whole body. Each conversion reports every field error at once.

use domain::accounts::codes::OneTimeCode;
use domain::accounts::{Channel, Locale, LoginCommand, RegisterCommand, User};
use domain::{Email, Login, Mobile, Password, PhoneRegion, Text};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::validation::{
    invalid_email, invalid_mobile, optional_non_blank, password_error, required, required_string,
    selected_invalid, text_error, ValidationErrors,
};

/// `POST /api/v1/register`: a name, an email and/or a mobile, and a password.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Ann", "email": "ann@example.com", "mobile": "09352864812", "password": "correct horse"}))]
pub struct RegisterRequest {
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    name: Option<Value>,
    #[schema(schema_with = email_schema)]
    email: Option<Value>,
    /// Mobile, national (read in the server's region) or international; required when `email`
    /// is not given. Unique after normalization.
    #[schema(value_type = Option<String>)]
    mobile: Option<Value>,
    /// 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128, format = Password)]
    password: Option<Value>,
    /// The language messages to the account are written in: `en` or `fa`. Without it, the
    /// request's `Accept-Language` decides, else `en`.
    #[schema(value_type = Option<String>, example = "fa")]
    locale: Option<Value>,
}

fn email_schema() -> utoipa::openapi::schema::Schema {
    crate::schema::optional_email(
        "Email; required when `mobile` is not given. Unique, compared case-insensitively.",
    )
}

impl RegisterRequest {
    /// Parses every field, reading national mobiles in `region`.
    ///
    /// # Errors
    /// Every invalid field, with Laravel's messages.
    pub fn try_into_domain(self, region: PhoneRegion) -> Result<RegisterCommand, ValidationErrors> {
        self.try_into_domain_in(region, None)
    }

    /// As [`RegisterRequest::try_into_domain`], with the locale the request's `Accept-Language`
    /// names as the default.
    ///
    /// # Errors
    /// Every invalid field, with Laravel's messages.
    pub fn try_into_domain_in(
        self,
        region: PhoneRegion,
        accepted: Option<Locale>,
    ) -> Result<RegisterCommand, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.take(
            "name",
            required_string("name", self.name).and_then(|raw| {
                Text::parse(&raw, User::NAME_MAX, false).map_err(|e| text_error("name", e))
            }),
        );
        let email = errors.take(
            "email",
            optional_non_blank("email", self.email).and_then(|raw| {
                raw.map(|raw| Email::parse(&raw).map_err(|_| invalid_email("email")))
                    .transpose()
            }),
        );
        let mobile = errors.take(
            "mobile",
            optional_non_blank("mobile", self.mobile).and_then(|raw| {
                raw.map(|raw| Mobile::parse(&raw, region).map_err(|_| invalid_mobile("mobile")))
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
                .and_then(|raw| Password::parse(raw).map_err(|e| password_error("password", e))),
        );
        let locale = errors.take(
            "locale",
            optional_non_blank("locale", self.locale).and_then(|raw| {
                raw.map(|raw| {
                    matches!(raw.as_str(), "en" | "fa")
                        .then(|| Locale::parse(&raw))
                        .flatten()
                        .ok_or_else(|| selected_invalid("locale"))
                })
                .transpose()
            }),
        );
        match (name, email, mobile, password, locale) {
            (Some(name), Some(email), Some(mobile), Some(password), Some(locale))
                if errors.is_empty() =>
            {
                Ok(RegisterCommand {
                    name,
                    email,
                    mobile,
                    password: Some(password),
                    locale: locale.or(accepted).unwrap_or_default(),
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
    /// The account's email or mobile. Required unless `email` or `mobile` is given; the first
    /// given of the three is used, and `null` or blank text counts as not given.
    #[schema(value_type = Option<String>)]
    login: Option<Value>,
    /// The account's email, as an alternative to `login`. Not checked as an address: a login
    /// that names no account fails like a wrong password.
    #[schema(value_type = Option<String>)]
    email: Option<Value>,
    /// The account's mobile, as an alternative to `login`.
    #[schema(value_type = Option<String>)]
    mobile: Option<Value>,
    /// The password.
    #[schema(value_type = String, required = true, min_length = 1, format = Password)]
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
        // Each of the three is checked, not just the one used: a number or an object anywhere is a
        // 422, and null or blank text counts as not given (docs/api.md, "Accounts").
        let given: Vec<(&str, Option<String>)> = [
            ("login", self.login),
            ("email", self.email),
            ("mobile", self.mobile),
        ]
        .into_iter()
        .filter_map(|(field, value)| {
            errors
                .take(field, optional_non_blank(field, value))
                .map(|text| (field, text))
        })
        .collect();
        let login = given.into_iter().find_map(|(_, text)| text);
        if login.is_none() && errors.is_empty() {
            errors.add("login", required("login"));
        }
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

/// `POST /api/v1/me/verifications`: which contact to send a code to.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"channel": "email"}))]
pub struct SendCodeRequest {
    /// `email` or `mobile`: the account's contact of that kind that is not proven yet (a pending
    /// replacement first).
    #[schema(value_type = String, required = true, example = "email")]
    channel: Option<Value>,
}

impl SendCodeRequest {
    /// The channel.
    ///
    /// # Errors
    /// A missing or unknown channel.
    pub fn try_into_domain(self) -> Result<Channel, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let channel = errors.take("channel", channel(self.channel));
        channel.filter(|_| errors.is_empty()).ok_or(errors)
    }
}

/// `POST /api/v1/me/verifications/confirm`: the code received.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"channel": "email", "code": "492031"}))]
pub struct ConfirmCodeRequest {
    /// `email` or `mobile`: the channel the code was sent to.
    #[schema(value_type = String, required = true, example = "email")]
    channel: Option<Value>,
    /// The 6 digits received (Persian and Arabic-Indic digits are read as ASCII ones).
    #[schema(value_type = String, required = true, example = "492031")]
    code: Option<Value>,
}

impl ConfirmCodeRequest {
    /// The channel and the code.
    ///
    /// # Errors
    /// Every invalid field.
    pub fn try_into_domain(self) -> Result<(Channel, OneTimeCode), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let channel = errors.take("channel", channel(self.channel));
        let code = errors.take(
            "code",
            required_string("code", self.code).and_then(|raw| {
                OneTimeCode::parse(&raw).map_err(|_| "The code must be 6 digits.".to_owned())
            }),
        );
        match (channel, code) {
            (Some(channel), Some(code)) if errors.is_empty() => Ok((channel, code)),
            _ => Err(errors),
        }
    }
}

fn channel(value: Option<Value>) -> Result<Channel, String> {
    required_string("channel", value)
        .and_then(|raw| Channel::parse(&raw).ok_or_else(|| selected_invalid("channel")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::validation::test_support::{body, errors_json};

    fn register(value: Value) -> Result<RegisterCommand, ValidationErrors> {
        body::<RegisterRequest>(value).try_into_domain(PhoneRegion::default())
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
    fn each_registration_field_error_has_its_own_sentence() {
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
    fn a_registration_locale_is_en_or_fa_and_defaults_to_accept_language() {
        let base = json!({"name": "A", "email": "a@b.io", "password": "12345678"});
        let with = |locale: Value| {
            let mut value = base.clone();
            value["locale"] = locale;
            body::<RegisterRequest>(value)
                .try_into_domain_in(PhoneRegion::default(), Some(Locale::Fa))
        };
        assert_eq!(with(json!("en")).unwrap().locale, Locale::En);
        assert_eq!(with(Value::Null).unwrap().locale, Locale::Fa);
        assert_eq!(
            with(json!("de")).unwrap_err().get("locale"),
            Some(&["The selected locale is invalid.".to_owned()][..])
        );
    }

    #[test]
    fn a_code_is_six_digits_in_any_script_and_a_channel_email_or_mobile() {
        let (channel, code) =
            body::<ConfirmCodeRequest>(json!({"channel": "mobile", "code": "۱۲۳۴۵۶"}))
                .try_into_domain()
                .unwrap();
        assert_eq!((channel, code.expose()), (Channel::Mobile, "123456"));
        let errors = body::<ConfirmCodeRequest>(json!({"channel": "fax", "code": "12345"}))
            .try_into_domain()
            .unwrap_err();
        assert_eq!(
            errors_json(errors)["errors"],
            json!({"channel": ["The selected channel is invalid."], "code": ["The code must be 6 digits."]})
        );
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
    fn every_login_field_is_type_checked_even_beside_the_one_used() {
        let errors = body::<LoginRequest>(
            json!({"login": "ann@example.com", "mobile": {}, "password": "x"}),
        )
        .try_into_domain(PhoneRegion::default())
        .unwrap_err();
        assert_eq!(
            errors_json(errors)["errors"],
            json!({"mobile": ["The mobile must be a string."]})
        );
    }

    #[test]
    fn null_or_blank_login_fields_count_as_not_given() {
        let command = body::<LoginRequest>(
            json!({"login": null, "email": "  ", "mobile": "09352864812", "password": "x"}),
        )
        .try_into_domain(PhoneRegion::default())
        .unwrap();
        assert!(matches!(command.login, Some(Login::Mobile(_))));
        let errors = body::<LoginRequest>(json!({"login": null, "password": "x"}))
            .try_into_domain(PhoneRegion::default())
            .unwrap_err();
        assert_eq!(
            errors.get("login"),
            Some(&["The login field is required.".to_owned()][..])
        );
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
}
