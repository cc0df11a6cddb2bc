//! IM Client originating procedures (7.1.1.1 / 9.1.1.1, 7.1.1.2, 7.1.1.3,
//! 7.1.1.4, 7.1.1.9, 7.1.1.10, 7.1.1.11) against a scripted IM Server, every
//! message crossing the simulator ([`oma_im::sim`]) as bytes.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::body::conference_info::{ConferenceInfo, Participant};
use oma_im::body::multipart::Multipart;
use oma_im::body::resource_lists::ResourceLists;
use oma_im::dialog;
use oma_im::im::client::{
    ClientConfig, ClientError, DeadlineReason, EndReason, Event, ImSessionId,
};
use oma_im::im::SipIpCoreProfile;
use oma_im::sdp::{Direction, SessionDescription};
use oma_im::sim::{Faults, WireRecord};
use support::im::{client_config, server_allow, Net, Script};
use support::wire::{parsed, sip_requests, sip_responses, values};

const CLIENT: usize = 0;
const SERVER: usize = 1;

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

fn net_with(config: ClientConfig, script: Script, conditions: Faults, seed: u64) -> Net {
    let mut net = Net::new(conditions, seed);
    net.add_client(config);
    net.add_server(addr(9), addr(1), script, seed + 1);
    net
}

fn alice() -> ClientConfig {
    client_config("alice", addr(1), addr(9), 11)
}

fn net(script: Script) -> Net {
    net_with(alice(), script, Faults::PERFECT, 1)
}

/// Runs `secs` seconds of virtual time.
fn run(net: &mut Net, secs: u64) {
    let until = net.now() + Duration::from_secs(secs);
    net.run_until(until);
}

fn client_events(net: &Net) -> Vec<Event> {
    net.client_events(CLIENT)
}

/// The one INVITE the client sent.
fn the_invite(net: &Net) -> &WireRecord {
    let invites: Vec<_> = sip_requests(net.wire(), "INVITE")
        .into_iter()
        .filter(|r| r.from == addr(1))
        .collect();
    assert_eq!(invites.len(), 1, "one INVITE");
    invites[0]
}

fn sdp_of_invite(record: &WireRecord) -> SessionDescription<'static> {
    let msg = parsed(record);
    let ct = values(&msg, "Content-Type")[0].to_owned();
    let sdp = oma_im::body::multipart::find_sdp(&ct, msg.body(), &Default::default())
        .unwrap()
        .expect("an SDP offer");
    SessionDescription::parse(sdp).unwrap().into_owned()
}

fn accept_types(sdp: &SessionDescription<'_>) -> Vec<String> {
    let (_, m) = sdp.msrp_media().expect("an MSRP media line");
    m.accept_types()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect()
}

/// 7.1.1.1 / 9.1.1.1 steps 1 to 7 on an INVITE seen on the wire.
fn assert_initial_request_headers(record: &WireRecord) {
    let msg = parsed(record);
    assert_eq!(values(&msg, "Accept-Contact"), ["*;+g.oma.sip-im"]);
    assert_eq!(
        values(&msg, "User-Agent"),
        ["IM-client/OMA1.0 oma-im-test/1.0"]
    );
    let allow = values(&msg, "Allow").join(",");
    for m in ["INVITE", "ACK", "BYE", "CANCEL", "UPDATE", "MESSAGE"] {
        assert!(allow.contains(m), "Allow lists {m}: {allow}");
    }
    let contact = values(&msg, "Contact");
    assert_eq!(contact.len(), 1);
    assert!(contact[0].ends_with(";+g.oma.sip-im"), "{}", contact[0]);
    assert!(values(&msg, "Supported").join(",").contains("timer"));
    assert_eq!(values(&msg, "Session-Expires"), ["1800;refresher=uac"]);
    // Sent to the SIP/IP Core, towards the IM Server.
    assert_eq!(record.to, addr(9));
}

