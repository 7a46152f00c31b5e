//! Appending to and reading the hash-chained audit log.

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::audit::{AuditEntry, ChainBreak, ChainVerifier, entry_hash};
use lienhoan_store::{AuditQuery, AuditStore, AuditView, Page, Progress, StoreResult};
use uuid::Uuid;

use lienhoan_domain::format::start_of_day;

use crate::engine::{AuditHead, EngineError, OnConflict, Reader, Row, Tx};
use crate::{Conditions, ListSql, SqlStore, actor_name, now, page_bounds, paged, params, require};

/// What a write records about itself.
pub struct Change<'a> {
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: Option<Uuid>,
    pub summary: serde_json::Value,
}

impl<'a> Change<'a> {
    pub fn about(
        action: &'a str,
        target_kind: &'a str,
        target_id: Option<Uuid>,
        summary: serde_json::Value,
    ) -> Self {
        Self {
            action,
            target_kind,
            target_id,
            summary,
        }
    }
}

/// Appends one entry in the caller's transaction. Updating the head row first takes its lock,
/// so concurrent appends queue up instead of forking the chain; an engine that already holds
/// the lock for the transaction knows the head without the update. The caller's held-back
/// inserts may go with that update: none is into the audit tables.
pub async fn record(tx: &mut dyn Tx, actor: &Actor, change: Change<'_>) -> Result<(), EngineError> {
    let head = match tx.known_audit_head() {
        Some(head) => head.clone(),
        None => locked_head(tx).await?,
    };
    let mut entry = AuditEntry {
        seq: head.seq + 1,
        id: Uuid::now_v7(),
        at: now(),
        actor_id: (actor.user_id != Uuid::nil()).then_some(actor.user_id),
        actor_name: actor_name(actor).to_owned(),
        action: change.action.to_owned(),
        target_kind: change.target_kind.to_owned(),
        target_id: change.target_id,
        summary: change.summary,
        prev_hash: head.hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    // In the order of [`COLUMNS`], which every read of the log names too.
    let row = crate::params![
        entry.seq,
        entry.id,
        entry.at,
        entry.actor_id,
        entry.actor_name.as_str(),
        entry.action.as_str(),
        entry.target_kind.as_str(),
        entry.target_id,
        entry.summary.to_string(),
        entry.prev_hash.as_str(),
        entry.hash.as_str(),
    ];
    let columns: Vec<&str> = COLUMNS.split(", ").collect();
    tx.insert_many(
        "audit_log",
        &columns,
        OnConflict::Refuse,
        vec![row],
        &mut |_| {},
    )
    .await?;
    // The head row exists; written as an insert, the new head can go with the entry in one
    // statement where the engine batches inserts (see `Tx::insert_many`).
    tx.insert_many(
        "audit_head",
        &["id", "seq", "hash"],
        OnConflict::Replace { key: &["id"] },
        vec![params![1i64, entry.seq, entry.hash.as_str()]],
        &mut |_| {},
    )
    .await?;
    if let Some(head) = tx.known_audit_head() {
        *head = AuditHead {
            seq: entry.seq,
            hash: entry.hash,
        };
    }
    Ok(())
}

/// The head, read by the update that locks its row until the transaction ends.
async fn locked_head(tx: &mut dyn Tx) -> Result<AuditHead, EngineError> {
    let rows = tx
        .query_beside_inserts(
            "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash",
            vec![],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| EngineError::Other("audit head row is missing".into()))?;
    Ok(AuditHead {
        seq: row.int("seq")?,
        hash: row.text("hash")?,
    })
}

pub(crate) fn entry(row: &Row) -> Result<AuditEntry, EngineError> {
    let summary = row.text("summary")?;
    Ok(AuditEntry {
        seq: row.int("seq")?,
        id: row.uuid("id")?,
        at: row.instant("at")?,
        actor_id: row.opt_uuid("actor_id")?,
        actor_name: row.text("actor_name")?,
        action: row.text("action")?,
        target_kind: row.text("target_kind")?,
        target_id: row.opt_uuid("target_id")?,
        // Text that is not JSON hashes as a JSON string, so tampering still shows.
        summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::String(summary)),
        prev_hash: row.text("prev_hash")?,
        hash: row.text("hash")?,
    })
}

pub(crate) const COLUMNS: &str =
    "seq, id, at, actor_id, actor_name, action, target_kind, target_id, summary, prev_hash, hash";

#[async_trait]
impl AuditStore for SqlStore {
    async fn audit_log(&self, actor: &Actor, query: &AuditQuery) -> StoreResult<Page<AuditView>> {
        require(actor.can_read_audit())?;
        let (limit, offset) = page_bounds(query.limit, query.offset);
        // Dates are Vietnamese calendar days; the log stores instants.
        let from = query.from.map(start_of_day);
        let to = query.to.and_then(|d| d.next_day()).map(start_of_day);
        // Only the filters given, so that a statement planned without its values (PostgreSQL)
        // still reads the target's or the days' index.
        let mut c = Conditions::default();
        c.add_some("action LIKE $$ || '%'", query.action.clone());
        c.add_some("actor_name = $$", query.actor_name.clone());
        c.add_some("target_id = $$", query.target_id);
        c.add_some("at >= $$", from);
        c.add_some("at < $$", to);
        let (filter, args) = c.into_where();
        paged(
            Reader::Once(self.engine_ref()),
            ListSql::plain(COLUMNS, "FROM audit_log", &filter, "seq DESC"),
            args,
            (limit, offset),
            entry,
        )
        .await
    }

    async fn verify_audit(&self, progress: Progress<'_>) -> StoreResult<Result<u64, ChainBreak>> {
        let mut tx = self.engine.read().await?;
        let head = tx
            .query("SELECT seq, hash FROM audit_head WHERE id = 1", vec![])
            .await?;
        let head = head
            .first()
            .ok_or_else(|| EngineError::Other("audit head row is missing".into()))?;
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        loop {
            let rows = tx
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000"
                    ),
                    params![after],
                )
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.int("seq")?;
            for row in &rows {
                if let Err(broken) = verifier.push(&entry(row)?) {
                    return Ok(Err(broken));
                }
            }
            progress(verifier.checked);
        }
        Ok(verifier.finish(head.int("seq")?, &head.text("hash")?))
    }
}
