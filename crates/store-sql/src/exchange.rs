//! Bulletins and requests for coordination between cluster members.

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::exchange::{AnswerInput, MessageInput, MessageKind, is_overdue};
use lienhoan_domain::format::local_date;
use lienhoan_store::{
    ExchangeStore, LiveEvent, MessageQuery, MessageView, Page, RecipientView, StoreError,
    StoreResult,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{Change, record};
use crate::engine::{EngineError, Reader, Row, Tx};
use crate::events::publish;
use crate::{ListSql, SqlStore, now, page_bounds, paged, params, require, scope_param};

const COLUMNS: &str = "m.id, m.kind, m.cluster_id, c.name AS cluster_name,
    m.sender_organisation_id, s.name AS sender_name, m.title, m.body, m.deadline,
    m.incident_id, m.created_at";
const FROM: &str = "FROM messages m
    JOIN clusters c ON c.id = m.cluster_id
    JOIN organisations s ON s.id = m.sender_organisation_id";

/// Seen by the sender's and the recipients' organisations (`$VIEWER` null: everyone).
const VISIBLE: &str = "($VIEWER IS NULL OR m.sender_organisation_id = $VIEWER OR EXISTS (
    SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.organisation_id = $VIEWER))";

fn visible(param: usize) -> String {
    VISIBLE.replace("$VIEWER", &format!("${param}"))
}

/// Members of the cluster today, other than the sender.
async fn current_members(
    tx: &mut dyn Tx,
    cluster: Uuid,
    except: Uuid,
) -> Result<Vec<Uuid>, EngineError> {
    let rows = tx
        .query(
            "SELECT DISTINCT organisation_id FROM cluster_memberships
             WHERE cluster_id = $1 AND organisation_id <> $2
               AND joined_on <= $3 AND (left_on IS NULL OR left_on > $3)",
            params![cluster, except, local_date(now())],
        )
        .await?;
    rows.iter().map(|r| r.uuid("organisation_id")).collect()
}

async fn recipients(tx: &mut dyn Tx, message: Uuid) -> Result<Vec<RecipientView>, EngineError> {
    let rows = tx
        .query(
            "SELECT r.organisation_id, o.name, r.acknowledged_at, r.answer, r.answered_at
             FROM message_recipients r JOIN organisations o ON o.id = r.organisation_id
             WHERE r.message_id = $1 ORDER BY o.sort_key",
            params![message],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RecipientView {
                organisation_id: r.uuid("organisation_id")?,
                organisation_name: r.text("name")?,
                acknowledged_at: r.opt_instant("acknowledged_at")?,
                answer: r.opt_text("answer")?,
                answered_at: r.opt_instant("answered_at")?,
            })
        })
        .collect()
}

async fn view(tx: &mut dyn Tx, actor: &Actor, row: &Row) -> StoreResult<MessageView> {
    let id = row.uuid("id")?;
    let kind = row.text("kind")?;
    let recipients = recipients(tx, id).await?;
    let deadline = row.opt_date("deadline")?;
    let today = local_date(now());
    // An addressee cares about its own answer; the sender and overseers about anyone's.
    let own: Vec<&RecipientView> = recipients
        .iter()
        .filter(|r| Some(r.organisation_id) == actor.organisation_id)
        .collect();
    let relevant = if own.is_empty() {
        recipients.iter().collect()
    } else {
        own
    };
    let overdue = relevant
        .iter()
        .any(|r| is_overdue(deadline, r.answered_at.is_some(), today));
    let read = tx
        .query(
            "SELECT 1 AS one FROM message_reads WHERE message_id = $1 AND user_id = $2",
            params![id, actor.user_id],
        )
        .await?;
    Ok(MessageView {
        id,
        kind: MessageKind::parse(&kind)
            .ok_or_else(|| EngineError::Other(format!("unknown message kind {kind}")))?,
        cluster_id: row.uuid("cluster_id")?,
        cluster_name: row.text("cluster_name")?,
        sender_organisation_id: row.uuid("sender_organisation_id")?,
        sender_organisation_name: row.text("sender_name")?,
        title: row.text("title")?,
        body: row.text("body")?,
        deadline,
        incident_id: row.opt_uuid("incident_id")?,
        created_at: row.instant("created_at")?,
        recipients,
        overdue,
        read: !read.is_empty(),
    })
}

