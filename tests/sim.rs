//! The public simulator (`oma_im::sim`) carries the roles: 1-1 and group
//! chats with MSRP routed by the simulator, seeded faults reproduced from
//! their seed, partitions, resets, restarts and nodes cut off, a typed
//! failure when the nodes do not go idle or keep a past deadline, the
//! client's own binding of accepted MSRP connections, SIP over TCP and
//! MSRP cut at arbitrary boundaries and reassembled, and pcap captures
//! tshark dissects.

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::im::client::{ClientConfig, EndReason, Event, SessionKind, SessionState};
use oma_im::im::server::{self, ServerConfig};
use oma_im::sim::{ClientId, Faults, Proxy, ServerId, Sim, SimError, WireKind};

const CORE: &str = "10.0.0.1:5060";
const SERVER: &str = "10.0.0.10:5060";
const SERVER_MSRP: &str = "10.0.0.10:2855";
const FACTORY: &str = "sip:conf-factory@im.example.com";
const USERS: [(&str, &str); 3] = [
    ("alice", "10.0.0.21"),
    ("bob", "10.0.0.22"),
    ("carol", "10.0.0.23"),
];

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn uri(user: &str) -> String {
    format!("sip:{user}@example.com")
}

fn client_config(user: &str, ip: &str, seed: u64) -> ClientConfig {
    let mut c = ClientConfig::new(&uri(user), FACTORY, addr(&format!("{ip}:5060")), addr(CORE));
    c.msrp_addr = addr(&format!("{ip}:2855"));
    c.seed = seed.into();
    c
}

struct World {
    sim: Sim,
    clients: Vec<ClientId>,
    server: ServerId,
}

/// Three clients, an IM Server hosting the factory, a core between them.
fn world(seed: u64, faults: Faults) -> World {
    let mut sim = Sim::new(seed).with_faults(faults);
    let mut proxy = Proxy::new().with_domain("im.example.com", addr(SERVER));
    let mut clients = Vec::new();
    for (i, (user, ip)) in USERS.iter().enumerate() {
        clients.push(sim.add_client(user, client_config(user, ip, 100 + i as u64)));
        proxy = proxy.with_user(&uri(user), addr(&format!("{ip}:5060")));
    }
    sim.add_proxy("core", addr(CORE), proxy);
    let mut config = ServerConfig::new(addr(SERVER), addr(CORE), "im.example.com");
    config.conference_factory_uris = vec![FACTORY.to_owned()];
    config.msrp_authority = SERVER_MSRP.to_owned();
    config.release_alone = true;
    config.seed = 9u64.into();
    let server = sim.add_server("server", config);
    for c in &clients {
        sim.auto_accept(*c, true);
    }
    World {
        sim,
        clients,
        server,
    }
}

fn received(sim: &Sim, c: ClientId) -> Vec<(Option<String>, String)> {
    sim.client_events(c)
        .into_iter()
        .filter_map(|e| match e {
            Event::MessageReceived { from, body, .. } => {
                Some((from.clone(), String::from_utf8_lossy(body).into_owned()))
            }
            _ => None,
        })
        .collect()
}

/// Alice sets up an ad-hoc group with bob and carol, everyone speaks,
/// everyone leaves.
fn group_chat(w: &mut World) -> Result<(), SimError> {
    let [alice, bob, carol] = [w.clients[0], w.clients[1], w.clients[2]];
    let now = w.sim.now();
    let session = w
        .sim
        .client(alice)
        .start_ad_hoc(&[&uri("bob"), &uri("carol")], now)
        .unwrap();
    w.sim.run_for(Duration::from_secs(2))?;
    for (i, c) in [alice, bob, carol].into_iter().enumerate() {
        let s = w.sim.client(c).sessions().next().expect("a session");
        let now = w.sim.now();
        let text = format!("hello from {}", USERS[i].0);
        w.sim
            .client(c)
            .send_message(s, "text/plain", text.as_bytes(), false, now)
            .unwrap();
        w.sim.run_for(Duration::from_secs(1))?;
    }
    let now = w.sim.now();
    w.sim.client(alice).leave(session, now).unwrap();
    w.sim.run_for(Duration::from_secs(1))?;
    let s = w.sim.client(bob).sessions().next().expect("bob's session");
    let now = w.sim.now();
    w.sim.client(bob).leave(s, now).unwrap();
    w.sim.run_until_idle(Duration::from_secs(120))
}

