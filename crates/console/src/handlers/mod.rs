//! The handlers, one module per area. Each route's access rule is in
//! [`crate::routes`]; handlers may rely on it (a handler behind
//! `Roles(ADMINISTRATORS)` only ever sees administrators).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub mod account;
pub mod accounts;
pub mod activity;
pub mod alerts;
pub mod api;
pub mod assets;
pub mod devices;
pub mod filtering;
pub mod filtering_api;
pub mod home;
pub mod people;
pub mod people_api;
pub mod records;
pub mod registers;
pub mod reports;
pub mod reviews;
pub mod setup;
pub mod sign_in;

/// The client's address, for throttling and the session list.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
        ))
    }
}

/// `?done=…` after a change: a fixed confirmation, never text from the URL.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

impl Done {
    pub fn notice(&self) -> Option<&'static str> {
        Some(match self.done.as_deref()? {
            "signed-out" => "You have signed out.",
            "signed-out-everywhere" => "You have signed out on every device.",
            "password-changed" => {
                "Your password has been changed, and every other device has been signed out."
            }
            "password-set" => "Your password is set. Sign in with it now.",
            "two-factor-on" => {
                "Two-factor sign-in is on. You will be asked for a code each time you sign in."
            }
            "token-revoked" => "The token has been revoked. Anything using it will stop working.",
            "disabled" => "The account is disabled and has been signed out everywhere.",
            "enabled" => "The account is enabled again.",
            "two-factor-reset" => {
                "Two-factor sign-in has been reset. They will set it up again at their next sign-in."
            }
            "unlocked" => "The account is unlocked.",
            // People, devices and networks.
            "person-changed" => "Saved. The change and its reason are in the audit trail.",
            "person-disabled" => {
                "They are disabled: filtered as someone unknown and unable to sign in. Nothing about them is deleted."
            }
            "person-enabled" => "They are enabled again.",
            "leavers-disabled" => {
                "The leavers you chose are disabled. Nothing about them is deleted."
            }
            "no-leavers" => "No leavers were ticked, so nobody was disabled.",
            "device-saved" => "The device is saved.",
            "device-removed" => "The device is removed from the registry.",
            "network-saved" => "The network is saved.",
            "network-removed" => "The network is removed.",
            _ => return None,
        })
    }
}

/// A 303 redirect that may also set cookies.
pub fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// Usernames: lower case letters, digits, dots, hyphens, underscores and
/// @, starting with a letter or digit, at most 64 characters.
pub fn valid_username(username: &str) -> bool {
    let mut chars = username.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && username.len() <= 64
        && chars.all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '@')
        })
}

/// A form's errors for a template: `list` in order for the summary at the
/// top, `by_field` for the message beside each field.
pub fn form_errors(errors: &[(&str, String)]) -> minijinja::Value {
    let by_field: std::collections::BTreeMap<String, String> = errors
        .iter()
        .map(|(f, m)| ((*f).to_owned(), m.clone()))
        .collect();
    let list: Vec<minijinja::Value> = errors
        .iter()
        .map(|(field, message)| minijinja::context! { field => *field, message => message })
        .collect();
    minijinja::context! { list => list, by_field => by_field }
}

/// Trims a form field; empty becomes none.
pub fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_plain() {
        for good in ["m.jones", "a1", "tech_2", "k.smith@school"] {
            assert!(valid_username(good), "{good}");
        }
        for bad in ["", "M.Jones", ".x", "a b", "a:b", &"a".repeat(65)] {
            assert!(!valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn notices_are_fixed_text() {
        let done = Done {
            done: Some("<script>".into()),
        };
        assert_eq!(done.notice(), None);
        let done = Done {
            done: Some("signed-out".into()),
        };
        assert_eq!(done.notice(), Some("You have signed out."));
    }
}
