//! Inserts a PostgreSQL transaction holds back to send with its next statement (or that its
//! insert group sends before it commits, see `shared`), and the typed arrays that carry many
//! rows as a few parameters.

use std::collections::HashMap;

use lienhoan_store_sql::engine::{EngineError, OnConflict, Value};
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
/// the inserts wait only until the transaction's next statement, and a table's rows are one
/// part: a later insert into it is merged with the rows waiting, as its conflict rule would
/// have it change them. Live events wait with them, and go in the same statement.
#[derive(Default)]
pub(crate) struct PendingInserts {
    inserts: Vec<PendingInsert>,
    events: Vec<String>,
}

struct PendingInsert {
    table: String,
    columns: Vec<String>,
    tail: String,
    merge: Merge,
    rows: Vec<Vec<Value>>,
    /// Where each key's row is, for the rules that merge rows by key.
    keyed: HashMap<Vec<Value>, usize>,
}

/// How a row joins the rows waiting for its table: `OnConflict` by column positions.
#[derive(PartialEq)]
enum Merge {
    Append,
    Add {
        key: Vec<usize>,
        measures: Vec<usize>,
    },
    Replace {
        key: Vec<usize>,
    },
}

impl Merge {
    fn of(conflict: OnConflict<'_>, columns: &[&str]) -> Result<Self, EngineError> {
        let positions = |names: &[&str]| {
            names
                .iter()
                .map(|name| {
                    columns
                        .iter()
                        .position(|c| c == name)
                        .ok_or_else(|| other(format!("no column {name} to merge rows by")))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match conflict {
            OnConflict::Refuse => Self::Append,
            OnConflict::Add { key, measures } => Self::Add {
                key: positions(key)?,
                measures: positions(measures)?,
            },
            OnConflict::Replace { key } => Self::Replace {
                key: positions(key)?,
            },
        })
    }

    fn key(&self) -> Option<&[usize]> {
        match self {
            Self::Append => None,
            Self::Add { key, .. } | Self::Replace { key } => Some(key),
        }
    }
}

impl PendingInsert {
    fn push(&mut self, row: Vec<Value>) -> Result<(), EngineError> {
        if row.len() != self.columns.len() {
            return Err(other(format!(
                "a row of {} values for {} columns of {}",
                row.len(),
                self.columns.len(),
                self.table
            )));
        }
        let Some(key) = self.merge.key() else {
            self.rows.push(row);
            return Ok(());
        };
        let key: Vec<Value> = key.iter().map(|&i| row[i].clone()).collect();
        // A key with a null never conflicts in SQL.
        if key.iter().any(Value::is_null) {
            self.rows.push(row);
            return Ok(());
        }
        let Some(&at) = self.keyed.get(&key) else {
            self.keyed.insert(key, self.rows.len());
            self.rows.push(row);
            return Ok(());
        };
        let waiting = &mut self.rows[at];
        match &self.merge {
            Merge::Add { measures, .. } => {
                for &m in measures {
                    waiting[m] = match (&waiting[m], &row[m]) {
                        (Value::Int(Some(a)), Value::Int(Some(b))) => Value::Int(Some(
                            a.checked_add(*b)
                                .ok_or_else(|| other(format!("{a} + {b} overflows")))?,
                        )),
                        (a, b) => return Err(other(format!("cannot add {b:?} to {a:?}"))),
                    };
                }
            }
            _ => *waiting = row,
        }
        Ok(())
    }
}

/// Rows as one array per column, typed by the first row.
fn column_arrays(
    rows: Vec<Vec<Value>>,
) -> Result<(Vec<&'static str>, Vec<ColumnArray>), EngineError> {
    let Some(first) = rows.first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let types = first.iter().map(array_type).collect();
    let mut arrays: Vec<ColumnArray> = first
        .iter()
        .map(|v| ColumnArray::for_value(v, rows.len()))
        .collect();
    for row in rows {
        for (array, value) in arrays.iter_mut().zip(row) {
            array.push(value)?;
        }
    }
    Ok((types, arrays))
}

impl PendingInserts {
    pub(crate) fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.events.is_empty()
    }

    pub(crate) fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Rows waiting for `table`.
    pub(crate) fn rows_for(&self, table: &str) -> usize {
        self.inserts
            .iter()
            .find(|insert| insert.table == table)
            .map_or(0, |insert| insert.rows.len())
    }

    /// Whether `sql` names a table that one of the inserts writes.
    pub(crate) fn named_in(&self, sql: &str) -> bool {
        self.inserts.iter().any(|insert| {
            sql.match_indices(insert.table.as_str()).any(|(at, table)| {
                let word = |c: char| c.is_alphanumeric() || c == '_';
                !sql[..at].ends_with(word) && !sql[at + table.len()..].starts_with(word)
            })
        })
    }

    /// Adds rows to the table's waiting rows, merged by `conflict`; the table's earlier
    /// inserts had the same columns and rule.
    pub(crate) fn push(
        &mut self,
        table: &str,
        columns: &[&str],
        conflict: OnConflict<'_>,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), EngineError> {
        let mut insert = PendingInsert {
            table: table.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            tail: conflict.clause(table, columns),
            merge: Merge::of(conflict, columns)?,
            rows: Vec::with_capacity(rows.len()),
            keyed: HashMap::new(),
        };
        rows.into_iter().try_for_each(|row| insert.push(row))?;
        self.add(insert)
    }

    fn add(&mut self, insert: PendingInsert) -> Result<(), EngineError> {
        let Some(waiting) = self.inserts.iter_mut().find(|i| i.table == insert.table) else {
            self.inserts.push(insert);
            return Ok(());
        };
        if waiting.columns != insert.columns || waiting.merge != insert.merge {
            return Err(other(format!(
                "two inserts into {} with other columns or rules",
                insert.table
            )));
        }
        insert
            .rows
            .into_iter()
            .try_for_each(|row| waiting.push(row))
    }

    /// Adds a live event, to be published with the inserts.
    pub(crate) fn publish(&mut self, payload: String) {
        self.events.push(payload);
    }

    /// Adds another transaction's waiting inserts and events to these, as if they came after.
    pub(crate) fn absorb(&mut self, later: PendingInserts) -> Result<(), EngineError> {
        later
            .inserts
            .into_iter()
            .try_for_each(|insert| self.add(insert))?;
        self.events.extend(later.events);
        Ok(())
    }

    /// The inserts and events as one statement: every insert but the last as a `WITH` part,
    /// and the events published by its last part.
    pub(crate) fn statement(mut self, channel: &str) -> Result<(String, PgArguments), EngineError> {
        use sqlx::Arguments;
        let mut args = PgArguments::default();
        let events = std::mem::take(&mut self.events);
        let mut parts = self.parts(&mut args)?;
        if !events.is_empty() {
            args.add(channel).map_err(other)?;
            args.add(events).map_err(other)?;
            let n = args.len();
            parts.push(format!(
                "SELECT pg_notify(${}, event) FROM UNNEST(${n}::text[]) AS event",
                n - 1
            ));
        }
        let last = parts.pop().unwrap_or_default();
        if parts.is_empty() {
            return Ok((last, args));
        }
        Ok((format!("{} {last}", with(&parts)), args))
    }

    /// The inserts, each a statement whose arrays are added to `args` after those it holds.
    /// Events are left out: a caller that has some sends [`Self::statement`].
    pub(crate) fn parts(self, args: &mut PgArguments) -> Result<Vec<String>, EngineError> {
        use sqlx::Arguments;
        let mut parts = Vec::with_capacity(self.inserts.len());
        let mut next = args.len() + 1;
        for insert in self.inserts {
            let (types, arrays) = column_arrays(insert.rows)?;
            let placeholders: Vec<String> = types
                .iter()
                .enumerate()
                .map(|(i, kind)| format!("${}::{kind}[]", next + i))
                .collect();
            next += placeholders.len();
            parts.push(format!(
                "INSERT INTO {} ({}) SELECT * FROM UNNEST({}) WHERE true {}",
                insert.table,
                insert.columns.join(", "),
                placeholders.join(", "),
                insert.tail
            ));
            for array in arrays {
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

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<Vec<Value>>;

    fn int(n: i64) -> Value {
        Value::Int(Some(n))
    }

    fn text(s: &str) -> Value {
        Value::Text(Some(s.to_owned()))
    }

    /// Two inserts into one table, one after the other, and the rows that wait after them.
    #[test]
    fn later_rows_merge_as_their_conflict_rule_says() {
        let key = &["k"][..];
        let cases: Vec<(OnConflict, Rows, Rows, Rows)> = vec![
            (
                OnConflict::Refuse,
                vec![vec![text("a"), int(1)]],
                vec![vec![text("a"), int(2)]],
                vec![vec![text("a"), int(1)], vec![text("a"), int(2)]],
            ),
            (
                OnConflict::Add {
                    key,
                    measures: &["n"],
                },
                vec![vec![text("a"), int(1)], vec![text("b"), int(2)]],
                vec![vec![text("a"), int(5)], vec![text("c"), int(-1)]],
                vec![
                    vec![text("a"), int(6)],
                    vec![text("b"), int(2)],
                    vec![text("c"), int(-1)],
                ],
            ),
            (
                OnConflict::Add {
                    key,
                    measures: &["n"],
                },
                vec![vec![Value::Text(None), int(1)]],
                vec![vec![Value::Text(None), int(2)]],
                vec![
                    vec![Value::Text(None), int(1)],
                    vec![Value::Text(None), int(2)],
                ],
            ),
            (
                OnConflict::Replace { key },
                vec![vec![text("a"), int(1)], vec![text("b"), int(2)]],
                vec![vec![text("a"), int(7)]],
                vec![vec![text("a"), int(7)], vec![text("b"), int(2)]],
            ),
            (
                OnConflict::Add {
                    key,
                    measures: &["n"],
                },
                vec![],
                vec![vec![text("a"), int(1)], vec![text("a"), int(1)]],
                vec![vec![text("a"), int(2)]],
            ),
        ];
        for (conflict, first, second, expected) in cases {
            let mut pending = PendingInserts::default();
            pending.push("t", &["k", "n"], conflict, first).unwrap();
            let mut later = PendingInserts::default();
            later.push("t", &["k", "n"], conflict, second).unwrap();
            pending.absorb(later).unwrap();
            assert_eq!(pending.inserts.len(), 1, "{conflict:?}: one part per table");
            assert_eq!(pending.inserts[0].rows, expected, "{conflict:?}");
        }
    }

    #[test]
    fn inserts_into_one_table_by_other_rules_do_not_merge() {
        let mut pending = PendingInserts::default();
        let row = || vec![vec![text("a"), int(1)]];
        pending
            .push("t", &["k", "n"], OnConflict::Refuse, row())
            .unwrap();
        let replace = OnConflict::Replace { key: &["k"] };
        assert!(pending.push("t", &["k", "n"], replace, row()).is_err());
        assert!(
            pending
                .push(
                    "t",
                    &["n", "k"],
                    OnConflict::Refuse,
                    vec![vec![int(1), text("a")]]
                )
                .is_err()
        );
        let unknown = OnConflict::Replace { key: &["id"] };
        assert!(pending.push("u", &["k", "n"], unknown, row()).is_err());
        let add = OnConflict::Add {
            key: &["k"],
            measures: &["n"],
        };
        let most = vec![vec![text("a"), int(i64::MAX)]];
        pending.push("v", &["k", "n"], add, most).unwrap();
        assert!(
            pending.push("v", &["k", "n"], add, row()).is_err(),
            "a sum that overflows is refused"
        );
    }

    /// Events go in the inserts' statement, as its last part; inserts alone end with their last.
    #[test]
    fn events_are_published_by_the_statement_that_sends_the_inserts() {
        let cases = [
            (vec![], "INSERT INTO u"),
            (vec!["one".to_owned()], "SELECT pg_notify($5, event)"),
        ];
        for (events, last) in cases {
            let mut pending = PendingInserts::default();
            for table in ["t", "u"] {
                let rows = vec![vec![text("a"), int(1)]];
                pending
                    .push(table, &["k", "n"], OnConflict::Refuse, rows)
                    .unwrap();
            }
            events.iter().for_each(|e| pending.publish(e.clone()));
            let (sql, _) = pending.statement("channel").unwrap();
            assert!(sql.starts_with("WITH insert0 AS (INSERT INTO t"), "{sql}");
            let (_, main) = sql.rsplit_once(" ) ").unwrap();
            assert!(main.starts_with(last), "{events:?}: {sql}");
        }
    }
}
