//! Configuration from environment variables, read once at start: [`Settings`] declares each
//! variable with its default and accepted form (what `event-manager --help` lists, and the table in
//! README.md, "Configuration") and checks its value as it is read; [`Config`] is what the service
//! runs with.

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use adapters_diesel::DatabaseConfig;
use adapters_outbound::{
    FileMailer, FileSmsSender, OutboxDir, SmsUrl, SmtpConfig, SmtpConfigError, SmtpSecurity,
};
use clap::{Args, FromArgMatches};
use domain::duration::whole_duration;
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

/// The settings as the environment gives them, each checked as it is read. Every one is an
/// environment variable and the option of the same name (`BIND_ADDR`, `--bind-addr`; the option
/// wins). A variable set to blanks counts as unset. [`Config::from_settings`] turns them into the
/// [`Config`] the service runs with.
#[derive(Clone, Debug, Args)]
pub struct Settings {
    /// `postgres://user:pass@host/db`, or a SQLite file path (created, with its directory, if
    /// missing)
    #[arg(long, env, help_heading = "Database", hide_env_values = true,
        default_value = Config::DEFAULT_DATABASE_URL, value_parser = secret)]
    database_url: SecretString,
    /// Pooled connections per process: an integer from 1 to 1000
    #[arg(long, env, help_heading = "Database",
        default_value_t = DatabaseConfig::DEFAULT_POOL_SIZE,
        value_parser = integer::<u32>("DATABASE_POOL_SIZE", 1..=1000, "an integer from 1 to 1000"))]
    database_pool_size: u32,
    /// How long a request waits for a connection before 503: seconds from 1 to 60
    #[arg(long, env, help_heading = "Database",
        default_value_t = DatabaseConfig::DEFAULT_CONNECTION_TIMEOUT.as_secs(),
        value_parser = integer::<u64>("DATABASE_TIMEOUT_SECS", 1..=60, "an integer from 1 to 60"))]
    database_timeout_secs: u64,
    /// PostgreSQL `statement_timeout`, the longest statement before 503: milliseconds from 100 to
    /// 600000
    #[arg(long, env, help_heading = "Database",
        default_value_t = millis(DatabaseConfig::DEFAULT_STATEMENT_TIMEOUT),
        value_parser = integer::<u64>("DATABASE_STATEMENT_TIMEOUT_MS", 100..=600_000, TIMEOUT_MS))]
    database_statement_timeout_ms: u64,
    /// PostgreSQL `lock_timeout` and SQLite `busy_timeout`, the longest wait for a lock before
    /// 503: milliseconds from 100 to 600000
    #[arg(long, env, help_heading = "Database",
        default_value_t = millis(DatabaseConfig::DEFAULT_LOCK_TIMEOUT),
        value_parser = integer::<u64>("DATABASE_LOCK_TIMEOUT_MS", 100..=600_000, TIMEOUT_MS))]
    database_lock_timeout_ms: u64,
    /// PostgreSQL `idle_in_transaction_session_timeout`: milliseconds from 100 to 600000
    #[arg(long, env, help_heading = "Database",
        default_value_t = millis(DatabaseConfig::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT),
        value_parser = integer::<u64>(
            "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
            100..=600_000,
            TIMEOUT_MS,
        ))]
    database_idle_in_transaction_timeout_ms: u64,

    /// The API's listen address: an address and port such as 127.0.0.1:8080
    #[arg(long, env, help_heading = "HTTP", default_value = "127.0.0.1:8080",
        value_parser = parsed::<SocketAddr>(
            "BIND_ADDR",
            "an address and port such as 127.0.0.1:8080",
        ))]
    bind_addr: SocketAddr,
    /// Where `GET /metrics` (Prometheus) is served, on a listener of its own: an address and port
    /// such as 127.0.0.1:9090. Unset: no metrics
    #[arg(long, env, help_heading = "HTTP",
        value_parser = parsed::<SocketAddr>(
            "METRICS_BIND_ADDR",
            "an address and port such as 127.0.0.1:9090",
        ))]
    metrics_bind_addr: Option<SocketAddr>,
    /// Actix worker threads: an integer from 1 to 256. Unset: one per core
    #[arg(long, env, help_heading = "HTTP",
        value_parser = integer::<usize>("HTTP_WORKERS", 1..=256, "an integer from 1 to 256"))]
    http_workers: Option<usize>,
    /// The longest a request body may take to arrive before 408 and a closed connection: seconds
    /// from 1 to 300
    #[arg(long, env, help_heading = "HTTP", default_value_t = 10,
        value_parser = integer::<u64>(
            "REQUEST_BODY_TIMEOUT_SECS",
            1..=300,
            "an integer from 1 to 300",
        ))]
    request_body_timeout_secs: u64,
    /// Origins allowed to call the API from browsers: comma-separated, such as
    /// https://app.example.com. Unset: none
    #[arg(long, env, help_heading = "HTTP",
        value_parser = checked(
            "CORS_ALLOWED_ORIGINS",
            "comma-separated origins such as https://app.example.com",
            origins,
        ))]
    // Spelled out, so that clap takes the list as one value, split here.
    cors_allowed_origins: Option<std::vec::Vec<String>>,
    /// Reverse proxies whose `X-Forwarded-For` names the client: comma-separated addresses or
    /// networks such as 10.0.0.0/8,192.0.2.7. Unset: the TCP peer is the client
    #[arg(long, env, help_heading = "HTTP",
        value_parser = checked(
            "TRUSTED_PROXIES",
            "comma-separated addresses or networks such as 10.0.0.0/8,192.0.2.7",
            trusted_proxies,
        ))]
    trusted_proxies: Option<http_actix::TrustedProxies>,
    /// The key list cursors are signed with: at least 32 bytes. Unset: a key kept in the database,
    /// made by the first process
    #[arg(long, env, help_heading = "HTTP", hide_env_values = true, value_parser = cursor_secret)]
    cursor_secret: Option<SecretString>,
    /// How logs are printed: pretty or json (`RUST_LOG` filters them, default info)
    #[arg(long, env, help_heading = "HTTP", default_value = "pretty",
        value_parser = checked("LOG_FORMAT", "pretty or json", log_format))]
    log_format: LogFormat,

    /// Failed logins per account from one client address per minute before 429: an integer from
    /// 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().login_failures_per_account_address,
        value_parser = integer::<u32>(
            "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS",
            0..=1_000_000,
            PER_MINUTE,
        ))]
    login_failures_per_account_address: u32,
    /// Failed logins per account from all addresses per minute before 429: an integer from 0
    /// (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().login_failures_per_account,
        value_parser = integer::<u32>("LOGIN_FAILURES_PER_ACCOUNT", 0..=1_000_000, PER_MINUTE))]
    login_failures_per_account: u32,
    /// Failed logins per client address (any account) per minute before 429: an integer from 0
    /// (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().login_failures_per_address,
        value_parser = integer::<u32>("LOGIN_FAILURES_PER_ADDRESS", 0..=1_000_000, PER_MINUTE))]
    login_failures_per_address: u32,
    /// Registrations per client address per minute before 429: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().registrations_per_address,
        value_parser = integer::<u32>("REGISTRATIONS_PER_ADDRESS", 0..=1_000_000, PER_MINUTE))]
    registrations_per_address: u32,
    /// Send requests per user per minute before 429: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().sends_per_user,
        value_parser = integer::<u32>("SEND_INVITATIONS_PER_USER", 0..=1_000_000, PER_MINUTE))]
    send_invitations_per_user: u32,

    /// Region for mobiles written without `+`: a two-letter region code such as IR
    #[arg(long, env, help_heading = "Accounts and invitations", default_value = "IR",
        value_parser = checked(
            "DEFAULT_PHONE_REGION",
            "a two-letter region code such as IR",
            |v| PhoneRegion::parse(v).ok(),
        ))]
    default_phone_region: PhoneRegion,
    /// Bearer token lifetime: days from 1 to 3650
    #[arg(long, env, help_heading = "Accounts and invitations", default_value_t = 30,
        value_parser = integer::<u32>("TOKEN_TTL_DAYS", 1..=3650, "an integer from 1 to 3650"))]
    token_ttl_days: u32,
    /// How often expired and long-revoked tokens, expired idempotency keys, changes older than
    /// EVENT_RETENTION_DAYS and expired stream tickets are deleted: seconds from 0 (off) to 604800
    #[arg(long, env, help_heading = "Accounts and invitations", default_value_t = 3600,
        value_parser = integer::<u64>(
            "TOKEN_PURGE_INTERVAL_SECS",
            0..=604_800,
            "seconds from 0 (off) to 604800",
        ))]
    token_purge_interval_secs: u64,
    /// How long a new or resent invitation stays answerable: a whole number of s, m, h or d such
    /// as 7d, 36h or 90s, at most 3650d, or 0 for never
    #[arg(long, env, help_heading = "Accounts and invitations", default_value = "7d",
        value_parser = checked("INVITATION_TTL", INVITATION_TTL, |v| InvitationTtl::parse(v).ok()))]
    invitation_ttl: InvitationTtl,
    /// How often pending invitations past their expiry are marked `expired` in the database:
    /// seconds from 0 (off) to 86400
    #[arg(long, env, help_heading = "Accounts and invitations", default_value_t = 60,
        value_parser = integer::<u64>(
            "INVITATION_SWEEP_INTERVAL_SECS",
            0..=86_400,
            "seconds from 0 (off) to 86400",
        ))]
    invitation_sweep_interval_secs: u64,

    /// How long the change feed keeps a change: days from 1 to 3650
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 30,
        value_parser = integer::<u32>(
            "EVENT_RETENTION_DAYS",
            1..=3650,
            "an integer from 1 to 3650",
        ))]
    event_retention_days: u32,
    /// Live streams one user may hold open in one process before 429: an integer from 1 to 100
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 5,
        value_parser = integer::<usize>("STREAMS_PER_USER", 1..=100, "an integer from 1 to 100"))]
    streams_per_user: usize,
    /// The longest a live stream waits for a change when nothing wakes it: milliseconds from 50
    /// to 60000
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 1000,
        value_parser = integer::<u64>(
            "STREAM_POLL_INTERVAL_MS",
            50..=60_000,
            "milliseconds from 50 to 60000",
        ))]
    stream_poll_interval_ms: u64,
    /// Let webhooks point at `http://` URLs and private addresses (tests and local use only):
    /// true or false
    #[arg(long, env, help_heading = "Change feed, webhooks and email",
        action = clap::ArgAction::Set, default_value_t = false,
        value_parser = checked("WEBHOOK_ALLOW_PRIVATE", "true or false", boolean))]
    webhook_allow_private: bool,
    /// The most one webhook delivery attempt may take: seconds from 1 to 60
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 15,
        value_parser = integer::<u64>("WEBHOOK_TIMEOUT_SECS", 1..=60, "an integer from 1 to 60"))]
    webhook_timeout_secs: u64,
    /// The waits between delivery attempts (webhooks and email), each ±20 %: durations such as
    /// 5s,5m,30m,2h separated by commas (each up to 7d, at most 20), or none
    #[arg(long, env, help_heading = "Change feed, webhooks and email",
        default_value = "5s,5m,30m,2h,5h,10h,10h",
        value_parser = checked(
            "WEBHOOK_RETRY_SCHEDULE",
            RETRY_SCHEDULE,
            |v| RetryPolicy::parse_schedule(v).ok(),
        ))]
    // Spelled out, so that clap takes the list as one value, split here.
    webhook_retry_schedule: std::vec::Vec<chrono::Duration>,
    /// How long a webhook may fail without a success before it is disabled: a whole number of s,
    /// m, h or d such as 5d, from 1s to 365d
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value = "5d",
        value_parser = checked("WEBHOOK_DISABLE_AFTER", DISABLE_AFTER, disable_after))]
    webhook_disable_after: chrono::Duration,
    /// Webhook and email attempts this process makes at once: an integer from 0 (none here) to
    /// 1024
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 32,
        value_parser = integer::<usize>(
            "DELIVERY_CONCURRENCY",
            0..=1024,
            "an integer from 0 (off) to 1024",
        ))]
    delivery_concurrency: usize,
    /// Where invitation emails go out: smtp://user:pass@host:587 (STARTTLS when offered),
    /// smtps://user:pass@host:465, or none (no email). Unset: written as files to OUTBOX_DIR/mail
    #[arg(long, env, help_heading = "Email and text messages", hide_env_values = true,
        value_parser = secret)]
    smtp_url: Option<SecretString>,
    /// The emails' sender, such as `Event Manager <no-reply@example.com>` (required with a mail
    /// server in SMTP_URL). Unset with files: `Event Manager <no-reply@localhost>`
    #[arg(long, env, help_heading = "Email and text messages", value_parser = text)]
    smtp_from: Option<String>,
    /// Where text messages go out: kannel://USER:PASS@HOST:PORT?from=SENDER,
    /// kavenegar://API_KEY@api.kavenegar.com, twilio://SID:TOKEN@api.twilio.com?from=SENDER, or
    /// none (no texts). Unset: written as files to OUTBOX_DIR/sms
    #[arg(long, env, help_heading = "Email and text messages", hide_env_values = true,
        value_parser = sms_url)]
    sms_url: Option<SmsTransport>,
    /// The most one text message attempt may take: seconds from 1 to 60
    #[arg(long, env, help_heading = "Email and text messages",
        default_value_t = SmsUrl::DEFAULT_TIMEOUT.as_secs(),
        value_parser = integer::<u64>("SMS_TIMEOUT_SECS", 1..=60, "an integer from 1 to 60"))]
    sms_timeout_secs: u64,
    /// Where emails and text messages are written as files while SMTP_URL or SMS_URL is unset
    /// (development): a directory, created when the first message is written
    #[arg(long, env, help_heading = "Email and text messages",
        default_value = OutboxDir::DEFAULT, value_parser = path)]
    outbox_dir: PathBuf,

    /// Where traces go over OTLP/HTTP (protobuf): a collector's base URL such as
    /// http://localhost:4318, to which /v1/traces is added. Unset: no traces
    #[arg(long, env, help_heading = "Traces",
        value_parser = checked("OTEL_EXPORTER_OTLP_ENDPOINT", OTLP_ENDPOINT, otlp_endpoint))]
    otel_exporter_otlp_endpoint: Option<url::Url>,
    /// The `service.name` traces carry
    #[arg(long, env, help_heading = "Traces", default_value = "event-manager", value_parser = text)]
    otel_service_name: String,
}

