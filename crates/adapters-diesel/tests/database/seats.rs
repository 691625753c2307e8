//! Seats under races, on SQLite and PostgreSQL, with two pools on one database as two server
//! processes (docs/api.md, "Capacity and the waitlist"): many invitees accepting one event at once
//! take exactly its capacity and wait in line for the rest; seats freed while others accept and
//! parties grow never seat more than the capacity, and leave no waitlisted party that would fit.

use std::sync::Arc;

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::{Backend, Database};
use chrono::Duration;
use domain::accounts::ports::UserRepository;
use domain::accounts::User;
use domain::events::ports::{EventRepository, NewEvent};
use domain::events::{Actor, EventDetails, Role};
use domain::invitations::ports::{AnswerStored, InvitationRepository, SaveInvitationError};
use domain::invitations::{Invitation, Reply};
use domain::rsvp::{party, RsvpRules, RsvpSettings};
use domain::{Answer, EventId, InvitationStatus, PageRequest, Text};

use crate::support::{new_user, now, per_backend};

per_backend!(
    fifty_accepts_for_ten_seats_seat_exactly_ten,
    freed_seats_promotions_and_new_accepts_never_exceed_the_capacity,
    the_database_itself_refuses_more_seats_than_the_capacity
);

const ROUNDS: usize = 20;

fn two_pools(backend: Backend) -> Option<(TestDatabase, [Arc<Database>; 2])> {
    let database = TestDatabase::new(backend)?;
    let pools = [Arc::new(database.open()), Arc::new(database.open())];
    Some((database, pools))
}

async fn people(db: &Database, prefix: &str, n: usize) -> Vec<User> {
    let mut people = Vec::with_capacity(n);
    for i in 0..n {
        let email = format!("{prefix}{i}@example.com");
        people.push(
            UserRepository::create(db, new_user(&format!("{prefix}{i}"), Some(&email), None))
                .await
                .unwrap(),
        );
    }
    people
}

