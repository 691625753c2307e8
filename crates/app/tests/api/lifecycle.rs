//! The invitation lifecycle end to end (docs/api.md, "Invitation lifecycle"): expiry with a short
//! `INVITATION_TTL` (seconds, never minutes), the sweeper, cancel, resend, the note and an event's
//! own list, over HTTP on both backends.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{api_tests, client, ids, spawn_on, Reply, TestApp, TestUser};

/// Olivia owns an event; Bob can be invited; Carol is a plain member.
async fn party(app: &TestApp) -> (TestUser, TestUser, TestUser, String) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let carol = app.register("Carol", Some("carol@example.com"), None).await;
    let event = app.create_event(&olivia, "Launch").await;
    let joined = invite(app, &olivia, &event, "carol@example.com").await;
    app.answer(&carol, &joined, "accepted").await.expect(200);
    (olivia, bob, carol, event)
}

/// Sends one invitation that must be sent; its id.
async fn invite(app: &TestApp, sender: &TestUser, event: &str, contact: &str) -> String {
    let reply = app.send(sender, event, json!([contact])).await;
    let body = reply.expect(200);
    assert_eq!(body["data"]["sent"].as_array().unwrap().len(), 1, "{body}");
    body["data"]["sent"][0]["id"].as_str().unwrap().to_owned()
}

async fn cancel(app: &TestApp, by: &TestUser, id: &str) -> Reply {
    app.call(
        Method::DELETE,
        &format!("/api/v1/invitations/{id}"),
        Some(&by.token),
        None,
    )
    .await
}

async fn resend(app: &TestApp, by: &TestUser, id: &str) -> Reply {
    app.call(
        Method::POST,
        &format!("/api/v1/invitations/{id}/resend"),
        Some(&by.token),
        None,
    )
    .await
}

/// The app's database served by another instance with `vars` (a short `INVITATION_TTL`): the
/// same data, this instance's settings.
async fn with_settings(app: TestApp, vars: &[(&str, &str)]) -> TestApp {
    let address = spawn_on(&app.database, vars).await;
    TestApp {
        address,
        client: client(),
        database: app.database,
    }
}

/// Waits (a few seconds at most) until `done`.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !done().await {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn seconds_between(earlier: &Value, later: &Value) -> i64 {
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    (parse(later) - parse(earlier)).num_seconds()
}

api_tests!(
    past_invitation_ttl_an_invitation_is_expired_everywhere_and_a_new_one_can_be_sent,
    the_sweeper_marks_expired_invitations_in_the_database,
    the_sender_cancels_and_the_invitee_can_no_longer_answer_nor_cancel,
    a_resend_pushes_the_expiry_out_and_another_within_ten_minutes_is_a_429,
    the_note_is_stored_on_the_batch_and_shown_to_both_parties,
    an_events_invitations_are_paged_for_its_owner_refused_to_members_and_hidden_from_strangers
);

