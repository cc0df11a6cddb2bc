//! Is-composing indications (RFC 3994) between real IM Clients through
//! the real IM Server, every message moved as bytes: the `active` state
//! shown to the other participants, refreshed while the user types, sent
//! `idle` after 15 s without typing, ended by a message, lapsing at the
//! receiver without a refresh; in Pager Mode; over a lossy network; and
//! never recorded by the IM History Function.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::body::cpim::CpimMessage;
use oma_im::body::iscomposing::{ComposingState, IsComposing, CONTENT_TYPE};
use oma_im::body::xml::XmlLimits;
use oma_im::im::client::{DeadlineReason, Event, ImSessionId};
use oma_im::sim::{Faults, WireKind};
use support::chat::{client, events, group, leave_all, network, run};
use support::im_server::{client_addr, Group, SERVER};

const ALICE: &str = "sip:alice@example.com";
const BOB: &str = "sip:bob@example.com";

/// A composing change: session, who, active.
type Change = (Option<ImSessionId>, String, bool);

fn changes(net: &Group, index: usize) -> Vec<Change> {
    events(net, index)
        .into_iter()
        .filter_map(|e| match e {
            Event::ComposingChanged {
                session,
                from,
                active,
                ..
            } => Some((session, from, active)),
            _ => None,
        })
        .collect()
}

/// The states of the is-composing indications in the MSRP SENDs the host
/// of `from` sent to the host of `to`.
fn indications(net: &Group, from: SocketAddr, to: SocketAddr) -> Vec<IsComposing<'static>> {
    net.wire()
        .iter()
        .filter(|r| r.kind == WireKind::Msrp && r.from.ip() == from.ip() && r.to.ip() == to.ip())
        .flat_map(|r| {
            let text = String::from_utf8_lossy(&r.bytes).into_owned();
            text.split("MSRP ")
                .filter_map(|req| {
                    let (head, rest) = req.split_once("\r\n\r\n")?;
                    if !head.lines().next()?.ends_with(" SEND") {
                        return None;
                    }
                    let end = rest.rfind("\r\n-------").unwrap_or(rest.len());
                    let cpim = CpimMessage::parse(&rest.as_bytes()[..end]).ok()?;
                    if cpim.mime_headers.get("Content-Type") != Some(CONTENT_TYPE) {
                        return None;
                    }
                    IsComposing::parse(&cpim.content, &XmlLimits::default())
                        .ok()
                        .map(IsComposing::into_owned)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn states(docs: &[IsComposing<'_>]) -> Vec<ComposingState> {
    docs.iter().map(|d| d.state).collect()
}

fn lossy() -> Faults {
    Faults::lossy(20, 10, Duration::from_millis(30))
}

fn typing_flow(conditions: Faults, seed: u64) {
    let users = ["alice", "bob", "carol"];
    let mut net = network(&users, conditions, seed, |_, _| {});
    let sessions = group(&mut net, &users);
    // Let the set-up's transactions finish.
    run(&mut net, 40);
    let now = net.now();
    client(&mut net, 2)
        .set_composing(sessions[0], true, now)
        .unwrap();
    let deadline = client(&mut net, 2).next_deadline().expect("a deadline");
    assert_eq!(deadline.reason, DeadlineReason::ComposingIdle(sessions[0]));
    assert_eq!(deadline.at, now + Duration::from_secs(15));
    run(&mut net, 1);
    for (k, index) in [3, 4].into_iter().enumerate() {
        assert_eq!(
            changes(&net, index),
            [(Some(sessions[k + 1]), ALICE.to_owned(), true)]
        );
        assert_eq!(
            client(&mut net, index).composing_peers(Some(sessions[k + 1])),
            [ALICE]
        );
    }
    // The indication went wrapped in CPIM, with the announced refresh.
    let server: SocketAddr = SERVER.parse().unwrap();
    let up = indications(&net, client_addr("alice"), server);
    assert_eq!(states(&up), [ComposingState::Active]);
    assert_eq!(up[0].refresh, Some(90));
    assert_eq!(up[0].content_type.as_deref(), Some("text/plain"));
    // No typing for 15 s: idle, sent by Alice's client on its own.
    run(&mut net, 13);
    assert_eq!(changes(&net, 3).len(), 1);
    run(&mut net, 2);
    let up = indications(&net, client_addr("alice"), server);
    assert_eq!(states(&up), [ComposingState::Active, ComposingState::Idle]);
    for (k, index) in [3, 4].into_iter().enumerate() {
        assert_eq!(
            changes(&net, index),
            [
                (Some(sessions[k + 1]), ALICE.to_owned(), true),
                (Some(sessions[k + 1]), ALICE.to_owned(), false)
            ]
        );
        let down = indications(&net, server, client_addr(users[k + 1]));
        assert_eq!(states(&down), states(&up), "relayed by the server");
        assert!(events(&net, index)
            .iter()
            .all(|e| !matches!(e, Event::MessageReceived { .. })));
    }
    assert!(changes(&net, 2).is_empty(), "not back to Alice");
    leave_all(
        &mut net,
        &[(2, sessions[0]), (3, sessions[1]), (4, sessions[2])],
    );
}

#[test]
fn typing_in_a_group_shows_to_the_others_then_goes_idle() {
    typing_flow(Faults::PERFECT, 41);
}

#[test]
fn typing_over_a_lossy_network() {
    typing_flow(lossy(), 42);
}

#[test]
fn typing_on_refreshes_the_active_state_before_its_interval_ends() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 43, |_, _| {});
    let sessions = group(&mut net, &users);
    let start = net.sim.elapsed();
    // A keystroke every 10 s for 100 s.
    for _ in 0..=10 {
        let now = net.now();
        client(&mut net, 2)
            .set_composing(sessions[0], true, now)
            .unwrap();
        run(&mut net, 10);
    }
    let server: SocketAddr = SERVER.parse().unwrap();
    let up = indications(&net, client_addr("alice"), server);
    // Sent at 0 s and again at 80 s (10 s before the 90 s interval ends).
    assert_eq!(
        states(&up),
        [ComposingState::Active, ComposingState::Active]
    );
    let refresh = net
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Msrp && r.from.ip() == client_addr("alice").ip())
        .filter(|r| String::from_utf8_lossy(&r.bytes).contains(CONTENT_TYPE))
        .nth(1)
        .expect("the refresh");
    assert_eq!(refresh.at - start, Duration::from_secs(80));
    // Bob saw one uninterrupted active state.
    assert_eq!(
        changes(&net, 3),
        [(Some(sessions[1]), ALICE.to_owned(), true)]
    );
    // The last keystroke was at 100 s: idle at 115 s.
    run(&mut net, 10);
    assert_eq!(changes(&net, 3).last().map(|c| c.2), Some(false));
    leave_all(&mut net, &[(2, sessions[0]), (3, sessions[1])]);
}

#[test]
fn a_sent_message_ends_the_active_state_without_an_idle_indication() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 44, |_, _| {});
    let sessions = group(&mut net, &users);
    let now = net.now();
    client(&mut net, 2)
        .set_composing(sessions[0], true, now)
        .unwrap();
    run(&mut net, 3);
    let now = net.now();
    client(&mut net, 2)
        .send_message(sessions[0], "text/plain", b"done typing", false, now)
        .unwrap();
    run(&mut net, 30);
    let server: SocketAddr = SERVER.parse().unwrap();
    assert_eq!(
        states(&indications(&net, client_addr("alice"), server)),
        [ComposingState::Active]
    );
    let bob: Vec<Event> = events(&net, 3)
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                Event::ComposingChanged { .. } | Event::MessageReceived { .. }
            )
        })
        .collect();
    assert_eq!(bob.len(), 3, "{bob:?}");
    assert!(matches!(
        &bob[1],
        Event::ComposingChanged { active: false, .. }
    ));
    assert!(matches!(&bob[2], Event::MessageReceived { body, .. } if body == b"done typing"));
    // Explicitly stopping sends idle at once.
    let now = net.now();
    client(&mut net, 2)
        .set_composing(sessions[0], true, now)
        .unwrap();
    client(&mut net, 2)
        .set_composing(sessions[0], false, now)
        .unwrap();
    run(&mut net, 1);
    assert_eq!(
        states(&indications(&net, client_addr("alice"), server)),
        [
            ComposingState::Active,
            ComposingState::Active,
            ComposingState::Idle
        ]
    );
    leave_all(&mut net, &[(2, sessions[0]), (3, sessions[1])]);
}

