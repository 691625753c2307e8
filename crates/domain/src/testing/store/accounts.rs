//! The fake's users and tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::accounts::codes::CodeDigest;
use crate::accounts::Locale;
use crate::invitations::release_held;
use crate::{Contact, Text};

#[async_trait]
impl UserRepository for Store {
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError> {
        let mut state = self.lock();
        // An account may have no contact at all (another account proved its only one): the
        // database no longer refuses such a row, nor does the fake.
        let owned =
            |contact: Contact, state: &State| state.users.iter().any(|(u, _)| u.owns(&contact));
        if user.proven {
            if let Some(email) = &user.email {
                if owned(Contact::Email(email.clone()), &state) {
                    return Err(CreateUserError::EmailTaken);
                }
            }
            if let Some(mobile) = &user.mobile {
                if owned(Contact::Mobile(mobile.clone()), &state) {
                    return Err(CreateUserError::MobileTaken);
                }
            }
        }
        if state.user(user.id).is_some() {
            return Err(refused("a second user with one id").into());
        }
        let created_at = stored(user.created_at);
        let proof = |has: bool| (user.proven && has).then_some(created_at);
        let stored = User {
            id: user.id,
            name: user.name,
            email_verified_at: proof(user.email.is_some()),
            email: user.email,
            pending_email: None,
            mobile_verified_at: proof(user.mobile.is_some()),
            mobile: user.mobile,
            pending_mobile: None,
            locale: user.locale,
            has_password: user.password_hash.is_some(),
            created_at,
        };
        state.users.push((stored.clone(), user.password_hash));
        Ok(stored)
    }

