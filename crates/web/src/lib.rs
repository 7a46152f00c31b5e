//! The HTTP face of Liên Hoàn: a JSON API under `/api/v1` described by OpenAPI, server-rendered
//! pages for browsers, health and metrics. Handlers stay thin: they translate HTTP to store calls.

mod api;
mod auth;
mod i18n;
mod json;
mod live;
mod ops;
mod pages;
mod problem;
mod query;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use lienhoan_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

pub use i18n::Lang;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    metrics: PrometheusHandle,
    /// Whether cookies get the `Secure` flag (behind HTTPS).
    secure_cookies: bool,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, secure_cookies: bool) -> Self {
        Self {
            store,
            metrics: ops::metrics_handle(),
            secure_cookies,
        }
    }
}

async fn with_request_lang(request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    problem::REQUEST_LANG.scope(lang, next.run(request)).await
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api_router)
        .merge(pages::router())
        .merge(ops::router(openapi))
        .route("/api/v1/events", axum::routing::get(live::events))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::same_origin_guard,
        ))
        .layer(middleware::from_fn(ops::count_requests))
        .layer(middleware::from_fn(with_request_lang))
        .layer(DefaultBodyLimit::max(json::BODY_LIMIT))
        .with_state(state)
}

/// Serves until the process is stopped.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// The OpenAPI document, for tests and tooling.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().split_for_parts().1
}
