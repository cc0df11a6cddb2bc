//! Pager Mode (RFC 3428) with real IM Clients and the real IM Server on the
//! simulator ([`oma_im::sim`]), every message as bytes: a MESSAGE to one user, a
//! URI-list MESSAGE fanned out by the server (RFC 5365), the refusals, and
//! the switch to Large Message mode over the Pager Mode size.

mod support;

use std::time::Duration;

use oma_im::im::client::{Event as ClientEvent, PagerMessageId, Sent};
use oma_im::im::server::{Event, PredefinedGroup, ServerConfig};
use oma_im::sim::{Faults, WireRecord};
use oma_im::sip::parse_message;
use support::im::client_config;
use support::im_server::scenario::config;
use support::im_server::{client_addr, core, Group, CORE, FACTORY, SERVER};

const USERS: [&str; 3] = ["alice", "bob", "carol"];
const GROUP: &str = "sip:friends@im.example.com";

/// Core (0), server (1), Alice, Bob and Carol as IM Clients (2, 3, 4).
fn network(server: ServerConfig, conditions: Faults) -> Group {
    let mut net = Group::new(conditions, 21, core(), server);
    for (i, user) in USERS.iter().enumerate() {
        let mut c = client_config(
            user,
            client_addr(user),
            CORE.parse().unwrap(),
            300 + i as u64,
        );
        c.conference_factory_uri = FACTORY.to_owned();
        net.add_client(c);
    }
    net
}

fn server_config() -> ServerConfig {
    let mut cfg = config();
    cfg.msrp_authority = SERVER.to_owned();
    cfg.groups.push(PredefinedGroup {
        identity: GROUP.to_owned(),
        members: vec![
            "sip:alice@example.com".to_owned(),
            "sip:bob@example.com".to_owned(),
            "sip:carol@example.com".to_owned(),
        ],
        allow_anonymity: false,
    });
    cfg
}

/// A received pager message: from, to, content type, body.
type Received = (Option<String>, Vec<String>, String, Vec<u8>);

/// The pager messages `index` received.
fn received(net: &Group, index: usize) -> Vec<Received> {
    net.client_events(index)
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::PagerMessageReceived {
                from,
                to,
                content_type,
                body,
                ..
            } => Some((from, to, content_type, body)),
            _ => None,
        })
        .collect()
}

fn answered(net: &Group, index: usize, message: PagerMessageId) -> Vec<u16> {
    net.client_events(index)
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::PagerMessageAnswered { message: m, status } if m == message => {
                Some(status)
            }
            _ => None,
        })
        .collect()
}

/// The MESSAGE requests that crossed the wire from `from` (deduplicated
/// retransmissions included once per branch).
fn messages_from(net: &Group, from: &str) -> Vec<WireRecord> {
    let addr: std::net::SocketAddr = from.parse().unwrap();
    let mut seen = std::collections::HashSet::new();
    net.wire()
        .iter()
        .filter(|r| r.from == addr && r.bytes.starts_with(b"MESSAGE "))
        .filter(|r| {
            let m = parse_message(&r.bytes).unwrap();
            let branch = m.top_via().unwrap().unwrap().branch().unwrap().to_owned();
            seen.insert(branch)
        })
        .cloned()
        .collect()
}

fn pager(sent: Sent) -> PagerMessageId {
    match sent {
        Sent::Pager(id) => id,
        other => panic!("sent as {other:?}"),
    }
}

fn run(net: &mut Group, secs: u64) {
    let until = net.now() + Duration::from_secs(secs);
    net.run_until(until, |_, _, _, _| {});
}

#[test]
fn a_pager_message_to_one_user_is_one_message_with_cpim() {
    let mut net = network(server_config(), Faults::PERFECT);
    let now = net.now();
    let id = pager(
        net.client(2)
            .send_pager_message(&["sip:bob@example.com"], "text/plain", b"Hi Bob", now)
            .unwrap(),
    );
    run(&mut net, 40);
    let alice = client_addr("alice").to_string();
    let sent = messages_from(&net, &alice);
    assert_eq!(sent.len(), 1);
    let m = parse_message(&sent[0].bytes).unwrap();
    assert_eq!(m.request_line().unwrap().uri, "sip:bob@example.com");
    assert!(m.content_type().unwrap().unwrap().is("message", "cpim"));
    let cpim = oma_im::body::cpim::CpimMessage::parse(m.body()).unwrap();
    assert_eq!(cpim.from.unwrap().uri, "sip:alice@example.com");
    assert_eq!(cpim.to[0].uri, "sip:bob@example.com");
    let got = received(&net, 3);
    assert_eq!(
        got,
        [(
            Some("sip:alice@example.com".to_owned()),
            vec!["sip:bob@example.com".to_owned()],
            "text/plain".to_owned(),
            b"Hi Bob".to_vec()
        )]
    );
    assert!(received(&net, 4).is_empty(), "Carol got nothing");
    assert_eq!(answered(&net, 2, id), [200]);
    assert!(net.is_idle());
}

