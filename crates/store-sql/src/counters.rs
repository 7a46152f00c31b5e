//! The statistics counters, kept fresh in the same transaction as every incident change: a
//! daily row per (organisation, commune, category, outcome, day), and rollups of it (see
//! [`Rollup`]). Changes are summed per row first and written with multi-row upserts, so an
//! import writes each counter row once, in a few statements.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lienhoan_domain::cluster::Span;
use lienhoan_domain::incident::{Incident, Outcome};
use lienhoan_domain::stats::{
    CounterKey, Figures, KeyColumns, contribution, month_bounds, month_number, reporting_month,
};
use time::Date;
use uuid::Uuid;

use crate::bulk::rows_with_ids;
use crate::clusters::span;
use crate::engine::{EngineError, OnConflict, Reader, Tx, Value};
use crate::statistics::{FigureReads, add_member_figures, grouped_row};

/// The tables that sum the daily counters over a longer period, so that a report over whole
/// months or years reads one row where it would read many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rollup {
    ProvinceMonth,
    /// Per province and reporting month (the 15th to the 14th).
    ProvinceReportingMonth,
    ProvinceYear,
    /// Per cluster: each member counts for the days it was a member.
    ClusterYear,
    /// Per organisation, for national figures by unit.
    UnitYear,
}

/// Where a rollup's rows go: the table, its key columns in the order of
/// [`RollupKey::values`], and the columns that follow them in a row (a month's first and last
/// day, see [`RollupChanges::write`]).
struct RollupTable {
    name: &'static str,
    keys: &'static [&'static str],
    extra: &'static [&'static str],
}

impl Rollup {
    fn table(self) -> RollupTable {
        let (name, keys, extra): (_, &'static [&'static str], _) = match self {
            Self::ProvinceMonth => (
                "incident_counters_province",
                &["province_id", "category", "outcome", "month"],
                MONTH_BOUNDS,
            ),
            Self::ProvinceReportingMonth => (
                "incident_counters_province_reporting",
                &["province_id", "category", "outcome", "month"],
                &[],
            ),
            Self::ProvinceYear => (
                "incident_counters_province_yearly",
                &["province_id", "category", "outcome", "year"],
                &[],
            ),
            Self::ClusterYear => (
                "cluster_counters_yearly",
                &["cluster_id", "province_id", "category", "outcome", "year"],
                &[],
            ),
            Self::UnitYear => (
                "incident_counters_unit_yearly",
                &[
                    "organisation_id",
                    "province_id",
                    "category",
                    "outcome",
                    "year",
                ],
                &[],
            ),
        };
        RollupTable { name, keys, extra }
    }
}

const MONTH_BOUNDS: &[&str] = &["month_start", "month_end"];

