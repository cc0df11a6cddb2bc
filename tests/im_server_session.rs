//! The controlling IM Server after setup: supervision (RFC 4028, 7.2.1.1),
//! Participants leaving and joining (7.2.1.9, rejoin, public conferences),
//! pre-defined groups, the IMS profile, anonymity, and the user plane (one
//! MSRP switch per IM Session, the participants' MSRP played by hand on
//! their connections), on the simulator ([`oma_im::sim`]).

mod support;

use oma_im::dialog::{DialogRequestSpec, Event as UaEvent};
use oma_im::im::server::{AuthorizationPolicy, EndReason, Event, LeaveReason, PredefinedGroup};
use oma_im::im::trust::{TrustDomain, TrustedPeer};
use oma_im::im::ConnectionId;
use oma_im::sip::{parse_message, Method};
use support::im_server::scenario::{body, config, header, inviter_offer, status, Scenario};
use support::im_server::{client_addr, CORE, FACTORY};

fn alice_and_bob() -> Scenario {
    let mut sc = Scenario::new(config(), &[("alice", &[]), ("bob", &[180, 200])]);
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run(5);
    sc
}

fn dialog_of(sc: &mut Scenario, user: &str) -> oma_im::dialog::DialogId {
    sc.client(user)
        .events
        .iter()
        .find_map(|e| match e {
            UaEvent::DialogEstablished { dialog } => Some(*dialog),
            _ => None,
        })
        .expect("an established dialog")
}

#[test]
fn unrefreshed_participants_are_released_with_bye() {
    let mut sc = alice_and_bob();
    assert!(sc.requests_to("BYE", "alice").is_empty());
    // 1800 s sessions: released at 1800 - 32 s without a refresh.
    sc.run(1760);
    assert!(sc.requests_to("BYE", "alice").is_empty());
    sc.run(20);
    assert_eq!(sc.requests_to("BYE", "alice").len(), 1);
    assert_eq!(sc.requests_to("BYE", "bob").len(), 1);
    let expired = sc
        .server_events()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                Event::ParticipantLeft {
                    reason: LeaveReason::SessionExpired,
                    ..
                }
            )
        })
        .count();
    assert_eq!(expired, 2);
    assert!(sc.server_events().iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: EndReason::Empty,
            ..
        }
    )));
    sc.run(60);
    assert!(sc.server().is_idle());
}

#[test]
fn refresh_restarts_supervision() {
    let mut sc = alice_and_bob();
    sc.run(1000);
    let dialog = dialog_of(&mut sc, "alice");
    let now = sc.now();
    sc.client("alice")
        .ua
        .send_in_dialog(
            dialog,
            DialogRequestSpec::new(Method::Update)
                .with_header("Session-Expires", "1800;refresher=uac"),
            now,
        )
        .unwrap();
    sc.run(5);
    let ok = sc
        .sent_by_server()
        .into_iter()
        .find(|r| {
            let m = parse_message(&r.bytes).unwrap();
            m.status_code() == Some(200) && m.cseq().unwrap().unwrap().method.as_str() == "UPDATE"
        })
        .map(|r| r.bytes.clone())
        .expect("200 to UPDATE");
    assert_eq!(
        header(&ok, "Session-Expires").unwrap(),
        "1800;refresher=uac"
    );
    // Bob did not refresh: released at 1768 s; Alice is not.
    sc.run(800);
    assert_eq!(sc.requests_to("BYE", "bob").len(), 1);
    assert!(sc.requests_to("BYE", "alice").is_empty());
    // Alice's own deadline, 1768 s after her refresh.
    sc.run(1000);
    assert_eq!(sc.requests_to("BYE", "alice").len(), 1);
}

