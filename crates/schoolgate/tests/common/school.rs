//! A school for the browser tests: `schoolgate serve` on a fresh data
//! folder with every listener on loopback port 0, a chromedriver, and the
//! console accounts the test uses, each with the authenticator app that
//! holds its two-factor key. Include it beside the other two:
//!
//! ```ignore
//! mod common;
//! #[path = "common/browser.rs"]
//! mod browser;
//! #[path = "common/school.rs"]
//! mod school;
//! ```
//!
//! `School::signed_in()` gives a school with an administrator signed in
//! (two-factor sign-in set up) in one browser, so a test of a console page
//! starts there; `School::fresh()` one with no account yet. Then
//! `create_account` and `sign_in` for other roles, `run` for any
//! `schoolgate` command on its data folder, and `browser_through_the_proxy`
//! for a pupil's device.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use totp_rs::{Algorithm, Secret, Totp};

use crate::browser::{Browser, Driver};
use crate::common::{self, Serve};

/// The administrator every school starts with (through the command line,
/// or through the first-run link in the first-run test).
pub const ADMIN: &str = "a.head";
pub const ADMIN_NAME: &str = "Alex Head";
/// Long, not common, not the username.
pub const PASSWORD: &str = "Kettle-Meadow-Lantern";

/// What the test's phone holds for one account: the key read off the
/// enrolment page, and the last step it gave a code for (the console takes
/// each step's code once).
pub struct Authenticator {
    totp: Totp,
    last_step: Cell<Option<u64>>,
}

const STEP: u64 = 30;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

impl Authenticator {
    /// From the key as a person would type it (groups of four, spaces
    /// ignored) with the standard parameters every app uses (SHA-1, six
    /// digits, 30 seconds); `otpauth` is the page's setup address, which an
    /// app scanning the QR code reads instead, and must give the same codes.
    pub fn new(typed_key: &str, otpauth: &str) -> Authenticator {
        let key: String = typed_key.split_whitespace().collect();
        let secret = Secret::try_from_base32(&key)
            .unwrap_or_else(|e| panic!("the key shown, {typed_key}, is not base32: {e:?}"));
        let totp = totp_rs::Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_step_duration(STEP)
            .with_secret(secret)
            .build()
            .unwrap_or_else(|e| panic!("the key shown, {typed_key}, is unusable: {e:?}"));
        let scanned = Totp::from_url(otpauth)
            .unwrap_or_else(|e| panic!("the setup address {otpauth} is unusable: {e:?}"));
        let now = unix_now();
        assert_eq!(
            scanned.generate(now).to_string(),
            totp.generate(now).to_string(),
            "the setup address {otpauth} and the key {typed_key} give different codes"
        );
        Authenticator {
            totp,
            last_step: Cell::new(None),
        }
    }

