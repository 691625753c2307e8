//! The fake's webhooks and delivery queue, keeping what the adapter's tables and transactions
//! keep: at most [`Webhook::MAX_PER_USER`] webhooks per owner; one delivery per (change, target);
//! the dispatch position moves only from where the caller read it, with the deliveries; a claim
//! holds a delivery until its lease ends; an attempt is stored only while its claim holds; a
//! disabled webhook's pending deliveries end; deleting a webhook deletes its deliveries and
//! attempts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{refused, stored, Store};
use crate::changes::ChangeId;
use crate::ports::PortError;
use crate::webhooks::delivery::{
    Attempt, AttemptRecord, CircuitBreaker, ClaimKind, ClaimShares, ClaimedDelivery, ClaimedTarget,
    DeliveryTarget, NewDelivery, Verdict,
};
use crate::webhooks::ports::{DeliveryQueue, StoreWebhookError, WebhookRepository};
use crate::webhooks::{Disabled, PendingVerification, VerificationOutcome, Webhook};
use crate::{DeliveryId, Page, PageRequest, UserId, WebhookId};

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Standing {
    Pending,
    Delivered,
    Failed,
}

/// A stored delivery.
#[derive(Clone, Debug)]
pub(super) struct StoredDelivery {
    new: NewDelivery,
    standing: Standing,
    attempts: u32,
    due: Option<DateTime<Utc>>,
    lease_until: Option<DateTime<Utc>>,
    claim: Option<uuid::Uuid>,
}

impl StoredDelivery {
    fn target_key(&self) -> Option<WebhookId> {
        match &self.new.target {
            DeliveryTarget::Webhook(id) => Some(*id),
            DeliveryTarget::Email(_) | DeliveryTarget::Sms(_) => None,
        }
    }

    fn in_flight(&self, now: DateTime<Utc>) -> bool {
        self.standing == Standing::Pending && self.lease_until.is_some_and(|until| until > now)
    }
}

/// The delivery queue's part of the state.
#[derive(Debug, Default)]
pub(super) struct Deliveries {
    webhooks: Vec<Webhook>,
    deliveries: Vec<StoredDelivery>,
    attempts: Vec<Attempt>,
    position: ChangeId,
    /// Each webhook's circuit breaker: unanswered attempts in a row, and until when it is open.
    breakers: std::collections::HashMap<WebhookId, (u32, Option<DateTime<Utc>>)>,
    /// Each pending webhook's verification: attempts made, when due, and its claim.
    verifications: std::collections::HashMap<WebhookId, Verifying>,
}

/// A webhook's verification under way.
#[derive(Debug, Default, Clone, Copy)]
struct Verifying {
    attempts: u32,
    due: Option<DateTime<Utc>>,
    claim: Option<(uuid::Uuid, DateTime<Utc>)>,
}

#[async_trait]
impl WebhookRepository for Store {
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreWebhookError> {
        let mut state = self.lock();
        if state.user(webhook.owner).is_none() {
            return Err(refused("a webhook of an unknown user").into());
        }
        let queue = &mut state.deliveries;
        let owned = queue
            .webhooks
            .iter()
            .filter(|w| w.owner == webhook.owner)
            .count();
        if owned >= Webhook::MAX_PER_USER as usize {
            return Err(StoreWebhookError::TooMany);
        }
        let mut webhook = webhook.clone();
        webhook.created_at = stored(webhook.created_at);
        if webhook.verified_at.is_none() && webhook.disabled.is_none() {
            queue.verifications.insert(
                webhook.id,
                Verifying {
                    due: Some(webhook.created_at),
                    ..Verifying::default()
                },
            );
        }
        queue.webhooks.push(webhook);
        Ok(())
    }

