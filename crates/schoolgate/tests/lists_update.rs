//! `schoolgate lists update` against an HTTPS origin the test runs itself.
//!
//! Each test runs the real binary in a fresh data folder (set up with the
//! bundled starter lists) and points it at a small HTTPS server on
//! 127.0.0.1, port 0, whose certificate comes from a test authority made
//! here. The server answers every request with the reply the test chose and
//! counts what it saw. The update must swap the lists in only when the
//! download imported cleanly; every other outcome leaves the lists in force
//! exactly as they were.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use serde_json::Value;
use store::Store;
use store::sqlite::SqliteStore;
use tempfile::TempDir;

/// Listed in the starter lists under ut1/gambling, and in none of the test's.
const STARTER_GAMBLING: &str = "https://www.bet365.com/";
/// Listed only in the test's archive.
const NEW_GAMBLING: &str = "http://update-test-casino.example/";
/// What the update says whenever it leaves the lists alone.
const UNCHANGED: &str = "in force are unchanged";

// ---------------------------------------------------------------------------
// A test certificate authority and the server certificate it signs.

struct Authority {
    pem: String,
    server: Arc<ServerConfig>,
}

impl Authority {
    /// A new authority, and a certificate from it for localhost and 127.0.0.1.
    fn new(name: &str) -> Authority {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.distinguished_name.push(DnType::CommonName, name);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);

        let key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &issuer).expect("server certificate");

        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let server =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(chain, private)
                .expect("server config");
        Authority {
            pem: ca_cert.pem(),
            server: Arc::new(server),
        }
    }

    /// Writes the authority's certificate where `--ca-file` can find it.
    fn write_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.pem).expect("write ca.pem");
        path
    }
}

// ---------------------------------------------------------------------------
// The origin: one thread, one connection at a time, one reply for all.

#[derive(Clone)]
enum Reply {
    /// 200 with these bytes.
    Body(Vec<u8>),
    /// This status line, such as "404 Not Found", with a short text body.
    Status(&'static str),
    /// Claims `claimed` bytes, sends only `body`, then closes: cleanly (TLS
    /// close_notify) or by just dropping the connection.
    Short {
        body: Vec<u8>,
        claimed: usize,
        close_notify: bool,
    },
}

struct Origin {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Origin {
    fn start(config: &Arc<ServerConfig>, reply: Reply) -> Origin {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (config, connections, requests, stop) = (
                config.clone(),
                connections.clone(),
                requests.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                for tcp in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = tcp else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    // A client that gives up (an untrusted certificate, say)
                    // is what some tests expect; it is not the server's failure.
                    let _ = serve(&config, tcp, &reply, &requests);
                }
            })
        };
        Origin {
            port,
            connections,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://localhost:{}/blacklists.tar.gz", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The request lines of the requests the server read in full.
    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    config: &Arc<ServerConfig>,
    tcp: TcpStream,
    reply: &Reply,
    requests: &Mutex<Vec<String>>,
) -> io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(10)))?;
    let conn = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
    let mut tls = BufReader::new(StreamOwned::new(conn, tcp));
    let mut request_line = String::new();
    if tls.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    loop {
        let mut header = String::new();
        if tls.read_line(&mut header)? == 0 {
            return Ok(());
        }
        if header == "\r\n" {
            break;
        }
    }
    requests
        .lock()
        .expect("requests")
        .push(request_line.trim_end().to_owned());

    let mut tls = tls.into_inner();
    let (status, body, claimed, close_notify) = match reply {
        Reply::Body(body) => ("200 OK", &body[..], body.len(), true),
        Reply::Status(status) => (*status, &b"not here\n"[..], 9, true),
        Reply::Short {
            body,
            claimed,
            close_notify,
        } => ("200 OK", &body[..], *claimed, *close_notify),
    };
    write!(
        tls,
        "HTTP/1.1 {status}\r\nContent-Type: application/gzip\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n"
    )?;
    tls.write_all(body)?;
    if close_notify {
        tls.conn.send_close_notify();
    }
    tls.flush()?;
    // Let the client read everything and hang up first, so no unread bytes
    // turn the close into a reset that loses the end of the reply.
    tls.sock.shutdown(Shutdown::Write)?;
    let _ = io::copy(&mut tls.sock, &mut io::sink());
    Ok(())
}

