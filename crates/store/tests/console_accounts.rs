//! The console's accounts, sessions, set-up links, API tokens and sign-in
//! failures, as the SQLite store keeps them.

use jiff::{Timestamp, ToSpan};
use store::sqlite::SqliteStore;
use store::{ApiToken, ConsoleSession, Hidden, NewConsoleAccount, SetupLink, Store, StoreError};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    (dir, store)
}

/// Now, to the microsecond the store keeps.
fn now() -> Timestamp {
    Timestamp::from_microsecond(Timestamp::now().as_microsecond()).expect("now")
}

fn account(username: &str, role: &str, password: Option<&str>) -> NewConsoleAccount {
    NewConsoleAccount {
        username: username.into(),
        display_name: format!("Invented {username}"),
        email: Some(format!("{username}@school.invalid")),
        role: role.into(),
        person: None,
        password_hash: password.map(Hidden::new),
    }
}

fn session(id: &str, username: &str, at: Timestamp) -> ConsoleSession {
    ConsoleSession {
        id_hash: id.into(),
        username: username.into(),
        pending_code: false,
        created_at: at,
        last_seen: at,
        expires_at: at + 12.hours(),
        user_agent: "Firefox".into(),
        client_ip: "10.0.0.5".into(),
    }
}

#[tokio::test]
async fn accounts_are_added_once_and_found_in_any_case() {
    let (_dir, store) = store().await;
    assert!(!store.administrator_exists().await.expect("exists"));
    store
        .add_console_account(&account("a.admin", "administrator", None), "setup")
        .await
        .expect("add");
    // No password yet: not an administrator anyone can sign in as.
    assert!(!store.administrator_exists().await.expect("exists"));
    store
        .set_console_password("a.admin", &Hidden::new("$argon2id$fake"), "setup")
        .await
        .expect("password");
    assert!(store.administrator_exists().await.expect("exists"));

    let err = store
        .add_console_account(&account("A.Admin", "staff", None), "setup")
        .await
        .expect_err("taken");
    assert!(matches!(err, StoreError::Exists { .. }), "{err}");

    let found = store
        .console_account("A.ADMIN")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(found.role, "administrator");
    assert_eq!(found.email.as_deref(), Some("a.admin@school.invalid"));
    assert!(
        store
            .console_account("nobody")
            .await
            .expect("find")
            .is_none()
    );

    // The database refuses a role the console does not know.
    let err = store
        .add_console_account(&account("b", "caretaker", None), "setup")
        .await
        .expect_err("bad role");
    assert!(matches!(err, StoreError::Database(_)), "{err}");

    store
        .set_console_account_disabled("a.admin", true, "someone")
        .await
        .expect("disable");
    assert!(!store.administrator_exists().await.expect("exists"));
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let (_dir, store) = store().await;
    store
        .add_console_account(
            &account("t.tech", "technician", Some("$argon2id$v=19$secret-hash")),
            "setup",
        )
        .await
        .expect("add");
    store
        .begin_two_factor("t.tech", &Hidden::new("JBSWY3DPEHPK3PXP"))
        .await
        .expect("enrol");
    let found = store.console_account("t.tech").await.expect("find");
    let debug = format!("{found:?}");
    assert!(!debug.contains("secret-hash"), "{debug}");
    assert!(!debug.contains("JBSWY3DPEHPK3PXP"), "{debug}");
    assert!(debug.contains("t.tech"), "{debug}");
}

