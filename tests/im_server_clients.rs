//! The controlling IM Server with real IM Clients ([`ImClient`]) as inviter
//! and invitees, end to end on the public simulator ([`oma_im::sim`]): SIP
//! through a stateless SIP/IP Core as bytes, MSRP connections opened,
//! accepted and routed by the simulator between each client and the
//! server's MSRP switch.

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::im::client::{ClientConfig, Event as ClientEvent};
use oma_im::im::server::{Event, ServerConfig};
use oma_im::sim::{ClientId, Proxy, ServerId, Sim, WireKind};

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

/// The core, the server, and Alice, Bob and Carol as IM Clients. Invitees
/// accept every invitation.
fn network() -> (Sim, ServerId, Vec<ClientId>) {
    let mut sim = Sim::new(5);
    let mut cfg = ServerConfig::new(addr(SERVER), addr(CORE), DOMAIN);
    cfg.conference_factory_uris.push(FACTORY.to_owned());
    cfg.allowed_accept_types = vec!["message/cpim".into(), "text/plain".into()];
    cfg.product = "oma-im/0.1".into();
    cfg.msrp_authority = "10.0.0.10:2855".into();
    cfg.seed = 7.into();
    let server = sim.add_server("server", cfg);
    let mut core = Proxy::new().with_domain(DOMAIN, addr(SERVER));
    let mut clients = Vec::new();
    for (i, (user, ip)) in USERS.iter().enumerate() {
        let sip = addr(&format!("{ip}:5060"));
        let uri = format!("sip:{user}@example.com");
        let mut c = ClientConfig::new(&uri, FACTORY, sip, addr(CORE));
        c.msrp_addr = addr(&format!("{ip}:2855"));
        c.product = "oma-im-test/1.0".to_owned();
        c.seed = (100 + i as u64).into();
        let id = sim.add_client(user, c);
        sim.auto_accept(id, true);
        clients.push(id);
        core = core.with_user(&uri, sip);
    }
    sim.add_proxy("core", addr(CORE), core);
    (sim, server, clients)
}

fn run(sim: &mut Sim, secs: u64) {
    if let Err(e) = sim.run_for(Duration::from_secs(secs)) {
        panic!("{e}");
    }
}

#[test]
fn im_clients_set_up_an_ad_hoc_session_through_the_server() {
    let (mut sim, server, c) = network();
    let now = sim.now();
    let session = sim
        .client(c[0])
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    run(&mut sim, 10);
    // The inviter stored the IM Session Identity of the focus (7.1.1.3).
    let identity = sim
        .client(c[0])
        .session_identity(session)
        .cloned()
        .expect("identity");
    assert!(identity.is_focus);
    let created = sim.server_events(server).into_iter().find_map(|e| match e {
        Event::SessionCreated { identity, .. } => Some(identity.clone()),
        _ => None,
    });
    assert_eq!(created.as_deref(), Some(identity.uri.as_str()));
    assert!(sim.client(c[0]).is_established(session));
    // RFC 5366 §3: the URI-list INVITE requires the extension, and the
    // Conference-factory-URI supports it.
    let invite = sim
        .wire()
        .iter()
        .find(|r| r.is_sip(&format!("INVITE {FACTORY} ")))
        .expect("Alice's INVITE to the factory")
        .bytes
        .clone();
    let m = oma_im::sip::parse_message(&invite).unwrap();
    let require = m.require().expect("Require").unwrap();
    assert!(require.contains(oma_im::sip::OptionTag::RecipientListInvite));
    // Each invitee was invited by the focus on Alice's behalf.
    for index in [1, 2] {
        let invited = sim
            .client_events(c[index])
            .into_iter()
            .find_map(|e| match e {
                ClientEvent::InvitationReceived {
                    originator,
                    identity,
                    ..
                } => Some((originator.clone(), identity.clone())),
                _ => None,
            });
        let (originator, their_identity) = invited.expect("an invitation");
        assert_eq!(originator, FACTORY);
        assert_eq!(their_identity.map(|i| i.uri), Some(identity.uri.clone()));
    }
    let joined = sim
        .server_events(server)
        .into_iter()
        .filter(|e| matches!(e, Event::ParticipantJoined { .. }))
        .count();
    assert_eq!(joined, 3);
    // Every client opened its MSRP connection to the server's switch.
    let opened = sim
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Open && r.to == addr("10.0.0.10:2855"))
        .count();
    assert_eq!(opened, 3);
    // Alice's Allow was stored by the server and Alice stored the server's.
    assert!(sim
        .client(c[0])
        .peer_allow(session)
        .is_some_and(|m| m.iter().any(|x| x == "SUBSCRIBE")));
}

#[test]
fn a_message_from_one_im_client_reaches_the_others() {
    let (mut sim, _server, c) = network();
    let now = sim.now();
    let session = sim
        .client(c[0])
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    run(&mut sim, 10);
    let now = sim.now();
    sim.client(c[0])
        .send_message(session, "text/plain", b"Hello from Alice", false, now)
        .expect("message sent");
    run(&mut sim, 10);
    for index in [1, 2] {
        let got = sim
            .client_events(c[index])
            .into_iter()
            .find_map(|e| match e {
                ClientEvent::MessageReceived { from, body, .. } => {
                    Some((from.clone(), body.clone()))
                }
                _ => None,
            });
        let (from, body) = got.expect("a message");
        assert_eq!(body, b"Hello from Alice");
        assert_eq!(from.as_deref(), Some("sip:alice@example.com"));
    }
    // 7.1.1.3: the inviter's user plane receives as well — Bob answers on
    // his leg, through the server's switch.
    let bob_session = sim
        .client_events(c[1])
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::InvitationReceived { session, .. } => Some(*session),
            _ => None,
        })
        .expect("Bob's invitation");
    let now = sim.now();
    sim.client(c[1])
        .send_message(bob_session, "text/plain", b"Hello from Bob", false, now)
        .expect("message sent");
    run(&mut sim, 10);
    let got = sim.client_events(c[0]).into_iter().find_map(|e| match e {
        ClientEvent::MessageReceived {
            session: s,
            from,
            body,
            ..
        } if *s == session => Some((from.clone(), body.clone())),
        _ => None,
    });
    let (from, body) = got.expect("Alice got Bob's message");
    assert_eq!(body, b"Hello from Bob");
    assert_eq!(from.as_deref(), Some("sip:bob@example.com"));
    // Only over MSRP: no SIP message carried it.
    assert!(!sim
        .wire()
        .iter()
        .any(|r| !r.bytes.starts_with(b"MSRP ")
            && r.bytes.windows(14).any(|w| w == b"Hello from Bob")));
}
