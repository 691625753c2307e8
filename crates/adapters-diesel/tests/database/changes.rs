//! The change feed's contract (docs/api.md, "Change feed and live stream"), on the in-memory fake,
//! SQLite and PostgreSQL: every changing port method records its changes in the same step,
//! for the users R12 names as they were then; ids strictly increase in the order readers can see
//! them; tickets are single use; retention purges the oldest.

use domain::invitations::Reply;
use domain::rsvp::RsvpRules;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::{Backend, RandomTokenIssuer};
use chrono::Duration;
use domain::accounts::ports::*;
use domain::accounts::User;
use domain::changes::ports::*;
use domain::changes::{ChangeId, ChangeKind, ChangeSubject};
use domain::events::ports::*;
use domain::events::{Actor, EventDetails, EventPatch, Role};
use domain::invitations::ports::*;
use domain::invitations::{Invitation, InvitationTtl};
use domain::{Answer, EventId, Text, UserId};

use crate::support::{contract, new_user, now, per_backend, subject, Target};

/// Every port the cases use, of one store.
trait Ports:
    UserRepository + EventRepository + InvitationRepository + ChangeFeed + TicketRepository
{
}

impl<T> Ports for T where
    T: UserRepository
        + EventRepository
        + InvitationRepository
        + ChangeFeed
        + TicketRepository
        + ?Sized
{
}

subject!(Ports);

async fn user(db: &dyn Ports, name: &str) -> User {
    let email = format!("{}@example.com", name.to_lowercase());
    UserRepository::create(db, new_user(name, Some(&email), None))
        .await
        .unwrap()
}

async fn event(db: &dyn Ports, owner: &User) -> EventId {
    let details =
        EventDetails::new(Text::from_stored("Launch".into()), None, None, None, None).unwrap();
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

async fn invite(db: &dyn Ports, event: EventId, sender: &User, invitee: &User) -> Invitation {
    let invitation = Invitation::new_pending(event, sender.id, invitee.id, "c".into(), now())
        .expiring(InvitationTtl::parse("1h").unwrap(), &RsvpRules::default());
    let outcomes = db
        .create_batch(std::slice::from_ref(&invitation))
        .await
        .unwrap();
    assert_eq!(outcomes, [BatchOutcome::Created]);
    invitation
}

async fn accept(db: &dyn Ports, invitation: &Invitation) {
    let mut answered = invitation.clone();
    answered
        .answer(
            invitation.invitee_id(),
            None,
            Reply::of(Answer::Accept),
            &RsvpRules::default(),
            now() + Duration::minutes(1),
        )
        .unwrap();
    db.save_answer(&answered, None).await.unwrap();
}

/// The kinds of `user`'s feed, in order.
async fn kinds(db: &dyn Ports, user: &User) -> Vec<&'static str> {
    db.list_for(user.id, ChangeId(0), 1_000)
        .await
        .unwrap()
        .changes
        .iter()
        .map(|c| c.change.kind().as_str())
        .collect()
}

contract!(
    every_change_is_recorded_for_the_users_r12_names_as_they_were_then,
    expiry_by_the_sweeper_and_by_a_new_send_is_recorded_once,
    stream_tickets_are_single_use_and_expire,
    the_retention_purge_deletes_the_oldest_changes_only,
    ids_increase_in_the_order_readers_see_them_with_eight_concurrent_writers,
    the_latest_id_counts_every_change_committed_before_it_is_asked
);

