//! RSVP's part of the contract (docs/api.md, "Capacity and the waitlist"): an accepted party is
//! seated while it fits, else waitlisted in order; seats are counted with every write that seats
//! or unseats a party; freed seats promote the waitlist in the same write, first come first
//! served; the capacity never goes below the seats taken; hosts' tallies count by status.

use domain::events::{Actor, EventDetailsError, EventPatch, Role};
use domain::rsvp::Tally;

use super::*;

/// An event of `owner`'s with `capacity` seats, up to `max_guests` each, a waitlist or not.
async fn rsvp_event(
    db: &dyn Repositories,
    owner: &User,
    capacity: Option<u32>,
    max_guests: u8,
    waitlist: bool,
) -> EventId {
    let settings = RsvpSettings::new(capacity, max_guests, waitlist, None).unwrap();
    let mut new = new_event(owner);
    new.details = new.details.with_rsvp(settings).unwrap();
    EventRepository::create(db, new).await.unwrap().id
}

async fn people(db: &dyn Repositories, n: usize) -> Vec<User> {
    let mut people = Vec::new();
    for i in 0..n {
        people.push(
            user(
                db,
                &format!("P{i}"),
                Some(&format!("p{i}@example.com")),
                None,
            )
            .await,
        );
    }
    people
}

/// `who` is invited by `owner` and accepts with `guests`.
async fn accept_with(
    db: &dyn Repositories,
    event_id: EventId,
    owner: &User,
    who: &User,
    guests: u8,
) -> (Invitation, Result<AnswerStored, SaveInvitationError>) {
    let invitation = invite(db, event_id, owner, who).await;
    let stored = reply(
        db,
        &invitation,
        Reply {
            answer: Answer::Accept,
            guests,
            comment: None,
        },
    )
    .await;
    (invitation, stored)
}

async fn tally(db: &dyn Repositories, event_id: EventId) -> Tally {
    db.tally(&[event_id], now() + Duration::minutes(2))
        .await
        .unwrap()
        .remove(&event_id)
        .unwrap()
}

async fn status(db: &dyn Repositories, invitation: &Invitation) -> (InvitationStatus, Option<u32>) {
    let details = db.find(invitation.id()).await.unwrap().unwrap();
    (
        details.invitation.status(),
        details.invitation.waitlist_position(),
    )
}

contract!(
    an_accepted_party_is_seated_while_it_fits_then_waitlisted_in_order,
    a_full_event_without_a_waitlist_refuses_and_stores_nothing,
    a_departure_promotes_the_first_waitlisted_party_that_fits,
    a_smaller_party_frees_seats_and_a_larger_one_must_fit,
    a_higher_capacity_promotes_and_a_lower_one_may_not_unseat_anyone,
    a_waitlisted_invitee_withdraws_with_a_no,
    an_erased_accounts_waitlisted_invitation_is_withdrawn_but_a_cancel_never_beats_an_answer,
    hosts_tallies_count_invitations_by_status_as_of_now,
);

async fn an_accepted_party_is_seated_while_it_fits_then_waitlisted_in_order(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let owner = user(db, "Olivia", Some("o@example.com"), None).await;
    let p = people(db, 3).await;
    let party = rsvp_event(db, &owner, Some(3), 2, true).await;
    let (_, first) = accept_with(db, party, &owner, &p[0], 1).await;
    assert_eq!(first.unwrap(), AnswerStored::AsAnswered);
    let (second, stored) = accept_with(db, party, &owner, &p[1], 1).await;
    assert_eq!(stored.unwrap(), AnswerStored::Waitlisted { position: 1 });
    let (third, stored) = accept_with(db, party, &owner, &p[2], 0).await;
    // One seat is left, and a party of one fits: seated, though others wait for two.
    assert_eq!(stored.unwrap(), AnswerStored::AsAnswered);
    assert_eq!(
        status(db, &second).await,
        (InvitationStatus::Waitlisted, Some(1))
    );
    assert_eq!(status(db, &third).await, (InvitationStatus::Accepted, None));
    let t = tally(db, party).await;
    assert_eq!((t.seats_taken, t.accepted, t.waitlisted), (3, 2, 1));
    let members = db.list_members(party, page(10, None)).await.unwrap().items;
    let guests: Vec<u8> = members.iter().map(|m| m.guests).collect();
    assert_eq!(guests, [0, 1, 0], "newest first: P2, P0, the owner");
}

async fn a_full_event_without_a_waitlist_refuses_and_stores_nothing(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let owner = user(db, "Olivia", Some("o@example.com"), None).await;
    let p = people(db, 2).await;
    let party = rsvp_event(db, &owner, Some(1), 0, false).await;
    accept_with(db, party, &owner, &p[0], 0).await.1.unwrap();
    let (late, stored) = accept_with(db, party, &owner, &p[1], 0).await;
    assert!(matches!(
        stored,
        Err(SaveInvitationError::Refused(
            domain::rsvp::RsvpRefused::Full
        ))
    ));
    assert_eq!(status(db, &late).await.0, InvitationStatus::Pending);
    assert_eq!(tally(db, party).await.seats_taken, 1);
}

