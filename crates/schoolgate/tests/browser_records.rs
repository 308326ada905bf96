//! Safeguarding records in a real browser (headless Chromium, with
//! `schoolgate serve` on loopback): a teacher raises a concern, the DSL is
//! told on their home page, turns it into a nudes incident, works its
//! checklist, tries to attach an image and is refused, refers, and closes
//! it with an outcome; a confiscated phone is logged and released. Every
//! pupil and member of staff here is invented.

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/school.rs"]
mod school;

use school::School;
use store::{Person, Store};

/// Puts invented pupils in the people register, as an MIS import would.
fn add_pupils(school: &School) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = store::sqlite::SqliteStore::open(&school.data.join("schoolgate.db"))
            .await
            .expect("open the store");
        for (username, name) in [
            ("amara.okafor", "Amara Okafor"),
            ("tobias.lindqvist", "Tobias Lindqvist"),
        ] {
            store
                .save_person(
                    &Person {
                        username: username.into(),
                        display_name: name.into(),
                        profile: "pupils".into(),
                        password_hash: None,
                        disabled: false,
                    },
                    "browser-tests",
                )
                .await
                .expect("save a pupil");
        }
    });
}

#[test]
fn a_concern_becomes_a_nudes_incident_worked_referred_and_closed() {
    let (school, _admin) = School::signed_in();
    add_pupils(&school);
    let teacher = school.create_account("r.teacher", "Rosa Teacher", "staff");
    let dsl = school.create_account("d.lead", "Dana Lead", "dsl");

    // The teacher raises a concern from their home page.
    let b = school.browser();
    school.sign_in(&b, &teacher);
    b.follow("Raise a concern");
    b.fill("Child", "Amara Okafor (amara.okafor)");
    b.fill("Other child 1", "Tobias Lindqvist (tobias.lindqvist)");
    b.fill(
        "What happened",
        "She said \"he keeps asking me to send a picture\".",
    );
    b.fill(
        "What you did straight away",
        "Reassured her and came to the DSL.",
    );
    b.fill("Where it happened", "At home, on a messaging app");
    b.check("Nudes or semi-nudes");
    b.submit("Send to the DSL");
    assert!(
        b.text().contains("Your concern has been sent to the DSL"),
        "{}",
        b.text()
    );
    b.assert_no_csp_violations();

    // The DSL sees it at once on their home page.
    let d = school.browser();
    school.sign_in(&d, &dsl);
    d.follow("1 new concern waiting for you");
    d.follow("Concern 1");
    assert!(d.text().contains("he keeps asking me to send a picture"));
    d.select("Type of incident", "Sharing nudes and semi-nudes (§11.2)");
    d.fill(
        "Summary",
        "Another pupil is asking Amara for nude pictures.",
    );
    d.submit("Open an incident");
    assert!(d.path().starts_with("/incidents/"), "{}", d.path());
    let incident = d.path().split('?').next().unwrap_or_default().to_owned();
    assert!(d.text().contains("The five questions have been asked"));

    // No upload control is offered; a hand-made upload is refused, saying why.
    assert!(d.try_find("input[type=file]").is_none());
    assert!(
        d.text()
            .contains("Nothing can be attached to this incident")
    );
    let token = d
        .find("input[name=csrf]")
        .attribute("value")
        .expect("the form token");
    d.script(&format!(
        "document.querySelector('main').insertAdjacentHTML('beforeend', \
         '<form method=\"post\" enctype=\"multipart/form-data\" action=\"{incident}/attachments\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label for=\"try-file\">Image</label><input type=\"file\" id=\"try-file\" name=\"file\">\
         <input type=\"hidden\" name=\"description\" value=\"The picture\">\
         <button type=\"submit\">Try to attach</button></form>');"
    ));
    let image = school.data.join("picture.jpg");
    std::fs::write(&image, b"\xff\xd8\xff\xe0 an invented picture").expect("write");
    d.upload("Image", &image);
    d.submit("Try to attach");
    let refused = d.find(".error-summary").text();
    assert!(
        refused.contains("never to copy, save or share"),
        "{refused}"
    );

    // Closing while steps are undecided is refused, naming them.
    d.fill("Outcome", "Resolved in school.");
    d.fill("Lessons learnt", "None, handled as the policy says.");
    d.submit("Close the incident");
    let refused = d.find(".error-summary").text();
    assert!(
        refused.contains("record a decision for every step"),
        "{refused}"
    );

    // The referral directory, then a referral.
    d.follow("Referral directory");
    d.submit("Add the national numbers (999, 101, IWF, CEOP)");
    assert!(d.text().contains("Police non-emergency"));
    d.goto(&school.url(&incident));
    d.select(
        "Who you referred to",
        "Police (101, non-emergency): Police non-emergency",
    );
    d.fill("Their reference (optional)", "PN-4471");
    d.fill(
        "What you reported and any advice given",
        "Reported the requests; advised to keep the phone locked away.",
    );
    d.submit("Record the referral");
    assert!(d.text().contains("The referral is recorded"));
    assert!(d.text().contains("reference PN-4471"));

    // Work the checklist: a decision and a reason for every step.
    let keys: Vec<String> = d
        .find_all("ol.checklist > li")
        .iter()
        .filter_map(|li| li.attribute("id"))
        .map(|id| id.trim_start_matches("step-").to_owned())
        .collect();
    assert_eq!(keys.len(), 15, "{keys:?}");
    for (n, key) in keys.iter().enumerate() {
        let decision = if key == "referral-decision" {
            "decided-not"
        } else {
            "done"
        };
        d.find(&format!("#d-{key}-{decision}")).click();
        d.find(&format!("#r-{key}"))
            .type_text("Done as the policy says.");
        d.submit(&format!("Record step {}", n + 1));
        assert!(d.text().contains("The decision is recorded"), "{key}");
    }
    assert!(d.text().contains("Decided not to"));

    d.fill("Outcome", "Resolved in school; the images were never sent.");
    d.fill("Lessons learnt", "Remind Year 9 how to report requests.");
    d.submit("Close the incident");
    assert!(d.text().contains("The incident is closed."));
    assert!(
        d.text()
            .contains("Resolved in school; the images were never sent.")
    );

    // The chronology shows it all in order.
    d.goto(&school.url("/pupils/amara.okafor"));
    let text = d.text();
    assert!(text.contains("Concern raised"), "{text}");
    assert!(text.contains("Incident"), "{text}");
    d.assert_no_csp_violations();

    // The teacher still sees only what they wrote.
    b.goto(&school.url("/my-concerns/1"));
    assert!(!b.text().contains("Remind Year 9"));
}

#[test]
fn a_confiscated_phone_is_logged_and_released() {
    let (school, _admin) = School::signed_in();
    add_pupils(&school);
    let teacher = school.create_account("r.teacher", "Rosa Teacher", "staff");
    let b = school.browser();
    school.sign_in(&b, &teacher);
    b.follow("Registers");
    b.follow("Confiscated devices");
    b.fill("Pupil", "Amara Okafor (amara.okafor)");
    b.fill("Device", "Black phone");
    b.fill("Why it was confiscated", "Filming other pupils in a lesson");
    b.fill("Where it is held", "The school office safe");
    b.submit("Log the device");
    let held = b.find("#held-today").text();
    assert!(held.contains("Still held today: 1 device."), "{held}");

    b.check("A parent or carer");
    b.fill("Parent or carer's name", "Grace Okafor");
    b.submit("Record the release of Black phone");
    assert!(b.text().contains("The release is recorded."));
    let held = b.find("#held-today").text();
    assert!(held.contains("Still held today: 0 devices."), "{held}");
    assert!(
        b.text()
            .contains("Released to a parent or carer, Grace Okafor by r.teacher")
    );
    b.assert_no_csp_violations();
}
