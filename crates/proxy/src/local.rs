//! The proxy's own small site, for requests aimed at the proxy itself:
//!
//! * `/` says what this is;
//! * `/proxy.pac` and `/wpad.dat` configure browsers (see [`crate::pac`]);
//! * `/review` asks for a block to be checked (the request is recorded in
//!   the store, where the console's reviewers decide it);
//! * `/review/status?reference=REF` shows the asker the decision and its
//!   reason, and nothing else;
//! * `/login-agent` is where a logon script says who is on which device.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use jiff::{SignedDuration, Timestamp};
use store::{LoginSession, ReviewRequest};

use crate::event::ProxyBody;
use crate::http::{html_response, identify, local_time, text};
use crate::pages;
use crate::reference::is_reference;
use crate::server::Conn;

/// The most a form posted to the proxy may hold.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// The longest message kept with a review request.
const MAX_MESSAGE_CHARS: usize = 1000;

pub async fn serve<S: store::Store + Clone + 'static>(
    conn: &Arc<Conn<S>>,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let read_only = method == Method::GET || method == Method::HEAD;
    match path.as_str() {
        "/" if read_only => index(conn),
        "/proxy.pac" | "/wpad.dat" if read_only => pac(conn, &request),
        "/review" if read_only => review_form(conn, &request),
        "/review" if method == Method::POST => review(conn, request).await,
        "/review/status" if read_only => review_status(conn, &request).await,
        "/login-agent" => login_agent(conn, request).await,
        "/aup" if read_only => aup_form(conn, &request).await,
        "/aup" if method == Method::POST => aup_agree(conn, request).await,
        "/" | "/proxy.pac" | "/wpad.dat" | "/review" | "/review/status" | "/aup" => {
            let mut response = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "This page cannot be used that way.\n",
            );
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static(if path == "/review" || path == "/aup" {
                    "GET, HEAD, POST"
                } else {
                    "GET, HEAD"
                }),
            );
            response
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "This is the school's web filter; there is no such page here.\n",
        ),
    }
}

fn index<S>(conn: &Conn<S>) -> Response<ProxyBody> {
    let engine = conn.shared.gate.engine();
    let link = format!("http://{}/proxy.pac", conn.proxy_address());
    html_response(
        StatusCode::OK,
        pages::index_page(&engine.policy().school.name, &link),
    )
}

