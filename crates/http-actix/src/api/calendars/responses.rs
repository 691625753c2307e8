//! Response bodies of the calendars area.

use serde::Serialize;
use utoipa::ToSchema;

/// A secret calendar feed (docs/api.md, "Calendars").
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CalendarFeed)]
pub struct CalendarFeedBody {
    /// `{PUBLIC_URL}/cal/{token}.ics`: subscribe to it in a calendar app (as `webcal://…` where
    /// the app asks for that). Shown once; anyone who has it sees your events.
    #[schema(example = "https://events.example.com/cal/q8Y2kR0vXc1mN7aP4sT9wLbE.ics")]
    pub url: String,
}
