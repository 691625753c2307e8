//! Configuration from environment variables (the table in README.md, "Configuration"), read once
//! at start.

use std::net::SocketAddr;
use std::time::Duration;

use std::borrow::Cow;

use adapters_diesel::DatabaseConfig;
use adapters_outbound::SmtpConfig;
use domain::duration::whole_duration;
use domain::webhooks::delivery::RetryPolicy;
use domain::{InvitationTtl, PhoneRegion};
use secrecy::{ExposeSecret, SecretString};

/// How logs are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The service's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: `postgres://…` or a SQLite file (default `sqlite://data/event-manager.sqlite3`).
    pub database_url: SecretString,
    /// `DATABASE_POOL_SIZE`: most pooled connections (default
    /// [`DatabaseConfig::DEFAULT_POOL_SIZE`]).
    pub database_pool_size: u32,
    /// `DATABASE_TIMEOUT_SECS`: how long a request waits for a connection before 503 (default
    /// [`DatabaseConfig::DEFAULT_CONNECTION_TIMEOUT`]).
    pub database_timeout: Duration,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: PostgreSQL `statement_timeout` (default
    /// [`DatabaseConfig::DEFAULT_STATEMENT_TIMEOUT`]).
    pub database_statement_timeout: Duration,
    /// `DATABASE_LOCK_TIMEOUT_MS`: PostgreSQL `lock_timeout` and SQLite `busy_timeout` (default
    /// [`DatabaseConfig::DEFAULT_LOCK_TIMEOUT`]).
    pub database_lock_timeout: Duration,
    /// `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`: PostgreSQL
    /// `idle_in_transaction_session_timeout` (default
    /// [`DatabaseConfig::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT`]).
    pub database_idle_in_transaction_timeout: Duration,
    /// `BIND_ADDR` (default `127.0.0.1:8080`).
    pub bind_addr: SocketAddr,
    /// `METRICS_BIND_ADDR`: where Prometheus scrapes `GET /metrics` (default none: no metrics
    /// listener; docs/operations.md, "Metrics").
    pub metrics_bind_addr: Option<SocketAddr>,
    /// `DEFAULT_PHONE_REGION` (default `IR`).
    pub phone_region: PhoneRegion,
    /// `TOKEN_TTL_DAYS` (default 30).
    pub token_ttl_days: u32,
    /// `TOKEN_PURGE_INTERVAL_SECS`: how often expired and revoked tokens are deleted (default an
    /// hour; `0` turns the purge off, e.g. when another process or a cron job does it).
    pub token_purge_interval: Option<Duration>,
    /// `LOG_FORMAT` (default `pretty`).
    pub log_format: LogFormat,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins allowed to call the API from a browser
    /// (default none).
    pub cors_allowed_origins: Vec<String>,
    /// `HTTP_WORKERS`: actix worker threads (default: one per core).
    pub http_workers: Option<usize>,
    /// `REQUEST_BODY_TIMEOUT_SECS`: how long a request's whole body may take to arrive after its
    /// head before the answer is 408 and the connection is closed (default 10).
    pub request_body_timeout: Duration,
    /// `LOGIN_FAILURES_PER_ACCOUNT_ADDRESS`, `LOGIN_FAILURES_PER_ACCOUNT`,
    /// `LOGIN_FAILURES_PER_ADDRESS`, `REGISTRATIONS_PER_ADDRESS`, `SEND_INVITATIONS_PER_USER`:
    /// per-minute limits (0 turns one off).
    pub rate_limits: http_actix::RateLimits,
    /// `TRUSTED_PROXIES`: comma-separated addresses or networks of reverse proxies whose
    /// `X-Forwarded-For` names the client (default none: the TCP peer is the client).
    pub trusted_proxies: http_actix::TrustedProxies,
    /// `CURSOR_SECRET`: the key list cursors are signed with, at least 32 bytes (default none:
    /// the key stored in the database, made by the first process; docs/operations.md, "Cursor
    /// signing").
    pub cursor_secret: Option<SecretString>,
    /// `INVITATION_TTL`: how long a new or resent invitation stays answerable, such as `7d`,
    /// `36h`, `90s` (default `7d`; `0`: never expires).
    pub invitation_ttl: InvitationTtl,
    /// `INVITATION_SWEEP_INTERVAL_SECS`: how often pending invitations past their expiry are
    /// marked `expired` in the database (default a minute; `0` turns the sweeper off, e.g. when
    /// another process does it). Their status reads `expired` from their expiry on either way.
    pub invitation_sweep_interval: Option<Duration>,
    /// `EVENT_RETENTION_DAYS`: how long the change feed keeps changes (default 30, 1 to 3650);
    /// older ones are purged in the background every `TOKEN_PURGE_INTERVAL_SECS`.
    pub event_retention_days: u32,
    /// `STREAMS_PER_USER`: live streams one user may hold open in one process (default 5, 1 to
    /// 100); past it, 429.
    pub streams_per_user: usize,
    /// `STREAM_POLL_INTERVAL_MS`: the longest a live stream waits for a change when nothing wakes
    /// it (a missed notification; default 1000, 50 to 60000).
    pub stream_poll_interval: Duration,
    /// `WEBHOOK_ALLOW_PRIVATE`: let webhooks point at `http://` URLs and private addresses (for
    /// tests and local use; default `false`: `https://` and public addresses only).
    pub webhook_allow_private: bool,
    /// `WEBHOOK_TIMEOUT_SECS`: the most one delivery attempt may take (default 15, 1 to 60).
    pub webhook_timeout: Duration,
    /// `WEBHOOK_RETRY_SCHEDULE` (the waits between attempts, default
    /// `5s,5m,30m,2h,5h,10h,10h`) and `WEBHOOK_DISABLE_AFTER` (how long an endpoint may fail
    /// without a success before it is disabled, default `5d`).
    pub retry_policy: RetryPolicy,
    /// `DELIVERY_CONCURRENCY`: delivery attempts this process makes at once (default 32; `0`: this
    /// process delivers nothing, others on the database do).
    pub delivery_concurrency: usize,
    /// `SMTP_URL` and `SMTP_FROM`: where invitation emails go from (default none: no email).
    pub smtp: Option<SmtpConfig>,
}

