//! What the change feed needs from outside: the feed of recorded changes, its commit watch and
//! the stream tickets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::ports::TokenHash;
use crate::accounts::User;
use crate::changes::{AddressedChange, ChangeId, FeedRead, RecordedChange};
use crate::ports::PortError;
use crate::UserId;

/// The change feed's read side (docs/api.md, "Change feed and live stream"): the domain events
/// that the repositories' changing methods record in their own transactions, numbered in the
/// order readers can see them, with the users each one goes to (R12, resolved at write time).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Up to `limit` (at most 1,000) changes that go to `user`, after `after`, oldest first, and
    /// how far the read went ([`FeedRead::read_up_to`]: past stored changes that could not be read).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_for(
        &self,
        user: UserId,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<RecordedChange>, PortError>;

    /// Up to `limit` (at most 1,000) changes after `after`, oldest first, each with its
    /// recipients: what a process fans out to its live streams. A reader that has seen a change
    /// never later finds a new one numbered below it. Reports how far it read, as
    /// [`ChangeFeed::list_for`] does.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn addressed_after(
        &self,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<AddressedChange>, PortError>;

    /// The number of the last change recorded (`ChangeId(0)` before the first), every change
    /// committed before the call included (an adapter that numbers after the commit numbers what
    /// is waiting first, as the reads do).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn latest(&self) -> Result<ChangeId, PortError>;

    /// Deletes up to `batch` changes that happened before `before`, oldest first; returns how
    /// many. Call again while that is `batch`. Safe from several processes at once.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; earlier batches stay deleted.
    async fn purge_older_than(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;

    /// A watch that wakes its holder when changes may have been committed: by this process, or
    /// (where the store can tell) by another process on the same store. Each holder (the live
    /// streams' fan-out, the delivery worker) has its own, so none takes another's wake.
    fn watch(&self) -> Box<dyn CommitWatch>;
}

/// Wakes its holder when changes may have been committed ([`ChangeFeed::watch`]).
#[async_trait]
pub trait CommitWatch: Send {
    /// Resolves when changes may have been committed since it last resolved, or since the watch
    /// was made. A hint: it may resolve with nothing new, and a holder that must not miss a change
    /// also polls.
    async fn changed(&mut self);
}

/// A stream ticket to store: its digest, whose it is, and until when it works.
#[derive(Clone, Debug)]
pub struct NewTicket {
    /// The ticket's digest ([`TokenIssuer::digest`]).
    pub hash: TokenHash,
    /// Its user.
    pub user_id: UserId,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Single-use tickets that open a live stream (docs/api.md, "Live stream"), so that a browser's
/// `EventSource` never carries a long-lived token in a URL.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TicketRepository: Send + Sync {
    /// Stores a new ticket.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn store_ticket(&self, ticket: NewTicket) -> Result<(), PortError>;

    /// In one atomic step: the user of a ticket that has not expired at `now`, and the ticket is
    /// gone, so that of two requests with one ticket, in any number of processes, one gets the
    /// user.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn redeem_ticket(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError>;

    /// Deletes up to `batch` tickets expired at `now`; returns how many.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn purge_tickets(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;
}
