//! Roles, members and event edits through the services, over the in-memory fakes (and mocks where
//! a race must be staged): R1 widened to co-hosts, R6 after a removal, the role and removal rules.

use crate::invitations::{AnswerInvitationError, GetInvitationError, NotPending, Reply};
use crate::InvitationStatus;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::accounts::ports::{NewUser, PasswordHash, UserRepository};
use crate::accounts::UserSummary;
use crate::events::ports::MockEventRepository;
use crate::events::Membership;
use crate::invitations::{IgnoreReason, InvitationEntries};
use crate::invitations::{InvitationService, SendInvitations, SendInvitationsError};
use crate::testing::{FixedClock, Store, Wiring};
use crate::{Answer, Email, MemberId, PhoneRegion, Text};

struct Harness {
    store: Arc<Store>,
    events: EventService,
    invitations: InvitationService,
}

impl Harness {
    fn new() -> Self {
        let wiring = Wiring::default();
        Self {
            events: wiring.events(),
            invitations: wiring.invitations(),
            store: wiring.store,
        }
    }

    async fn user(&self, name: &str) -> User {
        let email = format!("{}@example.com", name.to_lowercase());
        UserRepository::create(
            &*self.store,
            NewUser {
                id: UserId::generate(),
                name: Text::from_stored(name.into()),
                email: Some(Email::parse(&email).unwrap()),
                mobile: None,
                password_hash: Some(PasswordHash("hash".into())),
                proven: true,
                locale: Default::default(),
                created_at: FixedClock::START,
            },
        )
        .await
        .unwrap()
    }

    async fn try_send(&self, sender: &User, event: EventId, to: &User) -> SendResult {
        let contact = to.email.as_ref().unwrap().as_str().to_owned();
        let entries = InvitationEntries::parse(&[contact], PhoneRegion::default()).unwrap();
        self.invitations
            .send(
                sender,
                SendInvitations {
                    event_id: event,
                    entries,
                    message: None,
                    expires_in: None,
                },
            )
            .await
            .map(|report| {
                (
                    report.sent.len(),
                    report.ignored.iter().map(|i| i.reason).collect(),
                )
            })
    }

    /// `owner` invites `user` to `event` and `user` accepts.
    async fn join(&self, owner: &User, event: EventId, user: &User) {
        let contact = user.email.as_ref().unwrap().as_str().to_owned();
        let entries = InvitationEntries::parse(&[contact], PhoneRegion::default()).unwrap();
        let report = self
            .invitations
            .send(
                owner,
                SendInvitations {
                    event_id: event,
                    entries,
                    message: None,
                    expires_in: None,
                },
            )
            .await
            .unwrap();
        let id = report.sent[0].invitation.id();
        self.invitations
            .answer(user, id, Reply::of(Answer::Accept), None)
            .await
            .unwrap();
    }

    /// The event's `members_count` and how many members it has.
    async fn count(&self, event: EventId) -> (u64, usize) {
        let members = self.store.members_of(event);
        let stored = self.store.find_for_member(event, members[0]).await;
        (stored.unwrap().unwrap().members_count, members.len())
    }
}

/// Sent invitations and ignore reasons of one send.
type SendResult = Result<(usize, Vec<IgnoreReason>), SendInvitationsError>;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
}

fn details(starts: Option<u32>, ends: Option<u32>) -> EventDetails {
    EventDetails::new(
        Text::from_stored("Launch party".into()),
        Some(Text::from_stored("Drinks".into())),
        Some(Text::from_stored("Roof".into())),
        starts.map(at),
        ends.map(at),
    )
    .unwrap()
}

/// Owner Olivia, co-host Carl, members Bob and Ben, stranger Sam; Olivia's event.
struct Party {
    h: Harness,
    olivia: User,
    carl: User,
    bob: User,
    ben: User,
    sam: User,
    event: EventId,
}

