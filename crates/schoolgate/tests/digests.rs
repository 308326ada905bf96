//! The morning schedule end to end, against a real SMTP server process
//! (aiosmtpd) on loopback: alerts seeded in a week of November 2025, one
//! step of the schedule at a chosen time (`schoolgate schedule --at`), and
//! `schoolgate serve` sending what it queued. The DSL and deputy get the
//! daily and weekly digests (never staff, never a disabled account), the
//! named person gets the weekly report with its CSV, a second step queues
//! nothing, and serve, whose own schedule catches up at start, stops
//! promptly.

use std::process::Command;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use store::Store;
use store::sqlite::SqliteStore;

mod common;
use common::{Serve, bin, create_user};

#[path = "../../notify/tests/common/mod.rs"]
mod smtp;
use smtp::SmtpServer;

const PASSWORD: &str = "Biscuit-Lantern-Orbit";
const CONSOLE: &str = "https://console.hillside.example";

fn at(text: &str) -> Timestamp {
    text.parse().expect("time")
}

fn schedule(data: &std::path::Path, config: &std::path::Path, when: &str) -> String {
    let out = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(["schedule", "--at", when, "--config"])
        .arg(config)
        .env_remove("SCHOOLGATE_DATA")
        .output()
        .expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

fn alert(id: i64, raised: &str, person: &str, category: &str, routing: &str) -> store::NewAlert {
    store::NewAlert {
        id,
        raised_at: at(raised),
        person: Some(person.into()),
        device: Some("LAPTOP-07".into()),
        client_ip: "10.0.5.17".into(),
        category: category.into(),
        severity: if routing == "daily" { 3 } else { 2 },
        signal: "phrase".into(),
        phrase_key: None,
        phrase: Some("an invented phrase".into()),
        term: Some("an invented phrase".into()),
        url: None,
        count: 1,
        first_at: at(raised),
        last_at: at(raised),
        first_event: id,
        last_event: id,
        routing: routing.into(),
    }
}

fn blocked(when: &str) -> store::ActivityEvent {
    store::ActivityEvent {
        at: at(when),
        source: store::Source::Proxy,
        client_ip: "10.0.5.17".into(),
        username: Some("amara.okafor".into()),
        device: Some("LAPTOP-07".into()),
        profile: "ks2".into(),
        method: "GET".into(),
        url: "http://adult.example/".into(),
        host: "adult.example".into(),
        search_term: None,
        categories: "pornography".into(),
        verdict: "block".into(),
        rule: "category".into(),
        status: Some(403),
        bytes: 0,
        duration_ms: 1,
        reference: None,
    }
}

/// Alerts and blocked attempts in the week of Monday 10 November 2025, and
/// a DSL account that is switched off.
fn seed(data: &std::path::Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(&data.join("schoolgate.db"))
            .await
            .expect("open");
        store
            .record_alerts(&store::AlertBatch {
                raised: vec![
                    // Thursday: in Friday's digest, not Monday's.
                    alert(
                        1,
                        "2025-11-13T10:00:00Z",
                        "amara.okafor",
                        "bullying",
                        "daily",
                    ),
                    // Friday to Sunday: Monday's daily digest.
                    alert(
                        2,
                        "2025-11-14T10:00:00Z",
                        "amara.okafor",
                        "bullying",
                        "daily",
                    ),
                    alert(
                        3,
                        "2025-11-15T15:30:00Z",
                        "amara.okafor",
                        "bullying",
                        "daily",
                    ),
                    alert(
                        4,
                        "2025-11-16T20:00:00Z",
                        "ben.adeyemi",
                        "self-harm",
                        "daily",
                    ),
                    // The week: Monday's weekly digest.
                    alert(5, "2025-11-11T09:00:00Z", "ben.adeyemi", "drugs", "weekly"),
                    // Monday before 07:30: Tuesday's digest.
                    alert(
                        6,
                        "2025-11-17T01:00:00Z",
                        "amara.okafor",
                        "bullying",
                        "daily",
                    ),
                ],
                folded: Vec::new(),
                cursor: 0,
            })
            .await
            .expect("alerts");
        store
            .record_activity(&[
                blocked("2025-11-11T10:00:00Z"),
                blocked("2025-11-12T10:00:00Z"),
            ])
            .await
            .expect("activity");
        store
            .set_console_account_disabled("d.former", true, "tester")
            .await
            .expect("disable");
        store.close().await;
    });
}

/// Standard base64, as the test SMTP server writes attachments.
fn unbase64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut held = 0;
    let mut out = Vec::new();
    for c in text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
    {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        bits = (bits << 6) | value;
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    out
}

