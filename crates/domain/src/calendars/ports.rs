//! What calendars need from outside: events by id.

use async_trait::async_trait;

use crate::events::Event;
use crate::ports::PortError;
use crate::EventId;

/// Reads events as they stand, for the calendar files of messages and feeds.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CalendarEvents: Send + Sync {
    /// Those of `ids` that exist, in any order, in one round trip.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn events_by_id(&self, ids: &[EventId]) -> Result<Vec<Event>, PortError>;
}

/// One event of a person's feed, with their answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    /// The event, as it stands.
    pub event: Event,
    /// The title the person sees.
    pub title: crate::Text,
    /// Their answer: accepted (a member) or tentative ("maybe").
    pub partstat: super::PartStat,
}

/// The secret feeds of people's calendars (`/cal/{token}.ics`): at most one per person, stored
/// as the digest of its token.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CalendarFeeds: Send + Sync {
    /// Gives `user` the feed of this digest, in place of any they had.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn replace_feed(
        &self,
        user: crate::UserId,
        hash: &crate::accounts::ports::TokenHash,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), PortError>;

    /// Ends `user`'s feed; whether they had one.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn delete_feed(&self, user: crate::UserId) -> Result<bool, PortError>;

    /// Whose feed has this digest.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn feed_owner(
        &self,
        hash: &crate::accounts::ports::TokenHash,
    ) -> Result<Option<crate::UserId>, PortError>;

    /// The events `user` is a member of, and those whose invitation they answered "maybe" (not
    /// expired at `now`): at most `limit`, latest start first; events without a start are left
    /// out.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn feed_events(
        &self,
        user: crate::UserId,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, PortError>;
}