impl Party {
    async fn remove(&self, by: &User, target: UserId) -> Result<(), RemoveMemberError> {
        self.h.events.remove_member(by, self.event, target).await
    }
}

async fn party() -> Party {
    let h = Harness::new();
    let olivia = h.user("Olivia").await;
    let (carl, bob, ben, sam) = (
        h.user("Carl").await,
        h.user("Bob").await,
        h.user("Ben").await,
        h.user("Sam").await,
    );
    let event = h
        .events
        .create(&olivia, details(Some(18), Some(23)))
        .await
        .unwrap()
        .event
        .id;
    for user in [&carl, &bob, &ben] {
        h.join(&olivia, event, user).await;
    }
    h.events
        .change_role(&olivia, event, carl.id, Role::Cohost)
        .await
        .unwrap();
    Party {
        h,
        olivia,
        carl,
        bob,
        ben,
        sam,
        event,
    }
}

// ---- R1 widened

#[tokio::test]
async fn r1_a_cohost_sends_invitations_and_a_member_does_not() {
    let p = party().await;
    let dana = p.h.user("Dana").await;
    assert!(matches!(
        p.h.try_send(&p.bob, p.event, &dana).await,
        Err(SendInvitationsError::NotOwner)
    ));
    assert!(matches!(
        p.h.try_send(&p.carl, p.event, &dana).await,
        Ok((1, ref ignored)) if ignored.is_empty()
    ));
    let sent = p.h.store.invitations();
    let last = sent.last().unwrap();
    assert_eq!((last.sender_id(), last.invitee_id()), (p.carl.id, dana.id));
    assert!(matches!(
        p.h.try_send(&p.sam, p.event, &dana).await,
        Err(SendInvitationsError::EventNotFound)
    ));
}

#[tokio::test]
async fn r1_a_cohost_made_member_again_no_longer_sends() {
    let p = party().await;
    p.h.events
        .change_role(&p.olivia, p.event, p.carl.id, Role::Member)
        .await
        .unwrap();
    let dana = p.h.user("Dana").await;
    assert!(matches!(
        p.h.try_send(&p.carl, p.event, &dana).await,
        Err(SendInvitationsError::NotOwner)
    ));
}

#[tokio::test]
async fn r1_a_cohost_cannot_invite_themself_or_the_owner_who_are_members() {
    let p = party().await;
    assert!(matches!(
        p.h.try_send(&p.carl, p.event, &p.carl).await,
        Ok((0, ref ignored)) if ignored == &[IgnoreReason::SelfInvitation]
    ));
    assert!(matches!(
        p.h.try_send(&p.carl, p.event, &p.olivia).await,
        Ok((0, ref ignored)) if ignored == &[IgnoreReason::AlreadyMember]
    ));
}

// ---- roles

#[tokio::test]
async fn the_owner_makes_a_member_cohost_and_back() {
    let p = party().await;
    let member =
        p.h.events
            .change_role(&p.olivia, p.event, p.bob.id, Role::Cohost)
            .await
            .unwrap();
    assert_eq!((member.user.id, member.role), (p.bob.id, Role::Cohost));
    let back =
        p.h.events
            .change_role(&p.olivia, p.event, p.bob.id, Role::Member)
            .await
            .unwrap();
    assert_eq!(back.role, Role::Member);
    let unchanged =
        p.h.events
            .change_role(&p.olivia, p.event, p.bob.id, Role::Member)
            .await
            .unwrap();
    assert_eq!(unchanged, back);
}

