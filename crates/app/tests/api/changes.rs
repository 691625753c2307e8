//! The change feed and the live stream end to end (docs/api.md, "Change feed and live stream"):
//! what each user's feed and stream show (R12), resuming after `Last-Event-ID` with nothing lost or
//! repeated, tickets, the per-user cap, delivery across two processes on PostgreSQL within a
//! second, and shutdown ending streams.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{api_tests, api_tests_once, spawn_on, ServerProcess, TestApp, TestUser};

/// One event of a `text/event-stream`.
#[derive(Debug)]
struct SseEvent {
    id: i64,
    kind: String,
    data: Value,
}

/// A live stream being read.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(
        app: &TestApp,
        query: &str,
        auth: Option<&str>,
        last_event_id: Option<i64>,
    ) -> Result<Self, (StatusCode, String)> {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v1/me/stream{query}")));
        if let Some(token) = auth {
            request = request.bearer_auth(token);
        }
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        if response.status() != StatusCode::OK {
            let status = response.status();
            return Err((status, response.text().await.unwrap_or_default()));
        }
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Ok(Self {
            response,
            buffer: String::new(),
        })
    }

    /// The next data event within `within`, or `None` (the stream ended or nothing came).
    async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, None, None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.parse().ok()
                    }
                    if let Some(v) = line.strip_prefix("event: ") {
                        kind = Some(v.to_owned())
                    }
                    if let Some(v) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(v).ok()
                    }
                }
                if let (Some(id), Some(kind), Some(data)) = (id, kind, data) {
                    return Some(SseEvent { id, kind, data });
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}

async fn feed(app: &TestApp, user: &TestUser, query: &str) -> Value {
    app.get(&format!("/api/v1/me/events{query}"), &user.token)
        .await
        .expect(200)
        .clone()
}

fn types(feed: &Value) -> Vec<&str> {
    feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect()
}

async fn invite(app: &TestApp, olivia: &TestUser, event: &str, contact: &str) -> String {
    let reply = app.send(olivia, event, json!([contact])).await;
    reply.expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

api_tests!(
    each_feed_shows_its_user_their_changes_oldest_first_and_nobody_elses,
    a_stream_delivers_within_a_second_and_resumes_after_last_event_id_with_nothing_lost_or_repeated,
    a_ticket_opens_one_stream_once
);

async fn each_feed_shows_its_user_their_changes_oldest_first_and_nobody_elses(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let sara = app.register("Sara", Some("sara@example.com"), None).await;
    let stranger = app
        .register("Stranger", Some("stranger@example.com"), None)
        .await;
    let event = app.create_event(&olivia, "Launch").await;
    let invitation = invite(&app, &olivia, &event, "SARA@example.com").await;
    app.answer(&sara, &invitation, "accepted").await.expect(200);

    let sara_feed = feed(&app, &sara, "").await;
    assert_eq!(
        types(&sara_feed),
        ["invitation.created", "invitation.accepted", "member.joined"]
    );
    let created = &sara_feed["data"][0];
    assert_eq!(created["data"]["id"], invitation.as_str());
    assert_eq!(created["data"]["invitee"]["id"], sara.id.as_str());
    assert_eq!(created["data"]["contact"], "SARA@example.com");
    assert_eq!(
        created["data"]["status"], "pending",
        "the resource as it was after the change"
    );
    assert_eq!(sara_feed["data"][1]["data"]["status"], "accepted");
    let joined = &sara_feed["data"][2]["data"];
    assert_eq!(
        (
            joined["event"]["id"].as_str(),
            joined["id"].as_str(),
            joined["role"].as_str()
        ),
        (Some(event.as_str()), Some(sara.id.as_str()), Some("member"))
    );
    assert_eq!(
        sara_feed["meta"],
        json!({"limit": 50, "next_after": sara_feed["data"][2]["id"]})
    );
    assert_eq!(
        types(&feed(&app, &olivia, "").await),
        ["invitation.created", "invitation.accepted", "member.joined"]
    );
    assert_eq!(
        feed(&app, &stranger, "").await,
        json!({"data": [], "meta": {"limit": 50, "next_after": 0}}),
        "R12"
    );

    // Paging and polling with next_after.
    let first = feed(&app, &sara, "?limit=1").await;
    assert_eq!(types(&first), ["invitation.created"]);
    let next = first["meta"]["next_after"].as_i64().unwrap();
    assert_eq!(
        types(&feed(&app, &sara, &format!("?after={next}")).await),
        ["invitation.accepted", "member.joined"]
    );
    let last = sara_feed["meta"]["next_after"].as_i64().unwrap();
    assert_eq!(
        feed(&app, &sara, &format!("?after={last}")).await["meta"]["next_after"],
        last,
        "nothing new: poll again with the same after"
    );

    for bad in ["?after=-1", "?after=x", "?limit=0", "?limit=101"] {
        let reply = app
            .get(&format!("/api/v1/me/events{bad}"), &sara.token)
            .await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text);
    }
    assert_eq!(app.get("/api/v1/me/events", "nope").await.status, 401);
}

