//! One-click links through the public services: made by the delivery dispatch with the message
//! that carries them, then shown and answered by [`LinkService`] under the app's rules.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Duration;

use super::*;
use crate::accounts::{ContactVerification, RegisterCommand, User};
use crate::changes::RecordedChange;
use crate::events::EventDetails;
use crate::invitations::{InvitationEntries, Reply, SendInvitations};
use crate::ports::Clock as _;
use crate::rsvp::{RsvpRefused, RsvpSettings};
use crate::testing::Wiring;
use crate::webhooks::delivery::{InvitationEmail, RetryPolicy};
use crate::webhooks::ports::{ChangeRenderer, MailResult, Mailer};
use crate::webhooks::{DeliveryLimits, DeliveryService};
use crate::{Answer, Email, EventId, InvitationId, Password, PhoneRegion, Text};

/// Keeps the link and the calendar of every invitation email it composes.
#[derive(Default)]
struct LinkMailer(
    Mutex<Vec<String>>,
    Mutex<Vec<Option<String>>>,
    Mutex<Vec<(String, Option<String>)>>,
);

#[async_trait]
impl Mailer for LinkMailer {
    fn compose(&self, email: &InvitationEmail) -> String {
        let link = email.link.clone().unwrap_or_default();
        self.0.lock().unwrap().push(link.clone());
        self.1.lock().unwrap().push(email.calendar.clone());
        link
    }

    fn compose_text(&self, subject: &str, text: &str) -> String {
        format!("{subject}: {text}")
    }

    fn compose_notice(&self, subject: &str, text: &str, calendar: &str) -> String {
        let notice = format!("{subject}: {text}");
        self.2.lock().unwrap().push((
            notice.clone(),
            Some(calendar.to_owned()).filter(|c| !c.is_empty()),
        ));
        notice
    }

    async fn send(&self, _to: &Email, _message: &str) -> MailResult {
        MailResult::Sent
    }
}

struct Renderer;

impl ChangeRenderer for Renderer {
    fn render(&self, change: &RecordedChange) -> String {
        change.change.kind().as_str().to_owned()
    }
}

struct World {
    wiring: Wiring,
    mailer: Arc<LinkMailer>,
    deliveries: DeliveryService,
    links: LinkService,
}

impl World {
    fn new(verification: ContactVerification) -> Self {
        Self::with(Wiring {
            verification,
            ..Wiring::default()
        })
    }

    fn with(wiring: Wiring) -> Self {
        let mailer = Arc::new(LinkMailer::default());
        let deliveries = DeliveryService::new(
            wiring.store.clone(),
            wiring.store.clone(),
            Arc::new(Renderer),
            wiring.sender.clone(),
            Some(mailer.clone()),
            wiring.clock.clone(),
            RetryPolicy::default(),
            DeliveryLimits::default(),
        )
        .with_sms(PhoneRegion::default())
        .with_links(
            PublicUrl::parse("https://events.example.com/").unwrap(),
            wiring.issuer.clone(),
        )
        .with_calendars(wiring.store.clone())
        .with_notices(wiring.store.clone());
        let links = LinkService::new(
            wiring.store.clone(),
            wiring.users.clone(),
            wiring.invitations(),
            wiring.clock.clone(),
        );
        Self {
            wiring,
            mailer,
            deliveries,
            links,
        }
    }

    async fn user(&self, name: &str, mobile: Option<&str>) -> User {
        self.wiring
            .accounts()
            .register(
                RegisterCommand {
                    name: Text::from_stored(name.into()),
                    email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
                    mobile: mobile
                        .map(|m| crate::Mobile::parse(m, PhoneRegion::default()).unwrap()),
                    password: Some(Password::parse("correct horse".into()).unwrap()),
                    locale: Default::default(),
                },
                "192.0.2.1",
            )
            .await
            .unwrap()
            .user
    }

    async fn event(&self, owner: &User, rsvp: RsvpSettings) -> EventId {
        self.event_at(owner, rsvp, None).await
    }

