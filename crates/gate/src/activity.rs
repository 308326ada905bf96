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
//!
//! `serve` writes through a lane of the lowest CPU priority, a thread and
//! database connection of its own ([`ActivityLog::start_with_lane`]):
//! writing the log gives way to traffic, so on a machine whose cores are
//! all busy the events wait in the queue until a core is free, rather than
//! the pupil waiting for a page. Once the queue is half full the writer
//! writes at normal priority instead, so a long flood slows traffic a
//! little rather than losing events. Each waiting event is packed into one
//! allocation ([`Packed`]), so the queue holds a long burst in little
//! memory.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use store::{ActivityEvent, Source, Store};
use tokio::sync::{Notify, mpsc, oneshot};
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
            capacity: 1_048_576,
            batch: 1_000,
        }
    }
}

/// The activity log's counts as the metrics endpoint shows them; see
/// [`ActivityLog::counts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActivityCounts {
    pub queue_depth: u64,
    pub dropped: u64,
    pub written: u64,
    pub failed: u64,
    pub escalated: u64,
}

#[derive(Debug, Default)]
struct Counters {
    /// Batches written at normal priority because the queue was deep.
    escalated: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    last_warning_ms: AtomicU64,
}

/// The sending side, shared by every edge.
#[derive(Clone, Debug)]
pub struct ActivityLog {
    sender: mpsc::Sender<Packed>,
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
        let (log, writer) = ActivityLog::queue(settings);
        (log, tokio::spawn(writer.run(store)))
    }

    /// Starts the writer task on the current runtime, writing through
    /// `store` at the runtime's priority only when the queue is half full,
    /// and otherwise through a lane of lower priority: a thread of its own,
    /// named `activity-writer`, which first calls `prepare` (to lower its
    /// own priority) and then writes through the store `open` gives. A
    /// store that starts a thread of its own for the database (SQLite's
    /// connections do) should be opened there, so that thread takes the
    /// lane's priority. So the log gives way to traffic while the queue
    /// can hold the burst, and catches up at normal priority before it
    /// would drop events.
    pub fn start_with_lane<S, L, F, Fut>(
        store: S,
        prepare: impl FnOnce() + Send + 'static,
        open: F,
        settings: QueueSettings,
    ) -> std::io::Result<(ActivityLog, JoinHandle<()>)>
    where
        S: Store + Clone + 'static,
        L: Store + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = L>,
    {
        let (log, mut writer) = ActivityLog::queue(settings);
        let (lane, work) = std::sync::mpsc::channel::<LaneWork>();
        let counters = writer.counters.clone();
        std::thread::Builder::new()
            .name("activity-writer".into())
            .spawn(move || {
                prepare();
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(async move {
                        let store = open().await;
                        let mut events = Vec::new();
                        // Ends when the writer drops its side.
                        while let Ok((batch, done)) = work.recv() {
                            write_packed(&store, &batch, &mut events, &counters).await;
                            // The writer frees the batch (see [`Packed`]).
                            let _ = done.send(batch);
                        }
                    }),
                    Err(e) => {
                        tracing::error!(error = %e, "the activity log's low-priority writer could not start its runtime; the log is written at normal priority")
                    }
                }
            })?;
        writer.lane = Some(lane);
        Ok((log, tokio::spawn(writer.run(store))))
    }

    fn queue(settings: QueueSettings) -> (ActivityLog, Writer) {
        let (sender, receiver) = mpsc::channel(settings.capacity.max(1));
        let counters = Arc::new(Counters::default());
        let shutdown = Arc::new(Notify::new());
        let writer = Writer {
            receiver,
            batch_size: settings.batch.max(1),
            deep: settings.capacity.max(1) / 2,
            counters: counters.clone(),
            shutdown: shutdown.clone(),
            lane: None,
        };
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
        if self.sender.try_send(Packed::new(&event)).is_err() {
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

    /// Batches written at normal priority, not through the lane of lower
    /// priority, because the queue was at least half full.
    pub fn escalated(&self) -> u64 {
        self.counters.escalated.load(Ordering::Relaxed)
    }

    /// Events lost because the database refused a batch.
    pub fn failed(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }

    /// Every count at once, for the metrics endpoint.
    pub fn counts(&self) -> ActivityCounts {
        ActivityCounts {
            queue_depth: self.queue_depth() as u64,
            dropped: self.dropped(),
            written: self.written(),
            failed: self.failed(),
            escalated: self.escalated(),
        }
    }

    /// Asks the writer to write what is queued and stop; await its handle.
    pub fn shut_down(&self) {
        self.shutdown.notify_one();
    }
}

/// A batch for the lane of lower priority, and where it sends the written
/// batch back once written.
type LaneWork = (Vec<Packed>, oneshot::Sender<Vec<Packed>>);

/// The receiving side, until it runs.
struct Writer {
    receiver: mpsc::Receiver<Packed>,
    batch_size: usize,
    /// Events waiting from which the writer writes at its own priority
    /// rather than through the lane.
    deep: usize,
    counters: Arc<Counters>,
    shutdown: Arc<Notify>,
    lane: Option<std::sync::mpsc::Sender<LaneWork>>,
}

impl Writer {
    async fn run<S: Store>(self, store: S) {
        let Writer {
            mut receiver,
            batch_size,
            deep,
            counters,
            shutdown,
            mut lane,
        } = self;
        let mut batch = Vec::with_capacity(batch_size);
        let mut events = Vec::with_capacity(batch_size);
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
            if receiver.len() < deep
                && let Some(to_lane) = &lane
            {
                let (done, written) = oneshot::channel();
                match to_lane.send((std::mem::take(&mut batch), done)) {
                    Ok(()) => match written.await {
                        Ok(written) => {
                            batch = written;
                            batch.clear();
                            continue;
                        }
                        Err(_) => {
                            // The lane's thread ended with the batch; it is
                            // lost, and what follows is written here.
                            tracing::error!(
                                "the activity log's low-priority writer stopped; the log is written at normal priority from now on"
                            );
                            lane = None;
                            continue;
                        }
                    },
                    Err(std::sync::mpsc::SendError((returned, _))) => {
                        tracing::error!(
                            "the activity log's low-priority writer is not running; the log is written at normal priority"
                        );
                        batch = returned;
                        lane = None;
                    }
                }
            } else if lane.is_some() {
                counters.escalated.fetch_add(1, Ordering::Relaxed);
            }
            write_packed(&store, &batch, &mut events, &counters).await;
            batch.clear();
        }
    }
}