#[test]
fn an_adhoc_group_chat_runs_on_the_simulator() {
    let mut w = world(1, Faults::NONE);
    group_chat(&mut w).unwrap_or_else(|e| panic!("{e}"));
    assert_group_chat(&w);
}

/// The same chat with every MSRP write cut into segments of 1 to 61
/// octets at boundaries drawn from the seed, and the writes of one turn
/// coalesced: the roles reassemble MSRP from arbitrary reads.
#[test]
fn an_adhoc_group_chat_survives_msrp_cut_at_arbitrary_boundaries() {
    for seed in [3, 4, 5] {
        let mut w = world(seed, Faults::NONE);
        w.sim
            .set_segmenting(oma_im::sim::Segmenting::Arbitrary { max: 61 });
        group_chat(&mut w).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_group_chat(&w);
        let split = w
            .sim
            .segments()
            .iter()
            .filter(|s| !s.bytes.starts_with(b"MSRP "))
            .count();
        assert!(split > w.sim.segments().len() / 2, "seed {seed}");
    }
}

fn assert_group_chat(w: &World) {
    for (i, c) in w.clients.iter().enumerate() {
        let mut got: Vec<String> = received(&w.sim, *c).into_iter().map(|(_, t)| t).collect();
        got.sort();
        let expected: Vec<String> = USERS
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (u, _))| format!("hello from {u}"))
            .collect();
        assert_eq!(got, expected, "{}", USERS[i].0);
    }
    // The senders are named by the server's relay (CPIM From).
    assert!(received(&w.sim, w.clients[1])
        .iter()
        .any(
            |(from, t)| from.as_deref() == Some("sip:alice@example.com") && t == "hello from alice"
        ));
    assert!(w
        .sim
        .server_events(w.server)
        .iter()
        .any(|e| matches!(e, server::Event::SessionEnded { .. })));
    // Every MSRP connection was opened by the simulator and closed.
    let opened = w
        .sim
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Open)
        .count();
    assert_eq!(opened, 3);
    assert!(w.sim.is_idle());
    assert_eq!(w.sim.undeliverable(), 0);
}

#[test]
fn the_same_seed_gives_the_same_wire_under_faults() {
    let faults = Faults::lossy(20, 10, Duration::from_millis(30));
    let run = |seed| {
        let mut w = world(seed, faults);
        group_chat(&mut w).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let wire: Vec<(Duration, Vec<u8>)> = w
            .sim
            .wire()
            .iter()
            .map(|r| (r.at, r.bytes.clone()))
            .collect();
        (wire, w.sim.ladder())
    };
    let (a, ladder) = run(5);
    let (b, _) = run(5);
    assert_eq!(a, b);
    assert!(ladder.contains("(lost)"), "{ladder}");
    assert!(ladder.contains("(duplicated)"), "{ladder}");
}

fn one_to_one(seed: u64) -> (Sim, ClientId, ClientId) {
    let mut sim = Sim::new(seed);
    let alice = sim.add_client("alice", client_config("alice", "10.0.0.21", 1));
    let bob = sim.add_client("bob", client_config("bob", "10.0.0.22", 2));
    sim.add_proxy(
        "core",
        addr(CORE),
        Proxy::new()
            .with_user(&uri("alice"), addr("10.0.0.21:5060"))
            .with_user(&uri("bob"), addr("10.0.0.22:5060")),
    );
    sim.auto_accept(bob, true);
    (sim, alice, bob)
}

