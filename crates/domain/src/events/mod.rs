//! Events, their members and roles, and who may do what to them (R1; docs/api.md, "Events").

use chrono::{DateTime, Utc};

use crate::accounts::{Locale, UserSummary};
use crate::reminders::Reminders;
use crate::rsvp::{RsvpRules, RsvpSettings, RsvpSettingsError};
use crate::{EventId, MemberId, Text, UserId, Version};

pub mod ports;
mod service;

pub use service::*;

/// An event as its members see it (docs/api.md, "Objects").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The event's id.
    pub id: EventId,
    /// What the owner and co-hosts wrote about it.
    pub details: EventDetails,
    /// The user who made it; the one member with the role [`Role::Owner`].
    pub owner: UserSummary,
    /// How many members it has, the owner included.
    pub members_count: u64,
    /// The seats its members other than the owner, and their guests, take (docs/api.md, "Capacity
    /// and the waitlist"); shown to its hosts only.
    pub seats_taken: u32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Counts the edits of its details: what a conditional edit or delete is checked against
    /// (docs/api.md, "Conditional requests").
    pub version: Version,
}

/// The fields an owner writes: a title and optional description, place and times, and how it takes
/// answers (its [`RsvpSettings`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventDetails {
    title: Text,
    description: Option<Text>,
    location: Option<Text>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    rsvp: RsvpSettings,
    time_zone: TimeZone,
    reminders: Reminders,
}

/// The time zone an event happens in (docs/api.md, "Calendars"): an IANA name such as
/// `Asia/Tehran`, `UTC` by default. Times are stored in UTC; the zone says how people there read
/// them (the page, calendars).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

/// Why a time zone is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an IANA time zone name")]
pub struct TimeZoneError;

impl TimeZone {
    /// UTC.
    pub const UTC: Self = Self(chrono_tz::Tz::UTC);

    /// Reads an IANA name as the time zone database spells it (`Asia/Tehran`, `UTC`).
    ///
    /// # Errors
    /// [`TimeZoneError`] for anything else.
    pub fn parse(name: &str) -> Result<Self, TimeZoneError> {
        name.trim()
            .parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| TimeZoneError)
    }

    /// Every name [`TimeZone::parse`] reads, in the time zone database's order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// Its IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone, for reading times in it.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// `Friday 15 January 2027, 18:00 (Asia/Tehran)`: an instant as people in the zone read it,
    /// in `locale` ([`crate::i18n::describe`]).
    pub fn describe(self, locale: Locale, at: DateTime<Utc>) -> String {
        crate::i18n::describe(locale, self.0, at)
    }

    /// From `starts` to `ends` as one line in the zone, in `locale`: `Friday 15 January 2027,
    /// 18:00 – 22:00 (Asia/Tehran)`, the end's date written out only when it is another day.
    pub fn describe_span(
        self,
        locale: Locale,
        starts: DateTime<Utc>,
        ends: Option<DateTime<Utc>>,
    ) -> String {
        crate::i18n::describe_span(locale, self.0, starts, ends)
    }
}

/// Why event details are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDetailsError {
    /// The event would end before it starts.
    #[error("the event ends before it starts")]
    EndsBeforeStart,
    /// The RSVP deadline would come after the start.
    #[error("the RSVP deadline is after the event starts")]
    DeadlineAfterStart,
    /// A capacity or guest limit out of range.
    #[error(transparent)]
    Settings(#[from] RsvpSettingsError),
    /// The capacity would be below the seats already taken.
    #[error("{seats_taken} seats are taken already")]
    CapacityBelowSeatsTaken {
        /// The seats taken.
        seats_taken: u32,
    },
}

impl EventDetails {
    /// The most characters of a title.
    pub const TITLE_MAX: usize = 200;
    /// The most characters of a description.
    pub const DESCRIPTION_MAX: usize = 5000;
    /// The most characters of a location.
    pub const LOCATION_MAX: usize = 300;

