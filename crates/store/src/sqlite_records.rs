//! The SQLite side of the safeguarding records (`crates/records`).
//! [`crate::sqlite::SqliteStore`] implements the `Store` methods with these.
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction, loads what it
//! needs, asks the records crate whether the change is allowed, and only
//! then inserts. Nothing here updates or deletes: migration 0006's triggers
//! refuse both. Attachment content is kept as a BLOB next to its metadata.

use ::records::access::may_amend_concern;
use ::records::concern::validate_categories;
use ::records::registers::{Register, RegisterEntry};
use ::records::{
    Agency, Amendment, AttachmentMeta, Category, CategoryDecision, Closure, Concern, Decision,
    DirectoryContact, Incident, IncidentType, Involvement, LegalHold, NewAttachment, NewConcern,
    NewIncident, NewReferral, PupilLinkChange, PupilRef, ReadLogEntry, ReadTarget, RecordKind,
    RecordRef, RecordsError, Referral, ReferralResponse, Role, StepRecord, Viewer,
};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};

use crate::StoreError;
use crate::sqlite_console::{abandon, write};

fn decode(column: &str, problem: impl std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(format!("{column}: {problem}").into()))
}

fn time(row: &SqliteRow, column: &str) -> Result<Timestamp, StoreError> {
    let us: i64 = row.try_get(column)?;
    Timestamp::from_microsecond(us).map_err(|e| decode(column, e))
}

fn us(at: Timestamp) -> i64 {
    at.as_microsecond()
}

fn role(row: &SqliteRow, column: &str) -> Result<Role, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e| decode(column, e))
}

fn flag(row: &SqliteRow, column: &str) -> Result<bool, StoreError> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// Runs the check; on refusal rolls back and reports it.
async fn check(
    tx: Transaction<'_, Sqlite>,
    result: Result<(), RecordsError>,
) -> Result<Transaction<'_, Sqlite>, StoreError> {
    match result {
        Ok(()) => Ok(tx),
        Err(e) => Err(abandon(tx, StoreError::Records(e)).await),
    }
}

fn not_found(what: &'static str, id: impl ToString) -> StoreError {
    StoreError::NotFound {
        what,
        name: id.to_string(),
    }
}

// Categories.

pub async fn categories(conn: &mut SqliteConnection) -> Result<Vec<Category>, StoreError> {
    let row = sqlx::query("SELECT categories FROM concern_category_set ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(::records::concern::default_categories()),
        Some(row) => {
            let json: String = row.try_get("categories")?;
            serde_json::from_str(&json).map_err(|e| decode("categories", e))
        }
    }
}

pub async fn set_categories(
    pool: &SqlitePool,
    set: &[Category],
    actor: &str,
    role: Role,
    at: Timestamp,
) -> Result<(), StoreError> {
    if !role.is_dsl_role() {
        return Err(StoreError::Records(RecordsError::NotAllowed(
            "only the DSL or a deputy DSL may change the concern categories".into(),
        )));
    }
    validate_categories(set)?;
    let json = serde_json::to_string(set).map_err(|e| decode("categories", e))?;
    let mut tx = write(pool).await?;
    sqlx::query("INSERT INTO concern_category_set (at_us, actor, categories) VALUES (?, ?, ?)")
        .bind(us(at))
        .bind(actor)
        .bind(json)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

// Concerns.

pub async fn raise_concern(pool: &SqlitePool, new: &NewConcern) -> Result<i64, StoreError> {
    let mut tx = write(pool).await?;
    let known = categories(&mut tx).await?;
    let mut tx = check(tx, new.validate(&known)).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO concern (raised_by, raised_by_role, raised_us, happened_us, location,
            child_words, immediate_action, suggested_category, about_staff)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&new.raised_by)
    .bind(new.raised_by_role.id())
    .bind(us(new.raised_at))
    .bind(us(new.happened_at))
    .bind(new.location.trim())
    .bind(new.child_words.trim())
    .bind(new.immediate_action.trim())
    .bind(&new.suggested_category)
    .bind(new.about_staff)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    for link in Concern::initial_links(id, new) {
        insert_link(&mut tx, &link, true).await?;
    }
    tx.commit().await?;
    Ok(id)
}

