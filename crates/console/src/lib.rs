//! The web console: where school staff sign in to run schoolgate.
//!
//! Server-rendered pages (minijinja templates compiled into the binary, one
//! vendored script, no CDN) and a JSON API under `/api/v1`, both built from
//! one declarative table in [`routes`]: every route names the roles that may
//! reach it, and the router is made from that table only, so no route can
//! exist without an access rule. Access is decided on the server for every
//! request ([`access`]).
//!
//! Sign-in: no default credentials (the first administrator comes from a
//! one-time link, [`first_run_link`], or `schoolgate admin create-user`);
//! argon2id passwords with a rule against common ones ([`password`]);
//! sessions in HttpOnly, SameSite=Strict cookies whose ids are stored only
//! as digests ([`session`]); a synchroniser token against cross-site
//! requests on every form and state-changing call ([`csrf`]); lock-out after
//! repeated failures ([`throttle`]); TOTP two-factor sign-in, required for
//! the DSL, deputy DSLs, the headteacher and administrators ([`two_factor`]).
//!
//! Handlers are tested without a socket: [`app`] gives the `Router`, and
//! `tower::ServiceExt::oneshot` drives it. [`serve`] runs it on a listener,
//! with TLS when configured.

use std::sync::{Arc, OnceLock};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use store::{SetupLink, Store, StoreError};

pub mod access;
pub mod checker;
pub mod csrf;
pub mod error;
mod handlers;
pub mod multipart;
pub mod openapi;
pub mod pages;
pub mod password;
pub mod pdf;
pub mod people_import;
pub mod roles;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod session;
pub mod throttle;
pub mod two_factor;

pub use checker::{UrlChecker, explain_url};
pub use error::{ApiError, AppError};
pub use handlers::valid_username;
pub use roles::Role;
pub use routes::{Access, RouteEntry, app};
pub use serve::serve;

/// Where the time comes from: the system clock, or a test's.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Where the school's time zone comes from while the console runs: the
/// policy in force (`school.timezone`), so a change to it shows at once.
pub trait SchoolTimeZone: Send + Sync + 'static {
    fn time_zone(&self) -> TimeZone;
}

/// A zone that does not change: for commands run once, and tests.
impl SchoolTimeZone for TimeZone {
    fn time_zone(&self) -> TimeZone {
        self.clone()
    }
}

/// How the console behaves; [`Settings::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The address people reach the console at, for links
    /// (`https://console.school.example`), without a trailing slash.
    pub public_url: String,
    /// Cookies marked `Secure` (and named with the `__Host-` prefix): on
    /// whenever the console is reached over HTTPS.
    pub secure_cookies: bool,
    /// A session unused for this long ends.
    pub idle_timeout: SignedDuration,
    /// A session ends this long after sign-in, however busy.
    pub session_lifetime: SignedDuration,
    /// Time to type the two-factor code after the password.
    pub code_timeout: SignedDuration,
    pub account_limit: throttle::Limit,
    pub address_limit: throttle::Limit,
    /// How long the first-run link works.
    pub first_run_link_valid: SignedDuration,
    /// How long a new account's set-up link works.
    pub account_link_valid: SignedDuration,
    /// Times are shown in the school's time: this zone, unless
    /// [`Console::with_time_zone`] gives the policy's in force.
    pub time_zone: TimeZone,
    /// Reports: the school's name on them, and its own platforms the
    /// filter self-test must find reachable (`[reports]` in schoolgate.toml).
    pub school_name: String,
    pub school_platforms: Vec<String>,
}

impl Settings {
    pub fn new(public_url: &str) -> Settings {
        let public_url = public_url.trim_end_matches('/').to_owned();
        Settings {
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            idle_timeout: SignedDuration::from_mins(30),
            session_lifetime: SignedDuration::from_hours(10),
            code_timeout: SignedDuration::from_mins(5),
            account_limit: throttle::Limit::ACCOUNT,
            address_limit: throttle::Limit::ADDRESS,
            first_run_link_valid: SignedDuration::from_hours(24),
            account_link_valid: SignedDuration::from_hours(72),
            time_zone: TimeZone::get(&policy::model::default_timezone()).unwrap_or(TimeZone::UTC),
            school_name: String::new(),
            school_platforms: Vec::new(),
        }
    }
}

