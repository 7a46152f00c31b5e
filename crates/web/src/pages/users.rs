//! Accounts: the list, creating and disabling accounts, and changing one's own password.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use lienhoan_domain::access::{Actor, NewUser, PASSWORD_MIN, Role};
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{StoreError, UserView};
use uuid::Uuid;

use super::clusters::organisation_choices;
use super::form::Reader;
use super::{Choice, Chrome, Form, FormData, OrPage, Page, PageError, PageResult, done};
use crate::AppState;
use crate::auth::session_cookie;

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersTemplate {
    c: Chrome,
    users: Vec<UserRow>,
    f: Form,
    /// Roles the actor may give; empty when they may not create accounts.
    roles: Vec<Choice>,
    /// Organisations to choose from (admins); a commander's accounts go to their own.
    organisations: Vec<Choice>,
    own_organisation: Option<String>,
    password_min: usize,
}

struct UserRow {
    user: UserView,
    /// Whether the actor may disable or enable this account.
    manageable: bool,
}

const FIELDS: &[&str] = &[
    "username",
    "display_name",
    "password",
    "organisation_id",
    "role",
];

fn role_choices(c: &Chrome, actor: &Actor) -> Vec<Choice> {
    Role::ALL
        .iter()
        .filter(|r| match actor.role {
            Role::Admin => true,
            _ => actor.can_manage_user(actor.organisation_id, **r),
        })
        .map(|r| Choice::new(r.as_str(), c.role(r)))
        .collect()
}

async fn render(state: &AppState, page: Page, f: Form, status: StatusCode) -> PageResult {
    let c = page.c.titled("users", "users-title");
    let actor = &page.actor;
    let users = state.store.list_users(actor).await.or_page(&c)?;
    let roles = role_choices(&c, actor);
    let is_admin = actor.role == Role::Admin;
    let organisations = if is_admin {
        organisation_choices(state, f.v("org_q"))
            .await
            .or_page(&c)?
    } else {
        Vec::new()
    };
    let own_organisation = if !is_admin && !roles.is_empty() {
        match actor.organisation_id {
            Some(id) => Some(
                state
                    .store
                    .organisation(id)
                    .await
                    .or_page(&c)?
                    .organisation
                    .name,
            ),
            None => None,
        }
    } else {
        None
    };
    let users = users
        .into_iter()
        .map(|user| UserRow {
            manageable: user.id != actor.user_id
                && actor.can_manage_user(user.organisation_id, user.role),
            user,
        })
        .collect();
    Ok((
        status,
        UsersTemplate {
            c,
            users,
            f,
            roles,
            organisations,
            own_organisation,
            password_min: PASSWORD_MIN,
        },
    )
        .into_response())
}

async fn list(State(state): State<AppState>, page: Page) -> PageResult {
    render(&state, page, Form::default(), StatusCode::OK).await
}

fn read_user(actor: &Actor, data: &FormData) -> Result<NewUser, Vec<FieldError>> {
    let mut r = Reader::new(data);
    let role = r.choice("role", Role::parse);
    let organisation_id = if actor.role == Role::Admin {
        r.optional_id("organisation_id")
    } else {
        actor.organisation_id
    };
    r.finish()?;
    Ok(NewUser {
        username: data.get("username").to_owned(),
        display_name: data.get("display_name").to_owned(),
        password: data.raw("password").to_owned(),
        organisation_id,
        role: role.expect("checked"),
    })
}

async fn create(State(state): State<AppState>, page: Page, data: FormData) -> PageResult {
    if data.has("find") {
        return render(&state, page, Form::echo(data), StatusCode::OK).await;
    }
    let result = match read_user(&page.actor, &data) {
        Ok(input) => state
            .store
            .create_user(&page.actor, &input, false)
            .await
            .map(|_| ()),
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    let (status, errors) = match result {
        Ok(()) => return Ok(done("/users", "user-created")),
        Err(StoreError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(StoreError::Conflict(error)) => (StatusCode::CONFLICT, vec![error]),
        Err(other) => return Err(PageError::from_store(other, &page.c)),
    };
    // Never send a password back.
    let mut data = data;
    data.0.retain(|(k, _)| k != "password");
    let f = Form::refused(data, &errors, page.c.lang, FIELDS);
    render(&state, page, f, status).await
}

async fn set_disabled(state: &AppState, page: Page, id: Uuid, disabled: bool) -> PageResult {
    match state
        .store
        .set_user_disabled(&page.actor, id, disabled)
        .await
    {
        Ok(()) => Ok(done(
            "/users",
            if disabled {
                "user-disabled"
            } else {
                "user-enabled"
            },
        )),
        Err(StoreError::Invalid(errors)) => {
            let f = Form::refused(FormData::default(), &errors, page.c.lang, &[]);
            render(state, page, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(PageError::from_store(e, &page.c)),
    }
}

async fn disable(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    set_disabled(&state, page, id, true).await
}

async fn enable(State(state): State<AppState>, page: Page, Path(id): Path<Uuid>) -> PageResult {
    set_disabled(&state, page, id, false).await
}

// ---------------------------------------------------------------------------------------------
// One's own password

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
struct PasswordTemplate {
    c: Chrome,
    f: Form,
    password_min: usize,
}

async fn password_form(page: Page) -> PageResult {
    let c = page.c.titled("account", "password-title");
    Ok(PasswordTemplate {
        c,
        f: Form::default(),
        password_min: PASSWORD_MIN,
    }
    .into_response())
}

/// Checks the current password by signing in with it (which counts against the login limits),
/// sets the new one — which ends every session of the account — and opens a new session for
/// this browser.
async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    page: Page,
    data: FormData,
) -> PageResult {
    let c = page.c.clone().titled("account", "password-title");
    let address = peer.ip().to_string();
    let refuse = |errors: Vec<FieldError>, status: StatusCode| {
        let f = Form::refused(
            FormData::default(),
            &errors,
            c.lang,
            &["current", "password", "confirm"],
        );
        Ok((
            status,
            PasswordTemplate {
                c: c.clone(),
                f,
                password_min: PASSWORD_MIN,
            },
        )
            .into_response())
    };
    let new = data.raw("password");
    if new != data.raw("confirm") {
        return refuse(
            vec![FieldError::new("confirm", "error-password-mismatch")],
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if let Err(e) = lienhoan_domain::access::validate_password(new) {
        return refuse(vec![e], StatusCode::UNPROCESSABLE_ENTITY);
    }
    let username = page.actor.username.clone();
    match state
        .store
        .login(&username, data.raw("current"), &address)
        .await
    {
        Ok(check) => {
            let _ = state.store.logout(&check.actor, &check.token).await;
        }
        Err(StoreError::BadCredentials) => {
            return refuse(
                vec![FieldError::new("current", "error-wrong-password")],
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        Err(StoreError::RateLimited) => {
            return refuse(
                vec![FieldError::new("current", "problem-rate-limited")],
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(e) => return Err(PageError::from_store(e, &c)),
    }
    match state
        .store
        .set_password(&page.actor, page.actor.user_id, new)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Invalid(errors)) => {
            return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Err(e) => return Err(PageError::from_store(e, &c)),
    }
    let mut response = done("/account/password", "password-changed");
    if let Ok(session) = state.store.login(&username, new, &address).await
        && let Ok(value) = session_cookie(&session.token, state.secure_cookies).parse()
    {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

async fn to_users() -> Redirect {
    Redirect::to("/users")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}/disable", post(disable).get(to_users))
        .route("/users/{id}/enable", post(enable).get(to_users))
        .route(
            "/account/password",
            get(password_form).post(change_password),
        )
}
