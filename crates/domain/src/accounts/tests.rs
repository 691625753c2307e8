//! Proven contacts through the services, over the in-memory store and a moving clock: codes sent
//! at registration, their limits, the proof, and the invitations held for an unproven contact
//! until someone proves it (docs/api.md, "Proving contacts").

use crate::invitations::Reply;
use std::time::Duration as StdDuration;

use chrono::Duration;

use super::*;
use crate::accounts::codes::OneTimeCode;
use crate::accounts::ports::UserRepository;
use crate::changes::{ChangeId, ChangeKind, ChangeSubject};
use crate::events::{EventDetails, EventService};
use crate::invitations::ports::InvitationFilter;
use crate::invitations::{
    AnswerInvitationError, GetInvitationError, InvitationDetails, InvitationEntries,
    InvitationService, SendInvitations, SendReport,
};
use crate::messages::Recipient;
use crate::ports::Clock;
use crate::testing::Wiring;
use crate::{
    Answer, Email, EventId, InvitationId, InvitationStatus, Limit, Login, Mobile, PageRequest,
    Password, PhoneRegion,
};

const ADDRESS: &str = "192.0.2.1";

struct Harness {
    wiring: Wiring,
    accounts: AccountService,
    codes: VerificationService,
    events: EventService,
    invitations: InvitationService,
}

impl Harness {
    fn new(verification: ContactVerification) -> Self {
        let wiring = Wiring {
            verification,
            ..Wiring::default()
        };
        Self {
            accounts: wiring.accounts(),
            codes: wiring.verification_codes(),
            events: wiring.events(),
            invitations: wiring.invitations(),
            wiring,
        }
    }

    fn required() -> Self {
        Self::new(ContactVerification::Required)
    }

    fn advance(&self, by: Duration) {
        self.wiring.clock.advance(by);
    }

    async fn try_register(
        &self,
        name: &str,
        email: Option<&str>,
        mobile: Option<&str>,
    ) -> Result<Session, RegisterError> {
        self.accounts
            .register(
                RegisterCommand {
                    name: Text::from_stored(name.into()),
                    email: email.map(|e| Email::parse(e).unwrap()),
                    mobile: mobile.map(|m| Mobile::parse(m, PhoneRegion::default()).unwrap()),
                    password: Some(Password::parse(password_of(name)).unwrap()),
                    locale: Locale::default(),
                },
                ADDRESS,
            )
            .await
    }

    /// Registers `name`, whose password is [`password_of`] `name`.
    async fn register(&self, name: &str, email: Option<&str>, mobile: Option<&str>) -> User {
        self.try_register(name, email, mobile).await.unwrap().user
    }

    /// The account as stored now.
    async fn user(&self, id: crate::UserId) -> User {
        UserRepository::find_by_id(self.wiring.users.as_ref(), id)
            .await
            .unwrap()
            .unwrap()
    }

    /// The code messages sent to `to` (an email or a mobile in E.164), oldest first.
    fn codes_to(&self, to: &str) -> Vec<OneTimeCode> {
        self.wiring
            .store
            .messages()
            .iter()
            .filter(|m| match &m.recipient {
                Recipient::Email(email) => email.as_str() == to,
                Recipient::Sms(mobile) => mobile.as_str() == to,
            })
            .map(|m| code_in(&m.text))
            .collect()
    }

    /// The last code sent to `to`.
    fn last_code(&self, to: &str) -> OneTimeCode {
        self.codes_to(to).pop().expect("a code was sent")
    }

    /// `user` proves their email with the last code sent to it.
    async fn prove_email(&self, user: &User) -> User {
        let email = user.unproven(Channel::Email).unwrap();
        let code = self.last_code(contact_key(&email));
        self.codes
            .confirm(user, Channel::Email, &code)
            .await
            .unwrap()
    }