/// RFC 3261 §12.2.2 / RFC 3311 §5.2: the 2xx to a target refresh carries
/// the Contact of the server's side of the dialog: for the inviter and an
/// invitee alike, the isfocus Contact with the IM Session Identity
/// (7.2.1.1 step 5) the dialog was created with, and the Authenticated
/// Originator's address in P-Asserted-Identity (steps 2 to 4).
#[test]
fn the_200_to_an_update_carries_the_dialogs_isfocus_contact() {
    let mut sc = alice_and_bob();
    let focus = header(&sc.responses_to("alice").last().unwrap().clone(), "Contact")
        .expect("the 200 to the INVITE has a Contact");
    assert!(focus.contains("isfocus"), "{focus}");
    let invite_to_bob = sc.requests_to("INVITE", "bob");
    assert_eq!(
        header(&invite_to_bob[0], "Contact").as_deref(),
        Some(&*focus)
    );
    for user in ["alice", "bob"] {
        let dialog = dialog_of(&mut sc, user);
        let now = sc.now();
        sc.client(user)
            .ua
            .send_in_dialog(
                dialog,
                DialogRequestSpec::new(Method::Update)
                    .with_header("Session-Expires", "1800;refresher=uac"),
                now,
            )
            .unwrap();
        sc.run(5);
        let ok = sc
            .sent_by_server()
            .into_iter()
            .rev()
            .find(|r| {
                let m = parse_message(&r.bytes).unwrap();
                m.status_code() == Some(200)
                    && m.cseq().unwrap().unwrap().method.as_str() == "UPDATE"
            })
            .map(|r| r.bytes.clone())
            .expect("200 to UPDATE");
        let m = parse_message(&ok).unwrap();
        assert_eq!(m.contact().count(), 1, "{user}: one Contact");
        assert_eq!(header(&ok, "Contact").as_deref(), Some(&*focus), "{user}");
        assert!(header(&ok, "P-Asserted-Identity").is_some(), "{user}");
    }
}

#[test]
fn session_ends_when_the_last_participant_leaves() {
    let mut sc = alice_and_bob();
    for user in ["alice", "bob"] {
        let dialog = dialog_of(&mut sc, user);
        let now = sc.now();
        sc.client(user).ua.bye(dialog, now).unwrap();
        sc.run(5);
    }
    let events = sc.server_events();
    let departed = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::ParticipantLeft {
                    reason: LeaveReason::Departed,
                    ..
                }
            )
        })
        .count();
    assert_eq!(departed, 2);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: EndReason::Empty,
            ..
        }
    )));
    sc.run(60);
    assert!(sc.server().is_idle());
}

#[test]
fn rejoin_to_the_session_identity() {
    // Carol is invited but busy; she joins later through the IM Session
    // Identity (an invitee may, under the default `SessionAccess`).
    let mut sc = Scenario::new(
        config(),
        &[("alice", &[]), ("bob", &[200]), ("carol", &[486])],
    );
    sc.adhoc("alice", &["sip:bob@example.com", "sip:carol@example.com"]);
    sc.run(5);
    let (session, identity) = sc.session();
    let offer = inviter_offer("carol", "message/cpim");
    sc.invite(
        "carol",
        &identity,
        &[],
        "application/sdp",
        offer.into_bytes(),
    );
    sc.run(5);
    let ok = sc
        .responses_to("carol")
        .into_iter()
        .find(|r| status(r) == 200)
        .unwrap();
    assert!(header(&ok, "Contact")
        .unwrap()
        .starts_with(&format!("<{identity}>;isfocus")));
    assert_eq!(
        header(&ok, "P-Asserted-Identity").unwrap(),
        format!("<{FACTORY}>")
    );
    let members: Vec<String> = sc
        .server()
        .participants(session)
        .into_iter()
        .map(|(_, a)| a.to_owned())
        .collect();
    assert_eq!(
        members,
        [
            "sip:alice@example.com",
            "sip:bob@example.com",
            "sip:carol@example.com"
        ]
    );
}

#[test]
fn public_conference_is_joined_by_invite() {
    let mut cfg = config();
    cfg.public_conferences
        .push("sip:lobby@im.example.com".into());
    let mut sc = Scenario::new(cfg, &[("alice", &[]), ("bob", &[])]);
    for user in ["alice", "bob"] {
        let offer = inviter_offer(user, "message/cpim");
        sc.invite(
            user,
            "sip:lobby@im.example.com",
            &[],
            "application/sdp",
            offer.into_bytes(),
        );
        sc.run(5);
        let ok = sc
            .responses_to(user)
            .into_iter()
            .find(|r| status(r) == 200)
            .unwrap();
        assert_eq!(
            header(&ok, "P-Asserted-Identity").unwrap(),
            "<sip:lobby@im.example.com>"
        );
    }
    let created = sc
        .server_events()
        .iter()
        .filter(|e| matches!(e, Event::SessionCreated { .. }))
        .count();
    assert_eq!(created, 1);
    let session = sc.session().0;
    assert_eq!(sc.server().participants(session).len(), 2);
}