// ---------------------------------------------------------------------------
// Archives.

enum Entry<'a> {
    Dir(&'a str),
    File(&'a str, &'a str),
    Symlink(&'a str, &'a str),
}

fn tar_gz(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        match entry {
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, io::empty())
                    .expect("dir");
            }
            Entry::File(path, text) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(text.len() as u64);
                builder
                    .append_data(&mut header, path, text.as_bytes())
                    .expect("file");
            }
            Entry::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder
                    .append_link(&mut header, path, target)
                    .expect("symlink");
            }
        }
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

/// A small UT1-style distribution whose sites are none of the starter lists'.
fn good_archive() -> Vec<u8> {
    tar_gz(&[
        Entry::Dir("blacklists/"),
        Entry::Dir("blacklists/gambling/"),
        Entry::File(
            "blacklists/gambling/domains",
            "update-test-casino.example\nupdate-test-poker.example\n",
        ),
        Entry::File("blacklists/gambling/usage", "black\n"),
        Entry::Dir("blacklists/adult/"),
        Entry::File(
            "blacklists/adult/urls",
            "update-test-adult.example/gallery\n",
        ),
        Entry::Symlink("blacklists/porn", "adult"),
        Entry::Dir("blacklists/vpn/"),
        Entry::File("blacklists/vpn/domains", "update-test-tunnel.example\n"),
    ])
}

// ---------------------------------------------------------------------------
// Running schoolgate.

struct Folder {
    temp: TempDir,
}

impl Folder {
    fn new() -> Folder {
        Folder {
            temp: tempfile::tempdir().expect("temporary folder"),
        }
    }

    fn data(&self) -> PathBuf {
        self.temp.path().join("data")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_schoolgate"))
            .arg("--data")
            .arg(self.data())
            .args(args)
            .env_remove("SCHOOLGATE_DATA")
            .output()
            .expect("run schoolgate")
    }

    /// Every test archive is far smaller than the starter lists, so the
    /// shrink guard is confirmed here; `update_unconfirmed` leaves it on.
    fn update(&self, url: &str, ca_file: Option<&Path>) -> Output {
        let mut args = vec![
            "--by",
            "tester",
            "lists",
            "update",
            "--allow-shrink",
            "--from",
            url,
        ];
        if let Some(ca) = ca_file {
            args.extend(["--ca-file", ca.to_str().expect("UTF-8 path")]);
        }
        self.run(&args)
    }

    fn update_unconfirmed(&self, url: &str, ca_file: &Path) -> Output {
        let mut args = vec!["--by", "tester", "lists", "update", "--from", url];
        args.extend(["--ca-file", ca_file.to_str().expect("UTF-8 path")]);
        self.run(&args)
    }

    /// Imports a local list of its own, which a UT1 update must keep.
    fn import_local_list(&self) {
        let path = self.temp.path().join("extra-domains");
        std::fs::write(&path, "update-test-local.example\n").expect("write the local list");
        let out = self.run(&[
            "--by",
            "tester",
            "lists",
            "import",
            "--format",
            "domains",
            "--category",
            "gambling",
            "--name",
            "local/extra",
            path.to_str().expect("UTF-8 path"),
        ]);
        assert!(out.status.success(), "lists import failed:\n{}", text(&out));
    }

