//! The MSRP switch with participant legs, each leg's far end an
//! `MsrpSession`, everything moved as bytes split at odd points.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::time::Instant;

use oma_im::msrp::session::{
    CpimIdentities, Event, Input, MsrpSession, Output, SendOptions, SessionConfig, SessionParams,
};
use oma_im::msrp::switch::{
    LegConfig, LegFailure, LegId, LegInput, MsrpSwitch, SwitchConfig, SwitchEvent, SwitchOutput,
};
use oma_im::sdp::AcceptTypes;
use proptest::prelude::*;

fn switch_uri(n: u64) -> String {
    format!("msrp://switch.example.com:2855/leg{n};tcp")
}

fn participant_uri(n: u64) -> String {
    format!("msrp://ue{n}.example.com:7777/p{n};tcp")
}

fn identity(n: u64) -> String {
    format!("sip:user{n}@example.com")
}

/// A received message: Message-ID, CPIM From, inner content.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Got {
    message_id: String,
    from: String,
    content: Vec<u8>,
}

struct Net {
    switch: MsrpSwitch,
    parts: BTreeMap<u64, MsrpSession>,
    got: BTreeMap<u64, Vec<Got>>,
    part_events: BTreeMap<u64, Vec<Event>>,
    switch_events: Vec<SwitchEvent>,
    now: Instant,
    /// The largest queue seen per leg.
    peak_queue: BTreeMap<u64, usize>,
    /// Joins so far: each participant session gets its own seed, so a
    /// participant that leaves and joins again draws new Message-IDs.
    joins: u64,
}

impl Net {
    fn new() -> Self {
        Net {
            switch: MsrpSwitch::new(SwitchConfig {
                rng_seed: 99.into(),
                ..SwitchConfig::default()
            }),
            parts: BTreeMap::new(),
            got: BTreeMap::new(),
            part_events: BTreeMap::new(),
            switch_events: Vec::new(),
            now: Instant::now(),
            peak_queue: BTreeMap::new(),
            joins: 0,
        }
    }

    /// Adds participant `n`, connected to its own leg of the switch.
    fn join(&mut self, n: u64, leg: LegConfig) {
        self.switch.join(LegId(n), leg, self.now).expect("join");
        let mut params = SessionParams::new(&participant_uri(n), &switch_uri(n), true);
        params.local_accept_types = AcceptTypes::from_iter(["message/cpim"]);
        params.remote_accept_types = AcceptTypes::from_iter(["message/cpim"]);
        params.remote_accept_wrapped_types = Some(AcceptTypes::from_iter(["text/plain"]));
        let config = SessionConfig {
            rng_seed: (1000 + n + 100 * self.joins).into(),
            chunk_size: NonZeroUsize::new(1024).expect("non-zero"),
            // What the participant claims; the switch writes the leg's
            // identity instead (a different length: later chunks shift).
            cpim: Some(CpimIdentities {
                from: format!("sip:claimed-{n}@elsewhere.example.org"),
                to: "sip:conference@example.com".to_owned(),
            }),
            ..SessionConfig::default()
        };
        self.joins += 1;
        let mut part = MsrpSession::new(params, config).expect("participant");
        part.handle_input(Input::Connected, self.now);
        self.switch
            .handle_input(LegId(n), LegInput::Connected, self.now);
        self.parts.insert(n, part);
        self.got.entry(n).or_default();
    }