async fn every_change_is_recorded_for_the_users_r12_names_as_they_were_then(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (olivia, sara, reza, nina, stranger) = (
        user(db, "Olivia").await,
        user(db, "Sara").await,
        user(db, "Reza").await,
        user(db, "Nina").await,
        user(db, "Stranger").await,
    );
    let party = event(db, &olivia).await;
    assert_eq!(
        db.latest().await.unwrap(),
        ChangeId(0),
        "creating an event records nothing"
    );

    // Sara joins and becomes a co-host; then Reza is invited and accepts; Nina is invited.
    let to_sara = invite(db, party, &olivia, &sara).await;
    accept(db, &to_sara).await;
    let owner = Actor {
        user: olivia.id,
        role: Role::Owner,
    };
    db.change_role(party, owner, sara.id, Role::Member, Role::Cohost)
        .await
        .unwrap();
    let to_reza = invite(db, party, &olivia, &reza).await;
    accept(db, &to_reza).await;
    let to_nina = invite(db, party, &olivia, &nina).await;

    assert_eq!(
        kinds(db, &stranger).await,
        Vec::<&str>::new(),
        "R12: a stranger sees nothing"
    );
    assert_eq!(
            kinds(db, &sara).await,
            [
                "invitation.created", "invitation.accepted", "member.joined", "member.role_changed",
                "invitation.created", "invitation.accepted", "member.joined", "invitation.created",
            ],
            "a co-host, from when she joined: her own invitation, members' changes, and as co-host every invitation"
        );
    assert_eq!(
            kinds(db, &reza).await,
            ["invitation.created", "invitation.accepted", "member.joined"],
            "a member sees his own invitation and member changes from when he joined, not Nina's invitation"
        );
    assert_eq!(kinds(db, &nina).await, ["invitation.created"]);

    // The data is the resource after the change.
    let sara_feed = db
        .list_for(sara.id, ChangeId(0), 100)
        .await
        .unwrap()
        .changes;
    let ChangeSubject::Invitation(accepted) = sara_feed[1].change.subject() else {
        panic!("an invitation")
    };
    assert_eq!(accepted.invitation.id(), to_sara.id());
    assert_eq!(
        accepted.invitation.status(),
        domain::InvitationStatus::Accepted
    );
    assert_eq!(accepted.invitee.name.as_str(), "Sara");
    let ChangeSubject::Member {
        event: joined_event,
        member,
    } = sara_feed[3].change.subject()
    else {
        panic!("a member")
    };
    assert_eq!(
        (joined_event.id, member.user.id, member.role),
        (party, sara.id, Role::Cohost)
    );

    // Ids strictly increase and the feed resumes after an id.
    let ids: Vec<i64> = sara_feed.iter().map(|c| c.id.0).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let after = db
        .list_for(sara.id, sara_feed[5].id, 100)
        .await
        .unwrap()
        .changes;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].id, sara_feed[6].id);

    // Cancel, resend, edit, removal, deletion.
    let mut cancelled = to_nina.clone();
    cancelled
        .cancel(olivia.id, Some(Role::Owner), now() + Duration::minutes(2))
        .unwrap();
    db.save_cancel(&cancelled).await.unwrap();
    let sent_again = invite(db, party, &olivia, &nina).await;
    let mut resent = sent_again.clone();
    resent
        .resend(
            olivia.id,
            Some(Role::Owner),
            InvitationTtl::parse("1h").unwrap(),
            &RsvpRules::default(),
            now() + Duration::minutes(3),
        )
        .unwrap();
    db.save_resend(&resent, None).await.unwrap();
    let patch = EventPatch {
        location: Some(Some(Text::from_stored("Tehran".into()))),
        ..EventPatch::default()
    };
    db.update(party, owner, &patch, None)
        .await
        .unwrap()
        .unwrap();
    db.remove_member(party, owner, reza.id, Role::Member)
        .await
        .unwrap();
    assert_eq!(
        kinds(db, &nina).await,
        [
            "invitation.created",
            "invitation.cancelled",
            "invitation.created",
            "invitation.resent"
        ]
    );
    let reza_kinds = kinds(db, &reza).await;
    assert_eq!(
        &reza_kinds[3..],
        ["event.updated", "member.removed"],
        "the removed member is told"
    );
    db.delete(party, owner, now() + Duration::minutes(4), None)
        .await
        .unwrap();
    let last_for = |kinds: Vec<&'static str>, n: usize| kinds[kinds.len() - n..].to_vec();
    assert_eq!(
        last_for(kinds(db, &nina).await, 2),
        ["invitation.cancelled", "event.deleted"],
        "pending invitations end cancelled, and their invitees are told of the deletion"
    );
    assert_eq!(
        last_for(kinds(db, &sara).await, 2),
        ["invitation.cancelled", "event.deleted"]
    );
    assert_eq!(
        last_for(kinds(db, &reza).await, 1),
        ["member.removed"],
        "no longer a member: not told of the deletion"
    );
    assert_eq!(kinds(db, &stranger).await, Vec::<&str>::new());

    // Fan-out reads every change once with its recipients.
    let all = db
        .addressed_after(ChangeId(0), 1_000)
        .await
        .unwrap()
        .changes;
    assert_eq!(all.last().unwrap().recorded.id, db.latest().await.unwrap());
    let deleted = all.last().unwrap();
    assert_eq!(deleted.recorded.change.kind(), ChangeKind::EventDeleted);
    let recipients: BTreeSet<UserId> = deleted.recipients.iter().copied().collect();
    assert_eq!(
        recipients,
        BTreeSet::from([olivia.id, sara.id, nina.id]),
        "the members, and Nina, whose pending invitation the deletion cancelled"
    );
    // It keeps whom it also told, so that its notices skip them (docs/api.md, "Change notices").
    assert_eq!(deleted.recorded.change.also_told(), [nina.id]);
    assert!(deleted.recorded.change.notifies());
    // The cancellations it made show their event deleted, as the invitations then read.
    let cancelled = &all[all.len() - 2].recorded.change;
    assert_eq!(cancelled.kind(), ChangeKind::InvitationCancelled);
    let ChangeSubject::Invitation(details) = cancelled.subject() else {
        panic!("an invitation");
    };
    assert!(details.event_deleted.is_some());
}

