use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lienhoan_domain::stats::{Dimension, Figures, change, parse_dimensions};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{Statistics, StatisticsQuery};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
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

/// The difference and percentage of each measure against the previous period.
struct Changes<'a> {
    current: &'a Figures,
    previous: &'a Figures,
}

impl Serialize for Changes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Change {
            difference: i64,
            percent: Option<f64>,
        }
        let mut map = serializer.serialize_map(Some(Figures::MEASURES.len()))?;
        for ((name, now), before) in Figures::MEASURES
            .iter()
            .zip(self.current.values())
            .zip(self.previous.values())
        {
            let (difference, percent) = change(now, before);
            map.serialize_entry(
                name,
                &Change {
                    difference,
                    percent,
                },
            )?;
        }
        map.end()
    }
}

/// The statistics as sent: each row, and the total, that has a previous period also carries
/// its changes. Written straight from the report: built as a JSON tree first, a national year
/// of 544 rows spent most of its time allocating the tree's maps.
#[derive(Serialize)]
struct Report<'a> {
    cluster_id: Option<Uuid>,
    from: Date,
    to: Date,
    group_by: &'a [Dimension],
    rows: Vec<Row<'a>>,
    total: &'a Figures,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_change: Option<Changes<'a>>,
    previous_total: Option<&'a Figures>,
    previous_from: Option<Date>,
    previous_to: Option<Date>,
}

#[derive(Serialize)]
struct Row<'a> {
    keys: &'a [String],
    labels: &'a [String],
    figures: &'a Figures,
    previous: Option<&'a Figures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<Changes<'a>>,
}

fn changes<'a>(current: &'a Figures, previous: &'a Option<Figures>) -> Option<Changes<'a>> {
    previous
        .as_ref()
        .map(|previous| Changes { current, previous })
}

fn with_changes(stats: &Statistics) -> Report<'_> {
    Report {
        cluster_id: stats.cluster_id,
        from: stats.from,
        to: stats.to,
        group_by: &stats.group_by,
        rows: stats
            .rows
            .iter()
            .map(|row| Row {
                keys: &row.keys,
                labels: &row.labels,
                figures: &row.figures,
                previous: row.previous.as_ref(),
                change: changes(&row.figures, &row.previous),
            })
            .collect(),
        total: &stats.total,
        total_change: changes(&stats.total, &stats.previous_total),
        previous_total: stats.previous_total.as_ref(),
        previous_from: stats.previous_from,
        previous_to: stats.previous_to,
    }
}

/// Figures for a cluster over any date range, from counters kept fresh on every write.
#[utoipa::path(get, path = "/api/v1/statistics", tag = "statistics", params(StatisticsParams),
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn statistics(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(params): QueryArgs<StatisticsParams>,
) -> ApiResult<Response> {
    let query = parse(params)?;
    let stats = state.store.statistics(&caller.actor, &query).await?;
    Ok(Json(with_changes(&stats)).into_response())
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(statistics))
}
