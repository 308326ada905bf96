//! The console's records: staff accounts, signed-in sessions, one-time
//! set-up links and personal API tokens.
//!
//! Roles are kept as text here (`administrator`, `dsl` …); the console owns
//! their meaning. Secrets are wrapped in [`Hidden`] so they never appear in
//! `Debug` output or logs.

use std::fmt;

use jiff::Timestamp;

/// A secret or a hash of one: printable only on purpose, through
/// [`Hidden::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Hidden(String);

impl Hidden {
    pub fn new(value: impl Into<String>) -> Hidden {
        Hidden(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hidden(..)")
    }
}

/// Someone who signs in to the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleAccount {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// `administrator`, `technician`, `dsl`, `deputy-dsl`, `headteacher`,
    /// `staff` or `governor`.
    pub role: String,
    /// The `person` this account belongs to, when there is one.
    pub person: Option<String>,
    /// An argon2id PHC string; none until the account's set-up link is used.
    pub password_hash: Option<Hidden>,
    /// The TOTP secret in base32, from the start of enrolment.
    pub totp_secret: Option<Hidden>,
    pub totp_enabled: bool,
    /// The newest time step whose code was accepted.
    pub totp_last_step: Option<i64>,
    pub disabled: bool,
    pub failed_sign_ins: i64,
    pub locked_until: Option<Timestamp>,
    pub last_sign_in: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// What it takes to add an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewConsoleAccount {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub person: Option<String>,
    /// None: the account gets its password through a set-up link.
    pub password_hash: Option<Hidden>,
}

/// A signed-in browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    /// SHA-256 of the cookie value, in hex.
    pub id_hash: String,
    pub username: String,
    /// The password was right; the two-factor code is still to come.
    pub pending_code: bool,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    /// The absolute end of the session, however busy it is.
    pub expires_at: Timestamp,
    pub user_agent: String,
    pub client_ip: String,
}

/// A one-time link that creates the first administrator (no `username`) or
/// sets an account's password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupLink {
    /// SHA-256 of the token in the link, in hex.
    pub token_hash: String,
    pub username: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub created_by: String,
}

impl SetupLink {
    /// Whether the link still works at `now`.
    pub fn usable(&self, now: Timestamp) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

/// A personal API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    /// SHA-256 of the token, in hex.
    pub token_hash: String,
    pub username: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}