#[tokio::test]
async fn only_the_owner_changes_roles_and_never_the_owners_own() {
    let p = party().await;
    let change = |by: User, target: UserId, to: Role| {
        let events = p.h.events.clone();
        let event = p.event;
        async move { events.change_role(&by, event, target, to).await }
    };
    assert!(matches!(
        change(p.olivia.clone(), p.olivia.id, Role::Member).await,
        Err(ChangeRoleError::OwnerRoleIsFixed)
    ));
    assert!(matches!(
        change(p.olivia.clone(), p.bob.id, Role::Owner).await,
        Err(ChangeRoleError::OwnerRoleIsFixed)
    ));
    assert!(matches!(
        change(p.carl.clone(), p.bob.id, Role::Cohost).await,
        Err(ChangeRoleError::NotOwner)
    ));
    assert!(matches!(
        change(p.bob.clone(), p.bob.id, Role::Cohost).await,
        Err(ChangeRoleError::NotOwner)
    ));
    assert!(matches!(
        change(p.sam.clone(), p.bob.id, Role::Cohost).await,
        Err(ChangeRoleError::EventNotFound)
    ));
    assert!(matches!(
        change(p.olivia.clone(), p.sam.id, Role::Cohost).await,
        Err(ChangeRoleError::MemberNotFound)
    ));
    let roles: Vec<_> =
        p.h.events
            .members(&p.olivia, p.event, PageRequest::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|m| (m.user.name.into_string(), m.role))
            .collect();
    assert_eq!(
        roles,
        [
            ("Ben".to_owned(), Role::Member),
            ("Bob".to_owned(), Role::Member),
            ("Carl".to_owned(), Role::Cohost),
            ("Olivia".to_owned(), Role::Owner),
        ]
    );
}

// ---- removing and leaving

#[tokio::test]
async fn the_owner_removes_cohosts_and_members_and_members_count_follows() {
    let p = party().await;
    assert_eq!(p.h.count(p.event).await, (4, 4));
    p.h.events
        .remove_member(&p.olivia, p.event, p.carl.id)
        .await
        .unwrap();
    p.h.events
        .remove_member(&p.olivia, p.event, p.bob.id)
        .await
        .unwrap();
    assert_eq!(p.h.count(p.event).await, (2, 2));
    assert_eq!(p.h.store.members_of(p.event), [p.olivia.id, p.ben.id]);
    assert!(matches!(
        p.h.events.get(&p.bob, p.event).await,
        Err(GetEventError::NotFound)
    ));
    assert!(matches!(
        p.h.events.remove_member(&p.olivia, p.event, p.bob.id).await,
        Err(RemoveMemberError::MemberNotFound)
    ));
}

#[tokio::test]
async fn a_cohost_removes_members_but_not_cohosts_or_the_owner() {
    let p = party().await;
    p.h.events
        .change_role(&p.olivia, p.event, p.ben.id, Role::Cohost)
        .await
        .unwrap();
    assert!(matches!(
        p.remove(&p.carl, p.ben.id).await,
        Err(RemoveMemberError::Forbidden)
    ));
    assert!(matches!(
        p.remove(&p.carl, p.olivia.id).await,
        Err(RemoveMemberError::Forbidden)
    ));
    assert!(matches!(
        p.remove(&p.carl, p.sam.id).await,
        Err(RemoveMemberError::MemberNotFound)
    ));
    p.remove(&p.carl, p.bob.id).await.unwrap();
    assert_eq!(p.h.count(p.event).await, (3, 3));
}

#[tokio::test]
async fn anyone_but_the_owner_leaves_and_members_remove_nobody_else() {
    let p = party().await;
    for target in [p.ben.id, p.carl.id, p.olivia.id, p.sam.id] {
        assert!(matches!(
            p.remove(&p.bob, target).await,
            Err(RemoveMemberError::Forbidden)
        ));
    }
    assert!(matches!(
        p.remove(&p.olivia, p.olivia.id).await,
        Err(RemoveMemberError::OwnerCannotLeave)
    ));
    assert!(matches!(
        p.remove(&p.sam, p.sam.id).await,
        Err(RemoveMemberError::EventNotFound)
    ));
    p.remove(&p.bob, p.bob.id).await.unwrap();
    p.remove(&p.carl, p.carl.id).await.unwrap();
    assert!(matches!(
        p.remove(&p.bob, p.bob.id).await,
        Err(RemoveMemberError::EventNotFound)
    ));
    assert_eq!(p.h.count(p.event).await, (2, 2));
}

