//! Webhooks and deliveries through the public services, over the in-memory store and hand-written
//! fakes of the sender, the mailer and the renderer.

use crate::invitations::Reply;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Duration;

use super::*;
use crate::accounts::User;
use crate::accounts::{AccountService, RegisterCommand};
use crate::changes::{ChangeId, ChangeKind};
use crate::events::EventDetails;
use crate::events::EventService;
use crate::invitations::InvitationEntries;
use crate::invitations::{InvitationService, SendInvitations};
use crate::testing::{FakeSender, FixedClock, Store, Wiring};
use crate::webhooks::delivery::{InvitationEmail, RetryPolicy, Verdict};
use crate::webhooks::ports::{
    DeliveryQueue, DestinationRefused, MailResult, Mailer, WebhookRepository, WebhookResponse,
};
use crate::webhooks::{
    Challenge, CreateWebhookError, VerificationOutcome, WebhookError, WebhookService, WebhookStatus,
};
use crate::webhooks::{DestinationPolicy, DisableReason, WebhookEvents, WebhookUrl};
use crate::{Answer, Email, EventId, InvitationId, PageRequest, Password, PhoneRegion, Text};

/// `POST` answers with these statuses.
fn answers(statuses: &[u16]) -> Vec<WebhookResponse> {
    statuses
        .iter()
        .map(|&status| WebhookResponse::Answered {
            status,
            retry_after: None,
            body: format!("status {status}"),
        })
        .collect()
}

/// Composes `to <name>: <title>` and answers sends from a script (sent once it runs out).
#[derive(Default)]
struct ScriptedMailer {
    script: Mutex<VecDeque<MailResult>>,
    sent: Mutex<Vec<(Email, String)>>,
    /// The language of each email composed, by address.
    languages: Mutex<Vec<(String, crate::accounts::Locale)>>,
    /// The unsubscribe link of each email composed, by address.
    unsubscribe: Mutex<Vec<(String, Option<String>)>>,
}

#[async_trait]
impl Mailer for ScriptedMailer {
    fn compose(&self, email: &InvitationEmail) -> String {
        self.languages
            .lock()
            .unwrap()
            .push((email.to.as_str().to_owned(), email.locale));
        self.unsubscribe
            .lock()
            .unwrap()
            .push((email.to.as_str().to_owned(), email.unsubscribe.clone()));
        format!(
            "to {}: {}{}",
            email.invitee_name.as_ref().map_or("there", |n| n.as_str()),
            email.event_title.as_str(),
            if email.resent { " (again)" } else { "" }
        )
    }

    fn compose_text(&self, subject: &str, text: &str) -> String {
        format!("{subject}: {text}")
    }

    async fn send(&self, to: &Email, message: &str) -> MailResult {
        self.sent
            .lock()
            .unwrap()
            .push((to.clone(), message.to_owned()));
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(MailResult::Sent)
    }
}

/// Renders `change <id> <kind>`.
struct Renderer;

impl ChangeRenderer for Renderer {
    fn render(&self, change: &crate::changes::RecordedChange) -> String {
        format!("change {} {}", change.id.0, change.change.kind().as_str())
    }
}

struct World {
    store: Arc<Store>,
    clock: Arc<FixedClock>,
    sender: Arc<FakeSender>,
    mailer: Arc<ScriptedMailer>,
    accounts: AccountService,
    events: EventService,
    invitations: InvitationService,
    webhooks: WebhookService,
    deliveries: DeliveryService,
}

impl World {
    fn new(email: bool) -> Self {
        Self::over(Wiring::default(), email)
    }

    fn over(wiring: Wiring, email: bool) -> Self {
        let (store, clock, sender) = (
            wiring.store.clone(),
            wiring.clock.clone(),
            wiring.sender.clone(),
        );
        let mailer = Arc::new(ScriptedMailer::default());
        let accounts = wiring.accounts();
        let events = wiring.events();
        let invitations = wiring.invitations();
        let webhooks = wiring.webhooks();
        let deliveries = DeliveryService::new(
            store.clone(),
            store.clone(),
            Arc::new(Renderer),
            sender.clone(),
            email.then(|| mailer.clone() as Arc<dyn Mailer>),
            clock.clone(),
            RetryPolicy::default(),
            DeliveryLimits::default(),
        );
        Self {
            store,
            clock,
            sender,
            mailer,
            accounts,
            events,
            invitations,
            webhooks,
            deliveries,
        }
    }

