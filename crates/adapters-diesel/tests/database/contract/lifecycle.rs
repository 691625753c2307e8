//! The invitation lifecycle's part of the contract (docs/api.md, "Invitation lifecycle"): notes
//! and expiries stored, cancels and resends conditional like answers, statuses read as of a time,
//! dead invitations expired on write and by the sweeper, and the races among answer, cancel and
//! expiry decided by the store.

use domain::events::Role;
use domain::invitations::InvitationTtl;

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
            .expiring(hour(), &RsvpRules::default());
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
fn changed(invitation: &Invitation, state: domain::invitations::InvitationState) -> Invitation {
    Invitation::restore(domain::invitations::StoredInvitation {
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
        domain::invitations::InvitationState::Cancelled { at },
    ))
    .await
}

async fn accept(
    db: &dyn Repositories,
    invitation: &Invitation,
    at: DateTime<Utc>,
) -> Result<(), SaveInvitationError> {
    db.save_answer(
        &changed(
            invitation,
            domain::invitations::InvitationState::Answered {
                answer: Answer::Accept,
                at,
            },
        ),
        None,
    )
    .await
    .map(|_| ())
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

contract!(
    the_note_and_the_expiry_are_stored_and_read_back,
    a_cancel_is_stored_once_and_an_answered_or_cancelled_invitation_says_why_it_cannot_change,
    past_its_expiry_an_invitation_is_expired_in_every_filter_and_can_no_longer_change,
    a_batch_first_expires_its_invitees_dead_invitations_so_they_block_nothing,
    a_resend_is_stored_only_over_the_resend_it_was_decided_on,
    the_sweeper_expires_due_pending_invitations_in_bounded_batches_and_nothing_else,
    an_events_list_holds_every_invitation_to_it_and_no_other,
    accept_cancel_and_expiry_racing_on_one_invitation_have_one_winner_twenty_times,
    two_resends_racing_store_one_twenty_times
);

async fn the_note_and_the_expiry_are_stored_and_read_back(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, event_id) = cast(db).await;
    let invitation = invite_at(db, event_id, &ann, &bob, now()).await;
    let found = stored(db, &invitation).await;
    assert_eq!(found, invitation);
    assert_eq!(found.message().map(Text::as_str), Some("See you\nthere!"));
    assert_eq!(found.expires_at(), Some(now() + Duration::hours(1)));
    assert_eq!((found.last_resent_at(), found.cancelled_at()), (None, None));
    let never = Invitation::new_pending(
        event_id,
        ann.id,
        user(db, "Cy", Some("c@example.com"), None).await.id,
        "c".into(),
        now(),
    );
    db.create_batch(std::slice::from_ref(&never)).await.unwrap();
    assert_eq!(stored(db, &never).await, never, "no note, never expires");
}

