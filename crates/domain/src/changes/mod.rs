//! Domain events (docs/api.md, "Change feed and live stream"): what changed, made by the domain
//! from the state a change left, and who may learn of it (R12).
//!
//! A [`Change`] is recorded in the same transaction as the change itself (the outbox), numbered
//! there, and read back as a [`RecordedChange`] by the feed, the live stream and, later, webhooks.
//! Who receives it is decided here ([`Change::audience`]) and resolved to users by the adapter at
//! write time, under the transaction's locks, so that the recipients are the parties and managers
//! as they were when the change committed.

use chrono::{DateTime, Utc};

use crate::events::{Event, Member};
use crate::invitations::InvitationDetails;
use crate::{EventId, InvitationStatus, Text, UserId};

pub mod ports;
mod service;

pub use service::*;

/// The kinds of change, with their wire names (`invitation.created`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Invitations were sent.
    InvitationCreated,
    /// The invitee accepted, or was promoted from the waitlist.
    InvitationAccepted,
    /// The invitee said "maybe".
    InvitationTentative,
    /// The invitee accepted a full event and waits for a seat.
    InvitationWaitlisted,
    /// The invitee rejected.
    InvitationRejected,
    /// The sender or a manager cancelled it, or its event was deleted.
    InvitationCancelled,
    /// It expired while pending (marked by a send to the same invitee or by the sweeper).
    InvitationExpired,
    /// It was resent; its expiry moved.
    InvitationResent,
    /// Someone joined the event (by accepting).
    MemberJoined,
    /// Someone left or was removed.
    MemberRemoved,
    /// The owner changed someone's role.
    MemberRoleChanged,
    /// A member changed the guests they bring.
    MemberPartyChanged,
    /// The event's details changed.
    EventUpdated,
    /// The owner deleted the event.
    EventDeleted,
}

impl ChangeKind {
    /// Every kind, in the order of docs/api.md.
    pub const ALL: [Self; 14] = [
        Self::InvitationCreated,
        Self::InvitationAccepted,
        Self::InvitationTentative,
        Self::InvitationWaitlisted,
        Self::InvitationRejected,
        Self::InvitationCancelled,
        Self::InvitationExpired,
        Self::InvitationResent,
        Self::MemberJoined,
        Self::MemberRemoved,
        Self::MemberRoleChanged,
        Self::MemberPartyChanged,
        Self::EventUpdated,
        Self::EventDeleted,
    ];

    /// The wire and storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvitationCreated => "invitation.created",
            Self::InvitationAccepted => "invitation.accepted",
            Self::InvitationTentative => "invitation.tentative",
            Self::InvitationWaitlisted => "invitation.waitlisted",
            Self::InvitationRejected => "invitation.rejected",
            Self::InvitationCancelled => "invitation.cancelled",
            Self::InvitationExpired => "invitation.expired",
            Self::InvitationResent => "invitation.resent",
            Self::MemberJoined => "member.joined",
            Self::MemberRemoved => "member.removed",
            Self::MemberRoleChanged => "member.role_changed",
            Self::MemberPartyChanged => "member.party_changed",
            Self::EventUpdated => "event.updated",
            Self::EventDeleted => "event.deleted",
        }
    }

    /// Reads a wire or storage name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }
}

/// An event's id and title: how a change about members names its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRef {
    /// The event's id.
    pub id: EventId,
    /// Its title when the change happened.
    pub title: Text,
}

/// What a change is about, as the API shows it when the change happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeSubject {
    /// An invitation, with its status after the change.
    Invitation(InvitationDetails),
    /// A membership of an event (after the change; as it was, for a removal).
    Member {
        /// The event.
        event: EventRef,
        /// The member.
        member: Member,
    },
    /// An event after the change.
    Event(Event),
    /// An event that no longer exists.
    DeletedEvent(EventRef),
}

/// Who receives a change (R12), before it is resolved to users at write time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// An invitation's invitee, and the event's owner and co-hosts, its sender among them while
    /// they manage the event.
    InvitationParties {
        /// The invitation's event.
        event: EventId,
        /// Its sender, told only while they manage the event (as a manager).
        sender: UserId,
        /// Its invitee, unless the invitation is held.
        invitee: Option<UserId>,
    },
    /// An invitation's invitee alone.
    Invitee {
        /// The invitation's event.
        event: EventId,
        /// The invitee.
        invitee: UserId,
    },
    /// The event's members, and one more user (a removed member, no longer among them).
    Members {
        /// The event.
        event: EventId,
        /// Also told, though not a member (any more).
        also: Option<UserId>,
    },
    /// Everyone following the event: its members, and the invitees of its live invitations
    /// (pending, "maybe" and waitlisted, not held, not expired at the change), and those named.
    Followers {
        /// The event.
        event: EventId,
        /// Also told (those whose invitations the change itself ended).
        also: Vec<UserId>,
    },
}

