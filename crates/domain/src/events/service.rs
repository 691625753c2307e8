//! Creating, editing and listing events, and managing their members (docs/api.md, "Events").
//!
//! Every change is decided here, on the roles as read, and stored by one port method that applies
//! it only while those roles still hold ([`Actor`]); when they changed meanwhile, the service reads
//! again and decides again, so that the answer always matches what was stored.

use std::sync::Arc;

use crate::accounts::User;
use crate::events::ports::{EventRepository, EventWriteError, NewEvent, PartyError};
use crate::events::{
    Event, EventDetails, EventDetailsError, EventPatch, Member, Membership, RemovalRefused, Role,
    RoleChangeRefused,
};
use crate::ports::{Clock, PortError};
use crate::rsvp::{RsvpRefused, Tally};
use crate::{EventId, Page, PageRequest, UserId, Version};

/// An event as one member sees it: with their role and, for its hosts only (R12), its tally of
/// answers and seats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventView {
    /// The event.
    pub event: Event,
    /// The viewer's role in it.
    pub role: Role,
    /// Seats and invitations by status, for the owner and co-hosts.
    pub tally: Option<Tally>,
}

/// How many times a change whose premises changed before it was stored is decided again before
/// the service gives up (503): each retry means another request changed the same event meanwhile.
const ATTEMPTS: usize = 5;

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

