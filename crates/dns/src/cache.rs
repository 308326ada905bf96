//! The answer cache: upstream answers, never decisions.
//!
//! A decision depends on who asks and on the policy in force, which a reload
//! can change at any moment, so only what upstream resolvers said is kept and
//! every query is decided afresh.
//!
//! An upstream answer is decoded with hickory-proto, checked against the
//! question it answers, and written again in a normal form: ID 0, the
//! question in lower case, no EDNS record. Serving it from the cache is then a
//! copy with the client's ID, flags and question put in and every TTL
//! lowered by the time it has been kept; no decoding.
//!
//! TTLs are honoured: an answer is kept for the smallest TTL of its answer
//! records, at most `cache_max_ttl_seconds`. "No such name" and "no such
//! record" answers are kept as RFC 2308 says, for the smaller of the SOA
//! record's TTL and its MINIMUM field (at most `negative_ttl_seconds`), and
//! not at all without an SOA record. Failures (SERVFAIL, REFUSED) are never
//! kept.
//!
//! The cache is bounded both in entries and in bytes. When full, the
//! "clock" algorithm picks what to drop: expired answers first, then answers
//! not asked for since the hand last passed them.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

use crate::wire::{self, HEADER_LEN, Query};

/// Why an upstream answer was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadAnswer {
    /// It could not be decoded.
    Malformed(String),
    /// It answers some other question (a stray or forged packet).
    WrongQuestion,
    /// The upstream set TC: the whole answer needs TCP.
    Truncated,
}

/// An upstream answer in normal form.
#[derive(Debug)]
pub struct Entry {
    wire: Box<[u8]>,
    question_end: usize,
    ttl_offsets: Box<[u16]>,
    rcode: u16,
    stored: Instant,
    /// `None`: serve it to those waiting for it, but do not keep it.
    expires: Option<Instant>,
}

/// What an upstream answer's TTLs are clamped with.
#[derive(Clone, Copy, Debug)]
pub struct TtlLimits {
    pub max_ttl: u32,
    pub negative_ttl: u32,
}

impl Entry {
    /// Checks and normalises an upstream answer to the question `key` (a
    /// question section in wire form with the name in lower case).
    pub fn from_upstream(
        response: &[u8],
        key: &[u8],
        limits: TtlLimits,
        now: Instant,
    ) -> Result<Entry, BadAnswer> {
        let message =
            Message::from_vec(response).map_err(|e| BadAnswer::Malformed(e.to_string()))?;
        let asked = question_from_key(key).ok_or(BadAnswer::WrongQuestion)?;
        match message.queries() {
            [q] if q.name() == asked.name()
                && q.query_type() == asked.query_type()
                && q.query_class() == asked.query_class() => {}
            _ => return Err(BadAnswer::WrongQuestion),
        }
        if message.message_type() != MessageType::Response {
            return Err(BadAnswer::Malformed("not a response".into()));
        }
        if message.truncated() {
            return Err(BadAnswer::Truncated);
        }
        let rcode = message.response_code();
        let clamp = |r: &Record, ttl_cap: u32| {
            let mut r = r.clone();
            r.set_ttl(r.ttl().min(ttl_cap));
            r
        };
        let answers: Vec<Record> = message
            .answers()
            .iter()
            .map(|r| clamp(r, limits.max_ttl))
            .collect();
        let negative = answers.is_empty()
            && (rcode == ResponseCode::NoError || rcode == ResponseCode::NXDomain);
        let mut negative_ttl = None;
        let authority: Vec<Record> = message
            .name_servers()
            .iter()
            .map(|r| match r.data() {
                RData::SOA(soa) if negative => {
                    // RFC 2308 §5: the SOA's TTL, or its MINIMUM if lower.
                    let ttl = r.ttl().min(soa.minimum()).min(limits.negative_ttl);
                    negative_ttl = Some(negative_ttl.map_or(ttl, |t: u32| t.min(ttl)));
                    clamp(r, ttl)
                }
                _ => clamp(r, limits.max_ttl),
            })
            .collect();
        let additional: Vec<Record> = message
            .additionals()
            .iter()
            .map(|r| clamp(r, limits.max_ttl))
            .collect();
        let ttl = match rcode {
            ResponseCode::NoError | ResponseCode::NXDomain if !negative => {
                answers.iter().map(Record::ttl).min()
            }
            ResponseCode::NoError | ResponseCode::NXDomain => negative_ttl,
            _ => None,
        };
        // Extended response codes (above 15) are passed on as SERVFAIL:
        // our answers carry only the header's four bits.
        let rcode_bits = match u16::from(rcode) {
            code @ 0..=15 => code,
            _ => u16::from(ResponseCode::ServFail),
        };
        let mut normal = Message::new();
        normal
            .set_id(0)
            .set_message_type(MessageType::Response)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .set_recursion_available(true)
            .set_response_code(ResponseCode::from_low(rcode_bits as u8))
            .add_query(asked)
            .add_answers(answers)
            .add_name_servers(authority)
            .add_additionals(additional);
        let wire = normal
            .to_vec()
            .map_err(|e| BadAnswer::Malformed(e.to_string()))?;
        let (question_end, ttl_offsets) =
            wire::ttl_offsets(&wire).ok_or_else(|| BadAnswer::Malformed("re-encoding".into()))?;
        if question_end != HEADER_LEN + key.len() {
            return Err(BadAnswer::WrongQuestion);
        }
        Ok(Entry {
            wire: wire.into_boxed_slice(),
            question_end,
            ttl_offsets: ttl_offsets.into_boxed_slice(),
            rcode: rcode_bits,
            stored: now,
            expires: ttl
                .filter(|&t| t > 0)
                .map(|t| now + Duration::from_secs(u64::from(t))),
        })
    }

