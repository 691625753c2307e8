//! Wiring: builds the adapters, the domain services and the HTTP server from a [`Config`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};
use adapters_diesel::{
    Argon2Hasher, Backend, ChangeListener, Database, HasherConfig, RandomTokenIssuer,
};
use adapters_outbound::{HttpWebhookSender, SmtpMailer, WebhookSenderConfig};
use domain::idempotency::IdempotencyPolicy;
use domain::ports::{AbuseCounters, ChangeFeed, Mailer, SystemClock, WebhookSender};
use domain::services::{
    AccountService, DeliveryLimits, DeliveryService, EventService, FeedService, IdempotencyService,
    InvitationService, TokenPolicy, WebhookService,
};
use domain::webhooks::DestinationPolicy;
use http_actix::api::changes::hub::{HubConfig, StreamHub};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tracing_actix_web::TracingLogger;

use crate::body_deadline::body_deadline;
use crate::config::Config;
use crate::deliveries::DeliveryWorker;
use crate::maintenance::{
    ChangePurge, CounterPurge, IdempotencyPurge, InvitationSweeper, TokenPurge,
};

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
}

/// The name of the cursor signing key among the database's shared secrets.
const CURSOR_KEY_NAME: &str = "cursor-signing-key";

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
    token_purge_interval: Option<Duration>,
    invitation_sweep_interval: Option<Duration>,
    event_retention: chrono::Duration,
    streams: Arc<StreamHub>,
    metrics: Option<Metrics>,
    /// What the delivery worker runs, unless `DELIVERY_CONCURRENCY` is 0.
    deliveries: Option<(DeliveryService, usize)>,
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
        let cursors = cursor_key(&config, &database).await?;
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
                ..WebhookSenderConfig::default()
            })?);
        let mailer: Option<Arc<dyn Mailer>> = match &config.smtp {
            Some(smtp) => {
                tracing::info!(host = %smtp.host, port = smtp.port, "invitation email on");
                Some(Arc::new(
                    SmtpMailer::new(smtp.clone()).map_err(StartError::Mailer)?,
                ))
            }
            None => {
                tracing::info!("invitation email off: SMTP_URL is not set");
                None
            }
        };
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
                Arc::new(http_actix::api::changes::responses::FeedJson),
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
            (service, config.delivery_concurrency)
        });
        if deliveries.is_none() {
            tracing::info!("DELIVERY_CONCURRENCY=0: this process delivers no webhooks or email");
        }
        let counters: Arc<dyn AbuseCounters> = match database.backend() {
            Backend::Postgres => database.clone(),
            Backend::Sqlite => Arc::new(http_actix::rate_limit::InProcessCounters::new()),
        };
        let state = http_actix::AppState {
            accounts: AccountService::new(
                database.clone(),
                database.clone(),
                Arc::new(hasher),
                Arc::new(RandomTokenIssuer),
                clock.clone(),
                policy,
            ),
            events: EventService::new(database.clone(), clock.clone()),
            invitations: InvitationService::new(
                database.clone(),
                database.clone(),
                database.clone(),
                clock,
            )
            .with_ttl(config.invitation_ttl),
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
            feed: FeedService::new(
                feed,
                database.clone(),
                Arc::new(RandomTokenIssuer),
                Arc::new(SystemClock),
            ),
            streams: streams.clone(),
            webhooks,
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
                // Innermost: its 408 still gets CORS, the security headers and the request log.
                .wrap(from_fn(move |req, next| {
                    body_deadline(body_timeout, req, next)
                }))
                .wrap(http_actix::cors(&origins))
                .wrap(from_fn(http_actix::response_headers))
                .wrap(from_fn(http_actix::metrics::request_metrics))
                .wrap(TracingLogger::default())
                .configure(http_actix::configure(state.clone()))
        })
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
            token_purge_interval: config.token_purge_interval,
            invitation_sweep_interval: config.invitation_sweep_interval,
            event_retention: chrono::Duration::days(i64::from(config.event_retention_days)),
            streams,
            metrics,
            deliveries,
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
    /// to 10 s), stops the background tasks ([`TokenPurge`], [`IdempotencyPurge`] and
    /// [`ChangePurge`], every `TOKEN_PURGE_INTERVAL_SECS`, [`InvitationSweeper`], [`CounterPurge`]
    /// and the [`ChangeListener`] on PostgreSQL, the streams' fan-out, and the [`DeliveryWorker`],
    /// whose attempts under way finish first) and returns.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let listener = ChangeListener::start(&self.database);
        // The metrics server, and the recorder's upkeep (it drains histogram samples into buckets).
        let metrics = self.metrics.map(|metrics| {
            let stop = metrics.server.handle();
            let handle = metrics.handle;
            let upkeep = tokio::spawn(async move {
                let mut ticks = tokio::time::interval(Duration::from_secs(5));
                loop {
                    ticks.tick().await;
                    handle.run_upkeep();
                }
            });
            (tokio::spawn(metrics.server), stop, upkeep)
        });
        let deliveries = self
            .deliveries
            .map(|(service, concurrency)| DeliveryWorker::start(service, concurrency));
        let (stop_streams, streams_stopped) = watch::channel(false);
        let fan_out = tokio::spawn(self.streams.clone().run(streams_stopped));
        let change_purge = self.token_purge_interval.map(|interval| {
            ChangePurge::start(self.database.clone(), interval, self.event_retention)
        });
        let counter_purge = (self.database.backend() == Backend::Postgres)
            .then(|| CounterPurge::start(self.database.clone(), http_actix::RateLimiter::WINDOW));
        let sweeper = self
            .invitation_sweep_interval
            .map(|interval| InvitationSweeper::start(self.database.clone(), interval));
        let idempotency_purge = self
            .token_purge_interval
            .map(|interval| IdempotencyPurge::start(self.database.clone(), interval));
        let purge = self
            .token_purge_interval
            .map(|interval| TokenPurge::start(self.database, interval));
        let handle = self.server.handle();
        let mut server = self.server;
        let served = tokio::select! {
            served = &mut server => served,
            () = shutdown_signal() => {
                tracing::info!("shutting down: live streams end, in-flight requests finish");
                self.streams.close();
                let _ = stop_streams.send(true);
                // The server future carries the stop out: it must be polled meanwhile.
                let stopping = tokio::spawn(handle.stop(true));
                let served = server.await;
                let _ = stopping.await;
                served
            }
        };
        let _ = stop_streams.send(true);
        let _ = fan_out.await;
        if let Some(deliveries) = deliveries {
            deliveries.stop().await;
        }
        if let Some(listener) = listener {
            listener.stop().await;
        }
        if let Some((server, stop, upkeep)) = metrics {
            stop.stop(true).await;
            let _ = server.await;
            upkeep.abort();
        }
        if let Some(purge) = change_purge {
            purge.stop().await;
        }
        if let Some(sweeper) = sweeper {
            sweeper.stop().await;
        }
        if let Some(purge) = purge {
            purge.stop().await;
        }
        if let Some(purge) = idempotency_purge {
            purge.stop().await;
        }
        if let Some(purge) = counter_purge {
            purge.stop().await;
        }
        served
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
