//! Statistics read from the counters: cost follows the number of counter rows in the range
//! (organisations × categories × outcomes × days with incidents), never the number of incidents.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use lienhoan_domain::access::{Actor, Scope};
use lienhoan_domain::incident::Outcome;
use lienhoan_domain::stats::{
    Dimension, Figures, MonthlyFigures, month_number, whole_months, year_earlier,
};
use lienhoan_domain::text::sort_key;
use lienhoan_store::{
    Statistics, StatisticsQuery, StatisticsRow, StatisticsStore, StoreError, StoreResult,
};
use time::{Date, Month};
use uuid::Uuid;

use crate::engine::{EngineError, Row, Tx};
use crate::{SqlStore, params, scope_param};

fn monthly_row(r: &Row) -> Result<MonthlyFigures, EngineError> {
    let month = r.int("month")?;
    let first_day = Month::try_from((month % 100) as u8)
        .ok()
        .and_then(|m| Date::from_calendar_date((month / 100) as i32, m, 1).ok())
        .ok_or_else(|| EngineError::Other(format!("bad month {month}")))?;
    let outcome = r.text("outcome")?;
    let mut figures = [0i64; 8];
    for (slot, measure) in figures.iter_mut().zip(Figures::MEASURES) {
        *slot = r.int(measure)?;
    }
    Ok(MonthlyFigures {
        organisation_id: r.opt_uuid("organisation_id")?,
        province_id: r.opt_uuid("province_id")?,
        category: r.text("category")?,
        outcome: Outcome::parse(&outcome)
            .ok_or_else(|| EngineError::Other(format!("unknown outcome {outcome}")))?,
        month: first_day,
        figures: Figures::from_values(figures),
    })
}

