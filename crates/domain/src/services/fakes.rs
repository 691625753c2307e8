//! In-memory fakes of the ports, for the use-case tests: they keep the same invariants as the
//! database (one pending invitation per event and invitee, conditional answers).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use crate::ports::*;
use crate::{
    Email, Event, EventId, Invitation, InvitationDetails, InvitationId, InvitationState,
    InvitationStatus, InviteeState, Login, Member, MemberId, Mobile, Page, PageRequest, Password,
    Role, User, UserId,
};

pub struct FixedClock(pub DateTime<Utc>);

impl Default for FixedClock {
    fn default() -> Self {
        Self(Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// "Hashes" by prefixing; verifying without a hash is counted so tests can see it happened.
#[derive(Default)]
pub struct FakeHasher {
    pub verifications_without_hash: AtomicU64,
}

#[async_trait]
impl PasswordHasher for FakeHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PortError> {
        Ok(PasswordHash(format!("hash:{}", password.expose())))
    }

    async fn verify(
        &self,
        password: &Password,
        hash: Option<PasswordHash>,
    ) -> Result<bool, PortError> {
        match hash {
            Some(hash) => Ok(hash.0 == format!("hash:{}", password.expose())),
            None => {
                self.verifications_without_hash
                    .fetch_add(1, Ordering::SeqCst);
                Ok(false)
            }
        }
    }
}

#[derive(Default)]
pub struct FakeIssuer(AtomicU64);

impl TokenIssuer for FakeIssuer {
    fn issue(&self) -> IssuedToken {
        let secret = format!("token-{}", self.0.fetch_add(1, Ordering::SeqCst));
        IssuedToken {
            hash: self.digest(&secret),
            secret,
        }
    }

    fn digest(&self, secret: &str) -> TokenHash {
        TokenHash(secret.bytes().rev().collect())
    }
}

struct StoredToken {
    user_id: UserId,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

#[derive(Default)]
struct State {
    users: Vec<(User, PasswordHash)>,
    tokens: HashMap<TokenHash, StoredToken>,
    events: Vec<Event>,
    members: Vec<(EventId, Member)>,
    invitations: Vec<Invitation>,
}

/// Every repository port over one in-memory state.
#[derive(Default)]
pub struct Store {
    state: Mutex<State>,
}

impl Store {
    pub fn members_of(&self, event: EventId) -> Vec<UserId> {
        let state = self.state.lock().unwrap();
        state
            .members
            .iter()
            .filter(|(e, _)| *e == event)
            .map(|(_, m)| m.user.id)
            .collect()
    }

    pub fn invitations(&self) -> Vec<Invitation> {
        self.state.lock().unwrap().invitations.clone()
    }

    /// Stores an invitation directly, as if sent earlier.
    pub fn insert_invitation(&self, invitation: Invitation) {
        self.state.lock().unwrap().invitations.push(invitation);
    }

    fn details(state: &State, invitation: &Invitation) -> InvitationDetails {
        let summary = |id| {
            state
                .users
                .iter()
                .find(|(u, _)| u.id == id)
                .unwrap()
                .0
                .summary()
        };
        let event = state
            .events
            .iter()
            .find(|e| e.id == invitation.event_id())
            .unwrap();
        InvitationDetails {
            invitation: invitation.clone(),
            event_title: event.details.title().clone(),
            sender: summary(invitation.sender_id()),
            invitee: summary(invitation.invitee_id()),
        }
    }

    fn page<T: Clone>(
        mut items: Vec<T>,
        page: PageRequest,
        key: impl Fn(&T) -> uuid::Uuid,
    ) -> Page<T> {
        items.sort_by_key(|item| std::cmp::Reverse(key(item)));
        let rows = items
            .into_iter()
            .filter(|item| page.after.is_none_or(|after| key(item) < after))
            .take(page.limit.get() as usize + 1)
            .collect();
        Page::from_overfetched(rows, page.limit, key)
    }
}

#[async_trait]
impl UserRepository for Store {
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError> {
        let mut state = self.state.lock().unwrap();
        if user.email.is_some() && state.users.iter().any(|(u, _)| u.email == user.email) {
            return Err(CreateUserError::EmailTaken);
        }
        if user.mobile.is_some() && state.users.iter().any(|(u, _)| u.mobile == user.mobile) {
            return Err(CreateUserError::MobileTaken);
        }
        let stored = User {
            id: user.id,
            name: user.name,
            email: user.email,
            mobile: user.mobile,
            created_at: user.created_at,
        };
        state.users.push((stored.clone(), user.password_hash));
        Ok(stored)
    }

    async fn find_credentials(
        &self,
        login: &Login,
    ) -> Result<Option<(User, PasswordHash)>, PortError> {
        let state = self.state.lock().unwrap();
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
        let state = self.state.lock().unwrap();
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
        let stored = StoredToken {
            user_id: token.user_id,
            expires_at: token.expires_at,
            revoked: false,
        };
        self.state.lock().unwrap().tokens.insert(token.hash, stored);
        Ok(())
    }

    async fn find_user(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .tokens
            .get(hash)
            .filter(|t| !t.revoked && t.expires_at > now)
            .and_then(|t| state.users.iter().find(|(u, _)| u.id == t.user_id))
            .map(|(u, _)| u.clone()))
    }

    async fn revoke(&self, hash: &TokenHash, _now: DateTime<Utc>) -> Result<(), PortError> {
        if let Some(token) = self.state.lock().unwrap().tokens.get_mut(hash) {
            token.revoked = true;
        }
        Ok(())
    }
}

#[async_trait]
impl EventRepository for Store {
    async fn create(&self, event: NewEvent) -> Result<Event, PortError> {
        let mut state = self.state.lock().unwrap();
        let stored = Event {
            id: event.id,
            details: event.details,
            owner: event.owner.clone(),
            members_count: 1,
            created_at: event.created_at,
        };
        state.events.push(stored.clone());
        let owner = Member {
            id: MemberId::generate(),
            user: event.owner,
            role: Role::Owner,
            joined_at: event.created_at,
        };
        state.members.push((event.id, owner));
        Ok(stored)
    }

    async fn find_for_member(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Event>, PortError> {
        let state = self.state.lock().unwrap();
        let is_member = state
            .members
            .iter()
            .any(|(e, m)| *e == id && m.user.id == viewer);
        Ok(state
            .events
            .iter()
            .find(|e| e.id == id && is_member)
            .cloned())
    }

    async fn list_for_member(
        &self,
        member: UserId,
        page: PageRequest,
    ) -> Result<Page<Event>, PortError> {
        let state = self.state.lock().unwrap();
        let events = state
            .events
            .iter()
            .filter(|e| {
                state
                    .members
                    .iter()
                    .any(|(id, m)| *id == e.id && m.user.id == member)
            })
            .cloned()
            .collect();
        Ok(Self::page(events, page, |e| e.id.as_uuid()))
    }

    async fn list_members(
        &self,
        event: EventId,
        page: PageRequest,
    ) -> Result<Page<Member>, PortError> {
        let state = self.state.lock().unwrap();
        let members = state
            .members
            .iter()
            .filter(|(e, _)| *e == event)
            .map(|(_, m)| m.clone())
            .collect();
        Ok(Self::page(members, page, |m| m.id.as_uuid()))
    }
}

#[async_trait]
impl InvitationRepository for Store {
    async fn invitee_states(
        &self,
        event: EventId,
        users: &[UserId],
    ) -> Result<HashMap<UserId, InviteeState>, PortError> {
        let state = self.state.lock().unwrap();
        let mut states: HashMap<UserId, InviteeState> = HashMap::new();
        for (_, member) in state
            .members
            .iter()
            .filter(|(e, m)| *e == event && users.contains(&m.user.id))
        {
            states.entry(member.user.id).or_default().is_member = true;
        }
        let mut latest: HashMap<UserId, &Invitation> = HashMap::new();
        for invitation in state.invitations.iter().filter(|i| i.event_id() == event) {
            if users.contains(&invitation.invitee_id()) {
                let entry = latest.entry(invitation.invitee_id()).or_insert(invitation);
                if invitation.id() > entry.id() {
                    *entry = invitation;
                }
            }
        }
        for (user, invitation) in latest {
            states.entry(user).or_default().latest = Some(invitation.status());
        }
        Ok(states)
    }

    async fn create_batch(
        &self,
        invitations: &[Invitation],
    ) -> Result<Vec<BatchOutcome>, PortError> {
        let mut state = self.state.lock().unwrap();
        Ok(invitations
            .iter()
            .map(|new| {
                let pending = state.invitations.iter().any(|i| {
                    i.event_id() == new.event_id()
                        && i.invitee_id() == new.invitee_id()
                        && i.status() == InvitationStatus::Pending
                });
                if pending {
                    BatchOutcome::AlreadyPending
                } else {
                    state.invitations.push(new.clone());
                    BatchOutcome::Created
                }
            })
            .collect())
    }

    async fn find(&self, id: InvitationId) -> Result<Option<InvitationDetails>, PortError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .invitations
            .iter()
            .find(|i| i.id() == id)
            .map(|i| Self::details(&state, i)))
    }

    async fn save_answer(&self, invitation: &Invitation) -> Result<(), SaveAnswerError> {
        let mut guard = self.state.lock().unwrap();
        let state = &mut *guard;
        let stored = state
            .invitations
            .iter_mut()
            .find(|i| i.id() == invitation.id())
            .unwrap();
        if stored.status() != InvitationStatus::Pending {
            return Err(SaveAnswerError::AlreadyAnswered);
        }
        *stored = invitation.clone();
        if let InvitationState::Answered {
            answer: crate::Answer::Accept,
            at,
        } = invitation.state()
        {
            let user = state
                .users
                .iter()
                .find(|(u, _)| u.id == invitation.invitee_id())
                .unwrap()
                .0
                .summary();
            let member = Member {
                id: MemberId::generate(),
                user,
                role: Role::Member,
                joined_at: at,
            };
            state.members.push((invitation.event_id(), member));
            let event = state
                .events
                .iter_mut()
                .find(|e| e.id == invitation.event_id())
                .unwrap();
            event.members_count += 1;
        }
        Ok(())
    }

    async fn list_sent(
        &self,
        sender: UserId,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.list(|i| i.sender_id() == sender, filter, page)
    }

    async fn list_received(
        &self,
        invitee: UserId,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.list(|i| i.invitee_id() == invitee, filter, page)
    }
}

impl Store {
    fn list(
        &self,
        party: impl Fn(&Invitation) -> bool,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let state = self.state.lock().unwrap();
        let items = state
            .invitations
            .iter()
            .filter(|i| party(i))
            .filter(|i| filter.status.status().is_none_or(|s| i.status() == s))
            .filter(|i| filter.event_id.is_none_or(|e| i.event_id() == e))
            .map(|i| Self::details(&state, i))
            .collect();
        Ok(Self::page(items, page, |d| d.invitation.id().as_uuid()))
    }
}
