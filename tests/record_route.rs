//! Route sets through record-routing proxies (RFC 3261 §12.1.1, §12.1.2,
//! §12.2.1.1, §13.2.2.4, §16.4; RFC 6665 §4.1.2): every message crosses
//! the simulator ([`oma_im::sim`]) as bytes through a core (its
//! [`Proxy`](oma_im::sim::Proxy), record-routing) that plays two
//! loose-routing proxies. It adds two Record-Route values to every request
//! outside a dialog and drops every request inside a dialog that does not
//! name both in its Route header fields, as a real proxy drops what
//! bypasses it. The tests assert on what crossed the wire.

mod support;

use oma_im::dialog::{DialogId, DialogRequestSpec, Event as UaEvent};
use oma_im::sim::WireRecord;
use oma_im::sip::{parse_message, Method};
use support::im_server::scenario::{config, status, Scenario};
use support::im_server::{client_addr, record_routing_core, RECORD_ROUTES, SERVER};

/// The Route values of the requests a UAC sends in its dialog: the
/// Record-Route of the 2xx reversed (§12.1.2).
const UAC_ROUTES: [&str; 2] = [RECORD_ROUTES[1], RECORD_ROUTES[0]];
/// The Route values of the requests the UAS sends: the Record-Route of the
/// request in order (§12.1.1).
const UAS_ROUTES: [&str; 2] = RECORD_ROUTES;

fn values(bytes: &[u8], name: &str) -> Vec<String> {
    let m = parse_message(bytes).unwrap();
    m.header_values(oma_im::sip::HeaderName::parse(name))
        .flat_map(|h| h.value.split(',').map(|v| v.trim().to_owned()))
        .collect()
}

/// The start lines of the in-dialog requests the core dropped because
/// they bypassed its route set.
fn bypassed(sc: &mut Scenario) -> Vec<String> {
    sc.core().bypassed().map(str::to_owned).collect()
}

/// What `user` sent to the core.
fn sent_by<'w>(sc: &'w Scenario, user: &str) -> Vec<&'w WireRecord> {
    let addr = client_addr(user);
    sc.wire().iter().filter(|r| r.from == addr).collect()
}

fn requests<'w>(records: &[&'w WireRecord], method: &str) -> Vec<&'w WireRecord> {
    records
        .iter()
        .copied()
        .filter(|r| r.bytes.starts_with(format!("{method} ").as_bytes()))
        .collect()
}

/// The responses other than 100 to requests of `method`.
fn responses(records: &[&WireRecord], method: &str) -> Vec<Vec<u8>> {
    records
        .iter()
        .filter(|r| r.bytes.starts_with(b"SIP/2.0 ") && !r.bytes.starts_with(b"SIP/2.0 100"))
        .filter(|r| {
            parse_message(&r.bytes)
                .unwrap()
                .cseq()
                .unwrap()
                .unwrap()
                .method
                .as_str()
                == method
        })
        .map(|r| r.bytes.clone())
        .collect()
}

fn established(sc: &mut Scenario, user: &str) -> DialogId {
    sc.client(user)
        .events
        .iter()
        .find_map(|e| match e {
            UaEvent::DialogEstablished { dialog } => Some(*dialog),
            _ => None,
        })
        .expect("an established dialog")
}

fn terminated(sc: &mut Scenario, user: &str) -> bool {
    sc.client(user)
        .events
        .iter()
        .any(|e| matches!(e, UaEvent::DialogTerminated { .. }))
}

const OFFER: &str = "v=0\r\no=alice 1 1 IN IP4 10.0.0.21\r\ns=-\r\nc=IN IP4 10.0.0.21\r\n\
t=0 0\r\nm=message 7000 TCP/MSRP *\r\na=accept-types:message/cpim\r\n\
a=path:msrp://10.0.0.21:7000/alices;tcp\r\n";

