//! Signed cursors (docs/api.md, "Pagination"): a cursor is valid only for the caller, the list and
//! the filters it was issued for, and in every process on the database.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::helpers::{api_tests, ids, spawn_app, spawn_on, Reply, TestApp, TestUser};

/// Olivia owns "Launch" and "Other"; she invited Bob and Carol to Launch and Bob to Other, and
/// Bob and Carol accepted Launch's. Returns Olivia, Bob, Launch, Other.
async fn world(app: &TestApp) -> (TestUser, TestUser, String, String) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let carol = app.register("Carol", Some("carol@example.com"), None).await;
    let launch = app.create_event(&olivia, "Launch").await;
    let other = app.create_event(&olivia, "Other").await;
    let sent = app
        .send(
            &olivia,
            &launch,
            json!(["bob@example.com", "carol@example.com"]),
        )
        .await;
    let sent = ids(sent.expect(200)["data"]["sent"].as_array().unwrap());
    app.send(&olivia, &other, json!(["bob@example.com"]))
        .await
        .expect(200);
    app.answer(&bob, &sent[0], "accepted").await.expect(200);
    app.answer(&carol, &sent[1], "accepted").await.expect(200);
    (olivia, bob, launch, other)
}

/// `GET path` as `user` from the process at `address`.
async fn get_on(app: &TestApp, address: &str, path: &str, user: &TestUser) -> Reply {
    let request = app
        .client
        .get(format!("{address}{path}"))
        .bearer_auth(&user.token);
    Reply::read(request.send().await.unwrap()).await
}

/// The `next_cursor` of the first page of `path`, which must have one.
async fn next_cursor(app: &TestApp, path: &str, user: &TestUser) -> String {
    next_cursor_on(app, &app.address, path, user).await
}

/// [`next_cursor`] from the process at `address`.
async fn next_cursor_on(app: &TestApp, address: &str, path: &str, user: &TestUser) -> String {
    let reply = get_on(app, address, path, user).await;
    let cursor = reply.expect(200)["meta"]["next_cursor"].as_str();
    cursor
        .unwrap_or_else(|| panic!("{path}: no next page: {}", reply.text))
        .to_owned()
}

/// `path` with `cursor` must be the documented 422 on `cursor`.
#[track_caller]
fn assert_refused(reply: &Reply, what: &str) {
    assert_eq!(
        reply.expect(422),
        &json!({"errors": {"cursor": ["The cursor is invalid."]}, "message": "The cursor is invalid."}),
        "{what}"
    );
}

fn with_cursor(path: &str, cursor: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}cursor={cursor}")
}

api_tests!(
    a_forged_cursor_in_the_old_unsigned_format_is_422,
    another_users_cursor_is_422,
    a_cursor_of_one_list_is_422_on_another,
    changing_the_filters_under_a_cursor_is_422_but_the_page_size_may_change,
    a_valid_cursor_still_pages_every_list_and_is_signed
);

