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

/// mimalloc rather than the C library's allocator. Each connection's
/// buffers, header maps and log event are allocated and freed on its serving
/// thread tens of thousands of times a second, and each queued event is freed
/// on the log's writer thread. glibc's allocator took about a tenth of the
/// proxy's CPU there, much of it consolidating its fast bins whenever a
/// header map of more than 1 KiB was allocated; mimalloc's per-thread free
/// lists took a fiftieth, and the proxy answered about 8% more requests on
/// the same cores ("The allocator" in docs/proxy.md). The crate builds
/// mimalloc 3 from its own copy of the source.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
