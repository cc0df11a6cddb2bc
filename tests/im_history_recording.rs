//! IM History Function, recording (OMA-TS-SIMPLE_IM 13.3.1.2): joining an
//! IM Session to record it, asked by an IM Client's REFER or with the
//! identity of the controlling IM Server's 200 OK, on the simulator
//! (`oma_im::sim`), every message moved as bytes; the connections the
//! History Function accepts, bound by their first To-Path.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::body::cpim::CpimMessage;
use oma_im::dialog::RequestSpec;
use oma_im::im::history::{EndReason, Event, HistoryConfig, RecordingInfo};
use oma_im::im::trust::{TrustDomain, TrustedPeer};
use oma_im::sdp::{Direction, SessionDescription};
use oma_im::sip::{HeaderName, Method, SipMessage};

use oma_im::sim::{Faults, RawPeer, SimEvent, WireKind};
use support::im_history::{contains, sip, HistoryApp, Net, Script, ScriptedPeer};

const CLIENT: &str = "10.0.0.1:5060";
const HISTORY: &str = "10.0.0.2:5060";
const FOCUS: &str = "10.0.0.3:5060";
const ALICE: &str = "sip:alice@example.com";
const IDENTITY: &str = "sip:conf-7@10.0.0.3:5060";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn cpim(from: &str, date: &str, text: &str) -> Vec<u8> {
    format!(
        "From: <{from}>\r\nTo: <{IDENTITY}>\r\nDateTime: {date}\r\n\r\nContent-Type: text/plain\r\n\r\n{text}"
    )
    .into_bytes()
}

const CONF_INFO: &str = "<?xml version=\"1.0\"?><conference-info xmlns=\"urn:ietf:params:xml:ns:conference-info\" entity=\"sip:conf-7@10.0.0.3:5060\" state=\"full\" version=\"1\"><users><user entity=\"sip:alice@example.com\"/></users></conference-info>";

/// Client (0), History Function (1), controlling IM Server (2, also the
/// History Function's SIP/IP Core) that sends two messages over MSRP.
fn setup(accept: bool) -> Net {
    setup_with(accept, |_| {})
}

/// As [`setup`], the History Function's configuration adjusted by `tune`.
fn setup_with(accept: bool, tune: impl FnOnce(&mut HistoryConfig)) -> Net {
    let mut net = Net::new(Faults::PERFECT, 5);
    let client = ScriptedPeer::new(addr(CLIENT), addr(HISTORY), 1, Script::default());
    let mut c = HistoryConfig::new("sip:history@im.example.com", addr(HISTORY), addr(FOCUS));
    c.product = "oma-im-test/1.0".to_owned();
    c.seed = 9.into();
    // The client stands in for the SIP/IP Core that asserts its identity:
    // it is the History Function's trust domain (RFC 3325).
    c.trust = TrustDomain::new().with_peer(TrustedPeer::host(addr(CLIENT).ip()));
    tune(&mut c);
    let mut history = HistoryApp::new(&[ALICE]);
    let history_config = c;
    history.accept_recordings = accept;
    let mut focus = ScriptedPeer::new(
        addr(FOCUS),
        addr(HISTORY),
        3,
        Script {
            focus: Some("conf-7".to_owned()),
            ok_headers: vec![
                (
                    "Session-Expires".to_owned(),
                    "1800;refresher=uac".to_owned(),
                ),
                ("Server".to_owned(), "IM-serv/OMA1.0 focus/1".to_owned()),
            ],
            notify: Some(CONF_INFO.as_bytes().to_vec()),
            messages: vec![
                (
                    "message/cpim".to_owned(),
                    cpim("sip:bob@example.com", "2008-09-03T10:00:00Z", "hello all"),
                ),
                (
                    "message/cpim".to_owned(),
                    cpim(
                        "sip:carol@example.com",
                        "2008-09-03T10:00:05-05:00",
                        "hi bob",
                    ),
                ),
            ],
        },
    );
    focus.core = true;
    net.add_scripted("client", client);
    net.add_history(history_config, history);
    net.add_scripted("focus", focus);
    net
}

