//! The fake's users and tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;

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
