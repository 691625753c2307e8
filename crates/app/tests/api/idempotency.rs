//! `Idempotency-Key` end to end (docs/api.md, "Idempotency"), on SQLite and PostgreSQL: a retried
//! request runs once and gets the first answer again, a reused key is refused, a running one is
//! 409, and concurrent requests with one key (20 rounds, across two service instances on one
//! database) run exactly once.

use actix_web::http::Method;
use chrono::{Duration, Utc};
use domain::idempotency::ports::{ClaimOutcome, IdempotencyStore, NewClaim};
use domain::idempotency::{ClaimId, IdempotencyKey};
use domain::UserId;
use http_actix::idempotency::fingerprint;
use serde_json::{json, Value};

use crate::helpers::{api_tests, client, spawn_on, Reply, TestApp, TestUser};

/// POSTs `body` to `path` on the service at `address` as `user`, with `key`.
async fn keyed(address: &str, path: &str, user: &TestUser, key: &str, body: &Value) -> Reply {
    let response = client()
        .post(format!("{address}{path}"))
        .bearer_auth(&user.token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    Reply::read(response).await
}

fn replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get("idempotent-replayed")
        .is_some_and(|value| value == "true")
}

async fn events_of(app: &TestApp, user: &TestUser) -> usize {
    app.collect("/api/v1/events", &user.token, 100).await.len()
}

api_tests!(
    a_retried_create_with_one_key_creates_one_event_and_gets_the_first_answer_again,
    a_retried_send_with_one_key_sends_once_on_the_seed_path_and_its_alias,
    the_same_key_with_another_body_is_refused_with_422,
    a_request_whose_key_another_process_is_running_is_409_with_retry_after,
    concurrent_requests_with_one_key_on_two_instances_run_exactly_once,
    an_answer_over_16_kib_is_given_but_not_kept_and_the_retry_runs_again
);

/// A send whose 300 contacts are all ignored answers ~30 KiB: given, not kept, the key released
/// (before, such answers were kept 24 hours: 143 kB per request).
async fn an_answer_over_16_kib_is_given_but_not_kept_and_the_retry_runs_again(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let event = app.create_event(&ann, "Launch").await;
    let contacts: Vec<String> = (0..300)
        .map(|i| format!("nobody-{i}@example.com"))
        .collect();
    let body = json!({"invitations": contacts});
    let path = format!("/api/v1/{event}/send-invitations");
    let first = keyed(&app.address, &path, &ann, "big", &body).await;
    first.expect(200);
    assert!(first.text.len() > 16 * 1024, "{} bytes", first.text.len());
    let again = keyed(&app.address, &path, &ann, "big", &body).await;
    again.expect(200);
    assert!(!replayed(&again), "run again, not replayed");
    let stored = app
        .database
        .texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM idempotency_keys");
    assert_eq!(stored, ["0"]);
    eprintln!(
        "idempotency: a {}-byte answer was given twice and stored never",
        first.text.len()
    );
}

async fn a_retried_create_with_one_key_creates_one_event_and_gets_the_first_answer_again(
    app: TestApp,
) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let body = json!({"title": "Launch", "location": "Tehran"});
    let first = keyed(&app.address, "/api/v1/events", &ann, "create-launch", &body).await;
    first.expect(201);
    assert!(!replayed(&first));

    let again = keyed(&app.address, "/api/v1/events", &ann, "create-launch", &body).await;
    again.expect(201);
    assert!(replayed(&again));
    assert_eq!(again.text, first.text, "byte for byte");
    assert_eq!(
        again.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(again.headers["x-content-type-options"], "nosniff");
    assert_eq!(events_of(&app, &ann).await, 1);
}

