//! The ports: what the domain needs from the outside world, as traits the adapters implement.
//!
//! Every method that touches storage is one coarse, atomic operation: where a use case must change
//! two things together (accepting = answer + membership, R11), the port has one method for it and
//! the adapter runs it in one transaction. See `docs/architecture.md`.

use std::collections::HashMap;
use std::error::Error as StdError;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::change::{ChangeId, Delivery, FeedRead, RecordedChange};
use crate::delivery::{
    Attempt, AttemptRecord, ClaimedDelivery, InvitationEmail, NewDelivery, Verdict,
};
use crate::idempotency::{
    ClaimId, IdempotencyKey, IdempotencyRecord, RequestFingerprint, StoredResponse,
};
use crate::invitation::NotPending;
use crate::webhook::{Webhook, WebhookUrl};

use crate::{
    Actor, Email, Event, EventDetails, EventDetailsError, EventId, EventPatch, Invitation,
    InvitationDetails, InvitationId, InviteeState, Login, Member, Membership, Mobile, Page,
    PageRequest, Password, Role, StatusFilter, Text, User, UserId, UserSummary, WebhookId,
};

/// Any error an adapter reports, boxed so that no adapter type leaks into the domain.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A failure of the infrastructure behind a port, as opposed to a domain outcome.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The database (or another backing service) cannot be reached right now; retrying later may
    /// work. Adapters MUST report this within a few seconds rather than hang.
    #[error("service unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else that went wrong.
    #[error("unexpected infrastructure error")]
    Unexpected(#[source] BoxError),
}

impl PortError {
    /// Wraps an unexpected error.
    pub fn unexpected(error: impl Into<BoxError>) -> Self {
        Self::Unexpected(error.into())
    }
}

/// The time, so that tests can fix it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A password hash in PHC string form (e.g. `$argon2id$v=19$...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordHash(pub String);

/// Hashes and checks passwords. Hashing is deliberately slow: implementations MUST run it off the
/// async executor's threads and bound how many hashes run at once.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a new password.
    ///
    /// # Errors
    /// [`PortError`] when hashing cannot run.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PortError>;

    /// Whether `password` matches `hash`. With `hash` `None` (no such account) it MUST take about
    /// as long as a real check and return `false`, so that timing does not reveal accounts.
    ///
    /// # Errors
    /// [`PortError`] when checking cannot run.
    async fn verify(
        &self,
        password: &Password,
        hash: Option<PasswordHash>,
    ) -> Result<bool, PortError>;
}

/// The SHA-256 (or similar) digest of a bearer token: the only form in which tokens are stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenHash(pub Vec<u8>);

/// A freshly issued bearer token: the secret for the client and its digest for storage. Its
/// `Debug` shows the digest only.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    /// The secret, given to the client once.
    pub secret: SecretString,
    /// Its digest, stored.
    pub hash: TokenHash,
}

/// Makes and digests bearer tokens.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    /// A new token of at least 32 random bytes.
    fn issue(&self) -> IssuedToken;
    /// The digest of a token a client presented.
    fn digest(&self, secret: &str) -> TokenHash;
}

/// A user to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The new user's id.
    pub id: UserId,
    /// Display name.
    pub name: Text,
    /// Email, if any.
    pub email: Option<Email>,
    /// Mobile, if any.
    pub mobile: Option<Mobile>,
    /// The password's hash.
    pub password_hash: PasswordHash,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// Another account has this email (compared case-insensitively).
    #[error("email taken")]
    EmailTaken,
    /// Another account has this mobile (compared in E.164).
    #[error("mobile taken")]
    MobileTaken,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Stores users.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Creates a user.
    ///
    /// # Errors
    /// MUST return [`CreateUserError::EmailTaken`] / [`CreateUserError::MobileTaken`] when the
    /// database's uniqueness constraint on that column refuses the row, even under a race.
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError>;

    /// The user with this login, and their password hash.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_credentials(
        &self,
        login: &Login,
    ) -> Result<Option<(User, PasswordHash)>, PortError>;

    /// Every user having one of these emails or mobiles, in one round trip whatever their number.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_by_contacts(
        &self,
        emails: &[Email],
        mobiles: &[Mobile],
    ) -> Result<Vec<User>, PortError>;
}

