//! A small WebDriver client for the end-to-end tests: Debian's chromedriver
//! driving headless Chromium over the W3C WebDriver HTTP API, everything on
//! loopback. Include it from a test file with
//! `#[path = "common/browser.rs"] mod browser;`.
//!
//! A [`Driver`] is one chromedriver process on a free loopback port with a
//! temporary folder for its log and the browsers' profiles; each
//! [`Browser`] is one Chromium session with a profile of its own (so its
//! own cookies). Dropping a browser ends its session (Chromium quits);
//! dropping the last handle on the driver kills chromedriver. When a test
//! fails while a browser is open, the browser saves a screenshot, the page's
//! source and its console log into the driver's folder, keeps the folder
//! and prints where it is.
//!
//! Helpers panic with what they were doing, the page's address and the
//! start of its text, so a failed test says where it was.

#![allow(dead_code)]

use std::fmt;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long finding and waiting go on before a test fails.
pub const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// The W3C name under which an element reference travels.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Keys for [`Browser::keys`] (the WebDriver specification's code points).
pub mod key {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const BACKSPACE: &str = "\u{E003}";
}

/// Where a program is, searching `PATH` as a shell would.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Chromium and chromedriver, or a failure saying how to get them. A missing
/// browser fails the test rather than skipping it: `./scripts/test`
/// installs both.
fn programs() -> (PathBuf, PathBuf) {
    let chromium = find_program("chromium");
    let chromedriver = find_program("chromedriver");
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => (chromium, chromedriver),
        (chromium, chromedriver) => panic!(
            "the browser tests need Chromium and chromedriver, but {} on PATH; run \
             ./scripts/test, which installs them (the Debian packages chromium and \
             chromium-driver)",
            match (chromium, chromedriver) {
                (None, None) => "neither is",
                (None, Some(_)) => "chromium is not",
                _ => "chromedriver is not",
            }
        ),
    }
}

/// A port on loopback that nothing was listening on a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// What went wrong with one WebDriver command.
#[derive(Debug)]
pub struct WebDriverError {
    /// The specification's error code, such as `no such element`, or
    /// `transport` when chromedriver could not be reached.
    pub error: String,
    pub message: String,
}

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// The chromedriver process and its folder; shared by the browsers it runs.
struct Process {
    child: Mutex<Child>,
    url: String,
    chromium: PathBuf,
    agent: ureq::Agent,
    /// Log, profiles, and what failed tests leave behind.
    dir: Mutex<Option<tempfile::TempDir>>,
    keep: AtomicBool,
    sessions: AtomicUsize,
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if self.keep.load(Ordering::SeqCst)
            && let Some(dir) = self.dir.get_mut().ok().and_then(Option::take)
        {
            let kept = dir.keep();
            eprintln!("browser test files kept in {}", kept.display());
        }
    }
}

/// One chromedriver on a free loopback port.
#[derive(Clone)]
pub struct Driver {
    process: Arc<Process>,
}

