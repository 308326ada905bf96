//! Session cookies. The cookie holds 256 random bits; the store keeps only
//! their digest. Cookies are `HttpOnly` (no script reads them),
//! `SameSite=Strict` (no other site's page sends them), `Path=/`, and
//! `Secure` with the `__Host-` prefix when the console is reached over
//! HTTPS. A session ends after the idle timeout or its absolute lifetime,
//! whichever comes first; signing out everywhere ends all of an account's.

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, USER_AGENT};
use store::{ConsoleSession, Store};

use crate::{AppError, Console, secrets};

/// Digest labels, one per kind of token.
pub const SESSION_PURPOSE: &str = "schoolgate console session";
pub const SETUP_PURPOSE: &str = "schoolgate set-up link";
pub const API_PURPOSE: &str = "schoolgate api token";

/// The signed-in session.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-sg_session"
    } else {
        "sg_session"
    }
}

/// Before sign-in: binds the sign-in and set-up forms' tokens to this
/// browser (it signs nobody in).
pub fn anonymous_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-sg_anon" } else { "sg_anon" }
}

/// A cookie's value from the request, if present.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// A `Set-Cookie` value: lasts as long as the browser does; the server ends
/// the session sooner.
pub fn set_cookie(name: &str, value: &str, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str, secure: bool) -> String {
    format!(
        "{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The browser as it names itself, shortened for the session list.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(200).collect())
        .unwrap_or_default()
}

/// Starts a session and returns the cookie value (the only copy of it).
/// `pending_code`: the password was right, the code is still to come.
pub async fn start<S: Store>(
    console: &Console<S>,
    username: &str,
    pending_code: bool,
    headers: &HeaderMap,
    client_ip: &str,
) -> Result<String, AppError> {
    let token = secrets::random_token()?;
    let now = console.now();
    let lifetime = if pending_code {
        console.settings.code_timeout
    } else {
        console.settings.session_lifetime
    };
    console
        .store
        .start_console_session(&ConsoleSession {
            id_hash: secrets::digest(SESSION_PURPOSE, &token),
            username: username.to_owned(),
            pending_code,
            created_at: now,
            last_seen: now,
            expires_at: now + lifetime,
            user_agent: user_agent(headers),
            client_ip: client_ip.to_owned(),
        })
        .await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            "other=1; sg_session=abc123; sg_session_x=no"
                .parse()
                .expect("header"),
        );
        assert_eq!(cookie(&headers, "sg_session"), Some("abc123"));
        assert_eq!(cookie(&headers, "sg_anon"), None);
    }

    #[test]
    fn set_cookie_has_the_right_attributes() {
        let plain = set_cookie("sg_session", "v", false);
        assert_eq!(plain, "sg_session=v; Path=/; HttpOnly; SameSite=Strict");
        let secure = set_cookie(session_cookie_name(true), "v", true);
        assert!(secure.starts_with("__Host-sg_session=v;"), "{secure}");
        assert!(secure.ends_with("; Secure"), "{secure}");
        assert!(clear_cookie("sg_session", false).contains("Max-Age=0"));
    }
}
