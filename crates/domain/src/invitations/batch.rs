//! The batch rule of sending invitations: parsing the entries of a request and planning each
//! invitee (R2–R9; docs/api.md, "Ignore reasons").

use std::collections::HashSet;

use crate::accounts::{Reached, UserSummary};
use crate::values::InvalidContact;
use crate::{Contact, Email, InvitationStatus, Mobile, PhoneRegion, UserId};

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
    /// The contact has had its day's share of invitations (docs/api.md, "Daily quotas").
    RecipientLimit,
    /// The sender has named as many contacts as they may today (docs/api.md, "Daily quotas").
    QuotaExceeded,
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
            Self::RecipientLimit => "recipient_limit",
            Self::QuotaExceeded => "quota_exceeded",
        }
    }

    /// Every reason, for documentation and exhaustive tests.
    pub const ALL: [Self; 9] = [
        Self::NotAUser,
        Self::InvalidContact,
        Self::SelfInvitation,
        Self::AlreadyMember,
        Self::AlreadyInvited,
        Self::RejectedLastInvitation,
        Self::DuplicateInRequest,
        Self::RecipientLimit,
        Self::QuotaExceeded,
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

    /// The distinct valid contacts, in the order the request first names them: what a send
    /// looks up, and what the day's quota of contacts named counts.
    pub fn named(&self) -> Vec<Contact> {
        let mut seen = HashSet::new();
        self.entries
            .iter()
            .filter_map(|(_, contact)| contact.as_ref().ok())
            .filter(|contact| seen.insert(*contact))
            .cloned()
            .collect()
    }

    /// The emails and the mobiles among `contacts`, for one look-up.
    pub fn split(contacts: &[Contact]) -> (Vec<Email>, Vec<Mobile>) {
        let mut emails = Vec::new();
        let mut mobiles = Vec::new();
        for contact in contacts {
            match contact {
                Contact::Email(email) => emails.push(email.clone()),
                Contact::Mobile(mobile) => mobiles.push(mobile.clone()),
            }
        }
        (emails, mobiles)
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
    /// `over_quota` tells the contacts past the sender's day's quota of contacts named (never
    /// looked up); `find_user` answers whom a contact reaches (its proven owner, or an account
    /// that claims it, for whom the invitation is then held); `state_of` what the event already
    /// holds for a user. All are answered from data loaded beforehand: this function does no I/O.
    pub fn plan<'u>(
        &self,
        sender: UserId,
        over_quota: impl Fn(&Contact) -> bool,
        find_user: impl Fn(&Contact) -> Option<&'u Reached>,
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
                if over_quota(contact) {
                    return ignore(IgnoreReason::QuotaExceeded);
                }
                let Some(found) = find_user(contact) else {
                    return ignore(IgnoreReason::NotAUser);
                };
                let user = &found.user;
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
                    // R7: one live invitation (pending, "maybe" or waitlisted) at a time.
                    Some(
                        InvitationStatus::Pending
                        | InvitationStatus::Tentative
                        | InvitationStatus::Waitlisted,
                    ) => ignore(IgnoreReason::AlreadyInvited),
                    Some(InvitationStatus::Rejected) => {
                        ignore(IgnoreReason::RejectedLastInvitation)
                    }
                    // R8 counts rejections only: a cancelled or expired invitation blocks nothing.
                    Some(
                        InvitationStatus::Accepted
                        | InvitationStatus::Cancelled
                        | InvitationStatus::Expired,
                    )
                    | None => Planned::Invite(InviteePlan {
                        contact: typed.clone(),
                        invitee: user.clone(),
                        reached_by: crate::accounts::contact_key(contact).to_owned(),
                        held: found
                            .held
                            .then(|| crate::accounts::contact_key(contact).to_owned()),
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
    /// The status of the user's most recent invitation to the event (R7, R8), as of the send: a
    /// pending invitation past its expiry is [`InvitationStatus::Expired`] here.
    pub latest: Option<InvitationStatus>,
}

/// An entry the batch rule decided to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteePlan {
    /// The entry as typed.
    pub contact: String,
    /// The user it reaches.
    pub invitee: UserSummary,
    /// The contact it reaches them by, normalized: what the day's cap per contact counts.
    pub reached_by: String,
    /// When the invitee only claims the contact: the contact (normalized) whose proof the
    /// invitation waits for.
    pub held: Option<String>,
}

/// The batch rule's decision for one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Planned {
    /// Send an invitation.
    Invite(InviteePlan),
    /// Report it as ignored.
    Ignore(Ignored),
}
