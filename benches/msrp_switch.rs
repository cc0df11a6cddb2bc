//! The MSRP switch relaying 4 KiB chunks from one leg to 10 others, next to
//! a plain memcpy of the same bytes (10 copies of each chunk into a reused
//! buffer).
//!
//! What the row (`relay_one`) measures per chunk: the SEND fed in as bytes
//! (parsed, its body received, its 200 written and handed out), the 10
//! relayed SENDs written and handed out to the point a transport writes
//! them (each [`LegTransmit::slices`]: the leg's own head, the chunk's body
//! shared by all 10, its own end-line; their lengths summed as relayed
//! bytes, exactly what a vectored write sends), the 10 legs' 200s written
//! (as a participant would) and fed in as bytes, and every transmit given
//! back with `recycle_transmit`. The floor (`copy_floor`) is what relaying
//! the same payload by copying costs at the least: 10 copies of the 4 KiB
//! body.

mod support;

use std::hint::black_box;
use std::time::Instant;

use oma_im::msrp::switch::{
    LegConfig, LegId, LegInput, LegTransmit, MsrpSwitch, SwitchConfig, SwitchOutput,
};

#[global_allocator]
static A: support::Counting = support::Counting;

const CHUNK: usize = 4096;
const LEGS: u64 = 10;

fn switch_uri(n: u64) -> String {
    format!("msrp://switch.example.com:2855/leg{n};tcp")
}

fn participant_uri(n: u64) -> String {
    format!("msrp://ue{n}.example.com:7777/p{n};tcp")
}

fn send(tid: &str, range: &str, body: &[u8], flag: char) -> Vec<u8> {
    let mut out = format!(
        "MSRP {tid} SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: bench1\r\n\
         Byte-Range: {range}\r\nContent-Type: message/cpim\r\n\r\n",
        switch_uri(0),
        participant_uri(0)
    )
    .into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(format!("\r\n-------{tid}{flag}\r\n").as_bytes());
    out
}

/// One relayed chunk: the SEND in, its 10 copies out, the legs' 200s in.
#[inline(never)]
fn relay_one(
    switch: &mut MsrpSwitch,
    next: &[u8],
    now: Instant,
    responses: &mut Vec<LegTransmit>,
    drain: &impl Fn(&mut MsrpSwitch, &mut Vec<LegTransmit>) -> usize,
    answer: &mut impl FnMut(&mut MsrpSwitch, &mut Vec<LegTransmit>),
) -> usize {
    send_in(switch, next, now);
    let n = drain_out(switch, responses, drain);
    answers_in(switch, responses, answer);
    n
}

/// The SEND in: parsed, its body received, its copies and its 200 written.
#[inline(never)]
fn send_in(switch: &mut MsrpSwitch, next: &[u8], now: Instant) {
    switch.handle_input(LegId(0), LegInput::Bytes(next), now);
}

/// Every transmit polled, the copies' slices summed as a vectored write
/// would send them.
#[inline(never)]
fn drain_out(
    switch: &mut MsrpSwitch,
    responses: &mut Vec<LegTransmit>,
    drain: &impl Fn(&mut MsrpSwitch, &mut Vec<LegTransmit>) -> usize,
) -> usize {
    drain(switch, responses)
}

/// The legs' 200s written (as a participant would) and fed in.
#[inline(never)]
fn answers_in(
    switch: &mut MsrpSwitch,
    responses: &mut Vec<LegTransmit>,
    answer: &mut impl FnMut(&mut MsrpSwitch, &mut Vec<LegTransmit>),
) {
    answer(switch, responses)
}

/// The floor: 10 copies of a 4 KiB chunk into a reused buffer.
#[inline(never)]
fn copy_floor(buf: &mut Vec<u8>, body: &[u8]) -> usize {
    buf.clear();
    for _ in 0..LEGS {
        buf.extend_from_slice(black_box(body));
    }
    buf.len()
}

