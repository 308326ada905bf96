//! Plain HTTP through the proxy with curl and wget: decisions for every
//! default profile, block pages, identification, and the activity event of
//! each case.

mod common;

use common::*;
use store::Store;

fn reference_in(page: &str) -> String {
    let at = page.find("SG-").expect("a reference on the page");
    page[at..at + 12].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_page_passes_through_with_via_and_without_hop_by_hop_headers() {
    let web = origin("learning").start().await;
    let mut p = proxy().profile("ks2").start().await;
    let url = http_url("learning.example.org", &web, "/lessons?week=3");
    let got = curl(
        &p,
        &url,
        &["-H", "Proxy-Connection: keep-alive", "-H", "X-Test: kept"],
    )
    .await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body, "learning GET /lessons?week=3");
    assert!(
        got.header("via").is_some_and(|v| v.contains("schoolgate")),
        "{got:?}"
    );
    assert_eq!(
        got.header("keep-alive"),
        None,
        "hop-by-hop header passed on"
    );

    let seen = web.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.uri, "/lessons?week=3", "origin-form upstream");
    assert_eq!(
        request.headers.get("host").and_then(|h| h.to_str().ok()),
        Some(format!("learning.example.org:{}", web.port()).as_str())
    );
    assert!(request.headers.get("proxy-connection").is_none());
    assert_eq!(
        request.headers.get("x-test").and_then(|h| h.to_str().ok()),
        Some("kept")
    );
    assert!(
        request
            .headers
            .get("via")
            .and_then(|h| h.to_str().ok())
            .is_some_and(|v| v.starts_with("1.1 schoolgate"))
    );

    let events = p.events().await;
    let e = event(&events, &url);
    assert_eq!(e.verdict, "allow");
    assert_eq!(e.rule, "default");
    assert_eq!(e.profile, "ks2");
    assert_eq!(e.method, "GET");
    assert_eq!(e.host, "learning.example.org");
    assert_eq!(e.client_ip, "127.0.0.1");
    assert_eq!(e.status, Some(200));
    assert_eq!(e.bytes, got.body.len() as u64);
    assert_eq!(e.source, store::Source::Proxy);
    assert_eq!(e.reference, None);
    assert_eq!(e.username, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_category_block_shows_a_page_a_pupil_understands() {
    let web = origin("casino").start().await;
    let mut p = proxy().profile("ks2").at(LESSON).start().await;
    let url = http_url("www.bet365.com", &web, "/en/?odds=1&team='rovers'");
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 403, "{got:?}");
    assert!(
        web.seen().is_empty(),
        "a blocked request reached the web server"
    );
    let page = &got.body;
    assert!(page.contains(SCHOOL), "{page}");
    assert!(page.contains("This page is blocked"), "{page}");
    assert!(page.contains("<strong>Gambling</strong>"), "{page}");
    assert!(page.contains("18 November 2026 at 09:15"), "{page}");
    assert!(
        page.contains("/en/?odds=1&amp;team=&#39;rovers&#39;"),
        "the address is escaped: {page}"
    );
    assert!(!page.contains("src=\"http"), "no external assets");
    let reference = reference_in(page);
    assert!(
        page.contains(&format!("http://{}/review?ref={reference}", p.addr)),
        "{page}"
    );
    assert_eq!(
        got.header("x-schoolgate-reason").as_deref(),
        Some("category:gambling")
    );
    assert_eq!(
        got.header("x-schoolgate-reference"),
        Some(reference.clone())
    );

    let events = p.events().await;
    let e = event(&events, &url);
    assert_eq!(e.verdict, "block");
    assert_eq!(e.rule, "category:gambling");
    assert_eq!(e.categories, "gambling");
    assert_eq!(e.status, Some(403));
    assert_eq!(e.reference.as_deref(), Some(reference.as_str()));
    assert_eq!(e.profile, "ks2");
    assert!(e.bytes > 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_override_blocks_with_its_reason() {
    let web = origin("denied").start().await;
    let mut p = proxy().profile("ks2").start().await;
    let url = http_url("deny-test.example.org", &web, "/");
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 403);
    assert!(
        got.body
            .contains("The Key Stage 2 profile blocks deny-test.example.org."),
        "{}",
        got.body
    );
    let events = p.events().await;
    assert_eq!(event(&events, &url).rule, "deny:deny-test.example.org");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statutory_hit_shows_the_standard_text_and_nothing_else() {
    let web = origin("never").start().await;
    // Staff filtering is the most open, and still cannot reach it.
    let mut p = proxy().profile("staff").at(LUNCH).start().await;
    let url = http_url("iwf-test.example.net", &web, "/abuse/page1");
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 403);
    let text = classify::statutory::block_text(classify::statutory::StatutoryKind::Iwf);
    assert!(
        got.body.contains(&proxy::pages::escape(text)),
        "{}",
        got.body
    );
    for absent in ["iwf-test", "Reference", "review", "SG-", SCHOOL, "abuse"] {
        assert!(!got.body.contains(absent), "'{absent}' shown: {}", got.body);
    }
    assert!(web.seen().is_empty());
    assert_eq!(got.header("x-schoolgate-reference"), None);
    let events = p.events().await;
    let e = event(&events, &url);
    assert_eq!(e.rule, "statutory:iwf");
    assert_eq!(e.verdict, "block");
    assert_eq!(e.reference, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unidentified_people_get_the_walled_garden() {
    let web = origin("web").start().await;
    // No network, no sign-in: the strictest pupil profile (eyfs-ks1).
    let mut p = proxy().start().await;
    let approved = http_url("learning.example.org", &web, "/");
    let help = http_url("www.childline.org.uk", &web, "/");
    let other = http_url("www.wikipedia.org", &web, "/wiki/Otter");
    assert_eq!(curl(&p, &approved, &[]).await.status, 200);
    assert_eq!(
        curl(&p, &help, &[]).await.status,
        200,
        "help sites stay open"
    );
    let blocked = curl(&p, &other, &[]).await;
    assert_eq!(blocked.status, 403);
    assert!(
        blocked.body.contains("allows only approved sites"),
        "{}",
        blocked.body
    );
    let events = p.events().await;
    assert_eq!(event(&events, &approved).profile, "eyfs-ks1");
    assert_eq!(event(&events, &help).rule, "allow:childline.org.uk");
    assert_eq!(event(&events, &other).rule, "walled-garden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_personal_use_follows_the_schedule() {
    let web = origin("social").start().await;
    let url = http_url("www.facebook.com", &web, "/");
    let mut lesson = proxy().profile("staff").at(LESSON).start().await;
    assert_eq!(curl(&lesson, &url, &[]).await.status, 403);
    let mut lunch = proxy().profile("staff").at(LUNCH).start().await;
    assert_eq!(curl(&lunch, &url, &[]).await.status, 200);
    let events = lesson.events().await;
    assert_eq!(event(&events, &url).rule, "category:social-networking");
    let events = lunch.events().await;
    let e = event(&events, &url);
    assert_eq!(
        (e.verdict.as_str(), e.rule.as_str()),
        ("allow", "schedule:Lunch")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_default_profile_filters_as_designed() {
    let web = origin("web").start().await;
    let games = http_url("www.roblox.com", &web, "/");
    let reference = http_url("www.wikipedia.org", &web, "/");
    // (profile, roblox, wikipedia, rule for roblox)
    let cases = [
        ("eyfs-ks1", 403, 403, "walled-garden"),
        ("ks2", 403, 200, "category:games"),
        ("staff", 403, 200, "category:games"),
        ("guest", 200, 200, "default"),
    ];
    for (profile, roblox, wikipedia, rule) in cases {
        let mut p = proxy().profile(profile).at(LESSON).start().await;
        assert_eq!(
            curl(&p, &games, &[]).await.status,
            roblox,
            "{profile} roblox"
        );
        assert_eq!(
            curl(&p, &reference, &[]).await.status,
            wikipedia,
            "{profile} wikipedia"
        );
        let events = p.events().await;
        let e = event(&events, &games);
        assert_eq!((e.profile.as_str(), e.rule.as_str()), (profile, rule));
        assert_eq!(e.categories, "games");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guest_network_is_filtered_as_guests() {
    let web = origin("web").start().await;
    let url = http_url("www.roblox.com", &web, "/");
    let mut p = proxy()
        .network("Classrooms", "127.0.0.0/8", "ks2")
        .network("Guest Wi-Fi", "127.0.0.64/26", "guest")
        .start()
        .await;
    let pupil = curl(&p, &url, &[]).await;
    let guest = curl(&p, &url, &["--interface", "127.0.0.70"]).await;
    assert_eq!((pupil.status, guest.status), (403, 200));
    let events = p.events().await;
    let by_ip = |ip: &str| {
        events
            .iter()
            .find(|e| e.client_ip == ip)
            .unwrap_or_else(|| panic!("no event from {ip}: {events:#?}"))
    };
    assert_eq!(by_ip("127.0.0.1").profile, "ks2");
    assert_eq!(by_ip("127.0.0.70").profile, "guest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_devices_are_named_in_the_log() {
    let web = origin("web").start().await;
    let url = http_url("learning.example.org", &web, "/");
    let mut p = proxy()
        .profile("ks2")
        .device("LIBRARY-PC-3", "127.0.0.33")
        .start()
        .await;
    assert_eq!(
        curl(&p, &url, &["--interface", "127.0.0.33"]).await.status,
        200
    );
    let events = p.events().await;
    let e = event(&events, &url);
    assert_eq!(e.device.as_deref(), Some("LIBRARY-PC-3"));
    assert_eq!(e.client_ip, "127.0.0.33");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_sign_in_identifies_the_person() {
    let web = origin("social").start().await;
    let url = http_url("www.facebook.com", &web, "/");
    let mut p = proxy()
        .person("t.teacher", "staff", Some("correct horse battery"))
        .settings(|s| s.authentication = proxy::Authentication::Required)
        .at(LUNCH)
        .start()
        .await;
    let anonymous = curl(&p, &url, &[]).await;
    assert_eq!(anonymous.status, 407);
    assert!(
        anonymous
            .header("proxy-authenticate")
            .is_some_and(|h| h.starts_with("Basic realm=\"schoolgate\"")),
        "{anonymous:?}"
    );
    let wrong = curl(&p, &url, &["--proxy-user", "t.teacher:wrong"]).await;
    assert_eq!(wrong.status, 407);
    // Twice on one connection and again on another: checked once, then
    // remembered.
    let right = curl(
        &p,
        &url,
        &["--proxy-user", "t.teacher:correct horse battery", &url],
    )
    .await;
    assert_eq!(right.status, 200, "{right:?}");
    let again = curl(
        &p,
        &url,
        &["--proxy-user", "t.teacher:correct horse battery"],
    )
    .await;
    assert_eq!(again.status, 200);
    let events = p.events().await;
    assert_eq!(events.len(), 3, "407s are not decisions: {events:#?}");
    for e in &events {
        assert_eq!(e.username.as_deref(), Some("t.teacher"));
        assert_eq!(e.profile, "staff");
        assert_eq!(e.rule, "schedule:Lunch");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_sign_in_leaves_others_unidentified() {
    let web = origin("web").start().await;
    let url = http_url("www.wikipedia.org", &web, "/");
    let mut p = proxy()
        .person("ada.pupil", "ks2", Some("ada's password"))
        .settings(|s| s.authentication = proxy::Authentication::Optional)
        .start()
        .await;
    assert_eq!(curl(&p, &url, &[]).await.status, 403, "walled garden");
    assert_eq!(
        curl(&p, &url, &["--proxy-user", "ada.pupil:ada's password"])
            .await
            .status,
        200
    );
    let events = p.events().await;
    assert_eq!(events[0].username, None);
    assert_eq!(events[0].profile, "eyfs-ks1");
    assert_eq!(events[1].username.as_deref(), Some("ada.pupil"));
    assert_eq!(events[1].profile, "ks2");
}

const SECRET: &str = "login-agent-test-secret-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_agent_identifies_the_person_and_device() {
    let web = origin("web").start().await;
    let url = http_url("www.wikipedia.org", &web, "/");
    let mut p = proxy()
        .person("ada.pupil", "ks2", None)
        .settings(|s| s.agent_secret = Some(SECRET.to_owned()))
        .start()
        .await;
    let agent = format!("{}/login-agent", p.url());
    let call = |args: Vec<String>| {
        let agent = agent.clone();
        async move {
            let output = tokio::process::Command::new("curl")
                .args(["-sS", "--noproxy", "*", "-w", "\n%{http_code}"])
                .args(args)
                .arg(agent)
                .output()
                .await
                .expect("curl");
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
    };
    let bearer = format!("Authorization: Bearer {SECRET}");
    let wrong = call(vec![
        "-H".into(),
        "Authorization: Bearer not-the-secret".into(),
        "-d".into(),
        "user=ada.pupil".into(),
    ])
    .await;
    assert!(wrong.ends_with("401"), "{wrong}");

    assert_eq!(
        curl(&p, &url, &[]).await.status,
        403,
        "before: unidentified"
    );
    let signed_in = call(vec![
        "-H".into(),
        bearer.clone(),
        "-d".into(),
        "user=ada.pupil&device=LAPTOP-07&minutes=60".into(),
    ])
    .await;
    assert!(signed_in.ends_with("200"), "{signed_in}");
    assert!(
        signed_in.contains("Signed in ada.pupil on LAPTOP-07 at 127.0.0.1"),
        "{signed_in}"
    );
    assert_eq!(curl(&p, &url, &[]).await.status, 200, "signed in: ks2");
    let sessions = p
        .store
        .sessions(jiff::Timestamp::now())
        .await
        .expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].username, "ada.pupil");
    assert_eq!(sessions[0].device.as_deref(), Some("LAPTOP-07"));

    let signed_out = call(vec![
        "-H".into(),
        bearer,
        "-d".into(),
        "action=logoff".into(),
    ])
    .await;
    assert!(signed_out.ends_with("200"), "{signed_out}");
    assert_eq!(curl(&p, &url, &[]).await.status, 403, "after: unidentified");

    let events = p.events().await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].username.as_deref(), Some("ada.pupil"));
    assert_eq!(events[1].device.as_deref(), Some("LAPTOP-07"));
    assert_eq!(events[1].profile, "ks2");
    assert_eq!(events[2].username, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_agent_is_off_without_a_secret() {
    let p = proxy().start().await;
    let output = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .args(["-H", "Authorization: Bearer anything", "-d", "user=x"])
        .arg(format!("{}/login-agent", p.url()))
        .output()
        .await
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "404");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_request_is_recorded_with_what_was_blocked() {
    let web = origin("web").start().await;
    let url = http_url("www.roblox.com", &web, "/games");
    let mut p = proxy().profile("ks2").start().await;
    let blocked = curl(&p, &url, &[]).await;
    let reference = reference_in(&blocked.body);

    let review = format!("{}/review?ref={reference}", p.url());
    let form = tokio::process::Command::new("curl")
        .args(["-sS", "--noproxy", "*"])
        .arg(&review)
        .output()
        .await
        .expect("curl");
    let form = String::from_utf8_lossy(&form.stdout);
    assert!(form.contains(&format!("value=\"{reference}\"")), "{form}");

    let posted = tokio::process::Command::new("curl")
        .args(["-sS", "--noproxy", "*", "-w", "\n%{http_code}"])
        .args(["--data-urlencode", &format!("ref={reference}")])
        .args([
            "--data-urlencode",
            "message=We need it for the <maths> club",
        ])
        .arg(format!("{}/review", p.url()))
        .output()
        .await
        .expect("curl");
    let posted = String::from_utf8_lossy(&posted.stdout);
    assert!(posted.ends_with("200"), "{posted}");
    assert!(
        posted.contains("your request has been recorded"),
        "{posted}"
    );
    assert!(posted.contains(&reference));

    let requests = p.store.review_requests(10).await.expect("requests");
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.reference, reference);
    assert_eq!(r.url, url);
    assert_eq!(r.profile, "ks2");
    assert_eq!(r.rule, "category:games");
    assert_eq!(r.client_ip, "127.0.0.1");
    assert_eq!(r.message, "We need it for the <maths> club");
    assert_eq!(r.status, "open");

    let bad = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .args(["-d", "ref=<script>"])
        .arg(format!("{}/review", p.url()))
        .output()
        .await
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&bad.stdout), "400");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wget_gets_pages_and_block_pages() {
    let web = origin("web").start().await;
    let mut p = proxy().profile("ks2").start().await;
    let allowed = http_url("learning.example.org", &web, "/wget");
    let (code, body, _) = wget(&p, &allowed).await;
    assert_eq!((code, body.as_str()), (0, "web GET /wget"));
    let blocked = http_url("www.bet365.com", &web, "/");
    let (code, body, headers) = wget(&p, &blocked).await;
    assert_eq!(code, 8, "wget reports a server error");
    assert!(headers.contains("403"), "{headers}");
    assert!(body.contains("This page is blocked"), "{body}");
    let events = p.events().await;
    assert_eq!(event(&events, &allowed).status, Some(200));
    assert_eq!(event(&events, &blocked).status, Some(403));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_terms_are_logged_and_plain_http_search_is_made_safe() {
    let google = origin("google").start().await;
    let safe = origin("forcesafesearch")
        .ip("127.0.0.2")
        .port(google.port())
        .start()
        .await;
    let mut p = proxy()
        .profile("ks2")
        .resolve("forcesafesearch.google.com", "127.0.0.2")
        .start()
        .await;
    let url = http_url("www.google.co.uk", &google, "/search?q=volcano+facts&hl=en");
    let got = curl(&p, &url, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.body,
        "forcesafesearch GET /search?q=volcano+facts&hl=en"
    );
    assert!(google.seen().is_empty(), "went to the ordinary host");
    // The Host header is the one the browser asked for.
    assert_eq!(
        safe.seen()[0]
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok()),
        Some(format!("www.google.co.uk:{}", google.port()).as_str())
    );
    let events = p.events().await;
    let e = event(&events, &url);
    assert_eq!(e.verdict, "safe-search");
    assert_eq!(e.search_term.as_deref(), Some("volcano facts"));
}