impl Audience {
    /// The event whose members (or managers) the audience names.
    pub fn event(&self) -> EventId {
        match self {
            Self::InvitationParties { event, .. }
            | Self::Invitee { event, .. }
            | Self::Members { event, .. }
            | Self::Followers { event, .. } => *event,
        }
    }
}

/// A domain event: one change, when it happened, and what it is about.
///
/// Made only by the constructors below, which take the kind from the state the change left (an
/// answered invitation is `accepted` or `rejected` by its answer), so that kind and subject agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    kind: ChangeKind,
    occurred_at: DateTime<Utc>,
    subject: ChangeSubject,
    /// An `invitation.created` told to its invitee only, when the invitation was held and the
    /// contact it waited for was proven (the others were told when it was sent).
    released: bool,
    /// An `invitation.accepted` of a waitlisted invitation that a freed seat promoted.
    promoted: bool,
    /// An `event.updated` that moved the event (its time or place) and whose editor did not ask
    /// for quiet: its followers are messaged (docs/api.md, "Change notices").
    notify: bool,
    /// Told besides the audience: for `event.deleted`, the invitees whose live invitations the
    /// deletion cancelled (stored with it, so that the notices of the deletion skip them).
    also_told: Vec<UserId>,
}

/// A change that cannot be made of the state given: the invitation is not in the state the kind
/// needs (e.g. `accepted` of a pending invitation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an invitation that is {status} cannot be the subject of {kind}")]
pub struct ChangeMismatch {
    /// The kind asked for.
    pub kind: &'static str,
    /// The invitation's status.
    pub status: &'static str,
}

impl Change {
    /// `invitation.created` of a new invitation.
    ///
    /// # Errors
    /// [`ChangeMismatch`] unless it is pending.
    pub fn invitation_created(details: InvitationDetails) -> Result<Self, ChangeMismatch> {
        let at = details.invitation.created_at();
        Self::of_invitation(ChangeKind::InvitationCreated, details, at)
    }

    /// `invitation.created` for the invitee only, at `at`: the invitation was held, and the
    /// invitee proved the contact it waited for (docs/api.md, "Proving contacts").
    ///
    /// # Errors
    /// [`ChangeMismatch`] unless it is pending.
    pub fn invitation_released(
        details: InvitationDetails,
        at: DateTime<Utc>,
    ) -> Result<Self, ChangeMismatch> {
        let mut change = Self::of_invitation(ChangeKind::InvitationCreated, details, at)?;
        change.released = true;
        Ok(change)
    }

    /// `invitation.accepted`, `.tentative`, `.waitlisted` or `.rejected`, by its answer.
    ///
    /// # Errors
    /// [`ChangeMismatch`] unless it is answered.
    pub fn invitation_answered(details: InvitationDetails) -> Result<Self, ChangeMismatch> {
        let kind = match details.invitation.status() {
            InvitationStatus::Rejected => ChangeKind::InvitationRejected,
            InvitationStatus::Tentative => ChangeKind::InvitationTentative,
            InvitationStatus::Waitlisted => ChangeKind::InvitationWaitlisted,
            _ => ChangeKind::InvitationAccepted,
        };
        let at = details.invitation.answered_at().unwrap_or_default();
        Self::of_invitation(kind, details, at)
    }

    /// `invitation.accepted` of a waitlisted invitation promoted at `at`, when a seat freed
    /// (docs/api.md, "Capacity and the waitlist").
    ///
    /// # Errors
    /// [`ChangeMismatch`] unless it is accepted.
    pub fn invitation_promoted(
        details: InvitationDetails,
        at: DateTime<Utc>,
    ) -> Result<Self, ChangeMismatch> {
        let mut change = Self::of_invitation(ChangeKind::InvitationAccepted, details, at)?;
        change.promoted = true;
        Ok(change)
    }

    /// `invitation.cancelled`.
    ///
    /// # Errors
    /// [`ChangeMismatch`] unless it is cancelled.
    pub fn invitation_cancelled(details: InvitationDetails) -> Result<Self, ChangeMismatch> {
        let at = details.invitation.cancelled_at().unwrap_or_default();
        Self::of_invitation(ChangeKind::InvitationCancelled, details, at)
    }

