//! Reading the server name (SNI) from a TLS ClientHello, without TLS.
//!
//! A browser opens a CONNECT tunnel and then sends its ClientHello, which
//! names the site it wants in the clear. The hello may be split across TLS
//! records and across TCP segments (post-quantum key shares make it longer
//! than one segment), so the caller buffers what it has read and asks again
//! after each read. The work is bounded: at most [`MAX_HELLO_BYTES`] are ever
//! buffered, and every length is checked against what is there.

/// The most a ClientHello may take, records and all. Real ones are a few
/// kilobytes.
pub const MAX_HELLO_BYTES: usize = 32 * 1024;

const RECORD_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const EXTENSION_SERVER_NAME: u16 = 0;
const EXTENSION_ENCRYPTED_CLIENT_HELLO: u16 = 0xfe0d;
/// A TLS record's payload is at most 2^14 bytes (RFC 8446 §5.1), plus
/// expansion that only protected records may use.
const MAX_RECORD: usize = (1 << 14) + 2048;

/// What the bytes read so far amount to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hello {
    /// Not enough yet: read more and ask again.
    Incomplete,
    /// A whole ClientHello.
    Complete {
        /// The first `host_name` of the server_name extension, as sent.
        sni: Option<String>,
        /// The hello carries Encrypted Client Hello: the SNI above is only
        /// the public name, and the real one is hidden.
        ech: bool,
    },
    /// The client is not speaking TLS (or a TLS version without records).
    NotTls,
    /// TLS, but broken or too large to be a real hello.
    Malformed,
}

/// Looks at the bytes a client has sent down a tunnel so far.
pub fn parse_client_hello(buf: &[u8]) -> Hello {
    if buf.is_empty() {
        return Hello::Incomplete;
    }
    if buf[0] != RECORD_HANDSHAKE {
        return Hello::NotTls;
    }
    // Gather the handshake bytes from as many records as have arrived. Only
    // when the message spans records is anything copied.
    let mut joined: Vec<u8> = Vec::new();
    let mut single: Option<&[u8]> = None;
    let mut offset = 0;
    loop {
        let Some(header) = buf.get(offset..offset + 5) else {
            return if buf.len() > MAX_HELLO_BYTES {
                Hello::Malformed
            } else {
                Hello::Incomplete
            };
        };
        if header[0] != RECORD_HANDSHAKE {
            // Something else before the hello was complete.
            return if offset == 0 {
                Hello::NotTls
            } else {
                Hello::Malformed
            };
        }
        if header[1] != 3 {
            return if offset == 0 {
                Hello::NotTls
            } else {
                Hello::Malformed
            };
        }
        let length = u16::from_be_bytes([header[3], header[4]]) as usize;
        if length == 0 || length > MAX_RECORD {
            return Hello::Malformed;
        }
        let Some(payload) = buf.get(offset + 5..offset + 5 + length) else {
            return if offset + 5 + length > MAX_HELLO_BYTES {
                Hello::Malformed
            } else {
                Hello::Incomplete
            };
        };
        offset += 5 + length;
        let handshake: &[u8] = match single {
            None if joined.is_empty() => {
                single = Some(payload);
                payload
            }
            _ => {
                if let Some(first) = single.take() {
                    joined.extend_from_slice(first);
                }
                joined.extend_from_slice(payload);
                &joined
            }
        };
        if handshake.len() >= 4 {
            if handshake[0] != HANDSHAKE_CLIENT_HELLO {
                return Hello::Malformed;
            }
            let message =
                u32::from_be_bytes([0, handshake[1], handshake[2], handshake[3]]) as usize;
            if message > MAX_HELLO_BYTES {
                return Hello::Malformed;
            }
            if let Some(body) = handshake.get(4..4 + message) {
                return match client_hello_body(body) {
                    Some((sni, ech)) => Hello::Complete { sni, ech },
                    None => Hello::Malformed,
                };
            }
        }
        if offset >= MAX_HELLO_BYTES {
            return Hello::Malformed;
        }
    }
}

/// A cursor that never reads past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// A vector with a one- or two-byte length in front.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n)
    }

    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
}

/// The server name and whether ECH is offered, from a ClientHello body
/// (RFC 8446 §4.1.2; RFC 6066 §3).
fn client_hello_body(body: &[u8]) -> Option<(Option<String>, bool)> {
    let mut r = Reader(body);
    r.take(2)?; // legacy_version
    r.take(32)?; // random
    let session = r.vec8()?;
    if session.len() > 32 {
        return None;
    }
    let suites = r.vec16()?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return None;
    }
    r.vec8()?; // compression methods
    if r.0.is_empty() {
        // No extensions at all (very old clients): no SNI.
        return Some((None, false));
    }
    let mut extensions = Reader(r.vec16()?);
    let mut sni = None;
    let mut ech = false;
    while !extensions.0.is_empty() {
        let kind = extensions.u16()?;
        let data = extensions.vec16()?;
        match kind {
            EXTENSION_SERVER_NAME if sni.is_none() => sni = server_name(data)?,
            EXTENSION_ENCRYPTED_CLIENT_HELLO => ech = true,
            _ => {}
        }
    }
    Some((sni, ech))
}