#[tokio::test]
async fn two_factor_codes_are_accepted_once_and_reset_ends_sessions() {
    let (_dir, store) = store().await;
    store
        .add_console_account(&account("d.dsl", "dsl", Some("hash")), "setup")
        .await
        .expect("add");
    store
        .begin_two_factor("d.dsl", &Hidden::new("SECRET"))
        .await
        .expect("begin");
    store
        .confirm_two_factor("d.dsl", 100)
        .await
        .expect("confirm");
    let found = store
        .console_account("d.dsl")
        .await
        .expect("find")
        .expect("some");
    assert!(found.totp_enabled);
    assert_eq!(found.totp_last_step, Some(100));
    // Enrolment cannot silently replace a secret in use.
    assert!(
        store
            .begin_two_factor("d.dsl", &Hidden::new("OTHER"))
            .await
            .is_err()
    );

    assert!(!store.accept_code_step("d.dsl", 100).await.expect("same"));
    assert!(!store.accept_code_step("d.dsl", 99).await.expect("older"));
    assert!(store.accept_code_step("d.dsl", 101).await.expect("newer"));
    assert!(!store.accept_code_step("d.dsl", 101).await.expect("replay"));

    let now = now();
    store
        .start_console_session(&session("s1", "d.dsl", now))
        .await
        .expect("session");
    store
        .reset_two_factor("d.dsl", "a.admin")
        .await
        .expect("reset");
    let found = store
        .console_account("d.dsl")
        .await
        .expect("find")
        .expect("some");
    assert!(!found.totp_enabled);
    assert!(found.totp_secret.is_none());
    assert!(store.console_session("s1").await.expect("find").is_none());
}