async fn a_stream_delivers_within_a_second_and_resumes_after_last_event_id_with_nothing_lost_or_repeated(
    app: TestApp,
) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let sara = app.register("Sara", Some("sara@example.com"), None).await;
    let stranger = app
        .register("Stranger", Some("stranger@example.com"), None)
        .await;
    let event = app.create_event(&olivia, "Launch").await;
    let mut live = Stream::open(&app, "", Some(&sara.token), None)
        .await
        .unwrap();
    let mut outsider = Stream::open(&app, "", Some(&stranger.token), None)
        .await
        .unwrap();

    let sent_at = Instant::now();
    let first = invite(&app, &olivia, &event, "sara@example.com").await;
    let got = live
        .next(Duration::from_secs(3))
        .await
        .expect("the change arrives");
    let lag = sent_at.elapsed();
    eprintln!("stream delivered {} in {lag:?} after the send", got.kind);
    assert!(lag < Duration::from_secs(1), "{lag:?}");
    assert_eq!(
        (got.kind.as_str(), got.data["type"].as_str()),
        ("invitation.created", Some("invitation.created"))
    );
    assert_eq!(got.data["id"].as_i64(), Some(got.id));
    assert_eq!(got.data["data"]["id"], first.as_str());
    drop(live);

    // While Sara is away: she is invited to a second event and the first invitation is cancelled.
    let second_event = app.create_event(&olivia, "Afterparty").await;
    invite(&app, &olivia, &second_event, "sara@example.com").await;
    app.call(
        reqwest::Method::DELETE,
        &format!("/api/v1/invitations/{first}"),
        Some(&olivia.token),
        None,
    )
    .await
    .expect(200);

    let mut resumed = Stream::open(&app, "", Some(&sara.token), Some(got.id))
        .await
        .unwrap();
    let a = resumed
        .next(Duration::from_secs(3))
        .await
        .expect("replayed");
    let b = resumed
        .next(Duration::from_secs(3))
        .await
        .expect("replayed");
    assert_eq!(
        (a.kind.as_str(), b.kind.as_str()),
        ("invitation.created", "invitation.cancelled")
    );
    assert!(got.id < a.id && a.id < b.id);
    // ... then live, after the replay, without a repeat.
    app.answer(
        &sara,
        &invite(&app, &olivia, &event, "sara@example.com").await,
        "rejected",
    )
    .await
    .expect(200);
    let c = resumed
        .next(Duration::from_secs(3))
        .await
        .expect("live again");
    let d = resumed
        .next(Duration::from_secs(3))
        .await
        .expect("live again");
    assert_eq!(
        (c.kind.as_str(), d.kind.as_str()),
        ("invitation.created", "invitation.rejected")
    );
    assert!(b.id < c.id && c.id < d.id);
    // `?after=` resumes the same way.
    let mut from_query = Stream::open(&app, &format!("?after={}", c.id), Some(&sara.token), None)
        .await
        .unwrap();
    assert_eq!(
        from_query.next(Duration::from_secs(3)).await.map(|e| e.id),
        Some(d.id)
    );

    assert!(
        outsider.next(Duration::from_millis(300)).await.is_none(),
        "R12: nothing for a stranger"
    );
}

