//! The Prometheus listener (docs/operations.md, "Metrics"): after a few requests, a scrape of
//! `METRICS_BIND_ADDR` holds the request, database and hashing series with counts that add up.

use serde_json::json;

use crate::helpers::{build_on, client, TestApp};

/// The value of the first sample line starting with `series` (name and labels).
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_shows_requests_by_route_and_status_database_waits_and_hashing() {
    let database = adapters_diesel::testing::TestDatabase::sqlite();
    let built = build_on(&database, &[("METRICS_BIND_ADDR", "127.0.0.1:0")]).await;
    let metrics = format!(
        "http://127.0.0.1:{}/metrics",
        built.metrics_port().expect("listening")
    );
    let app = TestApp {
        address: format!("http://127.0.0.1:{}", built.port()),
        client: client(),
        database: adapters_diesel::testing::TestDatabase::sqlite(),
    };
    tokio::spawn(built.run_until_stopped());

    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let event = app.create_event(&olivia, "Launch").await;
    for _ in 0..3 {
        app.get(&format!("/api/v1/events/{event}"), &olivia.token)
            .await
            .expect(200);
    }
    app.get(
        &format!("/api/v1/events/{}", uuid::Uuid::now_v7()),
        &olivia.token,
    )
    .await
    .expect(404);
    app.get("/no/such/path", &olivia.token).await;
    app.post(
        "/api/v1/login",
        None,
        json!({"login": "olivia@example.com", "password": "wrong password"}),
    )
    .await;

    let response = client().get(&metrics).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let scrape = response.text().await.unwrap();
    let count = |labels: &str| {
        sample(
            &scrape,
            &format!("http_request_duration_seconds_count{{{labels}}}"),
        )
    };
    // Labels are sorted by name in the text format: method, route, status.
    assert!(
        count(r#"method="GET",route="/api/v1/events/{event_id}",status="200""#) >= Some(3.0),
        "{scrape}"
    );
    assert!(count(r#"method="GET",route="/api/v1/events/{event_id}",status="404""#) >= Some(1.0));
    assert!(count(r#"method="POST",route="/api/v1/register",status="201""#) >= Some(1.0));
    assert!(count(r#"method="POST",route="/api/v1/login",status="401""#) >= Some(1.0));
    assert!(
        count(r#"method="GET",route="unmatched",status="404""#) >= Some(1.0),
        "raw paths never become labels"
    );
    assert!(!scrape.contains(&event), "ids never become labels");
    assert!(
        scrape.contains("http_request_duration_seconds_bucket{"),
        "a histogram, with buckets"
    );
    assert!(sample(&scrape, "http_requests_in_flight").is_some());
    assert!(sample(&scrape, "db_connection_wait_seconds_count").unwrap() >= 5.0);
    assert!(sample(&scrape, "db_call_duration_seconds_count").unwrap() >= 5.0);
    assert!(sample(&scrape, "db_pool_connections").unwrap() >= 1.0);
    assert!(sample(&scrape, "db_pool_idle_connections").is_some());
    assert!(
        sample(&scrape, "password_hashing_wait_seconds_count").unwrap() >= 2.0,
        "register and login hashed"
    );
}
