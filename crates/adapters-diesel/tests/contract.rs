//! The repository ports' contract, one set of cases run against every implementation: the
//! in-memory fakes of `domain::testing` (which the domain's and the HTTP adapter's tests run on),
//! SQLite always, and PostgreSQL when `TEST_DATABASE_URL` is set (and required when `CI` is set).
//! Each case owns a fresh store or database: `fakes::name`, `sqlite::name`, `postgres::name`.
//!
//! Cases that need the diesel adapter itself stay in `diesel_only`, each saying why.

use std::sync::Arc;

mod common;
#[path = "common/contract.rs"]
mod contract_cases;

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::{Backend, Database, DatabaseConfig, RandomTokenIssuer};
use chrono::{DateTime, Duration, Utc};
use common::{new_user, now, per_backend};
use contract_cases::{contract, Target};
use domain::ports::*;
use domain::services::{InvitationService, SendInvitations};
use domain::{
    Answer, Email, EventDetails, EventId, Invitation, InvitationEntries, InvitationId,
    InvitationStatus, InviteeState, Limit, Login, Mobile, NotPending, PageRequest, PhoneRegion,
    StatusFilter, Text, User, UserId,
};

/// Every repository port of one store, as the services see them.
trait Repositories: UserRepository + TokenRepository + EventRepository + InvitationRepository {}

impl<T> Repositories for T where
    T: UserRepository + TokenRepository + EventRepository + InvitationRepository + ?Sized
{
}

contract_cases::subject!(Repositories);

struct Clock0;
impl Clock for Clock0 {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

async fn user(
    db: &dyn Repositories,
    name: &str,
    email: Option<&str>,
    mobile: Option<&str>,
) -> User {
    UserRepository::create(db, new_user(name, email, mobile))
        .await
        .unwrap()
}

fn new_event(owner: &User) -> NewEvent {
    let details =
        EventDetails::new(Text::from_stored("Party".into()), None, None, None, None).unwrap();
    NewEvent {
        id: EventId::generate(),
        details,
        owner: owner.summary(),
        created_at: now(),
    }
}

async fn event(db: &dyn Repositories, owner: &User) -> EventId {
    EventRepository::create(db, new_event(owner))
        .await
        .unwrap()
        .id
}

async fn invite(
    db: &dyn Repositories,
    event: EventId,
    sender: &User,
    invitee: &User,
) -> Invitation {
    let invitation = Invitation::new_pending(event, sender.id, invitee.id, "contact".into(), now());
    assert_eq!(
        db.create_batch(std::slice::from_ref(&invitation))
            .await
            .unwrap(),
        [BatchOutcome::Created]
    );
    invitation
}

async fn answer(
    db: &dyn Repositories,
    invitation: &Invitation,
    answer: Answer,
) -> Result<(), SaveInvitationError> {
    let mut answered = invitation.clone();
    answered
        .answer(
            invitation.invitee_id(),
            None,
            answer,
            now() + Duration::minutes(1),
        )
        .unwrap();
    db.save_answer(&answered).await
}

fn page(limit: i64, after: Option<uuid::Uuid>) -> PageRequest {
    PageRequest {
        limit: Limit::new(limit).unwrap(),
        after,
    }
}

contract! {
    async fn users_are_found_by_email_or_mobile_and_contacts_are_unique(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let ann = user(db, "Ann", Some("ann@example.com"), Some("09352864812")).await;
        let bob = user(db, "Bob", Some("bob@example.com"), None).await;

        let by_email = db.find_credentials(&Login::Email(Email::parse("ANN@example.com").unwrap())).await.unwrap();
        let (found, hash) = by_email.unwrap();
        assert_eq!(found, ann);
        assert_eq!(hash.0, "$argon2id$fake$Ann");
        let mobile = Mobile::parse("+98 935 286 4812", PhoneRegion::default()).unwrap();
        assert_eq!(db.find_credentials(&Login::Mobile(mobile.clone())).await.unwrap().unwrap().0.id, ann.id);
        assert!(db.find_credentials(&Login::Email(Email::parse("x@example.com").unwrap())).await.unwrap().is_none());

        let taken_email = UserRepository::create(db, NewUser {
            id: UserId::generate(), name: Text::from_stored("A2".into()),
            email: Some(Email::parse("Ann@Example.com").unwrap()), mobile: None,
            password_hash: PasswordHash("h".into()), created_at: now(),
        }).await;
        assert!(matches!(taken_email, Err(CreateUserError::EmailTaken)));
        let taken_mobile = UserRepository::create(db, NewUser {
            id: UserId::generate(), name: Text::from_stored("A3".into()), email: None,
            mobile: Some(mobile.clone()), password_hash: PasswordHash("h".into()), created_at: now(),
        }).await;
        assert!(matches!(taken_mobile, Err(CreateUserError::MobileTaken)));

        let emails = [Email::parse("bob@example.com").unwrap(), Email::parse("nobody@example.com").unwrap()];
        let mut found: Vec<_> = db.find_by_contacts(&emails, &[mobile]).await.unwrap().into_iter().map(|u| u.id).collect();
        found.sort();
        let mut expected = vec![ann.id, bob.id];
        expected.sort();
        assert_eq!(found, expected);
        assert!(db.find_by_contacts(&[], &[]).await.unwrap().is_empty());
    }

    async fn tokens_resolve_until_revoked_or_expired(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let ann = user(db, "Ann", Some("ann@example.com"), None).await;
        let issued = RandomTokenIssuer.issue();
        db.store(NewToken { hash: issued.hash.clone(), user_id: ann.id, created_at: now(), expires_at: now() + Duration::days(1) }).await.unwrap();

        assert_eq!(db.find_user(&issued.hash, now()).await.unwrap().map(|u| u.id), Some(ann.id));
        assert_eq!(db.find_user(&issued.hash, now() + Duration::days(1)).await.unwrap(), None, "expired");
        assert_eq!(db.find_user(&RandomTokenIssuer.digest("other"), now()).await.unwrap(), None);
        db.revoke(&issued.hash, now()).await.unwrap();
        db.revoke(&issued.hash, now()).await.unwrap();
        assert_eq!(db.find_user(&issued.hash, now()).await.unwrap(), None, "revoked");
    }

    async fn events_are_visible_to_their_members_only(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let ann = user(db, "Ann", Some("ann@example.com"), None).await;
        let bob = user(db, "Bob", Some("bob@example.com"), None).await;
        let start = now() + Duration::days(3);
        let details = EventDetails::new(
            Text::from_stored("Launch".into()),
            Some(Text::from_stored("Line one\nline two; DROP TABLE events; -- 'quoted' ✓".into())),
            Some(Text::from_stored("Tehran".into())),
            Some(start),
            Some(start + Duration::hours(2)),
        ).unwrap();
        let created = EventRepository::create(db, NewEvent { id: EventId::generate(), details: details.clone(), owner: ann.summary(), created_at: now() }).await.unwrap();

        let shown = db.find_for_member(created.id, ann.id).await.unwrap().unwrap();
        assert_eq!(shown, created);
        assert_eq!(shown.details, details, "text and times are stored literally");
        assert_eq!(shown.members_count, 1);
        assert_eq!(db.find_for_member(created.id, bob.id).await.unwrap(), None);
        assert_eq!(db.find_for_member(EventId::generate(), ann.id).await.unwrap(), None);

        let members = db.list_members(created.id, PageRequest::default()).await.unwrap();
        assert_eq!(members.items.len(), 1);
        assert_eq!(members.items[0].user.id, ann.id);
        assert_eq!(members.items[0].role, domain::Role::Owner);
        assert!(db.list_for_member(bob.id, PageRequest::default()).await.unwrap().items.is_empty());
    }

    async fn event_lists_page_newest_first_without_gaps_or_duplicates(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
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
            seen.extend(p.items.iter().map(|e| e.id));
            match p.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ids);
    }

