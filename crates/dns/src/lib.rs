//! The filtering DNS resolver (DESIGN C4), for networks whose devices do not
//! use the proxy: guest Wi-Fi, bring-your-own devices.
//!
//! It answers over UDP and TCP and forwards what it allows to upstream
//! resolvers, keeping their answers in a bounded cache ([`cache`]). Every
//! query is decided afresh with the policy in force ([`gate::Gate`]), for the
//! profile of whoever is behind the client's address: a login-agent session,
//! else the network's profile (guest Wi-Fi gets `guest`), else the profile
//! for people nobody could identify.
//!
//! * **Blocked names** answer NXDOMAIN, or the block page's address
//!   ([`BlockedAnswer`]), always with an Extended DNS Error (RFC 8914):
//!   15 "Blocked" for the school's own policy, 16 "Censored" for the
//!   statutory lists (IWF, CTIRU), which a body outside the school imposes.
//!   The extra text names the category, never a list entry. Only whole-domain
//!   statutory entries can be blocked by name; URL entries need the proxy.
//! * **Safe search**: names of search engines the profile enforces safe
//!   search on answer with a CNAME to the engine's enforced host, followed by
//!   that host's own records.
//! * **Circumvention**: `use-application-dns.net` answers NXDOMAIN for
//!   everyone (Firefox then leaves DNS over HTTPS off); `resolver.arpa`
//!   (Discovery of Designated Resolvers) answers with no records; DoH and DoT
//!   resolvers' names are in the `dns-over-https` category; iCloud Private
//!   Relay's names answer NXDOMAIN where the profile blocks VPNs or proxies.
//! * **DNSSEC** records are not passed on: upstream queries never set DO, and
//!   answers never set AD. A filter that changes answers cannot vouch for
//!   them; a validating client behind it must trust it as its resolver.
//! * **Activity**: blocked and safe-searched queries become events in the
//!   activity log, as the proxy's requests do; allowed ones too with
//!   `log_allowed`.
//!
//! [`serve`] runs the listeners; [`resolver::Resolver`] is the part with no
//! sockets of its own, which the fuzz target drives.

#![forbid(unsafe_code)]

pub mod cache;
pub mod resolver;
pub mod server;
pub mod settings;
pub mod upstream;
pub mod wire;

pub use server::{serve, serve_with};
pub use settings::{BlockedAnswer, Settings, validate};

/// Binds UDP and TCP on one address. With port 0 the kernel picks a UDP
/// port that TCP may already have in use elsewhere, so a few fresh ports are
/// tried before giving up; a fixed port is tried once.
pub async fn bind_pair(
    address: std::net::SocketAddr,
) -> std::io::Result<(tokio::net::UdpSocket, tokio::net::TcpListener)> {
    let tries = if address.port() == 0 { 20 } else { 1 };
    let mut last = None;
    for _ in 0..tries {
        let udp = tokio::net::UdpSocket::bind(address).await?;
        match tokio::net::TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port could be bound")))
}