#[test]
fn one_to_one_invite_follows_7_1_1_1_and_targets_the_recipient() {
    let mut net = net(Script {
        focus: None,
        ..Script::default()
    });
    let now = net.now();
    net.node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 5);
    let invite = the_invite(&net);
    assert!(invite
        .first_line()
        .starts_with("INVITE sip:bob@example.com SIP/2.0"));
    assert_initial_request_headers(invite);
    let msg = parsed(invite);
    assert_eq!(values(&msg, "Content-Type"), ["application/sdp"]);
    assert!(values(&msg, "Privacy").is_empty());
    let sdp = sdp_of_invite(invite);
    let (_, media) = sdp.msrp_media().unwrap();
    assert!(media.path().unwrap()[0].starts_with("msrp://192.0.2.1:5060/"));
    assert_eq!(accept_types(&sdp), ["message/cpim"]);
}

#[test]
fn anonymity_adds_privacy_id() {
    let mut config = alice();
    config.anonymous = true;
    let mut net = net_with(config, Script::default(), Faults::PERFECT, 2);
    let now = net.now();
    net.node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    net.node(CLIENT)
        .client()
        .send_large_message(&["sip:bob@example.com"], "text/plain", &[b'l'; 2000], now)
        .unwrap();
    run(&mut net, 2);
    let invites = sip_requests(net.wire(), "INVITE");
    assert_eq!(invites.len(), 2);
    for invite in invites {
        assert_eq!(values(&parsed(invite), "Privacy"), ["id"]);
    }
}

#[test]
fn one_to_one_200_stores_the_session_identity() {
    // The 200 names another focus and other methods than the 180: only
    // what the 200 carries may be stored in the end.
    let mut net = net(Script {
        ok_focus: Some("conf-1-ok".to_owned()),
        ok_allow: Some("INVITE, ACK, BYE, CANCEL, UPDATE".to_owned()),
        ..Script::default()
    });
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 5);
    let identity = net
        .node(CLIENT)
        .client()
        .session_identity(s)
        .cloned()
        .unwrap();
    assert_eq!(identity.uri, "sip:conf-1-ok@192.0.2.9:5060");
    assert!(identity.is_focus);
    assert!(client_events(&net).contains(&Event::SessionEstablished {
        session: s,
        identity: Some(identity),
    }));
    // The 180 went first, with the other focus and methods.
    let ringing = sip_responses(net.wire(), 180);
    let text = String::from_utf8_lossy(&ringing[0].bytes).into_owned();
    assert!(
        text.contains("<sip:conf-1@192.0.2.9:5060>;isfocus"),
        "{text}"
    );
    assert!(text.contains("REFER"), "{text}");
    assert_eq!(
        net.node(CLIENT).client().peer_allow(s).unwrap(),
        ["INVITE", "ACK", "BYE", "CANCEL", "UPDATE"]
    );
}

#[test]
fn provisional_response_stores_allow_and_session_identity() {
    // The server answers 180 only.
    let mut net = net(Script {
        invite_status: 0,
        ..Script::default()
    });
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    let large = net
        .node(CLIENT)
        .client()
        .send_large_message(&["sip:bob@example.com"], "text/plain", &[b'l'; 2000], now)
        .unwrap();
    run(&mut net, 5);
    let expected: Vec<String> = server_allow().iter().map(|m| m.to_string()).collect();
    for session in [s, large] {
        assert!(client_events(&net).contains(&Event::Progress {
            session,
            status: 180
        }));
        let c = net.node(CLIENT).client();
        assert!(!c.is_established(session));
        assert_eq!(c.peer_allow(session).unwrap(), expected);
        assert_eq!(
            c.session_identity(session).unwrap().uri,
            "sip:conf-1@192.0.2.9:5060"
        );
    }
}

#[test]
fn rejected_invite_ends_the_session() {
    let mut net = net(Script {
        invite_status: 486,
        ..Script::default()
    });
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    net.run_until_quiet(Duration::from_secs(60));
    assert!(client_events(&net).contains(&Event::SessionEnded {
        session: s,
        reason: EndReason::Rejected(486),
    }));
    assert!(net.node(CLIENT).client().is_idle());
}

#[test]
fn final_response_stores_allow() {
    let mut net = net(Script {
        ringing: false,
        ..Script::default()
    });
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .join_public_conference("sip:public-chat@im.example.com", now)
        .unwrap();
    run(&mut net, 5);
    let expected: Vec<String> = server_allow().iter().map(|m| m.to_string()).collect();
    assert_eq!(net.node(CLIENT).client().peer_allow(s).unwrap(), expected);
    assert_eq!(
        net.node(CLIENT).client().session_identity(s).unwrap().uri,
        "sip:conf-1@192.0.2.9:5060"
    );
}