    fn join_plain(&mut self, n: u64) {
        self.join(
            n,
            LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n)),
        );
    }

    fn leave(&mut self, n: u64) {
        assert!(self.switch.leave(LegId(n)));
        self.parts.remove(&n);
    }

    fn send(&mut self, n: u64, text: &[u8]) -> String {
        let now = self.now;
        self.parts
            .get_mut(&n)
            .expect("participant")
            .send_message("text/plain", text, SendOptions::default(), now)
            .expect("sent")
    }

    /// Feeds one participant's pending output to the switch, at most
    /// `limit` transmits.
    fn feed_from(&mut self, n: u64, limit: usize) -> usize {
        let mut fed = 0;
        while fed < limit {
            let Some(part) = self.parts.get_mut(&n) else {
                break;
            };
            let Some(out) = part.poll_output() else {
                break;
            };
            match out {
                Output::Transmit(t) => {
                    for piece in t.data.chunks(101) {
                        self.switch
                            .handle_input(LegId(n), LegInput::Bytes(piece), self.now);
                    }
                    fed += 1;
                }
                Output::Event(e) => self.record(n, e),
            }
        }
        fed
    }

    fn record(&mut self, n: u64, e: Event) {
        if let Event::MessageReceived(m) = &e {
            let cpim = m.cpim.clone().expect("CPIM").expect("parses");
            self.got.entry(n).or_default().push(Got {
                message_id: m.message_id.clone(),
                from: cpim.from.expect("From").uri.into_owned(),
                content: cpim.content.into_owned(),
            });
        }
        self.part_events.entry(n).or_default().push(e);
    }

    fn run(&mut self) {
        for _ in 0..100_000 {
            let mut moved = false;
            let ids: Vec<u64> = self.parts.keys().copied().collect();
            for n in ids {
                moved |= self.feed_from(n, usize::MAX) > 0;
            }
            for (id, _) in self.parts.iter() {
                let q = self.switch.queued_bytes(LegId(*id)).unwrap_or(0);
                let peak = self.peak_queue.entry(*id).or_default();
                *peak = (*peak).max(q);
            }
            while let Some(out) = self.switch.poll_output() {
                match out {
                    SwitchOutput::Transmit(t) => {
                        moved = true;
                        let n = t.leg.0;
                        let now = self.now;
                        if let Some(part) = self.parts.get_mut(&n) {
                            for piece in t.into_bytes().chunks(57) {
                                part.handle_input(Input::Bytes(piece), now);
                            }
                        }
                    }
                    SwitchOutput::Event(e) => self.switch_events.push(e),
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the network did not go idle");
    }

    fn got_ids(&self, n: u64) -> Vec<String> {
        self.got[&n].iter().map(|g| g.message_id.clone()).collect()
    }
}

#[test]
fn five_legs_every_message_reaches_every_other_leg_once_with_its_sender_in_from() {
    let mut net = Net::new();
    for n in 1..=5 {
        net.join_plain(n);
    }
    net.run();
    let mut sent = Vec::new();
    for n in [1, 3, 5, 3] {
        let text = format!("hello from {n}").into_bytes();
        sent.push((n, net.send(n, &text), text));
    }
    let big: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    sent.push((2, net.send(2, &big), big));
    net.run();
    for receiver in 1..=5u64 {
        let mut expected: Vec<Got> = sent
            .iter()
            .filter(|(from, _, _)| *from != receiver)
            .map(|(from, id, text)| Got {
                message_id: id.clone(),
                from: identity(*from),
                content: text.clone(),
            })
            .collect();
        expected.sort();
        let mut got = net.got[&receiver].clone();
        got.sort();
        assert_eq!(got, expected, "participant {receiver}");
    }
    let relayed: Vec<_> = net
        .switch_events
        .iter()
        .filter_map(|e| match e {
            SwitchEvent::MessageRelayed {
                from_leg, to_legs, ..
            } => Some((*from_leg, to_legs.len())),
            _ => None,
        })
        .collect();
    assert_eq!(relayed.len(), sent.len());
    assert!(relayed.iter().all(|(_, n)| *n == 4));
    // Every sender saw its messages acknowledged.
    for (n, id, _) in &sent {
        assert!(net.part_events[n].contains(&Event::MessageSent {
            message_id: id.clone()
        }));
    }
}

#[test]
fn legs_join_and_leave_while_a_chunked_message_flows() {
    let mut net = Net::new();
    for n in 1..=5 {
        net.join_plain(n);
    }
    net.run();
    let body: Vec<u8> = (0..8_000u32).map(|i| (i % 251) as u8 | 1).collect();
    let id = net.send(1, &body);
    // The first chunks reach the switch, then the membership changes.
    assert_eq!(net.feed_from(1, 3), 3);
    net.join_plain(6);
    net.leave(2);
    net.run();
    for n in [3, 4, 5] {
        assert_eq!(net.got_ids(n), std::slice::from_ref(&id), "participant {n}");
        assert_eq!(net.got[&n][0].content, body);
    }
    assert!(net.got[&6].is_empty(), "joined mid-message: not this one");
    assert!(net.switch_events.contains(&SwitchEvent::MessageRelayed {
        from_leg: LegId(1),
        message_id: id.clone().into(),
        to_legs: vec![LegId(3), LegId(4), LegId(5)],
    }));
    // The next message reaches the newcomer.
    let next = net.send(1, b"welcome");
    net.run();
    assert_eq!(net.got_ids(6), std::slice::from_ref(&next));
    assert_eq!(net.got_ids(3), [id, next]);
}

#[test]
fn a_sender_leaving_mid_message_aborts_it_for_the_others() {
    let mut net = Net::new();
    for n in 1..=3 {
        net.join_plain(n);
    }
    net.run();
    let id = net.send(1, &[b'q'; 5000]);
    net.feed_from(1, 2);
    net.run_switch_only();
    net.leave(1);
    net.run();
    for n in [2, 3] {
        assert!(net.got[&n].is_empty());
        assert!(
            net.part_events[&n].contains(&Event::MessageAborted {
                message_id: id.clone()
            }),
            "participant {n}: {:?}",
            net.part_events[&n]
        );
        assert!(net.switch_events.contains(&SwitchEvent::DeliveryFailed {
            leg: LegId(n),
            message_id: id.clone().into(),
            cause: LegFailure::SenderLeft,
        }));
    }
    assert_eq!(net.parts[&2].partial_messages(), 0);
}

impl Net {
    /// Moves the switch's output only (participants' output stays queued).
    fn run_switch_only(&mut self) {
        while let Some(out) = self.switch.poll_output() {
            match out {
                SwitchOutput::Transmit(t) => {
                    let now = self.now;
                    if let Some(part) = self.parts.get_mut(&t.leg.0) {
                        part.handle_input(Input::Bytes(&t.into_bytes()), now);
                    }
                }
                SwitchOutput::Event(e) => self.switch_events.push(e),
            }
        }
    }
}

#[test]
fn a_slow_leg_stays_within_its_bound_and_does_not_block_the_others() {
    let mut net = Net::new();
    let bound = 64 * 1024;
    for n in 1..=5 {
        let mut leg = LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n));
        leg.max_queued_bytes = bound;
        net.join(n, leg);
    }
    net.run();
    // Leg 5's socket never takes another byte.
    net.switch
        .handle_input(LegId(5), LegInput::Blocked, net.now);
    let mut ids = Vec::new();
    for round in 0..40 {
        for _ in 0..5 {
            let text = vec![b'0' + (round % 10) as u8; 4096];
            ids.push(net.send(1, &text));
        }
        net.run();
        assert!(net.switch.queued_bytes(LegId(5)).expect("leg 5") <= bound);
    }
    assert!(net.peak_queue[&5] <= bound);
    for n in 2..=4 {
        assert_eq!(
            net.got_ids(n),
            ids,
            "participant {n} got everything in order"
        );
    }
    assert!(net.got[&5].len() < ids.len());
    assert!(net
        .switch_events
        .contains(&SwitchEvent::LegCongested(LegId(5))));
    assert!(net.switch_events.iter().any(|e| matches!(
        e,
        SwitchEvent::DeliveryFailed {
            leg: LegId(5),
            cause: LegFailure::Congested,
            ..
        }
    )));
    assert!(!net.switch_events.iter().any(|e| matches!(e,
        SwitchEvent::LegCongested(l) if *l != LegId(5))));
    // Once writable again, what was queued drains and new messages flow.
    net.switch
        .handle_input(LegId(5), LegInput::Writable, net.now);
    net.run();
    assert_eq!(net.switch.queued_bytes(LegId(5)), Some(0));
    let last = net.send(2, b"after the jam");
    net.run();
    assert_eq!(net.got[&5].last().map(|g| g.message_id.clone()), Some(last));
}

