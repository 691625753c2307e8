//! Abuse limits (docs/api.md, "Errors": `429`): failed logins, registrations and sends, each counted
//! over a sliding minute, and the client address they are counted by.
//!
//! Login failures are limited per (account, client address) and per client address, with a higher
//! limit per account across all addresses: one attacking address cannot lock the real user, who
//! comes from another address, out of their account. A login attempt *reserves* its failure before
//! the password is checked, in one step under the lock, so concurrent wrong passwords cannot all
//! pass the check before any of them is counted; a correct password gives the reservation back.
//!
//! The counters live in this process (see `docs/operations.md`).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// Per-minute limits; `0` turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Failed logins per account from one client address
    /// (`LOGIN_FAILURES_PER_ACCOUNT_ADDRESS`, default 5).
    pub login_failures_per_account_address: u32,
    /// Failed logins per account across all addresses (`LOGIN_FAILURES_PER_ACCOUNT`, default 50).
    pub login_failures_per_account: u32,
    /// Failed logins per client address, any account (`LOGIN_FAILURES_PER_ADDRESS`, default 20).
    pub login_failures_per_address: u32,
    /// Registrations per client address (`REGISTRATIONS_PER_ADDRESS`, default 10).
    pub registrations_per_address: u32,
    /// Send requests per user (`SEND_INVITATIONS_PER_USER`, default 30).
    pub sends_per_user: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_failures_per_account_address: 5,
            login_failures_per_account: 50,
            login_failures_per_address: 20,
            registrations_per_address: 10,
            sends_per_user: 30,
        }
    }
}

/// The proxies whose `X-Forwarded-For` to believe (`TRUSTED_PROXIES`); none by default, so the
/// client address is the TCP peer's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts these addresses and networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The address of the client behind a request: the TCP peer, unless the peer is a trusted
    /// proxy; then the right-most `X-Forwarded-For` entry that is not a trusted proxy (entries
    /// further left were written by the client and can be anything). `None` without a peer.
    pub fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|entry| entry.trim().parse::<IpAddr>())
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|address| !self.trusts(*address))
                .unwrap_or(peer),
        )
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

    /// Reserves one failed login of `account` from `address` before the password is checked: in
    /// one step, checks that no limit is used up and counts the failure. Give it back with
    /// [`LoginReservation::succeeded`] when the password was right.
    ///
    /// # Errors
    /// [`RetryAfter`] when a limit is used up (nothing is counted then).
    pub fn reserve_login(
        &self,
        account: &str,
        address: &str,
    ) -> Result<LoginReservation<'_>, RetryAfter> {
        let account = account.trim().to_lowercase();
        let keys = [
            (
                format!("login-account-address:{address}:{account}"),
                self.limits.login_failures_per_account_address,
            ),
            (
                format!("login-account:{account}"),
                self.limits.login_failures_per_account,
            ),
            (
                format!("login-address:{address}"),
                self.limits.login_failures_per_address,
            ),
        ];
        let at = Instant::now();
        let mut events = self.lock();
        for (key, limit) in &keys {
            self.check(&mut events, key, *limit, at)?;
        }
        let keys = keys.map(|(key, limit)| (limit > 0).then_some(key));
        for key in keys.iter().flatten() {
            events.entry(key.clone()).or_default().push_back(at);
        }
        Ok(LoginReservation {
            limiter: self,
            keys,
            at,
        })
    }

    /// Counts one registration from `address`, unless the address is over the limit.
    ///
    /// # Errors
    /// [`RetryAfter`] when the address registered too often this minute (not counted then).
    pub fn hit_register(&self, address: &str) -> Result<(), RetryAfter> {
        self.hit(
            format!("register:{address}"),
            self.limits.registrations_per_address,
        )
    }

    /// Counts one send by `user`, unless the user is over the limit.
    ///
    /// # Errors
    /// [`RetryAfter`] when the user has sent too often this minute (the attempt is not counted).
    pub fn hit_send(&self, user: &str) -> Result<(), RetryAfter> {
        self.hit(format!("send:{user}"), self.limits.sends_per_user)
    }

    fn hit(&self, key: String, limit: u32) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let mut events = self.lock();
        self.check(&mut events, &key, limit, now)?;
        if limit > 0 {
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

/// A failed login counted in advance by [`RateLimiter::reserve_login`]. Dropping it keeps the
/// failure counted; [`LoginReservation::succeeded`] takes it back.
#[derive(Debug)]
#[must_use = "a reservation counts a failure unless `succeeded` is called"]
pub struct LoginReservation<'a> {
    limiter: &'a RateLimiter,
    keys: [Option<String>; 3],
    at: Instant,
}

