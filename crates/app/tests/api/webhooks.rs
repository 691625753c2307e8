//! Webhooks through the running service, on SQLite and PostgreSQL (docs/api.md, "Webhooks"): the
//! API over the real database, an `Idempotency-Key` on registering, and the default destination
//! policy refusing private addresses. Delivery to a real receiver (signatures verified by the
//! Standard Webhooks library), retries, 410, email and two processes are exercised by
//! scripts/delivery-test.sh (`make test`).

use serde_json::{json, Value};

use crate::helpers::{api_tests, api_tests_once, client, Reply, TestApp};

async fn create(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/api/v1/webhooks", Some(token), body).await
}

api_tests!(
    a_webhook_is_registered_listed_shown_and_deleted_by_its_owner_only,
    a_retried_registration_with_one_key_registers_once,
    no_user_passes_ten_webhooks_even_with_concurrent_registrations
);

async fn a_webhook_is_registered_listed_shown_and_deleted_by_its_owner_only(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let zed = app.register("Zed", Some("zed@example.com"), None).await;
    let created = create(
        &app,
        &ann.token,
        json!({"url": "https://203.0.113.9/hook", "events": ["invitation.created"]}),
    )
    .await;
    // 203.0.113.0/24 is for documentation, not public: refused by the default policy.
    assert_eq!(
        created.expect(422)["errors"]["url"],
        json!(["The url must point to a public address."])
    );
    let created = create(
        &app,
        &ann.token,
        json!({"url": "https://93.184.216.34/hook", "events": ["invitation.created"]}),
    )
    .await;
    let data = created.expect(201)["data"].clone();
    let id = data["id"].as_str().unwrap();
    assert!(data["secret"].as_str().unwrap().starts_with("whsec_"));
    // Nothing reaches it before its endpoint echoes a challenge (this one cannot: it is not ours).
    assert_eq!(data["status"], "pending_verification");
    assert_eq!(data["verified_at"], Value::Null);
    let shown = app.get(&format!("/api/v1/webhooks/{id}"), &ann.token).await;
    assert_eq!(
        shown.expect(200)["data"]["url"],
        "https://93.184.216.34/hook"
    );
    assert!(shown.expect(200)["data"].get("secret").is_none());
    assert_eq!(
        app.collect("/api/v1/webhooks", &ann.token, 1).await.len(),
        1
    );
    assert!(app
        .collect("/api/v1/webhooks", &zed.token, 1)
        .await
        .is_empty());
    app.get(&format!("/api/v1/webhooks/{id}"), &zed.token)
        .await
        .expect(404);
    app.get(&format!("/api/v1/webhooks/{id}/deliveries"), &zed.token)
        .await
        .expect(404);
    let attempts = app
        .get(&format!("/api/v1/webhooks/{id}/deliveries"), &ann.token)
        .await;
    assert_eq!(attempts.expect(200)["data"], json!([]));
    let delete = |token: &str| {
        client()
            .delete(app.url(&format!("/api/v1/webhooks/{id}")))
            .bearer_auth(token.to_owned())
            .send()
    };
    assert_eq!(delete(&zed.token).await.unwrap().status(), 404);
    assert_eq!(delete(&ann.token).await.unwrap().status(), 204);
    assert_eq!(delete(&ann.token).await.unwrap().status(), 404);
}

async fn a_retried_registration_with_one_key_registers_once(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let body = json!({"url": "https://93.184.216.34/hook"});
    let post = || {
        client()
            .post(app.url("/api/v1/webhooks"))
            .bearer_auth(&ann.token)
            .header("Idempotency-Key", "hook-1")
            .json(&body)
            .send()
    };
    let first = Reply::read(post().await.unwrap()).await;
    let again = Reply::read(post().await.unwrap()).await;
    first.expect(201);
    assert!(first.body["data"]["secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    // The stored answer, all but the secret: shown once, never replayed.
    let mut without_secret = first.body.clone();
    without_secret["data"]["secret"] = serde_json::Value::Null;
    assert_eq!(again.expect(201), &without_secret);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert!(!again.text.contains("whsec_"));
    assert_eq!(
        app.collect("/api/v1/webhooks", &ann.token, 100).await.len(),
        1
    );
}

async fn no_user_passes_ten_webhooks_even_with_concurrent_registrations(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (url, token) = (app.url("/api/v1/webhooks"), ann.token.clone());
        tasks.push(tokio::spawn(async move {
            client()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"url": format!("https://93.184.216.34/{i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [[201; 10].as_slice(), [409; 6].as_slice()].concat()
    );
}

api_tests_once!(private_and_plain_http_destinations_are_refused_by_default);

async fn private_and_plain_http_destinations_are_refused_by_default(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    for (url, message) in [
        (
            "http://93.184.216.34/hook",
            "The url must start with https://.",
        ),
        (
            "https://127.0.0.1:8080/hook",
            "The url must point to a public address.",
        ),
        (
            "https://[::1]/hook",
            "The url must point to a public address.",
        ),
        (
            "https://localhost/hook",
            "The url must point to a public address.",
        ),
        (
            "https://169.254.169.254/latest/meta-data",
            "The url must point to a public address.",
        ),
        // A public host on a port webhooks may not use (WEBHOOK_ALLOWED_PORTS): the service is
        // no port scanner.
        (
            "https://93.184.216.34:22/hook",
            "The url's port is not one webhooks may use (443 and 8443 unless the service allows others).",
        ),
        (
            // The same sentence as for a private host: no oracle of what resolves.
            "https://hooks.invalid/x",
            "The url must point to a public address.",
        ),
    ] {
        let reply = create(&app, &ann.token, json!({"url": url})).await;
        assert_eq!(
            reply.expect(422)["errors"]["url"],
            json!([message]),
            "{url}"
        );
    }
}

/// One destination host takes so many registrations an hour, from all users together: nobody's
/// URL can be handed to the service by many accounts at once.
async fn registrations_for_one_host_are_limited_across_users(backend: adapters_diesel::Backend) {
    let Some(database) = adapters_diesel::testing::TestDatabase::new(backend) else {
        return;
    };
    let address =
        crate::helpers::spawn_on(&database, &[("WEBHOOK_CREATIONS_PER_HOST_PER_HOUR", "3")]).await;
    let app = TestApp {
        address,
        client: client(),
        database,
    };
    let mut tokens = Vec::new();
    for name in ["ann", "bob", "cat", "dan"] {
        let email = format!("{name}@example.com");
        tokens.push(app.register(name, Some(&email), None).await.token);
    }
    for token in &tokens[..3] {
        create(&app, token, json!({"url": "https://93.184.216.34/hook"}))
            .await
            .expect(201);
    }
    let refused = create(
        &app,
        &tokens[3],
        json!({"url": "https://93.184.216.34/other"}),
    )
    .await;
    refused.expect(429);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 3000, "the hour's wait: {wait}");
    create(
        &app,
        &tokens[3],
        json!({"url": "https://93.184.216.35/hook"}),
    )
    .await
    .expect(201);
    eprintln!("{backend:?}: 3 registrations for one host an hour, the 4th (another user) 429 for {wait} s; another host 201");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_registrations_for_one_host_are_limited_across_users() {
    registrations_for_one_host_are_limited_across_users(adapters_diesel::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_registrations_for_one_host_are_limited_across_users() {
    registrations_for_one_host_are_limited_across_users(adapters_diesel::Backend::Postgres).await;
}
