//! INVITE / 180 / 200 / ACK / BYE between two user agents over the
//! in-memory network, on a perfect network, over TCP, and with 20 % loss,
//! duplication and reordering for many seeds.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    Config, DeadlineReason, DialogState, Event, RequestSpec, ResponseSpec, TerminationReason,
    UserAgent,
};
use oma_im::sip::{parse_message, Method};
use oma_im::transaction::Transport;
use support::{Conditions, Network};

const SDP: &[u8] = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\na=accept-types:text/plain\r\n";

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

fn pair(conditions: Conditions, seed: u64, transport: Transport) -> Network<UserAgent> {
    let mut net = Network::new(conditions, seed);
    net.add(
        addr(1),
        UserAgent::new(Config::new(
            addr(1),
            addr(2),
            transport,
            seed.wrapping_mul(3),
        )),
    );
    net.add(
        addr(2),
        UserAgent::new(Config::new(
            addr(2),
            addr(1),
            transport,
            seed.wrapping_mul(7) + 1,
        )),
    );
    net
}

fn invite() -> RequestSpec {
    RequestSpec::new(
        Method::Invite,
        "sip:bob@192.0.2.2",
        "Alice <sip:alice@example.com>",
        "Bob <sip:bob@example.com>",
    )
    .with_body("application/sdp", SDP.to_vec())
}

/// Bob answers every INVITE with 180 then 200; Alice hangs up as soon as
/// her dialog is established.
fn call_hook(i: usize, ua: &mut UserAgent, event: &Event, now: Instant) {
    match (i, event) {
        (
            1,
            Event::RequestReceived {
                transaction,
                request,
                dialog: None,
            },
        ) => {
            assert_eq!(request.message().method(), Some("INVITE"));
            ua.respond(*transaction, ResponseSpec::new(180), now)
                .unwrap();
            ua.respond(
                *transaction,
                ResponseSpec::new(200).with_body("application/sdp", SDP.to_vec()),
                now,
            )
            .unwrap();
        }
        (0, Event::DialogEstablished { dialog }) => {
            ua.bye(*dialog, now).unwrap();
        }
        _ => {}
    }
}

fn count(net: &Network<UserAgent>, node: usize, f: impl Fn(&Event) -> bool) -> usize {
    net.events
        .iter()
        .filter(|(i, e)| *i == node && f(e))
        .count()
}

fn assert_call_completed(net: &Network<UserAgent>) {
    let established = |e: &Event| matches!(e, Event::DialogEstablished { .. });
    assert_eq!(count(net, 0, established), 1, "alice: one dialog");
    assert_eq!(count(net, 1, established), 1, "bob: one dialog");
    assert_eq!(
        count(net, 0, |e| matches!(
            e,
            Event::DialogTerminated {
                reason: TerminationReason::ByeSent,
                ..
            }
        )),
        1
    );
    assert_eq!(
        count(net, 1, |e| matches!(
            e,
            Event::DialogTerminated {
                reason: TerminationReason::ByeReceived,
                ..
            }
        )),
        1
    );
    let ok = count(net, 0, |e| match e {
        Event::ResponseReceived { response, .. } => response.message().status_code() == Some(200),
        _ => false,
    });
    assert_eq!(
        ok, 2,
        "alice sees the 200 to INVITE and the 200 to BYE once each"
    );
    assert!(net.is_idle());
}

#[test]
fn call_on_a_perfect_udp_network() {
    let mut net = pair(Conditions::PERFECT, 1, Transport::Udp);
    let now = net.now;
    net.node(0).send_request(invite(), now).unwrap();
    net.run_until_idle(Duration::from_secs(120), call_hook);
    assert_call_completed(&net);
    assert_eq!(
        net.lines(0, 1),
        [
            "INVITE sip:bob@192.0.2.2 SIP/2.0",
            "ACK sip:192.0.2.2:5060 SIP/2.0",
            "BYE sip:192.0.2.2:5060 SIP/2.0"
        ]
    );
    assert_eq!(
        net.lines(1, 0),
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK",
            "SIP/2.0 200 OK"
        ]
    );
    // The ACK and the BYE are in the dialog: same Call-ID and tags, CSeq of
    // the INVITE for the ACK and the next one for the BYE.
    let wire = &net.wire;
    let invite = parse_message(&wire[0].bytes).unwrap();
    let ok = wire
        .iter()
        .find(|r| r.start_line() == "SIP/2.0 200 OK")
        .unwrap();
    let ok = parse_message(&ok.bytes).unwrap();
    let ack = wire
        .iter()
        .find(|r| r.start_line().starts_with("ACK"))
        .unwrap();
    let ack = parse_message(&ack.bytes).unwrap();
    let bye = wire
        .iter()
        .find(|r| r.start_line().starts_with("BYE"))
        .unwrap();
    let bye = parse_message(&bye.bytes).unwrap();
    let to_tag = ok.to().unwrap().unwrap().tag().unwrap();
    assert_eq!(ack.to().unwrap().unwrap().tag(), Some(to_tag));
    assert_eq!(bye.to().unwrap().unwrap().tag(), Some(to_tag));
    assert_eq!(
        ack.cseq().unwrap().unwrap().seq,
        invite.cseq().unwrap().unwrap().seq
    );
    assert_eq!(
        bye.cseq().unwrap().unwrap().seq,
        invite.cseq().unwrap().unwrap().seq + 1
    );
    assert_ne!(
        ack.top_via().unwrap().unwrap().branch(),
        invite.top_via().unwrap().unwrap().branch()
    );
    assert_eq!(ok.body(), SDP);
}

