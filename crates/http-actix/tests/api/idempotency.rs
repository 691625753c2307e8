//! `Idempotency-Key` (docs/api.md, "Idempotency") over the fakes: replays, reused and running
//! keys, bad keys, which answers are kept, and the document. The races across processes are in the
//! adapter's contract suite and end to end.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::Duration;
use domain::accounts::ports::MockTokenRepository;
use domain::events::ports::MockEventRepository;
use domain::idempotency::ports::{ClaimOutcome, IdempotencyStore, NewClaim};
use domain::idempotency::{ClaimId, IdempotencyKey};
use http_actix::idempotency::{fingerprint, OPERATIONS};
use serde_json::{json, Value};

use crate::helpers::{now, unavailable, Api, Caller, Reply};

fn keyed(caller: &Caller, path: &str, key: &str, body: &Value) -> TestRequest {
    caller.authed(
        TestRequest::post()
            .uri(path)
            .insert_header(("Idempotency-Key", key))
            .set_json(body),
    )
}

fn replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get("idempotent-replayed")
        .is_some_and(|value| value == "true")
}

async fn events_of(api: &Api, caller: &Caller) -> usize {
    let reply = api
        .send(caller.authed(TestRequest::get().uri("/api/v1/events")))
        .await;
    reply.body["data"].as_array().unwrap().len()
}

#[actix_web::test]
async fn creating_an_event_twice_with_one_key_creates_it_once_and_replays_the_first_answer() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let body = json!({"title": "Launch"});
    let first = api.send(keyed(&ann, "/api/v1/events", "k-1", &body)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(!replayed(&first));

    let again = api.send(keyed(&ann, "/api/v1/events", "k-1", &body)).await;
    assert_eq!(again.status, 201);
    assert!(replayed(&again));
    assert_eq!(again.body, first.body);
    assert_eq!(again.content_type(), first.content_type());
    assert_eq!(events_of(&api, &ann).await, 1);

    let other_key = api.send(keyed(&ann, "/api/v1/events", "k-2", &body)).await;
    assert_eq!(other_key.status, 201);
    assert_ne!(other_key.body["data"]["id"], first.body["data"]["id"]);
    assert_eq!(events_of(&api, &ann).await, 2);
}

#[actix_web::test]
async fn sending_twice_with_one_key_sends_once_on_both_paths() {
    for path in [
        "/api/v1/{id}/send-invitations",
        "/api/v1/events/{id}/invitations",
    ] {
        let api = Api::new();
        let ann = api.register("Ann", Some("ann@example.com"), None).await;
        api.register("Bob", Some("bob@example.com"), None).await;
        let event = api.event(&ann, "Launch").await.id;
        let path = path.replace("{id}", &event.to_string());
        let body = json!({"invitations": ["bob@example.com"]});
        let first = api.send(keyed(&ann, &path, "send-1", &body)).await;
        assert_eq!(first.status, 200, "{path}: {}", first.body);
        assert_eq!(first.body["data"]["sent"].as_array().unwrap().len(), 1);

        let again = api.send(keyed(&ann, &path, "send-1", &body)).await;
        assert_eq!(again.status, 200);
        assert!(replayed(&again), "{path}");
        assert_eq!(
            again.body, first.body,
            "the replay is the first answer, not already_invited"
        );

        let unkeyed = api
            .send(ann.authed(TestRequest::post().uri(&path).set_json(&body)))
            .await;
        assert_eq!(
            unkeyed.body["data"]["ignored"][0]["reason"],
            "already_invited"
        );
    }
}

#[actix_web::test]
async fn the_same_key_with_another_body_or_path_is_422_idempotency_key_reused() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let event = api.event(&ann, "Launch").await.id;
    let first = api
        .send(keyed(&ann, "/api/v1/events", "k", &json!({"title": "A"})))
        .await;
    assert_eq!(first.status, 201);

    let another_body = api
        .send(keyed(&ann, "/api/v1/events", "k", &json!({"title": "B"})))
        .await;
    assert_eq!(another_body.status, 422);
    assert_eq!(
        another_body.body,
        json!({"message": "This Idempotency-Key was already used with another request.", "code": "idempotency_key_reused"})
    );
    let send = format!("/api/v1/{event}/send-invitations");
    let another_path = api
        .send(keyed(
            &ann,
            &send,
            "k",
            &json!({"invitations": ["x@example.com"]}),
        ))
        .await;
    assert_eq!(another_path.status, 422);
    assert_eq!(another_path.body["code"], "idempotency_key_reused");
    assert_eq!(events_of(&api, &ann).await, 2, "Launch and A only");
}

