//! `schoolgate serve` and `check-config` as a school runs them: the real
//! binary, listeners on port 0, addresses read from its output.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_schoolgate")
}

struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(data: &std::path::Path, config: &std::path::Path) -> Running {
        let mut child = Command::new(bin())
            .arg("--data")
            .arg(data)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env_remove("SCHOOLGATE_DATA")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    /// Waits for a line containing `text` and returns it.
    fn wait_for(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("serve never printed '{text}'"),
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[reload]\npoll_seconds = 1\n",
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
    assert!(get(&address, "/other").starts_with("HTTP/1.1 404"));

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

#[test]
fn serve_refuses_to_start_without_its_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    assert!(run(&data, &["lists", "status"]).status.success());
    std::fs::write(data.join("index.bin"), b"not an index").expect("write");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(&config, "[metrics]\nlisten = \"127.0.0.1:0\"\n").expect("write");
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
