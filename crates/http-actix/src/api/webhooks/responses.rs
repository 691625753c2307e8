//! Response bodies of the webhooks area.

use chrono::{DateTime, Utc};
use domain::webhooks::delivery::{Attempt, Verdict};
use domain::webhooks::{DisableReason, Webhook, WebhookStatus};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::changes::responses::ChangeTypeBody;
use crate::json::{optional_timestamp, timestamp};

/// Whether a webhook receives deliveries.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WebhookStatus)]
pub enum WebhookStatusBody {
    /// Its endpoint has not yet echoed the verification challenge: it receives nothing yet
    /// (docs/api.md, "Verifying an endpoint").
    PendingVerification,
    /// It receives deliveries.
    Active,
    /// It receives nothing more (see `disabled_reason`); `POST /api/v1/webhooks/{id}/verify`
    /// asks its endpoint again, and it is active once the endpoint echoes the challenge.
    Disabled,
}

/// Why a webhook was disabled.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WebhookDisabledReason)]
pub enum DisabledReasonBody {
    /// The endpoint answered `410 Gone`.
    Gone,
    /// Its deliveries failed for 5 days (`WEBHOOK_DISABLE_AFTER`) without one success.
    Failing,
    /// Its endpoint never echoed the verification challenge.
    Unverified,
}

impl From<DisableReason> for DisabledReasonBody {
    fn from(reason: DisableReason) -> Self {
        match reason {
            DisableReason::Gone => Self::Gone,
            DisableReason::Failing => Self::Failing,
            DisableReason::Unverified => Self::Unverified,
        }
    }
}

/// A webhook endpoint. Its secret is shown only when it is registered.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookBody {
    /// Its id.
    pub id: Uuid,
    /// Where deliveries go.
    #[schema(example = "https://hooks.example.com/event-manager")]
    pub url: String,
    /// The kinds of change it receives; `null` for every kind.
    #[schema(example = json!(["invitation.created", "invitation.accepted"]))]
    pub events: Option<Vec<ChangeTypeBody>>,
    /// Whether it receives deliveries.
    pub status: WebhookStatusBody,
    /// Why not, when disabled.
    pub disabled_reason: Option<DisabledReasonBody>,
    /// When it was disabled.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub disabled_at: Option<DateTime<Utc>>,
    /// When its endpoint echoed the verification challenge; `null` while it has not.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub verified_at: Option<DateTime<Utc>>,
    /// When it was registered.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<&Webhook> for WebhookBody {
    fn from(webhook: &Webhook) -> Self {
        Self {
            id: webhook.id.as_uuid(),
            url: webhook.url.as_str().to_owned(),
            events: webhook
                .events
                .kinds()
                .map(|kinds| kinds.iter().copied().map(ChangeTypeBody::from).collect()),
            status: match webhook.status() {
                WebhookStatus::PendingVerification => WebhookStatusBody::PendingVerification,
                WebhookStatus::Active => WebhookStatusBody::Active,
                WebhookStatus::Disabled => WebhookStatusBody::Disabled,
            },
            disabled_reason: webhook.disabled.map(|d| d.reason.into()),
            disabled_at: webhook.disabled.map(|d| d.at),
            verified_at: webhook.verified_at,
            created_at: webhook.created_at,
        }
    }
}

impl From<Webhook> for WebhookBody {
    fn from(webhook: Webhook) -> Self {
        Self::from(&webhook)
    }
}

/// A webhook just registered, with its signing secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NewWebhook)]
pub struct NewWebhookBody {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: WebhookBody,
    /// Verify each delivery's `webhook-signature` with it (docs/api.md, "Verifying a delivery").
    /// Keep it secret; it is not shown again: `null` in a replay of the registration
    /// (`Idempotency-Key`), which never repeats it.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAbCdEfGhIjK=")]
    pub secret: Option<String>,
}

impl From<Webhook> for NewWebhookBody {
    fn from(webhook: Webhook) -> Self {
        Self {
            secret: Some(webhook.secret.expose().to_owned()),
            webhook: WebhookBody::from(&webhook),
        }
    }
}

impl NewWebhookBody {
    /// The same answer without the secret, for replays.
    pub fn without_secret(&self) -> Self {
        Self {
            webhook: self.webhook.clone(),
            secret: None,
        }
    }
}

/// The change a delivery carried.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeliveredChange)]
pub struct DeliveredChangeBody {
    /// The change's id: the `webhook-id` header and the body's `id`.
    #[schema(example = 42)]
    pub id: i64,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ChangeTypeBody,
}

/// What was decided after an attempt.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AttemptOutcome)]
pub enum AttemptOutcomeBody {
    /// Delivered (a `2xx`).
    Delivered,
    /// Failed; tried again at `next_attempt_at`.
    Retrying,
    /// Failed, and the retries ran out: no more attempts.
    GaveUp,
    /// Failed, and the webhook was disabled (a `410`, or 5 days of failures).
    Disabled,
}

/// One attempt to deliver a change to the webhook.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeliveryAttempt)]
pub struct AttemptBody {
    /// The attempt's id.
    pub id: Uuid,
    /// The delivery it belongs to: one per change and webhook, through all its attempts.
    pub delivery_id: Uuid,
    /// The change delivered.
    pub event: DeliveredChangeBody,
    /// 1 for a delivery's first attempt.
    #[schema(example = 1, minimum = 1)]
    pub attempt: u32,
    /// When it was made.
    #[serde(serialize_with = "timestamp")]
    pub attempted_at: DateTime<Utc>,
    /// The status the endpoint answered; `null` when it did not answer.
    #[schema(example = 200)]
    pub status_code: Option<u16>,
    /// How long it took.
    #[schema(example = 84)]
    pub duration_ms: u32,
    /// Why there was no answer (a timeout, a refused connection, a destination that is not
    /// public); `null` when the endpoint answered.
    pub error: Option<String>,
    /// The start of the answer's body (1,024 bytes at most).
    pub response_body: Option<String>,
    /// What was decided after it.
    pub outcome: AttemptOutcomeBody,
    /// When the next attempt is due, when retrying.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<Attempt> for AttemptBody {
    fn from(attempt: Attempt) -> Self {
        let (outcome, next_attempt_at) = match attempt.verdict {
            Verdict::Delivered => (AttemptOutcomeBody::Delivered, None),
            Verdict::RetryAt(at) => (AttemptOutcomeBody::Retrying, Some(at)),
            Verdict::GaveUp => (AttemptOutcomeBody::GaveUp, None),
            Verdict::Disable(_) => (AttemptOutcomeBody::Disabled, None),
        };
        Self {
            id: attempt.record.id.as_uuid(),
            delivery_id: attempt.delivery.as_uuid(),
            event: DeliveredChangeBody {
                id: attempt.change_id.0,
                kind: attempt.kind.into(),
            },
            attempt: attempt.record.number,
            attempted_at: attempt.record.at,
            status_code: attempt.record.status_code,
            duration_ms: attempt.record.duration_ms,
            error: attempt.record.error,
            response_body: attempt.record.response_body,
            outcome,
            next_attempt_at,
        }
    }
}
