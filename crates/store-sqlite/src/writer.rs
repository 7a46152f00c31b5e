//! The one writing connection, and group commit.
//!
//! Writers take turns on one connection (tokio's mutex is fair). Each writer's transaction is a
//! savepoint inside a batch: one SQLite transaction that stays open while other writers are
//! queued, so that one commit, one sync of the journal to disk, ends all their writes. Every
//! commit used to write its pages to the journal and sync it on its own, and the pages most
//! writes touch (the audit chain's head, the day's counters, the ends of the indexes) were
//! written again by each.
//!
//! A writer's commit returns only once its batch's commit is on disk, so an acknowledged write
//! still survives a crash. A writer that fails, or is dropped, rolls back to its savepoint and
//! leaves the rest of the batch alone. If the batch's commit fails, every writer in it gets the
//! error, and none of their writes is kept.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lienhoan_store_sql::engine::EngineError;
use rusqlite::Connection;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::checkpoints::Checkpoints;
use crate::connections::open;
use crate::transaction::off_the_runtime;
use crate::values::{engine_error, is_busy};

/// How long a batch's first writer waits for another process (the CLI beside a running
/// server) to release SQLite's write lock before it is refused as busy.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

/// How a batch ended: committed, or the error every writer in it gets.
type Outcome = Option<Result<(), String>>;

/// The writing connection, and how many writers are waiting for their turn on it.
pub struct Writer {
    turns: Arc<Mutex<Turns>>,
    queued: AtomicUsize,
}

/// What the turn holder works on.
pub struct Turns {
    conn: Connection,
    /// Declared after the connection, so that it is dropped after it (see `Checkpoints`).
    checkpoints: Checkpoints,
    batch: Option<Batch>,
    batches: u64,
}

/// The open SQLite transaction that the writers of one group share.
struct Batch {
    id: u64,
    /// Writers that released their savepoint into it and wait for its commit.
    members: usize,
    outcome: watch::Sender<Outcome>,
}

/// Counts a writer as queued until it has its turn, or gives up waiting (a request dropped by
/// its client).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    /// Opens the writing connection to the file at `path`.
    pub fn open(path: &Path) -> Result<Arc<Self>, EngineError> {
        let conn = open(path, Duration::ZERO)?;
        // A writer's savepoint, and each statement that may fail halfway, keeps the pages it
        // changes as they were before, to roll back to: in a file of its own unless kept in
        // memory, and writing it was a fifth of a bulk import's time. Only the open
        // transaction's pages are kept, and a crash loses nothing acknowledged: the journal
        // is only for rolling back within the transaction. When the log starts again from
        // its beginning (see `checkpoints`), a file grown past the size limit by a large
        // import is cut back to it.
        conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 67108864")
            .map_err(engine_error)?;
        Ok(Arc::new(Self {
            turns: Arc::new(Mutex::new(Turns {
                checkpoints: Checkpoints::start(path, &conn)?,
                conn,
                batch: None,
                batches: 0,
            })),
            queued: AtomicUsize::new(0),
        }))
    }

    /// Waits for this writer's turn, joins the open batch or begins one, and opens the
    /// writer's savepoint.
    pub async fn turn(self: &Arc<Self>) -> Result<Turn, EngineError> {
        let guard = {
            let _queued = Queued::new(&self.queued);
            self.turns.clone().lock_owned().await
        };
        let mut turn = Turn {
            guard: Some(guard),
            writer: self.clone(),
            savepoint: false,
        };
        let turns = turn.turns();
        if turns.batch.is_none() {
            begin_immediate(&turns.conn)?;
            turns.batches += 1;
            turns.batch = Some(Batch {
                id: turns.batches,
                members: 0,
                outcome: watch::Sender::new(None),
            });
        }
        turns
            .conn
            .execute_batch("SAVEPOINT one_write")
            .map_err(engine_error)?;
        turn.savepoint = true;
        Ok(turn)
    }
}

/// Begins the batch's SQLite transaction, taking the file's write lock at once. Only the writer
/// connection is opened without patience (see `connections::open`), so only it waits here for
/// another process's lock.
fn begin_immediate(conn: &Connection) -> Result<(), EngineError> {
    // A transaction left open by a rollback that failed would make every later BEGIN fail.
    if !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK").map_err(engine_error)?;
    }
    match conn.execute_batch("BEGIN IMMEDIATE") {
        Err(e) if is_busy(&e) => off_the_runtime(|| {
            conn.busy_timeout(LOCK_PATIENCE)?;
            let begun = conn.execute_batch("BEGIN IMMEDIATE");
            conn.busy_timeout(Duration::ZERO)?;
            begun
        }),
        begun => begun,
    }
    .map_err(engine_error)
}

/// Commits the open batch, if there is one, and tells its writers how it went.
fn end_batch(turns: &mut Turns) -> Result<(), EngineError> {
    let Some(batch) = turns.batch.take() else {
        return Ok(());
    };
    let outcome = if turns.conn.is_autocommit() {
        // SQLite rolls a whole transaction back on some errors (a full disk, an I/O error).
        Err("the write was rolled back with its group by an earlier error".to_string())
    } else {
        turns
            .conn
            .execute_batch("COMMIT")
            .map_err(|e| engine_error(e).to_string())
    };
    if outcome.is_err() && !turns.conn.is_autocommit() {
        let _ = turns.conn.execute_batch("ROLLBACK");
    }
    batch.outcome.send_replace(Some(outcome.clone()));
    turns.checkpoints.catch_up(&turns.conn);
    outcome.map_err(EngineError::Other)
}

/// A writer's turn on the connection, inside its batch.
pub struct Turn {
    /// Given up when the writer has released its savepoint and waits for the batch's commit.
    guard: Option<OwnedMutexGuard<Turns>>,
    writer: Arc<Writer>,
    savepoint: bool,
}

