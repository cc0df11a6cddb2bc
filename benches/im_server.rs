//! The controlling IM Server through bytes:
//!
//! * a full Ad-hoc IM Group setup with 3 invitees (INVITE with URI list, three
//!   INVITEs out, 180 and 200 from each invitee, 180 and 200 to the inviter,
//!   ACKs) and its teardown (a BYE from every Participant), next to the
//!   parse + write cost of the same SIP messages;
//! * the fan-out of one MSRP message to 10 other Participants (the 200s of the
//!   10 relayed SENDs fed back);
//! * memory (resident set growth) per idle 5-party session, at 1 000 and at
//!   100 000 sessions (`IM_BENCH_SESSIONS` overrides the larger count,
//!   `IM_BENCH_COUNTS=1000,100000` sets every count);
//! * the cost of one event (an in-dialog UPDATE refreshing a session) with
//!   1 000 and with 100 000 sessions hosted;
//! * an INVITE flood over UDP: 100 000 never-answered session requests (one
//!   invitee each) to a server with its default limits: the peak and the
//!   final bytes live (counting allocator), the sessions created, the 503s,
//!   and the bytes per session.
//!
//! SIP runs over TCP here, so no transaction lingers in a wait state. Run
//! without `--bench` (as `cargo test --all-targets` does), every figure is
//! taken on a small count, as a smoke test.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::im::server::{ConnectionId, ImServer, Input, Output, ServerConfig};
use oma_im::sip::{parse_message, HeaderName};
use oma_im::transaction::Transport;

#[global_allocator]
static A: support::Counting = support::Counting;

const FACTORY: &str = "sip:conf@im.example.com";
const LOBBY: &str = "sip:lobby@im.example.com";

fn core() -> SocketAddr {
    "192.0.2.1:5060".parse().unwrap()
}

fn server(max_sessions: usize) -> ImServer {
    let mut config =
        ServerConfig::new("192.0.2.10:5060".parse().unwrap(), core(), "im.example.com");
    config.transport = Transport::Tcp;
    config.conference_factory_uris.push(FACTORY.into());
    config.public_conferences.push(LOBBY.into());
    config.limits.max_sessions = max_sessions;
    config.limits.max_participants = 16;
    config.limits.ua.max_dialogs = max_sessions * 6;
    config.limits.ua.max_transactions = max_sessions * 6;
    // The benches measure per-session costs at scale, not the default
    // memory budget: the byte budgets are lifted with the counts.
    config.limits.ua.max_held_bytes = usize::MAX;
    config.limits.max_session_bytes = usize::MAX;
    config.limits.max_msrp_buffered_bytes = usize::MAX;
    ImServer::new(config)
}

fn sdp(user: &str, setup: &str) -> String {
    format!(
        "v=0\r\no={user} 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n\
         m=message 7000 TCP/MSRP *\r\na=accept-types:message/cpim\r\n\
         a=path:msrp://192.0.2.20:7000/{user};tcp\r\na=setup:{setup}\r\n"
    )
}

