//! What webhooks and their deliveries need from outside: the webhook store, the delivery queue,
//! and the senders (HTTP and mail) and the renderer of a change.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::changes::{ChangeId, RecordedChange};
use crate::ports::PortError;
use crate::webhooks::delivery::{
    Attempt, AttemptRecord, ClaimKind, ClaimShares, ClaimedDelivery, InvitationEmail, NewDelivery,
    Verdict,
};
use crate::webhooks::{PendingVerification, VerificationOutcome, Webhook, WebhookUrl};
use crate::{Email, Page, PageRequest, UserId, WebhookId};

/// Why a webhook could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreWebhookError {
    /// Its owner has [`Webhook::MAX_PER_USER`] webhooks already.
    #[error("too many webhooks")]
    TooMany,
    /// Infrastructure failure.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Registered webhook endpoints and their delivery attempts (docs/api.md, "Webhooks").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookRepository: Send + Sync {
    /// Stores a new webhook, unless its owner has [`Webhook::MAX_PER_USER`] already: counted and
    /// stored in one atomic step, so that concurrent creations, in any number of processes,
    /// cannot together pass the limit.
    ///
    /// # Errors
    /// [`StoreWebhookError::TooMany`] at the limit; [`PortError`] on infrastructure failure.
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreWebhookError>;

    /// A page of the owner's webhooks, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_webhooks(
        &self,
        owner: UserId,
        page: PageRequest,
    ) -> Result<Page<Webhook>, PortError>;

    /// A webhook by id, whoever owns it.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn find_webhook(&self, id: WebhookId) -> Result<Option<Webhook>, PortError>;

    /// Deletes a webhook with its deliveries and their attempts; `false` when it did not exist.
    /// A delivery under way finishes its attempt, whose record is then dropped.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn delete_webhook(&self, id: WebhookId) -> Result<bool, PortError>;

    /// Makes a webhook's verification due at `now` with a fresh schedule (its attempts back to
    /// 0): a webhook pending verification, or one disabled as `unverified` (pending again),
    /// unless a claim on its verification still holds at `now` (it is being asked: left as it
    /// is). Any other webhook is left as it is. Returns the webhook as it then stands; `None` when
    /// there is no such webhook.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn restart_verification(
        &self,
        id: WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Option<Webhook>, PortError>;

    /// A page of the webhook's delivery attempts, newest first.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn list_attempts(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> Result<Page<Attempt>, PortError>;
}

/// The deliveries waiting to be made, shared by every process on the store (docs/operations.md,
/// "Webhook and email delivery").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// The last change whose deliveries have been made ([`DeliveryQueue::enqueue`]).
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn dispatch_position(&self) -> Result<ChangeId, PortError>;

    /// The enabled webhooks of these users.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn webhooks_of(&self, owners: &[UserId]) -> Result<Vec<Webhook>, PortError>;

    /// In one atomic step: moves the dispatch position from `from` to `to` and stores the
    /// deliveries of the changes in between; `false`, storing nothing, when the position is no
    /// longer `from` (another worker, maybe in another process, dispatched them first). So each
    /// change's deliveries are made once. A delivery whose webhook was deleted meanwhile is
    /// dropped.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; nothing is stored then.
    async fn enqueue(
        &self,
        from: ChangeId,
        to: ChangeId,
        deliveries: Vec<NewDelivery>,
    ) -> Result<bool, PortError>;

    /// Claims up to `limit` deliveries of `kind` that are due at `now`, pending, not held by a
    /// claim whose lease runs past `now`, and for an enabled webhook whose circuit breaker is not
    /// open at `now` ([`CircuitBreaker`]), or an email address; oldest due first, taking turns
    /// among the webhooks' owners, and no more of one target (a webhook; email as a whole), nor
    /// of one owner's webhooks, than makes `shares` in flight under live claims. Each claim holds
    /// until `lease_until`: no other claim takes the delivery before, in any process.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        shares: ClaimShares,
        kind: ClaimKind,
    ) -> Result<Vec<ClaimedDelivery>, PortError>;

    /// Claims up to `limit` webhooks whose verification is due at `now` (pending, not disabled,
    /// not held by a claim whose lease runs past `now`), oldest due first, under a lease until
    /// `lease_until`: no other claim takes one before, in any process.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn claim_verifications(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingVerification>, PortError>;

    /// Applies a verification attempt's outcome, if its claim still holds (`false` otherwise,
    /// changing nothing): verified (active from then, nothing more due), due again with one more
    /// attempt counted, or disabled as `unverified`.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn record_verification(
        &self,
        claimed: &PendingVerification,
        outcome: VerificationOutcome,
    ) -> Result<bool, PortError>;

    /// Stores an attempt and applies its verdict, if the delivery's claim still holds (`false`
    /// otherwise, storing nothing): the delivery is done, due again, or given up; a webhook's run
    /// of failures starts (or ends, on success); its run of unanswered attempts (no status) grows,
    /// opening its [`CircuitBreaker`] for [`CircuitBreaker::pause`] from the attempt's time, or
    /// ends with any answer; [`Verdict::Disable`] disables the webhook and ends its pending
    /// deliveries.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; the claim then runs out and the delivery is
    /// attempted again.
    async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &AttemptRecord,
        verdict: Verdict,
    ) -> Result<bool, PortError>;

    /// Deletes up to `batch` finished deliveries (delivered or given up) made before `before`,
    /// with their attempts; returns how many. Safe from several processes at once.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    async fn purge_deliveries(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError>;
}