#[tokio::test]
async fn r6_a_removed_member_may_be_invited_again_and_r8_still_applies() {
    let p = party().await;
    p.h.events
        .remove_member(&p.olivia, p.event, p.bob.id)
        .await
        .unwrap();
    assert!(matches!(
        p.h.try_send(&p.carl, p.event, &p.bob).await,
        Ok((1, ref ignored)) if ignored.is_empty()
    ));
    let again = p.h.store.invitations().last().unwrap().id();
    p.h.invitations
        .answer(&p.bob, again, Reply::of(Answer::Reject), None)
        .await
        .unwrap();
    assert!(matches!(
        p.h.try_send(&p.olivia, p.event, &p.bob).await,
        Ok((0, ref ignored)) if ignored == &[IgnoreReason::RejectedLastInvitation]
    ));
    // Ben leaves after accepting: his latest invitation was accepted, so he may come back.
    p.h.events
        .remove_member(&p.ben, p.event, p.ben.id)
        .await
        .unwrap();
    assert!(matches!(
        p.h.try_send(&p.olivia, p.event, &p.ben).await,
        Ok((1, _))
    ));
}

// ---- editing

#[tokio::test]
async fn owner_and_cohosts_edit_given_fields_and_clear_nulled_ones() {
    let p = party().await;
    let event =
        p.h.events
            .update(
                &p.carl,
                p.event,
                EventPatch {
                    title: Some(Text::from_stored("Renamed".into())),
                    location: Some(None),
                    ..EventPatch::default()
                },
                None,
            )
            .await
            .unwrap();
    assert_eq!(event.event.details.title().as_str(), "Renamed");
    assert_eq!(event.event.details.location(), None);
    assert_eq!(
        event.event.details.description().unwrap().as_str(),
        "Drinks"
    );
    assert_eq!(event.event.details.starts_at(), Some(at(18)));
    assert_eq!(
        p.h.events.get(&p.bob, p.event).await.unwrap().event,
        event.event
    );
    let unchanged =
        p.h.events
            .update(&p.olivia, p.event, EventPatch::default(), None)
            .await
            .unwrap();
    assert_eq!(unchanged.event, event.event);
}

#[tokio::test]
async fn an_edit_is_checked_on_the_merged_details() {
    let p = party().await;
    let late_start = EventPatch {
        starts_at: Some(Some(at(23) + chrono::Duration::minutes(1))),
        ..EventPatch::default()
    };
    assert!(matches!(
        p.h.events
            .update(&p.olivia, p.event, late_start.clone(), None)
            .await,
        Err(UpdateEventError::EndsBeforeStart)
    ));
    let moved = EventPatch {
        ends_at: Some(None),
        ..late_start
    };
    let event =
        p.h.events
            .update(&p.olivia, p.event, moved, None)
            .await
            .unwrap();
    assert_eq!(event.event.details.ends_at(), None);
}

#[tokio::test]
async fn members_may_not_edit_and_strangers_see_no_event() {
    let p = party().await;
    let patch = EventPatch {
        title: Some(Text::from_stored("Mine".into())),
        ..EventPatch::default()
    };
    assert!(matches!(
        p.h.events
            .update(&p.bob, p.event, patch.clone(), None)
            .await,
        Err(UpdateEventError::Forbidden)
    ));
    assert!(matches!(
        p.h.events
            .update(&p.sam, p.event, patch.clone(), None)
            .await,
        Err(UpdateEventError::NotFound)
    ));
    assert!(matches!(
        p.h.events
            .update(&p.olivia, EventId::generate(), patch, None)
            .await,
        Err(UpdateEventError::NotFound)
    ));
}