    async fn user(&self, name: &str) -> User {
        self.user_in(name, crate::accounts::Locale::En).await
    }

    async fn user_in(&self, name: &str, locale: crate::accounts::Locale) -> User {
        self.accounts
            .register(
                RegisterCommand {
                    name: Text::from_stored(name.into()),
                    email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
                    mobile: None,
                    password: Some(Password::parse("correct horse".into()).unwrap()),
                    locale,
                },
                "192.0.2.1",
            )
            .await
            .unwrap()
            .user
    }

    async fn event(&self, owner: &User) -> EventId {
        let details =
            EventDetails::new(Text::from_stored("Launch".into()), None, None, None, None).unwrap();
        self.events.create(owner, details).await.unwrap().event.id
    }

    async fn invite(&self, sender: &User, event: EventId, contact: &str) -> InvitationId {
        let report = self
            .invitations
            .send(
                sender,
                SendInvitations {
                    event_id: event,
                    entries: InvitationEntries::parse(&[contact], PhoneRegion::default()).unwrap(),
                    message: None,
                    expires_in: None,
                },
            )
            .await
            .unwrap();
        report.sent[0].invitation.id()
    }

    async fn hook(&self, owner: &User, events: WebhookEvents) -> crate::webhooks::Webhook {
        let webhook = self.pending_hook(owner, events).await;
        // Its endpoint (the fake sender) echoes the challenge.
        self.verify_all().await;
        self.webhooks.get(owner, webhook.id).await.unwrap()
    }

    /// A webhook just registered, its endpoint not yet asked to verify.
    async fn pending_hook(&self, owner: &User, events: WebhookEvents) -> crate::webhooks::Webhook {
        let url = WebhookUrl::parse(
            "https://hooks.example.com/in",
            DestinationPolicy::PublicOnly,
        )
        .unwrap();
        self.webhooks.create(owner, url, events).await.unwrap()
    }

