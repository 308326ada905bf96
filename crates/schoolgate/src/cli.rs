//! The command line as typed: flags and arguments, before they are checked.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "schoolgate",
    version,
    about = "Online safety for schools: filtering, monitoring, safeguarding records and reports.",
    after_help = "Start with `schoolgate check --profile ks2 https://www.bet365.com/`. A new data folder is set up \
                  on first use with the default policy and the bundled starter lists."
)]
pub struct Cli {
    /// The data folder: database, lists and index.
    #[arg(
        long,
        global = true,
        env = "SCHOOLGATE_DATA",
        default_value = "schoolgate-data",
        value_name = "DIR"
    )]
    pub data: PathBuf,

    /// Who is making a change, for the audit trail (defaults to the login name).
    #[arg(long = "by", global = true, value_name = "NAME")]
    pub by: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Shows the verdict and its explanation for each URL.
    Check(CheckArgs),
    /// Imports, updates and shows the category and statutory lists.
    #[command(subcommand)]
    Lists(ListsCommand),
    /// Shows, exports and imports the filtering policy, and its history.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The profile to check against (default: the one for people schoolgate cannot identify).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Decide as at this time, for schedules (RFC 3339, such as 2026-11-18T12:15:00Z; default: now).
    #[arg(long, value_name = "RFC3339-TIME")]
    pub at: Option<String>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// The URLs or hosts to check.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Ut1,
    Domains,
    Hosts,
    Urls,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatutoryArg {
    Iwf,
    Ctiru,
}

#[derive(Debug, Subcommand)]
pub enum ListsCommand {
    /// Imports a list: a UT1 folder or .tar.gz, or a file of domains, hosts or URLs.
    Import(ImportArgs),
    /// Shows the lists in force, the index and the statutory lists.
    Status {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Fetches the current UT1 distribution over HTTPS and swaps it in if it imports cleanly.
    Update(UpdateArgs),
    /// Rebuilds the index from the saved lists.
    Rebuild,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The list's format.
    #[arg(
        long,
        value_enum,
        required_unless_present = "statutory",
        conflicts_with = "statutory"
    )]
    pub format: Option<FormatArg>,
    /// The category for a domains, hosts or URLs list (see docs/taxonomy.md).
    #[arg(long, value_name = "ID")]
    pub category: Option<String>,
    /// The list's name (default: local/ and the file's name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Import a statutory list (plain canonical URLs or SHA-256 hashes, one a line).
    #[arg(long, value_enum)]
    pub statutory: Option<StatutoryArg>,
    /// The file or folder to import.
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Where to fetch the UT1 blacklists.tar.gz from.
    #[arg(long, value_name = "URL", default_value = crate::fetch::UT1_DEFAULT_URL)]
    pub from: String,
    /// Trust this PEM certificate authority instead of the usual ones (for a local mirror).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Shows the policy in force.
    Show,
    /// Writes the policy in force as TOML, to FILE or to standard output.
    Export { file: Option<PathBuf> },
    /// Replaces the policy with the one in FILE, recording why.
    Import {
        file: PathBuf,
        /// Why the policy is changing: the risk assessment behind it (§7.3.1).
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Shows who changed the policy, when, what and why.
    History {
        /// How many changes to show, newest first.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}
