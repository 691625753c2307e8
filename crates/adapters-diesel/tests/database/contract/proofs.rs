//! Codes and proofs of contacts (docs/api.md, "Proving contacts"): a code replaces the last of its
//! purpose and goes out as one message, counts its tries, proves once; a proof takes the contact
//! from every other claimant and gives the prover the invitations held for it; logins and sends
//! find claimants as well as owners.

use domain::accounts::codes::{CodeDigest, OneTimeCode};
use domain::accounts::{contact_key, Channel};
use domain::changes::ports::ChangeFeed;
use domain::changes::{ChangeId, ChangeKind, ChangeSubject};
use domain::invitations::InvitationTtl;
use domain::messages::OutgoingMessage;
use domain::Contact;

use super::*;

contract!(
    a_new_code_replaces_the_last_of_its_purpose_and_enqueues_one_message,
    a_code_counts_its_tries_and_stops_after_the_last_and_at_its_expiry,
    a_proof_consumes_the_code_and_takes_the_contact_from_every_other_claimant,
    a_contact_proven_by_another_account_is_taken_and_one_no_longer_claimed_is_not_proven,
    a_held_invitation_is_hidden_from_its_claimant_and_given_to_whoever_proves_the_contact,
    a_held_invitation_stays_with_its_claimant_when_the_claimant_proves_the_contact,
    a_held_invitation_to_an_event_the_prover_is_already_invited_to_is_cancelled,
    a_batch_planned_before_a_proof_gives_what_it_holds_to_the_prover,
    a_login_finds_only_the_owner_of_a_proven_contact_else_its_claimants_oldest_first,
    finding_by_contacts_finds_pending_claims_too
);

/// What a proof touches, as the services see it.
trait Proofs: Repositories + CodeRepository + ChangeFeed {}

impl<T> Proofs for T where T: Repositories + CodeRepository + ChangeFeed + ?Sized {}

/// A fresh store of one [`Target`], with what the cases look at beside the ports: the outbox and
/// the pending contacts, which no port sets.
struct Subject {
    db: Arc<dyn Proofs>,
    fake: Option<Arc<domain::testing::Store>>,
    database: Option<TestDatabase>,
}

impl Subject {
    fn fresh(target: Target) -> Option<Self> {
        match target {
            Target::Fakes => {
                let fake = Arc::new(domain::testing::Store::default());
                Some(Self {
                    db: fake.clone(),
                    fake: Some(fake),
                    database: None,
                })
            }
            Target::Database(backend) => {
                let database = TestDatabase::new(backend)?;
                Some(Self {
                    db: Arc::new(database.open()),
                    fake: None,
                    database: Some(database),
                })
            }
        }
    }

    /// How many messages the outbox holds.
    fn messages(&self) -> usize {
        match (&self.fake, &self.database) {
            (Some(fake), _) => fake.messages().len(),
            (None, Some(database)) => database
                .texts("SELECT CAST(COUNT(*) AS TEXT) AS value FROM messages")[0]
                .parse()
                .unwrap(),
            (None, None) => unreachable!(),
        }
    }

    /// Sets the replacements `user` asked for, as a change of contact does.
    fn set_pending(&self, user: &User, email: Option<&str>, mobile: Option<&str>) {
        let email = email.map(|e| Email::parse(e).unwrap());
        let mobile = mobile.map(|m| Mobile::parse(m, PhoneRegion::default()).unwrap());
        match (&self.fake, &self.database) {
            (Some(fake), _) => fake.set_pending_contacts(user.id, email, mobile),
            (None, Some(database)) => {
                let text = |t: Option<&str>| t.map_or("NULL".to_owned(), |t| format!("'{t}'"));
                database.session().execute(&format!(
                    "UPDATE users SET pending_email = {}, pending_mobile = {} WHERE id = '{}'",
                    text(email.as_ref().map(Email::as_str)),
                    text(mobile.as_ref().map(Mobile::as_str)),
                    user.id
                ));
            }
            (None, None) => unreachable!(),
        }
    }
}

fn email(text: &str) -> Contact {
    Contact::Email(Email::parse(text).unwrap())
}

const PROVE_EMAIL: CodePurpose = CodePurpose::Prove(Channel::Email);

/// A user whose contacts are claims, made `minutes` after the fixtures' time.
async fn claimant(
    db: &dyn Proofs,
    name: &str,
    email: Option<&str>,
    mobile: Option<&str>,
    minutes: i64,
) -> User {
    UserRepository::create(
        db,
        NewUser {
            proven: false,
            created_at: now() + Duration::minutes(minutes),
            ..new_user(name, email, mobile)
        },
    )
    .await
    .unwrap()
}

