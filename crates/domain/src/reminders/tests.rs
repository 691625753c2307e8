//! Reminders through the public services: rules as the API reads them, and the sweeper's step on
//! the shared fakes.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::accounts::{RegisterCommand, User};
use crate::events::{EventDetails, EventPatch};
use crate::invitations::{InvitationEntries, Reply, SendInvitations};
use crate::messages::OutgoingMessage;
use crate::testing::{FixedClock, Wiring};
use crate::{Answer, Email, InvitationId, Password, PhoneRegion, Text};

fn rule(before: &str, to: &str) -> Reminder {
    Reminder::parse(before, to).unwrap()
}

#[test]
fn a_rule_is_5_minutes_to_30_days_before_to_one_audience() {
    assert_eq!(rule("5m", "accepted").before(), Duration::minutes(5));
    assert_eq!(rule("30d", "pending").before(), Duration::days(30));
    assert_eq!(rule("720h", "pending").before(), Duration::days(30));
    assert_eq!(rule("43200m", "pending").before(), Duration::days(30));
    assert_eq!(rule("90m", "tentative").to(), Audience::Tentative);
    for bad in [
        "4m", "31d", "721h", "43201m", "300s", "0m", "05m", "", "1w", "1.5h", "-1h", "24 h",
    ] {
        assert_eq!(
            Reminder::parse(bad, "accepted"),
            Err(ReminderError::Before),
            "{bad:?}"
        );
    }
    for bad in ["", "Accepted", "declined", "everyone"] {
        assert_eq!(
            Reminder::parse("1h", bad),
            Err(ReminderError::To),
            "{bad:?}"
        );
    }
}

#[test]
fn a_lead_is_shown_in_its_largest_whole_unit_and_keyed_in_seconds() {
    assert_eq!(rule("24h", "accepted").before_text(), "1d");
    assert_eq!(rule("36h", "accepted").before_text(), "36h");
    assert_eq!(rule("90m", "accepted").before_text(), "90m");
    assert_eq!(rule("120m", "accepted").before_text(), "2h");
    assert_eq!(rule("24h", "accepted").key(), rule("1d", "accepted").key());
    assert_eq!(rule("1d", "pending").key(), "86400:pending");
}

#[test]
fn an_event_has_at_most_five_rules_none_twice() {
    let five: Vec<Reminder> = ["5m", "1h", "2h", "1d", "2d"]
        .iter()
        .map(|b| rule(b, "accepted"))
        .collect();
    let rules = Reminders::new(five.clone()).unwrap();
    assert_eq!(
        rules.to_stored().as_deref(),
        Some("5m:accepted,1h:accepted,2h:accepted,1d:accepted,2d:accepted")
    );
    assert_eq!(
        Reminders::from_stored(rules.to_stored().as_deref()),
        Ok(rules)
    );
    let mut six = five;
    six.push(rule("3d", "accepted"));
    assert_eq!(Reminders::new(six), Err(ReminderError::TooMany));
    assert_eq!(
        Reminders::new(vec![rule("24h", "pending"), rule("1d", "pending")]),
        Err(ReminderError::Duplicate)
    );
    // The same lead to two audiences is two rules.
    assert!(Reminders::new(vec![rule("1d", "pending"), rule("1d", "accepted")]).is_ok());
    assert_eq!(Reminders::from_stored(None), Ok(Reminders::default()));
    assert_eq!(Reminders::default().to_stored(), None);
}

struct World {
    wiring: Wiring,
    reminders: ReminderService,
}

impl World {
    fn new() -> Self {
        let wiring = Wiring::default();
        let reminders = ReminderService::new(
            wiring.store.clone(),
            wiring.store.clone(),
            wiring.clock.clone(),
        );
        Self { wiring, reminders }
    }

    fn now(&self) -> DateTime<Utc> {
        crate::ports::Clock::now(self.wiring.clock.as_ref())
    }

    /// Moves the clock to `left` before `starts_at`.
    fn at_left(&self, starts_at: DateTime<Utc>, left: Duration) {
        let to = starts_at - left;
        self.wiring.clock.advance(to - self.now());
    }

    async fn user(&self, name: &str, email: bool) -> User {
        self.user_in(name, email, Locale::En).await
    }

