//! Proofs under races across two server processes on one PostgreSQL database (docs/security.md):
//! two accounts proving one address, and a flood of login-code requests.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{client, ServerProcess, TestApp};
use crate::proofs::Outbox;

const WITHIN: Duration = Duration::from_secs(20);

/// `POST {address}/api/v1{path}`: the status and the body.
async fn post(address: &str, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = client().post(format!("{address}/api/v1{path}")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

/// Registers `name` with `email` on the process at `address`; its token.
async fn register(address: &str, name: &str, email: &str) -> String {
    let (status, body) = post(
        address,
        "/register",
        None,
        json!({"name": name, "email": email, "password": "correct horse"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["token"].as_str().unwrap().to_owned()
}

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
    let addresses = [servers[0].address.clone(), servers[1].address.clone()];
    for round in 0..20 {
        let address = format!("round{round}@contested.example");
        let first = register(&addresses[0], "First", &address).await;
        let second = register(&addresses[1], "Second", &address).await;
        let codes = outbox.codes("mail", &address, 2).await;
        // Each account tries both codes (one is its own), at once, on its own process.
        let attempt = |on: String, token: String, codes: Vec<String>| async move {
            for code in codes {
                let (status, body) = post(
                    &on,
                    "/me/verifications/confirm",
                    Some(&token),
                    json!({"channel": "email", "code": code}),
                )
                .await;
                if status == 200 {
                    return true;
                }
                assert_eq!(status, 422, "{body}");
            }
            false
        };
        let (x, y) = tokio::join!(
            attempt(addresses[0].clone(), first, codes.clone()),
            attempt(addresses[1].clone(), second, codes.clone()),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_quota_of_contacts_named_holds_across_two_processes() {
    let Some(database) = adapters_diesel::testing::TestDatabase::postgres() else {
        return;
    };
    let vars = [("SEND_RECIPIENTS_PER_DAY", "25")];
    let servers = [
        ServerProcess::start(database.url(), &vars).await,
        ServerProcess::start(database.url(), &vars).await,
    ];
    let addresses = [servers[0].address.clone(), servers[1].address.clone()];
    let olivia = register(&addresses[0], "Olivia", "olivia@example.com").await;
    let (status, event) = post(
        &addresses[0],
        "/events",
        Some(&olivia),
        json!({"title": "Quota"}),
    )
    .await;
    assert_eq!(status, 201, "{event}");
    let event = event["data"]["id"].as_str().unwrap().to_owned();
    // Forty sends at once, one contact each, nobody's: alternating between the processes.
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..40 {
        let (address, token, event) = (addresses[n % 2].clone(), olivia.clone(), event.clone());
        sends.spawn(async move {
            let (status, body) = post(
                &address,
                &format!("/{event}/send-invitations"),
                Some(&token),
                json!({"invitations": [format!("stranger{n}@example.com")]}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body["data"]["ignored"][0]["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        });
    }
    let mut reasons = std::collections::BTreeMap::new();
    while let Some(reason) = sends.join_next().await {
        *reasons.entry(reason.unwrap()).or_insert(0) += 1;
    }
    eprintln!("quotas: 40 concurrent sends over two processes, quota 25: {reasons:?}");
    assert_eq!(reasons.get("not_a_user"), Some(&25), "{reasons:?}");
    assert_eq!(reasons.get("quota_exceeded"), Some(&15), "{reasons:?}");
}