/// Stores a code (`digits`) for `purpose` sent to `contact`, live for 10 minutes from `at`; returns
/// its digest.
async fn send_code(
    db: &dyn Proofs,
    user: &User,
    purpose: CodePurpose,
    contact: &Contact,
    digits: &str,
    at: DateTime<Utc>,
) -> CodeDigest {
    let code = OneTimeCode::parse(digits).unwrap();
    let digest =
        CodeDigest(format!("{}:{}:{digits}", purpose.as_str(), contact_key(contact)).into_bytes());
    let message = OutgoingMessage::code(
        contact.clone(),
        &code,
        purpose,
        10,
        domain::accounts::Locale::En,
        at,
    );
    db.store_code(
        NewCode {
            user_id: user.id,
            purpose,
            contact: contact.clone(),
            digest: digest.clone(),
            created_at: at,
            expires_at: at + Duration::minutes(10),
        },
        message,
    )
    .await
    .unwrap();
    digest
}

async fn prove(
    db: &dyn Proofs,
    user: &User,
    contact: &Contact,
    digest: &CodeDigest,
    at: DateTime<Utc>,
) -> Result<User, ProveContactError> {
    let purpose = CodePurpose::Prove(Channel::of(contact));
    db.prove_contact(user.id, purpose, contact.clone(), digest.clone(), at)
        .await
}

async fn found(db: &dyn Proofs, user: &User) -> User {
    db.find_by_id(user.id).await.unwrap().unwrap()
}

/// The kinds and invitations of `user`'s feed.
async fn feed(db: &dyn Proofs, user: &User) -> Vec<(ChangeKind, InvitationId)> {
    db.list_for(user.id, ChangeId(0), 100)
        .await
        .unwrap()
        .changes
        .into_iter()
        .filter_map(|c| match c.change.subject() {
            ChangeSubject::Invitation(details) => Some((c.change.kind(), details.invitation.id())),
            _ => None,
        })
        .collect()
}

async fn received(db: &dyn Proofs, user: &User, at: DateTime<Utc>) -> Vec<InvitationId> {
    db.list_received(
        user.id,
        InvitationFilter::default(),
        PageRequest::default(),
        at,
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|d| d.invitation.id())
    .collect()
}

/// Sends `invitee` an invitation to `event` held for `contact`; returns it.
async fn send_held(
    db: &dyn Proofs,
    event: EventId,
    sender: &User,
    invitee: &User,
    contact: &str,
) -> Invitation {
    let invitation = Invitation::new_pending(event, sender.id, invitee.id, contact.into(), now())
        .expiring(InvitationTtl::DEFAULT, &domain::rsvp::RsvpRules::default())
        .held_for(Some(contact.into()));
    assert_eq!(
        db.create_batch(std::slice::from_ref(&invitation))
            .await
            .unwrap(),
        [BatchOutcome::Created]
    );
    invitation
}

async fn a_new_code_replaces_the_last_of_its_purpose_and_enqueues_one_message(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = claimant(db, "Ann", Some("ann@example.com"), None, 0).await;
    let bob = claimant(db, "Bob", Some("bob@example.com"), None, 0).await;
    let (mine, theirs) = (email("ann@example.com"), email("bob@example.com"));
    assert_eq!(subject.messages(), 0);

    send_code(db, &ann, PROVE_EMAIL, &mine, "111111", now()).await;
    assert_eq!(subject.messages(), 1, "one message per code");
    let second = send_code(db, &ann, PROVE_EMAIL, &mine, "222222", now()).await;
    assert_eq!(subject.messages(), 2, "one message per code");
    let login = send_code(db, &ann, CodePurpose::Login, &mine, "333333", now()).await;
    let bobs = send_code(db, &bob, PROVE_EMAIL, &theirs, "444444", now()).await;
    assert_eq!(subject.messages(), 4);

    // The second code replaced the first: only it is tried, and only it proves.
    let tried = db.try_code(ann.id, PROVE_EMAIL, 5, now()).await.unwrap();
    assert_eq!(
        tried,
        Some(StoredCode {
            contact: mine.clone(),
            digest: second.clone()
        })
    );
    // Another purpose and another account keep their own.
    let tried = db
        .try_code(ann.id, CodePurpose::Login, 5, now())
        .await
        .unwrap();
    assert_eq!(tried.map(|c| c.digest), Some(login));
    let tried = db.try_code(bob.id, PROVE_EMAIL, 5, now()).await.unwrap();
    assert_eq!(tried.map(|c| c.digest), Some(bobs));
    let first = CodeDigest(format!("email:{}:111111", contact_key(&mine)).into_bytes());
    assert!(matches!(
        prove(db, &ann, &mine, &first, now()).await,
        Err(ProveContactError::CodeGone)
    ));
    assert!(prove(db, &ann, &mine, &second, now()).await.is_ok());
}

