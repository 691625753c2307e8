//! The opt-outs' use cases: reading an unsubscribe link, stopping by link, stopping by text.

use std::sync::Arc;

use super::ports::OptOutRepository;
use super::{OptOutScope, OptOuts, UnsubscribeKey, UnsubscribeLink};
use crate::accounts::ports::UserRepository;
use crate::accounts::UserSummary;
use crate::ports::{Clock, PortError};
use crate::Mobile;

/// Why an unsubscribe link does nothing.
#[derive(Debug, thiserror::Error)]
pub enum UnsubscribeError {
    /// Not a link this service made.
    #[error("not an unsubscribe link")]
    InvalidLink,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// What an unsubscribe link's page shows: the contact, who sent the message, and what it has
/// stopped so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The contact, normalized.
    pub contact: String,
    /// The sender (an erased account shows as such).
    pub sender: Option<UserSummary>,
    /// Whether the sender's messages are stopped.
    pub sender_stopped: bool,
    /// Whether everyone's are.
    pub everyone_stopped: bool,
}

/// Opting out of invitation messages.
#[derive(Clone)]
pub struct OptOutService {
    opt_outs: Arc<dyn OptOutRepository>,
    users: Arc<dyn UserRepository>,
    key: UnsubscribeKey,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OptOutService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OptOutService").finish_non_exhaustive()
    }
}

impl OptOutService {
    /// Assembles the service.
    pub fn new(
        opt_outs: Arc<dyn OptOutRepository>,
        users: Arc<dyn UserRepository>,
        key: UnsubscribeKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            opt_outs,
            users,
            key,
            clock,
        }
    }

    /// What the link `token` names and has stopped.
    ///
    /// # Errors
    /// [`UnsubscribeError::InvalidLink`] for a token this service did not make.
    pub async fn describe(&self, token: &str) -> Result<Unsubscribe, UnsubscribeError> {
        let link = self.key.read(token).ok_or(UnsubscribeError::InvalidLink)?;
        self.state(link).await
    }

    /// Stops the invitation messages to the link's contact: from its sender, or from everyone.
    /// Doing it again changes nothing.
    ///
    /// # Errors
    /// [`UnsubscribeError::InvalidLink`] for a token this service did not make.
    pub async fn unsubscribe(
        &self,
        token: &str,
        everyone: bool,
    ) -> Result<Unsubscribe, UnsubscribeError> {
        let link = self.key.read(token).ok_or(UnsubscribeError::InvalidLink)?;
        let scope = if everyone {
            OptOutScope::Everyone
        } else {
            OptOutScope::Sender(link.sender)
        };
        self.opt_outs
            .opt_out(&link.contact, scope, self.clock.now())
            .await?;
        self.state(link).await
    }

    /// A text from `from` asking to stop: stops every sender's invitation messages to that
    /// number. Returns whether `text` asked (else nothing is done).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn text_received(&self, from: &Mobile, text: &str) -> Result<bool, PortError> {
        if !super::asks_to_stop(text) {
            return Ok(false);
        }
        self.opt_outs
            .opt_out(from.as_str(), OptOutScope::Everyone, self.clock.now())
            .await?;
        Ok(true)
    }

    async fn state(&self, link: UnsubscribeLink) -> Result<Unsubscribe, UnsubscribeError> {
        let found = OptOuts::new(
            self.opt_outs
                .opt_outs_of(std::slice::from_ref(&link.contact))
                .await?,
        );
        let everyone_stopped = found.stops_everyone(&link.contact);
        let sender = self
            .users
            .find_by_id(link.sender)
            .await?
            .map(|user| user.summary());
        Ok(Unsubscribe {
            sender_stopped: found.stops(&link.contact, link.sender),
            everyone_stopped,
            contact: link.contact,
            sender,
        })
    }
}
