//! Running it: malformed requests, limits, timeouts, unreachable web
//! servers, keep-alive, large bodies, the PAC file, loops and shutdown.

mod common;

use std::time::{Duration, Instant};

use common::*;
use store::Source;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const QUIET: Duration = Duration::from_millis(700);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_400_and_are_counted() {
    let mut p = proxy().profile("staff").start().await;
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"GET ftp://files.example.org/ HTTP/1.1\r\nHost: files.example.org\r\n\r\n",
        b"CONNECT www.wikipedia.org HTTP/1.1\r\nHost: www.wikipedia.org\r\n\r\n",
    ] {
        let answer = raw(&p, garbage, QUIET).await;
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "{:?}: {answer}",
            String::from_utf8_lossy(garbage)
        );
    }
    assert!(p.gate.metrics.malformed_count(Source::Proxy) >= 6);
    // Still serving after all that.
    let web = origin("web").start().await;
    assert_eq!(
        curl(&p, &http_url("learning.example.org", &web, "/"), &[])
            .await
            .status,
        200
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_heads_get_431() {
    let web = origin("web").start().await;
    let mut p = proxy()
        .profile("staff")
        .settings(|s| s.max_header_bytes = 8 * 1024)
        .start()
        .await;
    let big = "a".repeat(10 * 1024);
    let got = curl(
        &p,
        &http_url("learning.example.org", &web, "/"),
        &["-H", &format!("X-Big: {big}")],
    )
    .await;
    assert_eq!(got.status, 431, "{got:?}");
    assert!(web.seen().is_empty());
    assert_eq!(p.gate.metrics.malformed_count(Source::Proxy), 1);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_gets_a_502_page() {
    let (_held, closed) = closed_port();
    let mut p = proxy().profile("staff").start().await;
    let url = format!("http://www.wikipedia.org:{closed}/");
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 502);
    assert!(got.body.contains("refused the connection"), "{}", got.body);
    assert_eq!(
        p.gate.metrics.unreachable_count(gate::Unreachable::Website),
        1
    );
    let events = p.events().await;
    let e = event(&events, &url);
    assert_eq!((e.verdict.as_str(), e.status), ("allow", Some(502)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_resolve_gets_a_502_page() {
    let mut p = proxy().profile("staff").start().await;
    let got = curl(&p, "http://no-such-site.invalid/", &[]).await;
    assert_eq!(got.status, 502);
    assert!(got.body.contains("could not be found"), "{}", got.body);
    p.stop().await;
}

/// A listener whose accept queue is full: the kernel drops new SYNs, so a
/// connection attempt hangs until its timeout, as with a dead server.
async fn black_hole() -> (tokio::net::TcpListener, Vec<std::net::TcpStream>, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let mut held = Vec::new();
    for _ in 0..8 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => held.push(s),
            Err(_) => return (listener, held, addr.port()),
        }
    }
    panic!("the accept queue never filled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_gets_a_504_page() {
    let (_listener, _held, port) = black_hole().await;
    let mut p = proxy()
        .profile("staff")
        .settings(|s| s.connect_timeout_seconds = 1)
        .start()
        .await;
    let url = format!("http://www.wikipedia.org:{port}/");
    let started = Instant::now();
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 504, "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        got.body.contains("it did not answer within 1 second."),
        "{}",
        got.body
    );
    assert!(
        got.body.contains("Try again in a few minutes"),
        "{}",
        got.body
    );
    // CONNECT says the same in words.
    let tunnel = curl(&p, &format!("https://www.wikipedia.org:{port}/"), &[]).await;
    assert_eq!(tunnel.connect_status, 504, "{tunnel:?}");
    let events = p.events().await;
    assert_eq!(event(&events, &url).status, Some(504));
}

/// A raw web server on loopback: each connection it accepts is handed to
/// `serve` on a task of its own. Returns its port.
async fn raw_server<F, Fut>(serve: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket));
        }
    });
    port
}

