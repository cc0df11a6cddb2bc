//! The answers a UA owes, statelessly, for requests it cannot process:
//! 400 (naming the cause), 505, 501 with Allow, 420 with Unsupported, 415
//! with Accept, 416, and 481 for a request or CANCEL matching nothing. The
//! requests are RFC 4475's where it has one.

mod support;

use std::net::SocketAddr;
use std::time::Instant;

use oma_im::dialog::{Config, Event, Input, UserAgent};
use oma_im::sip::{parse_message, HeaderName, OptionTag};
use oma_im::transaction::Transport;
use support::msg::{drain, rfc4475};

fn bob() -> UserAgent {
    let mut config = Config::new(
        SocketAddr::from(([192, 0, 2, 2], 5060)),
        SocketAddr::from(([192, 0, 2, 9], 5060)),
        Transport::Udp,
        5,
    );
    config.capabilities.supported.insert(OptionTag::Timer);
    UserAgent::new(config)
}

fn source() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 21], 5060))
}

/// Delivers `bytes` to a fresh UA; returns the one response it sent, which
/// must be the only output besides a `StatelessAnswerSent` event.
fn answer(bytes: &[u8]) -> Vec<u8> {
    let mut ua = bob();
    ua.handle_input(
        Input::Datagram {
            bytes,
            source: source(),
            transport: Transport::Udp,
        },
        Instant::now(),
    );
    let (transmits, events) = drain(&mut ua);
    assert_eq!(transmits.len(), 1, "{events:?}");
    // Read from the Status-Line: the answer to a request missing mandatory
    // fields cannot have them either.
    let status: u16 = std::str::from_utf8(&transmits[0].bytes[8..11])
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        matches!(events.as_slice(), [Event::StatelessAnswerSent { status: s, .. }] if *s == status),
        "{events:?}"
    );
    assert!(ua.is_idle(), "no state kept for a stateless answer");
    transmits[0].bytes.clone()
}