async fn a_retried_send_with_one_key_sends_once_on_the_seed_path_and_its_alias(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    app.register("Bob", Some("bob@example.com"), None).await;
    app.register("Carol", None, Some("09352864812")).await;
    let event = app.create_event(&ann, "Launch").await;
    for (path, contact) in [
        (
            format!("/api/v1/{event}/send-invitations"),
            "bob@example.com",
        ),
        (format!("/api/v1/events/{event}/invitations"), "09352864812"),
    ] {
        let body = json!({"invitations": [contact]});
        let first = keyed(&app.address, &path, &ann, &format!("send-{contact}"), &body).await;
        assert_eq!(
            first.expect(200)["message"],
            "1 invitation sent, 0 ignored."
        );
        let again = keyed(&app.address, &path, &ann, &format!("send-{contact}"), &body).await;
        again.expect(200);
        assert!(replayed(&again), "{path}");
        assert_eq!(again.text, first.text);
    }
    let sent = app
        .collect("/api/v1/sent-invitations", &ann.token, 100)
        .await;
    assert_eq!(sent.len(), 2);
}

async fn the_same_key_with_another_body_is_refused_with_422(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    keyed(
        &app.address,
        "/api/v1/events",
        &ann,
        "k",
        &json!({"title": "A"}),
    )
    .await
    .expect(201);
    let reused = keyed(
        &app.address,
        "/api/v1/events",
        &ann,
        "k",
        &json!({"title": "B"}),
    )
    .await;
    assert_eq!(
        reused.expect(422),
        &json!({"message": "This Idempotency-Key was already used with another request.", "code": "idempotency_key_reused"})
    );
    assert_eq!(events_of(&app, &ann).await, 1);
}

async fn a_request_whose_key_another_process_is_running_is_409_with_retry_after(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let body = json!({"title": "A"});
    let bytes = serde_json::to_vec(&body).unwrap();
    let now = Utc::now();
    let running = NewClaim {
        user_id: ann.id.parse::<UserId>().unwrap(),
        key: IdempotencyKey::parse(b"k").unwrap(),
        fingerprint: fingerprint(&Method::POST, "/api/v1/events", &bytes),
        claim: ClaimId::generate(),
        now,
        locked_until: now + Duration::seconds(60),
        expires_at: now + Duration::hours(24),
    };
    let other_process = app.database.open();
    assert_eq!(
        other_process.claim(running).await.unwrap(),
        ClaimOutcome::Claimed
    );

    let reply = keyed(&app.address, "/api/v1/events", &ann, "k", &body).await;
    assert_eq!(reply.expect(409)["code"], "idempotency_key_in_flight");
    assert_eq!(reply.headers["retry-after"], "1");
    assert_eq!(events_of(&app, &ann).await, 0);
}

async fn concurrent_requests_with_one_key_on_two_instances_run_exactly_once(app: TestApp) {
    let second = spawn_on(&app.database, &[]).await;
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let mut waited = 0;
    for round in 0..20 {
        let key = format!("race-{round}");
        let body = json!({"title": format!("Round {round}")});
        let contenders = [app.address.clone(), second.clone()].map(|address| {
            let (ann, key, body) = (ann.clone(), key.clone(), body.clone());
            tokio::spawn(async move { keyed(&address, "/api/v1/events", &ann, &key, &body).await })
        });
        let mut replies = Vec::new();
        for contender in contenders {
            replies.push(contender.await.unwrap());
        }
        let ran: Vec<_> = replies
            .iter()
            .filter(|r| r.status == 201 && !replayed(r))
            .collect();
        assert_eq!(ran.len(), 1, "round {round}: {replies:?}");
        for reply in &replies {
            match reply.status.as_u16() {
                201 => {}
                409 => waited += 1,
                status => panic!("round {round}: {status} {}", reply.text),
            }
        }
        // Once the first has finished, the loser's retry gets its answer.
        let retry = keyed(&second, "/api/v1/events", &ann, &key, &body).await;
        retry.expect(201);
        assert!(replayed(&retry));
        assert_eq!(retry.text, ran[0].text);
    }
    eprintln!("idempotency race: of 20 rounds of two concurrent requests with one key, {waited} saw the other running (409), the rest a replay");
    assert_eq!(events_of(&app, &ann).await, 20);
}
