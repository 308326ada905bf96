//! The warm path: a task in `serve` that reads the activity log after the
//! monitor's stored cursor, feeds the events to the monitor
//! (`crates/monitor`), stores the alerts it raises, and queues the immediate
//! ones in the outbox for the DSL and deputies (or, out of hours, the
//! school's out-of-hours contacts) and any webhooks, then wakes the
//! delivery worker. The proxy never waits for it: it only reads what the
//! activity writer has already stored.
//!
//! Restart-safe: each batch's alerts and the cursor move are stored in one
//! transaction, so a stop mid-way reads the batch again. Messages are
//! queued first with the alert's number as their dedup key, so a batch
//! read again does not mail twice.

use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use monitor::{
    Activity, Alert, Contact, ContactRole, Library, Matcher, Monitor, Outcome, Reason, Route,
    Rules, SchoolHours, Severity, SignalSettings, Watcher,
};
use serde::{Deserialize, Serialize};
use store::sqlite::SqliteStore;
use store::{AlertBatch, AlertFold, NewAlert, Store};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The `[monitoring]` table of `schoolgate.toml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitoringSettings {
    /// Whether the monitor runs at all.
    pub enabled: bool,
    /// How often to read new activity, in seconds.
    pub poll_seconds: u64,
    /// Events read in one batch at most.
    pub batch: usize,
    /// Alerts at or above this severity go out at once (1 to 5).
    pub immediate_from: u8,
    /// Below that, alerts at or above this go into the daily digest, the
    /// rest into the weekly one.
    pub daily_from: u8,
    /// Repeats by one person in one category within this many minutes of
    /// an alert fold into it instead of raising (and mailing) another.
    pub throttle_minutes: u64,
    /// Blocked attempts that make "repeated attempts"...
    pub repeated_count: usize,
    /// ...within this many minutes.
    pub repeated_window_minutes: u64,
    /// School hours, in the policy's `school.timezone`, Monday to Friday
    /// ("08:00").
    pub school_opens: String,
    pub school_closes: String,
    /// No longer used: the time zone is set once, in the policy's
    /// `school.timezone`. Accepted when it names the same zone, so that
    /// older files still load; refused when it names another
    /// ([`MonitoringSettings::check_time_zone`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Console usernames to alert out of hours, in the order to try them;
    /// empty: the DSL and deputies.
    pub out_of_hours: Vec<String>,
    /// Out of hours, an alert nobody has looked at (still "new" in the
    /// console) after this many minutes goes to the next contact in
    /// `out_of_hours`, and so on down the list; 0 sends it to them all at
    /// once.
    pub out_of_hours_next_after_minutes: u64,
    /// Immediate alerts about events older than this many hours (read
    /// late, after a long stop) are stored but not mailed.
    pub mail_within_hours: u64,
    /// When, in the policy's `school.timezone`, the daily digest goes out each school day
    /// (Monday to Friday) and the weekly one on Mondays ("07:30"); see
    /// `schedule.rs`.
    pub digest_at: String,
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        MonitoringSettings {
            enabled: true,
            poll_seconds: 3,
            batch: 1_000,
            immediate_from: 4,
            daily_from: 3,
            throttle_minutes: 60,
            repeated_count: 5,
            repeated_window_minutes: 10,
            school_opens: "08:00".into(),
            school_closes: "17:00".into(),
            time_zone: None,
            out_of_hours: Vec::new(),
            out_of_hours_next_after_minutes: 15,
            mail_within_hours: 24,
            digest_at: "07:30".into(),
        }
    }
}

/// A number of minutes from the configuration as a duration (absurdly
/// large ones saturate rather than wrap).
fn minutes(minutes: u64) -> SignedDuration {
    SignedDuration::from_mins(
        i64::try_from(minutes)
            .unwrap_or(i64::MAX / 60)
            .min(i64::MAX / 60),
    )
}

fn severity(key: &str, level: u8) -> Result<Severity, (String, String)> {
    Severity::new(level).ok_or_else(|| {
        (
            format!("monitoring.{key}"),
            format!("must be a severity from 1 to 5, not {level}"),
        )
    })
}

fn time(key: &str, text: &str) -> Result<Time, (String, String)> {
    text.parse().map_err(|_| {
        (
            format!("monitoring.{key}"),
            format!("\"{text}\" is not a time of day; write it like \"08:30\""),
        )
    })
}

impl MonitoringSettings {
    /// Checks values serde cannot, naming the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.digest_time()?;
        self.rules(Vec::new(), TimeZone::UTC).map(|_| ())
    }

    /// When the digests go out, in the school's time zone.
    pub fn digest_time(&self) -> Result<Time, (String, String)> {
        time("digest_at", &self.digest_at)
    }

    /// Refuses a `time_zone` other than the policy's `school.timezone`
    /// (`policy`): the zone is set once, in the policy, and a line naming
    /// another would otherwise look as if it still counted.
    pub fn check_time_zone(&self, policy: &TimeZone) -> Result<(), (String, String)> {
        let Some(name) = &self.time_zone else {
            return Ok(());
        };
        let same = TimeZone::get(name.trim()).is_ok_and(|zone| zone == *policy);
        if same {
            return Ok(());
        }
        Err((
            "monitoring.time_zone".to_owned(),
            format!(
                "\"{name}\" is not the school's time zone in the policy ({}); the time zone is now set once, in the policy's school.timezone, so remove the time_zone line from [monitoring]",
                policy.iana_name().unwrap_or("unnamed")
            ),
        ))
    }

    /// The monitor's rules, with these DSL and deputy contacts and school
    /// hours in `zone`.
    fn rules(&self, in_hours: Vec<Contact>, zone: TimeZone) -> Result<Rules, (String, String)> {
        let key = |k: &str| format!("monitoring.{k}");
        if self.poll_seconds == 0 {
            return Err((key("poll_seconds"), "must be at least 1".into()));
        }
        if self.batch == 0 {
            return Err((key("batch"), "must be at least 1".into()));
        }
        if self.repeated_count < 2 {
            return Err((
                key("repeated_count"),
                "must be at least 2 (one attempt is not a repeat)".into(),
            ));
        }
        if self.repeated_window_minutes == 0 {
            return Err((key("repeated_window_minutes"), "must be at least 1".into()));
        }
        let immediate = severity("immediate_from", self.immediate_from)?;
        let daily = severity("daily_from", self.daily_from)?;
        if daily > immediate {
            return Err((
                key("daily_from"),
                format!(
                    "the daily digest cannot start above immediate alerts; set it to {} or lower",
                    self.immediate_from
                ),
            ));
        }
        let opens = time("school_opens", &self.school_opens)?;
        let closes = time("school_closes", &self.school_closes)?;
        if opens >= closes {
            return Err((
                key("school_closes"),
                "school hours must close after they open".into(),
            ));
        }
        if let Some(blank) = self.out_of_hours.iter().find(|u| u.trim().is_empty()) {
            return Err((
                key("out_of_hours"),
                format!("\"{blank}\" is not a console username"),
            ));
        }
        let mut rules = Rules::new(
            SchoolHours {
                opens,
                closes,
                ..SchoolHours::weekdays(zone)
            },
            in_hours,
            self.out_of_hours
                .iter()
                .map(|account| Contact {
                    account: account.trim().to_owned(),
                    role: ContactRole::Other,
                })
                .collect(),
        );
        rules.immediate_from = immediate;
        rules.daily_from = daily;
        rules.throttle = minutes(self.throttle_minutes);
        Ok(rules)
    }

    /// How old an alert's activity may be and the alert still be mailed.
    fn mail_window(&self) -> SignedDuration {
        minutes(self.mail_within_hours.saturating_mul(60))
    }

    fn signals(&self) -> SignalSettings {
        SignalSettings {
            repeated_count: self.repeated_count,
            repeated_window: minutes(self.repeated_window_minutes),
            ..SignalSettings::default()
        }
    }
}

/// The phrase library in force: the newest saved in the console, or the
/// starter library.
pub async fn library_in_force(store: &SqliteStore) -> anyhow::Result<(i64, Library)> {
    match store.phrase_library().await? {
        Some(revision) => {
            let files: Vec<(&str, &str)> = revision
                .files
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str()))
                .collect();
            let library = Library::from_files(&files).map_err(|e| {
                anyhow::anyhow!(
                    "the saved phrase library (revision {}): {e}",
                    revision.number
                )
            })?;
            Ok((revision.number, library))
        }
        None => Ok((0, Library::starter())),
    }
}

/// Gives the calling thread a lower CPU priority (nice 10) than the
/// proxy's: monitoring and the morning schedule can wait a moment when the
/// machine is busy, the pupil waiting for a page cannot. Measured on the
/// 2-core benchmark machine under load, monitoring's bursts of matching
/// otherwise showed in the proxy's slowest answers. Where the system does
/// not allow it, the thread keeps its priority.
pub fn background_priority() {
    lower_priority(10);
}

/// Sets the calling thread's nice value to `nice` (0 normal, 19 lowest);
/// where the system does not allow it, the thread keeps its priority.
pub fn lower_priority(nice: i32) {
    let thread = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(thread), nice) {
        tracing::debug!(error = %e, nice, "could not lower a background thread's priority");
    }
}

/// How long monitoring may go without reading to the end of the activity
/// log before `serve` says alerts may be late: ten polls, and at least ten
/// minutes (a long backlog after a stop takes a while to read).
pub fn stall_limit(poll_seconds: u64) -> Duration {
    Duration::from_secs(poll_seconds.saturating_mul(10).max(600))
}

/// How long monitoring has gone without finishing a pass, when that is
/// longer than `limit`. `last_pass` is 0 until the first pass ends; until
/// then the time counts from `started`. All in seconds since 1970.
pub fn stalled(last_pass: u64, started: u64, now: u64, limit: Duration) -> Option<Duration> {
    let since = if last_pass == 0 { started } else { last_pass };
    let quiet = Duration::from_secs(now.saturating_sub(since));
    (quiet > limit).then_some(quiet)
}

/// Says in the log, once every `limit` while it lasts, that monitoring has
/// stopped getting through the activity log. It runs apart from the warm
/// path, so a warm path that hangs is noticed too.
pub async fn watch(metrics: Arc<gate::Metrics>, limit: Duration, stop: CancellationToken) {
    let now = || u64::try_from(Timestamp::now().as_second()).unwrap_or(0);
    let started = now();
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut warned_at: Option<u64> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let at = now();
        match stalled(metrics.monitor_last_pass(), started, at, limit) {
            Some(quiet) => {
                if warned_at.is_none_or(|w| at.saturating_sub(w) >= limit.as_secs()) {
                    tracing::error!(
                        "monitoring has not got through the activity log for {} minutes, so alerts to the DSL may be late. Look above for errors from monitoring; if there are none, restart schoolgate and report it to its maintainers",
                        quiet.as_secs() / 60
                    );
                    warned_at = Some(at);
                }
            }
            None => warned_at = None,
        }
    }
}

/// Where the warm path's results go besides the store.
pub struct Outputs {
    /// Immediate alerts' emails and webhook calls are queued here.
    pub outbox: Arc<notify::Outbox<SqliteStore>>,
    /// Woken when something was queued, so it goes at once.
    pub wake: Arc<Notify>,
    /// Its progress through the activity log, for the metrics endpoint.
    pub metrics: Arc<gate::Metrics>,
}

/// The school's time zone in force (`school.timezone` in the policy):
/// school hours and the times in alerts are in it.
pub type ZoneInForce = Arc<dyn console::SchoolTimeZone>;

/// The running task.
pub struct Monitoring {
    task: JoinHandle<()>,
}

impl Monitoring {
    /// Starts the warm path, unless `[monitoring]` turned it off.
    ///
    /// `db` is the database file `store` opened: the warm path reads the
    /// activity log through a connection of its own to it, opened on its own
    /// thread so that SQLite's thread for it runs at the same lowered
    /// priority (a pass reads every event since the last, and at full load
    /// that read, at normal priority, showed in the proxy's slowest answers).
    pub fn spawn(
        store: SqliteStore,
        db: std::path::PathBuf,
        settings: MonitoringSettings,
        zone: ZoneInForce,
        console_url: String,
        outputs: Outputs,
        stop: CancellationToken,
    ) -> Option<Monitoring> {
        if !settings.enabled {
            println!("monitoring: off ([monitoring] enabled = false)");
            return None;
        }
        println!(
            "monitoring: on, alerts at severity {} and above go out at once",
            settings.immediate_from
        );
        let mut warm = WarmPath {
            store,
            settings,
            zone,
            console_url,
            outbox: outputs.outbox,
            wake: outputs.wake,
            metrics: outputs.metrics,
        };
        // Its own thread and runtime: matching, rules and reading the log
        // must never hold up the proxy's event loops (measured when serve
        // ran on one thread: sharing it, p99 rose from 5 ms to over 500 ms
        // under load).
        let task = tokio::task::spawn_blocking(move || {
            background_priority();
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(async move {
                    match SqliteStore::open_background(&db).await {
                        Ok(own) => {
                            warm.store = own;
                            let own = warm.store.clone();
                            warm.run(stop).await;
                            own.close().await;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "monitoring could not open a connection of its own to the database; it shares the proxy's, at normal priority");
                            warm.run(stop).await;
                        }
                    }
                }),
                Err(e) => tracing::error!(error = %e, "monitoring could not start its runtime"),
            }
        });
        Some(Monitoring { task })
    }

    /// Waits for the task to finish after its stop token was cancelled.
    pub async fn finished(self) {
        let _ = self.task.await;
    }
}

struct WarmPath {
    store: SqliteStore,
    settings: MonitoringSettings,
    zone: ZoneInForce,
    console_url: String,
    outbox: Arc<notify::Outbox<SqliteStore>>,
    wake: Arc<Notify>,
    /// Where its progress through the log is shown (the metrics endpoint).
    metrics: Arc<gate::Metrics>,
}

/// The monitor and what it was built from.
struct Running {
    monitor: Monitor,
    library: Library,
    revision: i64,
    /// The school's time zone its hours are in.
    zone: TimeZone,
    audit_mark: i64,
}

impl WarmPath {
    async fn run(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(self.settings.poll_seconds));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut running: Option<Running> = None;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.pass(&mut running, &stop).await {
                // Built again on the next tick from what is stored, so the
                // batch that failed is read again.
                running = None;
                tracing::error!(error = %e, "monitoring could not read or store alerts; trying again shortly");
            }
        }
    }

    async fn build(&self, audit_mark: i64, zone: TimeZone) -> anyhow::Result<Running> {
        let (revision, library) = library_in_force(&self.store).await?;
        let matcher = Matcher::new(library.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let rules = self
            .settings
            .rules(Vec::new(), zone.clone())
            .map_err(|(key, problem)| anyhow::anyhow!("{key}: {problem}"))?;
        let next = u64::try_from(self.store.last_alert_id().await?).unwrap_or(0) + 1;
        let monitor = Monitor::new(Watcher::new(matcher, self.settings.signals()), rules, next);
        Ok(Running {
            monitor,
            library,
            revision,
            zone,
            audit_mark,
        })
    }

    /// Reads everything new, one batch at a time.
    async fn pass(
        &self,
        running: &mut Option<Running>,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        // A library saved in the console adds an audit entry: rebuild then.
        let mark = self.store.audit_high_water().await?;
        if let Some(r) = running.as_ref()
            && r.audit_mark != mark
            && self.store.phrase_library().await?.map_or(0, |l| l.number) != r.revision
        {
            *running = None;
            println!("monitoring: the phrase library changed; reloaded");
        }
        // A policy reloaded with another school.timezone moves school hours.
        let zone = self.zone.time_zone();
        if running.as_ref().is_some_and(|r| r.zone != zone) {
            *running = None;
            println!(
                "monitoring: the school's time zone is now {}; reloaded",
                zone_name(&zone)
            );
        }
        if running.is_none() {
            *running = Some(self.build(mark, zone).await?);
        }
        let r = running.as_mut().expect("built above");
        r.audit_mark = mark;
        loop {
            let cursor = self.store.monitor_cursor().await?;
            let read = self
                .store
                .monitor_read(
                    cursor,
                    self.settings.batch,
                    &r.monitor.watcher().settings().circumvention,
                )
                .await?;
            self.metrics
                .monitor_read(u64::try_from(read.newest - read.read_to).unwrap_or(0));
            if read.read_to <= cursor {
                break;
            }
            let events = read.events;
            let mut batch = AlertBatch {
                cursor: read.read_to,
                ..AlertBatch::default()
            };
            let now = Timestamp::now();
            for (id, event) in &events {
                let activity = Activity::from_event(*id, event);
                for outcome in r.monitor.observe(&activity, now) {
                    match outcome {
                        Outcome::Raised(alert) => batch.raised.push(stored(&alert)),
                        Outcome::Folded {
                            alert,
                            count,
                            last_at,
                            event,
                        } => batch.folded.push(AlertFold {
                            alert: i64::try_from(alert.0).unwrap_or(i64::MAX),
                            count,
                            last_at,
                            event,
                        }),
                    }
                }
            }
            r.monitor.tidy(now);
            let mut queued = false;
            for alert in &batch.raised {
                queued |= self.send(alert, &r.library, &r.zone, now).await;
            }
            self.store.record_alerts(&batch).await?;
            if queued {
                self.wake.notify_one();
            }
            // A long backlog (after a stop) is read a batch at a time; a
            // stop request ends the pass between batches.
            if events.len() < self.settings.batch || stop.is_cancelled() {
                break;
            }
        }
        if !stop.is_cancelled() {
            self.metrics
                .monitor_caught_up(u64::try_from(Timestamp::now().as_second()).unwrap_or(0));
        }
        if self.pass_on(&r.library, &r.zone, Timestamp::now()).await? {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Out of hours, passes each alert nobody has looked at yet to the next
    /// contact in the school's order, one every
    /// `out_of_hours_next_after_minutes`; true when something was queued.
    /// A triage decision of any kind in the console stops it.
    async fn pass_on(
        &self,
        library: &Library,
        zone: &TimeZone,
        now: Timestamp,
    ) -> anyhow::Result<bool> {
        let minutes = self.settings.out_of_hours_next_after_minutes;
        if minutes == 0 || self.settings.out_of_hours.len() < 2 {
            return Ok(false);
        }
        let contacts = self.out_of_hours_contacts().await?;
        if contacts.len() < 2 {
            return Ok(false);
        }
        let step = self::minutes(minutes);
        let limit = self.settings.mail_window();
        let waiting = self
            .store
            .alerts(&store::AlertFilter {
                state: Some("new".into()),
                limit: 500,
                ..store::AlertFilter::default()
            })
            .await?;
        let mut queued = false;
        for stored in waiting.iter().filter(|a| a.alert.routing == "out-of-hours") {
            let alert = &stored.alert;
            let waited = now.duration_since(alert.raised_at);
            if waited < step || now.duration_since(alert.first_at) > limit {
                continue;
            }
            let steps = usize::try_from(waited.as_secs() / step.as_secs().max(1)).unwrap_or(0);
            for (next, to) in contacts.iter().enumerate().take(steps + 1).skip(1) {
                let mut message =
                    passed_on_message(alert, library, zone, &self.console_url, minutes)
                        .dedup_key(&format!("alert:{}:next:{next}", alert.id));
                message.to = vec![to.clone()];
                match self.outbox.enqueue_email(&message, now).await {
                    Ok(ids) => queued |= !ids.is_empty(),
                    Err(e) => {
                        tracing::warn!(alert = alert.id, error = %e, "the alert could not be passed on to the next out-of-hours contact");
                    }
                }
            }
        }
        Ok(queued)
    }

    /// The out-of-hours contacts' mailboxes, in the school's order (those
    /// without an email address or no longer in use left out).
    async fn out_of_hours_contacts(&self) -> anyhow::Result<Vec<String>> {
        let accounts = self.store.console_accounts().await?;
        Ok(self
            .settings
            .out_of_hours
            .iter()
            .filter_map(|name| {
                accounts
                    .iter()
                    .find(|a| a.username.eq_ignore_ascii_case(name.trim()))
            })
            .filter_map(mailbox)
            .collect())
    }

    /// Queues an immediate alert's email and webhook calls; true when
    /// something was queued.
    async fn send(
        &self,
        alert: &NewAlert,
        library: &Library,
        zone: &TimeZone,
        now: Timestamp,
    ) -> bool {
        if alert.routing != "immediate" && alert.routing != "out-of-hours" {
            return false;
        }
        let age = now.duration_since(alert.first_at);
        let limit = self.settings.mail_window();
        if age > limit {
            tracing::info!(
                alert = alert.id,
                "an alert about old activity was stored but not mailed"
            );
            return false;
        }
        let to = match self.recipients(alert.routing == "out-of-hours").await {
            Ok(to) => to,
            Err(e) => {
                tracing::error!(error = %e, "could not read the console accounts to alert");
                Vec::new()
            }
        };
        if to.is_empty() {
            tracing::warn!(
                alert = alert.id,
                "no DSL or deputy account has an email address; the alert is in the console only (add an email to their accounts)"
            );
        }
        let mut message = alert_message(alert, library, zone, &self.console_url)
            .dedup_key(&format!("alert:{}", alert.id));
        message.to = to;
        match self.outbox.enqueue(&message, now).await {
            Ok(queued) => !queued.is_empty(),
            Err(e) => {
                tracing::warn!(alert = alert.id, error = %e, "the alert could not be queued for sending");
                false
            }
        }
    }

    /// Mailboxes to alert: the DSL and deputies; out of hours, the first of
    /// the school's contacts (the rest follow while nobody looks, see
    /// [`WarmPath::pass_on`]; all of them at once when passing on is off),
    /// or the DSL and deputies when it named none or none has an email.
    async fn recipients(&self, out_of_hours: bool) -> anyhow::Result<Vec<String>> {
        if out_of_hours {
            let mut ordered = self.out_of_hours_contacts().await?;
            if !ordered.is_empty() {
                if self.settings.out_of_hours_next_after_minutes > 0 {
                    ordered.truncate(1);
                }
                return Ok(ordered);
            }
        }
        let accounts = self.store.console_accounts().await?;
        Ok(dsl_mailboxes(&accounts))
    }
}

/// An account's mailbox ("Name <address>"), when it is in use and has an
/// email address.
fn mailbox(a: &store::ConsoleAccount) -> Option<String> {
    a.email
        .as_ref()
        .filter(|e| !a.disabled && !e.trim().is_empty())
        .map(|e| format!("{} <{}>", a.display_name.replace(['<', '>', '"'], ""), e))
}

/// The mailboxes of the DSL and deputy DSL accounts in use that have an
/// email address: who immediate alerts (in school hours) and the digests
/// go to.
pub fn dsl_mailboxes(accounts: &[store::ConsoleAccount]) -> Vec<String> {
    accounts
        .iter()
        .filter(|a| a.role == "dsl" || a.role == "deputy-dsl")
        .filter_map(mailbox)
        .collect()
}

/// The console page of one alert, for links in emails.
pub fn alert_link(console_url: &str, id: i64) -> String {
    format!("{}/alerts/{id}", console_url.trim_end_matches('/'))
}

/// The stored form of an alert the monitor raised.
fn stored(alert: &Alert) -> NewAlert {
    let (signal, phrase_key, phrase, term, url) = match &alert.reason {
        Reason::Phrase {
            key, phrase, term, ..
        } => (
            "phrase",
            Some(key.clone()),
            Some(phrase.clone()),
            Some(term.clone()),
            None,
        ),
        Reason::Blocked { url } => ("blocked", None, None, None, Some(url.clone())),
        Reason::Circumvention { url } => ("circumvention", None, None, None, Some(url.clone())),
        Reason::Repeated { .. } => ("repeated", None, None, None, None),
    };
    let routing = match &alert.route {
        Route::Now { .. } => "immediate",
        Route::OutOfHours { .. } => "out-of-hours",
        Route::Digest(monitor::Period::Daily) => "daily",
        Route::Digest(monitor::Period::Weekly) => "weekly",
    };
    NewAlert {
        id: i64::try_from(alert.id.0).unwrap_or(i64::MAX),
        raised_at: alert.raised_at,
        person: alert.person.clone(),
        device: alert.device.clone(),
        client_ip: alert.client_ip.clone(),
        category: alert.category.clone(),
        severity: alert.severity.get(),
        signal: signal.into(),
        phrase_key,
        phrase,
        term,
        url,
        count: alert.count,
        first_at: alert.first_at,
        last_at: alert.last_at,
        first_event: alert.events.first().copied().unwrap_or_default(),
        last_event: alert.events.last().copied().unwrap_or_default(),
        routing: routing.into(),
    }
}

/// How people at the school name its time zone: "UK time" for
/// Europe/London, otherwise the zone's own name ("Asia/Dubai").
pub fn zone_name(zone: &TimeZone) -> &str {
    match zone.iana_name() {
        Some("Europe/London") => "UK time",
        Some(name) => name,
        None => "the school's time",
    }
}

/// The email (and webhook text) for an immediate alert: who, which device,
/// when (in the school's time zone, `zone`), what, and a link to it in the
/// console.
pub fn alert_message(
    alert: &NewAlert,
    library: &Library,
    zone: &TimeZone,
    console_url: &str,
) -> notify::Message {
    let category = library
        .category(&alert.category)
        .map_or(alert.category.as_str(), |c| c.name.as_str());
    let who = alert.person.as_deref().unwrap_or("not signed in");
    let when = format!(
        "{} ({})",
        alert
            .first_at
            .to_zoned(zone.clone())
            .strftime("%A %-d %B %Y at %H:%M"),
        zone_name(zone)
    );
    let what = match (&alert.term, &alert.phrase, &alert.url) {
        (Some(term), Some(phrase), _) => {
            format!("searched for \"{term}\" (the phrase \"{phrase}\" in {category})")
        }
        (_, _, Some(url)) if alert.signal == "circumvention" => {
            format!("tried to get round the filter ({category}): {url}")
        }
        (_, _, Some(url)) => format!("tried to reach a blocked site ({category}): {url}"),
        _ => format!("repeated attempts to reach blocked sites ({category})"),
    };
    let link = alert_link(console_url, alert.id);
    let subject = format!(
        "Safeguarding alert, severity {}: {category} ({who})",
        alert.severity
    );
    let text = format!(
        "schoolgate raised a safeguarding alert that needs a look now.\n\n\
         Who: {who}\n\
         Device: {} ({})\n\
         When: {when}\n\
         What: {what}\n\
         Severity: {} of 5\n\n\
         Open the alert, see the activity around it and record what you decide:\n{link}\n\n\
         Repeats in the next while are added to this alert rather than sent again.\n",
        alert.device.as_deref().unwrap_or("unknown device"),
        alert.client_ip,
        alert.severity,
    );
    notify::Message::new("alert", alert.severity, &subject, &text)
}

/// The email passing an out-of-hours alert on to the next contact: the
/// alert's own message, saying first that nobody has looked at it yet.
fn passed_on_message(
    alert: &NewAlert,
    library: &Library,
    zone: &TimeZone,
    console_url: &str,
    minutes: u64,
) -> notify::Message {
    let mut message = alert_message(alert, library, zone, console_url);
    message.subject = format!("Not yet looked at: {}", message.subject);
    message.text = format!(
        "Nobody on the school's out-of-hours list has looked at this alert in the console yet, \
         and you are next on the list (it is passed on every {minutes} minutes until someone \
         records a decision on it).\n\n{}",
        message.text
    );
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_errors_name_the_key() {
        let bad = MonitoringSettings {
            daily_from: 5,
            ..MonitoringSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "monitoring.daily_from");
        let bad = MonitoringSettings {
            school_opens: "8am".into(),
            ..MonitoringSettings::default()
        };
        let (key, problem) = bad.validate().unwrap_err();
        assert_eq!(key, "monitoring.school_opens");
        assert!(problem.contains("08:30"));
        let bad = MonitoringSettings {
            immediate_from: 9,
            ..MonitoringSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "monitoring.immediate_from");
        assert!(MonitoringSettings::default().validate().is_ok());
    }

    #[test]
    fn a_time_zone_here_must_be_the_policys() {
        let london = TimeZone::get("Europe/London").expect("zone");
        let named = |zone: &str| MonitoringSettings {
            time_zone: Some(zone.into()),
            ..MonitoringSettings::default()
        };
        assert_eq!(
            MonitoringSettings::default().check_time_zone(&london),
            Ok(())
        );
        assert_eq!(named("Europe/London").check_time_zone(&london), Ok(()));
        let (key, problem) = named("Asia/Dubai").check_time_zone(&london).unwrap_err();
        assert_eq!(key, "monitoring.time_zone");
        assert!(
            problem.contains("school.timezone") && problem.contains("remove"),
            "{problem}"
        );
        assert!(named("Nowhere/Else").check_time_zone(&london).is_err());
        let dubai = TimeZone::get("Asia/Dubai").expect("zone");
        assert!(named("Europe/London").check_time_zone(&dubai).is_err());
    }

    /// Alert `id`: amara.okafor searched "how to kill myself" (event
    /// `event`) at `at`, from no known device.
    fn self_harm_alert(id: i64, at: Timestamp, event: i64, routing: &str) -> NewAlert {
        NewAlert {
            id,
            raised_at: at,
            person: Some("amara.okafor".into()),
            device: None,
            client_ip: "10.0.5.17".into(),
            category: "self-harm".into(),
            severity: 5,
            signal: "phrase".into(),
            phrase_key: Some("self-harm/en/how to kill myself".into()),
            phrase: Some("how to kill myself".into()),
            term: Some("how to kill myself".into()),
            url: None,
            count: 1,
            first_at: at,
            last_at: at,
            first_event: event,
            last_event: event,
            routing: routing.into(),
        }
    }

    #[test]
    fn the_message_says_who_what_when_and_links_to_the_alert() {
        let at: Timestamp = "2026-11-23T10:05:00Z".parse().expect("time");
        let mut alert = self_harm_alert(7, at, 3, "immediate");
        alert.device = Some("LAPTOP-07".into());
        let zone = |name| TimeZone::get(name).expect("zone");
        let message = alert_message(
            &alert,
            &Library::starter(),
            &zone("Europe/London"),
            "https://console.school/",
        );
        assert!(message.text.contains("Who: amara.okafor"));
        assert!(message.text.contains("Device: LAPTOP-07 (10.0.5.17)"));
        assert!(
            message
                .text
                .contains("When: Monday 23 November 2026 at 10:05 (UK time)"),
            "{}",
            message.text
        );
        // A British international school in Dubai reads its own time.
        let dubai = alert_message(
            &alert,
            &Library::starter(),
            &zone("Asia/Dubai"),
            "https://console.school/",
        );
        assert!(
            dubai
                .text
                .contains("When: Monday 23 November 2026 at 14:05 (Asia/Dubai)"),
            "{}",
            dubai.text
        );
        assert!(message.text.contains("\"how to kill myself\""));
        assert!(message.text.contains("https://console.school/alerts/7"));
        assert_eq!(message.severity, 5);
        assert!(message.subject.contains("Self-harm"));
    }

    fn search(term: &str) -> store::ActivityEvent {
        store::ActivityEvent {
            at: Timestamp::now(),
            source: store::Source::Proxy,
            client_ip: "10.0.5.17".into(),
            username: Some("amara.okafor".into()),
            device: Some("LAPTOP-07".into()),
            profile: "ks2".into(),
            method: "GET".into(),
            url: format!("http://www.google.com/search?q={term}"),
            host: "www.google.com".into(),
            search_term: Some(term.into()),
            categories: "search-engines".into(),
            verdict: "allow".into(),
            rule: "default".into(),
            status: Some(200),
            bytes: 100,
            duration_ms: 2,
            reference: None,
        }
    }

    /// Console accounts: (username, role, email).
    async fn accounts(store: &SqliteStore, accounts: &[(&str, &str, Option<&str>)]) {
        for (username, role, email) in accounts {
            store
                .add_console_account(
                    &store::NewConsoleAccount {
                        username: (*username).into(),
                        display_name: format!("Invented {username}"),
                        email: email.map(String::from),
                        role: (*role).into(),
                        person: None,
                        password_hash: None,
                    },
                    "test",
                )
                .await
                .expect("account");
        }
    }

    /// The warm path as `serve` would start it, over `store`.
    fn warm(store: &SqliteStore) -> WarmPath {
        WarmPath {
            store: store.clone(),
            settings: MonitoringSettings::default(),
            zone: Arc::new(TimeZone::get("Europe/London").expect("zone")),
            console_url: "http://console.test".into(),
            outbox: Arc::new(notify::Outbox::new(
                store.clone(),
                None,
                notify::Webhooks::new(&[]).expect("no webhooks"),
                notify::DeliveryOptions::default(),
            )),
            wake: Arc::new(Notify::new()),
            metrics: Arc::default(),
        }
    }

    #[test]
    fn a_monitor_that_stops_getting_through_is_noticed() {
        let limit = stall_limit(3);
        assert_eq!(limit, Duration::from_secs(600));
        assert_eq!(stall_limit(120), Duration::from_secs(1200));
        let start = 1_795_000_000;
        // No pass yet: counted from the start.
        assert_eq!(stalled(0, start, start + 599, limit), None);
        assert_eq!(
            stalled(0, start, start + 601, limit),
            Some(Duration::from_secs(601))
        );
        // A recent pass is fine; an old one is not.
        assert_eq!(stalled(start + 500, start, start + 1000, limit), None);
        assert_eq!(
            stalled(start + 500, start, start + 1200, limit),
            Some(Duration::from_secs(700))
        );
        // A clock that went back is not a stall.
        assert_eq!(stalled(start + 500, start, start, limit), None);
    }

    /// The metrics endpoint shows how far behind monitoring is: a pass
    /// stopped after one batch leaves a backlog and counts no pass; the
    /// next pass reads to the end.
    #[tokio::test]
    async fn progress_through_the_log_is_shown_in_the_metrics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("open");
        store
            .record_activity(&[search("volcanoes"), search("rivers"), search("tudors")])
            .await
            .expect("activity");
        let mut warm = warm(&store);
        warm.settings.batch = 2;
        let stopped = CancellationToken::new();
        stopped.cancel();
        let mut running = None;
        warm.pass(&mut running, &stopped).await.expect("pass");
        assert_eq!(store.monitor_cursor().await.expect("cursor"), 2);
        let text = warm.metrics.render(&gate::ActivityCounts::default());
        assert!(
            text.contains("schoolgate_monitor_backlog_events 1\n"),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_monitor_passes_total 0\n"),
            "{text}"
        );

        warm.pass(&mut running, &CancellationToken::new())
            .await
            .expect("pass");
        assert_eq!(store.monitor_cursor().await.expect("cursor"), 3);
        let text = warm.metrics.render(&gate::ActivityCounts::default());
        assert!(
            text.contains("schoolgate_monitor_backlog_events 0\n"),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_monitor_passes_total 1\n"),
            "{text}"
        );
        assert!(
            !text.contains("schoolgate_monitor_last_pass_timestamp_seconds 0\n"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn passes_store_alerts_queue_mail_once_and_survive_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("open");
        accounts(
            &store,
            &[
                ("d.lead", "dsl", Some("dsl@school.example")),
                ("d.deputy", "deputy-dsl", None),
                ("s.teacher", "staff", Some("staff@school.example")),
            ],
        )
        .await;
        store
            .record_activity(&[
                search("what is photosynthesis"),
                search("how to kill myself"),
            ])
            .await
            .expect("activity");
        let stop = CancellationToken::new();
        let mut running = None;
        let first = warm(&store);
        first.pass(&mut running, &stop).await.expect("pass");
        assert_eq!(store.monitor_cursor().await.expect("cursor"), 2);
        let alerts = store
            .alerts(&store::AlertFilter {
                limit: 10,
                ..store::AlertFilter::default()
            })
            .await
            .expect("alerts");
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].alert.category, "self-harm");
        assert_eq!(alerts[0].alert.first_event, 2);
        let queued = store.outbox_entries(10).await.expect("outbox");
        assert_eq!(queued.len(), 1);
        // The DSL with an email; never staff, and no one without an address.
        assert_eq!(
            queued[0].destination,
            "Invented d.lead <dsl@school.example>"
        );
        assert_eq!(queued[0].dedup_key.as_deref(), Some("alert:1"));

        // A repeat folds into the alert: no second message.
        store
            .record_activity(&[search("how to kill myself")])
            .await
            .expect("activity");
        first.pass(&mut running, &stop).await.expect("pass");
        let alert = store.alert(1).await.expect("alert").expect("some");
        assert_eq!(alert.alert.count, 2);
        assert_eq!(alert.alert.last_event, 3);
        assert_eq!(store.outbox_entries(10).await.expect("outbox").len(), 1);

        // After a restart nothing already read is read again.
        let mut running = None;
        let second = warm(&store);
        second.pass(&mut running, &stop).await.expect("pass");
        assert_eq!(store.last_alert_id().await.expect("last"), 1);
        assert_eq!(store.outbox_entries(10).await.expect("outbox").len(), 1);

        // A library saved in the console is used from the next pass.
        let mut files: Vec<(String, String)> = monitor::library::STARTER_FILES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        files.push((
            "local.toml".into(),
            "language = \"en\"\n[[phrases]]\ncategory = \"bullying\"\nseverity = 3\nphrases = [\"zorblax the new kid\"]\n".into(),
        ));
        store
            .save_phrase_library(
                &files,
                "d.lead",
                "a name pupils use to bully",
                Timestamp::now(),
            )
            .await
            .expect("save");
        store
            .record_activity(&[search("zorblax the new kid")])
            .await
            .expect("activity");
        second.pass(&mut running, &stop).await.expect("pass");
        let newest = store.alert(2).await.expect("alert").expect("raised");
        assert_eq!(newest.alert.category, "bullying");
        assert_eq!(newest.alert.routing, "daily");
        // A digest alert is not mailed at once.
        assert_eq!(store.outbox_entries(10).await.expect("outbox").len(), 1);
    }

    #[tokio::test]
    async fn out_of_hours_alerts_go_down_the_list_until_someone_looks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("open");
        accounts(
            &store,
            &[
                ("d.lead", "dsl", Some("dsl@school.example")),
                ("d.deputy", "deputy-dsl", Some("deputy@school.example")),
                ("h.teacher", "headteacher", None),
                ("b.chair", "headteacher", Some("chair@school.example")),
                ("s.other", "deputy-dsl", Some("other@school.example")),
            ],
        )
        .await;
        let mut path = warm(&store);
        // The headteacher has no email address: skipped.
        path.settings.out_of_hours = ["d.deputy", "h.teacher", "d.lead", "b.chair", "s.other"]
            .map(String::from)
            .to_vec();
        path.settings.out_of_hours_next_after_minutes = 15;
        // Out of hours, the first contact alone is mailed at once.
        assert_eq!(
            path.recipients(true).await.expect("recipients"),
            ["Invented d.deputy <deputy@school.example>"]
        );
        assert_eq!(path.recipients(false).await.expect("recipients").len(), 3);

        let raised: Timestamp = "2026-11-21T22:00:00Z".parse().expect("time");
        let alert = self_harm_alert(1, raised, 1, "out-of-hours");
        store
            .record_alerts(&AlertBatch {
                raised: vec![alert],
                ..AlertBatch::default()
            })
            .await
            .expect("record");
        let library = Library::starter();
        let london = TimeZone::get("Europe/London").expect("zone");
        let at = |minutes: i64| raised + SignedDuration::from_mins(minutes);
        let queued = || async {
            store
                .outbox_entries(20)
                .await
                .expect("outbox")
                .into_iter()
                .map(|e| (e.destination, e.dedup_key.unwrap_or_default()))
                .collect::<Vec<_>>()
        };

        // Within the first quarter of an hour nobody else is told.
        assert!(
            !path
                .pass_on(&library, &london, at(14))
                .await
                .expect("pass on")
        );
        assert!(queued().await.is_empty());
        // Then the next on the list, once however often the monitor looks.
        assert!(
            path.pass_on(&library, &london, at(16))
                .await
                .expect("pass on")
        );
        assert!(
            !path
                .pass_on(&library, &london, at(20))
                .await
                .expect("pass on")
        );
        assert_eq!(
            queued().await,
            [(
                "Invented d.lead <dsl@school.example>".to_owned(),
                "alert:1:next:1".to_owned()
            )]
        );
        let entry = &store.outbox_entries(1).await.expect("outbox")[0];
        assert!(entry.summary.starts_with("Not yet looked at: "));
        assert!(entry.payload.contains("you are next on the list"));
        // A monitor that was stopped for a while catches up in order.
        assert!(
            path.pass_on(&library, &london, at(31))
                .await
                .expect("pass on")
        );
        assert_eq!(queued().await.len(), 2);
        // A decision in the console stops it going further.
        assert!(
            store
                .triage_alert(
                    "new",
                    &store::AlertTriage {
                        alert: 1,
                        state: "reviewed".into(),
                        actor: "b.chair".into(),
                        at: at(35),
                        reason: String::new(),
                        concern: None,
                    },
                )
                .await
                .expect("triage")
        );
        assert!(
            !path
                .pass_on(&library, &london, at(50))
                .await
                .expect("pass on")
        );
        assert_eq!(queued().await.len(), 2);

        // Passing on turned off: everyone on the list at once, as before.
        path.settings.out_of_hours_next_after_minutes = 0;
        assert_eq!(path.recipients(true).await.expect("recipients").len(), 4);
    }
}
