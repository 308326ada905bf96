//! The activity log in the console: every filter narrows the search,
//! keyset pages neither skip nor repeat events with the same time, the CSV
//! is RFC 4180 and safe to open in a spreadsheet, and the API pages alike.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::School;
use jiff::{SignedDuration, Timestamp};
use store::{ActivityEvent, Source, Store};

fn event(at: Timestamp, who: Option<&str>, url: &str) -> ActivityEvent {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or(url)
        .to_owned();
    ActivityEvent {
        at,
        source: Source::Proxy,
        client_ip: "10.0.5.17".into(),
        username: who.map(str::to_owned),
        device: Some("LAPTOP-07".into()),
        profile: "ks2".into(),
        method: "GET".into(),
        url: url.into(),
        host,
        search_term: None,
        categories: String::new(),
        verdict: "allow".into(),
        rule: "default".into(),
        status: Some(200),
        bytes: 100,
        duration_ms: 5,
        reference: None,
    }
}

async fn school_with_dsl() -> School {
    let school = School::new().await;
    school.account("d.lead", "dsl", true).await;
    school
}

/// `url` of every row on a page, in order.
fn urls(body: &str) -> Vec<String> {
    body.split("<td class=\"address\">")
        .skip(1)
        .map(|rest| rest.split(['<']).next().unwrap_or("").to_owned())
        .collect()
}

