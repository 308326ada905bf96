//! Canonical hosts and URLs.
//!
//! Canonicalisation is a security boundary: every spelling of one address must
//! come out as the same text, so that a list entry for `bad.example` catches
//! every way of writing it. It is also on the hot path, so the common case (an
//! ASCII URL) is handled in one pass into a reused buffer with no allocation;
//! only hosts with non-ASCII text (or percent-escapes) take slower paths.
//!
//! The canonical form of a URL is the *key* `host[:port]/path[?query]`
//! ([`CanonUrl::as_key`]). The scheme is kept beside it ([`CanonUrl::scheme`])
//! but is not part of the key. Re-parsing a key always gives the same key.
//!
//! # Rules
//!
//! Where the WHATWG URL Standard speaks for special schemes we follow it,
//! because that is what browsers send; where it is silent we choose the
//! reading that blocks more.
//!
//! * **Input.** At most [`MAX_INPUT_LEN`] bytes. Leading and trailing spaces
//!   and C0 control characters are trimmed; tabs, line feeds and carriage
//!   returns anywhere inside are removed (WHATWG). A fragment (`#...`) is
//!   dropped.
//! * **Scheme.** `http`, `https`, `ws`, `wss` and `ftp`, in any case, or none
//!   at all (`example.com/path` as in UT1 URL lists, `host:443` as in a
//!   CONNECT request, `//example.com/` as a scheme-relative reference). Any
//!   number of `/` or `\` may follow `scheme:` (`http:\\example.com`). Other
//!   schemes are refused. A known scheme name followed by `:` and digits only
//!   (`http:8080`) is read as a host and port, not a scheme, so that the key
//!   of a host called `http` re-parses to itself; with anything else after
//!   the `:` it is a scheme (`http:/` has no host). Without a scheme, text
//!   before the first `:` is a host when a port or userinfo follows
//!   (`host:443`, `user:pw@host`); otherwise it is an unsupported scheme
//!   (`javascript:...`, `mailto:...` without an `@`).
//! * **Case.** The whole canonical form is lower case, path, query and
//!   percent-escape hex digits (`%2f`) included. Servers may treat `/A` and
//!   `/a` differently, but matching without regard to case only ever blocks
//!   more, never less.
//! * **Backslash.** `\` is treated as `/` in the authority and the path
//!   (WHATWG special schemes): `http://bad.example\@good.example/` has the
//!   host `bad.example`. In the query it is an ordinary character.
//! * **Userinfo** (`user:password@`) is dropped; the host follows the *last*
//!   `@` of the authority, so `http://good.example@bad.example/` has the host
//!   `bad.example`. This holds without a scheme too (`user:pw@host`).
//! * **Host.** Percent-escapes are decoded first (`%62ad.example` is
//!   `bad.example`). A host with non-ASCII text then goes through IDNA
//!   (UTS #46, non-transitional) to punycode, so `bücher.example` and
//!   `xn--bcher-kva.example` are one host and full-width dots (U+3002 and
//!   friends) separate labels. ASCII hosts are lower-cased (`XN--` included)
//!   without IDNA: DNS compares ASCII labels without regard to case, so that
//!   is already the DNS notion of sameness (and a malformed `xn--` label is
//!   kept as it is, since DNS would look it up as it is). A host that IDNA
//!   refuses is an error that names the character at fault where one can be
//!   singled out. One trailing dot is removed
//!   (`example.com.` is `example.com`); empty labels are errors
//!   (`example.com..`, `.example.com`, `a..b`). Labels are at most 63 bytes
//!   and the name at most 253. Only letters, digits, `-` and `_` (common in
//!   real lists) are allowed; any other character is an error that names it.
//! * **IPv4.** When the last label is a number (decimal digits, or `0x`
//!   followed by hex digits), the host must be an IPv4 address in the WHATWG
//!   sense: each part decimal, `0x` hex or leading-`0` octal, with the short
//!   forms `a.b.c`, `a.b` and `a` whose last part fills the remaining bytes
//!   (`0x7f.1`, `2130706433`, `017700000001`, `192.168.257`). It is written
//!   as a dotted quad. A part out of range, or a number-like label that is not
//!   a valid number (`1.2.3.09`), is an error.
//! * **IPv6.** A literal in brackets is parsed with [`std::net::Ipv6Addr`] and
//!   written compressed in brackets (`[2001:db8::1]`). Zone identifiers
//!   (`%eth0`) are refused. An IPv4-mapped address (`[::ffff:192.168.1.1]`)
//!   reaches the same host as the IPv4 address, so it is written as that
//!   dotted quad, with [`HostKind::Ipv4`].
//! * **Port.** Decimal, 1 to 65535; an empty port (`host:`) is ignored. The
//!   port is dropped when it is the scheme's default (21 for ftp) and, whatever
//!   the scheme, when it is 80 or 443: the key carries no scheme and a key
//!   without a scheme drops both, so keeping them would make a key re-parse
//!   differently. Port 0, or a port that is not a number, is an error.
//! * **Path.** Always starts with `/`. Repeated slashes are collapsed
//!   (`//a///b` is `/a/b`). Dot segments are removed as RFC 3986 §5.2.4 says,
//!   percent-encoded ones too (`%2e`, `%2E%2e`), never climbing above the
//!   root. An escape is decoded whenever the byte would be copied as it is
//!   anyway (`%41` is `a`, `%7c` is `|`), so escaping cannot dodge an entry;
//!   escapes of separators and of bytes that must be escaped are kept with
//!   lower-case hex, so `%2f` stays `%2f` and never becomes a separator.
//!   Space, controls, non-ASCII bytes and `"`, `<`, `>`, `` ` ``, `{`, `}` are
//!   percent-encoded. A `%` not followed by two hex digits is written `%25`.
//! * **Query.** Kept after `?`, with the same escape normalisation as the
//!   path but no slash or dot handling, except that escaped `&`, `=`, `+` and
//!   `;` stay escaped, as they mean something else there. An empty query (`?`
//!   at the end) is no query.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The longest input, in bytes, that [`CanonUrl::parse`] and
/// [`canonical_host`] accept. Real URLs are far shorter; the limit bounds the
/// work an attacker can ask of the hot path.
pub const MAX_INPUT_LEN: usize = 8 * 1024;

/// DNS limits (RFC 1035 §2.3.4, less the root label's length octets).
const MAX_LABEL_LEN: usize = 63;
const MAX_HOST_LEN: usize = 253;

/// How a host was written once canonical.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HostKind {
    /// A DNS name in lower-case ASCII (punycode for international names).
    #[default]
    Domain,
    /// An IPv4 address in dotted-quad form.
    Ipv4,
    /// An IPv6 address in brackets, compressed form.
    Ipv6,
}

/// The scheme a URL was given with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// No scheme was given (a list entry, or a CONNECT authority).
    #[default]
    None,
    Http,
    Https,
    /// WebSocket: it starts as an HTTP request, so it is filtered like one.
    Ws,
    /// WebSocket over TLS.
    Wss,
    /// Still a special scheme in WHATWG, and still found in old lists.
    Ftp,
}

impl Scheme {
    /// The port this scheme uses when none is given, if it has one.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Scheme::None => None,
            Scheme::Http | Scheme::Ws => Some(80),
            Scheme::Https | Scheme::Wss => Some(443),
            Scheme::Ftp => Some(21),
        }
    }

    /// The scheme's name in lower case, or `""` for [`Scheme::None`].
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::None => "",
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
            Scheme::Ftp => "ftp",
        }
    }

    fn from_name(name: &str) -> Option<Scheme> {
        [
            Scheme::Http,
            Scheme::Https,
            Scheme::Ws,
            Scheme::Wss,
            Scheme::Ftp,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether `port` is left out of the key. 80 and 443 always are: see the
    /// module documentation on ports.
    fn drops_port(self, port: u16) -> bool {
        port == 80 || port == 443 || self.default_port() == Some(port)
    }
}

/// Why a host or URL could not be canonicalised.
///
/// Texts quoted in these errors are shortened and have control characters
/// escaped, so the message is safe to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CanonError {
    /// Nothing is left once white space is trimmed.
    Empty,
    /// The input is longer than [`MAX_INPUT_LEN`] bytes.
    TooLong { len: usize },
    /// The scheme is not one we filter.
    UnsupportedScheme { scheme: String },
    /// There is a scheme or a port but no host.
    NoHost,
    /// The host contains a character no host name may contain.
    ForbiddenHostChar { host: String, found: String },
    /// The host has an empty label.
    EmptyLabel { host: String },
    /// A label of the host is longer than 63 bytes.
    LabelTooLong { host: String, len: usize },
    /// The host is longer than 253 bytes.
    HostTooLong { host: String, len: usize },
    /// The host's percent-escapes decode to bytes that are not UTF-8.
    HostNotUtf8 { host: String },
    /// IDNA (UTS #46) refused the international host name; `found` names
    /// the character at fault when one alone is to blame.
    InvalidIdn { host: String, found: Option<String> },
    /// The host ends in a number but is not a valid IPv4 address.
    InvalidIpv4 { host: String },
    /// The host is an IPv4 address with a part out of range.
    Ipv4OutOfRange { host: String },
    /// The bracketed IPv6 address is not valid.
    InvalidIpv6 { host: String },
    /// The IPv6 address has a zone identifier (`%eth0`).
    Ipv6ZoneId { host: String },
    /// The port is not a decimal number.
    PortNotNumber { port: String },
    /// The port is 0 or above 65535.
    PortOutOfRange { port: String },
    /// [`canonical_host`] was given a `host:port`.
    PortNotAccepted { input: String },
}

