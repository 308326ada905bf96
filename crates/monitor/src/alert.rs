//! Alert rules: each signal gets a severity; the most severe go at once to
//! the DSL and deputies (in school hours) or to the school's out-of-hours
//! contacts in the order it chose; the rest wait for a daily or weekly
//! digest. Repeats by one person in one category within the throttle window
//! are folded into the open alert with a count, so one worried search
//! session is one alert, not forty.
//!
//! [`Monitor`] holds only the open alerts throttling needs; storing alerts is
//! the caller's job, using the [`Outcome`]s it returns.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::library::Severity;
use crate::signal::{Activity, Signal, SignalKind, Subject, Watcher};
use crate::triage::TriageState;

/// Which digest an alert waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Daily,
    Weekly,
}

/// A member of staff alerts go to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Contact {
    /// The console account, by username.
    pub account: String,
    pub role: ContactRole,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContactRole {
    Dsl,
    DeputyDsl,
    /// Someone else the school names, such as the headteacher on call.
    Other,
}

/// Where an alert goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// In school hours: to every one of these at once.
    Now { contacts: Vec<Contact> },
    /// Out of hours: to these one after another, in the school's order,
    /// until someone acknowledges it.
    OutOfHours { order: Vec<Contact> },
    /// Into the next digest.
    Digest(Period),
}

impl Route {
    pub fn is_immediate(&self) -> bool {
        !matches!(self, Route::Digest(_))
    }
}

/// When the school counts as open, in its own time zone.
#[derive(Clone, Debug, PartialEq)]
pub struct SchoolHours {
    pub zone: TimeZone,
    pub days: Vec<Weekday>,
    pub opens: Time,
    pub closes: Time,
    /// Days the school is shut (holidays, training days).
    pub closed: Vec<Date>,
}

impl SchoolHours {
    /// Monday to Friday, 08:00 to 17:00 in the school's time zone
    /// (`school.timezone` in the policy).
    pub fn weekdays(zone: TimeZone) -> SchoolHours {
        SchoolHours {
            zone,
            days: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
            opens: Time::constant(8, 0, 0, 0),
            closes: Time::constant(17, 0, 0, 0),
            closed: Vec::new(),
        }
    }

    /// Whether the school is open at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = at.to_zoned(self.zone.clone());
        let date = local.date();
        let time = local.time();
        self.days.contains(&date.weekday())
            && !self.closed.contains(&date)
            && time >= self.opens
            && time < self.closes
    }
}

/// How signals become alerts. Severities are from 1 to 5.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    /// Alerts at or above this severity go out at once.
    pub immediate_from: Severity,
    /// Below `immediate_from`, alerts at or above this go into the daily
    /// digest; the rest into the weekly one.
    pub daily_from: Severity,
    /// The severity of a blocked attempt, per category id; categories not
    /// listed raise no alert for a single blocked attempt.
    pub blocked: BTreeMap<String, Severity>,
    /// The severity of reaching for a way round the filter.
    pub circumvention: Severity,
    /// The severity of repeated blocked attempts.
    pub repeated: Severity,
    /// Repeats within this long of an alert's first event fold into it.
    pub throttle: SignedDuration,
    pub hours: SchoolHours,
    /// The DSL and deputies, alerted together in school hours.
    pub in_hours: Vec<Contact>,
    /// Out of hours, in the order to try them.
    pub out_of_hours: Vec<Contact>,
}

impl Rules {
    /// Sensible starting rules: severity 4 and 5 at once, 3 daily, 1 and 2
    /// weekly; one blocked attempt matters most for self-harm and extremism.
    /// School hours are `hours`, such as [`SchoolHours::weekdays`].
    pub fn new(hours: SchoolHours, in_hours: Vec<Contact>, out_of_hours: Vec<Contact>) -> Rules {
        let level = |n| Severity::new(n).expect("1 to 5");
        let blocked = [
            ("self-harm", 3),
            ("extremism", 3),
            ("pornography", 2),
            ("violence", 2),
            ("violence-against-women-and-girls", 2),
            ("hate-speech", 2),
            ("discrimination", 2),
            ("drugs", 2),
            ("harmful-content", 2),
            ("gambling", 1),
            ("malware-hacking", 1),
        ]
        .into_iter()
        .map(|(id, n)| (id.to_owned(), level(n)))
        .collect();
        Rules {
            immediate_from: level(4),
            daily_from: level(3),
            blocked,
            circumvention: level(2),
            repeated: level(3),
            throttle: SignedDuration::from_hours(1),
            hours,
            in_hours,
            out_of_hours,
        }
    }

