//! Abuse limits, token and password storage, CORS, and invariants across two server processes.

use adapters_diesel::Backend;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{api_tests, client, spawn_on, Reply, ServerProcess, TestApp};

/// Consistency of the whole database: every accepted invitation has its membership, no
/// (event, invitee) has two pending invitations, and `members_count` matches the members.
pub(crate) fn assert_consistent(app: &TestApp) {
    let db = &app.database;
    let orphans = db.texts(
        "SELECT CAST(COUNT(*) AS TEXT) AS value FROM invitations i WHERE i.status = 'accepted' AND NOT EXISTS \
         (SELECT 1 FROM event_members m WHERE m.event_id = i.event_id AND m.user_id = i.invitee_id)",
    );
    assert_eq!(orphans, ["0"], "accepted invitations without membership");
    let doubled = db.texts(
        "SELECT CAST(COUNT(*) AS TEXT) AS value FROM (SELECT event_id, invitee_id FROM invitations \
         WHERE status = 'pending' GROUP BY event_id, invitee_id HAVING COUNT(*) > 1) AS d",
    );
    assert_eq!(doubled, ["0"], "pending duplicates");
    let miscounted = db.texts(
        "SELECT CAST(COUNT(*) AS TEXT) AS value FROM events e WHERE e.members_count <> \
         (SELECT COUNT(*) FROM event_members m WHERE m.event_id = e.id)",
    );
    assert_eq!(miscounted, ["0"], "members_count out of step");
}

api_tests!(
    the_sixth_failed_login_of_an_account_is_429_with_retry_after,
    failed_logins_take_about_as_long_with_or_without_an_account,
    tokens_are_stored_only_as_sha256_and_passwords_as_argon2id
);

async fn the_sixth_failed_login_of_an_account_is_429_with_retry_after(app: TestApp) {
    app.register("Sara", Some("sara@example.com"), None).await;
    for _ in 0..5 {
        app.login(json!({"login": "sara@example.com", "password": "wrong password"}))
            .await
            .expect(401);
    }
    let limited = app
        .login(json!({"login": "SARA@example.com", "password": "correct horse"}))
        .await;
    assert_eq!(limited.expect(429)["code"], "too_many_requests");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    eprintln!("login limit: 5 failed logins for one account, then 429 with Retry-After {retry_after} s (even with the right password)");
    app.register("Reza", Some("reza@example.com"), None).await;
    app.login(json!({"login": "reza@example.com", "password": "correct horse"}))
        .await
        .expect(200);
}

async fn failed_logins_take_about_as_long_with_or_without_an_account(app: TestApp) {
    app.register("Sara", Some("sara@example.com"), None).await;
    let mut existing = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..4 {
        let started = std::time::Instant::now();
        app.login(json!({"login": "sara@example.com", "password": "wrong password"}))
            .await
            .expect(401);
        existing.push(started.elapsed());
        let started = std::time::Instant::now();
        app.login(json!({"login": format!("nobody{i}@example.com"), "password": "wrong password"}))
            .await
            .expect(401);
        unknown.push(started.elapsed());
    }
    existing.sort();
    unknown.sort();
    let (existing, unknown) = (existing[2].as_secs_f64(), unknown[2].as_secs_f64());
    eprintln!("login timing: median failed login {:.1} ms with an account, {:.1} ms without (ratio {:.2})", existing * 1e3, unknown * 1e3, unknown / existing);
    // Loose on purpose: both run one argon2 verification; without the decoy the unknown
    // account would answer in well under a tenth of the time.
    assert!(
        (0.5..2.0).contains(&(unknown / existing)),
        "{existing} vs {unknown}"
    );
}

