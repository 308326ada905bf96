//! The console's people records: search and paging in SQL, changes by hand
//! with a reason, imports in one transaction that keep hand-set profiles,
//! and leavers disabled with who and when.

use store::sqlite::SqliteStore;
use store::{
    ImportedPerson, PeopleQuery, PeopleStatus, Person, PersonChange, PersonKind, Store, StoreError,
};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    (dir, store)
}

fn pupil(username: &str, given: &str, family: &str, year: &str, class: &str) -> ImportedPerson {
    ImportedPerson {
        username: username.into(),
        mis_id: Some(format!("A{username}")),
        given_name: given.into(),
        family_name: family.into(),
        year_group: Some(year.into()),
        class_group: Some(class.into()),
        email: None,
        kind: PersonKind::Pupil,
        date_of_birth: None,
        profile: "ks2".into(),
    }
}

#[tokio::test]
async fn an_import_adds_changes_and_keeps_hand_set_profiles() {
    let (_d, store) = store().await;
    let first = [
        pupil("ada.lovelace", "Ada", "Lovelace", "Year 5", "5L"),
        pupil("alan.turing", "Alan", "Turing", "Year 5", "5T"),
    ];
    let outcome = store
        .import_people(&first, "admin", "sims.csv")
        .await
        .expect("import");
    assert_eq!(
        (outcome.added, outcome.changed, outcome.unchanged),
        (2, 0, 0)
    );
    let ada = store
        .person_record("ada.lovelace")
        .await
        .expect("read")
        .expect("there");
    assert_eq!(ada.display_name, "Ada Lovelace");
    assert_eq!(ada.year_group.as_deref(), Some("Year 5"));
    assert!(!ada.profile_set_by_hand);

    // The filter's own view still works.
    let people = store.people().await.expect("people");
    assert_eq!(people.len(), 2);
    assert_eq!(people[0].profile, "ks2");

    store
        .change_person(
            "ada.lovelace",
            &PersonChange {
                profile: Some("staff".into()),
                ..PersonChange::default()
            },
            "admin",
            "Digital leader: needs staff access, agreed by the DSL",
        )
        .await
        .expect("change");
    let mut again = first.clone();
    again[0].profile = "eyfs-ks1".into();
    again[1].class_group = Some("5X".into());
    let outcome = store
        .import_people(&again, "admin", "sims.csv")
        .await
        .expect("import");
    assert_eq!(
        (
            outcome.added,
            outcome.changed,
            outcome.unchanged,
            outcome.kept_profiles
        ),
        (0, 1, 1, 1)
    );
    let ada = store
        .person_record("ada.lovelace")
        .await
        .expect("read")
        .expect("there");
    assert_eq!(ada.profile, "staff");
    assert!(ada.profile_set_by_hand);

    let trail = store.audit_trail(10).await.expect("audit");
    assert_eq!(trail[0].action, "people.import");
    assert!(
        trail[0].detail.contains("0 added, 1 changed, 1 unchanged"),
        "{}",
        trail[0].detail
    );
    assert_eq!(trail[1].action, "person.change");
    assert!(
        trail[1].detail.contains("Digital leader"),
        "{}",
        trail[1].detail
    );
    assert!(
        trail[1].detail.contains("profile 'ks2' → 'staff'"),
        "{}",
        trail[1].detail
    );
}

#[tokio::test]
async fn a_failed_import_stores_nothing() {
    let (_d, store) = store().await;
    let mut bad = pupil("b.two", "Bea", "Two", "Year 3", "3A");
    // The database refuses an empty username, after the first row went in.
    bad.username = " ".into();
    let rows = [pupil("a.one", "Al", "One", "Year 3", "3A"), bad];
    store
        .import_people(&rows, "admin", "bad.csv")
        .await
        .expect_err("refused");
    assert!(store.person_records().await.expect("records").is_empty());
    assert!(store.audit_trail(10).await.expect("audit").is_empty());
}

