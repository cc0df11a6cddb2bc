//! Dialogs at work (§12, §13.3.1.4, §13.2.2.4): route sets (loose and
//! strict), CSeq ordering (500), target refresh, in-dialog methods, 481/408
//! ending a dialog, re-INVITE, 2xx retransmission until ACK, re-ACK.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    Config, DialogId, DialogRequestSpec, Event, Input, RequestSpec, ResponseSpec,
    TerminationReason, UserAgent,
};
use oma_im::sim::Faults;
use oma_im::sip::{parse_message, Method, SipMessage};
use oma_im::transaction::{Timer, Transport};
use support::agents::Agents;
use support::msg::{drain, response_for};

fn peer() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 50], 5060))
}

fn bob() -> UserAgent {
    UserAgent::new(Config::new(
        SocketAddr::from(([192, 0, 2, 2], 5060)),
        peer(),
        Transport::Udp,
        21,
    ))
}

fn deliver(ua: &mut UserAgent, bytes: &[u8], now: Instant) {
    ua.handle_input(
        Input::Datagram {
            bytes,
            source: peer(),
            transport: Transport::Udp,
        },
        now,
    );
}

fn request(method: &str, seq: u32, to_tag: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} sip:bob@192.0.2.2 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.50;branch=z9hG4bK{method}{seq}\r\n\
         Max-Forwards: 70\r\n\
         From: Alice <sip:alice@example.com>;tag=alicetag\r\n\
         To: Bob <sip:bob@example.com>{to_tag}\r\n\
         Call-ID: dialog-test-1\r\n\
         CSeq: {seq} {method}\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Bob accepts an INVITE carrying `record_route`; returns his dialog and
/// To tag. The 2xx is ACKed.
fn accepted_call(ua: &mut UserAgent, record_route: &str, now: Instant) -> (DialogId, String) {
    let extra = format!("Contact: <sip:alice@192.0.2.50>\r\nRecord-Route: {record_route}\r\n");
    deliver(ua, &request("INVITE", 10, "", &extra), now);
    let (_, events) = drain(ua);
    let Some(Event::RequestReceived { transaction, .. }) = events.first() else {
        panic!("{events:?}")
    };
    ua.respond(*transaction, ResponseSpec::new(200), now)
        .unwrap();
    let (transmits, events) = drain(ua);
    let ok = parse_message(&transmits[0].bytes).unwrap();
    assert_eq!(ok.status_code(), Some(200));
    // The 2xx echoes the Record-Route and carries Bob's Contact.
    assert!(ok.contact().next().is_some());
    assert_eq!(ok.record_route().count(), 2);
    let tag = ok.to().unwrap().unwrap().tag().unwrap().to_owned();
    let dialog = events
        .iter()
        .find_map(|e| match e {
            Event::DialogEstablished { dialog } => Some(*dialog),
            _ => None,
        })
        .unwrap();
    deliver(ua, &request("ACK", 10, &format!(";tag={tag}"), ""), now);
    let (transmits, events) = drain(ua);
    assert!(transmits.is_empty());
    assert!(
        matches!(events.as_slice(), [Event::AckReceived { .. }]),
        "{events:?}"
    );
    (dialog, tag)
}

fn sent(ua: &mut UserAgent) -> Vec<u8> {
    let (transmits, _) = drain(ua);
    assert_eq!(transmits.len(), 1);
    transmits[0].bytes.clone()
}

fn routes(msg: &SipMessage<'_>) -> Vec<String> {
    msg.route().map(|r| r.unwrap().to_string()).collect()
}

