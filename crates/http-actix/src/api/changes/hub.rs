//! [`StreamHub`]: one process's fan-out of recorded changes to its live streams (docs/api.md,
//! "Live stream"; docs/operations.md, "Live streams across processes").
//!
//! One task per process reads the changes recorded after the last it read (one query for all
//! streams, not one per stream) whenever its [`ChangeFeed::watch`] says something committed, in
//! this process or (PostgreSQL) another, and at least every poll interval in case a wake was
//! missed; it hands each change to the live streams of its recipients. A stream that subscribes
//! learns the position the hub had reached under the same lock the hub hands changes out under,
//! so it replays from the database what came before and takes the rest live: nothing lost, nothing
//! twice.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use domain::changes::ports::ChangeFeed;
use domain::changes::ChangeId;
use domain::UserId;
use tokio::sync::{mpsc, watch};

use super::responses::RenderedChange;

/// The hub's bounds.
#[derive(Clone, Copy, Debug)]
pub struct HubConfig {
    /// Streams one user may hold open in this process (`STREAMS_PER_USER`); past it, 429.
    pub streams_per_user: usize,
    /// Streams the whole process holds open (`STREAMS_PER_PROCESS`); past it, 503.
    pub streams_per_process: usize,
    /// Changes buffered per stream; a stream that falls this far behind is ended, and its client
    /// resumes from `Last-Event-ID` losing nothing.
    pub buffer: usize,
    /// The longest wait between reads when nothing wakes the hub.
    pub poll: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            streams_per_user: 5,
            streams_per_process: 10_000,
            buffer: 256,
            poll: Duration::from_secs(1),
        }
    }
}

/// Why a stream could not subscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// The user holds [`HubConfig::streams_per_user`] streams already.
    #[error("too many streams")]
    TooMany,
    /// The process holds [`HubConfig::streams_per_process`] streams already.
    #[error("this process holds as many live streams as it may")]
    Full,
    /// The hub has not read the feed's position yet (the database is down), or is shutting down.
    #[error("the live stream is not available")]
    Unavailable,
}

/// Changes read per query.
const BATCH: u32 = 500;

/// The shortest time between the starts of two reads, but for the reads of a backlog, whole
/// batches in a row. A commit after a quiet spell is read at once; commits that come faster (a
/// busy API) share a read, so that the hub's statements, and the
/// numbering each read of the feed does first, are bounded by the clock, not by the request rate.
/// Adds at most this much to a live change's delay, and only under load.
const COALESCE: Duration = Duration::from_millis(20);

/// What the hub pushes to a stream.
#[derive(Debug, Clone)]
pub enum Push {
    /// A change for the stream's user.
    Change(Arc<RenderedChange>),
    /// Write something (a comment), so that a stream whose client is gone finds out and ends:
    /// a server learns of a closed connection only when it writes to it.
    Probe,
}

/// How long a stream asked for past the per-user bound waits while the user's open streams are
/// probed, before the 429: two probes (a dead connection's first write is refused by the peer,
/// its second fails), then a last look.
const PROBES: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(300)];

struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Push>,
    /// Set when the hub ends the stream for falling behind: it stops at once, without sending what
    /// its buffer still holds.
    ended: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    /// The last change handed out; `None` until the hub has read the feed's position.
    position: Option<ChangeId>,
    /// The streams changes are handed to.
    subscribers: HashMap<UserId, Vec<Subscriber>>,
    /// The slots each user holds: one per stream from its subscription until its connection is
    /// gone, whether or not changes are still handed to it.
    slots: HashMap<UserId, usize>,
    /// All users' slots.
    total: usize,
    next_id: u64,
    closed: bool,
}

impl State {
    /// No stream is handed changes.
    fn idle(&self) -> bool {
        self.subscribers.values().all(Vec::is_empty)
    }
}

/// The fan-out of one process (see the module's doc).
pub struct StreamHub {
    feed: Arc<dyn ChangeFeed>,
    config: HubConfig,
    state: Mutex<State>,
}

impl std::fmt::Debug for StreamHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamHub")
            .field("config", &self.config)
            .field("streams", &self.open_streams())
            .finish_non_exhaustive()
    }
}

