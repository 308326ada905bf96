//! One request through the proxy, in phases: route (the proxy's own pages,
//! CONNECT, or a web request), identify (sign-in, then the gate), decide,
//! act (block page or forward), log (when the body is done).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use classify::canon::CanonUrl;
use gate::Gate;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use jiff::Timestamp;
use policy::{Decision, Engine, Rule, Verdict};
use store::{ActivityEvent, Source};

use crate::event::{Draft, ProxyBody, categories, rule_id};
use crate::origin::{Origin, OriginError, signs_in_on_connection};
use crate::pages::{self, BlockPage, Why};
use crate::parent::Parent;
use crate::server::{Conn, RecentBlock};
use crate::settings::Authentication;
use crate::upstream::{self, ConnectError};

/// Who is asking and under which policy, fixed for the whole request.
pub struct Asker {
    pub who: gate::Who,
    pub engine: Arc<Engine>,
    pub profile: usize,
    pub now: Timestamp,
}

impl Asker {
    pub fn profile_id(&self) -> &str {
        &self.engine.policy().profiles[self.profile].id
    }
}

/// The whole response for one request.
pub async fn handle<S: store::Store + Clone + 'static>(
    conn: Arc<Conn<S>>,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let started = Instant::now();
    if request.method() == Method::CONNECT {
        return crate::tunnel::connect(conn, request, started).await;
    }
    let own = match request.uri().authority() {
        None => true,
        Some(authority) => is_own_authority(&conn, authority),
    };
    if own {
        return crate::local::serve(&conn, request).await;
    }
    if request.uri().scheme_str() == Some("https") {
        // Fetching it would mean the proxy making the secure connection
        // itself; browsers never ask that (they use CONNECT), so a program
        // that does is set up wrongly. Nothing is sent anywhere.
        conn.shared.gate.metrics.malformed(Source::Proxy);
        tracing::info!(client = %conn.peer, "refused an https:// address sent without CONNECT");
        return text(
            StatusCode::BAD_REQUEST,
            "The school's web filter does not fetch https:// addresses itself. Programs reach secure \
             websites through it with CONNECT, as web browsers do: set this program's HTTPS proxy \
             (or \"use this proxy for all protocols\") to the school's web filter and try again.\n",
        );
    }
    if request.uri().scheme_str() != Some("http") {
        conn.shared.gate.metrics.malformed(Source::Proxy);
        return text(
            StatusCode::BAD_REQUEST,
            "schoolgate forwards http:// addresses; https:// sites are reached with CONNECT.\n",
        );
    }
    if is_loop(&conn, request.headers()) {
        return text(
            StatusCode::LOOP_DETECTED,
            "This request has already been through this proxy: it is going round in a loop. Check the proxy settings of the servers in between.\n",
        );
    }
    let user = match sign_in(&conn, request.headers()).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let asker = identify(&conn, user.as_deref());

    // Decide on the canonical URL; the event keeps the URL as asked, less
    // any user name and password in it.
    let url = logged_url(request.uri());
    let canon = match CanonUrl::parse(&url) {
        Ok(canon) => canon,
        Err(e) => {
            conn.shared.gate.metrics.malformed(Source::Proxy);
            tracing::info!(client = %conn.peer, error = %e, "request for an address that cannot be read");
            return problem(
                &asker,
                StatusCode::BAD_REQUEST,
                "This address cannot be opened",
                &format!("The address could not be read: {e}."),
                "Check the address and try again.",
            );
        }
    };
    if !crate::aup::is_help_site(canon.host())
        && let Some(pending) = conn.shared.aup.pending(
            &asker.engine,
            asker.profile,
            asker.who.user.as_deref(),
            asker.now,
        )
    {
        return crate::local::aup_page(&conn, &asker, &pending, StatusCode::FORBIDDEN);
    }
    let decision = asker.engine.decide(asker.profile, &canon, asker.now);
    let search_term = gate::search::search_term(&canon);
    let rule = rule_id(&asker.engine, &decision, || {
        asker.engine.explain(&canon, &decision).rule
    });
    let draft = draft(
        &conn,
        &asker,
        request.method().as_str(),
        url,
        canon.host().to_owned(),
        search_term,
        &decision,
        rule,
        started,
    );
    if decision.verdict == Verdict::Block {
        return block(&conn, &asker, &canon, &decision, draft);
    }
    forward(&conn, &asker, request, &canon, &decision, draft).await
}

