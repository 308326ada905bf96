//! The filtering policy in the console: every change needs a reason and
//! lands in the history with who, when, why and what; a change made from an
//! older revision is refused; statutory lists are status only; "Test a URL"
//! explains a verdict for a profile or a person; the JSON API does the same
//! with a personal token. The URL checker is a real engine over real UT1
//! entries (Université Toulouse Capitole, CC BY-SA 4.0).

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use classify::index::IndexBuilder;
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::taxonomy::Category;
use common::School;
use policy::defaults::default_policy;
use policy::{Engine, Lists};
use serde_json::json;
use store::{Person, Store};

/// An invented page standing in for a statutory entry.
const STATUTORY_URL: &str = "http://statutory-example.test/hidden/page";

fn engine() -> Engine {
    let mut b = IndexBuilder::new();
    let mut add = |name: &str, category: &str, domains: &[&str]| {
        b.add_list(
            name,
            Some(Category::from_id(category).expect("category")),
            domains.iter().copied(),
            std::iter::empty(),
        )
        .expect("add");
    };
    add("ut1/gambling", "gambling", &["bet365.com", "krcasino.net"]);
    add("ut1/games", "games", &["roblox.com"]);
    add(
        "ut1/social_networks",
        "social-networking",
        &["facebook.com", "instagram.com"],
    );
    add("ut1/gambling-too", "gambling", &["statutory-example.test"]);
    let statutory = StatutoryList::parse(
        StatutoryKind::Iwf,
        "test",
        format!("{STATUTORY_URL}\n").as_bytes(),
    )
    .expect("statutory");
    let lists = Lists {
        index: b.build(),
        statutory: vec![statutory],
    };
    Engine::new(default_policy(), Arc::new(lists)).expect("engine")
}

async fn school() -> School {
    let school = School::with_checker(Arc::new(engine())).await;
    school.default_policy().await;
    for (name, role) in [
        ("a.admin", "administrator"),
        ("t.tech", "technician"),
        ("t.other", "technician"),
        ("d.lead", "dsl"),
        ("h.head", "headteacher"),
        ("s.teacher", "staff"),
        ("g.governor", "governor"),
    ] {
        school.account(name, role, true).await;
    }
    school
}

/// Replaces the policy through the API.
async fn put(
    api: &mut common::Browser,
    token: &str,
    body: &serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    api.json(Method::PUT, "/api/v1/policy", token, Some(body))
        .await
}

/// The policy in force in the store.
async fn policy_now(school: &School) -> policy::Policy {
    school
        .store
        .current_policy()
        .await
        .expect("read")
        .expect("a policy")
        .policy()
        .expect("policy")
}

/// Replaces the policy through the API, expecting a refusal; its message.
async fn put_refused(api: &mut common::Browser, token: &str, body: &serde_json::Value) -> String {
    let (status, answer) = put(api, token, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    answer["error"].as_str().expect("an error").to_owned()
}

async fn revision(school: &School) -> i64 {
    school
        .store
        .current_policy()
        .await
        .expect("read")
        .expect("a policy")
        .number
}

/// The settings form's fields for ks2 as shipped, with `categories` blocked.
fn settings<'a>(categories: &[&'a str], reason: &'a str, base: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields: Vec<(&str, &str)> = categories.iter().map(|c| ("category", *c)).collect();
    fields.extend([
        ("search", "enforced"),
        ("youtube", "strict"),
        ("block_ip_addresses", "on"),
        ("reason", reason),
        ("base", base),
    ]);
    fields
}

fn ks2_blocked() -> Vec<&'static str> {
    default_policy()
        .profile("ks2")
        .expect("ks2")
        .blocked_categories
        .iter()
        .map(Category::id)
        .collect()
}

