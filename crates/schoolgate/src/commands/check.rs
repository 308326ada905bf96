//! `schoolgate check`: the verdict and its explanation for each URL.

use std::io::Write;

use anyhow::Result;
use classify::canon::CanonUrl;
use jiff::Timestamp;

use crate::cli::CheckArgs;
use crate::datadir::DataDir;
use crate::exit::Failure;

pub async fn run(dir: &DataDir, args: &CheckArgs) -> Result<()> {
    let engine = dir.engine().await?;
    let profile = engine
        .profile_index(args.profile.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let at: Timestamp = match &args.at {
        Some(text) => text.parse().map_err(|e| {
            Failure::usage(format!(
                "--at '{text}' is not an RFC 3339 time ({e}); write it like 2026-11-18T12:15:00Z"
            ))
        })?,
        None => Timestamp::now(),
    };
    let mut out = std::io::stdout().lock();
    let mut bad = Vec::new();
    let mut url = CanonUrl::default();
    for raw in &args.urls {
        if let Err(e) = url.parse_into(raw) {
            bad.push(format!("'{raw}' is not a URL schoolgate can check: {e}"));
            continue;
        }
        let decision = engine.decide(profile, &url, at);
        let explanation = engine.explain(&url, &decision);
        if args.json {
            let mut value = serde_json::to_value(&explanation)?;
            value["input"] = serde_json::Value::String(raw.clone());
            writeln!(out, "{value}")?;
            continue;
        }
        writeln!(
            out,
            "{raw}\n  verdict:    {}\n  profile:    {}\n  rule:       {}\n  why:        {}",
            explanation.verdict.to_uppercase(),
            explanation.profile,
            explanation.rule,
            explanation.reason
        )?;
        if !explanation.categories.is_empty() {
            writeln!(out, "  categories: {}", explanation.categories.join(", "))?;
        }
        if let Some(text) = explanation.block_text {
            writeln!(out, "  block page: {text}")?;
        }
        for m in &explanation.matches {
            writeln!(out, "  listed:     {} in {}", m.entry, m.lists.join(", "))?;
        }
    }
    out.flush()?;
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Failure::data(bad.join("\n")).into())
    }
}