    async fn accepting_makes_a_member_and_answers_only_once(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let (ann, bob) = (user(db, "Ann", Some("a@example.com"), None).await, user(db, "Bob", Some("b@example.com"), None).await);
        let event_id = event(db, &ann).await;
        let invitation = invite(db, event_id, &ann, &bob).await;

        let states = db.invitee_states(event_id, &[bob.id, ann.id], now()).await.unwrap();
        assert_eq!(states[&bob.id], InviteeState { is_member: false, latest: Some(InvitationStatus::Pending) });
        assert_eq!(states[&ann.id], InviteeState { is_member: true, latest: None });

        answer(db, &invitation, Answer::Accept).await.unwrap();
        assert!(matches!(answer(db, &invitation, Answer::Reject).await, Err(SaveInvitationError::NotPending(NotPending::Answered))));

        let stored = db.find(invitation.id()).await.unwrap().unwrap();
        assert_eq!(stored.invitation.status(), InvitationStatus::Accepted);
        assert_eq!(stored.invitation.answered_at(), Some(now() + Duration::minutes(1)));
        assert_eq!(stored.event_title.as_str(), "Party");
        assert_eq!((stored.sender.id, stored.invitee.id), (ann.id, bob.id));
        assert_eq!(db.find_for_member(event_id, bob.id).await.unwrap().unwrap().members_count, 2);
        assert_eq!(db.invitee_states(event_id, &[bob.id], now()).await.unwrap()[&bob.id],
            InviteeState { is_member: true, latest: Some(InvitationStatus::Accepted) });
        assert!(db.find(InvitationId::generate()).await.unwrap().is_none());
    }

    async fn rejecting_makes_no_member_and_is_the_latest_state(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let (ann, bob) = (user(db, "Ann", Some("a@example.com"), None).await, user(db, "Bob", Some("b@example.com"), None).await);
        let event_id = event(db, &ann).await;
        let invitation = invite(db, event_id, &ann, &bob).await;
        answer(db, &invitation, Answer::Reject).await.unwrap();
        assert_eq!(db.find_for_member(event_id, bob.id).await.unwrap(), None);
        assert_eq!(db.invitee_states(event_id, &[bob.id], now()).await.unwrap()[&bob.id],
            InviteeState { is_member: false, latest: Some(InvitationStatus::Rejected) });
    }

    async fn a_second_pending_invitation_for_one_invitee_is_refused(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let (ann, bob, cy) = (
            user(db, "Ann", Some("a@example.com"), None).await,
            user(db, "Bob", Some("b@example.com"), None).await,
            user(db, "Cy", Some("c@example.com"), None).await,
        );
        let event_id = event(db, &ann).await;
        invite(db, event_id, &ann, &bob).await;
        let again = [
            Invitation::new_pending(event_id, ann.id, bob.id, "b@example.com".into(), now()),
            Invitation::new_pending(event_id, ann.id, cy.id, "c@example.com".into(), now()),
        ];
        assert_eq!(db.create_batch(&again).await.unwrap(), [BatchOutcome::AlreadyPending, BatchOutcome::Created]);
        let pending = InvitationFilter { status: StatusFilter::only(InvitationStatus::Pending), event_id: None };
        assert_eq!(db.list_sent(ann.id, pending, PageRequest::default(), now()).await.unwrap().items.len(), 2);
    }

    async fn invitation_lists_filter_by_party_status_and_event_and_page_cleanly(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let ann = user(db, "Ann", Some("a@example.com"), None).await;
        let (e1, e2) = (event(db, &ann).await, event(db, &ann).await);
        let mut sent = Vec::new();
        for i in 0..9 {
            let invitee = user(db, &format!("U{i}"), Some(&format!("u{i}@example.com")), None).await;
            let invitation = invite(db, if i % 3 == 0 { e2 } else { e1 }, &ann, &invitee).await;
            match i % 3 {
                1 => answer(db, &invitation, Answer::Accept).await.unwrap(),
                2 => answer(db, &invitation, Answer::Reject).await.unwrap(),
                _ => {}
            }
            sent.push(invitation);
        }
        let count = |status: &str, event_id| {
            let filter = InvitationFilter { status: StatusFilter::parse(status).unwrap(), event_id };
            let db = &db;
            let ann = ann.id;
            async move { db.list_sent(ann, filter, PageRequest::default(), now()).await.unwrap().items.len() }
        };
        assert_eq!(count("all", None).await, 9);
        assert_eq!(count("pending", None).await, 3);
        assert_eq!(count("accepted", None).await, 3);
        assert_eq!(count("rejected", None).await, 3);
        assert_eq!(count("all", Some(e2)).await, 3);
        assert_eq!(count("accepted", Some(e2)).await, 0);

        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let p = db.list_sent(ann.id, InvitationFilter::default(), page(2, after), now()).await.unwrap();
            assert!(p.items.len() <= 2);
            seen.extend(p.items.iter().map(|d| d.invitation.id()));
            match p.next_after { Some(next) => after = Some(next), None => break }
        }
        let expected: Vec<_> = sent.iter().rev().map(Invitation::id).collect();
        assert_eq!(seen, expected, "newest first, no gaps, no duplicates");

