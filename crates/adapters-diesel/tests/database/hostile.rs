//! Hostile input and abuse at the adapter: bounded waits, stored rows trusted as stored, races
//! between a send and an answer, deadlock-free batches, and the token purge. Each case runs on
//! SQLite and, with `TEST_DATABASE_URL`, on PostgreSQL (`sqlite::name`, `postgres::name`); a few
//! are PostgreSQL-only and say why.

use std::time::{Duration as StdDuration, Instant};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::{Backend, Database, DatabaseConfig};
use chrono::{DateTime, Duration, Utc};
use domain::accounts::ports::*;
use domain::accounts::User;
use domain::events::ports::*;
use domain::events::EventDetails;
use domain::invitations::ports::*;
use domain::invitations::Invitation;
use domain::ports::*;
use domain::{Answer, Email, EventId, Login, Mobile, PageRequest, PhoneRegion, Text, UserId};

use crate::support::{new_user, now, per_backend};

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
            None,
            domain::invitations::Reply::of(answer),
            &domain::rsvp::RsvpRules::default(),
            now() + Duration::minutes(1),
        )
        .unwrap();
    answered
}

/// Every wait is bounded.
mod bounded_waits {
    use super::*;

    per_backend!(a_lock_held_past_lock_timeout_is_unavailable);

    async fn a_lock_held_past_lock_timeout_is_unavailable(backend: Backend) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
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
        let result = db
            .save_answer(&answered(&invitation, Answer::Accept), None)
            .await;
        let took = started.elapsed();
        eprintln!("{backend:?}: save_answer behind a held lock failed after {took:.2?}");
        assert!(
            matches!(
                result,
                Err(SaveInvitationError::Port(PortError::Unavailable(_)))
            ),
            "{result:?}"
        );
        assert!(took < StdDuration::from_secs(2), "took {took:?}");

        drop(holder);
        db.save_answer(&answered(&invitation, Answer::Accept), None)
            .await
            .unwrap();
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
        let result = db
            .save_answer(&answered(&invitation, Answer::Reject), None)
            .await;
        let took = started.elapsed();
        eprintln!("Postgres: save_answer past statement_timeout failed after {took:.2?}");
        assert!(
            matches!(
                result,
                Err(SaveInvitationError::Port(PortError::Unavailable(_)))
            ),
            "{result:?}"
        );
        assert!(took < StdDuration::from_secs(2), "took {took:?}");
    }
}

/// Rows read back are trusted as stored.
mod stored_rows {
    use super::*;

    /// A 96-byte local part: over RFC 5321's 64, so `Email::parse` refuses it today; a row written
    /// by an older version (or by hand) may hold one.
    fn odd_email() -> String {
        format!("{}@example.com", "a".repeat(96))
    }

    per_backend!(an_odd_stored_email_never_fails_a_login_a_batch_or_a_list);

    async fn an_odd_stored_email_never_fails_a_login_a_batch_or_a_list(backend: Backend) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
        let db = database.open();
        let owner = user(&db, "Olivia", Some("olivia@example.com"), None).await;
        let reza = user(&db, "Reza", Some("reza@example.com"), None).await;
        assert!(
            Email::parse(&odd_email()).is_err(),
            "the email must be odd today"
        );

        let odd_id = UserId::generate();
        database.session().execute(&format!(
            "INSERT INTO users (id, name, email, mobile, password_hash, created_at) \
                 VALUES ('{odd_id}', 'Odd', '{}', '+989352864812', '$argon2id$fake$odd', \
                 '2026-11-26 10:00:00')",
            odd_email()
        ));

        // Login by its mobile.
        let mobile = Mobile::parse("09352864812", PhoneRegion::default()).unwrap();
        let (odd, _) = db
            .find_credentials(&Login::Mobile(mobile.clone()))
            .await
            .expect("a login lookup reads the odd row")
            .into_iter()
            .next()
            .expect("found");
        assert_eq!(odd.id, odd_id);
        assert_eq!(
            odd.email.as_ref().map(Email::as_str),
            Some(odd_email().as_str())
        );
        assert_eq!(odd.mobile.as_ref(), Some(&mobile));

