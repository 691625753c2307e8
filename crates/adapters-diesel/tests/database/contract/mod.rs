//! The repository ports' contract, one set of cases run against every implementation: the
//! in-memory fakes of `domain::testing` (which the domain's and the HTTP adapter's tests run on),
//! SQLite always, and PostgreSQL when `TEST_DATABASE_URL` is set (and required when `CI` is set).
//! Each case owns a fresh store or database: `fakes::name`, `sqlite::name`, `postgres::name`.
//!
//! Cases that need the diesel adapter itself stay in `diesel_only`, each saying why.

mod accounts;
mod diesel_only;
mod events;
mod invitations;
mod lifecycle;
mod optouts;
mod proofs;
mod reminders;
mod roles;
mod rows;
mod rsvp;
mod versions;

use domain::invitations::ports::AnswerStored;
use domain::invitations::Reply;
use domain::rsvp::{RsvpRules, RsvpSettings};
use std::sync::Arc;

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::{Backend, Database, DatabaseConfig, RandomTokenIssuer};
use chrono::{DateTime, Duration, Utc};
use domain::accounts::ports::*;
use domain::accounts::User;
use domain::events::ports::*;
use domain::events::EventDetails;
use domain::invitations::ports::*;
use domain::invitations::{Invitation, InvitationEntries, InviteeState, NotPending};
use domain::invitations::{InvitationService, SendInvitations};
use domain::ports::*;
use domain::reminders::ports::ReminderRepository;
use domain::{
    Answer, Email, EventId, InvitationId, InvitationStatus, Limit, Login, Mobile, PageRequest,
    PhoneRegion, StatusFilter, Text, UserId,
};

use crate::support::{contract, new_user, now, per_backend, subject, Target};

/// Every repository port of one store, as the services see them.
trait Repositories:
    UserRepository
    + TokenRepository
    + EventRepository
    + InvitationRepository
    + ReminderRepository
    + domain::optouts::ports::OptOutRepository
{
}

impl<T> Repositories for T where
    T: UserRepository
        + TokenRepository
        + EventRepository
        + InvitationRepository
        + ReminderRepository
        + domain::optouts::ports::OptOutRepository
        + ?Sized
{
}

subject!(Repositories);

struct Clock0;
impl Clock for Clock0 {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

async fn user(
    db: &dyn Repositories,
    name: &str,
    email: Option<&str>,
    mobile: Option<&str>,
) -> User {
    UserRepository::create(db, new_user(name, email, mobile))
        .await
        .unwrap()
}

fn new_event(owner: &User) -> NewEvent {
    let details =
        EventDetails::new(Text::from_stored("Party".into()), None, None, None, None).unwrap();
    NewEvent {
        id: EventId::generate(),
        details,
        owner: owner.summary(),
        created_at: now(),
    }
}

async fn event(db: &dyn Repositories, owner: &User) -> EventId {
    EventRepository::create(db, new_event(owner))
        .await
        .unwrap()
        .id
}

async fn invite(
    db: &dyn Repositories,
    event: EventId,
    sender: &User,
    invitee: &User,
) -> Invitation {
    let invitation = Invitation::new_pending(event, sender.id, invitee.id, "contact".into(), now());
    assert_eq!(
        db.create_batch(std::slice::from_ref(&invitation))
            .await
            .unwrap(),
        [BatchOutcome::Created]
    );
    invitation
}

async fn answer(
    db: &dyn Repositories,
    invitation: &Invitation,
    answer: Answer,
) -> Result<(), SaveInvitationError> {
    reply(db, invitation, Reply::of(answer)).await.map(|_| ())
}

/// The invitee's `reply`, a minute after the send, as the service stores it.
async fn reply(
    db: &dyn Repositories,
    invitation: &Invitation,
    reply: Reply,
) -> Result<AnswerStored, SaveInvitationError> {
    let mut answered = invitation.clone();
    answered
        .answer(
            invitation.invitee_id(),
            None,
            reply,
            &RsvpRules {
                max_guests: RsvpSettings::MAX_GUESTS_MAX,
                ..RsvpRules::default()
            },
            now() + Duration::minutes(1),
        )
        .unwrap();
    db.save_answer(&answered, None).await
}

fn page(limit: i64, after: Option<uuid::Uuid>) -> PageRequest {
    PageRequest {
        limit: Limit::new(limit).unwrap(),
        after,
    }
}