#[test]
fn uas_requests_follow_the_record_route_in_order_with_increasing_cseq() {
    let mut ua = bob();
    let now = Instant::now();
    let (dialog, tag) = accepted_call(
        &mut ua,
        "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
        now,
    );
    let d = ua.dialog(dialog).unwrap();
    assert_eq!(
        d.route_set(),
        ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );
    assert_eq!(d.remote_target(), "sip:alice@192.0.2.50");
    for (k, method) in [
        Method::Info,
        Method::Message,
        Method::Notify,
        Method::Refer,
        Method::Update,
    ]
    .into_iter()
    .enumerate()
    {
        ua.send_in_dialog(dialog, DialogRequestSpec::new(method), now)
            .unwrap();
        let bytes = sent(&mut ua);
        let msg = parse_message(&bytes).unwrap();
        assert_eq!(msg.method(), Some(method.as_str()));
        assert_eq!(msg.request_line().unwrap().uri, "sip:alice@192.0.2.50");
        assert_eq!(
            routes(&msg),
            ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
        assert_eq!(msg.cseq().unwrap().unwrap().seq, k as u32 + 1);
        assert_eq!(msg.from().unwrap().unwrap().tag(), Some(tag.as_str()));
        assert_eq!(msg.to().unwrap().unwrap().tag(), Some("alicetag"));
        assert_eq!(
            msg.header(oma_im::sip::HeaderName::CallId).unwrap().value,
            "dialog-test-1"
        );
    }
}

#[test]
fn strict_route_becomes_the_request_uri() {
    let mut ua = bob();
    let now = Instant::now();
    let (dialog, _) = accepted_call(
        &mut ua,
        "<sip:p1.example.com>, <sip:p2.example.com;lr>",
        now,
    );
    ua.send_in_dialog(dialog, DialogRequestSpec::new(Method::Info), now)
        .unwrap();
    let bytes = sent(&mut ua);
    let msg = parse_message(&bytes).unwrap();
    assert_eq!(msg.request_line().unwrap().uri, "sip:p1.example.com");
    assert_eq!(
        routes(&msg),
        ["<sip:p2.example.com;lr>", "<sip:alice@192.0.2.50>"]
    );
}

#[test]
fn lower_remote_cseq_gets_500_and_target_refresh_updates_the_remote_target() {
    let mut ua = bob();
    let now = Instant::now();
    let (dialog, tag) = accepted_call(
        &mut ua,
        "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
        now,
    );
    let to = format!(";tag={tag}");
    deliver(&mut ua, &request("INFO", 5, &to, ""), now);
    let (transmits, events) = drain(&mut ua);
    assert_eq!(
        parse_message(&transmits[0].bytes).unwrap().status_code(),
        Some(500)
    );
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(ua.dialog(dialog).unwrap().remote_seq(), Some(10));
    deliver(
        &mut ua,
        &request(
            "UPDATE",
            11,
            &to,
            "Contact: <sip:alice@192.0.2.60:5070>\r\n",
        ),
        now,
    );
    let (_, events) = drain(&mut ua);
    let Some(Event::RequestReceived {
        transaction,
        dialog: Some(d),
        ..
    }) = events.first()
    else {
        panic!("{events:?}")
    };
    assert_eq!(*d, dialog);
    assert_eq!(ua.dialog(dialog).unwrap().remote_seq(), Some(11));
    assert_eq!(
        ua.dialog(dialog).unwrap().remote_target(),
        "sip:alice@192.0.2.60:5070"
    );
    ua.respond(*transaction, ResponseSpec::new(200), now)
        .unwrap();
    let (transmits, _) = drain(&mut ua);
    // The 2xx to a target refresh carries our Contact.
    assert!(parse_message(&transmits[0].bytes)
        .unwrap()
        .contact()
        .next()
        .is_some());
    ua.send_in_dialog(dialog, DialogRequestSpec::new(Method::Info), now)
        .unwrap();
    let bytes = sent(&mut ua);
    assert_eq!(
        parse_message(&bytes).unwrap().request_line().unwrap().uri,
        "sip:alice@192.0.2.60:5070"
    );
}

#[test]
fn a_481_to_an_in_dialog_request_ends_the_dialog() {
    let mut ua = bob();
    let now = Instant::now();
    let (dialog, _) = accepted_call(
        &mut ua,
        "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
        now,
    );
    ua.send_in_dialog(dialog, DialogRequestSpec::new(Method::Info), now)
        .unwrap();
    let bytes = sent(&mut ua);
    deliver(
        &mut ua,
        &response_for(&parse_message(&bytes).unwrap(), 481, None, &[]),
        now,
    );
    let (_, events) = drain(&mut ua);
    assert!(events.contains(&Event::DialogTerminated {
        dialog,
        reason: TerminationReason::RequestFailed(481),
        owner: None
    }));
    assert!(ua.dialog(dialog).is_none());
}

#[test]
fn an_in_dialog_request_timing_out_ends_the_dialog() {
    let mut ua = bob();
    let now = Instant::now();
    let (dialog, _) = accepted_call(
        &mut ua,
        "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
        now,
    );
    ua.bye(dialog, now).unwrap();
    drain(&mut ua);
    while let Some(at) = ua.poll_timeout() {
        ua.handle_timeout(at);
        if ua.dialog(dialog).is_none() {
            break;
        }
    }
    let (_, events) = drain(&mut ua);
    assert!(
        events.contains(&Event::DialogTerminated {
            dialog,
            reason: TerminationReason::Timeout,
            owner: None
        }),
        "{events:?}"
    );
}

#[test]
fn uas_retransmits_its_2xx_doubling_to_t2_then_byes_after_64_t1() {
    let mut ua = bob();
    let t0 = Instant::now();
    deliver(
        &mut ua,
        &request("INVITE", 1, "", "Contact: <sip:alice@192.0.2.50>\r\n"),
        t0,
    );
    let (_, events) = drain(&mut ua);
    let Some(Event::RequestReceived { transaction, .. }) = events.first() else {
        panic!()
    };
    ua.respond(*transaction, ResponseSpec::new(200), t0)
        .unwrap();
    let (first, _) = drain(&mut ua);
    // An INVITE retransmission is answered with the 2xx, never taken for a
    // new call.
    deliver(
        &mut ua,
        &request("INVITE", 1, "", "Contact: <sip:alice@192.0.2.50>\r\n"),
        t0 + Duration::from_millis(100),
    );
    let (again, events) = drain(&mut ua);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].bytes, first[0].bytes);
    let mut retransmissions = Vec::new();
    let mut bye = None;
    while let Some(at) = ua.poll_timeout() {
        if at > t0 + Duration::from_secs(33) {
            break;
        }
        ua.handle_timeout(at);
        for t in drain(&mut ua).0 {
            let msg = parse_message(&t.bytes).unwrap();
            match msg.method() {
                None => retransmissions.push((at - t0).as_millis()),
                Some(m) => {
                    assert_eq!(m, "BYE");
                    // The first BYE (later ones are its retransmissions).
                    bye.get_or_insert((at - t0).as_millis());
                }
            }
        }
    }
    assert_eq!(
        retransmissions,
        [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
    );
    assert_eq!(bye, Some(32_000));
}

