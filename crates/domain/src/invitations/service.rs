//! Sending, listing, answering, cancelling and resending invitations (docs/api.md, "Invitations"
//! and "Invitation lifecycle").

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::accounts::ports::UserRepository;
use crate::accounts::{Reached, User};
use crate::events::ports::EventRepository;
use crate::events::Role;
use crate::invitations::ports::{
    AnswerStored, BatchOutcome, InvitationFilter, InvitationRepository, SaveInvitationError,
};
use crate::invitations::{
    AnswerRefused, IgnoreReason, Ignored, Invitation, InvitationDetails, InvitationEntries,
    InvitationTtl, ManageRefused, NotPending, Planned, Reply,
};
use crate::ports::{AbuseCounters, Clock, CountError, CounterLimit, PortError, Reservation};
use crate::rsvp::RsvpRefused;
use crate::{Contact, EventId, InvitationId, Page, PageRequest, PhoneRegion, Text, Version};

mod account;
mod caps;

use caps::Counted;
pub use caps::SendCaps;

/// A send request: a manager's entries for one event, and the note they carry.
#[derive(Clone, Debug)]
pub struct SendInvitations {
    /// The event.
    pub event_id: EventId,
    /// The parsed entries.
    pub entries: InvitationEntries,
    /// The sender's note, stored on every invitation of the batch.
    pub message: Option<Text>,
    /// How long this batch stays answerable, instead of the service's
    /// [`InvitationService::ttl`] (docs/api.md, "`expires_in`").
    pub expires_in: Option<InvitationTtl>,
}

/// What a send did, both lists in request order.
#[derive(Clone, Debug, Default)]
pub struct SendReport {
    /// The invitations created.
    pub sent: Vec<InvitationDetails>,
    /// The entries not sent, with reasons.
    pub ignored: Vec<Ignored>,
}