fn refer(net: &mut Net) {
    let now = net.now();
    let spec = RequestSpec::new(
        Method::Refer,
        "sip:history@10.0.0.2:5060",
        format!("<{ALICE}>"),
        "<sip:history@im.example.com>",
    )
    .with_header("Refer-To", format!("<{IDENTITY}>"))
    .with_header("P-Asserted-Identity", format!("<{ALICE}>"));
    net.node(0).scripted().send(spec, now);
}

/// Runs a minute of virtual time: a recorded session stays up (its
/// session timer keeps a deadline), so the network is not idle.
fn run(net: &mut Net) {
    let until = net.now() + Duration::from_secs(60);
    net.run_until(until);
}

/// Runs until nothing is left alive.
fn run_idle(net: &mut Net) {
    net.run_until_quiet(Duration::from_secs(120));
}

fn history_events(net: &Net) -> Vec<Event> {
    net.history_events()
}

fn header<'a>(m: &SipMessage<'a>, name: &str) -> Option<&'a str> {
    m.header(HeaderName::parse(name)).map(|h| h.value)
}

/// The first message from `from` to `to` whose start line starts with `start`.
fn find(net: &Net, from: &str, to: &str, start: &str) -> Vec<u8> {
    net.wire()
        .iter()
        .find(|r| r.from == addr(from) && r.to == addr(to) && r.first_line().starts_with(start))
        .unwrap_or_else(|| panic!("no {start} from {from} to {to}"))
        .bytes
        .clone()
}

/// The 200 OK to the History Function's INVITE, as it crossed the wire.
fn invite_ok(net: &Net) -> Vec<u8> {
    net.wire()
        .iter()
        .find(|r| {
            r.from == addr(FOCUS)
                && r.to == addr(HISTORY)
                && r.first_line().starts_with("SIP/2.0 200")
                && contains(&r.bytes, b" INVITE\r\n")
        })
        .unwrap()
        .bytes
        .clone()
}

fn started(net: &Net) -> RecordingInfo {
    history_events(net)
        .into_iter()
        .find_map(|e| match e {
            Event::RecordingStarted { info, .. } => Some(info),
            _ => None,
        })
        .expect("RecordingStarted")
}

#[test]
fn refer_leads_to_invite_to_the_refer_to_identity_towards_the_im_server() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let accepted = find(&net, HISTORY, CLIENT, "SIP/2.0 202");
    assert_eq!(
        sip(&accepted).cseq().unwrap().unwrap().method,
        Method::Refer
    );
    let invite = find(&net, HISTORY, FOCUS, "INVITE");
    assert_eq!(
        sip(&invite).request_line().unwrap().uri.to_string(),
        IDENTITY
    );
    assert!(header(&sip(&invite), "Accept-Contact")
        .unwrap()
        .contains("+g.oma.sip-im"));
    assert!(header(&sip(&invite), "User-Agent")
        .unwrap()
        .starts_with("IM-serv/OMA1.0"));
    assert_eq!(
        header(&sip(&invite), "Contact"),
        Some("<sip:10.0.0.2:5060>;+g.oma.sip-im")
    );
    // The REFER's outcome (RFC 3515): a NOTIFY with the sipfrag of the 200.
    let notify = net
        .wire()
        .iter()
        .find(|r| r.to == addr(CLIENT) && r.first_line().starts_with("NOTIFY"))
        .unwrap();
    let n = sip(&notify.bytes);
    assert_eq!(header(&n, "Event"), Some("refer"));
    assert!(n.body().starts_with(b"SIP/2.0 200"));
}

#[test]
fn start_recording_invites_the_identity_of_the_servers_200() {
    let mut net = setup(true);
    let now = net.now();
    let session = net
        .node(1)
        .history()
        .history
        .start_recording(IDENTITY, ALICE, now)
        .unwrap();
    run(&mut net);
    let invite = find(&net, HISTORY, FOCUS, "INVITE");
    assert_eq!(
        sip(&invite).request_line().unwrap().uri.to_string(),
        IDENTITY
    );
    assert!(history_events(&net)
        .iter()
        .any(|e| matches!(e, Event::RecordingStarted { session: s, .. } if *s == session)));
}

