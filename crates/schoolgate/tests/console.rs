//! The console as a school meets it: `schoolgate serve` on port 0 prints a
//! one-time link; curl, with a real cookie jar, creates the first
//! administrator through it, sets up two-factor sign-in, signs out and in
//! again, over plain HTTP and over TLS. And `schoolgate admin create-user`
//! from the command line.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use jiff::Timestamp;
use store::Hidden;

const PASSWORD: &str = "Biscuit-Lantern-Orbit";

mod common;
use common::{Serve, bin, create_user};

/// What curl got back.
struct Answer {
    status: u16,
    headers: BTreeMap<String, Vec<String>>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    fn between(&self, before: &str, after: &str) -> Option<String> {
        let start = self.body.find(before)? + before.len();
        let end = self.body[start..].find(after)? + start;
        Some(self.body[start..end].to_owned())
    }

    fn csrf(&self) -> String {
        self.between("name=\"csrf\" value=\"", "\"")
            .expect("a form token")
    }
}

/// curl with a cookie jar in a file, like a browser that keeps cookies.
struct Curl {
    jar: PathBuf,
    base: String,
    ca: Option<PathBuf>,
}

impl Curl {
    fn run(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let mut command = Command::new("curl");
        command
            .args(["--silent", "--show-error", "--max-time", "20", "--include"])
            .arg("--cookie")
            .arg(&self.jar)
            .arg("--cookie-jar")
            .arg(&self.jar);
        if let Some(ca) = &self.ca {
            command.arg("--cacert").arg(ca);
        }
        for (name, value) in form {
            command
                .arg("--data-urlencode")
                .arg(format!("{name}={value}"));
        }
        let output = command
            .arg(format!("{}{path}", self.base))
            .output()
            .expect("curl");
        assert!(
            output.status.success(),
            "curl {path}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("headers");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                headers
                    .entry(name.trim().to_ascii_lowercase())
                    .or_default()
                    .push(value.trim().to_owned());
            }
        }
        Answer {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    fn get(&self, path: &str) -> Answer {
        self.run(path, &[])
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.run(path, form)
    }
}

fn code(secret: &Hidden, offset: i64) -> String {
    console::two_factor::code_at(secret, Timestamp::now(), offset).expect("code")
}

/// Creates the first administrator through the printed link, enrols in
/// two-factor sign-in, signs out and back in. Returns the session cookie
/// line from the last sign-in.
fn first_administrator(curl: &Curl, link_path: &str) -> Vec<String> {
    let form = curl.get(link_path);
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("first administrator"), "{}", form.body);
    let created = curl.post(
        link_path,
        &[
            ("csrf", &form.csrf()),
            ("username", "a.head"),
            ("display_name", "Alex Head"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(created.header("location"), Some("/account/two-factor"));

    let enrol = curl.get("/account/two-factor");
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    let secret = Hidden::new(
        enrol
            .between("<p class=\"secret\" id=\"secret\">", "</p>")
            .expect("the secret")
            .replace(' ', ""),
    );
    let on = curl.post(
        "/account/two-factor",
        &[("csrf", &enrol.csrf()), ("code", &code(&secret, 0))],
    );
    assert_eq!(on.status, 303, "{}", on.body);
    let home = curl.get("/");
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains(">Accounts</a>"), "{}", home.body);

    let out = curl.post("/sign-out", &[("csrf", &home.csrf())]);
    assert_eq!(out.status, 303);
    assert_eq!(curl.get("/").header("location"), Some("/sign-in"));

    let sign_in = curl.get("/sign-in");
    let password = curl.post(
        "/sign-in",
        &[
            ("csrf", &sign_in.csrf()),
            ("username", "a.head"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(password.header("location"), Some("/sign-in/code"));
    let code_page = curl.get("/sign-in/code");
    // The enrolment code's step is used up; the next step's code is fine.
    let done = curl.post(
        "/sign-in/code",
        &[("csrf", &code_page.csrf()), ("code", &code(&secret, 1))],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("/"));
    let home = curl.get("/");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Alex Head"), "{}", home.body);
    done.headers.get("set-cookie").cloned().unwrap_or_default()
}

fn link_path(line: &str, base: &str) -> String {
    let link = line.rsplit(' ').next().expect("link");
    link.strip_prefix(base)
        .unwrap_or_else(|| panic!("{link} is not under {base}"))
        .to_owned()
}

#[test]
fn serve_prints_a_first_run_link_and_the_console_signs_in_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n[console]\nlisten = \"127.0.0.1:0\"\n",
    )
    .expect("write");
    let serve = Serve::start(&data, &config);
    let address = serve
        .wait_for("console listening on ")
        .rsplit(' ')
        .next()
        .expect("address")
        .to_owned();
    let base = format!("http://{address}");
    let link = serve.wait_for("one-time link");
    serve.wait_for("schoolgate is running");

    let curl = Curl {
        jar: dir.path().join("cookies.txt"),
        base: base.clone(),
        ca: None,
    };
    let cookies = first_administrator(&curl, &link_path(&link, &base));
    let session = cookies
        .iter()
        .find(|c| c.starts_with("sg_session="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP: {session}");

    // A form without its token is refused, over the wire too.
    let refused = curl.post("/sign-out", &[("reason", "no token")]);
    assert_eq!(refused.status, 403);
    serve.stop();

    // On the next start there is an administrator, so no link.
    let serve = Serve::start(&data, &config);
    serve.wait_for("schoolgate is running");
    drop(serve);
}

#[test]
fn the_console_serves_https_with_secure_cookies_from_configured_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
    let certificate = dir.path().join("console.crt");
    let key = dir.path().join("console.key");
    std::fs::write(&certificate, certified.cert.pem()).expect("write");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        format!(
            "[metrics]\nlisten = \"127.0.0.1:0\"\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n[console]\nlisten = \"127.0.0.1:0\"\n\
             tls_certificate = \"{}\"\ntls_private_key = \"{}\"\n",
            certificate.display(),
            key.display()
        ),
    )
    .expect("write");
    let serve = Serve::start(&data, &config);
    let address = serve
        .wait_for("console listening on ")
        .rsplit(' ')
        .next()
        .expect("address")
        .to_owned();
    let base = format!("https://{address}");
    let link = serve.wait_for("one-time link");
    assert!(link.contains(&base), "{link}");
    serve.wait_for("schoolgate is running");

    let curl = Curl {
        jar: dir.path().join("cookies.txt"),
        base: base.clone(),
        ca: Some(certificate.clone()),
    };
    let cookies = first_administrator(&curl, &link_path(&link, &base));
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-sg_session="))
        .expect("a __Host- session cookie");
    assert!(session.contains("; Secure"), "{session}");
    serve.stop();
}

#[test]
fn serve_refuses_unreadable_console_certificates_before_binding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n[console]\nlisten = \"127.0.0.1:0\"\n\
         tls_certificate = \"/nonexistent/console.crt\"\ntls_private_key = \"/nonexistent/console.key\"\n",
    )
    .expect("write");
    let out = Command::new(bin())
        .arg("--data")
        .arg(&data)
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("SCHOOLGATE_DATA")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("console.tls_certificate"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("listening on"), "{stdout}");
}

#[test]
fn admin_create_user_reads_the_password_from_a_pipe_and_checks_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let args = ["d.lead", "--name", "Dana Lead", "--role", "dsl"];