        let invitee = sent[0].invitee_id();
        let received = db.list_received(invitee, InvitationFilter::default(), PageRequest::default(), now()).await.unwrap();
        assert_eq!(received.items.len(), 1);
        assert!(db.list_received(ann.id, InvitationFilter::default(), PageRequest::default(), now()).await.unwrap().items.is_empty());
    }

    async fn fifty_concurrent_answers_have_exactly_one_winner(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = subject.db.clone();
        let (ann, bob) = (user(&*db, "Ann", Some("a@example.com"), None).await, user(&*db, "Bob", Some("b@example.com"), None).await);
        let event_id = event(&*db, &ann).await;
        let invitation = invite(&*db, event_id, &ann, &bob).await;
        let other = subject.second();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..50 {
            let db = if i % 2 == 0 { db.clone() } else { other.clone() };
            let invitation = invitation.clone();
            let choice = if i % 3 == 0 { Answer::Reject } else { Answer::Accept };
            tasks.spawn(async move { answer(&*db, &invitation, choice).await });
        }
        let (mut won, mut lost) = (0, 0);
        while let Some(result) = tasks.join_next().await {
            match result.unwrap() {
                Ok(()) => won += 1,
                Err(SaveInvitationError::NotPending(NotPending::Answered)) => lost += 1,
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!((won, lost), (1, 49));
        let status = db.find(invitation.id()).await.unwrap().unwrap().invitation.status();
        let members = db.list_members(event_id, PageRequest::default()).await.unwrap().items.len();
        match status {
            InvitationStatus::Accepted => assert_eq!(members, 2),
            InvitationStatus::Rejected => assert_eq!(members, 1),
            other => panic!("{other}"),
        }
    }

    async fn twenty_concurrent_batches_for_one_invitee_store_one_pending_invitation(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = subject.db.clone();
        let (ann, bob) = (user(&*db, "Ann", Some("a@example.com"), None).await, user(&*db, "Bob", Some("b@example.com"), None).await);
        let event_id = event(&*db, &ann).await;
        let other = subject.second();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let db = if i % 2 == 0 { db.clone() } else { other.clone() };
            let batch = [Invitation::new_pending(event_id, ann.id, bob.id, "b@example.com".into(), now())];
            tasks.spawn(async move { db.create_batch(&batch).await });
        }
        let mut created = 0;
        while let Some(result) = tasks.join_next().await {
            if result.unwrap().unwrap() == [BatchOutcome::Created] {
                created += 1;
            }
        }
        assert_eq!(created, 1);
        let all = db.list_received(bob.id, InvitationFilter::default(), PageRequest::default(), now()).await.unwrap();
        assert_eq!(all.items.len(), 1);
    }

    async fn concurrent_sends_through_the_service_report_the_losers_already_invited(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = subject.db.clone();
        let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
        let event_id = event(&*db, &ann).await;
        let mut contacts = Vec::new();
        for i in 0..10 {
            user(&*db, &format!("U{i}"), Some(&format!("u{i}@example.com")), None).await;
            contacts.push(format!("u{i}@example.com"));
        }
        let other = subject.second();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let db = if i % 2 == 0 { db.clone() } else { other.clone() };
            let service = InvitationService::new(db.clone(), db.clone(), db, Arc::new(Clock0));
            let entries = InvitationEntries::parse(&contacts, PhoneRegion::default()).unwrap();
            let ann = ann.clone();
            tasks.spawn(async move { service.send(&ann, SendInvitations { event_id, entries, message: None }).await });
        }
        let mut sent = 0;
        while let Some(result) = tasks.join_next().await {
            let report = result.unwrap().unwrap();
            assert_eq!(report.sent.len() + report.ignored.len(), 10);
            assert!(report.ignored.iter().all(|i| i.reason == domain::IgnoreReason::AlreadyInvited));
            sent += report.sent.len();
        }
        assert_eq!(sent, 10, "each user invited exactly once over all requests");
    }

    async fn answering_adds_a_membership_at_most_once(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let (ann, bob) = (user(db, "Ann", Some("a@example.com"), None).await, user(db, "Bob", Some("b@example.com"), None).await);
        let event_id = event(db, &ann).await;
        let first = invite(db, event_id, &ann, &bob).await;
        answer(db, &first, Answer::Accept).await.unwrap();
        assert_eq!(db.find(first.id()).await.unwrap().unwrap().invitation.status(), InvitationStatus::Accepted);
        // Accepting the same invitation again stores nothing and adds no second membership. (A
        // second invitation of a member cannot be stored: the adapters re-check R6 inside the
        // batch insert, see tests/hostile.rs.)
        assert!(matches!(answer(db, &first, Answer::Accept).await, Err(SaveInvitationError::NotPending(NotPending::Answered))));
        let members = db.list_members(event_id, PageRequest::default()).await.unwrap().items;
        assert_eq!(members.iter().map(|m| m.user.id).collect::<Vec<_>>(), [bob.id, ann.id]);
        assert_eq!(db.find_for_member(event_id, bob.id).await.unwrap().unwrap().members_count, 2);

        // An invitation that was never stored (or whose event is gone) updates no row.
        let stranger = Invitation::new_pending(event_id, ann.id, bob.id, "b@example.com".into(), now());
        assert!(matches!(answer(db, &stranger, Answer::Accept).await, Err(SaveInvitationError::NotFound)));
        assert!(db.find(stranger.id()).await.unwrap().is_none());
        // A pending invitation is no answer to store.
        let carol = user(db, "Carol", Some("c@example.com"), None).await;
        assert!(matches!(db.save_answer(&invite(db, event_id, &ann, &carol).await).await, Err(SaveInvitationError::Port(_))));
    }

    async fn rows_that_refer_to_nothing_or_lack_a_contact_are_refused(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let ann = user(db, "Ann", Some("a@example.com"), None).await;
        let ghost = User { id: UserId::generate(), ..ann.clone() };
        let event_id = event(db, &ann).await;

        let no_contact = UserRepository::create(db, new_user("Nobody", None, None)).await;
        assert!(matches!(no_contact, Err(CreateUserError::Port(_))), "{no_contact:?}");
        assert!(EventRepository::create(db, new_event(&ghost)).await.is_err(), "an event of an unknown owner");
        let token = NewToken { hash: RandomTokenIssuer.issue().hash, user_id: ghost.id, created_at: now(), expires_at: now() + Duration::days(1) };
        assert!(db.store(token).await.is_err(), "a token of an unknown user");

        let bob = user(db, "Bob", Some("b@example.com"), None).await;
        let batch = [
            Invitation::new_pending(event_id, ann.id, bob.id, "b@example.com".into(), now()),
            Invitation::new_pending(EventId::generate(), ann.id, bob.id, "b@example.com".into(), now()),
        ];
        assert!(db.create_batch(&batch).await.is_err(), "an invitation to an unknown event");
        let ghostly = [Invitation::new_pending(event_id, ann.id, ghost.id, "g@example.com".into(), now())];
        assert!(db.create_batch(&ghostly).await.is_err(), "an invitation to an unknown user");
        let all = InvitationFilter::default();
        assert!(db.list_sent(ann.id, all, PageRequest::default(), now()).await.unwrap().items.is_empty(), "a batch is all or nothing");
        assert_eq!(db.invitee_states(event_id, &[bob.id], now()).await.unwrap().get(&bob.id), None);
    }

    async fn times_are_kept_to_the_microsecond(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let precise = now() + Duration::nanoseconds(123_456_789);
        let kept = now() + Duration::microseconds(123_456);
        let created = UserRepository::create(db, NewUser { created_at: precise, ..new_user("Ann", Some("a@example.com"), None) }).await.unwrap();
        assert_eq!(created.created_at, kept);
        let login = Login::Email(Email::parse("a@example.com").unwrap());
        assert_eq!(db.find_credentials(&login).await.unwrap().unwrap().0.created_at, kept);

        let details = EventDetails::new(Text::from_stored("Party".into()), None, None, Some(precise), Some(precise)).unwrap();
        let event = EventRepository::create(db, NewEvent { details, created_at: precise, ..new_event(&created) }).await.unwrap();
        let found = db.find_for_member(event.id, created.id).await.unwrap().unwrap();
        assert_eq!(found, event);
        assert_eq!((found.created_at, found.details.starts_at(), found.details.ends_at()), (kept, Some(kept), Some(kept)));
        let members = db.list_members(event.id, PageRequest::default()).await.unwrap().items;
        assert_eq!(members[0].joined_at, kept);
    }

    async fn members_are_listed_newest_first_in_clean_pages(target: Target) {
        let Some(subject) = Subject::fresh(target) else { return };
        let db = &*subject.db;
        let ann = user(db, "Ann", Some("ann@example.com"), None).await;
        let event_id = event(db, &ann).await;
        let mut joined = vec![ann.id];
        for i in 0..4 {
            let guest = user(db, &format!("G{i}"), Some(&format!("g{i}@example.com")), None).await;
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
            match p.next_after { Some(next) => after = Some(next), None => break }
        }
        assert_eq!(seen, joined);
        assert_eq!(db.find_for_member(event_id, ann.id).await.unwrap().unwrap().members_count, 5);
        let listed = db.list_for_member(joined[0], PageRequest::default()).await.unwrap().items;
        assert_eq!(listed.iter().map(|e| (e.id, e.members_count)).collect::<Vec<_>>(), [(event_id, 5)]);
    }
}

/// Cases that need the diesel adapter itself.
mod diesel_only {
    use super::*;

