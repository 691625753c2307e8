//! The Invitation aggregate and its lifecycle (answer, cancel, resend, expiry), and the batch rule
//! of sending invitations (R2–R10, R12; docs/api.md, "Invitation lifecycle").

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use crate::values::InvalidContact;
use crate::{
    Answer, Contact, Email, EventId, InvitationId, InvitationStatus, Mobile, PhoneRegion, Role,
    Text, UserId, UserSummary,
};

/// Where an invitation stands as stored: waiting, answered, cancelled, or marked expired. A pending
/// invitation whose `expires_at` has passed is expired too before anything marks it so
/// ([`Invitation::status_at`]).
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
    /// Withdrawn while pending.
    Cancelled {
        /// When.
        at: DateTime<Utc>,
    },
    /// Its `expires_at` passed while it was pending.
    Expired,
}

/// Reads a whole number of seconds, minutes, hours or days (`90s`, `15m`, `36h`, `7d`): digits
/// followed by one unit, nothing else (no sign, space, fraction or other unit). The grammar of
/// every duration setting (docs/operations.md).
pub fn whole_duration(raw: &str) -> Option<Duration> {
    let (digits, unit) = raw.split_at(raw.len().saturating_sub(1));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count: i64 = digits.parse().ok()?;
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    Duration::try_seconds(count.checked_mul(seconds_per)?)
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
    /// Why an invitation with this status is not pending; `None` when it is.
    pub const fn of(status: InvitationStatus) -> Option<Self> {
        match status {
            InvitationStatus::Pending => None,
            InvitationStatus::Accepted | InvitationStatus::Rejected => Some(Self::Answered),
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
}

impl Invitation {
    /// The least time between two resends of one invitation; the first resend may follow the send
    /// at once.
    pub const RESEND_INTERVAL: Duration = Duration::minutes(10);
    /// The most characters of the sender's note (line breaks allowed).
    pub const MESSAGE_MAX: usize = 500;

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
        }
    }

    /// The same invitation with the sender's note.
    #[must_use]
    pub fn with_message(mut self, message: Option<Text>) -> Self {
        self.message = message;
        self
    }

    /// The same invitation expiring `ttl` after it was sent (never with [`InvitationTtl::NEVER`]).
    #[must_use]
    pub fn expiring(mut self, ttl: InvitationTtl) -> Self {
        self.expires_at = ttl.expires_at(self.created_at);
        self
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
        }
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
    pub fn standing_of(&self, user: UserId, role: Option<Role>) -> Standing {
        if user == self.sender_id {
            Standing::Sender
        } else if user == self.invitee_id {
            Standing::Invitee
        } else if role.is_some_and(Role::manages_invitations) {
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

    /// Records `by`'s answer at `now`. `role` is `by`'s role in the event (`None`: not a member).
    ///
    /// # Errors
    /// [`AnswerRefused::NotVisible`] when `by` may not see it (R12), [`AnswerRefused::BySender`]
    /// when `by` may see it but was not invited, [`AnswerRefused::NotPending`] when it was
    /// answered, cancelled or has expired (R10).
    pub fn answer(
        &mut self,
        by: UserId,
        role: Option<Role>,
        answer: Answer,
        now: DateTime<Utc>,
    ) -> Result<(), AnswerRefused> {
        match self.standing_of(by, role) {
            Standing::Outsider => return Err(AnswerRefused::NotVisible),
            Standing::Sender | Standing::Manager => return Err(AnswerRefused::BySender),
            Standing::Invitee => {}
        }
        self.pending_at(now)?;
        self.state = InvitationState::Answered { answer, at: now };
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
        self.state = InvitationState::Cancelled { at: now };
        Ok(())
    }

    /// When the next resend is allowed: at once if it was never resent, else
    /// [`Invitation::RESEND_INTERVAL`] after the last resend.
    pub fn next_resend_at(&self) -> Option<DateTime<Utc>> {
        self.last_resent_at.map(|last| last + Self::RESEND_INTERVAL)
    }

    /// Resends it at `now`, by its sender or one of the event's managers: it expires `ttl` from
    /// now (still never with [`InvitationTtl::NEVER`]).
    ///
    /// # Errors
    /// As [`Invitation::cancel`], and [`ManageRefused::TooSoon`] before
    /// [`Invitation::next_resend_at`].
    pub fn resend(
        &mut self,
        by: UserId,
        role: Option<Role>,
        ttl: InvitationTtl,
        now: DateTime<Utc>,
    ) -> Result<(), ManageRefused> {
        self.may_manage(by, role)?;
        self.pending_at(now)?;
        if let Some(next) = self.next_resend_at().filter(|next| *next > now) {
            return Err(ManageRefused::TooSoon {
                retry_after: next - now,
            });
        }
        self.last_resent_at = Some(now);
        self.expires_at = ttl.expires_at(now);
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
    /// The status of the state as held: as stored, or as of the last [`Invitation::as_of`]. Use
    /// [`Invitation::status_at`] to decide anything.
    pub fn status(&self) -> InvitationStatus {
        match self.state {
            InvitationState::Pending => InvitationStatus::Pending,
            InvitationState::Answered { answer, .. } => answer.status(),
            InvitationState::Cancelled { .. } => InvitationStatus::Cancelled,
            InvitationState::Expired => InvitationStatus::Expired,
        }
    }
    /// When it was answered, if it was.
    pub fn answered_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            InvitationState::Answered { at, .. } => Some(at),
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
        (InvitationStatus::Pending, Some(at)) if at <= now => InvitationStatus::Expired,
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
    /// The sender.
    pub sender: UserSummary,
    /// The invitee.
    pub invitee: UserSummary,
}

impl InvitationDetails {
    /// The same, with the invitation as it stands at `now` ([`Invitation::as_of`]).
    #[must_use]
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        self.invitation = self.invitation.as_of(now);
        self
    }
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
                    // R8 counts rejections only: a cancelled or expired invitation blocks nothing.
                    Some(
                        InvitationStatus::Accepted
                        | InvitationStatus::Cancelled
                        | InvitationStatus::Expired,
                    )
                    | None => Planned::Invite(InviteePlan {
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
}

/// The batch rule's decision for one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Planned {
    /// Send an invitation.
    Invite(InviteePlan),
    /// Report it as ignored.
    Ignore(Ignored),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock;
    use crate::testing::FixedClock;

    struct Parties {
        sender: UserId,
        invitee: UserId,
        stranger: UserId,
    }

    fn parties() -> Parties {
        Parties {
            sender: UserId::generate(),
            invitee: UserId::generate(),
            stranger: UserId::generate(),
        }
    }

    fn sent(p: &Parties, now: DateTime<Utc>, ttl: InvitationTtl) -> Invitation {
        Invitation::new_pending(
            EventId::generate(),
            p.sender,
            p.invitee,
            "x@y.io".into(),
            now,
        )
        .expiring(ttl)
    }

    #[test]
    fn invitation_ttl_reads_whole_seconds_minutes_hours_and_days_or_0_for_never() {
        let parsed = |raw| InvitationTtl::parse(raw).map(InvitationTtl::duration);
        assert_eq!(parsed("90s"), Ok(Some(Duration::seconds(90))));
        assert_eq!(parsed("15m"), Ok(Some(Duration::minutes(15))));
        assert_eq!(parsed("36h"), Ok(Some(Duration::hours(36))));
        assert_eq!(parsed("7d"), Ok(Some(Duration::days(7))));
        assert_eq!(parsed("3650d"), Ok(Some(Duration::days(3650))));
        assert_eq!(parsed("0"), Ok(None));
        assert_eq!(parsed("0s"), Ok(None));
        assert_eq!(
            InvitationTtl::default(),
            InvitationTtl::parse("7d").unwrap()
        );
        for bad in [
            "",
            "7",
            "d",
            "7D",
            "7 d",
            " 7d",
            "+7d",
            "-7d",
            "1.5h",
            "7w",
            "7dd",
            "1h30m",
            "٧d",
            "3651d",
            "99999999999999999999d",
            "9223372036854775807s",
        ] {
            assert_eq!(
                InvitationTtl::parse(bad),
                Err(InvitationTtlError),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_new_invitation_expires_one_ttl_after_it_was_sent_or_never() {
        let p = parties();
        let now = FixedClock::START;
        assert_eq!(
            sent(&p, now, InvitationTtl::DEFAULT).expires_at(),
            Some(now + Duration::days(7))
        );
        assert_eq!(sent(&p, now, InvitationTtl::NEVER).expires_at(), None);
    }

    #[test]
    fn a_pending_invitation_is_expired_from_its_expiry_on_as_the_clock_moves() {
        let p = parties();
        let clock = FixedClock::default();
        let ttl = InvitationTtl::parse("2s").unwrap();
        let invitation = sent(&p, clock.now(), ttl);
        assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Pending);
        clock.advance(Duration::milliseconds(1999));
        assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Pending);
        clock.advance(Duration::milliseconds(1));
        assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Expired);
        assert_eq!(invitation.status(), InvitationStatus::Pending, "as stored");
        let seen = invitation.clone().as_of(clock.now());
        assert_eq!(seen.status(), InvitationStatus::Expired);
        assert_eq!(seen.state(), InvitationState::Expired);
        // The clock going back does not revive what was marked expired.
        clock.advance(Duration::seconds(-10));
        assert_eq!(seen.status_at(clock.now()), InvitationStatus::Expired);
        assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Pending);

        let never = sent(&p, clock.now(), InvitationTtl::NEVER);
        clock.advance(Duration::days(36_500));
        assert_eq!(never.status_at(clock.now()), InvitationStatus::Pending);
    }

    #[test]
    fn only_pending_invitations_expire() {
        let p = parties();
        let clock = FixedClock::default();
        let mut answered = sent(&p, clock.now(), InvitationTtl::parse("1h").unwrap());
        answered
            .answer(p.invitee, None, Answer::Reject, clock.now())
            .unwrap();
        let mut cancelled = sent(&p, clock.now(), InvitationTtl::parse("1h").unwrap());
        cancelled.cancel(p.sender, None, clock.now()).unwrap();
        clock.advance(Duration::days(1));
        assert_eq!(answered.status_at(clock.now()), InvitationStatus::Rejected);
        assert_eq!(
            cancelled.status_at(clock.now()),
            InvitationStatus::Cancelled
        );
    }

    #[test]
    fn r10_an_expired_invitation_cannot_be_answered_cancelled_or_resent() {
        let p = parties();
        let clock = FixedClock::default();
        let ttl = InvitationTtl::parse("1h").unwrap();
        let mut invitation = sent(&p, clock.now(), ttl);
        clock.advance(Duration::hours(1));
        let now = clock.now();
        assert_eq!(
            invitation.answer(p.invitee, None, Answer::Accept, now),
            Err(AnswerRefused::NotPending(NotPending::Expired))
        );
        assert_eq!(
            invitation.cancel(p.sender, None, now),
            Err(ManageRefused::NotPending(NotPending::Expired))
        );
        assert_eq!(
            invitation.resend(p.sender, None, ttl, now),
            Err(ManageRefused::NotPending(NotPending::Expired))
        );
        assert_eq!(invitation.state(), InvitationState::Pending, "unchanged");
    }

    #[test]
    fn r12_the_sender_the_invitee_and_the_events_managers_see_an_invitation_nobody_else() {
        let p = parties();
        let invitation = sent(&p, FixedClock::START, InvitationTtl::DEFAULT);
        assert_eq!(invitation.standing_of(p.sender, None), Standing::Sender);
        assert_eq!(invitation.standing_of(p.invitee, None), Standing::Invitee);
        assert_eq!(
            invitation.standing_of(p.stranger, Some(Role::Owner)),
            Standing::Manager
        );
        for role in [None, Some(Role::Member)] {
            assert_eq!(invitation.standing_of(p.stranger, role), Standing::Outsider);
            assert!(!invitation.is_visible_to(p.stranger, role));
        }
        for manager in [Role::Owner, Role::Cohost] {
            assert!(invitation.is_visible_to(p.stranger, Some(manager)));
        }
    }

    #[test]
    fn the_sender_and_the_events_managers_cancel_the_invitee_may_not_and_others_see_nothing() {
        let p = parties();
        let now = FixedClock::START;
        let fresh = || sent(&p, now, InvitationTtl::DEFAULT);
        for (by, role) in [
            (p.sender, None),
            (p.stranger, Some(Role::Owner)),
            (p.stranger, Some(Role::Cohost)),
        ] {
            let mut invitation = fresh();
            invitation.cancel(by, role, now).unwrap();
            assert_eq!(invitation.status(), InvitationStatus::Cancelled);
            assert_eq!(invitation.cancelled_at(), Some(now));
            assert_eq!(invitation.answered_at(), None);
        }
        let mut invitation = fresh();
        assert_eq!(
            invitation.cancel(p.invitee, None, now),
            Err(ManageRefused::ByInvitee)
        );
        for role in [None, Some(Role::Member)] {
            assert_eq!(
                invitation.cancel(p.stranger, role, now),
                Err(ManageRefused::NotVisible)
            );
        }
        assert_eq!(invitation.state(), InvitationState::Pending);
    }

    #[test]
    fn an_answered_or_cancelled_invitation_cannot_be_cancelled_answered_or_resent() {
        let p = parties();
        let now = FixedClock::START;
        let ttl = InvitationTtl::DEFAULT;
        let mut accepted = sent(&p, now, ttl);
        accepted
            .answer(p.invitee, None, Answer::Accept, now)
            .unwrap();
        assert_eq!(
            accepted.cancel(p.sender, None, now),
            Err(ManageRefused::NotPending(NotPending::Answered))
        );
        assert_eq!(
            accepted.resend(p.sender, None, ttl, now),
            Err(ManageRefused::NotPending(NotPending::Answered))
        );
        let mut cancelled = sent(&p, now, ttl);
        cancelled.cancel(p.sender, None, now).unwrap();
        assert_eq!(
            cancelled.answer(p.invitee, None, Answer::Accept, now),
            Err(AnswerRefused::NotPending(NotPending::Cancelled))
        );
        assert_eq!(
            cancelled.cancel(p.sender, None, now),
            Err(ManageRefused::NotPending(NotPending::Cancelled))
        );
        assert_eq!(
            cancelled.resend(p.sender, None, ttl, now),
            Err(ManageRefused::NotPending(NotPending::Cancelled))
        );
    }

    #[test]
    fn the_events_managers_may_see_but_not_answer_an_invitation() {
        let p = parties();
        let mut invitation = sent(&p, FixedClock::START, InvitationTtl::DEFAULT);
        assert_eq!(
            invitation.answer(
                p.stranger,
                Some(Role::Owner),
                Answer::Accept,
                FixedClock::START
            ),
            Err(AnswerRefused::BySender)
        );
        assert_eq!(
            invitation.answer(
                p.stranger,
                Some(Role::Member),
                Answer::Accept,
                FixedClock::START
            ),
            Err(AnswerRefused::NotVisible)
        );
    }

    #[test]
    fn a_first_resend_may_follow_the_send_at_once_and_each_later_one_waits_ten_minutes() {
        let p = parties();
        let clock = FixedClock::default();
        let ttl = InvitationTtl::parse("1h").unwrap();
        let mut invitation = sent(&p, clock.now(), ttl);
        assert_eq!(invitation.next_resend_at(), None);

        clock.advance(Duration::seconds(1));
        invitation.resend(p.sender, None, ttl, clock.now()).unwrap();
        let first = clock.now();
        assert_eq!(invitation.last_resent_at(), Some(first));
        assert_eq!(invitation.expires_at(), Some(first + Duration::hours(1)));
        assert_eq!(invitation.status(), InvitationStatus::Pending);

        clock.advance(Duration::minutes(9) + Duration::seconds(59));
        assert_eq!(
            invitation.resend(p.sender, None, ttl, clock.now()),
            Err(ManageRefused::TooSoon {
                retry_after: Duration::seconds(1)
            })
        );
        assert_eq!(invitation.last_resent_at(), Some(first), "unchanged");
        clock.advance(Duration::seconds(1));
        invitation
            .resend(p.stranger, Some(Role::Owner), ttl, clock.now())
            .unwrap();
        assert_eq!(invitation.last_resent_at(), Some(clock.now()));
        assert_eq!(
            invitation.next_resend_at(),
            Some(clock.now() + Duration::minutes(10))
        );
        assert_eq!(
            invitation.resend(p.sender, None, ttl, clock.now()),
            Err(ManageRefused::TooSoon {
                retry_after: Duration::minutes(10)
            })
        );
    }

    #[test]
    fn a_resend_pushes_the_expiry_a_full_ttl_out_and_never_stays_never() {
        let p = parties();
        let clock = FixedClock::default();
        let ttl = InvitationTtl::parse("1h").unwrap();
        let mut invitation = sent(&p, clock.now(), ttl);
        clock.advance(Duration::minutes(59));
        invitation.resend(p.sender, None, ttl, clock.now()).unwrap();
        clock.advance(Duration::minutes(30));
        assert_eq!(invitation.status_at(clock.now()), InvitationStatus::Pending);

        let mut never = sent(&p, clock.now(), InvitationTtl::NEVER);
        never
            .resend(p.sender, None, InvitationTtl::NEVER, clock.now())
            .unwrap();
        assert_eq!(never.expires_at(), None);
    }

    #[test]
    fn the_invitee_and_outsiders_may_not_resend() {
        let p = parties();
        let mut invitation = sent(&p, FixedClock::START, InvitationTtl::DEFAULT);
        let ttl = InvitationTtl::DEFAULT;
        assert_eq!(
            invitation.resend(p.invitee, None, ttl, FixedClock::START),
            Err(ManageRefused::ByInvitee)
        );
        assert_eq!(
            invitation.resend(p.stranger, Some(Role::Member), ttl, FixedClock::START),
            Err(ManageRefused::NotVisible)
        );
        assert_eq!(invitation.last_resent_at(), None);
    }

    #[test]
    fn r7_and_r8_a_cancelled_or_expired_latest_invitation_blocks_nothing() {
        let sender = UserId::generate();
        let bob = UserSummary {
            id: UserId::generate(),
            name: Text::from_stored("Bob".into()),
        };
        let entries =
            InvitationEntries::parse(&["bob@example.com"], PhoneRegion::default()).unwrap();
        let plan = |latest| {
            entries.plan(
                sender,
                |_| Some(&bob),
                |_| InviteeState {
                    is_member: false,
                    latest,
                },
            )
        };
        for latest in [
            None,
            Some(InvitationStatus::Accepted),
            Some(InvitationStatus::Cancelled),
            Some(InvitationStatus::Expired),
        ] {
            assert!(
                matches!(plan(latest)[..], [Planned::Invite(_)]),
                "{latest:?}"
            );
        }
        let ignored = |latest| match &plan(Some(latest))[..] {
            [Planned::Ignore(ignored)] => ignored.reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ignored(InvitationStatus::Pending),
            IgnoreReason::AlreadyInvited
        );
        assert_eq!(
            ignored(InvitationStatus::Rejected),
            IgnoreReason::RejectedLastInvitation
        );
    }

    #[test]
    fn a_status_read_alone_expires_by_the_same_rule() {
        let now = FixedClock::START;
        let past = Some(now - Duration::seconds(1));
        assert_eq!(
            status_at(InvitationStatus::Pending, past, now),
            InvitationStatus::Expired
        );
        assert_eq!(
            status_at(InvitationStatus::Pending, Some(now), now),
            InvitationStatus::Expired
        );
        assert_eq!(
            status_at(
                InvitationStatus::Pending,
                Some(now + Duration::seconds(1)),
                now
            ),
            InvitationStatus::Pending
        );
        assert_eq!(
            status_at(InvitationStatus::Pending, None, now),
            InvitationStatus::Pending
        );
        assert_eq!(
            status_at(InvitationStatus::Accepted, past, now),
            InvitationStatus::Accepted
        );
    }
}
