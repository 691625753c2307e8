//! Sending, listing and answering invitations (docs/api.md, "Invitations").

use std::collections::HashMap;
use std::sync::Arc;

use crate::ports::{
    BatchOutcome, Clock, EventRepository, InvitationFilter, InvitationRepository, PortError,
    SaveAnswerError, UserRepository,
};
use crate::{
    Answer, AnswerRefused, Contact, EventId, IgnoreReason, Ignored, Invitation, InvitationDetails,
    InvitationEntries, InvitationId, Page, PageRequest, Planned, User, UserSummary,
};

/// A send request: the owner's entries for one event.
#[derive(Clone, Debug)]
pub struct SendInvitations {
    /// The event.
    pub event_id: EventId,
    /// The parsed entries.
    pub entries: InvitationEntries,
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
    /// The caller is a member but neither the owner nor a co-host (R1).
    #[error("only the event's owner and co-hosts may send its invitations")]
    NotOwner,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why an invitation could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum GetInvitationError {
    /// No such invitation, or the caller is neither its sender nor its invitee (R12).
    #[error("invitation not found")]
    NotFound,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why an answer failed.
#[derive(Debug, thiserror::Error)]
pub enum AnswerInvitationError {
    /// No such invitation, or the caller is neither its sender nor its invitee (R12).
    #[error("invitation not found")]
    NotFound,
    /// The sender tried to answer (R10).
    #[error("only the invitee may answer an invitation")]
    BySender,
    /// It was answered before, perhaps a moment ago by a concurrent request (R10).
    #[error("the invitation has already been answered")]
    AlreadyAnswered,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Invitations.
#[derive(Clone)]
pub struct InvitationService {
    users: Arc<dyn UserRepository>,
    events: Arc<dyn EventRepository>,
    invitations: Arc<dyn InvitationRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for InvitationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationService").finish_non_exhaustive()
    }
}

impl InvitationService {
    /// Assembles the service from its ports.
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
        }
    }

    /// Sends a batch of invitations (R1–R9). Costs a constant number of round trips: one look-up of
    /// the event, one of the users, one of their states in the event, one write.
    ///
    /// # Errors
    /// [`SendInvitationsError::EventNotFound`] when the event is unknown or `sender` is not a
    /// member; [`SendInvitationsError::NotOwner`] when `sender` is a member but neither the owner
    /// nor a co-host (R1).
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

        let entries = &command.entries;
        let (emails, mobiles) = (entries.emails(), entries.mobiles());
        let users = if emails.is_empty() && mobiles.is_empty() {
            Vec::new()
        } else {
            self.users.find_by_contacts(&emails, &mobiles).await?
        };
        let mut by_contact: HashMap<Contact, UserSummary> = HashMap::new();
        for user in &users {
            if let Some(email) = &user.email {
                by_contact.insert(Contact::Email(email.clone()), user.summary());
            }
            if let Some(mobile) = &user.mobile {
                by_contact.insert(Contact::Mobile(mobile.clone()), user.summary());
            }
        }
        let user_ids: Vec<_> = users.iter().map(|u| u.id).collect();
        let states = if user_ids.is_empty() {
            HashMap::new()
        } else {
            self.invitations.invitee_states(event.id, &user_ids).await?
        };

        let plan = entries.plan(
            sender.id,
            |contact| by_contact.get(contact),
            |user| states.get(&user).copied().unwrap_or_default(),
        );

        let now = self.clock.now();
        let new_invitations: Vec<Invitation> = plan
            .iter()
            .filter_map(|planned| match planned {
                Planned::Invite(p) => Some(Invitation::new_pending(
                    event.id,
                    sender.id,
                    p.invitee.id,
                    p.contact.clone(),
                    now,
                )),
                Planned::Ignore(_) => None,
            })
            .collect();
        let outcomes = if new_invitations.is_empty() {
            Vec::new()
        } else {
            self.invitations.create_batch(&new_invitations).await?
        };

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
                            sender: sender.summary(),
                            invitee: p.invitee,
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

    /// Invitations `sender` sent, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn list_sent(
        &self,
        sender: &User,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.invitations.list_sent(sender.id, filter, page).await
    }

    /// Invitations sent to `invitee`, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn list_received(
        &self,
        invitee: &User,
        filter: InvitationFilter,
        page: PageRequest,
    ) -> Result<Page<InvitationDetails>, PortError> {
        self.invitations
            .list_received(invitee.id, filter, page)
            .await
    }

    /// One invitation, for its sender and invitee only (R12).
    ///
    /// # Errors
    /// [`GetInvitationError::NotFound`] for anyone else, as for an unknown id.
    pub async fn get(
        &self,
        viewer: &User,
        id: InvitationId,
    ) -> Result<InvitationDetails, GetInvitationError> {
        match self.invitations.find(id).await? {
            Some(details) if details.invitation.is_visible_to(viewer.id) => Ok(details),
            _ => Err(GetInvitationError::NotFound),
        }
    }

    /// The invitee answers (R10, R11).
    ///
    /// # Errors
    /// [`AnswerInvitationError::NotFound`] for strangers (R12), [`AnswerInvitationError::BySender`]
    /// for the sender, [`AnswerInvitationError::AlreadyAnswered`] when it is not pending, also when
    /// a concurrent answer won the race.
    pub async fn answer(
        &self,
        by: &User,
        id: InvitationId,
        answer: Answer,
    ) -> Result<InvitationDetails, AnswerInvitationError> {
        let mut details = self
            .invitations
            .find(id)
            .await?
            .ok_or(AnswerInvitationError::NotFound)?;
        details
            .invitation
            .answer(by.id, answer, self.clock.now())
            .map_err(|refused| match refused {
                AnswerRefused::NotVisible => AnswerInvitationError::NotFound,
                AnswerRefused::BySender => AnswerInvitationError::BySender,
                AnswerRefused::AlreadyAnswered => AnswerInvitationError::AlreadyAnswered,
            })?;
        self.invitations
            .save_answer(&details.invitation)
            .await
            .map_err(|error| match error {
                SaveAnswerError::AlreadyAnswered => AnswerInvitationError::AlreadyAnswered,
                SaveAnswerError::Port(error) => AnswerInvitationError::Port(error),
            })?;
        Ok(details)
    }
}
