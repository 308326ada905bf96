//! The embedded SQLite backend.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use ::records::registers::{Register, RegisterEntry};
use ::records::{
    Amendment, AttachmentMeta, Category, CategoryDecision, Closure, Concern, DirectoryContact,
    Incident, LegalHold, NewAttachment, NewConcern, NewIncident, NewReferral, PupilLinkChange,
    ReadLogEntry, ReadTarget, ReferralResponse, Role, StepRecord,
};
use jiff::Timestamp;
use policy::Policy;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::reviews::{
    ActivityCursor, ActivityRow, Decided, PolicyChange, Review, ReviewDecision, ReviewFilter,
    StaffReport,
};
use crate::sqlite_console as console;
use crate::sqlite_people as people;
use crate::sqlite_records as records;
use crate::sqlite_reviews as reviews;
use crate::{
    ActivityEvent, ActivityQuery, ApiToken, AuditEntry, ConsoleAccount, ConsoleSession, Device,
    Hidden, ImportOutcome, ImportedPerson, ListRecord, LoginSession, Network, NewConsoleAccount,
    PeoplePage, PeopleQuery, Person, PersonChange, PersonRecord, PolicyRevision, ReviewRequest,
    SetupLink, Source, StatutoryRecord, Store, StoreError,
};

/// The sizes of the activity INSERT statements, in rows. A batch is written
/// as whole statements of the largest size that fits, then the smaller ones,
/// so each connection prepares (parses) just these four statements once and
/// reuses them: parsing a statement of many rows for every batch cost more
/// than inserting its rows. 256 rows of 17 values stay well under SQLite's
/// 32,766 parameters a statement. `OR FAIL` keeps the rows a failing
/// statement had already written, rather than undoing them alone, so SQLite
/// journals less for each statement; the transaction is rolled back whole
/// on any error, so nothing of a failed batch is kept either way.
const ACTIVITY_STATEMENT_ROWS: [usize; 4] = [256, 32, 4, 1];

type Statements = std::sync::OnceLock<[String; ACTIVITY_STATEMENT_ROWS.len()]>;

/// `head` followed by `values` rows of `columns` parameters, for each size
/// of [`ACTIVITY_STATEMENT_ROWS`], made once; the `which`th.
fn multi_row(cell: &'static Statements, head: &str, columns: usize, which: usize) -> &'static str {
    let all = cell.get_or_init(|| {
        let row = format!("({})", vec!["?"; columns].join(", "));
        ACTIVITY_STATEMENT_ROWS
            .map(|rows| format!("{head} VALUES {}", vec![row.as_str(); rows].join(", ")))
    });
    &all[which]
}

/// The INSERT for the `which`th size of [`ACTIVITY_STATEMENT_ROWS`].
fn activity_insert_sql(which: usize) -> &'static str {
    static SQL: Statements = Statements::new();
    multi_row(
        &SQL,
        "INSERT OR FAIL INTO activity (at_us, source, client_ip, username, device, profile, method, url, \
         host, search_term, categories, verdict, rule, status, bytes, duration_ms, reference)",
        17,
        which,
    )
}

/// The side table's INSERT for the `which`th size of
/// [`ACTIVITY_STATEMENT_ROWS`]; an event that names a category twice has
/// one row for it.
fn category_insert_sql(which: usize) -> &'static str {
    static SQL: Statements = Statements::new();
    multi_row(
        &SQL,
        "INSERT OR IGNORE INTO activity_category (category, at_us, activity_id)",
        3,
        which,
    )
}

/// A text value for binding in one allocation: the driver copies a bound
/// `&str` into a new `String` inside a new `Arc`, two allocations for each
/// of the activity log's eleven text values an event.
fn text(value: &str) -> std::sync::Arc<str> {
    std::sync::Arc::from(value)
}

pub(crate) fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

pub(crate) fn from_micros(row: &SqliteRow, column: &str) -> Result<Timestamp, StoreError> {
    let us: i64 = row.try_get(column)?;
    Timestamp::from_microsecond(us)
        .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

/// A unique-constraint failure becomes a plain "already exists".
fn exists(what: &'static str, name: &str) -> impl FnOnce(sqlx::Error) -> StoreError {
    let name = name.to_owned();
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Exists { what, name },
        _ => StoreError::Database(e),
    }
}