#[test]
fn anonymity_rewrites_from() {
    let mut net = Net::new();
    net.join_plain(1);
    let mut anonymous = LegConfig::new(&switch_uri(2), &participant_uri(2), &identity(2));
    anonymous.anonymous_identity = Some("sip:anonymous@anonymous.invalid".to_owned());
    net.join(2, anonymous);
    net.join_plain(3);
    net.run();
    net.send(2, b"guess who");
    net.send(1, b"not anonymous");
    let long: Vec<u8> = (0..5000u32).map(|i| b'A' + (i % 26) as u8).collect();
    net.send(2, &long);
    net.run();
    assert_eq!(
        net.got[&3].iter().filter(|g| g.content == long).count(),
        1,
        "chunked, shifted, reassembled"
    );
    let from_of = |n: u64, text: &[u8]| {
        net.got[&n]
            .iter()
            .find(|g| g.content == text)
            .map(|g| g.from.clone())
            .expect("received")
    };
    assert_eq!(from_of(1, b"guess who"), "sip:anonymous@anonymous.invalid");
    assert_eq!(from_of(3, b"guess who"), "sip:anonymous@anonymous.invalid");
    assert_eq!(from_of(2, b"not anonymous"), identity(1));
}

#[test]
fn the_switch_answers_non_cpim_with_415_and_unknown_paths_with_481() {
    let mut switch = MsrpSwitch::new(SwitchConfig::default());
    let now = Instant::now();
    for n in 1..=2 {
        switch
            .join(
                LegId(n),
                LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n)),
                now,
            )
            .expect("join");
    }
    let send = |to: &str, ct: &str| {
        format!(
            "MSRP abcd SEND\r\nTo-Path: {to}\r\nFrom-Path: {}\r\nMessage-ID: m1\r\n\
             Byte-Range: 1-2/2\r\nContent-Type: {ct}\r\n\r\nhi\r\n-------abcd$\r\n",
            participant_uri(1)
        )
    };
    switch.handle_input(
        LegId(1),
        LegInput::Bytes(send(&switch_uri(1), "text/plain").as_bytes()),
        now,
    );
    switch.handle_input(
        LegId(1),
        LegInput::Bytes(send(&switch_uri(2), "message/cpim").as_bytes()),
        now,
    );
    let mut codes = Vec::new();
    while let Some(out) = switch.poll_output() {
        if let SwitchOutput::Transmit(t) = out {
            assert_eq!(t.leg, LegId(1), "nothing relayed");
            let bytes = t.into_bytes();
            let msg = oma_im::msrp::parse_message(&bytes).expect("response");
            if let oma_im::msrp::StartLine::Response { code, .. } = msg.head.start {
                codes.push(code);
            }
        }
    }
    assert_eq!(codes, [415, 481]);
}