/// Alice calls Bob, who rings, then answers: both the 180 and the 200
/// carry the Record-Route (the 200 confirms the early dialog the 180
/// created), and each side's requests in the dialog carry its route set.
#[test]
fn invite_dialog_route_sets_through_record_routing_proxies_in_both_directions() {
    let mut sc = Scenario::with_core(
        config(),
        &[("alice", &[]), ("bob", &[180, 200])],
        record_routing_core(),
    );
    sc.invite(
        "alice",
        "sip:bob@example.com",
        &[],
        "application/sdp",
        OFFER.as_bytes().to_vec(),
    );
    sc.run(5);
    let bob_sent = sent_by(&sc, "bob");
    let to_invite = responses(&bob_sent, "INVITE");
    let codes: Vec<u16> = to_invite.iter().map(|r| status(r)).collect();
    assert_eq!(codes, [180, 200], "Bob's answers");
    for response in &to_invite {
        assert_eq!(
            values(response, "Record-Route"),
            RECORD_ROUTES,
            "§12.1.1: {}",
            String::from_utf8_lossy(response)
        );
    }
    // The ACK of the 2xx is a request of the dialog: Alice's route set is
    // the 2xx's Record-Route reversed.
    let alice_sent = sent_by(&sc, "alice");
    let acks = requests(&alice_sent, "ACK");
    assert_eq!(acks.len(), 1);
    assert_eq!(values(&acks[0].bytes, "Route"), UAC_ROUTES);
    // Bob (the UAS) hangs up: his BYE follows the Record-Route in order.
    let dialog = established(&mut sc, "bob");
    let now = sc.now();
    sc.client("bob").ua.bye(dialog, now).unwrap();
    sc.run(5);
    let bob_sent = sent_by(&sc, "bob");
    let byes = requests(&bob_sent, "BYE");
    assert_eq!(byes.len(), 1);
    assert_eq!(values(&byes[0].bytes, "Route"), UAS_ROUTES);
    assert!(terminated(&mut sc, "alice"), "the BYE reached Alice");
    assert_eq!(bypassed(&mut sc), Vec::<String>::new());
    sc.run(64);
    assert!(sc.sim.is_idle());
}

/// A target refresh (UPDATE, re-INVITE) inside the dialog keeps the route
/// set (§12.2.1.2), and the UAC's BYE still follows it.
#[test]
fn target_refreshes_keep_the_route_set() {
    let mut sc = Scenario::with_core(
        config(),
        &[("alice", &[]), ("bob", &[200])],
        record_routing_core(),
    );
    sc.invite(
        "alice",
        "sip:bob@example.com",
        &[],
        "application/sdp",
        OFFER.as_bytes().to_vec(),
    );
    sc.run(5);
    let dialog = established(&mut sc, "alice");
    let now = sc.now();
    let ua = &mut sc.client("alice").ua;
    ua.send_in_dialog(dialog, DialogRequestSpec::new(Method::Update), now)
        .unwrap();
    sc.run(5);
    let now = sc.now();
    let ua = &mut sc.client("alice").ua;
    ua.send_in_dialog(
        dialog,
        DialogRequestSpec::new(Method::Invite).with_body("application/sdp", OFFER.into()),
        now,
    )
    .unwrap();
    sc.run(5);
    let now = sc.now();
    sc.client("alice").ua.bye(dialog, now).unwrap();
    sc.run(5);
    let alice_sent = sent_by(&sc, "alice");
    for method in ["UPDATE", "INVITE", "ACK", "BYE"] {
        let sent = requests(&alice_sent, method);
        let in_dialog: Vec<_> = sent
            .iter()
            .filter(|r| {
                parse_message(&r.bytes)
                    .unwrap()
                    .to()
                    .unwrap()
                    .unwrap()
                    .tag()
                    .is_some()
            })
            .collect();
        assert!(!in_dialog.is_empty(), "{method} sent in the dialog");
        for r in in_dialog {
            assert_eq!(values(&r.bytes, "Route"), UAC_ROUTES, "{method}");
        }
    }
    // Bob answered each refresh 200: they reached him through the proxies.
    let bob_sent = sent_by(&sc, "bob");
    assert_eq!(status(&responses(&bob_sent, "UPDATE")[0]), 200);
    assert!(
        responses(&bob_sent, "INVITE")
            .iter()
            .filter(|r| status(r) == 200)
            .count()
            >= 2
    );
    assert!(terminated(&mut sc, "bob"));
    assert_eq!(bypassed(&mut sc), Vec::<String>::new());
    sc.run(64);
    assert!(sc.sim.is_idle());
}

