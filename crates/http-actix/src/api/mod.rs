//! The API, one module per area of docs/api.md. Each area holds its request and response types,
//! its handlers, its `routes` and its part of the OpenAPI document; a handler parses its input into
//! domain values, calls one service operation and turns the result into a response body, and
//! errors become [`ApiError`](crate::ApiError) through `?`.

pub mod accounts;
pub mod changes;
pub mod events;
pub mod health;
pub mod invitations;
pub mod webhooks;
