//! The SQLite side of review requests and the activity log's search pages
//! (see [`crate::reviews`]). [`crate::sqlite::SqliteStore`] implements the
//! `Store` methods with these.

use std::str::FromStr;

use jiff::Timestamp;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::reviews::{
    ActivityCursor, ActivityRow, Decided, PolicyChange, Review, ReviewDecision, ReviewFilter,
    ReviewKind, ReviewStatus, StaffReport,
};
use crate::sqlite::{activity_event, audit, micros, timestamp};
use crate::sqlite_console::{abandon, write};
use crate::sqlite_policy::save_in;
use crate::{ActivityQuery, StoreError};

fn review(row: &SqliteRow) -> Result<Review, StoreError> {
    let decided_at: Option<String> = row.try_get("decided_at")?;
    Ok(Review {
        id: row.try_get("id")?,
        at: timestamp(row, "at")?,
        kind: ReviewKind::parse(&row.try_get::<String, _>("kind")?),
        reference: row.try_get("reference")?,
        url: row.try_get("url")?,
        profile: row.try_get("profile")?,
        rule: row.try_get("rule")?,
        client_ip: row.try_get("client_ip")?,
        username: row.try_get("username")?,
        device: row.try_get("device")?,
        requester: row.try_get("requester")?,
        found_by: row.try_get("found_by")?,
        message: row.try_get("message")?,
        breach: row.try_get("breach")?,
        status: ReviewStatus::parse(&row.try_get::<String, _>("status")?),
        decided_by: row.try_get("decided_by")?,
        decided_at: decided_at
            .map(|t| Timestamp::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?,
        decision_reason: row.try_get("decision_reason")?,
        policy_revision: row.try_get("policy_revision")?,
    })
}

pub(crate) async fn review_by_id(pool: &SqlitePool, id: i64) -> Result<Option<Review>, StoreError> {
    let row = sqlx::query("SELECT * FROM review_request WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(review).transpose()
}

pub(crate) async fn review_by_reference(
    pool: &SqlitePool,
    reference: &str,
) -> Result<Option<Review>, StoreError> {
    let row = sqlx::query(
        "SELECT * FROM review_request WHERE reference = ? AND reference <> '' ORDER BY id DESC LIMIT 1",
    )
    .bind(reference)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(review).transpose()
}

pub(crate) async fn reviews(
    pool: &SqlitePool,
    filter: &ReviewFilter,
) -> Result<Vec<Review>, StoreError> {
    let mut select = QueryBuilder::<Sqlite>::new("SELECT * FROM review_request WHERE 1 = 1");
    if let Some(requester) = &filter.requester {
        select
            .push(" AND requester = ")
            .push_bind(requester.clone());
    }
    if filter.breaches_only {
        select.push(" AND breach = 1");
    }
    if filter.open_only {
        select.push(" AND status = 'open'");
    }
    select
        .push(" ORDER BY status = 'open' DESC, id DESC LIMIT ")
        .push_bind(filter.limit.max(1) as i64);
    let rows = select.build().fetch_all(pool).await?;
    rows.iter().map(review).collect()
}

pub(crate) async fn add_staff_report(
    pool: &SqlitePool,
    report: &StaffReport,
) -> Result<i64, StoreError> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO review_request (at, reference, url, profile, rule, client_ip, username, device, \
         message, status, kind, requester, found_by, breach)
         VALUES (?, '', ?, '', '', '', NULL, ?, ?, 'open', 'under-blocking', ?, ?, 1) RETURNING id",
    )
    .bind(report.at.to_string())
    .bind(&report.url)
    .bind(&report.device)
    .bind(&report.what_happened)
    .bind(&report.requester)
    .bind(&report.found_by)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    // The URL only: who found it may name a pupil, and the audit trail is
    // read by technicians.
    audit(
        &mut tx,
        report.at,
        &report.requester,
        "review.report",
        &format!("#{id} filtering breach reported: {}", report.url),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(crate) async fn decide_review(
    pool: &SqlitePool,
    id: i64,
    decision: &ReviewDecision,
) -> Result<bool, StoreError> {
    let mut tx = write(pool).await?;
    match decide_in(&mut tx, id, decision).await {
        Ok(true) => {
            tx.commit().await?;
            Ok(true)
        }
        Ok(false) => {
            tx.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(abandon(tx, e).await),
    }
}

/// Decides a review and saves the policy its approval makes, in one
/// transaction: both happen, or neither. The policy is saved only while
/// revision `base` is still the newest ([`StoreError::StaleRevision`]); a
/// policy that changes nothing saves no revision.
pub(crate) async fn decide_review_changing_policy(
    pool: &SqlitePool,
    id: i64,
    decision: &ReviewDecision,
    change: &PolicyChange<'_>,
) -> Result<Decided, StoreError> {
    let mut tx = write(pool).await?;
    let saved = match save_in(
        &mut tx,
        change.policy,
        &decision.by,
        change.reason,
        Some(change.base),
    )
    .await
    {
        Ok(saved) => Some(saved),
        Err(StoreError::NoChange) => None,
        Err(e) => return Err(abandon(tx, e).await),
    };
    let decision = ReviewDecision {
        policy_revision: saved.as_ref().map(|r| r.number),
        ..decision.clone()
    };
    match decide_in(&mut tx, id, &decision).await {
        Ok(true) => {
            tx.commit().await?;
            Ok(Decided::Decided { revision: saved })
        }
        Ok(false) => {
            tx.rollback().await?;
            Ok(Decided::NotOpen)
        }
        Err(e) => Err(abandon(tx, e).await),
    }
}

/// Records the decision; false (and nothing written) when the review is
/// not open.
async fn decide_in(
    tx: &mut Transaction<'static, Sqlite>,
    id: i64,
    decision: &ReviewDecision,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE review_request SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ?, \
         policy_revision = ? WHERE id = ? AND status = 'open'",
    )
    .bind(if decision.approved {
        ReviewStatus::Approved.as_str()
    } else {
        ReviewStatus::Declined.as_str()
    })
    .bind(&decision.by)
    .bind(decision.at.to_string())
    .bind(decision.reason.trim())
    .bind(decision.policy_revision)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let revision = decision
        .policy_revision
        .map(|n| format!(" (policy revision {n})"))
        .unwrap_or_default();
    audit(
        tx,
        decision.at,
        &decision.by,
        "review.decision",
        &format!(
            "#{id} {}{revision}: {}",
            if decision.approved {
                "approved"
            } else {
                "declined"
            },
            decision.reason.trim()
        ),
    )
    .await?;
    Ok(true)
}

/// Verdicts the log holds; anything else matches nothing.
const VERDICTS: [&str; 3] = ["allow", "block", "safe-search"];

/// One page of the activity log, newest first, after `before`.
///
/// A category search is driven from `activity_category` (category, time,
/// event), so "category X last week" reads only X's events of that week;
/// every other search walks an index of `activity` newest first and stops
/// at the page's end.
pub(crate) async fn activity_page(
    pool: &SqlitePool,
    q: &ActivityQuery,
    before: Option<ActivityCursor>,
) -> Result<Vec<ActivityRow>, StoreError> {
    let (mut select, at, id) = match &q.category {
        Some(category) => {
            let mut s = QueryBuilder::<Sqlite>::new(
                "SELECT a.* FROM activity_category c JOIN activity a ON a.id = c.activity_id \
                 WHERE c.category = ",
            );
            s.push_bind(category.clone());
            (s, "c.at_us", "c.activity_id")
        }
        None => (
            QueryBuilder::<Sqlite>::new("SELECT a.* FROM activity a WHERE 1 = 1"),
            "a.at_us",
            "a.id",
        ),
    };
    if let Some(v) = &q.username {
        select.push(" AND a.username = ").push_bind(v.clone());
    }
    if let Some(v) = &q.device {
        select.push(" AND a.device = ").push_bind(v.clone());
    }
    if let Some(v) = &q.client_ip {
        select.push(" AND a.client_ip = ").push_bind(v.clone());
    }
    if let Some(v) = q.from {
        select.push(format!(" AND {at} >= ")).push_bind(micros(v));
    }
    if let Some(v) = q.to {
        select.push(format!(" AND {at} < ")).push_bind(micros(v));
    }
    if let Some(v) = &q.verdict {
        match VERDICTS.iter().find(|known| **known == v.as_str()) {
            // Written out, not bound, so SQLite can use the partial index
            // of the few events that were not simply allowed.
            Some(&"allow") => {
                select.push(" AND a.verdict = 'allow'");
            }
            Some(known) => {
                select.push(format!(
                    " AND a.verdict <> 'allow' AND a.verdict = '{known}'"
                ));
            }
            None => {
                select.push(" AND 0");
            }
        }
    }
    if let Some(v) = q.source {
        select.push(" AND a.source = ").push_bind(v.as_str());
    }
    if let Some(c) = before {
        select
            .push(format!(" AND ({at}, {id}) < ("))
            .push_bind(c.at_us)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    select
        .push(format!(" ORDER BY {at} DESC, {id} DESC LIMIT "))
        .push_bind(q.limit.max(1) as i64);
    let rows = select.build().fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            Ok(ActivityRow {
                id: row.try_get("id")?,
                event: activity_event(row)?,
            })
        })
        .collect()
}
