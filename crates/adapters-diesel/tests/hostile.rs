//! Hostile input and abuse, round 2 (issue 11), at the adapter: bounded waits, stored rows trusted
//! as stored, races between a send and an answer, deadlock-free batches, and the token purge. Each
//! case runs on SQLite and, with `TEST_DATABASE_URL`, on PostgreSQL (`sqlite::name`,
//! `postgres::name`); a few are PostgreSQL-only and say why.

use std::time::{Duration as StdDuration, Instant};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::{Backend, Database, DatabaseConfig};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::ports::*;
use domain::{
    Answer, Email, EventDetails, EventId, Invitation, Mobile, PhoneRegion, Text, User, UserId,
};

/// Declares each case once per backend: `sqlite::name` and `postgres::name`.
macro_rules! both {
    ($(async fn $name:ident($backend:ident: Backend) $body:block)*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(adapters_diesel::Backend::Postgres).await
                }
            )*
        }
        $(async fn $name($backend: Backend) $body)*
    };
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
}

fn new_user(name: &str, email: Option<&str>, mobile: Option<&str>) -> NewUser {
    NewUser {
        id: UserId::generate(),
        name: Text::from_stored(name.into()),
        email: email.map(|e| Email::parse(e).unwrap()),
        mobile: mobile.map(|m| Mobile::parse(m, PhoneRegion::default()).unwrap()),
        password_hash: PasswordHash(format!("$argon2id$fake${name}")),
        created_at: now(),
    }
}

async fn user(db: &Database, name: &str, email: Option<&str>, mobile: Option<&str>) -> User {
    UserRepository::create(db, new_user(name, email, mobile))
        .await
        .unwrap()
}

async fn event(db: &Database, owner: &User) -> EventId {
    let details =
        EventDetails::new(Text::from_stored("Party".into()), None, None, None, None).unwrap();
    EventRepository::create(
        db,
        NewEvent {
            id: EventId::generate(),
            details,
            owner: owner.summary(),
            created_at: now(),
        },
    )
    .await
    .unwrap()
    .id
}

async fn invite(db: &Database, event: EventId, sender: &User, invitee: &User) -> Invitation {
    let invitation = Invitation::new_pending(event, sender.id, invitee.id, "contact".into(), now());
    assert_eq!(
        db.create_batch(std::slice::from_ref(&invitation))
            .await
            .unwrap(),
        [BatchOutcome::Created]
    );
    invitation
}

fn answered(invitation: &Invitation, answer: Answer) -> Invitation {
    let mut answered = invitation.clone();
    answered
        .answer(
            invitation.invitee_id(),
            answer,
            now() + Duration::minutes(1),
        )
        .unwrap();
    answered
}

both! {
    async fn a_lock_held_past_lock_timeout_is_unavailable(backend: Backend) {
        let Some(database) = TestDatabase::new(backend) else { return };
        let mut config = database.config().clone();
        config.lock_timeout = StdDuration::from_millis(300);
        let db = Database::open(&config).unwrap();
        let owner = user(&db, "Olivia", Some("olivia@example.com"), None).await;
        let invitee = user(&db, "Sara", Some("sara@example.com"), None).await;
        let event = event(&db, &owner).await;
        let invitation = invite(&db, event, &owner, &invitee).await;

        let mut holder = database.session();
        holder.execute(match backend {
            Backend::Postgres => "BEGIN; LOCK TABLE invitations IN EXCLUSIVE MODE",
            Backend::Sqlite => "BEGIN IMMEDIATE",
        });
        let started = Instant::now();
        let result = db.save_answer(&answered(&invitation, Answer::Accept)).await;
        let took = started.elapsed();
        println!("{backend:?}: save_answer behind a held lock failed after {took:.2?}");
        assert!(
            matches!(result, Err(SaveAnswerError::Port(PortError::Unavailable(_)))),
            "{result:?}"
        );
        assert!(took < StdDuration::from_secs(2), "took {took:?}");

        drop(holder);
        db.save_answer(&answered(&invitation, Answer::Accept))
            .await
            .unwrap();
    }
}

/// PostgreSQL only: SQLite has no statement timeout (its only wait is the busy wait, above).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_statement_past_statement_timeout_is_unavailable() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let config = DatabaseConfig {
        statement_timeout: StdDuration::from_millis(300),
        lock_timeout: StdDuration::from_secs(30),
        ..database.config().clone()
    };
    let db = Database::open(&config).unwrap();
    let owner = user(&db, "Olivia", Some("olivia@example.com"), None).await;
    let invitee = user(&db, "Sara", Some("sara@example.com"), None).await;
    let event = event(&db, &owner).await;
    let invitation = invite(&db, event, &owner, &invitee).await;

    let mut holder = database.session();
    holder.execute(&format!(
        "BEGIN; SELECT id FROM invitations WHERE id = '{}' FOR UPDATE",
        invitation.id()
    ));
    let started = Instant::now();
    let result = db.save_answer(&answered(&invitation, Answer::Reject)).await;
    let took = started.elapsed();
    println!("Postgres: save_answer past statement_timeout failed after {took:.2?}");
    assert!(
        matches!(
            result,
            Err(SaveAnswerError::Port(PortError::Unavailable(_)))
        ),
        "{result:?}"
    );
    assert!(took < StdDuration::from_secs(2), "took {took:?}");
}
