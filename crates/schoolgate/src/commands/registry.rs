//! `schoolgate people`, `devices`, `networks` and `reviews`: who and what
//! schoolgate can identify, and what block pages have asked to be checked.

use std::io::{BufRead, Write};

use anyhow::Result;
use gate::identity::parse_range;
use store::{Device, Network, Person, Store, StoreError};

use crate::cli::{DevicesCommand, NetworksCommand, PeopleCommand};
use crate::datadir::DataDir;
use crate::exit::Failure;

/// A profile named on the command line must exist in the policy in force.
async fn check_profile(dir: &DataDir, profile: &str) -> Result<()> {
    let policy = dir
        .store
        .current_policy()
        .await?
        .ok_or_else(|| Failure::usage("there is no policy yet"))?
        .policy()?;
    if policy.profile(profile).is_none() {
        let ids: Vec<&str> = policy.profiles.iter().map(|p| p.id.as_str()).collect();
        return Err(Failure::usage(format!(
            "there is no profile '{profile}'; the profiles are: {}",
            ids.join(", ")
        ))
        .into());
    }
    Ok(())
}

fn not_found(e: StoreError) -> anyhow::Error {
    match e {
        e @ StoreError::NotFound { .. } => Failure::usage(e.to_string()).into(),
        e => e.into(),
    }
}

fn check_name(what: &str, name: &str) -> Result<(), Failure> {
    if name.trim().is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(Failure::usage(format!(
            "'{name}' is not a usable {what} name: give 1 to 100 printable characters"
        )));
    }
    Ok(())
}

pub async fn people(dir: &DataDir, command: &PeopleCommand, actor: &str) -> Result<()> {
    match command {
        PeopleCommand::Add {
            username,
            name,
            profile,
            password_stdin,
        } => {
            check_name("user", username)?;
            check_profile(dir, profile).await?;
            let password_hash = if *password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let password = line.trim_end_matches(['\r', '\n']);
                if password.chars().count() < 8 {
                    return Err(Failure::usage("the password must be at least 8 characters").into());
                }
                let password = password.to_owned();
                let hash = tokio::task::spawn_blocking(move || gate::hash_password(&password))
                    .await?
                    .map_err(|e| anyhow::anyhow!("could not hash the password: {e}"))?;
                Some(hash)
            } else {
                // Keep an existing password when only the name or profile changes.
                dir.store
                    .people()
                    .await?
                    .into_iter()
                    .find(|p| &p.username == username)
                    .and_then(|p| p.password_hash)
            };
            let person = Person {
                username: username.clone(),
                display_name: name.clone(),
                profile: profile.clone(),
                password_hash,
                disabled: false,
            };
            dir.store.save_person(&person, actor).await?;
            out!("Saved {username} ({name}), filtered with profile {profile}.");
        }
        PeopleCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<24} {:<30} {:<12} {:<10} status",
                "username", "name", "profile", "sign-in"
            )?;
            for p in dir.store.people().await? {
                writeln!(
                    out,
                    "{:<24} {:<30} {:<12} {:<10} {}",
                    p.username,
                    p.display_name,
                    p.profile,
                    if p.password_hash.is_some() {
                        "password"
                    } else {
                        "-"
                    },
                    if p.disabled { "disabled" } else { "active" }
                )?;
            }
        }
        PeopleCommand::Disable { username } => {
            dir.store
                .disable_person(username, actor)
                .await
                .map_err(not_found)?;
            out!(
                "Disabled {username}: they are now filtered as someone unknown and cannot sign in. Their records are kept."
            );
        }
    }
    Ok(())
}

pub async fn devices(dir: &DataDir, command: &DevicesCommand, actor: &str) -> Result<()> {
    match command {
        DevicesCommand::Add {
            name,
            address,
            kind,
            owner,
            personal,
        } => {
            check_name("device", name)?;
            let range = parse_range(address).ok_or_else(|| {
                Failure::usage(format!("'{address}' is not an IP address or range; write it like 10.0.5.17 or 10.0.5.0/24"))
            })?;
            let device = Device {
                name: name.clone(),
                kind: kind.clone(),
                address: range.to_string(),
                owner: owner.clone(),
                school_owned: !personal,
            };
            dir.store.save_device(&device, actor).await?;
            out!("Saved device {name} at {range}.");
        }
        DevicesCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<24} {:<20} {:<12} {:<10} owner",
                "name", "address", "kind", "owned by"
            )?;
            for d in dir.store.devices().await? {
                writeln!(
                    out,
                    "{:<24} {:<20} {:<12} {:<10} {}",
                    d.name,
                    d.address,
                    d.kind,
                    if d.school_owned { "school" } else { "personal" },
                    d.owner
                )?;
            }
        }
        DevicesCommand::Remove { name } => {
            dir.store
                .remove_device(name, actor)
                .await
                .map_err(not_found)?;
            out!("Removed device {name}.");
        }
    }
    Ok(())
}

pub async fn networks(dir: &DataDir, command: &NetworksCommand, actor: &str) -> Result<()> {
    match command {
        NetworksCommand::Add {
            name,
            ranges,
            profile,
        } => {
            check_name("network", name)?;
            check_profile(dir, profile).await?;
            let mut parsed = Vec::new();
            for r in ranges {
                let range = parse_range(r).ok_or_else(|| {
                    Failure::usage(format!(
                        "'{r}' is not an address range; write it like 10.20.0.0/16"
                    ))
                })?;
                parsed.push(range.to_string());
            }
            let network = Network {
                name: name.clone(),
                ranges: parsed.clone(),
                profile: profile.clone(),
            };
            dir.store.save_network(&network, actor).await?;
            out!(
                "Saved network {name}: {} gets profile {profile} unless someone is identified.",
                parsed.join(", ")
            );
        }
        NetworksCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{:<24} {:<12} ranges", "name", "profile")?;
            for n in dir.store.networks().await? {
                writeln!(
                    out,
                    "{:<24} {:<12} {}",
                    n.name,
                    n.profile,
                    n.ranges.join(", ")
                )?;
            }
        }
        NetworksCommand::Remove { name } => {
            dir.store
                .remove_network(name, actor)
                .await
                .map_err(not_found)?;
            out!("Removed network {name}.");
        }
    }
    Ok(())
}

pub async fn reviews(dir: &DataDir, limit: usize) -> Result<()> {
    let zone = super::shown_zone(dir).await?;
    let requests = dir.store.review_requests(limit).await?;
    let mut out = std::io::stdout().lock();
    if !requests.is_empty() {
        writeln!(
            out,
            "Review requests, newest first (times in {}):",
            crate::monitoring::zone_name(&zone)
        )?;
    }
    for r in requests {
        writeln!(
            out,
            "#{} {} {} — {} (profile {}, {}) from {}{}{}",
            r.id,
            super::clock(r.at, &zone),
            r.reference,
            r.url,
            r.profile,
            r.rule,
            r.username.as_deref().unwrap_or("someone unidentified"),
            r.device
                .as_deref()
                .map(|d| format!(" on {d}"))
                .unwrap_or_default(),
            if r.message.is_empty() {
                String::new()
            } else {
                format!(": \"{}\"", r.message)
            }
        )?;
    }
    Ok(())
}
