//! `schoolgate records purge`: the real binary on a real data folder. A dry
//! run says what would go and why and removes nothing; the purge removes
//! it and keeps what is under legal hold; a retention period below the
//! toolkit's minimum is refused naming the key.

use std::path::Path;
use std::process::{Command, Output};

use records::{LegalHold, NewConcern, PupilRef, RecordKind, RecordRef, Role};
use store::sqlite::SqliteStore;
use store::{ImportedPerson, PersonKind, Store};

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schoolgate"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("SCHOOLGATE_DATA")
        .output()
        .expect("run")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn pupil(username: &str, given: &str, born: &str) -> ImportedPerson {
    ImportedPerson {
        username: username.into(),
        mis_id: None,
        given_name: given.into(),
        family_name: "Pupil".into(),
        year_group: Some("Year 6".into()),
        class_group: None,
        email: None,
        kind: PersonKind::Pupil,
        date_of_birth: Some(born.parse().expect("date")),
        profile: "ks2".into(),
    }
}

fn concern(username: &str, name: &str) -> NewConcern {
    let at = "2012-05-01T10:00:00Z".parse().expect("time");
    NewConcern {
        raised_by: "r.teacher".into(),
        raised_by_role: Role::Staff,
        raised_at: at,
        pupils: vec![PupilRef::new(username, name)],
        others_involved: vec![],
        child_words: "Someone online keeps messaging me.".into(),
        immediate_action: "Told the DSL.".into(),
        happened_at: at,
        location: "Library".into(),
        suggested_category: None,
        about_staff: false,
    }
}

/// Two pupils born in 1990, so their files' periods ended in 2015: one
/// concern each, the second under legal hold; a third pupil born in 2012.
async fn seed(data: &Path) {
    let store = SqliteStore::open(&data.join("schoolgate.db"))
        .await
        .expect("open");
    store
        .import_people(
            &[
                pupil("ann.pupil", "Ann", "1990-01-01"),
                pupil("ben.pupil", "Ben", "1990-01-01"),
                pupil("cal.pupil", "Cal", "2012-01-01"),
            ],
            "admin",
            "mis.csv",
        )
        .await
        .expect("import");
    for (u, n) in [
        ("ann.pupil", "Ann Pupil"),
        ("ben.pupil", "Ben Pupil"),
        ("cal.pupil", "Cal Pupil"),
    ] {
        store.raise_concern(&concern(u, n)).await.expect("raise");
    }
    store
        .set_legal_hold(&LegalHold {
            record: RecordRef {
                kind: RecordKind::Concern,
                id: 2,
            },
            hold: true,
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: "2026-01-01T00:00:00Z".parse().expect("time"),
            reason: "Civil claim".into(),
        })
        .await
        .expect("hold");
    store.close().await;
}

async fn concern_ids(data: &Path) -> Vec<i64> {
    let store = SqliteStore::open(&data.join("schoolgate.db"))
        .await
        .expect("open");
    let ids = store
        .concerns()
        .await
        .expect("concerns")
        .iter()
        .map(|c| c.id)
        .collect();
    store.close().await;
    ids
}

#[tokio::test]
async fn a_dry_run_then_a_purge_report_what_went_and_what_was_held() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // The first run sets the data folder up.
    let out = run(&data, &["records", "purge", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Would remove no records"),
        "{}",
        text(&out)
    );
    seed(&data).await;

    let out = run(&data, &["records", "purge", "--dry-run"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Dry run: nothing was removed."), "{said}");
    assert!(said.contains("Would remove 1 record:"), "{said}");
    assert!(
        said.contains("concern 1: child protection record kept 25 years"),
        "{said}"
    );
    assert!(said.contains("Kept under legal hold (1 record):"), "{said}");
    assert!(said.contains("concern 2: under legal hold"), "{said}");
    assert!(
        said.contains("Kept until their retention periods end: 1 record."),
        "{said}"
    );
    assert!(
        !said.contains("keeps messaging"),
        "never the content: {said}"
    );
    assert_eq!(concern_ids(&data).await, vec![1, 2, 3]);

    let out = run(&data, &["--by", "d.lead", "records", "purge"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Removed 1 record:"), "{said}");
    assert!(said.contains("The report is kept as purge"), "{said}");
    assert_eq!(concern_ids(&data).await, vec![2, 3]);
}

#[tokio::test]
async fn a_period_below_the_toolkit_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(&config, "[retention]\nchild_protection_years = 20\n").expect("write");
    let out = run(
        &data,
        &[
            "records",
            "purge",
            "--dry-run",
            "--config",
            config.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("retention.child_protection_years") && said.contains("at least 25 years"),
        "{said}"
    );
}
