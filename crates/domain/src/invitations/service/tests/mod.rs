//! The invitation lifecycle through the service, over the in-memory store and a moving clock:
//! expiry, cancel, resend, the note and the event's own list (docs/api.md, "Invitation
//! lifecycle").

mod rules;

use crate::Answer;
use std::sync::Arc;

use chrono::Duration;

use super::*;
use crate::events::EventDetails;
use crate::events::EventService;
use crate::invitations::ports::{InvitationFilter, MockInvitationRepository};
use crate::invitations::GetInvitationError;
use crate::invitations::InvitationState;
use crate::testing::{FixedClock, Store, Wiring};
use crate::{Email, InvitationStatus, PhoneRegion, StatusFilter};

struct Lifecycle {
    store: Arc<Store>,
    clock: Arc<FixedClock>,
    events: EventService,
    invitations: InvitationService,
    olivia: User,
    bob: User,
    carol: User,
    event: EventId,
}

fn user(name: &str) -> User {
    User::proven(
        crate::UserId::generate(),
        Text::from_stored(name.into()),
        Some(Email::parse(&format!("{}@example.com", name.to_lowercase())).unwrap()),
        None,
        FixedClock::START,
    )
}

/// A stored user named `name`, with the email `<name>@example.com`.
async fn registered(store: &Store, name: &str) -> User {
    use crate::accounts::ports::{NewUser, PasswordHash, UserRepository};
    let u = user(name);
    UserRepository::create(
        store,
        NewUser {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
            mobile: None,
            password_hash: Some(PasswordHash("x".into())),
            proven: true,
            locale: Default::default(),
            created_at: u.created_at,
        },
    )
    .await
    .unwrap()
}

/// Olivia owns an event; Bob and Carol can be invited. Invitations live an hour.
async fn lifecycle() -> Lifecycle {
    lifecycle_with(InvitationTtl::parse("1h").unwrap()).await
}

async fn lifecycle_with(ttl: InvitationTtl) -> Lifecycle {
    let wiring = Wiring {
        ttl,
        ..Wiring::default()
    };
    let (store, clock) = (wiring.store.clone(), wiring.clock.clone());
    let olivia = registered(&store, "Olivia").await;
    let bob = registered(&store, "Bob").await;
    let carol = registered(&store, "Carol").await;
    let events = wiring.events();
    let title = Text::from_stored("Launch party".into());
    let details = EventDetails::new(title, None, None, None, None).unwrap();
    let event = events.create(&olivia, details).await.unwrap().event.id;
    let invitations = wiring.invitations();
    Lifecycle {
        store,
        clock,
        events,
        invitations,
        olivia,
        bob,
        carol,
        event,
    }
}

impl Lifecycle {
    async fn send_with(&self, by: &User, to: &[&str], message: Option<&str>) -> SendReport {
        let entries = InvitationEntries::parse(to, PhoneRegion::default()).unwrap();
        self.invitations
            .send(
                by,
                SendInvitations {
                    event_id: self.event,
                    entries,
                    message: message.map(|m| Text::parse(m, 500, true).unwrap()),
                    expires_in: None,
                },
            )
            .await
            .unwrap()
    }

    /// Olivia invites `to`; the new invitation's id.
    async fn invite(&self, to: &User) -> InvitationId {
        let email = to.email.as_ref().unwrap().as_str();
        let report = self.send_with(&self.olivia, &[email], None).await;
        assert_eq!(report.sent.len(), 1, "{:?}", report.ignored);
        report.sent[0].invitation.id()
    }

    /// `member` accepts an invitation and joins.
    async fn join(&self, member: &User) {
        let id = self.invite(member).await;
        self.invitations
            .answer(member, id, Reply::of(Answer::Accept), None)
            .await
            .unwrap();
    }

    async fn status_of(&self, viewer: &User, id: InvitationId) -> InvitationStatus {
        self.invitations
            .get(viewer, id)
            .await
            .unwrap()
            .invitation
            .status()
    }