/// The controlling IM Server behind record-routing proxies: the inviter
/// gets the Record-Route in the 180 and in the 200 that follows it, its
/// ACK and BYE follow the route set, and so do the server's requests to
/// the invitees (ACK) and to the inviter.
#[test]
fn ad_hoc_session_through_record_routing_proxies() {
    let mut cfg = config();
    cfg.release_alone = true;
    let mut sc = Scenario::with_core(
        cfg,
        &[("alice", &[]), ("bob", &[180, 200]), ("carol", &[180, 200])],
        record_routing_core(),
    );
    sc.adhoc("alice", &["sip:bob@example.com", "sip:carol@example.com"]);
    sc.run(10);
    let mut to_alice = sc.responses_to("alice");
    to_alice.retain(|r| status(r) > 100);
    let codes: Vec<u16> = to_alice.iter().map(|r| status(r)).collect();
    assert_eq!(codes, [180, 200], "the focus rang, then answered");
    for response in &to_alice {
        assert_eq!(values(response, "Record-Route"), RECORD_ROUTES);
    }
    let alice_sent = sent_by(&sc, "alice");
    let acks = requests(&alice_sent, "ACK");
    assert_eq!(acks.len(), 1);
    assert_eq!(values(&acks[0].bytes, "Route"), UAC_ROUTES);
    // The server is the UAC of the invitations: its ACKs use the route set
    // of each invitee's 2xx, reversed.
    let server: std::net::SocketAddr = SERVER.parse().unwrap();
    let server_acks: Vec<_> = sc
        .wire()
        .iter()
        .filter(|r| r.from == server && r.bytes.starts_with(b"ACK "))
        .collect();
    assert_eq!(server_acks.len(), 2);
    for ack in server_acks {
        assert_eq!(values(&ack.bytes, "Route"), UAC_ROUTES);
    }
    // Alice leaves, then Bob (the UAS of his invitation: his BYE follows
    // the Record-Route in order); the server releases Carol, left alone,
    // with a BYE through the proxies (release_alone).
    for (user, routes) in [("alice", UAC_ROUTES), ("bob", UAS_ROUTES)] {
        let dialog = established(&mut sc, user);
        let now = sc.now();
        sc.client(user).ua.bye(dialog, now).unwrap();
        sc.run(10);
        let sent = sent_by(&sc, user);
        let byes = requests(&sent, "BYE");
        assert_eq!(byes.len(), 1);
        assert_eq!(values(&byes[0].bytes, "Route"), routes, "{user}'s BYE");
    }
    let left = sc
        .server_events()
        .iter()
        .filter(|e| matches!(e, oma_im::im::server::Event::ParticipantLeft { .. }))
        .count();
    assert!(left >= 2, "Alice and Bob left");
    let server_byes = sc.requests_to("BYE", "carol");
    assert_eq!(server_byes.len(), 1, "Carol released");
    assert_eq!(values(&server_byes[0], "Route"), UAC_ROUTES);
    assert!(terminated(&mut sc, "bob") && terminated(&mut sc, "carol"));
    assert_eq!(bypassed(&mut sc), Vec::<String>::new());
    assert_eq!(sc.server().session_count(), 0);
    sc.run(64);
    assert!(sc.sim.is_idle());
}

/// The conference subscription behind record-routing proxies (RFC 6665
/// §4.1.2): the server's 200 to the SUBSCRIBE echoes the Record-Route, its
/// NOTIFYs follow it in order (it is the UAS of the SUBSCRIBE), and the
/// subscriber's unsubscribe follows it reversed.
#[test]
fn conference_subscription_route_sets_through_record_routing_proxies() {
    let mut sc = Scenario::with_core(
        config(),
        &[("alice", &[]), ("bob", &[200])],
        record_routing_core(),
    );
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run(5);
    let (_, identity) = sc.session();
    let now = sc.now();
    let spec = oma_im::dialog::SubscribeSpec::conference(&identity, "<sip:alice@example.com>", 600);
    let subscription = sc.client("alice").ua.subscribe(spec, now).unwrap();
    sc.run(5);
    let ok = sc
        .responses_to_method("alice", "SUBSCRIBE")
        .into_iter()
        .find(|r| status(r) == 200)
        .expect("200 to SUBSCRIBE");
    assert_eq!(values(&ok, "Record-Route"), RECORD_ROUTES);
    let notifies = sc.requests_to("NOTIFY", "alice");
    assert!(!notifies.is_empty());
    for notify in &notifies {
        assert_eq!(values(notify, "Route"), UAS_ROUTES);
    }
    let notified = sc
        .client("alice")
        .events
        .iter()
        .any(|e| matches!(e, UaEvent::NotifyReceived { .. }));
    assert!(notified, "the NOTIFY reached Alice through the proxies");
    let now = sc.now();
    sc.client("alice")
        .ua
        .unsubscribe(subscription, now)
        .unwrap();
    sc.run(5);
    let alice_sent = sent_by(&sc, "alice");
    let subscribes = requests(&alice_sent, "SUBSCRIBE");
    assert_eq!(
        subscribes.len(),
        2,
        "the initial SUBSCRIBE and the unsubscribe"
    );
    assert!(values(&subscribes[0].bytes, "Route").is_empty());
    assert_eq!(values(&subscribes[1].bytes, "Route"), UAC_ROUTES);
    let last = sc.requests_to("NOTIFY", "alice");
    let terminated = last.last().unwrap();
    assert!(String::from_utf8_lossy(terminated).contains("Subscription-State: terminated"));
    assert_eq!(bypassed(&mut sc), Vec::<String>::new());
}
