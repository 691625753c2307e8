//! Invitations: the Invitation aggregate and its lifecycle (answer, cancel, resend, expiry), the
//! batch rule of sending them (R2–R10, R12; docs/api.md, "Invitation lifecycle"), their ports and
//! their service.

use chrono::{DateTime, Duration, Utc};

use crate::accounts::UserSummary;
use crate::duration::whole_duration;
use crate::events::Role;
use crate::rsvp::{RsvpRefused, RsvpRules};
use crate::{Answer, EventId, InvitationId, InvitationStatus, Text, UserId, Version};

mod batch;
pub mod ports;
mod service;
#[cfg(test)]
mod tests;

pub use batch::{
    IgnoreReason, Ignored, InvitationEntries, InvitationEntriesError, InviteePlan, InviteeState,
    Planned,
};
pub use service::*;

/// Where an invitation stands as stored: waiting, answered, cancelled, or marked expired. A pending
/// invitation whose `expires_at` has passed is expired too before anything marks it so
/// ([`Invitation::status_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationState {
    /// Not answered yet.
    Pending,
    /// Answered once and for all (R10): accepted or rejected.
    Answered {
        /// The answer.
        answer: Answer,
        /// When it was given (R11).
        at: DateTime<Utc>,
    },
    /// "Maybe": answerable still, and expiring as a pending invitation does.
    Tentative {
        /// When it was said.
        at: DateTime<Utc>,
    },
    /// Accepted when the event was full: waiting for a seat (docs/api.md, "Capacity and the
    /// waitlist"), first come first served by `at`.
    Waitlisted {
        /// When it was accepted.
        at: DateTime<Utc>,
    },
    /// Withdrawn while pending.
    Cancelled {
        /// When.
        at: DateTime<Utc>,
    },
    /// Its `expires_at` passed while it was pending.
    Expired,
}

/// How long a new (or resent) invitation stays answerable: `INVITATION_TTL`, a whole number of
/// seconds, minutes, hours or days (`90s`, `15m`, `36h`, `7d`), or never (`0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvitationTtl(Option<Duration>);

/// Why a text is not an [`InvitationTtl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected a whole number followed by s, m, h or d (such as 90s, 36h, 7d), at most 3650d, \
     or 0 for never"
)]
pub struct InvitationTtlError;

impl InvitationTtl {
    /// Invitations never expire; `expires_at` stays null.
    pub const NEVER: Self = Self(None);
    /// Seven days, the default.
    pub const DEFAULT: Self = Self(Some(Duration::days(7)));
    /// The longest time to live: ten years, so that an expiry stays within the years timestamps
    /// may have.
    pub const MAX: Duration = Duration::days(3650);

    /// A time to live of `duration`; zero or less means never.
    ///
    /// # Errors
    /// [`InvitationTtlError`] over [`InvitationTtl::MAX`].
    pub fn new(duration: Duration) -> Result<Self, InvitationTtlError> {
        if duration > Self::MAX {
            return Err(InvitationTtlError);
        }
        Ok(Self((duration > Duration::zero()).then_some(duration)))
    }

    /// Reads `0` (never) or digits followed by one unit, `s`, `m`, `h` or `d`, nothing else: no
    /// sign, space, fraction or other unit (`0s` is never too).
    ///
    /// # Errors
    /// [`InvitationTtlError`] for anything else, or over [`InvitationTtl::MAX`].
    pub fn parse(raw: &str) -> Result<Self, InvitationTtlError> {
        if raw == "0" {
            return Ok(Self::NEVER);
        }
        Self::new(whole_duration(raw).ok_or(InvitationTtlError)?)
    }

    /// The time to live, or `None` for never.
    pub const fn duration(self) -> Option<Duration> {
        self.0
    }

    /// When an invitation sent or resent at `now` expires; `None` when invitations never expire.
    pub fn expires_at(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.map(|ttl| now + ttl)
    }
}

impl Default for InvitationTtl {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// An invitation of one user (the invitee) to one event, by one of the event's managers (the
/// sender).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    id: InvitationId,
    event_id: EventId,
    sender_id: UserId,
    invitee_id: UserId,
    contact: String,
    message: Option<Text>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_resent_at: Option<DateTime<Utc>>,
    state: InvitationState,
    version: Version,
    held: Option<String>,
    guests: u8,
    comment: Option<Text>,
    waitlist_position: Option<u32>,
    cancelled_from: Option<InvitationStatus>,
}

