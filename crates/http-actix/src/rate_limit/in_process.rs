//! [`InProcessCounters`]: the abuse counters in this process's memory. Right for one process (the
//! SQLite deployment); with several processes each would count alone, so on PostgreSQL the
//! counters live in the database instead (docs/operations.md, "Abuse limits and the client
//! address").

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::ports::{
    AbuseCounters, CountError, CountedEvent, CounterLevel, CounterLimit, PortError, Reservation,
};

/// Above this many keys, a count sweeps out the keys whose events all left the window.
const SWEEP_ABOVE: usize = 10_000;

/// Sliding-window counters under one lock: checking every counter, counting the event and reading
/// the counters' levels is one step under it, so concurrent callers cannot together pass a limit
/// and each is told the levels its own count left.
#[derive(Debug, Default)]
pub struct InProcessCounters {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Each key's events, oldest first: when each was counted, and its id.
    events: HashMap<String, VecDeque<(Instant, i64)>>,
    /// The last id given to an event.
    last_id: i64,
    /// The longest window any call counted over: older events can be forgotten.
    longest_window: Duration,
}

impl InProcessCounters {
    /// Counters holding no events.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters inconsistent: keep using them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`AbuseCounters::reserve`], without the wait for a lock ever leaving this thread.
    fn reserve_now(
        &self,
        counters: &[CounterLimit],
        window: Duration,
    ) -> Result<Reservation, CountError> {
        let now = Instant::now();
        let mut state = self.lock();
        state.forget_old(now, window);
        let counted: Vec<&CounterLimit> = counters.iter().filter(|c| c.limit > 0).collect();
        let before: Vec<CounterLevel> = counted
            .iter()
            .map(|counter| state.level(counter, now, window))
            .collect();
        // A full counter takes one more event once the event that fills it leaves the window.
        let full = before
            .iter()
            .filter(|level| level.remaining == 0)
            .max_by_key(|level| level.reset)
            .map(|level| (level.key.clone(), level.reset));
        if let Some((key, retry_after)) = full {
            return Err(CountError::LimitReached {
                key,
                retry_after,
                levels: before,
            });
        }
        let mut events = Vec::new();
        for counter in &counted {
            state.last_id += 1;
            let id = state.last_id;
            state
                .events
                .entry(counter.key.clone())
                .or_default()
                .push_back((now, id));
            let after = state.level(counter, now, window);
            events.push(CountedEvent {
                key: after.key,
                id,
                remaining: after.remaining,
                reset: after.reset,
            });
        }
        Ok(Reservation { events })
    }
}

impl State {
    /// How full `counter` is at `now`: its events inside `window`, and how long until it takes
    /// one more than it has left (when the oldest of them leaves, or for a full counter, the
    /// event that fills its limit; a whole window for an empty counter).
    fn level(&self, counter: &CounterLimit, now: Instant, window: Duration) -> CounterLevel {
        let limit = counter.limit as usize;
        let times = self.events.get(&counter.key);
        // Events are oldest first: those before `start` left this call's window.
        let (inside, next_out) = times.map_or((0, None), |times| {
            let start = times.partition_point(|(at, _)| now.duration_since(*at) >= window);
            let inside = times.len() - start;
            let next_out = (inside > 0).then(|| times[times.len() - inside.min(limit)].0);
            (inside, next_out)
        });
        CounterLevel {
            key: counter.key.clone(),
            remaining: u32::try_from(limit.saturating_sub(inside)).unwrap_or(u32::MAX),
            reset: next_out.map_or(window, |at| window.saturating_sub(now.duration_since(at))),
        }
    }

    /// Drops events older than the longest window counted over, and, past [`SWEEP_ABOVE`] keys,
    /// the keys left without events.
    fn forget_old(&mut self, now: Instant, window: Duration) {
        self.longest_window = self.longest_window.max(window);
        let longest = self.longest_window;
        let old = |at: &Instant| now.duration_since(*at) >= longest;
        if self.events.len() > SWEEP_ABOVE {
            self.events
                .retain(|_, times| times.back().is_some_and(|(at, _)| !old(at)));
        }
        for times in self.events.values_mut() {
            while times.front().is_some_and(|(at, _)| old(at)) {
                times.pop_front();
            }
        }
    }
}

