//! Errors as `application/problem+json` (RFC 9457), in the caller's language.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::StoreError;
use serde::Serialize;

use crate::i18n::Lang;

tokio::task_local! {
    /// The language of the request being served, set by [`crate::app`]'s middleware so that
    /// errors raised anywhere with `?` come out in the caller's language.
    pub static REQUEST_LANG: Lang;
}

pub fn request_lang() -> Lang {
    REQUEST_LANG.try_with(|l| *l).unwrap_or_default()
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Translation key of the title.
    pub title: &'static str,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str) -> Self {
        Self {
            status,
            title,
            fields: Vec::new(),
        }
    }

    pub fn field(status: StatusCode, error: FieldError) -> Self {
        Self {
            status,
            title: "problem-invalid",
            fields: vec![error],
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "problem-unauthenticated")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "problem-not-found")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(fields) => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "problem-invalid",
                fields,
            },
            StoreError::NotFound => Self::not_found(),
            StoreError::Forbidden => Self::new(StatusCode::FORBIDDEN, "problem-forbidden"),
            StoreError::Conflict(field) => Self::field(StatusCode::CONFLICT, field),
            StoreError::BadCredentials => {
                Self::new(StatusCode::UNAUTHORIZED, "problem-bad-credentials")
            }
            StoreError::RateLimited => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "problem-rate-limited")
            }
            StoreError::Backend(message) => {
                tracing::error!(%message, "storage failure");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "problem-internal")
            }
        }
    }
}

#[derive(Serialize)]
struct FieldProblem {
    field: String,
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldProblem>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let lang = request_lang();
        let errors: Vec<FieldProblem> = self
            .fields
            .iter()
            .map(|e| FieldProblem {
                field: e.field.clone(),
                code: e.key,
                message: lang.field_error(e),
            })
            .collect();
        let title = lang.t(self.title);
        let detail = if errors.is_empty() {
            title.clone()
        } else {
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let body = Problem {
            kind: "about:blank",
            title,
            status: self.status.as_u16(),
            detail,
            errors,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
