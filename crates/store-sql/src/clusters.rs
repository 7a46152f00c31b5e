//! Clusters with their members over time, executive board, rotation and regulation versions.

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::cluster::{
    BoardMember, BoardMemberInput, BoardRole, Cluster, ClusterInput, ClusterKind, Membership,
    MembershipInput, RegulationInput, RegulationVersion, RotationTurn, Span, validate_rotation,
};
use lienhoan_domain::format::local_date;
use lienhoan_domain::text::sort_key;
use lienhoan_store::{
    BoardMemberView, ClusterDetail, ClusterStore, ClusterSummary, MemberView, RotationTurnView,
    StoreError, StoreResult,
};
use serde_json::json;
use time::Date;
use uuid::Uuid;

use crate::audit::{Change, record};
use crate::counters::move_member_figures;
use crate::engine::{EngineError, Row, Tx};
use crate::{SqlStore, commit_then, now, params, require, scope_param};

const CLUSTER_COLUMNS: &str = "c.id, c.name, c.kind, c.founded_on, c.description";

/// Visible to the actor: `$n` is the actor's scope organisation, or null for everything.
const VISIBLE: &str = "($VIS IS NULL OR EXISTS (SELECT 1 FROM cluster_memberships s
    WHERE s.cluster_id = c.id AND s.organisation_id = $VIS))";

fn visible(param: usize) -> String {
    VISIBLE.replace("$VIS", &format!("${param}"))
}

fn cluster(row: &Row) -> Result<Cluster, EngineError> {
    let kind = row.text("kind")?;
    Ok(Cluster {
        id: row.uuid("id")?,
        name: row.text("name")?,
        kind: ClusterKind::parse(&kind)
            .ok_or_else(|| EngineError::Other(format!("unknown cluster kind {kind}")))?,
        founded_on: row.date("founded_on")?,
        description: row.text("description")?,
    })
}

const MEMBER_SELECT: &str =
    "SELECT m.id, m.cluster_id, m.organisation_id, m.joined_on, m.left_on, m.note,
        o.name AS organisation_name, u.kind AS unit_kind, u.name AS unit_name
    FROM cluster_memberships m
    JOIN organisations o ON o.id = m.organisation_id
    JOIN admin_units u ON u.id = o.admin_unit_id";

fn membership(row: &Row) -> Result<Membership, EngineError> {
    Ok(Membership {
        id: row.uuid("id")?,
        cluster_id: row.uuid("cluster_id")?,
        organisation_id: row.uuid("organisation_id")?,
        joined_on: row.date("joined_on")?,
        left_on: row.opt_date("left_on")?,
        note: row.text("note")?,
    })
}

fn member_view(row: &Row) -> Result<MemberView, EngineError> {
    Ok(MemberView {
        membership: membership(row)?,
        organisation_name: row.text("organisation_name")?,
        admin_unit_name: format!("{} {}", row.text("unit_kind")?, row.text("unit_name")?),
    })
}

/// A cluster as the actor may see it, and whether the actor's organisation belongs to it now.
struct Access {
    cluster: Cluster,
    ever_member: bool,
    member_today: bool,
}

async fn access(tx: &mut dyn Tx, actor: &Actor, id: Uuid) -> StoreResult<Access> {
    let today = local_date(now());
    let sql = format!(
        "SELECT {CLUSTER_COLUMNS},
            EXISTS (SELECT 1 FROM cluster_memberships e WHERE e.cluster_id = c.id AND e.organisation_id = $2) AS ever_member,
            EXISTS (SELECT 1 FROM cluster_memberships t WHERE t.cluster_id = c.id AND t.organisation_id = $2
                    AND t.joined_on <= $3 AND (t.left_on IS NULL OR t.left_on > $3)) AS member_today
         FROM clusters c WHERE c.id = $1 AND {}",
        visible(4)
    );
    let rows = tx
        .query(
            &sql,
            params![
                id,
                actor.organisation_id,
                today,
                scope_param(actor.cluster_scope())
            ],
        )
        .await?;
    let row = rows.first().ok_or(StoreError::NotFound)?;
    Ok(Access {
        cluster: cluster(row)?,
        ever_member: row.bool("ever_member")?,
        member_today: row.bool("member_today")?,
    })
}

