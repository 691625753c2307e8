use serde_json::json;

use crate::helpers::{api_tests, api_tests_once, ids, TestApp};

api_tests!(
    creating_an_event_makes_the_caller_its_owner_and_first_member,
    strangers_get_404_for_an_event_and_its_members,
    events_list_pages_newest_first_without_gaps_or_duplicates
);

async fn creating_an_event_makes_the_caller_its_owner_and_first_member(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let reply = app
        .post(
            "/api/v1/events",
            Some(&olivia.token),
            json!({
                "title": "Launch", "description": "Bring snacks", "location": "Tehran",
                "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-01T21:00:00+00:00"
            }),
        )
        .await;
    let event = reply.expect(201)["data"].clone();
    assert_eq!(event["title"], "Launch");
    assert_eq!(event["owner"], json!({"id": olivia.id, "name": "Olivia"}));
    assert_eq!(event["members_count"], 1);
    assert_eq!(event["starts_at"], "2026-12-01T18:00:00Z");
    assert_eq!(event["ends_at"], "2026-12-01T21:00:00Z");
    let id = event["id"].as_str().unwrap();

    assert_eq!(
        app.get(&format!("/api/v1/events/{id}"), &olivia.token)
            .await
            .expect(200)["data"],
        event
    );
    let members = app
        .get(&format!("/api/v1/events/{id}/members"), &olivia.token)
        .await;
    let members = &members.expect(200)["data"];
    assert_eq!(members[0]["id"], olivia.id.as_str());
    assert_eq!(members[0]["role"], "owner");
}

async fn strangers_get_404_for_an_event_and_its_members(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let mallory = app
        .register("Mallory", Some("mallory@example.com"), None)
        .await;
    let id = app.create_event(&olivia, "Private").await;
    for path in [
        format!("/api/v1/events/{id}"),
        format!("/api/v1/events/{id}/members"),
    ] {
        assert_eq!(
            app.get(&path, &mallory.token).await.expect(404)["code"],
            "not_found"
        );
    }
    assert_eq!(
        app.get("/api/v1/events", &mallory.token).await.expect(200)["data"],
        json!([])
    );
}

async fn events_list_pages_newest_first_without_gaps_or_duplicates(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.create_event(&olivia, &format!("E{i}")).await);
    }
    created.reverse();
    let listed = app.collect("/api/v1/events", &olivia.token, 2).await;
    assert_eq!(ids(&listed), created);
}

// Validation: nothing reaches storage.
api_tests_once!(an_event_ending_before_it_starts_is_a_422);

async fn an_event_ending_before_it_starts_is_a_422(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let reply = app.post("/api/v1/events", Some(&olivia.token), json!({
        "title": "Backwards", "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-01T17:00:00Z"
    })).await;
    assert!(reply.expect(422)["errors"]["ends_at"].is_array());
    let untitled = app
        .post(
            "/api/v1/events",
            Some(&olivia.token),
            json!({"title": "  "}),
        )
        .await;
    assert_eq!(
        untitled.expect(422)["errors"]["title"][0],
        "The title field is required."
    );
}
