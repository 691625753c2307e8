//! Delivering changes to webhooks and invitees' email (docs/api.md, "Webhooks" and "Email to
//! invitees"; docs/operations.md, "Webhook and email delivery").
//!
//! Three steps, each safe to run from any number of workers in any number of processes:
//! [`DeliveryService::dispatch`] turns the changes numbered since the last dispatch into
//! deliveries (once each: the shared dispatch position moves only with them);
//! [`DeliveryService::claim`] takes due deliveries under a lease; [`DeliveryService::attempt`]
//! makes one attempt and stores it with what the rules decided. So a delivery exists exactly
//! when its change committed, and no two workers attempt it at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::Duration;

use crate::accounts::Locale;
use crate::calendars::ports::CalendarEvents;
use crate::calendars::{self, Attendee, Entry, Method, PartStat};
use crate::changes::ports::ChangeFeed;
use crate::changes::{ChangeKind, ChangeSubject, RecordedChange};
use crate::events::{Event, TimeZone};
use crate::links::{LinkToken, NewLink, PublicUrl};
use crate::messages::ports::{Contacts, Reachable};
use crate::optouts::ports::OptOutRepository;
use crate::optouts::{OptOuts, UnsubscribeKey, UnsubscribeLink};
use crate::ports::SecretSource;
use crate::ports::{Clock, PortError};
use crate::webhooks::delivery::{
    AttemptRecord, ClaimKind, ClaimShares, ClaimedDelivery, ClaimedTarget, DeliveryTarget,
    InvitationEmail, InvitationSms, NewDelivery, Outcome, RetryPolicy, Verdict,
};
use crate::webhooks::delivery::{EventNotice, MessageOccasion};
use crate::webhooks::ports::{
    ChangeRenderer, DeliveryQueue, MailResult, Mailer, WebhookRequest, WebhookResponse,
    WebhookSender,
};
use crate::webhooks::{Challenge, PendingVerification, VerificationOutcome, Webhook};
use crate::EventId;
use crate::{AttemptId, DeliveryId, UserId};

/// The bounds of delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryLimits {
    /// How long a claim holds: longer than any attempt can take (the sender's and mailer's own
    /// timeouts), so that a claim runs out only when its worker died.
    pub lease: Duration,
    /// Deliveries in flight per target (one webhook; email as a whole), across claims.
    pub per_target: u32,
    /// Deliveries in flight per owner, over all of their webhooks, across claims.
    pub per_owner: u32,
    /// Changes read per dispatch.
    pub dispatch_batch: u32,
}

impl Default for DeliveryLimits {
    fn default() -> Self {
        Self {
            lease: Duration::seconds(60),
            per_target: 8,
            per_owner: 8,
            dispatch_batch: 500,
        }
    }
}

/// What one dispatch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dispatched {
    /// Changes read (0: caught up).
    pub changes: usize,
    /// Deliveries made of them (0 when another worker dispatched the same changes first).
    pub deliveries: usize,
    /// The read was a whole batch ([`DeliveryLimits::dispatch_batch`]): more changes may be
    /// waiting, so call again now. Otherwise what was numbered when it read is dispatched, and a
    /// worker may wait for the next commit instead of chasing each one as it comes.
    pub more: bool,
}

/// What one attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempted {
    /// What the rules decided.
    pub verdict: Verdict,
    /// The HTTP status answered, if any.
    pub status_code: Option<u16>,
    /// `false` when the claim had run out before the attempt was stored: another worker has
    /// the delivery now, and this attempt is not in its list.
    pub recorded: bool,
}

/// Delivers changes to webhooks and email.
#[derive(Clone)]
pub struct DeliveryService {
    feed: Arc<dyn ChangeFeed>,
    queue: Arc<dyn DeliveryQueue>,
    renderer: Arc<dyn ChangeRenderer>,
    sender: Arc<dyn WebhookSender>,
    mailer: Option<Arc<dyn Mailer>>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    limits: DeliveryLimits,
    sms_region: Option<crate::PhoneRegion>,
    links: Option<(PublicUrl, Arc<dyn SecretSource>)>,
    calendars: Option<Arc<dyn CalendarEvents>>,
    contacts: Option<Arc<dyn Contacts>>,
    opt_outs: Option<(Arc<dyn OptOutRepository>, UnsubscribeKey, PublicUrl)>,
}