#[actix_web::test]
async fn the_same_request_while_the_first_runs_is_409_with_retry_after() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let body = json!({"title": "A"});
    // Another process is running this very request.
    let claim = NewClaim {
        user_id: ann.user.id,
        key: IdempotencyKey::parse(b"k").unwrap(),
        fingerprint: fingerprint(
            &Method::POST,
            "/api/v1/events",
            &serde_json::to_vec(&body).unwrap(),
        ),
        claim: ClaimId::generate(),
        now: now(),
        locked_until: now() + Duration::seconds(60),
        expires_at: now() + Duration::hours(24),
    };
    assert_eq!(
        api.idempotency.claim(claim).await.unwrap(),
        ClaimOutcome::Claimed
    );

    let reply = api.send(keyed(&ann, "/api/v1/events", "k", &body)).await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.headers.get("retry-after").unwrap(), "1");
    assert_eq!(
        reply.body,
        json!({"message": "A request with this Idempotency-Key is still being processed. Retry in a moment.", "code": "idempotency_key_in_flight"})
    );
    assert_eq!(events_of(&api, &ann).await, 0);

    // Its process died: once the lease has run out, the request runs.
    api.clock.advance(Duration::seconds(60));
    let reply = api.send(keyed(&ann, "/api/v1/events", "k", &body)).await;
    assert_eq!(reply.status, 201);
    assert_eq!(events_of(&api, &ann).await, 1);
}

#[actix_web::test]
async fn keys_belong_to_their_caller() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let bob = api.register("Bob", Some("bob@example.com"), None).await;
    let anns = api
        .send(keyed(&ann, "/api/v1/events", "k", &json!({"title": "A"})))
        .await;
    let bobs = api
        .send(keyed(&bob, "/api/v1/events", "k", &json!({"title": "A"})))
        .await;
    assert_eq!((anns.status, bobs.status), (201, 201));
    assert!(!replayed(&bobs));
    assert_eq!(bobs.body["data"]["owner"]["name"], "Bob");
}

#[actix_web::test]
async fn a_key_that_is_not_1_to_255_visible_ascii_characters_is_400_and_runs_nothing() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let long = "k".repeat(256);
    for key in ["", "a b", long.as_str()] {
        let reply = api
            .send(keyed(&ann, "/api/v1/events", key, &json!({"title": "A"})))
            .await;
        assert_eq!(reply.status, 400, "{key:?}");
        assert_eq!(
            reply.body,
            json!({"message": "The Idempotency-Key header must be 1 to 255 visible ASCII characters.", "code": "malformed_request"})
        );
    }
    let two = ann.authed(
        TestRequest::post()
            .uri("/api/v1/events")
            .append_header(("Idempotency-Key", "a"))
            .append_header(("Idempotency-Key", "b"))
            .set_json(json!({"title": "A"})),
    );
    assert_eq!(api.send(two).await.status, 400);
    assert_eq!(events_of(&api, &ann).await, 0);
    assert!(api.idempotency.is_empty());
}

#[actix_web::test]
async fn an_unauthenticated_request_gets_its_401_before_the_key_is_looked_at() {
    let api = Api::new();
    let reply = api
        .send(
            TestRequest::post()
                .uri("/api/v1/events")
                .insert_header(("Idempotency-Key", "a b"))
                .insert_header(("Authorization", "Bearer nobody"))
                .set_json(json!({"title": "A"})),
        )
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body, json!({"message": "Unauthenticated."}));
}

#[actix_web::test]
async fn a_token_store_outage_is_503_before_the_key_is_claimed() {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_find_user()
        .times(1)
        .returning(|_, _| Err(unavailable()));
    let api = Api::new().with_tokens(tokens);
    let reply = api
        .send(
            TestRequest::post()
                .uri("/api/v1/events")
                .insert_header(("Idempotency-Key", "k"))
                .insert_header(("Authorization", "Bearer some-token"))
                .set_json(json!({"title": "A"})),
        )
        .await;
    assert_eq!(reply.status, 503);
    assert!(api.idempotency.is_empty());
}