async fn fetch(tx: &mut dyn Tx, actor: &Actor, id: Uuid) -> StoreResult<MessageView> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} {FROM} WHERE m.id = $1 AND {}", visible(2)),
            params![id, scope_param(actor.cluster_scope())],
        )
        .await?;
    view(tx, actor, rows.first().ok_or(StoreError::NotFound)?).await
}

/// The actor's organisation, which must be an addressee of the message.
async fn addressee(tx: &mut dyn Tx, actor: &Actor, id: Uuid) -> StoreResult<Uuid> {
    require(actor.can_exchange())?;
    fetch(tx, actor, id).await?;
    let org = actor.organisation_id.ok_or(StoreError::Forbidden)?;
    let rows = tx
        .query(
            "SELECT organisation_id FROM message_recipients WHERE message_id = $1 AND organisation_id = $2",
            params![id, org],
        )
        .await?;
    if rows.is_empty() {
        return Err(StoreError::Forbidden);
    }
    Ok(org)
}

#[async_trait]
impl ExchangeStore for SqlStore {
    async fn send_message(&self, actor: &Actor, input: &MessageInput) -> StoreResult<MessageView> {
        require(actor.can_exchange())?;
        let sender = actor.organisation_id.ok_or(StoreError::Forbidden)?;
        input.validate(local_date(now()))?;
        let mut tx = self.engine.write().await?;
        let members = current_members(tx.as_mut(), input.cluster_id, sender).await?;
        let sender_is_member = !tx
            .query(
                "SELECT 1 AS one FROM cluster_memberships WHERE cluster_id = $1 AND organisation_id = $2
                   AND joined_on <= $3 AND (left_on IS NULL OR left_on > $3)",
                params![input.cluster_id, sender, local_date(now())],
            )
            .await?
            .is_empty();
        if !sender_is_member {
            return Err(StoreError::invalid("cluster_id", "error-not-a-member"));
        }
        let addressees = match input.kind {
            MessageKind::Bulletin => members,
            MessageKind::Request => {
                if let Some(i) = input.addressees.iter().position(|a| !members.contains(a)) {
                    return Err(StoreError::invalid(
                        &format!("addressees[{i}]"),
                        "error-not-a-member",
                    ));
                }
                let mut unique = input.addressees.clone();
                unique.sort();
                unique.dedup();
                unique
            }
        };
        if let Some(incident) = input.incident_id {
            let rows = tx
                .query("SELECT id FROM incidents WHERE id = $1", params![incident])
                .await?;
            if rows.is_empty() {
                return Err(StoreError::invalid("incident_id", "error-unknown-incident"));
            }
        }
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO messages (id, kind, cluster_id, sender_organisation_id, sender_user_id, title, body, deadline, incident_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            params![
                id,
                input.kind.as_str(),
                input.cluster_id,
                sender,
                actor.user_id,
                input.title.trim(),
                input.body.as_str(),
                if input.kind == MessageKind::Request { input.deadline } else { None },
                input.incident_id,
                now()
            ],
        )
        .await?;
        for org in &addressees {
            tx.execute(
                "INSERT INTO message_recipients (message_id, organisation_id) VALUES ($1, $2)",
                params![id, *org],
            )
            .await?;
        }
        publish(
            tx.as_mut(),
            &LiveEvent {
                kind: input.kind.as_str().into(),
                recipients: addressees.clone(),
                title: input.title.trim().to_owned(),
                link: format!("/inbox/{id}"),
            },
        )
        .await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "message.send",
                target_kind: "message",
                target_id: Some(id),
                summary: json!({"kind": input.kind, "cluster_id": input.cluster_id, "title": input.title.trim(), "addressees": addressees}),
            },
        )
        .await?;
        let sent = fetch(tx.as_mut(), actor, id).await?;
        tx.commit().await?;
        Ok(sent)
    }

    async fn messages(
        &self,
        actor: &Actor,
        query: &MessageQuery,
    ) -> StoreResult<Page<MessageView>> {
        let (limit, offset) = page_bounds(query.limit, query.offset);
        let Some(org) = actor.organisation_id else {
            return Ok(Page::empty());
        };
        let filter = if query.sent {
            "WHERE m.sender_organisation_id = $1"
        } else {
            "WHERE EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.organisation_id = $1)"
        };
        let mut tx = self.engine.read().await?;
        let page = paged(
            Reader::In(tx.as_mut()),
            ListSql::plain(COLUMNS, FROM, filter, "m.created_at DESC, m.id"),
            params![org],
            (limit, offset),
            |row| Ok(row.clone()),
        )
        .await?;
        let mut items = Vec::with_capacity(page.items.len());
        for row in &page.items {
            items.push(view(tx.as_mut(), actor, row).await?);
        }
        Ok(Page {
            items,
            total: page.total,
            total_capped: page.total_capped,
        })
    }

    async fn message(&self, actor: &Actor, id: Uuid) -> StoreResult<MessageView> {
        let mut tx = self.engine.write().await?;
        let mut message = fetch(tx.as_mut(), actor, id).await?;
        if !message.read && actor.user_id != Uuid::nil() {
            // A read receipt is bookkeeping for the unread count, not a change to the record.
            tx.execute(
                "INSERT INTO message_reads (message_id, user_id, read_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                params![id, actor.user_id, now()],
            )
            .await?;
            message.read = true;
        }
        tx.commit().await?;
        Ok(message)
    }

    async fn acknowledge_message(&self, actor: &Actor, id: Uuid) -> StoreResult<()> {
        let mut tx = self.engine.write().await?;
        let org = addressee(tx.as_mut(), actor, id).await?;
        let changed = tx
            .execute(
                "UPDATE message_recipients SET acknowledged_at = $1, acknowledged_by = $2
                 WHERE message_id = $3 AND organisation_id = $4 AND acknowledged_at IS NULL",
                params![now(), actor.user_id, id, org],
            )
            .await?;
        if changed > 0 {
            record(
                tx.as_mut(),
                actor,
                Change {
                    action: "message.acknowledge",
                    target_kind: "message",
                    target_id: Some(id),
                    summary: json!({"organisation_id": org}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn answer_message(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &AnswerInput,
    ) -> StoreResult<()> {
        input.validate()?;
        let mut tx = self.engine.write().await?;
        let org = addressee(tx.as_mut(), actor, id).await?;
        let at = now();
        tx.execute(
            "UPDATE message_recipients SET answer = $1, answered_at = $2,
                acknowledged_at = COALESCE(acknowledged_at, $2), acknowledged_by = COALESCE(acknowledged_by, $3)
             WHERE message_id = $4 AND organisation_id = $5",
            params![input.answer.trim(), at, actor.user_id, id, org],
        )
        .await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "message.answer",
                target_kind: "message",
                target_id: Some(id),
                summary: json!({"organisation_id": org, "answer": input.answer.trim()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident_messages(
        &self,
        actor: &Actor,
        incident_id: Uuid,
    ) -> StoreResult<Vec<MessageView>> {
        let mut tx = self.engine.read().await?;
        let rows = tx
            .query(
                &format!(
                    "SELECT {COLUMNS} {FROM} WHERE m.incident_id = $1 AND {} ORDER BY m.created_at",
                    visible(2)
                ),
                params![incident_id, scope_param(actor.cluster_scope())],
            )
            .await?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in &rows {
            messages.push(view(tx.as_mut(), actor, row).await?);
        }
        Ok(messages)
    }

    async fn unread_count(&self, actor: &Actor) -> StoreResult<i64> {
        let Some(org) = actor.organisation_id else {
            return Ok(0);
        };
        let mut tx = self.engine.read().await?;
        let rows = tx
            .query(
                "SELECT COUNT(*) AS n FROM message_recipients r
                 WHERE r.organisation_id = $1 AND NOT EXISTS (
                    SELECT 1 FROM message_reads x WHERE x.message_id = r.message_id AND x.user_id = $2)",
                params![org, actor.user_id],
            )
            .await?;
        Ok(rows[0].int("n")?)
    }
}