/// A token to store.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// The token's digest.
    pub hash: TokenHash,
    /// Its user.
    pub user_id: UserId,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Stores the digests of bearer tokens.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// Stores a new token.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn store(&self, token: NewToken) -> Result<(), PortError>;

    /// The user of a token that is neither revoked nor expired at `now`.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_user(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError>;

    /// Revokes a token; revoking twice or an unknown token is not an error.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn revoke(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), PortError>;
}

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

    /// The events `member` belongs to, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_for_member(
        &self,
        member: UserId,
        page: PageRequest,
    ) -> Result<Page<Event>, PortError>;

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
    /// `role` (`by` may be `target`: leaving).
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

    /// Deletes the event, by `by` while they still hold `by.role` in it, in one transaction: first
    /// its pending invitations that have not expired end as cancelled at `now` (so that whatever
    /// tells their invitees, such as the change feed, sees them cancelled), then the event goes,
    /// and its memberships and invitations with it. Returns how many invitations it cancelled.
    ///
    /// # Errors
    /// [`EventWriteError::Stale`] when the event is gone or `by` no longer holds that role;
    /// nothing changes then. A concurrent send of invitations to the event either commits before
    /// (its invitations are cancelled and deleted with the event) or finds no event: never an
    /// invitation to a deleted event.
    async fn delete(
        &self,
        event: EventId,
        by: Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, EventWriteError>;

    /// Applies `patch` ([`EventPatch::apply`]) to the event's details as stored at that moment
    /// (not as read before), in one transaction, only while `by` still holds `by.role`. Returns
    /// the event as stored, or, storing nothing, the rule the merged details break.
    ///
    /// # Errors
    /// [`EventWriteError::Stale`] as for [`EventRepository::change_role`]; nothing changes then.
    async fn update(
        &self,
        event: EventId,
        by: Actor,
        patch: &EventPatch,
    ) -> Result<Result<Event, EventDetailsError>, EventWriteError>;
}

/// Why a change to an event or its members was not stored; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum EventWriteError {
    /// What the change was decided on no longer holds: a role changed, a member left, or the event
    /// is gone. Read again and decide again.
    #[error("the event or its members changed since they were read")]
    Stale,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

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
    /// A resend only: another resend was stored since this one was decided; it is the last one now.
    #[error("resent meanwhile")]
    ResentMeanwhile {
        /// When the stored resend happened.
        last_resent_at: DateTime<Utc>,
    },
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
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
    /// The latest invitation's status is as of `now` ([`crate::invitation::status_at`]): a pending
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

    /// Stores the answer of an invitation that [`Invitation::answer`] just answered: a conditional
    /// update of the row while it is still pending and not expired at the answer's time, plus,
    /// when accepted, the invitee's membership (R11), in one transaction.
    ///
    /// # Errors
    /// MUST return [`SaveInvitationError::NotPending`] (with the reason as of the answer's time) if
    /// the row is no longer pending or has expired, so that an invitation is answered at most once
    /// and never after it was cancelled or expired, even across server processes (R10); then
    /// nothing changes. [`SaveInvitationError::NotFound`] when the row is gone.
    async fn save_answer(&self, invitation: &Invitation) -> Result<(), SaveInvitationError>;

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

    /// Invitations `sender` sent, newest first, with `filter`'s status as of `now` (a pending
    /// invitation past its expiry is `expired`, not `pending`).
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

/// Whether the backing services answer, for the readiness probe.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Succeeds when the database answers a trivial query.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when it does not.
    async fn check(&self) -> Result<(), PortError>;
}

/// One counter to count an event under: its key (e.g. `register:203.0.113.9`) and the most events
/// it may hold within the window (`0`: no limit; the counter is then neither checked nor counted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterLimit {
    /// What is counted, and for whom.
    pub key: String,
    /// The most events within the window; `0` turns the limit off.
    pub limit: u32,
}

impl CounterLimit {
    /// `limit` events within the window under `key`.
    pub fn new(key: impl Into<String>, limit: u32) -> Self {
        Self {
            key: key.into(),
            limit,
        }
    }
}

/// One event counted by [`AbuseCounters::reserve`]: its counter's key and an id unique among that
/// counter's events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountedEvent {
    /// The counter's key.
    pub key: String,
    /// The event's id, chosen by the implementation.
    pub id: i64,
}

/// Events counted in advance, which the caller may give back with [`AbuseCounters::give_back`]
/// (e.g. a login whose password turned out right). Kept, they stay counted until they leave the
/// window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reservation {
    /// One event per counter that has a limit.
    pub events: Vec<CountedEvent>,
}