impl Driver {
    /// Starts chromedriver and waits until it says it is ready.
    pub fn start() -> Driver {
        let (chromium, chromedriver) = programs();
        let dir = tempfile::Builder::new()
            .prefix("schoolgate-browser-")
            .tempdir()
            .expect("a folder for the browser");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        // The port is chosen here and may be taken in between; try again then.
        let mut last_problem = String::new();
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .arg(format!(
                    "--log-path={}",
                    dir.path().join("chromedriver.log").display()
                ))
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("could not start {}: {e}", chromedriver.display()));
            let process = Arc::new(Process {
                child: Mutex::new(child),
                url: format!("http://127.0.0.1:{port}"),
                chromium: chromium.clone(),
                agent: agent.clone(),
                dir: Mutex::new(None),
                keep: AtomicBool::new(false),
                sessions: AtomicUsize::new(0),
            });
            let driver = Driver { process };
            match driver.wait_ready() {
                Ok(()) => {
                    *driver.process.dir.lock().expect("lock") = Some(dir);
                    return driver;
                }
                Err(problem) => last_problem = problem,
            }
        }
        panic!("chromedriver did not start: {last_problem}");
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = self.process.child.lock().expect("lock").try_wait() {
                return Err(format!("it stopped at once ({status})"));
            }
            if let Ok(status) = self.request("GET", "/status", None)
                && status["ready"] == Value::Bool(true)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after {WAIT:?}"));
            }
            std::thread::sleep(POLL);
        }
    }

    /// The folder for this driver's files.
    fn dir(&self) -> PathBuf {
        self.process
            .dir
            .lock()
            .expect("lock")
            .as_ref()
            .map(|d| d.path().to_owned())
            .expect("the driver's folder")
    }

    /// One WebDriver command; `Ok` is the answer's `value`.
    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}{path}", self.process.url);
        let agent = &self.process.agent;
        let sent = match (method, body) {
            ("GET", _) => agent.get(&url).call(),
            ("DELETE", _) => agent.delete(&url).call(),
            (_, body) => agent
                .post(&url)
                .header("Content-Type", "application/json; charset=utf-8")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let transport = |e: ureq::Error| WebDriverError {
            error: "transport".into(),
            message: format!("{method} {path}: {e}"),
        };
        let mut response = sent.map_err(transport)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(transport)?;
        let answer: Value = serde_json::from_str(&text).map_err(|e| WebDriverError {
            error: "transport".into(),
            message: format!("{method} {path}: the answer is not JSON ({e}): {text}"),
        })?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if status >= 400 {
            return Err(WebDriverError {
                error: value["error"]
                    .as_str()
                    .unwrap_or("unknown error")
                    .to_owned(),
                message: value["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        Ok(value)
    }

    /// A new Chromium with a profile of its own. `extra_args` are added to
    /// the usual flags (for example `--proxy-pac-url=…`; without a
    /// `--proxy-…` flag the browser uses no proxy).
    pub fn browser_with(&self, extra_args: &[&str]) -> Browser {
        let n = self.process.sessions.fetch_add(1, Ordering::SeqCst) + 1;
        let profile = self.dir().join(format!("profile-{n}"));
        std::fs::create_dir_all(&profile).expect("a profile folder");
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            // HTTPS-Upgrades would try https:// first for every http:// link.
            "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,\
             HttpsUpgrades",
            "--password-store=basic",
            "--window-size=1280,1024",
            // Names other than localhost resolve to nothing: nothing leaves
            // this machine even if a page asks for it. (A proxy, given
            // by address, is still reached.)
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if !extra_args.iter().any(|a| a.starts_with("--proxy-")) {
            args.push("--no-proxy-server".to_owned());
        }
        args.extend(extra_args.iter().map(|s| (*s).to_owned()));
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": {
                        "binary": self.process.chromium.display().to_string(),
                        "args": args,
                    },
                    "goog:loggingPrefs": { "browser": "ALL" },
                }
            }
        });
        let session = self
            .request("POST", "/session", Some(capabilities))
            .unwrap_or_else(|e| {
                panic!(
                    "Chromium did not start ({e}); see {}",
                    self.dir().join("chromedriver.log").display()
                )
            });
        let id = session["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        let browser = Browser {
            driver: self.clone(),
            session: id,
            name: format!("browser-{n}"),
            failures: AtomicUsize::new(0),
        };
        browser
            .command(
                "POST",
                "/timeouts",
                json!({ "implicit": 0, "pageLoad": 30_000, "script": 10_000 }),
            )
            .expect("set the timeouts");
        browser
    }

    /// A new Chromium with the usual flags.
    pub fn browser(&self) -> Browser {
        self.browser_with(&[])
    }
}

/// One Chromium session.
pub struct Browser {
    driver: Driver,
    session: String,
    name: String,
    failures: AtomicUsize,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.save_failure();
        }
        let _ = self
            .driver
            .request("DELETE", &format!("/session/{}", self.session), None);
    }
}

/// An element of the page, found by one of the `find` methods.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
    /// How it was found, for messages.
    what: String,
}

