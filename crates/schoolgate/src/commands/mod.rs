//! The commands, each in its own module; [`run`] validates the shared
//! arguments, opens the data folder and hands over.

use anyhow::Result;

use crate::cli::{
    Cli, Command, DevicesCommand, ListsCommand, MailCommand, NetworksCommand, PeopleCommand,
    PolicyCommand, RecordsCommand, ReportCommand,
};

mod admin;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::exit::Failure;

mod activity;
mod check;
mod lists;
mod mail;
mod policy;
mod registry;
pub mod report;
pub mod retention;
pub mod serve;

/// Who is acting, for the audit trail: `--by`, else the login name.
fn actor(cli: &Cli) -> Result<String> {
    let name = cli
        .by
        .clone()
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_default();
    let name = name.trim();
    if name.is_empty() {
        return Err(Failure::usage(
            "say who is making this change with --by NAME, for the audit trail",
        )
        .into());
    }
    Ok(name.to_owned())
}

/// Whether a command changes anything, and so needs someone to record.
fn changes_something(command: &Command) -> bool {
    match command {
        Command::Check(_)
        | Command::Serve { .. }
        | Command::CheckConfig { .. }
        | Command::Activity(_)
        | Command::Mail(_)
        | Command::Reviews { .. }
        | Command::Report(_)
        | Command::Schedule { .. } => false,
        Command::Selftest { .. } => true,
        Command::Lists(c) => !matches!(c, ListsCommand::Status { .. }),
        Command::Policy(c) => matches!(c, PolicyCommand::Import { .. }),
        Command::People(c) => !matches!(c, PeopleCommand::List),
        Command::Devices(c) => !matches!(c, DevicesCommand::List),
        Command::Networks(c) => !matches!(c, NetworksCommand::List),
        Command::Admin(_) => true,
        Command::Records(RecordsCommand::Purge { dry_run, .. }) => !dry_run,
    }
}

/// Refuses a `[monitoring] time_zone` other than the policy's
/// `school.timezone` (`policy`), naming the file it is in.
fn check_time_zone(
    config: &Config,
    path: Option<&std::path::Path>,
    policy: &jiff::tz::TimeZone,
) -> Result<(), Failure> {
    config
        .monitoring
        .check_time_zone(policy)
        .map_err(|(key, problem)| {
            let file = path.map_or_else(String::new, |p| format!("{}: ", p.display()));
            Failure::usage(format!("{file}{key}: {problem}"))
        })
}

/// The clock the command line shows times on: the school's
/// (`school.timezone` in the policy in force), or the default policy's
/// before any policy is saved.
async fn shown_zone(dir: &DataDir) -> Result<jiff::tz::TimeZone> {
    match dir.school_zone().await {
        Ok(zone) => Ok(zone),
        Err(_) => Ok(::policy::defaults::default_policy().time_zone()?),
    }
}

/// A time as the command line shows it, on `zone`'s clock: "2026-11-18 09:15".
fn clock(at: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    at.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// The policy's time zone, for `check-config`, which sets up no data
/// folder: a folder not yet set up will start with the default policy's.
async fn zone_before_set_up(data: &std::path::Path) -> Result<jiff::tz::TimeZone> {
    use store::Store;
    let db = DataDir::db_path(data);
    let policy = if db.exists() {
        let store = store::sqlite::SqliteStore::open(&db).await?;
        let current = store.current_policy().await;
        store.close().await;
        match current? {
            Some(revision) => revision.policy()?,
            None => ::policy::defaults::default_policy(),
        }
    } else {
        ::policy::defaults::default_policy()
    };
    Ok(policy.time_zone()?)
}

pub async fn run(cli: Cli) -> Result<()> {
    // A bad configuration is refused before anything else happens.
    let config = match &cli.command {
        Command::Serve { config }
        | Command::CheckConfig { config }
        | Command::Mail(MailCommand::Test { config, .. })
        | Command::Records(RecordsCommand::Purge { config, .. })
        | Command::Selftest { config, .. }
        | Command::Schedule { config, .. }
        | Command::Report(ReportCommand::Weekly { config, .. })
        | Command::Report(ReportCommand::Governors { config, .. }) => {
            Some(Config::find(config.as_deref(), &cli.data)?)
        }
        _ => None,
    };
    // A test message needs the configuration only, not the data folder.
    if let (Command::Mail(MailCommand::Test { to, .. }), Some((config, path))) =
        (&cli.command, &config)
    {
        return mail::test(config, path.as_deref(), to).await;
    }
    if let (Command::CheckConfig { .. }, Some((config, path))) = (&cli.command, &config) {
        if config.monitoring.time_zone.is_some() {
            check_time_zone(
                config,
                path.as_deref(),
                &zone_before_set_up(&cli.data).await?,
            )?;
        }
        match path {
            Some(path) => out!("{} is valid.", path.display()),
            None => out!("No configuration file: the defaults apply."),
        }
        out!("{}", toml::to_string_pretty(config).unwrap_or_default());
        return Ok(());
    }
    let actor = if changes_something(&cli.command) {
        actor(&cli)?
    } else {
        cli.by.clone().unwrap_or_else(|| "schoolgate".to_owned())
    };
    // A new data folder is set up by schoolgate itself, whoever asked.
    let dir = DataDir::open(&cli.data, "schoolgate (first set-up)").await?;
    if let Some((config, path)) = &config
        && config.monitoring.time_zone.is_some()
    {
        let checked = match dir.school_zone().await {
            Ok(zone) => check_time_zone(config, path.as_deref(), &zone).map_err(Into::into),
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            dir.store.close().await;
            return Err(e);
        }
    }
    let result = match &cli.command {
        Command::Check(args) => check::run(&dir, args).await,
        Command::Lists(command) => lists::run(&dir, command, &actor).await,
        Command::Policy(command) => policy::run(&dir, command, &actor).await,
        Command::Activity(args) => activity::run(&dir, args).await,
        Command::People(command) => registry::people(&dir, command, &actor).await,
        Command::Devices(command) => registry::devices(&dir, command, &actor).await,
        Command::Networks(command) => registry::networks(&dir, command, &actor).await,
        Command::Reviews { limit } => registry::reviews(&dir, *limit).await,
        Command::Admin(command) => admin::run(&dir, command, &actor).await,
        Command::Report(command) => {
            let (config, _) = config.unwrap_or_default();
            report::run(&dir, &config, command).await
        }
        Command::Schedule { at, .. } => {
            let (config, _) = config.unwrap_or_default();
            crate::schedule::command(&dir, &config, at.as_deref()).await
        }
        Command::Selftest { profile, .. } => {
            let (config, _) = config.unwrap_or_default();
            report::selftest(&dir, &config, profile, &actor).await
        }
        Command::Records(RecordsCommand::Purge { dry_run, .. }) => {
            let (config, _) = config.unwrap_or_default();
            retention::purge_command(&dir, &config, *dry_run, &actor).await
        }
        Command::Serve { .. } => {
            let (config, path) = config.unwrap_or_default();
            return serve::run(dir, config, path.as_deref()).await;
        }
        Command::CheckConfig { .. } | Command::Mail(_) => Ok(()),
    };
    dir.store.close().await;
    result
}
