//! The delivery worker (docs/operations.md, "Webhook and email delivery"): one per process, it runs
//! the domain's [`DeliveryService`] in a loop, so that every change reaches the webhooks and the
//! invitees' email it should, from whichever process has room.
//!
//! Each turn: dispatch the changes numbered since the last dispatch (into deliveries, once, under
//! the shared dispatch position), then claim as many due deliveries as there are free slots and
//! attempt each in its own task. A turn starts when changes may have been committed (the feed's
//! watch) or every [`POLL`] (retries falling due, other processes' changes), at most one every
//! [`COALESCE`]; when an attempt ends, the turn only claims into the freed slots. Bounded: at most
//! `concurrency` attempts at once, each bounded by the sender's or the mailer's timeout. Fair: emails have slots of their own (a
//! quarter, at least one), which webhooks never take; the claims' shares keep any one endpoint,
//! and any one owner's webhooks, to a part of the slots, owners take turns, and an endpoint that
//! stops answering is paused by its circuit breaker, so that one user's slow endpoints cannot hold
//! up the others' webhooks or anyone's email.

use std::time::Duration;

use domain::webhooks::delivery::{ClaimKind, ClaimedDelivery, ClaimedTarget, Verdict};
use domain::webhooks::DeliveryService;
use domain::webhooks::{PendingVerification, VerificationOutcome};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The longest the worker waits between turns when nothing wakes it.
pub const POLL: Duration = Duration::from_secs(1);

/// The shortest time between the starts of two turns that dispatch (a turn reads a backlog whole
/// batch after whole batch). A commit after a quiet spell starts one at once; commits that come faster (a busy API: each sent invitation, answer or edit
/// is one, and the sequencer's notice of them another) share a turn, so that the worker's own
/// statements (numbering, dispatch, claims) are bounded by the clock, not by the request rate:
/// without this each of them ran once or twice a commit, which cost PostgreSQL more than the
/// request itself (docs/performance.md, "The writes against their ceilings"). Adds at most this
/// much to a delivery's lag, and only under load.
const COALESCE: Duration = Duration::from_millis(20);

/// How long a stopping worker lets the attempts under way finish: longer than an attempt may take
/// (15 s by default). Attempts cut off keep their claim until its lease runs out, and are then
/// made again, by this process after a restart or by another.
const DRAIN: Duration = Duration::from_secs(20);

/// The running worker.
#[derive(Debug)]
pub struct DeliveryWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl DeliveryWorker {
    /// Starts the loop on the current tokio runtime, with at most `concurrency` (at least 1)
    /// attempts at once.
    pub fn start(service: DeliveryService, concurrency: usize) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(service, concurrency.max(1), stopped));
        Self { stop, task }
    }

    /// Stops claiming, lets the attempts under way finish (up to [`DRAIN`]), and ends.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        tracing::info!("delivery worker stopped");
    }
}

/// What started a turn of the loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// The first turn, changes committed, or the poll: dispatch, then claim.
    Look,
    /// An attempt of this kind ended: claim into the slots that freed (there is nothing new to
    /// dispatch).
    SlotFreed(ClaimKind),
}

