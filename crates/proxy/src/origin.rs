//! HTTP/1.1 to web servers, spoken by the proxy itself.
//!
//! A request is written and its answer read inside the task of the client
//! connection that asked, with no channel or task between them: the head
//! is parsed here, and the body is read from the socket as the client's
//! side of hyper asks for it ([`OriginBody`]). When the whole answer has
//! been read and the server keeps the connection open, it goes back to the
//! client connection's kept connections, and from there to the shared
//! pool (`upstream`).
//!
//! The answer's length follows RFC 9112 §6.3: none after `HEAD`, `1xx`,
//! `204` and `304`; chunked when the last transfer coding is `chunked`;
//! until the server closes when another coding is last or nothing says;
//! otherwise `Content-Length` (two different lengths are an error). Interim
//! `1xx` answers are passed over. Trailers are read and dropped.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::upstream::{Kept, Pool};

/// The most a response head may take, and the most headers it may have.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;
/// How much is read from a web server at a time: a head, or a short body.
const READ_SIZE: usize = 16 * 1024;
/// The most read at a time while a long body is still to come, so a large
/// download takes a quarter of the reads (and of the frames handed on).
/// Measured against 256 KiB, which was no faster and holds four times the
/// memory for each download in flight (`docs/proxy.md`).
const LARGEST_READ: usize = 64 * 1024;
/// The longest chunk-size line accepted (hex digits and extensions).
const MAX_CHUNK_LINE: usize = 4096;
/// Pieces of a body up to this size are copied out of the read buffer, so
/// the buffer stays the connection's own and is reused for the next read;
/// larger ones are handed on without copying.
const COPY_UP_TO: usize = 8 * 1024;

/// Why a web server's answer could not be had.
#[derive(Debug)]
pub enum OriginError {
    /// It closed the connection before a whole answer.
    Closed,
    /// What it sent is not HTTP/1.x as RFC 9112 has it.
    Malformed(&'static str),
    /// Reading or writing failed.
    Io(io::Error),
    /// It had the whole request but began no answer within the time
    /// allowed (`answer_timeout_seconds`).
    TimedOut,
}

impl OriginError {
    /// For the page the browser gets.
    pub fn short(&self) -> &'static str {
        match self {
            OriginError::Closed => "it closed the connection before answering",
            OriginError::Malformed(_) => "it did not speak HTTP properly",
            OriginError::Io(_) => "the connection failed",
            OriginError::TimedOut => "it did not begin its answer in time",
        }
    }
}

impl std::fmt::Display for OriginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OriginError::Closed => f.write_str("the web server closed the connection mid-answer"),
            OriginError::Malformed(what) => {
                write!(f, "the web server's answer is malformed: {what}")
            }
            OriginError::Io(e) => write!(f, "the connection to the web server failed: {e}"),
            OriginError::TimedOut => {
                f.write_str("the web server began no answer in the time allowed")
            }
        }
    }
}

impl std::error::Error for OriginError {}

impl From<io::Error> for OriginError {
    fn from(e: io::Error) -> Self {
        OriginError::Io(e)
    }
}

/// Where a finished connection goes: the client connection's kept ones,
/// and the shared pool for any that makes way.
pub struct Home {
    pub kept: Mutex<Kept>,
    pub pool: Arc<Pool>,
}

impl Home {
    pub fn new(pool: Arc<Pool>) -> Home {
        Home {
            kept: Mutex::new(Kept::default()),
            pool,
        }
    }

    /// Hands every kept connection to the shared pool (the client
    /// connection is ending, and none of them is carrying an answer).
    pub fn release(&self) {
        let idle: Vec<Origin> = self
            .kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        for origin in idle {
            self.pool.put(origin);
        }
    }

    fn welcome(&self, origin: Origin) {
        let evicted = self
            .kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keep(origin);
        if let Some(evicted) = evicted {
            self.pool.put(evicted);
        }
    }
}

/// An open HTTP/1.1 connection to a web server, idle between answers.
pub struct Origin {
    pub host: Box<str>,
    pub port: u16,
    stream: TcpStream,
    /// Read but not yet used.
    buffer: BytesMut,
    /// The last request head written, kept for its allocation.
    head: Vec<u8>,
    /// Whether it carries a connection-based sign-in to the web server
    /// (NTLM or Negotiate): such a connection speaks for one person, so it
    /// is never shared with another client connection.
    pub pinned: bool,
}

