//! Text messages (docs/operations.md, "Text messages"): the domain's `SmsSender` port over the
//! gateway `SMS_URL` names, and a file transport for development.
//!
//! - [`KannelSender`]: Kannel's sendsms HTTP interface (`kannel://`), for operators who run their
//!   own gateway in front of an SMSC;
//! - [`KavenegarSender`]: Kavenegar's REST API (`kavenegar://`);
//! - [`TwilioSender`]: Twilio's REST API (`twilio://`);
//! - [`FileSmsSender`]: one file per text under `OUTBOX_DIR/sms/`.
//!
//! The HTTP gateways share one way of sending: reqwest on rustls, one client per sender, no
//! redirects and no proxy, the whole attempt (connecting, sending, reading the answer) bounded by
//! the timeout given to the constructor. A gateway that took the text is
//! [`SmsResult::Sent`](domain::messages::ports::SmsResult::Sent); no answer, a timeout, `429` and
//! `5xx` are `Transient`; a refusal (`4xx`, or the gateway's own code for one) is `Permanent`. The
//! reason stored with the result is a short sentence with the gateway's own words, never a
//! credential: requests are not logged, errors are stripped of their URL, and every `Debug`
//! hides the secrets.

mod config;
mod file;
mod http;
mod kannel;
mod kavenegar;
mod twilio;

use std::sync::Arc;
use std::time::Duration;

use domain::messages::ports::SmsSender;

pub use self::config::{
    KannelConfig, KavenegarConfig, SmsGateway, SmsUrl, SmsUrlError, SmsUrlProblem, TwilioConfig,
};
pub use self::file::FileSmsSender;
pub use self::http::SmsClientError;
pub use self::kannel::KannelSender;
pub use self::kavenegar::KavenegarSender;
pub use self::twilio::TwilioSender;

impl SmsUrl {
    /// The sender for this gateway; every send takes at most `timeout`
    /// ([`SmsUrl::DEFAULT_TIMEOUT`] unless configured otherwise).
    ///
    /// # Errors
    /// [`SmsClientError`] when the HTTP client cannot be set up.
    pub fn into_sender(self, timeout: Duration) -> Result<Arc<dyn SmsSender>, SmsClientError> {
        Ok(match self {
            Self::Kannel(config) => Arc::new(KannelSender::new(config, timeout)?),
            Self::Kavenegar(config) => Arc::new(KavenegarSender::new(config, timeout)?),
            Self::Twilio(config) => Arc::new(TwilioSender::new(config, timeout)?),
        })
    }
}