/// The cluster, if the actor may change it.
async fn editable(tx: &mut dyn Tx, actor: &Actor, id: Uuid) -> StoreResult<Cluster> {
    let access = access(tx, actor, id).await?;
    require(actor.can_edit_cluster(access.member_today))?;
    Ok(access.cluster)
}

async fn members(
    tx: &mut dyn Tx,
    cluster_id: Uuid,
    on: Option<Date>,
) -> StoreResult<Vec<MemberView>> {
    let rows = tx
        .query(
            &format!(
                "{MEMBER_SELECT} WHERE m.cluster_id = $1
                   AND ($2 IS NULL OR (m.joined_on <= $2 AND (m.left_on IS NULL OR m.left_on > $2)))
                 ORDER BY m.joined_on, o.sort_key"
            ),
            params![cluster_id, on],
        )
        .await?;
    Ok(rows.iter().map(member_view).collect::<Result<_, _>>()?)
}

/// The organisation's memberships of the cluster, except `except`.
async fn spans(
    tx: &mut dyn Tx,
    cluster_id: Uuid,
    organisation_id: Uuid,
    except: Option<Uuid>,
) -> StoreResult<Vec<Span>> {
    let rows = tx
        .query(
            "SELECT joined_on, left_on FROM cluster_memberships
             WHERE cluster_id = $1 AND organisation_id = $2 AND ($3 IS NULL OR id <> $3)",
            params![cluster_id, organisation_id, except],
        )
        .await?;
    Ok(rows.iter().map(span).collect::<Result<_, _>>()?)
}

/// The span of a membership row's `joined_on` and `left_on`.
pub(crate) fn span(row: &Row) -> Result<Span, EngineError> {
    Ok(Span {
        joined_on: row.date("joined_on")?,
        left_on: row.opt_date("left_on")?,
    })
}

async fn organisation_exists(tx: &mut dyn Tx, id: Uuid) -> StoreResult<()> {
    let rows = tx
        .query("SELECT id FROM organisations WHERE id = $1", params![id])
        .await?;
    if rows.is_empty() {
        return Err(StoreError::invalid(
            "organisation_id",
            "error-unknown-organisation",
        ));
    }
    Ok(())
}

async fn board(tx: &mut dyn Tx, cluster_id: Uuid) -> StoreResult<Vec<BoardMemberView>> {
    let rows = tx
        .query(
            "SELECT b.id, b.cluster_id, b.person_name, b.title, b.role, b.organisation_id, o.name AS organisation_name
             FROM cluster_board_members b JOIN organisations o ON o.id = b.organisation_id
             WHERE b.cluster_id = $1
             ORDER BY CASE b.role WHEN 'head' THEN 0 WHEN 'deputy' THEN 1 ELSE 2 END, b.id",
            params![cluster_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let role = r.text("role")?;
            Ok(BoardMemberView {
                member: BoardMember {
                    id: r.uuid("id")?,
                    cluster_id: r.uuid("cluster_id")?,
                    person_name: r.text("person_name")?,
                    title: r.text("title")?,
                    role: BoardRole::parse(&role)
                        .ok_or_else(|| EngineError::Other(format!("unknown board role {role}")))?,
                    organisation_id: r.uuid("organisation_id")?,
                },
                organisation_name: r.text("organisation_name")?,
            })
        })
        .collect()
}

async fn rotation(tx: &mut dyn Tx, cluster_id: Uuid) -> StoreResult<Vec<RotationTurnView>> {
    let rows = tx
        .query(
            "SELECT t.organisation_id, t.starts_on, t.ends_on, o.name AS organisation_name
             FROM cluster_rotation_turns t JOIN organisations o ON o.id = t.organisation_id
             WHERE t.cluster_id = $1 ORDER BY t.starts_on",
            params![cluster_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RotationTurnView {
                turn: RotationTurn {
                    organisation_id: r.uuid("organisation_id")?,
                    starts_on: r.date("starts_on")?,
                    ends_on: r.date("ends_on")?,
                },
                organisation_name: r.text("organisation_name")?,
            })
        })
        .collect()
}

async fn regulations(tx: &mut dyn Tx, cluster_id: Uuid) -> StoreResult<Vec<RegulationVersion>> {
    let rows = tx
        .query(
            "SELECT id, cluster_id, version, title, signed_on, signatories, body
             FROM cluster_regulations WHERE cluster_id = $1 ORDER BY version DESC",
            params![cluster_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RegulationVersion {
                id: r.uuid("id")?,
                cluster_id: r.uuid("cluster_id")?,
                version: r.int("version")? as i32,
                title: r.text("title")?,
                signed_on: r.date("signed_on")?,
                signatories: serde_json::from_str(&r.text("signatories")?)
                    .map_err(|e| EngineError::Other(e.to_string()))?,
                body: r.text("body")?,
            })
        })
        .collect()
}

