//! IM Client terminating procedures and the User Plane: being invited
//! (one-to-one, group, Large Message 9.2.1), accepting and rejecting, MSRP
//! messages between two clients, BYE from the other side, and the IMS
//! profile. Every message crosses the simulator ([`oma_im::sim`]) as bytes.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::dialog::RequestSpec;
use oma_im::im::client::{ClientConfig, EndReason, Event, InvitationKind};
use oma_im::im::SipIpCoreProfile;
use oma_im::sdp::{Direction, SessionDescription};
use oma_im::sim::{Faults, WireRecord};
use oma_im::sip::Method;
use support::im::{client_config, Net, Script};
use support::wire::{parsed, sip_requests, sip_responses, values};

const ALICE: usize = 0;
const BOB: usize = 1;

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

/// Alice and Bob, each the other's outbound proxy (a direct link).
fn pair_with(alice: ClientConfig, bob: ClientConfig, conditions: Faults, seed: u64) -> Net {
    let mut net = Net::new(conditions, seed);
    net.add_client(alice);
    net.add_client(bob);
    net
}

fn alice() -> ClientConfig {
    client_config("alice", addr(1), addr(2), 21)
}

fn bob() -> ClientConfig {
    client_config("bob", addr(2), addr(1), 22)
}

fn pair() -> Net {
    pair_with(alice(), bob(), Faults::PERFECT, 7)
}

fn run(net: &mut Net, secs: u64) {
    let until = net.now() + Duration::from_secs(secs);
    net.run_until(until);
}

fn events_of(net: &Net, node: usize) -> Vec<Event> {
    net.client_events(node)
}

/// The invitation Bob got.
fn invitation(net: &Net) -> (oma_im::im::client::ImSessionId, String, InvitationKind) {
    events_of(net, BOB)
        .into_iter()
        .find_map(|e| match e {
            Event::InvitationReceived {
                session,
                originator,
                kind,
                ..
            } => Some((session, originator, kind)),
            _ => None,
        })
        .expect("Bob was invited")
}

fn sdp_body(record: &WireRecord) -> SessionDescription<'static> {
    SessionDescription::parse(parsed(record).body())
        .unwrap()
        .into_owned()
}

fn msrp_direction(sdp: &SessionDescription<'_>) -> Direction {
    let (_, m) = sdp.msrp_media().unwrap();
    sdp.media_direction(m)
}

#[test]
fn one_to_one_invitation_rings_and_is_accepted_with_an_sdp_answer() {
    let mut net = pair();
    let now = net.now();
    let a = net
        .node(ALICE)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 2);
    let (b, originator, kind) = invitation(&net);
    assert_eq!(originator, "sip:alice@example.com");
    assert_eq!(kind, InvitationKind::OneToOne);
    // 180 went at once, with the release version.
    let ringing = sip_responses(net.wire(), 180);
    assert_eq!(ringing.len(), 1);
    assert_eq!(
        values(&parsed(ringing[0]), "User-Agent"),
        ["IM-client/OMA1.0 oma-im-test/1.0"]
    );
    // Alice's Allow is stored on Bob's side.
    assert!(net
        .node(BOB)
        .client()
        .peer_allow(b)
        .unwrap()
        .contains(&"INVITE".to_owned()));
    let now = net.now();
    net.node(BOB).client().accept(b, now).unwrap();
    run(&mut net, 2);
    {
        let ok = sip_responses(net.wire(), 200);
        let answer = sdp_body(ok[0]);
        assert_eq!(msrp_direction(&answer), Direction::SendRecv);
        // The 200 carries the feature tag in its Contact.
        assert!(values(&parsed(ok[0]), "Contact")[0].ends_with(";+g.oma.sip-im"));
    }
    assert!(net.node(ALICE).client().is_established(a));
    assert!(net.node(BOB).client().is_established(b));
}

