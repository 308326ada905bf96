//! What the reports read from the store (DESIGN.md C11), gathered into the
//! pure `reports` crate's inputs. Everything is read for the period asked
//! about, so a past week or term gives the same report each time: the
//! activity log and incidents by their time, the registers as they stood
//! at the end of the period. The one exception is who is on roll: names,
//! year groups and who counts as staff come from today's people list.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use records::registers::{Audience, Entry, Register, RegisterEntry, current_aup, training_expires};
use reports::governors::{CountRow, Coverage, GovernorsInput, ReviewDue};
use reports::weekly::{AttemptRow, PersonInfo, SearchRow, SiteRow, WeeklyInput};
use reports::{Period, Term};

use crate::{PersonKind, Store, StoreError};

/// The weekly report's rows, counted by the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeeklyRows {
    pub attempts: Vec<AttemptRow>,
    pub sites: Vec<SiteRow>,
    pub searches: Vec<SearchRow>,
}

/// The weekly report's input for `period`.
pub async fn weekly_input<S: Store>(
    store: &S,
    period: Period,
    school: &str,
) -> Result<WeeklyInput, StoreError> {
    let rows = store
        .weekly_report_rows(period.from(), period.until())
        .await?;
    let named: BTreeSet<&str> = rows
        .attempts
        .iter()
        .filter_map(|r| r.username.as_deref())
        .collect();
    let people = store
        .person_records()
        .await?
        .into_iter()
        .filter(|p| named.contains(p.username.as_str()))
        .map(|p| PersonInfo {
            username: p.username,
            display_name: p.display_name,
            year_group: p.year_group,
            class_group: p.class_group,
        })
        .collect();
    Ok(WeeklyInput {
        school: school.to_owned(),
        attempts: rows.attempts,
        sites: rows.sites,
        searches: rows.searches,
        people,
    })
}

async fn blocked_counts<S: Store>(
    store: &S,
    period: Period,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let mut counts = BTreeMap::new();
    for (categories, n) in store
        .blocked_by_categories(period.from(), period.until())
        .await?
    {
        let mut any = false;
        for c in categories
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            *counts.entry(c.to_owned()).or_default() += n;
            any = true;
        }
        if !any {
            *counts.entry("uncategorised".to_owned()).or_default() += n;
        }
    }
    Ok(counts)
}

fn merge(now: BTreeMap<String, u64>, before: BTreeMap<String, u64>) -> Vec<CountRow> {
    let labels: BTreeSet<&String> = now.keys().chain(before.keys()).collect();
    labels
        .into_iter()
        .map(|l| CountRow {
            label: l.clone(),
            now: now.get(l).copied().unwrap_or(0),
            before: before.get(l).copied().unwrap_or(0),
        })
        .collect()
}

/// Whether a filtering check's recorded result is a failure: the
/// self-test writes "failed: …"; people writing by hand say "fail" too.
pub fn check_failed(result: &str) -> bool {
    let r = result.to_ascii_lowercase();
    r.contains("fail") && !r.contains("no fail")
}

/// The governors' report's input for `term`. Counts only: no name leaves
/// this function.
pub async fn governors_input<S: Store>(
    store: &S,
    term: Term,
    school: &str,
) -> Result<GovernorsInput, StoreError> {
    let (this, last) = (term.period(), term.previous().period());
    let end = this.until();
    let within = |at: Timestamp, p: &Period| at >= p.from() && at < p.until();

    let mut incidents_now: BTreeMap<String, u64> = BTreeMap::new();
    let mut incidents_before: BTreeMap<String, u64> = BTreeMap::new();
    for incident in store.incidents().await? {
        let label = incident.kind().label().to_owned();
        if within(incident.opened.opened_at, &this) {
            *incidents_now.entry(label).or_default() += 1;
        } else if within(incident.opened.opened_at, &last) {
            *incidents_before.entry(label).or_default() += 1;
        }
    }

    let as_stood = |entries: Vec<RegisterEntry>| -> Vec<RegisterEntry> {
        entries.into_iter().filter(|e| e.at < end).collect()
    };
    let checks = as_stood(store.register_entries(Register::FilteringChecks).await?);
    let checks_this: Vec<&RegisterEntry> = checks.iter().filter(|e| within(e.at, &this)).collect();
    let checks_failed = checks_this
        .iter()
        .filter(
            |e| matches!(&e.entry, Entry::FilteringCheck { result, .. } if check_failed(result)),
        )
        .count() as u64;

    let people: Vec<_> = store
        .person_records()
        .await?
        .into_iter()
        .filter(|p| !p.disabled)
        .collect();
    let staff: Vec<&str> = people
        .iter()
        .filter(|p| p.kind == PersonKind::Staff)
        .map(|p| p.username.as_str())
        .collect();
    let last_day = this.last;
    let training = as_stood(store.register_entries(Register::Training).await?);
    let trained = staff
        .iter()
        .filter(|s| {
            training.iter().any(|e| {
                matches!(&e.entry, Entry::Training { person, completed_on, valid_months, .. }
                if person == *s && training_expires(*completed_on, *valid_months) > last_day)
            })
        })
        .count() as u64;

    let aup = as_stood(store.register_entries(Register::AcceptableUse).await?);
    let mut aup_covered = 0;
    for p in &people {
        let audience = match p.kind {
            PersonKind::Staff => Audience::Staff,
            PersonKind::Pupil => Audience::Pupil,
        };
        let Some(version) = current_aup(&aup, audience, end) else {
            continue;
        };
        if aup.iter().any(|e| {
            matches!(&e.entry, Entry::AupAcceptance { audience: a, version: v, person, .. }
            if *a == audience && v == version && *person == p.username)
        }) {
            aup_covered += 1;
        }
    }

    let mut reviews: BTreeMap<String, ReviewDue> = BTreeMap::new();
    for e in as_stood(store.register_entries(Register::PolicyReviews).await?) {
        if let Entry::PolicyReview {
            policy, next_due, ..
        } = e.entry
        {
            reviews.insert(
                policy.clone(),
                ReviewDue {
                    policy,
                    due: next_due,
                },
            );
        }
    }

    Ok(GovernorsInput {
        school: school.to_owned(),
        term,
        incidents: merge(incidents_now, incidents_before),
        blocked: merge(
            blocked_counts(store, this).await?,
            blocked_counts(store, last).await?,
        ),
        checks_done: checks_this.len() as u64,
        checks_failed,
        last_check: checks_this.last().map(|e| term.zone.date(e.at)),
        training: Coverage {
            covered: trained,
            total: staff.len() as u64,
        },
        acceptable_use: Coverage {
            covered: aup_covered,
            total: people.len() as u64,
        },
        reviews: reviews.into_values().collect(),
    })
}

/// Records a self-test run in the filtering and monitoring check log: who,
/// when, what was tested, the result and what to do.
pub async fn record_selftest<S: Store>(
    store: &S,
    result: &reports::selftest::ProfileResult,
    actor: &str,
    role: records::Role,
    at: Timestamp,
) -> Result<i64, StoreError> {
    let (tested, outcome, actions) = result.register_fields();
    store
        .add_register_entry(&RegisterEntry {
            id: 0,
            actor: actor.to_owned(),
            role,
            at,
            entry: Entry::FilteringCheck {
                tested,
                result: outcome,
                actions,
            },
        })
        .await
}