    /// Asks every endpoint due to verify; the outcomes.
    async fn verify_all(&self) -> Vec<VerificationOutcome> {
        let mut outcomes = Vec::new();
        for pending in self.deliveries.claim_verifications(100).await.unwrap() {
            let (outcome, recorded) = self.deliveries.verify(&pending, 0.0).await.unwrap();
            assert!(recorded);
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Dispatches everything, then attempts every due delivery once; the verdicts stored.
    async fn deliver(&self) -> Vec<Verdict> {
        while self.deliveries.dispatch().await.unwrap().changes > 0 {}
        let mut verdicts = Vec::new();
        let mut due = self
            .deliveries
            .claim(ClaimKind::Webhooks, 100)
            .await
            .unwrap();
        due.extend(self.deliveries.claim(ClaimKind::Emails, 100).await.unwrap());
        for claimed in due {
            let attempted = self.deliveries.attempt(&claimed, 0.0).await.unwrap();
            // Not recorded only when an earlier attempt of this round disabled the webhook.
            if attempted.recorded {
                verdicts.push(attempted.verdict);
            }
        }
        verdicts
    }
}

#[tokio::test]
async fn r12_a_webhook_receives_what_its_owner_receives_and_a_strangers_receives_nothing() {
    let w = World::new(false);
    let (olivia, sara, stranger) = (
        w.user("olivia").await,
        w.user("sara").await,
        w.user("zed").await,
    );
    let sara_hook = w.hook(&sara, WebhookEvents::All).await;
    let stranger_hook = w.hook(&stranger, WebhookEvents::All).await;
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "sara@example.com").await;

    assert_eq!(w.deliver().await, [Verdict::Delivered]);
    let sent = w.sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, "change 1 invitation.created");
    assert_eq!(sent[0].message_id, "1");
    assert_eq!(
        sent[0].signature,
        sara_hook.secret.sign("1", sent[0].timestamp, &sent[0].body),
        "signed with the hook's secret over id, timestamp and body"
    );
    assert_eq!(sent[0].timestamp, FixedClock::START.timestamp());
    let attempts = w
        .webhooks
        .attempts(&sara, sara_hook.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(attempts.items.len(), 1);
    assert_eq!(attempts.items[0].record.status_code, Some(200));
    let none = w
        .webhooks
        .attempts(&stranger, stranger_hook.id, PageRequest::default())
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn the_filter_and_the_creation_time_decide_which_changes_a_webhook_gets() {
    let w = World::new(false);
    let (olivia, sara) = (w.user("olivia").await, w.user("sara").await);
    let event = w.event(&olivia).await;
    let first = w.invite(&olivia, event, "sara@example.com").await;
    // Registered after the first invitation: it never gets that one's created.
    w.hook(
        &olivia,
        WebhookEvents::of_kinds([
            ChangeKind::InvitationAccepted,
            ChangeKind::InvitationCreated,
        ]),
    )
    .await;
    w.invitations
        .answer(&sara, first, Reply::of(Answer::Accept), None)
        .await
        .unwrap();
    assert_eq!(w.deliver().await, [Verdict::Delivered]);
    assert_eq!(
        w.sender
            .sent()
            .iter()
            .map(|r| r.body.as_str())
            .collect::<Vec<_>>(),
        ["change 2 invitation.accepted"],
        "member.joined is filtered out, and the earlier created was before the hook"
    );
}

#[tokio::test]
async fn two_workers_dispatching_at_once_make_each_delivery_once() {
    let w = World::new(false);
    let (olivia, sara) = (w.user("olivia").await, w.user("sara").await);
    w.hook(&sara, WebhookEvents::All).await;
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "sara@example.com").await;
    let other = w.deliveries.clone();
    let (a, b) = tokio::join!(w.deliveries.dispatch(), other.dispatch());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.deliveries + b.deliveries, 1, "{a:?} {b:?}");
    assert_eq!(
        w.deliveries
            .claim(ClaimKind::Webhooks, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_failed_attempt_is_retried_on_schedule_with_the_same_id_until_it_succeeds() {
    let w = World::new(false);
    w.sender.script(answers(&[500, 503]));
    let (olivia, sara) = (w.user("olivia").await, w.user("sara").await);
    let hook = w.hook(&sara, WebhookEvents::All).await;
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "sara@example.com").await;

    let start = FixedClock::START;
    assert_eq!(
        w.deliver().await,
        [Verdict::RetryAt(start + Duration::seconds(5))]
    );
    assert!(w.deliver().await.is_empty(), "not due yet");
    w.clock.advance(Duration::seconds(5));
    assert_eq!(
        w.deliver().await,
        [Verdict::RetryAt(
            start + Duration::seconds(5) + Duration::minutes(5)
        )]
    );
    w.clock.advance(Duration::minutes(5));
    assert_eq!(w.deliver().await, [Verdict::Delivered]);
    let sent = w.sender.sent();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|r| r.message_id == sent[0].message_id));
    assert_ne!(
        sent[0].timestamp, sent[2].timestamp,
        "each attempt is signed at its own time"
    );
    let attempts = w
        .webhooks
        .attempts(&sara, hook.id, PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.record.number, a.record.status_code))
            .collect::<Vec<_>>(),
        [(3, Some(200)), (2, Some(503)), (1, Some(500))],
        "newest first"
    );
    assert_eq!(
        w.webhooks.get(&sara, hook.id).await.unwrap().failing_since,
        None
    );
}

#[tokio::test]
async fn a_410_disables_the_webhook_and_ends_its_pending_deliveries() {
    let w = World::new(false);
    w.sender.script(answers(&[410]));
    let (olivia, sara, reza) = (
        w.user("olivia").await,
        w.user("sara").await,
        w.user("reza").await,
    );
    let hook = w.hook(&olivia, WebhookEvents::All).await;
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "sara@example.com").await;
    w.invite(&olivia, event, "reza@example.com").await;
    while w.deliveries.dispatch().await.unwrap().changes > 0 {}
    let claimed = w.deliveries.claim(ClaimKind::Webhooks, 1).await.unwrap();
    let attempted = w.deliveries.attempt(&claimed[0], 0.0).await.unwrap();
    assert_eq!(attempted.verdict, Verdict::Disable(DisableReason::Gone));
    let stored = w.webhooks.get(&olivia, hook.id).await.unwrap();
    assert_eq!(stored.disabled.map(|d| d.reason), Some(DisableReason::Gone));
    assert!(
        w.deliveries
            .claim(ClaimKind::Webhooks, 10)
            .await
            .unwrap()
            .is_empty(),
        "the other delivery ended too"
    );
    let zed = w.user("zed").await;
    w.invite(&olivia, event, "zed@example.com").await;
    assert!(
        w.deliver().await.is_empty(),
        "a disabled webhook gets nothing new"
    );
    let _ = (sara, reza, zed);
    assert_eq!(w.sender.sent().len(), 1);
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled() {
    let w = World::new(false);
    w.sender.script(answers(&[500; 20]));
    let (olivia, sara) = (w.user("olivia").await, w.user("sara").await);
    let hook = w.hook(&sara, WebhookEvents::All).await;
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "sara@example.com").await;
    assert!(matches!(w.deliver().await[..], [Verdict::RetryAt(_)]));
    // Days later, still failing: a new change's first failure finds the run five days old.
    w.clock.advance(Duration::days(5));
    let again = w.event(&olivia).await;
    w.invite(&olivia, again, "sara@example.com").await;
    let verdicts = w.deliver().await;
    assert!(
        verdicts.contains(&Verdict::Disable(DisableReason::Failing)),
        "{verdicts:?}"
    );
    let stored = w.webhooks.get(&sara, hook.id).await.unwrap();
    assert_eq!(
        stored.disabled.map(|d| d.reason),
        Some(DisableReason::Failing)
    );
}