fn group_config() -> oma_im::im::server::ServerConfig {
    let mut cfg = config();
    cfg.groups.push(PredefinedGroup {
        identity: "sip:friends@im.example.com".into(),
        members: vec![
            "sip:alice@example.com".into(),
            "sip:bob@example.com".into(),
            "sip:carol@example.com".into(),
        ],
        allow_anonymity: false,
    });
    cfg
}

#[test]
fn predefined_group_responses_carry_the_group_identity() {
    let mut sc = Scenario::new(
        group_config(),
        &[("alice", &[]), ("bob", &[180, 200]), ("carol", &[180, 200])],
    );
    let offer = inviter_offer("alice", "message/cpim");
    sc.invite(
        "alice",
        "sip:friends@im.example.com",
        &[],
        "application/sdp",
        offer.into_bytes(),
    );
    sc.run(5);
    let (_, identity) = sc.session();
    let invites = sc.invites_sent();
    assert_eq!(invites.len(), 2, "every other member is invited");
    for invite in &invites {
        assert_eq!(
            header(invite, "P-Asserted-Identity").unwrap(),
            "<sip:friends@im.example.com>"
        );
    }
    let responses = sc.responses_to("alice");
    let ringing = responses.iter().find(|r| status(r) == 180).unwrap();
    let ok = responses.iter().find(|r| status(r) == 200).unwrap();
    for r in [ringing, ok] {
        assert_eq!(
            header(r, "P-Asserted-Identity").unwrap(),
            "<sip:friends@im.example.com>"
        );
        assert!(header(r, "Contact")
            .unwrap()
            .starts_with(&format!("<{identity}>;isfocus;+g.oma.sip-im")));
        assert!(header(r, "Server").unwrap().starts_with("IM-serv/OMA1.0"));
    }
    assert!(header(ok, "Session-Expires")
        .unwrap()
        .ends_with("refresher=uac"));
}

#[test]
fn predefined_group_refuses_anonymity_when_its_rules_do() {
    let mut sc = Scenario::new(group_config(), &[("alice", &[]), ("bob", &[200])]);
    let offer = inviter_offer("alice", "message/cpim");
    sc.invite(
        "alice",
        "sip:friends@im.example.com",
        &[("Privacy", "id")],
        "application/sdp",
        offer.into_bytes(),
    );
    sc.run(60);
    let codes: Vec<u16> = sc
        .responses_to("alice")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(codes, [403]);
}

#[test]
fn ims_asserted_identity_is_the_authenticated_originator() {
    let mut cfg = config();
    // In IMS the S-CSCF (here the core) is in the server's trust domain:
    // the P-Asserted-Identity it forwards is believed (RFC 3325).
    cfg.trust = TrustDomain::new().with_peer(TrustedPeer::host(
        CORE.parse::<std::net::SocketAddr>().unwrap().ip(),
    ));
    cfg.authorization = AuthorizationPolicy::AllowList(vec!["sip:alice@ims.example.net".into()]);
    let mut sc = Scenario::new(cfg, &[("alice", &[]), ("bob", &[200]), ("carol", &[])]);
    let (ct, b) = support::im_server::scenario::adhoc_body(
        &inviter_offer("alice", "message/cpim"),
        &["sip:bob@example.com"],
    );
    sc.invite(
        "alice",
        FACTORY,
        &[("P-Asserted-Identity", "<sip:alice@ims.example.net>")],
        &ct,
        b,
    );
    // Carol has no asserted identity on the list: refused.
    let (ct, b) = support::im_server::scenario::adhoc_body(
        &inviter_offer("carol", "message/cpim"),
        &["sip:bob@example.com"],
    );
    sc.invite("carol", FACTORY, &[], &ct, b);
    sc.run(60);
    let alice: Vec<u16> = sc
        .responses_to("alice")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(alice, [200]);
    let carol: Vec<u16> = sc
        .responses_to("carol")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(carol, [403]);
    let invite = &sc.invites_sent()[0];
    assert_eq!(
        header(invite, "Referred-By").unwrap(),
        "<sip:alice@ims.example.net>"
    );
}

/// An MSRP SEND of a CPIM message.
fn send(tid: &str, to: &str, from: &str, cpim_from: &str, text: &str) -> Vec<u8> {
    let cpim = format!(
        "From: <{cpim_from}>\r\nTo: <sip:conf@im.example.com>\r\n\r\nContent-Type: text/plain\r\n\r\n{text}"
    );
    format!(
        "MSRP {tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: {from}\r\nMessage-ID: m-{tid}\r\n\
         Byte-Range: 1-{n}/{n}\r\nContent-Type: message/cpim\r\n\r\n{cpim}\r\n-------{tid}$\r\n",
        n = cpim.len()
    )
    .into_bytes()
}

