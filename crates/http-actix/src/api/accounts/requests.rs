//! Request bodies of the accounts area and their conversion into the domain's commands (parse,
//! don't validate).
//!
//! Every field is read as a loose JSON value so that a wrong type is a 422 naming the field, as in
//! Laravel, rather than a 400 for the whole body. Each conversion reports every field error at once.

use domain::accounts::codes::OneTimeCode;
use domain::accounts::{
    Channel, ErasureProof, Locale, LoginCommand, ProfilePatch, RegisterCommand, User,
};
use domain::{Contact, Email, Login, Mobile, Password, PhoneRegion, Text};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::validation::{
    invalid_email, invalid_mobile, optional_non_blank, password_error, required, required_string,
    selected_invalid, text_error, ValidationErrors,
};

/// `POST /api/v1/register`: a name, an email and/or a mobile, and a password (or none: the
/// account then logs in by code).
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
    /// 8 to 128 characters. Without it (or `null`) the account has no password and logs in by
    /// code (`POST /api/v1/login/code`) once a contact is proven.
    #[schema(value_type = Option<String>, min_length = 8, max_length = 128, format = Password)]
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
            errors.add("email", crate::t!("email-or-mobile-required"));
            errors.add("mobile", crate::t!("mobile-or-email-required"));
        }
        // Without a password the account logs in by code only (docs/api.md, "Your account").
        let password = errors.take(
            "password",
            // Only absent or `null` means none: any string is a password, checked as one.
            exact_string("password", self.password).and_then(|raw| {
                raw.map(|raw| Password::parse(raw).map_err(|e| password_error("password", e)))
                    .transpose()
            }),
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
                    password,
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
    /// The password. Required unless `code` is given.
    #[schema(value_type = Option<String>, min_length = 1, format = Password)]
    password: Option<Value>,
    /// A login code sent by `POST /api/v1/login/code`, instead of the password: 6 digits.
    #[schema(value_type = Option<String>, example = "492031")]
    code: Option<Value>,
}

/// A login, by password or by code.
#[derive(Debug)]
pub enum LoginAttempt {
    /// With the password.
    Password(LoginCommand),
    /// With a code sent to a proven contact.
    Code {
        /// The email or mobile (`None`: neither; fails like a wrong code).
        login: Option<Login>,
        /// The code.
        code: OneTimeCode,
    },
}

impl LoginAttempt {
    /// The login tried.
    pub fn login(&self) -> Option<&Login> {
        match self {
            Self::Password(command) => command.login.as_ref(),
            Self::Code { login, .. } => login.as_ref(),
        }
    }
}

impl LoginRequest {
    /// Parses the fields. A login that is neither an email nor a mobile is not a validation error:
    /// it fails like a wrong password, so that the answer does not tell which part was wrong.
    ///
    /// # Errors
    /// The login or password missing, or not strings.
    pub fn try_into_domain(self, region: PhoneRegion) -> Result<LoginAttempt, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let login = login_field(&mut errors, self.login, self.email, self.mobile);
        let code = errors.take("code", optional_code(self.code));
        let password = match code {
            Some(Some(_)) => None,
            _ => errors.take("password", required_string("password", self.password)),
        };
        match (login, code, password) {
            (Some(login), Some(Some(code)), _) if errors.is_empty() => Ok(LoginAttempt::Code {
                login: Login::parse(&login, region),
                code,
            }),
            (Some(login), _, Some(password)) if errors.is_empty() => {
                Ok(LoginAttempt::Password(LoginCommand {
                    login: Login::parse(&login, region),
                    password: Password::unchecked(password),
                }))
            }
            _ => Err(errors),
        }
    }
}

/// Reads `login`, `email` and `mobile`: the first given. Each of the three is checked, not just
/// the one used: a number or an object anywhere is a 422, and null or blank text counts as not
/// given (docs/api.md, "Accounts").
fn login_field(
    errors: &mut ValidationErrors,
    login: Option<Value>,
    email: Option<Value>,
    mobile: Option<Value>,
) -> Option<String> {
    let given: Vec<Option<String>> = [("login", login), ("email", email), ("mobile", mobile)]
        .into_iter()
        .filter_map(|(field, value)| errors.take(field, optional_non_blank(field, value)))
        .collect();
    let login = given.into_iter().flatten().next();
    if login.is_none() && errors.is_empty() {
        errors.add("login", required("login"));
    }
    login
}

/// An optional `code`: 6 digits in any script.
fn optional_code(value: Option<Value>) -> Result<Option<OneTimeCode>, String> {
    optional_non_blank("code", value).and_then(|raw| {
        raw.map(|raw| OneTimeCode::parse(&raw).map_err(|_| crate::t!("code-six-digits")))
            .transpose()
    })
}

