//! [`ReminderService`]: the sweeper's step that sends the reminders due.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::messages::ports::Contacts;
use crate::ports::{Clock, PortError};
use crate::reminders::ports::ReminderRepository;
use crate::reminders::{message, SentReminder};

/// Sends the reminders due (docs/api.md, "Reminders"; docs/operations.md, "Reminders").
#[derive(Clone)]
pub struct ReminderService {
    store: Arc<dyn ReminderRepository>,
    contacts: Arc<dyn Contacts>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ReminderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReminderService").finish_non_exhaustive()
    }
}

impl ReminderService {
    /// A service over these ports.
    pub fn new(
        store: Arc<dyn ReminderRepository>,
        contacts: Arc<dyn Contacts>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            contacts,
            clock,
        }
    }

    /// Sends up to `batch` reminders due now: each becomes a message in the outbox (email when
    /// its person has proven an email address, else a text to a proven mobile) recorded with it,
    /// once across every process. Someone with neither is recorded without a message. Returns how
    /// many were recorded: call again while it returns `batch`.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; nothing is recorded then.
    pub async fn send_due(&self, batch: u32) -> Result<u64, PortError> {
        send_due(
            self.store.as_ref(),
            self.contacts.as_ref(),
            self.clock.now(),
            batch,
        )
        .await
    }

    /// Deletes up to `batch` records of reminders of a start before `before`; returns how many.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn purge(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        batch: u32,
    ) -> Result<u64, PortError> {
        self.store.purge_reminders(before, batch).await
    }
}

/// [`ReminderService::send_due`] on borrowed ports at `now`: the sweeper's step, for a caller that
/// holds the store itself.
///
/// # Errors
/// [`PortError`] on infrastructure failure; nothing is recorded then.
pub async fn send_due(
    store: &dyn ReminderRepository,
    contacts: &dyn Contacts,
    now: chrono::DateTime<chrono::Utc>,
    batch: u32,
) -> Result<u64, PortError> {
    let found = store.due_reminders(now, batch).await?;
    if found.due.is_empty() {
        return Ok(0);
    }
    let users: Vec<_> = found
        .due
        .iter()
        .map(|due| due.user)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let people: HashMap<_, _> = contacts
        .reachable(&users)
        .await?
        .into_iter()
        .map(|person| (person.id, person))
        .collect();
    let events: HashMap<_, _> = found.events.iter().map(|e| (e.id, e)).collect();
    let sent = found
        .due
        .into_iter()
        .filter_map(|due| {
            let event = events.get(&due.event_id)?;
            let starts_at = event.details.starts_at()?;
            // The event as read after the reminders: a start moved meanwhile may make it not due
            // yet, or past.
            if due.rule.due_at(starts_at) > now || starts_at <= now {
                return None;
            }
            let message = people
                .get(&due.user)
                .and_then(|person| message(event, &due.rule, person, now));
            Some(SentReminder {
                event_id: due.event_id,
                rule: due.rule.key(),
                user: due.user,
                starts_at,
                message,
            })
        })
        .collect();
    store.record_reminders(sent, now).await
}
