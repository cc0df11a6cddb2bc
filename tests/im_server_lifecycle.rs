//! The life of a conference at the controlling IM Server, with real IM
//! Clients on the simulator ([`oma_im::sim`]: SIP as datagrams through the
//! core, MSRP on TCP connections), perfect and lossy (20 % loss, 10 % duplication,
//! reordering): invitations that are never answered or fail, dead legs,
//! rejoins, adding and removing Participants by REFER, acknowledged
//! deliveries, and every node idle at the end.

mod support;

use std::time::Duration;

use oma_im::body::conference_info::{
    ConferenceInfo, DisconnectionMethod, EndpointStatus, JoiningMethod,
};
use oma_im::im::client::{Event as ClientEvent, ImSessionId};
use oma_im::im::server::{
    DeadlineReason, EndReason, Event, InvitationFailure, LeaveReason, ReferAddPolicy, ServerConfig,
};
use oma_im::sim::{Fate, Faults, SimEvent};
use support::im::client_config;
use support::im_server::scenario::config;
use support::im_server::{client_addr, core, Group, NodeMut, CORE, FACTORY, SERVER};

const ALICE: usize = 2;
const BOB: usize = 3;
const CAROL: usize = 4;
const DAVE: usize = 5;
const ERIN: usize = 6;
const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn uri(user: &str) -> String {
    format!("sip:{user}@example.com")
}

fn lossy() -> Faults {
    Faults::lossy(20, 10, Duration::from_millis(80))
}

/// Core (0), bridged server (1), then alice, bob, carol, dave and erin as
/// IM Clients (2 to 6).
fn network(conditions: Faults, seed: u64, tune: impl FnOnce(&mut ServerConfig)) -> Group {
    let mut cfg = config();
    cfg.msrp_authority = SERVER.to_owned();
    tune(&mut cfg);
    let mut net = Group::new(conditions, seed, core(), cfg);
    for (i, user) in USERS.iter().enumerate() {
        let mut c = client_config(
            user,
            client_addr(user),
            CORE.parse().unwrap(),
            200 + i as u64,
        );
        c.conference_factory_uri = FACTORY.to_owned();
        net.add_client(c);
    }
    net
}

/// How the invitees answer: everyone accepts, except the nodes listed
/// (they ring and never answer) and `busy` (486).
#[derive(Clone, Copy, Default)]
struct Answers {
    silent: &'static [usize],
    busy: &'static [usize],
}

fn hook(answers: Answers) -> impl FnMut(usize, NodeMut<'_>, &SimEvent, std::time::Instant) {
    move |index, node, event, now| {
        if let SimEvent::Client(ClientEvent::InvitationReceived { session, .. }) = event {
            if answers.busy.contains(&index) {
                node.client().reject(*session, 486, now).expect("reject");
            } else if !answers.silent.contains(&index) {
                node.client().accept(*session, now).expect("accept");
            }
        }
    }
}

fn run(net: &mut Group, secs: u64, answers: Answers) {
    let until = net.now() + Duration::from_secs(secs);
    net.run_until(until, hook(answers));
}

/// Runs in steps of a second until `done` holds, for at most `secs`;
/// returns whether it held.
fn wait(
    net: &mut Group,
    secs: u64,
    answers: Answers,
    mut done: impl FnMut(&mut Group) -> bool,
) -> bool {
    for _ in 0..secs {
        if done(net) {
            return true;
        }
        run(net, 1, answers);
    }
    done(net)
}

fn run_idle(net: &mut Group, secs: u64, answers: Answers) {
    net.run_until_quiet(Duration::from_secs(secs), hook(answers));
    assert!(net.is_idle());
}

/// The SIP requests the server sent towards `user` whose start line begins
/// with `method` (delivered or not), one per distinct message.
fn from_server(net: &Group, method: &str, user: &str) -> Vec<Vec<u8>> {
    let server: std::net::SocketAddr = SERVER.parse().unwrap();
    let prefix = format!("{method} ");
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for r in net.wire() {
        if r.from == server
            && r.bytes.starts_with(prefix.as_bytes())
            && r.first_line().contains(&format!("{user}@"))
            && !seen.contains(&r.bytes)
        {
            seen.push(r.bytes.clone());
        }
    }
    seen
}

