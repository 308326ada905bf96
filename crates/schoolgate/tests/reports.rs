//! `schoolgate selftest` and `schoolgate report`, run as the real program
//! against a real data folder (issue 7: the self-test's results recorded;
//! reports produced, the governors' one as PDF).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use records::registers::{Entry, Register};
use store::Store;
use store::sqlite::SqliteStore;

struct School {
    dir: tempfile::TempDir,
    data: PathBuf,
}

impl School {
    fn new() -> School {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        School { dir, data }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_schoolgate"))
            .arg("--data")
            .arg(&self.data)
            .args(args)
            .env_remove("SCHOOLGATE_DATA")
            .output()
            .expect("run schoolgate")
    }

    fn text(out: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    async fn checks(&self) -> Vec<(String, String)> {
        let store = SqliteStore::open(&self.data.join("schoolgate.db"))
            .await
            .expect("open");
        let entries = store
            .register_entries(Register::FilteringChecks)
            .await
            .expect("register");
        store.close().await;
        entries
            .into_iter()
            .map(|e| match e.entry {
                Entry::FilteringCheck { tested, result, .. } => {
                    (format!("{} by {}", tested, e.actor), result)
                }
                other => panic!("not a check: {other:?}"),
            })
            .collect()
    }
}

fn line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(check))
        .unwrap_or_else(|| panic!("no line for {check} in:\n{out}"))
}

#[tokio::test]
async fn selftest_is_recorded_and_fails_when_adult_content_gets_through() {
    let school = School::new();
    let out = school.run(&["--by", "tech.lead", "selftest", "--profile", "ks2"]);
    let text = School::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        line(&text, "Adult content is blocked").contains("passed"),
        "{text}"
    );
    assert!(
        line(&text, "Childline is reachable").contains("passed"),
        "{text}"
    );
    // No statutory list imported yet, and no self-harm list in the starter lists.
    assert!(line(&text, "IWF test entry").contains("FAILED"), "{text}");
    assert!(line(&text, "Self-harm").contains("NO COVERAGE"), "{text}");

    // With the statutory lists loaded the test entries are blocked.
    for kind in ["iwf", "ctiru"] {
        let list = school.path(&format!("{kind}.txt"));
        std::fs::write(
            &list,
            "# invented test entry\nstatutory-test.example/secret-path/\n",
        )
        .expect("write");
        let out = school.run(&[
            "--by",
            "dsl",
            "lists",
            "import",
            "--statutory",
            kind,
            list.to_str().expect("p"),
        ]);
        assert!(out.status.success(), "{}", School::text(&out));
    }
    let text = School::text(&school.run(&["--by", "tech.lead", "selftest", "--profile", "ks2"]));
    assert!(line(&text, "IWF test entry").contains("passed"), "{text}");
    assert!(line(&text, "CTIRU test entry").contains("passed"), "{text}");

    // A profile edited to let adult content through fails the test.
    let exported = school.run(&["policy", "export"]);
    let policy = String::from_utf8(exported.stdout).expect("utf-8");
    let ks2 = policy.find("id = \"ks2\"").expect("ks2 profile");
    let porn = ks2
        + policy[ks2..]
            .find("    \"pornography\",\n")
            .expect("pornography blocked in ks2");
    let edited = format!(
        "{}{}",
        &policy[..porn],
        &policy[porn + "    \"pornography\",\n".len()..]
    );
    let file = school.path("policy.toml");
    std::fs::write(&file, edited).expect("write");
    let out = school.run(&[
        "--by",
        "dsl",
        "policy",
        "import",
        file.to_str().expect("p"),
        "--reason",
        "test: let adult content through",
    ]);
    assert!(out.status.success(), "{}", School::text(&out));
    let out = school.run(&["--by", "tech.lead", "selftest", "--profile", "ks2"]);
    let text = School::text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        line(&text, "Adult content is blocked").contains("FAILED"),
        "{text}"
    );
    assert!(
        line(&text, "Adult content is blocked").contains("let through"),
        "{text}"
    );

    let checks = school.checks().await;
    assert_eq!(checks.len(), 3, "{checks:?}");
    assert!(
        checks
            .iter()
            .all(|(tested, _)| tested.contains("profile ks2") && tested.ends_with("by tech.lead"))
    );
    assert!(
        checks
            .iter()
            .all(|(_, result)| result.starts_with("failed:"))
    );
    assert!(
        checks[2].1.contains("2 failed") || checks[2].1.contains("1 failed"),
        "{checks:?}"
    );

    // An unknown profile is refused before anything is recorded.
    let out = school.run(&["--by", "tech.lead", "selftest", "--profile", "ks9"]);
    assert_eq!(out.status.code(), Some(64), "{}", School::text(&out));
    assert_eq!(school.checks().await.len(), 3);
}