#[tokio::test]
async fn a_claim_holds_until_its_lease_ends_and_a_late_worker_cannot_record() {
    let w = World::new(false);
    let (olivia, sara) = (w.user("olivia").await, w.user("sara").await);
    w.hook(&sara, WebhookEvents::All).await;
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "sara@example.com").await;
    w.deliveries.dispatch().await.unwrap();
    let first = w.deliveries.claim(ClaimKind::Webhooks, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        w.deliveries
            .claim(ClaimKind::Webhooks, 10)
            .await
            .unwrap()
            .is_empty(),
        "held by the first claim"
    );
    w.clock.advance(DeliveryLimits::default().lease);
    let second = w.deliveries.claim(ClaimKind::Webhooks, 10).await.unwrap();
    assert_eq!(second.len(), 1, "the dead worker's lease ran out");
    let late = w.deliveries.attempt(&first[0], 0.0).await.unwrap();
    assert!(!late.recorded, "the first claim no longer holds");
    assert!(
        w.deliveries
            .attempt(&second[0], 0.0)
            .await
            .unwrap()
            .recorded
    );
}

#[tokio::test]
async fn no_target_has_more_than_its_share_in_flight() {
    let w = World::new(false);
    let (olivia, busy, quiet) = (
        w.user("olivia").await,
        w.user("busy").await,
        w.user("quiet").await,
    );
    w.hook(&busy, WebhookEvents::All).await;
    w.hook(&quiet, WebhookEvents::All).await;
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "quiet@example.com").await;
    for _ in 0..9 {
        let party = w.event(&olivia).await;
        w.invite(&olivia, party, "busy@example.com").await;
    }
    while w.deliveries.dispatch().await.unwrap().changes > 0 {}
    let claimed = w.deliveries.claim(ClaimKind::Webhooks, 100).await.unwrap();
    let per_target = DeliveryLimits::default().per_target as usize;
    assert_eq!(
        claimed.len(),
        per_target + 1,
        "8 of the busy hook's 9, and the quiet one's"
    );
}

#[tokio::test]
async fn an_owner_with_many_webhooks_takes_its_share_and_the_others_take_turns() {
    let w = World::new(true);
    let (olivia, busy, quiet) = (
        w.user("olivia").await,
        w.user("busy").await,
        w.user("quiet").await,
    );
    for _ in 0..10 {
        w.hook(&busy, WebhookEvents::All).await;
    }
    w.hook(&quiet, WebhookEvents::All).await;
    // Busy's ten webhooks get 10 deliveries each first, quiet's one gets its own after them.
    for _ in 0..10 {
        let party = w.event(&olivia).await;
        w.invite(&olivia, party, "busy@example.com").await;
    }
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "quiet@example.com").await;
    while w.deliveries.dispatch().await.unwrap().changes > 0 {}
    // A claim of 3 slots: quiet's turn comes second, though its delivery is the newest.
    let claimed = w.deliveries.claim(ClaimKind::Webhooks, 3).await.unwrap();
    let owners: Vec<UserId> = claimed
        .iter()
        .map(|d| match &d.target {
            ClaimedTarget::Webhook(hook) => hook.owner,
            ClaimedTarget::Email(_) => panic!("no email in a webhook claim"),
        })
        .collect();
    assert!(owners.contains(&quiet.id), "{owners:?}");
    // However many slots, busy's webhooks never hold more than the owner's share.
    let more = w.deliveries.claim(ClaimKind::Webhooks, 100).await.unwrap();
    let per_owner = DeliveryLimits::default().per_owner as usize;
    let busy_held = claimed
        .iter()
        .chain(&more)
        .filter(|d| matches!(&d.target, ClaimedTarget::Webhook(h) if h.owner == busy.id))
        .count();
    assert_eq!(busy_held, per_owner);
    // Emails are claimed apart: the webhooks' claims never take them, nor they the webhooks'.
    let emails = w.deliveries.claim(ClaimKind::Emails, 100).await.unwrap();
    let per_target = DeliveryLimits::default().per_target as usize;
    assert_eq!(
        emails.len(),
        per_target,
        "email's share, apart from the webhooks'"
    );
    assert!(emails
        .iter()
        .all(|d| matches!(d.target, ClaimedTarget::Email(_))));
}

