//! The controlling IM Server's Ad-hoc IM Group setup (7.2.1.1, 7.2.1.2)
//! end to end: scripted IM Clients and the server on the simulator
//! (`oma_im::sim`), every message crossing it as bytes through a SIP/IP
//! Core.

mod support;

use oma_im::im::server::{EndReason, Event};
use oma_im::sip::parse_message;
use support::im_server::scenario::{body, header, status, Scenario};
use support::im_server::{DOMAIN, FACTORY};

const INVITEES: [&str; 3] = [
    "sip:bob@example.com",
    "sip:carol@example.com",
    "sip:dave@example.com",
];

/// Alice invites Bob, Carol and Dave; each rings, then accepts.
fn three_invitees() -> Scenario {
    let mut sc = Scenario::new(
        support::im_server::scenario::config(),
        &[
            ("alice", &[]),
            ("bob", &[180, 200]),
            ("carol", &[180, 200]),
            ("dave", &[180, 200]),
        ],
    );
    sc.adhoc("alice", &INVITEES);
    sc.run(10);
    sc
}

/// The focus Contact of 7.2.1.1 step 5: the IM Session Identity with
/// `isfocus` and `+g.oma.sip-im`.
fn assert_focus_contact(bytes: &[u8], identity: &str) {
    let m = parse_message(bytes).unwrap();
    let contacts: Vec<_> = m.contact().map(|c| c.unwrap()).collect();
    assert_eq!(contacts.len(), 1, "one Contact");
    let oma_im::sip::Contact::Address(addr) = &contacts[0] else {
        panic!("a Contact address")
    };
    assert_eq!(addr.uri.to_string(), identity);
    assert!(addr.params.contains("isfocus"));
    assert!(addr.params.contains("+g.oma.sip-im"));
}

#[test]
fn inviter_allow_is_stored() {
    let mut sc = three_invitees();
    let (session, _) = sc.session();
    let alice = sc.participant("sip:alice@example.com");
    let allow = sc
        .server()
        .participant_allow(session, alice)
        .map(str::to_owned);
    // What Alice's user agent wrote on the wire.
    let invite = sc
        .wire()
        .iter()
        .find(|r| r.bytes.starts_with(b"INVITE sip:conf-factory"))
        .unwrap();
    assert_eq!(allow, header(&invite.bytes, "Allow"));
    assert!(allow.unwrap().contains("INVITE"));
}

#[test]
fn provisional_response_carries_server_allow_originator_and_focus_contact() {
    let sc = three_invitees();
    let (_, identity) = sc.session();
    let responses = sc.responses_to("alice");
    let provisional: Vec<_> = responses
        .iter()
        .filter(|r| (101..200).contains(&status(r)))
        .collect();
    // Three invitees rang; Alice gets one 180 (7.2.1.2).
    assert_eq!(provisional.len(), 1);
    let ringing = provisional[0];
    assert_eq!(status(ringing), 180);
    assert_eq!(
        header(ringing, "Server").unwrap(),
        "IM-serv/OMA1.0 oma-im/0.1"
    );
    let allow = header(ringing, "Allow").unwrap();
    for method in ["INVITE", "ACK", "BYE", "CANCEL", "UPDATE", "SUBSCRIBE"] {
        assert!(allow.contains(method), "{method} in {allow}");
    }
    assert_eq!(
        header(ringing, "P-Asserted-Identity").unwrap(),
        format!("<{FACTORY}>")
    );
    assert_focus_contact(ringing, &identity);
    assert!(identity.ends_with(&format!("@{DOMAIN}")));
}

#[test]
fn ok_carries_allow_session_expires_originator_focus_contact_and_server() {
    let sc = three_invitees();
    let (_, identity) = sc.session();
    let responses = sc.responses_to("alice");
    let oks: Vec<_> = responses.iter().filter(|r| status(r) == 200).collect();
    assert!(!oks.is_empty());
    let ok = oks[0];
    assert!(header(ok, "Allow").unwrap().contains("INVITE"));
    let se = header(ok, "Session-Expires").unwrap();
    assert!(se.ends_with(";refresher=uac"), "{se}");
    assert!(se.starts_with("1800"), "{se}");
    assert_eq!(
        header(ok, "P-Asserted-Identity").unwrap(),
        format!("<{FACTORY}>")
    );
    assert_focus_contact(ok, &identity);
    assert_eq!(header(ok, "Server").unwrap(), "IM-serv/OMA1.0 oma-im/0.1");
    // The invitations (7.2.2.2) name the focus too: the invitees' dialogs
    // target the IM Session Identity.
    let invites = sc.invites_sent();
    assert_eq!(invites.len(), 3);
    for invite in &invites {
        assert_focus_contact(invite, &identity);
    }
    // One final response only, though three invitees accepted.
    assert_eq!(responses.iter().filter(|r| status(r) >= 200).count(), 1);
}

