//! One query, from packet to answer: read it, see who is asking, decide,
//! answer from the block rules, the cache or an upstream.
//!
//! The work is split in two so the receive loop never waits on an upstream:
//! [`Resolver::begin`] does everything that needs no network and either
//! answers at once (blocks, cache hits, refusals) or returns a [`Pending`]
//! question; [`Resolver::finish`] turns the upstream's answer into the
//! client's. Nothing here keeps a decision: every query is decided with the
//! policy in force when it arrives.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use classify::canon::{HostKind, canonical_host_into};
use classify::taxonomy::Category;
use gate::{Gate, Who};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use jiff::Timestamp;
use policy::{Decision, Engine, Rule, Verdict};
use store::{ActivityEvent, Source};

use crate::cache::{self, Cache, Entry};
use crate::settings::{BlockedAnswer, Settings};
use crate::upstream::{Failure, Upstream};
use crate::wire::{self, ExtendedError, Query, Rcode, Refusal, Reply};

/// What the resolver needs from the rest of schoolgate; [`Gate`] in
/// production, something smaller in the fuzz target.
pub trait Surroundings {
    /// The policy in force.
    fn engine(&self) -> Arc<Engine>;
    /// Who is behind an address now.
    fn identify(&self, address: IpAddr, now: Timestamp) -> Who;
    /// Queues an activity event; never waits.
    fn record(&self, event: ActivityEvent);
    /// Counts a decided query.
    fn observe(&self, verdict: Verdict, took: Duration);
    /// Counts a packet that could not be read.
    fn malformed(&self);
}

impl Surroundings for Gate {
    fn engine(&self) -> Arc<Engine> {
        Gate::engine(self)
    }

    fn identify(&self, address: IpAddr, now: Timestamp) -> Who {
        Gate::identify(self, address, None, now)
    }

    fn record(&self, event: ActivityEvent) {
        self.activity.record(event);
    }

    fn observe(&self, verdict: Verdict, took: Duration) {
        self.metrics.observe(Source::Dns, verdict, took);
    }

    fn malformed(&self) {
        self.metrics.malformed(Source::Dns);
    }
}

/// How the query came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// Buffers one receive loop reuses for every query.
#[derive(Debug, Default)]
pub struct Scratch {
    name: String,
    host: String,
    key: Vec<u8>,
}

/// What to do with a packet.
#[derive(Debug)]
pub enum Step {
    /// Nothing: it was not a query worth answering (counted as malformed).
    Drop,
    /// Send this.
    Reply(Vec<u8>),
    /// Ask upstream, then [`Resolver::finish`].
    Resolve(Box<Pending>),
}

/// A query waiting for an upstream answer.
#[derive(Debug)]
pub struct Pending {
    packet: Vec<u8>,
    transport: Transport,
    /// The question to ask upstream (a cache key).
    key: Vec<u8>,
    /// The enforced safe-search host the answer points to, if any.
    safe_search: Option<&'static str>,
    verdict: Verdict,
    started: Instant,
    log: Option<Logged>,
}

