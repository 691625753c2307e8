//! Identifiers: UUIDv7 newtypes, so that an event id can never be passed where a user id is meant.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered (UUIDv7) identifier.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an identifier read back from storage or from a request path.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies an event.
    EventId
);
id_type!(
    /// Identifies an invitation.
    InvitationId
);
id_type!(
    /// Identifies one membership (a user in an event); its time order is the join order.
    MemberId
);
id_type!(
    /// Identifies a webhook endpoint.
    WebhookId
);
id_type!(
    /// Identifies one delivery: a change to one webhook, or an email about it.
    DeliveryId
);
id_type!(
    /// Identifies one attempt at a delivery; its time order is the attempts' order.
    AttemptId
);
id_type!(
    /// Identifies one message to a person (a code, an invitation's text) in the outbox.
    MessageId
);
