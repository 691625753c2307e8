//! The invitation lifecycle's routes (docs/api.md, "Invitation lifecycle"): cancel, resend, the
//! note, expiry as every response shows it, and an event's own list, over the fakes and a clock
//! the tests move.

use actix_web::test::TestRequest;
use chrono::Duration;
use domain::Answer;
use serde_json::{json, Value};

use crate::helpers::{Api, Caller, Reply};

/// Ann, who owns "Launch party", Bob, whom she invites, and Carol, a plain member.
async fn party(api: &Api) -> (Caller, Caller, Caller, domain::EventId) {
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let bob = api.register("Bob", Some("bob@example.com"), None).await;
    let carol = api.register("Carol", Some("carol@example.com"), None).await;
    let event = api.event(&ann, "Launch party").await.id;
    let joined = api.invite(&ann, event, "carol@example.com").await;
    api.answer(&carol, joined.invitation.id(), Answer::Accept)
        .await;
    (ann, bob, carol, event)
}

async fn invite_bob(api: &Api, ann: &Caller, event: domain::EventId) -> String {
    api.invite(ann, event, "bob@example.com")
        .await
        .invitation
        .id()
        .to_string()
}

async fn delete(api: &Api, by: &Caller, id: &str) -> Reply {
    api.send(by.authed(TestRequest::delete().uri(&format!("/api/v1/invitations/{id}"))))
        .await
}

async fn resend(api: &Api, by: &Caller, id: &str) -> Reply {
    api.send(by.authed(TestRequest::post().uri(&format!("/api/v1/invitations/{id}/resend"))))
        .await
}

async fn get(api: &Api, by: &Caller, uri: &str) -> Reply {
    api.send(by.authed(TestRequest::get().uri(uri))).await
}

async fn answer(api: &Api, by: &Caller, id: &str, status: &str) -> Reply {
    api.send(
        by.authed(
            TestRequest::patch()
                .uri(&format!("/api/v1/invitations/{id}"))
                .set_json(json!({ "status": status })),
        ),
    )
    .await
}

fn ids(reply: &Reply) -> Vec<&str> {
    reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn the_sender_cancels_and_gets_the_cancelled_invitation_which_can_no_longer_be_answered() {
    let api = Api::new();
    let (ann, bob, _, event) = party(&api).await;
    let id = invite_bob(&api, &ann, event).await;
    api.clock.advance(Duration::minutes(5));
    let reply = delete(&api, &ann, &id).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["id"], id);
    assert_eq!(data["status"], "cancelled");
    assert_eq!(data["cancelled_at"], "2026-11-26T10:05:00Z");
    assert_eq!(data["answered_at"], Value::Null);

    let again = delete(&api, &ann, &id).await;
    assert_eq!(
        (again.status, &again.body["code"]),
        (409, &json!("invitation_cancelled"))
    );
    let answered = answer(&api, &bob, &id, "accepted").await;
    assert_eq!(answered.status, 409);
    assert_eq!(
        answered.body,
        json!({"message": "This invitation has been cancelled.", "code": "invitation_cancelled"})
    );
    let shown = get(&api, &bob, &format!("/api/v1/invitations/{id}")).await;
    assert_eq!(shown.body["data"]["status"], "cancelled");
}

#[actix_web::test]
async fn the_invitee_may_not_cancel_and_anyone_else_but_the_events_managers_gets_a_404() {
    let api = Api::new();
    let (ann, bob, carol, event) = party(&api).await;
    let id = invite_bob(&api, &ann, event).await;
    let by_invitee = delete(&api, &bob, &id).await;
    assert_eq!(
        (by_invitee.status, &by_invitee.body["code"]),
        (403, &json!("forbidden"))
    );
    let by_member = delete(&api, &carol, &id).await;
    assert_eq!(
        (by_member.status, &by_member.body["code"]),
        (404, &json!("not_found"))
    );
    let mallory = api.register("Mallory", Some("m@example.com"), None).await;
    assert_eq!(delete(&api, &mallory, &id).await.status, 404);
    assert_eq!(delete(&api, &ann, "not-a-uuid").await.status, 404);
    let answered = answer(&api, &bob, &id, "accepted").await;
    assert_eq!(answered.status, 200, "still pending: {}", answered.body);
    let late = delete(&api, &ann, &id).await;
    assert_eq!(
        (late.status, &late.body["code"]),
        (409, &json!("invitation_already_answered"))
    );
}

#[actix_web::test]
async fn a_resend_pushes_the_expiry_out_and_the_next_one_within_ten_minutes_is_a_429() {
    let api = Api::new();
    let (ann, bob, _, event) = party(&api).await;
    let id = invite_bob(&api, &ann, event).await;
    let first = resend(&api, &ann, &id).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["data"]["status"], "pending");
    assert_eq!(first.body["data"]["expires_at"], "2026-12-03T10:00:00Z");

    api.clock.advance(Duration::minutes(4));
    let soon = resend(&api, &ann, &id).await;
    assert_eq!(soon.status, 429, "{}", soon.body);
    assert_eq!(soon.body["code"], "too_many_requests");
    assert_eq!(soon.headers.get("retry-after").unwrap(), "360");

    api.clock.advance(Duration::minutes(6));
    let later = resend(&api, &ann, &id).await;
    assert_eq!(later.status, 200, "{}", later.body);
    assert_eq!(later.body["data"]["expires_at"], "2026-12-03T10:10:00Z");
    let by_invitee = resend(&api, &bob, &id).await;
    assert_eq!(by_invitee.status, 403);
}