    /// `invitation.expired`, marked at `at`.
    ///
    /// # Errors
    /// [`ChangeMismatch`] unless it is expired.
    pub fn invitation_expired(
        details: InvitationDetails,
        at: DateTime<Utc>,
    ) -> Result<Self, ChangeMismatch> {
        Self::of_invitation(ChangeKind::InvitationExpired, details, at)
    }

    /// `invitation.resent`.
    ///
    /// # Errors
    /// [`ChangeMismatch`] unless it is pending and was resent.
    pub fn invitation_resent(details: InvitationDetails) -> Result<Self, ChangeMismatch> {
        let at = details.invitation.last_resent_at().unwrap_or_default();
        Self::of_invitation(ChangeKind::InvitationResent, details, at)
    }

    fn of_invitation(
        kind: ChangeKind,
        details: InvitationDetails,
        at: DateTime<Utc>,
    ) -> Result<Self, ChangeMismatch> {
        let status = details.invitation.status();
        let fits = match kind {
            ChangeKind::InvitationCreated => status == InvitationStatus::Pending,
            ChangeKind::InvitationResent => {
                status == InvitationStatus::Pending && details.invitation.last_resent_at().is_some()
            }
            ChangeKind::InvitationAccepted => status == InvitationStatus::Accepted,
            ChangeKind::InvitationTentative => status == InvitationStatus::Tentative,
            ChangeKind::InvitationWaitlisted => status == InvitationStatus::Waitlisted,
            ChangeKind::InvitationRejected => status == InvitationStatus::Rejected,
            ChangeKind::InvitationCancelled => status == InvitationStatus::Cancelled,
            ChangeKind::InvitationExpired => status == InvitationStatus::Expired,
            _ => false,
        };
        if !fits {
            return Err(ChangeMismatch {
                kind: kind.as_str(),
                status: status.as_str(),
            });
        }
        Ok(Self {
            kind,
            occurred_at: at,
            subject: ChangeSubject::Invitation(details),
            released: false,
            promoted: false,
            notify: false,
            also_told: Vec::new(),
        })
    }

    /// `member.joined`: `member` joined `event` (at `member.joined_at`).
    pub fn member_joined(event: EventRef, member: Member) -> Self {
        Self {
            kind: ChangeKind::MemberJoined,
            occurred_at: member.joined_at,
            subject: ChangeSubject::Member { event, member },
            released: false,
            promoted: false,
            notify: false,
            also_told: Vec::new(),
        }
    }

    /// `member.removed`: `member` (as they were) left or was removed at `at`.
    pub fn member_removed(event: EventRef, member: Member, at: DateTime<Utc>) -> Self {
        Self {
            kind: ChangeKind::MemberRemoved,
            occurred_at: at,
            subject: ChangeSubject::Member { event, member },
            released: false,
            promoted: false,
            notify: false,
            also_told: Vec::new(),
        }
    }

    /// `member.role_changed`: `member` (with the new role) at `at`.
    pub fn member_role_changed(event: EventRef, member: Member, at: DateTime<Utc>) -> Self {
        Self {
            kind: ChangeKind::MemberRoleChanged,
            occurred_at: at,
            subject: ChangeSubject::Member { event, member },
            released: false,
            promoted: false,
            notify: false,
            also_told: Vec::new(),
        }
    }

    /// `member.party_changed`: `member` (with the new guests) at `at` (docs/api.md, "Capacity and
    /// the waitlist").
    pub fn member_party_changed(event: EventRef, member: Member, at: DateTime<Utc>) -> Self {
        Self {
            kind: ChangeKind::MemberPartyChanged,
            occurred_at: at,
            subject: ChangeSubject::Member { event, member },
            released: false,
            promoted: false,
            notify: false,
            also_told: Vec::new(),
        }
    }

    /// `event.updated`: the event as stored after the edit.
    pub fn event_updated(event: Event, at: DateTime<Utc>) -> Self {
        Self {
            kind: ChangeKind::EventUpdated,
            occurred_at: at,
            subject: ChangeSubject::Event(event),
            released: false,
            promoted: false,
            notify: false,
            also_told: Vec::new(),
        }
    }

    /// `event.deleted`, also told to `invitees`: those whose live invitations the deletion
    /// cancelled (they were following the event until then).
    pub fn event_deleted(event: EventRef, at: DateTime<Utc>, invitees: Vec<UserId>) -> Self {
        Self {
            kind: ChangeKind::EventDeleted,
            occurred_at: at,
            subject: ChangeSubject::DeletedEvent(event),
            released: false,
            promoted: false,
            notify: false,
            also_told: invitees,
        }
    }

