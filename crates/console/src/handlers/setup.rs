//! One-time set-up links: the first administrator (no default credentials
//! exist, ever), or the password of an account an administrator made.
//! A link works once and expires; only its digest is stored.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use minijinja::context;
use serde::Deserialize;
use store::{NewConsoleAccount, SetupLink, Store};

use super::{ClientIp, optional, see_other, valid_username};
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::session::{self, SETUP_PURPOSE, session_cookie_name, set_cookie};
use crate::{AppError, Console, Role, password, secrets};

/// Carries a password: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// The link, if it still works. A first-run link stops working once any
/// administrator exists.
async fn usable_link<S: Store>(
    console: &Console<S>,
    token: &str,
) -> Result<Option<SetupLink>, AppError> {
    let Some(link) = console
        .store
        .setup_link(&secrets::digest(SETUP_PURPOSE, token))
        .await?
    else {
        return Ok(None);
    };
    if !link.usable(console.now()) {
        return Ok(None);
    }
    if link.username.is_none() && console.store.administrator_exists().await? {
        return Ok(None);
    }
    Ok(Some(link))
}

fn gone() -> AppError {
    AppError::bad_request(
        "This set-up link has expired or has already been used. Ask an administrator for a new \
         one. (For the first administrator, restarting schoolgate prints a new link.)",
    )
}

fn page<S: Store>(
    console: &Console<S>,
    csrf: &CsrfKey,
    link: &SetupLink,
    display_name: Option<&str>,
    form: &SetupForm,
    errors: &[(&str, String)],
    status: StatusCode,
) -> Result<Response, AppError> {
    let first = link.username.is_none();
    let title = if first {
        "Create the first administrator"
    } else {
        "Choose your password"
    };
    let layout = Layout::new(console, None, csrf, title, "/setup");
    let body = render(
        "setup.html",
        &layout,
        context! {
            first => first,
            username => link.username.as_deref().unwrap_or(form.username.as_str()),
            display_name => display_name.unwrap_or(form.display_name.as_str()),
            email => &form.email,
            errors => super::form_errors(errors),
            expires => console.show_time(link.expires_at),
            min_length => password::MIN_LENGTH,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(csrf): Extension<CsrfKey>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let link = usable_link(&console, &token).await?.ok_or_else(gone)?;
    let display_name = match &link.username {
        Some(username) => console
            .store
            .console_account(username)
            .await?
            .map(|a| a.display_name),
        None => None,
    };
    page(
        &console,
        &csrf,
        &link,
        display_name.as_deref(),
        &SetupForm::default(),
        &[],
        StatusCode::OK,
    )
}

pub async fn submit<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(csrf): Extension<CsrfKey>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response, AppError> {
    let link = usable_link(&console, &token).await?.ok_or_else(gone)?;
    let first = link.username.is_none();
    let username = match &link.username {
        Some(username) => username.clone(),
        None => form.username.trim().to_lowercase(),
    };
    let mut errors: Vec<(&str, String)> = Vec::new();
    if first {
        if !valid_username(&username) {
            errors.push((
                "username",
                "Choose a username of lower-case letters, digits, dots or hyphens, such as j.smith."
                    .into(),
            ));
        } else if console.store.console_account(&username).await?.is_some() {
            errors.push(("username", "That username is taken; choose another.".into()));
        }
        if form.display_name.trim().is_empty() {
            errors.push(("display_name", "Enter your full name.".into()));
        }
    }
    if let Err(problem) = password::check(&form.password, &username) {
        errors.push(("password", problem.to_string()));
    } else if form.password != form.confirm {
        errors.push((
            "confirm",
            "The two passwords are not the same. Type it again in both boxes.".into(),
        ));
    }
    if !errors.is_empty() {
        return page(
            &console,
            &csrf,
            &link,
            None,
            &form,
            &errors,
            StatusCode::BAD_REQUEST,
        );
    }

    let hash = password::hash(&form.password).await?;
    let now = console.now();
    // Used first, so the same link cannot be used twice at once.
    if !console.store.use_setup_link(&link.token_hash, now).await? {
        return Err(gone());
    }
    match &link.username {
        None => {
            console
                .store
                .add_console_account(
                    &NewConsoleAccount {
                        username: username.clone(),
                        display_name: form.display_name.trim().to_owned(),
                        email: optional(&form.email),
                        role: Role::Administrator.id().to_owned(),
                        person: None,
                        password_hash: Some(hash),
                    },
                    &format!("{username} (first-run link)"),
                )
                .await?;
            tracing::info!(username = %username, "console: the first administrator was created");
            // Signed in at once; two-factor set-up comes next, because an
            // administrator cannot reach anything else without it.
            let token = session::start(&console, &username, false, &headers, &ip).await?;
            console.store.record_sign_in(&username, now).await?;
            let secure = console.settings.secure_cookies;
            Ok(see_other(
                "/account/two-factor",
                &[set_cookie(session_cookie_name(secure), &token, secure)],
            ))
        }
        Some(username) => {
            console
                .store
                .set_console_password(username, &hash, &format!("{username} (set-up link)"))
                .await?;
            // Signing in is a separate step, so a set-up link never stands
            // in for a second factor.
            Ok(see_other("/sign-in?done=password-set", &[]))
        }
    }
}
