//! Instant Message Disposition Notifications (RFC 5438) between real IM
//! Clients, through the real IM Server where a group is involved, every
//! message moved as bytes: Pager Mode (to one user, to a list fanned out by
//! the server) and Session Mode (one-to-one, and a group where the server's
//! switch routes each notification to the participant its CPIM `To`
//! names), over a perfect and a lossy network, ending idle.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::body::cpim::CpimMessage;
use oma_im::body::imdn::{DeliveryStatus, DisplayStatus, Imdn, Notification};
use oma_im::body::xml::XmlLimits;
use oma_im::im::client::{ClientError, DispositionRequest, Event, ImSessionId};
use oma_im::sim::{Faults, WireKind};
use oma_im::sip::parse_message;
use support::chat::{client, events, group, leave_all, network, run};
use support::im_server::{client_addr, Group, FACTORY, SERVER};

const DATE: &str = "2026-12-07T10:00:00Z";
const ALICE: &str = "sip:alice@example.com";
const BOB: &str = "sip:bob@example.com";
const CAROL: &str = "sip:carol@example.com";

fn lossy() -> Faults {
    Faults::lossy(20, 10, Duration::from_millis(30))
}

/// A received notification: session, the Message-ID it is about, its
/// sender, its recipient-uri, and what it says.
type Received = (
    Option<ImSessionId>,
    String,
    Option<String>,
    Option<String>,
    Notification,
);

fn notifications(net: &Group, index: usize) -> Vec<Received> {
    events(net, index)
        .into_iter()
        .filter_map(|e| match e {
            Event::NotificationReceived {
                session,
                imdn_message_id,
                from,
                recipient,
                notification,
            } => Some((session, imdn_message_id, from, recipient, notification)),
            _ => None,
        })
        .collect()
}

/// The `imdn.Message-ID`s node `index` was asked to confirm the display of.
fn display_requests(net: &Group, index: usize) -> Vec<(Option<ImSessionId>, String)> {
    events(net, index)
        .into_iter()
        .filter_map(|e| match e {
            Event::DisplayNotificationRequested {
                session,
                imdn_message_id,
                ..
            } => Some((session, imdn_message_id)),
            _ => None,
        })
        .collect()
}

/// Bodies of the messages node `index` was given as messages (Pager Mode
/// and Session Mode).
fn messages(net: &Group, index: usize) -> Vec<(String, Vec<u8>)> {
    events(net, index)
        .into_iter()
        .filter_map(|e| match e {
            Event::MessageReceived {
                content_type, body, ..
            }
            | Event::PagerMessageReceived {
                content_type, body, ..
            } => Some((content_type, body)),
            _ => None,
        })
        .collect()
}

fn delivered(by: &str) -> (Option<String>, Option<String>, Notification) {
    (
        Some(by.to_owned()),
        Some(by.to_owned()),
        Notification::Delivery(DeliveryStatus::Delivered),
    )
}

fn displayed(by: &str) -> (Option<String>, Option<String>, Notification) {
    (
        Some(by.to_owned()),
        Some(by.to_owned()),
        Notification::Display(DisplayStatus::Displayed),
    )
}

/// The notifications about `id`: who sent them and what they say.
fn about(got: &[Received], id: &str) -> Vec<(Option<String>, Option<String>, Notification)> {
    got.iter()
        .filter(|n| n.1 == id)
        .map(|n| (n.2.clone(), n.3.clone(), n.4))
        .collect()
}

/// The CPIM bodies of the MESSAGEs `from` sent to `to` (once per
/// transaction: retransmissions left out).
fn pager_cpim(net: &Group, from: SocketAddr, to_user: &str) -> Vec<Vec<u8>> {
    let mut seen = std::collections::HashSet::new();
    net.wire()
        .iter()
        .filter(|r| r.from == from && r.bytes.starts_with(b"MESSAGE "))
        .filter_map(|r| {
            let m = parse_message(&r.bytes).ok()?;
            let uri = m.request_line()?.uri.to_owned();
            let branch = m.top_via()?.ok()?.branch()?.to_owned();
            (uri == to_user && seen.insert(branch)).then(|| m.body().to_vec())
        })
        .collect()
}