/// Everything stored of an invitation, to rebuild it with [`Invitation::restore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredInvitation {
    /// The id.
    pub id: InvitationId,
    /// The event invited to.
    pub event_id: EventId,
    /// Who sent it.
    pub sender_id: UserId,
    /// Who was invited.
    pub invitee_id: UserId,
    /// The contact as typed.
    pub contact: String,
    /// The sender's note.
    pub message: Option<Text>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it stops being answerable, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last resent, if ever.
    pub last_resent_at: Option<DateTime<Utc>>,
    /// Where it stands as stored.
    pub state: InvitationState,
    /// Counts the stored changes of the row (docs/api.md, "Conditional requests").
    pub version: Version,
    /// While held: the contact (normalized) whose proof it waits for (docs/api.md, "Proving
    /// contacts").
    pub held_contact: Option<String>,
    /// The guests the invitee's answer brings.
    pub guests: u8,
    /// The invitee's comment with their answer.
    pub comment: Option<Text>,
}

/// Why an invitation can no longer be answered, cancelled or resent: the `409` codes of docs/api.md,
/// "Invitation lifecycle".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotPending {
    /// Accepted or rejected before (R10).
    #[error("the invitation has already been answered")]
    Answered,
    /// Cancelled before.
    #[error("the invitation was cancelled")]
    Cancelled,
    /// Its `expires_at` has passed.
    #[error("the invitation has expired")]
    Expired,
}

impl NotPending {
    /// Why an invitation with this status is no longer open to an answer, a cancel or a resend;
    /// `None` when it is (pending, or "maybe"). A waitlisted invitation is answered: its invitee
    /// may still withdraw ([`Invitation::answer`]), nobody else changes it.
    pub const fn of(status: InvitationStatus) -> Option<Self> {
        match status {
            InvitationStatus::Pending | InvitationStatus::Tentative => None,
            InvitationStatus::Accepted
            | InvitationStatus::Rejected
            | InvitationStatus::Waitlisted => Some(Self::Answered),
            InvitationStatus::Cancelled => Some(Self::Cancelled),
            InvitationStatus::Expired => Some(Self::Expired),
        }
    }
}

/// Who someone is to an invitation, which decides what they may see and do with it (R10, R12;
/// docs/api.md, "Invitation lifecycle").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Sent it (whatever their role now).
    Sender,
    /// Was invited.
    Invitee,
    /// Neither, but manages the event's invitations ([`Role::manages_invitations`]).
    Manager,
    /// Anyone else: for them the invitation does not exist (R12).
    Outsider,
}

/// Why an answer is refused (R10, R12, docs/api.md, "Invitation lifecycle").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefused {
    /// The caller may not see the invitation: for them it does not exist (R12).
    #[error("invitation not found")]
    NotVisible,
    /// The caller may see it but is not the invitee (the sender, the event's owner or a co-host).
    #[error("only the invitee may answer an invitation")]
    BySender,
    /// It is no longer pending.
    #[error(transparent)]
    NotPending(#[from] NotPending),
    /// The event's rules refuse it: answers closed, or too many guests.
    #[error(transparent)]
    Rsvp(#[from] RsvpRefused),
}

/// An invitee's answer with what comes with it (docs/api.md, "Answering: maybe, guests and
/// comments").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Yes, maybe or no.
    pub answer: Answer,
    /// The guests they would bring (none with a no).
    pub guests: u8,
    /// What they say to the hosts.
    pub comment: Option<Text>,
}

impl Reply {
    /// A bare answer: no guests, no comment.
    pub fn of(answer: Answer) -> Self {
        Self {
            answer,
            guests: 0,
            comment: None,
        }
    }
}

/// Why a cancel or a resend is refused (docs/api.md, "Invitation lifecycle").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ManageRefused {
    /// The caller may not see the invitation (R12).
    #[error("invitation not found")]
    NotVisible,
    /// The invitee may see it but neither cancels nor resends it.
    #[error("the invitee may not cancel or resend an invitation")]
    ByInvitee,
    /// It is no longer pending.
    #[error(transparent)]
    NotPending(#[from] NotPending),
    /// Resend only: the previous resend was less than [`Invitation::RESEND_INTERVAL`] ago.
    #[error("resent too recently; retry in {retry_after}")]
    TooSoon {
        /// How long until the next resend is allowed.
        retry_after: Duration,
    },
    /// Resend only: the event's answers closed then (its RSVP deadline or its start).
    #[error("answers to this event closed at {0}")]
    Closed(DateTime<Utc>),
}