async fn a_departure_promotes_the_first_waitlisted_party_that_fits(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let owner = user(db, "Olivia", Some("o@example.com"), None).await;
    let p = people(db, 4).await;
    let party = rsvp_event(db, &owner, Some(2), 2, true).await;
    accept_with(db, party, &owner, &p[0], 0).await.1.unwrap();
    accept_with(db, party, &owner, &p[1], 0).await.1.unwrap();
    let (big, _) = accept_with(db, party, &owner, &p[2], 2).await;
    let (small, _) = accept_with(db, party, &owner, &p[3], 0).await;
    assert_eq!(
        status(db, &small).await,
        (InvitationStatus::Waitlisted, Some(2))
    );
    // P0 leaves: one seat; the party of three keeps its place, the party of one is seated.
    db.remove_member(
        party,
        Actor {
            user: p[0].id,
            role: Role::Member,
        },
        p[0].id,
        Role::Member,
    )
    .await
    .unwrap();
    assert_eq!(status(db, &small).await.0, InvitationStatus::Accepted);
    assert_eq!(
        status(db, &big).await,
        (InvitationStatus::Waitlisted, Some(1))
    );
    assert!(db.find_member(party, p[3].id).await.unwrap().is_some());
    let t = tally(db, party).await;
    assert_eq!((t.seats_taken, t.waitlisted), (2, 1));
    let counted = db
        .find_for_member(party, owner.id)
        .await
        .unwrap()
        .unwrap()
        .members_count;
    assert_eq!(counted, 3, "the owner, P1 and P3");
}

async fn a_smaller_party_frees_seats_and_a_larger_one_must_fit(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let owner = user(db, "Olivia", Some("o@example.com"), None).await;
    let p = people(db, 2).await;
    let party = rsvp_event(db, &owner, Some(3), 2, true).await;
    let (mine, _) = accept_with(db, party, &owner, &p[0], 2).await;
    let (waiting, _) = accept_with(db, party, &owner, &p[1], 0).await;
    let at = now() + Duration::minutes(2);
    assert!(matches!(
        db.set_guests(party, p[0].id, 3, at).await,
        Err(PartyError::Refused(
            domain::rsvp::RsvpRefused::TooManyGuests { max: 2 }
        ))
    ));
    let member = db.set_guests(party, p[0].id, 1, at).await.unwrap();
    assert_eq!(member.guests, 1);
    assert_eq!(status(db, &waiting).await.0, InvitationStatus::Accepted);
    let details = db.find(mine.id()).await.unwrap().unwrap();
    assert_eq!(
        details.invitation.guests(),
        1,
        "the invitation says the party"
    );
    assert!(matches!(
        db.set_guests(party, p[0].id, 2, at).await,
        Err(PartyError::Refused(domain::rsvp::RsvpRefused::Full))
    ));
    assert!(matches!(
        db.set_guests(party, owner.id, 1, at).await,
        Err(PartyError::Owner)
    ));
    let stranger = user(db, "Sam", Some("s@example.com"), None).await;
    assert!(matches!(
        db.set_guests(party, stranger.id, 1, at).await,
        Err(PartyError::NotMember)
    ));
    assert_eq!(tally(db, party).await.seats_taken, 3);
}

async fn a_higher_capacity_promotes_and_a_lower_one_may_not_unseat_anyone(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let owner = user(db, "Olivia", Some("o@example.com"), None).await;
    let p = people(db, 2).await;
    let party = rsvp_event(db, &owner, Some(1), 0, true).await;
    accept_with(db, party, &owner, &p[0], 0).await.1.unwrap();
    let (waiting, _) = accept_with(db, party, &owner, &p[1], 0).await;
    let by = Actor {
        user: owner.id,
        role: Role::Owner,
    };
    let to = |capacity| EventPatch {
        capacity: Some(capacity),
        ..EventPatch::default()
    };
    let refused = db.update(party, by, &to(Some(1)), None).await.unwrap();
    assert!(refused.is_ok(), "the same capacity stays");
    db.update(party, by, &to(Some(2)), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status(db, &waiting).await.0, InvitationStatus::Accepted);
    assert_eq!(
        db.update(party, by, &to(Some(1)), None).await.unwrap(),
        Err(EventDetailsError::CapacityBelowSeatsTaken { seats_taken: 2 })
    );
    let unlimited = db
        .update(party, by, &to(None), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unlimited.details.rsvp().capacity(), None);
    assert_eq!(unlimited.seats_taken, 2);
}

