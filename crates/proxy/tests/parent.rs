//! A school's schoolgate behind a parent proxy (a trust's or a regional
//! network's), played here by a second schoolgate: allowed traffic goes on
//! through the parent, over plain HTTP and CONNECT; what the school blocks
//! never reaches it; safe search stays enforced through it; the school's
//! own addresses go direct; and a parent that is down, refuses or asks for
//! a sign-in gives a page that says so.

mod common;

use common::*;

/// The school's proxy, sending on through `parent`.
fn school(parent: &str) -> ProxyBuilder {
    let parent = parent.to_owned();
    proxy()
        .profile("ks2")
        .settings(move |s| s.parent = Some(parent))
}

fn has_event(events: &[store::ActivityEvent], host: &str) -> bool {
    events.iter().any(|e| e.host == host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_goes_on_through_the_parent_and_both_log_it() {
    let web = origin("wiki").start().await;
    let mut parent = proxy().profile("ks2").start().await;
    let mut child = school(&parent.addr.to_string()).start().await;
    let url = http_url("www.wikipedia.org", &web, "/wiki/Otter");
    for _ in 0..2 {
        let got = curl(&child, &url, &[]).await;
        assert_eq!(got.status, 200, "{got:?}");
        assert_eq!(got.body, "wiki GET /wiki/Otter");
    }
    let seen = web.seen();
    // The parent turned the absolute form back into origin form.
    assert_eq!(seen[0].uri, "/wiki/Otter");
    let via: Vec<String> = seen[0]
        .headers
        .get_all("via")
        .iter()
        .map(|v| v.to_str().expect("via").to_owned())
        .collect();
    let via = via.join(", ");
    assert_eq!(via.matches("schoolgate-").count(), 2, "both proxies: {via}");
    assert!(seen[0].headers.get("proxy-authorization").is_none());

    for events in [parent.events().await, child.events().await] {
        let ours: Vec<_> = events.iter().filter(|e| e.url == url).collect();
        assert_eq!(ours.len(), 2, "{events:?}");
        assert!(
            ours.iter()
                .all(|e| e.verdict == "allow" && e.status == Some(200))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_school_blocks_never_reaches_the_parent() {
    let web = origin("casino").https().start().await;
    let mut parent = proxy().profile("staff").start().await;
    let mut child = school(&parent.addr.to_string()).start().await;
    let got = curl(&child, &http_url("www.bet365.com", &web, "/"), &[]).await;
    assert_eq!(got.status, 403, "{got:?}");
    assert!(got.body.contains(SCHOOL), "the school's block page");
    let got = curl(&child, &https_url("www.bet365.com", &web, "/"), &[]).await;
    assert_eq!(got.connect_status, 403, "{got:?}");
    assert!(web.seen().is_empty());
    assert!(!has_event(&parent.events().await, "www.bet365.com"));
    let events = child.events().await;
    assert!(events.iter().all(|e| e.verdict == "block"), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnels_go_through_the_parent() {
    let web = origin("wiki").https().start().await;
    let mut parent = proxy().profile("ks2").start().await;
    let mut child = school(&parent.addr.to_string()).start().await;
    let url = https_url("www.wikipedia.org", &web, "/wiki/Badger");
    let got = curl(&child, &url, &[]).await;
    assert_eq!((got.connect_status, got.status), (200, 200), "{got:?}");
    assert_eq!(got.body, "wiki GET /wiki/Badger");
    assert_eq!(web.seen()[0].sni.as_deref(), Some("www.wikipedia.org"));
    // A long download: the tunnel is handed to threads of its own in both
    // proxies, and every byte arrives in order.
    let got = curl(
        &child,
        &https_url("www.wikipedia.org", &web, "/bytes/3000000"),
        &[],
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, pattern(3_000_000));

    let target = format!("www.wikipedia.org:{}", web.port());
    for events in [parent.events().await, child.events().await] {
        let ours: Vec<_> = events.iter().filter(|e| e.url == target).collect();
        assert_eq!(ours.len(), 2, "{events:?}");
        assert!(
            ours.iter()
                .all(|e| e.method == "CONNECT" && e.verdict == "allow")
        );
        assert!(ours.iter().any(|e| e.bytes > 3_000_000), "{ours:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parent_s_own_blocks_are_passed_on() {
    let web = origin("wiki").https().start().await;
    let parent = proxy()
        .profile("ks2")
        .policy(|p| {
            for profile in &mut p.profiles {
                profile.deny.push("www.wikipedia.org".to_owned());
            }
        })
        .start()
        .await;
    let child = school(&parent.addr.to_string()).start().await;
    let got = curl(&child, &http_url("www.wikipedia.org", &web, "/"), &[]).await;
    assert_eq!(got.status, 403, "{got:?}");
    assert_eq!(
        got.header("x-schoolgate-reason").as_deref(),
        Some("deny:www.wikipedia.org"),
        "the parent's block page came through: {got:?}"
    );
    let got = curl(&child, &https_url("www.wikipedia.org", &web, "/"), &[]).await;
    assert_eq!(got.connect_status, 403, "{got:?}");
    assert!(
        got.body.is_empty() || got.body.contains("answered 403"),
        "{got:?}"
    );
    let target = format!("www.wikipedia.org:{}", web.port());
    let answer = raw(
        &child,
        format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes(),
        std::time::Duration::from_millis(500),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(
        answer.contains("would not connect to it (it answered 403)"),
        "{answer}"
    );
    assert!(web.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safe_search_stays_enforced_through_the_parent() {
    // The parent does not enforce safe search itself (staff at lunch would
    // get the ordinary engine from it): the school's proxy must.
    let parent = proxy()
        .profile("staff")
        .resolve("forcesafesearch.google.com", "127.0.0.2")
        .start()
        .await;
    let child = school(&parent.addr.to_string()).start().await;

    let (google, safe) = engine_and_stand_in("127.0.0.2", "forcesafesearch", true).await;
    let got = curl(
        &child,
        &https_url("www.google.com", &google, "/search?q=otters"),
        &[],
    )
    .await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body, "forcesafesearch GET /search?q=otters");
    assert_eq!(safe.seen()[0].sni.as_deref(), Some("www.google.com"));
    assert!(google.seen().is_empty());

    // Plain HTTP: through a tunnel to the enforcing host, so that the Host
    // header is still the one the browser sent.
    let (google, safe) = engine_and_stand_in("127.0.0.2", "forcesafesearch", false).await;
    let url = http_url("www.google.co.uk", &google, "/search?q=volcano+facts");
    let got = curl(&child, &url, &[]).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body, "forcesafesearch GET /search?q=volcano+facts");
    assert_eq!(
        safe.seen()[0]
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok()),
        Some(format!("www.google.co.uk:{}", google.port()).as_str())
    );
    assert!(google.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_that_refuses_the_safe_search_tunnel_fails_closed() {
    // A parent that only opens tunnels to port 443 cannot carry plain HTTP
    // to the enforcing host; the search must not go to the ordinary one.
    let parent = proxy()
        .profile("staff")
        .resolve("forcesafesearch.google.com", "127.0.0.2")
        .settings(|s| s.connect_ports = vec![443])
        .start()
        .await;
    let child = school(&parent.addr.to_string()).start().await;
    let (google, safe) = engine_and_stand_in("127.0.0.2", "forcesafesearch", false).await;
    let got = curl(
        &child,
        &http_url("www.google.com", &google, "/search?q=x"),
        &[],
    )
    .await;
    assert_eq!(got.status, 403, "{got:?}");
    assert!(got.body.contains("it answered 403"), "{}", got.body);
    assert!(google.seen().is_empty() && safe.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_school_s_own_addresses_go_direct_and_a_dead_parent_is_named() {
    let web = origin("intranet").start().await;
    let tls = origin("intranet").https().start().await;
    // Nothing listens there: the parent is down.
    let (_held, down) = closed_port();
    let down = format!("127.0.0.1:{down}");
    let mut child = school(&down)
        .settings(|s| s.school_addresses = vec!["learning.example.org".to_owned()])
        .start()
        .await;
    let got = curl(
        &child,
        &http_url("learning.example.org", &web, "/timetable"),
        &[],
    )
    .await;
    assert_eq!(
        (got.status, got.body.as_str()),
        (200, "intranet GET /timetable")
    );
    let got = curl(&child, &https_url("learning.example.org", &tls, "/"), &[]).await;
    assert_eq!(got.status, 200, "{got:?}");

    let got = curl(&child, &http_url("www.wikipedia.org", &web, "/"), &[]).await;
    assert_eq!(got.status, 502, "{got:?}");
    assert!(
        got.body
            .contains("The school&#39;s internet connection is not working")
            || got
                .body
                .contains("The school's internet connection is not working"),
        "{}",
        got.body
    );
    assert!(
        got.body.contains(&down) && got.body.contains("proxy.parent"),
        "{}",
        got.body
    );
    let got = curl(&child, &https_url("www.wikipedia.org", &tls, "/"), &[]).await;
    assert_eq!(got.connect_status, 502, "{got:?}");
    assert_eq!(web.seen().len(), 1, "only the school's own was fetched");
    // A technician watching the metrics sees whose fault it was.
    let metrics = &child.gate.metrics;
    assert_eq!(metrics.unreachable_count(gate::Unreachable::Parent), 2);
    assert_eq!(metrics.unreachable_count(gate::Unreachable::Website), 0);
    let events = child.events().await;
    let e = event(&events, &http_url("www.wikipedia.org", &web, "/"));
    assert_eq!((e.verdict.as_str(), e.status), ("allow", Some(502)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_that_asks_for_a_sign_in_gets_the_configured_one() {
    let web = origin("wiki").start().await;
    let tls = origin("wiki").https().start().await;
    let mut parent = proxy()
        .person("hillside-gw", "staff", Some("trust-pa55word"))
        .settings(|s| s.authentication = proxy::Authentication::Required)
        .start()
        .await;
    let parent_addr = parent.addr.to_string();

    // Without credentials: the browser is not asked for the parent's.
    let child = school(&parent_addr).start().await;
    let got = curl(&child, &http_url("www.wikipedia.org", &web, "/"), &[]).await;
    assert_eq!(got.status, 502, "{got:?}");
    assert!(got.body.contains("parent_credentials"), "{}", got.body);
    assert!(got.header("proxy-authenticate").is_none(), "{got:?}");
    let got = curl(&child, &https_url("www.wikipedia.org", &tls, "/"), &[]).await;
    assert_eq!(got.connect_status, 502, "{got:?}");

    // With them: both kinds go through, signed in as the school.
    let child = school(&parent_addr)
        .settings(|s| s.parent_credentials = Some("hillside-gw:trust-pa55word".to_owned()))
        .start()
        .await;
    let got = curl(&child, &http_url("www.wikipedia.org", &web, "/page"), &[]).await;
    assert_eq!((got.status, got.body.as_str()), (200, "wiki GET /page"));
    assert!(web.seen()[0].headers.get("proxy-authorization").is_none());
    let got = curl(&child, &https_url("www.wikipedia.org", &tls, "/tls"), &[]).await;
    assert_eq!((got.status, got.body.as_str()), (200, "wiki GET /tls"));
    let events = parent.events().await;
    let signed_in: Vec<_> = events.iter().filter(|e| e.status == Some(200)).collect();
    assert_eq!(signed_in.len(), 2, "{events:?}");
    assert!(
        signed_in
            .iter()
            .all(|e| e.username.as_deref() == Some("hillside-gw"))
    );
}