    async fn user_in(&self, name: &str, email: bool, locale: Locale) -> User {
        self.wiring
            .accounts()
            .register(
                RegisterCommand {
                    name: Text::from_stored(name.into()),
                    email: email.then(|| Email::parse(&format!("{name}@example.com")).unwrap()),
                    mobile: (!email).then(|| {
                        crate::Mobile::parse("+989121234567", PhoneRegion::default()).unwrap()
                    }),
                    password: Some(Password::parse("correct horse".into()).unwrap()),
                    locale,
                },
                "192.0.2.1",
            )
            .await
            .unwrap()
            .user
    }

    async fn event(&self, owner: &User, starts_at: DateTime<Utc>, rules: &[Reminder]) -> EventId {
        let details = EventDetails::new(
            Text::from_stored("Launch".into()),
            None,
            Some(Text::from_stored("Rooftop".into())),
            Some(starts_at),
            None,
        )
        .unwrap()
        .with_reminders(Reminders::new(rules.to_vec()).unwrap());
        self.wiring
            .events()
            .create(owner, details)
            .await
            .unwrap()
            .event
            .id
    }

    async fn invite(&self, sender: &User, event: EventId, contact: &str) -> InvitationId {
        let report = self
            .wiring
            .invitations()
            .send(
                sender,
                SendInvitations {
                    event_id: event,
                    entries: InvitationEntries::parse(&[contact], PhoneRegion::default()).unwrap(),
                    message: None,
                    expires_in: Some(crate::invitations::InvitationTtl::NEVER),
                },
            )
            .await
            .unwrap();
        report.sent[0].invitation.id()
    }

    async fn answer(&self, invitee: &User, id: InvitationId, answer: Answer) {
        self.wiring
            .invitations()
            .answer(invitee, id, Reply::of(answer), None)
            .await
            .unwrap();
    }

    /// Sends what is due; the reminders made by this sweep, as (address, text).
    async fn sweep(&self) -> Vec<OutgoingMessage> {
        let before = self.sent().len();
        let mut recorded = 0;
        loop {
            let step = self.reminders.send_due(2).await.unwrap();
            recorded += step;
            if step < 2 {
                break;
            }
        }
        let sent = self.sent();
        assert_eq!(recorded as usize, sent.len() - before, "one message each");
        sent[before..].to_vec()
    }

    fn sent(&self) -> Vec<OutgoingMessage> {
        self.wiring
            .store
            .messages()
            .into_iter()
            .filter(|m| m.purpose == "reminder")
            .collect()
    }
}

fn to(messages: &[OutgoingMessage]) -> Vec<String> {
    let mut to: Vec<String> = messages
        .iter()
        .map(|m| m.recipient.address().to_owned())
        .collect();
    to.sort();
    to
}

#[tokio::test]
async fn each_rule_reaches_its_audience_once_when_due() {
    let w = World::new();
    let olivia = w.user("olivia", true).await;
    let sara = w.user("sara", true).await;
    w.user("pat", true).await;
    let tom = w.user("tom", true).await;
    let starts_at = FixedClock::START + Duration::days(3);
    let event = w
        .event(
            &olivia,
            starts_at,
            &[
                rule("1d", "accepted"),
                rule("2h", "pending"),
                rule("30m", "tentative"),
            ],
        )
        .await;
    let to_sara = w.invite(&olivia, event, "sara@example.com").await;
    w.invite(&olivia, event, "pat@example.com").await;
    let to_tom = w.invite(&olivia, event, "tom@example.com").await;
    w.answer(&sara, to_sara, Answer::Accept).await;
    w.answer(&tom, to_tom, Answer::Tentative).await;

    w.at_left(starts_at, Duration::days(1) + Duration::seconds(1));
    assert!(w.sweep().await.is_empty(), "not due yet");
    w.at_left(starts_at, Duration::days(1));
    // The owner, who wrote the rule, is not reminded.
    let sent = w.sweep().await;
    assert_eq!(to(&sent), ["sara@example.com"]);
    assert_eq!(sent[0].subject, "Reminder: Launch");
    assert!(
        sent[0].text.contains("\"Launch\" starts in 24 hours."),
        "{}",
        sent[0].text
    );
    assert!(sent[0].text.contains("Where: Rooftop"), "{}", sent[0].text);
    assert!(w.sweep().await.is_empty(), "once");

    w.at_left(starts_at, Duration::hours(2));
    assert_eq!(to(&w.sweep().await), ["pat@example.com"]);
    w.at_left(starts_at, Duration::minutes(30));
    assert_eq!(to(&w.sweep().await), ["tom@example.com"]);
    w.at_left(starts_at, Duration::zero());
    assert!(w.sweep().await.is_empty(), "nothing once it started");
}

