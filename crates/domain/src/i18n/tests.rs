use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, TimeZone as _, Utc};
use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

use super::*;

/// Each message of `locale`'s file with the variables it uses; panics on a syntax error.
fn messages(locale: Locale) -> BTreeMap<String, BTreeSet<String>> {
    let resource = fluent_syntax::parser::parse(source(locale)).unwrap_or_else(|(_, errors)| {
        panic!("locales/{}.ftl does not parse: {errors:?}", locale.as_str())
    });
    let mut found = BTreeMap::new();
    for entry in resource.body {
        match entry {
            Entry::Message(message) => {
                let mut variables = BTreeSet::new();
                if let Some(pattern) = &message.value {
                    pattern_variables(pattern, &mut variables);
                }
                assert!(
                    found
                        .insert(message.id.name.to_owned(), variables)
                        .is_none(),
                    "{} is defined twice in {}.ftl",
                    message.id.name,
                    locale.as_str()
                );
            }
            Entry::Junk { content } => panic!("junk in {}.ftl: {content}", locale.as_str()),
            _ => {}
        }
    }
    found
}

fn pattern_variables(pattern: &Pattern<&str>, into: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_variables(expression, into);
        }
    }
}

fn expression_variables(expression: &Expression<&str>, into: &mut BTreeSet<String>) {
    match expression {
        Expression::Inline(inline) => inline_variables(inline, into),
        Expression::Select { selector, variants } => {
            inline_variables(selector, into);
            for variant in variants {
                pattern_variables(&variant.value, into);
            }
        }
    }
}

fn inline_variables(inline: &InlineExpression<&str>, into: &mut BTreeSet<String>) {
    match inline {
        InlineExpression::VariableReference { id } => {
            into.insert(id.name.to_owned());
        }
        InlineExpression::Placeable { expression } => expression_variables(expression, into),
        _ => {}
    }
}

/// The messages in which each language picks among the placeables the service gives.
const CHOICES: [(&str, &[&str]); 1] = [("date", &["weekday", "gregorian", "solar-hijri"])];

#[test]
fn every_locale_has_every_message_with_the_same_placeables() {
    let english = messages(Locale::En);
    assert!(english.len() > 50, "the English file is read");
    for locale in LOCALES {
        let other = messages(locale);
        let missing: Vec<_> = english
            .keys()
            .filter(|id| !other.contains_key(*id))
            .collect();
        let extra: Vec<_> = other
            .keys()
            .filter(|id| !english.contains_key(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "{}.ftl lacks {missing:?}",
            locale.as_str()
        );
        assert!(
            extra.is_empty(),
            "{}.ftl has extra {extra:?}",
            locale.as_str()
        );
        for (id, variables) in &english {
            if let Some(allowed) = CHOICES.iter().find_map(|(c, a)| (c == id).then_some(a)) {
                assert!(
                    other[id].iter().all(|v| allowed.contains(&v.as_str())),
                    "{id} uses a placeable the service does not give in {}.ftl",
                    locale.as_str()
                );
                continue;
            }
            assert_eq!(
                &other[id],
                variables,
                "{id} has other placeables in {}.ftl",
                locale.as_str()
            );
        }
    }
}

#[test]
fn every_message_formats_without_errors() {
    for locale in LOCALES {
        let bundle = &BUNDLES.iter().find(|(l, _)| *l == locale).unwrap().1;
        for (id, variables) in messages(locale) {
            let pattern = bundle.get_message(&id).unwrap().value().unwrap();
            let mut args = FluentArgs::new();
            for variable in &variables {
                args.set(variable.as_str(), 1);
            }
            let mut errors = Vec::new();
            let _ = bundle.format_pattern(pattern, Some(&args), &mut errors);
            assert!(errors.is_empty(), "{id} in {}: {errors:?}", locale.as_str());
        }
    }
}

#[test]
fn known_dates_in_the_solar_hijri_calendar() {
    // (Gregorian, Solar Hijri): Nowruz of several years, the day this was written, a leap day.
    let table = [
        ((2026, 3, 21), (1405, 1, 1)),
        ((2026, 12, 6), (1405, 9, 15)),
        ((2025, 3, 21), (1404, 1, 1)),
        ((2025, 3, 20), (1403, 12, 30)),
        ((2024, 3, 20), (1403, 1, 1)),
        ((2027, 1, 15), (1405, 10, 25)),
        ((1979, 2, 11), (1357, 11, 22)),
        ((2000, 2, 29), (1378, 12, 10)),
    ];
    for ((y, m, d), expected) in table {
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(solar_hijri(date), Some(expected), "{date}");
    }
}

#[test]
fn persian_dates_have_the_gregorian_date_beside_and_persian_digits() {
    let tehran: chrono_tz::Tz = "Asia/Tehran".parse().unwrap();
    // 2026-12-06 14:30 UTC is 18:00 in Tehran.
    let at = Utc.with_ymd_and_hms(2026, 12, 6, 14, 30, 0).unwrap();
    assert_eq!(
        describe(Locale::Fa, tehran, at),
        "یکشنبه ۱۵ آذر ۱۴۰۵ (۶ دسامبر ۲۰۲۶)، ساعت ۱۸:۰۰ (Asia/Tehran)"
    );
    assert_eq!(
        describe(Locale::En, tehran, at),
        "Sunday 6 December 2026, 18:00 (Asia/Tehran)"
    );
    let ends = at + chrono::Duration::hours(3);
    assert_eq!(
        describe_span(Locale::En, tehran, at, Some(ends)),
        "Sunday 6 December 2026, 18:00 – 21:00 (Asia/Tehran)"
    );
    assert_eq!(
        describe_span(Locale::Fa, tehran, at, Some(ends)),
        "یکشنبه ۱۵ آذر ۱۴۰۵ (۶ دسامبر ۲۰۲۶)، ساعت ۱۸:۰۰ تا ۲۱:۰۰ (Asia/Tehran)"
    );
    let next_day = at + chrono::Duration::days(1);
    assert!(describe_span(Locale::Fa, tehran, at, Some(next_day)).contains("دوشنبه ۱۶ آذر"));
}

#[test]
fn numbers_take_the_locale_digits_and_plural_forms() {
    let left = |locale, count: u32| text(locale, "time-left-hours", &[("count", count.into())]);
    assert_eq!(left(Locale::En, 1), "in 1 hour");
    assert_eq!(left(Locale::En, 12), "in 12 hours");
    assert_eq!(left(Locale::Fa, 12), "۱۲ ساعت دیگر");
    // Text is put in as it is: a link or a code keeps its digits.
    assert_eq!(
        text(Locale::Fa, "invite-id", &[("id", "abc-123".into())]),
        "شناسهٔ دعوت: abc-123"
    );
    assert_eq!(digits(Locale::Fa, "2026-12-06"), "۲۰۲۶-۱۲-۰۶");
    assert_eq!(digits(Locale::En, "2026"), "2026");
}

#[test]
fn an_unknown_message_is_its_id() {
    assert_eq!(text(Locale::Fa, "no-such-message", &[]), "no-such-message");
}
