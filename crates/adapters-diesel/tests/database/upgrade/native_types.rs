//! Native types on PostgreSQL (docs/operations.md, "Upgrading to native types"): a database at the
//! migration before, with rows in every table, is converted to uuid and timestamptz; every row
//! reads back equal through the ports, every constraint, index and trigger is the same, and
//! down.sql converts it back.

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::{Backend, Database};
use domain::accounts::ports::{TokenHash, TokenRepository, UserRepository};
use domain::changes::ports::{ChangeFeed, TicketRepository};
use domain::changes::{ChangeId, ChangeSubject};
use domain::events::ports::EventRepository;
use domain::events::Role;
use domain::idempotency::ports::IdempotencyStore;
use domain::idempotency::{ClaimId, IdempotencyKey, KeyState};
use domain::invitations::ports::{InvitationFilter, InvitationRepository};
use domain::{
    Email, EventId, InvitationId, InvitationStatus, Limit, Login, Mobile, PageRequest, PhoneRegion,
    Text, UserId,
};
use sha2::{Digest, Sha256};

use crate::support::migration;

use super::{utc, uuid};

/// Every PostgreSQL migration before `2026-12-05-000002_native_types`, as diesel names them.
const BEFORE_NATIVE_TYPES: [(&str, &str); 9] = [
    (
        "20261126000001",
        migration!("postgres/2026-11-26-000001_init/up.sql"),
    ),
    (
        "20261127000001",
        migration!("postgres/2026-11-27-000001_token_purge_indexes/up.sql"),
    ),
    (
        "20261128000001",
        migration!("postgres/2026-11-28-000001_service_secrets/up.sql"),
    ),
    (
        "20261128000002",
        migration!("postgres/2026-11-28-000002_abuse_counters/up.sql"),
    ),
    (
        "20261129000001",
        migration!("postgres/2026-11-29-000001_invitation_lifecycle/up.sql"),
    ),
    (
        "20261129000002",
        migration!("postgres/2026-11-29-000002_roles/up.sql"),
    ),
    (
        "20261129000003",
        migration!("postgres/2026-11-29-000003_idempotency_keys/up.sql"),
    ),
    (
        "20261202000001",
        migration!("postgres/2026-12-02-000001_change_feed/up.sql"),
    ),
    (
        "20261205000001",
        migration!("postgres/2026-12-05-000001_change_sequencer/up.sql"),
    ),
];

const NATIVE_TYPES_DOWN: &str = migration!("postgres/2026-12-05-000002_native_types/down.sql");

/// Undoes the migration after the native types (its tables refer to `users (id)`), so that the
/// native types' down.sql runs as it would at that version.
const WEBHOOKS_DOWN: &str = migration!("postgres/2026-12-05-000003_webhooks/down.sql");

/// Gives the change feed's tables back the names they had at the native types, so that the schema
/// compared is the one that migration made.
const CHANGE_TABLES_DOWN: &str = migration!("postgres/2026-12-06-000001_change_tables/down.sql");

/// Takes the proven contacts out again (their tables refer to `users (id)` and they change
/// `users`), so that the schema compared is the one the native types made.
const PROVEN_CONTACTS_DOWN: &str =
    migration!("postgres/2026-12-07-000001_proven_contacts/down.sql");

/// Takes a later migration out again (due deliveries indexed by kind).
const DELIVERIES_DUE_BY_KIND_DOWN: &str =
    migration!("postgres/2026-12-16-000001_deliveries_due_by_kind/down.sql");

/// Takes a later migration out again (the memberships' index with their roles).
const MEMBERSHIPS_WITH_ROLES_DOWN: &str =
    migration!("postgres/2026-12-15-000001_memberships_with_roles/down.sql");

/// Takes a later migration out again (webhook verification).
const WEBHOOK_VERIFICATION_DOWN: &str =
    migration!("postgres/2026-12-14-000004_webhook_verification/down.sql");

/// Takes a later migration out again (circuit breakers).
const CIRCUIT_BREAKERS_DOWN: &str =
    migration!("postgres/2026-12-14-000003_circuit_breakers/down.sql");

/// Takes a later migration out again (change payloads).
const CHANGE_PAYLOADS_DOWN: &str =
    migration!("postgres/2026-12-14-000002_change_payloads/down.sql");

/// Takes a later migration out again (opt outs).
const OPT_OUTS_DOWN: &str = migration!("postgres/2026-12-14-000001_opt_outs/down.sql");