impl Turn {
    fn turns(&mut self) -> &mut Turns {
        self.guard
            .as_mut()
            .expect("a turn holds the connection until it commits")
    }

    pub fn conn(&self) -> &Connection {
        &self
            .guard
            .as_ref()
            .expect("a turn holds the connection until it commits")
            .conn
    }

    /// Keeps this writer's changes in the batch, lets the next writer in, and returns once
    /// the batch's commit is on disk.
    pub async fn commit(mut self) -> Result<(), EngineError> {
        let turns = self.turns();
        turns
            .conn
            .execute_batch("RELEASE one_write")
            .map_err(engine_error)?;
        let batch = turns
            .batch
            .as_mut()
            .expect("a turn is taken inside a batch");
        batch.members += 1;
        let (id, mut outcome) = (batch.id, batch.outcome.subscribe());
        self.savepoint = false;
        let mut guard = self.guard.take().expect("a turn holds the connection");
        if self.writer.queued.load(Ordering::SeqCst) == 0 {
            return end_batch(&mut guard);
        }
        // The writers queued now join this batch; the last of them, finding nobody behind
        // it, ends it. Queueing again for the connection covers a writer that gave up
        // waiting: when the turn comes back here, every writer queued before has had its own.
        drop(guard);
        let again = self.writer.turns.clone();
        let ended_here = tokio::select! {
            ended = outcome.wait_for(Option::is_some) => return match ended {
                Ok(ended) => outcome_of(&ended),
                Err(_) => Err(EngineError::Other("the writing connection was closed".into())),
            },
            mut guard = again.lock_owned() => {
                let open = guard.batch.as_ref().is_some_and(|b| b.id == id);
                open.then(|| end_batch(&mut guard))
            }
        };
        ended_here.unwrap_or_else(|| outcome_of(&outcome.borrow()))
    }
}

fn outcome_of(ended: &Outcome) -> Result<(), EngineError> {
    ended.clone().unwrap_or(Ok(())).map_err(EngineError::Other)
}

/// A turn that ends without a commit rolls its writer's changes back and, if nobody is
/// waiting to join or nobody in the batch waits for it, ends the batch: an open transaction
/// holds the file's write lock.
impl Drop for Turn {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        if self.savepoint && !guard.conn.is_autocommit() {
            let _ = guard
                .conn
                .execute_batch("ROLLBACK TO one_write; RELEASE one_write");
        }
        let members = guard.batch.as_ref().map_or(0, |b| b.members);
        if members == 0
            || self.writer.queued.load(Ordering::SeqCst) == 0
            || guard.conn.is_autocommit()
        {
            let _ = end_batch(&mut guard);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Writer;
    use crate::connections::open;
    use std::time::Duration;

    /// One writer in ten fails after writing, and each writer yields with its turn
    /// held, so that the others queue behind it and join its batch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_share_commits_and_a_failed_one_leaves_the_rest() {
        let dir = std::env::temp_dir().join(format!("lienhoan-group-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("g.db");
        let writer = Writer::open(&path).unwrap();
        let turn = writer.turn().await.unwrap();
        turn.conn()
            .execute_batch("CREATE TABLE w (n INTEGER PRIMARY KEY)")
            .unwrap();
        turn.commit().await.unwrap();

        let writers = (0..60).map(|n: i64| {
            let (writer, path) = (writer.clone(), path.clone());
            tokio::spawn(async move {
                let turn = writer.turn().await.unwrap();
                turn.conn()
                    .execute("INSERT INTO w (n) VALUES (?1)", [n])
                    .unwrap();
                tokio::task::yield_now().await;
                if n % 10 == 3 {
                    return;
                }
                turn.commit().await.unwrap();
                // Acknowledged means committed: another connection sees the row at once.
                let seen: i64 = open(&path, Duration::ZERO)
                    .unwrap()
                    .query_row("SELECT count(*) FROM w WHERE n = ?1", [n], |r| r.get(0))
                    .unwrap();
                assert_eq!(seen, 1, "writer {n} was acknowledged before its commit");
            })
        });
        for handle in writers.collect::<Vec<_>>() {
            handle.await.unwrap();
        }

        let kept: Vec<i64> = open(&path, Duration::ZERO)
            .unwrap()
            .prepare("SELECT n FROM w ORDER BY n")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let expected: Vec<i64> = (0..60).filter(|n| n % 10 != 3).collect();
        assert_eq!(kept, expected);
        let batches = writer.turns.lock().await.batches;
        assert!(
            batches < 30,
            "54 commits and the schema's took {batches} batches: writers did not share commits"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Commits one after another leave the checkpointing thread no moment to copy the whole
    /// log; the writer's catch-up must still start it again before it passes its bound.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_stays_bounded_under_a_stream_of_commits() {
        let dir = std::env::temp_dir().join(format!("lienhoan-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("l.db");
        let log = dir.join("l.db-wal");
        let writer = Writer::open(&path).unwrap();
        let mut largest = 0;
        for n in 0..150 {
            let turn = writer.turn().await.unwrap();
            let sql = if n == 0 {
                "CREATE TABLE t (filler BLOB)"
            } else {
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
                 INSERT INTO t SELECT randomblob(4000) FROM n"
            };
            turn.conn().execute_batch(sql).unwrap();
            turn.commit().await.unwrap();
            largest = largest.max(std::fs::metadata(&log).unwrap().len());
        }
        // 15,000 pages were written; the bound is 4,000 and one commit's 100 or so.
        assert!(
            largest < 4_400 * 4_096,
            "the log grew to {largest} bytes: it never started again"
        );
        drop(writer);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
