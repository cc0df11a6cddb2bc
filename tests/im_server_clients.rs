//! The controlling IM Server with real IM Clients ([`ImClient`]) as inviter
//! and invitees, end to end over the in-memory network: SIP through the
//! SIP/IP Core as bytes, MSRP as TCP segments between each client and the
//! server's MSRP switch.

mod support;

use std::time::Duration;

use oma_im::im::client::{Event as ClientEvent, ImClient};
use oma_im::im::server::Event;
use support::im::{client_config, ImNode};
use support::im_server::scenario::config;
use support::im_server::{client_addr, Peer, PeerEvent, CORE, FACTORY, SERVER};
use support::{Conditions, Network};

const USERS: [&str; 3] = ["alice", "bob", "carol"];

/// Core (0), bridged server (1), then Alice, Bob and Carol as IM Clients
/// (2, 3, 4). Invitees accept every invitation.
fn network() -> Network<Peer> {
    let mut cfg = config();
    cfg.msrp_authority = SERVER.to_owned();
    let mut net = Network::new(Conditions::PERFECT, 5);
    net.add(CORE.parse().unwrap(), Peer::Core(Default::default()));
    net.add(SERVER.parse().unwrap(), Peer::bridged_server(cfg));
    for (i, user) in USERS.iter().enumerate() {
        let mut c = client_config(
            user,
            client_addr(user),
            CORE.parse().unwrap(),
            100 + i as u64,
        );
        c.conference_factory_uri = FACTORY.to_owned();
        net.add(client_addr(user), Peer::Im(Box::new(ImNode::new(c))));
    }
    net
}

fn client(net: &mut Network<Peer>, index: usize) -> &mut ImClient {
    match net.node(index) {
        Peer::Im(node) => &mut node.client,
        _ => panic!("not an IM Client"),
    }
}

/// Runs, accepting every invitation at the invitees.
fn run(net: &mut Network<Peer>, secs: u64) {
    let until = net.now + Duration::from_secs(secs);
    net.run_until(until, |_, node, event, now| {
        if let (Peer::Im(n), PeerEvent::Im(ClientEvent::InvitationReceived { session, .. })) =
            (node, event)
        {
            n.client.accept(*session, now).expect("accept");
        }
    });
}