async fn a_cancel_is_stored_once_and_an_answered_or_cancelled_invitation_says_why_it_cannot_change(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, event_id) = cast(db).await;
    let invitation = invite_at(db, event_id, &ann, &bob, now()).await;
    let at = now() + Duration::minutes(5);
    cancel(db, &invitation, at).await.unwrap();
    let found = stored(db, &invitation).await;
    assert_eq!(found.status(), InvitationStatus::Cancelled);
    assert_eq!(
        (found.cancelled_at(), found.answered_at()),
        (Some(at), None)
    );
    assert!(matches!(
        cancel(db, &invitation, at).await,
        Err(SaveInvitationError::NotPending(NotPending::Cancelled))
    ));
    assert!(matches!(
        accept(db, &invitation, at).await,
        Err(SaveInvitationError::NotPending(NotPending::Cancelled))
    ));
    assert_eq!(
        db.list_members(event_id, PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    let carol = user(db, "Carol", Some("c@example.com"), None).await;
    let answered = invite_at(db, event_id, &ann, &carol, now()).await;
    accept(db, &answered, at).await.unwrap();
    assert!(matches!(
        cancel(db, &answered, at).await,
        Err(SaveInvitationError::NotPending(NotPending::Answered))
    ));
    assert_eq!(
        stored(db, &answered).await.status(),
        InvitationStatus::Accepted
    );

    let unknown = Invitation::new_pending(event_id, ann.id, bob.id, "b".into(), now());
    assert!(matches!(
        cancel(db, &unknown, at).await,
        Err(SaveInvitationError::NotFound)
    ));
}

async fn past_its_expiry_an_invitation_is_expired_in_every_filter_and_can_no_longer_change(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, event_id) = cast(db).await;
    let invitation = invite_at(db, event_id, &ann, &bob, now()).await;
    let expiry = now() + Duration::hours(1);
    let just_before = expiry - Duration::microseconds(1);
    let count = |filter: InvitationFilter, at: DateTime<Utc>| async move {
        let sent = db
            .list_sent(ann.id, filter, PageRequest::default(), at)
            .await
            .unwrap()
            .items
            .len();
        let received = db
            .list_received(bob.id, filter, PageRequest::default(), at)
            .await
            .unwrap()
            .items
            .len();
        let of_event = db
            .list_for_event(event_id, filter, PageRequest::default(), at)
            .await
            .unwrap()
            .items
            .len();
        assert_eq!((sent, received), (of_event, of_event));
        of_event
    };
    let (pending, expired) = (
        only(InvitationStatus::Pending),
        only(InvitationStatus::Expired),
    );
    assert_eq!(
        (
            count(pending, just_before).await,
            count(expired, just_before).await
        ),
        (1, 0)
    );
    assert_eq!(
        (count(pending, expiry).await, count(expired, expiry).await),
        (0, 1)
    );
    assert_eq!(count(InvitationFilter::default(), expiry).await, 1);
    assert_eq!(
        db.invitee_states(event_id, &[bob.id], just_before)
            .await
            .unwrap()[&bob.id]
            .latest,
        Some(InvitationStatus::Pending)
    );
    assert_eq!(
        db.invitee_states(event_id, &[bob.id], expiry)
            .await
            .unwrap()[&bob.id]
            .latest,
        Some(InvitationStatus::Expired)
    );

    assert!(matches!(
        accept(db, &invitation, expiry).await,
        Err(SaveInvitationError::NotPending(NotPending::Expired))
    ));
    assert!(matches!(
        cancel(db, &invitation, expiry).await,
        Err(SaveInvitationError::NotPending(NotPending::Expired))
    ));
    let mut resent = invitation.clone();
    resent
        .resend(
            ann.id,
            Some(Role::Owner),
            hour(),
            &RsvpRules::default(),
            just_before,
        )
        .unwrap();
    let late = Invitation::restore(domain::invitations::StoredInvitation {
        last_resent_at: Some(expiry),
        ..resent.to_stored()
    });
    assert!(matches!(
        db.save_resend(&late, None).await,
        Err(SaveInvitationError::NotPending(NotPending::Expired))
    ));
    assert_eq!(stored(db, &invitation).await, invitation, "nothing changed");
    // Just before, it could still be answered.
    accept(db, &invitation, just_before).await.unwrap();
    assert_eq!(count(only(InvitationStatus::Accepted), expiry).await, 1);
}

async fn a_batch_first_expires_its_invitees_dead_invitations_so_they_block_nothing(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, event_id) = cast(db).await;
    let old = invite_at(db, event_id, &ann, &bob, now()).await;
    // Still live a microsecond before its expiry: R7 holds.
    let early = [Invitation::new_pending(
        event_id,
        ann.id,
        bob.id,
        "b".into(),
        now() + Duration::hours(1) - Duration::microseconds(1),
    )];
    assert_eq!(
        db.create_batch(&early).await.unwrap(),
        [BatchOutcome::AlreadyPending]
    );
    let new = invite_at(db, event_id, &ann, &bob, now() + Duration::hours(1)).await;
    assert_eq!(
        stored(db, &old).await.state(),
        domain::invitations::InvitationState::Expired,
        "marked on write"
    );
    assert_eq!(stored(db, &new).await.status(), InvitationStatus::Pending);
    let pending = db
        .list_received(
            bob.id,
            only(InvitationStatus::Pending),
            PageRequest::default(),
            now() + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(
        pending
            .items
            .iter()
            .map(|d| d.invitation.id())
            .collect::<Vec<_>>(),
        [new.id()]
    );
}

