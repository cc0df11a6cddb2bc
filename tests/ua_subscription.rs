//! RFC 6665 subscriptions to the conference event package (RFC 4575)
//! between a subscriber (Alice) and a notifier (the focus) on the
//! simulator (`oma_im::sim`), as bytes: subscribe, initial NOTIFY, further NOTIFY,
//! refresh, unsubscribe, termination by the notifier with a reason, expiry
//! without refresh, 423 and clamping, and a NOTIFY overtaking the 2xx.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    Config, Event, Input, RequestSpec, SubscribeSpec, SubscriptionEnd, SubscriptionId,
    TerminationReason, UserAgent,
};
use oma_im::sim::{Faults, WireRecord};
use oma_im::sip::{parse_message, HeaderName, Method};
use oma_im::transaction::Transport;
use support::agents::Agents;
use support::msg::{drain, response_for};

const CT: &str = "application/conference-info+xml";

fn xml(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/xml")
            .join(name),
    )
    .unwrap()
}

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

fn pair() -> Agents {
    Agents::new(
        Faults::PERFECT,
        3,
        vec![
            Config::new(addr(1), addr(2), Transport::Udp, 21),
            Config::new(addr(2), addr(1), Transport::Udp, 22),
        ],
    )
}

fn spec(expires: u32) -> SubscribeSpec {
    SubscribeSpec::conference("sip:conf233@192.0.2.2", "<sip:alice@example.com>", expires)
}

/// The focus accepts every new SUBSCRIBE with the full state and records
/// the subscription it made.
fn focus(
    subs: &mut Vec<SubscriptionId>,
) -> impl FnMut(usize, &mut UserAgent, &Event, Instant) + '_ {
    move |i, ua, event, now| {
        if let (
            1,
            Event::RequestReceived {
                transaction,
                dialog: None,
                request,
            },
        ) = (i, event)
        {
            assert_eq!(request.message().method(), Some("SUBSCRIBE"));
            let body = xml("rfc4575-basic-full.xml");
            subs.push(ua.accept_subscription(*transaction, CT, body, now).unwrap());
        }
    }
}

fn sent<'a>(net: &'a Agents, from: usize, start: &str) -> Vec<&'a WireRecord> {
    let a = net.addr(from);
    net.wire()
        .iter()
        .filter(|r| r.from == a && r.first_line().starts_with(start))
        .collect()
}

fn header(r: &WireRecord, name: &str) -> Option<String> {
    let msg = parse_message(&r.bytes).unwrap();
    let value = msg
        .header(HeaderName::parse(name))
        .map(|h| h.value.to_owned());
    value
}

fn notifies(net: &Agents) -> Vec<(Option<String>, Vec<u8>)> {
    net.events()
        .iter()
        .filter_map(|(i, e)| match (i, e) {
            (0, Event::NotifyReceived { request, .. }) => {
                let m = request.message();
                Some((
                    m.header(HeaderName::SubscriptionState)
                        .map(|h| h.value.to_owned()),
                    m.body().to_vec(),
                ))
            }
            _ => None,
        })
        .collect()
}

