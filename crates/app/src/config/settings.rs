//! [`Settings`]: every variable with its default and accepted form, as `event-manager --help`
//! lists them, each checked as it is read.

use std::net::SocketAddr;
use std::path::PathBuf;

use adapters_diesel::DatabaseConfig;
use adapters_outbound::{OutboxDir, SmsUrl};
use clap::Args;
use domain::invitations::InvitationTtl;
use domain::webhooks::delivery::RetryPolicy;
use domain::PhoneRegion;
use secrecy::SecretString;

use super::parse::*;
use super::*;

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
    pub(super) database_url: SecretString,
    /// Pooled connections per process: an integer from 1 to 1000
    #[arg(long, env, help_heading = "Database",
        default_value_t = DatabaseConfig::DEFAULT_POOL_SIZE,
        value_parser = integer::<u32>("DATABASE_POOL_SIZE", 1..=1000, "an integer from 1 to 1000"))]
    pub(super) database_pool_size: u32,
    /// How long a request waits for a connection before 503: seconds from 1 to 60
    #[arg(long, env, help_heading = "Database",
        default_value_t = DatabaseConfig::DEFAULT_CONNECTION_TIMEOUT.as_secs(),
        value_parser = integer::<u64>("DATABASE_TIMEOUT_SECS", 1..=60, "an integer from 1 to 60"))]
    pub(super) database_timeout_secs: u64,
    /// PostgreSQL `statement_timeout`, the longest statement before 503: milliseconds from 100 to
    /// 600000
    #[arg(long, env, help_heading = "Database",
        default_value_t = millis(DatabaseConfig::DEFAULT_STATEMENT_TIMEOUT),
        value_parser = integer::<u64>("DATABASE_STATEMENT_TIMEOUT_MS", 100..=600_000, TIMEOUT_MS))]
    pub(super) database_statement_timeout_ms: u64,
    /// PostgreSQL `lock_timeout` and SQLite `busy_timeout`, the longest wait for a lock before
    /// 503: milliseconds from 100 to 600000
    #[arg(long, env, help_heading = "Database",
        default_value_t = millis(DatabaseConfig::DEFAULT_LOCK_TIMEOUT),
        value_parser = integer::<u64>("DATABASE_LOCK_TIMEOUT_MS", 100..=600_000, TIMEOUT_MS))]
    pub(super) database_lock_timeout_ms: u64,
    /// PostgreSQL `idle_in_transaction_session_timeout`: milliseconds from 100 to 600000
    #[arg(long, env, help_heading = "Database",
        default_value_t = millis(DatabaseConfig::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT),
        value_parser = integer::<u64>(
            "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
            100..=600_000,
            TIMEOUT_MS,
        ))]
    pub(super) database_idle_in_transaction_timeout_ms: u64,
    /// Keep named prepared statements on PostgreSQL connections: true or false; false behind a
    /// pooler in transaction mode (PgBouncer)
    #[arg(long, env, help_heading = "Database",
        action = clap::ArgAction::Set, default_value_t = true,
        value_parser = checked("DATABASE_PREPARED_STATEMENTS", "true or false", boolean))]
    pub(super) database_prepared_statements: bool,
    /// A direct PostgreSQL URL for `LISTEN`, when DATABASE_URL goes through a pooler in
    /// transaction mode. Unset: DATABASE_URL
    #[arg(long, env, help_heading = "Database", hide_env_values = true, value_parser = secret)]
    pub(super) database_listen_url: Option<SecretString>,
    /// A streaming hot standby for list reads, each used only once it has replayed everything
    /// committed before the request began. Unset: every read on DATABASE_URL
    #[arg(long, env, help_heading = "Database", hide_env_values = true, value_parser = secret)]
    pub(super) database_read_url: Option<SecretString>,

    /// The API's listen address: an address and port such as 127.0.0.1:8080
    #[arg(long, env, help_heading = "HTTP", default_value = "127.0.0.1:8080",
        value_parser = parsed::<SocketAddr>(
            "BIND_ADDR",
            "an address and port such as 127.0.0.1:8080",
        ))]
    pub(super) bind_addr: SocketAddr,
    /// Where `GET /metrics` (Prometheus) is served, on a listener of its own: an address and port
    /// such as 127.0.0.1:9090. Unset: no metrics
    #[arg(long, env, help_heading = "HTTP",
        value_parser = parsed::<SocketAddr>(
            "METRICS_BIND_ADDR",
            "an address and port such as 127.0.0.1:9090",
        ))]
    pub(super) metrics_bind_addr: Option<SocketAddr>,
    /// Actix worker threads: an integer from 1 to 256. Unset: one per core
    #[arg(long, env, help_heading = "HTTP",
        value_parser = integer::<usize>("HTTP_WORKERS", 1..=256, "an integer from 1 to 256"))]
    pub(super) http_workers: Option<usize>,
    /// The longest a request body may take to arrive before 408 and a closed connection: seconds
    /// from 1 to 300
    #[arg(long, env, help_heading = "HTTP", default_value_t = 10,
        value_parser = integer::<u64>(
            "REQUEST_BODY_TIMEOUT_SECS",
            1..=300,
            "an integer from 1 to 300",
        ))]
    pub(super) request_body_timeout_secs: u64,
    /// Origins allowed to call the API from browsers: comma-separated, such as
    /// https://app.example.com. Unset: none
    #[arg(long, env, help_heading = "HTTP",
        value_parser = checked(
            "CORS_ALLOWED_ORIGINS",
            "comma-separated origins such as https://app.example.com",
            origins,
        ))]
    // Spelled out, so that clap takes the list as one value, split here.
    pub(super) cors_allowed_origins: Option<std::vec::Vec<String>>,
    /// The base of every link the service sends (one-click answers in invitation emails and
    /// texts): an http:// or https:// URL such as https://events.example.com
    #[arg(long, env, help_heading = "HTTP",
        default_value = domain::links::PublicUrl::DEFAULT,
        value_parser = checked(
            "PUBLIC_URL",
            "an http:// or https:// URL without a query, such as https://events.example.com",
            |value| domain::links::PublicUrl::parse(value).ok(),
        ))]
    pub(super) public_url: domain::links::PublicUrl,
    /// Reverse proxies whose `X-Forwarded-For` names the client: comma-separated addresses or
    /// networks such as 10.0.0.0/8,192.0.2.7. Unset: the TCP peer is the client
    #[arg(long, env, help_heading = "HTTP",
        value_parser = checked(
            "TRUSTED_PROXIES",
            "comma-separated addresses or networks such as 10.0.0.0/8,192.0.2.7",
            trusted_proxies,
        ))]
    pub(super) trusted_proxies: Option<http_actix::TrustedProxies>,
    /// How many leading bits of an IPv6 address name one client for the per-address limits: an
    /// integer from 1 to 128 (one subscriber's network is a /64; 128: every address on its own)
    #[arg(long, env, help_heading = "HTTP",
        default_value_t = http_actix::TrustedProxies::DEFAULT_IPV6_PREFIX,
        value_parser = integer::<u8>("IPV6_CLIENT_PREFIX", 1..=128, "an integer from 1 to 128"))]
    pub(super) ipv6_client_prefix: u8,
    /// The key list cursors are signed with: at least 32 bytes. Unset: a key kept in the database,
    /// made by the first process
    #[arg(long, env, help_heading = "HTTP", hide_env_values = true, value_parser = cursor_secret)]
    pub(super) cursor_secret: Option<SecretString>,
    /// How logs are printed: pretty or json (`RUST_LOG` filters them, default info)
    #[arg(long, env, help_heading = "HTTP", default_value = "pretty",
        value_parser = checked("LOG_FORMAT", "pretty or json", log_format))]
    pub(super) log_format: LogFormat,

    /// Failed logins per account from one client address per minute before 429: an integer from
    /// 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().login_failures_per_account_address,
        value_parser = integer::<u32>(
            "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS",
            0..=1_000_000,
            PER_MINUTE,
        ))]
    pub(super) login_failures_per_account_address: u32,
    /// Failed logins per account from all addresses per minute before 429: an integer from 0
    /// (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().login_failures_per_account,
        value_parser = integer::<u32>("LOGIN_FAILURES_PER_ACCOUNT", 0..=1_000_000, PER_MINUTE))]
    pub(super) login_failures_per_account: u32,
    /// Failed logins per client address (any account) per minute before 429: an integer from 0
    /// (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().login_failures_per_address,
        value_parser = integer::<u32>("LOGIN_FAILURES_PER_ADDRESS", 0..=1_000_000, PER_MINUTE))]
    pub(super) login_failures_per_address: u32,
    /// Registrations per client address per minute before 429: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().registrations_per_address,
        value_parser = integer::<u32>("REGISTRATIONS_PER_ADDRESS", 0..=1_000_000, PER_MINUTE))]
    pub(super) registrations_per_address: u32,
    /// Send requests per user per minute before 429: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().sends_per_user,
        value_parser = integer::<u32>("SEND_INVITATIONS_PER_USER", 0..=1_000_000, PER_MINUTE))]
    pub(super) send_invitations_per_user: u32,
    /// Events one user may create within any 24 hours before 429: an integer from 0 (off) to
    /// 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().events_per_user_per_day,
        value_parser = integer::<u32>("EVENTS_PER_USER_PER_DAY", 0..=1_000_000, "an integer from 0 (off) to 1000000"))]
    pub(super) events_per_user_per_day: u32,
    /// Edits of events per user per minute before 429: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().event_edits_per_user,
        value_parser = integer::<u32>("EVENT_EDITS_PER_USER_PER_MINUTE", 0..=1_000_000, PER_MINUTE))]
    pub(super) event_edits_per_user_per_minute: u32,
    /// Stream tickets per user per minute before 429: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().stream_tickets_per_user,
        value_parser = integer::<u32>("STREAM_TICKETS_PER_USER_PER_MINUTE", 0..=1_000_000, PER_MINUTE))]
    pub(super) stream_tickets_per_user_per_minute: u32,
    /// Webhooks registered per user per minute before 429: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().webhook_creations_per_user,
        value_parser = integer::<u32>("WEBHOOK_CREATIONS_PER_USER_PER_MINUTE", 0..=1_000_000, PER_MINUTE))]
    pub(super) webhook_creations_per_user_per_minute: u32,
    /// Webhooks registered for one destination host by all users together in an hour, before
    /// 429: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().webhook_creations_per_host_per_hour,
        value_parser = integer::<u32>("WEBHOOK_CREATIONS_PER_HOST_PER_HOUR", 0..=1_000_000, "an integer from 0 (off) to 1000000"))]
    pub(super) webhook_creations_per_host_per_hour: u32,
    /// Looks at and answers by one-click links per client address per minute before 429: an
    /// integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().link_requests_per_address,
        value_parser = integer::<u32>("LINK_REQUESTS_PER_ADDRESS_PER_MINUTE", 0..=1_000_000, PER_MINUTE))]
    pub(super) link_requests_per_address_per_minute: u32,
    /// Edits per user per hour that may move an event and message its followers, before 429: an
    /// integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = http_actix::RateLimits::default().event_notices_per_user_per_hour,
        value_parser = integer::<u32>("EVENT_NOTICES_PER_USER_PER_HOUR", 0..=1_000_000, "an integer from 0 (off) to 1000000"))]
    pub(super) event_notices_per_user_per_hour: u32,
    /// Contacts an account younger than 7 days may name a day in sends and resends, every entry
    /// looked up counting, found or not; the others are ignored (quota_exceeded): an integer from
    /// 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = domain::invitations::SendCaps::default().recipients_new,
        value_parser = integer::<u32>("SEND_RECIPIENTS_PER_DAY", 0..=1_000_000, "an integer from 0 (off) to 1000000"))]
    pub(super) send_recipients_per_day: u32,
    /// The same for accounts 7 days old or older: an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = domain::invitations::SendCaps::default().recipients_established,
        value_parser = integer::<u32>("SEND_RECIPIENTS_PER_DAY_ESTABLISHED", 0..=1_000_000, "an integer from 0 (off) to 1000000"))]
    pub(super) send_recipients_per_day_established: u32,
    /// Invitation messages (sent or resent) one email or mobile may receive a day, from anyone;
    /// the others are ignored (recipient_limit): an integer from 0 (off) to 1000000
    #[arg(long, env, help_heading = "Abuse limits",
        default_value_t = domain::invitations::SendCaps::default().per_recipient,
        value_parser = integer::<u32>("MESSAGES_PER_RECIPIENT_PER_DAY", 0..=1_000_000, "an integer from 0 (off) to 1000000"))]
    pub(super) messages_per_recipient_per_day: u32,

    /// Region for mobiles written without `+`: a two-letter region code such as IR
    #[arg(long, env, help_heading = "Accounts and invitations", default_value = "IR",
        value_parser = checked(
            "DEFAULT_PHONE_REGION",
            "a two-letter region code such as IR",
            |v| PhoneRegion::parse(v).ok(),
        ))]
    pub(super) default_phone_region: PhoneRegion,
    /// Whether contacts must be proven with a code: required or off (every contact counts as
    /// proven at once, for closed deployments)
    #[arg(long, env, help_heading = "Accounts and invitations", default_value = "required",
        value_parser = checked(
            "CONTACT_VERIFICATION",
            "required or off",
            |v| match v {
                "required" => Some(domain::accounts::ContactVerification::Required),
                "off" => Some(domain::accounts::ContactVerification::Off),
                _ => None,
            },
        ))]
    pub(super) contact_verification: domain::accounts::ContactVerification,
    /// Contacts stored before proofs existed: proven (as of the upgrade; they were the only
    /// claim on them) or unproven (their owners prove them again). Applied once, at the first
    /// start after the upgrade
    #[arg(long, env, help_heading = "Accounts and invitations", default_value = "proven",
        value_parser = checked(
            "LEGACY_CONTACTS",
            "proven or unproven",
            |v| match v {
                "proven" => Some(LegacyContacts::Proven),
                "unproven" => Some(LegacyContacts::Unproven),
                _ => None,
            },
        ))]
    pub(super) legacy_contacts: LegacyContacts,
    /// The regions whose numbers codes are texted to (premium and foreign numbers cost money):
    /// comma-separated two-letter codes such as IR,AE. Unset: DEFAULT_PHONE_REGION only
    #[arg(long, env, help_heading = "Accounts and invitations",
        value_parser = checked(
            "SMS_ALLOWED_REGIONS",
            "comma-separated two-letter region codes such as IR,AE",
            |v| v.split(',').map(|code| PhoneRegion::parse(code.trim()).ok()).collect::<Option<Vec<_>>>().filter(|list| !list.is_empty()).map(SmsRegions),
        ))]
    pub(super) sms_allowed_regions: Option<SmsRegions>,
    /// Bearer token lifetime: days from 1 to 3650
    #[arg(long, env, help_heading = "Accounts and invitations", default_value_t = 30,
        value_parser = integer::<u32>("TOKEN_TTL_DAYS", 1..=3650, "an integer from 1 to 3650"))]
    pub(super) token_ttl_days: u32,
    /// How long a process trusts a bearer token it looked up without looking again, and so how
    /// long a token revoked or an account changed through another process may still be seen by
    /// this one: seconds from 0 (off: every request looks its token up) to 60. Off with
    /// DATABASE_READ_URL
    #[arg(long, env, help_heading = "Accounts and invitations", default_value_t = 2,
        value_parser = integer::<u64>("TOKEN_CACHE_SECS", 0..=60, "an integer from 0 to 60"))]
    pub(super) token_cache_secs: u64,
    /// How often expired and long-revoked tokens, expired idempotency keys, changes older than
    /// EVENT_RETENTION_DAYS and expired stream tickets are deleted: seconds from 0 (off) to 604800
    #[arg(long, env, help_heading = "Accounts and invitations", default_value_t = 3600,
        value_parser = integer::<u64>(
            "TOKEN_PURGE_INTERVAL_SECS",
            0..=604_800,
            "seconds from 0 (off) to 604800",
        ))]
    pub(super) token_purge_interval_secs: u64,
    /// How long a new or resent invitation stays answerable: a whole number of s, m, h or d such
    /// as 7d, 36h or 90s, at most 3650d, or 0 for never
    #[arg(long, env, help_heading = "Accounts and invitations", default_value = "7d",
        value_parser = checked("INVITATION_TTL", INVITATION_TTL, |v| InvitationTtl::parse(v).ok()))]
    pub(super) invitation_ttl: InvitationTtl,
    /// How often pending invitations past their expiry are marked `expired` in the database:
    /// seconds from 0 (off) to 86400
    #[arg(long, env, help_heading = "Accounts and invitations", default_value_t = 60,
        value_parser = integer::<u64>(
            "INVITATION_SWEEP_INTERVAL_SECS",
            0..=86_400,
            "seconds from 0 (off) to 86400",
        ))]
    pub(super) invitation_sweep_interval_secs: u64,
    /// How often the reminders due are sent (docs/api.md, "Reminders"): seconds from 0 (off) to
    /// 3600
    #[arg(long, env, help_heading = "Accounts and invitations", default_value_t = 30,
        value_parser = integer::<u64>(
            "REMINDER_SWEEP_INTERVAL_SECS",
            0..=3600,
            "seconds from 0 (off) to 3600",
        ))]
    pub(super) reminder_sweep_interval_secs: u64,

    /// How long the change feed keeps a change: days from 1 to 3650
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 30,
        value_parser = integer::<u32>(
            "EVENT_RETENTION_DAYS",
            1..=3650,
            "an integer from 1 to 3650",
        ))]
    pub(super) event_retention_days: u32,
    /// Live streams one user may hold open in one process before 429: an integer from 1 to 100
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 5,
        value_parser = integer::<usize>("STREAMS_PER_USER", 1..=100, "an integer from 1 to 100"))]
    pub(super) streams_per_user: usize,
    /// Live streams the whole process may hold open before 503: an integer from 1 to 1000000
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 10_000,
        value_parser = integer::<usize>("STREAMS_PER_PROCESS", 1..=1_000_000, "an integer from 1 to 1000000"))]
    pub(super) streams_per_process: usize,
    /// The longest a live stream waits for a change when nothing wakes it: milliseconds from 50
    /// to 60000
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 1000,
        value_parser = integer::<u64>(
            "STREAM_POLL_INTERVAL_MS",
            50..=60_000,
            "milliseconds from 50 to 60000",
        ))]
    pub(super) stream_poll_interval_ms: u64,
    /// Let webhooks point at `http://` URLs and private addresses (tests and local use only):
    /// true or false
    #[arg(long, env, help_heading = "Change feed, webhooks and email",
        action = clap::ArgAction::Set, default_value_t = false,
        value_parser = checked("WEBHOOK_ALLOW_PRIVATE", "true or false", boolean))]
    pub(super) webhook_allow_private: bool,
    /// The most one webhook delivery attempt may take: seconds from 1 to 60
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 15,
        value_parser = integer::<u64>("WEBHOOK_TIMEOUT_SECS", 1..=60, "an integer from 1 to 60"))]
    pub(super) webhook_timeout_secs: u64,
    /// The ports webhook URLs may name (unless WEBHOOK_ALLOW_PRIVATE): port numbers separated by
    /// commas
    #[arg(long, env, help_heading = "Change feed, webhooks and email",
        default_value = "443,8443",
        value_parser = checked(
            "WEBHOOK_ALLOWED_PORTS",
            "port numbers from 1 to 65535 separated by commas",
            |v| {
                v.split(',')
                    .map(|port| port.trim().parse::<u16>().ok().filter(|p| *p > 0))
                    .collect::<Option<Vec<_>>>()
                    .filter(|list| !list.is_empty())
                    .map(Ports)
            },
        ))]
    pub(super) webhook_allowed_ports: Ports,
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
    pub(super) webhook_retry_schedule: std::vec::Vec<chrono::Duration>,
    /// How long a webhook may fail without a success before it is disabled: a whole number of s,
    /// m, h or d such as 5d, from 1s to 365d
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value = "5d",
        value_parser = checked("WEBHOOK_DISABLE_AFTER", DISABLE_AFTER, disable_after))]
    pub(super) webhook_disable_after: chrono::Duration,
    /// Webhook and email attempts this process makes at once: an integer from 0 (none here) to
    /// 1024
    #[arg(long, env, help_heading = "Change feed, webhooks and email", default_value_t = 32,
        value_parser = integer::<usize>(
            "DELIVERY_CONCURRENCY",
            0..=1024,
            "an integer from 0 (off) to 1024",
        ))]
    pub(super) delivery_concurrency: usize,
    /// Where invitation emails go out: smtp://user:pass@host:587 (STARTTLS when offered),
    /// smtps://user:pass@host:465, or none (no email). Unset: written as files to OUTBOX_DIR/mail
    #[arg(long, env, help_heading = "Email and text messages", hide_env_values = true,
        value_parser = secret)]
    pub(super) smtp_url: Option<SecretString>,
    /// The emails' sender, such as `Event Manager <no-reply@example.com>` (required with a mail
    /// server in SMTP_URL). Unset with files: `Event Manager <no-reply@localhost>`
    #[arg(long, env, help_heading = "Email and text messages", value_parser = text)]
    pub(super) smtp_from: Option<String>,
    /// Where text messages go out: kannel://USER:PASS@HOST:PORT?from=SENDER,
    /// kavenegar://API_KEY@api.kavenegar.com, twilio://SID:TOKEN@api.twilio.com?from=SENDER, or
    /// none (no texts). Unset: written as files to OUTBOX_DIR/sms
    #[arg(long, env, help_heading = "Email and text messages", hide_env_values = true,
        value_parser = sms_url)]
    pub(super) sms_url: Option<SmsTransport>,
    /// The most one text message attempt may take: seconds from 1 to 60
    #[arg(long, env, help_heading = "Email and text messages",
        default_value_t = SmsUrl::DEFAULT_TIMEOUT.as_secs(),
        value_parser = integer::<u64>("SMS_TIMEOUT_SECS", 1..=60, "an integer from 1 to 60"))]
    pub(super) sms_timeout_secs: u64,
    /// The secret the SMS gateway names when it hands the service a text from a phone
    /// (`/hooks/sms?secret=…`; a STOP stops invitation messages to that number): at least 16
    /// bytes. Unset: texts from phones are not taken
    #[arg(long, env, help_heading = "Email and text messages", hide_env_values = true,
        value_parser = sms_inbound_secret)]
    pub(super) sms_inbound_secret: Option<SecretString>,
    /// Where emails and text messages are written as files while SMTP_URL or SMS_URL is unset
    /// (development): a directory, created when the first message is written
    #[arg(long, env, help_heading = "Email and text messages",
        default_value = OutboxDir::DEFAULT, value_parser = path)]
    pub(super) outbox_dir: PathBuf,

    /// Where traces go over OTLP/HTTP (protobuf): a collector's base URL such as
    /// http://localhost:4318, to which /v1/traces is added. Unset: no traces
    #[arg(long, env, help_heading = "Traces",
        value_parser = checked("OTEL_EXPORTER_OTLP_ENDPOINT", OTLP_ENDPOINT, otlp_endpoint))]
    pub(super) otel_exporter_otlp_endpoint: Option<url::Url>,
    /// The `service.name` traces carry
    #[arg(long, env, help_heading = "Traces", default_value = "event-manager", value_parser = text)]
    pub(super) otel_service_name: String,
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

/// `WEBHOOK_ALLOWED_PORTS`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Ports(pub(super) Vec<u16>);

/// `SMS_ALLOWED_REGIONS`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SmsRegions(pub(super) Vec<PhoneRegion>);

/// `LEGACY_CONTACTS`: what becomes of contacts stored before proofs existed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LegacyContacts {
    /// They stay proven, as of the upgrade.
    Proven,
    /// Their owners prove them again.
    Unproven,
}
