//! Conditional requests (docs/api.md, "Conditional requests"): the `ETag` of every single-resource
//! GET, `If-None-Match` answered by a 304, `If-Match` on edits, deletes and answers answered by a
//! 412 when stale, and of two writes on one ETag through two service processes, exactly one wins.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{api_tests, spawn_on, Reply, TestApp, TestUser};

api_tests!(
    conditional_every_single_resource_get_has_a_stable_etag_and_answers_304_when_it_matches,
    conditional_an_edit_changes_the_etag_and_a_stale_if_match_is_412_and_changes_nothing,
    conditional_a_delete_with_a_stale_if_match_is_412_and_the_event_stays,
    conditional_an_answer_with_a_stale_if_match_is_412,
    conditional_of_two_concurrent_edits_on_one_etag_through_two_processes_exactly_one_wins,
    conditional_of_two_concurrent_answers_on_one_etag_through_two_processes_exactly_one_wins
);

/// A request with `headers` on top of the bearer token and the JSON body.
async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    Reply::read(request.send().await.unwrap()).await
}

/// The reply's `ETag`, asserted to be a strong tag of 32 hex digits.
#[track_caller]
fn etag(reply: &Reply) -> String {
    let value = reply
        .headers
        .get("etag")
        .unwrap_or_else(|| panic!("no ETag: {} {}", reply.status, reply.text))
        .to_str()
        .unwrap()
        .to_owned();
    let inner = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
    assert!(
        inner.is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())),
        "{value}"
    );
    value
}

/// Asserts that two GETs of `path` carry one ETag, that `If-None-Match` naming it (among others,
/// or weakly) is a 304 without a body, and that one naming another is a 200.
async fn assert_conditional_get(app: &TestApp, path: &str, token: &str) {
    let first = request(app, Method::GET, path, token, None, &[]).await;
    first.expect(200);
    let tag = etag(&first);
    assert_eq!(
        first.headers["cache-control"], "private, no-cache",
        "{path}"
    );
    let again = request(app, Method::GET, path, token, None, &[]).await;
    assert_eq!(etag(&again), tag, "{path}: stable");
    assert_eq!(again.text, first.text);

    for condition in [tag.clone(), format!("\"0123\", W/{tag}"), "*".to_owned()] {
        let cached = request(
            app,
            Method::GET,
            path,
            token,
            None,
            &[("If-None-Match", &condition)],
        )
        .await;
        assert_eq!(cached.status, 304, "{path} {condition}: {}", cached.text);
        assert_eq!(etag(&cached), tag);
        assert!(cached.text.is_empty(), "{}", cached.text);
    }
    let other = request(
        app,
        Method::GET,
        path,
        token,
        None,
        &[("If-None-Match", "\"00000000000000000000000000000000\"")],
    )
    .await;
    assert_eq!(other.expect(200), &first.body);
}

/// Olivia's event, and Bob's pending invitation to it.
async fn event_with_invitation(app: &TestApp) -> (TestUser, TestUser, String, String) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let event = app.create_event(&olivia, "Launch").await;
    let sent = app.send(&olivia, &event, json!(["bob@example.com"])).await;
    let invitation = sent.expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not sent: {}", sent.text))
        .to_owned();
    (olivia, bob, event, invitation)
}

fn rename(title: &str) -> Option<Value> {
    Some(json!({"title": title}))
}

