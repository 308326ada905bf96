//! Real servers for the delivery tests, all on loopback: an SMTP server
//! process (Python's aiosmtpd) and a store in a temporary folder.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use notify::{MailSecurity, MailSettings};
use store::sqlite::SqliteStore;

/// An aiosmtpd process keeping each message it accepts in a folder.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    folder: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts on `port` (0 for any free one); recipients containing
    /// `refuse` are answered with a 550.
    pub fn start(port: u16, refuse: Option<&str>) -> SmtpServer {
        let refuse: Vec<&str> = refuse.map(|r| vec!["--refuse", r]).unwrap_or_default();
        SmtpServer::start_with(port, &refuse)
    }

    /// Starts with the script's own options (`--refuse TEXT`,
    /// `--starttls CERT KEY`, `--tls CERT KEY`).
    pub fn start_with(port: u16, options: &[&str]) -> SmtpServer {
        let folder = tempfile::tempdir().expect("tempdir");
        // From this crate or another that borrows this module (the binary's tests).
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../notify/tests/smtp_server.py");
        let mut command = Command::new("python3");
        command
            .arg(&script)
            .arg(port.to_string())
            .arg(folder.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.args(options);
        let mut child = command
            .spawn()
            .expect("python3 must be installed for the mail tests");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let Some(port) = line.trim().strip_prefix("listening on ") else {
            let _ = child.wait();
            let mut why = String::new();
            let _ =
                std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut why);
            panic!(
                "the test SMTP server did not start: {why}\n(it needs aiosmtpd: python3 -m pip install aiosmtpd; ./scripts/test installs it)"
            );
        };
        SmtpServer {
            port: port.parse().expect("port"),
            child,
            folder,
        }
    }

    /// The messages received so far, as the server's email parser read them.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<_> = std::fs::read_dir(self.folder.path())
            .expect("folder")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json"))
            .collect()
    }

    /// Waits (up to 20 seconds) until `n` messages have arrived.
    pub fn wait_for(&self, n: usize) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n || start.elapsed() > Duration::from_secs(20) {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing is listening on (for now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Mail settings for a plain-text server on loopback.
pub fn loopback_mail(port: u16) -> MailSettings {
    MailSettings {
        host: "127.0.0.1".into(),
        port: Some(port),
        security: MailSecurity::None,
        ca_file: None,
        username: None,
        password_file: None,
        password_env: None,
        from: "Schoolgate at Hillside <schoolgate@hillside.example>".into(),
        reply_to: Some("Safeguarding team <dsl-team@hillside.example>".into()),
        timeout_seconds: 10,
        max_per_minute: 60,
    }
}

pub async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("schoolgate.db"))
        .await
        .expect("open")
}