    /// Assembles the details, checking that the event does not end before it starts.
    ///
    /// # Errors
    /// [`EventDetailsError::EndsBeforeStart`] when both times are given and `ends_at < starts_at`.
    pub fn new(
        title: Text,
        description: Option<Text>,
        location: Option<Text>,
        starts_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
    ) -> Result<Self, EventDetailsError> {
        if let (Some(start), Some(end)) = (starts_at, ends_at) {
            if end < start {
                return Err(EventDetailsError::EndsBeforeStart);
            }
        }
        Ok(Self {
            title,
            description,
            location,
            starts_at,
            ends_at,
            rsvp: RsvpSettings::default(),
            time_zone: TimeZone::UTC,
            reminders: Reminders::default(),
        })
    }

    /// Whether these details moved the event from `before`: another time, time zone or place
    /// (docs/api.md, "Change notices").
    pub fn moved_from(&self, before: &EventDetails) -> bool {
        self.starts_at != before.starts_at
            || self.ends_at != before.ends_at
            || self.location != before.location
            || self.time_zone != before.time_zone
    }

    /// The same details in `time_zone`.
    #[must_use]
    pub fn with_time_zone(mut self, time_zone: TimeZone) -> Self {
        self.time_zone = time_zone;
        self
    }

    /// The same details with `reminders` (docs/api.md, "Reminders").
    #[must_use]
    pub fn with_reminders(mut self, reminders: Reminders) -> Self {
        self.reminders = reminders;
        self
    }

    /// Its reminder rules.
    pub fn reminders(&self) -> &Reminders {
        &self.reminders
    }

    /// The time zone it happens in.
    pub fn time_zone(&self) -> TimeZone {
        self.time_zone
    }

    /// When it happens, as one line in its time zone ([`TimeZone::describe_span`]); `None`
    /// without a start.
    pub fn when(&self, locale: Locale) -> Option<String> {
        self.starts_at
            .map(|starts| self.time_zone.describe_span(locale, starts, self.ends_at))
    }

    /// The same details taking answers by `rsvp`.
    ///
    /// # Errors
    /// [`EventDetailsError::DeadlineAfterStart`] when the RSVP deadline is after the start.
    pub fn with_rsvp(mut self, rsvp: RsvpSettings) -> Result<Self, EventDetailsError> {
        if let (Some(deadline), Some(start)) = (rsvp.rsvp_deadline(), self.starts_at) {
            if deadline > start {
                return Err(EventDetailsError::DeadlineAfterStart);
            }
        }
        self.rsvp = rsvp;
        Ok(self)
    }

    /// Whether these details may be stored with `seats_taken` seats taken: a capacity may not go
    /// below them (the seated keep their seats).
    ///
    /// # Errors
    /// [`EventDetailsError::CapacityBelowSeatsTaken`].
    pub fn check_seats(&self, seats_taken: u32) -> Result<(), EventDetailsError> {
        match self.rsvp.capacity() {
            Some(capacity) if capacity < seats_taken => {
                Err(EventDetailsError::CapacityBelowSeatsTaken { seats_taken })
            }
            _ => Ok(()),
        }
    }

    /// How it takes answers.
    pub fn rsvp(&self) -> &RsvpSettings {
        &self.rsvp
    }

    /// The rules answers to it follow: its settings, closing at the RSVP deadline or the start.
    pub fn rules(&self) -> RsvpRules {
        self.rsvp.rules(self.starts_at)
    }

    /// The title.
    pub fn title(&self) -> &Text {
        &self.title
    }
    /// The description.
    pub fn description(&self) -> Option<&Text> {
        self.description.as_ref()
    }
    /// The location.
    pub fn location(&self) -> Option<&Text> {
        self.location.as_ref()
    }
    /// When it starts.
    pub fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.starts_at
    }
    /// When it ends.
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.ends_at
    }
}