/// Undoes the HTML escaping of an attribute.
fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn each_filter_narrows_the_search() {
    let school = school_with_dsl().await;
    let now = school.now();
    let hour = SignedDuration::from_hours(1);
    let mut events = Vec::new();
    // The background: allowed browsing by someone else, over the last day.
    for i in 0..20 {
        events.push(event(
            now - hour * (i + 1),
            Some("cal.pupil"),
            &format!("https://news.example/{i}"),
        ));
    }
    let mut blocked = event(now - hour * 2, Some("ada.pupil"), "https://casino.example/");
    blocked.verdict = "block".into();
    blocked.categories = "gambling,games".into();
    blocked.rule = "category:gambling".into();
    events.push(blocked);
    let mut device = event(now - hour * 3, None, "https://devicesite.example/");
    device.device = Some("IPAD-3".into());
    device.client_ip = "10.0.9.9".into();
    events.push(device);
    let mut dns = event(now - hour * 30, Some("ada.pupil"), "old-dns.example");
    dns.source = Source::Dns;
    dns.categories = "games".into();
    dns.search_term = None;
    events.push(dns);
    let mut search = event(
        now - hour * 4,
        Some("ada.pupil"),
        "https://search.example/?q=how+to",
    );
    search.search_term = Some("how to".into());
    events.push(search);
    school.store.record_activity(&events).await.expect("record");

    let mut dsl = school.signed_in("d.lead").await;
    let all = dsl.get("/activity").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(urls(&all.body).len(), 24);

    let cases: [(&str, &[&str]); 7] = [
        (
            "person=ada.pupil",
            &[
                "https:&#x2f;&#x2f;casino.example&#x2f;",
                "https:&#x2f;&#x2f;search.example&#x2f;?q=how+to",
                "old-dns.example",
            ],
        ),
        (
            "device=IPAD-3",
            &["https:&#x2f;&#x2f;devicesite.example&#x2f;"],
        ),
        (
            "ip=10.0.9.9",
            &["https:&#x2f;&#x2f;devicesite.example&#x2f;"],
        ),
        ("verdict=block", &["https:&#x2f;&#x2f;casino.example&#x2f;"]),
        (
            "category=games",
            &["https:&#x2f;&#x2f;casino.example&#x2f;", "old-dns.example"],
        ),
        (
            "category=gambling&verdict=block",
            &["https:&#x2f;&#x2f;casino.example&#x2f;"],
        ),
        ("source=dns", &["old-dns.example"]),
    ];
    for (query, expected) in cases {
        let page = dsl.get(&format!("/activity?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        assert_eq!(urls(&page.body), expected.to_vec(), "{query}");
    }

    // A time range, typed in the school's time: the last 90 minutes.
    let zone = school.console.settings.time_zone.clone();
    let from = (now - SignedDuration::from_mins(150))
        .to_zoned(zone)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let page = dsl
        .get(&format!("/activity?from={from}&person=cal.pupil"))
        .await;
    assert_eq!(
        urls(&page.body),
        vec![
            "https:&#x2f;&#x2f;news.example&#x2f;0",
            "https:&#x2f;&#x2f;news.example&#x2f;1"
        ]
    );

    // Blocked attempts stand out on the timeline, search terms shown.
    let timeline = dsl.get("/activity/people/ada.pupil").await;
    assert_eq!(timeline.status, StatusCode::OK);
    assert!(timeline.body.contains("class=\"blocked\""));
    assert!(timeline.body.contains("Searched for: how to"));
    assert!(timeline.body.contains("(1 blocked)"), "{}", timeline.body);
    assert!(!timeline.body.contains("news.example"));

    // Bad input names the field and searches nothing.
    let bad = dsl.get("/activity?ip=ten.0.0.1&from=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("&#x27;ten.0.0.1&#x27; is not an IP address"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("is not a date and time"));
    assert!(urls(&bad.body).is_empty());
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_events_with_the_same_time() {
    let school = school_with_dsl().await;
    let now = school.now();
    // 130 events in three instants: pages of 50 cut through each.
    let events: Vec<ActivityEvent> = (0..130)
        .map(|i| {
            event(
                now - SignedDuration::from_secs(i / 50),
                Some("ada.pupil"),
                &format!("https://site.example/{i}"),
            )
        })
        .collect();
    school.store.record_activity(&events).await.expect("record");

    let mut dsl = school.signed_in("d.lead").await;
    let mut seen = Vec::new();
    let mut next = Some("/activity?person=ada.pupil".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let page = dsl.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(urls(&page.body));
        next = page
            .between("<a href=\"", "\" rel=\"next\"")
            .map(|href| unescape(href.rsplit("<a href=\"").next().unwrap_or(&href)));
        pages += 1;
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 130);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        130,
        "no repeats"
    );

    // The API pages the same way.
    let mut api_seen = BTreeSet::new();
    let mut before = String::new();
    loop {
        let page = dsl
            .get(&format!(
                "/api/v1/activity?person=ada.pupil&limit=40&before={before}"
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let value: serde_json::Value = serde_json::from_str(&page.body).expect("json");
        for e in value["events"].as_array().expect("events") {
            assert!(api_seen.insert(e["id"].as_i64().expect("id")));
        }
        match value["older"].as_str() {
            Some(cursor) => before = cursor.to_owned(),
            None => break,
        }
    }
    assert_eq!(api_seen.len(), 130);
    let damaged = dsl.get("/api/v1/activity?before=nonsense").await;
    assert_eq!(damaged.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_csv_is_quoted_and_cannot_carry_formulas() {
    let school = school_with_dsl().await;
    let now = school.now();
    let mut nasty = event(now, Some("ada.pupil"), "https://x.example/a,b");
    nasty.search_term = Some("=HYPERLINK(\"http://evil.example\",\"click\")".into());
    nasty.device = Some("@SUM(A1)".into());
    let mut lines = event(
        now - SignedDuration::from_secs(1),
        Some("ada.pupil"),
        "https://y.example/",
    );
    lines.search_term = Some("two\nlines".into());
    let other = event(now, Some("cal.pupil"), "https://z.example/");
    school
        .store
        .record_activity(&[nasty, lines, other])
        .await
        .expect("record");

    let mut dsl = school.signed_in("d.lead").await;
    let csv = dsl.get("/activity.csv?person=ada.pupil").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(
        csv.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let body = csv.body;
    assert!(body.starts_with("time (school),time (UTC),source,person"));
    let rows: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 3, "{body}");
    assert!(body.contains("\"https://x.example/a,b\""));
    assert!(
        body.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
        "{body}"
    );
    assert!(body.contains(",'@SUM(A1),"), "{body}");
    assert!(body.contains("\"two\nlines\""));
    assert!(!body.contains("z.example"), "the search applies");

    // Bigger than a slice: every event arrives once.
    let many: Vec<ActivityEvent> = (0..2500)
        .map(|i| {
            event(
                now - SignedDuration::from_millis(i),
                Some("bulk.pupil"),
                &format!("https://b.example/{i}"),
            )
        })
        .collect();
    school.store.record_activity(&many).await.expect("record");
    let all = dsl.get("/activity.csv?person=bulk.pupil").await;
    assert_eq!(
        all.body.split("\r\n").filter(|l| !l.is_empty()).count(),
        2501
    );
}

#[tokio::test]
async fn staff_and_governors_cannot_see_activity() {
    let school = School::new().await;
    school.account("s.teacher", "staff", false).await;
    school.account("g.governor", "governor", false).await;
    school.account("a.admin", "administrator", true).await;
    for who in ["s.teacher", "g.governor", "a.admin"] {
        let mut browser = school.signed_in(who).await;
        for path in [
            "/activity",
            "/activity.csv",
            "/activity/people/ada.pupil",
            "/api/v1/activity",
        ] {
            assert_eq!(
                browser.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{who} {path}"
            );
        }
    }
}
