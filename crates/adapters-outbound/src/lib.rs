//! Event Manager's outbound adapters to the outside world: the ports through which the service
//! talks to parties it does not control.
//!
//! - [`HttpWebhookSender`] implements [`domain::ports::WebhookSender`] with reqwest (rustls):
//!   signed `POST`s of deliveries to the endpoints users register (docs/api.md, "Webhooks"), and
//!   the SSRF guard that keeps them from reaching into our own network (docs/security.md,
//!   "Webhooks and SSRF").
//!
//! This crate depends on `domain` only, never on diesel or actix (docs/architecture.md). What it
//! reports back (a [`domain::ports::WebhookResponse`]'s error) is stored with the attempt and read
//! by people, so it is a short sentence, never an error chain: details that would tell an
//! endpoint's owner about our network are logged, not returned.

mod webhook;

pub use webhook::{HttpWebhookSender, WebhookSenderConfig, WebhookSenderError};