impl LoginReservation<'_> {
    /// The password was right: the reserved failure is not counted.
    pub fn succeeded(self) {
        self.give_back();
    }

    /// The password was not checked after all (no hashing slot): nothing is counted.
    pub fn cancel(self) {
        self.give_back();
    }

    fn give_back(self) {
        let mut events = self.limiter.lock();
        for key in self.keys.iter().flatten() {
            if let Some(times) = events.get_mut(key) {
                if let Some(position) = times.iter().rposition(|t| *t == self.at) {
                    times.remove(position);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn limiter(per_account_address: u32, per_account: u32, per_address: u32) -> RateLimiter {
        RateLimiter::new(RateLimits {
            login_failures_per_account_address: per_account_address,
            login_failures_per_account: per_account,
            login_failures_per_address: per_address,
            registrations_per_address: 2,
            sends_per_user: 0,
        })
    }

    fn fail(limiter: &RateLimiter, account: &str, address: &str) -> Result<(), RetryAfter> {
        limiter.reserve_login(account, address).map(drop)
    }

    #[test]
    fn the_sixth_failure_for_an_account_from_one_address_waits_about_a_minute() {
        let limiter = limiter(5, 100, 100);
        for _ in 0..5 {
            fail(&limiter, "Ann@example.com", "10.0.0.1").unwrap();
        }
        let wait = fail(&limiter, "ann@EXAMPLE.com", "10.0.0.1").unwrap_err();
        assert!(wait.seconds() > 55 && wait.seconds() <= 60, "{wait:?}");
        assert!(fail(&limiter, "bob@example.com", "10.0.0.1").is_ok());
    }

    #[test]
    fn an_attacking_address_does_not_lock_the_real_user_out() {
        let limiter = limiter(5, 50, 100);
        for _ in 0..5 {
            fail(&limiter, "ann@example.com", "203.0.113.9").unwrap();
        }
        assert!(fail(&limiter, "ann@example.com", "203.0.113.9").is_err());
        limiter
            .reserve_login("ann@example.com", "198.51.100.7")
            .expect("the real user, from their own address, may still log in")
            .succeeded();
    }

    #[test]
    fn failures_across_addresses_hit_the_higher_per_account_limit() {
        let limiter = limiter(5, 8, 100);
        for i in 0..8 {
            fail(&limiter, "ann", &format!("10.0.0.{i}")).unwrap();
        }
        assert!(fail(&limiter, "ann", "10.0.0.200").is_err());
    }

    #[test]
    fn failures_from_one_address_over_many_accounts_are_limited() {
        let limiter = limiter(100, 100, 3);
        for i in 0..3 {
            fail(&limiter, &format!("user{i}@example.com"), "10.0.0.1").unwrap();
        }
        assert!(fail(&limiter, "new@example.com", "10.0.0.1").is_err());
        assert!(fail(&limiter, "new@example.com", "10.0.0.2").is_ok());
    }

    #[test]
    fn concurrent_attempts_cannot_all_pass_before_one_is_counted() {
        let limiter = limiter(5, 100, 100);
        let held: Vec<_> = (0..40)
            .filter_map(|_| limiter.reserve_login("ann", "10.0.0.1").ok())
            .collect();
        assert_eq!(
            held.len(),
            5,
            "only 5 of 40 attempts in flight may check a password"
        );
    }

    #[test]
    fn a_correct_password_gives_the_reservation_back() {
        let limiter = limiter(1, 100, 100);
        for _ in 0..3 {
            limiter.reserve_login("ann", "a").unwrap().succeeded();
        }
        assert!(fail(&limiter, "ann", "a").is_ok());
        assert!(fail(&limiter, "ann", "a").is_err());
    }

    #[test]
    fn registrations_are_limited_per_address() {
        let limiter = limiter(0, 0, 0);
        assert!(limiter.hit_register("10.0.0.1").is_ok());
        assert!(limiter.hit_register("10.0.0.1").is_ok());
        assert!(limiter.hit_register("10.0.0.1").is_err());
        assert!(limiter.hit_register("10.0.0.2").is_ok());
    }

    #[test]
    fn counts_leave_the_window() {
        let limits = RateLimits {
            sends_per_user: 1,
            ..limiter(1, 0, 0).limits
        };
        let limiter = RateLimiter::with_window(limits, Duration::from_millis(50));
        fail(&limiter, "ann", "a").unwrap();
        assert!(fail(&limiter, "ann", "a").is_err());
        assert!(limiter.hit_send("u").is_ok());
        assert!(limiter.hit_send("u").is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(fail(&limiter, "ann", "a").is_ok());
        assert!(limiter.hit_send("u").is_ok());
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limiter = limiter(0, 0, 0);
        for _ in 0..100 {
            fail(&limiter, "ann", "a").unwrap();
            assert!(limiter.hit_send("u").is_ok());
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_secs(2)).seconds(), 2);
    }

    fn from(peer: &str, forwarded: Option<&str>) -> TestRequest {
        let req = TestRequest::default().peer_addr(peer.parse().unwrap());
        match forwarded {
            Some(value) => req.insert_header(("x-forwarded-for", value)),
            None => req,
        }
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let address = |proxies: &TrustedProxies, req: TestRequest| {
            proxies
                .client_address(&req.to_http_request())
                .unwrap()
                .to_string()
        };
        // An untrusted peer's header is ignored: it could say anything.
        let spoofed = from("198.51.100.7:5000", Some("1.2.3.4"));
        assert_eq!(address(&none, spoofed), "198.51.100.7");
        let spoofed = from("198.51.100.7:5000", Some("1.2.3.4"));
        assert_eq!(address(&proxies, spoofed), "198.51.100.7");
        // Behind trusted proxies: the right-most entry that is not one of them.
        let proxied = from("10.0.0.2:5000", Some("6.6.6.6, 203.0.113.9, 10.0.0.1"));
        assert_eq!(address(&proxies, proxied), "203.0.113.9");
        // A trusted peer without a usable header is the client.
        assert_eq!(address(&proxies, from("10.0.0.2:5000", None)), "10.0.0.2");
        let garbage = from("10.0.0.2:5000", Some("not-an-ip"));
        assert_eq!(address(&proxies, garbage), "10.0.0.2");
    }
}