    per_backend! {
        // Counts the SQL statements the adapter sends (`Database::statements_executed`): the
        // fakes send none, and a constant number of round trips is the adapter's promise.
        async fn a_batch_of_a_thousand_contacts_costs_as_many_statements_as_one_of_ten(backend: Backend) {
            let Some(database) = TestDatabase::new(backend) else { return };
            let db = Arc::new(database.open());
            let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
            let mut contacts = Vec::new();
            for i in 0..1000 {
                if i % 2 == 0 {
                    user(&*db, &format!("U{i}"), Some(&format!("u{i}@example.com")), None).await;
                }
                contacts.push(format!("u{i}@example.com"));
            }
            let service = InvitationService::new(db.clone(), db.clone(), db.clone(), Arc::new(Clock0));
            let mut cost = Vec::new();
            for size in [10, 1000] {
                let event_id = event(&*db, &ann).await;
                let entries = InvitationEntries::parse(&contacts[..size], PhoneRegion::default()).unwrap();
                let before = db.statements_executed();
                let report = service.send(&ann, SendInvitations { event_id, entries, message: None }).await.unwrap();
                cost.push(db.statements_executed() - before);
                assert_eq!(report.sent.len(), size / 2);
            }
            assert_eq!(cost[0], cost[1], "statements for 10 vs 1000 contacts: {cost:?}");
            // At most: four pool check-outs (each pinged unless used in the last second), the event, the
            // users, two state queries, and the write transaction (BEGIN, INSERT, SELECT, COMMIT),
            // with its outbox: the sent invitations' details, the event's managers, the sequence, the
            // changes and their recipients (one multi-row INSERT each), and on PostgreSQL a NOTIFY.
            assert!(cost[0] <= 16, "{cost:?}");
        }
    }
}

// Opening a database is the adapter's own business (the fakes have no connection to lose).

