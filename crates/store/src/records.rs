//! The plain records the store keeps for identification and the activity log.

use jiff::Timestamp;
use serde::Serialize;

/// Someone schoolgate can identify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Person {
    pub username: String,
    pub display_name: String,
    /// The profile id their traffic is filtered with.
    pub profile: String,
    /// An argon2id hash (PHC string) for proxy sign-in; never shown.
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub disabled: bool,
}

/// A named address or range in the device registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Device {
    pub name: String,
    /// Laptop, tablet, desktop, phone … as the school writes it.
    pub kind: String,
    /// One address (`10.0.5.17`) or a range (`10.0.5.0/24`).
    pub address: String,
    /// Who the device belongs to or is loaned to, as free text.
    pub owner: String,
    pub school_owned: bool,
}

/// A network: address ranges and the profile for anyone on them whom
/// schoolgate cannot otherwise identify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Network {
    pub name: String,
    pub ranges: Vec<String>,
    pub profile: String,
}

/// "User U is on device D at address A until T", from the login agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoginSession {
    pub address: String,
    pub username: String,
    pub device: Option<String>,
    pub started_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A request from a block page to review a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewRequest {
    pub id: i64,
    pub at: Timestamp,
    pub reference: String,
    pub url: String,
    pub profile: String,
    pub rule: String,
    pub client_ip: String,
    pub username: Option<String>,
    pub device: Option<String>,
    pub message: String,
    pub status: String,
}

/// Where an activity event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Proxy,
    Dns,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Proxy => "proxy",
            Source::Dns => "dns",
        }
    }
}

/// One decision, with the fields the DfE standard names: when, the device,
/// the address, the person where known, what was asked for (and the search
/// term when one is visible), and what schoolgate did about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActivityEvent {
    pub at: Timestamp,
    pub source: Source,
    pub client_ip: String,
    pub username: Option<String>,
    pub device: Option<String>,
    pub profile: String,
    /// The HTTP method, `CONNECT`, or the DNS query type.
    pub method: String,
    /// The URL, or the host for CONNECT and DNS.
    pub url: String,
    pub host: String,
    pub search_term: Option<String>,
    /// Category ids, comma-separated.
    pub categories: String,
    /// `allow`, `block` or `safe-search`.
    pub verdict: String,
    pub rule: String,
    /// The HTTP status sent, or the DNS response code.
    pub status: Option<u16>,
    pub bytes: u64,
    pub duration_ms: u32,
    /// The reference a block page showed, for review requests.
    pub reference: Option<String>,
}

/// What to look for in the activity log; every field narrows the search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    pub username: Option<String>,
    pub device: Option<String>,
    pub client_ip: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub verdict: Option<String>,
    pub category: Option<String>,
    pub source: Option<Source>,
    /// At most this many, newest first.
    pub limit: usize,
}