#[test]
fn ok_sdp_answer_is_built_from_offer_and_first_invitee_answer() {
    let sc = three_invitees();
    let responses = sc.responses_to("alice");
    let ok = responses.iter().find(|r| status(r) == 200).unwrap();
    assert_eq!(header(ok, "Content-Type").unwrap(), "application/sdp");
    let sdp = body(ok);
    // 2a: message/cpim is in the offer, the invitees' answers and the
    // policy; im-iscomposing was only offered.
    assert!(sdp.contains("a=accept-types:message/cpim\r\n"), "{sdp}");
    // 2b: the other attributes of the offer's MSRP line are kept.
    assert!(sdp.contains("a=x-inviter:1\r\n"), "{sdp}");
    // The server's own path (it is the MSRP switch).
    assert!(sdp.contains("a=path:msrp://10.0.0.10:2855/"), "{sdp}");
    assert!(sdp.contains("m=message 2855 TCP/MSRP *"), "{sdp}");
}

#[test]
fn ok_sdp_answer_keeps_invitee_attributes() {
    let mut sc = Scenario::new(
        support::im_server::scenario::config(),
        &[("alice", &[]), ("bob", &[200])],
    );
    sc.client("bob").sdp_answer = support::im_server::sdp_answer(
        "bob",
        support::im_server::client_addr("bob"),
        "message/cpim text/plain",
        "a=setup:active\r\na=x-invitee:2\r\n",
    );
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run(10);
    let responses = sc.responses_to("alice");
    let ok = responses.iter().find(|r| status(r) == 200).unwrap();
    let sdp = body(ok);
    assert!(sdp.contains("a=accept-types:message/cpim\r\n"), "{sdp}");
    assert!(sdp.contains("a=x-inviter:1\r\n"), "{sdp}");
    assert!(sdp.contains("a=x-invitee:2\r\n"), "{sdp}");
}

#[test]
fn every_listed_user_is_invited_by_the_focus() {
    let sc = three_invitees();
    let (_, identity) = sc.session();
    let invites = sc.invites_sent();
    let targets: Vec<String> = invites
        .iter()
        .map(|b| {
            parse_message(b)
                .unwrap()
                .request_line()
                .unwrap()
                .uri
                .to_owned()
        })
        .collect();
    assert_eq!(targets, INVITEES);
    for invite in &invites {
        assert_focus_contact(invite, &identity);
        assert_eq!(
            header(invite, "Referred-By").unwrap(),
            "<sip:alice@example.com>"
        );
        assert_eq!(header(invite, "Accept-Contact").unwrap(), "*;+g.oma.sip-im");
        assert_eq!(
            header(invite, "P-Asserted-Identity").unwrap(),
            format!("<{FACTORY}>")
        );
        let sdp = body(invite);
        assert!(sdp.contains("m=message 2855 TCP/MSRP *"), "{sdp}");
        assert!(sdp.contains("a=setup:actpass"), "{sdp}");
    }
}

#[test]
fn session_and_identity_allocated_per_setup() {
    let mut sc = Scenario::new(
        support::im_server::scenario::config(),
        &[
            ("alice", &[]),
            ("bob", &[200]),
            ("carol", &[200]),
            ("erin", &[]),
        ],
    );
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.adhoc("erin", &["sip:carol@example.com"]);
    sc.run(10);
    let identities: Vec<String> = sc
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::SessionCreated { identity, .. } => Some(identity),
            _ => None,
        })
        .collect();
    assert_eq!(identities.len(), 2);
    assert_ne!(identities[0], identities[1]);
    assert_eq!(sc.server().session_count(), 2);
    // Each inviter's 200 names its own session.
    for (user, identity) in [("alice", &identities[0]), ("erin", &identities[1])] {
        let ok = sc
            .responses_to(user)
            .into_iter()
            .find(|r| status(r) == 200)
            .unwrap();
        assert_focus_contact(&ok, identity);
    }
}

#[test]
fn unallocated_factory_uri_gets_404() {
    let mut sc = Scenario::new(
        support::im_server::scenario::config(),
        &[("alice", &[]), ("bob", &[200])],
    );
    let (ct, body) = support::im_server::scenario::adhoc_body(
        &support::im_server::scenario::inviter_offer("alice", "message/cpim"),
        &["sip:bob@example.com"],
    );
    sc.invite(
        "alice",
        "sip:no-such-factory@im.example.com",
        &[],
        &ct,
        body,
    );
    sc.run(60);
    let responses = sc.responses_to("alice");
    assert_eq!(
        responses
            .iter()
            .map(|r| status(r))
            .filter(|c| *c > 100)
            .collect::<Vec<_>>(),
        [404]
    );
    assert!(sc.invites_sent().is_empty());
    assert_eq!(sc.server().session_count(), 0);
    assert!(sc.server().is_idle());
}

#[test]
fn unauthorized_originator_gets_403() {
    let mut config = support::im_server::scenario::config();
    config.authorization = oma_im::im::server::AuthorizationPolicy::Ask;
    let mut sc = Scenario::new(config, &[("alice", &[]), ("bob", &[200])]);
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run_answering(60, false);
    let asked = sc.server_events().into_iter().any(|e| {
        matches!(e, Event::AuthorizationRequested { originator, target, .. }
            if originator == "sip:alice@example.com" && target == FACTORY)
    });
    assert!(asked);
    let codes: Vec<u16> = sc
        .responses_to("alice")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(codes, [403]);
    assert!(sc.invites_sent().is_empty());
    assert!(sc.server().is_idle());
}