/// `POST /api/v1/login/code` and `POST /api/v1/password/forgot`: where to send a code.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"login": "09352864812"}))]
pub struct CodeForLoginRequest {
    /// The account's proven email or mobile (`email` and `mobile` are accepted as well).
    #[schema(value_type = Option<String>)]
    login: Option<Value>,
    /// As `login`.
    #[schema(value_type = Option<String>)]
    email: Option<Value>,
    /// As `login`.
    #[schema(value_type = Option<String>)]
    mobile: Option<Value>,
}

impl CodeForLoginRequest {
    /// The login (`None`: neither an email nor a mobile; nothing is sent, and the answer is the
    /// same).
    ///
    /// # Errors
    /// A missing login, or one that is not a string.
    pub fn try_into_domain(self, region: PhoneRegion) -> Result<Option<Login>, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let login = login_field(&mut errors, self.login, self.email, self.mobile);
        match login {
            Some(login) if errors.is_empty() => Ok(Login::parse(&login, region)),
            _ => Err(errors),
        }
    }
}

/// `POST /api/v1/password/reset`: the login, the code it received, and the new password.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"login": "09352864812", "code": "492031", "password": "a new horse"}))]
pub struct ResetPasswordRequest {
    /// The account's proven email or mobile.
    #[schema(value_type = String, required = true)]
    login: Option<Value>,
    /// The 6 digits received.
    #[schema(value_type = String, required = true, example = "492031")]
    code: Option<Value>,
    /// The new password: 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128, format = Password)]
    password: Option<Value>,
}

impl ResetPasswordRequest {
    /// The login, code and new password.
    ///
    /// # Errors
    /// Every invalid field.
    pub fn try_into_domain(
        self,
        region: PhoneRegion,
    ) -> Result<(Option<Login>, OneTimeCode, Password), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let login = login_field(&mut errors, self.login, None, None);
        let code = errors.take(
            "code",
            optional_code(self.code).and_then(|code| code.ok_or_else(|| required("code"))),
        );
        let password = errors.take(
            "password",
            required_string("password", self.password)
                .and_then(|raw| Password::parse(raw).map_err(|e| password_error("password", e))),
        );
        match (login, code, password) {
            (Some(login), Some(code), Some(password)) if errors.is_empty() => {
                Ok((Login::parse(&login, region), code, password))
            }
            _ => Err(errors),
        }
    }
}

/// `PATCH /api/v1/me`: the fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Ann B.", "locale": "fa"}))]
pub struct ProfilePatchRequest {
    /// A new display name, 1 to 100 characters.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    name: Option<Value>,
    /// `en` or `fa`.
    #[schema(value_type = Option<String>, example = "fa")]
    locale: Option<Value>,
    /// A new password, 8 to 128 characters; needs `current_password` when the account has one.
    /// Every other token of the account is revoked.
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<Value>,
    /// The current password.
    #[schema(value_type = Option<String>, format = Password)]
    current_password: Option<Value>,
}

impl ProfilePatchRequest {
    /// The patch.
    ///
    /// # Errors
    /// Every invalid field; an empty patch.
    pub fn try_into_domain(self) -> Result<ProfilePatch, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        // A name given is a name: blank text is refused, as the schema's minLength says.
        let name = errors.take(
            "name",
            match self.name {
                None | Some(Value::Null) => Ok(None),
                Some(raw) => required_string("name", Some(raw)).and_then(|raw| {
                    Text::parse(&raw, User::NAME_MAX, false)
                        .map(Some)
                        .map_err(|e| text_error("name", e))
                }),
            },
        );
        let locale = errors.take("locale", locale_field(self.locale));
        let password = errors.take(
            "password",
            // Only absent or `null` means none: any string is a password, checked as one.
            exact_string("password", self.password).and_then(|raw| {
                raw.map(|raw| Password::parse(raw).map_err(|e| password_error("password", e)))
                    .transpose()
            }),
        );
        let current = errors.take(
            "current_password",
            optional_non_blank("current_password", self.current_password),
        );
        if let (Some(None), Some(None), Some(None)) = (&name, &locale, &password) {
            if errors.is_empty() {
                errors.add("name", crate::t!("profile-empty"));
            }
        }
        match (name, locale, password, current) {
            (Some(name), Some(locale), Some(password), Some(current)) if errors.is_empty() => {
                Ok(ProfilePatch {
                    name,
                    locale,
                    password: password.map(|new| (new, current.map(Password::unchecked))),
                })
            }
            _ => Err(errors),
        }
    }
}

