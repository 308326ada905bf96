//! Retention in a real SQLite file: ordinary deletes stay refused, a purge
//! removes exactly what the plan lists and nothing under legal hold, its
//! report is kept, and a purge that fails removes nothing.

use jiff::Timestamp;
use jiff::civil::Date;
use records::retention::{PurgeLine, PurgePlan, RetentionSchedule, items, purge_plan};
use records::{
    IncidentType, LegalHold, NewConcern, NewIncident, PupilRef, RecordKind, RecordRef, Role,
};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use store::sqlite::SqliteStore;
use store::{ImportedPerson, PersonKind, Store, StoreError};

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn pupil(username: &str, given: &str, family: &str, born: &str) -> ImportedPerson {
    ImportedPerson {
        username: username.into(),
        mis_id: None,
        given_name: given.into(),
        family_name: family.into(),
        year_group: Some("Year 6".into()),
        class_group: None,
        email: None,
        kind: PersonKind::Pupil,
        date_of_birth: Some(born.parse().expect("date")),
        profile: "ks2".into(),
    }
}

fn concern(pupil: (&str, &str), raised: &str) -> NewConcern {
    NewConcern {
        raised_by: "r.teacher".into(),
        raised_by_role: Role::Staff,
        raised_at: at(raised),
        pupils: vec![PupilRef::new(pupil.0, pupil.1)],
        others_involved: vec![],
        child_words: "He said someone online asked where he lives.".into(),
        immediate_action: "Told the DSL straight away.".into(),
        happened_at: at(raised),
        location: "ICT suite".into(),
        suggested_category: None,
        about_staff: false,
    }
}

struct School {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: SqliteStore,
    /// The older pupil's concern (with an incident) and the younger's.
    old: i64,
    old_incident: i64,
    young: i64,
}

/// Two pupils: one whose child protection file's period has ended (born
/// 2000) and one whose has not (born 2010); each with a concern, the
/// older one's grown into an incident that was read.
async fn school() -> School {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("retention.db");
    let store = SqliteStore::open(&path).await.expect("open");
    store
        .import_people(
            &[
                pupil("sam.older", "Sam", "Older", "2000-03-01"),
                pupil("ria.younger", "Ria", "Younger", "2010-03-01"),
            ],
            "admin",
            "mis.csv",
        )
        .await
        .expect("import");
    let old = store
        .raise_concern(&concern(("sam.older", "Sam Older"), "2012-05-01T10:00:00Z"))
        .await
        .expect("raise");
    let young = store
        .raise_concern(&concern(
            ("ria.younger", "Ria Younger"),
            "2020-05-01T10:00:00Z",
        ))
        .await
        .expect("raise");
    let old_incident = store
        .open_incident(&NewIncident {
            concern_id: Some(old),
            kind: IncidentType::Cyberbullying,
            opened_by: "d.lead".into(),
            role: Role::Dsl,
            opened_at: at("2012-05-01T11:00:00Z"),
            summary: "Messages from an adult stranger".into(),
            about_staff: false,
        })
        .await
        .expect("incident");
    store
        .log_record_read(&records::ReadLogEntry {
            at: at("2012-05-02T09:00:00Z"),
            reader: "d.lead".into(),
            role: Role::Dsl,
            target: records::ReadTarget::Incident(old_incident),
            reason: None,
        })
        .await
        .expect("read logged");
    School {
        _dir: dir,
        path,
        store,
        old,
        old_incident,
        young,
    }
}

async fn plan(store: &SqliteStore, now: &str) -> PurgePlan {
    let concerns = store.concerns().await.expect("concerns");
    let incidents = store.incidents().await.expect("incidents");
    let holds = store.legal_holds().await.expect("holds");
    let mut births: Vec<(String, Date)> = Vec::new();
    for p in store.person_records().await.expect("people") {
        if let Some(d) = p.date_of_birth {
            births.push((p.username, d));
        }
    }
    let items = items(&concerns, &incidents, &holds, |u| {
        births.iter().find(|(n, _)| n == u).map(|(_, d)| *d)
    });
    purge_plan(&RetentionSchedule::default(), &items, at(now))
}

/// An ordinary DELETE, outside any purge, on its own connection.
async fn delete_directly(path: &std::path::Path, sql: &'static str) -> Result<u64, sqlx::Error> {
    let mut conn = SqliteConnectOptions::new().filename(path).connect().await?;
    let done = sqlx::query(sql).execute(&mut conn).await?.rows_affected();
    conn.close().await?;
    Ok(done)
}

fn record(kind: RecordKind, id: i64) -> RecordRef {
    RecordRef { kind, id }
}

