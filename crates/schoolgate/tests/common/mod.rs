//! What the integration tests share: the binary, and `schoolgate serve`
//! started on port 0 with its output read line by line.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_schoolgate")
}

/// A running `schoolgate serve`, stopped (killed if need be) when dropped.
pub struct Serve {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Serve {
    pub fn start(data: &Path, config: &Path) -> Serve {
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
        Serve { child, lines }
    }

    /// Waits for a line containing `text` and returns it.
    pub fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("serve never printed '{text}'"),
            }
        }
    }

    /// Every line up to and including the first containing `text`.
    pub fn lines_until(&self, text: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = line.contains(text);
                    lines.push(line);
                    if done {
                        return lines;
                    }
                }
                Err(_) => panic!("serve never printed '{text}'; it printed {lines:?}"),
            }
        }
    }

    /// The address printed on a `NAME listening on ADDRESS` line.
    pub fn address(&self, name: &str) -> String {
        let line = self.wait_for(&format!("{name} listening on "));
        line.split(" listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("address")
            .to_owned()
    }

    /// The process id of the running serve.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Asks serve to stop and waits until it says it has.
    pub fn stop(&self) {
        self.signal("TERM");
        self.wait_for("stopped;");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `schoolgate --by tester admin create-user ARGS`, with `stdin` piped in
/// (the password, from a pipe).
pub fn create_user(data: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(["--by", "tester", "admin", "create-user"])
        .args(args)
        .env_remove("SCHOOLGATE_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}
