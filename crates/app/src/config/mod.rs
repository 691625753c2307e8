//! Configuration from environment variables, read once at start: [`Settings`] declares each
//! variable with its default and accepted form (what `event-manager --help` lists, and the table in
//! README.md, "Configuration") and checks its value as it is read; [`Config`] is what the service
//! runs with.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Duration;

use adapters_diesel::DatabaseConfig;
use adapters_outbound::{FileMailer, FileSmsSender, OutboxDir, SmtpConfig, SmtpConfigError};
use clap::{Args, FromArgMatches};
use domain::invitations::InvitationTtl;
use domain::webhooks::delivery::RetryPolicy;
use domain::PhoneRegion;
use secrecy::{ExposeSecret, SecretString};

/// How logs are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

mod parse;
mod settings;
#[cfg(test)]
mod tests;
mod transports;

use parse::*;
pub use settings::Settings;
pub use transports::*;

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
    /// `DATABASE_PREPARED_STATEMENTS`: whether PostgreSQL connections keep named prepared
    /// statements (default true; false behind a pooler in transaction mode).
    pub database_prepared_statements: bool,
    /// `DATABASE_LISTEN_URL`: a direct PostgreSQL connection for `LISTEN` (default none:
    /// `DATABASE_URL`).
    pub database_listen_url: Option<SecretString>,
    /// `DATABASE_READ_URL`: a streaming hot standby for list reads (default none).
    pub database_read_url: Option<SecretString>,
    /// `BIND_ADDR` (default `127.0.0.1:8080`).
    pub bind_addr: SocketAddr,
    /// `METRICS_BIND_ADDR`: where Prometheus scrapes `GET /metrics` (default none: no metrics
    /// listener; docs/operations.md, "Metrics").
    pub metrics_bind_addr: Option<SocketAddr>,
    /// `DEFAULT_PHONE_REGION` (default `IR`).
    pub phone_region: PhoneRegion,
    /// `CONTACT_VERIFICATION` (default `required`).
    pub contact_verification: domain::accounts::ContactVerification,
    /// `LEGACY_CONTACTS=unproven`: contacts proven by the upgrade are proven again (default: they
    /// stay proven).
    pub unprove_legacy_contacts: bool,
    /// `SMS_ALLOWED_REGIONS` (default: `DEFAULT_PHONE_REGION` alone).
    pub sms_regions: Vec<PhoneRegion>,
    /// `SEND_RECIPIENTS_PER_DAY`, `SEND_RECIPIENTS_PER_DAY_ESTABLISHED` and
    /// `MESSAGES_PER_RECIPIENT_PER_DAY`.
    pub send_caps: domain::invitations::SendCaps,
    /// `TOKEN_TTL_DAYS` (default 30).
    pub token_ttl_days: u32,
    /// `TOKEN_CACHE_SECS`: how long a looked-up bearer token is trusted without asking the
    /// database again (default 2 s; zero: off; docs/operations.md, "Token cache").
    pub token_cache: Duration,
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
    /// `LOGIN_FAILURES_PER_ADDRESS`, `REGISTRATIONS_PER_ADDRESS`, `SEND_INVITATIONS_PER_USER`,
    /// `EVENT_EDITS_PER_USER_PER_MINUTE`, `STREAM_TICKETS_PER_USER_PER_MINUTE`,
    /// `WEBHOOK_CREATIONS_PER_USER_PER_MINUTE`, `LINK_REQUESTS_PER_ADDRESS_PER_MINUTE`: per-minute
    /// limits;
    /// `EVENTS_PER_USER_PER_DAY`: events created within any 24 hours;
    /// `EVENT_NOTICES_PER_USER_PER_HOUR`: edits that may message an event's followers within any
    /// hour (0 turns one off).
    pub rate_limits: http_actix::RateLimits,
    /// `PUBLIC_URL`: the base of every link the service sends (default `http://127.0.0.1:8080`).
    pub public_url: domain::links::PublicUrl,
    /// `TRUSTED_PROXIES`: comma-separated addresses or networks of reverse proxies whose
    /// `X-Forwarded-For` names the client (default none: the TCP peer is the client); with
    /// `IPV6_CLIENT_PREFIX`, how many leading bits of an IPv6 address name one client (default
    /// 64).
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
    /// `REMINDER_SWEEP_INTERVAL_SECS`: how often the reminders due are sent (default 30 s; `0`
    /// turns the sweeper off in this process). A reminder goes out within this interval of its
    /// time, once across every process (docs/operations.md, "Reminders").
    pub reminder_sweep_interval: Option<Duration>,
    /// `EVENT_RETENTION_DAYS`: how long the change feed keeps changes (default 30, 1 to 3650);
    /// older ones are purged in the background every `TOKEN_PURGE_INTERVAL_SECS`.
    pub event_retention_days: u32,
    /// `STREAMS_PER_USER`: live streams one user may hold open in one process (default 5, 1 to
    /// 100); past it, 429.
    pub streams_per_user: usize,
    /// `STREAMS_PER_PROCESS`: live streams the process may hold open (default 10000); past it,
    /// 503.
    pub streams_per_process: usize,
    /// `STREAM_POLL_INTERVAL_MS`: the longest a live stream waits for a change when nothing wakes
    /// it (a missed notification; default 1000, 50 to 60000).
    pub stream_poll_interval: Duration,
    /// `WEBHOOK_ALLOW_PRIVATE`: let webhooks point at `http://` URLs and private addresses (for
    /// tests and local use; default `false`: `https://` and public addresses only).
    pub webhook_allow_private: bool,
    /// `WEBHOOK_TIMEOUT_SECS`: the most one delivery attempt may take (default 15, 1 to 60).
    pub webhook_timeout: Duration,
    /// `WEBHOOK_ALLOWED_PORTS`: the ports webhook URLs may name unless `WEBHOOK_ALLOW_PRIVATE`
    /// (default 443 and 8443).
    pub webhook_allowed_ports: Vec<u16>,
    /// `WEBHOOK_RETRY_SCHEDULE` (the waits between attempts, default
    /// `5s,5m,30m,2h,5h,10h,10h`) and `WEBHOOK_DISABLE_AFTER` (how long an endpoint may fail
    /// without a success before it is disabled, default `5d`).
    pub retry_policy: RetryPolicy,
    /// `DELIVERY_CONCURRENCY`: delivery attempts this process makes at once (default 32; `0`: this
    /// process delivers nothing, others on the database do).
    pub delivery_concurrency: usize,
    /// `SMTP_URL`, `SMTP_FROM` and `OUTBOX_DIR`: how invitation emails go out (default: as files
    /// in `OUTBOX_DIR/mail`).
    pub email: EmailTransport,
    /// `SMS_URL` and `OUTBOX_DIR`: how text messages would go out (default: as files in
    /// `OUTBOX_DIR/sms`). Read and checked at start, and logged; no text is sent yet.
    pub sms: SmsTransport,
    /// `SMS_TIMEOUT_SECS`: the most one attempt to send a text may take (default 15, 1 to 60).
    pub sms_timeout: Duration,
    /// `SMS_INBOUND_SECRET`: what the SMS gateway names when it hands over a text from a phone;
    /// `None`: such texts are not taken.
    pub sms_inbound_secret: Option<SecretString>,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME`: where traces go and the service
    /// they name (default none: no traces; docs/operations.md, "Traces").
    pub traces: Option<TraceExport>,
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

impl ConfigError {
    /// The `ConfigError` inside `error`, when a setting's value is what clap rejected.
    pub fn in_clap_error(error: &clap::Error) -> Option<&Self> {
        std::error::Error::source(error)?.downcast_ref()
    }
}

impl Config {
    /// The default SQLite file, created on first start.
    pub const DEFAULT_DATABASE_URL: &'static str = "sqlite://data/event-manager.sqlite3";

    /// The `From` of emails written to files when `SMTP_FROM` is unset.
    pub const FILE_MAIL_FROM: &'static str = "Event Manager <no-reply@localhost>";

    /// Reads the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable with an unusable value.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (for tests) instead of the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable with an unusable value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let command = Settings::augment_args(clap::Command::new("event-manager"));
        // Each value looked up becomes its option, and clap does not read the environment itself.
        let args: Vec<String> = command
            .get_arguments()
            .filter_map(|arg| {
                let (name, long) = (arg.get_env()?.to_str()?, arg.get_long()?);
                let value = lookup(name)?;
                let value = value.trim();
                (!value.is_empty()).then(|| format!("--{long}={value}"))
            })
            .collect();
        let settings = command
            .mut_args(|arg| arg.env(None::<&'static str>))
            .try_get_matches_from(std::iter::once("event-manager".to_owned()).chain(args))
            .and_then(|matches| Settings::from_arg_matches(&matches))
            .map_err(|error| match ConfigError::in_clap_error(&error) {
                Some(error) => ConfigError {
                    name: error.name,
                    value: error.value.clone(),
                    expected: error.expected.clone(),
                },
                // Every setting's parser fails with a `ConfigError`; this is a setting declared
                // wrong.
                None => ConfigError {
                    name: "settings",
                    value: String::new(),
                    expected: error.to_string().trim().replace('\n', " ").into(),
                },
            })?;
        Self::from_settings(settings)
    }

    /// The configuration the settings make.
    ///
    /// # Errors
    /// [`ConfigError`] for a mail server in `SMTP_URL` without `SMTP_FROM`, or when either is
    /// unusable.
    pub fn from_settings(settings: Settings) -> Result<Self, ConfigError> {
        let Settings {
            database_url,
            database_pool_size,
            database_timeout_secs,
            database_statement_timeout_ms,
            database_lock_timeout_ms,
            database_idle_in_transaction_timeout_ms,
            database_prepared_statements,
            database_listen_url,
            database_read_url,
            bind_addr,
            metrics_bind_addr,
            http_workers,
            request_body_timeout_secs,
            cors_allowed_origins,
            trusted_proxies,
            ipv6_client_prefix,
            cursor_secret,
            log_format,
            login_failures_per_account_address,
            login_failures_per_account,
            login_failures_per_address,
            registrations_per_address,
            send_invitations_per_user,
            events_per_user_per_day,
            event_edits_per_user_per_minute,
            stream_tickets_per_user_per_minute,
            webhook_creations_per_user_per_minute,
            webhook_creations_per_host_per_hour,
            link_requests_per_address_per_minute,
            event_notices_per_user_per_hour,
            public_url,
            send_recipients_per_day,
            send_recipients_per_day_established,
            messages_per_recipient_per_day,
            default_phone_region,
            contact_verification,
            legacy_contacts,
            sms_allowed_regions,
            token_ttl_days,
            token_cache_secs,
            token_purge_interval_secs,
            invitation_ttl,
            invitation_sweep_interval_secs,
            reminder_sweep_interval_secs,
            event_retention_days,
            streams_per_user,
            streams_per_process,
            stream_poll_interval_ms,
            webhook_allow_private,
            webhook_timeout_secs,
            webhook_allowed_ports,
            webhook_retry_schedule,
            webhook_disable_after,
            delivery_concurrency,
            smtp_url,
            smtp_from,
            otel_exporter_otlp_endpoint,
            otel_service_name,
            sms_url,
            sms_timeout_secs,
            sms_inbound_secret,
            outbox_dir,
        } = settings;
        let outbox = OutboxDir::new(outbox_dir);
        let email = match (smtp_url, smtp_from) {
            (None, from) => {
                let from = from.as_deref().unwrap_or(Self::FILE_MAIL_FROM);
                let from = from.parse().map_err(|_| ConfigError {
                    name: "SMTP_FROM",
                    value: from.to_owned(),
                    expected: SmtpConfigError::From.to_string().into(),
                })?;
                EmailTransport::Files(FileMailer::new(&outbox, from))
            }
            (Some(url), _) if url.expose_secret() == "none" => EmailTransport::Off,
            (Some(_), None) => {
                return Err(ConfigError {
                    name: "SMTP_FROM",
                    value: String::new(),
                    expected: "a mailbox such as `Event Manager <no-reply@example.com>` (needed \
                               with SMTP_URL)"
                        .into(),
                })
            }
            (Some(url), Some(from)) => {
                let url = url.expose_secret();
                EmailTransport::Smtp(SmtpConfig::parse(url, &from).map_err(|error| {
                    let (name, value) = match error.variable() {
                        "SMTP_FROM" => ("SMTP_FROM", from.clone()),
                        // The URL may carry a password: the message shows the text without it.
                        _ => ("SMTP_URL", redacted_url(url)),
                    };
                    ConfigError {
                        name,
                        value,
                        expected: error.to_string().into(),
                    }
                })?)
            }
        };
        let interval = |secs: u64| (secs > 0).then_some(Duration::from_secs(secs));
        Ok(Self {
            database_url,
            database_pool_size,
            database_timeout: Duration::from_secs(database_timeout_secs),
            database_statement_timeout: Duration::from_millis(database_statement_timeout_ms),
            database_lock_timeout: Duration::from_millis(database_lock_timeout_ms),
            database_idle_in_transaction_timeout: Duration::from_millis(
                database_idle_in_transaction_timeout_ms,
            ),
            database_prepared_statements,
            database_listen_url,
            database_read_url,
            bind_addr,
            metrics_bind_addr,
            phone_region: default_phone_region,
            contact_verification,
            unprove_legacy_contacts: legacy_contacts == settings::LegacyContacts::Unproven,
            send_caps: domain::invitations::SendCaps {
                recipients_new: send_recipients_per_day,
                recipients_established: send_recipients_per_day_established,
                per_recipient: messages_per_recipient_per_day,
            },
            sms_regions: sms_allowed_regions.map_or_else(|| vec![default_phone_region], |r| r.0),
            token_ttl_days,
            token_cache: Duration::from_secs(token_cache_secs),
            token_purge_interval: interval(token_purge_interval_secs),
            log_format,
            cors_allowed_origins: cors_allowed_origins.unwrap_or_default(),
            http_workers,
            request_body_timeout: Duration::from_secs(request_body_timeout_secs),
            rate_limits: http_actix::RateLimits {
                login_failures_per_account_address,
                login_failures_per_account,
                login_failures_per_address,
                registrations_per_address,
                sends_per_user: send_invitations_per_user,
                events_per_user_per_day,
                event_edits_per_user: event_edits_per_user_per_minute,
                stream_tickets_per_user: stream_tickets_per_user_per_minute,
                webhook_creations_per_user: webhook_creations_per_user_per_minute,
                webhook_creations_per_host_per_hour,
                link_requests_per_address: link_requests_per_address_per_minute,
                event_notices_per_user_per_hour,
            },
            public_url,
            trusted_proxies: trusted_proxies
                .unwrap_or_default()
                .with_ipv6_prefix(ipv6_client_prefix),
            cursor_secret,
            invitation_ttl,
            invitation_sweep_interval: interval(invitation_sweep_interval_secs),
            reminder_sweep_interval: interval(reminder_sweep_interval_secs),
            event_retention_days,
            streams_per_user,
            streams_per_process,
            stream_poll_interval: Duration::from_millis(stream_poll_interval_ms),
            webhook_allow_private,
            webhook_timeout: Duration::from_secs(webhook_timeout_secs),
            webhook_allowed_ports: webhook_allowed_ports.0,
            retry_policy: RetryPolicy {
                schedule: webhook_retry_schedule,
                disable_after: webhook_disable_after,
                ..RetryPolicy::default()
            },
            delivery_concurrency,
            email,
            sms: sms_url.unwrap_or_else(|| SmsTransport::Files(FileSmsSender::new(&outbox))),
            sms_timeout: Duration::from_secs(sms_timeout_secs),
            sms_inbound_secret,
            traces: otel_exporter_otlp_endpoint.map(|endpoint| TraceExport {
                endpoint,
                service_name: otel_service_name,
            }),
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
            prepared_statements: self.database_prepared_statements,
            listen_url: self
                .database_listen_url
                .as_ref()
                .map(|url| url.expose_secret().to_owned()),
            read_url: self
                .database_read_url
                .as_ref()
                .map(|url| url.expose_secret().to_owned()),
            token_cache: self.token_cache,
        }
    }
}
