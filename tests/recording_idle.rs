//! Recording requests to the IM History Function leave nothing behind
//! when the network and the History Function misbehave: a regression of
//! what the `group_session` fuzz target found, on the public simulator
//! ([`oma_im::sim`]) with every message moved as bytes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use oma_im::im::client::{ClientConfig, Event as ClientEvent};
use oma_im::im::history::{self, HistoryConfig, UnverifiedRequests};
use oma_im::im::server::ServerConfig;
use oma_im::sim::{ClientId, HistoryId, NodeId, Nodes, Proxy, Sim, SimEvent};
use oma_im::transaction::Transport;

const CORE: &str = "10.0.0.1:5060";
const SERVER: &str = "10.0.0.10:5060";
const HISTORY: &str = "10.0.0.30:5060";
const HISTORY_URI: &str = "sip:history@history.example.com";
const FACTORY: &str = "sip:conf-factory@im.example.com";
const USERS: [(&str, &str); 3] = [
    ("alice", "10.0.0.21"),
    ("bob", "10.0.0.22"),
    ("carol", "10.0.0.23"),
];

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn history_config(seed: u64) -> HistoryConfig {
    let mut c = HistoryConfig::new(HISTORY_URI, addr(HISTORY), addr(CORE));
    c.msrp_addr = addr("10.0.0.30:2855");
    // The core asserts no identity here: requests are handed over marked.
    c.unverified_requests = UnverifiedRequests::AcceptMarked;
    c.seed = seed.into();
    c
}

/// The core, the server, the History Function and three clients that
/// accept every invitation.
fn network() -> (Sim, HistoryId, Vec<ClientId>) {
    let mut sim = Sim::new(17);
    let mut proxy = Proxy::new()
        .with_domain("im.example.com", addr(SERVER))
        .with_user(HISTORY_URI, addr(HISTORY));
    let mut clients = Vec::new();
    for (i, (user, ip)) in USERS.iter().enumerate() {
        let uri = format!("sip:{user}@example.com");
        let mut c = ClientConfig::new(&uri, FACTORY, addr(&format!("{ip}:5060")), addr(CORE));
        c.msrp_addr = addr(&format!("{ip}:2855"));
        c.seed = (300 + i as u64).into();
        let id = sim.add_client(user, c);
        sim.auto_accept(id, true);
        clients.push(id);
        proxy = proxy.with_user(&uri, addr(&format!("{ip}:5060")));
    }
    sim.add_proxy("core", addr(CORE), proxy);
    let mut config = ServerConfig::new(addr(SERVER), addr(CORE), "im.example.com");
    config.conference_factory_uris.push(FACTORY.to_owned());
    config.msrp_authority = "10.0.0.10:2855".to_owned();
    // The History Function's INVITE names the initiator in its From,
    // which no trusted peer vouches for here.
    config.access.recording_needs_verified_identity = false;
    sim.add_server("server", config);
    let history = sim.add_history("history", history_config(1));
    (sim, history, clients)
}

/// The History Function's application: accepts every recording request.
fn accept(nodes: &mut Nodes, node: NodeId, event: &SimEvent, now: Instant) {
    if let (
        NodeId::History(id),
        SimEvent::History(history::Event::RecordingRequested { session, .. }),
    ) = (node, event)
    {
        let _ = nodes.history(id).accept_recording(*session, now);
    }
}

static FIRST_202_SEEN: AtomicBool = AtomicBool::new(false);

/// The first 202 Accepted that crosses the network (every hop of it).
fn first_202(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"SIP/2.0 202") {
        return false;
    }
    // Its hop from the core is the same bytes: both are held back.
    static FIRST: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let first = FIRST.get_or_init(|| bytes.to_vec());
    FIRST_202_SEEN.store(true, Ordering::SeqCst);
    first.as_slice() == bytes
}

