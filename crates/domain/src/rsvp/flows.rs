//! RSVP through the services, over the in-memory store (docs/api.md, "Capacity and the waitlist"
//! and "Answering: maybe, guests and comments"): the rules above as a user meets them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::accounts::User;
use crate::changes::ports::ChangeFeed;
use crate::changes::{ChangeId, ChangeKind, ChangeSubject};
use crate::events::{EventDetails, EventPatch, EventService};
use crate::invitations::{
    AnswerInvitationError, InvitationEntries, InvitationService, InvitationTtl, Reply,
    SendInvitations, SendInvitationsError,
};
use crate::rsvp::{RsvpRefused, RsvpSettings};
use crate::testing::{FixedClock, Store, Wiring};
use crate::webhooks::delivery::InvitationEmail;
use crate::{Answer, Email, EventId, InvitationId, InvitationStatus, PhoneRegion, Text};

struct Party {
    store: Arc<Store>,
    clock: Arc<FixedClock>,
    events: EventService,
    invitations: InvitationService,
    olivia: User,
    guests: Vec<User>,
    event: EventId,
}

async fn registered(store: &Store, name: &str) -> User {
    use crate::accounts::ports::{NewUser, PasswordHash, UserRepository};
    let email = Email::parse(&format!("{}@example.com", name.to_lowercase())).unwrap();
    UserRepository::create(
        store,
        NewUser {
            id: crate::UserId::generate(),
            name: Text::from_stored(name.into()),
            email: Some(email),
            mobile: None,
            password_hash: Some(PasswordHash("x".into())),
            proven: true,
            locale: Default::default(),
            created_at: FixedClock::START,
        },
    )
    .await
    .unwrap()
}

fn at(hours: i64) -> DateTime<Utc> {
    FixedClock::START + Duration::hours(hours)
}

/// Olivia's event with `capacity` seats, `max_guests`, a waitlist or not, answers closing at
/// `deadline`, starting at `start`; `n` people she can invite. Invitations live a week.
async fn party(
    capacity: Option<u32>,
    max_guests: u8,
    waitlist: bool,
    deadline: Option<DateTime<Utc>>,
    start: Option<DateTime<Utc>>,
    n: usize,
) -> Party {
    let wiring = Wiring {
        ttl: InvitationTtl::parse("7d").unwrap(),
        ..Wiring::default()
    };
    let (store, clock) = (wiring.store.clone(), wiring.clock.clone());
    let olivia = registered(&store, "Olivia").await;
    let mut guests = Vec::new();
    for i in 0..n {
        guests.push(registered(&store, &format!("Guest{i}")).await);
    }
    let events = wiring.events();
    let settings = RsvpSettings::new(capacity, max_guests, waitlist, deadline).unwrap();
    let details = EventDetails::new(Text::from_stored("Supper".into()), None, None, start, None)
        .unwrap()
        .with_rsvp(settings)
        .unwrap();
    let event = events.create(&olivia, details).await.unwrap().event.id;
    Party {
        store,
        clock,
        events,
        invitations: wiring.invitations(),
        olivia,
        guests,
        event,
    }
}

impl Party {
    async fn send(
        &self,
        to: &[&User],
        expires_in: Option<&str>,
    ) -> Result<Vec<InvitationId>, SendInvitationsError> {
        let emails: Vec<&str> = to
            .iter()
            .map(|u| u.email.as_ref().unwrap().as_str())
            .collect();
        let report = self
            .invitations
            .send(
                &self.olivia,
                SendInvitations {
                    event_id: self.event,
                    entries: InvitationEntries::parse(&emails, PhoneRegion::default()).unwrap(),
                    message: None,
                    expires_in: expires_in.map(|e| InvitationTtl::parse(e).unwrap()),
                },
            )
            .await?;
        assert!(report.ignored.is_empty(), "{:?}", report.ignored);
        Ok(report.sent.iter().map(|d| d.invitation.id()).collect())
    }

    /// Invites guest `i`; the invitation.
    async fn invite(&self, i: usize) -> InvitationId {
        self.send(&[&self.guests[i]], None).await.unwrap()[0]
    }

    async fn reply(
        &self,
        i: usize,
        id: InvitationId,
        answer: Answer,
        guests: u8,
    ) -> Result<crate::invitations::InvitationDetails, AnswerInvitationError> {
        self.invitations
            .answer(
                &self.guests[i],
                id,
                Reply {
                    answer,
                    guests,
                    comment: None,
                },
                None,
            )
            .await
    }

