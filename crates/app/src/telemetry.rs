//! Logs, request ids, traces and metrics.
//!
//! - Logs: `tracing` with `RUST_LOG` filtering, pretty or JSON lines on stderr.
//! - Request ids: every request gets a [`RequestId`], answered in `X-Request-Id` and carried by
//!   its span ([`request_id`], [`RequestSpan`]).
//! - Traces: with `OTEL_EXPORTER_OTLP_ENDPOINT`, the spans of requests and of what they call
//!   (handlers, database calls) go to an OpenTelemetry collector over OTLP/HTTP, batched in the
//!   background (docs/operations.md, "Traces").
//! - Metrics: the Prometheus recorder behind the `metrics` facade (docs/operations.md, "Metrics").

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue, USER_AGENT};
use actix_web::http::Version;
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::{LogFormat, TraceExport};

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter was refused its settings: `OTEL_EXPORTER_OTLP_ENDPOINT`, or one of the
    /// `OTEL_EXPORTER_OTLP_*` variables the OpenTelemetry SDK reads itself.
    #[error("cannot set up trace export to {url}")]
    Exporter {
        /// Where spans would have been posted.
        url: String,
        /// Why not.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
}

/// The process's tracer provider while traces are exported: one per process, as the subscriber
/// that feeds it.
static TRACES: OnceLock<SdkTracerProvider> = OnceLock::new();

/// How long the last export at shutdown may take before the spans still queued are given up.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

/// Installs the global subscriber: the logs, and the trace export when `traces` says where to.
/// Safe to call more than once (later calls do nothing).
///
/// Traces take the spans and events at INFO and above whatever `RUST_LOG` says: those of
/// requests, handlers and database calls. The exporter's own HTTP client logs below INFO, so its
/// requests never become spans to export in turn.
///
/// # Errors
/// [`TelemetryError::Exporter`] when the exporter cannot be built from its settings.
pub fn init(format: LogFormat, traces: Option<&TraceExport>) -> Result<(), TelemetryError> {
    if tracing::dispatcher::has_been_set() {
        return Ok(());
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = match format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    }
    .with_filter(filter);
    let provider = traces.map(tracer_provider).transpose()?;
    let spans = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("event-manager"))
            .with_filter(LevelFilter::INFO)
    });
    if tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()
        .is_err()
    {
        return Ok(());
    }
    match (traces, provider) {
        (Some(export), Some(provider)) => {
            let _ = TRACES.set(provider);
            tracing::info!(
                url = %export.traces_url(),
                service = %export.service_name,
                "traces exported over OTLP/HTTP"
            );
        }
        _ => tracing::info!("traces off: OTEL_EXPORTER_OTLP_ENDPOINT is not set"),
    }
    Ok(())
}

/// A provider that batches finished spans on a thread of its own and posts them to the
/// collector: a request only queues its spans (dropped when the queue is full), never waits.
fn tracer_provider(export: &TraceExport) -> Result<SdkTracerProvider, TelemetryError> {
    let url = export.traces_url();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .build()
        .map_err(|source| TelemetryError::Exporter { url, source })?;
    let resource = Resource::builder()
        .with_service_name(export.service_name.clone())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(QuietExporter::new(exporter, Duration::from_secs(60)))
        .with_resource(resource)
        .build())
}

/// Exports the spans still queued and stops the exporter, waiting [`FLUSH_WAIT`] at most: the
/// last step of a graceful shutdown. Nothing to do when traces are off.
pub async fn finish_traces() {
    let Some(provider) = TRACES.get().cloned() else {
        return;
    };
    // The exporter's client blocks, and so does waiting for it.
    match tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(FLUSH_WAIT)).await {
        Ok(Ok(())) => tracing::info!("traces flushed"),
        Ok(Err(error)) => tracing::warn!(%error, "the last traces were not all exported"),
        Err(error) => tracing::warn!(%error, "the trace flush did not finish"),
    }
}

/// The collector's exporter, whose failures are logged at most once per `every`, counted: a
/// collector that is down costs a log line a minute, not one per export.
#[derive(Debug)]
struct QuietExporter<E> {
    inner: E,
    reports: Throttle,
    /// Failed exports and their spans since the last report.
    failed_exports: AtomicU64,
    dropped_spans: AtomicU64,
    /// Whether the last export failed, so that the first success after is told.
    failing: AtomicBool,
}

