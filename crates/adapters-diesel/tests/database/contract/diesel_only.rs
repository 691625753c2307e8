//! What the diesel adapter does beyond the ports, so that the fakes have no part in it: the
//! statements a batch costs, opening a database, the secrets the processes on one database share,
//! and what the database itself keeps of roles.

use domain::events::{Actor, Role};

use super::*;
use crate::support::migration;

per_backend!(
    a_batch_of_a_thousand_contacts_costs_as_many_statements_as_one_of_ten,
    a_shared_secret_is_made_once_and_every_process_reads_the_same,
    the_database_keeps_exactly_one_owner_per_event,
    the_roles_migration_upgrades_a_database_in_place,
    the_rsvp_migration_upgrades_a_database_in_place_counting_its_seats,
    a_batch_whose_sender_no_longer_manages_the_event_stores_nothing,
    an_invitee_without_access_keeps_the_title_they_last_saw,
    a_cached_token_costs_no_statement_and_a_revocation_here_is_seen_at_once,
    a_token_revoked_through_another_process_is_refused_once_the_cache_age_has_passed,
    an_expired_token_is_never_served_from_the_cache,
    a_user_changed_through_this_process_is_seen_at_once,
    the_read_ceiling_runs_the_statements_a_read_sends_with_its_token_looked_up
);

// The fakes show every invitee the current title; the database freezes it for those who lost
// access when the title changes.
async fn an_invitee_without_access_keeps_the_title_they_last_saw(backend: Backend) {
    use domain::events::EventPatch;
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let db = database.open();
    let ann = user(&db, "Ann", Some("a@example.com"), None).await;
    let bob = user(&db, "Bob", Some("b@example.com"), None).await;
    let cy = user(&db, "Cy", Some("c@example.com"), None).await;
    let dan = user(&db, "Dan", Some("d@example.com"), None).await;
    let event_id = event(&db, &ann).await;
    let joined = invite(&db, event_id, &ann, &bob).await;
    answer(&db, &joined, Answer::Accept).await.unwrap();
    let declined = invite(&db, event_id, &ann, &cy).await;
    answer(&db, &declined, Answer::Reject).await.unwrap();
    invite(&db, event_id, &ann, &dan).await;
    let owner = Actor {
        user: ann.id,
        role: Role::Owner,
    };
    for title in ["Secret merger", "Another"] {
        let patch = EventPatch {
            title: Some(Text::from_stored(title.into())),
            ..EventPatch::default()
        };
        db.update(event_id, owner, &patch, None)
            .await
            .unwrap()
            .unwrap();
    }
    let seen = |details: Vec<domain::invitations::InvitationDetails>| {
        details
            .into_iter()
            .map(|d| (d.event_title.into_string(), d.invitee_title.into_string()))
            .collect::<Vec<_>>()
    };
    let received = |who: UserId| {
        let db = &db;
        async move {
            db.list_received(
                who,
                InvitationFilter::default(),
                PageRequest::default(),
                now(),
            )
            .await
            .unwrap()
            .items
        }
    };
    // Cy declined before the renames: she keeps "Party", whatever the title becomes.
    assert_eq!(
        seen(received(cy.id).await),
        [("Another".to_owned(), "Party".to_owned())]
    );
    // A member and a live invitee see the event as it is.
    for who in [bob.id, dan.id] {
        assert_eq!(
            seen(received(who).await),
            [("Another".to_owned(), "Another".to_owned())]
        );
    }
    let found = db.find(declined.id()).await.unwrap().unwrap();
    assert_eq!(found.invitee_title.as_str(), "Party");
}

// The fakes trust the plan; the database checks the sender's role in the batch's transaction.
async fn a_batch_whose_sender_no_longer_manages_the_event_stores_nothing(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let db = database.open();
    let ann = user(&db, "Ann", Some("a@example.com"), None).await;
    let bob = user(&db, "Bob", Some("b@example.com"), None).await;
    let cy = user(&db, "Cy", Some("c@example.com"), None).await;
    let event_id = event(&db, &ann).await;
    let joined = invite(&db, event_id, &ann, &bob).await;
    answer(&db, &joined, Answer::Accept).await.unwrap();
    let owner = Actor {
        user: ann.id,
        role: Role::Owner,
    };
    db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost)
        .await
        .unwrap();
    // Planned while Bob was a co-host; he is a member by the time it is stored.
    let planned = Invitation::new_pending(event_id, bob.id, cy.id, "contact".into(), now());
    db.change_role(event_id, owner, bob.id, Role::Cohost, Role::Member)
        .await
        .unwrap();
    assert!(matches!(
        db.create_batch(std::slice::from_ref(&planned)).await,
        Err(PortError::Unavailable(_))
    ));
    let stored = db
        .list_for_event(
            event_id,
            InvitationFilter::default(),
            PageRequest::default(),
            now(),
        )
        .await
        .unwrap()
        .items;
    assert!(
        stored.iter().all(|d| d.invitation.invitee_id() != cy.id),
        "nothing stored for Cy"
    );
    // As a co-host again, the same batch goes in.
    db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost)
        .await
        .unwrap();
    assert_eq!(
        db.create_batch(std::slice::from_ref(&planned))
            .await
            .unwrap(),
        [BatchOutcome::Created]
    );
}

