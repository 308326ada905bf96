//! People pages and the MIS import, through the router: a file with a bad
//! row shows the row's error and stores nothing until confirmed; confirming
//! stores the good rows with the profiles their year groups give; a second
//! import keeps profiles set by hand; people missing from a full import are
//! offered as leavers and disabled, never deleted; multipart forms need the
//! CSRF token; the API works with a personal token.

mod common;

use axum::http::{Method, StatusCode};
use common::{Browser, Page, School};
use store::{PeopleQuery, PeopleStatus, Store};

const FIELDS: [&str; 7] = [
    "given_name",
    "family_name",
    "year_group",
    "class_group",
    "email",
    "mis_id",
    "username",
];

/// A SIMS-style export: byte-order mark, CRLF, a quoted name with a comma,
/// a blank line, and a bad year group on row 5.
const SIMS: &str = "\u{feff}UPN,Legal Surname,Preferred Forename,NC Year,Reg Group,Primary Email\r\n\
A100,Lovelace,Ada,R,RA,ada.lovelace@school.example\r\n\
A101,\"Turing, OBE\",Alan,4,4T,alan.turing@school.example\r\n\
\r\n\
A102,Hopper,Grace,Yr 15,6H,grace.hopper@school.example\r\n\
A103,Franklin,Rosalind,9,9F,rosalind.franklin@school.example\r\n";

async fn admin(school: &School) -> Browser {
    school.account("i.admin", "administrator", true).await;
    school.with_default_policy().await;
    school.signed_in("i.admin").await
}

/// What the mapping page carries and chose, as the preview form sends it.
fn carried(page: &Page) -> Vec<(String, String)> {
    let mut fields = vec![(
        "csv".to_owned(),
        page.carried_csv().expect("the file is carried"),
    )];
    for name in ["source", "kind", "encoding"] {
        let value = page
            .between(&format!("name=\"{name}\" value=\""), "\"")
            .expect(name);
        fields.push((name.to_owned(), common::unescape(&value)));
    }
    for field in FIELDS {
        if let Some(column) = page.selected(&format!("column_{field}")) {
            fields.push((format!("column_{field}"), column));
        }
    }
    if let Some(secondary) = page.selected("secondary") {
        fields.push(("secondary".into(), secondary));
    }
    fields
}

async fn post_step(browser: &mut Browser, path: &str, fields: &[(String, String)]) -> Page {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser.post_multipart(path, &fields, &[]).await
}

