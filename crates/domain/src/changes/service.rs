//! The change feed and stream tickets (docs/api.md, "Change feed and live stream").

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;

use crate::accounts::ports::TokenIssuer;
use crate::accounts::User;
use crate::changes::ports::{ChangeFeed, NewTicket, TicketRepository};
use crate::changes::{ChangeId, RecordedChange};
use crate::ports::{Clock, PortError};
use crate::Limit;

/// One page of a user's feed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangePage {
    /// The changes, oldest first.
    pub changes: Vec<RecordedChange>,
    /// Where the next page starts: the last change read (past any that could not be read), or the
    /// `after` asked for when there was none, so that a client polls with it.
    pub next_after: ChangeId,
}

/// A ticket for the live stream, shown to its user once.
#[derive(Clone, Debug)]
pub struct StreamTicket {
    /// The secret, for `?ticket=`.
    pub secret: SecretString,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Reads users' feeds; issues and redeems stream tickets.
#[derive(Clone)]
pub struct ChangeService {
    feed: Arc<dyn ChangeFeed>,
    tickets: Arc<dyn TicketRepository>,
    issuer: Arc<dyn TokenIssuer>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ChangeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeService").finish_non_exhaustive()
    }
}

impl ChangeService {
    /// How long a stream ticket works.
    pub const TICKET_TTL: Duration = Duration::seconds(60);

    /// A service over these ports.
    pub fn new(
        feed: Arc<dyn ChangeFeed>,
        tickets: Arc<dyn TicketRepository>,
        issuer: Arc<dyn TokenIssuer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            feed,
            tickets,
            issuer,
            clock,
        }
    }

    /// The feed itself, for the live stream's fan-out.
    pub fn port(&self) -> Arc<dyn ChangeFeed> {
        self.feed.clone()
    }

    /// The changes `user` receives (R12) after `after`, oldest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn list(
        &self,
        user: &User,
        after: ChangeId,
        limit: Limit,
    ) -> Result<ChangePage, PortError> {
        let read = self.feed.list_for(user.id, after, limit.get()).await?;
        Ok(ChangePage {
            changes: read.changes,
            next_after: read.read_up_to.max(after),
        })
    }

    /// A new single-use ticket for `user`'s stream, valid [`Self::TICKET_TTL`].
    ///
    /// # Errors
    /// [`PortError`] when it cannot be stored.
    pub async fn issue_ticket(&self, user: &User) -> Result<StreamTicket, PortError> {
        let issued = self.issuer.issue();
        let expires_at = self.clock.now() + Self::TICKET_TTL;
        self.tickets
            .store_ticket(NewTicket {
                hash: issued.hash,
                user_id: user.id,
                expires_at,
            })
            .await?;
        Ok(StreamTicket {
            secret: issued.secret,
            expires_at,
        })
    }

    /// The user of a ticket that has neither expired nor been used; the ticket is used up.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn redeem_ticket(&self, secret: &str) -> Result<Option<User>, PortError> {
        let hash = self.issuer.digest(secret);
        self.tickets.redeem_ticket(&hash, self.clock.now()).await
    }
}
