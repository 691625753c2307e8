//! What reminders need from outside: the store that knows which are due and records those sent.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::events::Event;
use crate::ports::PortError;
use crate::reminders::{DueReminder, SentReminder};

/// Reminders due now, with the events they remind of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DueBatch {
    /// The events of `due`, as they stand.
    pub events: Vec<Event>,
    /// The reminders due.
    pub due: Vec<DueReminder>,
}

/// Knows the reminders due and records those sent.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReminderRepository: Send + Sync {
    /// Up to `limit` reminders due at `now` and not yet recorded, earliest due first: for each
    /// rule of each event that is not deleted, has a start after `now` and whose due time
    /// ([`crate::reminders::Reminder::due_at`]) is not after `now`, each person of its audience
    /// as it stands now who was already in it at the due time (for `accepted` the members but
    /// the owner who joined by then; for `tentative` the invitees whose invitation is "maybe",
    /// answered so by then and not expired; for `pending` those whose invitation is pending, not
    /// expired, not held, and was sent by then), less those already recorded for that rule
    /// ([`crate::reminders::Reminder::key`]) and start.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn due_reminders(&self, now: DateTime<Utc>, limit: u32) -> Result<DueBatch, PortError>;

    /// Records `sent` as sent at `now`, each with its message in the outbox, in one
    /// transaction. One already recorded (by another worker, maybe in another process) is skipped
    /// with its message, so that each reminder goes out once; so is one whose rule is no longer
    /// due for that start as stored now (the event was deleted, or its start or rules changed
    /// since it was read). Returns how many it recorded.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; nothing is recorded then.
    async fn record_reminders(
        &self,
        sent: Vec<SentReminder>,
        now: DateTime<Utc>,
    ) -> Result<u64, PortError>;

    /// Deletes up to `batch` records of reminders of a start before `before` (the retention
    /// purge: a record goes only once the start it reminded of has passed, so that it is never
    /// sent again), and the schedule of events that started before then; returns how many records.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn purge_reminders(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;
}
