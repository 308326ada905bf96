//! The test bench: an upstream DNS server of our own, the filter in
//! process with the starter UT1 lists, and clients (dig and a Rust one).
//! Everything is on loopback, on ports the system picks.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use dns::resolver::Resolver;
use dns::{Settings, serve_with};
use gate::{ActivityLog, Gate, IdentityTable, QueueSettings, Session};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use jiff::{Timestamp, ToSpan};
use policy::defaults::default_policy;
use policy::{Engine, Lists, Policy};
use store::sqlite::SqliteStore;
use store::{ActivityEvent, ActivityQuery, Device, Network, Person, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

/// Source addresses of the test's networks (all on loopback).
pub const UNIDENTIFIED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
pub const GUEST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub const STAFF: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
pub const KS2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
/// A KS2 pupil signed in through the login agent, on a registered device.
pub const PUPIL_SESSION: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 5);

/// The starter UT1 lists, imported once per test binary.
pub fn lists() -> Arc<Lists> {
    static LISTS: OnceLock<Arc<Lists>> = OnceLock::new();
    LISTS
        .get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../data/starter/blacklists.tar.gz"
            );
            let file = std::fs::File::open(path).expect("the starter lists are in data/starter");
            let import = classify::lists::import_ut1_archive(file, "starter", &mut |_| {})
                .expect("starter lists import");
            let mut builder = classify::index::IndexBuilder::new();
            for list in &import.lists {
                builder
                    .add_list(
                        &list.name,
                        Some(list.category),
                        list.domains.iter().map(String::as_str),
                        list.urls.iter().map(String::as_str),
                    )
                    .expect("list");
            }
            Arc::new(Lists {
                index: builder.build(),
                statutory: Vec::new(),
            })
        })
        .clone()
}

/// What the test upstream knows.
#[derive(Clone, Debug)]
pub enum Zone {
    Records(Vec<Record>),
    /// Never answers.
    Silent,
    /// Answers after a delay.
    Slow(Duration, Vec<Record>),
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("name")
}

fn a(owner: &str, ttl: u32, address: [u8; 4]) -> Record {
    Record::from_rdata(name(owner), ttl, RData::A(A(Ipv4Addr::from(address))))
}