/// Whether a datagram starting with `prefix` reached `to` (not lost).
fn delivered_to(net: &Group, prefix: &str, to: usize) -> bool {
    let addr = net.addr(to);
    net.wire()
        .iter()
        .any(|r| r.to == addr && r.fate != Fate::Lost && r.bytes.starts_with(prefix.as_bytes()))
}

/// Alice sets up an ad-hoc session with `invitees`; returns her session
/// once she and every invitee that accepts are in it (within a minute).
fn start(net: &mut Group, invitees: &[&str], answers: Answers) -> ImSessionId {
    let now = net.now();
    let list: Vec<String> = invitees.iter().map(|u| uri(u)).collect();
    let refs: Vec<&str> = list.iter().map(String::as_str).collect();
    let session = net.client(ALICE).start_ad_hoc(&refs, now).unwrap();
    let accepting: Vec<usize> = invitees
        .iter()
        .map(|u| 2 + USERS.iter().position(|x| x == u).unwrap())
        .filter(|i| !answers.silent.contains(i) && !answers.busy.contains(i))
        .collect();
    for _ in 0..12 {
        run(net, 5, answers);
        let everyone = net.client(ALICE).is_established(session)
            && accepting
                .iter()
                .all(|&i| invitation(net, i).is_some_and(|s| net.client(i).is_established(s)));
        if everyone {
            break;
        }
    }
    assert!(net.client(ALICE).is_established(session));
    session
}

/// The session of `index`'s client that the focus invited it to, if any.
fn invitation(net: &Group, index: usize) -> Option<ImSessionId> {
    net.client_events(index).into_iter().find_map(|e| match e {
        ClientEvent::InvitationReceived { session, .. } => Some(session),
        _ => None,
    })
}

/// The session of `index`'s client that the focus invited it to.
fn invited_session(net: &Group, index: usize) -> ImSessionId {
    net.client_events(index)
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::InvitationReceived { session, .. } => Some(session),
            _ => None,
        })
        .expect("an invitation")
}

fn leave(net: &mut Group, index: usize, session: ImSessionId, answers: Answers) {
    let now = net.now();
    net.client(index).leave(session, now).unwrap();
    run(net, 10, answers);
}

fn server_session(net: &Group) -> oma_im::im::server::SessionId {
    net.server_events()
        .into_iter()
        .find_map(|e| match e {
            Event::SessionCreated { session, .. } => Some(session),
            _ => None,
        })
        .expect("a session")
}

/// The status of `user`'s endpoint in a conference-info document.
fn status_of(info: &ConferenceInfo, user: &str) -> Option<EndpointStatus> {
    info.user(&uri(user))?.endpoints.first()?.status
}

fn disconnection_of(info: &ConferenceInfo, user: &str) -> Option<(DisconnectionMethod, String)> {
    let e = info.user(&uri(user))?.endpoints.first()?.clone();
    Some((e.disconnection_method?, e.disconnection_info?.reason?))
}

// ----- 1. a ringing invitee is cancelled -----

fn ringing_invitee_is_cancelled_when_everyone_else_left(conditions: Faults, seed: u64) {
    let answers = Answers {
        silent: &[DAVE],
        busy: &[],
    };
    let mut net = network(conditions, seed, |c| c.release_alone = true);
    let session = start(&mut net, &["bob", "carol", "dave"], answers);
    // Dave's client rings and never answers.
    assert!(wait(&mut net, 30, answers, |net| invitation(net, DAVE).is_some()));
    let dave = invited_session(&net, DAVE);
    assert!(!net.client(DAVE).is_established(dave));
    let id = server_session(&net);
    let reason = net.server().next_deadline().map(|d| d.reason);
    assert!(
        matches!(
            reason,
            Some(DeadlineReason::InvitationTimeout { .. }) | Some(DeadlineReason::Sip(_))
        ),
        "{reason:?}"
    );
    let bob = invited_session(&net, BOB);
    let carol = invited_session(&net, CAROL);
    leave(&mut net, BOB, bob, answers);
    leave(&mut net, CAROL, carol, answers);
    assert_eq!(net.server().session_count(), 1);
    assert!(from_server(&net, "CANCEL", "dave").is_empty());
    leave(&mut net, ALICE, session, answers);
    // Nobody left to talk to: Dave's INVITE is CANCELled, the session ends.
    assert!(wait(&mut net, 60, answers, |net| {
        !from_server(net, "CANCEL", "dave").is_empty()
    }));
    run_idle(&mut net, 300, answers);
    assert_eq!(net.server().session_count(), 0);
    let events = net.server_events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::InvitationFailed { session, address, reason: InvitationFailure::Cancelled, .. }
            if *session == id && *address == uri("dave")
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SessionEnded { session, reason: EndReason::Empty } if *session == id
    )));
    // Dave's client stopped ringing.
    assert!(net
        .client_events(DAVE)
        .iter()
        .any(|e| matches!(e, ClientEvent::SessionEnded { session, .. } if *session == dave)));
}

