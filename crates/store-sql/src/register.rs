//! The supervised-person register. Visible only to the owning organisation and to
//! organisations that received a movement notice about the person; every read is audited in
//! the same transaction that reads.

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::format::local_date;
use lienhoan_domain::register::{DecisionType, MovementInput, PersonInput};
use lienhoan_domain::text::fold;
use lienhoan_store::{
    LiveEvent, MovementView, Page, PersonQuery, PersonView, RegisterStore, StoreError, StoreResult,
};
use serde_json::json;
use time::Date;
use uuid::Uuid;

use crate::audit::{Change, record};
use crate::engine::{EngineError, Reader, Row, Tx};
use crate::events::publish;
use crate::{ListSql, SqlStore, contains_pattern, now, page_bounds, paged, params, require};

const COLUMNS: &str = "p.id, p.organisation_id, o.name AS organisation_name, p.full_name,
    p.birth_year, p.identity_number, p.home_commune_id, p.decision_type, p.decision_number,
    p.issuing_body, p.starts_on, p.ends_on, u.kind AS commune_kind, u.name AS commune_name";
const FROM: &str = "FROM supervised_persons p
    JOIN organisations o ON o.id = p.organisation_id
    JOIN admin_units u ON u.id = p.home_commune_id";

/// Need to know: the owner, or an organisation notified of the person's movement.
const VISIBLE: &str = "(p.organisation_id = $VIEWER OR EXISTS (
    SELECT 1 FROM movement_notices n WHERE n.person_id = p.id AND n.to_organisation_id = $VIEWER))";

fn visible(param: usize) -> String {
    VISIBLE.replace("$VIEWER", &format!("${param}"))
}

fn view(row: &Row) -> Result<PersonView, EngineError> {
    let decision = row.text("decision_type")?;
    Ok(PersonView {
        id: row.uuid("id")?,
        organisation_id: row.uuid("organisation_id")?,
        organisation_name: row.text("organisation_name")?,
        person: PersonInput {
            full_name: row.text("full_name")?,
            birth_year: row.int("birth_year")? as i32,
            identity_number: row.opt_text("identity_number")?,
            home_commune_id: row.uuid("home_commune_id")?,
            decision_type: DecisionType::parse(&decision)
                .ok_or_else(|| EngineError::Other(format!("unknown decision type {decision}")))?,
            decision_number: row.text("decision_number")?,
            issuing_body: row.text("issuing_body")?,
            starts_on: row.date("starts_on")?,
            ends_on: row.date("ends_on")?,
        },
        home_commune_name: format!(
            "{} {}",
            row.text("commune_kind")?,
            row.text("commune_name")?
        ),
    })
}

fn viewer(actor: &Actor) -> StoreResult<Uuid> {
    require(actor.can_use_register())?;
    actor.organisation_id.ok_or(StoreError::Forbidden)
}

async fn fetch(tx: &mut dyn Tx, org: Uuid, id: Uuid) -> StoreResult<PersonView> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} {FROM} WHERE p.id = $1 AND {}", visible(2)),
            params![id, org],
        )
        .await?;
    Ok(view(rows.first().ok_or(StoreError::NotFound)?)?)
}

async fn check_commune(tx: &mut dyn Tx, id: Uuid) -> StoreResult<()> {
    let rows = tx
        .query(
            "SELECT id FROM admin_units WHERE id = $1 AND level = 'commune'",
            params![id],
        )
        .await?;
    if rows.is_empty() {
        return Err(StoreError::invalid(
            "home_commune_id",
            "error-unknown-admin-unit",
        ));
    }
    Ok(())
}

async fn audit(
    tx: &mut dyn Tx,
    actor: &Actor,
    action: &str,
    target: Option<Uuid>,
    summary: serde_json::Value,
) -> StoreResult<()> {
    record(
        tx,
        actor,
        Change::about(action, "supervised_person", target, summary),
    )
    .await?;
    Ok(())
}