async fn a_resend_is_stored_only_over_the_resend_it_was_decided_on(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, event_id) = cast(db).await;
    let invitation = invite_at(db, event_id, &ann, &bob, now()).await;
    let first_at = now() + Duration::minutes(50);
    let mut first = invitation.clone();
    first
        .resend(
            ann.id,
            Some(Role::Owner),
            hour(),
            &RsvpRules::default(),
            first_at,
        )
        .unwrap();
    db.save_resend(&first, None).await.unwrap();
    let found = stored(db, &invitation).await;
    assert_eq!(
        (found.last_resent_at(), found.expires_at()),
        (Some(first_at), Some(first_at + Duration::hours(1)))
    );
    // A second resend decided on the same (empty) history loses.
    let mut stale = invitation.clone();
    stale
        .resend(
            ann.id,
            Some(Role::Owner),
            hour(),
            &RsvpRules::default(),
            first_at + Duration::seconds(1),
        )
        .unwrap();
    match db.save_resend(&stale, None).await {
        Err(SaveInvitationError::ResentMeanwhile { last_resent_at }) => {
            assert_eq!(last_resent_at, first_at)
        }
        other => panic!("{other:?}"),
    }
    // One decided on the stored resend is stored, past the first expiry.
    let second_at = now() + Duration::minutes(70);
    let mut second = found.clone();
    second
        .resend(
            ann.id,
            Some(Role::Owner),
            hour(),
            &RsvpRules::default(),
            second_at,
        )
        .unwrap();
    db.save_resend(&second, Some(first_at)).await.unwrap();
    assert_eq!(
        stored(db, &invitation).await.expires_at(),
        Some(second_at + Duration::hours(1))
    );
    accept(db, &invitation, now() + Duration::minutes(90))
        .await
        .unwrap();
}

async fn the_sweeper_expires_due_pending_invitations_in_bounded_batches_and_nothing_else(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, _, event_id) = cast(db).await;
    let mut due = Vec::new();
    for i in 0..5 {
        let invitee = user(
            db,
            &format!("U{i}"),
            Some(&format!("u{i}@example.com")),
            None,
        )
        .await;
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
    assert_eq!(
        statuses,
        [Accepted, Cancelled, Expired, Expired, Expired, Pending, Pending]
    );
}

async fn an_events_list_holds_every_invitation_to_it_and_no_other(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, event_id) = cast(db).await;
    let other = event(db, &ann).await;
    let carol = user(db, "Carol", Some("c@example.com"), None).await;
    let first = invite_at(db, event_id, &ann, &bob, now()).await;
    let second = invite_at(db, event_id, &ann, &carol, now()).await;
    invite_at(db, other, &ann, &bob, now()).await;
    cancel(db, &first, now()).await.unwrap();
    let list = |filter, page| async move {
        db.list_for_event(event_id, filter, page, now())
            .await
            .unwrap()
    };
    let all = list(InvitationFilter::default(), PageRequest::default()).await;
    assert_eq!(
        all.items
            .iter()
            .map(|d| d.invitation.id())
            .collect::<Vec<_>>(),
        [second.id(), first.id()]
    );
    let one = list(InvitationFilter::default(), page(1, None)).await;
    assert_eq!(
        (one.items.len(), one.next_after),
        (1, Some(second.id().as_uuid()))
    );
    let rest = list(InvitationFilter::default(), page(1, one.next_after)).await;
    assert_eq!(
        (rest.items[0].invitation.id(), rest.next_after),
        (first.id(), None)
    );
    let cancelled = list(only(InvitationStatus::Cancelled), PageRequest::default()).await;
    assert_eq!(cancelled.items.len(), 1);
    // The filter's event is the list's own.
    let elsewhere = InvitationFilter {
        event_id: Some(other),
        ..InvitationFilter::default()
    };
    assert_eq!(list(elsewhere, PageRequest::default()).await.items.len(), 2);
}