async fn a_code_counts_its_tries_and_stops_after_the_last_and_at_its_expiry(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = claimant(db, "Ann", Some("ann@example.com"), None, 0).await;
    let mine = email("ann@example.com");
    assert_eq!(
        db.try_code(ann.id, PROVE_EMAIL, 3, now()).await.unwrap(),
        None
    );
    send_code(db, &ann, PROVE_EMAIL, &mine, "111111", now()).await;

    for _ in 0..3 {
        assert!(db
            .try_code(ann.id, PROVE_EMAIL, 3, now())
            .await
            .unwrap()
            .is_some());
    }
    assert_eq!(
        db.try_code(ann.id, PROVE_EMAIL, 3, now()).await.unwrap(),
        None,
        "three tries of three"
    );
    // The tries are counted, not the refusals: with five allowed, two are left.
    for _ in 0..2 {
        assert!(db
            .try_code(ann.id, PROVE_EMAIL, 5, now())
            .await
            .unwrap()
            .is_some());
    }
    assert_eq!(
        db.try_code(ann.id, PROVE_EMAIL, 5, now()).await.unwrap(),
        None
    );

    // A new code starts again; it works until its expiry, not at it.
    send_code(db, &ann, PROVE_EMAIL, &mine, "222222", now()).await;
    let last_moment = now() + Duration::minutes(10) - Duration::seconds(1);
    assert!(db
        .try_code(ann.id, PROVE_EMAIL, 5, last_moment)
        .await
        .unwrap()
        .is_some());
    let expiry = now() + Duration::minutes(10);
    assert_eq!(
        db.try_code(ann.id, PROVE_EMAIL, 5, expiry).await.unwrap(),
        None
    );
    assert_eq!(
        db.try_code(ann.id, PROVE_EMAIL, 5, expiry + Duration::days(1))
            .await
            .unwrap(),
        None
    );
}

async fn a_proof_consumes_the_code_and_takes_the_contact_from_every_other_claimant(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let x = email("x@example.com");
    let ann = claimant(db, "Ann", Some("x@example.com"), None, 0).await;
    let bob = claimant(db, "Bob", Some("x@example.com"), Some("09120000001"), 1).await;
    let cy = claimant(db, "Cy", Some("cy@example.com"), None, 2).await;
    subject.set_pending(&cy, Some("x@example.com"), None);
    let dan = claimant(db, "Dan", Some("x@example.com"), None, 3).await;
    let bob_mobile = Contact::Mobile(bob.mobile.clone().unwrap());

    let anns = send_code(db, &ann, PROVE_EMAIL, &x, "111111", now()).await;
    let bobs = send_code(db, &bob, PROVE_EMAIL, &x, "222222", now()).await;
    let bobs_sms = send_code(
        db,
        &bob,
        CodePurpose::Prove(Channel::Mobile),
        &bob_mobile,
        "333333",
        now(),
    )
    .await;
    let cys = send_code(db, &cy, PROVE_EMAIL, &x, "444444", now()).await;

    let at = now() + Duration::minutes(5);
    let proven = prove(db, &bob, &x, &bobs, at).await.unwrap();
    assert_eq!(
        proven.email.as_ref().map(Email::as_str),
        Some("x@example.com")
    );
    assert_eq!(proven.email_verified_at, Some(at));
    assert_eq!(found(db, &bob).await, proven);
    assert!(proven.owns(&x));

    // The code was used.
    assert!(matches!(
        prove(db, &bob, &x, &bobs, at).await,
        Err(ProveContactError::CodeGone)
    ));
    assert_eq!(db.try_code(bob.id, PROVE_EMAIL, 5, at).await.unwrap(), None);

    // Every other claim on it went, current or pending, and so did the codes sent for it.
    let ann = found(db, &ann).await;
    assert_eq!((ann.email.clone(), ann.email_verified_at), (None, None));
    let cy = found(db, &cy).await;
    assert_eq!(cy.pending_email, None);
    assert_eq!(cy.email.as_ref().map(Email::as_str), Some("cy@example.com"));
    let dan = found(db, &dan).await;
    assert_eq!(
        (dan.email.clone(), dan.mobile.clone()),
        (None, None),
        "left with no contact"
    );
    for (user, digest) in [(&ann, &anns), (&cy, &cys)] {
        assert_eq!(
            db.try_code(user.id, PROVE_EMAIL, 5, at).await.unwrap(),
            None
        );
        assert!(matches!(
            prove(db, user, &x, digest, at).await,
            Err(ProveContactError::CodeGone)
        ));
    }
    let owners: Vec<UserId> = db
        .find_by_contacts(&[Email::parse("x@example.com").unwrap()], &[])
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(owners, [bob.id]);

    // The prover's code for another contact is its own business.
    let tried = db
        .try_code(bob.id, CodePurpose::Prove(Channel::Mobile), 5, at)
        .await
        .unwrap();
    assert_eq!(tried.map(|c| c.digest), Some(bobs_sms.clone()));
    let both = prove(db, &bob, &bob_mobile, &bobs_sms, at).await.unwrap();
    assert!(both.owns(&x) && both.owns(&bob_mobile));
}

