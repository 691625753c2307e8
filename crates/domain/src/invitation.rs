//! The Invitation aggregate and the batch rule of sending invitations (R2–R10, R12).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::values::InvalidContact;
use crate::{
    Answer, Contact, Email, EventId, InvitationId, InvitationStatus, Mobile, PhoneRegion, Text,
    UserId, UserSummary,
};

/// Whether an invitation waits for an answer or has one; an answer always has its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationState {
    /// Not answered yet.
    Pending,
    /// Answered once and for all (R10).
    Answered {
        /// The answer.
        answer: Answer,
        /// When it was given (R11).
        at: DateTime<Utc>,
    },
}

/// An invitation of one user (the invitee) to one event, by the event's owner (the sender).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    id: InvitationId,
    event_id: EventId,
    sender_id: UserId,
    invitee_id: UserId,
    contact: String,
    created_at: DateTime<Utc>,
    state: InvitationState,
}

/// Why an answer is refused (R10, R12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefused {
    /// The caller is neither sender nor invitee: for them the invitation does not exist (R12).
    #[error("invitation not found")]
    NotVisible,
    /// The sender tried to answer their own invitation.
    #[error("only the invitee may answer an invitation")]
    BySender,
    /// It was answered before.
    #[error("the invitation has already been answered")]
    AlreadyAnswered,
}

impl Invitation {
    /// A new pending invitation.
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
            created_at: now,
            state: InvitationState::Pending,
        }
    }

    /// Rebuilds an invitation from storage.
    pub fn restore(
        id: InvitationId,
        event_id: EventId,
        sender_id: UserId,
        invitee_id: UserId,
        contact: String,
        created_at: DateTime<Utc>,
        state: InvitationState,
    ) -> Self {
        Self {
            id,
            event_id,
            sender_id,
            invitee_id,
            contact,
            created_at,
            state,
        }
    }

    /// Records `by`'s answer at `now`.
    ///
    /// # Errors
    /// [`AnswerRefused::NotVisible`] when `by` is a stranger (R12), [`AnswerRefused::BySender`] when
    /// `by` sent it, [`AnswerRefused::AlreadyAnswered`] when it is no longer pending (R10).
    pub fn answer(
        &mut self,
        by: UserId,
        answer: Answer,
        now: DateTime<Utc>,
    ) -> Result<(), AnswerRefused> {
        if !self.is_visible_to(by) {
            return Err(AnswerRefused::NotVisible);
        }
        if by != self.invitee_id {
            return Err(AnswerRefused::BySender);
        }
        if self.state != InvitationState::Pending {
            return Err(AnswerRefused::AlreadyAnswered);
        }
        self.state = InvitationState::Answered { answer, at: now };
        Ok(())
    }

    /// Only the sender and the invitee know that an invitation exists (R12).
    pub fn is_visible_to(&self, user: UserId) -> bool {
        user == self.sender_id || user == self.invitee_id
    }

    /// The invitation's id.
    pub fn id(&self) -> InvitationId {
        self.id
    }
    /// The event invited to.
    pub fn event_id(&self) -> EventId {
        self.event_id
    }
    /// Who sent it (the event's owner).
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
    /// When it was sent.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// Pending or answered.
    pub fn state(&self) -> InvitationState {
        self.state
    }
    /// The status derived from the state.
    pub fn status(&self) -> InvitationStatus {
        match self.state {
            InvitationState::Pending => InvitationStatus::Pending,
            InvitationState::Answered { answer, .. } => answer.status(),
        }
    }
    /// When it was answered, if it was.
    pub fn answered_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            InvitationState::Pending => None,
            InvitationState::Answered { at, .. } => Some(at),
        }
    }
}

/// An invitation with what its two parties may see around it (docs/api.md, "Objects").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationDetails {
    /// The invitation.
    pub invitation: Invitation,
    /// The event's title.
    pub event_title: Text,
    /// The sender.
    pub sender: UserSummary,
    /// The invitee.
    pub invitee: UserSummary,
}

/// Why an entry of a batch was not sent (docs/api.md, "Ignore reasons").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IgnoreReason {
    /// R4: nobody has that contact.
    NotAUser,
    /// R2: neither an email nor a mobile.
    InvalidContact,
    /// R5: the sender's own contact.
    SelfInvitation,
    /// R6: already a member of the event.
    AlreadyMember,
    /// R7: a pending invitation to the event exists.
    AlreadyInvited,
    /// R8: the user rejected their latest invitation to the event.
    RejectedLastInvitation,
    /// R9: an earlier entry of the request reached the same user.
    DuplicateInRequest,
}

impl IgnoreReason {
    /// The machine-readable code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NotAUser => "not_a_user",
            Self::InvalidContact => "invalid_contact",
            Self::SelfInvitation => "self_invitation",
            Self::AlreadyMember => "already_member",
            Self::AlreadyInvited => "already_invited",
            Self::RejectedLastInvitation => "rejected_last_invitation",
            Self::DuplicateInRequest => "duplicate_in_request",
        }
    }

    /// Every reason, for documentation and exhaustive tests.
    pub const ALL: [Self; 7] = [
        Self::NotAUser,
        Self::InvalidContact,
        Self::SelfInvitation,
        Self::AlreadyMember,
        Self::AlreadyInvited,
        Self::RejectedLastInvitation,
        Self::DuplicateInRequest,
    ];
}

