//! The home page: greeting, counts, the clusters one can see.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use lienhoan_store::{ClusterSummary, OrganisationQuery};

use super::{Chrome, OrPage, Page, PageResult, today};
use crate::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomeTemplate {
    c: Chrome,
    clusters: Vec<ClusterSummary>,
    cluster_count: i64,
    organisation_count: i64,
    members_today: i64,
    can_create_clusters: bool,
    can_manage_reference_data: bool,
}

async fn home(State(state): State<AppState>, page: Page) -> PageResult {
    let c = page.c.titled("home", "home-title");
    let clusters = state
        .store
        .list_clusters(&page.actor, today())
        .await
        .or_page(&c)?;
    let organisations = state
        .store
        .list_organisations(&OrganisationQuery {
            text: None,
            limit: 1,
            offset: 0,
        })
        .await
        .or_page(&c)?;
    Ok(HomeTemplate {
        cluster_count: clusters.len() as i64,
        organisation_count: organisations.total,
        members_today: clusters.iter().map(|s| s.member_count).sum(),
        clusters,
        can_create_clusters: page.actor.can_create_clusters(),
        can_manage_reference_data: page.actor.can_manage_reference_data(),
        c,
    }
    .into_response())
}

pub fn router() -> axum::Router<AppState> {
    Router::new().route("/", get(home))
}
