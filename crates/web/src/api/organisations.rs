use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lienhoan_domain::organisation::{Organisation, OrganisationInput};
use lienhoan_store::{OrganisationQuery, OrganisationView};
use serde::Deserialize;
use utoipa::IntoParams;
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
pub struct OrganisationSearch {
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Lists organisations in Vietnamese order, optionally matching a name or place.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", params(OrganisationSearch),
    responses((status = 200)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    QueryArgs(q): QueryArgs<OrganisationSearch>,
) -> ApiResult<PageJson<OrganisationView>> {
    let query = OrganisationQuery {
        text: q.q,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    Ok(PageJson(state.store.list_organisations(&query).await?))
}

/// Creates an organisation located in an administrative unit.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = OrganisationInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<OrganisationInput>,
) -> ApiResult<(StatusCode, Json<Organisation>)> {
    let org = state
        .store
        .create_organisation(&caller.actor, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn get_one(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<OrganisationView>> {
    Ok(Json(state.store.organisation(id).await?))
}

#[utoipa::path(put, path = "/api/v1/organisations/{id}", tag = "organisations", request_body = OrganisationInput,
    responses((status = 200), (status = 422)), security(("bearer" = [])))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<OrganisationInput>,
) -> ApiResult<Json<Organisation>> {
    Ok(Json(
        state
            .store
            .update_organisation(&caller.actor, id, &input)
            .await?,
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
}
