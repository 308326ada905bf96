//! The cost of matching one search term against the whole starter library:
//! typical innocent searches (the common case), searches that hold a phrase,
//! and disguised ones that need folding (leet, spacing, repeated letters).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use monitor::Matcher;

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
}

criterion_group! {
    name = matching;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(matching);
