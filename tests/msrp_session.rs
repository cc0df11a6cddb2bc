//! Two MSRP sessions back to back through bytes: every transmit of one side
//! is fed to the other as `Input::Bytes`, split at odd points.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use oma_im::msrp::session::{
    CpimIdentities, DeliveryFailure, Event, Input, MsrpSession, Output, SendErrorKind, SendOptions,
    SessionConfig, SessionParams,
};
use oma_im::msrp::{parse_message, FailureReport, Method, StartLine};
use oma_im::sdp::AcceptTypes;
use proptest::prelude::*;

const ALICE: &str = "msrp://alicepc.example.com:7777/iau39soe2843z;tcp";
const BOB: &str = "msrp://bob.example.com:8888/9di4eae923wzd;tcp";

fn config(seed: u64) -> SessionConfig {
    SessionConfig {
        rng_seed: seed.into(),
        ..SessionConfig::default()
    }
}

/// Alice (active) and Bob (passive), the wire between them, what each saw.
struct Pair {
    a: MsrpSession,
    b: MsrpSession,
    now: Instant,
    /// Every message Alice wrote, in order.
    a_wire: Vec<Vec<u8>>,
    /// Every message Bob wrote, in order.
    b_wire: Vec<Vec<u8>>,
    a_events: Vec<Event>,
    b_events: Vec<Event>,
    /// Size of the pieces bytes are fed in.
    split: usize,
}

impl Pair {
    fn new(
        a: SessionParams,
        a_config: SessionConfig,
        b: SessionParams,
        b_config: SessionConfig,
    ) -> Self {
        let now = Instant::now();
        let mut pair = Pair {
            a: MsrpSession::new(a, a_config).expect("alice"),
            b: MsrpSession::new(b, b_config).expect("bob"),
            now,
            a_wire: Vec::new(),
            b_wire: Vec::new(),
            a_events: Vec::new(),
            b_events: Vec::new(),
            split: 13,
        };
        pair.a.handle_input(Input::Connected, now);
        pair.b.handle_input(Input::Connected, now);
        pair
    }

    fn plain() -> Self {
        Pair::new(
            SessionParams::new(ALICE, BOB, true),
            config(1),
            SessionParams::new(BOB, ALICE, false),
            config(2),
        )
    }