impl Browser {
    /// A WebDriver command on this session.
    fn command(&self, method: &str, path: &str, body: Value) -> Result<Value, WebDriverError> {
        let body = (method == "POST").then_some(body);
        self.driver
            .request(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Fails the test with what was being done and where the page was.
    #[track_caller]
    fn fail(&self, doing: &str, problem: impl fmt::Display) -> ! {
        let url = self.url_or_unknown();
        let text: String = self.text_or_empty().chars().take(600).collect();
        panic!(
            "{}: {doing}: {problem}\n  at {url}\n  page text: {text}",
            self.name
        )
    }

    fn url_or_unknown(&self) -> String {
        self.command("GET", "/url", Value::Null)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "(unknown)".to_owned())
    }

    fn text_or_empty(&self) -> String {
        self.try_find_by("css selector", "body")
            .ok()
            .flatten()
            .and_then(|body| body.try_text().ok())
            .unwrap_or_default()
    }

    /// A second browser from the same chromedriver: a separate profile,
    /// so separate cookies, like another computer.
    pub fn another(&self) -> Browser {
        self.driver.browser()
    }

    /// Opens `url` and waits for it to load.
    #[track_caller]
    pub fn goto(&self, url: &str) {
        if let Err(e) = self.command("POST", "/url", json!({ "url": url })) {
            self.fail(&format!("opening {url}"), e);
        }
    }

    /// A command that answers a string, such as the page's address.
    #[track_caller]
    fn get_string(&self, path: &str, doing: &str) -> String {
        match self.command("GET", path, Value::Null) {
            Ok(Value::String(text)) => text,
            Ok(other) => self.fail(doing, other),
            Err(e) => self.fail(doing, e),
        }
    }

    /// The address of the page shown.
    #[track_caller]
    pub fn url(&self) -> String {
        self.get_string("/url", "reading the address")
    }

    /// The path and query of the page shown, such as `/sign-in?done=x`.
    #[track_caller]
    pub fn path(&self) -> String {
        let url = self.url();
        let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        match after_scheme.find('/') {
            Some(i) => after_scheme[i..].to_owned(),
            None => "/".to_owned(),
        }
    }

    /// The page's title.
    #[track_caller]
    pub fn title(&self) -> String {
        self.get_string("/title", "reading the title")
    }

    /// The page's HTML as it is now.
    #[track_caller]
    pub fn source(&self) -> String {
        self.get_string("/source", "reading the source")
    }

    /// The text of the whole page as a person sees it.
    #[track_caller]
    pub fn text(&self) -> String {
        self.find("body").text()
    }

    /// Runs a script in the page (WebDriver's scripts are not subject to
    /// the page's Content Security Policy) and returns its result.
    #[track_caller]
    pub fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
        .unwrap_or_else(|e| self.fail(&format!("running {script}"), e))
    }

    fn try_find_by(&self, using: &str, value: &str) -> Result<Option<Element<'_>>, WebDriverError> {
        match self.command(
            "POST",
            "/element",
            json!({ "using": using, "value": value }),
        ) {
            Ok(found) => Ok(Some(self.element(&found, value))),
            Err(e) if e.error == "no such element" => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn element(&self, found: &Value, what: &str) -> Element<'_> {
        Element {
            browser: self,
            id: found[ELEMENT]
                .as_str()
                .unwrap_or_else(|| self.fail("reading an element reference", found))
                .to_owned(),
            what: what.to_owned(),
        }
    }

