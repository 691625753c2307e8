//! Roles and members' part of the contract (docs/api.md, "Roles and members"): the viewer's role,
//! role changes, removals and edits applied only while the roles they were decided on still hold,
//! `members_count` moving with the member rows, and deleting an event with its invitations.

use domain::events::{Actor, EventDetailsError, EventPatch, Role};

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

contract!(
    a_membership_shows_the_event_with_the_viewers_role,
    a_role_changes_only_while_both_roles_still_hold,
    a_removal_counts_one_member_less_once,
    a_removed_member_may_be_invited_and_join_again,
    an_edit_applies_to_the_stored_details_while_the_editor_holds_their_role,
    deleting_an_event_cancels_its_live_invitations_removes_its_members_and_keeps_them_readable,
    twenty_rounds_of_concurrent_removals_of_one_member_have_one_winner,
    twenty_rounds_of_a_deletion_against_a_batch_leave_no_live_invitation_behind,
    a_sender_lists_what_they_sent_only_while_they_manage_its_event
);

/// How many invitations `sender`'s sent list shows.
async fn sent_by(db: &dyn Repositories, sender: &User) -> usize {
    db.list_sent(
        sender.id,
        InvitationFilter::default(),
        PageRequest::default(),
        now(),
    )
    .await
    .unwrap()
    .items
    .len()
}

async fn a_sender_lists_what_they_sent_only_while_they_manage_its_event(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, cy) = three(db).await;
    let event_id = event(db, &ann).await;
    join(db, event_id, &ann, &bob).await;
    let owner = owner_of(&ann);
    db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost)
        .await
        .unwrap();
    invite(db, event_id, &bob, &cy).await;
    assert_eq!(sent_by(db, &bob).await, 1);
    db.change_role(event_id, owner, bob.id, Role::Cohost, Role::Member)
        .await
        .unwrap();
    assert_eq!(sent_by(db, &bob).await, 0, "demoted: no longer his to see");
    db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost)
        .await
        .unwrap();
    assert_eq!(sent_by(db, &bob).await, 1);
}

async fn a_membership_shows_the_event_with_the_viewers_role(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, cy) = three(db).await;
    let event_id = event(db, &ann).await;
    join(db, event_id, &ann, &bob).await;

    let owner = db.find_membership(event_id, ann.id).await.unwrap().unwrap();
    assert_eq!((owner.user, owner.role), (ann.id, Role::Owner));
    assert_eq!(
        owner.event,
        db.find_for_member(event_id, ann.id).await.unwrap().unwrap()
    );
    let member = db.find_membership(event_id, bob.id).await.unwrap().unwrap();
    assert_eq!(
        (member.user, member.role, member.event.members_count),
        (bob.id, Role::Member, 2)
    );
    assert_eq!(db.find_membership(event_id, cy.id).await.unwrap(), None);
    assert_eq!(
        db.find_membership(EventId::generate(), ann.id)
            .await
            .unwrap(),
        None
    );

    let found = db.find_member(event_id, bob.id).await.unwrap().unwrap();
    assert_eq!((found.user, found.role), (bob.summary(), Role::Member));
    assert_eq!(db.find_member(event_id, cy.id).await.unwrap(), None);
}

async fn a_role_changes_only_while_both_roles_still_hold(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, _) = three(db).await;
    let event_id = event(db, &ann).await;
    join(db, event_id, &ann, &bob).await;
    let owner = owner_of(&ann);

    let changed = db
        .change_role(event_id, owner, bob.id, Role::Member, Role::Cohost)
        .await
        .unwrap();
    assert_eq!((changed.user.id, changed.role), (bob.id, Role::Cohost));
    assert_eq!(
        db.find_member(event_id, bob.id).await.unwrap().unwrap(),
        changed
    );
    // Decided on Bob being a member: he no longer is one, so nothing changes.
    assert!(matches!(
        db.change_role(event_id, owner, bob.id, Role::Member, Role::Cohost)
            .await,
        Err(EventWriteError::Stale)
    ));
    // Decided on a role the actor does not hold.
    let not_owner = Actor {
        user: bob.id,
        role: Role::Owner,
    };
    assert!(matches!(
        db.change_role(event_id, not_owner, bob.id, Role::Cohost, Role::Member)
            .await,
        Err(EventWriteError::Stale)
    ));
    assert!(matches!(
        db.change_role(
            EventId::generate(),
            owner,
            bob.id,
            Role::Cohost,
            Role::Member
        )
        .await,
        Err(EventWriteError::Stale)
    ));
    // Nobody becomes owner and the owner stays owner.
    for (who, from, to) in [
        (bob.id, Role::Cohost, Role::Owner),
        (ann.id, Role::Owner, Role::Member),
    ] {
        assert!(matches!(
            db.change_role(event_id, owner, who, from, to).await,
            Err(EventWriteError::Port(_))
        ));
    }
    let roles: Vec<_> = db
        .list_members(event_id, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.role)
        .collect();
    assert_eq!(roles, [Role::Cohost, Role::Owner]);
}

