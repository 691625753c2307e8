//! Invitations: sent in batches, one pending per invitee, answered once (accepting makes one
//! membership) even under concurrent answers and sends, and listed by party, status and event.

use super::*;

contract!(
    accepting_makes_a_member_and_answers_only_once,
    rejecting_makes_no_member_and_is_the_latest_state,
    a_second_pending_invitation_for_one_invitee_is_refused,
    invitation_lists_filter_by_party_status_and_event_and_page_cleanly,
    fifty_concurrent_answers_have_exactly_one_winner,
    twenty_concurrent_batches_for_one_invitee_store_one_pending_invitation,
    concurrent_sends_through_the_service_report_the_losers_already_invited,
    answering_adds_a_membership_at_most_once
);

async fn accepting_makes_a_member_and_answers_only_once(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob) = (
        user(db, "Ann", Some("a@example.com"), None).await,
        user(db, "Bob", Some("b@example.com"), None).await,
    );
    let event_id = event(db, &ann).await;
    let invitation = invite(db, event_id, &ann, &bob).await;

    let states = db
        .invitee_states(event_id, &[bob.id, ann.id], now())
        .await
        .unwrap();
    assert_eq!(
        states[&bob.id],
        InviteeState {
            is_member: false,
            latest: Some(InvitationStatus::Pending)
        }
    );
    assert_eq!(
        states[&ann.id],
        InviteeState {
            is_member: true,
            latest: None
        }
    );

    answer(db, &invitation, Answer::Accept).await.unwrap();
    assert!(matches!(
        answer(db, &invitation, Answer::Reject).await,
        Err(SaveInvitationError::NotPending(NotPending::Answered))
    ));

    let stored = db.find(invitation.id()).await.unwrap().unwrap();
    assert_eq!(stored.invitation.status(), InvitationStatus::Accepted);
    assert_eq!(
        stored.invitation.answered_at(),
        Some(now() + Duration::minutes(1))
    );
    assert_eq!(stored.event_title.as_str(), "Party");
    assert_eq!((stored.sender.id, stored.invitee.id), (ann.id, bob.id));
    assert_eq!(
        db.find_for_member(event_id, bob.id)
            .await
            .unwrap()
            .unwrap()
            .members_count,
        2
    );
    assert_eq!(
        db.invitee_states(event_id, &[bob.id], now()).await.unwrap()[&bob.id],
        InviteeState {
            is_member: true,
            latest: Some(InvitationStatus::Accepted)
        }
    );
    assert!(db.find(InvitationId::generate()).await.unwrap().is_none());
}

async fn rejecting_makes_no_member_and_is_the_latest_state(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob) = (
        user(db, "Ann", Some("a@example.com"), None).await,
        user(db, "Bob", Some("b@example.com"), None).await,
    );
    let event_id = event(db, &ann).await;
    let invitation = invite(db, event_id, &ann, &bob).await;
    answer(db, &invitation, Answer::Reject).await.unwrap();
    assert_eq!(db.find_for_member(event_id, bob.id).await.unwrap(), None);
    assert_eq!(
        db.invitee_states(event_id, &[bob.id], now()).await.unwrap()[&bob.id],
        InviteeState {
            is_member: false,
            latest: Some(InvitationStatus::Rejected)
        }
    );
}

