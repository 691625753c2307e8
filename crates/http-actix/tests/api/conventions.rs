//! The headers and error forms every answer follows, through the app's edge middleware
//! (docs/api.md, "Conventions", "Problem details", "Rate limit headers"): problem details when
//! asked for, the default body otherwise, `WWW-Authenticate` on 401, `Retry-After` on 503,
//! `Location` on 201, and the rate limit headers of a limited operation. End to end over both
//! databases in crates/app/tests/api/conventions.rs.

use actix_web::http::header::{ACCEPT, CONTENT_TYPE};
use actix_web::test::TestRequest;
use domain::events::ports::MockEventRepository;
use serde_json::{json, Value};

use crate::helpers::{unavailable, Api, Reply, PASSWORD};

const PROBLEM: &str = "application/problem+json";

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).map(|value| value.to_str().unwrap())
}

#[actix_web::test]
async fn an_unknown_route_asked_as_problem_details_is_a_404_problem() {
    let reply = Api::new()
        .send(
            TestRequest::get()
                .uri("/api/v1/nowhere?x=1")
                .insert_header((ACCEPT, PROBLEM)),
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.content_type(), PROBLEM);
    assert_eq!(
        reply.body,
        json!({
            "type": "https://event-manager.example/problems/not_found",
            "title": "Not found.",
            "status": 404,
            "detail": "The requested resource was not found.",
            "instance": "/api/v1/nowhere",
            "code": "not_found"
        })
    );
    assert_eq!(header(&reply, "vary"), Some("Accept"));
}

#[actix_web::test]
async fn framework_errors_follow_the_problem_form() {
    let api = Api::new();
    let as_problem = |req: TestRequest| req.insert_header((ACCEPT, PROBLEM));
    let wrong_method = api
        .send(as_problem(TestRequest::put().uri("/api/v1/login")))
        .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.body["code"], "method_not_allowed");
    assert_eq!(header(&wrong_method, "allow"), Some("POST"));
    let malformed = api
        .send(as_problem(
            TestRequest::post()
                .uri("/api/v1/login")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload("{"),
        ))
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.body["title"], "Malformed request.");
    let too_large = api
        .send(as_problem(
            TestRequest::post()
                .uri("/api/v1/login")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload(format!("{{\"login\": \"{}\"}}", "a".repeat(70_000))),
        ))
        .await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.body["code"], "payload_too_large");
    for reply in [&wrong_method, &malformed, &too_large] {
        assert_eq!(reply.content_type(), PROBLEM);
        assert_eq!(reply.body["instance"], "/api/v1/login");
        assert_eq!(reply.body["status"], reply.status);
    }
}

#[actix_web::test]
async fn a_422_problem_keeps_the_errors_by_field() {
    let reply = Api::new()
        .send(
            TestRequest::post()
                .uri("/api/v1/register")
                .insert_header((ACCEPT, "application/json;q=0.5, application/problem+json"))
                .set_json(json!({"name": "Ann", "email": "not an email", "password": "short"})),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.content_type(), PROBLEM);
    assert_eq!(reply.body["code"], "validation_failed");
    assert_eq!(reply.body["title"], "The given data was invalid.");
    let errors = reply.body["errors"].as_object().unwrap();
    assert!(errors.contains_key("email") && errors.contains_key("password"));
    let first = errors["email"][0].as_str().unwrap();
    assert!(reply.body["detail"].as_str().unwrap().starts_with(first));
}

#[actix_web::test]
async fn without_a_preference_for_problem_details_the_default_body_is_unchanged() {
    let api = Api::new();
    for accept in [None, Some("application/json"), Some("*/*")] {
        let mut req = TestRequest::get().uri("/api/v1/events/not-a-uuid");
        if let Some(accept) = accept {
            req = req.insert_header((ACCEPT, accept));
        }
        let reply = api.send(req).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.content_type(), "application/json; charset=utf-8");
        assert_eq!(reply.body, json!({"message": "Unauthenticated."}));
    }
}