/// An event waiting in the queue: its numbers as they are and its text in
/// one allocation, about a third of the memory of an [`ActivityEvent`]
/// with a dozen strings of its own, and one allocation to free instead of
/// a dozen. It is freed by the writer task at normal priority, never on
/// the lane: freeing memory that a serving thread allocated touches that
/// thread's allocator state, and a thread at nice 19 interrupted halfway
/// through could hold a serving thread up for as long as busy cores keep it
/// waiting.
#[derive(Debug)]
struct Packed {
    at: Timestamp,
    source: Source,
    status: Option<u16>,
    duration_ms: u32,
    bytes: u64,
    /// The text fields one after another, in [`Packed::new`]'s order.
    text: Box<str>,
    /// Where each text field ends in `text`.
    ends: [u32; TEXT_FIELDS],
    /// Which of the optional text fields are there, by their place.
    present: u16,
}

const TEXT_FIELDS: usize = 12;

impl Packed {
    fn new(e: &ActivityEvent) -> Packed {
        let fields: [Option<&str>; TEXT_FIELDS] = [
            Some(&e.client_ip),
            e.username.as_deref(),
            e.device.as_deref(),
            Some(&e.profile),
            Some(&e.method),
            Some(&e.url),
            Some(&e.host),
            e.search_term.as_deref(),
            Some(&e.categories),
            Some(&e.verdict),
            Some(&e.rule),
            e.reference.as_deref(),
        ];
        let mut text = String::with_capacity(fields.iter().flatten().map(|f| f.len()).sum());
        let mut ends = [0; TEXT_FIELDS];
        let mut present = 0;
        for (i, field) in fields.into_iter().enumerate() {
            if let Some(field) = field {
                text.push_str(field);
                present |= 1 << i;
            }
            // An event's text is far below 4 GiB: URLs and names are
            // bounded long before they reach the log.
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        Packed {
            at: e.at,
            source: e.source,
            status: e.status,
            duration_ms: e.duration_ms,
            bytes: e.bytes,
            text: text.into_boxed_str(),
            ends,
            present,
        }
    }

    fn to_event(&self) -> ActivityEvent {
        let mut start = 0;
        let mut fields = self.ends.iter().enumerate().map(|(i, &end)| {
            let end = (end as usize).min(self.text.len());
            let field = self.text.get(start..end).unwrap_or_default().to_owned();
            start = end;
            (self.present & (1 << i) != 0).then_some(field)
        });
        let mut next = move || fields.next().flatten();
        ActivityEvent {
            at: self.at,
            source: self.source,
            client_ip: next().unwrap_or_default(),
            username: next(),
            device: next(),
            profile: next().unwrap_or_default(),
            method: next().unwrap_or_default(),
            url: next().unwrap_or_default(),
            host: next().unwrap_or_default(),
            search_term: next(),
            categories: next().unwrap_or_default(),
            verdict: next().unwrap_or_default(),
            rule: next().unwrap_or_default(),
            status: self.status,
            bytes: self.bytes,
            duration_ms: self.duration_ms,
            reference: next(),
        }
    }
}

/// Unpacks `batch` into `events` (left empty, its room kept for the next
/// batch) and writes it; the caller frees the batch.
async fn write_packed<S: Store>(
    store: &S,
    batch: &[Packed],
    events: &mut Vec<ActivityEvent>,
    counters: &Counters,
) {
    events.extend(batch.iter().map(Packed::to_event));
    write(store, events, counters).await;
    events.clear();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(optional: bool) -> ActivityEvent {
        let some = |s: &str| optional.then(|| s.to_owned());
        ActivityEvent {
            at: Timestamp::from_microsecond(1_790_000_000_123_456).expect("time"),
            source: if optional { Source::Dns } else { Source::Proxy },
            client_ip: "10.1.2.3".into(),
            username: some("aisha.k"),
            device: some("LAPTOP-07"),
            profile: "ks3".into(),
            method: "GET".into(),
            url: "https://www.example.org/search?q=caf%C3%A9&x=ü😀".into(),
            host: "www.example.org".into(),
            search_term: some("café ü😀"),
            categories: if optional {
                "search,news".into()
            } else {
                String::new()
            },
            verdict: "safe-search".into(),
            rule: "category:search".into(),
            status: optional.then_some(302),
            bytes: u64::MAX,
            duration_ms: 17,
            reference: some(""),
        }
    }

    #[test]
    fn a_packed_event_comes_back_as_it_went_in() {
        for optional in [true, false] {
            let e = event(optional);
            assert_eq!(Packed::new(&e).to_event(), e, "optional fields: {optional}");
        }
        // Every text field empty, and an optional one present but empty.
        let mut blank = event(true);
        for field in [
            &mut blank.client_ip,
            &mut blank.profile,
            &mut blank.method,
            &mut blank.url,
            &mut blank.host,
            &mut blank.categories,
            &mut blank.verdict,
            &mut blank.rule,
        ] {
            field.clear();
        }
        let unpacked = Packed::new(&blank).to_event();
        assert_eq!(unpacked, blank);
        assert_eq!(unpacked.reference.as_deref(), Some(""));
    }
}
