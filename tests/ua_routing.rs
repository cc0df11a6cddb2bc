//! Where the user agent sends its requests (RFC 3261 §8.1.2, §18.1.1): to
//! the outbound proxy, with a preloaded Route, or to the next hop the
//! request names; and over TCP when a request is too large for UDP. Every
//! message is checked as the bytes that would cross the wire, and answers
//! are fed back as bytes.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    Config, DeadlineReason, DialogRequestSpec, Event, Input, RequestSpec, ResponseSpec, Routing,
    UaError, UserAgent,
};
use oma_im::im::client::{self, ClientConfig, ImClient};
use oma_im::sip::{parse_message, HeaderName, Method};
use oma_im::transaction::{Timer, Transmit, Transport};
use support::im_server::scenario::{config as server_config, Scenario};
use support::im_server::CORE;
use support::msg::drain;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const ALICE: &str = "192.0.2.1:5060";
const BOB: &str = "192.0.2.2:5060";
const PROXY: &str = "192.0.2.100:5060";

fn ua(local: &str, proxy: &str, transport: Transport, routing: Routing) -> UserAgent {
    let mut config = Config::new(addr(local), addr(proxy), transport, 5);
    config.routing = routing;
    UserAgent::new(config)
}

fn message(target: &str) -> RequestSpec {
    RequestSpec::new(
        Method::Message,
        target,
        "<sip:alice@example.com>",
        "<sip:bob@example.com>",
    )
    .with_body("text/plain", b"hi".to_vec())
}

fn invite(target: &str, body_len: usize) -> RequestSpec {
    RequestSpec::new(
        Method::Invite,
        target,
        "<sip:alice@example.com>",
        "<sip:bob@example.com>",
    )
    .with_body("text/plain", vec![b'x'; body_len])
}

/// The only transmission `ua` has to send now.
fn one(ua: &mut UserAgent) -> Transmit {
    let (mut transmits, _) = drain(ua);
    assert_eq!(transmits.len(), 1, "{transmits:?}");
    transmits.remove(0)
}

fn values(bytes: &[u8], name: &str) -> Vec<String> {
    let msg = parse_message(bytes).unwrap();
    msg.header_values(HeaderName::parse(name))
        .map(|h| h.value.to_owned())
        .collect()
}

fn top_via(bytes: &[u8]) -> String {
    values(bytes, "Via").remove(0)
}

fn deliver(to: &mut UserAgent, t: &Transmit, from: &str, now: Instant) {
    to.handle_input(
        Input::Datagram {
            bytes: &t.bytes,
            source: addr(from),
            transport: t.transport,
        },
        now,
    );
}

/// Bob answers the INVITE Alice sent with 200 (with `record_route` echoed
/// when the INVITE carries it); returns Alice's ACK after the 200.
fn answer_invite(alice: &mut UserAgent, bob: &mut UserAgent, invite: &Transmit, now: Instant) {
    deliver(bob, invite, ALICE, now);
    let (_, events) = drain(bob);
    let tx = events
        .iter()
        .find_map(|e| match e {
            Event::RequestReceived { transaction, .. } => Some(*transaction),
            _ => None,
        })
        .expect("Bob got the INVITE");
    bob.respond(tx, ResponseSpec::new(200), now).unwrap();
    let ok = one(bob);
    assert_eq!(
        ok.transport, invite.transport,
        "the answer goes back the same way"
    );
    deliver(alice, &ok, BOB, now);
}

