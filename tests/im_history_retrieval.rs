//! IM History Function, retrieval (OMA-TS-SIMPLE_IM 13.2.1.1 and the
//! delivery of 13.3.3): an IM Client's INVITE with a URI-list of history
//! references, on the simulator (`oma_im::sim`), every message moved as
//! bytes.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::body::cpim::CpimMessage;
use oma_im::dialog::RequestSpec;
use oma_im::im::history::{Event, HistoryConfig, RejectReason};
use oma_im::im::trust::{TrustDomain, TrustedPeer};
use oma_im::msrp::{parse_message_prefix, Limits as MsrpLimits, Method as MsrpMethod};
use oma_im::sdp::{Direction, SessionDescription};
use oma_im::sip::{HeaderName, Method, SipMessage};

use oma_im::sim::{Faults, WireKind};
use support::im_history::{contains, sip, stored_item, HistoryApp, Net, Script, ScriptedPeer};

const CLIENT: &str = "10.0.0.1:5060";
const HISTORY: &str = "10.0.0.2:5060";
const ALICE: &str = "sip:alice@example.com";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A network with an IM Client (node 0) and the History Function (node 1)
/// holding three stored items, of which Alice may read.
fn setup(config: impl FnOnce(&mut HistoryConfig)) -> Net {
    let mut net = Net::new(Faults::PERFECT, 7);
    let client = ScriptedPeer::new(addr(CLIENT), addr(HISTORY), 1, Script::default());
    let mut c = HistoryConfig::new("sip:history@im.example.com", addr(HISTORY), addr(CLIENT));
    c.product = "oma-im-test/1.0".to_owned();
    c.seed = 2.into();
    // The client stands in for the SIP/IP Core that asserts its identity:
    // it is the History Function's trust domain (RFC 3325).
    c.trust = TrustDomain::new().with_peer(TrustedPeer::host(addr(CLIENT).ip()));
    config(&mut c);
    let mut history = HistoryApp::new(&[ALICE]);
    let history_config = c;
    history.store = vec![
        (
            "sip:msg-1@history.example.com".to_owned(),
            stored_item(
                "sip:bob@example.com",
                "sip:conf-1@im.example.com",
                "2008-09-03T10:00:00Z",
                "first",
            ),
        ),
        (
            "sip:msg-2@history.example.com".to_owned(),
            stored_item(
                "sip:carol@example.com",
                "sip:conf-1@im.example.com",
                "2008-09-03T10:01:30+02:00",
                "second",
            ),
        ),
        (
            "sip:msg-3@history.example.com".to_owned(),
            stored_item(
                "sip:bob@example.com",
                "sip:alice@example.com",
                "2008-09-03T10:02:00Z",
                &"x".repeat(5000),
            ),
        ),
    ];
    net.add_scripted("client", client);
    net.add_history(history_config, history);
    net
}

