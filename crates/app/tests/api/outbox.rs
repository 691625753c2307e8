//! The development outbox (docs/operations.md, "Text messages", "Outbox"): without `SMTP_URL`, an
//! invitee reached by email gets an `.eml` file in `OUTBOX_DIR/mail/`, written by the delivery
//! worker as it would have gone to a mail server; with `SMTP_URL=none`, nothing is written.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;
use serde_json::json;

use crate::helpers::{client, spawn_on, TestApp};

/// The longest the delivery worker may take to write an email.
const WITHIN: Duration = Duration::from_secs(20);

/// A directory of its own under the system's temporary directory, removed on drop: this test's
/// `OUTBOX_DIR`, which the service creates when it writes the first message.
struct Outbox {
    path: PathBuf,
}

impl Outbox {
    fn new() -> Self {
        Self {
            path: std::env::temp_dir()
                .join(format!("event-manager-outbox-{}", uuid::Uuid::now_v7())),
        }
    }

    /// The files in `mail/`, whole ones only (a file is written under a hidden name first).
    fn emails(&self) -> Vec<PathBuf> {
        files(&self.path.join("mail"))
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            !path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

/// The service on a fresh database of `backend` with `OUTBOX_DIR` set to `outbox` and `smtp_url`
/// (blank: unset); `None` without PostgreSQL.
async fn spawn_with(backend: Backend, outbox: &Outbox, smtp_url: &str) -> Option<TestApp> {
    let database = TestDatabase::new(backend)?;
    let dir = outbox.path.to_str().unwrap();
    let address = spawn_on(&database, &[("OUTBOX_DIR", dir), ("SMTP_URL", smtp_url)]).await;
    Some(TestApp {
        address,
        client: client(),
        database,
    })
}

/// Ann invites Bob, a registered user, by his email to "Housewarming"; returns the invitation id.
async fn invite_bob(app: &TestApp) -> String {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    app.register("Bob", Some("bob@example.com"), None).await;
    let event = app.create_event(&ann, "Housewarming").await;
    let sent = app.send(&ann, &event, json!(["bob@example.com"])).await;
    sent.expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn without_smtp_url_an_invitation_email_is_an_eml_file_in_the_outbox(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_with(backend, &outbox, "").await else {
        return;
    };
    let invitation = invite_bob(&app).await;

    let started = Instant::now();
    let emails = loop {
        let emails = outbox.emails();
        if !emails.is_empty() || started.elapsed() > WITHIN {
            break emails;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!(
        "{backend:?}: the email was in the outbox after {:.2?}",
        started.elapsed()
    );
    assert_eq!(emails.len(), 1, "{emails:?}");
    let name = emails[0].file_name().unwrap().to_str().unwrap();
    assert!(name.ends_with(".eml"), "{name}");
    let email = std::fs::read_to_string(&emails[0]).unwrap();
    assert!(email.contains("To: bob@example.com"), "{email}");
    assert!(
        email.contains("From: \"Event Manager\" <no-reply@localhost>"),
        "the default sender: {email}"
    );
    assert!(email.contains("Housewarming"), "{email}");
    assert!(email.contains(&invitation), "{email}");

    // A delivery like any other: made once, and recorded as delivered.
    let started = Instant::now();
    loop {
        let states = app
            .database
            .texts("SELECT state AS value FROM deliveries WHERE email_to IS NOT NULL");
        if states == ["delivered"] {
            break;
        }
        assert!(started.elapsed() < WITHIN, "{states:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox.emails().len(), 1, "written once");
}

async fn with_smtp_url_none_nothing_is_written(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_with(backend, &outbox, "none").await else {
        return;
    };
    invite_bob(&app).await;

    // Once the worker has dispatched every change, the invitation's email would have been made.
    // On PostgreSQL a change is numbered a moment after its commit (its stage is read by the
    // sequencer), so wait for it to be numbered first.
    let started = Instant::now();
    let last: i64 = loop {
        let last = app
            .database
            .texts("SELECT CAST(COALESCE(MAX(id), 0) AS TEXT) AS value FROM changes");
        let last: i64 = last[0].parse().unwrap();
        if last > 0 {
            break last;
        }
        assert!(started.elapsed() < WITHIN, "no change numbered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    loop {
        let position = app
            .database
            .texts("SELECT CAST(position AS TEXT) AS value FROM delivery_dispatch");
        if position.first().and_then(|p| p.parse::<i64>().ok()) >= Some(last) {
            break;
        }
        assert!(started.elapsed() < WITHIN, "dispatched up to {position:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A turn of the worker and more, for an attempt that should not be made.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app
        .database
        .texts("SELECT kind AS value FROM deliveries")
        .is_empty());
    assert!(
        !outbox.path.exists(),
        "nothing written to {:?}",
        outbox.path
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_without_smtp_url_an_invitation_email_is_an_eml_file_in_the_outbox() {
    without_smtp_url_an_invitation_email_is_an_eml_file_in_the_outbox(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_without_smtp_url_an_invitation_email_is_an_eml_file_in_the_outbox() {
    without_smtp_url_an_invitation_email_is_an_eml_file_in_the_outbox(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_with_smtp_url_none_nothing_is_written() {
    with_smtp_url_none_nothing_is_written(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_with_smtp_url_none_nothing_is_written() {
    with_smtp_url_none_nothing_is_written(Backend::Postgres).await;
}