#[test]
fn session_timer_starts_with_the_received_value_and_refreshes() {
    let mut net = net(Script {
        session_expires: Some("120;refresher=uac".to_owned()),
        ..Script::default()
    });
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 5);
    // The INVITE asked for 1800; the 200 said 120: the timer runs with 120.
    assert_eq!(net.node(CLIENT).client().session_expires(s), Some(120));
    // The INVITE is forgotten 64*T1 after its 2xx (RFC 6026); the refresh
    // is the next deadline after that.
    let deadline = net.node(CLIENT).client().next_deadline().unwrap();
    assert!(
        matches!(
            deadline.reason,
            DeadlineReason::Sip(dialog::DeadlineReason::AnsweredInvite)
        ),
        "{deadline:?}"
    );
    run(&mut net, 30);
    let deadline = net.node(CLIENT).client().next_deadline().unwrap();
    assert!(
        matches!(
            deadline.reason,
            DeadlineReason::Sip(dialog::DeadlineReason::SessionRefresh { .. })
        ),
        "{deadline:?}"
    );
    assert!(sip_requests(net.wire(), "UPDATE").is_empty());
    run(&mut net, 60);
    let updates = sip_requests(net.wire(), "UPDATE");
    assert_eq!(updates.len(), 1, "one refresh at half the interval");
    assert_eq!(
        values(&parsed(updates[0]), "Session-Expires"),
        ["120;refresher=uac"]
    );
    assert!(net.node(CLIENT).client().is_established(s));
}

#[test]
fn large_message_session_timer_starts_with_the_received_value() {
    let mut net = net(Script {
        session_expires: Some("300;refresher=uac".to_owned()),
        ..Script::default()
    });
    let now = net.now();
    // The test server opens no MSRP connection: the message stays queued
    // and the session up.
    let s = net
        .node(CLIENT)
        .client()
        .send_large_message(&["sip:bob@example.com"], "text/plain", &[b'l'; 2000], now)
        .unwrap();
    run(&mut net, 5);
    assert!(net.node(CLIENT).client().is_established(s));
    assert_eq!(net.node(CLIENT).client().session_expires(s), Some(300));
    run(&mut net, 150);
    let updates = sip_requests(net.wire(), "UPDATE");
    assert_eq!(updates.len(), 1);
    assert_eq!(
        values(&parsed(updates[0]), "Session-Expires"),
        ["300;refresher=uac"]
    );
}

#[test]
fn ad_hoc_invite_goes_to_the_conference_factory_with_the_uri_list() {
    let mut net = net(Script::default());
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    run(&mut net, 5);
    {
        let invite = the_invite(&net);
        assert!(invite
            .first_line()
            .starts_with("INVITE sip:conference-factory@im.example.com SIP/2.0"));
        assert_initial_request_headers(invite);
        let msg = parsed(invite);
        let ct = values(&msg, "Content-Type")[0];
        assert!(ct.starts_with("multipart/mixed;boundary="));
        let boundary = ct.split("boundary=").nth(1).unwrap();
        let body = Multipart::parse(msg.body(), boundary, &Default::default()).unwrap();
        assert_eq!(body.parts.len(), 2);
        assert!(body.parts[0].is_type("application", "sdp"));
        assert!(body.parts[1].is_type("application", "resource-lists+xml"));
        assert!(body.parts[1].has_disposition("recipient-list"));
        let list = ResourceLists::parse(body.parts[1].body, &Default::default()).unwrap();
        let uris: Vec<String> = list.entries().map(|e| e.uri.to_string()).collect();
        assert_eq!(uris, ["sip:bob@example.com", "sip:carol@example.com"]);
        assert_eq!(accept_types(&sdp_of_invite(invite)), ["message/cpim"]);
    }
    // 200: the IM Session Identity is stored.
    assert_eq!(
        net.node(CLIENT).client().session_identity(s).unwrap().uri,
        "sip:conf-1@192.0.2.9:5060"
    );
    assert!(net.node(CLIENT).client().is_established(s));
}

