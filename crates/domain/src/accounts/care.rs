//! Account care (docs/api.md, "Your account"): logging in and resetting the password with a code,
//! editing the profile, changing or removing a contact, the export of everything stored about the
//! caller, and erasing the account.

use crate::accounts::codes::OneTimeCode;
use crate::accounts::ports::{CodePurpose, CreateUserError};
use crate::accounts::ports::{PasswordHash, TokenInfo};
use crate::accounts::verification::{ContactVerification, SendCodeError};
use crate::accounts::{AccountService, Channel, Locale, LoginError, Session, User};
use crate::events::{Event, EventService, EventView};
use crate::invitations::{InvitationDetails, InvitationService};
use crate::ports::PortError;
use crate::{Contact, Limit, Login, Password, Text};

/// A profile edit: each field given is changed.
#[derive(Clone, Debug, Default)]
pub struct ProfilePatch {
    /// A new name.
    pub name: Option<Text>,
    /// A new locale.
    pub locale: Option<Locale>,
    /// A new password, with the current one (required when the account has one).
    pub password: Option<(Password, Option<Password>)>,
}

/// Why a profile edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateProfileError {
    /// The current password is missing or wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a contact change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeContactError {
    /// The account already has this contact, proven.
    #[error("the account already has this contact")]
    Unchanged,
    /// Contacts count at once (`CONTACT_VERIFICATION=off`) and another account has this one.
    #[error("another account has this contact")]
    Taken,
    /// Removing: the other contact is not proven, so the account would have no proven way in.
    #[error("the other contact is not proven")]
    OtherNotProven,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// How the caller proves it is them before the account is erased.
#[derive(Clone, Debug)]
pub enum ErasureProof {
    /// The account's password.
    Password(Password),
    /// A login code sent to one of its proven contacts.
    Code(OneTimeCode),
}

/// Why an account was not erased.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// The password or code is wrong.
    #[error("the password or code is wrong")]
    WrongProof,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Everything stored about an account (`GET /api/v1/me/export`).
#[derive(Clone, Debug)]
pub struct AccountExport {
    /// The profile.
    pub user: User,
    /// Its live tokens: when each was made and when it expires.
    pub tokens: Vec<TokenInfo>,
    /// The events it is a member of.
    pub events: Vec<Event>,
    /// The invitations it sent.
    pub sent: Vec<InvitationDetails>,
    /// The invitations it received.
    pub received: Vec<InvitationDetails>,
}

/// The most items of each kind one export or erasure reads per page.
const PAGE: u32 = 100;

impl AccountService {
    /// The account that has proven `login`, if any.
    async fn owner_of(&self, login: &Login) -> Result<Option<User>, PortError> {
        let contact = login_contact(login);
        Ok(self
            .users
            .find_credentials(login)
            .await?
            .into_iter()
            .map(|(user, _)| user)
            .find(|user| user.owns(&contact)))
    }

