//! The real `schoolgate` binary in temporary data folders: every command the
//! filtering brain offers, with the bundled starter lists (real UT1 entries:
//! UT1 blacklists, Université Toulouse Capitole, CC BY-SA 4.0).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// A Wednesday in term, London time: lesson at 09:15, lunch at 12:15.
const LESSON: &str = "2026-11-18T09:15:00Z";
const LUNCH: &str = "2026-11-18T12:15:00Z";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_schoolgate")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A data folder set up once with the starter lists, copied for each test:
/// setting one up takes a second or two.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let data = dir.path().join("data");
            let out = Command::new(bin())
                .arg("--data")
                .arg(&data)
                .args(["lists", "status"])
                .env_remove("SCHOOLGATE_DATA")
                .output()
                .expect("run");
            assert!(
                out.status.success(),
                "set-up failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            (dir, data)
        })
        .1
}

struct School {
    _dir: tempfile::TempDir,
    data: PathBuf,
}

impl School {
    fn new() -> School {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        copy_dir(template(), &data);
        School { _dir: dir, data }
    }

    fn path(&self, name: &str) -> PathBuf {
        self._dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .arg("--data")
            .arg(&self.data)
            .args(args)
            .env_remove("SCHOOLGATE_DATA")
            .env_remove("USER")
            .env_remove("SUDO_USER")
            .env_remove("LOGNAME")
            .output()
            .expect("run schoolgate")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "schoolgate {args:?} failed ({:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "schoolgate {args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8")
    }

    fn check(&self, profile: &str, at: &str, url: &str) -> Value {
        let out = self.ok(&["check", "--json", "--profile", profile, "--at", at, url]);
        serde_json::from_str(out.trim()).expect("one JSON object")
    }
}

fn verdict(v: &Value) -> &str {
    v["verdict"].as_str().expect("verdict")
}

fn rule(v: &Value) -> &str {
    v["rule"].as_str().expect("rule")
}

fn categories(v: &Value) -> Vec<&str> {
    v["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| c.as_str().expect("id"))
        .collect()
}

#[test]
fn check_json_has_the_documented_fields() {
    let school = School::new();
    let out = school.ok(&[
        "check",
        "--json",
        "--profile",
        "ks2",
        "--at",
        LESSON,
        "https://www.bet365.com/",
        "http://www.example.org/",
    ]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    for field in [
        "url",
        "verdict",
        "categories",
        "rule",
        "profile",
        "reason",
        "matches",
    ] {
        assert!(first.get(field).is_some(), "{field} missing from {first}");
    }
    assert_eq!(first["profile"], "ks2");
    assert_eq!(verdict(first), "block");
    assert_eq!(rule(first), "category:gambling");
    assert!(categories(first).contains(&"gambling"));
    assert_eq!(first["matches"][0]["entry"], "bet365.com");
    assert_eq!(verdict(&lines[1]), "allow");
    assert_eq!(rule(&lines[1]), "default");
}

#[test]
fn text_output_explains_the_verdict() {
    let school = School::new();
    let out = school.ok(&[
        "check",
        "--profile",
        "ks2",
        "--at",
        LESSON,
        "https://www.bet365.com/",
    ]);
    assert!(out.contains("verdict:    BLOCK"), "{out}");
    assert!(out.contains("rule:       category:gambling"), "{out}");
    assert!(
        out.contains("listed:     bet365.com in ut1/gambling (gambling)"),
        "{out}"
    );
}

/// Every shipped default profile against real UT1 entries from the starter lists.
#[test]
fn default_profiles_against_the_starter_lists() {
    let school = School::new();
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // profile, time, url, verdict, rule
        (
            "ks2",
            LESSON,
            "https://www.bet365.com/",
            "block",
            "category:gambling",
        ),
        (
            "ks2",
            LESSON,
            "https://www.facebook.com/",
            "block",
            "category:social-networking",
        ),
        (
            "ks2",
            LESSON,
            "https://nordvpn.com/",
            "block",
            "category:vpn",
        ),
        (
            "ks2",
            LESSON,
            "https://dns.google/dns-query",
            "block",
            "category:dns-over-https",
        ),
        (
            "ks2",
            LESSON,
            "https://chatgpt.com/",
            "block",
            "category:generative-ai",
        ),
        (
            "ks2",
            LESSON,
            "https://www.roblox.com/",
            "block",
            "category:games",
        ),
        (
            "ks2",
            LESSON,
            "https://www.youtube.com/watch?v=x",
            "safe-search",
            "default",
        ),
        (
            "ks2",
            LESSON,
            "https://www.childline.org.uk/",
            "allow",
            "allow:childline.org.uk",
        ),
        (
            "ks2",
            LESSON,
            "https://www.nhs.uk/mental-health/",
            "allow",
            "allow:nhs.uk",
        ),
        ("ks2", LESSON, "http://203.0.113.9/", "block", "ip-address"),
        (
            "eyfs-ks1",
            LESSON,
            "https://www.example.org/",
            "block",
            "walled-garden",
        ),
        (
            "eyfs-ks1",
            LESSON,
            "https://www.bbc.co.uk/bitesize",
            "allow",
            "allow:bbc.co.uk/bitesize",
        ),
        (
            "eyfs-ks1",
            LESSON,
            "https://www.bet365.com/",
            "block",
            "walled-garden",
        ),
        (
            "eyfs-ks1",
            LESSON,
            "https://www.childline.org.uk/",
            "allow",
            "allow:childline.org.uk",
        ),
        (
            "staff",
            LESSON,
            "https://www.facebook.com/",
            "block",
            "category:social-networking",
        ),
        (
            "staff",
            LUNCH,
            "https://www.facebook.com/",
            "allow",
            "schedule:Lunch",
        ),
        (
            "staff",
            LUNCH,
            "https://www.bet365.com/",
            "block",
            "category:gambling",
        ),
        ("staff", LESSON, "https://chatgpt.com/", "allow", "default"),
        (
            "staff",
            LESSON,
            "https://www.youtube.com/",
            "safe-search",
            "default",
        ),
        (
            "guest",
            LESSON,
            "https://www.facebook.com/",
            "allow",
            "default",
        ),
        (
            "guest",
            LESSON,
            "https://www.bet365.com/",
            "block",
            "category:gambling",
        ),
        (
            "guest",
            LESSON,
            "https://nordvpn.com/",
            "block",
            "category:vpn",
        ),
    ];
    for (profile, at, url, want_verdict, want_rule) in cases {
        let v = school.check(profile, at, url);
        assert_eq!(
            (verdict(&v), rule(&v)),
            (*want_verdict, *want_rule),
            "{profile} {url}: {v}"
        );
    }
    // YouTube's restriction differs between pupils and staff.
    assert_eq!(
        school.check("ks2", LESSON, "https://www.youtube.com/")["safe_search_host"],
        "restrict.youtube.com"
    );
    assert_eq!(
        school.check("staff", LESSON, "https://www.youtube.com/")["safe_search_host"],
        "restrictmoderate.youtube.com"
    );
}

#[test]
fn unidentified_people_get_the_strictest_pupil_profile() {
    let school = School::new();
    let out = school.ok(&[
        "check",
        "--json",
        "--at",
        LESSON,
        "https://www.example.org/",
    ]);
    let v: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["profile"], "eyfs-ks1");
    assert_eq!(rule(&v), "walled-garden");
}

#[test]
fn unknown_profiles_bad_times_and_bad_urls_are_errors() {
    let school = School::new();
    let err = school.fails(&["check", "--profile", "year7", "http://example.org/"], 64);
    assert!(err.contains("there is no profile 'year7'"), "{err}");
    let err = school.fails(&["check", "--at", "tomorrow", "http://example.org/"], 64);
    assert!(
        err.contains("--at 'tomorrow' is not an RFC 3339 time"),
        "{err}"
    );
    let out = school.run(&[
        "check",
        "--profile",
        "ks2",
        "http://[zz/",
        "https://www.bet365.com/",
    ]);
    assert_eq!(out.status.code(), Some(65));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'http://[zz/' is not a URL schoolgate can check"),
        "{stderr}"
    );
    // The good URL was still checked.
    assert!(String::from_utf8_lossy(&out.stdout).contains("category:gambling"));
}

