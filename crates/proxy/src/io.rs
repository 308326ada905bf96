//! A socket wrapper that notes activity, so a watchdog can close
//! connections that carry nothing for the idle timeout. One relaxed atomic
//! store per read or write.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a connection has been doing.
#[derive(Debug, Default)]
pub struct Activity {
    active: AtomicBool,
    /// Requests waiting for a web server to begin its answer: the client
    /// connection is quiet then, but not idle (the wait has its own limit).
    waiting: AtomicUsize,
}

impl Activity {
    /// Whether anything moved since the last call, or a request is waiting
    /// for its answer.
    pub fn take_active(&self) -> bool {
        self.active.swap(false, Ordering::Relaxed) || self.waiting.load(Ordering::Relaxed) > 0
    }

    /// Marks the connection as waiting for a web server until the guard is
    /// dropped.
    pub fn waiting(&self) -> Waiting<'_> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(self)
    }
}

/// See [`Activity::waiting`].
pub struct Waiting<'a>(&'a Activity);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
        self.0.active.store(true, Ordering::Relaxed);
    }
}

/// A stream whose reads and writes are noted in an [`Activity`].
#[derive(Debug)]
pub struct Watched<T> {
    inner: T,
    activity: std::sync::Arc<Activity>,
}

impl<T> Watched<T> {
    pub fn new(inner: T, activity: std::sync::Arc<Activity>) -> Self {
        Watched { inner, activity }
    }

    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result
            && buf.filled().len() > before
        {
            self.activity.active.store(true, Ordering::Relaxed);
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = result {
            self.note_written(n);
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = result {
            self.note_written(n);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T> Watched<T> {
    fn note_written(&self, n: usize) {
        if n > 0 {
            self.activity.active.store(true, Ordering::Relaxed);
        }
    }
}
