//! The memory budget of the roles, from the attacker's side, measured with
//! a counting allocator (per thread: tests running side by side do not see
//! each other's allocations), never with a clock.
//!
//! * A flood of maximum-size INVITEs at an IM Server whose byte budgets
//!   are the defaults divided by [`SCALE`]: the server refuses with 503
//!   once its budgets are full, the bytes it holds are within the scaled
//!   budgets, and its own counts ([`ImServer::memory`]) are at least what
//!   the allocator measured. Byte budgets scale linearly, so the defaults
//!   hold `SCALE` times the measured bytes: the test asserts that this,
//!   with the uncounted terms of the formula, stays under 1 GiB.
//! * MSRP chunks left unfinished on several sessions fill the server's
//!   role-wide MSRP budget: the session that does not fit gets 413 and its
//!   Participant is released.
//! * A client whose peer sends more than its MSRP budget answers 413 and
//!   leaves the session.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::im::client::{ClientConfig, Event as ClientEvent};
use oma_im::im::server::{Event, ImServer, Input, LeaveReason, Limits, Output, ServerConfig};
use oma_im::sim::{Proxy, Sim};
use oma_im::transaction::Transport;
use support::im_server::client_addr;
use support::im_server::scenario::{body, config, status, Scenario};

/// Counts the live bytes of the current thread.
struct Counting;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn add(delta: i64) {
    // `try_with`: the thread-local may be gone while a thread ends.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a thread-local cell that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    usize::try_from(LIVE.with(Cell::get)).unwrap_or(0)
}

const MIB: usize = 1024 * 1024;

// ---- A flood of maximum-size INVITEs ------------------------------------

/// The server's byte budgets in the flood are the defaults divided by this.
const SCALE: usize = 32;

const FACTORY: &str = "sip:conf@im.example.com";

