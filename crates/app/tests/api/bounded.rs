//! Bounded resources, end to end (docs/operations.md, "Every wait is bounded", "Token purge"): a
//! lock held elsewhere costs a request a few seconds and a 503, never a hang; a client sending its
//! body slowly gets a 408 and a closed connection; expired and revoked tokens do not pile up.
//! Figures are printed (`--nocapture`, or nextest's output).

use std::time::{Duration, Instant};

use adapters_diesel::Backend;
use serde_json::json;

use crate::helpers::{api_tests, client, spawn_on, TestApp};

/// How long any request of these tests may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(20);

api_tests!(an_answer_waiting_on_a_held_lock_is_503_within_seconds);

async fn an_answer_waiting_on_a_held_lock_is_503_within_seconds(app: TestApp) {
    let owner = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let invitee = app.register("Sara", Some("sara@example.com"), None).await;
    let event_id = app.create_event(&owner, "Party").await;
    let sent = app
        .send(&owner, &event_id, json!(["sara@example.com"]))
        .await;
    let invitation = sent.expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another client holds the lock the answer needs: the invitation's row on PostgreSQL, the
    // write lock on SQLite.
    let mut holder = app.database.session();
    match app.database.backend() {
        Backend::Postgres => holder.execute(&format!(
            "BEGIN; SELECT id FROM invitations WHERE id = '{invitation}' FOR UPDATE"
        )),
        Backend::Sqlite => holder.execute("BEGIN IMMEDIATE"),
    }

    let started = Instant::now();
    let reply = tokio::time::timeout(HANG, app.answer(&invitee, &invitation, "accepted"))
        .await
        .expect("the answer hung behind the lock");
    let took = started.elapsed();
    eprintln!(
        "{:?}: answer behind a held lock -> {} after {took:.2?}",
        app.database.backend(),
        reply.status
    );
    assert_eq!(
        reply.expect(503),
        &json!({"message": "Service temporarily unavailable."})
    );
    assert!(took < Duration::from_secs(6), "took {took:?}");

    // Once the lock is released, the same answer goes through.
    drop(holder);
    app.answer(&invitee, &invitation, "accepted")
        .await
        .expect(200);
}

/// The service on a fresh database of `backend` with extra variables (`None`: no PostgreSQL).
async fn spawn_with(backend: Backend, vars: &[(&str, &str)]) -> Option<TestApp> {
    let database = adapters_diesel::testing::TestDatabase::new(backend)?;
    let address = spawn_on(&database, vars).await;
    Some(TestApp {
        address,
        client: client(),
        database,
    })
}

/// A token row for `user`, written directly: `hash_byte` repeated 32 times as its digest.
fn token_sql(backend: Backend, user: &str, hash_byte: u8, expires: &str, revoked: &str) -> String {
    let hex = format!("{hash_byte:02x}").repeat(32);
    let hash = match backend {
        Backend::Postgres => format!("decode('{hex}', 'hex')"),
        Backend::Sqlite => format!("X'{hex}'"),
    };
    format!(
        "INSERT INTO access_tokens (token_hash, user_id, created_at, expires_at, revoked_at) \
         VALUES ({hash}, '{user}', '2020-01-01 00:00:00', '{expires}', {revoked})"
    )
}

async fn expired_and_long_revoked_tokens_are_purged_in_the_background(backend: Backend) {
    let Some(app) = spawn_with(backend, &[("TOKEN_PURGE_INTERVAL_SECS", "1")]).await else {
        return;
    };
    let user = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let login = |password: &'static str| {
        app.login(json!({"login": "olivia@example.com", "password": password}))
    };
    let kept = login("correct horse").await.expect(200)["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let logged_out = login("correct horse").await.expect(200)["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.call(
        reqwest::Method::POST,
        "/api/v1/logout",
        Some(&logged_out),
        None,
    )
    .await
    .expect(204);
    let mut session = app.database.session();
    // Expired years ago; revoked years ago (and unexpired).
    session.execute(&token_sql(
        backend,
        &user.id,
        1,
        "2020-01-02 00:00:00",
        "NULL",
    ));
    session.execute(&token_sql(
        backend,
        &user.id,
        2,
        "2999-01-01 00:00:00",
        "'2020-01-02 00:00:00'",
    ));
    drop(session);
    let count = || {
        app.database
            .texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM access_tokens")
            .remove(0)
    };
    assert_eq!(count(), "5");

    let started = Instant::now();
    while count() != "3" && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    eprintln!("{backend:?}: token purge took the two stale tokens within {took:.2?}");
    // The registration's token, the live one and the one revoked a moment ago (kept for a day).
    assert_eq!(count(), "3", "after {took:?}");
    app.get("/api/v1/me", &kept).await.expect(200);
    app.get("/api/v1/me", &user.token).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_expired_and_long_revoked_tokens_are_purged_in_the_background() {
    expired_and_long_revoked_tokens_are_purged_in_the_background(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_expired_and_long_revoked_tokens_are_purged_in_the_background() {
    expired_and_long_revoked_tokens_are_purged_in_the_background(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_gets_408_and_a_closed_connection_within_the_bound() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_with(Backend::Sqlite, &[("REQUEST_BODY_TIMEOUT_SECS", "2")])
        .await
        .expect("SQLite needs no configuration");
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // Content-Length: 100, then one byte, then nothing: the connection must not stay open.
    stream
        .write_all(
            b"POST /api/v1/register HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut first_byte = None;
    let read = tokio::time::timeout(HANG, async {
        let mut buffer = [0_u8; 1024];
        loop {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            first_byte.get_or_insert_with(|| started.elapsed());
            answer.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    eprintln!(
        "slow body (REQUEST_BODY_TIMEOUT_SECS=2): answer {:?} after {:.2?}, {} after {took:.2?}",
        answer.lines().next().unwrap_or("none"),
        first_byte.unwrap_or(took),
        if read.is_ok() {
            "connection closed"
        } else {
            "still open"
        },
    );
    assert!(read.is_ok(), "the connection was still open after {HANG:?}");
    assert!(took < Duration::from_secs(4), "closed after {took:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).unwrap(),
        json!({"message": "The request took too long to send.", "code": "request_timeout"}),
        "{answer}"
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
}
