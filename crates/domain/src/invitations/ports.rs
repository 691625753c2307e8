//! What invitations need from outside: the invitation store, one transaction per method (accepting
//! = answer + membership, R11).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::invitations::NotPending;
use crate::invitations::{Invitation, InvitationDetails, InviteeState};
use crate::ports::PortError;
use crate::rsvp::RsvpRefused;
use crate::{EventId, InvitationId, Page, PageRequest, StatusFilter, UserId, Version};

/// Filters of the invitation lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InvitationFilter {
    /// Only this status (or all).
    pub status: StatusFilter,
    /// Only this event.
    pub event_id: Option<EventId>,
}

/// What happened to one invitation of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Stored.
    Created,
    /// Not stored: a pending invitation for this (event, invitee) already exists, for instance one
    /// that a concurrent batch stored a moment ago (R7).
    AlreadyPending,
}

/// Why a change of an invitation (an answer, a cancel, a resend) stored nothing. Each is an update
/// conditional on the row being as the domain saw it, so that of concurrent changes, in one
/// process or several, one wins and the others land here.
#[derive(Debug, thiserror::Error)]
pub enum SaveInvitationError {
    /// The row is no longer pending at the change's time: somebody answered or cancelled it
    /// first, or it expired (R10; docs/api.md, "Invitation lifecycle").
    #[error(transparent)]
    NotPending(NotPending),
    /// No such row (its event was deleted meanwhile).
    #[error("invitation not found")]
    NotFound,
    /// An answer conditional on a version only: the row is no longer at that version.
    #[error("changed since the expected version")]
    Stale,
    /// A resend only: another resend was stored since this one was decided; it is the last one now.
    #[error("resent meanwhile")]
    ResentMeanwhile {
        /// When the stored resend happened.
        last_resent_at: DateTime<Utc>,
    },
    /// An answer only: the event's rules, applied to the event and its seats as stored when the
    /// answer was, refuse it (answers closed, too many guests, or full without a waitlist).
    #[error(transparent)]
    Refused(RsvpRefused),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Where a stored answer left the invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerStored {
    /// As answered: accepted (and seated), "maybe" or rejected.
    AsAnswered,
    /// Accepted when the party did not fit: waitlisted, at this place (1 is next).
    Waitlisted {
        /// Its place in the waitlist.
        position: u32,
    },
}

/// Stores invitations.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait InvitationRepository: Send + Sync {
    /// For each of `users`, whether they are a member of `event` and the status of their latest
    /// invitation to it. Users absent from the map have neither. A constant number of round trips.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    /// The latest invitation's status is as of `now` ([`crate::invitations::status_at`]): a pending
    /// invitation past its expiry is expired.
    async fn invitee_states(
        &self,
        event: EventId,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<HashMap<UserId, InviteeState>, PortError>;

    /// Stores a batch of new pending invitations in one transaction and a constant number of round
    /// trips, and reports for each, in order, whether it was stored. In the same transaction, first
    /// marks `expired` every pending invitation of the batch's invitees to its events whose expiry
    /// is not after the batch's `created_at`, so that a dead invitation never blocks a new one (R7
    /// counts live ones only).
    ///
    /// # Errors
    /// MUST NOT fail because a pending invitation for the same (event, invitee) exists, even one
    /// written concurrently: that entry is [`BatchOutcome::AlreadyPending`]. SHOULD re-check, in the
    /// same transaction, that no invitee has become a member (R6) or rejected their latest
    /// invitation to the event (R8) since the batch was planned, and then store nothing and return
    /// [`PortError::Unavailable`] (the database adapters do; the in-memory fakes trust the plan).
    /// SHOULD likewise store nothing and return [`PortError::Unavailable`] when the batch's sender
    /// no longer manages the event (owner or co-host) in that transaction, so that a co-host
    /// removed or demoted while their send is in flight sends nothing.
    /// [`PortError`] on infrastructure failure; then nothing is stored.
    async fn create_batch(
        &self,
        invitations: &[Invitation],
    ) -> Result<Vec<BatchOutcome>, PortError>;

    /// The invitation with its event title and parties.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find(&self, id: InvitationId) -> Result<Option<InvitationDetails>, PortError>;

    /// Stores the reply of an invitation that [`Invitation::answer`] just answered, in one
    /// transaction under the event row's lock: a conditional update of the row while it is still
    /// open (pending or "maybe", and not expired at the answer's time; for a no, waitlisted too),
    /// with its guests and comment. An accepted party goes through the seat rule
    /// ([`crate::rsvp::RsvpRules::admit`]) on the event's rules and seats as stored at that moment:
    /// seated, the invitee becomes a member (R11) and the party's seats are taken; otherwise the
    /// invitation is stored waitlisted. With `expected`, the update applies only while the row is
    /// still at that version. Every stored change of the row (answer, cancel, resend, expiry,
    /// promotion) moves its version up by one.
    ///
    /// # Errors
    /// MUST return [`SaveInvitationError::NotPending`] (with the reason as of the answer's time) if
    /// the row is no longer open or has expired, so that an invitation is answered at most once
    /// and never after it was cancelled or expired, even across server processes (R10); then
    /// nothing changes. Otherwise MUST return [`SaveInvitationError::Stale`] when the row is no
    /// longer at `expected`; [`SaveInvitationError::Refused`] when the seat rule refuses it (MUST
    /// never seat more than the capacity, whatever the races); [`SaveInvitationError::NotFound`]
    /// when the row is gone.
    async fn save_answer(
        &self,
        invitation: &Invitation,
        expected: Option<Version>,
    ) -> Result<AnswerStored, SaveInvitationError>;

    /// Stores the cancel of an invitation that [`Invitation::cancel`] just cancelled: a
    /// conditional update of the row while it is still pending and not expired at the cancel's
    /// time.
    ///
    /// # Errors
    /// As [`InvitationRepository::save_answer`]: an invitation is never both answered and
    /// cancelled.
    async fn save_cancel(&self, invitation: &Invitation) -> Result<(), SaveInvitationError>;

    /// Stores the resend of an invitation that [`Invitation::resend`] just resent (its new
    /// `expires_at` and `last_resent_at`): a conditional update of the row while it is still
    /// pending, not expired at the resend's time, and its last resend is still `previous` (the
    /// one the domain decided on).
    ///
    /// # Errors
    /// As [`InvitationRepository::save_answer`], and [`SaveInvitationError::ResentMeanwhile`] when
    /// another resend was stored since `previous`, so that two resends racing within the interval
    /// never both pass.
    async fn save_resend(
        &self,
        invitation: &Invitation,
        previous: Option<DateTime<Utc>>,
    ) -> Result<(), SaveInvitationError>;

    /// Marks `expired` up to `batch` pending invitations whose expiry is `now` or earlier, oldest
    /// expiry first; returns how many. Call again while that is `batch`. Safe from several
    /// processes at once, and against answers and cancels: each row changes only while still
    /// pending, so none is counted twice and none that was answered or cancelled first changes.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; earlier batches stay marked.
    async fn expire_due(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;

    /// Invitations `sender` sent to the events they still manage (owner or co-host), newest
    /// first, with `filter`'s status as of `now` (a pending invitation past its expiry is
    /// `expired`, not `pending`).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_sent(
        &self,
        sender: UserId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError>;

    /// Invitations sent to `invitee`, newest first, filtered as [`InvitationRepository::list_sent`].
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_received(
        &self,
        invitee: UserId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError>;

    /// Every invitation to `event`, newest first, filtered as [`InvitationRepository::list_sent`]
    /// (`filter.event_id` is ignored).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_for_event(
        &self,
        event: EventId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError>;
}
