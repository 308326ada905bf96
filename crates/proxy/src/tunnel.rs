//! CONNECT tunnels (HTTPS without interception).
//!
//! The requested host is decided first: a block is answered `403` with the
//! reason in `X-Schoolgate-Reason` and a short text body (browsers show
//! their own error page instead, see `docs/proxy.md`). An allowed tunnel is
//! connected (to the engine's enforcing host for safe search), answered
//! `200`, and then the browser's TLS ClientHello is read to learn the
//! server name (SNI). When the SNI names another host, that host is decided
//! too and the stricter verdict wins; the mismatch is logged. A tunnel
//! blocked on its SNI gets a TLS `access_denied` alert and is closed.

use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use classify::canon::{HostKind, canonical_host_into};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use policy::{Decision, Verdict};
use store::Source;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::event::{Draft, ProxyBody, categories, rule_id};
use crate::http::{Asker, block_headers, blocked, draft, identify, sign_in, text};
use crate::io::Watched;
use crate::server::Conn;
use crate::sni::{Hello, MAX_HELLO_BYTES, parse_client_hello};
use crate::upstream::ConnectError;

/// The buffer each direction of a tunnel starts with, and the most it
/// grows to.
const FIRST_BUFFER: usize = 16 * 1024;
const LARGEST_BUFFER: usize = 256 * 1024;

/// A direction of a tunnel that has carried this much is busy: the tunnel
/// goes on with threads of its own, when `[proxy] tunnel_threads` allows.
const THREADS_AFTER_BYTES: u64 = 1024 * 1024;

/// The stack of a tunnel's copying thread, which calls nothing deep.
const THREAD_STACK: usize = 128 * 1024;

/// A fatal TLS alert, `access_denied` (RFC 8446 §6.2), sent when a tunnel
/// is blocked on its SNI after the `200` has gone.
const ACCESS_DENIED_ALERT: [u8; 7] = [21, 3, 3, 0, 2, 2, 49];