async fn membership_in(
    tx: &mut dyn Tx,
    cluster_id: Uuid,
    membership_id: Uuid,
) -> StoreResult<Membership> {
    let rows = tx
        .query(
            &format!("{MEMBER_SELECT} WHERE m.id = $1 AND m.cluster_id = $2"),
            params![membership_id, cluster_id],
        )
        .await?;
    Ok(membership(rows.first().ok_or(StoreError::NotFound)?)?)
}

async fn audit(
    tx: &mut dyn Tx,
    actor: &Actor,
    action: &str,
    cluster_id: Uuid,
    summary: serde_json::Value,
) -> StoreResult<()> {
    record(
        tx,
        actor,
        Change::about(action, "cluster", Some(cluster_id), summary),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl ClusterStore for SqlStore {
    async fn create_cluster(&self, actor: &Actor, input: &ClusterInput) -> StoreResult<Cluster> {
        require(actor.can_create_clusters())?;
        input.validate(local_date(now()))?;
        let cluster = Cluster {
            id: Uuid::now_v7(),
            name: input.name.trim().to_owned(),
            kind: input.kind,
            founded_on: input.founded_on,
            description: input.description.trim().to_owned(),
        };
        let mut tx = self.engine.write().await?;
        tx.execute(
            "INSERT INTO clusters (id, name, kind, founded_on, description, sort_key, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            params![
                cluster.id,
                cluster.name.as_str(),
                cluster.kind.as_str(),
                cluster.founded_on,
                cluster.description.as_str(),
                sort_key(&cluster.name),
                now()
            ],
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "cluster.create",
            cluster.id,
            json!({"after": cluster}),
        )
        .await?;
        tx.commit().await?;
        Ok(cluster)
    }

    async fn update_cluster(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &ClusterInput,
    ) -> StoreResult<Cluster> {
        input.validate(local_date(now()))?;
        let mut tx = self.engine.write().await?;
        let before = editable(tx.as_mut(), actor, id).await?;
        let earliest = tx
            .query(
                "SELECT MIN(joined_on) AS first FROM cluster_memberships WHERE cluster_id = $1",
                params![id],
            )
            .await?;
        if earliest[0]
            .opt_date("first")?
            .is_some_and(|first| first < input.founded_on)
        {
            return Err(StoreError::invalid(
                "founded_on",
                "error-founding-after-members",
            ));
        }
        let after = Cluster {
            id,
            name: input.name.trim().to_owned(),
            kind: input.kind,
            founded_on: input.founded_on,
            description: input.description.trim().to_owned(),
        };
        tx.execute(
            "UPDATE clusters SET name = $1, kind = $2, founded_on = $3, description = $4, sort_key = $5
             WHERE id = $6",
            params![
                after.name.as_str(),
                after.kind.as_str(),
                after.founded_on,
                after.description.as_str(),
                sort_key(&after.name),
                id
            ],
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "cluster.update",
            id,
            json!({"before": before, "after": after}),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn list_clusters(&self, actor: &Actor, on: Date) -> StoreResult<Vec<ClusterSummary>> {
        let mut tx = self.engine.read().await?;
        let rows = tx
            .query(
                &format!(
                    "SELECT {CLUSTER_COLUMNS},
                        (SELECT COUNT(*) FROM cluster_memberships m WHERE m.cluster_id = c.id
                           AND m.joined_on <= $2 AND (m.left_on IS NULL OR m.left_on > $2)) AS member_count
                     FROM clusters c WHERE {} ORDER BY c.sort_key",
                    visible(1)
                ),
                params![scope_param(actor.cluster_scope()), on],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ClusterSummary {
                    cluster: cluster(r)?,
                    member_count: r.int("member_count")?,
                })
            })
            .collect()
    }

    async fn cluster(&self, actor: &Actor, id: Uuid) -> StoreResult<ClusterDetail> {
        let mut tx = self.engine.read().await?;
        let access = access(tx.as_mut(), actor, id).await?;
        Ok(ClusterDetail {
            members: members(tx.as_mut(), id, None).await?,
            board: board(tx.as_mut(), id).await?,
            rotation: rotation(tx.as_mut(), id).await?,
            regulations: regulations(tx.as_mut(), id).await?,
            actor_is_member: access.ever_member,
            cluster: access.cluster,
        })
    }

    async fn members_on(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        on: Date,
    ) -> StoreResult<Vec<MemberView>> {
        let mut tx = self.engine.read().await?;
        access(tx.as_mut(), actor, cluster_id).await?;
        members(tx.as_mut(), cluster_id, Some(on)).await
    }

    async fn add_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        input: &MembershipInput,
    ) -> StoreResult<Membership> {
        let mut tx = self.engine.write().await?;
        let cluster = editable(tx.as_mut(), actor, cluster_id).await?;
        organisation_exists(tx.as_mut(), input.organisation_id).await?;
        let others = spans(tx.as_mut(), cluster_id, input.organisation_id, None).await?;
        input.validate(cluster.founded_on, &others)?;
        let member = Membership {
            id: Uuid::now_v7(),
            cluster_id,
            organisation_id: input.organisation_id,
            joined_on: input.joined_on,
            left_on: input.left_on,
            note: input.note.trim().to_owned(),
        };
        tx.execute(
            "INSERT INTO cluster_memberships (id, cluster_id, organisation_id, joined_on, left_on, note)
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                member.id,
                cluster_id,
                member.organisation_id,
                member.joined_on,
                member.left_on,
                member.note.as_str()
            ],
        )
        .await?;
        move_member_figures(
            tx.as_mut(),
            cluster_id,
            member.organisation_id,
            None,
            Some(member.span()),
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "cluster.member.add",
            cluster_id,
            json!({"after": member}),
        )
        .await?;
        commit_then(tx, || self.forget_memberships()).await?;
        Ok(member)
    }

    async fn update_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        membership_id: Uuid,
        input: &MembershipInput,
    ) -> StoreResult<Membership> {
        let mut tx = self.engine.write().await?;
        let cluster = editable(tx.as_mut(), actor, cluster_id).await?;
        let before = membership_in(tx.as_mut(), cluster_id, membership_id).await?;
        if input.organisation_id != before.organisation_id {
            return Err(StoreError::invalid(
                "organisation_id",
                "error-membership-organisation-fixed",
            ));
        }
        let others = spans(
            tx.as_mut(),
            cluster_id,
            before.organisation_id,
            Some(membership_id),
        )
        .await?;
        input.validate(cluster.founded_on, &others)?;
        let after = Membership {
            joined_on: input.joined_on,
            left_on: input.left_on,
            note: input.note.trim().to_owned(),
            ..before.clone()
        };
        tx.execute(
            "UPDATE cluster_memberships SET joined_on = $1, left_on = $2, note = $3 WHERE id = $4",
            params![
                after.joined_on,
                after.left_on,
                after.note.as_str(),
                membership_id
            ],
        )
        .await?;
        move_member_figures(
            tx.as_mut(),
            cluster_id,
            after.organisation_id,
            Some(before.span()),
            Some(after.span()),
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "cluster.member.update",
            cluster_id,
            json!({"before": before, "after": after}),
        )
        .await?;
        commit_then(tx, || self.forget_memberships()).await?;
        Ok(after)
    }

    async fn remove_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        membership_id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.engine.write().await?;
        editable(tx.as_mut(), actor, cluster_id).await?;
        let before = membership_in(tx.as_mut(), cluster_id, membership_id).await?;
        tx.execute(
            "DELETE FROM cluster_memberships WHERE id = $1",
            params![membership_id],
        )
        .await?;
        move_member_figures(
            tx.as_mut(),
            cluster_id,
            before.organisation_id,
            Some(before.span()),
            None,
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "cluster.member.remove",
            cluster_id,
            json!({"before": before}),
        )
        .await?;
        commit_then(tx, || self.forget_memberships()).await?;
        Ok(())
    }

    async fn add_board_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        input: &BoardMemberInput,
    ) -> StoreResult<BoardMemberView> {
        input.validate()?;
        let mut tx = self.engine.write().await?;
        editable(tx.as_mut(), actor, cluster_id).await?;
        if spans(tx.as_mut(), cluster_id, input.organisation_id, None)
            .await?
            .is_empty()
        {
            return Err(StoreError::invalid("organisation_id", "error-not-a-member"));
        }
        let member = BoardMember {
            id: Uuid::now_v7(),
            cluster_id,
            person_name: input.person_name.trim().to_owned(),
            title: input.title.trim().to_owned(),
            role: input.role,
            organisation_id: input.organisation_id,
        };
        tx.execute(
            "INSERT INTO cluster_board_members (id, cluster_id, person_name, title, role, organisation_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                member.id,
                cluster_id,
                member.person_name.as_str(),
                member.title.as_str(),
                member.role.as_str(),
                member.organisation_id
            ],
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "cluster.board.add",
            cluster_id,
            json!({"after": member}),
        )
        .await?;
        let view = board(tx.as_mut(), cluster_id)
            .await?
            .into_iter()
            .find(|b| b.member.id == member.id)
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(view)
    }

    async fn remove_board_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        board_member_id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.engine.write().await?;
        editable(tx.as_mut(), actor, cluster_id).await?;
        let before = board(tx.as_mut(), cluster_id)
            .await?
            .into_iter()
            .find(|b| b.member.id == board_member_id)
            .ok_or(StoreError::NotFound)?;
        tx.execute(
            "DELETE FROM cluster_board_members WHERE id = $1",
            params![board_member_id],
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "cluster.board.remove",
            cluster_id,
            json!({"before": before.member}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_rotation(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        turns: &[RotationTurn],
    ) -> StoreResult<Vec<RotationTurnView>> {
        let mut tx = self.engine.write().await?;
        editable(tx.as_mut(), actor, cluster_id).await?;
        let all = members(tx.as_mut(), cluster_id, None).await?;
        validate_rotation(turns, |org| {
            all.iter()
                .filter(|m| m.membership.organisation_id == org)
                .map(|m| m.membership.span())
                .collect()
        })?;
        let before = rotation(tx.as_mut(), cluster_id).await?;
        tx.execute(
            "DELETE FROM cluster_rotation_turns WHERE cluster_id = $1",
            params![cluster_id],
        )
        .await?;
        for turn in turns {
            tx.execute(
                "INSERT INTO cluster_rotation_turns (id, cluster_id, organisation_id, starts_on, ends_on)
                 VALUES ($1, $2, $3, $4, $5)",
                params![Uuid::now_v7(), cluster_id, turn.organisation_id, turn.starts_on, turn.ends_on],
            )
            .await?;
        }
        let before: Vec<&RotationTurn> = before.iter().map(|t| &t.turn).collect();
        audit(
            tx.as_mut(),
            actor,
            "cluster.rotation.set",
            cluster_id,
            json!({"before": before, "after": turns}),
        )
        .await?;
        let after = rotation(tx.as_mut(), cluster_id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn add_regulation(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        input: &RegulationInput,
    ) -> StoreResult<RegulationVersion> {
        let mut tx = self.engine.write().await?;
        let cluster = editable(tx.as_mut(), actor, cluster_id).await?;
        let existing = regulations(tx.as_mut(), cluster_id).await?;
        input.validate(
            cluster.founded_on,
            existing.first().map(|r| r.signed_on),
            local_date(now()),
        )?;
        let regulation = RegulationVersion {
            id: Uuid::now_v7(),
            cluster_id,
            version: existing.first().map_or(1, |r| r.version + 1),
            title: input.title.trim().to_owned(),
            signed_on: input.signed_on,
            signatories: input
                .signatories
                .iter()
                .map(|s| s.trim().to_owned())
                .collect(),
            body: input.body.clone(),
        };
        tx.execute(
            "INSERT INTO cluster_regulations (id, cluster_id, version, title, signed_on, signatories, body, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            params![
                regulation.id,
                cluster_id,
                regulation.version,
                regulation.title.as_str(),
                regulation.signed_on,
                serde_json::to_string(&regulation.signatories)
                    .map_err(|e| StoreError::Backend(e.to_string()))?,
                regulation.body.as_str(),
                now()
            ],
        )
        .await?;
        audit(
            tx.as_mut(),
            actor,
            "cluster.regulation.add",
            cluster_id,
            json!({"after": {"version": regulation.version, "title": regulation.title, "signed_on": regulation.signed_on, "signatories": regulation.signatories}}),
        )
        .await?;
        tx.commit().await?;
        Ok(regulation)
    }
}
