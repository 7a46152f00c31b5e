//! Incidents, with the statistics counters updated in the same transaction as every change.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::format::local_date;
use lienhoan_domain::incident::{Incident, IncidentInput, Outcome, Status};
use lienhoan_domain::stats::{CounterKey, Figures, contribution, month_bounds, month_number};
use lienhoan_domain::text::fold;
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{
    AuditView, IncidentQuery, IncidentStore, IncidentView, LiveEvent, Page, Progress, StoreError,
    StoreResult,
};
use serde_json::json;
use time::Date;
use uuid::Uuid;

use crate::audit::{Change, record};
use crate::engine::{EngineError, Row, Tx, Value};
use crate::events::{cluster_neighbours, publish};
use crate::{SqlStore, contains_pattern, now, page_bounds, paged, params, require, scope_param};

const COLUMNS: &str =
    "i.id, i.organisation_id, i.commune_id, i.place, i.latitude_e6, i.longitude_e6,
    i.occurred_at, i.reported_at, i.category, i.suspects, i.victims, i.deaths, i.injured,
    i.damage_vnd, i.narrative, i.status, i.outcome, i.outcome_people, i.cross_border, i.shared,
    i.created_at, i.updated_at, o.name AS organisation_name, c.kind AS commune_kind,
    c.name AS commune_name";

const FROM: &str = "FROM incidents i
    JOIN organisations o ON o.id = i.organisation_id
    JOIN admin_units c ON c.id = i.commune_id";

/// Visible to the organisation `$VIEWER` (null: everything): its own incidents, and shared ones
/// of organisations that were in a cluster with it on the day the incident occurred. The `IN`
/// names the few organisations that could qualify, so the engine reads only their incidents
/// before checking the dates.
const VISIBLE: &str = "($VIEWER IS NULL OR i.organisation_id = $VIEWER OR (i.shared
    AND i.organisation_id IN (
        SELECT co.organisation_id FROM cluster_memberships co
        JOIN cluster_memberships me ON me.cluster_id = co.cluster_id
        WHERE me.organisation_id = $VIEWER)
    AND EXISTS (
        SELECT 1 FROM cluster_memberships mo
        JOIN cluster_memberships mv ON mv.cluster_id = mo.cluster_id
        WHERE mo.organisation_id = i.organisation_id AND mv.organisation_id = $VIEWER
          AND mo.joined_on <= i.occurred_on AND (mo.left_on IS NULL OR mo.left_on > i.occurred_on)
          AND mv.joined_on <= i.occurred_on AND (mv.left_on IS NULL OR mv.left_on > i.occurred_on))))";

fn visible(param: usize) -> String {
    VISIBLE.replace("$VIEWER", &format!("${param}"))
}

fn micro(degrees: Option<f64>) -> Option<i64> {
    degrees.map(|d| (d * 1_000_000.0).round() as i64)
}

fn degrees(micro: Option<i64>) -> Option<f64> {
    micro.map(|m| m as f64 / 1_000_000.0)
}

fn parse<T>(column: &str, text: String, parse: fn(&str) -> Option<T>) -> Result<T, EngineError> {
    parse(&text).ok_or_else(|| EngineError::Other(format!("{column}: unknown value {text}")))
}

fn view(row: &Row) -> Result<IncidentView, EngineError> {
    let input = IncidentInput {
        commune_id: row.uuid("commune_id")?,
        place: row.text("place")?,
        latitude: degrees(row.opt_int("latitude_e6")?),
        longitude: degrees(row.opt_int("longitude_e6")?),
        occurred_at: row.instant("occurred_at")?,
        reported_at: row.instant("reported_at")?,
        category: row.text("category")?,
        suspects: row.int("suspects")?,
        victims: row.int("victims")?,
        deaths: row.int("deaths")?,
        injured: row.int("injured")?,
        damage_vnd: row.int("damage_vnd")?,
        narrative: row.text("narrative")?,
        status: parse("status", row.text("status")?, Status::parse)?,
        outcome: parse("outcome", row.text("outcome")?, Outcome::parse)?,
        outcome_people: row.int("outcome_people")?,
        cross_border: row.bool("cross_border")?,
        shared: None,
    };
    Ok(IncidentView {
        shared: row.bool("shared")?,
        incident: Incident {
            id: row.uuid("id")?,
            organisation_id: row.uuid("organisation_id")?,
            input,
            created_at: row.instant("created_at")?,
            updated_at: row.instant("updated_at")?,
        },
        organisation_name: row.text("organisation_name")?,
        commune_name: format!(
            "{} {}",
            row.text("commune_kind")?,
            row.text("commune_name")?
        ),
    })
}