impl<E> QuietExporter<E> {
    fn new(inner: E, every: Duration) -> Self {
        Self {
            inner,
            reports: Throttle::new(every),
            failed_exports: AtomicU64::new(0),
            dropped_spans: AtomicU64::new(0),
            failing: AtomicBool::new(false),
        }
    }

    fn failed(&self, spans: usize, error: &OTelSdkError) {
        self.failing.store(true, Ordering::Relaxed);
        self.failed_exports.fetch_add(1, Ordering::Relaxed);
        self.dropped_spans
            .fetch_add(u64::try_from(spans).unwrap_or(u64::MAX), Ordering::Relaxed);
        if self.reports.admit(Instant::now()) {
            // Taken outside the macro, whose fields are not evaluated when the level is off.
            let failed_exports = self.failed_exports.swap(0, Ordering::Relaxed);
            let dropped_spans = self.dropped_spans.swap(0, Ordering::Relaxed);
            tracing::warn!(
                %error,
                failed_exports,
                dropped_spans,
                "cannot export traces, their spans are dropped (said once a minute at most)"
            );
        }
    }

    fn succeeded(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("trace export works again");
        }
    }
}

impl<E: SpanExporter> SpanExporter for QuietExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => self.succeeded(),
            Err(error) => self.failed(spans, error),
        }
        result
    }

    fn shutdown_with_timeout(&mut self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&mut self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Admits one report per interval.
#[derive(Debug)]
struct Throttle {
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl Throttle {
    fn new(every: Duration) -> Self {
        Self {
            every,
            last: Mutex::new(None),
        }
    }

    /// Whether a report may be made at `now`; if so, the next one may come `every` later.
    fn admit(&self, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match *last {
            Some(then) if now.saturating_duration_since(then) < self.every => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

/// The header a request's id comes in and goes out with.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id (docs/operations.md, "Traces"): the caller's `X-Request-Id` when it is 1 to
/// [`RequestId::MAX_LEN`] characters of `A-Z a-z 0-9 . _ : -`, otherwise a new UUID v7.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The longest id taken from a caller.
    pub const MAX_LEN: usize = 128;

    /// The caller's id, if it is one to keep.
    pub fn parse(value: &str) -> Option<Self> {
        let sane = (1..=Self::MAX_LEN).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        sane.then(|| Self(value.to_owned()))
    }

    /// A new id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The request's id: the caller's when sane, otherwise a new one.
    fn of(request: &ServiceRequest) -> Self {
        request
            .headers()
            .get(X_REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .and_then(Self::parse)
            .unwrap_or_else(Self::generate)
    }
}

/// Middleware, outermost: gives the request its [`RequestId`], which [`RequestSpan`] reads, and
/// every answer its `X-Request-Id`, 404s and errors included.
///
/// # Errors
/// An error from within, its answer made here so that it carries the id too.
pub async fn request_id<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let id = RequestId::of(&req);
    // Sane by construction: visible ASCII only.
    let header = HeaderValue::from_str(id.as_str()).ok();
    req.extensions_mut().insert(id);
    match (next.call(req).await, header) {
        (Ok(mut response), Some(header)) => {
            response.headers_mut().insert(X_REQUEST_ID, header);
            Ok(response)
        }
        (Err(error), Some(header)) => {
            let mut answer = error.error_response();
            answer.headers_mut().insert(X_REQUEST_ID, header);
            Err(InternalError::from_response(error, answer).into())
        }
        (outcome, None) => outcome,
    }
}

/// The root span of every request, with tracing-actix-web's fields (method, route, status and
/// the rest), `request_id` being the request's [`RequestId`]. While traces are exported, the span
/// also has the id as the attribute `request.id`, and its trace's id in `trace_id` for the logs.
#[derive(Debug)]
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::generate);
        let method = request.method().as_str();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "default".to_owned());
        let user_agent = request
            .headers()
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let connection = request.connection_info();
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = %flavor(request.version()),
            http.scheme = %connection.scheme(),
            http.host = %connection.host(),
            http.client_ip = %connection.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %target(&route, request.uri()),
            http.status_code = Empty,
            otel.name = %format_args!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = Empty,
            trace_id = Empty,
            request_id = %id.as_str(),
            exception.message = Empty,
            exception.details = Empty,
        );
        drop(connection);
        if TRACES.get().is_some() {
            span.set_attribute("request.id", id.0);
            let trace_id = span.context().span().span_context().trace_id();
            span.record("trace_id", tracing::field::display(trace_id));
        }
        span
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The request's target as logs and traces show it: the route's pattern in place of a path that
/// holds a secret token (one-click links, unsubscribe links, calendar feeds), and no query where it
/// may hold a secret (the SMS gateway's hook: its secret, a phone number and a text; a stream's
/// ticket).
fn target(route: &str, uri: &actix_web::http::Uri) -> String {
    if route.contains("{token}") || route.contains("{secret}") || route.contains("{file}") {
        return route.to_owned();
    }
    if route.starts_with("/hooks/") || route.ends_with("/me/stream") {
        return uri.path().to_owned();
    }
    uri.path_and_query()
        .map_or_else(String::new, |p| p.as_str().to_owned())
}

#[cfg(test)]
mod target_tests {
    use super::target;

    #[test]
    fn tokens_and_the_hooks_query_never_reach_the_logs() {
        let uri = |s: &str| s.parse::<actix_web::http::Uri>().unwrap();
        assert_eq!(
            target("/unsubscribe/{token}", &uri("/unsubscribe/c2VjcmV0.dGFn")),
            "/unsubscribe/{token}"
        );
        assert_eq!(target("/i/{token}", &uri("/i/abc")), "/i/{token}");
        assert_eq!(
            target("/cal/{file}", &uri("/cal/secret.ics")),
            "/cal/{file}"
        );
        assert_eq!(
            target("/api/v1/me/stream", &uri("/api/v1/me/stream?ticket=t")),
            "/api/v1/me/stream"
        );
        assert_eq!(
            target(
                "/hooks/sms",
                &uri("/hooks/sms?secret=s&from=%2B98912&text=STOP")
            ),
            "/hooks/sms"
        );
        assert_eq!(
            target("/api/v1/events", &uri("/api/v1/events?limit=5")),
            "/api/v1/events?limit=5"
        );
    }
}

/// The HTTP version as the span's `http.flavor` has it.
fn flavor(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2.0",
        Version::HTTP_3 => "3.0",
        _ => "unknown",
    }
}

