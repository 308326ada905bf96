//! The SQLite side of monitoring alerts (see [`crate::alerts`]).
//! [`crate::sqlite::SqliteStore`] implements the `Store` methods with these.

use jiff::Timestamp;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::StoreError;
use crate::alerts::{
    AlertBatch, AlertFilter, AlertFold, AlertOutcome, AlertTriage, LibraryRevision, MonitorRead,
    NewAlert, StoredAlert,
};
use crate::sqlite::{activity_event, audit, micros};
use crate::sqlite_console::{abandon, write};

fn decode(problem: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(problem.into()))
}

fn at(row: &SqliteRow, column: &str) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(row.try_get(column)?).map_err(|e| decode(e.to_string()))
}

pub(crate) fn alert(row: &SqliteRow) -> Result<StoredAlert, StoreError> {
    Ok(StoredAlert {
        alert: NewAlert {
            id: row.try_get("id")?,
            raised_at: at(row, "raised_us")?,
            person: row.try_get("person")?,
            device: row.try_get("device")?,
            client_ip: row.try_get("client_ip")?,
            category: row.try_get("category")?,
            severity: u8::try_from(row.try_get::<i64, _>("severity")?).unwrap_or(5),
            signal: row.try_get("signal")?,
            phrase_key: row.try_get("phrase_key")?,
            phrase: row.try_get("phrase")?,
            term: row.try_get("term")?,
            url: row.try_get("url")?,
            count: u32::try_from(row.try_get::<i64, _>("count")?).unwrap_or(u32::MAX),
            first_at: at(row, "first_us")?,
            last_at: at(row, "last_us")?,
            first_event: row.try_get("first_event")?,
            last_event: row.try_get("last_event")?,
            routing: row.try_get("routing")?,
        },
        state: row.try_get("state")?,
        concern: row.try_get("concern")?,
    })
}

/// The activity after id `after` that can raise a signal (see
/// [`crate::Store::monitor_read`]).
pub async fn monitor_read(
    pool: &SqlitePool,
    after: i64,
    limit: usize,
    circumvention: &[String],
) -> Result<MonitorRead, StoreError> {
    // Everything up to here is looked at in this read; rows a writer
    // commits later get higher ids (one writer at a time).
    let high: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM activity")
        .fetch_one(pool)
        .await?;
    if high <= after {
        return Ok(MonitorRead {
            events: Vec::new(),
            read_to: after,
            newest: high,
        });
    }
    // Only rows the monitor can find a signal in are decoded: a search
    // term, a block, or a category that is a way round the filter. Plain
    // allowed browsing (most of the log) is passed over inside SQLite.
    let mut query = QueryBuilder::<Sqlite>::new("SELECT * FROM activity WHERE id > ");
    query.push_bind(after);
    query.push(" AND id <= ");
    query.push_bind(high);
    query.push(" AND (verdict = 'block' OR search_term IS NOT NULL");
    if !circumvention.is_empty() {
        // Most allowed events have no category at all: they are passed over
        // before any list is built and matched.
        query.push(" OR (categories <> '' AND (");
        for (i, category) in circumvention.iter().enumerate() {
            if i > 0 {
                query.push(" OR ");
            }
            query.push("(',' || replace(categories, ' ', '') || ',') LIKE ");
            query.push_bind(format!("%,{category},%"));
        }
        query.push("))");
    }
    query.push(") ORDER BY id LIMIT ");
    query.push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let rows = query.build().fetch_all(pool).await?;
    let events = rows
        .iter()
        .map(|row| Ok((row.try_get("id")?, activity_event(row)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let read_to = match events.last() {
        Some((last, _)) if events.len() >= limit => *last,
        _ => high,
    };
    Ok(MonitorRead {
        events,
        read_to,
        newest: high,
    })
}

pub async fn cursor(pool: &SqlitePool) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT activity FROM monitor_cursor WHERE one = 1")
            .fetch_optional(pool)
            .await?
            .unwrap_or(0),
    )
}

pub async fn last_alert_id(pool: &SqlitePool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM alert")
        .fetch_one(pool)
        .await?)
}

pub async fn record(pool: &SqlitePool, batch: &AlertBatch) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    match record_in(&mut tx, batch).await {
        Ok(()) => Ok(tx.commit().await?),
        Err(e) => Err(abandon(tx, e).await),
    }
}

