//! [`Store`]: every repository port over one in-memory state, with the database's invariants.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Timelike, Utc};

use crate::change::{Change, ChangeId, Delivery, EventRef, FeedRead, RecordedChange};
use crate::ports::{
    BatchOutcome, ChangeFeed, CommitWatch, CreateUserError, EventRepository, EventWriteError,
    HealthCheck, InvitationFilter, InvitationRepository, NewEvent, NewTicket, NewToken, NewUser,
    PasswordHash, PortError, SaveInvitationError, TicketRepository, TokenHash, TokenRepository,
    UserRepository,
};
use crate::{
    Actor, Answer, Email, Event, EventDetails, EventDetailsError, EventId, EventPatch, Invitation,
    InvitationDetails, InvitationId, InvitationState, InvitationStatus, InviteeState, Login,
    Member, MemberId, Membership, Mobile, NotPending, Page, PageRequest, Role, User, UserId,
};

mod webhooks;

#[derive(Debug)]
struct StoredToken {
    user_id: UserId,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

#[derive(Debug, Default)]
struct State {
    users: Vec<(User, PasswordHash)>,
    tokens: HashMap<TokenHash, StoredToken>,
    events: Vec<Event>,
    members: Vec<(EventId, Member)>,
    invitations: Vec<Invitation>,
    /// The outbox: every recorded change with its recipients, in id order.
    changes: Vec<Delivery>,
    last_change: i64,
    tickets: HashMap<TokenHash, (UserId, DateTime<Utc>)>,
    /// Webhooks, deliveries and their attempts.
    deliveries: webhooks::Deliveries,
}

/// Every repository port (and the health check) over one in-memory state, keeping what the
/// database's schema and the adapter's transactions keep:
///
/// - users: a user has an email or a mobile; emails and mobiles are unique
///   ([`CreateUserError::EmailTaken`], [`CreateUserError::MobileTaken`]);
/// - tokens resolve while neither revoked nor expired (`expires_at > now`);
/// - creating an event makes its owner its first member; `members_count` counts the members;
/// - at most one pending invitation per (event, invitee) ([`BatchOutcome::AlreadyPending`]);
/// - an answer is stored only while the invitation is pending
///   and not expired ([`SaveInvitationError::NotPending`]), and accepting adds the membership,
///   once; so is a cancel, and a resend only while the last resend is the one it was decided on
///   ([`SaveInvitationError::ResentMeanwhile`]);
/// - a batch first marks its invitees' dead pending invitations expired (so they do not block it),
///   and the sweeper's [`InvitationRepository::expire_due`] marks any;
/// - list filters and the latest statuses of [`InvitationRepository::invitee_states`] read the
///   status as of the given time ([`Invitation::status_at`]);
/// - rows referring to unknown users or events are refused (the foreign keys), as
///   [`PortError::Unexpected`];
/// - lists are keyset pages on the (time-ordered) id, newest first, resuming after
///   [`PageRequest::after`];
/// - times are kept to the microsecond, like the database's `TIMESTAMP` columns;
/// - every change records its domain events ([`ChangeFeed`]) with the recipients R12 names as the
///   members are at that moment, numbered in order; stream tickets are single use.
///
/// Every method takes one lock, so that each port call is atomic like the adapter's transactions.
/// The adapters' contract suite runs against it to keep it honest.
#[derive(Debug, Default)]
pub struct Store {
    state: Mutex<State>,
}

/// What the database stores of a time: whole microseconds.
fn stored(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

fn stored_details(details: EventDetails) -> EventDetails {
    EventDetails::new(
        details.title().clone(),
        details.description().cloned(),
        details.location().cloned(),
        details.starts_at().map(stored),
        details.ends_at().map(stored),
    )
    .expect("truncating both times keeps their order")
}

fn stored_invitation(invitation: &Invitation) -> Invitation {
    let mut record = invitation.to_stored();
    record.state = match record.state {
        InvitationState::Answered { answer, at } => InvitationState::Answered {
            answer,
            at: stored(at),
        },
        InvitationState::Cancelled { at } => InvitationState::Cancelled { at: stored(at) },
        state @ (InvitationState::Pending | InvitationState::Expired) => state,
    };
    record.created_at = stored(record.created_at);
    record.expires_at = record.expires_at.map(stored);
    record.last_resent_at = record.last_resent_at.map(stored);
    Invitation::restore(record)
}

/// The error a broken foreign key or check constraint surfaces as.
fn refused(what: &str) -> PortError {
    PortError::unexpected(format!("constraint violation: {what}"))
}

impl State {
    fn user(&self, id: UserId) -> Option<&User> {
        self.users.iter().map(|(u, _)| u).find(|u| u.id == id)
    }

    fn event(&self, id: EventId) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    fn member(&self, event: EventId, user: UserId) -> Option<&Member> {
        self.members
            .iter()
            .find(|(e, m)| *e == event && m.user.id == user)
            .map(|(_, m)| m)
    }

    /// Whether `actor` is still a member of `event` with the role their decision was made on.
    fn holds(&self, event: EventId, actor: Actor) -> bool {
        self.member(event, actor.user)
            .is_some_and(|m| m.role == actor.role)
    }

    fn is_member(&self, event: EventId, user: UserId) -> bool {
        self.members
            .iter()
            .any(|(e, m)| *e == event && m.user.id == user)
    }

    /// Whether a row of (event, invitee) is stored pending, live or not: what the partial unique
    /// index `invitations_one_pending` sees.
    fn has_pending(&self, event: EventId, invitee: UserId) -> bool {
        self.invitations.iter().any(|i| {
            i.event_id() == event
                && i.invitee_id() == invitee
                && i.status() == InvitationStatus::Pending
        })
    }

    /// The stored invitation `id`, for a conditional change at `at`: `Err` with why it cannot
    /// change when it is gone or not pending at `at`.
    fn pending_row(
        &mut self,
        id: InvitationId,
        at: DateTime<Utc>,
    ) -> Result<&mut Invitation, SaveInvitationError> {
        let row = self
            .invitations
            .iter_mut()
            .find(|i| i.id() == id)
            .ok_or(SaveInvitationError::NotFound)?;
        match NotPending::of(row.status_at(at)) {
            Some(reason) => Err(SaveInvitationError::NotPending(reason)),
            None => Ok(row),
        }
    }

    /// Why `invitation` may not be stored, if it may not: the foreign keys, then the check that
    /// nobody invites themself.
    fn refusal(&self, invitation: &Invitation) -> Option<PortError> {
        if self.event(invitation.event_id()).is_none() {
            return Some(refused("invitation of an unknown event"));
        }
        if self.user(invitation.sender_id()).is_none()
            || self.user(invitation.invitee_id()).is_none()
        {
            return Some(refused("invitation from or to an unknown user"));
        }
        if invitation.sender_id() == invitation.invitee_id() {
            return Some(refused("invitation to its own sender"));
        }
        None
    }

    fn details(&self, invitation: &Invitation) -> InvitationDetails {
        let summary = |id| {
            self.user(id)
                .expect("stored invitations refer to stored users")
                .summary()
        };
        let event = self
            .event(invitation.event_id())
            .expect("stored invitations refer to stored events");
        InvitationDetails {
            invitation: invitation.clone(),
            event_title: event.details.title().clone(),
            sender: summary(invitation.sender_id()),
            invitee: summary(invitation.invitee_id()),
        }
    }

    fn event_ref(&self, id: EventId) -> EventRef {
        let event = self.event(id).expect("a changed event exists");
        EventRef {
            id,
            title: event.details.title().clone(),
        }
    }

    /// Records changes with their recipients as the members are now (the outbox).
    fn record(&mut self, changes: Vec<Change>) {
        let resolved: Vec<(Change, Vec<UserId>)> = changes
            .into_iter()
            .map(|change| {
                let recipients = self.recipients(&change);
                (change, recipients)
            })
            .collect();
        self.append(resolved);
    }

    fn recipients(&self, change: &Change) -> Vec<UserId> {
        let audience = change.audience();
        let event = audience.event();
        let mut users: Vec<UserId> = match audience {
            crate::Audience::InvitationParties {
                sender, invitee, ..
            } => self
                .members
                .iter()
                .filter(|(e, m)| *e == event && m.role.manages_invitations())
                .map(|(_, m)| m.user.id)
                .chain([sender, invitee])
                .collect(),
            crate::Audience::Members { also, .. } => self
                .members
                .iter()
                .filter(|(e, _)| *e == event)
                .map(|(_, m)| m.user.id)
                .chain(also)
                .collect(),
        };
        users.sort();
        users.dedup();
        users
    }

    fn append(&mut self, resolved: Vec<(Change, Vec<UserId>)>) {
        for (change, recipients) in resolved {
            self.last_change += 1;
            self.changes.push(Delivery {
                recorded: RecordedChange {
                    id: ChangeId(self.last_change),
                    change,
                },
                recipients,
            });
        }
    }

    fn record_invitation(
        &mut self,
        id: InvitationId,
        make: fn(InvitationDetails) -> Result<Change, crate::change::ChangeMismatch>,
    ) {
        let invitation = self
            .invitations
            .iter()
            .find(|i| i.id() == id)
            .expect("a changed invitation exists")
            .clone();
        let change = make(self.details(&invitation)).expect("the change fits the state");
        self.record(vec![change]);
    }

    fn list(
        &self,
        party: impl Fn(&Invitation) -> bool,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Page<InvitationDetails> {
        let now = stored(now);
        let items = self
            .invitations
            .iter()
            .filter(|i| party(i))
            .filter(|i| filter.status.status().is_none_or(|s| i.status_at(now) == s))
            .filter(|i| filter.event_id.is_none_or(|e| i.event_id() == e))
            .map(|i| self.details(i))
            .collect();
        page_of(items, page, |d| d.invitation.id().as_uuid())
    }
}

/// One keyset page of `items`, newest (greatest key) first.
fn page_of<T>(mut items: Vec<T>, page: PageRequest, key: impl Fn(&T) -> uuid::Uuid) -> Page<T> {
    items.sort_by_key(|item| std::cmp::Reverse(key(item)));
    let rows = items
        .into_iter()
        .filter(|item| page.after.is_none_or(|after| key(item) < after))
        .take(page.limit.get() as usize + 1)
        .collect();
    Page::from_overfetched(rows, page.limit, key)
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already; the state is still whole
        // because every method checks before it writes.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The ids of the members of `event`, in the order they joined.
    pub fn members_of(&self, event: EventId) -> Vec<UserId> {
        self.lock()
            .members
            .iter()
            .filter(|(e, _)| *e == event)
            .map(|(_, m)| m.user.id)
            .collect()
    }

    /// Every stored invitation, in the order stored.
    pub fn invitations(&self) -> Vec<Invitation> {
        self.lock().invitations.clone()
    }

    /// Stores an invitation directly, as if sent (and perhaps answered) earlier: for states that
    /// the services cannot reach in one step, such as an old rejection followed by an acceptance.
    /// Accepted invitations do not add members here.
    ///
    /// # Panics
    /// When the database would refuse the row: an unknown event or user, a self-invitation, or a
    /// second pending invitation for its (event, invitee).
    pub fn insert_invitation(&self, invitation: Invitation) {
        let mut state = self.lock();
        if let Some(refusal) = state.refusal(&invitation) {
            panic!("{refusal:?}");
        }
        assert!(
            invitation.status() != InvitationStatus::Pending
                || !state.has_pending(invitation.event_id(), invitation.invitee_id()),
            "a second pending invitation for one (event, invitee)"
        );
        state.invitations.push(stored_invitation(&invitation));
    }
}

#[async_trait]
impl UserRepository for Store {
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError> {
        let mut state = self.lock();
        if user.email.is_none() && user.mobile.is_none() {
            return Err(refused("a user without email or mobile").into());
        }
        if user.email.is_some() && state.users.iter().any(|(u, _)| u.email == user.email) {
            return Err(CreateUserError::EmailTaken);
        }
        if user.mobile.is_some() && state.users.iter().any(|(u, _)| u.mobile == user.mobile) {
            return Err(CreateUserError::MobileTaken);
        }
        if state.user(user.id).is_some() {
            return Err(refused("a second user with one id").into());
        }
        let stored = User {
            id: user.id,
            name: user.name,
            email: user.email,
            mobile: user.mobile,
            created_at: stored(user.created_at),
        };
        state.users.push((stored.clone(), user.password_hash));
        Ok(stored)
    }

    async fn find_credentials(
        &self,
        login: &Login,
    ) -> Result<Option<(User, PasswordHash)>, PortError> {
        let state = self.lock();
        Ok(state
            .users
            .iter()
            .find(|(u, _)| match login {
                Login::Email(email) => u.email.as_ref() == Some(email),
                Login::Mobile(mobile) => u.mobile.as_ref() == Some(mobile),
            })
            .cloned())
    }

    async fn find_by_contacts(
        &self,
        emails: &[Email],
        mobiles: &[Mobile],
    ) -> Result<Vec<User>, PortError> {
        let state = self.lock();
        Ok(state
            .users
            .iter()
            .filter(|(u, _)| {
                u.email.as_ref().is_some_and(|e| emails.contains(e))
                    || u.mobile.as_ref().is_some_and(|m| mobiles.contains(m))
            })
            .map(|(u, _)| u.clone())
            .collect())
    }
}

#[async_trait]
impl TokenRepository for Store {
    async fn store(&self, token: NewToken) -> Result<(), PortError> {
        let mut state = self.lock();
        if state.user(token.user_id).is_none() {
            return Err(refused("a token of an unknown user"));
        }
        if state.tokens.contains_key(&token.hash) {
            return Err(refused("a second token with one digest"));
        }
        let stored = StoredToken {
            user_id: token.user_id,
            expires_at: stored(token.expires_at),
            revoked: false,
        };
        state.tokens.insert(token.hash, stored);
        Ok(())
    }

    async fn find_user(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError> {
        let state = self.lock();
        Ok(state
            .tokens
            .get(hash)
            .filter(|t| !t.revoked && t.expires_at > stored(now))
            .and_then(|t| state.user(t.user_id))
            .cloned())
    }

    async fn revoke(&self, hash: &TokenHash, _now: DateTime<Utc>) -> Result<(), PortError> {
        if let Some(token) = self.lock().tokens.get_mut(hash) {
            token.revoked = true;
        }
        Ok(())
    }
}

#[async_trait]
impl EventRepository for Store {
    async fn create(&self, event: NewEvent) -> Result<Event, PortError> {
        let mut state = self.lock();
        if state.user(event.owner.id).is_none() {
            return Err(refused("an event of an unknown owner"));
        }
        if state.event(event.id).is_some() {
            return Err(refused("a second event with one id"));
        }
        let created_at = stored(event.created_at);
        let stored = Event {
            id: event.id,
            details: stored_details(event.details),
            owner: event.owner.clone(),
            members_count: 1,
            created_at,
        };
        state.events.push(stored.clone());
        let owner = Member {
            id: MemberId::generate(),
            user: event.owner,
            role: Role::Owner,
            joined_at: created_at,
        };
        state.members.push((event.id, owner));
        Ok(stored)
    }

    async fn find_for_member(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Event>, PortError> {
        let state = self.lock();
        Ok(state
            .event(id)
            .filter(|_| state.is_member(id, viewer))
            .cloned())
    }

    async fn list_for_member(
        &self,
        member: UserId,
        page: PageRequest,
    ) -> Result<Page<Event>, PortError> {
        let state = self.lock();
        let events = state
            .events
            .iter()
            .filter(|e| state.is_member(e.id, member))
            .cloned()
            .collect();
        Ok(page_of(events, page, |e| e.id.as_uuid()))
    }

    async fn list_members(
        &self,
        event: EventId,
        page: PageRequest,
    ) -> Result<Page<Member>, PortError> {
        let state = self.lock();
        let members = state
            .members
            .iter()
            .filter(|(e, _)| *e == event)
            .map(|(_, m)| m.clone())
            .collect();
        Ok(page_of(members, page, |m| m.id.as_uuid()))
    }

    async fn find_membership(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Membership>, PortError> {
        let state = self.lock();
        Ok(state.event(id).and_then(|event| {
            state.member(id, viewer).map(|member| Membership {
                event: event.clone(),
                user: viewer,
                role: member.role,
            })
        }))
    }

    async fn find_member(&self, event: EventId, user: UserId) -> Result<Option<Member>, PortError> {
        Ok(self.lock().member(event, user).cloned())
    }

    async fn change_role(
        &self,
        event: EventId,
        by: Actor,
        target: UserId,
        from: Role,
        to: Role,
    ) -> Result<Member, EventWriteError> {
        if from == Role::Owner || to == Role::Owner {
            return Err(refused("an event keeps its owner").into());
        }
        let mut state = self.lock();
        if !state.holds(event, by)
            || !state.holds(
                event,
                Actor {
                    user: target,
                    role: from,
                },
            )
        {
            return Err(EventWriteError::Stale);
        }
        let (_, member) = state
            .members
            .iter_mut()
            .find(|(e, m)| *e == event && m.user.id == target)
            .expect("held above");
        member.role = to;
        let member = member.clone();
        let change =
            Change::member_role_changed(state.event_ref(event), member.clone(), Utc::now());
        state.record(vec![change]);
        Ok(member)
    }

    async fn remove_member(
        &self,
        event: EventId,
        by: Actor,
        target: UserId,
        role: Role,
    ) -> Result<(), EventWriteError> {
        if role == Role::Owner {
            return Err(refused("an event keeps its owner").into());
        }
        let mut state = self.lock();
        if !state.holds(event, by) || !state.holds(event, Actor { user: target, role }) {
            return Err(EventWriteError::Stale);
        }
        let removed = state.member(event, target).expect("held above").clone();
        state
            .members
            .retain(|(e, m)| !(*e == event && m.user.id == target));
        if let Some(stored) = state.events.iter_mut().find(|e| e.id == event) {
            stored.members_count -= 1;
        }
        let change = Change::member_removed(state.event_ref(event), removed, Utc::now());
        state.record(vec![change]);
        Ok(())
    }

    async fn update(
        &self,
        event: EventId,
        by: Actor,
        patch: &EventPatch,
    ) -> Result<Result<Event, EventDetailsError>, EventWriteError> {
        let mut state = self.lock();
        if !state.holds(event, by) {
            return Err(EventWriteError::Stale);
        }
        let stored = state
            .events
            .iter_mut()
            .find(|e| e.id == event)
            .expect("a member's event exists");
        let updated = patch.apply(&stored.details).map(|details| {
            stored.details = stored_details(details);
            stored.clone()
        });
        if let Ok(event) = &updated {
            state.record(vec![Change::event_updated(event.clone(), Utc::now())]);
        }
        Ok(updated)
    }

    async fn delete(
        &self,
        event: EventId,
        by: Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, EventWriteError> {
        let mut state = self.lock();
        if !state.holds(event, by) {
            return Err(EventWriteError::Stale);
        }
        // Cancelled first, as the database does; then gone with the event (ON DELETE CASCADE).
        let now = stored(now);
        let mut changes = Vec::new();
        let live: Vec<InvitationId> = state
            .invitations
            .iter()
            .filter(|i| i.event_id() == event && i.status_at(now) == InvitationStatus::Pending)
            .map(Invitation::id)
            .collect();
        for id in &live {
            let row = state
                .invitations
                .iter_mut()
                .find(|i| i.id() == *id)
                .expect("listed above");
            let mut record = row.to_stored();
            record.state = InvitationState::Cancelled { at: now };
            *row = Invitation::restore(record);
            let row = row.clone();
            let details = state.details(&row);
            changes.push(Change::invitation_cancelled(details).expect("cancelled above"));
        }
        changes.push(Change::event_deleted(state.event_ref(event), now));
        let cancelled = live.len();
        let resolved: Vec<(Change, Vec<UserId>)> = changes
            .into_iter()
            .map(|change| {
                let recipients = state.recipients(&change);
                (change, recipients)
            })
            .collect();
        state.append(resolved);
        state.invitations.retain(|i| i.event_id() != event);
        state.members.retain(|(e, _)| *e != event);
        state.events.retain(|e| e.id != event);
        Ok(cancelled as u64)
    }
}

#[async_trait]
impl InvitationRepository for Store {
    async fn invitee_states(
        &self,
        event: EventId,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<HashMap<UserId, InviteeState>, PortError> {
        let state = self.lock();
        let now = stored(now);
        let mut states: HashMap<UserId, InviteeState> = HashMap::new();
        for user in users.iter().filter(|u| state.is_member(event, **u)) {
            states.entry(*user).or_default().is_member = true;
        }
        // The latest invitation is the one with the greatest (time-ordered) id.
        let mut latest: HashMap<UserId, &Invitation> = HashMap::new();
        for invitation in state
            .invitations
            .iter()
            .filter(|i| i.event_id() == event && users.contains(&i.invitee_id()))
        {
            let entry = latest.entry(invitation.invitee_id()).or_insert(invitation);
            if invitation.id() > entry.id() {
                *entry = invitation;
            }
        }
        for (user, invitation) in latest {
            states.entry(user).or_default().latest = Some(invitation.status_at(now));
        }
        Ok(states)
    }

    async fn create_batch(
        &self,
        invitations: &[Invitation],
    ) -> Result<Vec<BatchOutcome>, PortError> {
        let mut state = self.lock();
        // All or nothing, like the adapter's transaction: check every row before storing any.
        if let Some(refusal) = invitations.iter().find_map(|i| state.refusal(i)) {
            return Err(refusal);
        }
        // Expire-on-write: the invitees' dead pending invitations stop holding the unique index.
        let mut changes = Vec::new();
        if let Some(at) = invitations.iter().map(|i| stored(i.created_at())).min() {
            let mut expired = Vec::new();
            for row in state.invitations.iter_mut().filter(|row| {
                row.status() == InvitationStatus::Pending
                    && row.status_at(at) == InvitationStatus::Expired
                    && invitations.iter().any(|i| {
                        i.event_id() == row.event_id() && i.invitee_id() == row.invitee_id()
                    })
            }) {
                *row = row.clone().as_of(at);
                expired.push(row.clone());
            }
            for row in expired {
                let details = state.details(&row);
                changes.push(Change::invitation_expired(details, at).expect("expired above"));
            }
        }
        let outcomes = invitations
            .iter()
            .map(|new| {
                let taken = new.status() == InvitationStatus::Pending
                    && state.has_pending(new.event_id(), new.invitee_id());
                if taken {
                    BatchOutcome::AlreadyPending
                } else {
                    let row = stored_invitation(new);
                    state.invitations.push(row.clone());
                    let details = state.details(&row);
                    changes.push(Change::invitation_created(details).expect("pending"));
                    BatchOutcome::Created
                }
            })
            .collect();
        state.record(changes);
        Ok(outcomes)
    }

    async fn find(&self, id: InvitationId) -> Result<Option<InvitationDetails>, PortError> {
        let state = self.lock();
        Ok(state
            .invitations
            .iter()
            .find(|i| i.id() == id)
            .map(|i| state.details(i)))
    }

    async fn save_answer(&self, invitation: &Invitation) -> Result<(), SaveInvitationError> {
        let InvitationState::Answered { answer, at } = invitation.state() else {
            return Err(
                PortError::unexpected("save_answer called with an unanswered invitation").into(),
            );
        };
        let at = stored(at);
        let mut guard = self.lock();
        let state = &mut *guard;
        // Conditional on the row still being pending and live at the answer's time.
        let row = state.pending_row(invitation.id(), at)?;
        let mut record = row.to_stored();
        record.state = InvitationState::Answered { answer, at };
        *row = Invitation::restore(record);
        let (event_id, invitee, id) = (row.event_id(), row.invitee_id(), row.id());
        state.record_invitation(id, Change::invitation_answered);
        if answer == Answer::Accept && !state.is_member(event_id, invitee) {
            let user = state
                .user(invitee)
                .expect("stored invitations refer to stored users")
                .summary();
            let member = Member {
                id: MemberId::generate(),
                user,
                role: Role::Member,
                joined_at: at,
            };
            state.members.push((event_id, member.clone()));
            if let Some(event) = state.events.iter_mut().find(|e| e.id == event_id) {
                event.members_count += 1;
            }
            let change = Change::member_joined(state.event_ref(event_id), member);
            state.record(vec![change]);
        }
        Ok(())
    }

    async fn save_cancel(&self, invitation: &Invitation) -> Result<(), SaveInvitationError> {
        let Some(at) = invitation.cancelled_at().map(stored) else {
            return Err(
                PortError::unexpected("save_cancel called with an uncancelled invitation").into(),
            );
        };
        let mut state = self.lock();
        let row = state.pending_row(invitation.id(), at)?;
        let mut record = row.to_stored();
        record.state = InvitationState::Cancelled { at };
        *row = Invitation::restore(record);
        state.record_invitation(invitation.id(), Change::invitation_cancelled);
        Ok(())
    }

    async fn save_resend(
        &self,
        invitation: &Invitation,
        previous: Option<DateTime<Utc>>,
    ) -> Result<(), SaveInvitationError> {
        let Some(at) = invitation.last_resent_at().map(stored) else {
            return Err(PortError::unexpected(
                "save_resend called with an invitation never resent",
            )
            .into());
        };
        let mut state = self.lock();
        let row = state.pending_row(invitation.id(), at)?;
        if row.last_resent_at() != previous.map(stored) {
            return match row.last_resent_at() {
                Some(last_resent_at) => {
                    Err(SaveInvitationError::ResentMeanwhile { last_resent_at })
                }
                None => Err(PortError::unexpected("a resend was forgotten").into()),
            };
        }
        let mut record = row.to_stored();
        record.last_resent_at = Some(at);
        record.expires_at = invitation.expires_at().map(stored);
        *row = Invitation::restore(record);
        state.record_invitation(invitation.id(), Change::invitation_resent);
        Ok(())
    }

    async fn expire_due(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let now = stored(now);
        let mut state = self.lock();
        let mut due: Vec<&mut Invitation> = state
            .invitations
            .iter_mut()
            .filter(|i| {
                i.status() == InvitationStatus::Pending
                    && i.status_at(now) == InvitationStatus::Expired
            })
            .collect();
        due.sort_by_key(|i| i.expires_at());
        let mut expired = Vec::new();
        for row in due.into_iter().take(batch as usize) {
            *row = row.clone().as_of(now);
            expired.push(row.clone());
        }
        let changes = expired
            .iter()
            .map(|row| Change::invitation_expired(state.details(row), now).expect("expired"))
            .collect();
        state.record(changes);
        Ok(expired.len() as u64)
    }

    async fn list_sent(
        &self,
        sender: UserId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        Ok(self
            .lock()
            .list(|i| i.sender_id() == sender, filter, page, now))
    }

    async fn list_received(
        &self,
        invitee: UserId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        Ok(self
            .lock()
            .list(|i| i.invitee_id() == invitee, filter, page, now))
    }

    async fn list_for_event(
        &self,
        event: EventId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let filter = InvitationFilter {
            event_id: None,
            ..filter
        };
        Ok(self
            .lock()
            .list(|i| i.event_id() == event, filter, page, now))
    }
}

#[async_trait]
impl HealthCheck for Store {
    /// The in-memory store always answers.
    async fn check(&self) -> Result<(), PortError> {
        Ok(())
    }
}

#[async_trait]
impl ChangeFeed for Store {
    async fn list_for(
        &self,
        user: UserId,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<RecordedChange>, PortError> {
        let state = self.lock();
        let changes: Vec<RecordedChange> = state
            .changes
            .iter()
            .filter(|d| d.recorded.id > after && d.recipients.contains(&user))
            .take(limit.clamp(1, 1_000) as usize)
            .map(|d| d.recorded.clone())
            .collect();
        let read_up_to = changes.last().map_or(after, |c| c.id);
        Ok(FeedRead {
            changes,
            read_up_to,
        })
    }

    async fn deliveries_after(
        &self,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<Delivery>, PortError> {
        let state = self.lock();
        let changes: Vec<Delivery> = state
            .changes
            .iter()
            .filter(|d| d.recorded.id > after)
            .take(limit.clamp(1, 1_000) as usize)
            .cloned()
            .collect();
        let read_up_to = changes.last().map_or(after, |d| d.recorded.id);
        Ok(FeedRead {
            changes,
            read_up_to,
        })
    }

    async fn latest(&self) -> Result<ChangeId, PortError> {
        Ok(ChangeId(self.lock().last_change))
    }

    async fn purge_older_than(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let mut state = self.lock();
        let old = state
            .changes
            .iter()
            .take(batch as usize)
            .take_while(|d| d.recorded.change.occurred_at() < before)
            .count();
        state.changes.drain(..old);
        Ok(old as u64)
    }

    /// A watch that never wakes: the fake tells nobody, so holders rely on their polling.
    fn watch(&self) -> Box<dyn CommitWatch> {
        Box::new(NeverWakes)
    }
}

/// The fake's [`CommitWatch`]: it never wakes.
struct NeverWakes;

#[async_trait]
impl CommitWatch for NeverWakes {
    async fn changed(&mut self) {
        std::future::pending::<()>().await;
    }
}

#[async_trait]
impl TicketRepository for Store {
    async fn store_ticket(&self, ticket: NewTicket) -> Result<(), PortError> {
        let mut state = self.lock();
        if state.user(ticket.user_id).is_none() {
            return Err(refused("a ticket of an unknown user"));
        }
        state
            .tickets
            .insert(ticket.hash, (ticket.user_id, stored(ticket.expires_at)));
        Ok(())
    }

    async fn redeem_ticket(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError> {
        let mut state = self.lock();
        let Some((user, expires_at)) = state.tickets.remove(hash) else {
            return Ok(None);
        };
        Ok((expires_at > now)
            .then(|| state.user(user).cloned())
            .flatten())
    }

    async fn purge_tickets(&self, now: DateTime<Utc>, _batch: u32) -> Result<u64, PortError> {
        let mut state = self.lock();
        let before = state.tickets.len();
        state.tickets.retain(|_, (_, expires_at)| *expires_at > now);
        Ok((before - state.tickets.len()) as u64)
    }
}
