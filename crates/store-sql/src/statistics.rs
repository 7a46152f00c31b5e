//! Statistics read from the counters: cost follows the number of counter rows in the range
//! (organisations × categories × outcomes × days with incidents), never the number of incidents.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use lienhoan_domain::access::{Actor, Scope};
use lienhoan_domain::incident::Outcome;
use lienhoan_domain::stats::{
    Dimension, Figures, GroupedFigures, KeyColumns, YearSplit, month_number, range_parts,
    year_earlier,
};
use lienhoan_domain::text::sort_key;
use lienhoan_store::{
    Statistics, StatisticsQuery, StatisticsRow, StatisticsStore, StoreError, StoreResult,
};
use time::{Date, Month};
use uuid::Uuid;

use crate::bulk::rows_with_ids;
use crate::clusters::span;
use crate::counters::compacted_rollups;
use crate::engine::{EngineError, Row, Tx, Value};
use crate::{Conditions, SqlStore, params, require, scope_param};

pub(crate) fn grouped_row(r: &Row) -> Result<GroupedFigures, EngineError> {
    let month = r
        .opt_int("month")?
        .map(|month| {
            Month::try_from((month % 100) as u8)
                .ok()
                .and_then(|m| Date::from_calendar_date((month / 100) as i32, m, 1).ok())
                .ok_or_else(|| EngineError::Other(format!("bad month {month}")))
        })
        .transpose()?;
    let outcome = r
        .opt_text("outcome")?
        .map(|o| {
            Outcome::parse(&o).ok_or_else(|| EngineError::Other(format!("unknown outcome {o}")))
        })
        .transpose()?;
    let mut figures = [0i64; 8];
    for (slot, measure) in figures.iter_mut().zip(Figures::MEASURES) {
        *slot = r.int(measure)?;
    }
    Ok(GroupedFigures {
        organisation_id: r.opt_uuid("organisation_id")?,
        province_id: r.opt_uuid("province_id")?,
        category: r.opt_text("category")?,
        outcome,
        month,
        figures: Figures::from_values(figures),
    })
}

/// The key columns and sums of counter rows aliased `k`, grouped by the columns a report
/// needs; the others read as null. Ends with the GROUP BY (and a HAVING so that an empty
/// range yields no row rather than one row of null sums).
fn select_grouped(columns: KeyColumns, month: &str) -> (String, String) {
    let keys = [
        ("organisation_id", "k.organisation_id", columns.organisation),
        ("province_id", "k.province_id", columns.province),
        ("category", "k.category", columns.category),
        ("outcome", "k.outcome", columns.outcome),
        ("month", month, columns.month || columns.year),
    ];
    let select: Vec<String> = keys
        .iter()
        .map(|(name, expression, kept)| {
            if *kept {
                format!("{expression} AS {name}")
            } else {
                format!("NULL AS {name}")
            }
        })
        .collect();
    let grouped: Vec<&str> = keys
        .iter()
        .filter(|(_, _, kept)| *kept)
        .map(|(_, expression, _)| *expression)
        .collect();
    let group_by = if grouped.is_empty() {
        String::new()
    } else {
        format!("GROUP BY {}", grouped.join(", "))
    };
    (
        format!("{}, {}", select.join(", "), sums("k")),
        format!("{group_by} HAVING COUNT(*) > 0"),
    )
}

