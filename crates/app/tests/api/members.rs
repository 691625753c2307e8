//! Roles, members, event edits and deletion (docs/api.md, "Roles and members"), and the races that
//! must not break `members_count` or leave invitations to a deleted event: each race runs 20
//! rounds, its two requests on two service instances over the one database, on SQLite and on
//! PostgreSQL.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{api_tests, spawn_on, Reply, TestApp, TestUser};

/// Olivia's event with Bob and Carol as members; Mallory is a stranger.
async fn party(app: &TestApp) -> (TestUser, TestUser, TestUser, TestUser, String) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let carol = app.register("Carol", Some("carol@example.com"), None).await;
    let mallory = app
        .register("Mallory", Some("mallory@example.com"), None)
        .await;
    let event = app.create_event(&olivia, "Launch").await;
    join(app, &olivia, &event, &bob, "bob@example.com").await;
    join(app, &olivia, &event, &carol, "carol@example.com").await;
    (olivia, bob, carol, mallory, event)
}

/// `sender` invites `contact` and its user accepts.
async fn join(app: &TestApp, sender: &TestUser, event: &str, user: &TestUser, contact: &str) {
    let id = invite(app, sender, event, contact).await;
    app.answer(user, &id, "accepted").await.expect(200);
}

/// `sender` invites `contact`; returns the invitation's id.
async fn invite(app: &TestApp, sender: &TestUser, event: &str, contact: &str) -> String {
    let reply = app.send(sender, event, json!([contact])).await;
    reply.expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not sent: {}", reply.text))
        .to_owned()
}

async fn set_role(
    app: &TestApp,
    by: &TestUser,
    event: &str,
    user: &TestUser,
    role: Value,
) -> Reply {
    let path = format!("/api/v1/events/{event}/members/{}", user.id);
    app.patch(&path, &by.token, json!({"role": role})).await
}

async fn remove(app: &TestApp, by: &TestUser, event: &str, user: &TestUser) -> Reply {
    let path = format!("/api/v1/events/{event}/members/{}", user.id);
    app.call(Method::DELETE, &path, Some(&by.token), None).await
}

/// The event's `members_count` and its member rows, counted in the database.
fn counts(app: &TestApp, event: &str) -> (String, String) {
    let counted = app.database.texts(&format!(
        "SELECT CAST(members_count AS TEXT) AS value FROM events WHERE id = '{event}'"
    ));
    let rows = app.database.texts(&format!(
        "SELECT CAST(COUNT(*) AS TEXT) AS value FROM event_members WHERE event_id = '{event}'"
    ));
    (counted[0].clone(), rows[0].clone())
}

/// Asserts that `members_count` equals the member rows, and that there are `expected`.
#[track_caller]
fn assert_counted(app: &TestApp, event: &str, expected: usize) {
    let expected = expected.to_string();
    assert_eq!(counts(app, event), (expected.clone(), expected));
}

/// Whether `user` is a member of the event, as stored.
fn is_member(app: &TestApp, event: &str, user: &TestUser) -> bool {
    let rows = app.database.texts(&format!(
        "SELECT CAST(user_id AS TEXT) AS value FROM event_members WHERE event_id = '{event}' AND user_id = '{}'",
        user.id
    ));
    !rows.is_empty()
}

/// A second service instance on the app's database (on PostgreSQL with its own pool: another
/// process as far as the database can tell), to send one of two racing requests through. Its
/// `database` is an unused placeholder: the app's own stays the one to look at.
async fn second(app: &TestApp) -> TestApp {
    TestApp {
        address: spawn_on(&app.database, &[]).await,
        client: app.client.clone(),
        database: adapters_diesel::testing::TestDatabase::sqlite(),
    }
}

async fn delete_event(app: &TestApp, by: &TestUser, event: &str) -> Reply {
    let path = format!("/api/v1/events/{event}");
    app.call(Method::DELETE, &path, Some(&by.token), None).await
}

