//! RFC 4975 §5.4 and §14 from the attacker's side: a second connection
//! presenting the To-Path of a leg already bound gets 506 and nothing of
//! the session, the legitimate connection keeps the leg; a connection that
//! names no session is closed after a bounded number of bytes or time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::im::client::Event as ClientEvent;
use oma_im::im::server::{ImServer, Input, Output};
use oma_im::sim::{RawPeer, WireKind};
use oma_im::sip::parse_message;

use crate::access::im;
use crate::support::im_server::scenario::config;
use crate::support::im_server::{Group, SERVER};

const BOB: &str = "sip:bob@example.com";
/// Mallory's host (her MSRP connections come from it).
const MALLORY: &str = "10.0.0.98:5060";
/// The From-Path mallory writes.
const MALLORY_MSRP: &str = "10.0.0.98:7001";

fn received(net: &Group, index: usize, text: &[u8]) -> bool {
    net.client_events(index)
        .iter()
        .any(|e| matches!(e, ClientEvent::MessageReceived { body, .. } if body == text))
}

/// The server's MSRP URI on alice's leg: the `a=path` of its 200 to her.
fn alice_leg(net: &Group) -> String {
    let server: SocketAddr = SERVER.parse().unwrap();
    net.wire()
        .iter()
        .filter(|r| r.from == server && r.bytes.starts_with(b"SIP/2.0 200 "))
        .find_map(|r| {
            let m = parse_message(&r.bytes).ok()?;
            let from = m.from()?.ok()?.uri.to_string();
            if !from.contains("alice") || m.cseq()?.ok()?.method.as_str() != "INVITE" {
                return None;
            }
            let body = std::str::from_utf8(m.body()).ok()?;
            body.lines()
                .find_map(|l| l.strip_prefix("a=path:"))
                .map(|p| p.trim().to_owned())
        })
        .expect("the server's 200 to alice with its a=path")
}

#[test]
fn a_second_connection_for_a_bound_leg_gets_506_and_the_first_keeps_it() {
    let (alice, bob) = (2, 3);
    let mut net = crate::access::clients();
    let now = net.now();
    let session = im(&mut net, alice).start_ad_hoc(&[BOB], now).unwrap();
    crate::access::run_accepting(&mut net, 10);
    let now = net.now();
    im(&mut net, alice)
        .send_message(session, "text/plain", b"before", false, now)
        .unwrap();
    crate::access::run_accepting(&mut net, 10);
    assert!(received(&net, bob, b"before"));

    // Mallory learnt alice's leg URI and presents it on her own connection.
    let leg = alice_leg(&net);
    let attack = format!(
        "MSRP mal1 SEND\r\nTo-Path: {leg}\r\nFrom-Path: msrp://{MALLORY_MSRP}/mal;tcp\r\n\
         Message-ID: m1\r\nByte-Range: 1-5/5\r\nContent-Type: text/plain\r\n\r\n\
         hello\r\n-------mal1$\r\n"
    );
    let mallory = net
        .sim
        .add_node("mallory", MALLORY.parse().unwrap(), None, RawPeer::new());
    let server_msrp: SocketAddr = SERVER.parse().unwrap();
    let link = net.sim.custom(mallory).connect(server_msrp);
    net.sim.custom(mallory).write(link, attack.into_bytes());
    crate::access::run_accepting(&mut net, 5);

    // The legitimate connection still carries the leg, both ways.
    let now = net.now();
    let bobs = net
        .client_events(bob)
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::InvitationReceived { session, .. } => Some(session),
            _ => None,
        })
        .expect("bob's session");
    im(&mut net, bob)
        .send_message(bobs, "text/plain", b"to alice", false, now)
        .unwrap();
    im(&mut net, alice)
        .send_message(session, "text/plain", b"after", false, now)
        .unwrap();
    crate::access::run_accepting(&mut net, 10);
    assert!(received(&net, alice, b"to alice"), "alice kept her leg");
    assert!(received(&net, bob, b"after"));
    assert!(
        !received(&net, bob, b"hello"),
        "mallory's message not relayed"
    );

    let to_mallory: Vec<&[u8]> = net
        .wire()
        .iter()
        .filter(|r| r.kind == WireKind::Msrp && r.to_node == Some(mallory.into()))
        .map(|r| r.bytes.as_slice())
        .collect();
    assert_eq!(to_mallory.len(), 1, "only the refusal");
    assert_eq!(net.sim.custom_ref(mallory).received(link), to_mallory[0]);
    let refusal = String::from_utf8_lossy(to_mallory[0]);
    assert!(refusal.starts_with("MSRP mal1 506"), "{refusal}");
    assert!(refusal.contains(&format!("To-Path: msrp://{MALLORY_MSRP}/mal;tcp")));
    assert!(refusal.contains(&format!("From-Path: {leg}")));
}

fn server() -> ImServer {
    ImServer::new(config())
}

fn drain(server: &mut ImServer) -> Vec<Output> {
    std::iter::from_fn(|| server.poll_output()).collect()
}

#[test]
fn a_connection_naming_no_session_is_closed_after_the_byte_bound() {
    let mut server = server();
    let max = server.config().limits.max_unbound_msrp_bytes;
    let now = Instant::now();
    let c = server.msrp_accepted();
    // A head that never ends and never names a To-Path.
    server.handle_input(
        Input::MsrpBytes {
            connection: c,
            bytes: b"MSRP x1 SEND\r\n",
        },
        now,
    );
    let pad = [b"X-Pad: ".as_slice(), &[b'a'; 500], b"\r\n"].concat();
    let mut sent = 14;
    let mut outputs = Vec::new();
    while sent <= max {
        server.handle_input(
            Input::MsrpBytes {
                connection: c,
                bytes: &pad,
            },
            now,
        );
        sent += pad.len();
        outputs.extend(drain(&mut server));
    }
    assert_eq!(outputs, [Output::MsrpClose { connection: c }]);
    // What comes after is ignored.
    server.handle_input(
        Input::MsrpBytes {
            connection: c,
            bytes: &pad,
        },
        now,
    );
    assert!(drain(&mut server).is_empty());
}

#[test]
fn a_silent_connection_is_closed_after_the_timeout() {
    let mut server = server();
    let timeout = server.config().limits.unbound_msrp_timeout;
    let start = Instant::now();
    let c = server.msrp_accepted();
    server.handle_input(Input::MsrpConnected { connection: c }, start);
    server.handle_input(
        Input::MsrpBytes {
            connection: c,
            bytes: b"MSRP x1 SE",
        },
        start + Duration::from_secs(1),
    );
    assert!(drain(&mut server).is_empty());
    assert_eq!(server.poll_timeout(), Some(start + timeout));
    server.handle_timeout(start + timeout);
    assert_eq!(drain(&mut server), [Output::MsrpClose { connection: c }]);
    assert!(server.is_idle());
    // One that never says a word, accepted with the clock started.
    let later = start + timeout;
    let mute = server.msrp_accepted_at(later);
    server.handle_timeout(later + timeout);
    assert_eq!(drain(&mut server), [Output::MsrpClose { connection: mute }]);
    assert!(server.is_idle());
}