/// Everything a handler needs: the store, the settings and the clock.
pub struct Console<S> {
    pub store: S,
    pub settings: Settings,
    clock: Arc<dyn Clock>,
    /// The route table, without handlers, for navigation; set by [`app`].
    routes: OnceLock<Vec<RouteEntry>>,
    /// Checks URLs against the engine in force, for "Test a URL"; none when
    /// the console runs without a filter.
    checker: Option<Arc<dyn UrlChecker>>,
    /// The school's time zone in force; none: `settings.time_zone`.
    zone: Option<Arc<dyn SchoolTimeZone>>,
}

impl<S: Store> Console<S> {
    pub fn new(store: S, settings: Settings) -> Console<S> {
        Console {
            store,
            settings,
            clock: Arc::new(SystemClock),
            routes: OnceLock::new(),
            checker: None,
            zone: None,
        }
    }

    /// Shows times in the zone `zone` gives each time (`serve` gives the
    /// policy in force's).
    pub fn with_time_zone(mut self, zone: Arc<dyn SchoolTimeZone>) -> Console<S> {
        self.zone = Some(zone);
        self
    }

    /// The school's time zone now.
    pub fn time_zone(&self) -> TimeZone {
        match &self.zone {
            Some(zone) => zone.time_zone(),
            None => self.settings.time_zone.clone(),
        }
    }

    /// The time now, in the school's time zone.
    pub fn school_now(&self) -> jiff::Zoned {
        self.now().to_zoned(self.time_zone())
    }

    /// Checks "Test a URL" with this (`serve` gives the engine in force).
    pub fn with_checker(mut self, checker: Arc<dyn UrlChecker>) -> Console<S> {
        self.checker = Some(checker);
        self
    }

    pub fn checker(&self) -> Option<&Arc<dyn UrlChecker>> {
        self.checker.as_ref()
    }

    /// Uses another clock (tests move time on by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Console<S> {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn route_entries(&self) -> &[RouteEntry] {
        self.routes.get().map(Vec::as_slice).unwrap_or(&[])
    }

    /// A time as people at the school read it: "Tuesday 3 March 2026, 14:05".
    pub fn show_time(&self, at: Timestamp) -> String {
        at.to_zoned(self.time_zone())
            .strftime("%A %-d %B %Y, %H:%M")
            .to_string()
    }

    /// A time today, briefly: "14:05".
    pub fn show_clock(&self, at: Timestamp) -> String {
        at.to_zoned(self.time_zone()).strftime("%H:%M").to_string()
    }
}

/// Why a first-run link could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FirstRunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no randomness from the operating system: {0}")]
    Random(getrandom::Error),
}

/// When no administrator exists, makes a one-time link that creates the
/// first one (valid 24 hours, single use; any older first-run link stops
/// working) and returns it for `serve` to print. None once there is an
/// administrator: there are no default credentials, ever.
pub async fn first_run_link<S: Store>(
    store: &S,
    base_url: &str,
) -> Result<Option<String>, FirstRunError> {
    first_run_link_at(store, base_url, Timestamp::now()).await
}

/// [`first_run_link`] as at `now`.
pub async fn first_run_link_at<S: Store>(
    store: &S,
    base_url: &str,
    now: Timestamp,
) -> Result<Option<String>, FirstRunError> {
    if store.administrator_exists().await? {
        return Ok(None);
    }
    let token = secrets::random_token().map_err(FirstRunError::Random)?;
    store.withdraw_setup_links(None, now).await?;
    store
        .add_setup_link(&SetupLink {
            token_hash: secrets::digest(session::SETUP_PURPOSE, &token),
            username: None,
            created_at: now,
            expires_at: now + Settings::new(base_url).first_run_link_valid,
            used_at: None,
            created_by: "schoolgate (first run)".into(),
        })
        .await?;
    Ok(Some(format!(
        "{}/setup/{token}",
        base_url.trim_end_matches('/')
    )))
}