/// An ad-hoc session request of about `size` bytes (at most the server's
/// `layers.sip.max_message_size`) to the factory: an SDP offer padded to
/// `sdp` bytes, `invitees` URIs of about `uri` bytes each in the URI list,
/// and an unknown header field padding the rest.
fn invite(call: u32, size: usize, sdp: usize, invitees: usize, uri: usize) -> Vec<u8> {
    let pad = |n: usize| "x".repeat(n);
    let mut offer = format!(
        "v=0\r\no=a 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n\
         m=message 7000 TCP/MSRP *\r\na=accept-types:message/cpim\r\n\
         a=path:msrp://192.0.2.20:7000/a{call};tcp\r\na=setup:actpass\r\n"
    );
    let mut i = 0;
    while offer.len() + 120 < sdp {
        offer.push_str(&format!("a=x{i}:{}\r\n", pad(100)));
        i += 1;
    }
    let list: String = (0..invitees)
        .map(|k| format!("<entry uri=\"sip:{}{call}x{k}@example.com\"/>", pad(uri)))
        .collect();
    let body = format!(
        "--b\r\nContent-Type: application/sdp\r\n\r\n{offer}\r\n--b\r\n\
         Content-Type: application/resource-lists+xml\r\n\r\n\
         <resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>{list}</list>\
         </resource-lists>\r\n--b--\r\n"
    );
    let head = format!(
        "INVITE {FACTORY} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-{call}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice{call}@example.com>;tag=f{call}\r\nTo: <{FACTORY}>\r\n\
         Call-ID: flood-{call}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.20>\r\n"
    );
    let tail = format!(
        "Content-Type: multipart/mixed;boundary=b\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // Header fields of at most 8 000 bytes fill the message up to `size`.
    let mut padding = String::new();
    let mut left = size.saturating_sub(head.len() + tail.len());
    while left > 16 {
        let n = (left - 12).min(8000);
        padding.push_str(&format!("X-Pad: {}\r\n", pad(n)));
        left = left.saturating_sub(n + 9);
    }
    format!("{head}{padding}{tail}").into_bytes()
}

/// How the server ended each INVITE of a flood: admitted (no final
/// response yet) or refused with 503.
fn flood(server: &mut ImServer, invites: impl Iterator<Item = Vec<u8>>) -> (usize, usize) {
    let core: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let now = Instant::now();
    let (mut admitted, mut refused) = (0, 0);
    for bytes in invites {
        server.handle_input(
            Input::Sip {
                bytes: &bytes,
                source: core,
                transport: Transport::Udp,
            },
            now,
        );
        let mut status = None;
        while let Some(output) = server.poll_output() {
            if let Output::Transmit(t) = output {
                if t.bytes.starts_with(b"SIP/2.0 5") || t.bytes.starts_with(b"SIP/2.0 4") {
                    status = t.bytes.get(8..11).map(<[u8]>::to_vec);
                }
            }
        }
        match status.as_deref() {
            None => admitted += 1,
            Some(b"503") => refused += 1,
            Some(other) => panic!("unexpected {}", String::from_utf8_lossy(other)),
        }
    }
    (admitted, refused)
}

/// Maximum-size INVITEs (64 KiB: an SDP offer at the server's SDP size
/// limit, nine invitees with 3 900-byte URIs, padding) never answered,
/// then as many padded with one invitee, at a server whose byte budgets
/// are the defaults / 32: the first INVITEs are admitted, the rest get 503
/// once the budgets are full, and what the server holds is within the
/// scaled budgets and within its own counts. 32 times that, plus the terms
/// the counts leave out (unbound connections, authorization questions), is
/// under 1 GiB: the defaults keep a server under 1 GiB.
#[test]
fn a_flood_of_maximum_size_invites_stays_within_the_budget() {
    let defaults = Limits::default();
    let max = defaults.layers.sip.max_message_size;
    let sdp = defaults.layers.sdp.max_size;
    let budgets =
        |l: &Limits| l.ua.max_held_bytes + l.max_session_bytes + l.max_msrp_buffered_bytes;
    let uncounted = defaults.max_unbound_msrp_connections * defaults.max_unbound_msrp_bytes
        + defaults.max_pending_authorizations * max;
    assert!(budgets(&defaults) + uncounted < 1024 * MIB);

    let mut config = ServerConfig::new(
        "192.0.2.10:5060".parse().unwrap(),
        "192.0.2.1:5060".parse().unwrap(),
        "im.example.com",
    );
    config.conference_factory_uris.push(FACTORY.to_owned());
    let limits = &mut config.limits;
    limits.ua.max_held_bytes /= SCALE;
    limits.max_session_bytes /= SCALE;
    limits.max_msrp_buffered_bytes /= SCALE;
    let scaled = budgets(limits);

    let base = live();
    let mut server = ImServer::new(config);
    let wide = (0..200).map(|call| invite(call, max, sdp, 9, 3900));
    let (admitted, refused) = flood(&mut server, wide);
    let padded = (200..400).map(|call| invite(call, max, 0, 1, 0));
    let (admitted_padded, refused_padded) = flood(&mut server, padded);
    let held = live() - base;
    let memory = server.memory();
    let counted = memory.sip + memory.sessions + memory.msrp;
    println!(
        "flood: {admitted}+{admitted_padded} admitted, {refused}+{refused_padded} refused; \
         {held} bytes held, {counted} counted (sip {}, sessions {}, msrp {}), scaled budgets {scaled}",
        memory.sip, memory.sessions, memory.msrp
    );
    assert!(
        admitted > 0 && refused > 0,
        "the budget binds on wide INVITEs"
    );
    assert!(refused_padded > 0, "and on padded ones");
    assert_eq!(server.session_count(), admitted + admitted_padded);
    // Every budget holds, to within one admitted request's reservation.
    let limits = &server.config().limits;
    assert!(memory.sip <= limits.ua.max_held_bytes + 4 * max);
    assert!(memory.sessions <= limits.max_session_bytes + 4 * max);
    // The counts cover what the allocator sees.
    assert!(held <= counted, "{held} held, {counted} counted");
    assert!(held <= scaled);
    assert!(held * SCALE + uncounted < 1024 * MIB);
}

// ---- MSRP buffering across sessions ---------------------------------------

/// The a=path of an SDP body.
fn path_in(sdp: &str) -> String {
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=path:"))
        .expect("a=path")
        .trim()
        .to_owned()
}

/// Four ad-hoc sessions of Alice's, each with Bob; on each, Alice's client
/// sends the head of a SEND and 100 KiB of its chunk without ending it. The
/// server's MSRP budget is 256 KiB: the first two sessions' chunks are
/// buffered, the third and fourth do not fit — each gets 413 for its chunk
/// and Alice is released from those sessions (BYE,
/// `LeaveReason::BufferExceeded`); what the switches hold stays within
/// the budget.
#[test]
fn msrp_buffering_across_sessions_hits_the_servers_budget() {
    const BUDGET: usize = 256 * 1024;
    const SESSIONS: usize = 4;
    let mut server_config = config();
    server_config.limits.max_msrp_buffered_bytes = BUDGET;
    let mut sc = Scenario::new(server_config, &[("alice", &[]), ("bob", &[200])]);
    for _ in 0..SESSIONS {
        sc.adhoc("alice", &["sip:bob@example.com"]);
        sc.run(2);
    }
    let paths: Vec<String> = sc
        .responses_to("alice")
        .into_iter()
        .filter(|r| status(r) == 200)
        .map(|r| path_in(&body(&r)))
        .collect();
    assert_eq!(paths.len(), SESSIONS);
    let alice = format!("msrp://{}:7000/alices;tcp", client_addr("alice").ip());
    let now = sc.now();
    let base = live();
    let mut refused = Vec::new();
    let mut events = Vec::new();
    let mut byes = 0;
    for (i, to) in paths.iter().enumerate() {
        let server = sc.server();
        let connection = server.msrp_accepted();
        // The head binds the connection to Alice's leg (within the bytes a
        // stranger's connection may send); the chunk's body follows.
        let head = format!(
            "MSRP t{i} SEND\r\nTo-Path: {to}\r\nFrom-Path: {alice}\r\nMessage-ID: m{i}\r\n\
             Byte-Range: 1-*/*\r\nContent-Type: message/cpim\r\n\r\n\
             From: <sip:alice@example.com>\r\nTo: <sip:conf@im.example.com>\r\n\r\n\
             Content-Type: text/plain\r\n\r\n"
        );
        let body = vec![b'x'; 100 * 1024];
        for bytes in [head.as_bytes(), &body] {
            server.handle_input(Input::MsrpBytes { connection, bytes }, now);
        }
        let mut answered = Vec::new();
        while let Some(output) = server.poll_output() {
            match output {
                Output::MsrpTransmit {
                    connection: c,
                    bytes,
                } if c == connection => {
                    answered.push(String::from_utf8_lossy(&bytes).into_owned());
                }
                Output::Event(e) => events.push(e),
                Output::Transmit(t) => byes += usize::from(t.bytes.starts_with(b"BYE ")),
                _ => {}
            }
        }
        if answered
            .iter()
            .any(|a| a.starts_with(&format!("MSRP t{i} 413")))
        {
            refused.push(i);
        }
        assert!(server.memory().msrp <= BUDGET, "{:?}", server.memory());
    }
    let held = live() - base;
    assert_eq!(refused, [2, 3]);
    assert!(held < BUDGET + 64 * 1024, "{held} bytes held");
    let released = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::ParticipantLeft {
                    reason: LeaveReason::BufferExceeded,
                    ..
                }
            )
        })
        .count();
    // Released with BYE (and Bob with it: nobody else is left to talk to).
    assert!(byes >= 2, "{byes} BYEs");
    assert_eq!(released, 2);
}

