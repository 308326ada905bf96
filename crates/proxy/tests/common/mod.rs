//! The test harness: a proxy started in-process (`proxy().profile("ks2")
//! .start()`), origins that answer over HTTP and HTTPS with a test
//! authority (`origin("shop").start()`), and real clients (curl, wget and
//! raw sockets) as child processes. Everything is on loopback; every
//! listener binds port 0. Names such as `www.bet365.com` (a real UT1 entry)
//! are pointed at 127.0.0.x with the proxy's `resolve` setting, so nothing
//! leaves the machine.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use classify::index::IndexBuilder;
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::taxonomy::Category;
use gate::{ActivityLog, Gate, IdentityTable, QueueSettings};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jiff::Timestamp;
use policy::defaults::default_policy;
use policy::{Engine, Lists, Policy};
use proxy::{Clock, Settings};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use store::sqlite::SqliteStore;
use store::{ActivityEvent, ActivityQuery, Device, Network, Person, Store};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub const SCHOOL: &str = "Hillside Primary School";
/// A Wednesday in term, in London: 09:15 is a lesson, 12:15 is lunch.
pub const LESSON: &str = "2026-11-18T09:15:00Z";
pub const LUNCH: &str = "2026-11-18T12:15:00Z";

/// An invented URL on the test IWF list, and an invented host on the test
/// CTIRU list (whole host).
pub const IWF_URL: &str = "http://iwf-test.example.net/abuse/page1";
pub const CTIRU_HOST: &str = "ctiru-test.example.net";

/// Every name a test origin answers for, and its certificate covers.
pub const NAMES: &[&str] = &[
    "localhost",
    "learning.example.org",
    "www.wikipedia.org",
    "www.bet365.com",
    "www.facebook.com",
    "www.roblox.com",
    "www.bbc.co.uk",
    "www.childline.org.uk",
    "www.google.com",
    "www.google.co.uk",
    "forcesafesearch.google.com",
    "www.youtube.com",
    "restrict.youtube.com",
    "restrictmoderate.youtube.com",
    "www.nordvpn.com",
    "deny-test.example.org",
    "iwf-test.example.net",
    "ctiru-test.example.net",
];

/// Real entries from the UT1 lists (Université Toulouse Capitole,
/// CC BY-SA 4.0), as the starter lists file them, plus the invented
/// statutory entries.
pub fn lists() -> Lists {
    let mut b = IndexBuilder::new();
    let mut add = |name: &str, category: &str, domains: &[&str], urls: &[&str]| {
        b.add_list(
            name,
            Some(Category::from_id(category).expect("category")),
            domains.iter().copied(),
            urls.iter().copied(),
        )
        .expect("add");
    };
    add(
        "ut1/gambling",
        "gambling",
        &["bet365.com", "krcasino.net"],
        &[],
    );
    add(
        "ut1/social_networks",
        "social-networking",
        &["facebook.com", "tiktok.com"],
        &[],
    );
    add("ut1/games", "games", &["roblox.com"], &[]);
    add("ut1/audio-video", "streaming", &["youtube.com"], &[]);
    add("ut1/vpn", "vpn", &["nordvpn.com"], &[]);
    add("ut1/adult", "pornography", &[], &["020sextoy.com/sk"]);
    let iwf = StatutoryList::parse(
        StatutoryKind::Iwf,
        "test iwf",
        b"iwf-test.example.net/abuse/page1\n",
    )
    .expect("iwf");
    let ctiru = StatutoryList::parse(
        StatutoryKind::Ctiru,
        "test ctiru",
        format!("{CTIRU_HOST}\n").as_bytes(),
    )
    .expect("ctiru");
    Lists {
        index: b.build(),
        statutory: vec![iwf, ctiru],
    }
}

pub fn policy() -> Policy {
    let mut policy = default_policy();
    policy.school.name = SCHOOL.to_owned();
    for profile in &mut policy.profiles {
        if profile.id == "ks2" || profile.id == "staff" {
            profile.deny.push("deny-test.example.org".to_owned());
        }
        if profile.id == "eyfs-ks1" {
            profile.allow.push("learning.example.org".to_owned());
        }
    }
    policy
}

