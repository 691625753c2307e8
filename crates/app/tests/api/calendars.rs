//! Calendars through the binary (docs/api.md, "Calendars"), on SQLite and PostgreSQL: an event's
//! time zone; its calendar file for members only; a person's secret feed, replaced by a new one
//! and ended by `DELETE`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{api_tests, Reply, TestApp};

api_tests!(
    an_events_time_zone_is_an_iana_name_set_at_creation_and_by_edits,
    an_events_calendar_file_is_for_its_members_and_needs_a_start,
    a_calendar_feed_is_made_replaced_and_ended
);

/// A GET of a calendar file, with or without a token.
async fn ics(app: &TestApp, path: &str, token: Option<&str>) -> Reply {
    app.call(Method::GET, path, token, None).await
}

fn unfolded(text: &str) -> String {
    text.replace("\r\n ", "")
}

async fn an_events_time_zone_is_an_iana_name_set_at_creation_and_by_edits(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let made = app
        .post(
            "/api/v1/events",
            Some(&ann.token),
            json!({"title": "Launch", "time_zone": "Asia/Tehran"}),
        )
        .await;
    let event = &made.expect(201)["data"];
    assert_eq!(event["time_zone"], "Asia/Tehran");
    let id = event["id"].as_str().unwrap();
    let plain = app.create_event(&ann, "Plain").await;
    let plain = app
        .get(&format!("/api/v1/events/{plain}"), &ann.token)
        .await;
    assert_eq!(plain.expect(200)["data"]["time_zone"], "UTC");

    for (bad, message) in [
        (
            json!("Mars/Olympus"),
            "The time zone must be an IANA time zone name, such as Asia/Tehran.",
        ),
        (
            json!("asia/tehran"),
            "The time zone must be an IANA time zone name, such as Asia/Tehran.",
        ),
        (json!(35), "The time zone must be a string."),
    ] {
        let refused = app
            .post(
                "/api/v1/events",
                Some(&ann.token),
                json!({"title": "Bad", "time_zone": bad}),
            )
            .await;
        assert_eq!(refused.expect(422)["errors"]["time_zone"][0], message);
    }

    let moved = app
        .patch(
            &format!("/api/v1/events/{id}"),
            &ann.token,
            json!({"time_zone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(moved.expect(200)["data"]["time_zone"], "Europe/Berlin");
    let reset = app
        .patch(
            &format!("/api/v1/events/{id}"),
            &ann.token,
            json!({"time_zone": null}),
        )
        .await;
    assert_eq!(reset.expect(200)["data"]["time_zone"], "UTC");
}

async fn an_events_calendar_file_is_for_its_members_and_needs_a_start(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let zed = app.register("Zed", Some("zed@example.com"), None).await;
    let made = app
        .post(
            "/api/v1/events",
            Some(&ann.token),
            json!({
                "title": "Launch, party",
                "location": "Rooftop",
                "starts_at": "2027-01-15T14:30:00Z",
                "time_zone": "Asia/Tehran",
            }),
        )
        .await;
    let id = made.expect(201)["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/events/{id}/calendar.ics");

    let file = ics(&app, &path, Some(&ann.token)).await;
    assert_eq!(file.status, 200, "{}", file.text);
    assert_eq!(file.headers["content-type"], "text/calendar; charset=utf-8");
    let text = unfolded(&file.text);
    assert!(
        text.contains("DTSTART;TZID=Asia/Tehran:20270115T180000\r\n"),
        "{text}"
    );
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Tehran\r\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("UID:{id}@event-manager\r\n")),
        "{text}"
    );
    assert!(text.contains("SUMMARY:Launch\\, party\r\n"), "{text}");
    assert!(
        text.contains(&format!(":urn:uuid:{}\r\n", ann.id)),
        "{text}"
    );

    // Strangers and the anonymous learn nothing; a timeless event has no file.
    ics(&app, &path, Some(&zed.token)).await.expect(404);
    ics(&app, &path, None).await.expect(401);
    let timeless = app.create_event(&ann, "Someday").await;
    let none = ics(
        &app,
        &format!("/api/v1/events/{timeless}/calendar.ics"),
        Some(&ann.token),
    )
    .await;
    // It exists, without a time: a conflict with its state, not a missing resource.
    assert_eq!(
        none.expect(409),
        &serde_json::json!({
            "message": "This event has no start time yet, so it has no calendar entry.",
            "code": "no_start_time"
        })
    );
}

async fn a_calendar_feed_is_made_replaced_and_ended(app: TestApp) {
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    app.post(
        "/api/v1/events",
        Some(&ann.token),
        json!({"title": "Mine", "starts_at": "2027-02-01T10:00:00Z"}),
    )
    .await
    .expect(201);
    let feed_path = |url: &str| {
        url.split_once("://")
            .unwrap()
            .1
            .split_once('/')
            .unwrap()
            .1
            .to_owned()
    };

    let made = app
        .post("/api/v1/me/calendar-feed", Some(&ann.token), json!({}))
        .await;
    let url = made.expect(201)["data"]["url"].as_str().unwrap().to_owned();
    assert!(url.ends_with(".ics") && url.contains("/cal/"), "{url}");
    assert_eq!(made.headers["cache-control"], "no-store");
    let first = format!("/{}", feed_path(&url));
    let feed = ics(&app, &first, None).await;
    assert_eq!(feed.status, 200, "{}", feed.text);
    assert!(feed.text.contains("SUMMARY:Mine"), "{}", feed.text);
    assert!(feed.text.contains("PARTSTAT=ACCEPTED"), "{}", feed.text);

    let again = app
        .post("/api/v1/me/calendar-feed", Some(&ann.token), json!({}))
        .await;
    let second = format!(
        "/{}",
        feed_path(again.expect(201)["data"]["url"].as_str().unwrap())
    );
    assert_ne!(first, second);
    ics(&app, &first, None).await.expect(404);
    assert_eq!(ics(&app, &second, None).await.status, 200);

    app.call(
        Method::DELETE,
        "/api/v1/me/calendar-feed",
        Some(&ann.token),
        None,
    )
    .await
    .expect(204);
    ics(&app, &second, None).await.expect(404);
    app.call(
        Method::DELETE,
        "/api/v1/me/calendar-feed",
        Some(&ann.token),
        None,
    )
    .await
    .expect(404);
    ics(&app, "/cal/nothing", None).await.expect(404);
}
