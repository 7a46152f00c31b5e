//! Statistics read from the counters: cost follows the number of counter rows in the range
//! (organisations × categories × outcomes × days with incidents), never the number of incidents.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::incident::Outcome;
use lienhoan_domain::stats::{Dimension, Figures, dimension_value, year_earlier};
use lienhoan_store::{
    Statistics, StatisticsQuery, StatisticsRow, StatisticsStore, StoreError, StoreResult,
};
use time::{Date, Month};
use uuid::Uuid;

use crate::engine::{EngineError, Tx};
use crate::{SqlStore, params, scope_param};

/// Figures per (organisation, category, outcome, month) of a cluster's members, counting each
/// member only for the days it was a member.
async fn monthly(
    tx: &mut dyn Tx,
    cluster_id: Uuid,
    from: Date,
    to: Date,
) -> Result<Vec<(Uuid, String, Outcome, Date, Figures)>, EngineError> {
    let sums = Figures::MEASURES
        .iter()
        .map(|m| format!("CAST(SUM(k.{m}) AS BIGINT) AS {m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = tx
        .query(
            &format!(
                "SELECT k.organisation_id, k.category, k.outcome, k.month, {sums}
                 FROM incident_counters k
                 JOIN cluster_memberships m ON m.organisation_id = k.organisation_id
                   AND m.cluster_id = $1 AND k.day >= m.joined_on
                   AND (m.left_on IS NULL OR k.day < m.left_on)
                 WHERE k.day >= $2 AND k.day <= $3
                 GROUP BY k.organisation_id, k.category, k.outcome, k.month"
            ),
            params![cluster_id, from, to],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let month = r.int("month")?;
            let first_day = Month::try_from((month % 100) as u8)
                .ok()
                .and_then(|m| Date::from_calendar_date((month / 100) as i32, m, 1).ok())
                .ok_or_else(|| EngineError::Other(format!("bad month {month}")))?;
            let outcome = r.text("outcome")?;
            let values = Figures::MEASURES.map(|m| r.int(m));
            let mut figures = [0i64; 8];
            for (slot, value) in figures.iter_mut().zip(values) {
                *slot = value?;
            }
            Ok((
                r.uuid("organisation_id")?,
                r.text("category")?,
                Outcome::parse(&outcome)
                    .ok_or_else(|| EngineError::Other(format!("unknown outcome {outcome}")))?,
                first_day,
                Figures::from_values(figures),
            ))
        })
        .collect()
}

fn group(
    rows: &[(Uuid, String, Outcome, Date, Figures)],
    dims: &[Dimension],
) -> BTreeMap<Vec<String>, Figures> {
    let mut groups: BTreeMap<Vec<String>, Figures> = BTreeMap::new();
    for (org, category, outcome, month, figures) in rows {
        let key = dims
            .iter()
            .map(|d| dimension_value(*d, *org, category, *outcome, *month))
            .collect();
        groups.entry(key).or_default().add(figures);
    }
    groups
}

fn total(groups: &BTreeMap<Vec<String>, Figures>) -> Figures {
    let mut sum = Figures::default();
    for figures in groups.values() {
        sum.add(figures);
    }
    sum
}

#[async_trait]
impl StatisticsStore for SqlStore {
    async fn statistics(&self, actor: &Actor, query: &StatisticsQuery) -> StoreResult<Statistics> {
        if query.to < query.from {
            return Err(StoreError::invalid("to", "error-end-before-start"));
        }
        let mut tx = self.engine.read().await?;
        let visible = tx
            .query(
                "SELECT c.id FROM clusters c WHERE c.id = $1 AND ($2 IS NULL OR EXISTS (
                    SELECT 1 FROM cluster_memberships s WHERE s.cluster_id = c.id AND s.organisation_id = $2))",
                params![query.cluster_id, scope_param(actor.cluster_scope())],
            )
            .await?;
        if visible.is_empty() {
            return Err(StoreError::NotFound);
        }
        let current = group(
            &monthly(tx.as_mut(), query.cluster_id, query.from, query.to).await?,
            &query.group_by,
        );
        let previous_range = query
            .compare_previous_year
            .then(|| (year_earlier(query.from), year_earlier(query.to)));
        let previous = match previous_range {
            Some((from, to)) => Some(group(
                &monthly(tx.as_mut(), query.cluster_id, from, to).await?,
                &query.group_by,
            )),
            None => None,
        };
        let mut keys: Vec<&Vec<String>> = current.keys().collect();
        if let Some(previous) = &previous {
            keys.extend(previous.keys().filter(|k| !current.contains_key(*k)));
        }
        keys.sort();
        let unit_names = unit_names(tx.as_mut(), &query.group_by, &keys).await?;
        let rows = keys
            .into_iter()
            .map(|key| StatisticsRow {
                labels: key
                    .iter()
                    .zip(&query.group_by)
                    .map(|(value, dim)| match dim {
                        Dimension::Unit => unit_names
                            .get(value)
                            .cloned()
                            .unwrap_or_else(|| value.clone()),
                        _ => value.clone(),
                    })
                    .collect(),
                figures: current.get(key).copied().unwrap_or_default(),
                previous: previous
                    .as_ref()
                    .map(|p| p.get(key).copied().unwrap_or_default()),
                keys: key.clone(),
            })
            .collect();
        Ok(Statistics {
            cluster_id: query.cluster_id,
            from: query.from,
            to: query.to,
            group_by: query.group_by.clone(),
            rows,
            total: total(&current),
            previous_total: previous.as_ref().map(total),
            previous_from: previous_range.map(|r| r.0),
            previous_to: previous_range.map(|r| r.1),
        })
    }
}

async fn unit_names(
    tx: &mut dyn Tx,
    dims: &[Dimension],
    keys: &[&Vec<String>],
) -> Result<HashMap<String, String>, EngineError> {
    let mut names = HashMap::new();
    let Some(position) = dims.iter().position(|d| *d == Dimension::Unit) else {
        return Ok(names);
    };
    for key in keys {
        let id = &key[position];
        if names.contains_key(id) {
            continue;
        }
        if let Ok(uuid) = Uuid::parse_str(id) {
            let rows = tx
                .query(
                    "SELECT name FROM organisations WHERE id = $1",
                    params![uuid],
                )
                .await?;
            if let Some(row) = rows.first() {
                names.insert(id.clone(), row.text("name")?);
            }
        }
    }
    Ok(names)
}