// ---------------------------------------------------------------------------
// The test authority.

pub struct Authority {
    pub pem_path: PathBuf,
    pub server: Arc<rustls::ServerConfig>,
    pub client: Arc<rustls::ClientConfig>,
    _dir: TempDir,
}

pub fn authority() -> &'static Authority {
    static AUTHORITY: OnceLock<Authority> = OnceLock::new();
    AUTHORITY.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.distinguished_name
            .push(DnType::CommonName, "schoolgate test authority");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("server key");
        let mut names: Vec<String> = NAMES.iter().map(|s| (*s).to_owned()).collect();
        names.push("127.0.0.1".to_owned());
        let mut params = CertificateParams::new(names).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "schoolgate test origin");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .expect("server config");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_cert.der().clone()).expect("root");
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let dir = tempfile::tempdir().expect("tempdir");
        let pem_path = dir.path().join("ca.pem");
        std::fs::write(&pem_path, ca_cert.pem()).expect("write ca.pem");
        Authority {
            pem_path,
            server: Arc::new(server),
            client: Arc::new(client),
            _dir: dir,
        }
    })
}

// ---------------------------------------------------------------------------
// Origins.

/// A request an origin saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: http::HeaderMap,
    /// The SNI of the TLS connection it came on.
    pub sni: Option<String>,
}

pub struct OriginBuilder {
    label: String,
    ip: IpAddr,
    port: u16,
    tls: bool,
}

/// The body of `/bytes/N`: letters in a cycle of 23, which no power-of-two
/// piece divides, so a piece lost, repeated or moved shows.
pub fn pattern(n: usize) -> String {
    (0..n).map(|i| char::from(b'a' + (i % 23) as u8)).collect()
}

/// An origin that answers `<label> <METHOD> <path>` to everything, and
/// `/bytes/N` with N bytes of [`pattern`].
pub fn origin(label: &str) -> OriginBuilder {
    OriginBuilder {
        label: label.to_owned(),
        ip: IpAddr::from([127, 0, 0, 1]),
        port: 0,
        tls: false,
    }
}

pub struct Origin {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    stop: CancellationToken,
}

impl Origin {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl OriginBuilder {
    pub fn ip(mut self, ip: &str) -> Self {
        self.ip = ip.parse().expect("ip");
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub fn https(mut self) -> Self {
        self.tls = true;
        self
    }

    pub async fn start(self) -> Origin {
        self.try_start().await.expect("bind origin")
    }

    pub async fn try_start(self) -> std::io::Result<Origin> {
        let listener = TcpListener::bind((self.ip, self.port)).await?;
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let label: Arc<str> = Arc::from(self.label.as_str());
        let tls = self
            .tls
            .then(|| tokio_rustls::TlsAcceptor::from(authority().server.clone()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (seen2, stop2, connections2) = (seen.clone(), stop.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                    () = stop2.cancelled() => return,
                };
                connections2.fetch_add(1, Ordering::SeqCst);
                let (label, seen, tls) = (label.clone(), seen2.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            let sni = stream.get_ref().1.server_name().map(str::to_owned);
                            serve_origin(TokioIo::new(stream), label, seen, sni).await;
                        }
                        None => serve_origin(TokioIo::new(stream), label, seen, None).await,
                    }
                });
            }
        });
        Ok(Origin {
            addr,
            seen,
            connections,
            stop,
        })
    }
}