/// An `active` indication written by hand: a sender that then goes silent.
fn active(refresh: Option<u32>) -> Vec<u8> {
    let mut doc = IsComposing::new(ComposingState::Active);
    doc.refresh = refresh;
    let mut out = Vec::new();
    doc.write(&mut out);
    out
}

#[test]
fn an_active_state_without_refresh_lapses_at_the_receiver() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 45, |_, _| {});
    let sessions = group(&mut net, &users);
    run(&mut net, 40);
    for (refresh, lapse) in [(Some(60), 60), (None, 120), (Some(u32::MAX), 3600)] {
        let now = net.now();
        client(&mut net, 2)
            .send_message(sessions[0], CONTENT_TYPE, &active(refresh), false, now)
            .unwrap();
        run(&mut net, 1);
        if lapse == 60 {
            let deadline = client(&mut net, 3).next_deadline().expect("a deadline");
            assert_eq!(
                deadline.reason,
                DeadlineReason::ComposingExpiry(Some(sessions[1]))
            );
        }
        assert_eq!(
            client(&mut net, 3).composing_peers(Some(sessions[1])),
            [ALICE]
        );
        run(&mut net, lapse - 2);
        assert_eq!(changes(&net, 3).last().map(|c| c.2), Some(true));
        run(&mut net, 2);
        assert_eq!(changes(&net, 3).last().map(|c| c.2), Some(false));
        assert!(client(&mut net, 3)
            .composing_peers(Some(sessions[1]))
            .is_empty());
    }
    assert_eq!(changes(&net, 3).len(), 6);
    leave_all(&mut net, &[(2, sessions[0]), (3, sessions[1])]);
}

