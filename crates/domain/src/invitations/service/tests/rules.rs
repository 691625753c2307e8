//! The use cases over in-memory fakes and mocks: every rule R1–R12 through the public services.

use crate::rsvp::RsvpRules;
use std::sync::Arc;

use chrono::Duration;
use secrecy::ExposeSecret;

use super::*;
use crate::accounts::ports::MockUserRepository;
use crate::accounts::User;
use crate::accounts::{
    AccountService, AuthenticateError, LoginCommand, LoginError, RegisterCommand, RegisterError,
};
use crate::events::ports::MockEventRepository;
use crate::events::EventDetails;
use crate::events::{EventService, GetEventError};
use crate::invitations::ports::{
    BatchOutcome, InvitationFilter, MockInvitationRepository, SaveInvitationError,
};
use crate::invitations::{
    IgnoreReason, Invitation, InvitationEntries, InvitationEntriesError, NotPending,
};
use crate::ports::PortError;
use crate::testing::{FakeHasher, FixedClock, Store, Wiring};
use crate::{
    Answer, Email, EventId, InvitationId, InvitationStatus, Login, Mobile, PageRequest, Password,
    PhoneRegion, StatusFilter, Text,
};

struct Harness {
    store: Arc<Store>,
    hasher: Arc<FakeHasher>,
    clock: Arc<FixedClock>,
    accounts: AccountService,
    events: EventService,
    invitations: InvitationService,
}

impl Harness {
    fn new() -> Self {
        let wiring = Wiring::default();
        Self {
            accounts: wiring.accounts(),
            events: wiring.events(),
            invitations: wiring.invitations(),
            store: wiring.store,
            hasher: wiring.hasher,
            clock: wiring.clock,
        }
    }

    async fn register(&self, name: &str, email: Option<&str>, mobile: Option<&str>) -> User {
        self.accounts
            .register(register_command(name, email, mobile), "192.0.2.1")
            .await
            .unwrap()
            .user
    }

    async fn event_of(&self, owner: &User) -> EventId {
        let title = Text::from_stored("Launch party".into());
        let details = EventDetails::new(title, None, None, None, None).unwrap();
        self.events.create(owner, details).await.unwrap().event.id
    }

    async fn send(&self, sender: &User, event_id: EventId, entries: &[&str]) -> SendReport {
        self.try_send(sender, event_id, entries).await.unwrap()
    }

    async fn try_send(
        &self,
        sender: &User,
        event_id: EventId,
        entries: &[&str],
    ) -> Result<SendReport, SendInvitationsError> {
        let entries = InvitationEntries::parse(entries, PhoneRegion::default()).unwrap();
        self.invitations
            .send(
                sender,
                SendInvitations {
                    event_id,
                    entries,
                    message: None,
                    expires_in: None,
                },
            )
            .await
    }
}

fn register_command(name: &str, email: Option<&str>, mobile: Option<&str>) -> RegisterCommand {
    RegisterCommand {
        name: Text::from_stored(name.into()),
        email: email.map(|e| Email::parse(e).unwrap()),
        mobile: mobile.map(|m| Mobile::parse(m, PhoneRegion::default()).unwrap()),
        password: Some(Password::parse("correct horse".into()).unwrap()),
        locale: Default::default(),
    }
}

fn reasons(report: &SendReport) -> Vec<(&str, IgnoreReason)> {
    report
        .ignored
        .iter()
        .map(|i| (i.contact.as_str(), i.reason))
        .collect()
}

fn invitees(report: &SendReport) -> Vec<&str> {
    report
        .sent
        .iter()
        .map(|d| d.invitee.name.as_str())
        .collect()
}

/// Owner Olivia, and Bob and Carol who can be invited; Olivia owns one event.
async fn party() -> (Harness, User, User, User, EventId) {
    let h = Harness::new();
    let olivia = h
        .register("Olivia", Some("olivia@example.com"), Some("09120000000"))
        .await;
    let bob = h
        .register("Bob", Some("bob@example.com"), Some("09352864812"))
        .await;
    let carol = h.register("Carol", Some("carol@example.com"), None).await;
    let event = h.event_of(&olivia).await;
    (h, olivia, bob, carol, event)
}