    /// Sends a login code to `login`, if an account has proven it (docs/api.md, "Log in with a
    /// code"). Whether one went is not told: the caller answers the same either way, and calls
    /// this off the request so that its time does not tell either.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn send_login_code(&self, login: &Login, address: &str) -> Result<(), PortError> {
        let Some(user) = self.owner_of(login).await? else {
            return Ok(());
        };
        match self
            .proofs
            .codes
            .send(&user, CodePurpose::Login, login_contact(login), address)
            .await
        {
            Ok(_) | Err(SendCodeError::TooMany(_) | SendCodeError::RegionNotAllowed) => Ok(()),
            Err(SendCodeError::NothingToProve | SendCodeError::ProvenElsewhere) => Ok(()),
            Err(SendCodeError::Port(error)) => Err(error),
        }
    }

    /// The owner of `login`, if `code` is its live login code (consumed then).
    async fn check_code(
        &self,
        login: Option<&Login>,
        code: &OneTimeCode,
    ) -> Result<Option<User>, PortError> {
        let Some(login) = login else {
            return Ok(None);
        };
        let Some(user) = self.owner_of(login).await? else {
            return Ok(None);
        };
        Ok(self
            .proofs
            .codes
            .check_login_code(&user, code)
            .await?
            .then_some(user))
    }

    /// Logs in with a code sent to a proven contact.
    ///
    /// # Errors
    /// [`LoginError::InvalidCredentials`] for an unknown login or a wrong, used or expired code.
    pub async fn login_with_code(
        &self,
        login: Option<&Login>,
        code: &OneTimeCode,
    ) -> Result<Session, LoginError> {
        match self.check_code(login, code).await? {
            Some(user) => Ok(self.open_session(user).await?),
            None => Err(LoginError::InvalidCredentials),
        }
    }

    /// Sets a new password with a code sent to a proven contact, revokes every token of the
    /// account, and opens a new session.
    ///
    /// # Errors
    /// [`LoginError::InvalidCredentials`] for an unknown login or a wrong, used or expired code.
    pub async fn reset_password(
        &self,
        login: Option<&Login>,
        code: &OneTimeCode,
        password: &Password,
    ) -> Result<Session, LoginError> {
        let Some(user) = self.check_code(login, code).await? else {
            return Err(LoginError::InvalidCredentials);
        };
        let hash = self.hasher.hash(password).await?;
        self.users.set_password(user.id, Some(hash)).await?;
        self.tokens
            .revoke_all(user.id, None, self.clock.now())
            .await?;
        let user = self.users.find_by_id(user.id).await?.unwrap_or(user);
        Ok(self.open_session(user).await?)
    }

    /// Edits the profile. A new password revokes every other token of the account (`token`: the
    /// one the caller used).
    ///
    /// # Errors
    /// [`UpdateProfileError::WrongPassword`] when the account has a password and the current one
    /// given is missing or wrong.
    pub async fn update_profile(
        &self,
        user: &User,
        token: &str,
        patch: ProfilePatch,
    ) -> Result<User, UpdateProfileError> {
        if let Some((new, current)) = &patch.password {
            // Whether the account has a password as stored now: `user` may be seconds old (a
            // password set through another process; docs/operations.md, "Token cache").
            let stored = self.password_of(user).await?;
            if stored.is_some() {
                let Some(current) = current else {
                    return Err(UpdateProfileError::WrongPassword);
                };
                if !self.hasher.verify(current, stored).await? {
                    return Err(UpdateProfileError::WrongPassword);
                }
            }
            let hash = self.hasher.hash(new).await?;
            self.users.set_password(user.id, Some(hash)).await?;
            self.tokens
                .revoke_all(user.id, Some(self.issuer.digest(token)), self.clock.now())
                .await?;
        }
        if patch.name.is_some() || patch.locale.is_some() {
            return Ok(self
                .users
                .update_profile(user.id, patch.name, patch.locale)
                .await?);
        }
        Ok(self
            .users
            .find_by_id(user.id)
            .await?
            .unwrap_or_else(|| user.clone()))
    }

    /// Gives the account a new contact (`PUT /api/v1/me/email|mobile`): unproven until its code,
    /// sent now, is entered; a proven contact it replaces serves until then.
    ///
    /// # Errors
    /// [`ChangeContactError::Unchanged`] when it already is the account's proven contact;
    /// [`ChangeContactError::Taken`] when contacts count at once and another account has it.
    pub async fn change_contact(
        &self,
        user: &User,
        contact: Contact,
        address: &str,
    ) -> Result<User, ChangeContactError> {
        if user.owns(&contact) {
            return Err(ChangeContactError::Unchanged);
        }
        let at_once =
            (self.proofs.verification == ContactVerification::Off).then(|| self.clock.now());
        let changed = self
            .users
            .set_contact(user.id, contact.clone(), at_once)
            .await
            .map_err(|error| match error {
                CreateUserError::EmailTaken | CreateUserError::MobileTaken => {
                    ChangeContactError::Taken
                }
                CreateUserError::Port(error) => ChangeContactError::Port(error),
            })?;
        if at_once.is_none() {
            match self
                .proofs
                .codes
                .send_proof(&changed, Channel::of(&contact), address)
                .await
            {
                Ok(_) | Err(SendCodeError::TooMany(_) | SendCodeError::RegionNotAllowed) => {}
                Err(SendCodeError::NothingToProve | SendCodeError::ProvenElsewhere) => {}
                Err(SendCodeError::Port(error)) => return Err(error.into()),
            }
        }
        Ok(changed)
    }

    /// Removes the account's contact of `channel` (`DELETE /api/v1/me/email|mobile`), while the
    /// other one is proven.
    ///
    /// # Errors
    /// [`ChangeContactError::OtherNotProven`] otherwise.
    pub async fn remove_contact(
        &self,
        user: &User,
        channel: Channel,
    ) -> Result<User, ChangeContactError> {
        let other = match channel {
            Channel::Email => Channel::Mobile,
            Channel::Mobile => Channel::Email,
        };
        if user.proven_contact(other).is_none() {
            return Err(ChangeContactError::OtherNotProven);
        }
        Ok(self.users.remove_contact(user.id, channel).await?)
    }

    /// Everything stored about the account.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn export(
        &self,
        user: &User,
        events: &EventService,
        invitations: &InvitationService,
    ) -> Result<AccountExport, PortError> {
        let now = self.clock.now();
        let user = self
            .users
            .find_by_id(user.id)
            .await?
            .unwrap_or_else(|| user.clone());
        let tokens = self.tokens.list_tokens(user.id, now).await?;
        let mut member_of = Vec::new();
        let mut after = None;
        loop {
            let page = events.list(&user, page(after)).await?;
            let next = page.next_after;
            member_of.extend(page.items.into_iter().map(|view| view.event));
            if next.is_none() {
                break;
            }
            after = next;
        }
        let (sent, received) = invitations.everything_of(user.id).await?;
        Ok(AccountExport {
            user,
            tokens,
            events: member_of,
            sent,
            received,
        })
    }

    /// Erases the account (`DELETE /api/v1/me`): its owned events are deleted as their owner
    /// would, it leaves the others, the pending invitations to and from it are cancelled (each
    /// with its change), then its name, contacts, password and tokens go.
    ///
    /// # Errors
    /// [`EraseError::WrongProof`] for a wrong password or code.
    pub async fn erase(
        &self,
        user: &User,
        proof: ErasureProof,
        events: &EventService,
        invitations: &InvitationService,
    ) -> Result<(), EraseError> {
        let proven = match &proof {
            ErasureProof::Password(password) => {
                let stored = self.password_of(user).await?;
                self.hasher.verify(password, stored).await?
            }
            ErasureProof::Code(code) => self.proofs.codes.check_login_code(user, code).await?,
        };
        if !proven {
            return Err(EraseError::WrongProof);
        }
        // Its live invitations first, so that no seat freed below goes to its waitlisted ones.
        invitations.withdraw_all_of(user.id).await?;
        // Its events: deleted when it owns them, left otherwise. Each round removes it from every
        // event of the page, so that the next reads the rest.
        for _ in 0..10_000 {
            let page = events.list(user, page(None)).await?;
            if page.items.is_empty() {
                break;
            }
            for EventView { event, .. } in page.items {
                // Gone meanwhile is as good.
                if event.owner.id == user.id {
                    let _ = events.delete(user, event.id, None).await;
                } else {
                    let _ = events.remove_member(user, event.id, user.id).await;
                }
            }
        }
        // And whatever was sent from it meanwhile.
        invitations.withdraw_all_of(user.id).await?;
        self.users.erase(user.id, self.clock.now()).await?;
        Ok(())
    }

    /// The account's password hash, if it has one.
    async fn password_of(&self, user: &User) -> Result<Option<PasswordHash>, PortError> {
        let Some(login) = first_login(user) else {
            return Ok(None);
        };
        Ok(self
            .users
            .find_credentials(&login)
            .await?
            .into_iter()
            .find(|(found, _)| found.id == user.id)
            .and_then(|(_, hash)| hash))
    }
}

fn page(after: Option<uuid::Uuid>) -> crate::PageRequest {
    crate::PageRequest {
        limit: Limit::new(i64::from(PAGE)).unwrap_or_default(),
        after,
    }
}

fn login_contact(login: &Login) -> Contact {
    match login {
        Login::Email(email) => Contact::Email(email.clone()),
        Login::Mobile(mobile) => Contact::Mobile(mobile.clone()),
    }
}

/// A login that finds this account's password: its email, else its mobile.
fn first_login(user: &User) -> Option<Login> {
    user.email
        .clone()
        .map(Login::Email)
        .or_else(|| user.mobile.clone().map(Login::Mobile))
}
