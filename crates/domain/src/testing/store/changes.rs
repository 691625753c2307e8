//! The fake's change feed and stream tickets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;

#[async_trait]
impl ChangeFeed for Store {
    async fn list_for(
        &self,
        user: UserId,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<RecordedChange>, PortError> {
        let state = self.lock();
        let changes: Vec<RecordedChange> = state
            .changes
            .iter()
            .filter(|d| d.recorded.id > after && d.recipients.contains(&user))
            .take(limit.clamp(1, 1_000) as usize)
            .map(|d| d.recorded.clone())
            .collect();
        let read_up_to = changes.last().map_or(after, |c| c.id);
        Ok(FeedRead {
            changes,
            read_up_to,
        })
    }

    async fn addressed_after(
        &self,
        after: ChangeId,
        limit: u32,
    ) -> Result<FeedRead<AddressedChange>, PortError> {
        let state = self.lock();
        let changes: Vec<AddressedChange> = state
            .changes
            .iter()
            .filter(|d| d.recorded.id > after)
            .take(limit.clamp(1, 1_000) as usize)
            .cloned()
            .collect();
        let read_up_to = changes.last().map_or(after, |d| d.recorded.id);
        Ok(FeedRead {
            changes,
            read_up_to,
        })
    }

    async fn latest(&self) -> Result<ChangeId, PortError> {
        Ok(ChangeId(self.lock().last_change))
    }

    async fn purge_older_than(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let mut state = self.lock();
        let old = state
            .changes
            .iter()
            .take(batch as usize)
            .take_while(|d| d.recorded.change.occurred_at() < before)
            .count();
        state.changes.drain(..old);
        Ok(old as u64)
    }

    /// A watch that never wakes: the fake tells nobody, so holders rely on their polling.
    fn watch(&self) -> Box<dyn CommitWatch> {
        Box::new(NeverWakes)
    }
}

/// The fake's [`CommitWatch`]: it never wakes.
struct NeverWakes;

#[async_trait]
impl CommitWatch for NeverWakes {
    async fn changed(&mut self) {
        std::future::pending::<()>().await;
    }
}

#[async_trait]
impl TicketRepository for Store {
    async fn store_ticket(&self, ticket: NewTicket) -> Result<(), PortError> {
        let mut state = self.lock();
        if state.user(ticket.user_id).is_none() {
            return Err(refused("a ticket of an unknown user"));
        }
        state
            .tickets
            .insert(ticket.hash, (ticket.user_id, stored(ticket.expires_at)));
        Ok(())
    }

    async fn redeem_ticket(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, PortError> {
        let mut state = self.lock();
        let Some((user, expires_at)) = state.tickets.remove(hash) else {
            return Ok(None);
        };
        Ok((expires_at > now)
            .then(|| state.user(user).cloned())
            .flatten())
    }

    async fn purge_tickets(&self, now: DateTime<Utc>, _batch: u32) -> Result<u64, PortError> {
        let mut state = self.lock();
        let before = state.tickets.len();
        state.tickets.retain(|_, (_, expires_at)| *expires_at > now);
        Ok((before - state.tickets.len()) as u64)
    }
}