    /// The response code, as in the header.
    pub fn rcode(&self) -> u16 {
        self.rcode
    }

    pub fn is_cacheable(&self) -> bool {
        self.expires.is_some()
    }

    fn expired(&self, now: Instant) -> bool {
        self.expires.is_none_or(|e| e <= now)
    }

    /// Roughly what keeping this entry costs in memory.
    fn cost(&self, key_len: usize) -> usize {
        self.wire.len() + self.ttl_offsets.len() * 2 + key_len + 128
    }

    /// The answer in the normal form with TTLs lowered by the time kept.
    fn aged(&self, now: Instant) -> Vec<u8> {
        let elapsed = now.saturating_duration_since(self.stored).as_secs();
        let elapsed = u32::try_from(elapsed).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(self.wire.len() + 64);
        out.extend_from_slice(&self.wire);
        if elapsed > 0 {
            for &at in self.ttl_offsets.iter() {
                let at = at as usize;
                let ttl = u32::from_be_bytes([out[at], out[at + 1], out[at + 2], out[at + 3]]);
                out[at..at + 4].copy_from_slice(&ttl.saturating_sub(elapsed).to_be_bytes());
            }
        }
        out
    }

    /// The answer for `query`: its ID, flags and question, our EDNS record
    /// if it sent one, truncated (TC, question only) if it exceeds `limit`.
    pub fn render(
        &self,
        query: &Query<'_>,
        now: Instant,
        udp_payload: u16,
        limit: usize,
    ) -> Vec<u8> {
        let mut out = self.aged(now);
        wire::set_header_for(&mut out, query, self.rcode);
        let question = query.question();
        if question.len() == self.question_end - HEADER_LEN {
            out[HEADER_LEN..self.question_end].copy_from_slice(question);
        }
        if let Some(edns) = query.edns {
            let additional = u16::from_be_bytes([out[10], out[11]]) + 1;
            out[10..12].copy_from_slice(&additional.to_be_bytes());
            wire::write_opt(&mut out, udp_payload, edns.dnssec_ok, 0, None);
        }
        if out.len() > limit {
            return wire::truncated(query, udp_payload);
        }
        out
    }

    /// The answer decoded, TTLs lowered by the time kept, for composing
    /// safe-search answers.
    pub fn message(&self, now: Instant) -> Option<Message> {
        Message::from_vec(&self.aged(now)).ok()
    }
}

/// The question a cache key stands for.
fn question_from_key(key: &[u8]) -> Option<hickory_proto::op::Query> {
    let mut decoder = BinDecoder::new(key);
    let query = hickory_proto::op::Query::read(&mut decoder).ok()?;
    decoder.is_empty().then_some(query)
}

/// Builds a cache key for `name` (presentation form) and `qtype`, class IN.
pub fn key_for(name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut key = Vec::with_capacity(name.len() + 6);
    if !wire::text_to_name(&name.to_ascii_lowercase(), &mut key) {
        return None;
    }
    key.extend_from_slice(&qtype.to_be_bytes());
    key.extend_from_slice(&wire::CLASS_IN.to_be_bytes());
    Some(key)
}

/// The record type of a cache key.
pub fn key_type(key: &[u8]) -> RecordType {
    let n = key.len();
    RecordType::from(u16::from_be_bytes([key[n - 4], key[n - 3]]))
}

