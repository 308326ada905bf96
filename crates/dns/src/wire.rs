//! The DNS wire format on the hot path: reading a client's query and writing
//! the answers schoolgate makes up itself (blocks, refusals, truncation).
//!
//! Queries are read here rather than with hickory-proto because every query
//! passes through this code and most need nothing more than the question and
//! the EDNS(0) record; the reader takes no allocation. Anything an upstream
//! resolver sends is decoded with hickory-proto (see [`crate::cache`]).
//!
//! Every answer written here starts with the client's own question, copied
//! byte for byte (so a client that varies the case of its query, as in
//! "DNS 0x20", sees it unchanged), at offset 12, where compression pointers
//! to it (`0xc00c`) can find it.

use std::net::{Ipv4Addr, Ipv6Addr};

/// DNS header flags and fields (RFC 1035 §4.1.1).
const QR: u16 = 0x8000;
const OPCODE_MASK: u16 = 0x7800;
const TC: u16 = 0x0200;
const RD: u16 = 0x0100;
const RA: u16 = 0x0080;
const CD: u16 = 0x0010;

pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_SOA: u16 = 6;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_OPT: u16 = 41;
pub const CLASS_IN: u16 = 1;

/// The smallest buffer size a DNS client must accept over UDP (RFC 1035).
pub const MIN_UDP_PAYLOAD: u16 = 512;
/// The header of a DNS message.
pub const HEADER_LEN: usize = 12;
/// The EDNS(0) option code of an Extended DNS Error (RFC 8914).
const EDE_OPTION: u16 = 15;

/// Response codes schoolgate sends (RFC 1035 §4.1.1, RFC 6891 for BADVERS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
}

/// Extended DNS Error info-codes schoolgate uses (RFC 8914 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtendedError {
    /// 15: blocked by the policy of the resolver's operator, the school.
    Blocked = 15,
    /// 16: blocked because of a requirement from outside the operator; used
    /// for the statutory lists (IWF, CTIRU), which the school cannot change.
    Censored = 16,
    /// 22: no upstream resolver answered.
    NoReachableAuthority = 22,
}

/// What a client's EDNS(0) record said (RFC 6891).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientEdns {
    /// The largest UDP answer the client accepts.
    pub payload: u16,
    pub version: u8,
    /// DNSSEC OK: the client wants signatures. schoolgate does not pass
    /// them on (see the crate documentation), but echoes the bit as RFC 3225
    /// asks.
    pub dnssec_ok: bool,
}

/// A client's query, read in place.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    packet: &'a [u8],
    pub id: u16,
    flags: u16,
    /// The end of the question section (after QCLASS).
    question_end: usize,
    pub qtype: u16,
    pub qclass: u16,
    pub edns: Option<ClientEdns>,
}

/// Why a packet is not a query schoolgate can answer normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not worth an answer: too short to hold a header, or itself an answer
    /// (answering answers could make two servers bounce packets forever).
    Drop,
    /// A header we can answer with this code, without a question.
    Reply { id: u16, flags: u16, rcode: Rcode },
    /// An EDNS version we do not speak: BADVERS (RFC 6891 §6.1.3).
    BadVersion { id: u16, flags: u16 },
}

fn u16_at(packet: &[u8], at: usize) -> Option<u16> {
    let bytes = packet.get(at..at + 2)?;
    Some(u16::from_be_bytes([bytes[0], bytes[1]]))
}

/// Skips a possibly compressed name starting at `at`; returns where it ends
/// in the packet (after the terminating zero or the pointer).
fn skip_name(packet: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *packet.get(at)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(at + 1),
            0x00 => at += 1 + len as usize,
            0xc0 => {
                packet.get(at + 1)?;
                return Some(at + 2);
            }
            _ => return None,
        }
    }
}

/// Skips one resource record; returns (record type, TTL offset, end).
fn skip_record(packet: &[u8], at: usize) -> Option<(u16, usize, usize)> {
    let fixed = skip_name(packet, at)?;
    let rtype = u16_at(packet, fixed)?;
    let rdlen = u16_at(packet, fixed + 8)? as usize;
    let end = fixed + 10 + rdlen;
    if end > packet.len() {
        return None;
    }
    Some((rtype, fixed + 4, end))
}