/// The rollups that reports read whole years and months from, small enough to rewrite in key
/// order daily (see `StatisticsStore::compact_statistics`). The daily counters are read a unit
/// at a time, and they and the units' years are too large to rewrite as often.
pub fn compacted_rollups() -> [&'static str; 4] {
    [
        Rollup::ProvinceMonth.table().name,
        Rollup::ProvinceReportingMonth.table().name,
        Rollup::ProvinceYear.table().name,
        Rollup::ClusterYear.table().name,
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Period {
    /// The month's first day.
    Month(Date),
    /// A reporting month, as the `yyyymm` of the month it starts in.
    ReportingMonth(i64),
    Year(i32),
}

/// A rollup row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RollupKey {
    rollup: Rollup,
    /// The cluster or the organisation of the rollups keyed by one.
    unit: Option<Uuid>,
    province_id: Uuid,
    category: String,
    outcome: Outcome,
    period: Period,
}

impl RollupKey {
    fn values(&self) -> Vec<Value> {
        let mut values: Vec<Value> = self.unit.into_iter().map(Value::from).collect();
        values.extend([
            self.province_id.into(),
            self.category.as_str().into(),
            self.outcome.as_str().into(),
        ]);
        values.push(match self.period {
            Period::Month(first) => month_number(first).into(),
            Period::ReportingMonth(month) => month.into(),
            Period::Year(year) => i64::from(year).into(),
        });
        values
    }
}

/// Rollup rows to add to, summed.
#[derive(Default)]
struct RollupChanges(BTreeMap<RollupKey, Figures>);

impl RollupChanges {
    fn add(&mut self, key: RollupKey, figures: &Figures) {
        self.0.entry(key).or_default().add(figures);
    }

    /// Adds to every rollup table, then removes rows that fell back to zero.
    async fn write(self, tx: &mut dyn Tx) -> Result<(), EngineError> {
        let mut tables: BTreeMap<Rollup, Vec<(Vec<Value>, Figures)>> = BTreeMap::new();
        let mut emptied = Vec::new();
        for (key, figures) in self.0 {
            if figures == Figures::default() {
                continue;
            }
            let mut row = key.values();
            if figures.incidents < 0 {
                emptied.push((key.rollup.table(), row.clone()));
            }
            if let Period::Month(first) = key.period {
                let (start, end) = month_bounds(first);
                row.extend([start.into(), end.into()]);
            }
            tables.entry(key.rollup).or_default().push((row, figures));
        }
        for (rollup, rows) in tables {
            let table = rollup.table();
            upsert_many(tx, table.name, table.keys, table.extra, rows).await?;
        }
        for (table, values) in emptied {
            delete_if_zero(tx, table.name, table.keys, values).await?;
        }
        Ok(())
    }
}

/// Counter changes summed per daily row, not yet written.
#[derive(Default)]
pub struct CounterChanges {
    daily: BTreeMap<CounterKey, Figures>,
    provinces: HashMap<Uuid, Uuid>,
    memberships: HashMap<Uuid, Vec<(Uuid, Span)>>,
}

impl CounterChanges {
    /// Notes the province of a commune that the caller has already read, so that writing does
    /// not look it up again.
    pub fn locate(&mut self, commune: Uuid, province: Uuid) {
        self.provinces.insert(commune, province);
    }

    /// Notes an organisation's cluster memberships, read by the caller, in the same way.
    pub fn know_memberships(&mut self, organisation: Uuid, memberships: Vec<(Uuid, Span)>) {
        self.memberships.insert(organisation, memberships);
    }

    /// Adds `sign` times the incident's contribution: 1 when it is written, -1 when it is
    /// removed or replaced.
    pub fn add(&mut self, incident: &Incident, sign: i64) {
        let (key, figures) = contribution(incident);
        self.daily
            .entry(key)
            .or_default()
            .add(&figures.scaled(sign));
    }

    /// Writes the daily rows and their rollups, then removes rows that fell back to zero so
    /// that the counters stay as sparse as the data.
    pub async fn write(self, tx: &mut dyn Tx) -> Result<(), EngineError> {
        let unknown = self
            .daily
            .keys()
            .map(|k| k.commune_id)
            .filter(|c| !self.provinces.contains_key(c))
            .collect();
        let mut provinces = provinces_of(tx, unknown).await?;
        provinces.extend(self.provinces);
        let province = |commune: &Uuid| provinces.get(commune).copied().unwrap_or(*commune);
        let organisations = self
            .daily
            .keys()
            .map(|k| k.organisation_id)
            .filter(|o| !self.memberships.contains_key(o))
            .collect();
        let mut memberships = memberships_of(tx, organisations).await?;
        memberships.extend(self.memberships);
        let mut rollups = RollupChanges::default();
        let mut daily = Vec::with_capacity(self.daily.len());
        let mut emptied = Vec::new();
        for (key, figures) in &self.daily {
            let province_id = province(&key.commune_id);
            let (month, year) = (
                Period::Month(month_bounds(key.day).0),
                Period::Year(key.day.year()),
            );
            let clusters = memberships
                .get(&key.organisation_id)
                .into_iter()
                .flatten()
                .filter(|(_, span)| span.contains(key.day))
                .map(|(cluster, _)| (Rollup::ClusterYear, Some(*cluster), year));
            let targets = [
                (Rollup::ProvinceMonth, None, month),
                (
                    Rollup::ProvinceReportingMonth,
                    None,
                    Period::ReportingMonth(reporting_month(key.day)),
                ),
                (Rollup::ProvinceYear, None, year),
                (Rollup::UnitYear, Some(key.organisation_id), year),
            ];
            for (rollup, unit, period) in targets.into_iter().chain(clusters) {
                let rollup_key = RollupKey {
                    rollup,
                    unit,
                    province_id,
                    category: key.category.clone(),
                    outcome: key.outcome,
                    period,
                };
                rollups.add(rollup_key, figures);
            }
            let keys = daily_keys(key);
            if figures.incidents < 0 {
                emptied.push(keys.clone());
            }
            let mut row = keys;
            row.extend(month_columns(key.day));
            row.push(province_id.into());
            daily.push((row, *figures));
        }
        upsert_many(tx, "incident_counters", &DAILY_KEYS, &DAILY_EXTRA, daily).await?;
        for keys in emptied {
            delete_if_zero(tx, "incident_counters", &DAILY_KEYS, keys).await?;
        }
        write_totals(tx, &self.daily).await?;
        rollups.write(tx).await
    }
}

/// Adds the incidents of the daily changes to each organisation's count in `incident_totals`;
/// an edit that moves an incident between days or categories nets to nothing there.
async fn write_totals(
    tx: &mut dyn Tx,
    daily: &BTreeMap<CounterKey, Figures>,
) -> Result<(), EngineError> {
    let mut totals: BTreeMap<Uuid, i64> = BTreeMap::new();
    for (key, figures) in daily {
        *totals.entry(key.organisation_id).or_default() += figures.incidents;
    }
    totals.retain(|_, added| *added != 0);
    let emptied: Vec<Value> = totals
        .iter()
        .filter(|(_, added)| **added < 0)
        .map(|(organisation, _)| (*organisation).into())
        .collect();
    let rows = totals
        .into_iter()
        .map(|(organisation, added)| vec![organisation.into(), added.into()])
        .collect();
    tx.insert_many(
        "incident_totals",
        &["organisation_id", "incidents"],
        OnConflict::Add {
            key: &["organisation_id"],
            measures: &["incidents"],
        },
        rows,
        &mut |_| {},
    )
    .await?;
    for organisation in emptied {
        delete_if_zero(
            tx,
            "incident_totals",
            &["organisation_id"],
            vec![organisation],
        )
        .await?;
    }
    Ok(())
}

/// Moves a member's figures into or out of its cluster's yearly counters when its membership
/// changes from `before` to `after` (either absent when it is added or removed): the days it
/// loses count out, the days it gains count in.
pub async fn move_member_figures(
    tx: &mut dyn Tx,
    cluster: Uuid,
    organisation: Uuid,
    before: Option<Span>,
    after: Option<Span>,
) -> Result<(), EngineError> {
    let columns = KeyColumns {
        province: true,
        category: true,
        outcome: true,
        month: true,
        ..KeyColumns::default()
    };
    let mut rollups = RollupChanges::default();
    for (span, sign) in [(before, -1), (after, 1)] {
        let Some((first, last)) = span.and_then(|s| s.days_within(s.joined_on, Date::MAX)) else {
            continue;
        };
        let mut reads = FigureReads::default();
        add_member_figures(
            &mut reads,
            false,
            vec![(organisation, first, last)],
            columns,
        );
        let rows = reads.read(Reader::In(&mut *tx)).await?;
        for row in &rows {
            let row = grouped_row(row)?;
            let (Some(province_id), Some(category), Some(outcome), Some(month)) =
                (row.province_id, row.category, row.outcome, row.month)
            else {
                return Err(EngineError::Other(
                    "a member's figures lack a cluster counter key".into(),
                ));
            };
            let key = RollupKey {
                rollup: Rollup::ClusterYear,
                unit: Some(cluster),
                province_id,
                category,
                outcome,
                period: Period::Year(month.year()),
            };
            rollups.add(key, &row.figures.scaled(sign));
        }
    }
    rollups.write(tx).await
}

async fn delete_if_zero(
    tx: &mut dyn Tx,
    table: &str,
    keys: &[&str],
    values: Vec<Value>,
) -> Result<(), EngineError> {
    let conditions: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, name)| format!("{name} = ${}", i + 1))
        .collect();
    tx.execute(
        &format!(
            "DELETE FROM {table} WHERE {} AND incidents = 0",
            conditions.join(" AND ")
        ),
        values,
    )
    .await?;
    Ok(())
}