    async fn event_of(&self, owner: &User) -> EventId {
        let title = Text::from_stored("Board meeting".into());
        let details = EventDetails::new(title, None, None, None, None).unwrap();
        self.events.create(owner, details).await.unwrap().event.id
    }

    async fn send(&self, sender: &User, event_id: EventId, entries: &[&str]) -> SendReport {
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
            .unwrap()
    }

    /// `sender` invites `to`; the one invitation sent.
    async fn invite(&self, sender: &User, event_id: EventId, to: &str) -> InvitationDetails {
        let report = self.send(sender, event_id, &[to]).await;
        assert_eq!(report.sent.len(), 1, "{:?}", report.ignored);
        report.sent.into_iter().next().unwrap()
    }

    async fn received(&self, user: &User) -> Vec<InvitationDetails> {
        self.invitations
            .list_received(user, InvitationFilter::default(), PageRequest::default())
            .await
            .unwrap()
            .items
    }

    async fn sent(&self, user: &User) -> Vec<InvitationDetails> {
        self.invitations
            .list_sent(user, InvitationFilter::default(), PageRequest::default())
            .await
            .unwrap()
            .items
    }

    /// The invitation changes in `user`'s feed: kind and invitation.
    async fn feed(&self, user: &User) -> Vec<(ChangeKind, InvitationId)> {
        self.wiring
            .changes()
            .list(user, ChangeId(0), Limit::default())
            .await
            .unwrap()
            .changes
            .into_iter()
            .filter_map(|recorded| match recorded.change.subject() {
                ChangeSubject::Invitation(details) => {
                    Some((recorded.change.kind(), details.invitation.id()))
                }
                _ => None,
            })
            .collect()
    }
}

fn password_of(name: &str) -> String {
    format!("{name}'s long password")
}

/// The 6 digits in a code message's text.
fn code_in(text: &str) -> OneTimeCode {
    let digits: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == OneTimeCode::DIGITS)
        .expect("6 digits in the message")
        .into();
    OneTimeCode::parse(&digits).unwrap()
}

/// A 6-digit code other than `code`.
fn other_than(code: &OneTimeCode) -> OneTimeCode {
    let n: u32 = code.expose().parse().unwrap();
    OneTimeCode::parse(&format!("{:06}", (n + 1) % 1_000_000)).unwrap()
}

fn login(login: &str, password: &str) -> LoginCommand {
    LoginCommand {
        login: Login::parse(login, PhoneRegion::default()),
        password: Password::unchecked(password.into()),
    }
}

// ---- registration

#[tokio::test]
async fn registering_sends_a_code_to_each_unproven_contact_and_the_code_proves_it() {
    let h = Harness::required();
    let ann = h
        .register("Ann", Some("ann@example.com"), Some("09352864812"))
        .await;
    assert!(ann.email_verified_at.is_none());
    assert!(ann.mobile_verified_at.is_none());
    assert_eq!(
        ann.unproven(Channel::Email),
        Some(Contact::Email(Email::parse("ann@example.com").unwrap()))
    );

    let messages = h.wiring.store.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages
        .iter()
        .any(|m| m.recipient == Recipient::Email(Email::parse("ann@example.com").unwrap())));
    let mobile = ann.mobile.clone().unwrap();
    assert!(messages
        .iter()
        .any(|m| m.recipient == Recipient::Sms(mobile.clone())));
    assert!(messages.iter().all(|m| m.purpose == "code"));

    let code = h.last_code("ann@example.com");
    let proven = h.codes.confirm(&ann, Channel::Email, &code).await.unwrap();
    assert_eq!(proven.id, ann.id);
    assert_eq!(proven.email_verified_at, Some(h.wiring.clock.now()));
    assert!(
        proven.mobile_verified_at.is_none(),
        "only the email is proven"
    );
    assert!(h.user(ann.id).await.email_verified_at.is_some());

    let sms = h.last_code(mobile.as_str());
    let proven = h.codes.confirm(&ann, Channel::Mobile, &sms).await.unwrap();
    assert!(proven.mobile_verified_at.is_some());
    assert!(proven.email_verified_at.is_some());
}

