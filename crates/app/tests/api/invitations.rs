use serde_json::{json, Value};

use crate::helpers::{api_tests, ids, TestApp, TestUser};

fn reasons(reply: &Value) -> Vec<(String, String)> {
    reply["data"]["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["contact"].as_str().unwrap().to_owned(),
                i["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn sent_names(reply: &Value) -> Vec<String> {
    reply["data"]["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invitee"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Olivia owns an event; Bob and Carol can be invited.
async fn party(app: &TestApp) -> (TestUser, TestUser, TestUser, String) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), Some("09120000000"))
        .await;
    let bob = app
        .register("Bob", Some("bob@example.com"), Some("09352864812"))
        .await;
    let carol = app.register("Carol", Some("carol@example.com"), None).await;
    let event = app.create_event(&olivia, "Launch").await;
    (olivia, bob, carol, event)
}

async fn first_sent_id(app: &TestApp, sender: &TestUser, event: &str, contact: &str) -> String {
    let reply = app.send(sender, event, json!([contact])).await;
    reply.expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

api_tests!(
    the_seed_example_invites_users_and_reports_the_others,
    every_ignore_reason_is_reported_in_request_order,
    the_alias_route_sends_too,
    accepting_makes_a_member_and_answering_twice_is_409,
    rejecting_blocks_a_new_invitation,
    only_the_invitee_answers_and_only_with_accepted_or_rejected,
    a_third_user_can_neither_see_answer_list_nor_invite,
    lists_filter_by_status_and_event_and_page_cleanly,
    pagination_over_many_invitations_has_no_gaps_or_duplicates,
    an_ex_invitee_keeps_the_title_they_last_saw
);

/// Once an invitee has no access to the event (they declined and are no member), a new title is
/// not theirs to read: their invitation keeps the one they last saw; the host sees the current one.
async fn an_ex_invitee_keeps_the_title_they_last_saw(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let sara = app.register("Sara", Some("sara@example.com"), None).await;
    let event = app.create_event(&olivia, "Launch").await;
    let sent = app.send(&olivia, &event, json!(["sara@example.com"])).await;
    let id = sent.expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.answer(&sara, &id, "rejected").await.expect(200);
    app.patch(
        &format!("/api/v1/events/{event}"),
        &olivia.token,
        json!({"title": "Secret merger talks"}),
    )
    .await
    .expect(200);
    let path = format!("/api/v1/invitations/{id}");
    let hers = app.get(&path, &sara.token).await;
    assert_eq!(hers.expect(200)["data"]["event"]["title"], "Launch");
    let listed = app.get("/api/v1/received-invitations", &sara.token).await;
    assert_eq!(listed.expect(200)["data"][0]["event"]["title"], "Launch");
    let host = app.get(&path, &olivia.token).await;
    assert_eq!(
        host.expect(200)["data"]["event"]["title"],
        "Secret merger talks"
    );
}

async fn the_seed_example_invites_users_and_reports_the_others(app: TestApp) {
    let owner = app.register("Owner", Some("owner@example.com"), None).await;
    let sara = app.register("Sara", None, Some("09352864812")).await;
    app.register("Reza", None, Some("09332114546")).await;
    let event = app.create_event(&owner, "Seed party").await;

    let seed = json!([
        "",
        "09352864812",
        "",
        "09303030300",
        "09332114546",
        "09332131456",
        "",
        ""
    ]);
    let reply = app.send(&owner, &event, seed).await;
    let body = reply.expect(200);
    assert_eq!(body["message"], "2 invitations sent, 2 ignored.");
    assert_eq!(sent_names(body), ["Sara", "Reza"]);
    assert_eq!(
        reasons(body),
        [
            ("09303030300".into(), "not_a_user".into()),
            ("09332131456".into(), "not_a_user".into())
        ]
    );
    let first = &body["data"]["sent"][0];
    assert_eq!(first["contact"], "09352864812");
    assert_eq!(first["status"], "pending");
    assert_eq!(first["answered_at"], Value::Null);
    assert_eq!(
        first["event"],
        json!({"id": event, "title": "Seed party", "deleted": false})
    );
    assert_eq!(first["sender"], json!({"id": owner.id, "name": "Owner"}));
    assert_eq!(first["invitee"], json!({"id": sara.id, "name": "Sara"}));
    assert!(body["data"]["ignored"][0]["message"].is_string());

    let received = app
        .get("/api/v1/received-invitations?status=all", &sara.token)
        .await;
    assert_eq!(received.expect(200)["data"][0], *first);
}

async fn every_ignore_reason_is_reported_in_request_order(app: TestApp) {
    let (olivia, bob, carol, event) = party(&app).await;
    let dave = app.register("Dave", Some("dave@example.com"), None).await;
    let erin = app.register("Erin", Some("erin@example.com"), None).await;
    let bob_invitation = first_sent_id(&app, &olivia, &event, "bob@example.com").await;
    app.answer(&bob, &bob_invitation, "accepted")
        .await
        .expect(200);
    let carol_invitation = first_sent_id(&app, &olivia, &event, "carol@example.com").await;
    app.answer(&carol, &carol_invitation, "rejected")
        .await
        .expect(200);
    first_sent_id(&app, &olivia, &event, "dave@example.com").await;

    let reply = app
        .send(
            &olivia,
            &event,
            json!([
                "nobody@example.com",
                "not a contact",
                "olivia@example.com",
                "09352864812",
                "DAVE@example.com",
                "carol@example.com",
                "erin@example.com",
                "Erin@Example.com",
                "  "
            ]),
        )
        .await;
    let body = reply.expect(200);
    assert_eq!(sent_names(body), ["Erin"]);
    let expected: Vec<(String, String)> = [
        ("nobody@example.com", "not_a_user"),
        ("not a contact", "invalid_contact"),
        ("olivia@example.com", "self_invitation"),
        ("09352864812", "already_member"),
        ("DAVE@example.com", "already_invited"),
        ("carol@example.com", "rejected_last_invitation"),
        ("Erin@Example.com", "duplicate_in_request"),
    ]
    .iter()
    .map(|(c, r)| ((*c).into(), (*r).into()))
    .collect();
    assert_eq!(reasons(body), expected);
    assert_eq!(body["message"], "1 invitation sent, 7 ignored.");
    let _ = (dave, erin);
}

async fn the_alias_route_sends_too(app: TestApp) {
    let (olivia, _, _, event) = party(&app).await;
    let reply = app
        .post(
            &format!("/api/v1/events/{event}/invitations"),
            Some(&olivia.token),
            json!({"invitations": ["bob@example.com"]}),
        )
        .await;
    assert_eq!(sent_names(reply.expect(200)), ["Bob"]);
    let sent = app.get("/api/v1/sent-invitations", &olivia.token).await;
    assert_eq!(sent.expect(200)["data"].as_array().unwrap().len(), 1);
}

async fn accepting_makes_a_member_and_answering_twice_is_409(app: TestApp) {
    let (olivia, bob, _, event) = party(&app).await;
    let id = first_sent_id(&app, &olivia, &event, "bob@example.com").await;
    let accepted = app.answer(&bob, &id, "accepted").await;
    let data = &accepted.expect(200)["data"];
    assert_eq!(data["status"], "accepted");
    assert!(data["answered_at"].as_str().unwrap().ends_with('Z'));

    let members = app
        .get(&format!("/api/v1/events/{event}/members"), &bob.token)
        .await;
    let roles: Vec<_> = members.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].clone(), m["role"].clone()))
        .collect();
    assert_eq!(
        roles,
        [
            (json!("Bob"), json!("member")),
            (json!("Olivia"), json!("owner"))
        ]
    );
    assert_eq!(
        app.get(&format!("/api/v1/events/{event}"), &bob.token)
            .await
            .expect(200)["data"]["members_count"],
        2
    );

    let again = app.answer(&bob, &id, "rejected").await;
    assert_eq!(
        again.expect(409),
        &json!({"message": "This invitation has already been answered.", "code": "invitation_already_answered"})
    );
}

