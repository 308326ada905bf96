//! The SQLite side of the console's records (see [`crate::console`]).
//! [`crate::sqlite::SqliteStore`] implements the `Store` methods with these.

use jiff::{Timestamp, ToSpan};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};

use crate::sqlite::{audit, micros, timestamp};
use crate::{
    ApiToken, ConsoleAccount, ConsoleSession, Hidden, NewConsoleAccount, SetupLink, StoreError,
};

/// Failed sign-ins older than this are of no use to any lock-out.
const FAILURES_KEPT_HOURS: i64 = 24;

fn optional_micros(row: &SqliteRow, column: &str) -> Result<Option<Timestamp>, StoreError> {
    let us: Option<i64> = row.try_get(column)?;
    us.map(|us| {
        Timestamp::from_microsecond(us)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
    })
    .transpose()
}

fn required_micros(row: &SqliteRow, column: &str) -> Result<Timestamp, StoreError> {
    optional_micros(row, column)?.ok_or_else(|| {
        StoreError::Database(sqlx::Error::Decode(format!("{column} is missing").into()))
    })
}

fn not_found(what: &'static str, name: &str) -> StoreError {
    StoreError::NotFound {
        what,
        name: name.to_owned(),
    }
}

/// A transaction that will write: it takes the write lock at once, so it
/// waits its turn (the busy timeout) instead of failing when another
/// connection wrote after it began reading.
pub(crate) async fn write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Gives up a transaction now, rather than when its connection is next
/// used (a dropped transaction holds the write lock until then), and
/// returns the error to report.
pub(crate) async fn abandon(tx: Transaction<'_, Sqlite>, error: StoreError) -> StoreError {
    match tx.rollback().await {
        Ok(()) => error,
        Err(e) => StoreError::Database(e),
    }
}

fn account(row: &SqliteRow) -> Result<ConsoleAccount, StoreError> {
    Ok(ConsoleAccount {
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        role: row.try_get("role")?,
        person: row.try_get("person")?,
        password_hash: row
            .try_get::<Option<String>, _>("password_hash")?
            .map(Hidden::new),
        totp_secret: row
            .try_get::<Option<String>, _>("totp_secret")?
            .map(Hidden::new),
        totp_enabled: row.try_get("totp_enabled")?,
        totp_last_step: row.try_get("totp_last_step")?,
        disabled: row.try_get("disabled")?,
        failed_sign_ins: row.try_get("failed_sign_ins")?,
        locked_until: optional_micros(row, "locked_until_us")?,
        last_sign_in: optional_micros(row, "last_sign_in_us")?,
        created_at: timestamp(row, "created_at")?,
    })
}

fn session(row: &SqliteRow) -> Result<ConsoleSession, StoreError> {
    Ok(ConsoleSession {
        id_hash: row.try_get("id_hash")?,
        username: row.try_get("username")?,
        pending_code: row.try_get("pending_code")?,
        created_at: required_micros(row, "created_us")?,
        last_seen: required_micros(row, "last_seen_us")?,
        expires_at: required_micros(row, "expires_us")?,
        user_agent: row.try_get("user_agent")?,
        client_ip: row.try_get("client_ip")?,
    })
}

fn api_token(row: &SqliteRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        token_hash: row.try_get("token_hash")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        created_at: required_micros(row, "created_us")?,
        last_used: optional_micros(row, "last_used_us")?,
        revoked_at: optional_micros(row, "revoked_us")?,
    })
}

/// The account's row number (accounts are never deleted, so it can be
/// read before a transaction begins).
async fn account_id(pool: &SqlitePool, username: &str) -> Result<i64, StoreError> {
    sqlx::query("SELECT id FROM console_account WHERE username = ?")
        .bind(username)
        .fetch_optional(pool)
        .await?
        .map(|row| row.try_get("id"))
        .transpose()?
        .ok_or_else(|| not_found("console account", username))
}

pub async fn accounts(pool: &SqlitePool) -> Result<Vec<ConsoleAccount>, StoreError> {
    let rows = sqlx::query("SELECT * FROM console_account ORDER BY username")
        .fetch_all(pool)
        .await?;
    rows.iter().map(account).collect()
}

pub async fn find_account(
    pool: &SqlitePool,
    username: &str,
) -> Result<Option<ConsoleAccount>, StoreError> {
    let row = sqlx::query("SELECT * FROM console_account WHERE username = ?")
        .bind(username)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(account).transpose()
}