// ---- A client's MSRP budget -------------------------------------------------

/// Alice sends Bob a 256 KiB message in a One-to-One session; Bob's client
/// may hold 64 KiB for its peers: the chunk that goes over it is answered
/// 413, Bob's client reports it and leaves the session, and Alice's
/// message fails with 413.
#[test]
fn a_client_over_its_msrp_budget_answers_413_and_leaves() {
    let core: SocketAddr = "10.0.0.1:5060".parse().unwrap();
    let config = |user: &str, ip: &str| {
        let mut c = ClientConfig::new(
            &format!("sip:{user}@example.com"),
            "sip:factory@im.example.com",
            format!("{ip}:5060").parse().unwrap(),
            core,
        );
        c.msrp_addr = format!("{ip}:2855").parse().unwrap();
        c
    };
    let mut sim = Sim::new(31);
    let alice = sim.add_client("alice", config("alice", "10.0.0.21"));
    let mut bob_config = config("bob", "10.0.0.22");
    bob_config.seed = 2.into();
    bob_config.limits.max_msrp_buffered_bytes = 64 * 1024;
    let bob = sim.add_client("bob", bob_config);
    sim.add_proxy(
        "core",
        core,
        Proxy::new()
            .with_user("sip:alice@example.com", "10.0.0.21:5060".parse().unwrap())
            .with_user("sip:bob@example.com", "10.0.0.22:5060".parse().unwrap()),
    );
    sim.auto_accept(bob, true);
    let now = sim.now();
    let session = sim
        .client(alice)
        .start_one_to_one("sip:bob@example.com", now)
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    let now = sim.now();
    let big = vec![b'x'; 256 * 1024];
    sim.client(alice)
        .send_message(session, "text/plain", &big, false, now)
        .unwrap();
    sim.run_until_idle(Duration::from_secs(120)).unwrap();
    let bob_events = sim.client_events(bob);
    assert!(bob_events
        .iter()
        .any(|e| matches!(e, ClientEvent::BufferExceeded { .. })));
    assert!(!bob_events
        .iter()
        .any(|e| matches!(e, ClientEvent::MessageReceived { .. })));
    assert!(sim.client_events(alice).iter().any(|e| matches!(
        e,
        ClientEvent::DeliveryFailed {
            cause: oma_im::msrp::session::DeliveryFailure::Response(413),
            ..
        }
    )));
    assert!(sim.wire().iter().any(|r| r.from_node == Some(bob.into())
        && r.first_line().starts_with("MSRP ")
        && r.first_line().contains(" 413 ")));
}
