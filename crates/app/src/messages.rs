//! The message worker (docs/operations.md, "Messages"): one per process, it sends the outbox's
//! messages (codes, invitation texts) through the mail server and the SMS gateway, so that a
//! request never waits for either.
//!
//! Each turn claims as many due messages as there are free slots and attempts each in its own
//! task; a turn starts every [`POLL`] or when an attempt ends. Bounded: at most `concurrency`
//! attempts at once, each bounded by the mailer's or the gateway's timeout. Several processes on
//! one database share the outbox: a claim holds a message for one of them until its lease runs
//! out.

use std::time::Duration;

use domain::messages::ports::{ClaimedMessage, MessageVerdict};
use domain::messages::MessageService;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The longest the worker waits between turns when nothing wakes it: how late a code may leave.
pub const POLL: Duration = Duration::from_millis(500);

/// How long a stopping worker lets the attempts under way finish.
const DRAIN: Duration = Duration::from_secs(20);

/// The running worker.
#[derive(Debug)]
pub struct MessageWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MessageWorker {
    /// Starts the loop on the current tokio runtime, with at most `concurrency` (at least 1)
    /// attempts at once.
    pub fn start(service: MessageService, concurrency: usize) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(service, concurrency.max(1), stopped));
        Self { stop, task }
    }

    /// Stops claiming, lets the attempts under way finish (up to [`DRAIN`]), and ends.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        tracing::info!("message worker stopped");
    }
}

async fn run(service: MessageService, concurrency: usize, mut stop: watch::Receiver<bool>) {
    let mut attempts: JoinSet<()> = JoinSet::new();
    tracing::info!(concurrency, "message worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        while attempts.try_join_next().is_some() {}
        let free = concurrency.saturating_sub(attempts.len());
        if free > 0 {
            match service.claim(u32::try_from(free).unwrap_or(u32::MAX)).await {
                Ok(claimed) => {
                    for message in claimed {
                        attempts.spawn(attempt(service.clone(), message));
                    }
                }
                Err(error) => tracing::warn!(%error, "claiming messages failed; retrying"),
            }
        }
        tokio::select! {
            _ = stop.changed() => {}
            Some(_) = attempts.join_next(), if !attempts.is_empty() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
    let drained = tokio::time::timeout(DRAIN, async {
        while attempts.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            attempts = attempts.len(),
            "message attempts still under way were cut off; they are made again once their claims run out"
        );
        attempts.shutdown().await;
    }
}

/// One attempt, with its outcome logged and counted.
async fn attempt(service: MessageService, message: ClaimedMessage) {
    let channel = match &message.recipient {
        domain::messages::Recipient::Email(_) => "email",
        domain::messages::Recipient::Sms(_) => "sms",
    };
    let jitter = rand::random::<f64>() * 2.0 - 1.0;
    match service.attempt(&message, jitter).await {
        Ok(done) => {
            let outcome = match done.verdict {
                MessageVerdict::Sent => "sent",
                MessageVerdict::RetryAt(_) => "retry",
                MessageVerdict::Failed => "failed",
            };
            metrics::counter!("messages_attempted_total", "channel" => channel, "outcome" => outcome)
                .increment(1);
            match done.verdict {
                MessageVerdict::Sent => {
                    tracing::info!(message_id = %message.id, channel, "message sent");
                }
                _ => tracing::warn!(
                    message_id = %message.id,
                    channel,
                    outcome,
                    error = done.error.as_deref().unwrap_or(""),
                    "message not sent"
                ),
            }
        }
        Err(error) => {
            tracing::warn!(%error, message_id = %message.id, "recording a message attempt failed")
        }
    }
}
