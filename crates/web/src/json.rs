//! A JSON body extractor whose rejections are problem+json naming the offending field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use lienhoan_domain::validation::FieldError;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// Request bodies larger than this are refused before they are read.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub struct JsonBody<T>(pub T);

fn message_key(error: &serde_json::Error, message: &str) -> &'static str {
    if message.contains("unknown field") {
        "error-json-unknown-field"
    } else if message.contains("missing field") {
        "error-json-missing-field"
    } else if error.is_syntax() || error.is_eof() {
        "error-json-syntax"
    } else {
        "error-json-type"
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "problem-json-required",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "problem-body-too-large"))?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let inner = e.inner();
            let message = inner.to_string();
            let mut field = e.path().to_string();
            // A missing field's path ends at its parent; serde names the field in its message.
            if let Some(name) = message.split('`').nth(1)
                && message.starts_with("missing field")
            {
                field = if field == "." {
                    name.to_owned()
                } else {
                    format!("{field}.{name}")
                };
            }
            let key = message_key(inner, &message);
            ApiError::field(
                StatusCode::BAD_REQUEST,
                FieldError::new(field.trim_start_matches('.'), key).with("detail", message),
            )
        })?;
        deserializer.end().map_err(|e| {
            ApiError::field(
                StatusCode::BAD_REQUEST,
                FieldError::new("", "error-json-syntax").with("detail", e.to_string()),
            )
        })?;
        Ok(JsonBody(value))
    }
}

/// A page of a list as a JSON response, written into a buffer sized for it up front. axum's
/// `Json` starts at 128 bytes and doubles: a page of 50 incidents (37 KB) was copied nine
/// times on its way out, a tenth of the samples of a list under load.
pub struct PageJson<T>(pub lienhoan_store::Page<T>);

/// Room for one list item; an incident takes some 750 bytes.
const ITEM_BYTES: usize = 1024;

impl<T: serde::Serialize> axum::response::IntoResponse for PageJson<T> {
    fn into_response(self) -> axum::response::Response {
        let mut body = Vec::with_capacity(256 + ITEM_BYTES * self.0.items.len());
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => ([(CONTENT_TYPE, "application/json")], body).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "a page of a list did not serialize");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "problem-internal").into_response()
            }
        }
    }
}
