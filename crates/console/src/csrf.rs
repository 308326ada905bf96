//! Protection against cross-site requests: every POST, PUT, PATCH and DELETE
//! must carry a token bound to the browser's session (a synchroniser token):
//! a `csrf` field in forms, or an `X-CSRF-Token` header from htmx and
//! scripts. Another site can make a browser send a form, but cannot read the
//! token to put in it. Calls with a personal API token (`Authorization:
//! Bearer`) are exempt: no cookie is involved, so there is nothing for
//! another site to ride on.
//!
//! The token is a digest of the session cookie's value (or, before sign-in,
//! of an anonymous cookie this layer sets), so it changes with every session
//! and is never stored.
//!
//! Multipart forms (file uploads such as the people import) carry the token
//! in a `csrf` field too: the body, bounded by
//! [`crate::people_import::UPLOAD_LIMIT`], is read here, only the token
//! field is looked at, and the body is passed on untouched.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use store::Store;

use crate::session::{anonymous_cookie_name, cookie, session_cookie_name, set_cookie};
use crate::{ApiError, AppError, Console, multipart, secrets};

/// The header htmx and scripts send the token in.
pub const HEADER: &str = "x-csrf-token";
/// The form field pages send it in.
pub const FIELD: &str = "csrf";
/// Forms larger than this are refused (a CSV import uses multipart).
const FORM_LIMIT: usize = 1024 * 1024;
/// Multipart bodies: the largest upload plus room for the other fields.
pub const MULTIPART_LIMIT: usize = crate::people_import::UPLOAD_LIMIT + 256 * 1024;

/// The largest upload a path takes: an incident's documents (up to 20 MB),
/// or the people import.
fn upload_limit(path: &str) -> usize {
    if path.starts_with("/incidents/") {
        crate::handlers::records::ATTACHMENT_LIMIT
    } else {
        crate::people_import::UPLOAD_LIMIT
    }
}

/// What this browser's tokens are derived from; every request has one.
/// It is the session cookie's value, so it never appears in `Debug`.
#[derive(Clone)]
pub struct CsrfKey(String);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    /// The token forms and headers must carry.
    pub fn token(&self) -> String {
        secrets::digest("schoolgate csrf", &self.0)
    }
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request authenticates with a bearer token (and so no cookie).
pub fn has_bearer(request: &Request) -> bool {
    request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

fn refuse(path: &str, error: AppError) -> Response {
    if path.starts_with("/api/") {
        ApiError(error).into_response()
    } else {
        error.into_response()
    }
}

/// The layer, over the whole router.
pub async fn protect<S: Store + 'static>(
    State(console): State<Arc<Console<S>>>,
    request: Request,
    next: Next,
) -> Response {
    let secure = console.settings.secure_cookies;
    let headers = request.headers();
    let existing = cookie(headers, session_cookie_name(secure))
        .or_else(|| cookie(headers, anonymous_cookie_name(secure)))
        .map(str::to_owned);
    let (key, fresh) = match existing {
        Some(value) => (value, None),
        None => match secrets::random_token() {
            Ok(value) => (value.clone(), Some(value)),
            Err(e) => return AppError::from(e).into_response(),
        },
    };
    let key = CsrfKey(key);
    let path = request.uri().path().to_owned();

    let mut request = request;
    if changes_state(request.method()) && !has_bearer(&request) {
        let expected = key.token();
        let from_header = request
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let given = match from_header {
            Some(token) => Some(token),
            None if is_form(&request) => {
                let (parts, body) = request.into_parts();
                let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
                    Ok(bytes) => bytes,
                    Err(_) => {
                        return refuse(
                            &path,
                            AppError::bad_request(
                                "That form was too large to accept. Send less at once.",
                            ),
                        )
                        .into_response();
                    }
                };
                let token = form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == FIELD)
                    .map(|(_, v)| v.into_owned());
                request = Request::from_parts(parts, Body::from(bytes));
                token
            }
            None if content_type(&request).is_some_and(multipart::is_multipart) => {
                let content_type = content_type(&request).unwrap_or_default().to_owned();
                let (parts, body) = request.into_parts();
                let bytes = match axum::body::to_bytes(body, upload_limit(&path) + 256 * 1024).await
                {
                    Ok(bytes) => bytes,
                    Err(_) => {
                        return refuse(
                            &path,
                            AppError::too_large(format!(
                                "That file is larger than {} MB, so nothing was read. \
                                 Split it into smaller files and upload each one.",
                                upload_limit(&path) / (1024 * 1024)
                            )),
                        );
                    }
                };
                let token = multipart::parse(&content_type, &bytes)
                    .ok()
                    .and_then(|form| form.text(FIELD));
                request = Request::from_parts(parts, Body::from(bytes));
                token
            }
            None => None,
        };
        if !given.is_some_and(|g| secrets::same(&g, &expected)) {
            let mut response = refuse(&path, AppError::stale_form());
            debug_assert_eq!(response.status(), StatusCode::FORBIDDEN);
            if let Some(value) = fresh {
                add_cookie(&mut response, &value, secure);
            }
            return response;
        }
    }

    request.extensions_mut().insert(key);
    let mut response = next.run(request).await;
    if let Some(value) = fresh {
        add_cookie(&mut response, &value, secure);
    }
    response
}

fn content_type(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

fn is_form(request: &Request) -> bool {
    content_type(request).is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn add_cookie(response: &mut Response, value: &str, secure: bool) {
    if let Ok(header) =
        HeaderValue::from_str(&set_cookie(anonymous_cookie_name(secure), value, secure))
    {
        response.headers_mut().append(SET_COOKIE, header);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_hidden_and_tokens_differ_by_key() {
        let key = CsrfKey("a-session-cookie-value".into());
        assert!(!format!("{key:?}").contains("a-session"));
        let other = CsrfKey("another".into());
        assert_ne!(key.token(), other.token());
        assert_eq!(key.token().len(), 64);
        assert!(!key.token().contains("a-session"));
    }
}
