//! Review requests both ways, and the category side table kept by triggers.

use jiff::{Timestamp, ToSpan};
use sqlx::Row;
use store::sqlite::SqliteStore;
use store::{
    ActivityEvent, ActivityQuery, ReviewDecision, ReviewFilter, ReviewKind, ReviewStatus, Source,
    StaffReport, Store,
};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    (dir, store)
}

fn event(at: Timestamp, categories: &str) -> ActivityEvent {
    ActivityEvent {
        at,
        source: Source::Dns,
        client_ip: "10.0.5.17".into(),
        username: None,
        device: None,
        profile: "ks2".into(),
        method: "A".into(),
        url: "casino.example".into(),
        host: "casino.example".into(),
        search_term: None,
        categories: categories.into(),
        verdict: "block".into(),
        rule: "category".into(),
        status: Some(0),
        bytes: 0,
        duration_ms: 0,
        reference: None,
    }
}

async fn side_rows(store: &SqliteStore) -> i64 {
    sqlx::query("SELECT count(*) AS n FROM activity_category")
        .fetch_one(store.pool())
        .await
        .expect("count")
        .get("n")
}

#[tokio::test]
async fn categories_are_found_whole_and_leave_with_their_events() {
    let (_dir, store) = store().await;
    let now = Timestamp::from_second(1_800_000_000).expect("time");
    store
        .record_activity(&[
            event(now - 240.hours(), "gambling,games"),
            event(now, "games"),
            event(now, "gaming-news"),
            event(now, ""),
            // Not a category id; kept, never an error on the write path.
            event(now, "odd\"one"),
        ])
        .await
        .expect("record");
    assert_eq!(side_rows(&store).await, 4);
    let games = |from: Option<Timestamp>| ActivityQuery {
        category: Some("games".into()),
        from,
        limit: 10,
        ..ActivityQuery::default()
    };
    assert_eq!(
        store
            .search_activity(&games(None))
            .await
            .expect("search")
            .len(),
        2
    );
    assert_eq!(
        store
            .search_activity(&games(Some(now - 168.hours())))
            .await
            .expect("search")
            .len(),
        1
    );
    assert_eq!(
        store.purge_activity(now - 24.hours()).await.expect("purge"),
        1
    );
    assert_eq!(side_rows(&store).await, 2);
    let all = store
        .activity_page(
            &ActivityQuery {
                limit: 10,
                ..ActivityQuery::default()
            },
            None,
        )
        .await
        .expect("page");
    assert_eq!(all.len(), 4);
}

#[tokio::test]
async fn staff_reports_are_breaches_and_decisions_happen_once() {
    let (_dir, store) = store().await;
    let now = Timestamp::from_second(1_800_000_000).expect("time");
    let id = store
        .add_staff_report(&StaffReport {
            at: now,
            requester: "s.teacher".into(),
            url: "https://bad.example/".into(),
            device: Some("IPAD-3".into()),
            found_by: "A pupil in Year 4".into(),
            what_happened: "Saw something upsetting".into(),
        })
        .await
        .expect("report");
    let review = store.review(id).await.expect("read").expect("there");
    assert_eq!(review.kind, ReviewKind::UnderBlocking);
    assert!(review.breach);
    assert_eq!(review.status, ReviewStatus::Open);
    let decision = ReviewDecision {
        approved: true,
        by: "t.tech".into(),
        at: now,
        reason: "Blocked for everyone".into(),
        policy_revision: Some(7),
    };
    assert!(store.decide_review(id, &decision).await.expect("decide"));
    assert!(!store.decide_review(id, &decision).await.expect("again"));
    assert!(
        !store
            .decide_review(id + 99, &decision)
            .await
            .expect("missing")
    );
    let review = store.review(id).await.expect("read").expect("there");
    assert_eq!(review.status, ReviewStatus::Approved);
    assert_eq!(review.policy_revision, Some(7));
    assert_eq!(review.decided_at, Some(now));
    let mine = store
        .reviews(&ReviewFilter {
            requester: Some("s.teacher".into()),
            limit: 10,
            ..ReviewFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(mine.len(), 1);
    let open = store
        .reviews(&ReviewFilter {
            open_only: true,
            limit: 10,
            ..ReviewFilter::default()
        })
        .await
        .expect("list");
    assert!(open.is_empty());
    let audit = store.audit_trail(5).await.expect("audit");
    assert!(
        audit.iter().all(|a| !a.detail.contains("Year 4")),
        "no pupil detail in the audit trail"
    );
}
