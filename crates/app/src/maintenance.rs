//! Background upkeep of the database: operations, not domain rules (docs/operations.md, "Token
//! purge", "Invitation expiry", "Idempotency key purge", and "Abuse limits and the client
//! address" for the counters kept in PostgreSQL).

use std::sync::Arc;
use std::time::Duration;

use adapters_diesel::Database;
use domain::changes::ports::{ChangeFeed, TicketRepository};
use domain::events::ports::EventRepository;
use domain::idempotency::ports::IdempotencyStore;
use domain::invitations::ports::InvitationRepository;
use domain::links::ports::InvitationLinks;
use domain::messages::ports::MessageOutbox;
use domain::ports::PortError;
use domain::reminders::ports::ReminderRepository;
use domain::webhooks::ports::DeliveryQueue;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a revoked (logged-out) token is kept before the purge deletes it: long enough to look
/// into a recent logout, and it can no longer authenticate meanwhile.
pub const REVOKED_TOKENS_KEPT: chrono::Duration = chrono::Duration::days(1);

/// One upkeep job of the database, run by a [`PeriodicTask`] every interval, the first run at
/// once. Each deletes (or marks) in batches of [`Database::PURGE_BATCH`] until one comes back
/// short, and logs how many rows it touched. Several processes may run each at once.
#[derive(Clone, Copy, Debug)]
pub enum Purge {
    /// Deletes expired tokens and tokens revoked more than [`REVOKED_TOKENS_KEPT`] ago.
    Tokens,
    /// Deletes the abuse limits' counted events (kept in PostgreSQL; docs/operations.md, "Abuse
    /// limits and the client address") older than `window`, which no limit counts any more.
    Counters {
        /// The limits' window.
        window: Duration,
    },
    /// The invitation sweeper (docs/operations.md, "Invitation expiry"): marks `expired` the
    /// pending invitations whose expiry has passed. Their status reads `expired` from their
    /// expiry on whether or not the sweeper has run (the domain's rule); the sweeper keeps the
    /// stored rows in step, so that the `status` index and the partial unique index see them as
    /// they are. Each row changes while still pending only, so none is counted twice and none
    /// answered or cancelled first is touched.
    Invitations,
    /// The reminder sweeper (docs/operations.md, "Reminders"): sends the reminders due, each once
    /// across every process (the record written with its message decides).
    Reminders,
    /// Deletes the idempotency keys whose 24 hours have passed (docs/operations.md, "Idempotency
    /// key purge").
    IdempotencyKeys,
    /// The change feed's purge (docs/operations.md, "Change feed retention"): deletes changes
    /// older than `retention`, finished webhook and email deliveries as old, with their attempts,
    /// and expired stream tickets.
    Changes {
        /// How long changes are kept.
        retention: chrono::Duration,
    },
}

/// A running [`Purge`]: every interval until stopped.
#[derive(Debug)]
pub struct PeriodicTask {
    purge: Purge,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl PeriodicTask {
    /// Starts running `purge` every `interval` (the first run at once) on the current tokio
    /// runtime.
    pub fn start(database: Arc<Database>, interval: Duration, purge: Purge) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(database, interval, purge, stopped));
        Self { purge, stop, task }
    }

    /// Stops it: a run under way finishes its current batch (one short statement, bounded by the
    /// statement timeout) and starts no other; then the task ends.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        tracing::info!("{} stopped", self.purge.name());
    }
}

