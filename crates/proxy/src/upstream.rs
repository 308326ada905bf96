//! Reaching web servers: one resolver for every upstream name (the
//! `resolve` overrides first, then the system's), connecting with a time
//! limit, and keeping connections for reuse.
//!
//! Keep-alive upstream connections live in two places. Each client
//! connection keeps the few it used last ([`Kept`]) and reuses them, so a
//! browser's keep-alive connection costs no lock and no new TCP connection
//! per request. When a client connection ends (or keeps too many), its idle
//! upstream connections go to the [`Pool`] every client connection shares,
//! bounded per host and in all, where they wait up to [`POOL_IDLE`] for the
//! next client connection to the same site.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::origin::Origin;

/// Upstream connections a client connection keeps for reuse.
const KEPT_PER_CONNECTION: usize = 4;

/// Idle upstream connections a serving thread's pool holds for one
/// `host:port`, and in all.
pub const POOL_PER_HOST: usize = 16;
pub const POOL_TOTAL: usize = 1024;

/// How long an upstream connection may wait idle in the shared pool before
/// it is closed. Web servers close idle connections themselves, often
/// sooner; a request on a connection the server has just closed is sent
/// again on a new one (see `http::forward`).
pub const POOL_IDLE: Duration = Duration::from_secs(30);

/// Why a web server could not be reached. Each says whether trying again
/// could help, for the page the browser gets.
#[derive(Debug)]
pub enum ConnectError {
    /// The name does not resolve.
    NotFound,
    /// The server refused, or the network said there is no route.
    Refused(io::Error),
    /// Nothing answered within the connect timeout.
    TimedOut,
    /// The name leads back to this proxy.
    Loop,
    /// The parent proxy (`host:port`) could not be reached, for this reason.
    Parent {
        parent: String,
        error: Box<ConnectError>,
    },
    /// The parent proxy answered a CONNECT with this status instead of
    /// opening the tunnel.
    ParentAnswered { parent: String, status: u16 },
}

impl ConnectError {
    /// Counts the failure on the metrics endpoint, as the parent proxy's
    /// or a website's.
    pub fn count(&self, metrics: &gate::Metrics) {
        metrics.unreachable(match self {
            ConnectError::Parent { .. } | ConnectError::ParentAnswered { .. } => {
                gate::Unreachable::Parent
            }
            _ => gate::Unreachable::Website,
        });
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::NotFound => f.write_str("the name does not resolve"),
            ConnectError::Refused(e) => write!(f, "the connection failed: {e}"),
            ConnectError::TimedOut => f.write_str("nothing answered in time"),
            ConnectError::Loop => f.write_str("the address is this proxy's own"),
            ConnectError::Parent { parent, error } => {
                write!(f, "the parent proxy {parent} could not be reached: {error}")
            }
            ConnectError::ParentAnswered { parent, status } => {
                write!(f, "the parent proxy {parent} answered {status}")
            }
        }
    }
}

/// Turns names into addresses.
#[derive(Debug, Default)]
pub struct Resolver {
    overrides: HashMap<String, IpAddr>,
}

impl Resolver {
    /// `overrides` maps names (any spelling; they are made canonical) to
    /// the address to use for them.
    pub fn new<'a>(overrides: impl IntoIterator<Item = (&'a String, &'a IpAddr)>) -> Resolver {
        Resolver {
            overrides: overrides
                .into_iter()
                .filter_map(|(name, ip)| {
                    classify::canon::canonical_host(name)
                        .ok()
                        .map(|name| (name, *ip))
                })
                .collect(),
        }
    }

    /// The addresses of a canonical host (`[v6]` in brackets is accepted).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ConnectError> {
        if let Some(ip) = self.overrides.get(host) {
            return Ok(vec![SocketAddr::new(*ip, port)]);
        }
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        // RFC 6761: `.invalid` never resolves, and `localhost` is this
        // machine; neither is asked of DNS.
        if host == "invalid" || host.ends_with(".invalid") {
            return Err(ConnectError::NotFound);
        }
        if host == "localhost" || host.ends_with(".localhost") {
            return Ok(vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)]);
        }
        match tokio::net::lookup_host((host, port)).await {
            Ok(addrs) => {
                let addrs: Vec<SocketAddr> = addrs.collect();
                if addrs.is_empty() {
                    Err(ConnectError::NotFound)
                } else {
                    Ok(addrs)
                }
            }
            Err(_) => Err(ConnectError::NotFound),
        }
    }
}

/// Whether `addr` is this proxy: a listener, or the address the client
/// reached us on.
pub fn is_own(addr: SocketAddr, listeners: &[SocketAddr], local: SocketAddr) -> bool {
    addr == local
        || listeners.iter().any(|l| {
            *l == addr
                || (l.ip().is_unspecified()
                    && l.port() == addr.port()
                    && (addr.ip().is_loopback() || addr.ip() == local.ip()))
        })
}