#[tokio::test]
async fn an_endpoint_that_never_answers_is_paused_after_five_in_a_row_and_an_answer_closes_it() {
    use crate::webhooks::delivery::CircuitBreaker;
    let w = World::new(false);
    let (olivia, owner) = (w.user("olivia").await, w.user("owner").await);
    w.hook(&owner, WebhookEvents::All).await;
    for _ in 0..8 {
        let party = w.event(&olivia).await;
        w.invite(&olivia, party, "owner@example.com").await;
    }
    while w.deliveries.dispatch().await.unwrap().changes > 0 {}
    // Five attempts get no answer: the breaker opens, and nothing more is claimed for 30 s.
    w.sender.script((0..5).map(|_| WebhookResponse::Failed {
        error: "timed out".into(),
    }));
    for _ in 0..5 {
        let claimed = w.deliveries.claim(ClaimKind::Webhooks, 1).await.unwrap();
        w.deliveries.attempt(&claimed[0], 0.0).await.unwrap();
    }
    assert!(w
        .deliveries
        .claim(ClaimKind::Webhooks, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(CircuitBreaker::pause(5), Some(Duration::seconds(30)));
    assert_eq!(CircuitBreaker::pause(6), Some(Duration::seconds(60)));
    assert_eq!(CircuitBreaker::pause(40), Some(Duration::hours(1)));
    assert_eq!(CircuitBreaker::pause(4), None);
    // Once it closes, the next attempt is answered and the endpoint is claimed in full again.
    w.clock.advance(Duration::seconds(31));
    let claimed = w.deliveries.claim(ClaimKind::Webhooks, 1).await.unwrap();
    assert_eq!(claimed.len(), 1);
    w.deliveries.attempt(&claimed[0], 0.0).await.unwrap();
    let rest = w.deliveries.claim(ClaimKind::Webhooks, 10).await.unwrap();
    assert!(!rest.is_empty(), "an answer closed it");
}

#[tokio::test]
async fn an_invitee_reached_by_email_gets_an_email_for_created_and_resent_only() {
    let w = World::new(true);
    let (olivia, sara) = (w.user("olivia").await, w.user("sara").await);
    let event = w.event(&olivia).await;
    let invitation = w.invite(&olivia, event, "  Sara@Example.com ").await;
    w.invitations.resend(&olivia, invitation).await.unwrap();
    w.invitations
        .answer(&sara, invitation, Reply::of(Answer::Accept), None)
        .await
        .unwrap();
    assert_eq!(w.deliver().await, [Verdict::Delivered, Verdict::Delivered]);
    let sent = w.mailer.sent.lock().unwrap().clone();
    let to = Email::parse("sara@example.com").unwrap();
    assert_eq!(
        sent,
        [
            (to.clone(), "to sara: Launch".to_owned()),
            (to, "to sara: Launch (again)".to_owned())
        ]
    );
}

#[tokio::test]
async fn each_invitation_email_is_in_its_readers_language_and_a_held_one_in_its_senders() {
    use crate::accounts::{ContactVerification, Locale};
    let wiring = Wiring {
        verification: ContactVerification::Required,
        ..Wiring::default()
    };
    let w = World::over(wiring, true);
    let w = World {
        deliveries: w.deliveries.clone().with_notices(w.store.clone()),
        ..w
    };
    let olivia = w.user_in("olivia", Locale::Fa).await;
    let (sara, reza) = (
        w.user_in("sara", Locale::En).await,
        w.user_in("reza", Locale::Fa).await,
    );
    // Olivia and Reza prove their addresses; Sara only claims hers, so her invitation is held.
    for user in [&olivia, &reza] {
        w.store.prove_email(user.id);
    }
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "sara@example.com").await;
    w.invite(&olivia, event, "reza@example.com").await;
    w.deliver().await;
    let mut languages = w.mailer.languages.lock().unwrap().clone();
    languages.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        languages,
        [
            ("reza@example.com".to_owned(), Locale::Fa),
            // Held: whoever claims the address may not own it; the sender's language.
            ("sara@example.com".to_owned(), Locale::Fa),
        ]
    );
    // Sara proves it: from now on her messages are in her language.
    w.store.prove_email(sara.id);
    let english_event = w.event(&reza).await;
    w.invite(&reza, english_event, "sara@example.com").await;
    w.deliver().await;
    let last = w.mailer.languages.lock().unwrap().last().cloned();
    assert_eq!(last, Some(("sara@example.com".to_owned(), Locale::En)));
}