/// Why nothing was counted.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    /// A counter already holds its limit of events within the window; nothing was counted. The
    /// wait is how long until enough of its events leave the window (the longest such wait when
    /// several counters are full).
    #[error("limit used up; retry after {retry_after:?}")]
    LimitReached {
        /// How long until the count could succeed.
        retry_after: std::time::Duration,
    },
    /// Infrastructure failure ([`PortError::Unavailable`] when the store cannot be reached).
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Sliding-window counters of events that abuse limits count (failed logins, registrations,
/// sends), keyed by strings. Each method is one atomic step: concurrent callers, in one process
/// or in several sharing the store, cannot together count more events than a limit allows.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AbuseCounters: Send + Sync {
    /// In one atomic step: checks that none of `counters` already holds its limit of events within
    /// the last `window`, and counts one event under each counter that has a limit.
    ///
    /// # Errors
    /// [`CountError::LimitReached`] when a counter is full (nothing is counted then);
    /// [`CountError::Port`] on infrastructure failure.
    async fn reserve(
        &self,
        counters: &[CounterLimit],
        window: std::time::Duration,
    ) -> Result<Reservation, CountError>;

    /// Takes back the events of a reservation, as if they had never been counted. Events already
    /// gone (out of the window and purged) are skipped.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; the events then stay counted.
    async fn give_back(&self, reservation: Reservation) -> Result<(), PortError>;

    /// Counts one event under `counter` unless it is full: [`AbuseCounters::reserve`] of one
    /// counter, kept.
    ///
    /// # Errors
    /// As [`AbuseCounters::reserve`].
    async fn hit(
        &self,
        counter: CounterLimit,
        window: std::time::Duration,
    ) -> Result<(), CountError> {
        self.reserve(std::slice::from_ref(&counter), window)
            .await
            .map(drop)
    }
}

/// A request's claim of an idempotency key, to store with [`IdempotencyStore::claim`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClaim {
    /// The caller the key belongs to.
    pub user_id: UserId,
    /// The key.
    pub key: IdempotencyKey,
    /// The request.
    pub fingerprint: RequestFingerprint,
    /// This claim's id, for completing or releasing it.
    pub claim: ClaimId,
    /// When the request arrived.
    pub now: DateTime<Utc>,
    /// Until when the claim holds the key (its lease).
    pub locked_until: DateTime<Utc>,
    /// When the key is forgotten.
    pub expires_at: DateTime<Utc>,
}

/// What [`IdempotencyStore::claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The key is now held by the new claim: run the request.
    Claimed,
    /// The same request finished before; this is its answer.
    Replay(StoredResponse),
    /// The same request is running under a live claim.
    InFlight,
    /// Another request used this key.
    Reused,
}

/// Idempotency keys (docs/api.md, "Idempotency"), scoped to their caller: one record per (user,
/// key). Each method is one atomic step, so that concurrent requests with one key, in one process
/// or in several sharing the store, never both run.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// In one atomic step: stores the claim as a new in-flight record when the caller has none for
    /// the key, or in place of one whose [`IdempotencyRecord::verdict`] is
    /// [`Vacant`](crate::idempotency::Verdict::Vacant) (expired, or its lease ran out); otherwise
    /// reports the verdict and changes nothing.
    ///
    /// # Errors
    /// MUST NOT return [`ClaimOutcome::Claimed`] to two concurrent callers with one (user, key),
    /// even from several processes: the claim is an insert that a unique (user, key) decides, or a
    /// conditional update of the record that was read. [`PortError`] on infrastructure failure;
    /// then nothing is stored.
    async fn claim(&self, claim: NewClaim) -> Result<ClaimOutcome, PortError>;

    /// Stores the final answer of the request that holds `claim`, making the record completed.
    /// Returns `false`, storing nothing, when the claim no longer holds the key (it was taken over
    /// after its lease ran out, or released).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; the claim then stays in flight until its lease
    /// runs out.
    async fn complete(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
        response: StoredResponse,
    ) -> Result<bool, PortError>;

    /// Forgets the in-flight record of `claim`, so that the next request with the key runs. Does
    /// nothing when the claim no longer holds the key.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; the claim then stays until its lease runs out.
    async fn release(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        claim: ClaimId,
    ) -> Result<(), PortError>;

    /// The record of the caller's key, if any, as stored (expired or not), for tests and
    /// diagnostics.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, PortError>;

    /// Deletes up to `batch` records that expired at or before `now`; returns how many. Call again
    /// while that is `batch`. Safe from several processes at once: a record deleted by one is not
    /// deleted (or counted) twice.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; earlier batches stay deleted.
    async fn purge_expired(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;
}