#[test]
fn an_unreachable_postgres_fails_fast_with_a_connect_error() {
    let started = std::time::Instant::now();
    let mut config = DatabaseConfig::new("postgres://postgres@127.0.0.1:1/none");
    config.connection_timeout = std::time::Duration::from_secs(2);
    let result = Database::open(&config);
    assert!(matches!(
        result,
        Err(adapters_diesel::DatabaseError::Connect(_))
    ));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_fresh_sqlite_path_gets_its_directory_and_schema() {
    let dir = tempfile_dir();
    let path = format!("{}/nested/dir/app.sqlite3", dir.display());
    Database::open(&DatabaseConfig::new(format!("sqlite://{path}"))).unwrap();
    assert!(std::path::Path::new(&path).exists());
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("em-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Secrets the processes on one database share through it (`Database::shared_secret`): an
/// operation of the adapter, not a port, so the fakes have none.
mod shared_secrets {
    use super::*;

    per_backend! {
        async fn a_shared_secret_is_made_once_and_every_process_reads_the_same(backend: Backend) {
            let Some(database) = TestDatabase::new(backend) else { return };
            // Four processes starting at once on a fresh database: a pool each, racing to make it.
            let pools: Vec<Database> = (0..4).map(|_| database.open()).collect();
            let handles: Vec<_> = pools
                .into_iter()
                .map(|db| tokio::spawn(async move { db.shared_secret("cursor").await.unwrap() }))
                .collect();
            let mut secrets = Vec::new();
            for handle in handles {
                secrets.push(handle.await.unwrap());
            }
            assert!(secrets.iter().all(|s| *s == secrets[0]), "{secrets:?}");
            assert_ne!(secrets[0], [0; 32]);
            // Asked again, later, by another pool: the same value; one row, in standard base64.
            let again = database.open().shared_secret("cursor").await.unwrap();
            assert_eq!(again, secrets[0]);
            let stored = database.texts("SELECT value FROM service_secrets WHERE name = 'cursor'");
            assert_eq!(stored.len(), 1);
            use base64::Engine as _;
            assert_eq!(base64::engine::general_purpose::STANDARD.decode(&stored[0]).unwrap(), again);
            // Another name is another secret.
            let other = database.open().shared_secret("other").await.unwrap();
            assert_ne!(other, again);
        }
    }
}

/// The invitation lifecycle's part of the contract (docs/api.md, "Invitation lifecycle"): notes
/// and expiries stored, cancels and resends conditional like answers, statuses read as of a time,
/// dead invitations expired on write and by the sweeper, and the races among answer, cancel and
/// expiry decided by the store.
mod lifecycle {
    use domain::InvitationTtl;

    use super::*;

    /// An hour, the time to live of these cases' invitations.
    fn hour() -> InvitationTtl {
        InvitationTtl::parse("1h").unwrap()
    }

    /// Stores a pending invitation sent at `sent_at`, expiring an hour later, with a note.
    async fn invite_at(
        db: &dyn Repositories,
        event: EventId,
        sender: &User,
        invitee: &User,
        sent_at: DateTime<Utc>,
    ) -> Invitation {
        let invitation =
            Invitation::new_pending(event, sender.id, invitee.id, "contact".into(), sent_at)
                .with_message(Some(Text::parse("See you\nthere!", 500, true).unwrap()))
                .expiring(hour());
        assert_eq!(
            db.create_batch(std::slice::from_ref(&invitation))
                .await
                .unwrap(),
            [BatchOutcome::Created]
        );
        invitation
    }

    /// `invitation` in `state`, built around the domain's rules: what the store is asked to
    /// store, whatever the store holds now, so that the store's own conditions are what is tested.
    fn changed(invitation: &Invitation, state: domain::InvitationState) -> Invitation {
        Invitation::restore(domain::StoredInvitation {
            state,
            ..invitation.to_stored()
        })
    }

    async fn cancel(
        db: &dyn Repositories,
        invitation: &Invitation,
        at: DateTime<Utc>,
    ) -> Result<(), SaveInvitationError> {
        db.save_cancel(&changed(
            invitation,
            domain::InvitationState::Cancelled { at },
        ))
        .await
    }

    async fn accept(
        db: &dyn Repositories,
        invitation: &Invitation,
        at: DateTime<Utc>,
    ) -> Result<(), SaveInvitationError> {
        db.save_answer(&changed(
            invitation,
            domain::InvitationState::Answered {
                answer: Answer::Accept,
                at,
            },
        ))
        .await
    }

    async fn stored(db: &dyn Repositories, invitation: &Invitation) -> Invitation {
        db.find(invitation.id()).await.unwrap().unwrap().invitation
    }

    /// Ann, her event, and Bob.
    async fn cast(db: &dyn Repositories) -> (User, User, EventId) {
        let ann = user(db, "Ann", Some("a@example.com"), None).await;
        let bob = user(db, "Bob", Some("b@example.com"), None).await;
        let event_id = event(db, &ann).await;
        (ann, bob, event_id)
    }

    fn only(status: InvitationStatus) -> InvitationFilter {
        InvitationFilter {
            status: StatusFilter::only(status),
            event_id: None,
        }
    }

    contract! {
        async fn the_note_and_the_expiry_are_stored_and_read_back(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, event_id) = cast(db).await;
            let invitation = invite_at(db, event_id, &ann, &bob, now()).await;
            let found = stored(db, &invitation).await;
            assert_eq!(found, invitation);
            assert_eq!(found.message().map(Text::as_str), Some("See you\nthere!"));
            assert_eq!(found.expires_at(), Some(now() + Duration::hours(1)));
            assert_eq!((found.last_resent_at(), found.cancelled_at()), (None, None));
            let never = Invitation::new_pending(event_id, ann.id, user(db, "Cy", Some("c@example.com"), None).await.id, "c".into(), now());
            db.create_batch(std::slice::from_ref(&never)).await.unwrap();
            assert_eq!(stored(db, &never).await, never, "no note, never expires");
        }

        async fn a_cancel_is_stored_once_and_an_answered_or_cancelled_invitation_says_why_it_cannot_change(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, event_id) = cast(db).await;
            let invitation = invite_at(db, event_id, &ann, &bob, now()).await;
            let at = now() + Duration::minutes(5);
            cancel(db, &invitation, at).await.unwrap();
            let found = stored(db, &invitation).await;
            assert_eq!(found.status(), InvitationStatus::Cancelled);
            assert_eq!((found.cancelled_at(), found.answered_at()), (Some(at), None));
            assert!(matches!(cancel(db, &invitation, at).await, Err(SaveInvitationError::NotPending(NotPending::Cancelled))));
            assert!(matches!(accept(db, &invitation, at).await, Err(SaveInvitationError::NotPending(NotPending::Cancelled))));
            assert_eq!(db.list_members(event_id, PageRequest::default()).await.unwrap().items.len(), 1);

            let carol = user(db, "Carol", Some("c@example.com"), None).await;
            let answered = invite_at(db, event_id, &ann, &carol, now()).await;
            accept(db, &answered, at).await.unwrap();
            assert!(matches!(cancel(db, &answered, at).await, Err(SaveInvitationError::NotPending(NotPending::Answered))));
            assert_eq!(stored(db, &answered).await.status(), InvitationStatus::Accepted);

            let unknown = Invitation::new_pending(event_id, ann.id, bob.id, "b".into(), now());
            assert!(matches!(cancel(db, &unknown, at).await, Err(SaveInvitationError::NotFound)));
        }

        async fn past_its_expiry_an_invitation_is_expired_in_every_filter_and_can_no_longer_change(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, event_id) = cast(db).await;
            let invitation = invite_at(db, event_id, &ann, &bob, now()).await;
            let expiry = now() + Duration::hours(1);
            let just_before = expiry - Duration::microseconds(1);
            let count = |filter: InvitationFilter, at: DateTime<Utc>| async move {
                let sent = db.list_sent(ann.id, filter, PageRequest::default(), at).await.unwrap().items.len();
                let received = db.list_received(bob.id, filter, PageRequest::default(), at).await.unwrap().items.len();
                let of_event = db.list_for_event(event_id, filter, PageRequest::default(), at).await.unwrap().items.len();
                assert_eq!((sent, received), (of_event, of_event));
                of_event
            };
            let (pending, expired) = (only(InvitationStatus::Pending), only(InvitationStatus::Expired));
            assert_eq!((count(pending, just_before).await, count(expired, just_before).await), (1, 0));
            assert_eq!((count(pending, expiry).await, count(expired, expiry).await), (0, 1));
            assert_eq!(count(InvitationFilter::default(), expiry).await, 1);
            assert_eq!(db.invitee_states(event_id, &[bob.id], just_before).await.unwrap()[&bob.id].latest, Some(InvitationStatus::Pending));
            assert_eq!(db.invitee_states(event_id, &[bob.id], expiry).await.unwrap()[&bob.id].latest, Some(InvitationStatus::Expired));

            assert!(matches!(accept(db, &invitation, expiry).await, Err(SaveInvitationError::NotPending(NotPending::Expired))));
            assert!(matches!(cancel(db, &invitation, expiry).await, Err(SaveInvitationError::NotPending(NotPending::Expired))));
            let mut resent = invitation.clone();
            resent.resend(ann.id, None, hour(), just_before).unwrap();
            let late = Invitation::restore(domain::StoredInvitation { last_resent_at: Some(expiry), ..resent.to_stored() });
            assert!(matches!(db.save_resend(&late, None).await, Err(SaveInvitationError::NotPending(NotPending::Expired))));
            assert_eq!(stored(db, &invitation).await, invitation, "nothing changed");
            // Just before, it could still be answered.
            accept(db, &invitation, just_before).await.unwrap();
            assert_eq!(count(only(InvitationStatus::Accepted), expiry).await, 1);
        }

        async fn a_batch_first_expires_its_invitees_dead_invitations_so_they_block_nothing(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, event_id) = cast(db).await;
            let old = invite_at(db, event_id, &ann, &bob, now()).await;
            // Still live a microsecond before its expiry: R7 holds.
            let early = [Invitation::new_pending(event_id, ann.id, bob.id, "b".into(), now() + Duration::hours(1) - Duration::microseconds(1))];
            assert_eq!(db.create_batch(&early).await.unwrap(), [BatchOutcome::AlreadyPending]);
            let new = invite_at(db, event_id, &ann, &bob, now() + Duration::hours(1)).await;
            assert_eq!(stored(db, &old).await.state(), domain::InvitationState::Expired, "marked on write");
            assert_eq!(stored(db, &new).await.status(), InvitationStatus::Pending);
            let pending = db.list_received(bob.id, only(InvitationStatus::Pending), PageRequest::default(), now() + Duration::hours(1)).await.unwrap();
            assert_eq!(pending.items.iter().map(|d| d.invitation.id()).collect::<Vec<_>>(), [new.id()]);
        }

        async fn a_resend_is_stored_only_over_the_resend_it_was_decided_on(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, event_id) = cast(db).await;
            let invitation = invite_at(db, event_id, &ann, &bob, now()).await;
            let first_at = now() + Duration::minutes(50);
            let mut first = invitation.clone();
            first.resend(ann.id, None, hour(), first_at).unwrap();
            db.save_resend(&first, None).await.unwrap();
            let found = stored(db, &invitation).await;
            assert_eq!((found.last_resent_at(), found.expires_at()), (Some(first_at), Some(first_at + Duration::hours(1))));
            // A second resend decided on the same (empty) history loses.
            let mut stale = invitation.clone();
            stale.resend(ann.id, None, hour(), first_at + Duration::seconds(1)).unwrap();
            match db.save_resend(&stale, None).await {
                Err(SaveInvitationError::ResentMeanwhile { last_resent_at }) => assert_eq!(last_resent_at, first_at),
                other => panic!("{other:?}"),
            }
            // One decided on the stored resend is stored, past the first expiry.
            let second_at = now() + Duration::minutes(70);
            let mut second = found.clone();
            second.resend(ann.id, None, hour(), second_at).unwrap();
            db.save_resend(&second, Some(first_at)).await.unwrap();
            assert_eq!(stored(db, &invitation).await.expires_at(), Some(second_at + Duration::hours(1)));
            accept(db, &invitation, now() + Duration::minutes(90)).await.unwrap();
        }

        async fn the_sweeper_expires_due_pending_invitations_in_bounded_batches_and_nothing_else(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, _, event_id) = cast(db).await;
            let mut due = Vec::new();
            for i in 0..5 {
                let invitee = user(db, &format!("U{i}"), Some(&format!("u{i}@example.com")), None).await;
                due.push(invite_at(db, event_id, &ann, &invitee, now() + Duration::minutes(i)).await);
            }
            accept(db, &due[0], now()).await.unwrap();
            cancel(db, &due[1], now()).await.unwrap();
            let later = user(db, "Late", Some("late@example.com"), None).await;
            let live = invite_at(db, event_id, &ann, &later, now() + Duration::minutes(30)).await;
            let never_user = user(db, "Never", Some("never@example.com"), None).await;
            let never = Invitation::new_pending(event_id, ann.id, never_user.id, "n".into(), now());
            db.create_batch(std::slice::from_ref(&never)).await.unwrap();

            let at = now() + Duration::minutes(70);
            assert_eq!(db.expire_due(at, 2).await.unwrap(), 2);
            assert_eq!(db.expire_due(at, 2).await.unwrap(), 1);
            assert_eq!(db.expire_due(at, 2).await.unwrap(), 0);
            let states = [&due[0], &due[1], &due[2], &due[3], &due[4], &live, &never];
            let mut statuses = Vec::new();
            for invitation in states {
                statuses.push(stored(db, invitation).await.status());
            }
            use InvitationStatus::*;
            assert_eq!(statuses, [Accepted, Cancelled, Expired, Expired, Expired, Pending, Pending]);
        }

        async fn an_events_list_holds_every_invitation_to_it_and_no_other(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, event_id) = cast(db).await;
            let other = event(db, &ann).await;
            let carol = user(db, "Carol", Some("c@example.com"), None).await;
            let first = invite_at(db, event_id, &ann, &bob, now()).await;
            let second = invite_at(db, event_id, &ann, &carol, now()).await;
            invite_at(db, other, &ann, &bob, now()).await;
            cancel(db, &first, now()).await.unwrap();
            let list = |filter, page| async move { db.list_for_event(event_id, filter, page, now()).await.unwrap() };
            let all = list(InvitationFilter::default(), PageRequest::default()).await;
            assert_eq!(all.items.iter().map(|d| d.invitation.id()).collect::<Vec<_>>(), [second.id(), first.id()]);
            let one = list(InvitationFilter::default(), page(1, None)).await;
            assert_eq!((one.items.len(), one.next_after), (1, Some(second.id().as_uuid())));
            let rest = list(InvitationFilter::default(), page(1, one.next_after)).await;
            assert_eq!((rest.items[0].invitation.id(), rest.next_after), (first.id(), None));
            let cancelled = list(only(InvitationStatus::Cancelled), PageRequest::default()).await;
            assert_eq!(cancelled.items.len(), 1);
            // The filter's event is the list's own.
            let elsewhere = InvitationFilter { event_id: Some(other), ..InvitationFilter::default() };
            assert_eq!(list(elsewhere, PageRequest::default()).await.items.len(), 2);
        }

        async fn accept_cancel_and_expiry_racing_on_one_invitation_have_one_winner_twenty_times(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = subject.db.clone();
            let other = subject.second();
            let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
            let event_id = event(&*db, &ann).await;
            let mut winners = std::collections::HashMap::new();
            for round in 0..20 {
                let invitee = user(&*db, &format!("U{round}"), Some(&format!("u{round}@example.com")), None).await;
                let invitation = invite_at(&*db, event_id, &ann, &invitee, now()).await;
                // The answer and the cancel come a microsecond before the expiry, the sweeper at
                // it: each is right in its own view, and whichever commits first wins.
                let before = now() + Duration::hours(1) - Duration::microseconds(1);
                let expiry = now() + Duration::hours(1);
                let (a, c, s) = (db.clone(), other.clone(), if round % 2 == 0 { db.clone() } else { other.clone() });
                let (i1, i2) = (invitation.clone(), invitation.clone());
                let accepting = tokio::spawn(async move { accept(&*a, &i1, before).await });
                let cancelling = tokio::spawn(async move { cancel(&*c, &i2, before).await });
                let sweeping = tokio::spawn(async move { s.expire_due(expiry, 1000).await });
                let accepted = accepting.await.unwrap();
                let cancelled = cancelling.await.unwrap();
                let swept = sweeping.await.unwrap().unwrap();
                let wins = [accepted.is_ok(), cancelled.is_ok(), swept == 1];
                assert_eq!(wins.iter().filter(|w| **w).count(), 1, "round {round}: {accepted:?} {cancelled:?} {swept}");
                for loser in [&accepted, &cancelled] {
                    assert!(matches!(loser, Ok(()) | Err(SaveInvitationError::NotPending(_))), "round {round}: {loser:?}");
                }
                let status = stored(&*db, &invitation).await.status();
                let expected = match wins {
                    [true, _, _] => InvitationStatus::Accepted,
                    [_, true, _] => InvitationStatus::Cancelled,
                    _ => InvitationStatus::Expired,
                };
                assert_eq!(status, expected, "round {round}");
                let member = db.find_member(event_id, invitee.id).await.unwrap().is_some();
                assert_eq!(member, status == InvitationStatus::Accepted, "round {round}");
                *winners.entry(status).or_insert(0) += 1;
            }
            let members = db.list_members(event_id, page(100, None)).await.unwrap().items.len() as u64;
            assert_eq!(db.find_for_member(event_id, ann.id).await.unwrap().unwrap().members_count, members);
            eprintln!("{target:?}: winners over 20 rounds {winners:?}");
        }

        async fn two_resends_racing_store_one_twenty_times(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = subject.db.clone();
            let other = subject.second();
            let (ann, _, event_id) = cast(&*db).await;
            for round in 0..20 {
                let invitee = user(&*db, &format!("U{round}"), Some(&format!("u{round}@example.com")), None).await;
                let invitation = invite_at(&*db, event_id, &ann, &invitee, now()).await;
                let mut tasks = tokio::task::JoinSet::new();
                for (i, handle) in [db.clone(), other.clone()].into_iter().enumerate() {
                    let mut resent = invitation.clone();
                    resent.resend(ann.id, None, hour(), now() + Duration::seconds(i as i64 + 1)).unwrap();
                    tasks.spawn(async move { handle.save_resend(&resent, None).await });
                }
                let mut outcomes = Vec::new();
                while let Some(result) = tasks.join_next().await {
                    outcomes.push(result.unwrap());
                }
                let stored_ok = outcomes.iter().filter(|o| o.is_ok()).count();
                assert_eq!(stored_ok, 1, "round {round}: {outcomes:?}");
                assert!(outcomes.iter().any(|o| matches!(o, Err(SaveInvitationError::ResentMeanwhile { .. }))), "round {round}: {outcomes:?}");
            }
        }
    }
}

