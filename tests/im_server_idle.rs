//! The controlling IM Server goes idle after every ending, however the
//! network treated the set-up: regressions of what the `group_session`
//! fuzz target found, replayed on the public simulator ([`oma_im::sim`])
//! with every message moved as bytes.

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::im::client::{ClientConfig, Event as ClientEvent};
use oma_im::im::server::{Event, InvitationFailure, ServerConfig};
use oma_im::sim::{ClientId, Proxy, ProxyId, ServerId, Sim};

const CORE: &str = "10.0.0.1:5060";
const SERVER: &str = "10.0.0.10:5060";
const DOMAIN: &str = "im.example.com";
const FACTORY: &str = "sip:conf-factory@im.example.com";
const USERS: [(&str, &str); 3] = [
    ("alice", "10.0.0.21"),
    ("bob", "10.0.0.22"),
    ("carol", "10.0.0.23"),
];

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The core, the server, and Alice, Bob and Carol; Bob and Carol accept
/// every invitation, Alice answers by hand.
fn network() -> (Sim, ServerId, ProxyId, Vec<ClientId>) {
    network_with_seed(11)
}

/// [`network`] on a simulation seeded with `seed`.
fn network_with_seed(seed: u64) -> (Sim, ServerId, ProxyId, Vec<ClientId>) {
    let mut sim = Sim::new(seed);
    let mut cfg = ServerConfig::new(addr(SERVER), addr(CORE), DOMAIN);
    cfg.conference_factory_uris.push(FACTORY.to_owned());
    cfg.msrp_authority = "10.0.0.10:2855".into();
    cfg.seed = 3.into();
    let server = sim.add_server("server", cfg);
    let mut core = Proxy::new().with_domain(DOMAIN, addr(SERVER));
    let mut clients = Vec::new();
    for (i, (user, ip)) in USERS.iter().enumerate() {
        let sip = addr(&format!("{ip}:5060"));
        let uri = format!("sip:{user}@example.com");
        let mut c = ClientConfig::new(&uri, FACTORY, sip, addr(CORE));
        c.msrp_addr = addr(&format!("{ip}:2855"));
        c.seed = (200 + i as u64).into();
        let id = sim.add_client(user, c);
        sim.auto_accept(id, i != 0);
        clients.push(id);
        core = core.with_user(&uri, sip);
    }
    let core = sim.add_proxy("core", addr(CORE), core);
    (sim, server, core, clients)
}

fn run(sim: &mut Sim, secs: u64) {
    if let Err(e) = sim.run_for(Duration::from_secs(secs)) {
        panic!("{e}");
    }
}

/// `fuzz/corpus/group_session/not-idle-after-lost-200`: an invitee whose
/// 200 OK never reached the server (its INVITE client transaction in
/// Proceeding, where RFC 3261 §17.1.1.2 runs no timer) closed its MSRP
/// connection and left. The server removed it after the grace period but
/// forgot its pending INVITE, which then waited for ever, and the server
/// never went idle. RFC 3261 §9.1: the invitation is CANCELled, and the
/// INVITE transaction ends 64*T1 later if no final response comes.
#[test]
fn an_invitee_gone_before_its_200_arrived_is_cancelled_and_the_server_goes_idle() {
    let (mut sim, server, core, c) = network();
    let (alice, bob, carol) = (c[0], c[1], c[2]);
    let now = sim.now();
    let bobs = sim
        .client(bob)
        .start_ad_hoc(&["sip:alice@example.com", "sip:carol@example.com"], now)
        .unwrap();
    run(&mut sim, 2);
    let invitation = sim
        .client_events(alice)
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::InvitationReceived { session, .. } => Some(*session),
            _ => None,
        })
        .expect("Alice is invited");
    // Alice's answer and everything after it between her and the core is
    // lost; her MSRP connection goes straight to the server.
    sim.partition(alice, core);
    let now = sim.now();
    sim.client(alice).accept(invitation, now).unwrap();
    run(&mut sim, 2);
    let now = sim.now();
    sim.client(alice).leave(invitation, now).unwrap();
    run(&mut sim, 10);

    let cancel = "CANCEL sip:alice@example.com ";
    assert!(
        sim.wire()
            .iter()
            .any(|r| r.from == addr(SERVER) && r.first_line().starts_with(cancel)),
        "the server CANCELs Alice's INVITE:\n{}",
        sim.ladder()
    );
    assert!(sim.server_events(server).iter().any(|e| matches!(
        e,
        Event::InvitationFailed { address, reason: InvitationFailure::Cancelled, .. }
            if address == "sip:alice@example.com"
    )));

    let now = sim.now();
    sim.client(bob).leave(bobs, now).unwrap();
    let carols = sim
        .client_ref(carol)
        .sessions()
        .next()
        .expect("Carol's session");
    sim.client(carol).leave(carols, now).unwrap();
    if let Err(e) = sim.run_until_idle(Duration::from_secs(600)) {
        panic!("not idle: {e}");
    }
    assert_eq!(sim.server_ref(server).session_count(), 0);
    assert!(sim.server_ref(server).is_idle());
}