#[test]
fn messages_flow_over_msrp_wrapped_in_cpim_with_delivery_reports() {
    let mut net = pair();
    let now = net.now();
    let a = net
        .node(ALICE)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 2);
    let (b, _, _) = invitation(&net);
    let now = net.now();
    net.node(BOB).client().accept(b, now).unwrap();
    run(&mut net, 2);
    let now = net.now();
    let id = net
        .node(ALICE)
        .client()
        .send_message(a, "text/plain", b"Hello Bob", true, now)
        .unwrap();
    run(&mut net, 2);
    let now = net.now();
    net.node(BOB)
        .client()
        .send_message(b, "text/html", b"<b>Hi</b>", false, now)
        .unwrap();
    run(&mut net, 2);
    // The MSRP SEND crossed the wire in CPIM.
    let send = net
        .wire()
        .iter()
        .find(|r| {
            r.bytes.starts_with(b"MSRP ")
                && r.from == addr(1)
                && r.bytes.windows(9).any(|w| w == b"Hello Bob")
        })
        .expect("a SEND from Alice");
    let text = String::from_utf8_lossy(&send.bytes);
    assert!(text.contains("Content-Type: message/cpim"), "{text}");
    assert!(events_of(&net, BOB).contains(&Event::MessageReceived {
        session: b,
        from: Some("sip:alice@example.com".into()),
        to: vec!["sip:bob@example.com".into()],
        date_time: None,
        content_type: "text/plain".into(),
        body: b"Hello Bob".to_vec(),
    }));
    assert!(events_of(&net, ALICE).contains(&Event::MessageReceived {
        session: a,
        from: Some("sip:bob@example.com".into()),
        to: vec!["sip:alice@example.com".into()],
        date_time: None,
        content_type: "text/html".into(),
        body: b"<b>Hi</b>".to_vec(),
    }));
    let alice_events = events_of(&net, ALICE);
    assert!(alice_events.contains(&Event::MessageSent {
        session: a,
        message_id: id.clone()
    }));
    assert!(alice_events.contains(&Event::MessageDelivered {
        session: a,
        message_id: id
    }));
}

#[test]
fn bye_from_the_other_side_is_answered_and_closes_msrp() {
    let mut net = pair();
    let now = net.now();
    let a = net
        .node(ALICE)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 2);
    let (b, _, _) = invitation(&net);
    let now = net.now();
    net.node(BOB).client().accept(b, now).unwrap();
    run(&mut net, 2);
    let now = net.now();
    net.node(ALICE).client().leave(a, now).unwrap();
    net.run_until_quiet(Duration::from_secs(120));
    assert_eq!(sip_requests(net.wire(), "BYE").len(), 1);
    assert!(sip_responses(net.wire(), 200)
        .iter()
        .any(|r| r.from == addr(2) && r.bytes.windows(7).any(|w| w == b" 2 BYE\r")));
    assert!(events_of(&net, BOB).contains(&Event::SessionEnded {
        session: b,
        reason: EndReason::Remote
    }));
    assert!(events_of(&net, ALICE).contains(&Event::SessionEnded {
        session: a,
        reason: EndReason::Local
    }));
    assert!(net.node(BOB).client().is_idle());
    // Bob cannot send any more: the MSRP session is gone.
    let now = net.now();
    assert!(net
        .node(BOB)
        .client()
        .send_message(b, "text/plain", b"late", false, now)
        .is_err());
}

#[test]
fn user_rejects_an_invitation() {
    let mut net = pair();
    let now = net.now();
    let a = net
        .node(ALICE)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 2);
    let (b, _, _) = invitation(&net);
    let now = net.now();
    net.node(BOB).client().reject(b, 603, now).unwrap();
    net.run_until_quiet(Duration::from_secs(120));
    assert_eq!(sip_responses(net.wire(), 603).len(), 1);
    assert!(events_of(&net, ALICE).contains(&Event::SessionEnded {
        session: a,
        reason: EndReason::Rejected(603)
    }));
    assert!(events_of(&net, BOB).contains(&Event::SessionEnded {
        session: b,
        reason: EndReason::Declined(603)
    }));
}

/// 9.2.1 on the responses of the invited client.
fn assert_large_message_response_headers(record: &WireRecord, originator_header: &str) {
    let msg = parsed(record);
    assert_eq!(
        values(&msg, "User-Agent"),
        ["IM-client/OMA1.0 oma-im-test/1.0"]
    );
    let allow = values(&msg, "Allow").join(",");
    for m in ["INVITE", "BYE", "MESSAGE"] {
        assert!(allow.contains(m), "{allow}");
    }
    assert_eq!(values(&msg, originator_header), ["<sip:bob@example.com>"]);
}

