//! Monitoring alerts in the console: triage transitions with reasons,
//! escalation raising a concern with the alert's evidence, the phrase
//! library refusing a bad change and keeping a good one with its reason,
//! and the safeguarding team only.

mod common;

use axum::http::{Method, StatusCode};
use common::School;
use jiff::ToSpan;
use store::{AlertBatch, NewAlert, Store};

async fn school_with_alert() -> School {
    let school = School::new().await;
    school.account("d.lead", "dsl", true).await;
    school.account("h.head", "headteacher", true).await;
    school.account("t.tech", "technician", true).await;
    school.account("s.teacher", "staff", false).await;
    school.account("g.governor", "governor", false).await;
    school
        .store
        .save_person(
            &store::Person {
                username: "amara.okafor".into(),
                display_name: "Amara Okafor".into(),
                profile: "ks3".into(),
                password_hash: None,
                disabled: false,
            },
            "test",
        )
        .await
        .expect("person");
    let at = school.now() - 10.minutes();
    school
        .store
        .record_alerts(&AlertBatch {
            raised: vec![NewAlert {
                id: 1,
                raised_at: at,
                person: Some("amara.okafor".into()),
                device: Some("LAPTOP-07".into()),
                client_ip: "10.0.5.17".into(),
                category: "self-harm".into(),
                severity: 5,
                signal: "phrase".into(),
                phrase_key: Some("self-harm/en/how to kill myself".into()),
                phrase: Some("how to kill myself".into()),
                term: Some("how to kill myself tonight".into()),
                url: None,
                count: 2,
                first_at: at,
                last_at: at + 2.minutes(),
                first_event: 41,
                last_event: 44,
                routing: "immediate".into(),
            }],
            folded: vec![],
            cursor: 44,
        })
        .await
        .expect("alert");
    school
}