async fn upload(browser: &mut Browser, csv: &str, kind: &str) -> Page {
    browser.get("/people/import").await;
    let page = browser
        .post_multipart(
            "/people/import",
            &[("kind", kind)],
            &[("file", "pupils.csv", csv.as_bytes())],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

async fn import(browser: &mut Browser, csv: &str, kind: &str, full: bool) -> Page {
    let mapping = upload(browser, csv, kind).await;
    let mut fields = carried(&mapping);
    if full {
        fields.push(("full".into(), "yes".into()));
    }
    let preview = post_step(browser, "/people/import/preview", &fields).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    post_step(browser, "/people/import/confirm", &fields).await
}

#[tokio::test]
async fn a_bad_row_is_shown_and_nothing_is_stored_until_confirmed() {
    let school = School::new().await;
    let mut browser = admin(&school).await;
    let mapping = upload(&mut browser, SIMS, "pupil").await;
    // The guessed columns, shown for checking.
    assert_eq!(mapping.selected("column_mis_id").as_deref(), Some("0"));
    assert_eq!(mapping.selected("column_family_name").as_deref(), Some("1"));
    assert_eq!(mapping.selected("column_given_name").as_deref(), Some("2"));
    assert_eq!(mapping.selected("column_year_group").as_deref(), Some("3"));
    assert_eq!(mapping.selected("column_class_group").as_deref(), Some("4"));
    assert_eq!(mapping.selected("column_email").as_deref(), Some("5"));
    assert_eq!(mapping.selected("column_username"), None);
    assert_eq!(mapping.selected("secondary").as_deref(), Some("ks2"));
    assert!(
        mapping.body.contains("the part before the @"),
        "{}",
        mapping.body
    );

    let fields = carried(&mapping);
    let preview = post_step(&mut browser, "/people/import/preview", &fields).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview
            .body
            .contains("row 5, NC Year: &#x27;Yr 15&#x27; is not a year group"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("3 to add"), "{}", preview.body);
    assert!(preview.body.contains("Import 3 people"), "{}", preview.body);
    // Nothing yet.
    assert!(
        school
            .store
            .person_records()
            .await
            .expect("people")
            .is_empty()
    );
    let high_water = school.store.audit_high_water().await.expect("audit");

    let done = post_step(&mut browser, "/people/import/confirm", &fields).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("3 added, 0 changed, 0 unchanged"),
        "{}",
        done.body
    );
    let people = school.store.person_records().await.expect("people");
    let profile = |u: &str| {
        people.iter().find(|p| p.username == u).map(|p| {
            (
                p.profile.clone(),
                p.display_name.clone(),
                p.year_group.clone(),
            )
        })
    };
    assert_eq!(
        profile("ada.lovelace"),
        Some((
            "eyfs-ks1".into(),
            "Ada Lovelace".into(),
            Some("Reception".into())
        ))
    );
    assert_eq!(
        profile("alan.turing"),
        Some((
            "ks2".into(),
            "Alan Turing, OBE".into(),
            Some("Year 4".into())
        ))
    );
    assert_eq!(
        profile("rosalind.franklin").map(|p| p.0),
        Some("ks2".into())
    );
    assert_eq!(profile("grace.hopper"), None);
    assert!(school.store.audit_high_water().await.expect("audit") > high_water);
    let trail = school.store.audit_trail(1).await.expect("audit");
    assert_eq!(trail[0].action, "people.import");
    assert_eq!(trail[0].actor, "i.admin");
    assert!(
        trail[0].detail.contains("pupils.csv: 3 added"),
        "{}",
        trail[0].detail
    );
}

#[tokio::test]
async fn a_second_import_keeps_hand_set_profiles_and_offers_leavers() {
    let school = School::new().await;
    let mut browser = admin(&school).await;
    let first = "Forename,Surname,Year,Class,Username\n\
        Ada,Lovelace,Year 5,5L,a.lovelace\n\
        Alan,Turing,Year 5,5T,a.turing\n\
        Grace,Hopper,Year 6,6H,g.hopper\n";
    import(&mut browser, first, "pupil", false).await;

    // A profile set by hand, with its reason.
    let page = browser.get("/people/a.lovelace").await;
    assert!(
        common::unescape(&page.body).contains("href=\"/activity/people/a.lovelace\""),
        "{}",
        page.body
    );
    let refused = browser
        .post(
            "/people/a.lovelace",
            &[("profile", "staff"), ("reason", " ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("Give a reason"), "{}", refused.body);
    let unknown = browser
        .post(
            "/people/a.lovelace",
            &[("profile", "sixth-form"), ("reason", "x")],
        )
        .await;
    assert!(
        unknown
            .body
            .contains("There is no profile &#x27;sixth-form&#x27;"),
        "{}",
        unknown.body
    );
    browser
        .post(
            "/people/a.lovelace",
            &[
                ("profile", "staff"),
                ("reason", "Digital leader, agreed with the DSL"),
            ],
        )
        .await
        .redirects_to("/people/a.lovelace?done=person-changed");
    let trail = school.store.audit_trail(1).await.expect("audit");
    assert_eq!(trail[0].action, "person.change");
    assert!(
        trail[0].detail.contains("Digital leader"),
        "{}",
        trail[0].detail
    );

    // Next year: Ada and Alan move up, Grace has left.
    let second = "Forename,Surname,Year,Class,Username\n\
        Ada,Lovelace,Year 6,6L,a.lovelace\n\
        Alan,Turing,Year 6,6T,a.turing\n";
    let mapping = upload(&mut browser, second, "pupil").await;
    let mut fields = carried(&mapping);
    fields.push(("full".into(), "yes".into()));
    let preview = post_step(&mut browser, "/people/import/preview", &fields).await;
    assert!(
        preview
            .body
            .contains("their profile was set by hand and is kept"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("Not in this file (1)"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("Grace Hopper"), "{}", preview.body);
    let done = post_step(&mut browser, "/people/import/confirm", &fields).await;
    assert!(done.body.contains("0 added, 2 changed"), "{}", done.body);
    assert!(
        done.body.contains("name=\"username\" value=\"g.hopper\""),
        "{}",
        done.body
    );
    // Nobody was disabled by the import itself.
    let grace = school
        .store
        .person_record("g.hopper")
        .await
        .unwrap()
        .unwrap();
    assert!(!grace.disabled);
    let ada = school
        .store
        .person_record("a.lovelace")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.profile, "staff");
    assert_eq!(ada.year_group.as_deref(), Some("Year 6"));

    browser
        .post(
            "/people/leavers",
            &[("username", "g.hopper"), ("reason", "")],
        )
        .await
        .redirects_to("/people?done=leavers-disabled&status=disabled");
    let grace = school
        .store
        .person_record("g.hopper")
        .await
        .unwrap()
        .unwrap();
    assert!(grace.disabled);
    assert_eq!(grace.disabled_by.as_deref(), Some("i.admin"));
    // Still there, among the leavers.
    let list = browser.get("/people?status=disabled").await;
    assert!(list.body.contains("Grace Hopper"), "{}", list.body);
    assert!(!list.body.contains("Ada Lovelace"), "{}", list.body);
    // And back again.
    browser
        .post("/people/g.hopper/enable", &[])
        .await
        .redirects_to("/people/g.hopper?done=person-enabled");
    assert!(
        !school
            .store
            .person_record("g.hopper")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    browser
        .post("/people/g.hopper/disable", &[("reason", "Moved away")])
        .await
        .redirects_to("/people/g.hopper?done=person-disabled");
    let trail = school.store.audit_trail(1).await.expect("audit");
    assert_eq!(trail[0].action, "person.disable");
    assert!(trail[0].detail.contains("Moved away"));
}

#[tokio::test]
async fn the_list_searches_and_pages_and_viewers_cannot_change_anything() {
    let school = School::new().await;
    let mut browser = admin(&school).await;
    let mut csv = String::from("Forename,Surname,Year,Class,UPN\n");
    for i in 0..120 {
        let year = if i % 2 == 0 { "Year 3" } else { "Year 4" };
        csv.push_str(&format!(
            "Given{i:03},Family{i:03},{year},C{},X{i:03}\n",
            i % 3
        ));
    }
    let done = import(&mut browser, &csv, "pupil", false).await;
    assert!(done.body.contains("120 added"), "{}", done.body);

    let page = browser.get("/people?year=Year+3").await;
    assert!(
        page.body.contains("Showing 1 to 50 of 60."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Family000"), "{}", page.body);
    let body = common::unescape(&page.body);
    let before_next = &body[..body.find("\" rel=\"next\"").expect("a next page")];
    let next = &before_next[before_next.rfind("href=\"").expect("href") + 6..];
    assert_eq!(next, "/people?year=Year+3&page=2");
    let page = browser.get(next).await;
    assert!(
        page.body.contains("Showing 51 to 60 of 60."),
        "{}",
        page.body
    );
    assert!(page.body.contains("rel=\"prev\""));
    let page = browser.get("/people?q=given007").await;
    assert!(page.body.contains("Showing 1 to 1 of 1."), "{}", page.body);
    assert!(common::unescape(&page.body).contains("href=\"/people/x007\""));

    // The DSL may look but not change.
    school.account("d.lead", "dsl", true).await;
    let mut dsl = school.signed_in("d.lead").await;
    let page = dsl.get("/people/x007").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Given007 Family007"));
    assert!(!page.body.contains("Change their profile"));
    assert!(!dsl.get("/people").await.body.contains("/people/import"));
    let refused = dsl
        .post("/people/x007", &[("profile", "staff"), ("reason", "x")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn multipart_forms_need_the_token_and_a_sensible_size() {
    let school = School::new().await;
    let mut browser = admin(&school).await;
    browser.get("/people/import").await;
    let file: &[(&str, &str, &[u8])] = &[("file", "p.csv", SIMS.as_bytes())];
    let missing = browser
        .post_multipart_raw("/people/import", &[("kind", "pupil")], file)
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(
        missing.body.contains("nothing was changed"),
        "{}",
        missing.body
    );
    let wrong = browser
        .post_multipart_raw(
            "/people/import",
            &[("csrf", "0123"), ("kind", "pupil")],
            file,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // A confirm without the token stores nothing.
    let mut confirm = vec![
        ("csv", SIMS),
        ("kind", "pupil"),
        ("column_given_name", "2"),
        ("column_family_name", "1"),
        ("column_year_group", "3"),
        ("column_email", "5"),
    ];
    let refused = browser
        .post_multipart_raw("/people/import/confirm", &confirm, &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(school.store.person_records().await.unwrap().is_empty());
    // With it, the same confirm works (the token can come first or last).
    let token = browser.csrf.clone().expect("token");
    confirm.push(("csrf", &token));
    let ok = browser
        .post_multipart_raw("/people/import/confirm", &confirm, &[])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(school.store.person_records().await.unwrap().len(), 3);

    // Too large: refused with a clear message before anything is read.
    let big = vec![b'a'; 6 * 1024 * 1024];
    let page = browser
        .post_multipart(
            "/people/import",
            &[("kind", "pupil")],
            &[("file", "big.csv", &big)],
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("larger than 5 MB"), "{}", page.body);

    // A large school's file, beyond axum's 2 MB default but within 5 MB.
    let mut large = String::from("Forename,Surname,Year,UPN\n");
    let mut i = 0;
    while large.len() < 3 * 1024 * 1024 {
        large.push_str(&format!("Given{i:06},Family{i:06},Year 5,U{i:06}\n"));
        i += 1;
    }
    browser.get("/people/import").await;
    let page = browser
        .post_multipart(
            "/people/import",
            &[("kind", "pupil")],
            &[("file", "all.csv", large.as_bytes())],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "{}",
        &page.body[..page.body.len().min(2000)]
    );
    assert!(page.body.contains(&format!("all.csv: {i} rows")), "{i}");

    // Pasted text works as a file does; an empty form says what to do.
    browser.get("/people/import").await;
    let page = browser
        .post_multipart(
            "/people/import",
            &[
                ("kind", "staff"),
                (
                    "pasted",
                    "Forename,Surname,Email\nMary,Jackson,m.jackson@school.example\n",
                ),
            ],
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("pasted text: 1 rows"), "{}", page.body);
    let page = browser
        .post_multipart("/people/import", &[("kind", "pupil")], &[])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("Choose a CSV file, or paste the rows"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn staff_files_give_the_staff_profile() {
    let school = School::new().await;
    let mut browser = admin(&school).await;
    let done = import(
        &mut browser,
        "Forename;Surname;Email\nKatherine;Johnson;k.johnson@school.example\n",
        "staff",
        false,
    )
    .await;
    assert!(done.body.contains("1 added"), "{}", done.body);
    let k = school
        .store
        .person_record("k.johnson")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(k.profile, "staff");
    assert_eq!(k.kind, store::PersonKind::Staff);
    assert_eq!(k.year_group, None);
}

#[tokio::test]
async fn the_api_lists_and_changes_people_with_a_personal_token() {
    let school = School::new().await;
    let mut browser = admin(&school).await;
    import(
        &mut browser,
        "Forename,Surname,Year,Class,Username\nAda,Lovelace,Year 5,5L,a.lovelace\nAlan,Turing,Year 2,2T,a.turing\n",
        "pupil",
        false,
    )
    .await;
    let token = browser.make_token("MIS sync").await;
    let bearer = format!("Bearer {token}");
    let mut script = school.browser();
    let page = script
        .call(
            Method::GET,
            "/api/v1/people?year=Year+5",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let answer: serde_json::Value = serde_json::from_str(&page.body).expect("json");
    assert_eq!(answer["total"], 1);
    assert_eq!(answer["people"][0]["username"], "a.lovelace");
    assert_eq!(answer["people"][0]["display_name"], "Ada Lovelace");

    let page = script
        .call(
            Method::GET,
            "/api/v1/people/a.turing",
            &[("authorization", &bearer)],
        )
        .await;
    let turing: serde_json::Value = serde_json::from_str(&page.body).expect("json");
    assert_eq!(turing["profile"], "eyfs-ks1");

    let patch = |body: &str| {
        axum::http::Request::builder()
            .method(Method::PATCH)
            .uri("/api/v1/people/a.turing")
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_owned()))
            .expect("request")
    };
    let page = script.send(patch(r#"{"profile": "ks2"}"#)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    let page = script
        .send(patch(r#"{"profile": "ks2", "reason": ""}"#))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("reason"), "{}", page.body);
    let page = script
        .send(patch(r#"{"profile": "ks2", "disabled": true, "reason": "Moved up a key stage early; left in July"}"#))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let turing: serde_json::Value = serde_json::from_str(&page.body).expect("json");
    assert_eq!(turing["profile"], "ks2");
    assert_eq!(turing["profile_set_by_hand"], true);
    assert_eq!(turing["disabled"], true);
    let left = school
        .store
        .search_people(&PeopleQuery {
            status: PeopleStatus::Disabled,
            limit: 10,
            ..PeopleQuery::default()
        })
        .await
        .expect("search");
    assert_eq!(left.total, 1);
    // The OpenAPI document describes every API route of this area with its bodies.
    let doc = school.browser().get("/api/v1/openapi.json").await;
    let doc: serde_json::Value = serde_json::from_str(&doc.body).expect("OpenAPI JSON");
    for (method, path) in [
        ("get", "/api/v1/people"),
        ("patch", "/api/v1/people/{username}"),
        ("post", "/api/v1/networks"),
        ("delete", "/api/v1/devices/{name}"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation["responses"].is_object(), "{method} {path}");
        assert!(
            operation["requestBody"].is_object()
                || operation["responses"]["200"]["content"].is_object()
                || method == "delete",
            "{method} {path} describes no body: {operation}"
        );
    }
    // Staff tokens reach none of it.
    school.account("s.teacher", "staff", false).await;
    let mut teacher = school.signed_in("s.teacher").await;
    let theirs = teacher.make_token("mine").await;
    let page = script
        .call(
            Method::GET,
            "/api/v1/people",
            &[("authorization", &format!("Bearer {theirs}"))],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}