#[test]
fn preloaded_route_is_on_out_of_dialog_requests_only() {
    let now = Instant::now();
    // Bob stands in for the proxy: Alice's outbound proxy is Bob's address.
    let mut alice = ua(ALICE, BOB, Transport::Udp, Routing::PreloadedRoute);
    let mut bob = ua(BOB, ALICE, Transport::Udp, Routing::OutboundProxy);

    alice
        .send_request(message("sip:bob@example.com"), now)
        .unwrap();
    let msg = one(&mut alice);
    assert_eq!(msg.destination, addr(BOB));
    assert_eq!(values(&msg.bytes, "Route"), ["<sip:192.0.2.2:5060;lr>"]);

    alice
        .send_request(invite("sip:bob@example.com", 10), now)
        .unwrap();
    let inv = one(&mut alice);
    assert_eq!(values(&inv.bytes, "Route"), ["<sip:192.0.2.2:5060;lr>"]);
    answer_invite(&mut alice, &mut bob, &inv, now);
    let (transmits, events) = drain(&mut alice);
    let dialog = events
        .iter()
        .find_map(|e| match e {
            Event::DialogEstablished { dialog } => Some(*dialog),
            _ => None,
        })
        .expect("Alice's dialog");
    let ack = transmits
        .iter()
        .find(|t| t.bytes.starts_with(b"ACK "))
        .expect("the ACK");
    assert_eq!(ack.destination, addr(BOB));
    assert!(
        values(&ack.bytes, "Route").is_empty(),
        "the ACK has no Route"
    );

    alice
        .send_in_dialog(
            dialog,
            DialogRequestSpec::new(Method::Info).with_body("text/plain", b"x".to_vec()),
            now,
        )
        .unwrap();
    let info = one(&mut alice);
    assert_eq!(info.destination, addr(BOB));
    assert!(
        values(&info.bytes, "Route").is_empty(),
        "no Route in the dialog"
    );
}

#[test]
fn preloaded_route_names_tcp_when_the_transport_is_tcp() {
    let now = Instant::now();
    let mut alice = ua(ALICE, PROXY, Transport::Tcp, Routing::PreloadedRoute);
    alice
        .send_request(message("sip:bob@example.com"), now)
        .unwrap();
    let t = one(&mut alice);
    assert_eq!((t.destination, t.transport), (addr(PROXY), Transport::Tcp));
    assert_eq!(
        values(&t.bytes, "Route"),
        ["<sip:192.0.2.100:5060;transport=tcp;lr>"]
    );
}

#[test]
fn outbound_proxy_routing_sends_everything_to_the_proxy_unchanged() {
    let now = Instant::now();
    let mut alice = ua(ALICE, PROXY, Transport::Udp, Routing::OutboundProxy);
    alice
        .send_request(message("sip:bob@192.0.2.2:5080;transport=tcp"), now)
        .unwrap();
    let t = one(&mut alice);
    assert_eq!((t.destination, t.transport), (addr(PROXY), Transport::Udp));
    assert!(values(&t.bytes, "Route").is_empty());
}

#[test]
fn request_uri_names_host_port_and_transport() {
    let now = Instant::now();
    let cases = [
        ("sip:bob@192.0.2.2", "192.0.2.2:5060", Transport::Udp),
        ("sip:bob@192.0.2.2:5080", "192.0.2.2:5080", Transport::Udp),
        (
            "sip:bob@192.0.2.2:5080;transport=tcp",
            "192.0.2.2:5080",
            Transport::Tcp,
        ),
        (
            "sip:bob@192.0.2.2;transport=TCP",
            "192.0.2.2:5060",
            Transport::Tcp,
        ),
        ("sips:bob@192.0.2.2", "192.0.2.2:5061", Transport::Tcp),
        (
            "sip:bob@[2001:db8::2]:5070",
            "[2001:db8::2]:5070",
            Transport::Udp,
        ),
        (
            "sip:bob@example.com;maddr=192.0.2.9",
            "192.0.2.9:5060",
            Transport::Udp,
        ),
    ];
    for (target, destination, transport) in cases {
        let mut alice = ua(ALICE, PROXY, Transport::Udp, Routing::RequestTarget);
        alice.send_request(message(target), now).unwrap();
        let t = one(&mut alice);
        assert_eq!(
            (t.destination, t.transport),
            (addr(destination), transport),
            "{target}"
        );
        assert!(
            top_via(&t.bytes).starts_with(&format!("SIP/2.0/{transport} ")),
            "{target}: the Via names the transport"
        );
        assert!(values(&t.bytes, "Route").is_empty());
    }
}

#[test]
fn the_first_route_wins_over_the_request_uri() {
    let now = Instant::now();
    let mut alice = ua(ALICE, PROXY, Transport::Udp, Routing::RequestTarget);
    let spec = message("sip:bob@example.com")
        .with_header("Route", "<sip:192.0.2.7:5090;transport=tcp;lr>")
        .with_header("Route", "<sip:192.0.2.8;lr>");
    alice.send_request(spec, now).unwrap();
    let t = one(&mut alice);
    assert_eq!(
        (t.destination, t.transport),
        (addr("192.0.2.7:5090"), Transport::Tcp)
    );
    assert!(top_via(&t.bytes).starts_with("SIP/2.0/TCP "));
    // The Route set travels unchanged.
    assert_eq!(
        values(&t.bytes, "Route"),
        [
            "<sip:192.0.2.7:5090;transport=tcp;lr>",
            "<sip:192.0.2.8;lr>"
        ]
    );
}