fn header<'a>(msg: &oma_im::sip::SipMessage<'a>, name: HeaderName<'_>) -> &'a str {
    msg.header(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .value
}

#[test]
fn rfc4475_badvers_gets_505() {
    let bytes = answer(&rfc4475("badvers"));
    let msg = parse_message(&bytes).unwrap();
    assert_eq!(msg.status_code(), Some(505));
    assert_eq!(
        header(&msg, HeaderName::CallId),
        "badvers.31417@c.example.com"
    );
}

#[test]
fn rfc4475_mismatch01_gets_400_naming_the_cause() {
    let bytes = answer(&rfc4475("mismatch01"));
    let msg = parse_message(&bytes).unwrap();
    assert_eq!(msg.status_code(), Some(400));
    let reason = msg.status_line().unwrap().reason;
    assert!(reason.contains("CSeq method"), "{reason}");
    assert_eq!(header(&msg, HeaderName::CSeq), "8 INVITE");
}

#[test]
fn rfc4475_insuf_gets_400_naming_the_missing_header() {
    let bytes = answer(&rfc4475("insuf"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.starts_with("SIP/2.0 400 Bad Request (missing "),
        "{text}"
    );
    assert!(text.contains("Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"));
}

#[test]
fn rfc4475_intmeth_unknown_method_gets_501_with_allow() {
    let bytes = answer(&rfc4475("intmeth"));
    let msg = parse_message(&bytes).unwrap();
    assert_eq!(msg.status_code(), Some(501));
    let allow = msg.allow().unwrap().unwrap();
    assert!(allow.contains(oma_im::sip::Method::Invite));
    assert!(allow.contains(oma_im::sip::Method::Message));
}

#[test]
fn rfc4475_bext01_unknown_require_gets_420_with_unsupported() {
    let bytes = answer(&rfc4475("bext01"));
    let msg = parse_message(&bytes).unwrap();
    assert_eq!(msg.status_code(), Some(420));
    assert_eq!(
        header(&msg, HeaderName::Unsupported),
        "nothingSupportsThis, nothingSupportsThisEither"
    );
}

#[test]
fn supported_require_is_accepted() {
    let text = String::from_utf8(rfc4475("bext01")).unwrap().replace(
        "Require: nothingSupportsThis, nothingSupportsThisEither",
        "Require: timer",
    );
    let mut ua = bob();
    ua.handle_input(
        Input::Datagram {
            bytes: text.as_bytes(),
            source: source(),
            transport: Transport::Udp,
        },
        Instant::now(),
    );
    let (_, events) = drain(&mut ua);
    assert!(
        matches!(events.as_slice(), [Event::RequestReceived { .. }]),
        "{events:?}"
    );
}

#[test]
fn rfc4475_invut_unknown_body_type_gets_415_with_accept() {
    let bytes = answer(&rfc4475("invut"));
    let msg = parse_message(&bytes).unwrap();
    assert_eq!(msg.status_code(), Some(415));
    let accept = header(&msg, HeaderName::Accept);
    assert!(accept.contains("application/sdp"), "{accept}");
    // A stateless answer gets a To tag.
    assert!(msg.to().unwrap().unwrap().tag().is_some());
}

#[test]
fn rfc4475_unkscm_unknown_uri_scheme_gets_416() {
    let bytes = answer(&rfc4475("unkscm"));
    let msg = parse_message(&bytes).unwrap();
    assert_eq!(msg.status_code(), Some(416));
    assert_eq!(
        header(&msg, HeaderName::CallId),
        "unkscm.nasdfasser0q239nwsdfasdkl34"
    );
}

#[test]
fn request_for_an_unknown_dialog_gets_481() {
    let bye = b"BYE sip:bob@192.0.2.2 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.21;branch=z9hG4bKbye1\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:alice@example.com>;tag=a1\r\n\
        To: <sip:bob@example.com>;tag=nosuchdialog\r\n\
        Call-ID: unknown-call\r\n\
        CSeq: 2 BYE\r\n\
        Content-Length: 0\r\n\r\n";
    let mut ua = bob();
    let now = Instant::now();
    ua.handle_input(
        Input::Datagram {
            bytes: bye,
            source: source(),
            transport: Transport::Udp,
        },
        now,
    );
    let (transmits, events) = drain(&mut ua);
    assert!(events.is_empty(), "{events:?}");
    let msg = parse_message(&transmits[0].bytes).unwrap();
    assert_eq!(msg.status_code(), Some(481));
    assert_eq!(msg.to().unwrap().unwrap().tag(), Some("nosuchdialog"));
    // The 481 went through a server transaction: a retransmitted BYE gets it again.
    ua.handle_input(
        Input::Datagram {
            bytes: bye,
            source: source(),
            transport: Transport::Udp,
        },
        now,
    );
    let (again, _) = drain(&mut ua);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].bytes, transmits[0].bytes);
}

#[test]
fn cancel_matching_nothing_gets_481() {
    let cancel = b"CANCEL sip:bob@192.0.2.2 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.21;branch=z9hG4bKnothing\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:alice@example.com>;tag=a1\r\n\
        To: <sip:bob@example.com>\r\n\
        Call-ID: c1\r\n\
        CSeq: 1 CANCEL\r\n\
        Content-Length: 0\r\n\r\n";
    let mut ua = bob();
    ua.handle_input(
        Input::Datagram {
            bytes: cancel,
            source: source(),
            transport: Transport::Udp,
        },
        Instant::now(),
    );
    let (transmits, _) = drain(&mut ua);
    assert_eq!(
        parse_message(&transmits[0].bytes).unwrap().status_code(),
        Some(481)
    );
}

