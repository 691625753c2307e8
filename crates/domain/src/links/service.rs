//! Looking at and answering an invitation by its link.

use std::sync::Arc;

use super::ports::InvitationLinks;
use super::{opens, LinkToken};
use crate::accounts::ports::UserRepository;
use crate::events::Event;
use crate::invitations::{AnswerInvitationError, InvitationDetails, InvitationService, Reply};
use crate::ports::{Clock, PortError};

/// What a link shows: the invitation as its invitee sees it, and its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkView {
    /// The invitation, as it stands now.
    pub details: InvitationDetails,
    /// Its event.
    pub event: Event,
    /// Whether it waits for its contact to be proven (docs/api.md, "Proving contacts"): then the
    /// link shows it but does not answer it; the visitor signs in and proves the contact.
    pub held: bool,
    /// The language the page is written in (docs/api.md, "Languages").
    pub locale: crate::accounts::Locale,
}

/// Why a link shows or answers nothing.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No such link, or its invitation is no longer open (answered for good, cancelled,
    /// expired, or its invitee's account is gone): the same answer for each, so that a link
    /// tells nothing once it is dead.
    #[error("this link does not open an invitation")]
    Dead,
    /// The invitation is held for a contact not proven yet: only its proven owner answers it.
    #[error("the invitation waits for its contact to be proven")]
    Held,
    /// The answer itself was refused, under the same rules as in the app.
    #[error(transparent)]
    Answer(AnswerInvitationError),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Shows and answers invitations by their links.
#[derive(Clone)]
pub struct LinkService {
    links: Arc<dyn InvitationLinks>,
    users: Arc<dyn UserRepository>,
    invitations: InvitationService,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LinkService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkService").finish_non_exhaustive()
    }
}

impl LinkService {
    /// A service over these ports; answers go through `invitations`, as the invitee's.
    pub fn new(
        links: Arc<dyn InvitationLinks>,
        users: Arc<dyn UserRepository>,
        invitations: InvitationService,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            links,
            users,
            invitations,
            clock,
        }
    }

    /// The open invitation the presented token opens. Changes nothing: a mail scanner that
    /// follows the link answers nothing.
    ///
    /// # Errors
    /// [`LinkError::Dead`] for a token that opens no open invitation.
    pub async fn view(&self, presented: &str) -> Result<LinkView, LinkError> {
        let hash = LinkToken::digest_presented(presented).ok_or(LinkError::Dead)?;
        let linked = self.links.find_link(&hash).await?.ok_or(LinkError::Dead)?;
        let details = linked.details.as_of(self.clock.now()).as_seen_by_invitee();
        if !opens(details.invitation.status()) {
            return Err(LinkError::Dead);
        }
        Ok(LinkView {
            held: details.invitation.held_contact().is_some(),
            details,
            event: linked.event,
            locale: linked.locale,
        })
    }

    /// Answers the invitation the presented token opens, as its invitee, under every rule an
    /// answer in the app follows; returns it as it stands after the answer.
    ///
    /// # Errors
    /// [`LinkError::Dead`] as [`LinkService::view`], [`LinkError::Held`] for a held invitation,
    /// [`LinkError::Answer`] when the answer is refused.
    pub async fn answer(&self, presented: &str, reply: Reply) -> Result<LinkView, LinkError> {
        let view = self.view(presented).await?;
        if view.held {
            return Err(LinkError::Held);
        }
        let invitee = self
            .users
            .find_by_id(view.details.invitation.invitee_id())
            .await?
            .ok_or(LinkError::Dead)?;
        let details = self
            .invitations
            .answer(&invitee, view.details.invitation.id(), reply, None)
            .await
            .map_err(LinkError::Answer)?;
        Ok(LinkView {
            details: details.as_seen_by_invitee(),
            event: view.event,
            held: false,
            locale: view.locale,
        })
    }
}
