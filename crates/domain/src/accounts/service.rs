//! Registering, logging in and out, and resolving bearer tokens (docs/api.md, "Accounts").

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;

use crate::accounts::ports::{
    CreateUserError, NewToken, NewUser, PasswordHasher, TokenIssuer, TokenRepository,
    UserRepository,
};
use crate::accounts::verification::{ContactVerification, VerificationService};
use crate::accounts::{Channel, Locale, User};
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
    /// The new password; `None`: the account logs in by code only.
    pub password: Option<Password>,
    /// The language the account reads.
    pub locale: Locale,
}

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Another account has proven this email (only with `CONTACT_VERIFICATION=off`: otherwise
    /// an unproven claim never blocks anyone).
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
    pub(super) users: Arc<dyn UserRepository>,
    pub(super) tokens: Arc<dyn TokenRepository>,
    pub(super) hasher: Arc<dyn PasswordHasher>,
    pub(super) issuer: Arc<dyn TokenIssuer>,
    pub(super) clock: Arc<dyn Clock>,
    policy: TokenPolicy,
    pub(super) proofs: Proofs,
}

/// How contacts are proven: the setting, and the service that sends the codes.
#[derive(Clone, Debug)]
pub struct Proofs {
    /// `CONTACT_VERIFICATION`.
    pub verification: ContactVerification,
    /// Sends and checks codes.
    pub codes: VerificationService,
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
        proofs: Proofs,
    ) -> Self {
        Self {
            users,
            tokens,
            hasher,
            issuer,
            clock,
            policy,
            proofs,
        }
    }

    /// Whether contacts must be proven.
    pub fn verification(&self) -> ContactVerification {
        self.proofs.verification
    }

    /// The codes' service.
    pub fn codes(&self) -> &VerificationService {
        &self.proofs.codes
    }

    /// Creates an account and logs it in. Unless contacts count as proven at once, a code goes to
    /// each contact given (`address`: the client's, for the codes' limits); a code that cannot go
    /// now (a limit, a number outside the SMS regions) can be asked for again later, so it does
    /// not fail the registration.
    ///
    /// # Errors
    /// [`RegisterError::EmailTaken`] / [`RegisterError::MobileTaken`] when contacts count as proven
    /// at once and another account has the contact; [`RegisterError::Port`] on infrastructure
    /// failure.
    pub async fn register(
        &self,
        command: RegisterCommand,
        address: &str,
    ) -> Result<Session, RegisterError> {
        let password_hash = match &command.password {
            Some(password) => Some(self.hasher.hash(password).await?),
            None => None,
        };
        let proven = self.proofs.verification == ContactVerification::Off;
        let user = self
            .users
            .create(NewUser {
                id: UserId::generate(),
                name: command.name,
                email: command.email,
                mobile: command.mobile,
                proven,
                password_hash,
                locale: command.locale,
                created_at: self.clock.now(),
            })
            .await
            .map_err(|error| match error {
                CreateUserError::EmailTaken => RegisterError::EmailTaken,
                CreateUserError::MobileTaken => RegisterError::MobileTaken,
                CreateUserError::Port(error) => RegisterError::Port(error),
            })?;
        if !proven {
            for channel in [Channel::Email, Channel::Mobile] {
                if user.unproven(channel).is_some() {
                    match self.proofs.codes.send_proof(&user, channel, address).await {
                        Ok(_) => {}
                        Err(crate::accounts::SendCodeError::Port(error)) => {
                            return Err(error.into())
                        }
                        Err(_) => {}
                    }
                }
            }
        }
        Ok(self.open_session(user).await?)
    }

    /// Checks a login and password and opens a session.
    ///
    /// # Errors
    /// [`LoginError::InvalidCredentials`] for an unknown account or a wrong password, after the same
    /// work in both cases; [`LoginError::Port`] on infrastructure failure.
    pub async fn login(&self, command: LoginCommand) -> Result<Session, LoginError> {
        let candidates = match &command.login {
            Some(login) => self.users.find_credentials(login).await?,
            None => Vec::new(),
        };
        if candidates.is_empty() {
            // Verify even without an account, so that both failures cost the same time.
            self.hasher.verify(&command.password, None).await?;
            return Err(LoginError::InvalidCredentials);
        }
        // The owner of a proven login, or each account claiming an unproven one: the password
        // tells them apart.
        for (user, hash) in candidates {
            if self.hasher.verify(&command.password, hash).await? {
                return Ok(self.open_session(user).await?);
            }
        }
        Err(LoginError::InvalidCredentials)
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

    pub(super) async fn open_session(&self, user: User) -> Result<Session, PortError> {
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