fn ended(net: &Agents, node: usize) -> Vec<SubscriptionEnd> {
    net.events()
        .iter()
        .filter(|(i, _)| *i == node)
        .filter_map(|(_, e)| match e {
            Event::SubscriptionTerminated { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn subscribe_notify_refresh_unsubscribe() {
    let mut net = pair();
    let start = net.now();
    let with_agent = spec(600).with_header("User-Agent", "ua-test/1");
    let alice_sub = net.ua(0).subscribe(with_agent, start).unwrap();
    let mut subs = Vec::new();
    net.run_until(start + Duration::from_secs(10), focus(&mut subs));
    assert_eq!(subs.len(), 1);
    let subscribe = sent(&net, 0, "SUBSCRIBE")[0];
    assert_eq!(header(subscribe, "Event").as_deref(), Some("conference"));
    assert_eq!(header(subscribe, "Accept").as_deref(), Some(CT));
    assert_eq!(header(subscribe, "Expires").as_deref(), Some("600"));
    let ok = sent(&net, 1, "SIP/2.0 200")[0];
    assert_eq!(header(ok, "Expires").as_deref(), Some("600"));
    let full = xml("rfc4575-basic-full.xml");
    assert_eq!(
        notifies(&net),
        [(Some("active;expires=600".to_owned()), full.clone())]
    );
    assert!(net.events().iter().any(|(i, e)| *i == 0
        && matches!(e, Event::SubscriptionActive { subscription, expires: 600, .. } if *subscription == alice_sub)));

    // A further NOTIFY, on demand.
    let now = net.now();
    let partial = xml("partial-v2.xml");
    net.ua(1).notify(subs[0], CT, partial.clone(), now).unwrap();
    net.run_until(now + Duration::from_secs(1), |_, _, _, _| {});
    assert_eq!(
        notifies(&net)[1],
        (Some("active;expires=590".to_owned()), partial.clone())
    );

    // The refresh at 90 % of the time left, answered with the last state.
    net.run_until(start + Duration::from_secs(560), |_, _, _, _| {});
    let refreshes = sent(&net, 0, "SUBSCRIBE");
    assert_eq!(refreshes.len(), 2);
    // The NOTIFY at 10 s said 590 s were left: 10 + 590 - 59 = 541 s.
    assert_eq!(refreshes[1].at, Duration::from_secs(541));
    assert_eq!(header(refreshes[1], "Expires").as_deref(), Some("600"));
    assert_eq!(
        notifies(&net)[2],
        (Some("active;expires=600".to_owned()), partial)
    );
    assert!(net
        .events()
        .iter()
        .any(|(i, e)| *i == 0 && matches!(e, Event::SubscriptionRefreshed { expires: 600, .. })));
    assert!(net
        .events()
        .iter()
        .any(|(i, e)| *i == 1 && matches!(e, Event::SubscriptionRefreshed { expires: 600, .. })));

    // Unsubscribe: Expires 0, then the final NOTIFY.
    let now = net.now();
    net.ua(0).unsubscribe(alice_sub, now).unwrap();
    net.run_until_quiet(Duration::from_secs(120), |_, _, _, _| {});
    let last = sent(&net, 0, "SUBSCRIBE");
    assert_eq!(header(last[2], "Expires").as_deref(), Some("0"));
    // The application's header field is in every SUBSCRIBE of the subscription.
    assert_eq!(last.len(), 3);
    for subscribe in &last {
        assert_eq!(
            header(subscribe, "User-Agent").as_deref(),
            Some("ua-test/1")
        );
    }
    assert_eq!(
        notifies(&net).last().unwrap().0.as_deref(),
        Some("terminated;reason=timeout")
    );
    assert_eq!(
        ended(&net, 0),
        [SubscriptionEnd::Terminated {
            reason: Some("timeout".to_owned())
        }]
    );
    assert_eq!(ended(&net, 1), [SubscriptionEnd::Unsubscribed]);
    assert!(net.is_idle());
}

#[test]
fn notifier_terminates_with_a_reason() {
    let mut net = pair();
    let start = net.now();
    net.ua(0).subscribe(spec(600), start).unwrap();
    let mut subs = Vec::new();
    net.run_until(start + Duration::from_secs(1), focus(&mut subs));
    let now = net.now();
    net.ua(1)
        .terminate_subscription(subs[0], "deactivated", now)
        .unwrap();
    assert_eq!(
        net.ua(1).notify(subs[0], CT, Vec::new(), now),
        Err(oma_im::dialog::UaError::UnknownSubscription)
    );
    net.run_until_quiet(Duration::from_secs(120), |_, _, _, _| {});
    assert_eq!(
        ended(&net, 0),
        [SubscriptionEnd::Terminated {
            reason: Some("deactivated".to_owned())
        }]
    );
    assert_eq!(
        ended(&net, 1),
        [SubscriptionEnd::Local("deactivated".to_owned())]
    );
    assert!(net.events().iter().any(|(i, e)| *i == 0
        && matches!(
            e,
            Event::DialogTerminated {
                reason: TerminationReason::SubscriptionEnded,
                ..
            }
        )));
    assert!(net.is_idle());
}

#[test]
fn notifier_ends_an_unrefreshed_subscription_with_timeout() {
    let mut net = pair();
    let start = net.now();
    net.ua(0).subscribe(spec(120), start).unwrap();
    let mut subs = Vec::new();
    net.run_until(start + Duration::from_secs(1), focus(&mut subs));
    // Alice vanishes without a word: she never refreshes.
    let d = net.ua(0).dialogs().next().unwrap().id();
    net.ua(0).terminate_dialog(d).unwrap();
    net.run_until_quiet(Duration::from_secs(300), |_, _, _, _| {});
    let final_notify = sent(&net, 1, "NOTIFY").pop().unwrap();
    assert_eq!(final_notify.at, Duration::from_secs(120));
    assert_eq!(
        header(final_notify, "Subscription-State").as_deref(),
        Some("terminated;reason=timeout")
    );
    assert_eq!(ended(&net, 1), [SubscriptionEnd::Timeout]);
    assert_eq!(sent(&net, 0, "SIP/2.0 481").len(), 1);
    assert!(net.is_idle());
}

#[test]
fn too_brief_gets_423_and_long_ones_are_clamped() {
    let mut net = pair();
    let start = net.now();
    let brief = net.ua(0).subscribe(spec(30), start).unwrap();
    let mut subs = Vec::new();
    net.run_until_quiet(Duration::from_secs(120), focus(&mut subs));
    assert!(subs.is_empty(), "the focus never saw the SUBSCRIBE");
    let answer = sent(&net, 1, "SIP/2.0 423")[0];
    assert_eq!(answer.first_line(), "SIP/2.0 423 Interval Too Brief");
    assert_eq!(header(answer, "Min-Expires").as_deref(), Some("60"));
    assert!(net.events().iter().any(|(i, e)| *i == 0
        && matches!(e, Event::SubscriptionTerminated { subscription, reason: SubscriptionEnd::Failed(423) } if *subscription == brief)));

    let now = net.now();
    net.ua(0).subscribe(spec(100_000), now).unwrap();
    net.run_until(now + Duration::from_secs(1), focus(&mut subs));
    let ok = sent(&net, 1, "SIP/2.0 200")[0];
    assert_eq!(header(ok, "Expires").as_deref(), Some("3600"));
    assert!(net
        .events()
        .iter()
        .any(|(i, e)| *i == 0 && matches!(e, Event::SubscriptionActive { expires: 3600, .. })));
}

#[test]
fn notify_before_the_2xx_creates_the_dialog() {
    let mut alice = UserAgent::new(Config::new(addr(1), addr(2), Transport::Udp, 5));
    let now = Instant::now();
    let sub = alice.subscribe(spec(600), now).unwrap();
    let (tx, _) = drain(&mut alice);
    let subscribe = parse_message(&tx[0].bytes).unwrap();
    let from = subscribe.header(HeaderName::From).unwrap().value;
    let to = subscribe.header(HeaderName::To).unwrap().value;
    let call_id = subscribe.header(HeaderName::CallId).unwrap().value;
    let notify = format!(
        "NOTIFY sip:192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKn1\r\nMax-Forwards: 70\r\nFrom: {to};tag=focus1\r\nTo: {from}\r\nCall-ID: {call_id}\r\nCSeq: 1 NOTIFY\r\nContact: <sip:192.0.2.2:5060>\r\nEvent: conference\r\nSubscription-State: active;expires=600\r\nContent-Length: 0\r\n\r\n"
    );
    let input = |bytes: &'static [u8]| Input::Datagram {
        bytes,
        source: addr(2),
        transport: Transport::Udp,
    };
    let notify: &'static [u8] = Box::leak(notify.into_bytes().into_boxed_slice());
    alice.handle_input(input(notify), now);
    let (tx, events) = drain(&mut alice);
    assert_eq!(support::msg::start_line(&tx[0]), "200 NOTIFY");
    let dialog = events
        .iter()
        .find_map(|e| match e {
            Event::NotifyReceived {
                subscription,
                dialog,
                ..
            } if *subscription == sub => Some(*dialog),
            _ => None,
        })
        .expect("NotifyReceived");
    let ok = response_for(
        &subscribe,
        200,
        Some("focus1"),
        &["Contact: <sip:192.0.2.2:5060>", "Expires: 600"],
    );
    let ok: &'static [u8] = Box::leak(ok.into_boxed_slice());
    alice.handle_input(input(ok), now);
    let (_, events) = drain(&mut alice);
    assert!(events.iter().any(|e| matches!(e,
        Event::SubscriptionActive { subscription, dialog: d, expires: 600 } if *subscription == sub && *d == dialog)));
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::DialogEstablished { .. })));
    assert_eq!(alice.dialogs().count(), 1);
    assert_eq!(alice.dialog_of_subscription(sub), Some(dialog));
}

