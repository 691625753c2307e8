//! What messages need from outside: a gateway that sends an SMS.

use async_trait::async_trait;

use super::Sms;

/// What became of one SMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsResult {
    /// The gateway took it.
    Sent,
    /// Not sent, worth trying again (no connection, a timeout, a `5xx` or `429`).
    Transient(String),
    /// Refused for good (the gateway rejected the number, the text or the credentials).
    Permanent(String),
}

/// Sends SMS through a gateway (`SMS_URL`; docs/operations.md, "Text messages").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `sms`, within a bounded time.
    async fn send(&self, sms: &Sms) -> SmsResult;
}