fn uri_list(refs: &[&str]) -> String {
    let entries: String = refs
        .iter()
        .map(|r| format!("<entry uri=\"{r}\"/>"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>{entries}</list></resource-lists>"
    )
}

/// The retrieval INVITE: SDP offer with `direction`, the URI-list (if
/// any), P-Asserted-Identity (if any).
fn invite(net: &mut Net, refs: Option<&[&str]>, pai: Option<&str>, direction: Direction) {
    let now = net.now();
    let client = net.node(0).scripted();
    let sdp = String::from_utf8(client.retrieval_offer(direction)).unwrap();
    let (ct, body) = match refs {
        Some(refs) => (
            "multipart/mixed;boundary=hist-b".to_owned(),
            format!(
                "--hist-b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--hist-b\r\n\
                 Content-Type: application/resource-lists+xml\r\nContent-Disposition: recipient-list\r\n\r\n{}\r\n--hist-b--\r\n",
                uri_list(refs)
            ),
        ),
        None => ("application/sdp".to_owned(), sdp),
    };
    let mut spec = RequestSpec::new(
        Method::Invite,
        "sip:history@10.0.0.2:5060",
        format!("<{ALICE}>"),
        "<sip:history@im.example.com>",
    )
    .with_header("Accept-Contact", "*;+g.oma.sip-im")
    .with_body(&ct, body.into_bytes());
    if let Some(p) = pai {
        spec = spec.with_header("P-Asserted-Identity", format!("<{p}>"));
    }
    client.send(spec, now);
}

const REFS: &[&str] = &[
    "sip:msg-1@history.example.com",
    "sip:msg-2@history.example.com",
    "sip:msg-3@history.example.com",
];

fn run(net: &mut Net) {
    net.run_until_quiet(Duration::from_secs(120));
}

/// The SIP responses the History Function sent to the client.
fn responses(net: &Net) -> Vec<Vec<u8>> {
    net.wire()
        .iter()
        .filter(|r| {
            r.from == addr(HISTORY) && r.to == addr(CLIENT) && r.bytes.starts_with(b"SIP/2.0 ")
        })
        .map(|r| r.bytes.clone())
        .collect()
}

/// The final response to the INVITE.
fn invite_final(net: &Net) -> Vec<u8> {
    responses(net)
        .into_iter()
        .find(|b| {
            let m = sip(b);
            m.status_code().unwrap() >= 200 && m.cseq().unwrap().unwrap().method == Method::Invite
        })
        .expect("a final response to the INVITE")
}

fn history_events(net: &Net) -> Vec<Event> {
    net.history_events()
}

fn header<'a>(m: &SipMessage<'a>, name: &str) -> Option<&'a str> {
    m.header(HeaderName::parse(name)).map(|h| h.value)
}

#[test]
fn invite_without_p_asserted_identity_is_rejected_403() {
    let mut net = setup(|_| {});
    invite(&mut net, Some(REFS), None, Direction::RecvOnly);
    run(&mut net);
    let r = invite_final(&net);
    assert_eq!(sip(&r).status_code(), Some(403));
    assert!(history_events(&net).contains(&Event::RetrievalRefused {
        status: 403,
        reason: RejectReason::NoAssertedIdentity
    }));
    assert!(!history_events(&net)
        .iter()
        .any(|e| matches!(e, Event::RetrievalRequested { .. })));
    let h = net.node(1).history();
    assert_eq!(h.history.sessions().count(), 0);
    assert!(h.history.is_idle(), "{:?}", h.history);
}

#[test]
fn missing_identity_status_is_configurable() {
    let mut net = setup(|c| c.missing_identity_status = 401);
    invite(&mut net, Some(REFS), None, Direction::RecvOnly);
    run(&mut net);
    assert_eq!(sip(&invite_final(&net)).status_code(), Some(401));
}

