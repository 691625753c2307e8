//! Wiring: builds the adapters, the domain services and the HTTP server from a [`Config`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};
use adapters_diesel::{
    Argon2Hasher, Backend, ChangeListener, Database, HasherConfig, RandomTokenIssuer,
};
use adapters_outbound::{HttpWebhookSender, SmtpMailer, WebhookSenderConfig};
use domain::accounts::{AccountService, TokenPolicy};
use domain::changes::ports::ChangeFeed;
use domain::changes::ChangeService;
use domain::events::EventService;
use domain::idempotency::IdempotencyPolicy;
use domain::idempotency::IdempotencyService;
use domain::invitations::InvitationService;
use domain::ports::{AbuseCounters, SystemClock};
use domain::webhooks::ports::{Mailer, WebhookSender};
use domain::webhooks::DestinationPolicy;
use domain::webhooks::{DeliveryLimits, DeliveryService, WebhookService};
use http_actix::api::changes::hub::{HubConfig, StreamHub};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;

use crate::body_deadline::body_deadline;
use crate::config::{Config, EmailTransport, SmsTransport};
use crate::deliveries::DeliveryWorker;
use crate::maintenance::{PeriodicTask, Purge};
use crate::messages::MessageWorker;
use crate::telemetry::RequestSpan;
use domain::messages::MessageService;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] adapters_diesel::DatabaseError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The task that opens the database panicked or was cancelled.
    #[error("the task opening the database did not finish")]
    DatabaseTask(#[source] tokio::task::JoinError),
    /// The password hasher's parameters were rejected.
    #[error("cannot set up the password hasher")]
    Hasher(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The bound listener's address could not be read.
    #[error("cannot read the listening address")]
    LocalAddr(#[source] std::io::Error),
    /// The cursor signing key is unusable.
    #[error("cannot set up the cursor signing key")]
    CursorKey(#[source] http_actix::pagination::CursorKeyTooShort),
    /// The webhook sender could not be set up.
    #[error(transparent)]
    WebhookSender(#[from] adapters_outbound::WebhookSenderError),
    /// The mailer could not be set up (`SMTP_URL`).
    #[error("cannot set up email ({variable})", variable = .0.variable())]
    Mailer(#[source] adapters_outbound::SmtpConfigError),
    /// `LEGACY_CONTACTS` could not be applied.
    #[error("cannot apply LEGACY_CONTACTS")]
    Legacy(#[source] domain::ports::PortError),
    /// The SMS gateway's client could not be set up (`SMS_URL`).
    #[error("cannot set up text messages (SMS_URL)")]
    Sms(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Applies `LEGACY_CONTACTS` once, at the first start after the upgrade that added proofs: the
/// contacts stored before stay proven, or (`unproven`) are to be proven again (docs/operations.md,
/// "Upgrading to proven contacts").
///
/// # Errors
/// [`StartError::Legacy`] when the database fails.
pub async fn settle_legacy_contacts(database: &Database, unprove: bool) -> Result<(), StartError> {
    let changed = database
        .settle_legacy_contacts(unprove)
        .await
        .map_err(StartError::Legacy)?;
    if unprove && changed > 0 {
        tracing::info!(
            users = changed,
            "LEGACY_CONTACTS=unproven: contacts from before proofs are to be proven again"
        );
    }
    Ok(())
}

/// The name of the cursor signing key among the database's shared secrets.
const CURSOR_KEY_NAME: &str = "cursor-signing-key";

/// The name of the shared key codes are hashed with (docs/security.md).
const CODE_KEY_NAME: &str = "contact-code-key";

/// The name of the shared key unsubscribe links are signed with (docs/security.md).
const UNSUBSCRIBE_KEY_NAME: &str = "unsubscribe-link-key";

/// The key list cursors are signed with: `CURSOR_SECRET` when set, else the one kept in the
/// database, made by the first process that asks, so every process on the database holds the same
/// (docs/operations.md, "Cursor signing").
async fn cursor_key(
    config: &Config,
    database: &Database,
) -> Result<http_actix::CursorKey, StartError> {
    let (key, from) = match &config.cursor_secret {
        Some(secret) => (
            http_actix::CursorKey::new(secret.expose_secret().as_bytes()),
            "CURSOR_SECRET",
        ),
        None => (
            http_actix::CursorKey::new(&database.shared_secret(CURSOR_KEY_NAME).await?),
            "database",
        ),
    };
    tracing::info!(from, "cursor signing key ready");
    key.map_err(StartError::CursorKey)
}

/// A built, not yet running, service.
pub struct Application {
    port: u16,
    server: Server,
    database: Arc<Database>,
    /// The database upkeep to run: each job with its interval.
    upkeep: Vec<(Duration, Purge)>,
    streams: Arc<StreamHub>,
    metrics: Option<Metrics>,
    /// What the delivery worker runs, unless `DELIVERY_CONCURRENCY` is 0.
    deliveries: Option<(DeliveryService, usize)>,
    /// What the message worker runs, unless `DELIVERY_CONCURRENCY` is 0.
    messages: Option<(MessageService, usize)>,
}

/// The metrics listener (`METRICS_BIND_ADDR`): `GET /metrics` in Prometheus' text format.
struct Metrics {
    port: u16,
    server: Server,
    handle: metrics_exporter_prometheus::PrometheusHandle,
}

impl Metrics {
    fn bind(addr: std::net::SocketAddr, database: Arc<Database>) -> Result<Self, StartError> {
        let handle = crate::telemetry::prometheus();
        let listener = TcpListener::bind(addr).map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let port = listener.local_addr().map_err(StartError::LocalAddr)?.port();
        let scrape = handle.clone();
        let server = HttpServer::new(move || {
            let (scrape, database) = (scrape.clone(), database.clone());
            App::new().route(
                "/metrics",
                actix_web::web::get().to(move || {
                    // The pool's gauges are read here, at scrape time, not on every database call.
                    let (open, idle) = database.pool_state();
                    metrics::gauge!("db_pool_connections").set(f64::from(open));
                    metrics::gauge!("db_pool_idle_connections").set(f64::from(idle));
                    let body = scrape.render();
                    async move {
                        actix_web::HttpResponse::Ok()
                            .content_type("text/plain; version=0.0.4; charset=utf-8")
                            .body(body)
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?
        .run();
        tracing::info!(%addr, port, "metrics listening at /metrics");
        Ok(Self {
            port,
            server,
            handle,
        })
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens (and migrates) the database, wires the services and binds the listener.
    ///
    /// # Errors
    /// [`StartError`] when the database or the address cannot be had.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let db_config = config.database();
        let database = tokio::task::spawn_blocking(move || Database::open(&db_config))
            .await
            .map_err(StartError::DatabaseTask)??;
        tracing::info!(backend = ?database.backend(), "database ready");
        settle_legacy_contacts(&database, config.unprove_legacy_contacts).await?;
        let cursors = cursor_key(&config, &database).await?;
        let unsubscribe_key = domain::optouts::UnsubscribeKey::new(
            &database.shared_secret(UNSUBSCRIBE_KEY_NAME).await?,
        );
        let database = Arc::new(database);
        let maintenance = database.clone();

        let hasher_config = HasherConfig::default();
        // The gate in front of the hasher admits as many hashes as the hasher runs at once.
        let hashing = http_actix::HashingGate::new(
            hasher_config.max_concurrent,
            http_actix::HashingGate::DEFAULT_WAIT,
        );
        let hasher =
            Argon2Hasher::new(hasher_config).map_err(|e| StartError::Hasher(Box::new(e)))?;
        let clock = Arc::new(SystemClock);
        let policy = TokenPolicy {
            ttl: chrono::Duration::days(i64::from(config.token_ttl_days)),
        };
        // The abuse limits' counters: in PostgreSQL, so that every process on it counts together;
        // in this process on SQLite (docs/operations.md, "Abuse limits and the client address").
        let feed: Arc<dyn ChangeFeed> = database.clone();
        let streams = StreamHub::new(
            feed.clone(),
            HubConfig {
                streams_per_user: config.streams_per_user,
                streams_per_process: config.streams_per_process,
                poll: config.stream_poll_interval,
                ..HubConfig::default()
            },
        );
        let destinations = if config.webhook_allow_private {
            tracing::warn!("WEBHOOK_ALLOW_PRIVATE: webhooks may point at private addresses");
            DestinationPolicy::AllowPrivate
        } else {
            DestinationPolicy::PublicOnly
        };
        let sender: Arc<dyn WebhookSender> =
            Arc::new(HttpWebhookSender::new(WebhookSenderConfig {
                policy: destinations,
                timeout: config.webhook_timeout,
                allowed_ports: config.webhook_allowed_ports.clone(),
                ..WebhookSenderConfig::default()
            })?);
        let mailer: Option<Arc<dyn Mailer>> = match &config.email {
            EmailTransport::Smtp(smtp) => Some(Arc::new(
                SmtpMailer::new(smtp.clone()).map_err(StartError::Mailer)?,
            )),
            EmailTransport::Files(files) => Some(Arc::new(files.clone())),
            EmailTransport::Off => None,
        };
        let sms: Option<Arc<dyn domain::messages::ports::SmsSender>> = match &config.sms {
            SmsTransport::Gateway(url) => Some(
                url.clone()
                    .into_sender(config.sms_timeout)
                    .map_err(|e| StartError::Sms(Box::new(e)))?,
            ),
            SmsTransport::Files(files) => Some(Arc::new(files.clone())),
            SmsTransport::Off => None,
        };
        tracing::info!(email = %config.email, sms = %config.sms, "message transports");
        let messages = (config.delivery_concurrency > 0).then(|| {
            let service = domain::messages::MessageService::new(
                database.clone(),
                mailer.clone(),
                sms,
                clock.clone(),
                config.retry_policy.clone(),
                chrono::Duration::seconds(60)
                    .max(chrono::Duration::from_std(config.sms_timeout * 4).unwrap_or_default()),
            );
            (service, config.delivery_concurrency.min(8))
        });
        let webhooks = WebhookService::new(
            database.clone(),
            feed.clone(),
            sender.clone(),
            Arc::new(RandomTokenIssuer),
            clock.clone(),
            destinations,
        );
        let deliveries = (config.delivery_concurrency > 0).then(|| {
            let service = DeliveryService::new(
                feed.clone(),
                database.clone(),
                Arc::new(http_actix::api::changes::responses::ChangeJson),
                sender,
                mailer,
                clock.clone(),
                config.retry_policy.clone(),
                DeliveryLimits {
                    // Past the longest attempt (the sender's timeout, the mailer's 15 s).
                    lease: chrono::Duration::seconds(60).max(
                        chrono::Duration::from_std(config.webhook_timeout * 4).unwrap_or_default(),
                    ),
                    ..DeliveryLimits::default()
                },
            );
            // Invitees reached by a mobile number get a text, when texts go anywhere.
            let service = match config.sms {
                SmsTransport::Off => service,
                _ => service.with_sms(config.phone_region),
            }
            .with_links(config.public_url.clone(), Arc::new(RandomTokenIssuer))
            .with_calendars(database.clone())
            .with_notices(database.clone())
            .with_opt_outs(
                database.clone(),
                unsubscribe_key.clone(),
                config.public_url.clone(),
            );
            (service, config.delivery_concurrency)
        });
        if deliveries.is_none() {
            tracing::info!("DELIVERY_CONCURRENCY=0: this process delivers no webhooks or email");
        }
        let counters: Arc<dyn AbuseCounters> = match database.backend() {
            Backend::Postgres => database.clone(),
            Backend::Sqlite => Arc::new(http_actix::rate_limit::InProcessCounters::new()),
        };
        let codes = domain::accounts::VerificationService::new(
            database.clone(),
            counters.clone(),
            Arc::new(RandomTokenIssuer),
            clock.clone(),
            domain::accounts::codes::CodeKey::new(database.shared_secret(CODE_KEY_NAME).await?),
            domain::accounts::codes::CodePolicy::default(),
            config.sms_regions.clone(),
        );
        let invitations = InvitationService::new(
            database.clone(),
            database.clone(),
            database.clone(),
            clock.clone(),
        )
        .with_ttl(config.invitation_ttl)
        .with_caps(counters.clone(), config.send_caps, config.phone_region);
        let links = domain::links::LinkService::new(
            database.clone(),
            database.clone(),
            invitations.clone(),
            clock.clone(),
        );
        let state = http_actix::AppState {
            accounts: AccountService::new(
                database.clone(),
                database.clone(),
                Arc::new(hasher),
                Arc::new(RandomTokenIssuer),
                clock.clone(),
                policy,
                domain::accounts::Proofs {
                    verification: config.contact_verification,
                    codes,
                },
            ),
            events: EventService::new(database.clone(), clock.clone()),
            invitations,
            health: database.clone(),
            phone_region: config.phone_region,
            limiter: Arc::new(http_actix::RateLimiter::with_counters(
                config.rate_limits,
                counters,
            )),
            trusted_proxies: config.trusted_proxies.clone(),
            hashing: Arc::new(hashing),
            cursors,
            idempotency: IdempotencyService::new(
                database.clone(),
                Arc::new(SystemClock),
                IdempotencyPolicy::default(),
            ),
            changes: ChangeService::new(
                feed,
                database.clone(),
                Arc::new(RandomTokenIssuer),
                Arc::new(SystemClock),
            ),
            streams: streams.clone(),
            webhooks,
            links,
            opt_outs: domain::optouts::OptOutService::new(
                database.clone(),
                database.clone(),
                unsubscribe_key,
                clock.clone(),
            ),
            sms_inbound_secret: config.sms_inbound_secret.clone(),
            public_url: config.public_url.clone(),
            calendars: domain::calendars::CalendarService::new(
                database.clone(),
                Arc::new(RandomTokenIssuer),
                Arc::new(SystemClock),
                config.public_url.clone(),
            ),
        };

        // Before the app's server, so that the recorder is in place when the first request comes.
        let metrics = config
            .metrics_bind_addr
            .map(|addr| Metrics::bind(addr, database.clone()))
            .transpose()?;
        let listener = TcpListener::bind(config.bind_addr).map_err(|source| StartError::Bind {
            addr: config.bind_addr.to_string(),
            source,
        })?;
        let port = listener.local_addr().map_err(StartError::LocalAddr)?.port();
        let origins = config.cors_allowed_origins.clone();
        let body_timeout = config.request_body_timeout;
        let mut server = HttpServer::new(move || {
            App::new()
                // Innermost: a panicking handler still answers, with a JSON 500.
                .wrap(from_fn(http_actix::catch_panics))
                // Its 408 still gets CORS, the security headers and the request log.
                .wrap(from_fn(move |req, next| {
                    body_deadline(body_timeout, req, next)
                }))
                .wrap(http_actix::cors(&origins))
                .wrap(from_fn(http_actix::response_headers))
                // Every sentence above is written in the request's language.
                .wrap(from_fn(http_actix::i18n::languages))
                // List reads may use a standby that has caught up with the request's start.
                .wrap(from_fn(|req, next: actix_web::middleware::Next<_>| {
                    adapters_diesel::read_scope(next.call(req))
                }))
                .wrap(from_fn(http_actix::metrics::request_metrics))
                .wrap(TracingLogger::<RequestSpan>::new())
                // Outermost: every answer carries the request's id, which the span above logs.
                .wrap(from_fn(crate::telemetry::request_id))
                .configure(http_actix::configure(state.clone()))
        })
        .on_connect(http_actix::on_connect)
        .shutdown_timeout(10)
        // Signals are handled in `run_until_stopped`, which ends the live streams first.
        .disable_signals()
        .client_request_timeout(Duration::from_secs(10));
        if let Some(workers) = config.http_workers {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartError::Bind {
                addr: config.bind_addr.to_string(),
                source,
            })?
            .run();
        tracing::info!(addr = %config.bind_addr, port, "listening");
        Ok(Self {
            port,
            server,
            database: maintenance,
            upkeep: upkeep(&config, database.backend()),
            streams,
            metrics,
            deliveries,
            messages,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when `METRICS_BIND_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|m| m.port)
    }

    /// Serves until SIGINT or SIGTERM, then ends the live streams, finishes in-flight requests (up
    /// to 10 s), and stops the background tasks, one after the other: the streams' fan-out, the
    /// [`DeliveryWorker`] (whose attempts under way finish first), the [`ChangeListener`] on
    /// PostgreSQL, the metrics listener, the database upkeep ([`PeriodicTask`]s) and the trace
    /// export; then returns.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let tasks = BackgroundTasks::start(
            &self.database,
            self.streams.clone(),
            self.metrics,
            self.deliveries,
            self.messages,
            self.upkeep,
        );
        let handle = self.server.handle();
        let mut server = self.server;
        let served = tokio::select! {
            served = &mut server => served,
            () = shutdown_signal() => {
                tracing::info!("shutting down: live streams end, in-flight requests finish");
                self.streams.close();
                tasks.fan_out.end_streams();
                // The server future carries the stop out: it must be polled meanwhile.
                let stopping = tokio::spawn(handle.stop(true));
                let served = server.await;
                let _ = stopping.await;
                served
            }
        };
        tasks.stop().await;
        served
    }
}

/// The database upkeep a process runs, in the order it is stopped: the change feed purge, the
/// invitation sweeper (every `INVITATION_SWEEP_INTERVAL_SECS`), the reminder sweeper (every
/// `REMINDER_SWEEP_INTERVAL_SECS`), the token and idempotency key
/// purges (they and the change feed's every `TOKEN_PURGE_INTERVAL_SECS`; `0` turns either
/// interval's off), and the abuse counters' purge on PostgreSQL.
fn upkeep(config: &Config, backend: Backend) -> Vec<(Duration, Purge)> {
    let mut upkeep = Vec::new();
    if let Some(interval) = config.token_purge_interval {
        let retention = chrono::Duration::days(i64::from(config.event_retention_days));
        upkeep.push((interval, Purge::Changes { retention }));
    }
    if let Some(interval) = config.invitation_sweep_interval {
        upkeep.push((interval, Purge::Invitations));
    }
    if let Some(interval) = config.reminder_sweep_interval {
        upkeep.push((interval, Purge::Reminders));
    }
    if let Some(interval) = config.token_purge_interval {
        upkeep.push((interval, Purge::Tokens));
        upkeep.push((interval, Purge::IdempotencyKeys));
    }
    if backend == Backend::Postgres {
        // Every minute, the events no counter's window still holds (the daily caps' day).
        upkeep.push((
            http_actix::RateLimiter::WINDOW,
            Purge::Counters {
                window: domain::ports::LONGEST_COUNTER_WINDOW,
            },
        ));
    }
    upkeep
}

/// What runs beside the HTTP server, started with it and stopped after it has drained, in this
/// order:
///
/// 1. the live streams' fan-out (the streams themselves ended before the server stopped);
/// 2. the [`DeliveryWorker`], then the [`MessageWorker`]: each claims nothing more and lets the
///    attempts under way finish;
/// 3. the [`ChangeListener`] (PostgreSQL), which wakes the fan-out and the worker until then;
/// 4. the metrics listener and the recorder's upkeep, so that the drain can still be scraped;
/// 5. the [`PeriodicTask`]s, each finishing the batch under way;
/// 6. last, the trace export, when on: the spans still queued, those of the drain included, are
///    sent (docs/operations.md, "Traces").
struct BackgroundTasks {
    fan_out: FanOut,
    deliveries: Option<DeliveryWorker>,
    messages: Option<MessageWorker>,
    listener: Option<ChangeListener>,
    metrics: Option<MetricsTasks>,
    periodic: Vec<PeriodicTask>,
}

/// The live streams' fan-out task and what stops it.
struct FanOut {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FanOut {
    /// Tells the fan-out to end; [`BackgroundTasks::stop`] waits for it.
    fn end_streams(&self) {
        let _ = self.stop.send(true);
    }
}

/// The running metrics listener and the recorder's upkeep (it drains histogram samples into
/// buckets).
struct MetricsTasks {
    server: JoinHandle<std::io::Result<()>>,
    handle: ServerHandle,
    upkeep: JoinHandle<()>,
}

impl BackgroundTasks {
    /// Starts them all on the current runtime.
    fn start(
        database: &Arc<Database>,
        streams: Arc<StreamHub>,
        metrics: Option<Metrics>,
        deliveries: Option<(DeliveryService, usize)>,
        messages: Option<(MessageService, usize)>,
        periodic: Vec<(Duration, Purge)>,
    ) -> Self {
        let listener = ChangeListener::start(database);
        let metrics = metrics.map(|metrics| {
            let recorder = metrics.handle;
            let upkeep = tokio::spawn(async move {
                let mut ticks = tokio::time::interval(Duration::from_secs(5));
                loop {
                    ticks.tick().await;
                    recorder.run_upkeep();
                }
            });
            MetricsTasks {
                handle: metrics.server.handle(),
                server: tokio::spawn(metrics.server),
                upkeep,
            }
        });
        let deliveries =
            deliveries.map(|(service, concurrency)| DeliveryWorker::start(service, concurrency));
        let messages =
            messages.map(|(service, concurrency)| MessageWorker::start(service, concurrency));
        let (stop, stopped) = watch::channel(false);
        let fan_out = FanOut {
            stop,
            task: tokio::spawn(streams.run(stopped)),
        };
        let periodic = periodic
            .into_iter()
            .map(|(interval, purge)| PeriodicTask::start(database.clone(), interval, purge))
            .collect();
        Self {
            fan_out,
            deliveries,
            messages,
            listener,
            metrics,
            periodic,
        }
    }

    /// Stops them in the order above, each after the one before has ended.
    async fn stop(self) {
        self.fan_out.end_streams();
        let _ = self.fan_out.task.await;
        if let Some(deliveries) = self.deliveries {
            deliveries.stop().await;
        }
        if let Some(messages) = self.messages {
            messages.stop().await;
        }
        if let Some(listener) = self.listener {
            listener.stop().await;
        }
        if let Some(metrics) = self.metrics {
            metrics.handle.stop(true).await;
            let _ = metrics.server.await;
            metrics.upkeep.abort();
        }
        for task in self.periodic {
            task.stop().await;
        }
        crate::telemetry::finish_traces().await;
    }
}

/// Resolves at the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(terminate) => terminate,
                Err(error) => {
                    tracing::warn!(%error, "cannot watch for SIGTERM; SIGINT still stops");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