#[test]
fn the_client_binds_an_accepted_connection_and_names_the_session() {
    let (mut sim, alice, bob) = one_to_one(3);
    let now = sim.now();
    let s = sim
        .client(alice)
        .start_one_to_one(&uri("bob"), now)
        .unwrap();
    assert_eq!(
        sim.client(alice).session_kind(s),
        Some(&SessionKind::OneToOne)
    );
    assert_eq!(
        sim.client(alice).session_state(s),
        Some(SessionState::Inviting)
    );
    sim.run_for(Duration::from_secs(1)).unwrap();
    let b = sim.client(bob).sessions().next().unwrap();
    // Bob answers actpass with active (RFC 6135): alice is the passive
    // end, and her client bound bob's connection itself.
    assert!(sim.client(alice).session_connection(s).is_some());
    assert!(sim.client(bob).session_connection(b).is_none());
    assert_eq!(
        sim.client(bob).session_peer(b),
        Some("sip:alice@example.com")
    );
    assert_eq!(
        sim.client(alice).session_state(s),
        Some(SessionState::Established)
    );
    assert_eq!(
        sim.client_ref(alice).call_id(s),
        sim.client_ref(bob).call_id(b)
    );
    assert!(sim.client(alice).call_id(s).is_some());
    let (a_local, b_local) = (
        sim.client(alice).local_msrp_path(s).unwrap(),
        sim.client(bob).local_msrp_path(b).unwrap(),
    );
    assert_eq!(sim.client(alice).remote_msrp_path(s), Some(vec![b_local]));
    assert_eq!(
        sim.client(bob).remote_msrp_path(b),
        Some(vec![a_local.clone()])
    );
    assert!(a_local.starts_with("msrp://10.0.0.21:2855/"));

    let now = sim.now();
    sim.client(bob)
        .send_message(b, "text/plain", b"hi alice", false, now)
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(
        received(&sim, alice),
        [(Some(uri("bob")), "hi alice".to_owned())]
    );
    let now = sim.now();
    sim.client(alice).leave(s, now).unwrap();
    sim.run_until_idle(Duration::from_secs(60)).unwrap();
    let closes = sim
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Close)
        .count();
    assert!(closes >= 1);
}

#[test]
fn a_second_connection_for_a_session_is_refused_by_the_client() {
    use oma_im::im::client::{Input, Output};
    let (mut sim, alice, _bob) = one_to_one(4);
    let now = sim.now();
    sim.client(alice)
        .start_one_to_one(&uri("bob"), now)
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let a = sim.client(alice).sessions().next().unwrap();
    let local = sim.client(alice).local_msrp_path(a).unwrap();
    // An intruder opens another connection naming alice's session (she
    // is the passive end).
    let now = sim.now();
    let client = sim.client(alice);
    let intruder = client.msrp_accepted_at(now);
    let send = format!(
        "MSRP x1 SEND\r\nTo-Path: {local}\r\nFrom-Path: msrp://10.6.6.6:2855/evil;tcp\r\n\
         Message-ID: m1\r\nByte-Range: 1-5/5\r\nContent-Type: text/plain\r\n\r\nhello\r\n-------x1$\r\n"
    );
    client.handle_input(
        Input::MsrpAcceptedBytes {
            connection: intruder,
            bytes: send.as_bytes(),
        },
        now,
    );
    let mut refused = None;
    let mut others = Vec::new();
    while let Some(o) = client.poll_output() {
        match o {
            Output::MsrpConnectionTransmit { connection, data } if connection == intruder => {
                refused = Some(String::from_utf8(data).unwrap())
            }
            other => others.push(other),
        }
    }
    let refused = refused.expect("a response to the intruder");
    assert!(refused.starts_with("MSRP x1 506"), "{refused}");
    assert!(!others
        .iter()
        .any(|o| matches!(o, Output::Event(Event::MessageReceived { .. }))));
    // The first connection still carries the session.
    assert!(client.session_connection(a).is_some_and(|c| c != intruder));
}