    async fn count(&self, status: &str) -> usize {
        let filter = InvitationFilter {
            status: StatusFilter::parse(status).unwrap(),
            event_id: None,
        };
        let page = PageRequest::default();
        let sent = self.invitations.list_sent(&self.olivia, filter, page);
        let received = self.invitations.list_received(&self.bob, filter, page);
        let event = self
            .invitations
            .list_for_event(&self.olivia, self.event, filter, page);
        let (sent, received, event) = (
            sent.await.unwrap().items,
            received.await.unwrap().items,
            event.await.unwrap().items,
        );
        assert_eq!(sent.len(), event.len(), "{status}");
        for details in sent.iter().chain(&received).chain(&event) {
            if status != "all" {
                assert_eq!(details.invitation.status().as_str(), status);
            }
        }
        received.len()
    }
}

// ---- expiry

#[tokio::test]
async fn a_pending_invitation_is_expired_everywhere_at_once_when_the_clock_passes_its_expiry() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    let shown = l.invitations.get(&l.bob, id).await.unwrap().invitation;
    assert_eq!(
        shown.expires_at(),
        Some(FixedClock::START + Duration::hours(1))
    );
    assert_eq!(l.count("pending").await, 1);

    l.clock.advance(Duration::hours(1));
    assert_eq!(l.status_of(&l.bob, id).await, InvitationStatus::Expired);
    assert_eq!(l.status_of(&l.olivia, id).await, InvitationStatus::Expired);
    assert_eq!(l.count("pending").await, 0);
    assert_eq!(l.count("expired").await, 1);
    assert_eq!(l.count("all").await, 1);
    // Nothing has marked it yet: the rule alone decides.
    assert_eq!(l.store.invitations()[0].status(), InvitationStatus::Pending);
}

#[tokio::test]
async fn an_expired_invitation_cannot_be_answered_cancelled_or_resent() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    l.clock.advance(Duration::hours(2));
    assert!(matches!(
        l.invitations
            .answer(&l.bob, id, Reply::of(Answer::Accept), None)
            .await,
        Err(AnswerInvitationError::NotPending(NotPending::Expired))
    ));
    assert!(matches!(
        l.invitations.cancel(&l.olivia, id).await,
        Err(ManageInvitationError::NotPending(NotPending::Expired))
    ));
    assert!(matches!(
        l.invitations.resend(&l.olivia, id).await,
        Err(ManageInvitationError::NotPending(NotPending::Expired))
    ));
    assert_eq!(l.store.members_of(l.event), vec![l.olivia.id]);
}

#[tokio::test]
async fn r7_an_expired_invitation_never_blocks_a_new_one() {
    let l = lifecycle().await;
    let old = l.invite(&l.bob).await;
    l.clock.advance(Duration::hours(1));
    let new = l.invite(&l.bob).await;
    assert_ne!(old, new);
    let stored = l.store.invitations();
    assert_eq!(
        stored[0].state(),
        InvitationState::Expired,
        "marked on write"
    );
    assert_eq!(stored[1].status(), InvitationStatus::Pending);
    // R7 still holds for the live one.
    let again = l.send_with(&l.olivia, &["bob@example.com"], None).await;
    assert_eq!(again.ignored[0].reason, IgnoreReason::AlreadyInvited);
}

