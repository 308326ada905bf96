//! Signing in (password, then the code for accounts with two-factor sign-in
//! on) and out. Failures are counted by the username as typed and by
//! address; a lock-out is shown the same way whether or not the username
//! exists, and the password is checked against a decoy when it does not,
//! so neither the words nor the timing say which usernames are real.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use minijinja::context;
use serde::Deserialize;
use store::Store;

use super::{ClientIp, Done, see_other};
use crate::access::{Caller, Stage};
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::session::{self, clear_cookie, session_cookie_name, set_cookie};
use crate::{AppError, Console, password, two_factor};

/// Carries a password: deliberately not `Debug`.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

fn sign_in_page<S: Store>(
    console: &Console<S>,
    csrf: &CsrfKey,
    status: StatusCode,
    username: &str,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let layout = Layout::new(console, None, csrf, "Sign in", "/sign-in").notice(notice);
    let body = render(
        "sign_in.html",
        &layout,
        context! { username => username, error => error },
    )?;
    Ok((status, Html(body)).into_response())
}

fn locked_message<S: Store>(console: &Console<S>, until: Timestamp) -> String {
    format!(
        "This account is locked for now, after too many failed attempts to sign in. \
         Try again after {}, or ask an administrator to unlock it.",
        console.show_clock(until)
    )
}

/// The lock on a username or an address at `now`, with what to say.
async fn lock<S: Store>(
    console: &Console<S>,
    username: &str,
    ip: &str,
    now: Timestamp,
) -> Result<Option<String>, AppError> {
    let limit = console.settings.address_limit;
    let failures = console
        .store
        .sign_in_failures_from(ip, limit.look_back(now))
        .await?;
    if let Some(until) = limit.locked_until(&failures, now) {
        return Ok(Some(format!(
            "There have been too many failed attempts to sign in from your network. \
             Try again after {}.",
            console.show_clock(until)
        )));
    }
    let limit = console.settings.account_limit;
    let failures = console
        .store
        .sign_in_failures(username, limit.look_back(now))
        .await?;
    Ok(limit
        .locked_until(&failures, now)
        .map(|until| locked_message(console, until)))
}

/// Counts a failure; returns the lock-out message if this one caused it.
async fn fail<S: Store>(
    console: &Console<S>,
    username: &str,
    ip: &str,
    now: Timestamp,
) -> Result<Option<String>, AppError> {
    console
        .store
        .record_sign_in_failure(username, ip, now)
        .await?;
    let limit = console.settings.account_limit;
    let failures = console
        .store
        .sign_in_failures(username, limit.look_back(now))
        .await?;
    match limit.locked_until(&failures, now) {
        Some(until) => {
            console.store.lock_console_account(username, until).await?;
            Ok(Some(locked_message(console, until)))
        }
        None => lock(console, username, ip, now).await,
    }
}

pub async fn form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    caller: Option<Extension<Caller>>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    match caller.map(|c| c.0.stage) {
        Some(Stage::Full | Stage::MustEnrol) => return Ok(see_other("/", &[])),
        // Half-way through: starting again with another account is allowed.
        Some(Stage::AwaitingCode) | None => {}
    }
    sign_in_page(&console, &csrf, StatusCode::OK, "", None, done.notice())
}

