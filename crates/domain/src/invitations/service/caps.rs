//! The day's caps on what anyone can make the service send: counting each invitation sent or
//! resent as a message to its contact (docs/api.md, "Daily caps on messages").

use super::*;

/// The day's caps on what anyone can make the service send (docs/api.md, "Daily caps on
/// messages"): each invitation sent or resent is a message to its contact. `0` turns a cap off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendCaps {
    /// Invitations one sender may send or resend a day (`INVITATIONS_PER_SENDER_DAILY`, 500).
    pub per_sender: u32,
    /// Invitations one contact may receive a day (`INVITATIONS_PER_CONTACT_DAILY`, 10).
    pub per_contact: u32,
}

impl Default for SendCaps {
    fn default() -> Self {
        Self {
            per_sender: 500,
            per_contact: 10,
        }
    }
}

pub(super) const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// What counting one message under the day's caps came to.
pub(super) enum Counted {
    /// Counted.
    Yes(Reservation),
    /// The contact's cap is full (nothing counted); until when.
    ContactFull(std::time::Duration),
    /// The sender's cap is full (nothing counted); until when.
    SenderFull(std::time::Duration),
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

    /// Counts one message to `contact` (normalized) sent by `sender` under the day's caps.
    pub(super) async fn count_message(
        &self,
        sender: UserId,
        contact: &str,
    ) -> Result<Counted, PortError> {
        let Some((counters, caps, _)) = &self.caps else {
            return Ok(Counted::Yes(Reservation::default()));
        };
        let sender_key = format!("invitations-sender-day:{sender}");
        let limits = [
            CounterLimit::new(sender_key.clone(), caps.per_sender),
            CounterLimit::new(
                format!("invitations-contact-day:{contact}"),
                caps.per_contact,
            ),
        ];
        match counters.reserve(&limits, DAY).await {
            Ok(reservation) => Ok(Counted::Yes(reservation)),
            Err(CountError::LimitReached {
                key, retry_after, ..
            }) if key == sender_key => Ok(Counted::SenderFull(retry_after)),
            Err(CountError::LimitReached { retry_after, .. }) => {
                Ok(Counted::ContactFull(retry_after))
            }
            Err(CountError::Port(error)) => Err(error),
        }
    }

    /// Takes back what [`InvitationService::count_message`] counted for messages not sent.
    pub(super) async fn uncount(&self, reservations: Vec<Reservation>) {
        if let Some((counters, _, _)) = &self.caps {
            for reservation in reservations {
                // Best effort: a failure keeps them counted, which errs on the safe side.
                let _ = counters.give_back(reservation).await;
            }
        }
    }
}