// ---- decisions on roles that changed meanwhile

fn summary(name: &str) -> UserSummary {
    UserSummary {
        id: UserId::generate(),
        name: Text::from_stored(name.into()),
    }
}

fn user_of(summary: &UserSummary) -> User {
    User::proven(
        summary.id,
        summary.name.clone(),
        None,
        None,
        FixedClock::START,
    )
}

fn seen_by(owner: &UserSummary, viewer: &UserSummary, role: Role) -> Membership {
    Membership {
        event: Event {
            id: EventId::generate(),
            details: details(None, None),
            owner: owner.clone(),
            members_count: 3,
            seats_taken: 0,
            created_at: FixedClock::START,
            version: crate::Version::FIRST,
        },
        user: viewer.id,
        role,
    }
}

fn member_of(summary: &UserSummary, role: Role) -> Member {
    Member {
        id: MemberId::generate(),
        user: summary.clone(),
        role,
        joined_at: FixedClock::START,
        guests: 0,
    }
}

#[tokio::test]
async fn a_removal_whose_target_became_cohost_meanwhile_is_decided_again_and_refused() {
    let (olivia, carl, bob) = (summary("Olivia"), summary("Carl"), summary("Bob"));
    let membership = seen_by(&olivia, &carl, Role::Cohost);
    let mut events = MockEventRepository::new();
    let seen = membership.clone();
    events
        .expect_find_membership()
        .times(2)
        .returning(move |_, _| Ok(Some(seen.clone())));
    let mut reads = vec![member_of(&bob, Role::Cohost), member_of(&bob, Role::Member)];
    events
        .expect_find_member()
        .times(2)
        .returning(move |_, _| Ok(reads.pop()));
    // The first decision (Bob a member: removable) reaches the store after Bob became co-host.
    events
        .expect_remove_member()
        .times(1)
        .withf(|_, by, _, role| by.role == Role::Cohost && *role == Role::Member)
        .returning(|_, _, _, _| Err(EventWriteError::Stale));
    let service = EventService::new(Arc::new(events), Arc::new(FixedClock::default()));
    let result = service
        .remove_member(&user_of(&carl), membership.event.id, bob.id)
        .await;
    assert!(matches!(result, Err(RemoveMemberError::Forbidden)));
}

#[tokio::test]
async fn a_change_that_keeps_losing_races_gives_up_as_unavailable() {
    let (olivia, bob) = (summary("Olivia"), summary("Bob"));
    let membership = seen_by(&olivia, &olivia, Role::Owner);
    let mut events = MockEventRepository::new();
    let seen = membership.clone();
    events
        .expect_find_membership()
        .returning(move |_, _| Ok(Some(seen.clone())));
    let target = member_of(&bob, Role::Member);
    events
        .expect_find_member()
        .returning(move |_, _| Ok(Some(target.clone())));
    events
        .expect_change_role()
        .times(ATTEMPTS)
        .returning(|_, _, _, _, _| Err(EventWriteError::Stale));
    let service = EventService::new(Arc::new(events), Arc::new(FixedClock::default()));
    let result = service
        .change_role(&user_of(&olivia), membership.event.id, bob.id, Role::Cohost)
        .await;
    assert!(matches!(
        result,
        Err(ChangeRoleError::Port(PortError::Unavailable(_)))
    ));
}

// ---- deleting

