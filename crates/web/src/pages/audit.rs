//! The audit log for auditors and administrators, and the chain check.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use lienhoan_domain::audit::ChainBreak;
use lienhoan_domain::format::parse_date;
use lienhoan_store::{AuditQuery, AuditView};

use super::organisations::{offset_of, query_pairs};
use super::{Chrome, FormData, OrPage, Page, PageError, PageResult, Pager, query_string};
use crate::AppState;

const PAGE_SIZE: i64 = 50;
/// Characters of a summary shown before it folds.
const SUMMARY_SHOWN: usize = 100;

/// The outcome of a chain check, as shown.
pub struct Verification {
    pub intact: bool,
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditTemplate {
    c: Chrome,
    action: String,
    actor: String,
    from: String,
    to: String,
    from_error: Option<String>,
    to_error: Option<String>,
    entries: Vec<AuditView>,
    pager: Pager,
    verification: Option<Verification>,
}

impl AuditTemplate {
    fn summary(&self, entry: &AuditView) -> String {
        entry.summary.to_string()
    }

    /// The start of a long summary, for a one-line table cell; `None` when it is short.
    fn summary_start(&self, entry: &AuditView) -> Option<String> {
        let text = entry.summary.to_string();
        (text.chars().count() > SUMMARY_SHOWN)
            .then(|| text.chars().take(SUMMARY_SHOWN).chain(['…']).collect())
    }

    fn target(&self, entry: &AuditView) -> String {
        match entry.target_id {
            Some(id) => format!("{} {}", entry.target_kind, id),
            None => entry.target_kind.clone(),
        }
    }
}

fn iso(text: &str) -> String {
    parse_date(text)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day()))
        .unwrap_or_else(|| text.to_owned())
}

async fn render(
    state: &AppState,
    page: Page,
    params: FormData,
    verification: Option<Verification>,
) -> PageResult {
    let c = page.c.titled("audit", "audit-title");
    if !page.actor.can_read_audit() {
        return Err(PageError::forbidden(&c));
    }
    let action = params.get("action").to_owned();
    let actor = params.get("actor").to_owned();
    let (from_text, to_text) = (params.get("from"), params.get("to"));
    let from = parse_date(from_text);
    let to = parse_date(to_text);
    let bad = |text: &str, parsed: Option<time::Date>| {
        (!text.is_empty() && parsed.is_none()).then(|| c.t("error-date-format"))
    };
    let (from_error, to_error) = (bad(from_text, from), bad(to_text, to));
    let offset = offset_of(&params);
    let result = state
        .store
        .audit_log(
            &page.actor,
            &AuditQuery {
                action: (!action.is_empty()).then(|| action.clone()),
                actor_name: (!actor.is_empty()).then(|| actor.clone()),
                target_id: None,
                from,
                to,
                limit: PAGE_SIZE,
                offset,
            },
        )
        .await
        .or_page(&c)?;
    let (from, to) = (iso(from_text), iso(to_text));
    let pager = Pager::new(
        &query_string(
            "/audit",
            &[
                ("action", &action),
                ("actor", &actor),
                ("from", &from),
                ("to", &to),
            ],
        ),
        &result,
        PAGE_SIZE,
        offset,
    );
    Ok(AuditTemplate {
        c,
        action,
        actor,
        from,
        to,
        from_error,
        to_error,
        entries: result.items,
        pager,
        verification,
    }
    .into_response())
}

async fn list(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    render(&state, page, query_pairs(&uri), None).await
}

async fn verify(State(state): State<AppState>, page: Page) -> PageResult {
    if !page.actor.can_read_audit() {
        return Err(PageError::forbidden(&page.c));
    }
    let c = &page.c;
    let outcome = state.store.verify_audit(&|_| {}).await.or_page(c)?;
    let verification = match outcome {
        Ok(count) => Verification {
            intact: true,
            message: c.t1("audit-intact", "count", c.num(&(count as i64))),
        },
        Err(ChainBreak::Altered { seq }) => Verification {
            intact: false,
            message: c.t1("audit-broken-altered", "seq", seq),
        },
        Err(ChainBreak::Broken { seq }) => Verification {
            intact: false,
            message: c.t1("audit-broken-broken", "seq", seq),
        },
        Err(ChainBreak::Truncated {
            last_seq,
            expected_seq,
        }) => Verification {
            intact: false,
            message: c.t2(
                "audit-broken-truncated",
                "last",
                last_seq,
                "expected",
                expected_seq,
            ),
        },
    };
    render(&state, page, FormData::default(), Some(verification)).await
}

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list)).route(
        "/audit/verify",
        post(verify).get(|| async { Redirect::to("/audit") }),
    )
}