    /// Moves bytes both ways until neither side has output; fails a test that
    /// does not go idle.
    fn run(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(out) = self.a.poll_output() {
                match out {
                    Output::Transmit(t) => {
                        for piece in t.data.chunks(self.split) {
                            self.b.handle_input(Input::Bytes(piece), self.now);
                        }
                        self.a_wire.push(t.data);
                        moved = true;
                    }
                    Output::Event(e) => self.a_events.push(e),
                }
            }
            while let Some(out) = self.b.poll_output() {
                match out {
                    Output::Transmit(t) => {
                        for piece in t.data.chunks(self.split + 4) {
                            self.a.handle_input(Input::Bytes(piece), self.now);
                        }
                        self.b_wire.push(t.data);
                        moved = true;
                    }
                    Output::Event(e) => self.b_events.push(e),
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the sessions did not go idle");
    }

    fn received(&self) -> Vec<&oma_im::msrp::session::ReceivedMessage> {
        self.b_events
            .iter()
            .filter_map(|e| match e {
                Event::MessageReceived(m) => Some(&**m),
                _ => None,
            })
            .collect()
    }
}

fn response_codes(wire: &[Vec<u8>]) -> Vec<u16> {
    wire.iter()
        .filter_map(|m| match parse_message(m).expect("valid MSRP").head.start {
            StartLine::Response { code, .. } => Some(code),
            _ => None,
        })
        .collect()
}

fn sends(wire: &[Vec<u8>]) -> usize {
    wire.iter()
        .filter(|m| parse_message(m).expect("valid MSRP").head.method() == Some(Method::Send))
        .count()
}

#[test]
fn active_side_binds_the_connection_with_an_empty_send() {
    let mut p = Pair::plain();
    p.run();
    assert_eq!(p.a_wire.len(), 1, "one initial SEND");
    let first = parse_message(&p.a_wire[0]).expect("SEND");
    assert_eq!(first.head.method(), Some(Method::Send));
    assert_eq!(first.body, None, "nothing to send: no body");
    assert_eq!(first.head.to_path[0].to_string(), BOB);
    assert_eq!(first.head.from_path[0].to_string(), ALICE);
    assert_eq!(p.b_events, [Event::Bound]);
    assert_eq!(response_codes(&p.b_wire), [200]);
    assert!(
        p.a_events.is_empty(),
        "no event for the bind: {:?}",
        p.a_events
    );
    assert!(p.received().is_empty());
    assert_eq!(p.a.pending_transactions(), 0);
    assert_eq!(p.a.poll_timeout(), None);
}

#[test]
fn passive_side_sends_nothing_before_the_connection_is_bound() {
    let now = Instant::now();
    let mut bob = MsrpSession::new(SessionParams::new(BOB, ALICE, false), config(2)).expect("bob");
    bob.handle_input(Input::Connected, now);
    let id = bob
        .send_message("text/plain", b"early", SendOptions::default(), now)
        .expect("queued");
    assert_eq!(bob.poll_output(), None, "passive: nothing before the bind");
    let mut p = Pair {
        a: MsrpSession::new(SessionParams::new(ALICE, BOB, true), config(1)).expect("alice"),
        b: bob,
        now,
        a_wire: Vec::new(),
        b_wire: Vec::new(),
        a_events: Vec::new(),
        b_events: Vec::new(),
        split: 5,
    };
    p.a.handle_input(Input::Connected, now);
    p.run();
    assert!(p.b_events.contains(&Event::Bound));
    assert!(p.b_events.contains(&Event::MessageSent { message_id: id }));
    let got: Vec<_> = p
        .a_events
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(m) => Some(m.body.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(got, [b"early".to_vec()]);
}

#[test]
fn active_side_with_queued_content_binds_with_its_first_chunk() {
    let now = Instant::now();
    let mut alice =
        MsrpSession::new(SessionParams::new(ALICE, BOB, true), config(1)).expect("alice");
    alice
        .send_message("text/plain", b"first", SendOptions::default(), now)
        .expect("queued");
    assert_eq!(alice.poll_output(), None, "not connected yet");
    alice.handle_input(Input::Connected, now);
    let Some(Output::Transmit(t)) = alice.poll_output() else {
        panic!("the initial SEND");
    };
    let msg = parse_message(&t.data).expect("SEND");
    assert_eq!(msg.body, Some(&b"first"[..]));
    assert_eq!(&*t.destination.host, "bob.example.com");
    assert_eq!(t.destination.port, Some(8888));
}

#[test]
fn short_text_message() {
    let mut p = Pair::plain();
    p.run();
    let id =
        p.a.send_message(
            "text/plain",
            b"Hey Bob, are you there?",
            SendOptions::default(),
            p.now,
        )
        .expect("sent");
    p.run();
    let got = p.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id, id);
    assert_eq!(got[0].content_type, "text/plain");
    assert_eq!(got[0].body, b"Hey Bob, are you there?");
    assert_eq!(got[0].cpim, None);
    assert!(p.a_events.contains(&Event::MessageSent { message_id: id }));
    assert_eq!(p.a.pending_transactions(), 0);
}

#[test]
fn large_message_is_chunked_and_reassembled() {
    let mut p = Pair::plain();
    p.split = 977;
    p.run();
    let body: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let id =
        p.a.send_message(
            "application/octet-stream",
            &body,
            SendOptions::default(),
            p.now,
        )
        .expect("sent");
    p.run();
    let chunk_sends: Vec<_> = p.a_wire[1..]
        .iter()
        .map(|m| parse_message(m).expect("chunk"))
        .collect();
    assert_eq!(chunk_sends.len(), 50_000usize.div_ceil(2048));
    let mut next = 1u64;
    for (i, c) in chunk_sends.iter().enumerate() {
        let r = c.head.byte_range.expect("Byte-Range");
        assert_eq!(r.start, next);
        assert_eq!(r.total, Some(50_000));
        next = r.end.expect("end") + 1;
        let last = i + 1 == chunk_sends.len();
        assert_eq!(c.flag == oma_im::msrp::ContinuationFlag::Complete, last);
    }
    let mut ids: Vec<_> = chunk_sends.iter().map(|c| c.head.transact_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        chunk_sends.len(),
        "a fresh transact-id per chunk"
    );
    let got = p.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, body);
    assert!(p.a_events.contains(&Event::MessageSent { message_id: id }));
    assert_eq!(p.b.partial_messages(), 0);
}

#[test]
fn success_report_requested_and_received() {
    let mut p = Pair::plain();
    p.run();
    let options = SendOptions {
        success_report: true,
        ..SendOptions::default()
    };
    let id =
        p.a.send_message("text/plain", &[b'x'; 5000], options, p.now)
            .expect("sent");
    p.run();
    let reports: Vec<_> = p
        .b_wire
        .iter()
        .map(|m| parse_message(m).expect("msrp"))
        .filter(|m| m.head.method() == Some(Method::Report))
        .map(|m| {
            (
                m.head.message_id.map(str::to_owned),
                m.head.byte_range.map(|r| r.to_string()),
            )
        })
        .collect();
    assert_eq!(
        reports,
        [(Some(id.clone()), Some("1-5000/5000".to_owned()))]
    );
    assert!(p.a_events.iter().any(|e| matches!(e,
        Event::ReportReceived { message_id, .. } if *message_id == id)));
}

#[test]
fn failure_report_no_gets_no_response() {
    let mut p = Pair::plain();
    p.run();
    let before = p.b_wire.len();
    let options = SendOptions {
        failure_report: Some(FailureReport::No),
        ..SendOptions::default()
    };
    let id =
        p.a.send_message("text/plain", b"fire and forget", options, p.now)
            .expect("sent");
    assert_eq!(p.a.pending_transactions(), 0, "nothing to wait for");
    p.run();
    assert_eq!(p.b_wire.len(), before, "no response to Failure-Report: no");
    assert_eq!(p.received().len(), 1);
    assert!(p.a_events.contains(&Event::MessageSent { message_id: id }));
    assert_eq!(p.a.poll_timeout(), None);
}

#[test]
fn to_path_that_does_not_match_gets_481() {
    let wrong = "msrp://bob.example.com:8888/someoneelse;tcp";
    let mut p = Pair::new(
        SessionParams::new(ALICE, wrong, true),
        config(1),
        SessionParams::new(BOB, ALICE, false),
        config(2),
    );
    p.run();
    assert_eq!(response_codes(&p.b_wire), [481]);
    assert!(!p.b_events.contains(&Event::Bound), "481 does not bind");
    assert_eq!(
        p.a_events,
        [Event::BindFailed(DeliveryFailure::Response(481))]
    );
}

#[test]
fn unaccepted_content_type_gets_415_and_a_compliant_sender_refuses_it() {
    let mut bob = SessionParams::new(BOB, ALICE, false);
    bob.local_accept_types = AcceptTypes::from_iter(["text/plain"]);
    // A sender that ignores what Bob announced.
    let mut p = Pair::new(
        SessionParams::new(ALICE, BOB, true),
        config(1),
        bob.clone(),
        config(2),
    );
    p.run();
    let id =
        p.a.send_message("image/png", b"\x89PNG", SendOptions::default(), p.now)
            .expect("sent");
    p.run();
    assert_eq!(response_codes(&p.b_wire), [200, 415]);
    assert!(p.received().is_empty());
    assert!(p.a_events.contains(&Event::DeliveryFailed {
        message_id: id,
        cause: DeliveryFailure::Response(415)
    }));

    // A compliant sender knows Bob's accept-types and never sends it.
    let mut alice = SessionParams::new(ALICE, BOB, true);
    alice.remote_accept_types = AcceptTypes::from_iter(["text/plain"]);
    let mut p = Pair::new(alice, config(1), bob, config(2));
    p.run();
    let wire = p.a_wire.len();
    let err =
        p.a.send_message("image/png", b"\x89PNG", SendOptions::default(), p.now)
            .unwrap_err();
    assert_eq!(err.kind, SendErrorKind::NotAccepted);
    p.run();
    assert_eq!(p.a_wire.len(), wire, "nothing sent");
}

#[test]
fn response_timeout_fails_the_message_at_exactly_30_seconds() {
    let now = Instant::now();
    let mut alice =
        MsrpSession::new(SessionParams::new(ALICE, BOB, true), config(1)).expect("alice");
    alice.handle_input(Input::Connected, now);
    let id = alice
        .send_message("text/plain", b"anyone?", SendOptions::default(), now)
        .expect("sent");
    while alice.poll_output().is_some() {}
    let deadline = alice.poll_timeout().expect("a response timeout");
    assert_eq!(deadline, now + Duration::from_secs(30));
    assert!(format!("{:?}", alice.poll_deadline()).contains("ResponseTimeout"));
    alice.handle_timeout(deadline - Duration::from_nanos(1));
    assert_eq!(alice.poll_output(), None, "not yet");
    alice.handle_timeout(deadline);
    let mut events = Vec::new();
    while let Some(o) = alice.poll_output() {
        if let Output::Event(e) = o {
            events.push(e);
        }
    }
    assert_eq!(
        events,
        [
            Event::BindFailed(DeliveryFailure::Timeout),
            Event::DeliveryFailed {
                message_id: id,
                cause: DeliveryFailure::Timeout
            }
        ]
    );
    assert_eq!(
        alice.poll_timeout(),
        None,
        "no deadline left at or before now"
    );
}

#[test]
fn cpim_wrapping_and_the_headers_on_the_receiving_side() {
    let mut alice = SessionParams::new(ALICE, BOB, true);
    alice.remote_accept_types = AcceptTypes::from_iter(["message/cpim"]);
    alice.remote_accept_wrapped_types = Some(AcceptTypes::from_iter(["text/plain"]));
    let mut bob = SessionParams::new(BOB, ALICE, false);
    bob.local_accept_types = AcceptTypes::from_iter(["message/cpim"]);
    let a_config = SessionConfig {
        cpim: Some(CpimIdentities {
            from: "sip:alice@example.com".to_owned(),
            to: "sip:bob@example.com".to_owned(),
        }),
        ..config(1)
    };
    let mut p = Pair::new(alice, a_config, bob, config(2));
    p.run();
    let options = SendOptions {
        date_time: Some("2026-11-25T14:00:00Z".to_owned()),
        ..SendOptions::default()
    };
    p.a.send_message("text/plain", b"wrapped hello", options, p.now)
        .expect("sent");
    assert_eq!(
        p.a.send_message("image/png", b"x", SendOptions::default(), p.now)
            .unwrap_err()
            .kind,
        SendErrorKind::NotAccepted,
        "not among the wrapped types"
    );
    p.run();
    let got = p.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].content_type, "message/cpim");
    let cpim = got[0].cpim.clone().expect("CPIM").expect("parses");
    assert_eq!(cpim.from.expect("From").uri, "sip:alice@example.com");
    assert_eq!(cpim.to[0].uri, "sip:bob@example.com");
    assert_eq!(cpim.date_time.as_deref(), Some("2026-11-25T14:00:00Z"));
    assert_eq!(cpim.mime_headers.get("Content-Type"), Some("text/plain"));
    assert_eq!(&cpim.content[..], b"wrapped hello");
}