#[actix_web::test]
async fn a_client_error_is_kept_and_replayed_like_a_success() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let first = api
        .send(keyed(&ann, "/api/v1/events", "k", &json!({"title": ""})))
        .await;
    assert_eq!(first.status, 422);
    let again = api
        .send(keyed(&ann, "/api/v1/events", "k", &json!({"title": ""})))
        .await;
    assert_eq!(again.status, 422);
    assert!(replayed(&again));
    assert_eq!(again.body, first.body);
}

#[actix_web::test]
async fn a_database_outage_releases_the_key_so_that_a_retry_runs_again() {
    let mut events = MockEventRepository::new();
    events
        .expect_create()
        .times(2)
        .returning(|_| Err(unavailable()));
    let api = Api::new().with_events(events);
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    for _ in 0..2 {
        let reply = api
            .send(keyed(&ann, "/api/v1/events", "k", &json!({"title": "A"})))
            .await;
        assert_eq!(reply.status, 503);
        assert!(!replayed(&reply));
        assert!(api.idempotency.is_empty(), "released");
    }
}

#[actix_web::test]
async fn a_body_over_64_kib_is_413_and_claims_nothing() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let body = json!({"title": "x".repeat(70 * 1024)});
    let reply = api.send(keyed(&ann, "/api/v1/events", "k", &body)).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.body["code"], "payload_too_large");
    assert!(api.idempotency.is_empty());
}

#[actix_web::test]
async fn requests_elsewhere_ignore_the_header() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    for _ in 0..2 {
        let reply = api
            .send(
                ann.authed(
                    TestRequest::get()
                        .uri("/api/v1/events")
                        .insert_header(("Idempotency-Key", "k")),
                ),
            )
            .await;
        assert_eq!(reply.status, 200);
        assert!(!replayed(&reply));
    }
    assert!(api.idempotency.is_empty());
}

#[actix_web::test]
async fn every_listed_operation_honours_the_key() {
    for (method, pattern) in OPERATIONS {
        let api = Api::new();
        let ann = api.register("Ann", Some("ann@example.com"), None).await;
        let path = pattern.replace("{event_id}", &uuid::Uuid::now_v7().to_string());
        let request = || {
            ann.authed(
                TestRequest::default()
                    .method(method.clone())
                    .uri(&path)
                    .insert_header(("Idempotency-Key", "k"))
                    .set_json(json!({})),
            )
        };
        let first = api.send(request()).await;
        let again = api.send(request()).await;
        assert!(replayed(&again), "{method} {pattern}: {}", again.body);
        assert_eq!((again.status, &again.body), (first.status, &first.body));
    }
}

#[actix_web::test]
async fn the_document_shows_the_header_and_its_answers_on_each_listed_operation() {
    let document = serde_json::to_value(http_actix::openapi()).unwrap();
    for (method, path) in OPERATIONS {
        let operation = &document["paths"][path][method.as_str().to_lowercase()];
        let parameter = operation["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Idempotency-Key")
            .unwrap_or_else(|| panic!("{method} {path}: no Idempotency-Key"));
        assert_eq!(parameter["in"], "header");
        assert_eq!(parameter["schema"]["maxLength"], 255);
        let responses = &operation["responses"];
        assert_eq!(
            responses["409"]["content"]["application/json"]["example"]["code"],
            "idempotency_key_in_flight"
        );
        assert!(responses["409"]["headers"]["Retry-After"].is_object());
        let invalid = &responses["422"]["content"]["application/json"]["schema"]["oneOf"];
        assert_eq!(invalid.as_array().unwrap().len(), 2, "{method} {path}");
        let success = responses
            .as_object()
            .unwrap()
            .iter()
            .find(|(status, _)| status.starts_with('2'))
            .unwrap()
            .1;
        assert!(success["headers"]["Idempotent-Replayed"].is_object());
    }
    let codes = &document["components"]["schemas"]["ErrorCode"]["enum"];
    for code in ["idempotency_key_in_flight", "idempotency_key_reused"] {
        assert!(codes.as_array().unwrap().contains(&json!(code)), "{codes}");
    }
}
