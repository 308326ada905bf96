//! Counters for the Prometheus metrics endpoint: requests by edge and
//! verdict, a latency histogram, malformed requests, the activity queue,
//! and how far monitoring has got through the activity log.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use policy::Verdict;
use store::Source;

use crate::activity::ActivityCounts;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Debug, Default)]
struct EdgeMetrics {
    allow: AtomicU64,
    block: AtomicU64,
    safe_search: AtomicU64,
    malformed: AtomicU64,
    /// One count per bucket, then the count above the last bucket.
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_us: AtomicU64,
}

/// Every counter, shared by the edges.
#[derive(Debug, Default)]
pub struct Metrics {
    proxy: EdgeMetrics,
    dns: EdgeMetrics,
    /// Proxy connections turned away because every place was taken.
    refused_busy: AtomicU64,
    /// Proxy connections turned away because their address already held
    /// its share of places.
    refused_per_ip: AtomicU64,
    /// Connections the proxy could not make: to a website, and to the
    /// parent proxy.
    unreachable_website: AtomicU64,
    unreachable_parent: AtomicU64,
    /// Busy tunnels handed to threads of their own, ever and now.
    threaded_tunnels: AtomicU64,
    threaded_tunnels_now: AtomicU64,
    /// Client connections open on each of the proxy's serving threads, in
    /// thread order (empty until the proxy starts).
    serving: Mutex<Vec<Arc<AtomicUsize>>>,
    monitor: MonitorProgress,
}

/// How far monitoring has got through the activity log. A backlog that
/// grows, or a last pass that is old, means alerts are late.
#[derive(Debug, Default)]
struct MonitorProgress {
    /// Whether monitoring runs at all (its lines are left out otherwise).
    on: AtomicBool,
    /// Events logged but not yet examined, when the monitor last looked.
    backlog: AtomicU64,
    /// Passes that read to the end of the log.
    passes: AtomicU64,
    /// When the last such pass ended, in seconds since 1970.
    last_pass_unix: AtomicU64,
}

/// See [`Metrics::tunnel_threaded`].
pub struct ThreadedTunnel<'a>(&'a Metrics);

impl Drop for ThreadedTunnel<'_> {
    fn drop(&mut self) {
        self.0.threaded_tunnels_now.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why the proxy turned a connection away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Every place was taken for longer than the wait.
    Busy,
    /// The client's address already held `max_connections_per_ip`.
    PerIp,
}

/// Where the proxy could not connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// A website: its name did not resolve, it refused or did not answer.
    Website,
    /// The parent proxy (`[proxy] parent`): down, or refusing the tunnel.
    Parent,
}

impl Metrics {
    fn edge(&self, source: Source) -> &EdgeMetrics {
        match source {
            Source::Proxy => &self.proxy,
            Source::Dns => &self.dns,
        }
    }