#[tokio::test]
async fn a_change_without_a_reason_is_refused_with_the_form_kept_and_nothing_changed() {
    let school = school().await;
    let mut tech = school.signed_in("t.tech").await;
    let page = tech.get("/policy/profiles/ks2").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("Reason for this change (your risk assessment, §7.3.1)")
    );
    let mut wanted = ks2_blocked();
    wanted.retain(|c| *c != "games");

    let refused = tech
        .post(
            "/policy/profiles/ks2/settings",
            &settings(&wanted, "   ", "1"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("Give a reason"), "{}", refused.body);
    assert!(
        refused.body.contains("nothing was saved"),
        "{}",
        refused.body
    );
    // What they ticked is still ticked, and games still unticked.
    assert!(
        refused
            .body
            .contains(r#"id="block-gambling" name="category" value="gambling" checked"#),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains(r#"id="block-games" name="category" value="games" aria-describedby"#),
        "{}",
        refused.body
    );
    assert_eq!(revision(&school).await, 1);
    let ks2 = policy_now(&school).await;
    assert!(
        ks2.profile("ks2")
            .expect("ks2")
            .blocked_categories
            .contains(Category::from_id("games").expect("games"))
    );
}

#[tokio::test]
async fn a_change_with_a_reason_is_in_the_history_with_who_why_and_what() {
    let school = school().await;
    let mut tech = school.signed_in("t.tech").await;
    tech.get("/policy/profiles/ks2").await;
    let mut wanted = ks2_blocked();
    wanted.retain(|c| *c != "games");
    let saved = tech
        .post(
            "/policy/profiles/ks2/settings",
            &settings(
                &wanted,
                "Year 5 coding club uses game sites; risk low, supervised",
                "1",
            ),
        )
        .await;
    saved.redirects_to("/policy/profiles/ks2?saved=2");
    let page = tech.get("/policy/profiles/ks2?saved=2").await;
    assert!(page.body.contains("Saved as revision 2"), "{}", page.body);

    // The DSL sees it in the history: who, when, why, what.
    let mut dsl = school.signed_in("d.lead").await;
    let history = dsl.get("/policy/history").await;
    assert_eq!(history.status, StatusCode::OK);
    let body = &history.body;
    let two = body.find("Revision 2").expect("revision 2");
    let one = body.find("Revision 1").expect("revision 1");
    assert!(two < one, "newest first");
    assert!(body.contains("t.tech"), "{body}");
    assert!(
        body.contains("Year 5 coding club uses game sites"),
        "{body}"
    );
    assert!(
        body.contains("profile ks2: blocked_categories removed games"),
        "{body}"
    );
    // School time, in words.
    assert!(
        body.contains(
            &school.console.show_time(
                school
                    .store
                    .policy_revision(2)
                    .await
                    .expect("read")
                    .expect("two")
                    .at
            )
        )
    );

    let full = dsl.get("/policy/history/2").await;
    assert_eq!(full.status, StatusCode::OK);
    assert!(
        full.body.contains("This is the policy in force"),
        "{}",
        full.body
    );
    assert!(full.body.contains("[[profile]]"), "{}", full.body);
    assert!(full.body.contains("blocked_categories removed games"));
    assert_eq!(
        dsl.get("/policy/history/99").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        dsl.get("/policy/history/x").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_change_from_an_older_revision_is_refused_and_the_form_kept() {
    let school = school().await;
    let mut first = school.signed_in("t.tech").await;
    let mut second = school.signed_in("t.other").await;
    first.get("/policy/profiles/ks2").await;
    let page = second.get("/policy/profiles/ks2").await;
    assert!(
        page.body.contains(r#"name="base" value="1""#),
        "{}",
        page.body
    );

    let mut fewer = ks2_blocked();
    fewer.retain(|c| *c != "games");
    first
        .post(
            "/policy/profiles/ks2/settings",
            &settings(&fewer, "coding club", "1"),
        )
        .await
        .redirects_to("/policy/profiles/ks2?saved=2");

    let mut more = ks2_blocked();
    let extra = Category::all()
        .iter()
        .map(|c| c.id())
        .find(|c| !more.contains(c))
        .expect("a category ks2 allows");
    more.push(extra);
    let stale = second
        .post(
            "/policy/profiles/ks2/settings",
            &settings(&more, "pupils buying things in lessons", "1"),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(
        stale.body.contains("Someone else changed the policy"),
        "{}",
        stale.body
    );
    assert!(
        stale.body.contains("pupils buying things in lessons"),
        "the reason is kept"
    );
    assert!(
        stale.body.contains(r#"value="shopping" checked"#),
        "the ticks are kept"
    );
    // The form now says it is based on the newest revision.
    assert!(
        stale.body.contains(r#"name="base" value="2""#),
        "{}",
        stale.body
    );
    assert_eq!(revision(&school).await, 2);
    let policy = policy_now(&school).await;
    assert!(
        !policy
            .profile("ks2")
            .expect("ks2")
            .blocked_categories
            .contains(Category::from_id(extra).expect("extra"))
    );
}

#[tokio::test]
async fn overrides_are_checked_and_removed_with_a_reason() {
    let school = school().await;
    let mut tech = school.signed_in("t.tech").await;
    tech.get("/policy/profiles/ks2").await;
    let bad = tech
        .post(
            "/policy/profiles/ks2/overrides",
            &[
                ("list", "deny"),
                ("entry", "http//bad"),
                ("reason", "a bad site"),
                ("base", "1"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Site or page:"), "{}", bad.body);
    assert!(bad.body.contains("mistyped"), "{}", bad.body);
    assert!(
        bad.body.contains(r#"value="http&#x2f;&#x2f;bad""#),
        "the entry is kept"
    );
    assert!(
        bad.body.contains("a bad site</textarea>"),
        "the reason is kept"
    );
    assert_eq!(revision(&school).await, 1);

    tech.post(
        "/policy/profiles/ks2/overrides",
        &[
            ("list", "deny"),
            ("entry", "https://www.Roblox.com"),
            ("reason", "chat with strangers seen in Year 4"),
            ("base", "1"),
        ],
    )
    .await
    .redirects_to("/policy/profiles/ks2?saved=2");
    let page = tech.get("/policy/profiles/ks2").await;
    assert!(
        page.body.contains("Always blocked: www.roblox.com"),
        "{}",
        page.body
    );

    let no_reason = tech
        .post(
            "/policy/profiles/ks2/overrides/remove",
            &[
                ("item", "deny www.roblox.com"),
                ("reason", ""),
                ("base", "2"),
            ],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(revision(&school).await, 2);
    tech.post(
        "/policy/profiles/ks2/overrides/remove",
        &[
            ("item", "deny www.roblox.com"),
            ("reason", "the chat feature is off now"),
            ("base", "2"),
        ],
    )
    .await
    .redirects_to("/policy/profiles/ks2?saved=3");
    let history = school.store.policy_history(1).await.expect("history");
    assert_eq!(
        history[0].changes,
        ["profile ks2: deny removed www.roblox.com"]
    );
}

#[tokio::test]
async fn time_windows_are_added_changed_and_removed() {
    let school = school().await;
    let mut tech = school.signed_in("t.tech").await;
    tech.get("/policy/profiles/ks2").await;
    let backwards = tech
        .post(
            "/policy/profiles/ks2/schedules",
            &[
                ("name", "Golden time"),
                ("day", "fri"),
                ("from", "15:00"),
                ("to", "14:00"),
                ("allow", "games"),
                ("reason", "reward time"),
                ("base", "1"),
            ],
        )
        .await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);
    assert!(
        backwards.body.contains("the end must be later"),
        "{}",
        backwards.body
    );
    assert!(backwards.body.contains(r#"value="Golden time""#));

    tech.post(
        "/policy/profiles/ks2/schedules",
        &[
            ("name", "Golden time"),
            ("day", "fri"),
            ("from", "14:00"),
            ("to", "15:00"),
            ("allow", "games"),
            ("reason", "reward time on Friday afternoons"),
            ("base", "1"),
        ],
    )
    .await
    .redirects_to("/policy/profiles/ks2?saved=2");
    let edit = tech
        .get("/policy/profiles/ks2?schedule=Golden%20time")
        .await;
    assert!(
        edit.body.contains("Change the time window Golden time"),
        "{}",
        edit.body
    );
    assert!(edit.body.contains(r#"value="fri" checked"#));
    tech.post(
        "/policy/profiles/ks2/schedules",
        &[
            ("original", "Golden time"),
            ("name", "Golden time"),
            ("day", "fri"),
            ("from", "14:00"),
            ("to", "15:15"),
            ("allow", "games"),
            ("reason", "a longer session"),
            ("base", "2"),
        ],
    )
    .await
    .redirects_to("/policy/profiles/ks2?saved=3");
    let history = school.store.policy_history(1).await.expect("history");
    assert_eq!(
        history[0].changes,
        ["profile ks2: schedule Golden time: to changed from 15:00 to 15:15"]
    );
    tech.post(
        "/policy/profiles/ks2/schedules/remove",
        &[
            ("item", "Golden time"),
            ("reason", "club ended"),
            ("base", "3"),
        ],
    )
    .await
    .redirects_to("/policy/profiles/ks2?saved=4");
    let policy = policy_now(&school).await;
    assert!(policy.profile("ks2").expect("ks2").schedules.is_empty());
}

#[tokio::test]
async fn statutory_lists_are_status_only_and_cannot_be_switched_off() {
    let school = school().await;
    school
        .store
        .record_statutory(&store::StatutoryRecord {
            kind: "iwf".into(),
            entries: 1234,
            fingerprint: "9f86d081884c7d65".into(),
            form: "hashes".into(),
            loaded_at: school.now(),
            actor: "t.tech".into(),
        })
        .await
        .expect("record");
    let mut tech = school.signed_in("t.tech").await;
    let page = tech.get("/policy").await;
    assert_eq!(page.status, StatusCode::OK);
    let statutory = page
        .between("<h2 id=\"statutory-heading\">", "<h2 id=\"lists-heading\">")
        .expect("the statutory section");
    assert!(statutory.contains("cannot be switched off"), "{statutory}");
    assert!(statutory.contains("1234"), "{statutory}");
    assert!(statutory.contains("9f86d081884c7d65"), "{statutory}");
    assert!(statutory.contains("Not loaded yet"), "CTIRU: {statutory}");
    assert!(!statutory.contains("<form"), "no control: {statutory}");
    assert!(!statutory.contains("<button"), "no control: {statutory}");

    // No route that changes anything mentions statutory lists.
    for route in console::routes::table::<store::sqlite::SqliteStore>() {
        if route.entry.method != Method::GET {
            assert!(
                !route.entry.path.contains("statutory"),
                "{}",
                route.entry.path
            );
        }
    }

    // The policy format has no switch for them, so the API refuses one.
    let token = school.api_token("t.tech").await;
    let mut api = school.browser();
    let (_, current) = api.json(Method::GET, "/api/v1/policy", &token, None).await;
    let mut document = current["document"].as_str().expect("toml").to_owned();
    document = document.replacen("[school]", "[school]\nstatutory_lists = false", 1);
    let error = put_refused(
        &mut api,
        &token,
        &json!({ "base_revision": 1, "reason": "try", "document": document }),
    )
    .await;
    assert!(error.contains("statutory_lists"), "{error}");
    let mut as_json = current["policy"].clone();
    as_json["profile"][1]["statutory"] = json!(false);
    let error = put_refused(
        &mut api,
        &token,
        &json!({ "base_revision": 1, "reason": "try", "policy": as_json }),
    )
    .await;
    assert!(error.contains("statutory"), "{error}");
    assert_eq!(revision(&school).await, 1);

    let (status, lists) = api.json(Method::GET, "/api/v1/lists", &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lists["statutory_always_on"], json!(true));
    assert_eq!(lists["statutory"][0]["entries"], json!(1234));
}

#[tokio::test]
async fn test_a_url_gives_the_verdict_for_a_profile_and_for_a_person() {
    let school = school().await;
    school
        .store
        .save_person(
            &Person {
                username: "k.pupil".into(),
                display_name: "Kit Pupil".into(),
                profile: "ks2".into(),
                password_hash: None,
                disabled: false,
            },
            "test",
        )
        .await
        .expect("person");
    let mut dsl = school.signed_in("d.lead").await;
    let page = dsl.get("/policy/test").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Address to test"));

    let blocked = dsl
        .get("/policy/test?url=https%3A%2F%2Fwww.bet365.com%2F&profile=ks2&person=&at=2026-11-18T09%3A15")
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.body);
    assert!(blocked.body.contains("Blocked"), "{}", blocked.body);
    assert!(
        blocked.body.contains("category:gambling"),
        "{}",
        blocked.body
    );
    assert!(
        blocked
            .body
            .contains("bet365.com in ut1&#x2f;gambling (gambling)"),
        "{}",
        blocked.body
    );

    let person = dsl
        .get("/policy/test?url=roblox.com&profile=&person=k.pupil&at=2026-11-18T09%3A15")
        .await;
    assert!(
        person.body.contains("Kit Pupil (k.pupil)"),
        "{}",
        person.body
    );
    assert!(person.body.contains("category:games"), "{}", person.body);

    // Staff at lunch, in school time: the Lunch window allows social media.
    let lunch = dsl
        .get("/policy/test?url=facebook.com&profile=staff&at=2026-11-18T12%3A15")
        .await;
    assert!(lunch.body.contains("schedule:Lunch"), "{}", lunch.body);
    assert!(lunch.body.contains(">Allowed<"), "{}", lunch.body);

    // A statutory hit says a statutory list matched, and never the entry.
    let statutory = dsl
        .get("/policy/test?url=http%3A%2F%2Fstatutory-example.test%2Fhidden%2Fpage&profile=staff")
        .await;
    assert!(
        statutory.body.contains("statutory:iwf"),
        "{}",
        statutory.body
    );
    assert!(
        statutory.body.contains("A statutory list matched"),
        "{}",
        statutory.body
    );
    assert!(!statutory.body.contains("Listed as"), "{}", statutory.body);
    assert!(
        !statutory.body.contains("ut1/gambling-too"),
        "{}",
        statutory.body
    );

    let nobody = dsl.get("/policy/test?url=roblox.com&person=n.nobody").await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST);
    assert!(
        nobody.body.contains("no person with the username"),
        "{}",
        nobody.body
    );
    let both = dsl
        .get("/policy/test?url=roblox.com&profile=ks2&person=k.pupil")
        .await;
    assert!(both.body.contains("not both"), "{}", both.body);

    // The API, with a personal token.
    let token = school.api_token("d.lead").await;
    let (status, answer) = dsl
        .json(
            Method::POST,
            "/api/v1/check",
            &token,
            Some(&json!({ "url": "roblox.com", "username": "k.pupil", "at": "2026-11-18T09:15:00Z" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["verdict"], json!("block"));
    assert_eq!(answer["rule"], json!("category:games"));
    assert_eq!(answer["profile"], json!("ks2"));
    let (status, answer) = dsl
        .json(
            Method::POST,
            "/api/v1/check",
            &token,
            Some(&json!({ "url": "http//", "profile": "nope" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .expect("error")
            .starts_with("profile:"),
        "{answer}"
    );
}

#[tokio::test]
async fn without_a_checker_the_test_page_says_checking_is_unavailable() {
    let school = School::new().await;
    school.default_policy().await;
    school.account("t.tech", "technician", false).await;
    let mut tech = school.signed_in("t.tech").await;
    let page = tech.get("/policy/test?url=example.com&profile=ks2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Checking addresses is not available here"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn technicians_edit_the_dsl_views_and_staff_and_governors_are_kept_out() {
    let school = school().await;
    let mut tech = school.signed_in("t.tech").await;
    let page = tech.get("/policy/profiles/ks2").await;
    assert!(page.body.contains("Save these settings"));
    let overview = tech.get("/policy").await;
    assert!(overview.body.contains("Filtering policy"));
    assert!(overview.body.contains("Test a URL"));

    for viewer in ["d.lead", "h.head"] {
        let mut browser = school.signed_in(viewer).await;
        let page = browser.get("/policy/profiles/ks2").await;
        assert_eq!(page.status, StatusCode::OK, "{viewer}");
        assert!(!page.body.contains("Save these settings"), "{viewer}");
        assert!(!page.body.contains("name=\"reason\""), "{viewer}");
        let refused = browser
            .post(
                "/policy/profiles/ks2/settings",
                &settings(&["gambling"], "I would like to", "1"),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{viewer}");
    }
    for outsider in ["s.teacher", "g.governor"] {
        let mut browser = school.signed_in(outsider).await;
        assert_eq!(browser.get("/policy").await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            browser.get("/policy/history").await.status,
            StatusCode::FORBIDDEN
        );
        let home = browser.get("/").await;
        assert!(!home.body.contains("Filtering policy"), "{outsider}");
    }
    assert_eq!(revision(&school).await, 1);
}

#[tokio::test]
async fn the_api_reads_and_replaces_the_policy_with_a_reason_from_a_known_revision() {
    let school = school().await;
    let token = school.api_token("t.tech").await;
    let mut api = school.browser();
    let (status, current) = api.json(Method::GET, "/api/v1/policy", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{current}");
    assert_eq!(current["revision"], json!(1));
    assert!(
        current["document"]
            .as_str()
            .expect("toml")
            .contains("[school]")
    );

    let mut changed = current["policy"].clone();
    changed["school"]["name"] = json!("Ash Grove Primary");
    let no_reason = json!({ "base_revision": 1, "reason": " ", "policy": changed });
    let error = put_refused(&mut api, &token, &no_reason).await;
    assert!(error.starts_with("reason:"), "{error}");

    let mut bad = changed.clone();
    bad["profile"][1]["deny"] = json!(["http//bad"]);
    let error = put_refused(
        &mut api,
        &token,
        &json!({ "base_revision": 1, "reason": "block it", "policy": bad }),
    )
    .await;
    assert!(
        error.contains("(ks2).deny[0]") && error.contains("mistyped"),
        "{error}"
    );

    let good = json!({ "base_revision": 1, "reason": "the school's real name", "policy": changed });
    let (status, saved) = put(&mut api, &token, &good).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["revision"], json!(2));
    assert_eq!(saved["actor"], json!("t.tech"));
    assert_eq!(
        saved["changes"],
        json!(["school: name changed from Our school to Ash Grove Primary"])
    );

    // The same again from revision 1 is stale.
    let (status, answer) = put(&mut api, &token, &good).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .expect("error")
            .contains("revision 2"),
        "{answer}"
    );

    // As TOML: the document as exported, edited, sent back.
    let (_, now) = api.json(Method::GET, "/api/v1/policy", &token, None).await;
    let document = now["document"]
        .as_str()
        .expect("toml")
        .replace("Ash Grove Primary", "Ash Grove Primary School");
    let (status, saved) = put(
        &mut api,
        &token,
        &json!({ "base_revision": 2, "reason": "the full name", "document": document }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["revision"], json!(3));
    let error = put_refused(
        &mut api,
        &token,
        &json!({ "base_revision": 3, "reason": "oops", "document": "[school]\nname = \"x\"" }),
    )
    .await;
    assert!(error.starts_with("document:"), "{error}");

    let (status, history) = api
        .json(Method::GET, "/api/v1/policy/history", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history[0]["revision"], json!(3));
    assert_eq!(history[1]["reason"], json!("the school's real name"));
    assert_eq!(history[2]["revision"], json!(1));

    // A DSL's token reads but cannot change.
    let dsl = school.api_token("d.lead").await;
    let (status, _) = api.json(Method::GET, "/api/v1/policy", &dsl, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = put(&mut api, &dsl, &good).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let staff = school.api_token("s.teacher").await;
    let (status, _) = api.json(Method::GET, "/api/v1/policy", &staff, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
