//! The commands, each in its own module; [`run`] validates the shared
//! arguments, opens the data folder and hands over.

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::datadir::DataDir;
use crate::exit::Failure;

mod check;
mod lists;
mod policy;

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
        return Err(Failure::usage("say who is making this change with --by NAME, for the audit trail").into());
    }
    Ok(name.to_owned())
}

pub async fn run(cli: Cli) -> Result<()> {
    let actor = actor(&cli)?;
    let dir = DataDir::open(&cli.data, &actor).await?;
    let result = match &cli.command {
        Command::Check(args) => check::run(&dir, args).await,
        Command::Lists(command) => lists::run(&dir, command, &actor).await,
        Command::Policy(command) => policy::run(&dir, command, &actor).await,
    };
    dir.store.close().await;
    result
}