/// Reads a query. The question's name must be written out in full (no
/// compression pointer), as every real client does.
pub fn parse_query(packet: &[u8]) -> Result<Query<'_>, Refusal> {
    if packet.len() < HEADER_LEN {
        return Err(Refusal::Drop);
    }
    let id = u16::from_be_bytes([packet[0], packet[1]]);
    let flags = u16::from_be_bytes([packet[2], packet[3]]);
    if flags & QR != 0 {
        return Err(Refusal::Drop);
    }
    let reply = |rcode| Err(Refusal::Reply { id, flags, rcode });
    if flags & OPCODE_MASK != 0 {
        return reply(Rcode::NotImp);
    }
    let count = |i: usize| u16::from_be_bytes([packet[4 + 2 * i], packet[5 + 2 * i]]);
    let (qdcount, ancount, nscount, arcount) = (count(0), count(1), count(2), count(3));
    if qdcount != 1 {
        return reply(Rcode::FormErr);
    }
    // The question name: labels only, at most 255 bytes in all.
    let mut at = HEADER_LEN;
    loop {
        let Some(&len) = packet.get(at) else {
            return reply(Rcode::FormErr);
        };
        if len == 0 {
            at += 1;
            break;
        }
        if len > 63 {
            return reply(Rcode::FormErr);
        }
        at += 1 + len as usize;
        if at - HEADER_LEN > 255 {
            return reply(Rcode::FormErr);
        }
    }
    if at - HEADER_LEN > 255 {
        return reply(Rcode::FormErr);
    }
    let (Some(qtype), Some(qclass)) = (u16_at(packet, at), u16_at(packet, at + 2)) else {
        return reply(Rcode::FormErr);
    };
    let question_end = at + 4;
    // Answer and authority sections have no business in a query; skip them
    // to find the EDNS record among the additional records.
    let mut at = question_end;
    let mut edns = None;
    for i in 0..(ancount as usize + nscount as usize + arcount as usize) {
        let Some((rtype, ttl_at, end)) = skip_record(packet, at) else {
            return reply(Rcode::FormErr);
        };
        if rtype == TYPE_OPT && i >= (ancount as usize + nscount as usize) {
            if edns.is_some() || packet[at] != 0 {
                // Two OPT records, or one not owned by the root (RFC 6891 §6.1.1).
                return reply(Rcode::FormErr);
            }
            let payload = u16_at(packet, at + 3).unwrap_or(0);
            edns = Some(ClientEdns {
                payload: payload.max(MIN_UDP_PAYLOAD),
                version: packet[ttl_at + 1],
                dnssec_ok: packet[ttl_at + 2] & 0x80 != 0,
            });
        }
        at = end;
    }
    if let Some(e) = edns
        && e.version != 0
    {
        return Err(Refusal::BadVersion { id, flags });
    }
    Ok(Query {
        packet,
        id,
        flags,
        question_end,
        qtype,
        qclass,
        edns,
    })
}

impl<'a> Query<'a> {
    /// The question section as the client wrote it (name, type, class).
    pub fn question(&self) -> &'a [u8] {
        &self.packet[HEADER_LEN..self.question_end]
    }

    /// The question name as it is on the wire.
    pub fn name_wire(&self) -> &'a [u8] {
        &self.packet[HEADER_LEN..self.question_end - 4]
    }

    /// The header flags that carry over to an answer (RD and CD).
    pub fn flags(&self) -> u16 {
        self.flags & (RD | CD)
    }

    pub fn recursion_desired(&self) -> bool {
        self.flags & RD != 0
    }

    /// The largest answer this client takes over UDP, given what we offer.
    pub fn udp_limit(&self, ours: u16) -> usize {
        match self.edns {
            Some(e) => e.payload.min(ours).max(MIN_UDP_PAYLOAD) as usize,
            None => MIN_UDP_PAYLOAD as usize,
        }
    }

    /// The cache key: the question with the name in lower case.
    pub fn key_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(self.question());
        let name_len = out.len() - 4;
        out[..name_len].make_ascii_lowercase();
        // Length octets are below 64, so lower-casing never touches them.
    }

    /// The name in presentation form, lower case, without the trailing dot,
    /// into `out`. Returns `false` when a label holds a byte that cannot be
    /// written plainly (a dot, a space, a control or non-ASCII byte): such a
    /// name is no host name.
    pub fn name_into(&self, out: &mut String) -> bool {
        name_to_text(self.name_wire(), out)
    }
}

