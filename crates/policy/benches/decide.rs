//! The cost of one full decision on a 5-million-entry index: canonicalise the
//! URL, then `Engine::decide` with the shipped default policy and profile ks2,
//! first without statutory lists and then with IWF and CTIRU lists loaded.
//!
//! The index and requests are those of `classify/benches/classify.rs` (UT1
//! when `$SCHOOLGATE_UT1_DIR` or `../shared/data/ut1` exists, synthetic
//! entries up to `$SCHOOLGATE_BENCH_ENTRIES`, default 5,000,000).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use classify::canon::CanonUrl;
use classify::lists::import_ut1_dir;
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::synthetic::{DEFAULT_SEED, ScaleLists};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../../classify/benches/support/cpu_time.rs"]
mod cpu_time;
use cpu_time::CpuTime;
use policy::defaults::default_policy;
use policy::engine::{Engine, Lists};

fn next<'a, T>(items: &'a [T], at: &mut usize) -> &'a T {
    let item = &items[*at];
    *at += 1;
    if *at == items.len() {
        *at = 0;
    }
    item
}

fn benches(c: &mut Criterion<CpuTime>) {
    let ut1 = std::env::var_os("SCHOOLGATE_UT1_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ut1"));
    let entries = std::env::var("SCHOOLGATE_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);
    let real = if ut1.is_dir() {
        import_ut1_dir(&ut1, &mut |_| {})
            .expect("the UT1 folder imports")
            .lists
    } else {
        eprintln!("no UT1 folder at {}: synthetic lists only", ut1.display());
        Vec::new()
    };
    let mut lists = ScaleLists::new(real, entries, DEFAULT_SEED);
    let index = lists.build_index();
    let requests = lists.requests(1_000_000);
    let statutory = lists.url_sample(10_000);
    drop(lists);

    let at_time = jiff::Timestamp::from_second(1_789_000_000).expect("a time");
    let mut group = c.benchmark_group("decide");
    let mut url = CanonUrl::default();

    let no_statutory = Arc::new(Lists {
        index,
        statutory: Vec::new(),
    });
    let engine = Engine::new(default_policy(), Arc::clone(&no_statutory)).expect("default policy");
    let ks2 = engine.profile_index(Some("ks2")).expect("ks2");
    let mut at = 0;
    group.bench_function("canonicalise+decide-ks2", |b| {
        b.iter(|| {
            url.parse_into(next::<String>(&requests, &mut at)).is_ok()
                && black_box(engine.decide(ks2, &url, at_time)).verdict == policy::Verdict::Block
        })
    });
    drop(engine);

    let Ok(no_statutory) = Arc::try_unwrap(no_statutory) else {
        unreachable!("the engine is gone")
    };
    let iwf = statutory.join("\n");
    let ctiru = statutory[..statutory.len().min(1_000)].join("\n");
    let with_statutory = Arc::new(Lists {
        index: no_statutory.index,
        statutory: vec![
            StatutoryList::parse(StatutoryKind::Iwf, "synthetic iwf", iwf.as_bytes()).expect("iwf"),
            StatutoryList::parse(StatutoryKind::Ctiru, "synthetic ctiru", ctiru.as_bytes())
                .expect("ctiru"),
        ],
    });
    let engine = Engine::new(default_policy(), with_statutory).expect("default policy");
    let mut at = 0;
    group.bench_function("canonicalise+decide-ks2+statutory", |b| {
        b.iter(|| {
            url.parse_into(next::<String>(&requests, &mut at)).is_ok()
                && black_box(engine.decide(ks2, &url, at_time)).verdict == policy::Verdict::Block
        })
    });
    group.finish();
}

criterion_group! {
    name = decide;
    config = Criterion::default()
        .with_measurement(CpuTime)
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(decide);
