//! What events need from outside: the event store (events, members, roles), one transaction per
//! method.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::UserSummary;
use crate::events::{
    Actor, Event, EventDetails, EventDetailsError, EventPatch, Member, Membership, Role,
};
use crate::ports::PortError;
use crate::rsvp::{RsvpRefused, RsvpRules, Tally};
use crate::{EventId, Page, PageRequest, UserId, Version};
use std::collections::HashMap;

/// An event to create, with its owner.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// The event's id.
    pub id: EventId,
    /// What the owner wrote.
    pub details: EventDetails,
    /// The owner, who becomes the first member.
    pub owner: UserSummary,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Stores events and their members.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait EventRepository: Send + Sync {
    /// Creates the event and makes its owner its first member, atomically.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; then nothing is stored.
    async fn create(&self, event: NewEvent) -> Result<Event, PortError>;

    /// The event, if it exists and `viewer` is one of its members; otherwise `None`, so that
    /// strangers cannot tell an unknown event from one they may not see.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_for_member(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Event>, PortError>;

    /// The events `member` belongs to, newest first, each with the member's role in it.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_for_member(
        &self,
        member: UserId,
        page: PageRequest,
    ) -> Result<Page<Membership>, PortError>;

    /// The rules answers to the event follow ([`crate::events::EventDetails::rules`]), if it
    /// exists.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_rules(&self, event: EventId) -> Result<Option<RsvpRules>, PortError>;

    /// For each of `events`, its seats taken and its invitations counted by status as of `now` (a
    /// pending or "maybe" invitation past its expiry counts as neither). One round trip.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn tally(
        &self,
        events: &[EventId],
        now: DateTime<Utc>,
    ) -> Result<HashMap<EventId, Tally>, PortError>;

    /// Changes the guests `user`, a member of the event other than its owner, brings to `guests`,
    /// in one transaction under the event row's lock, where [`RsvpRules::change_party`] decides on
    /// the event's rules and seats as stored then; the seats taken move by the difference, and
    /// seats freed promote the waitlist ([`RsvpRules::promote`]) in the same transaction. Returns
    /// the member as stored.
    ///
    /// # Errors
    /// [`PartyError::NotMember`] when `user` is not a member, [`PartyError::Owner`] for the owner
    /// (who takes no seat), [`PartyError::Refused`] when the rules refuse; nothing changes then.
    async fn set_guests(
        &self,
        event: EventId,
        user: UserId,
        guests: u8,
        now: DateTime<Utc>,
    ) -> Result<Member, PartyError>;

    /// The event's members, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_members(
        &self,
        event: EventId,
        page: PageRequest,
    ) -> Result<Page<Member>, PortError>;

    /// The event with `viewer`'s role in it, if `viewer` is a member; otherwise `None`, as for
    /// [`EventRepository::find_for_member`]. One round trip.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_membership(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Membership>, PortError>;

    /// `user`'s membership of the event, if they are a member.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_member(&self, event: EventId, user: UserId) -> Result<Option<Member>, PortError>;

    /// Gives `target` the role `to`, in one transaction, only while `by` still holds `by.role` in
    /// the event and `target` still holds `from`; returns the changed membership.
    ///
    /// # Errors
    /// MUST return [`EventWriteError::Stale`], changing nothing, when either no longer holds that
    /// role (or is no longer a member, or the event is gone), so that a decision made on roles that
    /// changed meanwhile is never applied, also across server processes. MUST NOT change the
    /// owner's role or make anyone owner (then [`PortError`]). [`PortError`] on infrastructure
    /// failure.
    async fn change_role(
        &self,
        event: EventId,
        by: Actor,
        target: UserId,
        from: Role,
        to: Role,
    ) -> Result<Member, EventWriteError>;

    /// Removes `target`, who holds `role`, from the event and counts one member less, in one
    /// transaction, only while `by` still holds `by.role` in the event and `target` still holds
    /// `role` (`by` may be `target`: leaving). The seats the member's party took are freed, and
    /// promote the waitlist ([`RsvpRules::promote`]) in the same transaction.
    ///
    /// # Errors
    /// As [`EventRepository::change_role`]: [`EventWriteError::Stale`] when a role no longer holds
    /// or `target` is no longer a member (e.g. a concurrent removal won), so that `members_count`
    /// always equals the number of members. MUST NOT remove the owner (then [`PortError`]).
    async fn remove_member(
        &self,
        event: EventId,
        by: Actor,
        target: UserId,
        role: Role,
    ) -> Result<(), EventWriteError>;

    /// Deletes the event, by `by` while they still hold `by.role` in it and, with `expected`, while
    /// it is still at that version, in one transaction: it is marked deleted at `now` with who
    /// managed it then (the owner and co-hosts, [`crate::invitations::DeletedEvent`]), its live
    /// invitations that have not expired end as cancelled at `now` (so that whatever tells their
    /// invitees, such as the change feed, sees them cancelled), and its members go. The event
    /// itself stays, seen by no one, for its invitations, which stay readable by their parties
    /// (docs/api.md, "Deleting an event"), until [`EventRepository::purge_deleted`]. Returns how
    /// many invitations it cancelled.
    ///
    /// # Errors
    /// [`EventWriteError::Stale`] when the event is gone or `by` no longer holds that role;
    /// MUST return [`EventWriteError::Modified`] when the event's version is no longer `expected`;
    /// nothing changes then. A concurrent send of invitations to the event either commits before
    /// (its invitations are cancelled and deleted with the event) or finds no event: never an
    /// invitation to a deleted event.
    async fn delete(
        &self,
        event: EventId,
        by: Actor,
        now: DateTime<Utc>,
        expected: Option<Version>,
    ) -> Result<u64, EventWriteError>;

    /// Removes up to `batch` events deleted before `before`, with everything of them (their
    /// invitations too); returns how many (the retention purge).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn purge_deleted(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;

    /// Applies `patch` ([`EventPatch::apply`]) to the event's details as stored at that moment
    /// (not as read before), in one transaction, only while `by` still holds `by.role` and, with
    /// `expected`, while the event is still at that version; the stored version goes up by one.
    /// The capacity may not go below the seats taken
    /// ([`crate::events::EventDetails::check_seats`]); seats it adds promote the waitlist, and
    /// open invitations expiring after the event's answers now close expire then. Returns the
    /// event as stored, or, storing nothing, the rule the merged details break.
    ///
    /// # Errors
    /// [`EventWriteError::Stale`] as for [`EventRepository::change_role`]; MUST return
    /// [`EventWriteError::Modified`] when the event's version is no longer `expected`, so that of
    /// two edits conditional on one version, across server processes too, one is stored and the
    /// other refused; nothing changes then.
    async fn update(
        &self,
        event: EventId,
        by: Actor,
        patch: &EventPatch,
        expected: Option<Version>,
    ) -> Result<Result<Event, EventDetailsError>, EventWriteError>;
}

/// Why a member's party did not change; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum PartyError {
    /// The user is not a member of the event (or the event is gone).
    #[error("not a member of the event")]
    NotMember,
    /// The owner takes no seat, and brings no counted guests.
    #[error("the owner takes no seat")]
    Owner,
    /// The event's rules refuse the change.
    #[error(transparent)]
    Refused(#[from] RsvpRefused),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a change to an event or its members was not stored; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum EventWriteError {
    /// What the change was decided on no longer holds: a role changed, a member left, or the event
    /// is gone. Read again and decide again.
    #[error("the event or its members changed since they were read")]
    Stale,
    /// The event is no longer at the version the write was conditional on: another edit was
    /// stored since the caller read it. Not decided again: the caller reads again.
    #[error("the event was edited since the version the write expected")]
    Modified,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}
