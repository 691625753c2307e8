//! Response bodies of the accounts area. [`UserSummaryBody`] is also how the other areas show a
//! user.

use chrono::{DateTime, Utc};
use domain::accounts::Session;
use secrecy::ExposeSecret;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::json::{optional_timestamp, timestamp};

/// A user's own profile (docs/api.md, "Objects": User).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserBody {
    /// The user's id.
    pub id: Uuid,
    /// Display name.
    #[schema(example = "Ann")]
    pub name: String,
    /// Email, lowercased.
    #[schema(required = true, format = Email, example = "ann@example.com")]
    pub email: Option<String>,
    /// Mobile in E.164.
    #[schema(required = true, example = "+989352864812")]
    pub mobile: Option<String>,
    /// When the email was proven with a code; `null` while it is not (docs/api.md, "Proving
    /// contacts").
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub email_verified_at: Option<DateTime<Utc>>,
    /// When the mobile was proven with a code; `null` while it is not.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub mobile_verified_at: Option<DateTime<Utc>>,
    /// An email asked for in place of `email` and not proven yet; `email` serves until it is.
    #[schema(required = true, format = Email)]
    pub pending_email: Option<String>,
    /// A mobile asked for in place of `mobile` and not proven yet.
    #[schema(required = true)]
    pub pending_mobile: Option<String>,
    /// The language messages to the account are written in: `en` or `fa`.
    #[schema(example = "en")]
    pub locale: &'static str,
    /// Whether the account can log in with a password (else by code only).
    pub has_password: bool,
    /// When the account was made.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<domain::accounts::User> for UserBody {
    fn from(user: domain::accounts::User) -> Self {
        Self {
            id: user.id.as_uuid(),
            name: user.name.into_string(),
            email: user.email.map(|email| email.as_str().to_owned()),
            mobile: user.mobile.map(|mobile| mobile.as_str().to_owned()),
            email_verified_at: user.email_verified_at,
            mobile_verified_at: user.mobile_verified_at,
            pending_email: user.pending_email.map(|email| email.as_str().to_owned()),
            pending_mobile: user.pending_mobile.map(|mobile| mobile.as_str().to_owned()),
            locale: user.locale.as_str(),
            has_password: user.has_password,
            created_at: user.created_at,
        }
    }
}

/// What anyone may see of a user (docs/api.md, "Objects": User summary).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserSummary)]
pub struct UserSummaryBody {
    /// The user's id.
    pub id: Uuid,
    /// Display name.
    #[schema(example = "Ann")]
    pub name: String,
}

impl From<domain::accounts::UserSummary> for UserSummaryBody {
    fn from(user: domain::accounts::UserSummary) -> Self {
        Self {
            id: user.id.as_uuid(),
            name: user.name.into_string(),
        }
    }
}

/// A new session: the user and their bearer token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionBody {
    /// Who logged in.
    pub user: UserBody,
    /// The bearer token; shown once.
    pub token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// When the token stops working.
    #[serde(serialize_with = "timestamp")]
    pub expires_at: DateTime<Utc>,
}

impl From<Session> for SessionBody {
    fn from(session: Session) -> Self {
        Self {
            user: session.user.into(),
            token: session.token.expose_secret().to_owned(),
            token_type: "Bearer",
            expires_at: session.expires_at,
        }
    }
}

/// A code on its way (`POST /api/v1/me/verifications`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CodeSent)]
pub struct CodeSentBody {
    /// Where it went: `email` or `mobile`.
    #[schema(example = "email")]
    pub channel: &'static str,
    /// When it stops working (10 minutes after it was sent).
    #[serde(serialize_with = "timestamp")]
    pub expires_at: DateTime<Utc>,
}

impl From<domain::accounts::CodeSent> for CodeSentBody {
    fn from(sent: domain::accounts::CodeSent) -> Self {
        Self {
            channel: sent.channel.as_str(),
            expires_at: sent.expires_at,
        }
    }
}

/// Everything stored about an account (`GET /api/v1/me/export`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountExport)]
pub struct AccountExportBody {
    /// The profile.
    pub user: UserBody,
    /// The live bearer tokens: when each was made and when it expires (never the token).
    pub tokens: Vec<TokenInfoBody>,
    /// The events the account is a member of.
    pub events: Vec<crate::api::events::responses::EventBody>,
    /// The invitations it sent.
    pub sent_invitations: Vec<crate::api::invitations::responses::InvitationBody>,
    /// The invitations it received.
    pub received_invitations: Vec<crate::api::invitations::responses::InvitationBody>,
}

/// One live token, as the export shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TokenInfo)]
pub struct TokenInfoBody {
    /// When it was issued.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    #[serde(serialize_with = "timestamp")]
    pub expires_at: DateTime<Utc>,
}

impl From<domain::accounts::AccountExport> for AccountExportBody {
    fn from(export: domain::accounts::AccountExport) -> Self {
        Self {
            user: export.user.into(),
            tokens: export
                .tokens
                .into_iter()
                .map(|token| TokenInfoBody {
                    created_at: token.created_at,
                    expires_at: token.expires_at,
                })
                .collect(),
            events: export.events.into_iter().map(Into::into).collect(),
            sent_invitations: export.sent.into_iter().map(Into::into).collect(),
            received_invitations: export.received.into_iter().map(Into::into).collect(),
        }
    }
}

/// The answer of `POST /api/v1/login/code` and `POST /api/v1/password/forgot`: the same whether
/// or not an account has the login.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CodeRequested, example = json!({"message": "If an account has proven this login, a code is on its way."}))]
pub struct CodeRequestedBody {
    /// What happens next.
    pub message: String,
}

impl CodeRequestedBody {
    /// The one answer, in the request's language.
    pub fn answer() -> Self {
        Self {
            message: crate::t!("login-code-sent"),
        }
    }
}
