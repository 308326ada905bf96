//! Monitoring end to end: `schoolgate serve` with `[monitoring]` and
//! `[mail]` pointing at a real SMTP server process (aiosmtpd) on loopback.
//! A worrying search through the proxy raises an alert the API shows, and
//! the DSL's email arrives with who, what, when and a link; a repeat in the
//! throttle window is folded into the alert and sends no second email.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{Serve, bin, create_user};

#[path = "../../notify/tests/common/mod.rs"]
mod smtp;
use smtp::SmtpServer;

const PASSWORD: &str = "Biscuit-Lantern-Orbit";

/// A stand-in for the search engine: answers every request with 200.
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
            let body = "search results";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn curl(args: &[&str]) -> String {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn run(data: &std::path::Path, args: &[&str]) {
    let out = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("SCHOOLGATE_DATA")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A personal API token for `username`, stored as the console keeps them.
fn api_token(data: &std::path::Path, username: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use store::Store;
        let store = store::sqlite::SqliteStore::open(&data.join("schoolgate.db"))
            .await
            .expect("open");
        // The DSL owes a second factor, which a token never skips: the
        // account has enrolled (as it would have in the console).
        let secret = console::two_factor::new_secret().expect("secret");
        store
            .begin_two_factor(username, &secret)
            .await
            .expect("begin");
        store
            .confirm_two_factor(username, 0)
            .await
            .expect("confirm");
        let token = console::secrets::random_token().expect("token");
        store
            .add_api_token(&store::ApiToken {
                id: 0,
                token_hash: console::secrets::digest(console::session::API_PURPOSE, &token),
                username: username.into(),
                name: "alerts test".into(),
                created_at: jiff::Timestamp::now(),
                last_used: None,
                revoked_at: None,
            })
            .await
            .expect("add token");
        store.close().await;
        token
    })
}

fn alerts(console: &str, token: &str) -> serde_json::Value {
    let body = curl(&[
        "--header",
        &format!("Authorization: Bearer {token}"),
        &format!("http://{console}/api/v1/alerts?state=new"),
    ]);
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

fn wait_until<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_worrying_search_reaches_the_dsl_by_email_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let made = create_user(
        &data,
        &[
            "d.lead",
            "--name",
            "Dee Lead",
            "--role",
            "dsl",
            "--email",
            "dsl@hillside.example",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // A staff account with an email must not be alerted.
    let staff = create_user(
        &data,
        &[
            "s.teacher",
            "--name",
            "Sam Teacher",
            "--role",
            "staff",
            "--email",
            "staff@hillside.example",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(staff.status.success());
    run(
        &data,
        &[
            "--by",
            "tester",
            "networks",
            "add",
            "Classrooms",
            "--range",
            "127.0.0.0/8",
            "--profile",
            "ks2",
        ],
    );
    let token = api_token(&data, "d.lead");

    let mail = SmtpServer::start(0, None);
    let port = origin();
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        format!(
            "[console]\nlisten = \"127.0.0.1:0\"\n\
             [proxy]\nlisten = [\"127.0.0.1:0\"]\n[proxy.resolve]\n\"www.google.com\" = \"127.0.0.1\"\n\"forcesafesearch.google.com\" = \"127.0.0.1\"\n\
             [mail]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"Schoolgate <schoolgate@hillside.example>\"\ntimeout_seconds = 5\n\
             [monitoring]\nenabled = true\npoll_seconds = 1\nthrottle_minutes = 60\n\
             school_opens = \"00:00\"\nschool_closes = \"23:59\"\n",
            mail.port
        ),
    )
    .expect("write");
    let serve = Serve::start(&data, &config);
    let console = serve.address("console");
    let proxy = serve.address("proxy");
    serve.wait_for("monitoring: on");
    serve.wait_for("schoolgate is running");

    let search = format!("http://www.google.com:{port}/search?q=how+to+kill+myself");
    let answer = curl(&["--proxy", &format!("http://{proxy}"), &search]);
    assert_eq!(answer, "search results");

    let alert = wait_until("the alert", || {
        let body = alerts(&console, &token);
        body["alerts"].as_array().and_then(|a| a.first().cloned())
    });
    assert_eq!(alert["category"], "self-harm", "{alert}");
    assert_eq!(alert["signal"], "phrase");
    assert_eq!(alert["term"], "how to kill myself");
    assert_eq!(alert["routing"], "immediate");
    assert!(
        alert["severity"].as_u64().expect("severity") >= 4,
        "{alert}"
    );
    let id = alert["id"].as_i64().expect("id");

    let messages = mail.wait_for(1);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(
        message["rcpt_tos"],
        serde_json::json!(["dsl@hillside.example"]),
        "{message}"
    );
    assert!(
        message["subject"]
            .as_str()
            .expect("subject")
            .contains("Safeguarding alert"),
        "{message}"
    );
    let text = message["text"].as_str().expect("text");
    assert!(text.contains("Who: not signed in"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(text.contains("When: "), "{text}");
    assert!(text.contains("\"how to kill myself\""), "{text}");
    assert!(
        text.contains(&format!("http://{console}/alerts/{id}")),
        "{text}"
    );

    // The same worry again within the hour: folded, not mailed again.
    curl(&["--proxy", &format!("http://{proxy}"), &search]);
    let folded = wait_until("the repeat to fold", || {
        let body = alerts(&console, &token);
        let first = body["alerts"].as_array()?.first()?.clone();
        (first["count"] == 2).then_some(body)
    });
    assert_eq!(
        folded["alerts"].as_array().expect("alerts").len(),
        1,
        "{folded}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mail.messages().len(), 1);

    serve.signal("TERM");
    serve.wait_for("stopped");
}
