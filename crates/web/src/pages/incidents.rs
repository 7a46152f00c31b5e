//! Incidents: the filtered list (refreshed live), the recording form, the detail page with its
//! history and threads, deletion, and importing a filled template.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use lienhoan_domain::access::Actor;
use lienhoan_domain::format::{VIETNAM_OFFSET, parse_date};
use lienhoan_domain::geo::AdminLevel;
use lienhoan_domain::incident::{
    CATEGORIES, CATEGORY_GROUPS, IncidentInput, Outcome, Status, category_by_code,
};
use lienhoan_domain::validation::FieldError;
use lienhoan_import::incidents::{ImportError, import};
use lienhoan_store::{
    AdminUnitQuery, AuditView, IncidentQuery, IncidentView, MessageView, StoreError,
};
use serde_json::Value;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};
use uuid::Uuid;

use super::clusters::organisation_choices;
use super::form::Reader;
use super::organisations::{offset_of, query_pairs};
use super::{
    Choice, Chrome, Form, FormData, OrPage, Page, PageError, PageResult, Pager, done, query_string,
    today,
};
use crate::AppState;
/// Imports may carry tens of thousands of rows (as the API allows).
const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

pub const PAGE_SIZE: i64 = 50;

/// Categories under their group, for `<optgroup>`s.
pub struct CategoryGroup {
    pub code: &'static str,
    pub label: String,
    pub items: Vec<Choice>,
}

pub fn category_groups(c: &Chrome) -> Vec<CategoryGroup> {
    CATEGORY_GROUPS
        .iter()
        .map(|group| CategoryGroup {
            code: group,
            label: c.category_group(group),
            items: CATEGORIES
                .iter()
                .filter(|cat| cat.group == *group)
                .map(|cat| Choice::new(cat.code, c.t(&cat.label_key())))
                .collect(),
        })
        .collect()
}

fn status_choices(c: &Chrome) -> Vec<Choice> {
    Status::ALL
        .iter()
        .map(|s| Choice::new(s.as_str(), c.status(s)))
        .collect()
}

