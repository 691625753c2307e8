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
                Some(LinkedInvitation {
                    details: state.details(invitation),
                    event,
                })
            }))
    }
}