/// Checks a notification's CPIM wrapper and document.
fn check_notification(cpim: &[u8], to: &str, about: &str, by: &str) -> Notification {
    let msg = CpimMessage::parse(cpim).unwrap();
    assert_eq!(msg.to.len(), 1);
    assert_eq!(msg.to[0].uri, to);
    assert_eq!(msg.namespace("imdn"), Some("urn:ietf:params:imdn"));
    let own_id = msg
        .extension("imdn.Message-ID")
        .expect("its own Message-ID");
    assert_ne!(own_id.value, about, "a notification has its own Message-ID");
    assert!(
        msg.extension("imdn.Disposition-Notification").is_none(),
        "a notification asks for none"
    );
    assert_eq!(
        msg.mime_headers.get("Content-Type"),
        Some("message/imdn+xml")
    );
    assert_eq!(
        msg.mime_headers.get("Content-Disposition"),
        Some("notification")
    );
    let doc = Imdn::parse(&msg.content, &XmlLimits::default()).unwrap();
    assert_eq!(doc.message_id, about);
    assert_eq!(doc.datetime, DATE);
    assert_eq!(doc.recipient_uri.as_deref(), Some(by));
    doc.notification
}

fn pager_notifications_flow(conditions: Faults) {
    let users = ["alice", "bob"];
    let mut net = network(&users, conditions, 31, |_, _| {});
    let now = net.now();
    let (_, id) = client(&mut net, 2)
        .send_pager_message_with_imdn(
            &[BOB],
            "text/plain",
            b"Did you get this?",
            DispositionRequest::ALL,
            DATE,
            now,
        )
        .unwrap();
    run(&mut net, 40);
    // The request on the wire.
    let alice = client_addr("alice");
    let sent = pager_cpim(&net, alice, BOB);
    assert_eq!(sent.len(), 1);
    let msg = CpimMessage::parse(&sent[0]).unwrap();
    assert_eq!(msg.date_time.as_deref(), Some(DATE));
    assert_eq!(msg.namespace("imdn"), Some("urn:ietf:params:imdn"));
    assert_eq!(msg.extension("imdn.Message-ID").unwrap().value, id);
    assert_eq!(
        msg.extension("imdn.Disposition-Notification")
            .unwrap()
            .value,
        "positive-delivery, negative-delivery, display"
    );
    // Bob got the message once and is asked to confirm its display.
    assert_eq!(
        messages(&net, 3),
        [("text/plain".to_owned(), b"Did you get this?".to_vec())]
    );
    assert_eq!(display_requests(&net, 3), [(None, id.clone())]);
    // His client confirmed delivery on its own, in a MESSAGE to Alice.
    let bob = client_addr("bob");
    let back = pager_cpim(&net, bob, ALICE);
    assert_eq!(back.len(), 1);
    assert_eq!(
        check_notification(&back[0], ALICE, &id, BOB),
        Notification::Delivery(DeliveryStatus::Delivered)
    );
    assert_eq!(about(&notifications(&net, 2), &id), [delivered(BOB)]);
    // The user saw it: the display notification.
    let now = net.now();
    client(&mut net, 3)
        .send_display_notification(&id, now)
        .unwrap();
    assert_eq!(
        client(&mut net, 3).send_display_notification(&id, now),
        Err(ClientError::UnknownMessage),
        "sent once"
    );
    run(&mut net, 40);
    let back = pager_cpim(&net, bob, ALICE);
    assert_eq!(back.len(), 2);
    assert_eq!(
        check_notification(&back[1], ALICE, &id, BOB),
        Notification::Display(DisplayStatus::Displayed)
    );
    let got = notifications(&net, 2);
    assert_eq!(about(&got, &id), [delivered(BOB), displayed(BOB)]);
    assert!(got.iter().all(|n| n.0.is_none()), "Pager Mode");
    // Notifications are never messages, on either side.
    assert!(messages(&net, 2).is_empty());
    assert_eq!(messages(&net, 3).len(), 1);
    net.run_until_quiet(Duration::from_secs(120), |_, _, _, _| {});
    assert!(net.is_idle());
}

#[test]
fn a_pager_message_asking_for_notifications_gets_delivery_then_display() {
    pager_notifications_flow(Faults::PERFECT);
}