pub async fn submit<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(csrf): Extension<CsrfKey>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let username = form.username.trim().to_lowercase();
    if username.is_empty() || form.password.is_empty() {
        return sign_in_page(
            &console,
            &csrf,
            StatusCode::BAD_REQUEST,
            &username,
            Some("Enter your username and your password.".into()),
            None,
        );
    }
    let now = console.now();
    if let Some(message) = lock(&console, &username, &ip, now).await? {
        return sign_in_page(
            &console,
            &csrf,
            StatusCode::TOO_MANY_REQUESTS,
            &username,
            Some(message),
            None,
        );
    }
    let account = console.store.console_account(&username).await?;
    let right = password::verify(
        &form.password,
        account.as_ref().and_then(|a| a.password_hash.as_ref()),
    )
    .await;
    let account = match account {
        Some(account) if right && !account.disabled => account,
        _ => {
            let (status, message) = match fail(&console, &username, &ip, now).await? {
                Some(locked) => (StatusCode::TOO_MANY_REQUESTS, locked),
                None => (
                    StatusCode::UNAUTHORIZED,
                    "That username and password do not match an account. Check them and try again."
                        .to_owned(),
                ),
            };
            return sign_in_page(&console, &csrf, status, &username, Some(message), None);
        }
    };
    let secure = console.settings.secure_cookies;
    let name = session_cookie_name(secure);
    if account.totp_enabled {
        let token = session::start(&console, &account.username, true, &headers, &ip).await?;
        return Ok(see_other(
            "/sign-in/code",
            &[set_cookie(name, &token, secure)],
        ));
    }
    let token = session::start(&console, &account.username, false, &headers, &ip).await?;
    console.store.record_sign_in(&account.username, now).await?;
    tracing::info!(username = %account.username, ip = %ip, "console: signed in");
    Ok(see_other("/", &[set_cookie(name, &token, secure)]))
}

fn code_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Enter your code",
        "/sign-in/code",
    );
    let body = render("code.html", &layout, context! { error => error })?;
    Ok((status, Html(body)).into_response())
}

pub async fn code_form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    code_page(&console, &caller, &csrf, StatusCode::OK, None)
}

pub async fn code_submit<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let now = console.now();
    let username = caller.username().to_owned();
    let secure = console.settings.secure_cookies;
    let name = session_cookie_name(secure);
    let pending = caller
        .session
        .as_ref()
        .map(|s| s.id_hash.clone())
        .unwrap_or_default();

    let give_up = |message: String| -> Result<Response, AppError> {
        let mut response = sign_in_page(
            &console,
            &csrf,
            StatusCode::TOO_MANY_REQUESTS,
            &username,
            Some(message),
            None,
        )?;
        if let Ok(value) = clear_cookie(name, secure).parse() {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, value);
        }
        Ok(response)
    };
    if let Some(message) = lock(&console, &username, &ip, now).await? {
        console.store.end_console_session(&pending).await?;
        return give_up(message);
    }

    let step = caller
        .account
        .totp_secret
        .as_ref()
        .and_then(|secret| two_factor::check(secret, &form.code, now));
    let accepted = match step {
        Some(step) => console.store.accept_code_step(&username, step).await?,
        None => false,
    };
    if !accepted {
        if let Some(message) = fail(&console, &username, &ip, now).await? {
            console.store.end_console_session(&pending).await?;
            return give_up(message);
        }
        return code_page(
            &console,
            &caller,
            &csrf,
            StatusCode::UNAUTHORIZED,
            Some(
                "That code did not work. Codes change every 30 seconds and each one works only \
                 once: wait for a new one and try again.",
            ),
        );
    }
    // A new session id once both factors are in: the half-signed-in one is
    // never promoted.
    console.store.end_console_session(&pending).await?;
    let token = session::start(&console, &username, false, &headers, &ip).await?;
    console.store.record_sign_in(&username, now).await?;
    tracing::info!(username = %username, ip = %ip, "console: signed in with two factors");
    Ok(see_other("/", &[set_cookie(name, &token, secure)]))
}

pub async fn sign_out<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, AppError> {
    if let Some(session) = &caller.session {
        console.store.end_console_session(&session.id_hash).await?;
    }
    let secure = console.settings.secure_cookies;
    Ok(see_other(
        "/sign-in?done=signed-out",
        &[clear_cookie(session_cookie_name(secure), secure)],
    ))
}

pub async fn sign_out_everywhere<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, AppError> {
    let ended = console
        .store
        .end_console_sessions(caller.username())
        .await?;
    tracing::info!(username = %caller.username(), sessions = ended, "console: signed out everywhere");
    let secure = console.settings.secure_cookies;
    Ok(see_other(
        "/sign-in?done=signed-out-everywhere",
        &[clear_cookie(session_cookie_name(secure), secure)],
    ))
}