impl fmt::Display for CanonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanonError::Empty => f.write_str("the address is empty"),
            CanonError::TooLong { len } => write!(
                f,
                "the address is {len} bytes long, more than the limit of {MAX_INPUT_LEN} bytes"
            ),
            CanonError::UnsupportedScheme { scheme } => write!(
                f,
                "the scheme '{scheme}' is not supported: only http, https, ws, wss and ftp addresses can be filtered"
            ),
            CanonError::NoHost => f.write_str("the address has no host name"),
            CanonError::ForbiddenHostChar { host, found } => write!(
                f,
                "the host '{host}' contains {found}, which is not allowed in a host name"
            ),
            CanonError::EmptyLabel { host } => write!(
                f,
                "the host '{host}' has an empty label (two dots together, or a dot at the start, or more than one at the end)"
            ),
            CanonError::LabelTooLong { host, len } => write!(
                f,
                "the host '{host}' has a label {len} bytes long, but a label may be at most {MAX_LABEL_LEN} bytes"
            ),
            CanonError::HostTooLong { host, len } => write!(
                f,
                "the host '{host}' is {len} bytes long, but a host name may be at most {MAX_HOST_LEN} bytes"
            ),
            CanonError::HostNotUtf8 { host } => write!(
                f,
                "the host '{host}' has percent-escapes that do not decode to valid UTF-8 text"
            ),
            CanonError::InvalidIdn {
                host,
                found: Some(found),
            } => write!(
                f,
                "the host '{host}' contains {found}, which is not allowed in a host name"
            ),
            CanonError::InvalidIdn { host, found: None } => write!(
                f,
                "the host '{host}' is not a valid international domain name (IDNA)"
            ),
            CanonError::InvalidIpv4 { host } => write!(
                f,
                "the host '{host}' ends in a number, so it must be an IPv4 address, but it is not a valid one"
            ),
            CanonError::Ipv4OutOfRange { host } => write!(
                f,
                "the IPv4 address '{host}' has a part that is out of range"
            ),
            CanonError::InvalidIpv6 { host } => {
                write!(f, "the IPv6 address '{host}' is not valid")
            }
            CanonError::Ipv6ZoneId { host } => write!(
                f,
                "the IPv6 address '{host}' has a zone identifier (after '%'), which is not accepted"
            ),
            CanonError::PortNotNumber { port } => {
                write!(f, "the port '{port}' is not a number")
            }
            CanonError::PortOutOfRange { port } => {
                write!(f, "the port '{port}' is out of range (1 to 65535)")
            }
            CanonError::PortNotAccepted { input } => write!(
                f,
                "'{input}' has a port (or a colon); give the host name alone, without ':port'"
            ),
        }
    }
}

impl std::error::Error for CanonError {}

/// A canonical URL, kept as one buffer `host[:port]/path[?query]`, all lower case.
///
/// Parse into an existing value with [`CanonUrl::parse_into`] to reuse its
/// buffer: once it has grown, parsing an ASCII URL allocates nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CanonUrl {
    buf: String,
    host_end: usize,
    path_start: usize,
    query_start: Option<usize>,
    port: Option<u16>,
    scheme: Scheme,
    host_kind: HostKind,
}

/// Where the parts of a canonical URL lie in its buffer.
struct Layout {
    host_end: usize,
    path_start: usize,
    query_start: Option<usize>,
    port: Option<u16>,
    scheme: Scheme,
    host_kind: HostKind,
}

impl CanonUrl {
    /// Canonicalises `input`; see the module documentation for the rules.
    pub fn parse(input: &str) -> Result<CanonUrl, CanonError> {
        let mut url = CanonUrl::default();
        url.parse_into(input)?;
        Ok(url)
    }

    /// Canonicalises `input` into `self`, reusing its buffer. On error `self`
    /// is left empty (as [`CanonUrl::default`], but keeping its buffer).
    pub fn parse_into(&mut self, input: &str) -> Result<(), CanonError> {
        let mut out = std::mem::take(&mut self.buf).into_bytes();
        out.clear();
        match canonicalise_url(input, &mut out) {
            Ok(layout) => {
                self.buf = ascii_into_string(out);
                self.host_end = layout.host_end;
                self.path_start = layout.path_start;
                self.query_start = layout.query_start;
                self.port = layout.port;
                self.scheme = layout.scheme;
                self.host_kind = layout.host_kind;
                Ok(())
            }
            Err(e) => {
                out.clear();
                self.buf = ascii_into_string(out);
                self.host_end = 0;
                self.path_start = 0;
                self.query_start = None;
                self.port = None;
                self.scheme = Scheme::None;
                self.host_kind = HostKind::Domain;
                Err(e)
            }
        }
    }

    /// The canonical host: a lower-case domain, a dotted quad, or `[ipv6]`.
    pub fn host(&self) -> &str {
        self.buf.get(..self.host_end).unwrap_or("")
    }

    pub fn host_kind(&self) -> HostKind {
        self.host_kind
    }

    /// The port, or `None` when none was given or it was dropped (see the
    /// module documentation: the scheme's default, 80 and 443).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The canonical path; it always starts with `/`.
    pub fn path(&self) -> &str {
        let end = self.query_start.map_or(self.buf.len(), |q| q - 1);
        // Only an empty (default or failed) value has no path.
        match self.buf.get(self.path_start..end) {
            Some(path) if !path.is_empty() => path,
            _ => "/",
        }
    }

    /// The canonical query without its `?`, or `None` when it is absent or
    /// empty.
    pub fn query(&self) -> Option<&str> {
        self.query_start.and_then(|q| self.buf.get(q..))
    }

    /// The canonical key `host[:port]/path[?query]`.
    pub fn as_key(&self) -> &str {
        &self.buf
    }

    /// The key without its query: `host[:port]/path`.
    pub fn without_query(&self) -> &str {
        let end = self.query_start.map_or(self.buf.len(), |q| q - 1);
        self.buf.get(..end).unwrap_or("")
    }
}

/// Canonicalises a host alone: a domain-list line, a hosts-file name, an SNI
/// name. The rules are those for the host of a URL (see the module
/// documentation), so `canonical_host(h)` equals `CanonUrl::parse(h).host()`.
///
/// There must be no scheme, path or userinfo, and a trailing `:port` is *not*
/// accepted: a list entry names a host, not a service. IP literals are
/// accepted and canonicalised: IPv4 in any WHATWG spelling, IPv6 with or
/// without brackets (written back with brackets).
pub fn canonical_host(input: &str) -> Result<String, CanonError> {
    let mut out = String::new();
    canonical_host_into(input, &mut out)?;
    Ok(out)
}

/// As [`canonical_host`], writing into `out` (replacing what it held) to save
/// an allocation per line when loading large lists. On error `out` is empty.
pub fn canonical_host_into(input: &str, out: &mut String) -> Result<HostKind, CanonError> {
    let mut bytes = std::mem::take(out).into_bytes();
    bytes.clear();
    let result = prepare(input).and_then(|s| canonicalise_lone_host(&s, &mut bytes));
    if result.is_err() {
        bytes.clear();
    }
    *out = ascii_into_string(bytes);
    result
}

/// We only ever write ASCII, so the conversion cannot fail; the fallback
/// merely avoids a panic path.
fn ascii_into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Applies the length limit, trims, and removes tabs and newlines (WHATWG).
fn prepare(input: &str) -> Result<Cow<'_, str>, CanonError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(CanonError::TooLong { len: input.len() });
    }
    // Spaces and C0 controls are ASCII, so cutting beside them keeps whole
    // characters.
    let b = input.as_bytes();
    let start = b.iter().position(|&c| c > b' ').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c > b' ').map_or(start, |i| i + 1);
    let trimmed = input.get(start..end).unwrap_or("");
    if trimmed.is_empty() {
        return Err(CanonError::Empty);
    }
    // No early exit, so that the compiler can test many bytes at once.
    let has_tab_or_newline = trimmed
        .bytes()
        .fold(false, |found, c| found | matches!(c, b'\t' | b'\n' | b'\r'));
    if has_tab_or_newline {
        Ok(Cow::Owned(trimmed.replace(['\t', '\n', '\r'], "")))
    } else {
        Ok(Cow::Borrowed(trimmed))
    }
}