#[test]
fn message_over_max_size_gets_413_and_sender_limits_refuse() {
    let mut bob = SessionParams::new(BOB, ALICE, false);
    bob.local_max_size = Some(100);
    let mut p = Pair::new(
        SessionParams::new(ALICE, BOB, true),
        config(1),
        bob,
        config(2),
    );
    p.run();
    let id =
        p.a.send_message("text/plain", &[b'a'; 200], SendOptions::default(), p.now)
            .expect("sent");
    p.run();
    assert_eq!(response_codes(&p.b_wire), [200, 413]);
    assert!(p.a_events.contains(&Event::DeliveryFailed {
        message_id: id,
        cause: DeliveryFailure::Response(413)
    }));
    assert!(p.received().is_empty());

    // The sender knows the peer's max-size.
    let mut alice = SessionParams::new(ALICE, BOB, true);
    alice.remote_max_size = Some(100);
    let mut a = MsrpSession::new(alice, config(1)).expect("alice");
    let err = a
        .send_message("text/plain", &[b'a'; 101], SendOptions::default(), p.now)
        .unwrap_err();
    assert_eq!(err.kind, SendErrorKind::TooLarge);

    // The outgoing queue is bounded: a full queue refuses (backpressure).
    let mut small = config(1);
    small.limits.max_queued_bytes = 10_000;
    small.chunk_size = NonZeroUsize::new(1000).expect("non-zero");
    let mut a = MsrpSession::new(SessionParams::new(ALICE, BOB, true), small).expect("alice");
    a.send_message("text/plain", &[b'a'; 4000], SendOptions::default(), p.now)
        .expect("fits");
    let err = a
        .send_message("text/plain", &[b'a'; 4000], SendOptions::default(), p.now)
        .unwrap_err();
    assert_eq!(err.kind, SendErrorKind::WouldBlock);
    assert!(a.queued_bytes() <= 10_000);
}

