//! Stopping invitation messages (docs/api.md, "Stopping invitation messages"): every invitation
//! email names an unsubscribe link in `List-Unsubscribe` (with RFC 8058's one-click `POST`); the
//! link's page shows without stopping anything, a one-click `POST` stops the sender's messages to
//! the address, and `scope=everyone` everyone's. The invitations are still made.

use std::time::{Duration, Instant};

use adapters_diesel::Backend;
use serde_json::json;

use crate::helpers::client;
use crate::proofs::{spawn_proving_with, Outbox};

const WITHIN: Duration = Duration::from_secs(20);

/// Waits for the emails to `to` to number `count`; returns them, oldest first.
async fn emails_to(outbox: &Outbox, to: &str, count: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let emails: Vec<String> = outbox
            .files("mail")
            .into_iter()
            .filter(|email| email.contains(&format!("To: {to}")))
            .collect();
        if emails.len() >= count {
            return emails;
        }
        assert!(
            started.elapsed() < WITHIN,
            "{} of {count} emails to {to}",
            emails.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The link of an email's `List-Unsubscribe` header, checking RFC 8058's header beside it.
fn unsubscribe_link(email: &str) -> String {
    assert!(
        email.contains("\nList-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{email}"
    );
    let line = email
        .lines()
        .find_map(|line| line.strip_prefix("List-Unsubscribe: <"))
        .unwrap_or_else(|| panic!("no List-Unsubscribe in {email}"));
    line.trim_end().trim_end_matches('>').to_owned()
}

/// `POST`s a form body to an unsubscribe link, as a mail client or the page would.
async fn post_form(link: &str, body: &str) -> (u16, String) {
    let reply = client()
        .post(link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

async fn a_one_click_post_stops_the_senders_messages_and_the_page_offers_everyones(
    backend: Backend,
) {
    let outbox = Outbox::new();
    let Some(app) = spawn_proving_with(backend, &outbox, &[("CONTACT_VERIFICATION", "off")]).await
    else {
        return;
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    app.register("Sara", Some("sara@example.com"), None).await;
    app.register("Carol", Some("carol@example.com"), None).await;
    let party = app.create_event(&olivia, "Launch party").await;
    app.send(&olivia, &party, json!(["sara@example.com"]))
        .await
        .expect(200);
    let first = emails_to(&outbox, "sara@example.com", 1).await;
    // The link starts with PUBLIC_URL (left at its default here); this test calls the server.
    let named = unsubscribe_link(&first[0]);
    let token = named.split("/unsubscribe/").nth(1).expect(&named);
    let link = format!("{}/unsubscribe/{token}", app.address);
    assert!(
        first[0].contains("Stop invitations to this address:"),
        "{}",
        first[0]
    );

    // The page shows what it would stop, and stops nothing (mail scanners follow links).
    let page = client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Stop invitations from Olivia"), "{html}");
    assert!(html.contains("Stop invitations from everyone"), "{html}");
    assert!(html.contains("sara@example.com"), "{html}");

    // A mail client's one-click POST (RFC 8058): Olivia's next invitation is made but not
    // emailed; Carol's, sent after it, shows the worker got that far.
    let (status, html) = post_form(&link, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("no more invitation messages from Olivia"),
        "{html}"
    );
    let dinner = app.create_event(&olivia, "Dinner").await;
    let sent = app
        .send(
            &olivia,
            &dinner,
            json!(["sara@example.com", "carol@example.com"]),
        )
        .await;
    assert_eq!(
        sent.expect(200)["data"]["sent"].as_array().unwrap().len(),
        2
    );
    emails_to(&outbox, "carol@example.com", 1).await;
    // Bob's still come.
    let picnic = app.create_event(&bob, "Picnic").await;
    app.send(&bob, &picnic, json!(["sara@example.com"]))
        .await
        .expect(200);
    let now = emails_to(&outbox, "sara@example.com", 2).await;
    assert!(now[1].contains("Picnic"), "{}", now[1]);

    // The page's other button: everyone's. Bob's next invitation is not emailed either.
    let (status, html) = post_form(&link, "scope=everyone").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("no more invitation messages from anyone"),
        "{html}"
    );
    let walk = app.create_event(&bob, "Walk").await;
    app.send(
        &bob,
        &walk,
        json!(["sara@example.com", "carol@example.com"]),
    )
    .await
    .expect(200);
    emails_to(&outbox, "carol@example.com", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let total = emails_to(&outbox, "sara@example.com", 2).await.len();
    assert_eq!(total, 2, "nothing more reached Sara");

    // A link this service did not make: 404, nothing stopped.
    let forged = format!("{}/unsubscribe/AAAA.BBBB", app.address);
    assert_eq!(client().get(&forged).send().await.unwrap().status(), 404);
    assert_eq!(post_form(&forged, "scope=everyone").await.0, 404);
    eprintln!(
        "{backend:?}: one-click stopped Olivia's emails to Sara, the page's button everyone's"
    );
}

/// Texts that reached the fake SMSC for `number` (E.164 without or with `+`) so far.
fn texts_to(kannel: &adapters_outbound::testing::Kannel, number: &str) -> Vec<String> {
    kannel
        .received()
        .into_iter()
        .filter(|at| at.to.trim_start_matches('+') == number.trim_start_matches('+'))
        .map(|at| at.text())
        .collect()
}

async fn wait_for_texts(
    kannel: &adapters_outbound::testing::Kannel,
    number: &str,
    count: usize,
) -> Vec<String> {
    let started = Instant::now();
    loop {
        let texts = texts_to(kannel, number);
        if texts.len() >= count {
            return texts;
        }
        assert!(
            started.elapsed() < WITHIN,
            "{} of {count} texts to {number}: {}",
            texts.len(),
            kannel.smsc_log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_stop_texted_back_through_kannel_stops_every_senders_texts(backend: Backend) {
    const SECRET: &str = "a-secret-the-gateway-names";
    // The service's port, chosen first: the gateway must know where to hand texts over.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = format!("http://127.0.0.1:{port}/hooks/sms?secret={SECRET}");
    let Some(kannel) = adapters_outbound::testing::Kannel::start_handing_texts_to(&hook) else {
        return;
    };
    let outbox = Outbox::new();
    let url = kannel.sms_url(kannel.var("KANNEL_PASSWORD"));
    let bind = format!("127.0.0.1:{port}");
    let Some(app) = spawn_proving_with(
        backend,
        &outbox,
        &[
            ("CONTACT_VERIFICATION", "off"),
            ("SMS_URL", &url),
            ("SMS_INBOUND_SECRET", SECRET),
            ("BIND_ADDR", &bind),
        ],
    )
    .await
    else {
        return;
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;
    app.register("Reza", None, Some("09121234567")).await;
    app.register("Sam", None, Some("09351112233")).await;
    let party = app.create_event(&olivia, "Launch party").await;
    app.send(&olivia, &party, json!(["09121234567"]))
        .await
        .expect(200);
    let first = wait_for_texts(&kannel, "989121234567", 1).await;
    assert!(first[0].contains("Launch party"), "{first:?}");

    // Reza answers the text with STOP; the gateway hands it to the service.
    kannel.text_from("+989121234567", "EventMgr", "STOP");
    let started = Instant::now();
    while app
        .database
        .texts("SELECT scope AS value FROM opt_outs WHERE contact = '+989121234567'")
        != ["everyone"]
    {
        assert!(started.elapsed() < WITHIN, "the STOP never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nobody's invitations text him now; Sam's, sent after, show the worker got that far.
    let dinner = app.create_event(&bob, "Dinner").await;
    let sent = app
        .send(&bob, &dinner, json!(["09121234567", "09351112233"]))
        .await;
    assert_eq!(
        sent.expect(200)["data"]["sent"].as_array().unwrap().len(),
        2
    );
    wait_for_texts(&kannel, "989351112233", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        texts_to(&kannel, "989121234567").len(),
        1,
        "no text after STOP"
    );

    // The hook without the secret, or with another, is not there.
    for query in [
        "",
        "?secret=wrong-secret-of-the-same&from=%2B989351112233&text=STOP",
    ] {
        let reply = client()
            .get(format!("{}/hooks/sms{query}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404, "{query}");
    }
    assert!(app
        .database
        .texts("SELECT scope AS value FROM opt_outs WHERE contact = '+989351112233'")
        .is_empty());
    eprintln!("{backend:?}: a STOP through Kannel stopped every sender's texts to its number");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_stop_texted_back_through_kannel_stops_every_senders_texts() {
    a_stop_texted_back_through_kannel_stops_every_senders_texts(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_stop_texted_back_through_kannel_stops_every_senders_texts() {
    a_stop_texted_back_through_kannel_stops_every_senders_texts(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_one_click_post_stops_the_senders_messages_and_the_page_offers_everyones() {
    a_one_click_post_stops_the_senders_messages_and_the_page_offers_everyones(Backend::Sqlite)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_one_click_post_stops_the_senders_messages_and_the_page_offers_everyones() {
    a_one_click_post_stops_the_senders_messages_and_the_page_offers_everyones(Backend::Postgres)
        .await;
}
