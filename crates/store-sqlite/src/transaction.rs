//! A transaction on one connection. Statements run on the calling thread: each is a few
//! microseconds of work on pages in memory, and handing it to another thread and back cost
//! more than the statement (see bench/RESULTS.md). The commit's sync to disk runs in place
//! too: it is the end of every write, and moving the runtime's tasks away and back for it
//! would cost more than it takes on a local disk.

use async_trait::async_trait;
use lienhoan_store_sql::bulk::insert_values;
use lienhoan_store_sql::engine::{EngineError, Row, Tx, Value};
use std::time::Duration;

use rusqlite::Connection;
use tokio::runtime::RuntimeFlavor;
use tokio::sync::{OwnedMutexGuard, broadcast};

use crate::connections::Reader;
use crate::values::{bind, engine_error, is_busy, placeholders, rows};

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

/// Parameters above which a statement is a bulk write (an import's chunk of rows) and runs
/// off the runtime's threads; below, a statement is microseconds of work.
const BULK_PARAMETERS: usize = 1_000;

/// How long a writer waits for another process (the CLI beside a running server) to release
/// SQLite's write lock before it is refused as busy.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

/// Runs work that may take long (waiting for a lock, a bulk write, a migration) so that the
/// runtime's other tasks move to another thread meanwhile. A single-threaded runtime (tests)
/// has nowhere to move them, and runs the work in place.
fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

impl SqliteTx {
    pub fn begin(
        conn: Lease,
        statement: &str,
        events: broadcast::Sender<String>,
    ) -> Result<Self, EngineError> {
        // A transaction left open by a rollback that failed would make every later BEGIN on
        // this connection fail.
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK").map_err(engine_error)?;
        }
        // Only the writer is opened without patience (see `connections::open`), so only it
        // waits here for another process's lock.
        match conn.execute_batch(statement) {
            Err(e) if is_busy(&e) && matches!(conn, Lease::Write(_)) => off_the_runtime(|| {
                conn.busy_timeout(LOCK_PATIENCE)?;
                let begun = conn.execute_batch(statement);
                conn.busy_timeout(Duration::ZERO)?;
                begun
            }),
            begun => begun,
        }
        .map_err(engine_error)?;
        Ok(Self {
            conn,
            pending: Vec::new(),
            events,
        })
    }

    /// Runs one statement to the end and returns its rows.
    fn run(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        let bulk = params.len() > BULK_PARAMETERS;
        let work = || {
            let mut statement = self
                .conn
                .prepare_cached(&placeholders(sql))
                .map_err(engine_error)?;
            bind(&mut statement, params)?;
            let result = rows(&mut statement);
            // A cached statement keeps its parameters; large ones (an import's rows) would
            // stay in memory until the statement is next used.
            statement.clear_bindings();
            result
        };
        if bulk { off_the_runtime(work) } else { work() }
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
        self.run(sql, params)?;
        Ok(self.conn.changes())
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        self.run(sql, params)
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
        off_the_runtime(|| self.conn.execute_batch(sql)).map_err(engine_error)
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
