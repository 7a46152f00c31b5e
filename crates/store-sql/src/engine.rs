//! The narrow interface an engine adapter provides: transactions that run SQL with `$1`-style
//! parameters and return rows of plain values. Everything engine-specific (type mapping, how a
//! write transaction begins, connection setup) lives behind it.

use async_trait::async_trait;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("unique constraint violated: {0}")]
    Unique(String),
    /// No pooled connection became free within the acquire timeout.
    #[error("no database connection became free in time")]
    Busy,
    /// The write was rolled back with the other writes of its group (see `group_commit`), for
    /// a failure that need not be its own: settled on its own, it may succeed.
    #[error("{0}")]
    WithGroup(String),
    #[error("{0}")]
    Other(String),
}

/// A parameter or a column value. Each variant carries its own type even when null, because
/// PostgreSQL needs to know the type of every parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Bool(Option<bool>),
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Uuid(Option<Uuid>),
    Date(Option<Date>),
    Instant(Option<OffsetDateTime>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Value::Bool(None)
                | Value::Int(None)
                | Value::Text(None)
                | Value::Bytes(None)
                | Value::Uuid(None)
                | Value::Date(None)
                | Value::Instant(None)
        )
    }
}

macro_rules! value_from {
    ($variant:ident, $ty:ty) => {
        impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                Value::$variant(Some(v.into()))
            }
        }
        impl From<Option<$ty>> for Value {
            fn from(v: Option<$ty>) -> Self {
                Value::$variant(v.map(Into::into))
            }
        }
    };
}
value_from!(Bool, bool);
value_from!(Int, i64);
value_from!(Text, String);
value_from!(Text, &str);
value_from!(Bytes, Vec<u8>);
value_from!(Uuid, Uuid);
value_from!(Date, Date);
value_from!(Instant, OffsetDateTime);

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(Some(v.into()))
    }
}

/// What an insert of [`Tx::insert_many`] does with a row whose key a stored row already has.
#[derive(Debug, Clone, Copy)]
pub enum OnConflict<'a> {
    /// Fails, as a unique violation.
    Refuse,
    /// Adds the row's `measures` to the stored row's: a counter.
    Add {
        key: &'a [&'a str],
        measures: &'a [&'a str],
    },
    /// Overwrites the stored row's other columns with the row's.
    Replace { key: &'a [&'a str] },
}

impl OnConflict<'_> {
    /// The clause that follows an insert's rows into `table`, the same on both engines.
    pub fn clause(&self, table: &str, columns: &[&str]) -> String {
        let (key, set): (&[&str], Vec<String>) = match self {
            Self::Refuse => return String::new(),
            Self::Add { key, measures } => (
                key,
                measures
                    .iter()
                    .map(|m| format!("{m} = {table}.{m} + excluded.{m}"))
                    .collect(),
            ),
            Self::Replace { key } => (
                key,
                columns
                    .iter()
                    .filter(|c| !key.contains(c))
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect(),
            ),
        };
        format!(
            "ON CONFLICT ({}) DO UPDATE SET {}",
            key.join(", "),
            set.join(", ")
        )
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => { vec![$($crate::engine::Value::from($value)),*] };
}

/// A result row. Getters accept whatever representation the engine stores a type in, so the
/// shared queries read SQLite's text dates and PostgreSQL's native ones alike.
#[derive(Debug, Clone)]
pub struct Row {
    pub columns: std::sync::Arc<[String]>,
    pub values: Vec<Value>,
}

fn bad(column: &str, value: &Value, wanted: &str) -> EngineError {
    EngineError::Other(format!(
        "column {column}: cannot read {value:?} as {wanted}"
    ))
}