/// A web server that takes each request and never answers it.
async fn silent_server() -> u16 {
    raw_server(|mut socket| async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = socket.read(&mut buf).await {
            if n == 0 {
                return;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_takes_the_request_but_never_answers_gets_a_504_page() {
    let port = silent_server().await;
    // The client connection is quiet for longer than the idle timeout while
    // it waits: the wait for the answer is what ends it, with a page.
    let mut p = proxy()
        .profile("staff")
        .settings(|s| {
            s.idle_timeout_seconds = 1;
            s.answer_timeout_seconds = 3;
        })
        .start()
        .await;
    let url = format!("http://www.wikipedia.org:{port}/report");
    let started = Instant::now();
    let got = curl(&p, &url, &[]).await;
    let waited = started.elapsed();
    assert_eq!(got.status, 504, "{got:?}");
    assert!(
        (Duration::from_secs(3)..Duration::from_secs(8)).contains(&waited),
        "{waited:?}"
    );
    assert!(
        got.body.contains("The website did not answer in time"),
        "{}",
        got.body
    );
    assert!(
        got.body
            .contains("did not begin its answer within 3 seconds."),
        "{}",
        got.body
    );
    // One curl, `again` and then `after` on one client connection: the
    // connection carries on after the page.
    let web = origin("web").start().await;
    let after = http_url("learning.example.org", &web, "/after");
    let again = format!("{url}?again");
    let got = curl(&p, &after, &[&again]).await;
    assert_eq!(got.status, 504, "{got:?}");
    let paths: Vec<String> = web.seen().into_iter().map(|s| s.uri).collect();
    assert_eq!(paths, ["/after"]);
    let events = p.events().await;
    assert_eq!(event(&events, &url).status, Some(504));
    assert_eq!(event(&events, &again).status, Some(504));
    assert_eq!(event(&events, &after).status, Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let p = proxy()
        .profile("staff")
        .settings(|s| s.idle_timeout_seconds = 1)
        .start()
        .await;
    // A request head sent a byte at a time, never finished.
    let mut stream = TcpStream::connect(p.addr).await.expect("connect");
    let started = Instant::now();
    let mut closed = false;
    for byte in b"GET http://learning.example.org/ HTTP/1.1\r\nX-Slow: "
        .iter()
        .cycle()
    {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await
        {
            closed = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(6) {
            break;
        }
    }
    assert!(closed, "a slow client held its connection");
    assert!(started.elapsed() < Duration::from_secs(4));
    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(p.addr).await.expect("connect");
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(4), idle.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_wait_then_get_503() {
    let web = origin("web").start().await;
    let p = proxy()
        .profile("staff")
        .settings(|s| s.max_connections = 1)
        .start()
        .await;
    let hog = TcpStream::connect(p.addr).await.expect("connect");
    let url = http_url("learning.example.org", &web, "/");
    let started = Instant::now();
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 503, "{got:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited first"
    );
    assert!(got.header("retry-after").is_some());
    // A place that frees up within the wait is taken.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(hog);
    });
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 200, "{got:?}");
    release.await.expect("release");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_reuses_the_upstream_connection() {
    let web = origin("web").start().await;
    let mut p = proxy().profile("staff").start().await;
    let a = http_url("learning.example.org", &web, "/a");
    let b = http_url("learning.example.org", &web, "/b");
    let c = http_url("learning.example.org", &web, "/c");
    // One curl, three requests on one client connection.
    let got = curl(&p, &a, &[&b, &c]).await;
    assert_eq!(got.status, 200);
    let mut paths: Vec<String> = web.seen().into_iter().map(|s| s.uri).collect();
    paths.sort();
    assert_eq!(paths, ["/a", "/b", "/c"]);
    assert_eq!(
        web.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one upstream connection for all three"
    );
    assert_eq!(p.events().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_stream_both_ways() {
    let web = origin("big").start().await;
    let mut p = proxy().profile("staff").start().await;
    let download = http_url("learning.example.org", &web, "/bytes/5000000");
    let got = curl(&p, &download, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body.len(), 5_000_000);
    assert!(
        got.body == pattern(5_000_000),
        "every byte as sent, in order"
    );
    // After a long body the connection to the web server is kept, and the
    // next request on it is answered whole.
    let again = origin("again").start().await;
    let long = http_url("learning.example.org", &again, "/bytes/5000000");
    let short = http_url("learning.example.org", &again, "/bytes/300000");
    let got = curl(&p, &long, &[&short]).await;
    assert_eq!(got.status, 200);
    assert!(got.body == pattern(300_000), "every byte as sent, in order");
    assert_eq!(
        again.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one connection to the web server for both"
    );
    // An upload large enough that curl asks for 100 Continue first.
    let posted = http_url("learning.example.org", &web, "/upload");
    let got = upload(&p, &posted, 3_000_000).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body, "big received 3000000");
    let events = p.events().await;
    assert_eq!(event(&events, &download).bytes, 5_000_000);
    assert_eq!(event(&events, &posted).method, "POST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pac_file_sends_the_school_direct_and_the_rest_through_the_proxy() {
    let mut p = proxy()
        .settings(|s| {
            s.school_addresses = vec!["intranet.hillside.example".into(), "192.0.2.0/24".into()]
        })
        .start()
        .await;
    // Fetched straight from the proxy, as browsers do.
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "--noproxy", "*", "-D", "-"])
        .arg(format!("{}/proxy.pac", p.url()))
        .output()
        .await
        .expect("curl");
    let pac = String::from_utf8_lossy(&output.stdout);
    assert!(pac.contains("application/x-ns-proxy-autoconfig"), "{pac}");
    assert!(
        pac.contains(&format!("return \"PROXY {}\";", p.addr)),
        "{pac}"
    );
    assert!(
        pac.contains("dnsDomainIs(host, \".intranet.hillside.example\")"),
        "{pac}"
    );
    assert!(
        pac.contains("isInNet(host, \"192.0.2.0\", \"255.255.255.0\")"),
        "{pac}"
    );
    // wpad.dat is the same file; asked for through the proxy itself, it is
    // answered by the proxy, not sent round in a loop.
    let wpad = curl(&p, &format!("{}/wpad.dat", p.url()), &[]).await;
    assert_eq!(wpad.status, 200);
    assert!(wpad.body.contains("FindProxyForURL"), "{}", wpad.body);
    // The front page says what this is.
    let front = curl(&p, &format!("{}/", p.url()), &[]).await;
    assert!(
        front.body.contains("This is the school's web filter"),
        "{}",
        front.body
    );
    assert!(
        p.events().await.is_empty(),
        "the proxy's own pages are not decisions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_leads_back_to_the_proxy_is_refused() {
    let mut p = proxy()
        .profile("staff")
        .resolve("loop.example.org", "127.0.0.1")
        .start()
        .await;
    let got = curl(
        &p,
        &format!("http://loop.example.org:{}/", p.addr.port()),
        &[],
    )
    .await;
    assert_eq!(got.status, 508, "{got:?}");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_address_is_used_in_links() {
    let web = origin("web").start().await;
    let mut p = proxy()
        .profile("ks2")
        .settings(|s| s.public_address = Some("proxy.hillside.example:8080".into()))
        .start()
        .await;
    let got = curl(&p, &http_url("www.bet365.com", &web, "/"), &[]).await;
    assert!(
        got.body
            .contains("href=\"http://proxy.hillside.example:8080/review?ref=SG-"),
        "{}",
        got.body
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight_and_stops_listening() {
    let web = origin("slow").start().await;
    let mut p = proxy().profile("staff").start().await;
    let url = http_url("learning.example.org", &web, "/slow/800");
    let in_flight = {
        let url = url.clone();
        let proxy_url = p.url();
        tokio::spawn(async move {
            tokio::process::Command::new("curl")
                .args([
                    "-sS",
                    "--noproxy",
                    "",
                    "-x",
                    &proxy_url,
                    "-w",
                    " %{http_code}",
                ])
                .arg(url)
                .output()
                .await
                .expect("curl")
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let events = p.events().await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "did not wait"
    );
    let output = in_flight.await.expect("join");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "slow GET /slow/800 200"
    );
    assert_eq!(event(&events, &url).status, Some(200));
    assert!(
        TcpStream::connect(p.addr).await.is_err(),
        "still listening after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cuts_tunnels_after_the_grace_period() {
    let web = origin("web").https().start().await;
    let mut p = proxy()
        .profile("staff")
        .settings(|s| s.shutdown_grace_seconds = 1)
        .start()
        .await;
    let target = format!("www.wikipedia.org:{}", web.port());
    let _stream = open_tunnel(&p, &target).await;
    // The tunnel stays open and idle; shutdown waits the grace period, then
    // cuts it.
    let started = Instant::now();
    let events = p.events().await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    assert_eq!(event(&events, &target).method, "CONNECT");
}

/// Requests on kept-alive connections while the policy is swapped again and
/// again: nothing fails, and the new policy applies from the next request on
/// the same connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloading_under_load_drops_nothing() {
    use http_body_util::{BodyExt, Empty};
    let web = origin("web").start().await;
    let mut p = proxy().profile("staff").start().await;
    let port = web.port();
    let mut clients = Vec::new();
    for client in 0..4 {
        let addr = p.addr;
        clients.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let (mut sender, connection) = hyper::client::conn::http1::handshake::<
                _,
                Empty<bytes::Bytes>,
            >(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
            tokio::spawn(connection);
            let mut statuses: Vec<u16> = Vec::new();
            // Until ten requests after the deny arrived.
            for i in 0..20_000 {
                if statuses.iter().filter(|s| **s == 403).count() >= 10 {
                    break;
                }
                let request =
                    http::Request::get(format!("http://learning.example.org:{port}/{client}/{i}"))
                        .header("host", format!("learning.example.org:{port}"))
                        .body(Empty::new())
                        .expect("request");
                sender.ready().await.expect("connection kept");
                let response = sender.send_request(request).await.expect("answer");
                let status = response.status().as_u16();
                response.into_body().collect().await.expect("body");
                statuses.push(status);
            }
            statuses
        }));
    }
    // Swap the engine while they run; the last version denies the site.
    for round in 0..20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut policy = common::policy();
        if round == 19 {
            for profile in &mut policy.profiles {
                profile.deny.push("learning.example.org".into());
            }
        }
        let engine =
            policy::Engine::new(policy, std::sync::Arc::new(common::lists())).expect("engine");
        p.gate.set_engine(engine);
    }
    let mut total = 0;
    for client in clients {
        let statuses = client.await.expect("client");
        total += statuses.len();
        assert!(statuses.len() > 10, "{statuses:?}");
        assert!(statuses.ends_with(&[403; 10]), "the deny never applied");
        // Allowed until the deny arrived, blocked from then on: never a
        // failure, never back and forth.
        let first_block = statuses
            .iter()
            .position(|s| *s == 403)
            .unwrap_or(statuses.len());
        assert!(
            statuses[..first_block].iter().all(|s| *s == 200),
            "{statuses:?}"
        );
        assert!(
            statuses[first_block..].iter().all(|s| *s == 403),
            "{statuses:?}"
        );
    }
    assert_eq!(p.events().await.len(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_over_its_share_gets_503_at_once() {
    let web = origin("web").start().await;
    let p = proxy()
        .profile("staff")
        .settings(|s| s.max_connections_per_ip = 2)
        .start()
        .await;
    let url = http_url("learning.example.org", &web, "/");
    let request = format!("GET {url} HTTP/1.1\r\nHost: learning.example.org\r\n\r\n");
    let hog_a = TcpStream::connect(p.addr).await.expect("connect");
    let hog_b = TcpStream::connect(p.addr).await.expect("connect");
    // The proxy counts a connection once it has accepted it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let answer = raw(&p, request.as_bytes(), QUIET).await;
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Connection: close\r\n"), "{answer}");
    assert!(answer.contains("too many connections open"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_millis(900) + QUIET,
        "no wait for a place: {:?}",
        started.elapsed()
    );
    assert_eq!(
        p.gate.metrics.refused_count(gate::metrics::Refusal::PerIp),
        1
    );
    assert!(web.seen().is_empty(), "the refused request went nowhere");
    // Another address is not held back by this one's connections.
    let other = raw_from(&p, "127.0.0.2", request.as_bytes(), QUIET).await;
    assert!(other.starts_with("HTTP/1.1 200"), "{other}");
    // A place given back is a place for the next connection.
    drop(hog_a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = curl(&p, &url, &[]).await;
    assert_eq!(again.status, 200, "{again:?}");
    drop(hog_b);
    assert_eq!(
        p.gate.metrics.refused_count(gate::metrics::Refusal::PerIp),
        1
    );
}

/// Waits up to two seconds for the open connections of every serving
/// thread to add up to `total`, and gives the counts.
async fn serving_open_reaches(p: &TestProxy, total: usize) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let open = p.gate.metrics.serving_open();
        if open.iter().sum::<usize>() == total || Instant::now() > deadline {
            return open;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_connections_are_counted_for_each_serving_thread() {
    let web = origin("web").start().await;
    let p = proxy()
        .profile("staff")
        .settings(|s| s.serving_threads = 2)
        .start()
        .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(p.addr).await.expect("connect"));
    }
    let mut open = serving_open_reaches(&p, 5).await;
    // Each connection goes to the thread with the fewest open.
    open.sort_unstable();
    assert_eq!(open, [2, 3]);
    let text = p.gate.metrics.render(&gate::ActivityCounts::default());
    assert!(
        text.contains("# TYPE schoolgate_proxy_connections_open gauge"),
        "{text}"
    );
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("schoolgate_proxy_connections_open{"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines.contains(&"schoolgate_proxy_connections_open{thread=\"0\"} 3")
            || lines.contains(&"schoolgate_proxy_connections_open{thread=\"1\"} 3"),
        "{lines:?}"
    );
    // A request on a connection of its own counts while it is open, and a
    // closed connection no longer counts.
    let got = curl(&p, &http_url("learning.example.org", &web, "/"), &[]).await;
    assert_eq!(got.status, 200, "{got:?}");
    drop(held);
    assert_eq!(serving_open_reaches(&p, 0).await, [0, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_connections_are_shared_between_client_connections() {
    let web = origin("web").start().await;
    let mut p = proxy().profile("staff").start().await;
    let a = http_url("learning.example.org", &web, "/a");
    // The first client asks once and closes its connection; the answer ends
    // when the proxy has closed it.
    let answer = raw(
        &p,
        format!("GET {a} HTTP/1.1\r\nHost: learning.example.org\r\nConnection: close\r\n\r\n")
            .as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A second client, on a new connection, gets the same upstream one.
    let b = http_url("learning.example.org", &web, "/b");
    let got = curl(&p, &b, &[]).await;
    assert_eq!(got.status, 200, "{got:?}");
    let mut paths: Vec<String> = web.seen().into_iter().map(|s| s.uri).collect();
    paths.sort();
    assert_eq!(paths, ["/a", "/b"]);
    assert_eq!(
        web.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the second client connection reused the first one's upstream connection"
    );
    // Two clients at once each need their own.
    let c = http_url("learning.example.org", &web, "/slow/300");
    let d = http_url("learning.example.org", &web, "/slow/301");
    let (c, d) = tokio::join!(curl(&p, &c, &[]), curl(&p, &d, &[]));
    assert_eq!((c.status, d.status), (200, 200));
    assert_eq!(
        web.connections.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one was shared, one was new"
    );
    assert_eq!(p.events().await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_https_addresses_without_connect_are_refused_clearly() {
    let web = origin("web").https().start().await;
    let p = proxy()
        .profile("staff")
        .settings(|s| s.connect_ports = Vec::new())
        .start()
        .await;
    let url = https_url("learning.example.org", &web, "/secret");
    let answer = raw(
        &p,
        format!("GET {url} HTTP/1.1\r\nHost: learning.example.org\r\n\r\n").as_bytes(),
        QUIET,
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("CONNECT"), "{answer}");
    assert!(answer.contains("https://"), "{answer}");
    assert_eq!(
        web.connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing was sent to the website"
    );
    // The same address through CONNECT works.
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 200, "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_signed_in_with_ntlm_is_never_shared() {
    let web = origin("intranet").start().await;
    let p = proxy().profile("staff").start().await;
    let a = http_url("learning.example.org", &web, "/a");
    // NTLM signs the person in on the connection: the web server would
    // treat the next client on it as the same person.
    let answer = raw(
        &p,
        format!(
            "GET {a} HTTP/1.1\r\nHost: learning.example.org\r\nAuthorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let got = curl(&p, &http_url("learning.example.org", &web, "/b"), &[]).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(
        web.connections.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the second client got a connection of its own"
    );
    assert!(
        web.seen()[0].headers.contains_key("authorization"),
        "the sign-in reached the web server"
    );
}

/// A web server written by hand, so that each way an answer's end can be
/// marked is sent exactly: chunked (with an extension and a trailer),
/// until the connection closes, a length beside chunking, a length cut
/// short, and `HEAD`. Each answer goes out a few bytes at a time.
async fn framing_server() -> u16 {
    raw_server(|mut socket| async move {
        loop {
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                match socket.read(&mut byte).await {
                    Ok(1) => head.push(byte[0]),
                    _ => return,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
            let answer: &[u8] = match path.as_str() {
                "/chunked" => {
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                    6;lang=en\r\nchunks\r\n9\r\n, in bits\r\n0\r\nX-Checked: yes\r\n\r\n"
                }
                "/close" => b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
                "/both" => {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\
                    Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"
                }
                "/short" => b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\ncut",
                _ if head.starts_with("HEAD ") => {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnone",
            };
            for piece in answer.chunks(5) {
                if socket.write_all(piece).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            if path == "/close" || path == "/short" {
                return;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_of_ending_an_answer_is_passed_on_whole() {
    let port = framing_server().await;
    let mut p = proxy().profile("staff").start().await;
    let url = |path: &str| format!("http://www.wikipedia.org:{port}{path}");

    let got = curl(&p, &url("/chunked"), &[]).await;
    assert_eq!(
        (got.status, got.body.as_str()),
        (200, "chunks, in bits"),
        "{got:?}"
    );
    let got = curl(&p, &url("/close"), &[]).await;
    assert_eq!(
        (got.status, got.body.as_str()),
        (200, "until the end"),
        "{got:?}"
    );
    // The length beside chunking is wrong for the body, so it is not
    // passed on.
    let got = curl(&p, &url("/both"), &[]).await;
    assert_eq!((got.status, got.body.as_str()), (200, "body"), "{got:?}");
    assert!(
        !got.headers
            .to_ascii_lowercase()
            .contains("content-length: 99"),
        "{}",
        got.headers
    );
    let got = curl(&p, &url("/page"), &["--head"]).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert!(
        got.headers
            .to_ascii_lowercase()
            .contains("content-length: 1234"),
        "{}",
        got.headers
    );
    // Cut short: the client sees the answer fail rather than end early.
    let got = curl(&p, &url("/short"), &[]).await;
    assert_ne!(got.exit, 0, "{got:?}");

    let events = p.events().await;
    let bytes = |path: &str| {
        events
            .iter()
            .find(|e| e.url.ends_with(path))
            .map(|e| e.bytes)
            .unwrap_or_else(|| panic!("no event for {path}: {events:?}"))
    };
    assert_eq!(bytes("/chunked"), 15);
    assert_eq!(bytes("/close"), 13);
    assert_eq!(bytes("/both"), 4);
}
