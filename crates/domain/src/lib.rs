//! The pure core of Event Manager.
//!
//! Everything here is free of I/O. Each area has a folder of its own, with its model (value
//! objects that can only hold valid values, aggregates and their rules R1–R12, each named in a
//! test; what users see of them is in `docs/api.md`), its `ports` (the traits the outer adapters
//! implement), its service (the use cases that orchestrate them) and its tests:
//!
//! - [`accounts`]: users, passwords and bearer tokens;
//! - [`calendars`]: events as iCalendar files;
//! - [`events`]: events, their members and roles;
//! - [`invitations`]: the Invitation aggregate and the batch rule of sending them;
//! - [`changes`]: the change feed and its stream tickets;
//! - [`links`]: one-click links that show and answer an invitation from its message;
//! - [`optouts`]: stopping invitation messages, by an email's link or a text's `STOP`;
//! - [`reminders`]: an event's reminder rules and the sweeper's step that sends them;
//! - [`webhooks`]: webhooks and their deliveries (webhook calls and invitation emails);
//! - [`idempotency`]: `Idempotency-Key` requests.
//!
//! What every area shares stays at the root: ids, value objects, pagination, the
//! [`duration`] grammar, and the shared [`ports`] (`PortError`, `Clock`, `HealthCheck`,
//! `SecretSource`, `AbuseCounters`). The HTTP adapter parses raw input into the value objects,
//! calls an area's service, and maps each operation's error enum to a status.

pub mod accounts;
pub mod calendars;
pub mod changes;
pub mod duration;
pub mod events;
pub mod i18n;
pub mod idempotency;
pub mod ids;
pub mod invitations;
pub mod links;
pub mod messages;
pub mod optouts;
pub mod pagination;
pub mod ports;
pub mod reminders;
pub mod rsvp;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod values;
pub mod version;
pub mod webhooks;

pub use ids::{
    AttemptId, DeliveryId, EventId, InvitationId, MemberId, MessageId, UserId, WebhookId,
};
pub use pagination::{Limit, LimitError, Page, PageRequest};
pub use ports::PortError;
pub use values::{
    Answer, Contact, Email, EmailError, InvitationStatus, Login, Mobile, MobileError, Password,
    PasswordError, PhoneRegion, StatusFilter, Text, TextError, UnknownRegion,
};
pub use version::Version;