// ---- accounts

#[tokio::test]
async fn registering_twice_with_one_email_in_another_case_is_refused() {
    let h = Harness::new();
    h.register("Ann", Some("ann@example.com"), None).await;
    let again = h
        .accounts
        .register(
            register_command("Ann 2", Some("ANN@Example.com"), None),
            "192.0.2.1",
        )
        .await;
    assert!(matches!(again, Err(RegisterError::EmailTaken)));
}

#[tokio::test]
async fn registering_one_mobile_in_another_format_is_refused() {
    let h = Harness::new();
    h.register("Ann", None, Some("09352864812")).await;
    let again = h
        .accounts
        .register(
            register_command("Ann 2", None, Some("+98 935 286 4812")),
            "192.0.2.1",
        )
        .await;
    assert!(matches!(again, Err(RegisterError::MobileTaken)));
}

#[tokio::test]
async fn login_works_by_email_or_by_mobile_in_any_format_and_the_token_authenticates() {
    let h = Harness::new();
    let ann = h
        .register("Ann", Some("ann@example.com"), Some("09352864812"))
        .await;
    for login in ["ANN@example.com", "+989352864812", "0098 935 286 4812"] {
        let session = h
            .accounts
            .login(LoginCommand {
                login: Login::parse(login, PhoneRegion::default()),
                password: Password::unchecked("correct horse".into()),
            })
            .await
            .unwrap();
        assert_eq!(session.user.id, ann.id);
        assert_eq!(
            h.accounts
                .authenticate(session.token.expose_secret())
                .await
                .unwrap()
                .id,
            ann.id
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_fail_alike_and_both_run_the_hasher() {
    let h = Harness::new();
    h.register("Ann", Some("ann@example.com"), None).await;
    let attempt = |login: &str, password: &str| LoginCommand {
        login: Login::parse(login, PhoneRegion::default()),
        password: Password::unchecked(password.into()),
    };
    let wrong = h
        .accounts
        .login(attempt("ann@example.com", "wrong password"))
        .await;
    assert!(matches!(wrong, Err(LoginError::InvalidCredentials)));
    let unknown = h
        .accounts
        .login(attempt("nobody@example.com", "correct horse"))
        .await;
    assert!(matches!(unknown, Err(LoginError::InvalidCredentials)));
    let garbage = h
        .accounts
        .login(attempt("not a login", "correct horse"))
        .await;
    assert!(matches!(garbage, Err(LoginError::InvalidCredentials)));
    assert_eq!(h.hasher.verifications_without_hash(), 2);
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let h = Harness::new();
    h.register("Ann", Some("ann@example.com"), None).await;
    let session = h
        .accounts
        .register(
            register_command("Bo", Some("bo@example.com"), None),
            "192.0.2.1",
        )
        .await
        .unwrap();
    h.accounts
        .logout(session.token.expose_secret())
        .await
        .unwrap();
    assert!(matches!(
        h.accounts.authenticate(session.token.expose_secret()).await,
        Err(AuthenticateError::Unauthenticated)
    ));
    assert!(matches!(
        h.accounts.authenticate("never issued").await,
        Err(AuthenticateError::Unauthenticated)
    ));
}

#[tokio::test]
async fn tokens_expire_after_the_policy_ttl() {
    let h = Harness::new();
    let issued_at = FixedClock::START;
    let session = h
        .accounts
        .register(
            register_command("Ann", Some("a@example.com"), None),
            "192.0.2.1",
        )
        .await
        .unwrap();
    assert_eq!(session.expires_at, issued_at + Duration::days(30));
    let token = session.token.expose_secret();

    h.clock
        .set(issued_at + Duration::days(30) - Duration::seconds(1));
    assert!(h.accounts.authenticate(token).await.is_ok());
    h.clock.advance(Duration::seconds(1));
    assert!(matches!(
        h.accounts.authenticate(token).await,
        Err(AuthenticateError::Unauthenticated)
    ));
}

// ---- events

#[tokio::test]
async fn the_creator_owns_the_event_and_is_its_first_member() {
    let (h, olivia, bob, _, event) = party().await;
    let shown = h.events.get(&olivia, event).await.unwrap();
    assert_eq!(shown.event.owner.id, olivia.id);
    assert_eq!(shown.event.members_count, 1);
    assert_eq!(h.store.members_of(event), vec![olivia.id]);
    assert!(matches!(
        h.events.get(&bob, event).await,
        Err(GetEventError::NotFound)
    ));
    assert!(matches!(
        h.events.members(&bob, event, PageRequest::default()).await,
        Err(GetEventError::NotFound)
    ));
    assert_eq!(
        h.events
            .list(&bob, PageRequest::default())
            .await
            .unwrap()
            .items,
        vec![]
    );
}

// ---- sending (R1–R9)

#[tokio::test]
async fn the_seed_example_invites_users_reports_strangers_and_skips_blanks() {
    let h = Harness::new();
    let owner = h.register("Owner", Some("owner@example.com"), None).await;
    h.register("Sara", None, Some("09352864812")).await;
    h.register("Reza", None, Some("09332114546")).await;
    let event = h.event_of(&owner).await;

    let seed = [
        "",
        "09352864812",
        "",
        "09303030300",
        "09332114546",
        "09332131456",
        "",
        "",
    ];
    let report = h.send(&owner, event, &seed).await;

    assert_eq!(invitees(&report), ["Sara", "Reza"]);
    assert_eq!(
        reasons(&report),
        [
            ("09303030300", IgnoreReason::NotAUser),
            ("09332131456", IgnoreReason::NotAUser)
        ]
    );
    assert!(report
        .sent
        .iter()
        .all(|d| d.invitation.status() == InvitationStatus::Pending));
    assert_eq!(report.sent[0].invitation.contact(), "09352864812");
}

#[tokio::test]
async fn r1_a_member_who_is_not_the_owner_cannot_send_and_a_stranger_sees_no_event() {
    let (h, olivia, bob, carol, event) = party().await;
    let invitation = h
        .send(&olivia, event, &["bob@example.com"])
        .await
        .sent
        .remove(0);
    h.invitations
        .answer(
            &bob,
            invitation.invitation.id(),
            Reply::of(Answer::Accept),
            None,
        )
        .await
        .unwrap();

    let by_member = h.try_send(&bob, event, &["carol@example.com"]).await;
    assert!(matches!(by_member, Err(SendInvitationsError::NotOwner)));
    let by_stranger = h.try_send(&carol, event, &["bob@example.com"]).await;
    assert!(matches!(
        by_stranger,
        Err(SendInvitationsError::EventNotFound)
    ));
    let unknown = h
        .try_send(&olivia, EventId::generate(), &["bob@example.com"])
        .await;
    assert!(matches!(unknown, Err(SendInvitationsError::EventNotFound)));
}

#[tokio::test]
async fn r2_entries_are_trimmed_blanks_skipped_and_garbage_reported_invalid() {
    let (h, olivia, _, _, event) = party().await;
    let report = h
        .send(
            &olivia,
            event,
            &["   ", " bob@example.com ", "hello", "a@b", "\t"],
        )
        .await;
    assert_eq!(invitees(&report), ["Bob"]);
    assert_eq!(report.sent[0].invitation.contact(), "bob@example.com");
    assert_eq!(
        reasons(&report),
        [
            ("hello", IgnoreReason::InvalidContact),
            ("a@b", IgnoreReason::InvalidContact)
        ]
    );
}

#[tokio::test]
async fn r3_emails_match_case_insensitively_and_mobiles_in_any_format() {
    let (h, olivia, _, _, event) = party().await;
    let report = h
        .send(&olivia, event, &["CAROL@Example.COM", "0098 935 286 4812"])
        .await;
    assert_eq!(invitees(&report), ["Carol", "Bob"]);
    assert_eq!(
        report.sent[0].invitation.contact(),
        "CAROL@Example.COM",
        "the contact is kept as typed"
    );
}

#[tokio::test]
async fn r4_contacts_of_nobody_are_reported_not_a_user() {
    let (h, olivia, _, _, event) = party().await;
    let report = h
        .send(&olivia, event, &["nobody@example.com", "09303030300"])
        .await;
    assert!(report.sent.is_empty());
    assert_eq!(
        reasons(&report),
        [
            ("nobody@example.com", IgnoreReason::NotAUser),
            ("09303030300", IgnoreReason::NotAUser)
        ]
    );
}

#[tokio::test]
async fn r5_the_sender_cannot_invite_themself() {
    let (h, olivia, _, _, event) = party().await;
    let report = h.send(&olivia, event, &["olivia@example.com"]).await;
    assert_eq!(
        reasons(&report),
        [("olivia@example.com", IgnoreReason::SelfInvitation)]
    );
}

#[tokio::test]
async fn r6_and_r11_accepting_makes_a_member_who_cannot_be_invited_again() {
    let (h, olivia, bob, _, event) = party().await;
    let sent = h
        .send(&olivia, event, &["bob@example.com"])
        .await
        .sent
        .remove(0);
    let answered = h
        .invitations
        .answer(&bob, sent.invitation.id(), Reply::of(Answer::Accept), None)
        .await
        .unwrap();
    assert_eq!(answered.invitation.status(), InvitationStatus::Accepted);
    assert_eq!(answered.invitation.answered_at(), Some(FixedClock::START));
    assert_eq!(h.store.members_of(event), vec![olivia.id, bob.id]);
    assert_eq!(
        h.events.get(&bob, event).await.unwrap().event.members_count,
        2
    );

    let again = h.send(&olivia, event, &["09352864812"]).await;
    assert_eq!(
        reasons(&again),
        [("09352864812", IgnoreReason::AlreadyMember)]
    );
}

#[tokio::test]
async fn r7_a_pending_invitation_is_never_doubled() {
    let (h, olivia, _, _, event) = party().await;
    h.send(&olivia, event, &["bob@example.com"]).await;
    let again = h.send(&olivia, event, &["09352864812"]).await;
    assert_eq!(
        reasons(&again),
        [("09352864812", IgnoreReason::AlreadyInvited)]
    );
    assert_eq!(h.store.invitations().len(), 1);
}

#[tokio::test]
async fn r7_a_concurrent_batch_that_wins_the_race_turns_ours_into_already_invited() {
    let (_, olivia, bob, _, event) = party().await;
    let mut users = MockUserRepository::new();
    let bob_found = bob.clone();
    users
        .expect_find_by_contacts()
        .returning(move |_, _| Ok(vec![bob_found.clone()]));
    let mut events = MockEventRepository::new();
    let owner = olivia.summary();
    events
        .expect_find_membership()
        .returning(move |id, _| Ok(Some(owned(id, &owner))));
    let mut invitations = MockInvitationRepository::new();
    invitations
        .expect_invitee_states()
        .returning(|_, _, _| Ok(Default::default()));
    invitations
        .expect_create_batch()
        .returning(|batch| Ok(vec![BatchOutcome::AlreadyPending; batch.len()]));
    let service = InvitationService::new(
        Arc::new(users),
        Arc::new(events),
        Arc::new(invitations),
        Arc::new(FixedClock::default()),
    );

    let entries = InvitationEntries::parse(&["bob@example.com"], PhoneRegion::default()).unwrap();
    let report = service
        .send(
            &olivia,
            SendInvitations {
                event_id: event,
                entries,
                message: None,
                expires_in: None,
            },
        )
        .await
        .unwrap();
    assert!(report.sent.is_empty());
    assert_eq!(
        reasons(&report),
        [("bob@example.com", IgnoreReason::AlreadyInvited)]
    );
}

#[tokio::test]
async fn r8_a_user_whose_last_invitation_was_rejected_cannot_be_invited_again() {
    let (h, olivia, bob, _, event) = party().await;
    let sent = h
        .send(&olivia, event, &["bob@example.com"])
        .await
        .sent
        .remove(0);
    h.invitations
        .answer(&bob, sent.invitation.id(), Reply::of(Answer::Reject), None)
        .await
        .unwrap();
    assert_eq!(
        h.store.members_of(event),
        vec![olivia.id],
        "rejecting makes no member"
    );

    let again = h.send(&olivia, event, &["bob@example.com"]).await;
    assert_eq!(
        reasons(&again),
        [("bob@example.com", IgnoreReason::RejectedLastInvitation)]
    );
}

#[tokio::test]
async fn r8_only_the_latest_invitation_counts() {
    let (h, olivia, bob, _, event) = party().await;
    let now = FixedClock::START;
    let mut old = Invitation::new_pending(event, olivia.id, bob.id, "bob@example.com".into(), now);
    old.answer(
        bob.id,
        None,
        Reply::of(Answer::Reject),
        &RsvpRules::default(),
        now,
    )
    .unwrap();
    h.store.insert_invitation(old);
    // A later accepted invitation (say the member left since): the rejection is no longer the last.
    let mut newer =
        Invitation::new_pending(event, olivia.id, bob.id, "bob@example.com".into(), now);
    newer
        .answer(
            bob.id,
            None,
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            now,
        )
        .unwrap();
    h.store.insert_invitation(newer);

    let report = h.send(&olivia, event, &["bob@example.com"]).await;
    assert_eq!(invitees(&report), ["Bob"]);
}

#[tokio::test]
async fn r9_a_user_reached_twice_in_one_request_is_invited_once() {
    let (h, olivia, _, _, event) = party().await;
    let report = h
        .send(
            &olivia,
            event,
            &[
                "09352864812",
                "bob@example.com",
                "+989352864812",
                "09352864812",
                "carol@example.com",
            ],
        )
        .await;
    assert_eq!(invitees(&report), ["Bob", "Carol"]);
    assert_eq!(
        reasons(&report),
        [
            ("bob@example.com", IgnoreReason::DuplicateInRequest),
            ("+989352864812", IgnoreReason::DuplicateInRequest),
            ("09352864812", IgnoreReason::DuplicateInRequest),
        ]
    );
    assert_eq!(h.store.invitations().len(), 2);
}

#[tokio::test]
async fn both_lists_of_a_report_keep_request_order() {
    let (h, olivia, _, _, event) = party().await;
    let report = h
        .send(
            &olivia,
            event,
            &[
                "x",
                "carol@example.com",
                "nobody@example.com",
                "bob@example.com",
                "olivia@example.com",
            ],
        )
        .await;
    assert_eq!(invitees(&report), ["Carol", "Bob"]);
    let codes: Vec<_> = report.ignored.iter().map(|i| i.reason.code()).collect();
    assert_eq!(codes, ["invalid_contact", "not_a_user", "self_invitation"]);
}

#[test]
fn a_request_must_hold_1_to_1000_entries_of_which_one_is_not_blank() {
    let region = PhoneRegion::default();
    assert_eq!(
        InvitationEntries::parse(&["", " ", ""], region),
        Err(InvitationEntriesError::NoEntries)
    );
    assert_eq!(
        InvitationEntries::parse::<&str>(&[], region),
        Err(InvitationEntriesError::NoEntries)
    );
    let many = vec!["09352864812"; 1001];
    assert_eq!(
        InvitationEntries::parse(&many, region),
        Err(InvitationEntriesError::TooMany { max: 1000 })
    );
    assert_eq!(
        InvitationEntries::parse(&many[..1000], region)
            .unwrap()
            .len(),
        1000
    );
}

#[tokio::test]
async fn a_thousand_entries_cost_one_user_lookup_one_state_lookup_and_one_write() {
    let olivia = register_sync("Olivia");
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_contacts()
        .times(1)
        .returning(|emails, mobiles| {
            assert_eq!(emails.len() + mobiles.len(), 1000);
            Ok(vec![])
        });
    let mut events = MockEventRepository::new();
    let owner = olivia.summary();
    events
        .expect_find_membership()
        .times(1)
        .returning(move |id, _| Ok(Some(owned(id, &owner))));
    let invitations = MockInvitationRepository::new();
    let service = InvitationService::new(
        Arc::new(users),
        Arc::new(events),
        Arc::new(invitations),
        Arc::new(FixedClock::default()),
    );
    let raw: Vec<String> = (0..1000).map(|i| format!("user{i}@example.com")).collect();
    let entries = InvitationEntries::parse(&raw, PhoneRegion::default()).unwrap();
    let report = service
        .send(
            &olivia,
            SendInvitations {
                event_id: EventId::generate(),
                entries,
                message: None,
                expires_in: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(report.ignored.len(), 1000);
}

/// Event `id` as its owner sees it.
fn owned(id: EventId, owner: &crate::accounts::UserSummary) -> crate::events::Membership {
    crate::events::Membership {
        event: crate::events::Event {
            id,
            details: EventDetails::new(Text::from_stored("E".into()), None, None, None, None)
                .unwrap(),
            owner: owner.clone(),
            members_count: 1,
            seats_taken: 0,
            created_at: FixedClock::START,
            version: crate::Version::FIRST,
        },
        user: owner.id,
        role: crate::events::Role::Owner,
    }
}

fn register_sync(name: &str) -> User {
    User::proven(
        crate::UserId::generate(),
        Text::from_stored(name.into()),
        None,
        None,
        FixedClock::START,
    )
}

#[tokio::test]
async fn an_unreachable_database_surfaces_as_unavailable() {
    let mut events = MockEventRepository::new();
    events
        .expect_find_membership()
        .returning(|_, _| Err(PortError::Unavailable("connection refused".into())));
    let service = InvitationService::new(
        Arc::new(MockUserRepository::new()),
        Arc::new(events),
        Arc::new(MockInvitationRepository::new()),
        Arc::new(FixedClock::default()),
    );
    let entries = InvitationEntries::parse(&["a@b.io"], PhoneRegion::default()).unwrap();
    let result = service
        .send(
            &register_sync("A"),
            SendInvitations {
                event_id: EventId::generate(),
                entries,
                message: None,
                expires_in: None,
            },
        )
        .await;
    assert!(matches!(
        result,
        Err(SendInvitationsError::Port(PortError::Unavailable(_)))
    ));
}

// ---- answering (R10–R12)

#[tokio::test]
async fn r10_only_the_invitee_answers_and_only_once() {
    let (h, olivia, bob, carol, event) = party().await;
    let id = h.send(&olivia, event, &["bob@example.com"]).await.sent[0]
        .invitation
        .id();

    assert!(matches!(
        h.invitations
            .answer(&olivia, id, Reply::of(Answer::Accept), None)
            .await,
        Err(AnswerInvitationError::BySender)
    ));
    assert!(matches!(
        h.invitations
            .answer(&carol, id, Reply::of(Answer::Accept), None)
            .await,
        Err(AnswerInvitationError::NotFound)
    ));
    h.invitations
        .answer(&bob, id, Reply::of(Answer::Reject), None)
        .await
        .unwrap();
    assert!(matches!(
        h.invitations
            .answer(&bob, id, Reply::of(Answer::Accept), None)
            .await,
        Err(AnswerInvitationError::NotPending(NotPending::Answered))
    ));
    assert!(matches!(
        h.invitations
            .answer(&bob, id, Reply::of(Answer::Reject), None)
            .await,
        Err(AnswerInvitationError::NotPending(NotPending::Answered))
    ));
    assert!(matches!(
        h.invitations
            .answer(
                &bob,
                InvitationId::generate(),
                Reply::of(Answer::Accept),
                None
            )
            .await,
        Err(AnswerInvitationError::NotFound)
    ));
}

#[tokio::test]
async fn r10_losing_a_concurrent_answer_race_is_already_answered() {
    let (h, olivia, bob, _, event) = party().await;
    let details = h
        .send(&olivia, event, &["bob@example.com"])
        .await
        .sent
        .remove(0);
    let mut invitations = MockInvitationRepository::new();
    invitations
        .expect_find()
        .returning(move |_| Ok(Some(details.clone())));
    invitations
        .expect_save_answer()
        .returning(|_, _| Err(SaveInvitationError::NotPending(NotPending::Answered)));
    let mut events = MockEventRepository::new();
    events
        .expect_find_rules()
        .returning(|_| Ok(Some(RsvpRules::default())));
    let service = InvitationService::new(
        Arc::new(MockUserRepository::new()),
        Arc::new(events),
        Arc::new(invitations),
        Arc::new(FixedClock::default()),
    );
    let result = service
        .answer(
            &bob,
            InvitationId::generate(),
            Reply::of(Answer::Accept),
            None,
        )
        .await;
    assert!(matches!(
        result,
        Err(AnswerInvitationError::NotPending(NotPending::Answered))
    ));
}

#[test]
fn r10_the_aggregate_refuses_strangers_the_sender_and_second_answers() {
    let (sender, invitee, stranger) = (
        crate::UserId::generate(),
        crate::UserId::generate(),
        crate::UserId::generate(),
    );
    let now = FixedClock::START;
    let mut invitation =
        Invitation::new_pending(EventId::generate(), sender, invitee, "x@y.io".into(), now);
    assert_eq!(
        invitation.answer(
            stranger,
            None,
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            now
        ),
        Err(crate::invitations::AnswerRefused::NotVisible)
    );
    assert_eq!(
        invitation.answer(
            sender,
            Some(Role::Owner),
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            now
        ),
        Err(crate::invitations::AnswerRefused::BySender)
    );
    assert_eq!(invitation.answered_at(), None);
    let later = now + Duration::minutes(5);
    invitation
        .answer(
            invitee,
            None,
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            later,
        )
        .unwrap();
    assert_eq!(
        invitation.answered_at(),
        Some(later),
        "R11: answered_at is set on answer"
    );
    assert_eq!(
        invitation.answer(
            invitee,
            None,
            Reply::of(Answer::Reject),
            &RsvpRules::default(),
            later
        ),
        Err(crate::invitations::AnswerRefused::NotPending(
            NotPending::Answered
        ))
    );
    assert_eq!(invitation.status(), InvitationStatus::Accepted);
}

#[tokio::test]
async fn r12_nobody_but_sender_and_invitee_sees_an_invitation() {
    let (h, olivia, bob, carol, event) = party().await;
    let id = h.send(&olivia, event, &["bob@example.com"]).await.sent[0]
        .invitation
        .id();
    assert!(h.invitations.get(&olivia, id).await.is_ok());
    assert!(h.invitations.get(&bob, id).await.is_ok());
    assert!(matches!(
        h.invitations.get(&carol, id).await,
        Err(GetInvitationError::NotFound)
    ));

    let all = InvitationFilter::default();
    let page = PageRequest::default();
    assert_eq!(
        h.invitations
            .list_sent(&olivia, all, page)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        h.invitations
            .list_received(&bob, all, page)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(h
        .invitations
        .list_sent(&carol, all, page)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(h
        .invitations
        .list_received(&carol, all, page)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(h
        .invitations
        .list_received(&olivia, all, page)
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test]
async fn lists_filter_by_status_and_event() {
    let (h, olivia, bob, carol, event) = party().await;
    let other = h.event_of(&olivia).await;
    let first = h
        .send(&olivia, event, &["bob@example.com", "carol@example.com"])
        .await;
    h.send(&olivia, other, &["bob@example.com"]).await;
    h.invitations
        .answer(
            &bob,
            first.sent[0].invitation.id(),
            Reply::of(Answer::Accept),
            None,
        )
        .await
        .unwrap();
    h.invitations
        .answer(
            &carol,
            first.sent[1].invitation.id(),
            Reply::of(Answer::Reject),
            None,
        )
        .await
        .unwrap();

    let page = PageRequest::default();
    let count = |status: &str, event_id| {
        let filter = InvitationFilter {
            status: StatusFilter::parse(status).unwrap(),
            event_id,
        };
        let invitations = &h.invitations;
        let olivia = &olivia;
        async move {
            invitations
                .list_sent(olivia, filter, page)
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(count("all", None).await, 3);
    assert_eq!(count("pending", None).await, 1);
    assert_eq!(count("accepted", None).await, 1);
    assert_eq!(count("rejected", None).await, 1);
    assert_eq!(count("all", Some(event)).await, 2);
    assert_eq!(count("pending", Some(event)).await, 0);
}
