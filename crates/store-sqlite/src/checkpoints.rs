//! Checkpoints on a thread of their own.
//!
//! In WAL mode a commit appends the pages it changed to the log, and a checkpoint copies them
//! into the database file. SQLite runs one itself inside the commit that finds the log past
//! 1,000 pages, so the writer waited for it: it was a seventh of a bulk import's time, spent
//! while the other core sat idle. Here the writing connection only notes, after each commit,
//! that the log has grown past that size, and a thread with a connection of its own copies
//! the pages meanwhile. A checkpoint changes nothing about what a commit made durable: the log
//! was synced before the commit returned.
//!
//! The log goes back to its start only when a write begins after a checkpoint that copied all
//! of it, and a checkpoint running beside a steady stream of commits rarely does: a 1M load
//! left an 847 MB log, and each start of the server read all of it. So once the log passes
//! [`CATCH_UP_PAGES`] the writer itself, between two writes, copies what the thread has not.

use std::ffi::{c_char, c_int, c_void};
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use lienhoan_store_sql::engine::EngineError;
use rusqlite::{Connection, ffi};

use crate::connections::open;
use crate::values::other;

/// The log's size, in pages, past which a checkpoint is due: SQLite's own default.
const LOG_PAGES: c_int = 1_000;

/// The log's size past which the writer finishes a checkpoint itself, so that the next write
/// can start the log again from its beginning.
const CATCH_UP_PAGES: c_int = 4 * LOG_PAGES;

/// How long a checkpoint waits for a lock (another process's checkpoint) before it leaves the
/// pages for the next one.
const PATIENCE: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Due,
    Closing,
}

struct Backlog {
    state: Mutex<State>,
    wake: Condvar,
    /// The log's size after the writer's last commit.
    pages: AtomicI32,
}

impl Backlog {
    fn set(&self, state: State) {
        let mut current = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if *current != State::Closing {
            *current = state;
        }
        self.wake.notify_one();
    }

    /// Waits until a checkpoint is due; `false` once the writer has closed.
    fn wait(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while *state == State::Idle {
            state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        let due = *state == State::Due;
        if due {
            *state = State::Idle;
        }
        due
    }
}

/// The checkpointing thread. Must outlive the writing connection it was started for, whose
/// commits call back into it.
pub struct Checkpoints {
    backlog: Arc<Backlog>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpoints {
    /// Starts checkpointing the file at `path` for `writer`, which stops checkpointing itself.
    pub fn start(path: &Path, writer: &Connection) -> Result<Self, EngineError> {
        let backlog = Arc::new(Backlog {
            state: Mutex::new(State::Idle),
            wake: Condvar::new(),
            pages: AtomicI32::new(0),
        });
        let conn = open(path, PATIENCE)?;
        let thread = {
            let backlog = backlog.clone();
            std::thread::Builder::new()
                .name("sqlite-checkpoints".into())
                .spawn(move || {
                    while backlog.wait() {
                        checkpoint(&conn);
                    }
                })
                .map_err(other)?
        };
        // SAFETY: the hook's data is the backlog, which `self` keeps alive; the caller keeps
        // `self` alive as long as `writer` (see the type's documentation). Setting a log hook
        // replaces SQLite's own automatic checkpoints, which use the same hook.
        unsafe {
            ffi::sqlite3_wal_hook(
                writer.handle(),
                Some(log_grown),
                Arc::as_ptr(&backlog) as *mut c_void,
            );
        }
        Ok(Self {
            backlog,
            thread: Some(thread),
        })
    }

    /// Called by the writer between two writes: finishes the checkpoint if the log is long.
    pub fn catch_up(&self, writer: &Connection) {
        if self.backlog.pages.load(Ordering::Relaxed) >= CATCH_UP_PAGES {
            checkpoint(writer);
        }
    }
}

/// Copies the log's pages into the database file, as far as readers allow. A checkpoint that
/// fails (another process holds its lock) leaves the pages in the log for the next one:
/// nothing is lost.
fn checkpoint(conn: &Connection) {
    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
}

/// Called by SQLite after each commit of the writing connection, with the log's size.
unsafe extern "C" fn log_grown(
    backlog: *mut c_void,
    _: *mut ffi::sqlite3,
    _: *const c_char,
    pages: c_int,
) -> c_int {
    // SAFETY: the pointer registered in `Checkpoints::start`, alive while the writer is.
    let backlog = unsafe { &*(backlog as *const Backlog) };
    backlog.pages.store(pages, Ordering::Relaxed);
    if pages >= LOG_PAGES {
        backlog.set(State::Due);
    }
    ffi::SQLITE_OK
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.backlog.set(State::Closing);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Checkpoints;
    use crate::connections::open;
    use std::time::{Duration, Instant};

    /// The writer never checkpoints now, so only the thread can bring the pages of a large
    /// commit into the database file.
    #[test]
    fn a_large_commit_reaches_the_database_file_without_the_writer() {
        let dir = std::env::temp_dir().join(format!("lienhoan-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.db");
        let writer = open(&path, Duration::ZERO).unwrap();
        let checkpoints = Checkpoints::start(&path, &writer).unwrap();
        writer
            .execute_batch(
                "CREATE TABLE t (n INTEGER PRIMARY KEY, filler BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO t SELECT i, randomblob(4000) FROM n;",
            )
            .unwrap();
        let started = Instant::now();
        let size = || std::fs::metadata(&path).unwrap().len();
        while size() < 8_000_000 && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            size() >= 8_000_000,
            "the database file holds {} bytes: the commit's pages stayed in the log",
            size()
        );
        drop(writer);
        drop(checkpoints);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