#[test]
fn uac_acks_every_2xx_retransmission() {
    let proxy = SocketAddr::from(([192, 0, 2, 9], 5060));
    let mut ua = UserAgent::new(Config::new(
        SocketAddr::from(([192, 0, 2, 1], 5060)),
        proxy,
        Transport::Udp,
        3,
    ));
    let now = Instant::now();
    ua.send_request(
        RequestSpec::new(
            Method::Invite,
            "sip:bob@example.com",
            "<sip:a@example.com>",
            "<sip:bob@example.com>",
        ),
        now,
    )
    .unwrap();
    let (t, _) = drain(&mut ua);
    let invite = parse_message(&t[0].bytes).unwrap();
    let ok = response_for(&invite, 200, Some("b1"), &["Contact: <sip:bob@192.0.2.2>"]);
    let mut acks = Vec::new();
    for _ in 0..3 {
        ua.handle_input(
            Input::Datagram {
                bytes: &ok,
                source: proxy,
                transport: Transport::Udp,
            },
            now,
        );
        let (t, _) = drain(&mut ua);
        assert_eq!(t.len(), 1);
        acks.push(t[0].bytes.clone());
    }
    assert_eq!(parse_message(&acks[0]).unwrap().method(), Some("ACK"));
    assert!(acks.iter().all(|a| *a == acks[0]), "the same ACK each time");
}