/// The `group_session` fuzz target found the History Function waiting for
/// ever after the server refused its recording INVITE and the refusal was
/// lost: the server had answered 100 Trying, then sent its final response
/// once and forgotten the transaction, and a client that got a provisional
/// response retransmits its INVITE no more (RFC 3261 §17.1.1.2). A
/// stateless UAS sends no 1xx (§8.2.7): after 100 Trying the refusal is
/// kept and retransmitted until the ACK (§17.2.1). Here Bob's set-up over
/// the ad-hoc limit is refused 486 on a network losing half the datagrams;
/// in every run (of the seeds tried) where the 100 Trying reached Bob and
/// the first 486 was lost, a retransmission ends his session.
#[test]
fn a_refusal_after_100_trying_is_retransmitted_until_the_ack() {
    let mut exercised = 0;
    for seed in 0..40 {
        let (mut sim, server, _core, c) = network_with_seed(seed);
        let bob = c[1];
        let mut config = sim.server_ref(server).config().clone();
        config.limits.max_adhoc_participants = 2;
        sim.restart_server(server, config);
        sim.set_faults(oma_im::sim::Faults::lossy(50, 0, Duration::ZERO));
        let now = sim.now();
        let session = sim
            .client(bob)
            .start_ad_hoc(&["sip:alice@example.com", "sip:carol@example.com"], now)
            .unwrap();
        sim.run_for(Duration::from_millis(100)).unwrap();
        sim.set_faults(oma_im::sim::Faults::NONE);
        // Was this run the case: 100 Trying to Bob delivered, then the
        // server's first 486 lost?
        let from_server: Vec<_> = sim
            .wire()
            .iter()
            .filter(|r| r.from == addr(SERVER))
            .map(|r| (r.first_line(), r.fate))
            .collect();
        let trying = from_server
            .iter()
            .position(|(l, f)| l.starts_with("SIP/2.0 100") && *f != oma_im::sim::Fate::Lost);
        let refusal = from_server
            .iter()
            .position(|(l, _)| l.starts_with("SIP/2.0 486"));
        let case = match (trying, refusal) {
            (Some(t), Some(r)) => t < r && from_server[r].1 == oma_im::sim::Fate::Lost,
            _ => false,
        };
        if let Err(e) = sim.run_until_idle(Duration::from_secs(120)) {
            panic!("seed {seed}: not idle: {e}");
        }
        if !case {
            continue;
        }
        exercised += 1;
        assert!(
            sim.client_events(bob).iter().any(|e| matches!(
                e,
                ClientEvent::SessionEnded {
                    session: s,
                    reason: oma_im::im::client::EndReason::Rejected(486),
                } if *s == session
            )),
            "seed {seed}\n{}",
            sim.ladder()
        );
    }
    assert!(exercised > 0, "no run lost the 486 after a 100 Trying");
}

