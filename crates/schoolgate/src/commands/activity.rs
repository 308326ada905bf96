//! `schoolgate activity`: searches the activity log, as a table or CSV.

use std::io::Write;

use anyhow::Result;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use store::{ActivityEvent, ActivityQuery, Source, Store};

use crate::cli::ActivityArgs;
use crate::datadir::DataDir;
use crate::exit::Failure;

/// A time given on the command line: RFC 3339 (`2026-11-18T09:00:00Z`, or
/// with an offset), or a time on the school's clock in `zone`
/// (`2026-11-18 09:00`, `2026-11-18T09:00`), or a date alone, meaning the
/// midnight that begins it.
fn time(flag: &str, text: &Option<String>, zone: &TimeZone) -> Result<Option<Timestamp>, Failure> {
    let Some(text) = text.as_deref().map(str::trim) else {
        return Ok(None);
    };
    reports::period::read_time(text, zone, false)
        .map(Some)
        .ok_or_else(|| {
            Failure::usage(format!(
                "{flag} '{text}' is not a date or time; write a date (2026-11-18), a time on the school's clock (2026-11-18 09:00) or an RFC 3339 time (2026-11-18T09:00:00Z)"
            ))
        })
}

/// Quotes a CSV field when it needs it, and defuses spreadsheet formulas: a
/// URL beginning with `=` must not run when the DSL opens the file.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

const COLUMNS: [&str; 17] = [
    "time",
    "source",
    "ip",
    "user",
    "device",
    "profile",
    "method",
    "url",
    "host",
    "search_term",
    "categories",
    "verdict",
    "rule",
    "status",
    "bytes",
    "duration_ms",
    "reference",
];

fn row(e: &ActivityEvent) -> [String; 17] {
    [
        e.at.to_string(),
        e.source.as_str().to_owned(),
        e.client_ip.clone(),
        e.username.clone().unwrap_or_default(),
        e.device.clone().unwrap_or_default(),
        e.profile.clone(),
        e.method.clone(),
        e.url.clone(),
        e.host.clone(),
        e.search_term.clone().unwrap_or_default(),
        e.categories.clone(),
        e.verdict.clone(),
        e.rule.clone(),
        e.status.map(|s| s.to_string()).unwrap_or_default(),
        e.bytes.to_string(),
        e.duration_ms.to_string(),
        e.reference.clone().unwrap_or_default(),
    ]
}

pub async fn run(dir: &DataDir, args: &ActivityArgs) -> Result<()> {
    let source = match args.source.as_deref() {
        None => None,
        Some("proxy") => Some(Source::Proxy),
        Some("dns") => Some(Source::Dns),
        Some(other) => {
            return Err(Failure::usage(format!("--source '{other}' is not proxy or dns")).into());
        }
    };
    if let Some(v) = &args.verdict
        && !["allow", "block", "safe-search"].contains(&v.as_str())
    {
        return Err(Failure::usage(format!(
            "--verdict '{v}' is not allow, block or safe-search"
        ))
        .into());
    }
    if let Some(c) = &args.category
        && classify::taxonomy::Category::from_id(c).is_none()
    {
        return Err(Failure::usage(format!(
            "--category '{c}' is not a category; docs/taxonomy.md lists them"
        ))
        .into());
    }
    // Times are read and shown on the school's clock.
    let zone = super::shown_zone(dir).await?;
    let query = ActivityQuery {
        username: args.user.clone(),
        device: args.device.clone(),
        client_ip: args.ip.clone(),
        from: time("--from", &args.from, &zone)?,
        to: time("--to", &args.to, &zone)?,
        verdict: args.verdict.clone(),
        category: args.category.clone(),
        source,
        limit: args.limit,
    };
    let events = dir.store.search_activity(&query).await?;
    let mut out = std::io::stdout().lock();
    if args.csv {
        writeln!(out, "{}", COLUMNS.join(","))?;
        for e in &events {
            let fields: Vec<String> = row(e).iter().map(|f| csv_field(f)).collect();
            writeln!(out, "{}", fields.join(","))?;
        }
    } else {
        writeln!(
            out,
            "{:<20} {:<15} {:<16} {:<14} {:<9} {:<11} url (rule)",
            format!("time ({})", crate::monitoring::zone_name(&zone)),
            "ip",
            "user",
            "device",
            "profile",
            "verdict"
        )?;
        for e in &events {
            writeln!(
                out,
                "{:<20} {:<15} {:<16} {:<14} {:<9} {:<11} {} ({}){}",
                e.at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M:%S"),
                e.client_ip,
                e.username.as_deref().unwrap_or("-"),
                e.device.as_deref().unwrap_or("-"),
                e.profile,
                e.verdict,
                e.url,
                e.rule,
                e.search_term
                    .as_deref()
                    .map(|t| format!(" search: \"{t}\""))
                    .unwrap_or_default()
            )?;
        }
        writeln!(out, "{} events", events.len())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{csv_field, time};
    use jiff::Timestamp;
    use jiff::tz::TimeZone;

    #[test]
    fn times_are_read_on_the_school_s_clock() {
        let london = TimeZone::get("Europe/London").expect("zone");
        let dubai = TimeZone::get("Asia/Dubai").expect("zone");
        let read = |text: &str, zone: &TimeZone| {
            time("--from", &Some(text.to_owned()), zone)
                .expect(text)
                .expect("some")
        };
        let utc = |text: &str| text.parse::<Timestamp>().expect("time");
        // British Summer Time in June; Greenwich in November; Dubai is +4.
        assert_eq!(
            read("2026-06-18 09:00", &london),
            utc("2026-06-18T08:00:00Z")
        );
        assert_eq!(
            read("2026-11-18T09:00", &london),
            utc("2026-11-18T09:00:00Z")
        );
        assert_eq!(read("2026-11-18", &dubai), utc("2026-11-17T20:00:00Z"));
        // An RFC 3339 time says its own offset.
        assert_eq!(
            read("2026-06-18T09:00:00+01:00", &dubai),
            utc("2026-06-18T08:00:00Z")
        );
        assert_eq!(time("--to", &None, &london).expect("none"), None);
        let e = time("--to", &Some("18/11/2026".into()), &london).expect_err("bad");
        assert!(e.to_string().contains("--to '18/11/2026'"), "{e}");
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
