//! The delivery worker: a tokio task that drains the outbox.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use store::Store;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::Outbox;

/// Runs [`Outbox::deliver_due`] every `every`, and at once when woken.
pub struct DeliveryWorker {
    stop: CancellationToken,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl DeliveryWorker {
    /// Starts the worker on the current tokio runtime.
    pub fn spawn<S: Store + 'static>(outbox: Arc<Outbox<S>>, every: Duration) -> DeliveryWorker {
        let stop = CancellationToken::new();
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(run(outbox, every, stop.clone(), wake.clone()));
        DeliveryWorker { stop, wake, task }
    }

    /// Asks for a round now, for example just after an urgent alert was
    /// queued, instead of at the next tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A handle other tasks can wake the worker with (`notify_one`).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Stops the worker: the sends under way finish and anything already
    /// due is tried once more, within `grace`. Returns whether it finished
    /// in time; if not, the claimed messages are tried again after a
    /// restart (their claims lapse), so nothing is lost.
    pub async fn shutdown(self, grace: Duration) -> bool {
        self.stop.cancel();
        let mut task = self.task;
        match tokio::time::timeout(grace, &mut task).await {
            Ok(_) => true,
            Err(_) => {
                task.abort();
                tracing::warn!(
                    "the outbox was still sending when the grace period ended; unsent messages will be sent after the next start"
                );
                false
            }
        }
    }
}

async fn run<S: Store>(
    outbox: Arc<Outbox<S>>,
    every: Duration,
    stop: CancellationToken,
    wake: Arc<Notify>,
) {
    loop {
        let more = match outbox.deliver_due(Timestamp::now()).await {
            // A full round may have left more behind; go again at once
            // unless the rate limit is what stopped it.
            Ok(report) => !report.rate_limited && report.sent + report.retrying + report.failed > 0,
            Err(e) => {
                tracing::error!(error = %e, "the outbox could not be read; trying again shortly");
                false
            }
        };
        if stop.is_cancelled() {
            return;
        }
        if more {
            continue;
        }
        tokio::select! {
            _ = stop.cancelled() => {
                // One last round for anything due, within the grace period.
                if let Err(e) = outbox.deliver_due(Timestamp::now()).await {
                    tracing::error!(error = %e, "the outbox could not be read while stopping");
                }
                return;
            }
            _ = wake.notified() => {}
            _ = tokio::time::sleep(every) => {}
        }
    }
}
