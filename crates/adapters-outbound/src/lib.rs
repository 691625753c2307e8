//! Event Manager's outbound adapters to the outside world: the two ports through which the
//! service talks to parties it does not control.
//!
//! - [`HttpWebhookSender`] implements [`domain::ports::WebhookSender`] with reqwest (rustls):
//!   signed `POST`s of deliveries to the endpoints users register (docs/api.md, "Webhooks"), and
//!   the SSRF guard that keeps them from reaching into our own network (docs/security.md,
//!   "Webhooks and SSRF").
//! - [`SmtpMailer`] implements [`domain::ports::Mailer`] with lettre: invitation emails
//!   (docs/api.md, "Email to invitees").
//!
//! This crate depends on `domain` only, never on diesel or actix (docs/architecture.md). What it
//! reports back (a [`domain::ports::WebhookResponse`]'s error, a [`domain::ports::MailResult`]'s
//! text) is stored with the attempt and read by people, so it is a short sentence, never an error
//! chain: details that would tell an endpoint's owner about our network are logged, not returned.

mod mail;
mod webhook;

pub use mail::{SmtpConfig, SmtpConfigError, SmtpCredentials, SmtpMailer, SmtpSecurity};
pub use webhook::{HttpWebhookSender, WebhookSenderConfig, WebhookSenderError};
