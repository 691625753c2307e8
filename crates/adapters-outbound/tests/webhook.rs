//! `HttpWebhookSender` against a real HTTP server on loopback, started by each test: what arrives,
//! what is read of the answer, how failures are worded, and the SSRF guard (docs/api.md,
//! "Webhooks"; docs/security.md, "Webhooks and SSRF").

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use adapters_outbound::{HttpWebhookSender, WebhookSenderConfig};
use domain::webhooks::delivery::AttemptRecord;
use domain::webhooks::ports::{DestinationRefused, WebhookRequest, WebhookResponse, WebhookSender};
use domain::webhooks::{DestinationPolicy, WebhookUrl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the test server answers.
#[derive(Clone)]
enum Reply {
    /// These bytes, after reading the request.
    Raw(String),
    /// This head, then `total` bytes of `x`, written in 16 KiB pieces until done or refused.
    Stream { head: String, total: usize },
    /// Nothing, ever (the connection stays open).
    Never,
    /// These bytes at once, without reading anything (not TLS: a client's handshake fails).
    Unasked(String),
}

/// One request as the server read it.
#[derive(Debug)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: mpsc::UnboundedReceiver<Received>,
    /// Body bytes a `Reply::Stream` wrote; `stream_ended` once it stopped.
    written: Arc<AtomicUsize>,
    stream_ended: Arc<AtomicBool>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request received so far.
    fn drain(&mut self) -> Vec<Received> {
        let mut all = Vec::new();
        while let Ok(received) = self.requests.try_recv() {
            all.push(received);
        }
        all
    }
}

async fn serve(reply: Reply) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(AtomicUsize::new(0));
    let stream_ended = Arc::new(AtomicBool::new(false));
    let (sent, requests) = mpsc::unbounded_channel();
    let (counted, bytes, ended) = (connections.clone(), written.clone(), stream_ended.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let (reply, sent, bytes, ended) =
                (reply.clone(), sent.clone(), bytes.clone(), ended.clone());
            tokio::spawn(async move {
                answer(socket, reply, sent, bytes, ended).await;
            });
        }
    });
    Server {
        port,
        connections,
        requests,
        written,
        stream_ended,
    }
}