#[test]
fn from_is_the_initiators_sip_uri() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let invite = find(&net, HISTORY, FOCUS, "INVITE");
    let from = sip(&invite).from().unwrap().unwrap();
    assert_eq!(from.uri.to_string(), ALICE);
    assert!(history_events(&net).contains(&Event::RecordingRequested {
        session: oma_im_session(&net),
        requester: ALICE.to_owned(),
        verified: true,
        im_session_identity: IDENTITY.to_owned(),
    }));
}

fn oma_im_session(net: &Net) -> oma_im::im::history::HistorySessionId {
    history_events(net)
        .into_iter()
        .find_map(|e| match e {
            Event::RecordingRequested { session, .. } => Some(session),
            _ => None,
        })
        .unwrap()
}

#[test]
fn invite_carries_an_msrp_sdp_offer() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let invite = find(&net, HISTORY, FOCUS, "INVITE");
    let m = sip(&invite);
    assert_eq!(header(&m, "Content-Type"), Some("application/sdp"));
    let sdp = SessionDescription::parse(m.body()).unwrap();
    let (_, media) = sdp.msrp_media().unwrap();
    assert!(contains(m.body(), b"m=message "));
    assert!(contains(m.body(), b" TCP/MSRP *\r\n"));
    assert!(media.path().unwrap()[0].starts_with("msrp://10.0.0.2:5060/"));
    assert!(media.accept_types().unwrap().matches("message/cpim"));
    assert_eq!(sdp.media_direction(media), Direction::RecvOnly);
}

#[test]
fn ok_allow_identity_and_every_header_are_stored() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let ok_bytes = invite_ok(&net);
    let ok = sip(&ok_bytes);
    let info = started(&net);
    let wire_allow: Vec<String> = ok
        .allow()
        .unwrap()
        .unwrap()
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect();
    assert!(!wire_allow.is_empty());
    assert_eq!(info.allow, wire_allow);
    let id = info.im_session_identity.clone().unwrap();
    assert_eq!(id.uri, IDENTITY);
    assert!(id.is_focus);
    let wire_headers: Vec<(String, String)> = ok
        .headers()
        .map(|(n, v)| (n.as_str().to_owned(), v.value.to_owned()))
        .collect();
    assert_eq!(info.headers, wire_headers);
    assert!(info
        .headers
        .iter()
        .any(|(n, v)| n == "Session-Expires" && v == "1800;refresher=uac"));
    let session = oma_im_session(&net);
    assert_eq!(
        net.node(1).history().history.recording_info(session),
        Some(&info)
    );
}

#[test]
fn subscribes_to_the_conference_state() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let sub = find(&net, HISTORY, FOCUS, "SUBSCRIBE");
    let m = sip(&sub);
    assert_eq!(m.request_line().unwrap().uri.to_string(), IDENTITY);
    assert_eq!(header(&m, "Event"), Some("conference"));
    assert_eq!(
        header(&m, "Accept"),
        Some("application/conference-info+xml")
    );
    assert_eq!(header(&m, "Expires"), Some("3600"));
    // 7.1.1.11 (inferred): Accept-Contact with the IM feature tag, User-Agent.
    assert!(header(&m, "Accept-Contact").is_some_and(|v| v.contains("+g.oma.sip-im")));
    assert!(header(&m, "User-Agent").is_some_and(|v| v.starts_with("IM-serv/OMA1.0")));
    let body = history_events(&net).into_iter().find_map(|e| match e {
        Event::ConferenceState { body, .. } => Some(body),
        _ => None,
    });
    assert_eq!(body.as_deref(), Some(CONF_INFO.as_bytes()));
}

