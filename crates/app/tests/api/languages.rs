//! The service in Persian (docs/api.md, "Languages"): the API's sentences follow the request's
//! `Accept-Language` while codes and field names stay; an account's `locale` decides the language
//! of its messages, here a text through Kannel to its fake SMSC.

use std::time::{Duration, Instant};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;
use chrono::{SubsecRound, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{api_tests, client, Reply, TestApp};

api_tests!(
    a_persian_422_has_the_same_fields_and_persian_sentences,
    codes_stay_and_sentences_follow_accept_language,
    a_registration_without_a_locale_takes_the_requests_language
);

impl TestApp {
    async fn call_in(
        &self,
        language: Option<&str>,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(language) = language {
            request = request.header("Accept-Language", language);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.unwrap()).await
    }
}

fn keys(body: &Value) -> Vec<String> {
    body["errors"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(field, messages)| format!("{field}:{}", messages.as_array().unwrap().len()))
        .collect()
}

fn is_persian(text: &str) -> bool {
    text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
}

async fn a_persian_422_has_the_same_fields_and_persian_sentences(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bad = json!({
        "title": "",
        "starts_at": "tomorrow",
        "capacity": 0,
        "time_zone": "Mars/Olympus",
        "reminders": [{"before": "1m", "to": "pending"}]
    });
    let create = |language| {
        app.call_in(
            language,
            Method::POST,
            "/api/v1/events",
            Some(&olivia.token),
            Some(bad.clone()),
        )
    };
    let english = create(Some("en")).await;
    let persian = create(Some("fa-IR,fa;q=0.9,en;q=0.5")).await;
    assert_eq!(
        (english.status.as_u16(), persian.status.as_u16()),
        (422, 422)
    );
    assert_eq!(english.headers["content-language"], "en");
    assert_eq!(persian.headers["content-language"], "fa");
    let vary: Vec<_> = persian.headers.get_all("vary").iter().collect();
    assert!(vary.iter().any(|v| *v == "Accept-Language"), "{vary:?}");
    assert_eq!(keys(&english.body), keys(&persian.body), "the same fields");
    assert_eq!(
        english.body["errors"]["title"][0],
        "The title field is required."
    );
    assert_eq!(
        persian.body["errors"]["title"][0],
        "پر کردن فیلد عنوان الزامی است."
    );
    assert_eq!(
        persian.body["errors"]["capacity"][0],
        "ظرفیت باید از ۱ تا ۱۰۰۰۰۰ باشد."
    );
    for messages in persian.body["errors"].as_object().unwrap().values() {
        for message in messages.as_array().unwrap() {
            assert!(is_persian(message.as_str().unwrap()), "{message}");
        }
    }
    assert!(
        persian.body["message"]
            .as_str()
            .unwrap()
            .ends_with("(و ۴ خطای دیگر)"),
        "{}",
        persian.body["message"]
    );
    // Unknown languages are English.
    let other = create(Some("de-DE, *;q=0.5")).await;
    assert_eq!(other.headers["content-language"], "en");
    assert_eq!(other.body, english.body);
}

async fn codes_stay_and_sentences_follow_accept_language(app: TestApp) {
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let path = format!("/api/v1/events/{}", uuid::Uuid::now_v7());
    let missing = app
        .call_in(Some("fa"), Method::GET, &path, Some(&olivia.token), None)
        .await;
    assert_eq!(
        missing.expect(404),
        &json!({"message": "رویداد پیدا نشد.", "code": "not_found"})
    );
    let anonymous = app
        .call_in(Some("fa"), Method::GET, "/api/v1/me", None, None)
        .await;
    assert_eq!(
        anonymous.expect(401),
        &json!({"message": "احراز هویت نشده است."})
    );
    // Problem details: the title too, the type and code as ever.
    let problem = app
        .client
        .get(app.url(&path))
        .bearer_auth(&olivia.token)
        .header("Accept", "application/problem+json")
        .header("Accept-Language", "fa")
        .send()
        .await
        .unwrap();
    let problem = Reply::read(problem).await;
    assert_eq!(problem.status, 404);
    let body = &problem.body;
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["title"], "پیدا نشد.");
    assert_eq!(body["detail"], "رویداد پیدا نشد.");
    // A success says its language too, and its data is the same.
    let me = app
        .call_in(
            Some("fa"),
            Method::GET,
            "/api/v1/me",
            Some(&olivia.token),
            None,
        )
        .await;
    assert_eq!(me.headers["content-language"], "fa");
    let english = app
        .call_in(None, Method::GET, "/api/v1/me", Some(&olivia.token), None)
        .await;
    assert_eq!(english.headers["content-language"], "en");
    assert_eq!(me.expect(200), english.expect(200));
}

