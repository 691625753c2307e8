//! Abuse limits (docs/api.md, "Errors": `429`): failed logins per account and per client address, and sends per
//! user, each counted over a sliding minute. The counters live in this process: with several
//! instances behind a load balancer each enforces its own limits (see `docs/operations.md`).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Per-minute limits; `0` turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Failed logins per account (`LOGIN_FAILURES_PER_ACCOUNT`, default 5).
    pub login_failures_per_account: u32,
    /// Failed logins per client address (`LOGIN_FAILURES_PER_ADDRESS`, default 20).
    pub login_failures_per_address: u32,
    /// Send requests per user (`SEND_INVITATIONS_PER_USER`, default 30).
    pub sends_per_user: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_failures_per_account: 5,
            login_failures_per_address: 20,
            sends_per_user: 30,
        }
    }
}

/// Told to wait: how long until the oldest counted event leaves the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1 (the `Retry-After` header's unit).
    pub fn seconds(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

/// Sliding-window counters keyed by strings such as `login-account:ann@example.com`.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    window: Duration,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Above this many keys, a request sweeps out the keys whose events all left the window.
const SWEEP_ABOVE: usize = 10_000;

impl RateLimiter {
    /// Limits counted over one minute.
    pub fn new(limits: RateLimits) -> Self {
        Self::with_window(limits, Duration::from_secs(60))
    }

    /// Limits counted over `window` (for tests).
    pub fn with_window(limits: RateLimits, window: Duration) -> Self {
        Self {
            limits,
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a login for `account` from `address` may be tried now.
    ///
    /// # Errors
    /// [`RetryAfter`] when either key has used up its failures.
    pub fn check_login(&self, account: &str, address: &str) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let mut events = self.lock();
        self.check(
            &mut events,
            &account_key(account),
            self.limits.login_failures_per_account,
            now,
        )?;
        self.check(
            &mut events,
            &address_key(address),
            self.limits.login_failures_per_address,
            now,
        )
    }

    /// Counts a failed login against the account and the address.
    pub fn record_login_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut events = self.lock();
        for key in [account_key(account), address_key(address)] {
            events.entry(key).or_default().push_back(now);
        }
    }

    /// Counts one send by `user`, unless the user is over the limit.
    ///
    /// # Errors
    /// [`RetryAfter`] when the user has sent too often this minute (the attempt is not counted).
    pub fn hit_send(&self, user: &str) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let key = format!("send:{user}");
        let mut events = self.lock();
        self.check(&mut events, &key, self.limits.sends_per_user, now)?;
        if self.limits.sends_per_user > 0 {
            events.entry(key).or_default().push_back(now);
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // A panic while holding the lock cannot leave the counters inconsistent: keep using them.
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if events.len() > SWEEP_ABOVE {
            let window = self.window;
            let now = Instant::now();
            events.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
        events
    }

    fn check(
        &self,
        events: &mut HashMap<String, VecDeque<Instant>>,
        key: &str,
        limit: u32,
        now: Instant,
    ) -> Result<(), RetryAfter> {
        if limit == 0 {
            return Ok(());
        }
        let Some(times) = events.get_mut(key) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() < limit as usize {
            return Ok(());
        }
        let oldest = times[times.len() - limit as usize];
        Err(RetryAfter(
            self.window.saturating_sub(now.duration_since(oldest)),
        ))
    }
}

fn account_key(account: &str) -> String {
    format!("login-account:{}", account.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("login-address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(account: u32, address: u32, sends: u32) -> RateLimiter {
        RateLimiter::new(RateLimits {
            login_failures_per_account: account,
            login_failures_per_address: address,
            sends_per_user: sends,
        })
    }

    #[test]
    fn the_sixth_failed_login_for_an_account_waits_about_a_minute() {
        let limiter = limiter(5, 100, 0);
        for _ in 0..5 {
            assert!(limiter.check_login("Ann@example.com", "10.0.0.1").is_ok());
            limiter.record_login_failure("ann@example.com", "10.0.0.1");
        }
        let wait = limiter
            .check_login("ann@EXAMPLE.com", "10.0.0.2")
            .unwrap_err();
        assert!(wait.seconds() > 55 && wait.seconds() <= 60, "{wait:?}");
        assert!(
            limiter.check_login("bob@example.com", "10.0.0.1").is_ok(),
            "other accounts are not affected"
        );
    }

    #[test]
    fn failures_from_one_address_over_many_accounts_are_limited() {
        let limiter = limiter(100, 3, 0);
        for i in 0..3 {
            limiter.record_login_failure(&format!("user{i}@example.com"), "10.0.0.1");
        }
        assert!(limiter.check_login("new@example.com", "10.0.0.1").is_err());
        assert!(limiter.check_login("new@example.com", "10.0.0.2").is_ok());
    }

    #[test]
    fn counts_leave_the_window() {
        let limiter = RateLimiter::with_window(limiter(1, 0, 1).limits, Duration::from_millis(50));
        limiter.record_login_failure("ann", "a");
        assert!(limiter.check_login("ann", "a").is_err());
        assert!(limiter.hit_send("u").is_ok());
        assert!(limiter.hit_send("u").is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(limiter.check_login("ann", "a").is_ok());
        assert!(limiter.hit_send("u").is_ok());
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limiter = limiter(0, 0, 0);
        for _ in 0..100 {
            limiter.record_login_failure("ann", "a");
            assert!(limiter.hit_send("u").is_ok());
        }
        assert!(limiter.check_login("ann", "a").is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_secs(2)).seconds(), 2);
    }
}
