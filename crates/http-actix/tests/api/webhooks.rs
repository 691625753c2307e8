//! The webhooks area's routes (docs/api.md, "Webhooks"): registering (the secret shown once),
//! listing, reading and deleting one's own webhooks, their attempts, and 404 for anyone else's.

use actix_web::test::TestRequest;
use domain::webhooks::delivery::RetryPolicy;
use domain::webhooks::ports::{DestinationRefused, WebhookResponse};
use domain::webhooks::{DeliveryLimits, DeliveryService};
use domain::Answer;
use serde_json::{json, Value};

use crate::helpers::{Api, Caller, Reply};

async fn create(api: &Api, by: &Caller, body: Value) -> Reply {
    api.send(by.authed(TestRequest::post().uri("/api/v1/webhooks").set_json(body)))
        .await
}

async fn get(api: &Api, by: &Caller, uri: &str) -> Reply {
    api.send(by.authed(TestRequest::get().uri(uri))).await
}

#[actix_web::test]
async fn a_webhook_is_registered_with_its_secret_shown_once() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let created = create(
        &api,
        &ann,
        json!({"url": "https://hooks.example.com/in", "events": ["invitation.accepted", "invitation.created"]}),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let data = &created.body["data"];
    let id = data["id"].as_str().unwrap();
    assert!(data["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(data["url"], "https://hooks.example.com/in");
    assert_eq!(
        data["events"],
        json!(["invitation.created", "invitation.accepted"])
    );
    assert_eq!(data["status"], "pending_verification");
    assert_eq!(data["created_at"], "2026-11-26T10:00:00Z");
    assert_eq!(
        (&data["disabled_at"], &data["disabled_reason"]),
        (&Value::Null, &Value::Null)
    );

    let shown = get(&api, &ann, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(shown.status, 200);
    assert!(
        shown.body["data"].get("secret").is_none(),
        "shown once only"
    );
    let listed = get(&api, &ann, "/api/v1/webhooks").await;
    assert_eq!(listed.body["data"][0]["id"], id);
    assert_eq!(
        listed.body["meta"],
        json!({"limit": 50, "next_cursor": null})
    );
    let all = create(&api, &ann, json!({"url": "https://hooks.example.com/all"})).await;
    assert_eq!(all.body["data"]["events"], Value::Null, "null: every kind");
}

#[actix_web::test]
async fn another_users_webhook_is_a_404_everywhere() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let zed = api.register("Zed", Some("zed@example.com"), None).await;
    let id = create(&api, &ann, json!({"url": "https://hooks.example.com/in"}))
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let not_found = json!({"message": "Webhook not found.", "code": "not_found"});
    for uri in [
        format!("/api/v1/webhooks/{id}"),
        format!("/api/v1/webhooks/{id}/deliveries"),
    ] {
        let reply = get(&api, &zed, &uri).await;
        assert_eq!((reply.status, &reply.body), (404, &not_found), "{uri}");
    }
    let deleted = api
        .send(zed.authed(TestRequest::delete().uri(&format!("/api/v1/webhooks/{id}"))))
        .await;
    assert_eq!((deleted.status, &deleted.body), (404, &not_found));
    assert!(get(&api, &zed, "/api/v1/webhooks").await.body["data"]
        .as_array()
        .unwrap()
        .is_empty());
    let gone = api
        .send(ann.authed(TestRequest::delete().uri(&format!("/api/v1/webhooks/{id}"))))
        .await;
    assert_eq!(gone.status, 204);
    assert_eq!(
        get(&api, &ann, &format!("/api/v1/webhooks/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        get(&api, &ann, "/api/v1/webhooks/not-a-uuid").await.status,
        404
    );
    let anonymous = api.send(TestRequest::get().uri("/api/v1/webhooks")).await;
    assert_eq!(anonymous.status, 401);
}

#[actix_web::test]
async fn bad_urls_kinds_and_destinations_are_422s_and_the_eleventh_is_a_409() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let reply = create(
        &api,
        &ann,
        json!({"url": "http://hooks.example.com", "events": ["member.left"]}),
    )
    .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body["errors"],
        json!({"url": ["The url must start with https://."], "events.0": ["The selected events.0 is invalid."]})
    );
    let private = create(&api, &ann, json!({"url": "https://169.254.169.254/latest"})).await;
    assert_eq!(
        private.body["errors"]["url"],
        json!(["The url must point to a public address."])
    );
    api.sender.refuse(Some(DestinationRefused::NotPublic));
    let resolves_inside = create(&api, &ann, json!({"url": "https://intranet.example.com/"})).await;
    assert_eq!(
        (
            resolves_inside.status,
            &resolves_inside.body["errors"]["url"]
        ),
        (422, &json!(["The url must point to a public address."]))
    );
    api.sender.refuse(None);
    for i in 0..10 {
        let ok = create(
            &api,
            &ann,
            json!({"url": format!("https://hooks.example.com/{i}")}),
        )
        .await;
        assert_eq!(ok.status, 201);
    }
    let eleventh = create(&api, &ann, json!({"url": "https://hooks.example.com/11"})).await;
    assert_eq!(
        (eleventh.status, &eleventh.body),
        (
            409,
            &json!({"message": "You already have 10 webhooks; delete one to register another.", "code": "webhook_limit_reached"})
        )
    );
    let malformed = api
        .send(
            ann.authed(
                TestRequest::post()
                    .uri("/api/v1/webhooks")
                    .insert_header(("content-type", "application/json"))
                    .set_payload("{"),
            ),
        )
        .await;
    assert_eq!(malformed.status, 400);
}

#[actix_web::test]
async fn the_attempts_are_listed_newest_first_with_what_was_decided() {
    let api = Api::new();
    let ann = api.register("Ann", Some("ann@example.com"), None).await;
    let bob = api.register("Bob", Some("bob@example.com"), None).await;
    let id = create(&api, &ann, json!({"url": "https://hooks.example.com/in"}))
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deliveries = DeliveryService::new(
        api.store.clone(),
        api.store.clone(),
        std::sync::Arc::new(http_actix::api::changes::responses::ChangeJson),
        api.sender.clone(),
        None,
        api.clock.clone(),
        RetryPolicy::default(),
        DeliveryLimits::default(),
    );
    // Its endpoint (the fake sender) echoes the challenge: active from then on.
    for pending in deliveries.claim_verifications(10).await.unwrap() {
        deliveries.verify(&pending, 0.0).await.unwrap();
    }
    let shown = get(&api, &ann, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(shown.body["data"]["status"], "active");
    assert!(shown.body["data"]["verified_at"].is_string());
    let event = api.event(&ann, "Launch party").await.id;
    let invitation = api.invite(&ann, event, "bob@example.com").await;
    api.answer(&bob, invitation.invitation.id(), Answer::Accept)
        .await;
    api.sender.script([
        WebhookResponse::Answered {
            status: 500,
            retry_after: None,
            body: "oops".into(),
        },
        WebhookResponse::Failed {
            error: "connection refused".into(),
        },
    ]);
    while deliveries.dispatch().await.unwrap().changes > 0 {}
    for claimed in deliveries
        .claim(domain::webhooks::delivery::ClaimKind::Webhooks, 10)
        .await
        .unwrap()
    {
        deliveries.attempt(&claimed, 0.0).await.unwrap();
    }
    let listed = get(
        &api,
        &ann,
        &format!("/api/v1/webhooks/{id}/deliveries?limit=2"),
    )
    .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    // created (1), accepted (2) and member.joined (3) were delivered, newest attempt first.
    let kinds: Vec<&str> = data
        .iter()
        .map(|a| a["event"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["member.joined", "invitation.accepted"]);
    assert_eq!(data[0]["outcome"], "delivered");
    assert_eq!(data[1]["outcome"], "retrying");
    assert_eq!(data[1]["error"], "connection refused");
    assert_eq!(data[1]["status_code"], Value::Null);
    assert_eq!(data[1]["next_attempt_at"], "2026-11-26T10:00:05Z");
    let rest = get(
        &api,
        &ann,
        &format!(
            "/api/v1/webhooks/{id}/deliveries?limit=2&cursor={}",
            listed.body["meta"]["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    let last = &rest.body["data"][0];
    assert_eq!(
        (last["event"]["type"].as_str(), last["status_code"].as_u64()),
        (Some("invitation.created"), Some(500))
    );
    assert_eq!(last["response_body"], "oops");
    assert_eq!(last["attempt"], 1);
    // A cursor of this list is bound to this webhook.
    let other = create(
        &api,
        &ann,
        json!({"url": "https://hooks.example.com/other"}),
    )
    .await
    .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cursor = listed.body["meta"]["next_cursor"].as_str().unwrap();
    let misused = get(
        &api,
        &ann,
        &format!("/api/v1/webhooks/{other}/deliveries?cursor={cursor}"),
    )
    .await;
    assert_eq!(misused.status, 422);
}