/// How many rows of `table` refer to the event.
fn rows_of(app: &TestApp, table: &str, event: &str) -> String {
    let column = if table == "events" { "id" } else { "event_id" };
    app.database.texts(&format!(
        "SELECT CAST(COUNT(*) AS TEXT) AS value FROM {table} WHERE {column} = '{event}'"
    ))[0]
        .clone()
}

api_tests!(
    the_owner_deletes_an_event_and_its_invitations_stay_readable_as_cancelled,
    twenty_rounds_of_deleting_an_event_against_a_send_leave_no_open_invitation_behind,
    the_owner_makes_a_cohost_who_invites_edits_and_removes_members,
    role_changes_are_the_owners_and_never_of_the_owner,
    members_leave_cohosts_remove_members_only_and_the_owner_stays,
    a_removed_member_may_be_invited_again_but_not_after_rejecting,
    an_edit_changes_the_fields_sent_and_keeps_the_rest,
    twenty_rounds_of_removal_against_acceptance_keep_members_count,
    twenty_rounds_of_two_leaves_have_one_winner,
    twenty_rounds_of_leaving_against_a_role_change_leave_no_member_behind,
    a_demoted_cohost_can_no_longer_see_resend_cancel_or_list_what_they_sent
);

/// A sender's rights over an invitation last as long as their management role: once demoted,
/// what they sent is as unknown to them as to a stranger (404), while the owner still manages it.
async fn a_demoted_cohost_can_no_longer_see_resend_cancel_or_list_what_they_sent(app: TestApp) {
    let (olivia, bob, _, _, event) = party(&app).await;
    set_role(&app, &olivia, &event, &bob, json!("cohost"))
        .await
        .expect(200);
    let sent = invite(&app, &bob, &event, "mallory@example.com").await;
    let path = format!("/api/v1/invitations/{sent}");
    app.get(&path, &bob.token).await.expect(200);
    set_role(&app, &olivia, &event, &bob, json!("member"))
        .await
        .expect(200);
    app.get(&path, &bob.token).await.expect(404);
    let resend = app
        .post(&format!("{path}/resend"), Some(&bob.token), json!({}))
        .await;
    assert_eq!(resend.status, 404, "resend: {}", resend.text);
    let cancel = app
        .call(Method::DELETE, &path, Some(&bob.token), None)
        .await;
    assert_eq!(cancel.status, 404, "cancel: {}", cancel.text);
    let listed = app.get("/api/v1/sent-invitations", &bob.token).await;
    assert_eq!(listed.expect(200)["data"], json!([]));
    // Nor does he send any more (R1: a member, 403).
    app.send(&bob, &event, json!(["carol@example.com"]))
        .await
        .expect(403);
    // The owner still manages it.
    app.get(&path, &olivia.token).await.expect(200);
    let cancelled = app
        .call(Method::DELETE, &path, Some(&olivia.token), None)
        .await;
    assert!(cancelled.status.is_success(), "{}", cancelled.text);
    // Nor is he told what becomes of it: the cancel reaches the owner's feed, not his.
    let kinds = |feed: &Value| -> Vec<String> {
        feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let olivias = app.get("/api/v1/me/events?limit=100", &olivia.token).await;
    assert!(kinds(olivias.expect(200)).contains(&"invitation.cancelled".to_owned()));
    let bobs = app.get("/api/v1/me/events?limit=100", &bob.token).await;
    assert!(
        !kinds(bobs.expect(200)).contains(&"invitation.cancelled".to_owned()),
        "{}",
        bobs.text
    );
}

async fn the_owner_deletes_an_event_and_its_invitations_stay_readable_as_cancelled(app: TestApp) {
    let (olivia, bob, carol, mallory, event) = party(&app).await;
    set_role(&app, &olivia, &event, &bob, json!("cohost"))
        .await
        .expect(200);
    let pending = invite(&app, &bob, &event, "mallory@example.com").await;

    assert_eq!(
        delete_event(&app, &bob, &event).await.expect(403),
        &json!({"message": "Only the event's owner can delete it.", "code": "forbidden"})
    );
    delete_event(&app, &carol, &event).await.expect(403);
    delete_event(&app, &mallory, &event).await.expect(404);
    let deleted = delete_event(&app, &olivia, &event).await;
    assert_eq!((deleted.status.as_u16(), deleted.text.as_str()), (204, ""));

    for user in [&olivia, &bob, &carol] {
        app.get(&format!("/api/v1/events/{event}"), &user.token)
            .await
            .expect(404);
        assert_eq!(
            app.get("/api/v1/events", &user.token).await.expect(200)["data"],
            json!([])
        );
    }
    // The invitee's pending invitation was cancelled, and stays readable by its invitee and its
    // sender (a co-host when the event went), with the event marked deleted; the owner, who did
    // not send it, and the members no longer see it.
    for user in [&mallory, &bob] {
        let seen = app
            .get(&format!("/api/v1/invitations/{pending}"), &user.token)
            .await;
        let seen = &seen.expect(200)["data"];
        assert_eq!(seen["status"], "cancelled");
        assert_eq!(
            seen["event"],
            json!({"id": event, "title": "Launch", "deleted": true})
        );
    }
    for user in [&olivia, &carol] {
        app.get(&format!("/api/v1/invitations/{pending}"), &user.token)
            .await
            .expect(404);
    }
    let received = app
        .get("/api/v1/received-invitations", &mallory.token)
        .await;
    assert_eq!(received.expect(200)["data"][0]["id"], pending.as_str());
    assert_eq!(
        app.answer(&mallory, &pending, "accepted").await.expect(409)["code"],
        "invitation_cancelled"
    );
    // The event's row stays, without members; so do its invitations (Bob's and Carol's, which
    // they accepted, and Mallory's), until the retention purge.
    for (table, rows) in [
        ("events", "1"),
        ("event_members", "0"),
        ("invitations", "3"),
    ] {
        assert_eq!(rows_of(&app, table, &event), rows, "{table}");
    }
    delete_event(&app, &olivia, &event).await.expect(404);
    app.send(&olivia, &event, json!(["mallory@example.com"]))
        .await
        .expect(404);
}

async fn twenty_rounds_of_deleting_an_event_against_a_send_leave_no_open_invitation_behind(
    app: TestApp,
) {
    let other = second(&app).await;
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let (mut sent_first, mut deleted_first) = (0, 0);
    for round in 0..20 {
        let event = app.create_event(&olivia, &format!("Round {round}")).await;
        let (sent, deleted) = tokio::join!(
            other.send(&olivia, &event, json!(["bob@example.com"])),
            delete_event(&app, &olivia, &event)
        );
        assert_eq!(deleted.status, 204, "round {round}: {}", deleted.text);
        match sent.status.as_u16() {
            // The send came first, whole: its invitation was cancelled and went with the event.
            200 => {
                sent_first += 1;
                assert_eq!(
                    sent.body["data"]["sent"].as_array().unwrap().len(),
                    1,
                    "round {round}"
                );
                // Its invitation was cancelled with the event, and stays readable.
                let id = sent.body["data"]["sent"][0]["id"].as_str().unwrap();
                let seen = app
                    .get(&format!("/api/v1/invitations/{id}"), &bob.token)
                    .await;
                let seen = &seen.expect(200)["data"];
                assert_eq!(seen["status"], "cancelled", "round {round}");
                assert_eq!(seen["event"]["deleted"], true, "round {round}");
            }
            // The deletion came first: the send found no event.
            404 => {
                deleted_first += 1;
                assert_eq!(sent.body["message"], "Event not found.", "round {round}");
            }
            status => panic!("round {round}: {status} {}", sent.text),
        }
        assert_eq!(rows_of(&app, "event_members", &event), "0", "round {round}");
    }
    // Never an open invitation to a deleted event.
    let open = app
        .get("/api/v1/received-invitations?status=pending", &bob.token)
        .await;
    assert_eq!(open.expect(200)["data"], json!([]));
    eprintln!("deleting against a send: send first {sent_first}, deletion first {deleted_first}");
}

async fn the_owner_makes_a_cohost_who_invites_edits_and_removes_members(app: TestApp) {
    let (olivia, bob, carol, mallory, event) = party(&app).await;
    let reply = set_role(&app, &olivia, &event, &bob, json!("cohost")).await;
    let member = reply.expect(200)["data"].clone();
    assert_eq!(
        (&member["id"], &member["name"], &member["role"]),
        (&json!(bob.id), &json!("Bob"), &json!("cohost"))
    );
    assert!(member["joined_at"].is_string());
    let listed = app
        .get(&format!("/api/v1/events/{event}/members"), &carol.token)
        .await;
    let roles: Vec<_> = listed.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(roles, ["member", "cohost", "owner"]);

    // R1: the co-host sends invitations.
    let sent = app.send(&bob, &event, json!(["mallory@example.com"])).await;
    assert_eq!(
        sent.expect(200)["data"]["sent"][0]["sender"]["id"],
        bob.id.as_str()
    );
    // The co-host edits the event.
    let edited = app
        .patch(
            &format!("/api/v1/events/{event}"),
            &bob.token,
            json!({"location": "Roof"}),
        )
        .await;
    assert_eq!(edited.expect(200)["data"]["location"], "Roof");
    // The co-host removes a member, who no longer sees the event.
    assert_eq!(remove(&app, &bob, &event, &carol).await.status, 204);
    app.get(&format!("/api/v1/events/{event}"), &carol.token)
        .await
        .expect(404);
    assert_counted(&app, &event, 2);

    // Made a member again, Bob no longer sends.
    set_role(&app, &olivia, &event, &bob, json!("member"))
        .await
        .expect(200);
    assert_eq!(
        app.send(&bob, &event, json!(["carol@example.com"]))
            .await
            .expect(403)["message"],
        "Only the event's owner and co-hosts can send invitations."
    );
    let _ = mallory;
}

async fn role_changes_are_the_owners_and_never_of_the_owner(app: TestApp) {
    let (olivia, bob, carol, mallory, event) = party(&app).await;
    set_role(&app, &olivia, &event, &bob, json!("cohost"))
        .await
        .expect(200);
    assert_eq!(
        set_role(&app, &bob, &event, &carol, json!("cohost"))
            .await
            .expect(403),
        &json!({"message": "Only the event's owner can change roles.", "code": "forbidden"})
    );
    set_role(&app, &carol, &event, &carol, json!("cohost"))
        .await
        .expect(403);
    assert_eq!(
        set_role(&app, &mallory, &event, &carol, json!("cohost"))
            .await
            .expect(404)["message"],
        "Event not found."
    );
    assert_eq!(
        set_role(&app, &olivia, &event, &mallory, json!("cohost"))
            .await
            .expect(404),
        &json!({"message": "Member not found.", "code": "not_found"})
    );
    assert_eq!(
        set_role(&app, &olivia, &event, &olivia, json!("member"))
            .await
            .expect(422),
        &json!({"message": "The owner's role cannot be changed.", "errors": {"role": ["The owner's role cannot be changed."]}})
    );
    for bad in [json!("owner"), json!("admin"), json!(3)] {
        assert_eq!(
            set_role(&app, &olivia, &event, &carol, bad)
                .await
                .expect(422)["errors"]["role"][0],
            "The selected role is invalid."
        );
    }
    assert_eq!(
        set_role(&app, &olivia, &event, &carol, Value::Null)
            .await
            .expect(422)["errors"]["role"][0],
        "The role field is required."
    );
    let roles = app.database.texts(&format!(
        "SELECT role AS value FROM event_members WHERE event_id = '{event}' ORDER BY id"
    ));
    assert_eq!(roles, ["owner", "cohost", "member"]);
}

async fn members_leave_cohosts_remove_members_only_and_the_owner_stays(app: TestApp) {
    let (olivia, bob, carol, mallory, event) = party(&app).await;
    let dave = app.register("Dave", Some("dave@example.com"), None).await;
    join(&app, &olivia, &event, &dave, "dave@example.com").await;
    set_role(&app, &olivia, &event, &bob, json!("cohost"))
        .await
        .expect(200);
    set_role(&app, &olivia, &event, &dave, json!("cohost"))
        .await
        .expect(200);

    assert_eq!(
        remove(&app, &bob, &event, &dave).await.expect(403)["code"],
        "forbidden"
    );
    remove(&app, &bob, &event, &olivia).await.expect(403);
    remove(&app, &carol, &event, &bob).await.expect(403);
    remove(&app, &mallory, &event, &carol).await.expect(404);
    assert_eq!(
        remove(&app, &olivia, &event, &mallory).await.expect(404)["message"],
        "Member not found."
    );
    assert_eq!(
        remove(&app, &olivia, &event, &olivia).await.expect(422),
        &json!({"message": "The owner cannot leave the event.", "errors": {"user_id": ["The owner cannot leave the event."]}})
    );

    remove(&app, &carol, &event, &carol).await.expect(204);
    remove(&app, &olivia, &event, &dave).await.expect(204);
    remove(&app, &bob, &event, &bob).await.expect(204);
    remove(&app, &bob, &event, &bob).await.expect(404);
    assert_counted(&app, &event, 1);
    assert_eq!(
        app.get("/api/v1/events", &carol.token).await.expect(200)["data"],
        json!([])
    );
}

async fn a_removed_member_may_be_invited_again_but_not_after_rejecting(app: TestApp) {
    let (olivia, bob, carol, _, event) = party(&app).await;
    remove(&app, &olivia, &event, &bob).await.expect(204);
    remove(&app, &carol, &event, &carol).await.expect(204);
    let again = invite(&app, &olivia, &event, "bob@example.com").await;
    app.answer(&bob, &again, "rejected").await.expect(200);
    let refused = app
        .send(
            &olivia,
            &event,
            json!(["bob@example.com", "carol@example.com"]),
        )
        .await;
    let data = refused.expect(200)["data"].clone();
    assert_eq!(data["ignored"][0]["reason"], "rejected_last_invitation");
    assert_eq!(data["sent"][0]["invitee"]["id"], carol.id.as_str());
    let id = data["sent"][0]["id"].as_str().unwrap().to_owned();
    app.answer(&carol, &id, "accepted").await.expect(200);
    assert_counted(&app, &event, 2);
}

async fn an_edit_changes_the_fields_sent_and_keeps_the_rest(app: TestApp) {
    let (olivia, bob, _, mallory, _) = party(&app).await;
    let created = app
        .post(
            "/api/v1/events",
            Some(&olivia.token),
            json!({
                "title": "Launch", "description": "Bring snacks", "location": "Tehran",
                "starts_at": "2027-12-01T18:00:00Z", "ends_at": "2027-12-01T21:00:00Z"
            }),
        )
        .await;
    let event = created.expect(201)["data"].clone();
    let path = format!("/api/v1/events/{}", event["id"].as_str().unwrap());

    let edited = app.patch(&path, &olivia.token, json!({"title": "Launch (moved)", "location": null, "description": "", "ends_at": "2027-12-01T22:30:00+01:00"})).await;
    let edited = edited.expect(200)["data"].clone();
    let mut expected = event.clone();
    expected["title"] = json!("Launch (moved)");
    expected["location"] = Value::Null;
    expected["description"] = Value::Null;
    expected["ends_at"] = json!("2027-12-01T21:30:00Z");
    assert_eq!(edited, expected);
    assert_eq!(
        app.get(&path, &olivia.token).await.expect(200)["data"],
        expected
    );
    assert_eq!(
        app.patch(&path, &olivia.token, json!({})).await.expect(200)["data"],
        expected
    );

    // Checked on the result: a start after the stored end.
    let late = app
        .patch(
            &path,
            &olivia.token,
            json!({"starts_at": "2027-12-01T22:00:00Z"}),
        )
        .await;
    assert_eq!(
        late.expect(422)["errors"]["ends_at"][0],
        "The ends at must be a date after or equal to starts at."
    );
    let moved = app
        .patch(
            &path,
            &olivia.token,
            json!({"starts_at": "2027-12-01T22:00:00Z", "ends_at": null}),
        )
        .await;
    assert_eq!(
        moved.expect(200)["data"]["starts_at"],
        "2027-12-01T22:00:00Z"
    );

    assert_eq!(
        app.patch(&path, &olivia.token, json!({"title": null}))
            .await
            .expect(422)["errors"]["title"][0],
        "The title field is required."
    );
    app.patch(&path, &mallory.token, json!({"title": "Mine"}))
        .await
        .expect(404);
    let id = event["id"].as_str().unwrap();
    join(&app, &olivia, id, &bob, "bob@example.com").await;
    assert_eq!(
        app.patch(&path, &bob.token, json!({"title": "Mine"}))
            .await
            .expect(403)["message"],
        "Only the event's owner and co-hosts can edit it."
    );
}

async fn twenty_rounds_of_removal_against_acceptance_keep_members_count(app: TestApp) {
    let other = second(&app).await;
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let (mut removed, mut refused) = (0, 0);
    for round in 0..20 {
        let event = app.create_event(&olivia, &format!("Round {round}")).await;
        let id = invite(&app, &olivia, &event, "bob@example.com").await;
        // Bob accepts while the owner removes him.
        let (accepted, removal) = tokio::join!(
            app.answer(&bob, &id, "accepted"),
            remove(&other, &olivia, &event, &bob)
        );
        assert_eq!(accepted.status, 200, "round {round}: {}", accepted.text);
        match removal.status.as_u16() {
            // The acceptance came first: he joined, then was removed.
            204 => {
                removed += 1;
                assert!(!is_member(&app, &event, &bob), "round {round}")
            }
            // The removal came first and found no member; the acceptance made him one.
            404 => {
                refused += 1;
                assert!(is_member(&app, &event, &bob), "round {round}")
            }
            other => panic!("round {round}: {other} {}", removal.text),
        }
        let members = if is_member(&app, &event, &bob) { 2 } else { 1 };
        assert_counted(&app, &event, members);
    }
    eprintln!(
        "removal against acceptance: {removed} removals after the acceptance, {refused} before it"
    );
}

async fn twenty_rounds_of_two_leaves_have_one_winner(app: TestApp) {
    let other = second(&app).await;
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    for round in 0..20 {
        let event = app.create_event(&olivia, &format!("Round {round}")).await;
        join(&app, &olivia, &event, &bob, "bob@example.com").await;
        let (first, second) = tokio::join!(
            remove(&app, &bob, &event, &bob),
            remove(&other, &bob, &event, &bob)
        );
        let mut statuses = [first.status.as_u16(), second.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [204, 404],
            "round {round}: {} / {}",
            first.text,
            second.text
        );
        assert!(!is_member(&app, &event, &bob));
        assert_counted(&app, &event, 1);
    }
}

async fn twenty_rounds_of_leaving_against_a_role_change_leave_no_member_behind(app: TestApp) {
    let other = second(&app).await;
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let (mut promoted_first, mut left_first) = (0, 0);
    for round in 0..20 {
        let event = app.create_event(&olivia, &format!("Round {round}")).await;
        join(&app, &olivia, &event, &bob, "bob@example.com").await;
        // Bob leaves while the owner makes him co-host: whatever the order, he is gone after.
        let (leave, promote) = tokio::join!(
            remove(&app, &bob, &event, &bob),
            set_role(&other, &olivia, &event, &bob, json!("cohost"))
        );
        assert_eq!(leave.status, 204, "round {round}: {}", leave.text);
        match promote.status.as_u16() {
            200 => promoted_first += 1,
            404 => left_first += 1,
            other => panic!("round {round}: {other} {}", promote.text),
        }
        assert!(!is_member(&app, &event, &bob), "round {round}");
        assert_counted(&app, &event, 1);
    }
    eprintln!(
        "leaving against a role change: promoted first {promoted_first}, left first {left_first}"
    );
}