#[test]
fn closing_fails_what_is_outstanding() {
    let mut p = Pair::plain();
    p.run();
    let id =
        p.a.send_message("text/plain", b"lost", SendOptions::default(), p.now)
            .expect("sent");
    p.a.handle_input(Input::Closed, p.now);
    let events: Vec<_> = std::iter::from_fn(|| p.a.poll_output())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            Output::Transmit(_) => None,
        })
        .collect();
    assert_eq!(
        events,
        [
            Event::DeliveryFailed {
                message_id: id,
                cause: DeliveryFailure::ConnectionClosed
            },
            Event::Closed
        ]
    );
    assert_eq!(
        p.a.send_message("text/plain", b"x", SendOptions::default(), p.now)
            .unwrap_err()
            .kind,
        SendErrorKind::Closed
    );
}

#[test]
fn garbage_is_a_protocol_error_and_the_session_stays_consistent() {
    let mut p = Pair::plain();
    p.run();
    p.b.handle_input(Input::Bytes(b"GET / HTTP/1.1\r\n\r\n"), p.now);
    let e = p.b.poll_output();
    assert!(
        matches!(e, Some(Output::Event(Event::ProtocolError(_)))),
        "{e:?}"
    );
    p.b.handle_input(Input::Bytes(b"more"), p.now);
    assert_eq!(p.b.poll_output(), None);
}

