//! INVITE / 180 / 200 / ACK / BYE between two user agents on the public
//! simulator ([`oma_im::sim`]), on a perfect network, over TCP, and with
//! 20 % loss, duplication and reordering for many seeds.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    Config, DeadlineReason, DialogOwner, DialogState, Event, RequestSpec, ResponseSpec,
    TerminationReason,
};
use oma_im::sim::{AgentId, Faults, NodeId, Nodes, Sim, SimEvent};
use oma_im::sip::{parse_message, Method};
use oma_im::transaction::Transport;

const SDP: &[u8] = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\na=accept-types:text/plain\r\n";

const PERFECT: Faults = Faults {
    latency: Duration::ZERO,
    ..Faults::NONE
};
fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

struct Pair {
    sim: Sim,
    alice: AgentId,
    bob: AgentId,
}

fn pair(faults: Faults, seed: u64, transport: Transport) -> Pair {
    let mut sim = Sim::new(seed).with_faults(faults);
    let alice = sim.add_agent(
        "alice",
        Config::new(addr(1), addr(2), transport, seed.wrapping_mul(3)),
    );
    let bob = sim.add_agent(
        "bob",
        Config::new(addr(2), addr(1), transport, seed.wrapping_mul(7) + 1),
    );
    Pair { sim, alice, bob }
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
fn call_hook(alice: AgentId, bob: AgentId) -> impl FnMut(&mut Nodes, NodeId, &SimEvent, Instant) {
    move |nodes, node, event, now| match (node, event) {
        (
            NodeId::Agent(b),
            SimEvent::Agent(Event::RequestReceived {
                transaction,
                request,
                dialog: None,
            }),
        ) if b == bob => {
            assert_eq!(request.message().method(), Some("INVITE"));
            let ua = nodes.agent(bob);
            ua.respond(*transaction, ResponseSpec::new(180), now)
                .unwrap();
            ua.respond(
                *transaction,
                ResponseSpec::new(200).with_body("application/sdp", SDP.to_vec()),
                now,
            )
            .unwrap();
        }
        (NodeId::Agent(a), SimEvent::Agent(Event::DialogEstablished { dialog })) if a == alice => {
            nodes.agent(alice).bye(*dialog, now).unwrap();
        }
        _ => {}
    }
}

fn count(p: &Pair, agent: AgentId, f: impl Fn(&Event) -> bool) -> usize {
    p.sim
        .events()
        .iter()
        .filter(|r| r.node == NodeId::Agent(agent))
        .filter(|r| matches!(&r.event, SimEvent::Agent(e) if f(e)))
        .count()
}

/// The first lines of the SIP messages from `from` to `to`, in order.
fn lines(p: &Pair, from: AgentId, to: AgentId) -> Vec<String> {
    p.sim
        .wire()
        .iter()
        .filter(|r| r.from_node == Some(from.into()) && r.to_node == Some(to.into()))
        .map(|r| r.first_line())
        .collect()
}

fn assert_call_completed(p: &Pair) {
    let established = |e: &Event| matches!(e, Event::DialogEstablished { .. });
    assert_eq!(count(p, p.alice, established), 1, "alice: one dialog");
    assert_eq!(count(p, p.bob, established), 1, "bob: one dialog");
    assert_eq!(
        count(p, p.alice, |e| matches!(
            e,
            Event::DialogTerminated {
                reason: TerminationReason::ByeSent,
                ..
            }
        )),
        1
    );
    assert_eq!(
        count(p, p.bob, |e| matches!(
            e,
            Event::DialogTerminated {
                reason: TerminationReason::ByeReceived,
                ..
            }
        )),
        1
    );
    let ok = count(p, p.alice, |e| match e {
        Event::ResponseReceived { response, .. } => response.message().status_code() == Some(200),
        _ => false,
    });
    assert_eq!(
        ok, 2,
        "alice sees the 200 to INVITE and the 200 to BYE once each"
    );
    assert!(p.sim.is_idle());
}

fn idle(p: &mut Pair, bound: u64) {
    let hook = call_hook(p.alice, p.bob);
    if let Err(e) = p.sim.run_until_idle_with(Duration::from_secs(bound), hook) {
        panic!("{e}");
    }
}

#[test]
fn call_on_a_perfect_udp_network() {
    let mut p = pair(PERFECT, 1, Transport::Udp);
    let now = p.sim.now();
    p.sim.agent(p.alice).send_request(invite(), now).unwrap();
    idle(&mut p, 120);
    assert_call_completed(&p);
    assert_eq!(
        lines(&p, p.alice, p.bob),
        [
            "INVITE sip:bob@192.0.2.2 SIP/2.0",
            "ACK sip:192.0.2.2:5060 SIP/2.0",
            "BYE sip:192.0.2.2:5060 SIP/2.0"
        ]
    );
    assert_eq!(
        lines(&p, p.bob, p.alice),
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK",
            "SIP/2.0 200 OK"
        ]
    );
    // The ACK and the BYE are in the dialog: same Call-ID and tags, CSeq of
    // the INVITE for the ACK and the next one for the BYE.
    let wire = p.sim.wire();
    let invite = parse_message(&wire[0].bytes).unwrap();
    let ok = wire
        .iter()
        .find(|r| r.first_line() == "SIP/2.0 200 OK")
        .unwrap();
    let ok = parse_message(&ok.bytes).unwrap();
    let ack = wire.iter().find(|r| r.is_sip("ACK ")).unwrap();
    let ack = parse_message(&ack.bytes).unwrap();
    let bye = wire.iter().find(|r| r.is_sip("BYE ")).unwrap();
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

/// What the application keeps with a dialog comes back from the user agent
/// and in the dialog's termination, and only for that dialog.
#[test]
fn the_owner_kept_with_a_dialog_comes_back_when_it_ends() {
    let mut p = pair(PERFECT, 3, Transport::Tcp);
    let now = p.sim.now();
    p.sim.agent(p.alice).send_request(invite(), now).unwrap();
    let (alice, bob) = (p.alice, p.bob);
    let mut call = call_hook(alice, bob);
    let mut kept = None;
    let hook = |nodes: &mut Nodes, node: NodeId, event: &SimEvent, now: Instant| {
        if let (NodeId::Agent(b), SimEvent::Agent(Event::DialogEstablished { dialog })) =
            (node, event)
        {
            if b == bob {
                let ua = nodes.agent(bob);
                assert_eq!(ua.dialog_owner(*dialog), None, "nothing kept yet");
                assert!(ua.set_dialog_owner(*dialog, Some(DialogOwner(7, 9))));
                assert_eq!(ua.dialog_owner(*dialog), Some(DialogOwner(7, 9)));
                kept = Some(*dialog);
            }
        }
        call(nodes, node, event, now);
    };
    p.sim
        .run_for_with(Duration::from_millis(100), hook)
        .unwrap();
    let dialog = kept.expect("bob's dialog was established");
    let ended = |agent: AgentId| -> Vec<Event> {
        p.sim
            .events()
            .iter()
            .filter(|r| r.node == NodeId::Agent(agent))
            .filter_map(|r| match &r.event {
                SimEvent::Agent(e @ Event::DialogTerminated { .. }) => Some(e.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        ended(bob),
        [Event::DialogTerminated {
            dialog,
            reason: TerminationReason::ByeReceived,
            owner: Some(DialogOwner(7, 9)),
        }]
    );
    assert!(
        matches!(
            &ended(alice)[..],
            [Event::DialogTerminated { owner: None, .. }]
        ),
        "alice kept nothing with hers"
    );
    // The dialog is gone, and with it what was kept.
    let ua = p.sim.agent(bob);
    assert_eq!(ua.dialog_owner(dialog), None);
    assert!(!ua.set_dialog_owner(dialog, Some(DialogOwner(1, 1))));
}

/// The status of the response `ua` sends to `bytes`, received from Alice.
fn status_of(ua: &mut oma_im::dialog::UserAgent, bytes: &[u8], now: Instant) -> Option<u16> {
    ua.handle_input(
        oma_im::dialog::Input::Datagram {
            bytes,
            source: addr(1),
            transport: Transport::Tcp,
        },
        now,
    );
    let mut status = None;
    while let Some(out) = ua.poll_output() {
        if let oma_im::dialog::Output::Transmit(t) = out {
            status = status.or(parse_message(&t.bytes).ok().and_then(|m| m.status_code()));
        }
    }
    status
}

/// A request inside a dialog is matched on the dialog's whole key (RFC
/// 3261 §12.2.2): a peer that saw the To tag of Bob's dialog and sends BYE
/// with it under another Call-ID or another From tag gets 481, and the
/// dialog stays, with the deadline the application keeps with it
/// (`set_dialog_deadline`); the BYE with the whole key ends it, and the
/// deadline with it.
#[test]
fn a_request_finds_its_dialog_only_with_the_whole_key() {
    let mut p = pair(PERFECT, 5, Transport::Tcp);
    let now = p.sim.now();
    p.sim.agent(p.alice).send_request(invite(), now).unwrap();
    let bob = p.bob;
    let mut established = None;
    let hook = |nodes: &mut Nodes, node: NodeId, event: &SimEvent, now: Instant| match (node, event)
    {
        (
            NodeId::Agent(b),
            SimEvent::Agent(Event::RequestReceived {
                transaction,
                dialog: None,
                ..
            }),
        ) if b == bob => {
            let spec = ResponseSpec::new(200).with_body("application/sdp", SDP.to_vec());
            nodes.agent(bob).respond(*transaction, spec, now).unwrap();
        }
        (NodeId::Agent(b), SimEvent::Agent(Event::DialogEstablished { dialog })) if b == bob => {
            established = Some(*dialog);
        }
        _ => {}
    };
    p.sim
        .run_for_with(Duration::from_millis(100), hook)
        .unwrap();
    let dialog = established.expect("bob's dialog");
    let ok = p
        .sim
        .wire()
        .iter()
        .find(|r| r.from_node == Some(bob.into()) && r.first_line().starts_with("SIP/2.0 200"))
        .map(|r| r.bytes.clone())
        .expect("bob's 200");
    let ok = parse_message(&ok).unwrap();
    let to = ok.to().unwrap().unwrap();
    let from = ok.from().unwrap().unwrap();
    let (to_tag, from_tag) = (to.tag().unwrap(), from.tag().unwrap());
    let call_id = ok.call_id().unwrap().unwrap().id;
    let deadline = now + Duration::from_secs(90);
    let ua = p.sim.agent(bob);
    assert!(ua.set_dialog_deadline(dialog, Some(deadline)));
    let bye = |call_id: &str, from_tag: &str, branch: &str| {
        format!(
            "BYE sip:bob@192.0.2.2 SIP/2.0\r\n\
             Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK{branch}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:alice@example.com>;tag={from_tag}\r\n\
             To: <sip:bob@example.com>;tag={to_tag}\r\n\
             Call-ID: {call_id}\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    };
    let forged_call = format!("{call_id}x");
    assert_eq!(
        status_of(ua, &bye(&forged_call, from_tag, "f1"), now),
        Some(481)
    );
    assert_eq!(
        status_of(ua, &bye(call_id, "another", "f2"), now),
        Some(481)
    );
    assert_eq!(
        ua.dialog(dialog).map(|d| d.state()),
        Some(DialogState::Confirmed)
    );
    assert_eq!(ua.dialog_deadline(dialog), Some(deadline));
    assert_eq!(status_of(ua, &bye(call_id, from_tag, "ok"), now), Some(200));
    assert_eq!(
        ua.dialog(dialog),
        None,
        "the BYE with the whole key ended it"
    );
    assert_eq!(ua.dialog_deadline(dialog), None);
}

#[test]
fn call_over_tcp_sends_every_message_once() {
    let mut p = pair(Faults::lossy(0, 0, Duration::ZERO), 2, Transport::Tcp);
    let now = p.sim.now();
    p.sim.agent(p.alice).send_request(invite(), now).unwrap();
    let hook = call_hook(p.alice, p.bob);
    p.sim
        .run_for_with(Duration::from_millis(100), hook)
        .unwrap();
    // Timers D, I, J and K are zero over TCP: once the call is over, no
    // transaction is left; only Bob's memory of the accepted INVITE
    // (RFC 6026, 64*T1) remains.
    for id in [p.alice, p.bob] {
        assert_eq!(p.sim.agent(id).client_transaction_count(), 0);
        assert_eq!(p.sim.agent(id).server_transaction_count(), 0);
    }
    assert_eq!(p.sim.agent(p.alice).next_deadline(), None);
    assert_eq!(
        p.sim.agent(p.bob).next_deadline().unwrap().reason,
        DeadlineReason::AcceptedInvite
    );
    idle(&mut p, 120);
    assert_call_completed(&p);
    assert_eq!(p.sim.wire().len(), 7);
    assert!(p
        .sim
        .wire()
        .iter()
        .all(|r| r.kind == oma_im::sim::WireKind::Sip(Transport::Tcp)));
}

#[test]
fn call_completes_with_loss_duplication_and_reordering_for_50_seeds() {
    for seed in 0..50 {
        let mut p = pair(
            Faults::lossy(20, 20, Duration::from_millis(300)),
            seed,
            Transport::Udp,
        );
        let now = p.sim.now();
        p.sim.agent(p.alice).send_request(invite(), now).unwrap();
        idle(&mut p, 600);
        assert_call_completed(&p);
        for id in [p.alice, p.bob] {
            let ua = p.sim.agent(id);
            assert_eq!(ua.client_transaction_count(), 0, "seed {seed}");
            assert_eq!(ua.server_transaction_count(), 0, "seed {seed}");
            assert_eq!(ua.poll_timeout(), None, "seed {seed}");
            assert_eq!(ua.dialogs().count(), 0);
        }
    }
}

#[test]
fn early_dialog_then_confirmed_on_both_sides() {
    let mut p = pair(PERFECT, 3, Transport::Udp);
    let now = p.sim.now();
    p.sim.agent(p.alice).send_request(invite(), now).unwrap();
    let mut bob_tx = None;
    let bob = p.bob;
    p.sim
        .run_for_with(Duration::from_millis(1), |nodes, node, e, now| {
            if let (NodeId::Agent(b), SimEvent::Agent(Event::RequestReceived { transaction, .. })) =
                (node, e)
            {
                if b == bob {
                    nodes
                        .agent(bob)
                        .respond(*transaction, ResponseSpec::new(180), now)
                        .unwrap();
                    bob_tx = Some(*transaction);
                }
            }
        })
        .unwrap();
    let alice_dialog = p.sim.agent(p.alice).dialogs().next().unwrap().clone();
    assert_eq!(alice_dialog.state(), DialogState::Early);
    let bob_dialog = p.sim.agent(p.bob).dialogs().next().unwrap().clone();
    assert_eq!(bob_dialog.state(), DialogState::Early);
    assert_eq!(alice_dialog.call_id(), bob_dialog.call_id());
    assert_eq!(alice_dialog.local_tag(), bob_dialog.remote_tag());
    assert_eq!(alice_dialog.remote_tag(), bob_dialog.local_tag());
    assert_eq!(alice_dialog.remote_target(), "sip:192.0.2.2:5060");
    assert_eq!(bob_dialog.remote_target(), "sip:192.0.2.1:5060");
    let now = p.sim.now();
    p.sim
        .agent(p.bob)
        .respond(bob_tx.unwrap(), ResponseSpec::new(200), now)
        .unwrap();
    p.sim.run_for(Duration::from_millis(1)).unwrap();
    assert_eq!(
        p.sim
            .agent(p.alice)
            .dialog(alice_dialog.id())
            .unwrap()
            .state(),
        DialogState::Confirmed
    );
    assert_eq!(
        p.sim.agent(p.bob).dialog(bob_dialog.id()).unwrap().state(),
        DialogState::Confirmed
    );
    // Bob hangs up this time.
    let now = p.sim.now();
    p.sim.agent(p.bob).bye(bob_dialog.id(), now).unwrap();
    p.sim.run_until_idle(Duration::from_secs(120)).unwrap();
    assert!(p.sim.is_idle());
}
