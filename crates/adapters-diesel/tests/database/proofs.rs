//! Proofs of contacts under races, on SQLite and PostgreSQL, with two pools on one database as two
//! server processes: one contact is proven by one account, one code proves once, and an invitation
//! held by a batch planned before a proof is never left waiting for it; and the settling of the
//! contacts an upgrade counted proven (`LEGACY_CONTACTS`).

use std::sync::Arc;

use adapters_diesel::testing::{Session, TestDatabase};
use adapters_diesel::{Backend, Database};
use chrono::Duration;
use diesel::backend::Backend as DieselBackend;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use domain::accounts::codes::{CodeDigest, OneTimeCode};
use domain::accounts::ports::{
    CodePurpose, CodeRepository, NewCode, ProveContactError, UserRepository,
};
use domain::accounts::{Channel, User};
use domain::events::ports::{EventRepository, NewEvent};
use domain::events::EventDetails;
use domain::invitations::ports::{BatchOutcome, InvitationFilter, InvitationRepository};
use domain::invitations::{Invitation, InvitationTtl};
use domain::messages::OutgoingMessage;
use domain::{Contact, Email, EventId, InvitationStatus, PageRequest, Text, UserId};

use crate::support::{new_user, now, per_backend};

per_backend!(
    two_accounts_proving_one_contact_at_once_make_one_owner,
    two_confirmations_of_one_code_at_once_prove_once,
    a_proof_racing_a_batch_that_holds_for_its_contact_leaves_nothing_held,
    legacy_contacts_stay_proven_or_are_unproven_once
);

const ROUNDS: usize = 20;
const PROVE_EMAIL: CodePurpose = CodePurpose::Prove(Channel::Email);

/// Two pools on one fresh database.
fn two_pools(backend: Backend) -> Option<(TestDatabase, [Arc<Database>; 2])> {
    let database = TestDatabase::new(backend)?;
    let pools = [Arc::new(database.open()), Arc::new(database.open())];
    Some((database, pools))
}

async fn claimant(db: &Database, name: &str, email: &str, minutes: i64) -> User {
    UserRepository::create(
        db,
        domain::accounts::ports::NewUser {
            proven: false,
            created_at: now() + Duration::minutes(minutes),
            ..new_user(name, Some(email), None)
        },
    )
    .await
    .unwrap()
}

async fn send_code(db: &Database, user: &User, contact: &Contact, digits: &str) -> CodeDigest {
    let digest = CodeDigest(format!("{}:{digits}", user.id).into_bytes());
    let message = OutgoingMessage::code(
        contact.clone(),
        &OneTimeCode::parse(digits).unwrap(),
        PROVE_EMAIL,
        10,
        user.locale,
        now(),
    );
    db.store_code(
        NewCode {
            user_id: user.id,
            purpose: PROVE_EMAIL,
            contact: contact.clone(),
            digest: digest.clone(),
            created_at: now(),
            expires_at: now() + Duration::minutes(10),
        },
        message,
    )
    .await
    .unwrap();
    digest
}

fn prove(
    db: &Arc<Database>,
    user: UserId,
    contact: &Contact,
    digest: &CodeDigest,
) -> tokio::task::JoinHandle<Result<User, ProveContactError>> {
    let (db, contact, digest) = (db.clone(), contact.clone(), digest.clone());
    tokio::spawn(async move {
        db.prove_contact(user, PROVE_EMAIL, contact, digest, now())
            .await
    })
}

/// The accounts that have `email`, proven or claimed, and which of them proved it.
async fn holders(db: &Database, email: &str) -> (usize, Vec<UserId>) {
    let contact = Contact::Email(Email::parse(email).unwrap());
    let users = db
        .find_by_contacts(&[Email::parse(email).unwrap()], &[])
        .await
        .unwrap();
    let owners = users
        .iter()
        .filter(|u| u.owns(&contact))
        .map(|u| u.id)
        .collect();
    (users.len(), owners)
}

