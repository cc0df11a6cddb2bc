//! Who may open a pre-defined group and join a running session, on every
//! path in: the IM Group Identity, the IM Session Identity, a public
//! conference, the IM Client's `join_public_conference`; and the group's
//! anonymity rule on joins after the set-up.

use std::time::Duration;

use oma_im::im::client::{EndReason as ClientEnd, Event as ClientEvent, ImClient};
use oma_im::im::server::{
    AuthorizationPolicy, Event, Input, PredefinedGroup, ServerConfig, SessionAccess,
};

use oma_im::sim::{Faults, SimEvent, WireKind};

use crate::support::im::client_config;
use crate::support::im_server::scenario::{config, header, inviter_offer, status, Scenario};
use crate::support::im_server::{client_addr, core, Group, CORE, FACTORY, SERVER};

const GROUP: &str = "sip:friends@im.example.com";
const LOBBY: &str = "sip:lobby@im.example.com";
const ALICE: &str = "sip:alice@example.com";
const BOB: &str = "sip:bob@example.com";
const CAROL: &str = "sip:carol@example.com";

/// The server hosting the group alice, bob and carol are members of.
fn group_config(allow_anonymity: bool) -> ServerConfig {
    let mut cfg = config();
    cfg.groups.push(PredefinedGroup {
        identity: GROUP.into(),
        members: vec![ALICE.into(), BOB.into(), CAROL.into()],
        allow_anonymity,
    });
    cfg
}

/// `user` INVITEs `target` with an MSRP offer and extra headers.
fn join(sc: &mut Scenario, user: &str, target: &str, headers: &[(&str, &str)]) {
    let offer = inviter_offer(user, "message/cpim").into_bytes();
    sc.invite(user, target, headers, "application/sdp", offer);
}

/// The final statuses the server sent to `user`'s INVITEs, in order.
fn finals(sc: &Scenario, user: &str) -> Vec<u16> {
    sc.responses_to(user)
        .iter()
        .map(|r| status(r))
        .filter(|c| *c >= 200)
        .collect()
}

/// The IM Addresses in the session, in order.
fn members(sc: &mut Scenario) -> Vec<String> {
    let (session, _) = sc.session();
    sc.server()
        .participants(session)
        .into_iter()
        .map(|(_, a)| a.to_owned())
        .collect()
}

fn no_invitation_names_mallory(sc: &Scenario) {
    for invite in sc.invites_sent() {
        let text = String::from_utf8_lossy(&invite).into_owned();
        assert!(!text.contains("mallory"), "{text}");
    }
}

#[test]
fn a_non_member_cannot_open_a_predefined_group() {
    let mut sc = Scenario::new(
        group_config(true),
        &[
            ("alice", &[]),
            ("bob", &[200]),
            ("carol", &[200]),
            ("mallory", &[]),
        ],
    );
    join(&mut sc, "mallory", GROUP, &[]);
    sc.run(10);
    assert_eq!(finals(&sc, "mallory"), [403]);
    assert!(sc.invites_sent().is_empty(), "no member was invited");
    assert!(!sc
        .server_events()
        .iter()
        .any(|e| matches!(e, Event::SessionCreated { .. })));
    // A member opens it as before.
    join(&mut sc, "alice", GROUP, &[]);
    sc.run(10);
    assert_eq!(finals(&sc, "alice"), [200]);
    assert_eq!(sc.invites_sent().len(), 2);
    for invite in sc.invites_sent() {
        assert_eq!(
            header(&invite, "Referred-By").as_deref(),
            Some("<sip:alice@example.com>")
        );
    }
}

#[test]
fn a_non_member_cannot_join_a_running_group_by_either_uri() {
    let mut sc = Scenario::new(
        group_config(true),
        &[
            ("alice", &[]),
            ("bob", &[200]),
            ("carol", &[200]),
            ("mallory", &[]),
        ],
    );
    join(&mut sc, "alice", GROUP, &[]);
    sc.run(10);
    let (_, identity) = sc.session();
    let before = sc.invites_sent().len();
    join(&mut sc, "mallory", GROUP, &[]);
    join(&mut sc, "mallory", &identity, &[]);
    sc.run(10);
    assert_eq!(finals(&sc, "mallory"), [403, 403]);
    assert_eq!(sc.invites_sent().len(), before, "no INVITE fan-out");
    no_invitation_names_mallory(&sc);
    assert_eq!(members(&mut sc), [ALICE, BOB, CAROL]);
}

