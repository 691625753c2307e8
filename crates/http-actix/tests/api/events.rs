//! Events and members, and pagination (docs/api.md, "Events", "Pagination").
//!
//! Bad dates, bad page parameters and strangers' 404s are asserted by the unit tests of
//! `api::events` and `pagination` and end to end; here, the answers' shapes and what reaches the
//! services.

use actix_web::test::TestRequest;
use chrono::{TimeZone, Utc};
use domain::Answer;
use serde_json::json;

use crate::helpers::{now, Api, Caller};

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
    // Unlimited, no guests, a waitlist, no deadline; and, for its owner, the tally.
    assert_eq!(
        (
            &data["capacity"],
            &data["max_guests"],
            &data["waitlist"],
            &data["rsvp_deadline"]
        ),
        (&json!(null), &json!(0), &json!(true), &json!(null))
    );
    assert_eq!(
        (
            &data["seats_taken"],
            &data["seats_remaining"],
            &data["waitlist_count"]
        ),
        (&json!(0), &json!(null), &json!(0))
    );
    assert_eq!(
        data["counts"],
        json!({"pending": 0, "tentative": 0, "accepted": 0, "rejected": 0, "waitlisted": 0})
    );
    assert_eq!(data["time_zone"], "UTC");
    assert_eq!(data["reminders"], json!([]));
    assert_eq!(data.as_object().unwrap().len(), 19);
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
    // The event is weeks old; the invitation is sent the day it is answered (it would have
    // expired after 7 days).
    api.clock.set(now());
    let invitation = api.invite(&ann, party.id, "bob@example.com").await;
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
                {"id": bob.user.id.to_string(), "name": "Bob", "role": "member", "joined_at": "2026-11-26T10:00:00Z", "guests": 0},
                {"id": ann.user.id.to_string(), "name": "Ann", "role": "owner", "joined_at": "2026-11-01T08:00:00Z", "guests": 0}
            ],
            "meta": {"limit": 50, "next_cursor": null}
        })
    );
}

/// Owner Ann's event with members Bob and Cy; Dan is a stranger.
async fn roles_party(api: &Api) -> (Caller, Caller, Caller, Caller, domain::EventId) {
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let bob = api.register("Bob", Some("bob@example.com"), None).await;
    let cy = api.register("Cy", Some("cy@example.com"), None).await;
    let dan = api.register("Dan", Some("dan@example.com"), None).await;
    let party = api.event(&ann, "Launch party").await.id;
    for (caller, contact) in [(&bob, "bob@example.com"), (&cy, "cy@example.com")] {
        let invitation = api.invite(&ann, party, contact).await;
        api.answer(caller, invitation.invitation.id(), Answer::Accept)
            .await;
    }
    (ann, bob, cy, dan, party)
}

fn member_uri(event: domain::EventId, user: &Caller) -> String {
    format!("/api/v1/events/{event}/members/{}", user.user.id)
}

#[actix_web::test]
async fn the_owner_makes_a_member_cohost_who_then_sends_invitations() {
    let api = Api::new();
    let (ann, bob, _, dan, party) = roles_party(&api).await;
    let reply = api
        .send(
            ann.authed(
                TestRequest::patch()
                    .uri(&member_uri(party, &bob))
                    .set_json(json!({"role": "cohost", "guests": 0})),
            ),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({"data": {"id": bob.user.id.to_string(), "name": "Bob", "role": "cohost", "joined_at": "2026-11-26T10:00:00Z", "guests": 0}})
    );
    let sent = api
        .send(
            bob.authed(
                TestRequest::post()
                    .uri(&format!("/api/v1/{party}/send-invitations"))
                    .set_json(json!({"invitations": ["dan@example.com"]})),
            ),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["data"]["sent"][0]["sender"]["name"], "Bob");
    assert_eq!(
        sent.body["data"]["sent"][0]["invitee"]["id"],
        dan.user.id.to_string()
    );
}

#[actix_web::test]
async fn only_the_owner_changes_roles_and_never_their_own() {
    let api = Api::new();
    let (ann, bob, cy, dan, party) = roles_party(&api).await;
    let patch = |caller: &Caller, target: &Caller, body: serde_json::Value| {
        caller.authed(
            TestRequest::patch()
                .uri(&member_uri(party, target))
                .set_json(body),
        )
    };
    let cases = [
        (
            patch(&bob, &cy, json!({"role": "cohost", "guests": 0})),
            403,
            "Only the event's owner can change roles.",
        ),
        (
            patch(&dan, &cy, json!({"role": "cohost", "guests": 0})),
            404,
            "Event not found.",
        ),
        (
            patch(&ann, &dan, json!({"role": "cohost", "guests": 0})),
            404,
            "Member not found.",
        ),
        (
            patch(&ann, &ann, json!({"role": "member", "guests": 0})),
            422,
            "The owner's role cannot be changed.",
        ),
        (
            patch(&ann, &bob, json!({"role": "owner", "guests": 0})),
            422,
            "The selected role is invalid.",
        ),
        (
            patch(&ann, &bob, json!({})),
            422,
            "The role field is required.",
        ),
    ];
    for (request, status, message) in cases {
        let reply = api.send(request).await;
        assert_eq!(
            (reply.status, reply.body["message"].as_str()),
            (status, Some(message))
        );
    }
    let not_a_uuid = api
        .send(
            ann.authed(
                TestRequest::patch()
                    .uri(&format!("/api/v1/events/{party}/members/12"))
                    .set_json(json!({"role": "cohost", "guests": 0})),
            ),
        )
        .await;
    assert_eq!(not_a_uuid.status, 404);
}

