//! Sending the outbox's messages (codes, invitation texts) through the mail server and the SMS
//! gateway, with the deliveries' retry rules.

use std::sync::Arc;

use chrono::Duration;

use super::ports::{ClaimedMessage, MessageOutbox, MessageVerdict, SmsResult, SmsSender};
use super::{Recipient, Sms, SmsText};
use crate::ports::{Clock, PortError};
use crate::webhooks::delivery::{Outcome, RetryPolicy, Verdict};
use crate::webhooks::ports::{MailResult, Mailer};

/// Claims and sends messages.
#[derive(Clone)]
pub struct MessageService {
    outbox: Arc<dyn MessageOutbox>,
    mailer: Option<Arc<dyn Mailer>>,
    sms: Option<Arc<dyn SmsSender>>,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    lease: Duration,
}

impl std::fmt::Debug for MessageService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageService")
            .field("email", &self.mailer.is_some())
            .field("sms", &self.sms.is_some())
            .finish_non_exhaustive()
    }
}

/// How an attempt went: the verdict, and the error when it was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageAttempt {
    /// What was decided.
    pub verdict: MessageVerdict,
    /// Why it was not sent, if it was not.
    pub error: Option<String>,
    /// Whether the outcome was stored (the claim still held).
    pub recorded: bool,
}

impl MessageService {
    /// A service over these ports. A channel without a transport is neither claimed nor sent:
    /// its messages wait in the outbox.
    pub fn new(
        outbox: Arc<dyn MessageOutbox>,
        mailer: Option<Arc<dyn Mailer>>,
        sms: Option<Arc<dyn SmsSender>>,
        clock: Arc<dyn Clock>,
        retry: RetryPolicy,
        lease: Duration,
    ) -> Self {
        Self {
            outbox,
            mailer,
            sms,
            clock,
            retry,
            lease,
        }
    }

    /// The channels this service sends.
    fn channels(&self) -> Vec<&'static str> {
        let mut channels = Vec::new();
        if self.mailer.is_some() {
            channels.push("email");
        }
        if self.sms.is_some() {
            channels.push("sms");
        }
        channels
    }

    /// Claims up to `limit` due messages of the channels this service sends.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn claim(&self, limit: u32) -> Result<Vec<ClaimedMessage>, PortError> {
        let channels = self.channels();
        if channels.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        self.outbox
            .claim_messages(&channels, limit, self.clock.now(), self.lease)
            .await
    }

    /// Sends one claimed message and records what became of it: sent; retried on the deliveries'
    /// schedule after a transient failure (`jitter` in `[-1, 1]` moves the wait); failed when
    /// refused for good, the schedule ran out, or an SMS text is too long to send.
    ///
    /// # Errors
    /// [`PortError`] when the outcome cannot be stored (the claim then runs out, and the message is
    /// attempted again).
    pub async fn attempt(
        &self,
        message: &ClaimedMessage,
        jitter: f64,
    ) -> Result<MessageAttempt, PortError> {
        let (outcome, error) = match &message.recipient {
            Recipient::Email(to) => match &self.mailer {
                Some(mailer) => {
                    let composed = mailer.compose_text(&message.subject, &message.text);
                    match mailer.send(to, &composed).await {
                        MailResult::Sent => (Outcome::Success, None),
                        MailResult::Transient(error) => {
                            (Outcome::Retry { not_before: None }, Some(error))
                        }
                        MailResult::Permanent(error) => (Outcome::Permanent, Some(error)),
                    }
                }
                None => (
                    Outcome::Retry { not_before: None },
                    Some("email is not set up here".to_owned()),
                ),
            },
            Recipient::Sms(to) => match (&self.sms, SmsText::new(message.text.clone())) {
                (_, Err(error)) => (Outcome::Permanent, Some(error.to_string())),
                (Some(sms), Ok(text)) => match sms
                    .send(&Sms {
                        to: to.clone(),
                        text,
                    })
                    .await
                {
                    SmsResult::Sent => (Outcome::Success, None),
                    SmsResult::Transient(error) => {
                        (Outcome::Retry { not_before: None }, Some(error))
                    }
                    SmsResult::Permanent(error) => (Outcome::Permanent, Some(error)),
                },
                (None, Ok(_)) => (
                    Outcome::Retry { not_before: None },
                    Some("text messages are not set up here".to_owned()),
                ),
            },
        };
        let now = self.clock.now();
        let verdict =
            match self
                .retry
                .decide(message.attempts + 1, outcome, now, None, false, jitter)
            {
                Verdict::Delivered => MessageVerdict::Sent,
                Verdict::RetryAt(at) => MessageVerdict::RetryAt(at),
                Verdict::GaveUp | Verdict::Disable(_) => MessageVerdict::Failed,
            };
        let recorded = self
            .outbox
            .record_message(message, verdict.clone(), error.clone())
            .await?;
        Ok(MessageAttempt {
            verdict,
            error,
            recorded,
        })
    }

    /// Deletes up to `batch` finished messages made before `before`.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn purge(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        batch: u32,
    ) -> Result<u64, PortError> {
        self.outbox.purge_messages(before, batch).await
    }
}