#[test]
fn call_over_tcp_sends_every_message_once() {
    let mut net = pair(Conditions::lossy(0, 0, Duration::ZERO), 2, Transport::Tcp);
    let now = net.now;
    net.node(0).send_request(invite(), now).unwrap();
    net.run_until(now + Duration::from_millis(100), call_hook);
    // Timers D, I, J and K are zero over TCP: once the call is over, no
    // transaction is left; only Bob's memory of the accepted INVITE
    // (RFC 6026, 64*T1) remains.
    for i in 0..2 {
        assert_eq!(net.node(i).client_transaction_count(), 0);
        assert_eq!(net.node(i).server_transaction_count(), 0);
    }
    assert_eq!(net.node(0).next_deadline(), None);
    assert_eq!(
        net.node(1).next_deadline().unwrap().reason,
        DeadlineReason::AcceptedInvite
    );
    net.run_until_idle(Duration::from_secs(120), call_hook);
    assert_call_completed(&net);
    assert_eq!(net.wire.len(), 7);
    assert!(net.wire.iter().all(|r| r.transport == Transport::Tcp));
}

#[test]
fn call_completes_with_loss_duplication_and_reordering_for_50_seeds() {
    for seed in 0..50 {
        let mut net = pair(
            Conditions::lossy(20, 20, Duration::from_millis(300)),
            seed,
            Transport::Udp,
        );
        let now = net.now;
        net.node(0).send_request(invite(), now).unwrap();
        net.run_until_idle(Duration::from_secs(600), call_hook);
        assert_call_completed(&net);
        for i in 0..2 {
            let ua = net.node(i);
            assert_eq!(ua.client_transaction_count(), 0, "seed {seed}");
            assert_eq!(ua.server_transaction_count(), 0, "seed {seed}");
            assert_eq!(ua.poll_timeout(), None, "seed {seed}");
            assert_eq!(ua.dialogs().count(), 0);
        }
    }
}

#[test]
fn early_dialog_then_confirmed_on_both_sides() {
    let mut net = pair(Conditions::PERFECT, 3, Transport::Udp);
    let now = net.now;
    net.node(0).send_request(invite(), now).unwrap();
    let mut bob_tx = None;
    net.run_until(now + Duration::from_millis(1), |i, ua, e, now| {
        if let (1, Event::RequestReceived { transaction, .. }) = (i, e) {
            ua.respond(*transaction, ResponseSpec::new(180), now)
                .unwrap();
            bob_tx = Some(*transaction);
        }
    });
    let alice_dialog = net.node(0).dialogs().next().unwrap().clone();
    assert_eq!(alice_dialog.state(), DialogState::Early);
    let bob_dialog = net.node(1).dialogs().next().unwrap().clone();
    assert_eq!(bob_dialog.state(), DialogState::Early);
    assert_eq!(alice_dialog.call_id(), bob_dialog.call_id());
    assert_eq!(alice_dialog.local_tag(), bob_dialog.remote_tag());
    assert_eq!(alice_dialog.remote_tag(), bob_dialog.local_tag());
    assert_eq!(alice_dialog.remote_target(), "sip:192.0.2.2:5060");
    assert_eq!(bob_dialog.remote_target(), "sip:192.0.2.1:5060");
    let now = net.now;
    net.node(1)
        .respond(bob_tx.unwrap(), ResponseSpec::new(200), now)
        .unwrap();
    net.run_until(now + Duration::from_millis(1), |_, _, _, _| {});
    assert_eq!(
        net.node(0).dialog(alice_dialog.id()).unwrap().state(),
        DialogState::Confirmed
    );
    assert_eq!(
        net.node(1).dialog(bob_dialog.id()).unwrap().state(),
        DialogState::Confirmed
    );
    // Bob hangs up this time.
    let now = net.now;
    net.node(1).bye(bob_dialog.id(), now).unwrap();
    net.run_until_idle(Duration::from_secs(120), |_, _, _, _| {});
    assert!(net.is_idle());
}
