//! Monitoring alerts: storing a pass with its cursor, folding repeats,
//! triage decisions (append-only, applied only from the state they were
//! made from), escalation to a concern, and the phrase library's history.

use jiff::{Timestamp, ToSpan};
use records::{NewConcern, PupilRef, Role};
use store::sqlite::SqliteStore;
use store::{
    ActivityEvent, AlertBatch, AlertFilter, AlertFold, AlertTriage, NewAlert, Source, Store,
    StoreError,
};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    (dir, store)
}

fn now() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().expect("time")
}

fn event(term: &str) -> ActivityEvent {
    ActivityEvent {
        at: now(),
        source: Source::Proxy,
        client_ip: "10.0.5.17".into(),
        username: Some("amara.okafor".into()),
        device: Some("LAPTOP-07".into()),
        profile: "ks3".into(),
        method: "GET".into(),
        url: format!("http://www.google.com/search?q={term}"),
        host: "www.google.com".into(),
        search_term: Some(term.into()),
        categories: "search-engines".into(),
        verdict: "allow".into(),
        rule: "default".into(),
        status: Some(200),
        bytes: 10,
        duration_ms: 3,
        reference: None,
    }
}

fn alert(id: i64, category: &str, severity: u8, key: Option<&str>) -> NewAlert {
    NewAlert {
        id,
        raised_at: now(),
        person: Some("amara.okafor".into()),
        device: Some("LAPTOP-07".into()),
        client_ip: "10.0.5.17".into(),
        category: category.into(),
        severity,
        signal: if key.is_some() { "phrase" } else { "blocked" }.into(),
        phrase_key: key.map(String::from),
        phrase: key.map(|_| "how to kill myself".into()),
        term: key.map(|_| "how to kill myself".into()),
        url: None,
        count: 1,
        first_at: now(),
        last_at: now(),
        first_event: id,
        last_event: id,
        routing: if severity >= 4 { "immediate" } else { "daily" }.into(),
    }
}

fn decision(alert: i64, state: &str, reason: &str) -> AlertTriage {
    AlertTriage {
        alert,
        state: state.into(),
        actor: "d.lead".into(),
        at: now() + 1.hour(),
        reason: reason.into(),
        concern: None,
    }
}

#[tokio::test]
async fn the_monitors_own_connection_reads_what_the_proxy_wrote_with_a_small_cache() {
    let (dir, store) = store().await;
    let own = SqliteStore::open_background(&dir.path().join("t.db"))
        .await
        .expect("open background");
    store
        .record_activity(&[event("one"), event("two")])
        .await
        .expect("activity");
    let read = own.monitor_read(0, 10, &[]).await.expect("read");
    assert_eq!(read.events.len(), 2);
    assert_eq!(read.events[1].1.search_term.as_deref(), Some("two"));
    // What it writes, the proxy's connections see.
    own.record_alerts(&AlertBatch {
        raised: vec![],
        folded: vec![],
        cursor: read.read_to,
    })
    .await
    .expect("record");
    assert_eq!(store.monitor_cursor().await.expect("cursor"), 2);
    let cache = |store: SqliteStore| async move {
        sqlx::query_scalar::<_, i64>("PRAGMA cache_size")
            .fetch_one(store.pool())
            .await
            .expect("pragma")
    };
    assert_eq!(cache(own.clone()).await, -2048);
    assert_eq!(cache(store.clone()).await, -32768);
    own.close().await;
}

