use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::json::JsonBody;
use crate::problem::ApiResult;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    token: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

/// Opens a session and returns its bearer token.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = LoginInput,
    responses((status = 201, body = SessionOut), (status = 401), (status = 429)))]
async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(input): JsonBody<LoginInput>,
) -> ApiResult<(StatusCode, Json<SessionOut>)> {
    let session = state
        .store
        .login(&input.username, &input.password, &peer.ip().to_string())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionOut {
            token: session.token,
            expires_at: session.expires_at,
        }),
    ))
}

/// Ends the caller's session.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 204)), security(("bearer" = [])))]
async fn delete_current(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.store.logout(&caller.actor, &caller.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "sessions",
    responses((status = 200)), security(("bearer" = [])))]
async fn me(caller: Caller) -> Json<lienhoan_domain::access::Actor> {
    Json(caller.actor)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(delete_current))
        .routes(routes!(me))
}