/// RFC 4975 §7.2: a response's To-Path is the first URI of the request's
/// From-Path and its From-Path the first URI of its To-Path. A SEND that came
/// straight from the participant is answered on the leg's own paths (the
/// participant's URI as the leg knows it: the same URI by §6.1); one that came
/// through a relay is answered towards that relay, and a rejected one towards
/// whatever it named.
#[test]
fn responses_go_back_to_the_first_uri_of_the_from_path() {
    let mut switch = MsrpSwitch::new(SwitchConfig::default());
    let now = Instant::now();
    for n in 1..=2 {
        switch
            .join(
                LegId(n),
                LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n)),
                now,
            )
            .expect("join");
    }
    let relay = "msrp://relay.example.net:9000/r1;tcp";
    let send = |tid: &str, to: &str, from: &str| {
        format!(
            "MSRP {tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: {from}\r\nMessage-ID: m{tid}\r\n\
             Byte-Range: 1-2/2\r\nContent-Type: message/cpim\r\n\r\nhi\r\n-------{tid}$\r\n"
        )
    };
    let cases = [
        // Straight from the participant, its URI in other case.
        (
            "t001",
            switch_uri(1).replace("switch", "SWITCH"),
            participant_uri(1).replace("ue1", "UE1"),
            participant_uri(1),
            switch_uri(1),
        ),
        // Through a relay: the relay is the first URI of the From-Path.
        (
            "t002",
            switch_uri(1),
            format!("{relay} {}", participant_uri(1)),
            relay.to_string(),
            switch_uri(1),
        ),
        // Not for this leg (481): answered with the URIs it named.
        (
            "t003",
            switch_uri(2),
            participant_uri(1),
            participant_uri(1),
            switch_uri(2),
        ),
    ];
    for (tid, to, from, want_to, want_from) in cases {
        switch.handle_input(
            LegId(1),
            LegInput::Bytes(send(tid, &to, &from).as_bytes()),
            now,
        );
        let mut responses = Vec::new();
        while let Some(out) = switch.poll_output() {
            if let SwitchOutput::Transmit(t) = out {
                if t.leg == LegId(1) {
                    responses.push(t.into_bytes());
                }
            }
        }
        assert_eq!(responses.len(), 1, "{tid}: one response");
        let msg = oma_im::msrp::parse_message(&responses[0]).expect("response parses");
        assert_eq!(msg.head.transact_id, tid);
        let paths =
            |p: &oma_im::msrp::Path<'_>| p.iter().map(|u| u.to_string()).collect::<Vec<_>>();
        assert_eq!(paths(&msg.head.to_path), [want_to], "{tid}: To-Path");
        assert_eq!(paths(&msg.head.from_path), [want_from], "{tid}: From-Path");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Arbitrary bytes on any leg never panic, and every transmit the
    /// switch hands out is one MSRP message that parses.
    #[test]
    fn arbitrary_bytes_on_legs_never_panic(
        feeds in proptest::collection::vec((1u64..4, proptest::collection::vec(any::<u8>(), 0..300)), 0..12)
    ) {
        let mut switch = MsrpSwitch::new(SwitchConfig::default());
        let now = Instant::now();
        for n in 1..=3 {
            switch
                .join(LegId(n), LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n)), now)
                .expect("join");
        }
        let header = format!(
            "MSRP abcd SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: m1\r\n",
            switch_uri(1),
            participant_uri(1)
        );
        switch.handle_input(LegId(1), LegInput::Bytes(header.as_bytes()), now);
        for (leg, bytes) in feeds {
            switch.handle_input(LegId(leg), LegInput::Bytes(&bytes), now);
            while let Some(out) = switch.poll_output() {
                if let SwitchOutput::Transmit(t) = out {
                    prop_assert!(oma_im::msrp::parse_message(&t.into_bytes()).is_ok());
                }
            }
        }
    }

    /// Any sequence of joins, leaves and sends never panics, and a present
    /// leg gets each message at most once, never its own.
    #[test]
    fn join_leave_send_sequences(ops in proptest::collection::vec((0u8..3, 1u64..7, 1usize..3000), 1..40)) {
        let mut net = Net::new();
        let mut sent_by: BTreeMap<String, u64> = BTreeMap::new();
        for (op, n, size) in ops {
            match op {
                0 if !net.parts.contains_key(&n) => net.join_plain(n),
                1 if net.parts.contains_key(&n) => net.leave(n),
                2 if net.parts.contains_key(&n) => {
                    let body = vec![b'a' + (size % 26) as u8; size];
                    let now = net.now;
                    if let Ok(id) = net.parts.get_mut(&n).expect("present")
                        .send_message("text/plain", &body, SendOptions::default(), now) {
                        sent_by.insert(id, n);
                    }
                    // Part of the message reaches the switch before the next op.
                    net.feed_from(n, 1);
                }
                _ => {}
            }
        }
        net.run();
        for (n, got) in &net.got {
            let ids: BTreeSet<&String> = got.iter().map(|g| &g.message_id).collect();
            prop_assert_eq!(ids.len(), got.len(), "participant {} got a message twice", n);
            for g in got {
                prop_assert_ne!(sent_by.get(&g.message_id), Some(n), "own message echoed");
            }
        }
    }
}