    fn status(&self) -> Value {
        let out = self.run(&["lists", "status", "--json"]);
        assert!(out.status.success(), "lists status failed:\n{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("lists status --json is JSON")
    }

    fn check(&self, url: &str) -> Value {
        let out = self.run(&["check", "--json", "--profile", "ks2", url]);
        assert!(out.status.success(), "check failed:\n{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("check --json is JSON")
    }

    /// Everything that says which lists are in force, to compare before and
    /// after.
    fn lists_in_force(&self) -> (Value, Value, Vec<u8>) {
        let status = self.status();
        let index = std::fs::read(self.data().join("index.bin")).expect("index.bin");
        (status["lists"].clone(), status["index"].clone(), index)
    }

    /// Checks that a failed update left no trace: the same list records, the
    /// same index, the starter verdict, and no half-finished files.
    fn assert_unchanged(&self, before: &(Value, Value, Vec<u8>), what: &str) {
        let after = self.lists_in_force();
        assert_eq!(after.0, before.0, "{what}: the list records changed");
        assert_eq!(after.1, before.1, "{what}: the index summary changed");
        assert!(after.2 == before.2, "{what}: index.bin changed");
        let verdict = self.check(STARTER_GAMBLING);
        assert_eq!(verdict["verdict"], "block", "{what}: {verdict}");
        assert!(
            categories(&verdict).contains(&"gambling".to_owned()),
            "{what}: {verdict}"
        );
        assert!(
            listed_by(&verdict).contains(&"ut1/gambling".to_owned()),
            "{what}: {verdict}"
        );
        for leftover in [
            "ut1-download.tar.gz",
            "lists.new",
            "lists.old",
            "index.new.bin",
        ] {
            assert!(
                !self.data().join(leftover).exists(),
                "{what}: {leftover} was left in the data folder"
            );
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts that a command failed with an ordinary exit status (not a crash).
fn assert_failed(out: &Output, what: &str) {
    assert!(
        !out.status.success(),
        "{what}: the update succeeded:\n{}",
        text(out)
    );
    assert!(
        out.status.code().is_some_and(|c| c != 101),
        "{what}: schoolgate crashed:\n{}",
        text(out)
    );
}

fn categories(verdict: &Value) -> Vec<String> {
    verdict["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| c.as_str().expect("category").to_owned())
        .collect()
}

/// The names of the lists that matched, without their categories.
fn listed_by(verdict: &Value) -> Vec<String> {
    verdict["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .flat_map(|m| m["lists"].as_array().expect("lists").iter())
        .map(|l| {
            let l = l.as_str().expect("list");
            l.split_once(' ').map_or(l, |(name, _)| name).to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The cases.

#[test]
fn a_download_far_smaller_than_the_lists_in_force_needs_confirming() {
    let folder = Folder::new();
    let authority = Authority::new("schoolgate test authority");
    let ca = authority.write_pem(folder.temp.path());
    let origin = Origin::start(&authority.server, Reply::Body(good_archive()));
    let url = origin.url("https");

    let out = folder.update_unconfirmed(&url, &ca);
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the lists in force are unchanged"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-shrink"), "{stderr}");
    // The starter lists still decide.
    assert!(listed_by(&folder.check(STARTER_GAMBLING)).contains(&"ut1/gambling".to_owned()));
    assert_eq!(folder.check(NEW_GAMBLING)["verdict"], "allow");

    let out = folder.update(&url, Some(&ca));
    assert!(
        out.status.success(),
        "confirmed update failed:\n{}",
        text(&out)
    );
    assert_eq!(folder.check(NEW_GAMBLING)["verdict"], "block");
}

#[test]
fn a_good_archive_replaces_the_ut1_lists() {
    let folder = Folder::new();
    let authority = Authority::new("schoolgate test authority");
    let ca = authority.write_pem(folder.temp.path());
    let origin = Origin::start(&authority.server, Reply::Body(good_archive()));
    let url = origin.url("https");

    folder.import_local_list();
    // The starter lists are in force, and do not know the test's casino.
    let before = folder.check(NEW_GAMBLING);
    assert_eq!(before["verdict"], "allow", "{before}");
    assert!(listed_by(&folder.check(STARTER_GAMBLING)).contains(&"ut1/gambling".to_owned()));

    let out = folder.update(&url, Some(&ca));
    assert!(out.status.success(), "update failed:\n{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Imported 3 UT1 categories: 3 domains and 1 URLs."),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("Updated from {url}")), "{stdout}");
    assert_eq!(
        origin.requests(),
        vec!["GET /blacklists.tar.gz HTTP/1.1".to_owned()]
    );

    // The new lists decide.
    let casino = folder.check(NEW_GAMBLING);
    assert_eq!(casino["verdict"], "block", "{casino}");
    assert!(
        categories(&casino).contains(&"gambling".to_owned()),
        "{casino}"
    );
    assert_eq!(
        listed_by(&casino),
        vec!["ut1/gambling".to_owned()],
        "{casino}"
    );
    let adult = folder.check("http://update-test-adult.example/gallery");
    assert_eq!(adult["verdict"], "block", "{adult}");
    assert!(
        categories(&adult).contains(&"pornography".to_owned()),
        "{adult}"
    );
    assert_eq!(
        listed_by(&folder.check("https://update-test-tunnel.example/")),
        vec!["ut1/vpn".to_owned()]
    );

    // The starter lists are gone, not merged with the new ones; the
    // school's own list stays.
    let bet365 = folder.check(STARTER_GAMBLING);
    assert!(
        !listed_by(&bet365).contains(&"ut1/gambling".to_owned()),
        "{bet365}"
    );
    assert!(
        !categories(&bet365).contains(&"gambling".to_owned()),
        "{bet365}"
    );
    assert_eq!(
        listed_by(&folder.check("https://update-test-local.example/")),
        vec!["local/extra".to_owned()]
    );

    let status = folder.status();
    let lists = status["lists"].as_array().expect("lists");
    let names: Vec<&str> = lists
        .iter()
        .map(|l| l["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["local/extra", "ut1/adult", "ut1/gambling", "ut1/vpn"],
        "{status}"
    );
    for list in &lists[1..] {
        assert_eq!(list["source"], url.as_str(), "{list}");
        assert_eq!(list["actor"], "tester", "{list}");
        assert_eq!(list["format"], "ut1", "{list}");
    }
    assert_eq!(lists[2]["domains"], 2, "{status}");
    assert_eq!(lists[1]["urls"], 1, "{status}");
    assert_eq!(status["index"]["lists"], 4, "{status}");
    assert!(!folder.data().join("ut1-download.tar.gz").exists());

    // The audit trail shows who imported what from where, and which starter
    // lists were dropped.
    let trail = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let store = SqliteStore::open(&folder.data().join("schoolgate.db"))
                .await
                .expect("open the database");
            let trail = store.audit_trail(1000).await.expect("audit trail");
            store.close().await;
            trail
        });
    let by_tester: Vec<_> = trail.iter().filter(|e| e.actor == "tester").collect();
    for name in ["ut1/adult", "ut1/gambling", "ut1/vpn"] {
        assert!(
            by_tester.iter().any(|e| e.action == "list.import"
                && e.detail.starts_with(&format!("{name}:"))
                && e.detail.ends_with(&format!("from {url}"))),
            "no import of {name} from {url} by tester in the audit trail: {by_tester:#?}"
        );
    }
    assert!(
        by_tester
            .iter()
            .any(|e| e.action == "list.remove" && e.detail == "ut1/games"),
        "the starter's ut1/games was not recorded as removed: {by_tester:#?}"
    );
}

#[test]
fn a_damaged_archive_leaves_the_lists_in_force() {
    let folder = Folder::new();
    let authority = Authority::new("schoolgate test authority");
    let ca = authority.write_pem(folder.temp.path());
    // With a list of the school's own the index is never empty, so nothing
    // stops an archive without lists from replacing the UT1 ones with none.
    folder.import_local_list();
    let before = folder.lists_in_force();

    let good = good_archive();
    let mut bad_crc = good.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0xff;
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("a truncated gzip", good[..good.len() / 2].to_vec()),
        (
            "a gzip without its trailer",
            good[..good.len() - 8].to_vec(),
        ),
        ("a gzip whose checksum is wrong", bad_crc),
        (
            "not gzip at all",
            b"<!doctype html><title>Down for maintenance</title>".to_vec(),
        ),
        (
            "a tarball with no UT1 categories",
            tar_gz(&[
                Entry::Dir("blacklists/"),
                Entry::File("blacklists/README", "nothing here\n"),
                Entry::File(
                    "blacklists/not-a-category/domains",
                    "update-test-casino.example\n",
                ),
            ]),
        ),
        (
            "a tarball whose categories hold no lists",
            tar_gz(&[
                Entry::Dir("blacklists/"),
                Entry::Dir("blacklists/gambling/"),
                Entry::File("blacklists/gambling/usage", "black\n"),
            ]),
        ),
    ];
    for (what, bytes) in damaged {
        let origin = Origin::start(&authority.server, Reply::Body(bytes));
        let out = folder.update(&origin.url("https"), Some(&ca));
        assert_failed(&out, what);
        assert!(stderr(&out).contains(UNCHANGED), "{what}:\n{}", text(&out));
        assert_eq!(origin.requests().len(), 1, "{what}");
        folder.assert_unchanged(&before, what);
    }
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let folder = Folder::new();
    let authority = Authority::new("schoolgate test authority");
    let before = folder.lists_in_force();

    // Without --ca-file only the usual authorities are trusted.
    let origin = Origin::start(&authority.server, Reply::Body(good_archive()));
    let out = folder.update(&origin.url("https"), None);
    assert_failed(&out, "no --ca-file");
    let err = stderr(&out);
    assert!(err.contains(UNCHANGED), "{}", text(&out));
    assert!(err.contains("certificate"), "{}", text(&out));
    assert!(
        err.contains("--ca-file"),
        "the message does not say what to do:\n{}",
        text(&out)
    );
    assert_eq!(
        origin.connections(),
        1,
        "the update did not even try to connect"
    );
    assert!(
        origin.requests().is_empty(),
        "a request was sent over an untrusted connection"
    );
    folder.assert_unchanged(&before, "no --ca-file");

    // Nor is a certificate from some other authority.
    let other = Authority::new("some other authority");
    let other_ca = other.write_pem(folder.temp.path());
    let out = folder.update(&origin.url("https"), Some(&other_ca));
    assert_failed(&out, "another authority's --ca-file");
    assert!(stderr(&out).contains(UNCHANGED), "{}", text(&out));
    assert_eq!(origin.connections(), 2);
    assert!(
        origin.requests().is_empty(),
        "a request was sent over an untrusted connection"
    );
    folder.assert_unchanged(&before, "another authority's --ca-file");
}

#[test]
fn a_plain_http_address_is_refused_without_connecting() {
    let folder = Folder::new();
    let authority = Authority::new("schoolgate test authority");
    let ca = authority.write_pem(folder.temp.path());
    let before = folder.lists_in_force();
    let origin = Origin::start(&authority.server, Reply::Body(good_archive()));

    for url in [origin.url("http"), origin.url("HTTP")] {
        let out = folder.update(&url, Some(&ca));
        assert_failed(&out, &url);
        let err = stderr(&out);
        assert!(err.contains("is not an https:// address"), "{}", text(&out));
        assert!(err.contains(&url), "{}", text(&out));
        folder.assert_unchanged(&before, &url);
    }
    assert_eq!(
        origin.connections(),
        0,
        "schoolgate connected to a plain http:// address"
    );
    assert!(origin.requests().is_empty());
}

#[test]
fn a_missing_file_is_reported_with_its_address() {
    let folder = Folder::new();
    let authority = Authority::new("schoolgate test authority");
    let ca = authority.write_pem(folder.temp.path());
    let before = folder.lists_in_force();
    let origin = Origin::start(&authority.server, Reply::Status("404 Not Found"));
    let url = origin.url("https");

    let out = folder.update(&url, Some(&ca));
    assert_failed(&out, "404");
    let err = stderr(&out);
    assert!(
        err.contains(&url),
        "the message does not name {url}:\n{}",
        text(&out)
    );
    assert!(err.contains("HTTP status 404"), "{}", text(&out));
    assert!(err.contains(UNCHANGED), "{}", text(&out));
    assert_eq!(origin.requests().len(), 1);
    folder.assert_unchanged(&before, "404");
}

#[test]
fn a_download_that_breaks_off_is_not_imported() {
    let folder = Folder::new();
    let authority = Authority::new("schoolgate test authority");
    let ca = authority.write_pem(folder.temp.path());
    let before = folder.lists_in_force();
    let good = good_archive();

    // The whole archive but a longer claimed length, and a plain prefix of
    // it; each closed cleanly and closed abruptly.
    let cases = [
        ("all of it, cleanly closed", good.clone(), true),
        ("all of it, dropped", good.clone(), false),
        (
            "half of it, cleanly closed",
            good[..good.len() / 2].to_vec(),
            true,
        ),
        (
            "half of it, dropped",
            good[..good.len() / 2].to_vec(),
            false,
        ),
    ];
    for (what, body, close_notify) in cases {
        let origin = Origin::start(
            &authority.server,
            Reply::Short {
                claimed: good.len() + 100,
                body,
                close_notify,
            },
        );
        let out = folder.update(&origin.url("https"), Some(&ca));
        assert_failed(&out, what);
        assert!(stderr(&out).contains(UNCHANGED), "{what}:\n{}", text(&out));
        assert_eq!(origin.requests().len(), 1, "{what}");
        folder.assert_unchanged(&before, what);
    }
}