async fn record_in(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    batch: &AlertBatch,
) -> Result<(), StoreError> {
    for new in &batch.raised {
        sqlx::query(
            "INSERT INTO alert (id, raised_us, person, device, client_ip, category, severity,
                 signal, phrase_key, phrase, term, url, count, first_us, last_us, first_event,
                 last_event, routing)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(new.id)
        .bind(micros(new.raised_at))
        .bind(&new.person)
        .bind(&new.device)
        .bind(&new.client_ip)
        .bind(&new.category)
        .bind(i64::from(new.severity.clamp(1, 5)))
        .bind(&new.signal)
        .bind(&new.phrase_key)
        .bind(&new.phrase)
        .bind(&new.term)
        .bind(&new.url)
        .bind(i64::from(new.count))
        .bind(micros(new.first_at))
        .bind(micros(new.last_at))
        .bind(new.first_event)
        .bind(new.last_event)
        .bind(&new.routing)
        .execute(&mut **tx)
        .await?;
    }
    // Repeats fold into an alert with the larger count, time and event, so
    // only each alert's largest matter: one UPDATE an alert, however many
    // repeats the batch holds (a flood of blocked attempts folds thousands).
    let mut folds: std::collections::BTreeMap<i64, AlertFold> = std::collections::BTreeMap::new();
    for fold in &batch.folded {
        folds
            .entry(fold.alert)
            .and_modify(|kept| {
                kept.count = kept.count.max(fold.count);
                kept.last_at = kept.last_at.max(fold.last_at);
                kept.event = kept.event.max(fold.event);
            })
            .or_insert_with(|| fold.clone());
    }
    for fold in folds.values() {
        sqlx::query(
            "UPDATE alert SET count = MAX(count, ?), last_us = MAX(last_us, ?),
                 last_event = MAX(last_event, ?)
             WHERE id = ?",
        )
        .bind(i64::from(fold.count))
        .bind(micros(fold.last_at))
        .bind(fold.event)
        .bind(fold.alert)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO monitor_cursor (one, activity) VALUES (1, ?)
         ON CONFLICT (one) DO UPDATE SET activity = MAX(activity, excluded.activity)",
    )
    .bind(batch.cursor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(pool: &SqlitePool, id: i64) -> Result<Option<StoredAlert>, StoreError> {
    sqlx::query("SELECT * FROM alert WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(alert)
        .transpose()
}

pub async fn list(pool: &SqlitePool, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new("SELECT * FROM alert WHERE 1 = 1");
    if let Some(state) = &filter.state {
        query.push(" AND state = ").push_bind(state);
    }
    if let Some(category) = &filter.category {
        query.push(" AND category = ").push_bind(category);
    }
    if let Some(severity) = filter.min_severity {
        query
            .push(" AND severity >= ")
            .push_bind(i64::from(severity));
    }
    if let Some(before) = filter.before {
        query.push(" AND id < ").push_bind(before);
    }
    query
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::try_from(filter.limit).unwrap_or(i64::MAX));
    query
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(alert)
        .collect()
}

pub async fn count_in_state(pool: &SqlitePool, state: &str) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM alert WHERE state = ?")
            .bind(state)
            .fetch_one(pool)
            .await?,
    )
}

pub async fn triage(
    pool: &SqlitePool,
    from: &str,
    decision: &AlertTriage,
) -> Result<bool, StoreError> {
    let mut tx = write(pool).await?;
    let done = sqlx::query(
        "UPDATE alert SET state = ?, concern = COALESCE(?, concern) WHERE id = ? AND state = ?",
    )
    .bind(&decision.state)
    .bind(decision.concern)
    .bind(decision.alert)
    .bind(from)
    .execute(&mut *tx)
    .await;
    let done = match done {
        Ok(done) => done,
        Err(e) => return Err(abandon(tx, e.into()).await),
    };
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO alert_triage (alert, state, actor, at_us, reason, concern)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(decision.alert)
    .bind(&decision.state)
    .bind(&decision.actor)
    .bind(micros(decision.at))
    .bind(decision.reason.trim())
    .bind(decision.concern)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn history(pool: &SqlitePool, alert: i64) -> Result<Vec<AlertTriage>, StoreError> {
    let rows = sqlx::query("SELECT * FROM alert_triage WHERE alert = ? ORDER BY id")
        .bind(alert)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(AlertTriage {
                alert: row.try_get("alert")?,
                state: row.try_get("state")?,
                actor: row.try_get("actor")?,
                at: at(row, "at_us")?,
                reason: row.try_get("reason")?,
                concern: row.try_get("concern")?,
            })
        })
        .collect()
}

pub async fn outcomes(pool: &SqlitePool) -> Result<Vec<AlertOutcome>, StoreError> {
    let rows = sqlx::query("SELECT category, phrase_key, state FROM alert")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(AlertOutcome {
                category: row.try_get("category")?,
                phrase_key: row.try_get("phrase_key")?,
                state: row.try_get("state")?,
            })
        })
        .collect()
}

fn revision(row: &SqliteRow) -> Result<LibraryRevision, StoreError> {
    let files: String = row.try_get("files")?;
    Ok(LibraryRevision {
        number: row.try_get("id")?,
        at: at(row, "at_us")?,
        actor: row.try_get("actor")?,
        reason: row.try_get("reason")?,
        files: serde_json::from_str(&files)
            .map_err(|e| decode(format!("stored phrase library: {e}")))?,
    })
}

pub async fn library(pool: &SqlitePool) -> Result<Option<LibraryRevision>, StoreError> {
    sqlx::query("SELECT * FROM phrase_library ORDER BY id DESC LIMIT 1")
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(revision)
        .transpose()
}

pub async fn library_history(
    pool: &SqlitePool,
    limit: usize,
) -> Result<Vec<LibraryRevision>, StoreError> {
    let rows = sqlx::query("SELECT * FROM phrase_library ORDER BY id DESC LIMIT ?")
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    rows.iter().map(revision).collect()
}

pub async fn save_library(
    pool: &SqlitePool,
    files: &[(String, String)],
    actor: &str,
    reason: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    if reason.trim().is_empty() {
        return Err(StoreError::ReasonRequired);
    }
    let json = serde_json::to_string(files).map_err(|e| decode(e.to_string()))?;
    let mut tx = write(pool).await?;
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO phrase_library (at_us, actor, reason, files) VALUES (?, ?, ?, ?)
         RETURNING id",
    )
    .bind(micros(at))
    .bind(actor)
    .bind(reason.trim())
    .bind(json)
    .fetch_one(&mut *tx)
    .await?;
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    audit(
        &mut tx,
        at,
        actor,
        "phrase library changed",
        &format!(
            "revision {number} ({}): {}",
            names.join(", "),
            reason.trim()
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}