    async fn event_at(
        &self,
        owner: &User,
        rsvp: RsvpSettings,
        starts_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> EventId {
        let details = EventDetails::new(
            Text::from_stored("Launch".into()),
            None,
            Some(Text::from_stored("Rooftop".into())),
            starts_at,
            None,
        )
        .and_then(|details| details.with_rsvp(rsvp))
        .unwrap();
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
                    expires_in: None,
                },
            )
            .await
            .unwrap();
        report.sent[0].invitation.id()
    }

    /// Dispatches every change; the links of the emails made, as `(url, token)`.
    async fn links_sent(&self) -> Vec<(String, String)> {
        while self.deliveries.dispatch().await.unwrap().changes > 0 {}
        self.mailer
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|url| {
                let token = url.rsplit('/').next().unwrap().to_owned();
                (url.clone(), token)
            })
            .collect()
    }

    /// Olivia's event, Sara invited by email, and the token of her invitation's link.
    async fn invited(&self, rsvp: RsvpSettings) -> (User, User, InvitationId, String) {
        let olivia = self.user("olivia", None).await;
        let sara = self.user("sara", None).await;
        let event = self.event(&olivia, rsvp).await;
        let id = self.invite(&olivia, event, "sara@example.com").await;
        let (_, token) = self.links_sent().await.pop().unwrap();
        (olivia, sara, id, token)
    }
}

fn open_event() -> RsvpSettings {
    RsvpSettings::default()
}

#[tokio::test]
async fn every_invitation_email_carries_a_link_of_its_own_stored_only_as_a_digest() {
    let w = World::new(ContactVerification::Off);
    let (_, _, id, token) = w.invited(open_event()).await;
    let sent = w.links_sent().await;
    assert_eq!(sent.len(), 1);
    let (url, _) = &sent[0];
    assert!(url.starts_with("https://events.example.com/i/"), "{url}");
    assert_eq!(token.len(), 24, "144 random bits in base64url");
    assert!(LinkToken::digest_presented(&token).is_some());
    let view = w.links.view(&token).await.unwrap();
    assert_eq!(view.details.invitation.id(), id);
    assert_eq!(view.event.details.location().unwrap().as_str(), "Rooftop");
    assert!(!view.held);
}

#[tokio::test]
async fn looking_at_a_link_changes_nothing() {
    let w = World::new(ContactVerification::Off);
    let (_, _, _, token) = w.invited(open_event()).await;
    for _ in 0..3 {
        let view = w.links.view(&token).await.unwrap();
        assert_eq!(view.details.invitation.status(), InvitationStatus::Pending);
    }
}

#[tokio::test]
async fn a_link_answers_as_its_invitee_and_dies_with_a_final_answer() {
    let w = World::new(ContactVerification::Off);
    let (_, sara, id, token) = w.invited(open_event()).await;
    let view = w
        .links
        .answer(&token, Reply::of(Answer::Accept))
        .await
        .unwrap();
    assert_eq!(view.details.invitation.status(), InvitationStatus::Accepted);
    assert!(w
        .wiring
        .store
        .members_of(view.details.invitation.event_id())
        .contains(&sara.id));
    let got = w.wiring.invitations().get(&sara, id).await.unwrap();
    assert_eq!(got.invitation.status(), InvitationStatus::Accepted);
    assert!(matches!(w.links.view(&token).await, Err(LinkError::Dead)));
    assert!(matches!(
        w.links.answer(&token, Reply::of(Answer::Reject)).await,
        Err(LinkError::Dead)
    ));
}

#[tokio::test]
async fn maybe_keeps_the_link_open_and_a_decline_then_closes_it() {
    let w = World::new(ContactVerification::Off);
    let (_, _, _, token) = w.invited(open_event()).await;
    let maybe = w
        .links
        .answer(&token, Reply::of(Answer::Tentative))
        .await
        .unwrap();
    assert_eq!(
        maybe.details.invitation.status(),
        InvitationStatus::Tentative
    );
    let no = w
        .links
        .answer(&token, Reply::of(Answer::Reject))
        .await
        .unwrap();
    assert_eq!(no.details.invitation.status(), InvitationStatus::Rejected);
    assert!(matches!(w.links.view(&token).await, Err(LinkError::Dead)));
}

#[tokio::test]
async fn a_cancelled_or_expired_invitations_link_is_dead() {
    let w = World::new(ContactVerification::Off);
    let (olivia, _, id, token) = w.invited(open_event()).await;
    w.wiring.invitations().cancel(&olivia, id).await.unwrap();
    assert!(matches!(w.links.view(&token).await, Err(LinkError::Dead)));

    let w = World::new(ContactVerification::Off);
    let (_, _, _, token) = w.invited(open_event()).await;
    w.wiring.clock.advance(Duration::days(31));
    assert!(matches!(w.links.view(&token).await, Err(LinkError::Dead)));
    assert!(matches!(
        w.links.answer(&token, Reply::of(Answer::Accept)).await,
        Err(LinkError::Dead)
    ));
}

