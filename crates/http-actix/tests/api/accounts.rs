//! SPEC §3: register, login, logout, me.

use actix_web::test::TestRequest;
use domain::ports::{CreateUserError, PasswordHash};
use domain::Login;
use serde_json::json;

use crate::helpers::{authed, unavailable, user, Ports, TOKEN};

fn register(body: serde_json::Value) -> TestRequest {
    TestRequest::post().uri("/api/v1/register").set_json(body)
}

fn login(body: serde_json::Value) -> TestRequest {
    TestRequest::post().uri("/api/v1/login").set_json(body)
}

#[actix_web::test]
async fn registering_answers_201_with_the_user_and_a_bearer_token() {
    let mut ports = Ports::default();
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash("hash".into())));
    ports.users.expect_create().returning(|new| {
        assert_eq!(new.email.as_ref().unwrap().as_str(), "ann@example.com");
        assert_eq!(new.mobile.as_ref().unwrap().as_str(), "+989352864812");
        Ok(domain::User {
            id: new.id,
            name: new.name,
            email: new.email,
            mobile: new.mobile,
            created_at: new.created_at,
        })
    });
    ports.tokens.expect_store().returning(|_| Ok(()));
    let reply = ports
        .send(register(json!({
            "name": "Ann", "email": "Ann@Example.com", "mobile": "0935 286 4812", "password": "12345678"
        })))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["token"], "new-token");
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_at"], "2026-12-26T10:00:00Z");
    assert_eq!(data["user"]["name"], "Ann");
    assert_eq!(data["user"]["email"], "ann@example.com");
    assert_eq!(data["user"]["mobile"], "+989352864812");
    assert_eq!(data["user"]["created_at"], "2026-11-26T10:00:00Z");
    assert_eq!(data["user"].as_object().unwrap().len(), 5);
}

#[actix_web::test]
async fn registering_with_invalid_fields_is_a_laravel_422_listing_every_field() {
    let reply = Ports::default()
        .send(register(
            json!({"name": "", "email": "not-an-email", "password": "short"}),
        ))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body,
        json!({
            "message": "The name field is required. (and 2 more errors)",
            "errors": {
                "name": ["The name field is required."],
                "email": ["The email must be a valid email address."],
                "password": ["The password must be at least 8 characters."]
            }
        })
    );
}

#[actix_web::test]
async fn registering_without_email_or_mobile_is_a_422() {
    let reply = Ports::default()
        .send(register(json!({"name": "Ann", "password": "12345678"})))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body["message"],
        "The email field is required when mobile is not present. (and 1 more error)"
    );
    assert_eq!(
        reply.body["errors"]["email"],
        json!(["The email field is required when mobile is not present."])
    );
}

#[actix_web::test]
async fn registering_a_taken_email_is_a_422_under_email() {
    let mut ports = Ports::default();
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash("hash".into())));
    ports
        .users
        .expect_create()
        .returning(|_| Err(CreateUserError::EmailTaken));
    let reply = ports
        .send(register(
            json!({"name": "Ann", "email": "ann@example.com", "password": "12345678"}),
        ))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body,
        json!({
            "message": "The email has already been taken.",
            "errors": {"email": ["The email has already been taken."]}
        })
    );
}

#[actix_web::test]
async fn logging_in_answers_200_with_a_new_token() {
    let ann = user("Ann");
    let mut ports = Ports::default();
    let found = ann.clone();
    ports
        .users
        .expect_find_credentials()
        .returning(move |login| {
            assert!(matches!(login, Login::Mobile(m) if m.as_str() == "+989352864812"));
            Ok(Some((found.clone(), PasswordHash("hash".into()))))
        });
    ports
        .hasher
        .expect_verify()
        .returning(|_, hash| Ok(hash.is_some()));
    ports.tokens.expect_store().returning(|_| Ok(()));
    let reply = ports
        .send(login(
            json!({"mobile": "+98 935 286 4812", "password": "12345678"}),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["token"], "new-token");
    assert_eq!(reply.body["data"]["user"]["id"], ann.id.to_string());
}

#[actix_web::test]
async fn a_wrong_password_is_a_401_invalid_credentials() {
    let ann = user("Ann");
    let mut ports = Ports::default();
    ports
        .users
        .expect_find_credentials()
        .returning(move |_| Ok(Some((ann.clone(), PasswordHash("hash".into())))));
    ports.hasher.expect_verify().returning(|_, _| Ok(false));
    let reply = ports
        .send(login(
            json!({"login": "ann@example.com", "password": "wrong-password"}),
        ))
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body,
        json!({"message": "These credentials do not match our records.", "code": "invalid_credentials"})
    );
}

#[actix_web::test]
async fn a_login_that_is_neither_email_nor_mobile_fails_like_a_wrong_password() {
    let mut ports = Ports::default();
    ports.hasher.expect_verify().times(1).returning(|_, hash| {
        assert_eq!(hash, None);
        Ok(false)
    });
    let reply = ports
        .send(login(json!({"login": "nobody", "password": "12345678"})))
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["code"], "invalid_credentials");
}

#[actix_web::test]
async fn logging_in_without_a_password_is_a_422() {
    let reply = Ports::default()
        .send(login(json!({"email": "ann@example.com"})))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body,
        json!({"message": "The password field is required.", "errors": {"password": ["The password field is required."]}})
    );
}

#[actix_web::test]
async fn logging_in_while_the_database_is_down_is_a_503() {
    let mut ports = Ports::default();
    ports
        .users
        .expect_find_credentials()
        .returning(|_| Err(unavailable()));
    let reply = ports
        .send(login(
            json!({"login": "ann@example.com", "password": "12345678"}),
        ))
        .await;
    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.body,
        json!({"message": "Service temporarily unavailable."})
    );
}

#[actix_web::test]
async fn logging_out_revokes_the_token_used_and_answers_204() {
    let ann = user("Ann");
    let mut ports = Ports::default().sign_in(&ann);
    ports.tokens.expect_revoke().times(1).returning(|hash, _| {
        assert_eq!(hash.0, TOKEN.as_bytes());
        Ok(())
    });
    let reply = ports
        .send(authed(TestRequest::post().uri("/api/v1/logout")))
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.body, serde_json::Value::Null);
}

#[actix_web::test]
async fn me_answers_the_callers_own_profile() {
    let ann = user("Ann");
    let reply = Ports::default()
        .sign_in(&ann)
        .send(authed(TestRequest::get().uri("/api/v1/me")))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({"data": {
            "id": ann.id.to_string(),
            "name": "Ann",
            "email": "ann@example.com",
            "mobile": "+989352864812",
            "created_at": "2026-11-26T10:00:00Z"
        }})
    );
    assert!(reply.content_type().starts_with("application/json"));
}