/// A live subscription: changes after [`Subscription::from`] arrive on it; dropping it frees the
/// user's slot, unless [`Subscription::hold_slot_in`] gave the slot to its connection.
#[derive(Debug)]
pub struct Subscription {
    /// The hub's position when it subscribed: every later change for the user arrives here, every
    /// earlier one is read from the feed.
    pub from: ChangeId,
    /// The changes; `None` once the hub ended the stream (shutdown, or it fell behind).
    pub changes: mpsc::Receiver<Push>,
    ended: Arc<AtomicBool>,
    slot: Option<Slot>,
}

impl Subscription {
    /// Whether the hub ended this stream because it fell behind: it should stop at once.
    pub fn fell_behind(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    /// Gives the slot to `connection`, which frees it when the connection is gone: a response
    /// that ended (or was dropped) may still sit unread in its connection's buffers.
    pub fn hold_slot_in(&mut self, connection: &ConnectionSlots) {
        if let Some(slot) = self.slot.take() {
            connection.0.borrow_mut().push(slot);
        }
    }
}

/// The stream slots one connection holds, freed when the connection is gone (its data is dropped
/// with it): put in every connection's data by [`crate::on_connect`].
#[derive(Debug, Default)]
pub struct ConnectionSlots(RefCell<Vec<Slot>>);

/// A [`ConnectionSlots`] to share between the connection's data and its requests.
pub type SharedConnectionSlots = Rc<ConnectionSlots>;

/// Unsubscribes on drop, and gives the user's slot back.
pub struct Slot {
    hub: Arc<StreamHub>,
    user: UserId,
    id: u64,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot").field("id", &self.id).finish()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.hub.lock();
        if let Some(subscribers) = state.subscribers.get_mut(&self.user) {
            subscribers.retain(|s| s.id != self.id);
            if subscribers.is_empty() {
                state.subscribers.remove(&self.user);
            }
        }
        if let Some(slots) = state.slots.get_mut(&self.user) {
            *slots = slots.saturating_sub(1);
            if *slots == 0 {
                state.slots.remove(&self.user);
            }
        }
        state.total = state.total.saturating_sub(1);
    }
}