async fn save(
    tx: &mut dyn Tx,
    id: Uuid,
    org: Uuid,
    input: &PersonInput,
    insert: bool,
) -> Result<(), EngineError> {
    let sql = if insert {
        "INSERT INTO supervised_persons (organisation_id, full_name, birth_year, identity_number,
            home_commune_id, decision_type, decision_number, issuing_body, starts_on, ends_on,
            search_text, created_at, id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    } else {
        "UPDATE supervised_persons SET organisation_id = $1, full_name = $2, birth_year = $3,
            identity_number = $4, home_commune_id = $5, decision_type = $6, decision_number = $7,
            issuing_body = $8, starts_on = $9, ends_on = $10, search_text = $11,
            created_at = COALESCE(created_at, $12)
         WHERE id = $13"
    };
    tx.execute(
        sql,
        params![
            org,
            input.full_name.trim(),
            input.birth_year,
            input.identity_number.clone(),
            input.home_commune_id,
            input.decision_type.as_str(),
            input.decision_number.trim(),
            input.issuing_body.trim(),
            input.starts_on,
            input.ends_on,
            fold(&format!("{} {}", input.full_name, input.decision_number)),
            now(),
            id
        ],
    )
    .await?;
    Ok(())
}

const MOVEMENT_SELECT: &str = "SELECT n.id, n.person_id, p.full_name, n.from_organisation_id,
        f.name AS from_name, n.to_organisation_id, t.name AS to_name, n.moved_on, n.destination,
        n.note, n.created_at, n.acknowledged_at
    FROM movement_notices n
    JOIN supervised_persons p ON p.id = n.person_id
    JOIN organisations f ON f.id = n.from_organisation_id
    JOIN organisations t ON t.id = n.to_organisation_id";

fn movement(row: &Row) -> Result<MovementView, EngineError> {
    Ok(MovementView {
        id: row.uuid("id")?,
        person_id: row.uuid("person_id")?,
        person_name: row.text("full_name")?,
        from_organisation_id: row.uuid("from_organisation_id")?,
        from_organisation_name: row.text("from_name")?,
        to_organisation_id: row.uuid("to_organisation_id")?,
        to_organisation_name: row.text("to_name")?,
        moved_on: row.date("moved_on")?,
        destination: row.text("destination")?,
        note: row.text("note")?,
        created_at: row.instant("created_at")?,
        acknowledged_at: row.opt_instant("acknowledged_at")?,
    })
}

#[async_trait]
impl RegisterStore for SqlStore {
    async fn add_person(&self, actor: &Actor, input: &PersonInput) -> StoreResult<PersonView> {
        let org = viewer(actor)?;
        input.validate(local_date(now()))?;
        let mut tx = self.engine.write().await?;
        check_commune(tx.as_mut(), input.home_commune_id).await?;
        let id = Uuid::now_v7();
        save(tx.as_mut(), id, org, input, true).await?;
        // The log names the record and the decision, not the person.
        audit(
            tx.as_mut(),
            actor,
            "register.add",
            Some(id),
            json!({"decision_type": input.decision_type, "decision_number": input.decision_number.trim(), "ends_on": input.ends_on}),
        )
        .await?;
        let person = fetch(tx.as_mut(), org, id).await?;
        tx.commit().await?;
        Ok(person)
    }

    async fn update_person(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &PersonInput,
    ) -> StoreResult<PersonView> {
        let org = viewer(actor)?;
        input.validate(local_date(now()))?;
        let mut tx = self.engine.write().await?;
        let before = fetch(tx.as_mut(), org, id).await?;
        if before.organisation_id != org {
            return Err(StoreError::Forbidden);
        }
        check_commune(tx.as_mut(), input.home_commune_id).await?;
        save(tx.as_mut(), id, org, input, false).await?;
        audit(
            tx.as_mut(),
            actor,
            "register.update",
            Some(id),
            json!({"decision_number": input.decision_number.trim(), "ends_on": {"before": before.person.ends_on, "after": input.ends_on}}),
        )
        .await?;
        let person = fetch(tx.as_mut(), org, id).await?;
        tx.commit().await?;
        Ok(person)
    }

