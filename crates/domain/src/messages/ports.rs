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

/// A message claimed for one attempt: no other worker attempts it until the attempt is recorded or
/// the claim's lease runs out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedMessage {
    /// Its id.
    pub id: crate::MessageId,
    /// The claim: recording the attempt needs it still to hold.
    pub claim: uuid::Uuid,
    /// Where it goes.
    pub recipient: super::Recipient,
    /// The subject line (email).
    pub subject: String,
    /// The text.
    pub text: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// What became of a message after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageVerdict {
    /// Handed over to the mail server or the SMS gateway.
    Sent,
    /// Try again at this time.
    RetryAt(chrono::DateTime<chrono::Utc>),
    /// No more attempts: refused for good, or the schedule ran out.
    Failed,
}

/// The outbox of messages to people (docs/operations.md, "Messages").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MessageOutbox: Send + Sync {
    /// Claims up to `limit` messages of `channels` (`email`, `sms`) due at `now`, oldest first,
    /// each under a new claim until `now + lease`. Concurrent claims, in any process, never
    /// claim one message twice while its lease holds.
    ///
    /// # Errors
    /// [`crate::PortError`] on infrastructure failure.
    async fn claim_messages(
        &self,
        channels: &[&'static str],
        limit: u32,
        now: chrono::DateTime<chrono::Utc>,
        lease: chrono::Duration,
    ) -> Result<Vec<ClaimedMessage>, crate::PortError>;

    /// Records an attempt of a claimed message, if the claim still holds: its attempts count one
    /// more, and it is sent, due again, or failed with `error`. Returns whether it was recorded.
    ///
    /// # Errors
    /// [`crate::PortError`] on infrastructure failure.
    async fn record_message(
        &self,
        message: &ClaimedMessage,
        verdict: MessageVerdict,
        error: Option<String>,
    ) -> Result<bool, crate::PortError>;

    /// Deletes up to `batch` sent or failed messages made before `before`; returns how many.
    ///
    /// # Errors
    /// [`crate::PortError`] on infrastructure failure.
    async fn purge_messages(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        batch: u32,
    ) -> Result<u64, crate::PortError>;
}

/// Someone to message, with the contacts they have proven (an unproven claim is never written
/// to: it may not be theirs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reachable {
    /// Their account.
    pub id: crate::UserId,
    /// Their name.
    pub name: crate::Text,
    /// Their proven email.
    pub email: Option<crate::Email>,
    /// Their proven mobile.
    pub mobile: Option<crate::Mobile>,
    /// The language they read (docs/api.md, "Languages").
    pub locale: crate::accounts::Locale,
}

/// Finds how to reach people.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Contacts: Send + Sync {
    /// Those of `users` whose accounts exist (not erased), with their proven contacts, in one
    /// round trip.
    ///
    /// # Errors
    /// [`crate::PortError`] on infrastructure failure.
    async fn reachable(&self, users: &[crate::UserId]) -> Result<Vec<Reachable>, crate::PortError>;
}
