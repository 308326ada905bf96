//! The `[proxy]` table of the configuration file, and its checks.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Whether the proxy asks browsers to sign in (Basic `Proxy-Authorization`,
/// checked against the people in the store).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Authentication {
    /// Never ask; people are identified by login-agent sessions and networks.
    #[default]
    Off,
    /// Use credentials when the browser sends them; never insist.
    Optional,
    /// Every request must carry a valid user name and password (407 otherwise).
    Required,
}

/// Where decisions get the time from. Real runs use the system clock; tests
/// set a fixed time to exercise schedules (staff personal use at lunch).
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<dyn Fn() -> Timestamp + Send + Sync>>);

impl Clock {
    /// A clock that always says `at`.
    pub fn fixed(at: Timestamp) -> Clock {
        Clock(Some(Arc::new(move || at)))
    }

    /// A clock that asks `now` every time.
    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock(Some(Arc::new(now)))
    }

    #[inline]
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Some(f) => f(),
            None => Timestamp::now(),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Clock(set)"
        } else {
            "Clock(system)"
        })
    }
}

/// How the proxy listens, limits and identifies. Unknown keys are refused;
/// [`validate`] checks what serde cannot.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Addresses to listen on (the `serve` command binds them).
    pub listen: Vec<SocketAddr>,
    /// Client connections served at once; more wait briefly, then get 503.
    pub max_connections: usize,
    /// Client connections one address may hold at once; the next is told
    /// the proxy is busy (503) and closed straight away, so one device
    /// cannot take every place. Raise it for a terminal server or a NAT
    /// gateway in front of the proxy, which bring many people on one
    /// address.
    pub max_connections_per_ip: usize,
    /// The largest request head (request line and headers) accepted; larger
    /// ones get 431.
    pub max_header_bytes: usize,
    /// How long a client may take to send a whole request head (this also
    /// closes idle keep-alive connections), and how long a body or tunnel may
    /// carry nothing before it is closed.
    pub idle_timeout_seconds: u64,
    /// How long connecting to a web server may take before the browser gets
    /// a "the site did not answer" page (504).
    pub connect_timeout_seconds: u64,
    /// How long a web server may take to begin its answer once it has the
    /// whole request, before the browser gets a "the website did not
    /// answer in time" page (504).
    pub answer_timeout_seconds: u64,
    /// On shutdown, how long requests and tunnels in flight may take to
    /// finish before they are cut.
    pub shutdown_grace_seconds: u64,
    /// Busy tunnels (ones that have carried a mebibyte one way, such as
    /// downloads) that may go on with two threads of their own, which
    /// copies faster than the serving threads; the rest stay on their serving
    /// thread. 0 keeps every tunnel there.
    pub tunnel_threads: usize,
    /// Threads that serve client connections, each running an event loop
    /// of its own with its own idle upstream connections; 0 means one for
    /// each core.
    pub serving_threads: usize,
    pub authentication: Authentication,
    /// The login agent's shared secret; the `/login-agent` endpoint is off
    /// when there is none.
    pub agent_secret: Option<String>,
    /// How long a login-agent session lasts when the script does not say.
    pub session_minutes: u32,
    /// The school's own hosts, domains (`school.example` covers its
    /// subdomains) and address ranges (`10.1.0.0/16`), which the PAC file
    /// sends DIRECT, as it does private address ranges.
    pub school_addresses: Vec<String>,
    /// Upstream address overrides, like curl's `--resolve`: a name here is
    /// connected to at this address instead of asking DNS.
    pub resolve: BTreeMap<String, IpAddr>,
    /// The `host:port` browsers use to reach the proxy, for the PAC file and
    /// links on block pages. Without it, the address the browser used is used.
    pub public_address: Option<String>,
    /// Ports CONNECT may reach (HTTPS is 443). Empty allows every port.
    pub connect_ports: Vec<u16>,
    /// A parent proxy (`host:port`, such as a trust's or a regional
    /// network's) that allowed traffic goes on through; `school_addresses`
    /// and private addresses are still reached directly. schoolgate decides
    /// every request before the parent sees it.
    pub parent: Option<String>,
    /// `user:password` for a parent proxy that asks for a sign-in (sent as
    /// Basic `Proxy-Authorization`).
    pub parent_credentials: Option<String>,
    /// The time decisions are made at; the system clock unless a test sets it.
    #[serde(skip)]
    pub clock: Clock,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 3128))],
            max_connections: 4096,
            max_connections_per_ip: 512,
            max_header_bytes: 32 * 1024,
            idle_timeout_seconds: 60,
            connect_timeout_seconds: 10,
            answer_timeout_seconds: 120,
            shutdown_grace_seconds: 10,
            tunnel_threads: 64,
            serving_threads: 0,
            authentication: Authentication::Off,
            agent_secret: None,
            session_minutes: 8 * 60,
            school_addresses: Vec::new(),
            resolve: BTreeMap::new(),
            public_address: None,
            connect_ports: vec![443],
            parent: None,
            parent_credentials: None,
            clock: Clock::default(),
        }
    }
}