/// The URL as the browser asked for it, without userinfo: passwords are
/// never logged.
fn logged_url(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let rest = uri.path_and_query().map_or("/", |p| p.as_str());
    // Put together directly: this runs for every request.
    let mut url = String::with_capacity(scheme.len() + 3 + host.len() + rest.len());
    url.push_str(scheme);
    url.push_str("://");
    url.push_str(host);
    url.push_str(rest);
    url
}

/// Whether an absolute-form request names this proxy itself.
fn is_own_authority<S>(conn: &Conn<S>, authority: &http::uri::Authority) -> bool {
    let port = authority.port_u16().unwrap_or(80);
    let host = authority.host();
    if let Some(public) = &conn.shared.settings.public_address
        && let Some((public_host, public_port)) = crate::settings::split_host_port(public)
        && public_port == port
        && public_host.eq_ignore_ascii_case(host)
    {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let ip = if bare.eq_ignore_ascii_case("localhost") {
        Some(IpAddr::from([127, 0, 0, 1]))
    } else {
        bare.parse::<IpAddr>().ok()
    };
    ip.is_some_and(|ip| {
        upstream::is_own(
            SocketAddr::new(ip, port),
            &conn.shared.listeners,
            conn.local,
        )
    })
}

fn is_loop<S>(conn: &Conn<S>, headers: &HeaderMap) -> bool {
    let ours = conn.shared.via.as_bytes();
    headers.get_all(header::VIA).iter().any(|v| {
        v.as_bytes()
            .split(|b| *b == b',')
            .any(|part| part.trim_ascii() == ours)
    })
}

/// Works out who is asking: the gate's identification with the signed-in
/// user, the profile to filter with, and the time.
pub fn identify<S>(conn: &Conn<S>, user: Option<&str>) -> Asker {
    let gate = &conn.shared.gate;
    let now = conn.shared.settings.clock.now();
    let who = gate.identify(conn.peer.ip(), user, now);
    let engine = gate.engine();
    let profile = Gate::profile_for(&engine, &who);
    Asker {
        who,
        engine,
        profile,
        now,
    }
}

/// Checks proxy sign-in. `Err` is the 407 to send.
pub async fn sign_in<S>(
    conn: &Conn<S>,
    headers: &HeaderMap,
) -> Result<Option<Arc<str>>, Response<ProxyBody>> {
    let mode = conn.shared.settings.authentication;
    if mode == Authentication::Off {
        return Ok(None);
    }
    let Some(value) = headers.get(header::PROXY_AUTHORIZATION) else {
        return match mode {
            Authentication::Required => Err(sign_in_required()),
            _ => Ok(None),
        };
    };
    {
        let signed_in = conn.signed_in.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((remembered, (user, at))) = &*signed_in
            && remembered.as_slice() == value.as_bytes()
            && at.elapsed() < crate::auth::REMEMBER
        {
            return Ok(Some(user.clone()));
        }
    }
    match conn
        .shared
        .sign_ins
        .check(&conn.shared.gate, value.as_bytes())
        .await
    {
        Some(user) => {
            *conn.signed_in.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((value.as_bytes().to_vec(), (user.clone(), Instant::now())));
            Ok(Some(user))
        }
        None => Err(sign_in_required()),
    }
}

fn sign_in_required() -> Response<ProxyBody> {
    let mut response = text(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        "Sign in to use the school's internet: use your school user name and password.\n",
    );
    response.headers_mut().insert(
        header::PROXY_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"schoolgate\", charset=\"UTF-8\""),
    );
    response
}

/// The event for a decided request, to be finished when the answer is sent.
#[allow(clippy::too_many_arguments)]
pub fn draft<S>(
    conn: &Conn<S>,
    asker: &Asker,
    method: &str,
    url: String,
    host: String,
    search_term: Option<String>,
    decision: &Decision,
    rule: String,
    started: Instant,
) -> Draft {
    Draft {
        event: ActivityEvent {
            at: asker.now,
            source: Source::Proxy,
            client_ip: conn.peer_ip.clone(),
            username: asker.who.user.as_deref().map(str::to_owned),
            device: asker.who.device.as_deref().map(str::to_owned),
            profile: asker.profile_id().to_owned(),
            method: method.to_owned(),
            url,
            host,
            search_term,
            categories: categories(decision),
            verdict: decision.verdict.as_str().to_owned(),
            rule,
            status: None,
            bytes: 0,
            duration_ms: 0,
            reference: None,
        },
        verdict: decision.verdict,
        started,
        gate: conn.shared.gate.clone(),
    }
}

