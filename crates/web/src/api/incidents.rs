use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lienhoan_domain::incident::{Incident, IncidentInput, Outcome, Status};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{AuditView, IncidentQuery, IncidentView, MessageView};
use serde::Deserialize;
use time::Date;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::json::{JsonBody, PageJson};
use crate::problem::{ApiError, ApiResult};
use crate::query::QueryArgs;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentSearch {
    /// First day (yyyy-mm-dd) the incident occurred on.
    from: Option<Date>,
    to: Option<Date>,
    organisation_id: Option<Uuid>,
    cluster_id: Option<Uuid>,
    /// A category code, or a group such as `criminal`.
    category: Option<String>,
    status: Option<Status>,
    outcome: Option<Outcome>,
    /// Words in the place or narrative, diacritics optional.
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Incidents the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(IncidentSearch),
    responses((status = 200)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(q): QueryArgs<IncidentSearch>,
) -> ApiResult<PageJson<IncidentView>> {
    let query = IncidentQuery {
        from: q.from,
        to: q.to,
        organisation_id: q.organisation_id,
        cluster_id: q.cluster_id,
        category: q.category.filter(|c| !c.is_empty()),
        status: q.status,
        outcome: q.outcome,
        text: q.q,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    Ok(PageJson(
        state.store.list_incidents(&caller.actor, &query).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// The owning organisation; only administrators choose, everyone else records for their own.
    organisation_id: Option<Uuid>,
}

/// Records an incident. A cross-border one alerts the neighbouring members.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", params(Owner), request_body = IncidentInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(owner): QueryArgs<Owner>,
    JsonBody(input): JsonBody<IncidentInput>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    let organisation_id = owner
        .organisation_id
        .or(caller.actor.organisation_id)
        .ok_or_else(|| {
            ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldError::new("organisation_id", "error-required"),
            )
        })?;
    let incident = state
        .store
        .create_incident(&caller.actor, organisation_id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<IncidentView>> {
    Ok(Json(state.store.incident(&caller.actor, id).await?))
}

/// Changes an incident; the audit log keeps the before and after.
#[utoipa::path(put, path = "/api/v1/incidents/{id}", tag = "incidents", request_body = IncidentInput,
    responses((status = 200), (status = 422)), security(("bearer" = [])))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<IncidentInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        state
            .store
            .update_incident(&caller.actor, id, &input)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteReason {
    reason: String,
}

/// Deletes an incident (commanders of the owning organisation), with a reason.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}", tag = "incidents", request_body = DeleteReason,
    responses((status = 204), (status = 403)), security(("bearer" = [])))]
async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(body): JsonBody<DeleteReason>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_incident(&caller.actor, id, &body.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who recorded and changed the incident, with the before and after of each change.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/history", tag = "incidents",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<AuditView>>> {
    Ok(Json(state.store.incident_history(&caller.actor, id).await?))
}

/// Bulletins and requests about the incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/messages", tag = "incidents",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<MessageView>>> {
    state.store.incident(&caller.actor, id).await?;
    Ok(Json(
        state.store.incident_messages(&caller.actor, id).await?,
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(history))
        .routes(routes!(messages))
}
