//! The classification targets at scale (design brief, "Performance targets"):
//! a 5-million-entry index built from the UT1 lists plus synthetic entries,
//! saved, reopened in fresh processes (load time, resident memory) and driven
//! with a realistic request mix in plain timing loops on one core.
//!
//! It lives in `policy` rather than `classify` because it also times the full
//! decision, and `classify` cannot depend on `policy`. The criterion benches
//! (`classify/benches/classify.rs`, `policy/benches/decide.rs`) give the cost
//! of one operation; this program gives the throughput and memory figures.
//! `scripts/bench-classify.sh` runs it and writes `docs/benchmarks.md`.
//!
//! ```sh
//! cargo run --release -p policy --example index_scale -- [--ut1 DIR] \
//!     [--entries 5000000] [--lookups 20000000] [--rounds 3] [--index FILE]
//! ```
//!
//! The UT1 folder is `$SCHOOLGATE_UT1_DIR`, else `--ut1`, else
//! `../shared/data/ut1` beside the repository; without it the index is all
//! synthetic. Results are printed as Markdown on standard output.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use classify::canon::CanonUrl;
use classify::index::Index;
use classify::lists::import_ut1_dir;
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::synthetic::{DEFAULT_SEED, ScaleLists};
use policy::defaults::default_policy;
use policy::engine::{Engine, Lists, Verdict};

struct Options {
    ut1: PathBuf,
    entries: usize,
    lookups: usize,
    rounds: usize,
    requests: usize,
    index: PathBuf,
    load_runs: usize,
    /// Where to write the lists and requests for another filter to read.
    export: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: index_scale [--ut1 DIR] [--entries N] [--lookups N] [--rounds N] [--requests N] [--index FILE] [--load-runs N] [--export DIR]\n       index_scale --load-only FILE"
    );
    std::process::exit(64);
}

fn options() -> Options {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut o = Options {
        ut1: std::env::var_os("SCHOOLGATE_UT1_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("../shared/data/ut1")),
        entries: 5_000_000,
        lookups: 20_000_000,
        rounds: 3,
        requests: 1_000_000,
        index: std::env::temp_dir()
            .join(format!("schoolgate-index-scale-{}.idx", std::process::id())),
        load_runs: 5,
        export: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        let number = |v: String| v.replace('_', "").parse().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--ut1" => o.ut1 = PathBuf::from(value()),
            "--entries" => o.entries = number(value()),
            "--lookups" => o.lookups = number(value()),
            "--rounds" => o.rounds = number(value()),
            "--requests" => o.requests = number(value()),
            "--index" => o.index = PathBuf::from(value()),
            "--load-runs" => o.load_runs = number(value()),
            "--export" => o.export = Some(PathBuf::from(value())),
            "--load-only" => {
                load_only(Path::new(&value()));
                std::process::exit(0);
            }
            _ => usage(),
        }
    }
    o.rounds = o.rounds.max(1);
    o
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time this thread has run, from the scheduler's own account, so that a
/// rate per CPU second is not diluted by other work on a shared machine.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// The child: load the index and report, as one line of `key=value` pairs.
fn load_only(path: &Path) {
    let (before, _) = memory_kib();
    let started = Instant::now();
    let index = Index::load(path).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    let took = started.elapsed();
    let (rss, hwm) = memory_kib();
    black_box(&index);
    println!(
        "load_seconds={} rss_kib={rss} hwm_kib={hwm} before_kib={before} table_bytes={}",
        took.as_secs_f64(),
        index.memory_bytes()
    );
}

struct Load {
    seconds: f64,
    rss_kib: u64,
    hwm_kib: u64,
    before_kib: u64,
    table_bytes: u64,
}

fn load_in_child(path: &Path) -> Load {
    let out = Command::new(std::env::current_exe().expect("own path"))
        .arg("--load-only")
        .arg(path)
        .output()
        .expect("the load child runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the load child failed: {text}");
    let get = |key: &str| -> f64 {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("the load child did not report {key}: {text}"))
    };
    Load {
        seconds: get("load_seconds"),
        rss_kib: get("rss_kib") as u64,
        hwm_kib: get("hwm_kib") as u64,
        before_kib: get("before_kib") as u64,
        table_bytes: get("table_bytes") as u64,
    }
}