impl Origin {
    pub fn new(stream: TcpStream, host: &str, port: u16) -> Origin {
        Origin {
            host: host.into(),
            port,
            stream,
            buffer: BytesMut::new(),
            head: Vec::new(),
            pinned: false,
        }
    }

    /// Whether an idle connection can carry another request: the server
    /// has neither closed it nor sent anything unasked. Asks the socket
    /// only when the event loop has seen something arrive on it.
    pub fn is_usable(&self) -> bool {
        if !self.buffer.is_empty() {
            return false;
        }
        let mut cx = Context::from_waker(std::task::Waker::noop());
        if self.stream.poll_read_ready(&mut cx).is_pending() {
            return true;
        }
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Sends a request (its head already in origin form, hop-by-hop
    /// headers gone) and reads the answer's head. The body follows through
    /// [`OriginBody`], which takes the connection; it comes back to `home`
    /// when the answer is whole and the server keeps it open.
    ///
    /// `Err((error, again))`: `again` is true when the request may be sent
    /// again on another connection (RFC 9110 §9.2.2): it is idempotent and
    /// had no body, and nothing of an answer arrived.
    ///
    /// Once the request has gone, the answer's head must begin to arrive
    /// within `answer_timeout` ([`OriginError::TimedOut`]); interim `1xx`
    /// answers do not restart the clock.
    pub async fn send(
        mut self,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
        body: Option<Incoming>,
        home: Arc<Home>,
        answer_timeout: Duration,
    ) -> Result<(http::response::Parts, OriginBody), (OriginError, bool)> {
        let mut body = body.filter(|b| !b.is_end_stream());
        let has_body = body.is_some();
        let again = !has_body && method.is_idempotent();
        let chunked = has_body && !headers.contains_key(header::CONTENT_LENGTH);
        let mut head = std::mem::take(&mut self.head);
        head.clear();
        write_head(&mut head, method, target, headers, chunked);
        let written = async {
            self.stream.write_all(&head).await?;
            match &mut body {
                Some(body) => send_body(&mut self.stream, body, chunked).await,
                None => Ok(()),
            }
        };
        let written = written.await;
        self.head = head;
        if let Err(e) = written {
            return Err((OriginError::Io(e), again));
        }
        let mut interim = false;
        let deadline = tokio::time::Instant::now() + answer_timeout;
        loop {
            let read = tokio::time::timeout_at(deadline, self.read_head(method)).await;
            let (parts, length) = match read {
                Ok(Ok(Some(head))) => head,
                Ok(Ok(None)) => return Err((OriginError::Closed, again && !interim)),
                Ok(Err(e)) => return Err((e, false)),
                Err(_) => return Err((OriginError::TimedOut, false)),
            };
            if parts.status.is_informational() {
                if parts.status == StatusCode::SWITCHING_PROTOCOLS {
                    return Err((
                        OriginError::Malformed("it switched protocols, which was not asked"),
                        false,
                    ));
                }
                interim = true;
                continue;
            }
            let keep = keeps_alive(&parts);
            self.pinned |= parts
                .headers
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .any(|v| signs_in_on_connection(Some(v)));
            let mut body = OriginBody {
                origin: Some(self),
                length,
                keep,
                home,
            };
            body.settle();
            return Ok((parts, body));
        }
    }

    /// Reads one response head; `None` when the server closed the
    /// connection before sending any of it.
    async fn read_head(
        &mut self,
        method: &Method,
    ) -> Result<Option<(http::response::Parts, Length)>, OriginError> {
        loop {
            if !self.buffer.is_empty()
                && let Some(head) = take_head(&mut self.buffer, method)?
            {
                return Ok(Some(head));
            }
            self.buffer.reserve(READ_SIZE);
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return if self.buffer.is_empty() {
                    Ok(None)
                } else {
                    Err(OriginError::Closed)
                };
            }
        }
    }
}

/// How the body's end is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Length {
    /// This many bytes still to come.
    Exact(u64),
    /// Chunked: in the chunk data, with this many bytes left of it.
    InChunk(u64),
    /// Chunked: at a chunk-size line (after the CRLF that ends the data of
    /// the one before, when `after_data`).
    ChunkLine { after_data: bool },
    /// Chunked: reading trailers, up to the empty line.
    Trailers,
    /// Until the server closes the connection.
    UntilClose,
    /// All read.
    Done,
}

