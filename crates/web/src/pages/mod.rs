//! Server-rendered pages for browsers: askama templates, htmx for small enhancements, every
//! form working without JavaScript. Handlers translate HTTP to store calls, like the API.

mod audit;
mod clusters;
mod form;
mod geo;
mod home;
mod inbox;
mod incidents;
mod login;
mod organisations;
mod register;
mod statistics;
mod users;

#[cfg(test)]
mod tests;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use lienhoan_domain::access::{Actor, Role};
use lienhoan_domain::cluster::{BoardRole, ClusterKind};
use lienhoan_domain::geo::{AdminLevel, dataset_validity};
use lienhoan_domain::incident::{Outcome, Status};
use lienhoan_domain::organisation::OrgKind;
use lienhoan_domain::register::DecisionType;
use lienhoan_store::{AdminUnitView, StoreError};
use time::{Date, OffsetDateTime};

use crate::AppState;
use crate::auth::{PageCaller, PageRejection};
use crate::i18n::Lang;
use crate::problem::{ApiError, request_lang};

pub use form::{Form, FormData};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(home::router())
        .merge(geo::router())
        .merge(organisations::router())
        .merge(clusters::router())
        .merge(users::router())
        .merge(audit::router())
        .merge(incidents::router())
        .merge(statistics::router())
        .merge(inbox::router())
        .merge(register::router())
        .fallback(not_found)
}

/// Success notices that may be shown after a redirect (`?ok=member-added`); anything else in
/// the query is ignored rather than looked up.
const NOTICES: &[&str] = &[
    "unit-added",
    "alias-added",
    "organisation-created",
    "organisation-updated",
    "cluster-created",
    "cluster-updated",
    "member-added",
    "member-left",
    "member-removed",
    "board-added",
    "board-removed",
    "rotation-saved",
    "regulation-added",
    "user-created",
    "user-disabled",
    "user-enabled",
    "password-changed",
    "incident-created",
    "incident-updated",
    "incident-deleted",
    "message-sent",
    "message-acknowledged",
    "message-answered",
    "person-added",
    "movement-sent",
    "movement-acknowledged",
];

/// The signed-in user as the page header shows them.
#[derive(Clone)]
pub struct UserChrome {
    pub display_name: String,
    pub role: Role,
    pub can_audit: bool,
    /// Sends and receives bulletins and requests (and so has an inbox).
    pub can_exchange: bool,
    pub can_register: bool,
    /// Messages to the user's organisation not yet opened by the user.
    pub unread: i64,
}

/// What every page's layout needs: language, user, where we are, a notice.
#[derive(Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub user: Option<UserChrome>,
    /// Path and query of this page, for the language switch to come back to.
    pub here: String,
    /// Which navigation entry is current.
    pub section: &'static str,
    pub title: String,
    pub notice: Option<String>,
}

impl Chrome {
    pub fn anonymous(lang: Lang, here: &str) -> Self {
        Self {
            lang,
            user: None,
            here: here.to_owned(),
            section: "",
            title: String::new(),
            notice: None,
        }
    }

    pub fn titled(mut self, section: &'static str, title_key: &str) -> Self {
        self.section = section;
        self.title = self.lang.t(title_key);
        self
    }

    pub fn with_title(mut self, section: &'static str, title: String) -> Self {
        self.section = section;
        self.title = title;
        self
    }

    // Helpers called from templates.

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    pub fn t1(&self, key: &str, name: &str, value: impl ToString) -> String {
        self.lang.t_args(key, &[(name, value.to_string())])
    }

    pub fn t2(
        &self,
        key: &str,
        n1: &str,
        v1: impl ToString,
        n2: &str,
        v2: impl ToString,
    ) -> String {
        self.lang
            .t_args(key, &[(n1, v1.to_string()), (n2, v2.to_string())])
    }

    pub fn date(&self, day: &Date) -> String {
        lienhoan_domain::format::date(*day)
    }

