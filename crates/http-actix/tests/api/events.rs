//! SPEC §4: events and members, and pagination (SPEC §1).

use actix_web::test::TestRequest;
use chrono::TimeZone;
use domain::{Limit, Member, MemberId, Page, Role};
use http_actix::pagination::Cursor;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{authed, event, now, user, Ports};

#[actix_web::test]
async fn creating_an_event_answers_201_with_the_event() {
    let ann = user("Ann");
    let mut ports = Ports::default().sign_in(&ann);
    ports.events.expect_create().returning(|new| {
        Ok(domain::Event {
            id: new.id,
            details: new.details,
            owner: new.owner,
            members_count: 1,
            created_at: new.created_at,
        })
    });
    let body = json!({
        "title": " Launch party ",
        "description": "Drinks\non the roof.",
        "starts_at": "2026-12-01T20:30:00+02:00",
        "ends_at": "2026-12-01T23:00:00Z"
    });
    let reply = ports
        .send(authed(
            TestRequest::post().uri("/api/v1/events").set_json(body),
        ))
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
        json!({"id": ann.id.to_string(), "name": "Ann"})
    );
    assert_eq!(data["members_count"], 1);
    assert_eq!(data["created_at"], "2026-11-26T10:00:00Z");
    assert_eq!(data.as_object().unwrap().len(), 9);
}

#[actix_web::test]
async fn an_event_ending_before_it_starts_is_a_422_under_ends_at() {
    let ann = user("Ann");
    let body = json!({"title": "Party", "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-01T17:00:00Z"});
    let reply = Ports::default()
        .sign_in(&ann)
        .send(authed(
            TestRequest::post().uri("/api/v1/events").set_json(body),
        ))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body,
        json!({
            "message": "The ends at must be a date after or equal to starts at.",
            "errors": {"ends_at": ["The ends at must be a date after or equal to starts at."]}
        })
    );
}

#[actix_web::test]
async fn the_event_list_passes_limit_and_cursor_and_returns_the_next_cursor() {
    let ann = user("Ann");
    let (after, last) = (Uuid::now_v7(), Uuid::now_v7());
    let mut ports = Ports::default().sign_in(&ann);
    let owner = ann.clone();
    ports
        .events
        .expect_list_for_member()
        .returning(move |member, page| {
            assert_eq!(member, owner.id);
            assert_eq!(page.limit, Limit::new(2).unwrap());
            assert_eq!(page.after, Some(after));
            Ok(Page {
                items: vec![event(&owner), event(&owner)],
                next_after: Some(last),
            })
        });
    let cursor = Cursor::new(after).encode();
    let reply = ports
        .send(authed(TestRequest::get().uri(&format!(
            "/api/v1/events?limit=2&cursor={cursor}&ignored=1"
        ))))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(reply.body["meta"]["limit"], 2);
    let next = reply.body["meta"]["next_cursor"].as_str().unwrap();
    assert_eq!(Cursor::decode(next).unwrap().after(), last);
}

#[actix_web::test]
async fn the_last_page_has_a_null_next_cursor_and_the_default_limit() {
    let ann = user("Ann");
    let mut ports = Ports::default().sign_in(&ann);
    ports.events.expect_list_for_member().returning(|_, page| {
        assert_eq!(page, domain::PageRequest::default());
        Ok(Page {
            items: vec![],
            next_after: None,
        })
    });
    let reply = ports
        .send(authed(TestRequest::get().uri("/api/v1/events")))
        .await;
    assert_eq!(
        reply.body,
        json!({"data": [], "meta": {"limit": 50, "next_cursor": null}})
    );
}

#[actix_web::test]
async fn a_bad_limit_or_cursor_is_a_422() {
    let ann = user("Ann");
    let reply = Ports::default()
        .sign_in(&ann)
        .send(authed(
            TestRequest::get().uri("/api/v1/events?limit=500&cursor=forged"),
        ))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body,
        json!({
            "message": "The limit must be an integer between 1 and 100. (and 1 more error)",
            "errors": {
                "limit": ["The limit must be an integer between 1 and 100."],
                "cursor": ["The cursor is invalid."]
            }
        })
    );
}

#[actix_web::test]
async fn an_event_the_caller_is_not_a_member_of_is_a_404() {
    let ann = user("Ann");
    let mut ports = Ports::default().sign_in(&ann);
    ports
        .events
        .expect_find_for_member()
        .returning(|_, _| Ok(None));
    let reply = ports
        .send(authed(
            TestRequest::get().uri(&format!("/api/v1/events/{}", Uuid::now_v7())),
        ))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.body,
        json!({"message": "Event not found.", "code": "not_found"})
    );
}

#[actix_web::test]
async fn members_are_listed_with_their_user_id_role_and_join_time() {
    let ann = user("Ann");
    let bob = user("Bob");
    let party = event(&ann);
    let mut ports = Ports::default().sign_in(&ann);
    let found = party.clone();
    ports
        .events
        .expect_find_for_member()
        .returning(move |_, _| Ok(Some(found.clone())));
    let (owner, member) = (ann.summary(), bob.summary());
    ports.events.expect_list_members().returning(move |_, _| {
        Ok(Page {
            items: vec![
                Member {
                    id: MemberId::generate(),
                    user: member.clone(),
                    role: Role::Member,
                    joined_at: now(),
                },
                Member {
                    id: MemberId::generate(),
                    user: owner.clone(),
                    role: Role::Owner,
                    joined_at: chrono::Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap(),
                },
            ],
            next_after: None,
        })
    });
    let reply = ports
        .send(authed(
            TestRequest::get().uri(&format!("/api/v1/events/{}/members", party.id)),
        ))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({
            "data": [
                {"id": bob.id.to_string(), "name": "Bob", "role": "member", "joined_at": "2026-11-26T10:00:00Z"},
                {"id": ann.id.to_string(), "name": "Ann", "role": "owner", "joined_at": "2026-11-01T08:00:00Z"}
            ],
            "meta": {"limit": 50, "next_cursor": null}
        })
    );
}