impl std::fmt::Debug for DeliveryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryService")
            .field("email", &self.mailer.is_some())
            .field("policy", &self.policy)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl DeliveryService {
    /// A service over these ports. Without a mailer, no email is made or sent by it.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        feed: Arc<dyn ChangeFeed>,
        queue: Arc<dyn DeliveryQueue>,
        renderer: Arc<dyn ChangeRenderer>,
        sender: Arc<dyn WebhookSender>,
        mailer: Option<Arc<dyn Mailer>>,
        clock: Arc<dyn Clock>,
        policy: RetryPolicy,
        limits: DeliveryLimits,
    ) -> Self {
        Self {
            feed,
            queue,
            renderer,
            sender,
            mailer,
            clock,
            policy,
            limits,
            sms_region: None,
            links: None,
            calendars: None,
            contacts: None,
            opt_outs: None,
        }
    }

    /// The same service attaching the invitation as an iCalendar `METHOD:REQUEST` to every
    /// invitation email (docs/api.md, "Calendars"), its event read from `events`.
    #[must_use]
    pub fn with_calendars(mut self, events: Arc<dyn CalendarEvents>) -> Self {
        self.calendars = Some(events);
        self
    }

    /// The events of the invitation emails among `changes`, read in one round trip (none without
    /// a mailer or calendars).
    async fn calendar_events(
        &self,
        changes: &[crate::changes::AddressedChange],
    ) -> Result<HashMap<EventId, Event>, PortError> {
        let Some(source) = &self.calendars else {
            return Ok(HashMap::new());
        };
        let ids: Vec<EventId> = changes
            .iter()
            .filter_map(|delivery| {
                // A deleted event is still there for its notices (docs/api.md, "Deleting an
                // event").
                if let ChangeSubject::DeletedEvent(deleted) = delivery.recorded.change.subject() {
                    return Some(deleted.id);
                }
                // For its calendar entry and time zone.
                let (details, _) = MessageOccasion::of(&delivery.recorded)?;
                Some(details.invitation.event_id())
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(source
            .events_by_id(&ids)
            .await?
            .into_iter()
            .map(|event| (event.id, event))
            .collect())
    }

    /// The same service giving every invitation email and text a one-click link under
    /// `public_url`, with a new token from `secrets` (docs/api.md, "Answering from a message").
    #[must_use]
    pub fn with_links(mut self, public_url: PublicUrl, secrets: Arc<dyn SecretSource>) -> Self {
        self.links = Some((public_url, secrets));
        self
    }

    /// A new link for the invitation of an `invitation.created` or `.resent` change, if this
    /// service makes links: its URL for the message, and its digest to store with it.
    fn link_for(&self, change: &RecordedChange) -> Option<(String, NewLink)> {
        let (public_url, secrets) = self.links.as_ref()?;
        if !matches!(
            change.change.kind(),
            ChangeKind::InvitationCreated | ChangeKind::InvitationResent
        ) || change.change.is_released()
        {
            return None;
        }
        let ChangeSubject::Invitation(details) = change.change.subject() else {
            return None;
        };
        let token = LinkToken::generate(secrets.as_ref());
        Some((
            public_url.invitation_link(&token),
            NewLink {
                invitation_id: details.invitation.id(),
                hash: token.hash(),
                created_at: self.clock.now(),
            },
        ))
    }

    /// The same service also texting invitees reached by a mobile number (read in `region`): the
    /// texts go to the outbox's messages, sent by the message worker.
    #[must_use]
    pub fn with_sms(mut self, region: crate::PhoneRegion) -> Self {
        self.sms_region = Some(region);
        self
    }

    /// A watch woken when changes may have been committed, for the worker's loop.
    pub fn watch(&self) -> Box<dyn crate::changes::ports::CommitWatch> {
        self.feed.watch()
    }

    /// Makes the deliveries of the next changes not yet dispatched: for each change, one per
    /// enabled webhook of each of its recipients (R12, resolved when the change was written) that
    /// receives its kind, and one email for an `invitation.created` or `.resent` to an invitee
    /// reached by email (when this service has a mailer). Call again while it reads changes.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure; nothing is dispatched then.
    pub async fn dispatch(&self) -> Result<Dispatched, PortError> {
        let from = self.queue.dispatch_position().await?;
        let read = self
            .feed
            .addressed_after(from, self.limits.dispatch_batch)
            .await?;
        if read.read_up_to <= from {
            return Ok(Dispatched::default());
        }
        let owners: Vec<UserId> = read
            .changes
            .iter()
            .flat_map(|d| d.recipients.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let webhooks = if owners.is_empty() {
            Vec::new()
        } else {
            self.queue.webhooks_of(&owners).await?
        };
        let mut by_owner: HashMap<UserId, Vec<&Webhook>> = HashMap::new();
        for webhook in &webhooks {
            by_owner.entry(webhook.owner).or_default().push(webhook);
        }
        let now = self.clock.now();
        let events = self.calendar_events(&read.changes).await?;
        let people = self.reachable(&read.changes).await?;
        let stopped = self.opt_outs_of(&read.changes).await?;
        let mut deliveries = Vec::new();
        for delivery in &read.changes {
            let change = &delivery.recorded;
            let kind = change.change.kind();
            let mut body: Option<String> = None;
            let receiving = delivery
                .recipients
                .iter()
                .flat_map(|owner| by_owner.get(owner).into_iter().flatten())
                .filter(|webhook| webhook.receives(change.id, kind));
            for webhook in receiving {
                let payload = body
                    .get_or_insert_with(|| self.renderer.render(change))
                    .clone();
                deliveries.push(NewDelivery {
                    id: DeliveryId::generate(),
                    change_id: change.id,
                    kind,
                    target: DeliveryTarget::Webhook(webhook.id),
                    payload,
                    created_at: now,
                    link: None,
                });
            }
            deliveries.extend(self.notices(delivery, &people, &events, now));
            let messaged = self.messaged(change);
            if let Some((contact, sender)) = &messaged {
                if stopped.stops(contact, *sender) {
                    continue;
                }
            }
            // One link per message: an invitation is reached by one contact, email or mobile.
            let mut link = self.link_for(change);
            let email = self
                .mailer
                .as_ref()
                .and_then(|mailer| InvitationEmail::of(change).map(|email| (mailer, email)));
            let (locale, time_zone) = reader(change, &people, &events);
            if let Some((mailer, mut email)) = email {
                email.locale = locale;
                email.time_zone = time_zone;
                let link = link.take();
                email.link = link.as_ref().map(|(url, _)| url.clone());
                email.calendar = invitation_calendar(&email, change, &events, now);
                email.unsubscribe = self.opt_outs.as_ref().zip(messaged).map(
                    |((_, key, public_url), (contact, sender))| {
                        public_url
                            .unsubscribe_link(&key.token(&UnsubscribeLink { contact, sender }))
                    },
                );
                deliveries.push(NewDelivery {
                    id: DeliveryId::generate(),
                    change_id: change.id,
                    kind,
                    payload: mailer.compose(&email),
                    target: DeliveryTarget::Email(email.to),
                    created_at: now,
                    link: link.map(|(_, new)| new),
                });
            }
            let sms = self.sms_region.and_then(|region| {
                let link = link.as_ref().map(|(url, _)| url.as_str());
                InvitationSms::of(change, region, link, locale, time_zone)
            });
            if let Some(sms) = sms {
                deliveries.push(NewDelivery {
                    id: DeliveryId::generate(),
                    change_id: change.id,
                    kind,
                    payload: sms.text.as_str().to_owned(),
                    target: DeliveryTarget::Sms(sms.to),
                    created_at: now,
                    link: link.take().map(|(_, new)| new),
                });
            }
        }
        let made = deliveries.len();
        let moved = self
            .queue
            .enqueue(from, read.read_up_to, deliveries)
            .await?;
        Ok(Dispatched {
            changes: read.changes.len().max(1),
            deliveries: if moved { made } else { 0 },
            // By the ids the read moved past, not the rows it returned (unreadable rows are
            // skipped), so that a gap can only make it say "more" when there is none. A feed that
            // caps a read below `dispatch_batch` would make every read look short: keep the batch
            // within the feed's cap (1,000 for the database feed).
            more: read.read_up_to.0 - from.0 >= i64::from(self.limits.dispatch_batch),
        })
    }

    /// Claims up to `limit` due deliveries of `kind` for this worker, under a lease of
    /// [`DeliveryLimits::lease`], within the shares of [`DeliveryLimits`]; no emails when this
    /// service has no mailer.
    ///
    /// # Errors
    /// [`PortError`] on infrastructure failure.
    pub async fn claim(
        &self,
        kind: ClaimKind,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, PortError> {
        if kind == ClaimKind::Emails && self.mailer.is_none() {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let shares = ClaimShares {
            per_target: self.limits.per_target,
            per_owner: self.limits.per_owner,
        };
        self.queue
            .claim_due(now, now + self.limits.lease, limit, shares, kind)
            .await
    }

    /// Whether this service sends email (and so claims emails).
    pub fn sends_email(&self) -> bool {
        self.mailer.is_some()
    }

    /// Makes one attempt at a claimed delivery and stores it with the verdict of the rules
    /// ([`RetryPolicy::decide`]); `jitter` is a sample in `[-1, 1]` for the next wait. A webhook
    /// gets a `POST` of the payload, signed at this attempt's time; an email goes to the mail
    /// server.
    ///
    /// # Errors
    /// [`PortError`] when the attempt cannot be stored; the claim then runs out and the delivery
    /// is attempted again (at least once, not exactly once).
    pub async fn attempt(
        &self,
        delivery: &ClaimedDelivery,
        jitter: f64,
    ) -> Result<Attempted, PortError> {
        let number = delivery.attempts + 1;
        let started = self.clock.now();
        let (outcome, status_code, error, response_body, failing_since, endpoint) =
            match &delivery.target {
                ClaimedTarget::Webhook(webhook) => {
                    let message_id = delivery.change_id.0.to_string();
                    let timestamp = started.timestamp();
                    let request = WebhookRequest {
                        url: webhook.url.clone(),
                        signature: webhook
                            .secret
                            .sign(&message_id, timestamp, &delivery.payload),
                        message_id,
                        timestamp,
                        body: delivery.payload.clone(),
                    };
                    let (outcome, status, error, body) = match self.sender.send(&request).await {
                        WebhookResponse::Answered {
                            status,
                            retry_after,
                            body,
                        } => (
                            Outcome::of_status(status, retry_after),
                            Some(status),
                            None,
                            Some(AttemptRecord::truncate_body(&body)),
                        ),
                        WebhookResponse::Failed { error } => {
                            (Outcome::Retry { not_before: None }, None, Some(error), None)
                        }
                    };
                    (outcome, status, error, body, webhook.failing_since, true)
                }
                ClaimedTarget::Email(to) => {
                    let result = match &self.mailer {
                        Some(mailer) => mailer.send(to, &delivery.payload).await,
                        None => MailResult::Transient("email is not set up here".to_owned()),
                    };
                    let (outcome, error) = match result {
                        MailResult::Sent => (Outcome::Success, None),
                        MailResult::Transient(e) => (Outcome::Retry { not_before: None }, Some(e)),
                        MailResult::Permanent(e) => (Outcome::Permanent, Some(e)),
                    };
                    (outcome, None, error, None, None, false)
                }
            };
        let finished = self.clock.now();
        let verdict =
            self.policy
                .decide(number, outcome, finished, failing_since, endpoint, jitter);
        let record = AttemptRecord {
            id: AttemptId::generate(),
            number,
            at: started,
            duration_ms: u32::try_from((finished - started).num_milliseconds().max(0))
                .unwrap_or(u32::MAX),
            status_code,
            error,
            response_body,
        };
        let recorded = self
            .queue
            .record_attempt(delivery, &record, verdict)
            .await?;
        Ok(Attempted {
            verdict,
            status_code,
            recorded,
        })
    }
}

mod notices;
mod opt_outs;
mod verification;

#[cfg(test)]
mod tests;

/// The language an invitation's message is written in (its invitee's; the sender's while no
/// account has proven its contact: docs/api.md, "Languages"), and the zone of its times (its
/// event's), as far as they are known.
fn reader(
    change: &RecordedChange,
    people: &HashMap<UserId, Reachable>,
    events: &HashMap<EventId, Event>,
) -> (Locale, TimeZone) {
    let ChangeSubject::Invitation(details) = change.change.subject() else {
        return (Locale::default(), TimeZone::UTC);
    };
    let reader = if details.invitation.held_contact().is_some() {
        details.sender.id
    } else {
        details.invitee.id
    };
    (
        people.get(&reader).map(|p| p.locale).unwrap_or_default(),
        events
            .get(&details.invitation.event_id())
            .map_or(TimeZone::UTC, |e| e.details.time_zone()),
    )
}

/// The iCalendar of an invitation email: `METHOD:REQUEST` of the event as it stands, the invitee
/// named by the address the email goes to, not answered yet, with the link to answer; or
/// `METHOD:CANCEL` when it tells of a cancellation. `None` for an event no longer here (deleted)
/// or without a start time.
fn invitation_calendar(
    email: &InvitationEmail,
    change: &RecordedChange,
    events: &HashMap<EventId, Event>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<String> {
    let ChangeSubject::Invitation(details) = change.change.subject() else {
        return None;
    };
    let event = events.get(&details.invitation.event_id())?;
    let (method, partstat) = if email.cancelled {
        (Method::Cancel, PartStat::Declined)
    } else {
        (Method::Request, PartStat::NeedsAction)
    };
    let entry = Entry {
        event,
        title: email.event_title.as_str(),
        attendee: Some(Attendee {
            address: format!("mailto:{}", email.to.as_str()),
            name: email
                .invitee_name
                .as_ref()
                .map_or_else(String::new, |n| n.as_str().to_owned()),
            partstat,
        }),
        url: email.link.clone(),
    };
    calendars::render(method, &[entry], now)
}