async fn tokens_are_stored_only_as_sha256_and_passwords_as_argon2id(app: TestApp) {
    let sara = app.register("Sara", Some("sara@example.com"), None).await;
    let hex = match app.database.backend() {
        Backend::Postgres => "SELECT encode(token_hash, 'hex') AS value FROM access_tokens",
        Backend::Sqlite => "SELECT lower(hex(token_hash)) AS value FROM access_tokens",
    };
    let stored = app.database.texts(hex);
    let digest: String = sha2_hex(&sara.token);
    assert_eq!(stored, [digest]);
    let clear_hex: String = sara.token.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!stored[0].contains(&clear_hex));
    let everything = app.database.texts("SELECT CAST(user_id AS TEXT) || CAST(created_at AS TEXT) || CAST(expires_at AS TEXT) AS value FROM access_tokens");
    assert!(!everything[0].contains(&sara.token));
    let hashes = app
        .database
        .texts("SELECT password_hash AS value FROM users");
    assert!(hashes[0].starts_with("$argon2id$v=19$"), "{}", hashes[0]);
    assert!(!hashes[0].contains("correct horse"));
    eprintln!("token storage: {} row(s), each a 32-byte SHA-256 digest, 0 clear tokens; password stored as argon2id PHC", stored.len());
}

fn sha2_hex(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn sends_over_the_per_user_limit_are_429() {
    let database = adapters_diesel::testing::TestDatabase::sqlite();
    let address = spawn_on(&database, &[("SEND_INVITATIONS_PER_USER", "2")]).await;
    let app = TestApp {
        address,
        client: client(),
        database,
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let event = app.create_event(&olivia, "E").await;
    for _ in 0..2 {
        app.send(&olivia, &event, json!(["nobody@example.com"]))
            .await
            .expect(200);
    }
    let limited = app
        .send(&olivia, &event, json!(["nobody@example.com"]))
        .await;
    assert_eq!(limited.expect(429)["code"], "too_many_requests");
    assert!(limited.headers.contains_key("retry-after"));
    eprintln!("send limit: SEND_INVITATIONS_PER_USER=2, third send in the minute answered 429 with Retry-After");
}

#[tokio::test]
async fn cors_preflight_is_answered_for_allowed_origins_only() {
    let database = adapters_diesel::testing::TestDatabase::sqlite();
    let address = spawn_on(
        &database,
        &[("CORS_ALLOWED_ORIGINS", "https://app.example")],
    )
    .await;
    let preflight = |origin: &'static str| {
        client()
            .request(
                Method::OPTIONS,
                format!("{address}/api/v1/invitations/{}", uuid::Uuid::now_v7()),
            )
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("PATCH"), "{methods}");
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(!refused
        .headers()
        .contains_key("access-control-allow-origin"));
    eprintln!("cors: preflight from the allowed origin answered {}, PATCH allowed; another origin gets no allow header", allowed.status());
}

/// Two `event-manager` processes on one PostgreSQL database, many concurrent clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_keep_the_invariants() {
    let Some(database) = adapters_diesel::testing::TestDatabase::postgres() else {
        return;
    };
    let servers = [
        ServerProcess::start(database.url(), &[]).await,
        ServerProcess::start(database.url(), &[]).await,
    ];
    let addresses = [servers[0].address.clone(), servers[1].address.clone()];
    let app = TestApp {
        address: addresses[0].clone(),
        client: client(),
        database,
    };

    // (a) 100 answers to one invitation, spread over both processes.
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let event = app.create_event(&olivia, "Race").await;
    let id = app
        .send(&olivia, &event, json!(["bob@example.com"]))
        .await
        .body["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let url = format!("{}/api/v1/invitations/{id}", addresses[i % 2]);
        let (client, token) = (app.client.clone(), bob.token.clone());
        let status = if i % 4 == 0 { "rejected" } else { "accepted" };
        tasks.spawn(async move {
            client
                .patch(url)
                .bearer_auth(token)
                .json(&json!({"status": status}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let mut codes = Vec::new();
    while let Some(code) = tasks.join_next().await {
        codes.push(code.unwrap());
    }
    let ok = codes.iter().filter(|c| **c == 200).count();
    let conflict = codes.iter().filter(|c| **c == 409).count();
    let final_status = app
        .get(&format!("/api/v1/invitations/{id}"), &bob.token)
        .await
        .body["data"]["status"]
        .clone();
    let members = app.database.texts(&format!("SELECT CAST(COUNT(*) AS TEXT) AS value FROM event_members WHERE event_id = '{event}' AND user_id = '{}'", bob.id));
    eprintln!("accept race: 100 requests, {ok} accepted or rejected, {conflict} conflict, final status {final_status}, {} membership", members[0]);
    assert_eq!((ok, conflict), (1, 99));
    assert_eq!(
        members,
        [if final_status == "accepted" { "1" } else { "0" }]
    );

    // (b) 20 concurrent batches inviting overlapping users to one event, over both processes.
    let mut contacts = Vec::new();
    for i in 0..30 {
        app.register(&format!("U{i}"), Some(&format!("u{i}@example.com")), None)
            .await;
        contacts.push(format!("u{i}@example.com"));
    }
    let unlimited = app.create_event(&olivia, "Overlap").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let url = format!("{}/api/v1/{unlimited}/send-invitations", addresses[i % 2]);
        let batch: Vec<_> = contacts
            .iter()
            .cycle()
            .skip(i * 3)
            .take(15)
            .cloned()
            .collect();
        let (client, token) = (app.client.clone(), olivia.token.clone());
        tasks.spawn(async move {
            Reply::read(
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"invitations": batch}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        });
    }
    let mut sent = 0;
    let mut limited = 0;
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.status.as_u16() {
            200 => sent += reply.body["data"]["sent"].as_array().unwrap().len(),
            429 => limited += 1,
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    let pending = app.database.texts(&format!("SELECT CAST(COUNT(*) AS TEXT) AS value FROM invitations WHERE event_id = '{unlimited}' AND status = 'pending'"));
    eprintln!(
        "batch race: 20 batches ({limited} rate-limited), {sent} invitations sent, {} pending rows",
        pending[0]
    );
    assert_eq!(pending, [sent.to_string()]);
    assert!(sent <= 30);

    // (c) the whole database is consistent.
    assert_consistent(&app);
    eprintln!("consistency: accepted without membership 0, pending duplicates 0, members_count mismatches 0");
    drop(servers);
}

/// The token cache across two `event-manager` processes on one PostgreSQL database
/// (docs/operations.md, "Token cache"): a logout is refused at once by the process that made it,
/// and by another process once `TOKEN_CACHE_SECS` has passed, never later.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_logged_out_on_one_process_is_refused_by_another_within_the_cache_age() {
    let Some(database) = adapters_diesel::testing::TestDatabase::postgres() else {
        return;
    };
    let vars = [("TOKEN_CACHE_SECS", "1")];
    let servers = [
        ServerProcess::start(database.url(), &vars).await,
        ServerProcess::start(database.url(), &vars).await,
    ];
    let app = TestApp {
        address: servers[0].address.clone(),
        client: client(),
        database,
    };
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let me_on = |server: usize| {
        let request = app
            .client
            .get(format!("{}/api/v1/me", servers[server].address))
            .bearer_auth(&ann.token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // The other process has the token in its cache now.
    assert_eq!(me_on(1).await, 200);
    app.call(Method::POST, "/api/v1/logout", Some(&ann.token), None)
        .await
        .expect(204);
    let logged_out = std::time::Instant::now();
    assert_eq!(me_on(0).await, 401, "refused at once where it was revoked");
    let mut seen_after = None;
    while logged_out.elapsed() < std::time::Duration::from_secs(5) {
        if me_on(1).await == 401 {
            seen_after = Some(logged_out.elapsed());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seen_after = seen_after.expect("the other process refused the token");
    // One second of cache age (counted from the other process's look-up, before the logout),
    // plus the time the requests themselves take on a loaded machine.
    assert!(
        seen_after < std::time::Duration::from_millis(1800),
        "refused after {seen_after:?}"
    );
    // And from then on.
    assert_eq!(me_on(1).await, 401);
}
