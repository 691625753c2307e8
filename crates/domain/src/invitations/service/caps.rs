//! The day's quotas on what anyone can make the service send or look up (docs/api.md, "Daily
//! quotas"): the contacts a sender names, and the messages a contact receives.

use super::*;

/// The day's quotas on sends (docs/api.md, "Daily quotas"). `0` turns one off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendCaps {
    /// Contacts an account younger than [`SendCaps::ESTABLISHED_AFTER`] may name a day in sends
    /// and resends, every entry looked up counting, found or not (`SEND_RECIPIENTS_PER_DAY`, 200).
    pub recipients_new: u32,
    /// The same for older accounts (`SEND_RECIPIENTS_PER_DAY_ESTABLISHED`, 1000).
    pub recipients_established: u32,
    /// Invitation messages (sent or resent) one contact may receive a day from all senders
    /// (`MESSAGES_PER_RECIPIENT_PER_DAY`, 5).
    pub per_recipient: u32,
}

impl Default for SendCaps {
    fn default() -> Self {
        Self {
            recipients_new: 200,
            recipients_established: 1000,
            per_recipient: 5,
        }
    }
}

impl SendCaps {
    /// How old an account must be for the higher quota of contacts named.
    pub const ESTABLISHED_AFTER: chrono::Duration = chrono::Duration::days(7);

    /// The contacts `sender` may name a day, as of `now`.
    pub fn recipients_for(&self, sender: &User, now: DateTime<Utc>) -> u32 {
        if now - sender.created_at < Self::ESTABLISHED_AFTER {
            self.recipients_new
        } else {
            self.recipients_established
        }
    }
}

pub(super) const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// What counting one message under the recipient's quota came to.
pub(super) enum Counted {
    /// Counted.
    Yes(Reservation),
    /// The contact's quota is full (nothing counted).
    ContactFull,
}

impl InvitationService {
    /// The same service, holding every sender and contact to the day's `caps`, counted by
    /// `counters` (shared by every process on the database).
    #[must_use]
    pub fn with_caps(
        mut self,
        counters: Arc<dyn AbuseCounters>,
        caps: SendCaps,
        region: PhoneRegion,
    ) -> Self {
        self.caps = Some((counters, caps, region));
        self
    }

    fn named_counter(&self, sender: &User) -> Option<CounterLimit> {
        let (_, caps, _) = self.caps.as_ref()?;
        Some(CounterLimit::new(
            format!("recipients-named-day:{}", sender.id),
            caps.recipients_for(sender, self.clock.now()),
        ))
    }

    fn recipient_counter(&self, contact: &str) -> Option<CounterLimit> {
        let (_, caps, _) = self.caps.as_ref()?;
        Some(CounterLimit::new(
            format!("messages-recipient-day:{contact}"),
            caps.per_recipient,
        ))
    }

    /// Counts up to `wanted` contacts named by `sender` under the day's quota, in one step;
    /// returns how many fit (the first ones of the request) and what was counted.
    pub(super) async fn count_named(
        &self,
        sender: &User,
        wanted: usize,
    ) -> Result<(usize, Reservation), PortError> {
        let (Some((counters, _, _)), Some(counter)) = (&self.caps, self.named_counter(sender))
        else {
            return Ok((wanted, Reservation::default()));
        };
        if counter.limit == 0 || wanted == 0 {
            return Ok((wanted, Reservation::default()));
        }
        let wanted_u32 = u32::try_from(wanted).unwrap_or(u32::MAX);
        let reservation = counters.reserve_up_to(counter, wanted_u32, DAY).await?;
        Ok((reservation.events.len().min(wanted), reservation))
    }

    /// Counts one message to `contact` (normalized) under the recipient's day's quota.
    pub(super) async fn count_message(&self, contact: &str) -> Result<Counted, PortError> {
        let (Some((counters, _, _)), Some(counter)) = (&self.caps, self.recipient_counter(contact))
        else {
            return Ok(Counted::Yes(Reservation::default()));
        };
        match counters.reserve(std::slice::from_ref(&counter), DAY).await {
            Ok(reservation) => Ok(Counted::Yes(reservation)),
            Err(CountError::LimitReached { .. }) => Ok(Counted::ContactFull),
            Err(CountError::Port(error)) => Err(error),
        }
    }

    /// Counts a resend: one contact named by `sender` and one message to `contact`, together or
    /// not at all. Returns the wait when either quota is full.
    pub(super) async fn count_resend(
        &self,
        sender: &User,
        contact: &str,
    ) -> Result<Result<Reservation, std::time::Duration>, PortError> {
        let Some((counters, _, _)) = &self.caps else {
            return Ok(Ok(Reservation::default()));
        };
        let limits: Vec<CounterLimit> =
            [self.named_counter(sender), self.recipient_counter(contact)]
                .into_iter()
                .flatten()
                .collect();
        match counters.reserve(&limits, DAY).await {
            Ok(reservation) => Ok(Ok(reservation)),
            Err(CountError::LimitReached { retry_after, .. }) => Ok(Err(retry_after)),
            Err(CountError::Port(error)) => Err(error),
        }
    }

    /// Takes back what the quotas counted for messages not sent.
    pub(super) async fn uncount(&self, reservations: Vec<Reservation>) {
        if let Some((counters, _, _)) = &self.caps {
            for reservation in reservations {
                if reservation.events.is_empty() {
                    continue;
                }
                // Best effort: a failure keeps them counted, which errs on the safe side.
                let _ = counters.give_back(reservation).await;
            }
        }
    }
}
