//! One-click links through the binary (docs/api.md, "Answering from a message"), on SQLite and
//! PostgreSQL: the invitation email carries `{PUBLIC_URL}/i/{token}`; the token shows and answers
//! the invitation through `/api/v1/rsvp/{token}` and the page at `/i/{token}`, under the app's
//! rules, and opens nothing once the invitation is answered for good; a look changes nothing;
//! the page answers only a POST of its own form; both are limited per address.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{client, spawn_on, Reply, TestApp, TestUser};

/// Each case once per backend, on a service of its own (`sqlite::name`, `postgres::name`).
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Postgres).await
                }
            )*
        }
    };
}

per_backend!(
    an_edit_that_moves_the_event_emails_its_followers_unless_quiet,
    deleting_an_event_emails_its_members_and_its_invitees_once_each,
    edits_that_may_message_followers_are_limited_per_user_per_hour,
    the_emails_link_shows_and_answers_the_invitation_through_the_api,
    the_page_answers_only_its_own_form_and_a_look_changes_nothing,
    links_are_limited_per_address
);

const PUBLIC_URL: &str = "https://events.example.com";

/// This test's `OUTBOX_DIR`, removed on drop.
struct Outbox(PathBuf);

impl Drop for Outbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct World {
    app: TestApp,
    outbox: Outbox,
    ann: TestUser,
    bob: TestUser,
    invitation: String,
    token: String,
}

