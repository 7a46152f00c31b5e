//! Accounts, sessions stored in the database (so any server process can serve any request),
//! and limits on failed logins.

use async_trait::async_trait;
use lienhoan_domain::access::{Actor, NewUser, Role, validate_password};
use lienhoan_domain::login::{FAILURE_WINDOW, SESSION_IDLE, attempt_allowed};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{AccountStore, NewSession, StoreError, StoreResult, UserView};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{Change, record};
use crate::engine::{EngineError, Row, Tx};
use crate::{SqlStore, commit_then, now, params, password, require, scope_param};

const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.organisation_id, u.role,
        u.disabled, u.created_at, o.name AS organisation_name
    FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id";

fn user(row: &Row) -> Result<UserView, EngineError> {
    let role = row.text("role")?;
    Ok(UserView {
        id: row.uuid("id")?,
        username: row.text("username")?,
        display_name: row.text("display_name")?,
        organisation_id: row.opt_uuid("organisation_id")?,
        organisation_name: row.opt_text("organisation_name")?,
        role: Role::parse(&role)
            .ok_or_else(|| EngineError::Other(format!("unknown role {role}")))?,
        disabled: row.bool("disabled")?,
        created_at: row.instant("created_at")?,
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn actor_of(user: &UserView) -> Actor {
    Actor {
        user_id: user.id,
        username: user.username.clone(),
        organisation_id: user.organisation_id,
        role: user.role,
    }
}

/// A user the actor may manage (or themself, for `allow_self`).
async fn manageable(
    tx: &mut dyn Tx,
    actor: &Actor,
    user_id: Uuid,
    allow_self: bool,
) -> StoreResult<UserView> {
    let rows = tx
        .query(
            &format!("{USER_SELECT} WHERE u.id = $1 AND ($2 IS NULL OR u.organisation_id = $2)"),
            params![user_id, scope_param(actor.user_scope())],
        )
        .await?;
    let target = user(rows.first().ok_or(StoreError::NotFound)?)?;
    let is_self = target.id == actor.user_id;
    require((allow_self && is_self) || actor.can_manage_user(target.organisation_id, target.role))?;
    Ok(target)
}

async fn audit_user(
    tx: &mut dyn Tx,
    actor: &Actor,
    action: &str,
    user_id: Uuid,
    summary: serde_json::Value,
) -> StoreResult<()> {
    record(
        tx,
        actor,
        Change::about(action, "user", Some(user_id), summary),
    )
    .await?;
    Ok(())
}

impl SqlStore {
    /// A live session's actor and expiry from the database, sliding the expiry when it is
    /// due; `None` for no such session, or one ended while its expiry was being slid.
    async fn read_session(&self, hash: &str) -> StoreResult<Option<(Actor, OffsetDateTime)>> {
        let with_expiry = USER_SELECT.replacen("SELECT ", "SELECT s.expires_at, ", 1);
        // Asked by every request the memo cannot answer, so it is one statement, without a
        // transaction around it.
        let rows = self
            .engine
            .read_once(
                &format!(
                    "{with_expiry} JOIN sessions s ON s.user_id = u.id
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = $3"
                ),
                params![hash, now(), false],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let actor = actor_of(&user(row)?);
        // Slide the expiry, but write at most once every few minutes per session.
        let mut expires_at = row.instant("expires_at")?;
        if expires_at - now() < SESSION_IDLE - Duration::minutes(5) {
            expires_at = now() + SESSION_IDLE;
            let mut tx = self.engine.write().await?;
            let slid = tx
                .execute(
                    "UPDATE sessions SET expires_at = $1 WHERE token_hash = $2",
                    params![expires_at, hash],
                )
                .await?;
            tx.commit().await?;
            // Ended (logout, another process) while this lookup waited for its write.
            if slid == 0 {
                return Ok(None);
            }
        }
        Ok(Some((actor, expires_at)))
    }
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_user(
        &self,
        actor: &Actor,
        input: &NewUser,
        allow_weak_password: bool,
    ) -> StoreResult<UserView> {
        require(actor.can_manage_user(input.organisation_id, input.role))?;
        input.validate(allow_weak_password)?;
        let hash = password::hash(&input.password).await?;
        let id = Uuid::now_v7();
        let mut tx = self.engine.write().await?;
        if let Some(org) = input.organisation_id {
            let rows = tx
                .query("SELECT id FROM organisations WHERE id = $1", params![org])
                .await?;
            if rows.is_empty() {
                return Err(StoreError::invalid(
                    "organisation_id",
                    "error-unknown-organisation",
                ));
            }
        }
        let inserted = tx
            .execute(
                "INSERT INTO users (id, username, display_name, organisation_id, role, password_hash, disabled, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                params![
                    id,
                    input.username.as_str(),
                    input.display_name.trim(),
                    input.organisation_id,
                    input.role.as_str(),
                    hash,
                    false,
                    now()
                ],
            )
            .await;
        match inserted {
            Err(EngineError::Unique(_)) => {
                return Err(StoreError::Conflict(FieldError::new(
                    "username",
                    "error-username-taken",
                )));
            }
            other => other?,
        };
        let rows = tx
            .query(&format!("{USER_SELECT} WHERE u.id = $1"), params![id])
            .await?;
        let created = user(&rows[0])?;
        audit_user(
            tx.as_mut(),
            actor,
            "user.create",
            id,
            json!({"after": created}),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn user_by_username(&self, actor: &Actor, username: &str) -> StoreResult<UserView> {
        let mut tx = self.engine.read().await?;
        let rows = tx
            .query(
                &format!(
                    "{USER_SELECT} WHERE u.username = $1 AND ($2 IS NULL OR u.organisation_id = $2)"
                ),
                params![username, scope_param(actor.user_scope())],
            )
            .await?;
        Ok(user(rows.first().ok_or(StoreError::NotFound)?)?)
    }

    async fn list_users(&self, actor: &Actor) -> StoreResult<Vec<UserView>> {
        let mut tx = self.engine.read().await?;
        let rows = tx
            .query(
                &format!(
                    "{USER_SELECT} WHERE ($1 IS NULL OR u.organisation_id = $1) ORDER BY u.username"
                ),
                params![scope_param(actor.user_scope())],
            )
            .await?;
        Ok(rows.iter().map(user).collect::<Result<_, _>>()?)
    }

    async fn set_password(&self, actor: &Actor, user_id: Uuid, new: &str) -> StoreResult<()> {
        validate_password(new).map_err(|e| StoreError::Invalid(vec![e]))?;
        let hash = password::hash(new).await?;
        let mut tx = self.engine.write().await?;
        manageable(tx.as_mut(), actor, user_id, true).await?;
        tx.execute(
            "UPDATE users SET password_hash = $1 WHERE id = $2",
            params![hash, user_id],
        )
        .await?;
        // A new password ends every open session of the account.
        tx.execute("DELETE FROM sessions WHERE user_id = $1", params![user_id])
            .await?;
        audit_user(tx.as_mut(), actor, "user.password", user_id, json!({})).await?;
        commit_then(tx, || self.forget_sessions_of(user_id)).await
    }

    async fn set_user_disabled(
        &self,
        actor: &Actor,
        user_id: Uuid,
        disabled: bool,
    ) -> StoreResult<()> {
        let mut tx = self.engine.write().await?;
        let target = manageable(tx.as_mut(), actor, user_id, false).await?;
        if target.id == actor.user_id {
            return Err(StoreError::invalid("disabled", "error-cannot-disable-self"));
        }
        tx.execute(
            "UPDATE users SET disabled = $1 WHERE id = $2",
            params![disabled, user_id],
        )
        .await?;
        if disabled {
            tx.execute("DELETE FROM sessions WHERE user_id = $1", params![user_id])
                .await?;
        }
        audit_user(
            tx.as_mut(),
            actor,
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            user_id,
            json!({"before": {"disabled": target.disabled}, "after": {"disabled": disabled}}),
        )
        .await?;
        commit_then(tx, || {
            if disabled {
                self.forget_sessions_of(user_id);
            }
        })
        .await
    }

    async fn login(
        &self,
        username: &str,
        password: &str,
        address: &str,
    ) -> StoreResult<NewSession> {
        let since = now() - FAILURE_WINDOW;
        let (found, stored_hash) = {
            let mut tx = self.engine.read().await?;
            let counts = tx
                .query(
                    "SELECT
                        (SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $3) AS by_account,
                        (SELECT COUNT(*) FROM login_failures WHERE address = $2 AND at > $3) AS by_address",
                    params![username, address, since],
                )
                .await?;
            if !attempt_allowed(counts[0].int("by_account")?, counts[0].int("by_address")?) {
                return Err(StoreError::RateLimited);
            }
            let with_hash = USER_SELECT.replacen("SELECT ", "SELECT u.password_hash, ", 1);
            let rows = tx
                .query(
                    &format!("{with_hash} WHERE u.username = $1"),
                    params![username],
                )
                .await?;
            let found = rows.first().map(user).transpose()?;
            let hash = rows.first().map(|r| r.text("password_hash")).transpose()?;
            (found, hash)
        };
        let matches = password::verify(
            password,
            stored_hash.as_deref().unwrap_or(password::DUMMY_HASH),
        )
        .await;
        let mut tx = self.engine.write().await?;
        let account = match found {
            Some(account) if matches && !account.disabled => account,
            _ => {
                tx.execute(
                    "INSERT INTO login_failures (id, username, address, at) VALUES ($1, $2, $3, $4)",
                    params![Uuid::now_v7(), username, address, now()],
                )
                .await?;
                tx.execute(
                    "DELETE FROM login_failures WHERE at < $1",
                    params![now() - FAILURE_WINDOW * 4],
                )
                .await?;
                tx.commit().await?;
                return Err(StoreError::BadCredentials);
            }
        };
        let token = new_token();
        let expires_at = now() + SESSION_IDLE;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            params![token_hash(&token), account.id, now(), expires_at],
        )
        .await?;
        tx.execute("DELETE FROM sessions WHERE expires_at < $1", params![now()])
            .await?;
        let actor = actor_of(&account);
        audit_user(
            tx.as_mut(),
            &actor,
            "session.create",
            account.id,
            json!({"address": address}),
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            actor,
            expires_at,
        })
    }

    async fn session_actor(&self, token: &str) -> StoreResult<Option<Actor>> {
        let hash = token_hash(token);
        let at = now();
        let read = self.read_session(&hash);
        let session = self
            .sessions
            .recall_or_read(hash.clone(), |(_, expires_at)| *expires_at > at, read)
            .await?;
        Ok(session.map(|(actor, _)| actor))
    }

    async fn logout(&self, actor: &Actor, token: &str) -> StoreResult<()> {
        let mut tx = self.engine.write().await?;
        let removed = tx
            .execute(
                "DELETE FROM sessions WHERE token_hash = $1 AND user_id = $2",
                params![token_hash(token), actor.user_id],
            )
            .await?;
        if removed > 0 {
            audit_user(
                tx.as_mut(),
                actor,
                "session.delete",
                actor.user_id,
                json!({}),
            )
            .await?;
        }
        commit_then(tx, || self.forget_sessions_of(actor.user_id)).await
    }
}
