//! Reminders through the binary (docs/api.md, "Reminders"): rules set, read, replaced and refused
//! on SQLite and PostgreSQL; and two processes on one PostgreSQL sending each reminder exactly
//! once, on time within the sweep interval.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;
use chrono::{SubsecRound, Utc};
use serde_json::{json, Value};

use crate::helpers::{api_tests, client, ServerProcess, TestApp, TestUser};

api_tests!(an_events_reminders_are_set_read_replaced_and_checked);

async fn an_events_reminders_are_set_read_replaced_and_checked(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let made = app
        .post(
            "/api/v1/events",
            Some(&ann.token),
            json!({
                "title": "Launch",
                "starts_at": "2030-01-01T18:00:00Z",
                "reminders": [
                    {"before": "24h", "to": "accepted"},
                    {"before": "90m", "to": "pending"}
                ]
            }),
        )
        .await;
    let event = &made.expect(201)["data"];
    // `before` reads in its largest whole unit.
    assert_eq!(
        event["reminders"],
        json!([{"before": "1d", "to": "accepted"}, {"before": "90m", "to": "pending"}])
    );
    let path = format!("/api/v1/events/{}", event["id"].as_str().unwrap());
    assert_eq!(
        app.get(&path, &ann.token).await.expect(200)["data"]["reminders"],
        event["reminders"]
    );
    let plain = app.create_event(&ann, "Plain").await;
    let plain = app
        .get(&format!("/api/v1/events/{plain}"), &ann.token)
        .await;
    assert_eq!(plain.expect(200)["data"]["reminders"], json!([]));

    // An edit replaces them; one without them keeps them; `[]` or `null` removes them.
    let replaced = app
        .patch(
            &path,
            &ann.token,
            json!({"reminders": [{"before": "2d", "to": "tentative"}]}),
        )
        .await;
    assert_eq!(
        replaced.expect(200)["data"]["reminders"],
        json!([{"before": "2d", "to": "tentative"}])
    );
    let kept = app
        .patch(&path, &ann.token, json!({"title": "Launch!"}))
        .await;
    assert_eq!(
        kept.expect(200)["data"]["reminders"],
        json!([{"before": "2d", "to": "tentative"}])
    );
    for none in [json!([]), Value::Null] {
        let removed = app
            .patch(&path, &ann.token, json!({"reminders": none}))
            .await;
        assert_eq!(removed.expect(200)["data"]["reminders"], json!([]));
    }

    let six: Vec<Value> = ["5m", "1h", "2h", "3h", "1d", "2d"]
        .iter()
        .map(|before| json!({"before": before, "to": "accepted"}))
        .collect();
    for (bad, message) in [
        (json!(six), "An event has at most 5 reminders."),
        (
            json!([{"before": "4m", "to": "accepted"}]),
            "Reminder 1: before must be a whole number of minutes (m), hours (h) or days (d), \
             from 5m to 30d.",
        ),
        (
            json!([{"before": "1h", "to": "accepted"}, {"before": "31d", "to": "pending"}]),
            "Reminder 2: before must be a whole number of minutes (m), hours (h) or days (d), \
             from 5m to 30d.",
        ),
        (
            json!([{"before": "1h", "to": "everyone"}]),
            "Reminder 1: to must be accepted, tentative or pending.",
        ),
        (
            json!([{"before": 60, "to": "accepted"}]),
            "Reminder 1 must be an object with the strings before and to.",
        ),
        (
            json!([{"before": "24h", "to": "pending"}, {"before": "1d", "to": "pending"}]),
            "The same reminder is given twice.",
        ),
        (
            json!("1h"),
            "The reminders must be a list of {before, to} objects.",
        ),
    ] {
        let refused = app
            .post(
                "/api/v1/events",
                Some(&ann.token),
                json!({"title": "Bad", "reminders": bad}),
            )
            .await;
        assert_eq!(
            refused.expect(422)["errors"]["reminders"][0],
            message,
            "{bad}"
        );
        let refused = app
            .patch(&path, &ann.token, json!({"reminders": bad}))
            .await;
        assert_eq!(
            refused.expect(422)["errors"]["reminders"][0],
            message,
            "{bad}"
        );
    }
}

