//! `schoolgate mail test` against a real SMTP server process (aiosmtpd,
//! the notify crate's test server) on loopback.

use std::process::{Command, Output};

// The notify crate's test servers: aiosmtpd on loopback.
#[path = "../../notify/tests/common/mod.rs"]
mod smtp;

use smtp::{SmtpServer, free_port};

fn mail_test(config: &str, to: &str) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("schoolgate.toml");
    std::fs::write(&path, config).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_schoolgate"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(["mail", "test", "--to", to, "--config"])
        .arg(&path)
        .output()
        .expect("run schoolgate");
    (out, dir)
}

fn loopback(port: u16) -> String {
    format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Schoolgate <schoolgate@hillside.example>\"\ntimeout_seconds = 5\n"
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_test_message_arrives_and_says_so() {
    let server = SmtpServer::start(0, None);
    let (out, _dir) = mail_test(
        &loopback(server.port),
        "Zoë Ní Bhriain <zbhriain@hillside.example>",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("It worked"),
        "{}",
        text(&out.stdout)
    );
    let received = server.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0]["rcpt_tos"],
        serde_json::json!(["zbhriain@hillside.example"])
    );
    assert_eq!(received[0]["subject"], "schoolgate: test message");
}

#[test]
fn a_server_that_is_not_there_is_reported_with_what_to_check() {
    let (out, _dir) = mail_test(&loopback(free_port()), "dsl@hillside.example");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("was not sent"), "{err}");
    assert!(err.contains("mail.host and mail.port"), "{err}");
}

#[test]
fn a_refused_address_is_reported_with_the_servers_words() {
    let server = SmtpServer::start(0, Some("nobody"));
    let (out, _dir) = mail_test(&loopback(server.port), "nobody@hillside.example");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no such mailbox at this school"), "{err}");
    assert!(err.contains("the address you sent to"), "{err}");
    assert!(server.messages().is_empty());
}

#[test]
fn bad_settings_are_refused_before_anything_is_sent() {
    let (out, _dir) = mail_test("", "dsl@hillside.example");
    assert_eq!(out.status.code(), Some(64));
    assert!(
        text(&out.stderr).contains("no [mail] table"),
        "{}",
        text(&out.stderr)
    );

    let remote_plain = "[mail]\nhost = \"smtp.hillside.example\"\nsecurity = \"none\"\nfrom = \"schoolgate@hillside.example\"\n";
    let (out, _dir) = mail_test(remote_plain, "dsl@hillside.example");
    assert_eq!(out.status.code(), Some(64));
    assert!(
        text(&out.stderr).contains("mail.security"),
        "{}",
        text(&out.stderr)
    );

    let (out, _dir) = mail_test(&loopback(25), "not an address");
    assert_eq!(out.status.code(), Some(64));
    assert!(
        text(&out.stderr).contains("is not an email address"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_refuses_to_start_when_the_mail_password_cannot_be_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("schoolgate.toml");
    std::fs::write(
        &config,
        "[console]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n[proxy]\nlisten = [\"127.0.0.1:0\"]\n\
         [mail]\nhost = \"smtp.hillside.example\"\nusername = \"schoolgate\"\npassword_file = \"/nonexistent/smtp-password\"\nfrom = \"schoolgate@hillside.example\"\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_schoolgate"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run schoolgate");
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("mail.password_file"), "{err}");
    assert!(
        !text(&out.stdout).contains("listening on"),
        "no port was bound"
    );
}