#[tokio::test]
async fn with_verification_off_a_proven_email_is_taken_no_code_is_sent_and_invitations_are_never_held(
) {
    let h = Harness::new(ContactVerification::Off);
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    assert!(ann.email_verified_at.is_some());
    assert!(h.wiring.store.messages().is_empty());
    let again = h.try_register("Ann 2", Some("ANN@example.com"), None).await;
    assert!(matches!(again, Err(RegisterError::EmailTaken)), "{again:?}");

    let olivia = h.register("Olivia", Some("olivia@example.com"), None).await;
    let event = h.event_of(&olivia).await;
    let sent = h.invite(&olivia, event, "ann@example.com").await;
    assert_eq!(sent.invitation.held_contact(), None);
    assert_eq!(sent.invitee.id, ann.id);
    let received = h.received(&ann).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].invitation.id(), sent.invitation.id());
    assert_eq!(
        h.feed(&ann).await,
        vec![(ChangeKind::InvitationCreated, sent.invitation.id())]
    );
}

// ---- held invitations

#[tokio::test]
async fn an_invitation_to_an_unproven_email_is_held_from_its_claimant_and_goes_to_whoever_proves_it(
) {
    let h = Harness::required();
    let impostor = h
        .register("Impostor", Some("ceo@bigcorp.example"), None)
        .await;
    assert!(impostor.email_verified_at.is_none());
    let olivia = h.register("Olivia", Some("olivia@example.com"), None).await;
    let event = h.event_of(&olivia).await;

    let sent = h.invite(&olivia, event, "ceo@bigcorp.example").await;
    let id = sent.invitation.id();
    assert_eq!(sent.invitee.id, impostor.id);
    assert_eq!(sent.invitation.held_contact(), Some("ceo@bigcorp.example"));
    let expires_at = sent.invitation.expires_at();
    assert!(expires_at.is_some());
    let sender_view_before = h.sent(&olivia).await;
    assert_eq!(sender_view_before.len(), 1);

    // The impostor sees nothing of it.
    assert!(h.received(&impostor).await.is_empty());
    assert!(matches!(
        h.invitations.get(&impostor, id).await,
        Err(GetInvitationError::NotFound)
    ));
    assert!(matches!(
        h.invitations
            .answer(&impostor, id, Reply::of(Answer::Accept), None)
            .await,
        Err(AnswerInvitationError::NotFound)
    ));
    assert!(h.feed(&impostor).await.is_empty());
    // The sender does.
    assert_eq!(
        h.feed(&olivia).await,
        vec![(ChangeKind::InvitationCreated, id)]
    );

    // The real owner registers the same email: no "taken", and proves it.
    h.advance(Duration::minutes(2));
    let ceo = h.register("CEO", Some("ceo@bigcorp.example"), None).await;
    h.advance(Duration::minutes(1));
    let ceo = h.prove_email(&ceo).await;
    assert!(ceo.owns(&Contact::Email(
        Email::parse("ceo@bigcorp.example").unwrap()
    )));

    let received = h.received(&ceo).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].invitation.id(), id);
    assert_eq!(received[0].invitation.expires_at(), expires_at);
    assert_eq!(received[0].invitation.status(), InvitationStatus::Pending);
    assert_eq!(received[0].invitee.id, ceo.id);
    assert_eq!(
        h.feed(&ceo).await,
        vec![(ChangeKind::InvitationCreated, id)]
    );
    assert_eq!(
        h.invitations.get(&ceo, id).await.unwrap().invitation.id(),
        id
    );

    // The impostor lost the email and never saw the invitation.
    let impostor = h.user(impostor.id).await;
    assert_eq!(impostor.email, None);
    assert!(h.received(&impostor).await.is_empty());
    assert!(h.feed(&impostor).await.is_empty());
    assert!(matches!(
        h.invitations.get(&impostor, id).await,
        Err(GetInvitationError::NotFound)
    ));

    // The sender's view is the same apart from the invitee; their feed got nothing new.
    let sender_view_after = h.sent(&olivia).await;
    assert_eq!(sender_view_after.len(), 1);
    let (before, after) = (&sender_view_before[0], &sender_view_after[0]);
    assert_eq!(after.invitation.id(), before.invitation.id());
    assert_eq!(after.invitation.contact(), before.invitation.contact());
    assert_eq!(after.invitation.status(), before.invitation.status());
    assert_eq!(
        after.invitation.created_at(),
        before.invitation.created_at()
    );
    assert_eq!(
        after.invitation.expires_at(),
        before.invitation.expires_at()
    );
    assert_eq!(after.event_title, before.event_title);
    assert_eq!(after.sender, before.sender);
    assert_eq!(before.invitee.id, impostor.id);
    assert_eq!(after.invitee.id, ceo.id);
    assert_eq!(
        h.feed(&olivia).await,
        vec![(ChangeKind::InvitationCreated, id)]
    );

    // The owner can answer it.
    let answered = h
        .invitations
        .answer(&ceo, id, Reply::of(Answer::Accept), None)
        .await
        .unwrap();
    assert_eq!(answered.invitation.status(), InvitationStatus::Accepted);
}

