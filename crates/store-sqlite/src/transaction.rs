//! A transaction on one connection. Statements run on the calling thread: each is a few
//! microseconds of work on pages in memory, and handing it to another thread and back cost
//! more than the statement (see bench/RESULTS.md). The commit's sync to disk runs in place
//! too: it is the end of every write, and moving the runtime's tasks away and back for it
//! would cost more than it takes on a local disk.

use async_trait::async_trait;
use lienhoan_store_sql::bulk::insert_values;
use lienhoan_store_sql::engine::{EngineError, OnConflict, Row, Tx, Value};

use rusqlite::Connection;
use tokio::runtime::RuntimeFlavor;
use tokio::sync::broadcast;

use crate::connections::Reader;
use crate::values::{bind, engine_error, placeholders, rows};
use crate::writer::Turn;

/// The connection a transaction runs on.
pub enum Lease {
    Read(Reader),
    /// A turn on the one writing connection, inside its batch (see `writer`).
    Write(Turn),
}

impl std::ops::Deref for Lease {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Lease::Read(reader) => reader,
            Lease::Write(turn) => turn.conn(),
        }
    }
}

pub struct SqliteTx {
    /// Taken by the commit.
    lease: Option<Lease>,
    /// Events to send once the commit succeeds.
    pending: Vec<String>,
    events: broadcast::Sender<String>,
}

/// Parameters above which a statement is a bulk write (an import's chunk of rows) and runs
/// off the runtime's threads; below, a statement is microseconds of work.
const BULK_PARAMETERS: usize = 1_000;

/// Runs work that may take long (waiting for a lock, a bulk write, a migration) so that the
/// runtime's other tasks move to another thread meanwhile. A single-threaded runtime (tests)
/// has nowhere to move them, and runs the work in place.
pub fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

impl SqliteTx {
    /// A reading transaction: one snapshot for all its statements.
    pub fn read(reader: Reader, events: broadcast::Sender<String>) -> Result<Self, EngineError> {
        // A transaction left open by a rollback that failed would make every later BEGIN on
        // this connection fail.
        if !reader.is_autocommit() {
            reader.execute_batch("ROLLBACK").map_err(engine_error)?;
        }
        reader.execute_batch("BEGIN").map_err(engine_error)?;
        Ok(Self::on(Lease::Read(reader), events))
    }

    pub fn write(turn: Turn, events: broadcast::Sender<String>) -> Self {
        Self::on(Lease::Write(turn), events)
    }

    fn on(lease: Lease, events: broadcast::Sender<String>) -> Self {
        Self {
            lease: Some(lease),
            pending: Vec::new(),
            events,
        }
    }

    fn conn(&self) -> &Connection {
        self.lease
            .as_ref()
            .expect("a transaction holds its connection until it commits")
    }

    /// Runs one statement to the end and returns its rows.
    fn run(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        let bulk = params.len() > BULK_PARAMETERS;
        let work = || {
            let mut statement = self
                .conn()
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

/// A reading transaction that ends without a commit rolls back, leaving the connection ready
/// for the next one; a writer's turn rolls itself back.
impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(Lease::Read(reader)) = &self.lease
            && !reader.is_autocommit()
        {
            let _ = reader.execute_batch("ROLLBACK");
        }
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, EngineError> {
        // Stepped to the end like a query, so that a statement with RETURNING runs whole.
        self.run(sql, params)?;
        Ok(self.conn().changes())
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        self.run(sql, params)
    }

    async fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        conflict: OnConflict<'_>,
        rows: Vec<Vec<Value>>,
        after_each: &mut (dyn FnMut(usize) + Send),
    ) -> Result<(), EngineError> {
        insert_values(self, table, columns, conflict, rows, after_each).await
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), EngineError> {
        off_the_runtime(|| self.conn().execute_batch(sql)).map_err(engine_error)
    }

    async fn publish(&mut self, payload: String) -> Result<(), EngineError> {
        self.pending.push(payload);
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), EngineError> {
        match self.lease.take() {
            Some(Lease::Write(turn)) => turn.commit().await?,
            Some(Lease::Read(reader)) => reader.execute_batch("COMMIT").map_err(engine_error)?,
            None => {}
        }
        for payload in std::mem::take(&mut self.pending) {
            // No subscriber is not an error: nobody is watching.
            let _ = self.events.send(payload);
        }
        Ok(())
    }
}
