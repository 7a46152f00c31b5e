//! The connection that incident records and imports share in groups that commit together
//! (see `lienhoan_store_sql::group_commit`). Recorded one transaction each, they took turns on
//! the audit chain's head row from their entry to their commit, each waiting for the
//! commit before it, log sync included; in a group, one commit ends them all.

use async_trait::async_trait;
use lienhoan_store_sql::engine::{AuditHead, EngineError};
use lienhoan_store_sql::group_commit::{ROLL_BACK, SharedConnection, savepoint_after};
use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};

use crate::pending::PendingInserts;
use crate::{Lock, engine_error, send_inserts};

/// A group takes the audit chain's head before anything else, where a lone write takes it
/// last. A group's writers add to counter rows and then append to the audit chain: two server
/// processes' groups, each holding the head or counter rows that the other's next writer
/// needs, would deadlock. Taken first, the head orders the groups instead; and held until the
/// group commits, it is known to the group, so its writers append without reading it. The same
/// statement reads how many changes to what inserts check have committed, which none can add to
/// until the group commits (see `PostgresEngine::insert_after_check`).
const HEAD_FIRST: &str = "SELECT h.seq, h.hash, c.made
    FROM audit_head h CROSS JOIN checked_changes c
    WHERE h.id = 1 AND c.id = 1 FOR UPDATE OF h";

fn ended() -> EngineError {
    EngineError::Other("the group's transaction has ended".into())
}

pub struct InsertConnection {
    pool: PgPool,
    /// The group's transaction; it holds `Lock::Insert`.
    tx: Option<Transaction<'static, Postgres>>,
    /// A statement outside every writer's savepoint failed: PostgreSQL has aborted the
    /// transaction, and would answer its `COMMIT` by rolling back.
    aborted: bool,
    /// The audit chain's head as the group's writers have kept it.
    head: Option<AuditHead>,
    /// The head as the writer whose turn it is has moved it: kept when the writer's part
    /// ends, dropped if it is rolled back.
    writer_head: Option<AuditHead>,
    /// How many changes to what inserts check had committed when the group began.
    checked_changes: Option<i64>,
    /// The inserts and events of kept writers that sent no statement of their own, merged, to
    /// go as one statement before the group's next statement or its commit.
    held: PendingInserts,
    /// The writer whose turn it is has sent statements, inside a savepoint of its own.
    writer_sent: bool,
    /// The last writer that sent statements kept its part and left its savepoint open, for
    /// the next one to release.
    unreleased: bool,
}

