//! The change feed's tables renamed (`2026-12-06-000001_change_tables`): a database at the
//! migration before, with changes numbered (and on PostgreSQL one still staged), is migrated; every
//! change reads back through the ports with its recipients, no name in the schema says
//! "domain event" any more, new changes are numbered after the old ones, and down.sql gives back
//! the schema as it was, rows included.

use adapters_diesel::testing::{Session, TestDatabase};
use adapters_diesel::{Backend, Database};
use diesel::backend::Backend as DieselBackend;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use domain::accounts::UserSummary;
use domain::changes::ports::ChangeFeed;
use domain::changes::{ChangeId, ChangeSubject};
use domain::events::ports::{EventRepository, NewEvent};
use domain::events::EventDetails;
use domain::invitations::ports::{BatchOutcome, InvitationRepository};
use domain::invitations::Invitation;
use domain::{EventId, Text, UserId};

use super::{utc, uuid};
use crate::support::{migration, per_backend};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// The migration under test, as diesel names it.
const VERSION: &str = "20261206000001";
/// The migrations after it, undone before it, newest first.
const ROW_VERSIONS: &str = "20261206000002";
const PROVEN_CONTACTS: &str = "20261207000001";

const ANN: &str = "01a00000-0000-7000-8000-000000000001";
const BOB: &str = "01a00000-0000-7000-8000-000000000002";
const GONE: &str = "01a00000-0000-7000-8000-0000000000e2";
const ALSO_GONE: &str = "01a00000-0000-7000-8000-0000000000e3";
const STAGED_GONE: &str = "01a00000-0000-7000-8000-0000000000e4";

per_backend!(the_change_tables_are_renamed_in_place_with_their_rows_and_back);

