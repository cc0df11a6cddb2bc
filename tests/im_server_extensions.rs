//! What the controlling IM Server answers about its Request-URIs and
//! extensions, in RFC 3261 §8.2 order, through bytes: an unknown
//! Request-URI gets 404 before any Require is looked at (§8.2.2.1 before
//! §8.2.2.3); a Conference-factory-URI supports `recipient-list-invite`
//! (RFC 5366 §3, §5), other URIs do not; OPTIONS is answered with the
//! server's real capabilities (§11.2).

mod support;

use oma_im::dialog::RequestSpec;
use oma_im::sip::{parse_message, HeaderName, Method};
use support::im_server::scenario::{adhoc_body, config, header, inviter_offer, status, Scenario};
use support::im_server::{DOMAIN, FACTORY, SERVER};

const INVITEES: [&str; 2] = ["sip:bob@example.com", "sip:carol@example.com"];

fn scenario() -> Scenario {
    Scenario::new(
        config(),
        &[("alice", &[]), ("bob", &[180, 200]), ("carol", &[180, 200])],
    )
}

/// Alice's URI-list INVITE to `target` with `require`.
fn list_invite(sc: &mut Scenario, target: &str, require: &str) {
    let (ct, body) = adhoc_body(&inviter_offer("alice", "message/cpim"), &INVITEES);
    sc.invite("alice", target, &[("Require", require)], &ct, body);
    sc.run(10);
}

/// The server's final responses to Alice's INVITEs.
fn finals(sc: &Scenario) -> Vec<Vec<u8>> {
    sc.responses_to("alice")
        .into_iter()
        .filter(|r| status(r) >= 200)
        .collect()
}

fn options(sc: &mut Scenario, target: &str) -> Vec<u8> {
    let now = sc.now();
    let spec = RequestSpec::new(
        Method::Options,
        target,
        "<sip:alice@example.com>",
        format!("<{target}>"),
    )
    .with_header("Accept", "application/sdp");
    sc.client("alice").ua.send_request(spec, now).unwrap();
    sc.run(5);
    sc.responses_to_method("alice", "OPTIONS")
        .pop()
        .expect("an answer to OPTIONS")
}

fn tokens(value: &str) -> Vec<String> {
    value.split(',').map(|t| t.trim().to_owned()).collect()
}

#[test]
fn factory_accepts_a_uri_list_invite_that_requires_recipient_list_invite() {
    let mut sc = scenario();
    list_invite(&mut sc, FACTORY, "recipient-list-invite");
    let finals = finals(&sc);
    assert_eq!(finals.len(), 1);
    assert_eq!(status(&finals[0]), 200);
    assert_eq!(sc.invites_sent().len(), 2, "both invitees invited");
}

#[test]
fn unknown_factory_is_404_before_its_require_is_looked_at() {
    let mut sc = scenario();
    let unknown = format!("sip:no-such-factory@{DOMAIN}");
    list_invite(&mut sc, &unknown, "recipient-list-invite");
    let answers = finals(&sc);
    assert_eq!(answers.len(), 1);
    assert_eq!(status(&answers[0]), 404);
    assert!(header(&answers[0], "Unsupported").is_none());
    assert!(sc.invites_sent().is_empty(), "nobody invited");
    // An unknown option tag does not change that either.
    let mut sc = scenario();
    list_invite(&mut sc, &unknown, "x-unknown-extension");
    let again = finals(&sc);
    assert_eq!(status(&again[0]), 404);
}

#[test]
fn factory_refuses_an_unknown_required_extension_with_420_and_unsupported() {
    let mut sc = scenario();
    list_invite(
        &mut sc,
        FACTORY,
        "recipient-list-invite, x-unknown-extension",
    );
    let finals = finals(&sc);
    assert_eq!(finals.len(), 1);
    assert_eq!(status(&finals[0]), 420);
    assert_eq!(
        header(&finals[0], "Unsupported").as_deref(),
        Some("x-unknown-extension"),
        "only the tag the factory does not support"
    );
    assert!(sc.invites_sent().is_empty(), "nobody invited");
    assert!(sc.server().session_count() == 0);
}

#[test]
fn a_running_session_identity_does_not_take_uri_list_invites() {
    let mut sc = scenario();
    list_invite(&mut sc, FACTORY, "recipient-list-invite");
    let (_, identity) = sc.session();
    let invites_before = sc.invites_sent().len();
    // Carol's join with Require: recipient-list-invite: only a factory
    // serves URI lists (RFC 5366 §5).
    let offer = inviter_offer("carol", "message/cpim");
    sc.invite(
        "carol",
        &identity,
        &[("Require", "recipient-list-invite")],
        "application/sdp",
        offer.into_bytes(),
    );
    sc.run(5);
    let answers: Vec<_> = sc
        .responses_to("carol")
        .into_iter()
        .filter(|r| status(r) >= 200)
        .collect();
    assert_eq!(answers.len(), 1);
    assert_eq!(status(&answers[0]), 420);
    assert_eq!(
        header(&answers[0], "Unsupported").as_deref(),
        Some("recipient-list-invite")
    );
    assert_eq!(sc.invites_sent().len(), invites_before);
}

#[test]
fn options_to_the_factory_lists_methods_extensions_and_body_types() {
    let mut sc = scenario();
    let ok = options(&mut sc, FACTORY);
    assert_eq!(status(&ok), 200);
    let allow = tokens(&header(&ok, "Allow").expect("Allow"));
    for method in [
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "OPTIONS",
        "UPDATE",
        "SUBSCRIBE",
        "NOTIFY",
    ] {
        assert!(allow.iter().any(|m| m == method), "{method} in {allow:?}");
    }
    let supported = tokens(&header(&ok, "Supported").expect("Supported"));
    assert!(supported.iter().any(|t| t == "recipient-list-invite"));
    assert!(supported.iter().any(|t| t == "timer"));
    let accept = tokens(&header(&ok, "Accept").expect("Accept"));
    for t in [
        "application/sdp",
        "multipart/mixed",
        "application/resource-lists+xml",
    ] {
        assert!(accept.iter().any(|a| a == t), "{t} in {accept:?}");
    }
    assert!(header(&ok, "Server").unwrap().starts_with("IM-serv/OMA1.0"));
}

#[test]
fn options_to_the_server_itself_is_200_without_the_factory_extension() {
    let mut sc = scenario();
    let ok = options(&mut sc, &format!("sip:{SERVER}"));
    assert_eq!(status(&ok), 200);
    let supported = header(&ok, "Supported").unwrap_or_default();
    assert!(!supported.contains("recipient-list-invite"), "{supported}");
    assert!(header(&ok, "Allow").unwrap().contains("INVITE"));
}

#[test]
fn options_to_an_unknown_uri_is_404() {
    let mut sc = scenario();
    let answer = options(&mut sc, &format!("sip:nobody@{DOMAIN}"));
    assert_eq!(status(&answer), 404);
}

#[test]
fn a_method_not_taken_outside_a_dialog_gets_405_with_allow() {
    let mut sc = scenario();
    let now = sc.now();
    let spec = RequestSpec::new(
        Method::Update,
        FACTORY,
        "<sip:alice@example.com>",
        format!("<{FACTORY}>"),
    );
    sc.client("alice").ua.send_request(spec, now).unwrap();
    sc.run(5);
    let answer = sc.responses_to_method("alice", "UPDATE").pop().unwrap();
    assert_eq!(status(&answer), 405);
    let m = parse_message(&answer).unwrap();
    assert!(m.header(HeaderName::Allow).is_some(), "§8.2.1: Allow");
}
