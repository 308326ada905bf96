//! Reports and the filter self-test in the console: the weekly report and
//! its CSV for the DSL roles, the governors' report with no names and small
//! numbers hidden, and the self-test recorded in the check log. The URL
//! checker is a real engine over real UT1 entries (Université Toulouse
//! Capitole, CC BY-SA 4.0).

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use classify::index::IndexBuilder;
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::taxonomy::Category;
use common::School;
use jiff::{SignedDuration, Timestamp};
use policy::defaults::default_policy;
use policy::{Engine, Lists};
use records::registers::{Entry, Register};
use store::{ActivityEvent, Source, Store};

fn at(day: &str, hour: i64) -> Timestamp {
    reports::period::day_start(day.parse().expect("date")) + SignedDuration::from_hours(hour)
}

fn blocked(at: Timestamp, who: &str, host: &str, categories: &str) -> ActivityEvent {
    ActivityEvent {
        at,
        source: Source::Proxy,
        client_ip: "10.0.5.17".into(),
        username: Some(who.into()),
        device: None,
        profile: "ks2".into(),
        method: "GET".into(),
        url: format!("https://{host}/"),
        host: host.into(),
        search_term: None,
        categories: categories.into(),
        verdict: "block".into(),
        rule: "category".into(),
        status: Some(403),
        bytes: 0,
        duration_ms: 1,
        reference: None,
    }
}

async fn seeded() -> School {
    seed(School::new().await).await
}

async fn seed(school: School) -> School {
    for (name, role) in [
        ("dsl", "dsl"),
        ("governor", "governor"),
        ("tech", "technician"),
    ] {
        school.account(name, role, true).await;
    }
    let mut events: Vec<ActivityEvent> = (0..6)
        .map(|i| {
            blocked(
                at("2026-11-02", 9 + i),
                "tobias.lindqvist",
                "bet.example",
                "gambling",
            )
        })
        .collect();
    events.push(blocked(
        at("2026-11-03", 9),
        "tobias.lindqvist",
        "=vpn.example",
        "vpn",
    ));
    events.push(blocked(
        at("2026-11-04", 9),
        "amara.okafor",
        "=cmd.example",
        "pornography",
    ));
    school.store.record_activity(&events).await.expect("record");
    school
}

