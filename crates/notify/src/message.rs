//! A message to send: who to, what it says, what it carries.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One message: an alert, a digest or a report. Email recipients are
/// mailboxes ("Zoë Ní Bhriain <zbhriain@school.example>" or a bare
/// address); webhooks receive its kind, severity, subject and text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Email recipients; may be empty for a message only webhooks take.
    pub to: Vec<String>,
    pub subject: String,
    /// The plain-text body, always sent.
    pub text: String,
    /// An HTML body sent beside the text, for mail readers that prefer it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// What the message is about, for example `alert`, `digest`,
    /// `weekly-report`; webhooks choose by it.
    pub kind: String,
    /// 1 (lowest) to 5 (highest); webhooks choose by it.
    pub severity: u8,
    /// The same key for the same destination is queued only once, so an
    /// alert raised twice is not sent twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
}

/// A file sent with an email, for example the weekly report as CSV.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    /// A MIME type such as `text/csv; charset=utf-8`.
    pub content_type: String,
    #[serde(serialize_with = "to_base64", deserialize_with = "from_base64")]
    pub content: Vec<u8>,
}

fn to_base64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn from_base64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(serde::de::Error::custom)
}

/// Whether `text` is an email address, bare or with a name
/// ("Zoë Ní Bhriain <zbhriain@school.example>").
pub fn is_mailbox(text: &str) -> bool {
    text.parse::<lettre::message::Mailbox>().is_ok()
}

impl Message {
    /// A message with a subject and text and nothing else yet.
    pub fn new(kind: &str, severity: u8, subject: &str, text: &str) -> Message {
        Message {
            to: Vec::new(),
            subject: subject.to_owned(),
            text: text.to_owned(),
            html: None,
            attachments: Vec::new(),
            kind: kind.to_owned(),
            severity: severity.clamp(1, 5),
            dedup_key: None,
        }
    }

    pub fn to(mut self, recipient: &str) -> Message {
        self.to.push(recipient.to_owned());
        self
    }

    pub fn html(mut self, html: &str) -> Message {
        self.html = Some(html.to_owned());
        self
    }

    pub fn attach(mut self, filename: &str, content_type: &str, content: Vec<u8>) -> Message {
        self.attachments.push(Attachment {
            filename: filename.to_owned(),
            content_type: content_type.to_owned(),
            content,
        });
        self
    }

    pub fn dedup_key(mut self, key: &str) -> Message {
        self.dedup_key = Some(key.to_owned());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_the_outbox_format() {
        let message = Message::new("weekly-report", 2, "Weekly report", "Attached.")
            .to("Zoë Ní Bhriain <zbhriain@school.example>")
            .attach(
                "report.csv",
                "text/csv",
                b"name\nZo\xc3\xab\n\x00\xff".to_vec(),
            )
            .dedup_key("weekly:2026-W47");
        let json = serde_json::to_string(&message).expect("serialise");
        let back: Message = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, message);
    }
}