async fn the_change_tables_are_renamed_in_place_with_their_rows_and_back(backend: Backend) {
    let Some(database) = TestDatabase::unmigrated(backend) else {
        return;
    };
    let mut session = database.session();
    migrate_up_to_before(&mut session, VERSION);
    session.execute(&rows_before(backend));
    drop(session);
    let before = catalog(&database);
    assert!(
        before
            .iter()
            .any(|line| line.contains("domain_event_recipients")),
        "{before:#?}"
    );

    // Opening the database runs the migration.
    let db = database.open();
    let numbered = match backend {
        // The staged change is numbered by the first read, after the two numbered before.
        Backend::Postgres => 3,
        Backend::Sqlite => 2,
    };
    let mut ann_feed = vec![(1, uuid(GONE)), (2, uuid(ALSO_GONE))];
    if backend == Backend::Postgres {
        ann_feed.push((3, uuid(STAGED_GONE)));
    }
    assert_eq!(feed(&db, ANN).await, ann_feed);
    assert_eq!(feed(&db, BOB).await, vec![(1, uuid(GONE))]);
    assert_eq!(db.latest().await.unwrap(), ChangeId(numbered));
    let fan_out = db.addressed_after(ChangeId(0), 10).await.unwrap();
    let recipients: Vec<(i64, usize)> = fan_out
        .changes
        .iter()
        .map(|d| (d.recorded.id.0, d.recipients.len()))
        .collect();
    let mut expected = vec![(1, 2), (2, 1)];
    if backend == Backend::Postgres {
        expected.push((3, 1));
    }
    assert_eq!(recipients, expected);
    assert_eq!(
        fan_out.changes[0].recorded.change.occurred_at(),
        utc("2026-11-23 08:00:00")
    );

    let after = catalog(&database);
    let old_names: Vec<&String> = after
        .iter()
        .filter(|line| line.contains("domain_event") || line.contains("event_id BIGINT"))
        .collect();
    assert!(old_names.is_empty(), "{old_names:#?}");
    for table in ["changes", "change_recipients", "change_sequence"] {
        assert!(
            after
                .iter()
                .any(|line| line.starts_with(&format!("{table} "))),
            "{table}: {after:#?}"
        );
    }

    // A change written now is numbered after the old ones and reaches its recipients.
    let next = invite_bob(&db).await;
    assert_eq!(next, ChangeId(numbered + 1));
    let bob_feed: Vec<i64> = feed(&db, BOB).await.iter().map(|(id, _)| *id).collect();
    assert_eq!(bob_feed, [1, numbered + 1]);
    drop(db);

    // down.sql gives back the schema as the migration before left it, with every row (after the
    // migrations that came later are undone).
    let mut session = database.session();
    session.execute(match backend {
        Backend::Postgres => {
            migration!("postgres/2026-12-16-000001_deliveries_due_by_kind/down.sql")
        }
        Backend::Sqlite => migration!("sqlite/2026-12-16-000001_deliveries_due_by_kind/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261216000001'");
    session.execute(match backend {
        Backend::Postgres => {
            migration!("postgres/2026-12-15-000001_memberships_with_roles/down.sql")
        }
        Backend::Sqlite => migration!("sqlite/2026-12-15-000001_memberships_with_roles/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261215000001'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-14-000004_webhook_verification/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-14-000004_webhook_verification/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261214000004'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-14-000003_circuit_breakers/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-14-000003_circuit_breakers/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261214000003'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-14-000002_change_payloads/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-14-000002_change_payloads/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261214000002'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-14-000001_opt_outs/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-14-000001_opt_outs/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261214000001'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-13-000001_reminders/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-13-000001_reminders/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261213000001'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-12-000001_deleted_events/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-12-000001_deleted_events/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261212000001'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-11-000001_calendars/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-11-000001_calendars/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261211000001'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-10-000001_invitation_links/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-10-000001_invitation_links/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261210000001'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-09-000001_invitation_titles/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-09-000001_invitation_titles/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261209000001'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-08-000001_rsvp/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-08-000001_rsvp/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261208000001'");
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-07-000001_proven_contacts/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-07-000001_proven_contacts/down.sql"),
    });
    session.execute(&format!(
        "DELETE FROM __diesel_schema_migrations WHERE version = '{PROVEN_CONTACTS}'"
    ));
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-06-000002_row_versions/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-06-000002_row_versions/down.sql"),
    });
    session.execute(&format!(
        "DELETE FROM __diesel_schema_migrations WHERE version = '{ROW_VERSIONS}'"
    ));
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-06-000001_change_tables/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-06-000001_change_tables/down.sql"),
    });
    session.execute(&format!(
        "DELETE FROM __diesel_schema_migrations WHERE version = '{VERSION}'"
    ));
    drop(session);
    assert_eq!(catalog(&database), before);
    let recipients = database.texts(
        "SELECT CAST(event_id AS TEXT) || ' ' || CAST(user_id AS TEXT) AS value
         FROM domain_event_recipients ORDER BY event_id, user_id",
    );
    let next = numbered + 1;
    let mut expected = vec![format!("1 {ANN}"), format!("1 {BOB}"), format!("2 {ANN}")];
    if backend == Backend::Postgres {
        expected.push(format!("3 {ANN}"));
    }
    expected.extend([format!("{next} {ANN}"), format!("{next} {BOB}")]);
    assert_eq!(recipients, expected);
    assert_eq!(
        database.texts("SELECT CAST(last_id AS TEXT) AS value FROM domain_event_sequence"),
        [next.to_string()]
    );

    // ... and up again: the feed reads on.
    let db = database.open();
    assert_eq!(feed(&db, BOB).await.len(), 2);
}

/// Runs every embedded migration that comes before `version`, as diesel would have.
fn migrate_up_to_before(session: &mut Session, version: &str) {
    match session {
        Session::Pg(conn) => run_before(conn, PG_MIGRATIONS, version),
        Session::Sqlite(conn) => run_before(conn, SQLITE_MIGRATIONS, version),
    }
}

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

