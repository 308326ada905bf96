//! Raising a concern emails the DSL and deputies that one is waiting, and
//! never what it says or whom it is about. Every person here is invented.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, School};
use store::{NewConsoleAccount, Person, Store};

async fn add(school: &School, username: &str, role: &str, email: Option<&str>) {
    school
        .store
        .add_console_account(
            &NewConsoleAccount {
                username: username.into(),
                display_name: format!("Invented {username}"),
                email: email.map(str::to_owned),
                role: role.into(),
                person: None,
                password_hash: Some(console::password::hash(PASSWORD).await.expect("hash")),
            },
            "test",
        )
        .await
        .expect("add account");
}

async fn school(with_dsl_email: bool) -> School {
    let school = School::new().await;
    add(&school, "r.teacher", "staff", Some("r.teacher@school.test")).await;
    if with_dsl_email {
        add(&school, "d.lead", "dsl", Some("dsl@school.test")).await;
        add(
            &school,
            "d.deputy",
            "deputy-dsl",
            Some("deputy@school.test"),
        )
        .await;
    }
    add(&school, "d.second", "deputy-dsl", None).await;
    add(&school, "h.head", "headteacher", Some("head@school.test")).await;
    add(&school, "t.tech", "technician", Some("tech@school.test")).await;
    school
        .store
        .save_person(
            &Person {
                username: "amara.okafor".into(),
                display_name: "Amara Okafor".into(),
                profile: "pupils".into(),
                password_hash: None,
                disabled: false,
            },
            "test",
        )
        .await
        .expect("save person");
    school
}

async fn raise(school: &School) -> i64 {
    let mut teacher = school.signed_in("r.teacher").await;
    teacher.get("/concerns/new").await;
    let page = teacher
        .post(
            "/concerns",
            &[
                ("pupil_1", "Amara Okafor (amara.okafor)"),
                ("child_words", "She said a boy asked her for a picture."),
                ("immediate_action", "Reassured her and came to the DSL."),
                ("happened_at", "2027-01-14T19:30"),
                ("location", "At home, on a messaging app"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.location()
        .expect("location")
        .trim_start_matches("/my-concerns/")
        .trim_end_matches("?done=raised")
        .parse()
        .expect("concern number")
}

#[tokio::test]
async fn raising_a_concern_emails_each_dsl_and_deputy_without_its_content() {
    let school = school(true).await;
    let id = raise(&school).await;
    let mut queued = school.store.outbox_entries(50).await.expect("outbox");
    queued.sort_by(|a, b| a.destination.cmp(&b.destination));
    let to: Vec<&str> = queued.iter().map(|e| e.destination.as_str()).collect();
    assert_eq!(to, ["deputy@school.test", "dsl@school.test"]);
    for entry in &queued {
        assert_eq!(entry.summary, format!("New safeguarding concern #{id}"));
        let message: notify::Message = serde_json::from_str(&entry.payload).expect("message");
        assert!(message.text.contains("r.teacher"), "{}", message.text);
        assert!(
            message
                .text
                .contains(&format!("http://console.test/concerns/{id}")),
            "{}",
            message.text
        );
        assert!(message.text.contains("Open the console to read it"));
        for secret in [
            "Amara",
            "Okafor",
            "amara.okafor",
            "picture",
            "messaging app",
        ] {
            assert!(
                !entry.payload.contains(secret),
                "{secret} leaked: {}",
                entry.payload
            );
            assert!(!entry.summary.contains(secret));
        }
        assert!(
            entry
                .dedup_key
                .as_deref()
                .unwrap()
                .contains(&id.to_string())
        );
    }
    let keys: std::collections::BTreeSet<_> = queued.iter().map(|e| e.dedup_key.clone()).collect();
    assert_eq!(keys.len(), 2, "one key per recipient");
}

#[tokio::test]
async fn with_no_dsl_address_nothing_is_queued_and_the_concern_is_kept() {
    let school = school(false).await;
    let id = raise(&school).await;
    assert!(
        school
            .store
            .outbox_entries(50)
            .await
            .expect("outbox")
            .is_empty()
    );
    let concerns = school.store.concerns().await.expect("concerns");
    assert!(concerns.iter().any(|c| c.id == id), "the concern was saved");
}