struct Rate {
    /// Operations per wall-clock second, median of the rounds.
    per_second: f64,
    /// Operations per second of this thread's CPU time, median of the rounds.
    per_cpu_second: f64,
    /// The fastest round, per wall-clock second.
    best: f64,
    /// Share of operations that found something (listed, or blocked).
    found: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `op` `lookups` times per round over items `0..len` in turn.
fn time_loop(lookups: usize, rounds: usize, len: usize, mut op: impl FnMut(usize) -> bool) -> Rate {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut found = 0usize;
    // A short warm-up so the first round does not pay for page faults.
    for i in 0..len.min(lookups / 10) {
        black_box(op(i));
    }
    for _ in 0..rounds {
        let started = Instant::now();
        let cpu_started = thread_cpu();
        let mut j = 0;
        found = 0;
        for _ in 0..lookups {
            found += usize::from(op(j));
            j += 1;
            if j == len {
                j = 0;
            }
        }
        let cpu_took = thread_cpu().saturating_sub(cpu_started).as_secs_f64();
        let took = started.elapsed().as_secs_f64();
        wall.push(lookups as f64 / took);
        if cpu_took > 0.0 {
            cpu.push(lookups as f64 / cpu_took);
        }
    }
    let best = wall.iter().copied().fold(0.0, f64::max);
    Rate {
        per_second: median(wall),
        per_cpu_second: if cpu.is_empty() {
            f64::NAN
        } else {
            median(cpu)
        },
        best,
        found: found as f64 / lookups as f64,
    }
}

/// Writes the lists as squidGuard reads them, one folder per category
/// (`lists/<category>/domains` and `urls`), and the first 200,000 requests
/// one a line in `requests.txt`, so another filter can be timed on exactly
/// the same work.
fn export(dir: &Path, lists: &ScaleLists, requests: &[String]) -> std::io::Result<()> {
    use std::collections::BTreeMap;
    use std::io::Write;
    let mut files: BTreeMap<(String, &str), std::io::BufWriter<std::fs::File>> = BTreeMap::new();
    let real = lists.real.iter().map(|l| (l.category, &l.domains, &l.urls));
    let synthetic = lists
        .synthetic
        .iter()
        .map(|l| (l.category, &l.domains, &l.urls));
    for (category, domains, urls) in real.chain(synthetic) {
        let name = category.id().replace('-', "_");
        for (kind, entries) in [("domains", domains), ("urls", urls)] {
            if entries.is_empty() {
                continue;
            }
            let file = match files.entry((name.clone(), kind)) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let folder = dir.join("lists").join(&name);
                    std::fs::create_dir_all(&folder)?;
                    e.insert(std::io::BufWriter::new(std::fs::File::create(
                        folder.join(kind),
                    )?))
                }
            };
            for entry in entries {
                writeln!(file, "{entry}")?;
            }
        }
    }
    for (_, mut file) in files {
        file.flush()?;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("requests.txt"))?);
    for request in requests.iter().take(200_000) {
        writeln!(out, "{request}")?;
    }
    out.flush()
}