/// Roles and members' part of the contract (docs/api.md, "Roles and members"): the viewer's role,
/// role changes, removals and edits applied only while the roles they were decided on still hold,
/// `members_count` moving with the member rows, and deleting an event with its invitations.
mod roles {
    use domain::{Actor, EventDetailsError, EventPatch, Role};

    use super::*;

    /// Ann, Bob and Cy.
    async fn three(db: &dyn Repositories) -> (User, User, User) {
        (
            user(db, "Ann", Some("a@example.com"), None).await,
            user(db, "Bob", Some("b@example.com"), None).await,
            user(db, "Cy", Some("c@example.com"), None).await,
        )
    }

    /// `owner` invites `user` to the event and `user` accepts: `user` is a member.
    async fn join(db: &dyn Repositories, event_id: EventId, owner: &User, user: &User) {
        let invitation = invite(db, event_id, owner, user).await;
        answer(db, &invitation, Answer::Accept).await.unwrap();
    }

    /// Asserts that the event has `expected` members and that its `members_count` says so.
    async fn assert_members_counted(db: &dyn Repositories, event_id: EventId, expected: usize) {
        let members = db
            .list_members(event_id, page(100, None))
            .await
            .unwrap()
            .items;
        let owner = members
            .iter()
            .find(|m| m.role == Role::Owner)
            .unwrap()
            .user
            .id;
        let counted = db
            .find_for_member(event_id, owner)
            .await
            .unwrap()
            .unwrap()
            .members_count;
        assert_eq!((counted, members.len()), (expected as u64, expected));
    }

    fn owner_of(user: &User) -> Actor {
        Actor {
            user: user.id,
            role: Role::Owner,
        }
    }

