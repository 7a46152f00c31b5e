//! Administrative units: search, detail with history, and adding a historical unit.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use lienhoan_domain::geo::{AdminLevel, NewHistoricalUnit};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{AdminUnitQuery, AdminUnitView, StoreError};
use uuid::Uuid;

use super::form::Reader;
use super::organisations::{PAGE_SIZE, offset_of, query_pairs, unit_choices};
use super::{
    Choice, Chrome, Form, FormData, OrPage, Page, PageError, PageResult, Pager, done, query_string,
};
use crate::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "geo.html")]
struct SearchTemplate {
    c: Chrome,
    q: String,
    level: String,
    dataset: String,
    levels: Vec<Choice>,
    datasets: Vec<Choice>,
    items: Vec<AdminUnitView>,
    pager: Pager,
    can_add: bool,
}

fn level_choices(c: &Chrome) -> Vec<Choice> {
    AdminLevel::ALL
        .iter()
        .map(|l| Choice::new(l.as_str(), c.level(l)))
        .collect()
}

fn dataset_choices(c: &Chrome) -> Vec<Choice> {
    ["2024", "2025", "historical"]
        .into_iter()
        .map(|d| Choice::new(d, c.dataset(d)))
        .collect()
}

async fn search(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    let c = page.c.titled("geo", "geo-title");
    let params = query_pairs(&uri);
    let q = params.get("q").to_owned();
    let level = AdminLevel::parse(params.get("level"));
    let dataset = match params.get("dataset") {
        d @ ("2024" | "2025" | "historical") => d.to_owned(),
        _ => String::new(),
    };
    let offset = offset_of(&params);
    let result = state
        .store
        .search_admin_units(&AdminUnitQuery {
            text: (!q.is_empty()).then(|| q.clone()),
            dataset: (!dataset.is_empty()).then(|| dataset.clone()),
            level,
            parent_id: None,
            limit: PAGE_SIZE,
            offset,
        })
        .await
        .or_page(&c)?;
    let level = level.map(|l| l.as_str()).unwrap_or_default().to_owned();
    let pager = Pager::new(
        &query_string(
            "/geo",
            &[("q", &q), ("level", &level), ("dataset", &dataset)],
        ),
        &result,
        PAGE_SIZE,
        offset,
    );
    Ok(SearchTemplate {
        levels: level_choices(&c),
        datasets: dataset_choices(&c),
        c,
        q,
        level,
        dataset,
        items: result.items,
        pager,
        can_add: page.actor.can_manage_reference_data(),
    }
    .into_response())
}

const CHILDREN_SHOWN: i64 = 200;

#[derive(Template, WebTemplate)]
#[template(path = "geo_unit.html")]
struct UnitTemplate {
    c: Chrome,
    u: AdminUnitView,
    children: Vec<AdminUnitView>,
    children_total: i64,
    can_add: bool,
    alias: Form,
}

async fn render_unit(state: &AppState, page: Page, id: Uuid, alias: Form) -> PageResult {
    let c = page.c.clone();
    let u = state.store.admin_unit(id).await.or_page(&c)?;
    let c = c.with_title("geo", u.full_name.clone());
    let children = state
        .store
        .search_admin_units(&AdminUnitQuery {
            parent_id: Some(id),
            limit: CHILDREN_SHOWN,
            ..AdminUnitQuery::default()
        })
        .await
        .or_page(&c)?;
    let status = if alias.failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        UnitTemplate {
            c,
            u,
            children: children.items,
            children_total: children.total,
            can_add: page.actor.can_manage_reference_data(),
            alias,
        },
    )
        .into_response())
}

async fn unit(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    render_unit(&state, page, id, Form::default()).await
}