#[tokio::test]
async fn only_the_owner_deletes_and_pending_invitations_are_cancelled_first() {
    let p = party().await;
    let (dana, eve) = (p.h.user("Dana").await, p.h.user("Eve").await);
    assert!(matches!(
        p.h.try_send(&p.carl, p.event, &dana).await,
        Ok((1, _))
    ));
    assert!(matches!(
        p.h.try_send(&p.carl, p.event, &eve).await,
        Ok((1, _))
    ));
    let eves = p.h.store.invitations().last().unwrap().id();
    p.h.invitations
        .answer(&eve, eves, Reply::of(Answer::Reject), None)
        .await
        .unwrap();
    let other =
        p.h.events
            .create(&p.olivia, details(None, None))
            .await
            .unwrap()
            .event
            .id;
    assert!(matches!(
        p.h.try_send(&p.olivia, other, &dana).await,
        Ok((1, _))
    ));

    for by in [&p.carl, &p.bob] {
        assert!(matches!(
            p.h.events.delete(by, p.event, None).await,
            Err(DeleteEventError::NotOwner)
        ));
    }
    assert!(matches!(
        p.h.events.delete(&p.sam, p.event, None).await,
        Err(DeleteEventError::NotFound)
    ));
    // Dana's invitation was the one pending: cancelled, then gone with the event.
    assert_eq!(
        p.h.events.delete(&p.olivia, p.event, None).await.unwrap(),
        1
    );

    assert!(matches!(
        p.h.events.get(&p.bob, p.event).await,
        Err(GetEventError::NotFound)
    ));
    assert!(matches!(
        p.h.events.delete(&p.olivia, p.event, None).await,
        Err(DeleteEventError::NotFound)
    ));
    assert!(p.h.store.members_of(p.event).is_empty());
    assert!(matches!(
        p.h.try_send(&p.olivia, p.event, &dana).await,
        Err(SendInvitationsError::EventNotFound)
    ));
}

#[tokio::test]
async fn a_deleted_events_invitations_stay_readable_by_their_parties_as_cancelled() {
    let p = party().await;
    let dana = p.h.user("Dana").await;
    p.h.try_send(&p.carl, p.event, &dana).await.unwrap();
    let danas = p.h.store.invitations().last().unwrap().id();
    p.h.events.delete(&p.olivia, p.event, None).await.unwrap();

    // Dana, the invitee, and Carl, who sent it as a co-host, still read it: cancelled, of a
    // deleted event.
    for viewer in [&dana, &p.carl] {
        let seen = p.h.invitations.get(viewer, danas).await.unwrap();
        assert_eq!(seen.invitation.status(), InvitationStatus::Cancelled);
        assert!(seen.event_deleted.is_some());
        assert_eq!(seen.event_title.as_str(), "Launch party");
    }
    let sent =
        p.h.invitations
            .list_sent(
                &p.carl,
                crate::invitations::ports::InvitationFilter::default(),
                crate::PageRequest::default(),
            )
            .await
            .unwrap();
    assert_eq!(sent.items.len(), 1);
    let received =
        p.h.invitations
            .list_received(
                &dana,
                crate::invitations::ports::InvitationFilter::default(),
                crate::PageRequest::default(),
            )
            .await
            .unwrap();
    assert_eq!(received.items.len(), 1);
    // The owner, who did not send it, and the members see nothing of it any more.
    for viewer in [&p.olivia, &p.bob, &p.sam] {
        assert!(matches!(
            p.h.invitations.get(viewer, danas).await,
            Err(GetInvitationError::NotFound)
        ));
    }
    // It answers nothing any more.
    assert!(matches!(
        p.h.invitations
            .answer(&dana, danas, Reply::of(Answer::Accept), None)
            .await,
        Err(AnswerInvitationError::NotPending(NotPending::Cancelled))
    ));

    // The retention purge takes the event and its invitations.
    let later = FixedClock::START + chrono::Duration::days(1);
    assert_eq!(p.h.store.purge_deleted(later, 10).await.unwrap(), 1);
    assert!(p.h.store.invitations().is_empty());
    assert!(matches!(
        p.h.invitations.get(&dana, danas).await,
        Err(GetInvitationError::NotFound)
    ));
}

