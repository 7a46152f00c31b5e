//! Clusters: the list, the detail page with its membership timeline, and the forms that change
//! members, board, rotation and regulation.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use lienhoan_domain::access::Actor;
use lienhoan_domain::cluster::{
    BoardMemberInput, BoardRole, ClusterInput, ClusterKind, MembershipInput, RegulationInput,
    RegulationVersion, RotationTurn,
};
use lienhoan_domain::format::parse_date;
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{
    ClusterDetail, ClusterSummary, MemberView, OrganisationQuery, RotationTurnView, StoreError,
};
use time::Date;
use uuid::Uuid;

use super::form::Reader;
use super::{Choice, Chrome, Form, FormData, OrPage, Page, PageError, PageResult, done, today};
use crate::AppState;

// ---------------------------------------------------------------------------------------------
// List and create

#[derive(Template, WebTemplate)]
#[template(path = "clusters.html")]
struct ListTemplate {
    c: Chrome,
    clusters: Vec<ClusterSummary>,
    can_create: bool,
}

async fn list(State(state): State<AppState>, page: Page) -> PageResult {
    let c = page.c.titled("clusters", "cluster-title");
    let clusters = state
        .store
        .list_clusters(&page.actor, today())
        .await
        .or_page(&c)?;
    Ok(ListTemplate {
        c,
        clusters,
        can_create: page.actor.can_create_clusters(),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "cluster_form.html")]
struct ClusterFormTemplate {
    c: Chrome,
    f: Form,
    /// The cluster being edited; `None` when creating.
    editing: Option<Uuid>,
    kinds: Vec<Choice>,
}

const CLUSTER_FIELDS: &[&str] = &["name", "kind", "founded_on", "description"];

fn kind_choices(c: &Chrome) -> Vec<Choice> {
    ClusterKind::ALL
        .iter()
        .map(|k| Choice::new(k.as_str(), c.cluster_kind(k)))
        .collect()
}

fn cluster_form(c: Chrome, f: Form, editing: Option<Uuid>) -> ClusterFormTemplate {
    ClusterFormTemplate {
        kinds: kind_choices(&c),
        c,
        f,
        editing,
    }
}

fn read_cluster(data: &FormData) -> Result<ClusterInput, Vec<FieldError>> {
    let mut r = Reader::new(data);
    let kind = r.choice("kind", ClusterKind::parse);
    let founded_on = r.date("founded_on");
    let name = r.text("name");
    let description = r.data.raw("description").trim().to_owned();
    r.finish()?;
    Ok(ClusterInput {
        name,
        kind: kind.expect("checked"),
        founded_on: founded_on.expect("checked"),
        description,
    })
}

async fn new_form(page: Page) -> PageResult {
    let c = page.c.titled("clusters", "cluster-new");
    if !page.actor.can_create_clusters() {
        return Err(PageError::forbidden(&c));
    }
    Ok(cluster_form(c, Form::default(), None).into_response())
}

/// Renders a refused form again, or the page error for anything that is not about the input.
fn refused<T: IntoResponse>(
    e: StoreError,
    c: &Chrome,
    render: impl FnOnce(&[FieldError]) -> T,
) -> PageResult {
    match e {
        StoreError::Invalid(errors) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&errors)).into_response())
        }
        StoreError::Conflict(error) => Ok((StatusCode::CONFLICT, render(&[error])).into_response()),
        other => Err(PageError::from_store(other, c)),
    }
}

async fn create(State(state): State<AppState>, page: Page, data: FormData) -> PageResult {
    let c = page.c.titled("clusters", "cluster-new");
    let result = match read_cluster(&data) {
        Ok(input) => state.store.create_cluster(&page.actor, &input).await,
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(cluster) => Ok(done(
            &format!("/clusters/{}", cluster.id),
            "cluster-created",
        )),
        Err(e) => refused(e, &c, |errors| {
            let f = Form::refused(data, errors, c.lang, CLUSTER_FIELDS);
            cluster_form(c.clone(), f, None)
        }),
    }
}

async fn edit_form(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    let c = page.c.titled("clusters", "cluster-edit");
    let d = state.store.cluster(&page.actor, id).await.or_page(&c)?;
    if !can_edit(&page.actor, &d) {
        return Err(PageError::forbidden(&c));
    }
    let f = Form::with(&[
        ("name", d.cluster.name.clone()),
        ("kind", d.cluster.kind.as_str().into()),
        ("founded_on", d.cluster.founded_on.to_string()),
        ("description", d.cluster.description.clone()),
    ]);
    Ok(cluster_form(c, f, Some(id)).into_response())
}