async fn a_contact_proven_by_another_account_is_taken_and_one_no_longer_claimed_is_not_proven(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let x = email("x@example.com");
    let ann = claimant(db, "Ann", Some("x@example.com"), None, 0).await;
    let anns = send_code(db, &ann, PROVE_EMAIL, &x, "111111", now()).await;
    prove(db, &ann, &x, &anns, now()).await.unwrap();

    // Bob claims it after the proof (registering does not ask who owns it).
    let bob = claimant(db, "Bob", Some("x@example.com"), None, 1).await;
    let bobs = send_code(db, &bob, PROVE_EMAIL, &x, "222222", now()).await;
    assert!(matches!(
        prove(db, &bob, &x, &bobs, now()).await,
        Err(ProveContactError::Taken)
    ));
    // Nothing changed but the code, which was used.
    assert!(found(db, &ann).await.owns(&x));
    let bob_after = found(db, &bob).await;
    assert_eq!(bob_after, bob);
    assert!(matches!(
        prove(db, &bob, &x, &bobs, now()).await,
        Err(ProveContactError::CodeGone)
    ));

    // Cy asked for y@, then for z@ instead: a code sent to y@ proves nothing.
    let cy = claimant(db, "Cy", Some("cy@example.com"), None, 2).await;
    subject.set_pending(&cy, Some("y@example.com"), None);
    let y = email("y@example.com");
    let cys = send_code(db, &cy, PROVE_EMAIL, &y, "333333", now()).await;
    subject.set_pending(&cy, Some("z@example.com"), None);
    assert!(matches!(
        prove(db, &cy, &y, &cys, now()).await,
        Err(ProveContactError::NotClaimed)
    ));
    let cy = found(db, &cy).await;
    assert_eq!(cy.email_verified_at, None);
    assert_eq!(
        cy.pending_email.as_ref().map(Email::as_str),
        Some("z@example.com")
    );
    assert!(db
        .find_by_contacts(&[Email::parse("y@example.com").unwrap()], &[])
        .await
        .unwrap()
        .is_empty());
}

async fn a_held_invitation_is_hidden_from_its_claimant_and_given_to_whoever_proves_the_contact(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia", Some("olivia@example.com"), None).await;
    let event_id = event(db, &olivia).await;
    let impostor = claimant(db, "Impostor", Some("ceo@example.com"), None, 0).await;
    let ceo = claimant(db, "Ceo", Some("ceo@example.com"), None, 1).await;
    let held = send_held(db, event_id, &olivia, &impostor, "ceo@example.com").await;

    let at = now() + Duration::hours(1);
    assert!(received(db, &impostor, at).await.is_empty());
    assert!(feed(db, &impostor).await.is_empty());
    assert!(feed(db, &ceo).await.is_empty());
    assert_eq!(
        feed(db, &olivia).await,
        [(ChangeKind::InvitationCreated, held.id())]
    );

    let contact = email("ceo@example.com");
    let digest = send_code(db, &ceo, PROVE_EMAIL, &contact, "123456", at).await;
    prove(db, &ceo, &contact, &digest, at).await.unwrap();

    let stored = db.find(held.id()).await.unwrap().unwrap();
    assert_eq!(stored.invitation.invitee_id(), ceo.id);
    assert_eq!(stored.invitee.id, ceo.id);
    assert_eq!(stored.invitation.held_contact(), None);
    assert_eq!(stored.invitation.expires_at(), held.expires_at());
    assert_eq!(stored.invitation.created_at(), held.created_at());
    assert_eq!(stored.invitation.status(), InvitationStatus::Pending);
    assert_eq!(received(db, &ceo, at).await, [held.id()]);
    assert_eq!(
        feed(db, &ceo).await,
        [(ChangeKind::InvitationCreated, held.id())]
    );
    // The claimant never saw it; the sender heard of it once.
    assert!(received(db, &impostor, at).await.is_empty());
    assert!(feed(db, &impostor).await.is_empty());
    assert_eq!(
        feed(db, &olivia).await,
        [(ChangeKind::InvitationCreated, held.id())]
    );
}

