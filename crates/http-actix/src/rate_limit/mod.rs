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
//!
//! Each count also yields a [`RateLimitReport`], which the answer carries as the `RateLimit-Policy`
//! and `RateLimit` headers (docs/api.md, "Rate limit headers"), built from the port's answer alone:
//! each counted event comes with its counter's level, and a refusal names the full counter and
//! gives every counter's level, read in the same atomic step as the count. Both kinds of counters
//! answer alike, so the headers are the same on either backend.

mod in_process;

pub use in_process::InProcessCounters;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpMessage, HttpRequest};
use domain::ports::{AbuseCounters, CountError, CounterLimit, Reservation};
use ipnet::IpNet;

/// The response header naming the limits an operation counts under (draft-ietf-httpapi-
/// ratelimit-headers-11, section 3).
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The response header giving what is left of each limit (draft-ietf-httpapi-ratelimit-headers-11,
/// section 4).
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Per-minute limits, and the day's quota of new events; `0` turns a limit off.
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
    /// Events one user may create a day (`EVENTS_PER_USER_PER_DAY`, default 100).
    pub events_per_user_per_day: u32,
    /// Edits of events (`PATCH /events/{id}`) per user (`EVENT_EDITS_PER_USER_PER_MINUTE`,
    /// default 60).
    pub event_edits_per_user: u32,
    /// Stream tickets per user (`STREAM_TICKETS_PER_USER_PER_MINUTE`, default 30).
    pub stream_tickets_per_user: u32,
    /// Webhooks registered per user (`WEBHOOK_CREATIONS_PER_USER_PER_MINUTE`, default 10).
    pub webhook_creations_per_user: u32,
    /// Webhooks registered for one destination host by all users together, over an hour
    /// (`WEBHOOK_CREATIONS_PER_HOST_PER_HOUR`, default 100).
    pub webhook_creations_per_host_per_hour: u32,
    /// Looks at and answers by one-click links per client address
    /// (`LINK_REQUESTS_PER_ADDRESS_PER_MINUTE`, default 60).
    pub link_requests_per_address: u32,
    /// Edits by one user, over an hour, that may move an event and message its followers
    /// (`EVENT_NOTICES_PER_USER_PER_HOUR`, default 10).
    pub event_notices_per_user_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_failures_per_account_address: 5,
            login_failures_per_account: 50,
            login_failures_per_address: 20,
            registrations_per_address: 10,
            sends_per_user: 30,
            events_per_user_per_day: 100,
            event_edits_per_user: 60,
            stream_tickets_per_user: 30,
            webhook_creations_per_user: 10,
            webhook_creations_per_host_per_hour: 100,
            link_requests_per_address: 60,
            event_notices_per_user_per_hour: 10,
        }
    }
}

/// Who the client behind a request is, as the per-address limits count it: the proxies whose
/// `X-Forwarded-For` to believe (`TRUSTED_PROXIES`; none by default, so the client address is the
/// TCP peer's), and how much of an IPv6 address is one client (`IPV6_CLIENT_PREFIX`, a /64 by
/// default: one subscriber's network, as handed out by ISPs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    ipv6_prefix: u8,
}

impl Default for TrustedProxies {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl TrustedProxies {
    /// The prefix of an IPv6 address that names one client by default.
    pub const DEFAULT_IPV6_PREFIX: u8 = 64;

    /// Trusts these addresses and networks; IPv6 clients counted by their /64.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self {
            networks,
            ipv6_prefix: Self::DEFAULT_IPV6_PREFIX,
        }
    }

    /// The same, counting IPv6 clients by their first `prefix` bits (1 to 128; 128: each address
    /// is a client).
    #[must_use]
    pub fn with_ipv6_prefix(mut self, prefix: u8) -> Self {
        self.ipv6_prefix = prefix.clamp(1, 128);
        self
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.networks
            .iter()
            .any(|network| network.contains(&address))
    }

    /// The key the per-address limits count `address` under: an IPv4 address itself (an IPv4
    /// address mapped into IPv6 too), an IPv6 address's network of the configured prefix, such
    /// as `2001:db8:1:2::/64`, so that one subscriber cannot step around a limit by walking the
    /// 2^64 addresses their network gives them.
    pub fn client_key(&self, address: IpAddr) -> String {
        match address {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None if self.ipv6_prefix >= 128 => v6.to_string(),
                None => ipnet::Ipv6Net::new(v6, self.ipv6_prefix)
                    .map_or_else(|_| v6.to_string(), |net| net.trunc().to_string()),
            },
        }
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

