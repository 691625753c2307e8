//! Request ids and traces (docs/operations.md, "Traces"): every answer's `X-Request-Id`, the same
//! id in the logs, and the spans exported over OTLP/HTTP to a collector the test plays.
//!
//! The logs and the trace export hang on the process's global subscriber, which the binary sets up
//! and the in-process services of the other tests do not: what they show is tested on real
//! `event-manager` processes, one per test.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use adapters_diesel::testing::TestDatabase;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use reqwest::header::HeaderValue;
use serde_json::json;

use crate::helpers::{api_tests_once, client, TestApp};

api_tests_once!(
    a_sane_request_id_is_answered_back,
    an_insane_request_id_is_replaced_by_a_fresh_one,
    without_a_request_id_every_answer_gets_a_fresh_one,
    a_404_and_a_401_carry_the_request_id_too,
);

/// The `X-Request-Id` answered to a `GET path` sent with `id`.
async fn answered_id(app: &TestApp, path: &str, id: Option<HeaderValue>) -> (u16, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.unwrap();
    let ids: Vec<_> = response.headers().get_all("x-request-id").iter().collect();
    assert_eq!(ids.len(), 1, "one X-Request-Id: {ids:?}");
    (
        response.status().as_u16(),
        ids[0].to_str().unwrap().to_owned(),
    )
}

/// Whether `id` is one the service made: a UUID v7.
fn is_fresh(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|uuid| uuid.get_version_num() == 7)
}

