//! Every fast path agrees with the full parse it stands in for:
//!
//! * an [`OwnedMessage`] gives its view back from the layout kept with its
//!   bytes, and its values parsed on first use: the view equals a fresh
//!   parse of the bytes, value for value, on the RFC 4475 and RFC 5118
//!   messages, the parser's fuzz corpus, the benchmark INVITE, and
//!   proptest mutations of them;
//! * the MSRP switch recognises a leg's `200 OK` from its first line and
//!   transaction id without its stream parser: a switch fed a leg's
//!   responses whole (fast path) and one fed them octet by octet (the
//!   parser sees every octet) produce the same outputs, for responses
//!   proptest writes right and wrong.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use oma_im::msrp::switch::{
    LegConfig, LegFailure, LegId, LegInput, MsrpSwitch, SwitchConfig, SwitchEvent, SwitchOutput,
};
use oma_im::sip::{parse_message, SipMessage};
use oma_im::transaction::OwnedMessage;
use proptest::prelude::*;

fn files(dir: &str, ext: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut found: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| ext.is_empty() || p.extension().is_some_and(|x| x == ext))
        .collect();
    found.sort();
    found
        .iter()
        .map(|p| fs::read(p).expect("readable"))
        .collect()
}

/// Every SIP message the tests and benches hold.
fn corpus() -> Vec<Vec<u8>> {
    let mut all = files("tests/data/rfc4475", "dat");
    all.extend(files("tests/data/rfc5118", "dat"));
    all.extend(files("fuzz/corpus/sip_parse_message", ""));
    all.extend(files("benches/data", "sip"));
    all
}

/// The view of `bytes` kept as an [`OwnedMessage`] is the message a fresh
/// parse gives, and so is every value read from it. `false` when the bytes
/// are not a message.
fn view_matches_parse(bytes: &[u8]) -> bool {
    let Ok(fresh) = parse_message(bytes) else {
        assert!(OwnedMessage::new(bytes.to_vec()).is_err());
        return false;
    };
    let owned = OwnedMessage::new(bytes.to_vec()).expect("parsed once, kept");
    let view = owned.message();
    same(&view, &fresh);
    // Twice: the values parsed on first use are kept.
    same(&view, &fresh);
    assert_eq!(owned.request_method(), fresh.method());
    true
}

fn same(view: &SipMessage<'_>, fresh: &SipMessage<'_>) {
    assert_eq!(view, fresh);
    assert_eq!(view.start_line(), fresh.start_line());
    assert_eq!(view.body(), fresh.body());
    let fields = |m: &SipMessage<'_>| {
        m.headers()
            .map(|(n, v)| (n.as_str().to_owned(), v.value.to_owned(), v.offset))
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(view), fields(fresh));
    assert_eq!(view.request_uri(), fresh.request_uri());
    assert_eq!(view.top_via(), fresh.top_via());
    assert_eq!(
        view.via().collect::<Vec<_>>(),
        fresh.via().collect::<Vec<_>>()
    );
    assert_eq!(view.from(), fresh.from());
    assert_eq!(view.to(), fresh.to());
    assert_eq!(view.call_id(), fresh.call_id());
    assert_eq!(view.cseq(), fresh.cseq());
    assert_eq!(
        view.contact().collect::<Vec<_>>(),
        fresh.contact().collect::<Vec<_>>()
    );
    let (mut a, mut b) = (Vec::new(), Vec::new());
    view.write(&mut a);
    fresh.write(&mut b);
    assert_eq!(a, b);
}

#[test]
fn an_owned_message_view_is_a_fresh_parse_on_every_kept_message() {
    let messages = corpus();
    let parsed = messages.iter().filter(|m| view_matches_parse(m)).count();
    // The RFC 4475 messages alone have 37 a parser accepts.
    assert!(parsed >= 60, "{parsed} of {} parsed", messages.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn an_owned_message_view_is_a_fresh_parse_on_mutated_messages(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 0..6),
    ) {
        let seeds = corpus();
        let mut data = seeds[seed.index(seeds.len())].clone();
        for (at, op, byte) in edits {
            let i = at.index(data.len() + 1);
            match op {
                0 => data.insert(i, byte),
                1 if i < data.len() => { data.remove(i); }
                _ if i < data.len() => data[i] = byte,
                _ => data.push(byte),
            }
        }
        view_matches_parse(&data);
    }
}

const LEGS: u64 = 4;

fn switch_uri(n: u64) -> String {
    format!("msrp://switch.example.com:2855/leg{n};tcp")
}

