//! The abuse counters in PostgreSQL (limits held per process would let N processes allow N times
//! a limit): a reservation counts under every counter or none and tells what is left of each, a
//! full counter is named with its wait and the others' levels, giving back uncounts, events leave
//! the window and are purged, and concurrent reservations from two pools (as two processes) never
//! pass a limit together. PostgreSQL only: on SQLite the counters live in the process
//! (`http_actix::rate_limit::InProcessCounters`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Database;
use domain::ports::{
    AbuseCounters, CountError, CounterLevel, CounterLimit, PortError, Reservation,
};

const MINUTE: Duration = Duration::from_secs(60);

fn counters(limits: &[(&str, u32)]) -> Vec<CounterLimit> {
    limits
        .iter()
        .map(|(key, limit)| CounterLimit::new(*key, *limit))
        .collect()
}

/// The wait of a refused reservation; panics on anything else.
async fn refused(db: &Database, limits: &[(&str, u32)], window: Duration) -> Duration {
    refusal(db, limits, window).await.1
}

/// A refused reservation's full counter, wait and levels; panics on anything else.
async fn refusal(
    db: &Database,
    limits: &[(&str, u32)],
    window: Duration,
) -> (String, Duration, Vec<CounterLevel>) {
    match db.reserve(&counters(limits), window).await {
        Err(CountError::LimitReached {
            key,
            retry_after,
            levels,
        }) => (key, retry_after, levels),
        other => panic!("expected a full counter, got {other:?}"),
    }
}

/// `(remaining, reset)` of each event of a reservation.
fn levels(reservation: &Reservation) -> Vec<(u32, Duration)> {
    reservation
        .events
        .iter()
        .map(|event| (event.remaining, event.reset))
        .collect()
}

/// `duration` is within a second under `expected` (and not over it).
#[track_caller]
fn just_under(duration: Duration, expected: Duration) {
    assert!(
        duration <= expected && duration > expected - Duration::from_secs(1),
        "{duration:?} is not just under {expected:?}"
    );
}

async fn reserve(db: &Database, limits: &[(&str, u32)], window: Duration) -> Reservation {
    db.reserve(&counters(limits), window).await.unwrap()
}

