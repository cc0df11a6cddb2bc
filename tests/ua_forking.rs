//! A forked INVITE (§13.2.2.4, §12.1.2): early dialogs per To tag, the
//! first 2xx wins, a later 2xx from another fork is ACKed and then BYEd,
//! early dialogs end with the final response.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    Config, DialogState, Event, Input, RequestSpec, TerminationReason, UserAgent,
};
use oma_im::sip::{parse_message, Method};
use oma_im::transaction::Transport;
use support::msg::{drain, response_for};

fn proxy() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 9], 5060))
}

fn alice() -> UserAgent {
    UserAgent::new(Config::new(
        SocketAddr::from(([192, 0, 2, 1], 5060)),
        proxy(),
        Transport::Udp,
        11,
    ))
}

fn deliver(ua: &mut UserAgent, bytes: &[u8], now: Instant) {
    ua.handle_input(
        Input::Datagram {
            bytes,
            source: proxy(),
            transport: Transport::Udp,
        },
        now,
    );
}

fn invite(ua: &mut UserAgent, now: Instant) -> Vec<u8> {
    let spec = RequestSpec::new(
        Method::Invite,
        "sip:bob@example.com",
        "<sip:alice@example.com>",
        "<sip:bob@example.com>",
    );
    ua.send_request(spec, now).unwrap();
    let (transmits, _) = drain(ua);
    assert_eq!(transmits.len(), 1);
    transmits[0].bytes.clone()
}

#[test]
fn two_forks_second_2xx_is_acked_and_byed() {
    let mut ua = alice();
    let t0 = Instant::now();
    let invite_bytes = invite(&mut ua, t0);
    let inv = parse_message(&invite_bytes).unwrap();
    let contact_a = "Contact: <sip:bob@192.0.2.31>";
    let contact_b = "Contact: <sip:bob@192.0.2.32>";
    let rr = "Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>";

    // Two early dialogs, one per To tag.
    deliver(
        &mut ua,
        &response_for(&inv, 180, Some("forkA"), &[contact_a, rr]),
        t0,
    );
    deliver(
        &mut ua,
        &response_for(&inv, 180, Some("forkB"), &[contact_b]),
        t0,
    );
    let (_, events) = drain(&mut ua);
    let early: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::DialogEarly { dialog } => Some(*dialog),
            _ => None,
        })
        .collect();
    assert_eq!(early.len(), 2);
    assert!(ua.dialogs().all(|d| d.state() == DialogState::Early));

    // Fork A answers first: confirmed, ACKed; fork B's early dialog ends.
    deliver(
        &mut ua,
        &response_for(&inv, 200, Some("forkA"), &[contact_a, rr]),
        t0 + Duration::from_millis(10),
    );
    let (transmits, events) = drain(&mut ua);
    assert_eq!(transmits.len(), 1);
    let ack = parse_message(&transmits[0].bytes).unwrap();
    assert_eq!(ack.method(), Some("ACK"));
    assert_eq!(ack.to().unwrap().unwrap().tag(), Some("forkA"));
    // Loose routing: Request-URI is the remote target, Route the reversed Record-Route.
    assert_eq!(ack.request_line().unwrap().uri, "sip:bob@192.0.2.31");
    let routes: Vec<_> = ack.route().map(|r| r.unwrap().to_string()).collect();
    assert_eq!(
        routes,
        ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );
    assert!(events.contains(&Event::DialogEstablished { dialog: early[0] }));
    assert!(events.contains(&Event::DialogTerminated {
        dialog: early[1],
        reason: TerminationReason::FinalResponse(200),
        owner: None
    }));

    // Fork B answers too: ACKed, then released with BYE.
    deliver(
        &mut ua,
        &response_for(&inv, 200, Some("forkB"), &[contact_b]),
        t0 + Duration::from_millis(20),
    );
    let (transmits, _) = drain(&mut ua);
    let lines: Vec<_> = transmits
        .iter()
        .map(|t| {
            parse_message(&t.bytes)
                .unwrap()
                .method()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(lines, ["ACK", "BYE"]);
    for t in &transmits {
        let m = parse_message(&t.bytes).unwrap();
        assert_eq!(m.to().unwrap().unwrap().tag(), Some("forkB"));
        assert_eq!(m.request_line().unwrap().uri, "sip:bob@192.0.2.32");
    }
    let bye = parse_message(&transmits[1].bytes).unwrap();
    // A retransmission of fork B's 2xx is ACKed again.
    deliver(
        &mut ua,
        &response_for(&inv, 200, Some("forkB"), &[contact_b]),
        t0 + Duration::from_millis(30),
    );
    let (transmits, _) = drain(&mut ua);
    assert_eq!(transmits.len(), 1);
    assert_eq!(
        parse_message(&transmits[0].bytes).unwrap().method(),
        Some("ACK")
    );
    // The BYE's 200 ends fork B's dialog; fork A's stays.
    deliver(
        &mut ua,
        &response_for(&bye, 200, None, &[]),
        t0 + Duration::from_millis(40),
    );
    let (_, events) = drain(&mut ua);
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::DialogTerminated {
                reason: TerminationReason::ForkReleased,
                ..
            }
        )),
        "{events:?}"
    );
    assert_eq!(ua.dialogs().count(), 1);
    assert_eq!(ua.dialogs().next().unwrap().remote_tag(), "forkA");
}

