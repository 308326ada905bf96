//! The SQLite side of the console's people records (see [`crate::people`]).
//! [`crate::sqlite::SqliteStore`] implements the `Store` methods with these.

use std::collections::HashMap;
use std::str::FromStr;

use jiff::Timestamp;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::sqlite::{audit, timestamp};
use crate::sqlite_console::{abandon, write};
use crate::{
    ImportOutcome, ImportedPerson, PeoplePage, PeopleQuery, PeopleStatus, PersonChange, PersonKind,
    PersonRecord, StoreError,
};

fn record(row: &SqliteRow) -> Result<PersonRecord, StoreError> {
    let kind: String = row.try_get("kind")?;
    let disabled_at: Option<String> = row.try_get("disabled_at")?;
    let password_hash: Option<String> = row.try_get("password_hash")?;
    Ok(PersonRecord {
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        profile: row.try_get("profile")?,
        disabled: row.try_get("disabled")?,
        mis_id: row.try_get("mis_id")?,
        given_name: row.try_get("given_name")?,
        family_name: row.try_get("family_name")?,
        year_group: row.try_get("year_group")?,
        class_group: row.try_get("class_group")?,
        email: row.try_get("email")?,
        kind: PersonKind::parse(&kind).unwrap_or(PersonKind::Pupil),
        profile_set_by_hand: row.try_get("profile_set_by_hand")?,
        disabled_at: disabled_at
            .map(|t| {
                Timestamp::from_str(&t)
                    .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
            })
            .transpose()?,
        disabled_by: row.try_get("disabled_by")?,
        date_of_birth: row
            .try_get::<Option<String>, _>("date_of_birth")?
            .map(|d| {
                d.parse::<jiff::civil::Date>()
                    .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
            })
            .transpose()?,
        can_sign_in: password_hash.is_some(),
        created_at: timestamp(row, "created_at")?,
    })
}

fn not_found(name: &str) -> StoreError {
    StoreError::NotFound {
        what: "person",
        name: name.to_owned(),
    }
}

pub(crate) async fn find(
    pool: &SqlitePool,
    username: &str,
) -> Result<Option<PersonRecord>, StoreError> {
    let row = sqlx::query("SELECT * FROM person WHERE username = ?")
        .bind(username)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(record).transpose()
}

pub(crate) async fn all(pool: &SqlitePool) -> Result<Vec<PersonRecord>, StoreError> {
    let rows = sqlx::query("SELECT * FROM person ORDER BY username")
        .fetch_all(pool)
        .await?;
    rows.iter().map(record).collect()
}

/// `%text%` for LIKE, with the wildcards in `text` taken literally.
fn contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn narrow(select: &mut QueryBuilder<Sqlite>, q: &PeopleQuery) {
    select.push(" WHERE 1 = 1");
    match q.status {
        PeopleStatus::Active => {
            select.push(" AND disabled = 0");
        }
        PeopleStatus::Disabled => {
            select.push(" AND disabled = 1");
        }
        PeopleStatus::All => {}
    }
    if let Some(kind) = q.kind {
        select.push(" AND kind = ").push_bind(kind.as_str());
    }
    if let Some(year) = &q.year_group {
        select.push(" AND year_group = ").push_bind(year.clone());
    }
    if let Some(class) = &q.class_group {
        select.push(" AND class_group = ").push_bind(class.clone());
    }
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = contains(text);
        select
            .push(" AND (display_name LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\' OR (given_name || ' ' || family_name) LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\' OR username LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\' OR email LIKE ")
            .push_bind(like)
            .push(" ESCAPE '\\' OR mis_id = ")
            .push_bind(text.to_owned())
            .push(")");
    }
}

pub(crate) async fn search(pool: &SqlitePool, q: &PeopleQuery) -> Result<PeoplePage, StoreError> {
    let mut count = QueryBuilder::<Sqlite>::new("SELECT count(*) AS n FROM person");
    narrow(&mut count, q);
    let total: i64 = count.build().fetch_one(pool).await?.try_get("n")?;
    let mut select = QueryBuilder::<Sqlite>::new("SELECT * FROM person");
    narrow(&mut select, q);
    select
        .push(" ORDER BY family_name COLLATE NOCASE, given_name COLLATE NOCASE, username LIMIT ")
        .push_bind(q.limit.clamp(1, 1000) as i64)
        .push(" OFFSET ")
        .push_bind(q.offset.min(i64::MAX as usize) as i64);
    let rows = select.build().fetch_all(pool).await?;
    Ok(PeoplePage {
        people: rows.iter().map(record).collect::<Result<_, _>>()?,
        total: total.max(0) as u64,
    })
}

pub(crate) async fn groups(pool: &SqlitePool) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let column = |rows: Vec<SqliteRow>| -> Result<Vec<String>, StoreError> {
        rows.iter()
            .map(|r| r.try_get::<String, _>("g").map_err(StoreError::from))
            .collect()
    };
    let years = column(
        sqlx::query(
            "SELECT DISTINCT year_group AS g FROM person WHERE year_group IS NOT NULL ORDER BY g",
        )
        .fetch_all(pool)
        .await?,
    )?;
    let classes = column(
        sqlx::query(
            "SELECT DISTINCT class_group AS g FROM person WHERE class_group IS NOT NULL ORDER BY g",
        )
        .fetch_all(pool)
        .await?,
    )?;
    Ok((years, classes))
}

