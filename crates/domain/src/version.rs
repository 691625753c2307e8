//! The version of a stored row that clients may change under a precondition (docs/api.md,
//! "Conditional requests").

use std::fmt;

/// How many times an event's details or an invitation were changed since it was stored, plus one.
/// Every stored change of the row increments it, so a write conditional on the version read
/// refuses to apply when another write landed in between (a lost update).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u64);

impl Version {
    /// The version of a row as first stored.
    pub const FIRST: Self = Self(1);

    /// The version as stored.
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The version after one more change.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// Whether a write conditional on `expected` may apply to a row at this version: always when
    /// there is no condition.
    pub fn satisfies(self, expected: Option<Self>) -> bool {
        expected.is_none_or(|expected| expected == self)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_without_a_condition_applies_to_any_version_and_with_one_to_that_version_only() {
        let stored = Version::FIRST.next();
        assert_eq!(stored.get(), 2);
        assert!(stored.satisfies(None));
        assert!(stored.satisfies(Some(Version::new(2))));
        assert!(!stored.satisfies(Some(Version::FIRST)));
    }
}
