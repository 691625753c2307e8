//! What the framework layer answers: malformed bodies, unknown routes, wrong methods, bearer
//! tokens, failures of storage, health probes and the docs page. Every error is JSON.
//!
//! Missing, garbled and unknown tokens are 401s in the unit tests of `auth` and `error` and end to
//! end (crates/app/tests/api/hostile.rs and errors.rs); here, how the extractor is wired.

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::test::TestRequest;
use serde_json::json;

use domain::accounts::ports::MockTokenRepository;
use domain::events::ports::MockEventRepository;
use domain::ports::MockHealthCheck;

use crate::helpers::{unavailable, Api};

#[actix_web::test]
async fn malformed_json_is_a_400_with_the_malformed_request_code() {
    let reply = Api::new()
        .send(
            TestRequest::post()
                .uri("/api/v1/register")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload("{\"name\":"),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["code"], "malformed_request");
    assert!(reply.body["message"]
        .as_str()
        .unwrap()
        .starts_with("The request body is not valid JSON"));
    assert!(reply.content_type().starts_with("application/json"));
}

#[actix_web::test]
async fn a_body_that_is_not_a_json_object_is_a_400() {
    for payload in [
        "[\"Ann\", null, null, \"12345678\"]",
        "\"text\"",
        "42",
        "null",
    ] {
        let reply = Api::new()
            .send(
                TestRequest::post()
                    .uri("/api/v1/register")
                    .insert_header((CONTENT_TYPE, "application/json"))
                    .set_payload(payload),
            )
            .await;
        assert_eq!(reply.status, 400, "{payload}");
        assert_eq!(
            reply.body,
            json!({"message": "The request body must be a JSON object.", "code": "malformed_request"}),
            "{payload}"
        );
    }
}

#[actix_web::test]
async fn a_body_without_a_json_content_type_is_a_400() {
    let reply = Api::new()
        .send(
            TestRequest::post()
                .uri("/api/v1/login")
                .insert_header((CONTENT_TYPE, "text/plain"))
                .set_payload("{}"),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        json!({"message": "The request body must be sent as application/json.", "code": "malformed_request"})
    );
}

#[actix_web::test]
async fn a_body_over_64_kib_is_a_413_with_a_json_body() {
    let name = "x".repeat(64 * 1024);
    let reply = Api::new()
        .send(
            TestRequest::post()
                .uri("/api/v1/register")
                .set_json(json!({ "name": name })),
        )
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.body,
        json!({"message": "The request body must not be larger than 64 KiB.", "code": "payload_too_large"})
    );
}

#[actix_web::test]
async fn a_path_id_that_is_not_a_uuid_is_a_404_with_a_json_body() {
    let api = Api::new();
    let caller = api.register("Ann", Some("ann@example.com"), None).await;
    for uri in [
        "/api/v1/events/abc",
        "/api/v1/invitations/1",
        "/api/v1/events/abc/members",
    ] {
        let reply = api.send(caller.authed(TestRequest::get().uri(uri))).await;
        assert_eq!(reply.status, 404, "{uri}");
        assert_eq!(
            reply.body,
            json!({"message": "The requested resource was not found.", "code": "not_found"}),
            "{uri}"
        );
    }
}

#[actix_web::test]
async fn an_unknown_route_is_a_404_with_a_json_body() {
    for uri in [
        "/",
        "/nope",
        "/api/v1/nope",
        "/api/v2/events",
        "/health/nope",
    ] {
        let reply = Api::new().send(TestRequest::get().uri(uri)).await;
        assert_eq!(reply.status, 404, "{uri}");
        assert_eq!(reply.body["code"], "not_found", "{uri}");
        assert!(
            reply.content_type().starts_with("application/json"),
            "{uri}"
        );
    }
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_with_a_json_body_and_the_allowed_methods() {
    let reply = Api::new()
        .send(TestRequest::delete().uri("/api/v1/events"))
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(
        reply.body,
        json!({"message": "The method is not allowed for this URL.", "code": "method_not_allowed"})
    );
    let allow = reply.headers.get("allow").unwrap().to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    let reply = Api::new()
        .send(TestRequest::get().uri("/api/v1/register"))
        .await;
    assert_eq!(reply.status, 405);
    let reply = Api::new()
        .send(TestRequest::post().uri("/health/live"))
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.body["code"], "method_not_allowed");
}