/// The impostor holds an unproven claim on ceo@; the CEO, registered later, proved their mobile.
async fn ceo_and_impostor(h: &Harness) -> (User, User, User, EventId) {
    let impostor = h
        .register("Impostor", Some("ceo@bigcorp.example"), None)
        .await;
    h.advance(Duration::minutes(2));
    let ceo = h
        .register("CEO", Some("ceo@bigcorp.example"), Some("09352864812"))
        .await;
    let mobile = ceo.mobile.clone().unwrap();
    let sms = h.last_code(mobile.as_str());
    let ceo = h.codes.confirm(&ceo, Channel::Mobile, &sms).await.unwrap();
    let olivia = h.register("Olivia", Some("olivia@example.com"), None).await;
    let event = h.event_of(&olivia).await;
    (impostor, ceo, olivia, event)
}

#[tokio::test]
async fn a_held_invitation_is_cancelled_when_its_prover_already_has_a_pending_invitation_to_the_event(
) {
    let h = Harness::required();
    let (impostor, ceo, olivia, event) = ceo_and_impostor(&h).await;
    let direct = h.invite(&olivia, event, "09352864812").await;
    assert_eq!(direct.invitee.id, ceo.id);
    assert_eq!(direct.invitation.held_contact(), None);
    let held = h.invite(&olivia, event, "ceo@bigcorp.example").await;
    assert_eq!(held.invitee.id, impostor.id);
    assert!(held.invitation.held_contact().is_some());

    h.advance(Duration::minutes(1));
    h.prove_email(&ceo).await;

    let received = h.received(&ceo).await;
    assert_eq!(received.len(), 1, "never two pending invitations (R7)");
    assert_eq!(received[0].invitation.id(), direct.invitation.id());
    assert_eq!(received[0].invitation.status(), InvitationStatus::Pending);
    let cancelled = h
        .invitations
        .get(&olivia, held.invitation.id())
        .await
        .unwrap();
    assert_eq!(cancelled.invitation.status(), InvitationStatus::Cancelled);
    assert_eq!(
        h.feed(&ceo).await,
        vec![(ChangeKind::InvitationCreated, direct.invitation.id())]
    );
    assert!(h
        .feed(&olivia)
        .await
        .contains(&(ChangeKind::InvitationCancelled, held.invitation.id())));
    assert!(h.received(&h.user(impostor.id).await).await.is_empty());
}

