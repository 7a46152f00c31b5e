//! The embedded engine: one SQLite file in WAL mode, writes in `BEGIN IMMEDIATE` transactions,
//! every commit synced to disk before it is acknowledged.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lienhoan_store_sql::bulk::insert_values;
use lienhoan_store_sql::engine::{
    EVENT_BUFFER, Engine, EngineError, Row, Tx, TypeNames, Value, date_text, instant_text,
};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Column, Row as _, Sqlite, Transaction, TypeInfo, ValueRef};
use tokio::sync::{OwnedMutexGuard, broadcast};

pub struct SqliteEngine {
    pool: SqlitePool,
    /// Writers of this process queue here, in order, before they take SQLite's write lock.
    /// Left to SQLite alone, a writer that finds the lock taken sleeps in growing steps (up to
    /// 100 ms) and retries, so under concurrent writes the lock sat idle between holders.
    write_queue: Arc<tokio::sync::Mutex<()>>,
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

/// How long a request waits for a pooled connection before it is refused as busy (503 with
/// `Retry-After`). sqlx's default of 30 s outlasts the patience of most clients and proxies, so
/// requests would pile up behind an overload only to be abandoned; refusing sooner lets callers
/// back off and the queue drain.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

fn other(e: impl std::fmt::Display) -> EngineError {
    EngineError::Other(e.to_string())
}

fn engine_error(e: sqlx::Error) -> EngineError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            EngineError::Unique(db.message().to_owned())
        }
        sqlx::Error::PoolTimedOut => EngineError::Busy,
        _ => other(e),
    }
}

impl SqliteEngine {
    /// Opens (creating if needed) a database from a file path or a `sqlite:` URL.
    pub async fn open(location: &str) -> Result<Self, EngineError> {
        let options = if location.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(location).map_err(other)?
        } else {
            SqliteConnectOptions::new().filename(location)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(other)?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Self {
            pool,
            write_queue: Arc::default(),
            events,
        })
    }

    async fn begin(
        &self,
        statement: &'static str,
        turn: Option<OwnedMutexGuard<()>>,
    ) -> Result<Box<dyn Tx>, EngineError> {
        let tx = self
            .pool
            .begin_with(statement)
            .await
            .map_err(engine_error)?;
        Ok(Box::new(SqliteTx {
            tx,
            _turn: turn,
            pending: Vec::new(),
            events: self.events.clone(),
        }))
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
        let turn = self.write_queue.clone().lock_owned().await;
        self.begin("BEGIN IMMEDIATE", Some(turn)).await
    }

    async fn read(&self) -> Result<Box<dyn Tx>, EngineError> {
        self.begin("BEGIN", None).await
    }

    async fn migration(&self) -> Result<Box<dyn Tx>, EngineError> {
        self.write().await
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }
}

struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    /// A writer's place at the head of the write queue, given up when the transaction ends
    /// (after the transaction, which is declared first, commits or rolls back).
    _turn: Option<OwnedMutexGuard<()>>,
    /// Events to send once the commit succeeds.
    pending: Vec<String>,
    events: broadcast::Sender<String>,
}

/// The shared queries write `$N`; SQLite takes `?N`, or a bare `?` for the next parameter.
/// Bare `?` is used when the parameters appear once each, in order: binding a numbered
/// parameter makes sqlx look its name up, which SQLite does by a linear scan, so a multi-row
/// INSERT with thousands of `?N` spent most of its time binding.
fn placeholders(sql: &str) -> String {
    let mut parts: Vec<(String, Option<String>)> = vec![(String::new(), None)];
    let mut in_string = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_string = !in_string;
        }
        if c == '$' && !in_string && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            let mut number = String::new();
            while let Some(d) = chars.next_if(|d| d.is_ascii_digit()) {
                number.push(d);
            }
            parts.push((String::new(), Some(number)));
        } else if let Some(last) = parts.last_mut() {
            last.0.push(c);
        }
    }
    let in_order = parts
        .iter()
        .filter_map(|(_, n)| n.as_deref())
        .enumerate()
        .all(|(i, n)| n.parse() == Ok(i + 1));
    let mut out = String::with_capacity(sql.len());
    for (text, number) in parts {
        if let Some(number) = number {
            out.push('?');
            if !in_order {
                out.push_str(&number);
            }
        }
        out.push_str(&text);
    }
    out
}

