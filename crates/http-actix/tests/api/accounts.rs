//! Register, login, logout, me (docs/api.md, "Accounts").
//!
//! Validation 422s, taken contacts and wrong passwords are asserted by the unit tests of
//! `api::accounts` and end to end (crates/app/tests/api/accounts.rs); here, the answers' shapes.

use actix_web::test::TestRequest;
use domain::accounts::ports::MockUserRepository;
use domain::testing::FakeIssuer;
use serde_json::json;

use crate::helpers::{unavailable, Api, PASSWORD};

fn register(body: serde_json::Value) -> TestRequest {
    TestRequest::post().uri("/api/v1/register").set_json(body)
}

fn login(body: serde_json::Value) -> TestRequest {
    TestRequest::post().uri("/api/v1/login").set_json(body)
}

#[actix_web::test]
async fn registering_answers_201_with_the_user_and_a_bearer_token() {
    let api = Api::new();
    let reply = api
        .send(register(json!({
            "name": "Ann", "email": "Ann@Example.com", "mobile": "0935 286 4812", "password": "12345678"
        })))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["token"], FakeIssuer::secret(0));
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_at"], "2026-12-26T10:00:00Z");
    assert_eq!(data["user"]["name"], "Ann");
    assert_eq!(data["user"]["email"], "ann@example.com");
    assert_eq!(data["user"]["mobile"], "+989352864812");
    assert_eq!(data["user"]["created_at"], "2026-11-26T10:00:00Z");
    // The fakes count contacts as proven at once (as CONTACT_VERIFICATION=off does).
    assert_eq!(data["user"]["email_verified_at"], "2026-11-26T10:00:00Z");
    assert_eq!(data["user"]["locale"], "en");
    assert_eq!(data["user"]["has_password"], true);
    assert_eq!(data["user"].as_object().unwrap().len(), 11);
}

#[actix_web::test]
async fn logging_in_answers_200_with_a_new_token() {
    let api = Api::new();
    let ann = api
        .register("Ann", Some("ann@example.com"), Some("09352864812"))
        .await;
    let reply = api
        .send(login(
            json!({"mobile": "+98 935 286 4812", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["token"], FakeIssuer::secret(1));
    assert_ne!(reply.body["data"]["token"], ann.token.as_str());
    assert_eq!(reply.body["data"]["user"]["id"], ann.user.id.to_string());
}

#[actix_web::test]
async fn a_login_that_is_neither_email_nor_mobile_fails_like_a_wrong_password() {
    let api = Api::new();
    let reply = api
        .send(login(json!({"login": "nobody", "password": "12345678"})))
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["code"], "invalid_credentials");
    assert_eq!(
        api.hasher.verifications_without_hash(),
        1,
        "the hasher ran as for an account"
    );
}

#[actix_web::test]
async fn logging_in_while_the_database_is_down_is_a_503() {
    let mut users = MockUserRepository::new();
    users
        .expect_find_credentials()
        .returning(|_| Err(unavailable()));
    let reply = Api::new()
        .with_users(users)
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
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let reply = api
        .send(ann.authed(TestRequest::post().uri("/api/v1/logout")))
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.body, serde_json::Value::Null);
    let after = api
        .send(ann.authed(TestRequest::get().uri("/api/v1/me")))
        .await;
    assert_eq!(after.status, 401);
}

#[actix_web::test]
async fn me_answers_the_callers_own_profile() {
    let api = Api::new();
    let ann = api
        .register("Ann", Some("ann@example.com"), Some("09352864812"))
        .await;
    let reply = api
        .send(ann.authed(TestRequest::get().uri("/api/v1/me")))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({"data": {
            "id": ann.user.id.to_string(),
            "name": "Ann",
            "email": "ann@example.com",
            "mobile": "+989352864812",
            "email_verified_at": "2026-11-26T10:00:00Z",
            "mobile_verified_at": "2026-11-26T10:00:00Z",
            "pending_email": null,
            "pending_mobile": null,
            "locale": "en",
            "has_password": true,
            "created_at": "2026-11-26T10:00:00Z"
        }})
    );
    assert!(reply.content_type().starts_with("application/json"));
}
