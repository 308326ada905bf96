//! The gate with a real SQLite store.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gate::{ActivityCounts, ActivityLog, Gate, IdentityTable, QueueSettings, Session};
use jiff::{Timestamp, ToSpan};
use policy::defaults::default_policy;
use policy::{Engine, Lists};
use store::sqlite::SqliteStore;
use store::{ActivityEvent, ActivityQuery, Network, Person, Source, Store};

fn event(i: usize) -> ActivityEvent {
    ActivityEvent {
        at: Timestamp::now(),
        source: Source::Proxy,
        client_ip: format!("10.0.{}.{}", i / 250 % 250, i % 250),
        username: None,
        device: None,
        profile: "ks2".into(),
        method: "GET".into(),
        url: format!("http://example.org/page/{i}"),
        host: "example.org".into(),
        search_term: None,
        categories: String::new(),
        verdict: "allow".into(),
        rule: "default".into(),
        status: Some(200),
        bytes: 1024,
        duration_ms: 1,
        reference: None,
    }
}

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    (dir, store)
}

/// A large school's busiest minute is a few thousand requests a second; the
/// log keeps up with well over that without dropping anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_dropped_at_a_sustained_rate_well_above_a_schools_peak() {
    let (_d, store) = store().await;
    let (log, writer) = ActivityLog::start(store.clone(), QueueSettings::default());
    let rate_per_second = 10_000;
    let seconds = 3;
    let started = Instant::now();
    for second in 0..seconds {
        for i in 0..rate_per_second {
            log.record(event(second * rate_per_second + i));
        }
        let next = Duration::from_secs(second as u64 + 1);
        if let Some(wait) = next.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    log.shut_down();
    writer.await.expect("writer");
    let total = (rate_per_second * seconds) as u64;
    assert_eq!(log.dropped(), 0, "events were dropped");
    assert_eq!(log.failed(), 0);
    assert_eq!(log.written(), total);
    let stored = store
        .search_activity(&ActivityQuery {
            limit: 1_000_000,
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(stored.len() as u64, total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lane_writes_on_its_own_thread_and_the_queue_is_finished_at_shutdown() {
    let (_d, store) = store().await;
    let (prepared_on, seen) = std::sync::mpsc::channel();
    let lane_store = store.clone();
    let (log, writer) = ActivityLog::start_with_lane(
        store.clone(),
        move || {
            let _ = prepared_on.send(std::thread::current().name().map(str::to_owned));
        },
        move || async move { lane_store },
        QueueSettings::default(),
    )
    .expect("lane thread");
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).expect("prepared"),
        Some("activity-writer".to_owned()),
        "prepare runs on the lane's own thread"
    );
    for i in 0..2_500 {
        log.record(event(i));
    }
    // Written in the background, a fraction of a second later.
    let deadline = Instant::now() + Duration::from_secs(10);
    while log.written() < 1_000 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(log.written() >= 1_000, "written: {}", log.written());
    for i in 2_500..3_000 {
        log.record(event(i));
    }
    // Whatever is still queued at shutdown is written before it ends.
    log.shut_down();
    writer.await.expect("the writer ended");
    assert_eq!(log.written(), 3_000);
    assert_eq!(log.dropped(), 0);
    assert_eq!(log.escalated(), 0, "the queue was never half full");
    let stored = store
        .search_activity(&ActivityQuery {
            limit: 10_000,
            ..Default::default()
        })
        .await
        .expect("search");
    let mut stored_urls: Vec<String> = stored.into_iter().map(|e| e.url).collect();
    let mut sent: Vec<String> = (0..3_000).map(|i| event(i).url).collect();
    stored_urls.sort();
    sent.sort();
    assert_eq!(stored_urls, sent, "every event, once, unchanged");
}

/// A lane held back (as the lowest priority is when every core is busy)
/// leaves the queue to fill; once the lane gives back its batch, the writer
/// writes at its own priority while the queue is half full or more, and
/// nothing is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_queue_is_written_at_normal_priority_rather_than_dropped() {
    let (_d, store) = store().await;
    let (release, held) = std::sync::mpsc::channel::<()>();
    let lane_store = store.clone();
    let (log, writer) = ActivityLog::start_with_lane(
        store.clone(),
        move || {
            // Held until the test lets go: starved of the processor.
            let _ = held.recv();
        },
        move || async move { lane_store },
        QueueSettings {
            capacity: 2_000,
            batch: 100,
        },
    )
    .expect("lane thread");
    // The first batch goes to the lane, which cannot take it yet.
    log.record(event(0));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(log.written(), 0);
    for i in 1..1_500 {
        log.record(event(i));
    }
    let _ = release.send(());
    log.shut_down();
    writer.await.expect("the writer ended");
    assert_eq!(log.dropped(), 0);
    assert_eq!(log.written(), 1_500);
    // 1,499 waiting when the lane let go: batches of 100 at normal priority
    // while 1,000 (half the queue) or more were left behind them, that is
    // with 1,399, 1,299, 1,199 and 1,099 left; then the lane again.
    assert_eq!(log.escalated(), 4);
    assert_eq!(
        log.counts(),
        ActivityCounts {
            queue_depth: 0,
            dropped: 0,
            written: 1_500,
            failed: 0,
            escalated: 4,
        }
    );
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_but_never_waits() {
    let (_d, store) = store().await;
    // A writer that cannot run (single-threaded runtime, never yielded to)
    // leaves the queue to fill.
    let (log, writer) = ActivityLog::start(
        store.clone(),
        QueueSettings {
            capacity: 100,
            batch: 10,
        },
    );
    let started = Instant::now();
    for i in 0..1_000 {
        log.record(event(i));
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "recording waited"
    );
    assert_eq!(log.dropped(), 900);
    assert_eq!(log.queue_depth(), 100);
    log.shut_down();
    writer.await.expect("writer");
    assert_eq!(log.written(), 100);
}

#[tokio::test]
async fn identification_and_passwords_through_the_gate() {
    let (_d, store) = store().await;
    let (log, _writer) = ActivityLog::start(store, QueueSettings::default());
    let hash = gate::hash_password("correct horse battery staple").expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let people = [Person {
        username: "t.teacher".into(),
        display_name: "Tess Teacher".into(),
        profile: "staff".into(),
        password_hash: Some(hash),
        disabled: false,
    }];
    let networks = [Network {
        name: "Guest Wi-Fi".into(),
        ranges: vec!["10.20.0.0/16".into()],
        profile: "guest".into(),
    }];
    let identity = IdentityTable::new(&people, &[], &networks).expect("identity");
    let engine = Engine::new(default_policy(), Arc::new(Lists::default())).expect("engine");
    let gate = Gate::new(engine, identity, log);

    assert!(gate.verify_password("t.teacher", "correct horse battery staple"));
    assert!(!gate.verify_password("t.teacher", "wrong"));
    assert!(!gate.verify_password("nobody", "correct horse battery staple"));

    let ip: IpAddr = "10.20.3.4".parse().expect("ip");
    let now = Timestamp::now();
    let engine = gate.engine();
    let guest = gate.identify(ip, None, now);
    assert_eq!(
        engine.policy().profiles[Gate::profile_for(&engine, &guest)].id,
        "guest"
    );
    gate.start_session(
        ip,
        Session {
            user: "t.teacher".into(),
            device: Some("STAFF-LAPTOP".into()),
            expires: now + 1.hour(),
        },
    );
    let staff = gate.identify(ip, None, now);
    assert_eq!(
        engine.policy().profiles[Gate::profile_for(&engine, &staff)].id,
        "staff"
    );
    assert_eq!(staff.device.as_deref(), Some("STAFF-LAPTOP"));
    gate.end_session(ip);
    assert_eq!(gate.identify(ip, None, now).user, None);
    // Nobody known, on no network: the strictest pupil profile.
    let nobody = gate.identify("192.0.2.9".parse().expect("ip"), None, now);
    assert_eq!(
        engine.policy().profiles[Gate::profile_for(&engine, &nobody)].id,
        "eyfs-ks1"
    );
}