#[test]
fn a_ringing_invitee_is_cancelled_when_everyone_else_left() {
    ringing_invitee_is_cancelled_when_everyone_else_left(Faults::PERFECT, 1);
}

#[test]
fn a_ringing_invitee_is_cancelled_when_everyone_else_left_over_a_lossy_network() {
    for seed in [2, 3] {
        ringing_invitee_is_cancelled_when_everyone_else_left(lossy(), seed);
    }
}

// ----- 1 and 2. no answer in time, failures, the roster -----

fn unanswered_and_failed_invitations(conditions: Faults, seed: u64, check_roster: bool) {
    let answers = Answers {
        silent: &[DAVE],
        busy: &[ERIN],
    };
    let mut net = network(conditions, seed, |c| {
        c.invitation_timeout = Duration::from_secs(40)
    });
    let session = start(&mut net, &["bob", "dave", "erin"], answers);
    let now = net.now();
    net.client(ALICE)
        .subscribe_conference(session, now)
        .unwrap();
    run(&mut net, 5, answers);
    let id = server_session(&net);
    if check_roster {
        let roster = net
            .client(ALICE)
            .conference_state(session)
            .cloned()
            .expect("a roster");
        assert_eq!(status_of(&roster, "alice"), Some(EndpointStatus::Connected));
        assert_eq!(status_of(&roster, "bob"), Some(EndpointStatus::Connected));
        // Dave rings: alerting, dialed out.
        assert_eq!(status_of(&roster, "dave"), Some(EndpointStatus::Alerting));
        let dave = roster.user(&uri("dave")).unwrap();
        assert_eq!(
            dave.endpoints[0].joining_method,
            Some(JoiningMethod::DialedOut)
        );
        // Erin was busy: disconnected, busy, with the status.
        assert_eq!(
            status_of(&roster, "erin"),
            Some(EndpointStatus::Disconnected)
        );
        assert_eq!(
            disconnection_of(&roster, "erin"),
            Some((DisconnectionMethod::Busy, "486 Busy Here".to_owned()))
        );
        assert_eq!(
            roster.conference_state.as_ref().and_then(|c| c.user_count),
            Some(2)
        );
    }
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        Event::InvitationFailed { session, address, reason: InvitationFailure::Status(486), .. }
            if *session == id && *address == uri("erin")
    )));
    assert!(from_server(&net, "CANCEL", "dave").is_empty());
    // 40 s after the INVITE, Dave is CANCELled and reported.
    run(&mut net, 40, answers);
    let dave_failed: Vec<InvitationFailure> = net
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::InvitationFailed {
                session,
                address,
                reason,
                ..
            } if session == id && address == uri("dave") => Some(reason),
            _ => None,
        })
        .collect();
    if check_roster {
        assert_eq!(dave_failed, [InvitationFailure::NoAnswer]);
        assert!(!from_server(&net, "CANCEL", "dave").is_empty());
    } else {
        // Over the lossy network the INVITE may never have reached Dave:
        // it then timed out (408) before the no-answer time.
        assert!(
            matches!(
                dave_failed.as_slice(),
                [InvitationFailure::NoAnswer | InvitationFailure::Status(408)]
            ),
            "{dave_failed:?}"
        );
    }
    assert_eq!(net.server().session_count(), 1);
    if check_roster {
        let roster = net
            .client(ALICE)
            .conference_state(session)
            .cloned()
            .unwrap();
        assert_eq!(
            status_of(&roster, "dave"),
            Some(EndpointStatus::Disconnected)
        );
        assert_eq!(
            disconnection_of(&roster, "dave"),
            Some((DisconnectionMethod::Failed, "no answer".to_owned()))
        );
        // The partial notification on the wire carries it.
        let partial = net.wire().iter().any(|r| {
            r.bytes.starts_with(b"NOTIFY ")
                && std::str::from_utf8(&r.bytes).is_ok_and(|t| {
                    t.contains("state=\"partial\"")
                        && t.contains("<disconnection-method>failed</disconnection-method>")
                        && t.contains("no answer")
                })
        });
        assert!(partial);
    }
    let bob = invited_session(&net, BOB);
    leave(&mut net, BOB, bob, answers);
    if check_roster {
        let roster = net
            .client(ALICE)
            .conference_state(session)
            .cloned()
            .unwrap();
        assert_eq!(
            disconnection_of(&roster, "bob"),
            Some((DisconnectionMethod::Departed, "left the session".to_owned()))
        );
    }
    leave(&mut net, ALICE, session, answers);
    run_idle(&mut net, 300, answers);
    assert_eq!(net.server().session_count(), 0);
}