/// Alice asks for her session to be recorded; the 202 to her REFER is held
/// back, so the History Function's terminating NOTIFY creates the REFER's
/// dialog (RFC 6665 §4.1.2.4). The History Function then restarts and
/// accepts Alice's retransmitted REFER afresh: its 202 creates a second
/// dialog, with another tag. Alice's client used to keep that one for
/// ever — no subscription on it, no deadline — and never went idle; it now
/// ends it (§4.5.2) and every node goes idle.
#[test]
fn a_second_refer_dialog_from_a_restarted_history_function_is_ended() {
    let (mut sim, history, c) = network();
    let alice = c[0];
    let now = sim.now();
    let session = sim
        .client(alice)
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    assert!(sim.client_ref(alice).is_established(session));

    sim.delay_matching(first_202, Duration::from_secs(100));
    let now = sim.now();
    sim.client(alice)
        .request_recording(session, HISTORY_URI, now)
        .unwrap();
    sim.run_for_with(Duration::from_millis(300), accept)
        .unwrap();
    assert!(FIRST_202_SEEN.load(Ordering::SeqCst));
    assert!(sim.client_events(alice).iter().any(|e| matches!(
        e,
        ClientEvent::RecordingRequestNotified {
            terminated: true,
            ..
        }
    )));
    sim.restart_history(history, history_config(2));
    sim.run_for_with(Duration::from_secs(3), accept).unwrap();
    assert!(sim
        .client_events(alice)
        .iter()
        .any(|e| matches!(e, ClientEvent::RecordingRequestAnswered { status: 202, .. })));

    for &client in &c {
        let sessions: Vec<_> = sim.client_ref(client).sessions().collect();
        for s in sessions {
            let now = sim.now();
            let _ = sim.client(client).leave(s, now);
        }
    }
    if let Err(e) = sim.run_until_idle_with(Duration::from_secs(600), accept) {
        panic!("not idle: {e}");
    }
}

/// Alice asks for her session to be recorded; the History Function
/// answers 202 and records. It then restarts, and a late copy of Alice's
/// REFER (a network duplicate) reaches the new one, which accepts it
/// afresh: its NOTIFY, with another tag, arrives while Alice's REFER
/// transaction still exists and creates a dialog (RFC 6665 §4.1.2.4)
/// that no recording request takes. Alice's client answered it 481 but
/// kept the dialog for ever — no subscription on it, no deadline — and
/// never went idle; a dialog that nothing uses now ends with the 481.
#[test]
fn a_notify_from_a_restarted_history_function_leaves_no_dialog() {
    let (mut sim, history, c) = network();
    let alice = c[0];
    let now = sim.now();
    let session = sim
        .client(alice)
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    assert!(sim.client_ref(alice).is_established(session));

    let now = sim.now();
    sim.client(alice)
        .request_recording(session, HISTORY_URI, now)
        .unwrap();
    sim.run_for_with(Duration::from_millis(500), accept)
        .unwrap();
    assert!(sim
        .client_events(alice)
        .iter()
        .any(|e| matches!(e, ClientEvent::RecordingRequestAnswered { status: 202, .. })));
    let refer = sim
        .wire()
        .iter()
        .find(|w| w.to == addr(HISTORY) && w.is_sip("REFER "))
        .map(|w| w.bytes.clone())
        .unwrap();

    sim.restart_history(history, history_config(2));
    sim.inject(addr(CORE), addr(HISTORY), Transport::Udp, refer);
    let notifies_before = count_notifies_to(&sim, "10.0.0.21:5060");
    sim.run_for_with(Duration::from_secs(2), accept).unwrap();
    // The new History Function's NOTIFY reached Alice and was refused.
    assert!(count_notifies_to(&sim, "10.0.0.21:5060") > notifies_before);
    assert!(sim
        .wire()
        .iter()
        .any(|w| w.from == addr("10.0.0.21:5060") && w.is_sip("SIP/2.0 481 ")));

    for &client in &c {
        let sessions: Vec<_> = sim.client_ref(client).sessions().collect();
        for s in sessions {
            let now = sim.now();
            let _ = sim.client(client).leave(s, now);
        }
    }
    if let Err(e) = sim.run_until_idle_with(Duration::from_secs(600), accept) {
        panic!("not idle: {e}");
    }
}