#[test]
fn ad_hoc_over_max_adhoc_group_size_sends_nothing_and_tells_the_user() {
    let mut config = alice();
    config.max_adhoc_group_size = 2;
    let mut net = net_with(config, Script::default(), Faults::PERFECT, 3);
    let now = net.now();
    let err = net
        .node(CLIENT)
        .client()
        .start_ad_hoc(
            &[
                "sip:bob@example.com",
                "sip:carol@example.com",
                "sip:dave@example.com",
            ],
            now,
        )
        .unwrap_err();
    assert_eq!(err, ClientError::TooManyInvited { invited: 3, max: 2 });
    run(&mut net, 5);
    assert!(net.wire().is_empty(), "nothing sent");
    assert_eq!(
        client_events(&net),
        [Event::AdHocGroupTooLarge { invited: 3, max: 2 }]
    );
    // Exactly the maximum is fine.
    let now = net.now();
    net.node(CLIENT)
        .client()
        .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
        .unwrap();
    run(&mut net, 2);
    assert_eq!(sip_requests(net.wire(), "INVITE").len(), 1);
}

#[test]
fn other_accept_types_or_star_may_be_listed() {
    let mut config = alice();
    config.extra_accept_types = vec!["text/plain".to_owned(), "*".to_owned()];
    let mut net = net_with(config, Script::default(), Faults::PERFECT, 4);
    let now = net.now();
    let c = net.node(CLIENT).client();
    c.start_ad_hoc(&["sip:bob@example.com"], now).unwrap();
    c.start_pre_defined("sip:friends@im.example.com", now)
        .unwrap();
    c.join_public_conference("sip:public-chat@im.example.com", now)
        .unwrap();
    run(&mut net, 2);
    let invites = sip_requests(net.wire(), "INVITE");
    assert_eq!(invites.len(), 3);
    for invite in invites {
        assert_eq!(
            accept_types(&sdp_of_invite(invite)),
            ["message/cpim", "text/plain", "*"]
        );
    }
}

#[test]
fn pre_defined_group_invite_targets_the_group_identity() {
    let mut net = net(Script::default());
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_pre_defined("sip:friends@im.example.com", now)
        .unwrap();
    run(&mut net, 5);
    let invite = the_invite(&net);
    assert!(invite
        .first_line()
        .starts_with("INVITE sip:friends@im.example.com SIP/2.0"));
    assert_initial_request_headers(invite);
    assert_eq!(values(&parsed(invite), "Content-Type"), ["application/sdp"]);
    assert_eq!(accept_types(&sdp_of_invite(invite)), ["message/cpim"]);
    let identity = net
        .node(CLIENT)
        .client()
        .session_identity(s)
        .cloned()
        .unwrap();
    assert_eq!(identity.uri, "sip:conf-1@192.0.2.9:5060");
    assert!(net.node(CLIENT).client().is_established(s));
}

#[test]
fn public_conference_invite_has_application_sdp() {
    let mut net = net(Script::default());
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .join_public_conference("sip:public-chat@im.example.com", now)
        .unwrap();
    run(&mut net, 5);
    let invite = the_invite(&net);
    assert!(invite
        .first_line()
        .starts_with("INVITE sip:public-chat@im.example.com SIP/2.0"));
    assert_initial_request_headers(invite);
    assert_eq!(values(&parsed(invite), "Content-Type"), ["application/sdp"]);
    assert_eq!(accept_types(&sdp_of_invite(invite)), ["message/cpim"]);
    assert!(net.node(CLIENT).client().is_established(s));
}

#[test]
fn rejoin_without_a_stored_identity_is_an_error_and_sends_nothing() {
    let mut net = net(Script {
        focus: None,
        ..Script::default()
    });
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 2);
    let now = net.now();
    net.node(CLIENT).client().leave(s, now).unwrap();
    run(&mut net, 40);
    let before = net.wire().len();
    let now = net.now();
    let err = net.node(CLIENT).client().rejoin(s, now).unwrap_err();
    assert_eq!(err, ClientError::NoSessionIdentity);
    run(&mut net, 2);
    assert_eq!(net.wire().len(), before, "nothing sent");
    assert!(client_events(&net).contains(&Event::RejoinImpossible { session: s }));
}

