//! Forwarding to the upstream resolvers.
//!
//! Each upstream query uses a fresh UDP socket (so a fresh random source
//! port) connected to the upstream, and a query ID from a keyed hash of a
//! counter: together about 32 bits an off-path attacker would have to guess.
//! An answer must come from the upstream's address, carry our ID and repeat
//! our question; anything else is ignored while we wait.
//!
//! A query that times out, or that the upstream answers SERVFAIL or REFUSED,
//! is tried again on the next upstream, `attempts` times in all; the upstream
//! that failed is moved past for later queries too. If the upstream sets TC,
//! the same question is asked again over TCP. Identical questions in flight
//! at once are sent upstream once, and everyone asking gets that answer.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;

use crate::cache::{BadAnswer, Cache, Entry, TtlLimits};
use crate::settings::Settings;
use crate::wire;

/// Why no upstream answer could be had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Every attempt timed out or failed.
    NoAnswer,
}

type Waiters = Vec<oneshot::Sender<Result<Arc<Entry>, Failure>>>;

/// The upstream resolvers and the questions in flight to them.
#[derive(Debug)]
pub struct Upstream {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    attempts: u32,
    udp_payload: u16,
    limits: TtlLimits,
    /// The upstream to try first: moved on past one that fails.
    preferred: AtomicUsize,
    counter: AtomicU64,
    id_key: RandomState,
    in_flight: Mutex<HashMap<Vec<u8>, Waiters>>,
    sent: AtomicU64,
}

/// Removes a question from the in-flight table when its leader is done, or
/// is dropped part-way (at shutdown), so that nobody waits for ever.
struct Leader<'a> {
    upstream: &'a Upstream,
    key: &'a [u8],
    result: Option<Result<Arc<Entry>, Failure>>,
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        let waiters = self
            .upstream
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(self.key)
            .unwrap_or_default();
        let result = self.result.take().unwrap_or(Err(Failure::NoAnswer));
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
    }
}

impl Upstream {
    pub fn new(settings: &Settings) -> Upstream {
        Upstream {
            servers: settings.upstreams.clone(),
            timeout: Duration::from_millis(settings.upstream_timeout_ms),
            attempts: settings.attempts.max(1),
            udp_payload: settings.udp_payload,
            limits: TtlLimits {
                max_ttl: settings.cache_max_ttl_seconds,
                negative_ttl: settings.negative_ttl_seconds,
            },
            preferred: AtomicUsize::new(0),
            counter: AtomicU64::new(0),
            id_key: RandomState::new(),
            in_flight: Mutex::new(HashMap::new()),
            sent: AtomicU64::new(0),
        }
    }