async fn a_sane_request_id_is_answered_back(app: TestApp) {
    let longest = "x".repeat(128);
    for sane in ["trace-me-1", "A.b_c:d-9", "7", &longest] {
        let (status, id) = answered_id(
            &app,
            "/health/live",
            Some(HeaderValue::from_str(sane).unwrap()),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(id, sane);
    }
}

async fn an_insane_request_id_is_replaced_by_a_fresh_one(app: TestApp) {
    let too_long = HeaderValue::from_str(&"x".repeat(129)).unwrap();
    let spaces = HeaderValue::from_static("two words");
    let non_ascii = HeaderValue::from_bytes("caf\u{e9}-1".as_bytes()).unwrap();
    let slash = HeaderValue::from_static("a/b");
    for insane in [too_long, spaces, non_ascii, slash] {
        let (status, id) = answered_id(&app, "/health/live", Some(insane.clone())).await;
        assert_eq!(status, 200);
        assert!(is_fresh(&id), "{insane:?} answered {id}");
    }
}

async fn without_a_request_id_every_answer_gets_a_fresh_one(app: TestApp) {
    let (_, one) = answered_id(&app, "/health/live", None).await;
    let (_, two) = answered_id(&app, "/health/live", None).await;
    assert!(is_fresh(&one) && is_fresh(&two), "{one} {two}");
    assert_ne!(one, two);
}

async fn a_404_and_a_401_carry_the_request_id_too(app: TestApp) {
    let sent = || Some(HeaderValue::from_static("lost-1"));
    assert_eq!(
        answered_id(&app, "/no/such/path", sent()).await,
        (404, "lost-1".to_owned())
    );
    assert_eq!(
        answered_id(&app, "/api/v1/me", sent()).await,
        (401, "lost-1".to_owned())
    );
    let (status, id) = answered_id(&app, "/api/v1/me", None).await;
    assert_eq!(status, 401);
    assert!(is_fresh(&id));
}

/// An `event-manager` process on a loopback port and its own SQLite database, its stderr (the
/// logs) kept line by line; killed on drop.
struct Process {
    child: std::process::Child,
    address: String,
    logs: Arc<Mutex<Vec<String>>>,
    _database: TestDatabase,
}

impl Process {
    /// Starts the binary with `vars` (the registration limit out of the way, `RUST_LOG=info`) and
    /// waits until it is ready. Should another process take the port first, another is tried.
    async fn start(vars: &[(&str, &str)]) -> Self {
        let database = TestDatabase::sqlite();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_event-manager"))
                .env_clear()
                .env("DATABASE_URL", database.url())
                .env("BIND_ADDR", format!("127.0.0.1:{port}"))
                .env("HTTP_WORKERS", "2")
                .env("REGISTRATIONS_PER_ADDRESS", "0")
                // Nothing written to an outbox in the working directory, and no codes.
                .env("SMTP_URL", "none")
                .env("SMS_URL", "none")
                .env("CONTACT_VERIFICATION", "off")
                .current_dir(std::env::temp_dir())
                .env("RUST_LOG", "info")
                .envs(vars.iter().copied())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start event-manager");
            let logs = Arc::new(Mutex::new(Vec::new()));
            let (stderr, lines) = (child.stderr.take().unwrap(), logs.clone());
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line);
                }
            });
            let address = format!("http://127.0.0.1:{port}");
            for _ in 0..200 {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                let ready = client().get(format!("{address}/health/ready")).send().await;
                if ready.is_ok_and(|r| r.status() == 200) {
                    return Self {
                        child,
                        address,
                        logs,
                        _database: database,
                    };
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("event-manager did not become ready");
    }

    fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// The first log line that contains `text`, waiting for it 5 s at most (the lines are read
    /// from the pipe by a thread of their own).
    async fn log_line(&self, text: &str) -> Option<String> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Some(line) = self.logs().into_iter().find(|line| line.contains(text)) {
                return Some(line);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Sends SIGTERM and waits for the exit (10 s at most).
    async fn stop(&mut self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no exit after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Registers a user, sending `request_id`; the answered id.
    async fn register(&self, email: &str, request_id: &str) -> String {
        let response = client()
            .post(format!("{}/api/v1/register", self.address))
            .header("x-request-id", request_id)
            .json(&json!({"name": "Olivia", "email": email, "password": "correct horse"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OTLP/HTTP collector on a loopback port: keeps every `POST /v1/traces` body, decoded.
struct Collector {
    endpoint: String,
    received: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

impl Collector {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        let server = HttpServer::new(move || {
            let kept = kept.clone();
            App::new()
                .app_data(web::PayloadConfig::new(16 << 20))
                .route(
                    "/v1/traces",
                    web::post().to(move |body: web::Bytes| {
                        let decoded = ExportTraceServiceRequest::decode(body);
                        let kept = kept.clone();
                        async move {
                            match decoded {
                                Ok(request) => {
                                    kept.lock().unwrap().push(request);
                                    HttpResponse::Ok()
                                        .content_type("application/x-protobuf")
                                        .finish()
                                }
                                Err(_) => HttpResponse::BadRequest().finish(),
                            }
                        }
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { endpoint, received }
    }

    /// Every span received so far, each with its resource's `service.name`.
    fn spans(&self) -> Vec<Span> {
        let received = self.received.lock().unwrap();
        let mut spans = Vec::new();
        for resource_spans in received.iter().flat_map(|r| &r.resource_spans) {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|resource| text(&resource.attributes, "service.name"))
                .unwrap_or_default();
            for scope in &resource_spans.scope_spans {
                for span in &scope.spans {
                    spans.push((service.clone(), span.clone()));
                }
            }
        }
        spans
    }

    /// Waits (10 s at most) for the server span whose `request.id` is `id`; it and the spans
    /// received in its trace.
    async fn trace_of(&self, id: &str) -> Option<(Span, Vec<Span>)> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let spans = self.spans();
            let server = spans.iter().find(|(_, span)| {
                span.kind == SpanKind::Server as i32
                    && text(&span.attributes, "request.id").as_deref() == Some(id)
            });
            if let Some(server) = server {
                let trace: Vec<Span> = spans
                    .iter()
                    .filter(|(_, span)| span.trace_id == server.1.trace_id)
                    .cloned()
                    .collect();
                return Some((server.clone(), trace));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

/// A received span with its resource's `service.name`.
type Span = (String, opentelemetry_proto::tonic::trace::v1::Span);

fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref()?.value.as_ref())
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    match value(attributes, key)? {
        any_value::Value::StringValue(text) => Some(text.clone()),
        _ => None,
    }
}

fn integer(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match value(attributes, key)? {
        any_value::Value::IntValue(n) => Some(*n),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_exported_with_its_id_and_its_database_calls_in_one_trace() {
    let collector = Collector::start();
    let process = Process::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint),
        // The SDK's own variable: export within 100 ms instead of 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("LOG_FORMAT", "json"),
    ])
    .await;
    assert_eq!(
        process.register("olivia@example.com", "trace-me-1").await,
        "trace-me-1"
    );

    let (server, trace) = collector
        .trace_of("trace-me-1")
        .await
        .expect("the request's span is exported within 10 s");
    let (service, server) = server;
    assert_eq!(service, "event-manager");
    assert_eq!(server.name, "POST /api/v1/register");
    assert_eq!(
        text(&server.attributes, "http.method").as_deref(),
        Some("POST")
    );
    assert_eq!(
        text(&server.attributes, "http.route").as_deref(),
        Some("/api/v1/register")
    );
    assert_eq!(integer(&server.attributes, "http.status_code"), Some(201));

    // A database call's span, under the request's (its parent's parent's ...).
    let parents: HashMap<&[u8], &[u8]> = trace
        .iter()
        .map(|(_, span)| (&span.span_id[..], &span.parent_span_id[..]))
        .collect();
    let under_request = |span_id: &[u8]| {
        let mut id = span_id;
        while let Some(parent) = parents.get(id).filter(|p| !p.is_empty()) {
            if *parent == &server.span_id[..] {
                return true;
            }
            id = parent;
        }
        false
    };
    // The user's insert: `UserRepository::create` in the adapter's `users` module.
    let inserts: Vec<&str> = trace
        .iter()
        .filter(|(_, span)| {
            text(&span.attributes, "target").as_deref() == Some("adapters_diesel::users")
                && under_request(&span.span_id)
        })
        .map(|(_, span)| span.name.as_str())
        .collect();
    assert_eq!(
        inserts,
        ["create"],
        "no database span under the request: {:?}",
        trace
            .iter()
            .map(|(_, s)| (&s.name, text(&s.attributes, "target")))
            .collect::<Vec<_>>()
    );

    // The logs name the same request id and trace: a 401 logs a warning inside the request.
    let response = client()
        .get(format!("{}/api/v1/me", process.address))
        .header("x-request-id", "trace-me-2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let ((_, unauthenticated), _) = collector.trace_of("trace-me-2").await.unwrap();
    let trace_id = hex(&unauthenticated.trace_id);
    let line = process
        .log_line("\"request_id\":\"trace-me-2\"")
        .await
        .expect("a log line of the request");
    assert!(
        line.contains(&format!("\"trace_id\":\"{trace_id}\"")),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logs_carry_the_answered_request_id() {
    let process = Process::start(&[("LOG_FORMAT", "json")]).await;
    let me = |id: Option<&'static str>| {
        let mut request = client().get(format!("{}/api/v1/me", process.address));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    assert_eq!(me(Some("log-me-1")).await.unwrap().status(), 401);
    let fresh = me(Some("not sane")).await.unwrap().headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(is_fresh(&fresh));
    // A 401 logs a warning inside its request's span.
    for id in ["log-me-1", &fresh] {
        let field = format!("\"request_id\":\"{id}\"");
        assert!(
            process.log_line(&field).await.is_some(),
            "{id} not in {:#?}",
            process.logs()
        );
    }
    assert!(!process.logs().iter().any(|line| line.contains("not sane")));
}

/// The slowest of 20 authenticated reads, all answered 200.
async fn slowest_of_20_reads(process: &Process) -> Duration {
    let response = client()
        .post(format!("{}/api/v1/register", process.address))
        .json(&json!({"name": "Bob", "email": "bob@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["data"]["token"].as_str().unwrap().to_owned();
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let response = client()
            .get(format!("{}/api/v1/me", process.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        slowest = slowest.max(started.elapsed());
        // Room for the exporter to try (and fail) between requests.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    slowest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_costs_the_requests_nothing_and_is_logged_once() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let without = Process::start(&[]).await;
    let baseline = slowest_of_20_reads(&without).await;
    drop(without);

    let with = Process::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &closed),
        // Export (and fail) after every span, at once.
        ("OTEL_BSP_SCHEDULE_DELAY", "10"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1"),
    ])
    .await;
    let slowest = slowest_of_20_reads(&with).await;
    assert!(
        slowest <= baseline + Duration::from_millis(200),
        "slowest {slowest:?} against {baseline:?} without traces"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let warnings: Vec<String> = with
        .logs()
        .into_iter()
        .filter(|line| line.contains("cannot export traces"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spans_still_queued_are_exported_at_a_graceful_shutdown() {
    let collector = Collector::start();
    let mut process = Process::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint),
        // Nothing would leave before the shutdown.
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
    ])
    .await;
    process.register("olivia@example.com", "flush-me-1").await;
    assert!(collector.spans().is_empty());
    process.stop().await;
    assert!(
        collector.trace_of("flush-me-1").await.is_some(),
        "not flushed"
    );
}