#[test]
fn sends_count_matches_chunks() {
    let mut p = Pair::plain();
    p.run();
    p.a.send_message("text/plain", &[b'z'; 4097], SendOptions::default(), p.now)
        .expect("sent");
    p.run();
    assert_eq!(sends(&p.a_wire), 1 + 3, "bind + ceil(4097 / 2048) chunks");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), cut in 1usize..50) {
        let mut p = Pair::plain();
        p.run();
        for piece in data.chunks(cut) {
            p.b.handle_input(Input::Bytes(piece), p.now);
        }
        while p.b.poll_output().is_some() {}
    }

    #[test]
    fn any_split_delivers_the_same_message(body in proptest::collection::vec(any::<u8>(), 0..6000), split in 1usize..300) {
        let mut p = Pair::plain();
        p.split = split;
        p.run();
        p.a.send_message("application/octet-stream", &body, SendOptions::default(), p.now).expect("sent");
        p.run();
        let got = p.received();
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(&got[0].body, &body);
    }
}

#[test]
fn rfc4975_example_send_is_answered() {
    // RFC 4975 §10.1: Alice's SEND to Bob (tests/data/msrp, from the RFC text).
    let send = include_bytes!("data/msrp/rfc4975_s10_1_send.msrp");
    let now = Instant::now();
    let mut bob = MsrpSession::new(SessionParams::new(BOB, ALICE, false), config(2)).expect("bob");
    bob.handle_input(Input::Connected, now);
    for piece in send.chunks(11) {
        bob.handle_input(Input::Bytes(piece), now);
    }
    let outputs: Vec<_> = std::iter::from_fn(|| bob.poll_output()).collect();
    let response = outputs
        .iter()
        .find_map(|o| match o {
            Output::Transmit(t) => Some(t.data.clone()),
            Output::Event(_) => None,
        })
        .expect("a response");
    let expected = include_bytes!("data/msrp/rfc4975_s10_1_200.msrp");
    assert_eq!(
        String::from_utf8_lossy(&response),
        String::from_utf8_lossy(expected)
    );
    assert!(outputs.iter().any(|o| matches!(o,
        Output::Event(Event::MessageReceived(m)) if m.body == b"Hi, I'm Alice!" && m.message_id == "12339sdqwer")));
}