async fn edit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    let c = page.c.titled("clusters", "cluster-edit");
    let result = match read_cluster(&data) {
        Ok(input) => state.store.update_cluster(&page.actor, id, &input).await,
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(done(&format!("/clusters/{id}"), "cluster-updated")),
        Err(e) => refused(e, &c, |errors| {
            let f = Form::refused(data, errors, c.lang, CLUSTER_FIELDS);
            cluster_form(c.clone(), f, Some(id))
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// The membership timeline

/// A year mark on the timeline axis.
pub struct Tick {
    pub left: String,
    pub label: String,
}

pub struct TimelineRow {
    pub member: MemberView,
    pub state: &'static str,
    /// CSS `left` and `width` of the bar, in percent of the axis.
    pub left: String,
    pub width: String,
}

pub struct Timeline {
    pub start: Date,
    pub end: Date,
    pub ticks: Vec<Tick>,
    pub rows: Vec<TimelineRow>,
}

fn percent(value: f64) -> String {
    format!("{:.2}%", value.clamp(0.0, 100.0))
}

/// Lays memberships out on an axis from the founding day to today: each bar starts at its
/// joining day and ends at its leaving day, or today.
pub fn timeline(founded_on: Date, today: Date, members: Vec<MemberView>) -> Timeline {
    let start = founded_on.min(today);
    let end = today.max(start.next_day().unwrap_or(start));
    let total = (end - start).whole_days().max(1) as f64;
    let position = |day: Date| (day.clamp(start, end) - start).whole_days() as f64 / total * 100.0;
    let years = end.year() - start.year();
    let step = match years {
        0..=10 => 1,
        11..=25 => 2,
        _ => 5,
    };
    let ticks = ((start.year() + 1)..=end.year())
        .filter(|y| (y - start.year()) % step == 0)
        .filter_map(|y| Date::from_calendar_date(y, time::Month::January, 1).ok())
        .map(|day| Tick {
            left: percent(position(day)),
            label: day.year().to_string(),
        })
        .collect();
    let rows = members
        .into_iter()
        .map(|member| {
            let m = &member.membership;
            let from = position(m.joined_on);
            let to = position(m.left_on.unwrap_or(end));
            let width = (to - from).max(0.8);
            let from = from.min(100.0 - width);
            let state = if m.span().contains(today) {
                "active"
            } else if m.joined_on > today {
                "upcoming"
            } else {
                "left"
            };
            TimelineRow {
                left: percent(from),
                width: percent(width),
                state,
                member,
            }
        })
        .collect();
    Timeline {
        start,
        end,
        ticks,
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// The detail page

pub struct TurnRow {
    pub turn: RotationTurnView,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "cluster.html")]
struct DetailTemplate {
    c: Chrome,
    d: ClusterInfo,
    can_edit: bool,
    members_today: i64,
    timeline: Timeline,
    on: String,
    on_label: String,
    on_error: Option<String>,
    members_on: Vec<MemberView>,
    turns: Vec<TurnRow>,
    regulations: Vec<RegulationVersion>,
    board: Vec<lienhoan_store::BoardMemberView>,
    /// Organisations that are members today, for the board form.
    current_members: Vec<Choice>,
    /// Organisations to admit, filtered by the member form's search.
    org_choices: Vec<Choice>,
    forms: DetailForms,
}

/// The cluster's own fields, without the lists the page shows separately.
struct ClusterInfo {
    id: Uuid,
    name: String,
    kind: ClusterKind,
    founded_on: Date,
    description: String,
}

/// The forms of the detail page; one of them may come back refused.
#[derive(Default)]
struct DetailForms {
    member: Form,
    /// A refused departure, with the membership it was for.
    leave: Option<(Uuid, Form)>,
    board: Form,
    regulation: Form,
}

impl DetailTemplate {
    fn leave_form(&self, membership: &Uuid) -> Option<&Form> {
        self.forms
            .leave
            .as_ref()
            .filter(|(id, _)| id == membership)
            .map(|(_, f)| f)
    }
}

const MEMBER_FIELDS: &[&str] = &["organisation_id", "joined_on", "left_on", "note"];
const BOARD_FIELDS: &[&str] = &["person_name", "title", "role", "organisation_id"];
const REGULATION_FIELDS: &[&str] = &["title", "signed_on", "signatories", "body"];

fn member_today(actor: &Actor, d: &ClusterDetail, today: Date) -> bool {
    actor.organisation_id.is_some_and(|org| {
        d.members
            .iter()
            .any(|m| m.membership.organisation_id == org && m.membership.span().contains(today))
    })
}

/// Whether to show the editing forms; the store decides in the end.
fn can_edit(actor: &Actor, d: &ClusterDetail) -> bool {
    actor.can_edit_cluster(member_today(actor, d, today()))
}

fn org_label(name: &str, place: &str) -> String {
    if place.is_empty() || name.contains(place) {
        name.to_owned()
    } else {
        format!("{name} — {place}")
    }
}

pub async fn organisation_choices(state: &AppState, text: &str) -> Result<Vec<Choice>, StoreError> {
    let page = state
        .store
        .list_organisations(&OrganisationQuery {
            text: (!text.is_empty()).then(|| text.to_owned()),
            limit: 50,
            offset: 0,
        })
        .await?;
    Ok(page
        .items
        .iter()
        .map(|o| {
            Choice::new(
                o.organisation.id,
                org_label(&o.organisation.name, &o.admin_unit_name),
            )
        })
        .collect())
}

fn on_query(uri: &Uri) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "on")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

async fn render_detail(
    state: &AppState,
    page: Page,
    id: Uuid,
    on_text: Option<String>,
    forms: DetailForms,
    status: StatusCode,
) -> PageResult {
    let c = page.c.clone();
    let d = state.store.cluster(&page.actor, id).await.or_page(&c)?;
    let c = c.with_title("clusters", d.cluster.name.clone());
    let today = today();
    let (on, on_error) = match on_text.as_deref().map(|t| (t, parse_date(t))) {
        None => (today, None),
        Some((_, Some(day))) => (day, None),
        Some((_, None)) => (today, Some(c.t("error-date-format"))),
    };
    let members_on = state
        .store
        .members_on(&page.actor, id, on)
        .await
        .or_page(&c)?;
    let can_edit = can_edit(&page.actor, &d);
    let org_choices = if can_edit {
        organisation_choices(state, forms.member.v("org_q"))
            .await
            .or_page(&c)?
    } else {
        Vec::new()
    };
    let mut current_members: Vec<Choice> = Vec::new();
    for m in d
        .members
        .iter()
        .filter(|m| m.membership.span().contains(today))
    {
        if !current_members
            .iter()
            .any(|x| x.value == m.membership.organisation_id.to_string())
        {
            current_members.push(Choice::new(
                m.membership.organisation_id,
                m.organisation_name.clone(),
            ));
        }
    }
    let members_today = d
        .members
        .iter()
        .filter(|m| m.membership.span().contains(today))
        .count() as i64;
    let turns = d
        .rotation
        .iter()
        .map(|t| TurnRow {
            current: t.turn.starts_on <= today && today <= t.turn.ends_on,
            turn: t.clone(),
        })
        .collect();
    let ClusterDetail {
        cluster,
        members,
        board,
        regulations,
        ..
    } = d;
    let template = DetailTemplate {
        on: format!("{:04}-{:02}-{:02}", on.year(), on.month() as u8, on.day()),
        on_label: lienhoan_domain::format::date(on),
        on_error,
        timeline: timeline(cluster.founded_on, today, members),
        d: ClusterInfo {
            id: cluster.id,
            name: cluster.name,
            kind: cluster.kind,
            founded_on: cluster.founded_on,
            description: cluster.description,
        },
        can_edit,
        members_today,
        members_on,
        turns,
        regulations,
        board,
        current_members,
        org_choices,
        forms,
        c,
    };
    Ok((status, template).into_response())
}

async fn detail(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    uri: Uri,
) -> PageResult {
    render_detail(
        &state,
        page,
        id,
        on_query(&uri),
        DetailForms::default(),
        StatusCode::OK,
    )
    .await
}

/// After a refused form: the detail page again with that form filled in and its errors, or the
/// page error when the refusal is not about the input.
async fn detail_refused(
    state: &AppState,
    page: Page,
    id: Uuid,
    e: StoreError,
    forms: impl FnOnce(&[FieldError], crate::i18n::Lang) -> DetailForms,
) -> PageResult {
    let (status, errors) = match e {
        StoreError::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        StoreError::Conflict(error) => (StatusCode::CONFLICT, vec![error]),
        other => return Err(PageError::from_store(other, &page.c)),
    };
    let lang = page.c.lang;
    render_detail(state, page, id, None, forms(&errors, lang), status).await
}

fn read_membership(data: &FormData) -> Result<MembershipInput, Vec<FieldError>> {
    let mut r = Reader::new(data);
    let organisation_id = r.id("organisation_id");
    let joined_on = r.date("joined_on");
    let left_on = r.optional_date("left_on");
    let note = r.text("note");
    r.finish()?;
    Ok(MembershipInput {
        organisation_id: organisation_id.expect("checked"),
        joined_on: joined_on.expect("checked"),
        left_on,
        note,
    })
}

async fn add_member(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    if data.has("find") {
        // Without JavaScript the organisation search is a submit: show the choices.
        let forms = DetailForms {
            member: Form::echo(data),
            ..DetailForms::default()
        };
        return render_detail(&state, page, id, None, forms, StatusCode::OK).await;
    }
    let result = match read_membership(&data) {
        Ok(input) => state.store.add_member(&page.actor, id, &input).await,
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(done(&format!("/clusters/{id}#members"), "member-added")),
        Err(e) => {
            detail_refused(&state, page, id, e, |errors, lang| DetailForms {
                member: Form::refused(data, errors, lang, MEMBER_FIELDS),
                ..DetailForms::default()
            })
            .await
        }
    }
}

async fn record_departure(
    State(state): State<AppState>,
    page: Page,
    Path((id, membership_id)): Path<(Uuid, Uuid)>,
    data: FormData,
) -> PageResult {
    let d = state
        .store
        .cluster(&page.actor, id)
        .await
        .or_page(&page.c)?;
    let Some(existing) = d.members.iter().find(|m| m.membership.id == membership_id) else {
        return Err(PageError::not_found(&page.c));
    };
    let mut r = Reader::new(&data);
    let left_on = r.date("left_on");
    let result = match r.finish() {
        Ok(()) => {
            let m = &existing.membership;
            let input = MembershipInput {
                organisation_id: m.organisation_id,
                joined_on: m.joined_on,
                left_on,
                note: m.note.clone(),
            };
            state
                .store
                .update_member(&page.actor, id, membership_id, &input)
                .await
        }
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(done(&format!("/clusters/{id}#members"), "member-left")),
        Err(e) => {
            detail_refused(&state, page, id, e, |errors, lang| DetailForms {
                leave: Some((
                    membership_id,
                    Form::refused(data, errors, lang, &["left_on", "joined_on"]),
                )),
                ..DetailForms::default()
            })
            .await
        }
    }
}

async fn remove_member(
    State(state): State<AppState>,
    page: Page,
    Path((id, membership_id)): Path<(Uuid, Uuid)>,
) -> PageResult {
    state
        .store
        .remove_member(&page.actor, id, membership_id)
        .await
        .or_page(&page.c)?;
    Ok(done(&format!("/clusters/{id}#members"), "member-removed"))
}

async fn add_board_member(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    let mut r = Reader::new(&data);
    let role = r.choice("role", BoardRole::parse);
    let organisation_id = r.id("organisation_id");
    let result = match r.finish() {
        Ok(()) => {
            let input = BoardMemberInput {
                person_name: data.get("person_name").to_owned(),
                title: data.get("title").to_owned(),
                role: role.expect("checked"),
                organisation_id: organisation_id.expect("checked"),
            };
            state
                .store
                .add_board_member(&page.actor, id, &input)
                .await
                .map(|_| ())
        }
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(done(&format!("/clusters/{id}#board"), "board-added")),
        Err(e) => {
            detail_refused(&state, page, id, e, |errors, lang| DetailForms {
                board: Form::refused(data, errors, lang, BOARD_FIELDS),
                ..DetailForms::default()
            })
            .await
        }
    }
}

async fn remove_board_member(
    State(state): State<AppState>,
    page: Page,
    Path((id, board_member_id)): Path<(Uuid, Uuid)>,
) -> PageResult {
    state
        .store
        .remove_board_member(&page.actor, id, board_member_id)
        .await
        .or_page(&page.c)?;
    Ok(done(&format!("/clusters/{id}#board"), "board-removed"))
}

async fn add_regulation(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    let mut r = Reader::new(&data);
    let signed_on = r.date("signed_on");
    let result = match r.finish() {
        Ok(()) => {
            let input = RegulationInput {
                title: data.get("title").to_owned(),
                signed_on: signed_on.expect("checked"),
                signatories: data.lines("signatories"),
                body: data.raw("body").trim().to_owned(),
            };
            state
                .store
                .add_regulation(&page.actor, id, &input)
                .await
                .map(|_| ())
        }
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(done(
            &format!("/clusters/{id}#regulations"),
            "regulation-added",
        )),
        Err(e) => {
            detail_refused(&state, page, id, e, |errors, lang| DetailForms {
                regulation: Form::refused(data, errors, lang, REGULATION_FIELDS),
                ..DetailForms::default()
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The rotation schedule

#[derive(Template, WebTemplate)]
#[template(path = "rotation.html")]
struct RotationTemplate {
    c: Chrome,
    cluster_id: Uuid,
    cluster_name: String,
    f: Form,
    rows: Vec<usize>,
    hosts: Vec<Choice>,
}

impl RotationTemplate {
    fn field(&self, i: &usize, name: &str) -> String {
        format!("turns[{i}].{name}")
    }
}

fn hosts(d: &ClusterDetail) -> Vec<Choice> {
    let mut hosts: Vec<Choice> = Vec::new();
    for m in &d.members {
        let id = m.membership.organisation_id.to_string();
        if !hosts.iter().any(|h| h.value == id) {
            hosts.push(Choice::new(id, m.organisation_name.clone()));
        }
    }
    hosts
}

async fn rotation_form(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
) -> PageResult {
    let c = page.c.titled("clusters", "rotation-edit");
    let d = state.store.cluster(&page.actor, id).await.or_page(&c)?;
    if !can_edit(&page.actor, &d) {
        return Err(PageError::forbidden(&c));
    }
    let mut values = Vec::new();
    for (i, t) in d.rotation.iter().enumerate() {
        values.push((
            format!("turns[{i}].organisation_id"),
            t.turn.organisation_id.to_string(),
        ));
        values.push((
            format!("turns[{i}].starts_on"),
            t.turn.starts_on.to_string(),
        ));
        values.push((format!("turns[{i}].ends_on"), t.turn.ends_on.to_string()));
    }
    let rows = d.rotation.len() + 1;
    values.push(("rows".into(), rows.to_string()));
    let f = Form::echo(FormData(values));
    Ok(RotationTemplate {
        hosts: hosts(&d),
        cluster_id: id,
        cluster_name: d.cluster.name,
        rows: (0..rows).collect(),
        f,
        c,
    }
    .into_response())
}

const MAX_ROWS: usize = 100;

async fn save_rotation(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    let c = page.c.titled("clusters", "rotation-edit");
    let d = state.store.cluster(&page.actor, id).await.or_page(&c)?;
    let rows: usize = data.get("rows").parse().unwrap_or(1).clamp(1, MAX_ROWS);
    let render = |f: Form, rows: usize| RotationTemplate {
        hosts: hosts(&d),
        cluster_id: id,
        cluster_name: d.cluster.name.clone(),
        rows: (0..rows).collect(),
        f,
        c: c.clone(),
    };
    if data.has("add_row") {
        let mut data = data.clone();
        let rows = (rows + 1).min(MAX_ROWS);
        data.0.retain(|(k, _)| k != "rows");
        data.0.push(("rows".into(), rows.to_string()));
        return Ok(render(Form::echo(data), rows).into_response());
    }
    // Read the filled rows; remember where each came from to put errors back on its row.
    let mut r = Reader::new(&data);
    let mut turns = Vec::new();
    let mut origin = Vec::new();
    for i in 0..rows {
        let org = format!("turns[{i}].organisation_id");
        let start = format!("turns[{i}].starts_on");
        let end = format!("turns[{i}].ends_on");
        if [&org, &start, &end].iter().all(|f| data.get(f).is_empty()) {
            continue;
        }
        let (o, s, e) = (r.id(&org), r.date(&start), r.date(&end));
        if let (Some(organisation_id), Some(starts_on), Some(ends_on)) = (o, s, e) {
            turns.push(RotationTurn {
                organisation_id,
                starts_on,
                ends_on,
            });
            origin.push(i);
        }
    }
    let errors = match r.finish() {
        Err(errors) => errors,
        Ok(()) => match state.store.set_rotation(&page.actor, id, &turns).await {
            Ok(_) => return Ok(done(&format!("/clusters/{id}#rotation"), "rotation-saved")),
            Err(StoreError::Invalid(errors)) => errors
                .into_iter()
                .map(|mut e| {
                    e.field = renumber(&e.field, &origin);
                    e
                })
                .collect(),
            Err(StoreError::Conflict(error)) => vec![error],
            Err(other) => return Err(PageError::from_store(other, &c)),
        },
    };
    let f = Form::refused(data, &errors, c.lang, &["turns["]);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(f, rows)).into_response())
}

/// `turns[k].x` of the submitted list back to `turns[i].x` of the form's rows. Errors the
/// form itself found already carry row numbers; the store's refer to the filled rows only.
fn renumber(field: &str, origin: &[usize]) -> String {
    let Some(rest) = field.strip_prefix("turns[") else {
        return field.to_owned();
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return field.to_owned();
    };
    match index.parse::<usize>().ok().and_then(|k| origin.get(k)) {
        Some(row) => format!("turns[{row}]{tail}"),
        None => field.to_owned(),
    }
}

/// A GET of a form's action address (a reload, or the language switch after a refused form)
/// goes to the cluster page the form belongs to.
async fn to_cluster(uri: Uri) -> Redirect {
    let id = uri.path().split('/').nth(2).unwrap_or_default();
    match Uuid::parse_str(id) {
        Ok(id) => Redirect::to(&format!("/clusters/{id}")),
        Err(_) => Redirect::to("/clusters"),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clusters", get(list))
        .route("/clusters/new", get(new_form).post(create))
        .route("/clusters/{id}", get(detail))
        .route("/clusters/{id}/edit", get(edit_form).post(edit))
        .route("/clusters/{id}/members", post(add_member).get(to_cluster))
        .route(
            "/clusters/{id}/members/{membership_id}/leave",
            post(record_departure).get(to_cluster),
        )
        .route(
            "/clusters/{id}/members/{membership_id}/remove",
            post(remove_member).get(to_cluster),
        )
        .route(
            "/clusters/{id}/board",
            post(add_board_member).get(to_cluster),
        )
        .route(
            "/clusters/{id}/board/{board_member_id}/remove",
            post(remove_board_member).get(to_cluster),
        )
        .route(
            "/clusters/{id}/rotation",
            get(rotation_form).post(save_rotation),
        )
        .route(
            "/clusters/{id}/regulations",
            post(add_regulation).get(to_cluster),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lienhoan_domain::cluster::Membership;
    use time::macros::date;

    fn member(joined: Date, left: Option<Date>) -> MemberView {
        MemberView {
            membership: Membership {
                id: Uuid::now_v7(),
                cluster_id: Uuid::nil(),
                organisation_id: Uuid::nil(),
                joined_on: joined,
                left_on: left,
                note: String::new(),
            },
            organisation_name: "X".into(),
            admin_unit_name: "Y".into(),
        }
    }

    #[test]
    fn bars_are_placed_between_founding_and_today() {
        let founded = date!(2018 - 01 - 01);
        let today = date!(2022 - 01 - 01);
        let t = timeline(
            founded,
            today,
            vec![
                member(founded, None),
                member(date!(2020 - 01 - 01), Some(date!(2021 - 01 - 01))),
                member(date!(2021 - 12 - 31), None),
            ],
        );
        assert_eq!(t.rows[0].left, "0.00%");
        assert_eq!(t.rows[0].width, "100.00%");
        assert_eq!(t.rows[0].state, "active");
        assert_eq!(t.rows[1].left, "49.97%");
        assert_eq!(t.rows[1].state, "left");
        // A member since yesterday still shows a visible sliver, inside the axis.
        assert_eq!(t.rows[2].width, "0.80%");
        assert_eq!(t.rows[2].left, "99.20%");
        let labels: Vec<_> = t.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["2019", "2020", "2021", "2022"]);
    }

    #[test]
    fn rotation_errors_go_back_to_their_rows() {
        assert_eq!(
            renumber("turns[1].starts_on", &[0, 2]),
            "turns[2].starts_on"
        );
        assert_eq!(renumber("turns[5].x", &[0]), "turns[5].x");
        assert_eq!(renumber("name", &[0]), "name");
    }
}