    pub fn instant(&self, at: &OffsetDateTime) -> String {
        lienhoan_domain::format::instant(*at)
    }

    pub fn num(&self, value: &i64) -> String {
        self.lang.number(*value)
    }

    /// A number that is a lower bound when `capped`: "1.000+".
    pub fn at_least(&self, value: &i64, capped: &bool) -> String {
        let number = self.num(value);
        if *capped {
            format!("{number}+")
        } else {
            number
        }
    }

    pub fn role(&self, role: &Role) -> String {
        self.lang.t(&format!("role-{}", role.as_str()))
    }

    pub fn org_kind(&self, kind: &OrgKind) -> String {
        self.lang.t(&format!("org-kind-{}", kind.as_str()))
    }

    pub fn cluster_kind(&self, kind: &ClusterKind) -> String {
        self.lang.t(&format!("cluster-kind-{}", kind.as_str()))
    }

    pub fn level(&self, level: &AdminLevel) -> String {
        self.lang.t(&format!("level-{}", level.as_str()))
    }

    pub fn board_role(&self, role: &BoardRole) -> String {
        self.lang.t(&format!("board-role-{}", role.as_str()))
    }

    pub fn board_roles(&self) -> Vec<Choice> {
        BoardRole::ALL
            .iter()
            .map(|r| Choice::new(r.as_str(), self.board_role(r)))
            .collect()
    }

    /// "đang là thành viên", "đã rời cụm" or "sắp tham gia".
    pub fn member_state(&self, state: &str) -> String {
        self.lang.t(&format!("member-state-{state}"))
    }

    pub fn dataset(&self, dataset: &str) -> String {
        match dataset {
            "2024" | "2025" | "historical" => self.lang.t(&format!("dataset-{dataset}")),
            other => other.to_owned(),
        }
    }

    /// "01/01/2018 – 29/02/2020", with shipped datasets' implicit ranges filled in.
    pub fn validity(&self, unit: &AdminUnitView) -> String {
        let (default_from, default_to) = dataset_validity(&unit.unit.dataset);
        let from = unit.unit.valid_from.or(default_from);
        let to = unit.unit.valid_to.or(default_to);
        let d = lienhoan_domain::format::date;
        match (from, to) {
            (Some(f), Some(t)) => format!("{} – {}", d(f), d(t)),
            (Some(f), None) => self.t1("geo-valid-from", "from", d(f)),
            (None, Some(t)) => self.t1("geo-valid-to", "to", d(t)),
            (None, None) => self.t("geo-valid-always"),
        }
    }

    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "en",
            Lang::En => "vi",
        }
    }

    /// The language switch link, coming back to this page.
    pub fn lang_href(&self) -> String {
        format!(
            "/lang/{}?next={}",
            self.other_lang(),
            url_encode(&self.here)
        )
    }

    pub fn nav_current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }

    pub fn can_audit(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.can_audit)
    }

    pub fn can_exchange(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.can_exchange)
    }

    pub fn can_register(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.can_register)
    }

    pub fn unread(&self) -> i64 {
        self.user.as_ref().map_or(0, |u| u.unread)
    }

    pub fn unread_label(&self) -> String {
        self.lang.number(self.unread())
    }

    /// A category's label from its code; unknown codes are shown as they are.
    pub fn category(&self, code: &str) -> String {
        match lienhoan_domain::incident::category_by_code(code) {
            Some(cat) => self.lang.t(&cat.label_key()),
            None => code.to_owned(),
        }
    }

    /// The group code of a category code.
    pub fn category_group_of(&self, code: &str) -> &'static str {
        lienhoan_domain::incident::category_by_code(code).map_or("other", |c| c.group)
    }

    pub fn category_group(&self, group: &str) -> String {
        self.lang.t(&format!("group-{}", group.replace('_', "-")))
    }

    pub fn status(&self, status: &Status) -> String {
        self.lang.t(&format!("status-{}", status.as_str()))
    }

    pub fn outcome(&self, outcome: &Outcome) -> String {
        self.lang.t(&format!("outcome-{}", outcome.as_str()))
    }

    pub fn decision(&self, decision: &DecisionType) -> String {
        self.lang
            .t(&format!("decision-{}", decision.as_str().replace('_', "-")))
    }

    pub fn message_kind(&self, kind: &lienhoan_domain::exchange::MessageKind) -> String {
        self.lang.t(&format!("inbox-kind-{}", kind.as_str()))
    }

    pub fn yes_no(&self, value: &bool) -> String {
        self.lang.t(if *value { "value-yes" } else { "value-no" })
    }

    /// Whole đồng with the language's separator: "5.000.000 đ".
    pub fn money(&self, value: &i64) -> String {
        format!("{} đ", self.lang.number(*value))
    }
}