impl Row {
    fn get(&self, column: &str) -> Result<&Value, EngineError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .map(|i| &self.values[i])
            .ok_or_else(|| EngineError::Other(format!("no column {column}")))
    }

    pub fn opt_text(&self, column: &str) -> Result<Option<String>, EngineError> {
        match self.get(column)? {
            Value::Text(v) => Ok(v.clone()),
            v if v.is_null() => Ok(None),
            v => Err(bad(column, v, "text")),
        }
    }

    pub fn text(&self, column: &str) -> Result<String, EngineError> {
        self.opt_text(column)?
            .ok_or_else(|| EngineError::Other(format!("column {column} is null")))
    }

    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, EngineError> {
        match self.get(column)? {
            Value::Int(v) => Ok(*v),
            v if v.is_null() => Ok(None),
            v => Err(bad(column, v, "integer")),
        }
    }

    pub fn int(&self, column: &str) -> Result<i64, EngineError> {
        self.opt_int(column)?
            .ok_or_else(|| EngineError::Other(format!("column {column} is null")))
    }

    pub fn bool(&self, column: &str) -> Result<bool, EngineError> {
        match self.get(column)? {
            Value::Bool(Some(b)) => Ok(*b),
            Value::Int(Some(i)) => Ok(*i != 0),
            v => Err(bad(column, v, "boolean")),
        }
    }

    pub fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>, EngineError> {
        match self.get(column)? {
            Value::Uuid(v) => Ok(*v),
            Value::Text(Some(s)) => Uuid::parse_str(s)
                .map(Some)
                .map_err(|_| bad(column, &Value::Text(Some(s.clone())), "uuid")),
            v if v.is_null() => Ok(None),
            v => Err(bad(column, v, "uuid")),
        }
    }

    pub fn uuid(&self, column: &str) -> Result<Uuid, EngineError> {
        self.opt_uuid(column)?
            .ok_or_else(|| EngineError::Other(format!("column {column} is null")))
    }

    pub fn opt_date(&self, column: &str) -> Result<Option<Date>, EngineError> {
        match self.get(column)? {
            Value::Date(v) => Ok(*v),
            Value::Text(Some(s)) => {
                Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                    .map(Some)
                    .map_err(|_| bad(column, &Value::Text(Some(s.clone())), "date"))
            }
            v if v.is_null() => Ok(None),
            v => Err(bad(column, v, "date")),
        }
    }

    pub fn date(&self, column: &str) -> Result<Date, EngineError> {
        self.opt_date(column)?
            .ok_or_else(|| EngineError::Other(format!("column {column} is null")))
    }

    pub fn opt_instant(&self, column: &str) -> Result<Option<OffsetDateTime>, EngineError> {
        match self.get(column)? {
            Value::Instant(v) => Ok(*v),
            Value::Text(Some(s)) => OffsetDateTime::parse(s, &Rfc3339)
                .map(Some)
                .map_err(|_| bad(column, &Value::Text(Some(s.clone())), "instant")),
            v if v.is_null() => Ok(None),
            v => Err(bad(column, v, "instant")),
        }
    }

    pub fn instant(&self, column: &str) -> Result<OffsetDateTime, EngineError> {
        self.opt_instant(column)?
            .ok_or_else(|| EngineError::Other(format!("column {column} is null")))
    }
}

