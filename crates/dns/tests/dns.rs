//! The DNS filter against real clients (dig and a Rust client) and an
//! upstream of the test's own, all on loopback, with the starter UT1 lists
//! and the default policy. Source addresses pick the network: 127.0.0.2 is
//! the guest Wi-Fi, 127.0.0.3 staff, 127.0.0.4 KS2 classrooms, 127.0.0.5 a
//! pupil signed in through the login agent; 127.0.0.1 is nobody's.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use dns::{BlockedAnswer, Settings};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use policy::Verdict;
use policy::defaults::default_policy;
use store::Source;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_names_resolve_for_dig_and_a_rust_client_over_udp_and_tcp() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;

    let out = dig(filter.address, STAFF, &["www.example.test", "A"]).await;
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("192.0.2.10"), "{out}");
    let out = dig(filter.address, STAFF, &["+tcp", "www.example.test", "AAAA"]).await;
    assert!(out.contains("2001:db8::10"), "{out}");

    let m = ask(filter.address, GUEST, "www.example.test.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert!(m.recursion_available());
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);
    let m = ask_tcp(filter.address, GUEST, "www.example.test.", RecordType::AAAA).await;
    assert_eq!(addresses(&m), vec![ip("2001:db8::10")]);

    // A CNAME chain comes through whole.
    let m = ask(filter.address, STAFF, "alias.example.test.", RecordType::A).await;
    assert_eq!(m.answers().len(), 2);
    assert!(matches!(m.answers()[0].data(), RData::CNAME(_)));
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);

    // The client's spelling of the name comes back as it was sent.
    let m = ask(filter.address, STAFF, "WwW.ExAmPlE.tEsT.", RecordType::A).await;
    assert_eq!(m.queries()[0].name().to_ascii(), "WwW.ExAmPlE.tEsT.");
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);

    // Names the upstream does not know: NXDOMAIN, passed on.
    let m = ask(
        filter.address,
        STAFF,
        "nothing.example.test.",
        RecordType::A,
    )
    .await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);

    // Allowed queries are counted but not logged by default.
    assert!(filter.gate.metrics.count(Source::Dns, Verdict::Allow) >= 6);
    assert!(filter.events().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_names_answer_nxdomain_with_an_extended_error_naming_the_category() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;

    let out = dig(filter.address, GUEST, &["www.bet365.com", "A"]).await;
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(out.contains("EDE: 15 (Blocked)"), "{out}");
    assert!(out.contains("Gambling"), "{out}");

    let m = ask(filter.address, GUEST, "www.bet365.com.", RecordType::AAAA).await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    let (code, text) = extended_error(&m).expect("EDE");
    assert_eq!(code, 15);
    assert_eq!(text, "Blocked by the school's filter: Gambling");
    // The upstream never hears of blocked names.
    assert_eq!(upstream.seen("www.bet365.com", RecordType::A), 0);
    assert_eq!(upstream.seen("www.bet365.com", RecordType::AAAA), 0);

    let e = filter.event("www.bet365.com").await;
    assert_eq!(e.source, Source::Dns);
    assert_eq!(e.client_ip, "127.0.0.2");
    assert_eq!(e.profile, "guest");
    assert_eq!(e.verdict, "block");
    assert_eq!(e.rule, "category:gambling");
    assert!(
        e.categories.split(',').any(|c| c == "gambling"),
        "{}",
        e.categories
    );
    assert!(["A", "AAAA"].contains(&e.method.as_str()), "{}", e.method);
    assert_eq!(e.url, "www.bet365.com");
    assert_eq!(e.status, Some(3));
    assert_eq!(e.username, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_follow_the_network_and_the_login_session() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;

    // Remote access: allowed for staff (IT support), blocked on the guest Wi-Fi.
    let staff = ask(filter.address, STAFF, "teamviewer.com.", RecordType::A).await;
    assert_eq!(staff.response_code(), ResponseCode::NoError);
    assert_eq!(addresses(&staff), vec![ip("192.0.2.99")]);
    let guest = ask(filter.address, GUEST, "teamviewer.com.", RecordType::A).await;
    assert_eq!(guest.response_code(), ResponseCode::NXDomain);
    assert!(
        extended_error(&guest)
            .expect("EDE")
            .1
            .contains("Remote access")
    );

    // Games: fine for guests, blocked in KS2 classrooms.
    let guest = ask(
        filter.address,
        GUEST,
        "www.coolmathgames.com.",
        RecordType::A,
    )
    .await;
    assert_eq!(guest.response_code(), ResponseCode::NoError);
    let ks2 = ask(filter.address, KS2, "www.coolmathgames.com.", RecordType::A).await;
    assert_eq!(ks2.response_code(), ResponseCode::NXDomain);

    // Nobody's address gets the strictest pupil profile: the EYFS walled garden.
    let nobody = ask(
        filter.address,
        UNIDENTIFIED,
        "www.example.test.",
        RecordType::A,
    )
    .await;
    assert_eq!(nobody.response_code(), ResponseCode::NXDomain);
    assert!(extended_error(&nobody).expect("EDE").1.contains("approved"));
    // ... in which the help sites stay reachable (over-blocking is a failure too).
    let help = ask(
        filter.address,
        UNIDENTIFIED,
        "www.childline.org.uk.",
        RecordType::A,
    )
    .await;
    assert_eq!(help.response_code(), ResponseCode::NoError);

    // A pupil signed in on a library iPad: the person's profile, named in the log.
    let pupil = ask(filter.address, PUPIL_SESSION, "poki.com.", RecordType::A).await;
    assert_eq!(pupil.response_code(), ResponseCode::NXDomain);
    let e = filter.event("poki.com").await;
    assert_eq!(e.username.as_deref(), Some("ada.pupil"));
    assert_eq!(e.device.as_deref(), Some("LIBRARY-IPAD-3"));
    assert_eq!(e.profile, "ks2");
    assert_eq!(e.client_ip, "127.0.0.5");
    assert_eq!(e.rule, "category:games");

    let e = filter.event("www.example.test").await;
    assert_eq!(e.profile, "eyfs-ks1");
    assert_eq!(e.rule, "walled-garden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_page_answers_give_its_addresses_and_nodata_for_other_types() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(Settings {
        blocked_answer: BlockedAnswer::BlockPage,
        block_page_ipv4: Some(Ipv4Addr::new(192, 0, 2, 80)),
        block_page_ipv6: Some("2001:db8::80".parse().expect("v6")),
        ..settings(&upstream)
    })
    .await;
    let m = ask(filter.address, GUEST, "www.bet365.com.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert_eq!(addresses(&m), vec![ip("192.0.2.80")]);
    assert_eq!(extended_error(&m).expect("EDE").0, 15);
    let m = ask(filter.address, GUEST, "www.bet365.com.", RecordType::AAAA).await;
    assert_eq!(addresses(&m), vec![ip("2001:db8::80")]);
    let m = ask(filter.address, GUEST, "www.bet365.com.", RecordType::HTTPS).await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert!(m.answers().is_empty());
    assert_eq!(extended_error(&m).expect("EDE").0, 15);
    let out = dig(filter.address, GUEST, &["www.bet365.com", "A"]).await;
    assert!(
        out.contains("192.0.2.80") && out.contains("EDE: 15 (Blocked)"),
        "{out}"
    );
    // Private Relay must fail to resolve to be turned off: NXDOMAIN even here.
    let m = ask(filter.address, GUEST, "mask.icloud.com.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safe_search_answers_with_a_cname_and_the_enforced_hosts_addresses() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;

    let out = dig(filter.address, GUEST, &["www.google.co.uk", "A"]).await;
    assert!(out.contains("CNAME\tforcesafesearch.google.com."), "{out}");
    assert!(out.contains("192.0.2.120"), "{out}");

    let m = ask(filter.address, GUEST, "www.google.com.", RecordType::AAAA).await;
    assert!(
        matches!(m.answers()[0].data(), RData::CNAME(c) if c.0.to_ascii() == "forcesafesearch.google.com.")
    );
    assert_eq!(addresses(&m), vec![ip("2001:db8::120")]);

    // YouTube: moderate for guests, strict in KS2.
    let m = ask(filter.address, GUEST, "www.youtube.com.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.122")]);
    let m = ask(filter.address, KS2, "www.youtube.com.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.121")]);

    // Bing's enforced host is itself a chain of CNAMEs: all of it comes back.
    let m = ask_tcp(filter.address, STAFF, "www.bing.com.", RecordType::A).await;
    let names: Vec<String> = m.answers().iter().map(|r| r.name().to_ascii()).collect();
    assert_eq!(
        names,
        [
            "www.bing.com.",
            "strict.bing.com.",
            "strict.edge.bing.test.",
            "a.edge.bing.test."
        ]
    );
    assert_eq!(addresses(&m), vec![ip("192.0.2.123")]);

    // The second time comes from the cache.
    let before = upstream.seen("forcesafesearch.google.com", RecordType::A);
    let m = ask(filter.address, STAFF, "google.de.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.120")]);
    assert_eq!(
        upstream.seen("forcesafesearch.google.com", RecordType::A),
        before
    );
    assert_eq!(upstream.seen("www.google.co.uk", RecordType::A), 0);

    let e = filter.event("www.google.co.uk").await;
    assert_eq!(e.verdict, "safe-search");
    assert_eq!(e.profile, "guest");
    assert_eq!(e.status, Some(0));
    assert_eq!(e.method, "A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circumvention_canary_doh_vpn_private_relay_and_ddr() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;

    // The Firefox canary: NXDOMAIN for everyone, staff included.
    for source in [STAFF, GUEST] {
        let out = dig(filter.address, source, &["use-application-dns.net", "A"]).await;
        assert!(out.contains("status: NXDOMAIN"), "{out}");
    }
    // DNS over HTTPS resolvers and VPNs follow the circumvention categories.
    for (name, category) in [("dns.google", "dns-over-https"), ("nordvpn.com", "vpn")] {
        for source in [STAFF, GUEST, KS2] {
            let m = ask(filter.address, source, &format!("{name}."), RecordType::A).await;
            assert_eq!(
                m.response_code(),
                ResponseCode::NXDomain,
                "{name} from {source}"
            );
        }
        let e = filter.event(name).await;
        assert_eq!(e.rule, format!("category:{category}"));
    }
    let out = dig(filter.address, GUEST, &["dns.google", "A"]).await;
    assert!(out.contains("DNS over HTTPS"), "{out}");
    // iCloud Private Relay.
    for name in ["mask.icloud.com.", "mask-h2.icloud.com."] {
        let m = ask(filter.address, GUEST, name, RecordType::A).await;
        assert_eq!(m.response_code(), ResponseCode::NXDomain, "{name}");
    }
    // Discovery of Designated Resolvers: no records, nothing upstream.
    let m = ask(
        filter.address,
        GUEST,
        "_dns.resolver.arpa.",
        RecordType::SVCB,
    )
    .await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert!(m.answers().is_empty());
    assert_eq!(upstream.total(), 0, "nothing here went upstream");
    // Protocol signals are not anyone's attempt: not logged.
    let events = filter.events().await;
    assert!(
        !events
            .iter()
            .any(|e| e.host.contains("use-application-dns"))
    );
    assert!(!events.iter().any(|e| e.host.contains("resolver.arpa")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_too_big_for_udp_are_truncated_and_tcp_gets_them_whole() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;

    // The upstream truncates over UDP, so the filter asked again over TCP.
    let m = ask_tcp(filter.address, STAFF, "many.example.test.", RecordType::A).await;
    assert_eq!(addresses(&m).len(), 100);
    assert_eq!(upstream.seen_tcp("many.example.test", RecordType::A), 1);

    // dig without retrying sees TC; by default it retries over TCP itself.
    let out = dig(
        filter.address,
        STAFF,
        &["+ignore", "+bufsize=1232", "many.example.test", "A"],
    )
    .await;
    assert!(out.contains(" tc "), "{out}");
    let out = dig(filter.address, STAFF, &["many.example.test", "A"]).await;
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
    assert!(out.contains("ANSWER: 100"), "{out}");
    let out = dig(filter.address, STAFF, &["+tcp", "big.example.test", "TXT"]).await;
    assert!(out.contains("ANSWER: 20"), "{out}");
    // A client with no EDNS gets at most 512 bytes.
    let packet = query("many.example.test.", RecordType::A, None);
    let answer = exchange_raw(filter.address, STAFF, &packet, Duration::from_secs(2))
        .await
        .expect("answer");
    assert!(answer.len() <= 512);
    assert!(Message::from_vec(&answer).expect("decodes").truncated());
    // A large EDNS buffer takes the answer over UDP, up to our 1232 bytes.
    let out = dig(
        filter.address,
        STAFF,
        &["+ignore", "+bufsize=4096", "www.example.test", "A"],
    )
    .await;
    assert!(out.contains("udp: 1232"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_or_silent_upstream_gives_servfail_in_time_without_stalling_others() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;

    // A name the upstream never answers: SERVFAIL after 2 attempts of 300 ms.
    let started = Instant::now();
    let silent = tokio::spawn({
        let address = filter.address;
        async move { ask(address, STAFF, "silent.example.test.", RecordType::A).await }
    });
    // Meanwhile other names are answered at once.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let quick = Instant::now();
    let m = ask(filter.address, STAFF, "www.example.test.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);
    // Answered while the silent name is still waiting on its upstream.
    assert!(!silent.is_finished(), "{:?}", quick.elapsed());
    let m = silent.await.expect("join");
    assert_eq!(m.response_code(), ResponseCode::ServFail);
    let (code, _) = extended_error(&m).expect("EDE");
    assert_eq!(code, 22);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_millis(3000),
        "{took:?}"
    );
    assert_eq!(upstream.seen("silent.example.test", RecordType::A), 2);

    // No upstream at all: a port nobody listens on.
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        s.local_addr().expect("addr")
    };
    let dead = Filter::start(Settings {
        upstreams: vec![closed],
        upstream_timeout_ms: 300,
        attempts: 2,
        ..Settings::default()
    })
    .await;
    let started = Instant::now();
    let out = dig(dead.address, STAFF, &["www.example.test", "A"]).await;
    assert!(out.contains("status: SERVFAIL"), "{out}");
    assert!(out.contains("EDE: 22 (No Reachable Authority)"), "{out}");
    assert!(started.elapsed() < Duration::from_millis(3000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_are_dropped_and_counted_and_the_filter_keeps_answering() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;
    let wait = Duration::from_millis(300);

    // Too short for a header: no answer.
    assert_eq!(
        exchange_raw(filter.address, STAFF, b"\x12\x34\x01", wait).await,
        None
    );
    // An answer, not a query: no answer (no ping-pong between servers).
    let mut response = query("www.example.test.", RecordType::A, None);
    response[2] |= 0x80;
    assert_eq!(
        exchange_raw(filter.address, STAFF, &response, wait).await,
        None
    );
    // A question cut short: FORMERR.
    let mut cut = query("www.example.test.", RecordType::A, None);
    cut.truncate(20);
    let answer = exchange_raw(filter.address, STAFF, &cut, wait)
        .await
        .expect("FORMERR");
    assert_eq!(
        Message::from_vec(&answer).expect("decodes").response_code(),
        ResponseCode::FormErr
    );
    // A name with a space in it is no host: REFUSED.
    let mut odd = query("badxname.example.test.", RecordType::A, None);
    let x = odd.iter().position(|&b| b == b'x').expect("x");
    odd[x] = b' ';
    let answer = exchange_raw(filter.address, STAFF, &odd, wait)
        .await
        .expect("REFUSED");
    assert_eq!(
        Message::from_vec(&answer).expect("decodes").response_code(),
        ResponseCode::Refused
    );
    // Random bytes.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..200 {
        let len = (state % 300) as usize;
        let packet: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let _ = exchange_raw(filter.address, STAFF, &packet, Duration::from_millis(5)).await;
    }
    // Garbage over TCP closes that connection only.
    let mut stream = tokio::net::TcpStream::connect(filter.address)
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut stream, b"\x00\x03abc")
        .await
        .expect("write");

    assert!(filter.gate.metrics.malformed_count(Source::Dns) >= 4);
    let m = ask(filter.address, STAFF, "www.example.test.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);
    let m = ask_tcp(filter.address, STAFF, "www.example.test.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_answers_repeats_and_identical_queries_in_flight_go_upstream_once() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;

    for _ in 0..3 {
        let m = ask(filter.address, STAFF, "www.example.test.", RecordType::A).await;
        assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);
    }
    assert_eq!(upstream.seen("www.example.test", RecordType::A), 1);
    // TTLs count down in the cache.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let m = ask(filter.address, GUEST, "www.example.test.", RecordType::A).await;
    assert!(m.answers()[0].ttl() < 300, "{}", m.answers()[0].ttl());
    assert_eq!(upstream.seen("www.example.test", RecordType::A), 1);
    // ...and an answer is asked for again once its TTL has run out.
    ask(filter.address, STAFF, "short.example.test.", RecordType::A).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ask(filter.address, STAFF, "short.example.test.", RecordType::A).await;
    assert_eq!(upstream.seen("short.example.test", RecordType::A), 2);

    // Negative answers are kept too (RFC 2308).
    for _ in 0..2 {
        let m = ask(filter.address, STAFF, "gone.example.test.", RecordType::A).await;
        assert_eq!(m.response_code(), ResponseCode::NXDomain);
        assert!(
            m.name_servers()
                .iter()
                .any(|r| r.record_type() == RecordType::SOA)
        );
    }
    assert_eq!(upstream.seen("gone.example.test", RecordType::A), 1);

    // Twenty clients asking for a slow name at once: one upstream query.
    let mut asks = Vec::new();
    for _ in 0..20 {
        let address = filter.address;
        asks.push(tokio::spawn(async move {
            ask(address, STAFF, "slow.example.test.", RecordType::A).await
        }));
    }
    for a in asks {
        let m = a.await.expect("join");
        assert_eq!(addresses(&m), vec![ip("192.0.2.30")], "{m:?}");
    }
    assert_eq!(upstream.seen("slow.example.test", RecordType::A), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_stays_within_its_bound() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(Settings {
        cache_entries: 40,
        cache_max_bytes: 64 * 1024,
        ..settings(&upstream)
    })
    .await;
    for i in 0..300 {
        let m = ask(
            filter.address,
            STAFF,
            &format!("host{i}.example.org."),
            RecordType::A,
        )
        .await;
        assert_eq!(addresses(&m), vec![ip("192.0.2.99")]);
    }
    let kept = filter.resolver.cache().len();
    assert!(kept > 0 && kept <= 40, "{kept}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_reload_applies_to_the_next_query_cached_answers_or_not() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;
    let m = ask(filter.address, STAFF, "www.example.test.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);

    let mut policy = default_policy();
    let staff = policy
        .profiles
        .iter_mut()
        .find(|p| p.id == "staff")
        .expect("staff");
    staff.deny.push("example.test".into());
    filter
        .gate
        .set_engine(policy::Engine::new(policy, lists()).expect("engine"));
    let m = ask(filter.address, STAFF, "www.example.test.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    assert!(extended_error(&m).expect("EDE").1.contains("block list"));
    let e = filter.event("www.example.test").await;
    assert_eq!(e.rule, "deny:example.test");
    // Guests are unaffected, and still served from the cache.
    let m = ask(filter.address, GUEST, "www.example.test.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);
    assert_eq!(upstream.seen("www.example.test", RecordType::A), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_queries_are_logged_when_asked_to() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(Settings {
        log_allowed: true,
        ..settings(&upstream)
    })
    .await;
    ask(filter.address, STAFF, "www.example.test.", RecordType::AAAA).await;
    let e = filter.event("www.example.test").await;
    assert_eq!(e.verdict, "allow");
    assert_eq!(e.method, "AAAA");
    assert_eq!(e.rule, "default");
    assert_eq!(e.profile, "staff");
    assert_eq!(e.status, Some(0));
    assert!(e.bytes > 0);
    let _ = Arc::clone(&filter.gate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_relay_follows_the_profiles_vpn_and_proxy_categories() {
    use classify::taxonomy::Category;
    let upstream = Upstream::start().await;
    // Guests: DNS over HTTPS allowed (so UT1's doh entry for mask.icloud.com
    // does not apply), VPNs blocked. Staff: none of the three blocked.
    let mut policy = default_policy();
    for profile in &mut policy.profiles {
        let mut drop = vec!["dns-over-https"];
        if profile.id == "staff" {
            drop.extend(["vpn", "proxy"]);
        }
        for id in drop {
            profile
                .blocked_categories
                .remove(Category::from_id(id).expect("category"));
        }
    }
    let filter = Filter::start_with_policy(settings(&upstream), policy).await;
    let m = ask(filter.address, GUEST, "mask.icloud.com.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    assert!(extended_error(&m).expect("EDE").1.contains("VPN"));
    let e = filter.event("mask.icloud.com").await;
    assert_eq!(e.rule, "category:vpn");
    assert!(
        e.categories.split(',').any(|c| c == "vpn"),
        "{}",
        e.categories
    );
    // UT1 has mask-h2 in its proxy list as well.
    let m = ask(filter.address, GUEST, "mask-h2.icloud.com.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    let m = ask(filter.address, STAFF, "mask.icloud.com.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
    assert_eq!(addresses(&m), vec![ip("192.0.2.99")]);
    // Other iCloud names are not Private Relay.
    let m = ask(filter.address, GUEST, "www.icloud.com.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NoError);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statutory_whole_domain_entries_are_blocked_without_naming_the_entry() {
    use classify::statutory::{StatutoryKind, StatutoryList};
    let upstream = Upstream::start().await;
    let statutory = StatutoryList::parse(
        StatutoryKind::Iwf,
        "test",
        b"blocked-by-law.example.test/\nurl-only.example.test/some/page\n",
    )
    .expect("statutory list");
    let lists = Arc::new(policy::Lists {
        index: classify::index::IndexBuilder::new().build(),
        statutory: vec![statutory],
    });
    let filter = Filter::start_with(settings(&upstream), default_policy(), lists).await;
    // Staff, who block the least: the statutory list still applies.
    let m = ask(
        filter.address,
        STAFF,
        "www.blocked-by-law.example.test.",
        RecordType::A,
    )
    .await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    let (code, text) = extended_error(&m).expect("EDE");
    assert_eq!(code, 16, "Censored: required from outside the school");
    assert!(text.contains("Internet Watch Foundation"), "{text}");
    assert!(!text.contains("blocked-by-law"), "{text}");
    let out = dig(filter.address, STAFF, &["blocked-by-law.example.test", "A"]).await;
    assert!(out.contains("EDE: 16 (Censored)"), "{out}");
    let e = filter.event("www.blocked-by-law.example.test").await;
    assert_eq!(e.rule, "statutory:iwf");
    assert_eq!(upstream.total(), 0);
    // A URL-level entry cannot be seen by DNS: the host resolves (the proxy
    // blocks the page).
    let m = ask(
        filter.address,
        STAFF,
        "url-only.example.test.",
        RecordType::A,
    )
    .await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    assert!(
        extended_error(&m).is_none(),
        "answered by the upstream, not blocked"
    );
    assert_eq!(upstream.seen("url-only.example.test", RecordType::A), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_past_the_in_flight_bound_get_servfail_at_once() {
    let upstream = Upstream::start().await;
    let filter = Filter::start(Settings {
        max_in_flight: 1,
        ..settings(&upstream)
    })
    .await;
    let silent = tokio::spawn({
        let address = filter.address;
        async move { ask(address, STAFF, "silent.example.test.", RecordType::A).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let m = ask(filter.address, STAFF, "www.example.test.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::ServFail);
    assert!(!silent.is_finished(), "the bound answered at once");
    // Blocked names and cached answers need no upstream, so still work.
    let m = ask(filter.address, GUEST, "www.bet365.com.", RecordType::A).await;
    assert_eq!(m.response_code(), ResponseCode::NXDomain);
    assert_eq!(
        silent.await.expect("join").response_code(),
        ResponseCode::ServFail
    );
    let m = ask(filter.address, STAFF, "www.example.test.", RecordType::A).await;
    assert_eq!(addresses(&m), vec![ip("192.0.2.10")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_on_one_tcp_connection_are_answered_as_each_is_ready() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let upstream = Upstream::start().await;
    let filter = Filter::start(settings(&upstream)).await;
    // Three queries in one write: a name whose upstream takes 150 ms, then
    // one the upstream answers at once, then a blocked one.
    let asked = [
        query("slow.example.test.", RecordType::A, None),
        query("www.example.test.", RecordType::A, None),
        query("www.bet365.com.", RecordType::A, None),
    ];
    let mut framed = Vec::new();
    for packet in &asked {
        framed.extend_from_slice(&(packet.len() as u16).to_be_bytes());
        framed.extend_from_slice(packet);
    }
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind((STAFF, 0).into()).expect("bind");
    let mut stream = socket.connect(filter.address).await.expect("connect");
    stream.write_all(&framed).await.expect("write");
    let mut answered = Vec::new();
    for _ in 0..asked.len() {
        let mut len = [0u8; 2];
        tokio::time::timeout(Duration::from_secs(3), stream.read_exact(&mut len))
            .await
            .expect("an answer in time")
            .expect("read length");
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).await.expect("read");
        let m = Message::from_vec(&buf).expect("decodes");
        let which = asked
            .iter()
            .position(|p| u16::from_be_bytes([p[0], p[1]]) == m.id())
            .expect("an answer to one of the queries");
        answered.push((which, m));
    }
    let order: Vec<usize> = answered.iter().map(|(which, _)| *which).collect();
    assert_eq!(
        *order.last().expect("three"),
        0,
        "the slow name is answered last: {order:?}"
    );
    let by_query = |i: usize| &answered.iter().find(|(w, _)| *w == i).expect("answered").1;
    assert_eq!(addresses(by_query(0)), vec![ip("192.0.2.30")]);
    assert_eq!(addresses(by_query(1)), vec![ip("192.0.2.10")]);
    assert_eq!(by_query(2).response_code(), ResponseCode::NXDomain);
    // The connection carries on.
    let again = query("www.example.test.", RecordType::AAAA, None);
    let mut framed = (again.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&again);
    stream.write_all(&framed).await.expect("write");
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.expect("read length");
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await.expect("read");
    let m = Message::from_vec(&buf).expect("decodes");
    assert_eq!(m.id(), u16::from_be_bytes([again[0], again[1]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connections_that_idle_or_trickle_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let upstream = Upstream::start().await;
    let filter = Filter::start(Settings {
        tcp_idle_timeout_ms: 300,
        ..settings(&upstream)
    })
    .await;
    let closed_within = |mut stream: tokio::net::TcpStream, trickle: bool| async move {
        let started = Instant::now();
        let mut buf = [0u8; 64];
        loop {
            if trickle && stream.write_all(b"x").await.is_err() {
                return started.elapsed();
            }
            match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => return started.elapsed(),
                Ok(Ok(_)) => panic!("nothing was asked, so nothing should be answered"),
                Err(_) if started.elapsed() > Duration::from_secs(5) => {
                    panic!("the connection was kept open")
                }
                Err(_) => {}
            }
        }
    };
    let idle = tokio::net::TcpStream::connect(filter.address)
        .await
        .expect("connect");
    assert!(closed_within(idle, false).await < Duration::from_secs(2));
    // A message of 200 bytes sent a byte every 100 ms never completes.
    let mut slow = tokio::net::TcpStream::connect(filter.address)
        .await
        .expect("connect");
    slow.write_all(&[0, 200]).await.expect("write");
    assert!(closed_within(slow, true).await < Duration::from_secs(2));
}
