//! Encrypted SMTP against a real server (aiosmtpd with a certificate made
//! for the test): STARTTLS and TLS from the start, the school's own
//! certificate authority, and no quiet fall-back to plain text.

mod common;

use common::{SmtpServer, loopback_mail};
use notify::{MailSecurity, Mailer, Message};

struct Certificate {
    dir: tempfile::TempDir,
}

impl Certificate {
    /// A self-signed certificate for 127.0.0.1.
    fn new() -> Certificate {
        let dir = tempfile::tempdir().expect("tempdir");
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
        std::fs::write(dir.path().join("cert.pem"), certified.cert.pem()).expect("cert");
        std::fs::write(
            dir.path().join("key.pem"),
            certified.signing_key.serialize_pem(),
        )
        .expect("key");
        Certificate { dir }
    }

    fn cert(&self) -> String {
        self.dir.path().join("cert.pem").display().to_string()
    }

    fn key(&self) -> String {
        self.dir.path().join("key.pem").display().to_string()
    }
}

fn test_message() -> Message {
    Message::new("test", 1, "Over TLS", "Sent encrypted.").to("dsl@hillside.example")
}

fn mailer(port: u16, security: MailSecurity, authority: Option<&Certificate>) -> Mailer {
    let mut settings = loopback_mail(port);
    settings.security = security;
    settings.ca_file = authority.map(|c| c.cert().into());
    Mailer::new(&settings).expect("mailer")
}

#[tokio::test]
async fn starttls_with_the_schools_own_authority() {
    let cert = Certificate::new();
    let server = SmtpServer::start_with(0, &["--starttls", &cert.cert(), &cert.key()]);
    mailer(server.port, MailSecurity::Starttls, Some(&cert))
        .send(&test_message())
        .await
        .expect("sent over STARTTLS");
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["subject"], "Over TLS");
}

#[tokio::test]
async fn tls_from_the_first_byte() {
    let cert = Certificate::new();
    let server = SmtpServer::start_with(0, &["--tls", &cert.cert(), &cert.key()]);
    mailer(server.port, MailSecurity::Tls, Some(&cert))
        .send(&test_message())
        .await
        .expect("sent over TLS");
    assert_eq!(server.wait_for(1).len(), 1);
}

#[tokio::test]
async fn a_certificate_nobody_vouches_for_is_refused() {
    let cert = Certificate::new();
    let server = SmtpServer::start_with(0, &["--starttls", &cert.cert(), &cert.key()]);
    let err = mailer(server.port, MailSecurity::Starttls, None)
        .send(&test_message())
        .await
        .expect_err("an unknown authority");
    assert!(!err.permanent, "a certificate can be mended: {err}");
    assert!(
        err.reason.to_lowercase().contains("certificate") || err.reason.contains("tls"),
        "{err}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn starttls_is_required_never_skipped() {
    // A server that offers no STARTTLS: nothing may go in plain text.
    let server = SmtpServer::start(0, None);
    let cert = Certificate::new();
    let err = mailer(server.port, MailSecurity::Starttls, Some(&cert))
        .send(&test_message())
        .await
        .expect_err("no STARTTLS on offer");
    assert!(!err.reason.is_empty());
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        server.messages().is_empty(),
        "nothing was sent in plain text"
    );
}