#[tokio::test]
async fn a_held_invitation_is_cancelled_when_its_prover_is_already_a_member() {
    let h = Harness::required();
    let (_impostor, ceo, olivia, event) = ceo_and_impostor(&h).await;
    let direct = h.invite(&olivia, event, "09352864812").await;
    h.invitations
        .answer(
            &ceo,
            direct.invitation.id(),
            Reply::of(Answer::Accept),
            None,
        )
        .await
        .unwrap();
    let held = h.invite(&olivia, event, "ceo@bigcorp.example").await;
    assert!(held.invitation.held_contact().is_some());

    h.advance(Duration::minutes(1));
    h.prove_email(&ceo).await;

    let pending = h
        .received(&ceo)
        .await
        .into_iter()
        .filter(|d| d.invitation.status() == InvitationStatus::Pending)
        .count();
    assert_eq!(pending, 0, "a member is not invited again");
    let cancelled = h
        .invitations
        .get(&olivia, held.invitation.id())
        .await
        .unwrap();
    assert_eq!(cancelled.invitation.status(), InvitationStatus::Cancelled);
}

// ---- proving

#[tokio::test]
async fn proving_a_contact_removes_other_accounts_claims_and_voids_their_codes() {
    let h = Harness::required();
    let first = h.register("First", Some("shared@example.com"), None).await;
    let first_code = h.last_code("shared@example.com");
    h.advance(Duration::minutes(2));
    let second = h.register("Second", Some("shared@example.com"), None).await;
    assert_eq!(h.codes_to("shared@example.com").len(), 2);

    let second = h.prove_email(&second).await;
    assert!(second.email_verified_at.is_some());
    assert_eq!(h.user(first.id).await.email, None);

    let late = h.codes.confirm(&first, Channel::Email, &first_code).await;
    assert!(
        matches!(
            late,
            Err(ConfirmCodeError::Invalid | ConfirmCodeError::Taken)
        ),
        "{late:?}"
    );
    assert_eq!(h.user(first.id).await.email, None);
    assert!(h.user(second.id).await.email_verified_at.is_some());
}

#[tokio::test]
async fn a_proof_is_not_sent_for_a_proven_contact_nor_by_sms_outside_the_allowed_regions() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    let ann = h.prove_email(&ann).await;
    h.advance(Duration::minutes(2));
    assert!(matches!(
        h.codes.send_proof(&ann, Channel::Email, ADDRESS).await,
        Err(SendCodeError::NothingToProve)
    ));
    assert!(matches!(
        h.codes.send_proof(&ann, Channel::Mobile, ADDRESS).await,
        Err(SendCodeError::NothingToProve)
    ));

    let sam = h
        .register("Sam", Some("sam@example.com"), Some("+1 202 555 0143"))
        .await;
    let mobile = sam.mobile.clone().unwrap();
    assert!(mobile.as_str().starts_with("+1"));
    assert!(
        h.codes_to(mobile.as_str()).is_empty(),
        "no SMS to a US number"
    );
    assert_eq!(h.codes_to("sam@example.com").len(), 1);
    assert!(matches!(
        h.codes.send_proof(&sam, Channel::Mobile, ADDRESS).await,
        Err(SendCodeError::RegionNotAllowed)
    ));
}

// ---- codes

#[tokio::test]
async fn a_wrong_code_is_invalid_and_proves_nothing() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    let wrong = other_than(&h.last_code("ann@example.com"));
    assert!(matches!(
        h.codes.confirm(&ann, Channel::Email, &wrong).await,
        Err(ConfirmCodeError::Invalid)
    ));
    assert!(h.user(ann.id).await.email_verified_at.is_none());
}