/// A partial edit of an event's details (`PATCH /api/v1/events/{event_id}`): a field left `None`
/// stays as it is; for the optional fields, `Some(None)` clears the field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventPatch {
    /// A new title.
    pub title: Option<Text>,
    /// A new description, or `Some(None)` to remove it.
    pub description: Option<Option<Text>>,
    /// A new location, or `Some(None)` to remove it.
    pub location: Option<Option<Text>>,
    /// A new start, or `Some(None)` to remove it.
    pub starts_at: Option<Option<DateTime<Utc>>>,
    /// A new end, or `Some(None)` to remove it.
    pub ends_at: Option<Option<DateTime<Utc>>>,
    /// A new capacity, or `Some(None)` for unlimited.
    pub capacity: Option<Option<u32>>,
    /// A new guest limit.
    pub max_guests: Option<u8>,
    /// Whether a full event keeps a waitlist.
    pub waitlist: Option<bool>,
    /// A new RSVP deadline, or `Some(None)` to remove it.
    pub rsvp_deadline: Option<Option<DateTime<Utc>>>,
    /// A new time zone.
    pub time_zone: Option<TimeZone>,
    /// New reminder rules (an empty set removes them all).
    pub reminders: Option<Reminders>,
    /// Whether to leave the followers unmessaged even if the edit moves the event
    /// (`"notify": "none"`).
    pub quiet: bool,
}

impl EventPatch {
    /// Whether the patch touches a field that moves the event (its times, time zone or place),
    /// and is not quiet: it may message the event's followers (docs/api.md, "Change notices").
    pub fn may_notify(&self) -> bool {
        !self.quiet
            && (self.starts_at.is_some()
                || self.ends_at.is_some()
                || self.location.is_some()
                || self.time_zone.is_some())
    }

    /// Whether the patch may message people: it may notify the followers
    /// ([`EventPatch::may_notify`]), or it sends `starts_at` or `reminders`, which may make
    /// reminders due again (a moved start, a new rule), quiet or not (docs/api.md, "Reminders").
    /// What the per-user limit on such edits counts.
    pub fn may_message(&self) -> bool {
        self.may_notify() || self.starts_at.is_some() || self.reminders.is_some()
    }

    /// Whether the patch changes nothing (`quiet` alone changes nothing).
    pub fn is_empty(&self) -> bool {
        *self
            == Self {
                quiet: self.quiet,
                ..Self::default()
            }
    }

    /// `details` with this patch applied. The rules of [`EventDetails::new`] and
    /// [`EventDetails::with_rsvp`] are checked on the result, so a patch that moves only
    /// `starts_at` past the stored `ends_at`, or before the stored RSVP deadline, is refused.
    ///
    /// # Errors
    /// [`EventDetailsError::EndsBeforeStart`] when the result would end before it starts,
    /// [`EventDetailsError::DeadlineAfterStart`] when its RSVP deadline would follow its start,
    /// [`EventDetailsError::Settings`] for a capacity or guest limit out of range.
    pub fn apply(&self, details: &EventDetails) -> Result<EventDetails, EventDetailsError> {
        fn merged<T: Clone>(change: &Option<T>, current: T) -> T {
            change.clone().unwrap_or(current)
        }
        let rsvp = &details.rsvp;
        let settings = RsvpSettings::new(
            merged(&self.capacity, rsvp.capacity()),
            merged(&self.max_guests, rsvp.max_guests()),
            merged(&self.waitlist, rsvp.waitlist()),
            merged(&self.rsvp_deadline, rsvp.rsvp_deadline()),
        )?;
        EventDetails::new(
            merged(&self.title, details.title.clone()),
            merged(&self.description, details.description.clone()),
            merged(&self.location, details.location.clone()),
            merged(&self.starts_at, details.starts_at),
            merged(&self.ends_at, details.ends_at),
        )?
        .with_rsvp(settings)
        .map(|next| {
            next.with_time_zone(merged(&self.time_zone, details.time_zone))
                .with_reminders(merged(&self.reminders, details.reminders.clone()))
        })
    }
}

/// A member's role in an event. Every event has exactly one owner; co-hosts share the owner's
/// work on invitations and details; members take part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Made the event; the only one who deletes it and changes roles.
    Owner,
    /// Named by the owner: sends the event's invitations, edits it, removes members.
    Cohost,
    /// Joined by accepting an invitation.
    Member,
}