    async fn find_credentials(
        &self,
        login: &Login,
    ) -> Result<Vec<(User, Option<PasswordHash>)>, PortError> {
        let state = self.lock();
        let contact = match login {
            Login::Email(email) => Contact::Email(email.clone()),
            Login::Mobile(mobile) => Contact::Mobile(mobile.clone()),
        };
        if let Some(owner) = state.users.iter().find(|(u, _)| u.owns(&contact)) {
            return Ok(vec![owner.clone()]);
        }
        let current = |u: &User| match &contact {
            Contact::Email(email) => u.email.as_ref() == Some(email),
            Contact::Mobile(mobile) => u.mobile.as_ref() == Some(mobile),
        };
        let mut claimants: Vec<_> = state
            .users
            .iter()
            .filter(|(u, _)| current(u))
            .cloned()
            .collect();
        claimants.sort_by_key(|(u, _)| (u.created_at, u.id));
        claimants.truncate(10);
        Ok(claimants)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError> {
        Ok(self.lock().user(id).cloned())
    }

    async fn set_password(&self, id: UserId, hash: Option<PasswordHash>) -> Result<(), PortError> {
        let mut state = self.lock();
        if let Some((user, stored)) = state.users.iter_mut().find(|(u, _)| u.id == id) {
            user.has_password = hash.is_some();
            *stored = hash;
        }
        Ok(())
    }

    async fn update_profile(
        &self,
        id: UserId,
        name: Option<Text>,
        locale: Option<Locale>,
    ) -> Result<User, PortError> {
        let mut state = self.lock();
        let (user, _) = state
            .users
            .iter_mut()
            .find(|(u, _)| u.id == id)
            .ok_or_else(|| refused("an unknown user"))?;
        if let Some(name) = name {
            user.name = name;
        }
        if let Some(locale) = locale {
            user.locale = locale;
        }
        Ok(user.clone())
    }

    async fn set_contact(
        &self,
        id: UserId,
        contact: Contact,
        proven_at: Option<DateTime<Utc>>,
    ) -> Result<User, CreateUserError> {
        let mut state = self.lock();
        if proven_at.is_some()
            && state
                .users
                .iter()
                .any(|(u, _)| u.id != id && u.owns(&contact))
        {
            return Err(match contact {
                Contact::Email(_) => CreateUserError::EmailTaken,
                Contact::Mobile(_) => CreateUserError::MobileTaken,
            });
        }
        let (user, _) = state
            .users
            .iter_mut()
            .find(|(u, _)| u.id == id)
            .ok_or_else(|| refused("an unknown user"))?;
        match contact.clone() {
            Contact::Email(email) => {
                if let Some(at) = proven_at {
                    user.email = Some(email);
                    user.email_verified_at = Some(stored(at));
                    user.pending_email = None;
                } else if user.email_verified_at.is_some() {
                    user.pending_email = Some(email);
                } else {
                    user.email = Some(email);
                    user.pending_email = None;
                }
            }
            Contact::Mobile(mobile) => {
                if let Some(at) = proven_at {
                    user.mobile = Some(mobile);
                    user.mobile_verified_at = Some(stored(at));
                    user.pending_mobile = None;
                } else if user.mobile_verified_at.is_some() {
                    user.pending_mobile = Some(mobile);
                } else {
                    user.mobile = Some(mobile);
                    user.pending_mobile = None;
                }
            }
        }
        let user = user.clone();
        let purpose = CodePurpose::Prove(crate::accounts::Channel::of(&contact)).as_str();
        state.codes.remove(&(id, purpose));
        Ok(user)
    }

    async fn remove_contact(
        &self,
        id: UserId,
        channel: crate::accounts::Channel,
    ) -> Result<User, PortError> {
        let mut state = self.lock();
        let (user, _) = state
            .users
            .iter_mut()
            .find(|(u, _)| u.id == id)
            .ok_or_else(|| refused("an unknown user"))?;
        match channel {
            crate::accounts::Channel::Email => {
                user.email = None;
                user.email_verified_at = None;
                user.pending_email = None;
            }
            crate::accounts::Channel::Mobile => {
                user.mobile = None;
                user.mobile_verified_at = None;
                user.pending_mobile = None;
            }
        }
        let user = user.clone();
        state
            .codes
            .remove(&(id, CodePurpose::Prove(channel).as_str()));
        Ok(user)
    }

    async fn erase(&self, id: UserId, now: DateTime<Utc>) -> Result<(), PortError> {
        let mut state = self.lock();
        if let Some((user, hash)) = state.users.iter_mut().find(|(u, _)| u.id == id) {
            user.name = Text::from_stored(crate::accounts::User::ERASED_NAME.to_owned());
            user.email = None;
            user.email_verified_at = None;
            user.pending_email = None;
            user.mobile = None;
            user.mobile_verified_at = None;
            user.pending_mobile = None;
            user.has_password = false;
            *hash = None;
        }
        state.codes.retain(|(owner, _), _| *owner != id);
        let _ = now;
        for token in state.tokens.values_mut().filter(|t| t.user_id == id) {
            token.revoked = true;
        }
        Ok(())
    }

    async fn find_by_contacts(
        &self,
        emails: &[Email],
        mobiles: &[Mobile],
    ) -> Result<Vec<User>, PortError> {
        let state = self.lock();
        let contacts: Vec<Contact> = emails
            .iter()
            .cloned()
            .map(Contact::Email)
            .chain(mobiles.iter().cloned().map(Contact::Mobile))
            .collect();
        Ok(state
            .users
            .iter()
            .filter(|(u, _)| contacts.iter().any(|c| u.owns(c) || u.claims(c)))
            .map(|(u, _)| u.clone())
            .collect())
    }
}

#[async_trait]
impl CodeRepository for Store {
    async fn store_code(&self, code: NewCode, message: OutgoingMessage) -> Result<(), PortError> {
        let mut state = self.lock();
        if state.user(code.user_id).is_none() {
            return Err(refused("a code for an unknown user"));
        }
        state
            .codes
            .insert((code.user_id, code.purpose.as_str()), (code, 0));
        state.messages.push(message);
        Ok(())
    }