async fn rejecting_blocks_a_new_invitation(app: TestApp) {
    let (olivia, bob, _, event) = party(&app).await;
    let id = first_sent_id(&app, &olivia, &event, "bob@example.com").await;
    assert_eq!(
        app.answer(&bob, &id, "rejected").await.expect(200)["data"]["status"],
        "rejected"
    );
    let again = app.send(&olivia, &event, json!(["bob@example.com"])).await;
    assert_eq!(
        reasons(again.expect(200)),
        [("bob@example.com".into(), "rejected_last_invitation".into())]
    );
    assert_eq!(
        app.get(&format!("/api/v1/events/{event}"), &bob.token)
            .await
            .expect(404)["code"],
        "not_found"
    );
}

async fn only_the_invitee_answers_and_only_with_accepted_or_rejected(app: TestApp) {
    let (olivia, bob, carol, event) = party(&app).await;
    let id = first_sent_id(&app, &olivia, &event, "bob@example.com").await;
    assert_eq!(
        app.answer(&olivia, &id, "accepted").await.expect(403)["code"],
        "forbidden"
    );
    assert_eq!(
        app.answer(&carol, &id, "accepted").await.expect(404)["code"],
        "not_found"
    );
    for bad in [
        json!({"status": "pending"}),
        json!({"status": "maybe"}),
        json!({}),
        json!({"status": 1}),
    ] {
        let reply = app
            .patch(
                &format!("/api/v1/invitations/{id}"),
                &bob.token,
                bad.clone(),
            )
            .await;
        let body = reply.expect(422);
        assert!(body["errors"]["status"][0].is_string(), "{bad}: {body}");
        assert_eq!(body["message"], body["errors"]["status"][0]);
    }
    let shown = app
        .get(&format!("/api/v1/invitations/{id}"), &bob.token)
        .await;
    assert_eq!(
        shown.expect(200)["data"]["status"],
        "pending",
        "nothing changed"
    );
}

