use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienhoan_domain::validation::FieldError;
use lienhoan_import::incidents::{ImportError, import, template};
use lienhoan_import::{CellError, Format};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::i18n::Lang;
use crate::problem::{ApiError, ApiResult, request_lang};
use crate::query::QueryArgs;

/// Imports may carry tens of thousands of rows.
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// The incident template in the caller's language: `csv` or `xlsx`.
#[utoipa::path(get, path = "/api/v1/incidents/template/{format}", tag = "incidents",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
async fn download_template(_caller: Caller, Path(format): Path<String>) -> ApiResult<Response> {
    let lang = request_lang();
    let label = |code: &str| lang.t(&format!("import-column-{}", code.replace('_', "-")));
    let (format, content_type) = match format.as_str() {
        "csv" => (Format::Csv, "text/csv; charset=utf-8"),
        "xlsx" => (
            Format::Xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(ApiError::not_found()),
    };
    let bytes = template(format, label).map_err(|e| {
        tracing::error!(error = %e, "template");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "problem-internal")
    })?;
    let disposition = format!(
        "attachment; filename=\"mau-vu-viec.{}\"",
        if format == Format::Csv { "csv" } else { "xlsx" }
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportOwner {
    /// The owning organisation; only administrators choose.
    organisation_id: Option<Uuid>,
}

#[derive(Serialize)]
struct LocalisedCellError {
    line: usize,
    column: String,
    code: &'static str,
    message: String,
    value: String,
}

/// Problems of a whole file, each with its line and column, in the caller's language.
pub fn cell_problems(lang: Lang, errors: &[CellError]) -> Response {
    let items: Vec<LocalisedCellError> = errors
        .iter()
        .map(|e| LocalisedCellError {
            line: e.line,
            column: e.column.clone(),
            code: e.key,
            message: lang.t_args(e.key, &e.args),
            value: e.value.clone(),
        })
        .collect();
    let title = lang.t("problem-import-rejected");
    let mut response = (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "type": "about:blank",
            "title": title,
            "status": 422,
            "detail": lang.t_args("problem-import-rejected-detail", &[("count", items.len().to_string())]),
            "errors": items,
        })),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// Imports a filled template (CSV or XLSX, sent as the body): every row, or none.
#[utoipa::path(post, path = "/api/v1/incidents/import", tag = "incidents", params(ImportOwner),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201), (status = 422)), security(("bearer" = [])))]
async fn import_file(
    State(state): State<AppState>,
    caller: Caller,
    QueryArgs(owner): QueryArgs<ImportOwner>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let organisation_id = owner
        .organisation_id
        .or(caller.actor.organisation_id)
        .ok_or_else(|| {
            ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldError::new("organisation_id", "error-required"),
            )
        })?;
    match import(
        state.store.as_ref(),
        &caller.actor,
        organisation_id,
        &body,
        &|_| {},
    )
    .await
    {
        Ok(count) => Ok((StatusCode::CREATED, Json(json!({"imported": count}))).into_response()),
        Err(ImportError::Cells(errors)) => Ok(cell_problems(request_lang(), &errors)),
        Err(ImportError::Unreadable(detail)) => Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldError::new("file", "error-import-unreadable").with("detail", detail),
        )),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(download_template))
        .routes(routes!(import_file))
        .layer(DefaultBodyLimit::max(IMPORT_LIMIT))
}
