//! One-click links' contract (docs/api.md, "Answering from a message"), on the in-memory fake,
//! SQLite and PostgreSQL: a link is stored with the message that carries it, only when its
//! dispatch moves the position, and opens its invitation with the event as it stands; an unknown
//! digest opens nothing.

use domain::accounts::ports::NewUser;
use domain::accounts::ports::{TokenHash, UserRepository};
use domain::accounts::{Locale, User};
use domain::changes::{ChangeId, ChangeKind};
use domain::events::ports::{EventRepository, NewEvent};
use domain::events::EventDetails;
use domain::invitations::ports::InvitationRepository;
use domain::invitations::Invitation;
use domain::links::ports::InvitationLinks;
use domain::links::NewLink;
use domain::webhooks::delivery::{DeliveryTarget, NewDelivery};
use domain::webhooks::ports::DeliveryQueue;
use domain::{DeliveryId, Email, EventId, Text};

use crate::support::{contract, new_user, now, subject, Target};

/// Every port the cases use, of one store.
trait Ports:
    UserRepository + EventRepository + InvitationRepository + DeliveryQueue + InvitationLinks
{
}

impl<T> Ports for T where
    T: UserRepository
        + EventRepository
        + InvitationRepository
        + DeliveryQueue
        + InvitationLinks
        + ?Sized
{
}

subject!(Ports);

contract!(
    a_link_is_stored_with_its_message_and_opens_its_invitation,
    a_links_page_speaks_its_invitees_language_or_its_senders_while_held,
    a_dispatch_that_lost_the_race_stores_no_link,
    the_purge_takes_old_links_of_closed_invitations_only
);

async fn user(db: &dyn Ports, name: &str) -> User {
    user_in(db, name, Locale::En).await
}

async fn user_in(db: &dyn Ports, name: &str, locale: Locale) -> User {
    let email = format!("{}@example.com", name.to_lowercase());
    UserRepository::create(
        db,
        NewUser {
            locale,
            ..new_user(name, Some(&email), None)
        },
    )
    .await
    .unwrap()
}

async fn invitation(db: &dyn Ports) -> Invitation {
    let (olivia, sara) = (user(db, "Olivia").await, user(db, "Sara").await);
    invitation_between(db, &olivia, &sara, None).await
}

/// An invitation from `olivia` to `sara`, held for `held` when given.
async fn invitation_between(
    db: &dyn Ports,
    olivia: &User,
    sara: &User,
    held: Option<&str>,
) -> Invitation {
    let details = EventDetails::new(
        Text::from_stored("Launch".into()),
        None,
        Some(Text::from_stored("Rooftop".into())),
        None,
        None,
    )
    .unwrap();
    let event = EventRepository::create(
        db,
        NewEvent {
            id: EventId::generate(),
            details,
            owner: olivia.summary(),
            created_at: now(),
        },
    )
    .await
    .unwrap();
    let invitation = Invitation::new_pending(
        event.id,
        olivia.id,
        sara.id,
        format!("{}@example.com", sara.name.as_str().to_lowercase()),
        now(),
    )
    .held_for(held.map(str::to_owned));
    db.create_batch(std::slice::from_ref(&invitation))
        .await
        .unwrap();
    invitation
}

fn email_with_link(invitation: &Invitation, hash: &[u8]) -> NewDelivery {
    NewDelivery {
        id: DeliveryId::generate(),
        change_id: ChangeId(1),
        kind: ChangeKind::InvitationCreated,
        target: DeliveryTarget::Email(Email::parse("sara@example.com").unwrap()),
        payload: "hello".into(),
        created_at: now(),
        link: Some(NewLink {
            invitation_id: invitation.id(),
            hash: TokenHash(hash.to_vec()),
            created_at: now(),
        }),
    }
}

