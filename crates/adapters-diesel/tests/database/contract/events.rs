//! Events and their members: each event seen by its members only, lists paged newest first without
//! gaps or duplicates.

use super::*;

contract!(
    events_are_visible_to_their_members_only,
    event_lists_page_newest_first_without_gaps_or_duplicates,
    members_are_listed_newest_first_in_clean_pages
);

async fn events_are_visible_to_their_members_only(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let bob = user(db, "Bob", Some("bob@example.com"), None).await;
    let start = now() + Duration::days(3);
    let details = EventDetails::new(
        Text::from_stored("Launch".into()),
        Some(Text::from_stored(
            "Line one\nline two; DROP TABLE events; -- 'quoted' ✓".into(),
        )),
        Some(Text::from_stored("Tehran".into())),
        Some(start),
        Some(start + Duration::hours(2)),
    )
    .unwrap();
    let created = EventRepository::create(
        db,
        NewEvent {
            id: EventId::generate(),
            details: details.clone(),
            owner: ann.summary(),
            created_at: now(),
        },
    )
    .await
    .unwrap();

    let shown = db
        .find_for_member(created.id, ann.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown, created);
    assert_eq!(
        shown.details, details,
        "text and times are stored literally"
    );
    assert_eq!(shown.members_count, 1);
    assert_eq!(db.find_for_member(created.id, bob.id).await.unwrap(), None);
    assert_eq!(
        db.find_for_member(EventId::generate(), ann.id)
            .await
            .unwrap(),
        None
    );

    let members = db
        .list_members(created.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(members.items.len(), 1);
    assert_eq!(members.items[0].user.id, ann.id);
    assert_eq!(members.items[0].role, domain::events::Role::Owner);
    assert!(db
        .list_for_member(bob.id, PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
}

async fn event_lists_page_newest_first_without_gaps_or_duplicates(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(event(db, &ann).await);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let p = db.list_for_member(ann.id, page(3, after)).await.unwrap();
        seen.extend(p.items.iter().map(|e| e.event.id));
        match p.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

async fn members_are_listed_newest_first_in_clean_pages(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let event_id = event(db, &ann).await;
    let mut joined = vec![ann.id];
    for i in 0..4 {
        let guest = user(
            db,
            &format!("G{i}"),
            Some(&format!("g{i}@example.com")),
            None,
        )
        .await;
        let invitation = invite(db, event_id, &ann, &guest).await;
        answer(db, &invitation, Answer::Accept).await.unwrap();
        joined.push(guest.id);
    }
    joined.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let p = db.list_members(event_id, page(2, after)).await.unwrap();
        assert!(p.items.len() <= 2);
        seen.extend(p.items.iter().map(|m| m.user.id));
        match p.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, joined);
    assert_eq!(
        db.find_for_member(event_id, ann.id)
            .await
            .unwrap()
            .unwrap()
            .members_count,
        5
    );
    let listed = db
        .list_for_member(joined[0], PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        listed
            .iter()
            .map(|e| (e.event.id, e.event.members_count))
            .collect::<Vec<_>>(),
        [(event_id, 5)]
    );
}