fn server_name(data: &[u8]) -> Option<Option<String>> {
    let mut r = Reader(data);
    let mut list = Reader(r.vec16()?);
    while !list.0.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == 0 {
            if name.is_empty() || !name.iter().all(|b| b.is_ascii_graphic()) {
                return None;
            }
            return Some(Some(String::from_utf8_lossy(name).into_owned()));
        }
    }
    Some(None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ClientHello body naming `sni`, with `padding` bytes of an extra
    /// extension to make it as long as a post-quantum hello.
    pub(crate) fn hello_body(sni: Option<&str>, padding: usize, ech: bool) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(32);
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&[0, 4, 0x13, 0x01, 0x13, 0x02]);
        body.extend_from_slice(&[1, 0]);
        let mut ext = Vec::new();
        if let Some(name) = sni {
            let n = name.len() as u16;
            ext.extend_from_slice(&0u16.to_be_bytes());
            ext.extend_from_slice(&(n + 5).to_be_bytes());
            ext.extend_from_slice(&(n + 3).to_be_bytes());
            ext.push(0);
            ext.extend_from_slice(&n.to_be_bytes());
            ext.extend_from_slice(name.as_bytes());
        }
        if ech {
            ext.extend_from_slice(&0xfe0du16.to_be_bytes());
            ext.extend_from_slice(&2u16.to_be_bytes());
            ext.extend_from_slice(&[0, 0]);
        }
        if padding > 0 {
            ext.extend_from_slice(&21u16.to_be_bytes());
            ext.extend_from_slice(&(padding as u16).to_be_bytes());
            ext.extend(std::iter::repeat_n(0, padding));
        }
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        body
    }

    /// The body as a handshake message cut into records of at most `record`
    /// payload bytes.
    pub(crate) fn records(body: &[u8], record: usize) -> Vec<u8> {
        let mut message = vec![HANDSHAKE_CLIENT_HELLO];
        message.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        message.extend_from_slice(body);
        let mut out = Vec::new();
        for chunk in message.chunks(record) {
            out.extend_from_slice(&[RECORD_HANDSHAKE, 3, 1]);
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out
    }

    fn complete(sni: &str) -> Hello {
        Hello::Complete {
            sni: Some(sni.into()),
            ech: false,
        }
    }

    #[test]
    fn a_whole_hello_in_one_record() {
        let bytes = records(&hello_body(Some("www.example.org"), 0, false), 16384);
        assert_eq!(parse_client_hello(&bytes), complete("www.example.org"));
    }

    #[test]
    fn every_prefix_is_incomplete_until_the_end() {
        let bytes = records(&hello_body(Some("www.example.org"), 1800, false), 16384);
        for cut in 0..bytes.len() {
            assert_eq!(
                parse_client_hello(&bytes[..cut]),
                Hello::Incomplete,
                "cut at {cut}"
            );
        }
        assert_eq!(parse_client_hello(&bytes), complete("www.example.org"));
    }

    #[test]
    fn a_hello_split_across_many_records() {
        for record in [1, 2, 3, 100, 1000] {
            let bytes = records(&hello_body(Some("bet365.com"), 2500, false), record);
            assert_eq!(
                parse_client_hello(&bytes),
                complete("bet365.com"),
                "{record}"
            );
            // And each prefix of it, as TCP might deliver it.
            for cut in (0..bytes.len()).step_by(97) {
                assert_eq!(parse_client_hello(&bytes[..cut]), Hello::Incomplete);
            }
        }
    }

    #[test]
    fn no_sni_and_ech_are_reported() {
        let bytes = records(&hello_body(None, 0, true), 16384);
        assert_eq!(
            parse_client_hello(&bytes),
            Hello::Complete {
                sni: None,
                ech: true
            }
        );
    }

    #[test]
    fn other_protocols_are_not_tls() {
        assert_eq!(
            parse_client_hello(b"SSH-2.0-OpenSSH_9.2\r\n"),
            Hello::NotTls
        );
        assert_eq!(parse_client_hello(b"GET / HTTP/1.1\r\n"), Hello::NotTls);
    }

    #[test]
    fn broken_and_oversized_hellos_are_malformed() {
        // A handshake that is not a ClientHello.
        let mut bytes = records(&hello_body(Some("a.example"), 0, false), 16384);
        bytes[5] = 2;
        assert_eq!(parse_client_hello(&bytes), Hello::Malformed);
        // A message length far beyond any real hello.
        let huge = [22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff];
        assert_eq!(parse_client_hello(&huge), Hello::Malformed);
        // Lengths inside the body that run past its end.
        let mut body = hello_body(Some("a.example"), 0, false);
        let len = body.len();
        body[len - 11] = 0xff;
        assert_eq!(parse_client_hello(&records(&body, 16384)), Hello::Malformed);
        // Endless tiny records never reach a message.
        let mut endless = Vec::new();
        while endless.len() <= MAX_HELLO_BYTES + 10 {
            endless.extend_from_slice(&[22, 3, 1, 0, 1, 1]);
        }
        assert_eq!(parse_client_hello(&endless), Hello::Malformed);
    }

    #[test]
    fn nothing_panics_on_arbitrary_bytes() {
        // A cheap deterministic fuzz: every byte flipped in a real hello.
        let bytes = records(&hello_body(Some("www.example.org"), 300, true), 200);
        for i in 0..bytes.len() {
            for v in [0u8, 1, 0x7f, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = parse_client_hello(&b);
            }
        }
    }
}
