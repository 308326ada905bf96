//! Retention of safeguarding records: `schoolgate records purge` and the
//! daily purge `serve` runs. The records crate decides what has passed its
//! period; the store removes exactly that and keeps a report.

use std::fmt::Write as _;

use anyhow::Result;
use jiff::Timestamp;
use records::retention::{self, Anchor, PurgePlan};
use records::{RetentionClass, RetentionSchedule};
use store::{PurgeReport, Store};

use crate::config::Config;
use crate::datadir::DataDir;
use crate::exit::Failure;

/// What a purge at `at` would remove, from the records as they stand.
pub async fn plan<S: Store>(
    store: &S,
    schedule: &RetentionSchedule,
    at: Timestamp,
) -> Result<PurgePlan> {
    let concerns = store.concerns().await?;
    let incidents = store.incidents().await?;
    let holds = store.legal_holds().await?;
    let births: std::collections::HashMap<String, jiff::civil::Date> = store
        .person_records()
        .await?
        .into_iter()
        .filter_map(|p| p.date_of_birth.map(|d| (p.username, d)))
        .collect();
    let items = retention::items(&concerns, &incidents, &holds, |u| births.get(u).copied());
    Ok(retention::purge_plan(schedule, &items, at))
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The periods in force, one line each.
pub fn periods(schedule: &RetentionSchedule) -> Vec<String> {
    RetentionClass::ALL
        .iter()
        .map(|class| {
            let rule = schedule.rule(*class);
            let from = match rule.anchor {
                Anchor::DateOfBirth => "the pupil's date of birth",
                Anchor::Created => "the date it was made",
                Anchor::Closed => "the date it was closed",
            };
            format!("{}: {} years from {from}", class.label(), rule.years)
        })
        .map(|line| {
            let mut c = line.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
        .collect()
}

/// The plan or report in plain English: what went (or would go), how
/// many, why, and what was kept for legal hold or for lack of a date of
/// birth.
pub fn describe(plan: &PurgePlan, removed: bool) -> String {
    let mut text = String::new();
    let verb = if removed { "Removed" } else { "Would remove" };
    if plan.remove.is_empty() {
        let _ = writeln!(
            text,
            "{} no records: none has passed its retention period.",
            if removed { "Removed" } else { "Would remove" }
        );
    } else {
        let _ = writeln!(text, "{verb} {}:", plural(plan.remove.len(), "record"));
        for line in &plan.remove {
            let _ = writeln!(text, "  {}: {}", line.record, line.why);
        }
    }
    let held: Vec<_> = plan
        .keep
        .iter()
        .filter(|l| l.why.contains("legal hold"))
        .collect();
    if !held.is_empty() {
        let _ = writeln!(
            text,
            "Kept under legal hold ({}):",
            plural(held.len(), "record")
        );
        for line in &held {
            let _ = writeln!(text, "  {}: {}", line.record, line.why);
        }
    }
    let unknown = plan
        .keep
        .iter()
        .filter(|l| l.why.contains("date of birth is not recorded"))
        .count();
    if unknown > 0 {
        let _ = writeln!(
            text,
            "Kept because the pupil's date of birth is not recorded ({}): import the MIS file with its Date of Birth column to fix this.",
            plural(unknown, "record")
        );
        for line in plan
            .keep
            .iter()
            .filter(|l| l.why.contains("date of birth is not recorded"))
        {
            let _ = writeln!(text, "  {}", line.record);
        }
    }
    let others = plan.keep.len() - held.len() - unknown;
    let _ = writeln!(
        text,
        "Kept until their retention periods end: {}.",
        plural(others, "record")
    );
    text
}

fn schedule(config: &Config) -> Result<RetentionSchedule> {
    config
        .retention
        .schedule()
        .map_err(|(key, problem)| Failure::usage(format!("{key}: {problem}")).into())
}

/// Runs the purge now and returns its report.
pub async fn purge<S: Store>(
    store: &S,
    schedule: &RetentionSchedule,
    actor: &str,
) -> Result<PurgeReport> {
    let at = Timestamp::now();
    let plan = plan(store, schedule, at).await?;
    Ok(store.purge_records(&plan, actor, at).await?)
}

/// `schoolgate records purge [--dry-run]`.
pub async fn purge_command(
    dir: &DataDir,
    config: &Config,
    dry_run: bool,
    actor: &str,
) -> Result<()> {
    let schedule = schedule(config)?;
    out!("Retention periods in force:");
    for line in periods(&schedule) {
        out!("  {line}");
    }
    if dry_run {
        let plan = plan(&dir.store, &schedule, Timestamp::now()).await?;
        out!("Dry run: nothing was removed.");
        out!("{}", describe(&plan, false).trim_end());
        return Ok(());
    }
    let report = purge(&dir.store, &schedule, actor).await?;
    let plan = PurgePlan {
        remove: report.removed.clone(),
        keep: report.kept.clone(),
    };
    out!("{}", describe(&plan, true).trim_end());
    out!("The report is kept as purge {}.", report.id);
    Ok(())
}
