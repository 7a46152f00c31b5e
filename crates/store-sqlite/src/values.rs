//! Crossing between the shared queries' values and SQLite's: placeholders, parameters, result
//! rows and errors.

use std::sync::Arc;

use lienhoan_store_sql::engine::{EngineError, Row, Value, date_text, instant_text};
use rusqlite::types::{Value as Stored, ValueRef};
use rusqlite::{ErrorCode, Statement, ffi};

pub fn other(e: impl std::fmt::Display) -> EngineError {
    EngineError::Other(e.to_string())
}

/// Another process holds the lock this connection needs.
pub fn is_busy(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
}

pub fn engine_error(e: rusqlite::Error) -> EngineError {
    if is_busy(&e) {
        return EngineError::Busy;
    }
    match &e {
        rusqlite::Error::SqliteFailure(failure, message)
            if failure.code == ErrorCode::ConstraintViolation
                && matches!(
                    failure.extended_code,
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
        {
            EngineError::Unique(message.clone().unwrap_or_else(|| e.to_string()))
        }
        _ => other(e),
    }
}

/// The shared queries write `$N`; SQLite reads `?N` as the N-th parameter, which binds by
/// index with no name lookup. A list's statement runs to several kilobytes and is rewritten
/// for every request, so the text is copied in runs between the bytes that matter.
pub fn placeholders(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let (mut copied, mut in_string) = (0, false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' => in_string = !in_string,
            b'$' if !in_string && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                // `$` is ASCII, so `i` and `i + 1` are character boundaries.
                out.push_str(&sql[copied..i]);
                out.push('?');
                copied = i + 1;
            }
            _ => {}
        }
    }
    out.push_str(&sql[copied..]);
    out
}

fn stored(value: Value) -> Stored {
    let text = |v: Option<String>| v.map_or(Stored::Null, Stored::Text);
    match value {
        Value::Bool(v) => v.map_or(Stored::Null, |b| Stored::Integer(b.into())),
        Value::Int(v) => v.map_or(Stored::Null, Stored::Integer),
        Value::Text(v) => text(v),
        Value::Bytes(v) => v.map_or(Stored::Null, Stored::Blob),
        Value::Uuid(v) => text(v.map(|u| u.to_string())),
        Value::Date(v) => text(v.map(date_text)),
        Value::Instant(v) => text(v.map(instant_text)),
    }
}

/// Binds `params` as `?1`, `?2`, … of `statement`.
pub fn bind(statement: &mut Statement<'_>, params: Vec<Value>) -> Result<(), EngineError> {
    for (index, value) in params.into_iter().enumerate() {
        statement
            .raw_bind_parameter(index + 1, stored(value))
            .map_err(engine_error)?;
    }
    Ok(())
}

fn value(raw: ValueRef<'_>) -> Result<Value, EngineError> {
    Ok(match raw {
        ValueRef::Null => Value::Text(None),
        ValueRef::Integer(v) => Value::Int(Some(v)),
        // No shared column is real; an expression SQLite widens to real reads as its
        // integer part.
        ValueRef::Real(v) => Value::Int(Some(v as i64)),
        ValueRef::Text(bytes) => {
            Value::Text(Some(std::str::from_utf8(bytes).map_err(other)?.to_owned()))
        }
        ValueRef::Blob(bytes) => Value::Bytes(Some(bytes.to_vec())),
    })
}

/// Steps `statement` (already bound) to the end and returns its rows.
pub fn rows(statement: &mut Statement<'_>) -> Result<Vec<Row>, EngineError> {
    let columns: Arc<[String]> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(engine_error)? {
        let values = (0..columns.len())
            .map(|i| value(row.get_ref(i).map_err(engine_error)?))
            .collect::<Result<_, _>>()?;
        out.push(Row {
            columns: columns.clone(),
            values,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{EngineError, engine_error, placeholders};

    #[test]
    fn rewrites_numbered_parameters_outside_strings() {
        let cases = [
            (
                "SELECT '$1', $1 WHERE a = $12 AND b LIKE '%$%'",
                "SELECT '$1', ?1 WHERE a = ?12 AND b LIKE '%$%'",
            ),
            ("VALUES ($1, $2), ($3, $4)", "VALUES (?1, ?2), (?3, ?4)"),
            ("a = $1 OR b = $1", "a = ?1 OR b = ?1"),
            ("a = $2 AND b = $1", "a = ?2 AND b = ?1"),
            ("SELECT 1", "SELECT 1"),
            (
                "a = 'Sơn Dương $1' AND b = $1",
                "a = 'Sơn Dương $1' AND b = ?1",
            ),
            ("a = $", "a = $"),
            ("$1", "?1"),
        ];
        for (shared, sqlite) in cases {
            assert_eq!(placeholders(shared), sqlite, "{shared}");
        }
    }

    #[test]
    fn a_duplicate_key_is_a_unique_violation_and_other_failures_are_not() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER NOT NULL);
             INSERT INTO t VALUES (1, 'a', 0);",
        )
        .unwrap();
        let cases = [
            ("INSERT INTO t VALUES (1, 'b', 0)", true),
            ("INSERT INTO t VALUES (2, 'a', 0)", true),
            ("INSERT INTO t VALUES (3, 'c', NULL)", false),
            ("INSERT INTO missing VALUES (1)", false),
        ];
        for (sql, unique) in cases {
            let error = engine_error(conn.execute(sql, []).unwrap_err());
            assert_eq!(
                matches!(error, EngineError::Unique(_)),
                unique,
                "{sql}: {error}"
            );
        }
    }

    #[test]
    fn a_lock_held_elsewhere_is_busy() {
        let dir = std::env::temp_dir().join(format!("lienhoan-busy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.db");
        let holder = rusqlite::Connection::open(&path).unwrap();
        holder
            .execute_batch("PRAGMA journal_mode = WAL; BEGIN IMMEDIATE;")
            .unwrap();
        let waiter = rusqlite::Connection::open(&path).unwrap();
        waiter.busy_timeout(std::time::Duration::ZERO).unwrap();
        let error = waiter.execute_batch("BEGIN IMMEDIATE").unwrap_err();
        assert!(matches!(engine_error(error), EngineError::Busy));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