fn locale_field(value: Option<Value>) -> Result<Option<Locale>, String> {
    optional_non_blank("locale", value).and_then(|raw| {
        raw.map(|raw| {
            matches!(raw.as_str(), "en" | "fa")
                .then(|| Locale::parse(&raw))
                .flatten()
                .ok_or_else(|| selected_invalid("locale"))
        })
        .transpose()
    })
}

/// `PUT /api/v1/me/email`: the new email.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "ann@newmail.example"}))]
pub struct EmailRequest {
    /// The new email: unproven until its code is entered.
    #[schema(value_type = String, required = true, format = Email)]
    email: Option<Value>,
}

impl EmailRequest {
    /// The email.
    ///
    /// # Errors
    /// A missing or invalid email.
    pub fn try_into_domain(self) -> Result<Contact, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let email = errors.take(
            "email",
            required_string("email", self.email)
                .and_then(|raw| Email::parse(&raw).map_err(|_| invalid_email("email"))),
        );
        email
            .map(Contact::Email)
            .filter(|_| errors.is_empty())
            .ok_or(errors)
    }
}

/// `PUT /api/v1/me/mobile`: the new mobile.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"mobile": "09121234567"}))]
pub struct MobileRequest {
    /// The new mobile, national (read in the server's region) or international: unproven until
    /// its code is entered.
    #[schema(value_type = String, required = true)]
    mobile: Option<Value>,
}

impl MobileRequest {
    /// The mobile.
    ///
    /// # Errors
    /// A missing or invalid mobile.
    pub fn try_into_domain(self, region: PhoneRegion) -> Result<Contact, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mobile = errors.take(
            "mobile",
            required_string("mobile", self.mobile)
                .and_then(|raw| Mobile::parse(&raw, region).map_err(|_| invalid_mobile("mobile"))),
        );
        mobile
            .map(Contact::Mobile)
            .filter(|_| errors.is_empty())
            .ok_or(errors)
    }
}

/// `DELETE /api/v1/me`: the password, or a login code.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"password": "correct horse"}))]
pub struct EraseRequest {
    /// The account's password.
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<Value>,
    /// Or a login code (`POST /api/v1/login/code`).
    #[schema(value_type = Option<String>, example = "492031")]
    code: Option<Value>,
}

impl EraseRequest {
    /// The proof.
    ///
    /// # Errors
    /// Neither given, or not strings.
    pub fn try_into_domain(self) -> Result<ErasureProof, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let password = errors.take("password", optional_non_blank("password", self.password));
        let code = errors.take("code", optional_code(self.code));
        match (password, code) {
            (Some(Some(password)), _) if errors.is_empty() => {
                Ok(ErasureProof::Password(Password::unchecked(password)))
            }
            (_, Some(Some(code))) if errors.is_empty() => Ok(ErasureProof::Code(code)),
            _ => {
                if errors.is_empty() {
                    errors.add("password", crate::t!("password-or-code-required"));
                }
                Err(errors)
            }
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
            required_string("code", self.code)
                .and_then(|raw| OneTimeCode::parse(&raw).map_err(|_| crate::t!("code-six-digits"))),
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

/// A string field as written, `None` only when absent or `null` (`""` stays a string, which the
/// field's own rules then judge).
fn exact_string(field: &str, value: Option<Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(crate::validation::must_be_string(field)),
    }
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
                "message": "The name field is required. (and 2 more errors)",
                "errors": {
                    "name": ["The name field is required."],
                    "email": ["The email field is required when mobile is not present."],
                    "mobile": ["The mobile field is required when email is not present."]
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
    fn a_blank_name_in_a_profile_edit_is_a_422() {
        let errors = body::<ProfilePatchRequest>(json!({"name": "", "locale": "fa"}))
            .try_into_domain()
            .unwrap_err();
        assert!(errors.get("name").is_some(), "{:?}", errors.get("name"));
    }

    #[test]
    fn a_registration_without_a_password_logs_in_by_code_only() {
        let command = register(json!({"name": "A", "email": "a@b.io", "password": null})).unwrap();
        assert!(command.password.is_none());
        let command = register(json!({"name": "A", "email": "a@b.io"})).unwrap();
        assert!(command.password.is_none());
        // A string is a password, judged as one: a blank one is too short.
        for blank in ["", "  "] {
            assert!(register(json!({"name": "A", "email": "a@b.io", "password": blank})).is_err());
        }
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
            assert!(matches!(command.login(), Some(Login::Mobile(_))), "{key}");
        }
        let command = body::<LoginRequest>(json!({"login": "neither", "password": "x"}))
            .try_into_domain(region)
            .unwrap();
        assert_eq!(command.login(), None);
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
        assert!(matches!(command.login(), Some(Login::Mobile(_))));
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
