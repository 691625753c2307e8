//! Migrations that upgrade a database in place, each with rows written as the versions before
//! wrote them:
//!
//! - the invitation lifecycle's (`lifecycle`);
//! - native types on PostgreSQL (`native_types`);
//! - the change feed's tables renamed (`change_tables`).

use chrono::{DateTime, NaiveDateTime, Utc};
use uuid::Uuid;

mod change_tables;
mod lifecycle;
mod native_types;

fn utc(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap()
}
