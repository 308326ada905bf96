//! Listening, connection limits, idle timeouts and graceful shutdown.
//!
//! The listeners accept on the caller's runtime and hand each connection to
//! one of the serving threads, the one with the fewest open. Each serving
//! thread runs an event loop of its own and keeps its own idle upstream
//! connections, so a request is read, decided, sent upstream and answered
//! on one thread with no hand-offs between threads. Two single-threaded
//! loops served 35% more requests a second than one runtime whose two
//! worker threads share the connections (`docs/proxy.md`).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderValue;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{SignIns, SignedIn};
use crate::io::{Activity, Watched};
use crate::origin::Home;
use crate::reference::References;
use crate::settings::Settings;
use crate::upstream::{Pool, Resolver};
use gate::metrics::Refusal;

/// How long a connection over the limit waits for a free place before it is
/// told the proxy is busy (503).
const WAIT_FOR_A_PLACE: Duration = Duration::from_secs(1);

/// Blocks remembered so a review request can say what was blocked.
const RECENT_BLOCKS: usize = 20_000;

/// At most one warning about refused connections per reason in this time;
/// the metric counts every one.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Client connections held by each address.
#[derive(Debug, Default)]
pub struct PerIp {
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One of an address's places; given back when dropped.
pub struct IpPlace {
    per_ip: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// Takes a place for `ip` unless it holds `limit` already.
    fn take(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<IpPlace> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let n = held.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(IpPlace {
            per_ip: self.clone(),
            ip,
        })
    }
}

impl Drop for IpPlace {
    fn drop(&mut self) {
        let mut held = self.per_ip.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

/// Warns about refused connections, at most once per [`WARN_EVERY`] for
/// each reason.
#[derive(Debug)]
struct RefusalWarnings {
    started: std::time::Instant,
    /// Milliseconds since `started` of the last warning, per reason; 0 for
    /// never.
    last_ms: [AtomicU64; 2],
}

impl RefusalWarnings {
    fn new() -> Self {
        RefusalWarnings {
            started: std::time::Instant::now(),
            last_ms: [AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    fn due(&self, why: Refusal) -> bool {
        let slot = &self.last_ms[match why {
            Refusal::Busy => 0,
            Refusal::PerIp => 1,
        }];
        let now = (self.started.elapsed().as_millis() as u64).max(1);
        let last = slot.load(Ordering::Relaxed);
        (last == 0 || now.saturating_sub(last) >= WARN_EVERY.as_millis() as u64)
            && slot
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// What a block page showed, for the review request that may follow.
#[derive(Clone, Debug)]
pub struct RecentBlock {
    pub url: String,
    pub profile: String,
    pub rule: String,
}

/// The last blocks by reference; older ones are forgotten.
#[derive(Debug, Default)]
pub struct RecentBlocks {
    inner: Mutex<(HashMap<String, RecentBlock>, VecDeque<String>)>,
}

impl RecentBlocks {
    pub fn insert(&self, reference: &str, block: RecentBlock) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *inner;
        if order.len() >= RECENT_BLOCKS
            && let Some(old) = order.pop_front()
        {
            map.remove(&old);
        }
        map.insert(reference.to_owned(), block);
        order.push_back(reference.to_owned());
    }

    pub fn get(&self, reference: &str) -> Option<RecentBlock> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0.get(reference).cloned()
    }
}

/// What every connection shares.
pub struct Shared<S> {
    pub gate: Arc<gate::Gate>,
    pub store: S,
    pub settings: Arc<Settings>,
    pub resolver: Resolver,
    /// Where allowed traffic goes on to, when there is a parent proxy.
    pub parent: Option<crate::parent::Parent>,
    pub references: References,
    pub sign_ins: SignIns,
    pub recent: RecentBlocks,
    /// Acceptable use agreements and who has agreed (§7.2).
    pub aup: crate::aup::Agreements,
    /// The addresses the listeners are bound to.
    pub listeners: Vec<SocketAddr>,
    /// This proxy's `Via` entry; seeing it on a request means a loop.
    pub via: HeaderValue,
    pub shutdown: CancellationToken,
    /// Cancelled when the grace period is over: everything still open stops.
    pub hard_stop: CancellationToken,
    pub tracker: TaskTracker,
    /// Each serving thread's idle upstream connections, which any client
    /// connection on that thread may reuse.
    pub pools: Vec<Arc<Pool>>,
    /// Places for busy tunnels on threads of their own; `None` when
    /// `tunnel_threads` is 0.
    pub tunnel_threads: Option<Arc<tokio::sync::Semaphore>>,
    per_ip: Arc<PerIp>,
    warnings: RefusalWarnings,
    http: hyper::server::conn::http1::Builder,
}

/// One client connection.
pub struct Conn<S> {
    pub shared: Arc<Shared<S>>,
    /// What the client connection's watchdog looks at.
    pub activity: Arc<Activity>,
    pub peer: SocketAddr,
    /// The client's address as events record it, written out once.
    pub peer_ip: String,
    pub local: SocketAddr,
    /// The upstream connections it keeps for its next requests.
    pub home: Arc<Home>,
    /// The last `Proxy-Authorization` value that signed someone in on this
    /// connection, so browsers that repeat it cost nothing.
    pub signed_in: Mutex<Option<(Vec<u8>, SignedIn)>>,
    _permit: OwnedSemaphorePermit,
    _ip_place: IpPlace,
}

impl<S> Conn<S> {
    /// Connects to `host:port` for this client: directly, or through a
    /// tunnel `through` a parent proxy opens, within the connect timeout.
    pub async fn open(
        &self,
        host: &str,
        port: u16,
        through: Option<&crate::parent::Parent>,
    ) -> Result<TcpStream, crate::upstream::ConnectError> {
        let shared = &self.shared;
        let timeout = shared.settings.connect_timeout();
        let (resolver, listeners) = (&shared.resolver, &shared.listeners[..]);
        match through {
            Some(parent) => {
                parent
                    .tunnel(resolver, host, port, timeout, listeners, self.local)
                    .await
            }
            None => {
                crate::upstream::connect(resolver, host, port, timeout, listeners, self.local).await
            }
        }
    }

    /// The `host:port` browsers reach the proxy at, for links.
    pub fn proxy_address(&self) -> String {
        match &self.shared.settings.public_address {
            Some(a) => a.clone(),
            None => self.local.to_string(),
        }
    }
}

fn via_value() -> HeaderValue {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let id = h.finish() & 0xff_ffff;
    HeaderValue::from_str(&format!("1.1 schoolgate-{id:06x}"))
        .unwrap_or_else(|_| HeaderValue::from_static("1.1 schoolgate"))
}

/// Serves `listeners` until `shutdown` is cancelled, then lets connections
/// finish within the grace period.
pub async fn run<S: store::Store + Clone + 'static>(
    listeners: Vec<TcpListener>,
    gate: Arc<gate::Gate>,
    store: S,
    settings: Arc<Settings>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    crate::settings::validate(&settings)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.idle_timeout())
        .max_header_size(settings.max_header_bytes)
        .max_buf_size(settings.max_header_bytes.max(64 * 1024))
        .keep_alive(true);
    let addresses = listeners
        .iter()
        .map(TcpListener::local_addr)
        .collect::<std::io::Result<Vec<_>>>()?;
    let shared = Arc::new(Shared {
        resolver: Resolver::new(&settings.resolve),
        parent: crate::parent::Parent::from_settings(&settings),
        gate,
        store,
        references: References::default(),
        sign_ins: SignIns::default(),
        recent: RecentBlocks::default(),
        aup: crate::aup::Agreements::default(),
        listeners: addresses,
        via: via_value(),
        shutdown: shutdown.clone(),
        hard_stop: CancellationToken::new(),
        tracker: TaskTracker::new(),
        pools: (0..settings.serving_threads())
            .map(|_| Arc::default())
            .collect(),
        tunnel_threads: (settings.tunnel_threads > 0)
            .then(|| Arc::new(tokio::sync::Semaphore::new(settings.tunnel_threads))),
        per_ip: Arc::default(),
        warnings: RefusalWarnings::new(),
        http,
        settings,
    });
    let mut serving = Vec::with_capacity(shared.pools.len());
    let mut ended = Vec::with_capacity(shared.pools.len());
    for (k, pool) in shared.pools.iter().enumerate() {
        match ServingThread::start(k, shared.clone(), pool.clone()) {
            Ok((thread, done)) => {
                serving.push(thread);
                ended.push(done);
            }
            Err(e) => {
                // The threads already started end once there is nothing to
                // hand them and nothing to serve.
                drop(serving);
                shared.tracker.close();
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("could not start a thread to serve connections: {e}"),
                ));
            }
        }
    }
    shared
        .gate
        .metrics
        .serving_threads(serving.iter().map(|t| t.open.clone()).collect());
    shared.aup.reload(&shared.store).await;
    let agreements = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(crate::aup::RELOAD_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => shared.aup.reload(&shared.store).await,
                    () = shared.shutdown.cancelled() => return,
                }
            }
        })
    };
    let serving = Arc::new(serving);
    let places = Arc::new(Semaphore::new(shared.settings.max_connections));
    for listener in listeners {
        let shared = shared.clone();
        let places = places.clone();
        shared
            .tracker
            .clone()
            .spawn(accept(listener, shared, places, serving.clone()));
    }
    drop(serving);
    // Pooled connections past their idle time are closed even when no one
    // asks for their host again.
    let sweeping = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(crate::upstream::POOL_IDLE / 2);
            loop {
                tokio::select! {
                    _ = every.tick() => shared.pools.iter().for_each(|p| p.sweep()),
                    () = shared.shutdown.cancelled() => return,
                }
            }
        })
    };
    shutdown.cancelled().await;
    let _ = sweeping.await;
    let _ = agreements.await;
    shared.pools.iter().for_each(|p| p.clear());
    shared.tracker.close();
    let grace = shared.settings.shutdown_grace();
    if tokio::time::timeout(grace, shared.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = shared.tracker.len(),
            "connections still open after the shutdown grace period are being closed"
        );
        shared.hard_stop.cancel();
        let _ = tokio::time::timeout(HARD_STOP_WAIT, shared.tracker.wait()).await;
    }
    for done in ended {
        let _ = done.await;
    }
    Ok(())
}