    async fn restart_verification(
        &self,
        id: WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Option<Webhook>, PortError> {
        let mut state = self.lock();
        let queue = &mut state.deliveries;
        let Some(webhook) = queue.webhooks.iter_mut().find(|w| w.id == id) else {
            return Ok(None);
        };
        let restartable = webhook.verified_at.is_none()
            && webhook
                .disabled
                .is_none_or(|d| d.reason == crate::webhooks::DisableReason::Unverified);
        let asked = queue
            .verifications
            .get(&id)
            .and_then(|v| v.claim)
            .is_some_and(|(_, lease)| lease > now);
        if restartable && !asked {
            webhook.disabled = None;
            queue.verifications.insert(
                id,
                Verifying {
                    due: Some(stored(now)),
                    ..Verifying::default()
                },
            );
        }
        Ok(Some(webhook.clone()))
    }

    async fn list_webhooks(
        &self,
        owner: UserId,
        page: PageRequest,
    ) -> Result<Page<Webhook>, PortError> {
        let state = self.lock();
        let mut rows: Vec<Webhook> = state
            .deliveries
            .webhooks
            .iter()
            .filter(|w| w.owner == owner)
            .filter(|w| page.after.is_none_or(|after| w.id.as_uuid() < after))
            .cloned()
            .collect();
        rows.sort_by_key(|w| std::cmp::Reverse(w.id));
        rows.truncate(page.limit.get() as usize + 1);
        Ok(Page::from_overfetched(rows, page.limit, |w| w.id.as_uuid()))
    }

    async fn find_webhook(&self, id: WebhookId) -> Result<Option<Webhook>, PortError> {
        Ok(self
            .lock()
            .deliveries
            .webhooks
            .iter()
            .find(|w| w.id == id)
            .cloned())
    }

    async fn delete_webhook(&self, id: WebhookId) -> Result<bool, PortError> {
        let mut state = self.lock();
        let queue = &mut state.deliveries;
        let before = queue.webhooks.len();
        queue.webhooks.retain(|w| w.id != id);
        if queue.webhooks.len() == before {
            return Ok(false);
        }
        let gone: Vec<DeliveryId> = queue
            .deliveries
            .iter()
            .filter(|d| d.target_key() == Some(id))
            .map(|d| d.new.id)
            .collect();
        queue.deliveries.retain(|d| d.target_key() != Some(id));
        queue.attempts.retain(|a| !gone.contains(&a.delivery));
        Ok(true)
    }

    async fn list_attempts(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> Result<Page<Attempt>, PortError> {
        let state = self.lock();
        let queue = &state.deliveries;
        let mine: Vec<DeliveryId> = queue
            .deliveries
            .iter()
            .filter(|d| d.target_key() == Some(webhook))
            .map(|d| d.new.id)
            .collect();
        let mut rows: Vec<Attempt> = queue
            .attempts
            .iter()
            .filter(|a| mine.contains(&a.delivery))
            .filter(|a| page.after.is_none_or(|after| a.record.id.as_uuid() < after))
            .cloned()
            .collect();
        rows.sort_by_key(|a| std::cmp::Reverse(a.record.id));
        rows.truncate(page.limit.get() as usize + 1);
        Ok(Page::from_overfetched(rows, page.limit, |a| {
            a.record.id.as_uuid()
        }))
    }
}

#[async_trait]
impl DeliveryQueue for Store {
    async fn dispatch_position(&self) -> Result<ChangeId, PortError> {
        Ok(self.lock().deliveries.position)
    }

    async fn webhooks_of(&self, owners: &[UserId]) -> Result<Vec<Webhook>, PortError> {
        Ok(self
            .lock()
            .deliveries
            .webhooks
            .iter()
            .filter(|w| w.disabled.is_none() && owners.contains(&w.owner))
            .cloned()
            .collect())
    }

    async fn enqueue(
        &self,
        from: ChangeId,
        to: ChangeId,
        deliveries: Vec<NewDelivery>,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        if state.deliveries.position != from {
            return Ok(false);
        }
        state.deliveries.position = to;
        let mut texts = Vec::new();
        for new in deliveries {
            if let Some(link) = &new.link {
                state.links.insert(link.hash.clone(), link.invitation_id);
            }
            let queue = &mut state.deliveries;
            // Texts go to the outbox's messages, as the database stores them.
            if let DeliveryTarget::Sms(to) = &new.target {
                texts.push(crate::messages::OutgoingMessage {
                    id: crate::MessageId::generate(),
                    recipient: crate::messages::Recipient::Sms(to.clone()),
                    purpose: "invitation",
                    subject: String::new(),
                    text: new.payload.clone(),
                    created_at: new.created_at,
                });
                continue;
            }
            if let DeliveryTarget::Webhook(id) = new.target {
                if !queue.webhooks.iter().any(|w| w.id == id) {
                    continue;
                }
            }
            let twin = queue
                .deliveries
                .iter()
                .any(|d| d.new.change_id == new.change_id && d.new.target == new.target);
            if twin {
                continue;
            }
            let due = Some(stored(new.created_at));
            queue.deliveries.push(StoredDelivery {
                new,
                standing: Standing::Pending,
                attempts: 0,
                due,
                lease_until: None,
                claim: None,
            });
        }
        state.messages.extend(texts);
        Ok(true)
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        shares: ClaimShares,
        kind: ClaimKind,
    ) -> Result<Vec<ClaimedDelivery>, PortError> {
        let mut state = self.lock();
        let queue = &mut state.deliveries;
        let owner_of = |queue: &Deliveries, key: Option<WebhookId>| {
            key.and_then(|id| queue.webhooks.iter().find(|w| w.id == id).map(|w| w.owner))
        };
        let mut order: Vec<usize> = (0..queue.deliveries.len())
            .filter(|&i| {
                let d = &queue.deliveries[i];
                d.standing == Standing::Pending
                    && d.due.is_some_and(|due| due <= now)
                    && !d.in_flight(now)
                    && match (d.target_key(), kind) {
                        (Some(id), ClaimKind::Webhooks) => {
                            let active = queue.webhooks.iter().any(|w| {
                                w.id == id && w.status() == crate::webhooks::WebhookStatus::Active
                            });
                            let open = queue
                                .breakers
                                .get(&id)
                                .and_then(|(_, until)| *until)
                                .is_some_and(|until| until > now);
                            active
                                && !open
                                && queue
                                    .webhooks
                                    .iter()
                                    .any(|w| w.id == id && w.disabled.is_none())
                        }
                        (None, ClaimKind::Emails) => true,
                        _ => false,
                    }
            })
            .collect();
        order.sort_by_key(|&i| (queue.deliveries[i].due, queue.deliveries[i].new.id));
        // Turns among owners: each owner's oldest first, then each one's next, and so on.
        let mut turns: Vec<(usize, usize)> = Vec::new();
        let mut seen: std::collections::HashMap<Option<UserId>, usize> = Default::default();
        for i in order {
            let owner = owner_of(queue, queue.deliveries[i].target_key());
            let turn = seen.entry(owner).or_insert(0);
            turns.push((*turn, i));
            *turn += 1;
        }
        turns.sort_by_key(|(turn, _)| *turn);
        let order: Vec<usize> = turns.into_iter().map(|(_, i)| i).collect();
        let mut claimed = Vec::new();
        for i in order {
            if claimed.len() >= limit as usize {
                break;
            }
            let key = queue.deliveries[i].target_key();
            let busy = queue
                .deliveries
                .iter()
                .filter(|d| d.target_key() == key && d.in_flight(now))
                .count();
            if busy >= shares.per_target as usize {
                continue;
            }
            if let Some(owner) = owner_of(queue, key) {
                let owned = queue
                    .deliveries
                    .iter()
                    .filter(|d| d.in_flight(now) && owner_of(queue, d.target_key()) == Some(owner))
                    .count();
                if owned >= shares.per_owner as usize {
                    continue;
                }
            }
            let claim = uuid::Uuid::now_v7();
            let delivery = &mut queue.deliveries[i];
            delivery.lease_until = Some(stored(lease_until));
            delivery.claim = Some(claim);
            let target = match &delivery.new.target {
                DeliveryTarget::Webhook(id) => ClaimedTarget::Webhook(
                    queue
                        .webhooks
                        .iter()
                        .find(|w| w.id == *id)
                        .cloned()
                        .ok_or_else(|| refused("a delivery of an unknown webhook"))?,
                ),
                DeliveryTarget::Email(to) => ClaimedTarget::Email(to.clone()),
                DeliveryTarget::Sms(_) => return Err(refused("a text among the deliveries")),
            };
            claimed.push(ClaimedDelivery {
                id: delivery.new.id,
                claim,
                change_id: delivery.new.change_id,
                kind: delivery.new.kind,
                attempts: delivery.attempts,
                payload: delivery.new.payload.clone(),
                target,
            });
        }
        Ok(claimed)
    }

    async fn claim_verifications(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingVerification>, PortError> {
        let mut state = self.lock();
        let queue = &mut state.deliveries;
        let mut due: Vec<(DateTime<Utc>, WebhookId)> = queue
            .verifications
            .iter()
            .filter(|(_, v)| v.due.is_some_and(|due| due <= now))
            .filter(|(_, v)| v.claim.is_none_or(|(_, lease)| lease <= now))
            .filter_map(|(id, v)| Some((v.due?, *id)))
            .collect();
        due.sort();
        let mut claimed = Vec::new();
        for (_, id) in due.into_iter().take(limit as usize) {
            let Some(webhook) = queue.webhooks.iter().find(|w| w.id == id) else {
                continue;
            };
            if webhook.disabled.is_some() {
                continue;
            }
            let claim = uuid::Uuid::now_v7();
            let verifying = queue.verifications.entry(id).or_default();
            verifying.claim = Some((claim, stored(lease_until)));
            claimed.push(PendingVerification {
                webhook: webhook.clone(),
                attempts: verifying.attempts,
                claim,
            });
        }
        Ok(claimed)
    }

    async fn record_verification(
        &self,
        claimed: &PendingVerification,
        outcome: VerificationOutcome,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let queue = &mut state.deliveries;
        let id = claimed.webhook.id;
        let holds = queue
            .verifications
            .get(&id)
            .and_then(|v| v.claim)
            .is_some_and(|(claim, _)| claim == claimed.claim);
        if !holds {
            return Ok(false);
        }
        let Some(webhook) = queue.webhooks.iter_mut().find(|w| w.id == id) else {
            return Ok(false);
        };
        match outcome {
            VerificationOutcome::Verified { at, from } => {
                webhook.verified_at = Some(stored(at));
                webhook.starts_after = webhook.starts_after.max(from);
                queue.verifications.remove(&id);
            }
            VerificationOutcome::RetryAt(at) => {
                let verifying = queue.verifications.entry(id).or_default();
                verifying.attempts += 1;
                verifying.due = Some(stored(at));
                verifying.claim = None;
            }
            VerificationOutcome::GaveUp(at) => {
                webhook.disabled = Some(Disabled {
                    at: stored(at),
                    reason: crate::webhooks::DisableReason::Unverified,
                });
                queue.verifications.remove(&id);
            }
        }
        Ok(true)
    }

    async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &AttemptRecord,
        verdict: Verdict,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let queue = &mut state.deliveries;
        let Some(index) = queue.deliveries.iter().position(|d| {
            d.new.id == delivery.id
                && d.claim == Some(delivery.claim)
                && d.standing == Standing::Pending
        }) else {
            return Ok(false);
        };
        let at = stored(attempt.at);
        let stored_delivery = &mut queue.deliveries[index];
        stored_delivery.attempts = attempt.number;
        stored_delivery.claim = None;
        stored_delivery.lease_until = None;
        let webhook = stored_delivery.target_key();
        match verdict {
            Verdict::Delivered => stored_delivery.standing = Standing::Delivered,
            Verdict::RetryAt(when) => stored_delivery.due = Some(stored(when)),
            Verdict::GaveUp | Verdict::Disable(_) => stored_delivery.standing = Standing::Failed,
        }
        if stored_delivery.standing != Standing::Pending {
            stored_delivery.due = None;
        }
        let mut record = attempt.clone();
        record.at = at;
        queue.attempts.push(Attempt {
            delivery: delivery.id,
            change_id: delivery.change_id,
            kind: delivery.kind,
            record,
            verdict,
        });
        if let Some(id) = webhook {
            let breaker = queue.breakers.entry(id).or_default();
            let end = at + chrono::Duration::milliseconds(i64::from(attempt.duration_ms));
            if attempt.status_code.is_some() {
                *breaker = (0, None);
            } else if breaker.1.is_none_or(|until| until <= end) {
                // Attempts in flight when the breaker opened count for nothing.
                let unanswered = breaker.0 + 1;
                *breaker = (
                    unanswered,
                    CircuitBreaker::pause(unanswered).map(|pause| end + pause),
                );
            }
            if let Some(w) = queue.webhooks.iter_mut().find(|w| w.id == id) {
                match verdict {
                    Verdict::Delivered => w.failing_since = None,
                    _ => w.failing_since = w.failing_since.or(Some(at)),
                }
                if let Verdict::Disable(reason) = verdict {
                    w.disabled = w.disabled.or(Some(Disabled { at, reason }));
                    for other in &mut queue.deliveries {
                        if other.target_key() == Some(id) && other.standing == Standing::Pending {
                            other.standing = Standing::Failed;
                            other.due = None;
                        }
                    }
                }
            }
        }
        Ok(true)
    }

    async fn purge_deliveries(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let mut state = self.lock();
        let queue = &mut state.deliveries;
        let old: Vec<DeliveryId> = queue
            .deliveries
            .iter()
            .filter(|d| d.standing != Standing::Pending && d.new.created_at < before)
            .take(batch as usize)
            .map(|d| d.new.id)
            .collect();
        queue.deliveries.retain(|d| !old.contains(&d.new.id));
        queue.attempts.retain(|a| !old.contains(&a.delivery));
        Ok(old.len() as u64)
    }
}