#[test]
fn allow_of_invite_is_stored() {
    let mut net = setup(|_| {});
    net.node(1).history().auto_answer = false;
    invite(&mut net, Some(REFS), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let inv = net
        .wire()
        .iter()
        .find(|r| r.first_line().starts_with("INVITE"))
        .unwrap();
    let sent_allow: Vec<String> = sip(&inv.bytes)
        .allow()
        .unwrap()
        .unwrap()
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect();
    assert!(!sent_allow.is_empty());
    let allow = history_events(&net)
        .into_iter()
        .find_map(|e| match e {
            Event::RetrievalRequested { allow, .. } => Some(allow),
            _ => None,
        })
        .unwrap();
    assert_eq!(allow, sent_allow);
}

#[test]
fn sdp_not_recvonly_gets_403() {
    for direction in [
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::Inactive,
    ] {
        let mut net = setup(|_| {});
        invite(&mut net, Some(REFS), Some(ALICE), direction);
        run(&mut net);
        let r = invite_final(&net);
        assert_eq!(sip(&r).status_code(), Some(403), "{direction:?}");
        assert!(history_events(&net).contains(&Event::RetrievalRefused {
            status: 403,
            reason: RejectReason::NotRecvOnly
        }));
    }
}

#[test]
fn body_without_uri_list_is_rejected_with_a_reason() {
    let mut net = setup(|_| {});
    invite(&mut net, None, Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let r = invite_final(&net);
    let m = sip(&r);
    assert_eq!(m.status_code(), Some(400));
    let warning = header(&m, "Warning").unwrap();
    assert!(
        warning.starts_with("399 ") && warning.contains("no URI-list"),
        "{warning}"
    );
    assert!(history_events(&net).contains(&Event::RetrievalRefused {
        status: 400,
        reason: RejectReason::NoUriList
    }));
}

#[test]
fn uri_list_over_the_limit_gets_413() {
    let mut net = setup(|c| c.limits.max_history_references = 2);
    invite(&mut net, Some(REFS), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let r = invite_final(&net);
    let m = sip(&r);
    assert_eq!(m.status_code(), Some(413));
    assert!(header(&m, "Warning")
        .unwrap()
        .contains("too many history references"));
}

#[test]
fn requester_not_allowed_by_the_application_gets_403() {
    let mut net = setup(|_| {});
    invite(
        &mut net,
        Some(REFS),
        Some("sip:mallory@example.com"),
        Direction::RecvOnly,
    );
    run(&mut net);
    assert_eq!(sip(&invite_final(&net)).status_code(), Some(403));
    assert!(history_events(&net).contains(&Event::RetrievalRefused {
        status: 403,
        reason: RejectReason::NotAuthorized
    }));
    let requester = history_events(&net).into_iter().find_map(|e| match e {
        Event::RetrievalRequested { requester, .. } => Some(requester),
        _ => None,
    });
    assert_eq!(requester.as_deref(), Some("sip:mallory@example.com"));
}

#[test]
fn responses_follow_rfc3261_and_carry_server_allow() {
    let mut net = setup(|_| {});
    invite(&mut net, Some(REFS), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let inv_bytes = net
        .wire()
        .iter()
        .find(|r| r.first_line().starts_with("INVITE"))
        .unwrap()
        .bytes
        .clone();
    let inv = sip(&inv_bytes);
    let ok = invite_final(&net);
    let ok = sip(&ok);
    assert_eq!(ok.status_code(), Some(200));
    // RFC 3261 §8.2.6.2: Via, From, Call-ID, CSeq copied; a To tag added.
    // (with the received/rport values of RFC 3581 filled in).
    let via = header(&inv, "Via").unwrap();
    assert!(header(&ok, "Via")
        .unwrap()
        .starts_with(via.trim_end_matches(";rport")));
    assert_eq!(ok.header_values(HeaderName::Via).count(), 1);
    assert_eq!(header(&ok, "From"), header(&inv, "From"));
    assert_eq!(header(&ok, "Call-ID"), header(&inv, "Call-ID"));
    assert_eq!(header(&ok, "CSeq"), header(&inv, "CSeq"));
    assert!(ok.to().unwrap().unwrap().tag().is_some());
    for r in responses(&net) {
        let m = sip(&r);
        if m.status_code() == Some(100) {
            continue;
        }
        let server = header(&m, "Server").expect("Server");
        assert_eq!(server, "IM-serv/OMA1.0 oma-im-test/1.0");
        let allow = m.allow().expect("Allow").unwrap();
        assert!(allow.contains(Method::Invite) && allow.contains(Method::Bye));
    }
    // Rejections carry them too.
    let mut net = setup(|_| {});
    invite(&mut net, Some(REFS), Some(ALICE), Direction::SendRecv);
    run(&mut net);
    let r = invite_final(&net);
    let m = sip(&r);
    assert!(header(&m, "Server").unwrap().starts_with("IM-serv/OMA1.0"));
    assert!(m.allow().unwrap().unwrap().contains(Method::Invite));
}

#[test]
fn contact_of_200_carries_the_im_session_identity() {
    let mut net = setup(|_| {});
    invite(&mut net, Some(REFS), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let ok = invite_final(&net);
    let contact = header(&sip(&ok), "Contact").unwrap().to_owned();
    assert!(
        contact.starts_with("<sip:history-") && contact.contains("@10.0.0.2:5060>"),
        "{contact}"
    );
    assert!(contact.ends_with(";+g.oma.sip-im"));
    // The client's BYE-less end: the History Function's BYE came; the
    // client used the identity as remote target for its ACK.
    let ack = net
        .wire()
        .iter()
        .find(|r| r.first_line().starts_with("ACK"))
        .unwrap();
    let uri = contact.trim_start_matches('<').split('>').next().unwrap();
    assert_eq!(ack.first_line(), format!("ACK {uri} SIP/2.0"));
    // A second retrieval gets another identity.
    invite(&mut net, Some(REFS), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let contacts: Vec<String> = responses(&net)
        .iter()
        .filter(|b| {
            sip(b).status_code() == Some(200)
                && sip(b).cseq().unwrap().unwrap().method == Method::Invite
        })
        .map(|b| header(&sip(b), "Contact").unwrap().to_owned())
        .collect();
    assert_eq!(contacts.len(), 2);
    assert_ne!(contacts[0], contacts[1]);
}

#[test]
fn ok_carries_sdp_answer_sendonly_to_the_client() {
    let mut net = setup(|_| {});
    invite(&mut net, Some(REFS), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let rec = net
        .wire()
        .iter()
        .find(|r| {
            r.from == addr(HISTORY)
                && r.first_line().starts_with("SIP/2.0 200")
                && contains(&r.bytes, b"INVITE\r\n")
        })
        .unwrap();
    assert_eq!(rec.to, addr(CLIENT));
    let ok = sip(&rec.bytes);
    assert_eq!(header(&ok, "Content-Type"), Some("application/sdp"));
    let sdp = SessionDescription::parse(ok.body()).unwrap();
    let (_, media) = sdp.msrp_media().unwrap();
    assert_eq!(sdp.media_direction(media), Direction::SendOnly);
    assert!(contains(ok.body(), b"a=sendonly\r\n"));
    assert!(media.accept_types().unwrap().matches("message/cpim"));
}

/// The MSRP SENDs the History Function wrote, parsed.
fn sends(net: &Net) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for r in net
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Msrp && r.from.ip() == addr(HISTORY).ip())
    {
        let mut rest = &r.bytes[..];
        while !rest.is_empty() {
            let (msg, used) = parse_message_prefix(rest, &MsrpLimits::default()).unwrap();
            // (not the SEND without body that binds the connection)
            if msg.head.method() == Some(MsrpMethod::Send)
                && msg.body.is_some_and(|b| !b.is_empty())
            {
                out.push(rest[..used].to_vec());
            }
            rest = &rest[used..];
        }
    }
    out
}

#[test]
fn every_reference_is_retrieved_and_delivered_in_order() {
    let mut net = setup(|_| {});
    invite(&mut net, Some(REFS), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let asked: Vec<(usize, String)> = history_events(&net)
        .into_iter()
        .filter_map(|e| match e {
            Event::HistoryItemRequested {
                index, reference, ..
            } => Some((index, reference)),
            _ => None,
        })
        .collect();
    let expected: Vec<(usize, String)> = REFS
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.to_string()))
        .collect();
    assert_eq!(asked, expected);
    let received = net.node(0).scripted().received.clone();
    assert_eq!(received.len(), 3);
    for (got, (_, stored)) in received.iter().zip(net.node(1).history().store.clone()) {
        assert_eq!(got.content_type, "message/cpim");
        let cpim = got.cpim.clone().unwrap().unwrap();
        assert_eq!(cpim.content, stored.content);
    }
    assert!(history_events(&net).iter().any(|e| matches!(
        e,
        Event::RetrievalCompleted {
            delivered: 3,
            missing: 0,
            failed: 0,
            ..
        }
    )));
}

#[test]
fn msrp_send_is_cpim_with_original_from_to_datetime_one_per_item_chunked() {
    let mut net = setup(|c| c.chunk_size = 2048);
    invite(&mut net, Some(REFS), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    let sends = sends(&net);
    let store = net.node(1).history().store.clone();
    // Items 1 and 2 fit in one chunk; item 3 (5000 bytes of text) needs 3.
    assert_eq!(sends.len(), 5);
    let mut ids = Vec::new();
    for s in &sends {
        let (m, _) = parse_message_prefix(s, &MsrpLimits::default()).unwrap();
        assert_eq!(m.head.content_type, Some("message/cpim"));
        ids.push(m.head.message_id.unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "one MSRP message per item");
    let received = net.node(0).scripted().received.clone();
    for (got, (_, stored)) in received.iter().zip(&store) {
        let cpim = CpimMessage::parse(&got.body).unwrap();
        assert_eq!(
            cpim.from.as_ref().map(|a| a.uri.to_string()),
            stored.from.as_ref().map(|a| a.uri.to_string())
        );
        assert_eq!(cpim.to.len(), 1);
        assert_eq!(cpim.to[0].uri, stored.to[0].uri);
        assert_eq!(cpim.date_time.as_deref(), stored.date_time.as_deref());
        assert_eq!(cpim.mime_headers.get("Content-Type"), Some("text/plain"));
    }
}

#[test]
fn missing_item_is_skipped_and_session_ends_with_bye() {
    let mut net = setup(|_| {});
    let refs = [
        "sip:msg-1@history.example.com",
        "sip:gone@history.example.com",
    ];
    invite(&mut net, Some(&refs), Some(ALICE), Direction::RecvOnly);
    run(&mut net);
    assert_eq!(net.node(0).scripted().received.len(), 1);
    let events = history_events(&net);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::RetrievalCompleted {
            delivered: 1,
            missing: 1,
            failed: 0,
            ..
        }
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: oma_im::im::history::EndReason::Completed,
            ..
        }
    )));
    let bye = net
        .wire()
        .iter()
        .find(|r| r.first_line().starts_with("BYE"))
        .expect("BYE");
    assert_eq!(bye.from, addr(HISTORY));
    assert!(net.is_idle());
}

#[test]
fn lossy_network_still_delivers_everything() {
    let mut net = setup(|_| {});
    let mut lossy: Net = Net::new(Faults::lossy(20, 10, Duration::from_millis(30)), 11);
    // Move the nodes onto the lossy network.
    let mut c = HistoryConfig::new("sip:history@im.example.com", addr(HISTORY), addr(CLIENT));
    c.seed = 3.into();
    c.trust = TrustDomain::new().with_peer(TrustedPeer::host(addr(CLIENT).ip()));
    let mut h = HistoryApp::new(&[ALICE]);
    let h_config = c;
    h.store = net.node(1).history().store.clone();
    lossy.add_scripted(
        "client",
        ScriptedPeer::new(addr(CLIENT), addr(HISTORY), 4, Script::default()),
    );
    lossy.add_history(h_config, h);
    invite(&mut lossy, Some(REFS), Some(ALICE), Direction::RecvOnly);
    lossy.run_until_quiet(Duration::from_secs(300));
    assert_eq!(lossy.node(0).scripted().received.len(), 3);
    assert!(lossy.is_idle());
}

/// Over 3GPP IMS the identity is the one the network asserts
/// (P-Asserted-Identity, TS 24.229), even when the From is anonymous.
#[test]
fn ims_requester_is_the_network_asserted_identity() {
    let mut net = setup(|_| {});
    let now = net.now();
    let client = net.node(0).scripted();
    let sdp = String::from_utf8(client.retrieval_offer(Direction::RecvOnly)).unwrap();
    let body = format!(
        "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n{}\r\n--b--\r\n",
        uri_list(&REFS[..1])
    );
    let spec = RequestSpec::new(
        Method::Invite,
        "sip:history@10.0.0.2:5060",
        "\"Anonymous\" <sip:anonymous@anonymous.invalid>",
        "<sip:history@im.example.com>",
    )
    .with_header("P-Asserted-Identity", format!("<{ALICE}>"))
    .with_header("Privacy", "id")
    .with_body("multipart/mixed;boundary=b", body.into_bytes());
    client.send(spec, now);
    run(&mut net);
    let requester = history_events(&net).into_iter().find_map(|e| match e {
        Event::RetrievalRequested { requester, .. } => Some(requester),
        _ => None,
    });
    assert_eq!(requester.as_deref(), Some(ALICE));
    assert_eq!(sip(&invite_final(&net)).status_code(), Some(200));
    assert_eq!(net.node(0).scripted().received.len(), 1);
}