/// One message leg 1 might send, by kind: chunks of one message (first,
/// continuation, last), with bodies holding look-alike end-lines; a
/// response; a SEND on paths of no leg; a malformed SEND.
fn leg_one_message(kind: u8, n: usize, body_text: &[u8]) -> Vec<u8> {
    let tid = format!("t{n:04}");
    let mut body = body_text.to_vec();
    match kind {
        0 => {
            let mut first = b"From: <sip:user1@example.com>\r\nTo: <sip:conf@example.com>\r\n\r\n\
                  Content-Type: text/plain\r\n\r\n"
                .to_vec();
            first.extend_from_slice(&body);
            body = first;
            let mut send = format!(
                "MSRP {tid} SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: big\r\n\
                 Byte-Range: 1-{}/*\r\nContent-Type: message/cpim\r\n\r\n",
                switch_uri(1),
                participant_uri(1),
                body.len()
            )
            .into_bytes();
            send.extend_from_slice(&body);
            send.extend_from_slice(format!("\r\n-------{tid}+\r\n").as_bytes());
            send
        }
        1 | 2 => {
            let flag = if kind == 1 { '+' } else { '$' };
            let start = 1000 + n * 100;
            let mut send = format!(
                "MSRP {tid} SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: big\r\n\
                 Byte-Range: {start}-*/*\r\nContent-Type: message/cpim\r\n\r\n",
                switch_uri(1),
                participant_uri(1),
            )
            .into_bytes();
            send.extend_from_slice(&body);
            send.extend_from_slice(format!("\r\n-------{tid}{flag}\r\n").as_bytes());
            send
        }
        3 => format!(
            "MSRP {tid} 200 OK\r\nTo-Path: {}\r\nFrom-Path: {}\r\n-------{tid}$\r\n",
            switch_uri(1),
            participant_uri(1)
        )
        .into_bytes(),
        4 => send_to_nobody(&tid),
        _ => format!("MSRP {tid} SEND\r\nTo-Path: nonsense\r\n\r\n-------{tid}$\r\n").into_bytes(),
    }
}

fn send_to_nobody(tid: &str) -> Vec<u8> {
    format!(
        "MSRP {tid} SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: x\r\n\
         Byte-Range: 1-2/2\r\nContent-Type: message/cpim\r\n\r\nhi\r\n-------{tid}$\r\n",
        switch_uri(9),
        participant_uri(1)
    )
    .into_bytes()
}

/// A switch with legs 1 to 3 and a fixed seed.
fn three_legs(now: Instant) -> MsrpSwitch {
    let mut switch = MsrpSwitch::new(SwitchConfig {
        rng_seed: 7.into(),
        ..SwitchConfig::default()
    });
    for n in 1..=3 {
        let leg = LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n));
        switch.join(LegId(n), leg, now).expect("join");
    }
    switch
}

