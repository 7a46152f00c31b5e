use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lienhoan_domain::exchange::{AnswerInput, MessageInput};
use lienhoan_store::{MessageQuery, MessageView};
use serde::{Deserialize, Serialize};
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
pub struct MessageBox {
    /// `true` for messages the caller's organisation sent; otherwise those it received.
    sent: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The caller's organisation's inbox (or sent messages), newest first.
#[utoipa::path(get, path = "/api/v1/messages", tag = "exchange", params(MessageBox),
    responses((status = 200)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(q): QueryArgs<MessageBox>,
) -> ApiResult<PageJson<MessageView>> {
    let query = MessageQuery {
        sent: q.sent.unwrap_or(false),
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    Ok(PageJson(state.store.messages(&caller.actor, &query).await?))
}

/// Sends a bulletin to a cluster or a request for coordination to named members.
#[utoipa::path(post, path = "/api/v1/messages", tag = "exchange", request_body = MessageInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn send(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<MessageInput>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let message = state.store.send_message(&caller.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// One message; opening it marks it read.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "exchange",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<MessageView>> {
    Ok(Json(state.store.message(&caller.actor, id).await?))
}

/// Acknowledges receipt for the caller's organisation.
#[utoipa::path(post, path = "/api/v1/messages/{id}/acknowledgement", tag = "exchange",
    responses((status = 204), (status = 403)), security(("bearer" = [])))]
async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.store.acknowledge_message(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Answers a request for the caller's organisation.
#[utoipa::path(post, path = "/api/v1/messages/{id}/answer", tag = "exchange", request_body = AnswerInput,
    responses((status = 204), (status = 422)), security(("bearer" = [])))]
async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<AnswerInput>,
) -> ApiResult<StatusCode> {
    state
        .store
        .answer_message(&caller.actor, id, &input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Unread {
    unread: i64,
}

#[utoipa::path(get, path = "/api/v1/messages/unread", tag = "exchange",
    responses((status = 200, body = Unread)), security(("bearer" = [])))]
async fn unread(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Unread>> {
    Ok(Json(Unread {
        unread: state.store.unread_count(&caller.actor).await?,
    }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, send))
        .routes(routes!(unread))
        .routes(routes!(get_one))
        .routes(routes!(acknowledge))
        .routes(routes!(answer))
}