/// Histogram buckets, in seconds: from a fast database call to a request at its time limit.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's Prometheus recorder, installed as the global `metrics` recorder on first use;
/// every later call returns the same handle (one registry per process, however many servers it
/// runs, as in the tests).
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already; /metrics may be empty");
            }
            handle
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_caller_id_is_kept_and_anything_else_is_not() {
        for sane in ["trace-me-1", "a", "A.b_c:d-9", &"x".repeat(128)] {
            assert_eq!(RequestId::parse(sane).map(|id| id.0), Some(sane.to_owned()));
        }
        for insane in [
            "",
            &"x".repeat(129),
            "two words",
            "tab\there",
            "caf\u{e9}",
            "a/b",
            "{json}",
            "line\nbreak",
        ] {
            assert_eq!(RequestId::parse(insane), None, "{insane:?}");
        }
    }

    #[test]
    fn generated_ids_are_sane_and_differ() {
        let (one, two) = (RequestId::generate(), RequestId::generate());
        assert_ne!(one, two);
        assert_eq!(RequestId::parse(one.as_str()), Some(one));
    }

    #[test]
    fn the_throttle_admits_one_report_per_interval() {
        let throttle = Throttle::new(Duration::from_secs(60));
        let start = Instant::now();
        assert!(throttle.admit(start));
        assert!(!throttle.admit(start + Duration::from_secs(1)));
        assert!(!throttle.admit(start + Duration::from_secs(59)));
        assert!(throttle.admit(start + Duration::from_secs(60)));
        assert!(!throttle.admit(start + Duration::from_secs(61)));
    }

    /// An exporter that always fails, counting its calls.
    #[derive(Debug, Default)]
    struct Down(AtomicU64);

    impl SpanExporter for Down {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.fetch_add(1, Ordering::Relaxed);
            Err(OTelSdkError::InternalFailure("connection refused".into()))
        }
    }

    #[test]
    fn failed_exports_are_counted_between_reports_and_still_fail() {
        let quiet = QuietExporter::new(Down::default(), Duration::from_secs(60));
        for _ in 0..5 {
            let result = block_on(quiet.export(Vec::new()));
            assert!(result.is_err());
        }
        assert_eq!(quiet.inner.0.load(Ordering::Relaxed), 5);
        // The first failure was reported; the four after it wait for the next report.
        assert_eq!(quiet.failed_exports.load(Ordering::Relaxed), 4);
        assert!(quiet.failing.load(Ordering::Relaxed));
    }

    /// Runs a future that never waits on anything.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }
}