const TIMEOUT_MS: &str = "milliseconds from 100 to 600000";
const PER_MINUTE: &str = "a whole number of events per minute (0 turns the limit off)";
const INVITATION_TTL: &str =
    "a whole number of s, m, h or d such as 7d, 36h or 90s, at most 3650d, or 0 for never";
const RETRY_SCHEDULE: &str =
    "waits such as 5s,5m,30m,2h separated by commas (each up to 7d, at most 20), or none";
const DISABLE_AFTER: &str = "a whole number of s, m, h or d such as 5d, from 1s to 365d";
const OTLP_ENDPOINT: &str =
    "an http:// or https:// URL without query such as http://localhost:4318";

impl Settings {
    /// `command` (whose arguments are the settings) ready to read them: each option taken on every
    /// subcommand too, and a variable set to blanks left out, so that its default applies.
    pub fn prepare(command: clap::Command) -> clap::Command {
        command.mut_args(|arg| {
            let blank = arg
                .get_env()
                .and_then(std::env::var_os)
                .is_some_and(|value| value.to_str().is_some_and(|v| v.trim().is_empty()));
            let arg = arg.global(true);
            if blank {
                arg.env(None::<&'static str>)
            } else {
                arg
            }
        })
    }
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
    /// `SMTP_URL`, `SMTP_FROM` and `OUTBOX_DIR`: how invitation emails go out (default: as files
    /// in `OUTBOX_DIR/mail`).
    pub email: EmailTransport,
    /// `SMS_URL` and `OUTBOX_DIR`: how text messages would go out (default: as files in
    /// `OUTBOX_DIR/sms`). Read and checked at start, and logged; no text is sent yet.
    pub sms: SmsTransport,
    /// `SMS_TIMEOUT_SECS`: the most one attempt to send a text may take (default 15, 1 to 60).
    pub sms_timeout: Duration,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME`: where traces go and the service
    /// they name (default none: no traces; docs/operations.md, "Traces").
    pub traces: Option<TraceExport>,
}

/// How invitation emails go out (`SMTP_URL`).
#[derive(Clone, Debug)]
pub enum EmailTransport {
    /// `SMTP_URL` unset: each email is written to a file in `OUTBOX_DIR/mail`, for development.
    Files(FileMailer),
    /// `SMTP_URL=none`: no email (no email deliveries are made or claimed).
    Off,
    /// A mail server.
    Smtp(SmtpConfig),
}

/// What the start-up log says: `files in /srv/data/outbox/mail (SMTP_URL unset)`,
/// `smtp://user:***@mail.example.com:587` (never the password), `off (SMTP_URL=none)`.
impl std::fmt::Display for EmailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files(mailer) => {
                write!(f, "files in {} (SMTP_URL unset)", mailer.dir().display())
            }
            Self::Off => f.write_str("off (SMTP_URL=none)"),
            Self::Smtp(smtp) => {
                let scheme = match smtp.security {
                    SmtpSecurity::StartTlsWhenOffered => "smtp",
                    SmtpSecurity::ImplicitTls => "smtps",
                };
                let host = if smtp.host.contains(':') {
                    format!("[{}]", smtp.host)
                } else {
                    smtp.host.clone()
                };
                let mut shown = match url::Url::parse(&format!("{scheme}://{host}:{}", smtp.port)) {
                    Ok(url) => url,
                    Err(_) => return write!(f, "{scheme}://{host}:{}", smtp.port),
                };
                if let Some(credentials) = &smtp.credentials {
                    let _ = shown.set_username(&credentials.user);
                    let _ = shown.set_password(Some("***"));
                }
                f.write_str(shown.as_str().trim_end_matches('/'))
            }
        }
    }
}