/// The time in the school's time zone, as a page shows it.
pub fn local_time(engine: &Engine, at: Timestamp) -> String {
    let zone = jiff::tz::TimeZone::get(&engine.policy().school.timezone)
        .unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned(zone).strftime("%-d %B %Y at %H:%M").to_string()
}

/// What a block says, for pages and for CONNECT's 403: the reference (none
/// for statutory blocks), the reason, and the event's rule.
pub struct Blocked {
    pub reference: Option<String>,
    pub why: Option<Why>,
    pub statutory_text: Option<&'static str>,
}

/// Works out what to tell the person about a block, and remembers it for a
/// review request.
pub fn blocked<S>(
    conn: &Conn<S>,
    asker: &Asker,
    shown: &str,
    decision: &Decision,
    explain: impl FnOnce() -> policy::Explanation,
    draft: &mut Draft,
) -> Blocked {
    if let Rule::Statutory(kind) = decision.rule {
        // The standard text and nothing else: no category, no reference, no
        // link to a review (DESIGN: statutory lists are not shown to anyone).
        return Blocked {
            reference: None,
            why: None,
            statutory_text: Some(classify::statutory::block_text(kind)),
        };
    }
    let why = match decision.rule {
        Rule::Category(category) => Why::Category {
            name: category.name(),
            description: category.description(),
        },
        _ => Why::Rule(explain().reason),
    };
    let reference = conn.shared.references.next();
    draft.event.reference = Some(reference.clone());
    conn.shared.recent.insert(
        &reference,
        RecentBlock {
            url: shown.to_owned(),
            profile: asker.profile_id().to_owned(),
            rule: draft.event.rule.clone(),
        },
    );
    Blocked {
        reference: Some(reference),
        why: Some(why),
        statutory_text: None,
    }
}

fn block<S>(
    conn: &Conn<S>,
    asker: &Asker,
    canon: &CanonUrl,
    decision: &Decision,
    mut draft: Draft,
) -> Response<ProxyBody> {
    let shown = draft.event.url.clone();
    let blocked = blocked(
        conn,
        asker,
        &shown,
        decision,
        || asker.engine.explain(canon, decision),
        &mut draft,
    );
    let html = match (&blocked.statutory_text, &blocked.reference, blocked.why) {
        (Some(text), _, _) => pages::statutory_page(text),
        (None, Some(reference), Some(why)) => {
            let link = format!(
                "http://{}/review?ref={}",
                conn.proxy_address(),
                pages::encode_query_value(reference)
            );
            BlockPage {
                school: &asker.engine.policy().school.name,
                address: &shown,
                why,
                reference,
                time: &local_time(&asker.engine, asker.now),
                review_link: &link,
            }
            .render()
        }
        _ => pages::statutory_page("This page is blocked."),
    };
    let mut response = html_response(StatusCode::FORBIDDEN, html);
    block_headers(
        response.headers_mut(),
        &draft.event.rule,
        blocked.reference.as_deref(),
    );
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.logged(403, draft))
}

/// `X-Schoolgate-Reason` (the rule) and `X-Schoolgate-Reference`, for tools
/// that do not show pages.
pub fn block_headers(headers: &mut HeaderMap, rule: &str, reference: Option<&str>) {
    if let Ok(v) = HeaderValue::from_str(rule) {
        headers.insert(HeaderName::from_static("x-schoolgate-reason"), v);
    }
    if let Some(reference) = reference
        && let Ok(v) = HeaderValue::from_str(reference)
    {
        headers.insert(HeaderName::from_static("x-schoolgate-reference"), v);
    }
}

/// Whether a header always belongs to one connection only.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    *name == header::CONNECTION
        || *name == header::PROXY_AUTHORIZATION
        || *name == header::PROXY_AUTHENTICATE
        || *name == header::TE
        || *name == header::TRAILER
        || *name == header::TRANSFER_ENCODING
        || *name == header::UPGRADE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// Removes the headers that belong to one connection, not to the message