/// The window of the day's quota of new events: the longest the counters keep events for.
const DAY: Duration = domain::ports::LONGEST_COUNTER_WINDOW;

/// The window of the hourly quota of change notices.
const HOUR: Duration = Duration::from_secs(3600);

/// Told to wait: how long until the oldest counted event leaves the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1 (the `Retry-After` header's unit).
    pub fn seconds(self) -> u64 {
        whole_seconds(self.0)
    }
}

/// `duration` in whole seconds, rounded up.
fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// One limit as the `RateLimit-Policy` header names it: `"name";q=quota;w=window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The policy's name in both headers (docs/api.md, "Rate limit headers").
    pub name: &'static str,
    /// The most events within the window.
    pub quota: u32,
    /// The sliding window the events are counted over.
    pub window: Duration,
}

/// How full a counter is: the events it can still take, and how long until it can take more
/// (when the oldest event counted leaves the window, or the whole window for an empty counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    /// Events left before the limit; `0` when it is used up.
    pub remaining: u32,
    /// Until the counter takes one more event than `remaining`.
    pub reset: Duration,
}

/// What the limits said about one request: each policy it was counted under, with its level (not
/// known only when the counters could not be reached). The answer carries it as
/// `RateLimit-Policy` and `RateLimit` (docs/api.md, "Rate limit headers");
/// [`RateLimitReport::attach`] leaves it on the request for the app's middleware
/// ([`crate::response_headers`]) to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateLimitReport {
    policies: Vec<(Policy, Option<Level>)>,
}

impl RateLimitReport {
    /// Each policy counted under, with its level if known.
    pub fn policies(&self) -> &[(Policy, Option<Level>)] {
        &self.policies
    }

    /// `RateLimit-Policy`: every policy, e.g. `"send";q=30;w=60`. `None` without policies.
    pub fn policy_header(&self) -> Option<HeaderValue> {
        let items = self.policies.iter().map(|(policy, _)| {
            let window = whole_seconds(policy.window).max(1);
            format!("\"{}\";q={};w={window}", policy.name, policy.quota)
        });
        list_header(items)
    }

    /// `RateLimit`: every policy whose level is known, e.g. `"send";r=29;t=60`. `None` when no
    /// level is known.
    pub fn limit_header(&self) -> Option<HeaderValue> {
        let items = self.policies.iter().filter_map(|(policy, level)| {
            let level = level.as_ref()?;
            let reset = whole_seconds(level.reset);
            Some(format!(
                "\"{}\";r={};t={reset}",
                policy.name, level.remaining
            ))
        });
        list_header(items)
    }

    /// Writes both headers (those that have something to say).
    pub fn write(&self, headers: &mut HeaderMap) {
        if let Some(value) = self.policy_header() {
            headers.insert(RATELIMIT_POLICY, value);
        }
        if let Some(value) = self.limit_header() {
            headers.insert(RATELIMIT, value);
        }
    }

    /// Leaves the report on the request, replacing an earlier one, for its answer's headers.
    pub fn attach(self, req: &HttpRequest) {
        req.extensions_mut().insert(self);
    }

    /// The report once the event counted is given back: one more left of each known level, and
    /// a counter left empty resets after a whole window.
    fn given_back(mut self) -> Self {
        for (policy, level) in &mut self.policies {
            if let Some(level) = level {
                level.remaining = (level.remaining + 1).min(policy.quota);
                if level.remaining == policy.quota {
                    level.reset = policy.window;
                }
            }
        }
        self
    }
}