fn outcome_choices(c: &Chrome) -> Vec<Choice> {
    Outcome::ALL
        .iter()
        .map(|o| Choice::new(o.as_str(), c.outcome(o)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Template, WebTemplate)]
#[template(path = "incidents.html")]
struct ListTemplate {
    c: Chrome,
    f: Form,
    rows: Vec<IncidentView>,
    pager: Pager,
    /// The list region's address for live refreshes.
    fragment: String,
    filter_error: Option<String>,
    organisations: Vec<Choice>,
    clusters: Vec<Choice>,
    categories: Vec<CategoryGroup>,
    statuses: Vec<Choice>,
    outcomes: Vec<Choice>,
    can_create: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents_fragment.html")]
struct ListFragment {
    c: Chrome,
    rows: Vec<IncidentView>,
    pager: Pager,
}

const FILTERS: &[&str] = &[
    "from",
    "to",
    "organisation",
    "cluster",
    "category",
    "status",
    "outcome",
    "q",
];

async fn list(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    let c = page.c.titled("incidents", "incident-title");
    let q = query_pairs(&uri);
    let mut r = Reader::new(&q);
    let from = r.optional_date("from");
    let to = r.optional_date("to");
    let organisation_id = r.optional_id("organisation");
    let cluster_id = r.optional_id("cluster");
    let filter_error = r.finish().err().map(|_| c.t("error-date-format"));
    let query = IncidentQuery {
        from,
        to,
        organisation_id,
        cluster_id,
        category: Some(q.get("category").to_owned()).filter(|s| !s.is_empty()),
        status: Status::parse(q.get("status")),
        outcome: Outcome::parse(q.get("outcome")),
        text: Some(q.get("q").to_owned()).filter(|s| !s.is_empty()),
        limit: PAGE_SIZE,
        offset: offset_of(&q),
    };
    let result = state
        .store
        .list_incidents(&page.actor, &query)
        .await
        .or_page(&c)?;
    let pairs: Vec<(&str, &str)> = FILTERS.iter().map(|k| (*k, q.get(k))).collect();
    let base = query_string("/incidents", &pairs);
    let pager = Pager::new(&base, &result, PAGE_SIZE, query.offset);
    if q.get("fragment") == "1" {
        return Ok(ListFragment {
            c,
            rows: result.items,
            pager,
        }
        .into_response());
    }
    let mut fragment_pairs = pairs.clone();
    let offset = query.offset.to_string();
    if query.offset > 0 {
        fragment_pairs.push(("offset", &offset));
    }
    fragment_pairs.push(("fragment", "1"));
    let fragment = query_string("/incidents", &fragment_pairs);
    let clusters = state
        .store
        .list_clusters(&page.actor, today())
        .await
        .or_page(&c)?
        .into_iter()
        .map(|s| Choice::new(s.cluster.id, s.cluster.name))
        .collect();
    let mut organisations = organisation_choices(&state, "").await.or_page(&c)?;
    if let Some(id) = organisation_id
        && !organisations.iter().any(|o| o.value == id.to_string())
        && let Ok(o) = state.store.organisation(id).await
    {
        organisations.insert(0, Choice::new(id, o.organisation.name));
    }
    let can_create = page.actor.role == lienhoan_domain::access::Role::Admin
        || page
            .actor
            .organisation_id
            .is_some_and(|org| page.actor.can_write_incident(org));
    Ok(ListTemplate {
        categories: category_groups(&c),
        statuses: status_choices(&c),
        outcomes: outcome_choices(&c),
        f: Form::echo(q),
        rows: result.items,
        pager,
        fragment,
        filter_error,
        organisations,
        clusters,
        can_create,
        c,
    }
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// The form

#[derive(Template, WebTemplate)]
#[template(path = "incident_form.html")]
struct FormTemplate {
    c: Chrome,
    f: Form,
    editing: Option<Uuid>,
    /// The owning organisation, once known.
    owner: Option<(Uuid, String)>,
    /// Organisations an administrator may record for.
    org_choices: Vec<Choice>,
    communes: Vec<Choice>,
    /// The chosen commune; the only one when the area has one.
    commune_selected: String,
    categories: Vec<CategoryGroup>,
    statuses: Vec<Choice>,
    outcomes: Vec<Choice>,
}

const FIELDS: &[&str] = &[
    "commune_id",
    "occurred_at",
    "reported_at",
    "category",
    "status",
    "outcome",
    "outcome_people",
    "suspects",
    "victims",
    "deaths",
    "injured",
    "damage_vnd",
    "place",
    "narrative",
    "latitude",
    "longitude",
    "organisation_id",
];

/// `2024-03-15T14:30` for an `<input type=datetime-local>`, in Vietnam time.
pub fn local_input(at: OffsetDateTime) -> String {
    let l = at.to_offset(VIETNAM_OFFSET);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        l.year(),
        l.month() as u8,
        l.day(),
        l.hour(),
        l.minute()
    )
}

/// Reads `yyyy-mm-ddTHH:MM` (browsers) or `dd/mm/yyyy HH:MM` (typed) as Vietnam time.
pub fn parse_local(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (day, clock) = text
        .split_once('T')
        .or_else(|| text.split_once(' '))
        .unwrap_or((text, "00:00"));
    let day: Date = parse_date(day)?;
    let mut parts = clock.trim().split(':');
    let hour: u8 = parts.next()?.parse().ok()?;
    let minute: u8 = parts.next().unwrap_or("0").parse().ok()?;
    let second: u8 = parts
        .next()
        .map(|s| s.split('.').next().unwrap_or("0"))
        .unwrap_or("0")
        .parse()
        .ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(day, time).assume_offset(VIETNAM_OFFSET))
}

/// A count typed in a field: empty is zero; dots, commas and spaces between digits are
/// thousands separators.
fn count(r: &mut Reader, name: &str) -> i64 {
    let text: String = r
        .data
        .get(name)
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' ' | '\u{a0}'))
        .collect();
    if text.is_empty() {
        return 0;
    }
    match text.parse::<i64>() {
        Ok(v) => v,
        Err(_) => {
            r.errors.push(FieldError::new(name, "error-import-number"));
            0
        }
    }
}