#[test]
fn authorized_originator_is_served() {
    let mut config = support::im_server::scenario::config();
    config.authorization = oma_im::im::server::AuthorizationPolicy::Ask;
    let mut sc = Scenario::new(config, &[("alice", &[]), ("bob", &[200])]);
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run_answering(10, true);
    let codes: Vec<u16> = sc
        .responses_to("alice")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(codes, [200]);
    assert_eq!(sc.invites_sent().len(), 1);
}

#[test]
fn offer_without_allowed_types_gets_488() {
    let mut sc = Scenario::new(
        support::im_server::scenario::config(),
        &[("alice", &[]), ("bob", &[200])],
    );
    let (ct, body) = support::im_server::scenario::adhoc_body(
        &support::im_server::scenario::inviter_offer("alice", "application/x-forbidden"),
        &["sip:bob@example.com"],
    );
    sc.invite("alice", FACTORY, &[], &ct, body);
    sc.run(60);
    let codes: Vec<u16> = sc
        .responses_to("alice")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(codes, [488]);
    assert!(sc.invites_sent().is_empty());
    let ended = sc.server_events().into_iter().any(|e| {
        matches!(
            e,
            Event::SessionEnded {
                reason: EndReason::Rejected(488),
                ..
            }
        )
    });
    assert!(ended);
    assert!(sc.server().is_idle());
}

#[test]
fn too_many_invitees_get_486_with_warning() {
    let mut config = support::im_server::scenario::config();
    config.limits.max_adhoc_participants = 3;
    let mut sc = Scenario::new(config, &[("alice", &[]), ("bob", &[200])]);
    sc.adhoc("alice", &INVITEES);
    sc.run(60);
    let responses = sc.responses_to("alice");
    let finals: Vec<_> = responses.iter().filter(|r| status(r) > 100).collect();
    assert_eq!(finals.len(), 1);
    assert_eq!(status(finals[0]), 486);
    let warning = header(finals[0], "Warning").unwrap();
    assert!(warning.ends_with("\"too many participants\""), "{warning}");
    assert!(sc.invites_sent().is_empty());
    assert!(sc.server().is_idle());
}

#[test]
fn list_at_the_maximum_is_accepted() {
    let mut config = support::im_server::scenario::config();
    config.limits.max_adhoc_participants = 4;
    let mut sc = Scenario::new(
        config,
        &[
            ("alice", &[]),
            ("bob", &[200]),
            ("carol", &[200]),
            ("dave", &[200]),
        ],
    );
    sc.adhoc("alice", &INVITEES);
    sc.run(10);
    assert_eq!(sc.invites_sent().len(), 3);
}

#[test]
fn every_invitee_failing_before_200_gives_lowest_code() {
    let mut sc = Scenario::new(
        support::im_server::scenario::config(),
        &[("alice", &[]), ("bob", &[180, 603]), ("carol", &[486])],
    );
    sc.adhoc("alice", &["sip:bob@example.com", "sip:carol@example.com"]);
    sc.run(60);
    let codes: Vec<u16> = sc
        .responses_to("alice")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(codes, [180, 486]);
    let finals = sc.responses_to("alice");
    let last = finals.last().unwrap();
    assert_eq!(header(last, "Server").unwrap(), "IM-serv/OMA1.0 oma-im/0.1");
    sc.run(60);
    assert!(sc.server().is_idle());
}

#[test]
fn failure_code_follows_fixed_policy() {
    let mut config = support::im_server::scenario::config();
    config.failure_policy = oma_im::im::server::FailurePolicy::Fixed(480);
    let mut sc = Scenario::new(config, &[("alice", &[]), ("bob", &[486])]);
    sc.adhoc("alice", &["sip:bob@example.com"]);
    sc.run(60);
    let codes: Vec<u16> = sc
        .responses_to("alice")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(codes, [480]);
}

#[test]
fn every_invitee_failing_after_200_removes_inviter() {
    let mut config = support::im_server::scenario::config();
    config.early_answer = true;
    let mut sc = Scenario::new(
        config,
        &[("alice", &[]), ("bob", &[180, 486]), ("carol", &[480])],
    );
    sc.adhoc("alice", &["sip:bob@example.com", "sip:carol@example.com"]);
    sc.run(60);
    let codes: Vec<u16> = sc
        .responses_to("alice")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c > 100)
        .collect();
    assert_eq!(codes[0], 200);
    assert!(!codes.contains(&486) && !codes.contains(&480));
    // 7.2.1.9: the server releases Alice with BYE.
    let byes = sc.requests_to("BYE", "alice");
    assert_eq!(byes.len(), 1);
    let left = sc.server_events().into_iter().any(|e| {
        matches!(
            e,
            Event::ParticipantLeft {
                reason: oma_im::im::server::LeaveReason::Removed,
                ..
            }
        )
    });
    assert!(left);
    assert!(sc.server().is_idle());
}
