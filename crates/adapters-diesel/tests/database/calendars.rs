//! Calendars' contract (docs/api.md, "Calendars"), on the in-memory fake, SQLite and PostgreSQL:
//! an event's time zone is stored and read back; events are read by id; a person has at most one
//! feed, a new one replacing it; a feed holds the events its owner is a member of and those they
//! said "maybe" to.

use chrono::Duration;
use domain::accounts::ports::{TokenHash, UserRepository};
use domain::accounts::User;
use domain::calendars::ports::{CalendarEvents, CalendarFeeds};
use domain::calendars::PartStat;
use domain::events::ports::{EventRepository, NewEvent};
use domain::events::{EventDetails, TimeZone};
use domain::invitations::ports::InvitationRepository;
use domain::invitations::{Invitation, Reply};
use domain::rsvp::RsvpRules;
use domain::{Answer, EventId, Text};

use domain::changes::ports::ChangeFeed;
use domain::changes::{ChangeId, ChangeKind};
use domain::events::{Actor, EventPatch, Role};
use domain::messages::ports::Contacts;

use crate::support::{contract, new_user, now, subject, Target};

/// Every port the cases use, of one store.
trait Ports:
    UserRepository
    + EventRepository
    + InvitationRepository
    + CalendarEvents
    + CalendarFeeds
    + Contacts
    + ChangeFeed
{
}

impl<T> Ports for T where
    T: UserRepository
        + EventRepository
        + InvitationRepository
        + CalendarEvents
        + CalendarFeeds
        + Contacts
        + ChangeFeed
        + ?Sized
{
}

subject!(Ports);

contract!(
    an_events_time_zone_is_kept_and_events_are_read_by_id,
    one_feed_per_person_holding_their_events_and_maybes,
    people_are_reached_by_their_proven_contacts_and_moving_edits_are_marked
);

async fn user(db: &dyn Ports, name: &str) -> User {
    let email = format!("{}@example.com", name.to_lowercase());
    UserRepository::create(db, new_user(name, Some(&email), None))
        .await
        .unwrap()
}

async fn event(db: &dyn Ports, owner: &User, zone: &str, starts_in: Option<i64>) -> EventId {
    let details = EventDetails::new(
        Text::from_stored("Launch".into()),
        None,
        None,
        starts_in.map(|days| now() + Duration::days(days)),
        None,
    )
    .unwrap()
    .with_time_zone(TimeZone::parse(zone).unwrap());
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

async fn an_events_time_zone_is_kept_and_events_are_read_by_id(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let tehran = event(db, &olivia, "Asia/Tehran", Some(3)).await;
    let utc = event(db, &olivia, "UTC", None).await;
    let found = db
        .events_by_id(&[tehran, EventId::generate(), utc])
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    let zone = |id| {
        found
            .iter()
            .find(|e| e.id == id)
            .unwrap()
            .details
            .time_zone()
            .name()
    };
    assert_eq!((zone(tehran), zone(utc)), ("Asia/Tehran", "UTC"));
    let member = db
        .find_for_member(tehran, olivia.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.details.time_zone().name(), "Asia/Tehran");
}

async fn one_feed_per_person_holding_their_events_and_maybes(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (olivia, sara) = (user(db, "Olivia").await, user(db, "Sara").await);
    let first = TokenHash(vec![1; 32]);
    let second = TokenHash(vec![2; 32]);
    db.replace_feed(sara.id, &first, now()).await.unwrap();
    assert_eq!(db.feed_owner(&first).await.unwrap(), Some(sara.id));
    db.replace_feed(sara.id, &second, now()).await.unwrap();
    assert_eq!(db.feed_owner(&first).await.unwrap(), None, "replaced");
    assert_eq!(db.feed_owner(&second).await.unwrap(), Some(sara.id));

    let own = event(db, &sara, "UTC", Some(2)).await;
    let maybe = event(db, &olivia, "UTC", Some(4)).await;
    let pending = event(db, &olivia, "UTC", Some(6)).await;
    let timeless = event(db, &sara, "UTC", None).await;
    let invite = |event| {
        Invitation::new_pending(event, olivia.id, sara.id, "sara@example.com".into(), now())
    };
    let (to_maybe, to_pending) = (invite(maybe), invite(pending));
    db.create_batch(&[to_maybe.clone(), to_pending])
        .await
        .unwrap();
    let mut answered = to_maybe;
    answered
        .answer(
            sara.id,
            None,
            Reply::of(Answer::Tentative),
            &RsvpRules::default(),
            now(),
        )
        .unwrap();
    db.save_answer(&answered, None).await.unwrap();

    let feed = db
        .feed_events(sara.id, now() + Duration::minutes(1), 100)
        .await
        .unwrap();
    let got: Vec<(EventId, PartStat)> = feed.iter().map(|f| (f.event.id, f.partstat)).collect();
    assert_eq!(
        got,
        [(maybe, PartStat::Tentative), (own, PartStat::Accepted)]
    );
    assert!(!got.iter().any(|(id, _)| *id == timeless || *id == pending));
    let limited = db
        .feed_events(sara.id, now() + Duration::minutes(1), 1)
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);

    assert!(db.delete_feed(sara.id).await.unwrap());
    assert_eq!(db.feed_owner(&second).await.unwrap(), None);
    assert!(!db.delete_feed(sara.id).await.unwrap());
}

async fn people_are_reached_by_their_proven_contacts_and_moving_edits_are_marked(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let reached = db
        .reachable(&[olivia.id, domain::UserId::generate()])
        .await
        .unwrap();
    assert_eq!(reached.len(), 1, "unknown accounts are left out");
    assert_eq!(reached[0].name.as_str(), "Olivia");
    assert_eq!(
        reached[0].email.as_ref().map(|e| e.as_str()),
        olivia
            .email
            .as_ref()
            .filter(|_| olivia.email_verified_at.is_some())
            .map(|e| e.as_str()),
        "the email only when proven"
    );

    let event = event(db, &olivia, "UTC", Some(3)).await;
    let owner = Actor {
        user: olivia.id,
        role: Role::Owner,
    };
    for (patch, moved) in [
        (
            EventPatch {
                description: Some(Some(Text::from_stored("Snacks".into()))),
                ..EventPatch::default()
            },
            false,
        ),
        (
            EventPatch {
                location: Some(Some(Text::from_stored("Garden".into()))),
                ..EventPatch::default()
            },
            true,
        ),
        (
            EventPatch {
                time_zone: Some(TimeZone::parse("Asia/Tehran").unwrap()),
                quiet: true,
                ..EventPatch::default()
            },
            false,
        ),
    ] {
        db.update(event, owner, &patch, None)
            .await
            .unwrap()
            .unwrap();
        let last = db
            .list_for(olivia.id, ChangeId(0), 100)
            .await
            .unwrap()
            .changes
            .pop()
            .unwrap();
        assert_eq!(last.change.kind(), ChangeKind::EventUpdated);
        assert_eq!(last.change.notifies(), moved, "{patch:?}");
    }
}
