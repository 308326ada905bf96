//! Signals, alert routing, throttling and digests, with the clock in the
//! test's hands (every time is a fixed instant passed in).

use std::sync::LazyLock;

use classify::taxonomy::{Category, Group};
use jiff::{SignedDuration, Timestamp};
use monitor::alert::REPEATED_CATEGORY;
use monitor::{
    Activity, Contact, ContactRole, Digest, Matcher, Monitor, Outcome, Period, Reason, Route,
    Rules, SchoolHours, SignalKind, SignalSettings, Subject, TriageState, Watcher,
};

/// Compiled once: each test takes a copy.
static STARTER: LazyLock<Matcher> = LazyLock::new(Matcher::starter);

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

/// Monday to Friday, 08:00 to 17:00 in a school in England.
fn london() -> SchoolHours {
    SchoolHours::weekdays(jiff::tz::TimeZone::get("Europe/London").expect("zone"))
}

fn contact(account: &str, role: ContactRole) -> Contact {
    Contact {
        account: account.into(),
        role,
    }
}

fn in_hours() -> Vec<Contact> {
    vec![
        contact("dsl.okafor", ContactRole::Dsl),
        contact("deputy.byrne", ContactRole::DeputyDsl),
    ]
}

fn out_of_hours() -> Vec<Contact> {
    vec![
        contact("deputy.byrne", ContactRole::DeputyDsl),
        contact("head.ahmed", ContactRole::Other),
        contact("dsl.okafor", ContactRole::Dsl),
    ]
}

fn school_monitor() -> Monitor {
    Monitor::new(
        Watcher::new(STARTER.clone(), SignalSettings::default()),
        Rules::new(london(), in_hours(), out_of_hours()),
        1,
    )
}

/// A search by an invented pupil on a school laptop.
fn search(id: i64, when: &str, person: &str, term: &str) -> Activity {
    Activity {
        id,
        at: at(when),
        person: Some(person.into()),
        device: Some("LAPTOP-07".into()),
        client_ip: "10.1.2.3".into(),
        url: format!(
            "https://www.google.co.uk/search?q={}",
            term.replace(' ', "+")
        ),
        host: "www.google.co.uk".into(),
        search_term: Some(term.into()),
        categories: vec!["search-engines".into()],
        blocked: false,
    }
}

fn blocked(id: i64, when: &str, person: Option<&str>, host: &str, category: &str) -> Activity {
    Activity {
        id,
        at: at(when),
        person: person.map(String::from),
        device: Some("IPAD-22".into()),
        client_ip: "10.1.9.9".into(),
        url: format!("https://{host}/"),
        host: host.into(),
        search_term: None,
        categories: vec![category.into()],
        blocked: true,
    }
}

fn raised(outcomes: &[Outcome]) -> Vec<&monitor::Alert> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Raised(alert) => Some(alert.as_ref()),
            Outcome::Folded { .. } => None,
        })
        .collect()
}

// 2026-11-23 is a Monday; in November the UK is on GMT, so UTC is local time.
const MONDAY_MORNING: &str = "2026-11-23T10:15:00Z";
const MONDAY_NIGHT: &str = "2026-11-23T22:40:00Z";
const SATURDAY_NOON: &str = "2026-11-28T12:00:00Z";