// Counts the SQL statements the adapter sends (`Database::statements_executed`): the
// fakes send none, and a constant number of round trips is the adapter's promise.
async fn a_batch_of_a_thousand_contacts_costs_as_many_statements_as_one_of_ten(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let db = Arc::new(database.open());
    let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
    let mut contacts = Vec::new();
    for i in 0..1000 {
        if i % 2 == 0 {
            user(
                &*db,
                &format!("U{i}"),
                Some(&format!("u{i}@example.com")),
                None,
            )
            .await;
        }
        contacts.push(format!("u{i}@example.com"));
    }
    let service = InvitationService::new(db.clone(), db.clone(), db.clone(), Arc::new(Clock0));
    let mut cost = Vec::new();
    for size in [10, 1000] {
        let event_id = event(&*db, &ann).await;
        let entries = InvitationEntries::parse(&contacts[..size], PhoneRegion::default()).unwrap();
        let before = db.statements_executed();
        let report = service
            .send(
                &ann,
                SendInvitations {
                    event_id,
                    entries,
                    message: None,
                    expires_in: None,
                },
            )
            .await
            .unwrap();
        cost.push(db.statements_executed() - before);
        assert_eq!(report.sent.len(), size / 2);
    }
    assert_eq!(
        cost[0], cost[1],
        "statements for 10 vs 1000 contacts: {cost:?}"
    );
    // At most: four pool check-outs (each pinged unless used in the last second), the event, the
    // users, two state queries, and the write transaction (BEGIN, INSERT, SELECT, COMMIT),
    // with its outbox: the sent invitations' details, the event's managers, the sequence, the
    // changes and their recipients (one multi-row INSERT each), and on PostgreSQL a NOTIFY.
    assert!(cost[0] <= 16, "{cost:?}");
}

// Opening a database is the adapter's own business (the fakes have no connection to lose).