    async fn try_code(
        &self,
        user: UserId,
        purpose: CodePurpose,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>, PortError> {
        let mut state = self.lock();
        let Some((code, attempts)) = state.codes.get_mut(&(user, purpose.as_str())) else {
            return Ok(None);
        };
        if code.expires_at <= now || *attempts >= max_attempts {
            return Ok(None);
        }
        *attempts += 1;
        Ok(Some(StoredCode {
            contact: code.contact.clone(),
            digest: code.digest.clone(),
        }))
    }

    async fn prove_contact(
        &self,
        user: UserId,
        purpose: CodePurpose,
        contact: Contact,
        digest: CodeDigest,
        now: DateTime<Utc>,
    ) -> Result<User, ProveContactError> {
        let mut state = self.lock();
        let key = (user, purpose.as_str());
        if state
            .codes
            .get(&key)
            .is_none_or(|(code, _)| code.digest != digest)
        {
            return Err(ProveContactError::CodeGone);
        }
        // The code is used whatever comes of it, as the database's transaction deletes it first.
        state.codes.remove(&key);
        if state
            .users
            .iter()
            .any(|(u, _)| u.id != user && u.owns(&contact))
        {
            return Err(ProveContactError::Taken);
        }
        let Some(me) = state.user(user).cloned() else {
            return Err(ProveContactError::NotClaimed);
        };
        if !me.claims(&contact) && !me.owns(&contact) {
            return Err(ProveContactError::NotClaimed);
        }
        let now = stored(now);
        for (u, _) in &mut state.users {
            if u.id == user {
                prove(u, &contact, now);
            } else {
                unclaim(u, &contact);
            }
        }
        let contact_text = crate::accounts::contact_key(&contact).to_owned();
        state.codes.retain(|(owner, _), (code, _)| {
            *owner == user || crate::accounts::contact_key(&code.contact) != contact_text
        });
        state.release(user, &contact_text, now);
        Ok(state.user(user).cloned().expect("proven above"))
    }

    async fn proven_by_another(&self, user: UserId, contact: &Contact) -> Result<bool, PortError> {
        Ok(self
            .lock()
            .users
            .iter()
            .any(|(u, _)| u.id != user && u.owns(contact)))
    }

    async fn consume_code(
        &self,
        user: UserId,
        purpose: CodePurpose,
        digest: CodeDigest,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let key = (user, purpose.as_str());
        if state
            .codes
            .get(&key)
            .is_some_and(|(code, _)| code.digest == digest)
        {
            state.codes.remove(&key);
            return Ok(true);
        }
        Ok(false)
    }
}

/// `user` proves `contact`: a pending replacement becomes the contact.
fn prove(user: &mut User, contact: &Contact, at: DateTime<Utc>) {
    match contact {
        Contact::Email(email) => {
            if user.email.as_ref() != Some(email) {
                user.email = Some(email.clone());
            }
            user.email_verified_at = Some(at);
            if user.pending_email.as_ref() == Some(email) {
                user.pending_email = None;
            }
        }
        Contact::Mobile(mobile) => {
            if user.mobile.as_ref() != Some(mobile) {
                user.mobile = Some(mobile.clone());
            }
            user.mobile_verified_at = Some(at);
            if user.pending_mobile.as_ref() == Some(mobile) {
                user.pending_mobile = None;
            }
        }
    }
}

/// Another account proved `contact`: `user` loses its unproven claim on it.
fn unclaim(user: &mut User, contact: &Contact) {
    match contact {
        Contact::Email(email) => {
            if user.email.as_ref() == Some(email) && user.email_verified_at.is_none() {
                user.email = None;
            }
            if user.pending_email.as_ref() == Some(email) {
                user.pending_email = None;
            }
        }
        Contact::Mobile(mobile) => {
            if user.mobile.as_ref() == Some(mobile) && user.mobile_verified_at.is_none() {
                user.mobile = None;
            }
            if user.pending_mobile.as_ref() == Some(mobile) {
                user.pending_mobile = None;
            }
        }
    }
}

impl Store {
    /// The messages in the outbox, oldest first.
    pub fn messages(&self) -> Vec<OutgoingMessage> {
        self.lock().messages.clone()
    }