#[tokio::test]
async fn five_wrong_tries_void_a_code_even_for_the_right_one() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    let code = h.last_code("ann@example.com");
    let wrong = other_than(&code);
    for _ in 0..5 {
        assert!(matches!(
            h.codes.confirm(&ann, Channel::Email, &wrong).await,
            Err(ConfirmCodeError::Invalid)
        ));
    }
    assert!(matches!(
        h.codes.confirm(&ann, Channel::Email, &code).await,
        Err(ConfirmCodeError::Invalid)
    ));
    assert!(h.user(ann.id).await.email_verified_at.is_none());

    // A new code has its own tries.
    h.advance(Duration::seconds(61));
    h.codes
        .send_proof(&ann, Channel::Email, ADDRESS)
        .await
        .unwrap();
    assert!(h.prove_email(&ann).await.email_verified_at.is_some());
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    let code = h.last_code("ann@example.com");
    h.advance(Duration::minutes(11));
    assert!(matches!(
        h.codes.confirm(&ann, Channel::Email, &code).await,
        Err(ConfirmCodeError::Invalid)
    ));
    assert!(h.user(ann.id).await.email_verified_at.is_none());
}

#[tokio::test]
async fn a_code_proves_once_only() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    let code = h.last_code("ann@example.com");
    h.codes.confirm(&ann, Channel::Email, &code).await.unwrap();
    assert!(matches!(
        h.codes.confirm(&ann, Channel::Email, &code).await,
        Err(ConfirmCodeError::Invalid)
    ));
}

#[tokio::test]
async fn a_second_code_to_one_contact_within_a_minute_is_too_many() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    h.advance(Duration::seconds(10));
    match h.codes.send_proof(&ann, Channel::Email, ADDRESS).await {
        Err(SendCodeError::TooMany(retry_after)) => {
            assert!(retry_after > StdDuration::ZERO, "{retry_after:?}");
            assert!(retry_after <= StdDuration::from_secs(60), "{retry_after:?}");
        }
        other => panic!("expected TooMany, got {other:?}"),
    }
    assert_eq!(h.codes_to("ann@example.com").len(), 1, "nothing sent");
    h.advance(Duration::seconds(61));
    let sent = h
        .codes
        .send_proof(&ann, Channel::Email, ADDRESS)
        .await
        .unwrap();
    assert_eq!(sent.channel, Channel::Email);
    assert_eq!(
        sent.expires_at,
        h.wiring.clock.now() + Duration::minutes(10)
    );
    assert_eq!(h.codes_to("ann@example.com").len(), 2);
    // The newest code is the one that proves.
    assert!(h.prove_email(&ann).await.email_verified_at.is_some());
}

#[tokio::test]
async fn a_sixth_code_to_one_contact_within_an_hour_is_too_many() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    for _ in 0..4 {
        h.advance(Duration::seconds(61));
        h.codes
            .send_proof(&ann, Channel::Email, ADDRESS)
            .await
            .unwrap();
    }
    assert_eq!(h.codes_to("ann@example.com").len(), 5);
    h.advance(Duration::seconds(61));
    match h.codes.send_proof(&ann, Channel::Email, ADDRESS).await {
        Err(SendCodeError::TooMany(retry_after)) => {
            assert!(retry_after > StdDuration::from_secs(60), "{retry_after:?}");
            assert!(
                retry_after <= StdDuration::from_secs(3600),
                "{retry_after:?}"
            );
        }
        other => panic!("expected TooMany, got {other:?}"),
    }
    assert_eq!(h.codes_to("ann@example.com").len(), 5);
}

#[tokio::test]
async fn a_code_typed_in_persian_digits_confirms() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    let code = h.last_code("ann@example.com");
    let persian: String = code
        .expose()
        .chars()
        .map(|d| char::from_u32('۰' as u32 + d.to_digit(10).unwrap()).unwrap())
        .collect();
    assert!(!persian.is_ascii());
    let typed = OneTimeCode::parse(&persian).unwrap();
    let proven = h.codes.confirm(&ann, Channel::Email, &typed).await.unwrap();
    assert!(proven.email_verified_at.is_some());
}