/// A signed-in page request: the actor, their session, and the page chrome.
pub struct Page {
    pub actor: Actor,
    pub token: String,
    pub c: Chrome,
}

fn notice_from(uri: &Uri, lang: Lang) -> Option<String> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "ok")
        .and_then(|(_, v)| NOTICES.iter().find(|n| **n == v).copied())
        .map(|key| lang.t(&format!("ok-{key}")))
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::from_headers(&parts.headers);
        let here = if matches!(parts.method, Method::GET | Method::HEAD) {
            parts
                .uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "/".into())
        } else {
            // A form shown again after a POST: its address is the page the form was on.
            login::referer_path(&parts.headers).unwrap_or_else(|| "/".into())
        };
        let PageCaller(caller) = match PageCaller::from_request_parts(parts, state).await {
            Ok(c) => c,
            Err(PageRejection::Error(e)) => {
                return Err(PageError::from_api(e, Chrome::anonymous(lang, &here)).into_response());
            }
            Err(rejection) => return Err(rejection.into_response()),
        };
        let actor = caller.actor;
        let display_name = state
            .store
            .user_by_username(&actor, &actor.username)
            .await
            .map(|u| u.display_name)
            .unwrap_or_else(|_| actor.username.clone());
        // One counting query; the badge is not worth failing the page for.
        let unread = if actor.can_exchange() {
            state.store.unread_count(&actor).await.unwrap_or(0)
        } else {
            0
        };
        let c = Chrome {
            lang,
            user: Some(UserChrome {
                display_name,
                role: actor.role,
                can_audit: actor.can_read_audit(),
                can_exchange: actor.can_exchange(),
                can_register: actor.can_use_register(),
                unread,
            }),
            here,
            section: "",
            title: String::new(),
            notice: notice_from(&parts.uri, lang),
        };
        Ok(Page {
            actor,
            token: caller.token,
            c,
        })
    }
}

/// An error shown as a page in the user's language.
pub struct PageError {
    pub status: StatusCode,
    pub title_key: &'static str,
    /// Boxed: errors travel through every handler's `Result`, which should stay small.
    pub chrome: Box<Chrome>,
}

impl PageError {
    pub fn new(status: StatusCode, title_key: &'static str, chrome: &Chrome) -> Self {
        Self {
            status,
            title_key,
            chrome: Box::new(chrome.clone()),
        }
    }

    pub fn not_found(c: &Chrome) -> Self {
        Self::new(StatusCode::NOT_FOUND, "problem-not-found", c)
    }

    pub fn forbidden(c: &Chrome) -> Self {
        Self::new(StatusCode::FORBIDDEN, "problem-forbidden", c)
    }

    fn from_api(e: ApiError, chrome: Chrome) -> Self {
        Self {
            status: e.status,
            title_key: e.title,
            chrome: Box::new(chrome),
        }
    }