async fn expiry_by_the_sweeper_and_by_a_new_send_is_recorded_once(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (olivia, sara, reza) = (
        user(db, "Olivia").await,
        user(db, "Sara").await,
        user(db, "Reza").await,
    );
    let party = event(db, &olivia).await;
    invite(db, party, &olivia, &sara).await;
    invite(db, party, &olivia, &reza).await;
    let later = now() + Duration::hours(2);
    // A new send to Sara marks her dead invitation expired first (expire-on-write).
    let again = Invitation::new_pending(party, olivia.id, sara.id, "c".into(), later);
    assert_eq!(
        db.create_batch(&[again]).await.unwrap(),
        [BatchOutcome::Created]
    );
    assert_eq!(
        kinds(db, &sara).await,
        [
            "invitation.created",
            "invitation.expired",
            "invitation.created"
        ]
    );
    // The sweeper marks Reza's; a second sweep finds nothing more.
    assert_eq!(db.expire_due(later, 100).await.unwrap(), 1);
    assert_eq!(db.expire_due(later, 100).await.unwrap(), 0);
    assert_eq!(
        kinds(db, &reza).await,
        ["invitation.created", "invitation.expired"]
    );
    let expired = db.list_for(reza.id, ChangeId(0), 10).await.unwrap().changes;
    assert_eq!(expired[1].change.occurred_at(), later);
}

async fn stream_tickets_are_single_use_and_expire(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let sara = user(db, "Sara").await;
    let (used, expired) = (RandomTokenIssuer.issue(), RandomTokenIssuer.issue());
    for (ticket, ttl) in [(&used, 60), (&expired, 1)] {
        db.store_ticket(NewTicket {
            hash: ticket.hash.clone(),
            user_id: sara.id,
            expires_at: now() + Duration::seconds(ttl),
        })
        .await
        .unwrap();
    }
    let at = now() + Duration::seconds(30);
    assert_eq!(
        db.redeem_ticket(&used.hash, at)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(sara.id)
    );
    assert_eq!(
        db.redeem_ticket(&used.hash, at).await.unwrap(),
        None,
        "used up"
    );
    assert_eq!(
        db.redeem_ticket(&expired.hash, at).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        db.redeem_ticket(&RandomTokenIssuer.digest("never issued"), at)
            .await
            .unwrap(),
        None
    );
}

/// A live-stream fan-out with no stream open asks only for the latest id, and webhooks start after
/// it: on PostgreSQL, where changes are numbered after their commit, it numbers what waits first.
async fn the_latest_id_counts_every_change_committed_before_it_is_asked(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (olivia, sara) = (user(db, "Olivia").await, user(db, "Sara").await);
    let party = event(db, &olivia).await;
    invite(db, party, &olivia, &sara).await;
    let latest = db.latest().await.unwrap();
    assert!(
        latest > ChangeId(0),
        "the invitation's change, not yet read"
    );
    let read = db.addressed_after(ChangeId(0), 100).await.unwrap();
    assert_eq!(read.read_up_to, latest, "the same change the read finds");
}