async fn a_removal_counts_one_member_less_once(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, cy) = three(db).await;
    let event_id = event(db, &ann).await;
    join(db, event_id, &ann, &bob).await;
    join(db, event_id, &ann, &cy).await;
    let owner = owner_of(&ann);
    // Cy is no co-host: a decision made on her being one is not applied.
    let cy_cohost = Actor {
        user: cy.id,
        role: Role::Cohost,
    };
    assert!(matches!(
        db.remove_member(event_id, cy_cohost, bob.id, Role::Member)
            .await,
        Err(EventWriteError::Stale)
    ));
    assert!(matches!(
        db.remove_member(event_id, owner, bob.id, Role::Cohost)
            .await,
        Err(EventWriteError::Stale)
    ));
    assert!(matches!(
        db.remove_member(event_id, owner, ann.id, Role::Owner).await,
        Err(EventWriteError::Port(_))
    ));

    db.remove_member(event_id, owner, bob.id, Role::Member)
        .await
        .unwrap();
    assert!(matches!(
        db.remove_member(event_id, owner, bob.id, Role::Member)
            .await,
        Err(EventWriteError::Stale)
    ));
    // Leaving: the member acts on themself.
    let cy_member = Actor {
        user: cy.id,
        role: Role::Member,
    };
    db.remove_member(event_id, cy_member, cy.id, Role::Member)
        .await
        .unwrap();

    assert_eq!(db.find_membership(event_id, bob.id).await.unwrap(), None);
    assert!(db
        .list_for_member(cy.id, PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert_members_counted(db, event_id, 1).await;
}

async fn a_removed_member_may_be_invited_and_join_again(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, _) = three(db).await;
    let event_id = event(db, &ann).await;
    join(db, event_id, &ann, &bob).await;
    db.remove_member(event_id, owner_of(&ann), bob.id, Role::Member)
        .await
        .unwrap();
    assert_eq!(
        db.invitee_states(event_id, &[bob.id], now()).await.unwrap()[&bob.id],
        InviteeState {
            is_member: false,
            latest: Some(InvitationStatus::Accepted)
        }
    );
    join(db, event_id, &ann, &bob).await;
    assert_members_counted(db, event_id, 2).await;
}

async fn an_edit_applies_to_the_stored_details_while_the_editor_holds_their_role(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, _) = three(db).await;
    let start = now() + Duration::days(3);
    let details = EventDetails::new(
        Text::from_stored("Launch".into()),
        Some(Text::from_stored("Drinks".into())),
        Some(Text::from_stored("Roof".into())),
        Some(start),
        Some(start + Duration::hours(2)),
    )
    .unwrap();
    let created = EventRepository::create(
        db,
        NewEvent {
            id: EventId::generate(),
            details,
            owner: ann.summary(),
            created_at: now(),
        },
    )
    .await
    .unwrap();
    join(db, created.id, &ann, &bob).await;
    let owner = owner_of(&ann);

    let patch = EventPatch {
        title: Some(Text::from_stored("Renamed".into())),
        location: Some(None),
        ends_at: Some(Some(
            start + Duration::hours(3) + Duration::nanoseconds(1_234_567),
        )),
        ..EventPatch::default()
    };
    let edited = db
        .update(created.id, owner, &patch, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edited.details.title().as_str(), "Renamed");
    assert_eq!(edited.details.description().unwrap().as_str(), "Drinks");
    assert_eq!(edited.details.location(), None);
    assert_eq!(
        edited.details.ends_at(),
        Some(start + Duration::hours(3) + Duration::microseconds(1_234))
    );
    assert_eq!(
        (edited.members_count, edited.owner.id, edited.created_at),
        (2, ann.id, created.created_at)
    );
    assert_eq!(
        db.find_for_member(created.id, bob.id)
            .await
            .unwrap()
            .unwrap(),
        edited
    );

    // Checked on the stored details: a start after the stored end is refused, nothing changes.
    let late = EventPatch {
        starts_at: Some(Some(start + Duration::hours(4))),
        ..EventPatch::default()
    };
    assert_eq!(
        db.update(created.id, owner, &late, None).await.unwrap(),
        Err(EventDetailsError::EndsBeforeStart)
    );
    assert_eq!(
        db.find_for_member(created.id, ann.id)
            .await
            .unwrap()
            .unwrap(),
        edited
    );

    let bob_cohost = Actor {
        user: bob.id,
        role: Role::Cohost,
    };
    assert!(matches!(
        db.update(created.id, bob_cohost, &patch, None).await,
        Err(EventWriteError::Stale)
    ));
    assert!(matches!(
        db.update(EventId::generate(), owner, &patch, None).await,
        Err(EventWriteError::Stale)
    ));
}

