//! The handlers, one module per area of the SPEC. Each one parses its input into domain values,
//! calls one service operation and turns the result into a response body; errors become
//! [`ApiError`](crate::ApiError) through `?`.

pub mod accounts;
pub mod events;
pub mod health;
pub mod invitations;
