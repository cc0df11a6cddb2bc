//! The IM Client's side of the IM History Function: asking it to record
//! an IM Session (REFER, 13.3.1.2, RFC 3515) and retrieving history
//! (13.2.1.1), against a scripted peer on the simulator ([`oma_im::sim`]), every
//! message moved as bytes.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::body::multipart::{find_resource_lists, find_sdp};
use oma_im::body::resource_lists::ResourceLists;
use oma_im::im::client::{ClientConfig, ClientError, Event, ImSessionId, RecordingRequestId};
use oma_im::sdp::{Direction, SessionDescription};
use oma_im::sim::{Faults, WireRecord};
use support::im::{client_config, Net, Script};
use support::wire::{parsed, sip_requests, values};

const CLIENT: usize = 0;
const HISTORY: &str = "sip:history@history.example.com";

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

fn net_with(config: ClientConfig, script: Script) -> Net {
    let mut net = Net::new(Faults::PERFECT, 3);
    net.add_client(config);
    net.add_server(addr(9), addr(1), script, 4);
    net
}

fn net(script: Script) -> Net {
    net_with(client_config("alice", addr(1), addr(9), 11), script)
}

fn run(net: &mut Net, secs: u64) {
    let until = net.now() + Duration::from_secs(secs);
    net.run_until(until);
}

fn client_events(net: &Net) -> Vec<Event> {
    net.client_events(CLIENT)
}

/// An established Ad-hoc IM Group Session with the scripted focus.
fn group_session(net: &mut Net) -> ImSessionId {
    let now = net.now();
    let session = net
        .node(CLIENT)
        .client()
        .start_ad_hoc(&["sip:bob@example.com"], now)
        .unwrap();
    run(net, 5);
    assert!(net.node(CLIENT).client().is_established(session));
    session
}

fn recording_events(net: &Net, request: RecordingRequestId) -> Vec<Event> {
    client_events(net)
        .into_iter()
        .filter(|e| match e {
            Event::RecordingRequestAnswered { request: r, .. }
            | Event::RecordingRequestNotified { request: r, .. }
            | Event::RecordingRequestTimedOut { request: r } => *r == request,
            _ => false,
        })
        .collect()
}

#[test]
fn recording_request_is_a_refer_to_the_im_session_identity() {
    let mut net = net(Script {
        refer_status: 202,
        refer_notify: vec![
            "SIP/2.0 100 Trying\r\n".to_owned(),
            "SIP/2.0 200 OK\r\n".to_owned(),
        ],
        ..Script::default()
    });
    let session = group_session(&mut net);
    let identity = net
        .node(CLIENT)
        .client()
        .session_identity(session)
        .cloned()
        .unwrap();
    let now = net.now();
    let request = net
        .node(CLIENT)
        .client()
        .request_recording(session, HISTORY, now)
        .unwrap();
    run(&mut net, 5);
    let refers: Vec<WireRecord> = sip_requests(net.wire(), "REFER")
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(refers.len(), 1);
    let refer = parsed(&refers[0]);
    assert_eq!(refer.request_line().unwrap().uri, HISTORY);
    assert_eq!(values(&refer, "Refer-To"), [format!("<{}>", identity.uri)]);
    assert_eq!(values(&refer, "Referred-By"), ["<sip:alice@example.com>"]);
    assert_eq!(values(&refer, "Accept-Contact"), ["*;+g.oma.sip-im"]);
    assert_eq!(
        values(&refer, "User-Agent"),
        ["IM-client/OMA1.0 oma-im-test/1.0"]
    );
    assert!(values(&refer, "Contact")[0].ends_with(";+g.oma.sip-im"));
    assert!(values(&refer, "To")[0].starts_with(&format!("<{HISTORY}>")));
    // 202, then each NOTIFY answered 200 and reported with its sipfrag
    // status; the terminated one ends the request.
    assert_eq!(
        recording_events(&net, request),
        [
            Event::RecordingRequestAnswered {
                request,
                status: 202
            },
            Event::RecordingRequestNotified {
                request,
                status: Some(100),
                terminated: false
            },
            Event::RecordingRequestNotified {
                request,
                status: Some(200),
                terminated: true
            },
        ]
    );
    let notify_oks = net
        .wire()
        .iter()
        .filter(|r| r.from == addr(1) && r.first_line().starts_with("SIP/2.0 200 "))
        .filter(|r| values(&parsed(r), "CSeq")[0].ends_with("NOTIFY"))
        .count();
    assert_eq!(notify_oks, 2);
    // Nothing is left of the request: no guard fires later.
    run(&mut net, 100);
    assert_eq!(recording_events(&net, request).len(), 3);
    let dialogs = net.node(CLIENT).client().user_agent().dialogs().count();
    assert_eq!(dialogs, 1, "only the session's dialog is left");
}