// Hand-written so the login agent's secret never reaches a log.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_ip", &self.max_connections_per_ip)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("idle_timeout_seconds", &self.idle_timeout_seconds)
            .field("connect_timeout_seconds", &self.connect_timeout_seconds)
            .field("answer_timeout_seconds", &self.answer_timeout_seconds)
            .field("tunnel_threads", &self.tunnel_threads)
            .field("serving_threads", &self.serving_threads)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("authentication", &self.authentication)
            .field(
                "agent_secret",
                &self.agent_secret.as_ref().map(|_| "(hidden)"),
            )
            .field("session_minutes", &self.session_minutes)
            .field("school_addresses", &self.school_addresses)
            .field("resolve", &self.resolve)
            .field("public_address", &self.public_address)
            .field("connect_ports", &self.connect_ports)
            .field("parent", &self.parent)
            .field(
                "parent_credentials",
                &self.parent_credentials.as_ref().map(|_| "(hidden)"),
            )
            .field("clock", &self.clock)
            .finish()
    }
}

impl Settings {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_seconds)
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_seconds)
    }

    pub fn answer_timeout(&self) -> Duration {
        Duration::from_secs(self.answer_timeout_seconds)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }

    /// How many threads serve client connections: `serving_threads`, or
    /// one for each core.
    pub fn serving_threads(&self) -> usize {
        match self.serving_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .min(MAX_SERVING_THREADS)
    }
}

/// The most `serving_threads` may be.
const MAX_SERVING_THREADS: usize = 256;

/// One entry of `school_addresses`, as the PAC file tests it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SchoolAddress {
    /// A domain and its subdomains.
    Domain(String),
    Range(ipnet::IpNet),
}

pub(crate) fn parse_school_address(text: &str) -> Option<SchoolAddress> {
    let text = text.trim();
    if let Some(range) = gate::identity::parse_range(text) {
        return Some(SchoolAddress::Range(range));
    }
    let bare = text.strip_prefix("*.").or_else(|| text.strip_prefix('.'));
    let host = classify::canon::canonical_host(bare.unwrap_or(text)).ok()?;
    // Only plain names go into the PAC file's JavaScript.
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        .then_some(SchoolAddress::Domain(host))
}

/// Checks the settings before any port is bound. The error names the key
/// and says what would do.
pub fn validate(settings: &Settings) -> Result<(), String> {
    if settings.listen.is_empty() {
        return Err(
            "proxy.listen: give at least one address to listen on, such as \"0.0.0.0:3128\"".into(),
        );
    }
    if settings.max_connections == 0 || settings.max_connections > 1_000_000 {
        return Err(format!(
            "proxy.max_connections: {} is not a sensible limit; use a number from 1 to 1000000 (4096 suits most schools)",
            settings.max_connections
        ));
    }
    if settings.max_connections_per_ip == 0 || settings.max_connections_per_ip > 1_000_000 {
        return Err(format!(
            "proxy.max_connections_per_ip: {} is not a sensible limit; use a number from 1 to 1000000 (512 suits most schools; set it to max_connections to have no limit per address)",
            settings.max_connections_per_ip
        ));
    }
    if !(1024..=1024 * 1024).contains(&settings.max_header_bytes) {
        return Err(format!(
            "proxy.max_header_bytes: {} is out of range; use a number from 1024 to 1048576 (32768 suits every browser)",
            settings.max_header_bytes
        ));
    }
    for (key, value, max) in [
        (
            "idle_timeout_seconds",
            settings.idle_timeout_seconds,
            86_400,
        ),
        (
            "connect_timeout_seconds",
            settings.connect_timeout_seconds,
            600,
        ),
        (
            "answer_timeout_seconds",
            settings.answer_timeout_seconds,
            3_600,
        ),
        (
            "shutdown_grace_seconds",
            settings.shutdown_grace_seconds,
            3_600,
        ),
    ] {
        if value == 0 || value > max {
            return Err(format!(
                "proxy.{key}: {value} is out of range; use a number of seconds from 1 to {max}"
            ));
        }
    }
    if settings.tunnel_threads > 4096 {
        return Err(format!(
            "proxy.tunnel_threads: {} is too many; use a number from 0 to 4096 (64 suits most schools, 0 keeps every tunnel on the serving threads)",
            settings.tunnel_threads
        ));
    }
    if settings.serving_threads > MAX_SERVING_THREADS {
        return Err(format!(
            "proxy.serving_threads: {} is too many; use a number from 1 to {MAX_SERVING_THREADS}, or 0 for one for each core",
            settings.serving_threads
        ));
    }
    if settings.session_minutes == 0 || settings.session_minutes > 7 * 24 * 60 {
        return Err(format!(
            "proxy.session_minutes: {} is out of range; use a number of minutes from 1 to 10080 (a week)",
            settings.session_minutes
        ));
    }
    if let Some(secret) = &settings.agent_secret
        && secret.trim().len() < 16
    {
        return Err(
            "proxy.agent_secret: the login agent's secret is too short to be safe; use at least 16 random characters"
                .into(),
        );
    }
    for (i, entry) in settings.school_addresses.iter().enumerate() {
        if parse_school_address(entry).is_none() {
            return Err(format!(
                "proxy.school_addresses[{i}]: '{entry}' is not a host, domain or address range (such as intranet.school.example or 10.1.0.0/16)"
            ));
        }
    }
    for name in settings.resolve.keys() {
        if classify::canon::canonical_host(name).is_err() {
            return Err(format!(
                "proxy.resolve: '{name}' is not a host name (write it as www.example.org = \"192.0.2.1\")"
            ));
        }
    }
    if let Some(public) = &settings.public_address
        && split_host_port(public).is_none()
    {
        return Err(format!(
            "proxy.public_address: '{public}' is not host:port (such as proxy.school.example:3128)"
        ));
    }
    if settings.connect_ports.contains(&0) {
        return Err("proxy.connect_ports: 0 is not a port".into());
    }
    if let Some(parent) = &settings.parent
        && split_host_port(parent)
            .is_none_or(|(host, _)| classify::canon::canonical_host(host).is_err())
    {
        return Err(format!(
            "proxy.parent: '{parent}' is not host:port (such as proxy.trust.example:8080); leave it out to reach websites directly"
        ));
    }
    if let Some(credentials) = &settings.parent_credentials {
        if settings.parent.is_none() {
            return Err(
                "proxy.parent_credentials: there is no proxy.parent to sign in to; set parent as well, or remove the credentials"
                    .into(),
            );
        }
        if !credentials.contains(':')
            || credentials.starts_with(':')
            || credentials.chars().any(char::is_control)
        {
            return Err(
                "proxy.parent_credentials: write them as \"user:password\" (the user name may not be empty)"
                    .into(),
            );
        }
    }
    Ok(())
}

