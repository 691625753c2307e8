//! Account care through the running service (docs/api.md, "Your account"): logging in and
//! resetting the password with a code read from the development outbox, editing the profile,
//! changing and removing contacts, the export, and erasing the account.

use std::time::Duration;

use adapters_diesel::Backend;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestUser};
use crate::proofs::{received, spawn_proving, Outbox};

/// Registers `name` with `email` and proves it with the code from the outbox (the `n`th code to
/// that address).
async fn proven(app: &TestApp, outbox: &Outbox, name: &str, email: &str, n: usize) -> TestUser {
    let user = app.register(name, Some(email), None).await;
    let code = outbox.code("mail", email, n).await;
    app.post(
        "/api/v1/me/verifications/confirm",
        Some(&user.token),
        json!({"channel": "email", "code": code}),
    )
    .await
    .expect(200);
    user
}

async fn a_code_logs_in_and_resets_the_password_and_unknown_logins_look_the_same(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving(backend, &outbox).await else {
        return;
    };
    let ann = proven(&app, &outbox, "Ann", "ann@example.com", 1).await;

    // The same answer for an account and for nobody.
    let known = app
        .post(
            "/api/v1/login/code",
            None,
            json!({"login": "ANN@example.com"}),
        )
        .await;
    let unknown = app
        .post(
            "/api/v1/login/code",
            None,
            json!({"login": "nobody@example.com"}),
        )
        .await;
    assert_eq!(known.expect(202), unknown.expect(202));
    let code = outbox.code("mail", "ann@example.com", 2).await;
    let session = app
        .login(json!({"login": "ann@example.com", "code": code}))
        .await;
    let token = session.expect(200)["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/api/v1/me", &token).await.expect(200);
    // A code works once.
    app.login(json!({"login": "ann@example.com", "code": code}))
        .await
        .expect(401);
    // Nobody gets a code.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(outbox
        .files("mail")
        .iter()
        .all(|text| !text.contains("nobody@example.com")));

    // A reset, for Bob: a code, a new password, every old token revoked.
    let bob = proven(&app, &outbox, "Bob", "bob@example.com", 1).await;
    app.post(
        "/api/v1/password/forgot",
        None,
        json!({"login": "bob@example.com"}),
    )
    .await
    .expect(202);
    let code = outbox.code("mail", "bob@example.com", 2).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    app.post(
        "/api/v1/password/reset",
        None,
        json!({"login": "bob@example.com", "code": wrong, "password": "a new horse"}),
    )
    .await
    .expect(401);
    let reset = app
        .post(
            "/api/v1/password/reset",
            None,
            json!({"login": "bob@example.com", "code": code, "password": "a new horse"}),
        )
        .await;
    reset.expect(200);
    app.get("/api/v1/me", &bob.token).await.expect(401);
    app.login(json!({"login": "bob@example.com", "password": "correct horse"}))
        .await
        .expect(401);
    app.login(json!({"login": "bob@example.com", "password": "a new horse"}))
        .await
        .expect(200);
    // Ann's tokens are hers alone.
    app.get("/api/v1/me", &ann.token).await.expect(200);
    app.get("/api/v1/me", &token).await.expect(200);
}

async fn the_profile_changes_and_a_new_password_revokes_the_other_tokens(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving(backend, &outbox).await else {
        return;
    };
    let ann = proven(&app, &outbox, "Ann", "ann@example.com", 1).await;
    let other = app
        .login(json!({"login": "ann@example.com", "password": "correct horse"}))
        .await;
    let other = other.expect(200)["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let edited = app
        .patch(
            "/api/v1/me",
            &ann.token,
            json!({"name": "Ann B.", "locale": "fa"}),
        )
        .await;
    let user = &edited.expect(200)["data"];
    assert_eq!(
        (user["name"].as_str(), user["locale"].as_str()),
        (Some("Ann B."), Some("fa"))
    );

    let wrong = app
        .patch(
            "/api/v1/me",
            &ann.token,
            json!({"password": "a new horse", "current_password": "wrong horse"}),
        )
        .await;
    assert_eq!(
        wrong.expect(422)["errors"]["current_password"][0],
        "The current password is incorrect."
    );
    app.get("/api/v1/me", &other).await.expect(200);
    app.patch(
        "/api/v1/me",
        &ann.token,
        json!({"password": "a new horse", "current_password": "correct horse"}),
    )
    .await
    .expect(200);
    app.get("/api/v1/me", &ann.token).await.expect(200);
    app.get("/api/v1/me", &other).await.expect(401);
    app.patch("/api/v1/me", &ann.token, json!({}))
        .await
        .expect(422);
}

async fn a_new_email_waits_for_its_proof_while_the_old_one_serves(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving(backend, &outbox).await else {
        return;
    };
    let ann = proven(&app, &outbox, "Ann", "ann@example.com", 1).await;
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let event = app.create_event(&olivia, "Picnic").await;

    let changed = app
        .call(
            Method::PUT,
            "/api/v1/me/email",
            Some(&ann.token),
            Some(json!({"email": "Ann@New.example"})),
        )
        .await;
    let user = &changed.expect(200)["data"];
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["pending_email"], "ann@new.example");
    // The old address still reaches Ann and still logs her in.
    app.send(&olivia, &event, json!(["ann@example.com"]))
        .await
        .expect(200);
    assert_eq!(received(&app, &ann).await.len(), 1);
    app.login(json!({"login": "ann@example.com", "password": "correct horse"}))
        .await
        .expect(200);
    // Proving the new one replaces it.
    let code = outbox.code("mail", "ann@new.example", 1).await;
    let proven = app
        .post(
            "/api/v1/me/verifications/confirm",
            Some(&ann.token),
            json!({"channel": "email", "code": code}),
        )
        .await;
    let user = &proven.expect(200)["data"];
    assert_eq!(user["email"], "ann@new.example");
    assert_eq!(user["pending_email"], Value::Null);
    app.login(json!({"login": "ann@example.com", "password": "correct horse"}))
        .await
        .expect(401);

    // Removing the email needs a proven mobile.
    let refused = app
        .call(Method::DELETE, "/api/v1/me/email", Some(&ann.token), None)
        .await;
    assert_eq!(
        refused.expect(422)["errors"]["email"][0],
        "Prove your mobile before removing your email."
    );
}