fn list_message_reaches_each_recipient_once(conditions: Faults) {
    let mut net = network(server_config(), conditions);
    let now = net.now();
    let id = pager(
        net.client(2)
            .send_pager_message(
                &["sip:bob@example.com", "sip:carol@example.com"],
                "text/plain",
                b"Hello both",
                now,
            )
            .unwrap(),
    );
    run(&mut net, 120);
    // One MESSAGE to the factory, with the list and the extension required.
    let alice = client_addr("alice").to_string();
    let sent = messages_from(&net, &alice);
    assert_eq!(sent.len(), 1);
    let m = parse_message(&sent[0].bytes).unwrap();
    assert_eq!(m.request_line().unwrap().uri, FACTORY);
    let require = m.require().unwrap().unwrap();
    assert!(require.contains(oma_im::sip::OptionTag::RecipientListMessage));
    // The server fanned it out: one MESSAGE per recipient, from Alice.
    let fanned = messages_from(&net, SERVER);
    assert_eq!(fanned.len(), 2);
    for record in &fanned {
        let f = parse_message(&record.bytes).unwrap();
        assert_eq!(
            f.from().unwrap().unwrap().uri.to_string(),
            "sip:alice@example.com"
        );
    }
    for index in [3, 4] {
        let got = received(&net, index);
        assert_eq!(got.len(), 1, "node {index} got it exactly once");
        let (from, to, content_type, body) = &got[0];
        assert_eq!(from.as_deref(), Some("sip:alice@example.com"));
        assert_eq!(to, &["sip:bob@example.com", "sip:carol@example.com"]);
        assert_eq!(content_type, "text/plain");
        assert_eq!(body, b"Hello both");
    }
    assert_eq!(answered(&net, 2, id), [202], "accepted by the exploder");
    let relayed: Vec<_> = net
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::PagerMessageRelayed {
                originator,
                recipients,
                ..
            } => Some((originator, recipients)),
            _ => None,
        })
        .collect();
    assert_eq!(relayed, [("sip:alice@example.com".to_owned(), 2)]);
    run(&mut net, 64);
    assert!(net.is_idle());
}

#[test]
fn a_list_message_is_fanned_out_by_the_server() {
    list_message_reaches_each_recipient_once(Faults::PERFECT);
}

#[test]
fn a_list_message_over_a_lossy_network_reaches_each_recipient_once() {
    list_message_reaches_each_recipient_once(Faults::lossy(20, 10, Duration::from_millis(30)));
}

#[test]
fn a_list_over_the_limit_is_refused_and_nobody_gets_a_message() {
    let mut cfg = server_config();
    cfg.limits.max_adhoc_participants = 1;
    let mut net = network(cfg, Faults::PERFECT);
    let now = net.now();
    let id = pager(
        net.client(2)
            .send_pager_message(
                &["sip:bob@example.com", "sip:carol@example.com"],
                "text/plain",
                b"too many",
                now,
            )
            .unwrap(),
    );
    run(&mut net, 40);
    assert_eq!(answered(&net, 2, id), [403]);
    let server: std::net::SocketAddr = SERVER.parse().unwrap();
    let refusal = net
        .wire()
        .iter()
        .find(|r| r.from == server && r.bytes.starts_with(b"SIP/2.0 403"))
        .expect("the 403");
    let warning = parse_message(&refusal.bytes)
        .unwrap()
        .header(oma_im::sip::HeaderName::Warning)
        .unwrap()
        .value
        .to_owned();
    assert!(warning.contains("too many recipients"), "{warning}");
    assert!(messages_from(&net, SERVER).is_empty());
    assert!(received(&net, 3).is_empty() && received(&net, 4).is_empty());
}

#[test]
fn a_message_to_a_group_reaches_the_other_members_and_not_from_a_stranger() {
    let mut net = network(server_config(), Faults::PERFECT);
    let now = net.now();
    let id = pager(
        net.client(2)
            .send_pager_message(&[GROUP], "text/plain", b"to the group", now)
            .unwrap(),
    );
    run(&mut net, 40);
    assert_eq!(answered(&net, 2, id), [202]);
    for index in [3, 4] {
        let got = received(&net, index);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].3, b"to the group");
    }
    assert!(received(&net, 2).is_empty(), "not back to the sender");

    // Mallory is no member: refused, nothing fanned out.
    let mut cfg = server_config();
    cfg.groups[0]
        .members
        .retain(|m| m != "sip:alice@example.com");
    let mut net = network(cfg, Faults::PERFECT);
    let now = net.now();
    let id = pager(
        net.client(2)
            .send_pager_message(&[GROUP], "text/plain", b"let me in", now)
            .unwrap(),
    );
    run(&mut net, 40);
    assert_eq!(answered(&net, 2, id), [403]);
    assert!(messages_from(&net, SERVER).is_empty());
}

#[test]
fn content_over_the_pager_size_goes_in_large_message_mode() {
    let mut net = network(server_config(), Faults::PERFECT);
    let now = net.now();
    let max = net.client(2).config().limits.max_pager_message_size;
    let body = vec![b'x'; max + 1];
    let sent = net
        .client(2)
        .send_pager_message(&["sip:bob@example.com"], "text/plain", &body, now)
        .unwrap();
    assert!(matches!(sent, Sent::LargeMessage(_)), "{sent:?}");
    let alice = client_addr("alice").to_string();
    run(&mut net, 1);
    assert!(messages_from(&net, &alice).is_empty());
    let alice: std::net::SocketAddr = alice.parse().unwrap();
    assert!(net
        .wire()
        .iter()
        .any(|r| r.from == alice && r.bytes.starts_with(b"INVITE sip:bob@example.com ")));
    // At the limit it is still Pager Mode.
    let now = net.now();
    let at_limit = vec![b'y'; max];
    let sent = net
        .client(2)
        .send_pager_message(&["sip:bob@example.com"], "text/plain", &at_limit, now)
        .unwrap();
    assert!(matches!(sent, Sent::Pager(_)));
}