/// Everything a switch hands out, transmits as the bytes written.
fn outputs(switch: &mut MsrpSwitch) -> Vec<(u64, Vec<u8>, Option<SwitchEvent>)> {
    let mut out = Vec::new();
    while let Some(o) = switch.poll_output() {
        match o {
            SwitchOutput::Transmit(t) => out.push((t.leg.0, t.into_bytes(), None)),
            SwitchOutput::Event(e) => out.push((0, Vec::new(), Some(e))),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The fast paths for input that holds whole messages (taken where they
    /// lie, responses recognised as bytes) give exactly what the stream
    /// parser gives the same bytes cut into small pieces: the same
    /// transmits, byte for byte, and the same events.
    #[test]
    fn whole_messages_and_split_ones_give_the_same_output(
        messages in proptest::collection::vec(
            (0u8..6, proptest::collection::vec(proptest::sample::select(
                vec![&b"x"[..], b"\r\n", b"-------", b"t0001$", b"-", b"\r"]), 0..12)),
            1..8),
        piece in 1usize..9,
        glued in any::<bool>(),
    ) {
        let now = Instant::now();
        let wire: Vec<Vec<u8>> = messages
            .iter()
            .enumerate()
            .map(|(n, (kind, parts))| leg_one_message(*kind, n, &parts.concat()))
            .collect();
        let mut whole = three_legs(now);
        let mut split = three_legs(now);
        let (mut got_whole, mut got_split) = (Vec::new(), Vec::new());
        if glued {
            whole.handle_input(LegId(1), LegInput::Bytes(&wire.concat()), now);
            got_whole.extend(outputs(&mut whole));
        }
        for message in &wire {
            if !glued {
                whole.handle_input(LegId(1), LegInput::Bytes(message), now);
                got_whole.extend(outputs(&mut whole));
            }
            for bytes in message.chunks(piece) {
                split.handle_input(LegId(1), LegInput::Bytes(bytes), now);
            }
            if !glued {
                got_split.extend(outputs(&mut split));
            }
        }
        got_split.extend(outputs(&mut split));
        prop_assert_eq!(got_whole, got_split);
    }
}

/// The case proptest shrank to: participant 4 leaves mid-message and joins
/// again. Each delivered message must arrive once, with a Message-ID no other
/// message had (a rejoining participant is a new MSRP session).
#[test]
fn a_participant_that_rejoins_is_a_new_sender() {
    let mut net = Net::new();
    net.join_plain(4);
    net.join_plain(1);
    for _ in 0..2 {
        net.send(4, b"b");
        net.feed_from(4, 1);
    }
    net.leave(4);
    net.join_plain(4);
    net.send(4, b"b");
    net.feed_from(4, 1);
    net.run();
    let got = &net.got[&1];
    let ids: BTreeSet<&String> = got.iter().map(|g| &g.message_id).collect();
    assert_eq!(ids.len(), got.len(), "a message delivered twice: {got:?}");
    assert!(!got.is_empty());
}

#[test]
fn an_aborted_message_is_relayed_as_aborted() {
    let mut switch = MsrpSwitch::new(SwitchConfig::default());
    let now = Instant::now();
    for n in 1..=2 {
        switch
            .join(
                LegId(n),
                LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n)),
                now,
            )
            .expect("join");
    }
    let cpim = b"From: <sip:x@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhello";
    let mut first = format!(
        "MSRP t0001 SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: m9\r\n\
         Byte-Range: 1-{}/*\r\nContent-Type: message/cpim\r\n\r\n",
        switch_uri(1),
        participant_uri(1),
        cpim.len()
    )
    .into_bytes();
    first.extend_from_slice(cpim);
    first.extend_from_slice(b"\r\n-------t0001+\r\n");
    let abort = format!(
        "MSRP t0002 SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: m9\r\n\
         Byte-Range: {}-*/*\r\n-------t0002#\r\n",
        switch_uri(1),
        participant_uri(1),
        cpim.len() + 1
    );
    switch.handle_input(LegId(1), LegInput::Bytes(&first), now);
    switch.handle_input(LegId(1), LegInput::Bytes(abort.as_bytes()), now);
    let mut to_two = Vec::new();
    while let Some(out) = switch.poll_output() {
        if let SwitchOutput::Transmit(t) = out {
            if t.leg == LegId(2) {
                to_two.push(t.into_bytes());
            }
        }
    }
    assert_eq!(to_two.len(), 2);
    let relayed = oma_im::msrp::parse_message(&to_two[1]).expect("relayed abort parses");
    assert_eq!(relayed.flag, oma_im::msrp::ContinuationFlag::Aborted);
    assert_eq!(relayed.body, None);
    let first = oma_im::msrp::parse_message(&to_two[0]).expect("first chunk");
    let shifted = first.body.expect("body").len() as u64 + 1;
    assert_eq!(
        relayed.head.byte_range.map(|r| r.start),
        Some(shifted),
        "start shifted by the From rewrite"
    );
}

/// A SEND of one complete CPIM message from leg 1, asking for a success
/// report.
fn send_asking_report(tid: &str, message_id: &str) -> Vec<u8> {
    let cpim = b"From: <sip:x@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhello";
    let mut send = format!(
        "MSRP {tid} SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: {message_id}\r\n\
         Success-Report: yes\r\nByte-Range: 1-{n}/{n}\r\nContent-Type: message/cpim\r\n\r\n",
        switch_uri(1),
        participant_uri(1),
        n = cpim.len()
    )
    .into_bytes();
    send.extend_from_slice(cpim);
    send.extend_from_slice(format!("\r\n-------{tid}$\r\n").as_bytes());
    send
}

/// Drains the switch: the bytes written per leg and the events.
fn drain(switch: &mut MsrpSwitch) -> (BTreeMap<u64, Vec<u8>>, Vec<SwitchEvent>) {
    let mut written: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut events = Vec::new();
    while let Some(out) = switch.poll_output() {
        match out {
            SwitchOutput::Transmit(t) => written.entry(t.leg.0).or_default().extend(t.into_bytes()),
            SwitchOutput::Event(e) => events.push(e),
        }
    }
    (written, events)
}

/// The 200 a participant's client sends to the relayed SEND in `written`.
fn ok_to(written: &[u8], n: u64) -> Vec<u8> {
    let m = oma_im::msrp::parse_message(written).expect("a relayed SEND");
    let tid = m.head.transact_id.to_owned();
    format!(
        "MSRP {tid} 200 OK\r\nTo-Path: {}\r\nFrom-Path: {}\r\n-------{tid}$\r\n",
        switch_uri(n),
        participant_uri(n)
    )
    .into_bytes()
}

#[test]
fn a_message_is_reported_relayed_once_acknowledged_and_the_sender_gets_its_success_report() {
    let mut switch = MsrpSwitch::new(SwitchConfig::default());
    let mut now = Instant::now();
    for n in 1..=3 {
        switch
            .join(
                LegId(n),
                LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n)),
                now,
            )
            .expect("join");
    }
    switch.handle_input(
        LegId(1),
        LegInput::Bytes(&send_asking_report("t1", "m1")),
        now,
    );
    let (written, events) = drain(&mut switch);
    // Relayed to legs 2 and 3, not yet acknowledged: no report of it.
    assert!(!events
        .iter()
        .any(|e| matches!(e, SwitchEvent::MessageRelayed { .. })));
    // The sender got its 200 and, the switch being the endpoint of its
    // leg, the success REPORT it asked for (RFC 4975 §7.1.3).
    let to_sender = String::from_utf8(written[&1].clone()).unwrap();
    assert!(to_sender.starts_with("MSRP t1 200 OK\r\n"), "{to_sender}");
    let report = to_sender.split("MSRP ").nth(2).expect("a REPORT");
    assert!(report.contains(" REPORT\r\n"), "{report}");
    assert!(report.contains("Message-ID: m1\r\n"), "{report}");
    assert!(report.contains("Status: 000 200"), "{report}");
    // Leg 2 answers; leg 3 never does.
    switch.handle_input(LegId(2), LegInput::Bytes(&ok_to(&written[&2], 2)), now);
    let (_, events) = drain(&mut switch);
    assert!(!events
        .iter()
        .any(|e| matches!(e, SwitchEvent::MessageRelayed { .. })));
    now = switch.poll_timeout().expect("the response timeout");
    switch.handle_timeout(now);
    let (_, events) = drain(&mut switch);
    assert!(events.iter().any(|e| matches!(
        e,
        SwitchEvent::DeliveryFailed {
            leg: LegId(3),
            cause: LegFailure::Timeout,
            ..
        }
    )));
    let relayed: Vec<Vec<LegId>> = events
        .into_iter()
        .filter_map(|e| match e {
            SwitchEvent::MessageRelayed { to_legs, .. } => Some(to_legs),
            _ => None,
        })
        .collect();
    assert_eq!(relayed, [vec![LegId(2)]]);
}