/// A variable with a value that cannot be used; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}={value:?}: {expected}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What it held.
    pub value: String,
    /// What it should hold.
    pub expected: Cow<'static, str>,
}

impl Config {
    /// The default SQLite file, created on first start.
    pub const DEFAULT_DATABASE_URL: &'static str = "sqlite://data/event-manager.sqlite3";

    /// Reads the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable with an unusable value.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (for tests).
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable with an unusable value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let parse = |name: &'static str, expected: &'static str| {
            move |value: String| ConfigError {
                name,
                value,
                expected: expected.into(),
            }
        };

        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| Self::DEFAULT_DATABASE_URL.to_owned());
        let database_pool_size = match get("DATABASE_POOL_SIZE") {
            None => DatabaseConfig::DEFAULT_POOL_SIZE,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| parse("DATABASE_POOL_SIZE", "an integer from 1 to 1000")(v))?,
        };
        let database_timeout = match get("DATABASE_TIMEOUT_SECS") {
            None => DatabaseConfig::DEFAULT_CONNECTION_TIMEOUT,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=60).contains(n))
                .map(Duration::from_secs)
                .ok_or_else(|| parse("DATABASE_TIMEOUT_SECS", "an integer from 1 to 60")(v))?,
        };
        let millis = |name: &'static str, default: Duration, expected: &'static str| match get(name)
        {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (100..=600_000).contains(n))
                .map(Duration::from_millis)
                .ok_or_else(|| parse(name, expected)(v)),
        };
        let database_statement_timeout = millis(
            "DATABASE_STATEMENT_TIMEOUT_MS",
            DatabaseConfig::DEFAULT_STATEMENT_TIMEOUT,
            "milliseconds from 100 to 600000",
        )?;
        let database_lock_timeout = millis(
            "DATABASE_LOCK_TIMEOUT_MS",
            DatabaseConfig::DEFAULT_LOCK_TIMEOUT,
            "milliseconds from 100 to 600000",
        )?;
        let database_idle_in_transaction_timeout = millis(
            "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
            DatabaseConfig::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT,
            "milliseconds from 100 to 600000",
        )?;
        let bind_addr = match get("BIND_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v
                .parse()
                .map_err(|_| parse("BIND_ADDR", "an address and port such as 127.0.0.1:8080")(v))?,
        };
        let metrics_bind_addr = match get("METRICS_BIND_ADDR") {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| {
                parse(
                    "METRICS_BIND_ADDR",
                    "an address and port such as 127.0.0.1:9090",
                )(v)
            })?),
        };
        let phone_region = match get("DEFAULT_PHONE_REGION") {
            None => PhoneRegion::default(),
            Some(v) => PhoneRegion::parse(&v).map_err(|_| {
                parse(
                    "DEFAULT_PHONE_REGION",
                    "a two-letter region code such as IR",
                )(v)
            })?,
        };
        let token_ttl_days = match get("TOKEN_TTL_DAYS") {
            None => 30,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=3650).contains(n))
                .ok_or_else(|| parse("TOKEN_TTL_DAYS", "an integer from 1 to 3650")(v))?,
        };
        let token_purge_interval = match get("TOKEN_PURGE_INTERVAL_SECS") {
            None => Some(Duration::from_secs(3600)),
            Some(v) => match v.parse::<u64>().ok().filter(|n| *n <= 7 * 86_400) {
                Some(0) => None,
                Some(secs) => Some(Duration::from_secs(secs)),
                None => {
                    return Err(parse(
                        "TOKEN_PURGE_INTERVAL_SECS",
                        "seconds from 0 (off) to 604800",
                    )(v))
                }
            },
        };
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(parse("LOG_FORMAT", "pretty or json")(other.to_owned())),
        };
        let cors_allowed_origins = match get("CORS_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(v) => {
                let origins: Vec<String> = v
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
                let valid = |o: &String| {
                    (o.starts_with("http://") || o.starts_with("https://"))
                        && !o.contains(char::is_whitespace)
                };
                if !origins.iter().all(valid) {
                    return Err(parse(
                        "CORS_ALLOWED_ORIGINS",
                        "comma-separated origins such as https://app.example.com",
                    )(v));
                }
                origins
            }
        };
        let http_workers = match get("HTTP_WORKERS") {
            None => None,
            Some(v) => Some(
                v.parse()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or_else(|| parse("HTTP_WORKERS", "an integer from 1 to 256")(v))?,
            ),
        };
        let request_body_timeout = match get("REQUEST_BODY_TIMEOUT_SECS") {
            None => Duration::from_secs(10),
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=300).contains(n))
                .map(Duration::from_secs)
                .ok_or_else(|| parse("REQUEST_BODY_TIMEOUT_SECS", "an integer from 1 to 300")(v))?,
        };
        let per_minute = |name: &'static str, default: u32| match get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= 1_000_000)
                .ok_or_else(|| {
                    parse(
                        name,
                        "a whole number of events per minute (0 turns the limit off)",
                    )(v)
                }),
        };
        let defaults = http_actix::RateLimits::default();
        let rate_limits = http_actix::RateLimits {
            login_failures_per_account_address: per_minute(
                "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS",
                defaults.login_failures_per_account_address,
            )?,
            login_failures_per_account: per_minute(
                "LOGIN_FAILURES_PER_ACCOUNT",
                defaults.login_failures_per_account,
            )?,
            login_failures_per_address: per_minute(
                "LOGIN_FAILURES_PER_ADDRESS",
                defaults.login_failures_per_address,
            )?,
            registrations_per_address: per_minute(
                "REGISTRATIONS_PER_ADDRESS",
                defaults.registrations_per_address,
            )?,
            sends_per_user: per_minute("SEND_INVITATIONS_PER_USER", defaults.sends_per_user)?,
        };
        let trusted_proxies = match get("TRUSTED_PROXIES") {
            None => http_actix::TrustedProxies::default(),
            Some(v) => trusted_proxies(&v).ok_or_else(|| {
                parse(
                    "TRUSTED_PROXIES",
                    "comma-separated addresses or networks such as 10.0.0.0/8,192.0.2.7",
                )(v)
            })?,
        };
        let cursor_secret = match get("CURSOR_SECRET") {
            None => None,
            Some(v) if v.len() >= http_actix::CursorKey::MIN_LEN => Some(SecretString::from(v)),
            // The value is a secret: the message gives its length only.
            Some(v) => {
                return Err(parse("CURSOR_SECRET", "at least 32 bytes")(format!(
                    "<{} bytes>",
                    v.len()
                )))
            }
        };
        let invitation_ttl = match get("INVITATION_TTL") {
            None => InvitationTtl::DEFAULT,
            Some(v) => InvitationTtl::parse(&v).map_err(|_| {
                parse(
                    "INVITATION_TTL",
                    "a whole number of s, m, h or d such as 7d, 36h or 90s, at most 3650d, or 0 \
                     for never",
                )(v)
            })?,
        };
        let invitation_sweep_interval = match get("INVITATION_SWEEP_INTERVAL_SECS") {
            None => Some(Duration::from_secs(60)),
            Some(v) => match v.parse::<u64>().ok().filter(|n| *n <= 86_400) {
                Some(0) => None,
                Some(secs) => Some(Duration::from_secs(secs)),
                None => {
                    return Err(parse(
                        "INVITATION_SWEEP_INTERVAL_SECS",
                        "seconds from 0 (off) to 86400",
                    )(v))
                }
            },
        };
        let event_retention_days = match get("EVENT_RETENTION_DAYS") {
            None => 30,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=3650).contains(n))
                .ok_or_else(|| parse("EVENT_RETENTION_DAYS", "an integer from 1 to 3650")(v))?,
        };
        let streams_per_user = match get("STREAMS_PER_USER") {
            None => 5,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| parse("STREAMS_PER_USER", "an integer from 1 to 100")(v))?,
        };
        let stream_poll_interval = match get("STREAM_POLL_INTERVAL_MS") {
            None => Duration::from_millis(1000),
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (50..=60_000).contains(n))
                .map(Duration::from_millis)
                .ok_or_else(|| {
                    parse("STREAM_POLL_INTERVAL_MS", "milliseconds from 50 to 60000")(v)
                })?,
        };
        let webhook_allow_private = match get("WEBHOOK_ALLOW_PRIVATE").as_deref() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                return Err(parse("WEBHOOK_ALLOW_PRIVATE", "true or false")(
                    other.to_owned(),
                ))
            }
        };
        let webhook_timeout = match get("WEBHOOK_TIMEOUT_SECS") {
            None => Duration::from_secs(15),
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=60).contains(n))
                .map(Duration::from_secs)
                .ok_or_else(|| parse("WEBHOOK_TIMEOUT_SECS", "an integer from 1 to 60")(v))?,
        };
        let mut retry_policy = RetryPolicy::default();
        if let Some(v) = get("WEBHOOK_RETRY_SCHEDULE") {
            retry_policy.schedule = RetryPolicy::parse_schedule(&v).map_err(|_| {
                parse(
                    "WEBHOOK_RETRY_SCHEDULE",
                    "waits such as 5s,5m,30m,2h separated by commas (each up to 7d, at most 20), \
                     or none",
                )(v)
            })?;
        }
        if let Some(v) = get("WEBHOOK_DISABLE_AFTER") {
            retry_policy.disable_after = whole_duration(&v)
                .filter(|d| *d > chrono::Duration::zero() && *d <= chrono::Duration::days(365))
                .ok_or_else(|| {
                    parse(
                        "WEBHOOK_DISABLE_AFTER",
                        "a whole number of s, m, h or d such as 5d, from 1s to 365d",
                    )(v)
                })?;
        }
        let delivery_concurrency = match get("DELIVERY_CONCURRENCY") {
            None => 32,
            Some(v) => v.parse().ok().filter(|n| *n <= 1024).ok_or_else(|| {
                parse("DELIVERY_CONCURRENCY", "an integer from 0 (off) to 1024")(v)
            })?,
        };
        let smtp = match (get("SMTP_URL"), get("SMTP_FROM")) {
            (None, _) => None,
            (Some(_), None) => return Err(parse(
                "SMTP_FROM",
                "a mailbox such as `Event Manager <no-reply@example.com>` (needed with SMTP_URL)",
            )(String::new())),
            (Some(url), Some(from)) => Some(SmtpConfig::parse(&url, &from).map_err(|error| {
                let (name, value) = match error.variable() {
                    "SMTP_FROM" => ("SMTP_FROM", from.clone()),
                    // The URL may carry a password: the message shows the text without it.
                    _ => ("SMTP_URL", redacted_url(&url)),
                };
                ConfigError {
                    name,
                    value,
                    expected: error.to_string().into(),
                }
            })?),
        };
        Ok(Self {
            database_url: SecretString::from(database_url),
            database_pool_size,
            database_timeout,
            database_statement_timeout,
            database_lock_timeout,
            database_idle_in_transaction_timeout,
            bind_addr,
            metrics_bind_addr,
            phone_region,
            token_ttl_days,
            token_purge_interval,
            log_format,
            cors_allowed_origins,
            http_workers,
            request_body_timeout,
            rate_limits,
            trusted_proxies,
            cursor_secret,
            invitation_ttl,
            invitation_sweep_interval,
            event_retention_days,
            streams_per_user,
            stream_poll_interval,
            webhook_allow_private,
            webhook_timeout,
            retry_policy,
            delivery_concurrency,
            smtp,
        })
    }

    /// The database settings for the adapter.
    pub fn database(&self) -> DatabaseConfig {
        DatabaseConfig {
            url: self.database_url.expose_secret().to_owned(),
            pool_size: self.database_pool_size,
            connection_timeout: self.database_timeout,
            statement_timeout: self.database_statement_timeout,
            lock_timeout: self.database_lock_timeout,
            idle_in_transaction_timeout: self.database_idle_in_transaction_timeout,
        }
    }
}

