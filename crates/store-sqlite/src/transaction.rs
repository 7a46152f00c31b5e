//! A transaction on one connection. Statements run on the calling thread: each is a few
//! microseconds of work on pages in memory, and handing it to another thread and back cost
//! more than the statement (see bench/RESULTS.md).

use async_trait::async_trait;
use lienhoan_store_sql::bulk::insert_values;
use lienhoan_store_sql::engine::{EngineError, Row, Tx, Value};
use rusqlite::Connection;
use tokio::sync::{OwnedMutexGuard, broadcast};

use crate::connections::Reader;
use crate::values::{bind, engine_error, placeholders, rows};

/// The connection a transaction runs on.
pub enum Lease {
    Read(Reader),
    /// The one writing connection; holding it is a writer's turn in the queue.
    Write(OwnedMutexGuard<Connection>),
}

impl std::ops::Deref for Lease {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Lease::Read(reader) => reader,
            Lease::Write(writer) => writer,
        }
    }
}

pub struct SqliteTx {
    conn: Lease,
    /// Events to send once the commit succeeds.
    pending: Vec<String>,
    events: broadcast::Sender<String>,
}

impl SqliteTx {
    pub fn begin(
        conn: Lease,
        statement: &str,
        events: broadcast::Sender<String>,
    ) -> Result<Self, EngineError> {
        conn.execute_batch(statement).map_err(engine_error)?;
        Ok(Self {
            conn,
            pending: Vec::new(),
            events,
        })
    }

    fn run<T>(
        &self,
        sql: &str,
        params: Vec<Value>,
        step: impl FnOnce(&mut rusqlite::Statement<'_>) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let mut statement = self
            .conn
            .prepare_cached(&placeholders(sql))
            .map_err(engine_error)?;
        bind(&mut statement, params)?;
        let result = step(&mut statement);
        // A cached statement keeps its parameters; large ones (an import's rows) would stay
        // in memory until the statement is next used.
        statement.clear_bindings();
        result
    }
}

/// A transaction that ends without a commit rolls back, leaving the connection ready for the
/// next one.
impl Drop for SqliteTx {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, EngineError> {
        // Stepped to the end like a query, so that a statement with RETURNING runs whole.
        self.run(sql, params, rows)?;
        Ok(self.conn.changes())
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        self.run(sql, params, rows)
    }

    async fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        tail: &str,
        rows: Vec<Vec<Value>>,
        after_each: &mut (dyn FnMut(usize) + Send),
    ) -> Result<(), EngineError> {
        insert_values(self, table, columns, tail, rows, after_each).await
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), EngineError> {
        self.conn.execute_batch(sql).map_err(engine_error)
    }

    async fn publish(&mut self, payload: String) -> Result<(), EngineError> {
        self.pending.push(payload);
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), EngineError> {
        self.conn.execute_batch("COMMIT").map_err(engine_error)?;
        for payload in std::mem::take(&mut self.pending) {
            // No subscriber is not an error: nobody is watching.
            let _ = self.events.send(payload);
        }
        Ok(())
    }
}
