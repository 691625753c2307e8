//! Registering, logging in and out, and resolving bearer tokens (docs/api.md, "Accounts").

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;

use crate::accounts::ports::{
    CreateUserError, NewToken, NewUser, PasswordHasher, TokenIssuer, TokenRepository,
    UserRepository,
};
use crate::accounts::User;
use crate::ports::{Clock, PortError};
use crate::{Email, Login, Mobile, Password, Text, UserId};

/// How long tokens live.
#[derive(Clone, Copy, Debug)]
pub struct TokenPolicy {
    /// Time from issue to expiry (`TOKEN_TTL_DAYS`).
    pub ttl: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::days(30),
        }
    }
}

/// A logged-in session: the user and a new bearer token.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who logged in.
    pub user: User,
    /// The bearer token's secret, shown to the client once; `Debug` does not print it.
    pub token: SecretString,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// A registration, its fields already parsed.
#[derive(Clone, Debug)]
pub struct RegisterCommand {
    /// Display name (1..100 characters).
    pub name: Text,
    /// Email; at least one of email and mobile is present.
    pub email: Option<Email>,
    /// Mobile.
    pub mobile: Option<Mobile>,
    /// The new password.
    pub password: Password,
}

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Another account has this email.
    #[error("the email is already taken")]
    EmailTaken,
    /// Another account has this mobile.
    #[error("the mobile is already taken")]
    MobileTaken,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// A login attempt. `login` is `None` when the typed login is neither an email nor a mobile: it
/// fails like a wrong password, without revealing why.
#[derive(Clone, Debug)]
pub struct LoginCommand {
    /// The email or mobile.
    pub login: Option<Login>,
    /// The password as typed.
    pub password: Password,
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown account or wrong password: the same answer for both.
    #[error("no account has this login and password")]
    InvalidCredentials,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a bearer token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    /// Unknown, revoked or expired.
    #[error("unknown, revoked or expired token")]
    Unauthenticated,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Accounts and sessions.
#[derive(Clone)]
pub struct AccountService {
    users: Arc<dyn UserRepository>,
    tokens: Arc<dyn TokenRepository>,
    hasher: Arc<dyn PasswordHasher>,
    issuer: Arc<dyn TokenIssuer>,
    clock: Arc<dyn Clock>,
    policy: TokenPolicy,
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl AccountService {
    /// Assembles the service from its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        tokens: Arc<dyn TokenRepository>,
        hasher: Arc<dyn PasswordHasher>,
        issuer: Arc<dyn TokenIssuer>,
        clock: Arc<dyn Clock>,
        policy: TokenPolicy,
    ) -> Self {
        Self {
            users,
            tokens,
            hasher,
            issuer,
            clock,
            policy,
        }
    }

    /// Creates an account and logs it in.
    ///
    /// # Errors
    /// [`RegisterError::EmailTaken`] / [`RegisterError::MobileTaken`] when another account has the
    /// contact; [`RegisterError::Port`] on infrastructure failure.
    pub async fn register(&self, command: RegisterCommand) -> Result<Session, RegisterError> {
        let password_hash = self.hasher.hash(&command.password).await?;
        let user = self
            .users
            .create(NewUser {
                id: UserId::generate(),
                name: command.name,
                email: command.email,
                mobile: command.mobile,
                password_hash,
                created_at: self.clock.now(),
            })
            .await
            .map_err(|error| match error {
                CreateUserError::EmailTaken => RegisterError::EmailTaken,
                CreateUserError::MobileTaken => RegisterError::MobileTaken,
                CreateUserError::Port(error) => RegisterError::Port(error),
            })?;
        Ok(self.open_session(user).await?)
    }

    /// Checks a login and password and opens a session.
    ///
    /// # Errors
    /// [`LoginError::InvalidCredentials`] for an unknown account or a wrong password, after the same
    /// work in both cases; [`LoginError::Port`] on infrastructure failure.
    pub async fn login(&self, command: LoginCommand) -> Result<Session, LoginError> {
        let found = match &command.login {
            Some(login) => self.users.find_credentials(login).await?,
            None => None,
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        // Verify even without an account, so that both failures cost the same time.
        let matches = self.hasher.verify(&command.password, hash).await?;
        match user {
            Some(user) if matches => Ok(self.open_session(user).await?),
            _ => Err(LoginError::InvalidCredentials),
        }
    }

    /// Revokes the token the client presented.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn logout(&self, token: &str) -> Result<(), PortError> {
        self.tokens
            .revoke(&self.issuer.digest(token), self.clock.now())
            .await
    }

    /// The user a bearer token belongs to.
    ///
    /// # Errors
    /// [`AuthenticateError::Unauthenticated`] for an unknown, revoked or expired token.
    pub async fn authenticate(&self, token: &str) -> Result<User, AuthenticateError> {
        self.tokens
            .find_user(&self.issuer.digest(token), self.clock.now())
            .await?
            .ok_or(AuthenticateError::Unauthenticated)
    }

    async fn open_session(&self, user: User) -> Result<Session, PortError> {
        let issued = self.issuer.issue();
        let now = self.clock.now();
        let expires_at = now + self.policy.ttl;
        self.tokens
            .store(NewToken {
                hash: issued.hash,
                user_id: user.id,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(Session {
            user,
            token: issued.secret,
            expires_at,
        })
    }
}