#[test]
fn a_restarted_client_rejoins_from_the_stored_identity() {
    let mut w = world(6, Faults::NONE);
    let [alice, bob, _carol] = [w.clients[0], w.clients[1], w.clients[2]];
    let now = w.sim.now();
    w.sim
        .client(alice)
        .start_ad_hoc(&[&uri("bob"), &uri("carol")], now)
        .unwrap();
    w.sim.run_for(Duration::from_secs(2)).unwrap();
    let b = w.sim.client(bob).sessions().next().unwrap();
    let identity = w.sim.client(bob).session_identity(b).unwrap().uri.clone();
    // Bob's device restarts: the session is gone from the new client.
    w.sim
        .restart_client(bob, client_config("bob", "10.0.0.22", 77));
    let now = w.sim.now();
    let again = w.sim.client(bob).rejoin_identity(&identity, now).unwrap();
    w.sim.run_for(Duration::from_secs(2)).unwrap();
    assert!(w.sim.client(bob).is_established(again));
    let now = w.sim.now();
    w.sim
        .client(bob)
        .send_message(again, "text/plain", b"back", false, now)
        .unwrap();
    w.sim.run_for(Duration::from_secs(1)).unwrap();
    assert!(received(&w.sim, alice).iter().any(|(_, t)| t == "back"));
}

#[test]
fn a_partition_holds_msrp_until_repaired() {
    let (mut sim, alice, bob) = one_to_one(8);
    let now = sim.now();
    let s = sim
        .client(alice)
        .start_one_to_one(&uri("bob"), now)
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    sim.partition(alice, bob);
    let now = sim.now();
    sim.client(alice)
        .send_message(s, "text/plain", b"later", false, now)
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    assert!(received(&sim, bob).is_empty());
    sim.repair(alice, bob);
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(received(&sim, bob).len(), 1);
}

#[test]
fn a_reset_connection_is_reported_to_both_roles() {
    let (mut sim, alice, bob) = one_to_one(10);
    let now = sim.now();
    let s = sim
        .client(alice)
        .start_one_to_one(&uri("bob"), now)
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    sim.reset_connections(bob);
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert!(sim.wire().iter().any(|r| r.kind == WireKind::Reset));
    // Alice's MSRP is down: a message fails instead of being delivered.
    let now = sim.now();
    let sent = sim
        .client(alice)
        .send_message(s, "text/plain", b"x", false, now);
    sim.run_for(Duration::from_secs(40)).unwrap();
    assert!(received(&sim, bob).is_empty(), "{sent:?}");
}

#[test]
fn nodes_that_do_not_go_idle_fail_with_the_busy_nodes_named() {
    let (mut sim, alice, _bob) = one_to_one(12);
    let now = sim.now();
    sim.client(alice)
        .start_one_to_one(&uri("bob"), now)
        .unwrap();
    let err = sim.run_until_idle(Duration::from_secs(5)).unwrap_err();
    match &err {
        SimError::NotIdle { busy, .. } => {
            assert!(busy.iter().any(|(name, _)| name == "alice"), "{err}")
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string().contains("INVITE sip:bob@example.com"),
        "{err}"
    );
    let mut sim = Sim::new(1);
    sim.set_max_steps(3);
    let a = sim.add_client("a", client_config("a", "10.0.0.30", 1));
    let now = sim.now();
    sim.client(a)
        .start_one_to_one("sip:b@10.0.0.31", now)
        .unwrap();
    assert!(matches!(
        sim.run_until_idle(Duration::from_secs(60)),
        Err(SimError::TooManySteps { .. })
    ));
}

#[test]
fn the_ended_session_reasons_are_reported() {
    let (mut sim, alice, bob) = one_to_one(14);
    let now = sim.now();
    let s = sim
        .client(alice)
        .start_one_to_one(&uri("bob"), now)
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let now = sim.now();
    sim.client(alice).leave(s, now).unwrap();
    sim.run_until_idle(Duration::from_secs(60)).unwrap();
    assert!(sim.client_events(bob).iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            reason: EndReason::Remote,
            ..
        }
    )));
}

