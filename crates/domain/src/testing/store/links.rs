//! [`InvitationLinks`] over the in-memory state: links are stored by the delivery queue's
//! `enqueue`, with the messages that carry them.

use async_trait::async_trait;

use super::Store;
use crate::accounts::ports::TokenHash;
use crate::links::ports::InvitationLinks;
use crate::links::LinkedInvitation;
use crate::ports::PortError;

#[async_trait]
impl InvitationLinks for Store {
    async fn find_link(&self, hash: &TokenHash) -> Result<Option<LinkedInvitation>, PortError> {
        let state = self.lock();
        let Some(id) = state.links.get(hash) else {
            return Ok(None);
        };
        Ok(state
            .invitations
            .iter()
            .find(|i| i.id() == *id)
            .and_then(|invitation| {
                let event = state.event(invitation.event_id())?.clone();
                let reader = if invitation.held_contact().is_some() {
                    invitation.sender_id()
                } else {
                    invitation.invitee_id()
                };
                Some(LinkedInvitation {
                    details: state.details(invitation),
                    event,
                    locale: state.user(reader).map(|u| u.locale).unwrap_or_default(),
                })
            }))
    }

    async fn purge_links(
        &self,
        _before: chrono::DateTime<chrono::Utc>,
        batch: u32,
    ) -> Result<u64, PortError> {
        // The fake keeps no time per link: every link of a closed invitation is old enough.
        let mut state = self.lock();
        let closed: Vec<TokenHash> = state
            .links
            .iter()
            .filter(|(_, id)| {
                state
                    .invitations
                    .iter()
                    .find(|i| i.id() == **id)
                    .is_none_or(|i| {
                        !matches!(
                            i.status(),
                            crate::InvitationStatus::Pending | crate::InvitationStatus::Tentative
                        )
                    })
            })
            .map(|(hash, _)| hash.clone())
            .take(batch as usize)
            .collect();
        for hash in &closed {
            state.links.remove(hash);
        }
        Ok(closed.len() as u64)
    }
}

#[async_trait]
impl crate::calendars::ports::CalendarEvents for Store {
    async fn events_by_id(
        &self,
        ids: &[crate::EventId],
    ) -> Result<Vec<crate::events::Event>, PortError> {
        let state = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| state.event(*id).cloned())
            .collect())
    }
}

#[async_trait]
impl crate::calendars::ports::CalendarFeeds for Store {
    async fn replace_feed(
        &self,
        user: crate::UserId,
        hash: &TokenHash,
        _at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        if state.user(user).is_none() {
            return Err(PortError::unexpected("a feed of an unknown user"));
        }
        state.feeds.insert(user, hash.clone());
        Ok(())
    }

    async fn delete_feed(&self, user: crate::UserId) -> Result<bool, PortError> {
        Ok(self.lock().feeds.remove(&user).is_some())
    }

    async fn feed_owner(&self, hash: &TokenHash) -> Result<Option<crate::UserId>, PortError> {
        Ok(self
            .lock()
            .feeds
            .iter()
            .find(|(_, h)| *h == hash)
            .map(|(user, _)| *user))
    }

    async fn feed_events(
        &self,
        user: crate::UserId,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<crate::calendars::ports::FeedEvent>, PortError> {
        use crate::calendars::ports::FeedEvent;
        use crate::calendars::PartStat;
        let state = self.lock();
        let member = state
            .members
            .iter()
            .filter(|(_, m)| m.user.id == user)
            .filter_map(|(event, _)| state.event(*event))
            .map(|event| (event, PartStat::Accepted));
        let maybe = state
            .invitations
            .iter()
            .filter(|i| {
                i.invitee_id() == user
                    && i.held_contact().is_none()
                    && i.status_at(now) == crate::InvitationStatus::Tentative
            })
            .filter_map(|i| state.event(i.event_id()))
            .map(|event| (event, PartStat::Tentative));
        let mut events: Vec<FeedEvent> = member
            .chain(maybe)
            .filter(|(event, _)| event.details.starts_at().is_some())
            .map(|(event, partstat)| FeedEvent {
                event: event.clone(),
                title: event.details.title().clone(),
                partstat,
            })
            .collect();
        events.sort_by(|a, b| {
            b.event
                .details
                .starts_at()
                .cmp(&a.event.details.starts_at())
        });
        events.truncate(limit as usize);
        Ok(events)
    }
}

#[async_trait]
impl crate::messages::ports::Contacts for Store {
    async fn reachable(
        &self,
        users: &[crate::UserId],
    ) -> Result<Vec<crate::messages::ports::Reachable>, PortError> {
        let state = self.lock();
        Ok(users
            .iter()
            .filter_map(|id| state.user(*id))
            .map(|user| crate::messages::ports::Reachable {
                id: user.id,
                name: user.name.clone(),
                email: user
                    .email
                    .clone()
                    .filter(|_| user.email_verified_at.is_some()),
                mobile: user
                    .mobile
                    .clone()
                    .filter(|_| user.mobile_verified_at.is_some()),
                locale: user.locale,
            })
            .collect())
    }
}