const DAILY_KEYS: [&str; 5] = [
    "organisation_id",
    "commune_id",
    "category",
    "outcome",
    "day",
];
const DAILY_EXTRA: [&str; 4] = ["month_start", "month_end", "month", "province_id"];

fn daily_keys(key: &CounterKey) -> Vec<Value> {
    vec![
        key.organisation_id.into(),
        key.commune_id.into(),
        key.category.as_str().into(),
        key.outcome.as_str().into(),
        key.day.into(),
    ]
}

/// The first and last day of the month of `day`, and its yyyymm.
fn month_columns(day: Date) -> [Value; 3] {
    let (start, end) = month_bounds(day);
    [start.into(), end.into(), month_number(day).into()]
}

/// Adds figures to counter rows: `rows` hold the key values, then the `extra` values.
async fn upsert_many(
    tx: &mut dyn Tx,
    table: &str,
    keys: &[&str],
    extra: &[&str],
    rows: Vec<(Vec<Value>, Figures)>,
) -> Result<(), EngineError> {
    let mut columns = keys.to_vec();
    columns.extend(extra);
    columns.extend(Figures::MEASURES);
    let rows = rows
        .into_iter()
        .map(|(mut row, figures)| {
            row.extend(figures.values().map(Value::from));
            row
        })
        .collect();
    let conflict = OnConflict::Add {
        key: keys,
        measures: &Figures::MEASURES,
    };
    tx.insert_many(table, &columns, conflict, rows, &mut |_| {})
        .await
}

