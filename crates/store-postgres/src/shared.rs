//! The connection that incident records and imports share in groups that commit together
//! (see `lienhoan_store_sql::group_commit`). Recorded one transaction each, they took turns on
//! the audit chain's head row from their entry to their commit, each waiting for the
//! commit before it, log sync included; in a group, one commit ends them all.

use async_trait::async_trait;
use lienhoan_store_sql::engine::EngineError;
use lienhoan_store_sql::group_commit::SharedConnection;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::{Lock, engine_error};

/// A group takes the audit chain's head before anything else, where a lone write takes it
/// last. A group's writers add to counter rows and then append to the audit chain: two server
/// processes' groups, each holding the head or counter rows that the other's next writer
/// needs, would deadlock. Taken first, the head orders the groups instead.
const HEAD_FIRST: &str = "SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE";

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
}

impl InsertConnection {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            tx: None,
            aborted: false,
        }
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
        let begin = format!("{}; {HEAD_FIRST}", Lock::Insert.begin().0);
        self.tx = Some(
            self.pool
                .begin_with(sqlx::AssertSqlSafe(begin))
                .await
                .map_err(engine_error)?,
        );
        Ok(())
    }

    async fn run(&mut self, statements: &str) -> Result<(), EngineError> {
        let done = self.send(statements).await;
        self.aborted |= done.is_err();
        done
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
        match self.tx.take() {
            Some(tx) => tx.commit().await.map_err(engine_error),
            None => Err(ended()),
        }
    }

    async fn roll_back(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.rollback().await;
        }
    }

    fn lost(&self) -> bool {
        self.tx.is_none() || self.aborted
    }
}
