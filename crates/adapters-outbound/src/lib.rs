//! Event Manager's outbound adapters to the outside world: the ports through which the service
//! talks to parties it does not control.
//!
//! - [`HttpWebhookSender`] implements [`domain::webhooks::ports::WebhookSender`] with reqwest (rustls):
//!   signed `POST`s of deliveries to the endpoints users register (docs/api.md, "Webhooks"), and
//!   the SSRF guard that keeps them from reaching into our own network (docs/security.md,
//!   "Webhooks and SSRF").
//! - [`SmtpMailer`] implements [`domain::webhooks::ports::Mailer`] with lettre: invitation emails
//!   (docs/api.md, "Email to invitees").
//! - [`SmsUrl`] reads `SMS_URL` and makes the [`domain::messages::ports::SmsSender`] for the
//!   gateway it names (docs/operations.md, "Text messages"):
//!   - `kannel://USER:PASS@HOST:PORT?from=SENDER[&smsc=ID]` ([`KannelSender`]): Kannel's sendsms
//!     interface, `GET /cgi-bin/sendsms`, GSM 7-bit texts as `coding=0` and others as UCS-2
//!     (`coding=2`), UTF-8 in both cases; `kannel+https://` when it is behind TLS;
//!   - `kavenegar://API_KEY@api.kavenegar.com[?sender=NUMBER]` ([`KavenegarSender`]):
//!     `POST /v1/{API-KEY}/sms/send.json`;
//!   - `twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=SENDER` ([`TwilioSender`]):
//!     `POST /2010-04-01/Accounts/{SID}/Messages.json`.
//!
//!   `kavenegar+http://` and `twilio+http://` reach a stand-in on this machine (tests), and
//!   nothing else. Each sender has one HTTP client, follows no redirect and bounds a whole
//!   attempt by the timeout it was made with.
//! - For development, the outbox ([`OutboxDir`], `OUTBOX_DIR`, `data/outbox` by default) takes
//!   the place of both: [`FileMailer`] writes each email as `mail/<time>-<uuid>.eml` and
//!   [`FileSmsSender`] each text as `sms/<time>-<uuid>.txt`, atomically.
//!
//! This crate depends on `domain` only, never on diesel or actix (docs/architecture.md). What it
//! reports back (a [`domain::webhooks::ports::WebhookResponse`]'s error, the text of a
//! [`domain::webhooks::ports::MailResult`] or a [`domain::messages::ports::SmsResult`]) is stored with the
//! attempt and read by people, so it is a short sentence, never an error chain: details that would
//! tell an endpoint's owner about our network are logged, not returned, and no credential is in
//! either.

mod mail;
mod outbox;
mod sms;
#[cfg(feature = "testing")]
pub mod testing;
mod webhook;

pub use mail::{
    FileMailer, SmtpConfig, SmtpConfigError, SmtpCredentials, SmtpMailer, SmtpSecurity,
};
pub use outbox::OutboxDir;
pub use sms::{
    FileSmsSender, KannelConfig, KannelSender, KavenegarConfig, KavenegarSender, SmsClientError,
    SmsGateway, SmsUrl, SmsUrlError, SmsUrlProblem, TwilioConfig, TwilioSender,
};
pub use webhook::{HttpWebhookSender, WebhookSenderConfig, WebhookSenderError};