#[tokio::test]
async fn the_dsl_sees_the_alert_and_the_activity_around_it() {
    let school = school_with_alert().await;
    let mut dsl = school.signed_in("d.lead").await;
    let home = dsl.get("/").await;
    assert!(home.body.contains("1 new alert"), "{}", home.body);
    let list = dsl.get("/alerts").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("how to kill myself tonight"),
        "{}",
        list.body
    );
    assert!(list.body.contains("amara.okafor"));
    let detail = dsl.get("/alerts/1").await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("LAPTOP-07"));
    assert!(
        detail
            .body
            .contains("activity?person=amara.okafor&amp;from="),
        "{}",
        detail.body
    );
    assert!(detail.body.contains("(2 times)"));
    // Filtering by state: nothing reviewed yet.
    let reviewed = dsl.get("/alerts?state=reviewed").await;
    assert!(!reviewed.body.contains("how to kill myself tonight"));
    let bad = dsl.get("/alerts?severity=9").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn triage_moves_through_its_states_with_reasons() {
    let school = school_with_alert().await;
    let mut dsl = school.signed_in("d.lead").await;
    dsl.get("/alerts/1").await;
    // A false positive needs a reason: nothing changes without one.
    let refused = dsl
        .post(
            "/alerts/1/triage",
            &[("decision", "false-positive"), ("reason", " ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("Give a reason"), "{}", refused.body);
    assert_eq!(school.store.alert(1).await.unwrap().unwrap().state, "new");

    let done = dsl
        .post(
            "/alerts/1/triage",
            &[("decision", "reviewed"), ("reason", "")],
        )
        .await;
    done.redirects_to("/alerts/1?done=reviewed");
    dsl.get("/alerts/1").await;
    let done = dsl
        .post(
            "/alerts/1/triage",
            &[
                ("decision", "false-positive"),
                ("reason", "A PSHE lesson on crisis lines"),
            ],
        )
        .await;
    done.redirects_to("/alerts/1?done=false-positive");
    // Reviewed is not offered twice; "reviewed" again from reviewed is refused.
    let history = school.store.alert_triage_history(1).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].actor, "d.lead");
    assert_eq!(history[1].reason, "A PSHE lesson on crisis lines");

    let rates = dsl.get("/alerts/rates").await;
    assert!(
        rates
            .body
            .contains("self-harm&#x2f;en&#x2f;how to kill myself"),
        "{}",
        rates.body
    );
    assert!(rates.body.contains("100%"));

    // The API: reopening a false positive needs a reason too.
    let token = school.api_token("d.lead").await;
    let (status, body) = dsl
        .json(
            Method::POST,
            "/api/v1/alerts/1/triage",
            &token,
            Some(&serde_json::json!({ "decision": "reviewed" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"][0]["field"], "reason");
    let (status, body) = dsl
        .json(
            Method::POST,
            "/api/v1/alerts/1/triage",
            &token,
            Some(&serde_json::json!({ "decision": "reviewed", "reason": "On reflection, worth a chat" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "reviewed");
    let (status, body) = dsl
        .json(Method::GET, "/api/v1/alerts?state=reviewed", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["alerts"][0]["id"], 1);
    assert_eq!(body["alerts"][0]["term"], "how to kill myself tonight");
}

#[tokio::test]
async fn escalating_raises_a_concern_with_the_evidence_and_is_final() {
    let school = school_with_alert().await;
    let mut head = school.signed_in("h.head").await;
    head.get("/alerts/1").await;
    let done = head
        .post(
            "/alerts/1/triage",
            &[
                ("decision", "escalated"),
                ("reason", "Spoke to Amara with her form tutor"),
            ],
        )
        .await;
    done.redirects_to("/alerts/1?done=escalated");
    let alert = school.store.alert(1).await.unwrap().unwrap();
    assert_eq!(alert.state, "escalated");
    let number = alert.concern.expect("linked");
    let concern = school
        .store
        .concern(number)
        .await
        .unwrap()
        .expect("concern");
    assert!(
        concern
            .raised
            .child_words
            .contains("how to kill myself tonight")
    );
    assert!(concern.raised.child_words.contains("monitoring alert #1"));
    assert!(concern.raised.child_words.contains("LAPTOP-07"));
    assert_eq!(
        concern.raised.immediate_action,
        "Spoke to Amara with her form tutor"
    );
    assert_eq!(concern.raised.raised_by, "h.head");
    let page = head.get("/alerts/1").await;
    assert!(page.body.contains(&format!("concern {number}")));
    // Escalated is final.
    let again = head
        .post(
            "/alerts/1/triage",
            &[("decision", "reviewed"), ("reason", "x")],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(school.store.concerns().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_bad_library_is_refused_with_its_place_and_a_good_one_is_kept() {
    let school = school_with_alert().await;
    let mut dsl = school.signed_in("d.lead").await;
    let page = dsl.get("/alerts/library?file=en.toml").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("starter library"));
    let en = monitor::library::STARTER_FILES
        .iter()
        .find(|(n, _)| *n == "en.toml")
        .expect("en")
        .1;

    let bad = format!(
        "{en}\n[[phrases]]\ncategory = \"self-harm\"\nseverity = 7\nphrases = [\"wish i could disappear forever zq\"]\n"
    );
    let refused = dsl
        .post(
            "/alerts/library",
            &[
                ("file", "en.toml"),
                ("text", &bad),
                ("reason", "pupils' slang"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("en.toml, line"), "{}", refused.body);
    assert!(
        refused.body.contains("field &quot;severity&quot;")
            || refused.body.contains("field \"severity\""),
        "{}",
        refused.body
    );
    assert!(school.store.phrase_library().await.unwrap().is_none());

    let good = bad.replace("severity = 7", "severity = 5");
    let no_reason = dsl
        .post(
            "/alerts/library",
            &[("file", "en.toml"), ("text", &good), ("reason", "")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert!(school.store.phrase_library().await.unwrap().is_none());

    let saved = dsl
        .post(
            "/alerts/library",
            &[
                ("file", "en.toml"),
                ("text", &good),
                ("reason", "Pupils say 'unalive'"),
            ],
        )
        .await;
    saved.redirects_to("/alerts/library?file=en.toml&done=library-saved");
    let revision = school.store.phrase_library().await.unwrap().expect("saved");
    assert_eq!(revision.actor, "d.lead");
    assert_eq!(revision.files.len(), monitor::library::STARTER_FILES.len());
    let files: Vec<(&str, &str)> = revision
        .files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let library = monitor::Library::from_files(&files).expect("valid");
    assert!(
        monitor::Matcher::new(library)
            .unwrap()
            .is_match("how do i wish i could disappear forever zq")
    );
    let page = dsl.get("/alerts/library").await;
    assert!(page.body.contains("Pupils say"), "{}", page.body);
}

#[tokio::test]
async fn technicians_staff_and_governors_never_see_alerts() {
    let school = school_with_alert().await;
    for who in ["t.tech", "s.teacher", "g.governor"] {
        let mut browser = school.signed_in(who).await;
        for path in ["/alerts", "/alerts/1", "/alerts/rates", "/alerts/library"] {
            let page = browser.get(path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} {path}");
            assert!(!page.body.contains("kill myself"));
        }
        let home = browser.get("/").await;
        assert!(!home.body.contains("new alert"), "{who}");
        let token = school.api_token(who).await;
        let (status, _) = browser
            .json(Method::GET, "/api/v1/alerts", &token, None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = browser
            .json(
                Method::POST,
                "/api/v1/alerts/1/triage",
                &token,
                Some(&serde_json::json!({ "decision": "reviewed" })),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(school.store.alert(1).await.unwrap().unwrap().state, "new");
}
