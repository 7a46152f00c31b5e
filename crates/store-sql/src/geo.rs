//! Administrative units: the shipped lists, historical units added by hand, search.

use std::collections::HashMap;

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::geo::{
    AdminLevel, AdminUnit, CURRENT_DATASET, HISTORICAL_DATASET, LEGACY_DATASET, NewHistoricalUnit,
    SuccessionRecord, UnitRecord, dataset_validity,
};
use lienhoan_domain::text::{fold, sort_key};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{
    AdminUnitQuery, AdminUnitView, GeoImportSummary, GeoStore, Page, Progress, StoreError,
    StoreResult, UnitRef,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{Change, record};
use crate::engine::{EngineError, Reader, Row, Tx};
use crate::{Conditions, ListSql, SqlStore, contains_pattern, page_bounds, paged, params, require};

const UNIT_COLUMNS: &str = "u.id, u.dataset, u.level, u.code, u.name, u.kind, u.parent_id, \
    u.valid_from, u.valid_to, u.aliases, \
    p.kind AS parent_kind, p.name AS parent_name, g.kind AS grand_kind, g.name AS grand_name";

const UNIT_FROM: &str = "FROM admin_units u \
    LEFT JOIN admin_units p ON p.id = u.parent_id \
    LEFT JOIN admin_units g ON g.id = p.parent_id";

fn search_text(kind: &str, name: &str, aliases: &[String]) -> String {
    let mut text = fold(&format!("{kind} {name}"));
    for alias in aliases {
        text.push('\n');
        text.push_str(&fold(alias));
    }
    text
}

fn unit(row: &Row) -> Result<AdminUnit, EngineError> {
    let level = row.text("level")?;
    Ok(AdminUnit {
        id: row.uuid("id")?,
        dataset: row.text("dataset")?,
        level: AdminLevel::parse(&level)
            .ok_or_else(|| EngineError::Other(format!("unknown level {level}")))?,
        code: row.text("code")?,
        name: row.text("name")?,
        kind: row.text("kind")?,
        parent_id: row.opt_uuid("parent_id")?,
        valid_from: row.opt_date("valid_from")?,
        valid_to: row.opt_date("valid_to")?,
        aliases: row
            .text("aliases")?
            .lines()
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect(),
    })
}

fn parent_path(row: &Row) -> Result<String, EngineError> {
    let mut parts = Vec::new();
    for (kind, name) in [("parent_kind", "parent_name"), ("grand_kind", "grand_name")] {
        if let (Some(k), Some(n)) = (row.opt_text(kind)?, row.opt_text(name)?) {
            parts.push(format!("{k} {n}"));
        }
    }
    Ok(parts.join(", "))
}

fn view(row: &Row) -> Result<AdminUnitView, EngineError> {
    let unit = unit(row)?;
    Ok(AdminUnitView {
        full_name: unit.full_name(),
        parent_path: parent_path(row)?,
        unit,
        successors: Vec::new(),
        predecessors: Vec::new(),
    })
}

fn unit_ref(row: &Row) -> Result<UnitRef, EngineError> {
    Ok(UnitRef {
        id: row.uuid("id")?,
        dataset: row.text("dataset")?,
        code: row.text("code")?,
        full_name: format!("{} {}", row.text("kind")?, row.text("name")?),
    })
}

async fn insert_unit(tx: &mut dyn Tx, unit: &AdminUnit) -> Result<(), EngineError> {
    tx.execute(
        "INSERT INTO admin_units (id, dataset, level, code, name, kind, parent_id, valid_from, valid_to, aliases, search_text, sort_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        params![
            unit.id,
            unit.dataset.as_str(),
            unit.level.as_str(),
            unit.code.as_str(),
            unit.name.as_str(),
            unit.kind.as_str(),
            unit.parent_id,
            unit.valid_from,
            unit.valid_to,
            unit.aliases.join("\n"),
            search_text(&unit.kind, &unit.name, &unit.aliases),
            sort_key(&unit.name),
        ],
    )
    .await?;
    Ok(())
}

async fn insert_succession(tx: &mut dyn Tx, from: Uuid, to: Uuid) -> Result<u64, EngineError> {
    tx.execute(
        "INSERT INTO admin_unit_successions (predecessor_id, successor_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
        params![from, to],
    )
    .await
}

/// Counts one row done, reporting every few hundred.
fn step(done: &mut u64, progress: Progress<'_>) {
    *done += 1;
    if done.is_multiple_of(500) {
        progress(*done);
    }
}