pub async fn connect<S: store::Store + Clone + 'static>(
    conn: Arc<Conn<S>>,
    request: Request<Incoming>,
    started: Instant,
) -> Response<ProxyBody> {
    let Some(authority) = request.uri().authority().cloned() else {
        conn.shared.gate.metrics.malformed(Source::Proxy);
        return text(
            StatusCode::BAD_REQUEST,
            "CONNECT needs a host and port, such as CONNECT www.example.org:443.\n",
        );
    };
    let Some(port) = authority.port_u16() else {
        conn.shared.gate.metrics.malformed(Source::Proxy);
        return text(
            StatusCode::BAD_REQUEST,
            "CONNECT needs a port, such as CONNECT www.example.org:443.\n",
        );
    };
    let mut host = String::new();
    let kind = match canonical_host_into(authority.host(), &mut host) {
        Ok(kind) => kind,
        Err(e) => {
            conn.shared.gate.metrics.malformed(Source::Proxy);
            return text(
                StatusCode::BAD_REQUEST,
                format!("The host of this CONNECT cannot be read: {e}.\n"),
            );
        }
    };
    let user = match sign_in(&conn, request.headers()).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let asker = identify(&conn, user.as_deref());
    if !crate::aup::is_help_site(&host)
        && conn
            .shared
            .aup
            .pending(
                &asker.engine,
                asker.profile,
                asker.who.user.as_deref(),
                asker.now,
            )
            .is_some()
    {
        return text(
            StatusCode::FORBIDDEN,
            format!(
                "Before you use the internet at school, read and agree to the school's acceptable use \
                 agreement. Open http://{}/aup in your browser to read it.\n",
                conn.proxy_address()
            ),
        );
    }
    let ports = &conn.shared.settings.connect_ports;
    let decision = asker
        .engine
        .decide_host(asker.profile, &host, kind, asker.now);
    let shown = if port == 443 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let rule = rule_id(&asker.engine, &decision, || {
        asker.engine.explain_host(&host, kind, &decision).rule
    });
    let mut draft = draft(
        &conn,
        &asker,
        "CONNECT",
        shown.clone(),
        host.clone(),
        None,
        &decision,
        rule,
        started,
    );

    if decision.verdict != Verdict::Block && !ports.is_empty() && !ports.contains(&port) {
        // Tunnels to other ports would carry anything (SSH, VPNs), round the
        // filter.
        draft.verdict = Verdict::Block;
        draft.event.verdict = Verdict::Block.as_str().to_owned();
        draft.event.rule = format!("connect-port:{port}");
        let mut response = text(
            StatusCode::FORBIDDEN,
            format!(
                "Blocked by the school's web filter: secure connections may only use port {}, not {port}.\n",
                join_ports(ports)
            ),
        );
        block_headers(response.headers_mut(), &draft.event.rule, None);
        return logged(response, 403, draft);
    }
    if decision.verdict == Verdict::Block {
        return refuse(&conn, &asker, &host, kind, &shown, &decision, draft);
    }

    let target = upstream_host(&host, &decision).to_owned();
    let stream = match connect_upstream(&conn, &target, port).await {
        Ok(stream) => stream,
        Err(e) => return unreachable(&conn, &host, e, draft),
    };
    let upgrade = hyper::upgrade::on(request);
    let tunnel_conn = conn.clone();
    conn.shared.tracker.spawn(async move {
        let conn = tunnel_conn;
        match upgrade.await {
            Ok(upgraded) => {
                let tunnel = Tunnel {
                    conn: &conn,
                    asker: &asker,
                    host: &host,
                    port,
                    decision,
                    target,
                };
                // Take the socket back from hyper when it is ours, so the
                // copy runs without dynamic dispatch.
                match upgraded.downcast::<TokioIo<Watched<TcpStream>>>() {
                    Ok(parts) => {
                        tunnel
                            .run(parts.io.into_inner(), parts.read_buf, stream, draft)
                            .await
                    }
                    Err(upgraded) => {
                        tunnel
                            .run(TokioIo::new(upgraded), Bytes::new(), stream, draft)
                            .await
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "the CONNECT was not taken up");
                draft.finish(200, 0);
            }
        }
    });
    let mut response = Response::new(ProxyBody::empty());
    *response.status_mut() = StatusCode::OK;
    response
}

fn join_ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn logged(response: Response<ProxyBody>, status: u16, draft: Draft) -> Response<ProxyBody> {
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.logged(status, draft))
}

/// Where a decided tunnel goes: the enforcing host for safe search.
fn upstream_host<'a>(host: &'a str, decision: &Decision) -> &'a str {
    match decision.safe_search {
        Some((_, enforced)) => enforced,
        None => host,
    }
}

async fn connect_upstream<S>(
    conn: &Conn<S>,
    host: &str,
    port: u16,
) -> Result<TcpStream, ConnectError> {
    let through = conn.shared.parent.as_ref().filter(|p| !p.is_direct(host));
    conn.open(host, port, through).await
}

/// The 403 for a CONNECT blocked on its host.
fn refuse<S>(
    conn: &Conn<S>,
    asker: &Asker,
    host: &str,
    kind: HostKind,
    shown: &str,
    decision: &Decision,
    mut draft: Draft,
) -> Response<ProxyBody> {
    let blocked = blocked(
        conn,
        asker,
        shown,
        decision,
        || asker.engine.explain_host(host, kind, decision),
        &mut draft,
    );
    let body = match (&blocked.statutory_text, &blocked.why, &blocked.reference) {
        (Some(text), _, _) => format!("{text}\n"),
        (None, Some(why), Some(reference)) => {
            let why = match why {
                crate::pages::Why::Category { name, description } => {
                    format!("It is in the {name} group of websites: {description}")
                }
                crate::pages::Why::Rule(reason) => reason.clone(),
            };
            format!(
                "Blocked by {}'s web filter: {shown}\n{why}\nReference: {reference}\n\
                 To ask for it to be checked, open http://{}/review?ref={reference}\n",
                asker.engine.policy().school.name,
                conn.proxy_address()
            )
        }
        _ => "Blocked by the school's web filter.\n".to_owned(),
    };
    let mut response = text(StatusCode::FORBIDDEN, body);
    block_headers(
        response.headers_mut(),
        &draft.event.rule,
        blocked.reference.as_deref(),
    );
    logged(response, 403, draft)
}