impl Purge {
    /// What the logs call it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tokens => "token purge",
            Self::Counters { .. } => "abuse counter purge",
            Self::Invitations => "invitation sweeper",
            Self::Reminders => "reminder sweeper",
            Self::IdempotencyKeys => "idempotency key purge",
            Self::Changes { .. } => "change feed purge",
        }
    }

    /// Runs it once to the end, as one run of a [`PeriodicTask`] does (batch after batch until one
    /// comes back short), for `event-manager purge`; returns how many rows it touched.
    ///
    /// # Errors
    /// [`PortError`] when the database fails; earlier batches stay done.
    pub async fn run_once(self, database: &Database) -> Result<u64, PortError> {
        let batch = Database::PURGE_BATCH;
        let mut purged = 0;
        loop {
            let done = self.batch(database, batch).await?;
            purged += done;
            if done < batch.unsigned_abs() {
                return Ok(purged);
            }
        }
    }

    /// Deletes one batch of at most `batch` rows; returns how many.
    async fn batch(self, database: &Database, batch: i64) -> Result<u64, PortError> {
        match self {
            Self::Tokens => {
                let now = chrono::Utc::now();
                database
                    .purge_tokens(now, now - REVOKED_TOKENS_KEPT, batch)
                    .await
            }
            Self::Counters { window } => database.purge_abuse_events(window, batch).await,
            Self::Invitations => {
                let batch = u32::try_from(batch).unwrap_or(u32::MAX);
                database.expire_due(chrono::Utc::now(), batch).await
            }
            Self::Reminders => {
                let batch = u32::try_from(batch).unwrap_or(u32::MAX);
                domain::reminders::send_due(database, database, chrono::Utc::now(), batch).await
            }
            Self::IdempotencyKeys => {
                let batch = u32::try_from(batch).unwrap_or(u32::MAX);
                IdempotencyStore::purge_expired(database, chrono::Utc::now(), batch).await
            }
            Self::Changes { retention } => {
                let batch = u32::try_from(batch).unwrap_or(u32::MAX);
                let now = chrono::Utc::now();
                // Tickets live a minute: one batch of them per run is plenty.
                let tickets = database.purge_tickets(now, batch).await?;
                let changes = database.purge_older_than(now - retention, batch).await?;
                // Finished webhook and email deliveries are kept as long as the changes.
                let deliveries = database.purge_deliveries(now - retention, batch).await?;
                // So are finished messages (codes, texts).
                let messages =
                    MessageOutbox::purge_messages(database, now - retention, batch).await?;
                // And one-click links that open nothing any more (docs/api.md, "Answering from a
                // message").
                let links = InvitationLinks::purge_links(database, now - retention, batch).await?;
                // Deleted events, with their invitations (docs/api.md, "Deleting an event").
                let events =
                    EventRepository::purge_deleted(database, now - retention, batch).await?;
                // Records of reminders whose start is that long past.
                let reminders =
                    ReminderRepository::purge_reminders(database, now - retention, batch).await?;
                Ok(changes
                    .max(tickets)
                    .max(deliveries)
                    .max(messages)
                    .max(links)
                    .max(events)
                    .max(reminders))
            }
        }
    }

    fn log(self, purged: u64, failure: Option<&PortError>) {
        match (self, failure) {
            (Self::Tokens, None) => tracing::info!(purged, "expired and revoked tokens purged"),
            (Self::Tokens, Some(error)) => {
                tracing::warn!(error = %error, purged, "token purge failed; retried next interval");
            }
            (Self::Counters { .. }, None) => tracing::debug!(purged, "abuse counters purged"),
            (Self::Counters { .. }, Some(error)) => tracing::warn!(
                error = %error,
                purged,
                "abuse counter purge failed; retried next interval"
            ),
            (Self::Invitations, None) if purged > 0 => {
                tracing::info!(expired = purged, "due invitations marked expired");
            }
            (Self::Invitations, None) => tracing::debug!("no invitation due to expire"),
            (Self::Reminders, None) if purged > 0 => {
                tracing::info!(sent = purged, "due reminders sent to the outbox");
            }
            (Self::Reminders, None) => tracing::debug!("no reminder due"),
            (Self::Reminders, Some(error)) => tracing::warn!(
                error = %error,
                sent = purged,
                "reminder sweep failed; retried next interval"
            ),
            (Self::Invitations, Some(error)) => tracing::warn!(
                error = %error,
                expired = purged,
                "invitation sweep failed; retried next interval"
            ),
            (Self::IdempotencyKeys, None) => {
                tracing::info!(purged, "expired idempotency keys purged");
            }
            (Self::Changes { .. }, None) => tracing::info!(purged, "old changes purged"),
            (Self::Changes { .. }, Some(error)) => tracing::warn!(
                error = %error,
                purged,
                "change feed purge failed; retried next interval"
            ),
            (Self::IdempotencyKeys, Some(error)) => tracing::warn!(
                error = %error,
                purged,
                "idempotency key purge failed; retried next interval"
            ),
        }
    }
}