/// An entry that was not sent, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    /// The entry as typed (trimmed).
    pub contact: String,
    /// Why.
    pub reason: IgnoreReason,
}

/// The entries of one send request: trimmed, blanks dropped, each read as a contact (R2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationEntries {
    entries: Vec<(String, Result<Contact, InvalidContact>)>,
}

/// Why the entries of a send request are refused as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvitationEntriesError {
    /// Nothing but blank entries.
    #[error("no entry that is not blank")]
    NoEntries,
    /// More than [`InvitationEntries::MAX`] entries.
    #[error("more than {max} entries")]
    TooMany {
        /// The most entries allowed ([`InvitationEntries::MAX`]).
        max: usize,
    },
}

impl InvitationEntries {
    /// The most entries one request may hold, blanks included.
    pub const MAX: usize = 1000;

    /// Reads the raw entries of a request.
    ///
    /// # Errors
    /// [`InvitationEntriesError::TooMany`] over [`Self::MAX`] entries,
    /// [`InvitationEntriesError::NoEntries`] when every entry is blank.
    pub fn parse<S: AsRef<str>>(
        raw: &[S],
        region: PhoneRegion,
    ) -> Result<Self, InvitationEntriesError> {
        if raw.len() > Self::MAX {
            return Err(InvitationEntriesError::TooMany { max: Self::MAX });
        }
        let entries: Vec<_> = raw
            .iter()
            .filter_map(|entry| {
                let contact = Contact::parse(entry.as_ref(), region)?;
                Some((entry.as_ref().trim().to_owned(), contact))
            })
            .collect();
        if entries.is_empty() {
            return Err(InvitationEntriesError::NoEntries);
        }
        Ok(Self { entries })
    }

    /// The distinct valid emails, for one look-up.
    pub fn emails(&self) -> Vec<Email> {
        self.distinct(|contact| match contact {
            Contact::Email(email) => Some(email),
            Contact::Mobile(_) => None,
        })
    }

    /// The distinct valid mobiles, for one look-up.
    pub fn mobiles(&self) -> Vec<Mobile> {
        self.distinct(|contact| match contact {
            Contact::Mobile(mobile) => Some(mobile),
            Contact::Email(_) => None,
        })
    }

    fn distinct<T: Clone + Eq + std::hash::Hash>(
        &self,
        pick: impl Fn(&Contact) -> Option<&T>,
    ) -> Vec<T> {
        let set: HashSet<&T> = self
            .entries
            .iter()
            .filter_map(|(_, contact)| contact.as_ref().ok().and_then(&pick))
            .collect();
        set.into_iter().cloned().collect()
    }

    /// How many non-blank entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: parsing refuses a request without entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Decides, entry by entry and in request order, whom to invite and what to ignore (R2, R4–R9).
    ///
    /// `find_user` answers which user has a contact; `state_of` what the event already holds for a
    /// user. Both are answered from data loaded beforehand: this function does no I/O.
    pub fn plan<'u>(
        &self,
        sender: UserId,
        find_user: impl Fn(&Contact) -> Option<&'u UserSummary>,
        state_of: impl Fn(UserId) -> InviteeState,
    ) -> Vec<Planned> {
        let mut reached = HashSet::new();
        self.entries
            .iter()
            .map(|(typed, contact)| {
                let ignore = |reason| {
                    Planned::Ignore(Ignored {
                        contact: typed.clone(),
                        reason,
                    })
                };
                let Ok(contact) = contact else {
                    return ignore(IgnoreReason::InvalidContact);
                };
                let Some(user) = find_user(contact) else {
                    return ignore(IgnoreReason::NotAUser);
                };
                if !reached.insert(user.id) {
                    return ignore(IgnoreReason::DuplicateInRequest);
                }
                if user.id == sender {
                    return ignore(IgnoreReason::SelfInvitation);
                }
                let state = state_of(user.id);
                if state.is_member {
                    return ignore(IgnoreReason::AlreadyMember);
                }
                match state.latest {
                    Some(InvitationStatus::Pending) => ignore(IgnoreReason::AlreadyInvited),
                    Some(InvitationStatus::Rejected) => {
                        ignore(IgnoreReason::RejectedLastInvitation)
                    }
                    Some(InvitationStatus::Accepted) | None => Planned::Invite(InviteePlan {
                        contact: typed.clone(),
                        invitee: user.clone(),
                    }),
                }
            })
            .collect()
    }
}

/// What an event already holds for one user: membership and their latest invitation's status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InviteeState {
    /// Whether the user is a member (R6).
    pub is_member: bool,
    /// The status of the user's most recent invitation to the event (R7, R8).
    pub latest: Option<InvitationStatus>,
}

/// An entry the batch rule decided to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteePlan {
    /// The entry as typed.
    pub contact: String,
    /// The user it reaches.
    pub invitee: UserSummary,
}

/// The batch rule's decision for one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Planned {
    /// Send an invitation.
    Invite(InviteePlan),
    /// Report it as ignored.
    Ignore(Ignored),
}
