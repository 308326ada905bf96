//! A school for the console's tests: a store in a temporary folder, a clock
//! moved by hand, and a small browser with a cookie jar that drives the
//! router with `oneshot`, no socket involved. Everyone in it is invented.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use console::{Clock, Console, Settings, two_factor};
use jiff::{SignedDuration, Timestamp};
use store::sqlite::SqliteStore;
use store::{Hidden, NewConsoleAccount, Store};
use tower::ServiceExt;

/// Time that moves only when a test says so.
pub struct TestClock(Mutex<Timestamp>);

impl TestClock {
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().expect("clock");
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock")
    }
}

/// The password every invented account starts with.
pub const PASSWORD: &str = "Biscuit-Lantern-Orbit";

pub struct School {
    _dir: tempfile::TempDir,
    pub store: SqliteStore,
    pub console: Arc<Console<SqliteStore>>,
    pub clock: Arc<TestClock>,
    pub app: Router,
    hash: Hidden,
}

impl School {
    pub async fn new() -> School {
        School::with_settings(Settings::new("http://console.test")).await
    }

    pub async fn with_settings(settings: Settings) -> School {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("schoolgate.db"))
            .await
            .expect("open");
        // A whole second, as the store keeps microseconds.
        let clock = Arc::new(TestClock(Mutex::new(
            Timestamp::from_second(1_800_000_000).expect("time"),
        )));
        let console = Arc::new(Console::new(store.clone(), settings).with_clock(clock.clone()));
        let app = console::app(console.clone());
        let hash = console::password::hash(PASSWORD).await.expect("hash");
        School {
            _dir: dir,
            store,
            console,
            clock,
            app,
            hash,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Adds an account with [`PASSWORD`]; with `two_factor`, also a TOTP
    /// secret already confirmed, which is returned.
    pub async fn account(&self, username: &str, role: &str, two_factor: bool) -> Option<Hidden> {
        self.store
            .add_console_account(
                &NewConsoleAccount {
                    username: username.into(),
                    display_name: format!("Invented {username}"),
                    email: None,
                    role: role.into(),
                    person: None,
                    password_hash: Some(self.hash.clone()),
                },
                "test",
            )
            .await
            .expect("add account");
        if !two_factor {
            return None;
        }
        let secret = two_factor::new_secret().expect("secret");
        self.store
            .begin_two_factor(username, &secret)
            .await
            .expect("begin");
        self.store
            .confirm_two_factor(username, 0)
            .await
            .expect("confirm");
        Some(secret)
    }

    /// A code for the secret, `offset` steps from now.
    pub fn code(&self, secret: &Hidden, offset: i64) -> String {
        two_factor::code_at(secret, self.now(), offset).expect("code")
    }

    pub fn browser(&self) -> Browser {
        Browser {
            app: self.app.clone(),
            cookies: BTreeMap::new(),
            csrf: None,
            address: SocketAddr::from(([10, 0, 0, 5], 40000)),
        }
    }

    /// A browser already signed in fully as `username`, without going
    /// through the sign-in pages (fast: no password hashing).
    pub async fn signed_in(&self, username: &str) -> Browser {
        let mut browser = self.browser();
        let token = console::session::start(
            &self.console,
            username,
            false,
            &HeaderMap::new(),
            "10.0.0.5",
        )
        .await
        .expect("session");
        browser.cookies.insert("sg_session".into(), token);
        browser
    }
}

/// What came back.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// Asserts a 303 to `to` and returns self.
    pub fn redirects_to(&self, to: &str) -> &Page {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        assert_eq!(self.location(), Some(to));
        self
    }