// 7.1.1.11 (as 13.3.1.2 step 4 uses it): the subscription is refreshed
// before it expires. 3600 s asked and granted: the refresh goes at 90 %.
#[test]
fn conference_subscription_is_refreshed_before_it_expires() {
    let mut net = setup_with(true, |c| c.subscription_expires = 3600);
    refer(&mut net);
    run(&mut net);
    let subscribes = |net: &Net| -> Vec<(Duration, Vec<u8>)> {
        net.wire()
            .iter()
            .filter(|r| r.from == addr(HISTORY) && r.first_line().starts_with("SUBSCRIBE"))
            .map(|r| (r.at, r.bytes.clone()))
            .collect()
    };
    let first = subscribes(&net);
    assert_eq!(first.len(), 1);
    assert_eq!(header(&sip(&first[0].1), "Expires"), Some("3600"));
    // Past the expiry on the virtual clock: one refresh crossed, in the
    // subscription's dialog, before the 3600 s were up.
    let until = net.now() + Duration::from_secs(3600);
    net.run_until(until);
    let all = subscribes(&net);
    assert!(all.len() >= 2, "{} SUBSCRIBEs", all.len());
    let (at, refresh) = &all[1];
    assert!(
        *at - first[0].0 < Duration::from_secs(3600),
        "refreshed at {at:?}"
    );
    let refresh = sip(refresh);
    let initial = sip(&first[0].1);
    assert_eq!(header(&refresh, "Expires"), Some("3600"));
    assert_eq!(header(&refresh, "Event"), Some("conference"));
    assert_eq!(header(&refresh, "Call-ID"), header(&initial, "Call-ID"));
    assert!(header(&refresh, "To").unwrap().contains(";tag="));
    // The subscription lives on: the recording is still reported.
    let h = net.node(1).history();
    assert_eq!(h.history.sessions().count(), 1);
}

fn recorded(net: &Net) -> Vec<oma_im::im::history::RecordedMessage> {
    history_events(net)
        .into_iter()
        .filter_map(|e| match e {
            Event::MessageRecorded { message, .. } => Some(*message),
            _ => None,
        })
        .collect()
}

#[test]
fn every_msrp_message_is_recorded_with_its_cpim_headers_until_the_session_ends() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let got = recorded(&net);
    assert_eq!(got.len(), 2);
    let expected = [
        ("sip:bob@example.com", "2008-09-03T10:00:00Z", "hello all"),
        (
            "sip:carol@example.com",
            "2008-09-03T10:00:05-05:00",
            "hi bob",
        ),
    ];
    for (m, (from, date, text)) in got.iter().zip(expected) {
        assert_eq!(m.content_type, "message/cpim");
        let c = m.cpim.as_ref().unwrap();
        assert_eq!(c.from.as_ref().unwrap().uri, from);
        assert_eq!(c.to[0].uri, IDENTITY);
        assert_eq!(c.date_time.as_deref(), Some(date));
        assert_eq!(&*c.content, text.as_bytes());
        assert_eq!(CpimMessage::parse(&m.body).unwrap(), *c);
    }
    // The IM Server ends the session: BYE; the subscription ends too.
    let now = net.now();
    let focus = net.node(2).scripted();
    let d = focus.dialog.unwrap();
    focus.ua.bye(d, now).unwrap();
    run_idle(&mut net);
    assert!(history_events(&net).iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: EndReason::ByeReceived,
            ..
        }
    )));
    let unsub = net
        .wire()
        .iter()
        .filter(|r| r.from == addr(HISTORY) && r.first_line().starts_with("SUBSCRIBE"))
        .nth(1)
        .expect("a second SUBSCRIBE");
    assert_eq!(header(&sip(&unsub.bytes), "Expires"), Some("0"));
    let h = net.node(1).history();
    assert_eq!(h.history.sessions().count(), 0);
    assert!(h.history.is_idle());
}

#[test]
fn stop_recording_sends_bye() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let session = oma_im_session(&net);
    let now = net.now();
    net.node(1)
        .history()
        .history
        .stop_recording(session, now)
        .unwrap();
    run(&mut net);
    find(&net, HISTORY, FOCUS, "BYE");
    assert!(history_events(&net).contains(&Event::SessionEnded {
        session,
        reason: EndReason::Local
    }));
    assert!(net.node(1).history().history.is_idle());
}