impl Invitation {
    /// The least time between two resends of one invitation; the first resend may follow the send
    /// at once.
    pub const RESEND_INTERVAL: Duration = Duration::minutes(10);
    /// The most characters of the sender's note (line breaks allowed).
    pub const MESSAGE_MAX: usize = 500;
    /// The most characters of the invitee's comment (line breaks allowed).
    pub const COMMENT_MAX: usize = 500;

    /// A new pending invitation, sent at `now`, without a note and never expiring: the send gives
    /// it both with [`Invitation::with_message`] and [`Invitation::expiring`].
    pub fn new_pending(
        event_id: EventId,
        sender_id: UserId,
        invitee_id: UserId,
        contact: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: InvitationId::generate(),
            event_id,
            sender_id,
            invitee_id,
            contact,
            message: None,
            created_at: now,
            expires_at: None,
            last_resent_at: None,
            state: InvitationState::Pending,
            version: Version::FIRST,
            held: None,
            guests: 0,
            comment: None,
            waitlist_position: None,
            cancelled_from: None,
        }
    }

    /// The same invitation held until `contact` (normalized) is proven: its invitee only claims
    /// the contact it was sent to.
    #[must_use]
    pub fn held_for(mut self, contact: Option<String>) -> Self {
        self.held = contact;
        self
    }

    /// While held, the contact whose proof it waits for.
    pub fn held_contact(&self) -> Option<&str> {
        self.held.as_deref()
    }

    /// Given to `invitee`, who proved the contact it was held for.
    #[must_use]
    pub fn released_to(mut self, invitee: UserId) -> Self {
        self.invitee_id = invitee;
        self.held = None;
        self
    }

    /// The same invitation with the sender's note.
    #[must_use]
    pub fn with_message(mut self, message: Option<Text>) -> Self {
        self.message = message;
        self
    }

    /// The same invitation expiring `ttl` after it was sent (never with [`InvitationTtl::NEVER`]),
    /// or earlier when its event's answers close earlier ([`RsvpRules::expiry`]).
    #[must_use]
    pub fn expiring(mut self, ttl: InvitationTtl, rules: &RsvpRules) -> Self {
        self.expires_at = rules.expiry(ttl.expires_at(self.created_at));
        self
    }

    /// The same invitation shown at `position` in its event's waitlist (1 is next), as the store
    /// reads it.
    #[must_use]
    pub fn at_waitlist_position(mut self, position: Option<u32>) -> Self {
        self.waitlist_position = position;
        self
    }

    /// The accepted answer that [`Invitation::answer`] recorded, put on the waitlist instead: the
    /// event was full when it was stored, and it waits at `position`.
    pub fn waitlist(&mut self, position: u32) {
        if let InvitationState::Answered {
            answer: Answer::Accept,
            at,
        } = self.state
        {
            self.state = InvitationState::Waitlisted { at };
            self.waitlist_position = Some(position);
        }
    }

    /// Rebuilds an invitation from storage.
    pub fn restore(stored: StoredInvitation) -> Self {
        Self {
            id: stored.id,
            event_id: stored.event_id,
            sender_id: stored.sender_id,
            invitee_id: stored.invitee_id,
            contact: stored.contact,
            message: stored.message,
            created_at: stored.created_at,
            expires_at: stored.expires_at,
            last_resent_at: stored.last_resent_at,
            state: stored.state,
            version: stored.version,
            held: stored.held_contact,
            guests: stored.guests,
            comment: stored.comment,
            waitlist_position: None,
            cancelled_from: None,
        }
    }

    /// Everything there is to store of it.
    pub fn to_stored(&self) -> StoredInvitation {
        StoredInvitation {
            id: self.id,
            event_id: self.event_id,
            sender_id: self.sender_id,
            invitee_id: self.invitee_id,
            contact: self.contact.clone(),
            message: self.message.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_resent_at: self.last_resent_at,
            state: self.state,
            version: self.version,
            held_contact: self.held.clone(),
            guests: self.guests,
            comment: self.comment.clone(),
        }
    }

    /// The version of the row as read: what a conditional answer is checked against. The
    /// aggregate's own changes do not move it; storing them does.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The status at `now`: a pending invitation whose `expires_at` is `now` or earlier is
    /// expired, whether or not anything has marked it so yet. Every response, list and filter
    /// reads the status through this rule.
    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        status_at(self.status(), self.expires_at, now)
    }

    /// The same invitation as it stands at `now`: a pending one past its expiry becomes
    /// [`InvitationState::Expired`], so that [`Invitation::status`] and everything shown of it
    /// agree with [`Invitation::status_at`].
    #[must_use]
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        if self.status_at(now) == InvitationStatus::Expired {
            self.state = InvitationState::Expired;
        }
        self
    }

    /// Who `user`, whose role in the event is `role` (`None`: not a member), is to this invitation.
    /// Its sender is its sender only while they manage the event: a co-host removed or demoted
    /// can no longer see, resend or cancel what they sent (the event's hosts still can).
    pub fn standing_of(&self, user: UserId, role: Option<Role>) -> Standing {
        let manages = role.is_some_and(Role::manages_invitations);
        if user == self.sender_id && manages {
            Standing::Sender
        } else if user == self.invitee_id && self.held.is_none() {
            // A held invitation is nothing to its invitee until the contact is proven.
            Standing::Invitee
        } else if manages {
            Standing::Manager
        } else {
            Standing::Outsider
        }
    }

    /// Only the sender, the invitee and the event's owner and co-hosts know that an invitation
    /// exists (R12).
    pub fn is_visible_to(&self, user: UserId, role: Option<Role>) -> bool {
        self.standing_of(user, role) != Standing::Outsider
    }

    fn pending_at(&self, now: DateTime<Utc>) -> Result<(), NotPending> {
        NotPending::of(self.status_at(now)).map_or(Ok(()), Err)
    }

    /// Records `by`'s reply at `now`, under its event's `rules`. `role` is `by`'s role in the
    /// event (`None`: not a member). A pending or "maybe" invitation takes any answer; a waitlisted
    /// one only a no (its invitee withdraws). Whether an accepted party is seated or waitlisted is
    /// decided when it is stored, on the seats as they stand then ([`RsvpRules::admit`]).
    ///
    /// # Errors
    /// [`AnswerRefused::NotVisible`] when `by` may not see it (R12), [`AnswerRefused::BySender`]
    /// when `by` may see it but was not invited, [`AnswerRefused::NotPending`] when it was
    /// answered, cancelled or has expired (R10), [`AnswerRefused::Rsvp`] after the RSVP deadline
    /// or the start, or with more guests than the event allows.
    pub fn answer(
        &mut self,
        by: UserId,
        role: Option<Role>,
        reply: Reply,
        rules: &RsvpRules,
        now: DateTime<Utc>,
    ) -> Result<(), AnswerRefused> {
        match self.standing_of(by, role) {
            Standing::Outsider => return Err(AnswerRefused::NotVisible),
            Standing::Sender | Standing::Manager => return Err(AnswerRefused::BySender),
            Standing::Invitee => {}
        }
        let status = self.status_at(now);
        let withdrawing = status == InvitationStatus::Waitlisted && reply.answer == Answer::Reject;
        // A final answer or a cancel is what the invitee must learn first; then that answers
        // closed (an open invitation expires when they do, but the reason is the deadline).
        if !withdrawing && status != InvitationStatus::Expired {
            self.pending_at(now)?;
        }
        rules.check_open(now)?;
        if !withdrawing {
            self.pending_at(now)?;
        }
        let guests = match reply.answer {
            Answer::Reject => 0,
            Answer::Accept | Answer::Tentative => {
                rules.check_guests(reply.guests)?;
                reply.guests
            }
        };
        self.state = match reply.answer {
            Answer::Tentative => InvitationState::Tentative { at: now },
            answer => InvitationState::Answered { answer, at: now },
        };
        self.guests = guests;
        self.comment = reply.comment;
        self.waitlist_position = None;
        Ok(())
    }

    fn may_manage(&self, by: UserId, role: Option<Role>) -> Result<(), ManageRefused> {
        match self.standing_of(by, role) {
            Standing::Outsider => Err(ManageRefused::NotVisible),
            Standing::Invitee => Err(ManageRefused::ByInvitee),
            Standing::Sender | Standing::Manager => Ok(()),
        }
    }

    /// Cancels it at `now`, by its sender or one of the event's managers.
    ///
    /// # Errors
    /// [`ManageRefused::NotVisible`] when `by` may not see it (R12), [`ManageRefused::ByInvitee`]
    /// for the invitee, [`ManageRefused::NotPending`] when it was answered, cancelled or has
    /// expired.
    pub fn cancel(
        &mut self,
        by: UserId,
        role: Option<Role>,
        now: DateTime<Utc>,
    ) -> Result<(), ManageRefused> {
        self.may_manage(by, role)?;
        self.pending_at(now)?;
        self.cancelled_from = Some(self.status());
        self.state = InvitationState::Cancelled { at: now };
        Ok(())
    }

    /// The status a cancel or a withdrawal just made at `now` was decided on: what the store's
    /// conditional update expects the row still to be (a cancel never overrides an answer given
    /// meanwhile, and a waitlisted invitation is withdrawn only while it still waits).
    pub fn cancelled_from(&self) -> Option<InvitationStatus> {
        self.cancelled_from
    }

    /// Cancelled at `now` because its sender's or invitee's account is erased (docs/api.md,
    /// "Your account"); nothing unless it is live (pending, "maybe" or waitlisted).
    pub fn withdraw(&mut self, now: DateTime<Utc>) {
        if self.status_at(now).is_live() {
            self.cancelled_from = Some(self.status());
            self.state = InvitationState::Cancelled { at: now };
            self.waitlist_position = None;
        }
    }

    /// When the next resend is allowed: at once if it was never resent, else
    /// [`Invitation::RESEND_INTERVAL`] after the last resend.
    pub fn next_resend_at(&self) -> Option<DateTime<Utc>> {
        self.last_resent_at.map(|last| last + Self::RESEND_INTERVAL)
    }

    /// Resends it at `now`, by its sender or one of the event's managers: it expires `ttl` from
    /// now (still never with [`InvitationTtl::NEVER`]), or when its event's answers close
    /// ([`RsvpRules::expiry`]).
    ///
    /// # Errors
    /// As [`Invitation::cancel`], and [`ManageRefused::TooSoon`] before
    /// [`Invitation::next_resend_at`].
    pub fn resend(
        &mut self,
        by: UserId,
        role: Option<Role>,
        ttl: InvitationTtl,
        rules: &RsvpRules,
        now: DateTime<Utc>,
    ) -> Result<(), ManageRefused> {
        self.may_manage(by, role)?;
        // Closed answers come before an expiry they caused; a final state before both.
        if self.status_at(now) != InvitationStatus::Expired {
            self.pending_at(now)?;
        }
        if let Err(RsvpRefused::Closed(at)) = rules.check_open(now) {
            return Err(ManageRefused::Closed(at));
        }
        self.pending_at(now)?;
        if let Some(next) = self.next_resend_at().filter(|next| *next > now) {
            return Err(ManageRefused::TooSoon {
                retry_after: next - now,
            });
        }
        self.last_resent_at = Some(now);
        self.expires_at = rules.expiry(ttl.expires_at(now));
        Ok(())
    }

    /// The invitation's id.
    pub fn id(&self) -> InvitationId {
        self.id
    }
    /// The event invited to.
    pub fn event_id(&self) -> EventId {
        self.event_id
    }
    /// Who sent it.
    pub fn sender_id(&self) -> UserId {
        self.sender_id
    }
    /// Who was invited.
    pub fn invitee_id(&self) -> UserId {
        self.invitee_id
    }
    /// The email or mobile as the sender typed it (trimmed).
    pub fn contact(&self) -> &str {
        &self.contact
    }
    /// The sender's note, if any.
    pub fn message(&self) -> Option<&Text> {
        self.message.as_ref()
    }
    /// When it was sent.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it stops being answerable, or `None` if never.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }
    /// When it was last resent, if ever.
    pub fn last_resent_at(&self) -> Option<DateTime<Utc>> {
        self.last_resent_at
    }
    /// Where it stands as held (see [`Invitation::as_of`]).
    pub fn state(&self) -> InvitationState {
        self.state
    }
    /// The guests the invitee's answer brings.
    pub fn guests(&self) -> u8 {
        self.guests
    }
    /// The invitee's comment, if any.
    pub fn comment(&self) -> Option<&Text> {
        self.comment.as_ref()
    }
    /// While waitlisted, its place in the waitlist (1 is next), as last read.
    pub fn waitlist_position(&self) -> Option<u32> {
        self.waitlist_position
    }
    /// The status of the state as held: as stored, or as of the last [`Invitation::as_of`]. Use
    /// [`Invitation::status_at`] to decide anything.
    pub fn status(&self) -> InvitationStatus {
        match self.state {
            InvitationState::Pending => InvitationStatus::Pending,
            InvitationState::Tentative { .. } => InvitationStatus::Tentative,
            InvitationState::Waitlisted { .. } => InvitationStatus::Waitlisted,
            InvitationState::Answered { answer, .. } => answer.status(),
            InvitationState::Cancelled { .. } => InvitationStatus::Cancelled,
            InvitationState::Expired => InvitationStatus::Expired,
        }
    }
    /// When it was answered, if it was.
    pub fn answered_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            InvitationState::Answered { at, .. }
            | InvitationState::Tentative { at }
            | InvitationState::Waitlisted { at } => Some(at),
            _ => None,
        }
    }
    /// When it was cancelled, if it was.
    pub fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            InvitationState::Cancelled { at } => Some(at),
            _ => None,
        }
    }
}