fn millions(n: f64) -> String {
    format!("{:.2}M", n / 1e6)
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

fn main() {
    let o = options();
    eprintln!("index_scale: building a {}-entry index", o.entries);

    // 1. UT1, when the folder is there.
    let ut1_dir = o.ut1.is_dir().then_some(o.ut1.as_path());
    let started = Instant::now();
    let ut1 = ut1_dir.map(|dir| {
        import_ut1_dir(dir, &mut |_| {}).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1);
        })
    });
    let ut1_import = started.elapsed();
    let ut1_lists = ut1.map(|u| u.lists).unwrap_or_default();
    let ut1_domains: usize = ut1_lists.iter().map(|l| l.domains.len()).sum();
    let ut1_urls: usize = ut1_lists.iter().map(|l| l.urls.len()).sum();

    // 2. Synthetic entries up to the target, distinct from UT1's (UT1's own
    // lists overlap: a site is often in several categories).
    let started = Instant::now();
    let mut lists = ScaleLists::new(ut1_lists, o.entries, DEFAULT_SEED);
    let generate = started.elapsed();
    let ut1_distinct = lists.real_distinct;
    let synthetic_domains: usize = lists.synthetic.iter().map(|l| l.domains.len()).sum();
    let synthetic_urls: usize = lists.synthetic.iter().map(|l| l.urls.len()).sum();

    // 3. Compile.
    let started = Instant::now();
    let index = lists.build_index();
    let compile = started.elapsed();
    let entries = index.entries();

    // 4. Requests: about half on listed entries, sampled evenly from every list.
    let started = Instant::now();
    let requests = lists.requests(o.requests);
    let statutory_entries = lists.url_sample(10_000);
    if let Some(dir) = &o.export {
        export(dir, &lists, &requests).unwrap_or_else(|e| {
            eprintln!("could not export to {}: {e}", dir.display());
            std::process::exit(1);
        });
    }
    drop(lists);
    eprintln!("index_scale: requests ready in {:.1?}", started.elapsed());

    // 5. Save, then reopen in fresh processes.
    let started = Instant::now();
    index.save(&o.index).expect("the index saves");
    let save = started.elapsed();
    let file_bytes = std::fs::metadata(&o.index).map(|m| m.len()).unwrap_or(0);
    drop(index);
    let _warm = load_in_child(&o.index);
    let loads: Vec<Load> = (0..o.load_runs.max(1))
        .map(|_| load_in_child(&o.index))
        .collect();
    let load_seconds = median(loads.iter().map(|l| l.seconds).collect());
    let rss = median(loads.iter().map(|l| l.rss_kib as f64).collect());
    let hwm = median(loads.iter().map(|l| l.hwm_kib as f64).collect());
    let before = median(loads.iter().map(|l| l.before_kib as f64).collect());
    let table_bytes = loads[0].table_bytes as f64;

    let index = Index::load(&o.index).expect("the index loads");
    let _ = std::fs::remove_file(&o.index);

    // 6. Throughput on one core.
    let n = o.lookups;
    let r = o.rounds;
    eprintln!("index_scale: timing {n} lookups x {r} rounds per loop");
    let mut url = CanonUrl::default();
    let mut parse_errors = 0usize;
    let parse = time_loop(n, r, requests.len(), |i| {
        let ok = url.parse_into(&requests[i]).is_ok();
        black_box(&url);
        ok
    });
    for request in &requests {
        if let Err(e) = url.parse_into(request) {
            if parse_errors < 5 {
                eprintln!("index_scale: request {request} does not parse: {e}");
            }
            parse_errors += 1;
        }
    }
    let full = time_loop(n, r, requests.len(), |i| {
        url.parse_into(&requests[i]).is_ok() && index.classify(&url).is_listed()
    });
    let parsed: Vec<CanonUrl> = requests
        .iter()
        .filter_map(|r| CanonUrl::parse(r).ok())
        .collect();
    let classify_only = time_loop(n, r, parsed.len(), |i| {
        index.classify(&parsed[i]).is_listed()
    });
    let hosts: Vec<(String, classify::canon::HostKind)> = parsed
        .iter()
        .map(|u| (u.host().to_owned(), u.host_kind()))
        .collect();
    drop(parsed);
    let host_only = time_loop(n, r, hosts.len(), |i| {
        index.classify_host(&hosts[i].0, hosts[i].1).is_listed()
    });
    drop(hosts);

    let lists = Arc::new(Lists {
        index,
        statutory: Vec::new(),
    });
    let engine = Engine::new(default_policy(), Arc::clone(&lists)).expect("default policy");
    let ks2 = engine.profile_index(Some("ks2")).expect("ks2 profile");
    let at = jiff::Timestamp::from_second(1_789_000_000).expect("time");
    let decide_n = (n / 4).max(1);
    let decide = time_loop(decide_n, r, requests.len(), |i| {
        url.parse_into(&requests[i]).is_ok()
            && engine.decide(ks2, &url, at).verdict == Verdict::Block
    });
    drop(engine);
    let Ok(lists) = Arc::try_unwrap(lists) else {
        unreachable!("the engine was dropped")
    };
    // The same with IWF and CTIRU lists loaded, as a real school has them.
    let iwf_text = statutory_entries.join("\n");
    let ctiru_text = statutory_entries
        .iter()
        .rev()
        .take(1_000)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let statutory = vec![
        StatutoryList::parse(StatutoryKind::Iwf, "synthetic iwf", iwf_text.as_bytes())
            .expect("iwf"),
        StatutoryList::parse(
            StatutoryKind::Ctiru,
            "synthetic ctiru",
            ctiru_text.as_bytes(),
        )
        .expect("ctiru"),
    ];
    let statutory_counts: Vec<usize> = statutory.iter().map(StatutoryList::count).collect();
    let lists = Arc::new(Lists {
        index: lists.index,
        statutory,
    });
    let engine = Engine::new(default_policy(), lists).expect("default policy");
    let decide_statutory = time_loop(decide_n, r, requests.len(), |i| {
        url.parse_into(&requests[i]).is_ok()
            && engine.decide(ks2, &url, at).verdict == Verdict::Block
    });

    // 7. Report. The first line is for scripts/bench-classify.sh only.
    println!(
        "CLASSIFY_RATE={:.0} CLASSIFY_CPU_RATE={:.0}",
        full.per_second, full.per_cpu_second
    );
    let met = |ok: bool| if ok { "met" } else { "**not met**" };
    let build = ut1_import + generate + compile;
    println!(
        "Index: {entries} distinct entries ({} UT1 domains and {} UT1 URLs from {}, {ut1_distinct} of them distinct across categories; {} synthetic domains and {} synthetic URLs, seed {DEFAULT_SEED:#x}).",
        ut1_domains,
        ut1_urls,
        ut1_dir.map_or_else(|| "no UT1 folder".to_owned(), |d| d.display().to_string()),
        synthetic_domains,
        synthetic_urls,
    );
    println!(
        "Requests: {} distinct request URLs, {:.1}% of them on listed entries by measurement ({} did not parse), cycled through in order.",
        requests.len(),
        full.found * 100.0,
        parse_errors,
    );
    println!();
    println!("| target | measured | aim | |");
    println!("|---|---|---|---|");
    println!(
        "| URL classifications per second, one core (canonicalise + `Index::classify`) | **{} per CPU-second**; by the wall clock {} /s (best round {}) | ≥ 2M /s | {} |",
        millions(full.per_cpu_second),
        millions(full.per_second),
        millions(full.best),
        met(full.per_cpu_second >= 2e6)
    );
    println!(
        "| resident memory of a process that has loaded the index | VmRSS {}, VmHWM {} (process before loading: {}) | ≤ 300 MB | {} |",
        mib(rss * 1024.0),
        mib(hwm * 1024.0),
        mib(before * 1024.0),
        met(hwm * 1024.0 <= 300e6)
    );
    println!(
        "| saved index reopens (`Index::load`, warm page cache, median of {}) | {:.3} s | ≤ 0.5 s | {} |",
        loads.len(),
        load_seconds,
        met(load_seconds <= 0.5)
    );
    println!();
    println!(
        "Rates per CPU-second count only the time the timing thread was on a core (from \
         `/proc/thread-self/schedstat`); the wall-clock rates also count the time other work \
         on this shared machine held the core. The target is judged per CPU-second: that is \
         what one core does."
    );
    println!();
    println!(
        "| operation, one core | per CPU-second (median of {r} rounds) | ns of CPU each | per second by the wall clock (median) | best round, wall clock | found |"
    );
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, rate: &Rate, what: &str| {
        println!(
            "| {name} | {} | {:.0} | {} | {} | {:.1}% {what} |",
            millions(rate.per_cpu_second),
            1e9 / rate.per_cpu_second,
            millions(rate.per_second),
            millions(rate.best),
            rate.found * 100.0
        );
    };
    row(
        "canonicalise only (`CanonUrl::parse_into`)",
        &parse,
        "parsed",
    );
    row("canonicalise + `Index::classify`", &full, "listed");
    row("`Index::classify` on parsed URLs", &classify_only, "listed");
    row("`Index::classify_host` (host only)", &host_only, "listed");
    row(
        "canonicalise + `Engine::decide`, profile ks2, no statutory lists",
        &decide,
        "blocked",
    );
    row(
        &format!(
            "canonicalise + `Engine::decide`, profile ks2, IWF ({}) and CTIRU ({}) lists loaded",
            statutory_counts[0], statutory_counts[1]
        ),
        &decide_statutory,
        "blocked",
    );
    println!();
    println!("| build and load | time |");
    println!("|---|---|");
    if ut1_dir.is_some() {
        println!(
            "| import the UT1 folder (`lists::import_ut1_dir`, {} entries) | {:.2} s |",
            ut1_domains + ut1_urls,
            ut1_import.as_secs_f64()
        );
    }
    println!(
        "| generate {} synthetic entries | {:.2} s |",
        synthetic_domains + synthetic_urls,
        generate.as_secs_f64()
    );
    println!(
        "| compile the index (`IndexBuilder::add_list` + `build`) | {:.2} s |",
        compile.as_secs_f64()
    );
    println!(
        "| **build, import + compile** (UT1 import, synthetic generation, compile) | **{:.2} s** |",
        build.as_secs_f64()
    );
    println!(
        "| save (`Index::save`, {} file, fsync included) | {:.2} s |",
        mib(file_bytes as f64),
        save.as_secs_f64()
    );
    println!(
        "| load (`Index::load`), each of {} fresh processes | {} |",
        loads.len(),
        loads
            .iter()
            .map(|l| format!("{:.3} s", l.seconds))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();
    println!(
        "The index's tables take {} (`Index::memory_bytes`).",
        mib(table_bytes)
    );
    println!();
    println!(
        "Published figures of the peers, for scale (**published numbers, not measured side by side**):"
    );
    println!();
    println!(
        "| peer | published rate | schoolgate canonicalise + classify, per CPU-second | ratio |"
    );
    println!("|---|---|---|---|");
    for (peer, rate, source) in [
        (
            "ufdbGuard",
            60_000.0,
            "60,000 URL verifications/s per core, its vendor's figure",
        ),
        (
            "squidGuard",
            10_000.0,
            "about 10,000 lookups/s, an old figure",
        ),
    ] {
        println!(
            "| {peer} | {source} | {} /s | {:.0}× |",
            millions(full.per_cpu_second),
            full.per_cpu_second / rate
        );
    }
}
