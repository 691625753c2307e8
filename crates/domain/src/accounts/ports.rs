//! What accounts need from outside: password hashing, token issuing, and the user and token stores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::accounts::User;
use crate::ports::PortError;
use crate::{Email, Login, Mobile, Password, Text, UserId};

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