/// How long a sweep may come after a reminder's time: the interval (1 s here), and a margin for
/// a loaded machine.
const LATE_AT_MOST: f64 = 1.0 + 2.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_send_each_reminder_exactly_once_on_time() {
    let Some(database) = TestDatabase::new(Backend::Postgres) else {
        return;
    };
    let vars = [("REMINDER_SWEEP_INTERVAL_SECS", "1")];
    let first = ServerProcess::start(database.url(), &vars).await;
    let second = ServerProcess::start(database.url(), &vars).await;
    let app = TestApp {
        address: first.address.clone(),
        client: client(),
        database,
    };
    // The second process, called the same way (its database handle is not used).
    let other = TestApp {
        address: second.address.clone(),
        client: client(),
        database: TestDatabase::sqlite(),
    };
    let owner = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let mut guests: Vec<TestUser> = Vec::new();
    for name in ["a", "b", "c"] {
        guests.push(
            app.register(name, Some(&format!("{name}@example.com")), None)
                .await,
        );
    }
    // 20 events whose 5-minute reminder falls due in 12 seconds, 3 invitees each.
    let starts_at = (Utc::now() + chrono::Duration::seconds(300 + 12)).trunc_subsecs(0);
    let due = (starts_at - chrono::Duration::minutes(5)).timestamp() as f64;
    for n in 0..20 {
        let made = app
            .post(
                "/api/v1/events",
                Some(&owner.token),
                json!({
                    "title": format!("Event {n}"),
                    "starts_at": starts_at.to_rfc3339(),
                    "reminders": [{"before": "5m", "to": "pending"}]
                }),
            )
            .await;
        let event = made.expect(201)["data"]["id"].as_str().unwrap().to_owned();
        // The two processes take the sends in turn.
        let sender = if n % 2 == 0 { &app } else { &other };
        sender
            .send(
                &owner,
                &event,
                json!(["a@example.com", "b@example.com", "c@example.com"]),
            )
            .await
            .expect(200);
    }
    assert!(
        Utc::now().timestamp() as f64 + 1.0 < due,
        "the set-up took longer than the reminders' lead"
    );
    let reminders = || {
        app.database.texts(
            "SELECT recipient || '|' || payload || '|' || CAST(EXTRACT(EPOCH FROM created_at) AS TEXT) \
             AS value FROM messages WHERE purpose = 'reminder'",
        )
    };
    let started = Instant::now();
    while reminders().len() < 60 && started.elapsed() < Duration::from_secs(40) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A few more sweeps of both processes: nothing more comes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = reminders();
    assert_eq!(sent.len(), 60, "{sent:#?}");
    let mut each: BTreeMap<(String, String), usize> = BTreeMap::new();
    for row in &sent {
        let mut parts = row.splitn(3, '|');
        let (to, payload, at) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let payload: Value = serde_json::from_str(payload).unwrap();
        let subject = payload["subject"].as_str().unwrap().to_owned();
        assert!(subject.starts_with("Reminder: Event "), "{subject}");
        assert!(
            payload["text"]
                .as_str()
                .unwrap()
                .contains("starts in 5 minutes"),
            "{payload}"
        );
        *each.entry((to.to_owned(), subject)).or_default() += 1;
        let at: f64 = at.parse().unwrap();
        assert!(
            at >= due && at <= due + LATE_AT_MOST,
            "sent {:.3} s after its time",
            at - due
        );
    }
    assert_eq!(each.len(), 60, "one per invitee and event");
    assert!(each.values().all(|count| *count == 1));
    let latest = sent
        .iter()
        .map(|row| row.rsplit('|').next().unwrap().parse::<f64>().unwrap() - due)
        .fold(0.0_f64, f64::max);
    eprintln!(
        "two processes, 20 events x 3 invitees: {} reminders, each once, the latest {latest:.2} s after its time (sweep interval 1 s)",
        sent.len()
    );
    drop((first, second));
}

/// A mobile-only invitee's reminder crosses Kannel to its fake SMSC, once.
async fn a_reminder_reaches_a_mobile_through_kannel(backend: Backend) {
    let Some(kannel) = adapters_outbound::testing::Kannel::start() else {
        return;
    };
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let url = kannel.sms_url(kannel.var("KANNEL_PASSWORD"));
    let app = TestApp {
        address: crate::helpers::spawn_on(
            &database,
            &[("SMS_URL", &url), ("REMINDER_SWEEP_INTERVAL_SECS", "1")],
        )
        .await,
        client: client(),
        database,
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    app.register("Reza", None, Some("09352864812")).await;
    let starts_at = (Utc::now() + chrono::Duration::seconds(300 + 6)).trunc_subsecs(0);
    let made = app
        .post(
            "/api/v1/events",
            Some(&olivia.token),
            json!({
                "title": "Standup",
                "location": "Room 4",
                "starts_at": starts_at.to_rfc3339(),
                "time_zone": "Asia/Tehran",
                "reminders": [{"before": "5m", "to": "pending"}]
            }),
        )
        .await;
    let event = made.expect(201)["data"]["id"].as_str().unwrap().to_owned();
    app.send(&olivia, &event, json!(["09352864812"]))
        .await
        .expect(200);
    let reminders = || {
        kannel
            .smsc_log()
            .lines()
            .filter(|line| line.contains("Got message") && line.contains("Reminder"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let started = Instant::now();
    while reminders().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no reminder at the SMSC: {}",
            kannel.smsc_log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more sweeps: still one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let texts = reminders();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].contains("Standup"), "{}", texts[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_reminder_reaches_a_mobile_through_kannel() {
    a_reminder_reaches_a_mobile_through_kannel(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_reminder_reaches_a_mobile_through_kannel() {
    a_reminder_reaches_a_mobile_through_kannel(Backend::Postgres).await;
}
