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
    /// Runs the filter: the web proxy, the DNS filter and the metrics endpoint.
    Serve {
        /// The configuration file (default: schoolgate.toml in the data folder, else the defaults).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Checks a configuration file without starting anything.
    CheckConfig {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Searches the activity log.
    Activity(ActivityArgs),
    /// People schoolgate can identify (for proxy sign-in and the login agent).
    #[command(subcommand)]
    People(PeopleCommand),
    /// The device registry: names for addresses and ranges.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Networks: address ranges and the profile for anyone on them not otherwise identified.
    #[command(subcommand)]
    Networks(NetworksCommand),
    /// Console accounts: `admin create-user` makes one from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Email: `mail test --to ADDRESS` checks the [mail] settings.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Requests from block pages to check a block.
    Reviews {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Safeguarding records: `records purge` removes what has passed its retention period.
    #[command(subcommand)]
    Records(RecordsCommand),
    /// Reports: the weekly report of attempts to reach restricted material,
    /// and the termly report to governors.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Tests, per profile, that the filter blocks what it must and lets
    /// help and education sites through; records the result in the
    /// filtering and monitoring check log.
    Selftest {
        /// A profile to test (repeat for more); default: every pupil profile.
        #[arg(long, value_name = "ID")]
        profile: Vec<String>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Queues the daily and weekly digests and the weekly report that are
    /// due, as `serve` does each morning; nothing queued before is queued
    /// again. `serve` sends them through [mail].
    Schedule {
        /// Do what was due at this time instead of now (RFC 3339, such as
        /// 2026-11-16T07:45:00Z, or a date and time in the policy's
        /// school.timezone, such as 2026-11-16T07:45).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Attempts to reach restricted material in the seven days from --from.
    Weekly {
        /// The first day, such as 2026-11-02.
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Also write the report as CSV to this file.
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        /// Also write the printable page to this file.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Email it (CSV attached) to [reports] weekly_recipients, through the outbox.
        #[arg(long)]
        email: bool,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// The termly report to governors: anonymised, small numbers hidden.
    Governors {
        /// The term, such as 2026-autumn, 2027-spring or 2027-summer.
        #[arg(long, value_name = "TERM")]
        term: String,
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Print it to PDF (needs Chromium installed).
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

// Retention (issue 6).
#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// Removes the safeguarding records whose retention period has ended
    /// (never one under legal hold) and says what went and why.
    Purge {
        /// Say what would be removed and kept, and remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// The configuration file with the [retention] periods (default:
        /// schoolgate.toml in the data folder, else the toolkit's periods).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ActivityArgs {
    #[arg(long, value_name = "USERNAME")]
    pub user: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// The client's IP address.
    #[arg(long, value_name = "ADDRESS")]
    pub ip: Option<String>,
    /// From this time: a date (2026-11-18, from its midnight), a time on
    /// the school's clock (2026-11-18 09:00) or RFC 3339
    /// (2026-11-18T09:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Up to (not including) this time, written as for --from: --from
    /// 2026-11-18 --to 2026-11-19 is the whole of 18 November.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// allow, block or safe-search.
    #[arg(long)]
    pub verdict: Option<String>,
    /// A category id, such as gambling.
    #[arg(long, value_name = "ID")]
    pub category: Option<String>,
    /// proxy or dns.
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Sends a test message through the mail server in [mail] and says
    /// whether the server took it.
    Test {
        /// Who to send it to, such as dsl@school.example.
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// The configuration file (default: schoolgate.toml in the data folder).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Adds a console account with a password read from standard input
    /// (asked for twice at a terminal; one line when piped).
    CreateUser {
        /// Lower-case letters, digits and dots, such as j.smith.
        username: String,
        /// Their full name, as the school writes it.
        #[arg(long)]
        name: String,
        /// administrator, technician, dsl, deputy-dsl, headteacher, staff or governor.
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Adds or updates someone.
    Add {
        username: String,
        /// Their full name, as the school writes it.
        #[arg(long)]
        name: String,
        /// The profile their traffic is filtered with.
        #[arg(long)]
        profile: String,
        /// Read a password for proxy sign-in from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    /// Disables a leaver; nobody is deleted (§7.10).
    Disable {
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Adds or updates a device.
    Add {
        name: String,
        /// One address (10.0.5.17) or a range (10.0.5.0/24).
        #[arg(long)]
        address: String,
        /// Laptop, tablet, desktop … as you like.
        #[arg(long, default_value = "")]
        kind: String,
        /// Who it belongs to or is loaned to.
        #[arg(long, default_value = "")]
        owner: String,
        /// The device is someone's own, not the school's.
        #[arg(long)]
        personal: bool,
    },
    List,
    Remove {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NetworksCommand {
    /// Adds or updates a network.
    Add {
        name: String,
        /// An address range such as 10.20.0.0/16; give --range more than once for several.
        #[arg(long = "range", required = true)]
        ranges: Vec<String>,
        #[arg(long)]
        profile: String,
    },
    List,
    Remove {
        name: String,
    },
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
    /// Accept a download with less than half the entries of the lists in force.
    #[arg(long)]
    pub allow_shrink: bool,
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