/// How many events are stored, by the test's own connection.
fn stored(database: &TestDatabase, key: &str) -> usize {
    database.texts(&format!(
        "SELECT CAST(COUNT(*) AS TEXT) AS value FROM abuse_events WHERE key = '{key}'"
    ))[0]
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_counter_takes_its_limit_then_tells_the_wait() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let db = database.open();
    for left in [2, 1, 0] {
        let reservation = reserve(&db, &[("login:ann", 3)], MINUTE).await;
        assert_eq!(reservation.events.len(), 1);
        assert_eq!(reservation.events[0].key, "login:ann");
        let [(remaining, reset)] = levels(&reservation)[..] else {
            panic!("{reservation:?}");
        };
        assert_eq!(remaining, left);
        // The first event is the oldest: it leaves a whole window after it was counted.
        just_under(reset, MINUTE);
    }
    let (full, wait, found) = refusal(&db, &[("login:ann", 3)], MINUTE).await;
    assert!(wait > Duration::from_secs(55) && wait <= MINUTE, "{wait:?}");
    assert_eq!(full, "login:ann");
    assert_eq!(
        found,
        [CounterLevel {
            key: "login:ann".into(),
            remaining: 0,
            reset: wait
        }]
    );
    assert_eq!(
        stored(&database, "login:ann"),
        3,
        "a refusal counts nothing"
    );
    reserve(&db, &[("login:bob", 3)], MINUTE).await;
    // A limit of 0 is off: neither checked nor counted.
    for _ in 0..5 {
        let reservation = reserve(&db, &[("login:ann", 0)], MINUTE).await;
        assert!(reservation.events.is_empty());
    }
    eprintln!("counters: limit 3 took 3 events, the 4th waits {wait:.2?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_counter_refuses_the_whole_reservation_with_the_longest_wait() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let db = database.open();
    reserve(&db, &[("old", 1)], MINUTE).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    reserve(&db, &[("new", 1)], MINUTE).await;
    let (full, old, found) = refusal(&db, &[("free", 5), ("old", 1)], MINUTE).await;
    assert_eq!(
        stored(&database, "free"),
        0,
        "nothing counted when one is full"
    );
    assert_eq!(full, "old");
    let free = CounterLevel {
        key: "free".into(),
        remaining: 5,
        reset: MINUTE,
    };
    let filled = CounterLevel {
        key: "old".into(),
        remaining: 0,
        reset: old,
    };
    assert_eq!(found, [free, filled]);
    let (full, both, found) = refusal(&db, &[("old", 1), ("new", 1)], MINUTE).await;
    assert!(
        both > old + Duration::from_millis(200),
        "{old:?} then {both:?}"
    );
    assert_eq!(full, "new", "the counter with the longest wait is named");
    assert_eq!(found.len(), 2);
    assert_eq!((found[1].remaining, found[1].reset), (0, both));
    let reservation = reserve(&db, &[("free", 5), ("other", 5)], MINUTE).await;
    let keys: Vec<_> = reservation.events.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["free", "other"], "in the order asked for");
    assert_eq!(levels(&reservation), [(4, MINUTE), (4, MINUTE)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn giving_back_uncounts_exactly_the_reserved_events() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let db = database.open();
    let first = reserve(&db, &[("k", 2), ("j", 9)], MINUTE).await;
    assert_eq!(levels(&first), [(1, MINUTE), (8, MINUTE)]);
    reserve(&db, &[("k", 2)], MINUTE).await;
    refused(&db, &[("k", 2)], MINUTE).await;
    db.give_back(first.clone()).await.unwrap();
    assert_eq!((stored(&database, "k"), stored(&database, "j")), (1, 0));
    let again = reserve(&db, &[("k", 2)], MINUTE).await;
    assert_eq!(again.events[0].remaining, 0);
    // Giving back twice takes nothing more.
    db.give_back(first).await.unwrap();
    refused(&db, &[("k", 2)], MINUTE).await;
    db.give_back(Reservation::default()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_leave_the_window_by_the_database_clock() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let db = database.open();
    let window = Duration::from_millis(400);
    reserve(&db, &[("send:u", 1)], window).await;
    let wait = refused(&db, &[("send:u", 1)], window).await;
    assert!(wait <= window, "{wait:?}");
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    reserve(&db, &[("send:u", 1)], window).await;
    // Over a longer window the earlier event still counts.
    refused(&db, &[("send:u", 2)], MINUTE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_reset_is_when_the_oldest_event_inside_the_window_leaves_it() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let db = database.open();
    let window = Duration::from_secs(3);
    let first = reserve(&db, &[("send:u", 3)], window).await;
    assert_eq!(levels(&first), [(2, window)]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = reserve(&db, &[("send:u", 3)], window).await;
    let [(remaining, reset)] = levels(&second)[..] else {
        panic!("{second:?}");
    };
    assert_eq!(remaining, 1);
    just_under(reset, window - Duration::from_millis(1100));
    // Events outside the window count for nothing, in the count or in the reset.
    database.session().execute(
        "INSERT INTO abuse_events (key, at) VALUES ('send:v', clock_timestamp() - INTERVAL '5 seconds')",
    );
    assert_eq!(
        levels(&reserve(&db, &[("send:v", 1)], window).await),
        [(0, window)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn forty_concurrent_reservations_of_one_key_with_limit_five_count_five() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    // Two pools on one database, as two server processes.
    let pools = [Arc::new(database.open()), Arc::new(database.open())];
    let limits = counters(&[
        ("login-account-address:203.0.113.9:ann", 5),
        ("login-account:ann", 50),
        ("login-address:203.0.113.9", 20),
    ]);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (db, limits) = (pools[i % 2].clone(), limits.clone());
        tasks.spawn(async move { db.reserve(&limits, MINUTE).await });
    }
    let (mut counted, mut full) = (0, 0);
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            Ok(_) => counted += 1,
            Err(CountError::LimitReached { .. }) => full += 1,
            Err(error) => panic!("{error}"),
        }
    }
    eprintln!(
        "counters: of 40 concurrent reservations over two pools, {counted} counted and {full} \
         refused, in {:.0?}",
        started.elapsed()
    );
    assert_eq!((counted, full), (5, 35));
    assert_eq!(
        stored(&database, "login-account-address:203.0.113.9:ann"),
        5
    );
    assert_eq!(stored(&database, "login-account:ann"), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn old_events_are_purged_in_batches_by_several_purgers_at_once() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let db = Arc::new(database.open());
    database.session().execute(
        "INSERT INTO abuse_events (key, at) \
         SELECT 'old', clock_timestamp() - INTERVAL '2 minutes' FROM generate_series(1, 45)",
    );
    reserve(&db, &[("fresh", 10)], MINUTE).await;
    let purgers: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut purged = 0;
                loop {
                    let deleted = db.purge_abuse_events(MINUTE, 10).await.unwrap();
                    assert!(deleted <= 10);
                    purged += deleted;
                    if deleted < 10 {
                        return purged;
                    }
                }
            })
        })
        .collect();
    let mut purged = 0;
    for purger in purgers {
        purged += purger.await.unwrap();
    }
    assert_eq!(purged, 45);
    assert_eq!(
        (stored(&database, "old"), stored(&database, "fresh")),
        (0, 1)
    );
    assert_eq!(db.purge_abuse_events(MINUTE, 10).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_behind_a_held_lock_are_unavailable_within_the_lock_timeout() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let mut config = database.config().clone();
    config.lock_timeout = Duration::from_millis(300);
    let db = Database::open(&config).unwrap();
    let mut holder = database.session();
    holder.execute("BEGIN; LOCK TABLE abuse_events IN ACCESS EXCLUSIVE MODE");
    let started = Instant::now();
    let outcome = db.reserve(&counters(&[("k", 1)]), MINUTE).await;
    assert!(
        matches!(outcome, Err(CountError::Port(PortError::Unavailable(_)))),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    holder.execute("ROLLBACK");
    reserve(&db, &[("k", 1)], MINUTE).await;
}

#[tokio::test]
async fn on_sqlite_the_counters_are_not_in_the_database() {
    let database = TestDatabase::sqlite();
    let db = database.open();
    let outcome = db.reserve(&counters(&[("k", 1)]), MINUTE).await;
    assert!(
        matches!(outcome, Err(CountError::Port(PortError::Unexpected(_)))),
        "{outcome:?}"
    );
    assert_eq!(db.purge_abuse_events(MINUTE, 10).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn reserving_up_to_a_number_counts_what_fits_and_concurrent_callers_never_pass_the_limit() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let db = database.open();
    let day = Duration::from_secs(24 * 3600);
    let named = CounterLimit::new("named:ann", 10);
    let first = db.reserve_up_to(named.clone(), 4, day).await.unwrap();
    let left: Vec<u32> = first.events.iter().map(|e| e.remaining).collect();
    assert_eq!(left, [9, 8, 7, 6]);
    let second = db.reserve_up_to(named.clone(), 20, day).await.unwrap();
    assert_eq!(second.events.len(), 6, "only what fits");
    assert!(db
        .reserve_up_to(named.clone(), 1, day)
        .await
        .unwrap()
        .events
        .is_empty());
    assert_eq!(stored(&database, "named:ann"), 10);
    db.give_back(second).await.unwrap();
    assert_eq!(stored(&database, "named:ann"), 4);
    // Off: nothing counted, nothing stored.
    let off = CounterLimit::new("named:off", 0);
    assert!(db
        .reserve_up_to(off, 5, day)
        .await
        .unwrap()
        .events
        .is_empty());
    assert_eq!(stored(&database, "named:off"), 0);

    // Twenty callers over two pools, 7 each, under a limit of 50: exactly 50 counted.
    let pools = [Arc::new(database.open()), Arc::new(database.open())];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let db = pools[i % 2].clone();
        tasks.spawn(async move {
            db.reserve_up_to(CounterLimit::new("named:bob", 50), 7, day)
                .await
                .unwrap()
                .events
                .len()
        });
    }
    let mut counted = 0;
    while let Some(n) = tasks.join_next().await {
        counted += n.unwrap();
    }
    eprintln!(
        "counters: 20 concurrent reservations of up to 7 under a limit of 50 counted {counted}"
    );
    assert_eq!(counted, 50);
    assert_eq!(stored(&database, "named:bob"), 50);
}