/// How text messages go out (`SMS_URL`).
#[derive(Clone, Debug)]
pub enum SmsTransport {
    /// `SMS_URL` unset: each text is written to a file in `OUTBOX_DIR/sms`, for development.
    Files(FileSmsSender),
    /// `SMS_URL=none`: no texts.
    Off,
    /// A gateway.
    Gateway(SmsUrl),
}

/// What the start-up log says: `files in /srv/data/outbox/sms (SMS_URL unset)`,
/// `kavenegar://***@api.kavenegar.com` (never a password, key or token), `off (SMS_URL=none)`.
impl std::fmt::Display for SmsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files(sender) => write!(f, "files in {} (SMS_URL unset)", sender.dir().display()),
            Self::Off => f.write_str("off (SMS_URL=none)"),
            Self::Gateway(url) => write!(f, "{url}"),
        }
    }
}

/// Where spans are exported, over OTLP/HTTP with protobuf bodies (docs/operations.md, "Traces").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceExport {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's base URL, such as `http://localhost:4318`.
    pub endpoint: url::Url,
    /// `OTEL_SERVICE_NAME` (default `event-manager`).
    pub service_name: String,
}

impl TraceExport {
    /// Where spans are posted: the base URL with `/v1/traces` added to its path, as the
    /// OpenTelemetry specification has it for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn traces_url(&self) -> String {
        format!("{}/v1/traces", self.endpoint.as_str().trim_end_matches('/'))
    }
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
            bind_addr,
            metrics_bind_addr,
            http_workers,
            request_body_timeout_secs,
            cors_allowed_origins,
            trusted_proxies,
            cursor_secret,
            log_format,
            login_failures_per_account_address,
            login_failures_per_account,
            login_failures_per_address,
            registrations_per_address,
            send_invitations_per_user,
            default_phone_region,
            token_ttl_days,
            token_purge_interval_secs,
            invitation_ttl,
            invitation_sweep_interval_secs,
            event_retention_days,
            streams_per_user,
            stream_poll_interval_ms,
            webhook_allow_private,
            webhook_timeout_secs,
            webhook_retry_schedule,
            webhook_disable_after,
            delivery_concurrency,
            smtp_url,
            smtp_from,
            otel_exporter_otlp_endpoint,
            otel_service_name,
            sms_url,
            sms_timeout_secs,
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
            bind_addr,
            metrics_bind_addr,
            phone_region: default_phone_region,
            token_ttl_days,
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
            },
            trusted_proxies: trusted_proxies.unwrap_or_default(),
            cursor_secret,
            invitation_ttl,
            invitation_sweep_interval: interval(invitation_sweep_interval_secs),
            event_retention_days,
            streams_per_user,
            stream_poll_interval: Duration::from_millis(stream_poll_interval_ms),
            webhook_allow_private,
            webhook_timeout: Duration::from_secs(webhook_timeout_secs),
            retry_policy: RetryPolicy {
                schedule: webhook_retry_schedule,
                disable_after: webhook_disable_after,
                ..RetryPolicy::default()
            },
            delivery_concurrency,
            email,
            sms: sms_url.unwrap_or_else(|| SmsTransport::Files(FileSmsSender::new(&outbox))),
            sms_timeout: Duration::from_secs(sms_timeout_secs),
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
        }
    }
}