#[test]
fn an_unanswered_invitation_is_cancelled_in_time_and_failures_are_in_the_roster() {
    unanswered_and_failed_invitations(Faults::PERFECT, 4, true);
}

#[test]
fn an_unanswered_invitation_is_cancelled_in_time_over_a_lossy_network() {
    for seed in [5, 6] {
        unanswered_and_failed_invitations(lossy(), seed, false);
    }
}

#[test]
fn an_invitee_out_of_reach_is_reported_with_408() {
    let answers = Answers::default();
    let mut net = network(Faults::PERFECT, 7, |_| {});
    net.sim.cut_off(net.id(DAVE));
    let session = start(&mut net, &["bob", "dave"], answers);
    run(&mut net, 40, answers);
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        Event::InvitationFailed { address, reason: InvitationFailure::Status(408), .. }
            if *address == uri("dave")
    )));
    net.sim.reconnect(net.id(DAVE));
    let bob = invited_session(&net, BOB);
    leave(&mut net, BOB, bob, answers);
    leave(&mut net, ALICE, session, answers);
    run_idle(&mut net, 300, answers);
    assert_eq!(net.server().session_count(), 0);
}

// ----- 3. dead legs -----

fn rejoin_replaces_the_old_leg(conditions: Faults, seed: u64) {
    let answers = Answers::default();
    let mut net = network(conditions, seed, |c| c.release_alone = true);
    let session = start(&mut net, &["bob", "carol"], answers);
    let id = server_session(&net);
    let bob = invited_session(&net, BOB);
    // Bob loses connectivity; his BYE is lost.
    net.sim.cut_off(net.id(BOB));
    leave(&mut net, BOB, bob, answers);
    run(&mut net, 40, answers);
    net.sim.reconnect(net.id(BOB));
    assert_eq!(net.server().participants(id).len(), 3);
    // He rejoins with the stored IM Session Identity.
    let now = net.now();
    let again = net.client(BOB).rejoin(bob, now).unwrap();
    run(&mut net, 10, answers);
    assert!(net.client(BOB).is_established(again));
    let listed: Vec<String> = net
        .server()
        .participants(id)
        .into_iter()
        .map(|(_, a)| a.to_owned())
        .collect();
    assert_eq!(
        listed.iter().filter(|a| **a == uri("bob")).count(),
        1,
        "{listed:?}"
    );
    assert_eq!(listed.len(), 3);
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        Event::ParticipantLeft {
            reason: LeaveReason::Replaced,
            ..
        }
    )));
    // The old dialog was ended with BYE.
    assert!(!from_server(&net, "BYE", "bob").is_empty());
    // Alice and Carol leave: Bob is the last one and is released.
    leave(&mut net, ALICE, session, answers);
    let carol = invited_session(&net, CAROL);
    leave(&mut net, CAROL, carol, answers);
    run_idle(&mut net, 300, answers);
    assert_eq!(net.server().session_count(), 0);
    assert!(net
        .client_events(BOB)
        .iter()
        .any(|e| matches!(e, ClientEvent::SessionEnded { session, .. } if *session == again)));
}

#[test]
fn a_user_who_rejoins_replaces_its_dead_leg() {
    rejoin_replaces_the_old_leg(Faults::PERFECT, 8);
}

#[test]
fn a_user_who_rejoins_replaces_its_dead_leg_over_a_lossy_network() {
    for seed in [9, 10] {
        rejoin_replaces_the_old_leg(lossy(), seed);
    }
}

