//! The `[mail]` and `[[webhook]]` tables of `schoolgate.toml`, their
//! checks, and reading the secrets they point to.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SetupError;

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// Connect in plain text, then upgrade with STARTTLS (port 587); the
    /// upgrade is required, never optional.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a mail server on this machine (port 25).
    None,
}

/// The `[mail]` table: the SMTP server schoolgate sends through.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The mail server's name, for example `smtp.office365.com`.
    pub host: String,
    /// Default: 587 for STARTTLS, 465 for TLS, 25 for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: MailSecurity,
    /// A PEM file with the certificate of the authority that signed the
    /// mail server's certificate, for a server with the school's (or the
    /// trust's) own certificates; leave out for servers with public ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The account to sign in as; leave out for a server that takes mail
    /// without signing in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A file holding the password (only its first line is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// The name of an environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// Who the mail comes from: `schoolgate <schoolgate@school.example>`.
    pub from: String,
    /// Where replies go, for example the DSL's shared mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// How long one send may take before it counts as failed.
    #[serde(default = "default_mail_timeout")]
    pub timeout_seconds: u64,
    /// Messages sent a minute at most (emails and webhook calls together),
    /// so a burst of alerts does not get the school's mail throttled.
    #[serde(default = "default_per_minute")]
    pub max_per_minute: u32,
}

fn default_mail_timeout() -> u64 {
    30
}

fn default_per_minute() -> u32 {
    60
}

fn default_webhook_timeout() -> u64 {
    10
}

fn default_min_severity() -> u8 {
    1
}

/// One `[[webhook]]` table: a JSON POST, signed, for each matching message.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// A short name, shown in the outbox.
    pub name: String,
    /// `https://…`; `http://` only to this machine.
    pub url: String,
    /// Messages below this severity (1 to 5) are not sent here.
    #[serde(default = "default_min_severity")]
    pub min_severity: u8,
    /// The kinds of message sent here (`alert`, `digest`, `weekly-report` …);
    /// leave out for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// A file holding the shared secret the body is signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,
    /// The name of an environment variable holding the shared secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// A PEM file with the certificate of the authority that signed the
    /// receiver's certificate, for a receiver with the school's own
    /// certificates; leave out for public ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// How long the receiver has to answer.
    #[serde(default = "default_webhook_timeout")]
    pub timeout_seconds: u64,
}

impl MailSettings {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            MailSecurity::Starttls => 587,
            MailSecurity::Tls => 465,
            MailSecurity::None => 25,
        })
    }
}

/// Whether `host` is this machine: a loopback address or `localhost`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a secret's two possible sources: at most one given, and an
/// environment variable given by name.
fn check_secret(
    file_key: &str,
    file: Option<&Path>,
    env_key: &str,
    env: Option<&str>,
) -> Result<(), SetupError> {
    if file.is_some() && env.is_some() {
        return Err(SetupError::new(
            env_key,
            format!("give {file_key} or {env_key}, not both"),
        ));
    }
    if let Some(name) = env
        && !is_variable_name(name)
    {
        return Err(SetupError::new(
            env_key,
            "give the name of an environment variable (letters, digits and _), not the secret itself; secrets never go in schoolgate.toml",
        ));
    }
    Ok(())
}

/// Reads a secret from its file (first line) or environment variable.
pub(crate) fn read_secret(
    file_key: &str,
    file: Option<&Path>,
    env_key: &str,
    env: Option<&str>,
) -> Result<Option<String>, SetupError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SetupError::new(
                file_key,
                format!(
                    "could not read {}: {e}; check the file exists and schoolgate may read it",
                    path.display()
                ),
            )
        })?;
        let secret = text.lines().next().unwrap_or("").to_owned();
        if secret.is_empty() {
            return Err(SetupError::new(
                file_key,
                format!(
                    "{} is empty; put the secret on its first line",
                    path.display()
                ),
            ));
        }
        return Ok(Some(secret));
    }
    if let Some(name) = env {
        return match std::env::var(name) {
            Ok(secret) if !secret.is_empty() => Ok(Some(secret)),
            _ => Err(SetupError::new(
                env_key,
                format!(
                    "the environment variable {name} is not set (or is empty) where schoolgate runs"
                ),
            )),
        };
    }
    Ok(None)
}

