//! The SQLite side of the digests (`crates/schoolgate/src/schedule.rs`):
//! the alerts one digest covers, and whether a scheduled message was
//! queued before. [`crate::sqlite::SqliteStore`] implements the `Store`
//! methods with these.
//!
//! The alert table has no index on when alerts were raised; a school raises
//! thousands of alerts a year, not millions, and a digest is read once a
//! day, so a scan is cheap next to keeping another index up to date.

use jiff::Timestamp;
use sqlx::sqlite::SqlitePool;

use crate::StoreError;
use crate::alerts::StoredAlert;
use crate::sqlite::micros;
use crate::sqlite_alerts::alert;

/// Read through the `alert_raised` index (migration 0014).
const ALERTS_RAISED: &str =
    "SELECT * FROM alert WHERE raised_us >= ? AND raised_us < ? AND routing = ?
     ORDER BY raised_us, id";

pub(crate) async fn alerts_raised(
    pool: &SqlitePool,
    from: Timestamp,
    until: Timestamp,
    routing: &str,
) -> Result<Vec<StoredAlert>, StoreError> {
    sqlx::query(ALERTS_RAISED)
        .bind(micros(from))
        .bind(micros(until))
        .bind(routing)
        .fetch_all(pool)
        .await?
        .iter()
        .map(alert)
        .collect()
}

pub(crate) async fn outbox_has_key(pool: &SqlitePool, dedup_key: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE dedup_key = ?)")
            .bind(dedup_key)
            .fetch_one(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use crate::sqlite::SqliteStore;
    use crate::{AlertBatch, Channel, NewAlert, NewOutboxEntry, Store};

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("open");
        (dir, store)
    }

    #[tokio::test]
    async fn a_digest_reads_only_its_period_through_an_index() {
        let (_dir, store) = store().await;
        let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {}",
            super::ALERTS_RAISED
        )))
        .bind(0_i64)
        .bind(1_i64)
        .bind("dsl")
        .fetch_all(store.pool())
        .await
        .expect("plan")
        .iter()
        .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
        .collect();
        assert!(
            plan.iter()
                .any(|step| step.contains("USING INDEX alert_raised")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN alert")),
            "{plan:?}"
        );
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("time")
    }

    fn alert(id: i64, raised: &str, routing: &str) -> NewAlert {
        NewAlert {
            id,
            raised_at: at(raised),
            person: Some("invented.pupil".into()),
            device: None,
            client_ip: "10.0.0.7".into(),
            category: "bullying".into(),
            severity: 3,
            signal: "phrase".into(),
            phrase_key: Some("bullying/en/nobody likes you".into()),
            phrase: Some("nobody likes you".into()),
            term: Some("nobody likes you".into()),
            url: None,
            count: 1,
            first_at: at(raised),
            last_at: at(raised),
            first_event: id,
            last_event: id,
            routing: routing.into(),
        }
    }

    #[tokio::test]
    async fn a_digest_reads_its_period_and_routing_only_and_keys_are_found() {
        let (_dir, store) = store().await;
        store
            .record_alerts(&AlertBatch {
                raised: vec![
                    alert(1, "2026-11-15T23:59:59Z", "daily"),
                    alert(2, "2026-11-16T00:00:00Z", "daily"),
                    alert(3, "2026-11-16T12:00:00Z", "weekly"),
                    alert(4, "2026-11-16T13:00:00Z", "immediate"),
                    alert(5, "2026-11-16T23:59:59Z", "daily"),
                    alert(6, "2026-11-17T00:00:00Z", "daily"),
                ],
                folded: Vec::new(),
                cursor: 6,
            })
            .await
            .expect("record");
        let daily = store
            .alerts_raised(
                at("2026-11-16T00:00:00Z"),
                at("2026-11-17T00:00:00Z"),
                "daily",
            )
            .await
            .expect("daily");
        let ids: Vec<i64> = daily.iter().map(|a| a.alert.id).collect();
        assert_eq!(ids, [2, 5]);
        assert_eq!(daily[0].state, "new");
        let weekly = store
            .alerts_raised(
                at("2026-11-16T00:00:00Z"),
                at("2026-11-23T00:00:00Z"),
                "weekly",
            )
            .await
            .expect("weekly");
        assert_eq!(weekly.len(), 1);
        assert_eq!(weekly[0].alert.id, 3);

        assert!(
            !store
                .outbox_has_key("digest:daily:2026-11-16")
                .await
                .expect("key")
        );
        store
            .enqueue_outbox(&NewOutboxEntry {
                channel: Channel::Webhook,
                destination: "on-call".into(),
                kind: "digest".into(),
                severity: 3,
                dedup_key: Some("digest:daily:2026-11-16".into()),
                summary: "Daily digest".into(),
                payload: "{}".into(),
                created_at: at("2026-11-17T07:30:00Z"),
            })
            .await
            .expect("enqueue");
        assert!(
            store
                .outbox_has_key("digest:daily:2026-11-16")
                .await
                .expect("key")
        );
        assert!(
            !store
                .outbox_has_key("digest:daily:2026-11-17")
                .await
                .expect("key")
        );
    }
}
