//! The outbox: queueing messages in the store and sending what is due.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use store::{Channel, NewOutboxEntry, OutboxEntry, Store, StoreError};

use crate::{DeliveryError, Mailer, Message, Webhooks};

/// How failed sends are tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; each later one doubles it.
    pub first_delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
    /// Attempts in all before a message is given up on (and kept as failed).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, 1, 2, 4 … minutes up to an hour: ten attempts over about
    /// three and a half hours.
    fn default() -> Self {
        RetryPolicy {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait after attempt number `attempt` (1 for the first) failed.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// How the outbox sends.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryOptions {
    pub retry: RetryPolicy,
    /// Messages sent in any minute at most (emails and webhook calls).
    pub max_per_minute: u32,
    /// Messages taken from the outbox in one round at most.
    pub batch: usize,
    /// How long a claimed message is left to its sender before another
    /// round may try it (longer than any send can take).
    pub claim_for: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            retry: RetryPolicy::default(),
            max_per_minute: 60,
            batch: 20,
            claim_for: Duration::from_secs(300),
        }
    }
}

/// What one round of [`Outbox::deliver_due`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Failed this time, to be tried again later.
    pub retrying: usize,
    /// Given up on: refused, or out of attempts. Kept in the outbox.
    pub failed: usize,
    /// Whether the rate limit stopped the round before all that was due.
    pub rate_limited: bool,
}

/// Why a message could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the message '{subject}' has no recipients and no webhook takes it, so it would go nowhere; give it recipients or set up a [[webhook]] for its kind"
    )]
    NoDestination { subject: String },
    #[error("the message could not be written to the outbox: {0}")]
    Unwritable(String),
}

/// Queues messages in the store and sends them through the mailer and
/// webhooks.
pub struct Outbox<S> {
    store: S,
    mailer: Option<Mailer>,
    webhooks: Webhooks,
    options: DeliveryOptions,
    /// When recent messages were sent, for the rate limit.
    recent: Mutex<VecDeque<Timestamp>>,
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

impl<S: Store> Outbox<S> {
    /// An outbox sending email through `mailer` (none: email waits, and
    /// says so, until `[mail]` is set up) and to `webhooks`.
    pub fn new(
        store: S,
        mailer: Option<Mailer>,
        webhooks: Webhooks,
        options: DeliveryOptions,
    ) -> Outbox<S> {
        Outbox {
            store,
            mailer,
            webhooks,
            options,
            recent: Mutex::new(VecDeque::new()),
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Queues a message: one email to all its recipients, and one call to
    /// each webhook that takes its kind and severity. Returns the outbox
    /// numbers queued (none for destinations that already had its dedup key).
    pub async fn enqueue(
        &self,
        message: &Message,
        now: Timestamp,
    ) -> Result<Vec<i64>, EnqueueError> {
        self.enqueue_to(message, now, true).await
    }

    /// Queues a message as email only, never to a webhook: for a second
    /// email about something the webhooks were already told of (an alert
    /// passed on to the next out-of-hours contact).
    pub async fn enqueue_email(
        &self,
        message: &Message,
        now: Timestamp,
    ) -> Result<Vec<i64>, EnqueueError> {
        self.enqueue_to(message, now, false).await
    }

    async fn enqueue_to(
        &self,
        message: &Message,
        now: Timestamp,
        webhooks: bool,
    ) -> Result<Vec<i64>, EnqueueError> {
        let mut destinations = Vec::new();
        if !message.to.is_empty() {
            destinations.push((Channel::Email, message.to.join(", ")));
        }
        if webhooks {
            for name in self.webhooks.matching(message) {
                destinations.push((Channel::Webhook, name));
            }
        }
        if destinations.is_empty() {
            return Err(EnqueueError::NoDestination {
                subject: message.subject.clone(),
            });
        }
        let payload =
            serde_json::to_string(message).map_err(|e| EnqueueError::Unwritable(e.to_string()))?;
        let mut queued = Vec::new();
        for (channel, destination) in destinations {
            let entry = NewOutboxEntry {
                channel,
                destination,
                kind: message.kind.clone(),
                severity: message.severity.clamp(1, 5),
                dedup_key: message.dedup_key.clone(),
                summary: message.subject.clone(),
                payload: payload.clone(),
                created_at: now,
            };
            if let Some(id) = self.store.enqueue_outbox(&entry).await? {
                queued.push(id);
            }
        }
        Ok(queued)
    }

    /// How many more messages the rate limit allows at `now`.
    fn allowance(&self, now: Timestamp) -> usize {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let window_start = now - SignedDuration::from_secs(60);
        while recent.front().is_some_and(|t| *t <= window_start) {
            recent.pop_front();
        }
        (self.options.max_per_minute as usize).saturating_sub(recent.len())
    }

    fn note_sent(&self, at: Timestamp) {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(at);
    }

    /// Sends one message to its destination.
    async fn send(&self, entry: &OutboxEntry, now: Timestamp) -> Result<(), DeliveryError> {
        let message: Message = serde_json::from_str(&entry.payload).map_err(|e| {
            DeliveryError::permanent(format!("the stored message could not be read: {e}"))
        })?;
        match entry.channel {
            Channel::Email => match &self.mailer {
                Some(mailer) => mailer.send(&message).await,
                None => Err(DeliveryError::transient(
                    "email is not set up: add a [mail] table to schoolgate.toml (see docs/alerts-delivery.md)",
                )),
            },
            Channel::Webhook => {
                self.webhooks
                    .post(&entry.destination, entry.id, &message, now)
                    .await
            }
        }
    }

    /// Sends what is due at `now`, most severe first, within the rate
    /// limit; records each result in the outbox.
    pub async fn deliver_due(&self, now: Timestamp) -> Result<DeliveryReport, StoreError> {
        let mut report = DeliveryReport::default();
        let allowance = self.allowance(now);
        let limit = self.options.batch.min(allowance);
        if limit == 0 {
            report.rate_limited = true;
            return Ok(report);
        }
        let claimed = self
            .store
            .claim_outbox(now, now + signed(self.options.claim_for), limit)
            .await?;
        report.rate_limited = claimed.len() == allowance && allowance < self.options.batch;
        for entry in claimed {
            let result = self.send(&entry, now).await;
            self.note_sent(now);
            match result {
                Ok(()) => {
                    self.store.outbox_sent(entry.id, now).await?;
                    report.sent += 1;
                    tracing::info!(id = entry.id, channel = %entry.channel, kind = %entry.kind, "message sent");
                }
                Err(e) => {
                    let attempt = entry.attempts + 1;
                    let retry_at = (!e.permanent && attempt < self.options.retry.max_attempts)
                        .then(|| now + signed(self.options.retry.delay_after(attempt)));
                    self.store
                        .outbox_failed(entry.id, now, &e.reason, retry_at)
                        .await?;
                    match retry_at {
                        Some(at) => {
                            report.retrying += 1;
                            tracing::warn!(id = entry.id, channel = %entry.channel, attempt, retry_at = %at, reason = %e.reason, "message not sent; will try again");
                        }
                        None => {
                            report.failed += 1;
                            tracing::error!(id = entry.id, channel = %entry.channel, attempt, reason = %e.reason, "message given up on; it stays in the outbox as failed");
                        }
                    }
                }
            }
        }
        Ok(report)
    }
}
