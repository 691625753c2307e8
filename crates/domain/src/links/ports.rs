//! What links need from outside: the store of their digests.

use async_trait::async_trait;

use super::LinkedInvitation;
use crate::accounts::ports::TokenHash;
use crate::ports::PortError;

/// Finds the invitation a link opens. Links are stored with the message that carries them
/// ([`crate::webhooks::delivery::NewDelivery::link`]), in the same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait InvitationLinks: Send + Sync {
    /// The invitation whose link has this digest, with its event, whatever the invitation's
    /// status; `None` for an unknown digest.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_link(&self, hash: &TokenHash) -> Result<Option<LinkedInvitation>, PortError>;

    /// Deletes up to `batch` links made before `before` whose invitation is no longer pending or
    /// "maybe" (they open nothing any more); returns how many.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn purge_links(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        batch: u32,
    ) -> Result<u64, PortError>;
}
