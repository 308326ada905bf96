//! Sign-in as people meet it: the first-run link, two-factor enrolment and
//! codes, lock-out and throttling, sessions that end, cookies, and set-up
//! links for new accounts. Handlers only; no socket.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, School};
use console::Settings;
use console::throttle::Limit;
use jiff::SignedDuration;
use store::Store;

#[tokio::test]
async fn the_first_run_link_creates_the_first_administrator_who_must_then_enrol() {
    let school = School::new().await;
    let link = console::first_run_link_at(&school.store, "http://console.test", school.now())
        .await
        .expect("link")
        .expect("no administrator yet");
    let path = link
        .strip_prefix("http://console.test")
        .expect("our address");
    assert!(path.starts_with("/setup/"), "{link}");

    let mut browser = school.browser();
    let form = browser.get(path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("first administrator"), "{}", form.body);

    // A common password is refused, and nothing is used up.
    let refused = browser
        .post(
            path,
            &[
                ("username", "a.head"),
                ("display_name", "Alex Head"),
                ("password", "password1234"),
                ("confirm", "password1234"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("too common"), "{}", refused.body);

    let created = browser
        .post(
            path,
            &[
                ("username", "A.Head"),
                ("display_name", "Alex Head"),
                ("email", "a.head@school.invalid"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    created.redirects_to("/account/two-factor");
    assert!(school.store.administrator_exists().await.expect("exists"));
    let account = school
        .store
        .console_account("a.head")
        .await
        .expect("find")
        .expect("created, in lower case");
    assert_eq!(account.role, "administrator");

    // The link works once.
    let mut other = school.browser();
    let again = other.get(path).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already been used"), "{}", again.body);
    assert!(
        console::first_run_link(&school.store, "http://console.test")
            .await
            .expect("link")
            .is_none(),
        "no link once an administrator exists"
    );

    // Before enrolment, an administrator reaches nothing else.
    browser.get("/").await.redirects_to("/account/two-factor");
    browser
        .get("/accounts")
        .await
        .redirects_to("/account/two-factor");
    let api = browser.get("/api/v1/me").await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);

    let enrol = browser.get("/account/two-factor").await;
    assert_eq!(enrol.status, StatusCode::OK);
    let otpauth = enrol
        .between("you can <a href=\"", "\">open the key")
        .expect("an otpauth link")
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    assert!(
        otpauth.starts_with("otpauth://totp/schoolgate:a.head?"),
        "{otpauth}"
    );
    // The secret shown is the one stored, and reloading keeps it.
    let shown = enrol
        .between("<p class=\"secret\" id=\"secret\">", "</p>")
        .expect("the secret")
        .replace(' ', "");
    let again = browser.get("/account/two-factor").await;
    let reloaded = again
        .between("<p class=\"secret\" id=\"secret\">", "</p>")
        .expect("the secret")
        .replace(' ', "");
    assert_eq!(reloaded, shown, "the secret changed on reload");
    let secret = store::Hidden::new(shown);

    let wrong = browser
        .post("/account/two-factor", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let code = school.code(&secret, 0);
    browser
        .post("/account/two-factor", &[("code", &code)])
        .await
        .redirects_to("/?done=two-factor-on");
    let home = browser.get("/?done=two-factor-on").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("Two-factor sign-in is on"),
        "{}",
        home.body
    );
    // Once on, the secret is never shown again.
    let after = browser.get("/account/two-factor").await;
    assert!(
        !after.body.contains(&secret.expose()[..4]),
        "{}",
        after.body
    );
    assert!(after.body.contains("is on"), "{}", after.body);
    assert_eq!(browser.get("/accounts").await.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_asks_for_the_code_and_never_accepts_a_code_twice() {
    let school = School::new().await;
    let secret = school.account("d.lead", "dsl", true).await.expect("secret");

    let mut browser = school.browser();
    browser.get("/sign-in").await;
    let page = browser
        .post(
            "/sign-in",
            &[("username", "d.lead"), ("password", PASSWORD)],
        )
        .await;
    page.redirects_to("/sign-in/code");
    let pending = browser.cookies.get("sg_session").cloned().expect("cookie");
    // Half signed in reaches nothing but the code page.
    browser.get("/").await.redirects_to("/sign-in/code");
    assert_eq!(
        browser.get("/api/v1/me").await.status,
        StatusCode::FORBIDDEN
    );

    browser.get("/sign-in/code").await;
    let wrong = browser.post("/sign-in/code", &[("code", "123456")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("did not work"), "{}", wrong.body);

    let code = school.code(&secret, 0);
    browser
        .post("/sign-in/code", &[("code", &code)])
        .await
        .redirects_to("/");
    let full = browser.cookies.get("sg_session").cloned().expect("cookie");
    assert_ne!(pending, full, "a new session id after the second factor");
    assert_eq!(browser.get("/").await.status, StatusCode::OK);

    // The half-signed-in session is gone.
    let mut stale = school.browser();
    stale.cookies.insert("sg_session".into(), pending);
    stale.get("/sign-in/code").await.redirects_to("/sign-in");

    // The same code again, from another browser, is refused (replay).
    let mut thief = school.browser();
    let replay = thief.sign_in("d.lead", PASSWORD, Some(&code)).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.body);
    // The next step's code works (one step of drift is allowed).
    let next = school.code(&secret, 1);
    thief
        .post("/sign-in/code", &[("code", &next)])
        .await
        .redirects_to("/");
    // Two steps back is too old, even had it never been used.
    school.clock.advance(SignedDuration::from_secs(90));
    let mut late = school.browser();
    let old = school.code(&secret, -3);
    let page = late.sign_in("d.lead", PASSWORD, Some(&old)).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn five_failures_lock_an_account_for_fifteen_minutes_whether_or_not_it_exists() {
    let school = School::new().await;
    school.account("s.teacher", "staff", false).await;

    let mut browser = school.browser();
    let mut last = None;
    for _ in 0..5 {
        last = Some(browser.sign_in("s.teacher", "Wrong-Password-1", None).await);
    }
    let locked = last.expect("tried");
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("locked for now"), "{}", locked.body);
    assert!(
        locked.body.contains("Try again after 08:15"),
        "{}",
        locked.body
    );
    // Even the right password is refused while locked.
    let still = browser.sign_in("s.teacher", PASSWORD, None).await;
    assert_eq!(still.status, StatusCode::TOO_MANY_REQUESTS);
    let account = school
        .store
        .console_account("s.teacher")
        .await
        .expect("find")
        .expect("some");
    assert!(account.locked_until.is_some());

    // A username nobody has behaves the same, word for word.
    let mut prober = school.browser();
    prober.address = "10.0.0.99:1".parse().expect("address");
    let mut ghost = None;
    for _ in 0..5 {
        ghost = Some(
            prober
                .sign_in("nobody.here", "Wrong-Password-1", None)
                .await,
        );
    }
    let ghost = ghost.expect("tried");
    assert_eq!(ghost.status, StatusCode::TOO_MANY_REQUESTS);
    let summary = |body: &str| {
        let start = body.find("error-summary").expect("summary");
        body[start..start + 300].to_owned()
    };
    assert_eq!(summary(&ghost.body), summary(&locked.body));

    // Fifteen minutes on, the right password works.
    school.clock.advance(SignedDuration::from_mins(15));
    let page = browser.sign_in("s.teacher", PASSWORD, None).await;
    page.redirects_to("/");
    let account = school
        .store
        .console_account("s.teacher")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(account.failed_sign_ins, 0);
}

#[tokio::test]
async fn wrong_codes_count_towards_the_lock_out_too() {
    let school = School::new().await;
    school.account("h.head", "headteacher", true).await;
    let mut browser = school.browser();
    let mut page = None;
    for _ in 0..5 {
        page = Some(browser.sign_in("h.head", PASSWORD, Some("000000")).await);
    }
    let page = page.expect("tried");
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.body.contains("locked for now"));
    assert!(
        !browser.cookies.contains_key("sg_session"),
        "the half session ended"
    );
}

#[tokio::test]
async fn an_address_with_too_many_failures_is_refused_for_a_while() {
    let mut settings = Settings::new("http://console.test");
    settings.address_limit = Limit {
        failures: 8,
        ..Limit::ADDRESS
    };
    let school = School::with_settings(settings).await;
    school.account("s.teacher", "staff", false).await;
    let mut attacker = school.browser();
    for i in 0..8 {
        attacker
            .sign_in(&format!("guess{i}"), "Wrong-Password-1", None)
            .await;
    }
    let refused = attacker.sign_in("s.teacher", PASSWORD, None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.body.contains("from your network"),
        "{}",
        refused.body
    );

    let mut colleague = school.browser();
    colleague.address = "10.0.9.9:1".parse().expect("address");
    colleague
        .sign_in("s.teacher", PASSWORD, None)
        .await
        .redirects_to("/");
}

#[tokio::test]
async fn sessions_end_when_idle_at_their_absolute_end_and_everywhere_at_once() {
    let school = School::new().await;
    school.account("s.teacher", "staff", false).await;

    // Idle for longer than the timeout.
    let mut browser = school.browser();
    browser
        .sign_in("s.teacher", PASSWORD, None)
        .await
        .redirects_to("/");
    school.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    school.clock.advance(SignedDuration::from_mins(31));
    browser.get("/").await.redirects_to("/sign-in");

    // Busy, but past the absolute lifetime.
    let mut busy = school.browser();
    busy.sign_in("s.teacher", PASSWORD, None)
        .await
        .redirects_to("/");
    for _ in 0..20 {
        school.clock.advance(SignedDuration::from_mins(29));
        assert_eq!(busy.get("/").await.status, StatusCode::OK);
    }
    school.clock.advance(SignedDuration::from_mins(29));
    busy.get("/").await.redirects_to("/sign-in");

    // Signing out everywhere ends every session of the account.
    let mut laptop = school.browser();
    let mut phone = school.browser();
    laptop.sign_in("s.teacher", PASSWORD, None).await;
    phone.sign_in("s.teacher", PASSWORD, None).await;
    let account = laptop.get("/account").await;
    assert!(account.body.contains("(this one)"), "{}", account.body);
    laptop
        .post("/sign-out-everywhere", &[])
        .await
        .redirects_to("/sign-in?done=signed-out-everywhere");
    phone.get("/").await.redirects_to("/sign-in");
    laptop.get("/").await.redirects_to("/sign-in");
    assert!(
        school
            .store
            .console_sessions_of("s.teacher", school.now())
            .await
            .expect("sessions")
            .is_empty()
    );

    // Signing out ends just this one.
    laptop.sign_in("s.teacher", PASSWORD, None).await;
    phone.sign_in("s.teacher", PASSWORD, None).await;
    laptop.get("/").await;
    laptop
        .post("/sign-out", &[])
        .await
        .redirects_to("/sign-in?done=signed-out");
    laptop.get("/").await.redirects_to("/sign-in");
    assert_eq!(phone.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn session_cookies_are_http_only_strict_and_secure_over_https() {
    let school = School::new().await;
    school.account("s.teacher", "staff", false).await;
    let mut browser = school.browser();
    let page = browser.sign_in("s.teacher", PASSWORD, None).await;
    let cookie = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("sg_session="))
        .expect("a session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let stored = school
        .store
        .console_sessions_of("s.teacher", school.now())
        .await
        .expect("sessions");
    let value = cookie["sg_session=".len()..]
        .split(';')
        .next()
        .unwrap_or("");
    assert!(
        stored
            .iter()
            .all(|s| s.id_hash != value && !s.id_hash.contains(value)),
        "the cookie value itself is never stored"
    );

    let secure = School::with_settings(Settings::new("https://console.school.example")).await;
    secure.account("s.teacher", "staff", false).await;
    let mut browser = secure.browser();
    let form = browser.get("/sign-in").await;
    let anonymous = form.set_cookies().join("\n");
    assert!(anonymous.contains("__Host-sg_anon="), "{anonymous}");
    let page = browser.sign_in("s.teacher", PASSWORD, None).await;
    let cookie = page.set_cookies().join("\n");
    assert!(cookie.starts_with("__Host-sg_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_administrator_adds_an_account_whose_link_sets_its_password() {
    let school = School::new().await;
    school.account("a.admin", "administrator", true).await;
    let mut admin = school.signed_in("a.admin").await;
    admin.get("/accounts").await;
    let page = admin
        .post(
            "/accounts",
            &[
                ("username", "t.tech"),
                ("display_name", "Toni Tech"),
                ("email", "t.tech@school.invalid"),
                ("role", "technician"),
                ("person", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let link = page
        .between("<p class=\"secret\" id=\"setup-link\">", "</p>")
        .expect("the link")
        .replace("&#x2f;", "/");
    let path = link
        .strip_prefix("http://console.test")
        .expect("our address");

    // The same username again is refused plainly.
    admin.get("/accounts").await;
    let again = admin
        .post(
            "/accounts",
            &[
                ("username", "t.tech"),
                ("display_name", "Other"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("taken"), "{}", again.body);

    let mut tech = school.browser();
    let form = tech.get(path).await;
    assert!(form.body.contains("Toni Tech"), "{}", form.body);
    let mismatch = tech
        .post(
            path,
            &[("password", PASSWORD), ("confirm", "Something-Else-99")],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    tech.post(path, &[("password", PASSWORD), ("confirm", PASSWORD)])
        .await
        .redirects_to("/sign-in?done=password-set");
    tech.sign_in("t.tech", PASSWORD, None)
        .await
        .redirects_to("/");
    // A technician is not an administrator.
    assert_eq!(tech.get("/accounts").await.status, StatusCode::FORBIDDEN);

    // Disabling signs them out and keeps them out.
    admin.get("/accounts/t.tech").await;
    admin
        .post("/accounts/t.tech/disable", &[])
        .await
        .redirects_to("/accounts/t.tech?done=disabled");
    tech.get("/").await.redirects_to("/sign-in");
    let refused = tech.sign_in("t.tech", PASSWORD, None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // An administrator cannot disable themselves.
    admin.get("/accounts/a.admin").await;
    let self_disable = admin.post("/accounts/a.admin/disable", &[]).await;
    assert_eq!(self_disable.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn resetting_two_factor_sends_the_account_back_to_enrolment() {
    let school = School::new().await;
    school.account("a.admin", "administrator", true).await;
    let secret = school
        .account("d.dep", "deputy-dsl", true)
        .await
        .expect("secret");
    let mut deputy = school.browser();
    deputy
        .sign_in("d.dep", PASSWORD, Some(&school.code(&secret, 0)))
        .await
        .redirects_to("/");

    let mut admin = school.signed_in("a.admin").await;
    admin.get("/accounts/d.dep").await;
    admin
        .post("/accounts/d.dep/reset-two-factor", &[])
        .await
        .redirects_to("/accounts/d.dep?done=two-factor-reset");
    deputy.get("/").await.redirects_to("/sign-in");
    deputy
        .sign_in("d.dep", PASSWORD, None)
        .await
        .redirects_to("/");
    deputy.get("/").await.redirects_to("/account/two-factor");
}

#[tokio::test]
async fn changing_the_password_signs_out_every_other_device() {
    let school = School::new().await;
    school.account("s.teacher", "staff", false).await;
    let mut laptop = school.browser();
    let mut phone = school.browser();
    laptop.sign_in("s.teacher", PASSWORD, None).await;
    phone.sign_in("s.teacher", PASSWORD, None).await;
    laptop.get("/account").await;
    let wrong = laptop
        .post(
            "/account/password",
            &[
                ("current", "not it"),
                ("new", "Quiet-Harbour-Lamp"),
                ("confirm", "Quiet-Harbour-Lamp"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    laptop
        .post(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "Quiet-Harbour-Lamp"),
                ("confirm", "Quiet-Harbour-Lamp"),
            ],
        )
        .await
        .redirects_to("/account?done=password-changed");
    assert_eq!(laptop.get("/").await.status, StatusCode::OK);
    phone.get("/").await.redirects_to("/sign-in");
    let mut fresh = school.browser();
    fresh
        .sign_in("s.teacher", "Quiet-Harbour-Lamp", None)
        .await
        .redirects_to("/");
}