/// After the grace period, how long connections have to notice they are
/// cut before their threads stop anyway.
const HARD_STOP_WAIT: Duration = Duration::from_secs(2);

/// An accepted connection on its way to a serving thread.
struct Handed {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    places: (OwnedSemaphorePermit, IpPlace),
}

/// One of the threads that serve client connections.
struct ServingThread {
    handing: tokio::sync::mpsc::UnboundedSender<Handed>,
    /// Client connections it has open.
    open: Arc<AtomicUsize>,
}

/// Counts a serving thread's open connection until dropped.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ServingThread {
    /// Starts serving thread `k`; the receiver completes when it has ended,
    /// which is once nothing can hand it connections and those it has are
    /// closed (or cut, [`HARD_STOP_WAIT`] after the hard stop).
    fn start<S: store::Store + Clone + 'static>(
        k: usize,
        shared: Arc<Shared<S>>,
        pool: Arc<Pool>,
    ) -> std::io::Result<(ServingThread, tokio::sync::oneshot::Receiver<()>)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (handing, mut handed) = tokio::sync::mpsc::unbounded_channel::<Handed>();
        let open = Arc::new(AtomicUsize::new(0));
        let (done, ended) = tokio::sync::oneshot::channel();
        let counter = open.clone();
        std::thread::Builder::new()
            .name(format!("proxy-{k}"))
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(Handed {
                        stream,
                        peer,
                        places,
                    }) = handed.recv().await
                    {
                        let open = Open(counter.clone());
                        match TcpStream::from_std(stream) {
                            Ok(stream) => {
                                let shared = shared.clone();
                                let pool = pool.clone();
                                shared.tracker.clone().spawn(async move {
                                    connection(shared, stream, peer, places, pool).await;
                                    drop(open);
                                });
                            }
                            Err(e) => {
                                tracing::warn!(client = %peer, error = %e, "could not serve a connection; it is closed");
                            }
                        }
                    }
                    tokio::select! {
                        () = shared.tracker.wait() => {}
                        () = async {
                            shared.hard_stop.cancelled().await;
                            tokio::time::sleep(HARD_STOP_WAIT).await;
                        } => {}
                    }
                });
                drop(done);
            })?;
        Ok((ServingThread { handing, open }, ended))
    }
}

