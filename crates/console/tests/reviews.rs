//! Review requests both ways: a block page's request approved becomes an
//! audited policy change; a decision needs a reason; a staff report is a
//! filtering breach the DSL roles see and governors never do; staff see
//! only their own reports; an approval that would leave the policy unusable
//! is refused with nothing saved.

mod common;

use axum::http::{Method, StatusCode};
use common::School;
use store::{ReviewRequest, ReviewStatus, Store};

/// A block page's request, as the proxy records it.
async fn block_page_request(school: &School, url: &str, profile: &str) -> i64 {
    school
        .store
        .save_review_request(&ReviewRequest {
            id: 0,
            at: school.now(),
            reference: "SG-7K2Q-9F4D".into(),
            url: url.into(),
            profile: profile.into(),
            rule: "category:games".into(),
            client_ip: "10.0.5.17".into(),
            username: Some("ada.pupil".into()),
            device: Some("LAPTOP-07".into()),
            message: "We need it for the coding lesson".into(),
            status: "open".into(),
        })
        .await
        .expect("request")
}

async fn school_with_team() -> School {
    let school = School::new().await;
    school.default_policy().await;
    school.account("d.lead", "dsl", true).await;
    school.account("t.tech", "technician", true).await;
    school.account("g.governor", "governor", false).await;
    school.account("s.teacher", "staff", false).await;
    school.account("o.teacher", "staff", false).await;
    school
}

#[tokio::test]
async fn an_approved_block_page_request_changes_the_policy_with_its_reason() {
    let school = school_with_team().await;
    let id = block_page_request(&school, "https://scratch-games.example/play?x=1", "ks2").await;

    let mut tech = school.signed_in("t.tech").await;
    let list = tech.get("/reviews").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("scratch-games.example"), "{}", list.body);
    assert!(list.body.contains("ada.pupil"));

    let detail = tech.get(&format!("/reviews/{id}")).await;
    assert!(detail.body.contains("We need it for the coding lesson"));
    assert!(detail.body.contains("value=\"scratch-games.example\""));

    let done = tech
        .post(
            &format!("/reviews/{id}/decision"),
            &[
                ("decision", "approve"),
                ("reason", "Used in Year 5 computing lessons"),
                ("profile", ""),
                ("site", ""),
            ],
        )
        .await;
    done.redirects_to(&format!("/reviews/{id}?done=approved"));

    let current = school
        .store
        .current_policy()
        .await
        .expect("policy")
        .expect("a policy");
    assert_eq!(
        current.reason,
        format!("Review #{id}: Used in Year 5 computing lessons")
    );
    assert_eq!(current.actor, "t.tech");
    let policy = current.policy().expect("valid");
    let ks2 = policy.profile("ks2").expect("ks2");
    assert!(ks2.allow.contains(&"scratch-games.example".to_owned()));
    assert!(
        !policy
            .profile("staff")
            .expect("staff")
            .allow
            .contains(&"scratch-games.example".to_owned()),
        "only the profile concerned changes"
    );

    let review = school
        .store
        .review(id)
        .await
        .expect("read")
        .expect("review");
    assert_eq!(review.status, ReviewStatus::Approved);
    assert_eq!(review.policy_revision, Some(current.number));
    assert_eq!(review.decided_by.as_deref(), Some("t.tech"));
    let by_reference = school
        .store
        .review_by_reference("SG-7K2Q-9F4D")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(by_reference.id, id);
    assert_eq!(
        by_reference.decision_reason.as_deref(),
        Some("Used in Year 5 computing lessons")
    );

    let shown = tech.get(&format!("/reviews/{id}?done=approved")).await;
    assert!(shown.body.contains("Approved"));
    assert!(shown.body.contains(&format!("Revision {}", current.number)));
    assert!(
        !shown.body.contains("Record the decision"),
        "decided once only"
    );

    // A second decision is refused and changes nothing.
    let again = tech
        .post(
            &format!("/reviews/{id}/decision"),
            &[("decision", "decline"), ("reason", "changed my mind")],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again.body.contains("already been approved"),
        "{}",
        again.body
    );
    let audit = school.store.audit_trail(10).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|a| a.action == "review.decision" && a.detail.contains(&format!("#{id} approved")))
    );
}

