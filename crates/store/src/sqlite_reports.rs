//! The SQLite side of the reports (DESIGN.md C11): blocked attempts
//! counted in SQL, so a week of a large school's log is a seek on the
//! `activity_not_allowed` index (migration 0005) and a grouping, never a
//! scan of every event. The rows are handed to the pure `reports` crate.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::sqlite::SqlitePool;

use reports::weekly::{AttemptRow, SearchRow, SiteRow};

use crate::StoreError;
use crate::reports::WeeklyRows;
use crate::sqlite::{from_micros, micros};

// `verdict <> 'allow'` repeats the partial index's condition so SQLite
// chooses it; `verdict = 'block'` alone does not prove it.
macro_rules! who {
    () => {
        "COALESCE(username, 'address ' || client_ip)"
    };
}

pub(crate) async fn weekly_rows(
    pool: &SqlitePool,
    from: Timestamp,
    until: Timestamp,
) -> Result<WeeklyRows, StoreError> {
    let (from, until) = (micros(from), micros(until));
    let mut attempts = Vec::new();
    for row in sqlx::query(concat!(
        "SELECT ",
        who!(),
        " AS who, username, categories, COUNT(*) AS attempts,
                MIN(at_us) AS first_us, MAX(at_us) AS last_us
         FROM activity
         WHERE verdict <> 'allow' AND verdict = 'block' AND at_us >= ? AND at_us < ?
         GROUP BY who, username, categories"
    ))
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?
    {
        attempts.push(AttemptRow {
            who: row.try_get("who")?,
            username: row.try_get("username")?,
            categories: row.try_get("categories")?,
            attempts: row.try_get::<i64, _>("attempts")? as u64,
            first: from_micros(&row, "first_us")?,
            last: from_micros(&row, "last_us")?,
        });
    }
    let mut sites = Vec::new();
    for row in sqlx::query(concat!(
        "SELECT ",
        who!(),
        " AS who, host, COUNT(*) AS attempts
         FROM activity
         WHERE verdict <> 'allow' AND verdict = 'block' AND at_us >= ? AND at_us < ?
         GROUP BY who, host"
    ))
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?
    {
        sites.push(SiteRow {
            who: row.try_get("who")?,
            host: row.try_get("host")?,
            attempts: row.try_get::<i64, _>("attempts")? as u64,
        });
    }
    // Search terms from blocked requests and from searches made safe.
    let mut searches = Vec::new();
    for row in sqlx::query(concat!(
        "SELECT ",
        who!(),
        " AS who, search_term, COUNT(*) AS attempts
         FROM activity
         WHERE verdict <> 'allow' AND verdict IN ('block', 'safe-search')
           AND at_us >= ? AND at_us < ?
           AND search_term IS NOT NULL AND search_term <> ''
         GROUP BY who, search_term"
    ))
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?
    {
        searches.push(SearchRow {
            who: row.try_get("who")?,
            term: row.try_get("search_term")?,
            attempts: row.try_get::<i64, _>("attempts")? as u64,
        });
    }
    Ok(WeeklyRows {
        attempts,
        sites,
        searches,
    })
}

/// Blocked attempts per set of categories (as the log keeps them).
pub(crate) async fn blocked_by_categories(
    pool: &SqlitePool,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<(String, u64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT categories, COUNT(*) AS attempts FROM activity
         WHERE verdict <> 'allow' AND verdict = 'block' AND at_us >= ? AND at_us < ?
         GROUP BY categories",
    )
    .bind(micros(from))
    .bind(micros(until))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("categories")?,
                r.try_get::<i64, _>("attempts")? as u64,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn weekly_queries_use_the_blocked_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("s.db"))
            .await
            .expect("open");
        let plan: Vec<String> = sqlx::query(concat!(
        "EXPLAIN QUERY PLAN SELECT ",
        who!(),
        " AS who, COUNT(*) FROM activity
             WHERE verdict <> 'allow' AND verdict = 'block' AND at_us >= 1 AND at_us < 2 GROUP BY who"
    ))
        .fetch_all(store.pool())
        .await
        .expect("plan")
        .iter()
        .map(|r| r.get::<String, _>("detail"))
        .collect();
        assert!(
            plan.iter().any(|d| d.contains("activity_not_allowed")),
            "{plan:?}"
        );
    }
}
