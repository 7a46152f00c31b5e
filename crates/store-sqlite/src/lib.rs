//! The embedded engine: one SQLite file in WAL mode, writes in `BEGIN IMMEDIATE` transactions
//! on one writing connection, every commit synced to disk before it is acknowledged, reads on
//! a small pool of their own connections.

mod connections;
mod transaction;
mod values;

use std::sync::Arc;

use async_trait::async_trait;
use lienhoan_store_sql::engine::{EVENT_BUFFER, Engine, EngineError, Tx, TypeNames};
use rusqlite::Connection;
use tokio::sync::broadcast;

use crate::connections::Readers;
use crate::transaction::{Lease, SqliteTx};

pub struct SqliteEngine {
    /// Writers queue for this connection in order (tokio's mutex is fair). Left to SQLite
    /// alone, a writer that finds the lock taken sleeps in growing steps and retries, so under
    /// concurrent writes the lock sat idle between holders.
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Arc<Readers>,
    /// One process owns a SQLite file, so live events fan out in memory.
    events: broadcast::Sender<String>,
}

static TYPES: TypeNames = TypeNames {
    uuid: "TEXT",
    date: "TEXT",
    instant: "TEXT",
    bool: "INTEGER",
    bytes: "BLOB",
    bigint: "INTEGER",
    clustered: "WITHOUT ROWID",
};

impl SqliteEngine {
    /// Opens (creating if needed) a database from a file path or a `sqlite:` URL.
    pub async fn open(location: &str) -> Result<Self, EngineError> {
        let path = connections::file(location)?;
        let writer = connections::open(&path)?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Self {
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            readers: Readers::new(path),
            events,
        })
    }
}

#[async_trait]
impl Engine for SqliteEngine {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn type_names(&self) -> &'static TypeNames {
        &TYPES
    }

    async fn write(&self) -> Result<Box<dyn Tx>, EngineError> {
        let turn = self.writer.clone().lock_owned().await;
        let tx = SqliteTx::begin(Lease::Write(turn), "BEGIN IMMEDIATE", self.events.clone())?;
        Ok(Box::new(tx))
    }

    async fn read(&self) -> Result<Box<dyn Tx>, EngineError> {
        let reader = self.readers.acquire().await?;
        let tx = SqliteTx::begin(Lease::Read(reader), "BEGIN", self.events.clone())?;
        Ok(Box::new(tx))
    }

    async fn migration(&self) -> Result<Box<dyn Tx>, EngineError> {
        self.write().await
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }
}
