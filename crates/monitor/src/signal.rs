//! What an activity event says that a DSL may need to know: a library phrase
//! in a search term, a blocked attempt in a category, repeated blocked
//! attempts by one person or device in a short time, or a way round the
//! filter (VPNs, proxies, DNS over HTTPS, remote access: the DfE standard's
//! circumvention).
//!
//! [`Watcher`] keeps the little state repeated attempts need (recent blocked
//! times per person or device) and forgets anything older than its window.

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};

use crate::library::{PhraseId, Severity};
use crate::matcher::Matcher;

/// One activity event, as monitoring sees it. The store's record converts
/// into this at the edge, so this crate needs no database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    /// The event's id in the activity log, so an alert can link to it.
    pub id: i64,
    pub at: Timestamp,
    /// The signed-in person's username, when known.
    pub person: Option<String>,
    pub device: Option<String>,
    pub client_ip: String,
    /// The URL, or the host for tunnels and DNS.
    pub url: String,
    pub host: String,
    /// The search term visible in the URL (`gate::search::search_term`).
    pub search_term: Option<String>,
    /// Category ids (`classify::taxonomy`).
    pub categories: Vec<String>,
    pub blocked: bool,
}

impl Activity {
    /// Who did it: the person when known, otherwise the device, otherwise
    /// the address.
    pub fn subject(&self) -> Subject {
        match (&self.person, &self.device) {
            (Some(person), _) => Subject::Person(person.clone()),
            (None, Some(device)) => Subject::Device(device.clone()),
            (None, None) => Subject::Address(self.client_ip.clone()),
        }
    }
}

#[cfg(feature = "store")]
impl Activity {
    /// The monitoring view of an activity-log record with row id `id`.
    pub fn from_event(id: i64, event: &store::ActivityEvent) -> Activity {
        Activity {
            id,
            at: event.at,
            person: event.username.clone(),
            device: event.device.clone(),
            client_ip: event.client_ip.clone(),
            url: event.url.clone(),
            host: event.host.clone(),
            search_term: event.search_term.clone(),
            categories: event
                .categories
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect(),
            blocked: event.verdict == "block",
        }
    }
}

/// Whom an alert is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Person(String),
    Device(String),
    Address(String),
}

/// What was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignalKind {
    /// A library phrase in a search term.
    Phrase {
        phrase: PhraseId,
        /// [`crate::Phrase::key`], for false-positive rates.
        key: String,
        /// The phrase as written in the library.
        text: String,
        category: String,
        severity: Severity,
        language: String,
        misspelt: bool,
        /// The search term it was found in.
        term: String,
    },
    /// A blocked attempt in one category.
    Blocked { category: String },
    /// This many blocked attempts within the window, counting this one.
    Repeated { count: usize, since: Timestamp },
    /// An attempt (blocked or not) to reach a way round the filter.
    Circumvention { category: String },
}

/// A signal and the event it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    pub kind: SignalKind,
    pub subject: Subject,
    pub event: i64,
    pub at: Timestamp,
}

/// What counts as a signal; a school may change these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalSettings {
    /// Category ids that are ways round the filter.
    pub circumvention: Vec<String>,
    /// How many blocked attempts make "repeated attempts"...
    pub repeated_count: usize,
    /// ...within this long.
    pub repeated_window: SignedDuration,
}

impl Default for SignalSettings {
    fn default() -> Self {
        SignalSettings {
            circumvention: ["vpn", "proxy", "dns-over-https", "remote-access"]
                .map(String::from)
                .to_vec(),
            repeated_count: 5,
            repeated_window: SignedDuration::from_mins(10),
        }
    }
}

/// Turns activity into signals.
#[derive(Debug)]
pub struct Watcher {
    matcher: Matcher,
    settings: SignalSettings,
    recent_blocks: HashMap<Subject, VecDeque<Timestamp>>,
}

impl Watcher {
    pub fn new(matcher: Matcher, settings: SignalSettings) -> Watcher {
        Watcher {
            matcher,
            settings,
            recent_blocks: HashMap::new(),
        }
    }

    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    pub fn settings(&self) -> &SignalSettings {
        &self.settings
    }

