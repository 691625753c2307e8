//! The headers and error forms every answer follows, end to end (docs/api.md, "Conventions",
//! "Problem details", "Rate limit headers"): `Location` on every 201 (replays included),
//! `WWW-Authenticate` on every 401, `Retry-After` on every 503, the rate limit headers of the
//! limited operations, and RFC 9457 problem details for clients that ask for them, with the default
//! body unchanged for the others.

use adapters_diesel::Backend;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{api_tests, api_tests_once, client, spawn_on, Reply, TestApp};

const PROBLEM: &str = "application/problem+json";

/// One request to the service at `address`, with a bearer token, extra headers and a JSON body.
async fn request(
    address: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut request = client().request(method, format!("{address}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    Reply::read(request.send().await.unwrap()).await
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).map(|value| value.to_str().unwrap())
}

/// The `(name, r, t)` of each item of a `RateLimit` header.
fn levels(header: &str) -> Vec<(String, u32, u64)> {
    header
        .split(", ")
        .map(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap().trim_matches('"').to_owned();
            let mut number = |key: &str| {
                let part = parts.next().unwrap();
                part.strip_prefix(key).unwrap().parse::<u64>().unwrap()
            };
            let remaining = u32::try_from(number("r=")).unwrap();
            (name, remaining, number("t="))
        })
        .collect()
}

/// Asserts a problem details answer of `status` and `code` to a request for `instance`.
#[track_caller]
fn assert_problem(reply: &Reply, status: u16, code: &str, instance: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(header(reply, "content-type"), Some(PROBLEM));
    let body = &reply.body;
    assert_eq!(
        body["type"],
        format!("https://event-manager.example/problems/{code}")
    );
    assert!(body["title"]
        .as_str()
        .is_some_and(|title| !title.is_empty()));
    assert_eq!(body["status"], status);
    assert!(body["detail"].is_string(), "{body}");
    assert_eq!(body["instance"], instance);
    assert_eq!(body["code"], code);
}

api_tests!(
    every_201_names_what_it_created_in_location,
    an_idempotent_replay_of_a_201_keeps_its_location,
    a_401_challenges_with_bearer_and_calls_a_refused_token_invalid,
    a_503_says_when_to_retry_in_either_form,
    sends_count_down_in_the_rate_limit_headers,
    registrations_count_down_in_the_rate_limit_headers,
    failed_logins_count_down_in_the_rate_limit_headers,
    errors_come_as_problem_details_when_asked_for,
    without_asking_the_default_error_body_is_unchanged,
);

async fn every_201_names_what_it_created_in_location(app: TestApp) {
    let registered = app
        .register_with(
            json!({"name": "Ann", "email": "ann@example.com", "password": "correct horse"}),
        )
        .await;
    let token = registered.expect(201)["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // No URL shows a token: the account it belongs to stands for it.
    assert_eq!(header(&registered, "location"), Some("/api/v1/me"));

    let event = app
        .post("/api/v1/events", Some(&token), json!({"title": "Party"}))
        .await;
    let id = event.expect(201)["data"]["id"].as_str().unwrap();
    let location = header(&event, "location").unwrap();
    assert_eq!(location, format!("/api/v1/events/{id}"));
    assert_eq!(
        app.get(location, &token).await.expect(200)["data"]["id"],
        id
    );

    let webhook = app
        .post(
            "/api/v1/webhooks",
            Some(&token),
            json!({"url": "https://93.184.216.34/hook", "events": ["invitation.created"]}),
        )
        .await;
    let id = webhook.expect(201)["data"]["id"].as_str().unwrap();
    let location = header(&webhook, "location").unwrap();
    assert_eq!(location, format!("/api/v1/webhooks/{id}"));
    assert_eq!(
        app.get(location, &token).await.expect(200)["data"]["id"],
        id
    );

    // A stream ticket has no URL: the stream it opens stands for it.
    let ticket = app
        .post("/api/v1/stream-tickets", Some(&token), json!({}))
        .await;
    ticket.expect(201);
    assert_eq!(header(&ticket, "location"), Some("/api/v1/me/stream"));
}

async fn an_idempotent_replay_of_a_201_keeps_its_location(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let create = || {
        request(
            &app.address,
            Method::POST,
            "/api/v1/events",
            Some(&ann.token),
            &[("Idempotency-Key", "party-1")],
            Some(json!({"title": "Party"})),
        )
    };
    let first = create().await;
    let id = first.expect(201)["data"]["id"].as_str().unwrap();
    let replay = create().await;
    assert_eq!(replay.expect(201)["data"]["id"], id);
    assert_eq!(header(&replay, "idempotent-replayed"), Some("true"));
    assert_eq!(
        header(&replay, "location"),
        Some(format!("/api/v1/events/{id}").as_str())
    );
    assert_eq!(header(&replay, "location"), header(&first, "location"));
}

async fn a_401_challenges_with_bearer_and_calls_a_refused_token_invalid(app: TestApp) {
    const PLAIN: &str = r#"Bearer realm="event-manager""#;
    const INVALID: &str = r#"Bearer realm="event-manager", error="invalid_token""#;
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let me = |token: Option<&str>, headers: &'static [(&'static str, &'static str)]| {
        let address = app.address.clone();
        let token = token.map(str::to_owned);
        async move {
            request(
                &address,
                Method::GET,
                "/api/v1/me",
                token.as_deref(),
                headers,
                None,
            )
            .await
        }
    };

    let without = me(None, &[]).await;
    assert_eq!(without.expect(401), &json!({"message": "Unauthenticated."}));
    assert_eq!(header(&without, "www-authenticate"), Some(PLAIN));
    let basic = me(None, &[("Authorization", "Basic YW5uOmNvcnJlY3QgaG9yc2U=")]).await;
    assert_eq!(header(&basic, "www-authenticate"), Some(PLAIN));

    let unknown = me(Some("not-a-token-we-issued"), &[]).await;
    assert_eq!(unknown.expect(401), &json!({"message": "Unauthenticated."}));
    assert_eq!(header(&unknown, "www-authenticate"), Some(INVALID));
    app.call(Method::POST, "/api/v1/logout", Some(&ann.token), None)
        .await;
    let revoked = me(Some(&ann.token), &[]).await;
    revoked.expect(401);
    assert_eq!(header(&revoked, "www-authenticate"), Some(INVALID));

    let wrong = app
        .login(json!({"login": "ann@example.com", "password": "wrong horse"}))
        .await;
    assert_eq!(wrong.expect(401)["code"], "invalid_credentials");
    assert_eq!(header(&wrong, "www-authenticate"), Some(PLAIN));
}