/// Checks a `[mail]` table without reading its secret.
pub fn validate_mail(mail: &MailSettings) -> Result<(), SetupError> {
    if mail.host.trim().is_empty() || mail.host.chars().any(char::is_whitespace) {
        return Err(SetupError::new(
            "mail.host",
            format!(
                "'{}' is not a server name; write it like smtp.school.example",
                mail.host
            ),
        ));
    }
    if mail.security == MailSecurity::None && !is_loopback(&mail.host) {
        return Err(SetupError::new(
            "mail.security",
            format!(
                "security = \"none\" sends mail, passwords and pupils' details in plain text, so it is only allowed to a mail server on this machine (127.0.0.1, ::1 or localhost), not '{}'; use security = \"starttls\" or \"tls\"",
                mail.host
            ),
        ));
    }
    if mail.ca_file.is_some() && mail.security == MailSecurity::None {
        return Err(SetupError::new(
            "mail.ca_file",
            "a certificate authority only matters with security = \"starttls\" or \"tls\"; remove it or change mail.security",
        ));
    }
    if mail.port == Some(0) {
        return Err(SetupError::new(
            "mail.port",
            "must be a port from 1 to 65535",
        ));
    }
    for (key, value) in [
        ("mail.from", Some(&mail.from)),
        ("mail.reply_to", mail.reply_to.as_ref()),
    ] {
        if let Some(value) = value
            && value.parse::<lettre::message::Mailbox>().is_err()
        {
            return Err(SetupError::new(
                key,
                format!(
                    "'{value}' is not an email address; write it like schoolgate@school.example or \"Schoolgate <schoolgate@school.example>\""
                ),
            ));
        }
    }
    check_secret(
        "mail.password_file",
        mail.password_file.as_deref(),
        "mail.password_env",
        mail.password_env.as_deref(),
    )?;
    let has_password = mail.password_file.is_some() || mail.password_env.is_some();
    if mail.username.is_some() && !has_password {
        return Err(SetupError::new(
            "mail.username",
            "a username needs a password: add mail.password_file or mail.password_env",
        ));
    }
    if has_password && mail.username.is_none() {
        return Err(SetupError::new(
            "mail.username",
            "a password is given but no username; add mail.username",
        ));
    }
    if mail.timeout_seconds == 0 {
        return Err(SetupError::new(
            "mail.timeout_seconds",
            "must be at least 1",
        ));
    }
    if mail.max_per_minute == 0 {
        return Err(SetupError::new("mail.max_per_minute", "must be at least 1"));
    }
    Ok(())
}