pub async fn add_account(
    pool: &SqlitePool,
    new: &NewConsoleAccount,
    actor: &str,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let at = Timestamp::now();
    let inserted = sqlx::query(
        "INSERT INTO console_account (username, display_name, email, role, person, password_hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&new.username)
    .bind(&new.display_name)
    .bind(&new.email)
    .bind(&new.role)
    .bind(&new.person)
    .bind(new.password_hash.as_ref().map(Hidden::expose))
    .bind(at.to_string())
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        let error = match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Exists {
                what: "console account",
                name: new.username.clone(),
            },
            _ => StoreError::Database(e),
        };
        return Err(abandon(tx, error).await);
    }
    let detail = format!("{} ({}), role {}", new.username, new.display_name, new.role);
    audit(&mut tx, at, actor, "console.account.add", &detail).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn administrator_exists(pool: &SqlitePool) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT EXISTS (SELECT 1 FROM console_account WHERE role = 'administrator'
           AND disabled = 0 AND password_hash IS NOT NULL) AS found",
    )
    .fetch_one(pool)
    .await?;
    Ok(row.try_get("found")?)
}

pub async fn set_password(
    pool: &SqlitePool,
    username: &str,
    hash: &Hidden,
    actor: &str,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let done = sqlx::query("UPDATE console_account SET password_hash = ? WHERE username = ?")
        .bind(hash.expose())
        .bind(username)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(abandon(tx, not_found("console account", username)).await);
    }
    audit(
        &mut tx,
        Timestamp::now(),
        actor,
        "console.account.password",
        username,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn end_sessions_in(
    tx: &mut Transaction<'_, Sqlite>,
    username: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM console_session WHERE account_id = (SELECT id FROM console_account WHERE username = ?)",
    )
    .bind(username)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

pub async fn set_disabled(
    pool: &SqlitePool,
    username: &str,
    disabled: bool,
    actor: &str,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let done = sqlx::query("UPDATE console_account SET disabled = ? WHERE username = ?")
        .bind(disabled)
        .bind(username)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(abandon(tx, not_found("console account", username)).await);
    }
    if disabled {
        end_sessions_in(&mut tx, username).await?;
    }
    let action = if disabled {
        "console.account.disable"
    } else {
        "console.account.enable"
    };
    audit(&mut tx, Timestamp::now(), actor, action, username).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn begin_two_factor(
    pool: &SqlitePool,
    username: &str,
    secret: &Hidden,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE console_account SET totp_secret = ?, totp_enabled = 0, totp_last_step = NULL
         WHERE username = ? AND totp_enabled = 0",
    )
    .bind(secret.expose())
    .bind(username)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_found(
            "console account enrolling in two-factor sign-in",
            username,
        ));
    }
    Ok(())
}

