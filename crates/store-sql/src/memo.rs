//! What this process read from the database a moment ago, so that a busy client's requests do
//! not each read the same few rows again: its session, the memberships that decide what it
//! may see, and the names of the organisations and places it is shown (see `names`).
//!
//! The database stays the only record: an entry is trusted for [`MEMO_FOR`] after it was read.
//! A change made through this process forgets the entries it touches as soon as it commits;
//! another server process on the same database sees it within [`MEMO_FOR`].

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a value read from the database is trusted without reading it again.
pub const MEMO_FOR: Duration = Duration::from_secs(2);

/// Entries kept at most. When it is reached the stale ones go, at most once per [`MEMO_FOR`];
/// if that is not enough, or was done a moment ago, all of them go.
const MAX_ENTRIES: usize = 10_000;

pub struct Memo<K, V> {
    state: Mutex<State<K, V>>,
}

struct State<K, V> {
    entries: HashMap<K, Remembered<V>>,
    /// Advanced by every forgetting, so that a lookup that read the database before a change
    /// cannot bring back what the change forgot.
    generation: u64,
    pruned_at: Option<Instant>,
}

struct Remembered<V> {
    value: V,
    read_at: Instant,
}

/// What a lookup saw before it read the database, and when; see [`Memo::remember`].
#[derive(Clone, Copy)]
pub struct Lookup {
    generation: u64,
    began: Instant,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                generation: 0,
                pruned_at: None,
            }),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// The value read less than [`MEMO_FOR`] ago, if `usable` accepts it; otherwise the mark to
    /// pass to [`Self::remember`] after reading the database.
    pub fn recall<Q>(&self, key: &Q, usable: impl FnOnce(&V) -> bool) -> Result<V, Lookup>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let state = self.lock();
        match state.entries.get(key) {
            Some(r) if r.read_at.elapsed() < MEMO_FOR && usable(&r.value) => Ok(r.value.clone()),
            _ => Err(Lookup {
                generation: state.generation,
                began: Instant::now(),
            }),
        }
    }

    /// Keeps what the database said, unless something was forgotten since `lookup`. The entry
    /// counts as read when the lookup began, so that a slow lookup is not trusted for longer.
    pub fn remember(&self, lookup: Lookup, key: K, value: V) {
        let mut state = self.lock();
        if state.generation != lookup.generation {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES {
            if state.pruned_at.is_none_or(|at| at.elapsed() >= MEMO_FOR) {
                state.entries.retain(|_, r| r.read_at.elapsed() < MEMO_FOR);
                state.pruned_at = Some(Instant::now());
            }
            if state.entries.len() >= MAX_ENTRIES {
                state.entries.clear();
            }
        }
        state.entries.insert(
            key,
            Remembered {
                value,
                read_at: lookup.began,
            },
        );
    }

    /// The value read less than [`MEMO_FOR`] ago, if `usable` accepts it; otherwise what `read`
    /// finds in the database (awaited only then), kept unless it found nothing or something
    /// was forgotten meanwhile.
    pub async fn recall_or_read<E>(
        &self,
        key: K,
        usable: impl FnOnce(&V) -> bool,
        read: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, E> {
        let lookup = match self.recall(&key, usable) {
            Ok(value) => return Ok(Some(value)),
            Err(lookup) => lookup,
        };
        let found = read.await?;
        if let Some(value) = &found {
            self.remember(lookup, key, value.clone());
        }
        Ok(found)
    }

    /// Forgets every value `keep` refuses. Call it after the transaction that changed them
    /// committed.
    pub fn forget(&self, keep: impl Fn(&V) -> bool) {
        let mut state = self.lock();
        state.generation += 1;
        state.entries.retain(|_, r| keep(&r.value));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        // The state is whole after any panic (each change is one assignment or one map call).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values are (owner, still usable).
    type Value = (u32, bool);

    #[test]
    fn recalls_what_it_remembered_until_forgotten_or_unusable() {
        let memo: Memo<String, Value> = Memo::default();
        let cases: [(&str, Value, Option<u32>, bool); 4] = [
            ("kept", (1, true), None, true),
            ("unusable", (1, false), None, false),
            ("own owner forgotten", (1, true), Some(1), false),
            ("other owner forgotten", (1, true), Some(2), true),
        ];
        for (name, value, forgotten, recalled) in cases {
            let lookup = memo.recall(name, |v| v.1).expect_err(name);
            memo.remember(lookup, name.into(), value);
            if let Some(owner) = forgotten {
                memo.forget(|v| v.0 != owner);
            }
            assert_eq!(memo.recall(name, |v| v.1).is_ok(), recalled, "{name}");
        }
    }

    /// A lookup is not kept when something was forgotten after it began, nor when it began
    /// longer ago than the memo trusts.
    #[test]
    fn stale_lookups_are_not_kept() {
        let long_ago = Instant::now()
            .checked_sub(MEMO_FOR)
            .expect("the monotonic clock started more than two seconds ago");
        type MakeStale = fn(&Memo<&'static str, Value>, Lookup, Instant) -> Lookup;
        let cases: [(&str, MakeStale); 2] = [
            ("forgotten after it began", |memo, lookup, _| {
                memo.forget(|_| true);
                lookup
            }),
            ("began a memo time ago", |_, lookup, long_ago| Lookup {
                began: long_ago,
                ..lookup
            }),
        ];
        for (name, stale) in cases {
            let memo = Memo::default();
            let lookup = stale(
                &memo,
                memo.recall("key", |_| true).expect_err(name),
                long_ago,
            );
            memo.remember(lookup, "key", (1, true));
            assert!(memo.recall("key", |_| true).is_err(), "{name}");
        }
    }
}
