//! RFC 3325: a P-Asserted-Identity is believed only from the trust domain.
//! Mallory writes alice's address in one; the IM Server and the History
//! Function take her for who her `From` says, marked unverified; the
//! crate's own IM Client never writes one.

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::dialog::RequestSpec;
use oma_im::im::history::{self, HistoryConfig, UnverifiedRequests};
use oma_im::im::server::{AuthorizationPolicy, Event};
use oma_im::im::trust::{TrustDomain, TrustedPeer};
use oma_im::sdp::Direction;
use oma_im::sip::Method;

use oma_im::sim::{Faults, WireKind};

use crate::support::im_history::{self as hs, HistoryApp, ScriptedPeer};
use crate::support::im_server::scenario::{
    adhoc_body, config, header, inviter_offer, status, Scenario,
};
use crate::support::im_server::{client_addr, CORE, FACTORY, SERVER};

const ALICE: &str = "sip:alice@example.com";
const BOB: &str = "sip:bob@example.com";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The final statuses the server sent to `user`'s INVITEs.
fn finals(sc: &Scenario, user: &str) -> Vec<u16> {
    sc.responses_to(user)
        .iter()
        .map(|r| status(r))
        .filter(|c| *c >= 200)
        .collect()
}

#[test]
fn a_forged_p_asserted_identity_from_outside_the_trust_domain_does_not_pass_an_allow_list() {
    let mut cfg = config();
    cfg.authorization = AuthorizationPolicy::AllowList(vec![ALICE.into()]);
    cfg.trust = TrustDomain::new().with_peer(TrustedPeer::host(addr(CORE).ip()));
    let mut sc = Scenario::new(cfg, &[("alice", &[]), ("bob", &[200])]);
    // Mallory goes around the core, straight to the server.
    sc.add_client("mallory", &[], addr(SERVER));
    let (ct, body) = adhoc_body(&inviter_offer("mallory", "message/cpim"), &[BOB]);
    let pai = format!("<{ALICE}>");
    sc.invite(
        "mallory",
        FACTORY,
        &[("P-Asserted-Identity", pai.as_str())],
        &ct,
        body,
    );
    sc.run(10);
    assert_eq!(finals(&sc, "mallory"), [403]);
    assert!(sc.invites_sent().is_empty(), "no INVITE fan-out");
    // Alice's own request, through the trusted core, is served.
    let (ct, body) = adhoc_body(&inviter_offer("alice", "message/cpim"), &[BOB]);
    sc.invite(
        "alice",
        FACTORY,
        &[("P-Asserted-Identity", pai.as_str())],
        &ct,
        body,
    );
    sc.run(10);
    assert_eq!(finals(&sc, "alice"), [200]);
    let invites = sc.invites_sent();
    assert_eq!(invites.len(), 1);
    assert_eq!(
        header(&invites[0], "Referred-By").as_deref(),
        Some("<sip:alice@example.com>")
    );
}

#[test]
fn without_a_trust_domain_the_originator_is_the_unverified_from() {
    // The default: nobody's P-Asserted-Identity is believed.
    let mut sc = Scenario::new(config(), &[("bob", &[200]), ("mallory", &[])]);
    let (ct, body) = adhoc_body(&inviter_offer("mallory", "message/cpim"), &[BOB]);
    let pai = format!("<{ALICE}>");
    sc.invite(
        "mallory",
        FACTORY,
        &[("P-Asserted-Identity", pai.as_str())],
        &ct,
        body,
    );
    sc.run(10);
    assert_eq!(finals(&sc, "mallory"), [200]);
    // Bob is told who really invited him.
    let invites = sc.invites_sent();
    assert_eq!(invites.len(), 1);
    assert_eq!(
        header(&invites[0], "Referred-By").as_deref(),
        Some("<sip:mallory@example.com>")
    );
    let joined: Vec<(String, bool)> = sc
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ParticipantJoined {
                address, verified, ..
            } => Some((address, verified)),
            _ => None,
        })
        .collect();
    // Bob is the address the server invited; mallory's is her own claim.
    assert!(joined.contains(&("sip:mallory@example.com".to_owned(), false)));
    assert!(joined.contains(&(BOB.to_owned(), true)));
    assert!(!joined.iter().any(|(a, _)| a == ALICE));
}

#[test]
fn the_crates_im_client_never_asserts_its_own_identity() {
    let mut net = crate::access::clients();
    let now = net.now();
    let alice = 2;
    net.client(alice).start_ad_hoc(&[BOB], now).unwrap();
    crate::access::run_accepting(&mut net, 10);
    let clients: Vec<SocketAddr> = ["alice", "bob", "mallory"].map(client_addr).to_vec();
    let mut seen = 0;
    for record in net.wire().iter().filter(|r| clients.contains(&r.from)) {
        if let Ok(msg) = oma_im::sip::parse_message(&record.bytes) {
            seen += 1;
            assert_eq!(
                msg.p_asserted_identity().count(),
                0,
                "{}",
                record.first_line()
            );
        }
    }
    assert!(seen > 4, "the clients spoke SIP");
}

// ----- the History Function -----

