//! Many rows in few statements: a bulk write crosses to the engine once per chunk instead of
//! once per row, which is what makes imports run near the engine's own bulk speed.

use crate::engine::{EngineError, Tx, Value};

/// Parameters per statement, under SQLite's limit of 32,766 and PostgreSQL's of 65,535.
pub const PARAMETERS_PER_STATEMENT: usize = 30_000;

/// Inserts `rows` (each with one value per column) into `table`, `after_each` chunk is
/// written with the number of rows written so far. `tail` follows the VALUES list (an
/// `ON CONFLICT` clause, or nothing).
pub async fn insert_many(
    tx: &mut dyn Tx,
    table: &str,
    columns: &[&str],
    tail: &str,
    rows: Vec<Vec<Value>>,
    after_each: &mut (dyn FnMut(usize) + Send),
) -> Result<(), EngineError> {
    let width = columns.len();
    let chunk = (PARAMETERS_PER_STATEMENT / width).max(1);
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut params = Vec::with_capacity(chunk * width);
        let mut tuples = Vec::with_capacity(chunk);
        for row in rows.by_ref().take(chunk) {
            debug_assert_eq!(row.len(), width, "a value for every column of {table}");
            let first = params.len();
            let placeholders: Vec<String> = (first + 1..=first + width)
                .map(|i| format!("${i}"))
                .collect();
            tuples.push(format!("({})", placeholders.join(", ")));
            params.extend(row);
        }
        written += tuples.len();
        tx.execute(
            &format!(
                "INSERT INTO {table} ({}) VALUES {} {tail}",
                columns.join(", "),
                tuples.join(", ")
            ),
            params,
        )
        .await?;
        after_each(written);
    }
    Ok(())
}