async fn a_registration_without_a_locale_takes_the_requests_language(app: TestApp) {
    let register = |language, email: &'static str, locale: Option<&'static str>| {
        let mut body = json!({"name": "Reza", "email": email, "password": "correct horse"});
        if let Some(locale) = locale {
            body["locale"] = json!(locale);
        }
        app.call_in(language, Method::POST, "/api/v1/register", None, Some(body))
    };
    let from_header = register(Some("en;q=0.4, fa;q=0.8"), "reza@example.com", None).await;
    assert_eq!(from_header.expect(201)["data"]["user"]["locale"], "fa");
    let from_body = register(Some("fa"), "ann@example.com", Some("en")).await;
    assert_eq!(from_body.expect(201)["data"]["user"]["locale"], "en");
    let neither = register(None, "tom@example.com", None).await;
    assert_eq!(neither.expect(201)["data"]["user"]["locale"], "en");
}

/// A Persian reader invited by mobile gets a Persian text through Kannel: the Solar Hijri date
/// beside the Gregorian one, in Persian digits, in UCS-2 within three segments.
async fn a_persian_invitee_is_texted_in_persian_through_kannel(backend: Backend) {
    let Some(kannel) = adapters_outbound::testing::Kannel::start() else {
        return;
    };
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let url = kannel.sms_url(kannel.var("KANNEL_PASSWORD"));
    let app = TestApp {
        address: crate::helpers::spawn_on(&database, &[("SMS_URL", &url)]).await,
        client: client(),
        database,
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let reza = app
        .register_with(json!({
            "name": "Reza", "mobile": "09352864812", "password": "correct horse", "locale": "fa"
        }))
        .await;
    assert_eq!(reza.expect(201)["data"]["user"]["locale"], "fa");
    let starts_at = Utc::now().trunc_subsecs(0) + chrono::Duration::days(30);
    let made = app
        .post(
            "/api/v1/events",
            Some(&olivia.token),
            json!({"title": "Standup", "starts_at": starts_at.to_rfc3339(), "time_zone": "Asia/Tehran"}),
        )
        .await;
    let event = made.expect(201)["data"]["id"].as_str().unwrap().to_owned();
    app.send(&olivia, &event, json!(["09352864812"]))
        .await
        .expect(200);
    let started = Instant::now();
    let text = loop {
        if let Some(at) = kannel
            .received()
            .into_iter()
            .find(|m| m.to.ends_with("9352864812"))
        {
            break at.text();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no text at the SMSC: {}",
            kannel.smsc_log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        text.starts_with("Olivia شما را به «Standup» در مدیر رویداد دعوت کرده است."),
        "{text}"
    );
    assert!(
        text.contains(" پاسخ دهید."),
        "the time to answer by: {text}"
    );
    assert!(
        text.contains("۱۴۰"),
        "a Solar Hijri year in Persian digits: {text}"
    );
    assert!(
        text.contains("(Asia/Tehran)"),
        "in the event's zone: {text}"
    );
    assert!(text.contains("/i/"), "the one-click link: {text}");
    eprintln!("the Persian text at the SMSC: {text}");
    let units = text.encode_utf16().count();
    assert!(units <= 3 * 67, "{units} UCS-2 units: more than 3 segments");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_persian_invitee_is_texted_in_persian_through_kannel() {
    a_persian_invitee_is_texted_in_persian_through_kannel(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_persian_invitee_is_texted_in_persian_through_kannel() {
    a_persian_invitee_is_texted_in_persian_through_kannel(Backend::Postgres).await;
}