#[tokio::test]
async fn invitations_never_expire_with_a_ttl_of_0() {
    let l = lifecycle_with(InvitationTtl::NEVER).await;
    let id = l.invite(&l.bob).await;
    l.clock.advance(Duration::days(3650));
    let shown = l.invitations.get(&l.bob, id).await.unwrap().invitation;
    assert_eq!(shown.expires_at(), None);
    assert_eq!(shown.status(), InvitationStatus::Pending);
    l.invitations
        .answer(&l.bob, id, Reply::of(Answer::Accept), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_sweeper_marks_due_invitations_expired_in_batches_and_leaves_the_others() {
    let l = lifecycle().await;
    l.invite(&l.bob).await;
    l.invite(&l.carol).await;
    l.clock.advance(Duration::minutes(30));
    let dave = registered(&l.store, "Dave").await;
    let live = l.invite(&dave).await;
    l.clock.advance(Duration::minutes(30));
    assert_eq!(l.invitations.expire_due(1).await.unwrap(), 1);
    assert_eq!(l.invitations.expire_due(1).await.unwrap(), 1);
    assert_eq!(l.invitations.expire_due(1).await.unwrap(), 0);
    let states: Vec<_> = l
        .store
        .invitations()
        .iter()
        .map(Invitation::state)
        .collect();
    assert_eq!(
        states,
        [
            InvitationState::Expired,
            InvitationState::Expired,
            InvitationState::Pending
        ]
    );
    assert_eq!(l.status_of(&dave, live).await, InvitationStatus::Pending);
}

// ---- cancel

#[tokio::test]
async fn the_sender_cancels_a_pending_invitation_and_it_can_no_longer_be_answered() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    l.clock.advance(Duration::minutes(5));
    let cancelled = l.invitations.cancel(&l.olivia, id).await.unwrap();
    assert_eq!(cancelled.invitation.status(), InvitationStatus::Cancelled);
    assert_eq!(cancelled.invitation.cancelled_at(), Some(l.clock.now()));
    assert_eq!(l.status_of(&l.bob, id).await, InvitationStatus::Cancelled);
    assert!(matches!(
        l.invitations
            .answer(&l.bob, id, Reply::of(Answer::Accept), None)
            .await,
        Err(AnswerInvitationError::NotPending(NotPending::Cancelled))
    ));
    assert!(matches!(
        l.invitations.cancel(&l.olivia, id).await,
        Err(ManageInvitationError::NotPending(NotPending::Cancelled))
    ));
    assert_eq!(l.count("cancelled").await, 1);
    assert_eq!(l.count("pending").await, 0);
}

#[tokio::test]
async fn an_answered_invitation_cannot_be_cancelled() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    l.invitations
        .answer(&l.bob, id, Reply::of(Answer::Accept), None)
        .await
        .unwrap();
    assert!(matches!(
        l.invitations.cancel(&l.olivia, id).await,
        Err(ManageInvitationError::NotPending(NotPending::Answered))
    ));
}

#[tokio::test]
async fn the_invitee_may_not_cancel_a_plain_member_or_a_stranger_sees_nothing() {
    let l = lifecycle().await;
    l.join(&l.carol).await;
    let id = l.invite(&l.bob).await;
    assert!(matches!(
        l.invitations.cancel(&l.bob, id).await,
        Err(ManageInvitationError::ByInvitee)
    ));
    assert!(matches!(
        l.invitations.cancel(&l.carol, id).await,
        Err(ManageInvitationError::NotFound)
    ));
    assert!(matches!(
        l.invitations.get(&l.carol, id).await,
        Err(GetInvitationError::NotFound)
    ));
    let stranger = user("Mallory");
    assert!(matches!(
        l.invitations.cancel(&stranger, id).await,
        Err(ManageInvitationError::NotFound)
    ));
    assert!(matches!(
        l.invitations
            .cancel(&l.olivia, InvitationId::generate())
            .await,
        Err(ManageInvitationError::NotFound)
    ));
    assert_eq!(l.status_of(&l.bob, id).await, InvitationStatus::Pending);
}