fn path_in(sdp: &str) -> String {
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=path:"))
        .expect("a=path")
        .trim()
        .to_owned()
}

/// The server's MSRP address: where the participants connect.
const SERVER_MSRP: &str = "10.0.0.10:2855";

/// `user` opens an MSRP connection to the server and writes `bytes` on it.
fn connect_and_send(sc: &mut Scenario, user: &str, bytes: Vec<u8>) -> ConnectionId {
    let client = sc.client(user);
    let link = client.connect(SERVER_MSRP.parse().unwrap());
    client.write(link, bytes);
    link
}

/// What the server wrote on `user`'s connection.
fn written(sc: &mut Scenario, user: &str, link: ConnectionId) -> String {
    String::from_utf8_lossy(sc.client(user).received(link)).into_owned()
}

/// The 200 of every SEND in `written` (bytes the server wrote on one
/// connection), as the participant's client answers them.
fn answers_to_sends(written: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for message in written.split("MSRP ").skip(1) {
        let mut words = message.split_whitespace();
        let (Some(tid), Some("SEND")) = (words.next(), words.next()) else {
            continue;
        };
        let header = |name: &str| {
            message
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_default()
                .to_owned()
        };
        let (to, from) = (header("To-Path:"), header("From-Path:"));
        out.extend_from_slice(
            format!("MSRP {tid} 200 OK\r\nTo-Path: {from}\r\nFrom-Path: {to}\r\n-------{tid}$\r\n")
                .as_bytes(),
        );
    }
    out
}

/// Every participant's client answers what the server relayed to it on
/// its connection.
fn acknowledge(sc: &mut Scenario, links: &[(&str, ConnectionId)]) {
    for (user, link) in links {
        let answers = answers_to_sends(&written(sc, user, *link));
        sc.client(user).write(*link, answers);
    }
    sc.run(1);
}

fn user_plane(privacy: bool) -> (Scenario, String, String) {
    let mut sc = Scenario::new(
        config(),
        &[("alice", &[]), ("bob", &[200]), ("carol", &[200])],
    );
    let (ct, b) = support::im_server::scenario::adhoc_body(
        &inviter_offer("alice", "message/cpim"),
        &["sip:bob@example.com", "sip:carol@example.com"],
    );
    let headers: &[(&str, &str)] = if privacy { &[("Privacy", "id")] } else { &[] };
    sc.invite("alice", FACTORY, headers, &ct, b);
    sc.run(5);
    let ok = sc
        .responses_to("alice")
        .into_iter()
        .find(|r| status(r) == 200)
        .unwrap();
    let alice_path = path_in(&body(&ok));
    let invites = sc.invites_sent();
    let bob_path = path_in(&body(&invites[0]));
    let carol_path = path_in(&body(&invites[1]));
    // Bob and Carol bind their connections with a first message each.
    let bob_from = format!("msrp://{}:7000/bobs;tcp", client_addr("bob").ip());
    let carol_from = format!("msrp://{}:7000/carols;tcp", client_addr("carol").ip());
    let alice_from = format!("msrp://{}:7000/alices;tcp", client_addr("alice").ip());
    let bob = connect_and_send(
        &mut sc,
        "bob",
        send(
            "b1",
            &bob_path,
            &bob_from,
            "sip:bob@example.com",
            "hi from bob",
        ),
    );
    let carol = connect_and_send(
        &mut sc,
        "carol",
        send(
            "c1",
            &carol_path,
            &carol_from,
            "sip:carol@example.com",
            "hi from carol",
        ),
    );
    let alice = connect_and_send(
        &mut sc,
        "alice",
        send(
            "a1",
            &alice_path,
            &alice_from,
            "sip:mallory@example.com",
            "hello all",
        ),
    );
    sc.run(1);
    let to_alice = written(&mut sc, "alice", alice);
    let to_bob = written(&mut sc, "bob", bob);
    let to_carol = written(&mut sc, "carol", carol);
    acknowledge(&mut sc, &[("alice", alice), ("bob", bob), ("carol", carol)]);
    assert!(
        to_alice.contains("hi from bob") && to_alice.contains("hi from carol"),
        "{to_alice}"
    );
    (sc, to_bob, to_carol)
}