    contract! {
        async fn a_membership_shows_the_event_with_the_viewers_role(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, cy) = three(db).await;
            let event_id = event(db, &ann).await;
            join(db, event_id, &ann, &bob).await;

            let owner = db.find_membership(event_id, ann.id).await.unwrap().unwrap();
            assert_eq!((owner.user, owner.role), (ann.id, Role::Owner));
            assert_eq!(owner.event, db.find_for_member(event_id, ann.id).await.unwrap().unwrap());
            let member = db.find_membership(event_id, bob.id).await.unwrap().unwrap();
            assert_eq!((member.user, member.role, member.event.members_count), (bob.id, Role::Member, 2));
            assert_eq!(db.find_membership(event_id, cy.id).await.unwrap(), None);
            assert_eq!(db.find_membership(EventId::generate(), ann.id).await.unwrap(), None);

            let found = db.find_member(event_id, bob.id).await.unwrap().unwrap();
            assert_eq!((found.user, found.role), (bob.summary(), Role::Member));
            assert_eq!(db.find_member(event_id, cy.id).await.unwrap(), None);
        }

        async fn a_role_changes_only_while_both_roles_still_hold(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, _) = three(db).await;
            let event_id = event(db, &ann).await;
            join(db, event_id, &ann, &bob).await;
            let owner = owner_of(&ann);

            let changed = db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost).await.unwrap();
            assert_eq!((changed.user.id, changed.role), (bob.id, Role::Cohost));
            assert_eq!(db.find_member(event_id, bob.id).await.unwrap().unwrap(), changed);
            // Decided on Bob being a member: he no longer is one, so nothing changes.
            assert!(matches!(
                db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost).await,
                Err(EventWriteError::Stale)
            ));
            // Decided on a role the actor does not hold.
            let not_owner = Actor { user: bob.id, role: Role::Owner };
            assert!(matches!(
                db.change_role(event_id, not_owner, bob.id, Role::Cohost, Role::Member).await,
                Err(EventWriteError::Stale)
            ));
            assert!(matches!(
                db.change_role(EventId::generate(), owner, bob.id, Role::Cohost, Role::Member).await,
                Err(EventWriteError::Stale)
            ));
            // Nobody becomes owner and the owner stays owner.
            for (who, from, to) in [(bob.id, Role::Cohost, Role::Owner), (ann.id, Role::Owner, Role::Member)] {
                assert!(matches!(db.change_role(event_id, owner, who, from, to).await, Err(EventWriteError::Port(_))));
            }
            let roles: Vec<_> = db.list_members(event_id, PageRequest::default()).await.unwrap().items.into_iter().map(|m| m.role).collect();
            assert_eq!(roles, [Role::Cohost, Role::Owner]);
        }

        async fn a_removal_counts_one_member_less_once(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, cy) = three(db).await;
            let event_id = event(db, &ann).await;
            join(db, event_id, &ann, &bob).await;
            join(db, event_id, &ann, &cy).await;
            let owner = owner_of(&ann);
            // Cy is no co-host: a decision made on her being one is not applied.
            let cy_cohost = Actor { user: cy.id, role: Role::Cohost };
            assert!(matches!(db.remove_member(event_id, cy_cohost, bob.id, Role::Member).await, Err(EventWriteError::Stale)));
            assert!(matches!(db.remove_member(event_id, owner, bob.id, Role::Cohost).await, Err(EventWriteError::Stale)));
            assert!(matches!(db.remove_member(event_id, owner, ann.id, Role::Owner).await, Err(EventWriteError::Port(_))));

            db.remove_member(event_id, owner, bob.id, Role::Member).await.unwrap();
            assert!(matches!(db.remove_member(event_id, owner, bob.id, Role::Member).await, Err(EventWriteError::Stale)));
            // Leaving: the member acts on themself.
            let cy_member = Actor { user: cy.id, role: Role::Member };
            db.remove_member(event_id, cy_member, cy.id, Role::Member).await.unwrap();

            assert_eq!(db.find_membership(event_id, bob.id).await.unwrap(), None);
            assert!(db.list_for_member(cy.id, PageRequest::default()).await.unwrap().items.is_empty());
            assert_members_counted(db, event_id, 1).await;
        }

        async fn a_removed_member_may_be_invited_and_join_again(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, _) = three(db).await;
            let event_id = event(db, &ann).await;
            join(db, event_id, &ann, &bob).await;
            db.remove_member(event_id, owner_of(&ann), bob.id, Role::Member).await.unwrap();
            assert_eq!(db.invitee_states(event_id, &[bob.id], now()).await.unwrap()[&bob.id],
                InviteeState { is_member: false, latest: Some(InvitationStatus::Accepted) });
            join(db, event_id, &ann, &bob).await;
            assert_members_counted(db, event_id, 2).await;
        }

        async fn an_edit_applies_to_the_stored_details_while_the_editor_holds_their_role(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, _) = three(db).await;
            let start = now() + Duration::days(3);
            let details = EventDetails::new(Text::from_stored("Launch".into()), Some(Text::from_stored("Drinks".into())),
                Some(Text::from_stored("Roof".into())), Some(start), Some(start + Duration::hours(2))).unwrap();
            let created = EventRepository::create(db, NewEvent { id: EventId::generate(), details, owner: ann.summary(), created_at: now() }).await.unwrap();
            join(db, created.id, &ann, &bob).await;
            let owner = owner_of(&ann);

            let patch = EventPatch {
                title: Some(Text::from_stored("Renamed".into())),
                location: Some(None),
                ends_at: Some(Some(start + Duration::hours(3) + Duration::nanoseconds(1_234_567))),
                ..EventPatch::default()
            };
            let edited = db.update(created.id, owner, &patch).await.unwrap().unwrap();
            assert_eq!(edited.details.title().as_str(), "Renamed");
            assert_eq!(edited.details.description().unwrap().as_str(), "Drinks");
            assert_eq!(edited.details.location(), None);
            assert_eq!(edited.details.ends_at(), Some(start + Duration::hours(3) + Duration::microseconds(1_234)));
            assert_eq!((edited.members_count, edited.owner.id, edited.created_at), (2, ann.id, created.created_at));
            assert_eq!(db.find_for_member(created.id, bob.id).await.unwrap().unwrap(), edited);

            // Checked on the stored details: a start after the stored end is refused, nothing changes.
            let late = EventPatch { starts_at: Some(Some(start + Duration::hours(4))), ..EventPatch::default() };
            assert_eq!(db.update(created.id, owner, &late).await.unwrap(), Err(EventDetailsError::EndsBeforeStart));
            assert_eq!(db.find_for_member(created.id, ann.id).await.unwrap().unwrap(), edited);

            let bob_cohost = Actor { user: bob.id, role: Role::Cohost };
            assert!(matches!(db.update(created.id, bob_cohost, &patch).await, Err(EventWriteError::Stale)));
            assert!(matches!(db.update(EventId::generate(), owner, &patch).await, Err(EventWriteError::Stale)));
        }

        async fn deleting_an_event_cancels_its_live_pending_invitations_and_removes_everything(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = &*subject.db;
            let (ann, bob, cy) = three(db).await;
            let dee = user(db, "Dee", Some("d@example.com"), None).await;
            let event_id = event(db, &ann).await;
            let other = event(db, &ann).await;
            join(db, event_id, &ann, &bob).await;
            let pending = invite(db, event_id, &ann, &cy).await;
            // Dee's invitation expired an hour ago: it is no longer pending, so not cancelled.
            let dead = Invitation::new_pending(event_id, ann.id, dee.id, "d".into(), now() - Duration::hours(2))
                .expiring(domain::InvitationTtl::parse("1h").unwrap());
            assert_eq!(db.create_batch(std::slice::from_ref(&dead)).await.unwrap(), [BatchOutcome::Created]);
            let elsewhere = invite(db, other, &ann, &cy).await;

            let bob_owner = Actor { user: bob.id, role: Role::Owner };
            assert!(matches!(db.delete(event_id, bob_owner, now()).await, Err(EventWriteError::Stale)));
            assert_eq!(db.delete(event_id, owner_of(&ann), now()).await.unwrap(), 1);

            assert_eq!(db.find_membership(event_id, ann.id).await.unwrap(), None);
            assert!(db.list_members(event_id, PageRequest::default()).await.unwrap().items.is_empty());
            for gone in [pending.id(), dead.id()] {
                assert!(db.find(gone).await.unwrap().is_none());
            }
            assert!(db.find(elsewhere.id()).await.unwrap().is_some());
            let received = db.list_received(cy.id, InvitationFilter::default(), PageRequest::default(), now()).await.unwrap();
            assert_eq!(received.items.iter().map(|d| d.invitation.id()).collect::<Vec<_>>(), [elsewhere.id()]);
            assert!(matches!(db.delete(event_id, owner_of(&ann), now()).await, Err(EventWriteError::Stale)));
            // An invitation to the deleted event cannot be stored any more.
            let late = Invitation::new_pending(event_id, ann.id, dee.id, "d".into(), now());
            assert!(db.create_batch(std::slice::from_ref(&late)).await.is_err());
        }

        async fn twenty_rounds_of_concurrent_removals_of_one_member_have_one_winner(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = subject.db.clone();
            let other = subject.second();
            let (ann, bob, _) = three(&*db).await;
            let owner = owner_of(&ann);
            let leaving = Actor { user: bob.id, role: Role::Member };
            for round in 0..20 {
                let event_id = event(&*db, &ann).await;
                join(&*db, event_id, &ann, &bob).await;
                // The owner removes Bob while Bob leaves: one of them removes him.
                let by_owner = {
                    let db = if round % 2 == 0 { db.clone() } else { other.clone() };
                    tokio::spawn(async move { db.remove_member(event_id, owner, bob.id, Role::Member).await })
                };
                let by_bob = {
                    let db = if round % 2 == 0 { other.clone() } else { db.clone() };
                    tokio::spawn(async move { db.remove_member(event_id, leaving, bob.id, Role::Member).await })
                };
                let results = [by_owner.await.unwrap(), by_bob.await.unwrap()];
                assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "round {round}: {results:?}");
                assert!(results.iter().all(|r| matches!(r, Ok(()) | Err(EventWriteError::Stale))), "{results:?}");
                assert_members_counted(&*db, event_id, 1).await;
            }
        }

        async fn twenty_rounds_of_a_deletion_against_a_batch_leave_no_invitation_behind(target: Target) {
            let Some(subject) = Subject::fresh(target) else { return };
            let db = subject.db.clone();
            let other = subject.second();
            let (ann, bob, _) = three(&*db).await;
            let (mut sent_first, mut deleted_first) = (0, 0);
            for round in 0..20 {
                let event_id = event(&*db, &ann).await;
                let invitation = Invitation::new_pending(event_id, ann.id, bob.id, "b".into(), now());
                let batch = {
                    let db = if round % 2 == 0 { db.clone() } else { other.clone() };
                    tokio::spawn(async move { db.create_batch(std::slice::from_ref(&invitation)).await })
                };
                let deletion = {
                    let db = if round % 2 == 0 { other.clone() } else { db.clone() };
                    let owner = owner_of(&ann);
                    tokio::spawn(async move { db.delete(event_id, owner, now()).await })
                };
                let (batch, deletion) = (batch.await.unwrap(), deletion.await.unwrap());
                match (&batch, &deletion) {
                    // The batch came first: deleting cancelled its invitation.
                    (Ok(outcomes), Ok(1)) if outcomes == &[BatchOutcome::Created] => sent_first += 1,
                    // The deletion came first: the batch found no event and stored nothing.
                    (Err(_), Ok(0)) => deleted_first += 1,
                    other => panic!("round {round}: {other:?}"),
                }
                let left = db.list_received(bob.id, InvitationFilter::default(), PageRequest::default(), now()).await.unwrap();
                assert!(left.items.is_empty(), "round {round}: {:?}", left.items);
            }
            eprintln!("{target:?}: batch first {sent_first}, deletion first {deleted_first}");
        }
    }
}