fn connection_reset_removes_the_participant(conditions: Faults, seed: u64) {
    let answers = Answers::default();
    let mut net = network(conditions, seed, |_| {});
    let session = start(&mut net, &["bob", "carol"], answers);
    let id = server_session(&net);
    let now = net.now();
    net.client(ALICE)
        .subscribe_conference(session, now)
        .unwrap();
    run(&mut net, 5, answers);
    let (server, carol) = (net.server, net.id(CAROL));
    assert_eq!(net.sim.reset_seen_by(server, carol), 1);
    run(&mut net, 10, answers);
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        Event::ParticipantLeft { session, reason: LeaveReason::ConnectionLost, .. } if *session == id
    )));
    assert!(!from_server(&net, "BYE", "carol").is_empty());
    assert_eq!(net.server().participants(id).len(), 2);
    let carol = invited_session(&net, CAROL);
    assert!(net
        .client_events(CAROL)
        .iter()
        .any(|e| matches!(e, ClientEvent::SessionEnded { session, .. } if *session == carol)));
    if conditions == Faults::PERFECT {
        let roster = net
            .client(ALICE)
            .conference_state(session)
            .cloned()
            .unwrap();
        assert_eq!(
            disconnection_of(&roster, "carol"),
            Some((
                DisconnectionMethod::Failed,
                "MSRP connection lost".to_owned()
            ))
        );
    }
    leave(&mut net, ALICE, session, answers);
    let bob = invited_session(&net, BOB);
    leave(&mut net, BOB, bob, answers);
    run_idle(&mut net, 300, answers);
}

#[test]
fn an_msrp_connection_reset_removes_the_participant() {
    connection_reset_removes_the_participant(Faults::PERFECT, 11);
}

#[test]
fn an_msrp_connection_reset_removes_the_participant_over_a_lossy_network() {
    // Seed 103: the 200 to Alice's conference SUBSCRIBE is lost until
    // after her subscription ended (an early NOTIFY made its dialog);
    // its late retransmission must not leave a dialog behind.
    for seed in [12, 103] {
        connection_reset_removes_the_participant(lossy(), seed);
    }
}

// ----- 3 and 5. an unanswered SEND; acknowledged deliveries -----

fn unanswered_send(conditions: Faults, seed: u64) {
    let answers = Answers::default();
    let mut net = network(conditions, seed, |_| {});
    let session = start(&mut net, &["bob", "carol"], answers);
    let id = server_session(&net);
    // Alice asks for a success report: the server, endpoint of her leg,
    // sends it (RFC 4975 §7.1.3).
    let now = net.now();
    let first = net
        .client(ALICE)
        .send_message(session, "text/plain", b"one", true, now)
        .unwrap();
    run(&mut net, 5, answers);
    assert!(net.client_events(ALICE).iter().any(|e| matches!(
        e,
        ClientEvent::MessageDelivered { message_id, .. } if *message_id == first
    )));
    let relayed = |net: &Group| -> Vec<usize> {
        net.server_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::MessageRelayed { recipients, .. } => Some(recipients),
                _ => None,
            })
            .collect()
    };
    assert_eq!(relayed(&net), [2]);
    // Carol's connectivity is gone: the SEND to her is never answered.
    net.sim.cut_off(net.id(CAROL));
    let now = net.now();
    net.client(ALICE)
        .send_message(session, "text/plain", b"two", false, now)
        .unwrap();
    run(&mut net, 20, answers);
    // Not delivered to everyone yet: no report of it.
    assert_eq!(relayed(&net), [2]);
    assert_eq!(net.server().participants(id).len(), 3);
    // The MSRP transaction timeout (30 s) removes her.
    run(&mut net, 11, answers);
    assert_eq!(relayed(&net), [2, 1]);
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        Event::ParticipantLeft {
            reason: LeaveReason::ConnectionLost,
            ..
        }
    )));
    assert_eq!(net.server().participants(id).len(), 2);
    net.sim.reconnect(net.id(CAROL));
    run(&mut net, 30, answers);
    leave(&mut net, ALICE, session, answers);
    let bob = invited_session(&net, BOB);
    leave(&mut net, BOB, bob, answers);
    run_idle(&mut net, 300, answers);
}

#[test]
fn an_unanswered_send_removes_the_participant_and_only_acknowledged_deliveries_count() {
    unanswered_send(Faults::PERFECT, 13);
}

