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

#[tokio::test]
async fn an_approval_and_the_policy_it_makes_are_saved_together_or_not_at_all() {
    use policy::defaults::default_policy;
    use store::{Decided, PolicyChange, StoreError};

    let (_dir, store) = store().await;
    let now = Timestamp::from_second(1_800_000_000).expect("time");
    let first = store
        .save_policy(&default_policy(), "t.tech", "set up")
        .await
        .expect("first policy");
    let report = |url: &str| StaffReport {
        at: now,
        requester: "s.teacher".into(),
        url: url.into(),
        device: None,
        found_by: "A pupil in Year 4".into(),
        what_happened: "Saw something upsetting".into(),
    };
    let decision = ReviewDecision {
        approved: true,
        by: "t.tech".into(),
        at: now,
        reason: "Blocked for everyone".into(),
        policy_revision: None,
    };
    let mut blocked = default_policy();
    blocked.school.name = "Ash Grove Primary".into();
    let change = |base| PolicyChange {
        policy: &blocked,
        base,
        reason: "Review: blocked for everyone",
    };
    let newest = || async {
        store
            .current_policy()
            .await
            .expect("read")
            .expect("one")
            .number
    };

    // Someone saved a revision since this one was read: nothing is written.
    let stale = store
        .add_staff_report(&report("https://a.example/"))
        .await
        .expect("report");
    let mut other = default_policy();
    other.school.name = "Birch Lane Primary".into();
    let second = store
        .save_policy(&other, "d.lead", "renamed")
        .await
        .expect("second");
    let refused = store
        .decide_review_changing_policy(stale, &decision, &change(first.number))
        .await;
    assert!(
        matches!(refused, Err(StoreError::StaleRevision { base, current }) if base == first.number && current == second.number),
        "{refused:?}"
    );
    assert_eq!(newest().await, second.number);
    let review = store.review(stale).await.expect("read").expect("there");
    assert_eq!(review.status, ReviewStatus::Open);

    // Decided already: the policy is not saved either.
    assert!(store.decide_review(stale, &decision).await.expect("decide"));
    let not_open = store
        .decide_review_changing_policy(stale, &decision, &change(second.number))
        .await
        .expect("not open");
    assert_eq!(not_open, Decided::NotOpen);
    assert_eq!(newest().await, second.number);

    // Both, with the decision naming the revision it saved.
    let id = store
        .add_staff_report(&report("https://b.example/"))
        .await
        .expect("report");
    let done = store
        .decide_review_changing_policy(id, &decision, &change(second.number))
        .await
        .expect("decided");
    let Decided::Decided {
        revision: Some(saved),
    } = done
    else {
        panic!("no revision saved: {done:?}");
    };
    assert_eq!(saved.number, second.number + 1);
    assert_eq!(saved.actor, "t.tech");
    assert_eq!(newest().await, saved.number);
    let review = store.review(id).await.expect("read").expect("there");
    assert_eq!(review.status, ReviewStatus::Approved);
    assert_eq!(review.policy_revision, Some(saved.number));

    // A policy the approval does not change: decided, no revision.
    let id = store
        .add_staff_report(&report("https://c.example/"))
        .await
        .expect("report");
    let done = store
        .decide_review_changing_policy(id, &decision, &change(saved.number))
        .await
        .expect("decided");
    assert_eq!(done, Decided::Decided { revision: None });
    assert_eq!(newest().await, saved.number);
    let review = store.review(id).await.expect("read").expect("there");
    assert_eq!(review.policy_revision, None);
}
