//! The served OpenAPI document states what the server accepts: each case
//! schemathesis found with every check on, as a request and the document's matching words.

use serde_json::{json, Value};

use crate::helpers::{api_tests, api_tests_once, TestApp};

async fn document(app: &TestApp) -> Value {
    let reply = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    reply.json().await.unwrap()
}

api_tests_once!(
    login_type_checks_every_login_field_not_only_the_one_used,
    the_login_schema_needs_one_non_blank_login_field,
    the_document_allows_the_empty_string_wherever_it_means_not_given
);

async fn login_type_checks_every_login_field_not_only_the_one_used(app: TestApp) {
    let reply = app
        .login(json!({"login": "ann@example.com", "mobile": {}, "password": "correct horse"}))
        .await;
    assert_eq!(
        reply.expect(422)["errors"],
        json!({"mobile": ["The mobile must be a string."]})
    );
    let reply = app
        .login(json!({"email": 5, "mobile": "09352864812", "password": "correct horse"}))
        .await;
    assert_eq!(
        reply.expect(422)["errors"],
        json!({"email": ["The email must be a string."]})
    );
}

async fn the_login_schema_needs_one_non_blank_login_field(app: TestApp) {
    let schema = &document(&app).await["components"]["schemas"]["LoginRequest"];
    let branches = schema["anyOf"]
        .as_array()
        .expect("an anyOf of the object, one branch per field");
    assert_eq!(branches.len(), 3, "{schema}");
    for (branch, field) in branches.iter().zip(["login", "email", "mobile"]) {
        let required = branch["required"].as_array().unwrap();
        // The password or a code: the server says which is missing (a 422).
        assert!(required.contains(&json!(field)), "{branch}");
        assert_eq!(branch["properties"][field]["pattern"], r"\S", "{branch}");
    }
    // And the server agrees: null and blank text are not a login.
    let reply = app
        .login(json!({"login": null, "email": "  ", "password": "correct horse"}))
        .await;
    assert_eq!(
        reply.expect(422)["errors"]["login"][0],
        "The login field is required."
    );
}

async fn the_document_allows_the_empty_string_wherever_it_means_not_given(app: TestApp) {
    let document = document(&app).await;
    let starts_at =
        &document["components"]["schemas"]["CreateEventRequest"]["properties"]["starts_at"];
    assert_eq!(starts_at["oneOf"][0]["format"], "date-time", "{starts_at}");
    assert_eq!(starts_at["oneOf"][1]["maxLength"], 0, "{starts_at}");
    for (path, name) in [
        ("/api/v1/sended-invitations", "event_id"),
        ("/api/v1/received-invitations", "status"),
        ("/api/v1/events", "limit"),
    ] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap();
        let parameter = parameters.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(
            parameter["schema"]["oneOf"][1]["maxLength"], 0,
            "{path} {name}: {parameter}"
        );
    }
    let register = &document["paths"]["/api/v1/register"]["post"]["responses"]["422"];
    assert!(
        register["description"]
            .as_str()
            .unwrap()
            .contains("another account already has"),
        "{register}"
    );
}

api_tests!(
    null_or_blank_login_fields_count_as_not_given,
    an_empty_starts_at_is_no_start_time
);

async fn null_or_blank_login_fields_count_as_not_given(app: TestApp) {
    let ann = app
        .register("Ann", Some("ann@example.com"), Some("09352864812"))
        .await;
    let reply = app.login(json!({"login": null, "email": "", "mobile": "0935 286 4812", "password": "correct horse"})).await;
    assert_eq!(reply.expect(200)["data"]["user"]["id"], ann.id.as_str());
}

async fn an_empty_starts_at_is_no_start_time(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let reply = app
        .post(
            "/api/v1/events",
            Some(&ann.token),
            json!({"title": "Party", "starts_at": "", "ends_at": ""}),
        )
        .await;
    let event = &reply.expect(201)["data"];
    assert_eq!(event["starts_at"], Value::Null);
    assert_eq!(event["ends_at"], Value::Null);
}