// ---- login

#[tokio::test]
async fn a_password_logs_in_the_only_claimant_of_an_unproven_email() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    assert!(ann.email_verified_at.is_none());
    let session = h
        .accounts
        .login(login("ann@example.com", &password_of("Ann")))
        .await
        .unwrap();
    assert_eq!(session.user.id, ann.id);
    assert!(matches!(
        h.accounts
            .login(login("ann@example.com", "a wrong password"))
            .await,
        Err(LoginError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn the_password_tells_apart_two_claimants_of_one_unproven_email() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("shared@example.com"), None).await;
    h.advance(Duration::minutes(2));
    let bea = h.register("Bea", Some("shared@example.com"), None).await;
    for (user, name) in [(&ann, "Ann"), (&bea, "Bea")] {
        let session = h
            .accounts
            .login(login("SHARED@example.com", &password_of(name)))
            .await
            .unwrap();
        assert_eq!(session.user.id, user.id, "{name}");
    }
    assert!(matches!(
        h.accounts
            .login(login("shared@example.com", "nobody's password"))
            .await,
        Err(LoginError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn no_code_goes_to_a_contact_another_account_has_proven() {
    let wiring = Wiring {
        verification: ContactVerification::Required,
        ..Wiring::default()
    };
    let accounts = wiring.accounts();
    let owner = accounts
        .register(
            RegisterCommand {
                name: Text::from_stored("Owner".into()),
                email: Some(Email::parse("owner@example.com").unwrap()),
                mobile: None,
                password: Some(Password::parse("correct horse".into()).unwrap()),
                locale: Default::default(),
            },
            "192.0.2.1",
        )
        .await
        .unwrap()
        .user;
    let text = wiring.store.messages()[0].text.clone();
    let at = text.find("code: ").unwrap() + 6;
    let code = OneTimeCode::parse(&text[at..at + 6]).unwrap();
    wiring
        .verification_codes()
        .confirm(&owner, Channel::Email, &code)
        .await
        .unwrap();
    wiring.clock.advance(chrono::Duration::minutes(2));
    let sent_before = wiring.store.messages().len();
    let squatter = accounts
        .register(
            RegisterCommand {
                name: Text::from_stored("Squatter".into()),
                email: Some(Email::parse("owner@example.com").unwrap()),
                mobile: None,
                password: Some(Password::parse("correct horse".into()).unwrap()),
                locale: Default::default(),
            },
            "192.0.2.1",
        )
        .await
        .unwrap()
        .user;
    assert_eq!(
        wiring.store.messages().len(),
        sent_before,
        "the owner is not pestered"
    );
    let asked = wiring
        .verification_codes()
        .send_proof(&squatter, Channel::Email, "192.0.2.1")
        .await;
    assert!(
        matches!(asked, Err(SendCodeError::ProvenElsewhere)),
        "{asked:?}"
    );
}

// A request's `User` may be seconds old (the token cache, docs/operations.md): whether the account
// has a password is read as stored, so a password set meanwhile through another process still
// guards the next change.
#[tokio::test]
async fn a_password_change_asks_for_the_stored_password_even_when_the_callers_user_says_none() {
    let h = Harness::required();
    let ann = h.register("Ann", Some("ann@example.com"), None).await;
    let mut stale = ann.clone();
    stale.has_password = false;
    let patch = |current: Option<&str>| ProfilePatch {
        name: None,
        locale: None,
        password: Some((
            Password::parse("a brand new password".into()).unwrap(),
            current.map(|c| Password::parse(c.into()).unwrap()),
        )),
    };
    let refused = h
        .accounts
        .update_profile(&stale, "token", patch(None))
        .await;
    assert!(matches!(refused, Err(UpdateProfileError::WrongPassword)));
    h.accounts
        .update_profile(&stale, "token", patch(Some(&password_of("Ann"))))
        .await
        .unwrap();
}
