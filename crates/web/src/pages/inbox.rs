//! Information exchange: received and sent messages, composing a bulletin or a request, and a
//! message with its recipients' acknowledgements and answers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use lienhoan_domain::exchange::{AnswerInput, MessageInput, MessageKind};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{MessageQuery, MessageView, StoreError};
use uuid::Uuid;

use super::form::Reader;
use super::organisations::{offset_of, query_pairs};
use super::{
    Choice, Chrome, Form, FormData, OrPage, Page, PageError, PageResult, Pager, done, today,
};
use crate::AppState;

const PAGE_SIZE: i64 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
struct ListTemplate {
    c: Chrome,
    sent: bool,
    messages: Vec<MessageView>,
    pager: Pager,
}

async fn list(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    let c = page.c.titled("inbox", "inbox-title");
    if !page.actor.can_exchange() {
        return Err(PageError::forbidden(&c));
    }
    let q = query_pairs(&uri);
    let sent = q.get("box") == "sent";
    let offset = offset_of(&q);
    let result = state
        .store
        .messages(
            &page.actor,
            &MessageQuery {
                sent,
                limit: PAGE_SIZE,
                offset,
            },
        )
        .await
        .or_page(&c)?;
    let base = if sent { "/inbox?box=sent" } else { "/inbox" };
    Ok(ListTemplate {
        pager: Pager::new(base, &result, PAGE_SIZE, offset),
        c,
        sent,
        messages: result.items,
    }
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// Composing

/// A cluster the actor's organisation is a member of today, with its other current members.
pub struct ClusterChoice {
    pub id: String,
    pub name: String,
    pub members: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox_new.html")]
struct NewTemplate {
    c: Chrome,
    f: Form,
    clusters: Vec<ClusterChoice>,
    incident: Option<(Uuid, String)>,
}

const FIELDS: &[&str] = &[
    "kind",
    "cluster_id",
    "title",
    "body",
    "addressees",
    "deadline",
];

async fn member_clusters(state: &AppState, page: &Page) -> Result<Vec<ClusterChoice>, StoreError> {
    let Some(own) = page.actor.organisation_id else {
        return Ok(Vec::new());
    };
    let today = today();
    let mut out = Vec::new();
    for summary in state.store.list_clusters(&page.actor, today).await? {
        let members = state
            .store
            .members_on(&page.actor, summary.cluster.id, today)
            .await?;
        if !members.iter().any(|m| m.membership.organisation_id == own) {
            continue;
        }
        out.push(ClusterChoice {
            id: summary.cluster.id.to_string(),
            name: summary.cluster.name,
            members: members
                .iter()
                .filter(|m| m.membership.organisation_id != own)
                .map(|m| Choice::new(m.membership.organisation_id, m.organisation_name.clone()))
                .collect(),
        });
    }
    Ok(out)
}

async fn render_new(state: &AppState, page: &Page, f: Form, status: StatusCode) -> PageResult {
    let c = page.c.clone().titled("inbox", "inbox-new");
    if !page.actor.can_exchange() {
        return Err(PageError::forbidden(&c));
    }
    let clusters = member_clusters(state, page).await.or_page(&c)?;
    let incident = match Uuid::parse_str(f.v("incident_id")) {
        Ok(id) => state.store.incident(&page.actor, id).await.ok().map(|v| {
            (
                id,
                format!(
                    "{} · {} · {}",
                    c.category(&v.incident.input.category),
                    c.instant(&v.incident.input.occurred_at),
                    v.commune_name
                ),
            )
        }),
        Err(_) => None,
    };
    Ok((
        status,
        NewTemplate {
            c,
            f,
            clusters,
            incident,
        },
    )
        .into_response())
}

async fn new_form(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    let q = query_pairs(&uri);
    let mut values = vec![(
        "kind",
        if q.has("incident") {
            "request"
        } else {
            "bulletin"
        }
        .to_owned(),
    )];
    if q.has("incident") {
        values.push(("incident_id", q.get("incident").to_owned()));
    }
    render_new(&state, &page, Form::with(&values), StatusCode::OK).await
}

fn read_message(data: &FormData) -> Result<MessageInput, Vec<FieldError>> {
    let mut r = Reader::new(data);
    let kind = r.choice("kind", MessageKind::parse);
    let cluster_id = r.id("cluster_id");
    let deadline = r.optional_date("deadline");
    let incident_id = r.optional_id("incident_id");
    let mut addressees = Vec::new();
    for value in data.all("addressees") {
        // Each checkbox is "cluster:organisation"; only those of the chosen cluster count.
        let (cluster, org) = value.split_once(':').unwrap_or(("", value));
        if cluster.is_empty() || cluster == data.get("cluster_id") {
            match Uuid::parse_str(org) {
                Ok(id) if !addressees.contains(&id) => addressees.push(id),
                Ok(_) => {}
                Err(_) => r
                    .errors
                    .push(FieldError::new("addressees", "error-required")),
            }
        }
    }
    r.finish()?;
    let kind = kind.expect("checked");
    Ok(MessageInput {
        kind,
        cluster_id: cluster_id.expect("checked"),
        title: data.get("title").to_owned(),
        body: data.raw("body").trim().to_owned(),
        addressees: if kind == MessageKind::Request {
            addressees
        } else {
            Vec::new()
        },
        deadline: if kind == MessageKind::Request {
            deadline
        } else {
            None
        },
        incident_id,
    })
}

async fn send(State(state): State<AppState>, page: Page, data: FormData) -> PageResult {
    let result = match read_message(&data) {
        Ok(input) => state.store.send_message(&page.actor, &input).await,
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(m) => Ok(done(&format!("/inbox/{}", m.id), "message-sent")),
        Err(StoreError::Invalid(errors)) => {
            let f = Form::refused(data, &errors, page.c.lang, FIELDS);
            render_new(&state, &page, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StoreError::Conflict(error)) => {
            let f = Form::refused(data, &[error], page.c.lang, FIELDS);
            render_new(&state, &page, f, StatusCode::CONFLICT).await
        }
        Err(e) => Err(PageError::from_store(e, &page.c)),
    }
}

// ---------------------------------------------------------------------------------------------
// One message

#[derive(Template, WebTemplate)]
#[template(path = "inbox_message.html")]
struct MessageTemplate {
    c: Chrome,
    msg: MessageView,
    /// The actor's organisation's own recipient entry, when it is addressed.
    own: Option<lienhoan_store::RecipientView>,
    answer_form: Form,
}

async fn render_message(state: &AppState, page: &Page, id: Uuid, answer_form: Form) -> PageResult {
    let m = state
        .store
        .message(&page.actor, id)
        .await
        .or_page(&page.c)?;
    let c = page.c.clone().with_title("inbox", m.title.clone());
    let own = page.actor.organisation_id.and_then(|org| {
        m.recipients
            .iter()
            .find(|r| r.organisation_id == org)
            .cloned()
    });
    let status = if answer_form.failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        MessageTemplate {
            c,
            msg: m,
            own,
            answer_form,
        },
    )
        .into_response())
}

async fn show(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    render_message(&state, &page, id, Form::default()).await
}

async fn acknowledge(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
) -> PageResult {
    state
        .store
        .acknowledge_message(&page.actor, id)
        .await
        .or_page(&page.c)?;
    Ok(done(&format!("/inbox/{id}"), "message-acknowledged"))
}

async fn answer(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
    data: FormData,
) -> PageResult {
    let input = AnswerInput {
        answer: data.raw("answer").trim().to_owned(),
    };
    match state.store.answer_message(&page.actor, id, &input).await {
        Ok(()) => Ok(done(&format!("/inbox/{id}"), "message-answered")),
        Err(StoreError::Invalid(errors)) => {
            let f = Form::refused(data, &errors, page.c.lang, &["answer"]);
            render_message(&state, &page, id, f).await
        }
        Err(e) => Err(PageError::from_store(e, &page.c)),
    }
}

async fn to_message(Path(id): Path<Uuid>) -> Redirect {
    Redirect::to(&format!("/inbox/{id}"))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(list))
        .route("/inbox/new", get(new_form).post(send))
        .route("/inbox/{id}", get(show))
        .route("/inbox/{id}/acknowledge", post(acknowledge).get(to_message))
        .route("/inbox/{id}/answer", post(answer).get(to_message))
}
