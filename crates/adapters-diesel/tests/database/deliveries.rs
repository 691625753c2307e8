//! The webhooks' and delivery queue's contract (docs/operations.md, "Webhook and email
//! delivery"), on the in-memory fake, SQLite and PostgreSQL (two pools standing for two server
//! processes): the per-owner limit holds under concurrent creations, each change's deliveries are
//! made once, a delivery is never claimed by two workers at once, attempts are stored only under
//! a live claim, and disabling a webhook ends its deliveries.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use domain::accounts::ports::*;
use domain::accounts::User;
use domain::changes::{ChangeId, ChangeKind};
use domain::webhooks::delivery::{
    AttemptRecord, ClaimKind, ClaimShares, ClaimedDelivery, DeliveryTarget, NewDelivery, Verdict,
};
use domain::webhooks::ports::*;
use domain::webhooks::{DisableReason, Webhook, WebhookEvents, WebhookSecret, WebhookUrl};
use domain::{AttemptId, DeliveryId, Email, Limit, PageRequest, WebhookId};

use crate::support::{contract, new_user, now, subject, Target};

/// Every port the cases use, of one store.
trait Ports: UserRepository + WebhookRepository + DeliveryQueue {}

impl<T> Ports for T where T: UserRepository + WebhookRepository + DeliveryQueue + ?Sized {}

subject!(Ports);

async fn user(db: &dyn Ports, name: &str) -> User {
    let email = format!("{}@example.com", name.to_lowercase());
    UserRepository::create(db, new_user(name, Some(&email), None))
        .await
        .unwrap()
}

fn webhook(owner: &User) -> Webhook {
    Webhook {
        id: WebhookId::generate(),
        owner: owner.id,
        url: WebhookUrl::from_stored("https://hooks.example.com/in".into()),
        events: WebhookEvents::of_kinds([ChangeKind::InvitationCreated]),
        secret: WebhookSecret::from_bytes(&[9; WebhookSecret::BYTES]),
        created_at: now(),
        starts_after: ChangeId(3),
        failing_since: None,
        disabled: None,
        verified_at: Some(now()),
    }
}

async fn hook(db: &dyn Ports, owner: &User) -> Webhook {
    let webhook = webhook(owner);
    db.create_webhook(&webhook).await.unwrap();
    webhook
}

fn to_hook(webhook: &Webhook, change: i64) -> NewDelivery {
    NewDelivery {
        id: DeliveryId::generate(),
        change_id: ChangeId(change),
        kind: ChangeKind::InvitationCreated,
        target: DeliveryTarget::Webhook(webhook.id),
        payload: format!("{{\"id\":{change}}}"),
        created_at: now(),
        link: None,
    }
}

fn to_mail(change: i64) -> NewDelivery {
    NewDelivery {
        id: DeliveryId::generate(),
        change_id: ChangeId(change),
        kind: ChangeKind::InvitationCreated,
        target: DeliveryTarget::Email(Email::parse("sara@example.com").unwrap()),
        payload: "hello".into(),
        created_at: now(),
        link: None,
    }
}

fn attempt(number: u32, at: DateTime<Utc>, status: u16) -> AttemptRecord {
    AttemptRecord {
        id: AttemptId::generate(),
        number,
        at,
        duration_ms: 12,
        status_code: Some(status),
        error: None,
        response_body: Some(format!("status {status}")),
    }
}

const SHARES: ClaimShares = ClaimShares {
    per_target: 4,
    per_owner: 100,
};

/// Claims up to `limit`: webhooks first, then emails.
async fn claim(db: &dyn Ports, at: DateTime<Utc>, limit: u32) -> Vec<ClaimedDelivery> {
    claim_with(db, at, limit, SHARES).await
}

async fn claim_with(
    db: &dyn Ports,
    at: DateTime<Utc>,
    limit: u32,
    shares: ClaimShares,
) -> Vec<ClaimedDelivery> {
    let lease = at + Duration::seconds(60);
    let mut claimed = db
        .claim_due(at, lease, limit, shares, ClaimKind::Webhooks)
        .await
        .unwrap();
    let left = limit - u32::try_from(claimed.len()).unwrap();
    claimed.extend(
        db.claim_due(at, lease, left, shares, ClaimKind::Emails)
            .await
            .unwrap(),
    );
    claimed
}