fn unreachable<S>(
    conn: &Conn<S>,
    host: &str,
    error: ConnectError,
    draft: Draft,
) -> Response<ProxyBody> {
    tracing::info!(client = %conn.peer, host, error = %error, "could not open a tunnel");
    error.count(&conn.shared.gate.metrics);
    let seconds = conn.shared.settings.connect_timeout_seconds;
    let (status, body) = match error {
        ConnectError::TimedOut => (
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "{host} did not answer within {}. It may be down or very busy: try again in a few minutes.\n",
                crate::pages::seconds(seconds)
            ),
        ),
        ConnectError::NotFound => (
            StatusCode::BAD_GATEWAY,
            format!("There is no website called {host}: its name could not be found.\n"),
        ),
        ConnectError::Refused(_) => (
            StatusCode::BAD_GATEWAY,
            format!("{host} refused the connection. It may be down: try again in a few minutes.\n"),
        ),
        ConnectError::Loop => (
            StatusCode::LOOP_DETECTED,
            format!("{host} is the web filter itself: the tunnel would go round in a loop.\n"),
        ),
        ConnectError::Parent { parent, error } => (
            if matches!(*error, ConnectError::TimedOut) {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            },
            format!(
                "schoolgate allowed {host}, but websites are reached through another proxy ({parent}), which could not be reached: {error}. Tell the school's IT team (the setting is proxy.parent).\n"
            ),
        ),
        ConnectError::ParentAnswered { parent, status } => (
            if status == 403 {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_GATEWAY
            },
            if status == 407 {
                format!(
                    "schoolgate allowed {host}, but the proxy websites are reached through ({parent}) asked schoolgate to sign in. Tell the school's IT team: proxy.parent_credentials needs the user name and password that proxy expects.\n"
                )
            } else {
                format!(
                    "schoolgate allowed {host}, but the proxy websites are reached through ({parent}) would not connect to it (it answered {status}). That proxy is run outside the school; if the website is needed, tell the school's IT team.\n"
                )
            },
        ),
    };
    let code = status.as_u16();
    logged(text(status, body), code, draft)
}

/// Which of two verdicts is stricter: a block, then safe search, then allow.
fn strictness(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Allow => 0,
        Verdict::SafeSearch => 1,
        Verdict::Block => 2,
    }
}

struct Tunnel<'a, S> {
    conn: &'a Conn<S>,
    asker: &'a Asker,
    host: &'a str,
    port: u16,
    decision: Decision,
    /// The host the upstream stream is connected to.
    target: String,
}

