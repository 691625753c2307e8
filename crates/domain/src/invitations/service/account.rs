//! What an account's export and erasure need of its invitations (docs/api.md, "Your account").

use super::*;

/// The most invitations one page of [`InvitationService::everything_of`] reads.
const ACCOUNT_PAGE: i64 = 100;

impl InvitationService {
    /// Every invitation `user` sent and every one it received (held ones excluded), each as it
    /// stands now: for the account's export.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn everything_of(
        &self,
        user: crate::UserId,
    ) -> Result<(Vec<InvitationDetails>, Vec<InvitationDetails>), PortError> {
        let now = self.clock.now();
        let all = InvitationFilter {
            status: crate::StatusFilter::ALL,
            event_id: None,
        };
        let sent = every(|after| self.invitations.list_sent(user, all, after, now)).await?;
        let received = every(|after| self.invitations.list_received(user, all, after, now)).await?;
        Ok((sent, received))
    }

    /// Cancels every live invitation (pending, "maybe" or waitlisted) `user` sent or received,
    /// each with its change, as its account is erased; returns how many.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn withdraw_all_of(&self, user: crate::UserId) -> Result<u64, PortError> {
        let now = self.clock.now();
        let mut open = Vec::new();
        for status in [
            crate::InvitationStatus::Pending,
            crate::InvitationStatus::Tentative,
            crate::InvitationStatus::Waitlisted,
        ] {
            let live = InvitationFilter {
                status: crate::StatusFilter::only(status),
                event_id: None,
            };
            open.extend(every(|after| self.invitations.list_sent(user, live, after, now)).await?);
            open.extend(
                every(|after| self.invitations.list_received(user, live, after, now)).await?,
            );
        }
        let mut withdrawn = 0;
        for details in open {
            let mut invitation = details.invitation;
            invitation.withdraw(now);
            match self.invitations.save_cancel(&invitation).await {
                Ok(()) => withdrawn += 1,
                Err(SaveInvitationError::Port(error)) => return Err(error),
                // Answered, cancelled or expired meanwhile: nothing left to withdraw.
                Err(_) => {}
            }
        }
        Ok(withdrawn)
    }
}

/// Every item of a listing, page after page.
async fn every<F, Fut>(list: F) -> Result<Vec<InvitationDetails>, PortError>
where
    F: Fn(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<InvitationDetails>, PortError>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = list(PageRequest {
            limit: crate::Limit::new(ACCOUNT_PAGE).unwrap_or_default(),
            after,
        })
        .await?;
        let next = page.next_after;
        items.extend(page.items);
        if next.is_none() {
            return Ok(items);
        }
        after = next;
    }
}