/// The text form of an instant where an engine has no native type: RFC 3339 in UTC with six
/// fractional digits, so that text order is time order.
pub fn instant_text(at: OffsetDateTime) -> String {
    let at = lienhoan_domain::audit::storable_instant(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

pub fn date_text(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        day.month() as u8,
        day.day()
    )
}

/// The end of the audit chain: its last entry's sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

#[async_trait]
pub trait Tx: Send {
    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, EngineError>;
    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError>;
    /// A query that reads and writes none of the tables that this transaction's held-back
    /// inserts (see `insert_many`) write, and raises no unique violation of its own: an engine
    /// may send those inserts with it, in one round trip.
    async fn query_beside_inserts(
        &mut self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, EngineError> {
        self.query(sql, params).await
    }
    /// Inserts `rows` (each one value per column) into `table` in as few statements as the
    /// engine allows, telling `after_each` statement how many rows are written so far. An
    /// engine may hold a small insert back until the transaction's next statement, to send
    /// several in one round trip, and may merge it with other held-back inserts into the same
    /// table as `conflict` would have the second change the first's rows; its errors then come
    /// from a later statement, or the commit, and every later statement sees its rows. A
    /// caller that must tell a unique violation apart uses `execute`.
    async fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        conflict: OnConflict<'_>,
        rows: Vec<Vec<Value>>,
        after_each: &mut (dyn FnMut(usize) + Send),
    ) -> Result<(), EngineError>;
    /// Runs several statements without parameters (migrations).
    async fn execute_script(&mut self, sql: &str) -> Result<(), EngineError>;
    /// Publishes a live event to every server process once, and only if, this transaction
    /// commits.
    async fn publish(&mut self, payload: String) -> Result<(), EngineError>;
    async fn commit(self: Box<Self>) -> Result<(), EngineError>;
    /// Settles this transaction's writes on their own at its commit, not merged with other
    /// transactions' in a group's statement: an insert tried again after it was rolled back
    /// with its group ([`EngineError::WithGroup`]), so that a write that fails fails alone.
    fn settle_alone(&mut self) {}
    /// The audit chain's head, where the engine holds its row locked for this transaction and
    /// keeps it in memory: an append reads it here instead of from the row, and moves it.
    /// `None`: an append reads the row, and so locks it.
    fn known_audit_head(&mut self) -> Option<&mut AuditHead> {
        None
    }
}

/// Column types by role; the shared schema names these and each engine fills them in.
pub struct TypeNames {
    pub uuid: &'static str,
    pub date: &'static str,
    pub instant: &'static str,
    pub bool: &'static str,
    pub bytes: &'static str,
    pub bigint: &'static str,
    /// The table option that stores rows in primary-key order, where the engine has one, so
    /// that a range of the key is read from neighbouring pages.
    pub clustered: &'static str,
    /// Statements that rebuild the indexes of an organisation's newest incidents with the
    /// folded text at the end of their key, so that a search reads the index alone (see
    /// migration 0009), where the engine's index entries can hold a narrative; empty where
    /// they cannot.
    pub search_text_indexes: &'static str,
    /// Where [`Self::search_text_indexes`] is empty: statements that keep a copy of the folded
    /// text short enough for an index entry, and carry it in those indexes (migration 0010).
    pub short_search_text_indexes: &'static str,
    /// The folded text of incident `i` as a search tests it, from the indexes of migration
    /// 0009 or 0010 where they carry it.
    pub searched_text: &'static str,
    /// Statements that make every change to `admin_units`, `organisations` and
    /// `cluster_memberships` add one to `checked_changes` (see migration 0008), where the
    /// engine reads inserts' checks before their turn; empty where it does not.
    pub count_checked_changes: &'static str,
    /// The column by which a list finds again the rows it chose for a page: SQLite's `rowid`,
    /// which ends every index entry, so that each row is one descent of the table instead of
    /// one of the primary key's index and then one of the table (it needs `incidents` to stay
    /// a rowid table whose key is not an INTEGER PRIMARY KEY); the primary key where the
    /// engine has no such column.
    pub row_key: &'static str,
    /// The day of the month of the daily counter row `k`, as an integer.
    pub day_of_month: &'static str,
}

#[async_trait]
pub trait Engine: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn type_names(&self) -> &'static TypeNames;
    /// A transaction that will write: on SQLite it takes the write lock at once.
    async fn write(&self) -> Result<Box<dyn Tx>, EngineError>;
    /// A write that only inserts new records and adds to counters, and whose checks read only
    /// what other such writes leave alone (the organisation's area, the memberships). An
    /// engine may run several at once, never beside a [`Engine::write`].
    async fn insert(&self) -> Result<Box<dyn Tx>, EngineError> {
        self.write().await
    }
    /// An insert (see [`Engine::insert`]) whose first statement is `check`, a read of what
    /// only exclusive writes change (areas, memberships): the transaction, and the check's
    /// rows. An engine whose inserts take turns on a shared connection may read the check
    /// before the turn, on a connection of its own, so that the turn is shorter; it keeps that
    /// read only if nothing it reads changed in between (see migration 0008).
    async fn insert_after_check(
        &self,
        check: &str,
        params: Vec<Value>,
    ) -> Result<(Box<dyn Tx>, Vec<Row>), EngineError> {
        let mut tx = self.insert().await?;
        let rows = tx.query(check, params).await?;
        Ok((tx, rows))
    }
    async fn read(&self) -> Result<Box<dyn Tx>, EngineError>;
    /// One reading statement on its own, seeing the moment it starts. An engine whose
    /// transactions cost round trips of their own (PostgreSQL's `BEGIN` and `ROLLBACK`) runs
    /// it outside one.
    async fn read_once(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        self.read().await?.query(sql, params).await
    }
    /// Whether a statement may bind arrays as text (`CAST($1 AS uuid[])`), read them as rows
    /// (`unnest`) and join each row to a subquery that reads for it (`LATERAL`).
    fn joins_arrays_laterally(&self) -> bool {
        false
    }
    /// Whether a compound select with its own `ORDER BY … LIMIT` merges its parts, each read
    /// in that order from an index, and stops at the limit (SQLite), so that the parts need no
    /// order and limit of their own. On PostgreSQL the same text made an officer's list slower
    /// (2.34 → 2.77 ms one at a time at 10M), so there each part keeps them.
    fn merges_ordered_parts(&self) -> bool {
        false
    }
    /// Rewrites `table` in the order of its primary key and refreshes the planner's statistics
    /// of it, where the engine stores rows in the order they are written. An engine that keeps
    /// tables in key order has nothing to do.
    async fn compact(&self, _table: &str) -> Result<(), EngineError> {
        Ok(())
    }
    /// A write transaction that also holds the lock for schema changes, so that several
    /// servers starting together migrate once.
    async fn migration(&self) -> Result<Box<dyn Tx>, EngineError>;
    /// Live events published by committed transactions of any server process on this database.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String>;
}