#[test]
fn rejoin_invites_the_stored_identity_and_stores_allow_and_identity() {
    let mut net = net(Script::default());
    let now = net.now();
    let first = net
        .node(CLIENT)
        .client()
        .start_ad_hoc(&["sip:bob@example.com"], now)
        .unwrap();
    run(&mut net, 2);
    let now = net.now();
    net.node(CLIENT).client().leave(first, now).unwrap();
    run(&mut net, 40);
    assert!(sip_requests(net.wire(), "BYE").len() == 1);
    // The server now names the running conference differently, and its
    // 200 differs from its 180 in Contact and Allow.
    net.node(SERVER).server().script.focus = Some("conf-1-b".to_owned());
    net.node(SERVER).server().script.ok_focus = Some("conf-1-c".to_owned());
    net.node(SERVER).server().script.ok_allow = Some("INVITE, ACK, BYE, UPDATE".to_owned());
    let now = net.now();
    let again = net.node(CLIENT).client().rejoin(first, now).unwrap();
    run(&mut net, 5);
    let invites = sip_requests(net.wire(), "INVITE");
    assert_eq!(invites.len(), 2);
    assert!(invites[1]
        .first_line()
        .starts_with("INVITE sip:conf-1@192.0.2.9:5060 SIP/2.0"));
    assert_initial_request_headers(invites[1]);
    assert!(sdp_of_invite(invites[1]).msrp_media().is_some());
    let c = net.node(CLIENT).client();
    assert_eq!(
        c.peer_allow(again).unwrap(),
        ["INVITE", "ACK", "BYE", "UPDATE"]
    );
    assert_eq!(
        c.session_identity(again).unwrap().uri,
        "sip:conf-1-c@192.0.2.9:5060"
    );
    // Its 180 carried the others.
    let ringing = sip_responses(net.wire(), 180);
    let last = String::from_utf8_lossy(&ringing.last().unwrap().bytes).into_owned();
    assert!(
        last.contains("<sip:conf-1-b@192.0.2.9:5060>;isfocus"),
        "{last}"
    );
}

#[test]
fn leaving_sends_bye_and_ends_the_session() {
    let mut net = net(Script::default());
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_ad_hoc(&["sip:bob@example.com"], now)
        .unwrap();
    run(&mut net, 2);
    let now = net.now();
    net.node(CLIENT).client().leave(s, now).unwrap();
    net.run_until_quiet(Duration::from_secs(120));
    assert_eq!(sip_requests(net.wire(), "BYE").len(), 1);
    assert!(client_events(&net).contains(&Event::SessionEnded {
        session: s,
        reason: EndReason::Local,
    }));
    assert!(net.node(CLIENT).client().is_idle());
}