async fn insert_link(
    conn: &mut SqliteConnection,
    link: &PupilLinkChange,
    initial: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO concern_pupil (concern_id, username, full_name, involvement, linked, actor,
            role, at_us, reason, initial)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(link.concern_id)
    .bind(&link.pupil.username)
    .bind(link.pupil.full_name.trim())
    .bind(link.involvement.id())
    .bind(link.linked)
    .bind(&link.actor)
    .bind(link.role.id())
    .bind(us(link.at))
    .bind(link.reason.trim())
    .bind(initial)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn amendment(row: &SqliteRow) -> Result<Amendment, StoreError> {
    let kind: String = row.try_get("record_kind")?;
    Ok(Amendment {
        record: RecordRef {
            kind: RecordKind::from_id(&kind).map_err(|e| decode("record_kind", e))?,
            id: row.try_get("record_id")?,
        },
        field: row.try_get("field")?,
        before: row.try_get("before")?,
        after: row.try_get("after")?,
        why: row.try_get("why")?,
        actor: row.try_get("actor")?,
        role: role(row, "role")?,
        at: time(row, "at_us")?,
    })
}

/// The amendments to one concern, or to all (`None`).
async fn concern_amendments(
    conn: &mut SqliteConnection,
    id: Option<i64>,
) -> Result<Vec<Amendment>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM record_amendment WHERE record_kind = 'concern'
           AND (?1 IS NULL OR record_id = ?1) ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(amendment).collect()
}

/// The amendments to one incident and its referrals, or to all (`None`).
async fn incident_amendments(
    conn: &mut SqliteConnection,
    id: Option<i64>,
) -> Result<Vec<Amendment>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM record_amendment
         WHERE (record_kind = 'incident' AND (?1 IS NULL OR record_id = ?1))
            OR (record_kind = 'referral' AND (?1 IS NULL OR record_id IN
                 (SELECT id FROM referral WHERE incident_id = ?1)))
         ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(amendment).collect()
}

/// Concerns with everything recorded against them; one, or all (`None`).
pub async fn load_concerns(
    conn: &mut SqliteConnection,
    id: Option<i64>,
) -> Result<Vec<Concern>, StoreError> {
    let rows = sqlx::query("SELECT * FROM concern WHERE ?1 IS NULL OR id = ?1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let links =
        sqlx::query("SELECT * FROM concern_pupil WHERE ?1 IS NULL OR concern_id = ?1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let decisions = sqlx::query(
        "SELECT * FROM concern_category WHERE ?1 IS NULL OR concern_id = ?1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let amended = concern_amendments(conn, id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let mut raised = NewConcern {
            raised_by: row.try_get("raised_by")?,
            raised_by_role: role(row, "raised_by_role")?,
            raised_at: time(row, "raised_us")?,
            pupils: Vec::new(),
            others_involved: Vec::new(),
            child_words: row.try_get("child_words")?,
            immediate_action: row.try_get("immediate_action")?,
            happened_at: time(row, "happened_us")?,
            location: row.try_get("location")?,
            suggested_category: row.try_get("suggested_category")?,
            about_staff: flag(row, "about_staff")?,
        };
        let mut changes = Vec::new();
        for l in &links {
            if l.try_get::<i64, _>("concern_id")? != id {
                continue;
            }
            let involvement: String = l.try_get("involvement")?;
            let change = PupilLinkChange {
                concern_id: id,
                pupil: PupilRef {
                    username: l.try_get("username")?,
                    full_name: l.try_get("full_name")?,
                },
                involvement: Involvement::from_id(&involvement)
                    .map_err(|e| decode("involvement", e))?,
                linked: flag(l, "linked")?,
                actor: l.try_get("actor")?,
                role: role(l, "role")?,
                at: time(l, "at_us")?,
                reason: l.try_get("reason")?,
            };
            if flag(l, "initial")? {
                match change.involvement {
                    Involvement::Subject => raised.pupils.push(change.pupil.clone()),
                    Involvement::Involved => raised.others_involved.push(change.pupil.clone()),
                }
            }
            changes.push(change);
        }
        let mut categories = Vec::new();
        for d in &decisions {
            if d.try_get::<i64, _>("concern_id")? != id {
                continue;
            }
            categories.push(CategoryDecision {
                concern_id: id,
                category: d.try_get("category")?,
                actor: d.try_get("actor")?,
                role: role(d, "role")?,
                at: time(d, "at_us")?,
                reason: d.try_get("reason")?,
            });
        }
        out.push(Concern {
            id,
            raised,
            links: changes,
            categories,
            amendments: amended
                .iter()
                .filter(|a| a.record.id == id)
                .cloned()
                .collect(),
        });
    }
    Ok(out)
}

