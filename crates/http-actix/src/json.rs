//! The JSON envelope of single-object answers and the timestamp format every body uses: RFC 3339
//! in UTC with whole seconds and a `Z` (docs/api.md, "Conventions").

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

/// `{"data": ...}`: the envelope of every single-object answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Data<T> {
    /// The object.
    pub data: T,
}

impl<T> Data<T> {
    /// Wraps `data`.
    pub fn new(data: T) -> Self {
        Self { data }
    }
}

/// Serializes a timestamp as `2026-11-26T10:00:00Z`.
pub(crate) fn timestamp<S: Serializer>(
    at: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut buffer = [0_u8; 20];
    match rfc3339_seconds(at, &mut buffer) {
        Some(text) => serializer.serialize_str(text),
        None => serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Secs, true)),
    }
}

/// `at` as chrono's `to_rfc3339_opts(SecondsFormat::Secs, true)` writes it, into `buffer` rather
/// than a new `String`: a list of 50 invitations has up to 200 timestamps, and formatting them
/// through chrono was 4 % of a read request's instructions (docs/performance.md, "Profile of a read
/// request"). `None` for what this short form cannot write alike (years outside 0–9999, a leap
/// second): chrono does those.
fn rfc3339_seconds<'b>(at: &DateTime<Utc>, buffer: &'b mut [u8; 20]) -> Option<&'b str> {
    use chrono::{Datelike, Timelike};
    // One conversion to the calendar (each of `DateTime`'s own accessors makes its own).
    let (date, time) = (at.naive_utc().date(), at.naive_utc().time());
    let year = u32::try_from(date.year())
        .ok()
        .filter(|year| *year <= 9999)?;
    if time.nanosecond() >= 1_000_000_000 {
        return None;
    }
    let seconds = time.num_seconds_from_midnight();
    let digits = |buffer: &mut [u8; 20], at: usize, value: u32, width: usize| {
        let mut value = value;
        for i in (0..width).rev() {
            // `value % 10` is a digit: the cast cannot truncate.
            buffer[at + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    *buffer = *b"0000-00-00T00:00:00Z";
    digits(buffer, 0, year, 4);
    digits(buffer, 5, date.month(), 2);
    digits(buffer, 8, date.day(), 2);
    digits(buffer, 11, seconds / 3600, 2);
    digits(buffer, 14, seconds / 60 % 60, 2);
    digits(buffer, 17, seconds % 60, 2);
    std::str::from_utf8(buffer).ok()
}

/// Serializes an optional timestamp as [`timestamp`] does, or `null`.
pub(crate) fn optional_timestamp<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => timestamp(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let mut samples: Vec<DateTime<Utc>> = vec![
            Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(0, 3, 4, 5, 6, 7).unwrap(),
            Utc.with_ymd_and_hms(-1, 3, 4, 5, 6, 7).unwrap(),
            // A leap second, and fractions, which the short form drops as chrono does.
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
            Utc.timestamp_opt(1_764_151_200, 999_999_999).unwrap(),
        ];
        // Every day of a leap year and a century, at a moving time of day.
        let mut at = Utc.with_ymd_and_hms(1999, 12, 30, 0, 0, 0).unwrap();
        for i in 0..800 {
            samples.push(at);
            at += chrono::Duration::seconds(86_400 + 3_661 * (i % 24));
        }
        for at in samples {
            let mut json = Vec::new();
            timestamp(&at, &mut serde_json::Serializer::new(&mut json)).unwrap();
            let chrono =
                serde_json::to_string(&at.to_rfc3339_opts(SecondsFormat::Secs, true)).unwrap();
            assert_eq!(String::from_utf8(json).unwrap(), chrono, "{at:?}");
        }
    }
}
