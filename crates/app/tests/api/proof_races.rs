//! Proofs under races across two server processes on one PostgreSQL database (docs/security.md):
//! two accounts proving one address, and a flood of login-code requests.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{client, ServerProcess, TestApp};
use crate::proofs::Outbox;

const WITHIN: Duration = Duration::from_secs(20);

/// Two processes on one fresh PostgreSQL database, proofs required, messages written to
/// `outbox`; `None` without PostgreSQL (outside CI).
async fn two_processes(outbox: &Outbox) -> Option<(TestApp, [ServerProcess; 2])> {
    let database = adapters_diesel::testing::TestDatabase::postgres()?;
    let dir = outbox.path().to_str().unwrap().to_owned();
    let vars = [
        ("CONTACT_VERIFICATION", "required"),
        ("OUTBOX_DIR", dir.as_str()),
        ("SMTP_URL", ""),
        ("SMS_URL", ""),
    ];
    let servers = [
        ServerProcess::start(database.url(), &vars).await,
        ServerProcess::start(database.url(), &vars).await,
    ];
    let app = TestApp {
        address: servers[0].address.clone(),
        client: client(),
        database,
    };
    Some((app, servers))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_rounds_of_two_accounts_proving_one_address_on_two_processes_have_one_owner() {
    let outbox = Outbox::new();
    let Some((app, servers)) = two_processes(&outbox).await else {
        return;
    };
    let on = |i: usize| TestApp {
        address: servers[i].address.clone(),
        client: client(),
        database: app.database.clone_handle(),
    };
    let (a, b) = (on(0), on(1));
    for round in 0..20 {
        let address = format!("round{round}@contested.example");
        let first = a.register("First", Some(&address), None).await;
        let second = b.register("Second", Some(&address), None).await;
        let codes = outbox.codes("mail", &address, 2).await;
        // Each account tries both codes (one is its own), at once, on its own process.
        let attempt = |app: TestApp, token: String, codes: Vec<String>| async move {
            for code in codes {
                let reply = app
                    .post(
                        "/api/v1/me/verifications/confirm",
                        Some(&token),
                        json!({"channel": "email", "code": code}),
                    )
                    .await;
                if reply.status == 200 {
                    return true;
                }
                assert_eq!(reply.status, 422, "{}", reply.text);
            }
            false
        };
        let (x, y) = tokio::join!(
            attempt(on(0), first.token.clone(), codes.clone()),
            attempt(on(1), second.token.clone(), codes.clone()),
        );
        assert!(x ^ y, "round {round}: exactly one proof ({x}, {y})");
        let owners = app.database.texts(&format!(
            "SELECT CAST(id AS TEXT) AS value FROM users \
             WHERE email = '{address}' AND email_verified_at IS NOT NULL"
        ));
        assert_eq!(owners.len(), 1, "round {round}: {owners:?}");
        let claims = app.database.texts(&format!(
            "SELECT CAST(id AS TEXT) AS value FROM users WHERE email = '{address}'"
        ));
        assert_eq!(claims, owners, "round {round}: the loser's claim is gone");
    }
    eprintln!("proof races: 20 rounds on two processes, one owner each");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_login_code_requests_on_two_processes_sends_one_code_a_minute() {
    let outbox = Outbox::new();
    let Some((app, servers)) = two_processes(&outbox).await else {
        return;
    };
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let code = outbox.code("mail", "ann@example.com", 1).await;
    app.post(
        "/api/v1/me/verifications/confirm",
        Some(&ann.token),
        json!({"channel": "email", "code": code}),
    )
    .await
    .expect(200);

    let mut flood = tokio::task::JoinSet::new();
    for i in 0..40 {
        let url = format!("{}/api/v1/login/code", servers[i % 2].address);
        flood.spawn(async move {
            client()
                .post(url)
                .json(&json!({"login": "ann@example.com"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    while let Some(status) = flood.join_next().await {
        assert_eq!(status.unwrap(), 202);
    }
    // The codes were sent off the requests: give them time, then count.
    let started = Instant::now();
    while outbox.codes_now("mail", "ann@example.com").len() < 2 && started.elapsed() < WITHIN {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let codes = outbox.codes_now("mail", "ann@example.com");
    assert_eq!(
        codes.len(),
        2,
        "the proof's code and one login code, whatever the number of requests: {codes:?}"
    );
    eprintln!("login-code flood: 40 requests on two processes, 1 code sent");
}