#[tokio::test]
async fn a_send_whose_event_was_deleted_meanwhile_is_event_not_found() {
    use crate::accounts::ports::MockUserRepository;
    use crate::invitations::ports::MockInvitationRepository;

    for deleted in [true, false] {
        let (olivia, bob) = (summary("Olivia"), summary("Bob"));
        let membership = seen_by(&olivia, &olivia, Role::Owner);
        let mut events = MockEventRepository::new();
        let mut reads = vec![None, Some(membership.clone())];
        if !deleted {
            reads[0] = Some(membership.clone());
        }
        events
            .expect_find_membership()
            .times(2)
            .returning(move |_, _| Ok(reads.pop().unwrap()));
        let mut users = MockUserRepository::new();
        let found = User {
            email: Some(Email::parse("bob@example.com").unwrap()),
            ..user_of(&bob)
        };
        users
            .expect_find_by_contacts()
            .returning(move |_, _| Ok(vec![found.clone()]));
        let mut invitations = MockInvitationRepository::new();
        invitations
            .expect_invitee_states()
            .returning(|_, _, _| Ok(Default::default()));
        // What the database answers when the event's row went before the batch's insert.
        invitations.expect_create_batch().returning(|_| {
            Err(PortError::unexpected(
                "FOREIGN KEY constraint failed: invitations.event_id",
            ))
        });
        let service = InvitationService::new(
            Arc::new(users),
            Arc::new(events),
            Arc::new(invitations),
            Arc::new(FixedClock::default()),
        );
        let entries = InvitationEntries::parse(&["bob@example.com"], PhoneRegion::default());
        let result = service
            .send(
                &user_of(&olivia),
                SendInvitations {
                    event_id: membership.event.id,
                    entries: entries.unwrap(),
                    message: None,
                    expires_in: None,
                },
            )
            .await;
        if deleted {
            assert!(matches!(result, Err(SendInvitationsError::EventNotFound)));
        } else {
            assert!(matches!(
                result,
                Err(SendInvitationsError::Port(PortError::Unexpected(_)))
            ));
        }
    }
}

// ---- versions (docs/api.md, "Conditional requests")

#[tokio::test]
async fn an_edit_moves_the_version_and_one_conditional_on_an_old_version_is_stale() {
    let p = party().await;
    let read = p.h.events.get(&p.carl, p.event).await.unwrap();
    assert_eq!(read.event.version, crate::Version::FIRST);
    let rename = |title: &str| EventPatch {
        title: Some(Text::from_stored(title.into())),
        ..EventPatch::default()
    };
    let edited =
        p.h.events
            .update(&p.carl, p.event, rename("First"), Some(read.event.version))
            .await
            .unwrap();
    assert_eq!(edited.event.version.get(), 2);
    let second =
        p.h.events
            .update(
                &p.olivia,
                p.event,
                rename("Second"),
                Some(read.event.version),
            )
            .await;
    assert!(matches!(second, Err(UpdateEventError::Stale)));
    let stored = p.h.events.get(&p.olivia, p.event).await.unwrap();
    assert_eq!(stored.event.details.title().as_str(), "First");
    assert_eq!(stored.event.version.get(), 2);
}