/// The expiry rule on its own, for statuses read without their invitation (such as an invitee's
/// latest status in the batch rule): `stored` as of `now`, given the invitation's `expires_at`.
pub fn status_at(
    stored: InvitationStatus,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> InvitationStatus {
    match (stored, expires_at) {
        (status, Some(at)) if status.expires() && at <= now => InvitationStatus::Expired,
        (status, _) => status,
    }
}

/// An invitation with what its parties may see around it (docs/api.md, "Objects").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationDetails {
    /// The invitation.
    pub invitation: Invitation,
    /// The event's title.
    pub event_title: Text,
    /// The event's title as the invitee sees it: the current one while they have access to the
    /// event (a live invitation, or membership), else the one it had when they lost it (frozen by
    /// the store when the title changes after that).
    pub invitee_title: Text,
    /// The sender.
    pub sender: UserSummary,
    /// The invitee.
    pub invitee: UserSummary,
    /// Set once its event is deleted (docs/api.md, "Deleting an event"): the invitation stays
    /// readable by its parties.
    pub event_deleted: Option<DeletedEvent>,
}

/// What is kept of a deleted event for its invitations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletedEvent {
    /// The sender's role in the event when it was deleted, if they managed it then (owner or
    /// co-host): only then do they still see what they sent.
    pub sender_role: Option<Role>,
}