fn canonicalise_lone_host(s: &str, out: &mut Vec<u8>) -> Result<HostKind, CanonError> {
    if s.starts_with('[') {
        if s.ends_with(']') {
            return write_host(s, out);
        }
        if s.contains("]:") {
            return Err(CanonError::PortNotAccepted { input: excerpt(s) });
        }
        return Err(CanonError::InvalidIpv6 { host: excerpt(s) });
    }
    if s.contains(':') {
        // A bare IPv6 address (as in hosts files) is welcome; anything else
        // with a colon is a host and port.
        return match s.parse::<Ipv6Addr>() {
            Ok(addr) => Ok(write_ipv6(addr, out)),
            Err(_)
                if s.contains('%')
                    && s.split('%')
                        .next()
                        .is_some_and(|a| a.parse::<Ipv6Addr>().is_ok()) =>
            {
                Err(CanonError::Ipv6ZoneId { host: excerpt(s) })
            }
            Err(_) => Err(CanonError::PortNotAccepted { input: excerpt(s) }),
        };
    }
    write_host(s, out)
}

fn canonicalise_url(input: &str, out: &mut Vec<u8>) -> Result<Layout, CanonError> {
    let prepared = prepare(input)?;
    let (scheme, rest) = split_scheme(&prepared)?;
    let b = rest.as_bytes();

    // One pass over the authority. It ends at '/', '\', '?' or '#' (so a
    // fragment cannot hide a host), and the host follows its last '@':
    // everything before that is userinfo.
    let mut host_start = 0;
    let mut colon = None;
    let mut authority_end = b.len();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'/' | b'\\' | b'?' | b'#' => {
                authority_end = i;
                break;
            }
            b'@' => {
                host_start = i + 1;
                colon = None;
            }
            b':' if colon.is_none() => colon = Some(i),
            _ => {}
        }
    }
    let (host, port_text) = match colon {
        _ if b.get(host_start) == Some(&b'[') => {
            split_bracketed(rest.get(host_start..authority_end).unwrap_or(""))?
        }
        Some(c) => (
            rest.get(host_start..c).unwrap_or(""),
            rest.get(c + 1..authority_end),
        ),
        None => (rest.get(host_start..authority_end).unwrap_or(""), None),
    };

    let port = parse_port(port_text)?.filter(|&p| !scheme.drops_port(p));
    let host_kind = write_host(host, out)?;
    let host_end = out.len();
    if let Some(p) = port {
        out.push(b':');
        write_decimal(out, u32::from(p));
    }

    let path_start = out.len();
    let after = b.get(authority_end..).unwrap_or_default();
    let path_end = write_path(after, out);
    let query_start = match after.get(path_end) {
        Some(b'?') => {
            out.push(b'?');
            let start = out.len();
            copy_escaped(after, path_end + 1, out, &QUERY_CLASS);
            if out.len() == start {
                // An empty query is no query.
                out.pop();
                None
            } else {
                Some(start)
            }
        }
        // The end, or a fragment, which never reaches the server.
        _ => None,
    };
    // The host is already lower case; this covers the path, the query and the
    // letters that escapes decoded to.
    if let Some(tail) = out.get_mut(path_start..) {
        tail.make_ascii_lowercase();
    }
    Ok(Layout {
        host_end,
        path_start,
        query_start,
        port,
        scheme,
        host_kind,
    })
}

/// Separates a leading scheme, returning the rest with the slashes after
/// `scheme:` removed.
fn split_scheme(s: &str) -> Result<(Scheme, &str), CanonError> {
    let b = s.as_bytes();
    // A scheme name is a letter followed by letters, digits, '+', '-', '.'.
    let name_len = if b.first().is_some_and(u8::is_ascii_alphabetic) {
        1 + b
            .iter()
            .skip(1)
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
            .count()
    } else {
        0
    };
    let name = s.get(..name_len).filter(|n| !n.is_empty());
    let after = s.get(name_len..).and_then(|a| a.strip_prefix(':'));
    let (Some(name), Some(after)) = (name, after) else {
        // A scheme-relative `//host/path`; a lone `/path` has no host.
        let relative = b.get(..2).is_some_and(|p| p.iter().all(|&c| is_slash(c)));
        return Ok((
            Scheme::None,
            if relative {
                s.get(2..).unwrap_or("")
            } else {
                s
            },
        ));
    };
    let slashes = after
        .as_bytes()
        .get(..2)
        .is_some_and(|p| p.iter().all(|&c| is_slash(c)));
    if slashes {
        return match Scheme::from_name(name) {
            Some(scheme) => Ok((scheme, skip_slashes(after))),
            None => Err(CanonError::UnsupportedScheme {
                scheme: excerpt(name),
            }),
        };
    }
    let authority_len = after
        .bytes()
        .position(|c| matches!(c, b'/' | b'\\' | b'?' | b'#'))
        .unwrap_or(after.len());
    let authority = after.get(..authority_len).unwrap_or("");
    let all_digits = authority.bytes().all(|c| c.is_ascii_digit());
    match Scheme::from_name(name) {
        // `http:8080` is the host `http` and a port: see the module docs.
        Some(_) if !authority.is_empty() && all_digits => Ok((Scheme::None, s)),
        Some(scheme) => Ok((scheme, skip_slashes(after))),
        // `host:port` and `user:password@host` without a scheme.
        None if all_digits || authority.contains('@') => Ok((Scheme::None, s)),
        None => Err(CanonError::UnsupportedScheme {
            scheme: excerpt(name),
        }),
    }
}

fn is_slash(c: u8) -> bool {
    c == b'/' || c == b'\\'
}

fn skip_slashes(s: &str) -> &str {
    s.trim_start_matches(['/', '\\'])
}

/// Splits `[ipv6][:port]`, whose address has colons of its own.
fn split_bracketed(hp: &str) -> Result<(&str, Option<&str>), CanonError> {
    let bad = || CanonError::InvalidIpv6 { host: excerpt(hp) };
    let close = hp.find(']').ok_or_else(bad)?;
    let (host, rest) = hp.split_at(close + 1);
    match rest.strip_prefix(':') {
        Some(port) => Ok((host, Some(port))),
        None if rest.is_empty() => Ok((host, None)),
        None => Err(bad()),
    }
}

/// Parses a port; an empty one (`host:`) counts as none.
fn parse_port(text: Option<&str>) -> Result<Option<u16>, CanonError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err(CanonError::PortNotNumber {
            port: excerpt(text),
        });
    }
    // Saturate rather than overflow on absurdly long digit strings.
    let value = text.bytes().fold(0u32, |acc, c| {
        acc.saturating_mul(10).saturating_add(u32::from(c - b'0'))
    });
    match u16::try_from(value) {
        Ok(p) if p != 0 => Ok(Some(p)),
        _ => Err(CanonError::PortOutOfRange {
            port: excerpt(text),
        }),
    }
}

// ----------------------------------------------------------------------------
// Hosts

/// Writes the canonical form of `host` (which may be bracketed IPv6) to `out`.
fn write_host(host: &str, out: &mut Vec<u8>) -> Result<HostKind, CanonError> {
    if host.is_empty() {
        return Err(CanonError::NoHost);
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| CanonError::InvalidIpv6 {
                host: excerpt(host),
            })?;
        if inner.contains('%') {
            return Err(CanonError::Ipv6ZoneId {
                host: excerpt(host),
            });
        }
        let addr = inner
            .parse::<Ipv6Addr>()
            .map_err(|_| CanonError::InvalidIpv6 {
                host: excerpt(host),
            })?;
        return Ok(write_ipv6(addr, out));
    }

    let h = strip_root_dot(host.as_bytes());
    let scan = scan_host(h, host)?;
    if !scan.escaped && !scan.non_ascii {
        return write_plain_host(h, &scan, host, out);
    }

    // Slow paths: percent-escapes, then international names.
    let decoded: Cow<'_, [u8]> = if scan.escaped {
        Cow::Owned(percent_decode(host.as_bytes()))
    } else {
        Cow::Borrowed(host.as_bytes())
    };
    let ascii: Cow<'_, [u8]> = if decoded.is_ascii() {
        decoded
    } else {
        if std::str::from_utf8(&decoded).is_err() {
            return Err(CanonError::HostNotUtf8 {
                host: excerpt(host),
            });
        }
        // No deny list: ASCII passes through UTS #46 unchanged but for case,
        // and the result is checked below, which also catches characters
        // that are mapped to forbidden ASCII (a full-width '/', say).
        let mapped =
            idna::domain_to_ascii_cow(&decoded, idna::AsciiDenyList::EMPTY).map_err(|_| {
                CanonError::InvalidIdn {
                    host: excerpt(host),
                    found: idna_culprit(&decoded),
                }
            })?;
        Cow::Owned(mapped.into_owned().into_bytes())
    };
    let h = strip_root_dot(&ascii);
    let scan = scan_host(h, host)?;
    if scan.escaped {
        // A '%' that was not an escape, or an escaped '%'.
        return Err(forbidden(host, b'%'));
    }
    if scan.non_ascii {
        // IDNA output is ASCII; this only guards against a surprise.
        return Err(CanonError::InvalidIdn {
            host: excerpt(host),
            found: None,
        });
    }
    write_plain_host(h, &scan, host, out)
}