async fn serve_origin<I>(io: I, label: Arc<str>, seen: Arc<Mutex<Vec<Seen>>>, sni: Option<String>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |request: http::Request<Incoming>| {
        let (label, seen, sni) = (label.clone(), seen.clone(), sni.clone());
        async move {
            seen.lock().expect("seen").push(Seen {
                method: request.method().to_string(),
                uri: request.uri().to_string(),
                headers: request.headers().clone(),
                sni,
            });
            let path = request.uri().path().to_owned();
            if let Some(ms) = path.strip_prefix("/slow/") {
                let ms = ms.parse::<u64>().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let method = request.method().clone();
            let query = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".to_owned());
            let body = match path.strip_prefix("/bytes/") {
                Some(n) => Bytes::from(pattern(n.parse::<usize>().unwrap_or(0))),
                None if method == http::Method::POST => {
                    use http_body_util::BodyExt;
                    let received = request
                        .into_body()
                        .collect()
                        .await
                        .map(|c| c.to_bytes().len())
                        .unwrap_or(0);
                    Bytes::from(format!("{label} received {received}"))
                }
                None => Bytes::from(format!("{label} {method} {query}")),
            };
            let mut response = http::Response::new(Full::new(body));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain"),
            );
            // A hop-by-hop header the proxy must not pass on.
            response
                .headers_mut()
                .insert("keep-alive", http::HeaderValue::from_static("timeout=30"));
            Ok::<_, Infallible>(response)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

// ---------------------------------------------------------------------------
// The proxy.

pub struct ProxyBuilder {
    policy: Policy,
    settings: Settings,
    people: Vec<Person>,
    networks: Vec<Network>,
    devices: Vec<Device>,
}

/// A proxy with the test policy, filtering everyone as unidentified (the
/// strictest pupil profile) until told otherwise.
pub fn proxy() -> ProxyBuilder {
    let mut settings = Settings {
        listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
        connect_ports: Vec::new(),
        ..Settings::default()
    };
    for name in NAMES {
        settings
            .resolve
            .insert((*name).to_owned(), IpAddr::from([127, 0, 0, 1]));
    }
    ProxyBuilder {
        policy: policy(),
        settings,
        people: Vec::new(),
        networks: Vec::new(),
        devices: Vec::new(),
    }
}

impl ProxyBuilder {
    /// Filters every loopback client with this profile (as its network).
    pub fn profile(self, id: &str) -> Self {
        self.network("Test network", "127.0.0.0/8", id)
    }

    pub fn network(mut self, name: &str, range: &str, profile: &str) -> Self {
        self.networks.push(Network {
            name: name.to_owned(),
            ranges: vec![range.to_owned()],
            profile: profile.to_owned(),
        });
        self
    }

    pub fn device(mut self, name: &str, address: &str) -> Self {
        self.devices.push(Device {
            name: name.to_owned(),
            kind: "laptop".to_owned(),
            address: address.to_owned(),
            owner: String::new(),
            school_owned: true,
        });
        self
    }

    pub fn person(mut self, username: &str, profile: &str, password: Option<&str>) -> Self {
        self.people.push(Person {
            username: username.to_owned(),
            display_name: username.to_owned(),
            profile: profile.to_owned(),
            password_hash: password.map(|p| gate::hash_password(p).expect("hash")),
            disabled: false,
        });
        self
    }

    /// Decides as if it were `at` (RFC 3339).
    pub fn at(mut self, at: &str) -> Self {
        self.settings.clock = Clock::fixed(at.parse::<Timestamp>().expect("time"));
        self
    }

    pub fn resolve(mut self, name: &str, ip: &str) -> Self {
        self.settings
            .resolve
            .insert(name.to_owned(), ip.parse().expect("ip"));
        self
    }

    pub fn settings(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    pub fn policy(mut self, change: impl FnOnce(&mut Policy)) -> Self {
        change(&mut self.policy);
        self
    }

    pub async fn start(self) -> TestProxy {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("schoolgate.db"))
            .await
            .expect("store");
        let engine = Engine::new(self.policy, Arc::new(lists())).expect("engine");
        let identity =
            IdentityTable::new(&self.people, &self.devices, &self.networks).expect("identity");
        let (activity, writer) = ActivityLog::start(store.clone(), QueueSettings::default());
        let gate = Arc::new(Gate::new(engine, identity, activity));
        let listener = TcpListener::bind(self.settings.listen[0])
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let settings = Arc::new(self.settings);
        let task = tokio::spawn(proxy::serve(
            vec![listener],
            gate.clone(),
            store.clone(),
            settings.clone(),
            shutdown.clone(),
        ));
        TestProxy {
            addr,
            gate,
            store,
            settings,
            writer: Some(writer),
            shutdown,
            task: Some(task),
            _dir: dir,
        }
    }
}

pub struct TestProxy {
    pub addr: SocketAddr,
    pub gate: Arc<Gate>,
    pub store: SqliteStore,
    pub settings: Arc<Settings>,
    writer: Option<tokio::task::JoinHandle<()>>,
    pub shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: TempDir,
}

impl TestProxy {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the proxy (draining connections), writes the activity log and
    /// returns every event, oldest first.
    pub async fn events(&mut self) -> Vec<ActivityEvent> {
        self.stop().await;
        let mut events = self
            .store
            .search_activity(&ActivityQuery {
                limit: 100_000,
                ..Default::default()
            })
            .await
            .expect("search");
        events.reverse();
        events
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("proxy task").expect("proxy");
        }
        self.gate.activity.shut_down();
        if let Some(writer) = self.writer.take() {
            writer.await.expect("writer");
        }
    }
}

// ---------------------------------------------------------------------------
// Clients.

/// What curl got.
#[derive(Debug)]
pub struct Fetched {
    /// The final HTTP status (0 when there was none).
    pub status: u16,
    /// The status of the proxy's answer to CONNECT (0 when none was sent).
    pub connect_status: u16,
    /// Every header block curl saw, CONNECT's included.
    pub headers: String,
    pub body: String,
    /// curl's exit status.
    pub exit: i32,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
            .next_back()
    }
}

/// Runs curl through the proxy with the test authority trusted.
pub async fn curl(proxy: &TestProxy, url: &str, args: &[&str]) -> Fetched {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = dir.path().join("body");
    let headers = dir.path().join("headers");
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "--max-time", "20", "--noproxy", ""])
        .arg("-x")
        .arg(proxy.url())
        .arg("--cacert")
        .arg(&authority().pem_path)
        .arg("-o")
        .arg(&body)
        .arg("-D")
        .arg(&headers)
        .args(["-w", "%{http_code} %{http_connect}"])
        .args(args)
        .arg(url)
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .output()
        .await
        .expect("curl runs (scripts/test installs it)");
    let written = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut codes = written.split_whitespace();
    let status = codes.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    let connect_status = codes.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    Fetched {
        status,
        connect_status,
        headers: std::fs::read_to_string(&headers).unwrap_or_default(),
        body: std::fs::read_to_string(&body).unwrap_or_default(),
        exit: output.status.code().unwrap_or(-1),
    }
}