#[tokio::test]
async fn a_pass_is_stored_with_its_cursor_and_repeats_fold() {
    let (_dir, store) = store().await;
    store
        .record_activity(&[event("one"), event("two"), event("three")])
        .await
        .expect("activity");
    assert_eq!(store.monitor_cursor().await.expect("cursor"), 0);
    let first = store.monitor_read(0, 2, &[]).await.expect("read");
    assert_eq!(
        first.events.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(first.events[1].1.search_term.as_deref(), Some("two"));
    // A full batch: the read ends at its last event, not the log's end,
    // and says how far the log goes (one event left behind).
    assert_eq!(first.read_to, 2);
    assert_eq!(first.newest, 3);

    store
        .record_alerts(&AlertBatch {
            raised: vec![alert(
                1,
                "self-harm",
                5,
                Some("self-harm/en/how to kill myself"),
            )],
            folded: vec![],
            cursor: 2,
        })
        .await
        .expect("record");
    assert_eq!(store.monitor_cursor().await.expect("cursor"), 2);
    assert_eq!(store.last_alert_id().await.expect("last"), 1);
    let rest = store.monitor_read(2, 100, &[]).await.expect("read");
    assert_eq!(rest.events.len(), 1);
    assert_eq!(rest.read_to, 3);
    assert_eq!(rest.newest, 3);

    store
        .record_alerts(&AlertBatch {
            raised: vec![],
            folded: vec![AlertFold {
                alert: 1,
                count: 2,
                last_at: now() + 5.minutes(),
                event: 3,
            }],
            cursor: 3,
        })
        .await
        .expect("fold");
    let stored = store.alert(1).await.expect("get").expect("some");
    assert_eq!(stored.alert.count, 2);
    assert_eq!(stored.alert.last_event, 3);
    assert_eq!(stored.alert.last_at, now() + 5.minutes());
    assert_eq!(stored.state, "new");
    // The cursor never goes back.
    store
        .record_alerts(&AlertBatch {
            cursor: 1,
            ..AlertBatch::default()
        })
        .await
        .expect("record");
    assert_eq!(store.monitor_cursor().await.expect("cursor"), 3);
}

#[tokio::test]
async fn a_failed_pass_stores_nothing_and_keeps_the_cursor() {
    let (_dir, store) = store().await;
    store
        .record_alerts(&AlertBatch {
            raised: vec![alert(1, "drugs", 2, None)],
            folded: vec![],
            cursor: 5,
        })
        .await
        .expect("record");
    // The same id again breaks the batch: neither the new alert nor the
    // cursor move is kept.
    let err = store
        .record_alerts(&AlertBatch {
            raised: vec![alert(2, "hate", 2, None), alert(1, "drugs", 2, None)],
            folded: vec![],
            cursor: 9,
        })
        .await;
    assert!(err.is_err());
    assert_eq!(store.monitor_cursor().await.expect("cursor"), 5);
    assert!(store.alert(2).await.expect("get").is_none());
}

#[tokio::test]
async fn alerts_filter_and_page_newest_first() {
    let (_dir, store) = store().await;
    let raised = (1..=5)
        .map(|id| {
            let category = if id % 2 == 0 { "drugs" } else { "self-harm" };
            alert(id, category, u8::try_from(id).expect("small"), None)
        })
        .collect();
    store
        .record_alerts(&AlertBatch {
            raised,
            folded: vec![],
            cursor: 5,
        })
        .await
        .expect("record");
    let ids =
        |alerts: Vec<store::StoredAlert>| alerts.iter().map(|a| a.alert.id).collect::<Vec<_>>();
    let all = AlertFilter {
        limit: 2,
        ..AlertFilter::default()
    };
    assert_eq!(ids(store.alerts(&all).await.expect("list")), [5, 4]);
    let next = AlertFilter {
        before: Some(4),
        ..all.clone()
    };
    assert_eq!(ids(store.alerts(&next).await.expect("list")), [3, 2]);
    let harm = AlertFilter {
        category: Some("self-harm".into()),
        min_severity: Some(3),
        limit: 10,
        ..AlertFilter::default()
    };
    assert_eq!(ids(store.alerts(&harm).await.expect("list")), [5, 3]);
    assert_eq!(store.count_alerts("new").await.expect("count"), 5);
}

#[tokio::test]
async fn triage_applies_only_from_the_state_it_was_decided_from() {
    let (_dir, store) = store().await;
    store
        .record_alerts(&AlertBatch {
            raised: vec![alert(
                1,
                "self-harm",
                5,
                Some("self-harm/en/how to kill myself"),
            )],
            folded: vec![],
            cursor: 1,
        })
        .await
        .expect("record");
    assert!(
        store
            .triage_alert("new", &decision(1, "reviewed", ""))
            .await
            .expect("triage")
    );
    // A second decision made from "new" lost the race.
    assert!(
        !store
            .triage_alert("new", &decision(1, "false-positive", "a lesson"))
            .await
            .expect("triage")
    );
    assert!(
        store
            .triage_alert("reviewed", &decision(1, "false-positive", "a lesson"))
            .await
            .expect("triage")
    );
    let history = store.alert_triage_history(1).await.expect("history");
    assert_eq!(
        history.iter().map(|h| h.state.as_str()).collect::<Vec<_>>(),
        ["reviewed", "false-positive"]
    );
    assert_eq!(history[1].reason, "a lesson");
    let outcomes = store.alert_outcomes().await.expect("outcomes");
    assert_eq!(outcomes[0].state, "false-positive");
    assert_eq!(
        outcomes[0].phrase_key.as_deref(),
        Some("self-harm/en/how to kill myself")
    );
    // The history cannot be rewritten.
    let err = sqlx::query("UPDATE alert_triage SET reason = 'x'")
        .execute(store.pool())
        .await
        .expect_err("append-only");
    assert!(err.to_string().contains("append-only"));
}

#[tokio::test]
async fn escalation_raises_the_concern_and_links_it() {
    let (_dir, store) = store().await;
    store
        .record_alerts(&AlertBatch {
            raised: vec![alert(
                1,
                "self-harm",
                5,
                Some("self-harm/en/how to kill myself"),
            )],
            folded: vec![],
            cursor: 1,
        })
        .await
        .expect("record");
    let concern = NewConcern {
        raised_by: "d.lead".into(),
        raised_by_role: Role::Dsl,
        raised_at: now() + 1.hour(),
        pupils: vec![PupilRef::new("amara.okafor", "Amara Okafor")],
        others_involved: vec![],
        child_words: "Searched for: how to kill myself".into(),
        immediate_action: "Escalated from monitoring alert 1".into(),
        happened_at: now(),
        location: "Online: www.google.com".into(),
        suggested_category: None,
        about_staff: false,
    };
    let number = store
        .escalate_alert("new", &concern, &decision(1, "escalated", "talked to her"))
        .await
        .expect("escalate")
        .expect("escalated");
    let stored = store.alert(1).await.expect("get").expect("some");
    assert_eq!(stored.state, "escalated");
    assert_eq!(stored.concern, Some(number));
    let raised = store.concern(number).await.expect("concern").expect("some");
    assert!(raised.raised.child_words.contains("how to kill myself"));
    // Escalating again from "new" does nothing and raises no second concern.
    assert_eq!(
        store
            .escalate_alert("new", &concern, &decision(1, "escalated", "again"))
            .await
            .expect("escalate"),
        None
    );
    assert_eq!(store.concerns().await.expect("concerns").len(), 1);
}

#[tokio::test]
async fn library_revisions_keep_who_when_why_and_need_a_reason() {
    let (_dir, store) = store().await;
    assert!(store.phrase_library().await.expect("library").is_none());
    let files = vec![("en.toml".to_owned(), "language = \"en\"\n".to_owned())];
    let err = store
        .save_phrase_library(&files, "d.lead", "  ", now())
        .await
        .expect_err("reason");
    assert!(matches!(err, StoreError::ReasonRequired));
    let number = store
        .save_phrase_library(&files, "d.lead", "pupils say 'unalive'", now())
        .await
        .expect("save");
    let current = store
        .phrase_library()
        .await
        .expect("library")
        .expect("some");
    assert_eq!(current.number, number);
    assert_eq!(current.files, files);
    assert_eq!(current.actor, "d.lead");
    let audit = store.audit_trail(10).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|a| a.action == "phrase library changed" && a.detail.contains("unalive"))
    );
    assert_eq!(
        store
            .phrase_library_history(5)
            .await
            .expect("history")
            .len(),
        1
    );
}

