//! The morning schedule in `serve`: the daily and weekly digests of the
//! alerts below the immediate level, emailed to the DSL and deputies, and
//! the weekly report of attempts to reach restricted material, emailed to
//! `[reports] weekly_recipients` (§7.3.4).
//!
//! What is due is decided by [`Calendar`], a pure function of the time and
//! of what was already queued (each message's dedup key in the outbox), so
//! a restart, a second run or `schoolgate report weekly --email` never mail
//! twice. After a stop, only the most recent period of each is sent, never
//! older ones. It runs on its own thread and runtime: the weekly report of a
//! large school is seconds of work that must not hold up the proxy.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use monitor::{Alert, AlertId, Digest, Library, Reason, Route, Severity, Subject, TriageState};
use store::sqlite::SqliteStore;
use store::{Store, StoredAlert};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::commands::report;
use crate::config::Config;
use crate::monitoring::{ZoneInForce, alert_link, dsl_mailboxes, library_in_force, zone_name};

/// How often the schedule looks at the clock.
const EVERY: Duration = Duration::from_secs(60);
/// How long to wait before trying again after a failure.
const RETRY_AFTER: SignedDuration = SignedDuration::from_mins(10);
/// Links listed per person in a digest; the console has the rest.
const LINKS_PER_LINE: usize = 10;

/// Something the schedule sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Each school day (Monday to Friday): the "daily" alerts since the
    /// last school day began (Friday to Sunday on a Monday).
    DailyDigest,
    /// Each Monday: the "weekly" alerts of the Monday to Sunday before.
    WeeklyDigest,
    /// Each week on the day set: the weekly report of the seven days before.
    WeeklyReport,
}

impl Job {
    pub fn name(self) -> &'static str {
        match self {
            Job::DailyDigest => "the daily digest",
            Job::WeeklyDigest => "the weekly digest",
            Job::WeeklyReport => "the weekly report",
        }
    }

    /// The alerts' routing a digest covers.
    fn routing(self) -> Option<&'static str> {
        match self {
            Job::DailyDigest => Some("daily"),
            Job::WeeklyDigest => Some("weekly"),
            Job::WeeklyReport => None,
        }
    }
}

/// One time a job falls due, and the days it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub job: Job,
    /// When it fell due.
    pub at: Timestamp,
    /// The first and last day covered, in the school's time zone.
    pub first: Date,
    pub last: Date,
}

impl Occurrence {
    /// The dedup key its message is queued with: the job and the first day
    /// it covers. The weekly report's is the one `report weekly --email`
    /// uses.
    pub fn key(&self) -> String {
        match self.job {
            Job::DailyDigest => format!("digest:daily:{}", self.first),
            Job::WeeklyDigest => format!("digest:weekly:{}", self.first),
            Job::WeeklyReport => report::weekly_key(self.first),
        }
    }

    /// "Monday 16 November 2026", or "Friday 20 to Sunday 22 November 2026".
    pub fn days(&self) -> String {
        describe_days(self.first, self.last)
    }
}

fn describe_days(first: Date, last: Date) -> String {
    if first == last {
        first.strftime("%A %-d %B %Y").to_string()
    } else if first.year() != last.year() {
        format!(
            "{} to {}",
            first.strftime("%A %-d %B %Y"),
            last.strftime("%A %-d %B %Y")
        )
    } else if first.month() != last.month() {
        format!(
            "{} to {}",
            first.strftime("%A %-d %B"),
            last.strftime("%A %-d %B %Y")
        )
    } else {
        format!(
            "{} to {}",
            first.strftime("%A %-d"),
            last.strftime("%A %-d %B %Y")
        )
    }
}

/// When each job is due. No bank holidays or term dates: a digest on a
/// holiday simply covers the day before.
#[derive(Clone, Debug)]
pub struct Calendar {
    /// The school's time zone (`school.timezone` in the policy).
    pub zone: TimeZone,
    /// When the digests go out; none: no digests (monitoring is off).
    pub digest_at: Option<Time>,
    /// The day and time the weekly report goes out; none: not emailed.
    pub report: Option<(Weekday, Time)>,
}