#[test]
fn conference_state_subscription_reports_participants_and_changes() {
    let conf = "sip:conf-1@192.0.2.9:5060";
    let alice_p = Participant::new("sip:alice@example.com");
    let bob_p = Participant::new("sip:bob@example.com");
    let mut full = Vec::new();
    ConferenceInfo::full_state(conf, 1, [&alice_p, &bob_p]).write(&mut full);
    let mut net = net(Script {
        notify: vec![full],
        ..Script::default()
    });
    let now = net.now();
    let s = net
        .node(CLIENT)
        .client()
        .start_ad_hoc(&["sip:bob@example.com"], now)
        .unwrap();
    run(&mut net, 2);
    let now = net.now();
    net.node(CLIENT)
        .client()
        .subscribe_conference(s, now)
        .unwrap();
    run(&mut net, 2);
    {
        let subscribe = sip_requests(net.wire(), "SUBSCRIBE");
        assert_eq!(subscribe.len(), 1);
        assert!(subscribe[0]
            .first_line()
            .starts_with(&format!("SUBSCRIBE {conf} SIP/2.0")));
        let msg = parsed(subscribe[0]);
        assert_eq!(values(&msg, "Event"), ["conference"]);
        assert_eq!(values(&msg, "Accept"), ["application/conference-info+xml"]);
        // 7.1.1.11 (inferred): Accept-Contact with +g.oma.sip-im and User-Agent.
        let accept_contact = values(&msg, "Accept-Contact");
        assert_eq!(accept_contact.len(), 1);
        assert!(accept_contact[0].contains("+g.oma.sip-im"));
        assert!(values(&msg, "User-Agent")[0].starts_with("IM-client/OMA1.0"));
        assert_eq!(sip_requests(net.wire(), "NOTIFY").len(), 1);
        assert!(!sip_responses(net.wire(), 200).is_empty());
    }
    assert!(client_events(&net).contains(&Event::ParticipantsChanged {
        session: s,
        participants: vec!["sip:alice@example.com".into(), "sip:bob@example.com".into()],
        joined: vec!["sip:alice@example.com".into(), "sip:bob@example.com".into()],
        left: vec![],
    }));
    // A partial notification: carol joins.
    let carol = Participant::new("sip:carol@example.com");
    let mut partial = Vec::new();
    ConferenceInfo::user_joined(conf, 2, &carol).write(&mut partial);
    let now = net.now();
    net.node(SERVER).server().notify_all(&partial, now);
    run(&mut net, 2);
    assert!(client_events(&net).contains(&Event::ParticipantsChanged {
        session: s,
        participants: vec![
            "sip:alice@example.com".into(),
            "sip:bob@example.com".into(),
            "sip:carol@example.com".into()
        ],
        joined: vec!["sip:carol@example.com".into()],
        left: vec![],
    }));
    assert_eq!(net.node(CLIENT).client().participants(s).len(), 3);
    // Leaving ends the subscription too.
    let now = net.now();
    net.node(CLIENT).client().leave(s, now).unwrap();
    run(&mut net, 5);
    let subscribes = sip_requests(net.wire(), "SUBSCRIBE");
    let last = parsed(subscribes.last().unwrap());
    assert_eq!(values(&last, "Expires"), ["0"]);
    assert!(values(&last, "User-Agent")[0].starts_with("IM-client/OMA1.0"));
    assert_eq!(values(&last, "Accept-Contact").len(), 1);
}

#[test]
fn extending_one_to_one_lists_the_peer_with_replaces() {
    let mut net = net(Script {
        focus: None,
        ..Script::default()
    });
    let now = net.now();
    let one = net
        .node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 2);
    let now = net.now();
    net.node(CLIENT)
        .client()
        .extend_to_conference(one, &["sip:carol@example.com"], now)
        .unwrap();
    run(&mut net, 2);
    let invites = sip_requests(net.wire(), "INVITE");
    assert_eq!(invites.len(), 2);
    assert!(invites[1]
        .first_line()
        .starts_with("INVITE sip:conference-factory@im.example.com SIP/2.0"));
    let msg = parsed(invites[1]);
    let call_id = values(&parsed(invites[0]), "Call-ID")[0].to_owned();
    let ct = values(&msg, "Content-Type")[0];
    let list = oma_im::body::multipart::find_resource_lists(ct, msg.body(), &Default::default())
        .unwrap()
        .unwrap();
    let list = ResourceLists::parse(list, &Default::default()).unwrap();
    let uris: Vec<String> = list.entries().map(|e| e.uri.to_string()).collect();
    assert_eq!(uris.len(), 2);
    assert!(
        uris[0].starts_with("sip:bob@example.com?Replaces="),
        "{}",
        uris[0]
    );
    assert!(uris[0].contains(&call_id.replace('@', "%40")));
    assert_eq!(uris[1], "sip:carol@example.com");
}

