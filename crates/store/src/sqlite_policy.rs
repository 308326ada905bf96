//! The SQLite side of saving the filtering policy: one writer at a time, the
//! readable difference from the revision before, the audit entry that makes
//! a running filter reload, and the optional check that the change was made
//! from the newest revision.

use jiff::Timestamp;
use policy::Policy;
use policy::diff::diff;
use sqlx::sqlite::{Sqlite, SqlitePool};
use sqlx::{Row, Transaction};

use crate::sqlite::{audit, revision};
use crate::sqlite_console::{abandon, write};
use crate::{PolicyRevision, StoreError};

pub(crate) async fn revision_numbered(
    pool: &SqlitePool,
    number: i64,
) -> Result<Option<PolicyRevision>, StoreError> {
    let row = sqlx::query("SELECT * FROM policy_revision WHERE number = ?")
        .bind(number)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(revision).transpose()
}

/// Saves a new revision (§7.3.1: who, when, what and why). With `base`,
/// only while revision `base` is still the newest.
pub(crate) async fn save(
    pool: &SqlitePool,
    policy: &Policy,
    actor: &str,
    reason: &str,
    base: Option<i64>,
) -> Result<PolicyRevision, StoreError> {
    let mut tx = write(pool).await?;
    match save_in(&mut tx, policy, actor, reason, base).await {
        Ok(saved) => {
            tx.commit().await?;
            Ok(saved)
        }
        Err(e) => Err(abandon(tx, e).await),
    }
}

/// [`save`] inside a write transaction the caller commits or gives up.
pub(crate) async fn save_in(
    tx: &mut Transaction<'static, Sqlite>,
    policy: &Policy,
    actor: &str,
    reason: &str,
    base: Option<i64>,
) -> Result<PolicyRevision, StoreError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StoreError::ReasonRequired);
    }
    let previous = sqlx::query("SELECT * FROM policy_revision ORDER BY number DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(revision)
        .transpose()?;
    let current = previous.as_ref().map_or(0, |p| p.number);
    if let Some(base) = base
        && base != current
    {
        return Err(StoreError::StaleRevision { base, current });
    }
    let changes = match previous.as_ref().map(PolicyRevision::policy).transpose()? {
        Some(previous) => diff(&previous, policy),
        None => vec!["the first policy".to_owned()],
    };
    if changes.is_empty() {
        return Err(StoreError::NoChange);
    }
    let at = Timestamp::now();
    let document = policy.to_toml();
    let changes_json = serde_json::to_string(&changes).unwrap_or_else(|_| "[]".to_owned());
    let number: i64 = sqlx::query(
        "INSERT INTO policy_revision (at, actor, reason, changes, document) VALUES (?, ?, ?, ?, ?) RETURNING number",
    )
    .bind(at.to_string())
    .bind(actor)
    .bind(reason)
    .bind(&changes_json)
    .bind(&document)
    .fetch_one(&mut **tx)
    .await?
    .try_get("number")?;
    let detail = format!("revision {number}: {reason}");
    audit(tx, at, actor, "policy.change", &detail).await?;
    Ok(PolicyRevision {
        number,
        at,
        actor: actor.to_owned(),
        reason: reason.to_owned(),
        changes,
        document,
    })
}

#[cfg(test)]
mod tests {
    use policy::defaults::default_policy;

    use crate::sqlite::SqliteStore;
    use crate::{Store, StoreError};

    #[tokio::test]
    async fn a_change_from_an_older_revision_is_refused_and_nothing_is_saved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("open");
        let first = store
            .save_policy_on(&default_policy(), "tech", "set up", 0)
            .await
            .expect("first");
        assert_eq!(first.number, 1);
        let mut a = default_policy();
        a.school.name = "Ash Grove Primary".into();
        let mut b = default_policy();
        b.school.name = "Birch Lane Primary".into();
        store
            .save_policy_on(&a, "t.one", "the new name", 1)
            .await
            .expect("a");
        let refused = store.save_policy_on(&b, "t.two", "another name", 1).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::StaleRevision {
                    base: 1,
                    current: 2
                })
            ),
            "{refused:?}"
        );
        let current = store.current_policy().await.expect("read").expect("some");
        assert_eq!(current.number, 2);
        assert_eq!(
            current.policy().expect("policy").school.name,
            "Ash Grove Primary"
        );
        assert_eq!(store.audit_trail(10).await.expect("audit").len(), 2);

        let one = store.policy_revision(1).await.expect("read").expect("one");
        assert_eq!(one.changes, ["the first policy"]);
        assert!(store.policy_revision(9).await.expect("read").is_none());
        let same = store.save_policy_on(&a, "t.one", "again", 2).await;
        assert!(matches!(same, Err(StoreError::NoChange)), "{same:?}");
    }
}