async fn a_forged_cursor_in_the_old_unsigned_format_is_422(app: TestApp) {
    let (olivia, _, _, _) = world(&app).await;
    let listed = app
        .collect("/api/v1/sent-invitations", &olivia.token, 100)
        .await;
    let newest: uuid::Uuid = listed[0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(newest.get_version_num(), 7);
    // Version 1 was the unsigned id alone: anyone could page from any id.
    let mut v1 = vec![1_u8];
    v1.extend_from_slice(newest.as_bytes());
    // The new form with a made-up tag.
    let mut v2 = vec![2_u8];
    v2.extend_from_slice(newest.as_bytes());
    v2.extend_from_slice(&[0; 16]);
    for forged in [v1, v2] {
        let forged = URL_SAFE_NO_PAD.encode(forged);
        for list in ["/api/v1/sent-invitations", "/api/v1/events"] {
            let reply = app.get(&with_cursor(list, &forged), &olivia.token).await;
            assert_refused(&reply, &format!("{list} {forged}"));
        }
    }
}

async fn another_users_cursor_is_422(app: TestApp) {
    let (olivia, bob, launch, _) = world(&app).await;
    for list in ["/api/v1/sent-invitations?limit=1", "/api/v1/events?limit=1"] {
        let cursor = next_cursor(&app, list, &olivia).await;
        let reply = app.get(&with_cursor(list, &cursor), &bob.token).await;
        assert_refused(&reply, &format!("Bob replaying Olivia's {list}"));
        app.get(&with_cursor(list, &cursor), &olivia.token)
            .await
            .expect(200);
    }
    // Bob is a member of Launch too, and still cannot use Olivia's cursor of its members.
    let members = format!("/api/v1/events/{launch}/members?limit=1");
    let cursor = next_cursor(&app, &members, &olivia).await;
    assert_refused(
        &app.get(&with_cursor(&members, &cursor), &bob.token).await,
        "members",
    );
}

async fn a_cursor_of_one_list_is_422_on_another(app: TestApp) {
    let (olivia, _, launch, other) = world(&app).await;
    let sent = next_cursor(&app, "/api/v1/sent-invitations?limit=1", &olivia).await;
    let events = next_cursor(&app, "/api/v1/events?limit=1", &olivia).await;
    let members = next_cursor(
        &app,
        &format!("/api/v1/events/{launch}/members?limit=1"),
        &olivia,
    )
    .await;
    let cases = [
        (
            "sent on received",
            "/api/v1/received-invitations".to_owned(),
            &sent,
        ),
        ("sent on events", "/api/v1/events".to_owned(), &sent),
        (
            "events on sent",
            "/api/v1/sent-invitations".to_owned(),
            &events,
        ),
        (
            "events on members",
            format!("/api/v1/events/{launch}/members"),
            &events,
        ),
        ("members on events", "/api/v1/events".to_owned(), &members),
        (
            "Launch's members on Other's",
            format!("/api/v1/events/{other}/members"),
            &members,
        ),
    ];
    for (what, list, cursor) in cases {
        assert_refused(
            &app.get(&with_cursor(&list, cursor), &olivia.token).await,
            what,
        );
    }
    // The sent list's two paths are one list.
    app.get(
        &with_cursor("/api/v1/sended-invitations", &sent),
        &olivia.token,
    )
    .await
    .expect(200);
}

async fn changing_the_filters_under_a_cursor_is_422_but_the_page_size_may_change(app: TestApp) {
    let (olivia, _, launch, _) = world(&app).await;
    // Olivia's invitations: three, two of them accepted.
    let path = "/api/v1/sent-invitations?status=accepted&limit=1";
    let cursor = next_cursor(&app, path, &olivia).await;
    for changed in [
        "/api/v1/sent-invitations?status=all".to_owned(),
        "/api/v1/sent-invitations".to_owned(),
        "/api/v1/sent-invitations?status=pending".to_owned(),
        format!("/api/v1/sent-invitations?status=accepted&event_id={launch}"),
    ] {
        assert_refused(
            &app.get(&with_cursor(&changed, &cursor), &olivia.token)
                .await,
            &changed,
        );
    }
    let same = app
        .get(
            &with_cursor("/api/v1/sent-invitations?status=accepted&limit=50", &cursor),
            &olivia.token,
        )
        .await;
    assert_eq!(same.expect(200)["data"].as_array().unwrap().len(), 1);
    // No status and `status=all` are one filter, and so are their cursors.
    let all = next_cursor(&app, "/api/v1/sent-invitations?limit=1", &olivia).await;
    let reply = app
        .get(
            &with_cursor("/api/v1/sent-invitations?status=all&limit=5", &all),
            &olivia.token,
        )
        .await;
    assert_eq!(reply.expect(200)["data"].as_array().unwrap().len(), 2);
}

async fn a_valid_cursor_still_pages_every_list_and_is_signed(app: TestApp) {
    let (olivia, bob, launch, other) = world(&app).await;
    let lists = [
        ("/api/v1/events".to_owned(), &olivia, 2),
        (format!("/api/v1/events/{launch}/members"), &olivia, 3),
        ("/api/v1/sent-invitations".to_owned(), &olivia, 3),
        (
            "/api/v1/sended-invitations?status=accepted".to_owned(),
            &olivia,
            2,
        ),
        (
            format!("/api/v1/sent-invitations?event_id={other}"),
            &olivia,
            1,
        ),
        ("/api/v1/received-invitations".to_owned(), &bob, 2),
    ];
    for (list, user, count) in lists {
        let whole = app.get(&list, &user.token).await;
        let whole = ids(whole.expect(200)["data"].as_array().unwrap());
        assert_eq!(whole.len(), count, "{list}");
        assert_eq!(
            ids(&app.collect(&list, &user.token, 1).await),
            whole,
            "{list}, pages of 1"
        );
        if count > 1 {
            // Version 2: a version byte, the 16-byte position and a 16-byte tag.
            let separator = if list.contains('?') { '&' } else { '?' };
            let cursor = next_cursor(&app, &format!("{list}{separator}limit=1"), user).await;
            let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
            assert_eq!((bytes.len(), bytes[0]), (33, 2), "{list}: {cursor}");
            // A larger page from the same cursor: the rest.
            let rest = app
                .get(
                    &with_cursor(&format!("{list}{separator}limit=100"), &cursor),
                    &user.token,
                )
                .await;
            let rest: Vec<Value> = rest.expect(200)["data"].as_array().unwrap().clone();
            assert_eq!(ids(&rest), whole[1..], "{list}");
        }
    }
}

/// Two processes on one PostgreSQL database share the key through it, so a client's next page may
/// be served by either; a process given another key (`CURSOR_SECRET`) refuses the cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_issued_by_one_process_is_accepted_by_another_on_the_same_database() {
    let Some(app) = spawn_app(adapters_diesel::Backend::Postgres).await else {
        return;
    };
    let (olivia, _, _, _) = world(&app).await;
    let second = spawn_on(&app.database, &[]).await;
    let path = "/api/v1/sent-invitations";
    let whole = ids(&app.collect(path, &olivia.token, 100).await);
    assert_eq!(whole.len(), 3);

    let cursor = next_cursor(&app, &format!("{path}?limit=1"), &olivia).await;
    let reply = get_on(&app, &second, &with_cursor(path, &cursor), &olivia).await;
    assert_eq!(
        ids(reply.expect(200)["data"].as_array().unwrap()),
        whole[1..]
    );
    // And back: the second process's cursor is good on the first.
    let cursor = next_cursor_on(&app, &second, &format!("{path}?limit=2"), &olivia).await;
    let reply = app.get(&with_cursor(path, &cursor), &olivia.token).await;
    assert_eq!(
        ids(reply.expect(200)["data"].as_array().unwrap()),
        whole[2..]
    );

    let keyed = spawn_on(
        &app.database,
        &[("CURSOR_SECRET", "another key, 32 bytes or longer!")],
    )
    .await;
    let reply = get_on(&app, &keyed, &with_cursor(path, &cursor), &olivia).await;
    assert_refused(&reply, "a process with CURSOR_SECRET");
}