#[test]
fn a_host_name_is_a_typed_error_and_sends_nothing() {
    let now = Instant::now();
    let mut alice = ua(ALICE, PROXY, Transport::Udp, Routing::RequestTarget);
    let err = alice.send_request(message("sip:bob@example.com"), now);
    assert_eq!(err, Err(UaError::Unroutable("sip:bob@example.com".into())));
    let routed = message("sip:bob@192.0.2.2").with_header("Route", "<sip:proxy.example.com;lr>");
    assert!(matches!(
        alice.send_request(routed, now),
        Err(UaError::Unroutable(uri)) if uri == "sip:proxy.example.com;lr"
    ));
    let tls_only = message("sip:bob@192.0.2.2;transport=sctp");
    assert!(matches!(
        alice.send_request(tls_only, now),
        Err(UaError::Unroutable(_))
    ));
    assert!(alice.is_idle(), "nothing was started");
    assert!(drain(&mut alice).0.is_empty());
}

#[test]
fn in_dialog_requests_follow_the_route_set_and_remote_target() {
    let now = Instant::now();
    let mut alice = ua(ALICE, PROXY, Transport::Udp, Routing::RequestTarget);
    let mut bob = ua(BOB, PROXY, Transport::Udp, Routing::RequestTarget);
    // A Record-Route as a proxy at 192.0.2.7 would have added; Bob echoes it.
    let spec =
        invite("sip:bob@192.0.2.2", 10).with_header("Record-Route", "<sip:192.0.2.7:5090;lr>");
    alice.send_request(spec, now).unwrap();
    let inv = one(&mut alice);
    assert_eq!(inv.destination, addr(BOB));
    answer_invite(&mut alice, &mut bob, &inv, now);
    let (transmits, events) = drain(&mut alice);
    let ack = transmits
        .iter()
        .find(|t| t.bytes.starts_with(b"ACK "))
        .expect("the ACK");
    // The ACK goes to the first route (the "proxy"), the Request-URI is
    // Bob's Contact.
    assert_eq!(ack.destination, addr("192.0.2.7:5090"));
    assert_eq!(values(&ack.bytes, "Route"), ["<sip:192.0.2.7:5090;lr>"]);
    let dialog = events
        .iter()
        .find_map(|e| match e {
            Event::DialogEstablished { dialog } => Some(*dialog),
            _ => None,
        })
        .unwrap();
    alice.bye(dialog, now).unwrap();
    let bye = one(&mut alice);
    assert!(bye.bytes.starts_with(b"BYE sip:192.0.2.2:5060 SIP/2.0\r\n"));
    assert_eq!(bye.destination, addr("192.0.2.7:5090"));

    // Bob's side has the same route set, so his requests go there too.
    let bob_dialog = bob.dialogs().next().unwrap().id();
    bob.send_in_dialog(bob_dialog, DialogRequestSpec::new(Method::Info), now)
        .unwrap();
    let info = one(&mut bob);
    assert_eq!(info.destination, addr("192.0.2.7:5090"));
}

#[test]
fn a_strict_first_route_sends_to_the_request_uri() {
    let now = Instant::now();
    let mut alice = ua(ALICE, PROXY, Transport::Udp, Routing::RequestTarget);
    let mut bob = ua(BOB, PROXY, Transport::Udp, Routing::RequestTarget);
    // A strict router (no `lr`) recorded the route.
    let spec = invite("sip:bob@192.0.2.2", 10).with_header("Record-Route", "<sip:192.0.2.7:5090>");
    alice.send_request(spec, now).unwrap();
    let inv = one(&mut alice);
    answer_invite(&mut alice, &mut bob, &inv, now);
    let (transmits, _) = drain(&mut alice);
    let ack = transmits
        .iter()
        .find(|t| t.bytes.starts_with(b"ACK "))
        .expect("the ACK");
    // §12.2.1.1: the strict router is the Request-URI, the remote target
    // the last Route; the ACK goes to the Request-URI.
    assert!(ack.bytes.starts_with(b"ACK sip:192.0.2.7:5090 SIP/2.0\r\n"));
    assert_eq!(values(&ack.bytes, "Route"), ["<sip:192.0.2.2:5060>"]);
    assert_eq!(ack.destination, addr("192.0.2.7:5090"));
}