    /// The signals in one event. Events should arrive in time order per
    /// person; a late event still counts towards repeated attempts.
    pub fn observe(&mut self, activity: &Activity) -> Vec<Signal> {
        let subject = activity.subject();
        let mut signals = Vec::new();
        let signal = |kind| Signal {
            kind,
            subject: subject.clone(),
            event: activity.id,
            at: activity.at,
        };

        if let Some(term) = &activity.search_term {
            // Searching a help service's own site is looking for help, so
            // only the most severe phrases still raise a signal there.
            let help_site = self.matcher.library().is_help_site(&activity.host);
            {
                let library = self.matcher.library();
                for found in self.matcher.find(term) {
                    if help_site && found.severity < Severity::HIGHEST {
                        continue;
                    }
                    let phrase = &library.phrases[found.phrase.0 as usize];
                    signals.push(signal(SignalKind::Phrase {
                        phrase: found.phrase,
                        key: phrase.key(library),
                        text: phrase.text.clone(),
                        category: library.categories[found.category].id.clone(),
                        severity: found.severity,
                        language: found.language,
                        misspelt: found.misspelt,
                        term: term.clone(),
                    }));
                }
            }
        }

        for category in &activity.categories {
            if self.settings.circumvention.contains(category) {
                signals.push(signal(SignalKind::Circumvention {
                    category: category.clone(),
                }));
            } else if activity.blocked {
                signals.push(signal(SignalKind::Blocked {
                    category: category.clone(),
                }));
            }
        }

        if activity.blocked {
            let window = self.settings.repeated_window;
            let times = self.recent_blocks.entry(subject.clone()).or_default();
            let at = times.partition_point(|t| *t <= activity.at);
            times.insert(at, activity.at);
            let newest = *times.back().expect("just inserted");
            while times
                .front()
                .is_some_and(|t| newest.duration_since(*t) > window)
            {
                times.pop_front();
            }
            // The times are in order: the attempts within the window either
            // side of this one are a range, found by two binary searches
            // (a flood of blocked attempts keeps many times per person,
            // and counting them one by one made each event cost as much
            // as the flood was long).
            let first = times.partition_point(|t| activity.at.duration_since(*t) > window);
            let end = times.partition_point(|t| t.duration_since(activity.at) <= window);
            let recent = end.saturating_sub(first);
            if recent >= self.settings.repeated_count.max(1) {
                signals.push(signal(SignalKind::Repeated {
                    count: recent,
                    since: times[first],
                }));
            }
        }
        signals
    }

    /// Forgets blocked attempts older than the window before `now`, so the
    /// state stays small over a long day.
    pub fn forget_before(&mut self, now: Timestamp) {
        let window = self.settings.repeated_window;
        self.recent_blocks.retain(|_, times| {
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) > window)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
    }

    /// How many people or devices have recent blocked attempts remembered.
    pub fn remembered(&self) -> usize {
        self.recent_blocks.len()
    }
}

#[cfg(all(test, feature = "store"))]
mod tests {
    use super::*;

    #[test]
    fn activity_log_records_convert() {
        let event = store::ActivityEvent {
            at: "2026-11-23T10:00:00Z".parse().unwrap(),
            source: store::records::Source::Proxy,
            client_ip: "10.0.0.5".into(),
            username: None,
            device: Some("LAPTOP-01".into()),
            profile: "ks3".into(),
            method: "CONNECT".into(),
            url: "vpn.example:443".into(),
            host: "vpn.example".into(),
            search_term: None,
            categories: "vpn, proxy".into(),
            verdict: "block".into(),
            rule: "category".into(),
            status: Some(403),
            bytes: 0,
            duration_ms: 1,
            reference: None,
        };
        let activity = Activity::from_event(42, &event);
        assert_eq!(activity.id, 42);
        assert_eq!(activity.categories, ["vpn", "proxy"]);
        assert!(activity.blocked);
        assert_eq!(activity.subject(), Subject::Device("LAPTOP-01".into()));
    }
}
