//! Safeguarding records through the console: raising a concern, the DSL's
//! inbox, incidents and their refusals, the read log and who may see what.
//! Every pupil and member of staff here is invented.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Browser, Page, School};
use records::ReadTarget;
use store::{Person, Store};

async fn school() -> School {
    let school = School::new().await;
    for (username, role) in [
        ("r.teacher", "staff"),
        ("o.teacher", "staff"),
        ("d.lead", "dsl"),
        ("d.deputy", "deputy-dsl"),
        ("d.second", "deputy-dsl"),
        ("h.head", "headteacher"),
        ("t.tech", "technician"),
        ("g.governor", "governor"),
    ] {
        let two_factor = matches!(role, "dsl" | "deputy-dsl" | "headteacher");
        school.account(username, role, two_factor).await;
    }
    for (username, name) in [
        ("amara.okafor", "Amara Okafor"),
        ("tobias.lindqvist", "Tobias Lindqvist"),
    ] {
        school
            .store
            .save_person(
                &Person {
                    username: username.into(),
                    display_name: name.into(),
                    profile: "pupils".into(),
                    password_hash: None,
                    disabled: false,
                },
                "test",
            )
            .await
            .expect("save person");
    }
    school
}

/// Raises a concern about Amara as `browser`'s account; returns its number.
async fn raise(browser: &mut Browser, about_staff: bool) -> i64 {
    browser.get("/concerns/new").await;
    let mut fields = vec![
        ("pupil_1", "Amara Okafor (amara.okafor)"),
        ("other_1", "Tobias Lindqvist (tobias.lindqvist)"),
        (
            "child_words",
            "She said 'he told me to send a picture or he would tell everyone'.",
        ),
        ("immediate_action", "Reassured her and came to the DSL."),
        ("happened_at", "2027-01-14T19:30"),
        ("location", "At home, on a messaging app"),
        ("suggested_category", "nudes"),
    ];
    if about_staff {
        fields.push(("about_staff", "yes"));
    }
    let page = browser.post("/concerns", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location().expect("location").to_owned();
    location
        .trim_start_matches("/my-concerns/")
        .trim_end_matches("?done=raised")
        .parse()
        .expect("concern number")
}

/// Opens an incident of `kind` from concern `concern`; returns its number.
async fn open_incident(browser: &mut Browser, concern: i64, kind: &str) -> i64 {
    browser.get(&format!("/concerns/{concern}")).await;
    let page = browser
        .post(
            &format!("/concerns/{concern}/incident"),
            &[
                ("kind", kind),
                ("summary", "Images asked for by another pupil."),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.location()
        .expect("location")
        .trim_start_matches("/incidents/")
        .trim_end_matches("?done=opened")
        .parse()
        .expect("incident number")
}

/// Sends a multipart form with one file and `token` (none: no token field).
async fn upload(
    browser: &mut Browser,
    path: &str,
    token: Option<&str>,
    name: &str,
    content: &[u8],
) -> Page {
    let boundary = "----schoolgate-test-boundary";
    let mut body = Vec::new();
    if let Some(token) = token {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nScreenshot of the messages\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    browser.send(request).await
}

#[tokio::test]
async fn a_member_of_staff_raises_a_concern_and_the_dsl_is_told_at_once() {
    let school = school().await;
    let mut dsl = school.signed_in("d.lead").await;
    let home = dsl.get("/").await;
    assert!(!home.body.contains("new concern"), "{}", home.body);

    let mut teacher = school.signed_in("r.teacher").await;
    let form = teacher.get("/concerns/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body
            .contains("<option value=\"Amara Okafor (amara.okafor)\">")
    );
    assert!(
        form.body
            .contains("Do not look at, copy, print or forward them")
    );
    let id = raise(&mut teacher, false).await;

    // The DSL and the deputies see it at once on their home page and inbox.
    for who in ["d.lead", "d.deputy"] {
        let mut b = school.signed_in(who).await;
        let home = b.get("/").await;
        assert!(
            home.body.contains("1</span> new concern waiting"),
            "{}",
            home.body
        );
        let inbox = b.get("/concerns").await;
        assert!(inbox.body.contains(&format!("/concerns/{id}")));
        assert!(inbox.body.contains("Amara Okafor, Tobias Lindqvist"));
    }
    // A teacher's home page has no such badge.
    assert!(!teacher.get("/").await.body.contains("waiting for you"));

    // The teacher sees their own concern; another teacher does not.
    let mine = teacher.get("/my-concerns").await;
    assert!(mine.body.contains(&format!("/my-concerns/{id}")));
    let own = teacher.get(&format!("/my-concerns/{id}")).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("he told me to send a picture"));
    let mut other = school.signed_in("o.teacher").await;
    assert!(
        !other
            .get("/my-concerns")
            .await
            .body
            .contains("/my-concerns/")
    );
    let refused = other.get(&format!("/my-concerns/{id}")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("send a picture"));
    assert_eq!(
        other.get(&format!("/concerns/{id}")).await.status,
        StatusCode::FORBIDDEN
    );

    // Setting the category clears the badge; the original suggestion stays.
    dsl.get(&format!("/concerns/{id}")).await;
    dsl.post(
        &format!("/concerns/{id}/category"),
        &[("category", "nudes"), ("reason", "Images were asked for.")],
    )
    .await
    .redirects_to(&format!("/concerns/{id}?done=category"));
    assert!(!dsl.get("/").await.body.contains("waiting for you"));
}

#[tokio::test]
async fn a_concern_names_pupils_from_the_register_never_initials_or_guesses() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    teacher.get("/concerns/new").await;
    let page = teacher
        .post(
            "/concerns",
            &[
                ("pupil_1", "A.O."),
                ("child_words", "Upset after a group chat."),
                ("immediate_action", "none"),
                ("happened_at", "2027-01-14T19:30"),
                ("location", "Classroom"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("is not in the people list"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Upset after a group chat."),
        "the form keeps what was written"
    );
    assert!(school.store.concerns().await.expect("concerns").is_empty());

    let page = teacher
        .post(
            "/concerns",
            &[("pupil_1", "amara.okafor"), ("location", "Hall")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("what happened"), "{}", page.body);
    assert!(school.store.concerns().await.expect("concerns").is_empty());
}

#[tokio::test]
async fn a_nudes_incident_refuses_attachments_and_closes_only_when_complete() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    let incident = open_incident(&mut dsl, concern, "sharing-nudes").await;

    let page = dsl.get(&format!("/incidents/{incident}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("The five questions have been asked"));
    assert!(page.body.contains("never to copy, save or share"));
    assert!(
        !page.body.contains("type=\"file\""),
        "no upload control is offered"
    );

    let token = dsl.csrf.clone().expect("token");
    let refused = upload(
        &mut dsl,
        &format!("/incidents/{incident}/attachments"),
        Some(&token),
        "photo.jpg",
        b"\xff\xd8\xff\xe0 not really a photo",
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .body
            .contains("Nothing can be attached to this incident")
    );
    let stored = school
        .store
        .incident(incident)
        .await
        .expect("read")
        .expect("incident");
    assert!(stored.attachments.is_empty());

    // Closing without an outcome, then with steps undecided, is refused.
    let close = format!("/incidents/{incident}/close");
    let page = dsl
        .post(&close, &[("outcome", ""), ("lessons", "None.")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("the outcome is empty"), "{}", page.body);
    let page = dsl
        .post(
            &close,
            &[("outcome", "Resolved in school."), ("lessons", "None.")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("record a decision for every step"),
        "{}",
        page.body
    );
    assert!(page.body.contains("five-questions"));

    // A step without a reason is refused; with one it is recorded.
    let steps = format!("/incidents/{incident}/steps");
    let page = dsl
        .post(
            &steps,
            &[("step", "tell-dsl"), ("decision", "done"), ("reason", " ")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    for step in stored.kind().procedure() {
        let decision = if step.key == "referral-decision" {
            "decided-not"
        } else {
            "done"
        };
        dsl.post(
            &steps,
            &[
                ("step", step.key),
                ("decision", decision),
                ("reason", "As the policy says."),
            ],
        )
        .await
        .redirects_to(&format!("/incidents/{incident}?done=step"));
    }
    let page = dsl.get(&format!("/incidents/{incident}")).await;
    assert!(page.body.contains("Decided not to, by d.lead"));

    dsl.post(
        &close,
        &[
            ("outcome", "Resolved in school."),
            ("lessons", "None, handled as the policy says."),
        ],
    )
    .await
    .redirects_to(&format!("/incidents/{incident}?done=closed"));
    let page = dsl.get(&format!("/incidents/{incident}")).await;
    assert!(page.body.contains("Resolved in school."));
    assert!(
        !page
            .body
            .contains(&format!("action=\"/incidents/{incident}/steps\""))
    );
}

#[tokio::test]
async fn other_incidents_take_documents_through_a_multipart_form_with_its_token() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    let incident = open_incident(&mut dsl, concern, "cyberbullying").await;
    let page = dsl.get(&format!("/incidents/{incident}")).await;
    assert!(page.body.contains("type=\"file\""));
    let token = dsl.csrf.clone().expect("token");

    // Without the form's token, or with a wrong one: refused, nothing kept.
    let path = format!("/incidents/{incident}/attachments");
    let page = upload(
        &mut dsl,
        &path,
        None,
        "messages.txt",
        b"you are not welcome",
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = upload(&mut dsl, &path, Some("wrong"), "messages.txt", b"x").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let stored = school
        .store
        .incident(incident)
        .await
        .expect("read")
        .expect("incident");
    assert!(stored.attachments.is_empty());

    let page = upload(
        &mut dsl,
        &path,
        Some(&token),
        "messages.txt",
        b"you are not welcome",
    )
    .await;
    page.redirects_to(&format!("/incidents/{incident}?done=attached"));
    let stored = school
        .store
        .incident(incident)
        .await
        .expect("read")
        .expect("incident");
    let attachment = stored.attachments.first().expect("attached");
    assert_eq!(attachment.description, "Screenshot of the messages");

    let download = dsl
        .get(&format!(
            "/incidents/{incident}/attachments/{}",
            attachment.id
        ))
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body, "you are not welcome");
    let log = school
        .store
        .record_read_log(&ReadTarget::Attachment(attachment.id))
        .await
        .expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].reader, "d.lead");
}

#[tokio::test]
async fn allegations_about_staff_are_for_the_headteacher_and_dsl_only() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, true).await;
    let mut dsl = school.signed_in("d.lead").await;
    let incident = open_incident(&mut dsl, concern, "staff-misuse").await;

    let mut deputy = school.signed_in("d.deputy").await;
    let inbox = deputy.get("/concerns").await;
    assert!(!inbox.body.contains(&format!("/concerns/{concern}\"")));
    let page = deputy.get(&format!("/concerns/{concern}")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("only the headteacher and the DSL"));
    assert!(!page.body.contains("send a picture"));
    assert_eq!(
        deputy.get(&format!("/incidents/{incident}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !deputy
            .get("/incidents")
            .await
            .body
            .contains(&format!("/incidents/{incident}\""))
    );
    deputy.get("/concerns").await;
    let page = deputy
        .post(
            &format!("/concerns/{concern}/category"),
            &[("category", "bullying"), ("reason", "Reclassifying")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let stored = school
        .store
        .concern(concern)
        .await
        .expect("read")
        .expect("concern");
    assert!(stored.categories.is_empty(), "the deputy changed nothing");

    let mut head = school.signed_in("h.head").await;
    assert_eq!(
        head.get(&format!("/incidents/{incident}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        head.get(&format!("/concerns/{concern}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn opening_an_unlinked_pupils_record_asks_for_a_reason_and_logs_it() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    dsl.get(&format!("/concerns/{concern}")).await;
    dsl.post(
        &format!("/concerns/{concern}/category"),
        &[("category", "nudes"), ("reason", "Images were asked for.")],
    )
    .await;

    // The DSL acted on it, so is linked: no reason asked.
    let page = dsl.get("/pupils/amara.okafor").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Concern raised"), "{}", page.body);

    // A second deputy never touched it: a reason first.
    let mut deputy = school.signed_in("d.second").await;
    let page = deputy.get("/pupils/amara.okafor").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Why you are opening this record"));
    assert!(!page.body.contains("Concern raised"));
    let page = deputy
        .post("/pupils/amara.okafor", &[("reason", "  ")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!page.body.contains("Concern raised"));
    let page = deputy
        .post(
            "/pupils/amara.okafor",
            &[("reason", "Covering for the DSL today")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Concern raised"));

    let log = school
        .store
        .record_read_log(&ReadTarget::Pupil("amara.okafor".into()))
        .await
        .expect("log");
    let reasons: Vec<(String, Option<String>)> = log
        .iter()
        .map(|e| (e.reader.clone(), e.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("d.lead".into(), None),
            ("d.second".into(), Some("Covering for the DSL today".into())),
        ]
    );
    // The DSL sees the read log on the record.
    let page = dsl.get("/pupils/amara.okafor").await;
    assert!(page.body.contains("d.second (deputy-dsl)"));
    assert!(page.body.contains("Covering for the DSL today"));
    // And reading a concern is logged too.
    let log = school
        .store
        .record_read_log(&ReadTarget::Concern(concern))
        .await
        .expect("log");
    assert!(log.iter().any(|e| e.reader == "d.lead"));
}

#[tokio::test]
async fn the_dsl_links_unlinks_and_amends_and_the_original_is_kept() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    dsl.get(&format!("/concerns/{concern}")).await;
    dsl.post(
        &format!("/concerns/{concern}/pupils"),
        &[
            ("action", "unlink"),
            ("pupil", "tobias.lindqvist"),
            ("reason", ""),
        ],
    )
    .await;
    let page = dsl
        .post(
            &format!("/concerns/{concern}/pupils"),
            &[
                ("action", "unlink"),
                ("pupil", "tobias.lindqvist"),
                ("reason", "Wrong Tobias"),
            ],
        )
        .await;
    page.redirects_to(&format!("/concerns/{concern}?done=unlinked"));
    dsl.post(
        &format!("/concerns/{concern}/amend"),
        &[
            ("field", "location"),
            ("after", "At a friend's house"),
            ("why", "She corrected it"),
        ],
    )
    .await
    .redirects_to(&format!("/concerns/{concern}?done=amended"));
    let page = dsl.get(&format!("/concerns/{concern}")).await;
    assert!(
        page.body.contains("At a friend&#x27;s house") || page.body.contains("At a friend's house")
    );
    assert!(
        page.body
            .contains("Before: <span class=\"pre\">At home, on a messaging app")
    );
    assert!(page.body.contains("Tobias Lindqvist unlinked by d.lead"));

    // A teacher cannot link or amend through the DSL's routes.
    teacher.get("/my-concerns").await;
    let page = teacher
        .post(
            &format!("/concerns/{concern}/amend"),
            &[("field", "location"), ("after", "x"), ("why", "y")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn referrals_come_from_the_directory_and_overdue_ones_are_listed() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    let incident = open_incident(&mut dsl, concern, "sharing-nudes").await;
    let page = dsl.get(&format!("/incidents/{incident}")).await;
    assert!(page.body.contains("The referral directory is empty"));

    dsl.get("/referral-directory").await;
    dsl.post("/referral-directory/national", &[])
        .await
        .redirects_to("/referral-directory?done=contact");
    dsl.post(
        "/referral-directory",
        &[
            ("agency", "childrens-social-care"),
            ("name", "Front door"),
            ("phone", ""),
        ],
    )
    .await;
    let page = dsl
        .post(
            "/referral-directory",
            &[
                ("agency", "childrens-social-care"),
                ("name", "Front door"),
                ("phone", "01632 960000"),
            ],
        )
        .await;
    page.redirects_to("/referral-directory?done=contact");
    let directory = school.store.referral_directory().await.expect("directory");
    let front_door = directory
        .iter()
        .find(|c| c.name == "Front door")
        .expect("entry");

    dsl.get(&format!("/incidents/{incident}")).await;
    dsl.post(
        &format!("/incidents/{incident}/referrals"),
        &[
            ("contact", &front_door.id.to_string()),
            ("reference", "CSC-1"),
            ("summary", "Told them about the images being asked for."),
        ],
    )
    .await
    .redirects_to(&format!("/incidents/{incident}?done=referral"));
    assert!(!dsl.get("/incidents").await.body.contains("CSC-1"));
    // Children's social care: one working day, so it is overdue within a week.
    school
        .clock
        .advance(jiff::SignedDuration::from_hours(24 * 7));
    let mut dsl = school.signed_in("d.lead").await;
    let page = dsl.get("/incidents").await;
    assert!(page.body.contains("Overdue referrals (1)"), "{}", page.body);
    assert!(page.body.contains("reference CSC-1"));

    // The headteacher reads the incident but does not work it.
    let mut head = school.signed_in("h.head").await;
    let page = head.get(&format!("/incidents/{incident}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Record step 1"));
    assert!(!page.body.contains("Record the response"));

    // Recording the agency's response takes it off the overdue list.
    let referral = school
        .store
        .incident(incident)
        .await
        .expect("read")
        .expect("incident")
        .referrals[0]
        .id;
    dsl.get(&format!("/incidents/{incident}")).await;
    dsl.post(
        &format!("/incidents/{incident}/referrals/{referral}/response"),
        &[("outcome", "No further action; school to support her.")],
    )
    .await
    .redirects_to(&format!("/incidents/{incident}?done=response"));
    assert!(
        dsl.get("/incidents")
            .await
            .body
            .contains("Overdue referrals (0)")
    );
}

#[tokio::test]
async fn governors_and_technicians_never_reach_safeguarding_records() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    for who in ["t.tech", "g.governor", "o.teacher"] {
        let mut b = school.signed_in(who).await;
        for path in [
            "/concerns".to_owned(),
            format!("/concerns/{concern}"),
            "/incidents".to_owned(),
            "/pupils/amara.okafor".to_owned(),
            "/referral-directory".to_owned(),
        ] {
            let page = b.get(&path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} {path}");
            assert!(!page.body.contains("Amara"), "{who} {path}");
        }
    }
    let mut governor = school.signed_in("g.governor").await;
    assert_eq!(
        governor.get("/concerns/new").await.status,
        StatusCode::FORBIDDEN
    );
    // A technician may raise a concern and sees only what they wrote.
    let mut tech = school.signed_in("t.tech").await;
    assert_eq!(tech.get("/concerns/new").await.status, StatusCode::OK);
    let own = raise(&mut tech, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    dsl.get(&format!("/concerns/{own}")).await;
    dsl.post(
        &format!("/concerns/{own}/category"),
        &[
            ("category", "grooming-exploitation"),
            ("reason", "Secret DSL view"),
        ],
    )
    .await;
    let page = tech.get(&format!("/my-concerns/{own}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Secret DSL view"));
}

#[tokio::test]
async fn a_confiscated_phone_is_logged_held_and_released() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let page = teacher.get("/registers/confiscated-devices").await;
    assert!(page.body.contains("Still held today: <strong>0</strong>"));
    teacher
        .post(
            "/registers/confiscated-devices",
            &[
                ("pupil", "Amara Okafor (amara.okafor)"),
                ("device", "Black phone, cracked blue case"),
                ("why", "Used in a lesson to film other pupils"),
                ("held_at", "The school office safe"),
            ],
        )
        .await
        .redirects_to("/registers/confiscated-devices?done=saved");
    let page = teacher.get("/registers/confiscated-devices").await;
    assert!(
        page.body.contains("Still held today: <strong>1</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("taken by Invented r.teacher"));
    let entries = school
        .store
        .register_entries(records::registers::Register::ConfiscatedDevices)
        .await
        .expect("entries");
    let id = entries[0].id;

    // Only the safeguarding leads hand a device to the police.
    let release = format!("/registers/confiscated-devices/{id}/release");
    let page = teacher
        .post(&release, &[("to", "police"), ("reference", "CRI-77")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = teacher.get("/registers/confiscated-devices").await;
    let page2 = teacher
        .post(&release, &[("to", "parent"), ("name", "")])
        .await;
    assert_eq!(page2.status, StatusCode::BAD_REQUEST);
    assert!(
        page2.body.contains("the parent&#x27;s name") || page2.body.contains("the parent's name"),
        "{}",
        page2.body
    );
    drop(page);
    teacher
        .post(&release, &[("to", "parent"), ("name", "Grace Okafor")])
        .await
        .redirects_to("/registers/confiscated-devices?done=released");
    let page = teacher.get("/registers/confiscated-devices").await;
    assert!(page.body.contains("Still held today: <strong>0</strong>"));
    assert!(
        page.body
            .contains("Released to a parent or carer, Grace Okafor by r.teacher")
    );

    // Technicians and governors never see it.
    for who in ["t.tech", "g.governor"] {
        let mut b = school.signed_in(who).await;
        let page = b.get("/registers/confiscated-devices").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{who}");
    }
}

#[tokio::test]
async fn agreements_training_and_filtering_checks_say_who_is_missing() {
    let school = school().await;
    school.account("a.admin", "administrator", true).await;
    let mut admin = school.signed_in("a.admin").await;
    admin.get("/registers/acceptable-use").await;
    admin
        .post(
            "/registers/acceptable-use/versions",
            &[
                ("audience", "staff"),
                ("version", "2027-1"),
                ("in_force_from", "2027-01-01"),
                ("text", "I will use the school's systems responsibly."),
            ],
        )
        .await
        .redirects_to("/registers/acceptable-use?done=saved");
    admin
        .post(
            "/registers/acceptable-use/acceptances",
            &[
                ("audience", "staff"),
                ("version", "2027-1"),
                ("person", "r.teacher"),
                ("how", "Signed form"),
            ],
        )
        .await
        .redirects_to("/registers/acceptable-use?done=saved");
    let page = admin.get("/registers/acceptable-use").await;
    let missing = page
        .between("id=\"missing-staff\">", "</ul>")
        .expect("list");
    assert!(
        missing.contains("Invented o.teacher (o.teacher)"),
        "{missing}"
    );
    assert!(!missing.contains("(r.teacher)"), "{missing}");
    let page = admin
        .post(
            "/registers/acceptable-use/acceptances",
            &[
                ("audience", "staff"),
                ("version", "1999"),
                ("person", "o.teacher"),
                ("how", "Online"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("no agreement version &#x27;1999&#x27;")
            || page.body.contains("no agreement version '1999'"),
        "{}",
        page.body
    );

    admin.get("/registers/training").await;
    admin
        .post(
            "/registers/training",
            &[
                ("person", "Invented r.teacher (r.teacher)"),
                ("course", "Safeguarding and online safety update"),
                ("completed_on", "2026-01-10"),
                ("valid_months", "12"),
            ],
        )
        .await
        .redirects_to("/registers/training?done=saved");
    let page = admin.get("/registers/training").await;
    assert!(
        page.body
            .contains("Invented r.teacher (r.teacher): ran out on 2027-01-10"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Invented o.teacher (o.teacher): never recorded")
    );

    let mut tech = school.signed_in("t.tech").await;
    let index = tech.get("/registers").await;
    assert!(
        index.body.contains("/registers/filtering-checks"),
        "{}",
        index.body
    );
    assert!(!index.body.contains("/registers/confiscated-devices"));
    assert!(!index.body.contains("/registers/training"));
    let page = tech.get("/registers/filtering-checks").await;
    assert!(page.body.contains("A check is overdue"));
    tech.post(
        "/registers/filtering-checks",
        &[
            ("tested", "The test pages on a Year 7 laptop"),
            ("result", "All blocked"),
            ("actions", "none needed"),
        ],
    )
    .await
    .redirects_to("/registers/filtering-checks?done=saved");
    let page = tech.get("/registers/filtering-checks").await;
    assert!(!page.body.contains("A check is overdue"));
    assert!(page.body.contains("The test pages on a Year 7 laptop"));
    assert_eq!(
        tech.get("/registers/training").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_confiscation_names_a_pupil_from_the_register() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    teacher.get("/registers/confiscated-devices").await;
    let page = teacher
        .post(
            "/registers/confiscated-devices",
            &[
                ("pupil", "A.O."),
                ("device", "Phone"),
                ("why", "Filming"),
                ("held_at", "Office"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("is not in the people list"),
        "{}",
        page.body
    );
    let entries = school
        .store
        .register_entries(records::registers::Register::ConfiscatedDevices)
        .await
        .expect("entries");
    assert!(entries.is_empty());
}

#[tokio::test]
async fn technicians_keep_loans_technology_and_system_access() {
    let school = school().await;
    let mut tech = school.signed_in("t.tech").await;
    let index = tech.get("/registers").await;
    for id in [
        "equipment-loans",
        "technology",
        "system-access",
        "filtering-checks",
    ] {
        assert!(index.body.contains(&format!("/registers/{id}")), "{id}");
    }

    tech.get("/registers/equipment-loans").await;
    let loan = [
        ("borrower", "tobias.lindqvist"),
        ("make", "Lenovo"),
        ("model", "300e"),
        ("serial_number", "SN-1234"),
        ("agreed_by", "The headteacher"),
    ];
    let page = tech.post("/registers/equipment-loans", &loan).await;
    assert_eq!(
        page.status,
        StatusCode::BAD_REQUEST,
        "conditions not accepted"
    );
    assert!(page.body.contains("must accept the loan conditions"));
    let mut accepted = loan.to_vec();
    accepted.push(("conditions_accepted", "yes"));
    tech.post("/registers/equipment-loans", &accepted)
        .await
        .redirects_to("/registers/equipment-loans?done=saved");
    let page = tech.get("/registers/equipment-loans").await;
    assert!(page.body.contains("Out on loan (1)"));
    let entries = school
        .store
        .register_entries(records::registers::Register::EquipmentLoans)
        .await
        .expect("entries");
    tech.post(
        &format!("/registers/equipment-loans/{}/return", entries[0].id),
        &[("condition", "Good")],
    )
    .await
    .redirects_to("/registers/equipment-loans?done=saved");
    assert!(
        tech.get("/registers/equipment-loans")
            .await
            .body
            .contains("Out on loan (0)")
    );

    tech.get("/registers/technology").await;
    tech.post(
        "/registers/technology",
        &[
            ("name", "Chat assistant"),
            ("purpose", "Lesson planning"),
            ("owner", "Head of computing"),
            ("generative_ai", "yes"),
            ("review_due", "2027-09-01"),
            ("in_use", "yes"),
        ],
    )
    .await
    .redirects_to("/registers/technology?done=saved");
    let page = tech.get("/registers/technology").await;
    let attention = page.between("id=\"attention\">", "</ul>").expect("list");
    assert!(attention.contains("Chat assistant"), "{attention}");
    assert!(attention.contains("risk assessment"), "{attention}");

    tech.get("/registers/system-access").await;
    tech.post(
        "/registers/system-access",
        &[
            ("person", "r.teacher"),
            ("system", "MIS"),
            ("level", "read"),
            ("action", "grant"),
            ("review_due", "2027-01-01"),
        ],
    )
    .await
    .redirects_to("/registers/system-access?done=saved");
    let page = tech.get("/registers/system-access").await;
    let due = page.between("id=\"reviews-due\">", "</ul>").expect("list");
    assert!(due.contains("r.teacher: MIS"), "{due}");

    // Governors and staff see none of it.
    for who in ["g.governor", "r.teacher"] {
        let mut b = school.signed_in(who).await;
        assert_eq!(
            b.get("/registers/equipment-loans").await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_dsl_owns_the_categories_staff_choose_from() {
    let school = school().await;
    let mut dsl = school.signed_in("d.lead").await;
    let page = dsl.get("/concern-categories").await;
    assert!(page.body.contains("value=\"Bullying online\""));
    let set = school.store.concern_categories().await.expect("set");
    let mut fields: Vec<(String, String)> = Vec::new();
    for (n, c) in set.iter().enumerate() {
        fields.push((format!("key_{n}"), c.key.clone()));
        fields.push((format!("label_{n}"), c.label.clone()));
        fields.push((format!("guidance_{n}"), c.guidance.clone()));
    }
    fields.push(("remove_0".into(), "yes".into()));
    let n = set.len();
    fields.push((format!("label_{n}"), "Gambling online".into()));
    fields.push((
        format!("guidance_{n}"),
        "Betting, loot boxes or gambling sites.".into(),
    ));
    fields.push((format!("key_{n}"), String::new()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    dsl.post("/concern-categories", &borrowed)
        .await
        .redirects_to("/concern-categories?done=categories");
    let now = school.store.concern_categories().await.expect("set");
    assert!(now.iter().any(|c| c.key == "gambling-online"));
    assert!(!now.iter().any(|c| c.key == set[0].key));

    // The teacher's form offers the new set, with its guidance.
    let mut teacher = school.signed_in("r.teacher").await;
    let page = teacher.get("/concerns/new").await;
    assert!(page.body.contains("Betting, loot boxes or gambling sites."));

    // An empty set is refused, and the headteacher may read but not change it.
    let page = dsl.post("/concern-categories", &[]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("keep at least one category"));
    let mut head = school.signed_in("h.head").await;
    let page = head.get("/concern-categories").await;
    assert!(!page.body.contains("Save the categories"));
}

#[tokio::test]
async fn incidents_and_referrals_are_corrected_never_overwritten() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    let incident = open_incident(&mut dsl, concern, "cyberbullying").await;
    dsl.get("/referral-directory").await;
    dsl.post("/referral-directory/national", &[]).await;
    let directory = school.store.referral_directory().await.expect("directory");
    let police = directory.iter().find(|c| c.phone == "101").expect("101");
    dsl.get(&format!("/incidents/{incident}")).await;
    dsl.post(
        &format!("/incidents/{incident}/referrals"),
        &[
            ("contact", &police.id.to_string()),
            ("summary", "Threats in a group chat."),
        ],
    )
    .await
    .redirects_to(&format!("/incidents/{incident}?done=referral"));
    let referral = school
        .store
        .incident(incident)
        .await
        .expect("read")
        .expect("incident")
        .referrals[0]
        .id;

    let amend = format!("/incidents/{incident}/amend");
    dsl.post(
        &amend,
        &[
            ("target", "incident:summary"),
            ("after", "Threats sent in a class group chat."),
            ("why", ""),
        ],
    )
    .await;
    dsl.post(
        &amend,
        &[
            ("target", "incident:summary"),
            ("after", "Threats sent in a class group chat."),
            ("why", "More precise"),
        ],
    )
    .await
    .redirects_to(&format!("/incidents/{incident}?done=amended"));
    let target = format!("referral:{referral}:due_at");
    dsl.post(
        &amend,
        &[
            ("target", &target),
            ("after", "2027-02-20T12:00"),
            ("why", "The police asked for more time"),
        ],
    )
    .await
    .redirects_to(&format!("/incidents/{incident}?done=amended"));
    let page = dsl.get(&format!("/incidents/{incident}")).await;
    assert!(page.body.contains("Threats sent in a class group chat."));
    assert!(
        page.body
            .contains("Before: Images asked for by another pupil."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Follow up by Saturday 20 February 2027, 12:00"),
        "{}",
        page.body
    );

    // A week on, the corrected date has not passed: nothing is overdue.
    school
        .clock
        .advance(jiff::SignedDuration::from_hours(24 * 7));
    let mut dsl = school.signed_in("d.lead").await;
    assert!(
        dsl.get("/incidents")
            .await
            .body
            .contains("Overdue referrals (0)")
    );

    // Withdrawing a directory entry keeps it on the referral that used it.
    dsl.get("/referral-directory").await;
    dsl.post(&format!("/referral-directory/{}/withdraw", police.id), &[])
        .await
        .redirects_to("/referral-directory?done=withdrawn");
    let directory = school.store.referral_directory().await.expect("directory");
    assert!(!directory.iter().any(|c| c.id == police.id));
    let page = dsl.get(&format!("/incidents/{incident}")).await;
    assert!(page.body.contains("Police (101, non-emergency)"));
}

#[tokio::test]
async fn reviews_consents_and_file_transfers() {
    let school = school().await;
    let mut head = school.signed_in("h.head").await;
    head.get("/registers/policy-reviews").await;
    head.post(
        "/registers/policy-reviews",
        &[
            ("policy", "Online safety policy"),
            ("reviewed_on", "2025-09-01"),
            ("next_due", "2026-09-01"),
        ],
    )
    .await
    .redirects_to("/registers/policy-reviews?done=saved");
    let mut governor = school.signed_in("g.governor").await;
    let index = governor.get("/registers").await;
    assert!(index.body.contains("/registers/policy-reviews"));
    assert!(!index.body.contains("/registers/parental-consents"));
    let page = governor.get("/registers/policy-reviews").await;
    let overdue = page
        .between("id=\"reviews-overdue\">", "</ul>")
        .expect("list");
    assert!(
        overdue.contains("Online safety policy: the review was due 2026-09-01"),
        "{overdue}"
    );
    assert_eq!(
        governor.get("/registers/parental-consents").await.status,
        StatusCode::FORBIDDEN
    );

    let mut teacher = school.signed_in("r.teacher").await;
    teacher.get("/registers/parental-consents").await;
    for decision in ["given", "withdrawn"] {
        teacher
            .post(
                "/registers/parental-consents",
                &[
                    ("pupil", "Amara Okafor (amara.okafor)"),
                    ("kind", "images"),
                    ("decision", decision),
                    ("parent", "Grace Okafor"),
                ],
            )
            .await
            .redirects_to("/registers/parental-consents?done=saved");
    }
    let page = teacher.get("/registers/parental-consents").await;
    assert!(
        page.body.contains("Amara Okafor (amara.okafor)</strong>: Video conferencing not asked; Photographs and video withdrawn"),
        "{}",
        page.body
    );
    assert_eq!(
        teacher.get("/registers/file-transfers").await.status,
        StatusCode::FORBIDDEN
    );

    let mut dsl = school.signed_in("d.lead").await;
    dsl.get("/registers/file-transfers").await;
    dsl.post(
        "/registers/file-transfers",
        &[
            ("pupil", "amara.okafor"),
            ("to_school", "Hillside Academy, DSL Ms Park"),
            ("method", "Secure transfer service"),
            ("sent_on", "2027-01-10"),
        ],
    )
    .await
    .redirects_to("/registers/file-transfers?done=saved");
    assert!(
        dsl.get("/registers/file-transfers")
            .await
            .body
            .contains("confirm receipt: <strong>1</strong>")
    );
    let entries = school
        .store
        .register_entries(records::registers::Register::FileTransfers)
        .await
        .expect("entries");
    dsl.post(
        &format!("/registers/file-transfers/{}/receipt", entries[0].id),
        &[("received_by", "Ms Park"), ("received_on", "2027-01-12")],
    )
    .await
    .redirects_to("/registers/file-transfers?done=saved");
    let page = dsl.get("/registers/file-transfers").await;
    assert!(page.body.contains("confirm receipt: <strong>0</strong>"));
    assert!(page.body.contains("Received by Ms Park on 2027-01-12"));
}

#[tokio::test]
async fn a_pupils_record_is_found_by_name() {
    let school = school().await;
    let mut dsl = school.signed_in("d.lead").await;
    let page = dsl.get("/pupils").await;
    assert!(
        page.body
            .contains("<option value=\"Amara Okafor (amara.okafor)\">")
    );
    dsl.get("/pupils?pupil=Amara+Okafor+%28amara.okafor%29")
        .await
        .redirects_to("/pupils/amara.okafor");
    let page = dsl.get("/pupils?pupil=A.+Okafor").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("is not in the people list"));
    // Not linked to her: the record asks why first.
    let page = dsl.get("/pupils/amara.okafor").await;
    assert!(page.body.contains("Why you are opening this record"));
}

#[tokio::test]
async fn a_pupils_file_is_exported_for_a_new_school_without_staff_allegations() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let kept = raise(&mut teacher, false).await;
    let allegation = raise(&mut teacher, true).await;
    let mut dsl = school.signed_in("d.lead").await;
    dsl.get("/pupils/amara.okafor").await;
    let page = dsl
        .post("/pupils/amara.okafor/file", &[("reason", "")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = dsl
        .post(
            "/pupils/amara.okafor/file",
            &[("reason", "Hillside Academy")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let bundle: serde_json::Value = serde_json::from_str(&page.body).expect("json");
    let ids: Vec<i64> = bundle["concerns"]
        .as_array()
        .expect("concerns")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![kept]);
    assert_ne!(kept, allegation);
    assert!(
        bundle["left_out"]
            .to_string()
            .contains("allegations about staff")
    );
    let log = school
        .store
        .record_read_log(&ReadTarget::Pupil("amara.okafor".into()))
        .await
        .expect("log");
    assert!(log.iter().any(|e| e.reason.as_deref()
        == Some("Prepared the child-protection file for transfer: Hillside Academy")));
}

#[tokio::test]
async fn a_document_over_5_mb_reaches_an_incident_but_not_over_20() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    let incident = open_incident(&mut dsl, concern, "cyberbullying").await;
    dsl.get(&format!("/incidents/{incident}")).await;
    let token = dsl.csrf.clone().expect("token");
    let path = format!("/incidents/{incident}/attachments");
    let report = vec![b'r'; 6 * 1024 * 1024];
    upload(&mut dsl, &path, Some(&token), "report.pdf", &report)
        .await
        .redirects_to(&format!("/incidents/{incident}?done=attached"));
    let video = vec![b'v'; 21 * 1024 * 1024];
    let page = upload(&mut dsl, &path, Some(&token), "video.mp4", &video).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("larger than 20 MB"), "{}", page.body);
    let stored = school
        .store
        .incident(incident)
        .await
        .expect("read")
        .expect("incident");
    assert_eq!(stored.attachments.len(), 1);
}

#[tokio::test]
async fn the_dsl_puts_an_incident_under_legal_hold_and_lifts_it_with_reasons() {
    let school = school().await;
    let mut teacher = school.signed_in("r.teacher").await;
    let concern = raise(&mut teacher, false).await;
    let mut dsl = school.signed_in("d.lead").await;
    let incident = open_incident(&mut dsl, concern, "cyberbullying").await;
    let path = format!("/incidents/{incident}/hold");

    let page = dsl.get(&format!("/incidents/{incident}")).await;
    assert!(page.body.contains("Not under legal hold"), "{}", page.body);
    assert!(page.body.contains("Put under legal hold"));

    // A hold needs a reason; without one nothing is held.
    let refused = dsl.post(&path, &[("hold", "on"), ("reason", "  ")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(school.store.legal_holds().await.expect("holds").is_empty());

    let held = dsl
        .post(
            &path,
            &[
                ("hold", "on"),
                ("reason", "Police investigation, ref 44/2027"),
            ],
        )
        .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
    let holds = school.store.legal_holds().await.expect("holds");
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].record.id, incident);
    assert_eq!(holds[0].actor, "d.lead");
    let page = dsl.get(&format!("/incidents/{incident}?done=held")).await;
    assert!(page.body.contains("is under legal hold"), "{}", page.body);
    assert!(page.body.contains("Lift the legal hold"));

    // A deputy may read the incident but not hold or lift it.
    let mut deputy = school.signed_in("d.deputy").await;
    let page = deputy.get(&format!("/incidents/{incident}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Lift the legal hold"));
    let refused = deputy
        .post(&path, &[("hold", "off"), ("reason", "Not needed")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(school.store.legal_holds().await.expect("holds").len(), 1);

    // The headteacher lifts it; the history keeps both.
    let mut head = school.signed_in("h.head").await;
    head.get(&format!("/incidents/{incident}")).await;
    let lifted = head
        .post(
            &path,
            &[("hold", "off"), ("reason", "Investigation closed")],
        )
        .await;
    assert_eq!(lifted.status, StatusCode::SEE_OTHER, "{}", lifted.body);
    assert!(school.store.legal_holds().await.expect("holds").is_empty());
}