/// A small authoritative server of the test's own, on 127.0.0.1.
pub struct Upstream {
    pub address: SocketAddr,
    /// Queries seen, by lower-case name and type, with "tcp:" in front for TCP.
    seen: Arc<Mutex<HashMap<String, u64>>>,
    total: Arc<AtomicU64>,
    stop: CancellationToken,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Upstream {
    /// Queries seen for `name` and `qtype` over UDP.
    pub fn seen(&self, name: &str, qtype: RecordType) -> u64 {
        let seen = self.seen.lock().expect("seen");
        seen.get(&format!("{name}. {qtype}")).copied().unwrap_or(0)
    }

    pub fn seen_tcp(&self, name: &str, qtype: RecordType) -> u64 {
        let seen = self.seen.lock().expect("seen");
        seen.get(&format!("tcp:{name}. {qtype}"))
            .copied()
            .unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub async fn start() -> Upstream {
        let zones = Arc::new(zones());
        let (udp, tcp) = dns::bind_pair(([127, 0, 0, 1], 0).into())
            .await
            .expect("bind upstream");
        let address = udp.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let total = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let udp = Arc::new(udp);
        {
            let (zones, seen, total, stop, udp) = (
                zones.clone(),
                seen.clone(),
                total.clone(),
                stop.clone(),
                udp.clone(),
            );
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_535];
                loop {
                    let (n, from) = tokio::select! {
                        () = stop.cancelled() => return,
                        r = udp.recv_from(&mut buf) => match r { Ok(r) => r, Err(_) => continue },
                    };
                    let Ok(query) = Message::from_vec(&buf[..n]) else {
                        continue;
                    };
                    total.fetch_add(1, Ordering::Relaxed);
                    let (zones, seen, udp) = (zones.clone(), seen.clone(), udp.clone());
                    tokio::spawn(async move {
                        if let Some(answer) = answer(&zones, &seen, &query, false).await {
                            let _ = udp.send_to(&answer, from).await;
                        }
                    });
                }
            });
        }
        {
            let (seen, total, stop) = (seen.clone(), total.clone(), stop.clone());
            tokio::spawn(async move {
                loop {
                    let (mut stream, _) = tokio::select! {
                        () = stop.cancelled() => return,
                        r = tcp.accept() => match r { Ok(r) => r, Err(_) => continue },
                    };
                    let (zones, seen, total) = (zones.clone(), seen.clone(), total.clone());
                    tokio::spawn(async move {
                        let mut len = [0u8; 2];
                        while stream.read_exact(&mut len).await.is_ok() {
                            let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
                            if stream.read_exact(&mut buf).await.is_err() {
                                return;
                            }
                            let Ok(query) = Message::from_vec(&buf) else {
                                return;
                            };
                            total.fetch_add(1, Ordering::Relaxed);
                            let Some(answer) = answer(&zones, &seen, &query, true).await else {
                                return;
                            };
                            let mut framed = (answer.len() as u16).to_be_bytes().to_vec();
                            framed.extend_from_slice(&answer);
                            if stream.write_all(&framed).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            });
        }
        Upstream {
            address,
            seen,
            total,
            stop,
        }
    }
}

/// The test upstream's data. Names under `.test` it does not know are
/// NXDOMAIN (with an SOA, so negative caching applies); any other name has
/// a made-up address, so real names the filter allows resolve.
fn zones() -> HashMap<(String, RecordType), Zone> {
    let mut z = HashMap::new();
    let mut put = |owner: &str, rtype: RecordType, zone: Zone| {
        z.insert((format!("{owner}."), rtype), zone);
    };
    put(
        "www.example.test",
        RecordType::A,
        Zone::Records(vec![a("www.example.test.", 300, [192, 0, 2, 10])]),
    );
    put(
        "www.example.test",
        RecordType::AAAA,
        Zone::Records(vec![Record::from_rdata(
            name("www.example.test."),
            300,
            RData::AAAA(AAAA("2001:db8::10".parse::<Ipv6Addr>().expect("v6"))),
        )]),
    );
    put(
        "alias.example.test",
        RecordType::A,
        Zone::Records(vec![
            Record::from_rdata(
                name("alias.example.test."),
                300,
                RData::CNAME(CNAME(name("www.example.test."))),
            ),
            a("www.example.test.", 300, [192, 0, 2, 10]),
        ]),
    );
    put(
        "short.example.test",
        RecordType::A,
        Zone::Records(vec![a("short.example.test.", 1, [192, 0, 2, 11])]),
    );
    // Too big for one UDP answer: 100 addresses, and 20 long TXT strings.
    put(
        "many.example.test",
        RecordType::A,
        Zone::Records(
            (0..100)
                .map(|i| a("many.example.test.", 300, [198, 51, 100, i]))
                .collect(),
        ),
    );
    put(
        "big.example.test",
        RecordType::TXT,
        Zone::Records(
            (0..20)
                .map(|i| {
                    Record::from_rdata(
                        name("big.example.test."),
                        300,
                        RData::TXT(TXT::new(vec![format!("{i:02}-{}", "x".repeat(120))])),
                    )
                })
                .collect(),
        ),
    );
    put("silent.example.test", RecordType::A, Zone::Silent);
    put(
        "slow.example.test",
        RecordType::A,
        Zone::Slow(
            Duration::from_millis(150),
            vec![a("slow.example.test.", 300, [192, 0, 2, 30])],
        ),
    );
    // The engines' enforced hosts (made-up addresses), Bing's as a chain.
    put(
        "forcesafesearch.google.com",
        RecordType::A,
        Zone::Records(vec![a(
            "forcesafesearch.google.com.",
            300,
            [192, 0, 2, 120],
        )]),
    );
    put(
        "forcesafesearch.google.com",
        RecordType::AAAA,
        Zone::Records(vec![Record::from_rdata(
            name("forcesafesearch.google.com."),
            300,
            RData::AAAA(AAAA("2001:db8::120".parse::<Ipv6Addr>().expect("v6"))),
        )]),
    );
    put(
        "restrict.youtube.com",
        RecordType::A,
        Zone::Records(vec![a("restrict.youtube.com.", 300, [192, 0, 2, 121])]),
    );
    put(
        "restrictmoderate.youtube.com",
        RecordType::A,
        Zone::Records(vec![a(
            "restrictmoderate.youtube.com.",
            300,
            [192, 0, 2, 122],
        )]),
    );
    put(
        "strict.bing.com",
        RecordType::A,
        Zone::Records(vec![
            Record::from_rdata(
                name("strict.bing.com."),
                300,
                RData::CNAME(CNAME(name("strict.edge.bing.test."))),
            ),
            Record::from_rdata(
                name("strict.edge.bing.test."),
                300,
                RData::CNAME(CNAME(name("a.edge.bing.test."))),
            ),
            a("a.edge.bing.test.", 300, [192, 0, 2, 123]),
        ]),
    );
    z
}

async fn answer(
    zones: &HashMap<(String, RecordType), Zone>,
    seen: &Mutex<HashMap<String, u64>>,
    query: &Message,
    tcp: bool,
) -> Option<Vec<u8>> {
    let q = query.queries().first()?.clone();
    let owner = q.name().to_lowercase().to_ascii();
    let key = format!(
        "{}{owner} {}",
        if tcp { "tcp:" } else { "" },
        q.query_type()
    );
    *seen.lock().expect("seen").entry(key).or_default() += 1;
    let mut m = Message::new();
    m.set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_authoritative(true)
        .set_recursion_desired(query.recursion_desired())
        .add_query(q.clone());
    let soa = || {
        let zone = name("test.");
        Record::from_rdata(
            zone.clone(),
            600,
            RData::SOA(SOA::new(zone.clone(), zone, 1, 60, 60, 600, 120)),
        )
    };
    match zones.get(&(owner.clone(), q.query_type())) {
        Some(Zone::Silent) => return None,
        Some(Zone::Slow(delay, records)) => {
            tokio::time::sleep(*delay).await;
            m.add_answers(records.clone());
        }
        Some(Zone::Records(records)) => {
            m.add_answers(records.clone());
        }
        None if owner.ends_with(".test.") => {
            let known = zones.keys().any(|(n, _)| *n == owner);
            m.set_response_code(if known {
                ResponseCode::NoError
            } else {
                ResponseCode::NXDomain
            });
            m.add_name_server(soa());
        }
        None => match q.query_type() {
            RecordType::A => {
                m.add_answer(a(&owner, 300, [192, 0, 2, 99]));
            }
            RecordType::AAAA => {
                m.add_answer(Record::from_rdata(
                    name(&owner),
                    300,
                    RData::AAAA(AAAA("2001:db8::99".parse::<Ipv6Addr>().expect("v6"))),
                ));
            }
            _ => {
                m.add_name_server(soa());
            }
        },
    }
    let mut bytes = m.to_vec().ok()?;
    let limit = query
        .extensions()
        .as_ref()
        .map_or(512, |e| e.max_payload() as usize);
    if !tcp && bytes.len() > limit {
        // Truncate as a real server does: the question alone, TC set.
        let mut t = Message::new();
        t.set_id(query.id())
            .set_message_type(MessageType::Response)
            .set_truncated(true)
            .add_query(q);
        bytes = t.to_vec().ok()?;
    }
    Some(bytes)
}

/// The filter under test.
pub struct Filter {
    pub address: SocketAddr,
    pub gate: Arc<Gate>,
    pub resolver: Arc<Resolver>,
    pub store: SqliteStore,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Filter {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The default policy, and networks for the test's loopback addresses.
pub fn identity() -> IdentityTable {
    let networks = [
        ("Guest Wi-Fi", GUEST, "guest"),
        ("Staff", STAFF, "staff"),
        ("KS2 classrooms", KS2, "ks2"),
    ]
    .map(|(name, ip, profile)| Network {
        name: name.into(),
        ranges: vec![format!("{ip}/32")],
        profile: profile.into(),
    });
    let people = [Person {
        username: "ada.pupil".into(),
        display_name: "Ada Pupil".into(),
        profile: "ks2".into(),
        password_hash: None,
        disabled: false,
    }];
    let devices = [Device {
        name: "LIBRARY-IPAD-3".into(),
        kind: "tablet".into(),
        address: PUPIL_SESSION.to_string(),
        owner: String::new(),
        school_owned: true,
    }];
    IdentityTable::new(&people, &devices, &networks).expect("identity")
}

impl Filter {
    pub async fn start(settings: Settings) -> Filter {
        Filter::start_with_policy(settings, default_policy()).await
    }

    pub async fn start_with_policy(settings: Settings, policy: Policy) -> Filter {
        Filter::start_with(settings, policy, lists()).await
    }

    pub async fn start_with(settings: Settings, policy: Policy, lists: Arc<Lists>) -> Filter {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("store");
        let (log, _writer) = ActivityLog::start(store.clone(), QueueSettings::default());
        let engine = Engine::new(policy, lists).expect("engine");
        let gate = Arc::new(Gate::new(engine, identity(), log));
        gate.start_session(
            IpAddr::V4(PUPIL_SESSION),
            Session {
                user: "ada.pupil".into(),
                device: None,
                expires: Timestamp::now() + 1.hour(),
            },
        );
        let (udp, tcp) = dns::bind_pair(([127, 0, 0, 1], 0).into())
            .await
            .expect("bind");
        let address = udp.local_addr().expect("addr");
        let mut settings = settings;
        settings.listen = vec![address];
        dns::validate(&settings).expect("valid settings");
        let resolver = Arc::new(Resolver::new(Arc::new(settings)));
        let stop = CancellationToken::new();
        tokio::spawn(serve_with(
            vec![udp],
            vec![tcp],
            gate.clone(),
            resolver.clone(),
            stop.clone(),
        ));
        Filter {
            address,
            gate,
            resolver,
            store,
            stop,
            _dir: dir,
        }
    }

    /// Waits for the activity event about `host`, newest first.
    pub async fn event(&self, host: &str) -> ActivityEvent {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .store
                .search_activity(&ActivityQuery {
                    limit: 1000,
                    ..Default::default()
                })
                .await
                .expect("search");
            if let Some(e) = found.into_iter().find(|e| e.host == host) {
                return e;
            }
            assert!(Instant::now() < deadline, "no activity event for {host}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every event so far.
    pub async fn events(&self) -> Vec<ActivityEvent> {
        // Give the writer a moment to catch up.
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.store
            .search_activity(&ActivityQuery {
                limit: 10_000,
                ..Default::default()
            })
            .await
            .expect("search")
    }
}

/// Settings that point at the test upstream, with short timeouts.
pub fn settings(upstream: &Upstream) -> Settings {
    Settings {
        upstreams: vec![upstream.address],
        upstream_timeout_ms: 300,
        attempts: 2,
        ..Settings::default()
    }
}

/// A query as a Rust client writes it.
pub fn query(name_text: &str, qtype: RecordType, edns: Option<u16>) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(rand_id())
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name(name_text), qtype));
    if let Some(payload) = edns {
        let mut e = Edns::new();
        e.set_max_payload(payload);
        m.set_edns(e);
    }
    m.to_vec().expect("encode")
}

fn rand_id() -> u16 {
    static N: AtomicU64 = AtomicU64::new(1);
    (N.fetch_add(7919, Ordering::Relaxed) % 65_521) as u16
}

/// Sends raw bytes from `source` over UDP; the answer, if one comes in time.
pub async fn exchange_raw(
    server: SocketAddr,
    source: Ipv4Addr,
    packet: &[u8],
    wait: Duration,
) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind((source, 0)).await.expect("bind client");
    socket.send_to(packet, server).await.expect("send");
    let mut buf = vec![0u8; 65_535];
    match tokio::time::timeout(wait, socket.recv_from(&mut buf)).await {
        Ok(Ok((n, _))) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

/// Asks over UDP from `source`, as a Rust client.
pub async fn ask(
    server: SocketAddr,
    source: Ipv4Addr,
    name_text: &str,
    qtype: RecordType,
) -> Message {
    let packet = query(name_text, qtype, Some(1232));
    let answer = exchange_raw(server, source, &packet, Duration::from_secs(3))
        .await
        .unwrap_or_else(|| panic!("no answer for {name_text}"));
    let message = Message::from_vec(&answer).expect("answer decodes");
    assert_eq!(message.id(), u16::from_be_bytes([packet[0], packet[1]]));
    message
}

/// Asks over TCP from `source`.
pub async fn ask_tcp(
    server: SocketAddr,
    source: Ipv4Addr,
    name_text: &str,
    qtype: RecordType,
) -> Message {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind((source, 0).into()).expect("bind");
    let mut stream: TcpStream = socket.connect(server).await.expect("connect");
    let packet = query(name_text, qtype, None);
    let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&packet);
    stream.write_all(&framed).await.expect("write");
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.expect("read len");
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut buf).await.expect("read");
    Message::from_vec(&buf).expect("decodes")
}

/// The addresses in an answer, in order.
pub fn addresses(message: &Message) -> Vec<IpAddr> {
    message
        .answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

/// The Extended DNS Error of an answer: (info-code, extra text).
pub fn extended_error(message: &Message) -> Option<(u16, String)> {
    let edns = message.extensions().as_ref()?;
    match edns
        .options()
        .get(hickory_proto::rr::rdata::opt::EdnsCode::Unknown(15))?
    {
        hickory_proto::rr::rdata::opt::EdnsOption::Unknown(_, data) if data.len() >= 2 => Some((
            u16::from_be_bytes([data[0], data[1]]),
            String::from_utf8_lossy(&data[2..]).into_owned(),
        )),
        _ => None,
    }
}

/// Runs dig against the filter from `source`; its whole output.
pub async fn dig(server: SocketAddr, source: Ipv4Addr, args: &[&str]) -> String {
    let mut command = std::process::Command::new("dig");
    command
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .arg("-b")
        .arg(source.to_string())
        .args(["+tries=1", "+time=3"])
        .args(args);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("dig runs (install dnsutils: scripts/test does)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
