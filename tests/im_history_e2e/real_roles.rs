//! Issue #8 end to end with the real roles on the simulator ([`oma_im::sim`]):
//! Alice ([`ImClient`]) starts an Ad-hoc IM Group Session with Bob and
//! Carol through the controlling [`ImServer`]; she asks the
//! [`ImHistoryFunction`] (REFER) to record it; the History Function joins
//! the IM Session Identity (`a=recvonly`) and records every message; after
//! the session Alice retrieves the history with a URI-list INVITE and gets
//! each stored message over MSRP with its original CPIM headers. Every SIP
//! message crosses the network as bytes through the SIP/IP Core; MSRP
//! crosses on TCP connections the roles open and accept.
//!
//! [`ImClient`]: oma_im::im::client::ImClient
//! [`ImServer`]: oma_im::im::server::ImServer
//! [`ImHistoryFunction`]: oma_im::im::history::ImHistoryFunction

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::im::client::{self, EndReason, ImSessionId};
use oma_im::im::history::{self, HistoryConfig};
use oma_im::im::server::{self, RecordingPolicy};
use oma_im::im::trust::{TrustDomain, TrustedPeer};
use oma_im::im::SipIpCoreProfile;
use oma_im::sdp::{Direction, SessionDescription};
use oma_im::sip::{parse_message, HeaderName, SipMessage};

use oma_im::sim::{Faults, SimEvent, WireKind, WireRecord};

use crate::support::im::client_config;
use crate::support::im_history::{HistoryApp, HistoryNode};
use crate::support::im_server::scenario::config;
use crate::support::im_server::{client_addr, ims_core, Group, NodeMut, CORE, FACTORY, SERVER};

const HISTORY: &str = "10.0.0.30:5060";
const HISTORY_URI: &str = "sip:history@10.0.0.30:5060";
const ALICE: &str = "sip:alice@example.com";
const BOB: &str = "sip:bob@example.com";
const CAROL: &str = "sip:carol@example.com";
const USERS: [&str; 3] = ["alice", "bob", "carol"];
// Node indices (the core is 0, the server 1).
const A: usize = 2;
const B: usize = 3;
const C: usize = 4;
const H: usize = 5;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// An IMS core (it asserts the identity the clients prefer), the bridged
/// IM Server, the three IM Clients, the History Function (1 KiB chunks).
fn network(conditions: Faults) -> Group {
    network_with(conditions, RecordingPolicy::default())
}

/// As [`network`], the server admitting recordings by `recording`.
fn network_with(conditions: Faults, recording: RecordingPolicy) -> Group {
    let mut cfg = config();
    cfg.msrp_authority = SERVER.to_owned();
    cfg.recording = recording;
    // An IMS deployment: the core is the server's trust domain (RFC 3325).
    cfg.trust = TrustDomain::new().with_peer(TrustedPeer::host(addr(CORE).ip()));
    let mut net = Group::new(conditions, 8, ims_core(), cfg);
    for (i, user) in USERS.iter().enumerate() {
        let mut c = client_config(user, client_addr(user), addr(CORE), 200 + i as u64);
        c.conference_factory_uri = FACTORY.to_owned();
        c.profile = SipIpCoreProfile::Ims;
        net.add_client(c);
    }
    let mut h = HistoryConfig::new("sip:history@history.example.com", addr(HISTORY), addr(CORE));
    h.chunk_size = 1024;
    h.seed = 9.into();
    h.trust = TrustDomain::new().with_peer(TrustedPeer::host(addr(CORE).ip()));
    h.product = "oma-im-test/1.0".to_owned();
    net.add_history(h, HistoryApp::new(&[ALICE]));
    net
}

fn history(net: &mut Group) -> HistoryNode<'_> {
    net.history(H)
}

/// Runs for `secs` of virtual time, the invitees accepting every invitation.
fn run_for(net: &mut Group, secs: u64) {
    let until = net.now() + Duration::from_secs(secs);
    net.run_until(until, accept_invitations);
}

fn accept_invitations(_: usize, node: NodeMut<'_>, event: &SimEvent, now: std::time::Instant) {
    if let SimEvent::Client(client::Event::InvitationReceived { session, .. }) = event {
        node.client().accept(*session, now).expect("accept");
    }
}