/// A setting's value parser (for clap's `value_parser`): `accept` makes the setting of the
/// trimmed value, or `None` when it cannot; then the error names the variable, the value and
/// `expected`.
fn checked<T>(
    name: &'static str,
    expected: &'static str,
    accept: impl Fn(&str) -> Option<T> + Clone + Send + Sync + 'static,
) -> impl Fn(&str) -> Result<T, ConfigError> + Clone + Send + Sync + 'static {
    move |value: &str| {
        let value = value.trim();
        accept(value).ok_or_else(|| ConfigError {
            name,
            value: value.to_owned(),
            expected: expected.into(),
        })
    }
}

/// A value parser for whatever [`FromStr`] reads.
fn parsed<T: FromStr>(
    name: &'static str,
    expected: &'static str,
) -> impl Fn(&str) -> Result<T, ConfigError> + Clone + Send + Sync + 'static {
    checked(name, expected, |value| value.parse().ok())
}

/// A value parser for an integer in `range`.
fn integer<T>(
    name: &'static str,
    range: RangeInclusive<T>,
    expected: &'static str,
) -> impl Fn(&str) -> Result<T, ConfigError> + Clone + Send + Sync + 'static
where
    T: FromStr + PartialOrd + Clone + Send + Sync + 'static,
{
    checked(name, expected, move |value| {
        value.parse().ok().filter(|n| range.contains(n))
    })
}