#[tokio::test]
async fn the_events_rules_hold_for_answers_by_link() {
    let w = World::new(ContactVerification::Off);
    let rsvp = RsvpSettings::new(None, 1, false, None).unwrap();
    let (_, _, _, token) = w.invited(rsvp).await;
    let mut reply = Reply::of(Answer::Accept);
    reply.guests = 2;
    assert!(matches!(
        w.links.answer(&token, reply).await,
        Err(LinkError::Answer(
            crate::invitations::AnswerInvitationError::Rsvp(RsvpRefused::TooManyGuests { .. })
        ))
    ));
    let mut reply = Reply::of(Answer::Accept);
    reply.guests = 1;
    let view = w.links.answer(&token, reply).await.unwrap();
    assert_eq!(view.details.invitation.guests(), 1);
}

#[tokio::test]
async fn unknown_and_malformed_tokens_open_nothing() {
    let w = World::new(ContactVerification::Off);
    let (_, _, _, token) = w.invited(open_event()).await;
    let mut other = token.clone().into_bytes();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    let other = String::from_utf8(other).unwrap();
    for presented in [
        other.as_str(),
        "",
        "short",
        &format!("{token}x"),
        "../../etc/passwd",
    ] {
        assert!(
            matches!(w.links.view(presented).await, Err(LinkError::Dead)),
            "{presented}"
        );
    }
}

#[tokio::test]
async fn a_resend_sends_a_new_link_and_the_first_still_opens_the_invitation() {
    let w = World::new(ContactVerification::Off);
    let (olivia, _, id, first) = w.invited(open_event()).await;
    w.wiring.invitations().resend(&olivia, id).await.unwrap();
    let (_, second) = w.links_sent().await.pop().unwrap();
    assert_ne!(first, second);
    for token in [&first, &second] {
        assert_eq!(
            w.links.view(token).await.unwrap().details.invitation.id(),
            id
        );
    }
}

#[tokio::test]
async fn a_held_invitations_link_shows_it_but_does_not_answer_it() {
    let w = World::new(ContactVerification::Required);
    let (_, _, id, token) = w.invited(open_event()).await;
    let view = w.links.view(&token).await.unwrap();
    assert_eq!(view.details.invitation.id(), id);
    assert!(view.held);
    assert!(matches!(
        w.links.answer(&token, Reply::of(Answer::Accept)).await,
        Err(LinkError::Held)
    ));
    assert_eq!(
        w.links
            .view(&token)
            .await
            .unwrap()
            .details
            .invitation
            .status(),
        InvitationStatus::Pending
    );
}

#[tokio::test]
async fn an_invitation_text_carries_its_link() {
    let w = World::new(ContactVerification::Off);
    let olivia = w.user("olivia", None).await;
    w.user("sara", Some("09351234567")).await;
    let event = w.event(&olivia, open_event()).await;
    w.invite(&olivia, event, "09351234567").await;
    assert!(w.links_sent().await.is_empty(), "no email");
    let texts = w.wiring.store.messages();
    assert_eq!(texts.len(), 1);
    let text = &texts[0].text;
    let link = text.rsplit(' ').next().unwrap();
    assert!(link.starts_with("https://events.example.com/i/"), "{text}");
    let token = link.rsplit('/').next().unwrap();
    assert!(!w.links.view(token).await.unwrap().held);
}

#[tokio::test]
async fn an_invitation_email_carries_its_event_as_a_calendar_request_when_it_has_a_start() {
    let w = World::new(ContactVerification::Off);
    let olivia = w.user("olivia", None).await;
    w.user("sara", None).await;
    let timed = w
        .event_at(
            &olivia,
            open_event(),
            Some(w.wiring.clock.now() + Duration::days(9)),
        )
        .await;
    let untimed = w.event(&olivia, open_event()).await;
    w.invite(&olivia, timed, "sara@example.com").await;
    w.invite(&olivia, untimed, "sara@example.com").await;
    let (url, _) = w.links_sent().await.remove(0);
    let calendars = w.mailer.1.lock().unwrap().clone();
    assert_eq!(calendars.len(), 2);
    let request = calendars[0]
        .as_deref()
        .expect("a calendar for the timed event");
    let request = request.replace("\r\n ", "");
    assert!(request.contains("METHOD:REQUEST\r\n"), "{request}");
    assert!(
        request.contains(&format!("UID:{timed}@event-manager")),
        "{request}"
    );
    assert!(request.contains("PARTSTAT=NEEDS-ACTION"), "{request}");
    assert!(
        request.contains(":mailto:sara@example.com\r\n"),
        "{request}"
    );
    assert!(request.contains(&format!("URL:{url}\r\n")), "{request}");
    assert_eq!(calendars[1], None, "no start, no calendar");
}

