use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lienhoan_domain::geo::{AdminLevel, AdminUnit, NewHistoricalUnit};
use lienhoan_store::{AdminUnitQuery, AdminUnitView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::json::{JsonBody, PageJson};
use crate::problem::ApiResult;
use crate::query::QueryArgs;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UnitSearch {
    /// Name or alias, diacritics optional.
    q: Option<String>,
    dataset: Option<String>,
    level: Option<AdminLevel>,
    parent_id: Option<Uuid>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Searches administrative units.
#[utoipa::path(get, path = "/api/v1/admin-units", tag = "geography", params(UnitSearch),
    responses((status = 200)), security(("bearer" = [])))]
async fn search(
    State(state): State<AppState>,
    _caller: Caller,
    QueryArgs(q): QueryArgs<UnitSearch>,
) -> ApiResult<PageJson<AdminUnitView>> {
    let query = AdminUnitQuery {
        text: q.q,
        dataset: q.dataset,
        level: q.level,
        parent_id: q.parent_id,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    Ok(PageJson(state.store.search_admin_units(&query).await?))
}

/// Adds a historical unit (one no shipped list has) with its validity and successors.
#[utoipa::path(post, path = "/api/v1/admin-units", tag = "geography", request_body = NewHistoricalUnit,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn add_historical(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewHistoricalUnit>,
) -> ApiResult<(StatusCode, Json<AdminUnit>)> {
    let unit = state
        .store
        .add_historical_unit(&caller.actor, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(unit)))
}

/// One unit with its parents, successors and predecessors.
#[utoipa::path(get, path = "/api/v1/admin-units/{id}", tag = "geography",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn get_one(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AdminUnitView>> {
    Ok(Json(state.store.admin_unit(id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasInput {
    alias: String,
}

/// Adds another spelling under which the unit can be found.
#[utoipa::path(post, path = "/api/v1/admin-units/{id}/aliases", tag = "geography", request_body = AliasInput,
    responses((status = 204), (status = 422)), security(("bearer" = [])))]
async fn add_alias(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<AliasInput>,
) -> ApiResult<StatusCode> {
    state
        .store
        .add_unit_alias(&caller.actor, id, &input.alias)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search, add_historical))
        .routes(routes!(get_one))
        .routes(routes!(add_alias))
}