/// Any text, trimmed.
#[allow(clippy::unnecessary_wraps)] // The shape clap's `value_parser` takes.
fn text(value: &str) -> Result<String, Infallible> {
    Ok(value.trim().to_owned())
}

/// Any text, trimmed, kept out of `Debug` output.
#[allow(clippy::unnecessary_wraps)] // The shape clap's `value_parser` takes.
fn secret(value: &str) -> Result<SecretString, Infallible> {
    Ok(SecretString::from(value.trim()))
}

/// `CURSOR_SECRET`: at least [`http_actix::CursorKey::MIN_LEN`] bytes.
fn cursor_secret(value: &str) -> Result<SecretString, ConfigError> {
    let value = value.trim();
    if value.len() >= http_actix::CursorKey::MIN_LEN {
        return Ok(SecretString::from(value));
    }
    // The value is a secret: the message gives its length only.
    Err(ConfigError {
        name: "CURSOR_SECRET",
        value: format!("<{} bytes>", value.len()),
        expected: "at least 32 bytes".into(),
    })
}

fn log_format(value: &str) -> Option<LogFormat> {
    match value {
        "pretty" => Some(LogFormat::Pretty),
        "json" => Some(LogFormat::Json),
        _ => None,
    }
}

fn boolean(value: &str) -> Option<bool> {
    match value {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// `https://a.example, http://localhost:3000/` as origins (no trailing slash); `None` unless each
/// is `http://` or `https://` without blanks.
fn origins(value: &str) -> Option<Vec<String>> {
    let origins: Vec<String> = value
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    let valid = |o: &String| {
        (o.starts_with("http://") || o.starts_with("https://")) && !o.contains(char::is_whitespace)
    };
    origins.iter().all(valid).then_some(origins)
}

/// A duration from 1 s to 365 days.
fn disable_after(value: &str) -> Option<chrono::Duration> {
    whole_duration(value)
        .filter(|d| *d > chrono::Duration::zero() && *d <= chrono::Duration::days(365))
}

/// `duration` in whole milliseconds, for a default shown in `--help`.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A URL with its password replaced by `***`, for error messages; a user name without a password
/// is replaced too (it may be an API key, as in `kavenegar://API_KEY@…`).
fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(mut parsed) if !parsed.username().is_empty() => {
            let _ = parsed.set_username("***");
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<not a URL>".to_owned(),
    }
}

/// An `http://` or `https://` URL with a host and no query or fragment, to which a path can be
/// added.
fn otlp_endpoint(value: &str) -> Option<url::Url> {
    let url = url::Url::parse(value).ok()?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none();
    usable.then_some(url)
}

/// `SMS_URL`: `none`, or a gateway's URL. The message of a bad one shows it without its secrets.
fn sms_url(value: &str) -> Result<SmsTransport, ConfigError> {
    let value = value.trim();
    if value == "none" {
        return Ok(SmsTransport::Off);
    }
    SmsUrl::parse(value)
        .map(SmsTransport::Gateway)
        .map_err(|error| ConfigError {
            name: "SMS_URL",
            value: redacted_url(value),
            expected: error.to_string().into(),
        })
}

/// A path, trimmed.
#[allow(clippy::unnecessary_wraps)] // The shape clap's `value_parser` takes.
fn path(value: &str) -> Result<PathBuf, Infallible> {
    Ok(PathBuf::from(value.trim()))
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
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318/?a=b"),
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

    #[test]
    fn a_blank_variable_is_unset_and_values_are_trimmed() {
        let config = with(&[
            ("BIND_ADDR", "  "),
            ("METRICS_BIND_ADDR", ""),
            ("SMTP_URL", " "),
            ("TOKEN_TTL_DAYS", " 7 "),
        ])
        .unwrap();
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.metrics_bind_addr, None);
        assert!(matches!(config.email, EmailTransport::Files(_)));
        assert_eq!(config.token_ttl_days, 7);
    }

    #[test]
    fn the_defaults_are_the_domains_and_the_adapters() {
        let config = with(&[]).unwrap();
        assert_eq!(config.rate_limits, http_actix::RateLimits::default());
        assert_eq!(
            config.retry_policy.schedule,
            RetryPolicy::default().schedule
        );
        assert_eq!(
            config.retry_policy.disable_after,
            RetryPolicy::default().disable_after
        );
        assert_eq!(
            config.trusted_proxies,
            http_actix::TrustedProxies::default()
        );
        assert_eq!(
            config.database().pool_size,
            DatabaseConfig::DEFAULT_POOL_SIZE
        );
    }

    #[test]
    fn traces_are_off_without_an_endpoint_and_posted_under_v1_traces() {
        let config = with(&[("OTEL_SERVICE_NAME", "ignored")]).unwrap();
        assert_eq!(config.traces, None);
        let traces = |endpoint: &str| {
            with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)])
                .unwrap()
                .traces
                .unwrap()
        };
        let export = traces("http://collector:4318");
        assert_eq!(export.service_name, "event-manager");
        assert_eq!(export.traces_url(), "http://collector:4318/v1/traces");
        assert_eq!(
            traces("https://otel.example/base/").traces_url(),
            "https://otel.example/base/v1/traces"
        );
        let named = with(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_SERVICE_NAME", " events-eu "),
        ])
        .unwrap();
        assert_eq!(named.traces.unwrap().service_name, "events-eu");
    }

    /// Every setting's parser names its own variable: a value none accepts is reported under the
    /// name it was given as.
    #[test]
    fn every_variable_names_itself_when_its_value_is_bad() {
        let command = Settings::augment_args(clap::Command::new("event-manager"));
        let names: Vec<&str> = command
            .get_arguments()
            .map(|arg| arg.get_env().and_then(|name| name.to_str()).unwrap())
            .collect();
        assert_eq!(names.len(), 39);
        for name in names {
            match (name, with(&[(name, "?")])) {
                // Any text is a database URL or a service name until it is used, and any path a
                // directory.
                ("DATABASE_URL" | "OTEL_SERVICE_NAME" | "OUTBOX_DIR", result) => {
                    assert!(result.is_ok(), "{name}");
                }
                ("SMTP_URL", result) => assert_eq!(result.unwrap_err().name, "SMTP_FROM"),
                (name, result) => {
                    let message = result.unwrap_err().to_string();
                    assert!(
                        message.starts_with(&format!("invalid {name}=")),
                        "{message}"
                    );
                }
            }
        }
    }

    #[test]
    fn without_smtp_url_emails_are_files_in_the_outbox_and_none_turns_them_off() {
        let config = with(&[]).unwrap();
        let EmailTransport::Files(mailer) = &config.email else {
            panic!("{:?}", config.email)
        };
        assert!(mailer.dir().is_absolute());
        assert!(mailer.dir().ends_with("data/outbox/mail"));
        assert_eq!(
            config.email.to_string(),
            format!("files in {} (SMTP_URL unset)", mailer.dir().display())
        );

        let config = with(&[
            ("OUTBOX_DIR", " /srv/outbox "),
            ("SMTP_FROM", "me@example.com"),
        ])
        .unwrap();
        assert_eq!(
            config.email.to_string(),
            "files in /srv/outbox/mail (SMTP_URL unset)"
        );
        assert_eq!(
            config.sms.to_string(),
            "files in /srv/outbox/sms (SMS_URL unset)"
        );

        let off = with(&[("SMTP_URL", "none"), ("SMTP_FROM", "not a mailbox")]).unwrap();
        assert!(matches!(off.email, EmailTransport::Off));
        assert_eq!(off.email.to_string(), "off (SMTP_URL=none)");

        let message = with(&[("SMTP_FROM", "not a mailbox")])
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("invalid SMTP_FROM=\"not a mailbox\": expected a mailbox"),
            "{message}"
        );
    }

    #[test]
    fn a_mail_server_is_shown_without_its_password() {
        let email = |url: &str| {
            with(&[("SMTP_URL", url), ("SMTP_FROM", "no-reply@example.com")])
                .unwrap()
                .email
                .to_string()
        };
        assert_eq!(
            email("smtp://me%40example.com:s3cret@mail.example.com:587"),
            "smtp://me%40example.com:***@mail.example.com:587"
        );
        assert_eq!(
            email("smtps://mail.example.com"),
            "smtps://mail.example.com:465"
        );
        assert_eq!(email("smtp://[::1]:2525"), "smtp://[::1]:2525");
        let message = with(&[("SMTP_URL", "smtp://me:s3cret@mail.example.com/x")])
            .unwrap_err()
            .to_string();
        assert_eq!(message.lines().count(), 1);
        assert!(!message.contains("s3cret"), "{message}");
    }

    #[test]
    fn sms_url_names_a_gateway_or_none_and_a_bad_one_is_one_line_without_secrets() {
        let config = with(&[]).unwrap();
        let SmsTransport::Files(sender) = &config.sms else {
            panic!("{:?}", config.sms)
        };
        assert!(sender.dir().is_absolute() && sender.dir().ends_with("data/outbox/sms"));
        assert_eq!(config.sms_timeout, Duration::from_secs(15));

        let off = with(&[("SMS_URL", " none ")]).unwrap();
        assert_eq!(off.sms.to_string(), "off (SMS_URL=none)");

        let config = with(&[
            ("SMS_URL", "kannel://em:p%40ss@10.0.0.5:13013?from=EventMgr"),
            ("SMS_TIMEOUT_SECS", "5"),
        ])
        .unwrap();
        let SmsTransport::Gateway(url) = &config.sms else {
            panic!("{:?}", config.sms)
        };
        assert_eq!(url.gateway(), adapters_outbound::SmsGateway::Kannel);
        assert_eq!(config.sms_timeout, Duration::from_secs(5));
        assert_eq!(
            config.sms.to_string(),
            "kannel://em:***@10.0.0.5:13013?from=EventMgr"
        );
        assert_eq!(
            with(&[("SMS_URL", "kavenegar://K3Y@api.kavenegar.com")])
                .unwrap()
                .sms
                .to_string(),
            "kavenegar://***@api.kavenegar.com"
        );

        for (bad, shown) in [
            (
                "kannel://em:p4ss@10.0.0.5?from=EventMgr",
                "kannel://em:***@10.0.0.5?from=EventMgr",
            ),
            (
                "kavenegar://K3Y@api.kavenegar.com?sendr=1",
                "kavenegar://***@api.kavenegar.com?sendr=1",
            ),
            (
                "twilio://AC1:t0ken@api.twilio.com",
                "twilio://AC1:***@api.twilio.com",
            ),
            ("sms://gateway", "sms://gateway"),
            ("K3Y", "<not a URL>"),
            ("None", "<not a URL>"),
        ] {
            let message = with(&[("SMS_URL", bad)]).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("invalid SMS_URL=\"{shown}\": ")),
                "{message}"
            );
            assert_eq!(message.lines().count(), 1, "{message}");
            for secret in ["p4ss", "K3Y", "t0ken"] {
                assert!(!message.contains(secret), "{message}");
            }
        }
        for bad in ["0", "61", "15s"] {
            let message = with(&[("SMS_TIMEOUT_SECS", bad)]).unwrap_err().to_string();
            assert_eq!(
                message,
                format!("invalid SMS_TIMEOUT_SECS=\"{bad}\": an integer from 1 to 60")
            );
        }
    }

    /// `event-manager --help` is where the settings are listed: each with its variable, and its
    /// default or what leaving it unset means.
    #[test]
    fn the_help_lists_every_variable_with_its_default() {
        let mut command = Settings::augment_args(clap::Command::new("event-manager"));
        let help = command.render_long_help().to_string();
        // `--help` itself, added by the rendering, is no setting.
        for arg in command.get_arguments().filter(|arg| arg.get_id() != "help") {
            let name = arg.get_env().and_then(|name| name.to_str()).unwrap();
            assert!(help.contains(&format!("[env: {name}")), "{name}");
            let documented = arg
                .get_long_help()
                .or(arg.get_help())
                .map(ToString::to_string);
            let documented = documented.unwrap_or_else(|| panic!("{name} has no help"));
            assert!(
                !arg.get_default_values().is_empty()
                    || documented.contains("Unset")
                    || documented.contains("required with"),
                "{name}: {documented}"
            );
        }
        assert!(help.contains("[default: 5s,5m,30m,2h,5h,10h,10h]"));
    }
}