/// A web server's body, read as hyper asks for it.
pub struct OriginBody {
    origin: Option<Origin>,
    length: Length,
    keep: bool,
    home: Arc<Home>,
}

impl OriginBody {
    /// Takes what the buffer already holds of the framing, and sends the
    /// connection home once the body is whole.
    fn settle(&mut self) {
        if self.length == Length::Done
            && let Some(mut origin) = self.origin.take()
            && self.keep
            && origin.buffer.is_empty()
        {
            if origin.buffer.capacity() > READ_SIZE {
                // What is left of a long body's buffer: an idle connection
                // need not keep it.
                origin.buffer = BytesMut::new();
            }
            self.home.welcome(origin);
        }
    }

    /// The next piece of the body from what is buffered: `Ok(None)` when
    /// more must be read first.
    fn next_data(&mut self) -> Result<Option<Bytes>, OriginError> {
        match self.origin.as_mut() {
            Some(origin) => decode(&mut self.length, &mut origin.buffer),
            None => Ok(None),
        }
    }
}

/// How much room to make before reading more of a body: what is known to
/// be still to come, between [`READ_SIZE`] and [`LARGEST_READ`].
fn read_size(length: Length) -> usize {
    match length {
        Length::Exact(left) | Length::InChunk(left) => usize::try_from(left)
            .unwrap_or(usize::MAX)
            .clamp(READ_SIZE, LARGEST_READ),
        _ => READ_SIZE,
    }
}

/// Takes the next piece of a body from `buffer`, following its framing;
/// `Ok(None)` when more must be read first (or the body is whole).
fn decode(length: &mut Length, buffer: &mut BytesMut) -> Result<Option<Bytes>, OriginError> {
    loop {
        match *length {
            Length::Done => return Ok(None),
            Length::Exact(left) | Length::InChunk(left) => {
                if buffer.is_empty() {
                    return Ok(None);
                }
                let take = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(buffer.len());
                let data = take_out(buffer, take);
                let left = left - take as u64;
                *length = match *length {
                    Length::Exact(_) if left == 0 => Length::Done,
                    Length::Exact(_) => Length::Exact(left),
                    _ if left == 0 => Length::ChunkLine { after_data: true },
                    _ => Length::InChunk(left),
                };
                return Ok(Some(data));
            }
            Length::UntilClose => {
                if buffer.is_empty() {
                    return Ok(None);
                }
                let all = buffer.len();
                return Ok(Some(take_out(buffer, all)));
            }
            Length::ChunkLine { after_data } => {
                let Some(end) = find_crlf(buffer) else {
                    if buffer.len() > MAX_CHUNK_LINE {
                        return Err(OriginError::Malformed("a chunk size line is too long"));
                    }
                    return Ok(None);
                };
                if after_data {
                    if end != 0 {
                        return Err(OriginError::Malformed("chunk data longer than its size"));
                    }
                    buffer.advance(2);
                    *length = Length::ChunkLine { after_data: false };
                    continue;
                }
                if end > MAX_CHUNK_LINE {
                    return Err(OriginError::Malformed("a chunk size line is too long"));
                }
                let size = chunk_size(&buffer[..end])?;
                buffer.advance(end + 2);
                *length = if size == 0 {
                    Length::Trailers
                } else {
                    Length::InChunk(size)
                };
            }
            Length::Trailers => {
                let Some(end) = find_crlf(buffer) else {
                    if buffer.len() > MAX_HEAD_BYTES {
                        return Err(OriginError::Malformed("the trailers are too large"));
                    }
                    return Ok(None);
                };
                buffer.advance(end + 2);
                if end == 0 {
                    *length = Length::Done;
                }
            }
        }
    }
}