/// Two users and the changes the feed held before the migration: two numbered (the first to both
/// users), and on PostgreSQL one still staged. Times are UTC.
fn rows_before(backend: Backend) -> String {
    let zone = match backend {
        Backend::Postgres => "+00",
        Backend::Sqlite => "",
    };
    let deleted = |id: &str, title: &str| {
        format!(r#"{{"subject":"deleted_event","event_id":"{id}","event_title":"{title}"}}"#)
    };
    let mut rows = format!(
        "INSERT INTO users (id, name, email, password_hash, created_at) VALUES
             ('{ANN}', 'Ann', 'ann@example.com', 'x', '2026-11-20 10:00:00{zone}'),
             ('{BOB}', 'Bob', 'bob@example.com', 'x', '2026-11-20 10:00:00{zone}');
         UPDATE domain_event_sequence SET last_id = 2;
         INSERT INTO domain_events (id, kind, occurred_at, subject) VALUES
             (1, 'event.deleted', '2026-11-23 08:00:00{zone}', '{}'),
             (2, 'event.deleted', '2026-11-24 08:00:00{zone}', '{}');
         INSERT INTO domain_event_recipients (user_id, event_id) VALUES
             ('{ANN}', 1), ('{BOB}', 1), ('{ANN}', 2);",
        deleted(GONE, "Gone"),
        deleted(ALSO_GONE, "Also gone"),
    );
    if backend == Backend::Postgres {
        rows.push_str(&format!(
            "INSERT INTO domain_events_staged (kind, occurred_at, subject, recipients) VALUES
                 ('event.deleted', '2026-11-25 08:00:00+00', '{}', '{ANN}');",
            deleted(STAGED_GONE, "Staged")
        ));
    }
    rows
}

/// Every name and definition of the schema, one line each, sorted: tables' columns (with their
/// types and defaults), constraints, indexes and sequences on PostgreSQL; `sqlite_master` on
/// SQLite (each table's and index's own SQL, without its comment lines and with its name unquoted:
/// a table that a later migration rebuilt and its down.sql built again, as `users`, reads the same
/// as the one it replaced).
fn catalog(database: &TestDatabase) -> Vec<String> {
    let mut lines = match database.backend() {
        Backend::Postgres => database.texts(
            "SELECT table_name || ' ' || column_name || ' ' || upper(data_type) || ' ' ||
                    is_nullable || ' ' || COALESCE(column_default, '-') AS value
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_%'
             UNION ALL SELECT conrelid::regclass || ' ' || conname || ' ' ||
                              pg_get_constraintdef(oid)
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace
             UNION ALL SELECT tablename || ' ' || indexdef FROM pg_indexes
             WHERE schemaname = 'public' AND tablename NOT LIKE '\\_\\_%'
             UNION ALL SELECT 'sequence ' || relname FROM pg_class
             WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace",
        ),
        Backend::Sqlite => database.texts(
            "SELECT tbl_name || ' ' || type || ' ' || name || ' ' || COALESCE(sql, '-') AS value
             FROM sqlite_master WHERE tbl_name NOT LIKE '\\_\\_%' ESCAPE '\\'",
        )
        .into_iter()
        .map(|line| {
            let table = line.split(' ').next().unwrap_or_default().to_owned();
            line.lines()
                .filter(|text| !text.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .replace(
                    &format!("CREATE TABLE \"{table}\""),
                    &format!("CREATE TABLE {table}"),
                )
        })
        .collect(),
    };
    lines.sort();
    lines
}

/// The ids of the changes in `user`'s feed, with the deleted event each tells of.
async fn feed(db: &Database, user: &str) -> Vec<(i64, uuid::Uuid)> {
    let user = UserId::from_uuid(uuid(user));
    db.list_for(user, ChangeId(0), 10)
        .await
        .unwrap()
        .changes
        .into_iter()
        .map(|c| match c.change.subject() {
            ChangeSubject::DeletedEvent(event) => (c.id.0, event.id.as_uuid()),
            ChangeSubject::Invitation(details) => (c.id.0, details.invitation.id().as_uuid()),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Ann makes an event and invites Bob: one change, `invitation.created`, to both. Returns the
/// latest id after it.
async fn invite_bob(db: &Database) -> ChangeId {
    let ann = UserSummary {
        id: UserId::from_uuid(uuid(ANN)),
        name: Text::from_stored("Ann".into()),
    };
    let at = utc("2026-12-06 10:00:00");
    let details =
        EventDetails::new(Text::from_stored("Party".into()), None, None, None, None).unwrap();
    let event = EventRepository::create(
        db,
        NewEvent {
            id: EventId::generate(),
            details,
            owner: ann.clone(),
            created_at: at,
        },
    )
    .await
    .unwrap();
    let invitation = Invitation::new_pending(
        event.id,
        ann.id,
        UserId::from_uuid(uuid(BOB)),
        "bob@example.com".into(),
        at,
    );
    assert_eq!(
        db.create_batch(std::slice::from_ref(&invitation))
            .await
            .unwrap(),
        [BatchOutcome::Created]
    );
    // Numbered by the read (PostgreSQL), or already (SQLite).
    db.list_for(ann.id, ChangeId(0), 10).await.unwrap();
    db.latest().await.unwrap()
}