async fn accept_cancel_and_expiry_racing_on_one_invitation_have_one_winner_twenty_times(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = subject.db.clone();
    let other = subject.second();
    let ann = user(&*db, "Ann", Some("a@example.com"), None).await;
    let event_id = event(&*db, &ann).await;
    let mut winners = std::collections::HashMap::new();
    for round in 0..20 {
        let invitee = user(
            &*db,
            &format!("U{round}"),
            Some(&format!("u{round}@example.com")),
            None,
        )
        .await;
        let invitation = invite_at(&*db, event_id, &ann, &invitee, now()).await;
        // The answer and the cancel come a microsecond before the expiry, the sweeper at
        // it: each is right in its own view, and whichever commits first wins.
        let before = now() + Duration::hours(1) - Duration::microseconds(1);
        let expiry = now() + Duration::hours(1);
        let (a, c, s) = (
            db.clone(),
            other.clone(),
            if round % 2 == 0 {
                db.clone()
            } else {
                other.clone()
            },
        );
        let (i1, i2) = (invitation.clone(), invitation.clone());
        let accepting = tokio::spawn(async move { accept(&*a, &i1, before).await });
        let cancelling = tokio::spawn(async move { cancel(&*c, &i2, before).await });
        let sweeping = tokio::spawn(async move { s.expire_due(expiry, 1000).await });
        let accepted = accepting.await.unwrap();
        let cancelled = cancelling.await.unwrap();
        let swept = sweeping.await.unwrap().unwrap();
        let wins = [accepted.is_ok(), cancelled.is_ok(), swept == 1];
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "round {round}: {accepted:?} {cancelled:?} {swept}"
        );
        for loser in [&accepted, &cancelled] {
            assert!(
                matches!(loser, Ok(()) | Err(SaveInvitationError::NotPending(_))),
                "round {round}: {loser:?}"
            );
        }
        let status = stored(&*db, &invitation).await.status();
        let expected = match wins {
            [true, _, _] => InvitationStatus::Accepted,
            [_, true, _] => InvitationStatus::Cancelled,
            _ => InvitationStatus::Expired,
        };
        assert_eq!(status, expected, "round {round}");
        let member = db
            .find_member(event_id, invitee.id)
            .await
            .unwrap()
            .is_some();
        assert_eq!(
            member,
            status == InvitationStatus::Accepted,
            "round {round}"
        );
        *winners.entry(status).or_insert(0) += 1;
    }
    let members = db
        .list_members(event_id, page(100, None))
        .await
        .unwrap()
        .items
        .len() as u64;
    assert_eq!(
        db.find_for_member(event_id, ann.id)
            .await
            .unwrap()
            .unwrap()
            .members_count,
        members
    );
    eprintln!("{target:?}: winners over 20 rounds {winners:?}");
}

async fn two_resends_racing_store_one_twenty_times(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = subject.db.clone();
    let other = subject.second();
    let (ann, _, event_id) = cast(&*db).await;
    for round in 0..20 {
        let invitee = user(
            &*db,
            &format!("U{round}"),
            Some(&format!("u{round}@example.com")),
            None,
        )
        .await;
        let invitation = invite_at(&*db, event_id, &ann, &invitee, now()).await;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, handle) in [db.clone(), other.clone()].into_iter().enumerate() {
            let mut resent = invitation.clone();
            resent
                .resend(
                    ann.id,
                    Some(Role::Owner),
                    hour(),
                    &RsvpRules::default(),
                    now() + Duration::seconds(i as i64 + 1),
                )
                .unwrap();
            tasks.spawn(async move { handle.save_resend(&resent, None).await });
        }
        let mut outcomes = Vec::new();
        while let Some(result) = tasks.join_next().await {
            outcomes.push(result.unwrap());
        }
        let stored_ok = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(stored_ok, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(SaveInvitationError::ResentMeanwhile { .. }))),
            "round {round}: {outcomes:?}"
        );
    }
}