    pub fn from_store(e: StoreError, c: &Chrome) -> Self {
        Self::from_api(ApiError::from(e), c.clone())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorTemplate {
    c: Chrome,
    heading: String,
    text: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let c = *self.chrome;
        let text_key = match self.status {
            StatusCode::NOT_FOUND => "error-page-not-found",
            StatusCode::FORBIDDEN => "error-page-forbidden",
            StatusCode::UNAUTHORIZED => "error-page-unauthenticated",
            s if s.is_server_error() => "error-page-internal",
            _ => "error-page-other",
        };
        let heading = c.t(self.title_key);
        let text = c.t(text_key);
        let c = c.with_title("", heading.clone());
        (self.status, ErrorTemplate { c, heading, text }).into_response()
    }
}

pub type PageResult = Result<Response, PageError>;

/// Attaches the page chrome to a store failure, so it renders as a full page.
pub trait OrPage<T> {
    fn or_page(self, c: &Chrome) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, StoreError> {
    fn or_page(self, c: &Chrome) -> Result<T, PageError> {
        self.map_err(|e| PageError::from_store(e, c))
    }
}

async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> Response {
    let (mut parts, _) = request.into_parts();
    if parts.uri.path().starts_with("/api/") {
        return ApiError::not_found().into_response();
    }
    let lang = request_lang();
    let here = parts.uri.path().to_owned();
    // Signed-in users get their navigation on the 404 page too.
    let chrome = match Page::from_request_parts(&mut parts, &state).await {
        Ok(page) => page.c,
        Err(_) => Chrome::anonymous(lang, &here),
    };
    PageError::not_found(&chrome).into_response()
}

/// Post/Redirect/Get: back to `path` with a success notice.
pub fn done(path: &str, notice: &str) -> Response {
    Redirect::to(&with_notice(path, notice)).into_response()
}

/// `path` with `ok=notice` added to its query, before any `#fragment`.
fn with_notice(path: &str, notice: &str) -> String {
    let (path, fragment) = match path.split_once('#') {
        Some((p, f)) => (p, format!("#{f}")),
        None => (path, String::new()),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}ok={notice}{fragment}")
}

pub fn url_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Today in Vietnam.
pub fn today() -> Date {
    lienhoan_domain::format::local_date(OffsetDateTime::now_utc())
}

/// Page navigation for a paged list.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// More rows match than `total` (see [`lienhoan_store::Page::total_capped`]).
    pub capped: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the list's path with its filter query (without `offset`).
    pub fn new<T>(base: &str, result: &lienhoan_store::Page<T>, limit: i64, offset: i64) -> Self {
        let total = result.total;
        let pages = ((total + limit - 1) / limit).max(1);
        let page = (offset / limit + 1).min(pages);
        let sep = if base.contains('?') { '&' } else { '?' };
        let link = |offset: i64| {
            if offset == 0 {
                base.to_owned()
            } else {
                format!("{base}{sep}offset={offset}")
            }
        };
        Self {
            page,
            pages,
            total,
            capped: result.total_capped,
            prev: (page > 1).then(|| link((page - 2) * limit)),
            next: (page < pages).then(|| link(page * limit)),
        }
    }
}

/// A query string from the non-empty pairs.
pub fn query_string(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
            any = true;
        }
    }
    if any {
        format!("{path}?{}", ser.finish())
    } else {
        path.to_owned()
    }
}

/// An `<option>` in a select.
#[derive(Clone, Debug)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl ToString, label: impl Into<String>) -> Self {
        Self {
            value: value.to_string(),
            label: label.into(),
        }
    }
}

/// The label of an admin unit in a select: name, place and map version.
pub fn unit_choice(c: &Chrome, u: &AdminUnitView) -> Choice {
    let mut label = u.full_name.clone();
    if !u.parent_path.is_empty() {
        label.push_str(", ");
        label.push_str(&u.parent_path);
    }
    label.push_str(&format!(" ({})", c.dataset(&u.unit.dataset)));
    Choice::new(u.unit.id, label)
}
