//! The schoolgate program: parses the command line, then hands over to the
//! command. Everything that decides lives in the libraries.

use std::process::ExitCode;

use clap::Parser;

/// Prints a line to standard output, ignoring a reader that has gone away
/// (`schoolgate lists status | head` must not panic).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod config;
mod datadir;
mod exit;
mod fetch;
mod monitoring;
mod schedule;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    // Warnings and errors go to standard error; SCHOOLGATE_LOG=debug says more.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SCHOOLGATE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // One worker thread per core (TOKIO_WORKER_THREADS overrides). With one
    // thread the proxy's event loop was the bottleneck: on the 2-core
    // benchmark machine it ran at 0.86 of a core while 0.4 of a core sat
    // idle; two workers gave 15% more requests a second at the same CPU
    // per request. Monitoring, digests and SQLite keep threads of their
    // own, so nothing slow runs on these workers.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return exit::report(&anyhow::Error::new(e).context("could not start")),
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}
