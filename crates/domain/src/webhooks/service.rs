//! Webhook endpoints of their owners (docs/api.md, "Webhooks"): register, list, read, delete, and
//! the attempts made to deliver to them. Delivering is [`super::DeliveryService`]'s.

use std::sync::Arc;

use crate::accounts::User;
use crate::changes::ports::ChangeFeed;
use crate::ports::{Clock, PortError, SecretSource};
use crate::webhooks::delivery::Attempt;
use crate::webhooks::ports::{
    DestinationRefused, StoreWebhookError, WebhookRepository, WebhookSender,
};
use crate::webhooks::{
    DestinationPolicy, DisableReason, Webhook, WebhookEvents, WebhookSecret, WebhookStatus,
    WebhookUrl,
};
use crate::{Limit, Page, PageRequest, WebhookId};

/// Why a webhook was not registered.
#[derive(Debug, thiserror::Error)]
pub enum CreateWebhookError {
    /// The caller has [`Webhook::MAX_PER_USER`] webhooks already.
    #[error("too many webhooks")]
    TooMany,
    /// Its destination is not allowed now (resolved when registering, and again at every
    /// delivery).
    #[error(transparent)]
    Destination(#[from] DestinationRefused),
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a webhook (or its attempts) cannot be read or deleted.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No such webhook, or not the caller's: the same answer, so that ids reveal nothing.
    #[error("webhook not found")]
    NotFound,
    /// Disabled for good (`gone`, `failing`, or by the operator): a verification cannot bring it
    /// back.
    #[error("the webhook is disabled")]
    Disabled,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Registers and manages webhooks.
#[derive(Clone)]
pub struct WebhookService {
    webhooks: Arc<dyn WebhookRepository>,
    feed: Arc<dyn ChangeFeed>,
    sender: Arc<dyn WebhookSender>,
    secrets: Arc<dyn SecretSource>,
    clock: Arc<dyn Clock>,
    policy: DestinationPolicy,
}

impl std::fmt::Debug for WebhookService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl WebhookService {
    /// A service over these ports, with the destinations `policy` allows.
    pub fn new(
        webhooks: Arc<dyn WebhookRepository>,
        feed: Arc<dyn ChangeFeed>,
        sender: Arc<dyn WebhookSender>,
        secrets: Arc<dyn SecretSource>,
        clock: Arc<dyn Clock>,
        policy: DestinationPolicy,
    ) -> Self {
        Self {
            webhooks,
            feed,
            sender,
            secrets,
            clock,
            policy,
        }
    }

    /// Where webhooks may point: URLs are parsed under it ([`WebhookUrl::parse`]).
    pub fn destination_policy(&self) -> DestinationPolicy {
        self.policy
    }

    /// Registers a webhook for `owner`: it receives the changes numbered from now on that
    /// `owner` receives (R12) and `events` lets through. Its secret is in the result, the only
    /// time it is shown.
    ///
    /// # Errors
    /// [`CreateWebhookError`].
    pub async fn create(
        &self,
        owner: &User,
        url: WebhookUrl,
        events: WebhookEvents,
    ) -> Result<Webhook, CreateWebhookError> {
        // The limit first, so that an owner at it costs no look-up of a name (the store checks it
        // again, atomically, when it inserts).
        let held = self
            .webhooks
            .list_webhooks(
                owner.id,
                PageRequest {
                    limit: Limit::new(i64::from(Webhook::MAX_PER_USER)).unwrap_or_default(),
                    after: None,
                },
            )
            .await?;
        if held.items.len() >= Webhook::MAX_PER_USER as usize {
            return Err(CreateWebhookError::TooMany);
        }
        self.sender.check_destination(&url).await?;
        let mut bytes = [0u8; WebhookSecret::BYTES];
        self.secrets.fill(&mut bytes);
        let webhook = Webhook {
            id: WebhookId::generate(),
            owner: owner.id,
            url,
            events,
            secret: WebhookSecret::from_bytes(&bytes),
            created_at: self.clock.now(),
            starts_after: self.feed.latest().await?,
            failing_since: None,
            disabled: None,
            // Nothing until its endpoint answers the challenge (docs/api.md, "Verifying an
            // endpoint"), which the delivery worker sends at once, apart from this request.
            verified_at: None,
        };
        self.webhooks
            .create_webhook(&webhook)
            .await
            .map_err(|e| match e {
                StoreWebhookError::TooMany => CreateWebhookError::TooMany,
                StoreWebhookError::Port(e) => CreateWebhookError::Port(e),
            })?;
        Ok(webhook)
    }

    /// The caller's webhooks, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn list(&self, owner: &User, page: PageRequest) -> Result<Page<Webhook>, PortError> {
        self.webhooks.list_webhooks(owner.id, page).await
    }

    /// One of the caller's webhooks.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] unless it exists and is the caller's.
    pub async fn get(&self, owner: &User, id: WebhookId) -> Result<Webhook, WebhookError> {
        match self.webhooks.find_webhook(id).await? {
            Some(webhook) if webhook.owner == owner.id => Ok(webhook),
            _ => Err(WebhookError::NotFound),
        }
    }

    /// Deletes one of the caller's webhooks; nothing more is delivered to it.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] unless it exists and is the caller's.
    pub async fn delete(&self, owner: &User, id: WebhookId) -> Result<(), WebhookError> {
        self.get(owner, id).await?;
        if self.webhooks.delete_webhook(id).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// Asks one of the caller's webhooks' endpoint again to verify (docs/api.md, "Verifying an
    /// endpoint"): at once, with a fresh schedule, unless it is being asked right now. A webhook
    /// disabled as `unverified` is pending again. An active webhook is left as it is.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] unless it exists and is the caller's;
    /// [`WebhookError::Disabled`] when it was disabled for another reason.
    pub async fn verify(&self, owner: &User, id: WebhookId) -> Result<Webhook, WebhookError> {
        let webhook = self.get(owner, id).await?;
        match webhook.disabled {
            _ if webhook.status() == WebhookStatus::Active => return Ok(webhook),
            Some(disabled) if disabled.reason != DisableReason::Unverified => {
                return Err(WebhookError::Disabled);
            }
            _ => {}
        }
        self.webhooks
            .restart_verification(id, self.clock.now())
            .await?
            .ok_or(WebhookError::NotFound)
    }

    /// The attempts to deliver to one of the caller's webhooks, newest first.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] unless it exists and is the caller's.
    pub async fn attempts(
        &self,
        owner: &User,
        id: WebhookId,
        page: PageRequest,
    ) -> Result<Page<Attempt>, WebhookError> {
        self.get(owner, id).await?;
        Ok(self.webhooks.list_attempts(id, page).await?)
    }
}
