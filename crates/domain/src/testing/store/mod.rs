//! [`Store`]: every repository port over one in-memory state, with the database's invariants.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Timelike, Utc};

use crate::accounts::ports::{
    CodePurpose, CodeRepository, CreateUserError, NewCode, NewToken, NewUser, PasswordHash,
    ProveContactError, StoredCode, TokenHash, TokenRepository, UserRepository,
};
use crate::accounts::User;
use crate::changes::ports::{ChangeFeed, CommitWatch, NewTicket, TicketRepository};
use crate::changes::{AddressedChange, Change, ChangeId, EventRef, FeedRead, RecordedChange};
use crate::events::ports::{EventRepository, EventWriteError, NewEvent, PartyError};
use crate::events::{
    Actor, Event, EventDetails, EventDetailsError, EventPatch, Member, Membership, Role,
};
use crate::invitations::ports::{
    AnswerStored, BatchOutcome, InvitationFilter, InvitationRepository, SaveInvitationError,
};
use crate::invitations::{
    Invitation, InvitationDetails, InvitationState, InviteeState, NotPending,
};
use crate::messages::OutgoingMessage;
use crate::ports::{HealthCheck, PortError};
use crate::rsvp::{party, RsvpRules, Tally, Waiting};
use crate::{
    Answer, Email, EventId, InvitationId, InvitationStatus, Login, MemberId, Mobile, Page,
    PageRequest, UserId, Version,
};

mod accounts;
mod changes;
mod events;
mod invitations;
mod links;
mod optouts;
mod reminders;
mod webhooks;

