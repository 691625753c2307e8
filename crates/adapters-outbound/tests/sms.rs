//! The SMS senders against real peers on loopback (docs/operations.md, "Text messages"):
//!
//! - Kannel 1.4.5 itself (bearerbox, smsbox and the fakesmsc test SMSC, started by
//!   `scripts/lib/kannel.sh`): what arrives at the SMSC is exactly what was sent, in UCS-2 and in
//!   GSM 7-bit, in one segment and in concatenated ones;
//! - a small HTTP server written here, standing in for Kavenegar, Twilio and Kannel's failures:
//!   the exact requests, and which answers are sent, transient or permanent;
//! - the file transports: what is written reads back, and concurrent writes never collide.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use adapters_outbound::testing::{AtSmsc, Body};
use adapters_outbound::{
    FileMailer, FileSmsSender, KannelConfig, KannelSender, KavenegarSender, OutboxDir, SmsUrl,
    TwilioSender,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use domain::messages::ports::{SmsResult, SmsSender};
use domain::messages::{Sms, SmsEncoding, SmsText};
use domain::webhooks::delivery::InvitationEmail;
use domain::webhooks::ports::{MailResult, Mailer};
use domain::{Email, InvitationId, Mobile, Text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

const TO: &str = "+989352864812";
const PERSIAN: &str = "دعوت به جشن راه‌اندازی، جمعه ساعت ۱۸:۰۰ 🎉";
const LATIN: &str = "Launch party, Friday 18:00 @ HQ: bring 5€ {cake} & friends!";

fn sms(text: &str) -> Sms {
    Sms {
        to: Mobile::from_stored(TO.to_owned()),
        text: SmsText::new(text).unwrap(),
    }
}

// Kannel itself.

/// Kannel on loopback, read back through its fake SMSC's log.
struct Kannel(adapters_outbound::testing::Kannel);

impl Kannel {
    fn start() -> Option<Self> {
        adapters_outbound::testing::Kannel::start().map(Self)
    }

    fn var(&self, key: &str) -> &str {
        self.0.var(key)
    }

    fn stop(&self) {
        self.0.stop();
    }

    /// The sender's settings as an operator writes them, through `SMS_URL`.
    fn config(&self, password: &str) -> KannelConfig {
        match SmsUrl::parse(&self.0.sms_url(password)).unwrap() {
            SmsUrl::Kannel(config) => config,
            other => panic!("not Kannel: {other}"),
        }
    }

    /// What the SMSC has received so far.
    fn received(&self) -> Vec<AtSmsc> {
        self.0.received()
    }

    /// What the SMSC has received once it has `count` messages (whole texts), within 10 s.
    async fn wait_for(&self, count: usize) -> Vec<AtSmsc> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn utf16be_bytes(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

#[tokio::test]
async fn kannel_delivers_persian_and_latin_texts_to_its_smsc_exactly() {
    let Some(kannel) = Kannel::start() else {
        return;
    };
    let sender = KannelSender::new(kannel.config(kannel.var("KANNEL_PASSWORD")), secs(10)).unwrap();
    let long_persian = "جشن راه‌اندازی محصول جدید ما جمعه ساعت ۱۸:۰۰ در طبقه ششم برگزار می‌شود؛ \
                        لطفا تا چهارشنبه پاسخ دهید 🎉";
    let long_latin =
        "Launch party on Friday at six, sixth floor. Bring a friend and a good mood. ".repeat(3);
    let texts = [PERSIAN, LATIN, long_persian, long_latin.trim_end()];
    let expected_segments = [1, 1, 2, 2];
    for (text, segments) in texts.iter().zip(expected_segments) {
        assert_eq!(SmsText::new(*text).unwrap().segments(), segments, "{text}");
    }
    assert_eq!(sms(PERSIAN).text.encoding(), SmsEncoding::Ucs2);
    assert_eq!(sms(LATIN).text.encoding(), SmsEncoding::Gsm7);

    for text in texts {
        assert_eq!(sender.send(&sms(text)).await, SmsResult::Sent, "{text}");
    }

    let received = kannel.wait_for(texts.len()).await;
    let at_smsc = |body| AtSmsc {
        from: "EventMgr".to_owned(),
        to: TO.to_owned(),
        body,
    };
    for expected in [
        at_smsc(Body::Text(PERSIAN.to_owned())),
        at_smsc(Body::Text(LATIN.to_owned())),
        at_smsc(Body::Concatenated(utf16be_bytes(texts[2]))),
        at_smsc(Body::Concatenated(texts[3].as_bytes().to_vec())),
    ] {
        assert!(
            received.contains(&expected),
            "{expected:?} is not among what the SMSC got: {received:#?}"
        );
    }
    assert_eq!(received.len(), texts.len(), "{received:#?}");

    // A password Kannel does not know: its 403 is for good.
    let impostor = KannelSender::new(kannel.config("not-the-password"), secs(10)).unwrap();
    assert_eq!(
        impostor.send(&sms(LATIN)).await,
        SmsResult::Permanent("Kannel refused it: 403 Authorization failed for sendsms".to_owned())
    );

    // Kannel gone: worth another attempt later, whether the sender finds its pooled connection
    // closed or cannot connect at all.
    kannel.stop();
    let result = sender.send(&sms(LATIN)).await;
    assert!(
        transient(&result).starts_with("Kannel did not answer: "),
        "{result:?}"
    );
    let fresh = KannelSender::new(kannel.config(kannel.var("KANNEL_PASSWORD")), secs(10)).unwrap();
    assert_eq!(
        fresh.send(&sms(LATIN)).await,
        SmsResult::Transient("Kannel did not answer: connection refused".to_owned())
    );
    assert_eq!(kannel.received().len(), texts.len());
}

// A stand-in HTTP server.

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// What the stand-in answers every request with.
#[derive(Clone)]
enum Reply {
    /// This status, `Content-Type` and body.
    With(u16, &'static str, String),
    /// Nothing, ever (the connection stays open).
    Never,
}

fn json(status: u16, body: serde_json::Value) -> Reply {
    Reply::With(status, "application/json", body.to_string())
}

fn plain(status: u16, body: &str) -> Reply {
    Reply::With(status, "text/html", body.to_owned())
}

/// One request as the stand-in read it.
#[derive(Debug)]
struct Received {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as form fields, decoded.
    fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    /// The target's query as fields, decoded.
    fn query(&self) -> Vec<(String, String)> {
        let query = self.target.split_once('?').map(|(_, q)| q).unwrap_or("");
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }
}

struct Stand {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: mpsc::UnboundedReceiver<Received>,
}

impl Stand {
    async fn one_request(&mut self) -> Received {
        tokio::time::timeout(secs(5), self.requests.recv())
            .await
            .expect("a request within 5 s")
            .expect("the stand-in is running")
    }
}

async fn stand_in(reply: Reply) -> Stand {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let (sent, requests) = mpsc::unbounded_channel();
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let (reply, sent) = (reply.clone(), sent.clone());
            tokio::spawn(answer(socket, reply, sent));
        }
    });
    Stand {
        port,
        connections,
        requests,
    }
}

async fn answer(mut socket: TcpStream, reply: Reply, sent: mpsc::UnboundedSender<Received>) {
    let Some(received) = read_request(&mut socket).await else {
        return;
    };
    let _ = sent.send(received);
    match reply {
        Reply::With(status, content_type, body) => {
            let response = format!(
                "HTTP/1.1 {status} Whatever\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
        Reply::Never => tokio::time::sleep(secs(60)).await,
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
    let head = String::from_utf8(buffer[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, target) = (
        request_line.next()?.to_owned(),
        request_line.next()?.to_owned(),
    );
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
        method,
        target,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

fn transient(result: &SmsResult) -> &str {
    match result {
        SmsResult::Transient(reason) => reason,
        other => panic!("expected transient, got {other:?}"),
    }
}

fn permanent(result: &SmsResult) -> &str {
    match result {
        SmsResult::Permanent(reason) => reason,
        other => panic!("expected permanent, got {other:?}"),
    }
}

// Kannel's answers, from the stand-in.

fn kannel_at(port: u16, timeout: Duration) -> KannelSender {
    let url = format!("kannel://tester:s3cret%26more@127.0.0.1:{port}?from=EventMgr");
    let SmsUrl::Kannel(config) = SmsUrl::parse(&url).unwrap() else {
        panic!("not Kannel");
    };
    KannelSender::new(config, timeout).unwrap()
}

#[tokio::test]
async fn kannel_gets_one_get_with_every_cgi_variable_and_its_codes_decide() {
    let mut stand = stand_in(plain(202, "0: Accepted for delivery")).await;
    let sender = kannel_at(stand.port, secs(5));

    assert_eq!(sender.send(&sms(PERSIAN)).await, SmsResult::Sent);
    let request = stand.one_request().await;
    assert_eq!(request.method, "GET");
    assert!(
        request.target.starts_with("/cgi-bin/sendsms?"),
        "{}",
        request.target
    );
    assert_eq!(
        request.query(),
        [
            ("username", "tester"),
            ("password", "s3cret&more"),
            ("to", TO),
            ("from", "EventMgr"),
            ("text", PERSIAN),
            ("charset", "UTF-8"),
            ("coding", "2"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(sender.send(&sms(LATIN)).await, SmsResult::Sent);
    let query = stand.one_request().await.query();
    assert!(
        query.contains(&("coding".to_owned(), "0".to_owned())),
        "{query:?}"
    );
    assert!(
        query.contains(&("text".to_owned(), LATIN.to_owned())),
        "{query:?}"
    );

    let queued = stand_in(plain(202, "3: Queued for later delivery")).await;
    assert_eq!(
        kannel_at(queued.port, secs(5)).send(&sms(LATIN)).await,
        SmsResult::Sent
    );

    let refused = stand_in(plain(
        400,
        "Number(s) has/have been denied by white- and/or black-lists.",
    ))
    .await;
    assert_eq!(
        permanent(&kannel_at(refused.port, secs(5)).send(&sms(LATIN)).await),
        "Kannel refused it: 400 Number(s) has/have been denied by white- and/or black-lists."
    );

    let busy = stand_in(plain(503, "Temporal failure, try again later.")).await;
    assert_eq!(
        transient(&kannel_at(busy.port, secs(5)).send(&sms(LATIN)).await),
        "Kannel asked to try again later: 503 Temporal failure, try again later."
    );
}

#[tokio::test]
async fn a_gateway_that_never_answers_is_transient_within_the_timeout() {
    let silent = stand_in(Reply::Never).await;
    let sender = kannel_at(silent.port, Duration::from_millis(500));
    let started = Instant::now();

    let result = sender.send(&sms(LATIN)).await;

    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        transient(&result),
        "Kannel did not answer: timed out after 500 ms"
    );
}

// Kavenegar.

fn kavenegar_at(port: u16, sender: Option<&str>) -> KavenegarSender {
    let query = sender.map(|s| format!("?sender={s}")).unwrap_or_default();
    let url = format!("kavenegar+http://4A6F-API-KEY@127.0.0.1:{port}{query}");
    let SmsUrl::Kavenegar(config) = SmsUrl::parse(&url).unwrap() else {
        panic!("not Kavenegar");
    };
    KavenegarSender::new(config, secs(5)).unwrap()
}

fn kavenegar_return(status: u16, message: &str) -> Reply {
    json(
        status,
        serde_json::json!({"return": {"status": status, "message": message}, "entries": null}),
    )
}

#[tokio::test]
async fn kavenegar_gets_its_form_with_the_key_in_the_path() {
    let accepted = json(
        200,
        serde_json::json!({
            "return": {"status": 200, "message": "تایید شد"},
            "entries": [{"messageid": 8792343, "status": 1, "receptor": TO}],
        }),
    );
    let mut stand = stand_in(accepted).await;
    let text = "دعوت به جشن، جمعه ۱۸:۰۰ 🎉";

    let result = kavenegar_at(stand.port, Some("10004346"))
        .send(&sms(text))
        .await;

    assert_eq!(result, SmsResult::Sent);
    let request = stand.one_request().await;
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/v1/4A6F-API-KEY/sms/send.json");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.body,
        "receptor=%2B989352864812\
         &message=%D8%AF%D8%B9%D9%88%D8%AA+%D8%A8%D9%87+%D8%AC%D8%B4%D9%86%D8%8C\
         +%D8%AC%D9%85%D8%B9%D9%87+%DB%B1%DB%B8%3A%DB%B0%DB%B0+%F0%9F%8E%89\
         &sender=10004346"
    );
    assert_eq!(
        request.form(),
        [("receptor", TO), ("message", text), ("sender", "10004346")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );

    // Without a sender, Kavenegar uses the account's default line.
    let mut stand = stand_in(kavenegar_return(200, "تایید شد")).await;
    assert_eq!(
        kavenegar_at(stand.port, None).send(&sms(LATIN)).await,
        SmsResult::Sent
    );
    let fields: Vec<String> = stand
        .one_request()
        .await
        .form()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(fields, ["receptor", "message"]);
}

#[tokio::test]
async fn kavenegar_return_codes_are_sent_transient_or_permanent() {
    for (reply, expected) in [
        (
            kavenegar_return(411, "شماره گیرنده معتبر نیست"),
            SmsResult::Permanent("Kavenegar refused it: 411 شماره گیرنده معتبر نیست".to_owned()),
        ),
        (
            kavenegar_return(412, "شماره فرستنده معتبر نیست"),
            SmsResult::Permanent("Kavenegar refused it: 412 شماره فرستنده معتبر نیست".to_owned()),
        ),
        (
            kavenegar_return(418, "اعتبار حساب شما کافی نیست"),
            SmsResult::Permanent("Kavenegar refused it: 418 اعتبار حساب شما کافی نیست".to_owned()),
        ),
        (
            kavenegar_return(409, "سرور قادر به پاسخگوئی نیست بعدا تلاش کنید"),
            SmsResult::Transient(
                "Kavenegar asked to try again later: 409 سرور قادر به پاسخگوئی نیست بعدا تلاش کنید"
                    .to_owned(),
            ),
        ),
        (
            plain(502, "Bad Gateway"),
            SmsResult::Transient("Kavenegar asked to try again later: 502 Bad Gateway".to_owned()),
        ),
        (
            plain(200, "<html>a captive portal</html>"),
            SmsResult::Transient(
                "Kavenegar answered 200 with a body that is not its JSON".to_owned(),
            ),
        ),
    ] {
        let stand = stand_in(reply).await;
        assert_eq!(
            kavenegar_at(stand.port, None).send(&sms(LATIN)).await,
            expected
        );
    }

    let port = closed_port().await;
    let result = kavenegar_at(port, None).send(&sms(LATIN)).await;
    assert_eq!(
        transient(&result),
        "Kavenegar did not answer: connection refused"
    );
    assert!(!format!("{:?}", kavenegar_at(port, None)).contains("4A6F-API-KEY"));
}

// Twilio.

fn twilio_at(port: u16) -> TwilioSender {
    let url = format!("twilio+http://AC0123456789abcdef:t0ken@127.0.0.1:{port}?from=+15551234567");
    let SmsUrl::Twilio(config) = SmsUrl::parse(&url).unwrap() else {
        panic!("not Twilio");
    };
    TwilioSender::new(config, secs(5)).unwrap()
}

#[tokio::test]
async fn twilio_gets_basic_auth_and_its_form() {
    let created = json(
        201,
        serde_json::json!({"sid": "SM1", "status": "queued", "to": TO, "body": "سلام & hi"}),
    );
    let mut stand = stand_in(created).await;

    assert_eq!(
        twilio_at(stand.port).send(&sms("سلام & hi")).await,
        SmsResult::Sent
    );

    let request = stand.one_request().await;
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.target,
        "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {}", STANDARD.encode("AC0123456789abcdef:t0ken")).as_str())
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        request.body,
        "To=%2B989352864812&From=%2B15551234567&Body=%D8%B3%D9%84%D8%A7%D9%85+%26+hi"
    );
    assert_eq!(
        request.form(),
        [("To", TO), ("From", "+15551234567"), ("Body", "سلام & hi")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[tokio::test]
async fn twilio_statuses_are_sent_transient_or_permanent_and_redirects_are_not_followed() {
    let error = |status: u16, code: u32, message: &str| {
        json(
            status,
            serde_json::json!({"code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors", "status": status}),
        )
    };
    for (reply, expected) in [
        (
            error(400, 21211, "The 'To' number +989352864812 is not a valid phone number."),
            SmsResult::Permanent(
                "Twilio refused it: 400 (21211) The 'To' number +989352864812 is not a valid phone number."
                    .to_owned(),
            ),
        ),
        (
            error(401, 20003, "Authenticate"),
            SmsResult::Permanent("Twilio refused it: 401 (20003) Authenticate".to_owned()),
        ),
        (
            error(429, 20429, "Too Many Requests"),
            SmsResult::Transient(
                "Twilio asked to try again later: 429 (20429) Too Many Requests".to_owned(),
            ),
        ),
        (
            plain(500, "Internal Server Error"),
            SmsResult::Transient(
                "Twilio asked to try again later: 500 Internal Server Error".to_owned(),
            ),
        ),
    ] {
        let stand = stand_in(reply).await;
        assert_eq!(twilio_at(stand.port).send(&sms(LATIN)).await, expected);
    }

    let mut redirecting = stand_in(Reply::With(307, "text/plain", String::new())).await;
    let result = twilio_at(redirecting.port).send(&sms(LATIN)).await;
    assert_eq!(transient(&result), "Twilio asked to try again later: 307");
    redirecting.one_request().await;
    assert_eq!(redirecting.connections.load(Ordering::SeqCst), 1);
    assert!(!format!("{:?}", twilio_at(redirecting.port)).contains("t0ken"));
}

// The file transports.

fn read_dir(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
}

#[tokio::test]
async fn texts_in_the_outbox_read_back_with_their_headers() {
    let root = tempfile::tempdir().unwrap();
    let outbox = OutboxDir::new(root.path().join("outbox"));
    let sender = FileSmsSender::new(&outbox);
    assert_eq!(sender.dir(), root.path().join("outbox/sms"));
    assert!(!sender.dir().exists(), "created on first use only");

    assert_eq!(sender.send(&sms(PERSIAN)).await, SmsResult::Sent);
    assert_eq!(sender.send(&sms(LATIN)).await, SmsResult::Sent);

    let files = read_dir(sender.dir());
    assert_eq!(files.len(), 2, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(name.ends_with(".txt") && name.len() > 40, "{name}");
    assert_eq!(
        std::fs::read_to_string(&files[0]).unwrap(),
        format!("To: {TO}\nEncoding: UCS-2\nSegments: 1\n\n{PERSIAN}\n")
    );
    assert_eq!(
        std::fs::read_to_string(&files[1]).unwrap(),
        format!("To: {TO}\nEncoding: GSM-7\nSegments: 1\n\n{LATIN}\n")
    );
}

#[tokio::test]
async fn concurrent_writes_give_distinct_whole_files() {
    let root = tempfile::tempdir().unwrap();
    let outbox = OutboxDir::new(root.path());
    let sender = Arc::new(FileSmsSender::new(&outbox));
    let mailer = Arc::new(FileMailer::new(
        &outbox,
        "Event Manager <no-reply@example.com>".parse().unwrap(),
    ));
    let message = mailer.compose(&invitation());
    let mut writes = tokio::task::JoinSet::new();
    for n in 0..20 {
        let (sender, mailer, message) = (sender.clone(), mailer.clone(), message.clone());
        writes.spawn(async move {
            assert_eq!(
                sender.send(&sms(&format!("Text number {n}"))).await,
                SmsResult::Sent
            );
            assert_eq!(mailer.send(&sara(), &message).await, MailResult::Sent);
        });
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap();
    }

    let texts = read_dir(sender.dir());
    assert_eq!(texts.len(), 20, "{texts:?}");
    let mut numbers: Vec<String> = texts
        .iter()
        .map(|path| {
            let contents = std::fs::read_to_string(path).unwrap();
            contents.lines().last().unwrap().to_owned()
        })
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 20, "every text once: {numbers:?}");
    let emails = read_dir(mailer.dir());
    assert_eq!(emails.len(), 20, "{emails:?}");
    assert!(emails.iter().all(|path| path.extension().unwrap() == "eml"));
}

fn sara() -> Email {
    Email::parse("sara@example.com").unwrap()
}

fn invitation() -> InvitationEmail {
    InvitationEmail {
        to: sara(),
        resent: false,
        promoted: false,
        cancelled: false,
        invitation_id: "01a21a05-9441-76f9-a0c7-06ec14569ae0"
            .parse::<InvitationId>()
            .unwrap(),
        invitee_name: Some(Text::from_stored("Sara".to_owned())),
        sender_name: Text::from_stored("Olivia".to_owned()),
        event_title: Text::from_stored("Launch party".to_owned()),
        message: Some(Text::from_stored("Rooftop at 8 pm.".to_owned())),
        expires_at: Some("2026-12-12T10:00:00Z".parse().unwrap()),
        link: None,
        calendar: None,
        locale: domain::i18n::Locale::En,
        time_zone: domain::events::TimeZone::UTC,
        unsubscribe: None,
    }
}

#[tokio::test]
async fn emails_in_the_outbox_are_whole_messages() {
    let root = tempfile::tempdir().unwrap();
    let mailer = FileMailer::new(
        &OutboxDir::new(root.path()),
        "Event Manager <no-reply@example.com>".parse().unwrap(),
    );
    assert_eq!(mailer.dir(), root.path().join("mail"));

    let message = mailer.compose(&invitation());
    assert_eq!(mailer.send(&sara(), &message).await, MailResult::Sent);
    assert_eq!(
        mailer.send(&sara(), "not a composed message").await,
        MailResult::Permanent("the stored message cannot be read".to_owned())
    );

    let files = read_dir(mailer.dir());
    assert_eq!(files.len(), 1, "{files:?}");
    // Quoted-printable: undo its soft line breaks and the one escape these lines use.
    let eml = std::fs::read_to_string(&files[0])
        .unwrap()
        .replace("=\r\n", "")
        .replace("=3D", "=");
    for expected in [
        "From: \"Event Manager\" <no-reply@example.com>\r\n",
        "To: sara@example.com\r\n",
        "Subject: Olivia invited you to Launch party\r\n",
        "Date: ",
        "Content-Type: multipart/alternative",
        "Hello Sara,",
        "> Rooftop at 8 pm.",
        "PATCH /api/v1/invitations/01a21a05-9441-76f9-a0c7-06ec14569ae0",
        "<p>Hello Sara,</p>",
    ] {
        assert!(eml.contains(expected), "{expected:?} missing from:\n{eml}");
    }
}

#[tokio::test]
async fn an_outbox_that_cannot_be_written_is_transient() {
    let root = tempfile::tempdir().unwrap();
    // A file where the outbox's directory should be: not even root can make a directory in it.
    let blocked = root.path().join("outbox");
    std::fs::write(&blocked, "not a directory").unwrap();
    let sender = FileSmsSender::new(&OutboxDir::new(&blocked));

    let result = sender.send(&sms(LATIN)).await;

    let reason = transient(&result);
    assert!(
        reason.starts_with("cannot write to the outbox "),
        "{reason}"
    );
    assert!(reason.contains("outbox/sms"), "{reason}");
}