#[test]
fn an_unanswered_send_removes_the_participant_over_a_lossy_network() {
    unanswered_send(lossy(), 14);
}

// ----- 4. adding and removing Participants by REFER -----

fn refer_adds_and_removes(conditions: Faults, seed: u64) {
    let answers = Answers::default();
    let mut net = network(conditions, seed, |_| {});
    let session = start(&mut net, &["bob"], answers);
    let id = server_session(&net);
    let bob = invited_session(&net, BOB);
    let now = net.now();
    net.client(BOB)
        .add_participants(bob, &[&uri("dave")], now)
        .unwrap();
    let done = |net: &mut Group| {
        net.client_events(BOB).iter().any(|e| {
            matches!(
                e,
                ClientEvent::ReferralProgress {
                    done: true,
                    remove: false,
                    ..
                }
            )
        })
    };
    assert!(wait(&mut net, 60, answers, done));
    // The focus invited Dave on Bob's behalf.
    let invite = from_server(&net, "INVITE", "dave");
    let text = String::from_utf8_lossy(&invite[0]).into_owned();
    assert!(
        text.contains("\r\nReferred-By: <sip:bob@example.com>\r\n"),
        "{text}"
    );
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        Event::ParticipantJoined { session, address, .. } if *session == id && *address == uri("dave")
    )));
    let progress: Vec<(u16, bool)> = net
        .client_events(BOB)
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::ReferralProgress {
                user,
                status,
                done,
                remove: false,
                ..
            } if user == uri("dave") => Some((status, done)),
            _ => None,
        })
        .collect();
    assert_eq!(progress.last(), Some(&(200, true)), "{progress:?}");
    assert_eq!(net.server().participants(id).len(), 3);
    // Bob may not remove Alice (default: only oneself).
    let now = net.now();
    net.client(BOB)
        .remove_participant(bob, &uri("alice"), now)
        .unwrap();
    let refused = |net: &mut Group| {
        net.client_events(BOB).iter().any(|e| {
            matches!(
                e,
                ClientEvent::ReferralProgress {
                    done: true,
                    remove: true,
                    ..
                }
            )
        })
    };
    assert!(wait(&mut net, 60, answers, refused));
    assert!(net.client_events(BOB).iter().any(|e| matches!(
        e,
        ClientEvent::ReferralProgress {
            status: 403,
            done: true,
            remove: true,
            ..
        }
    )));
    assert_eq!(net.server().participants(id).len(), 3);
    // Dave removes himself through the focus.
    let dave = invited_session(&net, DAVE);
    let now = net.now();
    net.client(DAVE)
        .remove_participant(dave, &uri("dave"), now)
        .unwrap();
    let ended = |net: &mut Group| {
        net.client_events(DAVE)
            .iter()
            .any(|e| matches!(e, ClientEvent::SessionEnded { session, .. } if *session == dave))
    };
    assert!(wait(&mut net, 60, answers, ended));
    assert!(!from_server(&net, "BYE", "dave").is_empty());
    assert!(net
        .client_events(DAVE)
        .iter()
        .any(|e| matches!(e, ClientEvent::SessionEnded { session, .. } if *session == dave)));
    assert_eq!(net.server().participants(id).len(), 2);
    leave(&mut net, BOB, bob, answers);
    leave(&mut net, ALICE, session, answers);
    run_idle(&mut net, 300, answers);
    assert_eq!(net.server().session_count(), 0);
}

#[test]
fn a_participant_adds_a_user_by_refer_and_a_user_removes_itself() {
    refer_adds_and_removes(Faults::PERFECT, 15);
}

#[test]
fn adding_and_removing_by_refer_over_a_lossy_network() {
    refer_adds_and_removes(lossy(), 16);
}

#[test]
fn refer_to_add_is_refused_when_the_policy_says_nobody() {
    let answers = Answers::default();
    let mut net = network(Faults::PERFECT, 17, |c| {
        c.access.refer_add = ReferAddPolicy::Nobody
    });
    let session = start(&mut net, &["bob"], answers);
    let now = net.now();
    net.client(ALICE)
        .add_participants(session, &[&uri("dave")], now)
        .unwrap();
    run(&mut net, 5, answers);
    assert!(net.client_events(ALICE).iter().any(|e| matches!(
        e,
        ClientEvent::ReferralProgress {
            status: 403,
            done: true,
            ..
        }
    )));
    assert!(from_server(&net, "INVITE", "dave").is_empty());
    assert!(!delivered_to(&net, "INVITE ", DAVE));
    leave(&mut net, ALICE, session, answers);
    let bob = invited_session(&net, BOB);
    leave(&mut net, BOB, bob, answers);
    run_idle(&mut net, 300, answers);
}

