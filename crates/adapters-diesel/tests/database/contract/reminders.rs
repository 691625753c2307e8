//! Reminders (docs/api.md, "Reminders"): which are due, for whom, recorded once; a moved start
//! makes them due again; a deleted event has none.

use domain::events::{Actor, EventPatch, Role};
use domain::reminders::{DueReminder, Reminder, Reminders, SentReminder};

use super::*;

contract!(
    reminders_fall_due_for_their_audience_once_per_start,
    a_reminder_recorded_twice_counts_once_and_the_purge_takes_old_records
);

fn rule(before: &str, to: &str) -> Reminder {
    Reminder::parse(before, to).unwrap()
}

/// Olivia's event starting at `starts_at` with `rules`.
async fn reminded_event(
    db: &dyn Repositories,
    olivia: &User,
    starts_at: DateTime<Utc>,
    rules: &[Reminder],
) -> EventId {
    let mut new = new_event(olivia);
    new.details = EventDetails::new(
        Text::from_stored("Party".into()),
        None,
        None,
        Some(starts_at),
        None,
    )
    .unwrap()
    .with_reminders(Reminders::new(rules.to_vec()).unwrap());
    EventRepository::create(db, new).await.unwrap().id
}

/// Who is due at `at`, as (name, rule key), sorted.
async fn due_at(
    db: &dyn Repositories,
    at: DateTime<Utc>,
    names: &[&User],
) -> Vec<(String, String)> {
    let found = db.due_reminders(at, 100).await.unwrap();
    for due in &found.due {
        assert!(
            found.events.iter().any(|e| e.id == due.event_id),
            "its event comes with it"
        );
    }
    let mut due: Vec<(String, String)> = found
        .due
        .iter()
        .map(|d| {
            let name = names
                .iter()
                .find(|u| u.id == d.user)
                .map_or("?".to_owned(), |u| u.name.as_str().to_owned());
            (name, d.rule.key())
        })
        .collect();
    due.sort();
    due
}

/// Records everything due at `at`; how many were recorded.
async fn record_due(db: &dyn Repositories, at: DateTime<Utc>) -> u64 {
    let found = db.due_reminders(at, 100).await.unwrap();
    let sent = found
        .due
        .iter()
        .map(|d: &DueReminder| {
            let event = found.events.iter().find(|e| e.id == d.event_id).unwrap();
            SentReminder {
                event_id: d.event_id,
                rule: d.rule.key(),
                user: d.user,
                starts_at: event.details.starts_at().unwrap(),
                message: None,
            }
        })
        .collect();
    db.record_reminders(sent, at).await.unwrap()
}

fn pair(name: &str, key: &str) -> (String, String) {
    (name.to_owned(), key.to_owned())
}

