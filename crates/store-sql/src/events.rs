//! Live events, published inside the transaction that causes them.

use lienhoan_store::LiveEvent;
use time::Date;
use uuid::Uuid;

use crate::engine::{EngineError, Tx};
use crate::params;

pub async fn publish(tx: &mut dyn Tx, event: &LiveEvent) -> Result<(), EngineError> {
    if event.recipients.is_empty() {
        return Ok(());
    }
    let payload = serde_json::to_string(event).map_err(|e| EngineError::Other(e.to_string()))?;
    tx.publish(payload).await
}

/// Organisations that shared a cluster with `organisation` on `day`, other than itself.
pub async fn cluster_neighbours(
    tx: &mut dyn Tx,
    organisation: Uuid,
    day: Date,
) -> Result<Vec<Uuid>, EngineError> {
    let rows = tx
        .query(
            "SELECT DISTINCT mv.organisation_id FROM cluster_memberships mo
             JOIN cluster_memberships mv ON mv.cluster_id = mo.cluster_id
             WHERE mo.organisation_id = $1 AND mv.organisation_id <> $1
               AND mo.joined_on <= $2 AND (mo.left_on IS NULL OR mo.left_on > $2)
               AND mv.joined_on <= $2 AND (mv.left_on IS NULL OR mv.left_on > $2)",
            params![organisation, day],
        )
        .await?;
    rows.iter().map(|r| r.uuid("organisation_id")).collect()
}