#[tokio::test]
async fn the_weekly_report_and_its_csv_for_the_dsl() {
    let school = seeded().await;
    let mut dsl = school.signed_in("dsl").await;
    let page = dsl.get("/reports/weekly?from=2026-11-02").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("tobias.lindqvist"));
    assert!(page.body.contains("circumvention"));
    assert!(
        page.body.contains("8 attempts by 2 people or devices"),
        "{}",
        page.body
    );
    let csv = dsl.get("/reports/weekly.csv?from=2026-11-02").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .expect("cd")
            .contains("restricted-attempts-2026-11-02.csv")
    );
    assert!(
        csv.body
            .contains("\r\ntobias.lindqvist,tobias.lindqvist,,,gambling,6,"),
        "{}",
        csv.body
    );
    // A cell a spreadsheet would run as a formula is made inert.
    assert!(csv.body.contains(",'=cmd.example (1),"), "{}", csv.body);
    // A week with nothing in it says so; a bad date says how to write one.
    assert!(
        dsl.get("/reports/weekly?from=2026-10-05")
            .await
            .body
            .contains("No attempts")
    );
    let bad = dsl.get("/reports/weekly?from=2026-02-30").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("year-month-day"));
    // Governors never reach it.
    let mut governor = school.signed_in("governor").await;
    assert_eq!(
        governor.get("/reports/weekly?from=2026-11-02").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        governor
            .get("/reports/weekly.csv?from=2026-11-02")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// The policy's `school.timezone`, changed by the test as a reload would.
struct PolicyZone(std::sync::Mutex<jiff::tz::TimeZone>);

impl console::SchoolTimeZone for PolicyZone {
    fn time_zone(&self) -> jiff::tz::TimeZone {
        self.0.lock().expect("zone").clone()
    }
}

#[tokio::test]
async fn the_weekly_report_follows_the_schools_time_zone() {
    let zone = |name| jiff::tz::TimeZone::get(name).expect("zone");
    let policy = Arc::new(PolicyZone(std::sync::Mutex::new(zone("Europe/London"))));
    let school = seed(School::with_time_zone(policy.clone()).await).await;
    // 01:30 on Monday 2 November in London is 20:30 on Sunday 1 November
    // in New York: in London's week, not New York's.
    let early = at("2026-11-02", 0) + SignedDuration::from_mins(90);
    school
        .store
        .record_activity(&[blocked(early, "early.bird", "bet.example", "gambling")])
        .await
        .expect("record");
    let mut dsl = school.signed_in("dsl").await;
    let london = dsl.get("/reports/weekly.csv?from=2026-11-02").await.body;
    assert!(london.contains("early.bird"), "{london}");
    // Six attempts from 09:00 to 14:00.
    assert!(london.contains("Mon 2 Nov 2026 14:00"), "{london}");

    *policy.0.lock().expect("zone") = zone("America/New_York");
    let new_york = dsl.get("/reports/weekly.csv?from=2026-11-02").await.body;
    assert!(!new_york.contains("early.bird"), "{new_york}");
    // 09:00 to 14:00 in London is 04:00 to 09:00 in New York.
    assert!(
        new_york.contains("Mon 2 Nov 2026 04:00,Mon 2 Nov 2026 09:00"),
        "{new_york}"
    );
    assert!(!new_york.contains("14:00"), "{new_york}");
}

#[tokio::test]
async fn governors_see_counts_without_names_and_small_numbers_hidden() {
    let school = seeded().await;
    let mut governor = school.signed_in("governor").await;
    let page = governor.get("/reports/governors?term=2026-autumn").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("Online safety report to governors: Autumn term 2026")
    );
    assert!(
        !page.body.contains("tobias") && !page.body.contains("amara"),
        "no names"
    );
    // gambling 6 shown, vpn 1 and pornography 1 hidden, and the total a range.
    assert!(
        page.body
            .contains("<td>gambling</td><td class=\"n\">6</td>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<td>vpn</td><td class=\"n\">fewer than 5</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("between 8 and 14"), "{}", page.body);
    assert!(!page.body.contains(">8<"));
    assert!(page.body.contains("<svg"));
    let bad = governor.get("/reports/governors?term=2026-winter").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("2026-autumn"));
    // The clock is in January 2027: the default is the autumn term just gone.
    assert!(
        governor
            .get("/reports/governors")
            .await
            .body
            .contains("Autumn term 2026")
    );
    if console::pdf::chromium().is_some() {
        let pdf = governor
            .get("/reports/governors.pdf?term=2026-autumn")
            .await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(pdf.headers["content-type"], "application/pdf");
        assert!(pdf.body.starts_with("%PDF"));
    }
    let mut tech = school.signed_in("tech").await;
    assert_eq!(
        tech.get("/reports/governors?term=2026-autumn").await.status,
        StatusCode::FORBIDDEN
    );
}

fn engine(block_pornography: bool) -> Engine {
    let mut b = IndexBuilder::new();
    let mut add = |name: &str, category: &str, domains: &[&str], urls: &[&str]| {
        b.add_list(
            name,
            Some(Category::from_id(category).expect("category")),
            domains.iter().copied(),
            urls.iter().copied(),
        )
        .expect("add");
    };
    add("ut1/porn", "pornography", &[], &["020sextoy.com/sk"]);
    add("ut1/agressif", "hate-speech", &["stormfront.org"], &[]);
    add("ut1/gambling", "gambling", &["bet365.com"], &[]);
    add("ut1/vpn", "vpn", &["nordvpn.com"], &[]);
    add("ut1/redirector", "proxy", &["kproxy.com"], &[]);
    let statutory = |kind| {
        StatutoryList::parse(kind, "test", b"http://statutory-example.test/hidden/page\n")
            .expect("statutory")
    };
    let lists = Lists {
        index: b.build(),
        statutory: vec![
            statutory(StatutoryKind::Iwf),
            statutory(StatutoryKind::Ctiru),
        ],
    };
    let mut policy = default_policy();
    if !block_pornography {
        for profile in &mut policy.profiles {
            if profile.id == "ks2" {
                profile
                    .blocked_categories
                    .remove(Category::from_id("pornography").expect("category"));
            }
        }
    }
    Engine::new(policy, Arc::new(lists)).expect("engine")
}

async fn selftest(block_pornography: bool) -> (School, String) {
    let school = School::with_checker(Arc::new(engine(block_pornography))).await;
    school.default_policy().await;
    school.account("tech", "technician", true).await;
    let mut tech = school.signed_in("tech").await;
    assert!(
        tech.get("/checks/selftest")
            .await
            .body
            .contains("Key Stage 2")
    );
    let page = tech.post("/checks/selftest", &[("profile", "ks2")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    (school, page.body)
}

#[tokio::test]
async fn the_selftest_is_recorded_and_fails_when_adult_content_gets_through() {
    let (school, body) = selftest(true).await;
    assert!(
        body.contains("1 without list coverage"),
        "self-harm has no list: {body}"
    );
    assert!(body.contains("0 failed"), "{body}");
    let (bad_school, bad) = selftest(false).await;
    assert!(bad.contains("1 failed"), "{bad}");
    assert!(bad.contains("let through"), "{bad}");
    for (school, expect) in [
        (&school, "failed: ks2: 12 passed, 0 failed"),
        (&bad_school, "failed: ks2: 11 passed, 1 failed"),
    ] {
        let checks = school
            .store
            .register_entries(Register::FilteringChecks)
            .await
            .expect("log");
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].actor, "tech");
        match &checks[0].entry {
            Entry::FilteringCheck { result, tested, .. } => {
                assert!(result.starts_with(expect), "{result}");
                assert!(tested.contains("profile ks2"));
            }
            other => panic!("{other:?}"),
        }
    }
    let mut tech = school.signed_in("tech").await;
    tech.get("/checks/selftest").await;
    assert_eq!(
        tech.post("/checks/selftest", &[("profile", "nope")])
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}
