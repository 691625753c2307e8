//! Event notices to the invitees outside the app (docs/api.md, "Change notices"): who can be reached,
//! and by which channel, for each change.

use super::*;

impl DeliveryService {
    /// The same service messaging an event's followers when an edit moves it (docs/api.md,
    /// "Change notices"), by the proven contacts `contacts` finds: email when they have one (with
    /// the updated calendar entry), else a text.
    #[must_use]
    pub fn with_notices(mut self, contacts: Arc<dyn Contacts>) -> Self {
        self.contacts = Some(contacts);
        self
    }

    /// How to reach the followers of the moving edits among `changes`, and the language of the
    /// parties of the invitations they message, read in one round trip.
    pub(super) async fn reachable(
        &self,
        changes: &[crate::changes::AddressedChange],
    ) -> Result<HashMap<UserId, Reachable>, PortError> {
        let Some(contacts) = &self.contacts else {
            return Ok(HashMap::new());
        };
        let followers = changes
            .iter()
            .filter(|delivery| delivery.recorded.change.notifies())
            .flat_map(|delivery| delivery.recipients.iter().copied());
        // The parties of the invitations messaged, for the language of their messages.
        let parties = changes.iter().filter_map(|delivery| {
            let (details, _) = MessageOccasion::of(&delivery.recorded)?;
            Some([details.invitee.id, details.sender.id])
        });
        let users: Vec<UserId> = followers
            .chain(parties.flatten())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(contacts
            .reachable(&users)
            .await?
            .into_iter()
            .map(|person| (person.id, person))
            .collect())
    }

    /// The messages of a moving edit or of a deletion: one per follower with a proven contact
    /// (for a deletion, its members but the owner who deleted it: the invitees whose invitations
    /// it cancelled are told by their invitation's own message).
    pub(super) fn notices(
        &self,
        delivery: &crate::changes::AddressedChange,
        people: &HashMap<UserId, Reachable>,
        events: &HashMap<EventId, Event>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<NewDelivery> {
        let change = &delivery.recorded;
        if !change.change.notifies() {
            return Vec::new();
        }
        let (notice, event, method, partstat, skipped) = match change.change.subject() {
            ChangeSubject::Event(event) => (
                EventNotice::of(event),
                Some(event),
                Method::Request,
                PartStat::NeedsAction,
                Vec::new(),
            ),
            ChangeSubject::DeletedEvent(deleted) => {
                let event = events.get(&deleted.id);
                let mut skipped = change.change.also_told().to_vec();
                skipped.extend(event.map(|e| e.owner.id));
                (
                    EventNotice::cancelled(deleted.title.as_str(), event),
                    event,
                    Method::Cancel,
                    PartStat::Declined,
                    skipped,
                )
            }
            ChangeSubject::Invitation(_) | ChangeSubject::Member { .. } => return Vec::new(),
        };
        let mut made = Vec::new();
        for person in delivery
            .recipients
            .iter()
            .filter(|id| !skipped.contains(id))
            .filter_map(|id| people.get(id))
        {
            let target = match (&person.email, &self.mailer, &person.mobile, self.sms_region) {
                (Some(email), Some(mailer), _, _) => {
                    let calendar = event.and_then(|event| {
                        let entry = Entry {
                            event,
                            title: event.details.title().as_str(),
                            attendee: Some(Attendee {
                                address: format!("mailto:{}", email.as_str()),
                                name: person.name.as_str().to_owned(),
                                partstat,
                            }),
                            url: None,
                        };
                        calendars::render(method, &[entry], now)
                    });
                    Some((
                        DeliveryTarget::Email(email.clone()),
                        mailer.compose_notice(
                            &notice.subject(person.locale),
                            &notice.email_text(person.locale, person.name.as_str()),
                            calendar.as_deref().unwrap_or_default(),
                        ),
                    ))
                }
                (_, _, Some(mobile), Some(_)) => notice.sms(person.locale).map(|text| {
                    (
                        DeliveryTarget::Sms(mobile.clone()),
                        text.as_str().to_owned(),
                    )
                }),
                _ => None,
            };
            if let Some((target, payload)) = target {
                made.push(NewDelivery {
                    id: DeliveryId::generate(),
                    change_id: change.id,
                    kind: change.change.kind(),
                    target,
                    payload,
                    created_at: now,
                    link: None,
                });
            }
        }
        made
    }
}