    /// A change read back from storage, trusted as stored.
    pub fn restore(kind: ChangeKind, occurred_at: DateTime<Utc>, subject: ChangeSubject) -> Self {
        Self {
            kind,
            occurred_at,
            subject,
            released: false,
            promoted: false,
            notify: false,
            also_told: Vec::new(),
        }
    }

    /// The same change read back with its mark as an `invitation.created` told to the invitee
    /// alone ([`Change::invitation_released`]); ignored for other kinds.
    #[must_use]
    pub fn released(mut self, released: bool) -> Self {
        self.released = released
            && self.kind == ChangeKind::InvitationCreated
            && matches!(self.subject, ChangeSubject::Invitation(_));
        self
    }

    /// The same change read back with its mark as a promotion ([`Change::invitation_promoted`]);
    /// ignored for other kinds.
    #[must_use]
    pub fn promoted(mut self, promoted: bool) -> Self {
        self.promoted = promoted && self.kind == ChangeKind::InvitationAccepted;
        self
    }

    /// The same change, messaging the event's followers when it is an `event.updated` (the
    /// event moved, and the edit did not ask for quiet).
    #[must_use]
    pub fn notifying(mut self, notify: bool) -> Self {
        self.notify = notify && self.kind == ChangeKind::EventUpdated;
        self
    }

    /// Whether its followers are messaged: an `event.updated` that moved the event, and every
    /// `event.deleted` (docs/api.md, "Change notices").
    pub fn notifies(&self) -> bool {
        self.notify || self.kind == ChangeKind::EventDeleted
    }

    /// For `event.deleted`, the invitees whose live invitations the deletion cancelled: told of
    /// it by their invitation's own message.
    pub fn also_told(&self) -> &[UserId] {
        &self.also_told
    }

    /// The same `event.deleted` read back with the invitees it also told
    /// ([`Change::event_deleted`]); ignored for other kinds.
    #[must_use]
    pub fn telling(mut self, invitees: Vec<UserId>) -> Self {
        if self.kind == ChangeKind::EventDeleted {
            self.also_told = invitees;
        }
        self
    }

    /// Whether it is an `invitation.accepted` of a waitlisted invitation promoted to a seat.
    pub fn is_promoted(&self) -> bool {
        self.promoted
    }

    /// Whether it is an `invitation.created` told to the invitee alone, when the contact the
    /// invitation was held for was proven (the address had its message when it was sent).
    pub fn is_released(&self) -> bool {
        self.released
    }

    /// The kind.
    pub fn kind(&self) -> ChangeKind {
        self.kind
    }

    /// When it happened.
    pub fn occurred_at(&self) -> DateTime<Utc> {
        self.occurred_at
    }

    /// What it is about.
    pub fn subject(&self) -> &ChangeSubject {
        &self.subject
    }

    /// Who receives it (R12): invitation changes go to the invitation's sender and invitee and to
    /// the event's owner and co-hosts; member and event changes to the event's members, and a
    /// removed member too.
    pub fn audience(&self) -> Audience {
        // `event.*` reach the event's followers (docs/api.md, "Who receives a change").
        match &self.subject {
            ChangeSubject::Invitation(details) if self.released => Audience::Invitee {
                event: details.invitation.event_id(),
                invitee: details.invitation.invitee_id(),
            },
            ChangeSubject::Invitation(details) => Audience::InvitationParties {
                event: details.invitation.event_id(),
                sender: details.invitation.sender_id(),
                // A held invitation is nothing to its invitee until the contact is proven.
                invitee: details
                    .invitation
                    .held_contact()
                    .is_none()
                    .then(|| details.invitation.invitee_id()),
            },
            ChangeSubject::Member { event, member } => Audience::Members {
                event: event.id,
                also: (self.kind == ChangeKind::MemberRemoved).then_some(member.user.id),
            },
            ChangeSubject::Event(event) => Audience::Followers {
                event: event.id,
                also: Vec::new(),
            },
            ChangeSubject::DeletedEvent(event) => Audience::Followers {
                event: event.id,
                also: self.also_told.clone(),
            },
        }
    }
}

/// The position of a recorded change in the feed: a global number that strictly increases in the
/// order readers can see changes (docs/architecture.md, "The change feed's order"). `0` is before
/// the first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeId(pub i64);

/// A change as recorded: its number and the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedChange {
    /// Its number.
    pub id: ChangeId,
    /// The change.
    pub change: Change,
}