#[test]
fn sessions_built_from_an_sdp_offer_answer_exchange() {
    use oma_im::sdp::offer_answer::{answer, negotiate, offer, LocalParameters, Side};
    use oma_im::sdp::SessionDescription;

    let alice_local = LocalParameters::new(1, 1, "alicepc.example.com", 7777, ALICE);
    let bob_local = LocalParameters::new(2, 1, "bob.example.com", 8888, BOB);
    let offer_body = offer(&alice_local).to_bytes();
    let received_offer = SessionDescription::parse(&offer_body).expect("offer");
    let answer_body = answer(&received_offer, &bob_local).to_bytes();
    let received_answer = SessionDescription::parse(&answer_body).expect("answer");
    let alice_offer = offer(&alice_local);
    let for_alice = negotiate(&alice_offer, &received_answer, Side::Offerer).expect("alice");
    let bob_answer = answer(&received_offer, &bob_local);
    let for_bob = negotiate(&bob_answer, &received_offer, Side::Answerer).expect("bob");

    let a_config = SessionConfig {
        cpim: Some(CpimIdentities {
            from: "sip:alice@example.com".to_owned(),
            to: "sip:bob@example.com".to_owned(),
        }),
        ..config(1)
    };
    let a = MsrpSession::from_negotiated(&for_alice, a_config).expect("alice");
    let b = MsrpSession::from_negotiated(&for_bob, config(2)).expect("bob");
    // Bob answered actpass with active: Bob opens the connection.
    assert!(!a.params().active);
    assert!(b.params().active);
    let now = Instant::now();
    let mut p = Pair {
        a,
        b,
        now,
        a_wire: Vec::new(),
        b_wire: Vec::new(),
        a_events: Vec::new(),
        b_events: Vec::new(),
        split: 9,
    };
    p.a.handle_input(Input::Connected, now);
    p.b.handle_input(Input::Connected, now);
    p.run();
    assert!(p.a_events.contains(&Event::Bound), "Alice is passive");
    // message/cpim is all Bob accepts (the default accept-types): Alice wraps.
    p.a.send_message("text/plain", b"via SDP", SendOptions::default(), now)
        .expect("sent");
    p.run();
    let got = p.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].content_type, "message/cpim");
    let cpim = got[0].cpim.clone().expect("CPIM").expect("parses");
    assert_eq!(&cpim.content[..], b"via SDP");
}

