//! Exit statuses, after sysexits: scripts can tell a mistake in how
//! schoolgate was called from bad input from a failure of its own.

use std::fmt;
use std::process::ExitCode;

/// The command line was wrong: an unknown option, profile or category.
pub const USAGE: u8 = 64;
/// An input file or value was wrong: a list, a policy, a URL.
pub const DATA: u8 = 65;
/// Anything else went wrong.
pub const FAILURE: u8 = 1;

/// An error that knows its exit status.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: USAGE,
            message: message.into(),
        }
    }

    pub fn data(message: impl Into<String>) -> Failure {
        Failure {
            code: DATA,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Prints an error for a person and picks the exit status.
pub fn report(error: &anyhow::Error) -> ExitCode {
    // Whoever was reading the output stopped (`| head`): nothing went wrong.
    if error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    eprintln!("schoolgate: {error:#}");
    let code = error
        .chain()
        .find_map(|e| {
            if let Some(f) = e.downcast_ref::<Failure>() {
                Some(f.code)
            } else if e.is::<classify::lists::ListError>()
                || e.is::<classify::statutory::StatutoryError>()
                || e.is::<policy::PolicyError>()
                || e.is::<classify::canon::CanonError>()
            {
                Some(DATA)
            } else {
                None
            }
        })
        .unwrap_or(FAILURE);
    ExitCode::from(code)
}