async fn one_concern(conn: &mut SqliteConnection, id: i64) -> Result<Concern, StoreError> {
    load_concerns(conn, Some(id))
        .await?
        .pop()
        .ok_or_else(|| not_found("concern", id))
}

pub async fn concerns(pool: &SqlitePool, id: Option<i64>) -> Result<Vec<Concern>, StoreError> {
    let mut conn = pool.acquire().await?;
    load_concerns(&mut conn, id).await
}

pub async fn set_concern_category(
    pool: &SqlitePool,
    decision: &CategoryDecision,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let known = categories(&mut tx).await?;
    if let Err(e) = one_concern(&mut tx, decision.concern_id).await {
        return Err(abandon(tx, e).await);
    }
    let mut tx = check(tx, decision.validate(&known)).await?;
    sqlx::query(
        "INSERT INTO concern_category (concern_id, category, actor, role, at_us, reason)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(decision.concern_id)
    .bind(&decision.category)
    .bind(&decision.actor)
    .bind(decision.role.id())
    .bind(us(decision.at))
    .bind(decision.reason.trim())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn change_pupil_link(
    pool: &SqlitePool,
    change: &PupilLinkChange,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let concern = match one_concern(&mut tx, change.concern_id).await {
        Ok(c) => c,
        Err(e) => return Err(abandon(tx, e).await),
    };
    let mut result = change.validate();
    if result.is_ok() && concern.is_staff_allegation() && !change.role.reads_staff_allegations() {
        result = Err(RecordsError::NotAllowed(
            "this is an allegation about a member of staff: only the DSL may change its pupils"
                .into(),
        ));
    }
    if result.is_ok() && concern.names_pupil(&change.pupil.username) == change.linked {
        result = Err(RecordsError::Invalid(format!(
            "{} is already {} this concern",
            change.pupil.full_name,
            if change.linked {
                "linked to"
            } else {
                "not linked to"
            }
        )));
    }
    let mut tx = check(tx, result).await?;
    insert_link(&mut tx, change, false).await?;
    tx.commit().await?;
    Ok(())
}

// Amendments.

/// Stores an amendment, filling in what the field read before from the
/// record itself. Returns the amendment as stored.
pub async fn amend(pool: &SqlitePool, a: &Amendment) -> Result<Amendment, StoreError> {
    let mut tx = write(pool).await?;
    let viewer = Viewer::new(&a.actor, a.role);
    let found = match a.record.kind {
        RecordKind::Concern => one_concern(&mut tx, a.record.id)
            .await
            .map(|c| (may_amend_concern(&viewer, &c), c.field(&a.field))),
        RecordKind::Incident => one_incident(&mut tx, a.record.id)
            .await
            .map(|i| (i.may_work(a.role), i.field(a.record, &a.field))),
        RecordKind::Referral => match referral_incident(&mut tx, a.record.id).await {
            Ok(incident) => one_incident(&mut tx, incident)
                .await
                .map(|i| (i.may_work(a.role), i.field(a.record, &a.field))),
            Err(e) => Err(e),
        },
    };
    let (may, before) = match found {
        Ok(f) => f,
        Err(e) => return Err(abandon(tx, e).await),
    };
    let stored = Amendment {
        before: before.unwrap_or_default(),
        after: a.after.trim().to_owned(),
        why: a.why.trim().to_owned(),
        ..a.clone()
    };
    let mut tx = check(tx, stored.validate(may)).await?;
    sqlx::query(
        "INSERT INTO record_amendment (record_kind, record_id, field, before, after, why, actor,
            role, at_us)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(stored.record.kind.id())
    .bind(stored.record.id)
    .bind(&stored.field)
    .bind(&stored.before)
    .bind(&stored.after)
    .bind(&stored.why)
    .bind(&stored.actor)
    .bind(stored.role.id())
    .bind(us(stored.at))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(stored)
}

// Incidents.

async fn referral_incident(conn: &mut SqliteConnection, referral: i64) -> Result<i64, StoreError> {
    sqlx::query("SELECT incident_id FROM referral WHERE id = ?")
        .bind(referral)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("incident_id"))
        .transpose()?
        .ok_or_else(|| not_found("referral", referral))
}

pub async fn open_incident(pool: &SqlitePool, new: &NewIncident) -> Result<i64, StoreError> {
    let mut tx = write(pool).await?;
    let mut new = new.clone();
    if let Some(concern) = new.concern_id {
        match one_concern(&mut tx, concern).await {
            // An incident from an allegation about staff stays one.
            Ok(c) => new.about_staff |= c.is_staff_allegation(),
            Err(e) => return Err(abandon(tx, e).await),
        }
    }
    let mut tx = check(tx, new.validate()).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO incident (concern_id, kind, opened_by, role, opened_us, summary, about_staff)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.concern_id)
    .bind(new.kind.id())
    .bind(&new.opened_by)
    .bind(new.role.id())
    .bind(us(new.opened_at))
    .bind(new.summary.trim())
    .bind(new.about_staff)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    tx.commit().await?;
    Ok(id)
}

