//! Organisations, and the small fragments that fill a select from a search box.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use lienhoan_domain::geo::AdminLevel;
use lienhoan_domain::organisation::{OrgKind, OrganisationInput};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{AdminUnitQuery, OrganisationQuery, OrganisationView, StoreError};
use uuid::Uuid;

use super::clusters::organisation_choices;
use super::form::Reader;
use super::{
    Choice, Chrome, Form, FormData, OrPage, Page, PageError, PageResult, Pager, done, query_string,
    unit_choice,
};
use crate::AppState;
use crate::auth::PageCaller;
use crate::i18n::Lang;

pub const PAGE_SIZE: i64 = 50;

/// The query parameters of a GET request.
pub fn query_pairs(uri: &Uri) -> FormData {
    FormData::parse(uri.query().unwrap_or_default().as_bytes())
}

pub fn offset_of(q: &FormData) -> i64 {
    q.get("offset").parse::<i64>().unwrap_or(0).max(0)
}

#[derive(Template, WebTemplate)]
#[template(path = "organisations.html")]
struct ListTemplate {
    c: Chrome,
    q: String,
    items: Vec<OrganisationView>,
    pager: Pager,
    can_manage: bool,
}

async fn list(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    let c = page.c.titled("organisations", "org-title");
    let params = query_pairs(&uri);
    let q = params.get("q").to_owned();
    let offset = offset_of(&params);
    let result = state
        .store
        .list_organisations(&OrganisationQuery {
            text: (!q.is_empty()).then(|| q.clone()),
            limit: PAGE_SIZE,
            offset,
        })
        .await
        .or_page(&c)?;
    let pager = Pager::new(
        &query_string("/organisations", &[("q", &q)]),
        &result,
        PAGE_SIZE,
        offset,
    );
    Ok(ListTemplate {
        c,
        q,
        items: result.items,
        pager,
        can_manage: page.actor.can_manage_reference_data(),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "organisation_form.html")]
struct FormTemplate {
    c: Chrome,
    f: Form,
    kinds: Vec<Choice>,
    units: Vec<Choice>,
}

const FIELDS: &[&str] = &["name", "kind", "admin_unit_id"];

/// Admin units for a select: the chosen one first, then matches of the search text.
pub async fn unit_choices(
    state: &AppState,
    c: &Chrome,
    text: &str,
    selected: &[Uuid],
    level: Option<AdminLevel>,
) -> Result<Vec<Choice>, StoreError> {
    let mut choices = Vec::new();
    for id in selected {
        if let Ok(unit) = state.store.admin_unit(*id).await {
            choices.push(unit_choice(c, &unit));
        }
    }
    if !text.trim().is_empty() {
        let found = state
            .store
            .search_admin_units(&AdminUnitQuery {
                text: Some(text.trim().to_owned()),
                level,
                limit: 30,
                ..AdminUnitQuery::default()
            })
            .await?;
        for unit in &found.items {
            if !selected.contains(&unit.unit.id) {
                choices.push(unit_choice(c, unit));
            }
        }
    }
    Ok(choices)
}

async fn render_form(state: &AppState, c: Chrome, f: Form, status: StatusCode) -> PageResult {
    let selected: Vec<Uuid> = Uuid::parse_str(f.v("admin_unit_id")).into_iter().collect();
    let units = unit_choices(state, &c, f.v("unit_q"), &selected, None)
        .await
        .or_page(&c)?;
    let kinds = OrgKind::ALL
        .iter()
        .map(|k| Choice::new(k.as_str(), c.org_kind(k)))
        .collect();
    Ok((status, FormTemplate { c, f, kinds, units }).into_response())
}

async fn new_form(State(state): State<AppState>, page: Page) -> PageResult {
    let c = page.c.titled("organisations", "org-new");
    if !page.actor.can_manage_reference_data() {
        return Err(PageError::forbidden(&c));
    }
    render_form(&state, c, Form::default(), StatusCode::OK).await
}

async fn edit_form(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    let c = page.c.titled("organisations", "org-edit");
    if !page.actor.can_manage_reference_data() {
        return Err(PageError::forbidden(&c));
    }
    let org = state.store.organisation(id).await.or_page(&c)?;
    let f = Form::with(&[
        ("name", org.organisation.name.clone()),
        ("kind", org.organisation.kind.as_str().into()),
        ("admin_unit_id", org.organisation.admin_unit_id.to_string()),
    ]);
    render_form(&state, c, f, StatusCode::OK).await
}

fn read(data: &FormData) -> Result<OrganisationInput, Vec<FieldError>> {
    let mut r = Reader::new(data);
    let kind = r.choice("kind", OrgKind::parse);
    let admin_unit_id = r.id("admin_unit_id");
    r.finish()?;
    Ok(OrganisationInput {
        name: data.get("name").to_owned(),
        kind: kind.expect("checked"),
        admin_unit_id: admin_unit_id.expect("checked"),
    })
}

async fn save(state: &AppState, page: Page, editing: Option<Uuid>, data: FormData) -> PageResult {
    let title = if editing.is_some() {
        "org-edit"
    } else {
        "org-new"
    };
    let c = page.c.titled("organisations", title);
    if data.has("find") {
        return render_form(state, c, Form::echo(data), StatusCode::OK).await;
    }
    let result = match read(&data) {
        Ok(input) => match editing {
            Some(id) => state
                .store
                .update_organisation(&page.actor, id, &input)
                .await
                .map(|_| "organisation-updated"),
            None => state
                .store
                .create_organisation(&page.actor, &input)
                .await
                .map(|_| "organisation-created"),
        },
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    let (status, errors) = match result {
        Ok(notice) => {
            let back = query_string("/organisations", &[("q", data.get("name"))]);
            return Ok(done(&back, notice));
        }
        Err(StoreError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(StoreError::Conflict(error)) => (StatusCode::CONFLICT, vec![error]),
        Err(other) => return Err(PageError::from_store(other, &c)),
    };
    let f = Form::refused(data, &errors, c.lang, FIELDS);
    render_form(state, c, f, status).await
}

async fn create(State(state): State<AppState>, page: Page, data: FormData) -> PageResult {
    save(&state, page, None, data).await
}

async fn update(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    save(&state, page, Some(id), data).await
}

// ---------------------------------------------------------------------------------------------
// Fragments for htmx: `<option>`s matching what was typed in a search box.

#[derive(Template, WebTemplate)]
#[template(path = "options.html")]
struct OptionsTemplate {
    placeholder: String,
    choices: Vec<Choice>,
}

/// The text typed in the search box: the first parameter named `q` or ending in `_q`.
fn search_text(q: &FormData) -> String {
    q.0.iter()
        .find(|(k, _)| k == "q" || k.ends_with("_q"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn options(lang: Lang, choices: Vec<Choice>) -> OptionsTemplate {
    let placeholder = if choices.is_empty() {
        lang.t("select-none-found")
    } else {
        lang.t_args(
            "select-found",
            &[("count", lang.number(choices.len() as i64))],
        )
    };
    OptionsTemplate {
        placeholder,
        choices,
    }
}

async fn organisation_options(
    State(state): State<AppState>,
    _caller: PageCaller,
    headers: axum::http::HeaderMap,
    uri: Uri,
) -> PageResult {
    let lang = Lang::from_headers(&headers);
    let c = Chrome::anonymous(lang, "");
    let text = search_text(&query_pairs(&uri));
    let choices = organisation_choices(&state, &text).await.or_page(&c)?;
    Ok(options(lang, choices).into_response())
}

async fn admin_unit_options(
    State(state): State<AppState>,
    _caller: PageCaller,
    headers: axum::http::HeaderMap,
    uri: Uri,
) -> PageResult {
    let lang = Lang::from_headers(&headers);
    let c = Chrome::anonymous(lang, "");
    let q = query_pairs(&uri);
    let level = AdminLevel::parse(q.get("level"));
    let choices = unit_choices(&state, &c, &search_text(&q), &[], level)
        .await
        .or_page(&c)?;
    Ok(options(lang, choices).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations", get(list))
        .route("/organisations/new", get(new_form).post(create))
        .route("/organisations/{id}/edit", get(edit_form).post(update))
        .route("/fragments/organisation-options", get(organisation_options))
        .route("/fragments/admin-unit-options", get(admin_unit_options))
}