/// Hands an accepted connection to the serving thread with the fewest
/// open.
fn hand(
    serving: &[ServingThread],
    stream: TcpStream,
    peer: SocketAddr,
    places: (OwnedSemaphorePermit, IpPlace),
) {
    let Some(thread) = serving
        .iter()
        .min_by_key(|t| t.open.load(Ordering::Relaxed))
    else {
        return;
    };
    let stream = match stream.into_std() {
        Ok(stream) => stream,
        Err(e) => {
            tracing::warn!(client = %peer, error = %e, "could not hand a connection on; it is closed");
            return;
        }
    };
    thread.open.fetch_add(1, Ordering::Relaxed);
    if thread
        .handing
        .send(Handed {
            stream,
            peer,
            places,
        })
        .is_err()
    {
        thread.open.fetch_sub(1, Ordering::Relaxed);
        tracing::warn!(client = %peer, "a serving thread has stopped; the connection is closed");
    }
}

async fn accept<S: store::Store + Clone + 'static>(
    listener: TcpListener,
    shared: Arc<Shared<S>>,
    places: Arc<Semaphore>,
    serving: Arc<Vec<ServingThread>>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.shutdown.cancelled() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        let Some(ip_place) = shared
            .per_ip
            .take(peer.ip(), shared.settings.max_connections_per_ip)
        else {
            shared
                .tracker
                .clone()
                .spawn(busy(shared, stream, peer, Refusal::PerIp));
            continue;
        };
        match places.clone().try_acquire_owned() {
            Ok(permit) => hand(&serving, stream, peer, (permit, ip_place)),
            Err(_) => {
                let places = places.clone();
                let serving = serving.clone();
                shared.tracker.clone().spawn(async move {
                    match tokio::time::timeout(WAIT_FOR_A_PLACE, places.acquire_owned()).await {
                        Ok(Ok(permit)) => hand(&serving, stream, peer, (permit, ip_place)),
                        _ => {
                            drop(ip_place);
                            busy(shared, stream, peer, Refusal::Busy).await
                        }
                    }
                });
            }
        }
    }
}