/// Why a send failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum SendInvitationsError {
    /// No such event, or the caller is not a member.
    #[error("event not found")]
    EventNotFound,
    /// The caller is a member who does not manage the event's invitations (R1).
    #[error("only the event's owner and co-hosts may send its invitations")]
    NotOwner,
    /// The event's answers closed at this time (its RSVP deadline or its start): nothing is sent.
    #[error("answers to this event closed at {0}")]
    Closed(DateTime<Utc>),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why an invitation could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum GetInvitationError {
    /// No such invitation, or the caller may not see it (R12).
    #[error("invitation not found")]
    NotFound,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why an answer failed.
#[derive(Debug, thiserror::Error)]
pub enum AnswerInvitationError {
    /// No such invitation, or the caller may not see it (R12).
    #[error("invitation not found")]
    NotFound,
    /// The caller may see it but is not the invitee (R10).
    #[error("only the invitee may answer an invitation")]
    BySender,
    /// The answer was conditional on a version of the invitation that is no longer the stored one.
    #[error("the invitation changed since the expected version")]
    Stale,
    /// It was answered or cancelled before, perhaps a moment ago by a concurrent request, or has
    /// expired (R10).
    #[error(transparent)]
    NotPending(NotPending),
    /// The event's rules refuse it: answers closed, too many guests, or full without a waitlist.
    #[error(transparent)]
    Rsvp(RsvpRefused),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a cancel or a resend failed.
#[derive(Debug, thiserror::Error)]
pub enum ManageInvitationError {
    /// No such invitation, or the caller may not see it (R12).
    #[error("invitation not found")]
    NotFound,
    /// The invitee neither cancels nor resends.
    #[error("the invitee may not cancel or resend an invitation")]
    ByInvitee,
    /// It was answered or cancelled before, perhaps a moment ago by a concurrent request, or has
    /// expired.
    #[error(transparent)]
    NotPending(NotPending),
    /// Resend only: the last resend was less than [`Invitation::RESEND_INTERVAL`] ago.
    #[error("resent too recently")]
    TooSoon {
        /// How long until the next resend is allowed.
        retry_after: chrono::Duration,
    },
    /// Resend only: the event's answers closed at this time.
    #[error("answers to this event closed at {0}")]
    Closed(DateTime<Utc>),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why an event's invitations could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListEventInvitationsError {
    /// No such event, or the caller is not a member.
    #[error("event not found")]
    EventNotFound,
    /// The caller is a member who does not manage the event's invitations.
    #[error("only the event's owner and co-hosts may list its invitations")]
    NotManager,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

impl From<SaveInvitationError> for AnswerInvitationError {
    fn from(error: SaveInvitationError) -> Self {
        match error {
            SaveInvitationError::NotPending(reason) => Self::NotPending(reason),
            SaveInvitationError::NotFound => Self::NotFound,
            SaveInvitationError::Stale => Self::Stale,
            // Not an outcome of an answer; a resend racing the answer does not stop it.
            SaveInvitationError::ResentMeanwhile { .. } => {
                Self::Port(PortError::unexpected("an answer reported a resend"))
            }
            SaveInvitationError::Refused(refused) => Self::Rsvp(refused),
            SaveInvitationError::Port(error) => Self::Port(error),
        }
    }
}

impl From<AnswerRefused> for AnswerInvitationError {
    fn from(refused: AnswerRefused) -> Self {
        match refused {
            AnswerRefused::NotVisible => Self::NotFound,
            AnswerRefused::BySender => Self::BySender,
            AnswerRefused::NotPending(reason) => Self::NotPending(reason),
            AnswerRefused::Rsvp(refused) => Self::Rsvp(refused),
        }
    }
}

impl From<ManageRefused> for ManageInvitationError {
    fn from(refused: ManageRefused) -> Self {
        match refused {
            ManageRefused::NotVisible => Self::NotFound,
            ManageRefused::ByInvitee => Self::ByInvitee,
            ManageRefused::NotPending(reason) => Self::NotPending(reason),
            ManageRefused::TooSoon { retry_after } => Self::TooSoon { retry_after },
            ManageRefused::Closed(at) => Self::Closed(at),
        }
    }
}

/// Invitations.
#[derive(Clone)]
pub struct InvitationService {
    users: Arc<dyn UserRepository>,
    events: Arc<dyn EventRepository>,
    invitations: Arc<dyn InvitationRepository>,
    clock: Arc<dyn Clock>,
    ttl: InvitationTtl,
    caps: Option<(Arc<dyn AbuseCounters>, SendCaps, PhoneRegion)>,
}

impl std::fmt::Debug for InvitationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationService")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl InvitationService {
    /// Assembles the service from its ports; invitations live [`InvitationTtl::DEFAULT`] unless
    /// [`InvitationService::with_ttl`] says otherwise.
    pub fn new(
        users: Arc<dyn UserRepository>,
        events: Arc<dyn EventRepository>,
        invitations: Arc<dyn InvitationRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            events,
            invitations,
            clock,
            ttl: InvitationTtl::DEFAULT,
            caps: None,
        }
    }

    /// The same service, giving new and resent invitations `ttl` to live (`INVITATION_TTL`).
    #[must_use]
    pub fn with_ttl(mut self, ttl: InvitationTtl) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long new and resent invitations live.
    pub fn ttl(&self) -> InvitationTtl {
        self.ttl
    }

    /// Sends a batch of invitations (R1–R9), each carrying the command's note and expiring
    /// [`InvitationService::ttl`] from now. Costs a constant number of round trips: one look-up of
    /// the event with the caller's role, one of the users, one of their states in the event, one
    /// write.
    ///
    /// # Errors
    /// [`SendInvitationsError::EventNotFound`] when the event is unknown or `sender` is not a
    /// member; [`SendInvitationsError::NotOwner`] when `sender` is a member who does not manage
    /// its invitations (R1).
    pub async fn send(
        &self,
        sender: &User,
        command: SendInvitations,
    ) -> Result<SendReport, SendInvitationsError> {
        let membership = self
            .events
            .find_membership(command.event_id, sender.id)
            .await?
            .ok_or(SendInvitationsError::EventNotFound)?;
        if !membership.may_invite() {
            return Err(SendInvitationsError::NotOwner);
        }
        let event = membership.event;
        let rules = event.details.rules();
        if let Err(RsvpRefused::Closed(at)) = rules.check_open(self.clock.now()) {
            return Err(SendInvitationsError::Closed(at));
        }
        let ttl = command.expires_in.unwrap_or(self.ttl);

        let entries = &command.entries;
        // Every contact named counts under the sender's day's quota, found or not, so that sends
        // are no directory; those past it are not looked up at all.
        let named = entries.named();
        let (within, named_counted) = self.count_named(sender, named.len()).await?;
        let over_quota: std::collections::HashSet<&Contact> = named[within..].iter().collect();
        let (emails, mobiles) = InvitationEntries::split(&named[..within]);
        let users = if emails.is_empty() && mobiles.is_empty() {
            Vec::new()
        } else {
            match self.users.find_by_contacts(&emails, &mobiles).await {
                Ok(users) => users,
                Err(error) => {
                    self.uncount(vec![named_counted]).await;
                    return Err(error.into());
                }
            }
        };
        // Whom each contact reaches: its proven owner, else the oldest account that claims it
        // (the invitation is then held for that account until it proves the contact).
        let by_contact: HashMap<Contact, Reached> = emails
            .into_iter()
            .map(Contact::Email)
            .chain(mobiles.into_iter().map(Contact::Mobile))
            .filter_map(|contact| {
                Reached::among(&users, &contact).map(|reached| (contact, reached))
            })
            .collect();
        let now = self.clock.now();
        let user_ids: Vec<_> = users.iter().map(|u| u.id).collect();
        let states = if user_ids.is_empty() {
            HashMap::new()
        } else {
            match self
                .invitations
                .invitee_states(event.id, &user_ids, now)
                .await
            {
                Ok(states) => states,
                Err(error) => {
                    self.uncount(vec![named_counted]).await;
                    return Err(error.into());
                }
            }
        };

        let plan = entries.plan(
            sender.id,
            |contact| over_quota.contains(contact),
            |contact| by_contact.get(contact),
            |user| states.get(&user).copied().unwrap_or_default(),
        );
        // Each invitation is a message to its contact: counted under the contact's day's quota,
        // in request order. A full contact ignores its entry.
        let mut counted: Vec<Option<Reservation>> = Vec::with_capacity(plan.len());
        let mut plan = plan;
        for planned in &mut plan {
            let Planned::Invite(p) = planned else {
                counted.push(None);
                continue;
            };
            match self.count_message(&p.reached_by).await {
                Ok(Counted::Yes(reservation)) => counted.push(Some(reservation)),
                Ok(Counted::ContactFull) => {
                    *planned = Planned::Ignore(Ignored {
                        contact: p.contact.clone(),
                        reason: IgnoreReason::RecipientLimit,
                    });
                    counted.push(None);
                }
                Err(error) => {
                    let mut all: Vec<Reservation> = counted.into_iter().flatten().collect();
                    all.push(named_counted);
                    self.uncount(all).await;
                    return Err(error.into());
                }
            }
        }

        let new_invitations: Vec<Invitation> = plan
            .iter()
            .filter_map(|planned| match planned {
                Planned::Invite(p) => Some(
                    Invitation::new_pending(
                        event.id,
                        sender.id,
                        p.invitee.id,
                        p.contact.clone(),
                        now,
                    )
                    .with_message(command.message.clone())
                    .expiring(ttl, &rules)
                    .held_for(p.held.clone()),
                ),
                Planned::Ignore(_) => None,
            })
            .collect();
        let outcomes = if new_invitations.is_empty() {
            Vec::new()
        } else {
            match self.invitations.create_batch(&new_invitations).await {
                Ok(outcomes) => outcomes,
                // The event's owner may have deleted it since it was read: the database then
                // refuses the batch (its foreign key), and the event is as gone as for a stranger.
                // Or the sender may have lost their role meanwhile: the batch commits only while
                // they still manage the event.
                Err(error) => {
                    let event = self.events.find_membership(event.id, sender.id).await;
                    let mut all: Vec<Reservation> = counted.into_iter().flatten().collect();
                    all.push(named_counted);
                    self.uncount(all).await;
                    return Err(match event {
                        Ok(None) => SendInvitationsError::EventNotFound,
                        Ok(Some(membership)) if !membership.may_invite() => {
                            SendInvitationsError::NotOwner
                        }
                        Ok(Some(_)) | Err(_) => error.into(),
                    });
                }
            }
        };

        // Entries that did not become invitations sent nothing.
        let mut not_sent = Vec::new();
        let mut results = outcomes.iter();
        for (planned, reservation) in plan.iter().zip(counted) {
            if let (Planned::Invite(_), Some(reservation)) = (planned, reservation) {
                if !matches!(results.next(), Some(BatchOutcome::Created)) {
                    not_sent.push(reservation);
                }
            }
        }
        self.uncount(not_sent).await;

        let mut report = SendReport::default();
        let mut created = new_invitations.into_iter().zip(outcomes);
        for planned in plan {
            match planned {
                Planned::Ignore(ignored) => report.ignored.push(ignored),
                Planned::Invite(p) => match created.next() {
                    Some((invitation, BatchOutcome::Created)) => {
                        report.sent.push(InvitationDetails {
                            invitation,
                            event_title: event.details.title().clone(),
                            invitee_title: event.details.title().clone(),
                            sender: sender.summary(),
                            invitee: p.invitee,
                            event_deleted: None,
                        })
                    }
                    Some((_, BatchOutcome::AlreadyPending)) | None => {
                        report.ignored.push(Ignored {
                            contact: p.contact,
                            reason: IgnoreReason::AlreadyInvited,
                        })
                    }
                },
            }
        }
        Ok(report)
    }

    /// Invitations `sender` sent, newest first, each as it stands now.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn list_sent(
        &self,
        sender: &User,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let now = self.clock.now();
        let page = self
            .invitations
            .list_sent(sender.id, filter, page, now)
            .await?;
        Ok(page.map(|details| details.as_of(now)))
    }

    /// Invitations sent to `invitee`, newest first, each as it stands now.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn list_received(
        &self,
        invitee: &User,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let now = self.clock.now();
        let page = self
            .invitations
            .list_received(invitee.id, filter, page, now)
            .await?;
        Ok(page.map(|details| details.as_of(now).as_seen_by_invitee()))
    }

    /// Every invitation to an event, newest first, each as it stands now: for the event's owner
    /// and co-hosts ([`Role::manages_invitations`]).
    ///
    /// # Errors
    /// [`ListEventInvitationsError::EventNotFound`] when the event is unknown or `viewer` is not a
    /// member; [`ListEventInvitationsError::NotManager`] for other members.
    pub async fn list_for_event(
        &self,
        viewer: &User,
        event: EventId,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, ListEventInvitationsError> {
        let member = self
            .events
            .find_member(event, viewer.id)
            .await?
            .ok_or(ListEventInvitationsError::EventNotFound)?;
        if !member.role.manages_invitations() {
            return Err(ListEventInvitationsError::NotManager);
        }
        let now = self.clock.now();
        let page = self
            .invitations
            .list_for_event(event, filter, page, now)
            .await?;
        Ok(page.map(|details| details.as_of(now)))
    }

    /// The invitation and `viewer`'s role in its event, the role read unless the viewer is the
    /// invitee (who needs none; a sender's rights last as long as their management role).
    async fn load(
        &self,
        viewer: &User,
        id: InvitationId,
    ) -> Result<Option<(InvitationDetails, Option<Role>)>, PortError> {
        let Some(details) = self.invitations.find(id).await? else {
            return Ok(None);
        };
        let invitation = &details.invitation;
        let role = if viewer.id == invitation.invitee_id() && viewer.id != invitation.sender_id() {
            None
        } else if let Some(deleted) = details.event_deleted {
            // The event has no members left: its sender keeps the role they had when it went.
            deleted
                .sender_role
                .filter(|_| viewer.id == invitation.sender_id())
        } else {
            self.events
                .find_member(invitation.event_id(), viewer.id)
                .await?
                .map(|member| member.role)
        };
        Ok(Some((details, role)))
    }

    /// One invitation as it stands now, for its sender, its invitee and the event's owner and
    /// co-hosts (R12).
    ///
    /// # Errors
    /// [`GetInvitationError::NotFound`] for anyone else, as for an unknown id.
    pub async fn get(
        &self,
        viewer: &User,
        id: InvitationId,
    ) -> Result<InvitationDetails, GetInvitationError> {
        match self.load(viewer, id).await? {
            Some((details, role)) if details.invitation.is_visible_to(viewer.id, role) => {
                let details = details.as_of(self.clock.now());
                Ok(match details.invitation.standing_of(viewer.id, role) {
                    crate::invitations::Standing::Invitee => details.as_seen_by_invitee(),
                    _ => details,
                })
            }
            _ => Err(GetInvitationError::NotFound),
        }
    }

    /// The invitee answers (R10, R11; docs/api.md, "Answering: maybe, guests and comments"): yes
    /// (seated, or waitlisted when the party does not fit), maybe, or no.
    ///
    /// # Errors
    /// [`AnswerInvitationError::NotFound`] for those who may not see it (R12),
    /// [`AnswerInvitationError::BySender`] for the others who are not the invitee,
    /// [`AnswerInvitationError::NotPending`] when it is answered, cancelled or expired, also when
    /// a concurrent request won the race, [`AnswerInvitationError::Stale`] when `expected` is given
    /// and the invitation is no longer at that version, [`AnswerInvitationError::Rsvp`] when the
    /// event's rules refuse it.
    pub async fn answer(
        &self,
        by: &User,
        id: InvitationId,
        reply: Reply,
        expected: Option<Version>,
    ) -> Result<InvitationDetails, AnswerInvitationError> {
        let (mut details, role) = self
            .load(by, id)
            .await?
            .ok_or(AnswerInvitationError::NotFound)?;
        let rules = self
            .events
            .find_rules(details.invitation.event_id())
            .await?
            .ok_or(AnswerInvitationError::NotFound)?;
        let now = self.clock.now();
        details.invitation.answer(by.id, role, reply, &rules, now)?;
        if !details.invitation.version().satisfies(expected) {
            return Err(AnswerInvitationError::Stale);
        }
        match self
            .invitations
            .save_answer(&details.invitation, expected)
            .await?
        {
            AnswerStored::AsAnswered => {}
            AnswerStored::Waitlisted { position } => details.invitation.waitlist(position),
        }
        Ok(details)
    }

    /// The sender, the event's owner or a co-host cancels a pending invitation.
    ///
    /// # Errors
    /// [`ManageInvitationError::NotFound`] for those who may not see it (R12),
    /// [`ManageInvitationError::ByInvitee`] for the invitee, [`ManageInvitationError::NotPending`]
    /// when it is answered, cancelled or expired, also when a concurrent request won the race.
    pub async fn cancel(
        &self,
        by: &User,
        id: InvitationId,
    ) -> Result<InvitationDetails, ManageInvitationError> {
        let (mut details, role) = self
            .load(by, id)
            .await?
            .ok_or(ManageInvitationError::NotFound)?;
        details.invitation.cancel(by.id, role, self.clock.now())?;
        self.invitations
            .save_cancel(&details.invitation)
            .await
            .map_err(manage_error)?;
        Ok(details)
    }

    /// The sender, the event's owner or a co-host resends a pending invitation: it expires a full
    /// [`InvitationService::ttl`] from now.
    ///
    /// # Errors
    /// As [`InvitationService::cancel`], and [`ManageInvitationError::TooSoon`] within
    /// [`Invitation::RESEND_INTERVAL`] of the last resend, also when a concurrent resend won.
    pub async fn resend(
        &self,
        by: &User,
        id: InvitationId,
    ) -> Result<InvitationDetails, ManageInvitationError> {
        let (mut details, role) = self
            .load(by, id)
            .await?
            .ok_or(ManageInvitationError::NotFound)?;
        let rules = self
            .events
            .find_rules(details.invitation.event_id())
            .await?
            .ok_or(ManageInvitationError::NotFound)?;
        let now = self.clock.now();
        let previous = details.invitation.last_resent_at();
        details
            .invitation
            .resend(by.id, role, self.ttl, &rules, now)?;
        // A reminder is a message to the contact, and names it: counted under both day's quotas.
        let contact = self.caps.as_ref().and_then(|(_, _, region)| {
            Contact::parse(details.invitation.contact(), *region)
                .and_then(Result::ok)
                .map(|contact| crate::accounts::contact_key(&contact).to_owned())
        });
        let reservation = match contact {
            Some(contact) => match self.count_resend(by, &contact).await? {
                Ok(reservation) => reservation,
                Err(wait) => {
                    return Err(ManageInvitationError::TooSoon {
                        retry_after: chrono::Duration::from_std(wait)
                            .unwrap_or_else(|_| chrono::Duration::days(1)),
                    });
                }
            },
            None => Reservation::default(),
        };
        let saved = self
            .invitations
            .save_resend(&details.invitation, previous)
            .await
            .map_err(|error| match error {
                SaveInvitationError::ResentMeanwhile { last_resent_at } => {
                    too_soon(last_resent_at, now)
                }
                other => manage_error(other),
            });
        if saved.is_err() {
            self.uncount(vec![reservation]).await;
        }
        saved?;
        Ok(details)
    }

    /// Marks `expired` up to `batch` pending invitations past their expiry; returns how many (the
    /// sweeper's step; docs/operations.md, "Invitation expiry").
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn expire_due(&self, batch: u32) -> Result<u64, PortError> {
        self.invitations.expire_due(self.clock.now(), batch).await
    }
}

fn manage_error(error: SaveInvitationError) -> ManageInvitationError {
    match error {
        SaveInvitationError::NotPending(reason) => ManageInvitationError::NotPending(reason),
        SaveInvitationError::NotFound => ManageInvitationError::NotFound,
        SaveInvitationError::ResentMeanwhile { .. } => {
            ManageInvitationError::Port(PortError::unexpected("a cancel reported a resend"))
        }
        SaveInvitationError::Stale => ManageInvitationError::Port(PortError::unexpected(
            "an unconditional change reported a version mismatch",
        )),
        SaveInvitationError::Refused(_) => ManageInvitationError::Port(PortError::unexpected(
            "a cancel or a resend reported a refused answer",
        )),
        SaveInvitationError::Port(error) => ManageInvitationError::Port(error),
    }
}

/// The refusal of a resend that lost the race to one stored at `last_resent_at`.
fn too_soon(last_resent_at: DateTime<Utc>, now: DateTime<Utc>) -> ManageInvitationError {
    let next = last_resent_at + Invitation::RESEND_INTERVAL;
    ManageInvitationError::TooSoon {
        retry_after: (next - now).max(chrono::Duration::seconds(1)),
    }
}

#[cfg(test)]
mod tests;
