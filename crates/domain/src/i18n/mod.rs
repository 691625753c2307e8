//! The words people read, in their language (docs/api.md, "Languages"): every sentence the
//! service writes (API messages, emails, texts, the answer page) comes from the Project Fluent
//! files in `crates/domain/locales/`, one per locale, which a translator edits without touching
//! Rust. Dates are written here: in `fa`, the Solar Hijri date beside the Gregorian one, with
//! Persian digits, month and weekday names from the same files.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

pub use crate::accounts::Locale;

mod dates;

pub use dates::{describe, describe_span, solar_hijri};

/// Every locale, in the order the API lists them.
pub const LOCALES: [Locale; 2] = [Locale::En, Locale::Fa];

/// The Fluent source of `locale`, as a translator edits it.
pub fn source(locale: Locale) -> &'static str {
    match locale {
        Locale::En => include_str!("../../locales/en.ftl"),
        Locale::Fa => include_str!("../../locales/fa.ftl"),
    }
}

/// A value given to a message's placeable: text as it is (names, titles, links, codes), or a
/// number, written in the locale's digits and chosen among plural forms.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// Put in as it is.
    Text(String),
    /// Written in the locale's digits.
    Number(f64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Self {
        Self::Text(text.clone())
    }
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn from(n: $t) -> Self {
                Self::Number(n as f64)
            }
        }
    )*};
}
number_args!(u8, u16, u32, u64, usize, i32, i64);

/// The sentence `id` of `locale` with its placeables filled from `args`; the English one when
/// `locale` lacks it (a test keeps both complete), and the id itself when neither has it.
pub fn text(locale: Locale, id: &str, args: &[(&str, Arg)]) -> String {
    [locale, Locale::En]
        .into_iter()
        .filter_map(|wanted| BUNDLES.iter().find(|(l, _)| *l == wanted))
        .find_map(|(_, bundle)| format(bundle, id, args))
        .unwrap_or_else(|| id.to_owned())
}

/// `text` with ASCII digits written in the locale's digits (`۰۱۲۳۴۵۶۷۸۹` in `fa`).
pub fn digits(locale: Locale, text: &str) -> String {
    match locale {
        Locale::En => text.to_owned(),
        Locale::Fa => text
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => char::from_u32(0x06F0 + d).unwrap_or(c),
                None => c,
            })
            .collect(),
    }
}

/// The text direction of `locale`, for HTML's `dir`.
pub const fn direction(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "ltr",
        Locale::Fa => "rtl",
    }
}

type Bundle = FluentBundle<FluentResource>;

static BUNDLES: LazyLock<Vec<(Locale, Bundle)>> = LazyLock::new(|| {
    LOCALES
        .iter()
        .map(|&locale| (locale, bundle(locale)))
        .collect()
});

fn bundle(locale: Locale) -> Bundle {
    let tag = locale
        .as_str()
        .parse()
        .unwrap_or_else(|_| unic_langid::LanguageIdentifier::default());
    let mut bundle = FluentBundle::new_concurrent(vec![tag]);
    // No bidi isolation marks around placeables: they would reach JSON, texts and subjects as
    // invisible characters (the page isolates names with `<bdi>` itself).
    bundle.set_use_isolating(false);
    if locale == Locale::Fa {
        bundle.set_formatter(Some(persian_numbers));
    }
    // Unparsable entries are skipped rather than refused: the tests refuse them.
    let resource = FluentResource::try_new(source(locale).to_owned()).unwrap_or_else(|(r, _)| r);
    let _ = bundle.add_resource(resource);
    bundle
}

fn persian_numbers(
    value: &FluentValue<'_>,
    _: &intl_memoizer::concurrent::IntlLangMemoizer,
) -> Option<String> {
    match value {
        FluentValue::Number(n) => Some(digits(Locale::Fa, &n.as_string())),
        _ => None,
    }
}

fn format(bundle: &Bundle, id: &str, args: &[(&str, Arg)]) -> Option<String> {
    let pattern = bundle.get_message(id)?.value()?;
    let mut fluent = FluentArgs::new();
    for (name, arg) in args {
        match arg {
            Arg::Text(text) => fluent.set(*name, text.as_str()),
            Arg::Number(n) => fluent.set(*name, *n),
        }
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent), &mut errors);
    Some(text.into_owned())
}

#[cfg(test)]
mod tests;
