//! Who is asking, and whether the route's rule lets them in. Every route
//! passes through [`enforce`] with its own entry from the route table, so
//! access is decided on the server for every request.
//!
//! A browser proves who it is with the session cookie; an API client with a
//! personal token (`Authorization: Bearer sgp_…`, API routes only). An
//! account whose role needs two-factor sign-in but has not set it up reaches
//! only the enrolment page and sign-out.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::SignedDuration;
use store::{ConsoleAccount, ConsoleSession, Store};

use crate::routes::{Access, Kind};
use crate::session::{API_PURPOSE, SESSION_PURPOSE, cookie, session_cookie_name};
use crate::{ApiError, AppError, Console, Role, secrets};

/// Sessions and tokens are marked as used at most this often, to spare the
/// database a write on every request.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// How far through sign-in a caller is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The password was right; the code is still to come.
    AwaitingCode,
    /// Signed in, but the role needs two-factor sign-in and it is not set up.
    MustEnrol,
    /// Signed in fully.
    Full,
}

/// The signed-in account behind a request, for handlers.
#[derive(Clone, Debug)]
pub struct Caller {
    pub account: ConsoleAccount,
    pub role: Role,
    pub stage: Stage,
    /// The browser session; none when the call came with an API token.
    pub session: Option<ConsoleSession>,
}

impl Caller {
    pub fn username(&self) -> &str {
        &self.account.username
    }
}

/// The client's address as the connection shows it ("unknown" in tests
/// that give none).
pub fn client_ip(request_extensions: &axum::http::Extensions) -> String {
    request_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 128)
}

async fn account_for<S: Store>(
    console: &Console<S>,
    username: &str,
) -> Result<Option<(ConsoleAccount, Role)>, AppError> {
    let Some(account) = console.store.console_account(username).await? else {
        return Ok(None);
    };
    if account.disabled {
        return Ok(None);
    }
    let role = account
        .role
        .parse::<Role>()
        .map_err(|e| AppError::internal(format!("account {}: {e}", account.username)))?;
    Ok(Some((account, role)))
}

/// Who is calling, if anyone: the API token on API routes (cookies are then
/// ignored), else the session cookie.
pub async fn identify<S: Store>(
    console: &Console<S>,
    headers: &HeaderMap,
    kind: Kind,
) -> Result<Option<Caller>, AppError> {
    let now = console.now();
    if let Some(token) = bearer(headers) {
        if kind != Kind::Api {
            return Ok(None);
        }
        let Some(record) = console
            .store
            .api_token(&secrets::digest(API_PURPOSE, token))
            .await?
        else {
            return Ok(None);
        };
        if record.revoked_at.is_some() {
            return Ok(None);
        }
        let Some((account, role)) = account_for(console, &record.username).await? else {
            return Ok(None);
        };
        // A token never lets an account skip the second factor it owes.
        if role.requires_two_factor() && !account.totp_enabled {
            return Ok(None);
        }
        if record
            .last_used
            .is_none_or(|at| now.duration_since(at) > TOUCH_EVERY)
        {
            console.store.touch_api_token(record.id, now).await?;
        }
        return Ok(Some(Caller {
            account,
            role,
            stage: Stage::Full,
            session: None,
        }));
    }

    let Some(value) = cookie(
        headers,
        session_cookie_name(console.settings.secure_cookies),
    ) else {
        return Ok(None);
    };
    let id_hash = secrets::digest(SESSION_PURPOSE, value);
    let Some(session) = console.store.console_session(&id_hash).await? else {
        return Ok(None);
    };
    let idle = now.duration_since(session.last_seen);
    let expired = now >= session.expires_at
        || idle > console.settings.idle_timeout
        || (session.pending_code
            && now.duration_since(session.created_at) > console.settings.code_timeout);
    if expired {
        console.store.end_console_session(&id_hash).await?;
        return Ok(None);
    }
    let Some((account, role)) = account_for(console, &session.username).await? else {
        return Ok(None);
    };
    let stage = if session.pending_code {
        Stage::AwaitingCode
    } else if role.requires_two_factor() && !account.totp_enabled {
        Stage::MustEnrol
    } else {
        Stage::Full
    };
    if idle > TOUCH_EVERY {
        console.store.touch_console_session(&id_hash, now).await?;
    }
    Ok(Some(Caller {
        account,
        role,
        stage,
        session: Some(session),
    }))
}

/// Whether the rule lets this caller in, and if not, what they get instead.
enum Verdict {
    Enter,
    SignIn,
    EnterCode,
    Enrol,
    Refuse,
}

fn judge(access: Access, caller: Option<&Caller>) -> Verdict {
    let stage = caller.map(|c| c.stage);
    match access {
        Access::Anyone => Verdict::Enter,
        Access::AwaitingCode => match stage {
            Some(Stage::AwaitingCode) => Verdict::Enter,
            _ => Verdict::SignIn,
        },
        Access::SignedIn => match stage {
            Some(Stage::Full | Stage::MustEnrol) => Verdict::Enter,
            Some(Stage::AwaitingCode) => Verdict::EnterCode,
            None => Verdict::SignIn,
        },
        Access::Roles(roles) => match caller {
            Some(c) if c.stage == Stage::Full => {
                if roles.contains(&c.role) {
                    Verdict::Enter
                } else {
                    Verdict::Refuse
                }
            }
            Some(c) if c.stage == Stage::MustEnrol => Verdict::Enrol,
            Some(_) => Verdict::EnterCode,
            None => Verdict::SignIn,
        },
    }
}

/// The per-route layer: identifies the caller and applies the route's rule.
pub async fn enforce<S: Store + 'static>(
    console: Arc<Console<S>>,
    access: Access,
    kind: Kind,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match identify(&console, request.headers(), kind).await {
        Ok(caller) => caller,
        Err(e) => {
            return match kind {
                Kind::Api => ApiError(e).into_response(),
                Kind::Page => e.into_response(),
            };
        }
    };
    let verdict = judge(access, caller.as_ref());
    match (verdict, kind) {
        (Verdict::Enter, _) => {
            if let Some(caller) = caller {
                request.extensions_mut().insert(caller);
            }
            next.run(request).await
        }
        (Verdict::Refuse, Kind::Page) => AppError::forbidden().into_response(),
        (Verdict::Refuse | Verdict::Enrol | Verdict::EnterCode, Kind::Api) => {
            ApiError(AppError::forbidden()).into_response()
        }
        (Verdict::SignIn, Kind::Api) => ApiError(AppError::not_signed_in()).into_response(),
        (Verdict::SignIn, Kind::Page) => Redirect::to("/sign-in").into_response(),
        (Verdict::EnterCode, Kind::Page) => Redirect::to("/sign-in/code").into_response(),
        (Verdict::Enrol, Kind::Page) => Redirect::to("/account/two-factor").into_response(),
    }
}
