//! The cost of matching one search term against the whole starter library:
//! typical innocent searches (the common case), searches that hold a phrase,
//! and disguised ones that need folding (leet, spacing, repeated letters).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use monitor::{
    Activity, Contact, ContactRole, Matcher, Monitor, Rules, SchoolHours, SignalSettings, Watcher,
};

const INNOCENT: &[&str] = &[
    "how to make slime",
    "year 8 science homework photosynthesis",
    "bbc bitesize gcse maths quadratic equations",
    "minecraft how to build a castle",
    "what time does the library close on saturday",
    "romeo and juliet act 3 scene 1 summary",
    "best football boots 2026",
    "how many countries are there in africa",
];

const CONCERNING: &[&str] = &[
    "how to kill myself",
    "s3lf h4rm",
    "k i l l  m y s e l f",
    "he wants me to send nudes what do i do",
    "where to buy weed near me",
    "jak się zabić",
    "خودکشی کیسے کریں",
    "i am being bulllied at school",
];

fn benches(c: &mut Criterion) {
    let matcher = Matcher::starter();
    eprintln!("{} automaton patterns", matcher.pattern_count());
    let mut group = c.benchmark_group("phrase matching");
    for (name, terms) in [("innocent", INNOCENT), ("concerning", CONCERNING)] {
        let mut at = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let term = terms[at % terms.len()];
                at += 1;
                black_box(matcher.find(black_box(term)))
            })
        });
    }
    group.finish();
    c.bench_function("compile starter library", |b| b.iter(Matcher::starter));

    // The warm path: one activity event through signals, rules and
    // throttling, for 500 pupils, one search in eight concerning, one event
    // in four blocked.
    let dsl = vec![Contact {
        account: "dsl".into(),
        role: ContactRole::Dsl,
    }];
    let mut monitor = Monitor::new(
        Watcher::new(matcher.clone(), SignalSettings::default()),
        Rules::new(
            SchoolHours::weekdays(jiff::tz::TimeZone::get("Europe/London").expect("zone")),
            dsl,
            vec![],
        ),
        1,
    );
    let start: Timestamp = "2026-11-23T09:00:00Z".parse().expect("time");
    let mut id = 0i64;
    c.bench_function("observe one activity event", |b| {
        b.iter(|| {
            id += 1;
            let term = if id % 8 == 0 {
                CONCERNING[(id / 8) as usize % CONCERNING.len()]
            } else {
                INNOCENT[id as usize % INNOCENT.len()]
            };
            let at = start + SignedDuration::from_millis(id * 10);
            let activity = Activity {
                id,
                at,
                person: Some(format!("pupil{}", id % 500)),
                device: None,
                client_ip: "10.0.0.1".into(),
                url: "https://www.google.com/search".into(),
                host: "www.google.com".into(),
                search_term: Some(term.into()),
                categories: vec!["search-engines".into()],
                blocked: id % 4 == 0,
            };
            let outcomes = monitor.observe(&activity, at);
            if id % 10_000 == 0 {
                monitor.tidy(at);
            }
            black_box(outcomes)
        })
    });
}

criterion_group! {
    name = matching;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(matching);
