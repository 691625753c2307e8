//! What every store keeps of its rows: no row that refers to nothing (an account without any
//! contact is a row like another: it may lose its only contact to the account that proved it), and
//! times to the microsecond.

use super::*;

contract!(
    rows_that_refer_to_nothing_are_refused_and_an_account_may_have_no_contact,
    times_are_kept_to_the_microsecond
);

async fn rows_that_refer_to_nothing_are_refused_and_an_account_may_have_no_contact(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("a@example.com"), None).await;
    let ghost = User {
        id: UserId::generate(),
        ..ann.clone()
    };
    let event_id = event(db, &ann).await;

    // Only proven contacts are unique, and an account may be left with none: every store keeps
    // such an account as it keeps any other.
    let nobody = UserRepository::create(db, new_user("Nobody", None, None))
        .await
        .unwrap();
    let found = db.find_by_id(nobody.id).await.unwrap().unwrap();
    assert_eq!((found.email, found.mobile), (None, None));
    assert!(
        EventRepository::create(db, new_event(&ghost))
            .await
            .is_err(),
        "an event of an unknown owner"
    );
    let token = NewToken {
        hash: RandomTokenIssuer.issue().hash,
        user_id: ghost.id,
        created_at: now(),
        expires_at: now() + Duration::days(1),
    };
    assert!(db.store(token).await.is_err(), "a token of an unknown user");

    let bob = user(db, "Bob", Some("b@example.com"), None).await;
    let batch = [
        Invitation::new_pending(event_id, ann.id, bob.id, "b@example.com".into(), now()),
        Invitation::new_pending(
            EventId::generate(),
            ann.id,
            bob.id,
            "b@example.com".into(),
            now(),
        ),
    ];
    assert!(
        db.create_batch(&batch).await.is_err(),
        "an invitation to an unknown event"
    );
    let ghostly = [Invitation::new_pending(
        event_id,
        ann.id,
        ghost.id,
        "g@example.com".into(),
        now(),
    )];
    assert!(
        db.create_batch(&ghostly).await.is_err(),
        "an invitation to an unknown user"
    );
    let all = InvitationFilter::default();
    assert!(
        db.list_sent(ann.id, all, PageRequest::default(), now())
            .await
            .unwrap()
            .items
            .is_empty(),
        "a batch is all or nothing"
    );
    assert_eq!(
        db.invitee_states(event_id, &[bob.id], now())
            .await
            .unwrap()
            .get(&bob.id),
        None
    );
}

async fn times_are_kept_to_the_microsecond(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let precise = now() + Duration::nanoseconds(123_456_789);
    let kept = now() + Duration::microseconds(123_456);
    let created = UserRepository::create(
        db,
        NewUser {
            created_at: precise,
            ..new_user("Ann", Some("a@example.com"), None)
        },
    )
    .await
    .unwrap();
    assert_eq!(created.created_at, kept);
    let login = Login::Email(Email::parse("a@example.com").unwrap());
    assert_eq!(
        db.find_credentials(&login).await.unwrap()[0].0.created_at,
        kept
    );

    let details = EventDetails::new(
        Text::from_stored("Party".into()),
        None,
        None,
        Some(precise),
        Some(precise),
    )
    .unwrap();
    let event = EventRepository::create(
        db,
        NewEvent {
            details,
            created_at: precise,
            ..new_event(&created)
        },
    )
    .await
    .unwrap();
    let found = db
        .find_for_member(event.id, created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, event);
    assert_eq!(
        (
            found.created_at,
            found.details.starts_at(),
            found.details.ends_at()
        ),
        (kept, Some(kept), Some(kept))
    );
    let members = db
        .list_members(event.id, PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(members[0].joined_at, kept);
}