#[test]
fn a_chunked_message_is_reported_relayed_once_every_chunk_is_answered_by_every_leg() {
    let mut switch = MsrpSwitch::new(SwitchConfig::default());
    let now = Instant::now();
    for n in 1..=3 {
        switch
            .join(
                LegId(n),
                LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n)),
                now,
            )
            .expect("join");
    }
    let cpim = b"From: <sip:x@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhel";
    let relayed = |events: &[SwitchEvent]| -> Vec<Vec<LegId>> {
        events
            .iter()
            .filter_map(|e| match e {
                SwitchEvent::MessageRelayed { to_legs, .. } => Some(to_legs.clone()),
                _ => None,
            })
            .collect()
    };
    switch.handle_input(
        LegId(1),
        LegInput::Bytes(&chunk_from_one("t1", 1, cpim)),
        now,
    );
    let (first, _) = drain(&mut switch);
    // Leg 2 answers the first chunk before the last goes out.
    switch.handle_input(LegId(2), LegInput::Bytes(&ok_to(&first[&2], 2)), now);
    let mut last = chunk_from_one("t2", cpim.len() + 1, b"lo");
    let flag_at = last.len() - 3;
    last[flag_at] = b'$';
    let last = String::from_utf8(last)
        .unwrap()
        .replace("/*\r\n", &format!("/{}\r\n", cpim.len() + 2))
        .into_bytes();
    switch.handle_input(LegId(1), LegInput::Bytes(&last), now);
    let (second, events) = drain(&mut switch);
    assert!(relayed(&events).is_empty());
    // Both answer the last chunk; leg 3 still owes the first.
    switch.handle_input(LegId(2), LegInput::Bytes(&ok_to(&second[&2], 2)), now);
    switch.handle_input(LegId(3), LegInput::Bytes(&ok_to(&second[&3], 3)), now);
    let (_, events) = drain(&mut switch);
    assert!(relayed(&events).is_empty());
    switch.handle_input(LegId(3), LegInput::Bytes(&ok_to(&first[&3], 3)), now);
    let (_, events) = drain(&mut switch);
    assert_eq!(relayed(&events), [vec![LegId(2), LegId(3)]]);
}