        // A batch naming it beside valid contacts.
        let emails = [
            Email::parse("reza@example.com").unwrap(),
            Email::parse("nobody@example.com").unwrap(),
        ];
        let mut found: Vec<UserId> = db
            .find_by_contacts(&emails, std::slice::from_ref(&mobile))
            .await
            .expect("a batch lookup reads the odd row")
            .into_iter()
            .map(|u| u.id)
            .collect();
        found.sort();
        let mut expected = vec![reza.id, odd_id];
        expected.sort();
        assert_eq!(found, expected);

        // Its token, and the lists it appears in.
        let hash = TokenHash(vec![7; 32]);
        db.store(NewToken {
            hash: hash.clone(),
            user_id: odd_id,
            created_at: now(),
            expires_at: now() + Duration::days(30),
        })
        .await
        .unwrap();
        let by_token = db.find_user(&hash, now()).await.unwrap().expect("found");
        assert_eq!(by_token.id, odd_id);

        let event = event(&db, &owner).await;
        let invitations: Vec<Invitation> = [odd_id, reza.id]
            .into_iter()
            .map(|invitee| {
                Invitation::new_pending(event, owner.id, invitee, "contact".into(), now())
            })
            .collect();
        assert_eq!(
            db.create_batch(&invitations).await.unwrap(),
            [BatchOutcome::Created, BatchOutcome::Created]
        );
        db.save_answer(&answered(&invitations[0], Answer::Accept), None)
            .await
            .unwrap();
        let page = || PageRequest {
            limit: domain::Limit::new(50).unwrap(),
            after: None,
        };
        let sent = db
            .list_sent(owner.id, InvitationFilter::default(), page(), now())
            .await
            .unwrap();
        assert_eq!(sent.items.len(), 2);
        let received = db
            .list_received(odd_id, InvitationFilter::default(), page(), now())
            .await
            .unwrap();
        assert_eq!(received.items.len(), 1);
        let members = db.list_members(event, page()).await.unwrap();
        assert_eq!(members.items.len(), 2);
        let events = db.list_for_member(odd_id, page()).await.unwrap();
        assert_eq!(events.items.len(), 1);
    }
}

/// A batch re-checks R6 and R8 atomically with its insert.
mod batch_recheck {
    use std::sync::Arc;

    use domain::invitations::InvitationEntries;
    use domain::invitations::{InvitationService, SendInvitations};

    use super::*;

    struct Clock0;
    impl Clock for Clock0 {
        fn now(&self) -> DateTime<Utc> {
            now()
        }
    }

    /// Pending invitations whose invitee is a member of the event: must never exist.
    const PENDING_TO_MEMBERS: &str = "SELECT CAST(i.id AS TEXT) AS value FROM invitations i \
         JOIN event_members m ON m.event_id = i.event_id AND m.user_id = i.invitee_id \
         WHERE i.status = 'pending'";

    per_backend!(
        a_batch_planned_before_its_invitee_answered_stores_nothing,
        a_send_racing_an_accept_never_leaves_a_pending_invitation_to_a_member
    );

    // A batch planned on a snapshot read before its invitee joined (or rejected) is what a
    // send racing an answer writes: deterministic here, by planning first and answering
    // before the write.
    async fn a_batch_planned_before_its_invitee_answered_stores_nothing(backend: Backend) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
        let db = database.open();
        let owner = user(&db, "Olivia", Some("olivia@example.com"), None).await;
        let joined = user(&db, "Joe", Some("joe@example.com"), None).await;
        let refused = user(&db, "Rita", Some("rita@example.com"), None).await;
        let fresh = user(&db, "Fred", Some("fred@example.com"), None).await;
        let event = event(&db, &owner).await;
        let to_joined = invite(&db, event, &owner, &joined).await;
        let to_refused = invite(&db, event, &owner, &refused).await;

        for (invitation, answer, stale) in [
            (&to_joined, Answer::Accept, &joined),
            (&to_refused, Answer::Reject, &refused),
        ] {
            // Planned while the invitation was still pending... (the plan would say
            // already_invited; a plan read a moment earlier, before the first invitation
            // existed, says invite)
            let batch: Vec<Invitation> = [stale.id, fresh.id]
                .into_iter()
                .map(|invitee| {
                    Invitation::new_pending(event, owner.id, invitee, "contact".into(), now())
                })
                .collect();
            // ...answered before the batch is written.
            db.save_answer(&answered(invitation, answer), None)
                .await
                .unwrap();
            let result = db.create_batch(&batch).await;
            assert!(
                matches!(result, Err(PortError::Unavailable(_))),
                "{answer:?}: {result:?}"
            );
            // Nothing of the batch was stored, not even the fresh invitee's row.
            let stored = database.texts(&format!(
                    "SELECT CAST(id AS TEXT) AS value FROM invitations WHERE invitee_id IN ('{}', '{}') \
                     AND status = 'pending'",
                    stale.id, fresh.id
                ));
            assert_eq!(stored, Vec::<String>::new(), "{answer:?}");
        }
        assert_eq!(database.texts(PENDING_TO_MEMBERS), Vec::<String>::new());

