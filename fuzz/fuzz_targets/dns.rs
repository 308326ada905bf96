//! Fuzzes the DNS filter's packet handling: a client's packet through
//! `Resolver::begin` (reading, deciding, answering from the block rules or
//! the cache), and an upstream's answer through the cache's checks and back
//! out to the client. Nothing may panic, and every answer must be a DNS
//! message hickory-proto can read, no bigger than the client allows.
//!
//! Input: one byte choosing the profile and transport, two bytes of client
//! packet length, the client packet, then the upstream's answer.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use classify::index::IndexBuilder;
use classify::taxonomy::Category;
use dns::cache::{Entry, TtlLimits};
use dns::resolver::{Resolver, Scratch, Step, Surroundings, Transport};
use dns::{BlockedAnswer, Settings};
use gate::{Basis, Who};
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use policy::{Engine, Lists, Verdict};
use store::ActivityEvent;

struct Bench {
    engine: Arc<Engine>,
    profile: &'static str,
}

impl Surroundings for Bench {
    fn engine(&self) -> Arc<Engine> {
        self.engine.clone()
    }
    fn identify(&self, _: IpAddr, _: Timestamp) -> Who {
        Who {
            user: None,
            device: None,
            school_owned: None,
            profile: Some(self.profile.into()),
            basis: Basis::Unidentified,
        }
    }
    fn record(&self, event: ActivityEvent) {
        assert!(!event.host.is_empty() || event.verdict == "allow");
    }
    fn observe(&self, _: Verdict, _: Duration) {}
    fn malformed(&self) {}
}

fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut builder = IndexBuilder::new();
            for (category, domains) in [
                ("gambling", &["bet365.com", "casino.example"][..]),
                ("vpn", &["nordvpn.com"][..]),
                ("dns-over-https", &["dns.google", "mask.icloud.com"][..]),
            ] {
                builder
                    .add_list(category, Category::from_id(category), domains.iter().copied(), [])
                    .expect("list");
            }
            let lists = Arc::new(Lists {
                index: builder.build(),
                statutory: Vec::new(),
            });
            Arc::new(Engine::new(policy::defaults::default_policy(), lists).expect("engine"))
        })
        .clone()
}

fn resolvers() -> &'static [Resolver; 2] {
    static RESOLVERS: OnceLock<[Resolver; 2]> = OnceLock::new();
    RESOLVERS.get_or_init(|| {
        let base = Settings {
            upstreams: vec!["192.0.2.53:53".parse().expect("addr")],
            cache_entries: 64,
            cache_max_bytes: 1 << 16,
            ..Settings::default()
        };
        let block_page = Settings {
            blocked_answer: BlockedAnswer::BlockPage,
            block_page_ipv4: Some(Ipv4Addr::new(192, 0, 2, 80)),
            block_page_ipv6: Some("2001:db8::80".parse().expect("v6")),
            ..base.clone()
        };
        [Resolver::new(Arc::new(base)), Resolver::new(Arc::new(block_page))]
    })
}

const PROFILES: [&str; 4] = ["guest", "staff", "ks2", "eyfs-ks1"];

fn check(answer: &[u8], limit: usize) {
    assert!(answer.len() <= limit, "answer of {} bytes over {limit}", answer.len());
    if let Err(e) = hickory_proto::op::Message::from_vec(answer) {
        panic!("answer does not decode: {e}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Some(len) = rest.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize) else {
        return;
    };
    let rest = &rest[2..];
    let (packet, upstream) = rest.split_at(len.min(rest.len()));
    let bench = Bench {
        engine: engine(),
        profile: PROFILES[(choice & 3) as usize],
    };
    let resolver = &resolvers()[((choice >> 2) & 1) as usize];
    let (transport, limit) = if choice & 8 == 0 {
        (Transport::Udp, 4096)
    } else {
        (Transport::Tcp, 65_535)
    };
    let client = IpAddr::V4(Ipv4Addr::new(10, 20, 0, 1));
    let mut scratch = Scratch::default();
    match resolver.begin(&bench, packet, client, transport, &mut scratch) {
        Step::Drop => {}
        Step::Reply(answer) => {
            // Header-only refusals carry no question; everything else must decode.
            if answer.len() > 12 {
                check(&answer, limit);
            }
        }
        Step::Resolve(pending) => {
            let limits = TtlLimits {
                max_ttl: 3600,
                negative_ttl: 300,
            };
            let now = Instant::now();
            // The upstream bytes as they are, and spliced after a header and
            // the right question so the fuzzer reaches the record handling.
            let mut spliced = upstream.get(..12).unwrap_or(&[0x00, 0x00, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]).to_vec();
            spliced.resize(12, 0);
            spliced[4..6].copy_from_slice(&[0, 1]);
            spliced.extend_from_slice(pending.key());
            spliced.extend_from_slice(upstream.get(12..).unwrap_or(&[]));
            let entry = Entry::from_upstream(upstream, pending.key(), limits, now)
                .or_else(|_| Entry::from_upstream(&spliced, pending.key(), limits, now));
            let key = pending.key().to_vec();
            let answer = match entry {
                Ok(entry) => {
                    let entry = Arc::new(entry);
                    resolver.cache().insert(&key, entry.clone(), now);
                    resolver.finish(&bench, pending, Ok(entry))
                }
                Err(_) => resolver.finish(&bench, pending, Err(dns::upstream::Failure::NoAnswer)),
            };
            check(&answer, limit);
            // Again, now perhaps from the cache.
            if let Step::Reply(answer) = resolver.begin(&bench, packet, client, transport, &mut scratch) {
                check(&answer, limit);
            }
        }
    }
});
