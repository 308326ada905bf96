//! CONNECT tunnels with curl and a raw TLS client: the host and the TLS
//! server name decided, the stricter winning; bare IP addresses; ports;
//! safe search sent to local stand-ins for the engines' enforcing hosts.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_tunnel_carries_tls_with_a_matching_server_name() {
    let web = origin("wiki").https().start().await;
    let mut p = proxy().profile("ks2").start().await;
    let url = https_url("www.wikipedia.org", &web, "/wiki/Otter");
    let got = curl(&p, &url, &[]).await;
    assert_eq!((got.connect_status, got.status), (200, 200), "{got:?}");
    assert_eq!(got.body, "wiki GET /wiki/Otter");
    assert_eq!(web.seen()[0].sni.as_deref(), Some("www.wikipedia.org"));
    let events = p.events().await;
    let e = event(&events, &format!("www.wikipedia.org:{}", web.port()));
    assert_eq!(e.method, "CONNECT");
    assert_eq!(e.host, "www.wikipedia.org");
    assert_eq!((e.verdict.as_str(), e.rule.as_str()), ("allow", "default"));
    assert_eq!(e.status, Some(200));
    assert!(e.bytes > 1000, "both directions counted: {}", e.bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_connect_gets_403_with_the_reason() {
    let web = origin("casino").https().start().await;
    let mut p = proxy().profile("ks2").start().await;
    let url = https_url("www.bet365.com", &web, "/");
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.connect_status, 403, "{got:?}");
    assert_ne!(got.exit, 0);
    assert_eq!(
        got.header("x-schoolgate-reason").as_deref(),
        Some("category:gambling")
    );
    let reference = got.header("x-schoolgate-reference").expect("reference");
    assert!(proxy::reference::is_reference(&reference), "{reference}");
    assert!(web.seen().is_empty());

    // What tools that show the body see.
    let target = format!("www.bet365.com:{}", web.port());
    let answer = raw(
        &p,
        format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes(),
        Duration::from_millis(500),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden"), "{answer}");
    assert!(
        answer.contains(&format!("Blocked by {SCHOOL}'s web filter: {target}")),
        "{answer}"
    );
    assert!(
        answer.contains("It is in the Gambling group of websites"),
        "{answer}"
    );
    assert!(answer.contains("/review?ref=SG-"), "{answer}");

    let events = p.events().await;
    let blocked: Vec<_> = events.iter().filter(|e| e.url == target).collect();
    assert_eq!(blocked.len(), 2);
    assert_eq!(blocked[0].rule, "category:gambling");
    assert_eq!(blocked[0].status, Some(403));
    assert_eq!(blocked[0].reference.as_deref(), Some(reference.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statutory_connect_says_the_standard_text_alone() {
    let web = origin("never").https().start().await;
    let mut p = proxy().profile("staff").start().await;
    let target = format!("{CTIRU_HOST}:{}", web.port());
    let answer = raw(
        &p,
        format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes(),
        Duration::from_millis(500),
    )
    .await;
    let text = classify::statutory::block_text(classify::statutory::StatutoryKind::Ctiru);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.ends_with(&format!("\r\n\r\n{text}\n")), "{answer}");
    assert!(
        !answer
            .to_ascii_lowercase()
            .contains("x-schoolgate-reference")
    );
    let events = p.events().await;
    let e = event(&events, &target);
    assert_eq!(e.rule, "statutory:ctiru");
    assert_eq!(e.reference, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_name_that_is_blocked_closes_an_allowed_tunnel() {
    let web = origin("web").https().start().await;
    let mut p = proxy().profile("ks2").start().await;
    let target = format!("learning.example.org:{}", web.port());
    let (status, result) = tls_through(&p, &target, "www.bet365.com").await;
    assert!(status.contains(" 200 "), "{status}");
    let error = result.expect_err("the tunnel must not carry TLS for the blocked name");
    assert!(
        error.to_lowercase().contains("access"),
        "a TLS alert: {error}"
    );
    assert!(web.seen().is_empty(), "nothing reached the web server");
    let events = p.events().await;
    let e = event(&events, &target);
    assert_eq!(e.verdict, "block");
    assert_eq!(e.rule, "category:gambling; sni-mismatch:www.bet365.com");
    assert_eq!(e.categories, "gambling");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mismatched_server_name_that_is_allowed_is_logged_and_carried() {
    let web = origin("wiki").https().start().await;
    let mut p = proxy().profile("ks2").start().await;
    let target = format!("learning.example.org:{}", web.port());
    let (status, result) = tls_through(&p, &target, "www.wikipedia.org").await;
    assert!(status.contains(" 200 "), "{status}");
    let body = result.expect("tunnel works");
    assert!(body.ends_with("wiki GET /"), "{body}");
    let events = p.events().await;
    let e = event(&events, &target);
    assert_eq!(e.verdict, "allow");
    assert_eq!(e.rule, "default; sni-mismatch:www.wikipedia.org");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_ip_tunnels_follow_the_profile() {
    let web = origin("ip").https().start().await;
    let url = format!("https://127.0.0.1:{}/", web.port());
    let mut pupils = proxy().profile("ks2").start().await;
    let got = curl(&pupils, &url, &[]).await;
    assert_eq!(got.connect_status, 403, "{got:?}");
    assert_eq!(
        got.header("x-schoolgate-reason").as_deref(),
        Some("ip-address")
    );
    let mut staff = proxy().profile("staff").start().await;
    let got = curl(&staff, &url, &[]).await;
    assert_eq!((got.connect_status, got.status), (200, 200), "{got:?}");
    let target = format!("127.0.0.1:{}", web.port());
    assert_eq!(event(&pupils.events().await, &target).rule, "ip-address");
    assert_eq!(event(&staff.events().await, &target).verdict, "allow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circumvention_hosts_are_blocked_for_pupils() {
    let web = origin("vpn").https().start().await;
    let mut p = proxy().profile("ks2").start().await;
    let got = curl(&p, &https_url("www.nordvpn.com", &web, "/"), &[]).await;
    assert_eq!(got.connect_status, 403);
    assert_eq!(
        got.header("x-schoolgate-reason").as_deref(),
        Some("category:vpn")
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnels_only_reach_the_allowed_ports() {
    let web = origin("wiki").https().start().await;
    let mut p = proxy()
        .profile("staff")
        .settings(|s| s.connect_ports = vec![443])
        .start()
        .await;
    let got = curl(&p, &https_url("www.wikipedia.org", &web, "/"), &[]).await;
    assert_eq!(got.connect_status, 403);
    let rule = format!("connect-port:{}", web.port());
    assert_eq!(got.header("x-schoolgate-reason"), Some(rule.clone()));
    let events = p.events().await;
    assert_eq!(events[0].rule, rule);
    assert_eq!(events[0].verdict, "block");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_search_goes_to_the_enforcing_host() {
    let (google, safe) = engine_and_stand_in("127.0.0.2", "forcesafesearch", true).await;
    let mut p = proxy()
        .profile("ks2")
        .resolve("forcesafesearch.google.com", "127.0.0.2")
        .start()
        .await;
    let got = curl(
        &p,
        &https_url("www.google.com", &google, "/search?q=otters"),
        &[],
    )
    .await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body, "forcesafesearch GET /search?q=otters");
    assert!(google.seen().is_empty());
    // The browser still talks to www.google.com as far as TLS goes.
    assert_eq!(safe.seen()[0].sni.as_deref(), Some("www.google.com"));
    let events = p.events().await;
    let e = event(&events, &format!("www.google.com:{}", google.port()));
    assert_eq!(e.verdict, "safe-search");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn youtube_is_strict_for_pupils_and_moderate_for_staff() {
    let (youtube, strict) = engine_and_stand_in("127.0.0.3", "strict", true).await;
    let moderate = origin("moderate")
        .ip("127.0.0.4")
        .port(youtube.port())
        .https()
        .start()
        .await;
    let url = https_url(
        "www.youtube.com",
        &youtube,
        "/results?search_query=volcanoes",
    );
    for (profile, expected) in [("ks2", "strict"), ("staff", "moderate")] {
        let mut p = proxy()
            .profile(profile)
            .resolve("restrict.youtube.com", "127.0.0.3")
            .resolve("restrictmoderate.youtube.com", "127.0.0.4")
            .at(LESSON)
            .start()
            .await;
        let got = curl(&p, &url, &[]).await;
        assert_eq!(got.status, 200, "{profile}: {got:?}");
        assert!(got.body.starts_with(expected), "{profile}: {}", got.body);
        p.stop().await;
    }
    assert!(youtube.seen().is_empty());
    assert_eq!(strict.seen().len(), 1);
    assert_eq!(moderate.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_to_a_closed_port_gets_502() {
    let (_held, closed) = closed_port();
    let mut p = proxy().profile("staff").start().await;
    let got = curl(&p, &format!("https://www.wikipedia.org:{closed}/"), &[]).await;
    assert_eq!(got.connect_status, 502, "{got:?}");
    let events = p.events().await;
    assert_eq!(events[0].status, Some(502));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_transfers_through_a_tunnel_arrive_whole_both_ways() {
    // Large enough that each direction is handed on to threads of its own.
    let web = origin("big").https().start().await;
    let mut p = proxy()
        .profile("staff")
        .settings(|s| s.connect_ports = Vec::new())
        .start()
        .await;
    let download = https_url("learning.example.org", &web, "/bytes/12000000");
    let got = curl(&p, &download, &[]).await;
    assert_eq!(got.status, 200, "{:?}", got.headers);
    assert_eq!(got.body.len(), 12_000_000);
    assert!(
        got.body == pattern(12_000_000),
        "every byte as sent, in order"
    );
    let posted = https_url("learning.example.org", &web, "/upload");
    let got = upload(&p, &posted, 7_000_000).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body, "big received 7000000");
    let events = p.events().await;
    let tunnels: Vec<_> = events.iter().filter(|e| e.method == "CONNECT").collect();
    assert_eq!(tunnels.len(), 2, "{events:?}");
    assert!(tunnels[0].bytes > 12_000_000, "{:?}", tunnels[0]);
    assert!(tunnels[1].bytes > 7_000_000, "{:?}", tunnels[1]);
}

/// Sends `size` bytes down a tunnel to the echo server and reads them
/// back.
async fn echo_through(tunnel: tokio::net::TcpStream, size: usize) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sent: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let (mut from, mut to) = tunnel.into_split();
    let sending = sent.clone();
    let writer = tokio::spawn(async move {
        for chunk in sending.chunks(64 * 1024) {
            to.write_all(chunk).await.expect("send");
        }
        to.shutdown().await.expect("end");
    });
    let mut got = Vec::with_capacity(size);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buffer).await.expect("receive");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buffer[..n]);
    }
    writer.await.expect("writer");
    assert!(
        got == sent,
        "{} bytes came back of {size}, or not as sent",
        got.len()
    );
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_tunnel_goes_on_with_threads_of_its_own_and_loses_nothing() {
    let echo = echo_server().await;
    for places in [64, 0] {
        let mut p = proxy()
            .profile("staff")
            .settings(|s| s.tunnel_threads = places)
            .start()
            .await;
        let target = format!("learning.example.org:{echo}");
        let mut tunnel = open_tunnel(&p, &target).await;
        // Past the mebibyte that makes a tunnel busy, and still open. (Checked
        // here, not part-way through the bulk transfer below: the kernel's
        // socket buffers can hold the rest of that, so the threads may have
        // finished by the time the client has read half.)
        busy(&mut tunnel).await;
        let expected = if places > 0 { (1, 1) } else { (0, 0) };
        assert_eq!(
            p.gate.metrics.threaded_tunnels(),
            expected,
            "with {places} places"
        );
        // Then both ways at once, whatever point the hand-over had reached.
        echo_through(tunnel, 6 << 20).await;
        let events = p.events().await;
        assert_eq!(
            p.gate.metrics.threaded_tunnels().1,
            0,
            "the threads have ended"
        );
        let tunnel = event(&events, &target);
        assert_eq!(tunnel.bytes, 2 * ((2 << 20) + (6 << 20)), "{tunnel:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_tunnel_threads_busy_tunnels_get_threads() {
    let echo = echo_server().await;
    let mut p = proxy()
        .profile("staff")
        .settings(|s| s.tunnel_threads = 1)
        .start()
        .await;
    let target = format!("learning.example.org:{echo}");
    let mut first = open_tunnel(&p, &target).await;
    busy(&mut first).await;
    let metrics = p.gate.metrics.clone();
    assert_eq!(metrics.threaded_tunnels(), (1, 1));
    // The second tunnel gets busy while the first holds the one place, and
    // is carried whole by its serving thread.
    let second = open_tunnel(&p, &target).await;
    echo_through(second, 4 << 20).await;
    assert_eq!(metrics.threaded_tunnels(), (1, 1));
    drop(first);
    let events = p.events().await;
    assert_eq!(metrics.threaded_tunnels(), (1, 0));
    let tunnels: Vec<_> = events.iter().filter(|e| e.method == "CONNECT").collect();
    assert_eq!(tunnels.len(), 2);
    assert_eq!(tunnels[1].bytes, 2 * (4 << 20), "{tunnels:?}");
}

/// Sends two mebibytes down a tunnel to the echo server and reads them
/// back, which makes it busy; the tunnel stays open.
async fn busy(tunnel: &mut tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let block = vec![7u8; 2 << 20];
    let mut back = vec![0u8; block.len()];
    let (mut from, mut to) = tunnel.split();
    tokio::try_join!(to.write_all(&block), from.read_exact(&mut back)).expect("echoed");
    assert_eq!(back, block);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_tunnel_on_threads_is_still_closed_when_idle_and_on_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let echo = echo_server().await;
    let mut p = proxy()
        .profile("staff")
        .settings(|s| {
            s.idle_timeout_seconds = 1;
            s.shutdown_grace_seconds = 1;
        })
        .start()
        .await;
    let target = format!("learning.example.org:{echo}");
    for ending in ["idle", "shutdown"] {
        let mut tunnel = open_tunnel(&p, &target).await;
        busy(&mut tunnel).await;
        assert_eq!(p.gate.metrics.threaded_tunnels().1, 1, "{ending}");
        let started = std::time::Instant::now();
        if ending == "idle" {
            // Nothing more is sent: the idle limit closes it.
            let mut rest = Vec::new();
            let _ = tunnel.read_to_end(&mut rest).await;
            let waited = started.elapsed();
            assert!(
                waited >= Duration::from_millis(900),
                "closed after {waited:?}"
            );
            assert!(waited < Duration::from_secs(4), "closed after {waited:?}");
        } else {
            // Busy to the end: shutdown cuts it after the grace period.
            let sending = tokio::spawn(async move {
                let block = vec![7u8; 64 * 1024];
                let mut sink = vec![0u8; 64 * 1024];
                loop {
                    if tunnel.write_all(&block).await.is_err() {
                        break;
                    }
                    match tunnel.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            });
            p.events().await;
            let waited = started.elapsed();
            assert!(
                waited >= Duration::from_millis(900),
                "stopped after {waited:?}"
            );
            assert!(waited < Duration::from_secs(5), "stopped after {waited:?}");
            tokio::time::timeout(Duration::from_secs(5), sending)
                .await
                .expect("the tunnel was cut")
                .expect("sender");
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while p.gate.metrics.threaded_tunnels().1 != 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{ending}: the threads did not end"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