#[test]
fn ims_profile_adds_p_preferred_identity_plain_does_not() {
    for (profile, expected) in [
        (SipIpCoreProfile::Ims, vec!["<sip:alice@example.com>"]),
        (SipIpCoreProfile::Plain, vec![]),
    ] {
        let mut config = alice();
        config.profile = profile;
        let mut net = net_with(config, Script::default(), Faults::PERFECT, 5);
        let now = net.now();
        let c = net.node(CLIENT).client();
        c.start_one_to_one("sip:bob@example.com", now).unwrap();
        c.start_ad_hoc(&["sip:bob@example.com"], now).unwrap();
        c.start_pre_defined("sip:friends@im.example.com", now)
            .unwrap();
        c.join_public_conference("sip:public@im.example.com", now)
            .unwrap();
        c.send_large_message(&["sip:bob@example.com"], "text/plain", &[b'l'; 2000], now)
            .unwrap();
        run(&mut net, 3);
        let invites = sip_requests(net.wire(), "INVITE");
        assert_eq!(invites.len(), 5);
        for invite in &invites {
            let msg = parsed(invite);
            assert_eq!(
                values(&msg, "P-Preferred-Identity"),
                expected,
                "{profile:?}"
            );
            assert!(values(&msg, "P-Asserted-Identity").is_empty());
        }
        let rejoin_from = client_events(&net)
            .iter()
            .find_map(|e| match e {
                Event::SessionEstablished {
                    session,
                    identity: Some(_),
                } => Some(*session),
                _ => None,
            })
            .unwrap();
        let now = net.now();
        let s2: ImSessionId = net.node(CLIENT).client().rejoin(rejoin_from, now).unwrap();
        run(&mut net, 2);
        let last = *sip_requests(net.wire(), "INVITE").last().unwrap();
        assert_eq!(values(&parsed(last), "P-Preferred-Identity"), expected);
        assert!(net.node(CLIENT).client().is_established(s2));
        // Every other request outside a dialog the profile governs: the
        // conference-state SUBSCRIBE (7.1.1.11) and the recording REFER
        // (13.3.1.2).
        let now = net.now();
        let c = net.node(CLIENT).client();
        c.subscribe_conference(s2, now).unwrap();
        c.request_recording(s2, "sip:history@im.example.com", now)
            .unwrap();
        run(&mut net, 2);
        for method in ["SUBSCRIBE", "REFER"] {
            let requests = sip_requests(net.wire(), method);
            assert!(!requests.is_empty(), "{method}");
            for r in requests {
                let msg = parsed(r);
                assert_eq!(
                    values(&msg, "P-Preferred-Identity"),
                    expected,
                    "{profile:?} {method}"
                );
                assert!(values(&msg, "P-Asserted-Identity").is_empty());
            }
        }
    }
}

#[test]
fn ad_hoc_session_over_a_lossy_network() {
    for seed in 0..12 {
        let mut net = net_with(
            client_config("alice", addr(1), addr(9), seed),
            Script::default(),
            Faults::lossy(20, 10, Duration::from_millis(30)),
            seed,
        );
        let now = net.now();
        let s = net
            .node(CLIENT)
            .client()
            .start_ad_hoc(&["sip:bob@example.com", "sip:carol@example.com"], now)
            .unwrap();
        run(&mut net, 40);
        let now = net.now();
        let c = net.node(CLIENT).client();
        assert!(c.is_established(s), "seed {seed}");
        assert_eq!(
            c.session_identity(s).unwrap().uri,
            "sip:conf-1@192.0.2.9:5060"
        );
        c.leave(s, now).unwrap();
        net.run_until_quiet(Duration::from_secs(300));
        assert!(
            client_events(&net).iter().any(|e| matches!(
                e,
                Event::SessionEnded { session, .. } if *session == s
            )),
            "seed {seed}"
        );
    }
}

#[test]
fn large_message_to_several_recipients_goes_to_the_factory_with_a_list() {
    let mut net = net(Script::default());
    let now = net.now();
    let body = vec![b'x'; 3000];
    net.node(CLIENT)
        .client()
        .send_large_message(
            &["sip:bob@example.com", "sip:carol@example.com"],
            "text/plain",
            &body,
            now,
        )
        .unwrap();
    run(&mut net, 2);
    let invite = the_invite(&net);
    assert!(invite
        .first_line()
        .starts_with("INVITE sip:conference-factory@im.example.com SIP/2.0"));
    assert_initial_request_headers(invite);
    let sdp = sdp_of_invite(invite);
    let (_, media) = sdp.msrp_media().unwrap();
    assert_eq!(sdp.media_direction(media), Direction::SendOnly);
    // The size of what is sent: the content wrapped in CPIM, To the URI
    // the INVITE went to.
    let cpim = oma_im::body::cpim::CpimMessage::new(
        oma_im::body::cpim::CpimAddress::new(None, "sip:alice@example.com"),
        oma_im::body::cpim::CpimAddress::new(None, "sip:conference-factory@im.example.com"),
        "text/plain",
        &body,
    )
    .unwrap();
    let mut wrapped = Vec::new();
    cpim.write(&mut wrapped);
    assert!(wrapped.len() > 3000);
    assert_eq!(media.max_size(), Some(wrapped.len() as u64));
}