fn coordinate(r: &mut Reader, name: &str) -> Option<f64> {
    let text = r.data.get(name).replace(',', ".");
    if text.is_empty() {
        return None;
    }
    let parsed = text.parse::<f64>().ok();
    if parsed.is_none() {
        r.errors
            .push(FieldError::new(name, "error-outside-vietnam"));
    }
    parsed
}

fn instant(r: &mut Reader, name: &str) -> Option<OffsetDateTime> {
    let value = r.data.get(name);
    if value.is_empty() {
        r.errors.push(FieldError::new(name, "error-required"));
        return None;
    }
    let parsed = parse_local(value);
    if parsed.is_none() {
        r.errors
            .push(FieldError::new(name, "error-import-datetime"));
    }
    parsed
}

fn read_incident(data: &FormData) -> Result<IncidentInput, Vec<FieldError>> {
    let mut r = Reader::new(data);
    let commune_id = r.id("commune_id");
    let occurred_at = instant(&mut r, "occurred_at");
    let reported_at = instant(&mut r, "reported_at");
    let category = r.text("category");
    if category_by_code(&category).is_none() {
        r.errors
            .push(FieldError::new("category", "error-unknown-category"));
    }
    let status = r.choice("status", Status::parse);
    let outcome = r.choice("outcome", Outcome::parse);
    let outcome_people = count(&mut r, "outcome_people");
    let suspects = count(&mut r, "suspects");
    let victims = count(&mut r, "victims");
    let deaths = count(&mut r, "deaths");
    let injured = count(&mut r, "injured");
    let damage_vnd = count(&mut r, "damage_vnd");
    let latitude = coordinate(&mut r, "latitude");
    let longitude = coordinate(&mut r, "longitude");
    let place = r.text("place");
    let narrative = data.raw("narrative").trim().to_owned();
    let cross_border = data.has("cross_border");
    let shared = Some(data.has("shared"));
    r.finish()?;
    Ok(IncidentInput {
        commune_id: commune_id.expect("checked"),
        place,
        latitude,
        longitude,
        occurred_at: occurred_at.expect("checked"),
        reported_at: reported_at.expect("checked"),
        category,
        suspects,
        victims,
        deaths,
        injured,
        damage_vnd,
        narrative,
        status: status.expect("checked"),
        outcome: outcome.expect("checked"),
        outcome_people,
        cross_border,
        shared,
    })
}

/// The communes of an organisation's area: its own commune, or those below its district or
/// province (as the store checks them).
pub async fn area_communes(
    state: &AppState,
    c: &Chrome,
    organisation_id: Uuid,
) -> Result<Vec<Choice>, StoreError> {
    let org = state.store.organisation(organisation_id).await?;
    let unit = state
        .store
        .admin_unit(org.organisation.admin_unit_id)
        .await?;
    let below = |parent: Uuid, level: AdminLevel| AdminUnitQuery {
        parent_id: Some(parent),
        level: Some(level),
        limit: 500,
        ..AdminUnitQuery::default()
    };
    let label = |u: &lienhoan_store::AdminUnitView| {
        let mut label = u.full_name.clone();
        if !u.parent_path.is_empty() {
            label.push_str(", ");
            label.push_str(&u.parent_path);
        }
        label
    };
    let mut choices = Vec::new();
    match unit.unit.level {
        AdminLevel::Commune => choices.push(Choice::new(unit.unit.id, label(&unit))),
        AdminLevel::District => {
            let page = state
                .store
                .search_admin_units(&below(unit.unit.id, AdminLevel::Commune))
                .await?;
            choices.extend(page.items.iter().map(|u| Choice::new(u.unit.id, label(u))));
        }
        AdminLevel::Province => {
            // Communes directly under the province (after 2025) and under its districts.
            let direct = state
                .store
                .search_admin_units(&below(unit.unit.id, AdminLevel::Commune))
                .await?;
            choices.extend(
                direct
                    .items
                    .iter()
                    .map(|u| Choice::new(u.unit.id, label(u))),
            );
            let districts = state
                .store
                .search_admin_units(&below(unit.unit.id, AdminLevel::District))
                .await?;
            for d in &districts.items {
                let page = state
                    .store
                    .search_admin_units(&below(d.unit.id, AdminLevel::Commune))
                    .await?;
                choices.extend(page.items.iter().map(|u| Choice::new(u.unit.id, label(u))));
            }
        }
    }
    let _ = c;
    Ok(choices)
}