impl Role {
    /// The wire and storage spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Cohost => "cohost",
            Self::Member => "member",
        }
    }

    /// Reads the storage spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "cohost" => Some(Self::Cohost),
            "member" => Some(Self::Member),
            _ => None,
        }
    }

    /// Whether members of this role send the event's invitations (R1), and manage and see all of
    /// them: the owner and co-hosts.
    pub const fn manages_invitations(self) -> bool {
        matches!(self, Self::Owner | Self::Cohost)
    }

    /// Whether members of this role edit the event's details: the owner and co-hosts.
    pub const fn edits_event(self) -> bool {
        matches!(self, Self::Owner | Self::Cohost)
    }

    /// Whether members of this role delete the event: the owner only.
    pub const fn deletes_event(self) -> bool {
        matches!(self, Self::Owner)
    }

    /// Whether members of this role change other members' roles: the owner only.
    pub const fn changes_roles(self) -> bool {
        matches!(self, Self::Owner)
    }

    /// Whether members of this role remove other members (which ones: [`Membership::may_remove`]):
    /// the owner and co-hosts.
    pub const fn removes_members(self) -> bool {
        matches!(self, Self::Owner | Self::Cohost)
    }
}

/// One member of an event, as listed to the other members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The membership's id (its time order is the join order).
    pub id: MemberId,
    /// Who.
    pub user: UserSummary,
    /// Owner, co-host or member.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// The guests they bring (docs/api.md, "Capacity and the waitlist").
    pub guests: u8,
}

/// An event as one of its members sees it, with that member's role: what every decision about
/// what the member may do to the event starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The event.
    pub event: Event,
    /// The member.
    pub user: UserId,
    /// The member's role in it.
    pub role: Role,
}

/// Why a member may not change another member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoleChangeRefused {
    /// Only the owner changes roles.
    #[error("only the event's owner changes roles")]
    NotOwner,
    /// The owner's role is the owner's for good, and nobody is made owner.
    #[error("the owner's role cannot change")]
    OwnerRoleIsFixed,
}

/// Why a member may not remove another member (or leave).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RemovalRefused {
    /// The owner removes anyone else, a co-host removes members, anyone removes themself; nothing
    /// else.
    #[error("this member may not remove that one")]
    NotAllowed,
    /// The owner cannot leave their own event.
    #[error("the owner cannot leave the event")]
    OwnerCannotLeave,
}

impl Membership {
    /// The member's role, with the member, as the adapters check it still holds when they write.
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user,
            role: self.role,
        }
    }

    /// Whether this member sends the event's invitations: the owner and co-hosts (R1).
    pub fn may_invite(&self) -> bool {
        self.role.manages_invitations()
    }

    /// Whether this member edits the event's details: the owner and co-hosts.
    pub fn may_edit(&self) -> bool {
        self.role.edits_event()
    }

    /// Whether this member deletes the event: the owner only.
    pub fn may_delete(&self) -> bool {
        self.role.deletes_event()
    }

    /// Whether this member may give `target` the role `to`.
    ///
    /// # Errors
    /// [`RoleChangeRefused::NotOwner`] unless this member is the owner;
    /// [`RoleChangeRefused::OwnerRoleIsFixed`] when `target` is the owner or `to` is
    /// [`Role::Owner`].
    pub fn may_change_role(&self, target: &Member, to: Role) -> Result<(), RoleChangeRefused> {
        if !self.role.changes_roles() {
            return Err(RoleChangeRefused::NotOwner);
        }
        if target.role == Role::Owner || to == Role::Owner {
            return Err(RoleChangeRefused::OwnerRoleIsFixed);
        }
        Ok(())
    }

    /// Whether this member may remove `target` from the event (`target` being themself: leave).
    ///
    /// # Errors
    /// [`RemovalRefused::OwnerCannotLeave`] when the owner would leave;
    /// [`RemovalRefused::NotAllowed`] when a co-host would remove a co-host or the owner, or a
    /// member anyone but themself.
    pub fn may_remove(&self, target: &Member) -> Result<(), RemovalRefused> {
        if target.user.id == self.user {
            return match self.role {
                Role::Owner => Err(RemovalRefused::OwnerCannotLeave),
                Role::Cohost | Role::Member => Ok(()),
            };
        }
        match (self.role, target.role) {
            (Role::Owner, _) | (Role::Cohost, Role::Member) => Ok(()),
            (Role::Cohost, Role::Owner | Role::Cohost) | (Role::Member, _) => {
                Err(RemovalRefused::NotAllowed)
            }
        }
    }
}