#[test]
fn an_ad_hoc_session_is_joinable_only_by_its_participants_and_invitees() {
    let mut sc = Scenario::new(
        config(),
        &[
            ("alice", &[]),
            ("bob", &[200]),
            ("carol", &[486]),
            ("mallory", &[]),
        ],
    );
    sc.adhoc("alice", &[BOB, CAROL]);
    sc.run(10);
    let (_, identity) = sc.session();
    // Mallory learnt the IM Session Identity: it is not an invitation.
    join(&mut sc, "mallory", &identity, &[]);
    sc.run(10);
    assert_eq!(finals(&sc, "mallory"), [403]);
    assert_eq!(members(&mut sc), [ALICE, BOB]);
    // Carol, invited but busy then, may come in.
    join(&mut sc, "carol", &identity, &[]);
    sc.run(10);
    assert_eq!(finals(&sc, "carol"), [200]);
    assert_eq!(members(&mut sc), [ALICE, BOB, CAROL]);
}

#[test]
fn every_join_path_runs_the_allow_list() {
    let mut cfg = config();
    cfg.authorization =
        AuthorizationPolicy::AllowList(vec![ALICE.into(), BOB.into(), CAROL.into()]);
    cfg.public_conferences.push(LOBBY.into());
    // Open ad-hoc sessions: only the allow-list stands in mallory's way.
    cfg.access.ad_hoc_sessions = SessionAccess::Anyone;
    let mut sc = Scenario::new(
        cfg,
        &[
            ("alice", &[]),
            ("bob", &[200]),
            ("carol", &[]),
            ("mallory", &[]),
        ],
    );
    sc.adhoc("alice", &[BOB]);
    sc.run(10);
    let (_, identity) = sc.session();
    sc.adhoc("mallory", &[BOB]);
    join(&mut sc, "mallory", &identity, &[]);
    join(&mut sc, "mallory", LOBBY, &[]);
    sc.run(10);
    assert_eq!(finals(&sc, "mallory"), [403, 403, 403]);
    assert_eq!(members(&mut sc), [ALICE, BOB]);
    // Carol, on the list, joins both.
    join(&mut sc, "carol", &identity, &[]);
    join(&mut sc, "carol", LOBBY, &[]);
    sc.run(10);
    assert_eq!(finals(&sc, "carol"), [200, 200]);
}

#[test]
fn the_application_is_asked_about_every_join() {
    let mut cfg = config();
    cfg.authorization = AuthorizationPolicy::Ask;
    cfg.public_conferences.push(LOBBY.into());
    let mut sc = Scenario::new(
        cfg,
        &[
            ("alice", &[]),
            ("bob", &[200]),
            ("carol", &[486]),
            ("mallory", &[]),
        ],
    );
    sc.adhoc("alice", &[BOB, CAROL]);
    join(&mut sc, "alice", LOBBY, &[]);
    run_deciding(&mut sc, 10);
    let (_, identity) = sc.session();
    join(&mut sc, "mallory", LOBBY, &[]);
    join(&mut sc, "carol", &identity, &[]);
    run_deciding(&mut sc, 10);
    assert_eq!(finals(&sc, "mallory"), [403]);
    assert_eq!(finals(&sc, "carol"), [200]);
    let mut asked: Vec<(String, String, bool)> = sc
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::AuthorizationRequested {
                originator,
                target,
                verified,
                ..
            } => Some((originator, target, verified)),
            _ => None,
        })
        .collect();
    // The set-up, alice's and mallory's joins of the lobby, carol's rejoin;
    // nobody's identity was asserted by a trusted peer.
    asked.sort();
    let mut expected = vec![
        (ALICE.to_owned(), FACTORY.to_owned(), false),
        (ALICE.to_owned(), LOBBY.to_owned(), false),
        (
            "sip:mallory@example.com".to_owned(),
            LOBBY.to_owned(),
            false,
        ),
        (CAROL.to_owned(), identity.clone(), false),
    ];
    expected.sort();
    assert_eq!(asked, expected);
}

