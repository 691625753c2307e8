use reqwest::Method;
use serde_json::json;

use crate::helpers::api_tests;

api_tests! {
    async fn health_endpoints_answer_without_a_token(app: TestApp) {
        let live = app.client.get(app.url("/health/live")).send().await.unwrap();
        assert_eq!(live.status(), 200);
        let ready = app.client.get(app.url("/health/ready")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
    }

    async fn missing_or_bad_tokens_are_401_with_the_spec_body(app: TestApp) {
        let expected = json!({"message": "Unauthenticated."});
        assert_eq!(app.call(Method::GET, "/api/v1/me", None, None).await.expect(401), &expected);
        assert_eq!(app.get("/api/v1/me", "forged-token").await.expect(401), &expected);
        let basic = app.client.get(app.url("/api/v1/me")).header("authorization", "Basic dXNlcjpwYXNz").send().await.unwrap();
        assert_eq!(basic.status(), 401);
        for path in ["/api/v1/events", "/api/v1/sended-invitations", "/api/v1/received-invitations"] {
            app.call(Method::GET, path, None, None).await.expect(401);
        }
    }

    async fn malformed_json_and_wrong_content_type_are_400(app: TestApp) {
        let olivia = app.register("Olivia", Some("olivia@example.com"), None).await;
        let broken = app.client.post(app.url("/api/v1/events")).bearer_auth(&olivia.token)
            .header("content-type", "application/json").body("{\"title\": ").send().await.unwrap();
        let reply = crate::helpers::Reply::read(broken).await;
        assert_eq!(reply.expect(400)["code"], "malformed_request");
        let text = app.client.post(app.url("/api/v1/events")).bearer_auth(&olivia.token)
            .header("content-type", "text/plain").body("title=x").send().await.unwrap();
        assert_eq!(crate::helpers::Reply::read(text).await.expect(400)["code"], "malformed_request");
    }

    async fn a_body_over_64_kib_is_413(app: TestApp) {
        let olivia = app.register("Olivia", Some("olivia@example.com"), None).await;
        let event = app.create_event(&olivia, "Big").await;
        let huge = json!({"invitations": vec!["x".repeat(100); 1000]});
        let reply = app.post(&format!("/api/v1/{event}/send-invitations"), Some(&olivia.token), huge).await;
        reply.expect(413);
    }

    async fn ids_that_are_not_uuids_and_unknown_routes_are_404_json(app: TestApp) {
        let olivia = app.register("Olivia", Some("olivia@example.com"), None).await;
        for path in ["/api/v1/invitations/not-a-uuid", "/api/v1/events/123", "/api/v1/nothing-here"] {
            assert_eq!(app.get(path, &olivia.token).await.expect(404)["code"], "not_found", "{path}");
        }
        let reply = app.send(&olivia, "not-a-uuid", json!(["a@b.io"])).await;
        reply.expect(404);
        let unknown = app.get(&format!("/api/v1/invitations/{}", uuid::Uuid::now_v7()), &olivia.token).await;
        unknown.expect(404);
    }

    async fn bad_invitation_arrays_are_422_with_laravel_bodies(app: TestApp) {
        let olivia = app.register("Olivia", Some("olivia@example.com"), None).await;
        let event = app.create_event(&olivia, "E").await;
        let path = format!("/api/v1/{event}/send-invitations");
        let missing = app.post(&path, Some(&olivia.token), json!({})).await;
        assert_eq!(missing.expect(422), &json!({
            "message": "The invitations field is required.",
            "errors": {"invitations": ["The invitations field is required."]}
        }));
        for body in [json!({"invitations": "09352864812"}), json!({"invitations": [1]}), json!({"invitations": ["", " "]}),
                     json!({"invitations": vec!["a@b.io"; 1001]}), json!({"invitations": null})] {
            let reply = app.post(&path, Some(&olivia.token), body.clone()).await;
            let errors = &reply.expect(422)["errors"];
            assert!(errors.as_object().unwrap().keys().any(|k| k.starts_with("invitations")), "{body}: {errors}");
        }
    }

    async fn bad_pagination_parameters_are_422(app: TestApp) {
        let olivia = app.register("Olivia", Some("olivia@example.com"), None).await;
        for query in ["limit=0", "limit=101", "limit=-5", "limit=abc", "limit=99999999999999999999", "cursor=forged", "cursor=%00", "event_id=nope"] {
            let reply = app.get(&format!("/api/v1/sended-invitations?{query}"), &olivia.token).await;
            reply.expect(422);
        }
        app.get("/api/v1/events?limit=100", &olivia.token).await.expect(200);
    }

    async fn hostile_text_is_stored_and_returned_literally(app: TestApp) {
        let olivia = app.register("Robert'); DROP TABLE users;--", Some("olivia@example.com"), None).await;
        let title = "<script>alert(1)</script> ' OR 1=1 -- ✓ 日本語 🎉";
        let reply = app.post("/api/v1/events", Some(&olivia.token), json!({"title": title})).await;
        let id = reply.expect(201)["data"]["id"].as_str().unwrap().to_owned();
        assert_eq!(app.get(&format!("/api/v1/events/{id}"), &olivia.token).await.expect(200)["data"]["title"], title);
        assert_eq!(app.get("/api/v1/me", &olivia.token).await.expect(200)["data"]["name"], "Robert'); DROP TABLE users;--");
        let nul = app.post("/api/v1/events", Some(&olivia.token), json!({"title": "a\u{0}b"})).await;
        nul.expect(422);
    }
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