#[test]
fn refused_recording_gets_403_and_no_invite() {
    let mut net = setup(false);
    refer(&mut net);
    run(&mut net);
    find(&net, HISTORY, CLIENT, "SIP/2.0 403");
    assert!(!net
        .wire()
        .iter()
        .any(|r| r.first_line().starts_with("INVITE")));
    assert!(net.node(1).history().history.is_idle());
}

/// Over 3GPP IMS the initiator is the identity the network asserts for the
/// REFER (P-Asserted-Identity, TS 24.229), even when its From is anonymous.
#[test]
fn ims_initiator_is_the_network_asserted_identity_of_the_refer() {
    let mut net = setup(true);
    let now = net.now();
    let spec = RequestSpec::new(
        Method::Refer,
        "sip:history@10.0.0.2:5060",
        "\"Anonymous\" <sip:anonymous@anonymous.invalid>",
        "<sip:history@im.example.com>",
    )
    .with_header("Refer-To", format!("<{IDENTITY}>"))
    .with_header("P-Asserted-Identity", format!("<{ALICE}>"))
    .with_header("Privacy", "id");
    net.node(0).scripted().send(spec, now);
    run(&mut net);
    let invite = find(&net, HISTORY, FOCUS, "INVITE");
    assert_eq!(sip(&invite).from().unwrap().unwrap().uri.to_string(), ALICE);
    assert_eq!(started(&net).im_session_identity.unwrap().uri, IDENTITY);
}

/// The IM Server's 200 names the History Function (the UAC) refresher
/// (RFC 4028): it refreshes the session before half the interval.
#[test]
fn recording_session_is_refreshed_as_the_servers_200_asks() {
    let mut net = setup(true);
    refer(&mut net);
    let until = net.now() + Duration::from_secs(1000);
    net.run_until(until);
    let invite = find(&net, HISTORY, FOCUS, "INVITE");
    assert!(sip(&invite)
        .supported()
        .unwrap()
        .unwrap()
        .contains(oma_im::sip::OptionTag::Timer));
    let update = find(&net, HISTORY, FOCUS, "UPDATE");
    assert_eq!(
        sip(&update).request_line().unwrap().uri.to_string(),
        IDENTITY
    );
    assert!(!history_events(&net)
        .iter()
        .any(|e| matches!(e, Event::SessionEnded { .. })));
}

// ----- the connections the History Function accepts -----

/// The History Function's MSRP URI in its INVITE's offer: what the first
/// To-Path of a connection for the recording names.
fn history_path(net: &Net) -> String {
    let invite = find(net, HISTORY, FOCUS, "INVITE");
    let m = sip(&invite);
    let sdp = SessionDescription::parse(m.body()).unwrap();
    let (_, media) = sdp.msrp_media().unwrap();
    media.path().unwrap().last().unwrap().to_string()
}

fn recorded_texts(net: &Net) -> Vec<Vec<u8>> {
    history_events(net)
        .into_iter()
        .filter_map(|e| match e {
            Event::MessageRecorded { message, .. } => message.cpim.map(|c| c.content.to_vec()),
            _ => None,
        })
        .collect()
}

/// A SEND from mallory's host naming `to_path`.
fn mallory_send(tid: &str, to_path: &str) -> Vec<u8> {
    format!(
        "MSRP {tid} SEND\r\nTo-Path: {to_path}\r\nFrom-Path: msrp://10.0.0.66:7000/m;tcp\r\n\
         Message-ID: {tid}\r\nByte-Range: 1-5/5\r\nContent-Type: text/plain\r\n\r\n\
         forge\r\n-------{tid}$\r\n"
    )
    .into_bytes()
}