#[test]
fn an_unreachable_postgres_fails_fast_with_a_connect_error() {
    let started = std::time::Instant::now();
    let mut config = DatabaseConfig::new("postgres://postgres@127.0.0.1:1/none");
    config.connection_timeout = std::time::Duration::from_secs(2);
    let result = Database::open(&config);
    assert!(matches!(
        result,
        Err(adapters_diesel::DatabaseError::Connect(_))
    ));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_fresh_sqlite_path_gets_its_directory_and_schema() {
    let dir = tempfile_dir();
    let path = format!("{}/nested/dir/app.sqlite3", dir.display());
    Database::open(&DatabaseConfig::new(format!("sqlite://{path}"))).unwrap();
    assert!(std::path::Path::new(&path).exists());
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("em-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// Secrets the processes on one database share through it (`Database::shared_secret`): an
// operation of the adapter, not a port, so the fakes have none.
async fn a_shared_secret_is_made_once_and_every_process_reads_the_same(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    // Four processes starting at once on a fresh database: a pool each, racing to make it.
    let pools: Vec<Database> = (0..4).map(|_| database.open()).collect();
    let handles: Vec<_> = pools
        .into_iter()
        .map(|db| tokio::spawn(async move { db.shared_secret("cursor").await.unwrap() }))
        .collect();
    let mut secrets = Vec::new();
    for handle in handles {
        secrets.push(handle.await.unwrap());
    }
    assert!(secrets.iter().all(|s| *s == secrets[0]), "{secrets:?}");
    assert_ne!(secrets[0], [0; 32]);
    // Asked again, later, by another pool: the same value; one row, in standard base64.
    let again = database.open().shared_secret("cursor").await.unwrap();
    assert_eq!(again, secrets[0]);
    let stored = database.texts("SELECT value FROM service_secrets WHERE name = 'cursor'");
    assert_eq!(stored.len(), 1);
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&stored[0])
            .unwrap(),
        again
    );
    // Another name is another secret.
    let other = database.open().shared_secret("other").await.unwrap();
    assert_ne!(other, again);
}

// The database keeps one owner per event by itself, whatever a statement asks: the fakes
// have no SQL to refuse.
async fn the_database_keeps_exactly_one_owner_per_event(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let db = database.open();
    let ann = user(&db, "Ann", Some("a@example.com"), None).await;
    let bob = user(&db, "Bob", Some("b@example.com"), None).await;
    let event_id = event(&db, &ann).await;
    let invitation = invite(&db, event_id, &ann, &bob).await;
    answer(&db, &invitation, Answer::Accept).await.unwrap();
    let mut session = database.session();
    if backend == Backend::Sqlite {
        session.execute("PRAGMA foreign_keys = ON");
    }
    for sql in [
        format!(
            "UPDATE event_members SET role = 'owner' WHERE user_id = '{}'",
            bob.id
        ),
        format!("DELETE FROM event_members WHERE user_id = '{}'", ann.id),
        format!(
            "UPDATE event_members SET role = 'cohost' WHERE user_id = '{}'",
            ann.id
        ),
        format!(
            "UPDATE event_members SET role = 'admin' WHERE user_id = '{}'",
            bob.id
        ),
    ] {
        assert!(session.try_execute(&sql).is_err(), "{sql}");
    }
    session.execute(&format!(
        "UPDATE event_members SET role = 'cohost' WHERE user_id = '{}'",
        bob.id
    ));
    // Deleting the event takes its owner's row with it.
    session.execute(&format!("DELETE FROM events WHERE id = '{event_id}'"));
    let left = database.texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM event_members");
    assert_eq!(left, ["0"]);
}

// Upgrading in place is about SQL migrations, which the fakes do not have.
async fn the_roles_migration_upgrades_a_database_in_place(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let db = database.open();
    let ann = user(&db, "Ann", Some("a@example.com"), None).await;
    let bob = user(&db, "Bob", Some("b@example.com"), None).await;
    let event_id = event(&db, &ann).await;
    let invitation = invite(&db, event_id, &ann, &bob).await;
    answer(&db, &invitation, Answer::Accept).await.unwrap();
    drop(db);
    // Back to the schema before roles, with its data (RSVP, which came later, undone first).
    let mut session = database.session();
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-08-000001_rsvp/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-08-000001_rsvp/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261208000001'");
    drop(session);
    let down = match backend {
        Backend::Postgres => {
            migration!("postgres/2026-11-29-000002_roles/down.sql")
        }
        Backend::Sqlite => {
            migration!("sqlite/2026-11-29-000002_roles/down.sql")
        }
    };
    let mut session = database.session();
    session.execute(down);
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261129000002'");
    let cohost = format!(
        "UPDATE event_members SET role = 'cohost' WHERE user_id = '{}'",
        bob.id
    );
    assert!(
        session.try_execute(&cohost).is_err(),
        "the old check knows no co-hosts"
    );
    drop(session);

    let db = database.open();
    let roles: Vec<_> = db
        .list_members(event_id, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| (m.user.id, m.role))
        .collect();
    assert_eq!(roles, [(bob.id, Role::Member), (ann.id, Role::Owner)]);
    assert_eq!(
        db.find_for_member(event_id, ann.id)
            .await
            .unwrap()
            .unwrap()
            .members_count,
        2
    );
    let owner = Actor {
        user: ann.id,
        role: Role::Owner,
    };
    db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost)
        .await
        .unwrap();
    let second_owner = format!(
        "UPDATE event_members SET role = 'owner' WHERE user_id = '{}'",
        bob.id
    );
    assert!(database.session().try_execute(&second_owner).is_err());
}

