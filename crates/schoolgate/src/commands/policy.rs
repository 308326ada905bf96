//! `schoolgate policy`: show, export, import and history.

use std::io::Write;

use anyhow::{Context, Result};
use classify::taxonomy::Category;
use policy::Policy;
use policy::model::{SearchLevel, YoutubeLevel};
use store::{Store, StoreError};

use crate::cli::PolicyCommand;
use crate::datadir::DataDir;
use crate::exit::Failure;

pub async fn run(dir: &DataDir, command: &PolicyCommand, actor: &str) -> Result<()> {
    match command {
        PolicyCommand::Show => show(dir).await,
        PolicyCommand::Export { file } => export(dir, file.as_deref()).await,
        PolicyCommand::Import { file, reason } => import(dir, file, reason, actor).await,
        PolicyCommand::History { limit, json } => history(dir, *limit, *json).await,
    }
}

async fn current(dir: &DataDir) -> Result<(store::PolicyRevision, Policy)> {
    let revision = dir
        .store
        .current_policy()
        .await?
        .context("the data folder has no policy; import one with `schoolgate policy import FILE --reason TEXT`")?;
    let policy = revision.policy()?;
    Ok((revision, policy))
}

fn names(set: classify::taxonomy::CategorySet) -> String {
    let names: Vec<&str> = set.iter().map(Category::name).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

async fn show(dir: &DataDir) -> Result<()> {
    let (revision, policy) = current(dir).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} — filtering policy, revision {}",
        policy.school.name, revision.number
    )?;
    writeln!(
        out,
        "Last changed {} by {}: {}",
        revision.at, revision.actor, revision.reason
    )?;
    writeln!(out, "Time zone: {}", policy.school.timezone)?;
    writeln!(
        out,
        "People schoolgate cannot identify get: {}",
        policy.school.unidentified_profile
    )?;
    for p in &policy.profiles {
        writeln!(out, "\nProfile {} — {} ({:?})", p.id, p.name, p.audience)?;
        if !p.description.is_empty() {
            writeln!(out, "  {}", p.description)?;
        }
        if p.walled_garden {
            writeln!(out, "  Walled garden: only the sites allowed below")?;
        }
        writeln!(out, "  Blocked categories: {}", names(p.blocked_categories))?;
        writeln!(
            out,
            "  Always allowed: {}",
            if p.allow.is_empty() {
                "none".to_owned()
            } else {
                p.allow.join(", ")
            }
        )?;
        writeln!(
            out,
            "  Always blocked: {}",
            if p.deny.is_empty() {
                "none".to_owned()
            } else {
                p.deny.join(", ")
            }
        )?;
        writeln!(
            out,
            "  Bare IP addresses: {}",
            if p.block_ip_addresses {
                "blocked"
            } else {
                "allowed"
            }
        )?;
        let search = match p.safe_search.search {
            SearchLevel::Enforced => "enforced",
            SearchLevel::Off => "off",
        };
        let youtube = match p.safe_search.youtube {
            YoutubeLevel::Strict => "strict",
            YoutubeLevel::Moderate => "moderate",
            YoutubeLevel::Off => "off",
        };
        writeln!(
            out,
            "  Safe search: {search}; YouTube restriction: {youtube}"
        )?;
        for s in &p.schedules {
            let days: Vec<String> = s.days.iter().map(|d| format!("{d:?}")).collect();
            writeln!(
                out,
                "  Schedule {}: {} {}–{}",
                s.name,
                days.join(" "),
                s.from,
                s.to
            )?;
            if !s.allow_categories.is_empty() {
                writeln!(out, "    allows {}", names(s.allow_categories))?;
            }
            if !s.block_categories.is_empty() {
                writeln!(out, "    blocks {}", names(s.block_categories))?;
            }
        }
    }
    Ok(())
}

async fn export(dir: &DataDir, file: Option<&std::path::Path>) -> Result<()> {
    let (revision, policy) = current(dir).await?;
    let text = format!(
        "# schoolgate filtering policy, revision {} ({} by {}).\n# Format: docs/policy-format.md. Import with: schoolgate policy import FILE --reason TEXT\n\n{}",
        revision.number,
        revision.at,
        revision.actor,
        policy.to_toml()
    );
    match file {
        Some(path) => std::fs::write(path, text).with_context(|| {
            format!(
                "could not write {}; check the folder exists and may be written",
                path.display()
            )
        })?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

async fn import(dir: &DataDir, file: &std::path::Path, reason: &str, actor: &str) -> Result<()> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("could not read {}; check the path", file.display()))?;
    let policy =
        Policy::from_toml(&text).map_err(|e| Failure::data(format!("{}: {e}", file.display())))?;
    // Compile it, so a policy that cannot be applied is refused now rather
    // than when traffic arrives.
    policy::Engine::new(
        policy.clone(),
        std::sync::Arc::new(policy::Lists::default()),
    )
    .map_err(|e| Failure::data(format!("{}: {e}", file.display())))?;
    match dir.store.save_policy(&policy, actor, reason).await {
        Ok(revision) => {
            out!(
                "Saved revision {} by {}: {}",
                revision.number,
                revision.actor,
                revision.reason
            );
            for change in &revision.changes {
                out!("  {change}");
            }
            Ok(())
        }
        Err(e @ (StoreError::ReasonRequired | StoreError::NoChange)) => {
            Err(Failure::usage(e.to_string()).into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn history(dir: &DataDir, limit: usize, json: bool) -> Result<()> {
    let revisions = dir.store.policy_history(limit).await?;
    let mut out = std::io::stdout().lock();
    for r in &revisions {
        if json {
            let value = serde_json::json!({
                "revision": r.number,
                "at": r.at.to_string(),
                "by": r.actor,
                "reason": r.reason,
                "changes": r.changes,
            });
            writeln!(out, "{value}")?;
        } else {
            writeln!(
                out,
                "Revision {} — {} by {}\n  Why: {}",
                r.number, r.at, r.actor, r.reason
            )?;
            for change in &r.changes {
                writeln!(out, "  - {change}")?;
            }
        }
    }
    Ok(())
}