fn history_events(net: &Group) -> Vec<history::Event> {
    net.sim
        .events()
        .iter()
        .filter_map(|r| match &r.event {
            SimEvent::History(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// The SIP messages from `from` to `to` whose start line starts with
/// `start`, each distinct one once.
fn sip<'w>(wire: &'w [WireRecord], from: &str, to: SocketAddr, start: &str) -> Vec<&'w WireRecord> {
    let from = addr(from);
    let mut seen: Vec<&[u8]> = Vec::new();
    wire.iter()
        .filter(|r| r.from == from && r.to == to && r.first_line().starts_with(start))
        .filter(|r| {
            let fresh = !seen.contains(&r.bytes.as_slice());
            seen.push(&r.bytes);
            fresh
        })
        .collect()
}

fn header<'m>(msg: &'m SipMessage<'_>, name: &str) -> Option<&'m str> {
    msg.header(HeaderName::parse(name)).map(|h| h.value)
}

/// The direction of the MSRP media line of the SDP in a SIP message.
fn direction(bytes: &[u8]) -> Direction {
    let msg = parse_message(bytes).unwrap();
    let ct = header(&msg, "Content-Type").unwrap();
    let sdp = oma_im::body::multipart::find_sdp(ct, msg.body(), &Default::default())
        .unwrap()
        .expect("an SDP body");
    let sdp = SessionDescription::parse(sdp).unwrap();
    let (_, media) = sdp.msrp_media().expect("an MSRP line");
    sdp.media_direction(media)
}

/// A message as the application sees it: CPIM From, To, DateTime, content.
type Seen = (Option<String>, Vec<String>, Option<String>, Vec<u8>);

/// What each user said: (sender node, sender URI, DateTime, text).
fn said() -> Vec<(usize, &'static str, &'static str, String)> {
    vec![
        (B, BOB, "2008-09-03T10:00:00Z", "hello all".to_owned()),
        (C, CAROL, "2008-09-03T10:00:05-05:00", "hi bob".to_owned()),
        (
            A,
            ALICE,
            "2008-09-03T10:01:00Z",
            "long message ".repeat(400),
        ),
    ]
}

/// The whole flow; returns the network and Alice's group session.
fn record_and_retrieve(conditions: Faults) -> (Group, ImSessionId) {
    let mut net = network(conditions);
    // 1. Alice starts the Ad-hoc IM Group Session with Bob and Carol.
    let now = net.now();
    let session = net.client(A).start_ad_hoc(&[BOB, CAROL], now).unwrap();
    run_for(&mut net, 20);
    for index in [A, B, C] {
        assert!(
            net.client_events(index)
                .iter()
                .any(|e| matches!(e, client::Event::SessionEstablished { .. })),
            "node {index} in the session ({conditions:?})"
        );
    }
    // Alice follows the conference state.
    let now = net.now();
    net.client(A).subscribe_conference(session, now).unwrap();
    run_for(&mut net, 10);
    // 2. She asks the History Function to record it.
    let now = net.now();
    net.client(A)
        .request_recording(session, HISTORY_URI, now)
        .unwrap();
    run_for(&mut net, 40);
    // 3. Bob, Carol and Alice speak, one after the other.
    for (index, _, date, text) in said() {
        let now = net.now();
        let s = net
            .client_events(index)
            .iter()
            .find_map(|e| match e {
                client::Event::SessionEstablished { session, .. } => Some(*session),
                _ => None,
            })
            .unwrap();
        net.client(index)
            .send_message_dated(s, "text/plain", text.as_bytes(), false, date, now)
            .unwrap();
        run_for(&mut net, 10);
    }
    assert_eq!(history(&mut net).store.len(), 3, "{conditions:?}");
    // The recorder is a leg of the switch, not a user of the roster: Alice
    // is listed once.
    let mut roster = net.client(A).participants(session);
    roster.sort();
    assert_eq!(roster, [ALICE, BOB, CAROL], "{conditions:?}");
    // 4. The session ends: everybody leaves.
    for index in [B, C, A] {
        let now = net.now();
        let s = net
            .client_events(index)
            .iter()
            .find_map(|e| match e {
                client::Event::SessionEstablished { session, .. } => Some(*session),
                _ => None,
            })
            .unwrap();
        net.client(index).leave(s, now).unwrap();
        run_for(&mut net, 5);
    }
    net.run_until_quiet(Duration::from_secs(600), accept_invitations);
    // 5. Later Alice retrieves what was recorded.
    let refs: Vec<String> = history(&mut net)
        .store
        .iter()
        .map(|(r, _)| r.clone())
        .collect();
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let now = net.now();
    net.client(A)
        .retrieve_history(HISTORY_URI, &refs, now)
        .unwrap();
    net.run_until_quiet(Duration::from_secs(600), accept_invitations);
    (net, session)
}

fn check(conditions: Faults) {
    let (mut net, session) = record_and_retrieve(conditions);
    let identity = net
        .client(A)
        .session_identity(session)
        .cloned()
        .expect("the IM Session Identity");
    assert!(identity.is_focus);
    let (hf, alice) = (addr(HISTORY), client_addr("alice"));
    let stored: Vec<String> = history(&mut net)
        .store
        .iter()
        .map(|(r, _)| r.clone())
        .collect();
    let core = addr(CORE);

    // The REFER: Refer-To the IM Session Identity, Referred-By Alice, and
    // the client's headers of an initial request.
    let refers = sip(net.wire(), "10.0.0.21:5060", core, "REFER ");
    assert!(!refers.is_empty());
    let refer = parse_message(&refers[0].bytes).unwrap();
    assert_eq!(refer.request_line().unwrap().uri, HISTORY_URI);
    assert_eq!(
        header(&refer, "Refer-To"),
        Some(format!("<{}>", identity.uri).as_str())
    );
    assert_eq!(
        header(&refer, "Referred-By"),
        Some("<sip:alice@example.com>")
    );
    assert_eq!(
        header(&refer, "P-Preferred-Identity"),
        Some("<sip:alice@example.com>")
    );
    assert_eq!(header(&refer, "Accept-Contact"), Some("*;+g.oma.sip-im"));
    assert!(header(&refer, "User-Agent")
        .unwrap()
        .starts_with("IM-client/OMA1.0"));
    // ... answered 202; the outcome NOTIFYed: the History Function's INVITE
    // got 200, the subscription terminated.
    let events = net.client_events(A);
    assert!(events.iter().any(|e| matches!(
        e,
        client::Event::RecordingRequestAnswered { status: 202, .. }
    )));
    let notified = events.iter().any(|e| {
        matches!(
            e,
            client::Event::RecordingRequestNotified {
                status: Some(200),
                terminated: true,
                ..
            }
        )
    });
    // Over UDP the NOTIFY can overtake the 202: it creates the
    // subscription's dialog (RFC 6665 §4.1.2.4) and is reported all the same.
    assert!(notified, "{conditions:?}");

    // The History Function's INVITE: to the IM Session Identity, From
    // Alice (13.3.1.2 steps 1, 2), an SDP offer with a=recvonly (step 3),
    // towards the IM Server through the core (step 4).
    let invites: Vec<&WireRecord> = sip(net.wire(), HISTORY, core, "INVITE ")
        .into_iter()
        .filter(|r| {
            parse_message(&r.bytes)
                .unwrap()
                .request_line()
                .is_some_and(|l| l.uri == identity.uri)
        })
        .collect();
    assert_eq!(invites.len(), 1, "{conditions:?}");
    let invite = parse_message(&invites[0].bytes).unwrap();
    assert!(header(&invite, "From")
        .unwrap()
        .starts_with("<sip:alice@example.com>"));
    assert_eq!(direction(&invites[0].bytes), Direction::RecvOnly);
    assert!(net
        .wire()
        .iter()
        .any(|r| r.from == core && r.to == addr(SERVER) && r.bytes == invites[0].bytes));
    // The server's 200 to it: a=sendonly, the focus's Contact.
    let call_id = header(&invite, "Call-ID").unwrap().to_owned();
    let ok = sip(net.wire(), SERVER, core, "SIP/2.0 200 ")
        .into_iter()
        .find(|r| {
            let m = parse_message(&r.bytes).unwrap();
            header(&m, "Call-ID") == Some(call_id.as_str())
                && header(&m, "CSeq").is_some_and(|c| c.ends_with("INVITE"))
        })
        .expect("the server's 200 to the History Function");
    assert_eq!(direction(&ok.bytes), Direction::SendOnly);
    let ok = parse_message(&ok.bytes).unwrap();
    assert!(header(&ok, "Contact").unwrap().contains(&identity.uri));
    // The History Function joined, and subscribed to the conference state.
    let hevents = history_events(&net);
    let recording = hevents
        .iter()
        .find_map(|e| match e {
            history::Event::RecordingStarted { session, info } => Some((*session, info.clone())),
            _ => None,
        })
        .expect("recording started");
    assert_eq!(
        recording
            .1
            .im_session_identity
            .as_ref()
            .map(|i| i.uri.as_str()),
        Some(identity.uri.as_str())
    );
    assert!(hevents
        .iter()
        .any(|e| matches!(e, history::Event::ConferenceState { .. })));
    assert!(!sip(net.wire(), HISTORY, core, "SUBSCRIBE ").is_empty());

    // Every message was recorded with its sender's CPIM From (not the
    // focus), the session as To, and its DateTime.
    let recorded: Vec<history::RecordedMessage> = hevents
        .iter()
        .filter_map(|e| match e {
            history::Event::MessageRecorded { message, .. } => Some((**message).clone()),
            _ => None,
        })
        .collect();
    assert_eq!(recorded.len(), 3, "{conditions:?}");

    // The session ended; the server released the History Function (BYE).
    assert!(hevents.iter().any(|e| matches!(
        e,
        history::Event::SessionEnded {
            session,
            reason: history::EndReason::ByeReceived,
        } if *session == recording.0
    )));

    // The retrieval: INVITE with a=recvonly and the URI list ...
    let retrieval = sip(net.wire(), "10.0.0.21:5060", core, "INVITE ")
        .into_iter()
        .find(|r| {
            parse_message(&r.bytes)
                .unwrap()
                .request_line()
                .is_some_and(|l| l.uri == HISTORY_URI)
        })
        .expect("the retrieval INVITE");
    assert_eq!(direction(&retrieval.bytes), Direction::RecvOnly);
    let text = String::from_utf8_lossy(&retrieval.bytes);
    assert!(text.contains("Content-Disposition: recipient-list"));
    for reference in &stored {
        assert!(
            text.contains(&format!("<entry uri=\"{reference}\"")),
            "{text}"
        );
    }
    // ... answered 200 with a=sendonly.
    let retrieval_call_id = header(&parse_message(&retrieval.bytes).unwrap(), "Call-ID")
        .unwrap()
        .to_owned();
    let ok = sip(net.wire(), HISTORY, core, "SIP/2.0 200 ")
        .into_iter()
        .find(|r| {
            header(&parse_message(&r.bytes).unwrap(), "Call-ID") == Some(retrieval_call_id.as_str())
        })
        .expect("the History Function's 200");
    assert_eq!(direction(&ok.bytes), Direction::SendOnly);

    // Alice received each stored message over MSRP, in order, with its
    // original CPIM From, To and DateTime.
    let retrieved = net
        .client_events(A)
        .into_iter()
        .find_map(|e| match e {
            client::Event::SessionEstablished { session: s, .. } if s != session => Some(s),
            _ => None,
        })
        .expect("the retrieval session");
    let got: Vec<Seen> = net
        .client_events(A)
        .into_iter()
        .filter_map(|e| match e {
            client::Event::MessageReceived {
                session,
                from,
                to,
                date_time,
                body,
                content_type,
            } if session == retrieved => {
                assert_eq!(content_type, "text/plain");
                Some((from, to, date_time, body))
            }
            _ => None,
        })
        .collect();
    let expected: Vec<Seen> = said()
        .into_iter()
        .map(|(_, from, date, text)| {
            (
                Some(from.to_owned()),
                vec![identity.uri.clone()],
                Some(date.to_owned()),
                text.into_bytes(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{conditions:?}");
    // The big one was chunked by the History Function.
    let sends_to_alice = net
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Msrp && r.from.ip() == hf.ip() && r.to.ip() == alice.ip())
        .filter(|r| r.bytes.windows(6).any(|w| w == b" SEND\r"))
        .count();
    assert!(sends_to_alice > 3, "{sends_to_alice} SEND chunks");
    // The History Function released the session with BYE: a normal end.
    assert!(!sip(net.wire(), HISTORY, core, "BYE ").is_empty());
    assert!(net.client_events(A).iter().any(|e| matches!(
        e,
        client::Event::SessionEnded { session, reason: EndReason::Remote } if *session == retrieved
    )));
    assert!(hevents_completed(&net));
    // Every node ends idle.
    assert!(net.is_idle());
    assert!(net
        .server_events()
        .iter()
        .any(|e| matches!(e, server::Event::SessionEnded { .. })));
}

fn hevents_completed(net: &Group) -> bool {
    history_events(net).iter().any(|e| {
        matches!(
            e,
            history::Event::SessionEnded {
                reason: history::EndReason::Completed,
                ..
            }
        )
    })
}

#[test]
fn real_roles_record_a_group_session_and_retrieve_it_with_original_cpim_headers() {
    check(Faults::PERFECT);
}

#[test]
fn real_roles_record_and_retrieve_over_a_lossy_network() {
    check(Faults::lossy(10, 5, Duration::from_millis(20)));
}

/// Alice's Ad-hoc IM Group Session with Bob, then the History Function
/// asked (by the application, with the identity of the session) to record
/// it for `initiator`.
fn recording_for(recording: RecordingPolicy, initiator: &str) -> Group {
    let mut net = network_with(Faults::PERFECT, recording);
    let now = net.now();
    let session = net.client(A).start_ad_hoc(&[BOB], now).unwrap();
    run_for(&mut net, 10);
    let identity = net
        .client(A)
        .session_identity(session)
        .cloned()
        .unwrap()
        .uri;
    let now = net.now();
    history(&mut net)
        .history
        .start_recording(&identity, initiator, now)
        .unwrap();
    run_for(&mut net, 10);
    net
}

fn recording_outcome(net: &Group) -> Option<Result<(), history::EndReason>> {
    history_events(net).into_iter().find_map(|e| match e {
        history::Event::RecordingStarted { .. } => Some(Ok(())),
        history::Event::SessionEnded { reason, .. } => Some(Err(reason)),
        _ => None,
    })
}

// The server's recording policy (INFERRED, configuration): by default only
// a Participant of the session may have it recorded.
#[test]
fn recording_for_someone_outside_the_session_is_refused_by_default() {
    let net = recording_for(RecordingPolicy::default(), "sip:mallory@example.com");
    assert_eq!(
        recording_outcome(&net),
        Some(Err(history::EndReason::InviteFailed(403)))
    );
    let refused = sip(net.wire(), SERVER, addr(CORE), "SIP/2.0 403 ");
    assert_eq!(refused.len(), 1);
    assert!(!net.server_events().iter().any(|e| matches!(
        e,
        server::Event::ParticipantJoined { address, .. } if address == "sip:mallory@example.com"
    )));
}

#[test]
fn recording_policy_anyone_admits_any_initiator() {
    let net = recording_for(RecordingPolicy::Anyone, "sip:mallory@example.com");
    assert_eq!(recording_outcome(&net), Some(Ok(())));
}

#[test]
fn recording_policy_refuse_refuses_even_a_participant() {
    let net = recording_for(RecordingPolicy::Refuse, ALICE);
    assert_eq!(
        recording_outcome(&net),
        Some(Err(history::EndReason::InviteFailed(403)))
    );
}

#[test]
fn a_participant_may_have_the_session_recorded_by_default() {
    let mut net = recording_for(RecordingPolicy::default(), ALICE);
    assert_eq!(recording_outcome(&net), Some(Ok(())));
    // Bob leaves, then Alice: the recorder alone keeps nothing alive, the
    // server releases it with BYE and the session ends.
    for index in [B, A] {
        let now = net.now();
        let s = net
            .client_events(index)
            .iter()
            .find_map(|e| match e {
                client::Event::SessionEstablished { session, .. } => Some(*session),
                _ => None,
            })
            .unwrap();
        net.client(index).leave(s, now).unwrap();
        run_for(&mut net, 5);
    }
    net.run_until_quiet(Duration::from_secs(300), accept_invitations);
    assert!(history_events(&net).iter().any(|e| matches!(
        e,
        history::Event::SessionEnded {
            reason: history::EndReason::ByeReceived,
            ..
        }
    )));
    let byes = sip(net.wire(), SERVER, addr(CORE), "BYE ");
    assert!(byes.iter().any(|r| parse_message(&r.bytes)
        .unwrap()
        .request_line()
        .unwrap()
        .uri
        .contains("10.0.0.30")));
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        server::Event::SessionEnded {
            reason: server::EndReason::Empty,
            ..
        }
    )));
    assert!(net.is_idle());
}