#[test]
fn a_leg_leaving_before_it_answers_is_not_counted() {
    let mut switch = MsrpSwitch::new(SwitchConfig::default());
    let now = Instant::now();
    for n in 1..=3 {
        switch
            .join(
                LegId(n),
                LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n)),
                now,
            )
            .expect("join");
    }
    switch.handle_input(
        LegId(1),
        LegInput::Bytes(&send_asking_report("t1", "m1")),
        now,
    );
    let (written, _) = drain(&mut switch);
    switch.handle_input(LegId(3), LegInput::Bytes(&ok_to(&written[&3], 3)), now);
    switch.handle_input(LegId(2), LegInput::Closed, now);
    let (_, events) = drain(&mut switch);
    let relayed: Vec<Vec<LegId>> = events
        .into_iter()
        .filter_map(|e| match e {
            SwitchEvent::MessageRelayed { to_legs, .. } => Some(to_legs),
            _ => None,
        })
        .collect();
    assert_eq!(relayed, [vec![LegId(3)]]);
}

/// A chunk from leg 1 of message `m7`: the first (with its CPIM header
/// block) or a later one, not the last.
fn chunk_from_one(tid: &str, start: usize, body: &[u8]) -> Vec<u8> {
    let mut send = format!(
        "MSRP {tid} SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: m7\r\n\
         Byte-Range: {start}-{}/*\r\nContent-Type: message/cpim\r\n\r\n",
        switch_uri(1),
        participant_uri(1),
        start + body.len() - 1
    )
    .into_bytes();
    send.extend_from_slice(body);
    send.extend_from_slice(format!("\r\n-------{tid}+\r\n").as_bytes());
    send
}

/// The body of the relayed SEND `t`.
fn relayed_body(t: &oma_im::msrp::switch::LegTransmit) -> Vec<u8> {
    let bytes = t.clone().into_bytes();
    let m = oma_im::msrp::parse_message(&bytes).expect("a relayed SEND");
    m.body.expect("a body").to_vec()
}

#[test]
fn a_relayed_body_is_shared_by_the_legs_and_kept_until_every_copy_is_written() {
    let mut switch = MsrpSwitch::new(SwitchConfig::default());
    let now = Instant::now();
    for n in 1..=3 {
        let leg = LegConfig::new(&switch_uri(n), &participant_uri(n), &identity(n));
        switch.join(LegId(n), leg, now).expect("join");
    }
    // Leg 3 takes nothing for now: its copies stay queued.
    switch.handle_input(LegId(3), LegInput::Blocked, now);
    let first = b"From: <sip:x@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nfirst part ";
    let second = b"second part, which the first one's copies must not show";
    switch.handle_input(
        LegId(1),
        LegInput::Bytes(&chunk_from_one("a1", 1, first)),
        now,
    );
    let held: Vec<_> = std::iter::from_fn(|| switch.poll_output())
        .filter_map(|o| match o {
            SwitchOutput::Transmit(t) if t.leg == LegId(2) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(held.len(), 1);
    let mut before = Vec::new();
    held[0].write_to(&mut before);

    // The next chunk arrives while leg 2's copy of the first is unwritten
    // and leg 3's still queued.
    let start = first.len() + 1;
    switch.handle_input(
        LegId(1),
        LegInput::Bytes(&chunk_from_one("a2", start, second)),
        now,
    );
    switch.handle_input(LegId(3), LegInput::Writable, now);
    let mut to_two = Vec::new();
    let mut to_three = Vec::new();
    while let Some(out) = switch.poll_output() {
        if let SwitchOutput::Transmit(t) = out {
            // The three ways to take the bytes agree.
            let mut written = Vec::new();
            t.write_to(&mut written);
            assert_eq!(written, t.slices().concat());
            assert_eq!(written.len(), t.len());
            assert_eq!(written, t.clone().into_bytes());
            match t.leg.0 {
                2 => to_two.push(t),
                3 => to_three.push(t),
                _ => {}
            }
        }
    }
    let mut after = Vec::new();
    held[0].write_to(&mut after);
    assert_eq!(before, after, "a held copy keeps its bytes");
    assert_eq!(to_two.len(), 1);
    assert_eq!(to_three.len(), 2);
    let rewritten = relayed_body(&held[0]);
    assert!(rewritten.starts_with(b"From: <sip:user1@example.com>\r\n"));
    assert_eq!(relayed_body(&to_three[0]), rewritten);
    assert_eq!(relayed_body(&to_two[0]), second);
    assert_eq!(relayed_body(&to_three[1]), second);
    // Each leg's copy has its own head: its paths and transact-id.
    assert_ne!(to_two[0].slices()[0], to_three[1].slices()[0]);
    assert_eq!(to_two[0].slices()[1], to_three[1].slices()[1]);
    for t in held.into_iter().chain(to_two).chain(to_three) {
        switch.recycle_transmit(t);
    }
}