impl StreamHub {
    /// A hub over `feed`; it hands nothing out until [`StreamHub::run`] runs.
    pub fn new(feed: Arc<dyn ChangeFeed>, config: HubConfig) -> Arc<Self> {
        Arc::new(Self {
            feed,
            config,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many streams are open in this process: each from its subscription until its
    /// connection is gone.
    pub fn open_streams(&self) -> usize {
        self.lock().total
    }

    /// Subscribes a stream of `user`. At the per-user bound it first probes the user's open
    /// streams and waits a moment ([`PROBES`]), so that streams whose clients left (a reloaded
    /// page) free their slots instead of holding them until their next heartbeat.
    ///
    /// # Errors
    /// [`SubscribeError::TooMany`] past the per-user bound; [`SubscribeError::Unavailable`] before
    /// the hub knows its position, or after [`StreamHub::close`].
    pub async fn subscribe(self: &Arc<Self>, user: UserId) -> Result<Subscription, SubscribeError> {
        let mut probes = PROBES.iter();
        loop {
            match self.try_subscribe(user) {
                Err(SubscribeError::TooMany) => {
                    let Some(wait) = probes.next() else {
                        return Err(SubscribeError::TooMany);
                    };
                    self.probe(user);
                    tokio::time::sleep(*wait).await;
                }
                other => return other,
            }
        }
    }

    fn probe(&self, user: UserId) {
        let state = self.lock();
        for subscriber in state.subscribers.get(&user).into_iter().flatten() {
            let _ = subscriber.tx.try_send(Push::Probe);
        }
    }

    fn try_subscribe(self: &Arc<Self>, user: UserId) -> Result<Subscription, SubscribeError> {
        let mut state = self.lock();
        let from = match (state.position, state.closed) {
            (Some(position), false) => position,
            _ => return Err(SubscribeError::Unavailable),
        };
        let open = state.slots.get(&user).copied().unwrap_or(0);
        if open >= self.config.streams_per_user {
            return Err(SubscribeError::TooMany);
        }
        if state.total >= self.config.streams_per_process {
            return Err(SubscribeError::Full);
        }
        state.next_id += 1;
        let id = state.next_id;
        let (tx, changes) = mpsc::channel(self.config.buffer.max(1));
        let ended = Arc::new(AtomicBool::new(false));
        state.subscribers.entry(user).or_default().push(Subscriber {
            id,
            tx,
            ended: ended.clone(),
        });
        *state.slots.entry(user).or_default() += 1;
        state.total += 1;
        Ok(Subscription {
            from,
            changes,
            ended,
            slot: Some(Slot {
                hub: self.clone(),
                user,
                id,
            }),
        })
    }

    /// Ends every stream (they finish what they hold, then close) and refuses new ones: the
    /// first step of a graceful shutdown.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.subscribers.clear();
    }

    /// Hands `changes` to their recipients' streams and moves the position past them, under the
    /// lock subscriptions take.
    fn dispatch(&self, changes: Vec<domain::changes::AddressedChange>, read_up_to: ChangeId) {
        let mut state = self.lock();
        for delivery in changes {
            let id = delivery.recorded.id;
            state.position = Some(id);
            // Rendered once, and only when one of its recipients has a stream here.
            if !delivery
                .recipients
                .iter()
                .any(|user| state.subscribers.contains_key(user))
            {
                continue;
            }
            let rendered = Arc::new(RenderedChange::from(delivery.recorded));
            for user in &delivery.recipients {
                let Some(subscribers) = state.subscribers.get_mut(user) else {
                    continue;
                };
                subscribers.retain(|s| match s.tx.try_send(Push::Change(rendered.clone())) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        tracing::info!(user = %user, "a live stream fell behind; ended (it resumes from Last-Event-ID)");
                        s.ended.store(true, Ordering::Relaxed);
                        false
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                });
            }
        }
        // Past changes that could not be read, too: they are nobody's.
        state.position = state.position.max(Some(read_up_to));
    }

    /// With no stream to hand changes to, moves the position to the feed's end with one cheap read
    /// (no changes; what is staged is numbered first, so that other processes hear of it) and
    /// returns it; `None` while any stream is open, or when the
    /// read fails (the caller then reads the changes). Decided under the lock subscriptions take: a
    /// stream that subscribed meanwhile keeps the hub reading every change after the position it
    /// was given.
    async fn skip_while_idle(&self) -> Option<ChangeId> {
        if !self.idle() {
            return None;
        }
        let latest = self.feed.latest().await.ok()?;
        let mut state = self.lock();
        if !state.idle() {
            return None;
        }
        let position = state.position.max(Some(latest))?;
        state.position = Some(position);
        Some(position)
    }

    fn idle(&self) -> bool {
        self.lock().idle()
    }

    /// The fan-out loop: runs until `stop` turns true (then closes the hub). Reads the feed's
    /// position first (retrying while the database is down), then every change after it.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        // Made before the first read, so that no commit after it goes unnoticed.
        let mut commits = self.feed.watch();
        let mut position = loop {
            match self.feed.latest().await {
                Ok(position) => break position,
                Err(error) => {
                    tracing::warn!(%error, "live streams wait for the database");
                    tokio::select! {
                        () = tokio::time::sleep(self.config.poll) => {}
                        _ = stop.changed() => { self.close(); return; }
                    }
                }
            }
        };
        {
            let mut state = self.lock();
            if state.position.is_none() {
                state.position = Some(position);
            }
        }
        tracing::info!(position = position.0, "live streams ready");
        let mut last_read: Option<tokio::time::Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            if let Some(wait) = last_read.and_then(|at| COALESCE.checked_sub(at.elapsed())) {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => continue,
                }
            }
            last_read = Some(tokio::time::Instant::now());
            if let Some(skipped_to) = self.skip_while_idle().await {
                position = skipped_to;
            } else {
                match self.feed.addressed_after(position, BATCH).await {
                    Ok(read) => {
                        let full = read.read_up_to.0 - position.0 >= i64::from(BATCH);
                        if read.read_up_to > position {
                            tracing::debug!(
                                count = read.changes.len(),
                                position = read.read_up_to.0,
                                "changes fanned out"
                            );
                        }
                        position = read.read_up_to.max(position);
                        self.dispatch(read.changes, position);
                        if full {
                            last_read = None;
                            continue;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "reading new changes failed; retrying"),
                }
            }
            tokio::select! {
                () = commits.changed() => {}
                () = tokio::time::sleep(self.config.poll) => {}
                _ = stop.changed() => {}
            }
        }
        self.close();
        tracing::info!("live streams closed");
    }
}