/// Adds `sign` times the incident's contribution to its counter row.
async fn count(tx: &mut dyn Tx, incident: &Incident, sign: i64) -> Result<(), EngineError> {
    let (key, figures) = contribution(incident);
    add_to_counter(tx, &key, &figures.scaled(sign)).await
}

/// Adds figures to one row of a counter table, removing rows that fall back to zero so that
/// the counters stay as sparse as the data.
async fn upsert(
    tx: &mut dyn Tx,
    table: &str,
    keys: Vec<(&str, Value)>,
    extra: Vec<(&str, Value)>,
    f: &Figures,
) -> Result<(), EngineError> {
    let key_names: Vec<&str> = keys.iter().map(|(name, _)| *name).collect();
    let mut names = key_names.clone();
    names.extend(extra.iter().map(|(name, _)| *name));
    names.extend(Figures::MEASURES);
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let updates: Vec<String> = Figures::MEASURES
        .iter()
        .map(|m| format!("{m} = {table}.{m} + excluded.{m}"))
        .collect();
    let key_values: Vec<Value> = keys.into_iter().map(|(_, v)| v).collect();
    let mut values = key_values.clone();
    values.extend(extra.into_iter().map(|(_, v)| v));
    values.extend(f.values().map(Value::from));
    tx.execute(
        &format!(
            "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
            names.join(", "),
            placeholders.join(", "),
            key_names.join(", "),
            updates.join(", ")
        ),
        values,
    )
    .await?;
    if f.incidents < 0 {
        let conditions: Vec<String> = key_names
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{name} = ${}", i + 1))
            .collect();
        tx.execute(
            &format!(
                "DELETE FROM {table} WHERE {} AND incidents = 0",
                conditions.join(" AND ")
            ),
            key_values,
        )
        .await?;
    }
    Ok(())
}

/// The province of a commune, through its district on the map before the reform. A commune
/// with no province above it (which the shipped maps do not have) counts under itself.
async fn province_of(tx: &mut dyn Tx, commune: Uuid) -> Result<Uuid, EngineError> {
    let rows = tx
        .query(
            "SELECT CASE WHEN p.level = 'province' THEN p.id ELSE g.id END AS province_id
             FROM admin_units c
             LEFT JOIN admin_units p ON p.id = c.parent_id
             LEFT JOIN admin_units g ON g.id = p.parent_id
             WHERE c.id = $1",
            params![commune],
        )
        .await?;
    Ok(match rows.first() {
        Some(row) => row.opt_uuid("province_id")?.unwrap_or(commune),
        None => commune,
    })
}

/// Adds figures to one daily counter row.
async fn add_daily(
    tx: &mut dyn Tx,
    key: &CounterKey,
    province: Uuid,
    f: &Figures,
) -> Result<(), EngineError> {
    let (month_start, month_end) = month_bounds(key.day);
    let month = month_number(key.day);
    upsert(
        tx,
        "incident_counters",
        vec![
            ("organisation_id", key.organisation_id.into()),
            ("commune_id", key.commune_id.into()),
            ("category", key.category.as_str().into()),
            ("outcome", key.outcome.as_str().into()),
            ("day", key.day.into()),
        ],
        vec![
            ("month_start", month_start.into()),
            ("month_end", month_end.into()),
            ("month", month.into()),
            ("province_id", province.into()),
        ],
        f,
    )
    .await
}

/// A monthly rollup row: per organisation, or (without one) per province only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RollupKey {
    organisation_id: Option<Uuid>,
    province_id: Uuid,
    category: String,
    outcome: Outcome,
    month_start: Date,
}

impl RollupKey {
    /// The organisation's and the province's rollup rows for a daily key.
    fn both(key: &CounterKey, province: Uuid) -> [RollupKey; 2] {
        let of = |organisation_id| RollupKey {
            organisation_id,
            province_id: province,
            category: key.category.clone(),
            outcome: key.outcome,
            month_start: month_bounds(key.day).0,
        };
        [of(Some(key.organisation_id)), of(None)]
    }
}

