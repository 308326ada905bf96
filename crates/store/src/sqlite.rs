//! The embedded SQLite backend.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use policy::Policy;
use policy::diff::diff;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::{AuditEntry, ListRecord, PolicyRevision, StatutoryRecord, Store, StoreError};

/// A store in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn timestamp(row: &SqliteRow, column: &str) -> Result<Timestamp, StoreError> {
    let text: String = row.try_get(column)?;
    Timestamp::from_str(&text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

async fn audit(
    tx: &mut Transaction<'_, Sqlite>,
    at: Timestamp,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)")
        .bind(at.to_string())
        .bind(actor)
        .bind(action)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn revision(row: &SqliteRow) -> Result<PolicyRevision, StoreError> {
    let number: i64 = row.try_get("number")?;
    let changes: String = row.try_get("changes")?;
    Ok(PolicyRevision {
        number,
        at: timestamp(row, "at")?,
        actor: row.try_get("actor")?,
        reason: row.try_get("reason")?,
        changes: serde_json::from_str(&changes).map_err(|e| StoreError::BadRevision {
            number,
            problem: e.to_string(),
        })?,
        document: row.try_get("document")?,
    })
}

impl SqliteStore {
    /// Opens (creating if need be) the database file and brings its schema up
    /// to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for tests that check what the database itself refuses.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl Store for SqliteStore {
    async fn current_policy(&self) -> Result<Option<PolicyRevision>, StoreError> {
        let row = sqlx::query("SELECT * FROM policy_revision ORDER BY number DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(revision).transpose()
    }

    async fn save_policy(
        &self,
        policy: &Policy,
        actor: &str,
        reason: &str,
    ) -> Result<PolicyRevision, StoreError> {
        if reason.trim().is_empty() {
            return Err(StoreError::ReasonRequired);
        }
        let mut tx = self.pool.begin().await?;
        let previous = sqlx::query("SELECT * FROM policy_revision ORDER BY number DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let changes = match previous.as_ref().map(revision).transpose()? {
            Some(previous) => {
                let changes = diff(&previous.policy()?, policy);
                if changes.is_empty() {
                    return Err(StoreError::NoChange);
                }
                changes
            }
            None => vec!["the first policy".to_owned()],
        };
        let at = Timestamp::now();
        let document = policy.to_toml();
        let changes_json = serde_json::to_string(&changes).unwrap_or_else(|_| "[]".to_owned());
        let number: i64 = sqlx::query(
            "INSERT INTO policy_revision (at, actor, reason, changes, document) VALUES (?, ?, ?, ?, ?) RETURNING number",
        )
        .bind(at.to_string())
        .bind(actor)
        .bind(reason.trim())
        .bind(&changes_json)
        .bind(&document)
        .fetch_one(&mut *tx)
        .await?
        .try_get("number")?;
        audit(
            &mut tx,
            at,
            actor,
            "policy.change",
            &format!("revision {number}: {}", reason.trim()),
        )
        .await?;
        tx.commit().await?;
        Ok(PolicyRevision {
            number,
            at,
            actor: actor.to_owned(),
            reason: reason.trim().to_owned(),
            changes,
            document,
        })
    }

    async fn policy_history(&self, limit: usize) -> Result<Vec<PolicyRevision>, StoreError> {
        let rows = sqlx::query("SELECT * FROM policy_revision ORDER BY number DESC LIMIT ?")
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(revision).collect()
    }

    async fn record_list(&self, record: &ListRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO list (name, category, format, source, domains, urls, junk, imported_at, actor)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET category = excluded.category, format = excluded.format,
               source = excluded.source, domains = excluded.domains, urls = excluded.urls,
               junk = excluded.junk, imported_at = excluded.imported_at, actor = excluded.actor",
        )
        .bind(&record.name)
        .bind(&record.category)
        .bind(&record.format)
        .bind(&record.source)
        .bind(record.domains)
        .bind(record.urls)
        .bind(record.junk)
        .bind(record.imported_at.to_string())
        .bind(&record.actor)
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "{}: {} domains, {} URLs, {} junk lines, from {}",
            record.name, record.domains, record.urls, record.junk, record.source
        );
        audit(
            &mut tx,
            record.imported_at,
            &record.actor,
            "list.import",
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_lists(&self, names: &[String], actor: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let at = Timestamp::now();
        for name in names {
            sqlx::query("DELETE FROM list WHERE name = ?")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            audit(&mut tx, at, actor, "list.remove", name).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn lists(&self) -> Result<Vec<ListRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM list ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ListRecord {
                    name: row.try_get("name")?,
                    category: row.try_get("category")?,
                    format: row.try_get("format")?,
                    source: row.try_get("source")?,
                    domains: row.try_get("domains")?,
                    urls: row.try_get("urls")?,
                    junk: row.try_get("junk")?,
                    imported_at: timestamp(row, "imported_at")?,
                    actor: row.try_get("actor")?,
                })
            })
            .collect()
    }

    async fn record_statutory(&self, record: &StatutoryRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO statutory_list (kind, entries, fingerprint, form, loaded_at, actor) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (kind) DO UPDATE SET entries = excluded.entries, fingerprint = excluded.fingerprint,
               form = excluded.form, loaded_at = excluded.loaded_at, actor = excluded.actor",
        )
        .bind(&record.kind)
        .bind(record.entries)
        .bind(&record.fingerprint)
        .bind(&record.form)
        .bind(record.loaded_at.to_string())
        .bind(&record.actor)
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "{}: {} entries, fingerprint {}, loaded from {}",
            record.kind, record.entries, record.fingerprint, record.form
        );
        audit(
            &mut tx,
            record.loaded_at,
            &record.actor,
            "statutory.load",
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn statutory(&self) -> Result<Vec<StatutoryRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM statutory_list ORDER BY kind")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StatutoryRecord {
                    kind: row.try_get("kind")?,
                    entries: row.try_get("entries")?,
                    fingerprint: row.try_get("fingerprint")?,
                    form: row.try_get("form")?,
                    loaded_at: timestamp(row, "loaded_at")?,
                    actor: row.try_get("actor")?,
                })
            })
            .collect()
    }

    async fn audit_trail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT * FROM audit ORDER BY id DESC LIMIT ?")
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: timestamp(row, "at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use classify::taxonomy::Category;
    use policy::defaults::default_policy;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("schoolgate.db"))
            .await
            .expect("open");
        (dir, store)
    }

    #[tokio::test]
    async fn policy_changes_keep_who_when_what_and_why() {
        let (_dir, store) = store().await;
        assert!(store.current_policy().await.expect("current").is_none());
        let first = store
            .save_policy(
                &default_policy(),
                "schoolgate",
                "defaults from the seed policies",
            )
            .await
            .expect("save");
        assert_eq!(first.number, 1);

        let mut changed = default_policy();
        let ks2 = changed
            .profiles
            .iter_mut()
            .find(|p| p.id == "ks2")
            .expect("ks2");
        ks2.blocked_categories
            .remove(Category::from_id("games").expect("games"));
        let second = store
            .save_policy(
                &changed,
                "a.technician",
                "Year 6 coding club uses game sites; risk assessed by DSL",
            )
            .await
            .expect("save");
        assert_eq!(
            second.changes,
            ["profile ks2: blocked_categories removed games"]
        );

        let history = store.policy_history(10).await.expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].actor, "a.technician");
        assert!(history[0].reason.contains("risk assessed"));
        assert_eq!(history[0].policy().expect("policy"), changed);
        assert_eq!(
            store
                .current_policy()
                .await
                .expect("current")
                .expect("some")
                .number,
            2
        );
    }

    #[tokio::test]
    async fn a_reason_is_required_and_no_op_changes_are_refused() {
        let (_dir, store) = store().await;
        let err = store
            .save_policy(&default_policy(), "someone", "  ")
            .await
            .expect_err("no reason");
        assert!(matches!(err, StoreError::ReasonRequired));
        store
            .save_policy(&default_policy(), "someone", "start")
            .await
            .expect("save");
        let err = store
            .save_policy(&default_policy(), "someone", "again")
            .await
            .expect_err("same");
        assert!(matches!(err, StoreError::NoChange));
        assert_eq!(store.policy_history(10).await.expect("history").len(), 1);
    }

    #[tokio::test]
    async fn history_and_audit_cannot_be_rewritten() {
        let (_dir, store) = store().await;
        store
            .save_policy(&default_policy(), "someone", "start")
            .await
            .expect("save");
        for sql in [
            "UPDATE policy_revision SET reason = 'nothing to see'",
            "DELETE FROM policy_revision",
            "UPDATE audit SET actor = 'nobody'",
            "DELETE FROM audit",
        ] {
            let err = sqlx::query(sql).execute(store.pool()).await.expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        let trail = store.audit_trail(10).await.expect("audit");
        assert_eq!(trail.len(), 1);
        assert_eq!(trail[0].action, "policy.change");
    }

    #[tokio::test]
    async fn lists_and_statutory_records_are_kept_and_audited() {
        let (_dir, store) = store().await;
        let mut record = ListRecord {
            name: "ut1/gambling".into(),
            category: Some("gambling".into()),
            format: "ut1".into(),
            source: "starter".into(),
            domains: 10,
            urls: 2,
            junk: 1,
            imported_at: Timestamp::now(),
            actor: "schoolgate".into(),
        };
        store.record_list(&record).await.expect("record");
        record.domains = 12;
        store.record_list(&record).await.expect("replace");
        let lists = store.lists().await.expect("lists");
        assert_eq!(lists.len(), 1);
        assert_eq!(lists[0].domains, 12);
        store
            .remove_lists(&["ut1/gambling".into()], "someone")
            .await
            .expect("remove");
        assert!(store.lists().await.expect("lists").is_empty());

        let statutory = StatutoryRecord {
            kind: "iwf".into(),
            entries: 3,
            fingerprint: "0123456789abcdef".into(),
            form: "hashes".into(),
            loaded_at: Timestamp::now(),
            actor: "dsl".into(),
        };
        store.record_statutory(&statutory).await.expect("statutory");
        assert_eq!(store.statutory().await.expect("read"), [statutory]);
        let actions: Vec<String> = store
            .audit_trail(10)
            .await
            .expect("audit")
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(
            actions,
            [
                "statutory.load",
                "list.remove",
                "list.import",
                "list.import"
            ]
        );
    }
}