/// Why an event could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum UpdateEventError {
    /// No such event, or the caller is not a member.
    #[error("event not found")]
    NotFound,
    /// The caller is a member but neither the owner nor a co-host.
    #[error("only the event's owner and co-hosts edit it")]
    Forbidden,
    /// The edited event would end before it starts.
    #[error("the event would end before it starts")]
    EndsBeforeStart,
    /// The edited event's RSVP settings are refused: a deadline after the start, or a capacity
    /// below the seats taken.
    #[error(transparent)]
    Rsvp(EventDetailsError),
    /// The edit was conditional on a version of the event that is no longer the stored one.
    #[error("the event was edited since the expected version")]
    Stale,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why an event could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteEventError {
    /// No such event, or the caller is not a member.
    #[error("event not found")]
    NotFound,
    /// The caller is a member but not the owner.
    #[error("only the event's owner deletes it")]
    NotOwner,
    /// The delete was conditional on a version of the event that is no longer the stored one.
    #[error("the event was edited since the expected version")]
    Stale,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a member's role could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeRoleError {
    /// No such event, or the caller is not a member.
    #[error("event not found")]
    EventNotFound,
    /// The caller is a member but not the owner.
    #[error("only the event's owner changes roles")]
    NotOwner,
    /// The user is not a member of the event.
    #[error("member not found")]
    MemberNotFound,
    /// The owner's role cannot change, and nobody is made owner.
    #[error("the owner's role cannot change")]
    OwnerRoleIsFixed,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a member's party could not change (docs/api.md, "Capacity and the waitlist").
#[derive(Debug, thiserror::Error)]
pub enum ChangePartyError {
    /// No such event, or the caller is not a member.
    #[error("event not found")]
    EventNotFound,
    /// The owner takes no seat.
    #[error("the owner takes no seat")]
    Owner,
    /// The event's rules refuse it.
    #[error(transparent)]
    Rsvp(RsvpRefused),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a member could not be removed (or leave).
#[derive(Debug, thiserror::Error)]
pub enum RemoveMemberError {
    /// No such event, or the caller is not a member.
    #[error("event not found")]
    EventNotFound,
    /// The caller may not remove that member: a co-host removes members only, a member only
    /// themself.
    #[error("the caller may not remove this member")]
    Forbidden,
    /// The user is not a member of the event.
    #[error("member not found")]
    MemberNotFound,
    /// The owner cannot leave their own event.
    #[error("the owner cannot leave the event")]
    OwnerCannotLeave,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// The error of a change whose premises kept changing for [`ATTEMPTS`] decisions in a row.
#[derive(Debug, thiserror::Error)]
#[error("the event changed under {ATTEMPTS} decisions in a row")]
struct Contended;

fn contended() -> PortError {
    PortError::Unavailable(Box::new(Contended))
}

/// The refusal of an edit whose merged details break a rule.
fn refused_edit(refused: EventDetailsError) -> UpdateEventError {
    match refused {
        EventDetailsError::EndsBeforeStart => UpdateEventError::EndsBeforeStart,
        other => UpdateEventError::Rsvp(other),
    }
}

/// A write without a version condition that reported a version mismatch: an adapter bug.
fn unconditional() -> PortError {
    PortError::unexpected("an unconditional write reported a version mismatch")
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
    pub async fn create(
        &self,
        owner: &User,
        details: EventDetails,
    ) -> Result<EventView, PortError> {
        let event = self
            .events
            .create(NewEvent {
                id: EventId::generate(),
                details,
                owner: owner.summary(),
                created_at: self.clock.now(),
            })
            .await?;
        Ok(EventView {
            event,
            role: Role::Owner,
            tally: Some(Tally::default()),
        })
    }

    /// The events `viewer` is a member of, newest first: each with the viewer's role and, where
    /// they are a host, its tally (one round trip for the page's).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn list(
        &self,
        viewer: &User,
        page: PageRequest,
    ) -> Result<Page<EventView>, PortError> {
        let page = self.events.list_for_member(viewer.id, page).await?;
        let hosted: Vec<EventId> = page
            .items
            .iter()
            .filter(|m| m.role.manages_invitations())
            .map(|m| m.event.id)
            .collect();
        let mut tallies = if hosted.is_empty() {
            std::collections::HashMap::new()
        } else {
            self.events.tally(&hosted, self.clock.now()).await?
        };
        Ok(page.map(|membership| {
            let tally = tallies.remove(&membership.event.id);
            EventView {
                event: membership.event,
                role: membership.role,
                tally,
            }
        }))
    }

    /// One event, for its members only; with its tally for its hosts.
    ///
    /// # Errors
    /// [`GetEventError::NotFound`] when it does not exist or `viewer` is not a member.
    pub async fn get(&self, viewer: &User, id: EventId) -> Result<EventView, GetEventError> {
        let membership = self
            .events
            .find_membership(id, viewer.id)
            .await?
            .ok_or(GetEventError::NotFound)?;
        Ok(self.view(membership).await?)
    }

    /// What `membership`'s member sees of its event.
    async fn view(&self, membership: Membership) -> Result<EventView, PortError> {
        let tally = if membership.role.manages_invitations() {
            let id = membership.event.id;
            let mut tallies = self.events.tally(&[id], self.clock.now()).await?;
            Some(tallies.remove(&id).unwrap_or_default())
        } else {
            None
        };
        Ok(EventView {
            event: membership.event,
            role: membership.role,
            tally,
        })
    }

    /// `by` changes the guests they bring (docs/api.md, "`PATCH
    /// /api/v1/events/{event_id}/members/me`"): within the event's `max_guests` and the seats
    /// left; fewer guests free seats for the waitlist.
    ///
    /// # Errors
    /// [`ChangePartyError::EventNotFound`] for strangers and unknown events,
    /// [`ChangePartyError::Owner`] for the owner, [`ChangePartyError::Rsvp`] when the event's
    /// rules refuse it.
    pub async fn change_party(
        &self,
        by: &User,
        id: EventId,
        guests: u8,
    ) -> Result<Member, ChangePartyError> {
        self.events
            .set_guests(id, by.id, guests, self.clock.now())
            .await
            .map_err(|error| match error {
                PartyError::NotMember => ChangePartyError::EventNotFound,
                PartyError::Owner => ChangePartyError::Owner,
                PartyError::Refused(refused) => ChangePartyError::Rsvp(refused),
                PartyError::Port(error) => ChangePartyError::Port(error),
            })
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
        let event = self
            .events
            .find_for_member(id, viewer.id)
            .await?
            .ok_or(GetEventError::NotFound)?;
        Ok(self.events.list_members(event.id, page).await?)
    }

    /// Edits an event's details, by its owner or a co-host. Fields the patch leaves out keep their
    /// stored value; the result must not end before it starts.
    ///
    /// # Errors
    /// [`UpdateEventError::NotFound`] for strangers and unknown events,
    /// [`UpdateEventError::Forbidden`] for members who are neither owner nor co-host,
    /// [`UpdateEventError::EndsBeforeStart`] when the merged details would end before they start,
    /// [`UpdateEventError::Stale`] when `expected` is given and the event is no longer at that
    /// version, whether when read or when stored.
    pub async fn update(
        &self,
        by: &User,
        id: EventId,
        patch: EventPatch,
        expected: Option<Version>,
    ) -> Result<EventView, UpdateEventError> {
        for _ in 0..ATTEMPTS {
            let membership = self
                .events
                .find_membership(id, by.id)
                .await?
                .ok_or(UpdateEventError::NotFound)?;
            if !membership.may_edit() {
                return Err(UpdateEventError::Forbidden);
            }
            if !membership.event.version.satisfies(expected) {
                return Err(UpdateEventError::Stale);
            }
            patch
                .apply(&membership.event.details)
                .and_then(|details| details.check_seats(membership.event.seats_taken))
                .map_err(refused_edit)?;
            if patch.is_empty() {
                return Ok(self.view(membership).await?);
            }
            let stored = self
                .events
                .update(id, membership.actor(), &patch, expected)
                .await;
            match stored {
                Ok(Ok(event)) => {
                    return Ok(self
                        .view(Membership {
                            event,
                            ..membership
                        })
                        .await?)
                }
                Ok(Err(refused)) => return Err(refused_edit(refused)),
                Err(EventWriteError::Stale) => continue,
                Err(EventWriteError::Modified) => return Err(UpdateEventError::Stale),
                Err(EventWriteError::Port(error)) => return Err(error.into()),
            }
        }
        Err(contended().into())
    }

    /// Deletes an event, by its owner only. Its pending invitations end as cancelled first, then
    /// go with the event (docs/api.md, "`DELETE /api/v1/events/{event_id}`"). Returns how many
    /// invitations were cancelled.
    ///
    /// # Errors
    /// [`DeleteEventError::NotFound`] for strangers and unknown events (also when a concurrent
    /// request deleted it first), [`DeleteEventError::NotOwner`] for co-hosts and members,
    /// [`DeleteEventError::Stale`] when `expected` is given and the event is no longer at that
    /// version.
    pub async fn delete(
        &self,
        by: &User,
        id: EventId,
        expected: Option<Version>,
    ) -> Result<u64, DeleteEventError> {
        for _ in 0..ATTEMPTS {
            let membership = self
                .events
                .find_membership(id, by.id)
                .await?
                .ok_or(DeleteEventError::NotFound)?;
            if !membership.may_delete() {
                return Err(DeleteEventError::NotOwner);
            }
            if !membership.event.version.satisfies(expected) {
                return Err(DeleteEventError::Stale);
            }
            match self
                .events
                .delete(id, membership.actor(), self.clock.now(), expected)
                .await
            {
                Ok(cancelled) => return Ok(cancelled),
                Err(EventWriteError::Stale) => continue,
                Err(EventWriteError::Modified) => return Err(DeleteEventError::Stale),
                Err(EventWriteError::Port(error)) => return Err(error.into()),
            }
        }
        Err(contended().into())
    }

    /// Gives a member the role `to` ([`Role::Cohost`] or [`Role::Member`]), by the owner only.
    ///
    /// # Errors
    /// [`ChangeRoleError::EventNotFound`] for strangers and unknown events,
    /// [`ChangeRoleError::NotOwner`] for co-hosts and members, [`ChangeRoleError::MemberNotFound`]
    /// when `target` is not a member, [`ChangeRoleError::OwnerRoleIsFixed`] for the owner's own
    /// role or `to` = [`Role::Owner`].
    pub async fn change_role(
        &self,
        by: &User,
        id: EventId,
        target: UserId,
        to: Role,
    ) -> Result<Member, ChangeRoleError> {
        for _ in 0..ATTEMPTS {
            let membership = self
                .events
                .find_membership(id, by.id)
                .await?
                .ok_or(ChangeRoleError::EventNotFound)?;
            if !membership.role.changes_roles() {
                return Err(ChangeRoleError::NotOwner);
            }
            let member = self.events.find_member(id, target).await?;
            let member = member.ok_or(ChangeRoleError::MemberNotFound)?;
            membership
                .may_change_role(&member, to)
                .map_err(|refused| match refused {
                    RoleChangeRefused::NotOwner => ChangeRoleError::NotOwner,
                    RoleChangeRefused::OwnerRoleIsFixed => ChangeRoleError::OwnerRoleIsFixed,
                })?;
            if member.role == to {
                return Ok(member);
            }
            let changed = self
                .events
                .change_role(id, membership.actor(), target, member.role, to)
                .await;
            match changed {
                Ok(member) => return Ok(member),
                Err(EventWriteError::Stale) => continue,
                Err(EventWriteError::Modified) => return Err(unconditional().into()),
                Err(EventWriteError::Port(error)) => return Err(error.into()),
            }
        }
        Err(contended().into())
    }

    /// Removes `target` from the event, or lets a member leave (`target` = `by`).
    ///
    /// # Errors
    /// [`RemoveMemberError::EventNotFound`] for strangers and unknown events,
    /// [`RemoveMemberError::Forbidden`] when `by` may not remove `target` (a member removing
    /// someone else, a co-host removing a co-host or the owner),
    /// [`RemoveMemberError::MemberNotFound`] when `target` is not a member (also when a concurrent
    /// request removed them first), [`RemoveMemberError::OwnerCannotLeave`] for the owner leaving.
    pub async fn remove_member(
        &self,
        by: &User,
        id: EventId,
        target: UserId,
    ) -> Result<(), RemoveMemberError> {
        for _ in 0..ATTEMPTS {
            let membership = self
                .events
                .find_membership(id, by.id)
                .await?
                .ok_or(RemoveMemberError::EventNotFound)?;
            // A member may remove nobody but themself: refused before the target is looked up.
            if target != by.id && !membership.role.removes_members() {
                return Err(RemoveMemberError::Forbidden);
            }
            let member = self.events.find_member(id, target).await?;
            let member = member.ok_or(RemoveMemberError::MemberNotFound)?;
            membership
                .may_remove(&member)
                .map_err(|refused| match refused {
                    RemovalRefused::NotAllowed => RemoveMemberError::Forbidden,
                    RemovalRefused::OwnerCannotLeave => RemoveMemberError::OwnerCannotLeave,
                })?;
            let removed = self
                .events
                .remove_member(id, membership.actor(), target, member.role)
                .await;
            match removed {
                Ok(()) => return Ok(()),
                Err(EventWriteError::Stale) => continue,
                Err(EventWriteError::Modified) => return Err(unconditional().into()),
                Err(EventWriteError::Port(error)) => return Err(error.into()),
            }
        }
        Err(contended().into())
    }
}

#[cfg(test)]
mod tests;