/// Writes an uncompressed wire name as lower-case text without the final dot.
pub fn name_to_text(wire: &[u8], out: &mut String) -> bool {
    out.clear();
    let mut at = 0;
    while let Some(&len) = wire.get(at) {
        if len == 0 {
            return true;
        }
        let Some(label) = wire.get(at + 1..at + 1 + len as usize) else {
            return false;
        };
        if !out.is_empty() {
            out.push('.');
        }
        for &b in label {
            if !(b.is_ascii_graphic()) || b == b'.' {
                out.clear();
                return false;
            }
            out.push(b.to_ascii_lowercase() as char);
        }
        at += 1 + len as usize;
    }
    false
}

/// Writes a presentation name (`a.example`) in wire form, uncompressed.
/// Returns `false` for a name that does not fit the DNS limits.
pub fn text_to_name(text: &str, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let text = text.strip_suffix('.').unwrap_or(text);
    if !text.is_empty() {
        for label in text.split('.') {
            if label.is_empty() || label.len() > 63 {
                out.truncate(start);
                return false;
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() - start > 255 {
        out.truncate(start);
        return false;
    }
    true
}

/// The header flags of an answer to a query with `query_flags`: a recursive
/// answer (RA), with RD and CD echoed, never authoritative or authenticated.
fn answer_flags(query_flags: u16, rcode: Rcode) -> u16 {
    QR | RA | (query_flags & (RD | CD)) | rcode as u16
}

/// An answer schoolgate writes itself.
pub struct Reply<'q, 'a> {
    query: &'q Query<'a>,
    out: Vec<u8>,
    answers: u16,
    authority: u16,
}

impl<'q, 'a> Reply<'q, 'a> {
    /// Starts an answer with the client's question.
    pub fn new(query: &'q Query<'a>, rcode: Rcode) -> Self {
        let mut out = Vec::with_capacity(query.question_end + 64);
        out.extend_from_slice(&query.id.to_be_bytes());
        out.extend_from_slice(&answer_flags(query.flags, rcode).to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(query.question());
        Reply {
            query,
            out,
            answers: 0,
            authority: 0,
        }
    }

    fn record_head(&mut self, rtype: u16, ttl: u32, rdlen: u16) {
        // 0xc00c points at the question's name.
        self.out.extend_from_slice(&[0xc0, 0x0c]);
        self.out.extend_from_slice(&rtype.to_be_bytes());
        self.out.extend_from_slice(&CLASS_IN.to_be_bytes());
        self.out.extend_from_slice(&ttl.to_be_bytes());
        self.out.extend_from_slice(&rdlen.to_be_bytes());
        self.answers += 1;
    }

    /// An A record for the question's name.
    pub fn a(&mut self, address: Ipv4Addr, ttl: u32) {
        self.record_head(TYPE_A, ttl, 4);
        self.out.extend_from_slice(&address.octets());
    }

    /// An AAAA record for the question's name.
    pub fn aaaa(&mut self, address: Ipv6Addr, ttl: u32) {
        self.record_head(TYPE_AAAA, ttl, 16);
        self.out.extend_from_slice(&address.octets());
    }

    /// Finishes the answer: the EDNS(0) record when the client sent one
    /// (with our UDP size, its DO bit, and the Extended DNS Error if any).
    pub fn finish(mut self, udp_payload: u16, error: Option<(ExtendedError, &str)>) -> Vec<u8> {
        let mut additional = 0;
        if let Some(edns) = self.query.edns {
            write_opt(&mut self.out, udp_payload, edns.dnssec_ok, 0, error);
            additional = 1;
        }
        self.out[6..8].copy_from_slice(&self.answers.to_be_bytes());
        self.out[8..10].copy_from_slice(&self.authority.to_be_bytes());
        self.out[10..12].copy_from_slice(&(additional as u16).to_be_bytes());
        self.out
    }
}

/// Writes an OPT record (RFC 6891 §6.1.2) with an optional Extended DNS
/// Error option (RFC 8914 §2). Extra text is cut to keep the record small.
pub fn write_opt(
    out: &mut Vec<u8>,
    udp_payload: u16,
    dnssec_ok: bool,
    extended_rcode: u8,
    error: Option<(ExtendedError, &str)>,
) {
    out.push(0);
    out.extend_from_slice(&TYPE_OPT.to_be_bytes());
    out.extend_from_slice(&udp_payload.max(MIN_UDP_PAYLOAD).to_be_bytes());
    out.push(extended_rcode);
    out.push(0);
    out.extend_from_slice(&(if dnssec_ok { 0x8000u16 } else { 0 }).to_be_bytes());
    match error {
        Some((code, text)) => {
            let text = cut_text(text, 200);
            let option_len = 2 + text.len() as u16;
            out.extend_from_slice(&(4 + option_len).to_be_bytes());
            out.extend_from_slice(&EDE_OPTION.to_be_bytes());
            out.extend_from_slice(&option_len.to_be_bytes());
            out.extend_from_slice(&(code as u16).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        None => out.extend_from_slice(&0u16.to_be_bytes()),
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut_text(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The answer to a query too big for the client's UDP size: the question
/// alone with TC set, so the client asks again over TCP (RFC 1035 §4.2.1,
/// RFC 7766).
pub fn truncated(query: &Query<'_>, udp_payload: u16) -> Vec<u8> {
    let mut out = Reply::new(query, Rcode::NoError).finish(udp_payload, None);
    let flags = u16::from_be_bytes([out[2], out[3]]) | TC;
    out[2..4].copy_from_slice(&flags.to_be_bytes());
    out
}

/// An answer with no question, for packets whose question cannot be read.
pub fn header_only(id: u16, query_flags: u16, rcode: Rcode) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(&id.to_be_bytes());
    let flags = QR | RA | (query_flags & (OPCODE_MASK | RD | CD)) | rcode as u16;
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    out
}

/// BADVERS: extended response code 16, sent as 0 in the header and 1 in the
/// OPT record (RFC 6891 §6.1.3), with our version, 0.
pub fn bad_version(id: u16, query_flags: u16, udp_payload: u16) -> Vec<u8> {
    let mut out = header_only(id, query_flags, Rcode::NoError);
    out[10..12].copy_from_slice(&1u16.to_be_bytes());
    write_opt(&mut out, udp_payload, false, 1, None);
    out
}

/// The offsets of the TTL fields of every record in a message, leaving out
/// the OPT record, whose "TTL" holds flags. `None` if the message is
/// malformed.
pub fn ttl_offsets(message: &[u8]) -> Option<(usize, Vec<u16>)> {
    if message.len() < HEADER_LEN {
        return None;
    }
    let count = |i: usize| u16::from_be_bytes([message[4 + 2 * i], message[5 + 2 * i]]) as usize;
    let mut at = HEADER_LEN;
    for _ in 0..count(0) {
        at = skip_name(message, at)? + 4;
    }
    let question_end = at;
    if question_end > message.len() {
        return None;
    }
    let mut offsets = Vec::new();
    for _ in 0..(count(1) + count(2) + count(3)) {
        let (rtype, ttl_at, end) = skip_record(message, at)?;
        if rtype != TYPE_OPT {
            offsets.push(u16::try_from(ttl_at).ok()?);
        }
        at = end;
    }
    Some((question_end, offsets))
}

/// Sets the ID and flags of an answer built for another query.
pub fn set_header_for(answer: &mut [u8], query: &Query<'_>, rcode_bits: u16) {
    answer[0..2].copy_from_slice(&query.id.to_be_bytes());
    let flags = QR | RA | (query.flags & (RD | CD)) | (rcode_bits & 0x000f);
    answer[2..4].copy_from_slice(&flags.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16, edns: Option<(u16, bool)>) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        assert!(text_to_name(name, &mut p));
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&CLASS_IN.to_be_bytes());
        if let Some((payload, dnssec_ok)) = edns {
            p[11] = 1;
            write_opt(&mut p, payload, dnssec_ok, 0, None);
        }
        p
    }

    #[test]
    fn reads_a_query_with_edns() {
        let p = query("WWW.Example.com", TYPE_AAAA, Some((4096, true)));
        let q = parse_query(&p).expect("query");
        assert_eq!(q.id, 0x1234);
        assert_eq!(q.qtype, TYPE_AAAA);
        assert!(q.recursion_desired());
        assert_eq!(
            q.edns,
            Some(ClientEdns {
                payload: 4096,
                version: 0,
                dnssec_ok: true
            })
        );
        let mut name = String::new();
        assert!(q.name_into(&mut name));
        assert_eq!(name, "www.example.com");
        let mut key = Vec::new();
        q.key_into(&mut key);
        assert_eq!(&key[..5], b"\x03www\x07");
        assert_eq!(q.udp_limit(1232), 1232);
    }

    #[test]
    fn refuses_what_is_not_a_plain_query() {
        assert_eq!(parse_query(&[0; 5]).err(), Some(Refusal::Drop));
        let mut p = query("example.com", TYPE_A, None);
        p[2] |= 0x80;
        assert_eq!(parse_query(&p).err(), Some(Refusal::Drop));
        let mut p = query("example.com", TYPE_A, None);
        p[5] = 2;
        assert!(matches!(
            parse_query(&p).err(),
            Some(Refusal::Reply {
                rcode: Rcode::FormErr,
                ..
            })
        ));
        let mut p = query("example.com", TYPE_A, None);
        p.truncate(p.len() - 3);
        assert!(matches!(
            parse_query(&p).err(),
            Some(Refusal::Reply {
                rcode: Rcode::FormErr,
                ..
            })
        ));
        let mut p = query("example.com", TYPE_A, Some((1232, false)));
        let version_at = p.len() - 5;
        p[version_at] = 1;
        assert!(matches!(
            parse_query(&p).err(),
            Some(Refusal::BadVersion { .. })
        ));
    }

    #[test]
    fn odd_names_are_not_host_names() {
        let mut out = String::new();
        assert!(!name_to_text(b"\x03a.b\x03com\x00", &mut out));
        assert!(!name_to_text(b"\x03a b\x03com\x00", &mut out));
        assert!(!name_to_text(b"\x03abc", &mut out));
        assert!(name_to_text(b"\x00", &mut out));
        assert_eq!(out, "");
    }

    #[test]
    fn block_answers_carry_the_extended_error() {
        let p = query("bet.example", TYPE_A, Some((1232, false)));
        let q = parse_query(&p).expect("query");
        let mut reply = Reply::new(&q, Rcode::NoError);
        reply.a(Ipv4Addr::new(192, 0, 2, 1), 60);
        let out = reply.finish(1232, Some((ExtendedError::Blocked, "gambling")));
        let message =
            hickory_proto::op::Message::from_vec(&out).expect("hickory reads what we write");
        assert_eq!(message.answers().len(), 1);
        let edns = message.extensions().as_ref().expect("edns");
        let ede = edns
            .options()
            .get(hickory_proto::rr::rdata::opt::EdnsCode::Unknown(15))
            .expect("EDE");
        assert_eq!(
            ede,
            &hickory_proto::rr::rdata::opt::EdnsOption::Unknown(15, b"\x00\x0fgambling".to_vec())
        );
        let (question_end, ttls) = ttl_offsets(&out).expect("offsets");
        assert_eq!(question_end, p.len() - 11);
        assert_eq!(ttls.len(), 1);
        let t = truncated(&q, 1232);
        assert_eq!(t[2] & 0x02, 0x02);
    }
}