async fn a_ticket_opens_one_stream_once(app: TestApp) {
    let sara = app.register("Sara", Some("sara@example.com"), None).await;
    let reply = app
        .post("/api/v1/stream-tickets", Some(&sara.token), json!({}))
        .await;
    let ticket = reply.expect(201)["data"]["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert!(reply.body["data"]["expires_at"].is_string());
    let query = format!("?ticket={ticket}");
    let _open = Stream::open(&app, &query, None, None)
        .await
        .expect("the ticket opens the stream");
    let (status, body) = Stream::open(&app, &query, None, None)
        .await
        .err()
        .expect("used up");
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        Stream::open(&app, "?ticket=forged", None, None)
            .await
            .err()
            .map(|e| e.0),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        Stream::open(&app, "", None, None).await.err().map(|e| e.0),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        app.post("/api/v1/stream-tickets", None, json!({}))
            .await
            .status,
        401
    );
}

api_tests_once!(
    a_user_holds_at_most_streams_per_user_streams_and_bad_resume_ids_are_422,
    a_client_that_stops_reading_keeps_its_slot_until_the_kernel_cuts_it_off
);

async fn a_user_holds_at_most_streams_per_user_streams_and_bad_resume_ids_are_422(app: TestApp) {
    let capped = TestApp {
        address: spawn_on(&app.database, &[("STREAMS_PER_USER", "2")]).await,
        client: app.client.clone(),
        database: adapters_diesel::testing::TestDatabase::sqlite(),
    };
    let sara = capped
        .register("Sara", Some("sara@example.com"), None)
        .await;
    let _one = Stream::open(&capped, "", Some(&sara.token), None)
        .await
        .unwrap();
    let _two = Stream::open(&capped, "", Some(&sara.token), None)
        .await
        .unwrap();
    let third = capped
        .client
        .get(capped.url("/api/v1/me/stream"))
        .bearer_auth(&sara.token)
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 429);
    assert_eq!(third.headers()["retry-after"], "5");
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");
    let olivia = capped
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let _others = Stream::open(&capped, "", Some(&olivia.token), None)
        .await
        .expect("the cap is per user");
    // A client that left (a reloaded page) gives its slot back at once, not at its next heartbeat.
    drop(_one);
    let reopened = Instant::now();
    let _again = Stream::open(&capped, "", Some(&sara.token), None)
        .await
        .expect("the closed stream's slot is free");
    eprintln!(
        "a closed stream's slot was taken again after {:?}",
        reopened.elapsed()
    );

    for (query, header) in [("?after=-3", None), ("", Some("abc"))] {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v1/me/stream{query}")))
            .bearer_auth(&olivia.token);
        if let Some(header) = header {
            request = request.header("Last-Event-ID", header)
        }
        let _ = &capped;
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 422);
    }
}

