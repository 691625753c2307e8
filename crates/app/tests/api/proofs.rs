//! Proving contacts through the running service (docs/api.md, "Proving contacts"), with the codes
//! read from the development outbox the service writes them to.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{client, spawn_on, TestApp, TestUser};

/// The longest the message worker may take to write a code.
const WITHIN: Duration = Duration::from_secs(20);

/// This test's `OUTBOX_DIR`, removed on drop.
pub(crate) struct Outbox(PathBuf);

impl Outbox {
    pub(crate) fn new() -> Self {
        Self(std::env::temp_dir().join(format!("event-manager-proofs-{}", uuid::Uuid::now_v7())))
    }

    /// Every whole file in `sub` (`mail` or `sms`), oldest first.
    pub(crate) fn files(&self, sub: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.0.join(sub)) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .map(|entry| entry.unwrap().path())
            .filter(|path| !path.file_name().unwrap().to_str().unwrap().starts_with('.'))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| std::fs::read_to_string(path).unwrap())
            .collect()
    }

    /// The directory.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// The codes in `sub` to `to` so far, in the files' order.
    pub(crate) fn codes_now(&self, sub: &str, to: &str) -> Vec<String> {
        self.files(sub)
            .into_iter()
            .filter(|text| text.contains(to) && text.contains("Event Manager code: "))
            .map(|text| {
                let at = text.find("code: ").unwrap() + 6;
                text[at..at + 6].to_owned()
            })
            .collect()
    }

    /// Waits for the `n`th code message in `sub` to `to`, and returns its code.
    pub(crate) async fn code(&self, sub: &str, to: &str, n: usize) -> String {
        self.codes(sub, to, n).await.remove(n - 1)
    }

    /// Waits until `n` code messages in `sub` went to `to`, and returns their codes, in the order
    /// of the files' names (the order they were written in, which for messages attempted at once
    /// is not the order they were made in).
    pub(crate) async fn codes(&self, sub: &str, to: &str, n: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let found: Vec<String> = self
                .files(sub)
                .into_iter()
                .filter(|text| text.contains(to) && text.contains("Event Manager code: "))
                .collect();
            if found.len() >= n {
                return found
                    .iter()
                    .map(|text| {
                        let at = text.find("code: ").unwrap() + 6;
                        text[at..at + 6].to_owned()
                    })
                    .collect();
            }
            assert!(
                started.elapsed() < WITHIN,
                "no code #{n} to {to} in {sub}: {:?}",
                self.files(sub)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The service on a fresh database, contacts to be proven, messages written to `outbox`.
pub(crate) async fn spawn_proving(backend: Backend, outbox: &Outbox) -> Option<TestApp> {
    spawn_proving_with(backend, outbox, &[]).await
}

/// As [`spawn_proving`], with more variables.
pub(crate) async fn spawn_proving_with(
    backend: Backend,
    outbox: &Outbox,
    vars: &[(&str, &str)],
) -> Option<TestApp> {
    let database = TestDatabase::new(backend)?;
    let dir = outbox.0.to_str().unwrap();
    let mut all = vec![
        ("CONTACT_VERIFICATION", "required"),
        ("OUTBOX_DIR", dir),
        ("SMTP_URL", ""),
        ("SMS_URL", ""),
    ];
    all.extend_from_slice(vars);
    let address = spawn_on(&database, &all).await;
    Some(TestApp {
        address,
        client: client(),
        database,
    })
}

pub(crate) async fn received(app: &TestApp, user: &TestUser) -> Vec<Value> {
    app.get("/api/v1/received-invitations", &user.token)
        .await
        .expect(200)["data"]
        .as_array()
        .unwrap()
        .clone()
}

async fn feed_kinds(app: &TestApp, user: &TestUser) -> Vec<String> {
    app.get("/api/v1/me/events", &user.token).await.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn the_impostor_never_sees_the_invitation_and_the_owner_gets_it_by_proving(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving(backend, &outbox).await else {
        return;
    };
    let impostor = app
        .register("Mallory", Some("ceo@bigcorp.example"), None)
        .await;
    let me = app.get("/api/v1/me", &impostor.token).await;
    assert_eq!(me.expect(200)["data"]["email_verified_at"], Value::Null);
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let event = app.create_event(&olivia, "Board meeting").await;
    let sent = app
        .send(&olivia, &event, json!(["ceo@bigcorp.example"]))
        .await;
    let invitation = sent.expect(200)["data"]["sent"][0].clone();
    let id = invitation["id"].as_str().unwrap().to_owned();
    assert_eq!(
        invitation["invitee"]["name"], "Mallory",
        "the sender's view is as for anyone"
    );

    // The impostor sees nothing of it, in any way.
    assert!(received(&app, &impostor).await.is_empty());
    app.get(&format!("/api/v1/invitations/{id}"), &impostor.token)
        .await
        .expect(404);
    app.patch(
        &format!("/api/v1/invitations/{id}"),
        &impostor.token,
        json!({"status": "accepted"}),
    )
    .await
    .expect(404);
    assert!(!feed_kinds(&app, &impostor)
        .await
        .contains(&"invitation.created".to_owned()));

    // The real owner registers the same address: an unproven claim blocks nobody.
    let owner = app.register("Ceo", Some("ceo@bigcorp.example"), None).await;
    // Each registration sent a code to the address: one of them is the owner's.
    let codes = outbox.codes("mail", "ceo@bigcorp.example", 2).await;
    let wrong = ["000000", "111111", "222222"]
        .into_iter()
        .find(|wrong| !codes.iter().any(|code| code == wrong))
        .unwrap();
    let refused = app
        .post(
            "/api/v1/me/verifications/confirm",
            Some(&owner.token),
            json!({"channel": "email", "code": wrong}),
        )
        .await;
    assert_eq!(
        refused.expect(422)["errors"]["code"][0],
        "The code is wrong or has expired."
    );
    let mut proven = None;
    for code in &codes {
        let reply = app
            .post(
                "/api/v1/me/verifications/confirm",
                Some(&owner.token),
                json!({"channel": "email", "code": code}),
            )
            .await;
        if reply.status == 200 {
            proven = Some(reply);
            break;
        }
        // The other code is Mallory's: it proves nothing for the owner.
        reply.expect(422);
    }
    let proven = proven.expect("one of the codes is the owner's");
    let user = &proven.expect(200)["data"];
    assert_eq!(user["email"], "ceo@bigcorp.example");
    assert!(user["email_verified_at"].is_string(), "{user}");

    // The invitation is the owner's now, as it was sent; the impostor lost the address.
    let mine = received(&app, &owner).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], id.as_str());
    assert_eq!(mine[0]["expires_at"], invitation["expires_at"]);
    assert_eq!(mine[0]["status"], "pending");
    // Changes are numbered a moment after their commit on PostgreSQL.
    let started = Instant::now();
    while !feed_kinds(&app, &owner)
        .await
        .contains(&"invitation.created".to_owned())
    {
        assert!(
            started.elapsed() < WITHIN,
            "no invitation.created in the owner's feed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let me = app.get("/api/v1/me", &impostor.token).await;
    assert_eq!(me.expect(200)["data"]["email"], Value::Null);
    assert!(received(&app, &impostor).await.is_empty());
    assert!(!feed_kinds(&app, &impostor)
        .await
        .contains(&"invitation.created".to_owned()));
    app.patch(
        &format!("/api/v1/invitations/{id}"),
        &owner.token,
        json!({"status": "accepted"}),
    )
    .await
    .expect(200);
}

async fn a_mobile_is_proven_with_the_code_texted_to_it(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving(backend, &outbox).await else {
        return;
    };
    // Typed on a Persian keyboard.
    let reza = app.register("Reza", None, Some("۰۹۳۵۲۸۶۴۸۱۲")).await;
    let code = outbox.code("sms", "+989352864812", 1).await;
    // A second code within the minute is refused.
    let again = app
        .post(
            "/api/v1/me/verifications",
            Some(&reza.token),
            json!({"channel": "mobile"}),
        )
        .await;
    again.expect(429);
    assert!(again.headers.contains_key("retry-after"));
    let persian: String = code
        .chars()
        .map(|c| char::from_u32(0x06F0 + c.to_digit(10).unwrap()).unwrap())
        .collect();
    let proven = app
        .post(
            "/api/v1/me/verifications/confirm",
            Some(&reza.token),
            json!({"channel": "mobile", "code": persian}),
        )
        .await;
    assert!(proven.expect(200)["data"]["mobile_verified_at"].is_string());
    // Nothing left to prove.
    app.post(
        "/api/v1/me/verifications",
        Some(&reza.token),
        json!({"channel": "mobile"}),
    )
    .await
    .expect(422);
}

async fn an_invitee_reached_by_mobile_gets_a_text_and_each_contact_a_days_share(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving_with(
        backend,
        &outbox,
        &[
            ("MESSAGES_PER_RECIPIENT_PER_DAY", "1"),
            ("SEND_RECIPIENTS_PER_DAY", "4"),
        ],
    )
    .await
    else {
        return;
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    app.register("Reza", None, Some("09332114546")).await;
    let party = app.create_event(&olivia, "Launch party").await;
    let sent = app.send(&olivia, &party, json!(["0933 211 4546"])).await;
    assert_eq!(
        sent.expect(200)["data"]["sent"].as_array().unwrap().len(),
        1
    );
    // The text, from the outbox (held or not, the number is told).
    let started = Instant::now();
    let text = loop {
        let texts: Vec<String> = outbox
            .files("sms")
            .into_iter()
            .filter(|t| t.contains("+989332114546") && t.contains("invited you"))
            .collect();
        if let Some(text) = texts.first() {
            break text.clone();
        }
        assert!(
            started.elapsed() < WITHIN,
            "no text: {:?}",
            outbox.files("sms")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        text.contains("Olivia invited you to \"Launch party\""),
        "{text}"
    );
    assert!(text.contains("Answer by "), "{text}");
    assert!(
        text.contains("Segments: 1") || text.contains("Segments: 2"),
        "{text}"
    );

    // The number had its one invitation today: another event's entry is ignored.
    let dinner = app.create_event(&olivia, "Dinner").await;
    let ignored = app
        .send(&olivia, &dinner, json!(["+98 933 211 4546"]))
        .await;
    let data = &ignored.expect(200)["data"];
    assert_eq!(data["sent"], json!([]));
    assert_eq!(data["ignored"][0]["reason"], "recipient_limit");
    // Olivia may name four contacts a day (her account is new), found or not: Reza twice and
    // a stranger made three, Sam is the fourth, and Tina and Uma are past it, though they exist.
    app.send(&olivia, &dinner, json!(["someone@example.com"]))
        .await
        .expect(200);
    for name in ["sam", "tina", "uma"] {
        let email = format!("{name}@example.com");
        app.register(name, Some(&email), None).await;
    }
    let sent = app
        .send(
            &olivia,
            &dinner,
            json!(["sam@example.com", "tina@example.com", "uma@example.com"]),
        )
        .await;
    let data = &sent.expect(200)["data"];
    assert_eq!(data["sent"].as_array().unwrap().len(), 1);
    assert_eq!(data["ignored"][0]["reason"], "quota_exceeded");
    assert_eq!(data["ignored"][1]["reason"], "quota_exceeded");
    assert_eq!(
        data["ignored"][0]["message"],
        "You have named as many contacts as you may today."
    );
    // A reminder names its contact too: refused for the day.
    let id = data["sent"][0]["id"].as_str().unwrap().to_owned();
    let refused = app
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{id}/resend"),
            Some(&olivia.token),
            None,
        )
        .await;
    refused.expect(429);
    // The day's wait, not the ten minutes between reminders.
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 23 * 3600, "{wait}");
    eprintln!(
        "quotas: 4 contacts named a day, the 5th and 6th ignored as quota_exceeded, the resend 429"
    );
}

async fn a_code_crosses_the_kannel_gateway_to_the_smsc(backend: Backend) {
    let Some(kannel) = adapters_outbound::testing::Kannel::start() else {
        return;
    };
    let outbox = Outbox::new();
    let url = kannel.sms_url(kannel.var("KANNEL_PASSWORD"));
    let Some(app) = spawn_proving_with(backend, &outbox, &[("SMS_URL", &url)]).await else {
        return;
    };
    let reza = app.register("Reza", None, Some("09352864812")).await;
    // What the fake SMSC received: `Got message N: <from to text ...>`.
    let started = Instant::now();
    let line = loop {
        let log = kannel.smsc_log();
        if let Some(line) = log
            .lines()
            .find(|line| line.contains("Got message") && line.contains("Event Manager code: "))
        {
            break line.to_owned();
        }
        assert!(started.elapsed() < WITHIN, "nothing at the SMSC: {log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        line.contains("+989352864812") || line.contains("989352864812"),
        "{line}"
    );
    assert!(outbox.files("sms").is_empty(), "the gateway, not the files");
    let at = line.find("code: ").unwrap() + 6;
    let code = &line[at..at + 6];
    let proven = app
        .post(
            "/api/v1/me/verifications/confirm",
            Some(&reza.token),
            json!({"channel": "mobile", "code": code}),
        )
        .await;
    assert!(proven.expect(200)["data"]["mobile_verified_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_code_crosses_the_kannel_gateway_to_the_smsc() {
    a_code_crosses_the_kannel_gateway_to_the_smsc(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_code_crosses_the_kannel_gateway_to_the_smsc() {
    a_code_crosses_the_kannel_gateway_to_the_smsc(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_invitee_reached_by_mobile_gets_a_text_and_each_contact_a_days_share() {
    an_invitee_reached_by_mobile_gets_a_text_and_each_contact_a_days_share(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_invitee_reached_by_mobile_gets_a_text_and_each_contact_a_days_share() {
    an_invitee_reached_by_mobile_gets_a_text_and_each_contact_a_days_share(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_impostor_never_sees_the_invitation_and_the_owner_gets_it_by_proving() {
    the_impostor_never_sees_the_invitation_and_the_owner_gets_it_by_proving(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_impostor_never_sees_the_invitation_and_the_owner_gets_it_by_proving() {
    the_impostor_never_sees_the_invitation_and_the_owner_gets_it_by_proving(Backend::Postgres)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_mobile_is_proven_with_the_code_texted_to_it() {
    a_mobile_is_proven_with_the_code_texted_to_it(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_mobile_is_proven_with_the_code_texted_to_it() {
    a_mobile_is_proven_with_the_code_texted_to_it(Backend::Postgres).await;
}
