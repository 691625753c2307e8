//! Abuse limits (docs/api.md, "Errors": `429`): failed logins, registrations and sends, each counted
//! over a sliding minute, and the client address they are counted by.
//!
//! Login failures are limited per (account, client address) and per client address, with a higher
//! limit per account across all addresses: one attacking address cannot lock the real user, who
//! comes from another address, out of their account. A login attempt *reserves* its failure before
//! the password is checked, in one step under the lock, so concurrent wrong passwords cannot all
//! pass the check before any of them is counted; a correct password gives the reservation back.
//!
//! The policy (which counters, which limits) is here; the counting is behind the domain's
//! [`AbuseCounters`] port: [`InProcessCounters`] in this process on SQLite, the database's shared
//! counters on PostgreSQL, so that N processes do not allow N times a limit (docs/operations.md,
//! "Abuse limits and the client address").

mod in_process;

pub use in_process::InProcessCounters;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use domain::ports::{AbuseCounters, CountError, CounterLimit, Reservation};
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

/// The abuse limits over a set of counters ([`AbuseCounters`]): which counters each attempt
/// counts under, with which limits, over a sliding minute.
pub struct RateLimiter {
    limits: RateLimits,
    window: Duration,
    counters: Arc<dyn AbuseCounters>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// The window every limit is counted over: a minute.
    pub const WINDOW: Duration = Duration::from_secs(60);

    /// Limits counted in this process ([`InProcessCounters`]): right for one process.
    pub fn new(limits: RateLimits) -> Self {
        Self::with_counters(limits, Arc::new(InProcessCounters::new()))
    }

    /// Limits counted by `counters`, e.g. in the database that every process shares.
    pub fn with_counters(limits: RateLimits, counters: Arc<dyn AbuseCounters>) -> Self {
        Self {
            limits,
            window: Self::WINDOW,
            counters,
        }
    }

    /// The same limits counted over `window` instead of [`RateLimiter::WINDOW`] (for tests).
    #[must_use]
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Reserves one failed login of `account` from `address` before the password is checked: in
    /// one step, checks that no limit is used up and counts the failure. Give it back with
    /// [`LoginReservation::succeeded`] when the password was right.
    ///
    /// # Errors
    /// [`CountError::LimitReached`] when a limit is used up (nothing is counted then);
    /// [`CountError::Port`] when the counters cannot be reached.
    pub async fn reserve_login(
        &self,
        account: &str,
        address: &str,
    ) -> Result<LoginReservation, CountError> {
        let account = account.trim().to_lowercase();
        let counters = [
            CounterLimit::new(
                format!("login-account-address:{address}:{account}"),
                self.limits.login_failures_per_account_address,
            ),
            CounterLimit::new(
                format!("login-account:{account}"),
                self.limits.login_failures_per_account,
            ),
            CounterLimit::new(
                format!("login-address:{address}"),
                self.limits.login_failures_per_address,
            ),
        ];
        let reservation = self.counters.reserve(&counters, self.window).await?;
        Ok(LoginReservation {
            counters: self.counters.clone(),
            reservation,
        })
    }

    /// Counts one registration from `address`, unless the address is over the limit.
    ///
    /// # Errors
    /// [`CountError::LimitReached`] when the address registered too often this minute (not
    /// counted then); [`CountError::Port`] when the counters cannot be reached.
    pub async fn hit_register(&self, address: &str) -> Result<(), CountError> {
        let counter = CounterLimit::new(
            format!("register:{address}"),
            self.limits.registrations_per_address,
        );
        self.counters.hit(counter, self.window).await
    }

    /// Counts one send by `user`, unless the user is over the limit.
    ///
    /// # Errors
    /// [`CountError::LimitReached`] when the user has sent too often this minute (the attempt is
    /// not counted); [`CountError::Port`] when the counters cannot be reached.
    pub async fn hit_send(&self, user: &str) -> Result<(), CountError> {
        let counter = CounterLimit::new(format!("send:{user}"), self.limits.sends_per_user);
        self.counters.hit(counter, self.window).await
    }
}

/// A failed login counted in advance by [`RateLimiter::reserve_login`]. Dropping it keeps the
/// failure counted; [`LoginReservation::succeeded`] takes it back.
#[must_use = "a reservation counts a failure unless `succeeded` is called"]
pub struct LoginReservation {
    counters: Arc<dyn AbuseCounters>,
    reservation: Reservation,
}

impl std::fmt::Debug for LoginReservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginReservation")
            .field("reservation", &self.reservation)
            .finish_non_exhaustive()
    }
}

impl LoginReservation {
    /// The password was right: the reserved failure is not counted.
    pub async fn succeeded(self) {
        self.give_back().await;
    }

    /// The password was not checked after all (no hashing slot): nothing is counted.
    pub async fn cancel(self) {
        self.give_back().await;
    }

