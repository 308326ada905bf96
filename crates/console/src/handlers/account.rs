//! Everyone's own account: details and sessions, the password, two-factor
//! enrolment, and personal API tokens.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use store::{ApiToken, Store};

use super::{ClientIp, Done, see_other};
use crate::access::{Caller, Stage};
use crate::csrf::CsrfKey;
use crate::pages::{Layout, render};
use crate::session::{self, API_PURPOSE, session_cookie_name, set_cookie};
use crate::{AppError, Console, password, secrets, two_factor};

/// What a personal API token starts with, so secret scanners and people
/// can tell one when they see it.
pub const TOKEN_PREFIX: &str = "sgp_";

/// Carries passwords: deliberately not `Debug`.
#[derive(Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

#[derive(Serialize)]
struct SessionView {
    browser: String,
    address: String,
    started: String,
    last_seen: String,
    this_one: bool,
}

async fn account_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    notice: Option<&'static str>,
    errors: &[(&str, String)],
    status: StatusCode,
) -> Result<Response, AppError> {
    let now = console.now();
    let this = caller.session.as_ref().map(|s| s.id_hash.as_str());
    let sessions: Vec<SessionView> = console
        .store
        .console_sessions_of(caller.username(), now)
        .await?
        .into_iter()
        .filter(|s| !s.pending_code)
        .map(|s| SessionView {
            browser: if s.user_agent.is_empty() {
                "An unnamed browser".into()
            } else {
                s.user_agent.clone()
            },
            address: s.client_ip.clone(),
            started: console.show_time(s.created_at),
            last_seen: console.show_time(s.last_seen),
            this_one: Some(s.id_hash.as_str()) == this,
        })
        .collect();
    let layout =
        Layout::new(console, Some(caller), csrf, "Your account", "/account").notice(notice);
    let a = &caller.account;
    let body = render(
        "account.html",
        &layout,
        context! {
            username => &a.username,
            display_name => &a.display_name,
            email => &a.email,
            role => caller.role.label(),
            two_factor => a.totp_enabled,
            two_factor_required => caller.role.requires_two_factor(),
            sessions => Serde(&sessions),
            errors => super::form_errors(errors),
            min_length => password::MIN_LENGTH,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn page<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    account_page(&console, &caller, &csrf, done.notice(), &[], StatusCode::OK).await
}

pub async fn change_password<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let mut errors: Vec<(&str, String)> = Vec::new();
    if !password::verify(&form.current, caller.account.password_hash.as_ref()).await {
        errors.push(("current", "That is not your current password.".into()));
    } else if let Err(problem) = password::check(&form.new, caller.username()) {
        errors.push(("new", problem.to_string()));
    } else if form.new != form.confirm {
        errors.push((
            "confirm",
            "The two new passwords are not the same. Type it again in both boxes.".into(),
        ));
    }
    if !errors.is_empty() {
        return account_page(
            &console,
            &caller,
            &csrf,
            None,
            &errors,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let hash = password::hash(&form.new).await?;
    console
        .store
        .set_console_password(caller.username(), &hash, caller.username())
        .await?;
    // Anyone who knew the old password is signed out; this browser stays in.
    console
        .store
        .end_console_sessions(caller.username())
        .await?;
    let token = session::start(&console, caller.username(), false, &headers, &ip).await?;
    let secure = console.settings.secure_cookies;
    Ok(see_other(
        "/account?done=password-changed",
        &[set_cookie(session_cookie_name(secure), &token, secure)],
    ))
}

async fn two_factor_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let layout = Layout::new(
        console,
        Some(caller),
        csrf,
        "Two-factor sign-in",
        "/account/two-factor",
    );
    let account = &caller.account;
    if account.totp_enabled {
        // The secret is never shown again once enrolment is done.
        let body = render("two_factor.html", &layout, context! { enabled => true })?;
        return Ok((status, Html(body)).into_response());
    }
    // Keep the secret being enrolled, so reloading the page does not
    // change what the phone was given.
    let secret = match &account.totp_secret {
        Some(secret) => secret.clone(),
        None => {
            let secret = two_factor::new_secret()?;
            console
                .store
                .begin_two_factor(caller.username(), &secret)
                .await?;
            secret
        }
    };
    let url = two_factor::otpauth_url(&secret, caller.username())
        .ok_or_else(|| AppError::internal("the TOTP secret could not be made into a URL"))?;
    let body = render(
        "two_factor.html",
        &layout,
        context! {
            enabled => false,
            required => caller.role.requires_two_factor(),
            must => caller.stage == Stage::MustEnrol,
            secret => two_factor::grouped(&secret),
            qr => two_factor::qr_svg(&url).map(minijinja::Value::from_safe_string),
            otpauth => url,
            error => error,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn two_factor_form<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
) -> Result<Response, AppError> {
    two_factor_page(&console, &caller, &csrf, None, StatusCode::OK).await
}

pub async fn two_factor_submit<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    if caller.account.totp_enabled {
        return Ok(see_other("/account", &[]));
    }
    let step = caller
        .account
        .totp_secret
        .as_ref()
        .and_then(|secret| two_factor::check(secret, &form.code, console.now()));
    let Some(step) = step else {
        return two_factor_page(
            &console,
            &caller,
            &csrf,
            Some(
                "That code did not work. Check that the time on your phone is right, then enter \
                 the code the app shows now.",
            ),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    console
        .store
        .confirm_two_factor(caller.username(), step)
        .await?;
    tracing::info!(username = %caller.username(), "console: two-factor sign-in is on");
    Ok(see_other("/?done=two-factor-on", &[]))
}

#[derive(Serialize)]
struct TokenView {
    id: i64,
    name: String,
    created: String,
    last_used: Option<String>,
    revoked: Option<String>,
}

async fn tokens_page<S: Store>(
    console: &Console<S>,
    caller: &Caller,
    csrf: &CsrfKey,
    created: Option<(String, String)>,
    error: Option<&str>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let tokens: Vec<TokenView> = console
        .store
        .api_tokens_of(caller.username())
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            created: console.show_time(t.created_at),
            last_used: t.last_used.map(|at| console.show_time(at)),
            revoked: t.revoked_at.map(|at| console.show_time(at)),
        })
        .collect();
    let layout =
        Layout::new(console, Some(caller), csrf, "API tokens", "/account/tokens").notice(notice);
    let body = render(
        "tokens.html",
        &layout,
        context! {
            tokens => Serde(&tokens),
            created => created.map(|(name, token)| context! { name => name, token => token }),
            error => error,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn tokens<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    tokens_page(
        &console,
        &caller,
        &csrf,
        None,
        None,
        done.notice(),
        StatusCode::OK,
    )
    .await
}

pub async fn create_token<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Extension(csrf): Extension<CsrfKey>,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return tokens_page(
            &console,
            &caller,
            &csrf,
            None,
            Some("Give the token a name of up to 100 characters, saying what will use it."),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let token = format!("{TOKEN_PREFIX}{}", secrets::random_token()?);
    console
        .store
        .add_api_token(&ApiToken {
            id: 0,
            token_hash: secrets::digest(API_PURPOSE, &token),
            username: caller.username().to_owned(),
            name: name.to_owned(),
            created_at: console.now(),
            last_used: None,
            revoked_at: None,
        })
        .await?;
    // Shown in this answer only; the store keeps its digest.
    tokens_page(
        &console,
        &caller,
        &csrf,
        Some((name.to_owned(), token)),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn revoke_token<S: Store>(
    State(console): State<Arc<Console<S>>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    console
        .store
        .revoke_api_token(caller.username(), id, caller.username())
        .await?;
    Ok(see_other("/account/tokens?done=token-revoked", &[]))
}
