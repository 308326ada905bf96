//! Sending traffic on through a parent proxy (`[proxy] parent`), as a
//! school behind a trust's or a regional network's proxy must.
//!
//! schoolgate still decides every request itself; the parent only carries
//! what schoolgate allowed. Plain HTTP goes to the parent in absolute form
//! (`GET http://host/path`) over kept connections to it; tunnels are opened
//! with `CONNECT host:port` through it. Safe search stays enforced: the
//! tunnel or request goes to the engine's enforcing host through the
//! parent, and plain HTTP for an enforcing host goes through a CONNECT
//! tunnel so that the `Host` header stays the one the browser sent.
//!
//! The school's own addresses (`school_addresses`, and IP addresses in
//! private, loopback and link-local ranges) are reached directly, as the
//! PAC file sends them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http::HeaderValue;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::settings::{SchoolAddress, Settings, parse_school_address, split_host_port};
use crate::upstream::{self, ConnectError, Resolver};

/// The largest answer head accepted from the parent for a CONNECT.
const MAX_ANSWER_HEAD: usize = 16 * 1024;

/// Where traffic goes on to, and how to sign in there.
#[derive(Debug)]
pub struct Parent {
    pub host: String,
    pub port: u16,
    /// `host:port`, for pages and logs.
    pub shown: String,
    /// `Proxy-Authorization` for the parent, from `parent_credentials`.
    pub authorization: Option<HeaderValue>,
    direct: Vec<SchoolAddress>,
}

impl Parent {
    /// The parent from validated settings; `None` when there is none.
    pub fn from_settings(settings: &Settings) -> Option<Parent> {
        let text = settings.parent.as_deref()?;
        let (host, port) = split_host_port(text)?;
        let host = classify::canon::canonical_host(host).unwrap_or_else(|_| host.to_owned());
        let authorization = settings.parent_credentials.as_deref().and_then(|c| {
            let mut value = HeaderValue::from_str(&crate::auth::basic_value(c)).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        Some(Parent {
            shown: format!("{host}:{port}"),
            host,
            port,
            authorization,
            direct: settings
                .school_addresses
                .iter()
                .filter_map(|a| parse_school_address(a))
                .collect(),
        })
    }

    /// Whether `host` (canonical) is the school's own, reached directly.
    pub fn is_direct(&self, host: &str) -> bool {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return is_local(ip)
                || self
                    .direct
                    .iter()
                    .any(|a| matches!(a, SchoolAddress::Range(net) if net.contains(&ip)));
        }
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        self.direct.iter().any(|a| match a {
            SchoolAddress::Domain(domain) => {
                host == domain
                    || (host.len() > domain.len()
                        && host.ends_with(domain.as_str())
                        && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
            }
            SchoolAddress::Range(_) => false,
        })
    }

    /// Connects to the parent itself.
    pub async fn connect(
        &self,
        resolver: &Resolver,
        timeout: Duration,
        listeners: &[SocketAddr],
        local: SocketAddr,
    ) -> Result<TcpStream, ConnectError> {
        upstream::connect(resolver, &self.host, self.port, timeout, listeners, local)
            .await
            .map_err(|error| ConnectError::Parent {
                parent: self.shown.clone(),
                error: Box::new(error),
            })
    }

    /// Opens a tunnel to `host:port` through the parent: the stream that
    /// comes back carries bytes to and from `host:port`. The parent must
    /// connect within `timeout`.
    pub async fn tunnel(
        &self,
        resolver: &Resolver,
        host: &str,
        port: u16,
        timeout: Duration,
        listeners: &[SocketAddr],
        local: SocketAddr,
    ) -> Result<TcpStream, ConnectError> {
        // One limit for connecting to the parent and for its answer.
        let deadline = tokio::time::Instant::now() + timeout;
        let mut stream = self.connect(resolver, timeout, listeners, local).await?;
        let authority = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(value) = &self.authorization {
            request.push_str("Proxy-Authorization: ");
            request.push_str(value.to_str().unwrap_or_default());
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        let broken = |what: &str| ConnectError::Parent {
            parent: self.shown.clone(),
            error: Box::new(ConnectError::Refused(std::io::Error::other(
                what.to_owned(),
            ))),
        };
        let exchange = async {
            stream
                .write_all(request.as_bytes())
                .await
                .map_err(|e| broken(&e.to_string()))?;
            read_answer_head(&stream)
                .await
                .map_err(|e| broken(&e.to_string()))
        };
        let head = match tokio::time::timeout_at(deadline, exchange).await {
            Ok(head) => head?,
            Err(_) => {
                return Err(ConnectError::Parent {
                    parent: self.shown.clone(),
                    error: Box::new(ConnectError::TimedOut),
                });
            }
        };
        let status = answer_status(&head).ok_or_else(|| broken("its answer was not HTTP"))?;
        if (200..300).contains(&status) {
            Ok(stream)
        } else {
            Err(ConnectError::ParentAnswered {
                parent: self.shown.clone(),
                status,
            })
        }
    }
}

/// Loopback, private (RFC 1918, RFC 4193) and link-local addresses: the
/// school's own network, never sent to the parent.
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Reads the parent's answer head to a CONNECT and nothing after it: the
/// bytes that follow are the web server's, and belong to the tunnel.
/// Each read takes only what `peek` shows to be head.
async fn read_answer_head(stream: &TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head: Vec<u8> = Vec::with_capacity(256);
    let mut buf = [0u8; 2048];
    loop {
        let seen = stream.peek(&mut buf).await?;
        if seen == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "it closed the connection without answering",
            ));
        }
        // The end of the head may straddle what was read before.
        let from = head.len().saturating_sub(3);
        let mut joined = head[from..].to_vec();
        joined.extend_from_slice(&buf[..seen]);
        let take = match joined.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(at) => at + 4 - (head.len() - from),
            None => seen,
        };
        let mut exact = vec![0u8; take];
        let mut got = 0;
        while got < take {
            stream.readable().await?;
            match stream.try_read(&mut exact[got..]) {
                Ok(0) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "it closed the connection while answering",
                    ));
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        head.extend_from_slice(&exact);
        if head.ends_with(b"\r\n\r\n") {
            return Ok(head);
        }
        if head.len() > MAX_ANSWER_HEAD {
            return Err(std::io::Error::other("its answer's head was too long"));
        }
    }
}

