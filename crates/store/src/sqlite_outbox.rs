//! The SQLite side of the outbox (see [`crate::outbox`]).
//! [`crate::sqlite::SqliteStore`] implements the `Store` methods with these.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use crate::StoreError;
use crate::outbox::{Channel, NewOutboxEntry, OutboxEntry, OutboxState};
use crate::sqlite::micros;
use crate::sqlite_console::write;

fn decode(problem: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(problem.into()))
}

fn at(us: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(us).map_err(|e| decode(e.to_string()))
}

fn entry(row: &SqliteRow) -> Result<OutboxEntry, StoreError> {
    let channel: String = row.try_get("channel")?;
    let state: String = row.try_get("state")?;
    let optional = |column: &str| -> Result<Option<Timestamp>, StoreError> {
        row.try_get::<Option<i64>, _>(column)?.map(at).transpose()
    };
    Ok(OutboxEntry {
        id: row.try_get("id")?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| decode(format!("unknown outbox channel '{channel}'")))?,
        destination: row.try_get("destination")?,
        kind: row.try_get("kind")?,
        severity: u8::try_from(row.try_get::<i64, _>("severity")?).unwrap_or(5),
        dedup_key: row.try_get("dedup_key")?,
        summary: row.try_get("summary")?,
        payload: row.try_get("payload")?,
        state: OutboxState::parse(&state)
            .ok_or_else(|| decode(format!("unknown outbox state '{state}'")))?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(0),
        created_at: at(row.try_get("created_us")?)?,
        next_attempt_at: at(row.try_get("next_attempt_us")?)?,
        last_attempt_at: optional("last_attempt_us")?,
        sent_at: optional("sent_us")?,
        last_error: row.try_get("last_error")?,
    })
}

pub async fn enqueue(pool: &SqlitePool, new: &NewOutboxEntry) -> Result<Option<i64>, StoreError> {
    // A repeated dedup key is ignored, not an error: the first one stands.
    let done = sqlx::query(
        "INSERT INTO outbox (channel, destination, kind, severity, dedup_key, summary, payload,
             created_us, next_attempt_us)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (channel, destination, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING",
    )
    .bind(new.channel.as_str())
    .bind(&new.destination)
    .bind(&new.kind)
    .bind(i64::from(new.severity.clamp(1, 5)))
    .bind(&new.dedup_key)
    .bind(&new.summary)
    .bind(&new.payload)
    .bind(micros(new.created_at))
    .bind(micros(new.created_at))
    .execute(pool)
    .await?;
    Ok((done.rows_affected() == 1).then(|| done.last_insert_rowid()))
}

pub async fn claim(
    pool: &SqlitePool,
    now: Timestamp,
    lease_until: Timestamp,
    limit: usize,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut tx = write(pool).await?;
    // Queued and due, or claimed by a sender whose claim has lapsed.
    let rows = sqlx::query(
        "UPDATE outbox SET state = 'sending', next_attempt_us = ?
         WHERE id IN (SELECT id FROM outbox
                      WHERE state IN ('queued', 'sending') AND next_attempt_us <= ?
                      ORDER BY severity DESC, next_attempt_us, id LIMIT ?)
         RETURNING *",
    )
    .bind(micros(lease_until))
    .bind(micros(now))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut claimed = rows.iter().map(entry).collect::<Result<Vec<_>, _>>()?;
    // RETURNING gives no order; the most severe go first.
    claimed.sort_by_key(|e| (std::cmp::Reverse(e.severity), e.id));
    Ok(claimed)
}

async fn finish(
    pool: &SqlitePool,
    id: i64,
    state: OutboxState,
    attempt_at: Timestamp,
    next_attempt_at: Timestamp,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET state = ?, attempts = attempts + 1, last_attempt_us = ?,
             next_attempt_us = ?, sent_us = CASE WHEN ? = 'sent' THEN ? END,
             last_error = COALESCE(?, last_error)
         WHERE id = ? AND state != 'sent'",
    )
    .bind(state.as_str())
    .bind(micros(attempt_at))
    .bind(micros(next_attempt_at))
    .bind(state.as_str())
    .bind(micros(attempt_at))
    .bind(error)
    .bind(id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            what: "unsent outbox message",
            name: id.to_string(),
        });
    }
    Ok(())
}

pub async fn sent(pool: &SqlitePool, id: i64, at: Timestamp) -> Result<(), StoreError> {
    finish(pool, id, OutboxState::Sent, at, at, None).await
}

pub async fn failed(
    pool: &SqlitePool,
    id: i64,
    at: Timestamp,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    match retry_at {
        Some(next) => finish(pool, id, OutboxState::Queued, at, next, Some(error)).await,
        None => finish(pool, id, OutboxState::Failed, at, at, Some(error)).await,
    }
}

pub async fn entries(pool: &SqlitePool, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
    let rows = sqlx::query("SELECT * FROM outbox ORDER BY id DESC LIMIT ?")
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    rows.iter().map(entry).collect()
}