async fn update(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    p: &PersonRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE person SET display_name = ?, profile = ?, mis_id = ?, given_name = ?, family_name = ?,
           year_group = ?, class_group = ?, email = ?, kind = ?, profile_set_by_hand = ?,
           date_of_birth = ?
         WHERE username = ?",
    )
    .bind(&p.display_name)
    .bind(&p.profile)
    .bind(&p.mis_id)
    .bind(&p.given_name)
    .bind(&p.family_name)
    .bind(&p.year_group)
    .bind(&p.class_group)
    .bind(&p.email)
    .bind(p.kind.as_str())
    .bind(p.profile_set_by_hand)
    .bind(p.date_of_birth.map(|d| d.to_string()))
    .bind(&p.username)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn change(
    pool: &SqlitePool,
    username: &str,
    change: &PersonChange,
    actor: &str,
    reason: &str,
) -> Result<(), StoreError> {
    if reason.trim().is_empty() {
        return Err(StoreError::ReasonRequired);
    }
    let mut tx = write(pool).await?;
    let row = sqlx::query("SELECT * FROM person WHERE username = ?")
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(before) = row.as_ref().map(record).transpose()? else {
        return Err(abandon(tx, not_found(username)).await);
    };
    let mut after = before.clone();
    if let Some(profile) = &change.profile {
        after.profile = profile.clone();
        after.profile_set_by_hand = true;
    } else if change.profile_from_import {
        after.profile_set_by_hand = false;
    }
    if let Some(v) = &change.given_name {
        after.given_name = v.trim().to_owned();
    }
    if let Some(v) = &change.family_name {
        after.family_name = v.trim().to_owned();
    }
    if let Some(v) = &change.year_group {
        after.year_group = v.clone();
    }
    if let Some(v) = &change.class_group {
        after.class_group = v.clone();
    }
    if let Some(v) = &change.email {
        after.email = v.clone();
    }
    if change.given_name.is_some() || change.family_name.is_some() {
        after.display_name =
            crate::people::full_name(&after.given_name, &after.family_name, &before.display_name);
    }
    let lines = before.differences(&after);
    if lines.is_empty() {
        return Err(abandon(tx, StoreError::NoChange).await);
    }
    update(&mut tx, &after).await?;
    let detail = format!(
        "{} ({}): {}. Reason: {}",
        after.username,
        after.display_name,
        lines.join("; "),
        reason.trim()
    );
    audit(&mut tx, Timestamp::now(), actor, "person.change", &detail).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn set_disabled(
    pool: &SqlitePool,
    usernames: &[String],
    disabled: bool,
    actor: &str,
    reason: &str,
) -> Result<u64, StoreError> {
    if reason.trim().is_empty() {
        return Err(StoreError::ReasonRequired);
    }
    let mut tx = write(pool).await?;
    let at = Timestamp::now();
    let mut changed = 0;
    for username in usernames {
        let row = sqlx::query("SELECT display_name, disabled FROM person WHERE username = ?")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Err(abandon(tx, not_found(username)).await);
        };
        let was: bool = row.try_get("disabled")?;
        if was == disabled {
            continue;
        }
        let name: String = row.try_get("display_name")?;
        sqlx::query(
            "UPDATE person SET disabled = ?, disabled_at = ?, disabled_by = ? WHERE username = ?",
        )
        .bind(disabled)
        .bind(disabled.then(|| at.to_string()))
        .bind(disabled.then_some(actor))
        .bind(username)
        .execute(&mut *tx)
        .await?;
        let action = if disabled {
            "person.disable"
        } else {
            "person.enable"
        };
        let detail = format!("{username} ({name}). Reason: {}", reason.trim());
        audit(&mut tx, at, actor, action, &detail).await?;
        changed += 1;
    }
    tx.commit().await?;
    Ok(changed)
}

pub(crate) async fn import(
    pool: &SqlitePool,
    people: &[ImportedPerson],
    actor: &str,
    source: &str,
) -> Result<ImportOutcome, StoreError> {
    let mut tx = write(pool).await?;
    let at = Timestamp::now();
    let rows = sqlx::query("SELECT * FROM person")
        .fetch_all(&mut *tx)
        .await?;
    let mut existing: HashMap<String, PersonRecord> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let r = record(row)?;
        existing.insert(r.username.clone(), r);
    }
    let mut outcome = ImportOutcome::default();
    for p in people {
        let Some(before) = existing.get(&p.username) else {
            sqlx::query(
                "INSERT INTO person (username, display_name, profile, password_hash, disabled, created_at,
                   mis_id, given_name, family_name, year_group, class_group, email, kind, profile_set_by_hand,
                   date_of_birth)
                 VALUES (?, ?, ?, NULL, 0, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
            )
            .bind(&p.username)
            .bind(p.display_name())
            .bind(&p.profile)
            .bind(at.to_string())
            .bind(&p.mis_id)
            .bind(p.given_name.trim())
            .bind(p.family_name.trim())
            .bind(&p.year_group)
            .bind(&p.class_group)
            .bind(&p.email)
            .bind(p.kind.as_str())
            .bind(p.date_of_birth.map(|d| d.to_string()))
            .execute(&mut *tx)
            .await?;
            outcome.added += 1;
            continue;
        };
        let after = before.merged_with(p);
        if before.profile_set_by_hand && before.profile != p.profile {
            outcome.kept_profiles += 1;
        }
        if after == *before {
            outcome.unchanged += 1;
        } else {
            update(&mut tx, &after).await?;
            outcome.changed += 1;
        }
    }
    let detail = format!(
        "from {source}: {} added, {} changed, {} unchanged; {} hand-set profiles kept",
        outcome.added, outcome.changed, outcome.unchanged, outcome.kept_profiles
    );
    audit(&mut tx, at, actor, "people.import", &detail).await?;
    tx.commit().await?;
    Ok(outcome)
}