/// Takes reminders out again (their tables refer to `events (id)` and `users (id)`; events lose
/// their rules).
const REMINDERS_DOWN: &str = migration!("postgres/2026-12-13-000001_reminders/down.sql");

/// Takes the deleted events' marks out again (they refer to `events (id)` and `users (id)`).
const DELETED_EVENTS_DOWN: &str = migration!("postgres/2026-12-12-000001_deleted_events/down.sql");

/// Takes calendars out again (the feeds refer to `users (id)`; events lose their time zone).
const CALENDARS_DOWN: &str = migration!("postgres/2026-12-11-000001_calendars/down.sql");

/// Takes the one-click links out again (their table refers to `invitations (id)`).
const INVITATION_LINKS_DOWN: &str =
    migration!("postgres/2026-12-10-000001_invitation_links/down.sql");

/// Takes the frozen invitation titles out again (their table refers to `invitations (id)`).
const INVITATION_TITLES_DOWN: &str =
    migration!("postgres/2026-12-09-000001_invitation_titles/down.sql");

/// Takes RSVP out again (it changes events, members, invitations and the change tables), so that
/// the schema compared is the one the native types made.
const RSVP_DOWN: &str = migration!("postgres/2026-12-08-000001_rsvp/down.sql");

/// Takes the row versions out again, so that the columns compared are the ones native types made.
const ROW_VERSIONS_DOWN: &str = migration!("postgres/2026-12-06-000002_row_versions/down.sql");

// Ids of the rows below (hex: they are UUIDs, as the service writes them).
const ANN: &str = "01a00000-0000-7000-8000-000000000001";
const BOB: &str = "01a00000-0000-7000-8000-000000000002";
const CY: &str = "01a00000-0000-7000-8000-000000000003";
const PARTY: &str = "01a00000-0000-7000-8000-0000000000e1";
const GONE: &str = "01a00000-0000-7000-8000-0000000000e2";
const ALSO_GONE: &str = "01a00000-0000-7000-8000-0000000000e3";
const OWNER_ROW: &str = "01a00000-0000-7000-8000-0000000000b1";
const MEMBER_ROW: &str = "01a00000-0000-7000-8000-0000000000b2";
const COHOST_ROW: &str = "01a00000-0000-7000-8000-0000000000b3";
const ACCEPTED: &str = "01a00000-0000-7000-8000-0000000000a1";
const CANCELLED: &str = "01a00000-0000-7000-8000-0000000000a2";
const PENDING: &str = "01a00000-0000-7000-8000-0000000000a3";
const COMPLETED_CLAIM: &str = "01a00000-0000-7000-8000-0000000000c1";
const RUNNING_CLAIM: &str = "01a00000-0000-7000-8000-0000000000c2";