async fn reminders_fall_due_for_their_audience_once_per_start(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia", Some("o@example.com"), None).await;
    let sara = user(db, "Sara", Some("s@example.com"), None).await;
    let pat = user(db, "Pat", Some("p@example.com"), None).await;
    let tom = user(db, "Tom", Some("t@example.com"), None).await;
    let kim = user(db, "Kim", Some("k@example.com"), None).await;
    let names = [&olivia, &sara, &pat, &tom, &kim];
    let starts_at = now() + Duration::days(3);
    let event_id = reminded_event(
        db,
        &olivia,
        starts_at,
        &[
            rule("1d", "accepted"),
            rule("2h", "pending"),
            rule("30m", "tentative"),
        ],
    )
    .await;
    let to_sara = invite(db, event_id, &olivia, &sara).await;
    answer(db, &to_sara, Answer::Accept).await.unwrap();
    invite(db, event_id, &olivia, &pat).await;
    let to_tom = invite(db, event_id, &olivia, &tom).await;
    answer(db, &to_tom, Answer::Tentative).await.unwrap();
    let to_kim = invite(db, event_id, &olivia, &kim).await;
    answer(db, &to_kim, Answer::Reject).await.unwrap();

    let day_before = starts_at - Duration::days(1);
    assert!(due_at(db, day_before - Duration::seconds(1), &names)
        .await
        .is_empty());
    // The owner, who wrote the rules, is not reminded; Kim declined.
    assert_eq!(
        due_at(db, day_before, &names).await,
        [pair("Sara", "86400:accepted")]
    );
    assert_eq!(record_due(db, day_before).await, 1);
    assert!(due_at(db, day_before, &names).await.is_empty(), "once");

    let half_hour = starts_at - Duration::minutes(30);
    assert_eq!(
        due_at(db, half_hour, &names).await,
        [pair("Pat", "7200:pending"), pair("Tom", "1800:tentative")]
    );
    assert!(due_at(db, starts_at, &names).await.is_empty(), "it started");

    // The start moves a day later: due again at the new time, for the same people.
    let moved = starts_at + Duration::days(1);
    let owner = Actor {
        user: olivia.id,
        role: Role::Owner,
    };
    db.update(
        event_id,
        owner,
        &EventPatch {
            starts_at: Some(Some(moved)),
            ..EventPatch::default()
        },
        None,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(due_at(db, day_before, &names).await.is_empty());
    assert_eq!(
        due_at(db, moved - Duration::days(1), &names).await,
        [pair("Sara", "86400:accepted")]
    );
    // New rules replace the old ones.
    db.update(
        event_id,
        owner,
        &EventPatch {
            reminders: Some(Reminders::new(vec![rule("2d", "pending")]).unwrap()),
            ..EventPatch::default()
        },
        None,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        due_at(db, moved - Duration::days(1), &names).await,
        [pair("Pat", "172800:pending")]
    );

    // An event whose reminders fell due before anyone was in it: its people joined, answered
    // maybe or were invited after that, and the reminders are not theirs.
    let soon = reminded_event(
        db,
        &olivia,
        now() + Duration::hours(12),
        &[
            rule("1d", "accepted"),
            rule("1d", "tentative"),
            rule("1d", "pending"),
        ],
    )
    .await;
    let late_yes = invite(db, soon, &olivia, &kim).await;
    answer(db, &late_yes, Answer::Accept).await.unwrap();
    let late_maybe = invite(db, soon, &olivia, &tom).await;
    answer(db, &late_maybe, Answer::Tentative).await.unwrap();
    invite(db, soon, &olivia, &pat).await;
    assert!(due_at(db, now() + Duration::hours(1), &names)
        .await
        .is_empty());

    // Deleted: nothing is due any more, and what was read before records nothing.
    let read = db
        .due_reminders(moved - Duration::days(1), 100)
        .await
        .unwrap();
    assert!(!read.due.is_empty());
    db.delete(event_id, owner, now(), None).await.unwrap();
    assert!(due_at(db, moved - Duration::hours(1), &names)
        .await
        .is_empty());
    let late: Vec<SentReminder> = read
        .due
        .iter()
        .map(|d| SentReminder {
            event_id: d.event_id,
            rule: d.rule.key(),
            user: d.user,
            starts_at: moved,
            message: None,
        })
        .collect();
    assert_eq!(
        db.record_reminders(late, moved - Duration::days(1))
            .await
            .unwrap(),
        0
    );
}

async fn a_reminder_recorded_twice_counts_once_and_the_purge_takes_old_records(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let other = subject.second();
    let olivia = user(db, "Olivia", Some("o@example.com"), None).await;
    let starts_at = now() + Duration::days(3);
    let event_id = reminded_event(db, &olivia, starts_at, &[rule("1d", "pending")]).await;
    let mut people = Vec::new();
    for name in ["A", "B", "C"] {
        let person = user(db, name, Some(&format!("{name}@example.com")), None).await;
        invite(db, event_id, &olivia, &person).await;
        people.push(person);
    }
    let sent_for = |found: &domain::reminders::ports::DueBatch, starts_at| -> Vec<SentReminder> {
        found
            .due
            .iter()
            .map(|d| SentReminder {
                event_id: d.event_id,
                rule: d.rule.key(),
                user: d.user,
                starts_at,
                message: None,
            })
            .collect()
    };
    // Read, then the start moves a day later before they are recorded: none is recorded, for the
    // old start or the new one (not due yet).
    let early = starts_at - Duration::hours(23);
    let read = db.due_reminders(early, 10).await.unwrap();
    assert_eq!(read.due.len(), 3);
    let stale = starts_at;
    let starts_at = starts_at + Duration::days(1);
    let owner = domain::events::Actor {
        user: olivia.id,
        role: domain::events::Role::Owner,
    };
    db.update(
        event_id,
        owner,
        &domain::events::EventPatch {
            starts_at: Some(Some(starts_at)),
            ..domain::events::EventPatch::default()
        },
        None,
    )
    .await
    .unwrap()
    .unwrap();
    for start in [stale, starts_at] {
        let recorded = db.record_reminders(sent_for(&read, start), early).await;
        assert_eq!(recorded.unwrap(), 0);
    }

    let at = starts_at - Duration::hours(23);
    // Two workers read the same due reminders, then both record them: each counts once.
    let first = db.due_reminders(at, 10).await.unwrap();
    let second = other.due_reminders(at, 10).await.unwrap();
    assert_eq!(first.due.len(), 3);
    assert_eq!(second.due.len(), 3);
    let sent = |found: &domain::reminders::ports::DueBatch| sent_for(found, starts_at);
    let (a, b) = tokio::join!(
        db.record_reminders(sent(&first), at),
        other.record_reminders(sent(&second), at)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 3);
    assert!(db.due_reminders(at, 10).await.unwrap().due.is_empty());
    // The purge takes the records of a start that has passed, a batch at a time: never one that
    // could fall due again.
    assert_eq!(db.purge_reminders(starts_at, 10).await.unwrap(), 0);
    assert_eq!(
        db.purge_reminders(starts_at + Duration::seconds(1), 2)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        db.purge_reminders(starts_at + Duration::seconds(1), 10)
            .await
            .unwrap(),
        1
    );
}