/// What only the database keeps of roles, and its migration.
mod roles_in_the_database {
    use domain::{Actor, Role};

    use super::*;

    per_backend! {
        // The database keeps one owner per event by itself, whatever a statement asks: the fakes
        // have no SQL to refuse.
        async fn the_database_keeps_exactly_one_owner_per_event(backend: Backend) {
            let Some(database) = TestDatabase::new(backend) else { return };
            let db = database.open();
            let ann = user(&db, "Ann", Some("a@example.com"), None).await;
            let bob = user(&db, "Bob", Some("b@example.com"), None).await;
            let event_id = event(&db, &ann).await;
            let invitation = invite(&db, event_id, &ann, &bob).await;
            answer(&db, &invitation, Answer::Accept).await.unwrap();
            let mut session = database.session();
            if backend == Backend::Sqlite {
                session.execute("PRAGMA foreign_keys = ON");
            }
            for sql in [
                format!("UPDATE event_members SET role = 'owner' WHERE user_id = '{}'", bob.id),
                format!("DELETE FROM event_members WHERE user_id = '{}'", ann.id),
                format!("UPDATE event_members SET role = 'cohost' WHERE user_id = '{}'", ann.id),
                format!("UPDATE event_members SET role = 'admin' WHERE user_id = '{}'", bob.id),
            ] {
                assert!(session.try_execute(&sql).is_err(), "{sql}");
            }
            session.execute(&format!("UPDATE event_members SET role = 'cohost' WHERE user_id = '{}'", bob.id));
            // Deleting the event takes its owner's row with it.
            session.execute(&format!("DELETE FROM events WHERE id = '{event_id}'"));
            let left = database.texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM event_members");
            assert_eq!(left, ["0"]);
        }

        // Upgrading in place is about SQL migrations, which the fakes do not have.
        async fn the_roles_migration_upgrades_a_database_in_place(backend: Backend) {
            let Some(database) = TestDatabase::new(backend) else { return };
            let db = database.open();
            let ann = user(&db, "Ann", Some("a@example.com"), None).await;
            let bob = user(&db, "Bob", Some("b@example.com"), None).await;
            let event_id = event(&db, &ann).await;
            let invitation = invite(&db, event_id, &ann, &bob).await;
            answer(&db, &invitation, Answer::Accept).await.unwrap();
            drop(db);
            // Back to the schema before roles, with its data.
            let down = match backend {
                Backend::Postgres => include_str!("../../../migrations/postgres/2026-11-29-000002_roles/down.sql"),
                Backend::Sqlite => include_str!("../../../migrations/sqlite/2026-11-29-000002_roles/down.sql"),
            };
            let mut session = database.session();
            session.execute(down);
            session.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261129000002'");
            let cohost = format!("UPDATE event_members SET role = 'cohost' WHERE user_id = '{}'", bob.id);
            assert!(session.try_execute(&cohost).is_err(), "the old check knows no co-hosts");
            drop(session);

            let db = database.open();
            let roles: Vec<_> = db.list_members(event_id, PageRequest::default()).await.unwrap().items.into_iter().map(|m| (m.user.id, m.role)).collect();
            assert_eq!(roles, [(bob.id, Role::Member), (ann.id, Role::Owner)]);
            assert_eq!(db.find_for_member(event_id, ann.id).await.unwrap().unwrap().members_count, 2);
            let owner = Actor { user: ann.id, role: Role::Owner };
            db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost).await.unwrap();
            let second_owner = format!("UPDATE event_members SET role = 'owner' WHERE user_id = '{}'", bob.id);
            assert!(database.session().try_execute(&second_owner).is_err());
        }
    }
}