/// The change feed's read side (docs/api.md, "Change feed and live stream"): the domain events
/// that the repositories' changing methods record in their own transactions, numbered in the
/// order readers can see them, with the users each one goes to (R12, resolved at write time).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Up to `limit` (at most 1,000) changes that go to `user`, after `after`, oldest first, and
    /// how far the read went ([`FeedRead::read_up_to`]: past stored changes that could not be read).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_for(
        &self,
        user: UserId,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<RecordedChange>, PortError>;

    /// Up to `limit` (at most 1,000) changes after `after`, oldest first, each with its
    /// recipients: what a process fans out to its live streams. A reader that has seen a change
    /// never later finds a new one numbered below it. Reports how far it read, as
    /// [`ChangeFeed::list_for`] does.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn deliveries_after(
        &self,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<Delivery>, PortError>;

    /// The number of the last change recorded (`ChangeId(0)` before the first).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn latest(&self) -> Result<ChangeId, PortError>;

    /// Deletes up to `batch` changes that happened before `before`, oldest first; returns how
    /// many. Call again while that is `batch`. Safe from several processes at once.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; earlier batches stay deleted.
    async fn purge_older_than(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;

    /// A watch that wakes its holder when changes may have been committed: by this process, or
    /// (where the store can tell) by another process on the same store. Each holder (the live
    /// streams' fan-out, the delivery worker) has its own, so none takes another's wake.
    fn watch(&self) -> Box<dyn CommitWatch>;
}

/// Wakes its holder when changes may have been committed ([`ChangeFeed::watch`]).
#[async_trait]
pub trait CommitWatch: Send {
    /// Resolves when changes may have been committed since it last resolved, or since the watch
    /// was made. A hint: it may resolve with nothing new, and a holder that must not miss a change
    /// also polls.
    async fn changed(&mut self);
}

/// A stream ticket to store: its digest, whose it is, and until when it works.
#[derive(Clone, Debug)]
pub struct NewTicket {
    /// The ticket's digest ([`TokenIssuer::digest`]).
    pub hash: TokenHash,
    /// Its user.
    pub user_id: UserId,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Single-use tickets that open a live stream (docs/api.md, "Live stream"), so that a browser's
/// `EventSource` never carries a long-lived token in a URL.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TicketRepository: Send + Sync {
    /// Stores a new ticket.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn store_ticket(&self, ticket: NewTicket) -> Result<(), PortError>;

    /// In one atomic step: the user of a ticket that has not expired at `now`, and the ticket is
    /// gone, so that of two requests with one ticket, in any number of processes, one gets the
    /// user.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn redeem_ticket(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError>;

    /// Deletes up to `batch` tickets expired at `now`; returns how many.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn purge_tickets(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;
}

/// Random bytes for secrets (webhook signing secrets).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait SecretSource: Send + Sync {
    /// Fills `buf` with bytes from a cryptographically secure generator.
    fn fill(&self, buf: &mut [u8]);
}

/// Why a webhook could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreWebhookError {
    /// Its owner has [`Webhook::MAX_PER_USER`] webhooks already.
    #[error("too many webhooks")]
    TooMany,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Registered webhook endpoints and their delivery attempts (docs/api.md, "Webhooks").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookRepository: Send + Sync {
    /// Stores a new webhook, unless its owner has [`Webhook::MAX_PER_USER`] already: counted and
    /// stored in one atomic step, so that concurrent creations, in any number of processes,
    /// cannot together pass the limit.
    ///
    /// # Errors
    /// [`StoreWebhookError::TooMany`] at the limit; [`PortError`] on infrastructure failure.
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreWebhookError>;

    /// A page of the owner's webhooks, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_webhooks(
        &self,
        owner: UserId,
        page: PageRequest,
    ) -> Result<Page<Webhook>, PortError>;

    /// A webhook by id, whoever owns it.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_webhook(&self, id: WebhookId) -> Result<Option<Webhook>, PortError>;

    /// Deletes a webhook with its deliveries and their attempts; `false` when it did not exist.
    /// A delivery under way finishes its attempt, whose record is then dropped.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn delete_webhook(&self, id: WebhookId) -> Result<bool, PortError>;

    /// A page of the webhook's delivery attempts, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_attempts(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> Result<Page<Attempt>, PortError>;
}

