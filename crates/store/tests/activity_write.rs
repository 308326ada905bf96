//! The activity write path: batches of every size are stored whole, every
//! field intact, whatever mix of statement sizes writes them.

use jiff::{Timestamp, ToSpan};
use store::sqlite::SqliteStore;
use store::{ActivityEvent, ActivityQuery, Source, Store};

fn event(at: Timestamp, i: i64) -> ActivityEvent {
    ActivityEvent {
        at,
        source: if i % 3 == 0 {
            Source::Dns
        } else {
            Source::Proxy
        },
        client_ip: format!("10.0.{}.{}", i / 250, i % 250),
        username: (i % 2 == 0).then(|| format!("pupil{i}")),
        device: (i % 4 == 0).then(|| format!("LAPTOP-{i:03}")),
        profile: format!("profile-{}", i % 7),
        method: if i % 5 == 0 { "CONNECT" } else { "GET" }.to_owned(),
        url: format!("http://site{i}.example.org/page?q={i}"),
        host: format!("site{i}.example.org"),
        search_term: (i % 6 == 0).then(|| format!("term {i}")),
        categories: if i % 2 == 0 { "games,streaming" } else { "" }.to_owned(),
        verdict: if i % 2 == 0 { "block" } else { "allow" }.to_owned(),
        rule: format!("category:games-{i}"),
        status: (i % 8 != 0).then_some(200 + (i % 5) as u16),
        bytes: (i as u64) * 1000,
        duration_ms: i as u32,
        reference: (i % 2 == 0).then(|| format!("REF-{i}")),
    }
}

#[tokio::test]
async fn batches_of_every_size_are_stored_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    let start = Timestamp::from_second(1_800_000_000).expect("time");
    let mut next = 0i64;
    let mut written = Vec::new();
    // 293 = 256 + 32 + 4 + 1: every statement size at once; then the small
    // and awkward sizes on their own.
    for size in [293usize, 1, 3, 4, 31, 33, 255, 257, 0] {
        let batch: Vec<ActivityEvent> = (0..size as i64)
            .map(|k| event(start + (next + k).seconds(), next + k))
            .collect();
        next += size as i64;
        store.record_activity(&batch).await.expect("record");
        written.extend(batch);
    }
    let mut stored = store
        .search_activity(&ActivityQuery {
            limit: 10_000,
            ..Default::default()
        })
        .await
        .expect("search");
    stored.reverse();
    assert_eq!(stored.len(), written.len());
    for (got, want) in stored.iter().zip(&written) {
        assert_eq!(got, want);
    }
    // The category side table: a row for each category of each event,
    // pointing at that event (its id, time and categories).
    let expected = written
        .iter()
        .map(|e| e.categories.split(',').filter(|c| !c.is_empty()).count() as i64)
        .sum::<i64>();
    assert!(expected > 0);
    let (rows, matching): (i64, i64) = sqlx::query_as(
        "SELECT count(*), \
                sum(EXISTS (SELECT 1 FROM activity a WHERE a.id = c.activity_id AND a.at_us = c.at_us \
                            AND ',' || a.categories || ',' LIKE '%,' || c.category || ',%')) \
         FROM activity_category c",
    )
    .fetch_one(store.pool())
    .await
    .expect("count");
    assert_eq!((rows, matching), (expected, expected));
    for category in ["games", "streaming"] {
        let found = store
            .search_activity(&ActivityQuery {
                category: Some(category.to_owned()),
                limit: 10_000,
                ..Default::default()
            })
            .await
            .expect("search");
        assert_eq!(found.len() as i64, expected / 2, "{category}");
        assert!(found.iter().all(|e| e.categories.contains(category)));
    }
}

#[tokio::test]
async fn a_batch_that_fails_part_way_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.expect("open");
    // The activity writer's own connection, as `serve` opens it.
    let writer = SqliteStore::open_writer(&path).await.expect("writer");
    let start = Timestamp::from_second(1_800_000_000).expect("time");
    // Both ways SQLite can stop a statement: ABORT undoes the statement,
    // FAIL keeps its earlier rows; neither may leave any of the batch.
    for (how, create, drop) in [
        (
            "ABORT",
            "CREATE TRIGGER refuse BEFORE INSERT ON activity WHEN NEW.url = 'http://refused.example/' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
            "DROP TRIGGER refuse",
        ),
        (
            "FAIL",
            "CREATE TRIGGER refuse BEFORE INSERT ON activity WHEN NEW.url = 'http://refused.example/' \
             BEGIN SELECT RAISE(FAIL, 'refused'); END",
            "DROP TRIGGER refuse",
        ),
    ] {
        // On the writer's one connection, which then knows of the trigger.
        sqlx::query(create)
            .execute(writer.pool())
            .await
            .expect("trigger");
        // Row 280 is in the second statement (after 256 rows) and is not
        // its first row.
        let mut batch: Vec<ActivityEvent> =
            (0..293).map(|k| event(start + k.seconds(), k)).collect();
        batch[280].url = "http://refused.example/".to_owned();
        let result = writer.record_activity(&batch).await;
        assert!(result.is_err(), "{how}: the batch must fail");
        let stored = store
            .search_activity(&ActivityQuery {
                limit: 10_000,
                ..Default::default()
            })
            .await
            .expect("search");
        assert!(stored.is_empty(), "{how}: {} events kept", stored.len());
        let categories: i64 = sqlx::query_scalar("SELECT count(*) FROM activity_category")
            .fetch_one(store.pool())
            .await
            .expect("count");
        assert_eq!(categories, 0, "{how}");
        sqlx::query(drop)
            .execute(writer.pool())
            .await
            .expect("drop");
    }
    // And the writer goes on writing afterwards.
    let batch: Vec<ActivityEvent> = (0..10).map(|k| event(start + k.seconds(), k)).collect();
    writer.record_activity(&batch).await.expect("record");
    let stored = store
        .search_activity(&ActivityQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(stored.len(), 10);
}
