//! The group-chat demo (`examples/group_chat.rs`) runs in CI: the same
//! scenario function, with assertions on the messages that crossed and the
//! events each side saw.

#[allow(dead_code)]
#[path = "../examples/group_chat.rs"]
mod demo;

use std::time::Duration;

use demo::{im_address, run_scenario, run_scenario_with, Report, FACTORY};
use oma_im::body::imdn::{DeliveryStatus, DisplayStatus, Notification};
use oma_im::im::client::{self, EndReason};
use oma_im::im::server::{self, LeaveReason};
use oma_im::sip::{parse_message, HeaderName};

fn report() -> Report {
    match run_scenario(false) {
        Ok(report) => report,
        Err(e) => panic!("the demo did not complete: {e}"),
    }
}

/// The IM Session Identity the server created.
fn identity(report: &Report) -> String {
    let ids: Vec<&String> = report
        .server_events
        .iter()
        .filter_map(|e| match e {
            server::Event::SessionCreated { identity, .. } => Some(identity),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1, "one IM Session");
    ids[0].clone()
}

fn header(bytes: &[u8], name: &str) -> Option<String> {
    let msg = parse_message(bytes).expect("SIP that crossed parses");
    msg.header(HeaderName::parse(name))
        .map(|h| h.value.to_owned())
}

#[test]
fn alice_invites_bob_and_carol_through_the_factory() {
    let report = report();
    let identity = identity(&report);
    let invites = report.sip("alice", "server", "INVITE ");
    assert_eq!(invites.len(), 1);
    assert_eq!(invites[0].what, format!("INVITE {FACTORY}"));
    let ct = header(&invites[0].bytes, "Content-Type").unwrap();
    assert!(ct.starts_with("multipart/mixed"), "{ct}");
    for user in ["bob", "carol"] {
        let invites = report.sip("server", user, "INVITE ");
        assert_eq!(invites.len(), 1, "one INVITE to {user}");
        let bytes = &invites[0].bytes;
        assert_eq!(
            header(bytes, "Referred-By").as_deref(),
            Some("<sip:alice@example.com>")
        );
        let contact = header(bytes, "Contact").unwrap();
        assert!(contact.contains(&identity), "{contact}");
        assert!(contact.contains("isfocus"), "{contact}");
        assert_eq!(report.sip(user, "server", "200 OK (INVITE)").len(), 1);
    }
    assert_eq!(report.sip("server", "alice", "200 OK (INVITE)").len(), 1);
    // Each client's session names the conference by its IM Session Identity.
    for user in ["alice", "bob", "carol"] {
        let established: Vec<_> = report
            .events_of(user)
            .into_iter()
            .filter_map(|e| match e {
                client::Event::SessionEstablished { identity, .. } => identity.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(established.len(), 1, "{user}");
        assert_eq!(established[0].uri, identity, "{user}");
        assert!(established[0].is_focus, "{user}");
    }
    let joined: Vec<&String> = report
        .server_events
        .iter()
        .filter_map(|e| match e {
            server::Event::ParticipantJoined { address, .. } => Some(address),
            _ => None,
        })
        .collect();
    assert_eq!(joined.len(), 3);
    for user in ["alice", "bob", "carol"] {
        assert!(joined.contains(&&im_address(user)), "{user} joined");
    }
}

#[test]
fn every_message_reaches_the_two_others_with_its_sender() {
    let report = report();
    for user in ["alice", "bob", "carol"] {
        let mut got = report.received(user);
        got.retain(|(_, text)| text.starts_with("hello from "));
        got.sort();
        let mut expected: Vec<(String, String)> = ["alice", "bob", "carol"]
            .into_iter()
            .filter(|o| *o != user)
            .map(|o| (im_address(o), format!("hello from {o}")))
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{user}");
        // The relayed SENDs crossed the server's legs as bytes.
        let hello = |c: &&demo::Crossed| c.what.contains("hello from ");
        let relayed = report.msrp("server", user, "SEND message/cpim From ");
        assert_eq!(relayed.iter().filter(|c| hello(c)).count(), 2, "{user}");
        let mut sent = report.msrp(user, "server", "SEND message/cpim From ");
        sent.retain(hello);
        assert_eq!(sent.len(), 1, "{user}");
        assert!(sent[0].what.contains(&format!("hello from {user}")));
    }
    let relayed: Vec<usize> = report
        .server_events
        .iter()
        .filter_map(|e| match e {
            server::Event::MessageRelayed { recipients, .. } => Some(*recipients),
            _ => None,
        })
        .collect();
    assert_eq!(relayed[..3], [2, 2, 2]);
}

#[test]
fn alice_is_told_of_delivery_and_display_and_sees_carol_typing() {
    let report = report();
    let notes: Vec<(Option<String>, client::Event)> = report
        .events_of("alice")
        .into_iter()
        .filter_map(|e| match e {
            client::Event::NotificationReceived { from, .. } => Some((from.clone(), e.clone())),
            _ => None,
        })
        .collect();
    let said = |who: &str, n: Notification| {
        notes.iter().any(|(from, e)| {
            from.as_deref() == Some(im_address(who).as_str())
                && matches!(e, client::Event::NotificationReceived { notification, .. } if *notification == n)
        })
    };
    let delivered = Notification::Delivery(DeliveryStatus::Delivered);
    assert!(said("bob", delivered) && said("carol", delivered));
    assert!(said("bob", Notification::Display(DisplayStatus::Displayed)));
    assert_eq!(notes.len(), 3);
    for user in ["alice", "bob"] {
        assert!(report.events_of(user).iter().any(|e| matches!(
            e,
            client::Event::ComposingChanged { from, active: true, .. } if *from == im_address("carol")
        )));
    }
    // Bob's and Carol's notifications went to Alice only.
    for user in ["bob", "carol"] {
        let to_them = report.msrp("server", user, "SEND message/cpim From ");
        assert!(to_them.iter().all(|c| !c.what.contains("<imdn")), "{user}");
    }
}

#[test]
fn bob_leaves_then_alice_and_the_server_releases_carol() {
    let report = report();
    let bob = report
        .server_events
        .iter()
        .find_map(|e| match e {
            server::Event::ParticipantJoined {
                participant,
                address,
                ..
            } if *address == im_address("bob") => Some(*participant),
            _ => None,
        })
        .expect("bob joined");
    assert!(report.server_events.iter().any(|e| matches!(
        e,
        server::Event::ParticipantLeft { participant, reason: LeaveReason::Departed, .. }
            if *participant == bob
    )));
    assert_eq!(report.sip("bob", "server", "BYE ").len(), 1);
    assert_eq!(report.sip("alice", "server", "BYE ").len(), 1);
    assert_eq!(report.sip("server", "carol", "BYE ").len(), 1);
    assert_eq!(report.sip("carol", "server", "200 OK (BYE)").len(), 1);
    // Alice's subscription told her bob left.
    assert!(report.events_of("alice").iter().any(|e| matches!(
        e,
        client::Event::ParticipantsChanged { left, .. } if *left == [im_address("bob")]
    )));
    let ended = |user: &str| -> Vec<EndReason> {
        report
            .events_of(user)
            .into_iter()
            .filter_map(|e| match e {
                client::Event::SessionEnded { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect()
    };
    assert_eq!(ended("alice"), [EndReason::Local]);
    assert_eq!(ended("bob"), [EndReason::Local]);
    assert_eq!(ended("carol"), [EndReason::Remote]);
    assert!(matches!(
        report.server_events.last(),
        Some(server::Event::SessionEnded {
            reason: server::EndReason::Empty,
            ..
        })
    ));
    assert!(report.idle);
}

#[test]
fn the_ladder_shows_every_message_that_crossed() {
    let report = report();
    assert!(report.crossed.len() > 40, "{}", report.crossed.len());
    let arrows: Vec<&String> = report
        .ladder
        .iter()
        .filter(|l| l.contains("->") || l.contains("<-") || l.contains("=>") || l.contains("<="))
        .collect();
    let mut lines = arrows.iter();
    // In order, one arrow per message (TCP connects and closes between).
    for crossed in &report.crossed {
        assert!(
            lines.any(|l| l.ends_with(&crossed.what)),
            "no ladder line for {}",
            crossed.what
        );
    }
}

// Regression (IM Server, src/im/server/user_plane.rs, fixed in 5eb8089):
// an invitee is the active MSRP end and connects as soon as it answers, so
// its connection and first SEND can reach the server before its 200 OK
// does. The server used to feed them to a switch leg not created yet (they
// were dropped) and then add the leg blocked: it never wrote to that
// invitee. With a zero-latency network the race always happens.
#[test]
fn msrp_connection_before_the_invitees_200_is_served() {
    let result = run_scenario_with(Duration::ZERO, false);
    assert!(result.is_ok(), "{}", result.err().unwrap());
}

#[test]
fn the_wire_log_is_a_pcap_capture() {
    let report = report();
    // The classic pcap header, LINKTYPE_ETHERNET.
    assert_eq!(&report.pcap[..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(&report.pcap[20..24], &1u32.to_le_bytes());
    assert!(report.pcap.len() > 10_000, "{}", report.pcap.len());
}
