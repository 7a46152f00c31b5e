//! The one writing connection, shared by writers in groups that commit together (see
//! `lienhoan_store_sql::group_commit`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lienhoan_store_sql::engine::EngineError;
use lienhoan_store_sql::group_commit::{GroupCommit, ROLL_BACK, SharedConnection, savepoint_after};
use rusqlite::Connection;

use crate::checkpoints::Checkpoints;
use crate::connections::open;
use crate::transaction::off_the_runtime;
use crate::values::{engine_error, is_busy};

/// How long a batch's first writer waits for another process (the CLI beside a running
/// server) to release SQLite's write lock before it is refused as busy.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

pub type Writer = GroupCommit<WriterConnection>;
pub type Turn = lienhoan_store_sql::group_commit::Turn<WriterConnection>;

/// The writing connection.
pub struct WriterConnection {
    conn: Connection,
    /// The last writer kept its part and left its savepoint open, for the next writer's first
    /// statement to release.
    unreleased: bool,
    /// Declared after the connection, so that it is dropped after it (see `Checkpoints`).
    checkpoints: Checkpoints,
}

impl std::ops::Deref for WriterConnection {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Opens the writing connection to the file at `path`.
pub fn open_writer(path: &Path) -> Result<Arc<Writer>, EngineError> {
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
    Ok(GroupCommit::new(WriterConnection {
        checkpoints: Checkpoints::start(path, &conn)?,
        conn,
        unreleased: false,
    }))
}

impl WriterConnection {
    fn run(&self, statements: &str) -> Result<(), EngineError> {
        self.conn.execute_batch(statements).map_err(engine_error)
    }
}

#[async_trait]
impl SharedConnection for WriterConnection {
    /// Begins the batch's SQLite transaction, taking the file's write lock at once. Only the
    /// writer connection is opened without patience (see `connections::open`), so only it
    /// waits here for another process's lock.
    async fn begin(&mut self) -> Result<(), EngineError> {
        self.unreleased = false;
        let conn = &self.conn;
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

    async fn start_writer(&mut self) -> Result<(), EngineError> {
        let statements = savepoint_after(std::mem::take(&mut self.unreleased));
        self.run(statements)
    }

    fn keep_writer(&mut self) {
        self.unreleased = true;
    }

    async fn roll_back_writer(&mut self) -> Result<(), EngineError> {
        self.run(ROLL_BACK)
    }

    async fn commit(&mut self) -> Result<(), EngineError> {
        self.run("COMMIT")
    }

    async fn roll_back(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// SQLite rolls a whole transaction back on some errors (a full disk, an I/O error).
    fn lost(&self) -> bool {
        self.conn.is_autocommit()
    }

    fn after_batch(&mut self) {
        self.checkpoints.catch_up(&self.conn);
    }
}

#[cfg(test)]
mod tests {
    use super::open_writer;
    use crate::connections::open;
    use std::time::Duration;

    /// One writer in ten fails after writing, and each writer yields with its turn
    /// held, so that the others queue behind it and join its batch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_share_commits_and_a_failed_one_leaves_the_rest() {
        let dir = std::env::temp_dir().join(format!("lienhoan-group-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("g.db");
        let writer = open_writer(&path).unwrap();
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
        let batches = writer.batches().await;
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
        let writer = open_writer(&path).unwrap();
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
