//! Asking an endpoint to verify (docs/api.md, "Verifying an endpoint"): the claims of webhooks due
//! to be asked and the signed challenge.

use super::*;

impl DeliveryService {
    /// Claims up to `limit` webhooks whose endpoint is due to be asked to verify, under a lease
    /// of [`DeliveryLimits::lease`].
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn claim_verifications(
        &self,
        limit: u32,
    ) -> Result<Vec<PendingVerification>, PortError> {
        let now = self.clock.now();
        self.queue
            .claim_verifications(now, now + self.limits.lease, limit)
            .await
    }

    /// Asks a claimed webhook's endpoint to verify (docs/api.md, "Verifying an endpoint"): a
    /// `POST` of a fresh challenge, signed like a delivery with the webhook's secret. Echoed: the
    /// webhook is active. Not: asked again on the retry schedule (`jitter` in `[-1, 1]`), and
    /// disabled as `unverified` past its end. Returns the outcome and whether it was recorded.
    ///
    /// # Errors
    /// [`PortError`] when the outcome cannot be stored; the claim then runs out and the endpoint
    /// is asked again.
    pub async fn verify(
        &self,
        pending: &PendingVerification,
        jitter: f64,
    ) -> Result<(VerificationOutcome, bool), PortError> {
        let challenge = Challenge::generate();
        let started = self.clock.now();
        // Its own id each time: receivers deduplicate on `webhook-id`.
        let message_id = format!("verify_{}", uuid::Uuid::now_v7().simple());
        let timestamp = started.timestamp();
        let body = challenge.body();
        let request = WebhookRequest {
            url: pending.webhook.url.clone(),
            signature: pending.webhook.secret.sign(&message_id, timestamp, &body),
            message_id,
            timestamp,
            body,
        };
        let echoed = match self.sender.send(&request).await {
            WebhookResponse::Answered { status, body, .. } => challenge.echoed(status, &body),
            WebhookResponse::Failed { .. } => false,
        };
        let now = self.clock.now();
        let outcome = if echoed {
            VerificationOutcome::Verified {
                at: now,
                from: self.feed.latest().await?,
            }
        } else {
            match self.policy.schedule.get(pending.attempts as usize) {
                Some(wait) => {
                    let spread = (wait.num_milliseconds() as f64 * self.policy.jitter * jitter)
                        .round() as i64;
                    VerificationOutcome::RetryAt(now + *wait + Duration::milliseconds(spread))
                }
                None => VerificationOutcome::GaveUp(now),
            }
        };
        let recorded = self.queue.record_verification(pending, outcome).await?;
        Ok((outcome, recorded))
    }
}