async fn run(service: DeliveryService, concurrency: usize, mut stop: watch::Receiver<bool>) {
    // Made before the first turn, so that no commit after it goes unnoticed.
    let mut commits = service.watch();
    let (webhook_slots, email_slots) = slots(concurrency, service.sends_email());
    let mut hooks: JoinSet<()> = JoinSet::new();
    let mut emails: JoinSet<()> = JoinSet::new();
    let mut wake = Wake::Look;
    let mut last_look: Option<tokio::time::Instant> = None;
    tracing::info!(
        concurrency,
        webhook_slots,
        email_slots,
        "delivery worker started"
    );
    loop {
        if *stop.borrow() {
            break;
        }
        if wake == Wake::Look {
            if let Some(wait) = last_look.and_then(|at| COALESCE.checked_sub(at.elapsed())) {
                tokio::select! {
                    _ = stop.changed() => continue,
                    () = tokio::time::sleep(wait) => {}
                }
            }
            last_look = Some(tokio::time::Instant::now());
            dispatch(&service, &stop).await;
            // A stop that came during the dispatch claims nothing more.
            if *stop.borrow() {
                break;
            }
        }
        // Every attempt that has ended by now frees its slot before the claim, so that one claim
        // fills them all (attempts to a fast endpoint end in bursts).
        // Endpoints due to be asked to verify take webhook slots first: each is one request. Looked
        // for on the turns that dispatch (commits, the poll), not after each attempt.
        while hooks.try_join_next().is_some() {}
        let free = webhook_slots.saturating_sub(hooks.len());
        if free > 0 && wake == Wake::Look {
            match service
                .claim_verifications(u32::try_from(free).unwrap_or(u32::MAX))
                .await
            {
                Ok(claimed) => {
                    for pending in claimed {
                        hooks.spawn(verify(service.clone(), pending));
                    }
                }
                Err(error) => tracing::warn!(%error, "claiming verifications failed; retrying"),
            }
        }
        for (kind, pool, slots) in [
            (ClaimKind::Webhooks, &mut hooks, webhook_slots),
            (ClaimKind::Emails, &mut emails, email_slots),
        ] {
            while pool.try_join_next().is_some() {}
            let free = slots.saturating_sub(pool.len());
            // After an attempt, only its own pool has new room.
            let freed = matches!(wake, Wake::Look) || wake == Wake::SlotFreed(kind);
            if free == 0 || !freed {
                continue;
            }
            match service
                .claim(kind, u32::try_from(free).unwrap_or(u32::MAX))
                .await
            {
                Ok(claimed) => {
                    for delivery in claimed {
                        pool.spawn(attempt(service.clone(), delivery));
                    }
                }
                Err(error) => tracing::warn!(%error, "claiming deliveries failed; retrying"),
            }
        }
        wake = tokio::select! {
            _ = stop.changed() => Wake::Look,
            () = commits.changed() => Wake::Look,
            Some(_) = hooks.join_next(), if !hooks.is_empty() => Wake::SlotFreed(ClaimKind::Webhooks),
            Some(_) = emails.join_next(), if !emails.is_empty() => Wake::SlotFreed(ClaimKind::Emails),
            () = tokio::time::sleep(POLL) => Wake::Look,
        };
    }
    let left = hooks.len() + emails.len();
    if left > 0 {
        tracing::info!(
            attempts = left,
            "delivery worker stopping: attempts under way finish"
        );
    }
    let drained = tokio::time::timeout(DRAIN, async {
        while hooks.join_next().await.is_some() {}
        while emails.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            attempts = hooks.len() + emails.len(),
            "attempts still under way were cut off; they are made again once their claims run out"
        );
        hooks.shutdown().await;
        emails.shutdown().await;
    }
}

/// The slots of the webhooks' pool and of the emails' own: a quarter for emails (at least one)
/// when this process sends email, none otherwise; the webhooks at least one.
fn slots(concurrency: usize, email: bool) -> (usize, usize) {
    let concurrency = concurrency.max(1);
    if !email {
        return (concurrency, 0);
    }
    let emails = (concurrency / 4).max(1);
    ((concurrency - emails).max(1), emails)
}

/// Dispatches until caught up (a read of less than a batch), told to stop, or a failure (retried
/// next turn).
async fn dispatch(service: &DeliveryService, stop: &watch::Receiver<bool>) {
    // A stop is looked for between batches, so that a backlog (changes staged faster than they
    // are dispatched, or a long outage caught up) never holds up a graceful shutdown: the dispatch
    // position is shared and stored, and whichever process runs next goes on from it.
    while !*stop.borrow() {
        match service.dispatch().await {
            Ok(done) if done.changes > 0 => {
                metrics::counter!("deliveries_made_total").increment(done.deliveries as u64);
                if done.deliveries > 0 {
                    tracing::debug!(
                        changes = done.changes,
                        deliveries = done.deliveries,
                        "deliveries made"
                    );
                }
                // Less than a batch: caught up as of the read. What committed since is the next
                // turn's (woken by its commit, at most one turn every `COALESCE`), not chased
                // here one commit at a time.
                if !done.more {
                    return;
                }
            }
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, "dispatching changes to deliveries failed; retrying");
                return;
            }
        }
    }
}