/// `SUM` of every measure of the table aliased `alias`.
fn sums(alias: &str) -> String {
    Figures::MEASURES
        .iter()
        .map(|m| format!("CAST(SUM({alias}.{m}) AS BIGINT) AS {m}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cluster member for the whole month of the counter row aliased `alias`.
const WHOLE_MONTH_MEMBER: &str = "EXISTS (SELECT 1 FROM cluster_memberships f
    WHERE f.cluster_id = $3 AND f.organisation_id = ALIAS.organisation_id
      AND f.joined_on <= ALIAS.month_start AND (f.left_on IS NULL OR f.left_on > ALIAS.month_end))";

/// Counters summed per organisation, province, category, outcome and month. Whole months come
/// from the monthly rollups; the partial months at the edges of the range — and, in a cluster,
/// the months in which a member joined or left — from the daily counters, where each member
/// counts only for the days it was a member.
async fn monthly(
    tx: &mut dyn Tx,
    cluster_id: Option<Uuid>,
    by_unit: bool,
    from: Date,
    to: Date,
) -> Result<Vec<MonthlyFigures>, EngineError> {
    let whole = whole_months(from, to);
    // Without a whole month, bounds that no month satisfies and that leave the whole range
    // to the daily counters.
    let (first, last) = whole.unwrap_or((to.next_day().unwrap_or(to), to));
    let group = "GROUP BY k.organisation_id, k.province_id, k.category, k.outcome, k.month";
    let daily_sums = sums("k");
    let mut rows = match cluster_id {
        Some(cluster) => {
            tx.query(
                &format!(
                    "SELECT k.organisation_id, k.province_id, k.category, k.outcome, k.month, {daily_sums}
                     FROM cluster_memberships m
                     JOIN incident_counters k ON k.organisation_id = m.organisation_id
                       AND k.day >= m.joined_on AND (m.left_on IS NULL OR k.day < m.left_on)
                     WHERE m.cluster_id = $3 AND k.day >= $1 AND k.day <= $2
                       AND NOT (k.month_start >= $4 AND k.month_end <= $5 AND {})
                     {group}",
                    WHOLE_MONTH_MEMBER.replace("ALIAS", "k")
                ),
                params![from, to, cluster, first, last],
            )
            .await?
        }
        None => {
            // Only the partial months at the edges of the range are read by day.
            let edges = match whole {
                Some((first, last)) => [
                    (from < first).then(|| (from, first.previous_day().unwrap_or(first))),
                    (last < to).then(|| (last.next_day().unwrap_or(last), to)),
                ],
                None => [Some((from, to)), None],
            };
            let mut rows = Vec::new();
            for (start, end) in edges.into_iter().flatten() {
                rows.extend(
                    tx.query(
                        &format!(
                            "SELECT k.organisation_id, k.province_id, k.category, k.outcome, k.month, {daily_sums}
                             FROM incident_counters k
                             WHERE k.day >= $1 AND k.day <= $2
                             {group}"
                        ),
                        params![start, end],
                    )
                    .await?,
                );
            }
            rows
        }
    };
    if whole.is_some() {
        let rollup = match cluster_id {
            Some(cluster) => {
                tx.query(
                    &format!(
                        "SELECT k.organisation_id, k.province_id, k.category, k.outcome, k.month, {daily_sums}
                         FROM cluster_memberships f
                         JOIN incident_counters_monthly k ON k.organisation_id = f.organisation_id
                         WHERE f.cluster_id = $3 AND k.month_start >= $1 AND k.month_end <= $2
                           AND f.joined_on <= k.month_start
                           AND (f.left_on IS NULL OR f.left_on > k.month_end)
                         {group}"
                    ),
                    params![first, last, cluster],
                )
                .await?
            }
            None if by_unit => {
                tx.query(
                    &format!(
                        "SELECT k.organisation_id, k.province_id, k.category, k.outcome, k.month, {daily_sums}
                         FROM incident_counters_monthly k
                         WHERE k.month_start >= $1 AND k.month_end <= $2
                         {group}"
                    ),
                    params![first, last],
                )
                .await?
            }
            None => {
                tx.query(
                    &format!(
                        "SELECT NULL AS organisation_id, k.province_id, k.category, k.outcome, k.month, {daily_sums}
                         FROM incident_counters_province k
                         WHERE k.month >= $1 AND k.month <= $2
                         GROUP BY k.province_id, k.category, k.outcome, k.month"
                    ),
                    params![month_number(first), month_number(last)],
                )
                .await?
            }
        };
        rows.extend(rollup);
    }
    rows.iter().map(monthly_row).collect()
}

fn group(rows: &[MonthlyFigures], dims: &[Dimension]) -> BTreeMap<Vec<String>, Figures> {
    let mut groups: BTreeMap<Vec<String>, Figures> = BTreeMap::new();
    for row in rows {
        let key = dims.iter().map(|d| row.dimension_value(*d)).collect();
        groups.entry(key).or_default().add(&row.figures);
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

async fn check_scope(tx: &mut dyn Tx, actor: &Actor, cluster: Option<Uuid>) -> StoreResult<()> {
    let Some(cluster) = cluster else {
        // National figures are for those who see every organisation.
        return match actor.cluster_scope() {
            Scope::All => Ok(()),
            Scope::Organisation(_) => Err(StoreError::Forbidden),
        };
    };
    let visible = tx
        .query(
            "SELECT c.id FROM clusters c WHERE c.id = $1 AND ($2 IS NULL OR EXISTS (
                SELECT 1 FROM cluster_memberships s WHERE s.cluster_id = c.id AND s.organisation_id = $2))",
            params![cluster, scope_param(actor.cluster_scope())],
        )
        .await?;
    if visible.is_empty() {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Names for the organisation and province keys that appear.
async fn labels(
    tx: &mut dyn Tx,
    dims: &[Dimension],
    keys: &[&Vec<String>],
) -> Result<HashMap<String, String>, EngineError> {
    let mut names = HashMap::new();
    for (position, dim) in dims.iter().enumerate() {
        let sql = match dim {
            Dimension::Unit => "SELECT name FROM organisations WHERE id = $1",
            Dimension::Province => {
                "SELECT kind || ' ' || name AS name FROM admin_units WHERE id = $1"
            }
            _ => continue,
        };
        for key in keys {
            let id = &key[position];
            if names.contains_key(id) {
                continue;
            }
            if let Ok(uuid) = Uuid::parse_str(id)
                && let Some(row) = tx.query(sql, params![uuid]).await?.first()
            {
                names.insert(id.clone(), row.text("name")?);
            }
        }
    }
    Ok(names)
}

#[async_trait]
impl StatisticsStore for SqlStore {
    async fn statistics(&self, actor: &Actor, query: &StatisticsQuery) -> StoreResult<Statistics> {
        if query.to < query.from {
            return Err(StoreError::invalid("to", "error-end-before-start"));
        }
        let mut tx = self.engine.read().await?;
        check_scope(tx.as_mut(), actor, query.cluster_id).await?;
        let by_unit = query.group_by.contains(&Dimension::Unit);
        let current = group(
            &monthly(tx.as_mut(), query.cluster_id, by_unit, query.from, query.to).await?,
            &query.group_by,
        );
        let previous_range = query
            .compare_previous_year
            .then(|| (year_earlier(query.from), year_earlier(query.to)));
        let previous = match previous_range {
            Some((from, to)) => Some(group(
                &monthly(tx.as_mut(), query.cluster_id, by_unit, from, to).await?,
                &query.group_by,
            )),
            None => None,
        };
        let mut keys: Vec<&Vec<String>> = current.keys().collect();
        if let Some(previous) = &previous {
            keys.extend(previous.keys().filter(|k| !current.contains_key(*k)));
        }
        let names = labels(tx.as_mut(), &query.group_by, &keys).await?;
        let label = |value: &String| names.get(value).cloned().unwrap_or_else(|| value.clone());
        // Names sort in Vietnamese order; codes, months and years as they are.
        keys.sort_by_cached_key(|key| key.iter().map(|v| sort_key(&label(v))).collect::<Vec<_>>());
        let rows = keys
            .into_iter()
            .map(|key| StatisticsRow {
                labels: key.iter().map(label).collect(),
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