#[tokio::test]
async fn sessions_start_touch_and_end_singly_or_everywhere() {
    let (_dir, store) = store().await;
    store
        .add_console_account(&account("s.staff", "staff", Some("hash")), "setup")
        .await
        .expect("add");
    let now = now();
    for id in ["one", "two", "three"] {
        store
            .start_console_session(&session(id, "s.staff", now))
            .await
            .expect("start");
    }
    let later = now + 5.minutes();
    store
        .touch_console_session("one", later)
        .await
        .expect("touch");
    let one = store
        .console_session("one")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(one.last_seen, later);
    assert_eq!(one.username, "s.staff");
    assert_eq!(
        store
            .console_sessions_of("s.staff", now)
            .await
            .expect("list")
            .len(),
        3
    );

    store.end_console_session("one").await.expect("end");
    assert!(store.console_session("one").await.expect("find").is_none());
    assert_eq!(store.end_console_sessions("s.staff").await.expect("all"), 2);
    assert!(
        store
            .console_sessions_of("s.staff", now)
            .await
            .expect("list")
            .is_empty()
    );

    // Disabling an account ends its sessions too.
    store
        .start_console_session(&session("four", "s.staff", now))
        .await
        .expect("start");
    store
        .set_console_account_disabled("s.staff", true, "a.admin")
        .await
        .expect("disable");
    assert!(store.console_session("four").await.expect("find").is_none());

    // A session for nobody is refused.
    assert!(
        store
            .start_console_session(&session("five", "nobody", now))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn set_up_links_work_once_until_they_expire() {
    let (_dir, store) = store().await;
    let now = now();
    let link = SetupLink {
        token_hash: "first".into(),
        username: None,
        created_at: now,
        expires_at: now + 24.hours(),
        used_at: None,
        created_by: "schoolgate".into(),
    };
    store.add_setup_link(&link).await.expect("add");
    let found = store
        .setup_link("first")
        .await
        .expect("find")
        .expect("some");
    assert!(found.usable(now));
    assert!(!found.usable(now + 25.hours()));
    assert!(
        !store
            .use_setup_link("first", now + 25.hours())
            .await
            .expect("late")
    );
    assert!(store.use_setup_link("first", now).await.expect("use"));
    assert!(!store.use_setup_link("first", now).await.expect("again"));
    assert!(store.setup_link("missing").await.expect("find").is_none());

    // A newer first-run link withdraws the older ones.
    let older = SetupLink {
        token_hash: "older".into(),
        ..link.clone()
    };
    store.add_setup_link(&older).await.expect("add");
    store
        .withdraw_setup_links(None, now)
        .await
        .expect("withdraw");
    assert!(!store.use_setup_link("older", now).await.expect("withdrawn"));

    // Links for an account name it.
    store
        .add_console_account(&account("n.new", "staff", None), "a.admin")
        .await
        .expect("add");
    let for_account = SetupLink {
        token_hash: "for-n".into(),
        username: Some("n.new".into()),
        ..link
    };
    store.add_setup_link(&for_account).await.expect("add");
    let found = store
        .setup_link("for-n")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(found.username.as_deref(), Some("n.new"));
}

#[tokio::test]
async fn api_tokens_are_listed_used_and_revoked_by_their_owner_only() {
    let (_dir, store) = store().await;
    for name in ["t.tech", "o.other"] {
        store
            .add_console_account(&account(name, "technician", Some("hash")), "setup")
            .await
            .expect("add");
    }
    let now = now();
    let id = store
        .add_api_token(&ApiToken {
            id: 0,
            token_hash: "hash-1".into(),
            username: "t.tech".into(),
            name: "Inventory script".into(),
            created_at: now,
            last_used: None,
            revoked_at: None,
        })
        .await
        .expect("add");
    store
        .touch_api_token(id, now + 1.minute())
        .await
        .expect("touch");
    let token = store
        .api_token("hash-1")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(token.username, "t.tech");
    assert_eq!(token.last_used, Some(now + 1.minute()));
    assert_eq!(store.api_tokens_of("t.tech").await.expect("list").len(), 1);
    assert!(
        store
            .api_tokens_of("o.other")
            .await
            .expect("list")
            .is_empty()
    );

    // Someone else cannot revoke it through their own account.
    assert!(
        store
            .revoke_api_token("o.other", id, "o.other")
            .await
            .is_err()
    );
    store
        .revoke_api_token("t.tech", id, "t.tech")
        .await
        .expect("revoke");
    let token = store
        .api_token("hash-1")
        .await
        .expect("find")
        .expect("some");
    assert!(token.revoked_at.is_some());
    assert!(
        store
            .revoke_api_token("t.tech", id, "t.tech")
            .await
            .is_err()
    );

    let actions: Vec<String> = store
        .audit_trail(3)
        .await
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        [
            "console.api-token.revoke",
            "console.api-token.add",
            "console.account.add"
        ]
    );
}

#[tokio::test]
async fn sign_in_failures_are_counted_by_username_and_address() {
    let (_dir, store) = store().await;
    store
        .add_console_account(&account("s.staff", "staff", Some("hash")), "setup")
        .await
        .expect("add");
    let now = now();
    for minutes in 0..3 {
        store
            .record_sign_in_failure("S.Staff", "10.0.0.9", now + minutes.minutes())
            .await
            .expect("record");
    }
    store
        .record_sign_in_failure("nobody", "10.0.0.9", now)
        .await
        .expect("record");
    assert_eq!(
        store
            .sign_in_failures("s.staff", now - 1.hour())
            .await
            .expect("by name")
            .len(),
        3
    );
    assert_eq!(
        store
            .sign_in_failures("s.staff", now + 1.minute())
            .await
            .expect("since")
            .len(),
        2
    );
    assert_eq!(
        store
            .sign_in_failures_from("10.0.0.9", now - 1.hour())
            .await
            .expect("by address")
            .len(),
        4
    );
    let found = store
        .console_account("s.staff")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(found.failed_sign_ins, 3);

    store
        .lock_console_account("s.staff", now + 15.minutes())
        .await
        .expect("lock");
    let found = store
        .console_account("s.staff")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(found.locked_until, Some(now + 15.minutes()));

    store
        .unlock_console_account("s.staff", "a.admin")
        .await
        .expect("unlock");
    let found = store
        .console_account("s.staff")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(found.failed_sign_ins, 0);
    assert_eq!(found.locked_until, None);
    assert!(
        store
            .sign_in_failures("s.staff", now - 1.hour())
            .await
            .expect("cleared")
            .is_empty()
    );

    store
        .record_sign_in_failure("s.staff", "10.0.0.9", now)
        .await
        .expect("record");
    store.record_sign_in("s.staff", now).await.expect("good");
    let found = store
        .console_account("s.staff")
        .await
        .expect("find")
        .expect("some");
    assert_eq!(found.failed_sign_ins, 0);
    assert_eq!(found.last_sign_in, Some(now));
}