/// POSTs `size` bytes of `u` to `url` through the proxy with curl.
pub async fn upload(proxy: &TestProxy, url: &str, size: usize) -> Fetched {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("upload");
    std::fs::write(&file, vec![b'u'; size]).expect("write");
    curl(
        proxy,
        url,
        &["--data-binary", &format!("@{}", file.display())],
    )
    .await
}

/// Sends raw bytes to the proxy and returns everything it says until it
/// closes (or goes quiet for `quiet`).
pub async fn raw(proxy: &TestProxy, bytes: &[u8], quiet: Duration) -> String {
    let stream = TcpStream::connect(proxy.addr).await.expect("connect");
    exchange(stream, bytes, quiet).await
}

/// [`raw`] from a chosen loopback address, such as `127.0.0.2`.
pub async fn raw_from(proxy: &TestProxy, from: &str, bytes: &[u8], quiet: Duration) -> String {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("address"))
        .expect("bind");
    let stream = socket.connect(proxy.addr).await.expect("connect");
    exchange(stream, bytes, quiet).await
}

async fn exchange(mut stream: TcpStream, bytes: &[u8], quiet: Duration) -> String {
    stream.write_all(bytes).await.expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(quiet, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Opens a CONNECT tunnel to `target` and does a TLS handshake through it
/// with `sni` as the server name; returns the proxy's status line and the
/// body an HTTPS GET / got (or the TLS error).
pub async fn tls_through(
    proxy: &TestProxy,
    target: &str,
    sni: &str,
) -> (String, Result<String, String>) {
    let (stream, head) = send_connect(proxy, target).await;
    let status_line = head.lines().next().unwrap_or("").to_owned();
    if !status_line.contains(" 200 ") {
        return (status_line, Err("no tunnel".into()));
    }
    let connector = tokio_rustls::TlsConnector::from(authority().client.clone());
    let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).expect("name");
    let result = async {
        let mut tls = connector
            .connect(name, stream)
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(
            format!("GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
    .await;
    (status_line, result)
}

/// Runs wget through the proxy; returns (exit status, body, headers).
pub async fn wget(proxy: &TestProxy, url: &str) -> (i32, String, String) {
    let output = tokio::process::Command::new("wget")
        .args([
            "-q",
            "-S",
            "-O",
            "-",
            "--content-on-error",
            "--tries=1",
            "--timeout=20",
        ])
        .args(["-e", "use_proxy=yes"])
        .arg("-e")
        .arg(format!("http_proxy={}", proxy.url()))
        .arg(url)
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .output()
        .await
        .expect("wget runs (scripts/test installs it)");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Finds the one event for `url` (or host, for CONNECT).
pub fn event<'a>(events: &'a [ActivityEvent], url: &str) -> &'a ActivityEvent {
    let matching: Vec<&ActivityEvent> = events.iter().filter(|e| e.url == url).collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one event for {url}, got {}: {events:#?}",
        matching.len()
    );
    matching[0]
}

/// Two origins on one port, over HTTPS or plain HTTP: the ordinary host on
/// 127.0.0.1 and a search engine's enforcing host's stand-in, labelled
/// `label`, on another loopback address.
pub async fn engine_and_stand_in(stand_in_ip: &str, label: &str, https: bool) -> (Origin, Origin) {
    for _ in 0..20 {
        let mut ordinary = origin("ordinary");
        let mut stand_in = origin(label).ip(stand_in_ip);
        if https {
            ordinary = ordinary.https();
            stand_in = stand_in.https();
        }
        let ordinary = ordinary.start().await;
        if let Ok(stand_in) = stand_in.port(ordinary.port()).try_start().await {
            return (ordinary, stand_in);
        }
    }
    panic!("no free port pair");
}

/// A loopback port that refuses connections: bound but not listening, and
/// held while the socket lives, so that no other test's listener takes it.
pub fn closed_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    let port = socket.local_addr().expect("addr").port();
    (socket, port)
}

pub fn http_url(host: &str, origin: &Origin, path: &str) -> String {
    format!("http://{host}:{}{path}", origin.port())
}

pub fn https_url(host: &str, origin: &Origin, path: &str) -> String {
    format!("https://{host}:{}{path}", origin.port())
}

pub fn map(entries: &[(&str, &str)]) -> BTreeMap<String, IpAddr> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.parse().expect("ip")))
        .collect()
}

/// Sends `CONNECT target` through the proxy and reads the answer up to
/// the end of its head (or until the proxy closes); returns the stream and
/// that head.
pub async fn send_connect(proxy: &TestProxy, target: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(proxy.addr).await.expect("connect");
    stream
        .write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    (stream, String::from_utf8_lossy(&head).into_owned())
}

/// Opens a CONNECT tunnel to `target` (`host:port`) through the proxy; the
/// stream is then the tunnel.
pub async fn open_tunnel(proxy: &TestProxy, target: &str) -> TcpStream {
    let (stream, head) = send_connect(proxy, target).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

/// A plain TCP server that sends back whatever it is sent, and ends its
/// side when the client ends its own.
pub async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut from, mut to) = stream.into_split();
                let _ = tokio::io::copy(&mut from, &mut to).await;
                let _ = to.shutdown().await;
            });
        }
    });
    port
}
