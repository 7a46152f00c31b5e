//! Who is calling: a bearer token (API clients) or a session cookie (browsers), both backed by
//! sessions in the database. Cookie-authenticated unsafe requests must come from our origin.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use lienhoan_domain::access::Actor;

use crate::AppState;
use crate::problem::ApiError;

pub const SESSION_COOKIE: &str = "lienhoan_session";

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value that keeps a browser session: script-proof, never sent cross-site.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}")
}

/// The `Set-Cookie` value that ends a browser session.
pub fn clear_session_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/{secure}")
}

/// The `Set-Cookie` value of the language switch, kept for a year.
pub fn lang_cookie(code: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{}={code}; Max-Age=31536000; SameSite=Lax; Path=/{secure}",
        crate::i18n::LANG_COOKIE
    )
}

/// A same-site path to go back to after a redirect; anything else becomes `/`.
pub fn local_path(next: &str) -> &str {
    let odd = |c: char| c.is_control() || c.is_whitespace() || c == '\\';
    if next.starts_with('/') && !next.starts_with("//") && !next.chars().any(odd) {
        next
    } else {
        "/"
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// An authenticated caller.
pub struct Caller {
    pub actor: Actor,
    pub token: String,
}

async fn caller(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let Some(token) =
        bearer(&parts.headers).or_else(|| cookie_value(&parts.headers, SESSION_COOKIE))
    else {
        return Ok(None);
    };
    let actor = state.store.session_actor(token).await?;
    Ok(actor.map(|actor| Caller {
        actor,
        token: token.to_owned(),
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        caller(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// A signed-in browser user; anyone else is sent to the login page.
pub struct PageCaller(pub Caller);

pub enum PageRejection {
    Login(String),
    Error(ApiError),
}

impl IntoResponse for PageRejection {
    fn into_response(self) -> Response {
        match self {
            PageRejection::Login(back) => {
                let back: String = form_urlencoded_byte_serialize(&back);
                Redirect::to(&format!("/login?next={back}")).into_response()
            }
            PageRejection::Error(e) => e.into_response(),
        }
    }
}

fn form_urlencoded_byte_serialize(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = PageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PageRejection> {
        match caller(parts, state).await {
            Ok(Some(c)) => Ok(PageCaller(c)),
            Ok(None) => Err(PageRejection::Login(
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            )),
            Err(e) => Err(PageRejection::Error(e)),
        }
    }
}

/// Refuses cookie-authenticated unsafe requests that a browser says came from elsewhere.
/// SameSite=Strict already keeps the cookie off cross-site requests; this is the second lock.
pub async fn same_origin_guard(
    State(_): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let headers = request.headers();
    let uses_cookie = bearer(headers).is_none() && cookie_value(headers, SESSION_COOKIE).is_some();
    if unsafe_method && uses_cookie && !same_origin(headers) {
        return ApiError::new(StatusCode::FORBIDDEN, "problem-cross-site").into_response();
    }
    next.run(request).await
}

fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules() {
        let cases = [
            (Some("same-origin"), None, true),
            (Some("cross-site"), Some("http://localhost:8080"), false),
            (None, Some("http://localhost:8080"), true),
            (None, Some("http://evil.example"), false),
            (None, None, false),
        ];
        for (site, origin, expected) in cases {
            let mut h = HeaderMap::new();
            h.insert(HOST, "localhost:8080".parse().unwrap());
            if let Some(s) = site {
                h.insert("sec-fetch-site", s.parse().unwrap());
            }
            if let Some(o) = origin {
                h.insert(ORIGIN, o.parse().unwrap());
            }
            assert_eq!(same_origin(&h), expected, "{site:?} {origin:?}");
        }
    }

    #[test]
    fn redirect_targets_stay_on_site() {
        let cases = [
            ("/clusters", "/clusters"),
            ("/clusters?on=2020-01-01", "/clusters?on=2020-01-01"),
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            ("/\t/evil.example", "/"),
            ("https://evil.example", "/"),
            ("", "/"),
        ];
        for (next, expected) in cases {
            assert_eq!(local_path(next), expected, "{next}");
        }
        assert!(session_cookie("t", true).ends_with("; Secure"));
        assert!(!session_cookie("t", false).contains("Secure"));
        assert!(session_cookie("t", false).contains("HttpOnly; SameSite=Strict; Path=/"));
    }
}