async fn a_503_says_when_to_retry_in_either_form(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    // A process that waits 300 ms for a lock, and a client that holds the one creating an event
    // needs.
    let impatient = spawn_on(&app.database, &[("DATABASE_LOCK_TIMEOUT_MS", "300")]).await;
    let mut holder = app.database.session();
    match app.database.backend() {
        Backend::Postgres => holder.execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE"),
        Backend::Sqlite => holder.execute("BEGIN IMMEDIATE"),
    }
    for accept in ["application/json", PROBLEM] {
        let reply = request(
            &impatient,
            Method::POST,
            "/api/v1/events",
            Some(&ann.token),
            &[("Accept", accept)],
            Some(json!({"title": "Party"})),
        )
        .await;
        assert_eq!(reply.status, 503, "{}", reply.text);
        assert_eq!(header(&reply, "retry-after"), Some("5"));
        if accept == PROBLEM {
            assert_problem(&reply, 503, "service_unavailable", "/api/v1/events");
            assert_eq!(reply.body["detail"], "Service temporarily unavailable.");
        } else {
            assert_eq!(
                reply.expect(503),
                &json!({"message": "Service temporarily unavailable."})
            );
        }
    }
    drop(holder);
    app.post(
        "/api/v1/events",
        Some(&ann.token),
        json!({"title": "Party"}),
    )
    .await
    .expect(201);
}