async fn a_third_user_can_neither_see_answer_list_nor_invite(app: TestApp) {
    let (olivia, bob, carol, event) = party(&app).await;
    let mallory = app
        .register("Mallory", Some("mallory@example.com"), None)
        .await;
    let id = first_sent_id(&app, &olivia, &event, "bob@example.com").await;

    app.get(&format!("/api/v1/invitations/{id}"), &olivia.token)
        .await
        .expect(200);
    app.get(&format!("/api/v1/invitations/{id}"), &bob.token)
        .await
        .expect(200);
    assert_eq!(
        app.get(&format!("/api/v1/invitations/{id}"), &mallory.token)
            .await
            .expect(404)["code"],
        "not_found"
    );
    app.answer(&mallory, &id, "accepted").await.expect(404);
    for list in ["/api/v1/sended-invitations", "/api/v1/received-invitations"] {
        assert_eq!(
            app.get(list, &mallory.token).await.expect(200)["data"],
            json!([])
        );
        let filtered = app
            .get(&format!("{list}?event_id={event}"), &mallory.token)
            .await;
        assert_eq!(filtered.expect(200)["data"], json!([]));
    }
    assert_eq!(
        app.send(&mallory, &event, json!(["carol@example.com"]))
            .await
            .expect(404)["code"],
        "not_found"
    );

    // A member who is not the owner may not invite (R1).
    app.answer(&bob, &id, "accepted").await.expect(200);
    let by_member = app.send(&bob, &event, json!(["carol@example.com"])).await;
    assert_eq!(by_member.expect(403)["code"], "forbidden");
    let _ = carol;
}

async fn lists_filter_by_status_and_event_and_page_cleanly(app: TestApp) {
    let (olivia, bob, carol, event) = party(&app).await;
    let other = app.create_event(&olivia, "Other").await;
    let a = first_sent_id(&app, &olivia, &event, "bob@example.com").await;
    let b = first_sent_id(&app, &olivia, &event, "carol@example.com").await;
    let c = first_sent_id(&app, &olivia, &other, "bob@example.com").await;
    app.answer(&bob, &a, "accepted").await.expect(200);
    app.answer(&carol, &b, "rejected").await.expect(200);

    let count = |path: String, token: String| {
        let app = &app;
        async move {
            app.get(&path, &token).await.expect(200)["data"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    for (status, sent, bob_received) in [
        ("all", 3, 2),
        ("pending", 1, 1),
        ("accepted", 1, 1),
        ("rejected", 1, 0),
    ] {
        assert_eq!(
            count(
                format!("/api/v1/sended-invitations?status={status}"),
                olivia.token.clone()
            )
            .await,
            sent,
            "{status}"
        );
        assert_eq!(
            count(
                format!("/api/v1/received-invitations?status={status}"),
                bob.token.clone()
            )
            .await,
            bob_received,
            "{status}"
        );
    }
    assert_eq!(
        count("/api/v1/sended-invitations".into(), olivia.token.clone()).await,
        3
    );
    assert_eq!(
        count(
            format!("/api/v1/sended-invitations?event_id={other}"),
            olivia.token.clone()
        )
        .await,
        1
    );
    assert_eq!(
        count(
            format!("/api/v1/received-invitations?status=pending&event_id={other}"),
            bob.token.clone()
        )
        .await,
        1
    );

    let listed = app
        .collect("/api/v1/sended-invitations?status=all", &olivia.token, 1)
        .await;
    assert_eq!(
        ids(&listed),
        [c, b, a],
        "newest first, one per page, no gaps or duplicates"
    );
    assert!(app
        .get("/api/v1/sended-invitations?status=unknown", &olivia.token)
        .await
        .expect(422)["errors"]["status"][0]
        .is_string());
}

async fn pagination_over_many_invitations_has_no_gaps_or_duplicates(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let mut contacts = Vec::new();
    for i in 0..25 {
        app.register(&format!("U{i}"), Some(&format!("u{i}@example.com")), None)
            .await;
        contacts.push(format!("u{i}@example.com"));
    }
    let event = app.create_event(&olivia, "Big").await;
    let reply = app.send(&olivia, &event, json!(contacts)).await;
    let mut sent = ids(reply.expect(200)["data"]["sent"].as_array().unwrap());
    assert_eq!(sent.len(), 25);
    sent.sort();
    sent.reverse();
    for limit in [1, 7, 25, 100] {
        let listed = app
            .collect("/api/v1/sended-invitations", &olivia.token, limit)
            .await;
        assert_eq!(ids(&listed), sent, "limit {limit}");
    }
}