    /// The text between `before` and the next `after` in the body.
    pub fn between(&self, before: &str, after: &str) -> Option<String> {
        let start = self.body.find(before)? + before.len();
        let end = self.body[start..].find(after)? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// A browser: keeps cookies and the newest form token it has seen.
pub struct Browser {
    app: Router,
    pub cookies: BTreeMap<String, String>,
    pub csrf: Option<String>,
    pub address: SocketAddr,
}

impl Browser {
    pub async fn send(&mut self, mut request: Request<Body>) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !cookie.is_empty() {
            request
                .headers_mut()
                .insert(header::COOKIE, cookie.parse().expect("cookie"));
        }
        request.extensions_mut().insert(ConnectInfo(self.address));
        let response = self.app.clone().oneshot(request).await.expect("answer");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 4 * 1024 * 1024)
            .await
            .expect("body");
        let page = Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        for set in page.set_cookies() {
            let first = set.split(';').next().unwrap_or_default();
            if let Some((name, value)) = first.split_once('=') {
                if value.is_empty() || set.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        if let Some(token) = page.between("name=\"csrf\" value=\"", "\"") {
            self.csrf = Some(token);
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = Request::get(path).body(Body::empty()).expect("request");
        self.send(request).await
    }

    /// Posts a form with the newest form token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.clone().unwrap_or_default();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields.
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }

    /// Any method, with headers, for the API.
    pub async fn call(&mut self, method: Method, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    /// Signs in through the pages; `code` for accounts with two factors.
    pub async fn sign_in(&mut self, username: &str, password: &str, code: Option<&str>) -> Page {
        self.get("/sign-in").await;
        let page = self
            .post(
                "/sign-in",
                &[("username", username), ("password", password)],
            )
            .await;
        match code {
            Some(code) if page.location() == Some("/sign-in/code") => {
                self.get("/sign-in/code").await;
                self.post("/sign-in/code", &[("code", code)]).await
            }
            _ => page,
        }
    }
}

// The filtering policy: a school whose console can test URLs, the default
// policy saved, API tokens, and JSON calls.

impl School {
    /// A school whose console `serve` would set up further with `and`.
    async fn with_console(
        and: impl FnOnce(Console<SqliteStore>) -> Console<SqliteStore>,
    ) -> School {
        let mut school = School::new().await;
        let console = Arc::new(and(Console::new(
            school.store.clone(),
            Settings::new("http://console.test"),
        )
        .with_clock(school.clock.clone())));
        school.app = console::app(console.clone());
        school.console = console;
        school
    }

    /// A school whose console tests URLs with `checker`.
    pub async fn with_checker(checker: Arc<dyn console::UrlChecker>) -> School {
        School::with_console(|console| console.with_checker(checker)).await
    }

    /// A school whose console shows times in the zone `zone` gives each
    /// time it asks, as the policy in force gives it in `serve`.
    pub async fn with_time_zone(zone: Arc<dyn console::SchoolTimeZone>) -> School {
        School::with_console(|console| console.with_time_zone(zone)).await
    }

    /// Saves the shipped default policy as revision 1.
    pub async fn default_policy(&self) {
        self.store
            .save_policy(
                &policy::defaults::default_policy(),
                "set-up",
                "the defaults",
            )
            .await
            .expect("save the default policy");
    }

    /// A personal API token for an account.
    pub async fn api_token(&self, username: &str) -> String {
        let token = console::secrets::random_token().expect("token");
        self.store
            .add_api_token(&store::ApiToken {
                id: 0,
                token_hash: console::secrets::digest(console::session::API_PURPOSE, &token),
                username: username.into(),
                name: "tests".into(),
                created_at: self.now(),
                last_used: None,
                revoked_at: None,
            })
            .await
            .expect("add token");
        token
    }
}

// People and devices: multipart forms (the import), reading back what a
// page carries, and a personal API token.

/// Undoes the HTML escaping minijinja applies.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

impl Page {
    /// The value chosen in the select with this id, if any.
    pub fn selected(&self, id: &str) -> Option<String> {
        let start = self.body.find(&format!("id=\"{id}\""))?;
        let end = self.body[start..].find("</select>")? + start;
        let select = &self.body[start..end];
        let at = select.find("\" selected>")?;
        let value_start = select[..at].rfind("value=\"")? + "value=\"".len();
        Some(select[value_start..at].to_owned())
    }

    /// The text of the hidden CSV field the import steps carry.
    pub fn carried_csv(&self) -> Option<String> {
        self.between("<textarea name=\"csv\" hidden>\n", "</textarea>")
            .map(|t| unescape(&t))
    }
}

impl Browser {
    /// A JSON call with a bearer token.
    pub async fn json(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let page = self.send(request.body(body).expect("request")).await;
        let value = serde_json::from_str(&page.body).unwrap_or(serde_json::Value::Null);
        (page.status, value)
    }
}

// Review requests and activity.

impl Browser {
    /// Sends JSON with the newest form token in the header, as the console's
    /// own scripts do (a session, not a personal token).
    pub async fn session_json(&mut self, method: Method, path: &str, body: &str) -> Page {
        let token = self.csrf.clone().unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-csrf-token", token)
            .body(Body::from(body.to_owned()))
            .expect("request");
        self.send(request).await
    }
}

// People and devices.

impl Browser {
    /// Posts a multipart form with the newest form token: text fields,
    /// then files as (field, file name, content).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        let token = self.csrf.clone().unwrap_or_default();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_multipart_raw(path, &all, files).await
    }

    /// Posts exactly these fields and files as multipart/form-data.
    pub async fn post_multipart_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        const BOUNDARY: &str = "----schoolgateTestBoundary7";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, filename, content) in files {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let request = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }

    /// Makes a personal API token through the tokens page.
    pub async fn make_token(&mut self, name: &str) -> String {
        self.get("/account/tokens").await;
        let page = self.post("/account/tokens", &[("name", name)]).await;
        page.between("<p class=\"secret\" id=\"new-token\">", "</p>")
            .expect("a new token")
    }
}

impl School {
    /// The shipped default policy, so profiles exist.
    pub async fn with_default_policy(&self) {
        self.store
            .save_policy(&policy::defaults::default_policy(), "test", "defaults")
            .await
            .expect("policy");
    }
}