    async fn person(&self, actor: &Actor, id: Uuid) -> StoreResult<PersonView> {
        let org = viewer(actor)?;
        let mut tx = self.engine.write().await?;
        let person = fetch(tx.as_mut(), org, id).await?;
        audit(tx.as_mut(), actor, "register.read", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(person)
    }

    async fn list_persons(
        &self,
        actor: &Actor,
        query: &PersonQuery,
    ) -> StoreResult<Page<PersonView>> {
        let org = viewer(actor)?;
        let (limit, offset) = page_bounds(query.limit, query.offset);
        let filter = format!(
            "WHERE {} AND ($2 IS NULL OR p.search_text LIKE $2 ESCAPE '\\')",
            visible(1)
        );
        let pattern = query.text.as_deref().and_then(contains_pattern);
        let mut tx = self.engine.write().await?;
        let page = paged(
            Reader::In(tx.as_mut()),
            ListSql::plain(COLUMNS, FROM, &filter, "p.ends_on DESC, p.id"),
            params![org, pattern],
            (limit, offset),
            view,
        )
        .await?;
        let ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
        audit(
            tx.as_mut(),
            actor,
            "register.list",
            None,
            json!({"ids": ids}),
        )
        .await?;
        tx.commit().await?;
        Ok(page)
    }

    async fn notify_movement(
        &self,
        actor: &Actor,
        input: &MovementInput,
    ) -> StoreResult<MovementView> {
        let org = viewer(actor)?;
        input.validate(local_date(now()))?;
        let mut tx = self.engine.write().await?;
        let person = fetch(tx.as_mut(), org, input.person_id).await?;
        if person.organisation_id != org {
            return Err(StoreError::Forbidden);
        }
        let destination = tx
            .query(
                "SELECT id FROM organisations WHERE id = $1",
                params![input.to_organisation_id],
            )
            .await?;
        if destination.is_empty() || input.to_organisation_id == org {
            return Err(StoreError::invalid(
                "to_organisation_id",
                "error-unknown-organisation",
            ));
        }
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO movement_notices (id, person_id, from_organisation_id, to_organisation_id, moved_on, destination, note, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            params![
                id,
                input.person_id,
                org,
                input.to_organisation_id,
                input.moved_on,
                input.destination.trim(),
                input.note.trim(),
                now()
            ],
        )
        .await?;
        publish(
            tx.as_mut(),
            &LiveEvent {
                kind: "movement".into(),
                recipients: vec![input.to_organisation_id],
                title: input.destination.trim().to_owned(),
                link: "/register/movements".into(),
            },
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "register.movement",
            Some(input.person_id),
            json!({"to_organisation_id": input.to_organisation_id, "moved_on": input.moved_on}),
        )
        .await?;
        let rows = tx
            .query(&format!("{MOVEMENT_SELECT} WHERE n.id = $1"), params![id])
            .await?;
        let view = movement(&rows[0])?;
        tx.commit().await?;
        Ok(view)
    }

    async fn movements(&self, actor: &Actor) -> StoreResult<Vec<MovementView>> {
        let org = viewer(actor)?;
        let mut tx = self.engine.write().await?;
        let rows = tx
            .query(
                &format!(
                    "{MOVEMENT_SELECT} WHERE n.from_organisation_id = $1 OR n.to_organisation_id = $1
                     ORDER BY n.created_at DESC LIMIT 500"
                ),
                params![org],
            )
            .await?;
        let list: Vec<MovementView> = rows.iter().map(movement).collect::<Result<_, _>>()?;
        let ids: Vec<Uuid> = list.iter().map(|m| m.person_id).collect();
        audit(
            tx.as_mut(),
            actor,
            "register.movements",
            None,
            json!({"person_ids": ids}),
        )
        .await?;
        tx.commit().await?;
        Ok(list)
    }

    async fn acknowledge_movement(&self, actor: &Actor, id: Uuid) -> StoreResult<()> {
        let org = viewer(actor)?;
        let mut tx = self.engine.write().await?;
        let changed = tx
            .execute(
                "UPDATE movement_notices SET acknowledged_at = $1, acknowledged_by = $2
                 WHERE id = $3 AND to_organisation_id = $4 AND acknowledged_at IS NULL",
                params![now(), actor.user_id, id, org],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        audit(
            tx.as_mut(),
            actor,
            "register.movement.acknowledge",
            None,
            json!({"notice_id": id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn purge_register(&self, actor: &Actor, cutoff: Date) -> StoreResult<u64> {
        require(actor.can_manage_reference_data())?;
        let mut tx = self.engine.write().await?;
        let expired: Vec<Uuid> = tx
            .query(
                "SELECT id FROM supervised_persons WHERE ends_on < $1",
                params![cutoff],
            )
            .await?
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<Result<_, _>>()?;
        if expired.is_empty() {
            return Ok(0);
        }
        tx.execute(
            "DELETE FROM movement_notices WHERE person_id IN (SELECT id FROM supervised_persons WHERE ends_on < $1)",
            params![cutoff],
        )
        .await?;
        let removed = tx
            .execute(
                "DELETE FROM supervised_persons WHERE ends_on < $1",
                params![cutoff],
            )
            .await?;
        audit(
            tx.as_mut(),
            actor,
            "register.purge",
            None,
            json!({"cutoff": cutoff, "ids": expired}),
        )
        .await?;
        tx.commit().await?;
        Ok(removed)
    }
}