async fn answer(
    mut socket: TcpStream,
    reply: Reply,
    sent: mpsc::UnboundedSender<Received>,
    written: Arc<AtomicUsize>,
    stream_ended: Arc<AtomicBool>,
) {
    if let Reply::Unasked(bytes) = &reply {
        let _ = socket.write_all(bytes.as_bytes()).await;
        return;
    }
    let Some(received) = read_request(&mut socket).await else {
        return;
    };
    let _ = sent.send(received);
    match reply {
        Reply::Raw(bytes) => {
            let _ = socket.write_all(bytes.as_bytes()).await;
            // Keep the connection open a while: what the client reads is up to the client.
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Reply::Stream { head, total } => {
            if socket.write_all(head.as_bytes()).await.is_ok() {
                let piece = vec![b'x'; 16 * 1024];
                while written.load(Ordering::SeqCst) < total {
                    let n = piece.len().min(total - written.load(Ordering::SeqCst));
                    if socket.write_all(&piece[..n]).await.is_err() {
                        break;
                    }
                    written.fetch_add(n, Ordering::SeqCst);
                }
            }
            stream_ended.store(true, Ordering::SeqCst);
        }
        Reply::Never => tokio::time::sleep(Duration::from_secs(60)).await,
        Reply::Unasked(_) => {}
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Received> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let mut chunk = [0; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        request_line,
        headers,
        body,
    })
}

fn sender(policy: DestinationPolicy, timeout: Duration) -> HttpWebhookSender {
    HttpWebhookSender::new(WebhookSenderConfig {
        policy,
        timeout,
        ..WebhookSenderConfig::default()
    })
    .unwrap()
}

fn allow_private() -> HttpWebhookSender {
    sender(DestinationPolicy::AllowPrivate, Duration::from_secs(10))
}

fn public_only() -> HttpWebhookSender {
    sender(DestinationPolicy::PublicOnly, Duration::from_secs(10))
}

/// [`public_only`], with `port` among the ports webhooks may use.
fn public_only_on(port: u16) -> HttpWebhookSender {
    HttpWebhookSender::new(WebhookSenderConfig {
        policy: DestinationPolicy::PublicOnly,
        timeout: Duration::from_secs(10),
        allowed_ports: vec![443, port],
        ..WebhookSenderConfig::default()
    })
    .unwrap()
}

fn url(raw: &str) -> WebhookUrl {
    // As read back from storage: the sender checks again whatever was checked at creation.
    WebhookUrl::from_stored(raw.to_owned())
}

fn request(to: &str) -> WebhookRequest {
    WebhookRequest {
        url: url(to),
        message_id: "msg_01a21a05".to_owned(),
        timestamp: 1_800_000_000,
        signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned(),
        body: r#"{"id":"42","type":"invitation.created","data":{"note":"é"}}"#.to_owned(),
    }
}

fn raw(status_line: &str, headers: &str, body: &str) -> Reply {
    Reply::Raw(format!(
        "HTTP/1.1 {status_line}\r\n{headers}content-length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn failed(error: &str) -> WebhookResponse {
    WebhookResponse::Failed {
        error: error.to_owned(),
    }
}

#[tokio::test]
async fn the_body_and_the_standard_webhooks_headers_arrive() {
    let mut server = serve(raw("202 Accepted", "", "queued")).await;
    let sent = request(&server.url("/hooks/in?team=7"));

    let response = allow_private().send(&sent).await;

    assert_eq!(
        response,
        WebhookResponse::Answered {
            status: 202,
            retry_after: None,
            body: "queued".to_owned()
        }
    );
    let received = server.drain();
    assert_eq!(received.len(), 1);
    let received = &received[0];
    assert_eq!(received.request_line, "POST /hooks/in?team=7 HTTP/1.1");
    assert_eq!(received.header("content-type"), Some("application/json"));
    assert_eq!(received.header("webhook-id"), Some("msg_01a21a05"));
    assert_eq!(received.header("webhook-timestamp"), Some("1800000000"));
    assert_eq!(
        received.header("webhook-signature"),
        Some(sent.signature.as_str())
    );
    assert_eq!(
        received.header("user-agent"),
        Some(concat!("EventManager-Webhooks/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(received.body, sent.body.as_bytes());
}

#[tokio::test]
async fn a_redirect_is_an_answer_and_is_not_followed() {
    let mut server = serve(raw("302 Found", "location: /elsewhere\r\n", "")).await;

    let response = allow_private().send(&request(&server.url("/in"))).await;

    assert!(
        matches!(response, WebhookResponse::Answered { status: 302, .. }),
        "{response:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let received = server.drain();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].request_line, "POST /in HTTP/1.1");
}

#[tokio::test]
async fn only_the_start_of_a_megabyte_body_is_read() {
    let total = 1024 * 1024;
    let server = serve(Reply::Stream {
        head: format!("HTTP/1.1 500 Internal Server Error\r\ncontent-length: {total}\r\n\r\n"),
        total,
    })
    .await;

    let response = allow_private().send(&request(&server.url("/in"))).await;

    let WebhookResponse::Answered { status, body, .. } = response else {
        panic!("expected an answer, got {response:?}");
    };
    assert_eq!(status, 500);
    assert_eq!(body, "x".repeat(AttemptRecord::BODY_MAX));
}

#[tokio::test]
async fn an_endless_body_is_not_read_to_its_end() {
    let total = 1 << 30;
    let server = serve(Reply::Stream {
        head: format!("HTTP/1.1 200 OK\r\ncontent-length: {total}\r\n\r\n"),
        total,
    })
    .await;
    let started = Instant::now();

    let response = allow_private().send(&request(&server.url("/in"))).await;

    assert!(started.elapsed() < Duration::from_secs(5));
    let WebhookResponse::Answered { body, .. } = response else {
        panic!("expected an answer, got {response:?}");
    };
    assert_eq!(body.len(), AttemptRecord::BODY_MAX);
    // The client hung up after its kilobyte: the server's writes failed long before a gigabyte.
    while !server.stream_ended.load(Ordering::SeqCst) {
        assert!(started.elapsed() < Duration::from_secs(10), "still writing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.written.load(Ordering::SeqCst) < total / 16);
}

#[tokio::test]
async fn a_body_cut_inside_a_character_stays_within_the_limit() {
    // 1023 bytes of `a`, then a two-byte `é` across the limit.
    let body = format!("{}é", "a".repeat(AttemptRecord::BODY_MAX - 1));
    let server = serve(raw("400 Bad Request", "", &body)).await;

    let response = allow_private().send(&request(&server.url("/in"))).await;

    let WebhookResponse::Answered { body, .. } = response else {
        panic!("expected an answer, got {response:?}");
    };
    assert!(body.len() <= AttemptRecord::BODY_MAX);
    assert!(body.starts_with(&"a".repeat(AttemptRecord::BODY_MAX - 1)));
}

#[tokio::test]
async fn retry_after_is_read_in_seconds() {
    let server = serve(raw("503 Service Unavailable", "retry-after: 120\r\n", "")).await;

    let response = allow_private().send(&request(&server.url("/in"))).await;

    assert_eq!(
        response,
        WebhookResponse::Answered {
            status: 503,
            retry_after: Some(chrono::Duration::seconds(120)),
            body: String::new()
        }
    );
}

#[tokio::test]
async fn retry_after_is_read_as_an_http_date_from_now() {
    let at = chrono::Utc::now() + chrono::Duration::seconds(90);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT");
    let server = serve(raw(
        "429 Too Many Requests",
        &format!("retry-after: {date}\r\n"),
        "slow down",
    ))
    .await;

    let response = allow_private().send(&request(&server.url("/in"))).await;

    let WebhookResponse::Answered {
        status,
        retry_after: Some(wait),
        body,
    } = response
    else {
        panic!("expected an answer with a wait, got {response:?}");
    };
    assert_eq!((status, body.as_str()), (429, "slow down"));
    let seconds = wait.num_seconds();
    assert!((85..=90).contains(&seconds), "{seconds} s");
}

#[tokio::test]
async fn a_silent_endpoint_times_out_within_the_timeout() {
    let mut server = serve(Reply::Never).await;
    let timeout = Duration::from_millis(500);
    let started = Instant::now();

    let response = sender(DestinationPolicy::AllowPrivate, timeout)
        .send(&request(&server.url("/in")))
        .await;

    let elapsed = started.elapsed();
    assert_eq!(response, failed("timed out after 500 ms"));
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    assert_eq!(server.drain().len(), 1, "the request did arrive");
}

#[tokio::test]
async fn a_body_that_stalls_keeps_the_status_and_what_arrived() {
    let server = serve(Reply::Raw(
        "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello".to_owned(),
    ))
    .await;
    let started = Instant::now();

    let response = sender(DestinationPolicy::AllowPrivate, Duration::from_millis(500))
        .send(&request(&server.url("/in")))
        .await;

    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(
        response,
        WebhookResponse::Answered {
            status: 200,
            retry_after: None,
            body: "hello".to_owned()
        }
    );
}

#[tokio::test]
async fn failures_are_worded_for_the_endpoints_owner() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let not_tls = serve(Reply::Unasked(
        "HTTP/1.1 400 Bad Request\r\n\r\n".to_owned(),
    ))
    .await;
    let sender = allow_private();

    assert_eq!(
        sender
            .send(&request(&format!("http://127.0.0.1:{port}/in")))
            .await,
        failed("connection refused")
    );
    assert_eq!(
        sender
            .send(&request(&format!("https://127.0.0.1:{}/in", not_tls.port)))
            .await,
        failed("the TLS handshake failed")
    );
    assert_eq!(
        sender.send(&request("http://nothing.invalid/in")).await,
        failed("the host name does not resolve")
    );
    assert_eq!(
        sender.send(&request("ftp://127.0.0.1/in")).await,
        failed("only http and https URLs are supported")
    );
}

#[tokio::test]
async fn public_only_refuses_loopback_by_address_and_by_name_and_nothing_arrives() {
    let mut server = serve(raw("200 OK", "", "")).await;
    let port = server.port;
    let sender = public_only_on(port);
    let cases = [
        (
            format!("https://127.0.0.1:{port}/in"),
            "the host is an address that is not public",
        ),
        (
            format!("https://[::ffff:127.0.0.1]:{port}/in"),
            "the host is an address that is not public",
        ),
        (
            format!("https://localhost:{port}/in"),
            "the host resolves to an address that is not public",
        ),
        (
            format!("http://127.0.0.1:{port}/in"),
            "only https URLs are allowed",
        ),
    ];

    for (to, sentence) in &cases {
        assert_eq!(
            sender.check_destination(&url(to)).await,
            Err(DestinationRefused::NotPublic),
            "{to}"
        );
        assert_eq!(sender.send(&request(to)).await, failed(sentence), "{to}");
    }

    // By default its port is not one webhooks may use: refused before any look-up.
    let to = format!("https://localhost:{port}/in");
    assert_eq!(
        public_only().check_destination(&url(&to)).await,
        Err(DestinationRefused::PortNotAllowed)
    );
    assert_eq!(
        public_only().send(&request(&to)).await,
        failed("the port is not one webhooks may use")
    );

    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.connections.load(Ordering::SeqCst), 0);
    assert!(server.drain().is_empty());
}

#[tokio::test]
async fn public_only_checks_names_and_addresses_before_creation() {
    let sender = public_only();
    assert_eq!(
        sender
            .check_destination(&url("https://nothing.invalid/in"))
            .await,
        Err(DestinationRefused::Unresolvable)
    );
    assert_eq!(
        sender.send(&request("https://nothing.invalid/in")).await,
        failed("the host name does not resolve")
    );
    // A public address needs no look-up, and no network, to be allowed.
    assert_eq!(
        sender
            .check_destination(&url("https://93.184.215.14/in"))
            .await,
        Ok(())
    );
    assert_eq!(
        sender
            .check_destination(&url("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/in"))
            .await,
        Ok(())
    );
}

#[tokio::test]
async fn allow_private_lets_loopback_through() {
    let mut server = serve(raw("200 OK", "", "ok")).await;
    let port = server.port;
    let sender = allow_private();
    let ok = WebhookResponse::Answered {
        status: 200,
        retry_after: None,
        body: "ok".to_owned(),
    };

    for to in [
        format!("http://127.0.0.1:{port}/in"),
        format!("http://localhost:{port}/in"),
    ] {
        assert_eq!(sender.check_destination(&url(&to)).await, Ok(()), "{to}");
        assert_eq!(sender.send(&request(&to)).await, ok, "{to}");
    }
    assert_eq!(server.drain().len(), 2);
}
