//! Accounts, for administrators: add one with a role (it gets a one-time
//! set-up link, so no administrator ever knows anyone's password), disable
//! and enable, reset two-factor sign-in, lift a lock-out, make a new link.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use store::{ConsoleAccount, NewConsoleAccount, SetupLink, Store};

use super::{Done, optional, see_other, valid_username};
use crate::access::Caller;
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::session::SETUP_PURPOSE;
use crate::{AppError, Console, Role, secrets};

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct NewAccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    person: String,
}

#[derive(Serialize)]
struct AccountView {
    username: String,
    display_name: String,
    email: Option<String>,
    role: String,
    person: Option<String>,
    status: &'static str,
    two_factor: &'static str,
    locked_until: Option<String>,
    last_sign_in: Option<String>,
    failed_sign_ins: i64,
    created: String,
}

fn view<S: Store>(console: &Console<S>, a: &ConsoleAccount) -> AccountView {
    let role = a.role.parse::<Role>().ok();
    let now = console.now();
    AccountView {
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        email: a.email.clone(),
        role: role.map_or_else(|| a.role.clone(), |r| r.label().to_owned()),
        person: a.person.clone(),
        status: if a.disabled {
            "Disabled"
        } else if a.password_hash.is_none() {
            "Waiting for set-up"
        } else {
            "Active"
        },
        two_factor: if a.totp_enabled {
            "On"
        } else if role.is_some_and(Role::requires_two_factor) {
            "Required, not set up yet"
        } else {
            "Off"
        },
        locked_until: a
            .locked_until
            .filter(|until| *until > now)
            .map(|until| console.show_time(until)),
        last_sign_in: a.last_sign_in.map(|at| console.show_time(at)),
        failed_sign_ins: a.failed_sign_ins,
        created: console.show_time(a.created_at),
    }
}

fn roles() -> Vec<minijinja::Value> {
    Role::ALL
        .into_iter()
        .map(|r| context! { id => r.id(), label => r.label(), two_factor => r.requires_two_factor() })
        .collect()
}