/// Where reading statements run: inside a transaction, or each on its own, seeing the moment
/// it starts. A read that is one statement needs no transaction, whose `BEGIN` and `ROLLBACK`
/// cost PostgreSQL two round trips.
pub enum Reader<'a> {
    In(&'a mut dyn Tx),
    Once(&'a dyn Engine),
}

impl Reader<'_> {
    pub async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, EngineError> {
        match self {
            Reader::In(tx) => tx.query(sql, params).await,
            Reader::Once(engine) => engine.read_once(sql, params).await,
        }
    }
}

/// How many live events a slow subscriber may fall behind before it misses some.
pub const EVENT_BUFFER: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instant_text_sorts_as_time() {
        let a = instant_text(datetime!(2026-11-22 03:00:00.5 UTC));
        let b = instant_text(datetime!(2026-11-22 10:00:00 +07:00));
        assert_eq!(a, "2026-11-22T03:00:00.500000Z");
        assert!(b < a);
    }

    #[test]
    fn rows_read_text_encodings() {
        let row = Row {
            columns: vec!["id".to_string(), "d".into(), "at".into(), "n".into()].into(),
            values: vec![
                Value::Text(Some("01890a5d-ac96-774b-bcce-b302099a8057".into())),
                Value::Text(Some("2018-01-24".into())),
                Value::Text(Some("2026-11-22T03:00:00.500000Z".into())),
                Value::Text(None),
            ],
        };
        assert!(row.uuid("id").is_ok());
        assert_eq!(row.date("d").unwrap(), time::macros::date!(2018 - 01 - 24));
        assert_eq!(
            row.instant("at").unwrap(),
            datetime!(2026-11-22 03:00:00.5 UTC)
        );
        assert_eq!(row.opt_date("n").unwrap(), None);
        assert!(row.text("n").is_err());
        assert!(row.text("missing").is_err());
    }
}