impl Pending {
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

/// What an activity event needs beyond the answer.
#[derive(Debug)]
struct Logged {
    at: Timestamp,
    client: IpAddr,
    who: Who,
    profile: String,
    host: String,
    qtype: u16,
    categories: String,
    rule: String,
    verdict: Verdict,
}

/// The DNS filter's state: settings, cache and upstreams.
#[derive(Debug)]
pub struct Resolver {
    settings: Arc<Settings>,
    cache: Cache,
    upstream: Upstream,
}

/// `name` is `zone` or under it.
fn is_under(name: &str, zone: &str) -> bool {
    name == zone
        || (name.len() > zone.len()
            && name.ends_with(zone)
            && name.as_bytes()[name.len() - zone.len() - 1] == b'.')
}

/// Firefox asks for this name before turning DNS over HTTPS on by itself;
/// NXDOMAIN tells it the network filters and it must not.
const CANARY: &str = "use-application-dns.net";
/// Discovery of Designated Resolvers (RFC 9462): `_dns.resolver.arpa` SVCB
/// would tell clients how to reach us encrypted, out of our sight.
const DDR_ZONE: &str = "resolver.arpa";
/// iCloud Private Relay: a failed lookup of these names turns it off on this
/// network and tells the user so (Apple's advice to networks that filter).
const PRIVATE_RELAY: [&str; 2] = ["mask.icloud.com", "mask-h2.icloud.com"];

fn category(id: &str) -> Option<Category> {
    Category::from_id(id)
}

/// The Extended DNS Error for a block: who blocked it and why, never which
/// statutory entry.
fn extended_error(decision: &Decision) -> (ExtendedError, String) {
    let blocked = |why: &str| {
        (
            ExtendedError::Blocked,
            format!("Blocked by the school's filter: {why}"),
        )
    };
    match decision.rule {
        Rule::Statutory(kind) => (
            ExtendedError::Censored,
            format!("Blocked by law: on the {} list", kind.name()),
        ),
        Rule::Category(c) | Rule::ScheduleBlocks { category: c, .. } => blocked(c.name()),
        Rule::Deny(_) => blocked("on the school's block list"),
        Rule::WalledGarden => blocked("not one of the approved sites"),
        Rule::IpAddress => blocked("a bare IP address"),
        Rule::Allow(_) | Rule::ScheduleAllows { .. } | Rule::NotBlocked => blocked("policy"),
    }
}

/// The short rule name of the activity log, as `schoolgate check` shows it.
fn rule_name(engine: &Engine, host: &str, kind: HostKind, decision: &Decision) -> String {
    match decision.rule {
        Rule::Statutory(k) => format!("statutory:{}", k.id()),
        Rule::Category(c) => format!("category:{}", c.id()),
        Rule::WalledGarden => "walled-garden".to_owned(),
        Rule::IpAddress => "ip-address".to_owned(),
        Rule::NotBlocked => "default".to_owned(),
        Rule::Deny(_)
        | Rule::Allow(_)
        | Rule::ScheduleAllows { .. }
        | Rule::ScheduleBlocks { .. } => engine.explain_host(host, kind, decision).rule,
    }
}

/// The record type's name for the log: `A`, `AAAA`, `HTTPS`, `TYPE65534`.
fn type_name(qtype: u16) -> String {
    hickory_proto::rr::RecordType::from(qtype).to_string()
}

impl Resolver {
    pub fn new(settings: Arc<Settings>) -> Resolver {
        Resolver {
            cache: Cache::new(settings.cache_entries, settings.cache_max_bytes),
            upstream: Upstream::new(&settings),
            settings,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    fn limit(&self, query: &Query<'_>, transport: Transport) -> usize {
        match transport {
            Transport::Udp => query.udp_limit(self.settings.udp_payload),
            Transport::Tcp => u16::MAX as usize,
        }
    }

    /// Everything that needs no upstream. `packet` is one DNS message.
    pub fn begin<S: Surroundings + ?Sized>(
        &self,
        surroundings: &S,
        packet: &[u8],
        client: IpAddr,
        transport: Transport,
        scratch: &mut Scratch,
    ) -> Step {
        let started = Instant::now();
        let ours = self.settings.udp_payload;
        let query = match wire::parse_query(packet) {
            Ok(query) => query,
            Err(Refusal::Drop) => {
                surroundings.malformed();
                return Step::Drop;
            }
            Err(Refusal::Reply { id, flags, rcode }) => {
                surroundings.malformed();
                return Step::Reply(wire::header_only(id, flags, rcode));
            }
            Err(Refusal::BadVersion { id, flags }) => {
                return Step::Reply(wire::bad_version(id, flags, ours));
            }
        };
        let limit = self.limit(&query, transport);
        let fit = |answer: Vec<u8>| {
            if answer.len() > limit {
                Step::Reply(wire::truncated(&query, ours))
            } else {
                Step::Reply(answer)
            }
        };
        // Chaos-class and other non-Internet questions have no host to decide on.
        if query.qclass != wire::CLASS_IN {
            return fit(Reply::new(&query, Rcode::Refused).finish(ours, None));
        }
        if !query.name_into(&mut scratch.name) {
            surroundings.malformed();
            return fit(Reply::new(&query, Rcode::Refused).finish(ours, None));
        }
        let name = scratch.name.as_str();

        // Protocol signals, the same for everyone and never logged: every
        // Firefox asks for the canary at start, which is nobody's attempt.
        if is_under(name, CANARY) {
            let error = (
                ExtendedError::Blocked,
                "DNS over HTTPS is turned off on this network",
            );
            return fit(Reply::new(&query, Rcode::NxDomain).finish(ours, Some(error)));
        }
        if is_under(name, DDR_ZONE) {
            return fit(Reply::new(&query, Rcode::NoError).finish(ours, None));
        }
        query.key_into(&mut scratch.key);
        if name.is_empty() {
            // The root (priming queries): nothing to decide.
            return self.allowed(surroundings, &query, transport, started, None, scratch);
        }
        let kind = match canonical_host_into(name, &mut scratch.host) {
            Ok(kind) => kind,
            Err(_) => {
                // Not a host name schoolgate can decide on, so no answer for it.
                surroundings.malformed();
                return fit(Reply::new(&query, Rcode::Refused).finish(ours, None));
            }
        };
        let host = scratch.host.as_str();

        let engine = surroundings.engine();
        let at = Timestamp::now();
        let who = surroundings.identify(client, at);
        let profile = Gate::profile_for(&engine, &who);
        let mut decision = engine.decide_host(profile, host, kind, at);
        let private_relay = PRIVATE_RELAY.iter().any(|zone| is_under(host, zone));
        if private_relay
            && decision.verdict != Verdict::Block
            && !matches!(decision.rule, Rule::Allow(_))
        {
            // Private Relay is not in the lists: it follows the profile's
            // VPN and proxy categories.
            let blocked = engine.policy().profiles[profile].blocked_categories;
            if let Some(c) = ["vpn", "proxy"]
                .into_iter()
                .filter_map(category)
                .find(|c| blocked.contains(*c))
            {
                decision.verdict = Verdict::Block;
                decision.rule = Rule::Category(c);
                decision.categories.insert(c);
                decision.safe_search = None;
            }
        }
        let logged =
            (decision.verdict != Verdict::Allow || self.settings.log_allowed).then(|| Logged {
                at,
                client,
                profile: engine.policy().profiles[profile].id.clone(),
                host: host.to_owned(),
                qtype: query.qtype,
                categories: decision
                    .categories
                    .iter()
                    .map(Category::id)
                    .collect::<Vec<_>>()
                    .join(","),
                rule: rule_name(&engine, host, kind, &decision),
                verdict: decision.verdict,
                who,
            });

        match decision.verdict {
            Verdict::Block => {
                let answer = self.blocked(&query, &decision, private_relay);
                let step = fit(answer);
                self.done(surroundings, Verdict::Block, started, logged, &step);
                step
            }
            Verdict::Allow => {
                self.allowed(surroundings, &query, transport, started, logged, scratch)
            }
            Verdict::SafeSearch => {
                // The engine always names the enforced host with this verdict.
                let Some((_, target)) = decision.safe_search else {
                    return self.allowed(surroundings, &query, transport, started, logged, scratch);
                };
                if query.qtype == wire::TYPE_CNAME {
                    let step = fit(self.safe_search_answer(&query, target, None));
                    self.done(surroundings, Verdict::SafeSearch, started, logged, &step);
                    return step;
                }
                let Some(key) = cache::key_for(target, query.qtype) else {
                    return fit(Reply::new(&query, Rcode::ServFail).finish(ours, None));
                };
                match self.cache.get(&key, Instant::now()) {
                    Some(entry) => {
                        let step = fit(self.safe_search_answer(&query, target, Some(&entry)));
                        self.done(surroundings, Verdict::SafeSearch, started, logged, &step);
                        step
                    }
                    None => Step::Resolve(Box::new(Pending {
                        packet: query_packet(&query),
                        transport,
                        key,
                        safe_search: Some(target),
                        verdict: Verdict::SafeSearch,
                        started,
                        log: logged,
                    })),
                }
            }
        }
    }

    fn allowed<S: Surroundings + ?Sized>(
        &self,
        surroundings: &S,
        query: &Query<'_>,
        transport: Transport,
        started: Instant,
        logged: Option<Logged>,
        scratch: &Scratch,
    ) -> Step {
        match self.cache.get(&scratch.key, Instant::now()) {
            Some(entry) => {
                let answer = entry.render(
                    query,
                    Instant::now(),
                    self.settings.udp_payload,
                    self.limit(query, transport),
                );
                let step = Step::Reply(answer);
                self.done(surroundings, Verdict::Allow, started, logged, &step);
                step
            }
            None => Step::Resolve(Box::new(Pending {
                packet: query_packet(query),
                transport,
                key: scratch.key.clone(),
                safe_search: None,
                verdict: Verdict::Allow,
                started,
                log: logged,
            })),
        }
    }

    /// Counts and logs a decided query once its answer is known.
    fn done<S: Surroundings + ?Sized>(
        &self,
        surroundings: &S,
        verdict: Verdict,
        started: Instant,
        logged: Option<Logged>,
        step: &Step,
    ) {
        let took = started.elapsed();
        surroundings.observe(verdict, took);
        let (Some(logged), Step::Reply(answer)) = (logged, step) else {
            return;
        };
        let status = answer.get(3).map(|b| u16::from(b & 0x0f));
        surroundings.record(ActivityEvent {
            at: logged.at,
            source: Source::Dns,
            client_ip: logged.client.to_string(),
            username: logged.who.user.as_deref().map(str::to_owned),
            device: logged.who.device.as_deref().map(str::to_owned),
            profile: logged.profile,
            method: type_name(logged.qtype),
            url: logged.host.clone(),
            host: logged.host,
            search_term: None,
            categories: logged.categories,
            verdict: logged.verdict.as_str().to_owned(),
            rule: logged.rule,
            status,
            bytes: answer.len() as u64,
            duration_ms: u32::try_from(took.as_millis()).unwrap_or(u32::MAX),
            reference: None,
        });
    }

    /// The answer for a blocked name.
    fn blocked(&self, query: &Query<'_>, decision: &Decision, private_relay: bool) -> Vec<u8> {
        let (code, text) = extended_error(decision);
        let ours = self.settings.udp_payload;
        let ttl = self.settings.blocked_ttl_seconds;
        let error = Some((code, text.as_str()));
        if private_relay || self.settings.blocked_answer == BlockedAnswer::Nxdomain {
            return Reply::new(query, Rcode::NxDomain).finish(ours, error);
        }
        let mut reply = Reply::new(query, Rcode::NoError);
        match (
            query.qtype,
            self.settings.block_page_ipv4,
            self.settings.block_page_ipv6,
        ) {
            (wire::TYPE_A, Some(v4), _) => reply.a(v4, ttl),
            (wire::TYPE_AAAA, _, Some(v6)) => reply.aaaa(v6, ttl),
            // Other types, or no address of this family: no records (NODATA).
            _ => {}
        }
        reply.finish(ours, error)
    }

    /// A CNAME from the asked name to the enforced host, followed by the
    /// enforced host's own records, so the client gets addresses at once.
    fn safe_search_answer(
        &self,
        query: &Query<'_>,
        target: &str,
        entry: Option<&Entry>,
    ) -> Vec<u8> {
        let ours = self.settings.udp_payload;
        let resolved = entry.and_then(|e| e.message(Instant::now()));
        let rcode = entry.map_or(0, Entry::rcode);
        if rcode != 0 && rcode != Rcode::NxDomain as u16 {
            return Reply::new(query, Rcode::ServFail).finish(ours, None);
        }
        let Some(asked) = read_question(query.question()) else {
            return Reply::new(query, Rcode::ServFail).finish(ours, None);
        };
        let Ok(target_name) = Name::from_ascii(target).map(|mut n| {
            n.set_fqdn(true);
            n
        }) else {
            return Reply::new(query, Rcode::ServFail).finish(ours, None);
        };
        let mut message = Message::new();
        message
            .set_id(query.id)
            .set_message_type(MessageType::Response)
            .set_op_code(OpCode::Query)
            .set_recursion_available(true)
            .set_response_code(ResponseCode::from_low(rcode as u8))
            .add_answer(Record::from_rdata(
                asked.name().clone(),
                self.settings.blocked_ttl_seconds,
                RData::CNAME(CNAME(target_name)),
            ))
            .add_query(asked);
        if let Some(resolved) = resolved {
            message.add_answers(resolved.answers().iter().cloned());
            if resolved.answers().is_empty() {
                message.add_name_servers(resolved.name_servers().iter().cloned());
            }
        }
        if let Some(client) = query.edns {
            let mut edns = Edns::new();
            edns.set_max_payload(ours).set_dnssec_ok(client.dnssec_ok);
            message.set_edns(edns);
        }
        match message.to_vec() {
            Ok(mut answer) => {
                wire::set_header_for(&mut answer, query, rcode);
                answer
            }
            Err(_) => Reply::new(query, Rcode::ServFail).finish(ours, None),
        }
    }

    /// The client's answer once the upstream has answered (or not).
    pub fn finish<S: Surroundings + ?Sized>(
        &self,
        surroundings: &S,
        pending: Box<Pending>,
        result: Result<Arc<Entry>, Failure>,
    ) -> Vec<u8> {
        let ours = self.settings.udp_payload;
        let Ok(query) = wire::parse_query(&pending.packet) else {
            // We read it once already; this cannot fail.
            return Vec::new();
        };
        let limit = self.limit(&query, pending.transport);
        let answer = match (&result, pending.safe_search) {
            (Ok(entry), None) => entry.render(&query, Instant::now(), ours, limit),
            (Ok(entry), Some(target)) => self.safe_search_answer(&query, target, Some(entry)),
            (Err(Failure::NoAnswer), _) => Reply::new(&query, Rcode::ServFail).finish(
                ours,
                Some((
                    ExtendedError::NoReachableAuthority,
                    "No upstream resolver answered",
                )),
            ),
        };
        let answer = if answer.len() > limit {
            wire::truncated(&query, ours)
        } else {
            answer
        };
        let step = Step::Reply(answer);
        self.done(
            surroundings,
            pending.verdict,
            pending.started,
            pending.log,
            &step,
        );
        match step {
            Step::Reply(answer) => answer,
            _ => Vec::new(),
        }
    }

    /// SERVFAIL at once, when too many queries are already waiting upstream.
    pub fn busy<S: Surroundings + ?Sized>(
        &self,
        surroundings: &S,
        pending: Box<Pending>,
    ) -> Vec<u8> {
        self.finish(surroundings, pending, Err(Failure::NoAnswer))
    }

    /// Both halves, for one query (TCP connections and spawned UDP tasks).
    pub async fn resolve<S: Surroundings + ?Sized>(
        &self,
        surroundings: &S,
        pending: Box<Pending>,
    ) -> Vec<u8> {
        let result = self.upstream.resolve(&self.cache, &pending.key).await;
        self.finish(surroundings, pending, result)
    }

    /// Answers one message; `None` when it deserves no answer.
    pub async fn answer<S: Surroundings + ?Sized>(
        &self,
        surroundings: &S,
        packet: &[u8],
        client: IpAddr,
        transport: Transport,
        scratch: &mut Scratch,
    ) -> Option<Vec<u8>> {
        match self.begin(surroundings, packet, client, transport, scratch) {
            Step::Drop => None,
            Step::Reply(answer) => Some(answer),
            Step::Resolve(pending) => Some(self.resolve(surroundings, pending).await),
        }
    }
}

/// The query alone (header and question, and EDNS as a record), enough to
/// parse again in [`Resolver::finish`].
fn query_packet(query: &Query<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire::HEADER_LEN + query.question().len() + 11);
    out.extend_from_slice(&query.id.to_be_bytes());
    out.extend_from_slice(&query.flags().to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, u8::from(query.edns.is_some())]);
    out.extend_from_slice(query.question());
    if let Some(edns) = query.edns {
        wire::write_opt(&mut out, edns.payload, edns.dnssec_ok, 0, None);
    }
    out
}

fn read_question(question: &[u8]) -> Option<hickory_proto::op::Query> {
    let mut decoder = BinDecoder::new(question);
    hickory_proto::op::Query::read(&mut decoder).ok()
}
