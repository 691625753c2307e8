//! Every wait is bounded (docs/operations.md, "Every wait is bounded"): a lock held elsewhere costs a request a few
//! seconds and a 503, never a hang. Figures are printed (`--nocapture`, or nextest's output).

use std::time::{Duration, Instant};

use adapters_diesel::Backend;
use serde_json::json;

use crate::helpers::api_tests;

/// How long any request of these tests may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(20);

api_tests! {
    async fn an_answer_waiting_on_a_held_lock_is_503_within_seconds(app: TestApp) {
        let owner = app.register("Olivia", Some("olivia@example.com"), None).await;
        let invitee = app.register("Sara", Some("sara@example.com"), None).await;
        let event_id = app.create_event(&owner, "Party").await;
        let sent = app.send(&owner, &event_id, json!(["sara@example.com"])).await;
        let invitation = sent.expect(200)["data"]["sent"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Another client holds the lock the answer needs: the invitation's row on PostgreSQL, the
        // write lock on SQLite.
        let mut holder = app.database.session();
        match app.database.backend() {
            Backend::Postgres => holder.execute(&format!(
                "BEGIN; SELECT id FROM invitations WHERE id = '{invitation}' FOR UPDATE"
            )),
            Backend::Sqlite => holder.execute("BEGIN IMMEDIATE"),
        }

        let started = Instant::now();
        let reply = tokio::time::timeout(HANG, app.answer(&invitee, &invitation, "accepted"))
            .await
            .expect("the answer hung behind the lock");
        let took = started.elapsed();
        eprintln!(
            "{:?}: answer behind a held lock -> {} after {took:.2?}",
            app.database.backend(),
            reply.status
        );
        assert_eq!(
            reply.expect(503),
            &json!({"message": "Service temporarily unavailable."})
        );
        assert!(took < Duration::from_secs(6), "took {took:?}");

        // Once the lock is released, the same answer goes through.
        drop(holder);
        app.answer(&invitee, &invitation, "accepted")
            .await
            .expect(200);
    }
}