        // A batch whose rows only meet pending invitations still reports them, and stores the
        // rest.
        let again = Invitation::new_pending(event, owner.id, fresh.id, "c".into(), now());
        db.create_batch(std::slice::from_ref(&again)).await.unwrap();
        let batch: Vec<Invitation> = [fresh.id]
            .into_iter()
            .map(|invitee| Invitation::new_pending(event, owner.id, invitee, "c".into(), now()))
            .collect();
        assert_eq!(
            db.create_batch(&batch).await.unwrap(),
            [BatchOutcome::AlreadyPending]
        );
    }

    async fn a_send_racing_an_accept_never_leaves_a_pending_invitation_to_a_member(
        backend: Backend,
    ) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
        let db = Arc::new(database.open());
        let owner = user(&db, "Olivia", Some("olivia@example.com"), None).await;
        let event = event(&db, &owner).await;
        let service = Arc::new(InvitationService::new(
            db.clone(),
            db.clone(),
            db.clone(),
            Arc::new(Clock0),
        ));
        let (mut sent, mut stale, mut ignored) = (0, 0, 0);
        for round in 0..20 {
            let email = format!("guest{round}@example.com");
            let guest = user(&db, "Guest", Some(&email), None).await;
            let first = invite(&db, event, &owner, &guest).await;
            let barrier = Arc::new(tokio::sync::Barrier::new(4));
            let accept = {
                let (db, barrier) = (db.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    db.save_answer(&answered(&first, Answer::Accept), None)
                        .await
                })
            };
            let sends: Vec<_> = (0..3)
                .map(|_| {
                    let (service, barrier, owner) =
                        (service.clone(), barrier.clone(), owner.clone());
                    let entries = InvitationEntries::parse(
                        std::slice::from_ref(&email),
                        PhoneRegion::default(),
                    )
                    .unwrap();
                    tokio::spawn(async move {
                        barrier.wait().await;
                        service
                            .send(
                                &owner,
                                SendInvitations {
                                    event_id: event,
                                    entries,
                                    message: None,
                                    expires_in: None,
                                },
                            )
                            .await
                    })
                })
                .collect();
            accept.await.unwrap().unwrap();
            for send in sends {
                match send.await.unwrap() {
                    Ok(report) if report.sent.is_empty() => ignored += 1,
                    Ok(_) => sent += 1,
                    Err(domain::invitations::SendInvitationsError::Port(
                        PortError::Unavailable(_),
                    )) => stale += 1,
                    Err(other) => panic!("round {round}: {other:?}"),
                }
            }
            assert_eq!(
                database.texts(PENDING_TO_MEMBERS),
                Vec::<String>::new(),
                "round {round}"
            );
        }
        eprintln!(
            "{backend:?}: 20 rounds of 1 accept vs 3 sends: {ignored} ignored, {sent} sent, \
                 {stale} refused as stale (503)"
        );
        assert_eq!(
            sent, 0,
            "a send stored an invitation to a member or a second one"
        );
    }
}

/// Two batches naming the same invitees in opposite orders do not deadlock.
mod batch_order {
    use std::sync::Arc;

    use domain::invitations::InvitationEntries;
    use domain::invitations::{InvitationService, SendInvitations};

    use super::*;

    struct Clock0;
    impl Clock for Clock0 {
        fn now(&self) -> DateTime<Utc> {
            now()
        }
    }

    per_backend!(thirty_reversed_pairs_of_concurrent_sends_never_fail);