    /// Guest `i` is invited and accepts with `guests`; the invitation's status after.
    async fn accepts(&self, i: usize, guests: u8) -> (InvitationId, InvitationStatus) {
        let id = self.invite(i).await;
        let details = self.reply(i, id, Answer::Accept, guests).await.unwrap();
        (id, details.invitation.status())
    }

    async fn status(&self, id: InvitationId) -> (InvitationStatus, Option<u32>) {
        let details = self.invitations.get(&self.olivia, id).await.unwrap();
        (
            details.invitation.status(),
            details.invitation.waitlist_position(),
        )
    }

    async fn seats(&self) -> u32 {
        let view = self.events.get(&self.olivia, self.event).await.unwrap();
        view.tally.unwrap().seats_taken
    }

    /// Every change recorded, in order.
    async fn changes(&self) -> Vec<crate::changes::RecordedChange> {
        self.store
            .addressed_after(ChangeId(0), 1_000)
            .await
            .unwrap()
            .changes
            .into_iter()
            .map(|a| a.recorded)
            .collect()
    }
}

#[tokio::test]
async fn maybe_is_not_final_takes_no_seat_and_expires_like_a_pending_invitation() {
    let p = party(Some(2), 2, true, None, None, 2).await;
    let id = p.invite(0).await;
    let maybe = p.reply(0, id, Answer::Tentative, 2).await.unwrap();
    assert_eq!(maybe.invitation.status(), InvitationStatus::Tentative);
    assert_eq!(maybe.invitation.guests(), 2);
    assert_eq!(p.seats().await, 0, "maybe takes no seat");
    assert!(!p.store.members_of(p.event).contains(&p.guests[0].id));
    // Still answerable: yes after maybe.
    let yes = p.reply(0, id, Answer::Accept, 1).await.unwrap();
    assert_eq!(yes.invitation.status(), InvitationStatus::Accepted);
    assert_eq!(p.seats().await, 2);
    // A maybe expires with its invitation.
    let other = p.invite(1).await;
    p.reply(1, other, Answer::Tentative, 0).await.unwrap();
    p.clock.advance(Duration::days(8));
    assert_eq!(p.status(other).await.0, InvitationStatus::Expired);
    assert!(matches!(
        p.reply(1, other, Answer::Accept, 0).await,
        Err(AnswerInvitationError::NotPending(_))
    ));
}

#[tokio::test]
async fn declined_is_rejected_and_final_and_comments_reach_the_hosts() {
    let p = party(None, 0, true, None, None, 1).await;
    let id = p.invite(0).await;
    let reply = Reply {
        answer: Answer::parse("declined").unwrap(),
        guests: 0,
        comment: Some(Text::parse("Out of town, sorry!", 500, true).unwrap()),
    };
    p.invitations
        .answer(&p.guests[0], id, reply, None)
        .await
        .unwrap();
    let seen = p.invitations.get(&p.olivia, id).await.unwrap();
    assert_eq!(seen.invitation.status(), InvitationStatus::Rejected);
    assert_eq!(
        seen.invitation.comment().map(Text::as_str),
        Some("Out of town, sorry!")
    );
    assert!(matches!(
        p.reply(0, id, Answer::Accept, 0).await,
        Err(AnswerInvitationError::NotPending(_))
    ));
}

#[tokio::test]
async fn guests_are_bounded_by_the_events_max_guests() {
    let p = party(None, 1, true, None, None, 1).await;
    let id = p.invite(0).await;
    assert!(matches!(
        p.reply(0, id, Answer::Accept, 2).await,
        Err(AnswerInvitationError::Rsvp(RsvpRefused::TooManyGuests {
            max: 1
        }))
    ));
    assert_eq!(
        p.status(id).await.0,
        InvitationStatus::Pending,
        "nothing stored"
    );
}

#[tokio::test]
async fn a_full_event_waitlists_first_come_first_served_or_refuses_without_a_waitlist() {
    let p = party(Some(3), 2, true, None, None, 4).await;
    assert_eq!(p.accepts(0, 2).await.1, InvitationStatus::Accepted);
    let (second, status) = p.accepts(1, 1).await;
    assert_eq!(status, InvitationStatus::Waitlisted);
    let (third, _) = p.accepts(2, 0).await;
    assert_eq!(
        p.status(second).await,
        (InvitationStatus::Waitlisted, Some(1))
    );
    assert_eq!(
        p.status(third).await,
        (InvitationStatus::Waitlisted, Some(2))
    );
    let view = p.events.get(&p.olivia, p.event).await.unwrap();
    let tally = view.tally.unwrap();
    assert_eq!(
        (tally.seats_taken, tally.accepted, tally.waitlisted),
        (3, 1, 2)
    );

    let strict = party(Some(1), 0, false, None, None, 2).await;
    strict.accepts(0, 0).await;
    let id = strict.invite(1).await;
    assert!(matches!(
        strict.reply(1, id, Answer::Accept, 0).await,
        Err(AnswerInvitationError::Rsvp(RsvpRefused::Full))
    ));
    assert_eq!(strict.status(id).await.0, InvitationStatus::Pending);
}

