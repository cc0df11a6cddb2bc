//! Fuzz entry point for the MSRP switch: a byte string decoded into
//! operations on three legs, run on two switches side by side.

use std::time::{Duration, Instant};

use crate::msrp::switch::{
    LegConfig, LegId, LegInput, MsrpSwitch, SwitchConfig, SwitchEvent, SwitchOutput,
};
use crate::msrp::{parse_message, Method, StartLine};

/// Legs 1 to 3.
const LEGS: u64 = 3;

fn switch_uri(n: u64) -> String {
    format!("msrp://switch.example.com:2855/leg{n};tcp")
}

fn participant_uri(n: u64) -> String {
    format!("msrp://ue{n}.example.com:7777/p{n};tcp")
}

fn leg_config(n: u64) -> LegConfig {
    let identity = format!("sip:user{n}@example.com");
    let mut config = LegConfig::new(&switch_uri(n), &participant_uri(n), &identity);
    config.max_queued_bytes = 64 * 1024;
    config
}

/// Reads operations from the input.
struct Ops<'a>(&'a [u8]);

impl<'a> Ops<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

/// What a switch handed out: transmits as the bytes written (with their
/// leg), events.
type Out = Vec<(u64, Vec<u8>, Option<SwitchEvent>)>;

fn drain(switch: &mut MsrpSwitch) -> Out {
    let mut out = Vec::new();
    while let Some(o) = switch.poll_output() {
        match o {
            SwitchOutput::Transmit(t) => {
                let leg = t.leg.0;
                let bytes = t.into_bytes();
                assert!(
                    parse_message(&bytes).is_ok(),
                    "a transmit is one MSRP message"
                );
                out.push((leg, bytes, None));
            }
            SwitchOutput::Event(e) => out.push((0, Vec::new(), Some(e))),
        }
    }
    out
}

/// A SEND from leg `n`: kind 0 a first chunk (CPIM), 1 a continuation, 2 a
/// last chunk, 3 an empty SEND; `body` as given.
fn send(n: u64, kind: u8, tid: &str, body: &[u8]) -> Vec<u8> {
    let (range, flag) = match kind % 4 {
        0 => ("1-*/*".to_owned(), '+'),
        1 => ("100-*/*".to_owned(), '+'),
        2 => (format!("200-{}/*", 199 + body.len()), '$'),
        _ => ("1-0/0".to_owned(), '$'),
    };
    let mut wire = format!(
        "MSRP {tid} SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: m{}\r\n\
         Byte-Range: {range}\r\n",
        switch_uri(n),
        participant_uri(n),
        kind / 4 % 3
    )
    .into_bytes();
    if kind % 4 == 3 {
        wire.extend_from_slice(format!("-------{tid}{flag}\r\n").as_bytes());
        return wire;
    }
    wire.extend_from_slice(b"Content-Type: message/cpim\r\n\r\n");
    if kind % 4 == 0 {
        wire.extend_from_slice(
            b"From: <sip:x@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\n",
        );
    }
    wire.extend_from_slice(body);
    wire.extend_from_slice(format!("\r\n-------{tid}{flag}\r\n").as_bytes());
    wire
}

/// The response of leg `n` to the SEND `written`, as a participant writes
/// it (`code` 200 takes the switch's fast path).
fn response(n: u64, written: &[u8], code: u16) -> Option<Vec<u8>> {
    let m = parse_message(written).ok()?;
    let tid = m.head.transact_id;
    Some(
        format!(
            "MSRP {tid} {code} OK\r\nTo-Path: {}\r\nFrom-Path: {}\r\n-------{tid}$\r\n",
            switch_uri(n),
            participant_uri(n)
        )
        .into_bytes(),
    )
}