#[tokio::test]
async fn r12_a_cohost_sees_lists_cancels_and_resends_the_owners_invitations_and_the_owner_theirs() {
    let l = lifecycle().await;
    l.join(&l.carol).await;
    l.events
        .change_role(&l.olivia, l.event, l.carol.id, Role::Cohost)
        .await
        .unwrap();
    let by_owner = l.invite(&l.bob).await;
    assert_eq!(
        l.status_of(&l.carol, by_owner).await,
        InvitationStatus::Pending
    );
    let listed = l
        .invitations
        .list_for_event(
            &l.carol,
            l.event,
            InvitationFilter::default(),
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2, "Carol's accepted one and Bob's");
    l.invitations.resend(&l.carol, by_owner).await.unwrap();
    l.invitations.cancel(&l.carol, by_owner).await.unwrap();

    // Carol invites Dave; Olivia, who did not send it, manages it too.
    registered(&l.store, "Dave").await;
    let by_cohost = l
        .send_with(&l.carol, &["dave@example.com"], None)
        .await
        .sent[0]
        .invitation
        .id();
    l.invitations.cancel(&l.olivia, by_cohost).await.unwrap();
}

#[tokio::test]
async fn a_sender_s_rights_end_with_their_management_role() {
    let l = lifecycle().await;
    l.join(&l.carol).await;
    l.events
        .change_role(&l.olivia, l.event, l.carol.id, Role::Cohost)
        .await
        .unwrap();
    registered(&l.store, "Dave").await;
    let sent = l
        .send_with(&l.carol, &["dave@example.com"], None)
        .await
        .sent[0]
        .invitation
        .id();
    // Demoted to member: what Carol sent is no longer hers to see, resend or cancel.
    l.events
        .change_role(&l.olivia, l.event, l.carol.id, Role::Member)
        .await
        .unwrap();
    assert!(matches!(
        l.invitations.get(&l.carol, sent).await,
        Err(GetInvitationError::NotFound)
    ));
    assert!(matches!(
        l.invitations.resend(&l.carol, sent).await,
        Err(ManageInvitationError::NotFound)
    ));
    assert!(matches!(
        l.invitations.cancel(&l.carol, sent).await,
        Err(ManageInvitationError::NotFound)
    ));
    let listed = l
        .invitations
        .list_sent(
            &l.carol,
            InvitationFilter::default(),
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(listed.items.is_empty(), "{:?}", listed.items);
    // Nor can she send any more.
    registered(&l.store, "Erin").await;
    assert!(matches!(
        l.invitations
            .send(
                &l.carol,
                SendInvitations {
                    event_id: l.event,
                    entries: InvitationEntries::parse(
                        &["erin@example.com"],
                        PhoneRegion::default()
                    )
                    .unwrap(),
                    message: None,
                    expires_in: None,
                },
            )
            .await,
        Err(SendInvitationsError::NotOwner)
    ));
    // The event's owner still manages it.
    l.invitations.cancel(&l.olivia, sent).await.unwrap();
}

// ---- resend

#[tokio::test]
async fn a_resend_pushes_the_expiry_out_and_the_next_waits_ten_minutes() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    l.clock.advance(Duration::minutes(50));
    let resent = l
        .invitations
        .resend(&l.olivia, id)
        .await
        .unwrap()
        .invitation;
    assert_eq!(
        resent.expires_at(),
        Some(l.clock.now() + Duration::hours(1))
    );
    assert_eq!(resent.last_resent_at(), Some(l.clock.now()));
    let stored = l.invitations.get(&l.bob, id).await.unwrap().invitation;
    assert_eq!(stored.expires_at(), resent.expires_at());

    l.clock.advance(Duration::minutes(4));
    match l.invitations.resend(&l.olivia, id).await {
        Err(ManageInvitationError::TooSoon { retry_after }) => {
            assert_eq!(retry_after, Duration::minutes(6));
        }
        other => panic!("{other:?}"),
    }
    l.clock.advance(Duration::minutes(6));
    l.invitations.resend(&l.olivia, id).await.unwrap();
    // Past the original expiry, still pending thanks to the resends.
    l.clock.advance(Duration::minutes(30));
    assert_eq!(l.status_of(&l.bob, id).await, InvitationStatus::Pending);
    l.invitations
        .answer(&l.bob, id, Reply::of(Answer::Accept), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_invitee_may_not_resend_and_a_stranger_sees_nothing() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    assert!(matches!(
        l.invitations.resend(&l.bob, id).await,
        Err(ManageInvitationError::ByInvitee)
    ));
    assert!(matches!(
        l.invitations.resend(&l.carol, id).await,
        Err(ManageInvitationError::NotFound)
    ));
}

#[tokio::test]
async fn a_resend_that_loses_a_race_to_another_is_too_soon() {
    let l = lifecycle().await;
    let details = l
        .invitations
        .get(&l.olivia, l.invite(&l.bob).await)
        .await
        .unwrap();
    let now = l.clock.now();
    let mut invitations = MockInvitationRepository::new();
    invitations
        .expect_find()
        .returning(move |_| Ok(Some(details.clone())));
    invitations
        .expect_save_resend()
        .returning(move |_, previous| {
            assert_eq!(previous, None);
            Err(SaveInvitationError::ResentMeanwhile {
                last_resent_at: now - Duration::seconds(1),
            })
        });
    let service = InvitationService::new(
        l.store.clone(),
        l.store.clone(),
        Arc::new(invitations),
        l.clock.clone(),
    );
    match service.resend(&l.olivia, InvitationId::generate()).await {
        Err(ManageInvitationError::TooSoon { retry_after }) => {
            assert_eq!(retry_after, Duration::seconds(599));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_cancel_that_loses_a_race_reports_what_won() {
    let l = lifecycle().await;
    let details = l
        .invitations
        .get(&l.olivia, l.invite(&l.bob).await)
        .await
        .unwrap();
    let mut invitations = MockInvitationRepository::new();
    invitations
        .expect_find()
        .returning(move |_| Ok(Some(details.clone())));
    invitations
        .expect_save_cancel()
        .returning(|_| Err(SaveInvitationError::NotPending(NotPending::Answered)));
    let service = InvitationService::new(
        l.store.clone(),
        l.store.clone(),
        Arc::new(invitations),
        l.clock.clone(),
    );
    assert!(matches!(
        service.cancel(&l.olivia, InvitationId::generate()).await,
        Err(ManageInvitationError::NotPending(NotPending::Answered))
    ));
}

// ---- cancelled invitations and R7/R8

#[tokio::test]
async fn r7_and_r8_a_cancelled_invitation_never_blocks_a_new_one() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    l.invitations.cancel(&l.olivia, id).await.unwrap();
    let again = l.invite(&l.bob).await;
    assert_ne!(again, id);
}

// ---- the note

#[tokio::test]
async fn the_note_is_stored_on_every_invitation_of_the_batch_and_shown_to_its_parties() {
    let l = lifecycle().await;
    let report = l
        .send_with(
            &l.olivia,
            &["bob@example.com", "carol@example.com"],
            Some("  Bring snacks.\nSee you!  "),
        )
        .await;
    assert_eq!(report.sent.len(), 2);
    for details in &report.sent {
        assert_eq!(
            details.invitation.message().map(Text::as_str),
            Some("Bring snacks.\nSee you!")
        );
    }
    let id = report.sent[0].invitation.id();
    let seen = l.invitations.get(&l.bob, id).await.unwrap().invitation;
    assert_eq!(
        seen.message().map(Text::as_str),
        Some("Bring snacks.\nSee you!")
    );
    let later = l.send_with(&l.olivia, &["nobody@example.com"], None).await;
    assert!(later.sent.is_empty());
    assert!(l.store.invitations().iter().all(|i| i.message().is_some()));
}

// ---- the event's own list

#[tokio::test]
async fn the_events_invitations_are_listed_to_its_managers_a_member_is_refused_a_stranger_sees_no_event(
) {
    let l = lifecycle().await;
    l.join(&l.carol).await;
    l.invite(&l.bob).await;
    let (all, page) = (InvitationFilter::default(), PageRequest::default());
    let listed = l
        .invitations
        .list_for_event(&l.olivia, l.event, all, page)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    assert!(matches!(
        l.invitations
            .list_for_event(&l.carol, l.event, all, page)
            .await,
        Err(ListEventInvitationsError::NotManager)
    ));
    assert!(matches!(
        l.invitations
            .list_for_event(&l.bob, l.event, all, page)
            .await,
        Err(ListEventInvitationsError::EventNotFound)
    ));
    assert!(matches!(
        l.invitations
            .list_for_event(&l.olivia, EventId::generate(), all, page)
            .await,
        Err(ListEventInvitationsError::EventNotFound)
    ));
    // Only this event's.
    let other_details =
        EventDetails::new(Text::from_stored("Other".into()), None, None, None, None).unwrap();
    let other = l
        .events
        .create(&l.olivia, other_details)
        .await
        .unwrap()
        .event
        .id;
    l.invitations
        .send(
            &l.olivia,
            SendInvitations {
                event_id: other,
                entries: InvitationEntries::parse(&["bob@example.com"], PhoneRegion::default())
                    .unwrap(),
                message: None,
                expires_in: None,
            },
        )
        .await
        .unwrap();
    let listed = l
        .invitations
        .list_for_event(&l.olivia, l.event, all, page)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
}

// ---- versions (docs/api.md, "Conditional requests")

#[tokio::test]
async fn every_stored_change_of_an_invitation_moves_its_version_and_the_read_one_is_kept() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    let version = |l: &Lifecycle| l.store.invitations()[0].version().get();
    assert_eq!(version(&l), 1);
    l.clock.advance(Duration::minutes(30));
    let resent = l.invitations.resend(&l.olivia, id).await.unwrap();
    assert_eq!(
        resent.invitation.version(),
        crate::Version::FIRST,
        "as read"
    );
    assert_eq!(version(&l), 2);
    l.invitations
        .answer(
            &l.bob,
            id,
            Reply::of(Answer::Accept),
            Some(crate::Version::new(2)),
        )
        .await
        .unwrap();
    assert_eq!(version(&l), 3);
}

#[tokio::test]
async fn an_answer_conditional_on_an_old_version_is_stale_and_stores_nothing() {
    let l = lifecycle().await;
    let id = l.invite(&l.bob).await;
    l.clock.advance(Duration::minutes(30));
    l.invitations.resend(&l.olivia, id).await.unwrap();
    assert!(matches!(
        l.invitations
            .answer(
                &l.bob,
                id,
                Reply::of(Answer::Accept),
                Some(crate::Version::FIRST)
            )
            .await,
        Err(AnswerInvitationError::Stale)
    ));
    assert_eq!(l.status_of(&l.bob, id).await, InvitationStatus::Pending);
    assert_eq!(l.store.members_of(l.event), vec![l.olivia.id]);
}

#[test]
fn a_stale_row_is_a_stale_answer_and_never_a_stale_cancel() {
    assert!(matches!(
        AnswerInvitationError::from(SaveInvitationError::Stale),
        AnswerInvitationError::Stale
    ));
    assert!(matches!(
        manage_error(SaveInvitationError::Stale),
        ManageInvitationError::Port(PortError::Unexpected(_))
    ));
}

// ---- the day's quotas

/// Olivia's lifecycle with the day's quotas on: `named` contacts a day for a young sender (ten
/// times that once established), `per_recipient` messages for a contact, counted on the wiring's
/// clock.
async fn capped(named: u32, per_recipient: u32) -> (Lifecycle, Arc<crate::testing::FakeCounters>) {
    let mut lifecycle = lifecycle().await;
    let counters = Arc::new(crate::testing::FakeCounters::new(lifecycle.clock.clone()));
    lifecycle.invitations = lifecycle.invitations.clone().with_caps(
        counters.clone(),
        SendCaps {
            recipients_new: named,
            recipients_established: named * 10,
            per_recipient,
        },
        PhoneRegion::default(),
    );
    (lifecycle, counters)
}

fn reasons(report: &SendReport) -> Vec<(&str, &'static str)> {
    report
        .ignored
        .iter()
        .map(|i| (i.contact.as_str(), i.reason.code()))
        .collect()
}

#[tokio::test]
async fn a_contact_past_its_daily_cap_is_ignored_as_recipient_limit_until_the_day_passes() {
    let (l, _) = capped(100, 1).await;
    l.invite(&l.bob).await;
    let id = l.invite(&l.carol).await;
    l.invitations.cancel(&l.olivia, id).await.unwrap();
    // Carol's address had its one invitation today, whoever sends it.
    let report = l.send_with(&l.olivia, &["Carol@Example.com"], None).await;
    assert!(report.sent.is_empty());
    assert_eq!(reasons(&report), [("Carol@Example.com", "recipient_limit")]);
    l.clock.advance(Duration::hours(25));
    let report = l.send_with(&l.olivia, &["carol@example.com"], None).await;
    assert_eq!(report.sent.len(), 1, "{:?}", report.ignored);
}

#[tokio::test]
async fn contacts_past_the_senders_daily_quota_are_ignored_unlooked_and_a_resend_is_refused() {
    let (l, _) = capped(2, 10).await;
    // Two contacts fit; the third is past the quota, reported as such even though Carol exists.
    let report = l
        .send_with(
            &l.olivia,
            &["bob@example.com", "nobody@example.com", "carol@example.com"],
            None,
        )
        .await;
    assert_eq!(report.sent.len(), 1);
    assert_eq!(
        reasons(&report),
        [
            ("nobody@example.com", "not_a_user"),
            ("carol@example.com", "quota_exceeded")
        ]
    );
    // A resend names its contact too: refused while the sender's day is full.
    let id = report.sent[0].invitation.id();
    let resent = l.invitations.resend(&l.olivia, id).await;
    let Err(ManageInvitationError::TooSoon { retry_after }) = resent else {
        panic!("{resent:?}");
    };
    assert!(retry_after <= Duration::hours(24), "{retry_after:?}");
    l.clock.advance(Duration::hours(25));
    let report = l.send_with(&l.olivia, &["carol@example.com"], None).await;
    assert_eq!(report.sent.len(), 1, "{:?}", report.ignored);
}

#[tokio::test]
async fn every_contact_looked_up_counts_once_and_unreadable_entries_do_not() {
    let (l, _) = capped(2, 10).await;
    // Bob twice (one contact), an entry that is no contact (never looked up) and a stranger:
    // two contacts named.
    let report = l
        .send_with(
            &l.olivia,
            &[
                "bob@example.com",
                "Bob@Example.com",
                "not a contact",
                "nobody@example.com",
            ],
            None,
        )
        .await;
    assert_eq!(report.sent.len(), 1);
    let report = l.send_with(&l.olivia, &["carol@example.com"], None).await;
    assert_eq!(reasons(&report), [("carol@example.com", "quota_exceeded")]);
}

#[tokio::test]
async fn an_account_a_week_old_names_more_contacts_a_day() {
    let (l, _) = capped(1, 10).await;
    let report = l
        .send_with(&l.olivia, &["bob@example.com", "carol@example.com"], None)
        .await;
    assert_eq!(reasons(&report), [("carol@example.com", "quota_exceeded")]);
    // Eight days on, Olivia's account is established: ten a day.
    l.clock.advance(Duration::days(8));
    let strangers: Vec<String> = (0..9).map(|n| format!("s{n}@example.com")).collect();
    let mut to: Vec<&str> = vec!["carol@example.com"];
    to.extend(strangers.iter().map(String::as_str));
    to.push("one-too-many@example.com");
    let report = l.send_with(&l.olivia, &to, None).await;
    assert_eq!(report.sent.len(), 1);
    assert_eq!(report.ignored.len(), 10);
    assert_eq!(
        report.ignored.last().map(|i| i.reason),
        Some(IgnoreReason::QuotaExceeded)
    );
    assert!(report.ignored[..9]
        .iter()
        .all(|i| i.reason == IgnoreReason::NotAUser));
}