/// `host:port` (with `[v6]:port`) into its parts.
pub(crate) fn split_host_port(text: &str) -> Option<(&str, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse::<u16>().ok().filter(|p| *p != 0)?;
    if host.is_empty() || host.contains(['/', ' ', '"', '\'', '<', '>']) {
        return None;
    }
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_valid_and_unknown_keys_refused() {
        assert_eq!(validate(&Settings::default()), Ok(()));
        let s = parse("listen = [\"0.0.0.0:8080\"]\nauthentication = \"required\"").expect("parse");
        assert_eq!(s.authentication, Authentication::Required);
        assert_eq!(s.max_header_bytes, 32 * 1024);
        let e = parse("lisen = [\"0.0.0.0:8080\"]").expect_err("unknown key");
        assert!(e.contains("lisen"), "{e}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases: [(&str, &str); 14] = [
            ("parent = \"proxy.trust.example\"", "proxy.parent"),
            ("parent_credentials = \"a:b\"", "proxy.parent_credentials"),
            (
                "parent = \"p.example:3128\"\nparent_credentials = \"nocolon\"",
                "proxy.parent_credentials",
            ),
            ("max_connections = 0", "proxy.max_connections"),
            ("serving_threads = 1000", "proxy.serving_threads"),
            ("tunnel_threads = 5000", "proxy.tunnel_threads"),
            ("answer_timeout_seconds = 0", "proxy.answer_timeout_seconds"),
            ("max_connections_per_ip = 0", "proxy.max_connections_per_ip"),
            ("max_header_bytes = 10", "proxy.max_header_bytes"),
            ("idle_timeout_seconds = 0", "proxy.idle_timeout_seconds"),
            ("agent_secret = \"short\"", "proxy.agent_secret"),
            (
                "school_addresses = [\"not a host\"]",
                "proxy.school_addresses[0]",
            ),
            ("public_address = \"proxy\"", "proxy.public_address"),
            ("listen = []", "proxy.listen"),
        ];
        for (text, key) in cases {
            let s = parse(text).expect(text);
            let e = validate(&s).expect_err(text);
            assert!(e.starts_with(key), "{text}: {e}");
        }
    }

    #[test]
    fn the_secret_stays_out_of_debug() {
        let s = Settings {
            agent_secret: Some("a-very-secret-value-123".into()),
            parent_credentials: Some("trust:another-secret".into()),
            ..Settings::default()
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("another-secret"), "{shown}");
        assert!(shown.contains("(hidden)"), "{shown}");
    }

    #[test]
    fn school_addresses_are_hosts_domains_or_ranges() {
        assert_eq!(
            parse_school_address("10.1.0.0/16"),
            Some(SchoolAddress::Range("10.1.0.0/16".parse().expect("net")))
        );
        assert_eq!(
            parse_school_address("*.Intranet.School.example"),
            Some(SchoolAddress::Domain("intranet.school.example".into()))
        );
        assert_eq!(parse_school_address("x\"); alert(1); //"), None);
    }
}
