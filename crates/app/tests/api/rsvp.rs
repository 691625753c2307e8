//! RSVP end to end through the running service (docs/api.md, "Capacity and the waitlist" and
//! "Answering: maybe, guests and comments"), on SQLite and PostgreSQL: settings and their
//! refusals, maybe/declined/guests/comments, the waitlist and its promotion as the feed tells it,
//! deadlines, `expires_in`; and the races, each 20 rounds on two service instances over one
//! database: 50 invitees accepting a 10-seat event, and freed seats against new accepts and a
//! growing party.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{api_tests, client, spawn_on, Reply, ServerProcess, TestApp, TestUser};

const ROUNDS: usize = 20;

api_tests!(
    an_event_takes_rsvp_settings_and_only_its_hosts_see_the_tally,
    answers_are_maybe_yes_or_no_with_guests_and_a_comment,
    a_capacity_two_event_waitlists_and_promotes_as_the_feed_tells,
    a_full_event_without_a_waitlist_and_closed_answers_are_409s,
    a_batch_expires_in_its_own_time_and_never_after_the_deadline,
    twenty_rounds_of_fifty_invitees_accepting_ten_seats_on_two_instances,
    twenty_rounds_of_freed_seats_against_accepts_never_exceed_the_capacity,
);

async fn create(app: &TestApp, owner: &TestUser, body: Value) -> Reply {
    app.post("/api/v1/events", Some(&owner.token), body).await
}