/// (RFC 9110 §7.6.1), including any the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none: one pass over the names is cheaper than
    // removing each possible one by lookup.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    if let Some(connection) = headers.get(header::CONNECTION) {
        let named: Vec<HeaderName> = connection
            .to_str()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.eq_ignore_ascii_case("close") && !t.eq_ignore_ascii_case("keep-alive"))
            .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    // Only the ones present are looked up to be removed.
    while let Some(name) = headers.keys().find(|n| is_hop_by_hop(n)).cloned() {
        headers.remove(name);
    }
}

async fn forward<S>(
    conn: &Conn<S>,
    asker: &Asker,
    request: Request<Incoming>,
    canon: &CanonUrl,
    decision: &Decision,
    draft: Draft,
) -> Response<ProxyBody> {
    let port = request.uri().port_u16().unwrap_or(80);
    // Safe search: the same request, sent to the engine's enforcing host.
    let host = match decision.safe_search {
        Some((_, enforced)) => enforced,
        None => canon.host(),
    };
    let route = route(conn, host, decision.safe_search.is_some());
    let (mut head, body) = request.into_parts();
    prepare_request(conn, &mut head);
    // The request target: in origin form for a web server, in absolute form
    // for a parent proxy.
    let absolute;
    let target = match route {
        Route::Parent(parent) => {
            if let Some(value) = &parent.authorization {
                head.headers
                    .insert(header::PROXY_AUTHORIZATION, value.clone());
            }
            absolute = logged_url(&head.uri);
            absolute.as_str()
        }
        _ => head.uri.path_and_query().map_or("/", |pq| pq.as_str()),
    };
    let signs_in = signs_in_on_connection(head.headers.get(header::AUTHORIZATION));

    let (mut upstream, reused) = match take_or_connect(conn, host, port, route).await {
        Ok(u) => u,
        Err(e) => return unreachable(conn, asker, canon.host(), e, draft),
    };
    upstream.pinned |= signs_in;
    let home = conn.home.clone();
    let answer_timeout = conn.shared.settings.answer_timeout();
    // The client connection is quiet while the web server thinks; its idle
    // watchdog leaves it be, as the wait has a limit of its own.
    let waiting = conn.activity.waiting();
    // A request with a body can be sent once only; one without is sent
    // again on a new connection when a kept one turns out to have closed.
    let mut result = upstream
        .send(
            &head.method,
            target,
            &head.headers,
            Some(body),
            home.clone(),
            answer_timeout,
        )
        .await;
    if reused && let Err((_, true)) = &result {
        match connect_new(conn, host, port, route).await {
            Ok(mut fresh) => {
                fresh.pinned |= signs_in;
                result = fresh
                    .send(
                        &head.method,
                        target,
                        &head.headers,
                        None,
                        home,
                        answer_timeout,
                    )
                    .await;
            }
            Err(e) => return unreachable(conn, asker, canon.host(), e, draft),
        }
    }
    drop(waiting);
    match result {
        Ok((parts, _))
            if parts.status == StatusCode::PROXY_AUTHENTICATION_REQUIRED
                && let Route::Parent(parent) = route =>
        {
            // The browser cannot sign in to the parent: its credentials
            // are the school's to configure.
            unreachable(
                conn,
                asker,
                canon.host(),
                ConnectError::ParentAnswered {
                    parent: parent.shown.clone(),
                    status: 407,
                },
                draft,
            )
        }
        Ok((mut parts, body)) => {
            strip_hop_by_hop(&mut parts.headers);
            parts.headers.append(header::VIA, conn.shared.via.clone());
            parts.version = Version::HTTP_11;
            let status = parts.status.as_u16();
            Response::from_parts(parts, ProxyBody::upstream(body).logged(status, draft))
        }
        Err((e, _)) => {
            let host = canon.host();
            let (status, title, what, next) = match e {
                OriginError::TimedOut => {
                    let seconds = conn.shared.settings.answer_timeout_seconds;
                    tracing::info!(client = %conn.peer, host = %host, seconds, "the web server began no answer in time");
                    (
                        StatusCode::GATEWAY_TIMEOUT,
                        "The website did not answer in time",
                        format!(
                            "schoolgate reached {host} and passed on the request, but the website did not begin its answer within {}.",
                            crate::pages::seconds(seconds)
                        ),
                        "The website may be very busy. Try again in a few minutes; if a school system is always this slow, tell the school's IT team.",
                    )
                }
                e => {
                    tracing::info!(host = %host, error = %e, "the web server's answer could not be read");
                    (
                        StatusCode::BAD_GATEWAY,
                        "The website sent a broken answer",
                        format!(
                            "schoolgate reached {host} but could not read its answer ({}).",
                            e.short()
                        ),
                        "Try again in a minute. If it keeps happening, the website may be having problems.",
                    )
                }
            };
            let time = local_time(&asker.engine, asker.now);
            let response = html_response(status, pages::problem_page(title, &what, next, &time));
            let (parts, body) = response.into_parts();
            Response::from_parts(parts, body.logged(status.as_u16(), draft))
        }
    }
}