#[tokio::test]
async fn a_cancelled_invitation_is_emailed_with_a_calendar_cancel_and_texted() {
    let w = World::new(ContactVerification::Off);
    let olivia = w.user("olivia", None).await;
    w.user("sara", Some("09351234567")).await;
    w.user("reza", Some("09121234567")).await;
    let event = w
        .event_at(
            &olivia,
            open_event(),
            Some(w.wiring.clock.now() + Duration::days(9)),
        )
        .await;
    let by_email = w.invite(&olivia, event, "sara@example.com").await;
    let by_text = w.invite(&olivia, event, "09121234567").await;
    w.links_sent().await;
    for id in [by_email, by_text] {
        w.wiring.invitations().cancel(&olivia, id).await.unwrap();
    }
    let links = w.links_sent().await;
    assert_eq!(links.len(), 2, "an invitation and its cancellation");
    assert_eq!(links[1].0, "", "a cancellation carries no link");
    let calendars = w.mailer.1.lock().unwrap().clone();
    let cancel = calendars[1]
        .as_deref()
        .expect("a calendar")
        .replace("\r\n ", "");
    assert!(cancel.contains("METHOD:CANCEL\r\n"), "{cancel}");
    assert!(cancel.contains("STATUS:CANCELLED\r\n"), "{cancel}");
    assert!(
        cancel.contains(&format!("UID:{event}@event-manager")),
        "{cancel}"
    );
    assert!(cancel.contains("PARTSTAT=DECLINED"), "{cancel}");
    let texts = w.wiring.store.messages();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[1].text.contains("was cancelled"), "{}", texts[1].text);
}

#[tokio::test]
async fn an_edit_that_moves_the_event_messages_its_followers_unless_quiet() {
    use crate::events::EventPatch;
    // The store stamps edits with the real time: invitations that never expire, to an event far
    // ahead, stay open whatever that time is.
    let w = World::with(Wiring {
        ttl: crate::invitations::InvitationTtl::parse("0").unwrap(),
        ..Wiring::default()
    });
    let olivia = w.user("olivia", None).await;
    let sara = w.user("sara", None).await;
    // Reza has a mobile only: he is texted.
    w.wiring
        .accounts()
        .register(
            RegisterCommand {
                name: Text::from_stored("reza".into()),
                email: None,
                mobile: Some(crate::Mobile::parse("09121234567", PhoneRegion::default()).unwrap()),
                password: Some(Password::parse("correct horse".into()).unwrap()),
                locale: Default::default(),
            },
            "192.0.2.1",
        )
        .await
        .unwrap();
    let bob = w.user("bob", None).await;
    let starts = w.wiring.clock.now() + Duration::days(3650);
    let event = w.event_at(&olivia, open_event(), Some(starts)).await;
    w.invite(&olivia, event, "sara@example.com").await;
    w.invite(&olivia, event, "09121234567").await;
    let to_bob = w.invite(&olivia, event, "bob@example.com").await;
    w.wiring
        .invitations()
        .answer(&bob, to_bob, Reply::of(Answer::Accept), None)
        .await
        .unwrap();
    w.links_sent().await;
    let texts_before = w.wiring.store.messages().len();
    let edit = |patch: EventPatch| {
        let events = w.wiring.events();
        let olivia = olivia.clone();
        async move { events.update(&olivia, event, patch, None).await.unwrap() }
    };

    // A new description moves nothing: no message.
    edit(EventPatch {
        description: Some(Some(Text::from_stored("Bring snacks".into()))),
        ..EventPatch::default()
    })
    .await;
    // Quiet: no message either.
    edit(EventPatch {
        location: Some(Some(Text::from_stored("Garden".into()))),
        quiet: true,
        ..EventPatch::default()
    })
    .await;
    w.links_sent().await;
    assert!(w.mailer.2.lock().unwrap().is_empty());
    assert_eq!(w.wiring.store.messages().len(), texts_before);

    // A new place: the members (Olivia, Bob) and the pending invitees (Sara by email, Reza by
    // text) are told, each once.
    edit(EventPatch {
        location: Some(Some(Text::from_stored("Azadi Tower".into()))),
        ..EventPatch::default()
    })
    .await;
    w.links_sent().await;
    let notices = w.mailer.2.lock().unwrap().clone();
    assert_eq!(notices.len(), 3, "{notices:?}");
    let to_sara = notices
        .iter()
        .find(|(text, _)| text.contains("Hello sara"))
        .expect("Sara is told");
    assert!(to_sara.0.starts_with("Changed: Launch: "), "{}", to_sara.0);
    assert!(to_sara.0.contains("Where: Azadi Tower"), "{}", to_sara.0);
    let calendar = to_sara
        .1
        .as_deref()
        .expect("the updated entry")
        .replace("\r\n ", "");
    assert!(calendar.contains("METHOD:REQUEST\r\n"), "{calendar}");
    assert!(calendar.contains("LOCATION:Azadi Tower\r\n"), "{calendar}");
    assert!(
        calendar.contains("SEQUENCE:3\r\n"),
        "the third edit: {calendar}"
    );
    assert!(
        calendar.contains(":mailto:sara@example.com\r\n"),
        "{calendar}"
    );
    let texts = w.wiring.store.messages();
    assert_eq!(texts.len(), texts_before + 1);
    let text = &texts.last().unwrap().text;
    assert!(
        text.contains("\"Launch\" on Event Manager changed:"),
        "{text}"
    );
    assert!(text.contains("Azadi Tower"), "{text}");
    let _ = sara;
}