/// The capture of a group chat dissects as SIP and MSRP with no malformed
/// frame (runs only where `tshark` is installed).
#[test]
fn the_pcap_capture_dissects_in_tshark() {
    let mut w = world(2, Faults::NONE);
    group_chat(&mut w).unwrap_or_else(|e| panic!("{e}"));
    let pcap = w.sim.pcap();
    assert_eq!(&pcap[..4], &0xa1b2_c3d4u32.to_le_bytes());
    let found = std::process::Command::new("tshark")
        .arg("--version")
        .output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("tshark is not on PATH: the dissection check did not run");
        return;
    }
    let dir = std::env::temp_dir().join(format!("oma-im-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("chat.pcap");
    w.sim.write_pcap(&file).unwrap();
    let tshark = |extra: &[&str]| {
        let out = std::process::Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(&file)
            .args(["-d", "tcp.port==2855,msrp"])
            .args(extra)
            .output()
            .expect("tshark runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let malformed = tshark(&["-Y", "_ws.malformed || _ws.expert.severity >= error"]);
    assert!(
        malformed.trim().is_empty(),
        "malformed frames:\n{malformed}"
    );
    let sip = tshark(&[
        "-Y",
        "sip.Method == \"INVITE\"",
        "-T",
        "fields",
        "-e",
        "sip.r-uri",
    ]);
    assert!(sip.contains(FACTORY), "{sip}");
    let msrp = tshark(&[
        "-Y",
        "msrp.method == \"SEND\"",
        "-T",
        "fields",
        "-e",
        "msrp.method",
    ]);
    assert!(msrp.lines().count() >= 9, "{msrp}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// RFC 4575 §4.6: each subscription numbers its own notifications. With
/// every participant subscribed, the full state sent to a later subscriber
/// does not make the others see a version gap (found by the im_client
/// example, where every member subscribes).
#[test]
fn every_subscriber_applies_every_conference_notification() {
    let mut w = world(21, Faults::NONE);
    let [alice, bob, carol] = [w.clients[0], w.clients[1], w.clients[2]];
    let now = w.sim.now();
    w.sim
        .client(alice)
        .start_ad_hoc(&[&uri("bob"), &uri("carol")], now)
        .unwrap();
    w.sim.run_for(Duration::from_secs(2)).unwrap();
    for c in [alice, bob, carol] {
        let s = w.sim.client(c).sessions().next().unwrap();
        let now = w.sim.now();
        w.sim.client(c).subscribe_conference(s, now).unwrap();
        w.sim.run_for(Duration::from_secs(1)).unwrap();
    }
    let s = w.sim.client(bob).sessions().next().unwrap();
    let now = w.sim.now();
    w.sim.client(bob).leave(s, now).unwrap();
    w.sim.run_for(Duration::from_secs(2)).unwrap();
    for c in [alice, carol] {
        let events = w.sim.client_events(c);
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::ConferenceStateError { .. })),
            "{events:?}"
        );
        assert!(events.iter().any(|e| matches!(
            e,
            Event::ParticipantsChanged { left, .. } if *left == [uri("bob")]
        )));
    }
}

/// SIP over TCP is a stream: cut at arbitrary boundaries drawn from the
/// seed, one message in several segments and several messages in one, the
/// receiving side frames whole messages out of it (RFC 3261 §18.3); and the
/// capture shows the segments, which tshark reassembles into the same SIP
/// messages (where tshark is installed).
#[test]
fn sip_over_tcp_cut_at_arbitrary_boundaries_is_reassembled() {
    use oma_im::dialog::{Config, Event as UaEvent, RequestSpec, ResponseSpec};
    use oma_im::sim::{NodeId, Segmenting, SimEvent};
    use oma_im::sip::Method;
    use oma_im::transaction::Transport;

    let (a, b) = (addr("10.0.0.31:5060"), addr("10.0.0.32:5060"));
    let mut sim = Sim::new(77);
    sim.set_segmenting(Segmenting::Arbitrary { max: 97 });
    let alice = sim.add_agent("alice", Config::new(a, b, Transport::Tcp, 1));
    let bob = sim.add_agent("bob", Config::new(b, a, Transport::Tcp, 2));
    let sdp = b"v=0\r\no=a 1 1 IN IP4 10.0.0.31\r\ns=-\r\nc=IN IP4 10.0.0.31\r\nt=0 0\r\n\
        m=message 7000 TCP/MSRP *\r\na=accept-types:text/plain\r\n\
        a=path:msrp://10.0.0.31:7000/a;tcp\r\n";
    let invite = RequestSpec::new(
        Method::Invite,
        "sip:bob@10.0.0.32",
        "<sip:alice@example.com>",
        "<sip:bob@example.com>",
    )
    .with_body("application/sdp", sdp.to_vec());
    let now = sim.now();
    sim.agent(alice).send_request(invite, now).unwrap();
    // Bob rings and answers at once (180 and 200 written in one turn);
    // alice hangs up as soon as her dialog is established.
    sim.run_until_idle_with(Duration::from_secs(60), |nodes, node, event, now| {
        match (node, event) {
            (
                NodeId::Agent(who),
                SimEvent::Agent(UaEvent::RequestReceived {
                    transaction,
                    dialog: None,
                    ..
                }),
            ) if who == bob => {
                let ua = nodes.agent(bob);
                ua.respond(*transaction, ResponseSpec::new(180), now)
                    .unwrap();
                ua.respond(
                    *transaction,
                    ResponseSpec::new(200).with_body("application/sdp", sdp.to_vec()),
                    now,
                )
                .unwrap();
            }
            (NodeId::Agent(who), SimEvent::Agent(UaEvent::DialogEstablished { dialog }))
                if who == alice =>
            {
                nodes.agent(alice).bye(*dialog, now).unwrap();
            }
            _ => {}
        }
    })
    .unwrap_or_else(|e| panic!("{e}"));

    // Every message arrived whole: both dialogs were set up and ended.
    for ua in [alice, bob] {
        let events = sim.agent_events(ua);
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, UaEvent::DialogEstablished { .. }))
                .count(),
            1
        );
        assert!(events
            .iter()
            .any(|e| matches!(e, UaEvent::DialogTerminated { .. })));
    }
    assert_eq!(sim.undeliverable(), 0);
    let messages: Vec<&oma_im::sim::WireRecord> = sim
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Sip(Transport::Tcp))
        .collect();
    let lines: Vec<String> = messages.iter().map(|r| r.first_line()).collect();
    assert_eq!(
        lines,
        [
            "INVITE sip:bob@10.0.0.32 SIP/2.0",
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK",
            "ACK sip:10.0.0.32:5060;transport=tcp SIP/2.0",
            "BYE sip:10.0.0.32:5060;transport=tcp SIP/2.0",
            "SIP/2.0 200 OK",
        ]
    );
    // Each direction's segments are its messages' bytes, in order.
    for (from, to) in [(a, b), (b, a)] {
        let written: Vec<u8> = messages
            .iter()
            .filter(|r| r.from == from && r.to == to)
            .flat_map(|r| r.bytes.clone())
            .collect();
        let carried: Vec<u8> = sim
            .segments()
            .iter()
            .filter(|s| s.from == from && s.to == to)
            .flat_map(|s| s.bytes.clone())
            .collect();
        assert_eq!(carried, written);
    }
    let segments = sim.segments();
    assert!(segments.iter().all(|s| (1..=97).contains(&s.bytes.len())));
    // Messages were split: most segments do not start with a start line.
    let starts_a_message = |s: &oma_im::sim::Segment| {
        s.bytes.starts_with(b"SIP/2.0 ") || lines.iter().any(|l| s.bytes.starts_with(l.as_bytes()))
    };
    assert!(segments.len() > 2 * messages.len());
    assert!(segments.iter().filter(|s| !starts_a_message(s)).count() > messages.len());
    // The 180 and the 200, written in one turn, share a segment: the end
    // of one and the start of the other.
    assert!(segments.iter().any(|s| {
        let text = String::from_utf8_lossy(&s.bytes);
        let at = text.find("SIP/2.0 200 OK");
        at.is_some_and(|at| at > 0)
    }));

    // The capture: TCP segments tshark reassembles into the 7 messages.
    let found = std::process::Command::new("tshark")
        .arg("--version")
        .output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("tshark is not on PATH: the dissection check did not run");
        return;
    }
    let dir = std::env::temp_dir().join(format!("oma-im-sim-tcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tcp.pcap");
    sim.write_pcap(&file).unwrap();
    let tshark = |extra: &[&str]| {
        let out = std::process::Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(&file)
            .args(extra)
            .output()
            .expect("tshark runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let malformed = tshark(&["-Y", "_ws.malformed || _ws.expert.severity >= error"]);
    assert!(
        malformed.trim().is_empty(),
        "malformed frames:\n{malformed}"
    );
    let frames = tshark(&["-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.len"]);
    assert_eq!(frames.lines().count(), segments.len(), "{frames}");
    let dissected = tshark(&[
        "-Y",
        "sip",
        "-T",
        "fields",
        "-e",
        "sip.Request-Line",
        "-e",
        "sip.Status-Line",
    ]);
    let dissected: Vec<String> = dissected
        .lines()
        .flat_map(|l| l.split('\t').filter(|f| !f.is_empty()).map(str::to_owned))
        .flat_map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    assert_eq!(dissected, lines, "tshark reassembled the same messages");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A node of the test's own that breaks the drain contract: handed its
/// deadline, it keeps it. The run fails with a typed error naming it
/// instead of spinning without time passing.
#[test]
fn a_node_that_keeps_a_past_deadline_fails_the_run() {
    use oma_im::sim::{Node, NodeOutput};
    use std::time::Instant;

    #[derive(Debug)]
    struct Stuck {
        at: Instant,
        fired: u32,
    }
    impl Node for Stuck {
        fn handle_sip(
            &mut self,
            _: &[u8],
            _: SocketAddr,
            _: oma_im::transaction::Transport,
            _: Instant,
        ) {
        }
        fn handle_timeout(&mut self, _: Instant) {
            self.fired += 1;
        }
        fn poll_output(&mut self) -> Option<NodeOutput> {
            None
        }
        fn poll_timeout(&self) -> Option<Instant> {
            Some(self.at)
        }
        fn is_idle(&self) -> bool {
            false
        }
    }
    let mut sim = Sim::new(1);
    let at = sim.now() + Duration::from_secs(3);
    let stuck = sim.add_node("stuck", addr("10.0.0.5:5060"), None, Stuck { at, fired: 0 });
    let err = sim.run_for(Duration::from_secs(10)).unwrap_err();
    match &err {
        SimError::StuckDeadline { nodes, elapsed } => {
            assert_eq!(nodes, &["stuck".to_owned()]);
            assert_eq!(*elapsed, Duration::from_secs(3));
        }
        other => panic!("{other}"),
    }
    assert_eq!(sim.custom_ref(stuck).fired, 1);
    assert!(err.to_string().contains("stuck"));
}

/// A node cut off the network loses what it sends and what is sent to it,
/// TCP included, without anyone being told; reconnected, it is heard again.
#[test]
fn a_node_cut_off_hears_nothing_and_is_heard_by_nobody() {
    use oma_im::sim::{Fate, RawPeer};
    use oma_im::transaction::Transport;

    let mut sim = Sim::new(2);
    let a = sim.add_node("a", addr("10.0.0.5:5060"), None, RawPeer::new());
    let b = sim.add_node(
        "b",
        addr("10.0.0.6:5060"),
        Some(addr("10.0.0.6:2855")),
        RawPeer::new().accepting(),
    );
    sim.cut_off(b);
    sim.custom(a)
        .send_sip(addr("10.0.0.6:5060"), Transport::Udp, b"one".to_vec());
    sim.custom(a)
        .send_sip(addr("10.0.0.6:5060"), Transport::Tcp, b"two".to_vec());
    let link = sim.custom(a).connect(addr("10.0.0.6:2855"));
    sim.run_for(Duration::from_secs(5)).unwrap();
    assert!(sim.custom_ref(b).sip_received().is_empty());
    assert!(!sim.custom_ref(a).is_open(link), "the SYN never arrived");
    assert!(sim.wire().iter().all(|r| r.fate == Fate::Lost));
    sim.reconnect(b);
    sim.custom(a)
        .send_sip(addr("10.0.0.6:5060"), Transport::Udp, b"three".to_vec());
    sim.run_for(Duration::from_secs(1)).unwrap();
    let got: Vec<&[u8]> = sim
        .custom_ref(b)
        .sip_received()
        .iter()
        .map(|m| m.bytes.as_slice())
        .collect();
    assert_eq!(got, [b"three".as_slice()]);
}