fn arguments(params: Vec<Value>) -> Result<SqliteArguments, EngineError> {
    use sqlx::Arguments;
    let mut args = SqliteArguments::default();
    for value in params {
        let added = match value {
            Value::Bool(v) => args.add(v),
            Value::Int(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::Bytes(v) => args.add(v),
            Value::Uuid(v) => args.add(v.map(|u| u.to_string())),
            Value::Date(v) => args.add(v.map(date_text)),
            Value::Instant(v) => args.add(v.map(instant_text)),
        };
        added.map_err(other)?;
    }
    Ok(args)
}

fn decode(rows: Vec<SqliteRow>) -> Result<Vec<Row>, EngineError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    rows.iter()
        .map(|row| {
            let values = (0..columns.len())
                .map(|i| {
                    let raw = row.try_get_raw(i).map_err(other)?;
                    if raw.is_null() {
                        return Ok(Value::Text(None));
                    }
                    let kind = raw.type_info().name().to_owned();
                    Ok(match kind.as_str() {
                        "INTEGER" => Value::Int(Some(row.try_get(i).map_err(other)?)),
                        "BLOB" => Value::Bytes(Some(row.try_get(i).map_err(other)?)),
                        "REAL" => Value::Int(Some(row.try_get::<f64, _>(i).map_err(other)? as i64)),
                        _ => Value::Text(Some(row.try_get(i).map_err(other)?)),
                    })
                })
                .collect::<Result<_, EngineError>>()?;
            Ok(Row {
                columns: columns.clone(),
                values,
            })
        })
        .collect()
}

#[async_trait]
impl Tx for SqliteTx {
    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, EngineError> {
        let sql = placeholders(sql);
        let done = sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments(params)?)
            .execute(&mut *self.tx)
            .await
            .map_err(engine_error)?;
        Ok(done.rows_affected())
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        let sql = placeholders(sql);
        let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments(params)?)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(engine_error)?;
        decode(rows)
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
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut *self.tx)
            .await
            .map_err(engine_error)?;
        Ok(())
    }

    async fn publish(&mut self, payload: String) -> Result<(), EngineError> {
        self.pending.push(payload);
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), EngineError> {
        let SqliteTx {
            tx,
            _turn,
            pending,
            events,
        } = *self;
        tx.commit().await.map_err(engine_error)?;
        for payload in pending {
            // No subscriber is not an error: nobody is watching.
            let _ = events.send(payload);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{EngineError, engine_error, placeholders};

    #[test]
    fn an_exhausted_pool_is_busy_not_a_failure() {
        assert!(matches!(
            engine_error(sqlx::Error::PoolTimedOut),
            EngineError::Busy
        ));
    }

    #[test]
    fn rewrites_numbered_parameters_outside_strings() {
        let cases = [
            (
                "SELECT '$1', $1 WHERE a = $12 AND b LIKE '%$%'",
                "SELECT '$1', ?1 WHERE a = ?12 AND b LIKE '%$%'",
            ),
            ("VALUES ($1, $2), ($3, $4)", "VALUES (?, ?), (?, ?)"),
            ("a = $1 OR b = $1", "a = ?1 OR b = ?1"),
            ("a = $2 AND b = $1", "a = ?2 AND b = ?1"),
            ("SELECT 1", "SELECT 1"),
        ];
        for (shared, sqlite) in cases {
            assert_eq!(placeholders(shared), sqlite, "{shared}");
        }
    }
}