/// How many NOTIFYs were delivered to `to`.
fn count_notifies_to(sim: &Sim, to: &str) -> usize {
    sim.wire()
        .iter()
        .filter(|w| w.to == addr(to) && w.is_sip("NOTIFY "))
        .count()
}

/// A 200 OK to the History Function's recording INVITE (every
/// retransmission of it, every hop).
fn history_invite_2xx(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.starts_with("SIP/2.0 200 ")
        && text.contains(" INVITE\r\n")
        && text.contains("SIP/2.0/UDP 10.0.0.30:5060;")
}

/// The History Function's INVITE to record Alice's session gets 100 Trying,
/// but the 200 OK never arrives; the session then ends and the focus's BYE
/// finds no dialog at the History Function (481). The INVITE stayed in
/// Proceeding, where no timer of its transaction runs, and the recording
/// session with it, for ever. It is now CANCELled after
/// `invitation_timeout` (RFC 3261 §9.1); with no final response 64*T1
/// later the recording fails with 408 and every node goes idle.
#[test]
fn a_recording_invite_whose_200_is_lost_is_cancelled() {
    let (mut sim, history, c) = network();
    let alice = c[0];
    let now = sim.now();
    let session = sim
        .client(alice)
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    assert!(sim.client_ref(alice).is_established(session));

    // Held back until long after everything else is over.
    sim.delay_matching(history_invite_2xx, Duration::from_secs(400));
    let now = sim.now();
    sim.client(alice)
        .request_recording(session, HISTORY_URI, now)
        .unwrap();
    sim.run_for_with(Duration::from_secs(2), accept).unwrap();
    assert!(sim
        .wire()
        .iter()
        .any(|w| w.to == addr(HISTORY) && w.is_sip("SIP/2.0 100 ")));
    assert_eq!(sim.history_ref(history).sessions().count(), 1);

    for &client in &c {
        let sessions: Vec<_> = sim.client_ref(client).sessions().collect();
        for s in sessions {
            let now = sim.now();
            let _ = sim.client(client).leave(s, now);
        }
    }
    sim.run_for_with(Duration::from_secs(200), accept).unwrap();
    // The INVITE was CANCELled and the recording ended.
    assert!(sim
        .wire()
        .iter()
        .any(|w| w.from == addr(HISTORY) && w.is_sip("CANCEL ")));
    assert_eq!(sim.history_ref(history).sessions().count(), 0);
    assert!(sim.history_events(history).iter().any(|e| matches!(
        e,
        history::Event::SessionEnded {
            reason: history::EndReason::InviteFailed(408 | 487),
            ..
        }
    )));
    if let Err(e) = sim.run_until_idle_with(Duration::from_secs(600), accept) {
        panic!("not idle: {e}");
    }
}

/// Bob's 200 OK to the server's INVITE (every retransmission, every hop).
fn bobs_invite_2xx(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.starts_with("SIP/2.0 200 ")
        && text.contains(" INVITE\r\n")
        && text.contains("\r\nTo: <sip:bob@example.com>")
}