#[test]
fn pager_notifications_over_a_lossy_network_arrive_once_each() {
    pager_notifications_flow(lossy());
}

fn list_message_flow(conditions: Faults) {
    let users = ["alice", "bob", "carol"];
    let mut net = network(&users, conditions, 32, |_, _| {});
    let now = net.now();
    let (_, id) = client(&mut net, 2)
        .send_pager_message_with_imdn(
            &[BOB, CAROL],
            "text/plain",
            b"Hello both",
            DispositionRequest {
                positive_delivery: true,
                ..DispositionRequest::default()
            },
            DATE,
            now,
        )
        .unwrap();
    run(&mut net, 60);
    // One MESSAGE to the factory, fanned out by the server with the
    // request intact.
    let alice = client_addr("alice");
    assert_eq!(pager_cpim(&net, alice, FACTORY).len(), 1);
    let server: SocketAddr = SERVER.parse().unwrap();
    for user in [BOB, CAROL] {
        let fanned = pager_cpim(&net, server, user);
        assert_eq!(fanned.len(), 1, "{user}");
        let msg = CpimMessage::parse(&fanned[0]).unwrap();
        assert_eq!(msg.extension("imdn.Message-ID").unwrap().value, id);
    }
    // Each recipient notified Alice directly; no display was asked for.
    for (index, user) in [(3, "bob"), (4, "carol")] {
        let uri = format!("sip:{user}@example.com");
        let back = pager_cpim(&net, client_addr(user), ALICE);
        assert_eq!(back.len(), 1, "{user}");
        check_notification(&back[0], ALICE, &id, &uri);
        assert!(display_requests(&net, index).is_empty());
        assert_eq!(messages(&net, index).len(), 1);
    }
    let mut got = about(&notifications(&net, 2), &id);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, [delivered(BOB), delivered(CAROL)]);
    net.run_until_quiet(Duration::from_secs(120), |_, _, _, _| {});
    assert!(net.is_idle());
}

#[test]
fn each_recipient_of_a_list_message_notifies_the_sender() {
    list_message_flow(Faults::PERFECT);
}

#[test]
fn list_message_notifications_over_a_lossy_network() {
    list_message_flow(lossy());
}

#[test]
fn a_disposition_request_needs_a_date_time() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 33, |_, _| {});
    let now = net.now();
    for bad in ["", "yesterday", "2026-12-07T10:00:00"] {
        assert_eq!(
            client(&mut net, 2).send_pager_message_with_imdn(
                &[BOB],
                "text/plain",
                b"x",
                DispositionRequest::ALL,
                bad,
                now,
            ),
            Err(ClientError::DateTimeRequired)
        );
    }
    let max = client(&mut net, 2).config().limits.max_pager_message_size;
    assert_eq!(
        client(&mut net, 2).send_pager_message_with_imdn(
            &[BOB],
            "text/plain",
            &vec![b'x'; max + 1],
            DispositionRequest::ALL,
            DATE,
            now,
        ),
        Err(ClientError::PagerTooLarge { size: max + 1, max })
    );
    assert!(client(&mut net, 2).poll_output().is_none(), "nothing sent");
    assert!(net.wire().is_empty());
}

#[test]
fn an_anonymous_recipient_sends_no_notification() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 34, |i, c| c.anonymous = i == 1);
    let now = net.now();
    let (_, id) = client(&mut net, 2)
        .send_pager_message_with_imdn(
            &[BOB],
            "text/plain",
            b"Who are you?",
            DispositionRequest::ALL,
            DATE,
            now,
        )
        .unwrap();
    run(&mut net, 40);
    assert_eq!(messages(&net, 3).len(), 1, "the message is delivered");
    assert!(display_requests(&net, 3).is_empty());
    let now = net.now();
    assert_eq!(
        client(&mut net, 3).send_display_notification(&id, now),
        Err(ClientError::Anonymous)
    );
    run(&mut net, 40);
    assert!(pager_cpim(&net, client_addr("bob"), ALICE).is_empty());
    assert!(notifications(&net, 2).is_empty());
    net.run_until_quiet(Duration::from_secs(120), |_, _, _, _| {});
    assert!(net.is_idle());
}

