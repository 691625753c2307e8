//! Users as the domain sees them.

use chrono::{DateTime, Utc};

use crate::{Email, Mobile, Text, UserId};

pub mod ports;
mod service;

pub use service::*;

/// A user account: what its owner sees of it (docs/api.md, "Objects").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The account's id.
    pub id: UserId,
    /// Display name.
    pub name: Text,
    /// Email, if the account has one.
    pub email: Option<Email>,
    /// Mobile in E.164, if the account has one.
    pub mobile: Option<Mobile>,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// The most characters of a name.
    pub const NAME_MAX: usize = 100;

    /// What anyone else may see of this user.
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            name: self.name.clone(),
        }
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
