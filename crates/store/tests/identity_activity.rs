//! People, devices, networks, sessions, review requests and the activity log.

use jiff::{Timestamp, ToSpan};
use store::sqlite::SqliteStore;
use store::{
    ActivityEvent, ActivityQuery, Device, LoginSession, Network, Person, Source, Store, StoreError,
};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    (dir, store)
}

fn event(at: Timestamp, user: Option<&str>, verdict: &str, categories: &str) -> ActivityEvent {
    ActivityEvent {
        at,
        source: Source::Proxy,
        client_ip: "10.0.5.17".into(),
        username: user.map(str::to_owned),
        device: Some("LAPTOP-07".into()),
        profile: "ks2".into(),
        method: "GET".into(),
        url: "http://www.bet365.com/".into(),
        host: "www.bet365.com".into(),
        search_term: None,
        categories: categories.into(),
        verdict: verdict.into(),
        rule: "category:gambling".into(),
        status: Some(403),
        bytes: 1200,
        duration_ms: 2,
        reference: Some("R-1".into()),
    }
}

#[tokio::test]
async fn people_are_disabled_never_deleted() {
    let (_d, store) = store().await;
    let person = Person {
        username: "ada.pupil".into(),
        display_name: "Ada Pupil".into(),
        profile: "ks2".into(),
        password_hash: None,
        disabled: false,
    };
    store.save_person(&person, "admin").await.expect("save");
    store
        .disable_person("ada.pupil", "admin")
        .await
        .expect("disable");
    let people = store.people().await.expect("people");
    assert_eq!(people.len(), 1);
    assert!(people[0].disabled);
    assert!(matches!(
        store.disable_person("nobody", "admin").await,
        Err(StoreError::NotFound { .. })
    ));
    let actions: Vec<String> = store
        .audit_trail(5)
        .await
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["person.disable", "person.save"]);
}

#[tokio::test]
async fn devices_networks_and_sessions_round_trip() {
    let (_d, store) = store().await;
    let device = Device {
        name: "LAPTOP-07".into(),
        kind: "laptop".into(),
        address: "10.0.5.17".into(),
        owner: "Year 4 trolley".into(),
        school_owned: true,
    };
    store.save_device(&device, "tech").await.expect("device");
    assert_eq!(store.devices().await.expect("devices"), [device]);
    store
        .remove_device("LAPTOP-07", "tech")
        .await
        .expect("remove");
    assert!(store.devices().await.expect("devices").is_empty());

    let network = Network {
        name: "Guest Wi-Fi".into(),
        ranges: vec!["10.20.0.0/16".into(), "fd00:20::/64".into()],
        profile: "guest".into(),
    };
    store.save_network(&network, "tech").await.expect("network");
    assert_eq!(store.networks().await.expect("networks"), [network]);

    let now = Timestamp::now();
    let live = LoginSession {
        address: "10.0.5.17".into(),
        username: "ada.pupil".into(),
        device: Some("LAPTOP-07".into()),
        started_at: now,
        expires_at: now + 1.hour(),
    };
    let old = LoginSession {
        address: "10.0.5.18".into(),
        username: "old".into(),
        device: None,
        started_at: now - 2.hours(),
        expires_at: now - 1.hour(),
    };
    store.save_session(&live).await.expect("live");
    store.save_session(&old).await.expect("old");
    let sessions = store.sessions(now).await.expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].username, "ada.pupil");
}

#[tokio::test]
async fn activity_is_searched_by_every_field_and_purged_by_age() {
    let (_d, store) = store().await;
    let now = Timestamp::now();
    let mut events = Vec::new();
    for i in 0..2500i64 {
        let verdict = if i % 2 == 0 { "block" } else { "allow" };
        let user = if i % 5 == 0 { Some("ada.pupil") } else { None };
        let categories = if i % 2 == 0 { "gambling,games" } else { "" };
        events.push(event(now - i.minutes(), user, verdict, categories));
    }
    store.record_activity(&events).await.expect("record");

    let all = ActivityQuery {
        limit: 10_000,
        ..Default::default()
    };
    let count = |q: ActivityQuery| {
        let store = store.clone();
        async move { store.search_activity(&q).await.expect("search").len() }
    };
    assert_eq!(count(all.clone()).await, 2500);
    assert_eq!(
        count(ActivityQuery {
            verdict: Some("block".into()),
            ..all.clone()
        })
        .await,
        1250
    );
    assert_eq!(
        count(ActivityQuery {
            category: Some("games".into()),
            ..all.clone()
        })
        .await,
        1250
    );
    assert_eq!(
        count(ActivityQuery {
            category: Some("game".into()),
            ..all.clone()
        })
        .await,
        0
    );
    assert_eq!(
        count(ActivityQuery {
            username: Some("ada.pupil".into()),
            ..all.clone()
        })
        .await,
        500
    );
    let hour = store
        .search_activity(&ActivityQuery {
            from: Some(now - 60.minutes()),
            to: Some(now + 1.minute()),
            ..all.clone()
        })
        .await
        .expect("range");
    assert_eq!(hour.len(), 61);
    assert!(hour.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    assert_eq!(hour[0].device.as_deref(), Some("LAPTOP-07"));
    assert_eq!(hour[0].status, Some(403));

    let removed = store
        .purge_activity(now - 1000.minutes())
        .await
        .expect("purge");
    assert_eq!(removed, 1499);
    assert_eq!(count(all).await, 1001);
}
