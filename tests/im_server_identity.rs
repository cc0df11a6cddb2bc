//! 7.2.1.2 step 2 with real IM Clients and the IM Server: the Authenticated
//! Originator's IM Address is the identity a trusted core asserted, and
//! what a client wrote itself is not taken as verified. Through bytes on
//! the simulator ([`oma_im::sim`]), with a core that plays the IMS P-CSCF.

mod support;

use std::time::Duration;

use oma_im::im::server::Event;
use oma_im::sim::{Faults, Proxy, SimEvent};
use support::im::client_config;
use support::im_server::scenario::config;
use support::im_server::{client_addr, core, ims_core, Group, CORE, FACTORY, SERVER};

/// Alice (an IMS IM Client) sets up a session through `core`, with a server
/// that trusts the core and asks the application to authorize; returns the
/// originator and whether it was verified, as the question reported them.
fn authorization_asked(core: Proxy) -> (String, bool, Vec<u8>, Vec<u8>) {
    use oma_im::im::server::{AuthorizationPolicy, Input};
    use oma_im::im::trust::{TrustDomain, TrustedPeer};
    let mut cfg = config();
    cfg.msrp_authority = SERVER.to_owned();
    cfg.authorization = AuthorizationPolicy::Ask;
    cfg.trust = TrustDomain::new().with_peer(TrustedPeer::host(
        CORE.parse::<std::net::SocketAddr>().unwrap().ip(),
    ));
    let mut net = Group::new(Faults::PERFECT, 6, core, cfg);
    let mut c = client_config("alice", client_addr("alice"), CORE.parse().unwrap(), 100);
    c.conference_factory_uri = FACTORY.to_owned();
    c.profile = oma_im::im::SipIpCoreProfile::Ims;
    net.add_client(c);
    let now = net.now();
    net.client(2)
        .start_ad_hoc(&["sip:bob@example.com"], now)
        .unwrap();
    let until = net.now() + Duration::from_secs(5);
    net.run_until(until, |_, node, event, now| {
        if let SimEvent::Server(Event::AuthorizationRequested { request, .. }) = event {
            node.server().handle_input(
                Input::Authorization {
                    request: *request,
                    allowed: false,
                },
                now,
            );
        }
    });
    let asked = net
        .server_events()
        .into_iter()
        .find_map(|e| match e {
            Event::AuthorizationRequested {
                originator,
                verified,
                ..
            } => Some((originator, verified)),
            _ => None,
        })
        .expect("the authorization question");
    let alice = client_addr("alice");
    let server: std::net::SocketAddr = SERVER.parse().unwrap();
    let invite = |from: Option<std::net::SocketAddr>, to: Option<std::net::SocketAddr>| {
        net.wire()
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
    let (originator, verified, sent, received) = authorization_asked(ims_core());
    assert_eq!(originator, "sip:alice@example.com");
    assert!(verified);
    let sent = oma_im::sip::parse_message(&sent).unwrap();
    assert!(sent.p_asserted_identity().next().is_none());
    let received = oma_im::sip::parse_message(&received).unwrap();
    assert!(received.p_asserted_identity().next().is_some());
    // Without the core's assertion, what the client wrote (its
    // P-Preferred-Identity, its From) is not taken as verified.
    let (originator, verified, sent, received) = authorization_asked(core());
    assert_eq!(originator, "sip:alice@example.com");
    assert!(!verified);
    let sent = oma_im::sip::parse_message(&sent).unwrap();
    assert!(sent
        .header(oma_im::sip::HeaderName::parse("P-Preferred-Identity"))
        .is_some());
    let received = oma_im::sip::parse_message(&received).unwrap();
    assert!(received.p_asserted_identity().next().is_none());
}