/// A member acting on an event, with the role their permission was decided on. Adapters apply the
/// change only while the member still holds that role, so that a decision made on a role that has
/// changed since it was read is never applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Who acts.
    pub user: UserId,
    /// The role the decision was made on.
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn title() -> Text {
        Text::parse("Party", EventDetails::TITLE_MAX, false).unwrap()
    }

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
    }

    fn person(name: &str) -> UserSummary {
        UserSummary {
            id: UserId::generate(),
            name: Text::from_stored(name.into()),
        }
    }

    fn member(user: &UserSummary, role: Role) -> Member {
        Member {
            id: MemberId::generate(),
            user: user.clone(),
            role,
            joined_at: at(9),
            guests: 0,
        }
    }

    /// An event owned by `owner`, as `viewer` (holding `role`) sees it.
    fn membership(owner: &UserSummary, viewer: &UserSummary, role: Role) -> Membership {
        Membership {
            event: Event {
                id: EventId::generate(),
                details: EventDetails::new(title(), None, None, None, None).unwrap(),
                owner: owner.clone(),
                members_count: 3,
                seats_taken: 2,
                created_at: at(8),
                version: Version::FIRST,
            },
            user: viewer.id,
            role,
        }
    }

    #[test]
    fn an_event_may_not_end_before_it_starts() {
        let (start, end) = (at(18), at(17));
        assert_eq!(
            EventDetails::new(title(), None, None, Some(start), Some(end)),
            Err(EventDetailsError::EndsBeforeStart)
        );
        assert!(EventDetails::new(title(), None, None, Some(end), Some(start)).is_ok());
        assert!(EventDetails::new(title(), None, None, Some(start), Some(start)).is_ok());
        assert!(EventDetails::new(title(), None, None, None, Some(end)).is_ok());
    }

    #[test]
    fn a_patch_changes_given_fields_clears_nulled_ones_and_keeps_the_rest() {
        let place = Text::from_stored("Roof".into());
        let details = EventDetails::new(
            title(),
            Some(Text::from_stored("Drinks".into())),
            Some(place.clone()),
            Some(at(18)),
            Some(at(23)),
        )
        .unwrap();
        let patch = EventPatch {
            title: Some(Text::from_stored("Renamed".into())),
            description: Some(None),
            ends_at: Some(Some(at(22))),
            ..EventPatch::default()
        };
        let patched = patch.apply(&details).unwrap();
        assert_eq!(patched.title().as_str(), "Renamed");
        assert_eq!(patched.description(), None);
        assert_eq!(patched.location(), Some(&place));
        assert_eq!(
            (patched.starts_at(), patched.ends_at()),
            (Some(at(18)), Some(at(22)))
        );
        assert_eq!(EventPatch::default().apply(&details), Ok(details));
        assert!(EventPatch::default().is_empty() && !patch.is_empty());
    }

    #[test]
    fn a_patch_is_checked_on_the_merged_details() {
        let details = EventDetails::new(title(), None, None, Some(at(18)), Some(at(20))).unwrap();
        let late_start = EventPatch {
            starts_at: Some(Some(at(21))),
            ..EventPatch::default()
        };
        assert_eq!(
            late_start.apply(&details),
            Err(EventDetailsError::EndsBeforeStart)
        );
        let without_end = EventPatch {
            ends_at: Some(None),
            ..late_start
        };
        assert!(without_end.apply(&details).is_ok());
    }

    #[test]
    fn roles_are_spelled_owner_cohost_and_member() {
        for role in [Role::Owner, Role::Cohost, Role::Member] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::Cohost.as_str(), "cohost");
        assert_eq!(Role::parse("co-host"), None);
        assert_eq!(Role::parse("Owner"), None);
    }

    #[test]
    fn r1_the_owner_and_cohosts_send_invitations_and_members_do_not() {
        let (olivia, carl, bob) = (person("Olivia"), person("Carl"), person("Bob"));
        assert!(membership(&olivia, &olivia, Role::Owner).may_invite());
        assert!(membership(&olivia, &carl, Role::Cohost).may_invite());
        assert!(!membership(&olivia, &bob, Role::Member).may_invite());
        assert!(Role::Owner.manages_invitations() && Role::Cohost.manages_invitations());
        assert!(!Role::Member.manages_invitations());
    }

    #[test]
    fn the_owner_and_cohosts_edit_the_event_and_only_the_owner_deletes_it() {
        let (olivia, carl, bob) = (person("Olivia"), person("Carl"), person("Bob"));
        let (owner, cohost, plain) = (
            membership(&olivia, &olivia, Role::Owner),
            membership(&olivia, &carl, Role::Cohost),
            membership(&olivia, &bob, Role::Member),
        );
        assert!(owner.may_edit() && cohost.may_edit() && !plain.may_edit());
        assert!(owner.may_delete() && !cohost.may_delete() && !plain.may_delete());
    }

    #[test]
    fn only_the_owner_changes_roles_and_never_the_owners_own() {
        let (olivia, carl, bob) = (person("Olivia"), person("Carl"), person("Bob"));
        let owner = membership(&olivia, &olivia, Role::Owner);
        let (bob_member, carl_cohost) = (member(&bob, Role::Member), member(&carl, Role::Cohost));
        assert_eq!(owner.may_change_role(&bob_member, Role::Cohost), Ok(()));
        assert_eq!(owner.may_change_role(&carl_cohost, Role::Member), Ok(()));
        assert_eq!(owner.may_change_role(&bob_member, Role::Member), Ok(()));
        assert_eq!(
            owner.may_change_role(&member(&olivia, Role::Owner), Role::Member),
            Err(RoleChangeRefused::OwnerRoleIsFixed)
        );
        assert_eq!(
            owner.may_change_role(&bob_member, Role::Owner),
            Err(RoleChangeRefused::OwnerRoleIsFixed)
        );
        for (viewer, role) in [(&carl, Role::Cohost), (&bob, Role::Member)] {
            assert_eq!(
                membership(&olivia, viewer, role).may_change_role(&bob_member, Role::Cohost),
                Err(RoleChangeRefused::NotOwner)
            );
        }
    }

    #[test]
    fn the_owner_removes_anyone_else_a_cohost_members_and_anyone_themself() {
        let (olivia, carl, cleo, bob, ben) = (
            person("Olivia"),
            person("Carl"),
            person("Cleo"),
            person("Bob"),
            person("Ben"),
        );
        let owner = membership(&olivia, &olivia, Role::Owner);
        let cohost = membership(&olivia, &carl, Role::Cohost);
        let plain = membership(&olivia, &bob, Role::Member);
        let (olivia_m, carl_m, cleo_m, bob_m, ben_m) = (
            member(&olivia, Role::Owner),
            member(&carl, Role::Cohost),
            member(&cleo, Role::Cohost),
            member(&bob, Role::Member),
            member(&ben, Role::Member),
        );
        assert_eq!(owner.may_remove(&carl_m), Ok(()));
        assert_eq!(owner.may_remove(&bob_m), Ok(()));
        assert_eq!(
            owner.may_remove(&olivia_m),
            Err(RemovalRefused::OwnerCannotLeave)
        );

        assert_eq!(cohost.may_remove(&bob_m), Ok(()));
        assert_eq!(cohost.may_remove(&carl_m), Ok(()), "leaving");
        assert_eq!(cohost.may_remove(&cleo_m), Err(RemovalRefused::NotAllowed));
        assert_eq!(
            cohost.may_remove(&olivia_m),
            Err(RemovalRefused::NotAllowed)
        );

        assert_eq!(plain.may_remove(&bob_m), Ok(()), "leaving");
        for other in [&ben_m, &carl_m, &olivia_m] {
            assert_eq!(plain.may_remove(other), Err(RemovalRefused::NotAllowed));
        }
    }
}