#[test]
fn digests_and_the_weekly_report_go_out_once_to_the_right_people() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for (username, role, email) in [
        ("d.lead", "dsl", "dsl@hillside.example"),
        ("d.deputy", "deputy-dsl", "deputy@hillside.example"),
        ("s.teacher", "staff", "staff@hillside.example"),
        ("d.former", "dsl", "former@hillside.example"),
    ] {
        let made = create_user(
            &data,
            &[
                username,
                "--name",
                &format!("Invented {username}"),
                "--role",
                role,
                "--email",
                email,
            ],
            &format!("{PASSWORD}\n"),
        );
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
    seed(&data);

    let mail = SmtpServer::start(0, None);
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        format!(
            "[console]\nlisten = \"127.0.0.1:0\"\npublic_url = \"{CONSOLE}\"\n\
             [proxy]\nlisten = [\"127.0.0.1:0\"]\n\
             [mail]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"Schoolgate <schoolgate@hillside.example>\"\ntimeout_seconds = 5\n\
             [monitoring]\ndigest_at = \"07:30\"\n\
             [reports]\nschool_name = \"Hillside Primary\"\n\
             weekly_recipients = [\"Head <head@hillside.example>\"]\n",
            mail.port
        ),
    )
    .expect("write");

    // Monday 17 November 2025, 08:00 in London: long enough ago that serve's own
    // schedule, on the real clock, is always about a later week.
    let first = schedule(&data, &config, "2025-11-17T08:00:00Z");
    for line in [
        "Queued the daily digest for Friday 14 to Sunday 16 November 2025 (to 2 addresses)",
        "Queued the weekly digest for Monday 10 to Sunday 16 November 2025 (to 2 addresses)",
        "Queued the weekly report for Monday 10 to Sunday 16 November 2025 (to 1 address)",
    ] {
        assert!(first.contains(line), "{first}");
    }
    let second = schedule(&data, &config, "2025-11-17T08:01:00Z");
    assert_eq!(
        second.matches("queued before; not queued again").count(),
        3,
        "{second}"
    );
    assert!(!second.contains("Queued "), "{second}");

    let serve = Serve::start(&data, &config);
    let lines = serve.lines_until("schoolgate is running");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("digests: daily at 07:30 on school days, weekly on Mondays")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l
            .contains("weekly report: emailed Mondays at 07:30 to Head <head@hillside.example>")),
        "{lines:?}"
    );
    // Serve's own schedule catches up at start with the real week's report
    // (the seeded alerts are all in an older week, so no real digest).
    serve.wait_for("schedule: queued the weekly report for");

    let messages = mail.wait_for(4);
    let find = |start: &str| {
        messages
            .iter()
            .find(|m| m["subject"].as_str().is_some_and(|s| s.starts_with(start)))
            .unwrap_or_else(|| panic!("no message '{start}' in {messages:?}"))
            .clone()
    };

    let daily = find("Daily safeguarding digest");
    assert_eq!(
        daily["subject"],
        "Daily safeguarding digest: 3 alerts, Friday 14 to Sunday 16 November 2025"
    );
    let mut to: Vec<&str> = daily["rcpt_tos"]
        .as_array()
        .expect("recipients")
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    to.sort_unstable();
    assert_eq!(to, ["deputy@hillside.example", "dsl@hillside.example"]);
    // Mail travels with CRLF line ends.
    let text = daily["text"].as_str().expect("text").replace("\r\n", "\n");
    assert!(
        text.contains("  Bullying: 2 alerts, highest severity 3 of 5"),
        "{text}"
    );
    assert!(text.contains("  Self-harm"), "{text}");
    assert!(
        text.contains("  amara.okafor: 2 alerts, highest severity 3 of 5, from Fri 14 Nov 10:00 to Sat 15 Nov 15:30 (UK time)"),
        "{text}"
    );
    assert!(text.contains(&format!("{CONSOLE}/alerts/2\n")), "{text}");
    assert!(text.contains(&format!("{CONSOLE}/alerts/4\n")), "{text}");
    assert!(
        !text.contains(&format!("{CONSOLE}/alerts/1\n")),
        "Thursday's: {text}"
    );
    assert!(
        !text.contains(&format!("{CONSOLE}/alerts/6\n")),
        "Monday's: {text}"
    );
    assert!(
        !text.contains(&format!("{CONSOLE}/alerts/5\n")),
        "weekly: {text}"
    );
    assert!(
        text.contains("change digest_at in the [monitoring] table"),
        "{text}"
    );

    let weekly = find("Weekly safeguarding digest");
    assert_eq!(
        weekly["subject"],
        "Weekly safeguarding digest: 1 alert, Monday 10 to Sunday 16 November 2025"
    );
    let text = weekly["text"].as_str().expect("text").replace("\r\n", "\n");
    assert!(text.contains(&format!("{CONSOLE}/alerts/5\n")), "{text}");
    assert!(text.contains("ben.adeyemi: 1 alert"), "{text}");

    let report = find("Attempts to reach restricted material: Monday 10 November 2025");
    assert_eq!(
        report["rcpt_tos"],
        serde_json::json!(["head@hillside.example"])
    );
    let attachment = &report["attachments"][0];
    assert_eq!(attachment["filename"], "restricted-attempts-2025-11-10.csv");
    assert_eq!(attachment["content_type"], "text/csv");
    let csv =
        String::from_utf8(unbase64(attachment["content"].as_str().expect("csv"))).expect("UTF-8");
    assert!(csv.starts_with("Person,Username or address,"), "{csv}");
    assert!(csv.contains("amara.okafor"), "{csv}");
    assert!(
        report["text"]
            .as_str()
            .is_some_and(|t| t.contains("2 attempts to reach restricted material by 1 people")),
        "{report}"
    );

    // Nobody else was written to, and nothing twice.
    for m in &messages {
        let to = m["rcpt_tos"].to_string();
        assert!(!to.contains("staff@") && !to.contains("former@"), "{m}");
    }
    let again = schedule(&data, &config, "2025-11-17T09:00:00Z");
    assert!(!again.contains("Queued "), "{again}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(mail.messages().len(), messages.len());

    // The schedule's thread does not hold up a stop.
    let started = Instant::now();
    serve.stop();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "serve took {:?} to stop",
        started.elapsed()
    );
}