async fn a_held_invitation_stays_with_its_claimant_when_the_claimant_proves_the_contact(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia", Some("olivia@example.com"), None).await;
    let event_id = event(db, &olivia).await;
    let ceo = claimant(db, "Ceo", Some("ceo@example.com"), None, 0).await;
    let held = send_held(db, event_id, &olivia, &ceo, "ceo@example.com").await;
    assert!(received(db, &ceo, now()).await.is_empty());

    let contact = email("ceo@example.com");
    let digest = send_code(db, &ceo, PROVE_EMAIL, &contact, "123456", now()).await;
    prove(db, &ceo, &contact, &digest, now()).await.unwrap();

    // Its own held invitation is no other pending invitation to the event: it is given, not
    // cancelled.
    let stored = db.find(held.id()).await.unwrap().unwrap();
    assert_eq!(stored.invitation.status(), InvitationStatus::Pending);
    assert_eq!(stored.invitation.invitee_id(), ceo.id);
    assert_eq!(stored.invitation.held_contact(), None);
    assert_eq!(received(db, &ceo, now()).await, [held.id()]);
    assert_eq!(
        feed(db, &ceo).await,
        [(ChangeKind::InvitationCreated, held.id())]
    );
}

async fn a_held_invitation_to_an_event_the_prover_is_already_invited_to_is_cancelled(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia", Some("olivia@example.com"), None).await;
    let event_id = event(db, &olivia).await;
    let impostor = claimant(db, "Impostor", Some("ceo@example.com"), None, 0).await;
    let ceo = claimant(db, "Ceo", Some("ceo@example.com"), Some("09120000001"), 1).await;
    let direct = invite(db, event_id, &olivia, &ceo).await;
    let held = send_held(db, event_id, &olivia, &impostor, "ceo@example.com").await;

    let contact = email("ceo@example.com");
    let digest = send_code(db, &ceo, PROVE_EMAIL, &contact, "123456", now()).await;
    prove(db, &ceo, &contact, &digest, now()).await.unwrap();

    let stored = db.find(held.id()).await.unwrap().unwrap();
    assert_eq!(stored.invitation.status(), InvitationStatus::Cancelled);
    assert_eq!(
        received(db, &ceo, now()).await,
        [direct.id()],
        "never two pending"
    );
    assert_eq!(
        feed(db, &ceo).await,
        [(ChangeKind::InvitationCreated, direct.id())]
    );
    assert!(feed(db, &olivia)
        .await
        .contains(&(ChangeKind::InvitationCancelled, held.id())));
    assert!(received(db, &impostor, now()).await.is_empty());
    assert!(feed(db, &impostor).await.is_empty());
}

async fn a_batch_planned_before_a_proof_gives_what_it_holds_to_the_prover(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let olivia = user(db, "Olivia", Some("olivia@example.com"), None).await;
    let event_id = event(db, &olivia).await;
    let impostor = claimant(db, "Impostor", Some("ceo@example.com"), None, 0).await;
    let ceo = claimant(db, "Ceo", Some("ceo@example.com"), None, 1).await;
    // Planned while the impostor was the oldest claimant...
    let planned = Invitation::new_pending(
        event_id,
        olivia.id,
        impostor.id,
        "ceo@example.com".into(),
        now(),
    )
    .expiring(InvitationTtl::DEFAULT, &domain::rsvp::RsvpRules::default())
    .held_for(Some("ceo@example.com".into()));
    // ... and stored after the CEO proved the contact: it is not held for a proof that happened.
    let contact = email("ceo@example.com");
    let digest = send_code(db, &ceo, PROVE_EMAIL, &contact, "123456", now()).await;
    prove(db, &ceo, &contact, &digest, now()).await.unwrap();
    assert_eq!(
        db.create_batch(std::slice::from_ref(&planned))
            .await
            .unwrap(),
        [BatchOutcome::Created]
    );

    let stored = db.find(planned.id()).await.unwrap().unwrap();
    assert_eq!(stored.invitation.invitee_id(), ceo.id);
    assert_eq!(stored.invitation.held_contact(), None);
    assert_eq!(stored.invitation.expires_at(), planned.expires_at());
    assert_eq!(received(db, &ceo, now()).await, [planned.id()]);
    assert_eq!(
        feed(db, &ceo).await,
        [(ChangeKind::InvitationCreated, planned.id())]
    );
    assert!(feed(db, &impostor).await.is_empty());
    assert!(received(db, &impostor, now()).await.is_empty());
}