/// `SUM` of every measure of the table aliased `alias`.
fn sums(alias: &str) -> String {
    Figures::MEASURES
        .iter()
        .map(|m| format!("CAST(SUM({alias}.{m}) AS BIGINT) AS {m}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counters summed over a cluster's members, each counting only for the days it was a member.
/// Whole years come from the cluster's yearly counters when the grouping needs neither the
/// member nor the month; the days around them member by member ([`member_figures`]).
async fn cluster_figures(
    tx: &mut dyn Tx,
    cluster: Uuid,
    columns: KeyColumns,
    from: Date,
    to: Date,
) -> Result<Vec<Row>, EngineError> {
    let split = if columns.organisation || columns.month {
        YearSplit {
            years: None,
            rest: vec![(from, to)],
        }
    } else {
        YearSplit::of(from, to)
    };
    let memberships = tx
        .query(
            "SELECT organisation_id, joined_on, left_on FROM cluster_memberships
             WHERE cluster_id = $1",
            params![cluster],
        )
        .await?;
    let mut ranges = Vec::new();
    for membership in &memberships {
        let organisation = membership.uuid("organisation_id")?;
        let span = span(membership)?;
        ranges.extend(
            split
                .rest
                .iter()
                .filter_map(|&(a, b)| span.days_within(a, b))
                .map(|(first, last)| (organisation, first, last)),
        );
    }
    let mut rows = member_figures(tx, ranges, columns).await?;
    if let Some((first, last)) = split.years {
        // A year reads as its January, which is all a grouping by year looks at.
        let (select, group) = select_grouped(columns, "k.year * 100 + 1");
        rows.extend(
            tx.query(
                &format!(
                    "SELECT {select} FROM cluster_counters_yearly k
                     WHERE k.cluster_id = $1 AND k.year >= $2 AND k.year <= $3 {group}"
                ),
                params![cluster, i64::from(first), i64::from(last)],
            )
            .await?,
        );
    }
    Ok(rows)
}

/// Counters summed over organisations, each over its own inclusive range of days. Each range
/// is split like any range (`domain::stats::range_parts`): its whole months come from the
/// monthly rollup, the days before and after them from the daily counters. Each read is an
/// index range per organisation, so its cost follows the counters in those ranges, not the
/// organisation's incidents.
pub(crate) async fn member_figures(
    tx: &mut dyn Tx,
    ranges: Vec<(Uuid, Date, Date)>,
    columns: KeyColumns,
) -> Result<Vec<Row>, EngineError> {
    let (mut days, mut months) = (Vec::new(), Vec::new());
    for (organisation, first, last) in ranges {
        let parts = range_parts(first, last, false);
        days.extend(
            parts
                .days
                .iter()
                .map(|&(a, b)| (organisation, a.into(), b.into())),
        );
        months.extend(parts.months.iter().map(|&(a, b)| {
            let (a, b) = (month_number(a), month_number(b));
            (organisation, a.into(), b.into())
        }));
    }
    let (select, group) = select_grouped(columns, "k.month");
    let mut rows = Vec::new();
    for (table, bounds, ranges) in [
        ("incident_counters", ["k.day >= $$", "k.day <= $$"], days),
        (
            "incident_counters_monthly",
            ["k.month >= $$", "k.month <= $$"],
            months,
        ),
    ] {
        if ranges.is_empty() {
            continue;
        }
        let mut conditions = Conditions::default();
        conditions.add_any(ranges.into_iter().map(|(organisation, first, last)| {
            vec![
                ("k.organisation_id = $$", Some(Value::from(organisation))),
                (bounds[0], Some(first)),
                (bounds[1], Some(last)),
            ]
        }));
        let (filter, params) = conditions.into_where();
        rows.extend(
            tx.query(
                &format!("SELECT {select} FROM {table} k {filter} {group}"),
                params,
            )
            .await?,
        );
    }
    Ok(rows)
}

/// Counters summed over every organisation: days at the edges of the range from the daily
/// counters, whole months from a monthly rollup and, when no unit or month is asked for,
/// whole years from the yearly one.
async fn national_figures(
    tx: &mut dyn Tx,
    columns: KeyColumns,
    from: Date,
    to: Date,
) -> Result<Vec<Row>, EngineError> {
    let by_province = !columns.organisation;
    let parts = range_parts(from, to, by_province && !columns.month);
    let (select, group) = select_grouped(columns, "k.month");
    let mut rows = Vec::new();
    for (start, end) in parts.days {
        rows.extend(
            tx.query(
                &format!(
                    "SELECT {select} FROM organisations o
                     JOIN incident_counters k ON k.organisation_id = o.id
                     WHERE k.day >= $1 AND k.day <= $2 {group}"
                ),
                params![start, end],
            )
            .await?,
        );
    }
    for (start, end) in parts.months {
        let (sql, args) = if by_province {
            (
                format!(
                    "SELECT {select} FROM incident_counters_province k
                     WHERE k.month >= $1 AND k.month <= $2 {group}"
                ),
                params![month_number(start), month_number(end)],
            )
        } else {
            (
                format!(
                    "SELECT {select} FROM organisations o
                     JOIN incident_counters_monthly k ON k.organisation_id = o.id
                     WHERE k.month >= $1 AND k.month <= $2 {group}"
                ),
                params![month_number(start), month_number(end)],
            )
        };
        rows.extend(tx.query(&sql, args).await?);
    }
    if let Some((first, last)) = parts.years {
        // A year reads as its January, which is all a grouping by year looks at.
        let (select, group) = select_grouped(columns, "k.year * 100 + 1");
        rows.extend(
            tx.query(
                &format!(
                    "SELECT {select} FROM incident_counters_province_yearly k
                     WHERE k.year >= $1 AND k.year <= $2 {group}"
                ),
                params![i64::from(first), i64::from(last)],
            )
            .await?,
        );
    }
    Ok(rows)
}

async fn figures(
    tx: &mut dyn Tx,
    cluster_id: Option<Uuid>,
    columns: KeyColumns,
    from: Date,
    to: Date,
) -> Result<Vec<GroupedFigures>, EngineError> {
    let rows = match cluster_id {
        Some(cluster) => cluster_figures(tx, cluster, columns, from, to).await?,
        None => national_figures(tx, columns, from, to).await?,
    };
    rows.iter().map(grouped_row).collect()
}

fn group(rows: &[GroupedFigures], dims: &[Dimension]) -> BTreeMap<Vec<String>, Figures> {
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

/// Names for the organisation and province keys that appear, one query per dimension.
async fn labels(
    tx: &mut dyn Tx,
    dims: &[Dimension],
    keys: &[&Vec<String>],
) -> Result<HashMap<String, String>, EngineError> {
    let mut names = HashMap::new();
    for (position, dim) in dims.iter().enumerate() {
        let select = match dim {
            Dimension::Unit => "SELECT id, name FROM organisations",
            Dimension::Province => "SELECT id, kind || ' ' || name AS name FROM admin_units",
            _ => continue,
        };
        let ids: BTreeSet<Uuid> = keys
            .iter()
            .filter_map(|key| Uuid::parse_str(&key[position]).ok())
            .collect();
        if ids.is_empty() {
            continue;
        }
        for row in rows_with_ids(tx, &format!("{select} WHERE id"), ids).await? {
            names.insert(row.uuid("id")?.to_string(), row.text("name")?);
        }
    }
    Ok(names)
}

/// Each distinct value's place when labels sort in Vietnamese order (codes, months and years
/// as they are). A report's rows repeat a few dozen values (provinces, categories), so each
/// collation key is made once and rows compare by small numbers.
fn ranks<'a>(
    values: impl Iterator<Item = &'a String>,
    label: &impl Fn(&String) -> String,
) -> HashMap<&'a String, usize> {
    let distinct: BTreeSet<&String> = values.collect();
    let mut ordered: Vec<(Vec<u8>, &String)> = distinct
        .into_iter()
        .map(|value| (sort_key(&label(value)), value))
        .collect();
    ordered.sort();
    let mut ranks = HashMap::with_capacity(ordered.len());
    let mut rank = 0;
    for (i, (key, value)) in ordered.iter().enumerate() {
        if i > 0 && ordered[i - 1].0 != *key {
            rank = i;
        }
        ranks.insert(*value, rank);
    }
    ranks
}

#[async_trait]
impl StatisticsStore for SqlStore {
    async fn statistics(&self, actor: &Actor, query: &StatisticsQuery) -> StoreResult<Statistics> {
        if query.to < query.from {
            return Err(StoreError::invalid("to", "error-end-before-start"));
        }
        let mut tx = self.engine.read().await?;
        check_scope(tx.as_mut(), actor, query.cluster_id).await?;
        let columns = KeyColumns::for_dimensions(&query.group_by);
        let current = group(
            &figures(tx.as_mut(), query.cluster_id, columns, query.from, query.to).await?,
            &query.group_by,
        );
        let previous_range = query
            .compare_previous_year
            .then(|| (year_earlier(query.from), year_earlier(query.to)));
        let previous = match previous_range {
            Some((from, to)) => Some(group(
                &figures(tx.as_mut(), query.cluster_id, columns, from, to).await?,
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
        let ranks = ranks(keys.iter().flat_map(|key| key.iter()), &label);
        keys.sort_by_cached_key(|key| key.iter().map(|v| ranks[v]).collect::<Vec<_>>());
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

    async fn compact_statistics(&self, actor: &Actor) -> StoreResult<()> {
        require(actor.can_manage_reference_data())?;
        for table in compacted_rollups() {
            self.engine.compact(table).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_vietnamese_order_of_the_labels() {
        let names: HashMap<&str, &str> = [
            ("p1", "Đà Nẵng"),
            ("p2", "Cà Mau"),
            ("p3", "Điện Biên"),
            ("p4", "Cà Mau"),
            ("p5", "Dak Lak"),
        ]
        .into();
        let label = |v: &String| names.get(v.as_str()).map_or(v.clone(), |n| n.to_string());
        let values: Vec<String> = ["p1", "p2", "p3", "p4", "p5", "2024", "p1"]
            .map(String::from)
            .to_vec();
        let ranks = ranks(values.iter(), &label);
        let rank = |v: &str| ranks[&v.to_string()];
        assert_eq!(ranks.len(), 6, "one rank per distinct value");
        assert!(rank("2024") < rank("p2"), "digits before letters");
        assert_eq!(rank("p2"), rank("p4"), "equal labels share a place");
        assert!(rank("p2") < rank("p5"), "c before d");
        assert!(rank("p5") < rank("p1"), "d before đ");
        assert!(rank("p1") < rank("p3"), "đa before đi");
    }
}