#[test]
fn a_message_reaches_every_other_participant_with_the_sender_in_cpim_from() {
    let (sc, to_bob, to_carol) = user_plane(false);
    for (text, other) in [(&to_bob, "carol"), (&to_carol, "bob")] {
        assert!(text.contains("hello all"), "{text}");
        assert!(text.contains("From: <sip:alice@example.com>\r\n"), "{text}");
        assert!(!text.contains("mallory"), "{text}");
        assert!(text.contains(&format!("hi from {other}")), "{text}");
    }
    // The switch answered each sender.
    let relayed: Vec<usize> = sc
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::MessageRelayed { recipients, .. } => Some(recipients),
            _ => None,
        })
        .collect();
    // Each message went to the two others (queued for a leg until its
    // connection is up).
    assert_eq!(relayed, [2, 2, 2]);
}

#[test]
fn anonymous_inviter_is_not_disclosed() {
    let (sc, to_bob, to_carol) = user_plane(true);
    for invite in sc.invites_sent() {
        let text = String::from_utf8_lossy(&invite).into_owned();
        assert!(header(&invite, "Referred-By").is_none());
        assert!(!text.contains("alice"), "{text}");
    }
    for text in [&to_bob, &to_carol] {
        assert!(text.contains("hello all"), "{text}");
        assert!(
            text.contains("From: <sip:anonymous@anonymous.invalid>\r\n"),
            "{text}"
        );
        assert!(!text.contains("alice"), "{text}");
    }
}

#[test]
fn last_participant_is_released_when_policy_says_so() {
    let mut cfg = config();
    cfg.release_alone = true;
    let mut sc = Scenario::new(cfg, &[("alice", &[]), ("bob", &[200])]);
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run(5);
    let dialog = dialog_of(&mut sc, "alice");
    let now = sc.now();
    sc.client("alice").ua.bye(dialog, now).unwrap();
    sc.run(5);
    assert_eq!(sc.requests_to("BYE", "bob").len(), 1);
    assert!(sc.server_events().iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: EndReason::Empty,
            ..
        }
    )));
}

/// The NOTIFY bodies the server sent to `user`, in order.
fn notifies_to(sc: &Scenario, user: &str) -> Vec<(String, String)> {
    sc.requests_to("NOTIFY", user)
        .iter()
        .map(|n| (header(n, "Subscription-State").unwrap(), body(n)))
        .collect()
}

#[test]
fn conference_package_full_state_then_partial_on_every_change() {
    // Carol is invited but busy; she joins later, as an invitee may.
    let mut sc = Scenario::new(
        config(),
        &[("alice", &[]), ("bob", &[200]), ("carol", &[486])],
    );
    sc.adhoc("alice", &["sip:bob@example.com", "sip:carol@example.com"]);
    sc.run(5);
    let (_, identity) = sc.session();
    let now = sc.now();
    let spec = oma_im::dialog::RequestSpec::new(
        Method::Subscribe,
        &identity,
        "<sip:alice@example.com>",
        format!("<{identity}>"),
    )
    .with_header("Event", "conference")
    .with_header("Accept", "application/conference-info+xml")
    .with_header("Expires", "600");
    sc.client("alice").ua.send_request(spec, now).unwrap();
    sc.run(5);
    let ok = sc
        .responses_to_method("alice", "SUBSCRIBE")
        .into_iter()
        .find(|r| status(r) == 200)
        .expect("200 to SUBSCRIBE");
    assert_eq!(header(&ok, "Expires").unwrap(), "600");
    // Carol joins, then Bob leaves.
    let offer = inviter_offer("carol", "message/cpim");
    sc.invite(
        "carol",
        &identity,
        &[],
        "application/sdp",
        offer.into_bytes(),
    );
    sc.run(5);
    let dialog = dialog_of(&mut sc, "bob");
    let now = sc.now();
    sc.client("bob").ua.bye(dialog, now).unwrap();
    sc.run(5);
    let notes = notifies_to(&sc, "alice");
    assert_eq!(notes.len(), 3, "{notes:?}");
    // The 200 and every NOTIFY (a target-refresh request of the
    // subscription's dialog) carry the focus Contact.
    let focus = format!("<{identity}>;isfocus;+g.oma.sip-im");
    assert_eq!(header(&ok, "Contact").unwrap(), focus);
    for notify in sc.requests_to("NOTIFY", "alice") {
        assert_eq!(header(&notify, "Contact").unwrap(), focus);
    }
    let (state, full) = &notes[0];
    assert!(state.starts_with("active;expires="), "{state}");
    assert!(full.contains("state=\"full\""), "{full}");
    assert!(
        full.contains("sip:alice@example.com") && full.contains("sip:bob@example.com"),
        "{full}"
    );
    let (_, joined) = &notes[1];
    assert!(
        joined.contains("state=\"partial\"") && joined.contains("sip:carol@example.com"),
        "{joined}"
    );
    assert!(!joined.contains("sip:bob@example.com"), "{joined}");
    let (_, left) = &notes[2];
    assert!(
        left.contains("sip:bob@example.com") && left.contains("departed"),
        "{left}"
    );
    // Versions increase.
    let version = |b: &str| -> u32 {
        let root = &b[b.find("<conference-info").unwrap()..];
        let at = root.find(" version=\"").unwrap() + 10;
        root[at..].split('"').next().unwrap().parse().unwrap()
    };
    assert!(version(&notes[0].1) < version(&notes[1].1));
    assert!(version(&notes[1].1) < version(&notes[2].1));
}