/// `msrp_switch_events`: decodes `data` into operations on two switches
/// with the same seed and legs 1 to 3, and drives both with them:
///
/// * `0, leg, kind, len, body`: a SEND from the leg (see [`send`]);
/// * `1, leg, len, bytes`: raw bytes from the leg;
/// * `2, leg, code`: the leg answers every SEND queued for it, 200 or the
///   code given;
/// * `3, seconds`: the clock advances;
/// * `4, leg`: the leg leaves and joins again; `5, leg`: blocked;
///   `6, leg`: writable.
///
/// The first switch gets each input whole, the second cut into pieces of
/// the size the operation's first byte gives: the fast paths for whole
/// messages and quick responses must give exactly what the stream parser
/// gives. Checked after every operation: both hand out the same transmits,
/// byte for byte, and the same events; every transmit parses.
pub fn msrp_switch_events(data: &[u8]) {
    let mut ops = Ops(data);
    let piece = usize::from(ops.byte().unwrap_or(1)).max(1);
    let mut now = Instant::now();
    let config = SwitchConfig {
        rng_seed: 11.into(),
        ..SwitchConfig::default()
    };
    let mut whole = MsrpSwitch::new(config.clone());
    let mut split = MsrpSwitch::new(config);
    for n in 1..=LEGS {
        for switch in [&mut whole, &mut split] {
            let _ = switch.join(LegId(n), leg_config(n), now);
        }
    }
    let mut tids = 0u32;
    // The SENDs each leg was sent and has not answered yet.
    let mut unanswered: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut steps = 0;
    while let Some(op) = ops.byte() {
        steps += 1;
        if steps > super::ROLE_STEPS {
            break;
        }
        let leg = u64::from(ops.byte().unwrap_or(0)) % LEGS + 1;
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        match op % 7 {
            0 => {
                let kind = ops.byte().unwrap_or(0);
                let len = usize::from(ops.byte().unwrap_or(0)) * 4;
                tids = tids.wrapping_add(1);
                inputs.push(send(leg, kind, &format!("f{tids:05}"), ops.bytes(len)));
            }
            1 => {
                let len = usize::from(ops.byte().unwrap_or(0));
                inputs.push(ops.bytes(len).to_vec());
            }
            2 => {
                let code = match ops.byte().unwrap_or(0) {
                    0..=199 => 200,
                    c => 400 + u16::from(c) % 200,
                };
                let (mine, others): (Vec<_>, Vec<_>) =
                    unanswered.drain(..).partition(|(to, _)| *to == leg);
                unanswered = others;
                inputs.extend(mine.iter().filter_map(|(_, w)| response(leg, w, code)));
            }
            3 => now += Duration::from_secs(u64::from(ops.byte().unwrap_or(0))),
            4 => {
                for switch in [&mut whole, &mut split] {
                    switch.leave(LegId(leg));
                    let _ = switch.join(LegId(leg), leg_config(leg), now);
                }
                unanswered.retain(|(to, _)| *to != leg);
            }
            5 => {
                whole.handle_input(LegId(leg), LegInput::Blocked, now);
                split.handle_input(LegId(leg), LegInput::Blocked, now);
            }
            _ => {
                whole.handle_input(LegId(leg), LegInput::Writable, now);
                split.handle_input(LegId(leg), LegInput::Writable, now);
            }
        }
        for input in &inputs {
            whole.handle_input(LegId(leg), LegInput::Bytes(input), now);
            for bytes in input.chunks(piece) {
                split.handle_input(LegId(leg), LegInput::Bytes(bytes), now);
            }
        }
        if op % 7 == 3 {
            whole.handle_timeout(now);
            split.handle_timeout(now);
        }
        let (a, b) = (drain(&mut whole), drain(&mut split));
        assert_eq!(a, b, "whole and split input gave different outputs");
        for (to, bytes, _) in a {
            let is_send = parse_message(&bytes)
                .is_ok_and(|m| m.head.start == StartLine::Request(Method::Send));
            if to != 0 && is_send {
                unanswered.push((to, bytes));
            }
        }
    }
}