#[cfg(test)]
mod tests {
    use domain::accounts::UserSummary;
    use domain::changes::{AddressedChange, Change, EventRef, RecordedChange};
    use domain::events::{Member, Role};
    use domain::{EventId, MemberId, Text};

    use super::*;

    fn hub(per_user: usize, per_process: usize) -> Arc<StreamHub> {
        let hub = StreamHub::new(
            Arc::new(domain::testing::Store::default()),
            HubConfig {
                streams_per_user: per_user,
                streams_per_process: per_process,
                buffer: 1,
                poll: Duration::from_secs(1),
            },
        );
        hub.lock().position = Some(ChangeId(0));
        hub
    }

    fn joined(id: i64, user: UserId) -> AddressedChange {
        let member = Member {
            id: MemberId::generate(),
            user: UserSummary {
                id: user,
                name: Text::from_stored("Sara".into()),
            },
            role: Role::Member,
            joined_at: chrono::Utc::now(),
            guests: 0,
        };
        let event = EventRef {
            id: EventId::generate(),
            title: Text::from_stored("Supper".into()),
        };
        AddressedChange {
            recorded: RecordedChange {
                id: ChangeId(id),
                change: Change::member_joined(event, member),
            },
            recipients: vec![user],
        }
    }

    /// A feed whose end, changes and commits the test sets, counting the hub's reads.
    #[derive(Default)]
    struct ScriptedFeed {
        latest: std::sync::atomic::AtomicI64,
        changes: Mutex<Vec<AddressedChange>>,
        reads: std::sync::atomic::AtomicUsize,
        commits: Mutex<Option<watch::Receiver<u64>>>,
    }

    impl ScriptedFeed {
        fn commit(&self, change: AddressedChange) {
            self.latest
                .store(change.recorded.id.0, std::sync::atomic::Ordering::SeqCst);
            self.changes.lock().unwrap().push(change);
        }