/// Finds a character that IDNA refuses wherever it stands, to name it in the
/// error. Characters refused only in context (a combining mark at the start
/// of a label, right-to-left letters beside left-to-right ones) are not
/// blamed: then the error stays general.
fn idna_culprit(host: &[u8]) -> Option<String> {
    let refused = |text: &str| {
        idna::domain_to_ascii_cow(text.as_bytes(), idna::AsciiDenyList::EMPTY).is_err()
    };
    let text = std::str::from_utf8(host).ok()?;
    // Only the first few characters are tried, so that a long hostile host
    // cannot make the error path much dearer than success.
    text.chars()
        .filter(|c| !c.is_ascii())
        .take(16)
        .find(|&c| refused(c.encode_utf8(&mut [0u8; 4])) && refused(&format!("a{c}")))
        .map(|c| {
            if c.is_control() || c.is_whitespace() {
                format!("the character U+{:04X}", u32::from(c))
            } else {
                format!("'{c}' (U+{:04X})", u32::from(c))
            }
        })
}

/// One trailing dot names the DNS root; it is not part of the host.
fn strip_root_dot(h: &[u8]) -> &[u8] {
    h.strip_suffix(b".").unwrap_or(h)
}

/// What one pass over a host found.
struct HostScan {
    escaped: bool,
    non_ascii: bool,
    empty_label: bool,
    longest_label: usize,
    last_label_start: usize,
}

const H_PLAIN: u8 = 0;
const H_DOT: u8 = 1;
const H_PERCENT: u8 = 2;
const H_NON_ASCII: u8 = 3;
const H_FORBIDDEN: u8 = 4;

/// Letters, digits, '-' and '_' are plain; '.' separates labels.
static HOST_CLASS: [u8; 256] = {
    let mut t = [H_FORBIDDEN; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            H_PLAIN
        } else if c == b'.' {
            H_DOT
        } else if c == b'%' {
            H_PERCENT
        } else if c >= 0x80 {
            H_NON_ASCII
        } else {
            H_FORBIDDEN
        };
        b += 1;
    }
    t
};

/// Checks every byte of a host (naming the first forbidden one) and measures
/// its labels, in one pass.
fn scan_host(h: &[u8], original: &str) -> Result<HostScan, CanonError> {
    let mut scan = HostScan {
        escaped: false,
        non_ascii: false,
        empty_label: false,
        longest_label: 0,
        last_label_start: 0,
    };
    let mut label_start = 0;
    for (i, &b) in h.iter().enumerate() {
        match HOST_CLASS[usize::from(b)] {
            H_PLAIN => {}
            H_DOT => {
                let len = i - label_start;
                scan.empty_label |= len == 0;
                scan.longest_label = scan.longest_label.max(len);
                label_start = i + 1;
            }
            H_PERCENT => scan.escaped = true,
            H_NON_ASCII => scan.non_ascii = true,
            _ => return Err(forbidden(original, b)),
        }
    }
    let len = h.len() - label_start;
    scan.empty_label |= len == 0;
    scan.longest_label = scan.longest_label.max(len);
    scan.last_label_start = label_start;
    Ok(scan)
}

/// Writes a scanned host of plain ASCII (its root dot already removed): an
/// IPv4 address or a domain. `original` is the host as given, for errors.
fn write_plain_host(
    h: &[u8],
    scan: &HostScan,
    original: &str,
    out: &mut Vec<u8>,
) -> Result<HostKind, CanonError> {
    let last_label = h.get(scan.last_label_start..).unwrap_or_default();
    if ends_in_number(last_label) {
        let addr = parse_ipv4(h, original)?;
        write_ipv4(addr, out);
        return Ok(HostKind::Ipv4);
    }
    if scan.empty_label {
        return Err(CanonError::EmptyLabel {
            host: excerpt(original),
        });
    }
    if scan.longest_label > MAX_LABEL_LEN {
        return Err(CanonError::LabelTooLong {
            host: excerpt(original),
            len: scan.longest_label,
        });
    }
    if h.len() > MAX_HOST_LEN {
        return Err(CanonError::HostTooLong {
            host: excerpt(original),
            len: h.len(),
        });
    }
    let start = out.len();
    out.extend_from_slice(h);
    if let Some(written) = out.get_mut(start..) {
        written.make_ascii_lowercase();
    }
    Ok(HostKind::Domain)
}

fn forbidden(host: &str, b: u8) -> CanonError {
    let found = match b {
        b' ' => "a space".to_owned(),
        0x00..=0x1f | 0x7f => format!("the control character U+{b:04X}"),
        0x80.. => format!("the byte 0x{b:02X}"),
        _ => format!("'{}'", char::from(b)),
    };
    CanonError::ForbiddenHostChar {
        host: excerpt(host),
        found,
    }
}

/// WHATWG percent-decode: a '%' not followed by two hex digits stays as it is.
fn percent_decode(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut rest = b;
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%'
            && let [h, l, after @ ..] = tail
            && let (Some(h), Some(l)) = (hex_value(*h), hex_value(*l))
        {
            out.push(h << 4 | l);
            rest = after;
            continue;
        }
        out.push(first);
        rest = tail;
    }
    out
}

/// WHATWG "ends in a number": the last label is decimal digits, or `0x`
/// followed by hex digits (possibly none).
fn ends_in_number(label: &[u8]) -> bool {
    if label.is_empty() {
        return false;
    }
    if label.iter().all(u8::is_ascii_digit) {
        return true;
    }
    match label {
        [b'0', b'x' | b'X', hex @ ..] => hex.iter().all(u8::is_ascii_hexdigit),
        _ => false,
    }
}

/// The WHATWG IPv4 parser, for a host whose trailing dot is already gone.
fn parse_ipv4(h: &[u8], original: &str) -> Result<Ipv4Addr, CanonError> {
    let invalid = || CanonError::InvalidIpv4 {
        host: excerpt(original),
    };
    let mut parts = [0u64; 4];
    let mut count = 0;
    for part in h.split(|&b| b == b'.') {
        let slot = parts.get_mut(count).ok_or_else(invalid)?;
        *slot = ipv4_number(part).ok_or_else(invalid)?;
        count += 1;
    }
    let (last, leading) = match parts.get(..count).and_then(<[u64]>::split_last) {
        Some(split) => split,
        None => return Err(invalid()),
    };
    let out_of_range = || CanonError::Ipv4OutOfRange {
        host: excerpt(original),
    };
    if leading.iter().any(|&p| p > 255) {
        return Err(out_of_range());
    }
    // The last part fills the bytes the others left: 1 to 4 of them.
    let last_bits = 8 * (5 - count as u32);
    if *last >= 1u64 << last_bits {
        return Err(out_of_range());
    }
    let mut addr = *last;
    for (i, &p) in leading.iter().enumerate() {
        addr |= p << (8 * (3 - i as u32));
    }
    u32::try_from(addr)
        .map(Ipv4Addr::from)
        .map_err(|_| out_of_range())
}

/// One part of an IPv4 address: `0x` hex, leading-`0` octal or decimal.
/// Values saturate so that huge parts are "out of range", not overflows.
fn ipv4_number(part: &[u8]) -> Option<u64> {
    let (radix, digits) = match part {
        [] => return None,
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', rest @ ..] if !rest.is_empty() => (8, rest),
        _ => (10, part),
    };
    digits.iter().try_fold(0u64, |acc, &d| {
        let v = char::from(d).to_digit(radix)?;
        Some(
            acc.saturating_mul(u64::from(radix))
                .saturating_add(u64::from(v)),
        )
    })
}

fn write_ipv4(addr: Ipv4Addr, out: &mut Vec<u8>) {
    for (i, octet) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        write_decimal(out, u32::from(octet));
    }
}

/// Writes an IPv6 address, or its IPv4 address when it is IPv4-mapped.
fn write_ipv6(addr: Ipv6Addr, out: &mut Vec<u8>) -> HostKind {
    if let Some(v4) = addr.to_ipv4_mapped() {
        write_ipv4(v4, out);
        return HostKind::Ipv4;
    }
    // Writing to a Vec cannot fail.
    let _ = write!(out, "[{addr}]");
    HostKind::Ipv6
}