/// A row in every table, as the service wrote them before native types: ids as text, UTC times
/// without a zone (some with microseconds), one change numbered and one still staged.
fn rows_in_every_table() -> String {
    format!(
        r#"
    INSERT INTO users (id, name, email, mobile, password_hash, created_at) VALUES
        ('{ANN}', 'Ann', 'ann@example.com', NULL, 'hash-ann', '2026-11-20 10:00:00.123456'),
        ('{BOB}', 'Bob', NULL, '+33612345678', 'hash-bob', '2026-11-20 10:00:01'),
        ('{CY}', 'Cy', 'cy@example.com', NULL, 'hash-cy', '2026-11-20 10:00:02');
    INSERT INTO access_tokens (token_hash, user_id, created_at, expires_at, revoked_at) VALUES
        (sha256('upgrade-token'), '{ANN}', '2026-11-20 10:00:00', '2099-01-01 00:00:00', NULL),
        (sha256('revoked-token'), '{BOB}', '2026-11-20 10:00:00', '2099-01-01 00:00:00', '2026-11-21 00:00:00');
    INSERT INTO events (id, owner_id, title, description, location, starts_at, ends_at, members_count, created_at) VALUES
        ('{PARTY}', '{ANN}', 'Party', 'Bring food', 'Lyon', '2026-12-24 18:00:00', '2026-12-24 23:30:00.5', 3, '2026-11-20 10:30:00');
    INSERT INTO event_members (id, event_id, user_id, role, joined_at) VALUES
        ('{OWNER_ROW}', '{PARTY}', '{ANN}', 'owner', '2026-11-20 10:30:00'),
        ('{MEMBER_ROW}', '{PARTY}', '{BOB}', 'member', '2026-11-21 10:00:00'),
        ('{COHOST_ROW}', '{PARTY}', '{CY}', 'cohost', '2026-11-22 10:00:00');
    INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status, created_at,
                             answered_at, message, expires_at, cancelled_at, last_resent_at) VALUES
        ('{ACCEPTED}', '{PARTY}', '{ANN}', '{BOB}', '+33612345678', 'accepted', '2026-11-20 11:00:00',
         '2026-11-21 10:00:00', NULL, NULL, NULL, NULL),
        ('{CANCELLED}', '{PARTY}', '{ANN}', '{CY}', 'cy@example.com', 'cancelled', '2026-11-20 11:00:01',
         NULL, NULL, '2099-01-01 00:00:00', '2026-11-20 12:00:00', NULL),
        ('{PENDING}', '{PARTY}', '{ANN}', '{CY}', 'cy@example.com', 'pending', '2026-11-20 12:30:00',
         NULL, 'Come!', '2099-01-01 00:00:00', NULL, '2026-11-22 09:00:00.000001');
    INSERT INTO service_secrets (name, value, created_at) VALUES
        ('cursor', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=', '2026-11-20 10:00:00');
    INSERT INTO idempotency_keys (user_id, key, fingerprint, claim, state, response_status,
                                  response_headers, response_body, created_at, expires_at, locked_until) VALUES
        ('{ANN}', 'k-1', sha256('request'), '{COMPLETED_CLAIM}', 'completed', 201,
         'content-type: application/json' || chr(10), convert_to('{{}}', 'UTF8'), '2026-11-20 12:00:00',
         '2099-01-01 00:00:00', NULL),
        ('{ANN}', 'k-2', sha256('request'), '{RUNNING_CLAIM}', 'in_flight', NULL, NULL, NULL,
         '2026-11-20 12:00:00', '2099-01-01 00:00:00', '2099-01-01 00:00:00');
    UPDATE domain_event_sequence SET last_id = 1;
    INSERT INTO domain_events (id, kind, occurred_at, subject) VALUES
        (1, 'event.deleted', '2026-11-23 08:00:00',
         '{{"subject":"deleted_event","event_id":"{GONE}","event_title":"Gone"}}');
    INSERT INTO domain_event_recipients (user_id, event_id) VALUES ('{ANN}', 1), ('{BOB}', 1);
    INSERT INTO domain_events_staged (kind, occurred_at, subject, recipients) VALUES
        ('event.deleted', '2026-11-24 08:00:00',
         '{{"subject":"deleted_event","event_id":"{ALSO_GONE}","event_title":"Also gone"}}', '{ANN} {CY}');
    INSERT INTO stream_tickets (ticket_hash, user_id, expires_at) VALUES
        (sha256('upgrade-ticket'), '{BOB}', '2099-01-01 00:00:00');
    INSERT INTO abuse_events (key) VALUES ('login:account:ann@example.com');
"#
    )
}

/// Tables that migrations after the native types add (with native types from the start): not
/// part of the upgrade these tests compare.
const LATER_TABLES: [&str; 4] = [
    "webhooks",
    "delivery_dispatch",
    "deliveries",
    "delivery_attempts",
];

/// Columns, constraints, indexes and triggers of the public schema, one line each.
fn schema(database: &TestDatabase) -> (Vec<String>, Vec<String>) {
    let later = LATER_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let columns = database.texts(&format!(
        "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' ||
                COALESCE(collation_name, '-') || ' ' || is_nullable AS value
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_%'
           AND table_name NOT IN ({later})
         ORDER BY table_name, column_name"
    ));
    let mut definitions = database.texts(
        "SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS value
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
         UNION ALL SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
         UNION ALL SELECT pg_get_functiondef('event_members_keep_owner'::regproc)",
    );
    definitions.retain(|definition| {
        !LATER_TABLES.iter().any(|table| {
            definition.starts_with(&format!("{table} "))
                || definition.contains(&format!(" ON public.{table} "))
        })
    });
    definitions.sort();
    (columns, definitions)
}