// Upgrading in place is about SQL migrations, which the fakes do not have: events made before
// RSVP are unlimited and take no guests, and their members' seats are counted.
async fn the_rsvp_migration_upgrades_a_database_in_place_counting_its_seats(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let db = database.open();
    let ann = user(&db, "Ann", Some("a@example.com"), None).await;
    let bob = user(&db, "Bob", Some("b@example.com"), None).await;
    let cy = user(&db, "Cy", Some("c@example.com"), None).await;
    let event_id = event(&db, &ann).await;
    let joined = invite(&db, event_id, &ann, &bob).await;
    answer(&db, &joined, Answer::Accept).await.unwrap();
    let pending = invite(&db, event_id, &ann, &cy).await;
    drop(db);
    // Back to the schema before RSVP, with its rows; opening the database upgrades it again.
    let mut session = database.session();
    session.execute(match backend {
        Backend::Postgres => migration!("postgres/2026-12-08-000001_rsvp/down.sql"),
        Backend::Sqlite => migration!("sqlite/2026-12-08-000001_rsvp/down.sql"),
    });
    session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261208000001'");
    assert!(
        session
            .try_execute("UPDATE invitations SET status = 'tentative'")
            .is_err(),
        "the old check knows no maybe"
    );
    drop(session);

    let db = database.open();
    let stored = db.find_for_member(event_id, ann.id).await.unwrap().unwrap();
    assert_eq!(stored.seats_taken, 1, "Bob's seat, counted by the upgrade");
    let rsvp = stored.details.rsvp();
    assert_eq!(
        (rsvp.capacity(), rsvp.max_guests(), rsvp.waitlist()),
        (None, 0, true)
    );
    let members = db
        .list_members(event_id, PageRequest::default())
        .await
        .unwrap();
    assert!(members.items.iter().all(|m| m.guests == 0));
    let found = db.find(pending.id()).await.unwrap().unwrap();
    assert_eq!(
        (found.invitation.status(), found.invitation.guests()),
        (InvitationStatus::Pending, 0)
    );
    // And the upgraded database takes answers of the new kinds.
    reply(&db, &pending, Reply::of(Answer::Tentative))
        .await
        .unwrap();
}

// The bench's write ceilings (docs/performance.md, "Write ceilings") run pgbench on the statements
// a request sends; these cases hold each script to what the service sends now, so that the two
// cannot drift apart. PostgreSQL only: the scripts are pgbench's.

/// The statements of a pgbench script, as the service would send them: `\` meta-commands,
/// comments and the statements marked `-- bench only` dropped, `:variables` as placeholders,
/// whitespace collapsed.
fn script_statements(script: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut bench_only = false;
    for line in script.lines() {
        let line = line.trim();
        if line == "-- bench only" {
            bench_only = true;
            continue;
        }
        if line.starts_with("--") || line.starts_with('\\') || line.is_empty() {
            continue;
        }
        // A trailing `\gset` ends the statement like a semicolon.
        let (sql, ends) = match line.split_once("\\gset") {
            Some((sql, _)) => (sql, true),
            None => match line.strip_suffix(';') {
                Some(sql) => (sql, true),
                None => (line, false),
            },
        };
        current.push(' ');
        current.push_str(sql);
        if ends {
            if !bench_only {
                statements.push(placeholders(&current, ':'));
            }
            bench_only = false;
            current.clear();
        }
    }
    statements
}

