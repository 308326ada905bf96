//! Safeguarding records in a real SQLite file: what goes in comes back,
//! the records crate's rules hold inside the store, and the database
//! itself refuses to change or remove what was written.

use jiff::Timestamp;
use records::access::{Viewer, read_concern};
use records::referral::{default_due, overdue};
use records::registers::{Entry, Register, RegisterEntry, ReleasedTo, still_held};
use records::retention::{RetentionItem, RetentionSchedule, purge_plan};
use records::{
    Agency, Amendment, CategoryDecision, Closure, Decision, DirectoryContact, IncidentType,
    Involvement, LegalHold, NewAttachment, NewConcern, NewIncident, NewReferral, PupilLinkChange,
    PupilRef, ReadTarget, RecordKind, RecordRef, RecordsError, ReferralResponse, RetentionClass,
    Role, StepRecord,
};
use store::sqlite::SqliteStore;
use store::{Store, StoreError};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("records.db"))
        .await
        .expect("open");
    (dir, store)
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn concern(about_staff: bool) -> NewConcern {
    NewConcern {
        raised_by: "r.teacher".into(),
        raised_by_role: Role::Staff,
        raised_at: at("2026-03-02T10:00:00Z"),
        pupils: vec![PupilRef::new("amara.okafor", "Amara Okafor")],
        others_involved: vec![PupilRef::new("tobias.lindqvist", "Tobias Lindqvist")],
        child_words: "She said: 'he keeps asking me for pictures'.".into(),
        immediate_action: "Reassured her; came straight to the DSL.".into(),
        happened_at: at("2026-03-01T19:30:00Z"),
        location: "At home, on a messaging app".into(),
        suggested_category: Some("nudes".into()),
        about_staff,
    }
}

fn incident(concern_id: i64, kind: IncidentType, role: Role) -> NewIncident {
    NewIncident {
        concern_id: Some(concern_id),
        kind,
        opened_by: "d.lead".into(),
        role,
        opened_at: at("2026-03-02T11:00:00Z"),
        summary: "Requests for images in a private chat".into(),
        about_staff: false,
    }
}

fn step(incident_id: i64, key: &str, decision: Decision) -> StepRecord {
    StepRecord {
        incident_id,
        step: key.into(),
        decision,
        reason: format!("{key}: recorded in the test"),
        actor: "d.lead".into(),
        role: Role::Dsl,
        at: at("2026-03-02T12:00:00Z"),
    }
}

fn lado(id: i64) -> DirectoryContact {
    DirectoryContact {
        id,
        agency: Agency::Lado,
        name: "County LADO".into(),
        phone: "01234 567890".into(),
        email: "lado@county.invalid".into(),
        web: String::new(),
        notes: "Phone first; the form follows within 24 hours.".into(),
        updated_by: "d.lead".into(),
        updated_at: at("2026-01-05T09:00:00Z"),
    }
}

/// Raises the sample concern and reads it back.
async fn raise(store: &SqliteStore, about_staff: bool) -> (i64, records::Concern) {
    let id = store
        .raise_concern(&concern(about_staff))
        .await
        .expect("raise");
    let stored = store.concern(id).await.expect("read").expect("found");
    (id, stored)
}

fn lado_referral(incident_id: i64, contact_id: i64, made: &str) -> NewReferral {
    let made_at = at(made);
    NewReferral {
        incident_id,
        agency: Agency::Lado,
        contact_id,
        made_by: "d.lead".into(),
        role: Role::Dsl,
        made_at,
        due_at: default_due(Agency::Lado, made_at),
        reference: String::new(),
        summary: "Advice sought about a volunteer's messages".into(),
    }
}

