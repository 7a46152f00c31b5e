//! Many rows in few statements, as multi-row `INSERT … VALUES`: a bulk write crosses to the
//! engine once per chunk instead of once per row. Engines without a faster way use this for
//! [`Tx::insert_many`]. Reads of many ids go the same way ([`rows_with_ids`]).

use std::collections::BTreeSet;
use std::fmt::Write;

use uuid::Uuid;

use crate::engine::{EngineError, OnConflict, Reader, Row, Tx, Value};

/// Parameters per statement, under SQLite's limit of 32,766 and PostgreSQL's of 65,535.
pub const PARAMETERS_PER_STATEMENT: usize = 30_000;

/// [`Tx::insert_many`] as multi-row `INSERT … VALUES` statements.
pub async fn insert_values(
    tx: &mut dyn Tx,
    table: &str,
    columns: &[&str],
    conflict: OnConflict<'_>,
    rows: Vec<Vec<Value>>,
    after_each: &mut (dyn FnMut(usize) + Send),
) -> Result<(), EngineError> {
    let width = columns.len();
    let tail = conflict.clause(table, columns);
    let most = (PARAMETERS_PER_STATEMENT / width).max(1);
    let mut written = 0;
    let mut left = rows.len();
    let mut rows = rows.into_iter();
    while left > 0 {
        // Chunks of a power of two rows, so that a few statement texts serve every import and
        // the engine's statement cache prepares each once.
        let chunk = 1 << (left.min(most).ilog2());
        left -= chunk;
        let mut params = Vec::with_capacity(chunk * width);
        // Written into one text: a placeholder formatted apiece was a twentieth of an
        // import's time at 300 rows a call.
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        for (i, row) in rows.by_ref().take(chunk).enumerate() {
            debug_assert_eq!(row.len(), width, "a value for every column of {table}");
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for column in 0..width {
                let separator = if column == 0 { "" } else { ", " };
                let _ = write!(sql, "{separator}${}", params.len() + column + 1);
            }
            sql.push(')');
            params.extend(row);
        }
        written += chunk;
        sql.push(' ');
        sql.push_str(&tail);
        tx.execute(&sql, params).await?;
        after_each(written);
    }
    Ok(())
}

/// The rows of `select`, which ends with the column to match, whose column is one of `ids`:
/// a statement per chunk of ids that fits the engines' parameter limits.
pub(crate) async fn rows_with_ids(
    mut reader: Reader<'_>,
    select: &str,
    ids: BTreeSet<Uuid>,
) -> Result<Vec<Row>, EngineError> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let mut rows = Vec::new();
    for chunk in ids.chunks(PARAMETERS_PER_STATEMENT) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        rows.extend(
            reader
                .query(
                    &format!("{select} IN ({})", placeholders.join(", ")),
                    chunk.iter().copied().map(Value::from).collect(),
                )
                .await?,
        );
    }
    Ok(rows)
}
