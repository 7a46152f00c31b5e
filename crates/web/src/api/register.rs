use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lienhoan_domain::register::{MovementInput, PersonInput};
use lienhoan_store::{MovementView, PersonQuery, PersonView};
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
pub struct PersonSearch {
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// People under a legal decision that the caller's organisation may see. Every read is audited.
#[utoipa::path(get, path = "/api/v1/register/persons", tag = "register", params(PersonSearch),
    responses((status = 200), (status = 403)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(q): QueryArgs<PersonSearch>,
) -> ApiResult<PageJson<PersonView>> {
    let query = PersonQuery {
        text: q.q,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    Ok(PageJson(
        state.store.list_persons(&caller.actor, &query).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/register/persons", tag = "register", request_body = PersonInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<PersonInput>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let person = state.store.add_person(&caller.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(person)))
}

/// One person; the read is audited.
#[utoipa::path(get, path = "/api/v1/register/persons/{id}", tag = "register",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PersonView>> {
    Ok(Json(state.store.person(&caller.actor, id).await?))
}

#[utoipa::path(put, path = "/api/v1/register/persons/{id}", tag = "register", request_body = PersonInput,
    responses((status = 200), (status = 422)), security(("bearer" = [])))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<PersonInput>,
) -> ApiResult<Json<PersonView>> {
    Ok(Json(
        state.store.update_person(&caller.actor, id, &input).await?,
    ))
}

/// Movement notices sent by or to the caller's organisation.
#[utoipa::path(get, path = "/api/v1/register/movements", tag = "register",
    responses((status = 200)), security(("bearer" = [])))]
async fn movements(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<MovementView>>> {
    Ok(Json(state.store.movements(&caller.actor).await?))
}

/// Notifies the destination organisation that a person moved (*thông báo di biến động*).
#[utoipa::path(post, path = "/api/v1/register/movements", tag = "register", request_body = MovementInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn notify(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<MovementInput>,
) -> ApiResult<(StatusCode, Json<MovementView>)> {
    let notice = state.store.notify_movement(&caller.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(notice)))
}

#[utoipa::path(post, path = "/api/v1/register/movements/{id}/acknowledgement", tag = "register",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.store.acknowledge_movement(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(get_one, update))
        .routes(routes!(movements, notify))
        .routes(routes!(acknowledge))
}