async fn run(
    database: Arc<Database>,
    interval: Duration,
    purge: Purge,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => return,
        }
        let mut purged = 0;
        let mut failure = None;
        // Batch after batch until one comes back short, checking for shutdown between them.
        while !*stopped.borrow() {
            let batch = Database::PURGE_BATCH;
            match purge.batch(&database, batch).await {
                Ok(deleted) => {
                    purged += deleted;
                    if deleted < batch.unsigned_abs() {
                        break;
                    }
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        purge.log(purged, failure.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn it_stops_at_once_between_runs() {
        let database = adapters_diesel::testing::TestDatabase::sqlite();
        let purge = PeriodicTask::start(
            Arc::new(database.open()),
            Duration::from_secs(3600),
            Purge::Tokens,
        );
        tokio::time::sleep(Duration::from_millis(200)).await; // the first run is done
        let started = Instant::now();
        purge.stop().await;
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_invitation_sweeper_marks_due_invitations_expired_from_its_first_run_and_stops() {
        use domain::accounts::ports::{NewUser, PasswordHash, UserRepository};
        use domain::events::ports::{EventRepository, NewEvent};
        use domain::events::EventDetails;
        use domain::invitations::{Invitation, InvitationTtl};
        use domain::{Text, UserId};

        let database = adapters_diesel::testing::TestDatabase::sqlite();
        let db = Arc::new(database.open());
        let user = |name: &str| NewUser {
            id: UserId::generate(),
            name: Text::from_stored(name.into()),
            email: Some(domain::Email::from_stored(format!("{name}@example.com"))),
            mobile: None,
            password_hash: Some(PasswordHash("x".into())),
            proven: true,
            locale: Default::default(),
            created_at: chrono::Utc::now(),
        };
        let ann = UserRepository::create(&*db, user("ann")).await.unwrap();
        let bob = UserRepository::create(&*db, user("bob")).await.unwrap();
        let cy = UserRepository::create(&*db, user("cy")).await.unwrap();
        let details =
            EventDetails::new(Text::from_stored("Party".into()), None, None, None, None).unwrap();
        let event = EventRepository::create(
            &*db,
            NewEvent {
                id: domain::EventId::generate(),
                details,
                owner: ann.summary(),
                created_at: chrono::Utc::now(),
            },
        )
        .await
        .unwrap();
        let hour = InvitationTtl::parse("1h").unwrap();
        let sent = |invitee: UserId, at| {
            Invitation::new_pending(event.id, ann.id, invitee, "c".into(), at)
                .expiring(hour, &domain::rsvp::RsvpRules::default())
        };
        let now = chrono::Utc::now();
        let batch = [
            sent(bob.id, now - chrono::Duration::hours(2)),
            sent(cy.id, now),
        ];
        db.create_batch(&batch).await.unwrap();

        let sweeper = PeriodicTask::start(db, Duration::from_secs(3600), Purge::Invitations);
        let status = |id: domain::InvitationId| {
            database.texts(&format!(
                "SELECT status AS value FROM invitations WHERE id = '{id}'"
            ))
        };
        let started = Instant::now();
        while status(batch[0].id()) != ["expired"] {
            assert!(started.elapsed() < Duration::from_secs(5), "not swept");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status(batch[1].id()), ["pending"]);
        let stopping = Instant::now();
        sweeper.stop().await;
        assert!(stopping.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_idempotency_purge_deletes_expired_keys_from_its_first_run_and_keeps_the_rest() {
        use domain::accounts::ports::{NewUser, PasswordHash, UserRepository};
        use domain::idempotency::ports::NewClaim;
        use domain::idempotency::{ClaimId, IdempotencyKey, RequestFingerprint};

        let database = adapters_diesel::testing::TestDatabase::sqlite();
        let db = Arc::new(database.open());
        let new_user = NewUser {
            id: domain::UserId::generate(),
            name: domain::Text::from_stored("Ann".into()),
            email: Some(domain::Email::from_stored("ann@example.com".into())),
            mobile: None,
            password_hash: Some(PasswordHash("x".into())),
            proven: true,
            locale: Default::default(),
            created_at: chrono::Utc::now(),
        };
        let user = UserRepository::create(&*db, new_user).await.unwrap();
        let now = chrono::Utc::now();
        let claim = |key: &str, at: chrono::DateTime<chrono::Utc>| NewClaim {
            user_id: user.id,
            key: IdempotencyKey::parse(key.as_bytes()).unwrap(),
            fingerprint: RequestFingerprint::from_bytes([1; 32]),
            claim: ClaimId::generate(),
            now: at,
            locked_until: at + chrono::Duration::seconds(60),
            expires_at: at + chrono::Duration::hours(24),
        };
        for n in 0..1_500 {
            let old = claim(&format!("old-{n}"), now - chrono::Duration::hours(25));
            db.claim(old).await.unwrap();
        }
        db.claim(claim("fresh", now)).await.unwrap();
        let count =
            || database.texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM idempotency_keys");
        let purge = PeriodicTask::start(db, Duration::from_secs(3600), Purge::IdempotencyKeys);
        let started = Instant::now();
        while count() != ["1"] {
            assert!(started.elapsed() < Duration::from_secs(5), "not purged");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        purge.stop().await;
        assert_eq!(
            database.texts("SELECT key AS value FROM idempotency_keys"),
            ["fresh"]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_counter_purge_deletes_events_older_than_the_window_from_its_first_run() {
        let Some(database) = adapters_diesel::testing::TestDatabase::postgres() else {
            return;
        };
        let db = Arc::new(database.open());
        database.session().execute(
            "INSERT INTO abuse_events (key, at) \
             SELECT 'old', clock_timestamp() - INTERVAL '61 seconds' FROM generate_series(1, 2500); \
             INSERT INTO abuse_events (key) VALUES ('fresh')",
        );
        let count = |key: &str| {
            database.texts(&format!(
                "SELECT CAST(COUNT(*) AS TEXT) AS value FROM abuse_events WHERE key = '{key}'"
            ))
        };
        let purge = PeriodicTask::start(
            db,
            Duration::from_secs(60),
            Purge::Counters {
                window: Duration::from_secs(60),
            },
        );
        let started = Instant::now();
        while count("old") != ["0"] {
            assert!(started.elapsed() < Duration::from_secs(5), "not purged");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        purge.stop().await;
        assert_eq!(count("fresh"), ["1"]);
    }
}