fn main() {
    let now = Instant::now();
    let mut switch = MsrpSwitch::new(SwitchConfig::default());
    for n in 0..=LEGS {
        let identity = format!("sip:user{n}@example.com");
        let mut leg = LegConfig::new(&switch_uri(n), &participant_uri(n), &identity);
        leg.max_queued_bytes = 1 << 20;
        switch.join(LegId(n), leg, now).expect("join");
    }
    let mut first_body =
        b"From: <sip:user0@example.com>\r\nTo: <sip:conf@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\n"
            .to_vec();
    first_body.resize(CHUNK, b'x');
    let first = send("first0001", "1-4096/*", &first_body, '+');
    let body: Vec<u8> = (0..CHUNK).map(|i| b'a' + (i % 26) as u8).collect();
    let next = send("next00001", "4097-8192/*", &body, '+');

    let mut responses: Vec<LegTransmit> = Vec::new();
    let mut response = Vec::with_capacity(256);
    let drain = |switch: &mut MsrpSwitch, responses: &mut Vec<LegTransmit>| {
        let mut relayed = 0usize;
        while let Some(out) = switch.poll_output() {
            if let SwitchOutput::Transmit(t) = out {
                if t.leg != LegId(0) {
                    // What a vectored write of the transmit sends.
                    relayed += black_box(t.slices()).iter().map(|s| s.len()).sum::<usize>();
                    responses.push(t);
                } else {
                    switch.recycle_transmit(t);
                }
            }
        }
        relayed
    };
    // The paths of each leg's 200 responses, written once.
    let paths: Vec<Vec<u8>> = (0..=LEGS)
        .map(|n| {
            format!(
                "To-Path: {}\r\nFrom-Path: {}\r\n",
                switch_uri(n),
                participant_uri(n)
            )
            .into_bytes()
        })
        .collect();
    let mut answer = |switch: &mut MsrpSwitch, responses: &mut Vec<LegTransmit>| {
        for t in responses.drain(..) {
            let leg = t.leg;
            let tid = t.slices()[0]
                .get(5..)
                .and_then(|rest| rest.split(|&b| b == b' ').next())
                .unwrap_or_default();
            response.clear();
            response.extend_from_slice(b"MSRP ");
            response.extend_from_slice(tid);
            response.extend_from_slice(b" 200 OK\r\n");
            response.extend_from_slice(&paths[leg.0 as usize]);
            response.extend_from_slice(b"-------");
            response.extend_from_slice(tid);
            response.extend_from_slice(b"$\r\n");
            switch.handle_input(leg, LegInput::Bytes(&response), now);
            switch.recycle_transmit(t);
        }
    };

    switch.handle_input(LegId(0), LegInput::Bytes(&first), now);
    let relayed = drain(&mut switch, &mut responses);
    assert!(
        relayed >= CHUNK * LEGS as usize,
        "the first chunk reached every leg"
    );
    answer(&mut switch, &mut responses);

    // Check once that a continuation chunk goes out to all 10 legs.
    switch.handle_input(LegId(0), LegInput::Bytes(&next), now);
    let relayed = drain(&mut switch, &mut responses);
    assert_eq!(responses.len(), LEGS as usize);
    assert!(relayed >= CHUNK * LEGS as usize);
    answer(&mut switch, &mut responses);

    // `MSRP_BENCH_ITERS` makes the binary cheap under callgrind
    // (`benches/instructions.sh`).
    let iters = std::env::var("MSRP_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let relay = support::measure(
        "switch: relay 4 KiB chunk to 10 legs (+200s)",
        5,
        iters,
        || relay_one(&mut switch, &next, now, &mut responses, &drain, &mut answer),
    );
    assert_eq!(
        switch.queued_bytes(LegId(1)),
        Some(0),
        "nothing left behind"
    );

    let mut buf = Vec::with_capacity(CHUNK * LEGS as usize);
    let copy = support::measure("memcpy: 10 copies of a 4 KiB chunk", 5, iters, || {
        copy_floor(&mut buf, &body)
    });

    let payload = (CHUNK * LEGS as usize) as f64;
    let mib = |ns: f64| payload / ns * 1e9 / (1024.0 * 1024.0);
    println!(
        "switch: {:.0} MiB/s of relayed payload, {:.1} allocations per relayed chunk ({:.2} per leg)",
        mib(relay.ns_per_op),
        relay.allocs_per_op,
        relay.allocs_per_op / LEGS as f64
    );
    println!("memcpy: {:.0} MiB/s", mib(copy.ns_per_op));
    println!(
        "row switch: {:.0} ns per relayed chunk vs floor {:.0} ns = {:.1}% of memcpy throughput (goal >= 50%); \
         {:.1} allocations per chunk",
        relay.ns_per_op,
        copy.ns_per_op,
        100.0 * copy.ns_per_op / relay.ns_per_op,
        relay.allocs_per_op
    );
}
