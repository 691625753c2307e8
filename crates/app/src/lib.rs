//! The `event-manager` binary's library half: configuration, telemetry and wiring. The end-to-end
//! tests start the service through [`startup::Application`] exactly as `main` does.

pub mod body_deadline;
pub mod config;
pub mod deliveries;
pub mod health;
pub mod maintenance;
pub mod messages;
pub mod startup;
pub mod telemetry;