#[tokio::test]
async fn those_who_left_or_answered_are_dropped_and_a_moved_start_moves_the_reminder() {
    let w = World::new();
    let olivia = w.user("olivia", true).await;
    let sara = w.user("sara", true).await;
    let pat = w.user("pat", true).await;
    let starts_at = FixedClock::START + Duration::days(3);
    let event = w
        .event(
            &olivia,
            starts_at,
            &[rule("1d", "accepted"), rule("1d", "pending")],
        )
        .await;
    let to_sara = w.invite(&olivia, event, "sara@example.com").await;
    let to_pat = w.invite(&olivia, event, "pat@example.com").await;
    w.answer(&sara, to_sara, Answer::Accept).await;
    w.answer(&pat, to_pat, Answer::Reject).await;
    w.wiring
        .events()
        .remove_member(&sara, event, sara.id)
        .await
        .unwrap();
    w.at_left(starts_at, Duration::hours(20));
    assert!(w.sweep().await.is_empty(), "sara left, pat declined");

    // Tom accepts after the reminder's time: he has just said yes, nothing to remind him of.
    // Then the start moves a day later: at the new time he is reminded, once.
    let tom = w.user("tom", true).await;
    let to_tom = w.invite(&olivia, event, "tom@example.com").await;
    w.answer(&tom, to_tom, Answer::Accept).await;
    assert!(w.sweep().await.is_empty(), "tom joined after it fell due");
    let moved = starts_at + Duration::days(1);
    w.wiring
        .events()
        .update(
            &olivia,
            event,
            EventPatch {
                starts_at: Some(Some(moved)),
                ..EventPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(w.sweep().await.is_empty(), "the new time is not due yet");
    w.at_left(moved, Duration::days(1));
    let sent = w.sweep().await;
    assert_eq!(to(&sent), ["tom@example.com"]);
    assert!(w.sweep().await.is_empty());
}

#[tokio::test]
async fn reminders_go_by_sms_to_a_proven_mobile_and_never_for_a_deleted_event() {
    let w = World::new();
    let olivia = w.user("olivia", true).await;
    let mo = w.user("mo", false).await;
    let starts_at = FixedClock::START + Duration::days(3);
    let event = w.event(&olivia, starts_at, &[rule("1h", "pending")]).await;
    w.invite(&olivia, event, "+989121234567").await;
    let gone = w.event(&olivia, starts_at, &[rule("1h", "pending")]).await;
    w.invite(&olivia, gone, "+989121234567").await;
    w.wiring.events().delete(&olivia, gone, None).await.unwrap();
    w.at_left(starts_at, Duration::minutes(59));
    let sent = w.sweep().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].recipient,
        crate::messages::Recipient::Sms(mo.mobile.clone().unwrap())
    );
    assert!(
        sent[0]
            .text
            .starts_with("Reminder: \"Launch\" on Event Manager starts in 59 minutes"),
        "{}",
        sent[0].text
    );
    assert!(SmsText::new(sent[0].text.clone()).is_ok());
}