/// A URL with its password, if any, replaced by `***`, for error messages.
fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<not a URL>".to_owned(),
    }
}

/// `10.0.0.0/8, 192.0.2.7` as networks (an address is a network of one); `None` if an entry is
/// neither.
fn trusted_proxies(value: &str) -> Option<http_actix::TrustedProxies> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry.parse::<ipnet::IpNet>().ok().or_else(|| {
                entry
                    .parse::<std::net::IpAddr>()
                    .ok()
                    .map(ipnet::IpNet::from)
            })
        })
        .collect::<Option<Vec<_>>>()
        .map(http_actix::TrustedProxies::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_need_no_variables() {
        let config = with(&[]).unwrap();
        assert_eq!(
            config.database_url.expose_secret(),
            Config::DEFAULT_DATABASE_URL
        );
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_pool_size, 10);
        assert_eq!(config.database_timeout, Duration::from_secs(2));
        let database = config.database();
        assert_eq!(database.statement_timeout, Duration::from_secs(5));
        assert_eq!(database.lock_timeout, Duration::from_secs(3));
        assert_eq!(
            database.idle_in_transaction_timeout,
            Duration::from_secs(10)
        );
        assert_eq!(config.token_ttl_days, 30);
        assert_eq!(config.request_body_timeout, Duration::from_secs(10));
        assert_eq!(config.token_purge_interval, Some(Duration::from_secs(3600)));
        assert_eq!(
            with(&[("TOKEN_PURGE_INTERVAL_SECS", "0")])
                .unwrap()
                .token_purge_interval,
            None
        );
        assert_eq!(config.phone_region.code(), "IR");
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(config.cors_allowed_origins.is_empty());
        assert!(config.cursor_secret.is_none());
        assert_eq!(config.invitation_ttl, InvitationTtl::DEFAULT);
        assert_eq!(
            config.invitation_sweep_interval,
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn invitation_ttl_is_a_duration_or_0_and_a_bad_one_stops_the_start_naming_it() {
        let ttl = |v: &str| with(&[("INVITATION_TTL", v)]).map(|c| c.invitation_ttl);
        assert_eq!(ttl("36h").unwrap(), InvitationTtl::parse("36h").unwrap());
        assert_eq!(ttl(" 90s ").unwrap(), InvitationTtl::parse("90s").unwrap());
        assert_eq!(ttl("0").unwrap(), InvitationTtl::NEVER);
        for bad in ["7", "7days", "1.5d", "-1d", "7 d", "3651d"] {
            let message = ttl(bad).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("invalid INVITATION_TTL=\"{bad}\": ")),
                "{message}"
            );
        }
        let sweep = |v: &str| {
            with(&[("INVITATION_SWEEP_INTERVAL_SECS", v)]).map(|c| c.invitation_sweep_interval)
        };
        assert_eq!(sweep("0").unwrap(), None);
        assert_eq!(sweep("5").unwrap(), Some(Duration::from_secs(5)));
        assert!(sweep("-1").is_err() && sweep("86401").is_err());
    }

    #[test]
    fn a_cursor_secret_needs_32_bytes_and_is_never_echoed() {
        let secret = "0123456789abcdef0123456789abcdef";
        let config = with(&[("CURSOR_SECRET", secret)]).unwrap();
        assert_eq!(config.cursor_secret.unwrap().expose_secret(), secret);
        let message = with(&[("CURSOR_SECRET", &secret[1..])])
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "invalid CURSOR_SECRET=\"<31 bytes>\": at least 32 bytes"
        );
    }

    #[test]
    fn a_bad_value_is_named_in_one_line() {
        for (name, value) in [
            ("BIND_ADDR", "nowhere"),
            ("DATABASE_POOL_SIZE", "0"),
            ("DATABASE_POOL_SIZE", "ten"),
            ("DATABASE_STATEMENT_TIMEOUT_MS", "0"),
            ("DATABASE_LOCK_TIMEOUT_MS", "3s"),
            ("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", "99"),
            ("DEFAULT_PHONE_REGION", "XX"),
            ("TOKEN_TTL_DAYS", "-1"),
            ("TOKEN_PURGE_INTERVAL_SECS", "hourly"),
            ("REQUEST_BODY_TIMEOUT_SECS", "0"),
            ("LOG_FORMAT", "xml"),
            ("CORS_ALLOWED_ORIGINS", "example.com"),
            ("LOGIN_FAILURES_PER_ACCOUNT", "many"),
            ("SEND_INVITATIONS_PER_USER", "-3"),
            ("REGISTRATIONS_PER_ADDRESS", "ten"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ] {
            let message = with(&[(name, value)]).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("invalid {name}=")),
                "{message}"
            );
            assert!(!message.contains('\n'));
        }
    }

    #[test]
    fn values_are_read() {
        let config = with(&[
            ("BIND_ADDR", "0.0.0.0:9000"),
            ("DEFAULT_PHONE_REGION", "us"),
            ("LOG_FORMAT", "json"),
            ("DATABASE_LOCK_TIMEOUT_MS", "1500"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://a.example, http://localhost:3000/",
            ),
        ])
        .unwrap();
        assert_eq!(config.bind_addr.port(), 9000);
        assert_eq!(config.phone_region.code(), "US");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.database().lock_timeout, Duration::from_millis(1500));
        assert_eq!(
            config.trusted_proxies,
            http_actix::TrustedProxies::new(vec![
                "10.0.0.0/8".parse().unwrap(),
                "192.0.2.7/32".parse().unwrap()
            ])
        );
        assert_eq!(
            config.cors_allowed_origins,
            ["https://a.example", "http://localhost:3000"]
        );
    }
}