/// Makes the request's headers ready for the web server.
fn prepare_request<S>(conn: &Conn<S>, head: &mut http::request::Parts) {
    let uri = &head.uri;
    // The authority without any user name and password.
    let host_value = uri.authority().and_then(|a| {
        let s = a.as_str();
        let s = s.rsplit_once('@').map_or(s, |(_, h)| h);
        HeaderValue::from_str(s).ok()
    });
    let headers = &mut head.headers;
    strip_hop_by_hop(headers);
    // The client's expectation of 100 Continue is answered by hyper when the
    // body is read; the web server need not wait for it.
    headers.remove(header::EXPECT);
    if let Some(host) = host_value {
        headers.insert(header::HOST, host);
    }
    headers.append(header::VIA, conn.shared.via.clone());
}

/// How a request reaches its web server.
#[derive(Clone, Copy)]
enum Route<'a> {
    /// Straight to the web server.
    Direct,
    /// To the parent proxy, in absolute form, on kept connections to it.
    Parent(&'a Parent),
    /// Through a tunnel the parent opens to the web server, for a safe
    /// search host: a request in absolute form would have the parent
    /// replace the browser's `Host` with the enforcing host's name.
    ParentTunnel(&'a Parent),
}

fn route<'a, S>(conn: &'a Conn<S>, host: &str, safe_search: bool) -> Route<'a> {
    match &conn.shared.parent {
        Some(parent) if !parent.is_direct(host) => {
            if safe_search {
                Route::ParentTunnel(parent)
            } else {
                Route::Parent(parent)
            }
        }
        _ => Route::Direct,
    }
}

async fn take_or_connect<S>(
    conn: &Conn<S>,
    host: &str,
    port: u16,
    route: Route<'_>,
) -> Result<(Origin, bool), ConnectError> {
    // Requests to a parent share its connections, whatever their host.
    let (host, port) = match route {
        Route::Parent(parent) => (parent.host.as_str(), parent.port),
        _ => (host, port),
    };
    let kept = conn
        .home
        .kept
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(host, port);
    if let Some(upstream) = kept {
        return Ok((upstream, true));
    }
    // Then one another client connection left in the shared pool.
    if let Some(upstream) = conn.home.pool.take(host, port) {
        return Ok((upstream, true));
    }
    connect_new(conn, host, port, route)
        .await
        .map(|u| (u, false))
}

async fn connect_new<S>(
    conn: &Conn<S>,
    host: &str,
    port: u16,
    route: Route<'_>,
) -> Result<Origin, ConnectError> {
    let through = match route {
        Route::Parent(parent) => {
            let shared = &conn.shared;
            let timeout = shared.settings.connect_timeout();
            let stream = parent
                .connect(&shared.resolver, timeout, &shared.listeners, conn.local)
                .await?;
            return Ok(Origin::new(stream, &parent.host, parent.port));
        }
        Route::ParentTunnel(parent) => Some(parent),
        Route::Direct => None,
    };
    let stream = conn.open(host, port, through).await?;
    Ok(Origin::new(stream, host, port))
}

