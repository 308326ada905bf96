//! The outbox: messages waiting to leave (alert emails, reports, webhook
//! calls) and what became of each. The `notify` crate owns the message
//! format and the sending; the store only keeps the rows, so a restart
//! loses nothing and a failure stays visible.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;

/// How a message leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Channel> {
        match text {
            "email" => Some(Channel::Email),
            "webhook" => Some(Channel::Webhook),
            _ => None,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a message is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Queued,
    /// Claimed by a sender; if the sender stops, the claim lapses and it is
    /// tried again.
    Sending,
    Sent,
    /// Given up on (refused, or too many attempts): kept, with the reason.
    Failed,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<OutboxState> {
        match text {
            "queued" => Some(OutboxState::Queued),
            "sending" => Some(OutboxState::Sending),
            "sent" => Some(OutboxState::Sent),
            "failed" => Some(OutboxState::Failed),
            _ => None,
        }
    }
}

/// A message to queue for one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOutboxEntry {
    pub channel: Channel,
    /// The recipients (email) or the webhook's name.
    pub destination: String,
    /// What the message is about, for example `alert` or `weekly-report`.
    pub kind: String,
    /// 1 (lowest) to 5.
    pub severity: u8,
    /// A message with the same key for the same destination is queued once.
    pub dedup_key: Option<String>,
    /// The subject, for lists.
    pub summary: String,
    /// The whole message, in the sender's own format.
    pub payload: String,
    pub created_at: Timestamp,
}

/// A queued, sent or failed message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub channel: Channel,
    pub destination: String,
    pub kind: String,
    pub severity: u8,
    pub dedup_key: Option<String>,
    pub summary: String,
    #[serde(skip)]
    pub payload: String,
    pub state: OutboxState,
    /// Attempts made so far.
    pub attempts: u32,
    pub created_at: Timestamp,
    /// When it may next be tried (meaningful while queued).
    pub next_attempt_at: Timestamp,
    pub last_attempt_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    /// What went wrong last, in the sender's words.
    pub last_error: Option<String>,
}