    /// A code for a step not used yet: this step or the next (the console
    /// takes one step either side), waiting for a new step if both are used.
    pub fn code(&self) -> String {
        loop {
            let now = unix_now() / STEP;
            let step = [now, now + 1]
                .into_iter()
                .find(|s| self.last_step.get().is_none_or(|last| *s > last));
            if let Some(step) = step {
                self.last_step.set(Some(step));
                return self.totp.generate(step * STEP).to_string();
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Six digits that are not the code for any step the console would
    /// accept now.
    pub fn wrong_code(&self) -> String {
        let now = unix_now() / STEP;
        let near: Vec<String> = (now.saturating_sub(2)..=now + 2)
            .map(|s| self.totp.generate(s * STEP).to_string())
            .collect();
        (0..1_000_000u32)
            .map(|n| format!("{:06}", (n * 7919 + 123_457) % 1_000_000))
            .find(|c| !near.contains(c))
            .expect("a wrong code")
    }
}

/// A console account and its owner's phone.
pub struct Account {
    pub username: String,
    pub name: String,
    pub password: String,
    authenticator: RefCell<Option<Authenticator>>,
}

impl Account {
    pub fn new(username: &str, name: &str, password: &str) -> Account {
        Account {
            username: username.to_owned(),
            name: name.to_owned(),
            password: password.to_owned(),
            authenticator: RefCell::new(None),
        }
    }

    /// The next two-factor code; fails if two-factor sign-in is not set up.
    pub fn code(&self) -> String {
        self.authenticator
            .borrow()
            .as_ref()
            .unwrap_or_else(|| panic!("{} has not set up two-factor sign-in", self.username))
            .code()
    }

    /// A code the console must refuse.
    pub fn wrong_code(&self) -> String {
        self.authenticator
            .borrow()
            .as_ref()
            .unwrap_or_else(|| panic!("{} has not set up two-factor sign-in", self.username))
            .wrong_code()
    }

    pub fn has_two_factor(&self) -> bool {
        self.authenticator.borrow().is_some()
    }
}

/// `schoolgate serve` on a fresh data folder, and a chromedriver.
pub struct School {
    pub serve: Serve,
    /// The console, such as `http://127.0.0.1:41234`.
    pub base: String,
    /// Each `NAME listening on ADDRESS` serve printed: console, proxy,
    /// metrics.
    pub addresses: BTreeMap<String, String>,
    /// The first-run link, printed while there is no administrator.
    pub first_run_link: Option<String>,
    pub driver: Driver,
    pub admin: Account,
    pub data: PathBuf,
    dir: tempfile::TempDir,
}

/// Every listener on loopback port 0.
const CONFIG: &str = "[metrics]\nlisten = \"127.0.0.1:0\"\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n\
                      [console]\nlisten = \"127.0.0.1:0\"\n";

impl School {
    /// A fresh school with no accounts: serve prints its first-run link.
    pub fn fresh() -> School {
        School::start_with("", false)
    }

    /// A school whose administrator is signed in, with two-factor sign-in
    /// set up, in the browser returned.
    pub fn signed_in() -> (School, Browser) {
        School::signed_in_with("")
    }

    /// As [`School::signed_in`], with `extra_config` added to
    /// `schoolgate.toml` (every listener is already on loopback port 0).
    pub fn signed_in_with(extra_config: &str) -> (School, Browser) {
        let school = School::start_with(extra_config, true);
        let browser = school.driver.browser();
        school.sign_in(&browser, &school.admin);
        (school, browser)
    }

    fn start_with(extra_config: &str, with_admin: bool) -> School {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let config = dir.path().join("schoolgate.toml");
        std::fs::write(&config, format!("{CONFIG}{extra_config}")).expect("write the config");
        let admin = Account::new(ADMIN, ADMIN_NAME, PASSWORD);
        if with_admin {
            create_user(&data, &admin, "administrator");
        }
        let driver = Driver::start();
        let serve = Serve::start(&data, &config);
        let lines = serve.lines_until("schoolgate is running");
        let addresses: BTreeMap<String, String> = lines
            .iter()
            .filter_map(|line| {
                let (name, rest) = line.split_once(" listening on ")?;
                Some((name.to_owned(), rest.split_whitespace().next()?.to_owned()))
            })
            .collect();
        let base = format!(
            "http://{}",
            addresses
                .get("console")
                .expect("serve printed the console's address")
        );
        let first_run_link = lines
            .iter()
            .find(|line| line.contains("one-time link"))
            .and_then(|line| line.rsplit(' ').next())
            .map(str::to_owned);
        School {
            serve,
            base,
            addresses,
            first_run_link,
            driver,
            admin,
            data,
            dir,
        }
    }

    /// The console's address for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new browser (its own cookies), not signed in.
    pub fn browser(&self) -> Browser {
        self.driver.browser()
    }

    /// A new browser whose requests for `hosts` (and their subdomains) go
    /// through schoolgate's proxy, as a pupil's device's would. Only those:
    /// Chromium's own background requests (Google's update and sign-in
    /// services) stay out of the proxy, where they would be forwarded and
    /// looked up, and find no address.
    pub fn browser_through_the_proxy(&self, hosts: &[&str]) -> Browser {
        let proxy = self
            .addresses
            .get("proxy")
            .expect("serve printed the proxy's address");
        let names: Vec<String> = hosts.iter().map(|h| format!("'{h}'")).collect();
        let pac = format!(
            "function FindProxyForURL(url, host) {{\n\
             var hosts = [{}];\n\
             for (var i = 0; i < hosts.length; i++) {{\n\
             if (host == hosts[i] || dnsDomainIs(host, '.' + hosts[i])) return 'PROXY {proxy}';\n\
             }}\n\
             return 'DIRECT';\n}}\n",
            names.join(", ")
        );
        self.driver.browser_with(&[&format!(
            "--proxy-pac-url=data:application/x-ns-proxy-autoconfig,{}",
            percent_encode(&pac)
        )])
    }

    /// Runs a `schoolgate` command on this school's data folder, as
    /// `browser-tests`, such as `["networks", "add", …]`; fails the test if
    /// it fails, and returns what it printed. A running serve picks up the
    /// change within its reload interval (two seconds).
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(common::bin())
            .arg("--data")
            .arg(&self.data)
            .args(["--by", "browser-tests"])
            .args(args)
            .env_remove("SCHOOLGATE_DATA")
            .output()
            .expect("run schoolgate");
        assert!(
            out.status.success(),
            "schoolgate {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Makes loopback (where every test browser is) a classroom network
    /// filtered with `profile`, from the command line while serve runs.
    #[track_caller]
    pub fn add_classroom_network(&self, profile: &str) {
        self.run(&[
            "networks",
            "add",
            "Classrooms",
            "--range",
            "127.0.0.0/8",
            "--profile",
            profile,
        ]);
    }

    /// Adds a console account with `schoolgate admin create-user`.
    pub fn create_account(&self, username: &str, name: &str, role: &str) -> Account {
        let account = Account::new(username, name, PASSWORD);
        create_user(&self.data, &account, role);
        account
    }

    /// Signs `account` in with its password, then its code, or sets up
    /// two-factor sign-in if its role needs it and it has none yet. Ends on
    /// the home page.
    #[track_caller]
    pub fn sign_in(&self, browser: &Browser, account: &Account) {
        browser.goto(&self.url("/sign-in"));
        browser.fill("Username", &account.username);
        browser.fill("Password", &account.password);
        browser.submit("Sign in");
        match browser.path().as_str() {
            "/sign-in/code" => {
                browser.fill("Code", &account.code());
                browser.submit("Continue");
            }
            "/account/two-factor" => self.set_up_two_factor(browser, account),
            _ => {}
        }
        let path = browser.path();
        assert_eq!(
            path.split('?').next(),
            Some("/"),
            "{} is not signed in",
            account.username
        );
        let text = browser.text();
        assert!(
            text.contains(&format!("You are signed in as {}", account.name)),
            "{text}"
        );
    }

    /// On the two-factor page: reads the key as a person would, adds it to
    /// the account's authenticator and turns two-factor sign-in on with its
    /// first code.
    #[track_caller]
    pub fn set_up_two_factor(&self, browser: &Browser, account: &Account) {
        assert!(
            browser.path().starts_with("/account/two-factor"),
            "{}",
            browser.path()
        );
        let key = browser.find("#secret").text();
        let otpauth = browser
            .find("a[href^='otpauth:']")
            .attribute("href")
            .expect("the setup address");
        let authenticator = Authenticator::new(&key, &otpauth);
        let code = authenticator.code();
        *account.authenticator.borrow_mut() = Some(authenticator);
        browser.fill("Enter the six-digit code the app now shows", &code);
        browser.submit("Turn on two-factor sign-in");
        assert_eq!(browser.path(), "/?done=two-factor-on");
    }
}

/// `schoolgate admin create-user`, the password piped in.
fn create_user(data: &Path, account: &Account, role: &str) {
    let args = [
        account.username.as_str(),
        "--name",
        &account.name,
        "--role",
        role,
    ];
    let out = common::create_user(data, &args, &format!("{}\n", account.password));
    assert!(
        out.status.success(),
        "create-user {}: {}",
        account.username,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every byte but letters and digits as `%XX`, for a `data:` URL.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
