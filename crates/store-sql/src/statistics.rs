//! Statistics read from the counters: cost follows the number of counter rows in the range
//! (organisations × categories × outcomes × days with incidents), never the number of incidents.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::cluster::Span;
use lienhoan_domain::incident::Outcome;
use lienhoan_domain::stats::{
    Dimension, Figures, GroupedFigures, KeyColumns, ReportingParts, YearSplit, month_number,
    range_parts, reporting_month_parts, year_earlier,
};
use lienhoan_domain::text::sort_key;
use lienhoan_store::{
    Statistics, StatisticsQuery, StatisticsRow, StatisticsStore, StoreError, StoreResult,
};
use time::{Date, Month};
use uuid::Uuid;

use crate::clusters::span;
use crate::counters::compacted_rollups;
use crate::engine::{EngineError, Reader, Row, Value};
use crate::names::Named;
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
/// needs; the others read as null. Ends with the GROUP BY, or when nothing is grouped, with a
/// HAVING so that an empty range yields no row rather than one row of null sums (a group has a
/// row by definition, and counting them cost a report's statement a ninth aggregate a row).
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
        "HAVING COUNT(*) > 0".to_owned()
    } else {
        format!("GROUP BY {}", grouped.join(", "))
    };
    (format!("{}, {}", select.join(", "), sums("k")), group_by)
}