/// Reads `input` as a web server's whole answer to a `GET` (or a `HEAD`)
/// the way [`Origin::send`] and [`OriginBody`] do, with interim answers
/// passed over: the status and the body. The input arrives `piece` bytes
/// at a time, as reads from a socket would bring it; the result must not
/// depend on that. For the fuzz target and tests.
pub fn read_answer(input: &[u8], head: bool, piece: usize) -> Result<(u16, Vec<u8>), OriginError> {
    let method = if head { Method::HEAD } else { Method::GET };
    let piece = piece.max(1);
    let mut rest = input;
    let mut buffer = BytesMut::new();
    let mut more = |buffer: &mut BytesMut| -> bool {
        if rest.is_empty() {
            return false;
        }
        let (now, later) = rest.split_at(piece.min(rest.len()));
        buffer.extend_from_slice(now);
        rest = later;
        true
    };
    loop {
        let (parts, mut length) = loop {
            if let Some(head) = take_head(&mut buffer, &method)? {
                break head;
            }
            if !more(&mut buffer) {
                return Err(OriginError::Closed);
            }
        };
        if parts.status.is_informational() {
            continue;
        }
        let mut body = Vec::new();
        loop {
            while let Some(data) = decode(&mut length, &mut buffer)? {
                body.extend_from_slice(&data);
            }
            if length == Length::Done || !more(&mut buffer) {
                break;
            }
        }
        return match length {
            Length::Done | Length::UntilClose => Ok((parts.status.as_u16(), body)),
            _ => Err(OriginError::Closed),
        };
    }
}