    /// Counts a decided request and how long it took to answer.
    pub fn observe(&self, source: Source, verdict: Verdict, took: Duration) {
        let edge = self.edge(source);
        match verdict {
            Verdict::Allow => &edge.allow,
            Verdict::Block => &edge.block,
            Verdict::SafeSearch => &edge.safe_search,
        }
        .fetch_add(1, Ordering::Relaxed);
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        edge.latency[bucket].fetch_add(1, Ordering::Relaxed);
        edge.latency_sum_us.fetch_add(
            took.as_micros().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    /// Counts a request that could not be read.
    pub fn malformed(&self, source: Source) {
        self.edge(source).malformed.fetch_add(1, Ordering::Relaxed);
    }

    /// Decided requests so far for an edge and verdict.
    pub fn count(&self, source: Source, verdict: Verdict) -> u64 {
        let edge = self.edge(source);
        match verdict {
            Verdict::Allow => &edge.allow,
            Verdict::Block => &edge.block,
            Verdict::SafeSearch => &edge.safe_search,
        }
        .load(Ordering::Relaxed)
    }

    /// Counts a client connection the proxy turned away.
    pub fn refused(&self, why: Refusal) {
        self.refusals(why).fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused_count(&self, why: Refusal) -> u64 {
        self.refusals(why).load(Ordering::Relaxed)
    }

    /// A busy tunnel goes on with threads of its own, until the guard is
    /// dropped.
    pub fn tunnel_threaded(&self) -> ThreadedTunnel<'_> {
        self.threaded_tunnels.fetch_add(1, Ordering::Relaxed);
        self.threaded_tunnels_now.fetch_add(1, Ordering::Relaxed);
        ThreadedTunnel(self)
    }

    /// Busy tunnels handed to threads of their own since the start, and
    /// how many are on them now.
    pub fn threaded_tunnels(&self) -> (u64, u64) {
        (
            self.threaded_tunnels.load(Ordering::Relaxed),
            self.threaded_tunnels_now.load(Ordering::Relaxed),
        )
    }

    /// The proxy's serving threads, each with its count of open client
    /// connections; replaces any given before.
    pub fn serving_threads(&self, open: Vec<Arc<AtomicUsize>>) {
        *self.serving.lock().unwrap_or_else(|e| e.into_inner()) = open;
    }

    /// Client connections open on each serving thread now.
    pub fn serving_open(&self) -> Vec<usize> {
        self.serving
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|open| open.load(Ordering::Relaxed))
            .collect()
    }

    /// Counts a connection the proxy could not make.
    pub fn unreachable(&self, to: Unreachable) {
        self.unreachables(to).fetch_add(1, Ordering::Relaxed);
    }

    pub fn unreachable_count(&self, to: Unreachable) -> u64 {
        self.unreachables(to).load(Ordering::Relaxed)
    }

    fn unreachables(&self, to: Unreachable) -> &AtomicU64 {
        match to {
            Unreachable::Website => &self.unreachable_website,
            Unreachable::Parent => &self.unreachable_parent,
        }
    }

    fn refusals(&self, why: Refusal) -> &AtomicU64 {
        match why {
            Refusal::Busy => &self.refused_busy,
            Refusal::PerIp => &self.refused_per_ip,
        }
    }

    /// Monitoring has read the log up to `backlog` events short of its end
    /// (it reads in batches, so this is said after each one).
    pub fn monitor_read(&self, backlog: u64) {
        let m = &self.monitor;
        m.on.store(true, Ordering::Relaxed);
        m.backlog.store(backlog, Ordering::Relaxed);
    }

    /// Monitoring finished a pass at `unix_seconds`, caught up with the log
    /// as it was when the pass read it last.
    pub fn monitor_caught_up(&self, unix_seconds: u64) {
        let m = &self.monitor;
        m.on.store(true, Ordering::Relaxed);
        m.backlog.store(0, Ordering::Relaxed);
        m.last_pass_unix.store(unix_seconds, Ordering::Relaxed);
        m.passes.fetch_add(1, Ordering::Relaxed);
    }

    /// When monitoring last read to the end of the log, in seconds since
    /// 1970 (0: not yet).
    pub fn monitor_last_pass(&self) -> u64 {
        self.monitor.last_pass_unix.load(Ordering::Relaxed)
    }

    /// Monitoring's passes to the end of the log so far.
    pub fn monitor_passes(&self) -> u64 {
        self.monitor.passes.load(Ordering::Relaxed)
    }

    pub fn malformed_count(&self, source: Source) -> u64 {
        self.edge(source).malformed.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition of every counter, with the activity
    /// log's queue depth, losses and escalations.
    pub fn render(&self, activity: &ActivityCounts) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP schoolgate_requests_total Requests decided, by edge and verdict."
        );
        let _ = writeln!(out, "# TYPE schoolgate_requests_total counter");
        for source in [Source::Proxy, Source::Dns] {
            let edge = self.edge(source);
            for (verdict, counter) in [
                ("allow", &edge.allow),
                ("block", &edge.block),
                ("safe-search", &edge.safe_search),
            ] {
                let _ = writeln!(
                    out,
                    "schoolgate_requests_total{{edge=\"{}\",verdict=\"{verdict}\"}} {}",
                    source.as_str(),
                    counter.load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP schoolgate_malformed_total Requests that could not be read."
        );
        let _ = writeln!(out, "# TYPE schoolgate_malformed_total counter");
        for source in [Source::Proxy, Source::Dns] {
            let _ = writeln!(
                out,
                "schoolgate_malformed_total{{edge=\"{}\"}} {}",
                source.as_str(),
                self.edge(source).malformed.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP schoolgate_connections_refused_total Proxy connections turned away with 503, by reason."
        );
        let _ = writeln!(out, "# TYPE schoolgate_connections_refused_total counter");
        for (reason, why) in [("busy", Refusal::Busy), ("per-ip", Refusal::PerIp)] {
            let _ = writeln!(
                out,
                "schoolgate_connections_refused_total{{edge=\"proxy\",reason=\"{reason}\"}} {}",
                self.refused_count(why)
            );
        }
        let _ = writeln!(
            out,
            "# HELP schoolgate_upstream_failures_total Connections the proxy could not make, to a website or to the parent proxy."
        );
        let _ = writeln!(out, "# TYPE schoolgate_upstream_failures_total counter");
        for (to, which) in [
            ("website", Unreachable::Website),
            ("parent", Unreachable::Parent),
        ] {
            let _ = writeln!(
                out,
                "schoolgate_upstream_failures_total{{edge=\"proxy\",to=\"{to}\"}} {}",
                self.unreachable_count(which)
            );
        }
        let (threaded, threaded_now) = self.threaded_tunnels();
        single(
            &mut out,
            "schoolgate_tunnels_threaded_total",
            "counter",
            "Busy CONNECT tunnels that went on with threads of their own.",
            threaded,
        );
        single(
            &mut out,
            "schoolgate_tunnels_threaded",
            "gauge",
            "Busy CONNECT tunnels on threads of their own now (at most tunnel_threads).",
            threaded_now,
        );
        let serving = self.serving_open();
        if !serving.is_empty() {
            let _ = writeln!(
                out,
                "# HELP schoolgate_proxy_connections_open Client connections open on each of the proxy's serving threads."
            );
            let _ = writeln!(out, "# TYPE schoolgate_proxy_connections_open gauge");
            for (thread, open) in serving.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "schoolgate_proxy_connections_open{{thread=\"{thread}\"}} {open}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP schoolgate_request_seconds Time from request to decision and answer."
        );
        let _ = writeln!(out, "# TYPE schoolgate_request_seconds histogram");
        for source in [Source::Proxy, Source::Dns] {
            let edge = self.edge(source);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += edge.latency[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "schoolgate_request_seconds_bucket{{edge=\"{}\",le=\"{bound}\"}} {cumulative}",
                    source.as_str()
                );
            }
            cumulative += edge.latency[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "schoolgate_request_seconds_bucket{{edge=\"{}\",le=\"+Inf\"}} {cumulative}",
                source.as_str()
            );
            let _ = writeln!(
                out,
                "schoolgate_request_seconds_sum{{edge=\"{}\"}} {}",
                source.as_str(),
                edge.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "schoolgate_request_seconds_count{{edge=\"{}\"}} {cumulative}",
                source.as_str()
            );
        }
        for (name, kind, help, value) in [
            (
                "schoolgate_activity_queue_depth",
                "gauge",
                "Activity events waiting to be written.",
                activity.queue_depth,
            ),
            (
                "schoolgate_activity_dropped_total",
                "counter",
                "Activity events dropped because the queue was full.",
                activity.dropped,
            ),
            (
                "schoolgate_activity_written_total",
                "counter",
                "Activity events written to the store.",
                activity.written,
            ),
            (
                "schoolgate_activity_failed_total",
                "counter",
                "Activity events the store refused.",
                activity.failed,
            ),
            (
                "schoolgate_activity_escalated_batches_total",
                "counter",
                "Batches of activity written at normal priority because the queue was at least half full.",
                activity.escalated,
            ),
        ] {
            single(&mut out, name, kind, help, value);
        }
        self.render_monitor(&mut out);
        out
    }

    fn render_monitor(&self, out: &mut String) {
        let m = &self.monitor;
        if !m.on.load(Ordering::Relaxed) {
            return;
        }
        for (name, kind, help, value) in [
            (
                "schoolgate_monitor_backlog_events",
                "gauge",
                "Activity events monitoring had not yet examined when it last looked.",
                &m.backlog,
            ),
            (
                "schoolgate_monitor_passes_total",
                "counter",
                "Passes in which monitoring read to the end of the activity log.",
                &m.passes,
            ),
            (
                "schoolgate_monitor_last_pass_timestamp_seconds",
                "gauge",
                "When monitoring last read to the end of the activity log (0: not yet).",
                &m.last_pass_unix,
            ),
        ] {
            single(out, name, kind, help, value.load(Ordering::Relaxed));
        }
    }
}

/// One metric without labels: its help, type and value.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_threads_render_once_the_proxy_gives_them() {
        let m = Metrics::default();
        assert!(
            !m.render(&ActivityCounts::default())
                .contains("connections_open")
        );
        let open: Vec<Arc<AtomicUsize>> = [4, 0, 7]
            .into_iter()
            .map(|n| Arc::new(AtomicUsize::new(n)))
            .collect();
        m.serving_threads(open.clone());
        open[1].fetch_add(2, Ordering::Relaxed);
        assert_eq!(m.serving_open(), [4, 2, 7]);
        let text = m.render(&ActivityCounts::default());
        for line in [
            "# TYPE schoolgate_proxy_connections_open gauge",
            "schoolgate_proxy_connections_open{thread=\"0\"} 4",
            "schoolgate_proxy_connections_open{thread=\"1\"} 2",
            "schoolgate_proxy_connections_open{thread=\"2\"} 7",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }

    #[test]
    fn counters_and_histogram_render() {
        let m = Metrics::default();
        m.observe(Source::Proxy, Verdict::Block, Duration::from_micros(300));
        m.observe(Source::Proxy, Verdict::Allow, Duration::from_millis(3));
        m.observe(Source::Dns, Verdict::SafeSearch, Duration::from_secs(2));
        m.malformed(Source::Dns);
        m.refused(Refusal::PerIp);
        m.refused(Refusal::PerIp);
        m.unreachable(Unreachable::Parent);
        let text = m.render(&ActivityCounts {
            queue_depth: 7,
            dropped: 1,
            written: 2,
            failed: 0,
            escalated: 3,
        });
        assert!(
            text.contains("schoolgate_requests_total{edge=\"proxy\",verdict=\"block\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_request_seconds_bucket{edge=\"proxy\",le=\"0.0005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_request_seconds_bucket{edge=\"proxy\",le=\"0.005\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_request_seconds_bucket{edge=\"dns\",le=\"+Inf\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_request_seconds_bucket{edge=\"dns\",le=\"1\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_malformed_total{edge=\"dns\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "schoolgate_connections_refused_total{edge=\"proxy\",reason=\"per-ip\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_connections_refused_total{edge=\"proxy\",reason=\"busy\"} 0"),
            "{text}"
        );
        for line in [
            "schoolgate_upstream_failures_total{edge=\"proxy\",to=\"website\"} 0",
            "schoolgate_upstream_failures_total{edge=\"proxy\",to=\"parent\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        assert!(text.contains("schoolgate_activity_queue_depth 7"), "{text}");
        assert!(
            text.contains("schoolgate_activity_dropped_total 1"),
            "{text}"
        );
        assert!(
            text.contains("schoolgate_activity_written_total 2\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE schoolgate_activity_escalated_batches_total counter\nschoolgate_activity_escalated_batches_total 3\n"),
            "{text}"
        );
        // Monitoring has not said anything: none of its lines.
        assert!(!text.contains("schoolgate_monitor"), "{text}");
    }

    #[test]
    fn monitoring_progress_renders_once_monitoring_reports() {
        let m = Metrics::default();
        m.monitor_read(1_000);
        let text = m.render(&ActivityCounts::default());
        assert!(
            text.contains("schoolgate_monitor_backlog_events 1000"),
            "{text}"
        );
        assert!(text.contains("schoolgate_monitor_passes_total 0"), "{text}");
        assert!(
            text.contains("schoolgate_monitor_last_pass_timestamp_seconds 0\n"),
            "{text}"
        );
        m.monitor_caught_up(1_795_000_000);
        assert_eq!(m.monitor_passes(), 1);
        assert_eq!(m.monitor_last_pass(), 1_795_000_000);
        let text = m.render(&ActivityCounts::default());
        assert!(
            text.contains("schoolgate_monitor_backlog_events 0"),
            "{text}"
        );
        assert!(text.contains("schoolgate_monitor_passes_total 1"), "{text}");
        assert!(
            text.contains("schoolgate_monitor_last_pass_timestamp_seconds 1795000000"),
            "{text}"
        );
    }
}