fn level_rank(level: AdminLevel) -> u8 {
    match level {
        AdminLevel::Province => 0,
        AdminLevel::District => 1,
        AdminLevel::Commune => 2,
    }
}

#[async_trait]
impl GeoStore for SqlStore {
    async fn import_geo(
        &self,
        actor: &Actor,
        units: &[UnitRecord],
        successions: &[SuccessionRecord],
        progress: Progress<'_>,
    ) -> StoreResult<GeoImportSummary> {
        require(actor.can_manage_reference_data())?;
        let mut tx = self.engine.write().await?;
        let mut ids: HashMap<(String, String), Uuid> = HashMap::new();
        for row in tx
            .query(
                "SELECT id, dataset, code FROM admin_units WHERE dataset IN ($1, $2)",
                params![LEGACY_DATASET, CURRENT_DATASET],
            )
            .await?
        {
            ids.insert((row.text("dataset")?, row.text("code")?), row.uuid("id")?);
        }
        let mut ordered: Vec<&UnitRecord> = units.iter().collect();
        ordered.sort_by_key(|u| level_rank(u.level));
        let mut summary = GeoImportSummary::default();
        let mut done = 0u64;
        for record in ordered {
            step(&mut done, progress);
            let key = (record.dataset.clone(), record.code.clone());
            if ids.contains_key(&key) {
                summary.units_unchanged += 1;
                continue;
            }
            let parent_id = match &record.parent_code {
                Some(code) => Some(
                    *ids.get(&(record.dataset.clone(), code.clone()))
                        .ok_or_else(|| {
                            StoreError::invalid("parent_code", "error-unknown-admin-unit")
                        })?,
                ),
                None => None,
            };
            let (valid_from, valid_to) = dataset_validity(&record.dataset);
            let unit = AdminUnit {
                id: Uuid::now_v7(),
                dataset: record.dataset.clone(),
                level: record.level,
                code: record.code.clone(),
                name: record.name.clone(),
                kind: record.kind.clone(),
                parent_id,
                valid_from,
                valid_to,
                aliases: Vec::new(),
            };
            insert_unit(tx.as_mut(), &unit).await?;
            ids.insert(key, unit.id);
            summary.units_added += 1;
        }
        for record in successions {
            step(&mut done, progress);
            let from = ids.get(&(LEGACY_DATASET.into(), record.old_code.clone()));
            let to = ids.get(&(CURRENT_DATASET.into(), record.new_code.clone()));
            let (Some(from), Some(to)) = (from, to) else {
                return Err(StoreError::invalid("code", "error-unknown-admin-unit"));
            };
            summary.successions_added += insert_succession(tx.as_mut(), *from, *to).await?;
        }
        progress(done);
        if summary.units_added + summary.successions_added > 0 {
            record(
                tx.as_mut(),
                actor,
                Change {
                    action: "geo.import",
                    target_kind: "admin_unit",
                    target_id: None,
                    summary: json!({
                        "units_added": summary.units_added,
                        "successions_added": summary.successions_added,
                    }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(summary)
    }

    async fn add_historical_unit(
        &self,
        actor: &Actor,
        input: &NewHistoricalUnit,
    ) -> StoreResult<AdminUnit> {
        require(actor.can_manage_reference_data())?;
        input.validate()?;
        let mut tx = self.engine.write().await?;
        if let Some(parent) = input.parent_id {
            let rows = tx
                .query(
                    "SELECT level FROM admin_units WHERE id = $1",
                    params![parent],
                )
                .await?;
            let parent_level = rows.first().map(|r| r.text("level")).transpose()?;
            let fits = parent_level
                .and_then(|l| AdminLevel::parse(&l))
                .is_some_and(|l| input.level.allowed_parents().contains(&l));
            if !fits {
                return Err(StoreError::invalid("parent_id", "error-unknown-admin-unit"));
            }
        }
        let taken = tx
            .query(
                "SELECT id FROM admin_units WHERE dataset = $1 AND code = $2",
                params![HISTORICAL_DATASET, input.code.as_str()],
            )
            .await?;
        if !taken.is_empty() {
            return Err(StoreError::Conflict(FieldError::new(
                "code",
                "error-code-taken",
            )));
        }
        let unit = AdminUnit {
            id: Uuid::now_v7(),
            dataset: HISTORICAL_DATASET.into(),
            level: input.level,
            code: input.code.clone(),
            name: input.name.trim().to_owned(),
            kind: input.kind.trim().to_owned(),
            parent_id: input.parent_id,
            valid_from: input.valid_from,
            valid_to: Some(input.valid_to),
            aliases: input.aliases.iter().map(|a| a.trim().to_owned()).collect(),
        };
        insert_unit(tx.as_mut(), &unit).await?;
        for successor in &input.successor_ids {
            let exists = tx
                .query(
                    "SELECT id FROM admin_units WHERE id = $1",
                    params![*successor],
                )
                .await?;
            if exists.is_empty() {
                return Err(StoreError::invalid(
                    "successor_ids",
                    "error-unknown-admin-unit",
                ));
            }
            insert_succession(tx.as_mut(), unit.id, *successor).await?;
        }
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "geo.unit.add",
                target_kind: "admin_unit",
                target_id: Some(unit.id),
                summary: json!({"after": unit, "successors": input.successor_ids}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(unit)
    }

    async fn add_unit_alias(&self, actor: &Actor, unit_id: Uuid, alias: &str) -> StoreResult<()> {
        require(actor.can_manage_reference_data())?;
        lienhoan_domain::validation::required_text(
            "alias",
            alias,
            lienhoan_domain::validation::NAME_MAX,
        )
        .map_err(|e| StoreError::Invalid(vec![e]))?;
        let mut tx = self.engine.write().await?;
        let rows = tx
            .query(
                &format!("SELECT {UNIT_COLUMNS} {UNIT_FROM} WHERE u.id = $1"),
                params![unit_id],
            )
            .await?;
        let mut unit = unit(rows.first().ok_or(StoreError::NotFound)?)?;
        let alias = alias.trim().to_owned();
        if unit.aliases.contains(&alias) {
            return Ok(());
        }
        unit.aliases.push(alias.clone());
        tx.execute(
            "UPDATE admin_units SET aliases = $1, search_text = $2 WHERE id = $3",
            params![
                unit.aliases.join("\n"),
                search_text(&unit.kind, &unit.name, &unit.aliases),
                unit_id
            ],
        )
        .await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "geo.unit.alias",
                target_kind: "admin_unit",
                target_id: Some(unit_id),
                summary: json!({"alias": alias}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn admin_unit(&self, id: Uuid) -> StoreResult<AdminUnitView> {
        let mut tx = self.engine.read().await?;
        let rows = tx
            .query(
                &format!("SELECT {UNIT_COLUMNS} {UNIT_FROM} WHERE u.id = $1"),
                params![id],
            )
            .await?;
        let mut view = view(rows.first().ok_or(StoreError::NotFound)?)?;
        let related = "SELECT a.id, a.dataset, a.code, a.kind, a.name FROM admin_unit_successions s
             JOIN admin_units a ON a.id = s.{other} WHERE s.{this} = $1 ORDER BY a.sort_key";
        for (other, this, into) in [
            ("successor_id", "predecessor_id", &mut view.successors),
            ("predecessor_id", "successor_id", &mut view.predecessors),
        ] {
            let sql = related.replace("{other}", other).replace("{this}", this);
            for row in tx.query(&sql, params![id]).await? {
                into.push(unit_ref(&row)?);
            }
        }
        Ok(view)
    }

    async fn admin_unit_by_code(&self, dataset: &str, code: &str) -> StoreResult<AdminUnit> {
        let mut tx = self.engine.read().await?;
        let rows = tx
            .query(
                &format!("SELECT {UNIT_COLUMNS} {UNIT_FROM} WHERE u.dataset = $1 AND u.code = $2"),
                params![dataset, code],
            )
            .await?;
        Ok(unit(rows.first().ok_or(StoreError::NotFound)?)?)
    }

    async fn search_admin_units(&self, query: &AdminUnitQuery) -> StoreResult<Page<AdminUnitView>> {
        let (limit, offset) = page_bounds(query.limit, query.offset);
        // Only the filters given, so that a statement planned without its values (PostgreSQL)
        // still reads a parent's children from its index.
        let mut c = Conditions::default();
        c.add_some(
            "u.search_text LIKE $$ ESCAPE '\\'",
            query.text.as_deref().and_then(contains_pattern),
        );
        c.add_some("u.dataset = $$", query.dataset.clone());
        c.add_some("u.level = $$", query.level.map(|l| l.as_str()));
        c.add_some("u.parent_id = $$", query.parent_id);
        let (filter, args) = c.into_where();
        paged(
            Reader::Once(self.engine_ref()),
            ListSql::plain(UNIT_COLUMNS, UNIT_FROM, &filter, "CASE u.level WHEN 'province' THEN 0 WHEN 'district' THEN 1 ELSE 2 END, u.sort_key, u.dataset DESC"),
            args,
            (limit, offset),
            view,
        )
        .await
    }
}
