use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lienhoan_domain::access::NewUser;
use lienhoan_store::UserView;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::json::JsonBody;
use crate::problem::ApiResult;

/// Accounts the caller may see: all for admins and auditors, else their organisation's.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200)), security(("bearer" = [])))]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(state.store.list_users(&caller.actor).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201), (status = 409), (status = 422)), security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let user = state
        .store
        .create_user(&caller.actor, &input, false)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    password: String,
}

/// Sets a new password and ends the account's sessions.
#[utoipa::path(put, path = "/api/v1/users/{id}/password", tag = "users", request_body = PasswordInput,
    responses((status = 204), (status = 422)), security(("bearer" = [])))]
async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<PasswordInput>,
) -> ApiResult<StatusCode> {
    state
        .store
        .set_password(&caller.actor, id, &input.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisabledInput {
    disabled: bool,
}

#[utoipa::path(put, path = "/api/v1/users/{id}/disabled", tag = "users", request_body = DisabledInput,
    responses((status = 204), (status = 403)), security(("bearer" = [])))]
async fn set_disabled(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<DisabledInput>,
) -> ApiResult<StatusCode> {
    state
        .store
        .set_user_disabled(&caller.actor, id, input.disabled)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(set_password))
        .routes(routes!(set_disabled))
}