/// The rows above, read through the ports after the migration, equal what was written.
async fn rows_read_back_equal(db: &Database) {
    let now = utc("2026-12-05 12:00:00");
    let ann_email = Email::parse("ann@example.com").unwrap();
    let (ann, hash) = db
        .find_credentials(&Login::Email(ann_email.clone()))
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("Ann");
    assert_eq!(
        (ann.id, ann.name.as_str(), ann.email, ann.mobile),
        (UserId::from_uuid(uuid(ANN)), "Ann", Some(ann_email), None)
    );
    assert_eq!(ann.created_at, utc("2026-11-20 10:00:00.123456"));
    assert_eq!(hash.unwrap().0, "hash-ann");
    let bob_mobile = Mobile::parse("+33612345678", PhoneRegion::default()).unwrap();
    let (bob, _) = db
        .find_credentials(&Login::Mobile(bob_mobile))
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("Bob");
    assert_eq!(bob.id, UserId::from_uuid(uuid(BOB)));

    let token = |text: &str| TokenHash(Sha256::digest(text.as_bytes()).to_vec());
    let user = db.find_user(&token("upgrade-token"), now).await.unwrap();
    assert_eq!(user.map(|u| u.id), Some(ann.id));
    assert!(db
        .find_user(&token("revoked-token"), now)
        .await
        .unwrap()
        .is_none());

    let event = db
        .find_for_member(EventId::from_uuid(uuid(PARTY)), bob.id)
        .await
        .unwrap()
        .expect("the party, seen by a member");
    assert_eq!(event.details.title().as_str(), "Party");
    assert_eq!(
        event.details.description().map(Text::as_str),
        Some("Bring food")
    );
    assert_eq!(event.details.starts_at(), Some(utc("2026-12-24 18:00:00")));
    assert_eq!(event.details.ends_at(), Some(utc("2026-12-24 23:30:00.5")));
    assert_eq!((event.members_count, event.owner.id), (3, ann.id));
    assert_eq!(event.created_at, utc("2026-11-20 10:30:00"));
    let members = db
        .list_members(event.id, PageRequest::default())
        .await
        .unwrap();
    let members: Vec<_> = members
        .items
        .iter()
        .map(|m| (m.id.as_uuid(), m.user.name.as_str(), m.role, m.joined_at))
        .collect();
    assert_eq!(
        members,
        vec![
            (
                uuid(COHOST_ROW),
                "Cy",
                Role::Cohost,
                utc("2026-11-22 10:00:00")
            ),
            (
                uuid(MEMBER_ROW),
                "Bob",
                Role::Member,
                utc("2026-11-21 10:00:00")
            ),
            (
                uuid(OWNER_ROW),
                "Ann",
                Role::Owner,
                utc("2026-11-20 10:30:00")
            ),
        ]
    );

    let find = |id: &str| {
        let id = InvitationId::from_uuid(uuid(id));
        async move {
            InvitationRepository::find(db, id)
                .await
                .unwrap()
                .expect("invitation")
                .invitation
        }
    };
    let accepted = find(ACCEPTED).await;
    assert_eq!(
        (
            accepted.status(),
            accepted.answered_at(),
            accepted.invitee_id()
        ),
        (
            InvitationStatus::Accepted,
            Some(utc("2026-11-21 10:00:00")),
            bob.id
        )
    );
    let cancelled = find(CANCELLED).await;
    assert_eq!(
        (cancelled.status(), cancelled.cancelled_at()),
        (
            InvitationStatus::Cancelled,
            Some(utc("2026-11-20 12:00:00"))
        )
    );
    let pending = find(PENDING).await;
    assert_eq!(pending.status(), InvitationStatus::Pending);
    assert_eq!(pending.message().map(Text::as_str), Some("Come!"));
    assert_eq!(pending.created_at(), utc("2026-11-20 12:30:00"));
    assert_eq!(pending.expires_at(), Some(utc("2099-01-01 00:00:00")));
    assert_eq!(
        pending.last_resent_at(),
        Some(utc("2026-11-22 09:00:00.000001"))
    );
    // Keyset pagination still walks ids newest first: uuid order is the text's order.
    let cy = UserId::from_uuid(uuid(CY));
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .list_received(
                cy,
                InvitationFilter::default(),
                PageRequest {
                    limit: Limit::new(1).unwrap(),
                    after,
                },
                now,
            )
            .await
            .unwrap();
        pages.extend(page.items.iter().map(|d| d.invitation.id().as_uuid()));
        after = page.next_after;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(pages, vec![uuid(PENDING), uuid(CANCELLED)]);

    let completed = IdempotencyStore::find(db, ann.id, &IdempotencyKey::parse(b"k-1").unwrap())
        .await
        .unwrap()
        .expect("completed key");
    assert_eq!(completed.claim, ClaimId::from_uuid(uuid(COMPLETED_CLAIM)));
    assert_eq!(
        (completed.created_at, completed.expires_at),
        (utc("2026-11-20 12:00:00"), utc("2099-01-01 00:00:00"))
    );
    match completed.state {
        KeyState::Completed(response) => assert_eq!(
            (response.status, response.headers, response.body),
            (
                201,
                vec![("content-type".to_owned(), "application/json".to_owned())],
                b"{}".to_vec()
            )
        ),
        other => panic!("{other:?}"),
    }
    let running = IdempotencyStore::find(db, ann.id, &IdempotencyKey::parse(b"k-2").unwrap())
        .await
        .unwrap()
        .expect("running key");
    assert_eq!(running.claim, ClaimId::from_uuid(uuid(RUNNING_CLAIM)));
    assert!(
        matches!(running.state, KeyState::InFlight { locked_until } if locked_until == utc("2099-01-01 00:00:00")),
        "{:?}",
        running.state
    );

    // The numbered change reads back; the staged one is numbered by this first read (its
    // recipients, a text list, become uuid rows).
    let feed = |user: &str| {
        let user = UserId::from_uuid(uuid(user));
        async move {
            db.list_for(user, ChangeId(0), 10)
                .await
                .unwrap()
                .changes
                .into_iter()
                .map(|c| {
                    let ChangeSubject::DeletedEvent(event) = c.change.subject() else {
                        panic!("{:?}", c.change.subject());
                    };
                    (c.id.0, event.id.as_uuid(), c.change.occurred_at())
                })
                .collect::<Vec<_>>()
        }
    };
    let gone = (1, uuid(GONE), utc("2026-11-23 08:00:00"));
    let also_gone = (2, uuid(ALSO_GONE), utc("2026-11-24 08:00:00"));
    assert_eq!(feed(ANN).await, vec![gone, also_gone]);
    assert_eq!(feed(BOB).await, vec![gone]);
    assert_eq!(feed(CY).await, vec![also_gone]);

    let ticket = TokenHash(Sha256::digest(b"upgrade-ticket").to_vec());
    let redeemed = db.redeem_ticket(&ticket, now).await.unwrap();
    assert_eq!(redeemed.map(|u| u.id), Some(bob.id));
    assert!(db.redeem_ticket(&ticket, now).await.unwrap().is_none());

    let secret = db.shared_secret("cursor").await.unwrap();
    assert_eq!(secret, std::array::from_fn::<u8, 32, _>(|i| i as u8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn native_types_upgrade_every_table_in_place_and_rows_read_back_equal() {
    let Some(database) = TestDatabase::unmigrated(Backend::Postgres) else {
        return;
    };
    let mut session = database.session();
    session.execute(
        "CREATE TABLE __diesel_schema_migrations (
            version VARCHAR(50) PRIMARY KEY NOT NULL,
            run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    );
    for (version, sql) in BEFORE_NATIVE_TYPES {
        session.execute(sql);
        session.execute(&format!(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')"
        ));
    }
    session.execute(&rows_in_every_table());
    drop(session);
    let (columns_before, definitions_before) = schema(&database);
    let rows_before = database.texts(
        "SELECT id || ' ' || CAST(created_at AS TEXT) AS value FROM users
         UNION ALL SELECT id || ' ' || CAST(created_at AS TEXT) || ' ' ||
                          COALESCE(CAST(last_resent_at AS TEXT), '-') FROM invitations
         UNION ALL SELECT user_id || ' ' || claim || ' ' || CAST(expires_at AS TEXT) FROM idempotency_keys
         ORDER BY 1",
    );
    assert!(
        columns_before.iter().any(|c| c == "users.id text C NO"),
        "{columns_before:?}"
    );

    // Opening the database runs the native types migration.
    let db = database.open();
    rows_read_back_equal(&db).await;
    drop(db);
    database.session().execute(DELIVERIES_DUE_BY_KIND_DOWN);
    database.session().execute(MEMBERSHIPS_WITH_ROLES_DOWN);
    database.session().execute(WEBHOOK_VERIFICATION_DOWN);
    database.session().execute(CIRCUIT_BREAKERS_DOWN);
    database.session().execute(CHANGE_PAYLOADS_DOWN);
    database.session().execute(OPT_OUTS_DOWN);
    database.session().execute(REMINDERS_DOWN);
    database.session().execute(DELETED_EVENTS_DOWN);
    database.session().execute(CALENDARS_DOWN);
    database.session().execute(INVITATION_LINKS_DOWN);
    database.session().execute(INVITATION_TITLES_DOWN);
    database.session().execute(RSVP_DOWN);
    database.session().execute(PROVEN_CONTACTS_DOWN);
    database.session().execute(ROW_VERSIONS_DOWN);
    database.session().execute(CHANGE_TABLES_DOWN);

    // What a PostgreSQL engineer reads in the schema: uuid ids, timestamptz times, nothing else
    // changed (nullability, the other columns' types and collations).
    let (columns, definitions) = schema(&database);
    let uuid_columns: Vec<&str> = columns
        .iter()
        .filter(|c| c.contains(" uuid "))
        .map(|c| c.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        uuid_columns,
        [
            "access_tokens.user_id",
            "domain_event_recipients.user_id",
            "event_members.event_id",
            "event_members.id",
            "event_members.user_id",
            "events.id",
            "events.owner_id",
            "idempotency_keys.claim",
            "idempotency_keys.user_id",
            "invitations.event_id",
            "invitations.id",
            "invitations.invitee_id",
            "invitations.sender_id",
            "stream_tickets.user_id",
            "users.id",
        ]
    );
    let time_columns: Vec<&str> = columns
        .iter()
        .filter(|c| c.contains(" timestamp with time zone "))
        .map(|c| c.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        time_columns,
        [
            "abuse_events.at",
            "access_tokens.created_at",
            "access_tokens.expires_at",
            "access_tokens.revoked_at",
            "domain_events.occurred_at",
            "domain_events_staged.occurred_at",
            "event_members.joined_at",
            "events.created_at",
            "events.ends_at",
            "events.starts_at",
            "idempotency_keys.created_at",
            "idempotency_keys.expires_at",
            "idempotency_keys.locked_until",
            "invitations.answered_at",
            "invitations.cancelled_at",
            "invitations.created_at",
            "invitations.expires_at",
            "invitations.last_resent_at",
            "service_secrets.created_at",
            "stream_tickets.expires_at",
            "users.created_at",
        ]
    );
    // Nothing else changed: the columns are those before, with these types replaced (nullability,
    // the other columns' types and collations kept).
    let expected: Vec<String> = columns_before
        .iter()
        .map(|c| {
            let name = c.split(' ').next().unwrap();
            if uuid_columns.contains(&name) {
                c.replace(" text C ", " uuid - ")
            } else {
                c.replace(
                    " timestamp without time zone ",
                    " timestamp with time zone ",
                )
            }
        })
        .collect();
    assert_eq!(columns, expected);
    // Every constraint (foreign keys with their ON DELETE, checks, unique and primary keys),
    // index (partial ones too) and trigger is there under its name, defined as before.
    assert_eq!(definitions, definitions_before);

    // ... and still holds.
    let mut session = database.session();
    for refused in [
        // R7: one pending invitation per (event, invitee).
        format!(
            "INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status, created_at)
             VALUES ('01a00000-0000-7000-8000-0000000000a4', '{PARTY}', '{ANN}', '{CY}', 'cy', 'pending', now())"
        ),
        // An event keeps its owner (the trigger).
        format!("DELETE FROM event_members WHERE id = '{OWNER_ROW}'"),
        // Foreign keys: no invitation to an unknown event, no deleting an invitee.
        format!(
            "INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status, created_at)
             VALUES ('01a00000-0000-7000-8000-0000000000a5', '{GONE}', '{ANN}', '{BOB}', 'b', 'pending', now())"
        ),
        format!("DELETE FROM users WHERE id = '{BOB}'"),
        // An id is a UUID now.
        "INSERT INTO users (id, name, email, password_hash, created_at)
         VALUES ('not-a-uuid', 'X', 'x@example.com', 'x', now())"
            .to_owned(),
    ] {
        assert!(session.try_execute(&refused).is_err(), "accepted: {refused}");
    }
    drop(session);

    // down.sql converts back to what was there, rows included.
    database.session().execute(WEBHOOKS_DOWN);
    database.session().execute(NATIVE_TYPES_DOWN);
    let (columns_after_down, definitions_after_down) = schema(&database);
    assert_eq!(columns_after_down, columns_before);
    assert_eq!(definitions_after_down, definitions_before);
    let rows_after_down = database.texts(
        "SELECT id || ' ' || CAST(created_at AS TEXT) AS value FROM users
         UNION ALL SELECT id || ' ' || CAST(created_at AS TEXT) || ' ' ||
                          COALESCE(CAST(last_resent_at AS TEXT), '-') FROM invitations
         UNION ALL SELECT user_id || ' ' || claim || ' ' || CAST(expires_at AS TEXT) FROM idempotency_keys
         ORDER BY 1",
    );
    assert_eq!(rows_after_down, rows_before);
}