async fn deleting_an_event_cancels_its_live_invitations_removes_its_members_and_keeps_them_readable(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (ann, bob, cy) = three(db).await;
    let dee = user(db, "Dee", Some("d@example.com"), None).await;
    let event_id = event(db, &ann).await;
    let other = event(db, &ann).await;
    join(db, event_id, &ann, &bob).await;
    let pending = invite(db, event_id, &ann, &cy).await;
    // Dee's invitation expired an hour ago: it is no longer pending, so not cancelled.
    let dead = Invitation::new_pending(
        event_id,
        ann.id,
        dee.id,
        "d".into(),
        now() - Duration::hours(2),
    )
    .expiring(
        domain::invitations::InvitationTtl::parse("1h").unwrap(),
        &RsvpRules::default(),
    );
    assert_eq!(
        db.create_batch(std::slice::from_ref(&dead)).await.unwrap(),
        [BatchOutcome::Created]
    );
    let elsewhere = invite(db, other, &ann, &cy).await;

    let bob_owner = Actor {
        user: bob.id,
        role: Role::Owner,
    };
    assert!(matches!(
        db.delete(event_id, bob_owner, now(), None).await,
        Err(EventWriteError::Stale)
    ));
    assert_eq!(
        db.delete(event_id, owner_of(&ann), now(), None)
            .await
            .unwrap(),
        1
    );

    assert_eq!(db.find_membership(event_id, ann.id).await.unwrap(), None);
    assert!(db
        .list_members(event_id, PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
    // Its invitations stay, with the event marked deleted and the sender's role then.
    let cancelled = db.find(pending.id()).await.unwrap().unwrap();
    assert_eq!(cancelled.invitation.status(), InvitationStatus::Cancelled);
    assert_eq!(
        cancelled.event_deleted,
        Some(domain::invitations::DeletedEvent {
            sender_role: Some(Role::Owner)
        })
    );
    let expired = db.find(dead.id()).await.unwrap().unwrap();
    assert_eq!(
        expired.invitation.status_at(now()),
        InvitationStatus::Expired
    );
    assert!(expired.event_deleted.is_some());
    let kept = db.find(elsewhere.id()).await.unwrap().unwrap();
    assert_eq!(kept.event_deleted, None);
    assert_eq!(kept.invitation.status(), InvitationStatus::Pending);
    let sent = db
        .list_sent(
            ann.id,
            InvitationFilter::default(),
            PageRequest::default(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        sent.items.len(),
        4,
        "what Ann sent, to the deleted event too"
    );
    let received = db
        .list_received(
            cy.id,
            InvitationFilter::default(),
            PageRequest::default(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        received
            .items
            .iter()
            .map(|d| d.invitation.id())
            .collect::<Vec<_>>(),
        [elsewhere.id(), pending.id()]
    );
    assert!(matches!(
        db.delete(event_id, owner_of(&ann), now(), None).await,
        Err(EventWriteError::Stale)
    ));
    // An invitation to the deleted event cannot be stored any more.
    let late = Invitation::new_pending(event_id, ann.id, dee.id, "d".into(), now());
    assert!(db.create_batch(std::slice::from_ref(&late)).await.is_err());

    // The retention purge removes the deleted event, with its invitations, and nothing else.
    assert_eq!(
        db.purge_deleted(now() - Duration::hours(1), 10)
            .await
            .unwrap(),
        0,
        "deleted after that"
    );
    assert_eq!(
        db.purge_deleted(now() + Duration::hours(1), 10)
            .await
            .unwrap(),
        1
    );
    for gone in [pending.id(), dead.id()] {
        assert!(db.find(gone).await.unwrap().is_none());
    }
    assert!(db.find(elsewhere.id()).await.unwrap().is_some());
    assert_eq!(db.find_rules(event_id).await.unwrap(), None);
}

async fn twenty_rounds_of_concurrent_removals_of_one_member_have_one_winner(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = subject.db.clone();
    let other = subject.second();
    let (ann, bob, _) = three(&*db).await;
    let owner = owner_of(&ann);
    let leaving = Actor {
        user: bob.id,
        role: Role::Member,
    };
    for round in 0..20 {
        let event_id = event(&*db, &ann).await;
        join(&*db, event_id, &ann, &bob).await;
        // The owner removes Bob while Bob leaves: one of them removes him.
        let by_owner = {
            let db = if round % 2 == 0 {
                db.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move {
                db.remove_member(event_id, owner, bob.id, Role::Member)
                    .await
            })
        };
        let by_bob = {
            let db = if round % 2 == 0 {
                other.clone()
            } else {
                db.clone()
            };
            tokio::spawn(async move {
                db.remove_member(event_id, leaving, bob.id, Role::Member)
                    .await
            })
        };
        let results = [by_owner.await.unwrap(), by_bob.await.unwrap()];
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Ok(()) | Err(EventWriteError::Stale))),
            "{results:?}"
        );
        assert_members_counted(&*db, event_id, 1).await;
    }
}

async fn twenty_rounds_of_a_deletion_against_a_batch_leave_no_live_invitation_behind(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = subject.db.clone();
    let other = subject.second();
    let (ann, bob, _) = three(&*db).await;
    let (mut sent_first, mut deleted_first) = (0, 0);
    for round in 0..20 {
        let event_id = event(&*db, &ann).await;
        let invitation = Invitation::new_pending(event_id, ann.id, bob.id, "b".into(), now());
        let batch = {
            let db = if round % 2 == 0 {
                db.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { db.create_batch(std::slice::from_ref(&invitation)).await })
        };
        let deletion = {
            let db = if round % 2 == 0 {
                other.clone()
            } else {
                db.clone()
            };
            let owner = owner_of(&ann);
            tokio::spawn(async move { db.delete(event_id, owner, now(), None).await })
        };
        let (batch, deletion) = (batch.await.unwrap(), deletion.await.unwrap());
        match (&batch, &deletion) {
            // The batch came first: deleting cancelled its invitation.
            (Ok(outcomes), Ok(1)) if outcomes == &[BatchOutcome::Created] => sent_first += 1,
            // The deletion came first: the batch found no event and stored nothing.
            (Err(_), Ok(0)) => deleted_first += 1,
            other => panic!("round {round}: {other:?}"),
        }
        // Never a live invitation to a deleted event: at most the one cancelled by the deletion.
        let live = db
            .list_received(
                bob.id,
                InvitationFilter {
                    status: StatusFilter::only(InvitationStatus::Pending),
                    ..InvitationFilter::default()
                },
                PageRequest::default(),
                now(),
            )
            .await
            .unwrap();
        assert!(live.items.is_empty(), "round {round}: {:?}", live.items);
        let of_event = db
            .list_received(
                bob.id,
                InvitationFilter {
                    event_id: Some(event_id),
                    ..InvitationFilter::default()
                },
                PageRequest::default(),
                now(),
            )
            .await
            .unwrap()
            .items;
        assert!(
            of_event
                .iter()
                .all(|d| d.invitation.status() == InvitationStatus::Cancelled
                    && d.event_deleted.is_some()),
            "round {round}: {of_event:?}"
        );
    }
    eprintln!("{target:?}: batch first {sent_first}, deletion first {deleted_first}");
}