#[tokio::test]
async fn an_opted_out_contact_gets_no_invitation_email_and_the_others_name_their_unsubscribe_link()
{
    use crate::optouts::{OptOutService, UnsubscribeKey};
    let w = World::new(true);
    let key = UnsubscribeKey::new(b"shared secret");
    let public = crate::links::PublicUrl::parse("https://events.example.com").unwrap();
    let w = World {
        deliveries: w
            .deliveries
            .clone()
            .with_opt_outs(w.store.clone(), key.clone(), public),
        ..w
    };
    let opt_outs = OptOutService::new(w.store.clone(), w.store.clone(), key, w.clock.clone());
    let (olivia, bob) = (w.user("olivia").await, w.user("bob").await);
    w.user("sara").await;
    let (party, dinner) = (w.event(&olivia).await, w.event(&bob).await);
    w.invite(&olivia, party, "sara@example.com").await;
    w.deliver().await;
    let (to, link) = w.mailer.unsubscribe.lock().unwrap()[0].clone();
    assert_eq!(to, "sara@example.com");
    let link = link.expect("an unsubscribe link");
    let token = link
        .strip_prefix("https://events.example.com/unsubscribe/")
        .expect(&link);
    // Sara stops Olivia's invitations: Olivia's next one is not emailed, Bob's still is.
    opt_outs.unsubscribe(token, false).await.unwrap();
    let second = w.event(&olivia).await;
    w.invite(&olivia, second, "sara@example.com").await;
    w.invite(&bob, dinner, "sara@example.com").await;
    w.deliver().await;
    let sent: Vec<String> = w
        .mailer
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    // Then everyone's: nothing more reaches her, though the invitation is made and hers to see.
    opt_outs.unsubscribe(token, true).await.unwrap();
    let third = w.event(&bob).await;
    w.invite(&bob, third, "sara@example.com").await;
    w.deliver().await;
    assert_eq!(w.mailer.sent.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn no_email_without_a_mailer_or_for_a_mobile_contact_and_a_permanent_refusal_gives_up() {
    let quiet = World::new(false);
    let (olivia, _sara) = (quiet.user("olivia").await, quiet.user("sara").await);
    let event = quiet.event(&olivia).await;
    quiet.invite(&olivia, event, "sara@example.com").await;
    assert!(quiet.deliver().await.is_empty());

    let w = World::new(true);
    w.mailer.script.lock().unwrap().extend([
        MailResult::Transient("451 try later".into()),
        MailResult::Permanent("550 no such user".into()),
    ]);
    let (olivia, _sara) = (w.user("olivia").await, w.user("sara").await);
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "sara@example.com").await;
    assert_eq!(
        w.deliver().await,
        [Verdict::RetryAt(FixedClock::START + Duration::seconds(5))]
    );
    w.clock.advance(Duration::seconds(5));
    assert_eq!(w.deliver().await, [Verdict::GaveUp]);
    w.clock.advance(Duration::days(1));
    assert!(w.deliver().await.is_empty());
}

#[tokio::test]
async fn webhooks_are_their_owners_alone_and_limited_in_number() {
    let w = World::new(false);
    let (olivia, zed) = (w.user("olivia").await, w.user("zed").await);
    let hook = w.hook(&olivia, WebhookEvents::All).await;
    assert!(hook.secret.expose().starts_with("whsec_"));
    assert!(matches!(
        w.webhooks.get(&zed, hook.id).await,
        Err(WebhookError::NotFound)
    ));
    assert!(matches!(
        w.webhooks.delete(&zed, hook.id).await,
        Err(WebhookError::NotFound)
    ));
    assert!(matches!(
        w.webhooks
            .attempts(&zed, hook.id, PageRequest::default())
            .await,
        Err(WebhookError::NotFound)
    ));
    for _ in 1..crate::webhooks::Webhook::MAX_PER_USER {
        w.hook(&olivia, WebhookEvents::All).await;
    }
    let url = WebhookUrl::parse("https://example.com/", DestinationPolicy::PublicOnly).unwrap();
    let checks = w.sender.checks();
    assert!(matches!(
        w.webhooks
            .create(&olivia, url.clone(), WebhookEvents::All)
            .await,
        Err(CreateWebhookError::TooMany)
    ));
    // Refused before its host was looked up.
    assert_eq!(w.sender.checks(), checks);
    assert_eq!(
        w.webhooks
            .list(&olivia, PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        10
    );
    w.webhooks.delete(&olivia, hook.id).await.unwrap();
    assert!(w.store.find_webhook(hook.id).await.unwrap().is_none());
    w.webhooks
        .create(&olivia, url, WebhookEvents::All)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_destination_the_sender_refuses_is_not_registered() {
    let w = World::new(false);
    w.sender.refuse(Some(DestinationRefused::NotPublic));
    let olivia = w.user("olivia").await;
    let url = WebhookUrl::parse(
        "https://internal.example.com/",
        DestinationPolicy::PublicOnly,
    )
    .unwrap();
    assert!(matches!(
        w.webhooks.create(&olivia, url, WebhookEvents::All).await,
        Err(CreateWebhookError::Destination(
            DestinationRefused::NotPublic
        ))
    ));
    assert!(w
        .store
        .list_webhooks(olivia.id, PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(w.store.dispatch_position().await.unwrap(), ChangeId(0));
}

#[test]
fn an_answer_echoes_a_challenge_only_with_a_2xx_and_the_same_value() {
    let challenge = Challenge::of("c2hhbGxvdw");
    assert!(challenge.echoed(200, r#"{"challenge": "c2hhbGxvdw"}"#));
    assert!(challenge.echoed(204, " c2hhbGxvdw\n"));
    assert!(!challenge.echoed(500, "c2hhbGxvdw"));
    assert!(!challenge.echoed(200, r#"{"challenge": "other"}"#));
    assert!(!challenge.echoed(200, ""));
    assert!(!challenge.echoed(200, r#"{"ok": true}"#));
    // An endpoint that mirrors the request proves nothing.
    assert!(!challenge.echoed(200, &challenge.body()));
    assert_eq!(
        challenge.body(),
        r#"{"challenge":"c2hhbGxvdw","type":"webhook.verification"}"#
    );
}

#[tokio::test]
async fn a_new_webhook_receives_nothing_until_its_endpoint_echoes_the_signed_challenge() {
    let w = World::new(false);
    let (olivia, ann) = (w.user("olivia").await, w.user("ann").await);
    let webhook = w.pending_hook(&olivia, WebhookEvents::All).await;
    assert_eq!(webhook.status(), WebhookStatus::PendingVerification);
    // A change while it is pending: never sent to it, not even once it is verified.
    let event = w.event(&olivia).await;
    w.invite(&olivia, event, "ann@example.com").await;
    assert!(w.deliver().await.is_empty());
    let outcomes = w.verify_all().await;
    assert!(
        matches!(outcomes[..], [VerificationOutcome::Verified { .. }]),
        "{outcomes:?}"
    );
    let challenge = &w.sender.verifications()[0];
    assert_eq!(
        challenge.signature,
        webhook
            .secret
            .sign(&challenge.message_id, challenge.timestamp, &challenge.body),
        "signed like a delivery"
    );
    assert!(challenge.body.contains("\"type\":\"webhook.verification\""));
    let shown = w.webhooks.get(&olivia, webhook.id).await.unwrap();
    assert_eq!(shown.status(), WebhookStatus::Active);
    assert!(
        w.deliver().await.is_empty(),
        "the pending time's change is not replayed"
    );
    w.invitations
        .answer(
            &ann,
            w.invite(&olivia, w.event(&olivia).await, "ann@example.com")
                .await,
            Reply::of(Answer::Accept),
            None,
        )
        .await
        .unwrap();
    assert!(!w.deliver().await.is_empty(), "changes after it are sent");
}

#[tokio::test]
async fn an_endpoint_that_never_echoes_is_asked_on_the_schedule_then_disabled_and_verify_asks_again(
) {
    let w = World::new(false);
    let olivia = w.user("olivia").await;
    let webhook = w.pending_hook(&olivia, WebhookEvents::All).await;
    let schedule = RetryPolicy::default().schedule;
    w.sender
        .script_verifications((0..=schedule.len()).map(|_| WebhookResponse::Answered {
            status: 200,
            retry_after: None,
            body: "ok".into(),
        }));
    for wait in &schedule {
        assert!(matches!(
            w.verify_all().await[..],
            [VerificationOutcome::RetryAt(_)]
        ));
        assert!(w.verify_all().await.is_empty(), "not due before its wait");
        w.clock.advance(*wait + Duration::seconds(1));
    }
    assert!(matches!(
        w.verify_all().await[..],
        [VerificationOutcome::GaveUp(_)]
    ));
    let shown = w.webhooks.get(&olivia, webhook.id).await.unwrap();
    assert_eq!(
        shown.disabled.map(|d| d.reason),
        Some(DisableReason::Unverified)
    );
    assert_eq!(w.sender.verifications().len(), schedule.len() + 1);
    // Asked again on request: pending, due at once; this time the endpoint echoes.
    let again = w.webhooks.verify(&olivia, webhook.id).await.unwrap();
    assert_eq!(again.status(), WebhookStatus::PendingVerification);
    assert!(matches!(
        w.verify_all().await[..],
        [VerificationOutcome::Verified { .. }]
    ));
    let active = w.webhooks.verify(&olivia, webhook.id).await.unwrap();
    assert_eq!(
        active.status(),
        WebhookStatus::Active,
        "an active one is left as it is"
    );
    assert!(w.verify_all().await.is_empty());
}

#[tokio::test]
async fn a_webhook_disabled_as_gone_is_not_brought_back_by_a_verification() {
    use crate::webhooks::ports::WebhookRepository;
    let w = World::new(false);
    let olivia = w.user("olivia").await;
    let mut gone = w.hook(&olivia, WebhookEvents::All).await;
    gone.id = crate::WebhookId::generate();
    gone.disabled = Some(crate::webhooks::Disabled {
        at: w.clock.now(),
        reason: DisableReason::Gone,
    });
    w.store.create_webhook(&gone).await.unwrap();
    let refused = w.webhooks.verify(&olivia, gone.id).await;
    assert!(
        matches!(refused, Err(WebhookError::Disabled)),
        "{refused:?}"
    );
    assert!(w.verify_all().await.is_empty(), "nothing asked");
}

#[tokio::test]
async fn a_dispatch_says_whether_it_read_a_whole_batch() {
    let w = World::new(false);
    let olivia = w.user("olivia").await;
    for name in ["sara", "reza", "nima"] {
        w.user(name).await;
    }
    let event = w.event(&olivia).await;
    for name in ["sara", "reza", "nima"] {
        w.invite(&olivia, event, &format!("{name}@example.com"))
            .await;
    }
    let deliveries = DeliveryService::new(
        w.store.clone(),
        w.store.clone(),
        Arc::new(Renderer),
        w.sender.clone(),
        None,
        w.clock.clone(),
        RetryPolicy::default(),
        DeliveryLimits {
            dispatch_batch: 2,
            ..DeliveryLimits::default()
        },
    );
    let first = deliveries.dispatch().await.unwrap();
    assert_eq!(first.changes, 2);
    assert!(first.more, "a whole batch: more may be waiting");
    let mut reads = 1;
    let mut last = first;
    while last.more {
        last = deliveries.dispatch().await.unwrap();
        reads += 1;
        assert!(reads < 10, "a read short of a batch ends the run of reads");
    }
    assert_eq!(
        deliveries.dispatch().await.unwrap(),
        Dispatched::default(),
        "caught up"
    );
}
