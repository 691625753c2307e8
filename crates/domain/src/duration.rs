//! The grammar of every duration setting and of per-request durations: a whole number of seconds,
//! minutes, hours or days (`90s`, `15m`, `36h`, `7d`); see docs/operations.md.

use chrono::Duration;

/// Reads a whole number of seconds, minutes, hours or days (`90s`, `15m`, `36h`, `7d`): digits
/// followed by one unit, nothing else (no sign, space, fraction or other unit). The grammar of
/// every duration setting (docs/operations.md).
pub fn whole_duration(raw: &str) -> Option<Duration> {
    // The unit is the last character, whatever its width: splitting at a byte would panic
    // inside a multi-byte one.
    let unit_at = raw.char_indices().next_back().map_or(0, |(at, _)| at);
    let (digits, unit) = raw.split_at(unit_at);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count: i64 = digits.parse().ok()?;
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    Duration::try_seconds(count.checked_mul(seconds_per)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_durations_read_one_unit_after_digits_and_nothing_else() {
        assert_eq!(whole_duration("90s"), Some(Duration::seconds(90)));
        assert_eq!(whole_duration("15m"), Some(Duration::minutes(15)));
        assert_eq!(whole_duration("36h"), Some(Duration::hours(36)));
        assert_eq!(whole_duration("7d"), Some(Duration::days(7)));
        for bad in [
            "", "s", "7", "-7d", "+7d", "7 d", "1.5h", "7w", "7dd", "９d", "\u{80}", "7\u{80}",
            "7é", "é", "7روز",
        ] {
            assert_eq!(whole_duration(bad), None, "{bad:?}");
        }
        assert_eq!(whole_duration("99999999999999999999d"), None);
    }
}