const HISTORY: &str = "10.0.3.2:5060";
const HISTORY_CORE: &str = "10.0.3.1:5060";
const MALLORY: &str = "10.0.3.99:5060";
const IDENTITY: &str = "sip:conf-7@im.example.com";

/// The History Function, trusting only its core, and mallory (node 0)
/// sending straight to it.
fn history_net(unverified: UnverifiedRequests) -> hs::Net {
    let mut net = hs::Net::new(Faults::PERFECT, 17);
    let mallory = ScriptedPeer::new(addr(MALLORY), addr(HISTORY), 5, hs::Script::default());
    let mut c = HistoryConfig::new(
        "sip:history@im.example.com",
        addr(HISTORY),
        addr(HISTORY_CORE),
    );
    c.seed = 23.into();
    c.trust = TrustDomain::new().with_peer(TrustedPeer::host(addr(HISTORY_CORE).ip()));
    c.unverified_requests = unverified;
    net.add_scripted("mallory", mallory);
    net.add_history(c, HistoryApp::new(&[ALICE]));
    net
}

fn refer(net: &mut hs::Net, pai: Option<&str>) {
    let now = net.now();
    let mut spec = RequestSpec::new(
        Method::Refer,
        format!("sip:history@{HISTORY}"),
        "<sip:mallory@example.com>",
        "<sip:history@im.example.com>",
    )
    .with_header("Refer-To", format!("<{IDENTITY}>"));
    if let Some(p) = pai {
        spec = spec.with_header("P-Asserted-Identity", format!("<{p}>"));
    }
    net.node(0).scripted().send(spec, now);
}

fn history_events(net: &hs::Net) -> Vec<history::Event> {
    net.history_events()
}

/// The final statuses the History Function sent to mallory, for `method`.
fn history_finals(net: &hs::Net, method: Method<'_>) -> Vec<u16> {
    net.wire()
        .iter()
        .filter(|r| r.from == addr(HISTORY) && r.to == addr(MALLORY))
        .filter_map(|r| {
            let m = hs::sip(&r.bytes);
            let code = m.status_code()?;
            (code >= 200 && m.cseq()?.ok()?.method == method).then_some(code)
        })
        .collect()
}

fn run_history(net: &mut hs::Net) {
    let until = net.now() + Duration::from_secs(40);
    net.run_until(until);
}

#[test]
fn the_history_function_refuses_a_recording_without_a_trusted_identity() {
    let mut net = history_net(UnverifiedRequests::Refuse);
    refer(&mut net, None);
    refer(&mut net, Some(ALICE));
    run_history(&mut net);
    assert_eq!(history_finals(&net, Method::Refer), [403, 403]);
    assert!(
        !net.wire()
            .iter()
            .any(|r| r.from == addr(HISTORY) && r.bytes.starts_with(b"INVITE ")),
        "nothing was recorded"
    );
    assert!(!history_events(&net)
        .iter()
        .any(|e| matches!(e, history::Event::RecordingRequested { .. })));
}

#[test]
fn an_accepted_unverified_recording_request_is_marked_so() {
    let mut net = history_net(UnverifiedRequests::AcceptMarked);
    refer(&mut net, Some(ALICE));
    run_history(&mut net);
    let asked: Vec<(String, bool)> = history_events(&net)
        .into_iter()
        .filter_map(|e| match e {
            history::Event::RecordingRequested {
                requester,
                verified,
                ..
            } => Some((requester, verified)),
            _ => None,
        })
        .collect();
    // The forged P-Asserted-Identity is ignored: the From, unverified.
    assert_eq!(asked, [("sip:mallory@example.com".to_owned(), false)]);
}

#[test]
fn the_history_function_refuses_a_retrieval_with_a_forged_identity() {
    let mut net = history_net(UnverifiedRequests::Refuse);
    let now = net.now();
    let mallory = net.node(0).scripted();
    let sdp = String::from_utf8(mallory.retrieval_offer(Direction::RecvOnly)).unwrap();
    let list = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<resource-lists \
        xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>\
        <entry uri=\"sip:msg-1@history.example.com\"/></list></resource-lists>";
    let body = format!(
        "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\n\
         Content-Type: application/resource-lists+xml\r\nContent-Disposition: recipient-list\r\n\r\n\
         {list}\r\n--b--\r\n"
    );
    let spec = RequestSpec::new(
        Method::Invite,
        format!("sip:history@{HISTORY}"),
        format!("<{ALICE}>"),
        "<sip:history@im.example.com>",
    )
    .with_header("Accept-Contact", "*;+g.oma.sip-im")
    .with_header("P-Asserted-Identity", format!("<{ALICE}>"))
    .with_body("multipart/mixed;boundary=b", body.into_bytes());
    mallory.send(spec, now);
    run_history(&mut net);
    assert_eq!(history_finals(&net, Method::Invite), [403]);
    assert!(!history_events(&net)
        .iter()
        .any(|e| matches!(e, history::Event::RetrievalRequested { .. })));
    assert!(
        !net.wire()
            .iter()
            .any(|r| r.kind == WireKind::Msrp && r.from.ip() == addr(HISTORY).ip()),
        "no history sent"
    );
}