/// The owner of a new incident: the actor's organisation, or for an administrator the one
/// chosen in the form.
fn owner_of(actor: &Actor, f: &Form) -> Option<Uuid> {
    if actor.role == lienhoan_domain::access::Role::Admin {
        Uuid::parse_str(f.v("organisation_id")).ok()
    } else {
        actor.organisation_id
    }
}

async fn render_form(
    state: &AppState,
    page: &Page,
    f: Form,
    editing: Option<(Uuid, Uuid)>,
    status: StatusCode,
) -> PageResult {
    let title = if editing.is_some() {
        "incident-edit"
    } else {
        "incident-new"
    };
    let c = page.c.clone().titled("incidents", title);
    let owner_id = match editing {
        Some((_, org)) => Some(org),
        None => owner_of(&page.actor, &f),
    };
    let is_admin = page.actor.role == lienhoan_domain::access::Role::Admin;
    let org_choices = if is_admin && editing.is_none() {
        organisation_choices(state, f.v("org_q"))
            .await
            .or_page(&c)?
    } else {
        Vec::new()
    };
    let (owner, communes) = match owner_id {
        Some(id) => {
            let org = state.store.organisation(id).await.or_page(&c)?;
            let communes = area_communes(state, &c, id).await.or_page(&c)?;
            (Some((id, org.organisation.name)), communes)
        }
        None => (None, Vec::new()),
    };
    let commune_selected = match communes.as_slice() {
        [only] if f.v("commune_id").is_empty() => only.value.clone(),
        _ => f.v("commune_id").to_owned(),
    };
    Ok((
        status,
        FormTemplate {
            commune_selected,
            categories: category_groups(&c),
            statuses: status_choices(&c),
            outcomes: outcome_choices(&c),
            c,
            f,
            editing: editing.map(|(id, _)| id),
            owner,
            org_choices,
            communes,
        },
    )
        .into_response())
}

async fn new_form(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    let q = query_pairs(&uri);
    let mut values = vec![
        ("reported_at", local_input(OffsetDateTime::now_utc())),
        ("status", "received".to_owned()),
        ("outcome", "none".to_owned()),
    ];
    if q.has("organisation_id") {
        values.push(("organisation_id", q.get("organisation_id").to_owned()));
        values.push(("org_q", q.get("org_q").to_owned()));
    }
    let f = Form::with(&values);
    if let Some(org) = owner_of(&page.actor, &f)
        && !page.actor.can_write_incident(org)
    {
        return Err(PageError::forbidden(&page.c));
    }
    if page.actor.organisation_id.is_none()
        && page.actor.role != lienhoan_domain::access::Role::Admin
    {
        return Err(PageError::forbidden(&page.c));
    }
    render_form(&state, &page, f, None, StatusCode::OK).await
}

async fn create(State(state): State<AppState>, page: Page, data: FormData) -> PageResult {
    let f = Form::echo(data.clone());
    if data.has("find") || data.has("choose") {
        return render_form(&state, &page, f, None, StatusCode::OK).await;
    }
    let result = match (owner_of(&page.actor, &f), read_incident(&data)) {
        (None, Ok(_)) => Err(StoreError::invalid("organisation_id", "error-required")),
        (None, Err(mut errors)) => {
            errors.push(FieldError::new("organisation_id", "error-required"));
            Err(StoreError::Invalid(errors))
        }
        (Some(org), Ok(input)) => state.store.create_incident(&page.actor, org, &input).await,
        (Some(_), Err(errors)) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(incident) => Ok(done(
            &format!("/incidents/{}", incident.id),
            "incident-created",
        )),
        Err(e) => refused(&state, &page, data, e, None).await,
    }
}

async fn refused(
    state: &AppState,
    page: &Page,
    data: FormData,
    e: StoreError,
    editing: Option<(Uuid, Uuid)>,
) -> PageResult {
    let (status, errors) = match e {
        StoreError::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        StoreError::Conflict(error) => (StatusCode::CONFLICT, vec![error]),
        other => return Err(PageError::from_store(other, &page.c)),
    };
    let f = Form::refused(data, &errors, page.c.lang, FIELDS);
    render_form(state, page, f, editing, status).await
}