#[test]
fn large_message_is_received_in_its_own_session_then_released() {
    let mut net = pair();
    let body: Vec<u8> = (0..6000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let now = net.now();
    let a = net
        .node(ALICE)
        .client()
        .send_large_message(&["sip:bob@example.com"], "text/plain", &body, now)
        .unwrap();
    run(&mut net, 2);
    let (b, originator, kind) = invitation(&net);
    assert_eq!(originator, "sip:alice@example.com");
    // The size announced is the size of the CPIM message that is sent.
    let cpim = oma_im::body::cpim::CpimMessage::new(
        oma_im::body::cpim::CpimAddress::new(None, "sip:alice@example.com"),
        oma_im::body::cpim::CpimAddress::new(None, "sip:bob@example.com"),
        "text/plain",
        &body,
    )
    .unwrap();
    let mut wrapped = Vec::new();
    cpim.write(&mut wrapped);
    drop(cpim);
    assert_eq!(
        kind,
        InvitationKind::LargeMessage {
            size: Some(wrapped.len() as u64)
        }
    );
    {
        let invite = sip_requests(net.wire(), "INVITE")[0];
        assert!(invite
            .first_line()
            .starts_with("INVITE sip:bob@example.com SIP/2.0"));
        let offer = sdp_body(invite);
        assert_eq!(msrp_direction(&offer), Direction::SendOnly);
        let msg = parsed(invite);
        assert_eq!(values(&msg, "Accept-Contact"), ["*;+g.oma.sip-im"]);
        assert_eq!(
            values(&msg, "User-Agent"),
            ["IM-client/OMA1.0 oma-im-test/1.0"]
        );
        assert!(values(&msg, "Contact")[0].ends_with(";+g.oma.sip-im"));
        assert_eq!(values(&msg, "Session-Expires"), ["1800;refresher=uac"]);
    }
    // Bob stored Alice's Allow and her Contact as the Session Identity.
    {
        let c = net.node(BOB).client();
        assert!(c.peer_allow(b).unwrap().contains(&"UPDATE".to_owned()));
        assert_eq!(
            c.session_identity(b).unwrap().uri,
            "sip:alice@192.0.2.1:5060"
        );
    }
    let now = net.now();
    net.node(BOB).client().accept(b, now).unwrap();
    net.run_until_quiet(Duration::from_secs(120));
    assert_large_message_response_headers(
        sip_responses(net.wire(), 180)[0],
        "P-Preferred-Identity",
    );
    let ok = sip_responses(net.wire(), 200)
        .into_iter()
        .find(|r| r.bytes.windows(8).any(|w| w == b" INVITE\r"))
        .unwrap();
    assert_large_message_response_headers(ok, "P-Preferred-Identity");
    assert_eq!(msrp_direction(&sdp_body(ok)), Direction::RecvOnly);
    assert!(events_of(&net, BOB).contains(&Event::MessageReceived {
        session: b,
        from: Some("sip:alice@example.com".into()),
        to: vec!["sip:bob@example.com".into()],
        date_time: None,
        content_type: "text/plain".into(),
        body,
    }));
    // The sender released the session after delivery.
    let byes = sip_requests(net.wire(), "BYE");
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].from, addr(1));
    assert!(events_of(&net, ALICE).contains(&Event::SessionEnded {
        session: a,
        reason: EndReason::Local
    }));
    assert!(events_of(&net, BOB).contains(&Event::SessionEnded {
        session: b,
        reason: EndReason::Remote
    }));
}

#[test]
fn large_message_over_the_configured_size_is_rejected_for_resources() {
    let mut small = bob();
    small.max_large_message_size = 1000;
    let mut net = pair_with(alice(), small, Faults::PERFECT, 8);
    let now = net.now();
    let a = net
        .node(ALICE)
        .client()
        .send_large_message(&["sip:bob@example.com"], "text/plain", &[b'z'; 1001], now)
        .unwrap();
    net.run_until_quiet(Duration::from_secs(120));
    let busy = sip_responses(net.wire(), 486);
    assert_eq!(busy.len(), 1);
    assert_large_message_response_headers(busy[0], "P-Preferred-Identity");
    assert!(events_of(&net, ALICE).contains(&Event::SessionEnded {
        session: a,
        reason: EndReason::Rejected(486)
    }));
    // No invitation reached the user.
    assert!(!events_of(&net, BOB)
        .iter()
        .any(|e| matches!(e, Event::InvitationReceived { .. })));
}

#[test]
fn large_message_rejected_by_the_user() {
    let mut net = pair();
    let now = net.now();
    net.node(ALICE)
        .client()
        .send_large_message(&["sip:bob@example.com"], "text/plain", &[b'z'; 1500], now)
        .unwrap();
    run(&mut net, 2);
    let (b, _, _) = invitation(&net);
    let now = net.now();
    net.node(BOB).client().reject(b, 603, now).unwrap();
    net.run_until_quiet(Duration::from_secs(120));
    let declined = sip_responses(net.wire(), 603);
    assert_eq!(declined.len(), 1);
    assert_large_message_response_headers(declined[0], "P-Preferred-Identity");
}

#[test]
fn ims_profile_uses_p_preferred_identity_in_responses() {
    let mut ims_bob = bob();
    ims_bob.profile = SipIpCoreProfile::Ims;
    let mut net = pair_with(alice(), ims_bob, Faults::PERFECT, 9);
    let now = net.now();
    net.node(ALICE)
        .client()
        .send_large_message(&["sip:bob@example.com"], "text/plain", &[b'z'; 1500], now)
        .unwrap();
    run(&mut net, 2);
    let (b, _, _) = invitation(&net);
    let now = net.now();
    net.node(BOB).client().accept(b, now).unwrap();
    net.run_until_quiet(Duration::from_secs(120));
    for r in sip_responses(net.wire(), 180).into_iter().chain(
        sip_responses(net.wire(), 200)
            .into_iter()
            .filter(|r| r.from == addr(2) && r.bytes.windows(8).any(|w| w == b" INVITE\r")),
    ) {
        assert_large_message_response_headers(r, "P-Preferred-Identity");
        assert!(values(&parsed(r), "P-Asserted-Identity").is_empty());
    }
}

