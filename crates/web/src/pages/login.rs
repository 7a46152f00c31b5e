//! Signing in and out, and the language switch.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{REFERER, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::{Chrome, FormData, Page};
use crate::AppState;
use crate::auth::{clear_session_cookie, lang_cookie, local_path, session_cookie};
use crate::i18n::Lang;
use crate::problem::ApiError;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginTemplate {
    c: Chrome,
    username: String,
    next: String,
    problem: Option<String>,
}

fn next_of(uri: &Uri) -> String {
    uri.query()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "next")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

async fn login_form(headers: HeaderMap, uri: Uri) -> Response {
    let lang = Lang::from_headers(&headers);
    let here = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    LoginTemplate {
        c: Chrome::anonymous(lang, &here).titled("login", "login-title"),
        username: String::new(),
        next: next_of(&uri),
        problem: None,
    }
    .into_response()
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    form: FormData,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let username = form.get("username").to_owned();
    let next = form.get("next").to_owned();
    match state
        .store
        .login(&username, form.raw("password"), &peer.ip().to_string())
        .await
    {
        Ok(session) => {
            let target = local_path(&next);
            let mut response = Redirect::to(target).into_response();
            if let Ok(value) = session_cookie(&session.token, state.secure_cookies).parse() {
                response.headers_mut().insert(SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            let problem = ApiError::from(e);
            let here = uri.path().to_owned();
            let page = LoginTemplate {
                c: Chrome::anonymous(lang, &here).titled("login", "login-title"),
                username,
                next,
                problem: Some(lang.t(problem.title)),
            };
            (problem.status, page).into_response()
        }
    }
}

async fn logout(State(state): State<AppState>, page: Result<Page, Response>) -> Response {
    if let Ok(page) = page {
        // The session ends either way for this browser: the cookie is cleared below.
        let _ = state.store.logout(&page.actor, &page.token).await;
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = clear_session_cookie(state.secure_cookies).parse() {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// Where the language switch should go back to: `?next=`, else the referring page on this
/// site, else home.
fn back_target(uri: &Uri, headers: &HeaderMap) -> String {
    let next = next_of(uri);
    if !next.is_empty() {
        return local_path(&next).to_owned();
    }
    referer_path(headers).unwrap_or_else(|| "/".into())
}

/// The path and query of the referring page, when it is a path on this site.
pub fn referer_path(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(REFERER)?.to_str().ok()?;
    let rest = referer
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(referer);
    let path = &rest[rest.find('/')?..];
    let path = path.split('#').next().unwrap_or(path);
    (local_path(path) == path).then(|| path.to_owned())
}

async fn switch_lang(
    State(state): State<AppState>,
    Path(code): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(lang) = (code.len() == 2).then(|| Lang::parse(&code)).flatten() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = Redirect::to(&back_target(&uri, &headers)).into_response();
    if let Ok(value) = lang_cookie(lang.code(), state.secure_cookies).parse() {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(switch_lang).post(switch_lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_switch_goes_back() {
        let mut headers = HeaderMap::new();
        let uri: Uri = "/lang/en".parse().unwrap();
        assert_eq!(back_target(&uri, &headers), "/");
        headers.insert(
            REFERER,
            "http://localhost:8080/clusters?x=1".parse().unwrap(),
        );
        assert_eq!(back_target(&uri, &headers), "/clusters?x=1");
        let uri: Uri = "/lang/en?next=%2Fgeo".parse().unwrap();
        assert_eq!(back_target(&uri, &headers), "/geo");
        let uri: Uri = "/lang/en?next=%2F%2Fevil.example".parse().unwrap();
        assert_eq!(back_target(&uri, &headers), "/");
    }
}