#[test]
fn notifies_that_overtake_the_202_are_reported_and_nothing_is_left() {
    // Over UDP the NOTIFYs of the REFER's implicit subscription may arrive
    // before the 202 (RFC 3515 §2.4.4): here the 202 is held back 2 s.
    for notifies in [
        vec!["SIP/2.0 100 Trying\r\n".to_owned()],
        vec![
            "SIP/2.0 100 Trying\r\n".to_owned(),
            "SIP/2.0 200 OK\r\n".to_owned(),
        ],
    ] {
        let mut net = net(Script {
            refer_status: 202,
            refer_notify: notifies.clone(),
            ..Script::default()
        });
        let session = group_session(&mut net);
        net.sim.delay_matching(
            |bytes| bytes.starts_with(b"SIP/2.0 202 "),
            Duration::from_secs(2),
        );
        let now = net.now();
        let request = net
            .node(CLIENT)
            .client()
            .request_recording(session, HISTORY, now)
            .unwrap();
        run(&mut net, 5);
        // The NOTIFYs were reported first (the 202 was held back), then the
        // 202, which ends the request.
        let mut expected: Vec<Event> = notifies
            .iter()
            .enumerate()
            .map(|(i, frag)| Event::RecordingRequestNotified {
                request,
                status: frag[8..11].parse().ok(),
                terminated: i + 1 == notifies.len(),
            })
            .collect();
        expected.push(Event::RecordingRequestAnswered {
            request,
            status: 202,
        });
        assert_eq!(recording_events(&net, request), expected);
        // Every NOTIFY got 200 (none 481).
        let notify_answers: Vec<String> = net
            .wire()
            .iter()
            .filter(|r| r.from == addr(1) && r.first_line().starts_with("SIP/2.0 "))
            .filter(|r| values(&parsed(r), "CSeq")[0].ends_with("NOTIFY"))
            .map(|r| r.first_line())
            .collect();
        assert_eq!(notify_answers.len(), notifies.len());
        assert!(notify_answers.iter().all(|l| l.starts_with("SIP/2.0 200 ")));
        // The terminated subscription leaves no dialog behind, even though
        // the 202 came after it.
        run(&mut net, 100);
        assert_eq!(recording_events(&net, request).len(), notifies.len() + 1);
        let dialogs = net.node(CLIENT).client().user_agent().dialogs().count();
        assert_eq!(dialogs, 1, "only the session's dialog is left");
    }
}

#[test]
fn refused_recording_request_ends_with_its_error() {
    let mut net = net(Script {
        refer_status: 403,
        ..Script::default()
    });
    let session = group_session(&mut net);
    let now = net.now();
    let request = net
        .node(CLIENT)
        .client()
        .request_recording(session, HISTORY, now)
        .unwrap();
    run(&mut net, 100);
    assert_eq!(
        recording_events(&net, request),
        [Event::RecordingRequestAnswered {
            request,
            status: 403
        }]
    );
    let now = net.now();
    net.node(CLIENT).client().leave(session, now).unwrap();
    net.run_until_quiet(Duration::from_secs(100));
    assert!(net.node(CLIENT).client().is_idle());
}

#[test]
fn recording_request_without_a_terminating_notify_times_out() {
    let mut net = net(Script {
        refer_status: 202,
        ..Script::default()
    });
    let session = group_session(&mut net);
    let now = net.now();
    let request = net
        .node(CLIENT)
        .client()
        .request_recording(session, HISTORY, now)
        .unwrap();
    run(&mut net, 63);
    assert_eq!(recording_events(&net, request).len(), 1);
    run(&mut net, 2);
    assert_eq!(
        recording_events(&net, request),
        [
            Event::RecordingRequestAnswered {
                request,
                status: 202
            },
            Event::RecordingRequestTimedOut { request },
        ]
    );
    let now = net.now();
    net.node(CLIENT).client().leave(session, now).unwrap();
    net.run_until_quiet(Duration::from_secs(100));
    assert!(net.node(CLIENT).client().is_idle());
}

