//! The statistics counters, kept fresh in the same transaction as every incident change: a
//! daily row per (organisation, commune, category, outcome, day), monthly rollups per
//! organisation and per province, and a yearly rollup per province. Changes are summed per row first and written with
//! multi-row upserts, so an import writes each counter row once, in a few statements.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lienhoan_domain::incident::{Incident, Outcome};
use lienhoan_domain::stats::{CounterKey, Figures, contribution, month_bounds, month_number};
use time::Date;
use uuid::Uuid;

use crate::bulk::PARAMETERS_PER_STATEMENT;
use crate::engine::{EngineError, Tx, Value};

/// A monthly rollup row: per organisation, or (without one) per province only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RollupKey {
    organisation_id: Option<Uuid>,
    province_id: Uuid,
    category: String,
    outcome: Outcome,
    month: Date,
}

/// Counter changes summed per daily row, not yet written.
#[derive(Default)]
pub struct CounterChanges {
    daily: BTreeMap<CounterKey, Figures>,
    provinces: HashMap<Uuid, Uuid>,
}

impl CounterChanges {
    /// Notes the province of a commune that the caller has already read, so that writing does
    /// not look it up again.
    pub fn locate(&mut self, commune: Uuid, province: Uuid) {
        self.provinces.insert(commune, province);
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
        let mut rollups: BTreeMap<RollupKey, Figures> = BTreeMap::new();
        let mut yearly: BTreeMap<(Uuid, &str, Outcome, i32), Figures> = BTreeMap::new();
        let mut daily = Vec::with_capacity(self.daily.len());
        let mut emptied = Vec::new();
        for (key, figures) in &self.daily {
            let province_id = province(&key.commune_id);
            let (month, _) = month_bounds(key.day);
            for organisation_id in [Some(key.organisation_id), None] {
                let rollup = RollupKey {
                    organisation_id,
                    province_id,
                    category: key.category.clone(),
                    outcome: key.outcome,
                    month,
                };
                rollups.entry(rollup).or_default().add(figures);
            }
            yearly
                .entry((province_id, &key.category, key.outcome, key.day.year()))
                .or_default()
                .add(figures);
            let keys = daily_keys(key);
            if figures.incidents < 0 {
                emptied.push(("incident_counters", DAILY_KEYS.as_slice(), keys.clone()));
            }
            let mut row = keys;
            row.extend(month_columns(key.day));
            row.push(province_id.into());
            daily.push((row, *figures));
        }
        upsert_many(tx, "incident_counters", &DAILY_KEYS, &DAILY_EXTRA, daily).await?;
        let (mut by_organisation, mut by_province) = (Vec::new(), Vec::new());
        for (key, figures) in &rollups {
            let mut keys: Vec<Value> = key.organisation_id.into_iter().map(Value::from).collect();
            keys.extend([
                key.province_id.into(),
                key.category.as_str().into(),
                key.outcome.as_str().into(),
                month_number(key.month).into(),
            ]);
            let (table, names, rows) = match key.organisation_id {
                Some(_) => (
                    "incident_counters_monthly",
                    ORGANISATION_MONTH_KEYS.as_slice(),
                    &mut by_organisation,
                ),
                None => (
                    "incident_counters_province",
                    PROVINCE_MONTH_KEYS.as_slice(),
                    &mut by_province,
                ),
            };
            if figures.incidents < 0 {
                emptied.push((table, names, keys.clone()));
            }
            let mut row = keys;
            row.extend(month_columns(key.month).into_iter().take(2));
            rows.push((row, *figures));
        }
        let bounds = ["month_start", "month_end"];
        upsert_many(
            tx,
            "incident_counters_monthly",
            &ORGANISATION_MONTH_KEYS,
            &bounds,
            by_organisation,
        )
        .await?;
        upsert_many(
            tx,
            "incident_counters_province",
            &PROVINCE_MONTH_KEYS,
            &bounds,
            by_province,
        )
        .await?;
        let mut by_year = Vec::with_capacity(yearly.len());
        for ((province, category, outcome, year), figures) in &yearly {
            let keys: Vec<Value> = vec![
                (*province).into(),
                (*category).into(),
                outcome.as_str().into(),
                i64::from(*year).into(),
            ];
            if figures.incidents < 0 {
                emptied.push((
                    "incident_counters_province_yearly",
                    PROVINCE_YEAR_KEYS.as_slice(),
                    keys.clone(),
                ));
            }
            by_year.push((keys, *figures));
        }
        upsert_many(
            tx,
            "incident_counters_province_yearly",
            &PROVINCE_YEAR_KEYS,
            &[],
            by_year,
        )
        .await?;
        for (table, names, keys) in emptied {
            let conditions: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, name)| format!("{name} = ${}", i + 1))
                .collect();
            tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE {} AND incidents = 0",
                    conditions.join(" AND ")
                ),
                keys,
            )
            .await?;
        }
        Ok(())
    }
}

const DAILY_KEYS: [&str; 5] = [
    "organisation_id",
    "commune_id",
    "category",
    "outcome",
    "day",
];
const DAILY_EXTRA: [&str; 4] = ["month_start", "month_end", "month", "province_id"];
const ORGANISATION_MONTH_KEYS: [&str; 5] = [
    "organisation_id",
    "province_id",
    "category",
    "outcome",
    "month",
];
const PROVINCE_MONTH_KEYS: [&str; 4] = ["province_id", "category", "outcome", "month"];
const PROVINCE_YEAR_KEYS: [&str; 4] = ["province_id", "category", "outcome", "year"];

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
    let updates: Vec<String> = Figures::MEASURES
        .iter()
        .map(|m| format!("{m} = {table}.{m} + excluded.{m}"))
        .collect();
    let tail = format!(
        "ON CONFLICT ({}) DO UPDATE SET {}",
        keys.join(", "),
        updates.join(", ")
    );
    let rows = rows
        .into_iter()
        .map(|(mut row, figures)| {
            row.extend(figures.values().map(Value::from));
            row
        })
        .collect();
    tx.insert_many(table, &columns, &tail, rows, &mut |_| {})
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
    let communes: Vec<Uuid> = communes.into_iter().collect();
    let mut provinces: HashMap<Uuid, Uuid> = HashMap::with_capacity(communes.len());
    for chunk in communes.chunks(PARAMETERS_PER_STATEMENT) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let rows = tx
            .query(
                &format!(
                    "SELECT c.id, {PROVINCE_OF_COMMUNE}
                     FROM admin_units c
                     LEFT JOIN admin_units p ON p.id = c.parent_id
                     LEFT JOIN admin_units g ON g.id = p.parent_id
                     WHERE c.id IN ({})",
                    placeholders.join(", ")
                ),
                chunk.iter().copied().map(Value::from).collect(),
            )
            .await?;
        for row in rows {
            provinces.insert(row.uuid("id")?, row.uuid("province_id")?);
        }
    }
    Ok(provinces)
}