impl Body for OriginBody {
    type Data = Bytes;
    type Error = OriginError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, OriginError>>> {
        let this = self.get_mut();
        loop {
            match this.next_data() {
                Ok(Some(data)) => {
                    this.settle();
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Ok(None) => {}
                Err(e) => {
                    this.origin = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            if this.length == Length::Done {
                this.settle();
                return Poll::Ready(None);
            }
            let Some(origin) = this.origin.as_mut() else {
                return Poll::Ready(None);
            };
            origin.buffer.reserve(read_size(this.length));
            // Through AsyncRead, which marks the socket drained after a
            // short read, so `is_usable` need not ask it again.
            let read = ready!(tokio_util::io::poll_read_buf(
                Pin::new(&mut origin.stream),
                cx,
                &mut origin.buffer
            ));
            match read {
                Ok(0) => {
                    this.origin = None;
                    return if this.length == Length::UntilClose {
                        this.length = Length::Done;
                        Poll::Ready(None)
                    } else {
                        Poll::Ready(Some(Err(OriginError::Closed)))
                    };
                }
                Ok(_) => {}
                Err(e) => {
                    this.origin = None;
                    return Poll::Ready(Some(Err(OriginError::Io(e))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.length == Length::Done
    }

    fn size_hint(&self) -> SizeHint {
        match self.length {
            Length::Exact(left) => SizeHint::with_exact(left),
            Length::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

/// Whether an `Authorization` or `WWW-Authenticate` value is NTLM or
/// Negotiate, which sign a person in on the connection itself rather than
/// on each request.
pub fn signs_in_on_connection(value: Option<&HeaderValue>) -> bool {
    value.is_some_and(|v| {
        let v = v.as_bytes();
        let scheme = v.split(|b| *b == b' ').next().unwrap_or(v);
        scheme.eq_ignore_ascii_case(b"ntlm") || scheme.eq_ignore_ascii_case(b"negotiate")
    })
}

fn find_crlf(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|w| w == b"\r\n")
}

/// The size on a chunk-size line, extensions ignored (RFC 9112 §7.1).
fn chunk_size(line: &[u8]) -> Result<u64, OriginError> {
    let digits = line
        .split(|b| *b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(OriginError::Malformed("a chunk size"));
    }
    let mut size = 0u64;
    for d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(OriginError::Malformed("a chunk size")),
        };
        size = size * 16 + u64::from(v);
    }
    Ok(size)
}

/// Takes a whole response head from the front of `buffer`: `None` when
/// more must be read first.
fn take_head(
    buffer: &mut BytesMut,
    method: &Method,
) -> Result<Option<(http::response::Parts, Length)>, OriginError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    match response.parse(buffer) {
        Ok(httparse::Status::Complete(used)) => {
            if used > MAX_HEAD_BYTES {
                return Err(OriginError::Malformed("the head is too large"));
            }
            let parsed = parts(&response, method, &buffer[..used])?;
            buffer.advance(used);
            Ok(Some(parsed))
        }
        Ok(httparse::Status::Partial) if buffer.len() >= MAX_HEAD_BYTES => {
            Err(OriginError::Malformed("the head is too large"))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(OriginError::Malformed("too many headers")),
        Err(_) => Err(OriginError::Malformed("the status line or a header")),
    }
}

/// The first `n` bytes of `buffer`, copied when small (see [`COPY_UP_TO`]).
fn take_out(buffer: &mut BytesMut, n: usize) -> Bytes {
    if n <= COPY_UP_TO {
        let data = Bytes::copy_from_slice(&buffer[..n]);
        buffer.advance(n);
        data
    } else {
        buffer.split_to(n).freeze()
    }
}

/// The head hyper's side answers with, and how the body ends. `head` is the
/// bytes `response` was parsed from: the header values are slices of one
/// copy of them.
fn parts(
    response: &httparse::Response<'_, '_>,
    method: &Method,
    head: &[u8],
) -> Result<(http::response::Parts, Length), OriginError> {
    let code = response
        .code
        .ok_or(OriginError::Malformed("the status line"))?;
    let status =
        StatusCode::from_u16(code).map_err(|_| OriginError::Malformed("the status code"))?;
    let version = match response.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let shared = Bytes::copy_from_slice(head);
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for h in response.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| OriginError::Malformed("a header name"))?;
        // Where the value sits in `head`, and so in `shared`.
        let start = (h.value.as_ptr() as usize).wrapping_sub(head.as_ptr() as usize);
        let value = match shared.get(start..start.wrapping_add(h.value.len())) {
            Some(_) => HeaderValue::from_maybe_shared(shared.slice(start..start + h.value.len())),
            None => HeaderValue::from_bytes(h.value),
        }
        .map_err(|_| OriginError::Malformed("a header value"))?;
        headers.append(name, value);
    }
    let length = body_length(&headers, status, method, version)?;
    if headers.contains_key(header::TRANSFER_ENCODING) {
        // The coding decides the length; a Content-Length beside it is
        // wrong for the body passed on (RFC 9112 §6.3), so it goes.
        headers.remove(header::CONTENT_LENGTH);
    }
    let (mut parts, ()) = http::Response::new(()).into_parts();
    parts.status = status;
    parts.version = version;
    parts.headers = headers;
    Ok((parts, length))
}

/// RFC 9112 §6.3.
fn body_length(
    headers: &HeaderMap,
    status: StatusCode,
    method: &Method,
    version: Version,
) -> Result<Length, OriginError> {
    if *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(Length::Done);
    }
    let mut codings = headers.get_all(header::TRANSFER_ENCODING).iter().peekable();
    if codings.peek().is_some() {
        if version == Version::HTTP_10 {
            return Err(OriginError::Malformed("transfer coding in HTTP/1.0"));
        }
        let last = codings
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|c| !c.is_empty());
        return Ok(match last {
            Some(c) if c.eq_ignore_ascii_case("chunked") => Length::ChunkLine { after_data: false },
            _ => Length::UntilClose,
        });
    }
    let mut length: Option<u64> = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for part in value
            .to_str()
            .map_err(|_| OriginError::Malformed("Content-Length"))?
            .split(',')
        {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(OriginError::Malformed("Content-Length"));
            }
            let n: u64 = part
                .parse()
                .map_err(|_| OriginError::Malformed("Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(OriginError::Malformed(
                    "two different Content-Length values",
                ));
            }
            length = Some(n);
        }
    }
    Ok(match length {
        Some(0) => Length::Done,
        Some(n) => Length::Exact(n),
        None => Length::UntilClose,
    })
}

/// Whether the server keeps the connection open after this answer.
fn keeps_alive(parts: &http::response::Parts) -> bool {
    let tokens = parts
        .headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim);
    let mut close = false;
    let mut keep_alive = false;
    for token in tokens {
        close |= token.eq_ignore_ascii_case("close");
        keep_alive |= token.eq_ignore_ascii_case("keep-alive");
    }
    !close && (parts.version == Version::HTTP_11 || keep_alive)
}

