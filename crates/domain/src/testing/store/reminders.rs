//! [`ReminderRepository`] over the in-memory state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{stored, Store};
use crate::events::Role;
use crate::ports::PortError;
use crate::reminders::ports::{DueBatch, ReminderRepository};
use crate::reminders::{Audience, DueReminder, SentReminder};
use crate::InvitationStatus;

#[async_trait]
impl ReminderRepository for Store {
    async fn due_reminders(&self, now: DateTime<Utc>, limit: u32) -> Result<DueBatch, PortError> {
        let state = self.lock();
        let mut due: Vec<(DateTime<Utc>, DueReminder)> = Vec::new();
        for event in &state.events {
            let Some(starts_at) = event.details.starts_at() else {
                continue;
            };
            if starts_at <= now || state.deleted.contains_key(&event.id) {
                continue;
            }
            for rule in event.details.reminders().rules() {
                let due_at = rule.due_at(starts_at);
                if due_at > now {
                    continue;
                }
                let people: Vec<_> = match rule.to() {
                    Audience::Accepted => state
                        .members
                        .iter()
                        .filter(|(e, m)| {
                            *e == event.id && m.role != Role::Owner && m.joined_at <= due_at
                        })
                        .map(|(_, m)| m.user.id)
                        .collect(),
                    audience => state
                        .invitations
                        .iter()
                        .filter(|i| i.event_id() == event.id && i.held_contact().is_none())
                        .filter(|i| match audience {
                            Audience::Tentative => {
                                i.status_at(now) == InvitationStatus::Tentative
                                    && i.answered_at().is_some_and(|at| at <= due_at)
                            }
                            _ => {
                                i.status_at(now) == InvitationStatus::Pending
                                    && i.created_at() <= due_at
                            }
                        })
                        .map(crate::invitations::Invitation::invitee_id)
                        .collect(),
                };
                for user in people {
                    let key = (event.id, rule.key(), user, stored(starts_at));
                    if !state.reminders_sent.contains_key(&key) {
                        due.push((
                            due_at,
                            DueReminder {
                                event_id: event.id,
                                rule: *rule,
                                user,
                            },
                        ));
                    }
                }
            }
        }
        due.sort_by_key(|(at, _)| *at);
        due.truncate(limit as usize);
        let mut events: Vec<_> = due
            .iter()
            .filter_map(|(_, d)| state.event(d.event_id).cloned())
            .collect();
        events.sort_by_key(|e| e.id);
        events.dedup_by_key(|e| e.id);
        Ok(DueBatch {
            events,
            due: due.into_iter().map(|(_, d)| d).collect(),
        })
    }

    async fn record_reminders(
        &self,
        sent: Vec<SentReminder>,
        now: DateTime<Utc>,
    ) -> Result<u64, PortError> {
        let mut state = self.lock();
        let mut recorded = 0;
        for reminder in sent {
            // Still scheduled, due, for this start (a deletion or a move since drops it).
            let still_due = state
                .event(reminder.event_id)
                .filter(|_| !state.deleted.contains_key(&reminder.event_id))
                .and_then(|event| {
                    let starts_at = event.details.starts_at()?;
                    let rule = event
                        .details
                        .reminders()
                        .rules()
                        .iter()
                        .find(|rule| rule.key() == reminder.rule)?;
                    Some(
                        stored(starts_at) == stored(reminder.starts_at)
                            && rule.due_at(starts_at) <= now
                            && starts_at > now,
                    )
                })
                .unwrap_or(false);
            if !still_due {
                continue;
            }
            let key = (
                reminder.event_id,
                reminder.rule,
                reminder.user,
                stored(reminder.starts_at),
            );
            if state.reminders_sent.contains_key(&key) {
                continue;
            }
            state.reminders_sent.insert(key, stored(now));
            if let Some(message) = reminder.message {
                state.messages.push(message);
            }
            recorded += 1;
        }
        Ok(recorded)
    }

    async fn purge_reminders(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let mut state = self.lock();
        let old: Vec<_> = state
            .reminders_sent
            .iter()
            .filter(|((_, _, _, starts_at), _)| *starts_at < before)
            .map(|(key, _)| key.clone())
            .take(batch as usize)
            .collect();
        for key in &old {
            state.reminders_sent.remove(key);
        }
        Ok(old.len() as u64)
    }
}