/// The page for a web server that could not be reached.
fn unreachable<S>(
    conn: &Conn<S>,
    asker: &Asker,
    host: &str,
    error: ConnectError,
    draft: Draft,
) -> Response<ProxyBody> {
    tracing::info!(client = %conn.peer, host, error = %error, "could not reach the web server");
    error.count(&conn.shared.gate.metrics);
    let time = local_time(&asker.engine, asker.now);
    let seconds = conn.shared.settings.connect_timeout_seconds;
    let (status, title, what, next) = match &error {
        ConnectError::TimedOut => (
            StatusCode::GATEWAY_TIMEOUT,
            "The website did not answer",
            format!(
                "schoolgate tried to reach {host}, but it did not answer within {}.",
                crate::pages::seconds(seconds)
            ),
            "The website may be down or very busy. Try again in a few minutes; if no website works, tell the school's IT team.",
        ),
        ConnectError::NotFound => (
            StatusCode::BAD_GATEWAY,
            "This website could not be found",
            format!("There is no website called {host}: its name could not be found."),
            "Check the spelling of the address. If it is right, the website may have closed.",
        ),
        ConnectError::Refused(_) => (
            StatusCode::BAD_GATEWAY,
            "The website refused the connection",
            format!("schoolgate reached {host}, but it refused the connection."),
            "The website may be down. Try again in a few minutes.",
        ),
        ConnectError::Loop => (
            StatusCode::LOOP_DETECTED,
            "This address leads back to the web filter",
            format!("{host} is the address of the school's web filter itself."),
            "Open the address without going through the proxy, or tell the school's IT team.",
        ),
        ConnectError::Parent { parent, error } => (
            if matches!(**error, ConnectError::TimedOut) {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            },
            "The school's internet connection is not working",
            format!(
                "schoolgate allowed {host}, but websites are reached through another proxy ({parent}), and {}.",
                match **error {
                    ConnectError::TimedOut => "it did not answer in time".to_owned(),
                    ConnectError::NotFound => "its name could not be found".to_owned(),
                    ConnectError::Loop => "that address is schoolgate itself".to_owned(),
                    _ => format!("it could not be reached ({error})"),
                }
            ),
            "Tell the school's IT team: no website outside the school can be reached until that proxy answers (the setting is proxy.parent).",
        ),
        ConnectError::ParentAnswered {
            parent,
            status: 407,
        } => (
            StatusCode::BAD_GATEWAY,
            "The school's internet connection is not working",
            format!(
                "schoolgate allowed {host}, but the proxy websites are reached through ({parent}) asked schoolgate to sign in."
            ),
            "Tell the school's IT team: proxy.parent_credentials needs the user name and password that proxy expects.",
        ),
        ConnectError::ParentAnswered { parent, status } => (
            if *status == 403 {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_GATEWAY
            },
            "This website could not be reached",
            format!(
                "schoolgate allowed {host}, but the proxy websites are reached through ({parent}) would not connect to it (it answered {status})."
            ),
            "That proxy is run outside the school, for example by the trust or the local network. If the website is needed, tell the school's IT team.",
        ),
    };
    let html = pages::problem_page(title, &what, next, &time);
    let response = html_response(status, html);
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.logged(status.as_u16(), draft))
}

fn problem(
    asker: &Asker,
    status: StatusCode,
    title: &str,
    what: &str,
    next: &str,
) -> Response<ProxyBody> {
    let time = local_time(&asker.engine, asker.now);
    html_response(status, pages::problem_page(title, what, next, &time))
}

pub fn html_response(status: StatusCode, html: String) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::full(html));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn text(status: StatusCode, body: impl Into<String>) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::full(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_urls_drop_user_names_and_passwords() {
        let uri: Uri = "http://ada:secret@www.example.org:8080/a?b=c"
            .parse()
            .expect("uri");
        assert_eq!(logged_url(&uri), "http://www.example.org:8080/a?b=c");
        // Without user information, the URL as the request line gave it.
        for text in [
            "http://www.example.org/a",
            "http://www.example.org",
            "http://www.example.org:81/?q=a%20b",
            "http://[::1]:8080/x?y",
        ] {
            let uri: Uri = text.parse().expect("uri");
            assert_eq!(logged_url(&uri), uri.to_string(), "{text}");
        }
    }

    #[test]
    fn hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("proxy-connection", HeaderValue::from_static("keep-alive"));
        h.insert(
            header::PROXY_AUTHORIZATION,
            HeaderValue::from_static("Basic x"),
        );
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::ACCEPT));
    }
}