fn participant_uri(n: u64) -> String {
    format!("msrp://ue{n}.example.com:7777/p{n};tcp")
}

/// A switch with `LEGS` legs that has relayed one chunk from leg 0: every
/// other leg owes a response. Gives the switch and, per leg, the
/// transact-id of its relayed SEND.
fn relayed(now: Instant) -> (MsrpSwitch, Vec<(LegId, String)>) {
    let mut switch = MsrpSwitch::new(SwitchConfig {
        rng_seed: 7.into(),
        ..SwitchConfig::default()
    });
    for n in 0..LEGS {
        let leg = LegConfig::new(
            &switch_uri(n),
            &participant_uri(n),
            &format!("sip:user{n}@example.com"),
        );
        switch.join(LegId(n), leg, now).expect("join");
    }
    let cpim = b"From: <sip:user0@example.com>\r\nTo: <sip:conf@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhello";
    let mut send = format!(
        "MSRP s1 SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: m1\r\n\
         Byte-Range: 1-{n}/{n}\r\nContent-Type: message/cpim\r\n\r\n",
        switch_uri(0),
        participant_uri(0),
        n = cpim.len()
    )
    .into_bytes();
    send.extend_from_slice(cpim);
    send.extend_from_slice(b"\r\n-------s1$\r\n");
    switch.handle_input(LegId(0), LegInput::Bytes(&send), now);
    let mut tids = Vec::new();
    while let Some(output) = switch.poll_output() {
        if let SwitchOutput::Transmit(t) = output {
            if t.leg != LegId(0) {
                let tid = t.slices()[0][5..].split(|&b| b == b' ').next().unwrap();
                tids.push((t.leg, String::from_utf8(tid.to_vec()).unwrap()));
            }
        }
    }
    assert_eq!(tids.len(), LEGS as usize - 1);
    (switch, tids)
}

/// How a leg's response to a relayed SEND is written.
#[derive(Debug, Clone)]
struct Shape {
    code: &'static str,
    /// The transact-id is the SEND's (else another one).
    own_tid: bool,
    /// To-Path and From-Path as the switch expects them (else swapped).
    paths_right: bool,
    extra_header: bool,
    flag: char,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::sample::select(vec!["200 OK", "200 Fine", "481 No", "408 Gone", "200"]),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.2),
        prop::sample::select(vec!['$', '$', '$', '+', '#']),
    )
        .prop_map(|(code, own_tid, paths_right, extra_header, flag)| Shape {
            code,
            own_tid,
            paths_right,
            extra_header,
            flag,
        })
}

fn response(leg: u64, tid: &str, shape: &Shape) -> Vec<u8> {
    let tid = if shape.own_tid {
        tid
    } else {
        "unknown0000000000"
    };
    let (to, from) = if shape.paths_right {
        (switch_uri(leg), participant_uri(leg))
    } else {
        (participant_uri(leg), switch_uri(leg))
    };
    let extra = if shape.extra_header {
        "Message-ID: m1\r\n"
    } else {
        ""
    };
    format!(
        "MSRP {tid} {}\r\nTo-Path: {to}\r\nFrom-Path: {from}\r\n{extra}-------{tid}{}\r\n",
        shape.code, shape.flag
    )
    .into_bytes()
}