/// Connects to `host:port`, trying each address in turn, all within
/// `timeout`. Addresses that are this proxy are refused.
pub async fn connect(
    resolver: &Resolver,
    host: &str,
    port: u16,
    timeout: Duration,
    listeners: &[SocketAddr],
    local: SocketAddr,
) -> Result<TcpStream, ConnectError> {
    let attempt = async {
        let addrs = resolver.resolve(host, port).await?;
        let mut last = ConnectError::NotFound;
        for addr in addrs {
            if is_own(addr, listeners, local) {
                last = ConnectError::Loop;
                continue;
            }
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last = ConnectError::Refused(e),
            }
        }
        Err(last)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::TimedOut),
    }
}

/// The upstream connections one client connection keeps.
#[derive(Default)]
pub struct Kept {
    upstreams: Vec<Origin>,
}

impl Kept {
    /// Takes a kept connection to `host:port`, if one is still open.
    pub fn take(&mut self, host: &str, port: u16) -> Option<Origin> {
        let i = self
            .upstreams
            .iter()
            .position(|u| u.port == port && &*u.host == host)?;
        let upstream = self.upstreams.swap_remove(i);
        upstream.is_usable().then_some(upstream)
    }

    /// Keeps an idle connection for the next request. When four are kept
    /// already, the oldest is returned, for the shared pool.
    pub fn keep(&mut self, upstream: Origin) -> Option<Origin> {
        let oldest =
            (self.upstreams.len() >= KEPT_PER_CONNECTION).then(|| self.upstreams.remove(0));
        self.upstreams.push(upstream);
        oldest
    }

    /// Every kept connection, for the shared pool when the client
    /// connection ends.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Origin> {
        self.upstreams.drain(..)
    }
}

/// Idle upstream connections shared by every client connection, newest
/// last for each host.
///
/// Connections that carried an NTLM or Negotiate sign-in never enter it.
#[derive(Default)]
pub struct Pool {
    inner: Mutex<PoolInner>,
}

#[derive(Default)]
struct PoolInner {
    hosts: HashMap<Box<str>, VecDeque<(Origin, Instant)>>,
    count: usize,
}

impl Pool {
    /// Puts an idle connection in the pool; one that is closed, or pinned
    /// to one person's sign-in, is dropped instead. Only connections with
    /// their last answer read whole are idle, so a client never waits
    /// behind another's download. The host's oldest
    /// gives way when it has [`POOL_PER_HOST`]; a full pool keeps what it
    /// has.
    pub fn put(&self, upstream: Origin) {
        if upstream.pinned || !upstream.is_usable() {
            return;
        }
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let PoolInner { hosts, count } = &mut *inner;
        let idle = hosts.entry(upstream.host.clone()).or_default();
        let before = idle.len();
        idle.retain(|(u, since)| now - *since < POOL_IDLE && u.is_usable());
        if idle.len() >= POOL_PER_HOST {
            idle.pop_front();
        }
        *count -= before - idle.len();
        if *count >= POOL_TOTAL {
            return;
        }
        idle.push_back((upstream, now));
        *count += 1;
    }

    /// The most recently used idle connection to `host:port` that is still
    /// open and not past its idle time.
    pub fn take(&self, host: &str, port: u16) -> Option<Origin> {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let PoolInner { hosts, count } = &mut *inner;
        let idle = hosts.get_mut(host)?;
        let mut found = None;
        while let Some(i) = idle.iter().rposition(|(u, _)| u.port == port) {
            let (upstream, since) = idle.remove(i).expect("found");
            *count -= 1;
            if now - since < POOL_IDLE && upstream.is_usable() {
                found = Some(upstream);
                break;
            }
        }
        if idle.is_empty() {
            hosts.remove(host);
        }
        found
    }

    /// Closes the connections that have been idle too long or that the
    /// server closed.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let PoolInner { hosts, count } = &mut *inner;
        hosts.retain(|_, idle| {
            let before = idle.len();
            idle.retain(|(u, since)| now - *since < POOL_IDLE && u.is_usable());
            *count -= before - idle.len();
            !idle.is_empty()
        });
    }

    /// Closes every pooled connection (shutdown).
    pub fn clear(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.hosts.clear();
        inner.count = 0;
    }

    /// Idle connections held.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn overrides_literals_and_special_names() {
        let overrides = [(
            "WWW.Example.ORG".to_owned(),
            "127.0.0.9".parse::<IpAddr>().expect("ip"),
        )];
        let r = Resolver::new(overrides.iter().map(|(a, b)| (a, b)));
        let got = r.resolve("www.example.org", 81).await.expect("resolve");
        assert_eq!(got, vec!["127.0.0.9:81".parse().expect("addr")]);
        let got = r.resolve("[::1]", 443).await.expect("resolve");
        assert_eq!(got, vec!["[::1]:443".parse().expect("addr")]);
        assert!(matches!(
            r.resolve("nowhere.invalid", 80).await,
            Err(ConnectError::NotFound)
        ));
    }

    #[test]
    fn own_addresses() {
        let listeners: Vec<SocketAddr> = vec!["0.0.0.0:3128".parse().expect("addr")];
        let local: SocketAddr = "10.0.0.1:3128".parse().expect("addr");
        assert!(is_own(
            "127.0.0.1:3128".parse().expect("a"),
            &listeners,
            local
        ));
        assert!(is_own(
            "10.0.0.1:3128".parse().expect("a"),
            &listeners,
            local
        ));
        assert!(!is_own(
            "127.0.0.1:80".parse().expect("a"),
            &listeners,
            local
        ));
    }
}