/// A Structured Fields list (RFC 8941, section 3.1) of `items`; `None` when there are none.
fn list_header(items: impl Iterator<Item = String>) -> Option<HeaderValue> {
    let value = items.collect::<Vec<_>>().join(", ");
    // Names and numbers only: always a valid header value.
    (!value.is_empty())
        .then(|| HeaderValue::from_str(&value).ok())
        .flatten()
}

/// The outcome of a count, with the [`RateLimitReport`] the answer carries either way.
#[must_use = "the outcome says whether the request may go on"]
#[derive(Debug)]
pub struct Counted<T> {
    /// Counted (with what the caller may need later), or refused.
    pub outcome: Result<T, CountError>,
    /// The policies and their levels.
    pub report: RateLimitReport,
}

impl<T> Counted<T> {
    /// Leaves the report on the request ([`RateLimitReport::attach`]) and returns the outcome.
    ///
    /// # Errors
    /// The count's: [`CountError::LimitReached`] or [`CountError::Port`].
    pub fn report_to(self, req: &HttpRequest) -> Result<T, CountError> {
        self.report.attach(req);
        self.outcome
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
    /// The window every limit is counted over but the day's quota of new events: a minute.
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
    /// The outcome is [`CountError::LimitReached`] when a limit is used up (nothing is counted
    /// then), [`CountError::Port`] when the counters cannot be reached.
    pub async fn reserve_login(&self, account: &str, address: &str) -> Counted<LoginReservation> {
        let account = account.trim().to_lowercase();
        let limits = &self.limits;
        let counted = self
            .count(&[
                (
                    "login-account-address",
                    format!("login-account-address:{address}:{account}"),
                    limits.login_failures_per_account_address,
                ),
                (
                    "login-account",
                    format!("login-account:{account}"),
                    limits.login_failures_per_account,
                ),
                (
                    "login-address",
                    format!("login-address:{address}"),
                    limits.login_failures_per_address,
                ),
            ])
            .await;
        Counted {
            outcome: counted.outcome.map(|reservation| LoginReservation {
                counters: self.counters.clone(),
                reservation,
                report: counted.report.clone(),
            }),
            report: counted.report,
        }
    }

    /// Counts one registration from `address`, unless the address is over the limit.
    ///
    /// The outcome is [`CountError::LimitReached`] when the address registered too often this
    /// minute (not counted then), [`CountError::Port`] when the counters cannot be reached.
    pub async fn hit_register(&self, address: &str) -> Counted<()> {
        let limit = self.limits.registrations_per_address;
        self.hit("register", format!("register:{address}"), limit)
            .await
    }

    /// Counts one send by `user`, unless the user is over the limit.
    ///
    /// The outcome is [`CountError::LimitReached`] when the user has sent too often this minute
    /// (the attempt is not counted), [`CountError::Port`] when the counters cannot be reached.
    pub async fn hit_send(&self, user: &str) -> Counted<()> {
        let limit = self.limits.sends_per_user;
        self.hit("send", format!("send:{user}"), limit).await
    }

    /// Counts one event created by `user` under the day's quota of new events.
    ///
    /// The outcome is [`CountError::LimitReached`] when the user created as many events within
    /// the last day (not counted then), [`CountError::Port`] when the counters cannot be reached.
    pub async fn hit_event_create(&self, user: &str) -> Counted<()> {
        let limit = self.limits.events_per_user_per_day;
        self.hit_over("event-day", format!("event-day:{user}"), limit, DAY)
            .await
    }

    /// Counts one edit of an event by `user`, unless the user is over the limit.
    ///
    /// The outcome is as [`RateLimiter::hit_send`]'s.
    pub async fn hit_event_edit(&self, user: &str) -> Counted<()> {
        let limit = self.limits.event_edits_per_user;
        self.hit("event-edit", format!("event-edit:{user}"), limit)
            .await
    }

    /// Counts one stream ticket issued to `user`, unless the user is over the limit.
    ///
    /// The outcome is as [`RateLimiter::hit_send`]'s.
    pub async fn hit_stream_ticket(&self, user: &str) -> Counted<()> {
        let limit = self.limits.stream_tickets_per_user;
        self.hit("stream-ticket", format!("stream-ticket:{user}"), limit)
            .await
    }

    /// Counts one webhook registered by `user`, unless the user is over the limit.
    ///
    /// The outcome is as [`RateLimiter::hit_send`]'s.
    pub async fn hit_webhook_create(&self, user: &str) -> Counted<()> {
        let limit = self.limits.webhook_creations_per_user;
        self.hit("webhook-create", format!("webhook-create:{user}"), limit)
            .await
    }

    /// Counts one request by `user` to ask a webhook's endpoint again to verify, under the same
    /// limit as registrations (`WEBHOOK_CREATIONS_PER_USER_PER_MINUTE`): each may send a challenge.
    ///
    /// The outcome is as [`RateLimiter::hit_send`]'s.
    pub async fn hit_webhook_verify(&self, user: &str) -> Counted<()> {
        let limit = self.limits.webhook_creations_per_user;
        self.hit("webhook-verify", format!("webhook-verify:{user}"), limit)
            .await
    }

    /// Counts one webhook registered for `host` by anyone, over an hour: a host nobody asked for
    /// cannot be sent challenges by many accounts at once (docs/api.md, "Verifying an endpoint").
    ///
    /// The outcome is as [`RateLimiter::hit_send`]'s.
    pub async fn hit_webhook_host(&self, host: &str) -> Counted<()> {
        let limit = self.limits.webhook_creations_per_host_per_hour;
        self.hit_over("webhook-host", format!("webhook-host:{host}"), limit, HOUR)
            .await
    }

    /// Counts one edit by `user` that may move an event and so message its followers (docs/api.md,
    /// "Change notices"), over an hour: one user cannot turn an event into a mail bomb.
    ///
    /// The outcome is as [`RateLimiter::hit_send`]'s.
    pub async fn hit_event_notice(&self, user: &str) -> Counted<()> {
        let limit = self.limits.event_notices_per_user_per_hour;
        self.hit_over("event-notice", format!("event-notice:{user}"), limit, HOUR)
            .await
    }

    /// Counts one request by a one-click link (a look or an answer) from `address`, unless the
    /// address is over the limit: a guessed token costs a guesser as a password does.
    ///
    /// The outcome is as [`RateLimiter::hit_register`]'s.
    pub async fn hit_link(&self, address: &str) -> Counted<()> {
        let limit = self.limits.link_requests_per_address;
        self.hit("link", format!("link:{address}"), limit).await
    }

    /// Counts one event under one policy's counter, kept.
    async fn hit(&self, name: &'static str, key: String, limit: u32) -> Counted<()> {
        self.hit_over(name, key, limit, self.window).await
    }

    /// [`RateLimiter::hit`] over `window` instead of the limiter's minute.
    async fn hit_over(
        &self,
        name: &'static str,
        key: String,
        limit: u32,
        window: Duration,
    ) -> Counted<()> {
        let counted = self.count_over(&[(name, key, limit)], window).await;
        Counted {
            outcome: counted.outcome.map(drop),
            report: counted.report,
        }
    }

    /// Reserves one event under each counter of `policies` (`(name, key, quota)`), and reports
    /// each policy that is on (quota > 0) with its level as the counters answered it: after the
    /// event when counted, as the refusal found it otherwise.
    async fn count(&self, policies: &[(&'static str, String, u32)]) -> Counted<Reservation> {
        self.count_over(policies, self.window).await
    }

    /// [`RateLimiter::count`] over `window` instead of the limiter's minute.
    async fn count_over(
        &self,
        policies: &[(&'static str, String, u32)],
        window: Duration,
    ) -> Counted<Reservation> {
        // All of them: the port neither checks nor counts a limit of 0.
        let limits: Vec<CounterLimit> = policies
            .iter()
            .map(|(_, key, quota)| CounterLimit::new(key.clone(), *quota))
            .collect();
        let outcome = self.counters.reserve(&limits, window).await;
        let level_of = |key: &str| match &outcome {
            Ok(reservation) => reservation
                .events
                .iter()
                .find(|event| event.key == key)
                .map(|event| Level {
                    remaining: event.remaining,
                    reset: event.reset,
                }),
            Err(CountError::LimitReached { levels, .. }) => levels
                .iter()
                .find(|level| level.key == key)
                .map(|level| Level {
                    remaining: level.remaining,
                    reset: level.reset,
                }),
            Err(CountError::Port(_)) => None,
        };
        let report = RateLimitReport {
            policies: policies
                .iter()
                .filter(|(_, _, quota)| *quota > 0)
                .map(|(name, key, quota)| {
                    let policy = Policy {
                        name,
                        quota: *quota,
                        window,
                    };
                    (policy, level_of(key))
                })
                .collect(),
        };
        Counted { outcome, report }
    }
}

/// A failed login counted in advance by [`RateLimiter::reserve_login`]. Dropping it keeps the
/// failure counted; [`LoginReservation::succeeded`] takes it back.
#[must_use = "a reservation counts a failure unless `succeeded` is called"]
pub struct LoginReservation {
    counters: Arc<dyn AbuseCounters>,
    reservation: Reservation,
    report: RateLimitReport,
}

impl std::fmt::Debug for LoginReservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginReservation")
            .field("reservation", &self.reservation)
            .finish_non_exhaustive()
    }
}

impl LoginReservation {
    /// The password was right: the reserved failure is not counted. Returns the report as it
    /// stands after.
    pub async fn succeeded(self) -> RateLimitReport {
        self.give_back().await
    }

    /// The password was not checked after all (no hashing slot): nothing is counted. Returns the
    /// report as it stands after.
    pub async fn cancel(self) -> RateLimitReport {
        self.give_back().await
    }

    /// Gives the reservation back. Should the counters fail now, the login's answer stands and
    /// the failure stays counted until it leaves the window: logged, not worth failing a login.
    async fn give_back(self) -> RateLimitReport {
        match self.counters.give_back(self.reservation).await {
            Ok(()) => self.report.given_back(),
            Err(error) => {
                tracing::warn!(
                    %error,
                    "a login reservation could not be given back; it stays counted"
                );
                self.report
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
            ..RateLimits::default()
        })
    }

    /// One failed login, kept counted; `Err` with the wait when a limit is used up.
    async fn fail(limiter: &RateLimiter, account: &str, address: &str) -> Result<(), RetryAfter> {
        match limiter.reserve_login(account, address).await.outcome {
            Ok(reservation) => {
                drop(reservation);
                Ok(())
            }
            Err(CountError::LimitReached { retry_after, .. }) => Err(RetryAfter(retry_after)),
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
            .outcome
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
            .filter_map(|counted| counted.outcome.ok())
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
                .outcome
                .unwrap()
                .succeeded()
                .await;
        }
        limiter
            .reserve_login("ann", "a")
            .await
            .outcome
            .unwrap()
            .cancel()
            .await;
        assert!(fail(&limiter, "ann", "a").await.is_ok());
        assert!(fail(&limiter, "ann", "a").await.is_err());
    }

    #[actix_web::test]
    async fn registrations_are_limited_per_address() {
        let limiter = limiter(0, 0, 0);
        assert!(limiter.hit_register("10.0.0.1").await.outcome.is_ok());
        assert!(limiter.hit_register("10.0.0.1").await.outcome.is_ok());
        assert!(limiter.hit_register("10.0.0.1").await.outcome.is_err());
        assert!(limiter.hit_register("10.0.0.2").await.outcome.is_ok());
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
        assert!(limiter.hit_send("u").await.outcome.is_ok());
        assert!(limiter.hit_send("u").await.outcome.is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(fail(&limiter, "ann", "a").await.is_ok());
        assert!(limiter.hit_send("u").await.outcome.is_ok());
    }

    #[actix_web::test]
    async fn new_events_count_over_a_day_and_edits_and_tickets_over_a_minute() {
        let limiter = RateLimiter::new(RateLimits {
            events_per_user_per_day: 2,
            event_edits_per_user: 1,
            stream_tickets_per_user: 1,
            webhook_creations_per_user: 1,
            ..limiter(0, 0, 0).limits
        });
        assert!(limiter.hit_event_create("u").await.outcome.is_ok());
        let second = limiter.hit_event_create("u").await;
        assert_eq!(headers(&second.report).0, r#""event-day";q=2;w=86400"#);
        match limiter.hit_event_create("u").await.outcome {
            Err(CountError::LimitReached { retry_after, .. }) => {
                assert!(
                    retry_after > Duration::from_secs(23 * 3600),
                    "{retry_after:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(limiter.hit_event_create("v").await.outcome.is_ok());
        assert!(limiter.hit_event_edit("u").await.outcome.is_ok());
        assert!(limiter.hit_event_edit("u").await.outcome.is_err());
        assert!(limiter.hit_stream_ticket("u").await.outcome.is_ok());
        assert!(limiter.hit_stream_ticket("u").await.outcome.is_err());
        assert!(limiter.hit_webhook_create("u").await.outcome.is_ok());
        assert!(limiter.hit_webhook_create("u").await.outcome.is_err());
    }

    #[actix_web::test]
    async fn zero_turns_a_limit_off() {
        let limiter = limiter(0, 0, 0);
        for _ in 0..100 {
            fail(&limiter, "ann", "a").await.unwrap();
            assert!(limiter.hit_send("u").await.outcome.is_ok());
        }
    }

    #[actix_web::test]
    async fn counters_that_cannot_be_reached_are_a_503_not_a_pass() {
        let mut counters = domain::ports::MockAbuseCounters::new();
        let down = || domain::ports::PortError::Unavailable("connection refused".into());
        counters
            .expect_reserve()
            .returning(move |_, _| Err(down().into()));
        let limiter = RateLimiter::with_counters(RateLimits::default(), Arc::new(counters));
        let login = limiter.reserve_login("ann", "a").await.outcome.unwrap_err();
        let register = limiter.hit_register("a").await.outcome.unwrap_err();
        for refused in [login, register] {
            let status = actix_web::ResponseError::status_code(&crate::ApiError::from(refused));
            assert_eq!(status, 503);
        }
    }

    fn headers(report: &RateLimitReport) -> (String, String) {
        let text = |value: Option<HeaderValue>| {
            value.map_or(String::new(), |v| v.to_str().unwrap().to_owned())
        };
        (text(report.policy_header()), text(report.limit_header()))
    }

    #[actix_web::test]
    async fn each_count_reports_its_policy_and_what_is_left() {
        let limiter = limiter(0, 0, 0);
        let first = limiter.hit_register("10.0.0.1").await;
        assert!(first.outcome.is_ok());
        assert_eq!(
            headers(&first.report),
            (
                r#""register";q=2;w=60"#.to_owned(),
                r#""register";r=1;t=60"#.to_owned()
            )
        );
        let second = limiter.hit_register("10.0.0.1").await;
        assert_eq!(headers(&second.report).1, r#""register";r=0;t=60"#);
        let refused = limiter.hit_register("10.0.0.1").await;
        assert!(refused.outcome.is_err());
        assert_eq!(headers(&refused.report).1, r#""register";r=0;t=60"#);
    }

    #[actix_web::test]
    async fn a_login_reports_its_three_policies_and_a_right_password_gives_its_unit_back() {
        let limiter = limiter(5, 50, 20);
        drop(limiter.reserve_login("ann", "10.0.0.1").await.outcome);
        let counted = limiter.reserve_login("ann", "10.0.0.1").await;
        assert_eq!(
            headers(&counted.report),
            (
                r#""login-account-address";q=5;w=60, "login-account";q=50;w=60, "login-address";q=20;w=60"#
                    .to_owned(),
                r#""login-account-address";r=3;t=60, "login-account";r=48;t=60, "login-address";r=18;t=60"#
                    .to_owned()
            )
        );
        let after = counted.outcome.unwrap().succeeded().await;
        assert_eq!(
            headers(&after).1,
            r#""login-account-address";r=4;t=60, "login-account";r=49;t=60, "login-address";r=19;t=60"#
        );
    }

    #[actix_web::test]
    async fn a_full_login_policy_shows_zero_left_and_the_others_their_count() {
        let limiter = limiter(1, 50, 20);
        drop(limiter.reserve_login("ann", "a").await.outcome);
        let refused = limiter.reserve_login("ann", "a").await;
        assert!(refused.outcome.is_err());
        assert_eq!(
            headers(&refused.report).1,
            r#""login-account-address";r=0;t=60, "login-account";r=49;t=60, "login-address";r=19;t=60"#
        );
    }

    #[actix_web::test]
    async fn the_reset_is_when_the_oldest_counted_event_leaves_the_window() {
        let limiter = RateLimiter::new(RateLimits {
            sends_per_user: 3,
            ..limiter(0, 0, 0).limits
        })
        .with_window(Duration::from_secs(3));
        assert!(limiter.hit_send("u").await.outcome.is_ok());
        std::thread::sleep(Duration::from_millis(1100));
        let second = limiter.hit_send("u").await;
        // The first event leaves 3 s after it was counted: under 2 s from now, rounded up.
        assert_eq!(headers(&second.report).1, r#""send";r=1;t=2"#);
        assert_eq!(headers(&second.report).0, r#""send";q=3;w=3"#);
    }

    #[actix_web::test]
    async fn the_levels_are_the_counters_answer_whichever_counters_they_are() {
        use domain::ports::{CountedEvent, CounterLevel};
        let mut counters = domain::ports::MockAbuseCounters::new();
        counters
            .expect_reserve()
            .withf(|limits, _| limits.len() == 1)
            .returning(|limits, _| {
                Ok(Reservation {
                    events: vec![CountedEvent {
                        key: limits[0].key.clone(),
                        id: 1,
                        remaining: 7,
                        reset: Duration::from_millis(12_300),
                    }],
                })
            });
        counters
            .expect_reserve()
            .withf(|limits, _| limits.len() == 3)
            .returning(|limits, _| {
                let level = |i: usize, remaining, seconds| CounterLevel {
                    key: limits[i].key.clone(),
                    remaining,
                    reset: Duration::from_secs(seconds),
                };
                Err(CountError::LimitReached {
                    key: limits[1].key.clone(),
                    retry_after: Duration::from_millis(41_500),
                    levels: vec![level(0, 2, 50), level(1, 0, 42), level(2, 11, 59)],
                })
            });
        let limiter = RateLimiter::with_counters(RateLimits::default(), Arc::new(counters));
        let allowed = limiter.hit_send("u").await;
        assert!(allowed.outcome.is_ok());
        assert_eq!(
            headers(&allowed.report),
            (
                r#""send";q=30;w=60"#.to_owned(),
                r#""send";r=7;t=13"#.to_owned()
            )
        );
        let login = limiter.reserve_login("ann", "a").await;
        assert!(login.outcome.is_err());
        assert_eq!(
            headers(&login.report).1,
            r#""login-account-address";r=2;t=50, "login-account";r=0;t=42, "login-address";r=11;t=59"#
        );
    }

    #[actix_web::test]
    async fn limits_that_are_off_are_not_reported() {
        let limiter = limiter(0, 0, 0);
        let counted = limiter.hit_send("u").await;
        assert_eq!(counted.report, RateLimitReport::default());
        let mut headers = HeaderMap::new();
        counted.report.write(&mut headers);
        assert!(headers.is_empty());
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
    fn an_ipv6_client_is_its_network_and_an_ipv4_client_its_address() {
        let key =
            |proxies: &TrustedProxies, address: &str| proxies.client_key(address.parse().unwrap());
        let by_64 = TrustedProxies::default();
        assert_eq!(key(&by_64, "2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(
            key(&by_64, "2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(key(&by_64, "2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(key(&by_64, "203.0.113.9"), "203.0.113.9");
        assert_eq!(key(&by_64, "::ffff:203.0.113.9"), "203.0.113.9");
        let by_48 = TrustedProxies::default().with_ipv6_prefix(48);
        assert_eq!(key(&by_48, "2001:db8:1:2::1"), "2001:db8:1::/48");
        let each = TrustedProxies::default().with_ipv6_prefix(128);
        assert_eq!(key(&each, "2001:db8:1:2::1"), "2001:db8:1:2::1");
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