async fn seated_event(db: &Database, owner: &User, capacity: u32, max_guests: u8) -> EventId {
    let settings = RsvpSettings::new(Some(capacity), max_guests, true, None).unwrap();
    let details = EventDetails::new(Text::from_stored("Supper".into()), None, None, None, None)
        .unwrap()
        .with_rsvp(settings)
        .unwrap();
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

async fn invite_all(db: &Database, event: EventId, owner: &User, to: &[User]) -> Vec<Invitation> {
    let invitations: Vec<Invitation> = to
        .iter()
        .map(|u| Invitation::new_pending(event, owner.id, u.id, "contact".into(), now()))
        .collect();
    db.create_batch(&invitations).await.unwrap();
    invitations
}

fn accepting(
    db: &Arc<Database>,
    invitation: &Invitation,
    guests: u8,
) -> tokio::task::JoinHandle<Result<AnswerStored, SaveInvitationError>> {
    let (db, mut answered) = (db.clone(), invitation.clone());
    tokio::spawn(async move {
        let rules = RsvpRules {
            max_guests: RsvpSettings::MAX_GUESTS_MAX,
            ..RsvpRules::default()
        };
        let reply = Reply {
            answer: Answer::Accept,
            guests,
            comment: None,
        };
        let at = now() + Duration::minutes(1);
        answered
            .answer(answered.invitee_id(), None, reply, &rules, at)
            .unwrap();
        db.save_answer(&answered, None).await
    })
}

/// The seats the event's members take, counted from the member rows, and what the event says.
async fn recount(db: &Database, event: EventId, owner: &User) -> (u32, u32) {
    let members = db
        .list_members(event, PageRequest::default())
        .await
        .unwrap()
        .items;
    let counted = members
        .iter()
        .filter(|m| m.role != Role::Owner)
        .map(|m| party(m.guests))
        .sum();
    let stored = db
        .find_for_member(event, owner.id)
        .await
        .unwrap()
        .unwrap()
        .seats_taken;
    (counted, stored)
}

async fn fifty_accepts_for_ten_seats_seat_exactly_ten(backend: Backend) {
    let Some((_database, pools)) = two_pools(backend) else {
        return;
    };
    let owner = people(&pools[0], "owner", 1).await.remove(0);
    let guests = people(&pools[0], "guest", 50).await;
    for round in 0..ROUNDS {
        let event = seated_event(&pools[0], &owner, 10, 0).await;
        let invitations = invite_all(&pools[0], event, &owner, &guests).await;
        let answers: Vec<_> = invitations
            .iter()
            .enumerate()
            .map(|(i, invitation)| accepting(&pools[i % 2], invitation, 0))
            .collect();
        let mut seated = 0;
        let mut positions = Vec::new();
        for answer in answers {
            match answer.await.unwrap() {
                Ok(AnswerStored::AsAnswered) => seated += 1,
                Ok(AnswerStored::Waitlisted { position }) => positions.push(position),
                Err(error) => panic!("round {round}: {error:?}"),
            }
        }
        assert_eq!((seated, positions.len()), (10, 40), "round {round}");
        // Each waitlisted answer was told a place, and the places as stored are 1 to 40.
        let mut stored_positions = Vec::new();
        for invitation in &invitations {
            let found = pools[1].find(invitation.id()).await.unwrap().unwrap();
            if found.invitation.status() == InvitationStatus::Waitlisted {
                stored_positions.push(found.invitation.waitlist_position().unwrap());
            }
        }
        stored_positions.sort_unstable();
        assert_eq!(
            stored_positions,
            (1..=40).collect::<Vec<u32>>(),
            "round {round}"
        );
        assert_eq!(
            recount(&pools[1], event, &owner).await,
            (10, 10),
            "round {round}"
        );
        let tally = pools[1]
            .tally(&[event], now() + Duration::minutes(2))
            .await
            .unwrap()
            .remove(&event)
            .unwrap();
        assert_eq!(
            (tally.accepted, tally.waitlisted),
            (10, 40),
            "round {round}"
        );
    }
}

async fn freed_seats_promotions_and_new_accepts_never_exceed_the_capacity(backend: Backend) {
    let Some((_database, pools)) = two_pools(backend) else {
        return;
    };
    let everyone = people(&pools[0], "p", 6).await;
    let (owner, ann, dan, bea, cy, eve) = (
        &everyone[0],
        &everyone[1],
        &everyone[2],
        &everyone[3],
        &everyone[4],
        &everyone[5],
    );
    for round in 0..ROUNDS {
        // Three seats: Ann and a guest, Dan alone; Bea waits alone; Cy and Eve are invited.
        let event = seated_event(&pools[0], owner, 3, 1).await;
        let sent = invite_all(
            &pools[0],
            event,
            owner,
            &[
                ann.clone(),
                dan.clone(),
                bea.clone(),
                cy.clone(),
                eve.clone(),
            ],
        )
        .await;
        accepting(&pools[0], &sent[0], 1).await.unwrap().unwrap();
        accepting(&pools[0], &sent[1], 0).await.unwrap().unwrap();
        let waiting = accepting(&pools[0], &sent[2], 0).await.unwrap().unwrap();
        assert_eq!(waiting, AnswerStored::Waitlisted { position: 1 });

        // At once: Ann leaves (two seats free, Bea is promoted), Cy and Eve accept with a guest
        // each, and Dan brings a guest.
        let leaving = {
            let db = pools[round % 2].clone();
            let ann = ann.id;
            tokio::spawn(async move {
                let by = Actor {
                    user: ann,
                    role: Role::Member,
                };
                db.remove_member(event, by, ann, Role::Member).await
            })
        };
        let cy_accepts = accepting(&pools[(round + 1) % 2], &sent[3], 1);
        let eve_accepts = accepting(&pools[round % 2], &sent[4], 1);
        let growing = {
            let db = pools[(round + 1) % 2].clone();
            let dan = dan.id;
            tokio::spawn(async move {
                db.set_guests(event, dan, 1, now() + Duration::minutes(2))
                    .await
            })
        };
        leaving.await.unwrap().unwrap();
        for outcome in [cy_accepts.await.unwrap(), eve_accepts.await.unwrap()] {
            outcome.unwrap_or_else(|e| panic!("round {round}: {e:?}"));
        }
        // Growing may find the event full: that is the only refusal.
        if let Err(error) = growing.await.unwrap() {
            assert!(
                matches!(
                    error,
                    domain::events::ports::PartyError::Refused(domain::rsvp::RsvpRefused::Full)
                ),
                "round {round}: {error:?}"
            );
        }

        let (counted, stored) = recount(&pools[1], event, owner).await;
        assert_eq!(
            counted, stored,
            "round {round}: seats_taken counts the parties"
        );
        assert!(stored <= 3, "round {round}: {stored} seats of 3");
        // Bea, first in line with a party of one, is never left waiting for a seat that fits
        // her: promotion ran with the departure.
        let bea = pools[1].find(sent[2].id()).await.unwrap().unwrap();
        assert_eq!(
            bea.invitation.status(),
            InvitationStatus::Accepted,
            "round {round}"
        );
        // Whoever still waits does not fit in the seats left.
        for invitation in &sent[3..] {
            let found = pools[1].find(invitation.id()).await.unwrap().unwrap();
            if found.invitation.status() == InvitationStatus::Waitlisted {
                assert!(
                    party(found.invitation.guests()) > 3 - stored,
                    "round {round}: a party that fits is waiting"
                );
            }
        }
    }
}

/// The invariant is the database's too: the check `events_seats_within_capacity` refuses any write
/// that would take more seats than the capacity (or fewer than none), whatever wrote it.
async fn the_database_itself_refuses_more_seats_than_the_capacity(backend: Backend) {
    let Some((database, pools)) = two_pools(backend) else {
        return;
    };
    let owner = people(&pools[0], "owner", 1).await.remove(0);
    let event = seated_event(&pools[0], &owner, 2, 0).await;
    let mut session = database.session();
    let id = event.to_string();
    session.execute(&format!(
        "UPDATE events SET seats_taken = 2 WHERE id = '{id}'"
    ));
    for refused in [
        format!("UPDATE events SET seats_taken = 3 WHERE id = '{id}'"),
        format!("UPDATE events SET seats_taken = -1 WHERE id = '{id}'"),
        format!("UPDATE events SET capacity = 1 WHERE id = '{id}'"),
        format!("UPDATE events SET capacity = 0, seats_taken = 0 WHERE id = '{id}'"),
    ] {
        assert!(session.try_execute(&refused).is_err(), "{refused}");
    }
    drop(session);
    let stored = pools[1]
        .find_for_member(event, owner.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.seats_taken, 2);
}