async fn list_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    form: &NewAccountForm,
    errors: &[(&str, String)],
    status: StatusCode,
) -> Result<Response, AppError> {
    let accounts: Vec<AccountView> = console
        .store
        .console_accounts()
        .await?
        .iter()
        .map(|a| view(console, a))
        .collect();
    let layout = Layout::new(console, Some(caller), csrf, "Accounts", "/accounts");
    let body = render(
        "accounts.html",
        &layout,
        context! {
            accounts => Serde(&accounts),
            roles => roles(),
            form => Serde(form),
            errors => super::form_errors(errors),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn list<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    list_page(
        &console,
        &caller,
        &csrf,
        &NewAccountForm {
            role: Role::Staff.id().into(),
            ..NewAccountForm::default()
        },
        &[],
        StatusCode::OK,
    )
    .await
}

/// Makes a set-up link for an account (ending any older unused one) and
/// shows it, once.
async fn link_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    account: &ConsoleAccount,
    created: bool,
) -> Result<Response, AppError> {
    let now = console.now();
    let token = secrets::random_token()?;
    console
        .store
        .withdraw_setup_links(Some(&account.username), now)
        .await?;
    let expires_at = now + console.settings.account_link_valid;
    console
        .store
        .add_setup_link(&SetupLink {
            token_hash: secrets::digest(SETUP_PURPOSE, &token),
            username: Some(account.username.clone()),
            created_at: now,
            expires_at,
            used_at: None,
            created_by: caller.username().to_owned(),
        })
        .await?;
    let layout = Layout::new(console, Some(caller), csrf, "Set-up link", "/accounts");
    let body = render(
        "link.html",
        &layout,
        context! {
            created => created,
            username => &account.username,
            display_name => &account.display_name,
            email => &account.email,
            link => format!("{}/setup/{token}", console.settings.public_url),
            expires => console.show_time(expires_at),
        },
    )?;
    Ok(Html(body).into_response())
}

pub async fn create<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(mut form): Form<NewAccountForm>,
) -> Result<Response, AppError> {
    form.username = form.username.trim().to_lowercase();
    let mut errors: Vec<(&str, String)> = Vec::new();
    if !valid_username(&form.username) {
        errors.push((
            "username",
            "Choose a username of lower-case letters, digits, dots or hyphens, such as j.smith."
                .into(),
        ));
    }
    if form.display_name.trim().is_empty() {
        errors.push(("display_name", "Enter their full name.".into()));
    }
    let email = optional(&form.email);
    if email.as_deref().is_some_and(|e| !e.contains('@')) {
        errors.push((
            "email",
            "Enter an email address such as j.smith@school.example, or leave it empty.".into(),
        ));
    }
    let role = form.role.parse::<Role>();
    if role.is_err() {
        errors.push(("role", "Choose a role.".into()));
    }
    let role = match role {
        Ok(role) if errors.is_empty() => role,
        _ => {
            return list_page(
                &console,
                &caller,
                &csrf,
                &form,
                &errors,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let new = NewConsoleAccount {
        username: form.username.clone(),
        display_name: form.display_name.trim().to_owned(),
        email,
        role: role.id().to_owned(),
        person: optional(&form.person),
        password_hash: None,
    };
    if let Err(e) = console
        .store
        .add_console_account(&new, caller.username())
        .await
    {
        let e = AppError::from(e);
        if e.status() == StatusCode::CONFLICT {
            return list_page(
                &console,
                &caller,
                &csrf,
                &form,
                &[("username", "That username is taken; choose another.".into())],
                StatusCode::CONFLICT,
            )
            .await;
        }
        return Err(e);
    }
    let account = found(&console, &new.username).await?;
    link_page(&console, &caller, &csrf, &account, true).await
}

async fn found<S: Store>(console: &Console<S>, username: &str) -> Result<ConsoleAccount, AppError> {
    console
        .store
        .console_account(username)
        .await?
        .ok_or_else(AppError::not_found)
}

pub async fn detail<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(username): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let account = found(&console, &username).await?;
    let layout = Layout::new(
        &console,
        Some(&caller),
        &csrf,
        &account.display_name,
        "/accounts",
    )
    .notice(done.notice());
    let body = render(
        "account_detail.html",
        &layout,
        context! {
            account => Serde(view(&console, &account)),
            disabled => account.disabled,
            two_factor_on => account.totp_enabled,
            yourself => account.username == caller.username(),
        },
    )?;
    Ok(Html(body).into_response())
}

fn back(username: &str, done: &str) -> Response {
    see_other(&format!("/accounts/{username}?done={done}"), &[])
}

pub async fn disable<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    let account = found(&console, &username).await?;
    if account.username == caller.username() {
        return Err(AppError::bad_request(
            "You cannot disable your own account. Ask another administrator to do it.",
        ));
    }
    console
        .store
        .set_console_account_disabled(&account.username, true, caller.username())
        .await?;
    Ok(back(&account.username, "disabled"))
}

pub async fn enable<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    let account = found(&console, &username).await?;
    console
        .store
        .set_console_account_disabled(&account.username, false, caller.username())
        .await?;
    Ok(back(&account.username, "enabled"))
}

pub async fn reset_two_factor<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    let account = found(&console, &username).await?;
    console
        .store
        .reset_two_factor(&account.username, caller.username())
        .await?;
    Ok(back(&account.username, "two-factor-reset"))
}

pub async fn unlock<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    let account = found(&console, &username).await?;
    console
        .store
        .unlock_console_account(&account.username, caller.username())
        .await?;
    Ok(back(&account.username, "unlocked"))
}

pub async fn new_link<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    let account = found(&console, &username).await?;
    link_page(&console, &caller, &csrf, &account, false).await
}