/// The service writing emails to files, with `vars`; Ann invites Bob to "Housewarming" (up to 2
/// guests); the token of the link in Bob's email.
async fn world(database: TestDatabase, vars: &[(&str, &str)]) -> World {
    let outbox =
        Outbox(std::env::temp_dir().join(format!("event-manager-links-{}", uuid::Uuid::now_v7())));
    let mut all = vec![
        ("OUTBOX_DIR", outbox.0.to_str().unwrap()),
        ("SMTP_URL", ""),
        ("PUBLIC_URL", PUBLIC_URL),
    ];
    all.extend_from_slice(vars);
    let address = spawn_on(&database, &all).await;
    let app = TestApp {
        address,
        client: client(),
        database,
    };
    let ann = app.register("Ann", Some("ann@example.com"), None).await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    let event = app
        .post(
            "/api/v1/events",
            Some(&ann.token),
            json!({"title": "Housewarming", "location": "Flat 3", "max_guests": 2}),
        )
        .await
        .expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invitation = app
        .send(&ann, &event, json!(["bob@example.com"]))
        .await
        .expect(200)["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = link_token(&outbox.0).await;
    World {
        app,
        outbox,
        ann,
        bob,
        invitation,
        token,
    }
}

/// The token of the one link in the one email the outbox will hold.
async fn link_token(outbox: &std::path::Path) -> String {
    let started = Instant::now();
    loop {
        let emails: Vec<PathBuf> = std::fs::read_dir(outbox.join("mail"))
            .map(|dir| dir.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        let whole: Vec<&PathBuf> = emails
            .iter()
            .filter(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
            .collect();
        if let Some(path) = whole.first() {
            // Quoted-printable soft line breaks and `=` aside, the link is as written.
            let email = std::fs::read_to_string(path)
                .unwrap()
                .replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=");
            let prefix = format!("{PUBLIC_URL}/i/");
            let tokens: Vec<String> = email
                .match_indices(&prefix)
                .map(|(at, _)| {
                    email[at + prefix.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect()
                })
                .collect();
            assert!(!tokens.is_empty(), "no link in {email}");
            assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
            assert_eq!(tokens[0].len(), 24, "{email}");
            return tokens[0].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no email in {outbox:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl World {
    async fn rsvp(&self, method: Method, body: Option<serde_json::Value>) -> Reply {
        self.rsvp_with(&self.token, method, body).await
    }

    async fn rsvp_with(
        &self,
        token: &str,
        method: Method,
        body: Option<serde_json::Value>,
    ) -> Reply {
        self.app
            .call(method, &format!("/api/v1/rsvp/{token}"), None, body)
            .await
    }

    async fn bobs_status(&self) -> String {
        self.app
            .get(
                &format!("/api/v1/invitations/{}", self.invitation),
                &self.bob.token,
            )
            .await
            .expect(200)["data"]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn page(&self, method: Method, cookie: Option<&str>, form: Option<String>) -> Reply {
        let mut request = self
            .app
            .client
            .request(method, self.app.url(&format!("/i/{}", self.token)))
            .header("accept", "text/html");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(form) = form {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form);
        }
        Reply::read(request.send().await.unwrap()).await
    }
}

async fn the_emails_link_shows_and_answers_the_invitation_through_the_api(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let w = world(database, &[]).await;
    let _ = &w.outbox;

    let shown = w.rsvp(Method::GET, None).await;
    let data = &shown.expect(200)["data"];
    assert_eq!(data["invitation"]["id"], w.invitation.as_str());
    assert_eq!(data["invitation"]["status"], "pending");
    assert_eq!(data["event"]["title"], "Housewarming");
    assert_eq!(data["event"]["location"], "Flat 3");
    assert_eq!(data["event"]["max_guests"], 2);
    assert_eq!(data["sender"]["name"], "Ann");
    assert_eq!(data["held"], false);
    assert!(
        data["invitation"].get("contact").is_none(),
        "no contact: {data}"
    );
    assert_eq!(shown.headers["cache-control"], "no-store");
    assert_eq!(shown.headers["referrer-policy"], "no-referrer");

    // The app's rules: too many guests is refused, and changes nothing.
    let refused = w
        .rsvp(
            Method::POST,
            Some(json!({"status": "accepted", "guests": 3})),
        )
        .await;
    assert_eq!(
        refused.expect(422)["errors"]["guests"][0],
        "This event allows at most 2 guests."
    );
    let bad = w.rsvp(Method::POST, Some(json!({"status": "sure"}))).await;
    bad.expect(422);

    let maybe = w
        .rsvp(
            Method::POST,
            Some(json!({"status": "tentative", "comment": "If I can"})),
        )
        .await;
    assert_eq!(
        maybe.expect(200)["data"]["invitation"]["status"],
        "tentative"
    );
    assert_eq!(w.bobs_status().await, "tentative");
    let yes = w
        .rsvp(
            Method::POST,
            Some(json!({"status": "accepted", "guests": 1})),
        )
        .await;
    let yes = &yes.expect(200)["data"]["invitation"];
    assert_eq!(
        (yes["status"].as_str(), yes["guests"].as_u64()),
        (Some("accepted"), Some(1))
    );
    assert_eq!(w.bobs_status().await, "accepted");
    // Bob is a member now: the event shows to him.
    let event = data["event"]["id"].as_str().unwrap();
    w.app
        .get(&format!("/api/v1/events/{event}"), &w.bob.token)
        .await
        .expect(200);
    let _ = &w.ann;

    // Answered for good: the link opens nothing now, the same as an unknown token.
    let gone = w.rsvp(Method::GET, None).await;
    let unknown = w
        .rsvp_with("AAAAAAAAAAAAAAAAAAAAAAAA", Method::GET, None)
        .await;
    assert_eq!(gone.expect(404), unknown.expect(404));
    w.rsvp(Method::POST, Some(json!({"status": "rejected"})))
        .await
        .expect(404);
    assert_eq!(w.bobs_status().await, "accepted");
}

/// The CSRF token in the page's form.
fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].chars().take_while(|c| *c != '"').collect()
}

async fn the_page_answers_only_its_own_form_and_a_look_changes_nothing(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let w = world(database, &[]).await;

    let mut cookie = String::new();
    let mut csrf = String::new();
    for _ in 0..3 {
        let page = w.page(Method::GET, None, None).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
        let policy = page.headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'none'"), "{policy}");
        assert!(policy.contains("form-action 'self'"), "{policy}");
        assert_eq!(page.headers["cache-control"], "no-store");
        assert!(page.text.contains("Housewarming") && page.text.contains("Flat 3"));
        assert!(!page.text.contains("<script"), "no script");
        let set = page.headers["set-cookie"].to_str().unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        assert!(set.contains(&format!("Path=/i/{}", w.token)), "{set}");
        assert!(set.contains("Secure"), "PUBLIC_URL is https: {set}");
        cookie = set.split(';').next().unwrap().to_owned();
        csrf = csrf_in(&page.text);
    }
    assert_eq!(w.bobs_status().await, "pending", "looking changes nothing");

    // Without the cookie, or with another token: refused, nothing answered.
    let form = format!("csrf={csrf}&status=accepted");
    let refused = w.page(Method::POST, None, Some(form.clone())).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let wrong = w
        .page(
            Method::POST,
            Some(&cookie),
            Some("csrf=other&status=accepted".into()),
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(w.bobs_status().await, "pending");

    // A wrong field is told on the page.
    let bad = w
        .page(
            Method::POST,
            Some(&cookie),
            Some(format!("csrf={csrf}&status=accepted&guests=9")),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("at most 2 guests"), "{}", bad.text);

    let answered = w
        .page(
            Method::POST,
            Some(&cookie),
            Some(format!("csrf={csrf}&status=rejected&comment=Sorry%2C+away")),
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    assert!(answered.text.contains("You declined"), "{}", answered.text);
    assert_eq!(w.bobs_status().await, "rejected");
    let dead = w.page(Method::GET, None, None).await;
    assert_eq!(dead.status, 404);
    assert!(
        dead.text.contains("This link no longer works"),
        "{}",
        dead.text
    );
}

async fn links_are_limited_per_address(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let w = world(database, &[("LINK_REQUESTS_PER_ADDRESS_PER_MINUTE", "3")]).await;
    for _ in 0..2 {
        w.rsvp_with("AAAAAAAAAAAAAAAAAAAAAAAA", Method::GET, None)
            .await
            .expect(404);
    }
    w.rsvp(Method::GET, None).await.expect(200);
    let limited = w.rsvp(Method::GET, None).await;
    limited.expect(429);
    assert!(limited.headers.contains_key("retry-after"));
    let page = w.page(Method::GET, None, None).await;
    assert_eq!(page.status, 429);
    assert!(page.text.contains("Too many attempts"), "{}", page.text);
    assert_eq!(w.bobs_status().await, "pending");
}

/// The subjects of the emails in the outbox to `to`, once `count` of them are there (or after
/// 20 s, whatever is there).
async fn subjects_to(outbox: &std::path::Path, to: &str, count: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let mut subjects = Vec::new();
        for entry in std::fs::read_dir(outbox.join("mail")).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_str().unwrap().starts_with('.') {
                continue;
            }
            let email = std::fs::read_to_string(&path).unwrap();
            if email.contains(&format!("To: {to}")) {
                let subject = email
                    .lines()
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .unwrap_or_default()
                    .to_owned();
                subjects.push(subject);
            }
        }
        if subjects.len() >= count || started.elapsed() > Duration::from_secs(20) {
            subjects.sort();
            return subjects;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn an_edit_that_moves_the_event_emails_its_followers_unless_quiet(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let w = world(database, &[]).await;
    let event = w.rsvp(Method::GET, None).await.expect(200)["data"]["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/events/{event}");
    // Quiet, and an edit that moves nothing: no notice.
    w.app
        .patch(
            &path,
            &w.ann.token,
            json!({"location": "Garden", "notify": "none"}),
        )
        .await
        .expect(200);
    w.app
        .patch(&path, &w.ann.token, json!({"description": "Snacks"}))
        .await
        .expect(200);
    let bad = w
        .app
        .patch(&path, &w.ann.token, json!({"notify": "some"}))
        .await;
    assert_eq!(
        bad.expect(422)["errors"]["notify"][0],
        "The notify field must be all or none."
    );
    // A new place: Bob (a pending invitee) and Ann (the owner) are told.
    w.app
        .patch(&path, &w.ann.token, json!({"location": "Rooftop"}))
        .await
        .expect(200);
    assert_eq!(
        subjects_to(&w.outbox.0, "bob@example.com", 2).await,
        ["Ann invited you to Housewarming", "Changed: Housewarming"]
    );
    assert_eq!(
        subjects_to(&w.outbox.0, "ann@example.com", 1).await,
        ["Changed: Housewarming"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        subjects_to(&w.outbox.0, "bob@example.com", 0).await.len(),
        2,
        "once"
    );
}

async fn deleting_an_event_emails_its_members_and_its_invitees_once_each(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let w = world(database, &[]).await;
    let event = w.rsvp(Method::GET, None).await.expect(200)["data"]["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.app
        .answer(&w.bob, &w.invitation, "accepted")
        .await
        .expect(200);
    let cara = w.app.register("Cara", Some("cara@example.com"), None).await;
    w.app
        .send(&w.ann, &event, json!(["cara@example.com"]))
        .await
        .expect(200);
    subjects_to(&w.outbox.0, "cara@example.com", 1).await;
    let deleted = w
        .app
        .call(
            Method::DELETE,
            &format!("/api/v1/events/{event}"),
            Some(&w.ann.token),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    // Bob, a member, is told the event is cancelled; Cara, whose pending invitation went with it,
    // that her invitation is; Ann, who deleted it, nothing.
    assert_eq!(
        subjects_to(&w.outbox.0, "bob@example.com", 2).await,
        ["Ann invited you to Housewarming", "Cancelled: Housewarming"]
    );
    assert_eq!(
        subjects_to(&w.outbox.0, "cara@example.com", 2).await,
        [
            "Ann invited you to Housewarming",
            "Cancelled: Ann's invitation to Housewarming"
        ]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        subjects_to(&w.outbox.0, "bob@example.com", 0).await.len(),
        2,
        "once"
    );
    assert_eq!(
        subjects_to(&w.outbox.0, "cara@example.com", 0).await.len(),
        2,
        "once"
    );
    assert!(subjects_to(&w.outbox.0, "ann@example.com", 0)
        .await
        .is_empty());
    let _ = cara;
}

async fn edits_that_may_message_followers_are_limited_per_user_per_hour(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let w = world(database, &[("EVENT_NOTICES_PER_USER_PER_HOUR", "1")]).await;
    let event = w.rsvp(Method::GET, None).await.expect(200)["data"]["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/events/{event}");
    w.app
        .patch(&path, &w.ann.token, json!({"location": "Rooftop"}))
        .await
        .expect(200);
    let limited = w
        .app
        .patch(&path, &w.ann.token, json!({"location": "Garden"}))
        .await;
    limited.expect(429);
    let policy = limited.headers["ratelimit-policy"].to_str().unwrap();
    assert!(policy.contains(r#""event-notice";q=1;w=3600"#), "{policy}");
    // Quiet edits, and edits that cannot move the event, are not counted.
    w.app
        .patch(
            &path,
            &w.ann.token,
            json!({"location": "Garden", "notify": "none"}),
        )
        .await
        .expect(200);
    w.app
        .patch(&path, &w.ann.token, json!({"title": "Housewarming!"}))
        .await
        .expect(200);
    // A move of the start, or new reminder rules, may make reminders due again (docs/api.md,
    // "Reminders"): counted, quiet or not.
    for body in [
        json!({"starts_at": "2031-01-01T18:00:00Z", "notify": "none"}),
        json!({"reminders": [{"before": "1h", "to": "accepted"}], "notify": "none"}),
    ] {
        w.app.patch(&path, &w.ann.token, body).await.expect(429);
    }
    assert_eq!(
        subjects_to(&w.outbox.0, "bob@example.com", 2).await,
        ["Ann invited you to Housewarming", "Changed: Housewarming"]
    );
}