/// `fuzz/corpus/group_session/server-session-kept-*`: the only invitee's
/// 200 OK never reached the server, and it closed its MSRP connection
/// and left. The server CANCELled its INVITE after the grace period but
/// counted it as gone, not as an invitation that failed, so the inviter,
/// still waiting for its final response, was never answered: its INVITE
/// server transaction stayed in Proceeding (RFC 3261 §17.2.1 runs no timer
/// there, the TU answers) and the session with it, though the inviter had
/// gone. 7.2.1.2: once every invitee has failed, the inviter gets the
/// final response of the failure policy, here 480.
#[test]
fn an_inviter_whose_invitees_all_left_before_joining_is_answered() {
    let (mut sim, server, core, c) = network();
    let (alice, bob) = (c[0], c[1]);
    let now = sim.now();
    let bobs = sim
        .client(bob)
        .start_ad_hoc(&["sip:alice@example.com"], now)
        .unwrap();
    run(&mut sim, 2);
    let invitation = sim
        .client_events(alice)
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::InvitationReceived { session, .. } => Some(*session),
            _ => None,
        })
        .expect("Alice is invited");
    sim.partition(alice, core);
    let now = sim.now();
    sim.client(alice).accept(invitation, now).unwrap();
    run(&mut sim, 2);
    let now = sim.now();
    sim.client(alice).leave(invitation, now).unwrap();
    // Bob does nothing: the server must end his set-up by itself.
    run(&mut sim, 20);

    assert!(
        sim.wire()
            .iter()
            .any(|r| r.from == addr(SERVER)
                && r.first_line() == "SIP/2.0 480 Temporarily Unavailable"),
        "the server answers Bob's INVITE 480:\n{}",
        sim.ladder()
    );
    assert!(sim.client_events(bob).iter().any(|e| matches!(
        e,
        ClientEvent::SessionEnded { session, reason: oma_im::im::client::EndReason::Rejected(480) }
            if *session == bobs
    )));
    assert!(sim.server_events(server).iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: oma_im::im::server::EndReason::Rejected(480),
            ..
        }
    )));
    assert_eq!(sim.server_ref(server).session_count(), 0);
    if let Err(e) = sim.run_until_idle(Duration::from_secs(600)) {
        panic!("not idle: {e}");
    }
    assert!(sim.server_ref(server).is_idle());
}

/// `fuzz/corpus/group_session/clients-session-kept-after-leave`: Carol set
/// up an ad-hoc session while every copy of her INVITE was lost, and left
/// before any provisional response. RFC 3261 §9.1 forbids her CANCEL until
/// a provisional response arrives, so her INVITE is still retransmitted
/// (Timer A) after the leave; the last copy, 31.5 s after the first, still
/// reaches the focus, which invites Alice and Bob. Carol CANCELs on the
/// 100 Trying; the focus's 200 OK crosses the CANCEL, and Carol ACKs and
/// BYEs it (§15). Alice and Bob keep the session the focus set up, as two
/// Participants — a session made after Carol's leave, which the fuzz
/// target's closing leave rounds had stopped looking for too early.
#[test]
fn a_leave_before_any_provisional_cancels_on_the_first_and_ends_a_crossing_200() {
    let (mut sim, server, core, c) = network();
    let (alice, bob, carol) = (c[0], c[1], c[2]);
    sim.auto_accept(alice, true);
    sim.partition(carol, core);
    let now = sim.now();
    let carols = sim
        .client(carol)
        .start_ad_hoc(&["sip:alice@example.com", "sip:bob@example.com"], now)
        .unwrap();
    run(&mut sim, 1);
    let now = sim.now();
    sim.client(carol).leave(carols, now).unwrap();
    run(&mut sim, 20);
    let from_carol = |sim: &Sim| -> Vec<String> {
        sim.wire()
            .iter()
            .filter(|r| r.from == addr("10.0.0.23:5060"))
            .map(|r| r.first_line().to_owned())
            .collect()
    };
    assert!(
        from_carol(&sim)
            .iter()
            .all(|l| l.starts_with("INVITE sip:conf-factory@im.example.com ")),
        "no CANCEL before a provisional response:\n{}",
        sim.ladder()
    );
    sim.repair(carol, core);
    run(&mut sim, 20);

    let lines = from_carol(&sim);
    let first = |m: &str| lines.iter().position(|l| l.starts_with(m));
    let (cancel, ack, bye) = (first("CANCEL "), first("ACK "), first("BYE "));
    assert!(cancel.is_some(), "Carol CANCELs:\n{}", sim.ladder());
    assert!(
        cancel < ack && ack < bye,
        "the 200 OK crossing the CANCEL is ACKed, then ended by BYE:\n{}",
        sim.ladder()
    );
    assert_eq!(sim.client_ref(carol).sessions().count(), 0);
    // Alice and Bob are in the session the late INVITE made.
    let alices = sim
        .client_ref(alice)
        .sessions()
        .next()
        .expect("Alice's session");
    let bobs = sim
        .client_ref(bob)
        .sessions()
        .next()
        .expect("Bob's session");
    assert_eq!(sim.server_ref(server).session_count(), 1);

    let now = sim.now();
    sim.client(alice).leave(alices, now).unwrap();
    sim.client(bob).leave(bobs, now).unwrap();
    if let Err(e) = sim.run_until_idle(Duration::from_secs(600)) {
        panic!("not idle: {e}");
    }
    assert_eq!(sim.server_ref(server).session_count(), 0);
}
