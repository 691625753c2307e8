//! Dates and times as a reader of each locale writes them (docs/api.md, "Languages"): in `en`,
//! `Friday 15 January 2027, 18:00 (Asia/Tehran)`; in `fa`, the Solar Hijri date first, the
//! Gregorian one beside it, Persian digits: `جمعه ۲۵ دی ۱۴۰۵ (۱۵ ژانویه ۲۰۲۷)، ساعت ۱۸:۰۰ (Asia/Tehran)`.
//! The words and their order come from the locale's Fluent file.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use icu_calendar::cal::Persian;
use icu_calendar::Date;

use super::{digits, text, Arg, Locale};

/// The Solar Hijri (Persian) date of a Gregorian date: `(year, month, day)`, months 1
/// (Farvardin) to 12 (Esfand); `None` outside the years the calendar library reads.
pub fn solar_hijri(date: NaiveDate) -> Option<(i32, u8, u8)> {
    let month = u8::try_from(date.month()).ok()?;
    let day = u8::try_from(date.day()).ok()?;
    let iso = Date::try_new_iso(date.year(), month, day).ok()?;
    let persian = iso.to_calendar(Persian);
    Some((
        persian.year().extended_year(),
        persian.month().ordinal,
        persian.day_of_month().0,
    ))
}

/// The date of `at` in `zone`, in words: `Friday 15 January 2027`, or in `fa` the Solar Hijri
/// date with the Gregorian one beside it (the locale's `date` message chooses).
fn day(locale: Locale, at: DateTime<Tz>) -> String {
    let date = at.date_naive();
    let written = |day: u32, month: String, year: i32| {
        [
            ("day", Arg::from(day)),
            ("month", month.into()),
            ("year", Arg::Text(digits(locale, &year.to_string()))),
        ]
    };
    let gregorian = text(
        locale,
        "date-gregorian",
        &written(
            date.day(),
            text(locale, &format!("month-{}", date.month()), &[]),
            date.year(),
        ),
    );
    let solar = solar_hijri(date).map_or_else(String::new, |(year, month, day)| {
        text(
            locale,
            "date-solar-hijri",
            &written(
                day.into(),
                text(locale, &format!("month-solar-{month}"), &[]),
                year,
            ),
        )
    });
    let weekday = format!("weekday-{}", date.weekday().number_from_monday());
    text(
        locale,
        "date",
        &[
            ("weekday", text(locale, &weekday, &[]).into()),
            ("gregorian", gregorian.into()),
            ("solar-hijri", solar.into()),
        ],
    )
}

fn clock(locale: Locale, at: DateTime<Tz>) -> Arg {
    Arg::Text(digits(locale, &at.format("%H:%M").to_string()))
}

/// An instant as people in `zone` read it: `Friday 15 January 2027, 18:00 (Asia/Tehran)`.
pub fn describe(locale: Locale, zone: Tz, at: DateTime<Utc>) -> String {
    let at = at.with_timezone(&zone);
    text(
        locale,
        "date-time",
        &[
            ("date", day(locale, at).into()),
            ("time", clock(locale, at)),
            ("zone", zone.name().into()),
        ],
    )
}

/// From `starts` to `ends` as one line in `zone`: `Friday 15 January 2027, 18:00 – 22:00
/// (Asia/Tehran)`, the end's date written out only when it is another day.
pub fn describe_span(
    locale: Locale,
    zone: Tz,
    starts: DateTime<Utc>,
    ends: Option<DateTime<Utc>>,
) -> String {
    let Some(ends) = ends else {
        return describe(locale, zone, starts);
    };
    let (starts, ends) = (starts.with_timezone(&zone), ends.with_timezone(&zone));
    if starts.date_naive() == ends.date_naive() {
        return text(
            locale,
            "date-span-one-day",
            &[
                ("date", day(locale, starts).into()),
                ("start", clock(locale, starts)),
                ("end", clock(locale, ends)),
                ("zone", zone.name().into()),
            ],
        );
    }
    text(
        locale,
        "date-span",
        &[
            ("start-date", day(locale, starts).into()),
            ("start", clock(locale, starts)),
            ("end-date", day(locale, ends).into()),
            ("end", clock(locale, ends)),
            ("zone", zone.name().into()),
        ],
    )
}