#[test]
fn the_history_function_binds_the_focus_connection_by_its_to_path() {
    // The focus answers actpass with active: it connects to the History
    // Function's MSRP address, and the History Function finds the
    // recording from the connection's first To-Path.
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let session = oma_im_session(&net);
    let opened = net
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Open)
        .map(|r| (r.from.ip(), r.to))
        .collect::<Vec<_>>();
    assert_eq!(opened, [(addr(FOCUS).ip(), addr(HISTORY))]);
    assert!(net
        .node(1)
        .history()
        .history
        .session_connection(session)
        .is_some());
    assert_eq!(
        recorded_texts(&net),
        [b"hello all".to_vec(), b"hi bob".to_vec()]
    );
    // Every SEND was answered on that connection.
    let answered = net
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Msrp && r.from == addr(HISTORY))
        .filter(|r| contains(&r.bytes, b" 200 OK\r\n"))
        .count();
    assert_eq!(answered, 2);
}

#[test]
fn a_connection_that_comes_before_the_200_ok_waits_for_its_session() {
    let mut net = setup(true);
    // The 200 OK to the INVITE reaches the History Function a second after
    // the focus connected and sent its messages.
    net.sim
        .delay_matching(|b| b.starts_with(b"SIP/2.0 200 OK"), Duration::from_secs(1));
    refer(&mut net);
    run(&mut net);
    // The SENDs arrived (no latency) before the 200 OK completed the SDP
    // exchange at the History Function.
    let first_send = net
        .wire()
        .iter()
        .find(|r| r.kind == WireKind::Msrp && r.to == addr(HISTORY))
        .map(|r| r.at)
        .unwrap();
    let started = net
        .sim
        .events()
        .iter()
        .find(|r| matches!(r.event, SimEvent::History(Event::RecordingStarted { .. })))
        .map(|r| r.at)
        .unwrap();
    assert!(first_send < started, "{first_send:?} {started:?}");
    assert_eq!(
        recorded_texts(&net),
        [b"hello all".to_vec(), b"hi bob".to_vec()]
    );
}

#[test]
fn a_second_connection_for_a_recording_gets_506_and_nothing_of_it() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let path = history_path(&net);
    let mallory = net.sim.add_node(
        "mallory",
        "10.0.0.66:5060".parse().unwrap(),
        None,
        RawPeer::new(),
    );
    let link = net.sim.custom(mallory).connect(addr(HISTORY));
    net.sim
        .custom(mallory)
        .write(link, mallory_send("m1", &path));
    run(&mut net);
    let got = String::from_utf8_lossy(net.sim.custom_ref(mallory).received(link)).into_owned();
    assert!(got.starts_with("MSRP m1 506 "), "{got}");
    assert!(
        got.contains("To-Path: msrp://10.0.0.66:7000/m;tcp\r\n"),
        "{got}"
    );
    // Nothing of mallory's was recorded; the focus's connection still
    // carries the recording.
    assert_eq!(
        recorded_texts(&net),
        [b"hello all".to_vec(), b"hi bob".to_vec()]
    );
    let session = oma_im_session(&net);
    let bound = net.node(1).history().history.session_connection(session);
    assert!(bound.is_some());
    // The refused connection is closed once its time is up.
    let until = net.now() + Duration::from_secs(31);
    net.run_until(until);
    assert!(!net.sim.custom_ref(mallory).is_open(link));
    assert_eq!(
        net.node(1).history().history.session_connection(session),
        bound
    );
}

#[test]
fn a_connection_naming_no_recording_is_closed() {
    let mut net = setup(true);
    refer(&mut net);
    run(&mut net);
    let mallory = net.sim.add_node(
        "mallory",
        "10.0.0.66:5060".parse().unwrap(),
        None,
        RawPeer::new(),
    );
    let link = net.sim.custom(mallory).connect(addr(HISTORY));
    net.sim.custom(mallory).write(
        link,
        mallory_send("m1", "msrp://10.0.0.2:5060/nosuchsession;tcp"),
    );
    let until = net.now() + Duration::from_secs(1);
    net.run_until(until);
    assert!(net.sim.custom_ref(mallory).received(link).is_empty());
    assert!(!net.sim.custom_ref(mallory).is_open(link));
    assert_eq!(recorded_texts(&net).len(), 2);
}