#[test]
fn subscription_to_another_package_is_refused() {
    let mut sc = alice_and_bob();
    let (_, identity) = sc.session();
    let now = sc.now();
    let spec = oma_im::dialog::RequestSpec::new(
        Method::Subscribe,
        &identity,
        "<sip:alice@example.com>",
        format!("<{identity}>"),
    )
    .with_header("Event", "presence");
    sc.client("alice").ua.send_request(spec, now).unwrap();
    sc.run(5);
    let codes: Vec<u16> = sc
        .responses_to_method("alice", "SUBSCRIBE")
        .iter()
        .map(|r| status(r))
        .collect();
    assert_eq!(codes, [489]);
}

/// An MSRP SEND without body: binds a connection to its leg.
fn empty_send(tid: &str, to: &str, from: &str) -> Vec<u8> {
    format!(
        "MSRP {tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: {from}\r\nMessage-ID: m-{tid}\r\n\
         Byte-Range: 1-0/0\r\n-------{tid}$\r\n"
    )
    .into_bytes()
}

#[test]
fn large_message_reaches_every_recipient_then_the_session_is_torn_down() {
    let mut sc = Scenario::new(
        config(),
        &[("alice", &[]), ("bob", &[200]), ("carol", &[200])],
    );
    let offer = inviter_offer("alice", "message/cpim")
        .replace("a=setup:actpass\r\n", "a=setup:actpass\r\na=sendonly\r\n");
    let (ct, b) = support::im_server::scenario::adhoc_body(
        &offer,
        &["sip:bob@example.com", "sip:carol@example.com"],
    );
    sc.invite("alice", FACTORY, &[], &ct, b);
    sc.run(5);
    let ok = sc
        .responses_to("alice")
        .into_iter()
        .find(|r| status(r) == 200)
        .unwrap();
    assert!(body(&ok).contains("a=recvonly"), "{}", body(&ok));
    let invites = sc.invites_sent();
    for invite in &invites {
        assert!(body(invite).contains("a=sendonly"), "{}", body(invite));
    }
    let paths: Vec<String> = invites.iter().map(|i| path_in(&body(i))).collect();
    let alice_path = path_in(&body(&ok));
    let mut links = Vec::new();
    for (user, path) in [("bob", &paths[0]), ("carol", &paths[1])] {
        let from = format!("msrp://{}:7000/{user}s;tcp", client_addr(user).ip());
        links.push((
            user,
            connect_and_send(&mut sc, user, empty_send(user, path, &from)),
        ));
    }
    let alice_from = format!("msrp://{}:7000/alices;tcp", client_addr("alice").ip());
    let big = "x".repeat(3000);
    let alice = connect_and_send(
        &mut sc,
        "alice",
        send(
            "a1",
            &alice_path,
            &alice_from,
            "sip:alice@example.com",
            &big,
        ),
    );
    links.insert(0, ("alice", alice));
    sc.run(5);
    for (user, link) in &links[1..] {
        assert!(written(&mut sc, user, *link).contains(&big));
    }
    // Delivered once each recipient acknowledged it.
    for user in ["alice", "bob", "carol"] {
        assert!(sc.requests_to("BYE", user).is_empty(), "{user}");
    }
    acknowledge(&mut sc, &links);
    for user in ["alice", "bob", "carol"] {
        assert_eq!(sc.requests_to("BYE", user).len(), 1, "{user}");
    }
    assert!(sc.server_events().iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: EndReason::LargeMessageDelivered,
            ..
        }
    )));
    sc.run(60);
    assert!(sc.server().is_idle());
}
