//! The cost of one classification on a 5-million-entry index (design brief,
//! "Performance targets"): canonicalising a URL, classifying it, and
//! classifying a host alone.
//!
//! The index is the UT1 folder (`$SCHOOLGATE_UT1_DIR`, else
//! `../shared/data/ut1` beside the repository, when it exists) topped up with
//! deterministic synthetic entries to `$SCHOOLGATE_BENCH_ENTRIES` (5,000,000).
//! The requests are a fixed mix of about half hits and half misses; each
//! iteration takes the next one, so the caches see realistic traffic rather
//! than one URL over and over. Throughput on one core is measured by
//! `policy/examples/index_scale.rs`; `scripts/bench-classify.sh` runs both.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use classify::canon::{CanonUrl, HostKind};
use classify::index::Index;
use classify::lists::import_ut1_dir;
use classify::synthetic::{DEFAULT_SEED, ScaleLists};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::CpuTime;

struct Setup {
    index: Index,
    requests: Vec<String>,
    parsed: Vec<CanonUrl>,
    hosts: Vec<(String, HostKind)>,
}

fn setup() -> Setup {
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
    drop(lists);
    let parsed: Vec<CanonUrl> = requests
        .iter()
        .filter_map(|r| CanonUrl::parse(r).ok())
        .collect();
    let hosts = parsed
        .iter()
        .map(|u| (u.host().to_owned(), u.host_kind()))
        .collect();
    eprintln!(
        "index of {} entries, {} requests",
        index.entries(),
        requests.len()
    );
    Setup {
        index,
        requests,
        parsed,
        hosts,
    }
}

/// The next item of `items`, round and round.
fn next<'a, T>(items: &'a [T], at: &mut usize) -> &'a T {
    let item = &items[*at];
    *at += 1;
    if *at == items.len() {
        *at = 0;
    }
    item
}

fn benches(c: &mut Criterion<CpuTime>) {
    let s = setup();
    let mut group = c.benchmark_group("classify");
    let mut url = CanonUrl::default();

    let mut at = 0;
    group.bench_function("canonicalise", |b| {
        b.iter(|| {
            let ok = url.parse_into(next::<String>(&s.requests, &mut at)).is_ok();
            black_box(&url);
            ok
        })
    });
    let mut at = 0;
    group.bench_function("canonicalise+classify", |b| {
        b.iter(|| {
            url.parse_into(next::<String>(&s.requests, &mut at)).is_ok()
                && s.index.classify(&url).is_listed()
        })
    });
    let mut at = 0;
    group.bench_function("classify", |b| {
        b.iter(|| s.index.classify(next(&s.parsed, &mut at)).is_listed())
    });
    let mut at = 0;
    group.bench_function("classify_host", |b| {
        b.iter(|| {
            let (host, kind) = next(&s.hosts, &mut at);
            s.index.classify_host(host, *kind).is_listed()
        })
    });
    group.finish();
}

criterion_group! {
    name = classify;
    // A few seconds a benchmark keeps the whole run, index build included,
    // to about a minute.
    config = Criterion::default()
        .with_measurement(CpuTime)
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(classify);
