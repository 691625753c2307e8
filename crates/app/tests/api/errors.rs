//! Errors of the whole binary. Malformed bodies, 413s, garbled tokens and bad page parameters are
//! asserted over every endpoint in hostile.rs, and the exact bodies in crates/http-actix.

use serde_json::json;

use crate::helpers::{api_tests, api_tests_once, TestApp};

api_tests!(
    health_endpoints_answer_without_a_token,
    an_unknown_token_is_a_401_with_the_spec_body,
    unknown_ids_are_404_json,
    hostile_text_is_stored_and_returned_literally
);

async fn health_endpoints_answer_without_a_token(app: TestApp) {
    let live = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let ready = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}

async fn an_unknown_token_is_a_401_with_the_spec_body(app: TestApp) {
    app.register("Olivia", Some("olivia@example.com"), None)
        .await;
    let reply = app.get("/api/v1/me", "forged-token").await;
    assert_eq!(reply.expect(401), &json!({"message": "Unauthenticated."}));
}

async fn unknown_ids_are_404_json(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    for path in [
        format!("/api/v1/invitations/{}", uuid::Uuid::now_v7()),
        format!("/api/v1/events/{}", uuid::Uuid::now_v7()),
    ] {
        assert_eq!(
            app.get(&path, &olivia.token).await.expect(404)["code"],
            "not_found",
            "{path}"
        );
    }
}

async fn hostile_text_is_stored_and_returned_literally(app: TestApp) {
    let olivia = app
        .register(
            "Robert'); DROP TABLE users;--",
            Some("olivia@example.com"),
            None,
        )
        .await;
    let title = "<script>alert(1)</script> ' OR 1=1 -- ✓ 日本語 🎉";
    let reply = app
        .post(
            "/api/v1/events",
            Some(&olivia.token),
            json!({"title": title}),
        )
        .await;
    let id = reply.expect(201)["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&format!("/api/v1/events/{id}"), &olivia.token)
            .await
            .expect(200)["data"]["title"],
        title
    );
    assert_eq!(
        app.get("/api/v1/me", &olivia.token).await.expect(200)["data"]["name"],
        "Robert'); DROP TABLE users;--"
    );
    let nul = app
        .post(
            "/api/v1/events",
            Some(&olivia.token),
            json!({"title": "a\u{0}b"}),
        )
        .await;
    nul.expect(422);
}

// Framework errors: nothing reaches storage.
api_tests_once!(
    a_body_without_a_json_content_type_is_400,
    unknown_routes_and_ids_that_are_not_uuids_are_404_json
);

async fn a_body_without_a_json_content_type_is_400(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let text = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&olivia.token)
        .header("content-type", "text/plain")
        .body("title=x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        crate::helpers::Reply::read(text).await.expect(400)["code"],
        "malformed_request"
    );
}

async fn unknown_routes_and_ids_that_are_not_uuids_are_404_json(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    for path in ["/api/v1/nothing-here", "/api/v2/events", "/"] {
        assert_eq!(
            app.get(path, &olivia.token).await.expect(404)["code"],
            "not_found",
            "{path}"
        );
    }
    let reply = app.send(&olivia, "not-a-uuid", json!(["a@b.io"])).await;
    assert_eq!(reply.expect(404)["code"], "not_found");
}

/// 503 when the database goes away: PostgreSQL only (the test drops the database under the app).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_answers_503_fast() {
    let Some(app) = crate::helpers::spawn_app(adapters_diesel::Backend::Postgres).await else {
        return;
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let crate::helpers::TestApp {
        address,
        client,
        database,
    } = app;
    drop(database);
    let started = std::time::Instant::now();
    let reply = crate::helpers::Reply::read(
        client
            .get(format!("{address}/api/v1/me"))
            .bearer_auth(&olivia.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        reply.expect(503),
        &json!({"message": "Service temporarily unavailable."})
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let ready = client
        .get(format!("{address}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
}