impl<S> Tunnel<'_, S> {
    async fn run<C>(self, mut client: C, already: Bytes, upstream: TcpStream, mut draft: Draft)
    where
        C: ClientStream,
    {
        let shared = &self.conn.shared;
        let idle = shared.settings.idle_timeout();
        // The ClientHello: buffered, bounded, read across as many segments
        // as it takes.
        let mut hello = Vec::with_capacity(4096);
        hello.extend_from_slice(&already);
        let sni = loop {
            match parse_client_hello(&hello) {
                Hello::Incomplete => {}
                Hello::Complete { sni, ech } => {
                    if ech {
                        tracing::debug!(client = %self.conn.peer, host = self.host, "the browser offered Encrypted Client Hello; deciding on the public name");
                    }
                    break sni;
                }
                Hello::NotTls => break None,
                Hello::Malformed => {
                    tracing::info!(client = %self.conn.peer, host = self.host, "a tunnel opened with a broken TLS hello; closed");
                    shared.gate.metrics.malformed(Source::Proxy);
                    draft.event.rule.push_str("; malformed-tls");
                    draft.finish(200, 0);
                    return;
                }
            }
            if hello.len() >= MAX_HELLO_BYTES {
                draft.finish(200, 0);
                return;
            }
            let read = tokio::select! {
                read = tokio::time::timeout(idle, client.read_buf(&mut hello)) => read,
                () = shared.hard_stop.cancelled() => {
                    draft.finish(200, 0);
                    return;
                }
            };
            match read {
                Ok(Ok(n)) if n > 0 => {}
                // Closed, failed or silent: there is nothing to tunnel.
                _ => {
                    draft.finish(200, 0);
                    return;
                }
            }
        };

        let mut upstream = upstream;
        if let Some(sni) = sni {
            let mut name = String::new();
            let checked = canonical_host_into(&sni, &mut name);
            if name != self.host {
                match checked {
                    Ok(kind) => {
                        let by_name = self.asker.engine.decide_host(
                            self.asker.profile,
                            &name,
                            kind,
                            self.asker.now,
                        );
                        let stricter =
                            strictness(by_name.verdict) > strictness(self.decision.verdict);
                        tracing::warn!(
                            client = %self.conn.peer,
                            connect = self.host,
                            sni = %name,
                            verdict = by_name.verdict.as_str(),
                            "the server name in the TLS hello is not the host asked for in CONNECT"
                        );
                        if stricter {
                            draft.verdict = by_name.verdict;
                            draft.event.verdict = by_name.verdict.as_str().to_owned();
                            draft.event.categories = categories(&by_name);
                            draft.event.rule = rule_id(&self.asker.engine, &by_name, || {
                                self.asker.engine.explain_host(&name, kind, &by_name).rule
                            });
                        }
                        draft.event.rule.push_str("; sni-mismatch:");
                        draft.event.rule.push_str(&name);
                        if stricter && by_name.verdict == Verdict::Block {
                            let _ = client.write_all(&ACCESS_DENIED_ALERT).await;
                            let _ = client.shutdown().await;
                            draft.finish(200, 0);
                            return;
                        }
                        if stricter {
                            let target = upstream_host(&name, &by_name);
                            if target != self.target {
                                match connect_upstream(self.conn, target, self.port).await {
                                    Ok(s) => upstream = s,
                                    Err(e) => {
                                        tracing::info!(host = target, error = %e, "could not reach the safe-search host");
                                        draft.finish(200, 0);
                                        return;
                                    }
                                }
                            }
                        }
                    }
                    Err(_) => {
                        // A name that is not a host name at all: refuse it
                        // rather than guess.
                        draft.event.rule.push_str("; sni-unreadable");
                        let _ = client.write_all(&ACCESS_DENIED_ALERT).await;
                        draft.verdict = Verdict::Block;
                        draft.event.verdict = Verdict::Block.as_str().to_owned();
                        draft.finish(200, 0);
                        return;
                    }
                }
            }
        }

        let mut upstream = upstream;
        if upstream.write_all(&hello).await.is_err() {
            draft.finish(200, 0);
            return;
        }
        let mut up = Pump::new(hello.len() as u64);
        let mut down = Pump::new(0);
        let carried = Carried([up.moved.clone(), down.moved.clone()]);
        let mut threads = if C::THREADABLE {
            shared.tunnel_threads.clone()
        } else {
            None
        };
        let (mut from_client, mut to_client) = tokio::io::split(client);
        let (mut from_server, mut to_server) = upstream.split();
        let mut watchdog = tokio::time::interval_at(tokio::time::Instant::now() + idle, idle);
        let mut last = 0;
        // Pumps keep what they have read but not yet written in their own
        // state, so either may be stopped at any point and carried on.
        let permit = loop {
            let moved = tokio::select! {
                moved = up.run(&mut from_client, &mut to_server, threads.is_some()), if !up.ended => moved,
                moved = down.run(&mut from_server, &mut to_client, threads.is_some()), if !down.ended => moved,
                () = shared.hard_stop.cancelled() => break None,
                _ = watchdog.tick() => {
                    if carried.nothing_since(&mut last) {
                        tracing::debug!(client = %self.conn.peer, host = self.host, "closing an idle tunnel");
                        break None;
                    }
                    continue;
                }
            };
            match moved {
                Ok(Pumped::Ended) if up.ended && down.ended => break None,
                Ok(Pumped::Ended) => {}
                Ok(Pumped::Busy) => {
                    // Only the first busy moment asks for threads; a tunnel
                    // refused them stays here.
                    let permit = threads.take().and_then(|t| t.try_acquire_owned().ok());
                    if permit.is_some() {
                        break permit;
                    }
                }
                Err(_) => break None,
            }
        };
        if let Some(permit) = permit
            && let Some(client) = from_client.unsplit(to_client).into_tcp()
        {
            tracing::debug!(client = %self.conn.peer, host = self.host, "a busy tunnel goes on with threads of its own");
            let counted = shared.gate.metrics.tunnel_threaded();
            on_threads(
                client,
                upstream,
                [up, down],
                &carried,
                &shared.hard_stop,
                idle,
            )
            .await;
            drop((counted, permit));
        }
        draft.finish(200, carried.total());
    }
}