fn attachment_meta(row: &SqliteRow) -> Result<AttachmentMeta, StoreError> {
    Ok(AttachmentMeta {
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        file_name: row.try_get("file_name")?,
        media_type: row.try_get("media_type")?,
        description: row.try_get("description")?,
        size: row.try_get::<i64, _>("size")?.max(0) as u64,
        sha256: row.try_get("sha256")?,
        added_by: row.try_get("added_by")?,
        added_at: time(row, "added_us")?,
    })
}

fn referral(row: &SqliteRow, response: Option<&SqliteRow>) -> Result<Referral, StoreError> {
    let agency: String = row.try_get("agency")?;
    let id: i64 = row.try_get("id")?;
    Ok(Referral {
        id,
        made: NewReferral {
            incident_id: row.try_get("incident_id")?,
            agency: Agency::from_id(&agency).map_err(|e| decode("agency", e))?,
            contact_id: row.try_get("contact_id")?,
            made_by: row.try_get("made_by")?,
            role: role(row, "role")?,
            made_at: time(row, "made_us")?,
            due_at: time(row, "due_us")?,
            reference: row.try_get("reference")?,
            summary: row.try_get("summary")?,
        },
        response: response
            .map(|r| -> Result<ReferralResponse, StoreError> {
                Ok(ReferralResponse {
                    referral_id: id,
                    outcome: r.try_get("outcome")?,
                    actor: r.try_get("actor")?,
                    role: role(r, "role")?,
                    at: time(r, "at_us")?,
                })
            })
            .transpose()?,
    })
}