async fn add_alias(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    match state
        .store
        .add_unit_alias(&page.actor, id, data.get("alias"))
        .await
    {
        Ok(()) => Ok(done(&format!("/geo/{id}"), "alias-added")),
        Err(StoreError::Invalid(errors)) => {
            let f = Form::refused(data, &errors, page.c.lang, &["alias"]);
            render_unit(&state, page, id, f).await
        }
        Err(StoreError::Conflict(error)) => {
            let f = Form::refused(data, &[error], page.c.lang, &["alias"]);
            render_unit(&state, page, id, f).await
        }
        Err(e) => Err(PageError::from_store(e, &page.c)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "geo_new.html")]
struct NewTemplate {
    c: Chrome,
    f: Form,
    levels: Vec<Choice>,
    parents: Vec<Choice>,
    successors: Vec<Choice>,
}

const NEW_FIELDS: &[&str] = &[
    "level",
    "code",
    "name",
    "kind",
    "parent_id",
    "valid_from",
    "valid_to",
    "successor_ids",
    "aliases",
];

async fn render_new(state: &AppState, c: Chrome, f: Form, status: StatusCode) -> PageResult {
    let parent: Vec<Uuid> = Uuid::parse_str(f.v("parent_id")).into_iter().collect();
    let parents = unit_choices(state, &c, f.v("parent_q"), &parent, None)
        .await
        .or_page(&c)?;
    let chosen: Vec<Uuid> = f
        .data()
        .all("successor_ids")
        .into_iter()
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    let successors = unit_choices(state, &c, f.v("successor_q"), &chosen, None)
        .await
        .or_page(&c)?;
    Ok((
        status,
        NewTemplate {
            levels: level_choices(&c),
            c,
            f,
            parents,
            successors,
        },
    )
        .into_response())
}

async fn new_form(State(state): State<AppState>, page: Page) -> PageResult {
    let c = page.c.titled("geo", "geo-new-title");
    if !page.actor.can_manage_reference_data() {
        return Err(PageError::forbidden(&c));
    }
    render_new(&state, c, Form::default(), StatusCode::OK).await
}

fn read_unit(data: &FormData) -> Result<NewHistoricalUnit, Vec<FieldError>> {
    let mut r = Reader::new(data);
    let level = r.choice("level", AdminLevel::parse);
    let parent_id = r.optional_id("parent_id");
    let valid_from = r.optional_date("valid_from");
    let valid_to = r.date("valid_to");
    let successor_ids: Vec<Uuid> = data
        .all("successor_ids")
        .into_iter()
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    r.finish()?;
    Ok(NewHistoricalUnit {
        level: level.expect("checked"),
        code: data.get("code").to_owned(),
        name: data.get("name").to_owned(),
        kind: data.get("kind").to_owned(),
        parent_id,
        valid_from,
        valid_to: valid_to.expect("checked"),
        successor_ids,
        aliases: data.lines("aliases"),
    })
}

async fn create(State(state): State<AppState>, page: Page, data: FormData) -> PageResult {
    let c = page.c.titled("geo", "geo-new-title");
    if data.has("find") {
        return render_new(&state, c, Form::echo(data), StatusCode::OK).await;
    }
    let result = match read_unit(&data) {
        Ok(input) => state.store.add_historical_unit(&page.actor, &input).await,
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    let (status, errors) = match result {
        Ok(unit) => return Ok(done(&format!("/geo/{}", unit.id), "unit-added")),
        Err(StoreError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(StoreError::Conflict(error)) => (StatusCode::CONFLICT, vec![error]),
        Err(other) => return Err(PageError::from_store(other, &c)),
    };
    let f = Form::refused(data, &errors, c.lang, NEW_FIELDS);
    render_new(&state, c, f, status).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/geo", get(search))
        .route("/geo/new", get(new_form).post(create))
        .route("/geo/{id}", get(unit))
        .route(
            "/geo/{id}/aliases",
            post(add_alias)
                .get(|Path(id): Path<Uuid>| async move { Redirect::to(&format!("/geo/{id}")) }),
        )
}