        fn reads(&self) -> usize {
            self.reads.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    struct Commits(watch::Receiver<u64>);

    #[async_trait::async_trait]
    impl domain::changes::ports::CommitWatch for Commits {
        async fn changed(&mut self) {
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    #[async_trait::async_trait]
    impl ChangeFeed for ScriptedFeed {
        async fn list_for(
            &self,
            _: UserId,
            after: ChangeId,
            _: u32,
        ) -> Result<domain::changes::FeedRead<RecordedChange>, domain::ports::PortError> {
            Ok(domain::changes::FeedRead {
                changes: Vec::new(),
                read_up_to: after,
            })
        }

        async fn addressed_after(
            &self,
            after: ChangeId,
            _: u32,
        ) -> Result<domain::changes::FeedRead<AddressedChange>, domain::ports::PortError> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let changes: Vec<AddressedChange> = self
                .changes
                .lock()
                .unwrap()
                .iter()
                .filter(|c| c.recorded.id > after)
                .cloned()
                .collect();
            let read_up_to = changes.last().map_or(after, |c| c.recorded.id);
            Ok(domain::changes::FeedRead {
                changes,
                read_up_to,
            })
        }

        async fn latest(&self) -> Result<ChangeId, domain::ports::PortError> {
            Ok(ChangeId(
                self.latest.load(std::sync::atomic::Ordering::SeqCst),
            ))
        }

        async fn purge_older_than(
            &self,
            _: chrono::DateTime<chrono::Utc>,
            _: u32,
        ) -> Result<u64, domain::ports::PortError> {
            Ok(0)
        }

        fn watch(&self) -> Box<dyn domain::changes::ports::CommitWatch> {
            Box::new(Commits(
                self.commits
                    .lock()
                    .unwrap()
                    .clone()
                    .expect("a commit watch"),
            ))
        }
    }

    fn running(
        feed: &Arc<ScriptedFeed>,
    ) -> (Arc<StreamHub>, watch::Sender<u64>, watch::Sender<bool>) {
        let (commits, watched) = watch::channel(0);
        *feed.commits.lock().unwrap() = Some(watched);
        let hub = StreamHub::new(feed.clone(), HubConfig::default());
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(hub.clone().run(stopped));
        (hub, commits, stop)
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_hub_reads_no_changes_and_a_stream_then_gets_every_later_one() {
        let feed = Arc::new(ScriptedFeed::default());
        let (hub, commits, _stop) = running(&feed);
        let sara = UserId::generate();
        for id in 1..=5 {
            feed.commit(joined(id, sara));
            commits.send_modify(|n| *n += 1);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(feed.reads(), 0, "no stream: no change read");
        let mut stream = hub.subscribe(sara).await.unwrap();
        assert_eq!(
            stream.from,
            ChangeId(5),
            "the earlier ones are read from the feed"
        );
        feed.commit(joined(6, sara));
        commits.send_modify(|n| *n += 1);
        let pushed = tokio::time::timeout(Duration::from_millis(100), stream.changes.recv())
            .await
            .expect("pushed within the coalescing delay")
            .expect("a change");
        let Push::Change(change) = pushed else {
            panic!("a change, not a probe");
        };
        assert_eq!(change.id, ChangeId(6));
    }

    #[tokio::test(start_paused = true)]
    async fn commits_faster_than_the_coalescing_delay_share_reads() {
        let feed = Arc::new(ScriptedFeed::default());
        let (hub, commits, _stop) = running(&feed);
        let sara = UserId::generate();
        // Once the hub has read its position.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mut stream = hub.subscribe(sara).await.unwrap();
        // 100 commits, one a millisecond: 100 ms, at most one read every COALESCE.
        for id in 1..=100 {
            feed.commit(joined(id, sara));
            commits.send_modify(|n| *n += 1);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(COALESCE * 2).await;
        let reads = feed.reads();
        assert!((2..=8).contains(&reads), "{reads} reads for 100 commits");
        let mut ids = Vec::new();
        while let Ok(Push::Change(change)) = stream.changes.try_recv() {
            ids.push(change.id.0);
        }
        assert_eq!(
            ids,
            (1..=100).collect::<Vec<_>>(),
            "every change, once, in order"
        );
    }

    #[test]
    fn a_stream_that_fell_behind_keeps_its_slot_until_its_connection_is_gone() {
        let hub = hub(1, 100);
        let sara = UserId::generate();
        let mut stream = hub.try_subscribe(sara).unwrap();
        // A buffer of one: the second change finds it full and ends the stream.
        hub.dispatch(vec![joined(1, sara), joined(2, sara)], ChangeId(2));
        assert!(stream.fell_behind());
        // No longer fed, but its slot is taken while its response may sit unread.
        assert_eq!(
            hub.try_subscribe(sara).unwrap_err(),
            SubscribeError::TooMany
        );
        let connection = SharedConnectionSlots::default();
        stream.hold_slot_in(&connection);
        drop(stream);
        assert_eq!(
            hub.try_subscribe(sara).unwrap_err(),
            SubscribeError::TooMany
        );
        assert_eq!(hub.open_streams(), 1);
        drop(connection);
        assert_eq!(hub.open_streams(), 0);
        assert!(hub.try_subscribe(sara).is_ok());
    }

    #[test]
    fn the_process_holds_at_most_streams_per_process() {
        let hub = hub(5, 2);
        let kept: Vec<_> = (0..2)
            .map(|_| hub.try_subscribe(UserId::generate()).unwrap())
            .collect();
        assert_eq!(
            hub.try_subscribe(UserId::generate()).unwrap_err(),
            SubscribeError::Full
        );
        drop(kept);
        assert!(hub.try_subscribe(UserId::generate()).is_ok());
    }
}