fn is_pdf_with_title(path: &Path, title: &str) -> bool {
    let bytes = std::fs::read(path).expect("pdf");
    bytes.starts_with(b"%PDF") && bytes.windows(title.len()).any(|w| w == title.as_bytes())
}

#[test]
fn reports_are_written_and_the_governors_one_prints_to_pdf() {
    let school = School::new();
    let csv = school.path("week.csv");
    let out = school.run(&[
        "report",
        "weekly",
        "--from",
        "2026-11-02",
        "--csv",
        csv.to_str().expect("p"),
    ]);
    assert!(out.status.success(), "{}", School::text(&out));
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert!(
        text.starts_with("Person,Username or address,Year group,Class,Category,Attempts,"),
        "{text}"
    );

    let out = school.run(&["report", "weekly", "--from", "2026-11-31"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(School::text(&out).contains("year-month-day"));
    let out = school.run(&["report", "weekly", "--from", "2026-11-02", "--email"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        School::text(&out).contains("weekly_recipients"),
        "{}",
        School::text(&out)
    );

    // With recipients configured, the report is queued in the outbox with the CSV attached.
    let config = school.path("schoolgate.toml");
    std::fs::write(
        &config,
        "[reports]\nschool_name = \"Dallimore Primary\"\nweekly_recipients = [\"dsl@school.example\", \"head@school.example\"]\n",
    )
    .expect("config");
    let args = [
        "report",
        "weekly",
        "--from",
        "2026-11-02",
        "--email",
        "--config",
        config.to_str().expect("p"),
    ];
    let out = school.run(&args);
    assert!(out.status.success(), "{}", School::text(&out));
    assert!(
        School::text(&out)
            .contains("Queued the report for dsl@school.example, head@school.example")
    );
    let out = school.run(&args);
    assert!(
        School::text(&out).contains("queued before"),
        "{}",
        School::text(&out)
    );
    let entries = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let store = SqliteStore::open(&school.data.join("schoolgate.db"))
                .await
                .expect("open");
            let entries = store.outbox_entries(10).await.expect("outbox");
            store.close().await;
            entries
        });
    assert_eq!(entries.len(), 1, "queued once");
    assert_eq!(
        entries[0].destination,
        "dsl@school.example, head@school.example"
    );
    assert_eq!(entries[0].kind, "weekly-report");
    assert!(
        entries[0]
            .payload
            .contains("restricted-attempts-2026-11-02.csv"),
        "{}",
        &entries[0].payload[..200.min(entries[0].payload.len())]
    );

    let out = school.run(&["report", "governors", "--term", "2026-winter"]);
    assert_eq!(out.status.code(), Some(64));
    if console::pdf::chromium().is_none() {
        eprintln!(
            "Chromium is not installed: the PDF part of this test needs it (scripts/test installs it)"
        );
        return;
    }
    let pdf = school.path("governors.pdf");
    let out = school.run(&[
        "report",
        "governors",
        "--term",
        "2026-autumn",
        "--pdf",
        pdf.to_str().expect("p"),
    ]);
    assert!(out.status.success(), "{}", School::text(&out));
    assert!(is_pdf_with_title(
        &pdf,
        "Online safety report to governors: Autumn term 2026"
    ));
}