/// Tells a connection over a limit that the proxy is busy, and closes it.
async fn busy<S>(shared: Arc<Shared<S>>, mut stream: TcpStream, peer: SocketAddr, why: Refusal) {
    shared.gate.metrics.refused(why);
    let total = shared.gate.metrics.refused_count(why);
    let body = match why {
        Refusal::Busy => {
            if shared.warnings.due(why) {
                tracing::warn!(
                    client = %peer,
                    limit = shared.settings.max_connections,
                    refused_so_far = total,
                    "too many connections at once (proxy.max_connections): answering 503 and closing"
                );
            }
            "The school's web filter is very busy. Please try again in a moment.\n"
        }
        Refusal::PerIp => {
            if shared.warnings.due(why) {
                tracing::warn!(
                    client = %peer,
                    limit = shared.settings.max_connections_per_ip,
                    refused_so_far = total,
                    "one address has too many connections open (proxy.max_connections_per_ip): answering 503 and closing; raise the limit if a terminal server or NAT gateway brings many people on one address"
                );
            } else {
                tracing::debug!(client = %peer, "too many connections from one address: answering 503");
            }
            "This device has too many connections open to the school's web filter. Close some tabs or apps and try again; if it keeps happening, tell the school's IT team.\n"
        }
    };
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Retry-After: 5\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // Read what the client sent first, so closing does not reset the
    // connection before it sees the answer.
    let mut scratch = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut scratch)).await;
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn connection<S: store::Store + Clone + 'static>(
    shared: Arc<Shared<S>>,
    stream: TcpStream,
    peer: SocketAddr,
    (permit, ip_place): (OwnedSemaphorePermit, IpPlace),
    pool: Arc<Pool>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Watched::new(stream, activity.clone()));
    let conn = Arc::new(Conn {
        shared: shared.clone(),
        activity: activity.clone(),
        peer,
        peer_ip: peer.ip().to_string(),
        local,
        home: Arc::new(Home::new(pool)),
        signed_in: Mutex::new(None),
        _permit: permit,
        _ip_place: ip_place,
    });
    let handle = conn.clone();
    let service = service_fn(move |request| {
        let conn = conn.clone();
        async move { Ok::<_, Infallible>(crate::http::handle(conn, request).await) }
    });
    let http = shared.http.serve_connection(io, service).with_upgrades();
    tokio::pin!(http);
    let idle = shared.settings.idle_timeout();
    let mut watchdog = tokio::time::interval_at(tokio::time::Instant::now() + idle, idle);
    let mut draining = false;
    loop {
        tokio::select! {
            result = http.as_mut() => {
                if let Err(e) = result {
                    note_connection_error(&shared, peer, &e);
                }
                break;
            }
            () = shared.shutdown.cancelled(), if !draining => {
                draining = true;
                http.as_mut().graceful_shutdown();
            }
            () = shared.hard_stop.cancelled() => return,
            _ = watchdog.tick() => {
                // Nothing read or written for a whole period: a stalled body
                // or a client that stopped reading. (Waiting for a request
                // head is bounded by hyper's header timeout, and waiting for
                // a web server's answer by `answer_timeout_seconds`.)
                if !activity.take_active() {
                    // An answer may still be stalled on the upstream
                    // connections: none of them is pooled.
                    tracing::debug!(client = %peer, "closing an idle connection");
                    return;
                }
            }
        }
    }
    if shared.shutdown.is_cancelled() {
        return;
    }
    // Every answer on this connection is done (hyper has dropped the bodies),
    // so the upstream connections it kept are idle: they go to the shared
    // pool before the client's socket closes.
    handle.home.release();
}

