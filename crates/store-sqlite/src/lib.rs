//! The embedded engine: one SQLite file in WAL mode, writes on one writing connection in
//! groups that share a commit, every commit synced to disk before its writes are acknowledged,
//! reads on a small pool of their own connections.

mod checkpoints;
mod connections;
mod transaction;
mod values;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use lienhoan_store_sql::engine::{EVENT_BUFFER, Engine, EngineError, Tx, TypeNames};
use tokio::sync::broadcast;

use crate::connections::Readers;
use crate::transaction::SqliteTx;
use crate::writer::{Writer, open_writer};

pub struct SqliteEngine {
    /// Writers queue for this connection in order. Left to SQLite alone, a writer that finds
    /// the lock taken sleeps in growing steps and retries, so under concurrent writes the lock
    /// sat idle between holders.
    writer: Arc<Writer>,
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
    search_text_indexes: "
        DROP INDEX incidents_organisation_recent;
        DROP INDEX incidents_shared_recent;
        CREATE INDEX incidents_organisation_recent
            ON incidents (organisation_id, occurred_at DESC, id, search_text);
        CREATE INDEX incidents_shared_recent
            ON incidents (organisation_id, occurred_at DESC, id, search_text) WHERE shared;
    ",
    short_search_text_indexes: "",
    searched_text: "i.search_text",
    count_checked_changes: "",
    row_key: "rowid",
    day_of_month: "CAST(substr(k.day, 9, 2) AS INTEGER)",
};

impl SqliteEngine {
    /// Opens (creating if needed) a database from a file path or a `sqlite:` URL.
    pub async fn open(location: &str) -> Result<Self, EngineError> {
        let path = connections::file(location)?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Self {
            writer: open_writer(&path)?,
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

    fn merges_ordered_parts(&self) -> bool {
        true
    }

    async fn write(&self) -> Result<Box<dyn Tx>, EngineError> {
        let turn = self.writer.turn().await?;
        Ok(Box::new(SqliteTx::write(turn, self.events.clone())))
    }

    async fn read(&self) -> Result<Box<dyn Tx>, EngineError> {
        let reader = self.readers.acquire().await?;
        Ok(Box::new(SqliteTx::read(reader, self.events.clone())?))
    }

    async fn migration(&self) -> Result<Box<dyn Tx>, EngineError> {
        self.write().await
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteEngine;
    use lienhoan_store_sql::engine::Engine;
    use std::time::Duration;

    #[tokio::test]
    async fn a_writer_waits_for_another_process_to_release_the_write_lock() {
        let dir = std::env::temp_dir().join(format!("lienhoan-lock-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("l.db");
        let engine = SqliteEngine::open(path.to_str().unwrap()).await.unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE t (n INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .unwrap();
        let holder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            other.execute_batch("COMMIT").unwrap();
        });
        let mut tx = engine
            .write()
            .await
            .expect("the lock, once the other process commits");
        let rows = tx
            .query("SELECT count(*) AS n FROM t", vec![])
            .await
            .unwrap();
        assert_eq!(
            rows[0].int("n").unwrap(),
            1,
            "the other process's write is seen"
        );
        tx.commit().await.unwrap();
        holder.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