async fn the_export_holds_everything_and_erasing_leaves_a_deleted_user(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving(backend, &outbox).await else {
        return;
    };
    let ann = proven(&app, &outbox, "Ann", "ann@example.com", 1).await;
    let olivia = proven(&app, &outbox, "Olivia", "olivia@example.com", 1).await;
    let mine = app.create_event(&ann, "Ann's party").await;
    let theirs = app.create_event(&olivia, "Olivia's picnic").await;
    app.send(&olivia, &theirs, json!(["ann@example.com"]))
        .await
        .expect(200);
    let invitation = &received(&app, &ann).await[0];
    app.patch(
        &format!("/api/v1/invitations/{}", invitation["id"].as_str().unwrap()),
        &ann.token,
        json!({"status": "accepted"}),
    )
    .await
    .expect(200);
    let other_event = app.create_event(&olivia, "Olivia's dinner").await;
    app.send(&olivia, &other_event, json!(["ann@example.com"]))
        .await
        .expect(200);

    let export = app.get("/api/v1/me/export", &ann.token).await;
    assert!(export.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let data = &export.expect(200)["data"];
    assert_eq!(data["user"]["email"], "ann@example.com");
    assert_eq!(data["tokens"].as_array().unwrap().len(), 1);
    let titles: Vec<&str> = data["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert_eq!(data["received_invitations"].as_array().unwrap().len(), 2);
    assert_eq!(data["sent_invitations"], json!([]));
    assert!(!export.text.contains("$argon2"), "no hash: {}", export.text);

    let refused = app
        .call(
            Method::DELETE,
            "/api/v1/me",
            Some(&ann.token),
            Some(json!({"password": "wrong horse"})),
        )
        .await;
    refused.expect(422);
    app.call(
        Method::DELETE,
        "/api/v1/me",
        Some(&ann.token),
        Some(json!({"password": "correct horse"})),
    )
    .await
    .expect(204);
    app.get("/api/v1/me", &ann.token).await.expect(401);
    app.login(json!({"login": "ann@example.com", "password": "correct horse"}))
        .await
        .expect(401);
    // Her own event is gone; she left Olivia's, and her pending invitation is cancelled.
    app.get(&format!("/api/v1/events/{mine}"), &olivia.token)
        .await
        .expect(404);
    let members = app
        .get(&format!("/api/v1/events/{theirs}/members"), &olivia.token)
        .await;
    assert_eq!(members.expect(200)["data"].as_array().unwrap().len(), 1);
    let sent = app.get("/api/v1/sended-invitations", &olivia.token).await;
    let sent = sent.expect(200)["data"].as_array().unwrap().clone();
    let pending: Vec<&Value> = sent.iter().filter(|i| i["status"] == "pending").collect();
    assert!(pending.is_empty(), "{sent:?}");
    assert!(
        sent.iter().all(|i| i["invitee"]["name"] == "Deleted user"),
        "{sent:?}"
    );
    // Her address is free for someone else to prove.
    proven(&app, &outbox, "Ann again", "ann@example.com", 2).await;
}

async fn an_account_without_a_password_logs_in_by_code(backend: Backend) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving(backend, &outbox).await else {
        return;
    };
    let reply = app
        .register_with(json!({"name": "Nima", "email": "nima@example.com"}))
        .await;
    let data = &reply.expect(201)["data"];
    assert_eq!(data["user"]["has_password"], false);
    let token = data["token"].as_str().unwrap().to_owned();
    let code = outbox.code("mail", "nima@example.com", 1).await;
    app.post(
        "/api/v1/me/verifications/confirm",
        Some(&token),
        json!({"channel": "email", "code": code}),
    )
    .await
    .expect(200);
    // No password opens it, not even an empty one.
    app.login(json!({"login": "nima@example.com", "password": "anything at all"}))
        .await
        .expect(401);
    app.post(
        "/api/v1/login/code",
        None,
        json!({"login": "nima@example.com"}),
    )
    .await
    .expect(202);
    let code = outbox.code("mail", "nima@example.com", 2).await;
    app.login(json!({"login": "nima@example.com", "code": code}))
        .await
        .expect(200);
    // Setting a first password needs no current one.
    app.patch("/api/v1/me", &token, json!({"password": "a first horse"}))
        .await
        .expect(200);
    app.login(json!({"login": "nima@example.com", "password": "a first horse"}))
        .await
        .expect(200);
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Postgres).await;
                }
            )*
        }
    };
}

both_backends!(
    a_code_logs_in_and_resets_the_password_and_unknown_logins_look_the_same,
    the_profile_changes_and_a_new_password_revokes_the_other_tokens,
    a_new_email_waits_for_its_proof_while_the_old_one_serves,
    the_export_holds_everything_and_erasing_leaves_a_deleted_user,
    an_account_without_a_password_logs_in_by_code,
);