#[test]
fn a_non_2xx_final_response_ends_every_early_dialog() {
    let mut ua = alice();
    let t0 = Instant::now();
    let inv_bytes = invite(&mut ua, t0);
    let inv = parse_message(&inv_bytes).unwrap();
    deliver(
        &mut ua,
        &response_for(&inv, 183, Some("x"), &["Contact: <sip:x@192.0.2.40>"]),
        t0,
    );
    deliver(
        &mut ua,
        &response_for(&inv, 180, Some("y"), &["Contact: <sip:y@192.0.2.41>"]),
        t0,
    );
    drain(&mut ua);
    assert_eq!(ua.dialogs().count(), 2);
    deliver(&mut ua, &response_for(&inv, 486, Some("x"), &[]), t0);
    let (transmits, events) = drain(&mut ua);
    // The transaction ACKs the 486 itself, on the INVITE's branch.
    let ack = parse_message(&transmits[0].bytes).unwrap();
    assert_eq!(ack.method(), Some("ACK"));
    assert_eq!(
        ack.top_via().unwrap().unwrap().branch(),
        inv.top_via().unwrap().unwrap().branch()
    );
    let ended = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::DialogTerminated {
                    reason: TerminationReason::FinalResponse(486),
                    ..
                }
            )
        })
        .count();
    assert_eq!(ended, 2);
    assert_eq!(ua.dialogs().count(), 0);
    // Timer D, then nothing is left.
    let at = ua.poll_timeout().unwrap();
    ua.handle_timeout(at);
    assert!(ua.is_idle());
}

#[test]
fn responses_with_two_vias_or_unknown_branches_are_dropped() {
    let mut ua = alice();
    let t0 = Instant::now();
    let inv_bytes = invite(&mut ua, t0);
    let inv = parse_message(&inv_bytes).unwrap();
    let two_vias = String::from_utf8(response_for(&inv, 200, Some("z"), &[]))
        .unwrap()
        .replacen(
            "Via: ",
            "Via: SIP/2.0/UDP 192.0.2.77;branch=z9hG4bKextra\r\nVia: ",
            1,
        );
    deliver(&mut ua, two_vias.as_bytes(), t0);
    let (transmits, events) = drain(&mut ua);
    assert!(transmits.is_empty());
    assert!(
        matches!(events.as_slice(), [Event::MessageDropped { .. }]),
        "{events:?}"
    );
    let other = String::from_utf8(response_for(&inv, 404, Some("z"), &[])).unwrap();
    let branch = inv.top_via().unwrap().unwrap().branch().unwrap().to_owned();
    let other = other.replace(&branch, "z9hG4bKsomethingelse");
    deliver(&mut ua, other.as_bytes(), t0);
    let (transmits, events) = drain(&mut ua);
    assert!(transmits.is_empty());
    assert!(
        matches!(events.as_slice(), [Event::MessageDropped { .. }]),
        "{events:?}"
    );
}

#[test]
fn the_invite_is_forgotten_64_t1_after_its_first_2xx() {
    let mut ua = alice();
    let t0 = Instant::now();
    let invite_bytes = invite(&mut ua, t0);
    let inv = parse_message(&invite_bytes).unwrap();
    let contact_a = "Contact: <sip:bob@192.0.2.31>";
    let contact_b = "Contact: <sip:bob@192.0.2.32>";
    deliver(
        &mut ua,
        &response_for(&inv, 200, Some("forkA"), &[contact_a]),
        t0,
    );
    let (transmits, _) = drain(&mut ua);
    assert_eq!(transmits.len(), 1, "the ACK");
    // Until 64*T1 the INVITE is kept: its end is the next deadline.
    let window = ua.next_deadline().expect("the fork window");
    assert_eq!(
        window.reason,
        oma_im::dialog::DeadlineReason::AnsweredInvite
    );
    assert_eq!(window.at, t0 + Duration::from_secs(32));
    ua.handle_timeout(window.at);
    drain(&mut ua);
    // Forgotten: another fork's 2xx no longer makes a dialog to release
    // (RFC 6026: the INVITE's transaction is over), it is dropped...
    let late = t0 + Duration::from_secs(33);
    deliver(
        &mut ua,
        &response_for(&inv, 200, Some("forkB"), &[contact_b]),
        late,
    );
    let (transmits, events) = drain(&mut ua);
    assert!(transmits.is_empty(), "{transmits:?}");
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::MessageDropped { .. })));
    // ...while the confirmed dialog lives on, its 2xx still ACKed.
    assert_eq!(ua.dialogs().count(), 1);
    deliver(
        &mut ua,
        &response_for(&inv, 200, Some("forkA"), &[contact_a]),
        late,
    );
    let (transmits, _) = drain(&mut ua);
    assert_eq!(transmits.len(), 1);
    let ack = parse_message(&transmits[0].bytes).unwrap();
    assert_eq!(ack.method(), Some("ACK"));
    assert_eq!(ack.to().unwrap().unwrap().tag(), Some("forkA"));
}