    /// Waits for an element matching `using`/`value`.
    #[track_caller]
    fn find_by(&self, using: &str, value: &str, what: &str) -> Element<'_> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.try_find_by(using, value) {
                Ok(Some(mut element)) => {
                    element.what = what.to_owned();
                    return element;
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
                Ok(None) => self.fail(&format!("finding {what}"), "not on the page"),
                Err(e) => self.fail(&format!("finding {what}"), e),
            }
        }
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    #[track_caller]
    pub fn find(&self, css: &str) -> Element<'_> {
        self.find_by("css selector", css, css)
    }

    /// The first element matching a CSS selector now, if there is one.
    #[track_caller]
    pub fn try_find(&self, css: &str) -> Option<Element<'_>> {
        self.try_find_by("css selector", css)
            .unwrap_or_else(|e| self.fail(&format!("looking for {css}"), e))
    }

    /// Every element matching a CSS selector now.
    #[track_caller]
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        match self.command(
            "POST",
            "/elements",
            json!({ "using": "css selector", "value": css }),
        ) {
            Ok(Value::Array(found)) => found.iter().map(|f| self.element(f, css)).collect(),
            Ok(other) => self.fail(&format!("finding every {css}"), other),
            Err(e) => self.fail(&format!("finding every {css}"), e),
        }
    }

    /// The form control whose `<label>` reads `label` (its whole text, or
    /// its text before a nested hint such as `<span class="hint">`; spaces
    /// tidied): what a person looks for, and proof the label is tied to it.
    #[track_caller]
    pub fn field(&self, label: &str) -> Element<'_> {
        let what = format!("the field labelled '{label}'");
        let literal = xpath_literal(label);
        let label_element = self.find_by(
            "xpath",
            &format!("//label[normalize-space()={literal} or normalize-space(text())={literal}]"),
            &what,
        );
        let Some(id) = label_element.attribute("for") else {
            self.fail(&format!("finding {what}"), "the label has no 'for'")
        };
        self.find_by("xpath", &format!("//*[@id={}]", xpath_literal(&id)), &what)
    }

    /// A button (or submit input) that reads `text`.
    #[track_caller]
    pub fn button(&self, text: &str) -> Element<'_> {
        let literal = xpath_literal(text);
        self.find_by(
            "xpath",
            &format!(
                "//button[normalize-space()={literal}] | //input[(@type='submit' or @type='button') and @value={literal}]"
            ),
            &format!("the button '{text}'"),
        )
    }

    /// A link that reads `text`.
    #[track_caller]
    pub fn link(&self, text: &str) -> Element<'_> {
        self.find_by(
            "xpath",
            &format!("//a[normalize-space()={}]", xpath_literal(text)),
            &format!("the link '{text}'"),
        )
    }

    /// Clears the field labelled `label` and types `text` into it.
    #[track_caller]
    pub fn fill(&self, label: &str, text: &str) {
        let field = self.field(label);
        field.clear();
        field.type_text(text);
    }

    /// Ticks the checkbox or picks the radio button labelled `label`
    /// (clicking it only if it is not already chosen).
    #[track_caller]
    pub fn check(&self, label: &str) {
        let field = self.field(label);
        if !field.is_selected() {
            field.click();
        }
        if !field.is_selected() {
            self.fail(&format!("choosing '{label}'"), "it did not stay chosen");
        }
    }

    /// Picks the option that reads `option` in the list labelled `label`.
    #[track_caller]
    pub fn select(&self, label: &str, option: &str) {
        let list = self.field(label);
        let choice = list.find_xpath(&format!(
            ".//option[normalize-space()={}]",
            xpath_literal(option)
        ));
        choice.click();
        if !choice.is_selected() {
            self.fail(
                &format!("choosing '{option}' in '{label}'"),
                "it is not selected",
            );
        }
    }

    /// Puts a file into the file field labelled `label`, as choosing it in
    /// the file picker would.
    #[track_caller]
    pub fn upload(&self, label: &str, file: &Path) {
        let path = file
            .canonicalize()
            .unwrap_or_else(|e| panic!("the file to upload, {}: {e}", file.display()));
        self.field(label).type_text(&path.display().to_string());
    }

    /// Clicks the button that reads `text` and waits for the page it leads
    /// to (a form's answer, even when that is the same address again).
    #[track_caller]
    pub fn submit(&self, button: &str) {
        let button = self.button(button);
        self.navigating(|| button.click());
    }

    /// Clicks the link that reads `text` and waits for the new page.
    #[track_caller]
    pub fn follow(&self, link: &str) {
        let link = self.link(link);
        self.navigating(|| link.click());
    }

    /// Does `act`, which should load a new page, and waits until the new
    /// page has loaded: the old page is marked first, so a form answered
    /// with the same address still counts.
    #[track_caller]
    pub fn navigating<T>(&self, act: impl FnOnce() -> T) -> T {
        self.script("window.__schoolgateOldPage = true;");
        let result = act();
        self.wait_until("a new page to load", |b| {
            b.command(
                "POST",
                "/execute/sync",
                json!({
                    "script": "return window.__schoolgateOldPage === undefined && document.readyState === 'complete';",
                    "args": [],
                }),
            )
            .map(|v| v == Value::Bool(true))
            .unwrap_or(false)
        });
        result
    }

    /// Polls `ready` until it is true, for at most [`WAIT`].
    #[track_caller]
    pub fn wait_until(&self, what: &str, mut ready: impl FnMut(&Browser) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !ready(self) {
            if Instant::now() > deadline {
                self.fail(
                    &format!("waiting for {what}"),
                    format!("not after {WAIT:?}"),
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the page's text contains `text`.
    #[track_caller]
    pub fn wait_for_text(&self, text: &str) {
        self.wait_until(&format!("the text '{text}'"), |b| {
            b.text_or_empty().contains(text)
        });
    }

    /// Waits until the page's path (and query) is `path`.
    #[track_caller]
    pub fn wait_for_path(&self, path: &str) {
        self.wait_until(&format!("the page {path}"), |b| b.path() == path);
    }

    /// The element that has the keyboard focus.
    #[track_caller]
    pub fn focused(&self) -> Element<'_> {
        match self.command("GET", "/element/active", Value::Null) {
            Ok(found) => self.element(&found, "the focused element"),
            Err(e) => self.fail("finding the focused element", e),
        }
    }

    /// Types on the keyboard into whatever has the focus, as a person
    /// would: [`key::TAB`] moves on, [`key::ENTER`] submits.
    #[track_caller]
    pub fn keys(&self, text: &str) {
        let mut actions = Vec::new();
        for c in text.chars() {
            actions.push(json!({ "type": "keyDown", "value": c.to_string() }));
            actions.push(json!({ "type": "keyUp", "value": c.to_string() }));
        }
        let body = json!({
            "actions": [{ "type": "key", "id": "keyboard", "actions": actions }]
        });
        if let Err(e) = self.command("POST", "/actions", body) {
            self.fail("typing on the keyboard", e);
        }
        let _ = self.command("DELETE", "/actions", Value::Null);
    }

    /// Saves a PNG of the page as shown to `path`.
    #[track_caller]
    pub fn save_screenshot(&self, path: &Path) {
        let data = self.get_string("/screenshot", "taking a screenshot");
        if let Err(e) = write_base64(&data, path) {
            self.fail(&format!("saving the screenshot to {}", path.display()), e);
        }
    }

    /// The messages the page wrote to the browser's console since the last
    /// call, as `LEVEL message`.
    pub fn console_log(&self) -> Vec<String> {
        let entries = self
            .command("POST", "/se/log", json!({ "type": "browser" }))
            .unwrap_or_else(|e| self.fail("reading the browser's console", e));
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}",
                            e["level"].as_str().unwrap_or("?"),
                            e["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails if the page's Content Security Policy refused anything since
    /// the console log was last read (an inline script or style, a script
    /// from elsewhere): the console must work within its own policy.
    #[track_caller]
    pub fn assert_no_csp_violations(&self) {
        let violations: Vec<String> = self
            .console_log()
            .into_iter()
            .filter(|line| line.contains("Content Security Policy"))
            .collect();
        if !violations.is_empty() {
            self.fail(
                "checking the Content Security Policy",
                violations.join("\n"),
            );
        }
    }

    /// On a failed test: a screenshot, the source and the console log in
    /// the driver's folder, which is then kept.
    fn save_failure(&self) {
        let n = self.failures.fetch_add(1, Ordering::SeqCst);
        let dir = self.driver.dir();
        let stem = dir.join(format!("{}-failure-{n}", self.name));
        let png = stem.with_extension("png");
        if let Ok(Value::String(data)) = self.command("GET", "/screenshot", Value::Null)
            && write_base64(&data, &png).is_ok()
        {
            eprintln!("{}: screenshot at failure: {}", self.name, png.display());
        }
        if let Ok(Value::String(html)) = self.command("GET", "/source", Value::Null) {
            let _ = std::fs::write(stem.with_extension("html"), html);
        }
        if let Ok(log) = self.command("POST", "/se/log", json!({ "type": "browser" })) {
            let _ = std::fs::write(stem.with_extension("console.json"), log.to_string());
        }
        self.driver.process.keep.store(true, Ordering::SeqCst);
    }
}

impl Element<'_> {
    fn command(&self, method: &str, path: &str, body: Value) -> Result<Value, WebDriverError> {
        self.browser
            .command(method, &format!("/element/{}{path}", self.id), body)
    }

    #[track_caller]
    fn fail(&self, doing: &str, problem: impl fmt::Display) -> ! {
        self.browser
            .fail(&format!("{doing} {}", self.what), problem)
    }

    /// Clicks it (scrolled into view first, as WebDriver does).
    #[track_caller]
    pub fn click(&self) {
        if let Err(e) = self.command("POST", "/click", json!({})) {
            self.fail("clicking", e);
        }
    }

    /// Empties a text field.
    #[track_caller]
    pub fn clear(&self) {
        if let Err(e) = self.command("POST", "/clear", json!({})) {
            self.fail("clearing", e);
        }
    }

    /// Types into it (it gets the focus first).
    #[track_caller]
    pub fn type_text(&self, text: &str) {
        if let Err(e) = self.command("POST", "/value", json!({ "text": text })) {
            self.fail("typing into", e);
        }
    }

    fn try_text(&self) -> Result<String, WebDriverError> {
        match self.command("GET", "/text", Value::Null)? {
            Value::String(text) => Ok(text),
            other => Ok(other.to_string()),
        }
    }

    /// Its text as shown.
    #[track_caller]
    pub fn text(&self) -> String {
        self.try_text().unwrap_or_else(|e| self.fail("reading", e))
    }

    /// An attribute as written in the HTML.
    #[track_caller]
    pub fn attribute(&self, name: &str) -> Option<String> {
        match self.command("GET", &format!("/attribute/{name}"), Value::Null) {
            Ok(Value::String(value)) => Some(value),
            Ok(_) => None,
            Err(e) => self.fail(&format!("reading the attribute {name} of"), e),
        }
    }

    /// What a form control holds now.
    #[track_caller]
    pub fn value(&self) -> String {
        match self.command("GET", "/property/value", Value::Null) {
            Ok(Value::String(value)) => value,
            Ok(other) => other.to_string(),
            Err(e) => self.fail("reading the value of", e),
        }
    }

    /// Whether a checkbox, radio button or option is chosen.
    #[track_caller]
    pub fn is_selected(&self) -> bool {
        match self.command("GET", "/selected", Value::Null) {
            Ok(Value::Bool(selected)) => selected,
            Ok(other) => self.fail("reading whether it is chosen:", other),
            Err(e) => self.fail("reading whether it is chosen:", e),
        }
    }

    #[track_caller]
    fn find_in(&self, using: &str, value: &str) -> Element<'_> {
        match self.command(
            "POST",
            "/element",
            json!({ "using": using, "value": value }),
        ) {
            Ok(found) => {
                let mut element = self.browser.element(&found, value);
                element.what = format!("{value} in {}", self.what);
                element
            }
            Err(e) => self.fail(&format!("finding {value} in"), e),
        }
    }

    /// The first element inside this one matching an XPath expression
    /// (start it with `.//`), now.
    #[track_caller]
    pub fn find_xpath(&self, xpath: &str) -> Element<'_> {
        self.find_in("xpath", xpath)
    }

    /// The first element inside this one matching a CSS selector, now.
    #[track_caller]
    pub fn find(&self, css: &str) -> Element<'_> {
        self.find_in("css selector", css)
    }

    /// Whether this and `other` are the same element of the page.
    pub fn is(&self, other: &Element<'_>) -> bool {
        self.id == other.id
    }
}

/// `text` as an XPath string literal, whatever quotes it holds.
fn xpath_literal(text: &str) -> String {
    if !text.contains('"') {
        format!("\"{text}\"")
    } else if !text.contains('\'') {
        format!("'{text}'")
    } else {
        let parts: Vec<String> = text.split('"').map(|p| format!("\"{p}\"")).collect();
        format!("concat({})", parts.join(", '\"', "))
    }
}

/// Decodes base64 (a screenshot) into a file, with coreutils' `base64`.
fn write_base64(data: &str, path: &Path) -> Result<(), String> {
    let mut child = Command::new("base64")
        .arg("--decode")
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(path).map_err(|e| e.to_string())?)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("base64 (coreutils): {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(data.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn xpath_literals_hold_any_quotes() {
    assert_eq!(xpath_literal("Sign in"), "\"Sign in\"");
    assert_eq!(xpath_literal("say \"hi\""), "'say \"hi\"'");
    assert_eq!(
        xpath_literal("it's \"x\""),
        "concat(\"it's \", '\"', \"x\", '\"', \"\")"
    );
}