/// An attempt that got no answer (a timeout).
fn unanswered(number: u32, at: DateTime<Utc>) -> AttemptRecord {
    AttemptRecord {
        status_code: None,
        error: Some("timed out".into()),
        response_body: None,
        ..attempt(number, at, 200)
    }
}

contract!(
    a_webhook_is_stored_listed_newest_first_and_deleted_with_its_attempts,
    no_owner_passes_the_limit_even_with_concurrent_creations,
    the_dispatch_position_moves_once_from_where_it_was_read,
    two_workers_never_claim_one_delivery,
    a_claim_holds_until_its_lease_ends_and_only_a_live_claim_records,
    disabling_a_webhook_ends_its_deliveries_and_leaves_others_alone,
    no_target_gets_more_than_its_share_in_flight,
    the_purge_deletes_finished_deliveries_only,
    deliveries_of_a_webhook_deleted_before_the_dispatch_are_dropped,
    owners_take_turns_and_none_holds_more_than_its_share,
    an_endpoint_whose_breaker_opened_is_not_claimed_until_the_pause_ends,
    a_pending_webhook_is_asked_under_one_claim_at_a_time_until_verified_or_given_up
);

async fn a_pending_webhook_is_asked_under_one_claim_at_a_time_until_verified_or_given_up(
    target: Target,
) {
    use domain::webhooks::{VerificationOutcome, WebhookStatus};
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let mut first = webhook(&olivia);
    first.verified_at = None;
    db.create_webhook(&first).await.unwrap();
    let lease = |at: DateTime<Utc>| at + Duration::seconds(60);
    let claimed = db
        .claim_verifications(now(), lease(now()), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].webhook.id, claimed[0].attempts), (first.id, 0));
    assert!(
        db.claim_verifications(now(), lease(now()), 10)
            .await
            .unwrap()
            .is_empty(),
        "one claim at a time"
    );
    let retry_at = now() + Duration::seconds(5);
    assert!(db
        .record_verification(&claimed[0], VerificationOutcome::RetryAt(retry_at))
        .await
        .unwrap());
    assert!(
        !db.record_verification(&claimed[0], VerificationOutcome::RetryAt(retry_at))
            .await
            .unwrap(),
        "the claim is spent"
    );
    let early = now() + Duration::seconds(1);
    assert!(db
        .claim_verifications(early, lease(early), 10)
        .await
        .unwrap()
        .is_empty());
    let due = now() + Duration::seconds(6);
    let again = db.claim_verifications(due, lease(due), 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    let verified = VerificationOutcome::Verified {
        at: due,
        from: ChangeId(9),
    };
    assert!(db.record_verification(&again[0], verified).await.unwrap());
    let shown = db.find_webhook(first.id).await.unwrap().unwrap();
    assert_eq!(shown.status(), WebhookStatus::Active);
    assert_eq!(
        (shown.verified_at, shown.starts_after),
        (Some(due), ChangeId(9))
    );
    let later = now() + Duration::hours(1);
    assert!(db
        .claim_verifications(later, lease(later), 10)
        .await
        .unwrap()
        .is_empty());
    // Asking an active one again changes nothing.
    let same = db
        .restart_verification(first.id, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.status(), WebhookStatus::Active);

    // Another never echoes: given up, it is disabled as unverified; asked again, pending anew.
    let mut second = webhook(&olivia);
    second.verified_at = None;
    db.create_webhook(&second).await.unwrap();
    let claimed = db
        .claim_verifications(now(), lease(now()), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(db
        .record_verification(&claimed[0], VerificationOutcome::GaveUp(now()))
        .await
        .unwrap());
    let shown = db.find_webhook(second.id).await.unwrap().unwrap();
    assert_eq!(shown.status(), WebhookStatus::Disabled);
    assert_eq!(
        shown.disabled.map(|d| d.reason),
        Some(domain::webhooks::DisableReason::Unverified)
    );
    assert!(db
        .claim_verifications(later, lease(later), 10)
        .await
        .unwrap()
        .is_empty());
    let restarted = db
        .restart_verification(second.id, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restarted.status(), WebhookStatus::PendingVerification);
    let anew = db
        .claim_verifications(later, lease(later), 10)
        .await
        .unwrap();
    assert_eq!((anew.len(), anew[0].attempts), (1, 0));
    assert!(db
        .restart_verification(domain::WebhookId::generate(), later)
        .await
        .unwrap()
        .is_none());
}

async fn owners_take_turns_and_none_holds_more_than_its_share(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (olivia, sara) = (user(db, "Olivia").await, user(db, "Sara").await);
    let mut made = Vec::new();
    let mut change = 0;
    for _ in 0..3 {
        let webhook = hook(db, &olivia).await;
        for _ in 0..5 {
            change += 1;
            made.push(to_hook(&webhook, change));
        }
    }
    // Sara's one delivery is the newest of all.
    let quiet = hook(db, &sara).await;
    made.push(to_hook(&quiet, change + 1));
    assert!(db
        .enqueue(ChangeId(0), ChangeId(change + 1), made)
        .await
        .unwrap());
    let shares = ClaimShares {
        per_target: 4,
        per_owner: 5,
    };
    let first = claim_with(db, now(), 2, shares).await;
    let owner = |d: &ClaimedDelivery| match &d.target {
        domain::webhooks::delivery::ClaimedTarget::Webhook(w) => w.owner,
        domain::webhooks::delivery::ClaimedTarget::Email(_) => panic!("an email"),
    };
    assert!(
        first.iter().any(|d| owner(d) == sara.id),
        "Sara's turn comes second, though hers is the newest"
    );
    let rest = claim_with(db, now(), 100, shares).await;
    let olivias = first
        .iter()
        .chain(&rest)
        .filter(|d| owner(d) == olivia.id)
        .count();
    assert_eq!(
        olivias, 5,
        "Olivia's three webhooks hold her share, no more"
    );
    assert!(claim_with(db, now(), 100, shares).await.is_empty());
}

async fn an_endpoint_whose_breaker_opened_is_not_claimed_until_the_pause_ends(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let webhook = hook(db, &olivia).await;
    let made: Vec<NewDelivery> = (1..=8).map(|c| to_hook(&webhook, c)).collect();
    assert!(db.enqueue(ChangeId(0), ChangeId(8), made).await.unwrap());
    let later = now() + Duration::hours(1);
    for number in 1..=5 {
        let claimed = claim(db, now(), 1).await;
        assert_eq!(claimed.len(), 1, "attempt {number}");
        assert!(db
            .record_attempt(&claimed[0], &unanswered(1, now()), Verdict::RetryAt(later))
            .await
            .unwrap());
    }
    // Five unanswered in a row: its three other due deliveries wait out the pause.
    assert!(claim(db, now(), 10).await.is_empty());
    assert!(claim(db, now() + Duration::seconds(29), 10)
        .await
        .is_empty());
    let after = now() + Duration::seconds(31);
    let claimed = claim(db, after, 1).await;
    assert_eq!(claimed.len(), 1);
    // One more without an answer: paused again, for twice as long.
    assert!(db
        .record_attempt(&claimed[0], &unanswered(1, after), Verdict::RetryAt(later))
        .await
        .unwrap());
    assert!(claim(db, after + Duration::seconds(59), 10)
        .await
        .is_empty());
    let answered_at = after + Duration::seconds(61);
    let claimed = claim(db, answered_at, 1).await;
    assert_eq!(claimed.len(), 1);
    // Any answer closes it: the rest are claimed at once.
    assert!(db
        .record_attempt(
            &claimed[0],
            &attempt(1, answered_at, 503),
            Verdict::RetryAt(later)
        )
        .await
        .unwrap());
    assert_eq!(
        claim(db, answered_at, 10).await.len(),
        1,
        "the last due one"
    );
}

async fn a_webhook_is_stored_listed_newest_first_and_deleted_with_its_attempts(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let (first, second) = (hook(db, &olivia).await, hook(db, &olivia).await);
    let found = db.find_webhook(first.id).await.unwrap().unwrap();
    assert_eq!(found.url, first.url);
    assert_eq!(found.secret.expose(), first.secret.expose());
    assert_eq!(found.events, first.events);
    assert_eq!(found.starts_after, ChangeId(3));
    assert_eq!((found.failing_since, found.disabled), (None, None));
    let page = PageRequest {
        limit: Limit::new(1).unwrap(),
        after: None,
    };
    let listed = db.list_webhooks(olivia.id, page).await.unwrap();
    assert_eq!(
        listed.items.iter().map(|w| w.id).collect::<Vec<_>>(),
        [second.id]
    );
    let next = PageRequest {
        after: listed.next_after,
        ..page
    };
    let rest = db.list_webhooks(olivia.id, next).await.unwrap();
    assert_eq!((rest.items[0].id, rest.next_after), (first.id, None));

    assert!(db
        .enqueue(ChangeId(0), ChangeId(4), vec![to_hook(&first, 4)])
        .await
        .unwrap());
    let claimed = claim(db, now(), 10).await;
    assert!(db
        .record_attempt(
            &claimed[0],
            &attempt(1, now(), 500),
            Verdict::RetryAt(now() + Duration::seconds(5))
        )
        .await
        .unwrap());
    assert_eq!(
        db.list_attempts(first.id, PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(db.delete_webhook(first.id).await.unwrap());
    assert!(!db.delete_webhook(first.id).await.unwrap());
    assert!(db.find_webhook(first.id).await.unwrap().is_none());
    assert!(db
        .list_attempts(first.id, PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(
        claim(db, now() + Duration::hours(1), 10).await.is_empty(),
        "its deliveries went with it"
    );
}

async fn no_owner_passes_the_limit_even_with_concurrent_creations(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let olivia = user(&*subject.db, "Olivia").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let db = if i % 2 == 0 {
            subject.db.clone()
        } else {
            subject.second()
        };
        let webhook = webhook(&olivia);
        tasks.push(tokio::spawn(
            async move { db.create_webhook(&webhook).await },
        ));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => created += 1,
            Err(StoreWebhookError::TooMany) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(created, Webhook::MAX_PER_USER);
    let all = PageRequest {
        limit: Limit::new(100).unwrap(),
        after: None,
    };
    assert_eq!(
        subject
            .db
            .list_webhooks(olivia.id, all)
            .await
            .unwrap()
            .items
            .len(),
        10
    );
}

async fn the_dispatch_position_moves_once_from_where_it_was_read(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let webhook = hook(db, &olivia).await;
    assert_eq!(db.dispatch_position().await.unwrap(), ChangeId(0));
    assert!(db
        .enqueue(ChangeId(0), ChangeId(5), vec![to_hook(&webhook, 5)])
        .await
        .unwrap());
    assert!(!db
        .enqueue(ChangeId(0), ChangeId(6), vec![to_hook(&webhook, 6)])
        .await
        .unwrap());
    assert_eq!(db.dispatch_position().await.unwrap(), ChangeId(5));
    let claimed = claim(db, now(), 10).await;
    assert_eq!(
        claimed.iter().map(|c| c.change_id).collect::<Vec<_>>(),
        [ChangeId(5)]
    );
    // Twenty rounds of two processes dispatching the same changes: one wins each.
    for round in 0..20 {
        let from = ChangeId(5 + round);
        let to = ChangeId(6 + round);
        let (a, b) = (subject.db.clone(), subject.second());
        let (x, y) = (to_hook(&webhook, to.0), to_hook(&webhook, to.0));
        let (won_a, won_b) = tokio::join!(
            tokio::spawn(async move { a.enqueue(from, to, vec![x]).await.unwrap() }),
            tokio::spawn(async move { b.enqueue(from, to, vec![y]).await.unwrap() }),
        );
        assert!(
            won_a.unwrap() ^ won_b.unwrap(),
            "round {round}: exactly one"
        );
    }
    let later = now() + Duration::seconds(1);
    assert_eq!(
        claim(db, later, 100).await.len(),
        3,
        "the share of 4, less the first still in flight"
    );
}

async fn two_workers_never_claim_one_delivery(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let mut hooks = Vec::new();
    for _ in 0..5 {
        hooks.push(hook(db, &olivia).await);
    }
    let made: Vec<NewDelivery> = (1..=40)
        .map(|c| to_hook(&hooks[c as usize % 5], c))
        .collect();
    let ids: BTreeSet<DeliveryId> = made.iter().map(|d| d.id).collect();
    assert!(db.enqueue(ChangeId(0), ChangeId(40), made).await.unwrap());
    let mut seen = BTreeSet::new();
    for round in 0..20 {
        let at = now() + Duration::minutes(2 * round);
        let (a, b) = (subject.db.clone(), subject.second());
        let (x, y) = tokio::join!(
            tokio::spawn(async move { claim(&*a, at, 3).await }),
            tokio::spawn(async move { claim(&*b, at, 3).await }),
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        let xs: BTreeSet<_> = x.iter().map(|c| c.id).collect();
        let ys: BTreeSet<_> = y.iter().map(|c| c.id).collect();
        assert!(
            xs.is_disjoint(&ys),
            "round {round}: one delivery claimed twice"
        );
        for claimed in x.iter().chain(&y) {
            let done = Verdict::Delivered;
            assert!(db
                .record_attempt(claimed, &attempt(1, at, 200), done)
                .await
                .unwrap());
            assert!(seen.insert(claimed.id), "delivered twice");
        }
    }
    assert_eq!(seen, ids, "every delivery was claimed once");
}

async fn a_claim_holds_until_its_lease_ends_and_only_a_live_claim_records(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let webhook = hook(db, &olivia).await;
    assert!(db
        .enqueue(ChangeId(0), ChangeId(4), vec![to_hook(&webhook, 4)])
        .await
        .unwrap());
    let first = claim(db, now(), 10).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].payload, "{\"id\":4}");
    assert!(claim(db, now() + Duration::seconds(59), 10)
        .await
        .is_empty());
    let second = claim(db, now() + Duration::seconds(60), 10).await;
    assert_eq!(second.len(), 1, "the lease ran out");
    let late = attempt(1, now(), 200);
    assert!(!db
        .record_attempt(&first[0], &late, Verdict::Delivered)
        .await
        .unwrap());
    let retry_at = now() + Duration::minutes(5);
    let failed = attempt(1, now() + Duration::seconds(61), 503);
    assert!(db
        .record_attempt(&second[0], &failed, Verdict::RetryAt(retry_at))
        .await
        .unwrap());
    let stored = db.find_webhook(webhook.id).await.unwrap().unwrap();
    assert_eq!(
        stored.failing_since,
        Some(failed.at),
        "a run of failures began"
    );
    assert!(
        claim(db, retry_at - Duration::seconds(1), 10)
            .await
            .is_empty(),
        "not due yet"
    );
    let again = claim(db, retry_at, 10).await;
    assert_eq!(again[0].attempts, 1);
    assert!(db
        .record_attempt(&again[0], &attempt(2, retry_at, 200), Verdict::Delivered)
        .await
        .unwrap());
    assert_eq!(
        db.find_webhook(webhook.id)
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        None
    );
    let listed = db
        .list_attempts(webhook.id, PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        listed
            .iter()
            .map(|a| (a.record.number, a.record.status_code, a.verdict))
            .collect::<Vec<_>>(),
        [
            (2, Some(200), Verdict::Delivered),
            (1, Some(503), Verdict::RetryAt(retry_at))
        ]
    );
    assert_eq!(
        listed[1].record.response_body.as_deref(),
        Some("status 503")
    );
    assert!(
        claim(db, retry_at + Duration::days(1), 10).await.is_empty(),
        "delivered is done"
    );
}

async fn disabling_a_webhook_ends_its_deliveries_and_leaves_others_alone(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (olivia, sara) = (user(db, "Olivia").await, user(db, "Sara").await);
    let (gone, kept) = (hook(db, &olivia).await, hook(db, &sara).await);
    let made = vec![
        to_hook(&gone, 4),
        to_hook(&gone, 5),
        to_hook(&kept, 5),
        to_mail(5),
    ];
    assert!(db.enqueue(ChangeId(0), ChangeId(5), made).await.unwrap());
    let claimed = claim(db, now(), 1).await;
    assert_eq!(claimed[0].change_id, ChangeId(4));
    let verdict = Verdict::Disable(DisableReason::Gone);
    assert!(db
        .record_attempt(&claimed[0], &attempt(1, now(), 410), verdict)
        .await
        .unwrap());
    let stored = db.find_webhook(gone.id).await.unwrap().unwrap();
    assert_eq!(
        stored.disabled.map(|d| (d.at, d.reason)),
        Some((now(), DisableReason::Gone))
    );
    assert_eq!(
        db.webhooks_of(&[olivia.id, sara.id])
            .await
            .unwrap()
            .iter()
            .map(|w| w.id)
            .collect::<Vec<_>>(),
        [kept.id]
    );
    let rest = claim(db, now(), 10).await;
    let mut targets: Vec<bool> = rest
        .iter()
        .map(|c| {
            matches!(
                c.target,
                domain::webhooks::delivery::ClaimedTarget::Email(_)
            )
        })
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [false, true],
        "the kept hook's and the email, not the gone hook's"
    );
    let without_email = db
        .claim_due(
            now() + Duration::minutes(5),
            now() + Duration::minutes(6),
            10,
            SHARES,
            ClaimKind::Webhooks,
        )
        .await
        .unwrap();
    assert!(without_email.iter().all(|c| matches!(
        c.target,
        domain::webhooks::delivery::ClaimedTarget::Webhook(_)
    )));
}

async fn no_target_gets_more_than_its_share_in_flight(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let (olivia, sara) = (user(db, "Olivia").await, user(db, "Sara").await);
    let (busy, quiet) = (hook(db, &olivia).await, hook(db, &sara).await);
    let mut made: Vec<NewDelivery> = (1..=10).map(|c| to_hook(&busy, c)).collect();
    made.push(to_hook(&quiet, 11));
    assert!(db.enqueue(ChangeId(0), ChangeId(11), made).await.unwrap());
    let first = claim(db, now(), 100).await;
    assert_eq!(
        first.len(),
        5,
        "4 of the busy hook's 10, and the quiet one's"
    );
    assert!(
        claim(db, now(), 100).await.is_empty(),
        "the busy hook has its 4 in flight"
    );
    assert!(db
        .record_attempt(&first[0], &attempt(1, now(), 200), Verdict::Delivered)
        .await
        .unwrap());
    assert_eq!(claim(db, now(), 100).await.len(), 1, "one slot came free");
}

async fn the_purge_deletes_finished_deliveries_only(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let webhook = hook(db, &olivia).await;
    let made = vec![to_hook(&webhook, 4), to_hook(&webhook, 5)];
    assert!(db.enqueue(ChangeId(0), ChangeId(5), made).await.unwrap());
    let claimed = claim(db, now(), 1).await;
    assert!(db
        .record_attempt(&claimed[0], &attempt(1, now(), 200), Verdict::Delivered)
        .await
        .unwrap());
    let later = now() + Duration::days(31);
    assert_eq!(db.purge_deliveries(later, 100).await.unwrap(), 1);
    assert_eq!(db.purge_deliveries(later, 100).await.unwrap(), 0);
    assert!(db
        .list_attempts(webhook.id, PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(claim(db, now(), 10).await.len(), 1, "the pending one stays");
}

async fn deliveries_of_a_webhook_deleted_before_the_dispatch_are_dropped(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia").await;
    let (gone, kept) = (hook(db, &olivia).await, hook(db, &olivia).await);
    assert!(db.delete_webhook(gone.id).await.unwrap());
    let made = vec![to_hook(&gone, 4), to_hook(&kept, 4)];
    assert!(db.enqueue(ChangeId(0), ChangeId(4), made).await.unwrap());
    let claimed = claim(db, now(), 10).await;
    assert_eq!(claimed.len(), 1);
    assert!(
        matches!(&claimed[0].target, domain::webhooks::delivery::ClaimedTarget::Webhook(w) if w.id == kept.id)
    );
    assert_eq!(db.dispatch_position().await.unwrap(), ChangeId(4));
}

/// How deliveries are stored, which only the database shows: one payload per change.
mod shared_payloads {
    use adapters_diesel::testing::TestDatabase;
    use adapters_diesel::Backend;

    use domain::webhooks::delivery::ClaimedTarget;

    use super::*;
    use crate::support::per_backend;

    per_backend!(a_change_sent_to_ten_webhooks_keeps_its_payload_once_until_the_last_delivery_goes);

    const SHARES_ALL: ClaimShares = ClaimShares {
        per_target: 100,
        per_owner: 100,
    };

    fn count(database: &TestDatabase, sql: &str) -> usize {
        database.texts(sql)[0].parse().unwrap()
    }

    async fn a_change_sent_to_ten_webhooks_keeps_its_payload_once_until_the_last_delivery_goes(
        backend: Backend,
    ) {
        let Some(database) = TestDatabase::new(backend) else {
            return;
        };
        let db = database.open();
        let olivia = user(&db, "Olivia").await;
        let mut hooks = Vec::new();
        for _ in 0..10 {
            hooks.push(hook(&db, &olivia).await);
        }
        let mut made: Vec<NewDelivery> = Vec::new();
        for change in [4, 5] {
            made.extend(hooks.iter().map(|webhook| to_hook(webhook, change)));
            made.push(to_mail(change));
        }
        assert!(db.enqueue(ChangeId(0), ChangeId(5), made).await.unwrap());
        let payloads = count(
            &database,
            "SELECT CAST(COUNT(*) AS TEXT) AS value FROM change_payloads",
        );
        let stored = count(
            &database,
            "SELECT CAST(COALESCE(SUM(LENGTH(payload)), 0) AS TEXT) AS value FROM deliveries \
             WHERE webhook_id IS NOT NULL",
        );
        eprintln!("{backend:?}: 2 changes to 10 webhooks: {payloads} payloads kept, {stored} bytes in the deliveries");
        assert_eq!(payloads, 2, "one per change");
        assert_eq!(stored, 0, "no copy per delivery");

        // Every attempt still sends its change's JSON; an email keeps its own message.
        let claimed = db
            .claim_due(
                now(),
                now() + Duration::seconds(60),
                100,
                SHARES_ALL,
                ClaimKind::Webhooks,
            )
            .await
            .unwrap();
        let emails = db
            .claim_due(
                now(),
                now() + Duration::seconds(60),
                100,
                SHARES_ALL,
                ClaimKind::Emails,
            )
            .await
            .unwrap();
        let claimed: Vec<ClaimedDelivery> = claimed.into_iter().chain(emails).collect();
        assert_eq!(claimed.len(), 22);
        for delivery in &claimed {
            let expected = match delivery.target {
                ClaimedTarget::Webhook(_) => format!("{{\"id\":{}}}", delivery.change_id.0),
                _ => "hello".to_owned(),
            };
            assert_eq!(delivery.payload, expected);
        }

        // Change 4's deliveries finish and are purged: its payload goes with the last of them,
        // change 5's stays for its pending ones.
        for delivery in claimed.iter().filter(|d| d.change_id == ChangeId(4)) {
            assert!(db
                .record_attempt(delivery, &attempt(1, now(), 200), Verdict::Delivered)
                .await
                .unwrap());
        }
        let later = now() + Duration::days(31);
        assert_eq!(db.purge_deliveries(later, 100).await.unwrap(), 11);
        assert_eq!(
            database.texts("SELECT CAST(change_id AS TEXT) AS value FROM change_payloads"),
            ["5"]
        );
    }
}