    /// Queries sent upstream so far (UDP and TCP).
    pub fn queries_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The answer to the question `key`, from the cache if another query
    /// has just put it there, else from upstream; kept in the cache when it
    /// may be.
    pub async fn resolve(&self, cache: &Cache, key: &[u8]) -> Result<Arc<Entry>, Failure> {
        let waiting = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            match in_flight.get_mut(key) {
                Some(waiters) => {
                    let (tx, rx) = oneshot::channel();
                    waiters.push(tx);
                    Some(rx)
                }
                None => {
                    in_flight.insert(key.to_vec(), Vec::new());
                    None
                }
            }
        };
        if let Some(rx) = waiting {
            return rx.await.unwrap_or(Err(Failure::NoAnswer));
        }
        let mut leader = Leader {
            upstream: self,
            key,
            result: None,
        };
        // Someone may have finished this very question just before we
        // registered.
        if let Some(entry) = cache.get(key, Instant::now()) {
            leader.result = Some(Ok(entry.clone()));
            return Ok(entry);
        }
        let result = self.ask(key).await;
        if let Ok(entry) = &result {
            cache.insert(key, entry.clone(), Instant::now());
        }
        leader.result = Some(result.clone());
        result
    }

    fn next_id(&self) -> u16 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.id_key.hash_one(n) as u16
    }

    /// Tries the upstreams in turn.
    async fn ask(&self, key: &[u8]) -> Result<Arc<Entry>, Failure> {
        if self.servers.is_empty() {
            return Err(Failure::NoAnswer);
        }
        let first = self.preferred.load(Ordering::Relaxed);
        let mut last_answer = None;
        for attempt in 0..self.attempts as usize {
            let index = (first + attempt) % self.servers.len();
            let server = self.servers[index];
            let result = match self.ask_udp(server, key).await {
                Err(Some(BadAnswer::Truncated)) => self.ask_tcp(server, key).await,
                other => other,
            };
            match result {
                Ok(entry) if is_failure(entry.rcode()) => {
                    self.move_past(index);
                    last_answer = Some(Arc::new(entry));
                }
                Ok(entry) => return Ok(Arc::new(entry)),
                Err(why) => {
                    tracing::debug!(%server, ?why, "upstream resolver did not answer");
                    self.move_past(index);
                }
            }
        }
        last_answer.ok_or(Failure::NoAnswer)
    }

    fn move_past(&self, failed: usize) {
        let next = (failed + 1) % self.servers.len();
        let _ = self
            .preferred
            .compare_exchange(failed, next, Ordering::Relaxed, Ordering::Relaxed);
    }

    fn query(&self, id: u16, key: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(wire::HEADER_LEN + key.len() + 11);
        out.extend_from_slice(&id.to_be_bytes());
        // RD; one question; one additional record (OPT).
        out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
        out.extend_from_slice(key);
        // DO stays clear: schoolgate does not pass DNSSEC records on.
        wire::write_opt(&mut out, self.udp_payload, false, 0, None);
        out
    }

    async fn ask_udp(&self, server: SocketAddr, key: &[u8]) -> Result<Entry, Option<BadAnswer>> {
        let local: SocketAddr = if server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(|_| None)?;
        socket.connect(server).await.map_err(|_| None)?;
        let id = self.next_id();
        self.sent.fetch_add(1, Ordering::Relaxed);
        socket.send(&self.query(id, key)).await.map_err(|_| None)?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut buf = vec![0u8; 65_535];
        loop {
            let n = match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                Ok(Ok(n)) => n,
                // Refused (nothing listening) or timed out.
                Ok(Err(_)) | Err(_) => return Err(None),
            };
            let answer = &buf[..n];
            if n < wire::HEADER_LEN || answer[0..2] != id.to_be_bytes() {
                continue;
            }
            match Entry::from_upstream(answer, key, self.limits, Instant::now()) {
                Ok(entry) => return Ok(entry),
                Err(BadAnswer::Truncated) => return Err(Some(BadAnswer::Truncated)),
                // Not an answer to our question: keep waiting for the real one.
                Err(_) => continue,
            }
        }
    }

    async fn ask_tcp(&self, server: SocketAddr, key: &[u8]) -> Result<Entry, Option<BadAnswer>> {
        let exchange = async {
            let mut stream = TcpStream::connect(server).await.ok()?;
            let id = self.next_id();
            self.sent.fetch_add(1, Ordering::Relaxed);
            let query = self.query(id, key);
            let mut framed = Vec::with_capacity(query.len() + 2);
            framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
            framed.extend_from_slice(&query);
            stream.write_all(&framed).await.ok()?;
            let mut len = [0u8; 2];
            stream.read_exact(&mut len).await.ok()?;
            let mut answer = vec![0u8; u16::from_be_bytes(len) as usize];
            stream.read_exact(&mut answer).await.ok()?;
            (answer.len() >= wire::HEADER_LEN && answer[0..2] == id.to_be_bytes()).then_some(answer)
        };
        let answer = tokio::time::timeout(self.timeout, exchange)
            .await
            .ok()
            .flatten()
            .ok_or(None)?;
        Entry::from_upstream(&answer, key, self.limits, Instant::now()).map_err(Some)
    }
}

/// SERVFAIL and REFUSED: worth asking another upstream.
fn is_failure(rcode: u16) -> bool {
    rcode == wire::Rcode::ServFail as u16 || rcode == wire::Rcode::Refused as u16
}
