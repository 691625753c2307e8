//! Background upkeep of the database: operations, not domain rules (docs/operations.md, "Token
//! purge").

use std::sync::Arc;
use std::time::Duration;

use adapters_diesel::Database;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a revoked (logged-out) token is kept before the purge deletes it: long enough to look
/// into a recent logout, and it can no longer authenticate meanwhile.
pub const REVOKED_TOKENS_KEPT: chrono::Duration = chrono::Duration::days(1);

/// The running token purge: every interval (the first run at once), deletes expired tokens and
/// tokens revoked more than [`REVOKED_TOKENS_KEPT`] ago, and logs how many.
#[derive(Debug)]
pub struct TokenPurge {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TokenPurge {
    /// Starts purging every `interval` on the current tokio runtime.
    pub fn start(database: Arc<Database>, interval: Duration) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(database, interval, stopped));
        Self { stop, task }
    }

    /// Stops it: a purge under way finishes its current batch (one short statement, bounded by
    /// the statement timeout) and starts no other; then the task ends.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        tracing::info!("token purge stopped");
    }
}

async fn run(database: Arc<Database>, interval: Duration, mut stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => return,
        }
        let now = chrono::Utc::now();
        let mut purged = 0;
        // Batch after batch until one comes back short, checking for shutdown between them.
        while !*stopped.borrow() {
            let batch = Database::PURGE_BATCH;
            match database
                .purge_tokens(now, now - REVOKED_TOKENS_KEPT, batch)
                .await
            {
                Ok(deleted) => {
                    purged += deleted;
                    if deleted < batch.unsigned_abs() {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(error = %error, purged, "token purge failed; retried next interval");
                    break;
                }
            }
        }
        tracing::info!(purged, "expired and revoked tokens purged");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn it_stops_at_once_between_runs() {
        let database = adapters_diesel::testing::TestDatabase::sqlite();
        let purge = TokenPurge::start(Arc::new(database.open()), Duration::from_secs(3600));
        tokio::time::sleep(Duration::from_millis(200)).await; // the first run is done
        let started = Instant::now();
        purge.stop().await;
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