#[actix_web::test]
async fn past_its_expiry_an_invitation_shows_expired_everywhere_and_cannot_be_answered() {
    let api = Api::new();
    let (ann, bob, _, event) = party(&api).await;
    let id = invite_bob(&api, &ann, event).await;
    api.clock.advance(Duration::days(7));
    let shown = get(&api, &bob, &format!("/api/v1/invitations/{id}")).await;
    assert_eq!(shown.body["data"]["status"], "expired");
    assert_eq!(shown.body["data"]["expires_at"], "2026-12-03T10:00:00Z");
    for uri in [
        "/api/v1/received-invitations?status=expired".to_owned(),
        format!("/api/v1/events/{event}/invitations?status=expired"),
    ] {
        let by = if uri.contains("received") { &bob } else { &ann };
        let reply = get(&api, by, &uri).await;
        assert_eq!(ids(&reply), [id.as_str()], "{uri}");
        assert_eq!(reply.body["data"][0]["status"], "expired");
    }
    let pending = get(&api, &ann, "/api/v1/sent-invitations?status=pending").await;
    assert_eq!(ids(&pending), Vec::<&str>::new());
    let answered = answer(&api, &bob, &id, "accepted").await;
    assert_eq!(
        (answered.status, answered.body),
        (
            409,
            json!({"message": "This invitation has expired.", "code": "invitation_expired"})
        )
    );
    assert_eq!(
        resend(&api, &ann, &id).await.body["code"],
        "invitation_expired"
    );
    assert_eq!(
        delete(&api, &ann, &id).await.body["code"],
        "invitation_expired"
    );
    // It blocks no new invitation.
    let again = api
        .send(
            ann.authed(
                TestRequest::post()
                    .uri(&format!("/api/v1/{event}/send-invitations"))
                    .set_json(json!({"invitations": ["bob@example.com"]})),
            ),
        )
        .await;
    assert_eq!(again.body["message"], "1 invitation sent, 0 ignored.");
}

#[actix_web::test]
async fn the_note_goes_on_every_invitation_of_the_request_and_is_shown_to_its_parties() {
    let api = Api::new();
    let (ann, bob, _, event) = party(&api).await;
    api.register("Dan", Some("dan@example.com"), None).await;
    let reply = api
        .send(
            ann.authed(
                TestRequest::post()
                    .uri(&format!("/api/v1/events/{event}/invitations"))
                    .set_json(json!({
                        "invitations": ["bob@example.com", "dan@example.com"],
                        "message": "  Drinks on the roof.\nBring a friend!  "
                    })),
            ),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    for sent in reply.body["data"]["sent"].as_array().unwrap() {
        assert_eq!(sent["message"], "Drinks on the roof.\nBring a friend!");
    }
    let received = get(&api, &bob, "/api/v1/received-invitations").await;
    assert_eq!(
        received.body["data"][0]["message"],
        "Drinks on the roof.\nBring a friend!"
    );

    let refused = api
        .send(
            ann.authed(
                TestRequest::post()
                    .uri(&format!("/api/v1/{event}/send-invitations"))
                    .set_json(
                        json!({"invitations": ["dan@example.com"], "message": "x".repeat(501)}),
                    ),
            ),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.body,
        json!({
            "message": "The message must not be greater than 500 characters.",
            "errors": {"message": ["The message must not be greater than 500 characters."]}
        })
    );
}

#[actix_web::test]
async fn an_events_invitations_are_listed_to_its_owner_in_signed_pages_and_refused_to_others() {
    let api = Api::new();
    let (ann, bob, carol, event) = party(&api).await;
    let bobs = invite_bob(&api, &ann, event).await;
    let uri = format!("/api/v1/events/{event}/invitations");
    let first = get(&api, &ann, &format!("{uri}?limit=1")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(ids(&first), [bobs.as_str()]);
    let cursor = first.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let rest = get(&api, &ann, &format!("{uri}?limit=1&cursor={cursor}")).await;
    assert_eq!(rest.body["data"][0]["invitee"]["name"], "Carol");
    assert_eq!(rest.body["meta"]["next_cursor"], Value::Null);
    // The cursor is this list's only: not another status's, nor the sent list's.
    let other_status = get(&api, &ann, &format!("{uri}?status=pending&cursor={cursor}")).await;
    assert_eq!(other_status.status, 422);
    let sent = get(
        &api,
        &ann,
        &format!("/api/v1/sent-invitations?cursor={cursor}"),
    )
    .await;
    assert_eq!(sent.status, 422);

    let by_member = get(&api, &carol, &uri).await;
    assert_eq!(
        (by_member.status, by_member.body),
        (
            403,
            json!({"message": "Only the event's owner and co-hosts can list its invitations.", "code": "forbidden"})
        )
    );
    assert_eq!(get(&api, &bob, &uri).await.status, 404);
    let bad = get(&api, &ann, &format!("{uri}?status=maybe")).await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        get(
            &api,
            &ann,
            &format!("/api/v1/events/{}/invitations", uuid::Uuid::now_v7())
        )
        .await
        .status,
        404
    );
}