/// Alice invites Bob; Bob accepts, but his 200 OK never reaches the
/// server. Bob, who learnt the session's identity from the invitation,
/// has it recorded: the History Function joins with a recording leg
/// (13.3.1.2). Bob then leaves, his invitation fails, and no invitee is
/// left: 7.2.1.2 answers Alice's INVITE with the failure. The recording
/// leg is no invitee: it used to count as one that had not failed, so
/// Alice was never answered, and the server kept the session with the
/// History Function refreshing its leg (RFC 4028) for ever. Alice now
/// gets 480, the recording leg is released with BYE, and every node goes
/// idle.
#[test]
fn a_recording_leg_does_not_keep_a_failed_set_up_alive() {
    let (mut sim, history, c) = network();
    let (alice, bob) = (c[0], c[1]);
    sim.delay_matching(bobs_invite_2xx, Duration::from_secs(300));
    let now = sim.now();
    let session = sim
        .client(alice)
        .start_ad_hoc(&["sip:bob@example.com"], now)
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let bobs = sim.client_ref(bob).sessions().next().expect("Bob accepted");
    let now = sim.now();
    sim.client(bob)
        .request_recording(bobs, HISTORY_URI, now)
        .unwrap();
    sim.run_for_with(Duration::from_secs(2), accept).unwrap();
    assert!(
        sim.history_events(history)
            .iter()
            .any(|e| matches!(e, history::Event::RecordingStarted { .. })),
        "the History Function joined before Bob's invitation failed:\n{}",
        sim.ladder()
    );
    assert!(!sim.client_ref(alice).is_established(session));

    let now = sim.now();
    sim.client(bob).leave(bobs, now).unwrap();
    sim.run_for_with(Duration::from_secs(60), accept).unwrap();
    assert!(
        sim.client_events(alice).iter().any(|e| matches!(
            e,
            ClientEvent::SessionEnded { session: s, reason: oma_im::im::client::EndReason::Rejected(480) }
                if *s == session
        )),
        "Alice's INVITE is answered 480:\n{}",
        sim.ladder()
    );
    assert!(
        sim.wire()
            .iter()
            .any(|w| w.to == addr(HISTORY) && w.is_sip("BYE ")),
        "the recording leg is released with BYE:\n{}",
        sim.ladder()
    );
    assert_eq!(sim.history_ref(history).sessions().count(), 0);
    if let Err(e) = sim.run_until_idle_with(Duration::from_secs(900), accept) {
        panic!("not idle: {e}");
    }
}

/// Every 202 Accepted (each hop of each copy).
fn any_202(bytes: &[u8]) -> bool {
    bytes.starts_with(b"SIP/2.0 202")
}

/// `fuzz/corpus/group_session/refer-timed-out-after-terminated-notify-428a7235…`:
/// Alice asks for her session to be recorded; every 202 to her REFER is
/// held back past the REFER's Timer F (64*T1), while the History
/// Function's terminating NOTIFY reaches her and creates the REFER's
/// dialog (RFC 6665 §4.1.2.4). The REFER then times out: 408 is reported
/// and the request forgotten, but the dialog the NOTIFY created was kept
/// for ever — no subscription on it, no deadline — and Alice's client
/// never went idle. A REFER that fails (timeout or a non-2xx) leaves no
/// subscription (RFC 3515 §2.4.4), so the request's dialog ends with it.
#[test]
fn a_refer_timing_out_after_its_terminating_notify_leaves_no_dialog() {
    let (mut sim, _history, c) = network();
    let alice = c[0];
    let now = sim.now();
    let session = sim
        .client(alice)
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    assert!(sim.client_ref(alice).is_established(session));
    let dialogs_of_the_session = sim.client_ref(alice).user_agent().dialogs().count();

    sim.delay_matching(any_202, Duration::from_secs(100));
    let now = sim.now();
    sim.client(alice)
        .request_recording(session, HISTORY_URI, now)
        .unwrap();
    sim.run_for_with(Duration::from_secs(40), accept).unwrap();
    let events = sim.client_events(alice);
    assert!(events.iter().any(|e| matches!(
        e,
        ClientEvent::RecordingRequestNotified {
            terminated: true,
            ..
        }
    )));
    assert!(events
        .iter()
        .any(|e| matches!(e, ClientEvent::RecordingRequestAnswered { status: 408, .. })));
    assert_eq!(
        sim.client_ref(alice).user_agent().dialogs().count(),
        dialogs_of_the_session,
        "the REFER's dialog ended with it:\n{}",
        sim.ladder()
    );

    for &client in &c {
        let sessions: Vec<_> = sim.client_ref(client).sessions().collect();
        for s in sessions {
            let now = sim.now();
            let _ = sim.client(client).leave(s, now);
        }
    }
    if let Err(e) = sim.run_until_idle_with(Duration::from_secs(600), accept) {
        panic!("not idle: {e}");
    }
}