/// `SUM` of every measure of the table aliased `alias`.
fn sums(alias: &str) -> String {
    Figures::MEASURES
        .iter()
        .map(|m| format!("CAST(SUM({alias}.{m}) AS BIGINT) AS {m}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The reads of a report's figures, sent as one statement. Each part is a grouped read of one
/// counter table, tagged with whether it counts for the year before the range asked; the parts
/// are joined with `UNION ALL`, so they see one snapshot without a transaction around them (a
/// transaction costs PostgreSQL two round trips of its own).
#[derive(Default)]
pub(crate) struct FigureReads {
    parts: Vec<String>,
    args: Vec<Value>,
}

impl FigureReads {
    /// A read of the counter rows `from` names (aliased `k`) that meet the conditions `filter`
    /// adds, grouped by `columns`, a row's month read as `month`.
    fn add(
        &mut self,
        previous: bool,
        columns: KeyColumns,
        month: &str,
        from: &str,
        filter: impl FnOnce(&mut Conditions),
    ) {
        let mut conditions = Conditions::after(self.args.len());
        filter(&mut conditions);
        let (filter, args) = conditions.into_where();
        let (select, group) = select_grouped(columns, month);
        self.parts.push(format!(
            "SELECT {} AS previous, {select} FROM {from} {filter} {group}",
            i64::from(previous)
        ));
        self.args.extend(args);
    }

    pub(crate) async fn read(self, mut reader: Reader<'_>) -> Result<Vec<Row>, EngineError> {
        if self.parts.is_empty() {
            return Ok(Vec::new());
        }
        reader
            .query(&self.parts.join(" UNION ALL "), self.args)
            .await
    }
}

/// The range's whole years and the days around them, when a yearly rollup can serve;
/// otherwise the whole range as days.
fn year_split((from, to): (Date, Date), yearly: bool) -> YearSplit {
    if yearly {
        YearSplit::of(from, to)
    } else {
        YearSplit {
            years: None,
            rest: vec![(from, to)],
        }
    }
}

/// Whole years `first`–`last` from the yearly rollup `table` (aliased `k`), narrowed by `only`.
fn add_years(
    reads: &mut FigureReads,
    previous: bool,
    columns: KeyColumns,
    table: &str,
    (first, last): (i32, i32),
    only: impl FnOnce(&mut Conditions),
) {
    // A year reads as its January, which is all a grouping by year looks at.
    reads.add(previous, columns, "k.year * 100 + 1", table, |c| {
        only(c);
        c.add("k.year >= $$", i64::from(first));
        c.add("k.year <= $$", i64::from(last));
    });
}

/// Counters summed over a cluster's members, each counting only for the days it was a member.
/// Whole years come from the cluster's yearly counters when the grouping needs neither the
/// member nor the month; the days around them member by member ([`add_member_figures`]).
fn add_cluster_figures(
    reads: &mut FigureReads,
    previous: bool,
    cluster: &VisibleCluster,
    columns: KeyColumns,
    (from, to): (Date, Date),
) {
    let split = year_split((from, to), !columns.organisation && !columns.month);
    let ranges = cluster
        .members
        .iter()
        .flat_map(|(organisation, span)| {
            split
                .rest
                .iter()
                .filter_map(|&(a, b)| span.days_within(a, b))
                .map(|(first, last)| (*organisation, first, last))
        })
        .collect();
    add_member_figures(reads, previous, ranges, columns);
    if let Some(whole) = split.years {
        add_years(
            reads,
            previous,
            columns,
            "cluster_counters_yearly k",
            whole,
            |c| c.add("k.cluster_id = $$", cluster.id),
        );
    }
}

/// Counters summed over organisations, each over its own inclusive range of days, from the
/// daily counters: an index range per organisation, so a read's cost follows the counters in
/// those ranges, not the organisation's incidents. A commune's counters are sparse enough
/// that a monthly rollup per organisation held nearly as many rows (migration 0013).
pub(crate) fn add_member_figures(
    reads: &mut FigureReads,
    previous: bool,
    ranges: Vec<(Uuid, Date, Date)>,
    columns: KeyColumns,
) {
    if ranges.is_empty() {
        return;
    }
    reads.add(previous, columns, "k.month", "incident_counters k", |c| {
        c.add_any(ranges.into_iter().map(|(organisation, first, last)| {
            vec![
                ("k.organisation_id = $$", Some(Value::from(organisation))),
                ("k.day >= $$", Some(Value::from(first))),
                ("k.day <= $$", Some(Value::from(last))),
            ]
        }));
    });
}

/// Counters summed over every organisation. Grouped by unit, whole years from the units' yearly
/// rollup and the other days from the daily counters ([`add_national_days`]); by month, every
/// day from those. Otherwise days at the edges of the range from the daily counters,
/// whole months from the provinces' monthly rollup and, when no month or year is asked for,
/// whole years from their yearly one. When no month or year is asked for and the range fits
/// reporting months (the 15th to the 14th) better than calendar months, those come from their
/// own rollup instead.
fn add_national_figures(
    reads: &mut FigureReads,
    previous: bool,
    columns: KeyColumns,
    (from, to): (Date, Date),
) {
    if columns.organisation {
        let split = year_split((from, to), !columns.month);
        add_national_days(reads, previous, columns, split.rest);
        if let Some(whole) = split.years {
            let table = "incident_counters_unit_yearly k";
            add_years(reads, previous, columns, table, whole, |_| {});
        }
        return;
    }
    let within = |first: &'static str, last: &'static str, a: Value, b: Value| {
        move |c: &mut Conditions| {
            c.add(first, a);
            c.add(last, b);
        }
    };
    let reporting = (!columns.month && !columns.year)
        .then(|| reporting_month_parts(from, to))
        .flatten();
    if let Some(ReportingParts {
        days,
        months: (first, last),
    }) = reporting
    {
        add_national_days(reads, previous, columns, days);
        reads.add(
            previous,
            columns,
            "k.month",
            "incident_counters_province_reporting k",
            within("k.month >= $$", "k.month <= $$", first.into(), last.into()),
        );
        return;
    }
    let parts = range_parts(from, to, !columns.month);
    add_national_days(reads, previous, columns, parts.days);
    for (start, end) in parts.months {
        let (start, end) = (month_number(start), month_number(end));
        reads.add(
            previous,
            columns,
            "k.month",
            "incident_counters_province k",
            within("k.month >= $$", "k.month <= $$", start.into(), end.into()),
        );
    }
    if let Some(whole) = parts.years {
        let table = "incident_counters_province_yearly k";
        add_years(reads, previous, columns, table, whole, |_| {});
    }
}

/// Every organisation's daily counters over each of `days`' ranges.
fn add_national_days(
    reads: &mut FigureReads,
    previous: bool,
    columns: KeyColumns,
    days: Vec<(Date, Date)>,
) {
    for (start, end) in days {
        reads.add(
            previous,
            columns,
            "k.month",
            "organisations o JOIN incident_counters k ON k.organisation_id = o.id",
            |c| {
                c.add("k.day >= $$", Value::from(start));
                c.add("k.day <= $$", Value::from(end));
            },
        );
    }
}

fn add_figures(
    reads: &mut FigureReads,
    previous: bool,
    cluster: Option<&VisibleCluster>,
    columns: KeyColumns,
    range: (Date, Date),
) {
    match cluster {
        Some(cluster) => add_cluster_figures(reads, previous, cluster, columns, range),
        None => add_national_figures(reads, previous, columns, range),
    }
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

/// A cluster's member organisations, with the days each belongs to it.
pub(crate) type Members = Arc<[(Uuid, Span)]>;

/// A cluster the actor may see, with its members.
struct VisibleCluster {
    id: Uuid,
    members: Members,
}

/// The cluster, if the actor may see it, with its memberships; national figures are for those
/// who see every organisation. A member organisation's users see a cluster whatever the dates
/// of their membership.
async fn visible_cluster(
    store: &SqlStore,
    actor: &Actor,
    cluster: Option<Uuid>,
) -> StoreResult<Option<VisibleCluster>> {
    let viewer = scope_param(actor.cluster_scope());
    let Some(id) = cluster else {
        return match viewer {
            None => Ok(None),
            Some(_) => Err(StoreError::Forbidden),
        };
    };
    let members = store
        .remembered_members(id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if viewer.is_some_and(|v| !members.iter().any(|(organisation, _)| *organisation == v)) {
        return Err(StoreError::NotFound);
    }
    Ok(Some(VisibleCluster { id, members }))
}

impl SqlStore {
    /// A cluster's memberships as read at most [`crate::MEMO_FOR`] ago; `None` when there is
    /// no such cluster. A review is then one statement.
    async fn remembered_members(&self, id: Uuid) -> Result<Option<Members>, EngineError> {
        let read = async {
            let rows = self
                .engine
                .read_once(
                    "SELECT m.organisation_id, m.joined_on, m.left_on FROM clusters c
                     LEFT JOIN cluster_memberships m ON m.cluster_id = c.id
                     WHERE c.id = $1",
                    params![id],
                )
                .await?;
            // No row: no such cluster, which is not remembered, so that asking for unknown
            // identifiers cannot crowd out the clusters that exist.
            if rows.is_empty() {
                return Ok(None);
            }
            let mut members = Vec::with_capacity(rows.len());
            for row in &rows {
                // A cluster without members reads as one row of nulls.
                if let Some(organisation) = row.opt_uuid("organisation_id")? {
                    members.push((organisation, span(row)?));
                }
            }
            Ok(Some(members.into()))
        };
        self.cluster_members
            .recall_or_read(id, |_| true, read)
            .await
    }
}

/// Names for the organisation and province keys that appear.
async fn labels(
    store: &SqlStore,
    dims: &[Dimension],
    keys: &[&Vec<String>],
) -> Result<HashMap<String, String>, EngineError> {
    let mut labels = HashMap::new();
    for (position, dim) in dims.iter().enumerate() {
        let named = match dim {
            Dimension::Unit => Named::Organisation,
            Dimension::Province => Named::AdminUnit,
            _ => continue,
        };
        let ids: BTreeSet<Uuid> = keys
            .iter()
            .filter_map(|key| Uuid::parse_str(&key[position]).ok())
            .collect();
        let names = store.names(named, ids.iter().copied()).await?;
        for id in ids {
            if let Some(name) = names.get(id) {
                labels.insert(id.to_string(), name.to_owned());
            }
        }
    }
    Ok(labels)
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
        // The memberships, remembered for a moment, and then the figures in one statement. A
        // membership changed since (by another server process; this one forgets at once) can
        // pair the cluster's new yearly counters with the edge days of the old dates; the
        // first read after the memo time is whole again. The labels are names, read last.
        let cluster = visible_cluster(self, actor, query.cluster_id).await?;
        let columns = KeyColumns::for_dimensions(&query.group_by);
        let previous_range = query
            .compare_previous_year
            .then(|| (year_earlier(query.from), year_earlier(query.to)));
        let mut reads = FigureReads::default();
        let ranges = [Some((query.from, query.to)), previous_range];
        for (previous, range) in [false, true].into_iter().zip(ranges) {
            if let Some(range) = range {
                add_figures(&mut reads, previous, cluster.as_ref(), columns, range);
            }
        }
        let (mut current_rows, mut previous_rows) = (Vec::new(), Vec::new());
        for row in &reads.read(Reader::Once(self.engine_ref())).await? {
            let rows = if row.int("previous")? == 1 {
                &mut previous_rows
            } else {
                &mut current_rows
            };
            rows.push(grouped_row(row)?);
        }
        let current = group(&current_rows, &query.group_by);
        let previous = previous_range.map(|_| group(&previous_rows, &query.group_by));
        let mut keys: Vec<&Vec<String>> = current.keys().collect();
        if let Some(previous) = &previous {
            keys.extend(previous.keys().filter(|k| !current.contains_key(*k)));
        }
        let names = labels(self, &query.group_by, &keys).await?;
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
