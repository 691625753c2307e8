//! The fake's events, members and roles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;

#[async_trait]
impl EventRepository for Store {
    async fn create(&self, event: NewEvent) -> Result<Event, PortError> {
        let mut state = self.lock();
        if state.user(event.owner.id).is_none() {
            return Err(refused("an event of an unknown owner"));
        }
        if state.event(event.id).is_some() {
            return Err(refused("a second event with one id"));
        }
        let created_at = stored(event.created_at);
        let stored = Event {
            id: event.id,
            details: stored_details(event.details),
            owner: event.owner.clone(),
            members_count: 1,
            seats_taken: 0,
            created_at,
            version: Version::FIRST,
        };
        state.events.push(stored.clone());
        let owner = Member {
            id: MemberId::generate(),
            user: event.owner,
            role: Role::Owner,
            joined_at: created_at,
            guests: 0,
        };
        state.members.push((event.id, owner));
        Ok(stored)
    }

    async fn find_for_member(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Event>, PortError> {
        let state = self.lock();
        Ok(state
            .event(id)
            .filter(|_| state.is_member(id, viewer))
            .cloned())
    }

    async fn list_for_member(
        &self,
        member: UserId,
        page: PageRequest,
    ) -> Result<Page<Membership>, PortError> {
        let state = self.lock();
        let events = state
            .events
            .iter()
            .filter_map(|e| {
                state.member(e.id, member).map(|m| Membership {
                    event: e.clone(),
                    user: member,
                    role: m.role,
                })
            })
            .collect();
        Ok(page_of(events, page, |m| m.event.id.as_uuid()))
    }

    async fn find_rules(&self, event: EventId) -> Result<Option<RsvpRules>, PortError> {
        Ok(self.lock().event(event).map(|e| e.details.rules()))
    }

    async fn tally(
        &self,
        events: &[EventId],
        now: DateTime<Utc>,
    ) -> Result<HashMap<EventId, Tally>, PortError> {
        let state = self.lock();
        let now = stored(now);
        let mut tallies = HashMap::new();
        for &event in events {
            let Some(stored_event) = state.event(event) else {
                continue;
            };
            let mut tally = Tally {
                seats_taken: stored_event.seats_taken,
                ..Tally::default()
            };
            for invitation in state.invitations.iter().filter(|i| i.event_id() == event) {
                match invitation.status_at(now) {
                    InvitationStatus::Pending => tally.pending += 1,
                    InvitationStatus::Tentative => tally.tentative += 1,
                    InvitationStatus::Accepted => tally.accepted += 1,
                    InvitationStatus::Waitlisted => tally.waitlisted += 1,
                    InvitationStatus::Rejected => tally.rejected += 1,
                    InvitationStatus::Cancelled | InvitationStatus::Expired => {}
                }
            }
            tallies.insert(event, tally);
        }
        Ok(tallies)
    }

    async fn set_guests(
        &self,
        event: EventId,
        user: UserId,
        guests: u8,
        now: DateTime<Utc>,
    ) -> Result<Member, PartyError> {
        let now = stored(now);
        let mut state = self.lock();
        let member = state
            .member(event, user)
            .cloned()
            .ok_or(PartyError::NotMember)?;
        if member.role == Role::Owner {
            return Err(PartyError::Owner);
        }
        let stored_event = state.event(event).ok_or(PartyError::NotMember)?;
        stored_event.details.rules().change_party(
            stored_event.seats_taken,
            member.guests,
            guests,
            now,
        )?;
        let (_, row) = state
            .members
            .iter_mut()
            .find(|(e, m)| *e == event && m.user.id == user)
            .expect("found above");
        row.guests = guests;
        let changed = row.clone();
        let seats = &mut state.event_mut(event).seats_taken;
        *seats = *seats + u32::from(guests) - u32::from(member.guests);
        // The accepted invitation says what the party is now.
        if let Some(accepted) = state.invitations.iter_mut().rev().find(|i| {
            i.event_id() == event
                && i.invitee_id() == user
                && i.status() == InvitationStatus::Accepted
        }) {
            let mut record = accepted.to_stored();
            record.guests = guests;
            record.version = record.version.next();
            *accepted = Invitation::restore(record);
        }
        if guests != member.guests {
            let change = Change::member_party_changed(state.event_ref(event), changed.clone(), now);
            state.record(vec![change]);
        }
        if guests < member.guests {
            state.promote(event, now);
        }
        Ok(changed)
    }

    async fn list_members(
        &self,
        event: EventId,
        page: PageRequest,
    ) -> Result<Page<Member>, PortError> {
        let state = self.lock();
        let members = state
            .members
            .iter()
            .filter(|(e, _)| *e == event)
            .map(|(_, m)| m.clone())
            .collect();
        Ok(page_of(members, page, |m| m.id.as_uuid()))
    }

    async fn find_membership(
        &self,
        id: EventId,
        viewer: UserId,
    ) -> Result<Option<Membership>, PortError> {
        let state = self.lock();
        Ok(state.event(id).and_then(|event| {
            state.member(id, viewer).map(|member| Membership {
                event: event.clone(),
                user: viewer,
                role: member.role,
            })
        }))
    }

    async fn find_member(&self, event: EventId, user: UserId) -> Result<Option<Member>, PortError> {
        Ok(self.lock().member(event, user).cloned())
    }

    async fn change_role(
        &self,
        event: EventId,
        by: Actor,
        target: UserId,
        from: Role,
        to: Role,
    ) -> Result<Member, EventWriteError> {
        if from == Role::Owner || to == Role::Owner {
            return Err(refused("an event keeps its owner").into());
        }
        let mut state = self.lock();
        if !state.holds(event, by)
            || !state.holds(
                event,
                Actor {
                    user: target,
                    role: from,
                },
            )
        {
            return Err(EventWriteError::Stale);
        }
        let (_, member) = state
            .members
            .iter_mut()
            .find(|(e, m)| *e == event && m.user.id == target)
            .expect("held above");
        member.role = to;
        let member = member.clone();
        let change =
            Change::member_role_changed(state.event_ref(event), member.clone(), Utc::now());
        state.record(vec![change]);
        Ok(member)
    }

    async fn remove_member(
        &self,
        event: EventId,
        by: Actor,
        target: UserId,
        role: Role,
    ) -> Result<(), EventWriteError> {
        if role == Role::Owner {
            return Err(refused("an event keeps its owner").into());
        }
        let mut state = self.lock();
        if !state.holds(event, by) || !state.holds(event, Actor { user: target, role }) {
            return Err(EventWriteError::Stale);
        }
        let removed = state.member(event, target).expect("held above").clone();
        state
            .members
            .retain(|(e, m)| !(*e == event && m.user.id == target));
        let stored_event = state.event_mut(event);
        stored_event.members_count -= 1;
        stored_event.seats_taken -= crate::rsvp::party(removed.guests);
        let now = stored(Utc::now());
        let change = Change::member_removed(state.event_ref(event), removed, now);
        state.record(vec![change]);
        state.promote(event, now);
        Ok(())
    }

    async fn update(
        &self,
        event: EventId,
        by: Actor,
        patch: &EventPatch,
        expected: Option<Version>,
    ) -> Result<Result<Event, EventDetailsError>, EventWriteError> {
        let mut state = self.lock();
        if !state.holds(event, by) {
            return Err(EventWriteError::Stale);
        }
        let stored = state
            .events
            .iter_mut()
            .find(|e| e.id == event)
            .expect("a member's event exists");
        if !stored.version.satisfies(expected) {
            return Err(EventWriteError::Modified);
        }
        let seats_taken = stored.seats_taken;
        let before = stored.details.clone();
        let updated = patch
            .apply(&stored.details)
            .and_then(|details| details.check_seats(seats_taken).map(|()| details))
            .map(|details| {
                stored.details = stored_details(details);
                stored.version = stored.version.next();
                stored.clone()
            });
        if let Ok(updated) = &updated {
            let now = super::stored(Utc::now());
            // Open invitations expire when answers now close, if that is earlier.
            if let Some(closes_at) = updated.details.rules().closes_at {
                for row in state.invitations.iter_mut().filter(|i| {
                    i.event_id() == event
                        && i.status().expires()
                        && i.expires_at().is_none_or(|at| at > closes_at)
                }) {
                    let mut record = row.to_stored();
                    record.expires_at = Some(closes_at);
                    record.version = record.version.next();
                    *row = Invitation::restore(record);
                }
            }
            let moved = updated.details.moved_from(&before);
            state.record(vec![
                Change::event_updated(updated.clone(), now).notifying(moved && !patch.quiet)
            ]);
            state.promote(event, now);
        }
        Ok(updated)
    }

    async fn purge_deleted(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, PortError> {
        let mut state = self.lock();
        let gone: Vec<EventId> = state
            .deleted
            .iter()
            .filter(|(_, (at, _))| *at < before)
            .map(|(event, _)| *event)
            .take(batch as usize)
            .collect();
        for event in &gone {
            state.deleted.remove(event);
            state.events.retain(|e| e.id != *event);
            state.invitations.retain(|i| i.event_id() != *event);
            state.reminders_sent.retain(|(e, ..), _| e != event);
        }
        Ok(gone.len() as u64)
    }

    async fn delete(
        &self,
        event: EventId,
        by: Actor,
        now: DateTime<Utc>,
        expected: Option<Version>,
    ) -> Result<u64, EventWriteError> {
        let mut state = self.lock();
        if !state.holds(event, by) {
            return Err(EventWriteError::Stale);
        }
        let version = state.event(event).expect("a member's event exists").version;
        if !version.satisfies(expected) {
            return Err(EventWriteError::Modified);
        }
        // Marked deleted first, as the database does (the changes show it), then its live
        // invitations cancelled; then its members go. The event stays, for its invitations
        // (docs/api.md, "Deleting an event").
        let now = stored(now);
        let managers = state
            .members
            .iter()
            .filter(|(e, m)| *e == event && m.role.manages_invitations())
            .map(|(_, m)| (m.user.id, m.role))
            .collect();
        state.deleted.insert(event, (now, managers));
        let mut changes = Vec::new();
        let live: Vec<InvitationId> = state
            .invitations
            .iter()
            .filter(|i| i.event_id() == event && i.status_at(now).is_live())
            .map(Invitation::id)
            .collect();
        for id in &live {
            let row = state
                .invitations
                .iter_mut()
                .find(|i| i.id() == *id)
                .expect("listed above");
            let mut record = row.to_stored();
            record.state = InvitationState::Cancelled { at: now };
            record.version = record.version.next();
            *row = Invitation::restore(record);
            let row = row.clone();
            let details = state.details(&row);
            changes.push(Change::invitation_cancelled(details).expect("cancelled above"));
        }
        let invitees: Vec<UserId> = state
            .invitations
            .iter()
            .filter(|i| live.contains(&i.id()) && i.held_contact().is_none())
            .map(Invitation::invitee_id)
            .collect();
        changes.push(Change::event_deleted(state.event_ref(event), now, invitees));
        let cancelled = live.len();
        let resolved: Vec<(Change, Vec<UserId>)> = changes
            .into_iter()
            .map(|change| {
                let recipients = state.recipients(&change);
                (change, recipients)
            })
            .collect();
        state.append(resolved);
        state.members.retain(|(e, _)| *e != event);
        Ok(cancelled as u64)
    }
}