/// `sql` with every `$1` placeholder (or, in a script, every `:name` with the cast that may follow
/// it, every `CAST(NULL AS type)` and every `/* bind */ f(...)`: pgbench's stand-ins for typed
/// binds, for NULL and for values it computes) as `?`, and its whitespace collapsed.
fn placeholders(sql: &str, sigil: char) -> String {
    let mut sql = sql.to_owned();
    if sigil == ':' {
        while let Some(start) = sql.find("CAST(NULL AS ") {
            let end = start + sql[start..].find(')').expect("a closed CAST");
            sql.replace_range(start..=end, "?");
        }
        // `/* bind */ f(...)`: a value the service binds, computed by pgbench's statement.
        while let Some(start) = sql.find("/* bind */") {
            let mut depth = 0;
            let mut end = None;
            for (at, c) in sql[start..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(start + at);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            sql.replace_range(start..=end.expect("a bound call"), "?");
        }
    }
    let mut out = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let starts_name = |next: Option<&char>| match sigil {
            '$' => next.is_some_and(char::is_ascii_digit),
            _ => next.is_some_and(|n| n.is_ascii_alphabetic() || *n == '_'),
        };
        // `::type` casts stay.
        if c == sigil && starts_name(chars.peek()) && !out.ends_with(':') {
            let name = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
                while chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_')
                {
                    chars.next();
                }
            };
            name(&mut chars);
            // A script's `:name::type`: the type the service's bind carries.
            if sigil == ':' && chars.clone().take(2).eq("::".chars()) {
                chars.next();
                chars.next();
                name(&mut chars);
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the service sent while `work` ran, without the pool's liveness checks (a busy pool
/// skips them).
async fn sent_by<F: std::future::Future<Output = ()>>(db: &Database, work: F) -> Vec<String> {
    db.record_statements();
    work.await;
    db.recorded_statements()
        .iter()
        .filter(|sql| sql.as_str() != "SELECT 1")
        .map(|sql| placeholders(sql, '$'))
        .collect()
}

/// Stores a token of `user`, its digest `byte` repeated, expiring `lasts` from [`now`].
async fn token(db: &dyn Repositories, user: UserId, byte: u8, lasts: Duration) -> TokenHash {
    let hash = TokenHash(vec![byte; 32]);
    db.store(NewToken {
        hash: hash.clone(),
        user_id: user,
        created_at: now(),
        expires_at: now() + lasts,
    })
    .await
    .unwrap();
    hash
}

/// The database as the bench's server opens it: with the token cache (`TOKEN_CACHE_SECS`, 2 s).
fn with_token_cache(database: &TestDatabase) -> Database {
    Database::open(&DatabaseConfig {
        token_cache: std::time::Duration::from_secs(2),
        ..database.config().clone()
    })
    .unwrap()
}

fn bench_script(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_script_matches(name: &str, sent: &[String]) {
    let script = script_statements(&bench_script(name));
    assert!(
        script == sent,
        "bench/{name} no longer issues what the service sends; the service sends:\n{}",
        sent.join(";\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_accept_ceiling_runs_the_statements_an_accept_sends() {
    let Some(database) = TestDatabase::new(Backend::Postgres) else {
        return;
    };
    let db = Arc::new(with_token_cache(&database));
    let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
    let bob = user(&*db, "Bob", Some("b@example.com"), None).await;
    let hash = token(&*db, bob.id, 7, Duration::days(1)).await;
    let event_id = event(&*db, &ann).await;
    let invitation = invite(&*db, event_id, &ann, &bob).await;
    let service = InvitationService::new(db.clone(), db.clone(), db.clone(), Arc::new(Clock0));
    // The bench's clients use their tokens many times a second: they come from the cache.
    db.find_user(&hash, now()).await.unwrap().unwrap();
    let sent = sent_by(&db, async {
        let me = db.find_user(&hash, now()).await.unwrap().unwrap();
        service
            .answer(&me, invitation.id(), Reply::of(Answer::Accept), None)
            .await
            .unwrap();
    })
    .await;
    assert_script_matches("pgbench-accept.sql", &sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_send_ceiling_runs_the_statements_a_ten_contact_send_sends() {
    let Some(database) = TestDatabase::new(Backend::Postgres) else {
        return;
    };
    let db = Arc::new(with_token_cache(&database));
    let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
    let hash = token(&*db, ann.id, 7, Duration::days(1)).await;
    let mut contacts = Vec::new();
    for i in 0..10 {
        user(
            &*db,
            &format!("U{i}"),
            Some(&format!("u{i}@example.com")),
            None,
        )
        .await;
        contacts.push(format!("u{i}@example.com"));
    }
    let event_id = event(&*db, &ann).await;
    // As the bench's server runs: the day's caps off.
    let caps = domain::invitations::SendCaps {
        recipients_new: 0,
        recipients_established: 0,
        per_recipient: 0,
    };
    let service = InvitationService::new(db.clone(), db.clone(), db.clone(), Arc::new(Clock0))
        .with_caps(db.clone(), caps, PhoneRegion::default());
    // The bench's clients use their tokens many times a second: they come from the cache.
    db.find_user(&hash, now()).await.unwrap().unwrap();
    let sent = sent_by(&db, async {
        let me = db.find_user(&hash, now()).await.unwrap().unwrap();
        let entries = InvitationEntries::parse(&contacts, PhoneRegion::default()).unwrap();
        let report = service
            .send(
                &me,
                SendInvitations {
                    event_id,
                    entries,
                    message: None,
                    expires_in: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(report.sent.len(), 10);
    })
    .await;
    assert_script_matches("pgbench-send.sql", &sent);
}

// The token cache (docs/operations.md, "Token cache") is the diesel adapter's own: the fakes look
// every token up.

/// A database opened with a token cache of two seconds, and a token of Ann's stored in it.
async fn cached(database: &TestDatabase) -> (Database, User, TokenHash) {
    let db = with_token_cache(database);
    let ann = user(&db, "Ann", Some("a@example.com"), None).await;
    let hash = token(&db, ann.id, 9, Duration::days(1)).await;
    (db, ann, hash)
}

async fn a_cached_token_costs_no_statement_and_a_revocation_here_is_seen_at_once(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let (db, ann, hash) = cached(&database).await;
    let found = db.find_user(&hash, now()).await.unwrap().unwrap();
    assert_eq!(found.id, ann.id);
    let before = db.statements_executed();
    let again = db
        .find_user(&hash, now() + Duration::milliseconds(1500))
        .await
        .unwrap();
    assert_eq!(again.map(|u| u.id), Some(ann.id));
    assert_eq!(db.statements_executed(), before, "answered from the cache");
    // Two seconds after the look-up: asked again.
    db.find_user(&hash, now() + Duration::seconds(2))
        .await
        .unwrap()
        .unwrap();
    assert!(db.statements_executed() > before);

    db.revoke(&hash, now()).await.unwrap();
    assert!(db.find_user(&hash, now()).await.unwrap().is_none());
}

async fn a_token_revoked_through_another_process_is_refused_once_the_cache_age_has_passed(
    backend: Backend,
) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let (here, ann, hash) = cached(&database).await;
    let elsewhere = database.open();
    assert!(here.find_user(&hash, now()).await.unwrap().is_some());
    elsewhere.revoke(&hash, now()).await.unwrap();
    assert!(elsewhere.find_user(&hash, now()).await.unwrap().is_none());
    // Within the bound this process may still take it...
    let within = here
        .find_user(&hash, now() + Duration::milliseconds(1999))
        .await
        .unwrap();
    assert_eq!(within.map(|u| u.id), Some(ann.id));
    // ...and never past it.
    assert!(here
        .find_user(&hash, now() + Duration::seconds(2))
        .await
        .unwrap()
        .is_none());
    // Revoking every token of a user elsewhere: the same bound.
    let other = token(&here, ann.id, 8, Duration::days(1)).await;
    let later = now() + Duration::seconds(10);
    assert!(here.find_user(&other, later).await.unwrap().is_some());
    assert_eq!(elsewhere.revoke_all(ann.id, None, later).await.unwrap(), 1);
    assert!(here
        .find_user(&other, later + Duration::seconds(2))
        .await
        .unwrap()
        .is_none());
}

async fn an_expired_token_is_never_served_from_the_cache(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let (db, ann, _) = cached(&database).await;
    let brief = token(&db, ann.id, 5, Duration::seconds(1)).await;
    assert!(db.find_user(&brief, now()).await.unwrap().is_some());
    assert!(db
        .find_user(&brief, now() + Duration::seconds(1))
        .await
        .unwrap()
        .is_none());
}

async fn a_user_changed_through_this_process_is_seen_at_once(backend: Backend) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    let (db, ann, hash) = cached(&database).await;
    assert_eq!(
        db.find_user(&hash, now())
            .await
            .unwrap()
            .unwrap()
            .name
            .as_str(),
        "Ann"
    );
    db.update_profile(ann.id, Some(Text::from_stored("Annie".into())), None)
        .await
        .unwrap();
    assert_eq!(
        db.find_user(&hash, now())
            .await
            .unwrap()
            .unwrap()
            .name
            .as_str(),
        "Annie"
    );
    db.erase(ann.id, now()).await.unwrap();
    assert!(db.find_user(&hash, now()).await.unwrap().is_none());
}

// The read's ceilings: pgbench on PostgreSQL, a minimal program on SQLite's file (bench/run.py).
async fn the_read_ceiling_runs_the_statements_a_read_sends_with_its_token_looked_up(
    backend: Backend,
) {
    let Some(database) = TestDatabase::new(backend) else {
        return;
    };
    // Without the token cache: the ceiling is the token's look-up and the page.
    let db = Arc::new(database.open());
    let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
    let bob = user(&*db, "Bob", Some("b@example.com"), None).await;
    let hash = token(&*db, bob.id, 7, Duration::days(1)).await;
    let event_id = event(&*db, &ann).await;
    invite(&*db, event_id, &ann, &bob).await;
    let service = InvitationService::new(db.clone(), db.clone(), db.clone(), Arc::new(Clock0));
    let sent = sent_by(&db, async {
        let me = db.find_user(&hash, now()).await.unwrap().unwrap();
        let page = service
            .list_received(
                &me,
                InvitationFilter {
                    status: StatusFilter::parse("pending").unwrap(),
                    event_id: None,
                },
                page(50, None),
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
    })
    .await;
    let script = match backend {
        Backend::Postgres => "pgbench-read.sql",
        Backend::Sqlite => "sqlite-read.sql",
    };
    assert_script_matches(script, &sent);
}
