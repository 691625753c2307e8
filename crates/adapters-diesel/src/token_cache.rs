//! The bearer tokens this process looked up lately, with their users: the token cache.
//!
//! docs/operations.md, "Token cache": a request whose token was checked less than
//! `TOKEN_CACHE_SECS` ago skips the token's statement and spends its one round trip on what it
//! asked for.
//!
//! The bounds, which the contract tests hold:
//! - an expired token is never served: each entry keeps the token's expiry and is checked
//!   against it;
//! - a token revoked, or a user changed, through this process is seen at once: every write to
//!   tokens or users here empties the cache (they are rare beside reads);
//! - through another process, within the cache's age: an entry is served only while it is
//!   younger than that, then the token is looked up again;
//! - memory: at most [`CAPACITY`] entries; a full cache is emptied before the next one goes in.
//!
//! Off with a read standby (`DATABASE_READ_URL`): the token's look-up is where a request learns
//! how far the primary is, for its reads on the standby (`db/replica.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use domain::accounts::User;

/// The most tokens kept.
pub(crate) const CAPACITY: usize = 10_000;

#[derive(Clone)]
struct Entry {
    user: User,
    /// When the database last said the token was good.
    checked_at: DateTime<Utc>,
    /// When the token stops working.
    expires_at: DateTime<Utc>,
}

/// Token digests to their users, each for at most `age`; `age` zero: off.
pub(crate) struct TokenCache {
    age: Duration,
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
    /// Bumped by every [`TokenCache::clear`]: a look-up that began before a write here does not
    /// put back what the write changed.
    generation: AtomicU64,
}

impl TokenCache {
    pub(crate) fn new(age: std::time::Duration) -> Self {
        Self {
            age: Duration::from_std(age).unwrap_or(Duration::MAX),
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_on(&self) -> bool {
        self.age > Duration::zero()
    }

    /// The user of `hash` at `now`, if the database said so less than the cache's age ago and
    /// the token has not expired since. A clock that went back misses.
    pub(crate) fn get(&self, hash: &[u8], now: DateTime<Utc>) -> Option<User> {
        if !self.is_on() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(hash)?;
        let fresh = entry.checked_at <= now && now - entry.checked_at < self.age;
        (fresh && now < entry.expires_at).then(|| entry.user.clone())
    }

    /// What to pass to [`TokenCache::put`] for a look-up that starts now.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps what the database said at `checked_at`, for a look-up that started at `generation`:
    /// unless the cache was cleared since (a write here may have changed what it read).
    pub(crate) fn put(
        &self,
        generation: u64,
        hash: Vec<u8>,
        user: User,
        checked_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) {
        if !self.is_on() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation() != generation {
            return;
        }
        if entries.len() >= CAPACITY && !entries.contains_key(&hash) {
            entries.clear();
        }
        entries.insert(
            hash,
            Entry {
                user,
                checked_at,
                expires_at,
            },
        );
    }

    /// Forgets everything: a token or a user changed (called after the write, so that no
    /// look-up begun before it is kept).
    pub(crate) fn clear(&self) {
        if self.is_on() {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.clear();
        }
    }

    /// A guard that empties the cache when dropped: moved into a write's database call, it clears
    /// once the write is done (the call runs to its end even when its caller has gone, and a call
    /// that never ran clears too).
    pub(crate) fn clear_when_done(self: &Arc<Self>) -> ClearWhenDone {
        ClearWhenDone(Arc::clone(self))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// See [`TokenCache::clear_when_done`].
pub(crate) struct ClearWhenDone(Arc<TokenCache>);

impl Drop for ClearWhenDone {
    fn drop(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use domain::{Text, UserId};

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
    }

    fn ann() -> User {
        User::proven(
            UserId::generate(),
            Text::from_stored("Ann".into()),
            None,
            None,
            at(0),
        )
    }

    #[test]
    fn an_entry_serves_for_its_age_and_never_past_the_tokens_expiry() {
        let cache = TokenCache::new(std::time::Duration::from_secs(2));
        cache.put(0, b"t".to_vec(), ann(), at(10), at(11));
        assert!(cache.get(b"t", at(10)).is_some());
        // Expired at 11, though the entry is younger than 2 s.
        assert!(cache.get(b"t", at(11)).is_none());
        cache.put(0, b"u".to_vec(), ann(), at(10), at(100));
        assert!(cache.get(b"u", at(11)).is_some());
        assert!(
            cache.get(b"u", at(12)).is_none(),
            "2 s old: looked up again"
        );
        // A clock that went back does not trust an entry from its future.
        assert!(cache.get(b"u", at(9)).is_none());
        assert!(cache.get(b"v", at(10)).is_none());
    }

    #[test]
    fn a_full_cache_is_emptied_before_the_next_token_goes_in() {
        let cache = TokenCache::new(std::time::Duration::from_secs(2));
        for n in 0..CAPACITY {
            cache.put(0, n.to_be_bytes().to_vec(), ann(), at(0), at(100));
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.put(0, b"one more".to_vec(), ann(), at(0), at(100));
        assert_eq!(cache.len(), 1);
        assert!(cache.get(b"one more", at(1)).is_some());
    }

    #[test]
    fn a_look_up_begun_before_a_write_here_is_not_kept() {
        let cache = TokenCache::new(std::time::Duration::from_secs(2));
        let began = cache.generation();
        cache.clear();
        cache.put(began, b"t".to_vec(), ann(), at(0), at(100));
        assert!(cache.get(b"t", at(0)).is_none());
        cache.put(cache.generation(), b"t".to_vec(), ann(), at(0), at(100));
        assert!(cache.get(b"t", at(0)).is_some());
    }

    #[test]
    fn the_guard_empties_the_cache_when_dropped() {
        let cache = Arc::new(TokenCache::new(std::time::Duration::from_secs(2)));
        cache.put(0, b"t".to_vec(), ann(), at(0), at(100));
        let guard = cache.clear_when_done();
        assert!(cache.get(b"t", at(0)).is_some());
        drop(guard);
        assert!(cache.get(b"t", at(0)).is_none());
    }

    #[test]
    fn zero_age_keeps_nothing() {
        let cache = TokenCache::new(std::time::Duration::ZERO);
        cache.put(0, b"t".to_vec(), ann(), at(0), at(100));
        assert!(cache.get(b"t", at(0)).is_none());
        assert_eq!(cache.len(), 0);
    }
}