fn values_of(v: &IncidentView) -> Vec<(&'static str, String)> {
    let i = &v.incident.input;
    let mut values = vec![
        ("commune_id", i.commune_id.to_string()),
        ("occurred_at", local_input(i.occurred_at)),
        ("reported_at", local_input(i.reported_at)),
        ("category", i.category.clone()),
        ("status", i.status.as_str().to_owned()),
        ("outcome", i.outcome.as_str().to_owned()),
        ("outcome_people", i.outcome_people.to_string()),
        ("suspects", i.suspects.to_string()),
        ("victims", i.victims.to_string()),
        ("deaths", i.deaths.to_string()),
        ("injured", i.injured.to_string()),
        ("damage_vnd", i.damage_vnd.to_string()),
        ("place", i.place.clone()),
        ("narrative", i.narrative.clone()),
        (
            "latitude",
            i.latitude.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "longitude",
            i.longitude.map(|v| v.to_string()).unwrap_or_default(),
        ),
    ];
    if i.cross_border {
        values.push(("cross_border", "1".into()));
    }
    if v.shared {
        values.push(("shared", "1".into()));
    }
    values
}

async fn edit_form(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    let v = state
        .store
        .incident(&page.actor, id)
        .await
        .or_page(&page.c)?;
    let org = v.incident.organisation_id;
    if !page.actor.can_write_incident(org) {
        return Err(PageError::forbidden(&page.c));
    }
    let f = Form::with(&values_of(&v));
    render_form(&state, &page, f, Some((id, org)), StatusCode::OK).await
}

