//! `schoolgate mail test`: one message through the configured server, and
//! a plain answer about whether it worked.

use std::path::Path;

use anyhow::Result;
use notify::{Mailer, Message};

use crate::config::Config;
use crate::exit::{FAILURE, Failure};

/// What to look at, judged from what went wrong.
fn what_to_check(reason: &str, permanent: bool) -> &'static str {
    let reason = reason.to_lowercase();
    if reason.contains("auth") || reason.contains("535") || reason.contains("credentials") {
        "the username (mail.username) and the password (mail.password_file or mail.password_env) are right for this server, and the account may send mail"
    } else if reason.contains("tls")
        || reason.contains("certificate")
        || reason.contains("handshake")
    {
        "mail.security matches the server (port 587 usually takes \"starttls\", port 465 \"tls\") and the server's certificate is valid for mail.host"
    } else if permanent {
        "the address you sent to is right and the server accepts mail for it from mail.from; the server's answer above says why it refused"
    } else if reason.contains("refused")
        || reason.contains("timed out")
        || reason.contains("timeout")
        || reason.contains("resolve")
        || reason.contains("network")
        || reason.contains("connection")
    {
        "mail.host and mail.port are right, the mail server is running, and no firewall stops this machine reaching it"
    } else {
        "mail.host, mail.port and mail.security in the [mail] table, and ask whoever runs the mail server what it logged"
    }
}

pub async fn test(config: &Config, path: Option<&Path>, to: &str) -> Result<()> {
    let file = path.map_or("the configuration".to_owned(), |p| p.display().to_string());
    let Some(settings) = &config.mail else {
        return Err(Failure::usage(format!(
            "{file} has no [mail] table, so schoolgate cannot send email; add one (see docs/alerts-delivery.md) and try again"
        ))
        .into());
    };
    if !notify::is_mailbox(to) {
        return Err(Failure::usage(format!(
            "'{to}' is not an email address; write it like dsl@school.example"
        ))
        .into());
    }
    let mailer = Mailer::new(settings).map_err(|e| Failure::usage(format!("{file}: {e}")))?;
    let message = Message::new(
        "test",
        1,
        "schoolgate: test message",
        "This is a test message from schoolgate.\n\nIf you can read it, alerts and reports can reach this address. Nothing else needs doing.",
    )
    .to(to);
    out!(
        "Sending a test message to {to} through {} …",
        mailer.server()
    );
    match mailer.send(&message).await {
        Ok(()) => {
            out!(
                "It worked: the mail server accepted the message for {to}. If it has not arrived within a few minutes, look in the junk folder, then ask whoever runs the mail server whether it passed it on."
            );
            Ok(())
        }
        Err(e) => Err(Failure {
            code: FAILURE,
            message: format!(
                "the test message was not sent: {}\nCheck that {}.",
                e.reason,
                what_to_check(&e.reason, e.permanent)
            ),
        }
        .into()),
    }
}
