//! Users as the domain sees them: their contacts and whether each is proven (docs/api.md,
//! "Proving contacts").

use chrono::{DateTime, Utc};

use crate::{Contact, Email, Mobile, Text, UserId};

mod care;
pub mod codes;
pub mod ports;
mod service;
mod verification;

pub use care::*;
pub use service::*;
pub use verification::*;

/// A kind of contact: where a code can be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The account's email.
    Email,
    /// The account's mobile.
    Mobile,
}

impl Channel {
    /// The wire name: `email` or `mobile`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Mobile => "mobile",
        }
    }

    /// Reads a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "email" => Some(Self::Email),
            "mobile" => Some(Self::Mobile),
            _ => None,
        }
    }

    /// The channel of a contact.
    pub const fn of(contact: &Contact) -> Self {
        match contact {
            Contact::Email(_) => Self::Email,
            Contact::Mobile(_) => Self::Mobile,
        }
    }
}

/// The language an account reads: messages and pages are written in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    /// English.
    #[default]
    En,
    /// Persian.
    Fa,
}

impl Locale {
    /// The tag: `en` or `fa`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fa => "fa",
        }
    }

    /// Reads a tag (`fa`, `fa-IR`, `EN`...): its primary language, when it is one of ours.
    pub fn parse(raw: &str) -> Option<Self> {
        let primary = raw.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            "fa" => Some(Self::Fa),
            _ => None,
        }
    }
}

/// A user account: what its owner sees of it (docs/api.md, "Objects").
///
/// Each contact is either proven (its `*_verified_at` is set: only this account has it) or a
/// claim that other accounts may share until one of them proves it. A `pending_*` contact is a
/// replacement asked for and not yet proven: the current one serves until then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The account's id.
    pub id: UserId,
    /// Display name.
    pub name: Text,
    /// Email, if the account has one.
    pub email: Option<Email>,
    /// When the email was proven.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// An email asked for in place of the current one, not yet proven.
    pub pending_email: Option<Email>,
    /// Mobile in E.164, if the account has one.
    pub mobile: Option<Mobile>,
    /// When the mobile was proven.
    pub mobile_verified_at: Option<DateTime<Utc>>,
    /// A mobile asked for in place of the current one, not yet proven.
    pub pending_mobile: Option<Mobile>,
    /// The language the account reads.
    pub locale: Locale,
    /// Whether the account can log in with a password (else by code only).
    pub has_password: bool,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// The most characters of a name.
    pub const NAME_MAX: usize = 100;

    /// What an erased account is called (docs/api.md, "Your account").
    pub const ERASED_NAME: &'static str = "Deleted user";

    /// A new account whose contacts are proven as of its creation (as they are with
    /// `CONTACT_VERIFICATION=off`), with a password and the default locale.
    pub fn proven(
        id: UserId,
        name: Text,
        email: Option<Email>,
        mobile: Option<Mobile>,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            name,
            email_verified_at: email.as_ref().map(|_| created_at),
            email,
            pending_email: None,
            mobile_verified_at: mobile.as_ref().map(|_| created_at),
            mobile,
            pending_mobile: None,
            locale: Locale::default(),
            has_password: true,
            created_at,
        }
    }

    /// What anyone else may see of this user.
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            name: self.name.clone(),
        }
    }

    /// Whether this account has proven `contact`: then it alone has it.
    pub fn owns(&self, contact: &Contact) -> bool {
        match contact {
            Contact::Email(email) => {
                self.email.as_ref() == Some(email) && self.email_verified_at.is_some()
            }
            Contact::Mobile(mobile) => {
                self.mobile.as_ref() == Some(mobile) && self.mobile_verified_at.is_some()
            }
        }
    }

    /// Whether this account claims `contact` without having proven it: as its contact, or as the
    /// replacement it asked for.
    pub fn claims(&self, contact: &Contact) -> bool {
        match contact {
            Contact::Email(email) => {
                (self.email.as_ref() == Some(email) && self.email_verified_at.is_none())
                    || self.pending_email.as_ref() == Some(email)
            }
            Contact::Mobile(mobile) => {
                (self.mobile.as_ref() == Some(mobile) && self.mobile_verified_at.is_none())
                    || self.pending_mobile.as_ref() == Some(mobile)
            }
        }
    }

    /// The contact of `channel` still to be proven: the pending replacement, else the current one
    /// while unproven. `None` when there is nothing to prove.
    pub fn unproven(&self, channel: Channel) -> Option<Contact> {
        match channel {
            Channel::Email => self
                .pending_email
                .clone()
                .or_else(|| {
                    self.email
                        .clone()
                        .filter(|_| self.email_verified_at.is_none())
                })
                .map(Contact::Email),
            Channel::Mobile => self
                .pending_mobile
                .clone()
                .or_else(|| {
                    self.mobile
                        .clone()
                        .filter(|_| self.mobile_verified_at.is_none())
                })
                .map(Contact::Mobile),
        }
    }

    /// The proven contact of `channel`, if any.
    pub fn proven_contact(&self, channel: Channel) -> Option<Contact> {
        match channel {
            Channel::Email => self
                .email
                .clone()
                .filter(|_| self.email_verified_at.is_some())
                .map(Contact::Email),
            Channel::Mobile => self
                .mobile
                .clone()
                .filter(|_| self.mobile_verified_at.is_some())
                .map(Contact::Mobile),
        }
    }
}

/// Who an invitation to a contact reaches: its proven owner, or else the first account that
/// claims it, for whom the invitation is held until the contact is proven (docs/api.md, "Proving
/// contacts").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reached {
    /// The invitee.
    pub user: UserSummary,
    /// Whether the invitation waits for the contact's proof.
    pub held: bool,
}

impl Reached {
    /// Whom `contact` reaches among `users` (every account that owns or claims it): the owner, or
    /// the oldest claimant, held. `None` when nobody has it.
    pub fn among<'u>(users: impl IntoIterator<Item = &'u User>, contact: &Contact) -> Option<Self> {
        let mut claimant: Option<&User> = None;
        for user in users {
            if user.owns(contact) {
                return Some(Self {
                    user: user.summary(),
                    held: false,
                });
            }
            if user.claims(contact)
                && claimant.is_none_or(|c| (user.created_at, user.id) < (c.created_at, c.id))
            {
                claimant = Some(user);
            }
        }
        claimant.map(|user| Self {
            user: user.summary(),
            held: true,
        })
    }
}

/// What anyone may see of a user: the id and the name (docs/api.md, "Objects").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    /// The user's id.
    pub id: UserId,
    /// Display name.
    pub name: Text,
}

#[cfg(test)]
mod tests;
