//! The activity event of each request (DESIGN C6) and the response body
//! that completes it: the event is queued when the body has been sent (or
//! abandoned), so it carries the bytes and the whole duration. Queuing never
//! waits (`gate::ActivityLog::record`).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use policy::{Decision, Engine, Rule, Verdict};
use store::{ActivityEvent, Source};

use crate::origin::{OriginBody, OriginError};

/// An event waiting for its status, bytes and duration.
#[derive(Debug)]
pub struct Draft {
    pub event: ActivityEvent,
    pub verdict: Verdict,
    pub started: Instant,
    pub gate: Arc<gate::Gate>,
}

impl Draft {
    /// Queues the event and counts it in the metrics.
    pub fn finish(mut self, status: u16, bytes: u64) {
        let took = self.started.elapsed();
        self.event.status = Some(status);
        self.event.bytes = bytes;
        self.event.duration_ms = took.as_millis().min(u32::MAX as u128) as u32;
        self.gate.metrics.observe(Source::Proxy, self.verdict, took);
        self.gate.activity.record(self.event);
    }
}

/// Category ids, comma-separated.
pub fn categories(decision: &Decision) -> String {
    let mut out = String::new();
    for c in decision.categories.iter() {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(c.id());
    }
    out
}

/// The rule's short id as `Explanation::rule` spells it, without building
/// the whole explanation except for overrides, whose entry only the
/// explanation knows.
pub fn rule_id(engine: &Engine, decision: &Decision, explain: impl FnOnce() -> String) -> String {
    match decision.rule {
        Rule::Statutory(kind) => format!("statutory:{}", kind.id()),
        Rule::Deny(_) | Rule::Allow(_) => explain(),
        Rule::WalledGarden => "walled-garden".to_owned(),
        Rule::ScheduleAllows { schedule, .. } | Rule::ScheduleBlocks { schedule, .. } => {
            let profile = &engine.policy().profiles[decision.profile];
            match profile.schedules.get(schedule as usize) {
                Some(s) => format!("schedule:{}", s.name),
                None => "schedule".to_owned(),
            }
        }
        Rule::IpAddress => "ip-address".to_owned(),
        Rule::Category(c) => format!("category:{}", c.id()),
        Rule::NotBlocked => "default".to_owned(),
    }
}

enum Inner {
    Full(Option<Bytes>),
    Upstream(OriginBody),
}

/// Every response body the proxy sends: a page of its own or a web
/// server's body streamed through. It counts the bytes and queues the
/// request's event when dropped.
pub struct ProxyBody {
    inner: Inner,
    bytes: u64,
    status: u16,
    draft: Option<Draft>,
}

impl std::fmt::Debug for ProxyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyBody")
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl ProxyBody {
    pub fn full(bytes: impl Into<Bytes>) -> ProxyBody {
        let bytes = bytes.into();
        ProxyBody {
            inner: Inner::Full((!bytes.is_empty()).then_some(bytes)),
            bytes: 0,
            status: 0,
            draft: None,
        }
    }

    pub fn empty() -> ProxyBody {
        ProxyBody::full(Bytes::new())
    }

    pub fn upstream(body: OriginBody) -> ProxyBody {
        ProxyBody {
            inner: Inner::Upstream(body),
            bytes: 0,
            status: 0,
            draft: None,
        }
    }

    /// Queues `draft` with this response's status once the body is done.
    pub fn logged(mut self, status: u16, draft: Draft) -> ProxyBody {
        self.status = status;
        self.draft = Some(draft);
        self
    }
}

impl Drop for ProxyBody {
    fn drop(&mut self) {
        if let Some(draft) = self.draft.take() {
            draft.finish(self.status, self.bytes);
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = OriginError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, OriginError>>> {
        let this = self.get_mut();
        let polled = match &mut this.inner {
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Inner::Upstream(body) => Pin::new(body).poll_frame(cx),
        };
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.bytes += data.len() as u64;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Full(bytes) => bytes.is_none(),
            Inner::Upstream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Inner::Upstream(body) => body.size_hint(),
        }
    }
}