/// One verification of an endpoint, with its outcome logged and counted.
async fn verify(service: DeliveryService, pending: PendingVerification) {
    let jitter = rand::random::<f64>() * 2.0 - 1.0;
    let webhook = pending.webhook.id;
    match service.verify(&pending, jitter).await {
        Ok((outcome, recorded)) => {
            let name = match outcome {
                VerificationOutcome::Verified { .. } => "verified",
                VerificationOutcome::RetryAt(_) => "retry",
                VerificationOutcome::GaveUp(_) => "gave_up",
            };
            metrics::counter!("webhook_verifications_total", "outcome" => name).increment(1);
            match outcome {
                VerificationOutcome::Verified { .. } => {
                    tracing::info!(%webhook, "webhook endpoint verified");
                }
                VerificationOutcome::RetryAt(at) => tracing::info!(
                    %webhook, attempt = pending.attempts + 1, retry_at = %at,
                    "webhook endpoint did not echo the challenge; will ask again"
                ),
                VerificationOutcome::GaveUp(_) => tracing::warn!(
                    %webhook, "webhook endpoint never verified; disabled"
                ),
            }
            if !recorded {
                tracing::warn!(%webhook, "a verification outlived its claim");
            }
        }
        Err(error) => tracing::warn!(
            %error, %webhook,
            "a verification could not be stored; it is made again once its claim runs out"
        ),
    }
}