impl InvitationDetails {
    /// The same, as its invitee is shown it: with the title they may know.
    #[must_use]
    pub fn as_seen_by_invitee(mut self) -> Self {
        self.event_title = self.invitee_title.clone();
        self
    }

    /// The same, with the invitation as it stands at `now` ([`Invitation::as_of`]).
    #[must_use]
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        self.invitation = self.invitation.as_of(now);
        self
    }
}

/// What becomes of the invitations held for a contact when an account proves it
/// ([`release_held`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Release {
    /// Given to the account: they now show to it, with their original expiry.
    pub given: Vec<Invitation>,
    /// Cancelled, as the account cannot take them (R7: it already has a pending invitation to the
    /// event, or another of these; or it is a member, or the sender).
    pub cancelled: Vec<Invitation>,
}

/// Decides, for the invitations held for a contact that `prover` just proved, which it receives
/// and which are cancelled (docs/api.md, "Proving contacts"). Invitations that are no longer
/// pending at `now` stay as they are, held (nobody ever sees them as invitee). `blocked` answers
/// whether `prover` already is a member of an event or holds a pending invitation to it.
pub fn release_held(
    held: Vec<Invitation>,
    prover: UserId,
    blocked: impl Fn(EventId) -> bool,
    now: DateTime<Utc>,
) -> Release {
    let mut release = Release::default();
    let mut taken = std::collections::HashSet::new();
    let mut held = held;
    // The oldest invitation to an event wins over later ones.
    held.sort_by_key(|invitation| (invitation.created_at, invitation.id));
    for mut invitation in held {
        if invitation.held.is_none() || invitation.status_at(now) != InvitationStatus::Pending {
            continue;
        }
        let event = invitation.event_id;
        if invitation.sender_id == prover || blocked(event) || !taken.insert(event) {
            invitation.state = InvitationState::Cancelled { at: now };
            release.cancelled.push(invitation);
        } else {
            release.given.push(invitation.released_to(prover));
        }
    }
    release
}
