//! Member organisations.

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::organisation::{OrgKind, Organisation, OrganisationInput};
use lienhoan_domain::text::{fold, sort_key};
use lienhoan_store::{
    OrganisationQuery, OrganisationStore, OrganisationView, Page, StoreError, StoreResult,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{Change, record};
use crate::engine::{EngineError, Reader, Row, Tx};
use crate::{
    ListSql, SqlStore, commit_then, contains_pattern, now, page_bounds, paged, params, require,
};

const COLUMNS: &str = "o.id, o.name, o.kind, o.admin_unit_id, \
    u.kind AS unit_kind, u.name AS unit_name, p.kind AS parent_kind, p.name AS parent_name";
const FROM: &str = "FROM organisations o \
    JOIN admin_units u ON u.id = o.admin_unit_id \
    LEFT JOIN admin_units p ON p.id = u.parent_id";

fn view(row: &Row) -> Result<OrganisationView, EngineError> {
    let kind = row.text("kind")?;
    let unit_name = format!("{} {}", row.text("unit_kind")?, row.text("unit_name")?);
    let path = match (row.opt_text("parent_kind")?, row.opt_text("parent_name")?) {
        (Some(k), Some(n)) => format!("{unit_name}, {k} {n}"),
        _ => unit_name.clone(),
    };
    Ok(OrganisationView {
        organisation: Organisation {
            id: row.uuid("id")?,
            name: row.text("name")?,
            kind: OrgKind::parse(&kind)
                .ok_or_else(|| EngineError::Other(format!("unknown organisation kind {kind}")))?,
            admin_unit_id: row.uuid("admin_unit_id")?,
        },
        admin_unit_name: unit_name,
        admin_unit_path: path,
    })
}

async fn check_unit(tx: &mut dyn Tx, id: Uuid) -> StoreResult<()> {
    let rows = tx
        .query("SELECT id FROM admin_units WHERE id = $1", params![id])
        .await?;
    if rows.is_empty() {
        return Err(StoreError::invalid(
            "admin_unit_id",
            "error-unknown-admin-unit",
        ));
    }
    Ok(())
}

async fn fetch(tx: &mut dyn Tx, id: Uuid) -> StoreResult<OrganisationView> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} {FROM} WHERE o.id = $1"),
            params![id],
        )
        .await?;
    Ok(view(rows.first().ok_or(StoreError::NotFound)?)?)
}

#[async_trait]
impl OrganisationStore for SqlStore {
    async fn create_organisation(
        &self,
        actor: &Actor,
        input: &OrganisationInput,
    ) -> StoreResult<Organisation> {
        require(actor.can_manage_reference_data())?;
        input.validate()?;
        let mut tx = self.engine.write().await?;
        check_unit(tx.as_mut(), input.admin_unit_id).await?;
        let org = Organisation {
            id: Uuid::now_v7(),
            name: input.name.trim().to_owned(),
            kind: input.kind,
            admin_unit_id: input.admin_unit_id,
        };
        tx.execute(
            "INSERT INTO organisations (id, name, kind, admin_unit_id, search_text, sort_key, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            params![
                org.id,
                org.name.as_str(),
                org.kind.as_str(),
                org.admin_unit_id,
                fold(&org.name),
                sort_key(&org.name),
                now()
            ],
        )
        .await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "organisation.create",
                target_kind: "organisation",
                target_id: Some(org.id),
                summary: json!({"after": org}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    async fn update_organisation(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &OrganisationInput,
    ) -> StoreResult<Organisation> {
        require(actor.can_manage_reference_data())?;
        input.validate()?;
        let mut tx = self.engine.write().await?;
        let before = fetch(tx.as_mut(), id).await?.organisation;
        check_unit(tx.as_mut(), input.admin_unit_id).await?;
        let after = Organisation {
            id,
            name: input.name.trim().to_owned(),
            kind: input.kind,
            admin_unit_id: input.admin_unit_id,
        };
        tx.execute(
            "UPDATE organisations SET name = $1, kind = $2, admin_unit_id = $3, search_text = $4, sort_key = $5
             WHERE id = $6",
            params![
                after.name.as_str(),
                after.kind.as_str(),
                after.admin_unit_id,
                fold(&after.name),
                sort_key(&after.name),
                id
            ],
        )
        .await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "organisation.update",
                target_kind: "organisation",
                target_id: Some(id),
                summary: json!({"before": before, "after": after}),
            },
        )
        .await?;
        commit_then(tx, || self.names.forget_organisations()).await?;
        Ok(after)
    }

    async fn organisation(&self, id: Uuid) -> StoreResult<OrganisationView> {
        let mut tx = self.engine.read().await?;
        fetch(tx.as_mut(), id).await
    }

    async fn list_organisations(
        &self,
        query: &OrganisationQuery,
    ) -> StoreResult<Page<OrganisationView>> {
        let (limit, offset) = page_bounds(query.limit, query.offset);
        let pattern = query.text.as_deref().and_then(contains_pattern);
        let filter = "WHERE ($1 IS NULL OR o.search_text LIKE $1 ESCAPE '\\' OR u.search_text LIKE $1 ESCAPE '\\')";
        paged(
            Reader::Once(self.engine_ref()),
            ListSql::plain(COLUMNS, FROM, filter, "o.sort_key"),
            params![pattern],
            (limit, offset),
            view,
        )
        .await
    }
}
