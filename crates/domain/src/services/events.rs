//! Creating events, listing them and their members (docs/api.md, "Events").

use std::sync::Arc;

use crate::ports::{Clock, EventRepository, NewEvent, PortError};
use crate::{Event, EventDetails, EventId, Member, Page, PageRequest, User};

/// Why an event could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum GetEventError {
    /// No such event, or the caller is not a member (the two are not told apart).
    #[error("event not found")]
    NotFound,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Events and members.
#[derive(Clone)]
pub struct EventService {
    events: Arc<dyn EventRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EventService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventService").finish_non_exhaustive()
    }
}

impl EventService {
    /// Assembles the service from its ports.
    pub fn new(events: Arc<dyn EventRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { events, clock }
    }

    /// Creates an event owned by `owner`, who becomes its first member.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn create(&self, owner: &User, details: EventDetails) -> Result<Event, PortError> {
        self.events
            .create(NewEvent {
                id: EventId::generate(),
                details,
                owner: owner.summary(),
                created_at: self.clock.now(),
            })
            .await
    }

    /// The events `viewer` is a member of, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn list(&self, viewer: &User, page: PageRequest) -> Result<Page<Event>, PortError> {
        self.events.list_for_member(viewer.id, page).await
    }

    /// One event, for its members only.
    ///
    /// # Errors
    /// [`GetEventError::NotFound`] when it does not exist or `viewer` is not a member.
    pub async fn get(&self, viewer: &User, id: EventId) -> Result<Event, GetEventError> {
        self.events
            .find_for_member(id, viewer.id)
            .await?
            .ok_or(GetEventError::NotFound)
    }

    /// The members of an event, for its members only.
    ///
    /// # Errors
    /// [`GetEventError::NotFound`] when it does not exist or `viewer` is not a member.
    pub async fn members(
        &self,
        viewer: &User,
        id: EventId,
        page: PageRequest,
    ) -> Result<Page<Member>, GetEventError> {
        let event = self.get(viewer, id).await?;
        Ok(self.events.list_members(event.id, page).await?)
    }
}