async fn add_rollup(tx: &mut dyn Tx, key: &RollupKey, f: &Figures) -> Result<(), EngineError> {
    let (month_start, month_end) = month_bounds(key.month_start);
    let month = month_number(month_start);
    let mut keys = Vec::with_capacity(5);
    let table = match key.organisation_id {
        Some(org) => {
            keys.push(("organisation_id", org.into()));
            "incident_counters_monthly"
        }
        None => "incident_counters_province",
    };
    keys.extend([
        ("province_id", key.province_id.into()),
        ("category", key.category.as_str().into()),
        ("outcome", key.outcome.as_str().into()),
        ("month", month.into()),
    ]);
    let bounds = vec![
        ("month_start", month_start.into()),
        ("month_end", month_end.into()),
    ];
    upsert(tx, table, keys, bounds, f).await
}

/// Adds figures to the daily counter of `key` and to its monthly rollups.
async fn add_to_counter(tx: &mut dyn Tx, key: &CounterKey, f: &Figures) -> Result<(), EngineError> {
    let province = province_of(tx, key.commune_id).await?;
    add_daily(tx, key, province, f).await?;
    for rollup in RollupKey::both(key, province) {
        add_rollup(tx, &rollup, f).await?;
    }
    Ok(())
}

/// The commune must be a commune in the organisation's own area: its unit or a unit under it.
async fn check_commune(
    tx: &mut dyn Tx,
    organisation_id: Uuid,
    commune_id: Uuid,
) -> StoreResult<()> {
    let rows = tx
        .query(
            "SELECT c.id FROM admin_units c
             LEFT JOIN admin_units p ON p.id = c.parent_id
             JOIN organisations o ON o.id = $2
             WHERE c.id = $1 AND c.level = 'commune'
               AND (c.id = o.admin_unit_id OR c.parent_id = o.admin_unit_id OR p.parent_id = o.admin_unit_id)",
            params![commune_id, organisation_id],
        )
        .await?;
    if rows.is_empty() {
        return Err(StoreError::invalid(
            "commune_id",
            "error-commune-outside-area",
        ));
    }
    Ok(())
}

async fn fetch(tx: &mut dyn Tx, actor: &Actor, id: Uuid) -> StoreResult<IncidentView> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} {FROM} WHERE i.id = $1 AND {}", visible(2)),
            params![id, scope_param(actor.cluster_scope())],
        )
        .await?;
    Ok(view(rows.first().ok_or(StoreError::NotFound)?)?)
}

async fn write_row(
    tx: &mut dyn Tx,
    incident: &Incident,
    shared: bool,
    insert: bool,
) -> Result<(), EngineError> {
    let i = &incident.input;
    let sql = if insert {
        "INSERT INTO incidents (organisation_id, commune_id, place, latitude_e6, longitude_e6,
            occurred_at, occurred_on, reported_at, category, suspects, victims, deaths, injured,
            damage_vnd, narrative, status, outcome, outcome_people, cross_border, shared,
            search_text, created_at, updated_at, id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23, $24)"
    } else {
        "UPDATE incidents SET organisation_id = $1, commune_id = $2, place = $3, latitude_e6 = $4,
            longitude_e6 = $5, occurred_at = $6, occurred_on = $7, reported_at = $8, category = $9,
            suspects = $10, victims = $11, deaths = $12, injured = $13, damage_vnd = $14,
            narrative = $15, status = $16, outcome = $17, outcome_people = $18, cross_border = $19,
            shared = $20, search_text = $21, created_at = $22, updated_at = $23
         WHERE id = $24"
    };
    tx.execute(
        sql,
        params![
            incident.organisation_id,
            i.commune_id,
            i.place.as_str(),
            micro(i.latitude),
            micro(i.longitude),
            i.occurred_at,
            local_date(i.occurred_at),
            i.reported_at,
            i.category.as_str(),
            i.suspects,
            i.victims,
            i.deaths,
            i.injured,
            i.damage_vnd,
            i.narrative.as_str(),
            i.status.as_str(),
            i.outcome.as_str(),
            i.outcome_people,
            i.cross_border,
            shared,
            fold(&format!("{}\n{}", i.place, i.narrative)),
            incident.created_at,
            incident.updated_at,
            incident.id
        ],
    )
    .await?;
    Ok(())
}

fn normalised(input: &IncidentInput) -> IncidentInput {
    IncidentInput {
        place: input.place.trim().to_owned(),
        latitude: degrees(micro(input.latitude)),
        longitude: degrees(micro(input.longitude)),
        occurred_at: lienhoan_domain::audit::storable_instant(input.occurred_at),
        reported_at: lienhoan_domain::audit::storable_instant(input.reported_at),
        shared: None,
        ..input.clone()
    }
}