#[test]
fn re_invite_between_two_user_agents_is_acked() {
    let a = SocketAddr::from(([192, 0, 2, 1], 5060));
    let b = SocketAddr::from(([192, 0, 2, 2], 5060));
    let configs = vec![
        Config::new(a, b, Transport::Udp, 1),
        Config::new(b, a, Transport::Udp, 2),
    ];
    let mut net = Agents::new(Faults::PERFECT, 9, configs);
    let now = net.now();
    net.ua(0)
        .send_request(
            RequestSpec::new(
                Method::Invite,
                "sip:bob@192.0.2.2",
                "<sip:a@example.com>",
                "<sip:b@example.com>",
            ),
            now,
        )
        .unwrap();
    let answer = |i: usize, ua: &mut UserAgent, e: &Event, now: Instant| {
        if let (
            1,
            Event::RequestReceived {
                transaction,
                request,
                ..
            },
        ) = (i, e)
        {
            if request.message().method() == Some("INVITE") {
                ua.respond(*transaction, ResponseSpec::new(200), now)
                    .unwrap();
            }
        }
    };
    net.run_until(now + Duration::from_millis(10), answer);
    let dialog = net.ua(0).dialogs().next().unwrap().id();
    let now = net.now();
    net.ua(0)
        .send_in_dialog(dialog, DialogRequestSpec::new(Method::Invite), now)
        .unwrap();
    net.run_until(now + Duration::from_millis(10), answer);
    let acks = net
        .events()
        .iter()
        .filter(|(i, e)| *i == 1 && matches!(e, Event::AckReceived { .. }))
        .count();
    assert_eq!(
        acks, 2,
        "the initial INVITE and the re-INVITE are both ACKed"
    );
    let lines = net.lines(0, 1);
    assert_eq!(lines.len(), 4);
    assert!(
        lines[2].starts_with("INVITE sip:192.0.2.2:5060"),
        "{lines:?}"
    );
    assert!(lines[3].starts_with("ACK"));
    let reinvite = parse_message(
        &net.wire()
            .iter()
            .filter(|r| r.from == a)
            .nth(2)
            .unwrap()
            .bytes,
    )
    .unwrap()
    .cseq()
    .unwrap()
    .unwrap()
    .seq;
    assert_eq!(reinvite, 2);
}

#[test]
fn subscribe_2xx_creates_a_dialog_on_both_sides_and_notify_uses_it() {
    let a = SocketAddr::from(([192, 0, 2, 1], 5060));
    let b = SocketAddr::from(([192, 0, 2, 2], 5060));
    let configs = vec![
        Config::new(a, b, Transport::Udp, 1),
        Config::new(b, a, Transport::Udp, 2),
    ];
    let mut net = Agents::new(Faults::PERFECT, 4, configs);
    let now = net.now();
    let spec = RequestSpec::new(
        Method::Subscribe,
        "sip:conf@192.0.2.2",
        "<sip:a@example.com>",
        "<sip:conf@example.com>",
    )
    .with_header("Event", "conference")
    .with_header("Expires", "600");
    net.ua(0).send_request(spec, now).unwrap();
    net.run_until(now + Duration::from_millis(10), |i, ua, e, now| {
        if let (1, Event::RequestReceived { transaction, .. }) = (i, e) {
            ua.respond(
                *transaction,
                ResponseSpec::new(200).with_header("Expires", "600"),
                now,
            )
            .unwrap();
        }
    });
    let notifier = net.ua(1).dialogs().next().unwrap().id();
    assert!(net.ua(0).dialogs().next().is_some());
    let now = net.now();
    let notify = DialogRequestSpec::new(Method::Notify)
        .with_header("Event", "conference")
        .with_header("Subscription-State", "active;expires=600");
    net.ua(1).send_in_dialog(notifier, notify, now).unwrap();
    net.run_until(now + Duration::from_millis(10), |i, ua, e, now| {
        if let (
            0,
            Event::RequestReceived {
                transaction,
                dialog,
                ..
            },
        ) = (i, e)
        {
            assert!(dialog.is_some(), "the NOTIFY is in the subscriber's dialog");
            ua.respond(*transaction, ResponseSpec::new(200), now)
                .unwrap();
        }
    });
    let statuses: Vec<_> = net.lines(0, 1);
    assert_eq!(
        statuses,
        ["SUBSCRIBE sip:conf@192.0.2.2 SIP/2.0", "SIP/2.0 200 OK"]
    );
}