fn note_connection_error<S>(shared: &Shared<S>, peer: SocketAddr, e: &hyper::Error) {
    if e.is_parse() || e.is_parse_too_large() || e.is_parse_status() {
        // hyper has answered 400, 414 or 431 already.
        shared.gate.metrics.malformed(store::Source::Proxy);
        tracing::info!(client = %peer, error = %e, "malformed request refused");
    } else if e.is_timeout() {
        tracing::debug!(client = %peer, "the client was too slow sending a request");
    } else {
        tracing::debug!(client = %peer, error = %e, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A serving thread without a thread: what is handed to it waits in
    /// the returned receiver.
    fn serving(open: usize) -> (ServingThread, tokio::sync::mpsc::UnboundedReceiver<Handed>) {
        let (handing, handed) = tokio::sync::mpsc::unbounded_channel();
        let thread = ServingThread {
            handing,
            open: Arc::new(AtomicUsize::new(open)),
        };
        (thread, handed)
    }

    #[tokio::test]
    async fn connections_go_to_the_serving_thread_with_the_fewest_open() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let places = Arc::new(Semaphore::new(100));
        let per_ip = Arc::new(PerIp::default());
        let (threads, mut received): (Vec<_>, Vec<_>) = [3, 1, 2].into_iter().map(serving).unzip();
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(TcpStream::connect(address).await.expect("connect"));
            let (stream, peer) = listener.accept().await.expect("accept");
            let permit = places.clone().try_acquire_owned().expect("place");
            let ip = per_ip.take(peer.ip(), 100).expect("ip place");
            hand(&threads, stream, peer, (permit, ip));
        }
        // [3, 1, 2] → [3, 2, 2] → [3, 3, 2] (the first of equals) →
        // [3, 3, 3] → [4, 3, 3].
        let open: Vec<usize> = threads
            .iter()
            .map(|t| t.open.load(Ordering::Relaxed))
            .collect();
        assert_eq!(open, [4, 3, 3]);
        let counts: Vec<usize> = received
            .iter_mut()
            .map(|r| std::iter::from_fn(|| r.try_recv().ok()).count())
            .collect();
        assert_eq!(counts, [1, 2, 1]);
        // A thread that has stopped gives its count back.
        drop(received);
        let stream = {
            clients.push(TcpStream::connect(address).await.expect("connect"));
            listener.accept().await.expect("accept")
        };
        let permit = places.clone().try_acquire_owned().expect("place");
        let ip = per_ip.take(stream.1.ip(), 100).expect("ip place");
        hand(&threads, stream.0, stream.1, (permit, ip));
        let open: Vec<usize> = threads
            .iter()
            .map(|t| t.open.load(Ordering::Relaxed))
            .collect();
        assert_eq!(open, [4, 3, 3]);
        assert_eq!(places.available_permits(), 100, "every place given back");
    }
}