#[tokio::test]
async fn deleting_an_event_tells_its_members_with_a_cancel_and_its_invitees_once() {
    let w = World::with(Wiring {
        ttl: crate::invitations::InvitationTtl::parse("0").unwrap(),
        ..Wiring::default()
    });
    let olivia = w.user("olivia", None).await;
    w.user("sara", None).await;
    let bob = w.user("bob", None).await;
    let starts = w.wiring.clock.now() + Duration::days(3650);
    let event = w.event_at(&olivia, open_event(), Some(starts)).await;
    w.invite(&olivia, event, "sara@example.com").await;
    let to_bob = w.invite(&olivia, event, "bob@example.com").await;
    w.wiring
        .invitations()
        .answer(&bob, to_bob, Reply::of(Answer::Accept), None)
        .await
        .unwrap();
    w.links_sent().await;
    let calendars_before = w.mailer.1.lock().unwrap().len();

    w.wiring
        .events()
        .delete(&olivia, event, None)
        .await
        .unwrap();
    w.links_sent().await;
    // Bob, a member, gets the notice with a CANCEL; Olivia, who deleted it, nothing; Sara, whose
    // pending invitation it cancelled, only her invitation's own email (with its CANCEL).
    let notices = w.mailer.2.lock().unwrap().clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let (text, calendar) = &notices[0];
    assert!(text.starts_with("Cancelled: Launch: Hello bob,"), "{text}");
    assert!(text.contains("has been cancelled by its host"), "{text}");
    assert!(text.contains("Where: Rooftop"), "{text}");
    let calendar = calendar
        .as_deref()
        .expect("a calendar entry")
        .replace("\r\n ", "");
    assert!(calendar.contains("METHOD:CANCEL\r\n"), "{calendar}");
    assert!(
        calendar.contains(":mailto:bob@example.com\r\n"),
        "{calendar}"
    );
    let calendars = w.mailer.1.lock().unwrap().clone();
    assert_eq!(calendars.len(), calendars_before + 1, "Sara's cancellation");
    let sara_cancel = calendars
        .last()
        .unwrap()
        .as_deref()
        .expect("with the event");
    assert!(sara_cancel.contains("METHOD:CANCEL"), "{sara_cancel}");
}

#[test]
fn public_urls_are_http_origins_without_query_or_fragment() {
    assert_eq!(
        PublicUrl::parse("https://events.example.com/")
            .unwrap()
            .as_str(),
        "https://events.example.com"
    );
    assert_eq!(
        PublicUrl::parse("http://127.0.0.1:8080/rsvp/")
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8080/rsvp"
    );
    for bad in [
        "ftp://example.com",
        "https://example.com/?a=1",
        "https://example.com/#x",
        "https://user@example.com",
        "example.com",
        "",
    ] {
        assert_eq!(PublicUrl::parse(bad), Err(PublicUrlError), "{bad}");
    }
}
