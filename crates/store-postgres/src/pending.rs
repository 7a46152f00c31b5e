//! Inserts a PostgreSQL transaction holds back to send with its next statement, and the typed
//! arrays that carry many rows as a few parameters.

use lienhoan_store_sql::engine::{EngineError, Value};
use sqlx::postgres::PgArguments;

use crate::other;

/// Reported by a later statement, a unique violation would read as that statement's own (a
/// taken username, say); it is a held-back insert's, so it is reported as such.
pub(crate) fn held_back(e: EngineError) -> EngineError {
    match e {
        EngineError::Unique(message) => {
            EngineError::Other(format!("a held-back insert: {message}"))
        }
        e => e,
    }
}

/// Rows an insert may have and still wait for the transaction's next statement.
pub(crate) const PENDING_ROWS_MAX: usize = 100;

/// Inserts not yet sent. A write records an incident as an insert into each of several
/// tables (the record, its daily counter and the rollups), none reading another, so they go
/// to the server as one statement, each insert a data-modifying `WITH` part, in one round
/// trip where they would take one each. A statement sees none of its own parts' changes, so
/// the inserts wait only until the transaction's next statement, and only one per table:
/// everything read or written later sees them.
#[derive(Default)]
pub(crate) struct PendingInserts(Vec<PendingInsert>);

struct PendingInsert {
    table: String,
    columns: String,
    tail: String,
    types: Vec<&'static str>,
    arrays: Vec<ColumnArray>,
}

impl PendingInserts {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn has(&self, table: &str) -> bool {
        self.0.iter().any(|insert| insert.table == table)
    }

    /// Whether `sql` names a table that one of the inserts writes.
    pub(crate) fn named_in(&self, sql: &str) -> bool {
        self.0.iter().any(|insert| {
            sql.match_indices(insert.table.as_str()).any(|(at, table)| {
                let word = |c: char| c.is_alphanumeric() || c == '_';
                !sql[..at].ends_with(word) && !sql[at + table.len()..].starts_with(word)
            })
        })
    }

    pub(crate) fn push(
        &mut self,
        table: &str,
        columns: &[&str],
        tail: &str,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), EngineError> {
        let types = rows
            .first()
            .map_or_else(Vec::new, |first| first.iter().map(array_type).collect());
        self.0.push(PendingInsert {
            table: table.to_owned(),
            columns: columns.join(", "),
            tail: tail.to_owned(),
            types,
            arrays: column_arrays(columns.len(), rows)?,
        });
        Ok(())
    }

    /// The inserts as one statement: every one but the last as a `WITH` part.
    pub(crate) fn statement(self) -> Result<(String, PgArguments), EngineError> {
        let mut args = PgArguments::default();
        let mut parts = self.parts(&mut args)?;
        let last = parts.pop().unwrap_or_default();
        if parts.is_empty() {
            return Ok((last, args));
        }
        Ok((format!("{} {last}", with(&parts)), args))
    }

    /// The inserts, each a statement whose arrays are added to `args` after those it holds.
    pub(crate) fn parts(self, args: &mut PgArguments) -> Result<Vec<String>, EngineError> {
        use sqlx::Arguments;
        let mut parts = Vec::with_capacity(self.0.len());
        let mut next = args.len() + 1;
        for insert in self.0 {
            let arrays: Vec<String> = insert
                .types
                .iter()
                .enumerate()
                .map(|(i, kind)| format!("${}::{kind}[]", next + i))
                .collect();
            next += arrays.len();
            parts.push(format!(
                "INSERT INTO {} ({}) SELECT * FROM UNNEST({}) WHERE true {}",
                insert.table,
                insert.columns,
                arrays.join(", "),
                insert.tail
            ));
            for array in insert.arrays {
                array.add_to(args)?;
            }
        }
        Ok(parts)
    }
}

/// Statements as the data-modifying `WITH` parts of the statement that follows.
pub(crate) fn with(parts: &[String]) -> String {
    let parts: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(n, part)| format!("insert{n} AS ({part})"))
        .collect();
    format!("WITH {}", parts.join(", "))
}

fn array_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::Int(_) => "bigint",
        Value::Text(_) => "text",
        Value::Bytes(_) => "bytea",
        Value::Uuid(_) => "uuid",
        Value::Date(_) => "date",
        Value::Instant(_) => "timestamptz",
    }
}

/// One array of a column's values.
enum ColumnArray {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Bytes(Vec<Option<Vec<u8>>>),
    Uuid(Vec<Option<uuid::Uuid>>),
    Date(Vec<Option<time::Date>>),
    Instant(Vec<Option<time::OffsetDateTime>>),
}

impl ColumnArray {
    fn for_value(value: &Value, capacity: usize) -> Self {
        match value {
            Value::Bool(_) => Self::Bool(Vec::with_capacity(capacity)),
            Value::Int(_) => Self::Int(Vec::with_capacity(capacity)),
            Value::Text(_) => Self::Text(Vec::with_capacity(capacity)),
            Value::Bytes(_) => Self::Bytes(Vec::with_capacity(capacity)),
            Value::Uuid(_) => Self::Uuid(Vec::with_capacity(capacity)),
            Value::Date(_) => Self::Date(Vec::with_capacity(capacity)),
            Value::Instant(_) => Self::Instant(Vec::with_capacity(capacity)),
        }
    }

    fn push(&mut self, value: Value) -> Result<(), EngineError> {
        match (self, value) {
            (Self::Bool(a), Value::Bool(v)) => a.push(v),
            (Self::Int(a), Value::Int(v)) => a.push(v),
            (Self::Text(a), Value::Text(v)) => a.push(v),
            (Self::Bytes(a), Value::Bytes(v)) => a.push(v),
            (Self::Uuid(a), Value::Uuid(v)) => a.push(v),
            (Self::Date(a), Value::Date(v)) => a.push(v),
            (Self::Instant(a), Value::Instant(v)) => a.push(v),
            (_, value) => {
                return Err(other(format!("a column of one type holds {value:?}")));
            }
        }
        Ok(())
    }

    fn add_to(self, args: &mut PgArguments) -> Result<(), EngineError> {
        use sqlx::Arguments;
        match self {
            Self::Bool(a) => args.add(a),
            Self::Int(a) => args.add(a),
            Self::Text(a) => args.add(a),
            Self::Bytes(a) => args.add(a),
            Self::Uuid(a) => args.add(a),
            Self::Date(a) => args.add(a),
            Self::Instant(a) => args.add(a),
        }
        .map_err(other)
    }
}

/// The rows as one array per column, typed by the first row.
fn column_arrays(width: usize, rows: Vec<Vec<Value>>) -> Result<Vec<ColumnArray>, EngineError> {
    let mut arrays: Vec<ColumnArray> = match rows.first() {
        Some(first) => first
            .iter()
            .map(|v| ColumnArray::for_value(v, rows.len()))
            .collect(),
        None => Vec::new(),
    };
    for row in rows {
        if row.len() != width {
            return Err(other(format!(
                "a row of {} values for {width} columns",
                row.len()
            )));
        }
        for (array, value) in arrays.iter_mut().zip(row) {
            array.push(value)?;
        }
    }
    Ok(arrays)
}
