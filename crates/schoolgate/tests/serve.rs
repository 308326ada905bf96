//! `schoolgate serve` and `check-config` as a school runs them: the real
//! binary, listeners on port 0, addresses read from its output.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

mod common;
use common::{Serve as Running, bin};

fn get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

fn run(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("SCHOOLGATE_DATA")
        .output()
        .expect("run")
}

#[test]
fn serve_listens_reloads_on_change_and_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[console]\nlisten = \"127.0.0.1:0\"\n[reload]\npoll_seconds = 1\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n",
    )
    .expect("write");
    let serve = Running::start(&data, &config);
    let line = serve.wait_for("metrics listening on ");
    let address = line.rsplit(' ').next().expect("address").to_owned();
    serve.wait_for("schoolgate is running");

    let metrics = get(&address, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains("schoolgate_requests_total{edge=\"proxy\",verdict=\"block\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("schoolgate_activity_dropped_total 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("schoolgate_activity_escalated_batches_total 0\n"),
        "{metrics}"
    );
    assert!(get(&address, "/other").starts_with("HTTP/1.1 404"));
    // Monitoring says how far it has read through the activity log: its
    // first pass comes at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = get(&address, "/metrics");
        let passes = metrics
            .lines()
            .find_map(|l| l.strip_prefix("schoolgate_monitor_passes_total "))
            .and_then(|n| n.trim().parse::<u64>().ok());
        if passes.is_some_and(|n| n >= 1) {
            assert!(
                metrics.contains("schoolgate_monitor_backlog_events 0\n"),
                "{metrics}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Another command changes what filtering uses: serve notices.
    let out = run(
        &data,
        &[
            "--by",
            "tech",
            "networks",
            "add",
            "Guest Wi-Fi",
            "--range",
            "10.20.0.0/16",
            "--profile",
            "guest",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serve.wait_for("reloaded:");
    // SIGHUP reloads at once.
    serve.signal("HUP");
    serve.wait_for("(SIGHUP)");
    // A damaged index makes the reload fail; the last good state stays.
    let index = data.join("index.bin");
    let mut bytes = std::fs::read(&index).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&index, &bytes).expect("write");
    serve.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        get(&address, "/metrics").starts_with("HTTP/1.1 200"),
        "serve died after a failed reload"
    );

    serve.signal("TERM");
    serve.wait_for("stopped;");
}

/// Each thread of process `pid`: its name and its nice value.
fn threads(pid: u32) -> Vec<(String, i64)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("tasks") {
        let Ok(stat) = std::fs::read_to_string(task.expect("task").path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        // After the name: state, then the fields from ppid on; nice is the
        // 19th field of the line.
        let nice = stat[close + 2..]
            .split(' ')
            .nth(16)
            .and_then(|n| n.parse().ok())
            .expect("nice");
        found.push((name, nice));
    }
    found
}

/// Threads of a running `serve`: the nice values of its SQLite threads,
/// and every thread's name and nice value.
struct Threads {
    serve: Running,
    sqlite: Vec<i64>,
    all: Vec<(String, i64)>,
    _dir: tempfile::TempDir,
}

/// Starts `serve` with `config`, and reads its threads once one of SQLite's
/// is at `nice` (each connection opens its thread as it starts), or after
/// ten seconds.
fn sqlite_threads_once_one_is_at(config: &str, nice: i64) -> Threads {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let path = dir.path().join("schoolgate.toml");
    std::fs::write(&path, config).expect("write");
    let serve = Running::start(&data, &path);
    serve.wait_for("schoolgate is running");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let all = threads(serve.pid());
        let sqlite: Vec<i64> = all
            .iter()
            .filter(|(name, _)| name.starts_with("sqlx-sqlite"))
            .map(|(_, nice)| *nice)
            .collect();
        if sqlite.contains(&nice) || std::time::Instant::now() > deadline {
            return Threads {
                serve,
                sqlite,
                all,
                _dir: dir,
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_activity_log_is_written_at_the_lowest_priority_on_a_connection_of_its_own() {
    // `_dir` is bound, so the data folder lasts until the end of the test.
    let Threads {
        serve,
        sqlite,
        all,
        _dir,
    } = sqlite_threads_once_one_is_at(
        "[proxy]\nlisten = [\"127.0.0.1:0\"]\n[monitoring]\nenabled = false\n",
        19,
    );
    let writer: Vec<i64> = all
        .iter()
        .filter(|(name, _)| name == "activity-writer")
        .map(|(_, nice)| *nice)
        .collect();
    assert_eq!(writer, [19], "{all:?}");
    // SQLite's thread for the writer's connection took its priority; the
    // others' stay at normal priority.
    assert_eq!(sqlite.iter().filter(|&&n| n == 19).count(), 1, "{all:?}");
    assert!(sqlite.contains(&0), "{all:?}");
    serve.stop();
}

#[test]
fn monitoring_reads_the_log_on_a_connection_of_lower_priority_than_the_proxys() {
    // SQLite runs each connection on a thread of its own: the shared
    // pool's at normal priority, the monitor's at the monitor's own lowered
    // priority (and the activity log writer's at the lowest, tested above).
    let Threads {
        serve,
        sqlite,
        _dir,
        ..
    } = sqlite_threads_once_one_is_at(
        "[proxy]\nlisten = [\"127.0.0.1:0\"]\n[monitoring]\npoll_seconds = 1\n",
        10,
    );
    assert!(
        sqlite.contains(&10),
        "no SQLite thread at nice 10: {sqlite:?}"
    );
    assert!(
        sqlite.contains(&0),
        "no SQLite thread at normal priority: {sqlite:?}"
    );
    serve.stop();
}

#[test]
fn serve_refuses_to_start_without_its_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    assert!(run(&data, &["lists", "status"]).status.success());
    std::fs::write(data.join("index.bin"), b"not an index").expect("write");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[console]\nlisten = \"127.0.0.1:0\"\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n",
    )
    .expect("write");
    let out = run(
        &data,
        &["serve", "--config", config.to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("will not start without its policy and lists"),
        "{stderr}"
    );
}

#[test]
fn check_config_names_bad_keys_and_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[activity]\nretention_dayz = 30\n").expect("write");
    let out = run(
        &data,
        &["check-config", "--config", config.to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("retention_dayz"), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");

    std::fs::write(&config, "[activity]\nretention_days = 0\n").expect("write");
    let out = run(
        &data,
        &["serve", "--config", config.to_str().expect("path")],
    );
    assert_eq!(
        out.status.code(),
        Some(64),
        "serve must refuse before binding anything"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("activity.retention_days"));

    // Credentials for a parent proxy that is not set.
    std::fs::write(&config, "[proxy]\nparent_credentials = \"hillside:pw\"\n").expect("write");
    let out = run(
        &data,
        &["check-config", "--config", config.to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("proxy.parent_credentials") && stderr.contains("no proxy.parent"),
        "{stderr}"
    );

    let good = dir.path().join("good.toml");
    std::fs::write(&good, include_str!("../../../docs/schoolgate.example.toml")).expect("write");
    let out = run(
        &data,
        &["check-config", "--config", good.to_str().expect("path")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is valid"));
}

/// `[monitoring] time_zone` from older files: the zone is now the
/// policy's `school.timezone`, so the same zone is accepted and another
/// refused, naming the key and saying what to do.
#[test]
fn check_config_refuses_a_monitoring_time_zone_other_than_the_policys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("schoolgate.toml");
    let path = config.to_str().expect("path");
    // The default policy's zone (no data folder yet): accepted as it was.
    std::fs::write(&config, "[monitoring]\ntime_zone = \"Europe/London\"\n").expect("write");
    let out = run(&data, &["check-config", "--config", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!data.exists(), "check-config sets up no data folder");

    std::fs::write(&config, "[monitoring]\ntime_zone = \"Asia/Dubai\"\n").expect("write");
    for command in ["check-config", "serve"] {
        let out = run(&data, &[command, "--config", path]);
        assert_eq!(out.status.code(), Some(64), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("schoolgate.toml: monitoring.time_zone")
                && stderr.contains("school.timezone")
                && stderr.contains("remove the time_zone line"),
            "{command}: {stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("listening on"));
    }

    // A school whose policy is in Dubai: the same zone is accepted, and
    // London is now the one refused.
    let policy = dir.path().join("policy.toml");
    let exported = run(&data, &["policy", "export"]);
    assert!(exported.status.success());
    let text = String::from_utf8_lossy(&exported.stdout)
        .replace("timezone = \"Europe/London\"", "timezone = \"Asia/Dubai\"");
    assert!(text.contains("Asia/Dubai"), "{text}");
    std::fs::write(&policy, text).expect("write");
    let imported = run(
        &data,
        &[
            "--by",
            "test",
            "policy",
            "import",
            policy.to_str().expect("path"),
            "--reason",
            "A British international school in Dubai",
        ],
    );
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let out = run(&data, &["check-config", "--config", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&config, "[monitoring]\ntime_zone = \"Europe/London\"\n").expect("write");
    let out = run(&data, &["check-config", "--config", path]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("monitoring.time_zone"));
}

fn event(at: jiff::Timestamp, user: &str, verdict: &str, url: &str) -> store::ActivityEvent {
    store::ActivityEvent {
        at,
        source: store::Source::Proxy,
        client_ip: "10.0.5.17".into(),
        username: Some(user.into()),
        device: Some("LAPTOP-07".into()),
        profile: "ks2".into(),
        method: "GET".into(),
        url: url.into(),
        host: "example".into(),
        search_term: Some("slime recipe".into()),
        categories: if verdict == "block" {
            "gambling".into()
        } else {
            String::new()
        },
        verdict: verdict.into(),
        rule: if verdict == "block" {
            "category:gambling".into()
        } else {
            "default".into()
        },
        status: Some(if verdict == "block" { 403 } else { 200 }),
        bytes: 100,
        duration_ms: 1,
        reference: None,
    }
}

/// Puts events straight into a data folder's store, as the edges would.
fn seed(data: &std::path::Path, events: Vec<store::ActivityEvent>) {
    use store::Store;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = store::sqlite::SqliteStore::open(&data.join("schoolgate.db"))
            .await
            .expect("open");
        store.record_activity(&events).await.expect("record");
        store.close().await;
    });
}

#[test]
fn serve_purges_activity_older_than_the_retention_period() {
    use jiff::ToSpan;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    assert!(run(&data, &["lists", "status"]).status.success());
    let now = jiff::Timestamp::now();
    seed(
        &data,
        vec![
            event(
                now - (40 * 24).hours(),
                "old.pupil",
                "block",
                "http://old.example/",
            ),
            event(now - 1.hour(), "new.pupil", "block", "http://new.example/"),
        ],
    );
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[console]\nlisten = \"127.0.0.1:0\"\n[activity]\nretention_days = 30\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n",
    )
    .expect("write");
    let serve = Running::start(&data, &config);
    serve.wait_for("schoolgate is running");
    // The purge runs as serve starts; give it a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let out = run(&data, &["activity", "--csv"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if !text.contains("old.pupil") {
            assert!(text.contains("new.pupil"), "{text}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the old event was never purged: {text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    serve.signal("TERM");
    serve.wait_for("stopped;");
}

#[test]
fn activity_is_searched_from_the_command_line() {
    use jiff::ToSpan;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    assert!(run(&data, &["lists", "status"]).status.success());
    let now = jiff::Timestamp::now();
    seed(
        &data,
        vec![
            event(
                now - 3.hours(),
                "ada.pupil",
                "block",
                "http://www.bet365.com/",
            ),
            event(
                now - 2.hours(),
                "ada.pupil",
                "allow",
                "http://www.example.org/=SUM(1)",
            ),
            event(
                now - 1.hour(),
                "ben.pupil",
                "block",
                "http://casino.example/",
            ),
        ],
    );
    let out = run(
        &data,
        &["activity", "--user", "ada.pupil", "--verdict", "block"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("http://www.bet365.com/ (category:gambling)"),
        "{text}"
    );
    assert!(text.contains("search: \"slime recipe\""), "{text}");
    assert!(text.contains("1 events"), "{text}");
    assert!(text.starts_with("time (UK time)"), "{text}");

    let from = (now - 150.minutes()).to_string();
    let out = run(
        &data,
        &[
            "activity",
            "--csv",
            "--from",
            &from,
            "--category",
            "gambling",
        ],
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "time,source,ip,user,device,profile,method,url,host,search_term,categories,verdict,rule,status,bytes,duration_ms,reference"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains("ben.pupil"), "{csv}");

    let out = run(
        &data,
        &[
            "activity",
            "--csv",
            "--user",
            "ada.pupil",
            "--verdict",
            "allow",
        ],
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.contains("http://www.example.org/=SUM(1)"), "{csv}");

    let out = run(&data, &["activity", "--verdict", "blocked"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not allow, block or safe-search"));
    let out = run(&data, &["activity", "--category", "casinos"]);
    assert_eq!(out.status.code(), Some(64));
}

/// Sends one request and reads the answer until the server closes.
fn exchange(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

/// The proxy as `serve` runs it, with the starter lists and a network from
/// the store: real UT1 entries are blocked before any connection leaves the
/// machine, the PAC file is served, and the metrics count the decisions.
#[test]
fn serve_runs_the_proxy_with_the_starter_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = run(
        &data,
        &[
            "--by",
            "tech",
            "networks",
            "add",
            "Classrooms",
            "--range",
            "127.0.0.0/8",
            "--profile",
            "ks2",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[console]\nlisten = \"127.0.0.1:0\"\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n",
    )
    .expect("write");
    let serve = Running::start(&data, &config);
    let line = serve.wait_for("metrics listening on ");
    let metrics = line.rsplit(' ').next().expect("address").to_owned();
    let line = serve.wait_for("proxy listening on ");
    let proxy = line.rsplit(' ').next().expect("address").to_owned();
    serve.wait_for("schoolgate is running");

    let page = exchange(
        &proxy,
        "GET http://www.bet365.com/ HTTP/1.1\r\nHost: www.bet365.com\r\nConnection: close\r\n\r\n",
    );
    assert!(page.starts_with("HTTP/1.1 403"), "{page}");
    assert!(
        page.contains("x-schoolgate-reason: category:gambling"),
        "{page}"
    );
    assert!(page.contains("This page is blocked"), "{page}");
    let tunnel = exchange(
        &proxy,
        "CONNECT www.bet365.com:443 HTTP/1.1\r\nHost: www.bet365.com:443\r\nConnection: close\r\n\r\n",
    );
    assert!(tunnel.starts_with("HTTP/1.1 403"), "{tunnel}");
    let pac = get(&proxy, "/proxy.pac");
    assert!(pac.contains(&format!("PROXY {proxy}")), "{pac}");

    let counted = get(&metrics, "/metrics");
    assert!(
        counted.contains("schoolgate_requests_total{edge=\"proxy\",verdict=\"block\"} 2"),
        "{counted}"
    );
    serve.signal("TERM");
    serve.wait_for("stopped; 2 activity events written");
}

fn dig(address: &str, source: &str, args: &[&str]) -> String {
    let (ip, port) = address.rsplit_once(':').expect("address");
    let out = Command::new("dig")
        .arg(format!("@{ip}"))
        .args(["-p", port, "-b", source, "+tries=1", "+time=3"])
        .args(args)
        .output()
        .expect("dig runs (install dnsutils: scripts/test does)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn serve_runs_the_dns_filter_with_the_policy_networks_and_activity_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = run(
        &data,
        &[
            "--by",
            "tech",
            "networks",
            "add",
            "Guest Wi-Fi",
            "--range",
            "127.0.0.2/32",
            "--profile",
            "guest",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An upstream nobody answers on: blocked names never need one.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        format!(
            "[metrics]\nlisten = \"127.0.0.1:0\"\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n[console]\nlisten = \"127.0.0.1:0\"\n[dns]\nlisten = [\"127.0.0.1:0\"]\nupstreams = [\"{dead}\"]\nupstream_timeout_ms = 200\nattempts = 1\n"
        ),
    )
    .expect("write");
    let serve = Running::start(&data, &config);
    let line = serve.wait_for("dns filter listening on ");
    let address = line.split(' ').nth(4).expect("address").to_owned();
    serve.wait_for("schoolgate is running");

    let out = dig(&address, "127.0.0.2", &["www.bet365.com", "A"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(out.contains("EDE: 15 (Blocked)"), "{out}");
    let out = dig(
        &address,
        "127.0.0.2",
        &["+tcp", "use-application-dns.net", "A"],
    );
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    let out = dig(&address, "127.0.0.2", &["www.example.org", "A"]);
    assert!(out.contains("status: SERVFAIL"), "{out}");

    serve.signal("TERM");
    serve.wait_for("stopped;");
    let out = run(&data, &["activity", "--csv", "--verdict", "block"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    let line = csv
        .lines()
        .find(|l| l.contains("www.bet365.com"))
        .unwrap_or_else(|| panic!("no DNS event in {csv}"));
    assert!(line.contains(",dns,127.0.0.2,"), "{line}");
    assert!(line.contains(",guest,A,"), "{line}");
    assert!(line.contains("category:gambling"), "{line}");
}