/// One signed `POST` of a delivery (Standard Webhooks v1).
#[derive(Clone, Debug)]
pub struct WebhookRequest {
    /// Where.
    pub url: WebhookUrl,
    /// `webhook-id`: the change's id, the same at every attempt.
    pub message_id: String,
    /// `webhook-timestamp`: the attempt's time, in Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
    /// The JSON body.
    pub body: String,
}

/// What a `POST` came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookResponse {
    /// The endpoint answered.
    Answered {
        /// The status.
        status: u16,
        /// `Retry-After`, in seconds or as a date, read as a wait.
        retry_after: Option<chrono::Duration>,
        /// The start of the body ([`AttemptRecord::BODY_MAX`] bytes at most).
        body: String,
    },
    /// No answer: the destination was refused, or the connection failed or timed out.
    Failed {
        /// Why, in words for the endpoint's owner.
        error: String,
    },
}

/// Why a webhook's destination is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DestinationRefused {
    /// Its host is, or resolves to, an address that is not public.
    #[error("the host is not a public address")]
    NotPublic,
    /// Its host name does not resolve.
    #[error("the host name does not resolve")]
    Unresolvable,
    /// Its port is not one webhooks may use.
    #[error("the port is not one webhooks may use")]
    PortNotAllowed,
    /// Too many host names are being looked up at once: not a verdict on this one; try later.
    #[error("too many host names are being looked up at once")]
    Busy,
}

/// Sends webhook deliveries over HTTP.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Whether deliveries may go to `url` now: under the destination policy, its host must be a
    /// public address, and a name must resolve only to public addresses.
    ///
    /// # Errors
    /// [`DestinationRefused`] saying why not.
    async fn check_destination(&self, url: &WebhookUrl) -> Result<(), DestinationRefused>;

    /// `POST`s the request, within a bounded time, following no redirect, and to a destination
    /// checked again as [`WebhookSender::check_destination`] does (DNS may have changed).
    async fn send(&self, request: &WebhookRequest) -> WebhookResponse;
}

/// What sending an email came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailResult {
    /// The mail server took it.
    Sent,
    /// Not sent, worth trying again (no connection, a timeout, a `4xx`).
    Transient(String),
    /// Refused for good (a `5xx`).
    Permanent(String),
}

/// Sends email (docs/api.md, "Email to invitees").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// The message for an invitation email, in the form [`Mailer::send`] takes; stored with its
    /// delivery, so that every attempt sends the same.
    fn compose(&self, email: &InvitationEmail) -> String;

    /// A plain-text message with `subject` (a code, a notice), in the form [`Mailer::send`] takes.
    fn compose_text(&self, subject: &str, text: &str) -> String;

    /// A plain-text message with `subject` and, unless `calendar` is empty, an iCalendar part (an
    /// event's changed time or place: docs/api.md, "Change notices"), in the form
    /// [`Mailer::send`] takes. A mailer without calendar parts sends the text alone.
    fn compose_notice(&self, subject: &str, text: &str, calendar: &str) -> String {
        let _ = calendar;
        self.compose_text(subject, text)
    }

    /// Sends a composed message to `to`, within a bounded time.
    async fn send(&self, to: &Email, message: &str) -> MailResult;
}

/// Writes a change as the API shows it: the body of a webhook delivery is exactly what the feed
/// shows (docs/api.md, "Webhooks").
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait ChangeRenderer: Send + Sync {
    /// The change's JSON.
    fn render(&self, change: &RecordedChange) -> String;
}
