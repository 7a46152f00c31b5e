//! The connection that incident records and imports share in groups that commit together
//! (see `lienhoan_store_sql::group_commit`). Recorded one transaction each, they took turns on
//! the audit chain's head row from their entry to their commit, each waiting for the
//! commit before it, log sync included; in a group, one commit ends them all.

use async_trait::async_trait;
use lienhoan_store_sql::engine::{AuditHead, EngineError};
use lienhoan_store_sql::group_commit::SharedConnection;
use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};

use crate::{Lock, engine_error};

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
    }

    pub fn writer_head(&mut self) -> Option<&mut AuditHead> {
        self.writer_head.as_mut()
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

    pub fn conn(&mut self) -> &mut PgConnection {
        self.tx
            .as_mut()
            .expect("a writer's turn is taken inside the group's transaction")
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

    async fn run(&mut self, statements: &str) -> Result<(), EngineError> {
        let done = self.send(statements).await;
        self.aborted |= done.is_err();
        done
    }

    /// A writer's turn starts from the head the group has kept.
    fn start_writer(&mut self) {
        self.writer_head = self.head.clone();
    }

    /// The group keeps the head as the writer moved it.
    fn keep_writer(&mut self) {
        self.head = self.writer_head.take();
    }

    /// A writer dropped while its statement ran left that statement's answer unread; the next
    /// statement reads it first, and if it was an error, reports it without having been sent.
    /// So a failed rollback is tried once more before it costs the group.
    async fn roll_back_writer(&mut self, statements: &str) -> Result<(), EngineError> {
        match self.send(statements).await {
            Err(_) => self.run(statements).await,
            done => done,
        }
    }

    async fn commit(&mut self) -> Result<(), EngineError> {
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