async fn conditional_every_single_resource_get_has_a_stable_etag_and_answers_304_when_it_matches(
    app: TestApp,
) {
    let (olivia, bob, event, invitation) = event_with_invitation(&app).await;
    let hook = app
        .post(
            "/api/v1/webhooks",
            Some(&olivia.token),
            json!({"url": "https://93.184.216.34/hook", "events": ["invitation.created"]}),
        )
        .await;
    let hook = hook.expect(201)["data"]["id"].as_str().unwrap().to_owned();

    assert_conditional_get(&app, &format!("/api/v1/events/{event}"), &olivia.token).await;
    let invitation_path = format!("/api/v1/invitations/{invitation}");
    assert_conditional_get(&app, &invitation_path, &olivia.token).await;
    assert_conditional_get(&app, &invitation_path, &bob.token).await;
    assert_conditional_get(&app, &format!("/api/v1/webhooks/{hook}"), &olivia.token).await;
    assert_conditional_get(&app, "/api/v1/me", &bob.token).await;

    // The ETag is the body's: each caller's own representation has its own.
    let olivia_me = request(&app, Method::GET, "/api/v1/me", &olivia.token, None, &[]).await;
    let bob_me = request(&app, Method::GET, "/api/v1/me", &bob.token, None, &[]).await;
    assert_ne!(etag(&olivia_me), etag(&bob_me));
}

async fn conditional_an_edit_changes_the_etag_and_a_stale_if_match_is_412_and_changes_nothing(
    app: TestApp,
) {
    let (olivia, _, event, _) = event_with_invitation(&app).await;
    let path = format!("/api/v1/events/{event}");
    let read = etag(&app.get(&path, &olivia.token).await);

    let edited = app
        .patch(&path, &olivia.token, json!({"title": "First"}))
        .await;
    edited.expect(200);
    let current = etag(&app.get(&path, &olivia.token).await);
    assert_ne!(current, read, "the representation changed");
    assert_eq!(etag(&edited), current, "a write answers the new ETag");

    for stale in [read.clone(), format!("W/{current}"), "\"nope\"".to_owned()] {
        let refused = request(
            &app,
            Method::PATCH,
            &path,
            &olivia.token,
            rename("Lost"),
            &[("If-Match", &stale)],
        )
        .await;
        assert_eq!(
            refused.expect(412),
            &json!({
                "message": "The resource was changed since you read it; fetch it again.",
                "code": "precondition_failed"
            }),
            "{stale}"
        );
    }
    let problem = request(
        &app,
        Method::PATCH,
        &path,
        &olivia.token,
        rename("Lost"),
        &[("If-Match", &read), ("Accept", "application/problem+json")],
    )
    .await;
    assert_eq!(problem.status, 412);
    assert_eq!(
        problem.body["code"], "precondition_failed",
        "{}",
        problem.text
    );
    let shown = app.get(&path, &olivia.token).await;
    assert_eq!(shown.expect(200)["data"]["title"], "First");
    assert_eq!(etag(&shown), current, "nothing changed");

    let list = format!("\"0123\", {current}");
    let accepted = request(
        &app,
        Method::PATCH,
        &path,
        &olivia.token,
        rename("Second"),
        &[("If-Match", &list)],
    )
    .await;
    assert_eq!(accepted.expect(200)["data"]["title"], "Second");
    let any = request(
        &app,
        Method::PATCH,
        &path,
        &olivia.token,
        rename("Third"),
        &[("If-Match", "*")],
    )
    .await;
    assert_eq!(any.expect(200)["data"]["title"], "Third");
}

