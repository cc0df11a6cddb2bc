//! Each role parses what it receives under its own configured limits
//! (`limits.layers`), not under the crate's defaults: the same bytes that a
//! client with default limits takes are refused by a client whose limits
//! were tightened. Every message crosses the simulator ([`oma_im::sim`]) as
//! bytes.

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::im::client::{ClientConfig, Event};
use oma_im::sim::{ClientId, Proxy, Sim};

const CORE: &str = "10.0.0.1:5060";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Alice and Bob in a One-to-One session; Bob's configuration is
/// `bob_config` applied to the defaults.
fn one_to_one(bob_config: impl FnOnce(&mut ClientConfig)) -> (Sim, ClientId, ClientId) {
    let config = |user: &str, ip: &str| {
        let mut c = ClientConfig::new(
            &format!("sip:{user}@example.com"),
            "sip:factory@im.example.com",
            addr(&format!("{ip}:5060")),
            addr(CORE),
        );
        c.msrp_addr = addr(&format!("{ip}:2855"));
        c
    };
    let mut sim = Sim::new(21);
    let alice = sim.add_client("alice", config("alice", "10.0.0.21"));
    let mut bob_cfg = config("bob", "10.0.0.22");
    bob_cfg.seed = 2.into();
    bob_config(&mut bob_cfg);
    let bob = sim.add_client("bob", bob_cfg);
    sim.add_proxy(
        "core",
        addr(CORE),
        Proxy::new()
            .with_user("sip:alice@example.com", addr("10.0.0.21:5060"))
            .with_user("sip:bob@example.com", addr("10.0.0.22:5060")),
    );
    sim.auto_accept(bob, true);
    (sim, alice, bob)
}

/// Alice starts typing to Bob and then sends a message: which composing
/// changes and messages Bob saw.
fn typing_then_message(sim: &mut Sim, alice: ClientId, bob: ClientId) -> (usize, usize) {
    let now = sim.now();
    let session = sim
        .client(alice)
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    let now = sim.now();
    sim.client(alice).set_composing(session, true, now).unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let now = sim.now();
    sim.client(alice)
        .send_message(session, "text/plain", b"hello", false, now)
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let events = sim.client_events(bob);
    let composing = events
        .iter()
        .filter(|e| matches!(e, Event::ComposingChanged { active: true, .. }))
        .count();
    let messages = events
        .iter()
        .filter(|e| matches!(e, Event::MessageReceived { body, .. } if body == b"hello"))
        .count();
    let now = sim.now();
    sim.client(alice).leave(session, now).unwrap();
    sim.run_until_idle(Duration::from_secs(120)).unwrap();
    (composing, messages)
}

/// An is-composing document of a few hundred bytes: shown by a client with
/// the default XML limits, ignored by one whose `layers.xml` allows 64-byte
/// documents — its messages still arrive.
#[test]
fn a_client_parses_is_composing_with_its_own_xml_limits() {
    let (mut sim, alice, bob) = one_to_one(|_| {});
    assert_eq!(typing_then_message(&mut sim, alice, bob), (1, 1));

    let (mut sim, alice, bob) = one_to_one(|c| c.limits.layers.xml.max_document_size = 64);
    assert_eq!(typing_then_message(&mut sim, alice, bob), (0, 1));
}

/// The CPIM wrapper of a received MSRP message is parsed under the
/// client's `layers.mime`: with room for one CPIM header field, Alice's
/// wrapper (From, To, DateTime, ...) does not parse and the message is
/// handed out unwrapped, its sender the session's peer.
#[test]
fn a_client_parses_cpim_wrappers_with_its_own_mime_limits() {
    let (mut sim, alice, bob) = one_to_one(|c| c.limits.layers.mime.max_headers = 1);
    let now = sim.now();
    let session = sim
        .client(alice)
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    let now = sim.now();
    sim.client(alice)
        .send_message(session, "text/plain", b"hello", false, now)
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let received = sim.client_events(bob).into_iter().find_map(|e| match e {
        Event::MessageReceived {
            content_type, body, ..
        } => Some((content_type.clone(), body.clone())),
        _ => None,
    });
    let (content_type, body) = received.expect("the message arrived");
    assert_eq!(content_type, "message/cpim", "handed out unwrapped");
    assert!(body.ends_with(b"hello"));
}

/// Mallory sends an IM Server an OPTIONS whose From carries ten
/// parameters. A server whose `layers.sip.values` allow four refuses it
/// statelessly with 400, naming the From; one with the default value limits
/// (32 parameters) answers it as any OPTIONS.
#[test]
fn a_server_checks_header_values_under_its_own_value_limits() {
    use oma_im::im::server::ServerConfig;
    use oma_im::sim::RawPeer;
    use oma_im::transaction::Transport;

    let answer = |max_params: Option<usize>| {
        let mut sim = Sim::new(5);
        let mut config = ServerConfig::new(addr("10.0.0.10:5060"), addr(CORE), "im.example.com");
        if let Some(max_params) = max_params {
            config.limits.layers.sip.values.max_params = max_params;
        }
        sim.add_server("server", config);
        let mallory = sim.add_node("mallory", addr("10.0.0.66:5060"), None, RawPeer::new());
        let options = "OPTIONS sip:im.example.com SIP/2.0\r\n\
            Via: SIP/2.0/UDP 10.0.0.66:5060;branch=z9hG4bKm1\r\n\
            Max-Forwards: 70\r\n\
            From: <sip:mallory@example.com>;tag=m;p1;p2;p3;p4;p5;p6;p7;p8;p9\r\n\
            To: <sip:im.example.com>\r\n\
            Call-ID: m1@10.0.0.66\r\n\
            CSeq: 1 OPTIONS\r\n\
            Content-Length: 0\r\n\r\n";
        sim.custom(mallory)
            .send_sip(addr("10.0.0.10:5060"), Transport::Udp, options);
        sim.run_until_idle(Duration::from_secs(60)).unwrap();
        let received = sim.custom_ref(mallory).sip_received();
        assert_eq!(received.len(), 1, "one answer");
        String::from_utf8_lossy(&received[0].bytes).into_owned()
    };
    let refused = answer(Some(4));
    let status_line = refused.lines().next().unwrap();
    assert!(status_line.starts_with("SIP/2.0 400 "), "{refused}");
    assert!(status_line.contains("From"), "{refused}");
    let answered = answer(None);
    assert!(answered.starts_with("SIP/2.0 200 "), "{answered}");
}
