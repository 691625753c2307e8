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

use std::collections::HashMap;
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
    /// The hub has not read the feed's position yet (the database is down), or is shutting down.
    #[error("the live stream is not available")]
    Unavailable,
}

/// Changes read per query.
const BATCH: u32 = 500;

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
}

#[derive(Default)]
struct State {
    /// The last change handed out; `None` until the hub has read the feed's position.
    position: Option<ChangeId>,
    subscribers: HashMap<UserId, Vec<Subscriber>>,
    next_id: u64,
    closed: bool,
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
/// user's slot.
#[derive(Debug)]
pub struct Subscription {
    /// The hub's position when it subscribed: every later change for the user arrives here, every
    /// earlier one is read from the feed.
    pub from: ChangeId,
    /// The changes; `None` once the hub ended the stream (shutdown, or it fell behind).
    pub changes: mpsc::Receiver<Push>,
    _slot: Slot,
}

/// Unsubscribes on drop.
struct Slot {
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

    /// How many streams are open in this process.
    pub fn open_streams(&self) -> usize {
        self.lock().subscribers.values().map(Vec::len).sum()
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
        let open = state.subscribers.get(&user).map_or(0, Vec::len);
        if open >= self.config.streams_per_user {
            return Err(SubscribeError::TooMany);
        }
        state.next_id += 1;
        let id = state.next_id;
        let (tx, changes) = mpsc::channel(self.config.buffer.max(1));
        state
            .subscribers
            .entry(user)
            .or_default()
            .push(Subscriber { id, tx });
        Ok(Subscription {
            from,
            changes,
            _slot: Slot {
                hub: self.clone(),
                user,
                id,
            },
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
                        false
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                });
            }
        }
        // Past changes that could not be read, too: they are nobody's.
        state.position = state.position.max(Some(read_up_to));
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
        loop {
            if *stop.borrow() {
                break;
            }
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
                        continue;
                    }
                }
                Err(error) => tracing::warn!(%error, "reading new changes failed; retrying"),
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
