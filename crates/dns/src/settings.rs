//! The `[dns]` table of the configuration file.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize};

/// What a blocked name answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockedAnswer {
    /// "No such domain". Every client understands it; browsers show their
    /// own "site can't be reached" page.
    #[default]
    Nxdomain,
    /// The address of schoolgate's block page for A and AAAA queries (and
    /// an empty answer for other types), so a browser shows the school's
    /// page. HTTPS sites will show a certificate warning first.
    BlockPage,
}

/// The DNS filter's settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Addresses to answer on, over both UDP and TCP.
    pub listen: Vec<SocketAddr>,
    /// Resolvers to forward to. By default, the nameservers of
    /// `/etc/resolv.conf` other than our own listen addresses.
    pub upstreams: Vec<SocketAddr>,
    /// How long to wait for one upstream answer.
    pub upstream_timeout_ms: u64,
    /// Tries per query, moving to the next upstream after each failure.
    pub attempts: u32,
    /// Upstream queries in flight at once; beyond this, new queries that
    /// need an upstream are answered SERVFAIL at once.
    pub max_in_flight: usize,
    pub blocked_answer: BlockedAnswer,
    /// The block page's address, for `blocked_answer = "block-page"`.
    pub block_page_ipv4: Option<Ipv4Addr>,
    pub block_page_ipv6: Option<Ipv6Addr>,
    /// The TTL of schoolgate's own answers (blocks, safe search CNAMEs):
    /// short, so that a policy change reaches clients soon.
    pub blocked_ttl_seconds: u32,
    /// Upstream answers kept at most.
    pub cache_entries: usize,
    /// Bytes of upstream answers kept at most (the cache's memory bound).
    pub cache_max_bytes: usize,
    /// No answer is kept longer than this, whatever its TTL.
    pub cache_max_ttl_seconds: u32,
    /// "No such name" and "no such record" answers are kept at most this
    /// long (RFC 2308), and only when the upstream sent its SOA record.
    pub negative_ttl_seconds: u32,
    /// The UDP answer size we accept from upstreams and offer clients
    /// (EDNS(0)); 1232 avoids IP fragmentation (DNS Flag Day 2020).
    pub udp_payload: u16,
    /// Record allowed queries in the activity log too. Off by default: a
    /// busy network asks tens of thousands of names a second, and the
    /// standards ask for blocked attempts.
    pub log_allowed: bool,
    /// TCP connections served at once.
    pub max_tcp_connections: usize,
    /// A TCP connection with no query for this long is closed.
    pub tcp_idle_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        let listen = vec![SocketAddr::from(([127, 0, 0, 1], 5353))];
        let upstreams = resolv_conf_nameservers(
            &std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
            &listen,
        );
        Settings {
            listen,
            upstreams,
            upstream_timeout_ms: 1_000,
            attempts: 3,
            max_in_flight: 2_048,
            blocked_answer: BlockedAnswer::Nxdomain,
            block_page_ipv4: None,
            block_page_ipv6: None,
            blocked_ttl_seconds: 60,
            cache_entries: 50_000,
            cache_max_bytes: 16 << 20,
            cache_max_ttl_seconds: 86_400,
            negative_ttl_seconds: 900,
            udp_payload: 1_232,
            log_allowed: false,
            max_tcp_connections: 512,
            tcp_idle_timeout_ms: 10_000,
        }
    }
}

/// The `nameserver` lines of a resolv.conf, on port 53, leaving out any of
/// our own listen addresses (forwarding to ourselves would loop).
pub fn resolv_conf_nameservers(text: &str, listen: &[SocketAddr]) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next())?
        })
        .filter_map(|address| {
            // A scoped IPv6 address (fe80::1%eth0) cannot be written as a
            // SocketAddr here; leave it out.
            address.parse::<IpAddr>().ok()
        })
        .map(|ip| SocketAddr::new(ip, 53))
        .filter(|server| !is_ours(*server, listen))
        .collect()
}

fn is_ours(server: SocketAddr, listen: &[SocketAddr]) -> bool {
    listen
        .iter()
        .any(|l| l.port() == server.port() && (l.ip() == server.ip() || l.ip().is_unspecified()))
}