// ----- 6. merged requests and late copies of an INVITE -----

/// Alice's INVITE to Bob as it crossed the core to Bob.
fn invite_to_bob(net: &Group) -> Vec<u8> {
    let bob = client_addr("bob");
    net.wire()
        .iter()
        .find(|r| r.to == bob && r.bytes.starts_with(b"INVITE sip:bob@example.com "))
        .expect("the INVITE to Bob")
        .bytes
        .clone()
}

fn invitations(net: &Group, index: usize) -> usize {
    net.client_events(index)
        .iter()
        .filter(|e| matches!(e, ClientEvent::InvitationReceived { .. }))
        .count()
}

fn answered_482(net: &Group, from: usize) -> bool {
    let addr = net.addr(from);
    net.wire()
        .iter()
        .any(|r| r.from == addr && r.bytes.starts_with(b"SIP/2.0 482 "))
}

#[test]
fn a_late_copy_of_an_answered_invite_creates_no_second_session() {
    let answers = Answers::default();
    let mut net = network(Faults::PERFECT, 18, |_| {});
    let now = net.now();
    let session = net
        .client(ALICE)
        .start_one_to_one(&uri("bob"), now)
        .unwrap();
    run(&mut net, 5, answers);
    assert!(net.client(ALICE).is_established(session));
    // Long after its transaction and the 2xx's retransmission window are
    // gone, the same INVITE arrives again.
    run(&mut net, 40, answers);
    let copy = invite_to_bob(&net);
    let bob = net.addr(BOB);
    net.sim.inject(
        CORE.parse().unwrap(),
        bob,
        oma_im::transaction::Transport::Udp,
        copy,
    );
    run(&mut net, 5, answers);
    assert_eq!(invitations(&net, BOB), 1);
    assert!(answered_482(&net, BOB));
    leave(&mut net, ALICE, session, answers);
    run_idle(&mut net, 300, answers);
}

#[test]
fn a_merged_request_is_answered_482() {
    let answers = Answers {
        silent: &[BOB],
        busy: &[],
    };
    let mut net = network(Faults::PERFECT, 19, |_| {});
    let now = net.now();
    let session = net
        .client(ALICE)
        .start_one_to_one(&uri("bob"), now)
        .unwrap();
    run(&mut net, 2, answers);
    // The same request (Call-ID, From tag, CSeq) on another branch, as a
    // forking proxy upstream would deliver it (RFC 3261 §8.2.2.2).
    let copy = String::from_utf8(invite_to_bob(&net)).unwrap();
    let merged = copy.replacen("branch=z9hG4bK", "branch=z9hG4bKother", 1);
    assert_ne!(copy, merged);
    let bob = net.addr(BOB);
    net.sim.inject(
        CORE.parse().unwrap(),
        bob,
        oma_im::transaction::Transport::Udp,
        merged.into_bytes(),
    );
    run(&mut net, 2, answers);
    assert_eq!(invitations(&net, BOB), 1);
    assert!(answered_482(&net, BOB));
    let now = net.now();
    net.client(ALICE).leave(session, now).unwrap();
    run_idle(&mut net, 300, answers);
}

// ----- 7. the Large Message size announced is the size sent -----