#[actix_web::test]
async fn a_401_challenges_with_bearer_and_says_invalid_token_for_a_token_it_refused() {
    let api = Api::new();
    let none = api.send(TestRequest::get().uri("/api/v1/me")).await;
    assert_eq!(
        header(&none, "www-authenticate"),
        Some(r#"Bearer realm="event-manager""#)
    );
    let unknown = api
        .send(
            TestRequest::get()
                .uri("/api/v1/me")
                .insert_header(("authorization", "Bearer nope"))
                .insert_header((ACCEPT, PROBLEM)),
        )
        .await;
    assert_eq!(
        header(&unknown, "www-authenticate"),
        Some(r#"Bearer realm="event-manager", error="invalid_token""#)
    );
    assert_eq!(unknown.body["code"], "unauthenticated");
    assert_eq!(unknown.body["detail"], "Unauthenticated.");
    api.register("Ann", Some("ann@example.com"), None).await;
    let wrong = api
        .send(
            TestRequest::post()
                .uri("/api/v1/login")
                .set_json(json!({"login": "ann@example.com", "password": "wrong horse"})),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        header(&wrong, "www-authenticate"),
        Some(r#"Bearer realm="event-manager""#)
    );
}

#[actix_web::test]
async fn a_503_says_when_to_retry_in_either_form() {
    let mut events = MockEventRepository::new();
    events.expect_create().returning(|_| Err(unavailable()));
    let api = Api::new().with_events(events);
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    for accept in ["application/json", PROBLEM] {
        let reply = api
            .send(
                ann.authed(
                    TestRequest::post()
                        .uri("/api/v1/events")
                        .insert_header((ACCEPT, accept))
                        .set_json(json!({"title": "Party"})),
                ),
            )
            .await;
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert_eq!(header(&reply, "retry-after"), Some("5"));
    }
}

#[actix_web::test]
async fn a_created_event_is_located_at_its_url() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let reply = api
        .send(
            ann.authed(
                TestRequest::post()
                    .uri("/api/v1/events")
                    .set_json(json!({"title": "Party"})),
            ),
        )
        .await;
    assert_eq!(reply.status, 201);
    let id = reply.body["data"]["id"].as_str().unwrap();
    assert_eq!(
        header(&reply, "location"),
        Some(format!("/api/v1/events/{id}").as_str())
    );
}

#[actix_web::test]
async fn failed_logins_count_down_in_the_rate_limit_headers() {
    let api = Api::new();
    api.register("Ann", Some("ann@example.com"), None).await;
    let login = |password: &str| {
        TestRequest::post()
            .uri("/api/v1/login")
            .set_json(json!({"login": "ann@example.com", "password": password}))
    };
    let policy =
        r#""login-account-address";q=5;w=60, "login-account";q=50;w=60, "login-address";q=20;w=60"#;
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let reply = api.send(login("wrong horse")).await;
        assert_eq!(reply.status, 401);
        assert_eq!(header(&reply, "ratelimit-policy"), Some(policy));
        remaining.push(header(&reply, "ratelimit").unwrap().to_owned());
    }
    assert_eq!(
        remaining[0],
        r#""login-account-address";r=4;t=60, "login-account";r=49;t=60, "login-address";r=19;t=60"#
    );
    assert!(remaining[4].starts_with(r#""login-account-address";r=0;t="#));
    let refused = api.send(login(PASSWORD)).await;
    assert_eq!(refused.status, 429);
    assert_eq!(header(&refused, "ratelimit-policy"), Some(policy));
    let limit: &str = header(&refused, "ratelimit").unwrap();
    assert!(
        limit.starts_with(r#""login-account-address";r=0;t="#),
        "{limit}"
    );
    let retry_after = header(&refused, "retry-after").unwrap();
    assert!(
        limit.contains(&format!("r=0;t={retry_after},")),
        "{limit} {retry_after}"
    );
}

#[actix_web::test]
async fn every_error_response_of_the_document_has_a_problem_form() {
    let doc: Value = serde_json::to_value(http_actix::openapi()).unwrap();
    assert!(doc["components"]["schemas"]["ProblemDetails"].is_object());
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let content = &response["content"];
                if !status.starts_with(['4', '5']) || content["application/json"].is_null() {
                    continue;
                }
                let problem = &content[PROBLEM];
                assert_eq!(
                    problem["schema"]["$ref"], "#/components/schemas/ProblemDetails",
                    "{method} {path} {status}"
                );
                if let Some(example) = content["application/json"]["example"].as_object() {
                    assert_eq!(
                        problem["example"]["detail"], example["message"],
                        "{method} {path} {status}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}