#[tokio::test]
async fn a_freed_seat_promotes_the_first_party_that_fits_and_tells_them() {
    let p = party(Some(3), 2, true, None, None, 4).await;
    p.accepts(0, 2).await; // 3 seats: full
    let (big, _) = p.accepts(1, 2).await; // waits: a party of 3
    let (small, _) = p.accepts(2, 0).await; // waits: a party of 1
    let before = p.store.latest().await.unwrap();
    // Guest0 brings one guest less: one seat frees; the party of 3 does not fit and keeps its
    // place, the party of 1 is seated.
    p.events
        .change_party(&p.guests[0], p.event, 1)
        .await
        .unwrap();
    assert_eq!(p.status(small).await.0, InvitationStatus::Accepted);
    assert_eq!(p.status(big).await, (InvitationStatus::Waitlisted, Some(1)));
    assert_eq!(p.seats().await, 3);
    let promoted: Vec<_> = p
        .changes()
        .await
        .into_iter()
        .filter(|c| c.id > before)
        .collect();
    let accepted = promoted
        .iter()
        .find(|c| c.change.kind() == ChangeKind::InvitationAccepted)
        .expect("the promotion is a change");
    assert!(accepted.change.is_promoted());
    let ChangeSubject::Invitation(details) = accepted.change.subject() else {
        panic!("an invitation change");
    };
    assert_eq!(details.invitation.id(), small);
    assert!(promoted
        .iter()
        .any(|c| c.change.kind() == ChangeKind::MemberJoined));
    let email = InvitationEmail::of(accepted).expect("the promoted invitee is emailed");
    assert!(email.promoted);
    assert_eq!(email.to.as_str(), "guest2@example.com");

    // Guest0 leaves: 2 seats free, then 3 with... the party of 3 needs 3; 1 (small) + 0 left
    // after Guest0's 2 go: 3 - 1 = 2 free, still not enough for 3.
    p.events
        .remove_member(&p.guests[0], p.event, p.guests[0].id)
        .await
        .unwrap();
    assert_eq!(p.status(big).await.0, InvitationStatus::Waitlisted);
    // The capacity rises to 4: 3 free, the party of 3 is seated.
    p.events
        .update(
            &p.olivia,
            p.event,
            EventPatch {
                capacity: Some(Some(4)),
                ..EventPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(p.status(big).await.0, InvitationStatus::Accepted);
    assert_eq!(p.seats().await, 4);
}

#[tokio::test]
async fn the_capacity_never_goes_below_the_seats_taken() {
    let p = party(Some(3), 1, true, None, None, 1).await;
    p.accepts(0, 1).await;
    let lower = p
        .events
        .update(
            &p.olivia,
            p.event,
            EventPatch {
                capacity: Some(Some(1)),
                ..EventPatch::default()
            },
            None,
        )
        .await;
    assert!(matches!(
        lower,
        Err(crate::events::UpdateEventError::Rsvp(
            crate::events::EventDetailsError::CapacityBelowSeatsTaken { seats_taken: 2 }
        ))
    ));
}

#[tokio::test]
async fn a_waitlisted_invitee_may_withdraw_and_nobody_is_promoted_after_the_deadline() {
    let p = party(Some(1), 0, true, Some(at(48)), Some(at(72)), 3).await;
    let (first, _) = p.accepts(0, 0).await;
    let (second, _) = p.accepts(1, 0).await;
    let (third, _) = p.accepts(2, 0).await;
    // Withdrawing from the waitlist: a no.
    let withdrawn = p.reply(1, second, Answer::Reject, 0).await.unwrap();
    assert_eq!(withdrawn.invitation.status(), InvitationStatus::Rejected);
    assert_eq!(
        p.status(third).await,
        (InvitationStatus::Waitlisted, Some(1))
    );
    // Nothing but a no from the waitlist.
    assert!(matches!(
        p.reply(2, third, Answer::Tentative, 0).await,
        Err(AnswerInvitationError::NotPending(_))
    ));
    // After the deadline: no answers, and a freed seat stays free.
    p.clock.set(at(49));
    assert!(matches!(
        p.reply(2, third, Answer::Reject, 0).await,
        Err(AnswerInvitationError::Rsvp(RsvpRefused::Closed(closed))) if closed == at(48)
    ));
    p.events
        .remove_member(&p.guests[0], p.event, p.guests[0].id)
        .await
        .unwrap();
    assert_eq!(p.status(third).await.0, InvitationStatus::Waitlisted);
    assert_eq!(p.seats().await, 0);
    assert_eq!(p.status(first).await.0, InvitationStatus::Accepted);
}

#[tokio::test]
async fn answers_close_at_the_deadline_and_invitations_expire_by_then() {
    let p = party(None, 0, true, Some(at(10)), Some(at(20)), 2).await;
    // A week's TTL, but answers close in ten hours: that is when it expires.
    let id = p.invite(0).await;
    let details = p.invitations.get(&p.olivia, id).await.unwrap();
    assert_eq!(details.invitation.expires_at(), Some(at(10)));
    // `expires_in` shorter than the deadline wins.
    let short = p.send(&[&p.guests[1]], Some("2h")).await.unwrap()[0];
    let details = p.invitations.get(&p.olivia, short).await.unwrap();
    assert_eq!(details.invitation.expires_at(), Some(at(2)));
    p.clock.set(at(10));
    assert!(matches!(
        p.reply(0, id, Answer::Accept, 0).await,
        Err(AnswerInvitationError::Rsvp(RsvpRefused::Closed(closed))) if closed == at(10)
    ));
    assert!(matches!(
        p.send(&[&p.guests[1]], None).await,
        Err(SendInvitationsError::Closed(closed)) if closed == at(10)
    ));
}

#[tokio::test]
async fn moving_the_deadline_earlier_brings_open_invitations_expiry_with_it() {
    let p = party(None, 0, true, None, None, 1).await;
    let id = p.invite(0).await;
    p.events
        .update(
            &p.olivia,
            p.event,
            EventPatch {
                rsvp_deadline: Some(Some(at(5))),
                ..EventPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    let details = p.invitations.get(&p.olivia, id).await.unwrap();
    assert_eq!(details.invitation.expires_at(), Some(at(5)));
}

#[tokio::test]
async fn members_change_their_party_within_the_limits_and_the_owner_has_none() {
    let p = party(Some(4), 2, true, None, None, 2).await;
    p.accepts(0, 0).await;
    p.accepts(1, 1).await; // 3 of 4
    let before = p.store.latest().await.unwrap();
    let member = p
        .events
        .change_party(&p.guests[0], p.event, 1)
        .await
        .unwrap();
    assert_eq!(member.guests, 1);
    assert_eq!(p.seats().await, 4);
    let told: Vec<_> = p
        .changes()
        .await
        .into_iter()
        .filter(|c| c.id > before)
        .map(|c| c.change.kind())
        .collect();
    assert_eq!(
        told,
        [ChangeKind::MemberPartyChanged],
        "the hosts learn of it"
    );
    assert!(matches!(
        p.events.change_party(&p.guests[1], p.event, 2).await,
        Err(crate::events::ChangePartyError::Rsvp(RsvpRefused::Full))
    ));
    assert!(matches!(
        p.events.change_party(&p.guests[1], p.event, 3).await,
        Err(crate::events::ChangePartyError::Rsvp(
            RsvpRefused::TooManyGuests { max: 2 }
        ))
    ));
    assert!(matches!(
        p.events.change_party(&p.olivia, p.event, 1).await,
        Err(crate::events::ChangePartyError::Owner)
    ));
    // The accepted invitation says what the party is now.
    let mine = p
        .store
        .invitations()
        .into_iter()
        .find(|i| i.invitee_id() == p.guests[0].id)
        .unwrap();
    assert_eq!(mine.guests(), 1);
}

#[tokio::test]
async fn only_hosts_see_the_tally() {
    let p = party(Some(5), 0, true, None, None, 1).await;
    p.accepts(0, 0).await;
    let host = p.events.get(&p.olivia, p.event).await.unwrap();
    assert!(host.tally.is_some());
    let member = p.events.get(&p.guests[0], p.event).await.unwrap();
    assert_eq!(member.tally, None);
    let listed = p
        .events
        .list(&p.guests[0], crate::PageRequest::default())
        .await
        .unwrap();
    assert!(listed.items.iter().all(|v| v.tally.is_none()));
    let listed = p
        .events
        .list(&p.olivia, crate::PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items[0].tally.unwrap().seats_taken, 1);
}