async fn past_invitation_ttl_an_invitation_is_expired_everywhere_and_a_new_one_can_be_sent(
    app: TestApp,
) {
    let app = with_settings(
        app,
        &[
            ("INVITATION_TTL", "2s"),
            ("INVITATION_SWEEP_INTERVAL_SECS", "0"),
        ],
    )
    .await;
    let (olivia, bob, _, event) = party(&app).await;
    let id = invite(&app, &olivia, &event, "bob@example.com").await;
    let shown = app
        .get(&format!("/api/v1/invitations/{id}"), &bob.token)
        .await;
    let data = shown.expect(200)["data"].clone();
    assert_eq!(data["status"], "pending");
    assert_eq!(
        seconds_between(&data["created_at"], &data["expires_at"]),
        2,
        "{data}"
    );

    until("the invitation expires", async || {
        app.get(&format!("/api/v1/invitations/{id}"), &bob.token)
            .await
            .body["data"]["status"]
            == "expired"
    })
    .await;
    for (path, token) in [
        (
            "/api/v1/received-invitations?status=expired".to_owned(),
            &bob.token,
        ),
        (
            "/api/v1/sent-invitations?status=expired".to_owned(),
            &olivia.token,
        ),
        (
            format!("/api/v1/events/{event}/invitations?status=expired"),
            &olivia.token,
        ),
    ] {
        let listed = app.get(&path, token).await;
        assert_eq!(
            ids(listed.expect(200)["data"].as_array().unwrap()),
            std::slice::from_ref(&id),
            "{path}"
        );
        assert_eq!(listed.body["data"][0]["status"], "expired");
    }
    for path in [
        "/api/v1/received-invitations?status=pending",
        "/api/v1/received-invitations",
    ] {
        let listed = app.get(path, &bob.token).await;
        assert!(
            listed.expect(200)["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["status"] != "pending"),
            "{path}"
        );
    }
    // Nothing has marked it (the sweeper is off): the status is the rule's.
    let stored = app.database.texts(&format!(
        "SELECT status AS value FROM invitations WHERE id = '{id}'"
    ));
    assert_eq!(stored, ["pending"]);

    let answered = app.answer(&bob, &id, "accepted").await;
    assert_eq!(
        answered.expect(409),
        &json!({"message": "This invitation has expired.", "code": "invitation_expired"})
    );
    assert_eq!(
        cancel(&app, &olivia, &id).await.expect(409)["code"],
        "invitation_expired"
    );
    assert_eq!(
        resend(&app, &olivia, &id).await.expect(409)["code"],
        "invitation_expired"
    );

    // It blocks no new invitation: the send marks it expired and stores the new one.
    let again = invite(&app, &olivia, &event, "bob@example.com").await;
    assert_ne!(again, id);
    let stored = app.database.texts(&format!(
        "SELECT status AS value FROM invitations WHERE id = '{id}'"
    ));
    assert_eq!(stored, ["expired"]);
    app.answer(&bob, &again, "accepted").await.expect(200);
}

async fn the_sweeper_marks_expired_invitations_in_the_database(app: TestApp) {
    let app = with_settings(
        app,
        &[
            ("INVITATION_TTL", "1s"),
            ("INVITATION_SWEEP_INTERVAL_SECS", "1"),
        ],
    )
    .await;
    let (olivia, _, _, event) = party(&app).await;
    let id = invite(&app, &olivia, &event, "bob@example.com").await;
    let sql = format!("SELECT status AS value FROM invitations WHERE id = '{id}'");
    until("the sweeper marks it", async || {
        app.database.texts(&sql) == ["expired"]
    })
    .await;
}

async fn the_sender_cancels_and_the_invitee_can_no_longer_answer_nor_cancel(app: TestApp) {
    let (olivia, bob, carol, event) = party(&app).await;
    let id = invite(&app, &olivia, &event, "bob@example.com").await;
    let by_invitee = cancel(&app, &bob, &id).await;
    assert_eq!(by_invitee.expect(403)["code"], "forbidden");
    assert_eq!(
        cancel(&app, &carol, &id).await.expect(404)["code"],
        "not_found"
    );
    let mallory = app
        .register("Mallory", Some("mallory@example.com"), None)
        .await;
    assert_eq!(
        cancel(&app, &mallory, &id).await.expect(404)["code"],
        "not_found"
    );

    let cancelled = cancel(&app, &olivia, &id).await;
    let data = &cancelled.expect(200)["data"];
    assert_eq!(data["status"], "cancelled");
    assert!(data["cancelled_at"].is_string(), "{data}");
    assert_eq!(data["answered_at"], Value::Null);
    assert_eq!(
        app.answer(&bob, &id, "accepted").await.expect(409),
        &json!({"message": "This invitation has been cancelled.", "code": "invitation_cancelled"})
    );
    assert_eq!(
        cancel(&app, &olivia, &id).await.expect(409)["code"],
        "invitation_cancelled"
    );
    // A cancelled invitation blocks no new one.
    let again = invite(&app, &olivia, &event, "bob@example.com").await;
    app.answer(&bob, &again, "rejected").await.expect(200);
    assert_eq!(
        cancel(&app, &olivia, &again).await.expect(409)["code"],
        "invitation_already_answered"
    );
}

async fn a_resend_pushes_the_expiry_out_and_another_within_ten_minutes_is_a_429(app: TestApp) {
    let (olivia, bob, _, event) = party(&app).await;
    let id = invite(&app, &olivia, &event, "bob@example.com").await;
    let sent = app
        .get(&format!("/api/v1/invitations/{id}"), &olivia.token)
        .await
        .expect(200)["data"]
        .clone();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resent = resend(&app, &olivia, &id).await;
    let data = resent.expect(200)["data"].clone();
    assert_eq!(data["status"], "pending");
    assert!(
        seconds_between(&sent["expires_at"], &data["expires_at"]) >= 1,
        "{sent} {data}"
    );
    assert_eq!(
        seconds_between(&sent["created_at"], &sent["expires_at"]),
        7 * 86_400
    );

    let soon = resend(&app, &olivia, &id).await;
    assert_eq!(soon.expect(429)["code"], "too_many_requests");
    let retry_after: u64 = soon.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((599..=600).contains(&retry_after), "{retry_after}");
    assert_eq!(
        resend(&app, &bob, &id).await.expect(403)["code"],
        "forbidden"
    );
}

async fn the_note_is_stored_on_the_batch_and_shown_to_both_parties(app: TestApp) {
    let (olivia, bob, _, event) = party(&app).await;
    let reply = app.post(
        &format!("/api/v1/events/{event}/invitations"),
        Some(&olivia.token),
        json!({"invitations": ["bob@example.com"], "message": " Rooftop at 8.\nBring snacks. "}),
    ).await;
    let id = reply.expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        reply.body["data"]["sent"][0]["message"],
        "Rooftop at 8.\nBring snacks."
    );
    for token in [&bob.token, &olivia.token] {
        let shown = app.get(&format!("/api/v1/invitations/{id}"), token).await;
        assert_eq!(
            shown.expect(200)["data"]["message"],
            "Rooftop at 8.\nBring snacks."
        );
    }
    let hidden = app
        .post(
            &format!("/api/v1/{event}/send-invitations"),
            Some(&olivia.token),
            json!({"invitations": ["bob@example.com"], "message": "hi\u{202E}there"}),
        )
        .await;
    assert_eq!(
        hidden.expect(422)["errors"]["message"][0],
        "The message must not contain control characters."
    );
}

async fn an_events_invitations_are_paged_for_its_owner_refused_to_members_and_hidden_from_strangers(
    app: TestApp,
) {
    let (olivia, bob, carol, event) = party(&app).await;
    let bobs = invite(&app, &olivia, &event, "bob@example.com").await;
    let path = format!("/api/v1/events/{event}/invitations");
    let all = app.collect(&path, &olivia.token, 1).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["id"], bobs.as_str());
    assert_eq!(all[1]["invitee"]["name"], "Carol");
    assert_eq!(all[1]["status"], "accepted");
    let pending = app
        .get(&format!("{path}?status=pending"), &olivia.token)
        .await;
    assert_eq!(
        ids(pending.expect(200)["data"].as_array().unwrap()),
        std::slice::from_ref(&bobs)
    );
    assert_eq!(
        app.get(&path, &carol.token).await.expect(403),
        &json!({"message": "Only the event's owner and co-hosts can list its invitations.", "code": "forbidden"})
    );
    assert_eq!(
        app.get(&path, &bob.token).await.expect(404)["code"],
        "not_found"
    );
}