#[tokio::test]
async fn a_persian_reader_is_reminded_in_persian_with_the_solar_hijri_date() {
    let w = World::new();
    let olivia = w.user("olivia", true).await;
    let mo = w.user_in("mo", false, Locale::Fa).await;
    let sara = w.user_in("sara", true, Locale::Fa).await;
    let starts_at = FixedClock::START + Duration::days(3);
    let event = w.event(&olivia, starts_at, &[rule("1h", "pending")]).await;
    w.invite(&olivia, event, "+989121234567").await;
    w.invite(&olivia, event, "sara@example.com").await;
    w.at_left(starts_at, Duration::minutes(59));
    let sent = w.sweep().await;
    let sms = sent
        .iter()
        .find(|m| m.recipient.address() != "sara@example.com")
        .unwrap();
    let email = sent
        .iter()
        .find(|m| m.recipient.address() == "sara@example.com")
        .unwrap();
    assert_eq!(
        sms.recipient,
        crate::messages::Recipient::Sms(mo.mobile.clone().unwrap())
    );
    let when = crate::i18n::describe(Locale::Fa, chrono_tz::Tz::UTC, starts_at);
    assert!(when.contains("۱۴۰"), "a Solar Hijri year: {when}");
    assert_eq!(
        sms.text,
        format!("یادآوری: «Launch» در مدیر رویداد ۵۹ دقیقهٔ دیگر آغاز می‌شود: {when}، Rooftop.")
    );
    let segments = SmsText::new(sms.text.clone()).unwrap();
    assert_eq!(segments.encoding(), crate::messages::SmsEncoding::Ucs2);
    assert!(segments.segments() <= 3);
    assert_eq!(email.subject, "یادآوری: Launch");
    assert!(
        email
            .text
            .starts_with("سلام sara،\n\n«Launch» ۵۹ دقیقهٔ دیگر آغاز می‌شود."),
        "{}",
        email.text
    );
    assert!(
        email.text.contains(&format!("زمان: {when}")),
        "{}",
        email.text
    );
    assert_eq!(sara.locale, Locale::Fa);
}

#[tokio::test]
async fn an_invitation_sent_after_a_reminder_fell_due_is_not_reminded() {
    let w = World::new();
    let olivia = w.user("olivia", true).await;
    w.user("pat", true).await;
    let starts_at = FixedClock::START + Duration::hours(10);
    let event = w.event(&olivia, starts_at, &[rule("1d", "pending")]).await;
    w.invite(&olivia, event, "pat@example.com").await;
    assert!(w.sweep().await.is_empty(), "the invitation is the message");
}

#[tokio::test]
async fn two_sweepers_at_once_send_each_reminder_once() {
    let w = World::new();
    let olivia = w.user("olivia", true).await;
    let starts_at = FixedClock::START + Duration::days(3);
    let event = w.event(&olivia, starts_at, &[rule("1d", "pending")]).await;
    for name in ["a", "b", "c"] {
        w.user(name, true).await;
        w.invite(&olivia, event, &format!("{name}@example.com"))
            .await;
    }
    w.at_left(starts_at, Duration::hours(23));
    let other = ReminderService::new(
        w.wiring.store.clone(),
        w.wiring.store.clone(),
        w.wiring.clock.clone(),
    );
    // Both read the same due reminders before either records them.
    let store: Arc<crate::testing::Store> = w.wiring.store.clone();
    let (first, second) = tokio::join!(w.reminders.send_due(10), other.send_due(10));
    assert_eq!(first.unwrap() + second.unwrap(), 3);
    let found = ports::ReminderRepository::due_reminders(store.as_ref(), w.now(), 10)
        .await
        .unwrap();
    assert!(found.due.is_empty());
    assert_eq!(w.sent().len(), 3);
}

#[test]
fn an_edit_that_moves_the_start_or_sets_rules_may_message_even_when_quiet() {
    let quiet = |patch: EventPatch| EventPatch {
        quiet: true,
        ..patch
    };
    let moved = EventPatch {
        starts_at: Some(Some(FixedClock::START)),
        ..EventPatch::default()
    };
    assert!(moved.may_notify() && moved.may_message());
    assert!(!quiet(moved.clone()).may_notify());
    assert!(
        quiet(moved).may_message(),
        "a moved start re-arms reminders"
    );
    let rules = quiet(EventPatch {
        reminders: Some(Reminders::default()),
        ..EventPatch::default()
    });
    assert!(rules.may_message());
    let placed = quiet(EventPatch {
        location: Some(None),
        ..EventPatch::default()
    });
    assert!(!placed.may_message());
    let titled = EventPatch {
        title: Some(Text::from_stored("New".into())),
        ..EventPatch::default()
    };
    assert!(!titled.may_message());
}
