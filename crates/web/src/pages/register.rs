//! The supervised-person register: need-to-know, every read audited by the store. The list
//! with search, adding a person, a person's record with the movement notice form, and the
//! movement notices sent and received.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use lienhoan_domain::geo::AdminLevel;
use lienhoan_domain::register::{DecisionType, MovementInput, PersonInput};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{MovementView, PersonQuery, PersonView, StoreError};
use uuid::Uuid;

use super::clusters::organisation_choices;
use super::form::Reader;
use super::organisations::{offset_of, query_pairs, unit_choices};
use super::{
    Choice, Chrome, Form, FormData, OrPage, Page, PageError, PageResult, Pager, done, query_string,
    today,
};
use crate::AppState;

const PAGE_SIZE: i64 = 50;

fn guard(page: &Page, c: &Chrome) -> Result<(), PageError> {
    if page.actor.can_use_register() {
        Ok(())
    } else {
        Err(PageError::forbidden(c))
    }
}

fn decision_choices(c: &Chrome) -> Vec<Choice> {
    DecisionType::ALL
        .iter()
        .map(|d| Choice::new(d.as_str(), c.decision(d)))
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
struct ListTemplate {
    c: Chrome,
    q: String,
    persons: Vec<PersonView>,
    pager: Pager,
    f: Form,
    decisions: Vec<Choice>,
    communes: Vec<Choice>,
}

const PERSON_FIELDS: &[&str] = &[
    "full_name",
    "birth_year",
    "identity_number",
    "home_commune_id",
    "decision_type",
    "decision_number",
    "issuing_body",
    "starts_on",
    "ends_on",
];

async fn render_list(
    state: &AppState,
    page: &Page,
    q: String,
    offset: i64,
    f: Form,
    status: StatusCode,
) -> PageResult {
    let c = page.c.clone().titled("register", "register-title");
    guard(page, &c)?;
    let result = state
        .store
        .list_persons(
            &page.actor,
            &PersonQuery {
                text: Some(q.clone()).filter(|t| !t.is_empty()),
                limit: PAGE_SIZE,
                offset,
            },
        )
        .await
        .or_page(&c)?;
    let selected: Vec<Uuid> = Uuid::parse_str(f.v("home_commune_id"))
        .into_iter()
        .collect();
    let communes = unit_choices(
        state,
        &c,
        f.v("home_q"),
        &selected,
        Some(AdminLevel::Commune),
    )
    .await
    .or_page(&c)?;
    let base = query_string("/register", &[("q", q.as_str())]);
    Ok((
        status,
        ListTemplate {
            pager: Pager::new(&base, &result, PAGE_SIZE, offset),
            decisions: decision_choices(&c),
            c,
            q,
            persons: result.items,
            f,
            communes,
        },
    )
        .into_response())
}

async fn list(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    let q = query_pairs(&uri);
    let text = q.get("q").to_owned();
    render_list(
        &state,
        &page,
        text,
        offset_of(&q),
        Form::default(),
        StatusCode::OK,
    )
    .await
}

fn read_person(data: &FormData) -> Result<PersonInput, Vec<FieldError>> {
    let mut r = Reader::new(data);
    let birth_year = match data.get("birth_year").parse::<i32>() {
        Ok(y) => Some(y),
        Err(_) => {
            r.errors
                .push(FieldError::new("birth_year", "error-birth-year"));
            None
        }
    };
    let home = r.id("home_commune_id");
    let decision = r.choice("decision_type", DecisionType::parse);
    let starts_on = r.date("starts_on");
    let ends_on = r.date("ends_on");
    r.finish()?;
    Ok(PersonInput {
        full_name: data.get("full_name").to_owned(),
        birth_year: birth_year.expect("checked"),
        identity_number: Some(data.get("identity_number").to_owned()).filter(|s| !s.is_empty()),
        home_commune_id: home.expect("checked"),
        decision_type: decision.expect("checked"),
        decision_number: data.get("decision_number").to_owned(),
        issuing_body: data.get("issuing_body").to_owned(),
        starts_on: starts_on.expect("checked"),
        ends_on: ends_on.expect("checked"),
    })
}

async fn add(State(state): State<AppState>, page: Page, data: FormData) -> PageResult {
    guard(&page, &page.c)?;
    if data.has("find") {
        return render_list(
            &state,
            &page,
            String::new(),
            0,
            Form::echo(data),
            StatusCode::OK,
        )
        .await;
    }
    let result = match read_person(&data) {
        Ok(input) => state.store.add_person(&page.actor, &input).await,
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(p) => Ok(done(&format!("/register/{}", p.id), "person-added")),
        Err(StoreError::Invalid(errors)) => {
            let f = Form::refused(data, &errors, page.c.lang, PERSON_FIELDS);
            render_list(
                &state,
                &page,
                String::new(),
                0,
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::from_store(e, &page.c)),
    }
}

// ---------------------------------------------------------------------------------------------
// A person and movements

#[derive(Template, WebTemplate)]
#[template(path = "register_person.html")]
struct PersonTemplate {
    c: Chrome,
    p: PersonView,
    f: Form,
    organisations: Vec<Choice>,
}

const MOVEMENT_FIELDS: &[&str] = &["to_organisation_id", "moved_on", "destination", "note"];

async fn render_person(
    state: &AppState,
    page: &Page,
    id: Uuid,
    f: Form,
    status: StatusCode,
) -> PageResult {
    guard(page, &page.c)?;
    let p = state.store.person(&page.actor, id).await.or_page(&page.c)?;
    let c = page
        .c
        .clone()
        .with_title("register", p.person.full_name.clone());
    let organisations = organisation_choices(state, f.v("org_q"))
        .await
        .or_page(&c)?
        .into_iter()
        .filter(|o| {
            Some(o.value.as_str()) != page.actor.organisation_id.map(|u| u.to_string()).as_deref()
        })
        .collect();
    Ok((
        status,
        PersonTemplate {
            c,
            p,
            f,
            organisations,
        },
    )
        .into_response())
}

async fn person(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    let f = Form::with(&[("moved_on", today().to_string())]);
    render_person(&state, &page, id, f, StatusCode::OK).await
}

async fn notify(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    guard(&page, &page.c)?;
    if data.has("find") {
        return render_person(&state, &page, id, Form::echo(data), StatusCode::OK).await;
    }
    let mut r = Reader::new(&data);
    let to = r.id("to_organisation_id");
    let moved_on = r.date("moved_on");
    let result = match r.finish() {
        Ok(()) => {
            let input = MovementInput {
                person_id: id,
                to_organisation_id: to.expect("checked"),
                moved_on: moved_on.expect("checked"),
                destination: data.get("destination").to_owned(),
                note: data.raw("note").trim().to_owned(),
            };
            state.store.notify_movement(&page.actor, &input).await
        }
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(done("/register/movements", "movement-sent")),
        Err(StoreError::Invalid(errors)) => {
            let f = Form::refused(data, &errors, page.c.lang, MOVEMENT_FIELDS);
            render_person(&state, &page, id, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(PageError::from_store(e, &page.c)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "register_movements.html")]
struct MovementsTemplate {
    c: Chrome,
    sections: Vec<MovementSection>,
}

pub struct MovementSection {
    pub heading: &'static str,
    pub incoming: bool,
    pub list: Vec<MovementView>,
}

async fn movements(State(state): State<AppState>, page: Page) -> PageResult {
    let c = page.c.clone().titled("register", "register-movements");
    guard(&page, &c)?;
    let all = state.store.movements(&page.actor).await.or_page(&c)?;
    let own = page.actor.organisation_id;
    let (sent, received) = all
        .into_iter()
        .partition(|m| Some(m.from_organisation_id) == own);
    let sections = vec![
        MovementSection {
            heading: "inbox-received",
            incoming: true,
            list: received,
        },
        MovementSection {
            heading: "inbox-sent",
            incoming: false,
            list: sent,
        },
    ];
    Ok(MovementsTemplate { c, sections }.into_response())
}

async fn acknowledge(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
) -> PageResult {
    guard(&page, &page.c)?;
    state
        .store
        .acknowledge_movement(&page.actor, id)
        .await
        .or_page(&page.c)?;
    Ok(done("/register/movements", "movement-acknowledged"))
}

async fn to_movements() -> Redirect {
    Redirect::to("/register/movements")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/register", get(list).post(add))
        .route("/register/movements", get(movements))
        .route(
            "/register/movements/{id}/acknowledge",
            post(acknowledge).get(to_movements),
        )
        .route("/register/{id}", get(person))
        .route("/register/{id}/movements", post(notify))
}
