//! Events and members, and pagination (docs/api.md, "Events", "Pagination").
//!
//! Bad dates, bad page parameters and strangers' 404s are asserted by the unit tests of
//! `api::events` and `pagination` and end to end; here, the answers' shapes and what reaches the
//! services.

use actix_web::test::TestRequest;
use chrono::{TimeZone, Utc};
use domain::Answer;
use serde_json::json;

use crate::helpers::{now, Api};

#[actix_web::test]
async fn creating_an_event_answers_201_with_the_event() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let body = json!({
        "title": " Launch party ",
        "description": "Drinks\non the roof.",
        "starts_at": "2026-12-01T20:30:00+02:00",
        "ends_at": "2026-12-01T23:00:00Z"
    });
    let reply = api
        .send(ann.authed(TestRequest::post().uri("/api/v1/events").set_json(body)))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["title"], "Launch party");
    assert_eq!(data["description"], "Drinks\non the roof.");
    assert_eq!(data["location"], json!(null));
    assert_eq!(data["starts_at"], "2026-12-01T18:30:00Z");
    assert_eq!(data["ends_at"], "2026-12-01T23:00:00Z");
    assert_eq!(
        data["owner"],
        json!({"id": ann.user.id.to_string(), "name": "Ann"})
    );
    assert_eq!(data["members_count"], 1);
    assert_eq!(data["created_at"], "2026-11-26T10:00:00Z");
    assert_eq!(data.as_object().unwrap().len(), 9);
    let id: domain::EventId = data["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(api.store.members_of(id), [ann.user.id]);
}

#[actix_web::test]
async fn the_event_list_passes_limit_and_cursor_and_returns_the_next_cursor() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    for i in 0..5 {
        api.event(&ann, &format!("E{i}")).await;
    }
    let titles = |body: &serde_json::Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = api
        .send(ann.authed(TestRequest::get().uri("/api/v1/events?limit=2")))
        .await;
    assert_eq!(titles(&first.body), ["E4", "E3"]);
    let cursor = first.body["meta"]["next_cursor"].as_str().unwrap();
    // Newest first: after E3 come E2 and E1, and E0 is left for the next page.
    let reply = api
        .send(ann.authed(
            TestRequest::get().uri(&format!("/api/v1/events?limit=2&cursor={cursor}&ignored=1")),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(titles(&reply.body), ["E2", "E1"]);
    assert_eq!(reply.body["meta"]["limit"], 2);
    let next = reply.body["meta"]["next_cursor"].as_str().unwrap();
    let last = api
        .send(ann.authed(TestRequest::get().uri(&format!("/api/v1/events?cursor={next}"))))
        .await;
    assert_eq!(titles(&last.body), ["E0"]);
    assert_eq!(last.body["meta"]["next_cursor"], serde_json::Value::Null);
}

#[actix_web::test]
async fn the_last_page_has_a_null_next_cursor_and_the_default_limit() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let reply = api
        .send(ann.authed(TestRequest::get().uri("/api/v1/events")))
        .await;
    assert_eq!(
        reply.body,
        json!({"data": [], "meta": {"limit": 50, "next_cursor": null}})
    );
}

#[actix_web::test]
async fn members_are_listed_with_their_user_id_role_and_join_time() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let bob = api.register("Bob", Some("bob@example.com"), None).await;
    let created = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
    api.clock.set(created);
    let party = api.event(&ann, "Launch party").await;
    let invitation = api.invite(&ann, party.id, "bob@example.com").await;
    api.clock.set(now());
    api.answer(&bob, invitation.invitation.id(), Answer::Accept)
        .await;

    let reply = api
        .send(ann.authed(TestRequest::get().uri(&format!("/api/v1/events/{}/members", party.id))))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({
            "data": [
                {"id": bob.user.id.to_string(), "name": "Bob", "role": "member", "joined_at": "2026-11-26T10:00:00Z"},
                {"id": ann.user.id.to_string(), "name": "Ann", "role": "owner", "joined_at": "2026-11-01T08:00:00Z"}
            ],
            "meta": {"limit": 50, "next_cursor": null}
        })
    );
}