    /// Checks rules a school has set, before they are used.
    pub fn check(&self) -> Result<(), RulesError> {
        if self.in_hours.is_empty() {
            return Err(RulesError::NoContacts);
        }
        if self.daily_from > self.immediate_from {
            return Err(RulesError::DigestAboveImmediate {
                daily: self.daily_from,
                immediate: self.immediate_from,
            });
        }
        if self.throttle.is_negative() {
            return Err(RulesError::NegativeThrottle);
        }
        if self.hours.opens >= self.hours.closes {
            return Err(RulesError::Hours);
        }
        Ok(())
    }

    /// The severity of a signal, or `None` when it raises no alert.
    pub fn severity(&self, kind: &SignalKind) -> Option<Severity> {
        match kind {
            SignalKind::Phrase { severity, .. } => Some(*severity),
            SignalKind::Blocked { category } => self.blocked.get(category).copied(),
            SignalKind::Circumvention { .. } => Some(self.circumvention),
            SignalKind::Repeated { .. } => Some(self.repeated),
        }
    }

    /// Where an alert of this severity goes when raised at `now`.
    pub fn route(&self, severity: Severity, now: Timestamp) -> Route {
        if severity >= self.immediate_from {
            // Out of hours with nobody named, alert the in-hours contacts
            // rather than no one.
            if self.hours.is_open(now) || self.out_of_hours.is_empty() {
                Route::Now {
                    contacts: self.in_hours.clone(),
                }
            } else {
                Route::OutOfHours {
                    order: self.out_of_hours.clone(),
                }
            }
        } else if severity >= self.daily_from {
            Route::Digest(Period::Daily)
        } else {
            Route::Digest(Period::Weekly)
        }
    }
}

/// A mistake in alert rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("name at least one DSL or deputy to receive immediate alerts")]
    NoContacts,
    #[error(
        "the daily digest starts at severity {daily}, above immediate alerts at {immediate}; set it to {immediate} or lower"
    )]
    DigestAboveImmediate {
        daily: Severity,
        immediate: Severity,
    },
    #[error("the throttle window cannot be negative; use 0 to alert on every repeat")]
    NegativeThrottle,
    #[error("school hours must open before they close")]
    Hours,
}

/// What an alert is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    Phrase {
        /// [`crate::Phrase::key`].
        key: String,
        phrase: String,
        language: String,
        /// The search term, as typed.
        term: String,
    },
    Blocked {
        url: String,
    },
    Repeated {
        /// Blocked attempts within the window when the alert was raised.
        attempts: usize,
    },
    Circumvention {
        url: String,
    },
}

/// The position of an alert in the order the monitor raised them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertId(pub u64);

/// An alert: who, which device, when, what, and how to find the activity
/// around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub id: AlertId,
    pub subject: Subject,
    pub person: Option<String>,
    pub device: Option<String>,
    pub client_ip: String,
    /// The category id: the phrase's category, the blocked category, the
    /// circumvention category, or `repeated-attempts`.
    pub category: String,
    pub reason: Reason,
    pub severity: Severity,
    pub route: Route,
    /// When it was raised.
    pub raised_at: Timestamp,
    /// The first and last events folded into it.
    pub first_at: Timestamp,
    pub last_at: Timestamp,
    /// How many signals it stands for, the first included.
    pub count: u32,
    /// The events it stands for, oldest first, up to [`MAX_EVENTS`].
    pub events: Vec<i64>,
    pub state: TriageState,
}

/// Enough event ids to find a session; the count carries on past it.
pub const MAX_EVENTS: usize = 50;

/// The category of repeated-attempt alerts.
pub const REPEATED_CATEGORY: &str = "repeated-attempts";

impl Alert {
    /// The time range of the surrounding activity a DSL should see: from
    /// `margin` before the first event to `margin` after the last.
    pub fn surrounding(&self, margin: SignedDuration) -> (Timestamp, Timestamp) {
        (
            self.first_at
                .saturating_sub(margin)
                .expect("a signed duration"),
            self.last_at
                .saturating_add(margin)
                .expect("a signed duration"),
        )
    }
}