async fn update(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    let v = state
        .store
        .incident(&page.actor, id)
        .await
        .or_page(&page.c)?;
    let editing = Some((id, v.incident.organisation_id));
    let result = match read_incident(&data) {
        Ok(input) => state.store.update_incident(&page.actor, id, &input).await,
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(done(&format!("/incidents/{id}"), "incident-updated")),
        Err(e) => refused(&state, &page, data, e, editing).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The detail page

/// One changed field in a history entry.
pub struct FieldChange {
    pub label: String,
    pub before: String,
    pub after: String,
}

pub struct HistoryRow {
    pub entry: AuditView,
    pub action: String,
    pub changes: Vec<FieldChange>,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incident.html")]
struct DetailTemplate {
    c: Chrome,
    v: IncidentView,
    history: Vec<HistoryRow>,
    threads: Vec<MessageView>,
    can_edit: bool,
    can_delete: bool,
    can_exchange: bool,
    delete_form: Form,
}

fn field_label(c: &Chrome, field: &str) -> String {
    match field {
        "commune_id" => c.t("incident-commune"),
        "shared" => c.t("incident-shared"),
        "latitude" => c.t("incident-latitude"),
        "longitude" => c.t("incident-longitude"),
        other => c.t(&format!("import-column-{}", other.replace('_', "-"))),
    }
}

fn field_value(c: &Chrome, field: &str, value: &Value) -> String {
    match (field, value) {
        (_, Value::Null) => "—".into(),
        (_, Value::Bool(b)) => c.yes_no(b),
        ("category", Value::String(s)) => c.category(s),
        ("status", Value::String(s)) => Status::parse(s).map_or(s.clone(), |s| c.status(&s)),
        ("outcome", Value::String(s)) => Outcome::parse(s).map_or(s.clone(), |o| c.outcome(&o)),
        ("occurred_at" | "reported_at", Value::String(s)) => {
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(|t| c.instant(&t))
                .unwrap_or_else(|_| s.clone())
        }
        ("damage_vnd", Value::Number(n)) => n.as_i64().map_or(n.to_string(), |v| c.money(&v)),
        (_, Value::Number(n)) => n.as_i64().map_or(n.to_string(), |v| c.num(&v)),
        (_, Value::String(s)) if s.is_empty() => "—".into(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

const HIDDEN_FIELDS: &[&str] = &["id", "organisation_id", "created_at", "updated_at"];

/// Which fields an audit entry changed, before → after.
fn changes(
    c: &Chrome,
    entry: &AuditView,
    communes: &std::collections::HashMap<String, String>,
) -> Vec<FieldChange> {
    let s = &entry.summary;
    let empty = serde_json::Map::new();
    let before = s["before"].as_object().unwrap_or(&empty);
    let after = s["after"].as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = after.keys().chain(before.keys()).collect();
    keys.dedup();
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for key in keys {
        if HIDDEN_FIELDS.contains(&key.as_str()) || seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let b = before.get(key).unwrap_or(&Value::Null);
        let a = after.get(key).unwrap_or(&Value::Null);
        // A creation lists only what was filled in; an update what differs.
        let show = if entry.action == "incident.create" {
            !matches!(a, Value::Null | Value::Bool(false))
                && a != &Value::from(0)
                && a != &Value::from("")
        } else {
            a != b
        };
        if show {
            let named = |v: &Value| match (key.as_str(), v.as_str()) {
                ("commune_id", Some(id)) => communes.get(id).cloned(),
                _ => None,
            };
            out.push(FieldChange {
                label: field_label(c, key),
                before: if before.is_empty() {
                    String::new()
                } else {
                    named(b).unwrap_or_else(|| field_value(c, key, b))
                },
                after: named(a).unwrap_or_else(|| field_value(c, key, a)),
            });
        }
    }
    if entry.action == "incident.update"
        && let (Some(now), Some(was)) = (s["shared"].as_bool(), before.get("shared"))
        && was.as_bool().is_some_and(|w| w != now)
    {
        out.push(FieldChange {
            label: field_label(c, "shared"),
            before: field_value(c, "shared", was),
            after: c.yes_no(&now),
        });
    }
    out
}

async fn render_detail(state: &AppState, page: &Page, id: Uuid, delete_form: Form) -> PageResult {
    let v = state
        .store
        .incident(&page.actor, id)
        .await
        .or_page(&page.c)?;
    let c = page.c.clone().with_title(
        "incidents",
        format!(
            "{} · {}",
            page.c.category(&v.incident.input.category),
            page.c.instant(&v.incident.input.occurred_at)
        ),
    );
    let entries = state
        .store
        .incident_history(&page.actor, id)
        .await
        .or_page(&c)?;
    // Communes are shown by name.
    let mut communes = std::collections::HashMap::new();
    for e in &entries {
        for side in ["before", "after"] {
            if let Some(text) = e.summary[side]["commune_id"].as_str()
                && !communes.contains_key(text)
                && let Ok(uid) = Uuid::parse_str(text)
                && let Ok(unit) = state.store.admin_unit(uid).await
            {
                communes.insert(text.to_owned(), unit.full_name);
            }
        }
    }
    let history = entries
        .into_iter()
        .map(|entry| HistoryRow {
            action: c.t(&format!(
                "incident-action-{}",
                entry.action.replace('.', "-")
            )),
            changes: changes(&c, &entry, &communes),
            reason: entry.summary["reason"].as_str().unwrap_or("").to_owned(),
            entry,
        })
        .collect();
    let threads = if page.actor.can_exchange() || page.actor.can_read_audit() {
        state
            .store
            .incident_messages(&page.actor, id)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let org = v.incident.organisation_id;
    let status = if delete_form.failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        DetailTemplate {
            can_edit: page.actor.can_write_incident(org),
            can_delete: page.actor.can_delete_incident(org),
            can_exchange: page.actor.can_exchange(),
            c,
            v,
            history,
            threads,
            delete_form,
        },
    )
        .into_response())
}

async fn detail(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    render_detail(&state, &page, id, Form::default()).await
}

async fn delete(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    match state
        .store
        .delete_incident(&page.actor, id, data.get("reason"))
        .await
    {
        Ok(()) => Ok(done("/incidents", "incident-deleted")),
        Err(StoreError::Invalid(errors)) => {
            let f = Form::refused(data, &errors, page.c.lang, &["reason"]);
            render_detail(&state, &page, id, f).await
        }
        Err(e) => Err(PageError::from_store(e, &page.c)),
    }
}

// ---------------------------------------------------------------------------------------------
// Import

pub struct CellRow {
    pub line: usize,
    pub column: String,
    pub message: String,
    pub value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incident_import.html")]
struct ImportTemplate {
    c: Chrome,
    errors: Vec<CellRow>,
    /// A problem with the file as a whole.
    problem: Option<String>,
    imported: Option<i64>,
    is_admin: bool,
    org_choices: Vec<Choice>,
    organisation_id: String,
}

async fn import_page(
    state: &AppState,
    page: &Page,
    status: StatusCode,
    errors: Vec<CellRow>,
    problem: Option<String>,
    imported: Option<i64>,
    organisation_id: String,
) -> PageResult {
    let c = page.c.clone().titled("incidents", "import-title");
    let is_admin = page.actor.role == lienhoan_domain::access::Role::Admin;
    let org_choices = if is_admin {
        organisation_choices(state, "").await.or_page(&c)?
    } else {
        Vec::new()
    };
    Ok((
        status,
        ImportTemplate {
            c,
            errors,
            problem,
            imported,
            is_admin,
            org_choices,
            organisation_id,
        },
    )
        .into_response())
}

async fn import_form(State(state): State<AppState>, page: Page) -> PageResult {
    if page.actor.organisation_id.is_none()
        && page.actor.role != lienhoan_domain::access::Role::Admin
    {
        return Err(PageError::forbidden(&page.c));
    }
    import_page(
        &state,
        &page,
        StatusCode::OK,
        vec![],
        None,
        None,
        String::new(),
    )
    .await
}

async fn import_upload(
    State(state): State<AppState>,
    page: Page,
    mut multipart: Multipart,
) -> PageResult {
    let mut bytes = Vec::new();
    let mut organisation = String::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("file") => {
                bytes = field
                    .bytes()
                    .await
                    .map_err(|_| {
                        PageError::new(StatusCode::BAD_REQUEST, "problem-invalid", &page.c)
                    })?
                    .to_vec();
            }
            Some("organisation_id") => {
                organisation = field.text().await.unwrap_or_default().trim().to_owned();
            }
            _ => {}
        }
    }
    let lang = page.c.lang;
    let owner = if page.actor.role == lienhoan_domain::access::Role::Admin {
        Uuid::parse_str(&organisation).ok()
    } else {
        page.actor.organisation_id
    };
    let owner = match owner {
        None => Err("import-choose-organisation"),
        Some(_) if bytes.is_empty() => Err("error-import-empty"),
        Some(owner) => Ok(owner),
    };
    let owner = match owner {
        Ok(owner) => owner,
        Err(problem) => {
            return import_page(
                &state,
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![],
                Some(lang.t(problem)),
                None,
                organisation,
            )
            .await;
        }
    };
    match import(state.store.as_ref(), &page.actor, owner, &bytes, &|_| {}).await {
        Ok(count) => {
            import_page(
                &state,
                &page,
                StatusCode::OK,
                vec![],
                None,
                Some(count as i64),
                organisation,
            )
            .await
        }
        Err(ImportError::Cells(cells)) => {
            let rows = cells
                .iter()
                .map(|e| CellRow {
                    line: e.line,
                    column: e.column.clone(),
                    message: lang.t_args(e.key, &e.args),
                    value: e.value.clone(),
                })
                .collect();
            import_page(
                &state,
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
                rows,
                None,
                None,
                organisation,
            )
            .await
        }
        Err(ImportError::Unreadable(detail)) => {
            let problem = lang.t_args("error-import-unreadable", &[("detail", detail)]);
            import_page(
                &state,
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![],
                Some(problem),
                None,
                organisation,
            )
            .await
        }
        Err(ImportError::Store(e)) => Err(PageError::from_store(e, &page.c)),
    }
}

async fn to_list() -> Redirect {
    Redirect::to("/incidents")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(list))
        .route("/incidents/new", get(new_form).post(create))
        .route(
            "/incidents/import",
            get(import_form)
                .post(import_upload)
                .layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/incidents/{id}", get(detail))
        .route("/incidents/{id}/edit", get(edit_form).post(update))
        .route("/incidents/{id}/delete", post(delete).get(to_list))
}
