use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lienhoan_store::{AuditQuery, AuditView};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::json::PageJson;
use crate::problem::{ApiError, ApiResult};
use crate::query::QueryArgs;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditSearch {
    /// Action prefix, e.g. `cluster.` or `cluster.member.add`.
    action: Option<String>,
    actor: Option<String>,
    target_id: Option<Uuid>,
    from: Option<Date>,
    to: Option<Date>,
    limit: Option<i64>,
    offset: Option<i64>,
}

impl From<AuditSearch> for AuditQuery {
    fn from(q: AuditSearch) -> Self {
        AuditQuery {
            action: q.action.filter(|s| !s.is_empty()),
            actor_name: q.actor.filter(|s| !s.is_empty()),
            target_id: q.target_id,
            from: q.from,
            to: q.to,
            limit: q.limit.unwrap_or(50),
            offset: q.offset.unwrap_or(0),
        }
    }
}

/// The audit log, newest first. Auditors and admins only.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditSearch),
    responses((status = 200), (status = 403)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(q): QueryArgs<AuditSearch>,
) -> ApiResult<PageJson<AuditView>> {
    Ok(PageJson(
        state.store.audit_log(&caller.actor, &q.into()).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Verification {
    intact: bool,
    entries_checked: u64,
    problem: Option<String>,
}

/// Checks the whole hash chain.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Verification), (status = 403)), security(("bearer" = [])))]
async fn verify(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Verification>> {
    if !caller.actor.can_read_audit() {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "problem-forbidden"));
    }
    let result = state.store.verify_audit(&|_| {}).await?;
    Ok(Json(match result {
        Ok(n) => Verification {
            intact: true,
            entries_checked: n,
            problem: None,
        },
        Err(broken) => Verification {
            intact: false,
            entries_checked: 0,
            problem: Some(broken.to_string()),
        },
    }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(verify))
}