#[test]
fn a_severe_search_in_school_hours_goes_to_the_dsl_and_deputies_at_once() {
    let mut monitor = school_monitor();
    let outcomes = monitor.observe(
        &search(1, MONDAY_MORNING, "pupil.ava", "how to kill myself"),
        at(MONDAY_MORNING),
    );
    let alerts = raised(&outcomes);
    let alert = alerts
        .iter()
        .find(|a| a.severity.get() == 5)
        .expect("a severity 5 alert");
    assert_eq!(
        alert.route,
        Route::Now {
            contacts: in_hours()
        }
    );
    assert_eq!(alert.category, "self-harm");
    assert_eq!(alert.subject, Subject::Person("pupil.ava".into()));
    assert_eq!(alert.device.as_deref(), Some("LAPTOP-07"));
    assert_eq!(alert.client_ip, "10.1.2.3");
    assert_eq!(alert.first_at, at(MONDAY_MORNING));
    assert_eq!(alert.events, vec![1]);
    assert_eq!(alert.state, TriageState::New);
    match &alert.reason {
        Reason::Phrase {
            key,
            phrase,
            language,
            term,
        } => {
            assert_eq!(phrase, "how to kill myself");
            assert_eq!(key, "self-harm/en/how to kill myself");
            assert_eq!(language, "en");
            assert_eq!(term, "how to kill myself");
        }
        other => panic!("expected a phrase alert, got {other:?}"),
    }
    // "kill myself" is in the same search: one event, one alert, counted once.
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(alert.count, 1);
    let (from, to) = alert.surrounding(SignedDuration::from_mins(15));
    assert_eq!(from, at("2026-11-23T10:00:00Z"));
    assert_eq!(to, at("2026-11-23T10:30:00Z"));
}

#[test]
fn out_of_hours_the_schools_contact_order_is_used() {
    let mut monitor = school_monitor();
    for (id, when) in [(1, MONDAY_NIGHT), (2, SATURDAY_NOON)] {
        let person = format!("pupil.{id}");
        let outcomes = monitor.observe(&search(id, when, &person, "i want to die"), at(when));
        let alert = raised(&outcomes)[0].clone();
        assert_eq!(alert.severity.get(), 4);
        assert_eq!(
            alert.route,
            Route::OutOfHours {
                order: out_of_hours()
            },
            "{when}"
        );
    }
}

#[test]
fn a_closed_day_is_out_of_hours_and_summer_time_is_local_time() {
    let mut rules = Rules::new(london(), in_hours(), out_of_hours());
    let severe = monitor::Severity::new(5).unwrap();
    // 07:30 UTC in July is 08:30 in London: open.
    assert!(
        rules
            .route(severe, at("2026-07-06T07:30:00Z"))
            .is_immediate()
    );
    assert_eq!(
        rules.route(severe, at("2026-07-06T07:30:00Z")),
        Route::Now {
            contacts: in_hours()
        }
    );
    // 16:30 UTC in July is 17:30 in London: closed.
    assert_eq!(
        rules.route(severe, at("2026-07-06T16:30:00Z")),
        Route::OutOfHours {
            order: out_of_hours()
        }
    );
    rules.hours.closed.push("2026-11-23".parse().unwrap());
    assert_eq!(
        rules.route(severe, at(MONDAY_MORNING)),
        Route::OutOfHours {
            order: out_of_hours()
        }
    );
    // With no out-of-hours contacts, the DSL and deputies still hear.
    rules.out_of_hours.clear();
    assert_eq!(
        rules.route(severe, at(MONDAY_NIGHT)),
        Route::Now {
            contacts: in_hours()
        }
    );
}

#[test]
fn school_hours_are_the_schools_own() {
    // A British international school in Dubai (UTC+4): 05:30 UTC on a
    // Monday is 09:30 there, open, but 05:30 in London, closed; 14:00 UTC
    // is 18:00 in Dubai, closed, but 14:00 in London, open.
    let dubai = SchoolHours::weekdays(jiff::tz::TimeZone::get("Asia/Dubai").expect("zone"));
    let rules = Rules::new(dubai, in_hours(), out_of_hours());
    let london_rules = Rules::new(london(), in_hours(), out_of_hours());
    let severe = monitor::Severity::new(5).unwrap();
    let morning = at("2026-11-23T05:30:00Z");
    let afternoon = at("2026-11-23T14:00:00Z");
    assert!(rules.hours.is_open(morning) && !london_rules.hours.is_open(morning));
    assert!(!rules.hours.is_open(afternoon) && london_rules.hours.is_open(afternoon));
    assert_eq!(
        rules.route(severe, afternoon),
        Route::OutOfHours {
            order: out_of_hours()
        }
    );
    assert_eq!(
        london_rules.route(severe, afternoon),
        Route::Now {
            contacts: in_hours()
        }
    );
}