/// The monitor is given only what can raise a signal; plain browsing is
/// passed over, yet the read still moves past it.
#[tokio::test]
async fn the_monitor_reads_past_plain_browsing() {
    let (_dir, store) = store().await;
    let plain = |host: &str, categories: &str, verdict: &str| ActivityEvent {
        url: format!("http://{host}/"),
        host: host.into(),
        search_term: None,
        categories: categories.into(),
        verdict: verdict.into(),
        ..event("")
    };
    store
        .record_activity(&[
            plain("www.bbc.co.uk", "news", "allow"),
            plain("vpn.example", "proxy, vpn", "allow"),
            plain("casino.example", "gambling", "block"),
            plain("www.vpnsolutions.example", "shopping", "allow"),
            event("how to kill myself"),
            plain("www.nhs.uk", "", "allow"),
        ])
        .await
        .expect("activity");
    let circumvention = ["vpn".to_owned(), "proxy".to_owned()];
    let read = store
        .monitor_read(0, 100, &circumvention)
        .await
        .expect("read");
    let ids: Vec<i64> = read.events.iter().map(|(id, _)| *id).collect();
    // The VPN attempt (allowed), the block and the search; not the news
    // page, not a shop whose name holds "vpn", not the NHS page.
    assert_eq!(ids, [2, 3, 5]);
    assert_eq!(read.read_to, 6);
    // Nothing new: the read stays where it was.
    let again = store
        .monitor_read(6, 100, &circumvention)
        .await
        .expect("read");
    assert!(again.events.is_empty());
    assert_eq!(again.read_to, 6);
    assert_eq!(again.newest, 6);
    // Without circumvention categories only blocks and searches count.
    let read = store.monitor_read(0, 100, &[]).await.expect("read");
    assert_eq!(
        read.events.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [3, 5]
    );
    // Only plain browsing after the cursor: no events, but read to the end.
    store
        .record_activity(&[plain("www.bbc.co.uk", "news", "allow")])
        .await
        .expect("activity");
    let read = store
        .monitor_read(6, 100, &circumvention)
        .await
        .expect("read");
    assert!(read.events.is_empty());
    assert_eq!(read.read_to, 7);
}