#[tokio::test]
async fn a_decision_needs_a_reason_and_a_decline_leaves_the_policy_alone() {
    let school = school_with_team().await;
    let id = block_page_request(&school, "https://casino.example/", "ks2").await;
    let before = school
        .store
        .policy_history(10)
        .await
        .expect("history")
        .len();

    let mut dsl = school.signed_in("d.lead").await;
    dsl.get(&format!("/reviews/{id}")).await;
    let refused = dsl
        .post(
            &format!("/reviews/{id}/decision"),
            &[("decision", "decline"), ("reason", "   ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("Give a reason for the decision"));
    assert_eq!(
        school
            .store
            .review(id)
            .await
            .expect("read")
            .expect("r")
            .status,
        ReviewStatus::Open
    );

    dsl.post(
        &format!("/reviews/{id}/decision"),
        &[
            ("decision", "decline"),
            ("reason", "Gambling stays blocked for pupils"),
        ],
    )
    .await
    .redirects_to(&format!("/reviews/{id}?done=declined"));
    let review = school.store.review(id).await.expect("read").expect("r");
    assert_eq!(review.status, ReviewStatus::Declined);
    assert_eq!(review.policy_revision, None);
    assert_eq!(
        school
            .store
            .policy_history(10)
            .await
            .expect("history")
            .len(),
        before
    );
}

#[tokio::test]
async fn a_staff_report_is_a_breach_for_the_dsl_and_never_reaches_governors() {
    let school = school_with_team().await;
    let mut teacher = school.signed_in("s.teacher").await;
    let form = teacher.get("/reviews/report").await;
    assert_eq!(form.status, StatusCode::OK);

    // A bad address is refused, naming the field, and nothing is kept.
    let bad = teacher
        .post(
            "/reviews/report",
            &[("url", "not a site"), ("what_happened", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("does not look like a web address"));
    assert!(bad.body.contains("Say briefly what happened"));
    assert!(
        bad.body.contains("value=\"not a site\""),
        "what was typed is kept"
    );

    teacher
        .post(
            "/reviews/report",
            &[
                ("url", "https://bad-videos.example/watch"),
                ("device", "IPAD-3"),
                ("found_by", "Ben Pupil, Year 4"),
                (
                    "what_happened",
                    "Ben saw a violent video and told me straight away",
                ),
            ],
        )
        .await
        .redirects_to("/reviews/mine?done=reported");
    let reviews = school
        .store
        .reviews(&store::ReviewFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("reviews");
    assert_eq!(reviews.len(), 1);
    let id = reviews[0].id;
    assert!(reviews[0].breach);
    assert_eq!(reviews[0].requester.as_deref(), Some("s.teacher"));

    // The DSL: highlighted on the home page, and the whole story.
    let mut dsl = school.signed_in("d.lead").await;
    let home = dsl.get("/").await;
    assert!(
        home.body.contains("1 open filtering breach"),
        "{}",
        home.body
    );
    let list = dsl.get("/reviews?breaches=1").await;
    assert!(list.body.contains("Filtering breach"));
    assert!(list.body.contains("bad-videos.example"));
    let story = dsl.get(&format!("/reviews/{id}/breach")).await;
    assert_eq!(story.status, StatusCode::OK);
    assert!(story.body.contains("Ben Pupil, Year 4"));
    assert!(story.body.contains("violent video"));

    // The technician: the address and device to act on, not the story.
    let mut tech = school.signed_in("t.tech").await;
    let seen = tech.get(&format!("/reviews/{id}")).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("bad-videos.example"));
    assert!(seen.body.contains("IPAD-3"));
    assert!(!seen.body.contains("Ben Pupil"), "{}", seen.body);
    assert!(!seen.body.contains("violent video"));
    assert!(!tech.get("/").await.body.contains("open filtering breach"));
    assert_eq!(
        tech.get(&format!("/reviews/{id}/breach")).await.status,
        StatusCode::FORBIDDEN
    );
    let api = tech.get("/api/v1/reviews").await;
    assert!(api.body.contains("bad-videos.example"));
    assert!(!api.body.contains("Ben Pupil"));
    let audit = school.store.audit_trail(10).await.expect("audit");
    assert!(audit.iter().all(|a| !a.detail.contains("Ben Pupil")));

    // Governors: nothing.
    let mut governor = school.signed_in("g.governor").await;
    for path in [
        "/reviews".to_owned(),
        format!("/reviews/{id}"),
        format!("/reviews/{id}/breach"),
        "/api/v1/reviews".to_owned(),
    ] {
        assert_eq!(
            governor.get(&path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert!(!governor.get("/").await.body.contains("bad-videos"));

    // Approving a breach denies the site for the chosen profiles.
    tech.post(
        &format!("/reviews/{id}/decision"),
        &[
            ("decision", "approve"),
            ("reason", "Violent content; block everywhere"),
            ("profile", "*"),
            ("site", ""),
        ],
    )
    .await
    .redirects_to(&format!("/reviews/{id}?done=approved"));
    let policy = school
        .store
        .current_policy()
        .await
        .expect("read")
        .expect("policy")
        .policy()
        .expect("valid");
    for profile in &policy.profiles {
        assert!(
            profile.deny.contains(&"bad-videos.example".to_owned()),
            "{}",
            profile.id
        );
    }

    // The reporter sees the outcome.
    let mine = teacher.get("/reviews/mine").await;
    assert!(
        mine.body
            .contains("Approved: Violent content; block everywhere"),
        "{}",
        mine.body
    );
}

#[tokio::test]
async fn staff_see_only_their_own_reports() {
    let school = school_with_team().await;
    let mut one = school.signed_in("s.teacher").await;
    one.get("/reviews/report").await;
    one.post(
        "/reviews/report",
        &[
            ("url", "first-site.example"),
            ("what_happened", "Found in the library"),
        ],
    )
    .await
    .redirects_to("/reviews/mine?done=reported");
    let mut other = school.signed_in("o.teacher").await;
    other.get("/reviews/report").await;
    let created = other
        .session_json(
            Method::POST,
            "/api/v1/reviews",
            r#"{"url": "second-site.example", "what_happened": "Seen in class 3"}"#,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.body.contains("\"breach\":true"));

    let mine = one.get("/reviews/mine").await;
    assert!(mine.body.contains("first-site.example"));
    assert!(!mine.body.contains("second-site.example"));
    let theirs = other.get("/reviews/mine").await;
    assert!(theirs.body.contains("second-site.example"));
    assert!(!theirs.body.contains("first-site.example"));
    assert_eq!(one.get("/reviews").await.status, StatusCode::FORBIDDEN);

    let bad = other
        .session_json(Method::POST, "/api/v1/reviews", r#"{"url": ""}"#)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("\"field\":\"url\""), "{}", bad.body);
}

#[tokio::test]
async fn the_api_decides_with_a_reason() {
    let school = school_with_team().await;
    let id = block_page_request(&school, "http://maths-games.example/", "ks2").await;
    let mut dsl = school.signed_in("d.lead").await;
    dsl.get("/reviews").await;
    let missing = dsl
        .session_json(
            Method::POST,
            &format!("/api/v1/reviews/{id}/decision"),
            r#"{"decision": "approve", "reason": ""}"#,
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("\"field\":\"reason\""));
    let decided = dsl
        .session_json(
            Method::POST,
            &format!("/api/v1/reviews/{id}/decision"),
            r#"{"decision": "approve", "reason": "Maths practice"}"#,
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    let value: serde_json::Value = serde_json::from_str(&decided.body).expect("json");
    assert_eq!(value["status"], "approved");
    let revision = value["policy_revision"].as_i64().expect("a revision");
    let history = school.store.policy_history(1).await.expect("history");
    assert_eq!(history[0].number, revision);
    assert_eq!(history[0].reason, format!("Review #{id}: Maths practice"));
}

#[tokio::test]
async fn an_approval_that_would_break_the_policy_is_refused_and_nothing_is_saved() {
    let school = school_with_team().await;
    // A walled garden that allows one site only.
    let current = school
        .store
        .current_policy()
        .await
        .expect("read")
        .expect("a policy");
    let mut policy = current.policy().expect("valid");
    let garden = policy
        .profiles
        .iter_mut()
        .find(|p| p.walled_garden)
        .expect("a walled-garden profile");
    let garden_id = garden.id.clone();
    garden.allow = vec!["games.example".to_owned()];
    let before = school
        .store
        .save_policy(&policy, "t.tech", "One site for the Reception class")
        .await
        .expect("save");
    let id = school
        .store
        .add_staff_report(&store::StaffReport {
            at: school.now(),
            requester: "s.teacher".into(),
            url: "https://games.example/".into(),
            device: None,
            found_by: "A pupil in Reception".into(),
            what_happened: "A game with adverts".into(),
        })
        .await
        .expect("report");

    let mut tech = school.signed_in("t.tech").await;
    let detail = tech.get(&format!("/reviews/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    let refused = tech
        .post(
            &format!("/reviews/{id}/decision"),
            &[
                ("decision", "approve"),
                ("reason", "Block it for Reception"),
                ("profile", garden_id.as_str()),
                ("site", "games.example"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("would leave the policy unusable"),
        "{}",
        refused.body
    );
    let after = school
        .store
        .current_policy()
        .await
        .expect("read")
        .expect("a policy");
    assert_eq!(after.number, before.number, "no revision was saved");
    let review = school.store.review(id).await.expect("read").expect("there");
    assert_eq!(review.status, ReviewStatus::Open);
}
