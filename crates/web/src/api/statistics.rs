use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lienhoan_domain::stats::{Figures, change, parse_dimensions};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{Statistics, StatisticsQuery};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::Date;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};
use crate::query::QueryArgs;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatisticsParams {
    /// A cluster; without it, the whole country (administrators and auditors).
    cluster: Option<Uuid>,
    from: Date,
    to: Date,
    /// Comma-separated: unit, province, category, category_group, outcome, month, year.
    group_by: Option<String>,
    /// `previous_year` adds the same range one year earlier with differences.
    compare: Option<String>,
}

pub fn parse(params: StatisticsParams) -> ApiResult<StatisticsQuery> {
    let group_by = parse_dimensions(params.group_by.as_deref().unwrap_or("")).map_err(|name| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            FieldError::new("group_by", "error-unknown-dimension").with("name", name),
        )
    })?;
    let compare_previous_year = match params.compare.as_deref() {
        None | Some("") => false,
        Some("previous_year") => true,
        Some(_) => {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                FieldError::new("compare", "error-query-parameter").with("detail", "previous_year"),
            ));
        }
    };
    Ok(StatisticsQuery {
        cluster_id: params.cluster,
        from: params.from,
        to: params.to,
        group_by,
        compare_previous_year,
    })
}

fn changes(current: &Figures, previous: &Figures) -> Value {
    let mut out = Map::new();
    for ((name, now), before) in Figures::MEASURES
        .iter()
        .zip(current.values())
        .zip(previous.values())
    {
        let (difference, percent) = change(now, before);
        out.insert(
            (*name).into(),
            json!({"difference": difference, "percent": percent}),
        );
    }
    Value::Object(out)
}

/// Adds the difference and percentage to each row that has a previous period.
fn with_changes(stats: &Statistics) -> Value {
    let mut value = serde_json::to_value(stats).expect("statistics serialise");
    if let Some(rows) = value["rows"].as_array_mut() {
        for (row, source) in rows.iter_mut().zip(&stats.rows) {
            if let Some(previous) = &source.previous {
                row["change"] = changes(&source.figures, previous);
            }
        }
    }
    if let Some(previous) = &stats.previous_total {
        value["total_change"] = changes(&stats.total, previous);
    }
    value
}

/// Figures for a cluster over any date range, from counters kept fresh on every write.
#[utoipa::path(get, path = "/api/v1/statistics", tag = "statistics", params(StatisticsParams),
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn statistics(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(params): QueryArgs<StatisticsParams>,
) -> ApiResult<Json<Value>> {
    let query = parse(params)?;
    let stats = state.store.statistics(&caller.actor, &query).await?;
    Ok(Json(with_changes(&stats)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(statistics))
}