#[test]
fn a_large_invite_over_udp_goes_over_tcp_without_retransmission() {
    let now = Instant::now();
    let mut alice = ua(ALICE, BOB, Transport::Udp, Routing::OutboundProxy);
    let mut bob = ua(BOB, ALICE, Transport::Udp, Routing::OutboundProxy);
    alice
        .send_request(invite("sip:bob@192.0.2.2", 1400), now)
        .unwrap();
    let t = one(&mut alice);
    assert!(t.bytes.len() > 1300);
    assert_eq!((t.destination, t.transport), (addr(BOB), Transport::Tcp));
    assert!(top_via(&t.bytes).starts_with("SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK"));
    assert!(
        parse_message(&t.bytes).is_ok(),
        "the patched bytes still parse"
    );
    // TCP timers: no timer A, only timer B.
    let next = alice.next_deadline().unwrap();
    assert!(
        matches!(
            next.reason,
            DeadlineReason::Client {
                timer: Timer::B,
                ..
            }
        ),
        "{next:?}"
    );
    alice.handle_timeout(now + Duration::from_secs(4));
    assert!(drain(&mut alice).0.is_empty(), "nothing retransmitted");

    // Bob answers over the same TCP connection, to Alice's address.
    deliver(&mut bob, &t, ALICE, now);
    let (transmits, events) = drain(&mut bob);
    assert!(transmits.iter().all(|x| x.transport == Transport::Tcp));
    let tx = events
        .iter()
        .find_map(|e| match e {
            Event::RequestReceived { transaction, .. } => Some(*transaction),
            _ => None,
        })
        .unwrap();
    bob.respond(tx, ResponseSpec::new(486), now).unwrap();
    let busy = one(&mut bob);
    assert_eq!(
        (busy.destination, busy.transport),
        (addr(ALICE), Transport::Tcp)
    );
    deliver(&mut alice, &busy, BOB, now);
    // The ACK of the 486 comes from the transaction: TCP as well.
    let ack = one(&mut alice);
    assert!(ack.bytes.starts_with(b"ACK "));
    assert_eq!(ack.transport, Transport::Tcp);
    assert!(top_via(&ack.bytes).starts_with("SIP/2.0/TCP "));
}

#[test]
fn a_small_invite_stays_on_udp_and_is_retransmitted() {
    let now = Instant::now();
    let mut alice = ua(ALICE, BOB, Transport::Udp, Routing::OutboundProxy);
    alice
        .send_request(invite("sip:bob@192.0.2.2", 100), now)
        .unwrap();
    let t = one(&mut alice);
    assert!(t.bytes.len() <= 1300);
    assert_eq!(t.transport, Transport::Udp);
    assert!(top_via(&t.bytes).starts_with("SIP/2.0/UDP "));
    alice.handle_timeout(now + Duration::from_millis(500));
    let again = one(&mut alice);
    assert_eq!(again.bytes, t.bytes, "timer A retransmits over UDP");
}

#[test]
fn the_size_threshold_is_configurable_and_cancel_follows_the_invite() {
    let now = Instant::now();
    let mut config = Config::new(addr(ALICE), addr(BOB), Transport::Udp, 5);
    config.max_udp_request_size = 700;
    let mut alice = UserAgent::new(config);
    alice
        .send_request(message("sip:bob@192.0.2.2"), now)
        .unwrap();
    assert_eq!(one(&mut alice).transport, Transport::Udp, "a small MESSAGE");
    let tx = alice
        .send_request(invite("sip:bob@192.0.2.2", 800), now)
        .unwrap();
    let inv = one(&mut alice);
    assert_eq!(inv.transport, Transport::Tcp);
    // A 180 lets the CANCEL go: to the same place, over TCP, same Via.
    let ringing = format!(
        "SIP/2.0 180 Ringing\r\nVia: {}\r\n{}{}{}Content-Length: 0\r\n\r\n",
        top_via(&inv.bytes),
        header_line(&inv.bytes, "From"),
        header_line(&inv.bytes, "To").trim_end().to_owned() + ";tag=b1\r\n",
        header_line(&inv.bytes, "Call-ID") + &header_line(&inv.bytes, "CSeq"),
    );
    alice.handle_input(
        Input::Datagram {
            bytes: ringing.as_bytes(),
            source: addr(BOB),
            transport: Transport::Tcp,
        },
        now,
    );
    drain(&mut alice);
    alice.cancel(tx, now).unwrap();
    let cancel = one(&mut alice);
    assert!(cancel.bytes.starts_with(b"CANCEL "));
    assert_eq!(
        (cancel.destination, cancel.transport),
        (addr(BOB), Transport::Tcp)
    );
    assert_eq!(top_via(&cancel.bytes), top_via(&inv.bytes));
}

