//! What accounts need from outside: password hashing, token issuing, and the user and token stores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::accounts::codes::CodeDigest;
use crate::accounts::{Channel, Locale, User};
use crate::messages::OutgoingMessage;
use crate::ports::PortError;
use crate::{Contact, Email, Login, Mobile, Password, Text, UserId};

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
    /// Whether the contacts count as proven at once (`CONTACT_VERIFICATION=off`): then they are
    /// unique, and one that another account has proven is taken.
    pub proven: bool,
    /// The password's hash; `None` for an account that logs in by code only.
    pub password_hash: Option<PasswordHash>,
    /// The language the account reads.
    pub locale: Locale,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// Another account has proven this email (compared case-insensitively).
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
    /// With [`NewUser::proven`], MUST return [`CreateUserError::EmailTaken`] /
    /// [`CreateUserError::MobileTaken`] when the database's uniqueness constraint on proven
    /// contacts refuses the row, even under a race.
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError>;

    /// The accounts a login may open, with their password hashes: the one that proved it, else
    /// every account that claims it as its current contact (oldest first, at most 10).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_credentials(
        &self,
        login: &Login,
    ) -> Result<Vec<(User, Option<PasswordHash>)>, PortError>;

    /// A user by id.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError>;

    /// Sets (or, with `None`, removes) the account's password hash.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn set_password(&self, id: UserId, hash: Option<PasswordHash>) -> Result<(), PortError>;

    /// Changes the account's name and locale, where given; returns the account after.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn update_profile(
        &self,
        id: UserId,
        name: Option<Text>,
        locale: Option<Locale>,
    ) -> Result<User, PortError>;

    /// Gives the account a new contact of its kind: proven at `proven_at` when given (contacts
    /// count at once), else unproven; an unproven one replaces the current contact, unless that
    /// one is proven: then it waits as the pending replacement. Any code for the old unproven
    /// contact is void. Returns the account after.
    ///
    /// # Errors
    /// [`CreateUserError::EmailTaken`] / [`CreateUserError::MobileTaken`] when proven at once and
    /// another account has proven it.
    async fn set_contact(
        &self,
        id: UserId,
        contact: Contact,
        proven_at: Option<DateTime<Utc>>,
    ) -> Result<User, CreateUserError>;

    /// Removes the account's contact of `channel`, its pending replacement and its codes;
    /// returns the account after.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn remove_contact(&self, id: UserId, channel: Channel) -> Result<User, PortError>;

    /// Erases the account: name `Deleted user`, no contacts, no password, no codes, every token
    /// revoked at `now`, `erased_at` set. Its id stays, for what others keep of it.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn erase(&self, id: UserId, now: DateTime<Utc>) -> Result<(), PortError>;

    /// Every user that has, proven or claimed (pending replacements included), one of these
    /// emails or mobiles, in one round trip whatever their number.
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

/// What an account's export shows of one of its live tokens (never the token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenInfo {
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

    /// Revokes every live token of `user` but `except`; returns how many.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn revoke_all(
        &self,
        user: UserId,
        except: Option<TokenHash>,
        now: DateTime<Utc>,
    ) -> Result<u64, PortError>;

    /// The account's live tokens (for its export): when each was made and when it expires.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_tokens(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenInfo>, PortError>;

    /// Revokes a token; revoking twice or an unknown token is not an error.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn revoke(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), PortError>;
}

/// What a code is for: proving the account's email or mobile, or (`Login`) showing that the
/// caller holds one of its proven contacts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// Proves the email (`POST /api/v1/me/verifications`).
    Prove(Channel),
    /// Sent to a proven contact, to log in or reset the password.
    Login,
}

impl CodePurpose {
    /// The stored name: `email`, `mobile` or `login`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Prove(channel) => channel.as_str(),
            Self::Login => "login",
        }
    }
}

/// A code to store, replacing the account's previous one of the same purpose.
#[derive(Clone, Debug)]
pub struct NewCode {
    /// Whose.
    pub user_id: UserId,
    /// What for.
    pub purpose: CodePurpose,
    /// Where it was sent (normalized).
    pub contact: Contact,
    /// Its keyed hash.
    pub digest: CodeDigest,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A stored code, as a try found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCode {
    /// Where it was sent.
    pub contact: Contact,
    /// Its keyed hash.
    pub digest: CodeDigest,
}

/// Why a contact could not be proven.
#[derive(Debug, thiserror::Error)]
pub enum ProveContactError {
    /// The code was used (or replaced) meanwhile: another confirmation won.
    #[error("the code is no longer there")]
    CodeGone,
    /// Another account proved the contact first.
    #[error("another account has proven this contact")]
    Taken,
    /// The account no longer claims this contact (it changed it meanwhile).
    #[error("the account no longer has this contact")]
    NotClaimed,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Stores codes and proves contacts.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CodeRepository: Send + Sync {
    /// Stores `code` in place of the account's previous code of its purpose, and `message` (the
    /// code's text to its contact) in the outbox, in one transaction.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn store_code(&self, code: NewCode, message: OutgoingMessage) -> Result<(), PortError>;

    /// Counts one try of the account's code of `purpose`, if it has one that is live at `now` and
    /// has tries left (fewer than `max_attempts` so far), and returns it; `None` otherwise. One
    /// atomic step: concurrent tries cannot together exceed `max_attempts`.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn try_code(
        &self,
        user: UserId,
        purpose: CodePurpose,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>, PortError>;

    /// In one transaction, serialized with every other proof of the same contact (in any
    /// process): consumes the account's code of `purpose` (it must still be stored with `digest`),
    /// proves `contact` for the account (a pending replacement becomes its contact), takes the
    /// contact (and any code for it) from every other account that claims it, and gives the
    /// account the invitations held for the contact ([`crate::invitations::release_held`]),
    /// recording an `invitation.created` to the account for each. Returns the account as it is
    /// after.
    ///
    /// # Errors
    /// [`ProveContactError::CodeGone`] when the code was consumed or replaced meanwhile,
    /// [`ProveContactError::Taken`] when another account proved the contact first,
    /// [`ProveContactError::NotClaimed`] when the account no longer claims it.
    async fn prove_contact(
        &self,
        user: UserId,
        purpose: CodePurpose,
        contact: Contact,
        digest: CodeDigest,
        now: DateTime<Utc>,
    ) -> Result<User, ProveContactError>;

    /// Whether an account other than `user` has proven `contact`: a code to it could prove
    /// nothing, and would only pester its owner.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn proven_by_another(&self, user: UserId, contact: &Contact) -> Result<bool, PortError>;

    /// Consumes the account's code of `purpose` if it is still stored with `digest`: whether it
    /// was (a code works once).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn consume_code(
        &self,
        user: UserId,
        purpose: CodePurpose,
        digest: CodeDigest,
    ) -> Result<bool, PortError>;
}
