//! How schoolgate's messages leave the building.
//!
//! Alerts and reports are written as a [`Message`] and queued in the
//! store's outbox with [`Outbox::enqueue`], one row per destination: one
//! email to the message's recipients, and one call to each `[[webhook]]`
//! whose severities and kinds match. [`Outbox::deliver_due`] sends what is
//! due through the [`Mailer`] (SMTP, via lettre) and [`Webhooks`] (a JSON
//! POST signed with HMAC-SHA256); a failure is tried again with exponential
//! back-off and, after the last attempt or a refusal, kept as failed with
//! the server's reason. Nothing is dropped silently. [`DeliveryWorker`]
//! runs `deliver_due` on a schedule in a tokio task and, on shutdown,
//! finishes the sends under way within a grace period.
//!
//! The settings ([`MailSettings`], [`WebhookSettings`]) are the `[mail]` and
//! `[[webhook]]` tables of `schoolgate.toml`; secrets come from a file or an
//! environment variable, never from the file itself. Plain-text SMTP and
//! plain `http://` webhooks are allowed to loopback addresses only.
//!
//! Nothing on the filtering hot path depends on this crate.

#![forbid(unsafe_code)]

mod error;
mod mail;
mod message;
mod outbox;
mod settings;
mod webhook;
mod worker;

pub use error::{DeliveryError, SetupError};
pub use mail::Mailer;
pub use message::{Attachment, Message, is_mailbox};
pub use outbox::{DeliveryOptions, DeliveryReport, EnqueueError, Outbox, RetryPolicy};
pub use settings::{MailSecurity, MailSettings, WebhookSettings, validate_mail, validate_webhook};
pub use webhook::{SIGNATURE_HEADER, Webhooks, sign};
pub use worker::DeliveryWorker;
