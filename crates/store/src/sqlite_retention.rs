//! The SQLite side of retention: the one place safeguarding records are
//! ever deleted (records::retention decides what; this carries it out).
//!
//! Migration 0013 lets the records tables' DELETE triggers pass only while
//! a `records_purge` row is active. A purge inserts that row inside its own
//! `BEGIN IMMEDIATE` transaction, deletes what the plan lists (checking
//! legal holds again against the rows as they are now), writes the report
//! (which record and why, never its content), clears the row and commits.
//! Anything that goes wrong rolls the whole purge back, the authorisation
//! with it. UPDATE stays refused always.

use ::records::retention::{PurgeLine, PurgePlan};
use ::records::{RecordKind, RecordRef};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::sqlite::SqlitePool;
use sqlx::{Row, Sqlite, Transaction};

use crate::StoreError;
use crate::sqlite_console::{abandon, write};

/// What a purge removed, and what it kept and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// The report's number (0 for a dry run, which stores nothing).
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub removed: Vec<PurgeLine>,
    /// How many records were kept. The reasons are in `kept` for a purge
    /// just run; stored reports keep only the count.
    pub kept_count: i64,
    pub kept: Vec<PurgeLine>,
}

async fn held(tx: &mut Transaction<'_, Sqlite>, record: RecordRef) -> Result<bool, StoreError> {
    let hold: Option<bool> = sqlx::query_scalar(
        "SELECT hold FROM record_legal_hold WHERE record_kind = ? AND record_id = ?
         ORDER BY id DESC LIMIT 1",
    )
    .bind(record.kind.id())
    .bind(record.id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(hold.unwrap_or(false))
}

async fn run(
    tx: &mut Transaction<'_, Sqlite>,
    sql: &'static str,
    id: i64,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(sql)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// Everything stored with one incident: referrals and their responses,
/// steps, closure, attachments, amendments, reads and hold history.
async fn delete_incident(tx: &mut Transaction<'_, Sqlite>, id: i64) -> Result<u64, StoreError> {
    for sql in [
        "DELETE FROM referral_response WHERE referral_id IN (SELECT id FROM referral WHERE incident_id = ?1)",
        "DELETE FROM record_amendment WHERE record_kind = 'referral' AND record_id IN (SELECT id FROM referral WHERE incident_id = ?1)",
        "DELETE FROM record_legal_hold WHERE record_kind = 'referral' AND record_id IN (SELECT id FROM referral WHERE incident_id = ?1)",
        "DELETE FROM referral WHERE incident_id = ?1",
        "DELETE FROM incident_step WHERE incident_id = ?1",
        "DELETE FROM incident_closure WHERE incident_id = ?1",
        "DELETE FROM record_read WHERE target_kind = 'attachment' AND target IN (SELECT CAST(id AS TEXT) FROM incident_attachment WHERE incident_id = ?1)",
        "DELETE FROM incident_attachment_content WHERE attachment_id IN (SELECT id FROM incident_attachment WHERE incident_id = ?1)",
        "DELETE FROM incident_attachment WHERE incident_id = ?1",
        "DELETE FROM record_amendment WHERE record_kind = 'incident' AND record_id = ?1",
        "DELETE FROM record_read WHERE target_kind = 'incident' AND target = CAST(?1 AS TEXT)",
        "DELETE FROM record_legal_hold WHERE record_kind = 'incident' AND record_id = ?1",
    ] {
        run(tx, sql, id).await?;
    }
    run(tx, "DELETE FROM incident WHERE id = ?1", id).await
}

async fn delete_concern(tx: &mut Transaction<'_, Sqlite>, id: i64) -> Result<u64, StoreError> {
    for sql in [
        "DELETE FROM concern_pupil WHERE concern_id = ?1",
        "DELETE FROM concern_category WHERE concern_id = ?1",
        "DELETE FROM record_amendment WHERE record_kind = 'concern' AND record_id = ?1",
        "DELETE FROM record_read WHERE target_kind = 'concern' AND target = CAST(?1 AS TEXT)",
        "DELETE FROM record_legal_hold WHERE record_kind = 'concern' AND record_id = ?1",
    ] {
        run(tx, sql, id).await?;
    }
    run(tx, "DELETE FROM concern WHERE id = ?1", id).await
}

fn refused(message: String) -> StoreError {
    StoreError::Records(::records::RecordsError::Invalid(message))
}

async fn remove(
    tx: &mut Transaction<'_, Sqlite>,
    line: &PurgeLine,
    plan: &PurgePlan,
) -> Result<Option<String>, StoreError> {
    let record = line.record;
    if held(tx, record).await? {
        return Err(refused(format!(
            "{record} is under legal hold but the purge plan listed it; nothing was removed. Run the purge again"
        )));
    }
    let removed = match record.kind {
        RecordKind::Incident => {
            let concern: Option<Option<i64>> =
                sqlx::query_scalar("SELECT concern_id FROM incident WHERE id = ?")
                    .bind(record.id)
                    .fetch_optional(&mut **tx)
                    .await?;
            if let Some(Some(concern)) = concern {
                let from = RecordRef {
                    kind: RecordKind::Concern,
                    id: concern,
                };
                if held(tx, from).await? {
                    return Err(refused(format!(
                        "{record} grew from {from}, which is under legal hold, but the purge plan listed it; nothing was removed. Run the purge again"
                    )));
                }
            }
            delete_incident(tx, record.id).await?
        }
        RecordKind::Concern => {
            // An incident that grew from the concern and is kept keeps it.
            let incidents: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM incident WHERE concern_id = ?")
                    .bind(record.id)
                    .fetch_all(&mut **tx)
                    .await?;
            if let Some(kept) = incidents.iter().find(|i| {
                !plan.remove.iter().any(|l| {
                    l.record
                        == RecordRef {
                            kind: RecordKind::Incident,
                            id: **i,
                        }
                })
            }) {
                return Ok(Some(format!(
                    "kept while incident {kept}, which grew from it, is kept"
                )));
            }
            delete_concern(tx, record.id).await?
        }
        // Referrals go with their incident.
        RecordKind::Referral => {
            return Ok(Some(
                "referrals are kept and removed with their incident".into(),
            ));
        }
    };
    if removed == 0 {
        return Err(refused(format!(
            "{record} is not in the records any more, so the purge plan is out of date; nothing was removed. Run the purge again"
        )));
    }
    Ok(None)
}

/// Removes what `plan` lists, in one transaction, and stores the report.
pub(crate) async fn purge_records(
    pool: &SqlitePool,
    plan: &PurgePlan,
    actor: &str,
    at: Timestamp,
) -> Result<PurgeReport, StoreError> {
    let mut tx = write(pool).await?;
    let mut report = PurgeReport {
        id: 0,
        at,
        actor: actor.to_owned(),
        removed: Vec::new(),
        kept_count: 0,
        kept: plan.keep.clone(),
    };
    let id: i64 = match sqlx::query_scalar(
        "INSERT INTO records_purge (at_us, actor, active) VALUES (?, ?, 1) RETURNING id",
    )
    .bind(at.as_microsecond())
    .bind(actor)
    .fetch_one(&mut *tx)
    .await
    {
        Ok(id) => id,
        Err(e) => return Err(abandon(tx, e.into()).await),
    };
    report.id = id;
    // Incidents first: a concern goes only once its incidents have.
    let mut order: Vec<&PurgeLine> = plan.remove.iter().collect();
    order.sort_by_key(|l| l.record.kind != RecordKind::Incident);
    for line in order {
        match remove(&mut tx, line, plan).await {
            Err(e) => return Err(abandon(tx, e).await),
            Ok(Some(why)) => report.kept.push(PurgeLine {
                record: line.record,
                why,
            }),
            Ok(None) => report.removed.push(line.clone()),
        }
    }
    // The report lists them in the plan's order.
    report
        .removed
        .sort_by_key(|l| plan.remove.iter().position(|p| p == l));
    for line in &report.removed {
        let stored = sqlx::query(
            "INSERT INTO records_purge_line (purge_id, record_kind, record_id, why)
             VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(line.record.kind.id())
        .bind(line.record.id)
        .bind(&line.why)
        .execute(&mut *tx)
        .await;
        if let Err(e) = stored {
            return Err(abandon(tx, e.into()).await);
        }
    }
    report.kept_count = i64::try_from(report.kept.len()).unwrap_or(i64::MAX);
    let cleared = sqlx::query("UPDATE records_purge SET active = 0, kept = ? WHERE id = ?")
        .bind(report.kept_count)
        .bind(id)
        .execute(&mut *tx)
        .await;
    if let Err(e) = cleared {
        return Err(abandon(tx, e.into()).await);
    }
    tx.commit().await?;
    Ok(report)
}

/// The newest `limit` purge reports, newest first (kept reasons are not
/// stored: `kept` is empty, `kept_count` says how many).
pub(crate) async fn purge_reports(
    pool: &SqlitePool,
    limit: usize,
) -> Result<Vec<PurgeReport>, StoreError> {
    let rows = sqlx::query("SELECT * FROM records_purge WHERE active = 0 ORDER BY id DESC LIMIT ?")
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let lines = sqlx::query("SELECT * FROM records_purge_line WHERE purge_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(pool)
            .await?;
        let mut removed = Vec::with_capacity(lines.len());
        for l in &lines {
            let kind: String = l.try_get("record_kind")?;
            removed.push(PurgeLine {
                record: RecordRef {
                    kind: RecordKind::from_id(&kind)?,
                    id: l.try_get("record_id")?,
                },
                why: l.try_get("why")?,
            });
        }
        let at_us: i64 = row.try_get("at_us")?;
        out.push(PurgeReport {
            id,
            at: Timestamp::from_microsecond(at_us)
                .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?,
            actor: row.try_get("actor")?,
            removed,
            kept_count: row.try_get("kept")?,
            kept: Vec::new(),
        });
    }
    Ok(out)
}