    let common = create_user(&data, &args, "password1234\n");
    assert_eq!(common.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&common.stderr).contains("too common"),
        "{}",
        String::from_utf8_lossy(&common.stderr)
    );

    let made = create_user(&data, &args, &format!("{PASSWORD}\n"));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let stdout = String::from_utf8_lossy(&made.stdout);
    assert!(stdout.contains("Designated Safeguarding Lead"), "{stdout}");
    assert!(stdout.contains("two-factor"), "{stdout}");

    let again = create_user(&data, &args, &format!("{PASSWORD}\n"));
    assert_eq!(again.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already"));

    let role = create_user(
        &data,
        &["c.care", "--name", "Cam Care", "--role", "caretaker"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(role.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&role.stderr).contains("caretaker"));

    let empty = create_user(
        &data,
        &["e.empty", "--name", "Em Empty", "--role", "staff"],
        "",
    );
    assert_eq!(empty.status.code(), Some(64));
}

/// Runs create-user at a terminal (a pseudo-terminal from util-linux's
/// `script`), typing `lines`.
fn create_user_at_a_terminal(data: &Path, username: &str, lines: &str) -> std::process::Output {
    let command = format!(
        "{} --data {} --by tester admin create-user {username} --name 'Terry Minal' --role staff",
        bin(),
        data.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("SCHOOLGATE_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("type");
    child.wait_with_output().expect("wait")
}

#[test]
fn admin_create_user_at_a_terminal_asks_twice_and_the_two_must_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let differ =
        create_user_at_a_terminal(&data, "t.one", &format!("{PASSWORD}\nQuiet-Harbour-Lamp\n"));
    let text = String::from_utf8_lossy(&differ.stdout);
    assert!(text.contains("The same password again"), "{text}");
    assert!(text.contains("not the same"), "{text}");
    assert!(!differ.status.success());

    let same = create_user_at_a_terminal(&data, "t.one", &format!("{PASSWORD}\n{PASSWORD}\n"));
    let text = String::from_utf8_lossy(&same.stdout);
    assert!(same.status.success(), "{text}");
    assert!(text.contains("Added the console account t.one"), "{text}");
}

/// A tiny web server on loopback that answers every request the same way.
fn origin() -> u16 {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                line.clear();
            }
            let body = "hello from the origin";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// curl through the proxy: the status and the reason header, if any.
fn through_proxy(proxy: &str, url: &str) -> (u16, String) {
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--include",
            "--proxy",
        ])
        .arg(format!("http://{proxy}"))
        .arg(url)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let status = text
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// A JSON call to the console's API with a personal token.
fn api(base: &str, method: &str, path: &str, token: &str, body: Option<&str>) -> String {
    let mut command = Command::new("curl");
    command
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "20",
            "--request",
            method,
        ])
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"));
    if let Some(body) = body {
        command
            .args([
                "--header",
                "Content-Type: application/json",
                "--data-binary",
            ])
            .arg(body);
    }
    let output = command.arg(format!("{base}{path}")).output().expect("curl");
    assert!(output.status.success(), "curl {path}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A technician blocks a site through the console's API; the running proxy
/// enforces it within seconds (serve reloads when the audit trail moves),
/// and the console's "Test a URL" answers from the reloaded engine too.
#[test]
fn a_policy_change_through_the_console_api_is_enforced_by_the_running_proxy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let made = create_user(
        &data,
        &["t.tech", "--name", "Tess Tech", "--role", "technician"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let network = Command::new(bin())
        .arg("--data")
        .arg(&data)
        .args([
            "--by",
            "tester",
            "networks",
            "add",
            "Classrooms",
            "--range",
            "127.0.0.0/8",
            "--profile",
            "ks2",
        ])
        .env_remove("SCHOOLGATE_DATA")
        .output()
        .expect("run");
    assert!(
        network.status.success(),
        "{}",
        String::from_utf8_lossy(&network.stderr)
    );

    let port = origin();
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        "[reload]\npoll_seconds = 1\n[console]\nlisten = \"127.0.0.1:0\"\n\
         [proxy]\nlisten = [\"127.0.0.1:0\"]\n[proxy.resolve]\n\"www.example.org\" = \"127.0.0.1\"\n",
    )
    .expect("write");
    let serve = Serve::start(&data, &config);
    // Printed in this order: the console binds before the proxy.
    let console = serve.address("console");
    let proxy = serve.address("proxy");
    serve.wait_for("schoolgate is running");
    let site = format!("http://www.example.org:{port}/lessons");
    let (status, page) = through_proxy(&proxy, &site);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("hello from the origin"), "{page}");

    // Sign in as the technician and make a personal token.
    let base = format!("http://{console}");
    let curl = Curl {
        jar: dir.path().join("cookies.txt"),
        base: base.clone(),
        ca: None,
    };
    let form = curl.get("/sign-in");
    let signed_in = curl.post(
        "/sign-in",
        &[
            ("csrf", &form.csrf()),
            ("username", "t.tech"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(
        signed_in.header("location"),
        Some("/"),
        "{}",
        signed_in.body
    );
    let tokens = curl.get("/account/tokens");
    let made = curl.post(
        "/account/tokens",
        &[("csrf", &tokens.csrf()), ("name", "policy script")],
    );
    let token = made
        .between("<p class=\"secret\" id=\"new-token\">", "</p>")
        .expect("the new token");

    let current: serde_json::Value =
        serde_json::from_str(&api(&base, "GET", "/api/v1/policy", &token, None)).expect("json");
    let mut policy = current["policy"].clone();
    let ks2 = policy["profile"]
        .as_array_mut()
        .expect("profiles")
        .iter_mut()
        .find(|p| p["id"] == "ks2")
        .expect("ks2");
    ks2["deny"] = serde_json::json!(["www.example.org"]);
    let change = serde_json::json!({
        "base_revision": current["revision"],
        "reason": "pupils found a game on this site during lessons",
        "policy": policy,
    });
    let saved: serde_json::Value = serde_json::from_str(&api(
        &base,
        "PUT",
        "/api/v1/policy",
        &token,
        Some(&change.to_string()),
    ))
    .expect("json");
    assert_eq!(saved["actor"], "t.tech", "{saved}");
    assert_eq!(
        saved["changes"],
        serde_json::json!(["profile ks2: deny added www.example.org"])
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, page) = through_proxy(&proxy, &site);
        if status == 403 {
            assert!(
                page.contains("x-schoolgate-reason: deny:www.example.org"),
                "{page}"
            );
            break;
        }
        assert_eq!(status, 200, "{page}");
        assert!(
            std::time::Instant::now() < deadline,
            "the proxy still lets the site through 10 seconds after the change"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let checked: serde_json::Value = serde_json::from_str(&api(
        &base,
        "POST",
        "/api/v1/check",
        &token,
        Some(&format!("{{\"url\": \"{site}\", \"profile\": \"ks2\"}}")),
    ))
    .expect("json");
    assert_eq!(checked["verdict"], "block", "{checked}");
    assert_eq!(checked["rule"], "deny:www.example.org", "{checked}");
    serve.stop();
}