async fn a_waitlisted_invitee_withdraws_with_a_no(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let owner = user(db, "Olivia", Some("o@example.com"), None).await;
    let p = people(db, 2).await;
    let party = rsvp_event(db, &owner, Some(1), 0, true).await;
    accept_with(db, party, &owner, &p[0], 0).await.1.unwrap();
    let (waiting, _) = accept_with(db, party, &owner, &p[1], 0).await;
    let mut withdrawn = db.find(waiting.id()).await.unwrap().unwrap().invitation;
    withdrawn
        .answer(
            p[1].id,
            None,
            Reply::of(Answer::Reject),
            &RsvpRules::default(),
            now() + Duration::minutes(3),
        )
        .unwrap();
    assert_eq!(
        db.save_answer(&withdrawn, None).await.unwrap(),
        AnswerStored::AsAnswered
    );
    assert_eq!(status(db, &waiting).await.0, InvitationStatus::Rejected);
    assert_eq!(tally(db, party).await.waitlisted, 0);
}

async fn hosts_tallies_count_invitations_by_status_as_of_now(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let owner = user(db, "Olivia", Some("o@example.com"), None).await;
    let p = people(db, 5).await;
    let party = rsvp_event(db, &owner, Some(1), 0, true).await;
    accept_with(db, party, &owner, &p[0], 0).await.1.unwrap();
    accept_with(db, party, &owner, &p[1], 0).await.1.unwrap();
    let hour = |who: &User| {
        Invitation::new_pending(party, owner.id, who.id, "contact".into(), now()).expiring(
            domain::invitations::InvitationTtl::parse("1h").unwrap(),
            &RsvpRules::default(),
        )
    };
    let (maybe, waiting) = (hour(&p[2]), hour(&p[4]));
    db.create_batch(&[maybe.clone(), waiting]).await.unwrap();
    reply(db, &maybe, Reply::of(Answer::Tentative))
        .await
        .unwrap();
    let no = invite(db, party, &owner, &p[3]).await;
    answer(db, &no, Answer::Reject).await.unwrap();
    let t = tally(db, party).await;
    assert_eq!(
        t,
        Tally {
            seats_taken: 1,
            pending: 1,
            tentative: 1,
            accepted: 1,
            waitlisted: 1,
            rejected: 1,
        }
    );
    // Later the pending and the "maybe" invitation (an hour's time to live) are expired.
    let later = db
        .tally(&[party], now() + Duration::days(30))
        .await
        .unwrap()
        .remove(&party)
        .unwrap();
    assert_eq!((later.pending, later.tentative, later.accepted), (0, 0, 1));
}

async fn an_erased_accounts_waitlisted_invitation_is_withdrawn_but_a_cancel_never_beats_an_answer(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let owner = user(db, "Olivia", Some("o@example.com"), None).await;
    let p = people(db, 3).await;
    let party = rsvp_event(db, &owner, Some(1), 0, true).await;
    accept_with(db, party, &owner, &p[0], 0).await.1.unwrap();
    // Decided on the pending invitation; meanwhile its invitee accepted and waits for a seat.
    let invitation = invite(db, party, &owner, &p[1]).await;
    let mut cancelled = invitation.clone();
    cancelled
        .cancel(owner.id, Some(Role::Owner), now() + Duration::minutes(2))
        .unwrap();
    reply(db, &invitation, Reply::of(Answer::Accept))
        .await
        .unwrap();
    assert!(matches!(
        db.save_cancel(&cancelled).await,
        Err(SaveInvitationError::NotPending(NotPending::Answered))
    ));
    assert_eq!(
        status(db, &invitation).await.0,
        InvitationStatus::Waitlisted
    );
    // Its account erased: the waitlisted invitation is withdrawn.
    let mut withdrawn = db.find(invitation.id()).await.unwrap().unwrap().invitation;
    withdrawn.withdraw(now() + Duration::minutes(3));
    db.save_cancel(&withdrawn).await.unwrap();
    assert_eq!(status(db, &invitation).await.0, InvitationStatus::Cancelled);
    assert_eq!(tally(db, party).await.waitlisted, 0);
    // A withdrawal decided on a waitlisted invitation that was promoted meanwhile is refused.
    let (third, _) = accept_with(db, party, &owner, &p[2], 0).await;
    let mut late = db.find(third.id()).await.unwrap().unwrap().invitation;
    late.withdraw(now() + Duration::minutes(4));
    db.set_guests(party, p[0].id, 0, now() + Duration::minutes(4))
        .await
        .unwrap();
    db.remove_member(
        party,
        Actor {
            user: p[0].id,
            role: Role::Member,
        },
        p[0].id,
        Role::Member,
    )
    .await
    .unwrap();
    assert_eq!(status(db, &third).await.0, InvitationStatus::Accepted);
    assert!(matches!(
        db.save_cancel(&late).await,
        Err(SaveInvitationError::NotPending(NotPending::Answered))
    ));
}