    /// `user` proves the email address they have, as a confirmed code would.
    pub fn prove_email(&self, user: UserId) {
        let mut state = self.lock();
        if let Some((u, _)) = state.users.iter_mut().find(|(u, _)| u.id == user) {
            if let Some(email) = u.email.clone() {
                prove(u, &Contact::Email(email), u.created_at);
            }
        }
    }

    /// Sets the replacements `user` asked for (`None`: none), as a change of contact does.
    pub fn set_pending_contacts(&self, user: UserId, email: Option<Email>, mobile: Option<Mobile>) {
        let mut state = self.lock();
        if let Some((u, _)) = state.users.iter_mut().find(|(u, _)| u.id == user) {
            u.pending_email = email;
            u.pending_mobile = mobile;
        }
    }
}

impl State {
    /// The account that proved `contact` (normalized), if any.
    pub(super) fn owner_of(&self, contact: &str) -> Option<UserId> {
        self.users
            .iter()
            .map(|(u, _)| u)
            .find(|u| {
                (u.email_verified_at.is_some()
                    && u.email.as_ref().map(Email::as_str) == Some(contact))
                    || (u.mobile_verified_at.is_some()
                        && u.mobile.as_ref().map(Mobile::as_str) == Some(contact))
            })
            .map(|u| u.id)
    }

    /// Gives `prover` the invitations held for `contact` ([`release_held`]), recording an
    /// `invitation.created` to it for each given and an `invitation.cancelled` for each cancelled.
    pub(super) fn release(&mut self, prover: UserId, contact: &str, now: DateTime<Utc>) {
        let held: Vec<Invitation> = self
            .invitations
            .iter()
            .filter(|i| i.held_contact() == Some(contact))
            .cloned()
            .collect();
        // The held invitations themselves do not block: the prover may be their invitee already
        // (the claimant that proves its own contact).
        let blocked = |event: EventId| {
            self.is_member(event, prover)
                || self.invitations.iter().any(|i| {
                    i.event_id() == event
                        && i.invitee_id() == prover
                        && i.status() == InvitationStatus::Pending
                        && i.held_contact() != Some(contact)
                })
        };
        let release = release_held(held, prover, blocked, now);
        let mut changes = Vec::new();
        for (changed, given) in release
            .given
            .into_iter()
            .map(|i| (i, true))
            .chain(release.cancelled.into_iter().map(|i| (i, false)))
        {
            let mut record = changed.to_stored();
            record.version = record.version.next();
            let changed = Invitation::restore(record);
            if let Some(row) = self.invitations.iter_mut().find(|i| i.id() == changed.id()) {
                *row = changed.clone();
            }
            let details = self.details(&changed);
            changes.push(if given {
                Change::invitation_released(details, now).expect("pending")
            } else {
                Change::invitation_cancelled(details).expect("cancelled")
            });
        }
        self.record(changes);
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
            created_at: stored(token.created_at),
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

    async fn revoke_all(
        &self,
        user: UserId,
        except: Option<TokenHash>,
        now: DateTime<Utc>,
    ) -> Result<u64, PortError> {
        let mut state = self.lock();
        let now = stored(now);
        let mut revoked = 0;
        for (hash, token) in &mut state.tokens {
            if token.user_id == user
                && !token.revoked
                && token.expires_at > now
                && except.as_ref() != Some(hash)
            {
                token.revoked = true;
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn list_tokens(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::accounts::ports::TokenInfo>, PortError> {
        let state = self.lock();
        let now = stored(now);
        let mut tokens: Vec<_> = state
            .tokens
            .values()
            .filter(|t| t.user_id == user && !t.revoked && t.expires_at > now)
            .map(|t| crate::accounts::ports::TokenInfo {
                created_at: t.created_at,
                expires_at: t.expires_at,
            })
            .collect();
        tokens.sort_by_key(|t| (t.created_at, t.expires_at));
        Ok(tokens)
    }

    async fn revoke(&self, hash: &TokenHash, _now: DateTime<Utc>) -> Result<(), PortError> {
        if let Some(token) = self.lock().tokens.get_mut(hash) {
            token.revoked = true;
        }
        Ok(())
    }
}