async fn two_accounts_proving_one_contact_at_once_make_one_owner(backend: Backend) {
    let Some((_database, pools)) = two_pools(backend) else {
        return;
    };
    for round in 0..ROUNDS {
        let address = format!("x{round}@example.com");
        let contact = Contact::Email(Email::parse(&address).unwrap());
        let ann = claimant(&pools[0], "Ann", &address, 0).await;
        let bob = claimant(&pools[1], "Bob", &address, 1).await;
        let anns = send_code(&pools[0], &ann, &contact, "111111").await;
        let bobs = send_code(&pools[1], &bob, &contact, "222222").await;

        let (a, b) = (
            prove(&pools[0], ann.id, &contact, &anns),
            prove(&pools[1], bob.id, &contact, &bobs),
        );
        let outcomes = [a.await.unwrap(), b.await.unwrap()];
        let won: Vec<UserId> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().map(|u| u.id))
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {outcomes:?}");
        for outcome in &outcomes {
            if let Err(error) = outcome {
                assert!(
                    matches!(
                        error,
                        ProveContactError::Taken | ProveContactError::CodeGone
                    ),
                    "round {round}: {error:?}"
                );
            }
        }
        // The loser lost its claim too: the winner alone has the contact, proven.
        assert_eq!(
            holders(&pools[0], &address).await,
            (1, won),
            "round {round}"
        );
    }
}

async fn two_confirmations_of_one_code_at_once_prove_once(backend: Backend) {
    let Some((_database, pools)) = two_pools(backend) else {
        return;
    };
    for round in 0..ROUNDS {
        let address = format!("x{round}@example.com");
        let contact = Contact::Email(Email::parse(&address).unwrap());
        let ann = claimant(&pools[0], "Ann", &address, 0).await;
        let digest = send_code(&pools[0], &ann, &contact, "111111").await;

        let (a, b) = (
            prove(&pools[0], ann.id, &contact, &digest),
            prove(&pools[1], ann.id, &contact, &digest),
        );
        let outcomes = [a.await.unwrap(), b.await.unwrap()];
        let proofs = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(proofs, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(ProveContactError::CodeGone))),
            "round {round}: {outcomes:?}"
        );
        assert_eq!(
            holders(&pools[1], &address).await,
            (1, vec![ann.id]),
            "round {round}"
        );
    }
}

async fn a_proof_racing_a_batch_that_holds_for_its_contact_leaves_nothing_held(backend: Backend) {
    let Some((_database, pools)) = two_pools(backend) else {
        return;
    };
    let olivia = UserRepository::create(
        &*pools[0],
        new_user("Olivia", Some("olivia@example.com"), None),
    )
    .await
    .unwrap();
    for round in 0..ROUNDS {
        let details =
            EventDetails::new(Text::from_stored("Party".into()), None, None, None, None).unwrap();
        let event = EventRepository::create(
            &*pools[0],
            NewEvent {
                id: EventId::generate(),
                details,
                owner: olivia.summary(),
                created_at: now(),
            },
        )
        .await
        .unwrap();
        let address = format!("ceo{round}@example.com");
        let contact = Contact::Email(Email::parse(&address).unwrap());
        let impostor = claimant(&pools[0], "Impostor", &address, 0).await;
        let ceo = claimant(&pools[1], "Ceo", &address, 1).await;
        let digest = send_code(&pools[1], &ceo, &contact, "123456").await;
        // Planned while the contact is unproven: held for the oldest claimant.
        let planned =
            Invitation::new_pending(event.id, olivia.id, impostor.id, address.clone(), now())
                .expiring(InvitationTtl::DEFAULT, &domain::rsvp::RsvpRules::default())
                .held_for(Some(address.clone()));

        let proof = prove(&pools[1], ceo.id, &contact, &digest);
        let batch = {
            let (db, planned) = (pools[0].clone(), planned.clone());
            tokio::spawn(async move { db.create_batch(std::slice::from_ref(&planned)).await })
        };
        proof.await.unwrap().unwrap();
        assert_eq!(batch.await.unwrap().unwrap(), [BatchOutcome::Created]);

        // Whichever went first, the invitation is the prover's, no longer held, as it was sent.
        let stored = pools[0].find(planned.id()).await.unwrap().unwrap();
        assert_eq!(stored.invitation.held_contact(), None, "round {round}");
        assert_eq!(stored.invitation.invitee_id(), ceo.id, "round {round}");
        assert_eq!(stored.invitation.status(), InvitationStatus::Pending);
        assert_eq!(stored.invitation.expires_at(), planned.expires_at());
        let pending: Vec<_> = pools[1]
            .list_received(
                ceo.id,
                InvitationFilter::default(),
                PageRequest::default(),
                now(),
            )
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|d| d.invitation.event_id() == event.id)
            .map(|d| d.invitation.id())
            .collect();
        assert_eq!(pending, [planned.id()], "round {round}: one pending, shown");
    }
}

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
/// The migration that proved the contacts already stored, as diesel names it.
const PROVEN_CONTACTS: &str = "20261207000001";
const ANN: &str = "01a00000-0000-7000-8000-000000000001";