async fn conditional_a_delete_with_a_stale_if_match_is_412_and_the_event_stays(app: TestApp) {
    let (olivia, _, event, _) = event_with_invitation(&app).await;
    let path = format!("/api/v1/events/{event}");
    let read = etag(&app.get(&path, &olivia.token).await);
    app.patch(&path, &olivia.token, json!({"location": "Roof"}))
        .await
        .expect(200);

    let refused = request(
        &app,
        Method::DELETE,
        &path,
        &olivia.token,
        None,
        &[("If-Match", &read)],
    )
    .await;
    assert_eq!(refused.expect(412)["code"], "precondition_failed");
    assert_eq!(app.get(&path, &olivia.token).await.status, 200);

    let current = etag(&app.get(&path, &olivia.token).await);
    let deleted = request(
        &app,
        Method::DELETE,
        &path,
        &olivia.token,
        None,
        &[("If-Match", &current)],
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(app.get(&path, &olivia.token).await.status, 404);
}

async fn conditional_an_answer_with_a_stale_if_match_is_412(app: TestApp) {
    let (olivia, bob, event, invitation) = event_with_invitation(&app).await;
    let path = format!("/api/v1/invitations/{invitation}");
    let read = etag(&app.get(&path, &bob.token).await);
    // Renaming the event changes the invitation's representation (its event title).
    app.patch(
        &format!("/api/v1/events/{event}"),
        &olivia.token,
        json!({"title": "Renamed"}),
    )
    .await
    .expect(200);

    let answer = Some(json!({"status": "accepted"}));
    let refused = request(
        &app,
        Method::PATCH,
        &path,
        &bob.token,
        answer.clone(),
        &[("If-Match", &read)],
    )
    .await;
    assert_eq!(refused.expect(412)["code"], "precondition_failed");
    assert_eq!(
        app.get(&path, &bob.token).await.expect(200)["data"]["status"],
        "pending"
    );

    let current = etag(&app.get(&path, &bob.token).await);
    let accepted = request(
        &app,
        Method::PATCH,
        &path,
        &bob.token,
        answer,
        &[("If-Match", &current)],
    )
    .await;
    assert_eq!(accepted.expect(200)["data"]["status"], "accepted");
    assert_eq!(etag(&accepted), etag(&app.get(&path, &bob.token).await));
}

/// A second service process on the app's database (see `members.rs`).
async fn second(app: &TestApp) -> TestApp {
    TestApp {
        address: spawn_on(&app.database, &[]).await,
        client: app.client.clone(),
        database: adapters_diesel::testing::TestDatabase::sqlite(),
    }
}

const ROUNDS: usize = 20;

async fn conditional_of_two_concurrent_edits_on_one_etag_through_two_processes_exactly_one_wins(
    app: TestApp,
) {
    let other = second(&app).await;
    let (olivia, _, event, _) = event_with_invitation(&app).await;
    let path = format!("/api/v1/events/{event}");
    for round in 0..ROUNDS {
        let read = etag(&app.get(&path, &olivia.token).await);
        let condition = [("If-Match", read.as_str())];
        let (a, b) = tokio::join!(
            request(
                &app,
                Method::PATCH,
                &path,
                &olivia.token,
                rename(&format!("A{round}")),
                &condition,
            ),
            request(
                &other,
                Method::PATCH,
                &path,
                &olivia.token,
                rename(&format!("B{round}")),
                &condition,
            ),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 412],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        let winner = if a.status == 200 { &a } else { &b };
        let shown = app.get(&path, &olivia.token).await;
        assert_eq!(
            shown.expect(200)["data"]["title"],
            winner.body["data"]["title"]
        );
    }
}

async fn conditional_of_two_concurrent_answers_on_one_etag_through_two_processes_exactly_one_wins(
    app: TestApp,
) {
    let other = second(&app).await;
    let (_, bob, _, invitation) = event_with_invitation(&app).await;
    let path = format!("/api/v1/invitations/{invitation}");
    let read = etag(&app.get(&path, &bob.token).await);
    let condition = [("If-Match", read.as_str())];
    let (a, b) = tokio::join!(
        request(
            &app,
            Method::PATCH,
            &path,
            &bob.token,
            Some(json!({"status": "accepted"})),
            &condition,
        ),
        request(
            &other,
            Method::PATCH,
            &path,
            &bob.token,
            Some(json!({"status": "rejected"})),
            &condition,
        ),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert!(
        statuses == [200, 409] || statuses == [200, 412],
        "{statuses:?}: {} / {}",
        a.text,
        b.text
    );
    let winner = if a.status == 200 { &a } else { &b };
    let shown = app.get(&path, &bob.token).await;
    assert_eq!(
        shown.expect(200)["data"]["status"],
        winner.body["data"]["status"]
    );
}
