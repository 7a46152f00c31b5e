use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lienhoan_domain::cluster::{
    BoardMemberInput, Cluster, ClusterInput, Membership, MembershipInput, RegulationInput,
    RegulationVersion, RotationTurn,
};
use lienhoan_domain::format::local_date;
use lienhoan_store::{
    BoardMemberView, ClusterDetail, ClusterSummary, MemberView, RotationTurnView,
};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::json::JsonBody;
use crate::problem::ApiResult;
use crate::query::QueryArgs;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OnDay {
    /// A calendar day, yyyy-mm-dd; today when absent.
    on: Option<Date>,
}

fn day(on: Option<Date>) -> Date {
    on.unwrap_or_else(|| local_date(OffsetDateTime::now_utc()))
}

/// Clusters the caller may see, with their member count on a day.
#[utoipa::path(get, path = "/api/v1/clusters", tag = "clusters", params(OnDay),
    responses((status = 200)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(q): QueryArgs<OnDay>,
) -> ApiResult<Json<Vec<ClusterSummary>>> {
    Ok(Json(
        state.store.list_clusters(&caller.actor, day(q.on)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/clusters", tag = "clusters", request_body = ClusterInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<ClusterInput>,
) -> ApiResult<(StatusCode, Json<Cluster>)> {
    let cluster = state.store.create_cluster(&caller.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(cluster)))
}

/// A cluster with all memberships past and present, board, rotation and regulation versions.
#[utoipa::path(get, path = "/api/v1/clusters/{id}", tag = "clusters",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ClusterDetail>> {
    Ok(Json(state.store.cluster(&caller.actor, id).await?))
}

#[utoipa::path(put, path = "/api/v1/clusters/{id}", tag = "clusters", request_body = ClusterInput,
    responses((status = 200), (status = 422)), security(("bearer" = [])))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<ClusterInput>,
) -> ApiResult<Json<Cluster>> {
    Ok(Json(
        state
            .store
            .update_cluster(&caller.actor, id, &input)
            .await?,
    ))
}

/// Members on a day.
#[utoipa::path(get, path = "/api/v1/clusters/{id}/members", tag = "clusters", params(OnDay),
    responses((status = 200)), security(("bearer" = [])))]
async fn members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    QueryArgs(q): QueryArgs<OnDay>,
) -> ApiResult<Json<Vec<MemberView>>> {
    Ok(Json(
        state.store.members_on(&caller.actor, id, day(q.on)).await?,
    ))
}

/// Admits a member.
#[utoipa::path(post, path = "/api/v1/clusters/{id}/members", tag = "clusters", request_body = MembershipInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<MembershipInput>,
) -> ApiResult<(StatusCode, Json<Membership>)> {
    let member = state.store.add_member(&caller.actor, id, &input).await?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// Records a departure (`left_on`) or corrects a membership.
#[utoipa::path(put, path = "/api/v1/clusters/{id}/members/{membership_id}", tag = "clusters",
    request_body = MembershipInput, responses((status = 200), (status = 422)), security(("bearer" = [])))]
async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, membership_id)): Path<(Uuid, Uuid)>,
    JsonBody(input): JsonBody<MembershipInput>,
) -> ApiResult<Json<Membership>> {
    Ok(Json(
        state
            .store
            .update_member(&caller.actor, id, membership_id, &input)
            .await?,
    ))
}

/// Deletes a membership entered by mistake.
#[utoipa::path(delete, path = "/api/v1/clusters/{id}/members/{membership_id}", tag = "clusters",
    responses((status = 204)), security(("bearer" = [])))]
async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, membership_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .remove_member(&caller.actor, id, membership_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/board", tag = "clusters", request_body = BoardMemberInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn add_board_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<BoardMemberInput>,
) -> ApiResult<(StatusCode, Json<BoardMemberView>)> {
    let member = state
        .store
        .add_board_member(&caller.actor, id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(member)))
}

#[utoipa::path(delete, path = "/api/v1/clusters/{id}/board/{board_member_id}", tag = "clusters",
    responses((status = 204)), security(("bearer" = [])))]
async fn remove_board_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, board_member_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .remove_board_member(&caller.actor, id, board_member_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationInput {
    turns: Vec<RotationTurn>,
}

/// Replaces the standing-unit rotation: turns in order, without gaps or overlaps.
#[utoipa::path(put, path = "/api/v1/clusters/{id}/rotation", tag = "clusters", request_body = RotationInput,
    responses((status = 200), (status = 422)), security(("bearer" = [])))]
async fn set_rotation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<RotationInput>,
) -> ApiResult<Json<Vec<RotationTurnView>>> {
    Ok(Json(
        state
            .store
            .set_rotation(&caller.actor, id, &input.turns)
            .await?,
    ))
}

/// Adds a new version of the coordination regulation.
#[utoipa::path(post, path = "/api/v1/clusters/{id}/regulations", tag = "clusters", request_body = RegulationInput,
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn add_regulation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    JsonBody(input): JsonBody<RegulationInput>,
) -> ApiResult<(StatusCode, Json<RegulationVersion>)> {
    let version = state
        .store
        .add_regulation(&caller.actor, id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(version)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(members, add_member))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(add_board_member))
        .routes(routes!(remove_board_member))
        .routes(routes!(set_rotation))
        .routes(routes!(add_regulation))
}