async fn a_login_finds_only_the_owner_of_a_proven_contact_else_its_claimants_oldest_first(
    target: Target,
) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let login = Login::Email(Email::parse("x@example.com").unwrap());
    // Claimants, the newest made first.
    let mut claimants = Vec::new();
    for minutes in (0..11).rev() {
        let name = format!("Claimant {minutes}");
        claimants.push(claimant(db, &name, Some("x@example.com"), None, minutes).await);
    }
    claimants.reverse();
    let ids = |found: Vec<(User, Option<PasswordHash>)>| -> Vec<UserId> {
        found.into_iter().map(|(u, _)| u.id).collect()
    };
    let oldest_ten: Vec<UserId> = claimants.iter().take(10).map(|u| u.id).collect();
    assert_eq!(ids(db.find_credentials(&login).await.unwrap()), oldest_ten);
    let (first, hash) = db.find_credentials(&login).await.unwrap().remove(0);
    assert_eq!(first, claimants[0]);
    assert_eq!(hash, Some(PasswordHash("$argon2id$fake$Claimant 0".into())));

    // An owner made later (as with CONTACT_VERIFICATION=off) is the only one, whatever the
    // number of older claimants.
    let owner = UserRepository::create(
        db,
        NewUser {
            created_at: now() + Duration::hours(1),
            ..new_user("Owner", Some("x@example.com"), None)
        },
    )
    .await
    .unwrap();
    assert_eq!(ids(db.find_credentials(&login).await.unwrap()), [owner.id]);

    // Pending claims are no login.
    let other = claimant(db, "Other", Some("other@example.com"), None, 0).await;
    subject.set_pending(&other, Some("new@example.com"), None);
    let pending = Login::Email(Email::parse("new@example.com").unwrap());
    assert!(db.find_credentials(&pending).await.unwrap().is_empty());
}

async fn finding_by_contacts_finds_pending_claims_too(target: Target) {
    let Some(subject) = Subject::fresh(target) else {
        return;
    };
    let db = &*subject.db;
    let ann = claimant(db, "Ann", Some("ann@example.com"), Some("09120000001"), 0).await;
    subject.set_pending(&ann, Some("new@example.com"), Some("09120000002"));
    let bob = user(db, "Bob", Some("bob@example.com"), None).await;
    let _cy = claimant(db, "Cy", Some("cy@example.com"), None, 0).await;
    let mobile = |m: &str| Mobile::parse(m, PhoneRegion::default()).unwrap();

    let ids = |users: Vec<User>| {
        let mut ids: Vec<UserId> = users.into_iter().map(|u| u.id).collect();
        ids.sort();
        ids
    };
    let by_email = db
        .find_by_contacts(
            &[
                Email::parse("new@example.com").unwrap(),
                Email::parse("bob@example.com").unwrap(),
            ],
            &[],
        )
        .await
        .unwrap();
    let mut expected = vec![ann.id, bob.id];
    expected.sort();
    assert_eq!(ids(by_email), expected);
    let by_mobile = db
        .find_by_contacts(&[], &[mobile("09120000002")])
        .await
        .unwrap();
    assert_eq!(ids(by_mobile), [ann.id]);
    let current = db
        .find_by_contacts(&[], &[mobile("09120000001")])
        .await
        .unwrap();
    assert_eq!(ids(current), [ann.id]);
    let found = db
        .find_by_contacts(&[Email::parse("new@example.com").unwrap()], &[])
        .await
        .unwrap();
    assert_eq!(
        found[0].pending_email.as_ref().map(Email::as_str),
        Some("new@example.com")
    );
    assert_eq!(found[0].pending_mobile, Some(mobile("09120000002")));
}