/// Incidents with everything recorded against them; one, or all (`None`).
pub async fn load_incidents(
    conn: &mut SqliteConnection,
    id: Option<i64>,
) -> Result<Vec<Incident>, StoreError> {
    let rows = sqlx::query("SELECT * FROM incident WHERE ?1 IS NULL OR id = ?1 ORDER BY rowid")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let steps = sqlx::query(
        "SELECT * FROM incident_step WHERE ?1 IS NULL OR incident_id = ?1 ORDER BY rowid",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let referrals =
        sqlx::query("SELECT * FROM referral WHERE ?1 IS NULL OR incident_id = ?1 ORDER BY rowid")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let responses = sqlx::query(
        "SELECT * FROM referral_response WHERE ?1 IS NULL
           OR referral_id IN (SELECT id FROM referral WHERE incident_id = ?1)",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let attachments = sqlx::query(
        "SELECT * FROM incident_attachment WHERE ?1 IS NULL OR incident_id = ?1 ORDER BY rowid",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let closures = sqlx::query(
        "SELECT * FROM incident_closure WHERE ?1 IS NULL OR incident_id = ?1 ORDER BY rowid",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let amended = incident_amendments(conn, id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let kind: String = row.try_get("kind")?;
        let mut incident = Incident {
            id,
            opened: NewIncident {
                concern_id: row.try_get("concern_id")?,
                kind: IncidentType::from_id(&kind).map_err(|e| decode("kind", e))?,
                opened_by: row.try_get("opened_by")?,
                role: role(row, "role")?,
                opened_at: time(row, "opened_us")?,
                summary: row.try_get("summary")?,
                about_staff: flag(row, "about_staff")?,
            },
            steps: Vec::new(),
            referrals: Vec::new(),
            attachments: Vec::new(),
            amendments: Vec::new(),
            closure: None,
        };
        let mine = |r: &&SqliteRow| r.try_get::<i64, _>("incident_id").is_ok_and(|i| i == id);
        for s in steps.iter().filter(mine) {
            let decision: String = s.try_get("decision")?;
            incident.steps.push(StepRecord {
                incident_id: id,
                step: s.try_get("step")?,
                decision: Decision::from_id(&decision).map_err(|e| decode("decision", e))?,
                reason: s.try_get("reason")?,
                actor: s.try_get("actor")?,
                role: role(s, "role")?,
                at: time(s, "at_us")?,
            });
        }
        for r in referrals.iter().filter(mine) {
            let rid: i64 = r.try_get("id")?;
            let response = responses
                .iter()
                .find(|x| x.try_get::<i64, _>("referral_id").is_ok_and(|x| x == rid));
            incident.referrals.push(referral(r, response)?);
        }
        for a in attachments.iter().filter(mine) {
            incident.attachments.push(attachment_meta(a)?);
        }
        if let Some(c) = closures.iter().find(mine) {
            incident.closure = Some(Closure {
                incident_id: id,
                outcome: c.try_get("outcome")?,
                lessons: c.try_get("lessons")?,
                actor: c.try_get("actor")?,
                role: role(c, "role")?,
                at: time(c, "at_us")?,
            });
        }
        let referral_ids: Vec<i64> = incident.referrals.iter().map(|r| r.id).collect();
        incident.amendments = amended
            .iter()
            .filter(|a| match a.record.kind {
                RecordKind::Incident => a.record.id == id,
                RecordKind::Referral => referral_ids.contains(&a.record.id),
                RecordKind::Concern => false,
            })
            .cloned()
            .collect();
        out.push(incident);
    }
    Ok(out)
}

async fn one_incident(conn: &mut SqliteConnection, id: i64) -> Result<Incident, StoreError> {
    load_incidents(conn, Some(id))
        .await?
        .pop()
        .ok_or_else(|| not_found("incident", id))
}

pub async fn incidents(pool: &SqlitePool, id: Option<i64>) -> Result<Vec<Incident>, StoreError> {
    let mut conn = pool.acquire().await?;
    load_incidents(&mut conn, id).await
}

/// Loads an incident in a write transaction and runs a check on it.
async fn checked_incident<'t>(
    pool: &SqlitePool,
    id: i64,
    rule: impl FnOnce(&Incident) -> Result<(), RecordsError>,
) -> Result<Transaction<'t, Sqlite>, StoreError> {
    let mut tx = write(pool).await?;
    match one_incident(&mut tx, id).await {
        Ok(incident) => {
            let result = rule(&incident);
            check(tx, result).await
        }
        Err(e) => Err(abandon(tx, e).await),
    }
}

pub async fn record_step(pool: &SqlitePool, step: &StepRecord) -> Result<(), StoreError> {
    let mut tx = checked_incident(pool, step.incident_id, |i| i.check_step(step)).await?;
    sqlx::query(
        "INSERT INTO incident_step (incident_id, step, decision, reason, actor, role, at_us)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(step.incident_id)
    .bind(&step.step)
    .bind(step.decision.id())
    .bind(step.reason.trim())
    .bind(&step.actor)
    .bind(step.role.id())
    .bind(us(step.at))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn close_incident(pool: &SqlitePool, closure: &Closure) -> Result<(), StoreError> {
    let mut tx = checked_incident(pool, closure.incident_id, |i| i.check_close(closure)).await?;
    sqlx::query(
        "INSERT INTO incident_closure (incident_id, outcome, lessons, actor, role, at_us)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(closure.incident_id)
    .bind(closure.outcome.trim())
    .bind(closure.lessons.trim())
    .bind(&closure.actor)
    .bind(closure.role.id())
    .bind(us(closure.at))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn add_attachment(
    pool: &SqlitePool,
    new: &NewAttachment,
    content: &[u8],
) -> Result<AttachmentMeta, StoreError> {
    let size = content.len() as u64;
    let mut tx = checked_incident(pool, new.incident_id, |i| i.check_attachment(new, size)).await?;
    let sha256 = hex::encode(Sha256::digest(content));
    let id: i64 = sqlx::query(
        "INSERT INTO incident_attachment (incident_id, file_name, media_type, description, size,
            sha256, added_by, added_us)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.incident_id)
    .bind(new.file_name.trim())
    .bind(&new.media_type)
    .bind(new.description.trim())
    .bind(size as i64)
    .bind(&sha256)
    .bind(&new.added_by)
    .bind(us(new.added_at))
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    sqlx::query("INSERT INTO incident_attachment_content (attachment_id, content) VALUES (?, ?)")
        .bind(id)
        .bind(content)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(AttachmentMeta {
        id,
        incident_id: new.incident_id,
        file_name: new.file_name.trim().to_owned(),
        media_type: new.media_type.clone(),
        description: new.description.trim().to_owned(),
        size,
        sha256,
        added_by: new.added_by.clone(),
        added_at: new.added_at,
    })
}

pub async fn attachment(
    pool: &SqlitePool,
    id: i64,
) -> Result<Option<(AttachmentMeta, Vec<u8>)>, StoreError> {
    let row = sqlx::query(
        "SELECT a.*, c.content FROM incident_attachment a
         JOIN incident_attachment_content c ON c.attachment_id = a.id WHERE a.id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((attachment_meta(&r)?, r.try_get("content")?)))
        .transpose()
}

// The directory and referrals.

fn contact(row: &SqliteRow) -> Result<DirectoryContact, StoreError> {
    let agency: String = row.try_get("agency")?;
    Ok(DirectoryContact {
        id: row.try_get("id")?,
        agency: Agency::from_id(&agency).map_err(|e| decode("agency", e))?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        web: row.try_get("web")?,
        notes: row.try_get("notes")?,
        updated_by: row.try_get("actor")?,
        updated_at: time(row, "at_us")?,
    })
}

async fn find_contact(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<DirectoryContact, StoreError> {
    let row = sqlx::query("SELECT * FROM referral_contact WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref()
        .map(contact)
        .transpose()?
        .ok_or_else(|| not_found("directory entry", id))
}

/// True when a later row replaces this one (an edit or a withdrawal).
async fn replaced(conn: &mut SqliteConnection, id: i64) -> Result<bool, StoreError> {
    let row =
        sqlx::query("SELECT EXISTS (SELECT 1 FROM referral_contact WHERE replaces = ?) AS found")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(row.try_get("found")?)
}

/// Adds a directory entry (`id` 0) or a new version of entry `id`, or
/// withdraws entry `id` (`withdraw`). Returns the new row's number.
pub async fn save_contact(
    pool: &SqlitePool,
    c: &DirectoryContact,
    role: Role,
    withdraw: bool,
) -> Result<i64, StoreError> {
    let mut tx = write(pool).await?;
    let replaces = if c.id == 0 {
        None
    } else {
        let old = find_contact(&mut tx, c.id).await;
        let superseded = replaced(&mut tx, c.id).await;
        match (old, superseded) {
            (Ok(_), Ok(false)) => Some(c.id),
            (Ok(_), Ok(true)) => {
                let e = StoreError::Records(RecordsError::Invalid(
                    "that directory entry has been changed since you opened it; open it again"
                        .into(),
                ));
                return Err(abandon(tx, e).await);
            }
            (Err(e), _) | (_, Err(e)) => return Err(abandon(tx, e).await),
        }
    };
    let result = if withdraw {
        if role.is_dsl_role() || role == Role::Headteacher {
            Ok(())
        } else {
            Err(RecordsError::NotAllowed(
                "only the DSL, a deputy DSL or the headteacher may change the referral directory"
                    .into(),
            ))
        }
    } else {
        c.validate(role)
    };
    let mut tx = check(tx, result).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO referral_contact (replaces, withdrawn, agency, name, phone, email, web,
            notes, actor, at_us)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(replaces)
    .bind(withdraw)
    .bind(c.agency.id())
    .bind(c.name.trim())
    .bind(c.phone.trim())
    .bind(c.email.trim())
    .bind(c.web.trim())
    .bind(c.notes.trim())
    .bind(&c.updated_by)
    .bind(us(c.updated_at))
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    tx.commit().await?;
    Ok(id)
}

/// The entries in force: neither replaced nor withdrawn.
pub async fn directory(pool: &SqlitePool) -> Result<Vec<DirectoryContact>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM referral_contact c WHERE withdrawn = 0
           AND NOT EXISTS (SELECT 1 FROM referral_contact n WHERE n.replaces = c.id)
         ORDER BY agency, name",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(contact).collect()
}

pub async fn make_referral(pool: &SqlitePool, r: &NewReferral) -> Result<i64, StoreError> {
    let mut tx = write(pool).await?;
    let found = match find_contact(&mut tx, r.contact_id).await {
        Ok(c) => match replaced(&mut tx, c.id).await {
            Ok(false) => one_incident(&mut tx, r.incident_id).await.map(|i| (i, c)),
            Ok(true) => Err(StoreError::Records(RecordsError::Invalid(format!(
                "the directory entry '{}' has been changed or withdrawn; choose the current one",
                c.name
            )))),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (incident, contact) = match found {
        Ok(f) => f,
        Err(e) => return Err(abandon(tx, e).await),
    };
    let mut tx = check(tx, incident.check_referral(r, &contact)).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO referral (incident_id, agency, contact_id, made_by, role, made_us, due_us,
            reference, summary)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(r.incident_id)
    .bind(r.agency.id())
    .bind(r.contact_id)
    .bind(&r.made_by)
    .bind(r.role.id())
    .bind(us(r.made_at))
    .bind(us(r.due_at))
    .bind(r.reference.trim())
    .bind(r.summary.trim())
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    tx.commit().await?;
    Ok(id)
}

pub async fn answer_referral(
    pool: &SqlitePool,
    response: &ReferralResponse,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let incident = match referral_incident(&mut tx, response.referral_id).await {
        Ok(id) => one_incident(&mut tx, id).await,
        Err(e) => Err(e),
    };
    let incident = match incident {
        Ok(i) => i,
        Err(e) => return Err(abandon(tx, e).await),
    };
    let mut tx = check(tx, incident.check_response(response)).await?;
    sqlx::query(
        "INSERT INTO referral_response (referral_id, outcome, actor, role, at_us)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(response.referral_id)
    .bind(response.outcome.trim())
    .bind(&response.actor)
    .bind(response.role.id())
    .bind(us(response.at))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

// The read log and legal holds.

pub async fn log_read(pool: &SqlitePool, entry: &ReadLogEntry) -> Result<(), StoreError> {
    let (kind, target) = entry.target.parts();
    let mut tx = write(pool).await?;
    sqlx::query(
        "INSERT INTO record_read (at_us, reader, role, target_kind, target, reason)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(us(entry.at))
    .bind(&entry.reader)
    .bind(entry.role.id())
    .bind(kind)
    .bind(target)
    .bind(&entry.reason)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn read_log(
    pool: &SqlitePool,
    target: &ReadTarget,
) -> Result<Vec<ReadLogEntry>, StoreError> {
    let (kind, id) = target.parts();
    let rows =
        sqlx::query("SELECT * FROM record_read WHERE target_kind = ? AND target = ? ORDER BY id")
            .bind(kind)
            .bind(id)
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(ReadLogEntry {
                at: time(r, "at_us")?,
                reader: r.try_get("reader")?,
                role: role(r, "role")?,
                target: target.clone(),
                reason: r.try_get("reason")?,
            })
        })
        .collect()
}

pub async fn set_legal_hold(pool: &SqlitePool, hold: &LegalHold) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let exists = match hold.record.kind {
        RecordKind::Concern => one_concern(&mut tx, hold.record.id).await.map(|_| ()),
        RecordKind::Incident => one_incident(&mut tx, hold.record.id).await.map(|_| ()),
        RecordKind::Referral => referral_incident(&mut tx, hold.record.id).await.map(|_| ()),
    };
    if let Err(e) = exists {
        return Err(abandon(tx, e).await);
    }
    let mut tx = check(tx, hold.validate()).await?;
    sqlx::query(
        "INSERT INTO record_legal_hold (record_kind, record_id, hold, actor, role, at_us, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(hold.record.kind.id())
    .bind(hold.record.id)
    .bind(hold.hold)
    .bind(&hold.actor)
    .bind(hold.role.id())
    .bind(us(hold.at))
    .bind(hold.reason.trim())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The holds in force: the latest row per record, where it puts a hold on.
pub async fn legal_holds(pool: &SqlitePool) -> Result<Vec<LegalHold>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM record_legal_hold h WHERE hold = 1 AND id = (SELECT max(id)
           FROM record_legal_hold l WHERE l.record_kind = h.record_kind AND l.record_id = h.record_id)
         ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("record_kind")?;
            Ok(LegalHold {
                record: RecordRef {
                    kind: RecordKind::from_id(&kind).map_err(|e| decode("record_kind", e))?,
                    id: r.try_get("record_id")?,
                },
                hold: true,
                actor: r.try_get("actor")?,
                role: role(r, "role")?,
                at: time(r, "at_us")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
}

// The registers.

fn register_entry(row: &SqliteRow) -> Result<RegisterEntry, StoreError> {
    let body: String = row.try_get("body")?;
    Ok(RegisterEntry {
        id: row.try_get("id")?,
        actor: row.try_get("actor")?,
        role: role(row, "role")?,
        at: time(row, "at_us")?,
        entry: serde_json::from_str(&body).map_err(|e| decode("body", e))?,
    })
}

/// The school's time zone: `school.timezone` of the policy in force, or
/// the default one's before any policy is saved.
async fn school_zone(conn: &mut SqliteConnection) -> Result<jiff::tz::TimeZone, StoreError> {
    let latest: Option<(i64, String)> =
        sqlx::query_as("SELECT number, document FROM policy_revision ORDER BY number DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let Some((number, document)) = latest else {
        return Ok(policy::defaults::default_policy()
            .time_zone()
            .unwrap_or(jiff::tz::TimeZone::UTC));
    };
    policy::Policy::from_toml(&document)
        .and_then(|policy| policy.time_zone())
        .map_err(|e| StoreError::BadRevision {
            number,
            problem: e.to_string(),
        })
}

async fn load_register(
    conn: &mut SqliteConnection,
    register: Register,
) -> Result<Vec<RegisterEntry>, StoreError> {
    let rows = sqlx::query("SELECT * FROM register_entry WHERE register = ? ORDER BY id")
        .bind(register.id())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(register_entry).collect()
}

pub async fn register(
    pool: &SqlitePool,
    register: Register,
) -> Result<Vec<RegisterEntry>, StoreError> {
    let mut conn = pool.acquire().await?;
    load_register(&mut conn, register).await
}

/// Adds an entry after checking it against the register as it stands.
pub async fn add_register_entry(
    pool: &SqlitePool,
    entry: &RegisterEntry,
) -> Result<i64, StoreError> {
    let register = entry.entry.register();
    let body = serde_json::to_string(&entry.entry).map_err(|e| decode("body", e))?;
    let mut tx = write(pool).await?;
    let existing = match load_register(&mut tx, register).await {
        Ok(e) => e,
        Err(e) => return Err(abandon(tx, e).await),
    };
    let zone = match school_zone(&mut tx).await {
        Ok(zone) => zone,
        Err(e) => return Err(abandon(tx, e).await),
    };
    let mut tx = check(tx, entry.validate_in(&existing, &zone)).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO register_entry (register, actor, role, at_us, body)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(register.id())
    .bind(&entry.actor)
    .bind(entry.role.id())
    .bind(us(entry.at))
    .bind(body)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    tx.commit().await?;
    Ok(id)
}