/// The status code of an answer head (`HTTP/1.x NNN ...`).
fn answer_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_ascii_whitespace();
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    parts
        .next()?
        .parse::<u16>()
        .ok()
        .filter(|s| (100..600).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent(school: &[&str]) -> Parent {
        let settings = Settings {
            parent: Some("Proxy.Trust.example:8080".into()),
            parent_credentials: Some("school:pa55".into()),
            school_addresses: school.iter().map(|s| (*s).to_owned()).collect(),
            ..Settings::default()
        };
        Parent::from_settings(&settings).expect("parent")
    }

    #[test]
    fn the_school_s_own_addresses_go_direct() {
        let p = parent(&["intranet.school.example", "203.0.113.0/24"]);
        assert_eq!((p.host.as_str(), p.port), ("proxy.trust.example", 8080));
        for direct in [
            "intranet.school.example",
            "mis.intranet.school.example",
            "10.1.2.3",
            "192.168.0.1",
            "127.0.0.1",
            "203.0.113.9",
            "[fd00::1]",
            "[::1]",
            "localhost",
        ] {
            assert!(p.is_direct(direct), "{direct}");
        }
        for onward in [
            "www.bbc.co.uk",
            "xintranet.school.example",
            "school.example",
            "8.8.8.8",
            "[2001:db8::1]",
        ] {
            assert!(!p.is_direct(onward), "{onward}");
        }
    }

    #[test]
    fn credentials_become_basic() {
        let p = parent(&[]);
        assert_eq!(
            p.authorization.as_ref().and_then(|v| v.to_str().ok()),
            Some("Basic c2Nob29sOnBhNTU=")
        );
    }

    #[test]
    fn answer_status_lines() {
        assert_eq!(
            answer_status(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some(200)
        );
        assert_eq!(
            answer_status(b"HTTP/1.0 407 Proxy Authentication Required\r\n"),
            Some(407)
        );
        assert_eq!(answer_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(answer_status(b"HTTP/1.1 9999 x\r\n"), None);
    }

    #[tokio::test]
    async fn the_head_is_read_and_what_follows_is_left() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            // The head in pieces, the end split, then the server's bytes.
            for piece in [
                &b"HTTP/1.1 200 OK\r"[..],
                b"\nVia: x\r\n\r",
                b"\nSSH-2.0-banner",
            ] {
                s.write_all(piece).await.expect("write");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            s
        });
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let head = read_answer_head(&stream).await.expect("head");
        assert_eq!(head, b"HTTP/1.1 200 OK\r\nVia: x\r\n\r\n");
        let _server = server.await.expect("server");
        let mut rest = [0u8; 14];
        stream.read_exact(&mut rest).await.expect("rest");
        assert_eq!(&rest, b"SSH-2.0-banner");
    }
}
