//! Cross-site request protection and the API's personal tokens: a form or
//! call without the session's token is refused with 403 and changes
//! nothing; bearer-token calls need no form token; tokens are shown once,
//! stored as digests, and stop working when revoked or when their account
//! is disabled.

mod common;

use axum::http::{Method, StatusCode};
use common::{PASSWORD, School};
use store::Store;

#[tokio::test]
async fn forms_without_the_sessions_token_are_refused_and_change_nothing() {
    let school = School::new().await;
    school.account("s.teacher", "staff", false).await;
    let mut browser = school.browser();
    browser.sign_in("s.teacher", PASSWORD, None).await;
    let page = browser.get("/account/tokens").await;
    let good = browser.csrf.clone().expect("token");

    // Missing.
    let missing = browser
        .post_raw("/account/tokens", &[("name", "sneaky")])
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(
        missing.body.contains("nothing was changed"),
        "{}",
        missing.body
    );
    // Wrong.
    let wrong = browser
        .post_raw(
            "/account/tokens",
            &[("csrf", &"0".repeat(64)), ("name", "sneaky")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // Another browser's token, even a signed-in one of the same account.
    let mut other = school.browser();
    other.sign_in("s.teacher", PASSWORD, None).await;
    other.get("/").await;
    let theirs = other.csrf.clone().expect("token");
    assert_ne!(theirs, good);
    let borrowed = browser
        .post_raw("/account/tokens", &[("csrf", &theirs), ("name", "sneaky")])
        .await;
    assert_eq!(borrowed.status, StatusCode::FORBIDDEN);
    // Sign-out without the token does not sign out.
    let out = browser.post_raw("/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    assert!(
        school
            .store
            .api_tokens_of("s.teacher")
            .await
            .expect("tokens")
            .is_empty(),
        "nothing was made"
    );
    drop(page);

    // The right token works, in the form or in the header.
    let made = browser
        .post_raw("/account/tokens", &[("csrf", &good), ("name", "Fine")])
        .await;
    assert_eq!(made.status, StatusCode::OK);
    let request = axum::http::Request::post("/account/tokens")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-csrf-token", &good)
        .body(axum::body::Body::from("name=Also+fine"))
        .expect("request");
    assert_eq!(browser.send(request).await.status, StatusCode::OK);
    assert_eq!(
        school
            .store
            .api_tokens_of("s.teacher")
            .await
            .expect("tokens")
            .len(),
        2
    );
}

#[tokio::test]
async fn the_sign_in_form_itself_needs_its_token() {
    let school = School::new().await;
    school.account("s.teacher", "staff", false).await;
    // A page on another site posting a sign-in form: no token, no cookie.
    let mut browser = school.browser();
    let page = browser
        .post_raw(
            "/sign-in",
            &[("username", "s.teacher"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!browser.cookies.contains_key("sg_session"));
}

#[tokio::test]
async fn api_calls_need_the_header_with_a_session_and_nothing_with_a_token() {
    let school = School::new().await;
    school.account("t.tech", "technician", false).await;
    let mut browser = school.browser();
    browser.sign_in("t.tech", PASSWORD, None).await;
    browser.get("/account/tokens").await;
    let page = browser
        .post("/account/tokens", &[("name", "Inventory script")])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let token = page
        .between("<p class=\"secret\" id=\"new-token\">", "</p>")
        .expect("shown once");
    assert!(token.starts_with("sgp_"), "{token}");
    // Never shown again, and not stored as itself.
    let list = browser.get("/account/tokens").await;
    assert!(!list.body.contains(&token), "{}", list.body);
    assert!(list.body.contains("Inventory script"));
    let stored = school.store.api_tokens_of("t.tech").await.expect("tokens");
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].token_hash.contains(&token[4..]));
    let id = stored[0].id;

    // A script with the token: no cookies, no form token needed.
    let mut script = school.browser();
    let bearer = format!("Bearer {token}");
    let me = script
        .call(Method::GET, "/api/v1/me", &[("authorization", &bearer)])
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let me: serde_json::Value = serde_json::from_str(&me.body).expect("json");
    assert_eq!(me["username"], "t.tech");
    assert_eq!(me["role"], "technician");
    assert_eq!(me["signed_in_with"], "token");
    // A token is for the API only: pages want a browser session.
    script
        .call(Method::GET, "/account", &[("authorization", &bearer)])
        .await
        .redirects_to("/sign-in");
    // Technicians are not administrators through the API either.
    let accounts = script
        .call(
            Method::GET,
            "/api/v1/accounts",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(accounts.status, StatusCode::FORBIDDEN);
    assert!(accounts.body.starts_with('{'), "JSON: {}", accounts.body);

    // The browser session calling the API must send the header to change anything.
    let path = format!("/api/v1/tokens/{id}");
    let refused = browser.call(Method::DELETE, &path, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let body: serde_json::Value = serde_json::from_str(&refused.body).expect("json");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("nothing was changed")
    );
    let listed = browser.get("/api/v1/tokens").await;
    let listed: serde_json::Value = serde_json::from_str(&listed.body).expect("json");
    assert!(listed[0]["revoked_at"].is_null());

    // The token revokes itself; afterwards it opens nothing.
    let gone = script
        .call(Method::DELETE, &path, &[("authorization", &bearer)])
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    let after = script
        .call(Method::GET, "/api/v1/me", &[("authorization", &bearer)])
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let nonsense = script
        .call(
            Method::GET,
            "/api/v1/me",
            &[("authorization", "Bearer sgp_nonsense")],
        )
        .await;
    assert_eq!(nonsense.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_the_header_a_session_can_call_the_api() {
    let school = School::new().await;
    school.account("g.gov", "governor", false).await;
    let mut browser = school.browser();
    browser.sign_in("g.gov", PASSWORD, None).await;
    browser.get("/account/tokens").await;
    browser
        .post("/account/tokens", &[("name", "Reports")])
        .await;
    let id = school.store.api_tokens_of("g.gov").await.expect("tokens")[0].id;
    browser.get("/").await;
    let token = browser.csrf.clone().expect("token");
    let page = browser
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(page.status, StatusCode::NO_CONTENT, "{}", page.body);
    let me = browser.get("/api/v1/me").await;
    let me: serde_json::Value = serde_json::from_str(&me.body).expect("json");
    assert_eq!(me["signed_in_with"], "session");
}

#[tokio::test]
async fn tokens_stop_with_their_account_and_never_skip_a_second_factor() {
    let school = School::new().await;
    school.account("a.admin", "administrator", true).await;
    school.account("s.teacher", "staff", false).await;
    let mut teacher = school.browser();
    teacher.sign_in("s.teacher", PASSWORD, None).await;
    teacher.get("/account/tokens").await;
    let page = teacher.post("/account/tokens", &[("name", "Mine")]).await;
    let token = page
        .between("<p class=\"secret\" id=\"new-token\">", "</p>")
        .expect("token");
    let bearer = format!("Bearer {token}");
    let mut script = school.browser();
    assert_eq!(
        script
            .call(Method::GET, "/api/v1/me", &[("authorization", &bearer)])
            .await
            .status,
        StatusCode::OK
    );
    school
        .store
        .set_console_account_disabled("s.teacher", true, "a.admin")
        .await
        .expect("disable");
    assert_eq!(
        script
            .call(Method::GET, "/api/v1/me", &[("authorization", &bearer)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // An administrator's token stops while their two-factor sign-in is reset.
    let mut admin = school.signed_in("a.admin").await;
    admin.get("/account/tokens").await;
    let page = admin
        .post("/account/tokens", &[("name", "Admin script")])
        .await;
    let token = page
        .between("<p class=\"secret\" id=\"new-token\">", "</p>")
        .expect("token");
    let bearer = format!("Bearer {token}");
    let accounts = script
        .call(
            Method::GET,
            "/api/v1/accounts",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(accounts.status, StatusCode::OK);
    assert!(
        !accounts.body.contains("argon2"),
        "no hashes: {}",
        accounts.body
    );
    school
        .store
        .reset_two_factor("a.admin", "someone")
        .await
        .expect("reset");
    assert_eq!(
        script
            .call(
                Method::GET,
                "/api/v1/accounts",
                &[("authorization", &bearer)]
            )
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn pages_carry_protective_headers_and_assets_are_local() {
    let school = School::new().await;
    let mut browser = school.browser();
    let page = browser.get("/sign-in").await;
    let csp = page
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(
        page.headers.get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    assert_eq!(
        page.headers.get("referrer-policy").map(|v| v.as_bytes()),
        Some(&b"no-referrer"[..])
    );
    // Every script and stylesheet the page names is served here.
    for asset in [
        "/assets/console.css",
        "/assets/htmx.min.js",
        "/assets/console.js",
    ] {
        assert!(page.body.contains(asset), "{asset}");
        assert_eq!(browser.get(asset).await.status, StatusCode::OK, "{asset}");
    }
    assert!(!page.body.contains("https://"), "nothing from another site");
    assert_eq!(
        browser.get("/assets/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    let missing = browser.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("There is nothing here"));
    let api = browser.get("/api/v1/nothing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.body.starts_with("{\"error\""), "{}", api.body);
}