fn client_events(net: &Network<Peer>, index: usize) -> Vec<ClientEvent> {
    net.events
        .iter()
        .filter(|(i, _)| *i == index)
        .filter_map(|(_, e)| match e {
            PeerEvent::Im(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn im_clients_set_up_an_ad_hoc_session_through_the_server() {
    let mut net = network();
    let now = net.now;
    let session = client(&mut net, 2)
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    run(&mut net, 10);
    // The inviter stored the IM Session Identity of the focus (7.1.1.3).
    let identity = client(&mut net, 2)
        .session_identity(session)
        .cloned()
        .expect("identity");
    assert!(identity.is_focus);
    let created = net.events.iter().find_map(|(_, e)| match e {
        PeerEvent::Server(Event::SessionCreated { identity, .. }) => Some(identity.clone()),
        _ => None,
    });
    assert_eq!(created.as_deref(), Some(identity.uri.as_str()));
    assert!(client(&mut net, 2).is_established(session));
    // RFC 5366 §3: the URI-list INVITE requires the extension, and the
    // Conference-factory-URI supports it.
    let invite = net
        .wire
        .iter()
        .find(|r| r.bytes.starts_with(format!("INVITE {FACTORY} ").as_bytes()))
        .expect("Alice's INVITE to the factory")
        .bytes
        .clone();
    let m = oma_im::sip::parse_message(&invite).unwrap();
    let require = m.require().expect("Require").unwrap();
    assert!(require.contains(oma_im::sip::OptionTag::RecipientListInvite));
    // Each invitee was invited by the focus on Alice's behalf.
    for index in [3, 4] {
        let invited = client_events(&net, index)
            .into_iter()
            .find_map(|e| match e {
                ClientEvent::InvitationReceived {
                    originator,
                    identity,
                    ..
                } => Some((originator, identity)),
                _ => None,
            });
        let (originator, their_identity) = invited.expect("an invitation");
        assert_eq!(originator, FACTORY);
        assert_eq!(their_identity.map(|i| i.uri), Some(identity.uri.clone()));
    }
    let joined = net
        .events
        .iter()
        .filter(|(_, e)| matches!(e, PeerEvent::Server(Event::ParticipantJoined { .. })))
        .count();
    assert_eq!(joined, 3);
    // Alice's Allow was stored by the server and Alice stored the server's.
    assert!(client(&mut net, 2)
        .peer_allow(session)
        .is_some_and(|m| m.iter().any(|x| x == "SUBSCRIBE")));
}

#[test]
fn a_message_from_one_im_client_reaches_the_others() {
    let mut net = network();
    let now = net.now;
    let session = client(&mut net, 2)
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    run(&mut net, 10);
    let now = net.now;
    client(&mut net, 2)
        .send_message(session, "text/plain", b"Hello from Alice", false, now)
        .expect("message sent");
    run(&mut net, 10);
    for index in [3, 4] {
        let got = client_events(&net, index)
            .into_iter()
            .find_map(|e| match e {
                ClientEvent::MessageReceived { from, body, .. } => Some((from, body)),
                _ => None,
            });
        let (from, body) = got.expect("a message");
        assert_eq!(body, b"Hello from Alice");
        assert_eq!(from.as_deref(), Some("sip:alice@example.com"));
    }
    // 7.1.1.3: the inviter's user plane receives as well — Bob answers on
    // his leg, through the server's switch.
    let bob_session = client_events(&net, 3)
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::InvitationReceived { session, .. } => Some(session),
            _ => None,
        })
        .unwrap();
    let now = net.now;
    client(&mut net, 3)
        .send_message(bob_session, "text/plain", b"Hello from Bob", false, now)
        .expect("message sent");
    run(&mut net, 10);
    let got = client_events(&net, 2).into_iter().find_map(|e| match e {
        ClientEvent::MessageReceived {
            session: s,
            from,
            body,
            ..
        } if s == session => Some((from, body)),
        _ => None,
    });
    let (from, body) = got.expect("Alice got Bob's message");
    assert_eq!(body, b"Hello from Bob");
    assert_eq!(from.as_deref(), Some("sip:bob@example.com"));
    // Only over MSRP: no SIP request carried it.
    assert!(!net
        .wire
        .iter()
        .any(|r| !r.bytes.starts_with(b"MSRP ")
            && r.bytes.windows(14).any(|w| w == b"Hello from Bob")));
}

/// Alice (an IMS IM Client) sets up a session through `core`, with a server
/// that trusts the core and asks the application to authorize; returns the
/// originator and whether it was verified, as the question reported them.
fn authorization_asked(core: support::im_server::Core) -> (String, bool, Vec<u8>, Vec<u8>) {
    use oma_im::im::server::{AuthorizationPolicy, Input};
    use oma_im::im::trust::{TrustDomain, TrustedPeer};
    let mut cfg = config();
    cfg.msrp_authority = SERVER.to_owned();
    cfg.authorization = AuthorizationPolicy::Ask;
    cfg.trust = TrustDomain::new().with_peer(TrustedPeer::host(
        CORE.parse::<std::net::SocketAddr>().unwrap().ip(),
    ));
    let mut net = Network::new(Conditions::PERFECT, 6);
    net.add(CORE.parse().unwrap(), Peer::Core(core));
    net.add(SERVER.parse().unwrap(), Peer::bridged_server(cfg));
    let mut c = client_config("alice", client_addr("alice"), CORE.parse().unwrap(), 100);
    c.conference_factory_uri = FACTORY.to_owned();
    c.profile = oma_im::im::SipIpCoreProfile::Ims;
    net.add(client_addr("alice"), Peer::Im(Box::new(ImNode::new(c))));
    let now = net.now;
    client(&mut net, 2)
        .start_ad_hoc(&["sip:bob@example.com"], now)
        .unwrap();
    let until = net.now + Duration::from_secs(5);
    net.run_until(until, |_, node, event, now| {
        if let (
            Peer::Server { server, .. },
            PeerEvent::Server(Event::AuthorizationRequested { request, .. }),
        ) = (node, event)
        {
            server.handle_input(
                Input::Authorization {
                    request: *request,
                    allowed: false,
                },
                now,
            );
        }
    });
    let asked = net
        .events
        .iter()
        .find_map(|(_, e)| match e {
            PeerEvent::Server(Event::AuthorizationRequested {
                originator,
                verified,
                ..
            }) => Some((originator.clone(), *verified)),
            _ => None,
        })
        .expect("the authorization question");
    let alice = client_addr("alice");
    let server: std::net::SocketAddr = SERVER.parse().unwrap();
    let invite = |from: Option<std::net::SocketAddr>, to: Option<std::net::SocketAddr>| {
        net.wire
            .iter()
            .find(|r| {
                r.bytes.starts_with(b"INVITE ")
                    && from.is_none_or(|f| r.from == f)
                    && to.is_none_or(|t| r.to == t)
            })
            .expect("the INVITE")
            .bytes
            .clone()
    };
    (
        asked.0,
        asked.1,
        invite(Some(alice), None),
        invite(None, Some(server)),
    )
}

#[test]
fn the_authenticated_originator_is_the_identity_the_trusted_core_asserted() {
    // 7.2.1.2 step 2: the IMS core (the P-CSCF) asserts the identity the
    // client preferred; the server verifies it came from its trust domain.
    let (originator, verified, sent, received) =
        authorization_asked(support::im_server::Core::ims());
    assert_eq!(originator, "sip:alice@example.com");
    assert!(verified);
    let sent = oma_im::sip::parse_message(&sent).unwrap();
    assert!(sent.p_asserted_identity().next().is_none());
    let received = oma_im::sip::parse_message(&received).unwrap();
    assert!(received.p_asserted_identity().next().is_some());
    // Without the core's assertion, what the client wrote (its
    // P-Preferred-Identity, its From) is not taken as verified.
    let (originator, verified, sent, received) =
        authorization_asked(support::im_server::Core::default());
    assert_eq!(originator, "sip:alice@example.com");
    assert!(!verified);
    let sent = oma_im::sip::parse_message(&sent).unwrap();
    assert!(sent
        .header(oma_im::sip::HeaderName::parse("P-Preferred-Identity"))
        .is_some());
    let received = oma_im::sip::parse_message(&received).unwrap();
    assert!(received.p_asserted_identity().next().is_none());
}
