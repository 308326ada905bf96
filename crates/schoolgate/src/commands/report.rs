//! `schoolgate report weekly|governors` and `schoolgate selftest`
//! (`docs/reports.md`): the reports for any past period, written to files
//! or emailed through the outbox, and the filter self-test recorded in the
//! filtering and monitoring check log.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use jiff::Timestamp;
use policy::model::Audience;
use records::Role;
use reports::governors::governors_report;
use reports::selftest::{ProfileResult, cases};
use reports::weekly::weekly_report;
use reports::{Period, Term};

use crate::cli::ReportCommand;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::exit::{FAILURE, Failure};

fn write(path: &Path, what: &str, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .with_context(|| format!("could not write the {what} to {}", path.display()))?;
    out!("Wrote the {what} to {}.", path.display());
    Ok(())
}

/// The school's name on its reports.
pub(crate) fn school(config: &Config) -> String {
    if config.reports.school_name.trim().is_empty() {
        "Our school".to_owned()
    } else {
        config.reports.school_name.clone()
    }
}

pub async fn run(dir: &DataDir, config: &Config, command: &ReportCommand) -> Result<()> {
    // Weeks and terms begin at midnight in the school's time zone.
    let zone = reports::period::SchoolZone::new(&dir.school_zone().await?);
    match command {
        ReportCommand::Weekly {
            from,
            csv,
            html,
            email,
            ..
        } => {
            let first =
                Period::parse_date(from).map_err(|e| Failure::usage(format!("--from: {e}")))?;
            let period = Period::week_from(first).in_zone(zone);
            let input = store::reports::weekly_input(&dir.store, period, &school(config)).await?;
            let report = weekly_report(period, &input);
            out!(
                "{}\n{} attempts by {} people or devices; {} highlighted (repeated or circumvention).",
                report.title(),
                report.total_attempts,
                report.people.len(),
                report.people_flagged
            );
            for p in report.people.iter().take(20) {
                let flags = [(p.repeated, "repeated"), (p.circumvention, "circumvention")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, w)| *w)
                    .collect::<Vec<_>>()
                    .join(", ");
                out!(
                    "  {:<30} {:>6}  {}{}",
                    p.name,
                    p.attempts,
                    p.categories
                        .iter()
                        .map(|c| c.category.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!("  [{flags}]")
                    }
                );
            }
            if let Some(path) = csv {
                write(path, "CSV", report.to_csv().as_bytes())?;
            }
            if let Some(path) = html {
                write(path, "page", report.to_html().as_bytes())?;
            }
            if *email {
                email_weekly(dir, config, &report).await?;
            }
            Ok(())
        }
        ReportCommand::Governors {
            term,
            html,
            pdf,
            csv,
            ..
        } => {
            let term = Term::parse(term)
                .map_err(|e| Failure::usage(format!("--term: {e}")))?
                .in_zone(zone);
            let input = store::reports::governors_input(&dir.store, term, &school(config)).await?;
            let report = governors_report(&input);
            out!(
                "{}\nIncidents: {} (previous term: {}). Blocked attempts: {}. Checks recorded: {}.",
                report.title(),
                report.incidents_total.now.text(),
                report.incidents_total.before.text(),
                report.blocked_total.now.text(),
                report.checks_done.text()
            );
            if let Some(path) = csv {
                write(path, "CSV", report.to_csv().as_bytes())?;
            }
            if let Some(path) = html {
                write(path, "page", report.to_html().as_bytes())?;
            }
            if let Some(path) = pdf {
                let html = report.to_html();
                let bytes = tokio::task::spawn_blocking(move || console::pdf::print_pdf(&html))
                    .await?
                    .map_err(|e| Failure {
                        code: FAILURE,
                        message: e,
                    })?;
                write(path, "PDF", &bytes)?;
            }
            Ok(())
        }
    }
}

