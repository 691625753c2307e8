//! [`FakeCounters`]: sliding-window abuse counters on the test clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::FixedClock;
use crate::ports::{
    AbuseCounters, Clock, CountError, CountedEvent, CounterLevel, CounterLimit, PortError,
    Reservation,
};

/// Counts events in memory against [`FixedClock`]'s time, so that a test moves through windows by
/// moving the clock.
#[derive(Debug)]
pub struct FakeCounters {
    clock: Arc<FixedClock>,
    events: Mutex<(i64, Events)>,
}

/// Each counter's events: an id and when it was counted.
type Events = HashMap<String, Vec<(i64, DateTime<Utc>)>>;

impl FakeCounters {
    /// Counters reading `clock`.
    pub fn new(clock: Arc<FixedClock>) -> Self {
        Self {
            clock,
            events: Mutex::new((0, HashMap::new())),
        }
    }
}

#[async_trait]
impl AbuseCounters for FakeCounters {
    async fn reserve(
        &self,
        counters: &[CounterLimit],
        window: std::time::Duration,
    ) -> Result<Reservation, CountError> {
        let now = self.clock.now();
        let span = chrono::Duration::from_std(window)
            .map_err(|_| PortError::Unexpected("window".into()))?;
        let mut guard = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, events) = &mut *guard;
        let live = |key: &str, events: &Events| -> Vec<DateTime<Utc>> {
            events
                .get(key)
                .map(|list| {
                    list.iter()
                        .map(|(_, at)| *at)
                        .filter(|at| *at > now - span)
                        .collect()
                })
                .unwrap_or_default()
        };
        let counted: Vec<&CounterLimit> = counters.iter().filter(|c| c.limit > 0).collect();
        let full = counted.iter().find_map(|counter| {
            let held = live(&counter.key, events);
            (held.len() >= counter.limit as usize).then(|| {
                let oldest = held.iter().min().copied().unwrap_or(now);
                let wait = (oldest + span - now).to_std().unwrap_or_default();
                (counter.key.clone(), wait)
            })
        });
        if let Some((key, retry_after)) = full {
            let levels = counted
                .iter()
                .map(|c| CounterLevel {
                    key: c.key.clone(),
                    remaining: (c.limit as usize).saturating_sub(live(&c.key, events).len()) as u32,
                    reset: window,
                })
                .collect();
            return Err(CountError::LimitReached {
                key,
                retry_after,
                levels,
            });
        }
        let mut reservation = Reservation::default();
        for counter in counted {
            *next += 1;
            let held = live(&counter.key, events).len() + 1;
            events
                .entry(counter.key.clone())
                .or_default()
                .push((*next, now));
            reservation.events.push(CountedEvent {
                key: counter.key.clone(),
                id: *next,
                remaining: (counter.limit as usize).saturating_sub(held) as u32,
                reset: window,
            });
        }
        Ok(reservation)
    }

    async fn give_back(&self, reservation: Reservation) -> Result<(), PortError> {
        let mut guard = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        for event in reservation.events {
            if let Some(list) = guard.1.get_mut(&event.key) {
                list.retain(|(id, _)| *id != event.id);
            }
        }
        Ok(())
    }
}