fn write_decimal(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

// ----------------------------------------------------------------------------
// Paths and queries

/// What to do with a byte of a path or query.
const COPY: u8 = 0;
const PERCENT: u8 = 1;
/// Written as `%xx`.
const ENCODE: u8 = 2;
/// Ends a path segment (`/`, `\`, `?`, `#`) or the query (`#`).
const STOP: u8 = 3;

const fn byte_classes(in_path: bool) -> [u8; 256] {
    let mut t = [ENCODE; 256];
    let mut b = 0x21;
    while b < 0x7f {
        t[b] = match b as u8 {
            b'"' | b'<' | b'>' | b'`' | b'{' | b'}' => ENCODE,
            b'%' => PERCENT,
            b'#' => STOP,
            b'/' | b'\\' | b'?' if in_path => STOP,
            _ => COPY,
        };
        b += 1;
    }
    t
}

static PATH_CLASS: [u8; 256] = byte_classes(true);
static QUERY_CLASS: [u8; 256] = byte_classes(false);

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Writes `/path` with separators collapsed and dot segments removed. `p`
/// is what follows the authority: empty, or starting with `/`, `\`, `?` or
/// `#`. Returns where the path ends in `p` (at `?`, `#` or the end).
fn write_path(p: &[u8], out: &mut Vec<u8>) -> usize {
    let root = out.len();
    out.push(b'/');
    let mut i = 0;
    // Invariant at the top of the loop: `out` ends with '/'.
    loop {
        while p.get(i).is_some_and(|&b| is_slash(b)) {
            i += 1;
        }
        if !p.get(i).is_some_and(|&b| b != b'?' && b != b'#') {
            return i;
        }
        let seg_start = out.len();
        i = copy_escaped(p, i, out, &PATH_CLASS);
        let more = p.get(i).is_some_and(|&b| is_slash(b));
        // Compare after normalising, so `%2e` and `.%2E` count as dots.
        match out.get(seg_start..) {
            Some(b".") => out.truncate(seg_start),
            Some(b"..") => {
                out.truncate(seg_start);
                // Drop the previous segment, if there is one, keeping its
                // leading '/'. The root is never climbed above.
                let parent = out
                    .get(root..seg_start.saturating_sub(1))
                    .and_then(|before| before.iter().rposition(|&b| b == b'/'));
                if let Some(j) = parent {
                    out.truncate(root + j + 1);
                }
            }
            _ if more => out.push(b'/'),
            _ => return i,
        }
    }
}

/// Whether an escape of `v` is decoded: whenever the byte would be copied as
/// it is anyway, so `|` and `%7c` (or `%41` and `A`) give one key and a list
/// entry cannot be dodged by escaping. Escapes of separators (`/`, `?`, `#`,
/// `%`) are kept, and so are `&`, `=`, `+` and `;` in a query, where the
/// escape changes what the query means.
fn decodes(v: u8, class: &[u8; 256]) -> bool {
    let in_query = std::ptr::eq(class, &QUERY_CLASS);
    class[usize::from(v)] == COPY && !(in_query && matches!(v, b'&' | b'=' | b'+' | b';'))
}

/// Copies `src[i..]` to `out` up to a byte of class STOP or the end,
/// normalising escapes. Returns where it stopped.
fn copy_escaped(src: &[u8], mut i: usize, out: &mut Vec<u8>, class: &[u8; 256]) -> usize {
    let mut run = i;
    while let Some(&b) = src.get(i) {
        match class[usize::from(b)] {
            COPY => {
                i += 1;
                continue;
            }
            STOP => break,
            _ => {}
        }
        out.extend_from_slice(src.get(run..i).unwrap_or_default());
        let escape = if b == b'%' {
            match (
                src.get(i + 1).copied().and_then(hex_value),
                src.get(i + 2).copied().and_then(hex_value),
            ) {
                (Some(h), Some(l)) => {
                    i += 3;
                    let v = h << 4 | l;
                    if decodes(v, class) {
                        out.push(v);
                        run = i;
                        continue;
                    }
                    v
                }
                // A stray '%' stands for itself.
                _ => {
                    i += 1;
                    b'%'
                }
            }
        } else {
            i += 1;
            b
        };
        out.extend_from_slice(&[
            b'%',
            HEX_LOWER[usize::from(escape >> 4)],
            HEX_LOWER[usize::from(escape & 0xf)],
        ]);
        run = i;
    }
    out.extend_from_slice(src.get(run..i).unwrap_or_default());
    i
}

/// Shortens a text quoted in an error and escapes its control characters,
/// so that messages stay readable and safe to log.
fn excerpt(s: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of `input`, panicking with the error if it does not parse.
    fn key(input: &str) -> String {
        match CanonUrl::parse(input) {
            Ok(u) => u.as_key().to_owned(),
            Err(e) => panic!("{input:?} did not parse: {e}"),
        }
    }

    fn host(input: &str) -> String {
        match canonical_host(input) {
            Ok(h) => h,
            Err(e) => panic!("{input:?} is not a host: {e}"),
        }
    }

    fn url_err(input: &str) -> CanonError {
        match CanonUrl::parse(input) {
            Ok(u) => panic!("{input:?} parsed as {:?}", u.as_key()),
            Err(e) => e,
        }
    }

    fn host_err(input: &str) -> CanonError {
        match canonical_host(input) {
            Ok(h) => panic!("{input:?} parsed as {h:?}"),
            Err(e) => e,
        }
    }

    // --- input, scheme, whitespace -------------------------------------

    #[test]
    fn typical_url_is_split_into_its_parts() {
        let u = CanonUrl::parse("http://www.example.co.uk/some/path/page.html?q=1").unwrap();
        assert_eq!(u.as_key(), "www.example.co.uk/some/path/page.html?q=1");
        assert_eq!(u.host(), "www.example.co.uk");
        assert_eq!(u.host_kind(), HostKind::Domain);
        assert_eq!(u.port(), None);
        assert_eq!(u.scheme(), Scheme::Http);
        assert_eq!(u.path(), "/some/path/page.html");
        assert_eq!(u.query(), Some("q=1"));
        assert_eq!(u.without_query(), "www.example.co.uk/some/path/page.html");
    }

    #[test]
    fn schemes_are_recognised_in_any_case() {
        assert_eq!(
            CanonUrl::parse("HTTP://a.example/").unwrap().scheme(),
            Scheme::Http
        );
        assert_eq!(
            CanonUrl::parse("hTtPs://a.example/").unwrap().scheme(),
            Scheme::Https
        );
        assert_eq!(
            CanonUrl::parse("ws://a.example/").unwrap().scheme(),
            Scheme::Ws
        );
        assert_eq!(
            CanonUrl::parse("WSS://a.example/").unwrap().scheme(),
            Scheme::Wss
        );
        assert_eq!(
            CanonUrl::parse("ftp://a.example/").unwrap().scheme(),
            Scheme::Ftp
        );
        assert_eq!(
            CanonUrl::parse("a.example/x").unwrap().scheme(),
            Scheme::None
        );
        assert_eq!(key("HTTPS://A.Example"), "a.example/");
    }

    #[test]
    fn other_schemes_are_refused_by_name() {
        let e = url_err("gopher://a.example/");
        assert_eq!(
            e,
            CanonError::UnsupportedScheme {
                scheme: "gopher".into()
            }
        );
        assert!(e.to_string().contains("'gopher' is not supported"));
        assert!(matches!(
            url_err("javascript:alert(1)"),
            CanonError::UnsupportedScheme { .. }
        ));
        assert!(matches!(
            url_err("data:text/html,hi"),
            CanonError::UnsupportedScheme { .. }
        ));
        assert!(matches!(
            url_err("file:///etc/passwd"),
            CanonError::UnsupportedScheme { .. }
        ));
    }

    #[test]
    fn slashes_after_the_scheme_are_optional_and_may_be_backslashes() {
        for input in [
            "http:bad.example/x",
            "http:/bad.example/x",
            "http:///bad.example/x",
            "http:\\\\bad.example\\x",
            "http:/\\/bad.example/x",
        ] {
            assert_eq!(key(input), "bad.example/x", "{input}");
        }
    }

    #[test]
    fn scheme_relative_and_schemeless_forms_are_accepted() {
        assert_eq!(key("//bad.example/x"), "bad.example/x");
        assert_eq!(key("\\\\bad.example/x"), "bad.example/x");
        assert_eq!(url_err("///bad.example/x"), CanonError::NoHost);
        assert_eq!(key("bad.example/x"), "bad.example/x");
        assert_eq!(key("bad.example"), "bad.example/");
        assert_eq!(key("bad.example?q"), "bad.example/?q");
    }

    #[test]
    fn connect_authorities_parse() {
        let u = CanonUrl::parse("bad.example:443").unwrap();
        assert_eq!(u.as_key(), "bad.example/");
        assert_eq!(u.port(), None);
        let u = CanonUrl::parse("bad.example:8443").unwrap();
        assert_eq!(u.as_key(), "bad.example:8443/");
        assert_eq!(u.port(), Some(8443));
        assert_eq!(u.scheme(), Scheme::None);
    }

    #[test]
    fn known_scheme_name_followed_by_digits_is_a_host_and_port() {
        // So that the key of a host called `http` re-parses to itself.
        assert_eq!(key("http://http:8080/"), "http:8080/");
        assert_eq!(key("http:8080/"), "http:8080/");
        assert_eq!(CanonUrl::parse("http:8080/").unwrap().host(), "http");
    }

    #[test]
    fn whitespace_and_controls_are_trimmed_and_tabs_and_newlines_removed() {
        assert_eq!(
            key("  \u{0}\u{1f}http://bad.example/x \r\n\t"),
            "bad.example/x"
        );
        assert_eq!(
            key("ht\ttp://ba\nd.exa\rmple/p\ta\nth?q\t=1"),
            "bad.example/path?q=1"
        );
    }

    #[test]
    fn empty_and_overlong_inputs_are_refused() {
        assert_eq!(url_err(""), CanonError::Empty);
        assert_eq!(url_err(" \t\n"), CanonError::Empty);
        assert_eq!(host_err("   "), CanonError::Empty);
        let long = format!("http://a.example/{}", "a".repeat(MAX_INPUT_LEN));
        assert!(matches!(url_err(&long), CanonError::TooLong { .. }));
        assert!(url_err(&long).to_string().contains("limit of 8192 bytes"));
        assert_eq!(url_err("http://"), CanonError::NoHost);
        assert_eq!(url_err("http:///"), CanonError::NoHost);
        assert_eq!(url_err("http://user@/x"), CanonError::NoHost);
        assert_eq!(url_err("/just/a/path"), CanonError::NoHost);
    }

    #[test]
    fn fragment_is_dropped() {
        assert_eq!(key("http://a.example/p#frag"), "a.example/p");
        assert_eq!(key("http://a.example/p?q=1#frag"), "a.example/p?q=1");
        assert_eq!(
            CanonUrl::parse("http://a.example/p?#f").unwrap().query(),
            None
        );
        // A '#' ends the authority, so what follows is not userinfo.
        assert_eq!(key("http://bad.example#@good.example/"), "bad.example/");
    }

    // --- case -----------------------------------------------------------

    #[test]
    fn everything_is_lower_case() {
        assert_eq!(
            key("HTTP://BAD.EXAMPLE/Some/PATH?Q=ABC"),
            "bad.example/some/path?q=abc"
        );
        // `%2F` stays an escape in a path (it is not a separator there);
        // `%3A` and a query's `%2F` decode, as they would be copied anyway.
        assert_eq!(
            key("http://a.example/%2F%3A?x=%2F&y=%3D"),
            "a.example/%2f:?x=/&y=%3d"
        );
    }

    // --- backslash, userinfo ---------------------------------------------

    #[test]
    fn backslash_is_a_slash_in_authority_and_path() {
        assert_eq!(
            key("http://bad.example\\@good.example/"),
            "bad.example/@good.example/"
        );
        assert_eq!(
            CanonUrl::parse("http://bad.example\\@good.example/")
                .unwrap()
                .host(),
            "bad.example"
        );
        assert_eq!(key("http://a.example\\b\\\\c"), "a.example/b/c");
        // In the query it is an ordinary character.
        assert_eq!(key("http://a.example/?a\\b"), "a.example/?a\\b");
    }

    #[test]
    fn userinfo_is_dropped() {
        assert_eq!(key("http://good.example@bad.example/"), "bad.example/");
        assert_eq!(key("http://user:pw@bad.example/x"), "bad.example/x");
        assert_eq!(key("http://a@b:c@bad.example/"), "bad.example/");
        assert_eq!(key("user:pw@bad.example/x"), "bad.example/x");
        assert_eq!(key("user@bad.example"), "bad.example/");
        assert_eq!(
            key("https://www.google.com:443@bad.example:443/"),
            "bad.example/"
        );
        // An '@' in the path is not userinfo.
        assert_eq!(
            key("http://good.example/@bad.example"),
            "good.example/@bad.example"
        );
    }

    // --- hosts -------------------------------------------------------------

    #[test]
    fn hosts_are_percent_decoded() {
        assert_eq!(key("http://%62ad.example/"), "bad.example/");
        assert_eq!(key("http://BAD%2Eexample/"), "bad.example/");
        assert_eq!(host("%42ad.example"), "bad.example");
        assert!(matches!(
            url_err("http://bad%2fexample/"),
            CanonError::ForbiddenHostChar { .. }
        ));
        assert!(matches!(
            url_err("http://bad%zzexample/"),
            CanonError::ForbiddenHostChar { .. }
        ));
        assert!(matches!(
            url_err("http://bad%ff.example/"),
            CanonError::HostNotUtf8 { .. }
        ));
    }

    #[test]
    fn international_hosts_become_punycode() {
        assert_eq!(host("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(host("BÜCHER.example"), "xn--bcher-kva.example");
        assert_eq!(host("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(host("XN--BCHER-KVA.EXAMPLE"), "xn--bcher-kva.example");
        assert_eq!(host("Xn--Bcher-Kva.Example"), "xn--bcher-kva.example");
        assert_eq!(host("b%C3%BCcher.example"), "xn--bcher-kva.example");
        assert_eq!(
            key("http://bücher.example/ü"),
            "xn--bcher-kva.example/%c3%bc"
        );
        // Non-transitional processing: ß is kept, not turned into "ss".
        assert_eq!(host("faß.example"), "xn--fa-hia.example");
    }

    #[test]
    fn full_width_dots_and_letters_are_mapped() {
        assert_eq!(host("bad\u{3002}example"), "bad.example");
        assert_eq!(host("bad\u{ff0e}example"), "bad.example");
        assert_eq!(host("bad\u{ff61}example"), "bad.example");
        assert_eq!(host("ｂａｄ.example"), "bad.example");
        assert_eq!(key("http://ｂａｄ。example/"), "bad.example/");
        // Full-width digits make an IPv4 address.
        assert_eq!(host("１２７.０.０.１"), "127.0.0.1");
        // Characters that map to forbidden ASCII are still forbidden.
        assert!(matches!(
            host_err("bad\u{ff0f}example"),
            CanonError::ForbiddenHostChar { .. }
        ));
        assert!(matches!(
            host_err("bad\u{ff20}example"),
            CanonError::ForbiddenHostChar { .. }
        ));
    }

    #[test]
    fn invalid_international_names_are_refused() {
        // A private-use code point is named.
        let e = host_err("bad\u{e000}.example");
        assert_eq!(
            e,
            CanonError::InvalidIdn {
                host: "bad\u{e000}.example".into(),
                found: Some("'\u{e000}' (U+E000)".into())
            }
        );
        assert!(e.to_string().contains("U+E000"), "{e}");
        let e = host_err("bad\u{2028}.example");
        assert!(e.to_string().contains("the character U+2028"), "{e}");
        // A combining mark starting a label is wrong only where it stands.
        let e = host_err("\u{301}bad.example");
        assert_eq!(
            e,
            CanonError::InvalidIdn {
                host: "\u{301}bad.example".into(),
                found: None
            }
        );
        assert!(
            e.to_string()
                .contains("not a valid international domain name")
        );
        // A punycode label that does not decode, beside a Unicode one.
        assert!(matches!(
            host_err("bücher.xn--a.example"),
            CanonError::InvalidIdn { .. }
        ));
    }

    #[test]
    fn one_trailing_dot_is_removed_but_not_two() {
        assert_eq!(host("example.com."), "example.com");
        assert_eq!(key("http://example.com./"), "example.com/");
        assert!(matches!(
            host_err("example.com.."),
            CanonError::EmptyLabel { .. }
        ));
        assert!(matches!(host_err("."), CanonError::EmptyLabel { .. }));
    }

    #[test]
    fn empty_labels_are_refused() {
        assert!(matches!(
            host_err("a..example"),
            CanonError::EmptyLabel { .. }
        ));
        assert!(matches!(
            host_err(".example"),
            CanonError::EmptyLabel { .. }
        ));
        assert!(host_err("a..example").to_string().contains("empty label"));
    }

    #[test]
    fn label_and_name_lengths_are_limited() {
        let ok_label = "a".repeat(63);
        assert_eq!(
            host(&format!("{ok_label}.example")),
            format!("{ok_label}.example")
        );
        let e = host_err(&format!("{}.example", "a".repeat(64)));
        assert_eq!(
            e,
            CanonError::LabelTooLong {
                host: e_host(&e),
                len: 64
            }
        );
        let ok_name = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(ok_name.len(), 253);
        assert_eq!(host(&ok_name), ok_name);
        assert_eq!(host(&format!("{ok_name}.")), ok_name);
        let long_name = format!("{ok_name}e");
        assert!(matches!(
            host_err(&long_name),
            CanonError::HostTooLong { len: 254, .. }
        ));
    }

    fn e_host(e: &CanonError) -> String {
        match e {
            CanonError::LabelTooLong { host, .. } => host.clone(),
            _ => String::new(),
        }
    }

    #[test]
    fn underscores_hyphens_and_digits_are_allowed() {
        assert_eq!(host("_dmarc.my-site.example"), "_dmarc.my-site.example");
        assert_eq!(host("-a-.example"), "-a-.example");
        assert_eq!(host("123abc.example"), "123abc.example");
    }

    #[test]
    fn forbidden_host_characters_are_named() {
        let e = host_err("bad example");
        assert_eq!(
            e,
            CanonError::ForbiddenHostChar {
                host: "bad example".into(),
                found: "a space".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "the host 'bad example' contains a space, which is not allowed in a host name"
        );
        assert!(host_err("bad*.example").to_string().contains("'*'"));
        assert!(host_err("bad!.example").to_string().contains("'!'"));
        assert!(host_err("bad\u{7}.example").to_string().contains("U+0007"));
        assert!(host_err("bad/x").to_string().contains("'/'"));
        assert!(host_err("user@bad.example").to_string().contains("'@'"));
        assert!(
            url_err("http://bad<x>.example/")
                .to_string()
                .contains("'<'")
        );
        assert!(url_err("http://a[b.example/").to_string().contains("'['"));
    }

    // --- IPv4 -------------------------------------------------------------

    #[test]
    fn ipv4_in_every_spelling_is_a_dotted_quad() {
        for spelling in [
            "192.168.1.1",
            "3232235777",
            "0xC0A80101",
            "0xc0a80101",
            "0300.0250.0001.0001",
            "0xc0.0xa8.0x1.0x1",
            "192.168.257",
            "192.11010305",
            "0300.0xa8.1.01",
            "192.168.1.1.",
            "0x0000000000000000000c0.168.1.1",
            "%31%39%32.168.1.1",
        ] {
            assert_eq!(host(spelling), "192.168.1.1", "{spelling}");
            let u = CanonUrl::parse(&format!("http://{spelling}/x")).unwrap();
            assert_eq!(u.host(), "192.168.1.1", "{spelling}");
            assert_eq!(u.host_kind(), HostKind::Ipv4);
        }
    }

    #[test]
    fn classic_loopback_evasions() {
        for input in [
            "http://0x7f.1/",
            "http://2130706433/",
            "http://017700000001/",
            "http://0177.0.0.01/",
            "http://127.1/",
            "http://127.0.1/",
            "http://0x7f000001/",
            "http://[::ffff:127.0.0.1]/",
            "http://[0:0:0:0:0:ffff:7f00:1]/",
            "http://[::FFFF:7F00:1]:80/",
        ] {
            assert_eq!(key(input), "127.0.0.1/", "{input}");
        }
        assert_eq!(host("0"), "0.0.0.0");
        assert_eq!(host("0x"), "0.0.0.0");
        assert_eq!(host("4294967295"), "255.255.255.255");
    }

    #[test]
    fn ipv4_out_of_range_parts_are_refused() {
        for input in [
            "256.0.0.1",
            "1.2.3.256",
            "4294967296",
            "1.16777216",
            "1.2.65536",
            "0x100.1.1.1",
            "1.2.3.99999999999999999999999",
        ] {
            assert!(
                matches!(host_err(input), CanonError::Ipv4OutOfRange { .. }),
                "{input}"
            );
        }
        assert!(host_err("1.2.3.256").to_string().contains("out of range"));
    }

    #[test]
    fn number_like_hosts_that_are_not_ipv4_are_refused() {
        for input in [
            "1.2.3.09",
            "1.2.3.4.5",
            "08.1.2.3",
            "bad.example.123",
            "1..2",
            "0xg.1",
            "a.0x",
        ] {
            let e = host_err(input);
            assert!(
                matches!(e, CanonError::InvalidIpv4 { .. }),
                "{input}: {e:?}"
            );
        }
        assert!(
            host_err("1.2.3.09")
                .to_string()
                .contains("ends in a number")
        );
        // WHATWG reads a bare `0x` as zero.
        assert_eq!(host("1.2.0x"), "1.2.0.0");
        // A number that is not the last label is an ordinary domain label.
        assert_eq!(host("123.example"), "123.example");
        assert_eq!(host("1.2.3.4a"), "1.2.3.4a");
        assert_eq!(host("0x7f.example"), "0x7f.example");
    }

    // --- IPv6 -------------------------------------------------------------

    #[test]
    fn ipv6_literals_are_compressed_in_brackets() {
        let u = CanonUrl::parse("http://[2001:DB8:0:0:0:0:0:1]:8080/x").unwrap();
        assert_eq!(u.host(), "[2001:db8::1]");
        assert_eq!(u.host_kind(), HostKind::Ipv6);
        assert_eq!(u.port(), Some(8080));
        assert_eq!(u.as_key(), "[2001:db8::1]:8080/x");
        assert_eq!(key("http://[::1]/"), "[::1]/");
        assert_eq!(key("[0000::0001]:443"), "[::1]/");
        assert_eq!(host("[2001:db8::1]"), "[2001:db8::1]");
        assert_eq!(host("2001:DB8::1"), "[2001:db8::1]");
        assert_eq!(host("[::ffff:10.0.0.1]"), "10.0.0.1");
    }

    #[test]
    fn bad_ipv6_literals_and_zone_ids_are_refused() {
        assert!(matches!(
            url_err("http://[::1/"),
            CanonError::InvalidIpv6 { .. }
        ));
        assert!(matches!(
            url_err("http://[::g]/"),
            CanonError::InvalidIpv6 { .. }
        ));
        assert!(matches!(
            url_err("http://[::1]x/"),
            CanonError::InvalidIpv6 { .. }
        ));
        assert!(matches!(
            url_err("http://[1:2:3:4:5:6:7:8:9]/"),
            CanonError::InvalidIpv6 { .. }
        ));
        assert!(matches!(
            url_err("http://[]/"),
            CanonError::InvalidIpv6 { .. }
        ));
        assert!(matches!(
            url_err("http://[fe80::1%25eth0]/"),
            CanonError::Ipv6ZoneId { .. }
        ));
        assert!(matches!(
            host_err("[fe80::1%eth0]"),
            CanonError::Ipv6ZoneId { .. }
        ));
        assert!(matches!(
            host_err("fe80::1%eth0"),
            CanonError::Ipv6ZoneId { .. }
        ));
        assert!(matches!(host_err("[::1"), CanonError::InvalidIpv6 { .. }));
    }

    // --- ports ------------------------------------------------------------

    #[test]
    fn default_ports_are_dropped() {
        assert_eq!(key("http://a.example:80/"), "a.example/");
        assert_eq!(key("https://a.example:443/"), "a.example/");
        assert_eq!(key("ws://a.example:80/"), "a.example/");
        assert_eq!(key("wss://a.example:443/"), "a.example/");
        assert_eq!(key("ftp://a.example:21/"), "a.example/");
        assert_eq!(key("a.example:80"), "a.example/");
        assert_eq!(key("a.example:443"), "a.example/");
        assert_eq!(key("http://a.example:0080/"), "a.example/");
        // 80 and 443 are dropped whatever the scheme, so keys re-parse alike.
        assert_eq!(key("https://a.example:80/"), "a.example/");
        assert_eq!(
            CanonUrl::parse("https://a.example:80/").unwrap().port(),
            None
        );
        // 21 is only ftp's.
        assert_eq!(key("http://a.example:21/"), "a.example:21/");
        assert_eq!(key("a.example:21"), "a.example:21/");
    }

    #[test]
    fn other_ports_are_kept() {
        let u = CanonUrl::parse("http://a.example:8080/x").unwrap();
        assert_eq!(u.port(), Some(8080));
        assert_eq!(u.host(), "a.example");
        assert_eq!(u.path(), "/x");
        assert_eq!(u.as_key(), "a.example:8080/x");
        assert_eq!(key("http://a.example:65535"), "a.example:65535/");
        assert_eq!(key("http://a.example:1"), "a.example:1/");
    }

    #[test]
    fn empty_port_is_ignored() {
        assert_eq!(key("http://a.example:/x"), "a.example/x");
        assert_eq!(key("a.example:"), "a.example/");
        assert_eq!(CanonUrl::parse("a.example:").unwrap().port(), None);
    }

    #[test]
    fn bad_ports_are_refused() {
        let e = url_err("http://a.example:99999/");
        assert_eq!(
            e,
            CanonError::PortOutOfRange {
                port: "99999".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "the port '99999' is out of range (1 to 65535)"
        );
        assert!(matches!(
            url_err("http://a.example:0/"),
            CanonError::PortOutOfRange { .. }
        ));
        assert!(matches!(
            url_err("http://a.example:65536/"),
            CanonError::PortOutOfRange { .. }
        ));
        assert!(matches!(
            url_err("http://a.example:123456789012345678901234567890/"),
            CanonError::PortOutOfRange { .. }
        ));
        assert!(matches!(
            url_err("http://a.example:8o/"),
            CanonError::PortNotNumber { .. }
        ));
        assert!(matches!(
            url_err("http://a.example:-1/"),
            CanonError::PortNotNumber { .. }
        ));
        assert!(matches!(
            url_err("http://a.example:80:80/"),
            CanonError::PortNotNumber { .. }
        ));
        assert!(matches!(
            url_err("http://a.example: 80/"),
            CanonError::PortNotNumber { .. }
        ));
    }

    #[test]
    fn canonical_host_refuses_a_port() {
        let e = host_err("bad.example:443");
        assert_eq!(
            e,
            CanonError::PortNotAccepted {
                input: "bad.example:443".into()
            }
        );
        assert!(e.to_string().contains("without ':port'"));
        assert!(matches!(
            host_err("[::1]:443"),
            CanonError::PortNotAccepted { .. }
        ));
    }

    // --- paths --------------------------------------------------------------

    #[test]
    fn path_always_starts_with_a_slash() {
        assert_eq!(CanonUrl::parse("http://a.example").unwrap().path(), "/");
        assert_eq!(CanonUrl::parse("http://a.example?x").unwrap().path(), "/");
        assert_eq!(CanonUrl::parse("a.example").unwrap().path(), "/");
    }

    #[test]
    fn repeated_slashes_are_collapsed() {
        assert_eq!(key("http://a.example//a///b"), "a.example/a/b");
        assert_eq!(key("http://a.example/a//"), "a.example/a/");
        assert_eq!(key("http://a.example////"), "a.example/");
    }

    #[test]
    fn trailing_slash_is_kept() {
        assert_eq!(key("http://a.example/a/"), "a.example/a/");
        assert_eq!(key("http://a.example/a"), "a.example/a");
    }

    #[test]
    fn dot_segments_are_removed() {
        assert_eq!(key("http://a.example/a/./b/../c"), "a.example/a/c");
        assert_eq!(key("http://a.example/a/b/.."), "a.example/a/");
        assert_eq!(key("http://a.example/a/b/."), "a.example/a/b/");
        assert_eq!(key("http://a.example/a/b/../../.."), "a.example/");
        assert_eq!(key("http://a.example/../../etc"), "a.example/etc");
        assert_eq!(key("http://a.example/.."), "a.example/");
        assert_eq!(key("http://a.example/."), "a.example/");
        assert_eq!(key("http://a.example/a/..b/c."), "a.example/a/..b/c.");
        assert_eq!(key("http://a.example/.../x"), "a.example/.../x");
        assert_eq!(key("http://a.example/a\\..\\b"), "a.example/b");
        assert_eq!(key("http://a.example/a//..//b"), "a.example/b");
    }

    #[test]
    fn percent_encoded_dot_segments_are_removed() {
        assert_eq!(
            key("http://example.com/%2E%2E/%61dmin"),
            "example.com/admin"
        );
        assert_eq!(key("http://example.com/x/%2e/y"), "example.com/x/y");
        assert_eq!(key("http://example.com/x/.%2E/y"), "example.com/y");
        assert_eq!(key("http://example.com/x/%2E%2e/y"), "example.com/y");
        assert_eq!(key("http://example.com/x/%2e."), "example.com/");
    }

    #[test]
    fn classic_combined_evasion() {
        assert_eq!(key("HTTP://EXAMPLE.COM.:80/a/./b/../c"), "example.com/a/c");
    }

    #[test]
    fn unreserved_escapes_are_decoded_and_others_kept_in_lower_case() {
        assert_eq!(
            key("http://a.example/%41%7A%30%2D%2E%5F%7E"),
            "a.example/az0-._~"
        );
        assert_eq!(key("http://a.example/a%2Fb%2fc"), "a.example/a%2fb%2fc");
        assert_eq!(
            key("http://a.example/%3F%23%25%20"),
            "a.example/%3f%23%25%20"
        );
        // %2f is never a separator, so it is not collapsed or climbed over.
        assert_eq!(key("http://a.example/a/%2e%2e%2fb"), "a.example/a/..%2fb");
    }

    #[test]
    fn unsafe_characters_are_encoded() {
        assert_eq!(
            key("http://a.example/a b\"c<d>e`f{g}h"),
            "a.example/a%20b%22c%3cd%3ee%60f%7bg%7dh"
        );
        assert_eq!(key("http://a.example/caf\u{e9}"), "a.example/caf%c3%a9");
        assert_eq!(key("http://a.example/caf%C3%A9"), "a.example/caf%c3%a9");
        assert_eq!(key("http://a.example/\u{7f}"), "a.example/%7f");
        // Other printable ASCII is kept as it is.
        assert_eq!(
            key("http://a.example/!$&'()*+,;=:@|^[]"),
            "a.example/!$&'()*+,;=:@|^[]"
        );
    }

    #[test]
    fn malformed_percent_is_encoded() {
        assert_eq!(key("http://a.example/100%"), "a.example/100%25");
        assert_eq!(key("http://a.example/%zz"), "a.example/%25zz");
        assert_eq!(key("http://a.example/%4"), "a.example/%254");
        assert_eq!(key("http://a.example/?q=%"), "a.example/?q=%25");
        assert_eq!(key("http://a.example/%2541"), "a.example/%2541");
    }

    // --- queries ------------------------------------------------------------

    /// Escaping a character that needs no escape cannot dodge a list entry.
    #[test]
    fn needless_escapes_give_the_same_key() {
        assert_eq!(
            key("http://a.example/x%7Cy%21%2A"),
            key("http://a.example/x|y!*")
        );
        assert_eq!(key("http://a.example/%28a%29?k=%7C"), "a.example/(a)?k=|");
        // In a query, an escaped & = + or ; means something else, so it stays.
        assert_eq!(
            key("http://a.example/?a=%26%3D%2B%3B"),
            "a.example/?a=%26%3d%2b%3b"
        );
        // Characters that must be escaped stay escaped however they came.
        assert_eq!(key("http://a.example/%22%3C"), key("http://a.example/\"<"));
    }

    #[test]
    fn query_is_normalised_like_the_path_without_dots_or_slashes() {
        let u = CanonUrl::parse("http://a.example/p?Q=%41%2F//./../ b").unwrap();
        assert_eq!(u.query(), Some("q=a///./../%20b"));
        assert_eq!(u.path(), "/p");
        assert_eq!(key("http://a.example/?a?b"), "a.example/?a?b");
    }

    #[test]
    fn empty_query_is_none() {
        let u = CanonUrl::parse("http://a.example/p?").unwrap();
        assert_eq!(u.query(), None);
        assert_eq!(u.as_key(), "a.example/p");
        assert_eq!(CanonUrl::parse("http://a.example/p").unwrap().query(), None);
    }

    // --- the public API ------------------------------------------------------

    #[test]
    fn parse_into_reuses_and_resets() {
        let mut u = CanonUrl::default();
        u.parse_into("https://a.example:8443/x?y").unwrap();
        assert_eq!(u.as_key(), "a.example:8443/x?y");
        u.parse_into("b.example").unwrap();
        assert_eq!(u, CanonUrl::parse("b.example").unwrap());
        assert_eq!(u.port(), None);
        assert_eq!(u.query(), None);
        assert_eq!(u.scheme(), Scheme::None);
        assert!(u.parse_into("http://a.example:0/").is_err());
        assert_eq!(u.as_key(), "");
        assert_eq!(u.host(), "");
        assert_eq!(u.path(), "/");
        assert_eq!(u.query(), None);
    }

    #[test]
    fn canonical_host_into_reports_the_kind() {
        let mut out = String::from("old");
        assert_eq!(
            canonical_host_into("Bad.Example.", &mut out),
            Ok(HostKind::Domain)
        );
        assert_eq!(out, "bad.example");
        assert_eq!(canonical_host_into("0x7f.1", &mut out), Ok(HostKind::Ipv4));
        assert_eq!(out, "127.0.0.1");
        assert_eq!(canonical_host_into("[::2]", &mut out), Ok(HostKind::Ipv6));
        assert_eq!(out, "[::2]");
        assert!(canonical_host_into("a b", &mut out).is_err());
        assert_eq!(out, "");
    }

    #[test]
    fn canonical_host_agrees_with_url_hosts() {
        for h in [
            "Bad.Example.",
            "bücher.example",
            "%62ad.example",
            "0x7f.1",
            "[::ffff:7f00:1]",
            "[2001:db8::1]",
            "_x.example",
            "http",
        ] {
            assert_eq!(host(h), CanonUrl::parse(h).unwrap().host(), "{h}");
            assert_eq!(
                host(h),
                CanonUrl::parse(&format!("https://{h}/x")).unwrap().host(),
                "{h}"
            );
        }
    }

    #[test]
    fn keys_reparse_to_themselves() {
        for input in [
            "HTTP://EXAMPLE.COM.:80/a/./b/../c",
            "https://a.example:8443/%2e%2E/x%2F?Q=%7e#f",
            "http://[2001:db8::1]:81/",
            "http://0x7f.1/a b",
            "http://bücher.example/ü?ü",
            "ftp://a.example:80/",
            "http://http:8080/",
            "ws://ws:21/",
            "http://a.example/%25",
        ] {
            let k = key(input);
            assert_eq!(key(&k), k, "{input}");
        }
    }

    #[test]
    fn error_messages_quote_safely() {
        let long = format!("{}!", "a".repeat(200));
        let msg = host_err(&long).to_string();
        assert!(msg.contains('…'));
        assert!(msg.len() < 250);
        let msg = host_err("a\u{1b}[31m.example").to_string();
        assert!(!msg.contains('\u{1b}'));
    }
}