#[test]
fn recording_request_errors_send_nothing() {
    let mut net = net(Script {
        ringing: false,
        invite_status: 0,
        ..Script::default()
    });
    let now = net.now();
    let client = net.node(CLIENT).client();
    let inviting = client.start_ad_hoc(&["sip:bob@example.com"], now).unwrap();
    assert_eq!(
        client.request_recording(inviting, HISTORY, now),
        Err(ClientError::WrongState)
    );
    assert_eq!(
        client.request_recording(inviting, "sip:history@x\r\nX: y", now),
        Err(ClientError::InvalidUri)
    );
    // A one-to-one session has no IM Session Identity of a focus.
    let mut net = net_with(
        client_config("alice", addr(1), addr(9), 11),
        Script {
            focus: None,
            ..Script::default()
        },
    );
    let now = net.now();
    let one = net
        .node(CLIENT)
        .client()
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    run(&mut net, 5);
    let now = net.now();
    let client = net.node(CLIENT).client();
    assert!(client.is_established(one));
    assert_eq!(
        client.request_recording(one, HISTORY, now),
        Err(ClientError::NoSessionIdentity)
    );
    client.leave(one, now).unwrap();
    net.run_until_quiet(Duration::from_secs(100));
    let now = net.now();
    assert_eq!(
        net.node(CLIENT)
            .client()
            .request_recording(one, HISTORY, now),
        Err(ClientError::UnknownSession)
    );
    assert!(sip_requests(net.wire(), "REFER").is_empty());
}

#[test]
fn retrieval_offers_recvonly_with_the_history_references_and_only_receives() {
    let mut net = net(Script {
        focus: None,
        ..Script::default()
    });
    let refs = [
        "sip:msg-1@history.example.com",
        "sip:msg-2@history.example.com",
    ];
    let now = net.now();
    let session = net
        .node(CLIENT)
        .client()
        .retrieve_history(HISTORY, &refs, now)
        .unwrap();
    run(&mut net, 5);
    let invites: Vec<WireRecord> = sip_requests(net.wire(), "INVITE")
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(invites.len(), 1);
    let invite = parsed(&invites[0]);
    assert_eq!(invite.request_line().unwrap().uri, HISTORY);
    let ct = values(&invite, "Content-Type")[0].to_owned();
    assert!(ct.starts_with("multipart/mixed"), "{ct}");
    let sdp = find_sdp(&ct, invite.body(), &Default::default())
        .unwrap()
        .expect("an SDP offer");
    let sdp = SessionDescription::parse(sdp).unwrap();
    let (_, media) = sdp.msrp_media().unwrap();
    assert_eq!(sdp.media_direction(media), Direction::RecvOnly);
    let list = find_resource_lists(&ct, invite.body(), &Default::default())
        .unwrap()
        .expect("a URI list");
    let list = ResourceLists::parse(list, &Default::default()).unwrap();
    let entries: Vec<String> = list.entries().map(|e| e.uri.to_string()).collect();
    assert_eq!(entries, refs);
    assert!(String::from_utf8_lossy(invite.body()).contains("Content-Disposition: recipient-list"));
    // Established: the client only receives on it.
    assert!(client_events(&net).iter().any(|e| matches!(
        e,
        Event::SessionEstablished { session: s, .. } if *s == session
    )));
    let now = net.now();
    assert_eq!(
        net.node(CLIENT)
            .client()
            .send_message(session, "text/plain", b"no", false, now),
        Err(ClientError::ReceiveOnly)
    );
    assert!(!net.wire().iter().any(|r| r.from == addr(1)
        && r.bytes.starts_with(b"MSRP ")
        && r.bytes.windows(5).any(|w| w == b"SEND\r")));
}

#[test]
fn retrieval_request_errors_send_nothing() {
    let mut config = client_config("alice", addr(1), addr(9), 11);
    config.limits.max_history_references = 2;
    let mut net = net_with(config, Script::default());
    let now = net.now();
    let client = net.node(CLIENT).client();
    assert_eq!(
        client.retrieve_history(HISTORY, &[], now),
        Err(ClientError::NoRecipient)
    );
    assert_eq!(
        client.retrieve_history(HISTORY, &["sip:a@h", "sip:b@h", "sip:c@h"], now),
        Err(ClientError::TooManyReferences {
            references: 3,
            max: 2
        })
    );
    assert_eq!(
        client.retrieve_history("", &["sip:a@h"], now),
        Err(ClientError::InvalidUri)
    );
    assert!(client.is_idle());
    assert_eq!(client.poll_output(), None, "nothing is sent");
}

#[test]
fn a_notify_without_a_sipfrag_status_line_is_reported_without_status() {
    let mut net = net(Script {
        refer_status: 202,
        refer_notify: vec!["SIP/2.0 2x0 OK\r\n".to_owned(), "garbage".to_owned()],
        ..Script::default()
    });
    let session = group_session(&mut net);
    let now = net.now();
    let request = net
        .node(CLIENT)
        .client()
        .request_recording(session, HISTORY, now)
        .unwrap();
    run(&mut net, 5);
    assert_eq!(
        recording_events(&net, request)[1..],
        [
            Event::RecordingRequestNotified {
                request,
                status: None,
                terminated: false
            },
            Event::RecordingRequestNotified {
                request,
                status: None,
                terminated: true
            },
        ]
    );
}
