//! Opening connections to the file, and the pool of reading connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lienhoan_store_sql::engine::EngineError;
use rusqlite::Connection;
use rusqlite::config::DbConfig;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::values::{engine_error, other};

/// How long a request waits for a reading connection before it is refused as busy (503 with
/// `Retry-After`). Waiting longer outlasts the patience of most clients and proxies, so
/// requests would pile up behind an overload only to be abandoned; refusing sooner lets callers
/// back off and the queue drain.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a read waits for a lock; in WAL mode only a rare recovery makes it wait.
const READER_PATIENCE: Duration = Duration::from_secs(5);

/// Readers open at most; a reading transaction holds one between its statements.
const READERS: usize = 8;

/// Prepared statements kept per connection. The shared queries are a few dozen texts; list
/// filters add variants, and the least recently used go first.
const STATEMENT_CACHE: usize = 64;

/// How much of the file connections read through a memory map, which is SQLite's own upper
/// bound. Pages read through the map come straight from the kernel's page cache, one copy
/// for all connections; read with `pread` they were copied into each connection's small
/// cache, and that copying was 46 % of a text search's samples at 1M incidents. Writes still go
/// through the journal, so a commit's durability is unchanged.
const MAPPED_BYTES: u64 = 0x7fff_0000;

/// Where the database file is, from a path or a `sqlite:` URL.
pub fn file(location: &str) -> Result<PathBuf, EngineError> {
    let path = location
        .strip_prefix("sqlite://")
        .or_else(|| location.strip_prefix("sqlite:"))
        .unwrap_or(location);
    let options = path.contains('?') || path.contains('%') && path.len() < location.len();
    if options || path.is_empty() || path.starts_with(':') {
        return Err(EngineError::Other(format!(
            "{location}: give the SQLite database as a file path, without options or escapes"
        )));
    }
    Ok(PathBuf::from(path))
}

/// A connection in WAL mode whose commits are synced to disk before they return, so an
/// acknowledged write survives a crash or a power cut. `patience` is how long a statement
/// waits for a lock another process holds: the writer waits elsewhere (see `SqliteTx::begin`)
/// and is opened with none.
pub fn open(path: &Path, patience: Duration) -> Result<Connection, EngineError> {
    let conn = Connection::open(path).map_err(engine_error)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(engine_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(EngineError::Other(format!(
            "{}: SQLite cannot use write-ahead logging here (journal mode {mode})",
            path.display()
        )));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA mmap_size = {MAPPED_BYTES};"
    ))
    .map_err(engine_error)?;
    conn.busy_timeout(patience).map_err(engine_error)?;
    // Plans made without looking at bound values. Otherwise a statement whose plan could
    // depend on one (any `LIKE $1`: a search) is prepared again after every binding, which
    // for a list with many visible parts took more time than running it.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(engine_error)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Reading connections, opened as needed up to [`READERS`] and reused.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    patience: Duration,
}

impl Readers {
    pub fn new(path: PathBuf) -> Arc<Self> {
        Self::sized(path, READERS, ACQUIRE_TIMEOUT)
    }

    fn sized(path: PathBuf, most: usize, patience: Duration) -> Arc<Self> {
        Arc::new(Self {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(most)),
            patience,
        })
    }

    pub async fn acquire(self: &Arc<Self>) -> Result<Reader, EngineError> {
        let permit = tokio::time::timeout(self.patience, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| EngineError::Busy)?
            .map_err(other)?;
        let idle = self.idle.lock().map_err(other)?.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path, READER_PATIENCE)?,
        };
        Ok(Reader {
            conn: Some(conn),
            readers: self.clone(),
            _permit: permit,
        })
    }
}

/// A reading connection, back in the pool when dropped.
pub struct Reader {
    conn: Option<Connection>,
    readers: Arc<Readers>,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Reader {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.readers.idle.lock()) {
            idle.push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{EngineError, Readers, file};
    use std::time::Duration;

    #[test]
    fn a_location_is_a_path_or_a_sqlite_url_without_options() {
        let cases = [
            ("lienhoan.db", Some("lienhoan.db")),
            (
                "/var/lib/lienhoan/lienhoan.db",
                Some("/var/lib/lienhoan/lienhoan.db"),
            ),
            ("sqlite:data/lienhoan.db", Some("data/lienhoan.db")),
            ("sqlite:///tmp/l.db", Some("/tmp/l.db")),
            ("sqlite://l.db?mode=rwc", None),
            ("sqlite:my%20data.db", None),
            ("100%.db", Some("100%.db")),
            ("sqlite::memory:", None),
            ("", None),
        ];
        for (location, path) in cases {
            let found = file(location).ok();
            assert_eq!(
                found.as_deref().and_then(|p| p.to_str()),
                path,
                "{location}"
            );
        }
    }

    #[tokio::test]
    async fn a_reader_that_does_not_free_up_in_time_is_busy_not_a_failure() {
        let dir = std::env::temp_dir().join(format!("lienhoan-readers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let readers = Readers::sized(dir.join("r.db"), 1, Duration::from_millis(20));
        let held = readers.acquire().await.unwrap();
        assert!(matches!(readers.acquire().await, Err(EngineError::Busy)));
        drop(held);
        assert!(
            readers.acquire().await.is_ok(),
            "a returned reader is lent again"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