#[async_trait]
impl AbuseCounters for InProcessCounters {
    async fn reserve(
        &self,
        counters: &[CounterLimit],
        window: Duration,
    ) -> Result<Reservation, CountError> {
        self.reserve_now(counters, window)
    }

    async fn give_back(&self, reservation: Reservation) -> Result<(), PortError> {
        let mut state = self.lock();
        for event in reservation.events {
            if let Some(times) = state.events.get_mut(&event.key) {
                if let Some(position) = times.iter().rposition(|(_, id)| *id == event.id) {
                    times.remove(position);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(limits: &[(&str, u32)]) -> Vec<CounterLimit> {
        limits
            .iter()
            .map(|(key, limit)| CounterLimit::new(*key, *limit))
            .collect()
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[actix_web::test]
    async fn a_full_counter_refuses_and_counts_nothing_anywhere() {
        let store = InProcessCounters::new();
        store.hit(CounterLimit::new("a", 1), MINUTE).await.unwrap();
        let refused = store
            .reserve(&counters(&[("b", 1), ("a", 1)]), MINUTE)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, CountError::LimitReached { ref key, retry_after, .. } if key == "a" && retry_after > Duration::from_secs(59))
        );
        // `b` was not counted by the refused reservation.
        store.hit(CounterLimit::new("b", 1), MINUTE).await.unwrap();
    }

    #[actix_web::test]
    async fn the_wait_is_the_longest_of_the_full_counters() {
        let store = InProcessCounters::new();
        store
            .hit(CounterLimit::new("old", 1), MINUTE)
            .await
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        store
            .hit(CounterLimit::new("new", 1), MINUTE)
            .await
            .unwrap();
        let waits = |keys: &'static [(&'static str, u32)]| {
            let store = &store;
            async move {
                match store.reserve(&counters(keys), MINUTE).await {
                    Err(CountError::LimitReached { retry_after, .. }) => retry_after,
                    other => panic!("{other:?}"),
                }
            }
        };
        let old = waits(&[("old", 1)]).await;
        let both = waits(&[("old", 1), ("new", 1)]).await;
        assert!(both > old + Duration::from_millis(100), "{old:?} {both:?}");
    }

    #[actix_web::test]
    async fn each_event_tells_what_is_left_and_a_refusal_every_level() {
        let store = InProcessCounters::new();
        let first = store
            .reserve(&counters(&[("a", 2), ("b", 5)]), MINUTE)
            .await
            .unwrap();
        let left: Vec<_> = first
            .events
            .iter()
            .map(|event| (event.key.as_str(), event.remaining, event.reset))
            .collect();
        assert_eq!(left, [("a", 1, MINUTE), ("b", 4, MINUTE)]);
        std::thread::sleep(Duration::from_millis(20));
        let second = store.hit(CounterLimit::new("a", 2), MINUTE).await.unwrap();
        let second = second.expect("a has a limit");
        assert_eq!(second.remaining, 0);
        assert!(second.reset < MINUTE, "the first event leaves first");
        let refused = store
            .reserve(&counters(&[("b", 5), ("a", 2)]), MINUTE)
            .await
            .unwrap_err();
        let CountError::LimitReached {
            key,
            retry_after,
            levels,
        } = refused
        else {
            panic!("{refused:?}");
        };
        assert_eq!(key, "a");
        let found: Vec<_> = levels
            .iter()
            .map(|level| (level.key.as_str(), level.remaining))
            .collect();
        assert_eq!(found, [("b", 4), ("a", 0)]);
        assert_eq!(levels[1].reset, retry_after);
        assert!(store
            .hit(CounterLimit::new("off", 0), MINUTE)
            .await
            .unwrap()
            .is_none());
    }

    #[actix_web::test]
    async fn giving_back_removes_exactly_the_reserved_events() {
        let store = InProcessCounters::new();
        let first = store.reserve(&counters(&[("k", 2)]), MINUTE).await.unwrap();
        store.hit(CounterLimit::new("k", 2), MINUTE).await.unwrap();
        assert!(store.hit(CounterLimit::new("k", 2), MINUTE).await.is_err());
        store.give_back(first.clone()).await.unwrap();
        store.hit(CounterLimit::new("k", 2), MINUTE).await.unwrap();
        // Giving back twice takes nothing more.
        store.give_back(first).await.unwrap();
        assert!(store.hit(CounterLimit::new("k", 2), MINUTE).await.is_err());
    }
}