impl InsertConnection {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            tx: None,
            aborted: false,
            head: None,
            writer_head: None,
            checked_changes: None,
            held: PendingInserts::default(),
            writer_sent: false,
            unreleased: false,
        }
    }

    pub fn checked_changes(&self) -> Option<i64> {
        self.checked_changes
    }

    /// What a group knows holds only while it is open.
    fn forget_group(&mut self) {
        self.head = None;
        self.writer_head = None;
        self.checked_changes = None;
        self.held = PendingInserts::default();
        self.writer_sent = false;
        self.unreleased = false;
    }

    pub fn writer_head(&mut self) -> Option<&mut AuditHead> {
        self.writer_head.as_mut()
    }

    /// Whether the writer whose turn it is has sent statements, and so has changes of its
    /// own in the transaction to settle.
    pub fn writer_sent(&self) -> bool {
        self.writer_sent
    }

    /// Takes the inserts and events of a writer that sent nothing and keeps its part: they go
    /// with the group's, so that a group of such writers costs one statement and its commit.
    /// A failure in that statement fails the whole group; it could not be told apart from
    /// the others' writes. Merging into the group's that fails leaves the group unable to
    /// commit, for the same reason.
    pub fn hold(&mut self, inserts: PendingInserts) -> Result<(), EngineError> {
        let done = self.held.absorb(inserts);
        self.aborted |= done.is_err();
        done
    }

    /// The connection, ready for a statement of the writer whose turn it is: before its
    /// first, the held inserts go, and the writer's savepoint opens. In a group that can no
    /// longer commit, the writer fails with it, and may be tried again.
    pub async fn ready(&mut self) -> Result<&mut PgConnection, EngineError> {
        if self.aborted {
            return Err(EngineError::WithGroup(
                "the write's group failed before it, so none of the group's writes is kept".into(),
            ));
        }
        if !self.writer_sent {
            self.send_held().await?;
            self.run(savepoint_after(self.unreleased)).await?;
            self.unreleased = false;
            self.writer_sent = true;
        }
        self.tx.as_deref_mut().ok_or_else(ended)
    }

    async fn send_held(&mut self) -> Result<(), EngineError> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        let Some(tx) = self.tx.as_mut() else {
            return Err(ended());
        };
        // The rows are no longer held anywhere but in this statement: if it is dropped
        // unfinished (its writer's client went away), the group must not commit without them.
        self.aborted = true;
        let done = send_inserts(tx, held).await.map_err(|e| {
            EngineError::WithGroup(format!(
                "a write of this group failed, so none of the group's writes was kept: {e}"
            ))
        });
        self.aborted = done.is_err();
        done
    }

    async fn send(&mut self, statements: &str) -> Result<(), EngineError> {
        let Some(tx) = self.tx.as_mut() else {
            return Err(ended());
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(statements.to_owned()))
            .execute(&mut **tx)
            .await
            .map(|_| ())
            .map_err(engine_error)
    }

    async fn run(&mut self, statements: &str) -> Result<(), EngineError> {
        let done = self.send(statements).await;
        self.aborted |= done.is_err();
        done
    }
}

#[async_trait]
impl SharedConnection for InsertConnection {
    async fn begin(&mut self) -> Result<(), EngineError> {
        self.tx = None;
        self.aborted = false;
        self.forget_group();
        let mut tx = self
            .pool
            .begin_with(Lock::Insert.begin())
            .await
            .map_err(engine_error)?;
        let row = sqlx::query(HEAD_FIRST)
            .fetch_one(&mut *tx)
            .await
            .map_err(engine_error)?;
        self.head = Some(AuditHead {
            seq: row.try_get("seq").map_err(engine_error)?,
            hash: row.try_get("hash").map_err(engine_error)?,
        });
        self.checked_changes = Some(row.try_get("made").map_err(engine_error)?);
        self.tx = Some(tx);
        Ok(())
    }

    /// A writer's turn starts from the head the group has kept. Its savepoint waits for its
    /// first statement (see [`InsertConnection::ready`]): most writers send none.
    async fn start_writer(&mut self) -> Result<(), EngineError> {
        self.writer_head = self.head.clone();
        self.writer_sent = false;
        Ok(())
    }

    /// The group keeps the head as the writer moved it.
    fn keep_writer(&mut self) {
        self.head = self.writer_head.take();
        self.unreleased |= self.writer_sent;
        self.writer_sent = false;
    }

    /// A writer that sent nothing has nothing to roll back. One dropped while its statement
    /// ran left that statement's answer unread; the next statement reads it first, and if it
    /// was an error, reports it without having been sent. So a failed rollback is tried once
    /// more before it costs the group.
    async fn roll_back_writer(&mut self) -> Result<(), EngineError> {
        self.writer_head = None;
        if !std::mem::take(&mut self.writer_sent) {
            return Ok(());
        }
        match self.send(ROLL_BACK).await {
            Err(_) => self.run(ROLL_BACK).await,
            done => done,
        }
    }

    async fn commit(&mut self) -> Result<(), EngineError> {
        self.send_held().await?;
        self.forget_group();
        match self.tx.take() {
            Some(tx) => tx.commit().await.map_err(engine_error),
            None => Err(ended()),
        }
    }

    async fn roll_back(&mut self) {
        self.forget_group();
        if let Some(tx) = self.tx.take() {
            let _ = tx.rollback().await;
        }
    }

    fn lost(&self) -> bool {
        self.tx.is_none() || self.aborted
    }
}