fn header_line(bytes: &[u8], name: &str) -> String {
    format!("{name}: {}\r\n", values(bytes, name).remove(0))
}

#[test]
fn the_im_server_passes_its_routing_to_its_user_agent() {
    let mut config = server_config();
    config.routing = Routing::PreloadedRoute;
    let mut sc = Scenario::new(config, &[("alice", &[]), ("bob", &[180, 200])]);
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run(10);
    let server = sc.sim.sip_addr(sc.server_id);
    let invitation = sc
        .wire()
        .iter()
        .find(|w| w.from == server && w.bytes.starts_with(b"INVITE sip:bob@example.com "))
        .expect("the server invited Bob");
    assert_eq!(invitation.to, addr(CORE));
    assert_eq!(
        values(&invitation.bytes, "Route"),
        [format!("<sip:{CORE};lr>")]
    );
}

#[test]
fn the_im_client_passes_its_routing_to_its_user_agent() {
    let now = Instant::now();
    let mut config = ClientConfig::new(
        "sip:alice@example.com",
        "sip:conf-factory@example.com",
        addr(ALICE),
        addr(PROXY),
    );
    config.routing = Routing::RequestTarget;
    let mut alice = ImClient::new(config);
    alice
        .start_one_to_one("sip:bob@192.0.2.2:5070;transport=tcp", now)
        .unwrap();
    let mut sent = Vec::new();
    while let Some(output) = alice.poll_output() {
        if let client::Output::Transmit(t) = output {
            sent.push(t);
        }
    }
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].destination, sent[0].transport),
        (addr("192.0.2.2:5070"), Transport::Tcp)
    );
    assert!(top_via(&sent[0].bytes).starts_with("SIP/2.0/TCP "));
}

#[test]
fn an_im_server_without_proxy_fails_an_invitee_named_by_host_name_with_503() {
    let mut config = server_config();
    config.routing = Routing::RequestTarget;
    let mut sc = Scenario::new(config, &[("alice", &[]), ("bob", &[180, 200])]);
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run(10);
    let server = sc.sim.sip_addr(sc.server_id);
    assert!(
        !sc.wire()
            .iter()
            .any(|w| w.from == server && w.bytes.starts_with(b"INVITE ")),
        "no invitation could be sent"
    );
    let answer = sc
        .wire()
        .iter()
        .find(|w| w.from == server && w.bytes.starts_with(b"SIP/2.0 5"))
        .expect("the inviter is answered");
    assert!(answer.bytes.starts_with(b"SIP/2.0 503 "));
}

#[test]
fn a_2xx_whose_contact_has_a_host_name_ends_the_dialog_unacknowledged() {
    let now = Instant::now();
    let mut alice = ua(ALICE, PROXY, Transport::Udp, Routing::RequestTarget);
    let mut bob = ua(BOB, PROXY, Transport::Udp, Routing::RequestTarget);
    alice
        .send_request(invite("sip:bob@192.0.2.2", 10), now)
        .unwrap();
    let inv = one(&mut alice);
    deliver(&mut bob, &inv, ALICE, now);
    let (_, events) = drain(&mut bob);
    let tx = events
        .iter()
        .find_map(|e| match e {
            Event::RequestReceived { transaction, .. } => Some(*transaction),
            _ => None,
        })
        .unwrap();
    let ok = ResponseSpec::new(200).with_contact("<sip:bob@bob.example.com>");
    bob.respond(tx, ok, now).unwrap();
    let ok = one(&mut bob);
    deliver(&mut alice, &ok, BOB, now);
    let (transmits, events) = drain(&mut alice);
    assert!(
        !transmits.iter().any(|t| t.bytes.starts_with(b"ACK ")),
        "no address to send the ACK to"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::DialogTerminated {
            reason: oma_im::dialog::TerminationReason::RequestFailed(503),
            ..
        }
    )));
}
