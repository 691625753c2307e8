//! Keyset pagination, newest first, over time-ordered (UUIDv7) ids.

use uuid::Uuid;

/// How many items one page holds: [`Limit::MIN`] to [`Limit::MAX`], [`Limit::DEFAULT`] by default
/// (docs/api.md, "Pagination").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(u32);

/// A page size out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a page holds {min} to {max} items", min = Limit::MIN, max = Limit::MAX)]
pub struct LimitError;

impl Limit {
    /// The fewest items a page may hold.
    pub const MIN: u32 = 1;
    /// The most items a page may hold.
    pub const MAX: u32 = 100;
    /// The page size when none is asked for.
    pub const DEFAULT: u32 = 50;

    /// Checks that `n` is within [`Limit::MIN`]..=[`Limit::MAX`].
    ///
    /// # Errors
    /// [`LimitError`] otherwise.
    pub fn new(n: i64) -> Result<Self, LimitError> {
        match u32::try_from(n) {
            Ok(n @ Self::MIN..=Self::MAX) => Ok(Self(n)),
            _ => Err(LimitError),
        }
    }

    /// The page size.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

/// One page's request: its size and where the previous page ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size.
    pub limit: Limit,
    /// The id of the last item of the previous page; items older than it follow.
    pub after: Option<Uuid>,
}

/// A page of items, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts (the id of this page's last item), or `None` on the last page.
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first: the extra row, if any, only
    /// tells that a next page exists.
    pub fn from_overfetched(mut rows: Vec<T>, limit: Limit, key: impl Fn(&T) -> Uuid) -> Self {
        let limit = limit.get() as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let next_after = if has_more { rows.last().map(key) } else { None };
        Self {
            items: rows,
            next_after,
        }
    }

    /// Converts the items, keeping the position.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_1_to_100_are_refused() {
        assert_eq!(Limit::new(0), Err(LimitError));
        assert_eq!(Limit::new(-1), Err(LimitError));
        assert_eq!(Limit::new(101), Err(LimitError));
        assert_eq!(Limit::new(i64::MAX), Err(LimitError));
        assert_eq!(Limit::new(100).unwrap().get(), 100);
        assert_eq!(Limit::default().get(), 50);
    }

    #[test]
    fn an_overfetched_row_means_a_next_page_starting_after_the_last_kept_item() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_overfetched(ids.clone(), Limit::new(2).unwrap(), |id| *id);
        assert_eq!(page.items, ids[..2]);
        assert_eq!(page.next_after, Some(ids[1]));

        let last = Page::from_overfetched(ids.clone(), Limit::new(3).unwrap(), |id| *id);
        assert_eq!(last.next_after, None);
    }
}