#[test]
fn lower_severities_wait_for_digests() {
    let rules = Rules::new(london(), in_hours(), out_of_hours());
    let level = |n| monitor::Severity::new(n).unwrap();
    assert_eq!(
        rules.route(level(3), at(MONDAY_MORNING)),
        Route::Digest(Period::Daily)
    );
    assert_eq!(
        rules.route(level(2), at(MONDAY_NIGHT)),
        Route::Digest(Period::Weekly)
    );
    assert_eq!(
        rules.route(level(1), at(MONDAY_MORNING)),
        Route::Digest(Period::Weekly)
    );
}

#[test]
fn repeats_by_one_person_in_one_category_fold_into_one_alert() {
    let mut monitor = school_monitor();
    let mut first = None;
    // Ten searches for "suicide" over 50 minutes: one alert counting ten.
    for i in 0..10 {
        let when = at(MONDAY_MORNING) + SignedDuration::from_mins(5 * i);
        let mut activity = search(100 + i, MONDAY_MORNING, "pupil.ben", "suicide");
        activity.at = when;
        let outcomes = monitor.observe(&activity, when);
        assert_eq!(outcomes.len(), 1, "{outcomes:?}");
        match (&outcomes[0], first) {
            (Outcome::Raised(alert), None) => first = Some(alert.id),
            (
                Outcome::Folded {
                    alert,
                    count,
                    last_at,
                    event,
                },
                Some(id),
            ) => {
                assert_eq!(*alert, id);
                assert_eq!(*count, i as u32 + 1);
                assert_eq!(*last_at, when);
                assert_eq!(*event, 100 + i);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Another pupil's search is their own alert.
    let other = monitor.observe(
        &search(200, MONDAY_MORNING, "pupil.cara", "suicide"),
        at(MONDAY_MORNING),
    );
    assert!(matches!(other[0], Outcome::Raised(_)));
    // After the throttle window (an hour from the first), a new alert.
    let later = at(MONDAY_MORNING) + SignedDuration::from_mins(61);
    let mut activity = search(300, MONDAY_MORNING, "pupil.ben", "suicide");
    activity.at = later;
    let outcomes = monitor.observe(&activity, later);
    let alert = match &outcomes[0] {
        Outcome::Raised(alert) => alert,
        other => panic!("expected a new alert, got {other:?}"),
    };
    assert_ne!(Some(alert.id), first);
    assert_eq!(alert.count, 1);
}

#[test]
fn a_more_severe_repeat_is_a_new_alert() {
    let mut monitor = school_monitor();
    let first = monitor.observe(
        &search(1, MONDAY_MORNING, "pupil.dan", "suicide"),
        at(MONDAY_MORNING),
    );
    assert_eq!(raised(&first)[0].route, Route::Digest(Period::Daily));
    let outcomes = monitor.observe(
        &search(2, MONDAY_MORNING, "pupil.dan", "suicide methods"),
        at(MONDAY_MORNING),
    );
    let worse = raised(&outcomes);
    assert!(
        worse
            .iter()
            .any(|a| a.severity.get() == 5 && a.route.is_immediate()),
        "{outcomes:?}"
    );
}

#[test]
fn the_folded_alert_keeps_its_events_for_the_surrounding_activity() {
    let mut monitor = school_monitor();
    let start = at(MONDAY_MORNING);
    let mut alert_id = None;
    for i in 0..3 {
        let mut activity = search(10 + i, MONDAY_MORNING, "pupil.eve", "i hate my life");
        activity.at = start + SignedDuration::from_mins(i);
        for outcome in monitor.observe(&activity, activity.at) {
            if let Outcome::Raised(alert) = outcome {
                alert_id = Some(alert.id);
            }
        }
    }
    assert!(alert_id.is_some());
    assert_eq!(monitor.open_alerts(), 1);
    monitor.tidy(start + SignedDuration::from_hours(2));
    assert_eq!(monitor.open_alerts(), 0);
}

#[test]
fn help_sites_and_exclusions_raise_nothing() {
    let mut monitor = school_monitor();
    let mut on_help_site = search(1, MONDAY_MORNING, "pupil.fin", "i want to kill myself");
    on_help_site.host = "www.childline.org.uk".into();
    on_help_site.url = "https://www.childline.org.uk/search?q=i+want+to+kill+myself".into();
    assert!(
        monitor
            .observe(&on_help_site, at(MONDAY_MORNING))
            .is_empty()
    );
    let help_seeking = search(
        2,
        MONDAY_MORNING,
        "pupil.fin",
        "how to help a friend who self harms",
    );
    assert!(
        monitor
            .observe(&help_seeking, at(MONDAY_MORNING))
            .is_empty()
    );
    // But a method-seeking search is heard wherever it is typed.
    let mut method = search(3, MONDAY_MORNING, "pupil.fin", "how to kill myself");
    method.host = "www.childline.org.uk".into();
    method.url = "https://www.childline.org.uk/search?q=how+to+kill+myself".into();
    assert!(
        !monitor.observe(&method, at(MONDAY_MORNING)).is_empty(),
        "a severity-5 search on a help site must still reach the DSL"
    );
}

#[test]
fn blocked_attempts_raise_alerts_by_category() {
    let mut monitor = school_monitor();
    let outcomes = monitor.observe(
        &blocked(
            1,
            MONDAY_MORNING,
            Some("pupil.gus"),
            "bad.example",
            "extremism",
        ),
        at(MONDAY_MORNING),
    );
    let alert = raised(&outcomes)[0].clone();
    assert_eq!(alert.category, "extremism");
    assert_eq!(alert.severity.get(), 3);
    assert_eq!(
        alert.reason,
        Reason::Blocked {
            url: "https://bad.example/".into()
        }
    );
    // Categories without a rule are logged, not alerted.
    let quiet = monitor.observe(
        &blocked(
            2,
            MONDAY_MORNING,
            Some("pupil.gus"),
            "game.example",
            "games",
        ),
        at(MONDAY_MORNING),
    );
    assert!(quiet.is_empty(), "{quiet:?}");
}

#[test]
fn circumvention_is_a_signal_even_when_allowed() {
    let mut watcher = Watcher::new(STARTER.clone(), SignalSettings::default());
    let mut activity = blocked(1, MONDAY_MORNING, None, "vpn.example", "vpn");
    activity.blocked = false;
    let signals = watcher.observe(&activity);
    assert_eq!(signals.len(), 1);
    assert_eq!(
        signals[0].kind,
        SignalKind::Circumvention {
            category: "vpn".into()
        }
    );
    // Without a person, the device is the subject.
    assert_eq!(signals[0].subject, Subject::Device("IPAD-22".into()));
}

#[test]
fn repeated_blocked_attempts_in_the_window_are_a_signal() {
    let mut monitor = school_monitor();
    let start = at(MONDAY_MORNING);
    let mut repeated = Vec::new();
    // Five blocked attempts in four minutes (games: no per-attempt alert).
    for i in 0..5 {
        let mut activity = blocked(
            i,
            MONDAY_MORNING,
            Some("pupil.hal"),
            "game.example",
            "games",
        );
        activity.at = start + SignedDuration::from_mins(i);
        for outcome in monitor.observe(&activity, activity.at) {
            repeated.push((i, outcome));
        }
    }
    assert_eq!(repeated.len(), 1, "{repeated:?}");
    let (i, Outcome::Raised(alert)) = &repeated[0] else {
        panic!("expected an alert: {repeated:?}");
    };
    assert_eq!(*i, 4);
    assert_eq!(alert.category, REPEATED_CATEGORY);
    assert_eq!(alert.reason, Reason::Repeated { attempts: 5 });

    // Four attempts spread over an hour are not "repeated".
    let mut monitor = school_monitor();
    for i in 0..4 {
        let mut activity = blocked(
            i,
            MONDAY_MORNING,
            Some("pupil.ivy"),
            "game.example",
            "games",
        );
        activity.at = start + SignedDuration::from_mins(15 * i);
        assert!(monitor.observe(&activity, activity.at).is_empty());
    }
    let mut fifth = blocked(
        9,
        MONDAY_MORNING,
        Some("pupil.ivy"),
        "game.example",
        "games",
    );
    fifth.at = start + SignedDuration::from_mins(61);
    assert!(monitor.observe(&fifth, fifth.at).is_empty());
}

#[test]
fn the_watcher_forgets_old_attempts() {
    let mut watcher = Watcher::new(STARTER.clone(), SignalSettings::default());
    watcher.observe(&blocked(
        1,
        MONDAY_MORNING,
        Some("pupil.jo"),
        "x.example",
        "games",
    ));
    assert_eq!(watcher.remembered(), 1);
    watcher.forget_before(at(MONDAY_MORNING) + SignedDuration::from_mins(11));
    assert_eq!(watcher.remembered(), 0);
}

#[test]
fn signal_settings_and_rules_name_real_categories() {
    for id in SignalSettings::default().circumvention {
        let category = Category::from_id(&id).unwrap_or_else(|| panic!("{id} is a category"));
        assert_eq!(category.group(), Group::Circumvention, "{id}");
    }
    let circumvention: Vec<&str> = Category::all()
        .iter()
        .filter(|c| c.group() == Group::Circumvention)
        .map(|c| c.id())
        .collect();
    assert_eq!(
        circumvention.len(),
        SignalSettings::default().circumvention.len()
    );
    for id in Rules::new(london(), vec![], vec![]).blocked.keys() {
        assert!(Category::from_id(id).is_some(), "{id} is a category");
    }
}

#[test]
fn a_digest_groups_a_week_by_category_and_person() {
    let mut monitor = school_monitor();
    let mut alerts = Vec::new();
    let record = |outcomes: Vec<Outcome>, alerts: &mut Vec<monitor::Alert>| {
        for outcome in outcomes {
            match outcome {
                Outcome::Raised(alert) => alerts.push(*alert),
                Outcome::Folded {
                    alert,
                    count,
                    last_at,
                    ..
                } => {
                    let stored = alerts.iter_mut().find(|a| a.id == alert).expect("raised");
                    stored.count = count;
                    stored.last_at = last_at;
                }
            }
        }
    };
    let days = ["2026-11-23", "2026-11-24", "2026-11-25"];
    let mut id = 0;
    for day in days {
        for (person, term) in [
            ("pupil.kit", "suicide"),
            ("pupil.kit", "suicide"),
            ("pupil.lee", "buy weed"),
        ] {
            id += 1;
            let when = format!("{day}T11:0{}:00Z", id % 10);
            let activity = search(id, &when, person, term);
            record(monitor.observe(&activity, activity.at), &mut alerts);
        }
    }
    // Outside the week: not in the digest.
    let late = search(99, "2026-11-30T09:00:00Z", "pupil.kit", "suicide");
    record(monitor.observe(&late, late.at), &mut alerts);

    let digest = Digest::build(
        &alerts,
        at("2026-11-23T00:00:00Z"),
        at("2026-11-30T00:00:00Z"),
    );
    assert_eq!(digest.alerts, 6);
    let sections: Vec<(&str, u32, u32)> = digest
        .categories
        .iter()
        .map(|c| (c.category.as_str(), c.alerts, c.signals))
        .collect();
    assert_eq!(sections, [("drugs", 3, 3), ("self-harm", 3, 6)]);
    let self_harm = &digest.categories[1];
    assert_eq!(self_harm.subjects.len(), 1);
    assert_eq!(
        self_harm.subjects[0].subject,
        Subject::Person("pupil.kit".into())
    );
    assert_eq!(self_harm.subjects[0].signals, 6);
    assert_eq!(self_harm.subjects[0].alert_ids.len(), 3);
}

#[test]
fn rules_are_checked_before_use() {
    use monitor::alert::RulesError;
    assert_eq!(
        Rules::new(london(), in_hours(), out_of_hours()).check(),
        Ok(())
    );
    assert_eq!(
        Rules::new(london(), vec![], out_of_hours()).check(),
        Err(RulesError::NoContacts)
    );
    let mut rules = Rules::new(london(), in_hours(), vec![]);
    rules.daily_from = monitor::Severity::new(5).unwrap();
    let err = rules.check().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the daily digest starts at severity 5, above immediate alerts at 4; set it to 4 or lower"
    );
    let mut rules = Rules::new(london(), in_hours(), vec![]);
    rules.throttle = SignedDuration::from_mins(-1);
    assert_eq!(rules.check(), Err(RulesError::NegativeThrottle));
    let mut rules = Rules::new(london(), in_hours(), vec![]);
    rules.hours.opens = jiff::civil::Time::constant(18, 0, 0, 0);
    assert_eq!(rules.check(), Err(RulesError::Hours));
}

#[test]
fn triage_decisions_feed_false_positive_rates() {
    use monitor::triage::{Triaged, decide};
    let mut monitor = school_monitor();
    let mut alerts = Vec::new();
    for (id, person, term) in [
        (1, "pupil.max", "suicide"),
        (2, "pupil.nia", "suicide"),
        (3, "pupil.oli", "suicide"),
        (4, "pupil.pat", "i want to die"),
    ] {
        for outcome in monitor.observe(
            &search(id, MONDAY_MORNING, person, term),
            at(MONDAY_MORNING),
        ) {
            if let Outcome::Raised(alert) = outcome {
                alerts.push(*alert);
            }
        }
    }
    assert_eq!(alerts.len(), 4);
    let decision = |to, reason: &str| monitor::TriageDecision {
        to,
        actor: "dsl.okafor".into(),
        reason: reason.into(),
        at: at("2026-11-23T11:00:00Z"),
    };
    let decisions = [
        decision(
            TriageState::FalsePositive,
            "RE homework on Romeo and Juliet",
        ),
        decision(TriageState::FalsePositive, "news story"),
        decision(TriageState::Reviewed, ""),
        decision(TriageState::Escalated, "spoke to pupil; concern opened"),
    ];
    for (alert, decision) in alerts.iter_mut().zip(&decisions) {
        alert.state = decide(alert.state, decision).expect("allowed");
    }
    let rates = monitor::FalsePositiveRates::from_alerts(alerts.iter().map(Triaged::from));
    let suicide = rates.by_phrase["self-harm/en/suicide"];
    assert_eq!((suicide.triaged, suicide.false_positives), (3, 2));
    let category = rates.by_category["self-harm"];
    assert_eq!((category.triaged, category.false_positives), (4, 2));
    assert_eq!(category.rate(), Some(0.5));
    assert_eq!(rates.noisy_phrases(3, 0.5)[0].0, "self-harm/en/suicide");
}

/// The count a repeated-attempts signal carries is every remembered blocked
/// attempt within the window either side of this one, however the attempts
/// arrive (some late) and however many there are (a flood of thousands).
/// Attempts more than the window before the newest are forgotten.
#[test]
fn repeated_attempts_count_the_window_either_side_in_a_flood() {
    let mut watcher = Watcher::new(STARTER.clone(), SignalSettings::default());
    let window = SignedDuration::from_mins(10);
    let start = at(MONDAY_MORNING);
    let mut seen: Vec<Timestamp> = Vec::new();
    // Every 7 seconds for 3 hours, one in nine arriving four minutes late.
    for i in 0..1_500i64 {
        let late = i % 9 == 4;
        let when = start + SignedDuration::from_secs(i * 7 - if late { 240 } else { 0 });
        let mut activity = blocked(
            i,
            MONDAY_MORNING,
            Some("pupil.flood"),
            "game.example",
            "games",
        );
        activity.at = when;
        seen.push(when);
        let newest = *seen.iter().max().expect("one at least");
        let remembered = |t: &&Timestamp| newest.duration_since(**t) <= window;
        let counted: Vec<Timestamp> = seen
            .iter()
            .filter(remembered)
            .filter(|t| when.duration_since(**t).abs() <= window)
            .copied()
            .collect();
        let repeated = watcher
            .observe(&activity)
            .into_iter()
            .find_map(|s| match s.kind {
                SignalKind::Repeated { count, since } => Some((count, since)),
                _ => None,
            });
        if counted.len() >= 5 {
            let earliest = counted.iter().min().copied().expect("counted");
            assert_eq!(repeated, Some((counted.len(), earliest)), "attempt {i}");
        } else {
            assert_eq!(repeated, None, "attempt {i}");
        }
    }
}
