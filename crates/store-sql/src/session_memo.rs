//! The sessions this process looked up a moment ago, so that a busy client's requests do not
//! each read its session from the database.
//!
//! The database stays the only record of sessions: an entry is trusted for [`MEMO_FOR`] after
//! it was read, never past the session's own expiry. Ending sessions in this process (logout,
//! a new password, a disabled account) forgets them here at once; another server process on
//! the same database stops honouring them within [`MEMO_FOR`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lienhoan_domain::access::Actor;
use time::OffsetDateTime;
use uuid::Uuid;

/// How long a session read from the database is trusted without reading it again.
pub const MEMO_FOR: Duration = Duration::from_secs(2);

/// Entries kept at most. When it is reached the stale ones go, at most once per [`MEMO_FOR`];
/// if that is not enough, or was done a moment ago, all of them go.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct SessionMemo {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// By token hash.
    entries: HashMap<String, Remembered>,
    /// Advanced by every forgetting, so that a lookup that read the database before sessions
    /// were ended cannot bring them back.
    generation: u64,
    pruned_at: Option<Instant>,
}

struct Remembered {
    actor: Actor,
    expires_at: OffsetDateTime,
    read_at: Instant,
}

/// What a lookup saw before it read the database, and when; see [`SessionMemo::remember`].
#[derive(Clone, Copy)]
pub struct Lookup {
    generation: u64,
    began: Instant,
}

impl SessionMemo {
    /// The actor of a session read less than [`MEMO_FOR`] ago and not yet expired at `now`;
    /// otherwise the mark to pass to [`Self::remember`] after reading the database.
    pub fn recall(&self, hash: &str, now: OffsetDateTime) -> Result<Actor, Lookup> {
        let state = self.lock();
        match state.entries.get(hash) {
            Some(r) if r.read_at.elapsed() < MEMO_FOR && r.expires_at > now => Ok(r.actor.clone()),
            _ => Err(Lookup {
                generation: state.generation,
                began: Instant::now(),
            }),
        }
    }

    /// Keeps what the database said, unless sessions were forgotten since `lookup`. The entry
    /// counts as read when the lookup began, so that a slow lookup (one that waited to slide
    /// the expiry) is not trusted for longer.
    pub fn remember(&self, lookup: Lookup, hash: String, actor: Actor, expires_at: OffsetDateTime) {
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
            hash,
            Remembered {
                actor,
                expires_at,
                read_at: lookup.began,
            },
        );
    }

    /// Forgets every session of `user_id`. Call it after the transaction that ended them
    /// committed.
    pub fn forget_user(&self, user_id: Uuid) {
        let mut state = self.lock();
        state.generation += 1;
        state.entries.retain(|_, r| r.actor.user_id != user_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is whole after any panic (each change is one assignment or one map call).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lienhoan_domain::access::Role;

    fn actor(user_id: Uuid) -> Actor {
        Actor {
            user_id,
            username: "officer".into(),
            organisation_id: None,
            role: Role::Officer,
        }
    }

    #[test]
    fn recalls_what_it_remembered_until_forgotten_or_expired() {
        let now = OffsetDateTime::now_utc();
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let memo = SessionMemo::default();
        let cases: [(&str, OffsetDateTime, Option<Uuid>, bool); 4] = [
            ("kept", now + time::Duration::hours(1), None, true),
            ("expired", now - time::Duration::seconds(1), None, false),
            (
                "own user forgotten",
                now + time::Duration::hours(1),
                Some(alice),
                false,
            ),
            (
                "other user forgotten",
                now + time::Duration::hours(1),
                Some(bob),
                true,
            ),
        ];
        for (name, expires_at, forgotten, recalled) in cases {
            let lookup = memo.recall(name, now).expect_err(name);
            memo.remember(lookup, name.into(), actor(alice), expires_at);
            if let Some(user) = forgotten {
                memo.forget_user(user);
            }
            assert_eq!(memo.recall(name, now).is_ok(), recalled, "{name}");
        }
    }

    /// A lookup is not kept when sessions were forgotten after it began, nor when it began
    /// longer ago than the memo trusts.
    #[test]
    fn stale_lookups_are_not_kept() {
        let now = OffsetDateTime::now_utc();
        let long_ago = Instant::now()
            .checked_sub(MEMO_FOR)
            .expect("the monotonic clock started more than two seconds ago");
        type MakeStale = fn(&SessionMemo, Lookup, Instant) -> Lookup;
        let cases: [(&str, MakeStale); 2] = [
            ("forgotten after it began", |memo, lookup, _| {
                memo.forget_user(Uuid::now_v7());
                lookup
            }),
            ("began a memo time ago", |_, lookup, long_ago| Lookup {
                began: long_ago,
                ..lookup
            }),
        ];
        for (name, stale) in cases {
            let memo = SessionMemo::default();
            let lookup = stale(&memo, memo.recall("token", now).expect_err(name), long_ago);
            memo.remember(
                lookup,
                "token".into(),
                actor(Uuid::now_v7()),
                now + time::Duration::hours(1),
            );
            assert!(memo.recall("token", now).is_err(), "{name}");
        }
    }
}