/// A malformed request whose top Via does not parse cannot be answered
/// (RFC 3261 §18.2.2 sends the response along that Via): it is dropped,
/// never answered with a response that is itself unparsable. Found by the
/// `im_server_events` fuzz target (the server echoed a Via of stray bytes).
#[test]
fn a_malformed_request_with_a_broken_top_via_is_dropped_not_answered() {
    for via in [
        "wUWK4X\u{30f}F",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP 192.0.2.21;branch=z9hG4bK1 x",
    ] {
        let bytes = format!(
            "OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@b>;tag=1\r\n\
             To: <sip:bob@192.0.2.2>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nX: a\rb\r\n\r\n"
        );
        let mut ua = bob();
        ua.handle_input(
            Input::Datagram {
                bytes: bytes.as_bytes(),
                source: source(),
                transport: Transport::Udp,
            },
            Instant::now(),
        );
        let (transmits, events) = drain(&mut ua);
        assert!(transmits.is_empty(), "{via}: {transmits:?}");
        assert!(
            matches!(events.as_slice(), [Event::MessageDropped { .. }]),
            "{via}: {events:?}"
        );
    }
    // The same request with a Via that parses is answered 400.
    let good = b"OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.21;branch=z9hG4bK1\r\n\
        From: <sip:a@b>;tag=1\r\nTo: <sip:bob@192.0.2.2>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nX: a\rb\r\n\r\n";
    assert!(answer(good).starts_with(b"SIP/2.0 400 "));
}

#[test]
fn garbage_and_bad_responses_are_dropped_with_an_event() {
    let mut ua = bob();
    for bytes in [&b"\x00\x01garbage"[..], b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n"] {
        ua.handle_input(
            Input::Datagram {
                bytes,
                source: source(),
                transport: Transport::Udp,
            },
            Instant::now(),
        );
        let (transmits, events) = drain(&mut ua);
        assert!(transmits.is_empty());
        assert!(
            matches!(events.as_slice(), [Event::MessageDropped { .. }]),
            "{events:?}"
        );
    }
}

#[test]
fn over_the_transaction_limit_requests_get_503_and_commands_fail() {
    let mut config = Config::new(
        SocketAddr::from(([192, 0, 2, 2], 5060)),
        source(),
        Transport::Udp,
        8,
    );
    config.limits.max_transactions = 1;
    let mut ua = UserAgent::new(config);
    let now = Instant::now();
    let message = |branch: &str| {
        format!(
            "MESSAGE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.21;branch=z9hG4bK{branch}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n\
             Call-ID: {branch}\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
        )
    };
    ua.handle_input(
        Input::Datagram {
            bytes: message("one").as_bytes(),
            source: source(),
            transport: Transport::Udp,
        },
        now,
    );
    let (_, events) = drain(&mut ua);
    assert!(matches!(events.as_slice(), [Event::RequestReceived { .. }]));
    ua.handle_input(
        Input::Datagram {
            bytes: message("two").as_bytes(),
            source: source(),
            transport: Transport::Udp,
        },
        now,
    );
    let (transmits, events) = drain(&mut ua);
    assert_eq!(
        parse_message(&transmits[0].bytes).unwrap().status_code(),
        Some(503)
    );
    assert!(matches!(
        events.as_slice(),
        [Event::StatelessAnswerSent { status: 503, .. }]
    ));
    let spec = oma_im::dialog::RequestSpec::new(
        oma_im::sip::Method::Options,
        "sip:x@example.com",
        "<sip:b@example.com>",
        "<sip:x@example.com>",
    );
    ua.send_request(spec.clone(), now).unwrap();
    assert_eq!(
        ua.send_request(spec, now),
        Err(oma_im::dialog::UaError::TooManyTransactions)
    );
}

#[test]
fn a_transport_error_fails_the_transactions_towards_that_destination() {
    let proxy = SocketAddr::from(([192, 0, 2, 9], 5060));
    let mut ua = UserAgent::new(Config::new(
        SocketAddr::from(([192, 0, 2, 2], 5060)),
        proxy,
        Transport::Tcp,
        8,
    ));
    let now = Instant::now();
    let spec = oma_im::dialog::RequestSpec::new(
        oma_im::sip::Method::Message,
        "sip:x@example.com",
        "<sip:b@example.com>",
        "<sip:x@example.com>",
    );
    let tx = ua.send_request(spec, now).unwrap();
    drain(&mut ua);
    // Another destination: nothing happens.
    ua.handle_transport_error(source(), Transport::Tcp, now);
    assert_eq!(drain(&mut ua).1, []);
    ua.handle_transport_error(proxy, Transport::Tcp, now);
    let (_, events) = drain(&mut ua);
    assert_eq!(
        events,
        [Event::TransportError {
            transaction: oma_im::dialog::TransactionId::Client(tx)
        }]
    );
    assert!(ua.is_idle());
}
