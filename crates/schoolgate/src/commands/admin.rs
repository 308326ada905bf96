//! `schoolgate admin`: console accounts from the command line, for the first
//! administrator (instead of the first-run link) and for scripted set-ups.
//! There are no default credentials: every account gets the password its
//! owner types.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, Result};
use console::Role;
use store::{NewConsoleAccount, Store, StoreError};

use crate::cli::AdminCommand;
use crate::datadir::DataDir;
use crate::exit::Failure;

pub async fn run(dir: &DataDir, command: &AdminCommand, actor: &str) -> Result<()> {
    match command {
        AdminCommand::CreateUser {
            username,
            name,
            role,
            email,
        } => create_user(dir, username, name, role, email.as_deref(), actor).await,
    }
}

async fn create_user(
    dir: &DataDir,
    username: &str,
    name: &str,
    role: &str,
    email: Option<&str>,
    actor: &str,
) -> Result<()> {
    let username = username.trim().to_lowercase();
    if !console::valid_username(&username) {
        return Err(Failure::usage(format!(
            "'{username}' is not a usable username: use lower-case letters, digits, dots, hyphens \
             or @, starting with a letter or digit, such as j.smith"
        ))
        .into());
    }
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(Failure::usage("give their full name with --name").into());
    }
    let role: Role = role.parse().map_err(|e| Failure::usage(format!("{e}")))?;
    if dir.store.console_account(&username).await?.is_some() {
        return Err(Failure::usage(format!(
            "there is already a console account '{username}'; choose another username"
        ))
        .into());
    }
    let password = read_password()?;
    console::password::check(&password, &username)
        .map_err(|problem| Failure::usage(format!("that password will not do: {problem}")))?;
    let hash = console::password::hash(&password)
        .await
        .context("could not hash the password")?;
    dir.store
        .add_console_account(
            &NewConsoleAccount {
                username: username.clone(),
                display_name: name.to_owned(),
                email: email
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned),
                role: role.id().to_owned(),
                person: None,
                password_hash: Some(hash),
            },
            actor,
        )
        .await
        .map_err(|e| match e {
            e @ StoreError::Exists { .. } => Failure::usage(e.to_string()).into(),
            e => anyhow::Error::from(e),
        })?;
    out!(
        "Added the console account {username} ({name}), {}.",
        role.label()
    );
    if role.requires_two_factor() {
        out!("They will set up two-factor sign-in the first time they sign in.");
    }
    Ok(())
}

/// At a terminal: asked twice, without echo, and the two must match. From a
/// pipe: the first line.
fn read_password() -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password for the new account: ")
            .context("could not read the password")?;
        let second = rpassword::prompt_password("The same password again: ")
            .context("could not read the password")?;
        if first != second {
            return Err(
                Failure::usage("the two passwords are not the same; nothing was changed").into(),
            );
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(Failure::usage(
            "no password on standard input; send it as one line, such as: \
             printf '%s\\n' \"$PASSWORD\" | schoolgate admin create-user …",
        )
        .into());
    }
    Ok(password)
}
