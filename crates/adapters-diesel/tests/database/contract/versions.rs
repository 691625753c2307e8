//! Row versions (docs/api.md, "Conditional requests"): every stored change of an event's details
//! or of an invitation moves its version up by one, and a write conditional on a version that is
//! no longer the stored one changes nothing and says so.

use domain::events::{Actor, EventPatch, Role};
use domain::invitations::InvitationState;
use domain::Version;

use super::*;

contract!(
    an_edit_moves_the_events_version_and_one_on_an_old_version_is_modified,
    a_delete_on_an_old_version_is_modified_and_the_event_stays,
    every_change_of_an_invitation_moves_its_version,
    an_answer_on_an_old_version_is_stale_and_stores_nothing
);

fn owner_of(user: &User) -> Actor {
    Actor {
        user: user.id,
        role: Role::Owner,
    }
}

fn retitled(title: &str) -> EventPatch {
    EventPatch {
        title: Some(Text::from_stored(title.into())),
        ..EventPatch::default()
    }
}

async fn an_edit_moves_the_events_version_and_one_on_an_old_version_is_modified(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let created = EventRepository::create(db, new_event(&ann)).await.unwrap();
    assert_eq!(created.version, Version::FIRST);

    let edited = db
        .update(
            created.id,
            owner_of(&ann),
            &retitled("One"),
            Some(Version::FIRST),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edited.version.get(), 2);
    let unconditional = db
        .update(created.id, owner_of(&ann), &retitled("Two"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unconditional.version.get(), 3);

    let stale = db
        .update(
            created.id,
            owner_of(&ann),
            &retitled("Lost"),
            Some(Version::new(2)),
        )
        .await;
    assert!(matches!(stale, Err(EventWriteError::Modified)), "{stale:?}");
    let stored = db
        .find_for_member(created.id, ann.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.details.title().as_str(), "Two");
    assert_eq!(stored.version.get(), 3);
}

async fn a_delete_on_an_old_version_is_modified_and_the_event_stays(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let bob = user(db, "Bob", Some("bob@example.com"), None).await;
    let id = event(db, &ann).await;
    let pending = invite(db, id, &ann, &bob).await;
    db.update(id, owner_of(&ann), &retitled("Moved"), None)
        .await
        .unwrap()
        .unwrap();

    let stale = db
        .delete(id, owner_of(&ann), now(), Some(Version::FIRST))
        .await;
    assert!(matches!(stale, Err(EventWriteError::Modified)), "{stale:?}");
    assert!(db.find_for_member(id, ann.id).await.unwrap().is_some());
    let invitation = db.find(pending.id()).await.unwrap().unwrap().invitation;
    assert_eq!(
        invitation.status(),
        InvitationStatus::Pending,
        "not cancelled"
    );

    assert_eq!(
        db.delete(id, owner_of(&ann), now(), Some(Version::new(2)))
            .await
            .unwrap(),
        1
    );
    assert_eq!(db.find_for_member(id, ann.id).await.unwrap(), None);
}

async fn every_change_of_an_invitation_moves_its_version(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let bob = user(db, "Bob", Some("bob@example.com"), None).await;
    let carol = user(db, "Carol", Some("carol@example.com"), None).await;
    let id = event(db, &ann).await;
    let version = |invitation: &Invitation| {
        let id = invitation.id();
        async move {
            db.find(id)
                .await
                .unwrap()
                .unwrap()
                .invitation
                .version()
                .get()
        }
    };

    let answered = invite(db, id, &ann, &bob).await;
    assert_eq!(version(&answered).await, 1);
    answer(db, &answered, Answer::Accept).await.unwrap();
    assert_eq!(version(&answered).await, 2);

    let cancelled = invite(db, id, &ann, &carol).await;
    let mut change = cancelled.clone();
    change
        .cancel(ann.id, Some(Role::Owner), now() + Duration::minutes(1))
        .unwrap();
    db.save_cancel(&change).await.unwrap();
    assert_eq!(version(&cancelled).await, 2);
}

async fn an_answer_on_an_old_version_is_stale_and_stores_nothing(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("ann@example.com"), None).await;
    let bob = user(db, "Bob", Some("bob@example.com"), None).await;
    let id = event(db, &ann).await;
    let invitation = invite(db, id, &ann, &bob).await;
    let at = now() + Duration::minutes(1);
    let mut resent = invitation.clone();
    resent
        .resend(
            ann.id,
            Some(Role::Owner),
            domain::invitations::InvitationTtl::parse("1h").unwrap(),
            &RsvpRules::default(),
            at,
        )
        .unwrap();
    db.save_resend(&resent, None).await.unwrap();

    let accepted = Invitation::restore(domain::invitations::StoredInvitation {
        state: InvitationState::Answered {
            answer: Answer::Accept,
            at: at + Duration::minutes(1),
        },
        ..invitation.to_stored()
    });
    let stale = db.save_answer(&accepted, Some(Version::FIRST)).await;
    assert!(
        matches!(stale, Err(SaveInvitationError::Stale)),
        "{stale:?}"
    );
    let stored = db.find(invitation.id()).await.unwrap().unwrap().invitation;
    assert_eq!(stored.status(), InvitationStatus::Pending);
    assert_eq!(stored.version().get(), 2);
    db.save_answer(&accepted, Some(Version::new(2)))
        .await
        .unwrap();
    let stored = db.find(invitation.id()).await.unwrap().unwrap().invitation;
    assert_eq!(stored.status(), InvitationStatus::Accepted);
    assert_eq!(stored.version().get(), 3);
}