fn refused(result: Result<impl std::fmt::Debug, StoreError>) -> RecordsError {
    match result {
        Err(StoreError::Records(e)) => e,
        other => panic!("expected a records refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_concern_round_trips_with_its_links_category_and_amendments() {
    let (_dir, store) = store().await;
    let new = concern(false);
    let id = store.raise_concern(&new).await.expect("raise");
    let got = store.concern(id).await.expect("read").expect("found");
    assert_eq!(got.raised, new);
    assert_eq!(got.current_pupils().len(), 2);

    // Only DSL roles set the final category.
    let mut decision = CategoryDecision {
        concern_id: id,
        category: "nudes".into(),
        actor: "r.teacher".into(),
        role: Role::Staff,
        at: at("2026-03-02T11:00:00Z"),
        reason: "Images were asked for".into(),
    };
    assert!(matches!(
        refused(store.set_concern_category(&decision).await),
        RecordsError::NotAllowed(_)
    ));
    decision.actor = "d.lead".into();
    decision.role = Role::Dsl;
    store.set_concern_category(&decision).await.expect("dsl");

    // A deputy unlinks the wrong Tobias; staff may not.
    let mut unlink = PupilLinkChange {
        concern_id: id,
        pupil: PupilRef::new("tobias.lindqvist", "Tobias Lindqvist"),
        involvement: Involvement::Involved,
        linked: false,
        actor: "r.teacher".into(),
        role: Role::Staff,
        at: at("2026-03-02T11:30:00Z"),
        reason: "Wrong pupil: it was a boy at another school".into(),
    };
    assert!(store.change_pupil_link(&unlink).await.is_err());
    unlink.actor = "dep.one".into();
    unlink.role = Role::DeputyDsl;
    store
        .change_pupil_link(&unlink)
        .await
        .expect("deputy unlinks");
    assert!(
        refused(store.change_pupil_link(&unlink).await)
            .to_string()
            .contains("already not linked")
    );

    // The raiser corrects their own words; the store fills in "before".
    let correction = Amendment {
        record: RecordRef {
            kind: RecordKind::Concern,
            id,
        },
        field: "location".into(),
        before: "whatever the caller claims".into(),
        after: "At home, on a game's chat".into(),
        why: "She told me again; it was the game, not the messaging app".into(),
        actor: "r.teacher".into(),
        role: Role::Staff,
        at: at("2026-03-02T12:00:00Z"),
    };
    let stored = store.amend_record(&correction).await.expect("amend");
    assert_eq!(stored.before, "At home, on a messaging app");
    let mut other = correction.clone();
    other.actor = "o.teacher".into();
    assert!(matches!(
        refused(store.amend_record(&other).await),
        RecordsError::NotAllowed(_)
    ));

    let got = store.concern(id).await.expect("read").expect("found");
    assert_eq!(got.category(), Some("nudes"));
    assert!(!got.names_pupil("tobias.lindqvist") && got.names_pupil("amara.okafor"));
    assert_eq!(got.links.len(), 3, "the first link is kept");
    assert_eq!(
        got.field("location").as_deref(),
        Some("At home, on a game's chat")
    );
    assert_eq!(got.raised.location, "At home, on a messaging app");
    assert_eq!(got.amendments, vec![stored]);

    // A concern with initials is refused and nothing is stored.
    let mut initials = concern(false);
    initials.pupils[0].full_name = "A.O.".into();
    assert!(matches!(
        refused(store.raise_concern(&initials).await),
        RecordsError::NotAFullName { .. }
    ));
    assert_eq!(store.concerns().await.expect("list").len(), 1);
}

#[tokio::test]
async fn an_incident_is_worked_referred_and_closed() {
    let (_dir, store) = store().await;
    let concern_id = store.raise_concern(&concern(false)).await.expect("raise");
    let mut new = incident(concern_id, IncidentType::Cyberbullying, Role::Staff);
    assert!(matches!(
        refused(store.open_incident(&new).await),
        RecordsError::NotAllowed(_)
    ));
    new.role = Role::Dsl;
    let id = store.open_incident(&new).await.expect("open");

    // A document may be attached to a bullying incident.
    let letter = NewAttachment {
        incident_id: id,
        file_name: "letter-to-parents.pdf".into(),
        media_type: "application/pdf".into(),
        description: "The letter sent home".into(),
        added_by: "d.lead".into(),
        role: Role::Dsl,
        added_at: at("2026-03-02T13:00:00Z"),
    };
    let meta = store
        .add_attachment(&letter, b"%PDF-1.7 invented")
        .await
        .expect("attach");
    assert_eq!(meta.size, 17);
    assert_eq!(meta.sha256.len(), 64);
    let (back, content) = store
        .attachment(meta.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        (back, content.as_slice()),
        (meta.clone(), &b"%PDF-1.7 invented"[..])
    );

    // Referral through the directory.
    let contact = store
        .save_referral_contact(&lado(0), Role::Dsl)
        .await
        .expect("directory");
    let mut edited = lado(contact);
    edited.phone = "01234 000111".into();
    let current = store
        .save_referral_contact(&edited, Role::Dsl)
        .await
        .expect("edit");
    let directory = store.referral_directory().await.expect("directory");
    assert_eq!(directory.len(), 1);
    assert_eq!(
        (directory[0].id, directory[0].phone.as_str()),
        (current, "01234 000111")
    );
    assert!(
        store
            .save_referral_contact(&lado(0), Role::Staff)
            .await
            .is_err()
    );

    let mut referral = lado_referral(id, contact, "2026-03-06T15:00:00Z");
    assert!(
        refused(store.make_referral(&referral).await)
            .to_string()
            .contains("changed or withdrawn"),
        "the replaced directory entry is not offered"
    );
    referral.contact_id = current;
    let referral_id = store.make_referral(&referral).await.expect("refer");

    let all = store.incidents().await.expect("incidents");
    let refs: Vec<_> = all.iter().flat_map(|i| i.referrals.clone()).collect();
    assert!(overdue(&refs, at("2026-03-09T14:00:00Z")).is_empty());
    assert_eq!(overdue(&refs, at("2026-03-09T16:00:00Z")).len(), 1);

    store
        .answer_referral(&ReferralResponse {
            referral_id,
            outcome: "LADO: does not meet the harm threshold; handle as conduct".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-09T15:30:00Z"),
        })
        .await
        .expect("answer");

    // The LADO's reference came later: an amendment to the referral.
    let reference = store
        .amend_record(&Amendment {
            record: RecordRef {
                kind: RecordKind::Referral,
                id: referral_id,
            },
            field: "reference".into(),
            before: String::new(),
            after: "LADO/2026/117".into(),
            why: "Reference given when the LADO replied".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-09T15:31:00Z"),
        })
        .await
        .expect("amend referral");
    assert_eq!(reference.before, "");
    // Another incident's amendments stay with that incident.
    let other = store.open_incident(&new).await.expect("second incident");
    store
        .amend_record(&Amendment {
            record: RecordRef {
                kind: RecordKind::Incident,
                id: other,
            },
            field: "summary".into(),
            before: String::new(),
            after: "Opened twice by mistake; see the first".into(),
            why: "Duplicate".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-09T16:00:00Z"),
        })
        .await
        .expect("amend other");

    // Closing: refused while steps are outstanding, and without lessons.
    let closure = Closure {
        incident_id: id,
        outcome: "Apology made; messages removed".into(),
        lessons: "Remind Year 8 how to report in the group chat".into(),
        actor: "d.lead".into(),
        role: Role::Dsl,
        at: at("2026-03-10T09:00:00Z"),
    };
    assert!(matches!(
        refused(store.close_incident(&closure).await),
        RecordsError::StepsOutstanding(_)
    ));
    for s in IncidentType::Cyberbullying.procedure() {
        store
            .record_step(&step(id, s.key, Decision::Done))
            .await
            .expect(s.key);
    }
    let mut no_lessons = closure.clone();
    no_lessons.lessons = " ".into();
    assert!(store.close_incident(&no_lessons).await.is_err());
    store.close_incident(&closure).await.expect("close");
    assert_eq!(
        refused(
            store
                .record_step(&step(id, "support", Decision::Done))
                .await
        ),
        RecordsError::AlreadyClosed(id)
    );

    let got = store.incident(id).await.expect("read").expect("found");
    assert_eq!(got.opened, new);
    assert_eq!(got.steps.len(), 8);
    assert_eq!(got.attachments, vec![meta]);
    assert_eq!(got.closure, Some(closure));
    assert_eq!(got.referrals.len(), 1);
    assert!(got.referrals[0].response.is_some());
    assert_eq!(got.amendments, vec![reference]);
    let referral_ref = RecordRef {
        kind: RecordKind::Referral,
        id: referral_id,
    };
    assert_eq!(
        got.field(referral_ref, "reference").as_deref(),
        Some("LADO/2026/117")
    );
    assert!(refs[0].made == got.referrals[0].made);
}

#[tokio::test]
async fn nudes_incidents_refuse_attachments_in_the_store_and_the_database() {
    let (_dir, store) = store().await;
    let concern_id = store.raise_concern(&concern(false)).await.expect("raise");
    let id = store
        .open_incident(&incident(concern_id, IncidentType::SharingNudes, Role::Dsl))
        .await
        .expect("open");
    let image = NewAttachment {
        incident_id: id,
        file_name: "screenshot.png".into(),
        media_type: "image/png".into(),
        description: "What was on the phone".into(),
        added_by: "d.lead".into(),
        role: Role::Dsl,
        added_at: at("2026-03-02T13:00:00Z"),
    };
    let err = refused(store.add_attachment(&image, b"\x89PNG invented").await);
    assert!(matches!(err, RecordsError::AttachmentRefused(_)));
    assert!(err.to_string().contains("§11.2"));
    // Even a caller going round the store is refused by the database.
    let direct = sqlx::query(
        "INSERT INTO incident_attachment (incident_id, file_name, media_type, description, size,
            sha256, added_by, added_us) VALUES (?, 'x.png', 'image/png', 'x', 1, 'x', 'x', 0)",
    )
    .bind(id)
    .execute(store.pool())
    .await
    .expect_err("trigger");
    assert!(direct.to_string().contains("§11.2"), "{direct}");
    let got = store.incident(id).await.expect("read").expect("found");
    assert!(got.attachments.is_empty());
}

#[tokio::test]
async fn allegations_about_staff_stay_with_the_headteacher_and_dsl() {
    let (_dir, store) = store().await;
    let (concern_id, concern) = raise(&store, true).await;
    assert!(
        read_concern(
            &Viewer::new("dep.one", Role::DeputyDsl),
            &concern,
            at("2026-03-03T00:00:00Z")
        )
        .is_err()
    );
    // A deputy cannot open it as an incident, even as an ordinary type: it
    // stays an allegation because its concern is one.
    let by_deputy = incident(concern_id, IncidentType::Cyberbullying, Role::DeputyDsl);
    assert!(matches!(
        refused(store.open_incident(&by_deputy).await),
        RecordsError::NotAllowed(_)
    ));
    let by_head = incident(concern_id, IncidentType::StaffMisuse, Role::Headteacher);
    let id = store
        .open_incident(&by_head)
        .await
        .expect("headteacher opens");
    let stored = store.incident(id).await.expect("read").expect("found");
    assert!(stored.is_staff_allegation());
    let mut deputy_step = step(id, "tell-headteacher-now", Decision::Done);
    deputy_step.role = Role::DeputyDsl;
    assert!(store.record_step(&deputy_step).await.is_err());
}

#[tokio::test]
async fn reads_are_logged_and_legal_holds_feed_the_purge_plan() {
    let (_dir, store) = store().await;
    let (concern_id, concern) = raise(&store, false).await;
    let entry = read_concern(
        &Viewer::new("r.teacher", Role::Staff),
        &concern,
        at("2026-03-02T10:05:00Z"),
    )
    .expect("own concern");
    store.log_record_read(&entry).await.expect("log");
    let pupil = records::access::open_pupil_record(
        &Viewer::new("dep.two", Role::DeputyDsl),
        "amara.okafor",
        &[],
        Some("Covering the DSL's absence"),
        at("2026-03-03T09:00:00Z"),
    )
    .expect("with a reason");
    store.log_record_read(&pupil).await.expect("log");
    assert_eq!(
        store
            .record_read_log(&ReadTarget::Concern(concern_id))
            .await
            .expect("log"),
        vec![entry]
    );
    assert_eq!(
        store
            .record_read_log(&ReadTarget::Pupil("amara.okafor".into()))
            .await
            .expect("log"),
        vec![pupil]
    );

    let record = RecordRef {
        kind: RecordKind::Concern,
        id: concern_id,
    };
    let mut hold = LegalHold {
        record,
        hold: true,
        actor: "dep.one".into(),
        role: Role::DeputyDsl,
        at: at("2026-03-04T09:00:00Z"),
        reason: "Police investigation".into(),
    };
    assert!(store.set_legal_hold(&hold).await.is_err());
    hold.actor = "d.lead".into();
    hold.role = Role::Dsl;
    store.set_legal_hold(&hold).await.expect("hold");
    let holds = store.legal_holds().await.expect("holds");
    assert_eq!(holds, vec![hold.clone()]);

    let item = |legal_hold| RetentionItem {
        record,
        class: RetentionClass::ChildProtection,
        created: concern.raised.raised_at,
        closed: None,
        date_of_birth: Some("2014-09-01".parse().unwrap()),
        legal_hold,
    };
    let later = at("2039-09-02T00:00:00Z");
    let on_hold = holds.iter().any(|h| h.record == record);
    let plan = purge_plan(&RetentionSchedule::default(), &[item(on_hold)], later);
    assert!(plan.remove.is_empty() && plan.keep[0].why.contains("legal hold"));

    hold.hold = false;
    hold.reason = "Investigation ended".into();
    hold.at = at("2026-06-01T09:00:00Z");
    store.set_legal_hold(&hold).await.expect("lift");
    let on_hold = store
        .legal_holds()
        .await
        .expect("holds")
        .iter()
        .any(|h| h.record == record);
    assert!(!on_hold);
    let plan = purge_plan(&RetentionSchedule::default(), &[item(on_hold)], later);
    assert_eq!(plan.remove.len(), 1);
}

/// Every safeguarding table, with a row in it, refuses UPDATE and DELETE.
#[tokio::test]
async fn the_database_refuses_to_change_or_remove_records() {
    let (_dir, store) = store().await;
    let concern_id = store.raise_concern(&concern(false)).await.expect("raise");
    store
        .set_concern_categories(
            &records::concern::default_categories()[..3],
            "d.lead",
            Role::Dsl,
            at("2026-03-01T00:00:00Z"),
        )
        .await
        .expect("categories");
    store
        .set_concern_category(&CategoryDecision {
            concern_id,
            category: "nudes".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-02T11:00:00Z"),
            reason: "fits".into(),
        })
        .await
        .expect("category");
    store
        .amend_record(&Amendment {
            record: RecordRef {
                kind: RecordKind::Concern,
                id: concern_id,
            },
            field: "location".into(),
            before: String::new(),
            after: "School library".into(),
            why: "Wrong place".into(),
            actor: "r.teacher".into(),
            role: Role::Staff,
            at: at("2026-03-02T12:00:00Z"),
        })
        .await
        .expect("amend");
    let id = store
        .open_incident(&incident(concern_id, IncidentType::OnlineHate, Role::Dsl))
        .await
        .expect("open");
    for s in IncidentType::OnlineHate.procedure() {
        store
            .record_step(&step(id, s.key, Decision::NotApplicable))
            .await
            .expect(s.key);
    }
    let contact = store
        .save_referral_contact(&lado(0), Role::Dsl)
        .await
        .expect("contact");
    let referral_id = store
        .make_referral(&lado_referral(id, contact, "2026-03-03T10:00:00Z"))
        .await
        .expect("refer");
    store
        .answer_referral(&ReferralResponse {
            referral_id,
            outcome: "No further action".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-04T10:00:00Z"),
        })
        .await
        .expect("answer");
    store
        .add_attachment(
            &NewAttachment {
                incident_id: id,
                file_name: "notes.txt".into(),
                media_type: "text/plain".into(),
                description: "Meeting notes".into(),
                added_by: "d.lead".into(),
                role: Role::Dsl,
                added_at: at("2026-03-04T11:00:00Z"),
            },
            b"invented notes",
        )
        .await
        .expect("attach");
    store
        .close_incident(&Closure {
            incident_id: id,
            outcome: "Resolved".into(),
            lessons: "None beyond the policy".into(),
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-05T10:00:00Z"),
        })
        .await
        .expect("close");
    store
        .log_record_read(&records::ReadLogEntry {
            at: at("2026-03-05T11:00:00Z"),
            reader: "d.lead".into(),
            role: Role::Dsl,
            target: ReadTarget::Incident(id),
            reason: None,
        })
        .await
        .expect("read log");
    store
        .set_legal_hold(&LegalHold {
            record: RecordRef {
                kind: RecordKind::Incident,
                id,
            },
            hold: true,
            actor: "d.lead".into(),
            role: Role::Dsl,
            at: at("2026-03-06T10:00:00Z"),
            reason: "Complaint received".into(),
        })
        .await
        .expect("hold");

    store
        .add_register_entry(&confiscation(at("2026-03-02T10:00:00Z")))
        .await
        .expect("register");

    // Every table migration 0006 made, read from the database itself, so a
    // table added later without its triggers fails here.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'concern%'
           OR name LIKE 'incident%' OR name LIKE 'record\\_%' ESCAPE '\\'
           OR name LIKE 'referral%' OR name LIKE 'register\\_%' ESCAPE '\\')
         ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .expect("tables");
    assert_eq!(tables.len(), 16, "{tables:?}");
    for table in &tables {
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(store.pool())
                .await
                .expect("count");
        assert!(count > 0, "{table} has a row to protect");
        for statement in [
            format!("UPDATE {table} SET rowid = rowid"),
            format!("DELETE FROM {table}"),
        ] {
            let err = sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
                .execute(store.pool())
                .await
                .expect_err(&statement);
            assert!(
                err.to_string().contains("append-only"),
                "{statement}: {err}"
            );
        }
        let after: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(store.pool())
                .await
                .expect("count");
        assert_eq!(after, count, "{table} lost rows");
    }
    // A closed incident takes no more steps, even written directly.
    let err = sqlx::query(
        "INSERT INTO incident_step (incident_id, step, decision, reason, actor, role, at_us)
         VALUES (?, 'support', 'done', 'late', 'd.lead', 'dsl', 0)",
    )
    .bind(id)
    .execute(store.pool())
    .await
    .expect_err("closed");
    assert!(err.to_string().contains("closed"));
}