/// What one read of the feed found: the changes, and how far it read. The two differ when stored
/// changes could not be read back (they are skipped, never fatal): a reader continues after
/// `read_up_to`, so that an unreadable change never holds it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedRead<T> {
    /// The changes read, oldest first.
    pub changes: Vec<T>,
    /// The id of the last change read, readable or not; the `after` asked for when none was.
    pub read_up_to: ChangeId,
}

/// A recorded change with the users it was resolved to at write time, for fan-out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressedChange {
    /// The change.
    pub recorded: RecordedChange,
    /// Who receives it.
    pub recipients: Vec<UserId>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::accounts::UserSummary;
    use crate::events::Role;
    use crate::invitations::Invitation;
    use crate::{Answer, MemberId};

    fn at(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, s).unwrap()
    }

    fn user(name: &str) -> UserSummary {
        UserSummary {
            id: UserId::generate(),
            name: Text::parse(name, 100, false).unwrap(),
        }
    }

    fn details(sender: &UserSummary, invitee: &UserSummary) -> InvitationDetails {
        InvitationDetails {
            invitation: Invitation::new_pending(
                EventId::generate(),
                sender.id,
                invitee.id,
                "sara@example.com".to_owned(),
                at(0),
            ),
            event_title: Text::parse("Launch", 200, false).unwrap(),
            invitee_title: Text::from_stored("Party".into()),
            sender: sender.clone(),
            invitee: invitee.clone(),
            event_deleted: None,
        }
    }

    #[test]
    fn kinds_round_trip_through_their_wire_names() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ChangeKind::parse("invitation.deleted"), None);
    }

    #[test]
    fn r12_invitation_changes_go_to_the_parties_and_the_events_managers() {
        let (olivia, sara) = (user("Olivia"), user("Sara"));
        let d = details(&olivia, &sara);
        let event = d.invitation.event_id();
        let change = Change::invitation_created(d).unwrap();
        assert_eq!(change.kind(), ChangeKind::InvitationCreated);
        assert_eq!(change.occurred_at(), at(0));
        assert_eq!(
            change.audience(),
            Audience::InvitationParties {
                event,
                sender: olivia.id,
                invitee: Some(sara.id)
            }
        );
    }

    #[test]
    fn an_answer_is_accepted_or_rejected_by_the_answer_and_never_of_a_pending_invitation() {
        let (olivia, sara) = (user("Olivia"), user("Sara"));
        let pending = details(&olivia, &sara);
        assert!(Change::invitation_answered(pending.clone()).is_err());
        assert!(Change::invitation_cancelled(pending.clone()).is_err());

        let mut rejected = pending.clone();
        rejected
            .invitation
            .answer(
                sara.id,
                None,
                crate::invitations::Reply::of(Answer::Reject),
                &crate::rsvp::RsvpRules::default(),
                at(5),
            )
            .unwrap();
        let change = Change::invitation_answered(rejected).unwrap();
        assert_eq!(change.kind(), ChangeKind::InvitationRejected);
        assert_eq!(change.occurred_at(), at(5));

        let mut accepted = pending;
        accepted
            .invitation
            .answer(
                sara.id,
                None,
                crate::invitations::Reply::of(Answer::Accept),
                &crate::rsvp::RsvpRules::default(),
                at(6),
            )
            .unwrap();
        let change = Change::invitation_answered(accepted.clone()).unwrap();
        assert_eq!(change.kind(), ChangeKind::InvitationAccepted);
        assert!(Change::invitation_created(accepted).is_err());
    }

    #[test]
    fn r12_a_removed_member_is_told_with_the_members_and_other_member_changes_go_to_members() {
        let sara = user("Sara");
        let event = EventRef {
            id: EventId::generate(),
            title: Text::parse("Launch", 200, false).unwrap(),
        };
        let member = Member {
            id: MemberId::generate(),
            user: sara.clone(),
            role: Role::Member,
            joined_at: at(1),
            guests: 0,
        };
        let removed = Change::member_removed(event.clone(), member.clone(), at(9));
        assert_eq!(
            removed.audience(),
            Audience::Members {
                event: event.id,
                also: Some(sara.id)
            }
        );
        let joined = Change::member_joined(event.clone(), member);
        assert_eq!(joined.occurred_at(), at(1));
        assert_eq!(
            joined.audience(),
            Audience::Members {
                event: event.id,
                also: None
            }
        );
        let deleted = Change::event_deleted(event.clone(), at(10), Vec::new());
        assert_eq!(deleted.audience().event(), event.id);
    }
}
