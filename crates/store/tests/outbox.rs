//! The outbox: queue, claim, sent, failed with retry or give-up, dedup,
//! lapsed claims, and that nothing is lost across a reopen.

use jiff::{Timestamp, ToSpan};
use store::sqlite::SqliteStore;
use store::{Channel, NewOutboxEntry, OutboxState, Store};

async fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("schoolgate.db"))
        .await
        .expect("open")
}

fn message(destination: &str, severity: u8, dedup: Option<&str>, at: Timestamp) -> NewOutboxEntry {
    NewOutboxEntry {
        channel: Channel::Email,
        destination: destination.into(),
        kind: "alert".into(),
        severity,
        dedup_key: dedup.map(str::to_owned),
        summary: "Alert: self-harm search".into(),
        payload: "{\"subject\":\"Alert\"}".into(),
        created_at: at,
    }
}

#[tokio::test]
async fn messages_are_claimed_most_severe_first_and_sent_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    let t0: Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
    let low = store
        .enqueue_outbox(&message("dsl@school.example", 2, None, t0))
        .await
        .expect("enqueue")
        .expect("new");
    let high = store
        .enqueue_outbox(&message("dsl@school.example", 5, Some("alert:7"), t0))
        .await
        .expect("enqueue")
        .expect("new");
    // The same key for the same destination is queued once.
    assert_eq!(
        store
            .enqueue_outbox(&message("dsl@school.example", 5, Some("alert:7"), t0))
            .await
            .expect("enqueue"),
        None
    );
    // ...but the same key for another destination is its own message.
    assert!(
        store
            .enqueue_outbox(&message("deputy@school.example", 5, Some("alert:7"), t0))
            .await
            .expect("enqueue")
            .is_some()
    );

    // Nothing is due before it was created.
    let early = store
        .claim_outbox(t0 - 1.second(), t0 + 1.minute(), 10)
        .await
        .expect("claim");
    assert!(early.is_empty());

    let claimed = store
        .claim_outbox(t0, t0 + 1.minute(), 2)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].id, high);
    assert!(claimed.iter().all(|e| e.severity == 5));
    assert!(claimed.iter().all(|e| e.state == OutboxState::Sending));
    // Claimed messages are not handed out again while the claim holds.
    let again = store
        .claim_outbox(t0 + 10.seconds(), t0 + 1.minute(), 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1, "only the one not yet claimed");
    assert_eq!(again[0].id, low, "the least severe came last");

    store
        .outbox_sent(high, t0 + 1.second())
        .await
        .expect("sent");
    let entries = store.outbox_entries(10).await.expect("list");
    let sent = entries.iter().find(|e| e.id == high).expect("kept");
    assert_eq!(sent.state, OutboxState::Sent);
    assert_eq!(sent.attempts, 1);
    assert_eq!(sent.sent_at, Some(t0 + 1.second()));
    // A sent message is never marked again.
    assert!(store.outbox_sent(high, t0 + 2.seconds()).await.is_err());
}

#[tokio::test]
async fn failures_are_retried_then_kept_as_failed_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t0: Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
    let id = {
        let store = open(&dir).await;
        let id = store
            .enqueue_outbox(&message("dsl@school.example", 5, None, t0))
            .await
            .expect("enqueue")
            .expect("new");
        let claimed = store
            .claim_outbox(t0, t0 + 1.minute(), 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        store
            .outbox_failed(id, t0, "connection refused", Some(t0 + 30.seconds()))
            .await
            .expect("failed");
        id
    };
    // Reopened (a restart): still there, waiting.
    let store = open(&dir).await;
    let entry = store.outbox_entries(10).await.expect("list").remove(0);
    assert_eq!(entry.id, id);
    assert_eq!(entry.state, OutboxState::Queued);
    assert_eq!(entry.attempts, 1);
    assert_eq!(entry.next_attempt_at, t0 + 30.seconds());
    assert_eq!(entry.last_error.as_deref(), Some("connection refused"));
    assert!(
        store
            .claim_outbox(t0 + 29.seconds(), t0 + 2.minutes(), 10)
            .await
            .expect("claim")
            .is_empty(),
        "not before its back-off"
    );
    let claimed = store
        .claim_outbox(t0 + 30.seconds(), t0 + 2.minutes(), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    store
        .outbox_failed(id, t0 + 31.seconds(), "550 no such mailbox", None)
        .await
        .expect("give up");
    let entry = store.outbox_entries(10).await.expect("list").remove(0);
    assert_eq!(entry.state, OutboxState::Failed);
    assert_eq!(entry.attempts, 2);
    assert_eq!(entry.last_error.as_deref(), Some("550 no such mailbox"));
    assert!(
        store
            .claim_outbox(t0 + 1.hours(), t0 + 2.hours(), 10)
            .await
            .expect("claim")
            .is_empty(),
        "a failed message is not tried again"
    );
}

#[tokio::test]
async fn a_lapsed_claim_is_tried_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    let t0: Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
    let id = store
        .enqueue_outbox(&message("dsl@school.example", 4, None, t0))
        .await
        .expect("enqueue")
        .expect("new");
    store
        .claim_outbox(t0, t0 + 1.minute(), 10)
        .await
        .expect("claim");
    // The sender stopped without saying what happened.
    let reclaimed = store
        .claim_outbox(t0 + 61.seconds(), t0 + 2.minutes(), 10)
        .await
        .expect("claim");
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].id, id);
}
