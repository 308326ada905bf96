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
}