mod postgres_only {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_through_one_process_reaches_a_stream_on_another_within_a_second() {
        let Some(database) = adapters_diesel::testing::TestDatabase::postgres() else {
            return;
        };
        // A long fallback poll: only the notification can deliver within the second.
        let vars = [("STREAM_POLL_INTERVAL_MS", "30000")];
        let a = TestApp {
            address: spawn_on(&database, &vars).await,
            client: crate::helpers::client(),
            database: adapters_diesel::testing::TestDatabase::sqlite(),
        };
        let b = TestApp {
            address: spawn_on(&database, &vars).await,
            client: crate::helpers::client(),
            database: adapters_diesel::testing::TestDatabase::sqlite(),
        };
        let olivia = a.register("Olivia", Some("olivia@example.com"), None).await;
        let sara = a.register("Sara", Some("sara@example.com"), None).await;
        let event = a.create_event(&olivia, "Launch").await;
        let mut on_b = Stream::open(&b, "", Some(&sara.token), None).await.unwrap();
        let mut lags = Vec::new();
        for round in 0..5 {
            let started = Instant::now();
            let id = invite(&a, &olivia, &event, "sara@example.com").await;
            let got = on_b
                .next(Duration::from_secs(5))
                .await
                .expect("delivered across processes");
            lags.push(started.elapsed());
            assert_eq!(
                (got.kind.as_str(), got.data["data"]["id"].as_str()),
                ("invitation.created", Some(id.as_str())),
                "round {round}"
            );
            a.call(
                reqwest::Method::DELETE,
                &format!("/api/v1/invitations/{id}"),
                Some(&olivia.token),
                None,
            )
            .await
            .expect(200);
            assert_eq!(
                on_b.next(Duration::from_secs(5)).await.map(|e| e.kind),
                Some("invitation.cancelled".to_owned())
            );
        }
        eprintln!("change on process A to a stream on process B: {lags:?}");
        assert!(
            lags.iter().all(|lag| *lag < Duration::from_secs(1)),
            "{lags:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_open_streams_and_the_process_exits() {
    let database = adapters_diesel::testing::TestDatabase::sqlite();
    let mut server = ServerProcess::start(database.url(), &[]).await;
    let app = TestApp {
        address: server.address.clone(),
        client: crate::helpers::client(),
        database: adapters_diesel::testing::TestDatabase::sqlite(),
    };
    let sara = app.register("Sara", Some("sara@example.com"), None).await;
    let mut stream = Stream::open(&app, "", Some(&sara.token), None)
        .await
        .unwrap();
    let started = Instant::now();
    server.terminate();
    assert!(stream.next(Duration::from_secs(8)).await.is_none());
    let ended = started.elapsed();
    assert!(
        ended < Duration::from_secs(5),
        "the stream ended {ended:?} after SIGTERM"
    );
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "the process exits"
    );
    eprintln!("SIGTERM: stream ended after {ended:?}");
}

/// A client that opens a stream and stops reading: its stream falls behind once the buffers
/// between it and the server are full, and the hub stops feeding it; its slot stays taken while
/// its connection is open (before, the hub counted only the streams it still fed, so falling
/// behind freed the slot at once and the user opened more streams than the limit), until
/// `TCP_USER_TIMEOUT` (30 s of a shut receive window) cuts the connection off.
async fn a_client_that_stops_reading_keeps_its_slot_until_the_kernel_cuts_it_off(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let capped = TestApp {
        address: spawn_on(&app.database, &[("STREAMS_PER_USER", "1")]).await,
        client: app.client.clone(),
        database: adapters_diesel::testing::TestDatabase::sqlite(),
    };
    let ann = capped.register("Ann", Some("ann@example.com"), None).await;
    let event = capped.create_event(&ann, "Stream").await;

    // The silent client: a small receive buffer, the request, the head of the answer, then
    // nothing more read.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let authority = capped.address.trim_start_matches("http://").to_owned();
    let mut silent = socket.connect(authority.parse().unwrap()).await.unwrap();
    let request = format!(
        "GET /api/v1/me/stream HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {}\r\n\r\n",
        ann.token
    );
    silent.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 512];
    let read = silent.read(&mut head).await.unwrap();
    assert!(
        String::from_utf8_lossy(&head[..read]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..read])
    );

    // ~10 KB per change (5,000 two-byte characters in the description), 1,500 of them: far more
    // than the socket buffers (4 MiB at most here) and the stream's queue of 256 hold.
    let started = std::time::Instant::now();
    for i in 0..1500 {
        let description = if i % 2 == 0 { "س" } else { "ش" }.repeat(5000);
        capped
            .patch(
                &format!("/api/v1/events/{event}"),
                &ann.token,
                json!({"description": description}),
            )
            .await
            .expect(200);
    }
    let open_second = || {
        capped
            .client
            .get(capped.url("/api/v1/me/stream"))
            .bearer_auth(&ann.token)
            .send()
    };
    // Fallen behind and ended, but its connection is still open: the slot is still taken.
    let refused = open_second().await.unwrap();
    assert_eq!(refused.status(), 429);

    // Cut off by the kernel within TCP_USER_TIMEOUT (30 s) of its window shutting: then the slot
    // is free.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let attempt = open_second().await.unwrap();
        if attempt.status() == 200 {
            break;
        }
        assert_eq!(attempt.status(), 429);
        assert!(
            std::time::Instant::now() < deadline,
            "the silent client's slot was never freed"
        );
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    eprintln!(
        "a client that stopped reading: its slot held (429) until the kernel cut it off, {:.0} s \
         after the changes began",
        started.elapsed().as_secs_f64()
    );
    drop(silent);
}