#[test]
fn an_indication_in_pager_mode_is_reported_without_a_session() {
    let users = ["alice", "bob"];
    let mut net = network(&users, Faults::PERFECT, 46, |_, _| {});
    let now = net.now();
    client(&mut net, 2)
        .send_pager_message(&[BOB], CONTENT_TYPE, &active(Some(60)), now)
        .unwrap();
    run(&mut net, 5);
    assert_eq!(changes(&net, 3), [(None, ALICE.to_owned(), true)]);
    assert!(events(&net, 3)
        .iter()
        .all(|e| !matches!(e, Event::PagerMessageReceived { .. })));
    let now = net.now();
    client(&mut net, 2)
        .send_pager_message(&[BOB], "text/plain", b"hi", now)
        .unwrap();
    run(&mut net, 5);
    assert_eq!(
        changes(&net, 3),
        [
            (None, ALICE.to_owned(), true),
            (None, ALICE.to_owned(), false)
        ]
    );
    net.run_until_quiet(Duration::from_secs(200), |_, _, _, _| {});
    assert!(net.is_idle());
}

mod history {
    //! The IM History Function records a session's messages, never its
    //! notifications and indications.

    use std::net::SocketAddr;
    use std::time::Duration;

    use oma_im::dialog::RequestSpec;
    use oma_im::im::history::{Event, HistoryConfig};
    use oma_im::im::trust::{TrustDomain, TrustedPeer};
    use oma_im::sip::Method;

    use oma_im::sim::Faults;

    use super::support::im_history::{HistoryApp, Net, Script, ScriptedPeer};

    const CLIENT: &str = "10.0.0.1:5060";
    const HISTORY: &str = "10.0.0.2:5060";
    const FOCUS: &str = "10.0.0.3:5060";
    const ALICE: &str = "sip:alice@example.com";
    const IDENTITY: &str = "sip:conf-7@10.0.0.3:5060";

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn cpim(content_type: &str, extra: &str, content: &str) -> (String, Vec<u8>) {
        (
            "message/cpim".to_owned(),
            format!(
                "From: <sip:bob@example.com>\r\nTo: <{IDENTITY}>\r\n\r\n\
                 Content-Type: {content_type}\r\n{extra}\r\n{content}"
            )
            .into_bytes(),
        )
    }

    #[test]
    fn notifications_and_indications_are_never_recorded() {
        let mut net = Net::new(Faults::PERFECT, 47);
        let client = ScriptedPeer::new(addr(CLIENT), addr(HISTORY), 1, Script::default());
        let mut c = HistoryConfig::new("sip:history@im.example.com", addr(HISTORY), addr(FOCUS));
        c.seed = 9.into();
        c.trust = TrustDomain::new().with_peer(TrustedPeer::host(addr(CLIENT).ip()));
        let mut history = HistoryApp::new(&[ALICE]);
        history.accept_recordings = true;
        let imdn = "<?xml version=\"1.0\"?><imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\
            <message-id>abc</message-id><datetime>2026-12-07T10:00:00Z</datetime>\
            <delivery-notification><status><delivered/></status></delivery-notification></imdn>";
        let mut focus = ScriptedPeer::new(
            addr(FOCUS),
            addr(HISTORY),
            3,
            Script {
                focus: Some("conf-7".to_owned()),
                messages: vec![
                    cpim("text/plain", "", "first"),
                    cpim(
                        super::CONTENT_TYPE,
                        "",
                        &String::from_utf8(super::active(Some(90))).unwrap(),
                    ),
                    cpim(
                        "message/imdn+xml",
                        "Content-Disposition: notification\r\n",
                        imdn,
                    ),
                    cpim("text/plain", "", "second"),
                ],
                ..Script::default()
            },
        );
        focus.core = true;
        net.add_scripted("client", client);
        net.add_history(c, history);
        net.add_scripted("focus", focus);
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
        let until = net.now() + Duration::from_secs(60);
        net.run_until(until);
        let recorded: Vec<Vec<u8>> = net
            .history_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::MessageRecorded { message, .. } => {
                    message.cpim.as_ref().map(|c| c.content.to_vec())
                }
                _ => None,
            })
            .collect();
        assert_eq!(recorded, [b"first".to_vec(), b"second".to_vec()]);
        let all = net
            .history_events()
            .iter()
            .filter(|e| matches!(e, Event::MessageRecorded { .. }))
            .count();
        assert_eq!(all, 2);
        // The focus ends the session; everything goes idle.
        let now = net.now();
        let focus = net.node(2).scripted();
        let d = focus.dialog.unwrap();
        focus.ua.bye(d, now).unwrap();
        net.run_until_quiet(Duration::from_secs(120));
        assert!(net.node(1).history().history.is_idle());
    }
}
