//! Email through the school's SMTP server, with lettre over rustls.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::settings::{MailSecurity, MailSettings, read_secret, validate_mail};
use crate::{DeliveryError, Message, SetupError};

/// Sends email through the configured server. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    /// `host:port`, for messages a person reads.
    server: String,
    max_per_minute: u32,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the password: never printed.
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the settings and reads the password; connects to nothing yet.
    pub fn new(settings: &MailSettings) -> Result<Mailer, SetupError> {
        validate_mail(settings)?;
        let host = settings.host.trim_start_matches('[').trim_end_matches(']');
        let authority = match &settings.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    SetupError::new(
                        "mail.ca_file",
                        format!("could not read {}: {e}; check the path", path.display()),
                    )
                })?;
                Some(Certificate::from_pem(&pem).map_err(|e| {
                    SetupError::new(
                        "mail.ca_file",
                        format!("{} is not a PEM certificate: {e}", path.display()),
                    )
                })?)
            }
            None => None,
        };
        let tls_parameters = || {
            let mut builder = TlsParameters::builder(host.to_owned());
            if let Some(authority) = &authority {
                builder = builder.add_root_certificate(authority.clone());
            }
            builder.build_rustls().map_err(|e| {
                SetupError::new(
                    "mail.host",
                    format!("TLS could not be set up for '{host}': {e}"),
                )
            })
        };
        let tls = match settings.security {
            MailSecurity::Starttls => Tls::Required(tls_parameters()?),
            MailSecurity::Tls => Tls::Wrapper(tls_parameters()?),
            MailSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port())
            .tls(tls)
            .timeout(Some(Duration::from_secs(settings.timeout_seconds)));
        let password = read_secret(
            "mail.password_file",
            settings.password_file.as_deref(),
            "mail.password_env",
            settings.password_env.as_deref(),
        )?;
        if let (Some(username), Some(password)) = (&settings.username, password) {
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        let mailbox = |key: &str, text: &str| {
            text.parse::<Mailbox>()
                .map_err(|e| SetupError::new(key, format!("'{text}' is not an email address: {e}")))
        };
        Ok(Mailer {
            transport: builder.build(),
            from: mailbox("mail.from", &settings.from)?,
            reply_to: settings
                .reply_to
                .as_deref()
                .map(|r| mailbox("mail.reply_to", r))
                .transpose()?,
            server: format!("{host}:{}", settings.port()),
            max_per_minute: settings.max_per_minute,
        })
    }

    /// The server mail goes to, as `host:port`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The configured rate limit, for [`crate::DeliveryOptions`].
    pub fn max_per_minute(&self) -> u32 {
        self.max_per_minute
    }

    /// Turns a message into an email: text (and HTML beside it), then the
    /// attachments. A recipient that is not an address is a permanent
    /// failure: sending again would not mend it.
    pub fn email(&self, message: &Message) -> Result<lettre::Message, DeliveryError> {
        if message.to.is_empty() {
            return Err(DeliveryError::permanent("the message has no recipients"));
        }
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(message.subject.clone());
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        for recipient in &message.to {
            let mailbox = recipient.parse::<Mailbox>().map_err(|e| {
                DeliveryError::permanent(format!("'{recipient}' is not an email address: {e}"))
            })?;
            builder = builder.to(mailbox);
        }
        let mut attachments = Vec::with_capacity(message.attachments.len());
        for a in &message.attachments {
            let content_type = ContentType::parse(&a.content_type).map_err(|e| {
                DeliveryError::permanent(format!(
                    "the attachment {} has an unusable type '{}': {e}",
                    a.filename, a.content_type
                ))
            })?;
            attachments.push(
                MailAttachment::new(a.filename.clone()).body(a.content.clone(), content_type),
            );
        }
        let text = SinglePart::plain(message.text.clone());
        let built = match (&message.html, attachments.is_empty()) {
            (None, true) => builder.singlepart(text),
            (html, _) => {
                let body = match html {
                    Some(html) => MultiPart::alternative()
                        .singlepart(text)
                        .singlepart(SinglePart::html(html.clone())),
                    None => MultiPart::mixed().singlepart(text),
                };
                let body = if attachments.is_empty() {
                    body
                } else if html.is_some() {
                    attachments
                        .into_iter()
                        .fold(MultiPart::mixed().multipart(body), MultiPart::singlepart)
                } else {
                    attachments.into_iter().fold(body, MultiPart::singlepart)
                };
                builder.multipart(body)
            }
        };
        built.map_err(|e| {
            DeliveryError::permanent(format!("the email could not be put together: {e}"))
        })
    }

    /// Sends one message now.
    pub async fn send(&self, message: &Message) -> Result<(), DeliveryError> {
        let email = self.email(message)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let reason = format!("the mail server {} answered: {e}", self.server);
                if e.is_permanent() {
                    Err(DeliveryError::permanent(reason))
                } else if e.is_transient() {
                    Err(DeliveryError::transient(reason))
                } else {
                    Err(DeliveryError::transient(format!(
                        "could not deliver through the mail server {}: {e}",
                        self.server
                    )))
                }
            }
        }
    }
}
