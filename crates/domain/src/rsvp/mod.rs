//! RSVP: an event's capacity, parties of guests, the waitlist and its promotion order, and the
//! deadline after which no answer is taken (docs/api.md, "Capacity and the waitlist").
//!
//! Everything here is a pure rule over values read beforehand. The services apply them to decide
//! what to ask for; the stores apply them again under the event row's lock, to the seats as they
//! stand then, so that racing answers, departures and edits never seat more than the capacity.

use chrono::{DateTime, Utc};

use crate::InvitationId;

#[cfg(test)]
mod flows;
#[cfg(test)]
mod tests;

/// How many people an event takes, how many guests each invitee may bring, whether a full event
/// keeps a waitlist, and until when answers are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsvpSettings {
    capacity: Option<u32>,
    max_guests: u8,
    waitlist: bool,
    rsvp_deadline: Option<DateTime<Utc>>,
}

/// Why RSVP settings are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RsvpSettingsError {
    /// `capacity` outside 1..=[`RsvpSettings::CAPACITY_MAX`].
    #[error("capacity must be between 1 and {}", RsvpSettings::CAPACITY_MAX)]
    Capacity,
    /// `max_guests` over [`RsvpSettings::MAX_GUESTS_MAX`].
    #[error("max_guests must be between 0 and {}", RsvpSettings::MAX_GUESTS_MAX)]
    MaxGuests,
}

impl Default for RsvpSettings {
    /// Unlimited, no guests, a waitlist (used once a capacity is set), no deadline: what events
    /// made before RSVP settings existed have.
    fn default() -> Self {
        Self {
            capacity: None,
            max_guests: 0,
            waitlist: true,
            rsvp_deadline: None,
        }
    }
}

impl RsvpSettings {
    /// The largest capacity.
    pub const CAPACITY_MAX: u32 = 100_000;
    /// The most guests an event lets one invitee bring.
    pub const MAX_GUESTS_MAX: u8 = 10;

    /// Checked settings.
    ///
    /// # Errors
    /// [`RsvpSettingsError`] for a capacity or a guest limit out of range.
    pub fn new(
        capacity: Option<u32>,
        max_guests: u8,
        waitlist: bool,
        rsvp_deadline: Option<DateTime<Utc>>,
    ) -> Result<Self, RsvpSettingsError> {
        if capacity.is_some_and(|c| c == 0 || c > Self::CAPACITY_MAX) {
            return Err(RsvpSettingsError::Capacity);
        }
        if max_guests > Self::MAX_GUESTS_MAX {
            return Err(RsvpSettingsError::MaxGuests);
        }
        Ok(Self {
            capacity,
            max_guests,
            waitlist,
            rsvp_deadline,
        })
    }

    /// How many seats there are (`None`: unlimited).
    pub fn capacity(&self) -> Option<u32> {
        self.capacity
    }
    /// The most guests one invitee may bring.
    pub fn max_guests(&self) -> u8 {
        self.max_guests
    }
    /// Whether accepting a full event joins its waitlist (else it is refused).
    pub fn waitlist(&self) -> bool {
        self.waitlist
    }
    /// After when no answer is taken, if set.
    pub fn rsvp_deadline(&self) -> Option<DateTime<Utc>> {
        self.rsvp_deadline
    }

    /// The rules answers to an event starting at `starts_at` follow.
    pub fn rules(&self, starts_at: Option<DateTime<Utc>>) -> RsvpRules {
        let closes_at = match (self.rsvp_deadline, starts_at) {
            (Some(deadline), Some(start)) => Some(deadline.min(start)),
            (deadline, start) => deadline.or(start),
        };
        RsvpRules {
            capacity: self.capacity,
            max_guests: self.max_guests,
            waitlist: self.waitlist,
            closes_at,
        }
    }
}

/// What answering an event is subject to: its settings and the moment answers close, the earlier
/// of the RSVP deadline and the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RsvpRules {
    /// Seats (`None`: unlimited).
    pub capacity: Option<u32>,
    /// The most guests per invitee.
    pub max_guests: u8,
    /// Whether a full event keeps a waitlist.
    pub waitlist: bool,
    /// When answers close, if ever.
    pub closes_at: Option<DateTime<Utc>>,
}

/// Why an answer, or a change of party, is refused by the event's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RsvpRefused {
    /// The RSVP deadline passed, or the event started.
    #[error("answers to this event closed at {0}")]
    Closed(DateTime<Utc>),
    /// More guests than the event allows.
    #[error("this event allows at most {max} guests per invitee")]
    TooManyGuests {
        /// The event's `max_guests`.
        max: u8,
    },
    /// The party does not fit in the seats left, and the event keeps no waitlist (or a member's
    /// larger party does not fit).
    #[error("the event is full")]
    Full,
}

/// Where an accepted party goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// It fits: the invitee becomes a member.
    Seated,
    /// It does not fit: the invitee waits, first come first served.
    Waitlisted,
}

