//! The invitation lifecycle's migration (docs/operations.md, "Invitation expiry"): rows written
//! before it keep their status and times, get no expiry (they never expire), and the widened checks
//! hold on both backends.

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;

use crate::support::{migration, per_backend};

/// The migrations that came before `2026-11-29-000001_invitation_lifecycle`, per backend, as
/// diesel names them.
fn earlier(backend: Backend) -> Vec<(&'static str, &'static str)> {
    match backend {
        Backend::Postgres => vec![
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
        ],
        Backend::Sqlite => vec![
            (
                "20261126000001",
                migration!("sqlite/2026-11-26-000001_init/up.sql"),
            ),
            (
                "20261127000001",
                migration!("sqlite/2026-11-27-000001_token_purge_indexes/up.sql"),
            ),
            (
                "20261128000001",
                migration!("sqlite/2026-11-28-000001_service_secrets/up.sql"),
            ),
        ],
    }
}

const ROWS: &str = "
    INSERT INTO users (id, name, email, password_hash, created_at) VALUES
        ('01a00000-0000-7000-8000-000000000001', 'Ann', 'ann@example.com', 'x', '2026-11-20 10:00:00'),
        ('01a00000-0000-7000-8000-000000000002', 'Bob', 'bob@example.com', 'x', '2026-11-20 10:00:00'),
        ('01a00000-0000-7000-8000-000000000003', 'Cy', 'cy@example.com', 'x', '2026-11-20 10:00:00');
    INSERT INTO events (id, owner_id, title, members_count, created_at) VALUES
        ('01a00000-0000-7000-8000-0000000000e1', '01a00000-0000-7000-8000-000000000001', 'Party', 2, '2026-11-20 10:00:00');
    INSERT INTO event_members (id, event_id, user_id, role, joined_at) VALUES
        ('01a00000-0000-7000-8000-0000000000b1', '01a00000-0000-7000-8000-0000000000e1', '01a00000-0000-7000-8000-000000000001', 'owner', '2026-11-20 10:00:00'),
        ('01a00000-0000-7000-8000-0000000000b2', '01a00000-0000-7000-8000-0000000000e1', '01a00000-0000-7000-8000-000000000002', 'member', '2026-11-21 10:00:00');
    INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status, created_at, answered_at) VALUES
        ('01a00000-0000-7000-8000-0000000000a1', '01a00000-0000-7000-8000-0000000000e1', '01a00000-0000-7000-8000-000000000001', '01a00000-0000-7000-8000-000000000002', 'bob@example.com', 'accepted', '2026-11-20 11:00:00', '2026-11-21 10:00:00'),
        ('01a00000-0000-7000-8000-0000000000a2', '01a00000-0000-7000-8000-0000000000e1', '01a00000-0000-7000-8000-000000000001', '01a00000-0000-7000-8000-000000000003', 'cy@example.com', 'pending', '2026-11-20 11:00:00', NULL);
";

per_backend!(rows_written_before_the_lifecycle_keep_their_state_and_never_expire);

async fn rows_written_before_the_lifecycle_keep_their_state_and_never_expire(backend: Backend) {
    let Some(database) = TestDatabase::unmigrated(backend) else {
        return;
    };
    let mut session = database.session();
    session.execute(
        "CREATE TABLE __diesel_schema_migrations (
                version VARCHAR(50) PRIMARY KEY NOT NULL,
                run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    );
    for (version, sql) in earlier(backend) {
        session.execute(sql);
        session.execute(&format!(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')"
        ));
    }
    session.execute(ROWS);
    drop(session);

    // Opening the database runs the migrations that are left, the lifecycle's among them.
    let db = database.open();
    drop(db);
    let rows = database.texts(
            "SELECT id || ' ' || status || ' ' || COALESCE(CAST(answered_at AS TEXT), '-') || ' ' ||
                    COALESCE(CAST(expires_at AS TEXT), '-') || ' ' || COALESCE(CAST(cancelled_at AS TEXT), '-') || ' ' ||
                    COALESCE(message, '-') || ' ' || COALESCE(CAST(last_resent_at AS TEXT), '-') AS value
             FROM invitations ORDER BY id",
        );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].starts_with("01a00000-0000-7000-8000-0000000000a1 accepted 2026-11-21 10:00:00"),
        "{rows:?}"
    );
    assert!(
        rows[0].ends_with(" - - - -"),
        "no expiry, cancel, note or resend: {rows:?}"
    );
    assert_eq!(
        rows[1],
        "01a00000-0000-7000-8000-0000000000a2 pending - - - - -"
    );

    // The widened checks: the new statuses go in with their times, inconsistent rows do not.
    let mut session = database.session();
    session.execute(
        "UPDATE invitations SET status = 'cancelled', cancelled_at = '2026-11-29 10:00:00'
             WHERE id = '01a00000-0000-7000-8000-0000000000a2'",
    );
    for broken in [
            "UPDATE invitations SET status = 'expired' WHERE id = '01a00000-0000-7000-8000-0000000000a2'",
            "UPDATE invitations SET cancelled_at = NULL WHERE id = '01a00000-0000-7000-8000-0000000000a2'",
            "UPDATE invitations SET answered_at = NULL WHERE id = '01a00000-0000-7000-8000-0000000000a1'",
            "UPDATE invitations SET status = 'gone' WHERE id = '01a00000-0000-7000-8000-0000000000a1'",
            "UPDATE invitations SET message = '' WHERE id = '01a00000-0000-7000-8000-0000000000a1'",
        ] {
            assert!(session.try_execute(broken).is_err(), "{broken}");
        }
    session.execute(
        "UPDATE invitations SET status = 'expired', cancelled_at = NULL
             WHERE id = '01a00000-0000-7000-8000-0000000000a2'",
    );
    // The partial unique index still allows one pending invitation per (event, invitee).
    let insert = |id: &str| {
        format!(
            "INSERT INTO invitations (id, event_id, sender_id, invitee_id, contact, status, created_at)
             VALUES ('{id}', '01a00000-0000-7000-8000-0000000000e1', '01a00000-0000-7000-8000-000000000001',
                     '01a00000-0000-7000-8000-000000000003', 'cy', 'pending', '2026-11-29 10:00:00')"
        )
    };
    session.execute(&insert("01a00000-0000-7000-8000-0000000000a3"));
    assert!(session
        .try_execute(&insert("01a00000-0000-7000-8000-0000000000a4"))
        .is_err());
}
