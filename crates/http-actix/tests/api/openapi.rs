//! The OpenAPI document tells the truth about the routes (spec-drift tests).

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::Api;

fn document() -> Value {
    serde_json::to_value(http_actix::openapi()).unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    all
}

const PUBLIC: [&str; 8] = [
    "/api/v1/register",
    "/api/v1/login",
    "/api/v1/login/code",
    "/api/v1/password/forgot",
    "/api/v1/password/reset",
    "/health/live",
    "/health/ready",
    "/api/v1/rsvp/{token}",
];

#[actix_web::test]
async fn every_documented_operation_is_routed() {
    let doc = document();
    let id = uuid::Uuid::now_v7().to_string();
    for (path, method, _) in operations(&doc) {
        let uri = path
            .replace("{event_id}", &id)
            .replace("{invitation_id}", &id)
            .replace("{token}", "AAAAAAAAAAAAAAAAAAAAAAAA");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let reply = Api::new()
            .send(TestRequest::default().method(method.clone()).uri(&uri))
            .await;
        // A link's token that opens nothing: 404 (a POST without a body is a 400 before that).
        let expected = if path == "/api/v1/rsvp/{token}" && method == Method::GET {
            404
        } else if PUBLIC.contains(&path.as_str()) {
            if method == Method::POST {
                400
            } else {
                200
            }
        } else {
            401
        };
        assert_eq!(reply.status, expected, "{method} {path}: {}", reply.body);
    }
}

#[actix_web::test]
async fn the_document_lists_every_route_of_the_spec() {
    let doc = document();
    let mut found: Vec<String> = operations(&doc)
        .into_iter()
        .map(|(path, method, _)| format!("{} {path}", method.to_uppercase()))
        .collect();
    found.sort();
    let mut expected = vec![
        "POST /api/v1/register",
        "POST /api/v1/login",
        "POST /api/v1/logout",
        "GET /api/v1/me",
        "PATCH /api/v1/me",
        "DELETE /api/v1/me",
        "GET /api/v1/me/export",
        "PUT /api/v1/me/email",
        "DELETE /api/v1/me/email",
        "PUT /api/v1/me/mobile",
        "DELETE /api/v1/me/mobile",
        "POST /api/v1/me/verifications",
        "POST /api/v1/me/verifications/confirm",
        "POST /api/v1/login/code",
        "POST /api/v1/password/forgot",
        "POST /api/v1/password/reset",
        "POST /api/v1/events",
        "GET /api/v1/events",
        "GET /api/v1/events/{event_id}",
        "PATCH /api/v1/events/{event_id}",
        "DELETE /api/v1/events/{event_id}",
        "GET /api/v1/events/{event_id}/members",
        "PATCH /api/v1/events/{event_id}/members/me",
        "PATCH /api/v1/events/{event_id}/members/{user_id}",
        "DELETE /api/v1/events/{event_id}/members/{user_id}",
        "POST /api/v1/{event_id}/send-invitations",
        "POST /api/v1/events/{event_id}/invitations",
        "GET /api/v1/sended-invitations",
        "GET /api/v1/sent-invitations",
        "GET /api/v1/received-invitations",
        "GET /api/v1/invitations/{invitation_id}",
        "PATCH /api/v1/invitations/{invitation_id}",
        "DELETE /api/v1/invitations/{invitation_id}",
        "POST /api/v1/invitations/{invitation_id}/resend",
        "GET /api/v1/events/{event_id}/invitations",
        "GET /api/v1/me/events",
        "POST /api/v1/stream-tickets",
        "GET /api/v1/me/stream",
        "POST /api/v1/webhooks",
        "GET /api/v1/webhooks",
        "GET /api/v1/webhooks/{webhook_id}",
        "DELETE /api/v1/webhooks/{webhook_id}",
        "POST /api/v1/webhooks/{webhook_id}/verify",
        "GET /api/v1/webhooks/{webhook_id}/deliveries",
        "GET /api/v1/rsvp/{token}",
        "POST /api/v1/rsvp/{token}",
        "GET /api/v1/events/{event_id}/calendar.ics",
        "POST /api/v1/me/calendar-feed",
        "DELETE /api/v1/me/calendar-feed",
        "GET /health/live",
        "GET /health/ready",
    ];
    expected.sort_unstable();
    assert_eq!(found, expected);
}

#[test]
fn protected_operations_require_the_bearer_scheme_and_declare_401() {
    let doc = document();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "description": "The `token` returned by register or login."})
    );
    for (path, method, operation) in operations(&doc) {
        if PUBLIC.contains(&path.as_str()) {
            // Public on purpose: an empty list, not a missing one.
            assert_eq!(operation["security"], json!([]), "{method} {path}");
        } else {
            // The live stream also takes a stream ticket in its query instead (docs/api.md,
            // "Live stream"): no scheme of the document's.
            let schemes = if path == "/api/v1/me/stream" {
                json!([{"bearer": []}, {}])
            } else {
                json!([{"bearer": []}])
            };
            assert_eq!(operation["security"], schemes, "{method} {path}");
            assert!(
                operation["responses"].get("401").is_some(),
                "{method} {path}"
            );
        }
    }
}

#[test]
fn operations_that_touch_storage_declare_500_and_503() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        let responses = &operation["responses"];
        if path != "/health/live" {
            assert!(responses.get("503").is_some(), "{method} {path}");
        }
        if !path.starts_with("/health") {
            assert!(responses.get("500").is_some(), "{method} {path}");
        }
    }
}

#[test]
fn operations_with_a_body_or_a_query_declare_their_422() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        let takes_input = operation.get("requestBody").is_some()
            || operation["parameters"]
                .as_array()
                .is_some_and(|params| params.iter().any(|p| p["in"] == "query"));
        // The 422s without input: the owner cannot leave their event, and an account cannot
        // remove a contact while the other is unproven.
        let refused_without_input = matches!(
            (path.as_str(), method.as_str()),
            ("/api/v1/events/{event_id}/members/{user_id}", "delete")
                | ("/api/v1/me/email" | "/api/v1/me/mobile", "delete")
        );
        assert_eq!(
            operation["responses"].get("422").is_some(),
            takes_input || refused_without_input,
            "{method} {path}"
        );
        if operation.get("requestBody").is_some() {
            for status in ["400", "413"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{status} {method} {path}"
                );
            }
        }
    }
}

#[test]
fn path_ids_are_documented_as_uuids_and_tokens_as_strings() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        for param in operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
        {
            assert!(path.contains(&format!("{{{}}}", param["name"].as_str().unwrap())));
            // A link's token is a secret, not an id.
            if param["name"] == "token" {
                continue;
            }
            assert_eq!(
                param["schema"]["format"], "uuid",
                "{method} {path}: {param}"
            );
            assert!(path.contains(&format!("{{{}}}", param["name"].as_str().unwrap())));
        }
    }
}

#[test]
fn the_send_body_carries_the_seeds_example() {
    let doc = document();
    let schema = &doc["components"]["schemas"]["SendInvitationsRequest"];
    assert_eq!(
        schema["example"],
        json!({"invitations": ["", "09352864812", "", "09303030300", "09332114546", "09332131456", "", ""]})
    );
}

#[actix_web::test]
async fn the_served_document_is_the_generated_one() {
    let reply = Api::new()
        .send(TestRequest::get().uri("/api/v1/openapi.json"))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, document());
}

#[test]
fn every_schema_reference_resolves() {
    fn refs(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target.clone());
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap();
        assert!(doc["components"]["schemas"].get(name).is_some(), "{target}");
    }
}
