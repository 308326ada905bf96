//! The activity log queue: traffic hands events over and never waits.
//!
//! `record` puts an event on a bounded queue and returns at once. A writer
//! task takes events off in batches and writes each batch in one
//! transaction. After a batch that emptied the queue it waits
//! [`WRITE_GAP`] before the next, so that under steady traffic each
//! transaction carries many events: most of a transaction's cost is the
//! same whether it writes one event or hundreds, and the log's indexes by
//! person, address and device are written a page at a time, so the more
//! events a transaction carries, the fewer times each page is written.
//! If the queue is full (the store has fallen far behind), the
//! event is counted as dropped and a warning is logged at most every ten
//! seconds; traffic still flows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use store::{ActivityEvent, Store};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// The shortest time between the starts of two batches, unless the queue
/// holds a full batch already.
pub const WRITE_GAP: Duration = Duration::from_millis(250);

/// How the queue is sized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// Events the queue holds before it drops.
    pub capacity: usize,
    /// Events written in one transaction at most.
    pub batch: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            capacity: 131_072,
            batch: 10_000,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    dropped: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    last_warning_ms: AtomicU64,
}

/// The sending side, shared by every edge.
#[derive(Clone, Debug)]
pub struct ActivityLog {
    sender: mpsc::Sender<ActivityEvent>,
    counters: Arc<Counters>,
    shutdown: Arc<Notify>,
    started: Instant,
    capacity: usize,
}

impl ActivityLog {
    /// Starts the writer task on the current runtime.
    pub fn start<S: Store + Clone + 'static>(
        store: S,
        settings: QueueSettings,
    ) -> (ActivityLog, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(settings.capacity.max(1));
        let counters = Arc::new(Counters::default());
        let shutdown = Arc::new(Notify::new());
        let writer = tokio::spawn(write_batches(
            store,
            receiver,
            settings.batch.max(1),
            counters.clone(),
            shutdown.clone(),
        ));
        let log = ActivityLog {
            sender,
            counters,
            shutdown,
            started: Instant::now(),
            capacity: settings.capacity.max(1),
        };
        (log, writer)
    }

    /// Queues an event; never waits.
    pub fn record(&self, event: ActivityEvent) {
        if self.sender.try_send(event).is_err() {
            let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            let now = self.started.elapsed().as_millis() as u64;
            let last = self.counters.last_warning_ms.load(Ordering::Relaxed);
            if (last == 0 || now.saturating_sub(last) >= 10_000)
                && self
                    .counters
                    .last_warning_ms
                    .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                tracing::warn!(
                    dropped,
                    "the activity log queue is full, so events are being dropped; the database is not keeping up (check the disk)"
                );
            }
        }
    }

    /// Events waiting to be written.
    pub fn queue_depth(&self) -> usize {
        self.capacity - self.sender.capacity()
    }

    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    pub fn written(&self) -> u64 {
        self.counters.written.load(Ordering::Relaxed)
    }

    /// Events lost because the database refused a batch.
    pub fn failed(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }

    /// Asks the writer to write what is queued and stop; await its handle.
    pub fn shut_down(&self) {
        self.shutdown.notify_one();
    }
}

async fn write_batches<S: Store>(
    store: S,
    mut receiver: mpsc::Receiver<ActivityEvent>,
    batch_size: usize,
    counters: Arc<Counters>,
    shutdown: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(batch_size);
    let mut stopping = false;
    let mut last_write: Option<tokio::time::Instant> = None;
    loop {
        if !stopping && let Some(last) = last_write {
            // Let events gather, unless a full batch is waiting.
            if receiver.len() < batch_size {
                tokio::select! {
                    () = tokio::time::sleep_until(last + WRITE_GAP) => {}
                    () = shutdown.notified() => {
                        stopping = true;
                        receiver.close();
                    }
                }
            }
        }
        if !stopping {
            tokio::select! {
                received = receiver.recv_many(&mut batch, batch_size) => {
                    if received == 0 {
                        return;
                    }
                }
                () = shutdown.notified() => {
                    stopping = true;
                    receiver.close();
                }
            }
        }
        if stopping {
            // Take whatever is still queued, then finish.
            while batch.len() < batch_size {
                match receiver.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }
            if batch.is_empty() {
                return;
            }
        }
        last_write = Some(tokio::time::Instant::now());
        write(&store, &batch, &counters).await;
        batch.clear();
    }
}

async fn write<S: Store>(store: &S, batch: &[ActivityEvent], counters: &Counters) {
    // One retry covers a busy database; after that the batch is counted lost
    // rather than holding up everything behind it.
    for attempt in 0..2 {
        match store.record_activity(batch).await {
            Ok(()) => {
                counters
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                return;
            }
            Err(e) if attempt == 0 => {
                tracing::warn!(error = %e, "writing activity failed; trying once more");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                counters
                    .failed
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                tracing::error!(error = %e, events = batch.len(), "activity events could not be written and are lost");
            }
        }
    }
}
