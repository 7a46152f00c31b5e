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
    /// Seconds after which asking again may succeed, sent as `Retry-After`.
    retry_after: Option<u32>,
}

/// The pool's own acquire timeout has already made the caller wait; by now connections are
/// usually being released, so a prompt retry is the likeliest to succeed.
const BUSY_RETRY_AFTER_SECONDS: u32 = 1;

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str) -> Self {
        Self {
            status,
            title,
            fields: Vec::new(),
            retry_after: None,
        }
    }

    pub fn field(status: StatusCode, error: FieldError) -> Self {
        Self {
            status,
            title: "problem-invalid",
            fields: vec![error],
            retry_after: None,
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "problem-unauthenticated")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "problem-not-found")
    }

    fn busy() -> Self {
        Self {
            retry_after: Some(BUSY_RETRY_AFTER_SECONDS),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "problem-busy")
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(fields) => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "problem-invalid",
                fields,
                retry_after: None,
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
            StoreError::Busy => {
                tracing::warn!("database connection pool exhausted");
                Self::busy()
            }
            StoreError::Interrupted(message) => {
                tracing::warn!(%message, "write rolled back with its group");
                Self::busy()
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
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use axum::http::response::Parts;

    use super::*;

    async fn respond(error: StoreError, lang: Lang) -> (Parts, serde_json::Value) {
        let whole = REQUEST_LANG.sync_scope(lang, || ApiError::from(error).into_response());
        let (parts, body) = whole.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts, serde_json::from_slice(&body).unwrap())
    }

    /// A busy pool, and a write rolled back with its group: both pass, and may be asked again.
    #[tokio::test]
    async fn busy_store_asks_to_retry_shortly_in_the_callers_language() {
        let errors = || [StoreError::Busy, StoreError::Interrupted("group".into())];
        for (lang, title) in [
            (Lang::Vi, "Hệ thống đang bận, vui lòng thử lại sau giây lát"),
            (Lang::En, "The system is busy; please try again in a moment"),
        ] {
            for error in errors() {
                let (response, body) = respond(error, lang).await;
                assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(response.headers[header::RETRY_AFTER], "1");
                assert_eq!(
                    response.headers[header::CONTENT_TYPE],
                    "application/problem+json"
                );
                assert_eq!(body["status"], 503);
                assert_eq!(body["title"], title);
                assert_eq!(body["detail"], title);
            }
        }
    }

    #[tokio::test]
    async fn other_storage_failures_do_not_invite_a_retry() {
        let (response, _) = respond(StoreError::Backend("disk full".into()), Lang::En).await;
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers.get(header::RETRY_AFTER).is_none());
    }
}