async fn sends_count_down_in_the_rate_limit_headers(app: TestApp) {
    let limited = spawn_on(&app.database, &[("SEND_INVITATIONS_PER_USER", "3")]).await;
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let event = app.create_event(&ann, "Party").await;
    let path = format!("/api/v1/{event}/send-invitations");
    let send = || {
        request(
            &limited,
            Method::POST,
            &path,
            Some(&ann.token),
            &[],
            Some(json!({"invitations": ["nobody@example.com"]})),
        )
    };
    let mut left = Vec::new();
    for _ in 0..3 {
        let sent = send().await;
        sent.expect(200);
        assert_eq!(
            header(&sent, "ratelimit-policy"),
            Some(r#""send";q=3;w=60"#)
        );
        left.push(header(&sent, "ratelimit").map(str::to_owned));
    }
    let refused = send().await;
    assert_eq!(refused.expect(429)["code"], "too_many_requests");
    assert_eq!(
        header(&refused, "ratelimit-policy"),
        Some(r#""send";q=3;w=60"#)
    );
    let retry_after = header(&refused, "retry-after").unwrap();
    // Nothing left until the wait is over.
    assert_eq!(
        header(&refused, "ratelimit"),
        Some(format!(r#""send";r=0;t={retry_after}"#).as_str())
    );
    // The same on both backends: the counters, in the process or in the shared database, tell
    // what is left after each send.
    assert_eq!(
        left,
        [
            Some(r#""send";r=2;t=60"#.to_owned()),
            Some(r#""send";r=1;t=60"#.to_owned()),
            Some(r#""send";r=0;t=60"#.to_owned()),
        ]
    );
}

async fn registrations_count_down_in_the_rate_limit_headers(app: TestApp) {
    let limited = spawn_on(&app.database, &[("REGISTRATIONS_PER_ADDRESS", "2")]).await;
    let register = |email: &str| {
        request(
            &limited,
            Method::POST,
            "/api/v1/register",
            None,
            &[],
            Some(json!({"name": "Ann", "email": email, "password": "correct horse"})),
        )
    };
    let first = register("a@example.com").await;
    first.expect(201);
    // Counted even when invalid: the limit is on attempts.
    let invalid = register("not an email").await;
    invalid.expect(422);
    for reply in [&first, &invalid] {
        assert_eq!(
            header(reply, "ratelimit-policy"),
            Some(r#""register";q=2;w=60"#)
        );
    }
    let refused = register("c@example.com").await;
    refused.expect(429);
    let retry_after = header(&refused, "retry-after").unwrap();
    assert_eq!(
        header(&refused, "ratelimit"),
        Some(format!(r#""register";r=0;t={retry_after}"#).as_str())
    );
    assert_eq!(header(&first, "ratelimit"), Some(r#""register";r=1;t=60"#));
    assert_eq!(
        header(&invalid, "ratelimit"),
        Some(r#""register";r=0;t=60"#)
    );
}

async fn failed_logins_count_down_in_the_rate_limit_headers(app: TestApp) {
    let limited = spawn_on(
        &app.database,
        &[
            ("LOGIN_FAILURES_PER_ACCOUNT_ADDRESS", "2"),
            ("LOGIN_FAILURES_PER_ACCOUNT", "5"),
            ("LOGIN_FAILURES_PER_ADDRESS", "4"),
        ],
    )
    .await;
    app.register("Sara", Some("sara@example.com"), None).await;
    let login = |password: &str| {
        request(
            &limited,
            Method::POST,
            "/api/v1/login",
            None,
            &[],
            Some(json!({"login": "sara@example.com", "password": password})),
        )
    };
    let policies =
        r#""login-account-address";q=2;w=60, "login-account";q=5;w=60, "login-address";q=4;w=60"#;
    // A right password takes its counted failure back: its answer shows what was left before.
    let right = login("correct horse").await;
    right.expect(200);
    assert_eq!(header(&right, "ratelimit-policy"), Some(policies));
    assert_eq!(
        header(&right, "ratelimit"),
        Some(
            r#""login-account-address";r=2;t=60, "login-account";r=5;t=60, "login-address";r=4;t=60"#
        )
    );
    let first = login("wrong password").await;
    first.expect(401);
    assert_eq!(header(&first, "ratelimit-policy"), Some(policies));
    assert_eq!(
        header(&first, "ratelimit"),
        Some(
            r#""login-account-address";r=1;t=60, "login-account";r=4;t=60, "login-address";r=3;t=60"#
        )
    );
    let second = login("wrong password").await;
    second.expect(401);
    // The same on both backends, to the count; the reset is the first failure's, a hash later.
    let left = levels(header(&second, "ratelimit").unwrap());
    let names: Vec<_> = left
        .iter()
        .map(|(name, r, _)| (name.as_str(), *r))
        .collect();
    assert_eq!(
        names,
        [
            ("login-account-address", 0),
            ("login-account", 3),
            ("login-address", 2)
        ]
    );
    assert!(
        left.iter().all(|(_, _, t)| (55..=60).contains(t)),
        "{left:?}"
    );
    let refused = login("correct horse").await;
    assert_eq!(refused.expect(429)["code"], "too_many_requests");
    assert_eq!(header(&refused, "ratelimit-policy"), Some(policies));
    let retry_after = header(&refused, "retry-after").unwrap();
    // The full policy is named, with the wait; the others show what they still have.
    assert_eq!(
        header(&refused, "ratelimit"),
        Some(
            format!(
                r#""login-account-address";r=0;t={retry_after}, "login-account";r=3;t={retry_after}, "login-address";r=2;t={retry_after}"#
            )
            .as_str()
        )
    );
}

async fn errors_come_as_problem_details_when_asked_for(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let accept = [("Accept", PROBLEM)];

    let invalid = request(
        &app.address,
        Method::POST,
        "/api/v1/events",
        Some(&ann.token),
        &accept,
        Some(json!({"title": "", "starts_at": "soon"})),
    )
    .await;
    assert_problem(&invalid, 422, "validation_failed", "/api/v1/events");
    assert_eq!(invalid.body["title"], "The given data was invalid.");
    let errors = invalid.body["errors"].as_object().unwrap();
    assert!(errors.contains_key("title") && errors.contains_key("starts_at"));
    assert_eq!(invalid.body["detail"], {
        let default = app
            .post(
                "/api/v1/events",
                Some(&ann.token),
                json!({"title": "", "starts_at": "soon"}),
            )
            .await;
        default.expect(422)["message"].clone()
    });

    let unknown = format!("/api/v1/events/{}", uuid::Uuid::now_v7());
    let missing = request(
        &app.address,
        Method::GET,
        &unknown,
        Some(&ann.token),
        &accept,
        None,
    )
    .await;
    assert_problem(&missing, 404, "not_found", &unknown);
    assert_eq!(missing.body["detail"], "Event not found.");
    assert_eq!(missing.body["title"], "Not found.");
    assert!(missing.body.get("errors").is_none());

    let unauthenticated =
        request(&app.address, Method::GET, "/api/v1/me", None, &accept, None).await;
    assert_problem(&unauthenticated, 401, "unauthenticated", "/api/v1/me");
    assert_eq!(unauthenticated.body["detail"], "Unauthenticated.");
    assert_eq!(
        header(&unauthenticated, "www-authenticate"),
        Some(r#"Bearer realm="event-manager""#)
    );
}

async fn without_asking_the_default_error_body_is_unchanged(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let unknown = format!("/api/v1/events/{}", uuid::Uuid::now_v7());
    let no_accept: &[(&str, &str)] = &[];
    for headers in [
        no_accept,
        &[("Accept", "application/json")],
        &[("Accept", "*/*")],
        &[("Accept", "application/json, application/problem+json")],
    ] {
        let missing = request(
            &app.address,
            Method::GET,
            &unknown,
            Some(&ann.token),
            headers,
            None,
        )
        .await;
        assert_eq!(missing.status, 404);
        assert_eq!(
            header(&missing, "content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(
            missing.text,
            r#"{"code":"not_found","message":"Event not found."}"#
        );
        let invalid = request(
            &app.address,
            Method::POST,
            "/api/v1/events",
            Some(&ann.token),
            headers,
            Some(json!({})),
        )
        .await;
        assert_eq!(
            invalid.text,
            r#"{"errors":{"title":["The title field is required."]},"message":"The title field is required."}"#
        );
        let unauthenticated =
            request(&app.address, Method::GET, "/api/v1/me", None, headers, None).await;
        assert_eq!(unauthenticated.text, r#"{"message":"Unauthenticated."}"#);
    }
}

api_tests_once!(framework_errors_come_as_problem_details_when_asked_for);

async fn framework_errors_come_as_problem_details_when_asked_for(app: TestApp) {
    let accept = [("Accept", PROBLEM)];
    let unknown = request(
        &app.address,
        Method::GET,
        "/api/v1/nowhere",
        None,
        &accept,
        None,
    )
    .await;
    assert_problem(&unknown, 404, "not_found", "/api/v1/nowhere");
    assert_eq!(
        unknown.body["detail"],
        "The requested resource was not found."
    );
    let vary: Vec<&str> = unknown
        .headers
        .get_all("vary")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert!(vary.contains(&"Accept"), "{vary:?}");

    let wrong_method = request(
        &app.address,
        Method::PUT,
        "/api/v1/login",
        None,
        &accept,
        None,
    )
    .await;
    assert_problem(&wrong_method, 405, "method_not_allowed", "/api/v1/login");
    assert_eq!(header(&wrong_method, "allow"), Some("POST"));

    let not_json = client()
        .post(app.url("/api/v1/login"))
        .header("Accept", PROBLEM)
        .header("Content-Type", "application/json")
        .body("{\"login\":")
        .send()
        .await
        .unwrap();
    let not_json = Reply::read(not_json).await;
    assert_problem(&not_json, 400, "malformed_request", "/api/v1/login");
    assert!(not_json.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("The request body is not valid JSON"));

    let too_large = request(
        &app.address,
        Method::POST,
        "/api/v1/register",
        None,
        &accept,
        Some(json!({"name": "x".repeat(70_000)})),
    )
    .await;
    assert_problem(&too_large, 413, "payload_too_large", "/api/v1/register");
}
