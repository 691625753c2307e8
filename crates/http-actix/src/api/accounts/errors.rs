//! How the accounts area's operation errors reach clients.

use domain::accounts::{
    ChangeContactError, Channel, ConfirmCodeError, EraseError, LoginError, RegisterError,
    SendCodeError, UpdateProfileError,
};

use crate::error::ApiError;
use crate::rate_limit::RetryAfter;
use crate::validation::{attribute, taken};

impl From<UpdateProfileError> for ApiError {
    fn from(error: UpdateProfileError) -> Self {
        match error {
            UpdateProfileError::WrongPassword => {
                Self::invalid("current_password", crate::t!("current-password-incorrect"))
            }
            UpdateProfileError::Port(error) => error.into(),
        }
    }
}

impl From<EraseError> for ApiError {
    fn from(error: EraseError) -> Self {
        match error {
            EraseError::WrongProof => {
                Self::invalid("password", crate::t!("password-or-code-incorrect"))
            }
            EraseError::Port(error) => error.into(),
        }
    }
}

/// A contact change's error, under the field of `channel`.
pub(crate) fn contact_error(error: ChangeContactError, channel: Channel) -> ApiError {
    let field = channel.as_str();
    match error {
        ChangeContactError::Unchanged => ApiError::invalid(
            field,
            crate::t!("contact-unchanged", attribute = attribute(field)),
        ),
        ChangeContactError::Taken => ApiError::invalid(field, taken(field)),
        ChangeContactError::OtherNotProven => ApiError::invalid(
            field,
            crate::t!(
                "prove-other-first",
                other = attribute(match channel {
                    Channel::Email => "mobile",
                    Channel::Mobile => "email",
                }),
                attribute = attribute(field)
            ),
        ),
        ChangeContactError::Port(error) => error.into(),
    }
}

impl From<SendCodeError> for ApiError {
    fn from(error: SendCodeError) -> Self {
        match error {
            SendCodeError::NothingToProve => {
                Self::invalid("channel", crate::t!("nothing-to-prove"))
            }
            SendCodeError::RegionNotAllowed => {
                Self::invalid("channel", crate::t!("sms-region-not-allowed"))
            }
            SendCodeError::ProvenElsewhere => {
                Self::invalid("channel", crate::t!("contact-proven-elsewhere"))
            }
            SendCodeError::TooMany(wait) => Self::TooManyRequests(RetryAfter(wait)),
            SendCodeError::Port(error) => error.into(),
        }
    }
}

impl From<ConfirmCodeError> for ApiError {
    fn from(error: ConfirmCodeError) -> Self {
        match error {
            ConfirmCodeError::Invalid => Self::invalid("code", crate::t!("code-wrong")),
            ConfirmCodeError::Taken => Self::invalid("code", crate::t!("contact-proven-elsewhere")),
            ConfirmCodeError::Port(error) => error.into(),
        }
    }
}

impl From<RegisterError> for ApiError {
    fn from(error: RegisterError) -> Self {
        match error {
            RegisterError::EmailTaken => Self::invalid("email", taken("email")),
            RegisterError::MobileTaken => Self::invalid("mobile", taken("mobile")),
            RegisterError::Port(error) => error.into(),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::InvalidCredentials => Self::InvalidCredentials,
            LoginError::Port(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::error::{rendered, unavailable};

    use super::*;

    #[test]
    fn a_taken_email_or_mobile_is_a_422_under_its_field() {
        let (status, body) = rendered(RegisterError::EmailTaken);
        assert_eq!(status, 422);
        assert_eq!(
            body,
            json!({
                "message": "The email has already been taken.",
                "errors": {"email": ["The email has already been taken."]}
            })
        );
        let (_, body) = rendered(RegisterError::MobileTaken);
        assert_eq!(
            body["errors"]["mobile"],
            json!(["The mobile has already been taken."])
        );
    }

    #[test]
    fn wrong_credentials_are_a_401_and_storage_failures_5xx() {
        assert_eq!(rendered(LoginError::InvalidCredentials).0, 401);
        assert_eq!(rendered(LoginError::Port(unavailable())).0, 503);
        assert_eq!(rendered(RegisterError::Port(unavailable())).0, 503);
    }
}