/// An INVITE whose From claims one user and whose P-Asserted-Identity
/// asserts another, sent by a scripted peer.
fn asserted_invite(profile: SipIpCoreProfile) -> String {
    let mut b = bob();
    b.profile = profile;
    let mut net = Net::new(Faults::PERFECT, 10);
    net.add_server(
        addr(9),
        addr(2),
        Script {
            focus: None,
            ..Script::default()
        },
        3,
    );
    net.add_client(b);
    let sdp = oma_im::sdp::offer_answer::offer(&oma_im::sdp::offer_answer::LocalParameters::new(
        1,
        1,
        "192.0.2.9",
        5060,
        "msrp://192.0.2.9:5060/x1;tcp",
    ))
    .to_bytes();
    let now = net.now();
    net.node(0)
        .server()
        .ua
        .send_request(
            RequestSpec::new(
                Method::Invite,
                "sip:bob@example.com",
                "<sip:claimed@example.com>",
                "<sip:bob@example.com>",
            )
            .with_header("P-Asserted-Identity", "<sip:asserted@example.com>")
            .with_body("application/sdp", sdp),
            now,
        )
        .unwrap();
    run(&mut net, 2);
    invitation(&net).1
}

#[test]
fn ims_profile_trusts_p_asserted_identity_plain_uses_from() {
    assert_eq!(
        asserted_invite(SipIpCoreProfile::Ims),
        "sip:asserted@example.com"
    );
    assert_eq!(
        asserted_invite(SipIpCoreProfile::Plain),
        "sip:claimed@example.com"
    );
}

#[test]
fn group_invitation_is_recognised_by_isfocus_and_referred_by() {
    let mut net = Net::new(Faults::PERFECT, 11);
    net.add_server(addr(9), addr(2), Script::default(), 3);
    net.add_client(bob());
    let sdp = oma_im::sdp::offer_answer::offer(&oma_im::sdp::offer_answer::LocalParameters::new(
        1,
        1,
        "192.0.2.9",
        5060,
        "msrp://192.0.2.9:5060/x1;tcp",
    ))
    .to_bytes();
    let now = net.now();
    net.node(0)
        .server()
        .ua
        .send_request(
            RequestSpec::new(
                Method::Invite,
                "sip:bob@example.com",
                "<sip:conference-factory@im.example.com>",
                "<sip:bob@example.com>",
            )
            .with_header("Referred-By", "<sip:alice@example.com>")
            .with_body("application/sdp", sdp),
            now,
        )
        .unwrap();
    run(&mut net, 2);
    let (b, _, kind) = invitation(&net);
    assert_eq!(
        kind,
        InvitationKind::Group {
            referred_by: Some("sip:alice@example.com".into())
        }
    );
    let identity = net.node(1).client().session_identity(b).cloned().unwrap();
    assert_eq!(identity.uri, "sip:conf-1@192.0.2.9:5060");
    assert!(identity.is_focus);
}

#[test]
fn one_to_one_with_messages_over_a_lossy_network() {
    for seed in 0..10 {
        let mut net = pair_with(
            client_config("alice", addr(1), addr(2), seed),
            client_config("bob", addr(2), addr(1), seed + 100),
            Faults::lossy(20, 10, Duration::from_millis(30)),
            seed,
        );
        let now = net.now();
        let a = net
            .node(ALICE)
            .client()
            .start_one_to_one("sip:bob@example.com", now)
            .unwrap();
        run(&mut net, 40);
        let (b, _, _) = invitation(&net);
        let now = net.now();
        net.node(BOB).client().accept(b, now).unwrap();
        run(&mut net, 40);
        assert!(net.node(ALICE).client().is_established(a), "seed {seed}");
        let now = net.now();
        net.node(ALICE)
            .client()
            .send_message(a, "text/plain", b"over loss", false, now)
            .unwrap();
        run(&mut net, 5);
        assert!(
            events_of(&net, BOB)
                .iter()
                .any(|e| matches!(e, Event::MessageReceived { body, .. } if body == b"over loss")),
            "seed {seed}"
        );
        let now = net.now();
        net.node(ALICE).client().leave(a, now).unwrap();
        net.run_until_quiet(Duration::from_secs(300));
        assert!(
            events_of(&net, BOB).contains(&Event::SessionEnded {
                session: b,
                reason: EndReason::Remote
            }),
            "seed {seed}"
        );
    }
}
