//! The API, one module per area of docs/api.md. Each area holds its request and response types,
//! its handlers, its `routes` and its part of the OpenAPI document; a handler parses its input into
//! domain values, calls one service operation and turns the result into a response body, and
//! errors become [`ApiError`](crate::ApiError) through `?`.

pub mod accounts;
pub mod calendars;
pub mod changes;
pub mod events;
pub mod health;
pub mod invitations;
pub mod links;
pub mod webhooks;

/// How the event's RSVP rules refusing an answer or a party reach clients (docs/api.md,
/// "Capacity and the waitlist").
pub(crate) fn rsvp_refused(refused: domain::rsvp::RsvpRefused) -> crate::error::ApiError {
    use crate::error::ApiError;
    use domain::rsvp::RsvpRefused;
    match refused {
        RsvpRefused::Closed(at) => ApiError::RsvpClosed(at),
        RsvpRefused::Full => ApiError::EventFull,
        RsvpRefused::TooManyGuests { max } => ApiError::invalid(
            "guests",
            match max {
                0 => crate::t!("guests-none-allowed"),
                max => crate::t!("guests-at-most", max = max),
            },
        ),
    }
}