/// Feeds raw bytes to a bound Bob and returns what he wrote and saw.
fn bob_answers(wire: &[u8]) -> (Vec<Vec<u8>>, Vec<Event>) {
    let now = Instant::now();
    let mut bob = MsrpSession::new(SessionParams::new(BOB, ALICE, false), config(2)).expect("bob");
    bob.handle_input(Input::Connected, now);
    bob.handle_input(Input::Bytes(wire), now);
    let (mut sent, mut events) = (Vec::new(), Vec::new());
    while let Some(o) = bob.poll_output() {
        match o {
            Output::Transmit(t) => sent.push(t.data),
            Output::Event(e) => events.push(e),
        }
    }
    (sent, events)
}

#[test]
fn unknown_method_gets_501_and_a_failure_report_fails_the_message() {
    let other =
        format!("MSRP x1y2 NICKNAME\r\nTo-Path: {BOB}\r\nFrom-Path: {ALICE}\r\n-------x1y2$\r\n");
    let (sent, _) = bob_answers(other.as_bytes());
    assert_eq!(response_codes(&sent), [501]);

    // Alice's message failed at Bob's end: a failure REPORT comes back.
    let mut p = Pair::plain();
    p.run();
    let id =
        p.a.send_message("text/plain", b"x", SendOptions::default(), p.now)
            .expect("sent");
    while p.a.poll_output().is_some() {}
    let report = format!(
        "MSRP r9r9 REPORT\r\nTo-Path: {ALICE}\r\nFrom-Path: {BOB}\r\nMessage-ID: {id}\r\n\
         Byte-Range: 1-1/1\r\nStatus: 000 413 Stop-sending-message\r\n-------r9r9$\r\n"
    );
    p.a.handle_input(Input::Bytes(report.as_bytes()), p.now);
    let events: Vec<_> = std::iter::from_fn(|| p.a.poll_output()).collect();
    assert_eq!(
        events,
        [Output::Event(Event::DeliveryFailed {
            message_id: id,
            cause: DeliveryFailure::Report(413)
        })],
        "no response to a REPORT, the message failed"
    );
    assert_eq!(p.a.pending_transactions(), 0);
}

#[test]
fn aborted_message_is_dropped_with_an_event() {
    let first = format!(
        "MSRP t1t1 SEND\r\nTo-Path: {BOB}\r\nFrom-Path: {ALICE}\r\nMessage-ID: m77\r\n\
         Byte-Range: 1-5/10\r\nContent-Type: text/plain\r\n\r\nhello\r\n-------t1t1+\r\n"
    );
    let abort = format!(
        "MSRP t2t2 SEND\r\nTo-Path: {BOB}\r\nFrom-Path: {ALICE}\r\nMessage-ID: m77\r\n\
         Byte-Range: 6-10/10\r\nContent-Type: text/plain\r\n\r\nworld\r\n-------t2t2#\r\n"
    );
    let (sent, events) = bob_answers(format!("{first}{abort}").as_bytes());
    assert_eq!(response_codes(&sent), [200, 200]);
    assert_eq!(
        events,
        [
            Event::Bound,
            Event::MessageAborted {
                message_id: "m77".to_owned()
            }
        ]
    );
}

