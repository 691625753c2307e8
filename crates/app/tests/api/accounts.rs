use serde_json::json;

use crate::helpers::{api_tests, api_tests_once, TestApp};

api_tests!(
    register_returns_the_user_and_a_bearer_token_that_works,
    persian_and_arabic_indic_digits_are_read_as_ascii_in_mobiles_logins_and_invitations,
    a_taken_email_or_mobile_is_a_422_naming_the_field,
    login_by_email_or_mobile_and_logout_revokes_the_token,
    wrong_password_and_unknown_account_get_the_same_401
);

async fn register_returns_the_user_and_a_bearer_token_that_works(app: TestApp) {
    let reply = app.register_with(json!({"name": "Sara", "email": "Sara@Example.com", "mobile": "0935 286 4812", "password": "correct horse"})).await;
    let data = &reply.expect(201)["data"];
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["user"]["name"], "Sara");
    assert_eq!(data["user"]["email"], "sara@example.com");
    assert_eq!(data["user"]["mobile"], "+989352864812");
    assert!(data["expires_at"].as_str().unwrap().ends_with('Z'));
    let token = data["token"].as_str().unwrap();
    assert!(token.len() >= 43);

    let me = app.get("/api/v1/me", token).await;
    assert_eq!(
        me.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(me.expect(200)["data"], data["user"]);
}

async fn a_taken_email_or_mobile_is_a_422_naming_the_field(app: TestApp) {
    app.register("Sara", Some("sara@example.com"), Some("09352864812"))
        .await;
    let email = app
        .register_with(
            json!({"name": "S2", "email": "SARA@example.com", "password": "correct horse"}),
        )
        .await;
    assert_eq!(
        email.expect(422)["errors"]["email"][0],
        "The email has already been taken."
    );
    assert_eq!(email.body["message"], "The email has already been taken.");
    let mobile = app
        .register_with(
            json!({"name": "S3", "mobile": "+98 935 286 4812", "password": "correct horse"}),
        )
        .await;
    assert_eq!(
        mobile.expect(422)["errors"]["mobile"][0],
        "The mobile has already been taken."
    );
}

async fn login_by_email_or_mobile_and_logout_revokes_the_token(app: TestApp) {
    let sara = app
        .register("Sara", Some("sara@example.com"), Some("09352864812"))
        .await;
    for body in [
        json!({"login": "SARA@example.com", "password": "correct horse"}),
        json!({"email": "sara@example.com", "password": "correct horse"}),
        json!({"mobile": "+989352864812", "password": "correct horse"}),
        json!({"login": "0098 935 286 4812", "password": "correct horse"}),
    ] {
        let reply = app.login(body.clone()).await;
        let data = &reply.expect(200)["data"];
        assert_eq!(data["user"]["id"], sara.id.as_str(), "{body}");
    }
    let token = app
        .login(json!({"login": "sara@example.com", "password": "correct horse"}))
        .await
        .body["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let logout = app
        .call(reqwest::Method::POST, "/api/v1/logout", Some(&token), None)
        .await;
    logout.expect(204);
    let after = app.get("/api/v1/me", &token).await;
    assert_eq!(after.expect(401), &json!({"message": "Unauthenticated."}));
    app.get("/api/v1/me", &sara.token).await.expect(200);
}

async fn wrong_password_and_unknown_account_get_the_same_401(app: TestApp) {
    app.register("Sara", Some("sara@example.com"), None).await;
    let expected = json!({"message": "These credentials do not match our records.", "code": "invalid_credentials"});
    let wrong = app
        .login(json!({"login": "sara@example.com", "password": "wrong password"}))
        .await;
    assert_eq!(wrong.expect(401), &expected);
    let unknown = app
        .login(json!({"login": "nobody@example.com", "password": "correct horse"}))
        .await;
    assert_eq!(unknown.expect(401), &expected);
}

// Validation: nothing reaches storage.
api_tests_once!(registration_validates_every_field_at_once);

async fn registration_validates_every_field_at_once(app: TestApp) {
    let reply = app
        .register_with(json!({"name": "", "email": "not-an-email", "password": "short"}))
        .await;
    let errors = &reply.expect(422)["errors"];
    assert!(errors["name"].is_array(), "{errors}");
    assert_eq!(
        errors["email"][0],
        "The email must be a valid email address."
    );
    assert_eq!(
        errors["password"][0],
        "The password must be at least 8 characters."
    );
    let none = app
        .register_with(json!({"name": "N", "password": "correct horse"}))
        .await;
    assert!(none.expect(422)["errors"]["email"].is_array());
}

async fn persian_and_arabic_indic_digits_are_read_as_ascii_in_mobiles_logins_and_invitations(
    app: TestApp,
) {
    let reply = app
        .register_with(
            json!({"name": "Sara", "mobile": "۰۹۳۵ ۲۸۶ ۴۸۱۲", "password": "correct horse"}),
        )
        .await;
    assert_eq!(reply.expect(201)["data"]["user"]["mobile"], "+989352864812");
    let login = app
        .login(json!({"login": "٠٩٣٥٢٨٦٤٨١٢", "password": "correct horse"}))
        .await;
    assert_eq!(login.expect(200)["data"]["user"]["mobile"], "+989352864812");

    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let event = app.create_event(&olivia, "Launch").await;
    let sent = app.send(&olivia, &event, json!(["۰۹۳۵۲۸۶۴۸۱۲"])).await;
    let data = &sent.expect(200)["data"];
    assert_eq!(data["sent"].as_array().unwrap().len(), 1, "{data}");
    assert_eq!(data["ignored"], json!([]));
}