fn pac<S>(conn: &Conn<S>, request: &Request<Incoming>) -> Response<ProxyBody> {
    // The proxy is wherever the browser found this file, unless the school
    // has said otherwise.
    let address = match &conn.shared.settings.public_address {
        Some(a) => a.clone(),
        None => request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| {
                let with_port = if crate::settings::split_host_port(h).is_some() {
                    h.to_owned()
                } else {
                    format!("{h}:80")
                };
                crate::settings::split_host_port(&with_port)
                    .is_some()
                    .then_some(with_port)
            })
            .unwrap_or_else(|| conn.local.to_string()),
    };
    let body = crate::pac::pac_file(&address, &conn.shared.settings.school_addresses);
    let mut response = Response::new(ProxyBody::full(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ns-proxy-autoconfig"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    response
}

fn review_form<S>(conn: &Conn<S>, request: &Request<Incoming>) -> Response<ProxyBody> {
    let query = request.uri().query().unwrap_or("");
    let fields = parse_form(query.as_bytes());
    let reference = field(&fields, "ref")
        .filter(|r| is_reference(r))
        .unwrap_or("");
    let engine = conn.shared.gate.engine();
    html_response(
        StatusCode::OK,
        pages::review_form(&engine.policy().school.name, reference),
    )
}

async fn read_form(request: Request<Incoming>, idle: std::time::Duration) -> Option<Bytes> {
    let body = Limited::new(request.into_body(), MAX_FORM_BYTES);
    match tokio::time::timeout(idle, body.collect()).await {
        Ok(Ok(collected)) => Some(collected.to_bytes()),
        _ => None,
    }
}

async fn review<S: store::Store + Clone + 'static>(
    conn: &Arc<Conn<S>>,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let asker = identify(conn, None);
    let school = asker.engine.policy().school.name.clone();
    let time = local_time(&asker.engine, asker.now);
    let Some(body) = read_form(request, conn.shared.settings.idle_timeout()).await else {
        return html_response(
            StatusCode::BAD_REQUEST,
            pages::problem_page(
                "The request could not be read",
                "The form did not arrive whole.",
                "Go back to the blocked page and try again.",
                &time,
            ),
        );
    };
    let fields = parse_form(&body);
    let reference = field(&fields, "ref")
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    if !is_reference(&reference) {
        return html_response(
            StatusCode::BAD_REQUEST,
            pages::problem_page(
                "That reference was not recognised",
                "A reference looks like SG-7K2Q-9F4D and is shown on the blocked page.",
                "Go back to the blocked page and press \"Ask for this to be checked\" again.",
                &time,
            ),
        );
    }
    let message: String = field(&fields, "message")
        .unwrap_or("")
        .trim()
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .collect();
    let block = conn.shared.recent.get(&reference);
    let (url, profile, rule) = match block {
        Some(b) => (b.url, b.profile, b.rule),
        // The block was before the proxy last restarted: the reference is
        // still in the activity log.
        None => (String::new(), asker.profile_id().to_owned(), String::new()),
    };
    let record = ReviewRequest {
        id: 0,
        at: asker.now,
        reference: reference.clone(),
        url,
        profile,
        rule,
        client_ip: conn.peer.ip().to_string(),
        username: asker.who.user.as_deref().map(str::to_owned),
        device: asker.who.device.as_deref().map(str::to_owned),
        message,
        status: "open".to_owned(),
    };
    match conn.shared.store.save_review_request(&record).await {
        Ok(number) => {
            tracing::info!(reference = %reference, number, "review requested");
            html_response(
                StatusCode::OK,
                pages::review_recorded(&school, &reference, number),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, reference = %reference, "a review request could not be recorded");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::problem_page(
                    "The request could not be recorded",
                    "Something went wrong saving your request.",
                    &format!(
                        "Please tell your teacher the reference {reference} so they can ask for you."
                    ),
                    &time,
                ),
            )
        }
    }
}

/// The outcome of a request, found by the block page's reference: the
/// decision and the reviewer's reason only (never the reviewer's name).
async fn review_status<S: store::Store + Clone + 'static>(
    conn: &Arc<Conn<S>>,
    request: &Request<Incoming>,
) -> Response<ProxyBody> {
    let fields = parse_form(request.uri().query().unwrap_or("").as_bytes());
    let reference = field(&fields, "reference")
        .or_else(|| field(&fields, "ref"))
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let engine = conn.shared.gate.engine();
    let school = engine.policy().school.name.clone();
    if !is_reference(&reference) {
        return html_response(
            StatusCode::BAD_REQUEST,
            pages::review_status(&school, &reference, None),
        );
    }
    match conn.shared.store.review_by_reference(&reference).await {
        Ok(found) => {
            let outcome = found.map(|r| pages::ReviewOutcome {
                status: r.status.as_str(),
                reason: r.decision_reason.unwrap_or_default(),
            });
            let status = if outcome.is_some() {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            html_response(
                status,
                pages::review_status(&school, &reference, Some(outcome)),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, reference = %reference, "a review request could not be read");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::problem_page(
                    "The request could not be looked up",
                    "Something went wrong reading the school's records.",
                    "Try again in a few minutes.",
                    &local_time(&engine, conn.shared.settings.clock.now()),
                ),
            )
        }
    }
}

/// Compares without stopping at the first difference, so the time taken
/// says nothing about the secret.
fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != secret.len());
    for (i, b) in secret.iter().enumerate() {
        difference |= b ^ given.get(i).copied().unwrap_or(0);
    }
    difference == 0
}

