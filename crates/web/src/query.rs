//! Query-string extractor whose rejections are problem+json naming the parameter.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use lienhoan_domain::validation::FieldError;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

pub struct QueryArgs<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(QueryArgs)
            .map_err(|e| {
                let message = e.inner().to_string();
                let field = message
                    .split('`')
                    .nth(1)
                    .filter(|_| e.path().to_string() == ".")
                    .map(String::from)
                    .unwrap_or_else(|| e.path().to_string());
                ApiError::field(
                    StatusCode::BAD_REQUEST,
                    FieldError::new(field, "error-query-parameter").with("detail", message),
                )
            })
    }
}