/// A browser's side of a tunnel, which may be handed to threads of its own
/// when it is a plain socket.
trait ClientStream: AsyncRead + AsyncWrite + Unpin {
    /// Whether [`ClientStream::into_tcp`] gives the socket.
    const THREADABLE: bool;
    fn into_tcp(self) -> Option<TcpStream>;
}

impl ClientStream for Watched<TcpStream> {
    const THREADABLE: bool = true;
    fn into_tcp(self) -> Option<TcpStream> {
        Some(self.into_inner())
    }
}

impl ClientStream for TokioIo<hyper::upgrade::Upgraded> {
    const THREADABLE: bool = false;
    fn into_tcp(self) -> Option<TcpStream> {
        None
    }
}

/// What both directions of a tunnel have carried, read by its watchdog
/// and logged at the end.
struct Carried([Arc<AtomicU64>; 2]);

impl Carried {
    fn total(&self) -> u64 {
        self.0.iter().map(|m| m.load(Ordering::Relaxed)).sum()
    }

    /// Whether nothing has moved since the total was `last`; notes the
    /// total now for next time.
    fn nothing_since(&self, last: &mut u64) -> bool {
        let now = self.total();
        std::mem::replace(last, now) == now
    }
}

/// How a pump stopped.
enum Pumped {
    /// End of file was read and passed on.
    Ended,
    /// The direction has carried [`THREADS_AFTER_BYTES`].
    Busy,
}

/// One direction of a tunnel. What has been read but not yet written on
/// is kept here, not in a future, so a pump stopped at any point loses
/// nothing and can be carried on, here or on a thread.
struct Pump {
    buffer: Vec<u8>,
    /// `buffer[written..filled]` is still to be written.
    written: usize,
    filled: usize,
    ended: bool,
    moved: Arc<AtomicU64>,
}

impl Pump {
    /// The buffer starts small, because browsers keep many tunnels open and
    /// idle, and doubles while reads fill it, for bulk transfers.
    fn new(moved: u64) -> Self {
        Pump {
            buffer: vec![0; FIRST_BUFFER],
            written: 0,
            filled: 0,
            ended: false,
            moved: Arc::new(AtomicU64::new(moved)),
        }
    }