#[test]
fn notify_before_the_2xx_of_a_refer_creates_the_dialog() {
    // RFC 3515 §2.4.4 / RFC 6665 §4.1.2.4: the first NOTIFY of a REFER's
    // implicit subscription may overtake the 202 over UDP.
    let mut alice = UserAgent::new(Config::new(addr(1), addr(2), Transport::Udp, 6));
    let now = Instant::now();
    let refer = RequestSpec::new(
        Method::Refer,
        "sip:history@192.0.2.2",
        "<sip:alice@example.com>",
        "<sip:history@example.com>",
    )
    .with_header("Refer-To", "<sip:conf-1@example.com>");
    let refer_tx = alice.send_request(refer, now).unwrap();
    let (tx, _) = drain(&mut alice);
    let sent = parse_message(&tx[0].bytes).unwrap();
    let from = sent.header(HeaderName::From).unwrap().value;
    let to = sent.header(HeaderName::To).unwrap().value;
    let call_id = sent.header(HeaderName::CallId).unwrap().value;
    let notify = |event: &str, seq: u32| {
        let text = format!(
            "NOTIFY sip:192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKr{seq}\r\nMax-Forwards: 70\r\nFrom: {to};tag=hist1\r\nTo: {from}\r\nCall-ID: {call_id}\r\nCSeq: {seq} NOTIFY\r\nContact: <sip:192.0.2.2:5060>\r\nEvent: {event}\r\nSubscription-State: active;expires=60\r\nContent-Type: message/sipfrag\r\nContent-Length: 22\r\n\r\nSIP/2.0 100 Trying\r\n\r\n"
        );
        let bytes: &'static [u8] = Box::leak(text.into_bytes().into_boxed_slice());
        Input::Datagram {
            bytes,
            source: addr(2),
            transport: Transport::Udp,
        }
    };
    // A NOTIFY of another package does not create the dialog: 481.
    alice.handle_input(notify("conference", 1), now);
    let (tx, _) = drain(&mut alice);
    assert_eq!(support::msg::start_line(&tx[0]), "481 NOTIFY");
    assert_eq!(alice.refer_dialog(refer_tx), None);
    // The refer NOTIFY does: answered by the application, in the new dialog.
    alice.handle_input(notify("refer", 2), now);
    let (tx, events) = drain(&mut alice);
    assert!(tx.is_empty(), "the application answers the NOTIFY");
    let dialog = alice
        .refer_dialog(refer_tx)
        .expect("the early NOTIFY's dialog");
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::DialogEstablished { dialog: d } if *d == dialog)));
    assert!(events.iter().any(|e| matches!(e,
        Event::RequestReceived { dialog: Some(d), .. } if *d == dialog)));
    assert_eq!(alice.dialog(dialog).unwrap().local_seq(), 1);
    // The 202 finds that dialog.
    let accepted = response_for(
        &sent,
        202,
        Some("hist1"),
        &["Contact: <sip:192.0.2.2:5060>"],
    );
    let accepted: &'static [u8] = Box::leak(accepted.into_boxed_slice());
    alice.handle_input(
        Input::Datagram {
            bytes: accepted,
            source: addr(2),
            transport: Transport::Udp,
        },
        now,
    );
    let (_, events) = drain(&mut alice);
    assert!(events.iter().any(|e| matches!(e,
        Event::ResponseReceived { dialog: Some(d), .. } if *d == dialog)));
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::DialogEstablished { .. })));
    assert_eq!(alice.dialogs().count(), 1);
}

#[test]
fn refresh_answered_481_ends_the_subscription() {
    let mut net = pair();
    let start = net.now();
    let alice_sub = net.ua(0).subscribe(spec(100), start).unwrap();
    let mut subs = Vec::new();
    net.run_until(start + Duration::from_secs(1), focus(&mut subs));
    // The focus forgets the subscription's dialog without a word.
    let d = net.ua(1).dialog_of_subscription(subs[0]).unwrap();
    net.ua(1).terminate_dialog(d).unwrap();
    assert_eq!(net.ua(1).subscription_count(), 0);
    net.run_until_quiet(Duration::from_secs(300), |_, _, _, _| {});
    let refresh = sent(&net, 0, "SUBSCRIBE")[1];
    assert_eq!(refresh.at, Duration::from_secs(90));
    assert_eq!(sent(&net, 1, "SIP/2.0 481").len(), 1);
    assert!(net.events().iter().any(|(i, e)| *i == 0
        && matches!(e, Event::SubscriptionTerminated { subscription, reason: SubscriptionEnd::Failed(481) } if *subscription == alice_sub)));
    assert_eq!(ended(&net, 1), [SubscriptionEnd::DialogEnded]);
    assert!(net.is_idle());
}