#[actix_web::test]
async fn members_leave_cohosts_remove_members_and_the_owner_stays() {
    let api = Api::new();
    let (ann, bob, cy, dan, party) = roles_party(&api).await;
    let delete = |caller: &Caller, target: &Caller| {
        caller.authed(TestRequest::delete().uri(&member_uri(party, target)))
    };
    api.send(
        ann.authed(
            TestRequest::patch()
                .uri(&member_uri(party, &bob))
                .set_json(json!({"role": "cohost", "guests": 0})),
        ),
    )
    .await;
    for (request, status) in [
        (delete(&cy, &bob), 403),
        (delete(&bob, &ann), 403),
        (delete(&dan, &dan), 404),
        (delete(&bob, &dan), 404),
    ] {
        assert_eq!(api.send(request).await.status, status);
    }
    let owner_leaving = api.send(delete(&ann, &ann)).await;
    assert_eq!(
        (owner_leaving.status, owner_leaving.body),
        (
            422,
            json!({"message": "The owner cannot leave the event.", "errors": {"user_id": ["The owner cannot leave the event."]}})
        )
    );
    let removed = api.send(delete(&bob, &cy)).await;
    assert_eq!(
        (removed.status, removed.body),
        (204, serde_json::Value::Null)
    );
    assert_eq!(api.send(delete(&bob, &bob)).await.status, 204);
    let event = api
        .send(ann.authed(TestRequest::get().uri(&format!("/api/v1/events/{party}"))))
        .await;
    assert_eq!(event.body["data"]["members_count"], 1);
    assert_eq!(api.store.members_of(party), [ann.user.id]);
}

#[actix_web::test]
async fn an_edit_changes_the_fields_sent_and_is_checked_on_the_result() {
    let api = Api::new();
    let (ann, bob, _, dan, party) = roles_party(&api).await;
    let edit = |caller: &Caller, body: serde_json::Value| {
        caller.authed(
            TestRequest::patch()
                .uri(&format!("/api/v1/events/{party}"))
                .set_json(body),
        )
    };
    let reply = api
        .send(edit(
            &ann,
            json!({"location": "Roof", "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-01T23:00:00Z"}),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = api
        .send(edit(&ann, json!({"title": "Renamed", "location": null})))
        .await;
    let event = &reply.body["data"];
    assert_eq!(
        (
            &event["title"],
            &event["location"],
            &event["starts_at"],
            &event["members_count"]
        ),
        (
            &json!("Renamed"),
            &json!(null),
            &json!("2026-12-01T18:00:00Z"),
            &json!(3)
        )
    );
    let backwards = api
        .send(edit(&ann, json!({"starts_at": "2026-12-02T00:00:00Z"})))
        .await;
    assert_eq!(backwards.status, 422);
    assert_eq!(
        backwards.body["errors"],
        json!({"ends_at": ["The ends at must be a date after or equal to starts at."]})
    );
    assert_eq!(
        api.send(edit(&bob, json!({"title": "Mine"}))).await.status,
        403
    );
    assert_eq!(
        api.send(edit(&dan, json!({"title": "Mine"}))).await.status,
        404
    );
    assert_eq!(api.send(edit(&ann, json!({"title": ""}))).await.status, 422);
}

#[actix_web::test]
async fn only_the_owner_deletes_an_event_and_then_only_its_invitations_parties_see_them() {
    let api = Api::new();
    let (ann, bob, cy, dan, party) = roles_party(&api).await;
    api.send(
        ann.authed(
            TestRequest::patch()
                .uri(&member_uri(party, &bob))
                .set_json(json!({"role": "cohost", "guests": 0})),
        ),
    )
    .await;
    let pending = api.invite(&bob, party, "dan@example.com").await;
    let uri = format!("/api/v1/events/{party}");
    for (caller, status) in [(&bob, 403), (&cy, 403), (&dan, 404)] {
        let reply = api
            .send(caller.authed(TestRequest::delete().uri(&uri)))
            .await;
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    let deleted = api.send(ann.authed(TestRequest::delete().uri(&uri))).await;
    assert_eq!(
        (deleted.status, deleted.body),
        (204, serde_json::Value::Null)
    );
    for caller in [&ann, &bob] {
        let reply = api.send(caller.authed(TestRequest::get().uri(&uri))).await;
        assert_eq!(reply.status, 404);
    }
    // The invitee still reads the invitation: cancelled, its event deleted.
    let invitation = format!("/api/v1/invitations/{}", pending.invitation.id());
    let reply = api
        .send(dan.authed(TestRequest::get().uri(&invitation)))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["status"], "cancelled");
    assert_eq!(reply.body["data"]["event"]["deleted"], true);
}