#[derive(Debug)]
struct StoredToken {
    user_id: UserId,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

/// The owner and co-hosts of an event when it was deleted.
type Managers = Vec<(UserId, Role)>;

#[derive(Debug, Default)]
struct State {
    users: Vec<(User, Option<PasswordHash>)>,
    /// Codes by (account, purpose): the code and its tries so far.
    codes: HashMap<(UserId, &'static str), (NewCode, u32)>,
    /// The message outbox.
    messages: Vec<OutgoingMessage>,
    tokens: HashMap<TokenHash, StoredToken>,
    events: Vec<Event>,
    members: Vec<(EventId, Member)>,
    invitations: Vec<Invitation>,
    /// The outbox: every recorded change with its recipients, in id order.
    changes: Vec<AddressedChange>,
    last_change: i64,
    tickets: HashMap<TokenHash, (UserId, DateTime<Utc>)>,
    /// Webhooks, deliveries and their attempts.
    deliveries: webhooks::Deliveries,
    /// One-click links: the invitation each digest opens.
    links: HashMap<TokenHash, InvitationId>,
    /// Calendar feeds: each person's feed digest.
    feeds: HashMap<UserId, TokenHash>,
    /// Deleted events: when, and who managed each then.
    deleted: HashMap<EventId, (DateTime<Utc>, Managers)>,
    /// Reminders recorded as sent: (event, rule key, person, start).
    reminders_sent: HashMap<(EventId, String, UserId, DateTime<Utc>), DateTime<Utc>>,
    /// Opt-outs from invitation messages, in the order recorded.
    opt_outs: Vec<crate::optouts::OptOut>,
}

/// Every repository port (and the health check) over one in-memory state, keeping what the
/// database's schema and the adapter's transactions keep:
///
/// - users: proven emails and mobiles are unique ([`CreateUserError::EmailTaken`],
///   [`CreateUserError::MobileTaken`]); proving a contact takes it from every other account that
///   claims it and gives the account the invitations held for it;
/// - held invitations never reach their invitee (lists, changes);
/// - tokens resolve while neither revoked nor expired (`expires_at > now`);
/// - creating an event makes its owner its first member; `members_count` counts the members;
/// - deleting an event keeps it, without members, and its invitations, marked deleted with who
///   managed it then (the retention purge removes it later);
/// - at most one live (pending, "maybe" or waitlisted) invitation per (event, invitee)
///   ([`BatchOutcome::AlreadyPending`]);
/// - an event's `seats_taken` counts its members but the owner and their guests, never above its
///   capacity; accepting goes through the seat rule on the seats as they stand, and every write
///   that frees seats promotes the waitlist ([`crate::rsvp::RsvpRules::promote`]) at once;
/// - an answer is stored only while the invitation is pending
///   and not expired ([`SaveInvitationError::NotPending`]), and accepting adds the membership,
///   once; so is a cancel, and a resend only while the last resend is the one it was decided on
///   ([`SaveInvitationError::ResentMeanwhile`]);
/// - a batch first marks its invitees' dead pending invitations expired (so they do not block it),
///   and the sweeper's [`InvitationRepository::expire_due`] marks any;
/// - list filters and the latest statuses of [`InvitationRepository::invitee_states`] read the
///   status as of the given time ([`Invitation::status_at`]);
/// - rows referring to unknown users or events are refused (the foreign keys), as
///   [`PortError::Unexpected`];
/// - lists are keyset pages on the (time-ordered) id, newest first, resuming after
///   [`PageRequest::after`];
/// - times are kept to the microsecond, like the database's `TIMESTAMP` columns;
/// - every change records its domain events ([`ChangeFeed`]) with the recipients R12 names as the
///   members are at that moment, numbered in order; stream tickets are single use.
///
/// Every method takes one lock, so that each port call is atomic like the adapter's transactions.
/// The adapters' contract suite runs against it to keep it honest.
#[derive(Debug, Default)]
pub struct Store {
    state: Mutex<State>,
}

/// What the database stores of a time: whole microseconds.
fn stored(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

fn stored_details(details: EventDetails) -> EventDetails {
    let rsvp = details.rsvp();
    let settings = crate::rsvp::RsvpSettings::new(
        rsvp.capacity(),
        rsvp.max_guests(),
        rsvp.waitlist(),
        rsvp.rsvp_deadline().map(stored),
    )
    .expect("stored settings were checked");
    EventDetails::new(
        details.title().clone(),
        details.description().cloned(),
        details.location().cloned(),
        details.starts_at().map(stored),
        details.ends_at().map(stored),
    )
    .and_then(|stored| stored.with_rsvp(settings))
    .map(|stored| {
        stored
            .with_time_zone(details.time_zone())
            .with_reminders(details.reminders().clone())
    })
    .expect("truncating the times keeps their order")
}

fn stored_invitation(invitation: &Invitation) -> Invitation {
    let mut record = invitation.to_stored();
    record.state = match record.state {
        InvitationState::Answered { answer, at } => InvitationState::Answered {
            answer,
            at: stored(at),
        },
        InvitationState::Tentative { at } => InvitationState::Tentative { at: stored(at) },
        InvitationState::Waitlisted { at } => InvitationState::Waitlisted { at: stored(at) },
        InvitationState::Cancelled { at } => InvitationState::Cancelled { at: stored(at) },
        state @ (InvitationState::Pending | InvitationState::Expired) => state,
    };
    record.created_at = stored(record.created_at);
    record.expires_at = record.expires_at.map(stored);
    record.last_resent_at = record.last_resent_at.map(stored);
    Invitation::restore(record)
}

/// The error a broken foreign key or check constraint surfaces as.
fn refused(what: &str) -> PortError {
    PortError::unexpected(format!("constraint violation: {what}"))
}

impl State {
    fn user(&self, id: UserId) -> Option<&User> {
        self.users.iter().map(|(u, _)| u).find(|u| u.id == id)
    }

    fn event(&self, id: EventId) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    fn member(&self, event: EventId, user: UserId) -> Option<&Member> {
        self.members
            .iter()
            .find(|(e, m)| *e == event && m.user.id == user)
            .map(|(_, m)| m)
    }

    /// Whether `actor` is still a member of `event` with the role their decision was made on.
    fn holds(&self, event: EventId, actor: Actor) -> bool {
        self.member(event, actor.user)
            .is_some_and(|m| m.role == actor.role)
    }

    fn is_member(&self, event: EventId, user: UserId) -> bool {
        self.members
            .iter()
            .any(|(e, m)| *e == event && m.user.id == user)
    }

    /// Whether a row of (event, invitee) is stored pending, "maybe" or waitlisted, expired or
    /// not: what the partial unique index `invitations_one_live` sees.
    fn has_pending(&self, event: EventId, invitee: UserId) -> bool {
        self.invitations
            .iter()
            .any(|i| i.event_id() == event && i.invitee_id() == invitee && i.status().is_live())
    }

    /// The event's waitlist, first come first served.
    fn waitlist(&self, event: EventId) -> Vec<&Invitation> {
        let mut waiting: Vec<&Invitation> = self
            .invitations
            .iter()
            .filter(|i| i.event_id() == event && i.status() == InvitationStatus::Waitlisted)
            .collect();
        waiting.sort_by_key(|i| (i.answered_at(), i.id()));
        waiting
    }

    /// Where `invitation` stands in its event's waitlist (1 is next), if it is waitlisted.
    fn waitlist_position(&self, invitation: &Invitation) -> Option<u32> {
        (invitation.status() == InvitationStatus::Waitlisted).then(|| {
            let ahead = self
                .waitlist(invitation.event_id())
                .iter()
                .take_while(|i| i.id() != invitation.id())
                .count();
            u32::try_from(ahead + 1).unwrap_or(u32::MAX)
        })
    }

    fn event_mut(&mut self, id: EventId) -> &mut Event {
        self.events
            .iter_mut()
            .find(|e| e.id == id)
            .expect("a changed event exists")
    }

    /// Seats `user` with `guests` in `event` (the invitation stored accepted already), counting
    /// their seats; the `member.joined` change.
    fn seat(&mut self, event: EventId, user: UserId, guests: u8, at: DateTime<Utc>) -> Change {
        let user = self
            .user(user)
            .expect("stored invitations refer to stored users")
            .summary();
        let member = Member {
            id: MemberId::generate(),
            user,
            role: Role::Member,
            joined_at: at,
            guests,
        };
        self.members.push((event, member.clone()));
        let stored = self.event_mut(event);
        stored.members_count += 1;
        stored.seats_taken += party(guests);
        Change::member_joined(self.event_ref(event), member)
    }

    /// Promotes the waitlist of `event` into the seats free at `now` ([`RsvpRules::promote`]),
    /// recording each promotion and membership.
    fn promote(&mut self, event: EventId, now: DateTime<Utc>) {
        let Some(stored_event) = self.event(event) else {
            return;
        };
        let rules: RsvpRules = stored_event.details.rules();
        let waiting: Vec<Waiting> = self
            .waitlist(event)
            .iter()
            .map(|i| Waiting {
                invitation: i.id(),
                guests: i.guests(),
            })
            .collect();
        let promoted = rules.promote(stored_event.seats_taken, &waiting, now);
        let mut changes = Vec::new();
        for Waiting { invitation, guests } in promoted {
            let row = self
                .invitations
                .iter_mut()
                .find(|i| i.id() == invitation)
                .expect("listed above");
            let mut record = row.to_stored();
            let InvitationState::Waitlisted { at } = record.state else {
                continue;
            };
            record.state = InvitationState::Answered {
                answer: Answer::Accept,
                at,
            };
            record.version = record.version.next();
            *row = Invitation::restore(record);
            let row = row.clone();
            let details = self.details(&row);
            changes.push(Change::invitation_promoted(details, now).expect("accepted above"));
            changes.push(self.seat(event, row.invitee_id(), guests, now));
        }
        self.record(changes);
    }

    /// The stored invitation `id`, for a conditional change at `at`: `Err` with why it cannot
    /// change when it is gone or not pending at `at`.
    fn pending_row(
        &mut self,
        id: InvitationId,
        at: DateTime<Utc>,
    ) -> Result<&mut Invitation, SaveInvitationError> {
        let row = self
            .invitations
            .iter_mut()
            .find(|i| i.id() == id)
            .ok_or(SaveInvitationError::NotFound)?;
        match NotPending::of(row.status_at(at)) {
            Some(reason) => Err(SaveInvitationError::NotPending(reason)),
            None => Ok(row),
        }
    }

    /// Why `invitation` may not be stored, if it may not: the foreign keys, then the check that
    /// nobody invites themself.
    fn refusal(&self, invitation: &Invitation) -> Option<PortError> {
        if self.event(invitation.event_id()).is_none() {
            return Some(refused("invitation of an unknown event"));
        }
        if self.deleted.contains_key(&invitation.event_id()) {
            // Its sender no longer manages it: the adapter refuses the batch the same way.
            return Some(refused("invitation of a deleted event"));
        }
        if self.user(invitation.sender_id()).is_none()
            || self.user(invitation.invitee_id()).is_none()
        {
            return Some(refused("invitation from or to an unknown user"));
        }
        if invitation.sender_id() == invitation.invitee_id() {
            return Some(refused("invitation to its own sender"));
        }
        None
    }

    fn details(&self, invitation: &Invitation) -> InvitationDetails {
        let summary = |id| {
            self.user(id)
                .expect("stored invitations refer to stored users")
                .summary()
        };
        let event = self
            .event(invitation.event_id())
            .expect("stored invitations refer to stored events");
        InvitationDetails {
            invitation: invitation
                .clone()
                .at_waitlist_position(self.waitlist_position(invitation)),
            event_title: event.details.title().clone(),
            // The fakes do not freeze titles: that is the database adapter's (contract).
            invitee_title: event.details.title().clone(),
            sender: summary(invitation.sender_id()),
            invitee: summary(invitation.invitee_id()),
            event_deleted: self
                .deleted
                .get(&invitation.event_id())
                .map(|(_, managers)| crate::invitations::DeletedEvent {
                    sender_role: managers
                        .iter()
                        .find(|(user, _)| *user == invitation.sender_id())
                        .map(|(_, role)| *role),
                }),
        }
    }

    fn event_ref(&self, id: EventId) -> EventRef {
        let event = self.event(id).expect("a changed event exists");
        EventRef {
            id,
            title: event.details.title().clone(),
        }
    }

    /// Records changes with their recipients as the members are now (the outbox).
    fn record(&mut self, changes: Vec<Change>) {
        let resolved: Vec<(Change, Vec<UserId>)> = changes
            .into_iter()
            .map(|change| {
                let recipients = self.recipients(&change);
                (change, recipients)
            })
            .collect();
        self.append(resolved);
    }

    fn recipients(&self, change: &Change) -> Vec<UserId> {
        let audience = change.audience();
        let event = audience.event();
        let mut users: Vec<UserId> = match audience {
            // The sender among the managers: told while they manage the event.
            crate::changes::Audience::InvitationParties { invitee, .. } => self
                .members
                .iter()
                .filter(|(e, m)| *e == event && m.role.manages_invitations())
                .map(|(_, m)| m.user.id)
                .chain(invitee)
                .collect(),
            crate::changes::Audience::Invitee { invitee, .. } => vec![invitee],
            crate::changes::Audience::Followers { also, .. } => self
                .members
                .iter()
                .filter(|(e, _)| *e == event)
                .map(|(_, m)| m.user.id)
                .chain(
                    self.invitations
                        .iter()
                        .filter(|i| {
                            i.event_id() == event
                                && i.held_contact().is_none()
                                && matches!(
                                    i.status_at(change.occurred_at()),
                                    InvitationStatus::Pending
                                        | InvitationStatus::Tentative
                                        | InvitationStatus::Waitlisted
                                )
                        })
                        .map(Invitation::invitee_id),
                )
                .chain(also)
                .collect(),
            crate::changes::Audience::Members { also, .. } => self
                .members
                .iter()
                .filter(|(e, _)| *e == event)
                .map(|(_, m)| m.user.id)
                .chain(also)
                .collect(),
        };
        users.sort();
        users.dedup();
        users
    }

    fn append(&mut self, resolved: Vec<(Change, Vec<UserId>)>) {
        for (change, recipients) in resolved {
            self.last_change += 1;
            self.changes.push(AddressedChange {
                recorded: RecordedChange {
                    id: ChangeId(self.last_change),
                    change,
                },
                recipients,
            });
        }
    }

    fn record_invitation(
        &mut self,
        id: InvitationId,
        make: fn(InvitationDetails) -> Result<Change, crate::changes::ChangeMismatch>,
    ) {
        let invitation = self
            .invitations
            .iter()
            .find(|i| i.id() == id)
            .expect("a changed invitation exists")
            .clone();
        let change = make(self.details(&invitation)).expect("the change fits the state");
        self.record(vec![change]);
    }

    fn list(
        &self,
        party: impl Fn(&Invitation) -> bool,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Page<InvitationDetails> {
        let now = stored(now);
        let items = self
            .invitations
            .iter()
            .filter(|i| party(i))
            .filter(|i| filter.status.status().is_none_or(|s| i.status_at(now) == s))
            .filter(|i| filter.event_id.is_none_or(|e| i.event_id() == e))
            .map(|i| self.details(i))
            .collect();
        page_of(items, page, |d| d.invitation.id().as_uuid())
    }
}

/// One keyset page of `items`, newest (greatest key) first.
fn page_of<T>(mut items: Vec<T>, page: PageRequest, key: impl Fn(&T) -> uuid::Uuid) -> Page<T> {
    items.sort_by_key(|item| std::cmp::Reverse(key(item)));
    let rows = items
        .into_iter()
        .filter(|item| page.after.is_none_or(|after| key(item) < after))
        .take(page.limit.get() as usize + 1)
        .collect();
    Page::from_overfetched(rows, page.limit, key)
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already; the state is still whole
        // because every method checks before it writes.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The ids of the members of `event`, in the order they joined.
    pub fn members_of(&self, event: EventId) -> Vec<UserId> {
        self.lock()
            .members
            .iter()
            .filter(|(e, _)| *e == event)
            .map(|(_, m)| m.user.id)
            .collect()
    }

    /// Every stored invitation, in the order stored.
    pub fn invitations(&self) -> Vec<Invitation> {
        self.lock().invitations.clone()
    }

    /// Stores an invitation directly, as if sent (and perhaps answered) earlier: for states that
    /// the services cannot reach in one step, such as an old rejection followed by an acceptance.
    /// Accepted invitations do not add members here.
    ///
    /// # Panics
    /// When the database would refuse the row: an unknown event or user, a self-invitation, or a
    /// second pending invitation for its (event, invitee).
    pub fn insert_invitation(&self, invitation: Invitation) {
        let mut state = self.lock();
        if let Some(refusal) = state.refusal(&invitation) {
            panic!("{refusal:?}");
        }
        assert!(
            invitation.status() != InvitationStatus::Pending
                || !state.has_pending(invitation.event_id(), invitation.invitee_id()),
            "a second pending invitation for one (event, invitee)"
        );
        state.invitations.push(stored_invitation(&invitation));
    }
}

#[async_trait]
impl HealthCheck for Store {
    /// The in-memory store always answers.
    async fn check(&self) -> Result<(), PortError> {
        Ok(())
    }
}
