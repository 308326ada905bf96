//! Digests: the alerts of a period grouped by category and then by person
//! (or device), with counts, for the daily and weekly summaries. Rendering
//! them (console page, email) is the caller's.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::alert::Alert;
use crate::library::Severity;
use crate::signal::Subject;

/// One person's (or device's) alerts in one category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectLine {
    pub subject: Subject,
    /// Alerts raised.
    pub alerts: u32,
    /// Signals they stand for, repeats included.
    pub signals: u32,
    pub highest: Severity,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
    /// The alerts, oldest first, for links to each.
    pub alert_ids: Vec<u64>,
}

/// One category's alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategorySection {
    pub category: String,
    pub alerts: u32,
    pub signals: u32,
    pub highest: Severity,
    /// Most alerts first, then by subject.
    pub subjects: Vec<SubjectLine>,
}

/// The alerts raised in `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    pub from: Timestamp,
    pub to: Timestamp,
    pub alerts: u32,
    /// Most severe category first, then most alerts, then by id.
    pub categories: Vec<CategorySection>,
}

impl Digest {
    /// Groups the alerts raised from `from` up to (not including) `to`.
    pub fn build<'a>(
        alerts: impl IntoIterator<Item = &'a Alert>,
        from: Timestamp,
        to: Timestamp,
    ) -> Digest {
        let mut grouped: BTreeMap<&str, BTreeMap<&Subject, SubjectLine>> = BTreeMap::new();
        let mut total = 0;
        for alert in alerts {
            if alert.raised_at < from || alert.raised_at >= to {
                continue;
            }
            total += 1;
            let line = grouped
                .entry(alert.category.as_str())
                .or_default()
                .entry(&alert.subject)
                .or_insert_with(|| SubjectLine {
                    subject: alert.subject.clone(),
                    alerts: 0,
                    signals: 0,
                    highest: alert.severity,
                    first_at: alert.first_at,
                    last_at: alert.last_at,
                    alert_ids: Vec::new(),
                });
            line.alerts += 1;
            line.signals += alert.count;
            line.highest = line.highest.max(alert.severity);
            line.first_at = line.first_at.min(alert.first_at);
            line.last_at = line.last_at.max(alert.last_at);
            line.alert_ids.push(alert.id.0);
        }
        let mut categories: Vec<CategorySection> = grouped
            .into_iter()
            .map(|(category, subjects)| {
                let mut subjects: Vec<SubjectLine> = subjects.into_values().collect();
                for line in &mut subjects {
                    line.alert_ids.sort_unstable();
                }
                subjects.sort_by(|a, b| {
                    b.alerts
                        .cmp(&a.alerts)
                        .then_with(|| a.subject.cmp(&b.subject))
                });
                CategorySection {
                    category: category.to_owned(),
                    alerts: subjects.iter().map(|s| s.alerts).sum(),
                    signals: subjects.iter().map(|s| s.signals).sum(),
                    highest: subjects
                        .iter()
                        .map(|s| s.highest)
                        .max()
                        .unwrap_or(Severity::LOWEST),
                    subjects,
                }
            })
            .collect();
        categories.sort_by(|a, b| {
            b.highest
                .cmp(&a.highest)
                .then(b.alerts.cmp(&a.alerts))
                .then_with(|| a.category.cmp(&b.category))
        });
        Digest {
            from,
            to,
            alerts: total,
            categories,
        }
    }
}