/// Everything a switch hands out, and its next deadline.
fn outputs(switch: &mut MsrpSwitch) -> (Vec<SwitchOutput>, Option<Instant>) {
    (
        std::iter::from_fn(|| switch.poll_output()).collect(),
        switch.poll_timeout(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_leg_response_takes_the_fast_path_or_the_parser_with_the_same_outcome(
        shapes in prop::collection::vec(shape(), 1..6),
        leg_picks in prop::collection::vec(1u64..LEGS, 1..6),
        later in 0u64..40,
    ) {
        let now = Instant::now();
        let (mut whole, tids) = relayed(now);
        let (mut octets, _) = relayed(now);
        prop_assert_eq!(outputs(&mut whole), outputs(&mut octets));
        for (shape, pick) in shapes.iter().zip(leg_picks.iter().cycle()) {
            let (leg, tid) = &tids[(*pick - 1) as usize];
            let bytes = response(leg.0, tid, shape);
            whole.handle_input(*leg, LegInput::Bytes(&bytes), now);
            for octet in &bytes {
                octets.handle_input(*leg, LegInput::Bytes(std::slice::from_ref(octet)), now);
            }
            prop_assert_eq!(outputs(&mut whole), outputs(&mut octets));
        }
        // The deadlines of the unanswered transactions agree too.
        let then = now + Duration::from_secs(later);
        whole.handle_timeout(then);
        octets.handle_timeout(then);
        prop_assert_eq!(outputs(&mut whole), outputs(&mut octets));
    }
}

#[test]
fn the_fast_path_is_taken_for_a_response_as_the_switch_writes_it() {
    // Two responses in one read, each whole: both settle the delivery.
    let now = Instant::now();
    let (mut switch, tids) = relayed(now);
    let right = Shape {
        code: "200 OK",
        own_tid: true,
        paths_right: true,
        extra_header: false,
        flag: '$',
    };
    for (leg, tid) in &tids {
        let mut bytes = response(leg.0, tid, &right);
        bytes.extend_from_slice(&response(leg.0, tid, &right));
        switch.handle_input(*leg, LegInput::Bytes(&bytes), now);
    }
    let (out, deadline) = outputs(&mut switch);
    let relayed = out.iter().any(|o| {
        matches!(
            o,
            SwitchOutput::Event(oma_im::msrp::switch::SwitchEvent::MessageRelayed { .. })
        )
    });
    assert!(relayed, "{out:?}");
    assert_eq!(deadline, None, "no transaction left waiting");
}

/// Feeds `bytes` to `leg` whole and gives what the switch hands out.
fn answer(switch: &mut MsrpSwitch, leg: LegId, bytes: &[u8], now: Instant) -> Vec<SwitchOutput> {
    switch.handle_input(leg, LegInput::Bytes(bytes), now);
    std::iter::from_fn(|| switch.poll_output()).collect()
}

/// The legs that timed out and the legs the message was relayed to, once
/// every response deadline has passed.
fn after_deadlines(switch: &mut MsrpSwitch, now: Instant) -> (Vec<LegId>, Option<Vec<LegId>>) {
    switch.handle_timeout(now + Duration::from_secs(3600));
    let mut timed_out = Vec::new();
    let mut relayed_to = None;
    for output in std::iter::from_fn(|| switch.poll_output()) {
        match output {
            SwitchOutput::Event(SwitchEvent::DeliveryFailed {
                leg,
                cause: LegFailure::Timeout,
                ..
            }) => timed_out.push(leg),
            SwitchOutput::Event(SwitchEvent::MessageRelayed { to_legs, .. }) => {
                relayed_to = Some(to_legs)
            }
            _ => {}
        }
    }
    (timed_out, relayed_to)
}

/// A 200 shaped as the fast path takes it, with the given transact-id and
/// paths.
fn ok_with(tid: &str, to: &str, from: &str) -> Vec<u8> {
    format!("MSRP {tid} 200 OK\r\nTo-Path: {to}\r\nFrom-Path: {from}\r\n-------{tid}$\r\n")
        .into_bytes()
}

#[test]
fn a_leg_cannot_answer_another_legs_transaction() {
    // Leg 2 answers leg 1's transaction, with its own paths and with leg
    // 1's: a transaction is matched on the leg it was sent on only.
    let now = Instant::now();
    let (mut switch, tids) = relayed(now);
    let (victim, victim_tid) = &tids[0];
    let (attacker, _) = &tids[1];
    assert_eq!((*victim, *attacker), (LegId(1), LegId(2)));
    for (to, from) in [
        (switch_uri(2), participant_uri(2)),
        (switch_uri(1), participant_uri(1)),
    ] {
        let out = answer(
            &mut switch,
            *attacker,
            &ok_with(victim_tid, &to, &from),
            now,
        );
        assert!(out.is_empty(), "{out:?}");
    }
    for (leg, tid) in &tids[1..] {
        let ok = ok_with(tid, &switch_uri(leg.0), &participant_uri(leg.0));
        answer(&mut switch, *leg, &ok, now);
    }
    assert_eq!(
        after_deadlines(&mut switch, now),
        (vec![LegId(1)], Some(vec![LegId(2), LegId(3)]))
    );
}

/// Leg 1 sends `bytes` (whole, or octet by octet: the parser's path), then
/// legs 2 and 3 answer their transactions: what the switch hands out, and
/// which legs time out.
fn leg_one_sends(bytes: &[u8], octets: bool) -> (Vec<SwitchOutput>, Vec<LegId>) {
    let now = Instant::now();
    let (mut switch, tids) = relayed(now);
    let mut out = Vec::new();
    if octets {
        for octet in bytes {
            out.extend(answer(
                &mut switch,
                LegId(1),
                std::slice::from_ref(octet),
                now,
            ));
        }
    } else {
        out.extend(answer(&mut switch, LegId(1), bytes, now));
    }
    for (other, tid) in &tids[1..] {
        let ok = ok_with(tid, &switch_uri(other.0), &participant_uri(other.0));
        out.extend(answer(&mut switch, *other, &ok, now));
    }
    let (timed_out, relayed_to) = after_deadlines(&mut switch, now);
    if let Some(to_legs) = relayed_to {
        out.push(SwitchOutput::Event(SwitchEvent::MessageRelayed {
            from_leg: LegId(0),
            message_id: "m1".into(),
            to_legs,
        }));
    }
    (out, timed_out)
}

/// `tid` with its last character changed.
fn other_last(tid: &str) -> String {
    let last = if tid.ends_with('Z') { 'Y' } else { 'Z' };
    format!("{}{last}", &tid[..tid.len() - 1])
}

#[test]
fn a_200_with_wrong_paths_or_an_unknown_transaction_gets_what_the_parser_gives_it() {
    let now = Instant::now();
    let (_, tids) = relayed(now);
    let tid = &tids[0].1;
    let own = (switch_uri(1), participant_uri(1));
    // Shaped as the fast path takes them, each with one thing wrong.
    let wrong_paths = [
        // Another leg's paths, the leg's own swapped, one character off.
        ok_with(tid, &switch_uri(2), &participant_uri(2)),
        ok_with(tid, &own.1, &own.0),
        ok_with(tid, &own.0.replace("leg1", "leg9"), &own.1),
        ok_with(tid, &own.0, &own.1.replace("ue1", "ue9")),
    ];
    for bytes in &wrong_paths {
        // Left to the parser: the same outcome as octet by octet.
        assert_eq!(leg_one_sends(bytes, false), leg_one_sends(bytes, true));
    }
    // A transact-id the switch did not draw (of its length), and the leg's
    // own with its last character changed: nothing is settled, whichever
    // path takes them; the transaction times out.
    let unknown = [
        ok_with("ZZZZZZZZZZZZZZZZ", &own.0, &own.1),
        ok_with(&other_last(tid), &own.0, &own.1),
    ];
    for bytes in &unknown {
        let whole = leg_one_sends(bytes, false);
        assert_eq!(whole, leg_one_sends(bytes, true));
        assert_eq!(whole.1, vec![LegId(1)], "{whole:?}");
    }
}

#[test]
fn a_200_to_an_unknown_transaction_is_handled_alike_whole_and_octet_by_octet() {
    // Same length as the switch's transact-ids: the fast path's shape.
    let now = Instant::now();
    let (mut whole, tids) = relayed(now);
    let (mut octets, _) = relayed(now);
    let (leg, _) = &tids[0];
    let bytes = ok_with("ZZZZZZZZZZZZZZZZ", &switch_uri(1), &participant_uri(1));
    whole.handle_input(*leg, LegInput::Bytes(&bytes), now);
    for octet in &bytes {
        octets.handle_input(*leg, LegInput::Bytes(std::slice::from_ref(octet)), now);
    }
    assert_eq!(outputs(&mut whole), outputs(&mut octets));
    assert_eq!(
        after_deadlines(&mut whole, now),
        after_deadlines(&mut octets, now)
    );
}

#[test]
fn a_leg_knowing_how_the_other_legs_ids_are_made_answers_none_of_them() {
    // The copies of one chunk have transact-ids of one random base and the
    // leg's place: leg 2 sees its own and can tell every other leg's. On
    // its own connection, answering them (with its own paths or theirs)
    // settles nothing; only its own transaction is settled.
    let now = Instant::now();
    let (mut switch, tids) = relayed(now);
    let base = &tids[0].1[..14];
    assert!(tids
        .iter()
        .all(|(_, tid)| tid.len() == 16 && tid.starts_with(base)));
    let (attacker, own) = &tids[1];
    assert_eq!(*attacker, LegId(2));
    for (victim, tid) in [&tids[0], &tids[2]] {
        for (to, from) in [
            (switch_uri(2), participant_uri(2)),
            (switch_uri(victim.0), participant_uri(victim.0)),
        ] {
            let out = answer(&mut switch, *attacker, &ok_with(tid, &to, &from), now);
            assert!(out.is_empty(), "{out:?}");
        }
    }
    let ok = ok_with(own, &switch_uri(2), &participant_uri(2));
    assert!(answer(&mut switch, *attacker, &ok, now).is_empty());
    assert_eq!(
        after_deadlines(&mut switch, now),
        (vec![LegId(1), LegId(3)], Some(vec![LegId(2)]))
    );
}