/// Runs, allowing everyone but mallory.
fn run_deciding(sc: &mut Scenario, secs: u64) {
    let server = sc.server_id;
    let run = sc
        .sim
        .run_for_with(Duration::from_secs(secs), |nodes, _, event, now| {
            if let SimEvent::Server(Event::AuthorizationRequested {
                request,
                originator,
                ..
            }) = event
            {
                nodes.server(server).handle_input(
                    Input::Authorization {
                        request: *request,
                        allowed: !originator.contains("mallory"),
                    },
                    now,
                );
            }
        });
    if let Err(e) = run {
        panic!("{e}");
    }
}

#[test]
fn a_groups_no_anonymity_rule_holds_for_later_joins() {
    let mut sc = Scenario::new(
        group_config(false),
        &[("alice", &[]), ("bob", &[200]), ("carol", &[486])],
    );
    join(&mut sc, "alice", GROUP, &[]);
    sc.run(10);
    let (_, identity) = sc.session();
    join(&mut sc, "carol", GROUP, &[("Privacy", "id")]);
    join(&mut sc, "carol", &identity, &[("Privacy", "id")]);
    sc.run(10);
    assert_eq!(finals(&sc, "carol"), [403, 403]);
    assert_eq!(members(&mut sc), [ALICE, BOB]);
    join(&mut sc, "carol", GROUP, &[]);
    sc.run(10);
    assert_eq!(finals(&sc, "carol"), [403, 403, 200]);
    assert_eq!(members(&mut sc), [ALICE, BOB, CAROL]);
}

/// Core, bridged server, then alice, bob and mallory as IM Clients.
pub(crate) fn clients() -> Group {
    let mut cfg = config();
    cfg.msrp_authority = SERVER.to_owned();
    let mut net = Group::new(Faults::PERFECT, 13, core(), cfg);
    for (i, user) in ["alice", "bob", "mallory"].iter().enumerate() {
        let mut c = client_config(
            user,
            client_addr(user),
            CORE.parse().unwrap(),
            40 + i as u64,
        );
        c.conference_factory_uri = FACTORY.to_owned();
        net.add_client(c);
    }
    net
}

pub(crate) fn im(net: &mut Group, index: usize) -> &mut ImClient {
    net.client(index)
}

pub(crate) fn run_accepting(net: &mut Group, secs: u64) {
    let until = net.now() + Duration::from_secs(secs);
    net.run_until(until, |_, node, event, now| {
        if let SimEvent::Client(ClientEvent::InvitationReceived { session, .. }) = event {
            node.client().accept(*session, now).expect("accept");
        }
    });
}

fn im_events(net: &Group, index: usize) -> Vec<ClientEvent> {
    net.client_events(index)
}

#[test]
fn join_public_conference_with_a_session_uri_is_refused_and_hears_nothing() {
    let (alice, bob, mallory) = (2, 3, 4);
    let mut net = clients();
    let now = net.now();
    let session = im(&mut net, alice).start_ad_hoc(&[BOB], now).unwrap();
    run_accepting(&mut net, 10);
    let identity = im(&mut net, alice)
        .session_identity(session)
        .cloned()
        .expect("identity")
        .uri;
    let now = net.now();
    let attempt = im(&mut net, mallory)
        .join_public_conference(&identity, now)
        .unwrap();
    run_accepting(&mut net, 10);
    assert!(
        im_events(&net, mallory).contains(&ClientEvent::SessionEnded {
            session: attempt,
            reason: ClientEnd::Rejected(403),
        })
    );
    let now = net.now();
    im(&mut net, alice)
        .send_message(session, "text/plain", b"for bob only", false, now)
        .unwrap();
    run_accepting(&mut net, 10);
    assert!(im_events(&net, bob).iter().any(
        |e| matches!(e, ClientEvent::MessageReceived { body, .. } if body == b"for bob only")
    ));
    let mallory_addr = client_addr("mallory");
    let server: std::net::SocketAddr = SERVER.parse().unwrap();
    assert!(
        !net.wire().iter().any(|r| r.kind == WireKind::Msrp
            && r.from.ip() == server.ip()
            && r.to.ip() == mallory_addr.ip()),
        "no MSRP bytes to mallory"
    );
}