fn invite(call: &str, target: &str, invitees: usize) -> Vec<u8> {
    let offer = sdp(call, "active");
    let (ct, body) = if invitees == 0 {
        ("application/sdp".to_owned(), offer)
    } else {
        let mut list = String::new();
        for i in 0..invitees {
            list.push_str(&format!("<entry uri=\"sip:u{i}-{call}@example.com\"/>"));
        }
        (
            "multipart/mixed;boundary=b".to_owned(),
            format!(
                "--b\r\nContent-Type: application/sdp\r\n\r\n{offer}\r\n--b\r\n\
                 Content-Type: application/resource-lists+xml\r\n\r\n\
                 <resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>{list}</list></resource-lists>\r\n--b--\r\n"
            ),
        )
    };
    format!(
        "INVITE {target} SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-{call}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:{call}@example.com>;tag=f-{call}\r\nTo: <{target}>\r\n\
         Call-ID: {call}\r\nCSeq: 1 INVITE\r\nContact: <sip:{call}@192.0.2.20;transport=tcp>\r\n\
         Allow: INVITE, ACK, BYE, UPDATE\r\nSupported: timer\r\nContent-Type: {ct}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn value(m: &oma_im::sip::SipMessage<'_>, name: HeaderName<'_>) -> String {
    m.header(name)
        .map(|h| h.value.to_owned())
        .unwrap_or_default()
}

/// The invitee's response to an INVITE of the server.
fn answer(invite: &[u8], status: u16) -> Vec<u8> {
    let m = parse_message(invite).unwrap();
    let body = if status == 200 {
        sdp("invitee", "active")
    } else {
        String::new()
    };
    let ct = if status == 200 {
        "Content-Type: application/sdp\r\nSession-Expires: 1800;refresher=uas\r\n"
    } else {
        ""
    };
    format!(
        "SIP/2.0 {status} X\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=t1\r\nCall-ID: {}\r\nCSeq: {}\r\n\
         Contact: <sip:invitee@192.0.2.30;transport=tcp>\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        value(&m, HeaderName::Via),
        value(&m, HeaderName::From),
        value(&m, HeaderName::To),
        value(&m, HeaderName::CallId),
        value(&m, HeaderName::CSeq),
        body.len()
    )
    .into_bytes()
}

/// A request inside the dialog of a message the server sent (`seen`): an
/// ACK/UPDATE/BYE from the inviter (`seen` is the server's response to its
/// INVITE) or a BYE from an invitee (`seen` is the server's INVITE).
fn in_dialog(seen: &[u8], method: &str, cseq: u32, from_inviter: bool) -> Vec<u8> {
    let m = parse_message(seen).unwrap();
    let contact = m.contact().next().unwrap().unwrap();
    let oma_im::sip::Contact::Address(contact) = contact else {
        unreachable!()
    };
    let target = contact.uri.to_string();
    let (from, to) = if from_inviter {
        (value(&m, HeaderName::From), value(&m, HeaderName::To))
    } else {
        (
            format!("{};tag=t1", value(&m, HeaderName::To)),
            value(&m, HeaderName::From),
        )
    };
    let extra = if method == "UPDATE" {
        "Session-Expires: 1800;refresher=uac\r\n"
    } else {
        ""
    };
    format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-{method}{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n\
         {extra}Content-Length: 0\r\n\r\n",
        value(&m, HeaderName::CallId)
    )
    .into_bytes()
}

struct World {
    server: ImServer,
    now: Instant,
    sip_out: Vec<Vec<u8>>,
    msrp_out: Vec<(ConnectionId, Vec<u8>)>,
    /// Time, allocations and allocated bytes in [`World::setup_step`].
    setup_ns: u128,
    setup_allocs: u64,
    setup_bytes: u64,
}

impl World {
    fn new(max_sessions: usize) -> Self {
        World {
            server: server(max_sessions),
            now: Instant::now(),
            sip_out: Vec::new(),
            msrp_out: Vec::new(),
            setup_ns: 0,
            setup_allocs: 0,
            setup_bytes: 0,
        }
    }

    fn sip(&mut self, bytes: &[u8]) {
        self.server.handle_input(
            Input::Sip {
                bytes,
                source: core(),
                transport: Transport::Tcp,
            },
            self.now,
        );
        self.drain();
    }

    /// [`World::sip`] for the messages of an ad-hoc set-up: a function of
    /// its own, so that `benches/instructions.sh` counts its instructions
    /// apart from the building of the test messages.
    #[inline(never)]
    fn setup_step(&mut self, bytes: &[u8]) {
        let (a0, b0) = support::allocation_counts();
        let start = Instant::now();
        self.sip(bytes);
        self.setup_ns += start.elapsed().as_nanos();
        let (a1, b1) = support::allocation_counts();
        self.setup_allocs += a1 - a0;
        self.setup_bytes += b1 - b0;
    }

    fn drain(&mut self) {
        while let Some(o) = self.server.poll_output() {
            match o {
                Output::Transmit(t) => self.sip_out.push(t.bytes),
                Output::MsrpTransmit { connection, bytes } => {
                    self.msrp_out.push((connection, bytes))
                }
                _ => {}
            }
        }
    }

    fn tick(&mut self) {
        self.now += Duration::from_secs(1);
        self.server.handle_timeout(self.now);
        self.drain();
    }

    /// An ad-hoc setup with `n` invitees; returns every SIP message of it
    /// (in and out) and the server's 200 to the inviter.
    fn adhoc(&mut self, call: &str, n: usize) -> (Vec<Vec<u8>>, Vec<u8>, Vec<Vec<u8>>) {
        let mut messages = Vec::new();
        self.sip_out.clear();
        let inv = invite(call, FACTORY, n);
        self.setup_step(&inv);
        messages.push(inv);
        let invites: Vec<Vec<u8>> = self
            .sip_out
            .iter()
            .filter(|b| b.starts_with(b"INVITE "))
            .cloned()
            .collect();
        for i in &invites {
            for status in [180, 200] {
                let a = answer(i, status);
                self.setup_step(&a);
                messages.push(a);
            }
        }
        let ok = self
            .sip_out
            .iter()
            .find(|b| {
                b.starts_with(b"SIP/2.0 200") && memchr::memmem::find(b, call.as_bytes()).is_some()
            })
            .cloned()
            .expect("200 to the inviter");
        let ack = in_dialog(&ok, "ACK", 1, true);
        self.setup_step(&ack);
        messages.push(ack);
        messages.append(&mut self.sip_out);
        (messages, ok, invites)
    }
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Iterations per round: the full count under `cargo bench`, a few under
/// `cargo test`.
fn iters(full: u64) -> u64 {
    if std::env::args().any(|a| a == "--bench") {
        full
    } else {
        3
    }
}

/// Iterations per round for the rows that `benches/instructions.sh` runs
/// under callgrind: `IM_BENCH_ITERS` when set, else [`iters`].
fn row_iters(full: u64) -> u64 {
    std::env::var("IM_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| iters(full))
}

/// `true` when the row `name` is selected by `IM_BENCH_ONLY` (a substring;
/// every row when unset).
fn selected(name: &str) -> bool {
    std::env::var("IM_BENCH_ONLY").map_or(true, |only| name.contains(&only))
}

/// The floor of the set-up row: parsing and writing exactly the SIP
/// messages of one set-up with the crate's codec.
#[inline(never)]
fn setup_floor(messages: &[Vec<u8>], out: &mut Vec<u8>) -> usize {
    out.clear();
    for m in messages {
        if let Ok(msg) = parse_message(m) {
            msg.write(out);
        }
    }
    out.len()
}

/// Issue #16, row 1: an ad-hoc set-up through bytes (inviter, server, 3
/// invitees, to the ACKs), counted in [`World::setup_step`] only, next to
/// its floor; then the same set-up with its teardown and the building of
/// the test messages, end to end.
fn setup_bench() {
    let mut w = World::new(1000);
    let mut n = 0u64;
    let mut last = Vec::new();
    let (rounds, it) = (5, row_iters(2000));
    let mut setups = 0u64;
    let teardown = |w: &mut World, ok: &[u8], invites: &[Vec<u8>]| {
        let bye = in_dialog(ok, "BYE", 2, true);
        w.sip(&bye);
        for i in invites {
            let bye = in_dialog(i, "BYE", 1, false);
            w.sip(&bye);
        }
        w.sip_out.clear();
        w.tick();
    };
    let whole = support::measure("ad-hoc setup, 3 invitees, + teardown", rounds, it, || {
        n += 1;
        setups += 1;
        let call = format!("a{n}");
        let (messages, ok, invites) = w.adhoc(&call, 3);
        teardown(&mut w, &ok, &invites);
        last = messages;
    });
    assert_eq!(w.server.session_count(), 0, "every session torn down");
    let setup_ns = w.setup_ns as f64 / setups as f64;
    let setup_allocs = w.setup_allocs as f64 / setups as f64;
    let setup_bytes = w.setup_bytes as f64 / setups as f64;
    let octets: usize = last.iter().map(Vec::len).sum();
    println!(
        "{:<48} {:>12.1} ns/op {:>8.2} allocs/op {:>10.1} bytes/op",
        "  of which the server's set-up, to the ACKs", setup_ns, setup_allocs, setup_bytes
    );
    let mut out = Vec::with_capacity(octets + 1024);
    let floor = support::measure(
        &format!("  floor: parse + write its {} SIP messages", last.len()),
        rounds,
        it,
        || setup_floor(&last, &mut out),
    );
    println!(
        "row set-up: {} messages ({octets} octets): {setup_ns:.0} ns vs floor {:.0} ns = {:.1}x (goal <= 3x); \
         {setup_allocs:.0} allocations ({setup_bytes:.0} B) per set-up; whole op {:.0} ns",
        last.len(),
        floor.ns_per_op,
        setup_ns / floor.ns_per_op,
        whole.ns_per_op
    );
}

/// MSRP SEND of a CPIM message from `from` to `to`.
fn send(tid: u64, to: &str, from: &str) -> Vec<u8> {
    let cpim = "From: <sip:x@example.com>\r\nTo: <sip:lobby@im.example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nHello, everybody in the lobby!";
    format!(
        "MSRP t{tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: {from}\r\nMessage-ID: m{tid}\r\n\
         Byte-Range: 1-{n}/{n}\r\nContent-Type: message/cpim\r\n\r\n{cpim}\r\n-------t{tid}$\r\n",
        n = cpim.len()
    )
    .into_bytes()
}

fn header_line<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .map_or("", str::trim)
}

fn fanout_bench() {
    let mut w = World::new(16);
    let mut legs = Vec::new();
    for i in 0..11 {
        let call = format!("p{i}");
        w.sip_out.clear();
        w.sip(&invite(&call, LOBBY, 0));
        let ok = w
            .sip_out
            .iter()
            .find(|b| b.starts_with(b"SIP/2.0 200"))
            .unwrap()
            .clone();
        let body = String::from_utf8_lossy(parse_message(&ok).unwrap().body()).into_owned();
        let path = header_line(&body, "a=path:").to_owned();
        w.sip(&in_dialog(&ok, "ACK", 1, true));
        let connection = w.server.msrp_accepted();
        let mine = format!("msrp://192.0.2.20:7000/{call};tcp");
        w.server.handle_input(
            Input::MsrpBytes {
                connection,
                bytes: &send(1_000_000 + i, &path, &mine),
            },
            w.now,
        );
        legs.push((connection, path, mine));
    }
    w.drain();
    w.msrp_out.clear();
    let mut tid = 0u64;
    let (c0, to0, from0) = legs[0].clone();
    // Allocations in the server's calls only (not in the building of the
    // test messages), with every transmit buffer given back.
    let mut server_allocs = 0u64;
    let mut ops = 0u64;
    let msrp = |w: &mut World, connection: ConnectionId, bytes: &[u8]| {
        let (a0, _) = support::allocation_counts();
        w.server
            .handle_input(Input::MsrpBytes { connection, bytes }, w.now);
        w.drain();
        let (a1, _) = support::allocation_counts();
        a1 - a0
    };
    support::measure(
        "fan-out of one message to 10 participants",
        5,
        iters(5000),
        || {
            tid += 1;
            ops += 1;
            server_allocs += msrp(&mut w, c0, &send(tid, &to0, &from0));
            let relayed: Vec<(ConnectionId, Vec<u8>)> = w.msrp_out.drain(..).collect();
            for (connection, bytes) in relayed {
                let text = std::str::from_utf8(&bytes).unwrap();
                if text.contains(" SEND\r\n") {
                    let id = text.split_whitespace().nth(1).unwrap();
                    let response = format!(
                        "MSRP {id} 200 OK\r\nTo-Path: {}\r\nFrom-Path: {}\r\n-------{id}$\r\n",
                        header_line(text, "From-Path:"),
                        header_line(text, "To-Path:")
                    );
                    server_allocs += msrp(&mut w, connection, response.as_bytes());
                }
                w.server.recycle(bytes);
            }
            for (_, bytes) in w.msrp_out.drain(..) {
                w.server.recycle(bytes);
            }
        },
    );
    println!(
        "  of which in the server (buffers recycled): {:.2} allocations per message",
        server_allocs as f64 / ops as f64
    );
}

/// Hosts `count` idle 5-party sessions (33 s after the last set-up); returns
/// the resident set growth and
/// the live heap growth (counting allocator) per session and, for each, the
/// inviter's 200 (for refreshes; its bytes are not counted).
fn host(w: &mut World, count: usize) -> (f64, f64, Vec<Vec<u8>>) {
    let before = rss_bytes();
    let live = support::live_bytes();
    let mut oks = Vec::with_capacity(count);
    let mut kept = 0u64;
    for i in 0..count {
        let (_, ok, _) = w.adhoc(&format!("s{i}"), 4);
        kept += ok.capacity() as u64;
        oks.push(ok);
        if i % 1000 == 999 {
            w.tick();
        }
    }
    // Established and idle: past the 64*T1 (32 s) after their set-up in
    // which retransmitted and forked 2xx are still expected (RFC 6026).
    for _ in 0..33 {
        w.tick();
    }
    let after = rss_bytes();
    let heap = support::live_bytes().saturating_sub(live + kept);
    (
        (after.saturating_sub(before)) as f64 / count as f64,
        heap as f64 / count as f64,
        oks,
    )
}

/// UPDATEs per round of the scale row: `IM_BENCH_SCALE_ITERS`, or 2 000
/// (a longer run is easier to profile).
fn scale_iters() -> u64 {
    std::env::var("IM_BENCH_SCALE_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| iters(2000))
}

/// A server hosting `count` idle 5-party sessions (issue #16, row 3: its
/// live heap per session, printed), with the UPDATEs of row 5 written
/// before the clock starts: one after the other in one buffer, as a server
/// reads them from a connection, to sessions 7 919 apart, each with a CSeq
/// above the last.
struct Hosted {
    count: usize,
    w: World,
    oks: Vec<Vec<u8>>,
    stream: Vec<u8>,
    ends: Vec<usize>,
    /// UPDATEs of `stream` sent so far, and the 200s they got.
    sent: usize,
    answered: usize,
    cseq: u32,
    at: usize,
    /// The best round so far (ns per UPDATE), and the allocations and
    /// bytes of the timed UPDATEs.
    best: f64,
    allocations: (u64, u64),
    timed: u64,
}

impl Hosted {
    fn new(count: usize, updates: u64) -> Self {
        let mut w = World::new(count + 10);
        let start = Instant::now();
        let (per_session, heap, oks) = host(&mut w, count);
        println!(
            "{count} idle 5-party sessions: {heap:.0} B live heap each ({:.1} MiB; goal <= 10 000 B), \
             {per_session:.0} B resident each, set up in {:.1?}",
            heap * count as f64 / 1048576.0,
            start.elapsed()
        );
        assert_eq!(w.server.session_count(), count);
        let mut hosted = Hosted {
            count,
            w,
            oks,
            stream: Vec::new(),
            ends: Vec::new(),
            sent: 0,
            answered: 0,
            cseq: 2,
            at: 0,
            best: f64::INFINITY,
            allocations: (0, 0),
            timed: 0,
        };
        for _ in 0..updates {
            let update = hosted.next_update();
            hosted.stream.extend_from_slice(&update);
            hosted.ends.push(hosted.stream.len());
        }
        hosted
    }

    /// The next UPDATE, made now.
    fn next_update(&mut self) -> Vec<u8> {
        self.cseq += 1;
        self.at = (self.at + 7919) % self.oks.len();
        in_dialog(&self.oks[self.at], "UPDATE", self.cseq, true)
    }

    /// The row: the server's work on the next UPDATE of the stream, and its
    /// 200 drained.
    fn update(&mut self) {
        let start = self.sent.checked_sub(1).map_or(0, |i| self.ends[i]);
        let end = self.ends[self.sent];
        self.sent += 1;
        self.w.sip(&self.stream[start..end]);
        self.answered += self
            .w
            .sip_out
            .iter()
            .filter(|m| m.starts_with(b"SIP/2.0 200"))
            .count();
        self.w.sip_out.clear();
    }

    /// `warm` UPDATEs, then a round of `iters` timed ones.
    fn round(&mut self, warm: u64, iters: u64) {
        for _ in 0..warm {
            self.update();
        }
        let (a0, b0) = support::allocation_counts();
        let start = Instant::now();
        for _ in 0..iters {
            self.update();
        }
        let ns = start.elapsed().as_nanos() as f64 / iters as f64;
        let (a1, b1) = support::allocation_counts();
        self.best = self.best.min(ns);
        self.allocations.0 += a1 - a0;
        self.allocations.1 += b1 - b0;
        self.timed += iters;
    }
}

/// Issue #16, rows 3 and 5, for each of `counts`: the live heap per
/// established 5-party session, and the cost of one in-dialog UPDATE.
/// Every count's server is set up first; then their rounds alternate (each
/// after a warm-up of its own), so that the machine's drift over the run
/// falls on every count alike; each count's best round is its figure.
fn scale_rows(counts: &[usize]) {
    let (rounds, iters) = (5, scale_iters());
    let warm = iters.min(200);
    let updates = u64::from(rounds) * (warm + iters);
    let mut hosted: Vec<Hosted> = counts.iter().map(|&n| Hosted::new(n, updates)).collect();
    for _ in 0..rounds {
        for h in &mut hosted {
            h.round(warm, iters);
        }
    }
    for h in &hosted {
        assert_eq!(h.answered, h.sent, "every UPDATE answered 200");
        let ops = h.timed as f64;
        println!(
            "{:<48} {:>12.1} ns/op {:>8.2} allocs/op {:>10.1} bytes/op",
            format!("session refresh (UPDATE) with {} sessions", h.count),
            h.best,
            h.allocations.0 as f64 / ops,
            h.allocations.1 as f64 / ops
        );
    }
    // Row 5: the largest count against the smallest, from this run.
    if let (Some(small), Some(large)) = (hosted.first(), hosted.last()) {
        if large.count > small.count {
            println!(
                "row scale: UPDATE with {} sessions {:.0} ns vs {} sessions {:.0} ns = {:.2}x (goal <= 1.5x)",
                large.count,
                large.best,
                small.count,
                small.best,
                large.best / small.best
            );
        }
    }
    // The same with each request built in the loop (parsing the 200 it
    // answers, formatting the UPDATE): how this row was measured before.
    for h in &mut hosted {
        h.stream = Vec::new();
        let count = h.count;
        support::measure(
            &format!("  the same, each UPDATE built in the loop ({count} sessions)"),
            rounds,
            iters,
            || {
                let update = h.next_update();
                h.w.sip(&update);
                h.w.sip_out.clear();
            },
        );
    }
}

/// 100 000 never-answered ad-hoc session requests over UDP (the invitees
/// never answer), at a server with its default limits.
fn flood_bench(count: usize, max_sessions: Option<usize>) {
    let mut config =
        ServerConfig::new("192.0.2.10:5060".parse().unwrap(), core(), "im.example.com");
    config.conference_factory_uris.push(FACTORY.to_owned());
    if let Some(max) = max_sessions {
        config.limits.max_sessions = max;
    }
    let cap = config.limits.max_sessions;
    let base = support::live_bytes();
    support::reset_peak();
    let mut server = ImServer::new(config);
    let now = Instant::now();
    let mut refused = 0usize;
    for i in 0..count {
        let bytes = invite(&format!("flood{i}"), FACTORY, 1);
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("SIP/2.0/TCP", "SIP/2.0/UDP");
        server.handle_input(
            Input::Sip {
                bytes: text.as_bytes(),
                source: core(),
                transport: Transport::Udp,
            },
            now,
        );
        while let Some(output) = server.poll_output() {
            if let Output::Transmit(t) = output {
                if t.bytes.starts_with(b"SIP/2.0 503") {
                    refused += 1;
                }
            }
        }
    }
    let live = support::live_bytes().saturating_sub(base);
    let peak = support::peak_bytes().saturating_sub(base);
    let sessions = server.session_count();
    println!(
        "INVITE flood: {count} requests, cap {cap}: {sessions} sessions, {refused} answered 503; \
         {:.1} MiB live after, {:.1} MiB peak, {:.0} bytes per session",
        live as f64 / 1048576.0,
        peak as f64 / 1048576.0,
        live as f64 / sessions.max(1) as f64
    );
    drop(std::hint::black_box(server));
}

fn main() {
    if selected("flood") {
        if iters(2) == 2 {
            flood_bench(100_000, None);
        } else {
            flood_bench(2_000, Some(1_000));
        }
    }
    if selected("setup") {
        setup_bench();
    }
    if selected("fanout") {
        fanout_bench();
    }
    if !selected("scale") {
        return;
    }
    // `IM_BENCH_COUNTS` (comma-separated) replaces the session counts.
    let chosen: Option<Vec<usize>> = std::env::var("IM_BENCH_COUNTS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let counts = if let Some(counts) = chosen {
        counts
    } else if iters(2) == 2 {
        let large = std::env::var("IM_BENCH_SESSIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        vec![1000, 10_000, large]
    } else {
        vec![10, 20]
    };
    scale_rows(&counts);
}