#[test]
fn importing_a_domain_list_reports_junk_with_line_numbers() {
    let school = School::new();
    let file = school.write(
        "local-games.txt",
        "# games the school blocks\nlocal-game-one.example\nLOCAL-GAME-TWO.example.\n*.local-game-three.example\nhttp//bad\nlocal-game-one.example\n\nnot a domain\n",
    );
    let file = file.to_str().expect("path");
    let out = school.run(&[
        "--by",
        "a.technician",
        "lists",
        "import",
        "--format",
        "domains",
        "--category",
        "games",
        file,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 junk lines"), "{stderr}");
    assert!(stderr.contains("line 5: 'http//bad'"), "{stderr}");
    assert!(stderr.contains("line 8: 'not a domain'"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("as local/local-games (games): 3 domains"),
        "{stdout}"
    );

    for url in [
        "http://local-game-one.example/",
        "https://www.local-game-two.example/",
        "http://local-game-three.example/x",
    ] {
        let v = school.check("ks2", LESSON, url);
        assert_eq!(rule(&v), "category:games", "{url}: {v}");
        assert_eq!(v["matches"][0]["lists"][0], "local/local-games (games)");
    }
    let status = school.ok(&["lists", "status"]);
    assert!(status.contains("local/local-games"), "{status}");
    assert!(status.contains("by a.technician"), "{status}");
    assert!(status.contains("imported (UK time)"), "{status}");
    // The starter lists are still there.
    assert_eq!(
        rule(&school.check("ks2", LESSON, "https://www.bet365.com/")),
        "category:gambling"
    );
}

#[test]
fn a_file_that_is_mostly_junk_is_refused_and_nothing_changes() {
    let school = School::new();
    let before = school.ok(&["lists", "status", "--json"]);
    let file = school.write(
        "not-a-list.txt",
        "<html>\n<head><title>Not found</title></head>\n<body>\n<p>The page is gone</p>\nok-domain.example\n</body>\n</html>\n",
    );
    let file = file.to_str().expect("path");
    let err = school.fails(
        &[
            "--by",
            "tech",
            "lists",
            "import",
            "--format",
            "domains",
            "--category",
            "games",
            file,
        ],
        65,
    );
    assert!(err.contains("line 1 of"), "{err}");
    assert!(err.contains("not-a-list.txt"), "{err}");
    assert!(err.contains("was refused"), "{err}");
    assert_eq!(school.ok(&["lists", "status", "--json"]), before);
    assert_eq!(
        verdict(&school.check("ks2", LESSON, "http://ok-domain.example/")),
        "allow"
    );
}

#[test]
fn hosts_and_url_lists_import() {
    let school = School::new();
    let hosts = school.write(
        "hosts",
        "127.0.0.1 localhost\n0.0.0.0 tracker-one.example tracker-two.example # ads\n::1 ip6-localhost\n",
    );
    school.ok(&[
        "--by",
        "tech",
        "lists",
        "import",
        "--format",
        "hosts",
        "--category",
        "advertising",
        hosts.to_str().expect("p"),
    ]);
    assert_eq!(
        rule(&school.check("ks2", LESSON, "http://tracker-two.example/")),
        "category:advertising"
    );
    assert_eq!(
        verdict(&school.check("ks2", LESSON, "http://localhost/")),
        "allow"
    );

    let urls = school.write(
        "cheats.txt",
        "homework-site.example/answers/\nhttps://other.example/cheat?id=3\n",
    );
    school.ok(&[
        "--by",
        "tech",
        "lists",
        "import",
        "--format",
        "urls",
        "--category",
        "cheating",
        "--name",
        "local/cheats",
        urls.to_str().expect("p"),
    ]);
    assert_eq!(
        rule(&school.check("ks2", LESSON, "http://homework-site.example/answers/maths")),
        "category:cheating"
    );
    assert_eq!(
        verdict(&school.check("ks2", LESSON, "http://homework-site.example/lessons")),
        "allow"
    );
    assert_eq!(
        rule(&school.check("ks2", LESSON, "http://other.example/cheat?id=3")),
        "category:cheating"
    );
    assert_eq!(
        verdict(&school.check("ks2", LESSON, "http://other.example/cheat?id=4")),
        "allow"
    );
}

#[test]
fn unknown_categories_and_missing_options_are_usage_errors() {
    let school = School::new();
    let file = school.write("x.txt", "a.example\n");
    let file = file.to_str().expect("path");
    let err = school.fails(
        &[
            "--by",
            "t",
            "lists",
            "import",
            "--format",
            "domains",
            "--category",
            "nasty",
            file,
        ],
        64,
    );
    assert!(err.contains("'nasty' is not a category"), "{err}");
    assert!(err.contains("gambling"), "the error lists the ids: {err}");
    let err = school.fails(
        &["--by", "t", "lists", "import", "--format", "domains", file],
        64,
    );
    assert!(err.contains("--category is required"), "{err}");
    let err = school.fails(
        &[
            "lists",
            "import",
            "--format",
            "domains",
            "--category",
            "games",
            file,
        ],
        64,
    );
    assert!(err.contains("--by NAME"), "{err}");
}

#[test]
fn a_ut1_folder_replaces_the_ut1_lists() {
    let school = School::new();
    let root = school.path("ut1");
    std::fs::create_dir_all(root.join("gambling")).expect("mkdir");
    std::fs::create_dir_all(root.join("adult")).expect("mkdir");
    std::fs::write(root.join("gambling/domains"), "new-casino.example\n").expect("write");
    std::fs::write(root.join("adult/urls"), "adult-pages.example/gallery\n").expect("write");
    // As in a checkout without symbolic links: an alias is a file naming its target.
    std::fs::write(root.join("porn"), "adult").expect("write");
    let out = school.ok(&[
        "--by",
        "tech",
        "lists",
        "import",
        "--format",
        "ut1",
        root.to_str().expect("p"),
    ]);
    assert!(out.contains("Imported 2 UT1 categories"), "{out}");
    assert_eq!(
        rule(&school.check("ks2", LESSON, "http://new-casino.example/")),
        "category:gambling"
    );
    assert_eq!(
        rule(&school.check("ks2", LESSON, "http://adult-pages.example/gallery/1")),
        "category:pornography"
    );
    // The starter's UT1 lists were replaced, not added to.
    assert_eq!(
        verdict(&school.check("ks2", LESSON, "https://www.bet365.com/")),
        "allow"
    );
    let status = school.ok(&["lists", "status"]);
    assert!(status.contains("2 lists"), "{status}");
}

fn all_bytes_under(dir: &Path, out: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            all_bytes_under(&path, out);
        } else {
            out.extend(std::fs::read(&path).expect("read"));
        }
    }
}

#[test]
fn statutory_lists_block_first_and_are_never_shown() {
    let school = School::new();
    // An allow override on the same host must not matter.
    let policy = school.ok(&["policy", "export"]);
    let policy = policy.replace(
        "allow = [\n    \"childline.org.uk\",",
        "allow = [\n    \"statutory-test.example\",\n    \"childline.org.uk\",",
    );
    let file = school.write("policy.toml", &policy);
    school.ok(&[
        "--by",
        "dsl",
        "policy",
        "import",
        file.to_str().expect("p"),
        "--reason",
        "test: allow the host",
    ]);

    let list = school.write(
        "iwf.txt",
        "# invented test entries\nstatutory-test.example/secret-path/\n",
    );
    let out = school.ok(&[
        "--by",
        "dsl",
        "lists",
        "import",
        "--statutory",
        "iwf",
        list.to_str().expect("p"),
    ]);
    assert!(out.contains("1 entries"), "{out}");
    assert!(!out.contains("secret-path"), "{out}");

    for profile in ["ks2", "staff", "guest", "eyfs-ks1"] {
        let v = school.check(
            profile,
            LUNCH,
            "https://statutory-test.example/secret-path/page.html",
        );
        assert_eq!(
            (verdict(&v), rule(&v)),
            ("block", "statutory:iwf"),
            "{profile}: {v}"
        );
        assert!(
            v["reason"]
                .as_str()
                .expect("reason")
                .contains("Internet Watch Foundation")
        );
    }
    assert_eq!(
        rule(&school.check("ks2", LESSON, "https://statutory-test.example/other")),
        "allow:statutory-test.example"
    );

    let status = school.ok(&["lists", "status"]);
    assert!(status.contains("Internet Watch Foundation"), "{status}");
    assert!(status.contains("1 entries, fingerprint"), "{status}");
    assert!(!status.contains("secret-path"), "{status}");
    let json = school.ok(&["lists", "status", "--json"]);
    assert!(!json.contains("secret-path"), "{json}");
    // Nothing in the data folder holds the entry in plain text.
    let mut everything = Vec::new();
    all_bytes_under(&school.data, &mut everything);
    assert!(
        !everything.windows(11).any(|w| w == b"secret-path"),
        "the entry is stored in plain text"
    );

    // The same entry as a SHA-256 hash gives the same fingerprint.
    let fingerprint = |status: &str| {
        let at = status.find("fingerprint ").expect("fingerprint") + 12;
        status[at..at + 16].to_owned()
    };
    let plain = fingerprint(&status);
    let hashed = school.write(
        "iwf-hashed.txt",
        &format!("{}\n", sha256_hex("statutory-test.example/secret-path")),
    );
    school.ok(&[
        "--by",
        "dsl",
        "lists",
        "import",
        "--statutory",
        "iwf",
        hashed.to_str().expect("p"),
    ]);
    let status = school.ok(&["lists", "status"]);
    assert_eq!(fingerprint(&status), plain);
    assert!(status.contains("(from hashes)"), "{status}");
    assert_eq!(
        rule(&school.check(
            "staff",
            LESSON,
            "http://STATUTORY-TEST.example:80/secret-path"
        )),
        "statutory:iwf"
    );
}

fn sha256_hex(text: &str) -> String {
    // A small independent SHA-256 would be overkill here: the binary's own
    // hashing is what is under test, so ask a system tool when there is one.
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("sha256sum (coreutils)");
    String::from_utf8_lossy(&out.stdout)[..64].to_owned()
}

#[test]
fn a_bad_statutory_file_is_refused_whole() {
    let school = School::new();
    let list = school.write("ctiru.txt", "good.example/a\nhttp://[::1/\n");
    let err = school.fails(
        &[
            "--by",
            "dsl",
            "lists",
            "import",
            "--statutory",
            "ctiru",
            list.to_str().expect("p"),
        ],
        65,
    );
    assert!(err.contains("line 2 of"), "{err}");
    let status = school.ok(&["lists", "status"]);
    assert!(
        status.contains("Counter Terrorism Internet Referral Unit   NOT LOADED"),
        "{status}"
    );
}

#[test]
fn policy_changes_need_a_reason_and_land_in_the_history() {
    let school = School::new();
    let exported = school.path("policy.toml");
    school.ok(&["policy", "export", exported.to_str().expect("p")]);
    let text = std::fs::read_to_string(&exported).expect("read");
    assert!(text.contains("[[profile]]"), "{text}");
    let changed = text
        .replacen("    \"games\",\n", "", 1)
        .replace("name = \"Our school\"", "name = \"Dallimore Primary\"");
    assert_ne!(changed, text);
    let file = school.write("changed.toml", &changed);
    let file = file.to_str().expect("p");

    let err = school.fails(
        &[
            "--by",
            "a.technician",
            "policy",
            "import",
            file,
            "--reason",
            "  ",
        ],
        64,
    );
    assert!(err.contains("a reason is required"), "{err}");
    let err = school.fails(&["--by", "a.technician", "policy", "import", file], 64);
    assert!(err.contains("--reason"), "{err}");

    let out = school.ok(&[
        "--by",
        "a.technician",
        "policy",
        "import",
        file,
        "--reason",
        "Coding club uses game sites; risk assessed with the DSL",
    ]);
    assert!(out.contains("Saved revision 2"), "{out}");
    assert!(
        out.contains("school: name changed from Our school to Dallimore Primary"),
        "{out}"
    );
    assert!(out.contains("blocked_categories removed games"), "{out}");

    let history = school.ok(&["policy", "history"]);
    assert!(history.contains("Revision 2"), "{history}");
    assert!(history.contains("by a.technician"), "{history}");
    assert!(
        history.contains("Why: Coding club uses game sites"),
        "{history}"
    );
    assert!(history.contains("Revision 1"), "{history}");
    let json = school.ok(&["policy", "history", "--json", "--limit", "1"]);
    let latest: Value = serde_json::from_str(json.trim()).expect("json");
    assert_eq!(latest["revision"], 2);
    assert_eq!(latest["by"], "a.technician");

    let err = school.fails(
        &[
            "--by",
            "a.technician",
            "policy",
            "import",
            file,
            "--reason",
            "again",
        ],
        64,
    );
    assert!(err.contains("nothing would change"), "{err}");

    let shown = school.ok(&["policy", "show"]);
    assert!(shown.contains("Dallimore Primary"), "{shown}");
    assert!(shown.contains("revision 2"), "{shown}");
}

#[test]
fn bad_policies_are_refused_with_the_place_named() {
    let school = School::new();
    let text = school.ok(&["policy", "export"]);
    let cases: &[(&str, String, &str)] = &[
        (
            "unknown key",
            text.replacen(
                "walled_garden = true",
                "walled_garden = true\nwalled_gardn = false",
                1,
            ),
            "walled_gardn",
        ),
        (
            "unknown category",
            text.replacen("\"gambling\"", "\"betting\"", 1),
            "'betting' is not a schoolgate category",
        ),
        (
            "bad time",
            text.replacen("from = \"12:00\"", "from = \"12.00\"", 1),
            "HH:MM",
        ),
        (
            "bad override",
            text.replacen("\"childline.org.uk\"", "\"http://[bad\"", 1),
            "allow[",
        ),
        (
            "staff default",
            text.replacen(
                "unidentified_profile = \"eyfs-ks1\"",
                "unidentified_profile = \"staff\"",
                1,
            ),
            "must get a pupil profile",
        ),
    ];
    for (what, changed, expected) in cases {
        assert_ne!(changed, &text, "{what}: the edit did not apply");
        let file = school.write("bad.toml", changed);
        let err = school.fails(
            &[
                "--by",
                "t",
                "policy",
                "import",
                file.to_str().expect("p"),
                "--reason",
                "test",
            ],
            65,
        );
        assert!(err.contains(expected), "{what}: {err}");
    }
    assert!(
        school
            .ok(&["policy", "history"])
            .matches("Revision")
            .count()
            == 1
    );
}

#[test]
fn a_damaged_index_stops_filtering_rather_than_passing_traffic() {
    let school = School::new();
    let index = school.data.join("index.bin");
    let mut bytes = std::fs::read(&index).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&index, bytes).expect("write");
    let err = school.fails(&["check", "--profile", "ks2", "https://www.bet365.com/"], 1);
    assert!(err.contains("damaged"), "{err}");
    assert!(err.contains("schoolgate lists rebuild"), "{err}");
    school.ok(&["--by", "tech", "lists", "rebuild"]);
    assert_eq!(
        rule(&school.check("ks2", LESSON, "https://www.bet365.com/")),
        "category:gambling"
    );
}