/// The deliveries waiting to be made, shared by every process on the store (docs/operations.md,
/// "Webhook and email delivery").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// The last change whose deliveries have been made ([`DeliveryQueue::enqueue`]).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn dispatch_position(&self) -> Result<ChangeId, PortError>;

    /// The enabled webhooks of these users.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn webhooks_of(&self, owners: &[UserId]) -> Result<Vec<Webhook>, PortError>;

    /// In one atomic step: moves the dispatch position from `from` to `to` and stores the
    /// deliveries of the changes in between; `false`, storing nothing, when the position is no
    /// longer `from` (another worker, maybe in another process, dispatched them first). So each
    /// change's deliveries are made once. A delivery whose webhook was deleted meanwhile is
    /// dropped.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; nothing is stored then.
    async fn enqueue(
        &self,
        from: ChangeId,
        to: ChangeId,
        deliveries: Vec<NewDelivery>,
    ) -> Result<bool, PortError>;

    /// Claims up to `limit` deliveries that are due at `now`, pending, not held by a claim whose
    /// lease runs past `now`, and for an enabled webhook or (when `email`) an email address;
    /// oldest due first, and no more of one target (a webhook; email as a whole) than makes
    /// `per_target` in flight under live claims. Each claim holds until `lease_until`: no other
    /// claim takes the delivery before, in any process.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        per_target: u32,
        email: bool,
    ) -> Result<Vec<ClaimedDelivery>, PortError>;

    /// Stores an attempt and applies its verdict, if the delivery's claim still holds (`false`
    /// otherwise, storing nothing): the delivery is done, due again, or given up; a webhook's run
    /// of failures starts (or ends, on success); [`Verdict::Disable`] disables the webhook and
    /// ends its pending deliveries.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; the claim then runs out and the delivery is
    /// attempted again.
    async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &AttemptRecord,
        verdict: Verdict,
    ) -> Result<bool, PortError>;

    /// Deletes up to `batch` finished deliveries (delivered or given up) made before `before`,
    /// with their attempts; returns how many. Safe from several processes at once.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn purge_deliveries(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;
}

/// One signed `POST` of a delivery (Standard Webhooks v1).
#[derive(Clone, Debug)]
pub struct WebhookRequest {
    /// Where.
    pub url: WebhookUrl,
    /// `webhook-id`: the change's id, the same at every attempt.
    pub message_id: String,
    /// `webhook-timestamp`: the attempt's time, in Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
    /// The JSON body.
    pub body: String,
}

/// What a `POST` came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookResponse {
    /// The endpoint answered.
    Answered {
        /// The status.
        status: u16,
        /// `Retry-After`, in seconds or as a date, read as a wait.
        retry_after: Option<chrono::Duration>,
        /// The start of the body ([`AttemptRecord::BODY_MAX`] bytes at most).
        body: String,
    },
    /// No answer: the destination was refused, or the connection failed or timed out.
    Failed {
        /// Why, in words for the endpoint's owner.
        error: String,
    },
}

/// Why a webhook's destination is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DestinationRefused {
    /// Its host is, or resolves to, an address that is not public.
    #[error("the host is not a public address")]
    NotPublic,
    /// Its host name does not resolve.
    #[error("the host name does not resolve")]
    Unresolvable,
}

/// Sends webhook deliveries over HTTP.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Whether deliveries may go to `url` now: under the destination policy, its host must be a
    /// public address, and a name must resolve only to public addresses.
    ///
    /// # Errors
    /// [`DestinationRefused`] saying why not.
    async fn check_destination(&self, url: &WebhookUrl) -> Result<(), DestinationRefused>;

    /// `POST`s the request, within a bounded time, following no redirect, and to a destination
    /// checked again as [`WebhookSender::check_destination`] does (DNS may have changed).
    async fn send(&self, request: &WebhookRequest) -> WebhookResponse;
}

/// What sending an email came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailResult {
    /// The mail server took it.
    Sent,
    /// Not sent, worth trying again (no connection, a timeout, a `4xx`).
    Transient(String),
    /// Refused for good (a `5xx`).
    Permanent(String),
}

/// Sends email (docs/api.md, "Email to invitees").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// The message for an invitation email, in the form [`Mailer::send`] takes; stored with its
    /// delivery, so that every attempt sends the same.
    fn compose(&self, email: &InvitationEmail) -> String;

    /// Sends a composed message to `to`, within a bounded time.
    async fn send(&self, to: &Email, message: &str) -> MailResult;
}

/// Writes a change as the API shows it: the body of a webhook delivery is exactly what the feed
/// shows (docs/api.md, "Webhooks").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait ChangeRenderer: Send + Sync {
    /// The change's JSON.
    fn render(&self, change: &RecordedChange) -> String;
}