/// Many repeats of one alert in a batch (a flood of blocked attempts) end
/// as that alert's largest count, time and event, whatever their order.
#[tokio::test]
async fn many_folds_in_one_batch_keep_the_largest() {
    let (_dir, store) = store().await;
    store
        .record_alerts(&AlertBatch {
            raised: vec![alert(1, "gambling", 2, None), alert(2, "games", 2, None)],
            folded: vec![],
            cursor: 1,
        })
        .await
        .expect("raise");
    let fold = |alert: i64, count: u32, minutes: i64, event: i64| AlertFold {
        alert,
        count,
        last_at: now() + minutes.minutes(),
        event,
    };
    let mut folded: Vec<AlertFold> = (2..=500)
        .map(|n| fold(1, n, i64::from(n), i64::from(n) + 10))
        .collect();
    folded.reverse();
    folded.insert(7, fold(1, 3, 600, 12));
    folded.push(fold(2, 4, 1, 900));
    store
        .record_alerts(&AlertBatch {
            raised: vec![],
            folded,
            cursor: 510,
        })
        .await
        .expect("fold");
    let one = store.alert(1).await.expect("alert").expect("stored").alert;
    assert_eq!(one.count, 500);
    assert_eq!(one.last_at, now() + 600.minutes());
    assert_eq!(one.last_event, 510);
    let two = store.alert(2).await.expect("alert").expect("stored").alert;
    assert_eq!((two.count, two.last_event), (4, 900));
    assert_eq!(store.monitor_cursor().await.expect("cursor"), 510);
}