/// One attempt, with its outcome logged and counted.
async fn attempt(service: DeliveryService, delivery: ClaimedDelivery) {
    let (channel, target) = match &delivery.target {
        ClaimedTarget::Webhook(webhook) => ("webhook", webhook.id.to_string()),
        // The address is the invitee's: logged by delivery id only.
        ClaimedTarget::Email(_) => ("email", String::new()),
    };
    let jitter = rand::random::<f64>() * 2.0 - 1.0;
    let started = std::time::Instant::now();
    let attempted = service.attempt(&delivery, jitter).await;
    metrics::histogram!("delivery_attempt_duration_seconds", "channel" => channel)
        .record(started.elapsed().as_secs_f64());
    match attempted {
        Ok(attempted) => {
            let outcome = match attempted.verdict {
                Verdict::Delivered => "delivered",
                Verdict::RetryAt(_) => "retry",
                Verdict::GaveUp => "gave_up",
                Verdict::Disable(_) => "disabled",
            };
            metrics::counter!("delivery_attempts_total", "channel" => channel, "outcome" => outcome)
                .increment(1);
            let status = attempted.status_code.map(i64::from).unwrap_or(-1);
            match attempted.verdict {
                Verdict::Delivered => tracing::debug!(
                    channel, target, delivery = %delivery.id, change = delivery.change_id.0,
                    attempt = delivery.attempts + 1, status, "delivered"
                ),
                Verdict::RetryAt(at) => tracing::info!(
                    channel, target, delivery = %delivery.id, change = delivery.change_id.0,
                    attempt = delivery.attempts + 1, status, retry_at = %at,
                    "delivery failed; will retry"
                ),
                Verdict::GaveUp => tracing::warn!(
                    channel, target, delivery = %delivery.id, change = delivery.change_id.0,
                    attempt = delivery.attempts + 1, status, "delivery failed; gave up"
                ),
                Verdict::Disable(reason) => tracing::warn!(
                    channel, target, delivery = %delivery.id, reason = reason.as_str(),
                    "webhook disabled"
                ),
            }
            if !attempted.recorded {
                tracing::warn!(
                    delivery = %delivery.id,
                    "an attempt outlived its claim; another worker has the delivery"
                );
            }
        }
        Err(error) => tracing::warn!(
            %error, delivery = %delivery.id,
            "a delivery attempt could not be stored; it is made again once its claim runs out"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
    use std::sync::Arc;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use domain::changes::ports::{ChangeFeed, CommitWatch};
    use domain::changes::{AddressedChange, ChangeId, FeedRead, RecordedChange};
    use domain::ports::PortError;
    use domain::testing::{FakeSender, FixedClock, Store};
    use domain::webhooks::delivery::RetryPolicy;
    use domain::webhooks::ports::ChangeRenderer;
    use domain::webhooks::{DeliveryLimits, DeliveryService};
    use domain::UserId;

    use super::{slots, DeliveryWorker, COALESCE};

    /// A feed that is never caught up: each read takes `pause` and moves `step` changes further
    /// (500, the service's whole batch: a backlog larger than a stop can wait for; 1: a trickle,
    /// never a whole batch, as under a steady stream of requests), counting its reads. Its commits
    /// are the test's, or none.
    struct MovingFeed {
        step: i64,
        pause: std::time::Duration,
        read_up_to: AtomicI64,
        reads: AtomicUsize,
        commits: Option<tokio::sync::watch::Receiver<u64>>,
    }

    impl MovingFeed {
        fn new(
            step: i64,
            pause: std::time::Duration,
            commits: Option<tokio::sync::watch::Receiver<u64>>,
        ) -> Arc<Self> {
            Arc::new(Self {
                step,
                pause,
                read_up_to: AtomicI64::new(0),
                reads: AtomicUsize::new(0),
                commits,
            })
        }

        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl ChangeFeed for MovingFeed {
        async fn list_for(
            &self,
            _: UserId,
            after: ChangeId,
            _: u32,
        ) -> Result<FeedRead<RecordedChange>, PortError> {
            Ok(FeedRead {
                changes: Vec::new(),
                read_up_to: after,
            })
        }

        async fn addressed_after(
            &self,
            after: ChangeId,
            _: u32,
        ) -> Result<FeedRead<AddressedChange>, PortError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.pause).await;
            let read_up_to = ChangeId(after.0 + self.step);
            self.read_up_to.store(read_up_to.0, Ordering::SeqCst);
            Ok(FeedRead {
                changes: Vec::new(),
                read_up_to,
            })
        }

        async fn latest(&self) -> Result<ChangeId, PortError> {
            Ok(ChangeId(self.read_up_to.load(Ordering::SeqCst)))
        }

        async fn purge_older_than(&self, _: DateTime<Utc>, _: u32) -> Result<u64, PortError> {
            Ok(0)
        }

        fn watch(&self) -> Box<dyn CommitWatch> {
            Box::new(Commits(self.commits.clone()))
        }
    }

    /// The test's commits, or (`None`) a watch that never wakes.
    struct Commits(Option<tokio::sync::watch::Receiver<u64>>);

    #[async_trait]
    impl CommitWatch for Commits {
        async fn changed(&mut self) {
            if let Some(commits) = &mut self.0 {
                if commits.changed().await.is_ok() {
                    return;
                }
            }
            std::future::pending::<()>().await;
        }
    }

    struct Renderer;

    impl ChangeRenderer for Renderer {
        fn render(&self, change: &RecordedChange) -> String {
            change.id.0.to_string()
        }
    }

    /// A worker of 4 slots dispatching `feed`, with no webhooks and no mailer.
    fn worker_over(feed: Arc<MovingFeed>) -> DeliveryWorker {
        let service = DeliveryService::new(
            feed,
            Arc::new(Store::default()),
            Arc::new(Renderer),
            Arc::new(FakeSender::default()),
            None,
            Arc::new(FixedClock::default()),
            RetryPolicy::default(),
            DeliveryLimits::default(),
        );
        DeliveryWorker::start(service, 4)
    }

    #[tokio::test]
    async fn a_stop_is_not_held_up_by_a_backlog_of_changes_to_dispatch() {
        let feed = MovingFeed::new(500, std::time::Duration::from_millis(20), None);
        let worker = worker_over(feed.clone());
        // Well into the backlog: it has dispatched batch after batch by now.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let dispatched = feed.read_up_to.load(Ordering::SeqCst) / 500;
        assert!(dispatched >= 3, "dispatching ({dispatched} batches)");
        let stopped = tokio::time::timeout(std::time::Duration::from_secs(2), worker.stop()).await;
        assert!(stopped.is_ok(), "the worker stopped between two batches");
    }

    #[tokio::test(start_paused = true)]
    async fn commits_faster_than_the_coalescing_delay_share_turns() {
        let (commits, watched) = tokio::sync::watch::channel(0u64);
        let feed = MovingFeed::new(1, std::time::Duration::from_millis(1), Some(watched));
        let worker = worker_over(feed.clone());
        // The first turn, then quiet past the coalescing delay.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let before = feed.reads();
        // A commit after a quiet spell is dispatched at once.
        commits.send_modify(|n| *n += 1);
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        assert_eq!(
            feed.reads(),
            before + 1,
            "dispatched at once (before {before})"
        );
        // 100 commits, one a millisecond: 100 ms, at most one turn every COALESCE, each of one
        // read (less than a batch: the turn does not chase what committed since).
        for _ in 0..100 {
            commits.send_modify(|n| *n += 1);
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        tokio::time::sleep(COALESCE * 2).await;
        let turns = feed.reads() - before - 1;
        assert!((2..=8).contains(&turns), "{turns} turns for 100 commits");
        worker.stop().await;
    }

    #[test]
    fn emails_keep_a_quarter_of_the_slots_and_each_pool_at_least_one() {
        assert_eq!(slots(32, true), (24, 8));
        assert_eq!(slots(32, false), (32, 0));
        assert_eq!(slots(2, true), (1, 1));
        assert_eq!(slots(1, true), (1, 1));
        assert_eq!(slots(0, false), (1, 0));
    }
}