    /// Gives the reservation back. Should the counters fail now, the login's answer stands and
    /// the failure stays counted until it leaves the window: logged, not worth failing a login.
    async fn give_back(self) {
        if let Err(error) = self.counters.give_back(self.reservation).await {
            tracing::warn!(%error, "a login reservation could not be given back; it stays counted");
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

    /// One failed login, kept counted; `Err` with the wait when a limit is used up.
    async fn fail(limiter: &RateLimiter, account: &str, address: &str) -> Result<(), RetryAfter> {
        match limiter.reserve_login(account, address).await {
            Ok(reservation) => {
                drop(reservation);
                Ok(())
            }
            Err(CountError::LimitReached { retry_after }) => Err(RetryAfter(retry_after)),
            Err(CountError::Port(error)) => panic!("{error}"),
        }
    }

    #[actix_web::test]
    async fn the_sixth_failure_for_an_account_from_one_address_waits_about_a_minute() {
        let limiter = limiter(5, 100, 100);
        for _ in 0..5 {
            fail(&limiter, "Ann@example.com", "10.0.0.1").await.unwrap();
        }
        let wait = fail(&limiter, "ann@EXAMPLE.com", "10.0.0.1")
            .await
            .unwrap_err();
        assert!(wait.seconds() > 55 && wait.seconds() <= 60, "{wait:?}");
        assert!(fail(&limiter, "bob@example.com", "10.0.0.1").await.is_ok());
    }

    #[actix_web::test]
    async fn an_attacking_address_does_not_lock_the_real_user_out() {
        let limiter = limiter(5, 50, 100);
        for _ in 0..5 {
            fail(&limiter, "ann@example.com", "203.0.113.9")
                .await
                .unwrap();
        }
        assert!(fail(&limiter, "ann@example.com", "203.0.113.9")
            .await
            .is_err());
        limiter
            .reserve_login("ann@example.com", "198.51.100.7")
            .await
            .expect("the real user, from their own address, may still log in")
            .succeeded()
            .await;
    }

    #[actix_web::test]
    async fn failures_across_addresses_hit_the_higher_per_account_limit() {
        let limiter = limiter(5, 8, 100);
        for i in 0..8 {
            fail(&limiter, "ann", &format!("10.0.0.{i}")).await.unwrap();
        }
        assert!(fail(&limiter, "ann", "10.0.0.200").await.is_err());
    }

    #[actix_web::test]
    async fn failures_from_one_address_over_many_accounts_are_limited() {
        let limiter = limiter(100, 100, 3);
        for i in 0..3 {
            fail(&limiter, &format!("user{i}@example.com"), "10.0.0.1")
                .await
                .unwrap();
        }
        assert!(fail(&limiter, "new@example.com", "10.0.0.1").await.is_err());
        assert!(fail(&limiter, "new@example.com", "10.0.0.2").await.is_ok());
    }

    #[actix_web::test]
    async fn concurrent_attempts_cannot_all_pass_before_one_is_counted() {
        let limiter = limiter(5, 100, 100);
        let attempts = (0..40).map(|_| limiter.reserve_login("ann", "10.0.0.1"));
        let held: Vec<_> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .filter_map(Result::ok)
            .collect();
        assert_eq!(
            held.len(),
            5,
            "only 5 of 40 attempts in flight may check a password"
        );
    }

    #[actix_web::test]
    async fn a_correct_password_gives_the_reservation_back() {
        let limiter = limiter(1, 100, 100);
        for _ in 0..3 {
            limiter
                .reserve_login("ann", "a")
                .await
                .unwrap()
                .succeeded()
                .await;
        }
        limiter
            .reserve_login("ann", "a")
            .await
            .unwrap()
            .cancel()
            .await;
        assert!(fail(&limiter, "ann", "a").await.is_ok());
        assert!(fail(&limiter, "ann", "a").await.is_err());
    }

    #[actix_web::test]
    async fn registrations_are_limited_per_address() {
        let limiter = limiter(0, 0, 0);
        assert!(limiter.hit_register("10.0.0.1").await.is_ok());
        assert!(limiter.hit_register("10.0.0.1").await.is_ok());
        assert!(limiter.hit_register("10.0.0.1").await.is_err());
        assert!(limiter.hit_register("10.0.0.2").await.is_ok());
    }

    #[actix_web::test]
    async fn counts_leave_the_window() {
        let limits = RateLimits {
            sends_per_user: 1,
            ..limiter(1, 0, 0).limits
        };
        let limiter = RateLimiter::new(limits).with_window(Duration::from_millis(50));
        fail(&limiter, "ann", "a").await.unwrap();
        assert!(fail(&limiter, "ann", "a").await.is_err());
        assert!(limiter.hit_send("u").await.is_ok());
        assert!(limiter.hit_send("u").await.is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(fail(&limiter, "ann", "a").await.is_ok());
        assert!(limiter.hit_send("u").await.is_ok());
    }

    #[actix_web::test]
    async fn zero_turns_a_limit_off() {
        let limiter = limiter(0, 0, 0);
        for _ in 0..100 {
            fail(&limiter, "ann", "a").await.unwrap();
            assert!(limiter.hit_send("u").await.is_ok());
        }
    }

    #[actix_web::test]
    async fn counters_that_cannot_be_reached_are_a_503_not_a_pass() {
        let mut counters = domain::ports::MockAbuseCounters::new();
        let down = || domain::ports::PortError::Unavailable("connection refused".into());
        counters
            .expect_reserve()
            .returning(move |_, _| Err(down().into()));
        counters
            .expect_hit()
            .returning(move |_, _| Err(down().into()));
        let limiter = RateLimiter::with_counters(RateLimits::default(), Arc::new(counters));
        let login = limiter.reserve_login("ann", "a").await.unwrap_err();
        let register = limiter.hit_register("a").await.unwrap_err();
        for refused in [login, register] {
            let status = actix_web::ResponseError::status_code(&crate::ApiError::from(refused));
            assert_eq!(status, 503);
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