#[tokio::test]
async fn changes_need_a_reason_and_unknown_people_are_not_found() {
    let (_d, store) = store().await;
    store
        .import_people(&[pupil("a.one", "Al", "One", "Year 3", "3A")], "admin", "f")
        .await
        .expect("import");
    let change = PersonChange {
        profile: Some("staff".into()),
        ..PersonChange::default()
    };
    assert!(matches!(
        store.change_person("a.one", &change, "admin", " ").await,
        Err(StoreError::ReasonRequired)
    ));
    assert!(matches!(
        store.change_person("nobody", &change, "admin", "why").await,
        Err(StoreError::NotFound { .. })
    ));
    let same = PersonChange {
        profile: None,
        class_group: Some(Some("3A".into())),
        ..PersonChange::default()
    };
    assert!(matches!(
        store.change_person("a.one", &same, "admin", "why").await,
        Err(StoreError::NoChange)
    ));
}

#[tokio::test]
async fn leavers_are_disabled_with_who_and_when_and_can_come_back() {
    let (_d, store) = store().await;
    store
        .import_people(
            &[
                pupil("a.one", "Al", "One", "Year 6", "6A"),
                pupil("b.two", "Bea", "Two", "Year 6", "6A"),
            ],
            "admin",
            "f",
        )
        .await
        .expect("import");
    // One unknown name refuses the lot.
    assert!(matches!(
        store
            .set_people_disabled(&["a.one".into(), "ghost".into()], true, "admin", "left")
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        !store
            .person_record("a.one")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    let n = store
        .set_people_disabled(&["a.one".into()], true, "t.admin", "Left in July")
        .await
        .expect("disable");
    assert_eq!(n, 1);
    let a = store.person_record("a.one").await.unwrap().unwrap();
    assert!(a.disabled);
    assert_eq!(a.disabled_by.as_deref(), Some("t.admin"));
    assert!(a.disabled_at.is_some());
    // Still there for the filter, disabled.
    let people: Vec<Person> = store.people().await.unwrap();
    assert!(people.iter().any(|p| p.username == "a.one" && p.disabled));
    store
        .set_people_disabled(&["a.one".into()], false, "t.admin", "Came back")
        .await
        .expect("enable");
    let a = store.person_record("a.one").await.unwrap().unwrap();
    assert!(!a.disabled && a.disabled_at.is_none());
    assert_eq!(
        store.audit_trail(1).await.unwrap()[0].action,
        "person.enable"
    );

    // The command line's disable notes who and when too.
    store
        .disable_person("b.two", "cli.admin")
        .await
        .expect("disable");
    let b = store.person_record("b.two").await.unwrap().unwrap();
    assert!(b.disabled && b.disabled_at.is_some());
    assert_eq!(b.disabled_by.as_deref(), Some("cli.admin"));
    // And saving through the filter's own record keeps the MIS fields.
    let mut plain = store
        .people()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.username == "a.one")
        .unwrap();
    plain.profile = "staff".into();
    store.save_person(&plain, "cli.admin").await.expect("save");
    let a = store.person_record("a.one").await.unwrap().unwrap();
    assert_eq!(a.profile, "staff");
    assert_eq!(a.year_group.as_deref(), Some("Year 6"));
    assert_eq!(a.mis_id.as_deref(), Some("Aa.one"));
}

#[tokio::test]
async fn search_filters_and_pages_in_the_database() {
    let (_d, store) = store().await;
    let mut rows = Vec::new();
    for i in 0..120 {
        let year = if i % 2 == 0 { "Year 3" } else { "Year 4" };
        rows.push(pupil(
            &format!("p{i:03}"),
            &format!("Given{i:03}"),
            &format!("Family{i:03}"),
            year,
            if i % 4 < 2 { "Oak" } else { "Ash" },
        ));
    }
    rows.push(pupil("percent", "Per%cy", "Under_score", "Year 3", "Oak"));
    store
        .import_people(&rows, "admin", "f")
        .await
        .expect("import");

    let page = store
        .search_people(&PeopleQuery {
            year_group: Some("Year 3".into()),
            limit: 25,
            offset: 50,
            ..PeopleQuery::default()
        })
        .await
        .expect("search");
    assert_eq!(page.total, 61);
    assert_eq!(page.people.len(), 11);
    assert_eq!(page.people[0].family_name, "Family100");

    let page = store
        .search_people(&PeopleQuery {
            text: Some("given007".into()),
            limit: 25,
            ..PeopleQuery::default()
        })
        .await
        .expect("search");
    assert_eq!(page.total, 1);
    assert_eq!(page.people[0].username, "p007");

    // Wildcards in the search are taken literally.
    let page = store
        .search_people(&PeopleQuery {
            text: Some("%".into()),
            limit: 25,
            ..PeopleQuery::default()
        })
        .await
        .expect("search");
    assert_eq!(page.total, 1);

    let page = store
        .search_people(&PeopleQuery {
            class_group: Some("Ash".into()),
            year_group: Some("Year 4".into()),
            limit: 1000,
            ..PeopleQuery::default()
        })
        .await
        .expect("search");
    assert!(
        page.people
            .iter()
            .all(|p| p.class_group.as_deref() == Some("Ash")
                && p.year_group.as_deref() == Some("Year 4"))
    );
    assert_eq!(page.total, 30);

    store
        .set_people_disabled(&["p001".into()], true, "admin", "left")
        .await
        .unwrap();
    let page = store
        .search_people(&PeopleQuery {
            status: PeopleStatus::Disabled,
            limit: 10,
            ..PeopleQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let (years, classes) = store.people_groups().await.unwrap();
    assert_eq!(years, ["Year 3", "Year 4"]);
    assert_eq!(classes, ["Ash", "Oak"]);
}

/// 50,000 people (issue 5's benchmark size): a page of a search, the
/// last page and a year group's page come from the database's indexes, so
/// each answers in well under the 100 ms the console aims for (measured
/// here generously, as tests run unoptimised beside other work).
#[tokio::test]
async fn fifty_thousand_people_page_quickly() {
    let (_d, store) = store().await;
    let rows: Vec<ImportedPerson> = (0..50_000)
        .map(|i| {
            pupil(
                &format!("p{i:05}"),
                &format!("Given{i:05}"),
                &format!("Family{:05}", (i * 7919) % 50_000),
                &format!("Year {}", i % 13 + 1),
                &format!("C{}", i % 60),
            )
        })
        .collect();
    store
        .import_people(&rows, "admin", "big")
        .await
        .expect("import");
    for query in [
        PeopleQuery {
            limit: 50,
            ..PeopleQuery::default()
        },
        PeopleQuery {
            limit: 50,
            offset: 49_950,
            ..PeopleQuery::default()
        },
        PeopleQuery {
            year_group: Some("Year 7".into()),
            class_group: Some("C7".into()),
            limit: 50,
            ..PeopleQuery::default()
        },
        PeopleQuery {
            text: Some("family04".into()),
            limit: 50,
            ..PeopleQuery::default()
        },
    ] {
        let started = std::time::Instant::now();
        let page = store.search_people(&query).await.expect("search");
        let took = started.elapsed();
        assert!(!page.people.is_empty(), "{query:?}");
        assert!(took.as_millis() < 1500, "{query:?} took {took:?}");
        eprintln!(
            "{query:?}: {} of {} in {took:?}",
            page.people.len(),
            page.total
        );
    }
}

#[tokio::test]
async fn a_date_of_birth_is_imported_kept_when_the_file_omits_it_and_not_audited() {
    let (_d, store) = store().await;
    let mut ada = pupil("ada.lovelace", "Ada", "Lovelace", "Year 5", "5L");
    ada.date_of_birth = Some("2015-12-10".parse().unwrap());
    store
        .import_people(std::slice::from_ref(&ada), "admin", "sims.csv")
        .await
        .expect("import");
    let read = |s: &SqliteStore| {
        let s = s.clone();
        async move {
            s.person_record("ada.lovelace")
                .await
                .expect("read")
                .expect("there")
                .date_of_birth
        }
    };
    assert_eq!(read(&store).await, Some("2015-12-10".parse().unwrap()));
    // A later file without the column leaves it as it was.
    ada.date_of_birth = None;
    let outcome = store
        .import_people(std::slice::from_ref(&ada), "admin", "sims.csv")
        .await
        .expect("import");
    assert_eq!(outcome.unchanged, 1);
    assert_eq!(read(&store).await, Some("2015-12-10".parse().unwrap()));
    // A corrected one replaces it; the audit says so without the date.
    ada.date_of_birth = Some("2015-12-11".parse().unwrap());
    let outcome = store
        .import_people(std::slice::from_ref(&ada), "admin", "sims.csv")
        .await
        .expect("import");
    assert_eq!(outcome.changed, 1);
    assert_eq!(read(&store).await, Some("2015-12-11".parse().unwrap()));
    let audit = store.audit_trail(50).await.expect("audit");
    assert!(
        audit.iter().all(|e| !e.detail.contains("2015")),
        "dates of birth stay out of the audit"
    );
}
