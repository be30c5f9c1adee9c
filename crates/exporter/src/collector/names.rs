//! `NameTable`: per-collector memo of metric names built from kernel field names (meminfo,
//! vmstat), so a steady-state scrape neither formats names nor re-runs field filters.
//!
//! Why leak: `MetricSet::family` takes `Cow<'static, str>`, so a name that is not `'static`
//! costs one `String` (name) plus one (help) per family per scrape. /proc/meminfo and
//! /proc/vmstat list a fixed set of fields per kernel, in a fixed order, so each name is built
//! once and leaked. A cap bounds the leak if a file ever changes every scrape; past it names
//! are allocated per scrape as usual, which is correct, only slower.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Names leaked per table at most: a 6.x kernel has ~60 meminfo and ~200 vmstat fields.
const MAX_LEAKED: usize = 2048;

/// The names (and filter verdicts) of the fields of one file, by line position.
#[derive(Debug, Default)]
pub struct NameTable {
    inner: Mutex<Table>,
}

/// A locked [`NameTable`], held for one scrape.
#[derive(Debug, Default)]
pub struct Table {
    slots: Vec<Slot>,
    leaked: usize,
}

#[derive(Debug)]
struct Slot {
    key: String,
    variant: bool,
    names: Option<(Cow<'static, str>, Cow<'static, str>)>,
}

impl NameTable {
    /// Locks the table for one scrape (collections never overlap, so this never waits).
    pub fn lock(&self) -> MutexGuard<'_, Table> {
        // A panic elsewhere cannot leave a slot half-written; keep using the table.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Table {
    /// The `(name, help)` of the field `key` (with `variant`, e.g. "has a unit") seen at
    /// position `pos`, or `None` when `make` filtered it out. `make` runs only when the field
    /// at `pos` differs from last scrape's.
    pub fn get(
        &mut self,
        pos: usize,
        key: &str,
        variant: bool,
        make: impl FnOnce() -> Option<(String, String)>,
    ) -> Option<(Cow<'static, str>, Cow<'static, str>)> {
        let hit = self.slots.get(pos).is_some_and(|s| s.key == key && s.variant == variant);
        if !hit {
            let names = make().map(|(name, help)| (self.intern(name), self.intern(help)));
            let slot = Slot { key: key.to_string(), variant, names };
            if pos >= self.slots.len() {
                // Positions skipped (blank lines) get placeholders no key matches.
                self.slots.resize_with(pos + 1, || Slot {
                    key: String::new(),
                    variant,
                    names: None,
                });
            }
            self.slots[pos] = slot;
        }
        self.slots.get(pos).and_then(|s| s.names.clone())
    }

    fn intern(&mut self, s: String) -> Cow<'static, str> {
        if self.leaked >= MAX_LEAKED {
            return Cow::Owned(s);
        }
        self.leaked += 1;
        Cow::Borrowed(Box::leak(s.into_boxed_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_once_per_position_and_key() {
        let table = NameTable::default();
        let mut t = table.lock();
        let mut calls = 0;
        let mut get = |t: &mut Table, pos, key: &str| {
            t.get(pos, key, true, || {
                calls += 1;
                (key != "skip").then(|| (format!("n_{key}"), format!("h {key}")))
            })
        };
        assert_eq!(get(&mut t, 0, "a").unwrap().0, "n_a");
        assert_eq!(get(&mut t, 1, "skip"), None);
        assert_eq!(get(&mut t, 0, "a").unwrap().1, "h a");
        assert_eq!(get(&mut t, 1, "skip"), None);
        assert_eq!(get(&mut t, 0, "b").unwrap().0, "n_b");
        assert_eq!(get(&mut t, 5, "c").unwrap().0, "n_c");
        assert_eq!(get(&mut t, 5, "c").unwrap().0, "n_c");
        assert_eq!(calls, 4);
        assert!(matches!(t.get(0, "b", true, || None), Some((Cow::Borrowed(_), _))));
    }

    #[test]
    fn stops_leaking_at_the_cap() {
        let mut t = Table { leaked: MAX_LEAKED, ..Table::default() };
        let got = t.get(0, "x", false, || Some(("a".into(), "b".into())));
        assert!(matches!(got, Some((Cow::Owned(_), Cow::Owned(_)))));
    }
}
