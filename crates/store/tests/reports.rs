//! The reports' queries: a seeded week and term through the real SQLite
//! store into the pure report builders.

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use records::Role;
use records::incident::NewIncident;
use records::procedure::IncidentType;
use records::registers::{Entry, RegisterEntry};
use reports::governors::governors_report;
use reports::weekly::weekly_report;
use reports::{Period, Term};
use store::sqlite::SqliteStore;
use store::{ActivityEvent, ImportedPerson, PersonKind, Source, Store};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    (dir, store)
}

fn at(day: &str, hour: i64) -> Timestamp {
    reports::period::day_start(day.parse().expect("date")) + SignedDuration::from_hours(hour)
}

fn event(
    at: Timestamp,
    who: Option<&str>,
    host: &str,
    categories: &str,
    verdict: &str,
) -> ActivityEvent {
    ActivityEvent {
        at,
        source: Source::Proxy,
        client_ip: "10.0.5.17".into(),
        username: who.map(str::to_owned),
        device: None,
        profile: "ks2".into(),
        method: "GET".into(),
        url: format!("https://{host}/"),
        host: host.into(),
        search_term: None,
        categories: categories.into(),
        verdict: verdict.into(),
        rule: "category".into(),
        status: Some(403),
        bytes: 0,
        duration_ms: 1,
        reference: None,
    }
}

fn person(username: &str, kind: PersonKind) -> ImportedPerson {
    ImportedPerson {
        username: username.into(),
        mis_id: None,
        given_name: "Amara".into(),
        family_name: format!("Okafor-{username}"),
        year_group: (kind == PersonKind::Pupil).then(|| "Year 6".into()),
        class_group: (kind == PersonKind::Pupil).then(|| "6R".into()),
        email: None,
        date_of_birth: None,
        kind,
        profile: "ks2".into(),
    }
}

#[tokio::test]
async fn a_seeded_week_is_counted_in_sql() {
    let (_dir, store) = store().await;
    store
        .import_people(&[person("amara.o", PersonKind::Pupil)], "admin", "sims.csv")
        .await
        .expect("import");
    let mut events = Vec::new();
    for i in 0..6 {
        events.push(event(
            at("2026-11-02", 9 + i),
            Some("amara.o"),
            "adult.example",
            "pornography",
            "block",
        ));
    }
    events.push(event(
        at("2026-11-04", 10),
        Some("amara.o"),
        "vpn.example",
        "vpn",
        "block",
    ));
    events.push(event(
        at("2026-11-04", 11),
        None,
        "bet.example",
        "gambling",
        "block",
    ));
    let mut search = event(
        at("2026-11-05", 10),
        Some("amara.o"),
        "www.google.com",
        "",
        "safe-search",
    );
    search.search_term = Some("=how to get round the filter".into());
    events.push(search);
    // Allowed traffic and the week before and after are not in the report.
    events.push(event(
        at("2026-11-03", 9),
        Some("amara.o"),
        "bbc.co.uk",
        "news",
        "allow",
    ));
    events.push(event(
        at("2026-11-01", 23),
        Some("amara.o"),
        "adult.example",
        "pornography",
        "block",
    ));
    events.push(event(
        at("2026-11-09", 0),
        Some("amara.o"),
        "adult.example",
        "pornography",
        "block",
    ));
    store.record_activity(&events).await.expect("record");

    let week = Period::week_from(date(2026, 11, 2));
    let input = store::reports::weekly_input(&store, week, "Dallimore Primary")
        .await
        .expect("rows");
    let report = weekly_report(week, &input);
    assert_eq!(report.total_attempts, 8);
    let amara = &report.people[0];
    assert_eq!(amara.name, "Amara Okafor-amara.o");
    assert_eq!(amara.year_group.as_deref(), Some("Year 6"));
    assert_eq!(amara.attempts, 7);
    assert!(amara.repeated && amara.circumvention);
    assert_eq!(amara.first, at("2026-11-02", 9));
    assert_eq!(amara.top_sites[0], ("adult.example".into(), 6));
    assert_eq!(
        amara.search_terms,
        vec![("=how to get round the filter".into(), 1)]
    );
    let address = report
        .people
        .iter()
        .find(|p| p.who == "address 10.0.5.17")
        .expect("by address");
    assert_eq!(address.attempts, 1);
    assert!(
        report
            .to_csv()
            .contains(",'=how to get round the filter (1)")
    );

    // Reproducible: later traffic does not change a past week.
    store
        .record_activity(&[event(
            at("2026-11-20", 9),
            Some("amara.o"),
            "adult.example",
            "pornography",
            "block",
        )])
        .await
        .expect("more");
    let again = weekly_report(
        week,
        &store::reports::weekly_input(&store, week, "Dallimore Primary")
            .await
            .expect("rows"),
    );
    assert_eq!(again.to_csv(), report.to_csv());
    assert_eq!(again.to_html(), report.to_html());
}

fn incident(kind: IncidentType, when: Timestamp) -> NewIncident {
    NewIncident {
        concern_id: None,
        kind,
        opened_by: "d.lead".into(),
        role: Role::Dsl,
        opened_at: when,
        summary: "Found in a filtering check".into(),
        about_staff: false,
    }
}

fn register(at: Timestamp, role: Role, entry: Entry) -> RegisterEntry {
    RegisterEntry {
        id: 0,
        actor: "d.lead".into(),
        role,
        at,
        entry,
    }
}