pub async fn confirm_two_factor(
    pool: &SqlitePool,
    username: &str,
    step: i64,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let done = sqlx::query(
        "UPDATE console_account SET totp_enabled = 1, totp_last_step = ?
         WHERE username = ? AND totp_secret IS NOT NULL",
    )
    .bind(step)
    .bind(username)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(abandon(
            tx,
            not_found("console account enrolling in two-factor sign-in", username),
        )
        .await);
    }
    audit(
        &mut tx,
        Timestamp::now(),
        username,
        "console.two-factor.on",
        username,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn reset_two_factor(
    pool: &SqlitePool,
    username: &str,
    actor: &str,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let done = sqlx::query(
        "UPDATE console_account SET totp_secret = NULL, totp_enabled = 0, totp_last_step = NULL
         WHERE username = ?",
    )
    .bind(username)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(abandon(tx, not_found("console account", username)).await);
    }
    end_sessions_in(&mut tx, username).await?;
    audit(
        &mut tx,
        Timestamp::now(),
        actor,
        "console.two-factor.reset",
        username,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn accept_code_step(
    pool: &SqlitePool,
    username: &str,
    step: i64,
) -> Result<bool, StoreError> {
    // One statement, so two requests racing with the same code cannot both win.
    let done = sqlx::query(
        "UPDATE console_account SET totp_last_step = ?
         WHERE username = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
    )
    .bind(step)
    .bind(username)
    .bind(step)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn record_sign_in_failure(
    pool: &SqlitePool,
    username: &str,
    client_ip: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    sqlx::query(
        "INSERT INTO console_sign_in_failure (at_us, username, client_ip) VALUES (?, ?, ?)",
    )
    .bind(micros(at))
    .bind(username)
    .bind(client_ip)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE console_account SET failed_sign_ins = failed_sign_ins + 1 WHERE username = ?",
    )
    .bind(username)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM console_sign_in_failure WHERE at_us < ?")
        .bind(micros(at - FAILURES_KEPT_HOURS.hours()))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

fn times(rows: &[SqliteRow]) -> Result<Vec<Timestamp>, StoreError> {
    rows.iter()
        .map(|row| required_micros(row, "at_us"))
        .collect()
}

pub async fn sign_in_failures(
    pool: &SqlitePool,
    username: &str,
    since: Timestamp,
) -> Result<Vec<Timestamp>, StoreError> {
    let rows = sqlx::query(
        "SELECT at_us FROM console_sign_in_failure WHERE username = ? AND at_us >= ? ORDER BY at_us",
    )
    .bind(username)
    .bind(micros(since))
    .fetch_all(pool)
    .await?;
    times(&rows)
}

pub async fn sign_in_failures_from(
    pool: &SqlitePool,
    client_ip: &str,
    since: Timestamp,
) -> Result<Vec<Timestamp>, StoreError> {
    let rows = sqlx::query(
        "SELECT at_us FROM console_sign_in_failure WHERE client_ip = ? AND at_us >= ? ORDER BY at_us",
    )
    .bind(client_ip)
    .bind(micros(since))
    .fetch_all(pool)
    .await?;
    times(&rows)
}

pub async fn lock_account(
    pool: &SqlitePool,
    username: &str,
    until: Timestamp,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let done = sqlx::query("UPDATE console_account SET locked_until_us = ? WHERE username = ?")
        .bind(micros(until))
        .bind(username)
        .execute(&mut *tx)
        .await?;
    // A username nobody has is "locked" too, from the outside, but there is
    // nothing to write down.
    if done.rows_affected() == 1 {
        audit(
            &mut tx,
            Timestamp::now(),
            "schoolgate",
            "console.account.lock",
            &format!("{username} until {until}, after repeated failed sign-ins"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn record_sign_in(
    pool: &SqlitePool,
    username: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE console_account SET failed_sign_ins = 0, locked_until_us = NULL, last_sign_in_us = ?
         WHERE username = ?",
    )
    .bind(micros(at))
    .bind(username)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn unlock_account(
    pool: &SqlitePool,
    username: &str,
    actor: &str,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let done = sqlx::query(
        "UPDATE console_account SET failed_sign_ins = 0, locked_until_us = NULL WHERE username = ?",
    )
    .bind(username)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(abandon(tx, not_found("console account", username)).await);
    }
    sqlx::query("DELETE FROM console_sign_in_failure WHERE username = ?")
        .bind(username)
        .execute(&mut *tx)
        .await?;
    audit(
        &mut tx,
        Timestamp::now(),
        actor,
        "console.account.unlock",
        username,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn start_session(pool: &SqlitePool, s: &ConsoleSession) -> Result<(), StoreError> {
    let id = account_id(pool, &s.username).await?;
    let mut tx = write(pool).await?;
    sqlx::query(
        "INSERT INTO console_session (id_hash, account_id, pending_code, created_us, last_seen_us, expires_us, user_agent, client_ip)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&s.id_hash)
    .bind(id)
    .bind(s.pending_code)
    .bind(micros(s.created_at))
    .bind(micros(s.last_seen))
    .bind(micros(s.expires_at))
    .bind(&s.user_agent)
    .bind(&s.client_ip)
    .execute(&mut *tx)
    .await?;
    // Sessions past their absolute end are of no use to anyone.
    sqlx::query("DELETE FROM console_session WHERE expires_us < ?")
        .bind(micros(s.created_at))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

macro_rules! session_select {
    () => {
        "SELECT s.*, a.username AS username FROM console_session s
         JOIN console_account a ON a.id = s.account_id"
    };
}

pub async fn find_session(
    pool: &SqlitePool,
    id_hash: &str,
) -> Result<Option<ConsoleSession>, StoreError> {
    let row = sqlx::query(concat!(session_select!(), " WHERE s.id_hash = ?"))
        .bind(id_hash)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(session).transpose()
}

pub async fn touch_session(
    pool: &SqlitePool,
    id_hash: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE console_session SET last_seen_us = ? WHERE id_hash = ?")
        .bind(micros(at))
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn end_session(pool: &SqlitePool, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM console_session WHERE id_hash = ?")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn end_sessions(pool: &SqlitePool, username: &str) -> Result<u64, StoreError> {
    let mut tx = write(pool).await?;
    let ended = end_sessions_in(&mut tx, username).await?;
    tx.commit().await?;
    Ok(ended)
}

pub async fn sessions_of(
    pool: &SqlitePool,
    username: &str,
    now: Timestamp,
) -> Result<Vec<ConsoleSession>, StoreError> {
    let rows = sqlx::query(concat!(
        session_select!(),
        " WHERE a.username = ? AND s.expires_us > ? ORDER BY s.last_seen_us DESC"
    ))
    .bind(username)
    .bind(micros(now))
    .fetch_all(pool)
    .await?;
    rows.iter().map(session).collect()
}

pub async fn add_setup_link(pool: &SqlitePool, link: &SetupLink) -> Result<(), StoreError> {
    let account = match &link.username {
        Some(username) => Some(account_id(pool, username).await?),
        None => None,
    };
    let mut tx = write(pool).await?;
    sqlx::query(
        "INSERT INTO console_setup_link (token_hash, account_id, created_us, expires_us, used_us, created_by)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&link.token_hash)
    .bind(account)
    .bind(micros(link.created_at))
    .bind(micros(link.expires_at))
    .bind(link.used_at.map(micros))
    .bind(&link.created_by)
    .execute(&mut *tx)
    .await?;
    let detail = match &link.username {
        Some(username) => format!("a set-up link for {username}, until {}", link.expires_at),
        None => format!(
            "a first-run link to create the first administrator, until {}",
            link.expires_at
        ),
    };
    audit(
        &mut tx,
        link.created_at,
        &link.created_by,
        "console.setup-link",
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn find_setup_link(
    pool: &SqlitePool,
    token_hash: &str,
) -> Result<Option<SetupLink>, StoreError> {
    let row = sqlx::query(
        "SELECT l.*, a.username AS username FROM console_setup_link l
         LEFT JOIN console_account a ON a.id = l.account_id WHERE l.token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref()
        .map(|row| {
            Ok(SetupLink {
                token_hash: row.try_get("token_hash")?,
                username: row.try_get("username")?,
                created_at: required_micros(row, "created_us")?,
                expires_at: required_micros(row, "expires_us")?,
                used_at: optional_micros(row, "used_us")?,
                created_by: row.try_get("created_by")?,
            })
        })
        .transpose()
}

pub async fn use_setup_link(
    pool: &SqlitePool,
    token_hash: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE console_setup_link SET used_us = ?
         WHERE token_hash = ? AND used_us IS NULL AND expires_us > ?",
    )
    .bind(micros(at))
    .bind(token_hash)
    .bind(micros(at))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn withdraw_setup_links(
    pool: &SqlitePool,
    username: Option<&str>,
    at: Timestamp,
) -> Result<(), StoreError> {
    let query = match username {
        Some(username) => sqlx::query(
            "UPDATE console_setup_link SET expires_us = ? WHERE used_us IS NULL AND expires_us > ?
             AND account_id = (SELECT id FROM console_account WHERE username = ?)",
        )
        .bind(micros(at))
        .bind(micros(at))
        .bind(username),
        None => sqlx::query(
            "UPDATE console_setup_link SET expires_us = ? WHERE used_us IS NULL AND expires_us > ?
             AND account_id IS NULL",
        )
        .bind(micros(at))
        .bind(micros(at)),
    };
    query.execute(pool).await?;
    Ok(())
}

pub async fn add_api_token(pool: &SqlitePool, token: &ApiToken) -> Result<i64, StoreError> {
    let account = account_id(pool, &token.username).await?;
    let mut tx = write(pool).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO console_api_token (token_hash, account_id, name, created_us) VALUES (?, ?, ?, ?)
         RETURNING id",
    )
    .bind(&token.token_hash)
    .bind(account)
    .bind(token.name.trim())
    .bind(micros(token.created_at))
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    audit(
        &mut tx,
        token.created_at,
        &token.username,
        "console.api-token.add",
        &format!("#{id} '{}' for {}", token.name.trim(), token.username),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

macro_rules! token_select {
    () => {
        "SELECT t.*, a.username AS username FROM console_api_token t
         JOIN console_account a ON a.id = t.account_id"
    };
}

pub async fn api_tokens_of(pool: &SqlitePool, username: &str) -> Result<Vec<ApiToken>, StoreError> {
    let rows = sqlx::query(concat!(
        token_select!(),
        " WHERE a.username = ? ORDER BY t.id DESC"
    ))
    .bind(username)
    .fetch_all(pool)
    .await?;
    rows.iter().map(api_token).collect()
}

pub async fn find_api_token(
    pool: &SqlitePool,
    token_hash: &str,
) -> Result<Option<ApiToken>, StoreError> {
    let row = sqlx::query(concat!(token_select!(), " WHERE t.token_hash = ?"))
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(api_token).transpose()
}

pub async fn touch_api_token(pool: &SqlitePool, id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE console_api_token SET last_used_us = ? WHERE id = ?")
        .bind(micros(at))
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn revoke_api_token(
    pool: &SqlitePool,
    username: &str,
    id: i64,
    actor: &str,
) -> Result<(), StoreError> {
    let mut tx = write(pool).await?;
    let at = Timestamp::now();
    let done = sqlx::query(
        "UPDATE console_api_token SET revoked_us = ? WHERE id = ? AND revoked_us IS NULL
         AND account_id = (SELECT id FROM console_account WHERE username = ?)",
    )
    .bind(micros(at))
    .bind(id)
    .bind(username)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(abandon(tx, not_found("API token", &format!("#{id}"))).await);
    }
    audit(
        &mut tx,
        at,
        actor,
        "console.api-token.revoke",
        &format!("#{id} of {username}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