fn write_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    chunked: bool,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Streams the client's request body on, chunked when it came without a
/// length. Trailers are dropped.
async fn send_body(stream: &mut TcpStream, body: &mut Incoming, chunked: bool) -> io::Result<()> {
    use http_body_util::BodyExt;
    let mut framing = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(io::Error::other)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        if chunked {
            framing.clear();
            framing.put_slice(format!("{:x}\r\n", data.len()).as_bytes());
            stream.write_all(&framing).await?;
            stream.write_all(&data).await?;
            stream.write_all(b"\r\n").await?;
        } else {
            stream.write_all(&data).await?;
        }
    }
    if chunked {
        stream.write_all(b"0\r\n\r\n").await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str, method: &Method) -> Result<(http::response::Parts, Length), OriginError> {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut slots);
        match response.parse(text.as_bytes()) {
            Ok(httparse::Status::Complete(used)) => {
                parts(&response, method, &text.as_bytes()[..used])
            }
            other => panic!("not a whole head: {other:?}"),
        }
    }

    #[test]
    fn long_bodies_are_read_in_larger_pieces() {
        assert_eq!(read_size(Length::Exact(100)), READ_SIZE);
        assert_eq!(read_size(Length::Exact(40_000)), 40_000);
        assert_eq!(read_size(Length::Exact(5_000_000)), LARGEST_READ);
        assert_eq!(read_size(Length::InChunk(u64::MAX)), LARGEST_READ);
        assert_eq!(read_size(Length::UntilClose), READ_SIZE);
        assert_eq!(read_size(Length::ChunkLine { after_data: true }), READ_SIZE);
    }

    #[test]
    fn lengths_follow_rfc_9112() {
        let get = Method::GET;
        let length = |t: &str| head(t, &get).map(|(_, l)| l);
        assert_eq!(
            length("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n").expect("ok"),
            Length::Exact(5)
        );
        assert_eq!(
            length("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n").expect("ok"),
            Length::Exact(5)
        );
        assert!(
            length("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").is_err()
        );
        assert!(length("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").is_err());
        assert!(length("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n").is_err());
        assert_eq!(
            length("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").expect("ok"),
            Length::Done
        );
        // Chunked wins over a length, which is not passed on; chunked not
        // last means until close.
        let (parts, _) = head(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            &get,
        )
        .expect("ok");
        assert!(!parts.headers.contains_key(header::CONTENT_LENGTH));
        assert_eq!(
            length(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
            )
            .expect("ok"),
            Length::ChunkLine { after_data: false }
        );
        assert_eq!(
            length("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").expect("ok"),
            Length::UntilClose
        );
        assert_eq!(
            length("HTTP/1.1 200 OK\r\n\r\n").expect("ok"),
            Length::UntilClose
        );
        assert_eq!(
            length("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n").expect("ok"),
            Length::Done
        );
        assert_eq!(
            length("HTTP/1.1 204 No Content\r\n\r\n").expect("ok"),
            Length::Done
        );
        assert_eq!(
            head(
                "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n",
                &Method::HEAD
            )
            .expect("ok")
            .1,
            Length::Done
        );
        assert!(length("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
    }

    #[test]
    fn keep_alive_by_version_and_connection() {
        let get = Method::GET;
        let keeps = |t: &str| keeps_alive(&head(t, &get).expect("ok").0);
        assert!(keeps("HTTP/1.1 200 OK\r\n\r\n"));
        assert!(!keeps("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"));
        assert!(!keeps(
            "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"
        ));
        assert!(!keeps("HTTP/1.0 200 OK\r\n\r\n"));
        assert!(keeps("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n"));
    }

    /// A web server on loopback that answers each request it reads (up to
    /// the empty line) with the next of `answers`, written a few bytes at a
    /// time, then closes when they run out.
    async fn server(answers: Vec<&'static [u8]>) -> (TcpStream, tokio::task::JoinHandle<usize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut requests = 0;
            for answer in answers {
                let mut seen = Vec::new();
                while !seen.ends_with(b"\r\n\r\n") {
                    let mut byte = [0u8; 1];
                    if socket.read(&mut byte).await.expect("read") == 0 {
                        return requests;
                    }
                    seen.push(byte[0]);
                }
                requests += 1;
                for piece in answer.chunks(3) {
                    socket.write_all(piece).await.expect("write");
                    socket.flush().await.expect("flush");
                    tokio::task::yield_now().await;
                }
            }
            requests
        });
        let stream = TcpStream::connect(address).await.expect("connect");
        (stream, task)
    }

    fn home() -> Arc<Home> {
        Arc::new(Home::new(Arc::default()))
    }

    async fn get(origin: Origin, home: &Arc<Home>) -> Result<(u16, Vec<u8>), OriginError> {
        use http_body_util::BodyExt;
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("web.test"));
        let (parts, body) = origin
            .send(
                &Method::GET,
                "/page",
                &headers,
                None,
                home.clone(),
                Duration::from_secs(5),
            )
            .await
            .map_err(|(e, _)| e)?;
        let bytes = body.collect().await?.to_bytes();
        Ok((parts.status.as_u16(), bytes.to_vec()))
    }

    fn kept(home: &Home) -> Option<Origin> {
        home.kept.lock().expect("lock").take("web.test", 80)
    }

    #[tokio::test]
    async fn a_server_that_begins_no_answer_in_time_is_given_up() {
        // The first takes the request and says nothing; the second sends an
        // interim answer and then nothing, which does not restart the clock.
        for silence in [&b""[..], b"HTTP/1.1 100 Continue\r\n\r\n"] {
            let (stream, _server) = server(vec![silence, b""]).await;
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("web.test"));
            let started = std::time::Instant::now();
            let got = Origin::new(stream, "web.test", 80)
                .send(
                    &Method::GET,
                    "/slow",
                    &headers,
                    None,
                    home(),
                    Duration::from_millis(300),
                )
                .await;
            let waited = started.elapsed();
            assert!(
                matches!(got, Err((OriginError::TimedOut, false))),
                "{:?}",
                got.map(|(parts, _)| parts.status)
            );
            assert!(
                (Duration::from_millis(300)..Duration::from_secs(3)).contains(&waited),
                "{waited:?}"
            );
        }
    }

    #[tokio::test]
    async fn chunked_answers_arrive_whole_and_the_connection_is_kept() {
        let (stream, server) = server(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nExpires: never\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone",
            // Never asked for: the server waits for a third request, so the
            // connection stays open.
            b"",
        ])
        .await;
        let home = home();
        let got = get(Origin::new(stream, "web.test", 80), &home)
            .await
            .expect("first");
        assert_eq!(got, (200, b"hello, world".to_vec()));
        // The same connection carries the next request.
        let again = kept(&home).expect("kept after a whole answer");
        let got = get(again, &home).await.expect("second");
        assert_eq!(got, (404, b"gone".to_vec()));
        let last = kept(&home).expect("kept again");
        drop(last);
        assert_eq!(server.await.expect("server"), 2);
    }

    #[tokio::test]
    async fn answers_without_a_length_end_when_the_server_closes() {
        let (stream, _server) = server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it",
        ])
        .await;
        let home = home();
        let got = get(Origin::new(stream, "web.test", 80), &home)
            .await
            .expect("answer");
        assert_eq!(got, (200, b"all of it".to_vec()));
        assert!(kept(&home).is_none(), "a closed connection is not kept");
    }

    #[tokio::test]
    async fn connection_close_is_not_kept_and_a_closed_kept_one_is_not_used() {
        let (stream, first) = server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        ])
        .await;
        let home = home();
        let got = get(Origin::new(stream, "web.test", 80), &home)
            .await
            .expect("answer");
        assert_eq!(got, (200, b"ok".to_vec()));
        assert!(kept(&home).is_none());

        // Kept, then closed by the server while idle.
        let (stream, server2) =
            server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]).await;
        get(Origin::new(stream, "web.test", 80), &home)
            .await
            .expect("answer");
        assert_eq!(server2.await.expect("server"), 1);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(kept(&home).is_none(), "the server closed it");
        drop(first);
    }

    #[tokio::test]
    async fn short_and_broken_answers_are_errors() {
        for (answer, expect) in [
            (
                &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"[..],
                "closed",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                "malformed",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n",
                "malformed",
            ),
            (b"SMTP ready\r\n\r\n", "malformed"),
            (b"HTTP/1.1 200 OK\r\nContent-Le", "closed"),
        ] {
            let (stream, _server) = server(vec![answer]).await;
            let home = home();
            let got = get(Origin::new(stream, "web.test", 80), &home).await;
            let kind = match &got {
                Err(OriginError::Closed) => "closed",
                Err(OriginError::Malformed(_)) => "malformed",
                other => panic!("{answer:?}: {other:?}"),
            };
            assert_eq!(kind, expect, "{answer:?}: {got:?}");
            assert!(kept(&home).is_none());
        }
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a").expect("ok"), 26);
        assert_eq!(chunk_size(b"FF;name=value").expect("ok"), 255);
        assert_eq!(chunk_size(b"0").expect("ok"), 0);
        assert!(chunk_size(b"").is_err());
        assert!(chunk_size(b"xyz").is_err());
        assert!(chunk_size(b"1234567890123456").is_err());
    }
}