/// `POST /login-agent` with `Authorization: Bearer <secret>` and a form:
/// `user=U&device=D&address=A&minutes=N` signs U in on device D at address
/// A (the caller's own address by default) for N minutes; `action=logoff`
/// or the `DELETE` method signs the address out.
async fn login_agent<S: store::Store + Clone + 'static>(
    conn: &Arc<Conn<S>>,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let shared = &conn.shared;
    let Some(secret) = &shared.settings.agent_secret else {
        return text(
            StatusCode::NOT_FOUND,
            "The login agent is not switched on: set proxy.agent_secret in the configuration.\n",
        );
    };
    if request.method() != Method::POST && request.method() != Method::DELETE {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "Use POST to sign in and DELETE (or action=logoff) to sign out.\n",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
        return response;
    }
    let authorised = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| same_secret(given.trim().as_bytes(), secret.as_bytes()));
    if !authorised {
        tracing::warn!(client = %conn.peer, "login agent call with a wrong or missing secret");
        let mut response = text(
            StatusCode::UNAUTHORIZED,
            "The login agent's secret is missing or wrong.\n",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"schoolgate login agent\""),
        );
        return response;
    }
    let deleting = request.method() == Method::DELETE;
    let mut fields = parse_form(request.uri().query().unwrap_or("").as_bytes());
    let Some(body) = read_form(request, shared.settings.idle_timeout()).await else {
        return text(StatusCode::BAD_REQUEST, "The form could not be read.\n");
    };
    fields.extend(parse_form(&body));

    let address = match field(&fields, "address").map(str::trim) {
        None | Some("") => conn.peer.ip(),
        Some(a) => match a.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("address: '{a}' is not an IP address (such as 10.0.5.17).\n"),
                );
            }
        },
    };
    let now = shared.settings.clock.now();
    let user = field(&fields, "user").map(str::trim).unwrap_or("");
    if deleting || field(&fields, "action") == Some("logoff") {
        shared.gate.end_session(address);
        let ended = LoginSession {
            address: address.to_string(),
            username: if user.is_empty() {
                "-".into()
            } else {
                user.into()
            },
            device: None,
            started_at: now,
            expires_at: now,
        };
        if let Err(e) = shared.store.save_session(&ended).await {
            tracing::error!(error = %e, "the end of a login session could not be recorded");
        }
        tracing::info!(%address, "login agent: signed out");
        return text(StatusCode::OK, format!("Signed out {address}.\n"));
    }
    if user.is_empty() || user.len() > 256 {
        return text(
            StatusCode::BAD_REQUEST,
            "user: give the user name of the person signing in, such as user=ada.pupil.\n",
        );
    }
    let device = field(&fields, "device")
        .map(str::trim)
        .filter(|d| !d.is_empty() && d.len() <= 256);
    let minutes = match field(&fields, "minutes").map(str::trim) {
        None | Some("") => shared.settings.session_minutes,
        Some(m) => match m.parse::<u32>() {
            Ok(m) if (1..=7 * 24 * 60).contains(&m) => m,
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("minutes: '{m}' is not a number of minutes from 1 to 10080.\n"),
                );
            }
        },
    };
    let expires = now
        .checked_add(SignedDuration::from_mins(minutes as i64))
        .unwrap_or(Timestamp::MAX);
    shared.gate.start_session(
        address,
        gate::Session {
            user: Arc::from(user),
            device: device.map(Arc::from),
            expires,
        },
    );
    let session = LoginSession {
        address: address.to_string(),
        username: user.to_owned(),
        device: device.map(str::to_owned),
        started_at: now,
        expires_at: expires,
    };
    if let Err(e) = shared.store.save_session(&session).await {
        // The session is in force; only its record is missing.
        tracing::error!(error = %e, "a login session could not be recorded");
    }
    tracing::info!(user, device = device.unwrap_or("-"), %address, minutes, "login agent: signed in");
    text(
        StatusCode::OK,
        format!(
            "Signed in {user}{} at {address} for {minutes} minutes.\n",
            device.map(|d| format!(" on {d}")).unwrap_or_default()
        ),
    )
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Decodes `application/x-www-form-urlencoded` (also a query string).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let key = decode(parts.next().unwrap_or(&[]));
            let value = decode(parts.next().unwrap_or(&[]));
            (key, value)
        })
        .collect()
}

