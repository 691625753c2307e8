//! The seed's invitation routes and their aliases (docs/api.md, "Invitations").
//!
//! Who may send, see and answer (403, 404, 409) and the 422s of bad bodies and filters are asserted
//! by the domain's tests, the unit tests of `api::invitations` and end to end; here, the answers'
//! shapes and what reaches the services.

use actix_web::test::TestRequest;
use chrono::Duration;
use domain::{Answer, InvitationStatus};
use serde_json::{json, Value};

use crate::helpers::{Api, Caller};

fn send_to(sender: &Caller, path: &str, body: Value) -> TestRequest {
    sender.authed(TestRequest::post().uri(path).set_json(body))
}

/// Ann, who owns "Launch party", and Bob, whom she can invite by email or mobile.
async fn party(api: &Api) -> (Caller, Caller, domain::EventId) {
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let bob = api
        .register("Bob", Some("bob@example.com"), Some("09303030300"))
        .await;
    let event = api.event(&ann, "Launch party").await.id;
    (ann, bob, event)
}

#[actix_web::test]
async fn sending_reports_what_was_sent_and_what_was_ignored_in_request_order() {
    for path in [
        "/api/v1/{id}/send-invitations",
        "/api/v1/events/{id}/invitations",
    ] {
        let api = Api::new();
        let (ann, bob, event) = party(&api).await;
        let path = path.replace("{id}", &event.to_string());
        let body =
            json!({"invitations": ["", "09332114546", " 0930 303 0300 ", "", "not a contact"]});
        let reply = api.send(send_to(&ann, &path, body)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.body["message"], "1 invitation sent, 2 ignored.");
        let sent = &reply.body["data"]["sent"];
        assert_eq!(sent.as_array().unwrap().len(), 1);
        assert_eq!(sent[0]["contact"], "0930 303 0300");
        assert_eq!(sent[0]["status"], "pending");
        assert_eq!(sent[0]["answered_at"], Value::Null);
        assert_eq!(
            sent[0]["sender"],
            json!({"id": ann.user.id.to_string(), "name": "Ann"})
        );
        assert_eq!(
            sent[0]["invitee"],
            json!({"id": bob.user.id.to_string(), "name": "Bob"})
        );
        assert_eq!(
            sent[0]["event"],
            json!({"id": event.to_string(), "title": "Launch party", "deleted": false})
        );
        assert_eq!(
            reply.body["data"]["ignored"],
            json!([
                {"contact": "09332114546", "reason": "not_a_user", "message": "No user has this email or mobile."},
                {
                    "contact": "not a contact",
                    "reason": "invalid_contact",
                    "message": "This is neither a valid email address nor a valid mobile number."
                }
            ])
        );
        assert_eq!(api.store.invitations().len(), 1, "{path}");
    }
}

#[actix_web::test]
async fn the_summary_counts_in_the_plural() {
    let api = Api::new();
    let (ann, _, event) = party(&api).await;
    let body = json!({"invitations": ["09332114546", "09332131456"]});
    let reply = api
        .send(send_to(
            &ann,
            &format!("/api/v1/{event}/send-invitations"),
            body,
        ))
        .await;
    assert_eq!(reply.body["message"], "0 invitations sent, 2 ignored.");
}

#[actix_web::test]
async fn sent_invitations_are_listed_under_both_spellings_with_the_status_filter() {
    let api = Api::new();
    let (ann, bob, event) = party(&api).await;
    let carol = api.register("Carol", Some("carol@example.com"), None).await;
    let pending = api.invite(&ann, event, "09303030300").await;
    let rejected = api.invite(&ann, event, "carol@example.com").await;
    api.answer(&carol, rejected.invitation.id(), Answer::Reject)
        .await;
    for path in ["/api/v1/sended-invitations", "/api/v1/sent-invitations"] {
        let reply = api
            .send(ann.authed(TestRequest::get().uri(&format!("{path}?status=pending"))))
            .await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.body["data"],
            json!([{
                "id": pending.invitation.id().to_string(),
                "event": {"id": event.to_string(), "title": "Launch party", "deleted": false},
                "sender": {"id": ann.user.id.to_string(), "name": "Ann"},
                "invitee": {"id": bob.user.id.to_string(), "name": "Bob"},
                "contact": "09303030300",
                "status": "pending",
                "message": null,
                "guests": 0,
                "comment": null,
                "waitlist_position": null,
                "created_at": "2026-11-26T10:00:00Z",
                "expires_at": "2026-12-03T10:00:00Z",
                "answered_at": null,
                "cancelled_at": null
            }]),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn received_invitations_can_be_filtered_by_event() {
    let api = Api::new();
    let (ann, bob, event) = party(&api).await;
    let other = api.event(&ann, "Other").await.id;
    api.invite(&ann, event, "bob@example.com").await;
    let elsewhere = api.invite(&ann, other, "bob@example.com").await;
    api.answer(&bob, elsewhere.invitation.id(), Answer::Reject)
        .await;
    let reply = api
        .send(bob.authed(TestRequest::get().uri(&format!(
            "/api/v1/received-invitations?status=all&event_id={other}"
        ))))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let ids: Vec<_> = reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [elsewhere.invitation.id().to_string()]);
}

#[actix_web::test]
async fn the_invitee_accepts_and_gets_the_answered_invitation() {
    let api = Api::new();
    let (ann, bob, event) = party(&api).await;
    let id = api
        .invite(&ann, event, "bob@example.com")
        .await
        .invitation
        .id();
    api.clock.advance(Duration::hours(1));
    let reply = api
        .send(
            bob.authed(
                TestRequest::patch()
                    .uri(&format!("/api/v1/invitations/{id}"))
                    .set_json(json!({"status": "accepted"})),
            ),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["id"], id.to_string());
    assert_eq!(reply.body["data"]["status"], "accepted");
    assert_eq!(reply.body["data"]["created_at"], "2026-11-26T10:00:00Z");
    assert_eq!(reply.body["data"]["answered_at"], "2026-11-26T11:00:00Z");
    let stored = api.store.invitations();
    assert_eq!(stored[0].status(), InvitationStatus::Accepted);
    assert_eq!(api.store.members_of(event), [ann.user.id, bob.user.id]);
}