/// §7.3.4: the weekly log goes to the named people, with the CSV attached.
async fn email_weekly(
    dir: &DataDir,
    config: &Config,
    report: &reports::WeeklyReport,
) -> Result<()> {
    let recipients = &config.reports.weekly_recipients;
    if recipients.is_empty() {
        return Err(Failure::usage(
            "no one to send the weekly report to: add their addresses to weekly_recipients in the [reports] table of schoolgate.toml",
        )
        .into());
    }
    let webhooks =
        notify::Webhooks::new(&config.webhook).map_err(|e| Failure::usage(e.to_string()))?;
    let outbox = notify::Outbox::new(
        dir.store.clone(),
        None,
        webhooks,
        notify::DeliveryOptions::default(),
    );
    let message = weekly_message(report, recipients);
    let queued = outbox.enqueue(&message, Timestamp::now()).await?;
    if queued.is_empty() {
        out!("The report for this week was queued before; it was not queued again.");
    } else {
        out!(
            "Queued the report for {}; `schoolgate serve` sends it through the [mail] server.",
            recipients.join(", ")
        );
    }
    Ok(())
}

/// The weekly report's email to `recipients`, with the CSV attached: the
/// same message whether queued by `report weekly --email` or by serve's
/// schedule (`crate::schedule`), with the same dedup key, so a week is
/// queued once whichever asks first.
pub(crate) fn weekly_message(
    report: &reports::WeeklyReport,
    recipients: &[String],
) -> notify::Message {
    let text = format!(
        "{}\n\n{} attempts to reach restricted material by {} people or devices; {} highlighted as repeated or circumvention attempts.\n\nThe full report is attached as a spreadsheet (CSV), and is in the console under Reports.",
        report.title(),
        report.total_attempts,
        report.people.len(),
        report.people_flagged
    );
    let mut message = notify::Message::new("weekly-report", 2, &report.title(), &text)
        .html(&report.to_html())
        .attach(
            &format!("restricted-attempts-{}.csv", report.period.first),
            "text/csv",
            report.to_csv().into_bytes(),
        )
        .dedup_key(&weekly_key(report.period.first));
    for to in recipients {
        message = message.to(to);
    }
    message
}

/// The dedup key of the weekly report for the week from `first`.
pub(crate) fn weekly_key(first: jiff::civil::Date) -> String {
    format!("weekly-report:{first}")
}

pub async fn selftest(
    dir: &DataDir,
    config: &Config,
    profiles: &[String],
    actor: &str,
) -> Result<()> {
    let engine = dir.engine().await?;
    let profiles: Vec<String> = if profiles.is_empty() {
        engine
            .policy()
            .profiles
            .iter()
            .filter(|p| p.audience == Audience::Pupil)
            .map(|p| p.id.clone())
            .collect()
    } else {
        for p in profiles {
            engine
                .profile_index(Some(p))
                .map_err(|e| Failure::usage(e.to_string()))?;
        }
        profiles.to_vec()
    };
    // Categories the fixed entries lack: an entry from the saved lists.
    let mut samples = BTreeMap::new();
    for list in dir.saved_lists()? {
        if let (Some(category), Some(domain)) = (list.category, list.domains.first()) {
            samples
                .entry(category.id().to_owned())
                .or_insert_with(|| format!("http://{domain}/"));
        }
    }
    let cases = cases(&samples, &config.reports.school_platforms);
    let now = Timestamp::now();
    let mut failed = false;
    for profile in &profiles {
        let result = ProfileResult::run(profile, &cases, |url| {
            console::checker::observe(&engine, url, profile, now)
        });
        out!("{}", result.summary());
        for r in &result.results {
            let detail = r.outcome.detail();
            let dash = if detail.is_empty() { "" } else { " — " };
            out!("  {:<12} {}{dash}{detail}", r.outcome.word(), r.case.check);
        }
        store::reports::record_selftest(&dir.store, &result, actor, Role::Administrator, now)
            .await?;
        failed |= !result.passed();
    }
    out!("Recorded in the filtering and monitoring check log.");
    if failed {
        return Err(Failure {
            code: FAILURE,
            message: "the self-test found problems (above); fix them, then run `schoolgate selftest` again".into(),
        }
        .into());
    }
    out!("Everything passed.");
    Ok(())
}