/// What observing one event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new alert.
    Raised(Box<Alert>),
    /// A repeat folded into an open alert.
    Folded {
        alert: AlertId,
        count: u32,
        last_at: Timestamp,
        event: i64,
    },
}

/// Signals in, alerts out, with throttling.
#[derive(Debug)]
pub struct Monitor {
    watcher: Watcher,
    rules: Rules,
    /// The open alert per subject and category.
    open: HashMap<(Subject, String), Alert>,
    next_id: u64,
}

impl Monitor {
    /// A monitor whose first alert will have id `first_id` (one past the
    /// last stored alert).
    pub fn new(watcher: Watcher, rules: Rules, first_id: u64) -> Monitor {
        Monitor {
            watcher,
            rules,
            open: HashMap::new(),
            next_id: first_id,
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn watcher(&self) -> &Watcher {
        &self.watcher
    }

    /// Observes one event at time `now` (which decides in- or out-of-hours
    /// routing).
    pub fn observe(&mut self, activity: &Activity, now: Timestamp) -> Vec<Outcome> {
        let signals = self.watcher.observe(activity);
        let mut outcomes = Vec::new();
        // One event counts once per category: "how to kill myself" holds
        // "kill myself" too, and the most severe phrase comes first.
        let mut categories: Vec<String> = Vec::new();
        for signal in signals {
            let Some(outcome) = self.signal(activity, signal, now, &mut categories) else {
                continue;
            };
            outcomes.push(outcome);
        }
        outcomes
    }

    fn signal(
        &mut self,
        activity: &Activity,
        signal: Signal,
        now: Timestamp,
        categories: &mut Vec<String>,
    ) -> Option<Outcome> {
        let severity = self.rules.severity(&signal.kind)?;
        let (category, reason) = match signal.kind {
            SignalKind::Phrase {
                key,
                text,
                category,
                language,
                term,
                ..
            } => (
                category,
                Reason::Phrase {
                    key,
                    phrase: text,
                    language,
                    term,
                },
            ),
            SignalKind::Blocked { category } => (
                category,
                Reason::Blocked {
                    url: activity.url.clone(),
                },
            ),
            SignalKind::Circumvention { category } => (
                category,
                Reason::Circumvention {
                    url: activity.url.clone(),
                },
            ),
            SignalKind::Repeated { count, .. } => (
                REPEATED_CATEGORY.to_owned(),
                Reason::Repeated { attempts: count },
            ),
        };
        if categories.contains(&category) {
            return None;
        }
        categories.push(category.clone());
        let key = (signal.subject.clone(), category.clone());
        if let Some(open) = self.open.get_mut(&key) {
            let within = signal.at.duration_since(open.first_at) <= self.rules.throttle;
            // A more severe repeat is news: it gets its own alert.
            if within && severity <= open.severity {
                open.count += 1;
                open.last_at = open.last_at.max(signal.at);
                open.first_at = open.first_at.min(signal.at);
                if open.events.len() < MAX_EVENTS && !open.events.contains(&signal.event) {
                    open.events.push(signal.event);
                }
                return Some(Outcome::Folded {
                    alert: open.id,
                    count: open.count,
                    last_at: open.last_at,
                    event: signal.event,
                });
            }
        }
        let alert = Alert {
            id: AlertId(self.next_id),
            subject: signal.subject,
            person: activity.person.clone(),
            device: activity.device.clone(),
            client_ip: activity.client_ip.clone(),
            category,
            reason,
            severity,
            route: self.rules.route(severity, now),
            raised_at: now,
            first_at: signal.at,
            last_at: signal.at,
            count: 1,
            events: vec![signal.event],
            state: TriageState::New,
        };
        self.next_id += 1;
        self.open.insert(key, alert.clone());
        Some(Outcome::Raised(Box::new(alert)))
    }

    /// Closes open alerts whose throttle window ended before `now`, and
    /// lets the watcher forget old attempts; call now and then.
    pub fn tidy(&mut self, now: Timestamp) {
        let throttle = self.rules.throttle;
        self.open
            .retain(|_, alert| now.duration_since(alert.first_at) <= throttle);
        self.watcher.forget_before(now);
    }

    /// How many alerts are open for folding.
    pub fn open_alerts(&self) -> usize {
        self.open.len()
    }
}