async fn a_link_is_stored_with_its_message_and_opens_its_invitation(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let invitation = invitation(db).await;
    let position = db.dispatch_position().await.unwrap();
    assert!(db
        .enqueue(
            position,
            ChangeId(position.0 + 1),
            vec![email_with_link(&invitation, &[7; 32])]
        )
        .await
        .unwrap());
    let found = db
        .find_link(&TokenHash(vec![7; 32]))
        .await
        .unwrap()
        .expect("the link opens its invitation");
    assert_eq!(found.details.invitation.id(), invitation.id());
    assert_eq!(found.details.sender.name.as_str(), "Olivia");
    assert_eq!(found.event.id, invitation.event_id());
    assert_eq!(found.event.details.title().as_str(), "Launch");
    assert_eq!(
        found.event.details.location().map(Text::as_str),
        Some("Rooftop")
    );
    assert!(db
        .find_link(&TokenHash(vec![8; 32]))
        .await
        .unwrap()
        .is_none());
}

async fn a_links_page_speaks_its_invitees_language_or_its_senders_while_held(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user_in(db, "Olivia", Locale::Fa).await;
    let sara = user(db, "Sara").await;
    // Tom only claims his address: an invitation to it waits for its proof.
    let tom = UserRepository::create(
        db,
        NewUser {
            proven: false,
            ..new_user("Tom", Some("tom@example.com"), None)
        },
    )
    .await
    .unwrap();
    let reza = user_in(db, "Reza", Locale::Fa).await;
    let cases = [
        (&sara, None, Locale::En, [1; 32]),
        (&reza, None, Locale::Fa, [2; 32]),
        (&tom, Some("tom@example.com"), Locale::Fa, [3; 32]),
    ];
    for (invitee, held, _, hash) in &cases {
        let invitation = invitation_between(db, &olivia, invitee, *held).await;
        let position = db.dispatch_position().await.unwrap();
        let next = ChangeId(position.0 + 1);
        let delivery = NewDelivery {
            change_id: next,
            ..email_with_link(&invitation, hash)
        };
        assert!(db.enqueue(position, next, vec![delivery]).await.unwrap());
    }
    for (invitee, _, locale, hash) in cases {
        let found = db
            .find_link(&TokenHash(hash.to_vec()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.locale, locale, "{}", invitee.name.as_str());
    }
}

async fn a_dispatch_that_lost_the_race_stores_no_link(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let invitation = invitation(db).await;
    let position = db.dispatch_position().await.unwrap();
    let stale = ChangeId(position.0 + 5);
    assert!(!db
        .enqueue(
            stale,
            ChangeId(stale.0 + 1),
            vec![email_with_link(&invitation, &[9; 32])]
        )
        .await
        .unwrap());
    assert!(db
        .find_link(&TokenHash(vec![9; 32]))
        .await
        .unwrap()
        .is_none());
}

async fn the_purge_takes_old_links_of_closed_invitations_only(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let open = invitation(db).await;
    let position = db.dispatch_position().await.unwrap();
    assert!(db
        .enqueue(
            position,
            ChangeId(position.0 + 1),
            vec![email_with_link(&open, &[3; 32])]
        )
        .await
        .unwrap());
    let later = now() + chrono::Duration::days(1);
    assert_eq!(
        db.purge_links(later, 100).await.unwrap(),
        0,
        "an open invitation's link stays"
    );

    let mut answered = open.clone();
    answered
        .answer(
            open.invitee_id(),
            None,
            domain::invitations::Reply::of(domain::Answer::Reject),
            &domain::rsvp::RsvpRules::default(),
            now() + chrono::Duration::minutes(1),
        )
        .unwrap();
    db.save_answer(&answered, None).await.unwrap();
    assert_eq!(db.purge_links(later, 100).await.unwrap(), 1);
    assert!(db
        .find_link(&TokenHash(vec![3; 32]))
        .await
        .unwrap()
        .is_none());
    assert_eq!(db.purge_links(later, 100).await.unwrap(), 0);
}