/// Checks settings before any port is bound. The message names the key.
pub fn validate(settings: &Settings) -> Result<(), String> {
    if settings.listen.is_empty() {
        return Err(
            "dns.listen: give at least one address to answer on, such as \"0.0.0.0:53\"".into(),
        );
    }
    if settings.upstreams.is_empty() {
        return Err("dns.upstreams: no upstream resolver; list at least one (such as \"192.0.2.53:53\"), or put a nameserver in /etc/resolv.conf".into());
    }
    for upstream in &settings.upstreams {
        if upstream.port() == 0 || upstream.ip().is_unspecified() {
            return Err(format!(
                "dns.upstreams: {upstream} is not an address a query can be sent to"
            ));
        }
        if is_ours(*upstream, &settings.listen) {
            return Err(format!(
                "dns.upstreams: {upstream} is one of schoolgate's own dns.listen addresses; forwarding to it would loop"
            ));
        }
    }
    if !(10..=30_000).contains(&settings.upstream_timeout_ms) {
        return Err(format!(
            "dns.upstream_timeout_ms: {} is out of range; use 10 to 30000 (a second is usual)",
            settings.upstream_timeout_ms
        ));
    }
    if !(1..=10).contains(&settings.attempts) {
        return Err(format!(
            "dns.attempts: {} is out of range; use 1 to 10",
            settings.attempts
        ));
    }
    if settings.max_in_flight == 0 {
        return Err("dns.max_in_flight: must be at least 1".into());
    }
    if settings.blocked_answer == BlockedAnswer::BlockPage
        && settings.block_page_ipv4.is_none()
        && settings.block_page_ipv6.is_none()
    {
        return Err("dns.blocked_answer: \"block-page\" needs dns.block_page_ipv4 or dns.block_page_ipv6, the address of schoolgate's block page".into());
    }
    if settings.cache_entries > 10_000_000 {
        return Err(format!(
            "dns.cache_entries: {} is more than 10000000",
            settings.cache_entries
        ));
    }
    if settings.cache_entries > 0 && settings.cache_max_bytes < 64 * 1024 {
        return Err("dns.cache_max_bytes: give the cache at least 65536 bytes, or set dns.cache_entries to 0 to turn it off".into());
    }
    if !(512..=4096).contains(&settings.udp_payload) {
        return Err(format!(
            "dns.udp_payload: {} is out of range; use 512 to 4096 (1232 is usual)",
            settings.udp_payload
        ));
    }
    if settings.max_tcp_connections == 0 {
        return Err("dns.max_tcp_connections: must be at least 1".into());
    }
    if settings.tcp_idle_timeout_ms < 100 {
        return Err("dns.tcp_idle_timeout_ms: use at least 100".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers_leave_out_our_own_address() {
        let text = "# generated\nsearch school.example\nnameserver 127.0.0.1\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\noptions edns0\n";
        let ours = [SocketAddr::from(([127, 0, 0, 1], 53))];
        assert_eq!(
            resolv_conf_nameservers(text, &ours),
            vec![
                "192.0.2.53:53".parse::<SocketAddr>().expect("addr"),
                "[2001:db8::53]:53".parse().expect("addr"),
            ]
        );
    }

    #[test]
    fn bad_settings_name_their_key() {
        let good = Settings {
            upstreams: vec!["192.0.2.53:53".parse().expect("addr")],
            ..Settings::default()
        };
        assert_eq!(validate(&good), Ok(()));
        let cases: Vec<(Settings, &str)> = vec![
            (
                Settings {
                    upstreams: vec![],
                    ..good.clone()
                },
                "dns.upstreams",
            ),
            (
                Settings {
                    upstreams: vec!["127.0.0.1:5353".parse().expect("addr")],
                    ..good.clone()
                },
                "would loop",
            ),
            (
                Settings {
                    blocked_answer: BlockedAnswer::BlockPage,
                    ..good.clone()
                },
                "dns.block_page_ipv4",
            ),
            (
                Settings {
                    attempts: 0,
                    ..good.clone()
                },
                "dns.attempts",
            ),
            (
                Settings {
                    udp_payload: 100,
                    ..good.clone()
                },
                "dns.udp_payload",
            ),
        ];
        for (settings, key) in cases {
            let err = validate(&settings).expect_err(key);
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_and_values_are_read() {
        let settings: Settings = toml::from_str(
            "listen = [\"0.0.0.0:53\"]\nupstreams = [\"192.0.2.53:53\"]\nblocked_answer = \"block-page\"\nblock_page_ipv4 = \"192.0.2.80\"\nlog_allowed = true\n",
        )
        .expect("parses");
        assert_eq!(settings.blocked_answer, BlockedAnswer::BlockPage);
        assert!(settings.log_allowed);
        assert_eq!(settings.attempts, 3);
        let err = toml::from_str::<Settings>("upstream = [\"192.0.2.53:53\"]\n")
            .expect_err("unknown key");
        assert!(err.to_string().contains("upstream"), "{err}");
    }
}