#[test]
fn display_requests_are_bounded_and_the_oldest_is_forgotten() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 35, |i, c| {
        if i == 1 {
            c.limits.max_pending_display_notifications = 1;
        }
    });
    let mut ids = Vec::new();
    for text in ["one", "two"] {
        let now = net.now();
        let (_, id) = client(&mut net, 2)
            .send_pager_message_with_imdn(
                &[BOB],
                "text/plain",
                text.as_bytes(),
                DispositionRequest::ALL,
                DATE,
                now,
            )
            .unwrap();
        ids.push(id);
        run(&mut net, 40);
    }
    let now = net.now();
    assert_eq!(
        client(&mut net, 3).send_display_notification(&ids[0], now),
        Err(ClientError::UnknownMessage)
    );
    client(&mut net, 3)
        .send_display_notification(&ids[1], now)
        .unwrap();
    run(&mut net, 40);
    let got = notifications(&net, 2);
    assert_eq!(about(&got, &ids[0]), [delivered(BOB)]);
    assert_eq!(about(&got, &ids[1]), [delivered(BOB), displayed(BOB)]);
    net.run_until_quiet(Duration::from_secs(120), |_, _, _, _| {});
}

/// The MSRP SEND bodies (whole CPIM messages, one chunk each) the host of
/// `from` sent to the host of `to`.
fn msrp_cpim(net: &Group, from: SocketAddr, to: SocketAddr) -> Vec<Vec<u8>> {
    net.wire()
        .iter()
        .filter(|r| r.kind == WireKind::Msrp && r.from.ip() == from.ip() && r.to.ip() == to.ip())
        .flat_map(|r| split_sends(&r.bytes))
        .collect()
}

/// The bodies of the SEND requests in a segment of MSRP bytes.
fn split_sends(bytes: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for request in text.split("MSRP ").filter(|r| !r.is_empty()) {
        let mut lines = request.splitn(2, "\r\n");
        let first = lines.next().unwrap_or_default();
        if !first.ends_with(" SEND") {
            continue;
        }
        let rest = lines.next().unwrap_or_default();
        let Some((_, body)) = rest.split_once("\r\n\r\n") else {
            continue;
        };
        let end = body.rfind("\r\n-------").unwrap_or(body.len());
        out.push(body.as_bytes()[..end].to_vec());
    }
    out
}

fn is_notification(cpim: &[u8]) -> bool {
    CpimMessage::parse(cpim)
        .is_ok_and(|m| m.mime_headers.get("Content-Type") == Some("message/imdn+xml"))
}

fn group_flow(conditions: Faults, seed: u64) {
    let users = ["alice", "bob", "carol"];
    let mut net = network(&users, conditions, seed, |_, _| {});
    let sessions = group(&mut net, &users);
    let now = net.now();
    let sent = client(&mut net, 2)
        .send_message_with_imdn(
            sessions[0],
            "text/plain",
            b"Read me",
            DispositionRequest::ALL,
            DATE,
            now,
        )
        .unwrap();
    run(&mut net, 10);
    let id = sent.imdn_message_id.clone();
    // Both got the message and are asked for a display notification.
    for (k, index) in [3, 4].into_iter().enumerate() {
        assert_eq!(
            messages(&net, index),
            [("text/plain".to_owned(), b"Read me".to_vec())]
        );
        assert_eq!(
            display_requests(&net, index),
            [(Some(sessions[k + 1]), id.clone())]
        );
    }
    // Both confirmed delivery to Alice alone: the server's switch routed
    // each notification by its CPIM To.
    let server: SocketAddr = SERVER.parse().unwrap();
    for user in ["bob", "carol"] {
        let uri = format!("sip:{user}@example.com");
        let up: Vec<_> = msrp_cpim(&net, client_addr(user), server)
            .into_iter()
            .filter(|c| is_notification(c))
            .collect();
        assert_eq!(up.len(), 1, "{user}");
        check_notification(&up[0], ALICE, &id, &uri);
    }
    for user in ["bob", "carol"] {
        let down = msrp_cpim(&net, server, client_addr(user));
        assert!(
            !down.iter().any(|c| is_notification(c)),
            "no notification reaches {user}"
        );
    }
    let mut got = about(&notifications(&net, 2), &id);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, [delivered(BOB), delivered(CAROL)]);
    // Bob read it.
    let now = net.now();
    client(&mut net, 3)
        .send_display_notification(&id, now)
        .unwrap();
    run(&mut net, 10);
    let got = notifications(&net, 2);
    assert_eq!(about(&got, &id).last(), Some(&displayed(BOB)));
    assert!(got.iter().all(|n| n.0 == Some(sessions[0])));
    assert!(notifications(&net, 3).is_empty() && notifications(&net, 4).is_empty());
    // Nobody was shown a notification as a message, and no MSRP event of
    // a notification reached an application.
    assert!(messages(&net, 2).is_empty());
    for index in [3, 4] {
        assert!(!events(&net, index)
            .iter()
            .any(|e| matches!(e, Event::MessageSent { .. })));
    }
    assert!(events(&net, 2).iter().any(
        |e| matches!(e, Event::MessageSent { message_id, .. } if *message_id == sent.message_id)
    ));
    leave_all(
        &mut net,
        &[(2, sessions[0]), (3, sessions[1]), (4, sessions[2])],
    );
}