async fn the_retention_purge_deletes_the_oldest_changes_only(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (olivia, sara) = (user(db, "Olivia").await, user(db, "Sara").await);
    let party = event(db, &olivia).await;
    invite(db, party, &olivia, &sara).await; // occurred at now()
    let later = Invitation::new_pending(
        party,
        olivia.id,
        sara.id,
        "c".into(),
        now() + Duration::days(40),
    );
    db.create_batch(&[later]).await.unwrap(); // expired at +40 d, then created at +40 d
    assert_eq!(kinds(db, &sara).await.len(), 3);
    assert_eq!(
        db.purge_older_than(now() + Duration::days(10), 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.purge_older_than(now() + Duration::days(10), 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        kinds(db, &sara).await,
        ["invitation.expired", "invitation.created"]
    );
}

async fn ids_increase_in_the_order_readers_see_them_with_eight_concurrent_writers(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    const WRITERS: usize = 8;
    const CHANGES: usize = 25;
    let db = subject.db.clone();
    let mut plans = Vec::new();
    for w in 0..WRITERS {
        let owner = user(&*db, &format!("Owner{w}")).await;
        let party = event(&*db, &owner).await;
        let mut invitees = Vec::new();
        for c in 0..CHANGES {
            invitees.push(user(&*db, &format!("Guest{w}x{c}")).await);
        }
        plans.push((owner, party, invitees));
    }
    // The reader polls what it has not seen yet, as a stream's fan-out does, while the writers
    // (each its own pool on PostgreSQL: another process) commit one change at a time.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<i64>::new()));
    let reader = tokio::spawn({
        let (db, done, seen) = (db.clone(), done.clone(), seen.clone());
        async move {
            let mut last = ChangeId(0);
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                for delivery in db.addressed_after(last, 1_000).await.unwrap().changes {
                    last = delivery.recorded.id;
                    seen.lock().unwrap().push(last.0);
                }
                if finished {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            }
        }
    });
    let mut writers = Vec::new();
    for (owner, party, invitees) in plans {
        let db = subject.second();
        writers.push(tokio::spawn(async move {
            for invitee in &invitees {
                invite(&*db, party, &owner, invitee).await;
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    reader.await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let all: Vec<i64> = db
        .addressed_after(ChangeId(0), 1_000)
        .await
        .unwrap()
        .changes
        .iter()
        .map(|d| d.recorded.id.0)
        .collect();
    assert_eq!(all.len(), WRITERS * CHANGES);
    assert_eq!(
        all,
        (1..=(WRITERS * CHANGES) as i64).collect::<Vec<_>>(),
        "gapless, in order"
    );
    assert_eq!(
        seen, all,
        "the reader saw every change once, in order: none skipped, none twice"
    );
}

// What the database holds is the adapter's business: a stored change this version cannot read.
mod diesel_only {
    use super::*;

    per_backend!(an_unreadable_stored_change_is_skipped_not_fatal);

    async fn an_unreadable_stored_change_is_skipped_not_fatal(backend: Backend) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
        let db = database.open();
        let (olivia, sara) = (user(&db, "Olivia").await, user(&db, "Sara").await);
        database.session().execute(&format!(
                "UPDATE change_sequence SET last_id = 1; \
                 INSERT INTO changes (id, kind, occurred_at, subject) \
                 VALUES (1, 'invitation.created', '2026-11-26 10:00:00', '{{\"subject\": \"from the future\"}}'); \
                 INSERT INTO change_recipients (user_id, change_id) VALUES ('{}', 1)",
                sara.id
            ));
        let party = event(&db, &olivia).await;
        invite(&db, party, &olivia, &sara).await;
        let feed = db.list_for(sara.id, ChangeId(0), 10).await.unwrap().changes;
        assert_eq!(feed.iter().map(|c| c.id.0).collect::<Vec<_>>(), [2]);
        // A page of only the unreadable one still moves the reader past it.
        let first = db.list_for(sara.id, ChangeId(0), 1).await.unwrap();
        assert_eq!((first.changes.len(), first.read_up_to), (0, ChangeId(1)));
        let next = db.list_for(sara.id, first.read_up_to, 1).await.unwrap();
        assert_eq!(next.changes.iter().map(|c| c.id.0).collect::<Vec<_>>(), [2]);
        let fan_out = db.addressed_after(ChangeId(0), 1).await.unwrap();
        assert_eq!(
            (fan_out.changes.len(), fan_out.read_up_to),
            (0, ChangeId(1))
        );
        assert_eq!(
            db.addressed_after(ChangeId(0), 10)
                .await
                .unwrap()
                .changes
                .len(),
            1
        );
    }
}
