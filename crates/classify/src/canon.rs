//! Canonical hosts and URLs (interim version: the full canonicaliser replaces this file).

use std::fmt;

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
}

/// Why a host or URL could not be canonicalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CanonError {
    Empty,
    BadHost(String),
}

impl fmt::Display for CanonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanonError::Empty => f.write_str("it is empty"),
            CanonError::BadHost(why) => write!(f, "the host is not valid: {why}"),
        }
    }
}

impl std::error::Error for CanonError {}

/// A canonical URL, kept as one buffer `host[:port]/path[?query]`, all lower case.
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

impl CanonUrl {
    pub fn parse(input: &str) -> Result<CanonUrl, CanonError> {
        let mut url = CanonUrl::default();
        url.parse_into(input)?;
        Ok(url)
    }

    pub fn parse_into(&mut self, input: &str) -> Result<(), CanonError> {
        let lower = input.trim().to_ascii_lowercase();
        let (scheme, rest) = if let Some(r) = lower.strip_prefix("http://") {
            (Scheme::Http, r)
        } else if let Some(r) = lower.strip_prefix("https://") {
            (Scheme::Https, r)
        } else {
            (Scheme::None, lower.as_str())
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let host = canonical_host(authority)?;
        self.buf.clear();
        self.buf.push_str(&host);
        self.host_end = self.buf.len();
        self.path_start = self.buf.len();
        self.buf.push_str(path);
        self.query_start = self.buf.find('?').map(|i| i + 1);
        self.port = None;
        self.scheme = scheme;
        self.host_kind = HostKind::Domain;
        Ok(())
    }

    pub fn host(&self) -> &str {
        &self.buf[..self.host_end]
    }
    pub fn host_kind(&self) -> HostKind {
        self.host_kind
    }
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    pub fn path(&self) -> &str {
        match self.query_start {
            Some(q) => &self.buf[self.path_start..q - 1],
            None => &self.buf[self.path_start..],
        }
    }
    pub fn query(&self) -> Option<&str> {
        self.query_start.map(|q| &self.buf[q..])
    }
    pub fn as_key(&self) -> &str {
        &self.buf
    }
}

pub fn canonical_host(input: &str) -> Result<String, CanonError> {
    let h = input.trim().trim_end_matches('.').to_ascii_lowercase();
    if h.is_empty() {
        return Err(CanonError::Empty);
    }
    if !h
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return Err(CanonError::BadHost(h));
    }
    Ok(h)
}
