//! A person's secret calendar feed (docs/api.md, "Calendars").

use std::sync::Arc;

use super::ports::CalendarFeeds;
use super::{render, Attendee, Entry, Method};
use crate::accounts::User;
use crate::links::{LinkToken, PublicUrl};
use crate::ports::{Clock, PortError, SecretSource};

/// The most events a feed holds: the latest ones by start.
pub const FEED_MAX: u32 = 500;

/// Makes, ends and serves people's calendar feeds.
#[derive(Clone)]
pub struct CalendarService {
    feeds: Arc<dyn CalendarFeeds>,
    secrets: Arc<dyn SecretSource>,
    clock: Arc<dyn Clock>,
    public_url: PublicUrl,
}

impl std::fmt::Debug for CalendarService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalendarService")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl CalendarService {
    /// A service over these ports, with feed URLs under `public_url`.
    pub fn new(
        feeds: Arc<dyn CalendarFeeds>,
        secrets: Arc<dyn SecretSource>,
        clock: Arc<dyn Clock>,
        public_url: PublicUrl,
    ) -> Self {
        Self {
            feeds,
            secrets,
            clock,
            public_url,
        }
    }

    /// A new secret feed for `user`, `{PUBLIC_URL}/cal/{token}.ics`; any feed they had stops
    /// working.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn create_feed(&self, user: &User) -> Result<String, PortError> {
        let token = LinkToken::generate(self.secrets.as_ref());
        self.feeds
            .replace_feed(user.id, &token.hash(), self.clock.now())
            .await?;
        Ok(format!(
            "{}/cal/{}.ics",
            self.public_url.as_str(),
            token.expose()
        ))
    }

    /// Ends `user`'s feed; whether they had one.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn delete_feed(&self, user: &User) -> Result<bool, PortError> {
        self.feeds.delete_feed(user.id).await
    }

    /// The calendar file of the feed whose token was presented, or `None` for no such feed.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn feed(&self, presented: &str) -> Result<Option<String>, PortError> {
        let Some(hash) = LinkToken::digest_presented(presented) else {
            return Ok(None);
        };
        let Some(user) = self.feeds.feed_owner(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let events = self.feeds.feed_events(user, now, FEED_MAX).await?;
        let entries: Vec<Entry<'_>> = events
            .iter()
            .map(|feed| Entry {
                event: &feed.event,
                title: feed.title.as_str(),
                attendee: Some(Attendee {
                    address: Attendee::account(user),
                    name: String::new(),
                    partstat: feed.partstat,
                }),
                url: None,
            })
            .collect();
        Ok(Some(
            render(Method::Publish, &entries, now).unwrap_or_else(empty_calendar),
        ))
    }
}

/// A calendar with no event.
fn empty_calendar() -> String {
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Event Manager//Event Manager//EN\r\nCALSCALE:GREGORIAN\r\nEND:VCALENDAR\r\n".to_owned()
}