fn is_school_day(day: Date) -> bool {
    !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn days_before(day: Date, n: i64) -> Date {
    day.checked_sub(n.days()).unwrap_or(day)
}

impl Calendar {
    /// The instant `day` reaches `at` in the school's zone (in a clock
    /// change's gap, the moment after it).
    fn instant(&self, day: Date, at: Time) -> Option<Timestamp> {
        day.to_datetime(at)
            .to_zoned(self.zone.clone())
            .ok()
            .map(|z| z.timestamp())
    }

    /// The instant `day` begins in the school's zone.
    pub fn day_start(&self, day: Date) -> Timestamp {
        self.instant(day, Time::midnight())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The most recent day, up to a week back, that `keep` accepts and
    /// whose time `at` has come by `now`.
    fn latest_day(
        &self,
        now: Timestamp,
        at: Time,
        keep: impl Fn(Date) -> bool,
    ) -> Option<(Date, Timestamp)> {
        let today = now.to_zoned(self.zone.clone()).date();
        (0..8)
            .map(|back| days_before(today, back))
            .filter(|day| keep(*day))
            .find_map(|day| {
                self.instant(day, at)
                    .filter(|when| *when <= now)
                    .map(|when| (day, when))
            })
    }

    /// The most recent time each job fell due at or before `now`, with the
    /// days it covers.
    pub fn latest(&self, now: Timestamp) -> Vec<Occurrence> {
        let mut found = Vec::new();
        if let Some(at) = self.digest_at {
            if let Some((day, when)) = self.latest_day(now, at, is_school_day) {
                let last = days_before(day, 1);
                let mut first = last;
                while !is_school_day(first) {
                    first = days_before(first, 1);
                }
                found.push(Occurrence {
                    job: Job::DailyDigest,
                    at: when,
                    first,
                    last,
                });
            }
            if let Some((day, when)) = self.latest_day(now, at, |d| d.weekday() == Weekday::Monday)
            {
                found.push(Occurrence {
                    job: Job::WeeklyDigest,
                    at: when,
                    first: days_before(day, 7),
                    last: days_before(day, 1),
                });
            }
        }
        if let Some((weekday, at)) = self.report
            && let Some((day, when)) = self.latest_day(now, at, |d| d.weekday() == weekday)
        {
            found.push(Occurrence {
                job: Job::WeeklyReport,
                at: when,
                first: days_before(day, 7),
                last: days_before(day, 1),
            });
        }
        found
    }

    /// What to send at `now`: the most recent time each job fell due, unless
    /// `done` says its key was queued already. Older periods are never
    /// caught up.
    pub fn due(&self, now: Timestamp, done: impl Fn(&str) -> bool) -> Vec<Occurrence> {
        self.latest(now)
            .into_iter()
            .filter(|o| !done(&o.key()))
            .collect()
    }

    /// The instants a digest covers: from the start of its first day to the
    /// start of the day after its last.
    pub fn span(&self, occurrence: &Occurrence) -> (Timestamp, Timestamp) {
        (
            self.day_start(occurrence.first),
            self.day_start(
                occurrence
                    .last
                    .checked_add(1.day())
                    .unwrap_or(occurrence.last),
            ),
        )
    }
}

/// What became of one job at one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// Queued in the outbox now.
    Queued { to: usize },
    /// Queued before (by an earlier step, a restart, or by hand).
    AlreadyQueued,
    /// A digest with no alerts: nothing is sent.
    NoAlerts,
    /// A digest with no one to send it to: no DSL or deputy account has an
    /// email address, and no webhook takes digests.
    NoOneToSend,
}

/// The digests and the weekly report, as `serve` runs them.
pub struct Scheduler {
    store: SqliteStore,
    outbox: Arc<notify::Outbox<SqliteStore>>,
    wake: Option<Arc<Notify>>,
    pub calendar: Calendar,
    /// Where `calendar.zone` comes from: the policy in force.
    zone: ZoneInForce,
    console_url: String,
    school: String,
    report_to: Vec<String>,
    /// As written in `[monitoring] digest_at`, for the email's last line.
    digest_at: String,
    immediate_from: u8,
    /// Digests found empty (their period is over, so they stay empty).
    settled: HashSet<String>,
    /// Jobs that failed, and when to try them again.
    retry: HashMap<String, Timestamp>,
}

impl Scheduler {
    /// The schedule `config` asks for: digests while monitoring is on, the
    /// weekly report when it names recipients; in the school's time zone,
    /// as `zone` gives it at each step.
    pub fn new(
        store: SqliteStore,
        outbox: Arc<notify::Outbox<SqliteStore>>,
        config: &Config,
        console_url: &str,
        zone: ZoneInForce,
    ) -> anyhow::Result<Scheduler> {
        let problem = |(key, problem): (String, String)| anyhow::anyhow!("{key}: {problem}");
        let m = &config.monitoring;
        let digest_at = if m.enabled {
            Some(m.digest_time().map_err(problem)?)
        } else {
            None
        };
        let report = if config.reports.weekly_recipients.is_empty() {
            None
        } else {
            Some(config.reports.weekly_report_when().map_err(problem)?)
        };
        Ok(Scheduler {
            store,
            outbox,
            wake: None,
            calendar: Calendar {
                zone: zone.time_zone(),
                digest_at,
                report,
            },
            zone,
            console_url: console_url.trim_end_matches('/').to_owned(),
            school: report::school(config),
            report_to: config.reports.weekly_recipients.clone(),
            digest_at: m.digest_at.clone(),
            immediate_from: m.immediate_from,
            settled: HashSet::new(),
            retry: HashMap::new(),
        })
    }

    /// Wakes the delivery worker when something was queued.
    pub fn waking(mut self, wake: Arc<Notify>) -> Scheduler {
        self.wake = Some(wake);
        self
    }

    /// Whether there is anything to schedule at all.
    pub fn is_empty(&self) -> bool {
        self.calendar.digest_at.is_none() && self.calendar.report.is_none()
    }

    /// Sends what is due at `now` that was not sent before: the most recent
    /// period of each job only. Returns what became of each.
    pub async fn step(&mut self, now: Timestamp) -> Vec<(Occurrence, Result<Done, String>)> {
        // The policy may have been reloaded with another school.timezone.
        self.calendar.zone = self.zone.time_zone();
        let mut results = Vec::new();
        let mut queued = false;
        let due = self.calendar.due(now, |key| {
            self.settled.contains(key) || self.retry.get(key).is_some_and(|t| *t > now)
        });
        for occurrence in due {
            let key = occurrence.key();
            let result = match self.store.outbox_has_key(&key).await {
                Ok(true) => Ok(Done::AlreadyQueued),
                Ok(false) => self.send(&occurrence, now).await,
                Err(e) => Err(e.to_string()),
            };
            match &result {
                Ok(Done::NoAlerts) => {
                    self.settled.insert(key);
                }
                Ok(Done::Queued { .. }) => {
                    self.retry.remove(&key);
                    queued = true;
                }
                Err(_) => {
                    self.retry.insert(key, now + RETRY_AFTER);
                }
                Ok(_) => {}
            }
            results.push((occurrence, result));
        }
        if queued && let Some(wake) = &self.wake {
            wake.notify_one();
        }
        results
    }

    async fn send(&self, occurrence: &Occurrence, now: Timestamp) -> Result<Done, String> {
        let message = match occurrence.job.routing() {
            Some(routing) => {
                let (from, until) = self.calendar.span(occurrence);
                let alerts = self
                    .store
                    .alerts_raised(from, until, routing)
                    .await
                    .map_err(|e| e.to_string())?;
                if alerts.is_empty() {
                    return Ok(Done::NoAlerts);
                }
                let (_, library) = library_in_force(&self.store)
                    .await
                    .map_err(|e| format!("{e:#}"))?;
                let accounts = self
                    .store
                    .console_accounts()
                    .await
                    .map_err(|e| e.to_string())?;
                let mut message = digest_message(
                    occurrence,
                    &alerts,
                    &DigestText {
                        library: &library,
                        console_url: &self.console_url,
                        zone: &self.calendar.zone,
                        digest_at: &self.digest_at,
                        immediate_from: self.immediate_from,
                    },
                );
                message.to = dsl_mailboxes(&accounts);
                message
            }
            None => {
                let zone = reports::period::SchoolZone::new(&self.calendar.zone);
                let period = reports::Period::week_from(occurrence.first).in_zone(zone);
                let input = store::reports::weekly_input(&self.store, period, &self.school)
                    .await
                    .map_err(|e| e.to_string())?;
                let report = reports::weekly::weekly_report(period, &input);
                report::weekly_message(&report, &self.report_to)
            }
        };
        match self.outbox.enqueue(&message, now).await {
            Ok(queued) if queued.is_empty() => Ok(Done::AlreadyQueued),
            Ok(_) => Ok(Done::Queued {
                to: message.to.len(),
            }),
            Err(notify::EnqueueError::NoDestination { .. }) => Ok(Done::NoOneToSend),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Says at start-up what will be sent when.
    fn announce(&self) {
        match self.calendar.digest_at {
            Some(_) => println!(
                "digests: daily at {} on school days, weekly on Mondays, to the DSL and deputies",
                self.digest_at
            ),
            None => println!("digests: off (monitoring is off)"),
        }
        match self.calendar.report {
            Some((day, at)) => println!(
                "weekly report: emailed {}s at {} to {}",
                weekday_name(day),
                at.strftime("%H:%M"),
                self.report_to.join(", ")
            ),
            None => println!(
                "weekly report: not emailed, because no one is named to receive it; add their addresses to weekly_recipients in the [reports] table of schoolgate.toml"
            ),
        }
    }

    /// Starts the schedule on its own thread and runtime, unless there is
    /// nothing to schedule. It looks at `clock` now and every minute.
    pub fn spawn(
        self,
        clock: fn() -> Timestamp,
        stop: CancellationToken,
    ) -> Option<JoinHandle<()>> {
        self.announce();
        if self.is_empty() {
            return None;
        }
        Some(tokio::task::spawn_blocking(move || {
            crate::monitoring::background_priority();
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(self.run(clock, stop)),
                Err(e) => tracing::error!(error = %e, "the schedule could not start its runtime"),
            }
        }))
    }

    async fn run(mut self, clock: fn() -> Timestamp, stop: CancellationToken) {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // What has been logged, so each thing is said once.
        let mut said = HashSet::new();
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let results = tokio::select! {
                () = stop.cancelled() => return,
                results = self.step(clock()) => results,
            };
            for (occurrence, result) in results {
                let what = format!("{} for {}", occurrence.job.name(), occurrence.days());
                match result {
                    Ok(Done::Queued { .. }) => println!("schedule: queued {what}"),
                    Ok(Done::AlreadyQueued) => {}
                    Ok(Done::NoAlerts) => {
                        println!("schedule: {what} had no alerts, so nothing was sent");
                    }
                    Ok(Done::NoOneToSend) => {
                        if said.insert(occurrence.key()) {
                            tracing::warn!(
                                "{what} was not sent: no DSL or deputy DSL console account has an email address; add one to their accounts and it goes within a minute"
                            );
                        }
                    }
                    Err(e) => tracing::error!(
                        error = %e,
                        "{what} could not be made or queued; trying again in 10 minutes"
                    ),
                }
            }
        }
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// The console address for links from a command run by hand: the public
/// address, else the one it listens on.
pub fn configured_console_url(config: &Config) -> String {
    if let Some(url) = &config.console.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let listen = config.console.listen;
    let scheme = if config.console.tls_certificate.is_some() {
        "https"
    } else {
        "http"
    };
    if listen.ip().is_unspecified() {
        format!("{scheme}://localhost:{}", listen.port())
    } else {
        format!("{scheme}://{listen}")
    }
}

/// The monitoring view of a stored alert, for [`Digest::build`]. The
/// phrase's language is not stored; digests do not use it.
fn monitor_alert(stored: &StoredAlert) -> Option<Alert> {
    let a = &stored.alert;
    let reason = match a.signal.as_str() {
        "phrase" => Reason::Phrase {
            key: a.phrase_key.clone().unwrap_or_default(),
            phrase: a.phrase.clone().unwrap_or_default(),
            language: String::new(),
            term: a.term.clone().unwrap_or_default(),
        },
        "blocked" => Reason::Blocked {
            url: a.url.clone().unwrap_or_default(),
        },
        "circumvention" => Reason::Circumvention {
            url: a.url.clone().unwrap_or_default(),
        },
        _ => Reason::Repeated {
            attempts: usize::try_from(a.count).unwrap_or(usize::MAX),
        },
    };
    let route = match a.routing.as_str() {
        "weekly" => Route::Digest(monitor::Period::Weekly),
        "daily" => Route::Digest(monitor::Period::Daily),
        "out-of-hours" => Route::OutOfHours { order: Vec::new() },
        _ => Route::Now {
            contacts: Vec::new(),
        },
    };
    let subject = match (&a.person, &a.device) {
        (Some(person), _) => Subject::Person(person.clone()),
        (None, Some(device)) => Subject::Device(device.clone()),
        (None, None) => Subject::Address(a.client_ip.clone()),
    };
    let mut events = vec![a.first_event, a.last_event];
    events.dedup();
    Some(Alert {
        id: AlertId(u64::try_from(a.id).ok()?),
        subject,
        person: a.person.clone(),
        device: a.device.clone(),
        client_ip: a.client_ip.clone(),
        category: a.category.clone(),
        reason,
        severity: Severity::new(a.severity)?,
        route,
        raised_at: a.raised_at,
        first_at: a.first_at,
        last_at: a.last_at,
        count: a.count,
        events,
        state: TriageState::from_id(&stored.state).unwrap_or(TriageState::New),
    })
}

/// What a digest's text needs besides its alerts.
pub struct DigestText<'a> {
    /// The phrase library in force, for category names.
    pub library: &'a Library,
    pub console_url: &'a str,
    pub zone: &'a TimeZone,
    /// As written in `[monitoring] digest_at`.
    pub digest_at: &'a str,
    pub immediate_from: u8,
}

impl DigestText<'_> {
    /// The name staff read for a category id.
    fn category(&self, id: &str) -> String {
        if let Some(c) = self.library.category(id) {
            return c.name.clone();
        }
        if id == monitor::alert::REPEATED_CATEGORY {
            return "Repeated blocked attempts".into();
        }
        classify::taxonomy::Category::from_id(id)
            .map_or_else(|| id.to_owned(), |c| c.name().to_owned())
    }

    fn time(&self, at: Timestamp) -> String {
        at.to_zoned(self.zone.clone())
            .strftime("%a %-d %b %H:%M")
            .to_string()
    }
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn state_note(state: &str) -> &'static str {
    match state {
        "reviewed" => " (already reviewed)",
        "false-positive" => " (already marked a false positive)",
        "escalated" => " (already escalated to a concern)",
        _ => "",
    }
}

/// The digest email for `occurrence` (recipients left to the caller): the
/// counts by category, then each person's or device's alerts in it with the
/// highest severity, the first and last time and a link to each alert.
pub fn digest_message(
    occurrence: &Occurrence,
    alerts: &[StoredAlert],
    text: &DigestText<'_>,
) -> notify::Message {
    let converted: Vec<Alert> = alerts.iter().filter_map(monitor_alert).collect();
    let digest = Digest::build(&converted, Timestamp::MIN, Timestamp::MAX);
    let states: HashMap<i64, &str> = alerts
        .iter()
        .map(|a| (a.alert.id, a.state.as_str()))
        .collect();
    let kind = match occurrence.job {
        Job::WeeklyDigest => "weekly",
        _ => "daily",
    };
    let days = occurrence.days();
    let count = plural(digest.alerts, "alert", "alerts");
    let subject = format!(
        "{} safeguarding digest: {count}, {days}",
        if kind == "weekly" { "Weekly" } else { "Daily" }
    );
    let mut body = format!(
        "schoolgate's {kind} digest: the {count} raised {} {days} that did not need emailing at once. \
         Please open each one in the console and mark it reviewed or a false positive, or escalate it to a concern.\n\n\
         By category\n",
        if occurrence.first == occurrence.last {
            "on"
        } else {
            "from"
        },
    );
    for section in &digest.categories {
        let _ = writeln!(
            body,
            "  {}: {}, highest severity {} of 5",
            text.category(&section.category),
            plural(section.alerts, "alert", "alerts"),
            section.highest
        );
    }
    for section in &digest.categories {
        let _ = write!(body, "\n{}\n", text.category(&section.category));
        for line in &section.subjects {
            let who = match &line.subject {
                Subject::Person(person) => person.clone(),
                Subject::Device(device) => format!("device {device} (no one signed in)"),
                Subject::Address(address) => {
                    format!("the computer at {address} (no one signed in)")
                }
            };
            let times = if line.signals > line.alerts {
                format!(", {} in all", plural(line.signals, "time", "times"))
            } else {
                String::new()
            };
            let span = if line.first_at == line.last_at {
                format!("at {}", text.time(line.first_at))
            } else {
                format!(
                    "from {} to {}",
                    text.time(line.first_at),
                    text.time(line.last_at)
                )
            };
            let _ = writeln!(
                body,
                "  {who}: {}{times}, highest severity {} of 5, {span} ({})",
                plural(line.alerts, "alert", "alerts"),
                line.highest,
                zone_name(text.zone)
            );
            for id in line.alert_ids.iter().take(LINKS_PER_LINE) {
                let id = i64::try_from(*id).unwrap_or(i64::MAX);
                let _ = writeln!(
                    body,
                    "    {}{}",
                    alert_link(text.console_url, id),
                    state_note(states.get(&id).copied().unwrap_or("new"))
                );
            }
            if line.alert_ids.len() > LINKS_PER_LINE {
                let _ = writeln!(
                    body,
                    "    and {} more in the console's alert list: {}/alerts",
                    line.alert_ids.len() - LINKS_PER_LINE,
                    text.console_url
                );
            }
        }
    }
    let _ = write!(
        body,
        "\nThe daily digest is sent at {at} each school day (Monday to Friday) and the weekly digest at {at} on Mondays. \
         To change the time, ask whoever looks after schoolgate to change digest_at in the [monitoring] table of schoolgate.toml. \
         Alerts of severity {} and above are not in digests: they are emailed as soon as they are raised.\n",
        text.immediate_from,
        at = text.digest_at,
    );
    let highest = digest
        .categories
        .iter()
        .map(|c| c.highest.get())
        .max()
        .unwrap_or(1);
    notify::Message::new("digest", highest, &subject, &body).dedup_key(&occurrence.key())
}

/// Reads `--at`: an instant, or a date and time in the school's zone.
fn parse_at(text: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    reports::period::read_time(text, zone, false).ok_or_else(|| {
        format!(
            "'{}' is not a time; write it like 2026-11-16T07:45:00Z, or 2026-11-16T07:45 for the school's own time",
            text.trim()
        )
    })
}

/// `schoolgate schedule [--at TIME]`: one step of the schedule, by hand.
pub async fn command(
    dir: &crate::datadir::DataDir,
    config: &Config,
    at: Option<&str>,
) -> anyhow::Result<()> {
    let webhooks = notify::Webhooks::new(&config.webhook)
        .map_err(|e| crate::exit::Failure::usage(e.to_string()))?;
    let outbox = Arc::new(notify::Outbox::new(
        dir.store.clone(),
        None,
        webhooks,
        notify::DeliveryOptions::default(),
    ));
    let mut scheduler = Scheduler::new(
        dir.store.clone(),
        outbox,
        config,
        &configured_console_url(config),
        Arc::new(dir.school_zone().await?),
    )?;
    let now = match at {
        Some(text) => parse_at(text, &scheduler.calendar.zone)
            .map_err(|e| crate::exit::Failure::usage(format!("--at: {e}")))?,
        None => Timestamp::now(),
    };
    if scheduler.calendar.digest_at.is_none() {
        out!("Digests are off, because monitoring is off ([monitoring] enabled = false).");
    }
    if scheduler.calendar.report.is_none() {
        out!(
            "The weekly report is not emailed: no one is named to receive it. Add their addresses to weekly_recipients in the [reports] table of schoolgate.toml."
        );
    }
    let mut failed = None;
    for (occurrence, result) in scheduler.step(now).await {
        let what = format!("{} for {}", occurrence.job.name(), occurrence.days());
        match result {
            Ok(Done::Queued { to }) => out!(
                "Queued {what} ({}); `schoolgate serve` sends it through the [mail] server.",
                match to {
                    0 => "to webhooks only".to_owned(),
                    1 => "to 1 address".to_owned(),
                    n => format!("to {n} addresses"),
                }
            ),
            Ok(Done::AlreadyQueued) => out!("{what}: queued before; not queued again."),
            Ok(Done::NoAlerts) => out!("{what}: no alerts, so nothing to send."),
            Ok(Done::NoOneToSend) => out!(
                "{what}: not sent, because no DSL or deputy DSL console account has an email address; add one to their accounts."
            ),
            Err(e) => {
                out!("{what}: could not be made or queued: {e}");
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(e) => Err(crate::exit::Failure {
            code: crate::exit::FAILURE,
            message: format!("not everything due was queued ({e}); try again"),
        }
        .into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn at(text: &str) -> Timestamp {
        text.parse().expect("time")
    }

    fn london(report: Option<(Weekday, Time)>) -> Calendar {
        Calendar {
            zone: TimeZone::get("Europe/London").expect("zone"),
            digest_at: Some(time(7, 30, 0, 0)),
            report,
        }
    }

    fn find(found: &[Occurrence], job: Job) -> Option<Occurrence> {
        found.iter().find(|o| o.job == job).cloned()
    }

    fn covers(o: &Occurrence) -> (Date, Date) {
        (o.first, o.last)
    }

    #[test]
    fn a_weekday_morning_sends_yesterdays_digest() {
        let calendar = london(Some((Weekday::Monday, time(7, 30, 0, 0))));
        // Wednesday 18 November 2026, 08:00 in London (GMT).
        let found = calendar.latest(at("2026-11-18T08:00:00Z"));
        let daily = find(&found, Job::DailyDigest).expect("daily");
        assert_eq!(covers(&daily), (date(2026, 11, 17), date(2026, 11, 17)));
        assert_eq!(daily.at, at("2026-11-18T07:30:00Z"));
        assert_eq!(daily.key(), "digest:daily:2026-11-17");
        assert_eq!(
            calendar.span(&daily),
            (at("2026-11-17T00:00:00Z"), at("2026-11-18T00:00:00Z"))
        );
        // The weekly digest and report due most recently were Monday's.
        let weekly = find(&found, Job::WeeklyDigest).expect("weekly");
        assert_eq!(covers(&weekly), (date(2026, 11, 9), date(2026, 11, 15)));
        assert_eq!(weekly.key(), "digest:weekly:2026-11-09");
        let report = find(&found, Job::WeeklyReport).expect("report");
        assert_eq!(report.key(), "weekly-report:2026-11-09");
        assert_eq!(report.at, at("2026-11-16T07:30:00Z"));

        // Before 07:30 the most recent daily digest is still Tuesday's.
        let early = calendar.latest(at("2026-11-18T07:29:59Z"));
        let daily = find(&early, Job::DailyDigest).expect("daily");
        assert_eq!(covers(&daily), (date(2026, 11, 16), date(2026, 11, 16)));
    }

    #[test]
    fn a_school_in_dubai_gets_its_digest_at_its_own_0730() {
        let calendar = Calendar {
            zone: TimeZone::get("Asia/Dubai").expect("zone"),
            ..london(None)
        };
        // 07:30 in Dubai (UTC+4) is 03:30 UTC; London's 07:30 is four
        // hours later.
        let daily = find(
            &calendar.latest(at("2026-11-18T03:30:00Z")),
            Job::DailyDigest,
        )
        .expect("daily");
        assert_eq!(daily.at, at("2026-11-18T03:30:00Z"));
        assert_eq!(covers(&daily), (date(2026, 11, 17), date(2026, 11, 17)));
        assert_eq!(
            calendar.span(&daily),
            (at("2026-11-16T20:00:00Z"), at("2026-11-17T20:00:00Z"))
        );
        let in_london = find(
            &london(None).latest(at("2026-11-18T03:30:00Z")),
            Job::DailyDigest,
        )
        .expect("daily");
        assert_eq!(covers(&in_london), (date(2026, 11, 16), date(2026, 11, 16)));

        let alerts = [stored(11, Some("amara.okafor"), "bullying", 3, "new")];
        let message = school_digest(&daily, &alerts, &calendar.zone);
        assert!(
            message
                .text
                .contains("from Fri 20 Nov 14:16 to Sat 21 Nov 16:16 (Asia/Dubai)"),
            "{}",
            message.text
        );
        assert!(!message.text.contains("UK time"), "{}", message.text);
    }

    #[test]
    fn monday_covers_friday_and_the_weekend_and_saturday_sends_nothing_new() {
        let calendar = london(None);
        let found = calendar.latest(at("2026-11-23T07:30:00Z"));
        let daily = find(&found, Job::DailyDigest).expect("daily");
        assert_eq!(covers(&daily), (date(2026, 11, 20), date(2026, 11, 22)));
        assert_eq!(daily.days(), "Friday 20 to Sunday 22 November 2026");
        assert_eq!(
            calendar.span(&daily),
            (at("2026-11-20T00:00:00Z"), at("2026-11-23T00:00:00Z"))
        );
        let weekly = find(&found, Job::WeeklyDigest).expect("weekly");
        assert_eq!(covers(&weekly), (date(2026, 11, 16), date(2026, 11, 22)));
        assert!(find(&found, Job::WeeklyReport).is_none(), "no recipients");
        // On Saturday the last digest due was Friday's, about Thursday.
        let saturday = calendar.latest(at("2026-11-21T12:00:00Z"));
        let daily = find(&saturday, Job::DailyDigest).expect("daily");
        assert_eq!(covers(&daily), (date(2026, 11, 19), date(2026, 11, 19)));
        assert_eq!(daily.at, at("2026-11-20T07:30:00Z"));
    }

    #[test]
    fn the_clocks_changing_moves_the_instant_not_the_local_time() {
        let calendar = london(Some((Weekday::Monday, time(7, 30, 0, 0))));
        // Clocks went forward on Sunday 29 March 2026: 07:30 BST is 06:30 UTC.
        let before = calendar.latest(at("2026-03-30T06:29:59Z"));
        assert_eq!(
            covers(&find(&before, Job::DailyDigest).expect("daily")),
            (date(2026, 3, 26), date(2026, 3, 26))
        );
        let after = calendar.latest(at("2026-03-30T06:30:00Z"));
        let daily = find(&after, Job::DailyDigest).expect("daily");
        assert_eq!(daily.at, at("2026-03-30T06:30:00Z"));
        assert_eq!(covers(&daily), (date(2026, 3, 27), date(2026, 3, 29)));
        // Friday began at midnight GMT, Monday at midnight BST.
        assert_eq!(
            calendar.span(&daily),
            (at("2026-03-27T00:00:00Z"), at("2026-03-29T23:00:00Z"))
        );
        let report = find(&after, Job::WeeklyReport).expect("report");
        assert_eq!(report.at, at("2026-03-30T06:30:00Z"));
        // Back on Sunday 25 October 2026: 07:30 GMT is 07:30 UTC again.
        let autumn = calendar.latest(at("2026-10-26T07:00:00Z"));
        assert_eq!(
            find(&autumn, Job::DailyDigest).expect("daily").at,
            at("2026-10-23T06:30:00Z"),
            "at 07:00 UTC on Monday it is 07:00 GMT, so Friday's (BST) digest is the latest"
        );
    }

    #[test]
    fn started_late_sends_the_latest_period_only_and_never_twice() {
        let calendar = london(Some((Weekday::Monday, time(7, 30, 0, 0))));
        // Stopped from Monday morning to Thursday afternoon: only Thursday's
        // daily digest (about Wednesday) and Monday's weekly ones are due.
        let now = at("2026-11-19T15:00:00Z");
        let due = calendar.due(now, |_| false);
        let keys: Vec<String> = due.iter().map(Occurrence::key).collect();
        assert_eq!(
            keys,
            [
                "digest:daily:2026-11-18",
                "digest:weekly:2026-11-09",
                "weekly-report:2026-11-09"
            ]
        );
        // What was sent is not due again.
        let due = calendar.due(now, |key| key != "digest:daily:2026-11-18");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].job, Job::DailyDigest);
        assert!(calendar.due(now, |_| true).is_empty());
    }

    #[test]
    fn a_weekly_report_day_of_friday_covers_the_seven_days_before() {
        let calendar = Calendar {
            digest_at: None,
            ..london(Some((Weekday::Friday, time(15, 45, 0, 0))))
        };
        let found = calendar.latest(at("2026-11-20T16:00:00Z"));
        assert_eq!(found.len(), 1, "no digests when monitoring is off");
        assert_eq!(covers(&found[0]), (date(2026, 11, 13), date(2026, 11, 19)));
        let earlier = calendar.latest(at("2026-11-20T15:44:00Z"));
        assert_eq!(earlier[0].first, date(2026, 11, 6));
    }

    fn stored(
        id: i64,
        person: Option<&str>,
        category: &str,
        severity: u8,
        state: &str,
    ) -> StoredAlert {
        let first = at("2026-11-20T10:05:00Z") + SignedDuration::from_mins(id);
        StoredAlert {
            alert: store::NewAlert {
                id,
                raised_at: first,
                person: person.map(String::from),
                device: Some("LAPTOP-07".into()),
                client_ip: "10.0.5.17".into(),
                category: category.into(),
                severity,
                signal: "phrase".into(),
                phrase_key: None,
                phrase: Some("invented phrase".into()),
                term: Some("invented phrase".into()),
                url: None,
                count: 2,
                first_at: first,
                last_at: first + SignedDuration::from_hours(26),
                first_event: id,
                last_event: id + 1,
                routing: "daily".into(),
            },
            state: state.into(),
            concern: None,
        }
    }

    /// The digest of `alerts` a school in `zone` gets, with the starter
    /// library, at 07:30.
    fn school_digest(
        occurrence: &Occurrence,
        alerts: &[StoredAlert],
        zone: &TimeZone,
    ) -> notify::Message {
        digest_message(
            occurrence,
            alerts,
            &DigestText {
                library: &Library::starter(),
                console_url: "https://console.school.example",
                zone,
                digest_at: "07:30",
                immediate_from: 4,
            },
        )
    }

    #[test]
    fn the_digest_counts_by_category_and_links_each_alert() {
        let calendar = london(None);
        let daily = find(
            &calendar.latest(at("2026-11-23T08:00:00Z")),
            Job::DailyDigest,
        )
        .expect("daily");
        let alerts = [
            stored(11, Some("amara.okafor"), "bullying", 3, "new"),
            stored(12, Some("amara.okafor"), "bullying", 2, "reviewed"),
            stored(13, None, "bullying", 3, "new"),
            stored(14, Some("ben.adeyemi"), "drugs", 3, "new"),
            stored(15, Some("ben.adeyemi"), "repeated-attempts", 3, "new"),
        ];
        let message = school_digest(&daily, &alerts, &calendar.zone);
        assert_eq!(
            message.subject,
            "Daily safeguarding digest: 5 alerts, Friday 20 to Sunday 22 November 2026"
        );
        assert_eq!(
            message.dedup_key.as_deref(),
            Some("digest:daily:2026-11-20")
        );
        assert_eq!(message.kind, "digest");
        assert_eq!(message.severity, 3);
        let text = &message.text;
        assert!(
            text.contains("  Bullying: 3 alerts, highest severity 3 of 5\n"),
            "{text}"
        );
        assert!(
            text.contains("  Drugs: 1 alert, highest severity 3 of 5\n"),
            "{text}"
        );
        assert!(
            text.contains("Repeated blocked attempts: 1 alert"),
            "{text}"
        );
        assert!(
            text.contains(
                "  amara.okafor: 2 alerts, 4 times in all, highest severity 3 of 5, from Fri 20 Nov 10:16 to Sat 21 Nov 12:17 (UK time)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("    https://console.school.example/alerts/11\n"),
            "{text}"
        );
        assert!(
            text.contains("    https://console.school.example/alerts/12 (already reviewed)\n"),
            "{text}"
        );
        assert!(
            text.contains("  device LAPTOP-07 (no one signed in): 1 alert"),
            "{text}"
        );
        assert!(
            text.contains("digest_at in the [monitoring] table"),
            "{text}"
        );
        assert!(text.contains("severity 4 and above"), "{text}");
        // Categories with the most severe first, then the most alerts.
        let bullying = text.find("\nBullying\n").expect("section");
        let drugs = text.find("\nDrugs\n").expect("section");
        assert!(bullying < drugs, "{text}");
    }

    /// A store with one "daily" alert raised on Tuesday 17 November 2026,
    /// a staff account with an email and, if `dsl`, a DSL and a deputy.
    async fn school(dsl: bool) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("open");
        let accounts = [
            ("s.teacher", "staff", "staff@school.example"),
            ("d.lead", "dsl", "dsl@school.example"),
            ("d.deputy", "deputy-dsl", "deputy@school.example"),
        ];
        for (username, role, email) in &accounts[..if dsl { 3 } else { 1 }] {
            store
                .add_console_account(
                    &store::NewConsoleAccount {
                        username: (*username).into(),
                        display_name: format!("Invented {username}"),
                        email: Some((*email).into()),
                        role: (*role).into(),
                        person: None,
                        password_hash: None,
                    },
                    "test",
                )
                .await
                .expect("account");
        }
        let mut alert = stored(1, Some("amara.okafor"), "bullying", 3, "new");
        alert.alert.raised_at = at("2026-11-17T12:00:00Z");
        store
            .record_alerts(&store::AlertBatch {
                raised: vec![alert.alert],
                folded: Vec::new(),
                cursor: 1,
            })
            .await
            .expect("record");
        (dir, store)
    }

    fn scheduler(store: &SqliteStore, recipients: &[&str]) -> Scheduler {
        let mut config = Config::default();
        config.reports.weekly_recipients = recipients.iter().map(|r| (*r).to_owned()).collect();
        let outbox = Arc::new(notify::Outbox::new(
            store.clone(),
            None,
            notify::Webhooks::new(&[]).expect("no webhooks"),
            notify::DeliveryOptions::default(),
        ));
        Scheduler::new(
            store.clone(),
            outbox,
            &config,
            "http://console.test",
            Arc::new(TimeZone::get("Europe/London").expect("zone")),
        )
        .expect("new")
    }

    #[tokio::test]
    async fn a_step_queues_each_job_once_and_an_empty_digest_sends_nothing() {
        let (_dir, store) = school(true).await;
        let mut schedule = scheduler(&store, &["head@school.example"]);
        let now = at("2026-11-18T08:00:00Z");
        let results = schedule.step(now).await;
        let outcome = |job: Job| {
            results
                .iter()
                .find(|(o, _)| o.job == job)
                .map(|(_, r)| r.clone())
                .expect("job")
        };
        assert_eq!(outcome(Job::DailyDigest), Ok(Done::Queued { to: 2 }));
        assert_eq!(outcome(Job::WeeklyDigest), Ok(Done::NoAlerts));
        assert_eq!(outcome(Job::WeeklyReport), Ok(Done::Queued { to: 1 }));
        let entries = store.outbox_entries(10).await.expect("outbox");
        assert_eq!(entries.len(), 2);
        let digest = entries.iter().find(|e| e.kind == "digest").expect("digest");
        assert_eq!(
            digest.destination,
            "Invented d.deputy <deputy@school.example>, Invented d.lead <dsl@school.example>"
        );
        assert_eq!(digest.dedup_key.as_deref(), Some("digest:daily:2026-11-17"));

        // A second step, or a new scheduler after a restart, queues nothing.
        let again = schedule.step(now + SignedDuration::from_mins(1)).await;
        assert!(
            again.iter().all(|(_, r)| *r == Ok(Done::AlreadyQueued)),
            "{again:?}"
        );
        let mut restarted = scheduler(&store, &["head@school.example"]);
        let after = restarted.step(now + SignedDuration::from_hours(2)).await;
        assert!(
            after
                .iter()
                .all(|(_, r)| matches!(r, Ok(Done::AlreadyQueued | Done::NoAlerts))),
            "{after:?}"
        );
        assert_eq!(store.outbox_entries(10).await.expect("outbox").len(), 2);
    }

    #[tokio::test]
    async fn without_a_dsl_address_the_digest_waits_and_says_so() {
        let (_dir, store) = school(false).await;
        let mut schedule = scheduler(&store, &[]);
        let results = schedule.step(at("2026-11-18T08:00:00Z")).await;
        assert_eq!(results.len(), 2, "no weekly report without recipients");
        assert_eq!(results[0].1, Ok(Done::NoOneToSend));
        assert!(store.outbox_entries(10).await.expect("outbox").is_empty());
    }

    #[test]
    fn at_reads_an_instant_or_the_schools_own_time() {
        let zone = TimeZone::get("Europe/London").expect("zone");
        assert_eq!(
            parse_at("2026-06-01T07:45", &zone),
            Ok(at("2026-06-01T06:45:00Z"))
        );
        assert_eq!(
            parse_at("2026-06-01T07:45:00Z", &zone),
            Ok(at("2026-06-01T07:45:00Z"))
        );
        assert!(
            parse_at("monday", &zone)
                .unwrap_err()
                .contains("2026-11-16T07:45")
        );
    }
}