#[actix_web::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let api = Api::new();
    let caller = api.register("Ann", Some("ann@example.com"), None).await;
    let reply = api
        .send(
            TestRequest::get()
                .uri("/api/v1/me")
                .insert_header((AUTHORIZATION, format!("BEARER {}", caller.token))),
        )
        .await;
    assert_eq!(reply.status, 200);
}

#[actix_web::test]
async fn an_unauthenticated_request_gets_its_401_before_its_body_is_read() {
    let reply = Api::new()
        .send(
            TestRequest::post()
                .uri("/api/v1/events")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload("not json"),
        )
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body, json!({"message": "Unauthenticated."}));
}

#[actix_web::test]
async fn a_token_store_that_is_down_is_a_503_not_a_401() {
    let api = Api::new();
    let caller = api.register("Ann", Some("ann@example.com"), None).await;
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_find_user()
        .returning(|_, _| Err(unavailable()));
    let reply = api
        .with_tokens(tokens)
        .send(caller.authed(TestRequest::get().uri("/api/v1/me")))
        .await;
    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.body,
        json!({"message": "Service temporarily unavailable."})
    );
}

#[actix_web::test]
async fn an_unexpected_failure_is_a_500_that_hides_the_cause() {
    let api = Api::new();
    let caller = api.register("Ann", Some("ann@example.com"), None).await;
    let id = api.event(&caller, "Launch party").await.id;
    let mut events = MockEventRepository::new();
    events.expect_find_membership().returning(|_, _| {
        Err(domain::PortError::unexpected(std::io::Error::other(
            "syntax error at or near \"SELEC\"",
        )))
    });
    let reply = api
        .with_events(events)
        .send(caller.authed(TestRequest::get().uri(&format!("/api/v1/events/{id}"))))
        .await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body, json!({"message": "Server Error."}));
}

#[actix_web::test]
async fn the_liveness_probe_answers_ok() {
    let reply = Api::new()
        .send(TestRequest::get().uri("/health/live"))
        .await;
    assert_eq!((reply.status, reply.body), (200, json!({"status": "ok"})));
}

#[actix_web::test]
async fn the_readiness_probe_answers_ready_when_the_database_does() {
    let reply = Api::new()
        .send(TestRequest::get().uri("/health/ready"))
        .await;
    assert_eq!(
        (reply.status, reply.body),
        (200, json!({"status": "ready"}))
    );
}

#[actix_web::test]
async fn the_readiness_probe_is_a_503_when_the_database_does_not_answer() {
    for error in [
        unavailable(),
        domain::PortError::unexpected(std::io::Error::other("boom")),
    ] {
        let mut health = MockHealthCheck::new();
        health.expect_check().return_once(move || Err(error));
        let reply = Api::new()
            .with_health(health)
            .send(TestRequest::get().uri("/health/ready"))
            .await;
        assert_eq!(
            (reply.status, reply.body),
            (503, json!({"message": "Service temporarily unavailable."}))
        );
    }
}

#[actix_web::test]
async fn the_docs_page_is_served_at_docs() {
    let reply = Api::new().send(TestRequest::get().uri("/docs")).await;
    assert_eq!(reply.status, 308);
    assert_eq!(reply.headers.get("location").unwrap(), "/docs/");

    let reply = Api::new().send(TestRequest::get().uri("/docs/")).await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type().starts_with("text/html"));
    assert!(
        reply.body.as_str().unwrap().contains("swagger"),
        "{}",
        reply.body
    );

    let reply = Api::new()
        .send(TestRequest::get().uri("/docs/swagger-initializer.js"))
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .body
        .as_str()
        .unwrap()
        .contains("/api/v1/openapi.json"));
}
