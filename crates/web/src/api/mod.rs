//! JSON API under `/api/v1`. Routes are registered through utoipa so that the OpenAPI document
//! is generated from the same list the router serves.

mod audit;
mod clusters;
mod exchange;
mod geo;
mod import;
mod incidents;
mod organisations;
mod register;
mod sessions;
mod statistics;
mod users;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Liên Hoàn API", description = "Border-area security-and-order clusters"),
    components(schemas(lienhoan_domain::access::Role)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(sessions::router())
        .merge(geo::router())
        .merge(organisations::router())
        .merge(clusters::router())
        .merge(users::router())
        .merge(audit::router())
        .merge(incidents::router())
        .merge(statistics::router())
        .merge(exchange::router())
        .merge(register::router())
        .merge(import::router())
}