#[tokio::test]
async fn a_term_for_governors_is_counted_and_anonymous() {
    let (_dir, store) = store().await;
    let staff: Vec<ImportedPerson> = (0..6)
        .map(|i| person(&format!("staff{i}"), PersonKind::Staff))
        .collect();
    store
        .import_people(&staff, "admin", "sims.csv")
        .await
        .expect("import");
    for i in 0..7 {
        store
            .open_incident(&incident(IncidentType::Cyberbullying, at("2026-10-01", i)))
            .await
            .expect("open");
    }
    store
        .open_incident(&incident(
            IncidentType::FilteringBreach,
            at("2026-10-02", 9),
        ))
        .await
        .expect("open");
    for i in 0..5 {
        store
            .open_incident(&incident(IncidentType::Cyberbullying, at("2026-05-01", i)))
            .await
            .expect("open");
    }
    for i in 0..6 {
        store
            .add_register_entry(&register(
                at("2026-10-05", 9),
                Role::Dsl,
                Entry::Training {
                    person: format!("staff{i}"),
                    course: "Online safety".into(),
                    completed_on: date(2026, 9, 10),
                    valid_months: 12,
                    provider: "LA".into(),
                },
            ))
            .await
            .expect("training");
    }
    for (i, result) in [
        "passed",
        "failed: ks2 reached adult content",
        "passed",
        "passed",
        "passed",
        "passed",
    ]
    .iter()
    .enumerate()
    {
        store
            .add_register_entry(&register(
                at("2026-10-10", i as i64),
                Role::Technician,
                Entry::FilteringCheck {
                    tested: "self-test ks2".into(),
                    result: (*result).into(),
                    actions: "none needed".into(),
                },
            ))
            .await
            .expect("check");
    }
    let mut blocked = Vec::new();
    for i in 0..9 {
        blocked.push(event(
            at("2026-10-12", i),
            Some("staff1"),
            "bet.example",
            "gambling",
            "block",
        ));
    }
    blocked.push(event(
        at("2026-10-12", 20),
        Some("staff1"),
        "adult.example",
        "pornography,adult-themes",
        "block",
    ));
    store.record_activity(&blocked).await.expect("record");

    let term = Term::parse("2026-autumn").expect("term");
    let input = store::reports::governors_input(&store, term, "Stanley Crook Primary")
        .await
        .expect("input");
    let report = governors_report(&input);
    let csv = report.to_csv();
    assert!(
        csv.contains("Incidents,Cyberbullying,7,5,up 2\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Incidents,Filtering breach,fewer than 5,0,not shown (small numbers)\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Incidents,All,between 8 and 11,5,not shown (small numbers)\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Blocked attempts,gambling,9,0,up 9\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Blocked attempts,pornography,fewer than 5,0,"),
        "{csv}"
    );
    assert_eq!(report.checks_done.text(), "6");
    assert_eq!(report.checks_failed.text(), "fewer than 5");
    assert_eq!(report.training, "6 of 6 (100%)");
    let html = report.to_html();
    assert!(
        !html.contains("staff1") && !html.contains("Okafor"),
        "governors never see names"
    );

    // Entries after the term do not change it.
    store
        .open_incident(&incident(IncidentType::Cyberbullying, at("2027-01-05", 9)))
        .await
        .expect("open");
    let again = governors_report(
        &store::reports::governors_input(&store, term, "Stanley Crook Primary")
            .await
            .expect("input"),
    );
    assert_eq!(again.to_csv(), csv);
}

#[tokio::test]
async fn register_and_report_dates_are_the_school_s_own() {
    let (_dir, store) = store().await;
    // 21:30 UTC on 9 October: still the 9th in London, already the 10th
    // in Dubai (a British international school, UTC+4).
    let late = "2026-10-09T21:30:00Z".parse::<Timestamp>().expect("time");
    let training = register(
        late,
        Role::Dsl,
        Entry::Training {
            person: "staff1".into(),
            course: "Online safety".into(),
            completed_on: date(2026, 10, 10),
            valid_months: 12,
            provider: "LA".into(),
        },
    );
    // With the default policy (Europe/London) the 10th is tomorrow.
    let refused = store.add_register_entry(&training).await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("in the future")),
        "{refused:?}"
    );
    let mut policy = policy::defaults::default_policy();
    policy.school.timezone = "Asia/Dubai".into();
    store
        .save_policy(&policy, "dsl", "the school is in Dubai")
        .await
        .expect("policy");
    store
        .add_register_entry(&training)
        .await
        .expect("the 10th is today in Dubai");

    // The governors' report dates the last filtering check in the term's zone.
    store
        .add_register_entry(&register(
            late,
            Role::Technician,
            Entry::FilteringCheck {
                tested: "self-test ks2".into(),
                result: "passed".into(),
                actions: "none needed".into(),
            },
        ))
        .await
        .expect("check");
    let dubai = jiff::tz::TimeZone::get("Asia/Dubai").expect("zone");
    let term = Term::parse("2026-autumn")
        .expect("term")
        .in_zone(reports::period::SchoolZone::new(&dubai));
    let input = store::reports::governors_input(&store, term, "Dubai British School")
        .await
        .expect("input");
    assert_eq!(input.last_check, Some(date(2026, 10, 10)));
    let london = Term::parse("2026-autumn").expect("term");
    let input = store::reports::governors_input(&store, london, "Dubai British School")
        .await
        .expect("input");
    assert_eq!(input.last_check, Some(date(2026, 10, 9)));
}