/// The seats a party takes: the invitee and their guests.
pub const fn party(guests: u8) -> u32 {
    1 + guests as u32
}

/// One waitlisted invitation, in waitlist order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The invitation.
    pub invitation: InvitationId,
    /// The invitee's guests.
    pub guests: u8,
}

impl RsvpRules {
    /// Whether answers are still taken at `now`.
    ///
    /// # Errors
    /// [`RsvpRefused::Closed`] at or after [`RsvpRules::closes_at`].
    pub fn check_open(&self, now: DateTime<Utc>) -> Result<(), RsvpRefused> {
        match self.closes_at {
            Some(closes_at) if now >= closes_at => Err(RsvpRefused::Closed(closes_at)),
            _ => Ok(()),
        }
    }

    /// Whether an invitee may bring `guests`.
    ///
    /// # Errors
    /// [`RsvpRefused::TooManyGuests`] over the event's `max_guests`.
    pub fn check_guests(&self, guests: u8) -> Result<(), RsvpRefused> {
        if guests > self.max_guests {
            return Err(RsvpRefused::TooManyGuests {
                max: self.max_guests,
            });
        }
        Ok(())
    }

    /// The seats left when `taken` are taken (`None`: unlimited).
    pub fn seats_remaining(&self, taken: u32) -> Option<u32> {
        self.capacity.map(|capacity| capacity.saturating_sub(taken))
    }

    /// Whether `seats` more fit when `taken` are taken.
    pub fn fits(&self, taken: u32, seats: u32) -> bool {
        self.seats_remaining(taken)
            .is_none_or(|remaining| seats <= remaining)
    }

    /// The seat rule: where a party of `1 + guests` accepting at `now` goes, with `taken` seats
    /// taken.
    ///
    /// # Errors
    /// [`RsvpRefused::Closed`] after the deadline or the start, [`RsvpRefused::TooManyGuests`],
    /// and [`RsvpRefused::Full`] when it does not fit and the event keeps no waitlist.
    pub fn admit(
        &self,
        taken: u32,
        guests: u8,
        now: DateTime<Utc>,
    ) -> Result<Admission, RsvpRefused> {
        self.check_open(now)?;
        self.check_guests(guests)?;
        if self.fits(taken, party(guests)) {
            Ok(Admission::Seated)
        } else if self.waitlist {
            Ok(Admission::Waitlisted)
        } else {
            Err(RsvpRefused::Full)
        }
    }

    /// Whether a member with `guests` may bring `to` instead, with `taken` seats taken (their own
    /// party among them): within `max_guests`, and a larger party only while answers are open and
    /// the extra seats fit. A smaller party is always allowed.
    ///
    /// # Errors
    /// As [`RsvpRules::admit`], [`RsvpRefused::Full`] also with a waitlist.
    pub fn change_party(
        &self,
        taken: u32,
        guests: u8,
        to: u8,
        now: DateTime<Utc>,
    ) -> Result<(), RsvpRefused> {
        if to <= guests {
            return Ok(());
        }
        self.check_open(now)?;
        self.check_guests(to)?;
        if !self.fits(taken, u32::from(to - guests)) {
            return Err(RsvpRefused::Full);
        }
        Ok(())
    }

    /// When an invitation sent or resent to expire at `ttl_expiry` (by its time to live, `None`:
    /// never) stops being answerable: the earliest of that, the RSVP deadline and the start.
    pub fn expiry(&self, ttl_expiry: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        match (ttl_expiry, self.closes_at) {
            (Some(ttl), Some(closes)) => Some(ttl.min(closes)),
            (ttl, closes) => ttl.or(closes),
        }
    }

    /// The promotion rule: with `taken` seats taken at `now`, which of the `waiting` invitations
    /// (in waitlist order, first come first served) become members. Each in turn is promoted when
    /// its party fits in the seats left; a party that does not fit keeps its place and the next
    /// one is tried. Nobody is promoted once answers have closed.
    pub fn promote(&self, taken: u32, waiting: &[Waiting], now: DateTime<Utc>) -> Vec<Waiting> {
        if self.check_open(now).is_err() {
            return Vec::new();
        }
        let mut taken = taken;
        let mut promoted = Vec::new();
        for candidate in waiting {
            if self.capacity.is_some_and(|capacity| taken >= capacity) {
                break;
            }
            let seats = party(candidate.guests);
            if self.fits(taken, seats) {
                taken += seats;
                promoted.push(*candidate);
            }
        }
        promoted
    }
}

/// What the event's hosts see of its answers (R12: nobody else): the invitations by status as of
/// now, and the seats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Seats taken: members other than the owner, and their guests.
    pub seats_taken: u32,
    /// Invitations not answered yet (and not expired).
    pub pending: u64,
    /// "Maybe" answers (not expired).
    pub tentative: u64,
    /// Accepted.
    pub accepted: u64,
    /// Waiting for a seat.
    pub waitlisted: u64,
    /// Declined.
    pub rejected: u64,
}