#[test]
fn failure_report_partial_hears_only_failures() {
    let mut bob = SessionParams::new(BOB, ALICE, false);
    bob.local_max_size = Some(100);
    let mut p = Pair::new(
        SessionParams::new(ALICE, BOB, true),
        config(1),
        bob,
        config(2),
    );
    p.run();
    let partial = || SendOptions {
        failure_report: Some(FailureReport::Partial),
        ..SendOptions::default()
    };
    let ok =
        p.a.send_message("text/plain", b"small", partial(), p.now)
            .expect("sent");
    let too_big =
        p.a.send_message("text/plain", &[b'b'; 200], partial(), p.now)
            .expect("sent");
    p.run();
    assert_eq!(
        response_codes(&p.b_wire),
        [200, 413],
        "the bind's 200, then only the failure"
    );
    assert_eq!(
        p.a_events,
        [
            Event::MessageSent {
                message_id: ok.clone()
            },
            Event::MessageSent {
                message_id: too_big.clone()
            },
            Event::DeliveryFailed {
                message_id: too_big,
                cause: DeliveryFailure::Response(413)
            },
        ]
    );
    // No news is good news: the wait for a failure ends without an event.
    let deadline = p.a.poll_timeout().expect("waiting for a failure");
    p.a.handle_timeout(deadline);
    assert_eq!(p.a.poll_output(), None);
    assert_eq!(p.a.pending_transactions(), 0);
    assert_eq!(p.received().len(), 1);
    assert_eq!(p.received()[0].message_id, ok);
}

/// Everything a session hands out.
fn drain_session(s: &mut MsrpSession) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A session takes input that holds whole messages where it lies (not
    /// through its stream parser's buffer); that gives exactly what the
    /// parser gives the same bytes cut into small pieces: the same
    /// transmits and events, whatever Alice sends (chunked or not, accepted
    /// or not) and with a message that is not MSRP at the end.
    #[test]
    fn whole_and_split_input_give_the_same_output(
        messages in proptest::collection::vec(
            (0usize..3000, proptest::sample::select(vec!["text/plain", "image/png", "message/cpim"])),
            1..5),
        piece in 1usize..9,
        glued in any::<bool>(),
        garbage in any::<bool>(),
    ) {
        let now = Instant::now();
        let mut alice_config = config(1);
        alice_config.chunk_size = NonZeroUsize::new(1024).unwrap_or(NonZeroUsize::MIN);
        let mut alice_params = SessionParams::new(ALICE, BOB, true);
        alice_params.remote_accept_types = AcceptTypes::from_iter(["*"]);
        let mut alice = MsrpSession::new(alice_params, alice_config).expect("alice");
        let bob = || {
            let mut b = MsrpSession::new(SessionParams::new(BOB, ALICE, false), config(2)).expect("bob");
            b.handle_input(Input::Connected, now);
            b
        };
        let (mut whole, mut split) = (bob(), bob());
        alice.handle_input(Input::Connected, now);
        for (size, content_type) in &messages {
            let body: Vec<u8> = (0..*size).map(|i| b"ab\r\n-------c"[i % 12]).collect();
            let _ = alice.send_message(content_type, &body, SendOptions::default(), now);
        }
        let mut wire: Vec<Vec<u8>> = drain_session(&mut alice)
            .into_iter()
            .filter_map(|o| match o {
                Output::Transmit(t) => Some(t.data),
                Output::Event(_) => None,
            })
            .collect();
        if garbage {
            wire.push(b"MSRP x SEND\r\nTo-Path: nonsense\r\n\r\n-------x$\r\n".to_vec());
        }
        prop_assert!(!wire.is_empty());
        let (mut got_whole, mut got_split) = (Vec::new(), Vec::new());
        if glued {
            whole.handle_input(Input::Bytes(&wire.concat()), now);
            got_whole.extend(drain_session(&mut whole));
        }
        for message in &wire {
            if !glued {
                whole.handle_input(Input::Bytes(message), now);
                got_whole.extend(drain_session(&mut whole));
            }
            for bytes in message.chunks(piece) {
                split.handle_input(Input::Bytes(bytes), now);
            }
            if !glued {
                got_split.extend(drain_session(&mut split));
            }
        }
        got_split.extend(drain_session(&mut split));
        prop_assert_eq!(got_whole, got_split);
    }
}