#[tokio::test]
async fn ordinary_deletes_stay_refused() {
    let s = school().await;
    for sql in [
        "DELETE FROM concern",
        "DELETE FROM concern_pupil",
        "DELETE FROM incident",
        "DELETE FROM record_read",
        "UPDATE concern SET location = 'x'",
    ] {
        let err = delete_directly(&s.path, sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    // Forging an authorisation is refused too: purge rows cannot be
    // switched back on once cleared, nor removed.
    let s2 = &s.store;
    s2.purge_records(&PurgePlan::default(), "system", at("2026-11-01T02:00:00Z"))
        .await
        .expect("empty purge");
    for sql in [
        "UPDATE records_purge SET active = 1",
        "DELETE FROM records_purge",
    ] {
        let err = delete_directly(&s.path, sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let err = delete_directly(&s.path, "DELETE FROM concern")
        .await
        .expect_err("still refused after a purge");
    assert!(err.to_string().contains("append-only"));
    assert_eq!(s.store.concerns().await.expect("concerns").len(), 2);
}

#[tokio::test]
async fn a_purge_removes_exactly_the_plan_and_keeps_legal_holds_and_its_report() {
    let s = school().await;
    let now = "2026-11-01T02:00:00Z";
    let planned = plan(&s.store, now).await;
    let listed: Vec<RecordRef> = planned.remove.iter().map(|l| l.record).collect();
    assert_eq!(
        listed,
        vec![
            record(RecordKind::Concern, s.old),
            record(RecordKind::Incident, s.old_incident)
        ]
    );

    // A hold on the younger pupil's concern is respected by the plan.
    s.store
        .set_legal_hold(&LegalHold {
            record: record(RecordKind::Concern, s.young),
            hold: true,
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-10-01T09:00:00Z"),
            reason: "Claim received from the family's solicitor".into(),
        })
        .await
        .expect("hold");
    let planned = plan(&s.store, "2040-01-01T00:00:00Z").await;
    assert_eq!(planned.remove.len(), 2, "{planned:?}");
    assert!(
        planned
            .keep
            .iter()
            .any(|l| l.record.id == s.young && l.why.contains("legal hold"))
    );

    let report = s
        .store
        .purge_records(&planned, "system", at(now))
        .await
        .expect("purge");
    assert_eq!(report.removed, planned.remove);
    assert_eq!(report.kept_count, 1);
    let concerns = s.store.concerns().await.expect("concerns");
    assert_eq!(
        concerns.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![s.young]
    );
    assert!(s.store.incidents().await.expect("incidents").is_empty());
    assert!(
        s.store
            .record_read_log(&records::ReadTarget::Incident(s.old_incident))
            .await
            .expect("reads")
            .is_empty(),
        "the read log of a removed record goes with it"
    );
    assert_eq!(s.store.legal_holds().await.expect("holds").len(), 1);

    let stored = s.store.purge_reports(10).await.expect("reports");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].removed, planned.remove);
    assert_eq!(stored[0].kept_count, 1);
    assert!(stored[0].removed[0].why.contains("25 years"));
    // The report says which and why, never what the record said.
    let raw = format!("{stored:?}");
    assert!(!raw.contains("asked where he lives") && !raw.contains("stranger"));
}

#[tokio::test]
async fn a_purge_that_fails_removes_nothing() {
    let s = school().await;
    s.store
        .set_legal_hold(&LegalHold {
            record: record(RecordKind::Concern, s.young),
            hold: true,
            actor: "h.teacher".into(),
            role: Role::Headteacher,
            at: at("2026-10-01T09:00:00Z"),
            reason: "Local authority inquiry".into(),
        })
        .await
        .expect("hold");
    // A stale or forged plan that lists a held record.
    let mut planned = plan(&s.store, "2026-11-01T02:00:00Z").await;
    planned.remove.push(PurgeLine {
        record: record(RecordKind::Concern, s.young),
        why: "forged".into(),
    });
    let err = s
        .store
        .purge_records(&planned, "system", at("2026-11-01T02:00:00Z"))
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, StoreError::Records(_)) && err.to_string().contains("legal hold"),
        "{err}"
    );
    assert_eq!(s.store.concerns().await.expect("concerns").len(), 2);
    assert_eq!(s.store.incidents().await.expect("incidents").len(), 1);
    assert!(s.store.purge_reports(10).await.expect("reports").is_empty());
    // And the authorisation went with the rollback.
    assert!(
        delete_directly(&s.path, "DELETE FROM concern")
            .await
            .is_err()
    );

    // A plan naming a record that is not there is refused as out of date.
    let stale = PurgePlan {
        remove: vec![PurgeLine {
            record: record(RecordKind::Incident, 999),
            why: "gone".into(),
        }],
        keep: vec![],
    };
    assert!(
        s.store
            .purge_records(&stale, "system", at("2026-11-01T02:00:00Z"))
            .await
            .is_err()
    );
}