pub(crate) fn activity_event(row: &SqliteRow) -> Result<ActivityEvent, StoreError> {
    let source: String = row.try_get("source")?;
    Ok(ActivityEvent {
        at: from_micros(row, "at_us")?,
        source: if source == "dns" {
            Source::Dns
        } else {
            Source::Proxy
        },
        client_ip: row.try_get("client_ip")?,
        username: row.try_get("username")?,
        device: row.try_get("device")?,
        profile: row.try_get("profile")?,
        method: row.try_get("method")?,
        url: row.try_get("url")?,
        host: row.try_get("host")?,
        search_term: row.try_get("search_term")?,
        categories: row.try_get("categories")?,
        verdict: row.try_get("verdict")?,
        rule: row.try_get("rule")?,
        status: row
            .try_get::<Option<i64>, _>("status")?
            .and_then(|s| u16::try_from(s).ok()),
        bytes: row.try_get::<i64, _>("bytes")?.max(0) as u64,
        duration_ms: row
            .try_get::<i64, _>("duration_ms")?
            .clamp(0, u32::MAX as i64) as u32,
        reference: row.try_get("reference")?,
    })
}

/// A store in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

pub(crate) fn timestamp(row: &SqliteRow, column: &str) -> Result<Timestamp, StoreError> {
    let text: String = row.try_get(column)?;
    Timestamp::from_str(&text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

pub(crate) async fn audit(
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

pub(crate) fn revision(row: &SqliteRow) -> Result<PolicyRevision, StoreError> {
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

/// A pool of up to `connections` connections to the database file, each
/// with up to `cache_kib` KiB of page cache.
async fn connect(path: &Path, connections: u32, cache_kib: u32) -> Result<SqlitePool, StoreError> {
    connect_with(path, connections, cache_kib, |o| o).await
}

async fn connect_with(
    path: &Path,
    connections: u32,
    cache_kib: u32,
    more: impl FnOnce(SqliteConnectOptions) -> SqliteConnectOptions,
) -> Result<SqlitePool, StoreError> {
    let options = more(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", format!("-{cache_kib}"))
            .foreign_keys(true),
    );
    SqlitePoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })
}

impl SqliteStore {
    /// Opens (creating if need be) the database file and brings its schema up
    /// to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        // 32 MiB of page cache a connection (SQLite's default is 2 MiB):
        // the activity log's indexes by person, address and device take
        // each batch of events at scattered places, and with the pages
        // they touch kept in memory the writer kept up with twice the
        // events a second (measured with 200,000 events).
        let pool = connect(path, 4, 32 * 1024).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// A second way into a database that [`SqliteStore::open`] has already
    /// brought up to date, through one connection of its own, for work in
    /// the background. SQLite runs each connection on a thread of its own,
    /// started by the thread that opens it (and whenever the connection is
    /// opened again), and that thread keeps its scheduling priority: opened
    /// from a thread of lowered priority, the background's reading of the
    /// activity log gives way to the proxy. Its page cache is SQLite's
    /// default 2 MiB: it reads each new event once, in order, so a larger
    /// one would only hold memory.
    pub async fn open_background(path: &Path) -> Result<SqliteStore, StoreError> {
        Ok(SqliteStore {
            pool: connect(path, 1, 2 * 1024).await?,
        })
    }

    /// The activity log's writer's own way into a database that
    /// [`SqliteStore::open`] has already brought up to date: one
    /// connection, opened from the writer's thread so that SQLite's thread
    /// for it takes the writer's lowered priority, with the 32 MiB of page
    /// cache [`SqliteStore::open`] gives for the log's indexes.
    pub async fn open_writer(path: &Path) -> Result<SqliteStore, StoreError> {
        // Each multi-row INSERT of the log keeps a statement journal (the
        // pages it changed, to undo it alone if it failed half-way; the
        // category trigger makes SQLite keep one). In a file, that was
        // about a third of the writer's system calls; in memory it costs a
        // few hundred KiB a statement. Only this connection does it: the
        // console's large sorts would also go to memory.
        Ok(SqliteStore {
            pool: connect_with(path, 1, 32 * 1024, |o| o.pragma("temp_store", "memory")).await?,
        })
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
        crate::sqlite_policy::save(&self.pool, policy, actor, reason, None).await
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

    async fn audit_high_water(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT coalesce(max(id), 0) AS id FROM audit")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("id")?)
    }

    async fn save_person(&self, person: &Person, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let at = Timestamp::now();
        sqlx::query(
            "INSERT INTO person (username, display_name, profile, password_hash, disabled, created_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
               profile = excluded.profile, password_hash = excluded.password_hash, disabled = excluded.disabled",
        )
        .bind(&person.username)
        .bind(&person.display_name)
        .bind(&person.profile)
        .bind(&person.password_hash)
        .bind(person.disabled)
        .bind(at.to_string())
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "{} ({}), profile {}{}",
            person.username,
            person.display_name,
            person.profile,
            if person.password_hash.is_some() {
                ", can sign in to the proxy"
            } else {
                ""
            }
        );
        audit(&mut tx, at, actor, "person.save", &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        let rows = sqlx::query("SELECT * FROM person ORDER BY username")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Person {
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    profile: row.try_get("profile")?,
                    password_hash: row.try_get("password_hash")?,
                    disabled: row.try_get("disabled")?,
                })
            })
            .collect()
    }

    async fn disable_person(&self, username: &str, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE person SET disabled = 1, disabled_at = ?, disabled_by = ? WHERE username = ?",
        )
        .bind(Timestamp::now().to_string())
        .bind(actor)
        .bind(username)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Roll back before returning, so the write lock is released now
            // rather than when the pool gets round to it.
            tx.rollback().await?;
            return Err(StoreError::NotFound {
                what: "person",
                name: username.to_owned(),
            });
        }
        audit(&mut tx, Timestamp::now(), actor, "person.disable", username).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_device(&self, device: &Device, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let at = Timestamp::now();
        sqlx::query(
            "INSERT INTO device (name, kind, address, owner, school_owned, created_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, address = excluded.address,
               owner = excluded.owner, school_owned = excluded.school_owned",
        )
        .bind(&device.name)
        .bind(&device.kind)
        .bind(&device.address)
        .bind(&device.owner)
        .bind(device.school_owned)
        .bind(at.to_string())
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "{} at {} ({}, {})",
            device.name,
            device.address,
            if device.school_owned {
                "school-owned"
            } else {
                "personal"
            },
            if device.owner.is_empty() {
                "no owner given"
            } else {
                &device.owner
            }
        );
        audit(&mut tx, at, actor, "device.save", &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn devices(&self) -> Result<Vec<Device>, StoreError> {
        let rows = sqlx::query("SELECT * FROM device ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Device {
                    name: row.try_get("name")?,
                    kind: row.try_get("kind")?,
                    address: row.try_get("address")?,
                    owner: row.try_get("owner")?,
                    school_owned: row.try_get("school_owned")?,
                })
            })
            .collect()
    }

    async fn remove_device(&self, name: &str, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM device WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            // Roll back before returning, so the write lock is released now
            // rather than when the pool gets round to it.
            tx.rollback().await?;
            return Err(StoreError::NotFound {
                what: "device",
                name: name.to_owned(),
            });
        }
        audit(&mut tx, Timestamp::now(), actor, "device.remove", name).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_network(&self, network: &Network, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let at = Timestamp::now();
        let ranges = network.ranges.join(",");
        sqlx::query(
            "INSERT INTO network (name, ranges, profile, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET ranges = excluded.ranges, profile = excluded.profile",
        )
        .bind(&network.name)
        .bind(&ranges)
        .bind(&network.profile)
        .bind(at.to_string())
        .execute(&mut *tx)
        .await
        .map_err(exists("network", &network.name))?;
        let detail = format!(
            "{}: {} gets profile {}",
            network.name, ranges, network.profile
        );
        audit(&mut tx, at, actor, "network.save", &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn networks(&self) -> Result<Vec<Network>, StoreError> {
        let rows = sqlx::query("SELECT * FROM network ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let ranges: String = row.try_get("ranges")?;
                Ok(Network {
                    name: row.try_get("name")?,
                    ranges: ranges
                        .split(',')
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    profile: row.try_get("profile")?,
                })
            })
            .collect()
    }

    async fn remove_network(&self, name: &str, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM network WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            // Roll back before returning, so the write lock is released now
            // rather than when the pool gets round to it.
            tx.rollback().await?;
            return Err(StoreError::NotFound {
                what: "network",
                name: name.to_owned(),
            });
        }
        audit(&mut tx, Timestamp::now(), actor, "network.remove", name).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_session(&self, session: &LoginSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_session (address, username, device, started_at, expires_us) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (address) DO UPDATE SET username = excluded.username, device = excluded.device,
               started_at = excluded.started_at, expires_us = excluded.expires_us",
        )
        .bind(&session.address)
        .bind(&session.username)
        .bind(&session.device)
        .bind(session.started_at.to_string())
        .bind(micros(session.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn sessions(&self, now: Timestamp) -> Result<Vec<LoginSession>, StoreError> {
        let rows = sqlx::query("SELECT * FROM login_session WHERE expires_us > ? ORDER BY address")
            .bind(micros(now))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(LoginSession {
                    address: row.try_get("address")?,
                    username: row.try_get("username")?,
                    device: row.try_get("device")?,
                    started_at: timestamp(row, "started_at")?,
                    expires_at: from_micros(row, "expires_us")?,
                })
            })
            .collect()
    }

    async fn save_review_request(&self, r: &ReviewRequest) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO review_request (at, reference, url, profile, rule, client_ip, username, device, message, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(r.at.to_string())
        .bind(&r.reference)
        .bind(&r.url)
        .bind(&r.profile)
        .bind(&r.rule)
        .bind(&r.client_ip)
        .bind(&r.username)
        .bind(&r.device)
        .bind(&r.message)
        .bind(&r.status)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let actor = r
            .username
            .clone()
            .unwrap_or_else(|| format!("someone at {}", r.client_ip));
        audit(
            &mut tx,
            r.at,
            &actor,
            "review.request",
            &format!("#{id} {} ({})", r.url, r.reference),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn review_requests(&self, limit: usize) -> Result<Vec<ReviewRequest>, StoreError> {
        let rows = sqlx::query("SELECT * FROM review_request ORDER BY id DESC LIMIT ?")
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ReviewRequest {
                    id: row.try_get("id")?,
                    at: timestamp(row, "at")?,
                    reference: row.try_get("reference")?,
                    url: row.try_get("url")?,
                    profile: row.try_get("profile")?,
                    rule: row.try_get("rule")?,
                    client_ip: row.try_get("client_ip")?,
                    username: row.try_get("username")?,
                    device: row.try_get("device")?,
                    message: row.try_get("message")?,
                    status: row.try_get("status")?,
                })
            })
            .collect()
    }

    async fn record_activity(&self, events: &[ActivityEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let mut rest = events;
        // Each category of each event, for the side table the console's
        // category search reads: (category, time, event id).
        let mut categories: Vec<(&str, i64, i64)> = Vec::new();
        for (which, rows) in ACTIVITY_STATEMENT_ROWS.into_iter().enumerate() {
            while rest.len() >= rows {
                let (chunk, after) = rest.split_at(rows);
                let mut insert = sqlx::query(activity_insert_sql(which));
                for e in chunk {
                    insert = insert
                        .bind(micros(e.at))
                        .bind(text(e.source.as_str()))
                        .bind(text(&e.client_ip))
                        .bind(e.username.as_deref().map(text))
                        .bind(e.device.as_deref().map(text))
                        .bind(text(&e.profile))
                        .bind(text(&e.method))
                        .bind(text(&e.url))
                        .bind(text(&e.host))
                        .bind(e.search_term.as_deref().map(text))
                        .bind(text(&e.categories))
                        .bind(text(&e.verdict))
                        .bind(text(&e.rule))
                        .bind(e.status.map(i64::from))
                        .bind(e.bytes.min(i64::MAX as u64) as i64)
                        .bind(i64::from(e.duration_ms))
                        .bind(e.reference.as_deref().map(text));
                }
                let done = insert.execute(&mut *tx).await?;
                // A row without an id is given one more than the largest
                // in the table, in turn, and this transaction is the only
                // writer: the statement's rows have the ids up to the last.
                let first = done.last_insert_rowid() - rows as i64 + 1;
                for (id, e) in (first..).zip(chunk) {
                    // Retention's delete trigger finds an event's rows by
                    // reading its categories as a JSON array: a list it
                    // could not read gets no rows, so none are left behind.
                    if !e
                        .categories
                        .chars()
                        .all(|c| c != '"' && c != '\\' && c >= ' ')
                    {
                        continue;
                    }
                    for category in e.categories.split(',').filter(|c| !c.is_empty()) {
                        categories.push((category, micros(e.at), id));
                    }
                }
                rest = after;
            }
        }
        let mut rest = &categories[..];
        for (which, rows) in ACTIVITY_STATEMENT_ROWS.into_iter().enumerate() {
            while rest.len() >= rows {
                let (chunk, after) = rest.split_at(rows);
                let mut insert = sqlx::query(category_insert_sql(which));
                for (category, at_us, id) in chunk {
                    insert = insert.bind(text(category)).bind(*at_us).bind(*id);
                }
                insert.execute(&mut *tx).await?;
                rest = after;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn search_activity(&self, q: &ActivityQuery) -> Result<Vec<ActivityEvent>, StoreError> {
        // The first page of the console's search: categories come from
        // their side table, blocked events from their own index.
        let rows = reviews::activity_page(&self.pool, q, None).await?;
        Ok(rows.into_iter().map(|r| r.event).collect())
    }

    async fn purge_activity(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut removed = 0;
        // In slices, so a large purge never holds the write lock for long.
        loop {
            let done = sqlx::query(
                "DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE at_us < ? LIMIT 10000)",
            )
            .bind(micros(before))
            .execute(&self.pool)
            .await?;
            removed += done.rows_affected();
            if done.rows_affected() == 0 {
                return Ok(removed);
            }
        }
    }

    async fn console_accounts(&self) -> Result<Vec<ConsoleAccount>, StoreError> {
        console::accounts(&self.pool).await
    }

    async fn console_account(&self, username: &str) -> Result<Option<ConsoleAccount>, StoreError> {
        console::find_account(&self.pool, username).await
    }

    async fn add_console_account(
        &self,
        account: &NewConsoleAccount,
        actor: &str,
    ) -> Result<(), StoreError> {
        console::add_account(&self.pool, account, actor).await
    }

    async fn administrator_exists(&self) -> Result<bool, StoreError> {
        console::administrator_exists(&self.pool).await
    }

    async fn set_console_password(
        &self,
        username: &str,
        password_hash: &Hidden,
        actor: &str,
    ) -> Result<(), StoreError> {
        console::set_password(&self.pool, username, password_hash, actor).await
    }

    async fn set_console_account_disabled(
        &self,
        username: &str,
        disabled: bool,
        actor: &str,
    ) -> Result<(), StoreError> {
        console::set_disabled(&self.pool, username, disabled, actor).await
    }

    async fn begin_two_factor(&self, username: &str, secret: &Hidden) -> Result<(), StoreError> {
        console::begin_two_factor(&self.pool, username, secret).await
    }

    async fn confirm_two_factor(&self, username: &str, step: i64) -> Result<(), StoreError> {
        console::confirm_two_factor(&self.pool, username, step).await
    }

    async fn reset_two_factor(&self, username: &str, actor: &str) -> Result<(), StoreError> {
        console::reset_two_factor(&self.pool, username, actor).await
    }

    async fn accept_code_step(&self, username: &str, step: i64) -> Result<bool, StoreError> {
        console::accept_code_step(&self.pool, username, step).await
    }

    async fn record_sign_in_failure(
        &self,
        username: &str,
        client_ip: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        console::record_sign_in_failure(&self.pool, username, client_ip, at).await
    }

    async fn sign_in_failures(
        &self,
        username: &str,
        since: Timestamp,
    ) -> Result<Vec<Timestamp>, StoreError> {
        console::sign_in_failures(&self.pool, username, since).await
    }

    async fn sign_in_failures_from(
        &self,
        client_ip: &str,
        since: Timestamp,
    ) -> Result<Vec<Timestamp>, StoreError> {
        console::sign_in_failures_from(&self.pool, client_ip, since).await
    }

    async fn lock_console_account(
        &self,
        username: &str,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        console::lock_account(&self.pool, username, until).await
    }

    async fn record_sign_in(&self, username: &str, at: Timestamp) -> Result<(), StoreError> {
        console::record_sign_in(&self.pool, username, at).await
    }

    async fn unlock_console_account(&self, username: &str, actor: &str) -> Result<(), StoreError> {
        console::unlock_account(&self.pool, username, actor).await
    }

    async fn start_console_session(&self, session: &ConsoleSession) -> Result<(), StoreError> {
        console::start_session(&self.pool, session).await
    }

    async fn console_session(&self, id_hash: &str) -> Result<Option<ConsoleSession>, StoreError> {
        console::find_session(&self.pool, id_hash).await
    }

    async fn touch_console_session(&self, id_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        console::touch_session(&self.pool, id_hash, at).await
    }

    async fn end_console_session(&self, id_hash: &str) -> Result<(), StoreError> {
        console::end_session(&self.pool, id_hash).await
    }

    async fn end_console_sessions(&self, username: &str) -> Result<u64, StoreError> {
        console::end_sessions(&self.pool, username).await
    }

    async fn console_sessions_of(
        &self,
        username: &str,
        now: Timestamp,
    ) -> Result<Vec<ConsoleSession>, StoreError> {
        console::sessions_of(&self.pool, username, now).await
    }

    async fn add_setup_link(&self, link: &SetupLink) -> Result<(), StoreError> {
        console::add_setup_link(&self.pool, link).await
    }

    async fn setup_link(&self, token_hash: &str) -> Result<Option<SetupLink>, StoreError> {
        console::find_setup_link(&self.pool, token_hash).await
    }

    async fn use_setup_link(&self, token_hash: &str, at: Timestamp) -> Result<bool, StoreError> {
        console::use_setup_link(&self.pool, token_hash, at).await
    }

    async fn withdraw_setup_links(
        &self,
        username: Option<&str>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        console::withdraw_setup_links(&self.pool, username, at).await
    }

    async fn add_api_token(&self, token: &ApiToken) -> Result<i64, StoreError> {
        console::add_api_token(&self.pool, token).await
    }

    async fn api_tokens_of(&self, username: &str) -> Result<Vec<ApiToken>, StoreError> {
        console::api_tokens_of(&self.pool, username).await
    }

    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiToken>, StoreError> {
        console::find_api_token(&self.pool, token_hash).await
    }

    async fn touch_api_token(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        console::touch_api_token(&self.pool, id, at).await
    }

    async fn revoke_api_token(
        &self,
        username: &str,
        id: i64,
        actor: &str,
    ) -> Result<(), StoreError> {
        console::revoke_api_token(&self.pool, username, id, actor).await
    }

    // The filtering policy in the console.

    async fn policy_revision(&self, number: i64) -> Result<Option<PolicyRevision>, StoreError> {
        crate::sqlite_policy::revision_numbered(&self.pool, number).await
    }

    async fn save_policy_on(
        &self,
        policy: &Policy,
        actor: &str,
        reason: &str,
        base: i64,
    ) -> Result<PolicyRevision, StoreError> {
        crate::sqlite_policy::save(&self.pool, policy, actor, reason, Some(base)).await
    }

    // Safeguarding records: see sqlite_records.rs.

    async fn concern_categories(&self) -> Result<Vec<Category>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        records::categories(&mut conn).await
    }

    async fn set_concern_categories(
        &self,
        set: &[Category],
        actor: &str,
        role: Role,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        records::set_categories(&self.pool, set, actor, role, at).await
    }

    async fn raise_concern(&self, concern: &NewConcern) -> Result<i64, StoreError> {
        records::raise_concern(&self.pool, concern).await
    }

    async fn concern(&self, id: i64) -> Result<Option<Concern>, StoreError> {
        Ok(records::concerns(&self.pool, Some(id)).await?.pop())
    }

    async fn concerns(&self) -> Result<Vec<Concern>, StoreError> {
        records::concerns(&self.pool, None).await
    }

    async fn set_concern_category(&self, decision: &CategoryDecision) -> Result<(), StoreError> {
        records::set_concern_category(&self.pool, decision).await
    }

    async fn change_pupil_link(&self, change: &PupilLinkChange) -> Result<(), StoreError> {
        records::change_pupil_link(&self.pool, change).await
    }

    async fn amend_record(&self, amendment: &Amendment) -> Result<Amendment, StoreError> {
        records::amend(&self.pool, amendment).await
    }

    async fn open_incident(&self, incident: &NewIncident) -> Result<i64, StoreError> {
        records::open_incident(&self.pool, incident).await
    }

    async fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        Ok(records::incidents(&self.pool, Some(id)).await?.pop())
    }

    async fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        records::incidents(&self.pool, None).await
    }

    async fn record_step(&self, step: &StepRecord) -> Result<(), StoreError> {
        records::record_step(&self.pool, step).await
    }

    async fn close_incident(&self, closure: &Closure) -> Result<(), StoreError> {
        records::close_incident(&self.pool, closure).await
    }

    async fn add_attachment(
        &self,
        attachment: &NewAttachment,
        content: &[u8],
    ) -> Result<AttachmentMeta, StoreError> {
        records::add_attachment(&self.pool, attachment, content).await
    }

    async fn attachment(&self, id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>, StoreError> {
        records::attachment(&self.pool, id).await
    }

    async fn save_referral_contact(
        &self,
        contact: &DirectoryContact,
        role: Role,
    ) -> Result<i64, StoreError> {
        records::save_contact(&self.pool, contact, role, false).await
    }

    async fn withdraw_referral_contact(
        &self,
        contact: &DirectoryContact,
        role: Role,
    ) -> Result<(), StoreError> {
        records::save_contact(&self.pool, contact, role, true)
            .await
            .map(|_| ())
    }

    async fn referral_directory(&self) -> Result<Vec<DirectoryContact>, StoreError> {
        records::directory(&self.pool).await
    }

    async fn make_referral(&self, referral: &NewReferral) -> Result<i64, StoreError> {
        records::make_referral(&self.pool, referral).await
    }

    async fn answer_referral(&self, response: &ReferralResponse) -> Result<(), StoreError> {
        records::answer_referral(&self.pool, response).await
    }

    async fn log_record_read(&self, entry: &ReadLogEntry) -> Result<(), StoreError> {
        records::log_read(&self.pool, entry).await
    }

    async fn record_read_log(&self, target: &ReadTarget) -> Result<Vec<ReadLogEntry>, StoreError> {
        records::read_log(&self.pool, target).await
    }

    async fn set_legal_hold(&self, hold: &LegalHold) -> Result<(), StoreError> {
        records::set_legal_hold(&self.pool, hold).await
    }

    async fn legal_holds(&self) -> Result<Vec<LegalHold>, StoreError> {
        records::legal_holds(&self.pool).await
    }

    async fn add_register_entry(&self, entry: &RegisterEntry) -> Result<i64, StoreError> {
        records::add_register_entry(&self.pool, entry).await
    }

    async fn register_entries(&self, register: Register) -> Result<Vec<RegisterEntry>, StoreError> {
        records::register(&self.pool, register).await
    }

    // Review requests and activity search pages.

    async fn review(&self, id: i64) -> Result<Option<Review>, StoreError> {
        reviews::review_by_id(&self.pool, id).await
    }

    async fn review_by_reference(&self, reference: &str) -> Result<Option<Review>, StoreError> {
        reviews::review_by_reference(&self.pool, reference).await
    }

    async fn reviews(&self, filter: &ReviewFilter) -> Result<Vec<Review>, StoreError> {
        reviews::reviews(&self.pool, filter).await
    }

    async fn add_staff_report(&self, report: &StaffReport) -> Result<i64, StoreError> {
        reviews::add_staff_report(&self.pool, report).await
    }

    async fn decide_review(&self, id: i64, decision: &ReviewDecision) -> Result<bool, StoreError> {
        reviews::decide_review(&self.pool, id, decision).await
    }

    async fn decide_review_changing_policy(
        &self,
        id: i64,
        decision: &ReviewDecision,
        change: &PolicyChange<'_>,
    ) -> Result<Decided, StoreError> {
        reviews::decide_review_changing_policy(&self.pool, id, decision, change).await
    }

    async fn activity_page(
        &self,
        query: &ActivityQuery,
        before: Option<ActivityCursor>,
    ) -> Result<Vec<ActivityRow>, StoreError> {
        reviews::activity_page(&self.pool, query, before).await
    }

    async fn person_record(&self, username: &str) -> Result<Option<PersonRecord>, StoreError> {
        people::find(&self.pool, username).await
    }

    async fn person_records(&self) -> Result<Vec<PersonRecord>, StoreError> {
        people::all(&self.pool).await
    }

    async fn search_people(&self, query: &PeopleQuery) -> Result<PeoplePage, StoreError> {
        people::search(&self.pool, query).await
    }

    async fn people_groups(&self) -> Result<(Vec<String>, Vec<String>), StoreError> {
        people::groups(&self.pool).await
    }

    async fn change_person(
        &self,
        username: &str,
        change: &PersonChange,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        people::change(&self.pool, username, change, actor, reason).await
    }

    async fn set_people_disabled(
        &self,
        usernames: &[String],
        disabled: bool,
        actor: &str,
        reason: &str,
    ) -> Result<u64, StoreError> {
        people::set_disabled(&self.pool, usernames, disabled, actor, reason).await
    }

    async fn import_people(
        &self,
        people: &[ImportedPerson],
        actor: &str,
        source: &str,
    ) -> Result<ImportOutcome, StoreError> {
        people::import(&self.pool, people, actor, source).await
    }

    // Outbox.

    async fn enqueue_outbox(
        &self,
        entry: &crate::NewOutboxEntry,
    ) -> Result<Option<i64>, StoreError> {
        crate::sqlite_outbox::enqueue(&self.pool, entry).await
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<crate::OutboxEntry>, StoreError> {
        crate::sqlite_outbox::claim(&self.pool, now, lease_until, limit).await
    }

    async fn outbox_sent(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        crate::sqlite_outbox::sent(&self.pool, id, at).await
    }

    async fn outbox_failed(
        &self,
        id: i64,
        at: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        crate::sqlite_outbox::failed(&self.pool, id, at, error, retry_at).await
    }

    async fn outbox_entries(&self, limit: usize) -> Result<Vec<crate::OutboxEntry>, StoreError> {
        crate::sqlite_outbox::entries(&self.pool, limit).await
    }

    // Alerts (crates/monitor; migration 0011).

    async fn monitor_read(
        &self,
        after: i64,
        limit: usize,
        circumvention: &[String],
    ) -> Result<crate::MonitorRead, StoreError> {
        crate::sqlite_alerts::monitor_read(&self.pool, after, limit, circumvention).await
    }

    async fn monitor_cursor(&self) -> Result<i64, StoreError> {
        crate::sqlite_alerts::cursor(&self.pool).await
    }

    async fn last_alert_id(&self) -> Result<i64, StoreError> {
        crate::sqlite_alerts::last_alert_id(&self.pool).await
    }

    async fn record_alerts(&self, batch: &crate::AlertBatch) -> Result<(), StoreError> {
        crate::sqlite_alerts::record(&self.pool, batch).await
    }

    async fn alert(&self, id: i64) -> Result<Option<crate::StoredAlert>, StoreError> {
        crate::sqlite_alerts::get(&self.pool, id).await
    }

    async fn alerts(
        &self,
        filter: &crate::AlertFilter,
    ) -> Result<Vec<crate::StoredAlert>, StoreError> {
        crate::sqlite_alerts::list(&self.pool, filter).await
    }

    async fn count_alerts(&self, state: &str) -> Result<i64, StoreError> {
        crate::sqlite_alerts::count_in_state(&self.pool, state).await
    }

    async fn triage_alert(
        &self,
        from: &str,
        decision: &crate::AlertTriage,
    ) -> Result<bool, StoreError> {
        crate::sqlite_alerts::triage(&self.pool, from, decision).await
    }

    async fn escalate_alert(
        &self,
        from: &str,
        concern: &NewConcern,
        decision: &crate::AlertTriage,
    ) -> Result<Option<i64>, StoreError> {
        match crate::sqlite_alerts::get(&self.pool, decision.alert).await? {
            Some(alert) if alert.state == from => {}
            _ => return Ok(None),
        }
        let number = records::raise_concern(&self.pool, concern).await?;
        let decision = crate::AlertTriage {
            concern: Some(number),
            ..decision.clone()
        };
        if crate::sqlite_alerts::triage(&self.pool, from, &decision).await? {
            Ok(Some(number))
        } else {
            // Someone decided about the alert between the check and now; the
            // concern stands (records are never removed) and says so.
            Err(StoreError::Records(::records::RecordsError::Invalid(
                format!(
                    "concern {number} was raised, but someone else changed the alert at the same time; open the alert and link it by hand"
                ),
            )))
        }
    }

    async fn alert_triage_history(
        &self,
        alert: i64,
    ) -> Result<Vec<crate::AlertTriage>, StoreError> {
        crate::sqlite_alerts::history(&self.pool, alert).await
    }

    async fn alert_outcomes(&self) -> Result<Vec<crate::AlertOutcome>, StoreError> {
        crate::sqlite_alerts::outcomes(&self.pool).await
    }

    async fn phrase_library(&self) -> Result<Option<crate::LibraryRevision>, StoreError> {
        crate::sqlite_alerts::library(&self.pool).await
    }

    async fn phrase_library_history(
        &self,
        limit: usize,
    ) -> Result<Vec<crate::LibraryRevision>, StoreError> {
        crate::sqlite_alerts::library_history(&self.pool, limit).await
    }

    async fn save_phrase_library(
        &self,
        files: &[(String, String)],
        actor: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        crate::sqlite_alerts::save_library(&self.pool, files, actor, reason, at).await
    }

    // Retention (sqlite_retention.rs).
    async fn purge_records(
        &self,
        plan: &::records::retention::PurgePlan,
        actor: &str,
        at: Timestamp,
    ) -> Result<crate::PurgeReport, StoreError> {
        crate::sqlite_retention::purge_records(&self.pool, plan, actor, at).await
    }

    async fn purge_reports(&self, limit: usize) -> Result<Vec<crate::PurgeReport>, StoreError> {
        crate::sqlite_retention::purge_reports(&self.pool, limit).await
    }

    // Reports (sqlite_reports.rs).

    async fn weekly_report_rows(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<crate::reports::WeeklyRows, StoreError> {
        crate::sqlite_reports::weekly_rows(&self.pool, from, until).await
    }

    async fn blocked_by_categories(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        crate::sqlite_reports::blocked_by_categories(&self.pool, from, until).await
    }

    // Digests (sqlite_digests.rs).

    async fn alerts_raised(
        &self,
        from: Timestamp,
        until: Timestamp,
        routing: &str,
    ) -> Result<Vec<crate::StoredAlert>, StoreError> {
        crate::sqlite_digests::alerts_raised(&self.pool, from, until, routing).await
    }

    async fn outbox_has_key(&self, dedup_key: &str) -> Result<bool, StoreError> {
        crate::sqlite_digests::outbox_has_key(&self.pool, dedup_key).await
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