    async fn thirty_reversed_pairs_of_concurrent_sends_never_fail(backend: Backend) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
        let db = Arc::new(database.open());
        let owner = user(&db, "Olivia", Some("olivia@example.com"), None).await;
        let mut contacts = Vec::new();
        for i in 0..60 {
            let email = format!("u{i}@example.com");
            user(&db, &format!("U{i}"), Some(&email), None).await;
            contacts.push(email);
        }
        let service = Arc::new(InvitationService::new(
            db.clone(),
            db.clone(),
            db.clone(),
            Arc::new(Clock0),
        ));
        let started = Instant::now();
        for pair in 0..30 {
            let event = event(&db, &owner).await;
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let sends: Vec<_> = [false, true]
                .into_iter()
                .map(|reversed| {
                    let mut order = contacts.clone();
                    if reversed {
                        order.reverse();
                    }
                    let entries = InvitationEntries::parse(&order, PhoneRegion::default()).unwrap();
                    let (service, barrier, owner) =
                        (service.clone(), barrier.clone(), owner.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        service
                            .send(
                                &owner,
                                SendInvitations {
                                    event_id: event,
                                    entries,
                                    message: None,
                                    expires_in: None,
                                },
                            )
                            .await
                    })
                })
                .collect();
            let mut sent = 0;
            for send in sends {
                let report = send
                    .await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("pair {pair}: {e:?}"));
                sent += report.sent.len();
                assert_eq!(report.sent.len() + report.ignored.len(), 60);
            }
            assert_eq!(sent, 60, "pair {pair}");
            let per_invitee = database.texts(&format!(
                "SELECT CAST(COUNT(*) AS TEXT) AS value FROM invitations \
                     WHERE event_id = '{event}' AND status = 'pending' GROUP BY invitee_id"
            ));
            assert_eq!(per_invitee, vec!["1".to_owned(); 60], "pair {pair}");
        }
        eprintln!(
            "{backend:?}: 30 reversed pairs of 60-contact sends in {:.2?}, no error",
            started.elapsed()
        );
    }
}

/// Expired and long-revoked tokens are purged.
mod token_purge {
    use super::*;

    /// Purges batch after batch until one comes back short, as the app's background task does.
    async fn purge_all(db: &Database, batch: i64) -> (u64, usize) {
        let (mut purged, mut calls) = (0, 0);
        loop {
            let deleted = db
                .purge_tokens(now(), now() - Duration::days(1), batch)
                .await
                .unwrap();
            assert!(deleted <= batch as u64);
            purged += deleted;
            calls += 1;
            if (deleted as i64) < batch {
                return (purged, calls);
            }
        }
    }

    fn token(user: &User, byte: u8, expires_at: DateTime<Utc>) -> NewToken {
        NewToken {
            hash: TokenHash(vec![byte; 32]),
            user_id: user.id,
            created_at: now() - Duration::days(60),
            expires_at,
        }
    }

    per_backend!(expired_and_long_revoked_tokens_are_purged_in_batches_idempotently);

    async fn expired_and_long_revoked_tokens_are_purged_in_batches_idempotently(backend: Backend) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
        let db = database.open();
        let ann = user(&db, "Ann", Some("ann@example.com"), None).await;
        // 0..5 expired, 10 live, 11 revoked long ago, 12 revoked a moment ago.
        for byte in 0..5 {
            db.store(token(&ann, byte, now() - Duration::days(1)))
                .await
                .unwrap();
        }
        for byte in 10..13 {
            db.store(token(&ann, byte, now() + Duration::days(30)))
                .await
                .unwrap();
        }
        db.revoke(&TokenHash(vec![11; 32]), now() - Duration::days(3))
            .await
            .unwrap();
        db.revoke(&TokenHash(vec![12; 32]), now() - Duration::minutes(5))
            .await
            .unwrap();

        // Batches of 2: 6 stale rows take 3 full batches and an empty one.
        assert_eq!(purge_all(&db, 2).await, (6, 4));
        let left = database.texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM access_tokens");
        assert_eq!(left, ["2"]);
        assert!(db
            .find_user(&TokenHash(vec![10; 32]), now())
            .await
            .unwrap()
            .is_some());
        assert_eq!(purge_all(&db, 2).await, (0, 1));

        // Several processes purging at once: each row is deleted once, none fails.
        for byte in 20..60 {
            db.store(token(&ann, byte, now() - Duration::days(1)))
                .await
                .unwrap();
        }
        let other = match backend {
            Backend::Postgres => database.open(),
            Backend::Sqlite => db.clone(),
        };
        let ((a, _), (b, _)) = tokio::join!(purge_all(&db, 3), purge_all(&other, 3));
        assert_eq!(a + b, 40);
        let left = database.texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM access_tokens");
        assert_eq!(left, ["2"]);
    }
}