#[test]
fn in_a_group_each_notification_goes_to_the_sender_alone() {
    group_flow(Faults::PERFECT, 36);
}

#[test]
fn group_notifications_over_a_lossy_network() {
    group_flow(lossy(), 37);
}

#[test]
fn an_anonymous_sender_in_a_group_is_notified_without_being_named() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 38, |i, c| c.anonymous = i == 0);
    let sessions = group(&mut net, &users);
    let now = net.now();
    let sent = client(&mut net, 2)
        .send_message_with_imdn(
            sessions[0],
            "text/plain",
            b"guess who",
            DispositionRequest::ALL,
            DATE,
            now,
        )
        .unwrap();
    run(&mut net, 10);
    // Bob sees an anonymous sender, and notifies that address: the switch
    // routes it to Alice's leg, whose identity it is.
    let from = events(&net, 3).into_iter().find_map(|e| match e {
        Event::MessageReceived { from, .. } => from,
        _ => None,
    });
    let from = from.expect("a sender");
    assert_ne!(from, ALICE);
    let got = notifications(&net, 2);
    assert_eq!(
        about(&got, &sent.imdn_message_id),
        [(
            Some(BOB.to_owned()),
            Some(BOB.to_owned()),
            Notification::Delivery(DeliveryStatus::Delivered)
        )]
    );
    let server: SocketAddr = SERVER.parse().unwrap();
    let up: Vec<_> = msrp_cpim(&net, client_addr("bob"), server)
        .into_iter()
        .filter(|c| is_notification(c))
        .collect();
    assert_eq!(up.len(), 1);
    let text = String::from_utf8_lossy(&up[0]);
    assert!(!text.contains("alice"), "{text}");
    leave_all(&mut net, &[(2, sessions[0]), (3, sessions[1])]);
}

#[test]
fn one_to_one_session_notifications_travel_in_the_session() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 39, |_, _| {});
    let now = net.now();
    let alice = client(&mut net, 2).start_one_to_one(BOB, now).unwrap();
    run(&mut net, 10);
    let bob = support::chat::established(&net, 3);
    assert!(client(&mut net, 2).is_established(alice));
    let now = net.now();
    let sent = client(&mut net, 2)
        .send_message_with_imdn(
            alice,
            "text/plain",
            b"just us",
            DispositionRequest::ALL,
            DATE,
            now,
        )
        .unwrap();
    run(&mut net, 10);
    assert_eq!(
        display_requests(&net, 3),
        [(Some(bob), sent.imdn_message_id.clone())]
    );
    let now = net.now();
    client(&mut net, 3)
        .send_display_notification(&sent.imdn_message_id, now)
        .unwrap();
    run(&mut net, 10);
    let back: Vec<_> = msrp_cpim(&net, client_addr("bob"), client_addr("alice"))
        .into_iter()
        .filter(|c| is_notification(c))
        .collect();
    assert_eq!(back.len(), 2);
    assert_eq!(
        about(&notifications(&net, 2), &sent.imdn_message_id),
        [delivered(BOB), displayed(BOB)]
    );
    assert!(pager_cpim(&net, client_addr("bob"), ALICE).is_empty());
    leave_all(&mut net, &[(2, alice), (3, bob)]);
}
