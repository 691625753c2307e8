//! SPEC §5: the seed's invitation routes and their aliases.

use std::collections::HashMap;

use actix_web::test::TestRequest;
use domain::ports::{BatchOutcome, SaveAnswerError};
use domain::{Answer, InvitationStatus, Mobile, Page, PhoneRegion, User};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{authed, event, invitation, now, user, Ports};

fn send_to(path: &str, body: Value) -> TestRequest {
    authed(TestRequest::post().uri(path).set_json(body))
}

fn bob() -> User {
    let mut bob = user("Bob");
    bob.mobile = Some(Mobile::parse("09303030300", PhoneRegion::default()).unwrap());
    bob
}

fn owner_sends(ann: &User, bob: &User) -> Ports {
    let party = event(ann);
    let mut ports = Ports::default().sign_in(ann);
    ports
        .events
        .expect_find_for_member()
        .returning(move |_, _| Ok(Some(party.clone())));
    let invitee = bob.clone();
    ports
        .users
        .expect_find_by_contacts()
        .returning(move |_, _| Ok(vec![invitee.clone()]));
    ports
        .invitations
        .expect_invitee_states()
        .returning(|_, _| Ok(HashMap::new()));
    ports
        .invitations
        .expect_create_batch()
        .returning(|batch| Ok(vec![BatchOutcome::Created; batch.len()]));
    ports
}

#[actix_web::test]
async fn sending_reports_what_was_sent_and_what_was_ignored_in_request_order() {
    let (ann, bob) = (user("Ann"), bob());
    for path in [
        "/api/v1/{id}/send-invitations",
        "/api/v1/events/{id}/invitations",
    ] {
        let path = path.replace("{id}", &Uuid::now_v7().to_string());
        let body =
            json!({"invitations": ["", "09332114546", " 0930 303 0300 ", "", "not a contact"]});
        let reply = owner_sends(&ann, &bob).send(send_to(&path, body)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.body["message"], "1 invitation sent, 2 ignored.");
        let sent = &reply.body["data"]["sent"];
        assert_eq!(sent.as_array().unwrap().len(), 1);
        assert_eq!(sent[0]["contact"], "0930 303 0300");
        assert_eq!(sent[0]["status"], "pending");
        assert_eq!(sent[0]["answered_at"], Value::Null);
        assert_eq!(
            sent[0]["sender"],
            json!({"id": ann.id.to_string(), "name": "Ann"})
        );
        assert_eq!(
            sent[0]["invitee"],
            json!({"id": bob.id.to_string(), "name": "Bob"})
        );
        assert_eq!(sent[0]["event"]["title"], "Launch party");
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
    }
}

#[actix_web::test]
async fn the_summary_counts_in_the_plural() {
    let (ann, bob) = (user("Ann"), bob());
    let body = json!({"invitations": ["09332114546", "09332131456"]});
    let mut ports = owner_sends(&ann, &bob);
    ports.users.checkpoint();
    ports
        .users
        .expect_find_by_contacts()
        .returning(|_, _| Ok(vec![]));
    let reply = ports
        .send(send_to(
            &format!("/api/v1/{}/send-invitations", Uuid::now_v7()),
            body,
        ))
        .await;
    assert_eq!(reply.body["message"], "0 invitations sent, 2 ignored.");
}

#[actix_web::test]
async fn a_member_who_is_not_the_owner_may_not_send() {
    let (ann, bob) = (user("Ann"), bob());
    let party = event(&ann);
    let mut ports = Ports::default().sign_in(&bob);
    ports
        .events
        .expect_find_for_member()
        .returning(move |_, _| Ok(Some(party.clone())));
    let reply = ports
        .send(send_to(
            &format!("/api/v1/{}/send-invitations", Uuid::now_v7()),
            json!({"invitations": ["a@b.io"]}),
        ))
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.body,
        json!({"message": "Only the event's owner can send invitations.", "code": "forbidden"})
    );
}

#[actix_web::test]
async fn sending_for_an_event_the_caller_cannot_see_is_a_404() {
    let ann = user("Ann");
    let mut ports = Ports::default().sign_in(&ann);
    ports
        .events
        .expect_find_for_member()
        .returning(|_, _| Ok(None));
    let reply = ports
        .send(send_to(
            &format!("/api/v1/{}/send-invitations", Uuid::now_v7()),
            json!({"invitations": ["a@b.io"]}),
        ))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.body,
        json!({"message": "Event not found.", "code": "not_found"})
    );
}

