//! Login and registration limits through the running binary: concurrent attempts cannot slip past
//! a limit, an attacking address cannot lock the real user out, registrations are limited per
//! client address, the client address behind a trusted proxy is the forwarded one, and two
//! processes on one PostgreSQL database share the limits.

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;
use serde_json::{json, Value};

use crate::helpers::{api_tests, client, spawn_on, Reply, ServerProcess, TestApp};

const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// POSTs `body` to `path` as a client at `address`, told by a trusted proxy on loopback.
async fn post_from(server: &str, path: &str, address: &str, body: Value) -> Reply {
    let response = client()
        .post(format!("{server}{path}"))
        .header("x-forwarded-for", address)
        .json(&body)
        .send()
        .await
        .unwrap();
    Reply::read(response).await
}

fn register_body(name: &str, email: &str) -> Value {
    json!({"name": name, "email": email, "password": "correct horse"})
}

api_tests!(forty_concurrent_wrong_passwords_for_one_account_check_only_five);

async fn forty_concurrent_wrong_passwords_for_one_account_check_only_five(app: TestApp) {
    app.register("Sara", Some("sara@example.com"), None).await;
    let attempts = (0..40).map(|_| {
        let app_url = app.url("/api/v1/login");
        tokio::spawn(async move {
            let response = client()
                .post(app_url)
                .json(&json!({"login": "sara@example.com", "password": "wrong password"}))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    eprintln!("login limit under concurrency: of 40 concurrent wrong passwords, {checked} were checked (401), {limited} refused (429)");
    assert_eq!((checked, limited), (5, 35), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacking_address_cannot_lock_the_real_user_out() {
    for backend in BACKENDS {
        let Some(database) = TestDatabase::new(backend) else {
            continue;
        };
        let server = spawn_on(&database, &[("TRUSTED_PROXIES", "127.0.0.1")]).await;
        post_from(
            &server,
            "/api/v1/register",
            "198.51.100.7",
            register_body("Sara", "sara@example.com"),
        )
        .await
        .expect(201);
        let wrong = json!({"login": "sara@example.com", "password": "wrong password"});
        for _ in 0..5 {
            post_from(&server, "/api/v1/login", "203.0.113.9", wrong.clone())
                .await
                .expect(401);
        }
        let attacker = post_from(&server, "/api/v1/login", "203.0.113.9", wrong.clone()).await;
        attacker.expect(429);
        let right = json!({"login": "sara@example.com", "password": "correct horse"});
        let user = post_from(&server, "/api/v1/login", "198.51.100.7", right).await;
        assert_eq!(user.status, 200, "{backend:?}: {:?}", user.body);
        eprintln!("lockout ({backend:?}): 5 failures from 203.0.113.9 → its 6th attempt 429; the real user from 198.51.100.7 → 200");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_are_limited_per_client_address() {
    for backend in BACKENDS {
        let Some(database) = TestDatabase::new(backend) else {
            continue;
        };
        let server = spawn_on(
            &database,
            &[
                ("TRUSTED_PROXIES", "127.0.0.0/8"),
                ("REGISTRATIONS_PER_ADDRESS", "3"),
            ],
        )
        .await;
        for i in 0..3 {
            let body = register_body("Bot", &format!("bot{i}@example.com"));
            post_from(&server, "/api/v1/register", "203.0.113.9", body)
                .await
                .expect(201);
        }
        let body = register_body("Bot", "bot3@example.com");
        let limited = post_from(&server, "/api/v1/register", "203.0.113.9", body).await;
        assert_eq!(limited.expect(429)["code"], "too_many_requests");
        assert!(limited.headers.contains_key("retry-after"));
        let body = register_body("Ann", "ann@example.com");
        post_from(&server, "/api/v1/register", "198.51.100.7", body)
            .await
            .expect(201);
        eprintln!("register limit ({backend:?}): REGISTRATIONS_PER_ADDRESS=3, the 4th from one address 429, another address 201");
    }
}

/// One IPv6 subscriber owns a whole /64: walking its addresses does not step around a limit
/// (`IPV6_CLIENT_PREFIX`, docs/operations.md "Abuse limits and the client address").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_from_one_ipv6_64_share_one_limit() {
    for backend in BACKENDS {
        let Some(database) = TestDatabase::new(backend) else {
            continue;
        };
        let server = spawn_on(
            &database,
            &[
                ("TRUSTED_PROXIES", "127.0.0.0/8"),
                ("REGISTRATIONS_PER_ADDRESS", "3"),
            ],
        )
        .await;
        for i in 1..=3 {
            let body = register_body("Bot", &format!("bot{i}@example.com"));
            post_from(
                &server,
                "/api/v1/register",
                &format!("2001:db8:1:2::{i}"),
                body,
            )
            .await
            .expect(201);
        }
        // A fourth address of the same /64, far from the others: the same client.
        let body = register_body("Bot", "bot4@example.com");
        let limited = post_from(
            &server,
            "/api/v1/register",
            "2001:db8:1:2:ffff:ffff:ffff:fffe",
            body,
        )
        .await;
        assert_eq!(limited.expect(429)["code"], "too_many_requests");
        // The next /64 is another client.
        let body = register_body("Ann", "ann@example.com");
        post_from(&server, "/api/v1/register", "2001:db8:1:3::1", body)
            .await
            .expect(201);
        eprintln!("IPv6 ({backend:?}): REGISTRATIONS_PER_ADDRESS=3, the 4th from another address of one /64 429, the next /64 201");
    }
    // With IPV6_CLIENT_PREFIX=128 each address is a client of its own.
    let database = TestDatabase::sqlite();
    let server = spawn_on(
        &database,
        &[
            ("TRUSTED_PROXIES", "127.0.0.0/8"),
            ("REGISTRATIONS_PER_ADDRESS", "1"),
            ("IPV6_CLIENT_PREFIX", "128"),
        ],
    )
    .await;
    for i in 1..=2 {
        let body = register_body("Bot", &format!("bot{i}@example.com"));
        post_from(
            &server,
            "/api/v1/register",
            &format!("2001:db8:1:2::{i}"),
            body,
        )
        .await
        .expect(201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_flood_does_not_starve_logins() {
    for backend in BACKENDS {
        let Some(database) = TestDatabase::new(backend) else {
            continue;
        };
        let server = spawn_on(&database, &[]).await;
        let login_url = format!("{server}/api/v1/login");
        let login = |url: String| async move {
            let started = std::time::Instant::now();
            let response = client()
                .post(url)
                .json(&json!({"login": "sara@example.com", "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            started.elapsed()
        };
        post_from(
            &server,
            "/api/v1/register",
            "127.0.0.1",
            register_body("Sara", "sara@example.com"),
        )
        .await
        .expect(201);
        let quiet = login(login_url.clone()).await;
        let flood: Vec<_> = (0..60)
            .map(|i| {
                let url = format!("{server}/api/v1/register");
                tokio::spawn(async move {
                    let body = register_body("Bot", &format!("bot{i}@example.com"));
                    client()
                        .post(url)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let during = login(login_url).await;
        let mut statuses = Vec::new();
        for registration in flood {
            statuses.push(registration.await.unwrap());
        }
        let created = statuses.iter().filter(|s| **s == 201).count();
        let shed = statuses.iter().filter(|s| **s == 503).count();
        eprintln!(
            "hashing share ({backend:?}): login {:.0} ms alone, {:.0} ms during 60 concurrent registrations ({created} x 201, {shed} x 503 after the bounded wait)",
            quiet.as_secs_f64() * 1e3,
            during.as_secs_f64() * 1e3
        );
        assert_eq!(created + shed, 60, "{statuses:?}");
        // Before the gate a login waited behind every queued registration (1.42 s against 25 ms).
        // Now at most one registration hash runs beside it.
        assert!(
            during < quiet * 6 + std::time::Duration::from_millis(150),
            "{quiet:?} then {during:?}"
        );
    }
}

/// Two real `event-manager` processes on one PostgreSQL database count against one set of limits:
/// with counters in each process, each would allow the whole limit, so two processes would check
/// 10 of the 40 wrong passwords and take 6 registrations where 3 are allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_share_the_login_and_registration_limits() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let vars = [
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("LOGIN_FAILURES_PER_ACCOUNT_ADDRESS", "5"),
        ("REGISTRATIONS_PER_ADDRESS", "3"),
    ];
    let servers = [
        ServerProcess::start(database.url(), &vars).await,
        ServerProcess::start(database.url(), &vars).await,
    ];
    let [first, second] = [servers[0].address.clone(), servers[1].address.clone()];
    post_from(
        &first,
        "/api/v1/register",
        "198.51.100.7",
        register_body("Sara", "sara@example.com"),
    )
    .await
    .expect(201);

    // 40 concurrent wrong passwords for one account from one address, alternating processes.
    let wrong = json!({"login": "sara@example.com", "password": "wrong password"});
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..40 {
        let server = [&first, &second][i % 2].clone();
        let wrong = wrong.clone();
        attempts.spawn(async move {
            post_from(&server, "/api/v1/login", "203.0.113.9", wrong)
                .await
                .status
                .as_u16()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = attempts.join_next().await {
        statuses.push(status.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    eprintln!(
        "{checked} of 40 concurrent bad logins checked across 2 processes ({limited} refused with \
         429; LOGIN_FAILURES_PER_ACCOUNT_ADDRESS=5)"
    );
    assert!(checked <= 5, "{checked} checked: {statuses:?}");
    assert_eq!(checked + limited, 40, "{statuses:?}");
    for server in [&first, &second] {
        let again = post_from(server, "/api/v1/login", "203.0.113.9", wrong.clone()).await;
        assert!(again.headers.contains_key("retry-after"));
        again.expect(429);
    }
    let right = json!({"login": "sara@example.com", "password": "correct horse"});
    post_from(&second, "/api/v1/login", "198.51.100.7", right)
        .await
        .expect(200);

    // REGISTRATIONS_PER_ADDRESS=3 over both processes together.
    for (i, server) in [&first, &second, &first].into_iter().enumerate() {
        let body = register_body("Bot", &format!("bot{i}@example.com"));
        post_from(server, "/api/v1/register", "203.0.113.20", body)
            .await
            .expect(201);
    }
    for (i, server) in [&second, &first].into_iter().enumerate() {
        let body = register_body("Bot", &format!("late{i}@example.com"));
        post_from(server, "/api/v1/register", "203.0.113.20", body)
            .await
            .expect(429);
    }
    eprintln!(
        "registrations across 2 processes: REGISTRATIONS_PER_ADDRESS=3, 3 answered 201 (2 by one \
         process, 1 by the other), the 4th and 5th 429 on either"
    );
    drop(servers);
}

/// The quotas on cheap writes (docs/api.md, "Rate limit headers"): events created within a day,
/// event edits and stream tickets within a minute, counted per user; on PostgreSQL across two
/// instances on one database, alternating between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_edits_and_stream_tickets_past_their_quotas_are_429_across_instances() {
    for backend in BACKENDS {
        let Some(database) = TestDatabase::new(backend) else {
            continue;
        };
        let vars = [
            ("EVENTS_PER_USER_PER_DAY", "3"),
            ("EVENT_EDITS_PER_USER_PER_MINUTE", "2"),
            ("STREAM_TICKETS_PER_USER_PER_MINUTE", "2"),
        ];
        let first = spawn_on(&database, &vars).await;
        // SQLite is one process: its counters live in it. PostgreSQL shares them.
        let second = match backend {
            Backend::Sqlite => first.clone(),
            Backend::Postgres => spawn_on(&database, &vars).await,
        };
        let app = |address: &str| TestApp {
            address: address.to_owned(),
            client: client(),
            database: TestDatabase::sqlite(),
        };
        let (a, b) = (app(&first), app(&second));
        let olivia = a.register("Olivia", Some("olivia@example.com"), None).await;
        let sara = b.register("Sara", Some("sara@example.com"), None).await;

        // A refused body costs nothing of the day's quota.
        let invalid = a
            .post("/api/v1/events", Some(&olivia.token), json!({"title": ""}))
            .await;
        invalid.expect(422);
        let mut events = Vec::new();
        for (i, instance) in [&a, &b, &a].into_iter().enumerate() {
            events.push(instance.create_event(&olivia, &format!("E{i}")).await);
        }
        let refused = b
            .post(
                "/api/v1/events",
                Some(&olivia.token),
                json!({"title": "E3"}),
            )
            .await;
        assert_eq!(refused.expect(429)["code"], "too_many_requests");
        let wait: u64 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait > 23 * 3600, "Retry-After {wait}");
        assert_eq!(
            refused.headers["ratelimit-policy"],
            r#""event-day";q=3;w=86400"#
        );
        // Another user's quota is their own.
        b.create_event(&sara, "Sara's").await;

        let edit = |instance: &TestApp, i: usize| {
            let path = format!("/api/v1/events/{}", events[0]);
            let body = json!({"title": format!("Edit {i}")});
            let token = olivia.token.clone();
            let instance = TestApp {
                address: instance.address.clone(),
                client: client(),
                database: TestDatabase::sqlite(),
            };
            async move { instance.patch(&path, &token, body).await }
        };
        edit(&a, 1).await.expect(200);
        edit(&b, 2).await.expect(200);
        let refused = edit(&a, 3).await;
        assert_eq!(refused.expect(429)["code"], "too_many_requests");
        assert!(refused.headers.contains_key("retry-after"));

        for instance in [&b, &a] {
            instance
                .post("/api/v1/stream-tickets", Some(&olivia.token), json!({}))
                .await
                .expect(201);
        }
        let refused = b
            .post("/api/v1/stream-tickets", Some(&olivia.token), json!({}))
            .await;
        assert_eq!(refused.expect(429)["code"], "too_many_requests");
        eprintln!(
            "quotas ({backend:?}): EVENTS_PER_USER_PER_DAY=3 -> 4th event 429 (Retry-After {wait} s), \
             EVENT_EDITS_PER_USER_PER_MINUTE=2 -> 3rd edit 429, \
             STREAM_TICKETS_PER_USER_PER_MINUTE=2 -> 3rd ticket 429"
        );
    }
}