/// The province of a commune aliased `c`, through its district on the map before the reform
/// (`p` is its parent, `g` its grandparent). A commune with no province above it (which the
/// shipped maps do not have) counts under itself.
pub const PROVINCE_OF_COMMUNE: &str =
    "COALESCE(CASE WHEN p.level = 'province' THEN p.id ELSE g.id END, c.id) AS province_id";

/// The province of each commune (see [`PROVINCE_OF_COMMUNE`]).
async fn provinces_of(
    tx: &mut dyn Tx,
    communes: BTreeSet<Uuid>,
) -> Result<HashMap<Uuid, Uuid>, EngineError> {
    let select = format!(
        "SELECT c.id, {PROVINCE_OF_COMMUNE}
         FROM admin_units c
         LEFT JOIN admin_units p ON p.id = c.parent_id
         LEFT JOIN admin_units g ON g.id = p.parent_id
         WHERE c.id"
    );
    let mut provinces = HashMap::with_capacity(communes.len());
    for row in rows_with_ids(Reader::In(&mut *tx), &select, communes).await? {
        provinces.insert(row.uuid("id")?, row.uuid("province_id")?);
    }
    Ok(provinces)
}

/// The cluster memberships of each organisation.
async fn memberships_of(
    tx: &mut dyn Tx,
    organisations: BTreeSet<Uuid>,
) -> Result<HashMap<Uuid, Vec<(Uuid, Span)>>, EngineError> {
    let select = "SELECT organisation_id, cluster_id, joined_on, left_on FROM cluster_memberships
                  WHERE organisation_id";
    let mut memberships: HashMap<Uuid, Vec<(Uuid, Span)>> = HashMap::new();
    for row in rows_with_ids(Reader::In(&mut *tx), select, organisations).await? {
        memberships
            .entry(row.uuid("organisation_id")?)
            .or_default()
            .push((row.uuid("cluster_id")?, span(&row)?));
    }
    Ok(memberships)
}