#[tokio::test]
async fn a_delete_conditional_on_an_old_version_is_stale_and_the_event_stays() {
    let p = party().await;
    let patch = EventPatch {
        location: Some(None),
        ..EventPatch::default()
    };
    p.h.events
        .update(&p.olivia, p.event, patch, None)
        .await
        .unwrap();
    let stale =
        p.h.events
            .delete(&p.olivia, p.event, Some(crate::Version::FIRST))
            .await;
    assert!(matches!(stale, Err(DeleteEventError::Stale)));
    assert!(p.h.events.get(&p.olivia, p.event).await.is_ok());
    p.h.events
        .delete(&p.olivia, p.event, Some(crate::Version::new(2)))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_version_mismatch_found_by_the_store_is_stale_and_not_decided_again() {
    let olivia = summary("Olivia");
    let membership = seen_by(&olivia, &olivia, Role::Owner);
    let mut events = MockEventRepository::new();
    let seen = membership.clone();
    events
        .expect_find_membership()
        .times(2)
        .returning(move |_, _| Ok(Some(seen.clone())));
    events
        .expect_update()
        .times(1)
        .withf(|_, _, _, expected| *expected == Some(crate::Version::FIRST))
        .returning(|_, _, _, _| Err(EventWriteError::Modified));
    events
        .expect_delete()
        .times(1)
        .returning(|_, _, _, _| Err(EventWriteError::Modified));
    let service = EventService::new(Arc::new(events), Arc::new(FixedClock::default()));
    let patch = EventPatch {
        location: Some(None),
        ..EventPatch::default()
    };
    let (owner, id, read) = (
        user_of(&olivia),
        membership.event.id,
        Some(crate::Version::FIRST),
    );
    assert!(matches!(
        service.update(&owner, id, patch, read).await,
        Err(UpdateEventError::Stale)
    ));
    assert!(matches!(
        service.delete(&owner, id, read).await,
        Err(DeleteEventError::Stale)
    ));
}

// ---- who is told of an event's changes

/// The kinds of changes `user` has received.
async fn kinds_for(h: &Harness, user: &User) -> Vec<&'static str> {
    use crate::changes::ports::ChangeFeed;
    h.store
        .list_for(user.id, crate::changes::ChangeId(0), 100)
        .await
        .unwrap()
        .changes
        .iter()
        .map(|c| c.change.kind().as_str())
        .collect()
}

#[tokio::test]
async fn event_changes_reach_members_and_invitees_with_live_invitations_and_nobody_else() {
    // Invitations that never expire, to an event without a start: they stay open whatever the
    // time the store writes the change at.
    let wiring = Wiring {
        ttl: crate::invitations::InvitationTtl::parse("0").unwrap(),
        ..Wiring::default()
    };
    let h = Harness {
        events: wiring.events(),
        invitations: wiring.invitations(),
        store: wiring.store,
    };
    let (olivia, bob, sam, ben, carl) = (
        h.user("Olivia").await,
        h.user("Bob").await,
        h.user("Sam").await,
        h.user("Ben").await,
        h.user("Carl").await,
    );
    let event = h
        .events
        .create(&olivia, details(None, None))
        .await
        .unwrap()
        .event
        .id;
    h.join(&olivia, event, &bob).await;
    assert_eq!(h.try_send(&olivia, event, &sam).await.unwrap().0, 1);
    assert_eq!(h.try_send(&olivia, event, &ben).await.unwrap().0, 1);
    let ben_invitation = h
        .store
        .invitations()
        .into_iter()
        .find(|i| i.event_id() == event && i.invitee_id() == ben.id)
        .unwrap()
        .id();
    h.invitations
        .answer(&ben, ben_invitation, Reply::of(Answer::Reject), None)
        .await
        .unwrap();
    h.events
        .update(
            &olivia,
            event,
            EventPatch {
                location: Some(Some(Text::from_stored("Isfahan".into()))),
                ..EventPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    let updated = |kinds: Vec<&'static str>| kinds.contains(&"event.updated");
    assert!(updated(kinds_for(&h, &bob).await), "a member");
    assert!(updated(kinds_for(&h, &sam).await), "a pending invitee");
    assert!(
        !updated(kinds_for(&h, &ben).await),
        "an invitee who declined"
    );
    assert!(!updated(kinds_for(&h, &carl).await), "a stranger");

    h.events.delete(&olivia, event, None).await.unwrap();
    let sam = kinds_for(&h, &sam).await;
    assert_eq!(
        &sam[sam.len() - 2..],
        ["invitation.cancelled", "event.deleted"]
    );
    assert!(!kinds_for(&h, &ben).await.contains(&"event.deleted"));
    assert!(kinds_for(&h, &bob).await.contains(&"event.deleted"));
}