fn decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// Acceptable use (§7.2): the agreement, and agreeing to it.

/// The agreement page for someone who has still to agree.
pub fn aup_page<S>(
    conn: &Conn<S>,
    asker: &crate::http::Asker,
    pending: &crate::aup::Pending,
    status: StatusCode,
) -> Response<ProxyBody> {
    let school = &asker.engine.policy().school.name;
    let action = format!("http://{}/aup", conn.proxy_address());
    let mut response = html_response(
        status,
        pages::aup_page(school, &pending.text, &pending.version, &action),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn aup_form<S: store::Store + Clone + 'static>(
    conn: &Arc<Conn<S>>,
    request: &Request<Incoming>,
) -> Response<ProxyBody> {
    let user = match crate::http::sign_in(conn, request.headers()).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let asker = identify(conn, user.as_deref());
    match conn.shared.aup.pending(
        &asker.engine,
        asker.profile,
        asker.who.user.as_deref(),
        asker.now,
    ) {
        Some(pending) => aup_page(conn, &asker, &pending, StatusCode::OK),
        None => html_response(
            StatusCode::OK,
            pages::aup_done(&asker.engine.policy().school.name),
        ),
    }
}

async fn aup_agree<S: store::Store + Clone + 'static>(
    conn: &Arc<Conn<S>>,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let user = match crate::http::sign_in(conn, request.headers()).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let asker = identify(conn, user.as_deref());
    let school = asker.engine.policy().school.name.clone();
    let Some(body) = read_form(request, conn.shared.settings.idle_timeout()).await else {
        return text(
            StatusCode::BAD_REQUEST,
            "The form could not be read. Go back and try again.\n",
        );
    };
    let fields = parse_form(&body);
    let Some(pending) = conn.shared.aup.pending(
        &asker.engine,
        asker.profile,
        asker.who.user.as_deref(),
        asker.now,
    ) else {
        return html_response(StatusCode::OK, pages::aup_done(&school));
    };
    if field(&fields, "version") != Some(pending.version.as_str()) {
        // The agreement changed while the page was open: show the new one.
        return aup_page(conn, &asker, &pending, StatusCode::CONFLICT);
    }
    let entry = records::registers::RegisterEntry {
        id: 0,
        actor: pending.person.clone(),
        role: records::role::Role::Staff,
        at: asker.now,
        entry: records::registers::Entry::AupAcceptance {
            audience: pending.audience,
            version: pending.version.clone(),
            person: pending.person.clone(),
            how: format!("agreed on the web filter from {}", conn.peer_ip),
        },
    };
    if let Err(e) = conn.shared.store.add_register_entry(&entry).await {
        tracing::error!(error = %e, "an acceptable use agreement could not be recorded");
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Your agreement could not be recorded just now. Try again in a minute; if it keeps \
             happening, tell a member of staff.\n",
        );
    }
    conn.shared.aup.accepted(&pending);
    html_response(StatusCode::OK, pages::aup_done(&school))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let f = parse_form(b"user=ada.pupil&device=LAPTOP%2D07&message=hello+there%21&empty=");
        assert_eq!(field(&f, "user"), Some("ada.pupil"));
        assert_eq!(field(&f, "device"), Some("LAPTOP-07"));
        assert_eq!(field(&f, "message"), Some("hello there!"));
        assert_eq!(field(&f, "empty"), Some(""));
        assert_eq!(field(&parse_form(b"a=%zz%4"), "a"), Some("%zz%4"));
        assert_eq!(field(&parse_form(b"a=%41"), "a"), Some("A"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdeX", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdef0", b"0123456789abcdef"));
        assert!(!same_secret(b"", b"0123456789abcdef"));
    }
}