/// `sender` invites `contacts`; the invitations' ids, in order.
async fn invite(app: &TestApp, sender: &TestUser, event: &str, contacts: Value) -> Vec<String> {
    let reply = app.send(sender, event, contacts).await;
    let sent = reply.expect(200)["data"]["sent"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        reply.body["data"]["ignored"].as_array().unwrap().is_empty(),
        "{}",
        reply.text
    );
    sent.iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn reply(app: &TestApp, user: &TestUser, id: &str, body: Value) -> Reply {
    app.patch(&format!("/api/v1/invitations/{id}"), &user.token, body)
        .await
}

async fn event(app: &TestApp, user: &TestUser, id: &str) -> Value {
    app.get(&format!("/api/v1/events/{id}"), &user.token)
        .await
        .expect(200)["data"]
        .clone()
}

async fn invitation(app: &TestApp, user: &TestUser, id: &str) -> Value {
    app.get(&format!("/api/v1/invitations/{id}"), &user.token)
        .await
        .expect(200)["data"]
        .clone()
}

async fn people(app: &TestApp, names: &[&str]) -> Vec<TestUser> {
    let mut people = Vec::new();
    for name in names {
        let email = format!("{}@example.com", name.to_lowercase());
        people.push(app.register(name, Some(&email), None).await);
    }
    people
}

fn emails(names: &[&str]) -> Value {
    json!(names
        .iter()
        .map(|n| format!("{}@example.com", n.to_lowercase()))
        .collect::<Vec<_>>())
}

async fn an_event_takes_rsvp_settings_and_only_its_hosts_see_the_tally(app: TestApp) {
    let p = people(&app, &["Olivia", "Sara"]).await;
    let (olivia, sara) = (&p[0], &p[1]);
    for (body, field) in [
        (json!({"title": "T", "capacity": 0}), "capacity"),
        (json!({"title": "T", "capacity": 100_001}), "capacity"),
        (json!({"title": "T", "capacity": "ten"}), "capacity"),
        (json!({"title": "T", "max_guests": 11}), "max_guests"),
        (json!({"title": "T", "max_guests": -1}), "max_guests"),
        (json!({"title": "T", "waitlist": "yes"}), "waitlist"),
        (
            json!({"title": "T", "starts_at": "2027-01-10T18:00:00Z", "rsvp_deadline": "2027-01-11T00:00:00Z"}),
            "rsvp_deadline",
        ),
    ] {
        let refused = create(&app, olivia, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.text);
        assert!(
            refused.body["errors"][field].is_array(),
            "{body}: {}",
            refused.text
        );
    }
    let created = create(
        &app,
        olivia,
        json!({"title": "Supper", "capacity": 40, "max_guests": 2, "waitlist": false,
               "starts_at": "2027-01-10T18:00:00Z", "rsvp_deadline": "2027-01-09T18:00:00Z"}),
    )
    .await;
    let data = created.expect(201)["data"].clone();
    assert_eq!(
        (&data["capacity"], &data["max_guests"], &data["waitlist"]),
        (&json!(40), &json!(2), &json!(false))
    );
    assert_eq!(data["rsvp_deadline"], "2027-01-09T18:00:00Z");
    assert_eq!(
        (&data["seats_taken"], &data["seats_remaining"]),
        (&json!(0), &json!(40))
    );
    let id = data["id"].as_str().unwrap().to_owned();

    let sent = invite(&app, olivia, &id, emails(&["Sara"])).await;
    reply(
        &app,
        sara,
        &sent[0],
        json!({"status": "accepted", "guests": 2}),
    )
    .await
    .expect(200);
    let host = event(&app, olivia, &id).await;
    assert_eq!(
        (&host["seats_taken"], &host["seats_remaining"]),
        (&json!(3), &json!(37))
    );
    assert_eq!(host["counts"]["accepted"], 1);
    let member = event(&app, sara, &id).await;
    for hidden in ["seats_taken", "seats_remaining", "waitlist_count", "counts"] {
        assert!(member.get(hidden).is_none(), "{hidden} shown to a member");
    }
    assert_eq!(member["capacity"], 40, "the settings are every member's");
    let listed = app.get("/api/v1/events", &sara.token).await;
    assert!(listed.expect(200)["data"][0].get("counts").is_none());
    let listed = app.get("/api/v1/events", &olivia.token).await;
    assert_eq!(listed.expect(200)["data"][0]["seats_taken"], 3);

    // Edits: unlimited again, and never below the seats taken.
    let path = format!("/api/v1/events/{id}");
    let lower = app
        .patch(&path, &olivia.token, json!({"capacity": 2}))
        .await;
    assert_eq!(lower.status, 409, "{}", lower.text);
    assert_eq!(lower.body["code"], "capacity_below_seats_taken");
    let unlimited = app
        .patch(&path, &olivia.token, json!({"capacity": null}))
        .await;
    assert_eq!(
        unlimited.expect(200)["data"]["seats_remaining"],
        json!(null)
    );
    let late = app
        .patch(
            &path,
            &olivia.token,
            json!({"rsvp_deadline": "2027-02-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(late.status, 422, "{}", late.text);
}

async fn answers_are_maybe_yes_or_no_with_guests_and_a_comment(app: TestApp) {
    let p = people(&app, &["Olivia", "Sara", "Reza"]).await;
    let (olivia, sara, reza) = (&p[0], &p[1], &p[2]);
    let id = create(&app, olivia, json!({"title": "Supper", "max_guests": 1}))
        .await
        .expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = invite(&app, olivia, &id, emails(&["Sara", "Reza"])).await;
    let maybe = reply(
        &app,
        sara,
        &sent[0],
        json!({"status": "tentative", "guests": 1, "comment": "If I can find a sitter."}),
    )
    .await;
    let data = maybe.expect(200)["data"].clone();
    assert_eq!(
        (&data["status"], &data["guests"]),
        (&json!("tentative"), &json!(1))
    );
    assert_eq!(data["comment"], "If I can find a sitter.");
    assert_eq!(event(&app, olivia, &id).await["counts"]["tentative"], 1);
    let too_many = reply(
        &app,
        sara,
        &sent[0],
        json!({"status": "accepted", "guests": 2}),
    )
    .await;
    assert_eq!(too_many.status, 422, "{}", too_many.text);
    assert_eq!(
        too_many.body["errors"]["guests"][0],
        "This event allows at most 1 guest."
    );
    // Each answer is given whole: its guests and comment replace the earlier ones.
    let yes = reply(
        &app,
        sara,
        &sent[0],
        json!({"status": "accepted", "guests": 1, "comment": "Found one!"}),
    )
    .await;
    assert_eq!(yes.expect(200)["data"]["status"], "accepted");
    // The host sees the comment; the member list shows the party.
    let seen = invitation(&app, olivia, &sent[0]).await;
    assert_eq!(seen["comment"], "Found one!");
    let members = app
        .get(&format!("/api/v1/events/{id}/members"), &olivia.token)
        .await;
    assert_eq!(members.expect(200)["data"][0]["guests"], 1);

    let no = reply(
        &app,
        reza,
        &sent[1],
        json!({"status": "declined", "comment": "Away."}),
    )
    .await;
    let data = no.expect(200)["data"].clone();
    assert_eq!(
        (&data["status"], &data["comment"]),
        (&json!("rejected"), &json!("Away."))
    );
    let again = reply(&app, reza, &sent[1], json!({"status": "accepted"})).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["code"], "invitation_already_answered");
    for bad in [
        json!({"status": "maybe"}),
        json!({"status": "waitlisted"}),
        json!({"status": "accepted", "guests": 1.5}),
        json!({"status": "accepted", "comment": "x".repeat(501)}),
    ] {
        assert_eq!(
            reply(&app, reza, &sent[1], bad.clone()).await.status,
            422,
            "{bad}"
        );
    }
}

async fn a_capacity_two_event_waitlists_and_promotes_as_the_feed_tells(app: TestApp) {
    let p = people(&app, &["Olivia", "Sara", "Reza", "Nima"]).await;
    let (olivia, sara, reza, nima) = (&p[0], &p[1], &p[2], &p[3]);
    let id = create(
        &app,
        olivia,
        json!({"title": "Supper", "capacity": 2, "max_guests": 1}),
    )
    .await
    .expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = invite(&app, olivia, &id, emails(&["Sara", "Reza", "Nima"])).await;
    let seated = reply(
        &app,
        sara,
        &sent[0],
        json!({"status": "accepted", "guests": 1}),
    )
    .await;
    assert_eq!(seated.expect(200)["data"]["status"], "accepted");
    let waiting = reply(&app, reza, &sent[1], json!({"status": "accepted"})).await;
    let data = waiting.expect(200)["data"].clone();
    assert_eq!(
        (&data["status"], &data["waitlist_position"]),
        (&json!("waitlisted"), &json!(1))
    );
    let second = reply(
        &app,
        nima,
        &sent[2],
        json!({"status": "accepted", "guests": 1}),
    )
    .await;
    assert_eq!(second.expect(200)["data"]["waitlist_position"], 2);
    let host = event(&app, olivia, &id).await;
    assert_eq!(
        (
            &host["seats_taken"],
            &host["seats_remaining"],
            &host["waitlist_count"]
        ),
        (&json!(2), &json!(0), &json!(2))
    );
    // A waitlisted invitee is not a member, and may only withdraw.
    assert_eq!(
        app.get(&format!("/api/v1/events/{id}"), &reza.token)
            .await
            .status,
        404
    );
    let maybe = reply(&app, reza, &sent[1], json!({"status": "tentative"})).await;
    assert_eq!(maybe.status, 409);

    // Sara comes alone: one seat frees, Reza (a party of one, first in line) is promoted; Nima's
    // party of two keeps its place.
    let path = format!("/api/v1/events/{id}/members/me");
    let party = app.patch(&path, &sara.token, json!({"guests": 0})).await;
    assert_eq!(party.expect(200)["data"]["guests"], 0);
    // The hosts' feed tells of the smaller party, then of the promotion it made.
    let feed = app.get("/api/v1/me/events", &olivia.token).await;
    let kinds: Vec<String> = feed.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap().to_owned())
        .collect();
    let changed = kinds
        .iter()
        .position(|k| k == "member.party_changed")
        .unwrap();
    let promoted = kinds
        .iter()
        .rposition(|k| k == "invitation.accepted")
        .unwrap();
    assert!(changed < promoted, "{kinds:?}");
    assert_eq!(invitation(&app, reza, &sent[1]).await["status"], "accepted");
    let nimas = invitation(&app, nima, &sent[2]).await;
    assert_eq!(
        (&nimas["status"], &nimas["waitlist_position"]),
        (&json!("waitlisted"), &json!(1))
    );
    assert_eq!(event(&app, reza, &id).await["members_count"], 3);
    // Reza's feed says he was promoted.
    let feed = app.get("/api/v1/me/events", &reza.token).await;
    let changes = feed.expect(200)["data"].as_array().unwrap().clone();
    let promoted = changes
        .iter()
        .find(|c| c["type"] == "invitation.accepted")
        .unwrap_or_else(|| panic!("{changes:?}"));
    assert_eq!(promoted["promoted"], true);
    let waitlisted = changes
        .iter()
        .find(|c| c["type"] == "invitation.waitlisted")
        .unwrap();
    assert_eq!(waitlisted["data"]["status"], "waitlisted");
    // Sara's own acceptance was no promotion.
    let feed = app.get("/api/v1/me/events", &sara.token).await;
    let hers = feed.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "invitation.accepted")
        .unwrap()
        .clone();
    assert_eq!(hers["promoted"], false);

    // Growing past the seats left is refused; the owner has no party.
    let grow = app.patch(&path, &sara.token, json!({"guests": 1})).await;
    assert_eq!(
        (grow.status.as_u16(), grow.body["code"].clone()),
        (409, json!("event_full"))
    );
    assert_eq!(
        app.patch(&path, &olivia.token, json!({"guests": 1}))
            .await
            .status,
        403
    );
    assert_eq!(app.patch(&path, &sara.token, json!({})).await.status, 422);
    // Reza leaves: Nima's party of two now fits.
    let leave = format!("/api/v1/events/{id}/members/{}", reza.id);
    let left = app
        .call(Method::DELETE, &leave, Some(&reza.token), None)
        .await;
    assert_eq!(left.status, 204, "{}", left.text);
    assert_eq!(
        invitation(&app, nima, &sent[2]).await["status"],
        "waitlisted"
    );
    app.patch(&path, &sara.token, json!({"guests": 0}))
        .await
        .expect(200);
    let sara_leaves = format!("/api/v1/events/{id}/members/{}", sara.id);
    app.call(Method::DELETE, &sara_leaves, Some(&sara.token), None)
        .await;
    assert_eq!(invitation(&app, nima, &sent[2]).await["status"], "accepted");
    assert_eq!(event(&app, olivia, &id).await["seats_taken"], 2);
}

async fn a_full_event_without_a_waitlist_and_closed_answers_are_409s(app: TestApp) {
    let p = people(&app, &["Olivia", "Sara", "Reza"]).await;
    let (olivia, sara, reza) = (&p[0], &p[1], &p[2]);
    let id = create(
        &app,
        olivia,
        json!({"title": "Tiny", "capacity": 1, "waitlist": false}),
    )
    .await
    .expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = invite(&app, olivia, &id, emails(&["Sara", "Reza"])).await;
    reply(&app, sara, &sent[0], json!({"status": "accepted"}))
        .await
        .expect(200);
    let full = reply(&app, reza, &sent[1], json!({"status": "accepted"})).await;
    assert_eq!(
        (full.status.as_u16(), full.body["code"].clone()),
        (409, json!("event_full"))
    );
    assert_eq!(invitation(&app, reza, &sent[1]).await["status"], "pending");

    // An event that started: no answers, no sends.
    let past = create(
        &app,
        olivia,
        json!({"title": "Yesterday", "starts_at": "2020-01-01T00:00:00Z"}),
    )
    .await
    .expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let closed = app.send(olivia, &past, emails(&["Sara"])).await;
    assert_eq!(
        (closed.status.as_u16(), closed.body["code"].clone()),
        (409, json!("rsvp_closed"))
    );
    assert_eq!(
        closed.body["message"],
        "Answers to this event closed at 2020-01-01T00:00:00Z."
    );
    // Moving the start into the past after a send closes answers to what was sent.
    let open = create(&app, olivia, json!({"title": "Soon"}))
        .await
        .expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = invite(&app, olivia, &open, emails(&["Reza"])).await;
    app.patch(
        &format!("/api/v1/events/{open}"),
        &olivia.token,
        json!({"starts_at": "2020-01-01T00:00:00Z"}),
    )
    .await
    .expect(200);
    let late = reply(&app, reza, &sent[0], json!({"status": "accepted"})).await;
    assert_eq!(
        (late.status.as_u16(), late.body["code"].clone()),
        (409, json!("rsvp_closed"))
    );
    let seen = invitation(&app, olivia, &sent[0]).await;
    assert_eq!(seen["expires_at"], "2020-01-01T00:00:00Z");
}

async fn a_batch_expires_in_its_own_time_and_never_after_the_deadline(app: TestApp) {
    let p = people(&app, &["Olivia", "Sara"]).await;
    let olivia = &p[0];
    let id = create(&app, olivia, json!({"title": "Supper"}))
        .await
        .expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/{id}/send-invitations");
    // A last character of two bytes ("\u{80}") once split the string inside it and dropped the
    // connection.
    for bad in [
        "30m", "31d", "90s", "0", "1w", "soon", "\u{80}", "7\u{80}", "7روز",
    ] {
        let refused = app
            .post(
                &path,
                Some(&olivia.token),
                json!({"invitations": ["sara@example.com"], "expires_in": bad}),
            )
            .await;
        assert_eq!(refused.status, 422, "{bad}: {}", refused.text);
        assert!(refused.body["errors"]["expires_in"].is_array());
    }
    let sent = app
        .post(
            &path,
            Some(&olivia.token),
            json!({"invitations": ["sara@example.com"], "expires_in": "2h"}),
        )
        .await;
    let data = sent.expect(200)["data"]["sent"][0].clone();
    let created =
        chrono::DateTime::parse_from_rfc3339(data["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(data["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::hours(2));
}

/// Another service instance on the same database (`database` is a placeholder: the app's own stays
/// the one to look at).
async fn second(app: &TestApp) -> TestApp {
    TestApp {
        address: spawn_on(&app.database, &[]).await,
        client: app.client.clone(),
        database: adapters_diesel::testing::TestDatabase::sqlite(),
    }
}

/// The event's seats as stored, and as counted from its member rows.
fn seats(app: &TestApp, event: &str) -> (String, String) {
    let stored = app.database.texts(&format!(
        "SELECT CAST(seats_taken AS TEXT) AS value FROM events WHERE id = '{event}'"
    ));
    let counted = app.database.texts(&format!(
        "SELECT CAST(COALESCE(SUM(1 + guests), 0) AS TEXT) AS value FROM event_members \
         WHERE event_id = '{event}' AND role <> 'owner'"
    ));
    (stored[0].clone(), counted[0].clone())
}

async fn twenty_rounds_of_fifty_invitees_accepting_ten_seats_on_two_instances(app: TestApp) {
    let other = second(&app).await;
    fifty_accept_ten_seats(&app, &other).await;
}

/// The same race through two server processes (the binary, twice) on one PostgreSQL database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_rounds_of_fifty_invitees_accepting_ten_seats_through_two_processes_on_postgres() {
    let Some(database) = adapters_diesel::testing::TestDatabase::postgres() else {
        return;
    };
    let servers = [
        ServerProcess::start(database.url(), &[]).await,
        ServerProcess::start(database.url(), &[]).await,
    ];
    let other = TestApp {
        address: servers[1].address.clone(),
        client: client(),
        database: adapters_diesel::testing::TestDatabase::sqlite(),
    };
    let app = TestApp {
        address: servers[0].address.clone(),
        client: client(),
        database,
    };
    fifty_accept_ten_seats(&app, &other).await;
}

/// 20 rounds: 50 invitees accept a 10-seat event at once, half through `app`, half through
/// `other`: exactly 10 seated, 40 waitlisted, and the seats counted are the seats taken.
async fn fifty_accept_ten_seats(app: &TestApp, other: &TestApp) {
    let names: Vec<String> = (0..50).map(|i| format!("Guest{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let guests = people(app, &refs).await;
    for round in 0..ROUNDS {
        let id = create(
            app,
            &olivia,
            json!({"title": format!("Round {round}"), "capacity": 10}),
        )
        .await
        .expect(201)["data"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let sent = invite(app, &olivia, &id, emails(&refs)).await;
        let answers = guests
            .iter()
            .zip(&sent)
            .enumerate()
            .map(|(i, (guest, invitation))| {
                let on = if i % 2 == 0 { app } else { other };
                reply(on, guest, invitation, json!({"status": "accepted"}))
            });
        let replies = futures_util::future::join_all(answers).await;
        let mut statuses: Vec<String> = replies
            .iter()
            .map(|r| r.expect(200)["data"]["status"].as_str().unwrap().to_owned())
            .collect();
        statuses.sort();
        let accepted = statuses.iter().filter(|s| *s == "accepted").count();
        assert_eq!(
            (accepted, statuses.len() - accepted),
            (10, 40),
            "round {round}"
        );
        let host = event(app, &olivia, &id).await;
        assert_eq!(
            (
                &host["seats_taken"],
                &host["members_count"],
                &host["waitlist_count"]
            ),
            (&json!(10), &json!(11), &json!(40)),
            "round {round}"
        );
        assert_eq!(seats(app, &id), ("10".into(), "10".into()), "round {round}");
    }
}

async fn twenty_rounds_of_freed_seats_against_accepts_never_exceed_the_capacity(app: TestApp) {
    let other = second(&app).await;
    let p = people(&app, &["Olivia", "Ann", "Dan", "Bea", "Cy", "Eve"]).await;
    let (olivia, ann, dan, bea, cy, eve) = (&p[0], &p[1], &p[2], &p[3], &p[4], &p[5]);
    for round in 0..ROUNDS {
        let id = create(
            &app,
            olivia,
            json!({"title": format!("Round {round}"), "capacity": 3, "max_guests": 1}),
        )
        .await
        .expect(201)["data"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let sent = invite(
            &app,
            olivia,
            &id,
            emails(&["Ann", "Dan", "Bea", "Cy", "Eve"]),
        )
        .await;
        reply(
            &app,
            ann,
            &sent[0],
            json!({"status": "accepted", "guests": 1}),
        )
        .await
        .expect(200);
        reply(&app, dan, &sent[1], json!({"status": "accepted"}))
            .await
            .expect(200);
        let waiting = reply(&app, bea, &sent[2], json!({"status": "accepted"})).await;
        assert_eq!(waiting.expect(200)["data"]["status"], "waitlisted");
        // At once, on two instances: Ann leaves (Bea is promoted), Cy and Eve accept with a guest,
        // Dan brings a guest.
        let (a, b) = if round % 2 == 0 {
            (&app, &other)
        } else {
            (&other, &app)
        };
        let leave = format!("/api/v1/events/{id}/members/{}", ann.id);
        let party = format!("/api/v1/events/{id}/members/me");
        let (left, cy_says, eve_says, grown) = tokio::join!(
            a.call(Method::DELETE, &leave, Some(&ann.token), None),
            reply(b, cy, &sent[3], json!({"status": "accepted", "guests": 1})),
            reply(a, eve, &sent[4], json!({"status": "accepted", "guests": 1})),
            b.patch(&party, &dan.token, json!({"guests": 1})),
        );
        assert_eq!(left.status, 204, "round {round}: {}", left.text);
        cy_says.expect(200);
        eve_says.expect(200);
        assert!(
            grown.status == 200 || (grown.status == 409 && grown.body["code"] == "event_full"),
            "round {round}: {}",
            grown.text
        );
        let (stored, counted) = seats(&app, &id);
        assert_eq!(stored, counted, "round {round}");
        let taken: u32 = stored.parse().unwrap();
        assert!(taken <= 3, "round {round}: {taken} of 3");
        assert_eq!(
            invitation(&app, bea, &sent[2]).await["status"],
            "accepted",
            "round {round}"
        );
        for (who, invitation_id) in [(cy, &sent[3]), (eve, &sent[4])] {
            let seen = invitation(&app, who, invitation_id).await;
            if seen["status"] == "waitlisted" {
                assert!(
                    2 > 3 - taken,
                    "round {round}: a party of two that fits waits"
                );
            }
        }
    }
}

/// A promotion reaches an invitee invited by mobile number as a text, through the Kannel gateway
/// to its fake SMSC (docs/api.md, "Text messages to invitees").
async fn a_promoted_invitee_reached_by_mobile_gets_a_text(backend: adapters_diesel::Backend) {
    let Some(kannel) = adapters_outbound::testing::Kannel::start() else {
        return;
    };
    let Some(database) = adapters_diesel::testing::TestDatabase::new(backend) else {
        return;
    };
    let url = kannel.sms_url(kannel.var("KANNEL_PASSWORD"));
    let app = TestApp {
        address: spawn_on(&database, &[("SMS_URL", &url)]).await,
        client: client(),
        database,
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let sara = app.register("Sara", Some("sara@example.com"), None).await;
    let reza = app.register("Reza", None, Some("09352864812")).await;
    let id = create(&app, &olivia, json!({"title": "Supper", "capacity": 1}))
        .await
        .expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = invite(
        &app,
        &olivia,
        &id,
        json!(["sara@example.com", "09352864812"]),
    )
    .await;
    reply(&app, &sara, &sent[0], json!({"status": "accepted"}))
        .await
        .expect(200);
    let waiting = reply(&app, &reza, &sent[1], json!({"status": "accepted"})).await;
    assert_eq!(waiting.expect(200)["data"]["status"], "waitlisted");
    let leave = format!("/api/v1/events/{id}/members/{}", sara.id);
    assert_eq!(
        app.call(Method::DELETE, &leave, Some(&sara.token), None)
            .await
            .status,
        204
    );
    let started = std::time::Instant::now();
    loop {
        let log = kannel.smsc_log();
        if log
            .lines()
            .any(|line| line.contains("Got message") && line.contains("a seat opened up"))
        {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no text of the promotion at the SMSC: {log}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        invitation(&app, &reza, &sent[1]).await["status"],
        "accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_promoted_invitee_reached_by_mobile_gets_a_text() {
    a_promoted_invitee_reached_by_mobile_gets_a_text(adapters_diesel::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_promoted_invitee_reached_by_mobile_gets_a_text() {
    a_promoted_invitee_reached_by_mobile_gets_a_text(adapters_diesel::Backend::Postgres).await;
}