async fn a_second_pending_invitation_for_one_invitee_is_refused(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
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
    assert_eq!(
        db.create_batch(&again).await.unwrap(),
        [BatchOutcome::AlreadyPending, BatchOutcome::Created]
    );
    let pending = InvitationFilter {
        status: StatusFilter::only(InvitationStatus::Pending),
        event_id: None,
    };
    assert_eq!(
        db.list_sent(ann.id, pending, PageRequest::default(), now())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

async fn invitation_lists_filter_by_party_status_and_event_and_page_cleanly(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = user(db, "Ann", Some("a@example.com"), None).await;
    let (e1, e2) = (event(db, &ann).await, event(db, &ann).await);
    let mut sent = Vec::new();
    for i in 0..9 {
        let invitee = user(
            db,
            &format!("U{i}"),
            Some(&format!("u{i}@example.com")),
            None,
        )
        .await;
        let invitation = invite(db, if i % 3 == 0 { e2 } else { e1 }, &ann, &invitee).await;
        match i % 3 {
            1 => answer(db, &invitation, Answer::Accept).await.unwrap(),
            2 => answer(db, &invitation, Answer::Reject).await.unwrap(),
            _ => {}
        }
        sent.push(invitation);
    }
    let count = |status: &str, event_id| {
        let filter = InvitationFilter {
            status: StatusFilter::parse(status).unwrap(),
            event_id,
        };
        let db = &db;
        let ann = ann.id;
        async move {
            db.list_sent(ann, filter, PageRequest::default(), now())
                .await
                .unwrap()
                .items
                .len()
        }
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
        let p = db
            .list_sent(ann.id, InvitationFilter::default(), page(2, after), now())
            .await
            .unwrap();
        assert!(p.items.len() <= 2);
        seen.extend(p.items.iter().map(|d| d.invitation.id()));
        match p.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<_> = sent.iter().rev().map(Invitation::id).collect();
    assert_eq!(seen, expected, "newest first, no gaps, no duplicates");

    let invitee = sent[0].invitee_id();
    let received = db
        .list_received(
            invitee,
            InvitationFilter::default(),
            PageRequest::default(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(received.items.len(), 1);
    assert!(db
        .list_received(
            ann.id,
            InvitationFilter::default(),
            PageRequest::default(),
            now()
        )
        .await
        .unwrap()
        .items
        .is_empty());
}

async fn fifty_concurrent_answers_have_exactly_one_winner(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = subject.db.clone();
    let (ann, bob) = (
        user(&*db, "Ann", Some("a@example.com"), None).await,
        user(&*db, "Bob", Some("b@example.com"), None).await,
    );
    let event_id = event(&*db, &ann).await;
    let invitation = invite(&*db, event_id, &ann, &bob).await;
    let other = subject.second();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let db = if i % 2 == 0 {
            db.clone()
        } else {
            other.clone()
        };
        let invitation = invitation.clone();
        let choice = if i % 3 == 0 {
            Answer::Reject
        } else {
            Answer::Accept
        };
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
    let status = db
        .find(invitation.id())
        .await
        .unwrap()
        .unwrap()
        .invitation
        .status();
    let members = db
        .list_members(event_id, PageRequest::default())
        .await
        .unwrap()
        .items
        .len();
    match status {
        InvitationStatus::Accepted => assert_eq!(members, 2),
        InvitationStatus::Rejected => assert_eq!(members, 1),
        other => panic!("{other}"),
    }
}

async fn twenty_concurrent_batches_for_one_invitee_store_one_pending_invitation(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = subject.db.clone();
    let (ann, bob) = (
        user(&*db, "Ann", Some("a@example.com"), None).await,
        user(&*db, "Bob", Some("b@example.com"), None).await,
    );
    let event_id = event(&*db, &ann).await;
    let other = subject.second();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let db = if i % 2 == 0 {
            db.clone()
        } else {
            other.clone()
        };
        let batch = [Invitation::new_pending(
            event_id,
            ann.id,
            bob.id,
            "b@example.com".into(),
            now(),
        )];
        tasks.spawn(async move { db.create_batch(&batch).await });
    }
    let mut created = 0;
    while let Some(result) = tasks.join_next().await {
        if result.unwrap().unwrap() == [BatchOutcome::Created] {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let all = db
        .list_received(
            bob.id,
            InvitationFilter::default(),
            PageRequest::default(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
}

async fn concurrent_sends_through_the_service_report_the_losers_already_invited(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = subject.db.clone();
    let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
    let event_id = event(&*db, &ann).await;
    let mut contacts = Vec::new();
    for i in 0..10 {
        user(
            &*db,
            &format!("U{i}"),
            Some(&format!("u{i}@example.com")),
            None,
        )
        .await;
        contacts.push(format!("u{i}@example.com"));
    }
    let other = subject.second();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let db = if i % 2 == 0 {
            db.clone()
        } else {
            other.clone()
        };
        let service = InvitationService::new(db.clone(), db.clone(), db, Arc::new(Clock0));
        let entries = InvitationEntries::parse(&contacts, PhoneRegion::default()).unwrap();
        let ann = ann.clone();
        tasks.spawn(async move {
            service
                .send(
                    &ann,
                    SendInvitations {
                        event_id,
                        entries,
                        message: None,
                        expires_in: None,
                    },
                )
                .await
        });
    }
    let mut sent = 0;
    while let Some(result) = tasks.join_next().await {
        let report = result.unwrap().unwrap();
        assert_eq!(report.sent.len() + report.ignored.len(), 10);
        assert!(report
            .ignored
            .iter()
            .all(|i| i.reason == domain::invitations::IgnoreReason::AlreadyInvited));
        sent += report.sent.len();
    }
    assert_eq!(sent, 10, "each user invited exactly once over all requests");
}

async fn answering_adds_a_membership_at_most_once(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob) = (
        user(db, "Ann", Some("a@example.com"), None).await,
        user(db, "Bob", Some("b@example.com"), None).await,
    );
    let event_id = event(db, &ann).await;
    let first = invite(db, event_id, &ann, &bob).await;
    answer(db, &first, Answer::Accept).await.unwrap();
    assert_eq!(
        db.find(first.id())
            .await
            .unwrap()
            .unwrap()
            .invitation
            .status(),
        InvitationStatus::Accepted
    );
    // Accepting the same invitation again stores nothing and adds no second membership. (A
    // second invitation of a member cannot be stored: the adapters re-check R6 inside the
    // batch insert, see tests/hostile.rs.)
    assert!(matches!(
        answer(db, &first, Answer::Accept).await,
        Err(SaveInvitationError::NotPending(NotPending::Answered))
    ));
    let members = db
        .list_members(event_id, PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        members.iter().map(|m| m.user.id).collect::<Vec<_>>(),
        [bob.id, ann.id]
    );
    assert_eq!(
        db.find_for_member(event_id, bob.id)
            .await
            .unwrap()
            .unwrap()
            .members_count,
        2
    );

    // An invitation that was never stored (or whose event is gone) updates no row.
    let stranger = Invitation::new_pending(event_id, ann.id, bob.id, "b@example.com".into(), now());
    assert!(matches!(
        answer(db, &stranger, Answer::Accept).await,
        Err(SaveInvitationError::NotFound)
    ));
    assert!(db.find(stranger.id()).await.unwrap().is_none());
    // A pending invitation is no answer to store.
    let carol = user(db, "Carol", Some("c@example.com"), None).await;
    assert!(matches!(
        db.save_answer(&invite(db, event_id, &ann, &carol).await, None)
            .await,
        Err(SaveInvitationError::Port(_))
    ));
}