    /// Copies until end of file, then passes the end on; when `watch_busy`,
    /// stops early once the direction has carried [`THREADS_AFTER_BYTES`].
    async fn run<R, W>(
        &mut self,
        from: &mut R,
        to: &mut W,
        watch_busy: bool,
    ) -> std::io::Result<Pumped>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        loop {
            while self.written < self.filled {
                let n = to.write(&self.buffer[self.written..self.filled]).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::WriteZero.into());
                }
                self.written += n;
                let before = self.moved.fetch_add(n as u64, Ordering::Relaxed);
                if watch_busy
                    && before < THREADS_AFTER_BYTES
                    && before + n as u64 >= THREADS_AFTER_BYTES
                {
                    return Ok(Pumped::Busy);
                }
            }
            if self.filled == self.buffer.len() && self.buffer.len() < LARGEST_BUFFER {
                self.buffer.resize(self.buffer.len() * 2, 0);
            }
            let n = from.read(&mut self.buffer).await?;
            (self.written, self.filled) = (0, n);
            if n == 0 {
                to.shutdown().await?;
                self.ended = true;
                return Ok(Pumped::Ended);
            }
        }
    }

    /// [`Pump::run`] on blocking sockets, to the end.
    fn run_blocking(
        &mut self,
        mut from: &std::net::TcpStream,
        mut to: &std::net::TcpStream,
    ) -> std::io::Result<()> {
        use std::io::{Read, Write};
        to.write_all(&self.buffer[self.written..self.filled])?;
        self.moved
            .fetch_add((self.filled - self.written) as u64, Ordering::Relaxed);
        self.buffer.resize(LARGEST_BUFFER, 0);
        loop {
            let n = match from.read(&mut self.buffer) {
                Ok(0) => return to.shutdown(Shutdown::Write),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            to.write_all(&self.buffer[..n])?;
            self.moved.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

/// Carries on a busy tunnel with a thread for each direction still open.
/// Blocking reads and writes take fewer system calls than waiting for
/// readiness, and the system calls are most of what a download costs the
/// proxy (`docs/proxy.md`). Stopping, and the idle limit, shut the sockets
/// down, which wakes the threads.
async fn on_threads(
    client: TcpStream,
    server: TcpStream,
    pumps: [Pump; 2],
    carried: &Carried,
    stop: &CancellationToken,
    idle: Duration,
) {
    let blocking = |s: TcpStream| {
        let s = s.into_std()?;
        s.set_nonblocking(false)?;
        Ok::<_, std::io::Error>(s)
    };
    let (client, server) = match (blocking(client), blocking(server)) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "could not hand a busy tunnel to threads; it is closed");
            return;
        }
    };
    let cut = || {
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
    };
    let [up, down] = pumps;
    let mut done = Vec::with_capacity(2);
    for (pump, from, to) in [(up, &client, &server), (down, &server, &client)] {
        if pump.ended {
            continue;
        }
        match spawn_copy(pump, from, to) {
            Ok(finished) => done.push(finished),
            Err(e) => {
                tracing::warn!(error = %e, "could not start a thread for a busy tunnel; it is closed");
                cut();
            }
        }
    }
    let finished = async {
        for finished in done {
            let _ = finished.await;
        }
    };
    tokio::pin!(finished);
    let mut watchdog = tokio::time::interval_at(tokio::time::Instant::now() + idle, idle);
    let mut last = carried.total();
    loop {
        tokio::select! {
            () = &mut finished => return,
            () = stop.cancelled() => break,
            _ = watchdog.tick() => {
                if carried.nothing_since(&mut last) {
                    tracing::debug!("closing an idle tunnel");
                    break;
                }
            }
        }
    }
    cut();
    finished.await;
}

/// Starts a thread copying `from` to `to` with `pump`; the receiver
/// completes when the thread is done. An error shuts both sockets down, so
/// the other direction's thread ends too.
fn spawn_copy(
    mut pump: Pump,
    from: &std::net::TcpStream,
    to: &std::net::TcpStream,
) -> std::io::Result<tokio::sync::oneshot::Receiver<()>> {
    let (from, to) = (from.try_clone()?, to.try_clone()?);
    let (done, finished) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("tunnel".into())
        .stack_size(THREAD_STACK)
        .spawn(move || {
            if pump.run_blocking(&from, &to).is_err() {
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
            }
            drop(done);
        })?;
    Ok(finished)
}
