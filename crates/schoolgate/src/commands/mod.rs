//! The commands, each in its own module; [`run`] validates the shared
//! arguments, opens the data folder and hands over.

use anyhow::Result;

use crate::cli::{Cli, Command, ListsCommand, PolicyCommand};
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
        Command::Check(_) => false,
        Command::Lists(c) => !matches!(c, ListsCommand::Status { .. }),
        Command::Policy(c) => matches!(c, PolicyCommand::Import { .. }),
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    let actor = if changes_something(&cli.command) {
        actor(&cli)?
    } else {
        cli.by.clone().unwrap_or_else(|| "schoolgate".to_owned())
    };
    // A new data folder is set up by schoolgate itself, whoever asked.
    let dir = DataDir::open(&cli.data, "schoolgate (first set-up)").await?;
    let result = match &cli.command {
        Command::Check(args) => check::run(&dir, args).await,
        Command::Lists(command) => lists::run(&dir, command, &actor).await,
        Command::Policy(command) => policy::run(&dir, command, &actor).await,
    };
    dir.store.close().await;
    result
}