#[async_trait]
impl IncidentStore for SqlStore {
    async fn create_incident(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
        input: &IncidentInput,
    ) -> StoreResult<Incident> {
        require(actor.can_write_incident(organisation_id))?;
        input.validate(now())?;
        let at = now();
        let incident = Incident {
            id: Uuid::now_v7(),
            organisation_id,
            input: normalised(input),
            created_at: at,
            updated_at: at,
        };
        let shared = input.shared.unwrap_or(input.cross_border);
        let mut tx = self.engine.write().await?;
        check_commune(tx.as_mut(), organisation_id, input.commune_id).await?;
        write_row(tx.as_mut(), &incident, shared, true).await?;
        count(tx.as_mut(), &incident, 1).await?;
        if input.cross_border {
            let day = local_date(incident.input.occurred_at);
            let event = LiveEvent {
                kind: "incident".into(),
                recipients: cluster_neighbours(tx.as_mut(), organisation_id, day).await?,
                title: incident.input.place.clone(),
                link: format!("/incidents/{}", incident.id),
            };
            publish(tx.as_mut(), &event).await?;
        }
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "incident.create",
                target_kind: "incident",
                target_id: Some(incident.id),
                summary: json!({"after": incident, "shared": shared}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(incident)
    }

    async fn import_incidents(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
        inputs: &[IncidentInput],
        progress: Progress<'_>,
    ) -> StoreResult<u64> {
        require(actor.can_write_incident(organisation_id))?;
        let at = now();
        let mut errors = Vec::new();
        for (row, input) in inputs.iter().enumerate() {
            if let Err(found) = input.validate(at) {
                errors.extend(found.into_iter().map(|e| FieldError {
                    field: format!("{row}.{}", e.field),
                    ..e
                }));
            }
        }
        let mut tx = self.engine.write().await?;
        let area: HashSet<Uuid> = tx
            .query(
                "SELECT c.id FROM admin_units c
                 LEFT JOIN admin_units p ON p.id = c.parent_id
                 JOIN organisations o ON o.id = $1
                 WHERE c.level = 'commune'
                   AND (c.id = o.admin_unit_id OR c.parent_id = o.admin_unit_id OR p.parent_id = o.admin_unit_id)",
                params![organisation_id],
            )
            .await?
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<Result<_, _>>()?;
        for (row, input) in inputs.iter().enumerate() {
            if !area.contains(&input.commune_id) {
                errors.push(FieldError::new(
                    format!("{row}.commune_id"),
                    "error-commune-outside-area",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Invalid(errors));
        }
        // Counter changes are summed first: one upsert per counter row, not per incident.
        let mut deltas: BTreeMap<CounterKey, Figures> = BTreeMap::new();
        for (row, input) in inputs.iter().enumerate() {
            let incident = Incident {
                id: Uuid::now_v7(),
                organisation_id,
                input: normalised(input),
                created_at: at,
                updated_at: at,
            };
            write_row(
                tx.as_mut(),
                &incident,
                input.shared.unwrap_or(input.cross_border),
                true,
            )
            .await?;
            let (key, figures) = contribution(&incident);
            deltas.entry(key).or_default().add(&figures);
            if (row + 1).is_multiple_of(500) {
                progress(row as u64 + 1);
            }
        }
        // Rollups sum further: a month's rows for an organisation or a province are written once.
        let mut provinces: HashMap<Uuid, Uuid> = HashMap::new();
        let mut rollups: BTreeMap<RollupKey, Figures> = BTreeMap::new();
        for (key, figures) in &deltas {
            let province = match provinces.get(&key.commune_id) {
                Some(p) => *p,
                None => {
                    let p = province_of(tx.as_mut(), key.commune_id).await?;
                    provinces.insert(key.commune_id, p);
                    p
                }
            };
            add_daily(tx.as_mut(), key, province, figures).await?;
            for rollup in RollupKey::both(key, province) {
                rollups.entry(rollup).or_default().add(figures);
            }
        }
        for (key, figures) in &rollups {
            add_rollup(tx.as_mut(), key, figures).await?;
        }
        let days = inputs.iter().map(|i| local_date(i.occurred_at));
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "incident.import",
                target_kind: "organisation",
                target_id: Some(organisation_id),
                summary: json!({
                    "count": inputs.len(),
                    "first_day": days.clone().min(),
                    "last_day": days.max(),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        progress(inputs.len() as u64);
        Ok(inputs.len() as u64)
    }

    async fn update_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &IncidentInput,
    ) -> StoreResult<Incident> {
        input.validate(now())?;
        let mut tx = self.engine.write().await?;
        let before = fetch(tx.as_mut(), actor, id).await?;
        let owner = before.incident.organisation_id;
        require(actor.can_write_incident(owner))?;
        if !before.incident.input.status.can_move_to(input.status) {
            return Err(StoreError::Invalid(vec![
                FieldError::new("status", "error-status-transition")
                    .with("from", before.incident.input.status.as_str()),
            ]));
        }
        check_commune(tx.as_mut(), owner, input.commune_id).await?;
        let after = Incident {
            input: normalised(input),
            updated_at: now(),
            ..before.incident.clone()
        };
        let shared = input.shared.unwrap_or(before.shared);
        count(tx.as_mut(), &before.incident, -1).await?;
        write_row(tx.as_mut(), &after, shared, false).await?;
        count(tx.as_mut(), &after, 1).await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "incident.update",
                target_kind: "incident",
                target_id: Some(id),
                summary: json!({"before": before.incident, "after": after, "shared": shared}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_incident(&self, actor: &Actor, id: Uuid, reason: &str) -> StoreResult<()> {
        lienhoan_domain::validation::required_text(
            "reason",
            reason,
            lienhoan_domain::validation::NAME_MAX,
        )
        .map_err(|e| StoreError::Invalid(vec![e]))?;
        let mut tx = self.engine.write().await?;
        let before = fetch(tx.as_mut(), actor, id).await?;
        require(actor.can_delete_incident(before.incident.organisation_id))?;
        count(tx.as_mut(), &before.incident, -1).await?;
        tx.execute("DELETE FROM incidents WHERE id = $1", params![id])
            .await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "incident.delete",
                target_kind: "incident",
                target_id: Some(id),
                summary: json!({"before": before.incident, "reason": reason.trim()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident(&self, actor: &Actor, id: Uuid) -> StoreResult<IncidentView> {
        let mut tx = self.engine.read().await?;
        fetch(tx.as_mut(), actor, id).await
    }

    async fn incident_history(&self, actor: &Actor, id: Uuid) -> StoreResult<Vec<AuditView>> {
        let mut tx = self.engine.read().await?;
        fetch(tx.as_mut(), actor, id).await?;
        let rows = tx
            .query(
                &format!(
                    "SELECT {} FROM audit_log WHERE target_id = $1 AND target_kind = 'incident' ORDER BY seq",
                    crate::audit::COLUMNS
                ),
                params![id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(crate::audit::entry)
            .collect::<Result<_, _>>()?)
    }

    async fn list_incidents(
        &self,
        actor: &Actor,
        query: &IncidentQuery,
    ) -> StoreResult<Page<IncidentView>> {
        let (limit, offset) = page_bounds(query.limit, query.offset);
        let filter = format!(
            "WHERE {}
               AND ($2 IS NULL OR i.occurred_on >= $2)
               AND ($3 IS NULL OR i.occurred_on <= $3)
               AND ($4 IS NULL OR i.organisation_id = $4)
               AND ($5 IS NULL OR EXISTS (SELECT 1 FROM cluster_memberships cm
                    WHERE cm.cluster_id = $5 AND cm.organisation_id = i.organisation_id
                      AND cm.joined_on <= i.occurred_on
                      AND (cm.left_on IS NULL OR cm.left_on > i.occurred_on)))
               AND ($6 IS NULL OR i.category = $6 OR substr(i.category, 1, length($6) + 1) = $6 || '.')
               AND ($7 IS NULL OR i.status = $7)
               AND ($8 IS NULL OR i.outcome = $8)
               AND ($9 IS NULL OR i.search_text LIKE $9 ESCAPE '\\')",
            visible(1)
        );
        let args = params![
            scope_param(actor.cluster_scope()),
            query.from,
            query.to,
            query.organisation_id,
            query.cluster_id,
            query.category.clone(),
            query.status.map(|s| s.as_str()),
            query.outcome.map(|o| o.as_str()),
            query.text.as_deref().and_then(contains_pattern),
        ];
        let mut tx = self.engine.read().await?;
        paged(
            tx.as_mut(),
            COLUMNS,
            &format!("{FROM} {filter}"),
            "i.occurred_at DESC, i.id",
            args,
            (limit, offset),
            view,
        )
        .await
    }
}