fn confiscation(when: Timestamp) -> RegisterEntry {
    RegisterEntry {
        id: 0,
        actor: "r.teacher".into(),
        role: Role::Staff,
        at: when,
        entry: Entry::Confiscation {
            device: "Blue phone in a black case".into(),
            pupil: "amara.okafor".into(),
            taken_by: "r.teacher".into(),
            why: "Used in a lesson after a warning".into(),
            held_at: "Office safe".into(),
        },
    }
}

#[tokio::test]
async fn a_confiscated_phone_is_logged_held_and_released() {
    let (_dir, store) = store().await;
    let taken = confiscation(at("2026-03-02T10:00:00Z"));
    let id = store.add_register_entry(&taken).await.expect("logged");
    let register = store
        .register_entries(Register::ConfiscatedDevices)
        .await
        .expect("register");
    assert_eq!(register, vec![RegisterEntry { id, ..taken }]);
    let day = "2026-03-02".parse().unwrap();
    assert_eq!(still_held(&register, Some(day)).len(), 1);

    let release = RegisterEntry {
        id: 0,
        actor: "o.office".into(),
        role: Role::Staff,
        at: at("2026-03-02T15:30:00Z"),
        entry: Entry::Release {
            confiscation: id,
            to: ReleasedTo::Parent {
                name: "Grace Okafor".into(),
            },
        },
    };
    store.add_register_entry(&release).await.expect("released");
    assert!(matches!(
        refused(store.add_register_entry(&release).await),
        RecordsError::Invalid(_)
    ));
    let register = store
        .register_entries(Register::ConfiscatedDevices)
        .await
        .expect("register");
    assert_eq!(register.len(), 2);
    assert!(still_held(&register, Some(day)).is_empty());
    // Other registers are kept apart.
    assert!(
        store
            .register_entries(Register::EquipmentLoans)
            .await
            .expect("loans")
            .is_empty()
    );
}