/// A database at the migration before the proofs, with Ann (email and mobile) in it, then
/// migrated; and a user made after the upgrade with a proven email.
async fn upgraded(backend: Backend) -> Option<(TestDatabase, Database, User)> {
    let database = TestDatabase::unmigrated(backend)?;
    let mut session = database.session();
    match &mut session {
        Session::Pg(conn) => run_before(conn, PG_MIGRATIONS, PROVEN_CONTACTS),
        Session::Sqlite(conn) => run_before(conn, SQLITE_MIGRATIONS, PROVEN_CONTACTS),
    }
    let zone = match backend {
        Backend::Postgres => "+00",
        Backend::Sqlite => "",
    };
    session.execute(&format!(
        "INSERT INTO users (id, name, email, mobile, password_hash, created_at) VALUES
             ('{ANN}', 'Ann', 'ann@example.com', '+989120000001', 'x', '2026-11-20 10:00:00{zone}')"
    ));
    drop(session);
    let db = database.open();
    let later = UserRepository::create(
        &db,
        domain::accounts::ports::NewUser {
            created_at: now() + Duration::days(400),
            ..new_user("Later", Some("later@example.com"), None)
        },
    )
    .await
    .unwrap();
    Some((database, db, later))
}

/// Runs every embedded migration that comes before `version`, as diesel would have.
fn run_before<DB: DieselBackend>(
    conn: &mut impl MigrationHarness<DB>,
    migrations: EmbeddedMigrations,
    version: &str,
) where
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    let pending = conn.pending_migrations(migrations).unwrap();
    for migration in pending {
        if migration.name().version().to_string() == version {
            return;
        }
        conn.run_migration(&*migration).unwrap();
    }
    panic!("no migration {version}");
}

fn legacy_rows(database: &TestDatabase) -> usize {
    database.texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM legacy_contacts")[0]
        .parse()
        .unwrap()
}

async fn legacy_contacts_stay_proven_or_are_unproven_once(backend: Backend) {
    let ann_id = UserId::from_uuid(uuid::Uuid::parse_str(ANN).unwrap());

    // Kept proven (LEGACY_CONTACTS=proven).
    let Some((database, db, later)) = upgraded(backend).await else {
        return;
    };
    let ann = db.find_by_id(ann_id).await.unwrap().unwrap();
    let upgraded_at = ann.email_verified_at.expect("proven by the upgrade");
    assert_eq!(ann.mobile_verified_at, Some(upgraded_at));
    assert_eq!(legacy_rows(&database), 1);
    assert_eq!(db.settle_legacy_contacts(false).await.unwrap(), 0);
    assert_eq!(legacy_rows(&database), 0);
    assert_eq!(db.find_by_id(ann_id).await.unwrap().unwrap(), ann);
    // Settled once: a later start, whatever its choice, changes nothing.
    assert_eq!(db.settle_legacy_contacts(true).await.unwrap(), 0);
    assert_eq!(db.find_by_id(ann_id).await.unwrap().unwrap(), ann);
    assert_eq!(db.find_by_id(later.id).await.unwrap().unwrap(), later);
    drop((db, database));

    // Taken back (LEGACY_CONTACTS=unproven): the upgrade's proofs only.
    let Some((database, db, later)) = upgraded(backend).await else {
        return;
    };
    let before = db.find_by_id(ann_id).await.unwrap().unwrap();
    assert_eq!(db.settle_legacy_contacts(true).await.unwrap(), 1);
    assert_eq!(legacy_rows(&database), 0);
    let ann = db.find_by_id(ann_id).await.unwrap().unwrap();
    assert_eq!(
        (ann.email_verified_at, ann.mobile_verified_at),
        (None, None)
    );
    assert_eq!((&ann.email, &ann.mobile), (&before.email, &before.mobile));
    assert_eq!(db.find_by_id(later.id).await.unwrap().unwrap(), later);
    assert_eq!(db.settle_legacy_contacts(true).await.unwrap(), 0);
    assert_eq!(db.find_by_id(ann_id).await.unwrap().unwrap(), ann);

    // A fresh database has nothing to settle.
    let Some(fresh) = TestDatabase::new(backend) else {
        return;
    };
    let db = fresh.open();
    assert_eq!(legacy_rows(&fresh), 0);
    assert_eq!(db.settle_legacy_contacts(true).await.unwrap(), 0);
}
