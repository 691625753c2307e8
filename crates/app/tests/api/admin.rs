//! The operator's commands, run as the real binary on the database of a running service.
//!
//! `tokens list|revoke`, `webhooks disable`, `purge` and `backup` (docs/operations.md, "Commands").

use adapters_diesel::testing::TestDatabase;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::process::{Command, Output};

use crate::helpers::{api_tests, client, ServerProcess, TestApp};

/// Runs `event-manager args…` on `database` (its URL only in the environment).
async fn command(database: &TestDatabase, args: &[&str]) -> Output {
    command_on(database.url(), args).await
}

async fn command_on(url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_event-manager"));
    command
        .args(args)
        .env_clear()
        .env("DATABASE_URL", url)
        .current_dir(std::env::temp_dir());
    tokio::task::spawn_blocking(move || command.output().expect("run event-manager"))
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Its stdout, after checking that it exited 0 with nothing on stderr.
fn succeeded(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    assert_eq!(stderr(output), "");
    stdout(output)
}

/// Its one line on stderr, after checking the exit code and that nothing went to stdout.
fn failed_with(output: &Output, code: i32) -> String {
    assert_eq!(output.status.code(), Some(code), "{}", stdout(output));
    assert_eq!(stdout(output), "");
    let message = stderr(output);
    assert_eq!(message.lines().count(), 1, "{message}");
    message
}

/// A token's id as the commands show it: the last 8 hex digits of its SHA-256 digest.
fn token_id(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[56..].to_owned()
}

async fn login(app: &TestApp) -> String {
    let reply = app
        .login(json!({"login": "ann@example.com", "password": "correct horse"}))
        .await;
    reply.expect(200)["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn me(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", token).await.status.as_u16()
}

api_tests!(
    tokens_are_listed_without_their_secrets_and_revoked_one_or_all,
    a_webhook_disabled_by_the_operator_receives_nothing_more,
    purge_runs_each_purge_once_and_says_what_it_removed
);

/// Whether the server refuses `token` within its token cache's age (`TOKEN_CACHE_SECS`, 2 s by
/// default, plus the requests' own time): the command runs in a process of its own, so the server
/// may still take a token it looked up just before (docs/operations.md, "Token cache").
async fn refused_within_the_cache_age(app: &TestApp, token: &str) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_millis(2800) {
        if me(app, token).await == 401 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

async fn tokens_are_listed_without_their_secrets_and_revoked_one_or_all(app: TestApp) {
    let ann = app
        .register("Ann", Some("ann@example.com"), Some("09352864812"))
        .await;
    let second = login(&app).await;
    let third = login(&app).await;
    let db = &app.database;

    let listed = succeeded(&command(db, &["tokens", "list", "--user", "ann@example.com"]).await);
    assert!(
        listed.starts_with(&format!("ann@example.com ({}): 3 tokens\n", ann.id)),
        "{listed}"
    );
    for token in [&ann.token, &second, &third] {
        assert!(listed.contains(&token_id(token)), "{listed}");
        assert!(
            !listed.contains(token.as_str()),
            "a secret is shown: {listed}"
        );
    }
    // The same user by id and by mobile, written as a login accepts it.
    for user in [ann.id.as_str(), "+989352864812", "0935 286 4812"] {
        let by = succeeded(&command(db, &["tokens", "list", "--user", user]).await);
        assert_eq!(by, listed, "{user}");
    }

    let one = command(
        db,
        &[
            "tokens",
            "revoke",
            "--user",
            &ann.id,
            "--token",
            &token_id(&second),
        ],
    )
    .await;
    assert_eq!(succeeded(&one), "revoked 1 token of ann@example.com\n");
    assert!(refused_within_the_cache_age(&app, &second).await);
    assert_eq!(me(&app, &third).await, 200);
    let listed = succeeded(&command(db, &["tokens", "list", "--user", "ann@example.com"]).await);
    let revoked_line = listed
        .lines()
        .find(|line| line.starts_with(&token_id(&second)))
        .unwrap();
    assert!(!revoked_line.ends_with(" -"), "{listed}");

    let all = command(
        db,
        &["tokens", "revoke", "--user", "ann@example.com", "--all"],
    )
    .await;
    assert_eq!(succeeded(&all), "revoked 2 tokens of ann@example.com\n");
    assert!(refused_within_the_cache_age(&app, &ann.token).await);
    // Looked up by the server a moment ago: refused once its cache entry is older than
    // TOKEN_CACHE_SECS, never later.
    assert!(refused_within_the_cache_age(&app, &third).await);
    let again = command(
        db,
        &["tokens", "revoke", "--user", "ann@example.com", "--all"],
    )
    .await;
    assert_eq!(succeeded(&again), "revoked 0 tokens of ann@example.com\n");

    let unknown = command(db, &["tokens", "list", "--user", "zed@example.com"]).await;
    assert_eq!(
        failed_with(&unknown, 1),
        "event-manager: no user zed@example.com\n"
    );
    let no_token = command(
        db,
        &[
            "tokens",
            "revoke",
            "--user",
            "ann@example.com",
            "--token",
            "00000000",
        ],
    )
    .await;
    assert!(failed_with(&no_token, 1).contains("no token 00000000"));
    let malformed = command(
        db,
        &[
            "tokens",
            "revoke",
            "--user",
            "ann@example.com",
            "--token",
            "xyz",
        ],
    )
    .await;
    assert!(failed_with(&malformed, 2).starts_with("event-manager: invalid --token"));
    let nobody = command(db, &["tokens", "list", "--user", "not a login"]).await;
    assert!(failed_with(&nobody, 2).starts_with("event-manager: invalid --user"));
    let neither = command(db, &["tokens", "revoke", "--user", "ann@example.com"]).await;
    assert_eq!(neither.status.code(), Some(2));
}

async fn a_webhook_disabled_by_the_operator_receives_nothing_more(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let url = "https://93.184.216.34/hook";
    let created = app
        .post(
            "/api/v1/webhooks",
            Some(&ann.token),
            json!({"url": url, "events": ["invitation.created"]}),
        )
        .await;
    let id = created.expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = &app.database;

    let disabled = succeeded(&command(db, &["webhooks", "disable", &id]).await);
    assert_eq!(
        disabled,
        format!(
            "webhook {id} disabled: {url} (owner ann@example.com, {})\n",
            ann.id
        )
    );
    let shown = app.get(&format!("/api/v1/webhooks/{id}"), &ann.token).await;
    let shown = shown.expect(200)["data"].clone();
    assert_eq!(shown["status"], "disabled");
    assert_eq!(shown["disabled_reason"], "gone");

    let again = succeeded(&command(db, &["webhooks", "disable", &id]).await);
    assert!(again.contains("was disabled already"), "{again}");
    let unknown = uuid::Uuid::now_v7().to_string();
    let missing = command(db, &["webhooks", "disable", &unknown]).await;
    assert_eq!(
        failed_with(&missing, 1),
        format!("event-manager: no webhook {unknown}\n")
    );
    let malformed = command(db, &["webhooks", "disable", "42"]).await;
    assert!(failed_with(&malformed, 2).contains("invalid webhook id"));
}

async fn purge_runs_each_purge_once_and_says_what_it_removed(app: TestApp) {
    app.register("Ann", Some("ann@example.com"), None).await;
    login(&app).await;
    let db = &app.database;
    let tokens = db.texts("SELECT CAST(user_id AS TEXT) AS value FROM access_tokens");
    assert_eq!(tokens.len(), 2);
    // One of the two expired long ago.
    db.session().execute(
        "UPDATE access_tokens SET expires_at = '2000-01-01 00:00:00' \
         WHERE created_at = (SELECT MIN(created_at) FROM access_tokens)",
    );

    let purged = succeeded(&command(db, &["purge"]).await);
    let lines: Vec<&str> = purged.lines().collect();
    assert!(lines.contains(&"token purge: 1 removed"), "{purged}");
    assert!(
        lines.contains(&"idempotency key purge: 0 removed"),
        "{purged}"
    );
    assert!(lines.contains(&"change feed purge: 0 removed"), "{purged}");
    assert!(lines.contains(&"reminder sweeper: 0 sent"), "{purged}");
    assert!(
        lines.contains(&"invitation sweeper: 0 marked expired"),
        "{purged}"
    );
    let counters = lines.iter().any(|l| l.starts_with("abuse counter purge: "));
    assert_eq!(
        counters,
        db.backend() == adapters_diesel::Backend::Postgres,
        "{purged}"
    );
    assert_eq!(db.texts("SELECT 'x' AS value FROM access_tokens").len(), 1);
    let again = succeeded(&command(db, &["purge"]).await);
    assert!(again.contains("token purge: 0 removed"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_a_sqlite_database_consistently_while_a_service_process_writes() {
    let database = TestDatabase::sqlite();
    let server = ServerProcess::start(database.url(), &[]).await;
    let address = server.address.clone();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let (registered, mut done) = tokio::sync::mpsc::unbounded_channel();
    let writer = tokio::spawn(async move {
        let client = client();
        let mut n = 0;
        while !*stopped.borrow_and_update() {
            let email = format!("user{n}@example.com");
            let reply = client
                .post(format!("{address}/api/v1/register"))
                .json(&json!({"name": "U", "email": email, "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 201);
            registered.send(email).unwrap();
            n += 1;
        }
    });
    let mut before = Vec::new();
    while before.len() < 5 {
        before.push(done.recv().await.unwrap());
    }
    // A path with a quote and a space: it is bound, never spliced into the SQL.
    // Beside the database, in its temporary directory.
    let dir = std::path::Path::new(database.url()).parent().unwrap();
    let path = dir.join("it's a copy.sqlite3");
    let path_text = path.to_str().unwrap();
    // Taken while the registrations go on.
    while let Ok(email) = done.try_recv() {
        before.push(email);
    }
    let backup = command(&database, &["backup", path_text]).await;
    // Those answered during the backup may or may not be in it.
    while done.try_recv().is_ok() {}
    // The second registration answered from now on was sent after the backup ended.
    let mut after = vec![done.recv().await.unwrap(), done.recv().await.unwrap()];
    let _ = stop.send(true);
    writer.await.unwrap();
    while let Some(email) = done.recv().await {
        after.push(email);
    }
    drop(server);

    let printed = succeeded(&backup);
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(
        printed,
        format!("backed up to {path_text} ({size} bytes)\n")
    );
    assert!(!after.is_empty(), "the service wrote during the backup");
    // Every user registered before the backup began is in the copy, with their token: the copy
    // opens, and what had committed is in it whole.
    let copy = format!("sqlite://{path_text}");
    for email in &before {
        let listed = succeeded(&command_on(&copy, &["tokens", "list", "--user", email]).await);
        assert!(listed.contains(": 1 token\n"), "{email}: {listed}");
    }
    // What committed after it is not.
    let last = after.last().unwrap();
    let later = command_on(&copy, &["tokens", "list", "--user", last]).await;
    assert_eq!(
        failed_with(&later, 1),
        format!("event-manager: no user {last}\n")
    );
    let migrated = command_on(&copy, &["migrate"]).await;
    assert_eq!(migrated.status.code(), Some(0), "{}", stderr(&migrated));

    // Never over an existing file.
    let refused = command(&database, &["backup", path_text]).await;
    assert!(failed_with(&refused, 2).contains("exists already"));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
}

#[tokio::test]
async fn a_command_on_a_missing_sqlite_file_fails_without_creating_it() {
    let path = std::env::temp_dir().join(format!("em-missing-{}.sqlite3", uuid::Uuid::now_v7()));
    let url = path.to_str().unwrap();
    for args in [
        &["purge"][..],
        &["tokens", "list", "--user", "ann@example.com"],
    ] {
        let output = command_on(url, args).await;
        assert_eq!(
            failed_with(&output, 1),
            format!("event-manager: no SQLite database at {url}\n")
        );
        assert!(!path.exists());
    }
}

#[tokio::test]
async fn backup_on_postgresql_points_to_pg_dump() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let path = std::env::temp_dir().join(format!("em-copy-{}", uuid::Uuid::now_v7()));
    let output = command(&database, &["backup", path.to_str().unwrap()]).await;
    assert!(failed_with(&output, 2).contains("pg_dump"));
    assert!(!path.exists());
}