#[actix_web::test]
async fn bad_send_bodies_are_laravel_422s() {
    let ann = user("Ann");
    let cases = [
        (
            json!({}),
            json!({"invitations": ["The invitations field is required."]}),
        ),
        (
            json!({"invitations": "x"}),
            json!({"invitations": ["The invitations must be an array."]}),
        ),
        (
            json!({"invitations": [1]}),
            json!({"invitations.0": ["The invitations.0 must be a string."]}),
        ),
        (
            json!({"invitations": ["", " "]}),
            json!({"invitations": ["The invitations field is required."]}),
        ),
    ];
    for (body, errors) in cases {
        let reply = Ports::default()
            .sign_in(&ann)
            .send(send_to(
                &format!("/api/v1/{}/send-invitations", Uuid::now_v7()),
                body.clone(),
            ))
            .await;
        assert_eq!(reply.status, 422, "{body}");
        let first = errors.as_object().unwrap().values().next().unwrap()[0].clone();
        assert_eq!(
            reply.body,
            json!({"message": first, "errors": errors}),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn sent_invitations_are_listed_under_both_spellings_with_the_status_filter() {
    let (ann, bob) = (user("Ann"), bob());
    let party = event(&ann);
    let details = invitation(&party, &ann, &bob);
    for path in ["/api/v1/sended-invitations", "/api/v1/sent-invitations"] {
        let mut ports = Ports::default().sign_in(&ann);
        let (sender, item) = (ann.id, details.clone());
        ports
            .invitations
            .expect_list_sent()
            .returning(move |who, filter, _| {
                assert_eq!(who, sender);
                assert_eq!(filter.status.status(), Some(InvitationStatus::Pending));
                Ok(Page {
                    items: vec![item.clone()],
                    next_after: None,
                })
            });
        let reply = ports
            .send(authed(
                TestRequest::get().uri(&format!("{path}?status=pending")),
            ))
            .await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.body["data"][0],
            json!({
                "id": details.invitation.id().to_string(),
                "event": {"id": party.id.to_string(), "title": "Launch party"},
                "sender": {"id": ann.id.to_string(), "name": "Ann"},
                "invitee": {"id": bob.id.to_string(), "name": "Bob"},
                "contact": "09352864812",
                "status": "pending",
                "created_at": "2026-11-26T10:00:00Z",
                "answered_at": null
            }),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn received_invitations_can_be_filtered_by_event() {
    let bob = bob();
    let event_id = Uuid::now_v7();
    let mut ports = Ports::default().sign_in(&bob);
    ports
        .invitations
        .expect_list_received()
        .returning(move |_, filter, _| {
            assert_eq!(filter.event_id.map(|id| id.as_uuid()), Some(event_id));
            assert_eq!(filter.status.status(), None);
            Ok(Page {
                items: vec![],
                next_after: None,
            })
        });
    let reply = ports
        .send(authed(TestRequest::get().uri(&format!(
            "/api/v1/received-invitations?status=all&event_id={event_id}"
        ))))
        .await;
    assert_eq!(reply.status, 200);
}

#[actix_web::test]
async fn an_unknown_status_filter_is_a_422() {
    let bob = bob();
    let reply = Ports::default()
        .sign_in(&bob)
        .send(authed(
            TestRequest::get().uri("/api/v1/received-invitations?status=maybe&event_id=x"),
        ))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body,
        json!({
            "message": "The selected status is invalid. (and 1 more error)",
            "errors": {
                "status": ["The selected status is invalid."],
                "event_id": ["The event id must be a valid UUID."]
            }
        })
    );
}

#[actix_web::test]
async fn a_stranger_cannot_see_an_invitation() {
    let (ann, bob, eve) = (user("Ann"), bob(), user("Eve"));
    let details = invitation(&event(&ann), &ann, &bob);
    let id = details.invitation.id();
    let mut ports = Ports::default().sign_in(&eve);
    ports
        .invitations
        .expect_find()
        .returning(move |_| Ok(Some(details.clone())));
    let reply = ports
        .send(authed(
            TestRequest::get().uri(&format!("/api/v1/invitations/{id}")),
        ))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.body,
        json!({"message": "Invitation not found.", "code": "not_found"})
    );
}

fn answer(id: impl std::fmt::Display, body: Value) -> TestRequest {
    authed(
        TestRequest::patch()
            .uri(&format!("/api/v1/invitations/{id}"))
            .set_json(body),
    )
}

#[actix_web::test]
async fn the_invitee_accepts_and_gets_the_answered_invitation() {
    let (ann, bob) = (user("Ann"), bob());
    let details = invitation(&event(&ann), &ann, &bob);
    let id = details.invitation.id();
    let mut ports = Ports::default().sign_in(&bob);
    ports
        .invitations
        .expect_find()
        .returning(move |_| Ok(Some(details.clone())));
    ports
        .invitations
        .expect_save_answer()
        .times(1)
        .returning(|invitation| {
            assert_eq!(invitation.status(), Answer::Accept.status());
            Ok(())
        });
    let reply = ports.send(answer(id, json!({"status": "accepted"}))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["status"], "accepted");
    assert_eq!(
        reply.body["data"]["answered_at"],
        now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
}

#[actix_web::test]
async fn the_sender_may_not_answer() {
    let (ann, bob) = (user("Ann"), bob());
    let details = invitation(&event(&ann), &ann, &bob);
    let id = details.invitation.id();
    let mut ports = Ports::default().sign_in(&ann);
    ports
        .invitations
        .expect_find()
        .returning(move |_| Ok(Some(details.clone())));
    let reply = ports.send(answer(id, json!({"status": "rejected"}))).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.body,
        json!({"message": "Only the invitee can answer this invitation.", "code": "forbidden"})
    );
}

#[actix_web::test]
async fn answering_an_answered_invitation_is_a_409() {
    let (ann, bob) = (user("Ann"), bob());
    let details = invitation(&event(&ann), &ann, &bob);
    let id = details.invitation.id();
    let mut ports = Ports::default().sign_in(&bob);
    ports
        .invitations
        .expect_find()
        .returning(move |_| Ok(Some(details.clone())));
    ports
        .invitations
        .expect_save_answer()
        .returning(|_| Err(SaveAnswerError::AlreadyAnswered));
    let reply = ports.send(answer(id, json!({"status": "accepted"}))).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        reply.body,
        json!({"message": "This invitation has already been answered.", "code": "invitation_already_answered"})
    );
}

#[actix_web::test]
async fn an_answer_other_than_accepted_or_rejected_is_a_422() {
    let bob = bob();
    for (body, message) in [
        (json!({}), "The status field is required."),
        (
            json!({"status": "pending"}),
            "The selected status is invalid.",
        ),
    ] {
        let reply = Ports::default()
            .sign_in(&bob)
            .send(answer(Uuid::now_v7(), body))
            .await;
        assert_eq!(reply.status, 422);
        assert_eq!(
            reply.body,
            json!({"message": message, "errors": {"status": [message]}})
        );
    }
}
