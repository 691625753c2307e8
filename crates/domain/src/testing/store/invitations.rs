//! The fake's invitations.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;

#[async_trait]
impl InvitationRepository for Store {
    async fn invitee_states(
        &self,
        event: EventId,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<HashMap<UserId, InviteeState>, PortError> {
        let state = self.lock();
        let now = stored(now);
        let mut states: HashMap<UserId, InviteeState> = HashMap::new();
        for user in users.iter().filter(|u| state.is_member(event, **u)) {
            states.entry(*user).or_default().is_member = true;
        }
        // The latest invitation is the one with the greatest (time-ordered) id.
        let mut latest: HashMap<UserId, &Invitation> = HashMap::new();
        for invitation in state
            .invitations
            .iter()
            .filter(|i| i.event_id() == event && users.contains(&i.invitee_id()))
        {
            let entry = latest.entry(invitation.invitee_id()).or_insert(invitation);
            if invitation.id() > entry.id() {
                *entry = invitation;
            }
        }
        for (user, invitation) in latest {
            states.entry(user).or_default().latest = Some(invitation.status_at(now));
        }
        Ok(states)
    }

    async fn create_batch(
        &self,
        invitations: &[Invitation],
    ) -> Result<Vec<BatchOutcome>, PortError> {
        let mut state = self.lock();
        // All or nothing, like the adapter's transaction: check every row before storing any.
        if let Some(refusal) = invitations.iter().find_map(|i| state.refusal(i)) {
            return Err(refusal);
        }
        // Expire-on-write: the invitees' dead pending invitations stop holding the unique index.
        let mut changes = Vec::new();
        if let Some(at) = invitations.iter().map(|i| stored(i.created_at())).min() {
            let mut expired = Vec::new();
            for row in state.invitations.iter_mut().filter(|row| {
                row.status().expires()
                    && row.status_at(at) == InvitationStatus::Expired
                    && invitations.iter().any(|i| {
                        i.event_id() == row.event_id() && i.invitee_id() == row.invitee_id()
                    })
            }) {
                *row = row.clone().as_of(at);
                expired.push(row.clone());
            }
            for row in expired {
                let details = state.details(&row);
                changes.push(Change::invitation_expired(details, at).expect("expired above"));
            }
        }
        let outcomes = invitations
            .iter()
            .map(|new| {
                let taken =
                    new.status().is_live() && state.has_pending(new.event_id(), new.invitee_id());
                if taken {
                    BatchOutcome::AlreadyPending
                } else {
                    let row = stored_invitation(new);
                    state.invitations.push(row.clone());
                    let details = state.details(&row);
                    changes.push(Change::invitation_created(details).expect("pending"));
                    BatchOutcome::Created
                }
            })
            .collect();
        state.record(changes);
        // A contact proven since the batch was planned: what it held for it goes to the owner, as
        // the proof would have given it (the adapter does the same in the batch's transaction).
        let mut held: Vec<&str> = invitations
            .iter()
            .filter_map(|i| i.held_contact())
            .collect();
        held.sort_unstable();
        held.dedup();
        for contact in held {
            if let Some(owner) = state.owner_of(contact) {
                let at = invitations.iter().map(|i| stored(i.created_at())).min();
                state.release(owner, contact, at.expect("a held invitation"));
            }
        }
        Ok(outcomes)
    }

    async fn find(&self, id: InvitationId) -> Result<Option<InvitationDetails>, PortError> {
        let state = self.lock();
        Ok(state
            .invitations
            .iter()
            .find(|i| i.id() == id)
            .map(|i| state.details(i)))
    }

    async fn save_answer(
        &self,
        invitation: &Invitation,
        expected: Option<Version>,
    ) -> Result<AnswerStored, SaveInvitationError> {
        let (answer, at) = match invitation.state() {
            InvitationState::Answered { answer, at } => (answer, at),
            InvitationState::Tentative { at } => (Answer::Tentative, at),
            _ => {
                return Err(PortError::unexpected(
                    "save_answer called with an unanswered invitation",
                )
                .into())
            }
        };
        let at = stored(at);
        let mut guard = self.lock();
        let state = &mut *guard;
        // Conditional on the row still being open and live at the answer's time (a waitlisted
        // invitee may still say no).
        let row = state
            .invitations
            .iter()
            .find(|i| i.id() == invitation.id())
            .ok_or(SaveInvitationError::NotFound)?;
        let status = row.status_at(at);
        let withdrawing = answer == Answer::Reject && status == InvitationStatus::Waitlisted;
        let event_id = row.event_id();
        let stored_event = state.event(event_id).ok_or(SaveInvitationError::NotFound)?;
        let rules = stored_event.details.rules();
        // As the database adapter: a final state first, then answers closed, then an expiry.
        if !withdrawing {
            match NotPending::of(status) {
                Some(NotPending::Expired) | None => {}
                Some(reason) => return Err(SaveInvitationError::NotPending(reason)),
            }
        }
        rules.check_open(at).map_err(SaveInvitationError::Refused)?;
        if !withdrawing {
            if let Some(reason) = NotPending::of(status) {
                return Err(SaveInvitationError::NotPending(reason));
            }
        }
        if !row.version().satisfies(expected) {
            return Err(SaveInvitationError::Stale);
        }
        let admission = match answer {
            Answer::Accept => Some(
                rules
                    .admit(stored_event.seats_taken, invitation.guests(), at)
                    .map_err(SaveInvitationError::Refused)?,
            ),
            Answer::Tentative | Answer::Reject => {
                rules
                    .check_guests(invitation.guests())
                    .map_err(SaveInvitationError::Refused)?;
                None
            }
        };
        let row = state
            .invitations
            .iter_mut()
            .find(|i| i.id() == invitation.id())
            .expect("found above");
        let mut record = row.to_stored();
        record.state = match (answer, admission) {
            (Answer::Tentative, _) => InvitationState::Tentative { at },
            (Answer::Accept, Some(crate::rsvp::Admission::Waitlisted)) => {
                InvitationState::Waitlisted { at }
            }
            (answer, _) => InvitationState::Answered { answer, at },
        };
        record.guests = invitation.guests();
        record.comment = invitation.comment().cloned();
        record.version = record.version.next();
        *row = Invitation::restore(record);
        let (invitee, id) = (row.invitee_id(), row.id());
        let waitlisted = admission == Some(crate::rsvp::Admission::Waitlisted);
        state.record_invitation(id, Change::invitation_answered);
        if admission == Some(crate::rsvp::Admission::Seated) && !state.is_member(event_id, invitee)
        {
            let change = state.seat(event_id, invitee, invitation.guests(), at);
            state.record(vec![change]);
        }
        if waitlisted {
            let row = state
                .invitations
                .iter()
                .find(|i| i.id() == id)
                .expect("stored");
            let position = state.waitlist_position(row).unwrap_or(1);
            return Ok(AnswerStored::Waitlisted { position });
        }
        Ok(AnswerStored::AsAnswered)
    }

    async fn save_cancel(&self, invitation: &Invitation) -> Result<(), SaveInvitationError> {
        let Some(at) = invitation.cancelled_at().map(stored) else {
            return Err(
                PortError::unexpected("save_cancel called with an uncancelled invitation").into(),
            );
        };
        let mut state = self.lock();
        let row = if invitation.cancelled_from() == Some(InvitationStatus::Waitlisted) {
            // Withdrawn only while it still waits.
            let row = state
                .invitations
                .iter_mut()
                .find(|i| i.id() == invitation.id())
                .ok_or(SaveInvitationError::NotFound)?;
            if row.status() != InvitationStatus::Waitlisted {
                return Err(SaveInvitationError::NotPending(
                    NotPending::of(row.status_at(at)).unwrap_or(NotPending::Answered),
                ));
            }
            row
        } else {
            state.pending_row(invitation.id(), at)?
        };
        let mut record = row.to_stored();
        record.state = InvitationState::Cancelled { at };
        record.version = record.version.next();
        *row = Invitation::restore(record);
        state.record_invitation(invitation.id(), Change::invitation_cancelled);
        Ok(())
    }

    async fn save_resend(
        &self,
        invitation: &Invitation,
        previous: Option<DateTime<Utc>>,
    ) -> Result<(), SaveInvitationError> {
        let Some(at) = invitation.last_resent_at().map(stored) else {
            return Err(PortError::unexpected(
                "save_resend called with an invitation never resent",
            )
            .into());
        };
        let mut state = self.lock();
        let row = state.pending_row(invitation.id(), at)?;
        if row.last_resent_at() != previous.map(stored) {
            return match row.last_resent_at() {
                Some(last_resent_at) => {
                    Err(SaveInvitationError::ResentMeanwhile { last_resent_at })
                }
                None => Err(PortError::unexpected("a resend was forgotten").into()),
            };
        }
        let mut record = row.to_stored();
        record.last_resent_at = Some(at);
        record.expires_at = invitation.expires_at().map(stored);
        record.version = record.version.next();
        *row = Invitation::restore(record);
        state.record_invitation(invitation.id(), Change::invitation_resent);
        Ok(())
    }

    async fn expire_due(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let now = stored(now);
        let mut state = self.lock();
        let mut due: Vec<&mut Invitation> = state
            .invitations
            .iter_mut()
            .filter(|i| i.status().expires() && i.status_at(now) == InvitationStatus::Expired)
            .collect();
        due.sort_by_key(|i| i.expires_at());
        let mut expired = Vec::new();
        for row in due.into_iter().take(batch as usize) {
            let mut record = row.clone().as_of(now).to_stored();
            record.version = record.version.next();
            *row = Invitation::restore(record);
            expired.push(row.clone());
        }
        let changes = expired
            .iter()
            .map(|row| Change::invitation_expired(state.details(row), now).expect("expired"))
            .collect();
        state.record(changes);
        Ok(expired.len() as u64)
    }

    async fn list_sent(
        &self,
        sender: UserId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let state = self.lock();
        // What the sender sent to events they still manage.
        let managed: Vec<EventId> = state
            .members
            .iter()
            .filter(|(_, m)| m.user.id == sender && m.role.manages_invitations())
            .map(|(event, _)| *event)
            // And to deleted events they managed when they went.
            .chain(state.deleted.iter().filter_map(|(event, (_, managers))| {
                managers
                    .iter()
                    .any(|(user, _)| *user == sender)
                    .then_some(*event)
            }))
            .collect();
        Ok(state.list(
            |i| i.sender_id() == sender && managed.contains(&i.event_id()),
            filter,
            page,
            now,
        ))
    }

    async fn list_received(
        &self,
        invitee: UserId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        Ok(self.lock().list(
            |i| i.invitee_id() == invitee && i.held_contact().is_none(),
            filter,
            page,
            now,
        ))
    }

    async fn list_for_event(
        &self,
        event: EventId,
        filter: InvitationFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<InvitationDetails>, PortError> {
        let filter = InvitationFilter {
            event_id: None,
            ..filter
        };
        Ok(self
            .lock()
            .list(|i| i.event_id() == event, filter, page, now))
    }
}