/// Checks every `[[webhook]]` table: names unique, addresses safe, a
/// secret to sign with.
pub fn validate_webhook(webhooks: &[WebhookSettings]) -> Result<(), SetupError> {
    for (i, hook) in webhooks.iter().enumerate() {
        let key = |field: &str| format!("webhook[{i}].{field}");
        if hook.name.trim().is_empty() {
            return Err(SetupError::new(
                key("name"),
                "give the webhook a short name",
            ));
        }
        if webhooks[..i].iter().any(|h| h.name == hook.name) {
            return Err(SetupError::new(
                key("name"),
                format!(
                    "'{}' is the name of another webhook; choose another",
                    hook.name
                ),
            ));
        }
        let uri: http::Uri = hook.url.parse().map_err(|_| {
            SetupError::new(
                key("url"),
                format!(
                    "'{}' is not a web address; write it like https://alerts.school.example/hook",
                    hook.url
                ),
            )
        })?;
        let host = uri.host().unwrap_or("");
        match uri.scheme_str() {
            Some("https") if !host.is_empty() => {}
            Some("http") if is_loopback(host) => {}
            Some("http") => {
                return Err(SetupError::new(
                    key("url"),
                    format!(
                        "'{}' would send alerts in plain text; use an https:// address (http:// is only allowed to this machine)",
                        hook.url
                    ),
                ));
            }
            _ => {
                return Err(SetupError::new(
                    key("url"),
                    format!(
                        "'{}' is not a web address; write it like https://alerts.school.example/hook",
                        hook.url
                    ),
                ));
            }
        }
        if !(1..=5).contains(&hook.min_severity) {
            return Err(SetupError::new(key("min_severity"), "must be from 1 to 5"));
        }
        check_secret(
            &key("secret_file"),
            hook.secret_file.as_deref(),
            &key("secret_env"),
            hook.secret_env.as_deref(),
        )?;
        if hook.secret_file.is_none() && hook.secret_env.is_none() {
            return Err(SetupError::new(
                key("secret_file"),
                "every webhook signs what it sends: give secret_file or secret_env with a shared secret the receiver also knows",
            ));
        }
        if hook.timeout_seconds == 0 {
            return Err(SetupError::new(
                key("timeout_seconds"),
                "must be at least 1",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(host: &str, security: MailSecurity) -> MailSettings {
        MailSettings {
            host: host.into(),
            port: None,
            security,
            ca_file: None,
            username: None,
            password_file: None,
            password_env: None,
            from: "Schoolgate <schoolgate@school.example>".into(),
            reply_to: None,
            timeout_seconds: 30,
            max_per_minute: 60,
        }
    }

    #[test]
    fn plain_text_smtp_is_for_loopback_only() {
        for host in ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"] {
            validate_mail(&mail(host, MailSecurity::None)).expect(host);
        }
        for host in ["smtp.school.example", "192.0.2.25", "10.0.0.1"] {
            let err = validate_mail(&mail(host, MailSecurity::None)).expect_err(host);
            assert_eq!(err.key, "mail.security");
            assert!(err.problem.contains("plain text"), "{err}");
        }
        validate_mail(&mail("smtp.school.example", MailSecurity::Starttls)).expect("starttls");
    }

    #[test]
    fn secrets_are_named_never_written_in() {
        let mut m = mail("smtp.school.example", MailSecurity::Tls);
        m.username = Some("schoolgate".into());
        assert_eq!(
            validate_mail(&m).expect_err("no password").key,
            "mail.username"
        );
        m.password_env = Some("hunter2 is my password".into());
        assert_eq!(
            validate_mail(&m).expect_err("a password").key,
            "mail.password_env"
        );
        m.password_env = Some("SCHOOLGATE_SMTP_PASSWORD".into());
        validate_mail(&m).expect("a variable name");
        m.password_file = Some("/etc/schoolgate/smtp-password".into());
        assert_eq!(
            validate_mail(&m).expect_err("both").key,
            "mail.password_env"
        );
        let mut m = mail("smtp.school.example", MailSecurity::Tls);
        m.from = "not an address".into();
        assert_eq!(validate_mail(&m).expect_err("from").key, "mail.from");
    }

    #[test]
    fn webhooks_must_be_safe_signed_and_named_once() {
        let hook = |name: &str, url: &str| WebhookSettings {
            name: name.into(),
            url: url.into(),
            min_severity: 4,
            kinds: vec![],
            secret_file: None,
            secret_env: Some("HOOK_SECRET".into()),
            ca_file: None,
            timeout_seconds: 10,
        };
        validate_webhook(&[
            hook("a", "https://alerts.school.example/in"),
            hook("b", "http://127.0.0.1:9000/"),
        ])
        .expect("fine");
        let err =
            validate_webhook(&[hook("a", "http://alerts.school.example/in")]).expect_err("http");
        assert_eq!(err.key, "webhook[0].url");
        let err = validate_webhook(&[
            hook("a", "https://x.example/"),
            hook("a", "https://y.example/"),
        ])
        .expect_err("twice");
        assert_eq!(err.key, "webhook[1].name");
        let mut unsigned = hook("a", "https://x.example/");
        unsigned.secret_env = None;
        assert_eq!(
            validate_webhook(&[unsigned]).expect_err("unsigned").key,
            "webhook[0].secret_file"
        );
        let mut odd = hook("a", "https://x.example/");
        odd.min_severity = 9;
        assert_eq!(
            validate_webhook(&[odd]).expect_err("severity").key,
            "webhook[0].min_severity"
        );
    }
}