/// The name of a cache key.
pub fn key_name(key: &[u8]) -> Option<Name> {
    question_from_key(key).map(|q| q.name().clone())
}

struct Slot {
    key: Arc<[u8]>,
    entry: Arc<Entry>,
    referenced: bool,
    cost: usize,
}

#[derive(Default)]
struct Shard {
    map: HashMap<Arc<[u8]>, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    hand: usize,
    bytes: usize,
}

impl Shard {
    fn remove(&mut self, index: usize) {
        if let Some(slot) = self.slots[index].take() {
            self.map.remove(&slot.key);
            self.bytes -= slot.cost;
            self.free.push(index);
        }
    }

    /// Drops one entry: the first expired or unreferenced one after the hand.
    fn evict_one(&mut self, now: Instant) {
        if self.map.is_empty() {
            return;
        }
        // Two turns always suffice: the first clears every reference bit.
        for _ in 0..2 * self.slots.len() + 1 {
            self.hand = (self.hand + 1) % self.slots.len();
            let index = self.hand;
            let Some(slot) = self.slots[index].as_mut() else {
                continue;
            };
            if slot.referenced && !slot.entry.expired(now) {
                slot.referenced = false;
                continue;
            }
            self.remove(index);
            return;
        }
    }
}

/// The answer cache, in shards to keep lock contention low.
pub struct Cache {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    entries_per_shard: usize,
    bytes_per_shard: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

const SHARDS: usize = 16;

impl Cache {
    /// A cache of at most `entries` answers and about `bytes` bytes; zero
    /// entries turns it off.
    pub fn new(entries: usize, bytes: usize) -> Cache {
        // Each shard holds its share, rounded down, so the whole never
        // exceeds either bound.
        let shards = entries.min(SHARDS);
        Cache {
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
            entries_per_shard: entries.checked_div(shards).unwrap_or(0),
            bytes_per_shard: bytes.checked_div(shards).unwrap_or(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn shard(&self, key: &[u8]) -> Option<&Mutex<Shard>> {
        if self.shards.is_empty() {
            return None;
        }
        let index = self.hasher.hash_one(key) as usize % self.shards.len();
        Some(&self.shards[index])
    }

    /// A live answer to the question `key`.
    pub fn get(&self, key: &[u8], now: Instant) -> Option<Arc<Entry>> {
        let found = self.shard(key).and_then(|shard| {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let index = *shard.map.get(key)?;
            let slot = shard.slots[index].as_mut()?;
            if slot.entry.expired(now) {
                shard.remove(index);
                return None;
            }
            slot.referenced = true;
            Some(slot.entry.clone())
        });
        match found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    /// Keeps an answer if it may be kept, making room as needed.
    pub fn insert(&self, key: &[u8], entry: Arc<Entry>, now: Instant) {
        if !entry.is_cacheable() || entry.expired(now) {
            return;
        }
        let Some(shard) = self.shard(key) else {
            return;
        };
        let cost = entry.cost(key.len());
        if cost > self.bytes_per_shard {
            return;
        }
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&index) = shard.map.get(key) {
            shard.remove(index);
        }
        while shard.map.len() >= self.entries_per_shard || shard.bytes + cost > self.bytes_per_shard
        {
            let before = shard.map.len();
            shard.evict_one(now);
            if shard.map.len() == before {
                return;
            }
        }
        let key: Arc<[u8]> = Arc::from(key);
        let slot = Slot {
            key: key.clone(),
            entry,
            referenced: false,
            cost,
        };
        let index = match shard.free.pop() {
            Some(index) => {
                shard.slots[index] = Some(slot);
                index
            }
            None => {
                shard.slots.push(Some(slot));
                shard.slots.len() - 1
            }
        };
        shard.map.insert(key, index);
        shard.bytes += cost;
    }

    /// Answers kept now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).map.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of answers kept now, as the bound counts them.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes)
            .sum()
    }

    /// Lookups answered from the cache, and not, so far.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, SOA};
    use std::net::Ipv4Addr;

    const LIMITS: TtlLimits = TtlLimits {
        max_ttl: 3600,
        negative_ttl: 300,
    };

    fn answer(name: &str, rcode: ResponseCode, ttl: u32, soa_minimum: Option<u32>) -> Vec<u8> {
        let name = Name::from_ascii(name).expect("name");
        let mut m = Message::new();
        m.set_id(7)
            .set_message_type(MessageType::Response)
            .set_response_code(rcode)
            .add_query(hickory_proto::op::Query::query(name.clone(), RecordType::A));
        match soa_minimum {
            None => {
                m.add_answer(Record::from_rdata(
                    name,
                    ttl,
                    RData::A(A(Ipv4Addr::new(192, 0, 2, 7))),
                ));
            }
            Some(minimum) => {
                let zone = Name::from_ascii("example.").expect("zone");
                m.add_name_server(Record::from_rdata(
                    zone.clone(),
                    ttl,
                    RData::SOA(SOA::new(zone.clone(), zone, 1, 60, 60, 600, minimum)),
                ));
            }
        }
        m.to_vec().expect("encode")
    }

    #[test]
    fn positive_and_negative_ttls() {
        let now = Instant::now();
        let key = key_for("www.example", 1).expect("key");
        let e = Entry::from_upstream(
            &answer("WWW.example.", ResponseCode::NoError, 90, None),
            &key,
            LIMITS,
            now,
        )
        .expect("entry");
        assert_eq!(e.expires, Some(now + Duration::from_secs(90)));
        let e = Entry::from_upstream(
            &answer("www.example.", ResponseCode::NoError, 99_999, None),
            &key,
            LIMITS,
            now,
        )
        .expect("entry");
        assert_eq!(e.expires, Some(now + Duration::from_secs(3600)));
        // NXDOMAIN: min(SOA TTL 500, MINIMUM 120) = 120.
        let e = Entry::from_upstream(
            &answer("www.example.", ResponseCode::NXDomain, 500, Some(120)),
            &key,
            LIMITS,
            now,
        )
        .expect("entry");
        assert_eq!(e.expires, Some(now + Duration::from_secs(120)));
        // Capped by negative_ttl.
        let e = Entry::from_upstream(
            &answer("www.example.", ResponseCode::NXDomain, 5000, Some(5000)),
            &key,
            LIMITS,
            now,
        )
        .expect("entry");
        assert_eq!(e.expires, Some(now + Duration::from_secs(300)));
        let e = Entry::from_upstream(
            &answer("www.example.", ResponseCode::ServFail, 0, Some(1)),
            &key,
            LIMITS,
            now,
        )
        .expect("entry");
        assert!(!e.is_cacheable());
        let other = key_for("other.example", 1).expect("key");
        assert_eq!(
            Entry::from_upstream(
                &answer("www.example.", ResponseCode::NoError, 90, None),
                &other,
                LIMITS,
                now
            )
            .err(),
            Some(BadAnswer::WrongQuestion)
        );
    }

    #[test]
    fn the_cache_never_grows_past_its_bound() {
        let cache = Cache::new(64, 1 << 20);
        let now = Instant::now();
        for i in 0..10_000 {
            let name = format!("host{i}.example.");
            let key = key_for(&name, 1).expect("key");
            let e = Entry::from_upstream(
                &answer(&name, ResponseCode::NoError, 300, None),
                &key,
                LIMITS,
                now,
            )
            .expect("entry");
            cache.insert(&key, Arc::new(e), now);
            // Keep one name in use: the clock keeps what is asked for.
            let hot = key_for("host0.example", 1).expect("key");
            assert!(cache.get(&hot, now).is_some(), "lost the hot entry at {i}");
        }
        assert!(cache.len() <= 64, "{}", cache.len());
        let small = Cache::new(100_000, 64 * 1024);
        for i in 0..10_000 {
            let name = format!("host{i}.example.");
            let key = key_for(&name, 1).expect("key");
            let e = Entry::from_upstream(
                &answer(&name, ResponseCode::NoError, 300, None),
                &key,
                LIMITS,
                now,
            )
            .expect("entry");
            small.insert(&key, Arc::new(e), now);
        }
        assert!(small.bytes() <= 64 * 1024, "{}", small.bytes());
        assert!(small.len() > 10);
    }

    #[test]
    fn expired_answers_are_not_served() {
        let cache = Cache::new(10, 1 << 20);
        let now = Instant::now();
        let key = key_for("www.example", 1).expect("key");
        let e = Entry::from_upstream(
            &answer("www.example.", ResponseCode::NoError, 5, None),
            &key,
            LIMITS,
            now,
        )
        .expect("entry");
        cache.insert(&key, Arc::new(e), now);
        assert!(cache.get(&key, now + Duration::from_secs(4)).is_some());
        assert!(cache.get(&key, now + Duration::from_secs(5)).is_none());
        assert!(cache.is_empty());
    }
}