fn large_message_size(conditions: Faults, seed: u64) {
    let answers = Answers::default();
    let mut net = network(conditions, seed, |_| {});
    let now = net.now();
    let body = vec![b'x'; 7000];
    net.client(ALICE)
        .send_large_message(&[&uri("bob"), &uri("carol")], "text/plain", &body, now)
        .unwrap();
    run_idle(&mut net, 300, answers);
    let alice = client_addr("alice");
    let invite = net
        .wire()
        .iter()
        .find(|r| r.from == alice && r.bytes.starts_with(b"INVITE "))
        .unwrap();
    let msg = oma_im::sip::parse_message(&invite.bytes).unwrap();
    let ct = msg
        .header(oma_im::sip::HeaderName::ContentType)
        .unwrap()
        .value;
    let sdp = oma_im::body::multipart::find_sdp(ct, msg.body(), &Default::default())
        .unwrap()
        .unwrap();
    let sdp = oma_im::sdp::SessionDescription::parse(sdp).unwrap();
    let announced = sdp.msrp_media().unwrap().1.max_size().unwrap();
    let alice_node = net.id(ALICE);
    let send = net
        .wire()
        .iter()
        .find(|r| {
            r.from_node == Some(alice_node)
                && r.bytes.starts_with(b"MSRP ")
                && r.bytes.windows(8).any(|w| w == b"Byte-Ran")
        })
        .expect("Alice's SEND");
    let text = String::from_utf8_lossy(&send.bytes);
    let total: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Byte-Range: "))
        .and_then(|r| r.rsplit('/').next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap();
    assert!(total > 7000);
    assert_eq!(announced, total);
    // Both recipients got it whole and the session was released.
    for index in [BOB, CAROL] {
        assert!(net.client_events(index).iter().any(|e| matches!(
            e,
            ClientEvent::MessageReceived { body, .. } if body.len() == 7000
        )));
    }
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: EndReason::LargeMessageDelivered,
            ..
        }
    )));
}

#[test]
fn a_large_message_announces_the_size_it_sends() {
    large_message_size(Faults::PERFECT, 20);
}

#[test]
fn a_large_message_announces_the_size_it_sends_over_a_lossy_network() {
    large_message_size(lossy(), 21);
}

#[test]
fn a_bye_right_after_the_msrp_connection_closed_is_a_departure() {
    let answers = Answers::default();
    let mut net = network(Faults::PERFECT, 22, |_| {});
    let session = start(&mut net, &["bob", "carol"], answers);
    let id = server_session(&net);
    // Bob's client closes its connection and sends BYE at once.
    let (server, bob) = (net.server, net.id(BOB));
    assert_eq!(net.sim.reset_seen_by(server, bob), 1);
    let bob = invited_session(&net, BOB);
    leave(&mut net, BOB, bob, answers);
    run(&mut net, 10, answers);
    let left: Vec<LeaveReason> = net
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ParticipantLeft {
                session, reason, ..
            } if session == id => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(left, [LeaveReason::Departed]);
    assert!(from_server(&net, "BYE", "bob").is_empty());
    leave(&mut net, ALICE, session, answers);
    let carol = invited_session(&net, CAROL);
    leave(&mut net, CAROL, carol, answers);
    run_idle(&mut net, 300, answers);
}

#[test]
fn a_participant_whose_session_refresh_fails_is_removed_and_the_roster_says_so() {
    let answers = Answers::default();
    let mut net = network(Faults::PERFECT, 23, |c| {
        c.session_expires = 90;
        c.release_alone = true;
    });
    let session = start(&mut net, &["bob", "carol"], answers);
    let id = server_session(&net);
    let now = net.now();
    net.client(ALICE)
        .subscribe_conference(session, now)
        .unwrap();
    run(&mut net, 5, answers);
    // Carol's refreshes (every 45 s) no longer arrive.
    net.sim.cut_off(net.id(CAROL));
    run(&mut net, 80, answers);
    assert!(net.server_events().iter().any(|e| matches!(
        e,
        Event::ParticipantLeft { session, reason: LeaveReason::SessionExpired, .. } if *session == id
    )));
    assert!(!from_server(&net, "BYE", "carol").is_empty());
    let listed: Vec<String> = net
        .server()
        .participants(id)
        .into_iter()
        .map(|(_, a)| a.to_owned())
        .collect();
    assert_eq!(listed, [uri("alice"), uri("bob")]);
    let roster = net
        .client(ALICE)
        .conference_state(session)
        .cloned()
        .unwrap();
    assert_eq!(
        disconnection_of(&roster, "carol"),
        Some((
            DisconnectionMethod::Failed,
            "session refresh failed".to_owned()
        ))
    );
    net.sim.reconnect(net.id(CAROL));
    // Bob leaves: Alice is alone and released (the release policy).
    let bob = invited_session(&net, BOB);
    leave(&mut net, BOB, bob, answers);
    assert!(net
        .client_events(ALICE)
        .iter()
        .any(|e| matches!(e, ClientEvent::SessionEnded { session: s, .. } if *s == session)));
    run_idle(&mut net, 600, answers);
    assert_eq!(net.server().session_count(), 0);
}