#[test]
fn an_invite_rejected_at_once_leaves_no_dialog() {
    let mut ua = bob();
    let now = Instant::now();
    deliver(
        &mut ua,
        &request("INVITE", 10, "", "Contact: <sip:alice@192.0.2.50>\r\n"),
        now,
    );
    let (_, events) = drain(&mut ua);
    let Some(Event::RequestReceived { transaction, .. }) = events.first() else {
        panic!("{events:?}")
    };
    ua.respond(*transaction, ResponseSpec::new(486), now)
        .unwrap();
    let (transmits, events) = drain(&mut ua);
    let busy = parse_message(&transmits[0].bytes).unwrap();
    assert_eq!(busy.status_code(), Some(486));
    assert!(
        busy.to().unwrap().unwrap().tag().is_some(),
        "a final response carries a To tag"
    );
    assert!(
        !events.iter().any(|e| matches!(
            e,
            Event::DialogEstablished { .. } | Event::DialogEarly { .. }
        )),
        "{events:?}"
    );
    assert_eq!(ua.dialogs().count(), 0);
}

/// Runs `ua`'s timers up to `until`; the events they gave.
fn run_timers(ua: &mut UserAgent, until: Instant) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(at) = ua.poll_timeout().filter(|at| *at <= until) {
        ua.handle_timeout(at);
        events.extend(drain(ua).1);
    }
    events
}

/// A re-INVITE (an INVITE inside a dialog) that gets 100 Trying and never a
/// final response times out at Timer B, 64*T1 after it was sent, and the
/// dialog ends (RFC 3261 §14.2 expects a re-INVITE answered at once,
/// §12.2.1.2 ends a dialog on its 408); an initial INVITE that got a
/// provisional response waits for its final one (Timer B stops in
/// Proceeding, Figure 5): the user agent tells them apart by the dialog
/// the request is sent in.
#[test]
fn a_reinvite_left_provisional_times_out_but_an_initial_invite_waits() {
    let t0 = Instant::now();
    let mut ua = bob();
    let (dialog, _) = accepted_call(
        &mut ua,
        "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
        t0,
    );
    ua.send_in_dialog(dialog, DialogRequestSpec::new(Method::Invite), t0)
        .unwrap();
    let reinvite = sent(&mut ua);
    let trying = response_for(&parse_message(&reinvite).unwrap(), 100, None, &[]);
    deliver(&mut ua, &trying, t0 + Duration::from_millis(100));
    drain(&mut ua);
    assert!(run_timers(&mut ua, t0 + Duration::from_millis(31_900)).is_empty());
    assert!(ua.dialog(dialog).is_some());
    let events = run_timers(&mut ua, t0 + Duration::from_millis(32_100));
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::TransactionTimedOut {
                timer: Timer::B,
                ..
            }
        )),
        "{events:?}"
    );
    assert!(
        events.contains(&Event::DialogTerminated {
            dialog,
            reason: TerminationReason::RequestFailed(408),
            owner: None
        }),
        "{events:?}"
    );

    let mut ua = bob();
    ua.send_request(
        RequestSpec::new(
            Method::Invite,
            "sip:alice@192.0.2.50",
            "<sip:bob@example.com>",
            "<sip:alice@example.com>",
        ),
        t0,
    )
    .unwrap();
    let invite = sent(&mut ua);
    let ringing = response_for(
        &parse_message(&invite).unwrap(),
        180,
        Some("alicetag"),
        &["Contact: <sip:alice@192.0.2.50>"],
    );
    deliver(&mut ua, &ringing, t0 + Duration::from_millis(100));
    drain(&mut ua);
    let events = run_timers(&mut ua, t0 + Duration::from_secs(120));
    assert!(
        !events.iter().any(|e| matches!(
            e,
            Event::DialogTerminated { .. } | Event::ResponseReceived { .. }
        )),
        "{events:?}"
    );
    assert_eq!(ua.client_transaction_count(), 1);
}
